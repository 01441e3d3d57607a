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

/// Polls a future to completion with a no-op waker, for futures that never wait on I/O (the
/// memory store, scripted transports): native tests, proptests and fuzz targets.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

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
            ch.card = json!("nope").into();
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
    let lb =
        s.create(Lorebook { name: "World".into(), data: json!({"entries": {}}), ..Default::default() }).await.unwrap();
    let g = s
        .create(Group { name: "Party".into(), members: vec!["a".into(), "b".into()], ..Default::default() })
        .await
        .unwrap();
    let m =
        s.create(Memory { text: "likes tea".into(), chat_id: Some("c".into()), ..Default::default() }).await.unwrap();
    let sc = s
        .create(ScenarioState { chat_id: Some("c".into()), data: json!({"hp": 3}), ..Default::default() })
        .await
        .unwrap();
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
    let p = s
        .list_characters(&q(&|q| {
            q.offset = 3;
            q.limit = Some(3);
        }))
        .await
        .unwrap();
    assert_eq!((p.total, p.offset), (8, 3));
    assert_eq!(names(&p), ["Carol", "dave", "Malik"]);
    let p = s
        .list_characters(&q(&|q| {
            q.offset = 7;
            q.limit = Some(3);
        }))
        .await
        .unwrap();
    assert_eq!(names(&p), ["zed"]);
    let p = s
        .list_characters(&q(&|q| {
            q.offset = 20;
        }))
        .await
        .unwrap();
    assert!(p.items.is_empty());
    assert_eq!(p.total, 8);
    let p = s.list_characters(&q(&|q| q.reverse = true)).await.unwrap();
    assert_eq!(names(&p)[..3], ["zed", "Mira", "Malik"]);

    // Name prefix and substring, case-insensitive.
    let p = s
        .list_characters(&q(&|q| {
            q.query = Some("AL".into());
            q.match_mode = NameMatch::Prefix;
        }))
        .await
        .unwrap();
    assert_eq!((names(&p), p.total), (vec!["alice".to_string(), "Alina".to_string()], 2));
    let p = s.list_characters(&q(&|q| q.query = Some("li".into()))).await.unwrap();
    assert_eq!(names(&p), ["alice", "Alina", "Malik"]);
    let p = s
        .list_characters(&q(&|q| {
            q.query = Some("li".into());
            q.limit = Some(1);
            q.offset = 1;
        }))
        .await
        .unwrap();
    assert_eq!((names(&p), p.total), (vec!["Alina".to_string()], 3));

    // Tag, case-insensitive, alone and with a name filter.
    let p = s.list_characters(&q(&|q| q.tag = Some("FANTASY".into()))).await.unwrap();
    assert_eq!((names(&p), p.total), (vec!["Bob".into(), "Carol".into(), "Mira".into()], 3));
    let p = s
        .list_characters(&q(&|q| {
            q.tag = Some("robot".into());
            q.query = Some("av".into());
        }))
        .await
        .unwrap();
    assert_eq!(names(&p), ["dave"]);

    // Created: newest first. Recently used: by lastUsedAt, never-used last.
    let p = s
        .list_characters(&q(&|q| {
            q.sort = CharacterSort::Created;
            q.limit = Some(3);
        }))
        .await
        .unwrap();
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
    let p = s
        .list_characters(&q(&|q| {
            q.sort = CharacterSort::RecentlyUsed;
            q.limit = Some(4);
        }))
        .await
        .unwrap();
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
    let p = s
        .list_characters(&q(&|q| {
            q.query = Some("al".into());
            q.match_mode = NameMatch::Prefix;
        }))
        .await
        .unwrap();
    assert_eq!((names(&p), p.total), (vec!["Alina".to_string()], 1));
    let p = s.list_characters(&q(&|q| q.tag = Some("scifi".into()))).await.unwrap();
    assert_eq!((names(&p), p.total), (vec!["zed".to_string()], 1));
}

pub async fn append_and_page_messages<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    let ch = s.create(Character::from_card(card("Alice", &[]))).await.unwrap();
    let chat = s
        .create_chat(Chat { character_id: Some(ch.id.clone()), title: "First".into(), ..Default::default() })
        .await
        .unwrap();
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
            NewMessage {
                name: "Alice".into(),
                swipes: vec!["a".into(), "b".into()],
                swipe_id: 1,
                ..Default::default()
            },
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
    let e = s
        .edit_message(&chat.id, 2, &MessageEdit { mes: Some("how are you?".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!((e.mes.as_str(), e.rev), ("how are you?", 2));
    let c: Chat = s.get(&chat.id).await.unwrap().unwrap();
    assert_eq!(c.last_message_preview.as_deref(), Some("how are you?"));

    let e = s
        .edit_message(&chat.id, 1, &MessageEdit { add_swipe: Some("hey".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(
        (e.swipes.clone(), e.swipe_id, e.mes.clone()),
        (vec!["hi there".to_string(), "hey".to_string()], 1, "hey".to_string())
    );
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
    let err = s
        .edit_message(&chat.id, 1, &MessageEdit { mes: Some("zzz".into()), swipe_id: Some(9), ..Default::default() })
        .await
        .unwrap_err();
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
    let chars: Vec<Character> =
        (0..20).map(|i| Character::from_card(card(&format!("C{i:02}"), &["imported"]))).collect();
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
            if p.done == 1 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
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
    let err =
        s.import_characters_with_assets(vec![e], vec![(avatar("ce", "av-a"), vec![7])], &mut go).await.unwrap_err();
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
    s.import_items(
        vec![BackupItem::Record { store: schema::stores::MESSAGES.into(), record: to_value(&squatter).unwrap() }],
        &mut ImportSession::default(),
        &mut go,
    )
    .await
    .unwrap();
    let e = s.append_message(&chat.id, user("one")).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Storage, "{}", e.message());
    let c: Chat = s.get(&chat.id).await.unwrap().unwrap();
    assert_eq!((c.message_count, c.next_seq), (1, 1), "the failed append left the counters alone");
    assert_eq!(
        s.messages(&chat.id, None, 10).await.unwrap().iter().map(|m| m.mes.as_str()).collect::<Vec<_>>(),
        ["zero", "already here"]
    );
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
        .put_asset(
            Asset {
                mime: "image/png".into(),
                role: "avatar".into(),
                owner_id: Some("c1".into()),
                ..Default::default()
            },
            bytes.clone(),
        )
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
        .put_asset(
            Asset {
                mime: "image/png".into(),
                role: "thumbnail".into(),
                thumbnail_of: Some(a.id.clone()),
                ..Default::default()
            },
            vec![1, 2, 3],
        )
        .await
        .unwrap();
    assert_eq!(s.list::<Asset>().await.unwrap().len(), 2);
    assert_eq!(s.get::<Asset>(&thumb.id).await.unwrap().unwrap().thumbnail_of.as_deref(), Some(a.id.as_str()));
    // A taken id is refused the same way by every backend, and nothing changes.
    let e = s
        .put_asset(Asset { id: a.id.clone(), mime: "image/png".into(), ..Default::default() }, vec![9])
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "{}", e.message());
    assert_eq!(s.asset_bytes(&a.id).await.unwrap().unwrap(), bytes);
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
    let av = s
        .put_asset(
            Asset { mime: "image/png".into(), role: "avatar".into(), ..Default::default() },
            vec![137, 80, 78, 71],
        )
        .await
        .unwrap();
    let ch = s
        .update::<Character>(&ch.id, &mut |c| {
            c.avatar_asset_id = Some(av.id.clone());
            Ok(())
        })
        .await
        .unwrap();
    let chat = s
        .create_chat(Chat { character_id: Some(ch.id.clone()), title: "T".into(), ..Default::default() })
        .await
        .unwrap();
    s.append_message(&chat.id, user("one")).await.unwrap();
    s.append_message(&chat.id, NewMessage { name: "Alice".into(), mes: "two".into(), ..Default::default() })
        .await
        .unwrap();
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
    assert_eq!(
        b.list_characters(&CharacterQuery { query: Some("ali".into()), ..Default::default() }).await.unwrap().total,
        1
    );
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
    let err = d
        .import_backup(&text, &mut |p| if p.done > 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) })
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Aborted);
    assert!(d.list_raw::<Character>().await.unwrap().is_empty());
    assert!(d.list_settings().await.unwrap().is_empty());
}

/// The backup minus its header (which carries the export time).
fn body_of(text: &str) -> Vec<&str> {
    text.lines().skip(1).collect()
}

async fn stream_into<S: Store>(
    s: &S,
    bytes: &[u8],
    chunk: usize,
    opts: backup::StreamOptions,
    seen: &mut Vec<backup::StreamProgress>,
) -> Result<ImportReport> {
    let mut src =
        if opts.check_first { backup::SliceSource::new(bytes, chunk) } else { backup::SliceSource::once(bytes, chunk) };
    s.import_backup_from(&mut src, &opts, &mut |p| {
        seen.push(p);
        ControlFlow::Continue(())
    })
    .await
}

async fn populate_more<S: Store>(s: &S) {
    populate(s).await;
    for i in 0..6 {
        let c = s.create(Character::from_card(card(&format!("Ünïcødé {i} 🦊"), &["many"]))).await.unwrap();
        let chat = s.create_chat(Chat { character_id: Some(c.id.clone()), ..Default::default() }).await.unwrap();
        s.append_message(&chat.id, user(&format!("héllo {i} — ✓"))).await.unwrap();
        s.put_asset(
            Asset { mime: "image/png".into(), role: "avatar".into(), owner_id: Some(c.id), ..Default::default() },
            vec![i as u8; 300 + i],
        )
        .await
        .unwrap();
    }
}

pub async fn streamed_backup_import_matches_the_whole_text<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let a = make().await;
    populate_more(&a).await;
    let text = backup_text(&a, true).await;
    let whole = make().await;
    let expected = whole.import_backup(&text, &mut go).await.unwrap();
    let reference = backup_text(&whole, true).await;
    let items = text.lines().count() - 2;
    // Chunks that split lines and multi-byte characters, batches of every size, with and
    // without the checking pass.
    for (chunk, batch, check_first) in [(1, 1, true), (7, 3, false), (64, 5, true), (1 << 20, 1000, false)] {
        let b = make().await;
        let opts = backup::StreamOptions { batch_items: batch, check_first, ..Default::default() };
        let mut seen = Vec::new();
        let rep = stream_into(&b, text.as_bytes(), chunk, opts, &mut seen).await.unwrap();
        assert_eq!(rep, expected, "chunk {chunk}, batch {batch}");
        assert_eq!(body_of(&backup_text(&b, true).await), body_of(&reference), "chunk {chunk}, batch {batch}");
        let imports: Vec<_> = seen.iter().filter(|p| p.phase == backup::Phase::Import).collect();
        assert_eq!(imports.len(), items, "one progress call per item");
        assert!(imports.windows(2).all(|w| w[0].done < w[1].done));
        assert_eq!(imports.last().unwrap().done, items);
        if check_first {
            let checks: Vec<_> = seen.iter().filter(|p| p.phase == backup::Phase::Check).collect();
            assert_eq!(checks.last().unwrap().bytes_read, text.len() as u64);
            assert_eq!(imports[0].total, Some(items), "the check pass counts the items");
        } else {
            assert!(seen.iter().all(|p| p.phase == backup::Phase::Import && p.total.is_none()));
        }
        assert!(seen.iter().all(|p| p.total_bytes == Some(text.len() as u64)));
    }
    // A batch bound in bytes works too, and importing again skips everything.
    let b = make().await;
    let opts = backup::StreamOptions { batch_items: 10_000, batch_bytes: 256, ..Default::default() };
    stream_into(&b, text.as_bytes(), 100, opts, &mut Vec::new()).await.unwrap();
    let again = stream_into(&b, text.as_bytes(), 100, opts, &mut Vec::new()).await.unwrap();
    assert_eq!(again.written, 0, "{again:?}");
}

pub async fn streamed_backup_import_fails_precisely<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let a = make().await;
    populate_more(&a).await;
    let text = backup_text(&a, false).await;
    let lines: Vec<&str> = text.lines().collect();
    let n = lines.len();

    // A newer schema is refused on its first line, before anything is written, in either mode.
    let newer = text.replacen(
        &format!("\"schemaVersion\":{SCHEMA_VERSION}"),
        &format!("\"schemaVersion\":{}", SCHEMA_VERSION + 1),
        1,
    );
    for check_first in [true, false] {
        let b = make().await;
        let opts = backup::StreamOptions { batch_items: 1, check_first, ..Default::default() };
        let e = stream_into(&b, newer.as_bytes(), 16, opts, &mut Vec::new()).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::UnsupportedFormat, "{}", e.message());
        assert!(e.message().contains("newer") && e.message().contains("nothing was written"), "{}", e.message());
        assert!(b.list_raw::<Character>().await.unwrap().is_empty());
    }

    // A malformed item at line 12: checked first, nothing is written.
    let mut broken: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    broken[11] = "{\"t\":\"record\",\"store\":\"chats\",\"record\":{\"id\":".into();
    let broken = broken.join("\n") + "\n";
    let b = make().await;
    let opts = backup::StreamOptions { batch_items: 2, ..Default::default() };
    let e = stream_into(&b, broken.as_bytes(), 5, opts, &mut Vec::new()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::BadJson);
    assert!(
        e.message().starts_with("backup line 12:") && e.message().ends_with("nothing was written"),
        "{}",
        e.message()
    );
    assert!(b.list_raw::<Character>().await.unwrap().is_empty() && b.list_raw::<Chat>().await.unwrap().is_empty());

    // The same read once (a stream): the batches before the bad line are kept, and the error
    // says how many items; the rest of the batch holding the bad line is not written.
    let b = make().await;
    let opts = backup::StreamOptions { batch_items: 4, check_first: false, ..Default::default() };
    let e = stream_into(&b, broken.as_bytes(), 5, opts, &mut Vec::new()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::BadJson);
    // Items are lines 2..=11 (10 before the bad line): two batches of 4 are committed.
    assert!(e.message().starts_with("backup line 12:"), "{}", e.message());
    assert!(e.message().contains("the first 8 items (up to line 9) were imported"), "{}", e.message());
    let kept = backup_text(&b, false).await;
    assert_eq!(body_of(&kept).len(), 8 + 1, "8 items and the trailer");
    // Importing the intact backup afterwards completes it.
    stream_into(&b, text.as_bytes(), 5, backup::StreamOptions::default(), &mut Vec::new()).await.unwrap();
    assert_eq!(body_of(&backup_text(&b, false).await), body_of(&text));

    // Truncated (no end line) while streaming: the last batch waits for the end line.
    let cut: String = lines[..n - 1].iter().map(|l| format!("{l}\n")).collect();
    let b = make().await;
    let opts = backup::StreamOptions { batch_items: 1000, check_first: false, ..Default::default() };
    let e = stream_into(&b, cut.as_bytes(), 64, opts, &mut Vec::new()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Truncated);
    assert!(e.message().ends_with("nothing was written"), "{}", e.message());
    assert!(b.list_raw::<Character>().await.unwrap().is_empty());

    // A source that can be read once cannot be checked first.
    let e = b
        .import_backup_from(
            &mut backup::SliceSource::once(text.as_bytes(), 64),
            &backup::StreamOptions::default(),
            &mut |_| ControlFlow::Continue(()),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);

    // Cancelled in the check pass: nothing written. Cancelled in the third batch: two kept.
    let e = b
        .import_backup_from(
            &mut backup::SliceSource::new(text.as_bytes(), 64),
            &backup::StreamOptions::default(),
            &mut |_| ControlFlow::Break(()),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Aborted);
    assert!(b.list_raw::<Character>().await.unwrap().is_empty());
    let opts = backup::StreamOptions { batch_items: 3, ..Default::default() };
    let e = b
        .import_backup_from(&mut backup::SliceSource::new(text.as_bytes(), 64), &opts, &mut |p| {
            if p.phase == backup::Phase::Import && p.done == 8 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Aborted);
    assert!(e.message().contains("the first 6 items (up to line 7)"), "{}", e.message());
    assert_eq!(body_of(&backup_text(&b, false).await).len(), 6 + 1);
}

pub async fn asset_bytes_follow_their_record_across_batches<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    // The local copy has an older version of the asset; the backup's newer metadata and its
    // bytes land in different batches: the bytes must still replace the old ones.
    let s = make().await;
    let old = s
        .put_asset(
            Asset { id: "pic".into(), mime: "image/png".into(), role: "avatar".into(), ..Default::default() },
            vec![1, 1],
        )
        .await
        .unwrap();
    let mut newer = old.clone();
    newer.rev = 5;
    newer.updated_at += 10;
    newer.size = 3;
    let mut text = String::new();
    {
        let mut sink = |l: String| {
            text.push_str(&l);
            Ok(())
        };
        let mut w = backup::Writer::new(&mut sink, T0, false).unwrap();
        w.item(&BackupItem::Record { store: schema::stores::ASSETS.into(), record: to_value(&newer).unwrap() })
            .unwrap();
        w.item(&BackupItem::Setting(SettingEntry { key: "k".into(), value: json!(1), rev: 1, updated_at: T0 }))
            .unwrap();
        w.item(&BackupItem::AssetBytes { id: "pic".into(), bytes: vec![2, 2, 2] }).unwrap();
        w.finish().unwrap();
    }
    let opts = backup::StreamOptions { batch_items: 1, ..Default::default() };
    let rep = stream_into(&s, text.as_bytes(), 3, opts, &mut Vec::new()).await.unwrap();
    assert_eq!(rep, ImportReport { written: 3, skipped: 0 });
    assert_eq!(s.asset_bytes("pic").await.unwrap().unwrap(), vec![2, 2, 2]);
    assert_eq!(s.get::<Asset>("pic").await.unwrap().unwrap().rev, 5);
    // Bytes of an asset whose record was not newer are left alone.
    let rep = stream_into(&s, text.replace("AgIC", "CQkJ").as_bytes(), 3, opts, &mut Vec::new()).await.unwrap();
    assert_eq!(rep, ImportReport { written: 0, skipped: 3 });
    assert_eq!(s.asset_bytes("pic").await.unwrap().unwrap(), vec![2, 2, 2]);
}

pub async fn duplicate_backup_items_resolve_in_order<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    // Each item is compared with the state the items before it left, whatever the batches:
    // an equal copy is skipped (the first wins), a newer one replaces it.
    let rec = |name: &str, rev: u64| BackupItem::Record {
        store: schema::stores::CHARACTERS.into(),
        record: json!({"id": "dup", "rev": rev, "updatedAt": T0, "name": name, "card": {}}),
    };
    let items = [rec("first", 1), rec("equal", 1), rec("newer", 2), rec("older", 1)];
    for batch_items in [1, 2, 100] {
        let s = make().await;
        let mut text = String::new();
        {
            let mut sink = |l: String| {
                text.push_str(&l);
                Ok(())
            };
            let mut w = backup::Writer::new(&mut sink, T0, false).unwrap();
            for i in &items {
                w.item(i).unwrap();
            }
            w.finish().unwrap();
        }
        let opts = backup::StreamOptions { batch_items, ..Default::default() };
        let rep = stream_into(&s, text.as_bytes(), 50, opts, &mut Vec::new()).await.unwrap();
        assert_eq!(rep, ImportReport { written: 2, skipped: 2 }, "batch {batch_items}");
        assert_eq!(s.get::<Character>("dup").await.unwrap().unwrap().name, "newer", "batch {batch_items}");
        let t = make().await;
        assert_eq!(t.import_backup(&text, &mut go).await.unwrap(), rep);
        assert_eq!(t.get::<Character>("dup").await.unwrap().unwrap().name, "newer");
    }
}

pub async fn thumbnails_are_made_once_and_kept_as_assets<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    use crate::thumbnail::{encode_rgba, NoDecoder, ThumbnailOptions};
    let s = make().await;
    let (w, h) = (600u32, 300u32);
    let rgba: Vec<u8> =
        (0..w * h).flat_map(|i| if i % w < w / 2 { [255, 0, 0, 255] } else { [0, 0, 255, 255] }).collect();
    let png = encode_rgba(w, h, &rgba).unwrap();
    let src = s
        .put_asset(
            Asset {
                mime: "image/png".into(),
                role: "avatar".into(),
                owner_id: Some("c1".into()),
                ..Default::default()
            },
            png,
        )
        .await
        .unwrap();
    let opts = ThumbnailOptions { max_side: 128, ..Default::default() };
    let t = s.thumbnail(&src.id, &opts, &NoDecoder).await.unwrap().unwrap();
    assert!(!t.original);
    assert_eq!(t.asset.id, thumbnail_id(&src, 128));
    assert_eq!((t.asset.role.as_str(), t.asset.mime.as_str()), ("thumbnail", "image/png"));
    assert_eq!(t.asset.thumbnail_of.as_deref(), Some(src.id.as_str()));
    assert_eq!(t.asset.owner_id.as_deref(), Some("c1"));
    assert_eq!((t.asset.width, t.asset.height), (Some(128), Some(64)));
    let bytes = s.asset_bytes(&t.asset.id).await.unwrap().unwrap();
    assert_eq!(bytes.len() as u64, t.asset.size);
    assert_eq!(crate::thumbnail::png_size(&bytes).unwrap(), (128, 64));
    // Read back, not made again; another size is another asset; a thumbnail is its own thumbnail.
    let again = s.thumbnail(&src.id, &opts, &NoDecoder).await.unwrap().unwrap();
    assert_eq!(again, t);
    let small = s
        .thumbnail(&src.id, &ThumbnailOptions { max_side: 32, ..Default::default() }, &NoDecoder)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((small.asset.width, small.asset.height), (Some(32), Some(16)));
    assert_eq!(s.thumbnail(&t.asset.id, &opts, &NoDecoder).await.unwrap().unwrap(), t);
    assert_eq!(s.list::<Asset>().await.unwrap().len(), 3);

    // Not a PNG and no decoder: the original, flagged. Missing: None. Too many pixels: too_large.
    let jpeg = s
        .put_asset(
            Asset { mime: "image/jpeg".into(), role: "avatar".into(), ..Default::default() },
            vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0],
        )
        .await
        .unwrap();
    let o = s.thumbnail(&jpeg.id, &opts, &NoDecoder).await.unwrap().unwrap();
    assert!(o.original);
    assert_eq!(o.asset, jpeg);
    assert!(s.thumbnail("missing", &opts, &NoDecoder).await.unwrap().is_none());
    let e = s.thumbnail(&src.id, &ThumbnailOptions { max_side: 100, max_pixels: 1000 }, &NoDecoder).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::TooLarge);
    let e =
        s.thumbnail(&src.id, &ThumbnailOptions { max_side: 0, ..Default::default() }, &NoDecoder).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);

    // Thumbnails travel in backups; a deleted one is not made again (the original is shown).
    let text = backup_text(&s, false).await;
    let b = make().await;
    b.import_backup(&text, &mut go).await.unwrap();
    assert_eq!(b.thumbnail(&src.id, &opts, &NoDecoder).await.unwrap().unwrap(), t);
    b.delete::<Asset>(&t.asset.id).await.unwrap();
    let back = b.thumbnail(&src.id, &opts, &NoDecoder).await.unwrap().unwrap();
    assert!(back.original, "{back:?}");
    assert_eq!(back.asset.id, src.id);
}

pub async fn chat_export_as_sillytavern_jsonl<S: Store, F: Future<Output = S>>(make: impl Fn() -> F) {
    let s = make().await;
    let ch = s.create(Character::from_card(card("Alice", &[]))).await.unwrap();
    let chat = s
        .create_chat(Chat {
            character_id: Some(ch.id.clone()),
            metadata: json!({"integrity": "u-1", "note_prompt": "n"}),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut fields = serde_json::Map::new();
    fields.insert("original_avatar".into(), json!("alice.png"));
    fields.insert("gen_started".into(), json!("2026-11-27T05:19:59.000Z"));
    s.append_message(
        &chat.id,
        NewMessage {
            name: "Alice".into(),
            mes: "Hello!".into(),
            send_date: Some(1_795_756_800_000),
            fields,
            extra: Some(json!({"gen_id": 7})),
            ..Default::default()
        },
    )
    .await
    .unwrap();
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
            append_never_overwrites_a_stored_message, streamed_backup_import_matches_the_whole_text,
            streamed_backup_import_fails_precisely, asset_bytes_follow_their_record_across_batches,
            duplicate_backup_items_resolve_in_order, thumbnails_are_made_once_and_kept_as_assets,
        ]);
    };
    (wasm, $make:ident) => {
        $crate::store_conformance_suite!(@each wasm $make, [
            character_crud, other_record_kinds, list_characters_sorted_paged_filtered,
            append_and_page_messages, edit_and_delete_messages_and_swipes, bulk_import_is_atomic_with_progress,
            settings_round_trip, assets_keep_metadata_apart_from_bytes, event_log_is_append_only_and_capped,
            backup_export_and_import, chat_export_as_sillytavern_jsonl, changes_are_announced,
            cards_and_avatars_are_imported_together, deleting_a_chat_tombstones_its_messages,
            append_never_overwrites_a_stored_message, streamed_backup_import_matches_the_whole_text,
            streamed_backup_import_fails_precisely, asset_bytes_follow_their_record_across_batches,
            duplicate_backup_items_resolve_in_order, thumbnails_are_made_once_and_kept_as_assets,
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
