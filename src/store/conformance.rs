//! The one conformance suite every [`Store`] backend must pass (matrix-rust-sdk style).
//!
//! Each test is a generic async function taking a factory of fresh, empty stores built with
//! [`test_env`]. [`store_conformance_suite!`](crate::store_conformance_suite) expands them into
//! `#[test]`s (native, with a `block_on`) or `#[wasm_bindgen_test]`s (browser):
//!
//! ```ignore
//! // native
//! nextchat_tavern::store_conformance_suite!(native, block_on, fresh_store);
//! // browser
//! nextchat_tavern::store_conformance_suite!(wasm, fresh_store);
//! ```
//! where `fresh_store()` is an `async fn` returning a new empty store.
//!
//! The assertions here are test code: they panic on failure, by design.

#![allow(missing_docs, clippy::unwrap_used)]

use std::cell::RefCell;
use std::future::Future;
use std::ops::ControlFlow;
use std::rc::Rc;

use serde_json::{json, Value};

use super::*;

/// Clock start of [`test_env`]: 2023-11-14T22:13:20Z.
pub const T0: i64 = 1_700_000_000_000;
/// Event log cap of [`test_env`].
pub const EVENT_CAP: usize = 5;

/// A deterministic environment: a clock advancing 1 ms per read, sequential ids, a small log cap.
pub fn test_env() -> StoreEnv {
    StoreEnv { clock: Rc::new(ManualClock::new(T0, 1)), ids: Rc::new(SeqIds::new("id")), event_log_cap: EVENT_CAP }
}

fn card(name: &str, tags: &[&str]) -> Value {
    json!({"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": name, "tags": tags, "description": format!("{name} desc")}})
}

fn names(p: &Page<Character>) -> Vec<String> {
    p.items.iter().map(|c| c.name.clone()).collect()
}

fn go(_: Progress) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

fn user(text: &str) -> NewMessage {
    NewMessage { name: "User".into(), is_user: true, mes: text.into(), ..Default::default() }
}

pub async fn character_crud<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    let c = s.create(Character::from_card(card("Alice", &["Fantasy"]))).await.unwrap();
    assert!(!c.id.is_empty());
    assert_eq!((c.rev, c.deleted), (1, false));
    assert_eq!(c.created_at, c.updated_at);
    assert!(c.created_at >= T0);
    let got: Character = s.get(&c.id).await.unwrap().unwrap();
    assert_eq!(got, c);
    assert_eq!(got.card["data"]["description"], "Alice desc");

    let u = s
        .update::<Character>(&c.id, &mut |ch| {
            ch.favorite = true;
            ch.tags.push("Elf".into());
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(u.rev, 2);
    assert!(u.updated_at > c.updated_at);
    assert_eq!(u.created_at, c.created_at);
    assert_eq!(u.tags, vec!["Fantasy", "Elf"]);

    // Validation lists every bad field and writes nothing.
    let e = s
        .update::<Character>(&c.id, &mut |ch| {
            ch.name = " ".into();
            ch.card = json!("nope");
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Validation);
    assert!(e.message().contains("name") && e.message().contains("card"), "{}", e.message());
    assert_eq!(s.get::<Character>(&c.id).await.unwrap().unwrap().rev, 2);

    let d = s.delete::<Character>(&c.id).await.unwrap();
    assert!(d.deleted);
    assert_eq!(d.rev, 3);
    assert!(s.get::<Character>(&c.id).await.unwrap().is_none());
    let tomb: Character = s.get_raw(&c.id).await.unwrap().unwrap();
    assert!(tomb.deleted, "a tombstone is kept for sync");
    assert_eq!(s.delete::<Character>(&c.id).await.unwrap_err().code(), ErrorCode::NotFound);
    assert_eq!(s.update::<Character>(&c.id, &mut |_| Ok(())).await.unwrap_err().code(), ErrorCode::NotFound);

    let r = s.restore::<Character>(&c.id).await.unwrap();
    assert_eq!((r.rev, r.deleted, r.name.as_str()), (4, false, "Alice"));
    assert_eq!(s.list::<Character>().await.unwrap().len(), 1);

    let mut dup = Character::from_card(card("Bob", &[]));
    dup.id = c.id.clone();
    assert_eq!(s.create(dup).await.unwrap_err().code(), ErrorCode::InvalidArgument);
    assert_eq!(s.update::<Character>("missing", &mut |_| Ok(())).await.unwrap_err().code(), ErrorCode::NotFound);
}

pub async fn other_record_kinds<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    let lb = s.create(Lorebook { name: "World".into(), data: json!({"entries": {}}), ..Default::default() }).await.unwrap();
    let g = s.create(Group { name: "Party".into(), members: vec!["a".into(), "b".into()], ..Default::default() }).await.unwrap();
    let m = s.create(Memory { text: "likes tea".into(), chat_id: Some("c".into()), ..Default::default() }).await.unwrap();
    let sc = s.create(ScenarioState { chat_id: Some("c".into()), data: json!({"hp": 3}), ..Default::default() }).await.unwrap();
    assert_eq!(s.get::<Lorebook>(&lb.id).await.unwrap().unwrap().data, json!({"entries": {}}));
    assert_eq!(s.get::<Group>(&g.id).await.unwrap().unwrap().members, vec!["a", "b"]);
    assert_eq!(s.get::<Memory>(&m.id).await.unwrap().unwrap().text, "likes tea");
    let sc2 = s
        .update::<ScenarioState>(&sc.id, &mut |x| {
            x.data["hp"] = json!(2);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!((sc2.rev, sc2.data["hp"].as_i64()), (2, Some(2)));
    s.delete::<Group>(&g.id).await.unwrap();
    assert!(s.list::<Group>().await.unwrap().is_empty());
    assert_eq!(s.list_raw::<Group>().await.unwrap().len(), 1);
    // Records of one kind are not visible as another.
    assert!(s.get::<Lorebook>(&m.id).await.unwrap().is_none());
}

pub async fn list_characters_sorted_paged_filtered<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    let specs: &[(&str, &[&str])] = &[
        ("Mira", &["fantasy", "elf"]),
        ("alice", &["scifi"]),
        ("Bob", &["Fantasy"]),
        ("Alina", &[]),
        ("zed", &["scifi", "robot"]),
        ("Carol", &["fantasy"]),
        ("Malik", &[]),
        ("dave", &["Robot"]),
    ];
    let mut ids = Vec::new();
    for (n, t) in specs {
        ids.push(s.create(Character::from_card(card(n, t))).await.unwrap().id);
    }
    let q = |f: &dyn Fn(&mut CharacterQuery)| {
        let mut q = CharacterQuery::default();
        f(&mut q);
        q
    };
    let p = s.list_characters(&q(&|_| {})).await.unwrap();
    assert_eq!(p.total, 8);
    assert_eq!(names(&p), ["alice", "Alina", "Bob", "Carol", "dave", "Malik", "Mira", "zed"]);
    let p = s.list_characters(&q(&|q| { q.offset = 3; q.limit = Some(3); })).await.unwrap();
    assert_eq!((p.total, p.offset), (8, 3));
    assert_eq!(names(&p), ["Carol", "dave", "Malik"]);
    let p = s.list_characters(&q(&|q| { q.offset = 7; q.limit = Some(3); })).await.unwrap();
    assert_eq!(names(&p), ["zed"]);
    let p = s.list_characters(&q(&|q| { q.offset = 20; })).await.unwrap();
    assert!(p.items.is_empty());
    assert_eq!(p.total, 8);
    let p = s.list_characters(&q(&|q| q.reverse = true)).await.unwrap();
    assert_eq!(names(&p)[..3], ["zed", "Mira", "Malik"]);

    // Name prefix and substring, case-insensitive.
    let p = s.list_characters(&q(&|q| { q.query = Some("AL".into()); q.match_mode = NameMatch::Prefix; })).await.unwrap();
    assert_eq!((names(&p), p.total), (vec!["alice".to_string(), "Alina".to_string()], 2));
    let p = s.list_characters(&q(&|q| q.query = Some("li".into()))).await.unwrap();
    assert_eq!(names(&p), ["alice", "Alina", "Malik"]);
    let p = s.list_characters(&q(&|q| { q.query = Some("li".into()); q.limit = Some(1); q.offset = 1; })).await.unwrap();
    assert_eq!((names(&p), p.total), (vec!["Alina".to_string()], 3));

    // Tag, case-insensitive, alone and with a name filter.
    let p = s.list_characters(&q(&|q| q.tag = Some("FANTASY".into()))).await.unwrap();
    assert_eq!((names(&p), p.total), (vec!["Bob".into(), "Carol".into(), "Mira".into()], 3));
    let p = s.list_characters(&q(&|q| { q.tag = Some("robot".into()); q.query = Some("av".into()); })).await.unwrap();
    assert_eq!(names(&p), ["dave"]);

    // Created: newest first. Recently used: by lastUsedAt, never-used last.
    let p = s.list_characters(&q(&|q| { q.sort = CharacterSort::Created; q.limit = Some(3); })).await.unwrap();
    assert_eq!(names(&p), ["dave", "Malik", "Carol"]);
    for (i, n) in [(2usize, 1), (0, 2), (5, 3)] {
        let when = T0 + 1_000_000 * n;
        s.update::<Character>(&ids[i], &mut |c| {
            c.last_used_at = Some(when);
            Ok(())
        })
        .await
        .unwrap();
    }
    let p = s.list_characters(&q(&|q| { q.sort = CharacterSort::RecentlyUsed; q.limit = Some(4); })).await.unwrap();
    assert_eq!(names(&p)[..3], ["Carol", "Mira", "Bob"]);

    // Favourites; tombstones never listed.
    s.update::<Character>(&ids[4], &mut |c| {
        c.favorite = true;
        Ok(())
    })
    .await
    .unwrap();
    let p = s.list_characters(&q(&|q| q.favorites_only = true)).await.unwrap();
    assert_eq!(names(&p), ["zed"]);
    s.delete::<Character>(&ids[1]).await.unwrap();
    let p = s.list_characters(&q(&|_| {})).await.unwrap();
    assert_eq!(p.total, 7);
    assert_eq!(names(&p)[0], "Alina");
    let p = s.list_characters(&q(&|q| { q.query = Some("al".into()); q.match_mode = NameMatch::Prefix; })).await.unwrap();
    assert_eq!((names(&p), p.total), (vec!["Alina".to_string()], 1));
    let p = s.list_characters(&q(&|q| q.tag = Some("scifi".into()))).await.unwrap();
    assert_eq!((names(&p), p.total), (vec!["zed".to_string()], 1));
}

pub async fn append_and_page_messages<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    let ch = s.create(Character::from_card(card("Alice", &[]))).await.unwrap();
    let chat = s.create_chat(Chat { character_id: Some(ch.id.clone()), title: "First".into(), ..Default::default() }).await.unwrap();
    assert_eq!((chat.message_count, chat.next_seq), (0, 0));
    assert!(chat.metadata.is_object());
    // Creating a chat marks the character as used.
    assert_eq!(s.get::<Character>(&ch.id).await.unwrap().unwrap().last_used_at, Some(chat.created_at));
    for i in 0..25 {
        let m = s.append_message(&chat.id, user(&format!("m{i}"))).await.unwrap();
        assert_eq!(m.seq, i);
        assert_eq!(m.chat_id, chat.id);
        assert!(m.send_date.is_some());
        assert_eq!(m.rev, 1);
    }
    let c: Chat = s.get(&chat.id).await.unwrap().unwrap();
    assert_eq!((c.message_count, c.next_seq), (25, 25));
    assert_eq!(c.last_message_preview.as_deref(), Some("m24"));
    assert!(c.rev > chat.rev);

    let seqs = |v: &[Message]| v.iter().map(|m| m.seq).collect::<Vec<_>>();
    let last = s.messages(&chat.id, None, 10).await.unwrap();
    assert_eq!(seqs(&last), (15..25).collect::<Vec<_>>());
    let prev = s.messages(&chat.id, Some(last[0].seq), 10).await.unwrap();
    assert_eq!(seqs(&prev), (5..15).collect::<Vec<_>>());
    let first = s.messages(&chat.id, Some(prev[0].seq), 10).await.unwrap();
    assert_eq!(seqs(&first), (0..5).collect::<Vec<_>>());
    assert!(s.messages(&chat.id, Some(0), 10).await.unwrap().is_empty());
    assert_eq!(first[0].mes, "m0");

    // Chats do not see each other's messages.
    let other = s.create_chat(Chat::default()).await.unwrap();
    assert!(s.messages(&other.id, None, 10).await.unwrap().is_empty());
    s.append_message(&other.id, user("x")).await.unwrap();
    assert_eq!(s.messages(&chat.id, None, 100).await.unwrap().len(), 25);

    // Swipes given on append: mes follows swipeId.
    let m = s
        .append_message(
            &chat.id,
            NewMessage { name: "Alice".into(), swipes: vec!["a".into(), "b".into()], swipe_id: 1, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(m.mes, "b");
    let bad = NewMessage { swipes: vec!["a".into()], swipe_id: 3, ..Default::default() };
    assert_eq!(s.append_message(&chat.id, bad).await.unwrap_err().code(), ErrorCode::Validation);

    assert_eq!(s.append_message("no-such-chat", user("x")).await.unwrap_err().code(), ErrorCode::NotFound);
    s.delete::<Chat>(&other.id).await.unwrap();
    assert_eq!(s.append_message(&other.id, user("x")).await.unwrap_err().code(), ErrorCode::NotFound);
}

pub async fn edit_and_delete_messages_and_swipes<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    let chat = s.create_chat(Chat::default()).await.unwrap();
    for t in ["hello", "hi there", "how are you"] {
        s.append_message(&chat.id, user(t)).await.unwrap();
    }
    let e = s.edit_message(&chat.id, 2, &MessageEdit { mes: Some("how are you?".into()), ..Default::default() }).await.unwrap();
    assert_eq!((e.mes.as_str(), e.rev), ("how are you?", 2));
    let c: Chat = s.get(&chat.id).await.unwrap().unwrap();
    assert_eq!(c.last_message_preview.as_deref(), Some("how are you?"));

    let e = s.edit_message(&chat.id, 1, &MessageEdit { add_swipe: Some("hey".into()), ..Default::default() }).await.unwrap();
    assert_eq!((e.swipes.clone(), e.swipe_id, e.mes.clone()), (vec!["hi there".to_string(), "hey".to_string()], 1, "hey".to_string()));
    let e = s.edit_message(&chat.id, 1, &MessageEdit { swipe_id: Some(0), ..Default::default() }).await.unwrap();
    assert_eq!(e.mes, "hi there");
    let e = s.edit_message(&chat.id, 1, &MessageEdit { delete_swipe: Some(0), ..Default::default() }).await.unwrap();
    assert_eq!((e.swipes.len(), e.mes.as_str()), (1, "hey"));
    let x = json!({"model": "m", "reasoning": "r"});
    let e = s.edit_message(&chat.id, 1, &MessageEdit { extra: Some(x.clone()), ..Default::default() }).await.unwrap();
    assert_eq!(e.extra, x);
    // Editing the middle message does not change the preview.
    let c: Chat = s.get(&chat.id).await.unwrap().unwrap();
    assert_eq!(c.last_message_preview.as_deref(), Some("how are you?"));
    let stored = s.messages(&chat.id, None, 10).await.unwrap();
    assert_eq!(stored[1].mes, "hey");
    assert_eq!(stored[1].rev, 5);

    // A failed edit writes nothing.
    let err = s.edit_message(&chat.id, 1, &MessageEdit { mes: Some("zzz".into()), swipe_id: Some(9), ..Default::default() }).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert_eq!(s.messages(&chat.id, None, 10).await.unwrap()[1].mes, "hey");

    // Delete the last message: count and preview follow, paging skips it, seq is never reused.
    s.delete_message(&chat.id, 2).await.unwrap();
    let c: Chat = s.get(&chat.id).await.unwrap().unwrap();
    assert_eq!((c.message_count, c.last_message_preview.as_deref()), (2, Some("hey")));
    let live = s.messages(&chat.id, None, 10).await.unwrap();
    assert_eq!(live.iter().map(|m| m.seq).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(s.delete_message(&chat.id, 2).await.unwrap_err().code(), ErrorCode::NotFound);
    assert_eq!(s.edit_message(&chat.id, 2, &MessageEdit::default()).await.unwrap_err().code(), ErrorCode::NotFound);
    assert_eq!(s.edit_message(&chat.id, 99, &MessageEdit::default()).await.unwrap_err().code(), ErrorCode::NotFound);
    let m = s.append_message(&chat.id, user("again")).await.unwrap();
    assert_eq!(m.seq, 3);
    let all = s.all_messages(&chat.id).await.unwrap();
    assert_eq!(all.len(), 4);
    assert!(all[2].deleted, "deleted messages stay as tombstones");
    // Paging backwards across a tombstone still fills the page.
    let page = s.messages(&chat.id, None, 2).await.unwrap();
    assert_eq!(page.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 3]);
    s.delete_message(&chat.id, 0).await.unwrap();
    s.delete_message(&chat.id, 1).await.unwrap();
    s.delete_message(&chat.id, 3).await.unwrap();
    let c: Chat = s.get(&chat.id).await.unwrap().unwrap();
    assert_eq!((c.message_count, c.last_message_preview.clone()), (0, None));
}

pub async fn bulk_import_is_atomic_with_progress<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    let seen = RefCell::new(Vec::new());
    let chars: Vec<Character> = (0..20).map(|i| Character::from_card(card(&format!("C{i:02}"), &["imported"]))).collect();
    let out = s
        .import_characters(chars, &mut |p| {
            seen.borrow_mut().push(p);
            ControlFlow::Continue(())
        })
        .await
        .unwrap();
    assert_eq!(out.len(), 20);
    let seen = seen.into_inner();
    assert_eq!(seen.len(), 20);
    assert_eq!(seen.last().copied(), Some(Progress { done: 20, total: 20 }));
    assert!(seen.windows(2).all(|w| w[0].done < w[1].done));
    let p = s.list_characters(&CharacterQuery { tag: Some("imported".into()), ..Default::default() }).await.unwrap();
    assert_eq!(p.total, 20);
    assert!(out.iter().all(|c| c.rev == 1 && !c.id.is_empty()));

    // Cancelled half-way: nothing of that batch is kept.
    let more: Vec<Character> = (0..10).map(|i| Character::from_card(card(&format!("D{i}"), &[]))).collect();
    let err = s
        .import_characters(more, &mut |p| if p.done == 5 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) })
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Aborted);
    assert_eq!(s.list_characters(&CharacterQuery::default()).await.unwrap().total, 20);

    // One invalid card: the error names it, nothing is written.
    let mut bad: Vec<Character> = (0..3).map(|i| Character::from_card(card(&format!("E{i}"), &[]))).collect();
    bad[1].name.clear();
    let err = s.import_characters(bad, &mut go).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation);
    assert!(err.message().contains("[1]"), "{}", err.message());
    assert_eq!(s.list_characters(&CharacterQuery::default()).await.unwrap().total, 20);
}

pub async fn cards_and_avatars_are_imported_together<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    let avatar = |owner: &str, id: &str| Asset {
        id: id.into(),
        mime: "image/png".into(),
        role: "avatar".into(),
        owner_id: Some(owner.into()),
        ..Default::default()
    };
    let mut a = Character::from_card(card("WithAvatar", &[]));
    a.id = "ca".into();
    a.avatar_asset_id = Some("av-a".into());
    let b = Character::from_card(card("Plain", &[]));
    let out = s
        .import_characters_with_assets(vec![a, b], vec![(avatar("ca", "av-a"), vec![1, 2, 3])], &mut go)
        .await
        .unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(s.asset_bytes("av-a").await.unwrap(), Some(vec![1, 2, 3]));
    let meta: Asset = s.get("av-a").await.unwrap().unwrap();
    assert_eq!((meta.size, meta.rev, meta.owner_id.as_deref()), (3, 1, Some("ca")));

    // Cancelled after the first card: neither the cards nor the avatar are kept.
    let mut c = Character::from_card(card("Cancelled", &[]));
    c.id = "cc".into();
    c.avatar_asset_id = Some("av-c".into());
    let d = Character::from_card(card("Cancelled too", &[]));
    let err = s
        .import_characters_with_assets(vec![c, d], vec![(avatar("cc", "av-c"), vec![9])], &mut |p| {
            if p.done == 1 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Aborted);
    assert!(s.get_raw::<Character>("cc").await.unwrap().is_none());
    assert!(s.get_raw::<Asset>("av-c").await.unwrap().is_none(), "no image without its card");
    assert_eq!(s.asset_bytes("av-c").await.unwrap(), None);

    // An id collision (here: the avatar's) fails the whole import: no card without its image.
    let mut e = Character::from_card(card("Collides", &[]));
    e.id = "ce".into();
    e.avatar_asset_id = Some("av-a".into());
    let err = s
        .import_characters_with_assets(vec![e], vec![(avatar("ce", "av-a"), vec![7])], &mut go)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument, "{}", err.message());
    assert!(s.get_raw::<Character>("ce").await.unwrap().is_none(), "no card without its image");
    assert_eq!(s.asset_bytes("av-a").await.unwrap(), Some(vec![1, 2, 3]), "the existing avatar is untouched");
    assert_eq!(s.list_characters(&CharacterQuery::default()).await.unwrap().total, 2);
}

pub async fn deleting_a_chat_tombstones_its_messages<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    let chat = s.create_chat(Chat::default()).await.unwrap();
    let other = s.create_chat(Chat::default()).await.unwrap();
    for i in 0..5 {
        s.append_message(&chat.id, user(&format!("m{i}"))).await.unwrap();
    }
    s.append_message(&other.id, user("stays")).await.unwrap();
    s.delete_message(&chat.id, 1).await.unwrap();
    let before = s.all_messages(&chat.id).await.unwrap();
    let gone = s.delete_chat(&chat.id).await.unwrap();
    assert!(gone.deleted);
    assert!(s.get::<Chat>(&chat.id).await.unwrap().is_none());
    let all = s.all_messages(&chat.id).await.unwrap();
    assert_eq!(all.len(), 5, "tombstones are kept for sync");
    assert!(all.iter().all(|m| m.deleted));
    // Every message that was live got a new revision; the one already deleted kept its own.
    for (b, a) in before.iter().zip(&all) {
        assert_eq!(a.rev, if b.deleted { b.rev } else { b.rev + 1 }, "seq {}", a.seq);
    }
    assert!(s.messages(&chat.id, None, 10).await.unwrap().is_empty());
    assert_eq!(s.append_message(&chat.id, user("x")).await.unwrap_err().code(), ErrorCode::NotFound);
    assert_eq!(s.delete_chat(&chat.id).await.unwrap_err().code(), ErrorCode::NotFound);
    assert_eq!(s.messages(&other.id, None, 10).await.unwrap()[0].mes, "stays", "other chats are untouched");
    // A backup carries the tombstones, so a restore elsewhere does not resurrect the chat.
    let mut text = String::new();
    s.export_backup(false, &mut |l| {
        text.push_str(&l);
        Ok(())
    })
    .await
    .unwrap();
    let t = make().await;
    t.import_backup(&text, &mut go).await.unwrap();
    assert!(t.get::<Chat>(&chat.id).await.unwrap().is_none());
    assert!(t.messages(&chat.id, None, 10).await.unwrap().is_empty());
}

pub async fn append_never_overwrites_a_stored_message<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    let chat = s.create_chat(Chat::default()).await.unwrap();
    s.append_message(&chat.id, user("zero")).await.unwrap();
    // A message already sits where the next append would go (e.g. merged in from elsewhere
    // while the chat's counter lagged): the append must fail as a whole, not overwrite it.
    let mut squatter = Message::from_new(&chat.id, 1, user("already here")).unwrap();
    squatter.id = "sq".into();
    squatter.rev = 1;
    s.import_items(vec![BackupItem::Record { store: schema::stores::MESSAGES.into(), record: to_value(&squatter).unwrap() }], &mut go)
        .await
        .unwrap();
    let e = s.append_message(&chat.id, user("one")).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Storage, "{}", e.message());
    let c: Chat = s.get(&chat.id).await.unwrap().unwrap();
    assert_eq!((c.message_count, c.next_seq), (1, 1), "the failed append left the counters alone");
    assert_eq!(s.messages(&chat.id, None, 10).await.unwrap().iter().map(|m| m.mes.as_str()).collect::<Vec<_>>(), ["zero", "already here"]);
}

pub async fn settings_round_trip<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    assert!(s.get_setting("ui").await.unwrap().is_none());
    let a = s.put_setting("ui", json!({"theme": "dark"})).await.unwrap();
    assert_eq!(a.rev, 1);
    let b = s.put_setting("ui", json!({"theme": "light"})).await.unwrap();
    assert_eq!(b.rev, 2);
    assert!(b.updated_at >= a.updated_at);
    assert_eq!(s.get_setting("ui").await.unwrap().unwrap().value["theme"], "light");
    s.put_setting("app", json!(1)).await.unwrap();
    let keys: Vec<String> = s.list_settings().await.unwrap().into_iter().map(|e| e.key).collect();
    assert_eq!(keys, ["app", "ui"]);
}

pub async fn assets_keep_metadata_apart_from_bytes<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let a = s
        .put_asset(Asset { mime: "image/png".into(), role: "avatar".into(), owner_id: Some("c1".into()), ..Default::default() }, bytes.clone())
        .await
        .unwrap();
    assert_eq!((a.size, a.rev), (3000, 1));
    let meta: Asset = s.get(&a.id).await.unwrap().unwrap();
    assert_eq!(meta.mime, "image/png");
    let v = to_value(&meta).unwrap();
    assert!(v.to_string().len() < 500, "metadata must not carry the bytes");
    assert_eq!(s.asset_bytes(&a.id).await.unwrap().unwrap(), bytes);
    assert!(s.asset_bytes("missing").await.unwrap().is_none());
    let thumb = s
        .put_asset(Asset { mime: "image/png".into(), role: "thumbnail".into(), thumbnail_of: Some(a.id.clone()), ..Default::default() }, vec![1, 2, 3])
        .await
        .unwrap();
    assert_eq!(s.list::<Asset>().await.unwrap().len(), 2);
    assert_eq!(s.get::<Asset>(&thumb.id).await.unwrap().unwrap().thumbnail_of.as_deref(), Some(a.id.as_str()));
}

pub async fn event_log_is_append_only_and_capped<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    for i in 0..8 {
        let e = s.log_event("test.tick", json!({"i": i})).await.unwrap();
        assert_eq!(e.seq, i + 1);
    }
    let all = s.events(None, 100).await.unwrap();
    assert_eq!(all.len(), EVENT_CAP);
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 5, 6, 7, 8]);
    assert_eq!(all[0].data["i"], 3);
    let tail = s.events(Some(6), 100).await.unwrap();
    assert_eq!(tail.iter().map(|e| e.seq).collect::<Vec<_>>(), [7, 8]);
    assert_eq!(s.events(None, 2).await.unwrap().len(), 2);
}

async fn populate<S: Store>(s: &S) -> (Character, Chat) {
    let ch = s.create(Character::from_card(card("Alice", &["x"]))).await.unwrap();
    let av = s.put_asset(Asset { mime: "image/png".into(), role: "avatar".into(), ..Default::default() }, vec![137, 80, 78, 71]).await.unwrap();
    let ch = s
        .update::<Character>(&ch.id, &mut |c| {
            c.avatar_asset_id = Some(av.id.clone());
            Ok(())
        })
        .await
        .unwrap();
    let chat = s.create_chat(Chat { character_id: Some(ch.id.clone()), title: "T".into(), ..Default::default() }).await.unwrap();
    s.append_message(&chat.id, user("one")).await.unwrap();
    s.append_message(&chat.id, NewMessage { name: "Alice".into(), mes: "two".into(), ..Default::default() }).await.unwrap();
    s.delete_message(&chat.id, 0).await.unwrap();
    s.create(Lorebook { name: "LB".into(), ..Default::default() }).await.unwrap();
    s.put_setting("ui", json!({"theme": "dark"})).await.unwrap();
    s.put_setting("secrets", json!({"openai": "sk-123"})).await.unwrap();
    let chat = s.get::<Chat>(&chat.id).await.unwrap().unwrap();
    let ch = s.get::<Character>(&ch.id).await.unwrap().unwrap();
    (ch, chat)
}

async fn backup_text<S: Store>(s: &S, secrets: bool) -> String {
    let mut text = String::new();
    s.export_backup(secrets, &mut |line| {
        text.push_str(&line);
        Ok(())
    })
    .await
    .unwrap();
    text
}

pub async fn backup_export_and_import<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let a = make().await;
    let (ch, chat) = populate(&a).await;
    let text = backup_text(&a, false).await;
    assert!(!text.contains("sk-123"), "secrets are left out unless asked for");
    assert!(text.lines().next().unwrap().contains("\"schemaVersion\""));

    let b = make().await;
    let rep = b.import_backup(&text, &mut go).await.unwrap();
    assert!(rep.written > 5 && rep.skipped == 0, "{rep:?}");
    assert_eq!(b.get::<Character>(&ch.id).await.unwrap().unwrap(), ch);
    assert_eq!(b.get::<Chat>(&chat.id).await.unwrap().unwrap(), chat);
    let msgs = b.messages(&chat.id, None, 10).await.unwrap();
    assert_eq!(msgs.iter().map(|m| m.mes.as_str()).collect::<Vec<_>>(), ["two"]);
    assert_eq!(b.all_messages(&chat.id).await.unwrap().len(), 2, "tombstones travel too");
    let av = ch.avatar_asset_id.clone().unwrap();
    assert_eq!(b.asset_bytes(&av).await.unwrap().unwrap(), vec![137, 80, 78, 71]);
    assert!(b.get_setting("secrets").await.unwrap().is_none());
    assert_eq!(b.get_setting("ui").await.unwrap().unwrap().value["theme"], "dark");
    assert_eq!(b.list_characters(&CharacterQuery { query: Some("ali".into()), ..Default::default() }).await.unwrap().total, 1);
    // The imported chat keeps counting where it was.
    assert_eq!(b.append_message(&chat.id, user("three")).await.unwrap().seq, 2);

    // Importing the same backup again changes nothing (last writer wins, equal is skipped).
    let rep = a.import_backup(&text, &mut go).await.unwrap();
    assert_eq!(rep.written, 0, "{rep:?}");

    // With secrets when asked.
    let with = backup_text(&a, true).await;
    assert!(with.contains("sk-123"));
    let c = make().await;
    c.import_backup(&with, &mut go).await.unwrap();
    assert_eq!(c.get_setting("secrets").await.unwrap().unwrap().value["openai"], "sk-123");

    // A truncated backup is rejected before anything is written; a cancelled import keeps nothing.
    let d = make().await;
    let cut: String = text.lines().take(4).map(|l| format!("{l}\n")).collect();
    assert_eq!(d.import_backup(&cut, &mut go).await.unwrap_err().code(), ErrorCode::Truncated);
    let err = d.import_backup(&text, &mut |p| if p.done > 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Aborted);
    assert!(d.list_raw::<Character>().await.unwrap().is_empty());
    assert!(d.list_settings().await.unwrap().is_empty());
}

pub async fn chat_export_as_sillytavern_jsonl<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    let ch = s.create(Character::from_card(card("Alice", &[]))).await.unwrap();
    let chat = s
        .create_chat(Chat { character_id: Some(ch.id.clone()), metadata: json!({"integrity": "u-1", "note_prompt": "n"}), ..Default::default() })
        .await
        .unwrap();
    let mut fields = serde_json::Map::new();
    fields.insert("original_avatar".into(), json!("alice.png"));
    fields.insert("gen_started".into(), json!("2026-11-27T05:19:59.000Z"));
    s.append_message(&chat.id, NewMessage { name: "Alice".into(), mes: "Hello!".into(), send_date: Some(1_795_756_800_000), fields, extra: Some(json!({"gen_id": 7})), ..Default::default() }).await.unwrap();
    s.append_message(&chat.id, user("deleted")).await.unwrap();
    s.delete_message(&chat.id, 1).await.unwrap();
    s.append_message(&chat.id, user("Hi")).await.unwrap();
    s.edit_message(&chat.id, 2, &MessageEdit { add_swipe: Some("Hi!".into()), ..Default::default() }).await.unwrap();

    let text = s.export_chat_jsonl(&chat.id, "You").await.unwrap();
    assert!(!text.ends_with('\n'));
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "header + 2 live messages");
    assert_eq!(lines[0]["character_name"], "Alice");
    assert_eq!(lines[0]["user_name"], "You");
    assert_eq!(lines[0]["chat_metadata"]["integrity"], "u-1");
    assert_eq!(lines[1]["name"], "Alice");
    assert_eq!(lines[1]["is_user"], false);
    assert_eq!(lines[1]["is_system"], false);
    assert_eq!(lines[1]["mes"], "Hello!");
    assert_eq!(lines[1]["send_date"], "2026-11-27T05:20:00.000Z");
    assert_eq!(lines[1]["original_avatar"], "alice.png");
    assert_eq!(lines[1]["gen_started"], "2026-11-27T05:19:59.000Z");
    assert_eq!(lines[1]["extra"]["gen_id"], 7);
    assert!(lines[1].get("swipes").is_none());
    assert_eq!(lines[2]["swipes"], json!(["Hi", "Hi!"]));
    assert_eq!(lines[2]["swipe_id"], 1);
    assert_eq!(lines[2]["mes"], "Hi!");
    assert_eq!(lines[2]["swipe_info"].as_array().map(Vec::len), Some(2));
    // It reads back.
    let (header, msgs) = jsonl::parse_chat_jsonl(&text);
    assert_eq!(header["chat_metadata"]["note_prompt"], "n");
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].send_date, Some(1_795_756_800_000));
    assert_eq!(msgs[0].fields["original_avatar"], "alice.png");
    assert_eq!(s.export_chat_jsonl("missing", "You").await.unwrap_err().code(), ErrorCode::NotFound);
}

pub async fn changes_are_announced<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    let seen: Rc<RefCell<Vec<Change>>> = Rc::default();
    let sink = seen.clone();
    let h = s.subscribe(Rc::new(move |c: &Change| sink.borrow_mut().push(c.clone())));
    let c = s.create(Character::from_card(card("A", &[]))).await.unwrap();
    s.delete::<Character>(&c.id).await.unwrap();
    let chat = s.create_chat(Chat::default()).await.unwrap();
    s.append_message(&chat.id, user("x")).await.unwrap();
    s.put_setting("k", json!(1)).await.unwrap();
    {
        let seen = seen.borrow();
        let kinds: Vec<(String, String)> = seen.iter().map(|c| (c.store.clone(), c.op.clone())).collect();
        assert!(kinds.contains(&("characters".into(), "put".into())), "{kinds:?}");
        assert!(kinds.contains(&("characters".into(), "delete".into())), "{kinds:?}");
        assert!(kinds.contains(&("messages".into(), "put".into())), "{kinds:?}");
        assert!(kinds.contains(&("settings".into(), "put".into())), "{kinds:?}");
        assert!(seen.iter().all(|c| !c.remote));
        assert!(seen.iter().any(|c| c.ids.contains(&chat.id)));
    }
    s.unsubscribe(h);
    let n = seen.borrow().len();
    s.put_setting("k", json!(2)).await.unwrap();
    assert_eq!(seen.borrow().len(), n);
}

/// Expands the conformance suite into tests. See the module docs.
#[macro_export]
macro_rules! store_conformance_suite {
    (native, $block_on:ident, $make:ident) => {
        $crate::store_conformance_suite!(@each native $block_on, $make, [
            character_crud, other_record_kinds, list_characters_sorted_paged_filtered,
            append_and_page_messages, edit_and_delete_messages_and_swipes, bulk_import_is_atomic_with_progress,
            settings_round_trip, assets_keep_metadata_apart_from_bytes, event_log_is_append_only_and_capped,
            backup_export_and_import, chat_export_as_sillytavern_jsonl, changes_are_announced,
            cards_and_avatars_are_imported_together, deleting_a_chat_tombstones_its_messages,
            append_never_overwrites_a_stored_message,
        ]);
    };
    (wasm, $make:ident) => {
        $crate::store_conformance_suite!(@each wasm $make, [
            character_crud, other_record_kinds, list_characters_sorted_paged_filtered,
            append_and_page_messages, edit_and_delete_messages_and_swipes, bulk_import_is_atomic_with_progress,
            settings_round_trip, assets_keep_metadata_apart_from_bytes, event_log_is_append_only_and_capped,
            backup_export_and_import, chat_export_as_sillytavern_jsonl, changes_are_announced,
            cards_and_avatars_are_imported_together, deleting_a_chat_tombstones_its_messages,
            append_never_overwrites_a_stored_message,
        ]);
    };
    (@each native $block_on:ident, $make:ident, [$($name:ident),* $(,)?]) => {
        mod conformance {
            $(
                #[test]
                fn $name() {
                    super::$block_on($crate::store::conformance::$name(super::$make));
                }
            )*
        }
    };
    (@each wasm $make:ident, [$($name:ident),* $(,)?]) => {
        mod conformance {
            $(
                #[::wasm_bindgen_test::wasm_bindgen_test]
                async fn $name() {
                    $crate::store::conformance::$name(super::$make).await;
                }
            )*
        }
    };
}
