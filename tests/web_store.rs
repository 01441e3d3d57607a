//! The store conformance suite against IndexedDB in headless Chromium, plus the robustness
//! cases only a real browser can show: aborted transactions, two connections, blocked upgrades,
//! quota errors, cross-tab announcements, the v1 → v2, v2 → v3 and v3 → v4 (cards as JSON text)
//! migrations, and the client's response cache in the `cache` store (schema 3).
#![cfg(target_arch = "wasm32")]

use std::cell::{Cell, RefCell};
use std::ops::ControlFlow;
use std::rc::Rc;

use js_sys::{Array, Promise};
use nextchat_tavern::store::cache::{CacheEntry, CacheLimits, ResponseCache};
use nextchat_tavern::store::conformance::test_env;
use nextchat_tavern::store::indexeddb::{delete_database, factory, Fault, IdbResponseCache, IndexedDbStore, DB_VERSION};
use nextchat_tavern::store::*;
use nextchat_tavern::ErrorCode;
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    static N: Cell<u32> = const { Cell::new(0) };
}

/// A database name never used before in this run (the profile is fresh per run, too).
fn fresh_name() -> String {
    let n = N.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    format!("nct-test-{}-{n}", js_sys::Date::now() as u64)
}

async fn fresh_store() -> IndexedDbStore {
    IndexedDbStore::open(&fresh_name(), test_env()).await.expect("open a fresh IndexedDB store")
}

nextchat_tavern::store_conformance_suite!(wasm, fresh_store);

async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        let _ = web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(p).await;
}

fn user(t: &str) -> NewMessage {
    NewMessage { name: "U".into(), is_user: true, mes: t.into(), ..Default::default() }
}

#[wasm_bindgen_test]
async fn data_survives_reopening() {
    let name = fresh_name();
    let s = IndexedDbStore::open(&name, test_env()).await.unwrap();
    let c = s.create(Character::from_card(json!({"data": {"name": "Kept"}}))).await.unwrap();
    let chat = s.create_chat(Chat::default()).await.unwrap();
    s.append_message(&chat.id, user("hello")).await.unwrap();
    s.close();
    assert_eq!(s.get::<Character>(&c.id).await.unwrap_err().code(), ErrorCode::Storage);
    let s2 = IndexedDbStore::open(&name, test_env()).await.unwrap();
    assert_eq!(s2.get::<Character>(&c.id).await.unwrap().unwrap().name, "Kept");
    assert_eq!(s2.messages(&chat.id, None, 10).await.unwrap()[0].mes, "hello");
    assert!(s2.info().persistent);
}

#[wasm_bindgen_test]
async fn an_aborted_transaction_leaves_nothing_partial() {
    let s = fresh_store().await;
    let chat = s.create_chat(Chat::default()).await.unwrap();
    s.append_message(&chat.id, user("one")).await.unwrap();
    // The message write succeeds, then the chat-counter write fails: the message must go too.
    s.inject_fault(Some(Fault { nth: 2, dom_error: "UnknownError".into() }));
    let e = s.append_message(&chat.id, user("two")).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Storage);
    let all = s.all_messages(&chat.id).await.unwrap();
    assert_eq!(all.len(), 1, "the half-written append was rolled back");
    let c: Chat = s.get(&chat.id).await.unwrap().unwrap();
    assert_eq!((c.message_count, c.next_seq), (1, 1));
    // A bulk import failing at item 7 of 10 keeps none of them.
    s.inject_fault(Some(Fault { nth: 7, dom_error: "UnknownError".into() }));
    let chars: Vec<Character> = (0..10).map(|i| Character::from_card(json!({"data": {"name": format!("N{i}")}}))).collect();
    assert!(s.import_characters(chars, &mut |_| ControlFlow::Continue(())).await.is_err());
    assert_eq!(s.list_raw::<Character>().await.unwrap().len(), 0);
    // And the store still works.
    assert_eq!(s.append_message(&chat.id, user("two")).await.unwrap().seq, 1);
}

#[wasm_bindgen_test]
async fn quota_exceeded_is_typed_and_keeps_the_previous_state() {
    // A real quota cannot be filled in CI: the fault makes a write request fail with the
    // DOMException the browser uses ("QuotaExceededError"), aborting its transaction.
    let s = fresh_store().await;
    let c = s.create(Character::from_card(json!({"data": {"name": "Q"}}))).await.unwrap();
    s.inject_fault(Some(Fault { nth: 1, dom_error: "QuotaExceededError".into() }));
    let e = s
        .update::<Character>(&c.id, &mut |c| {
            c.name = "Changed".into();
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::QuotaExceeded);
    let kept: Character = s.get(&c.id).await.unwrap().unwrap();
    assert_eq!((kept.name.as_str(), kept.rev), ("Q", 1));
    s.inject_fault(Some(Fault { nth: 1, dom_error: "QuotaExceededError".into() }));
    let e = s.put_asset(Asset { mime: "image/png".into(), ..Default::default() }, vec![1; 1000]).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::QuotaExceeded);
    assert!(s.list_raw::<Asset>().await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn two_connections_writing_to_one_chat_lose_no_message() {
    let name = fresh_name();
    let a = IndexedDbStore::open(&name, test_env()).await.unwrap();
    let b = IndexedDbStore::open(&name, test_env()).await.unwrap();
    let chat = a.create_chat(Chat::default()).await.unwrap();
    let promises = Array::new();
    for i in 0..20 {
        for (tab, s) in [("a", a.clone()), ("b", b.clone())] {
            let id = chat.id.clone();
            promises.push(&future_to_promise(async move {
                s.append_message(&id, user(&format!("{tab}{i}"))).await.map_err(JsValue::from)?;
                Ok(JsValue::UNDEFINED)
            }));
        }
    }
    JsFuture::from(Promise::all(&promises)).await.unwrap();
    let msgs = b.messages(&chat.id, None, 100).await.unwrap();
    assert_eq!(msgs.len(), 40);
    let seqs: Vec<u64> = msgs.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (0..40).collect::<Vec<_>>(), "every seq once, no gaps");
    let mut texts: Vec<String> = msgs.into_iter().map(|m| m.mes).collect();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), 40);
    let c: Chat = a.get(&chat.id).await.unwrap().unwrap();
    assert_eq!((c.message_count, c.next_seq), (40, 40));
}

#[wasm_bindgen_test]
async fn changes_are_broadcast_to_other_tabs() {
    let name = fresh_name();
    let a = IndexedDbStore::open(&name, test_env()).await.unwrap();
    let b = IndexedDbStore::open(&name, test_env()).await.unwrap();
    let seen: Rc<RefCell<Vec<Change>>> = Rc::default();
    let sink = seen.clone();
    b.subscribe(Rc::new(move |c: &Change| sink.borrow_mut().push(c.clone())));
    let c = a.create(Character::from_card(json!({"data": {"name": "Hi"}}))).await.unwrap();
    for _ in 0..50 {
        if !seen.borrow().is_empty() {
            break;
        }
        sleep(10).await;
    }
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].remote);
    assert_eq!((seen[0].store.as_str(), seen[0].op.as_str()), ("characters", "put"));
    assert_eq!(seen[0].ids, vec![c.id.clone()]);
}

/// Opens a raw connection (like an old tab) that ignores `versionchange`.
async fn raw_open(name: &str, version: u32, on_upgrade: impl Fn(&web_sys::IdbDatabase) + 'static) -> web_sys::IdbDatabase {
    let req = factory().unwrap().open_with_u32(name, version).unwrap();
    let r = req.clone();
    let up = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
        let db: web_sys::IdbDatabase = r.result().unwrap().unchecked_into();
        on_upgrade(&db);
    });
    req.set_onupgradeneeded(Some(up.as_ref().unchecked_ref()));
    let p = Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    JsFuture::from(p).await.unwrap();
    drop(up);
    req.result().unwrap().unchecked_into()
}

#[wasm_bindgen_test]
async fn a_blocked_upgrade_is_reported_not_hung() {
    let name = fresh_name();
    // Another "tab" (an older build) holds the database open at version 1 and ignores versionchange.
    IndexedDbStore::open_at(&name, test_env(), 1).await.unwrap().close();
    let old_tab = raw_open(&name, 1, |_| {}).await;
    let t0 = js_sys::Date::now();
    let e = IndexedDbStore::open(&name, test_env()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Blocked, "{e}");
    assert!(js_sys::Date::now() - t0 < 5_000.0);
    // Once the old tab closes, opening works.
    old_tab.close();
    sleep(50).await;
    let s = IndexedDbStore::open(&name, test_env()).await.unwrap();
    s.create(Character::from_card(json!({"data": {"name": "After"}}))).await.unwrap();
}

#[wasm_bindgen_test]
async fn our_connections_step_aside_for_an_upgrade_in_another_tab() {
    let name = fresh_name();
    let s = IndexedDbStore::open(&name, test_env()).await.unwrap();
    // A newer build in another tab upgrades past our version: our connection closes instead of blocking.
    let newer = raw_open(&name, DB_VERSION + 1, |_| {}).await;
    let e = s.list::<Character>().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Storage);
    assert!(e.message().contains("another tab"), "{e}");
    newer.close();
    // And this build refuses the newer database with a typed error.
    let e = IndexedDbStore::open(&name, test_env()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnsupportedFormat, "{e}");
    delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_v1_database_with_data_is_migrated() {
    let name = fresh_name();
    // Create a schema-1 database and put records in it the way version 1 wrote them
    // (no derived index fields).
    let v1 = IndexedDbStore::open_at(&name, test_env(), 1).await.unwrap();
    v1.close();
    let db = raw_open(&name, 1, |_| {}).await;
    let arr = Array::of1(&JsValue::from_str("characters"));
    let tx = db.transaction_with_str_sequence_and_mode(&arr, web_sys::IdbTransactionMode::Readwrite).unwrap();
    let st = tx.object_store("characters").unwrap();
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    use serde::Serialize;
    for (id, name, tags) in [("c1", "Zora", vec!["Elf"]), ("c2", "adam", vec![]), ("c3", "Mona", vec!["elf", "mage"])] {
        let v = json!({"id": id, "rev": 1, "createdAt": 5, "updatedAt": 5, "deleted": false, "name": name,
                       "card": {"data": {"name": name}}, "tags": tags, "favorite": false});
        st.put(&v.serialize(&ser).unwrap()).unwrap();
    }
    let p = Promise::new(&mut |resolve, _| tx.set_oncomplete(Some(&resolve)));
    JsFuture::from(p).await.unwrap();
    db.close();

    // Open with the current build: the 1 → 2 migration adds the indexes and back-fills them.
    let s = IndexedDbStore::open(&name, test_env()).await.unwrap();
    let page = s.list_characters(&CharacterQuery::default()).await.unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(page.items.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["adam", "Mona", "Zora"]);
    let elves = s.list_characters(&CharacterQuery { tag: Some("ELF".into()), ..Default::default() }).await.unwrap();
    assert_eq!(elves.total, 2);
    let z = s
        .list_characters(&CharacterQuery { query: Some("zo".into()), match_mode: NameMatch::Prefix, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(z.items[0].id, "c1");
    assert_eq!(z.items[0].ix_name.as_deref(), Some("zora"));
    // Old records stay writable.
    let u = s.update::<Character>("c2", &mut |c| {
        c.favorite = true;
        Ok(())
    }).await.unwrap();
    assert_eq!(u.rev, 2);
}

#[wasm_bindgen_test]
async fn an_abort_signal_style_cancel_keeps_nothing() {
    let s = fresh_store().await;
    let chars: Vec<Character> = (0..30).map(|i| Character::from_card(json!({"data": {"name": format!("X{i}")}}))).collect();
    let e = s
        .import_characters(chars, &mut |p| if p.done >= 10 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) })
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Aborted);
    assert_eq!(s.list_characters(&CharacterQuery::default()).await.unwrap().total, 0);
}

fn entry(n: usize, at: f64) -> CacheEntry {
    CacheEntry { body: (0..n).map(|i| i as u8).collect(), content_type: "image/png".into(), fetched_ms: at }
}

/// The whole backup of a store as text.
async fn backup_of(s: &IndexedDbStore) -> String {
    let mut text = String::new();
    s.export_backup(true, &mut |line| {
        text.push_str(&line);
        Ok(())
    })
    .await
    .unwrap();
    text
}

#[wasm_bindgen_test]
async fn the_response_cache_keeps_entries_across_connections_clears_by_prefix_and_is_not_backed_up() {
    let name = fresh_name();
    let s = IndexedDbStore::open(&name, test_env()).await.unwrap();
    let c = IdbResponseCache::new(s.clone(), CacheLimits::default());
    assert_eq!(c.get("http://a\n\nlist").await.unwrap(), None);
    c.put(
        "http://a\n\nlist",
        CacheEntry { body: b"[{\"name\":\"A\"}]".to_vec(), content_type: String::new(), fetched_ms: 1.0 },
    );
    c.put("http://a\n\nthumb", entry(3000, 2.0));
    c.put("http://b\n\nlist", entry(10, 3.0));
    // Issued in call order: a read right after the puts sees them.
    assert_eq!(c.get("http://a\n\nthumb").await.unwrap(), Some(entry(3000, 2.0)));
    c.put("http://a\n\nthumb", entry(20, 4.0));
    assert_eq!(c.get("http://a\n\nthumb").await.unwrap(), Some(entry(20, 4.0)), "replaced");

    // Not records: nothing of the cache is in a backup (secrets included).
    let backup = backup_of(&s).await;
    assert!(!backup.contains("http://a") && !backup.contains("\"cache\""), "{backup}");

    // Another connection (a reloaded page) reads them.
    s.close();
    let s2 = IndexedDbStore::open(&name, test_env()).await.unwrap();
    let c2 = IdbResponseCache::new(s2.clone(), CacheLimits::default());
    let list = c2.get("http://a\n\nlist").await.unwrap().unwrap();
    assert_eq!(
        (list.body.as_slice(), list.content_type.as_str(), list.fetched_ms),
        (&b"[{\"name\":\"A\"}]"[..], "", 1.0)
    );

    // Clearing one server's prefix keeps the other's entries; "" clears everything.
    c2.clear("http://a\n").await.unwrap();
    assert_eq!(c2.get("http://a\n\nlist").await.unwrap(), None);
    assert_eq!(c2.get("http://a\n\nthumb").await.unwrap(), None);
    assert_eq!(c2.get("http://b\n\nlist").await.unwrap(), Some(entry(10, 3.0)));
    c2.clear("").await.unwrap();
    assert_eq!(c2.get("http://b\n\nlist").await.unwrap(), None);
}

#[wasm_bindgen_test]
async fn the_response_cache_evicts_the_oldest_entries_beyond_its_caps() {
    let s = fresh_store().await;
    let c = IdbResponseCache::new(s.clone(), CacheLimits { max_entries: 10, max_bytes: 1000 });
    for i in 0..15 {
        c.put(&format!("k{i:02}"), entry(10, i as f64));
    }
    // The first put schedules a count; it finds 15 > 10 and trims to 90 %: the newest 9.
    sleep(100).await;
    let mut kept = Vec::new();
    for i in 0..15 {
        if c.get(&format!("k{i:02}")).await.unwrap().is_some() {
            kept.push(i);
        }
    }
    assert_eq!(kept, (6..15).collect::<Vec<_>>());
    assert_eq!(c.trim().await.unwrap(), (9, 90), "an exact recount");
    // Over the byte cap: the oldest go until 90 % of it, the newest stays.
    c.put("big", entry(950, 100.0));
    sleep(100).await;
    assert_eq!(c.trim().await.unwrap(), (1, 950));
    assert!(c.get("big").await.unwrap().is_some());
    assert!(c.get("k14").await.unwrap().is_none());
    // An entry over the whole cap is not stored.
    c.put("huge", entry(1001, 101.0));
    assert!(c.get("huge").await.unwrap().is_none());
}

#[wasm_bindgen_test]
async fn a_v2_database_with_data_is_migrated_to_v3() {
    let name = fresh_name();
    let v2 = IndexedDbStore::open_at(&name, test_env(), 2).await.unwrap();
    let ch = v2.create(Character::from_card(json!({"data": {"name": "Old", "tags": ["x"]}}))).await.unwrap();
    let chat = v2.create_chat(Chat { character_id: Some(ch.id.clone()), ..Default::default() }).await.unwrap();
    v2.append_message(&chat.id, user("kept")).await.unwrap();
    v2.put_setting("k", json!({"v": 1})).await.unwrap();
    let before = backup_of(&v2).await;
    let ch: Character = v2.get(&ch.id).await.unwrap().unwrap();
    v2.close();
    // The v2 layout has no cache store.
    let db = raw_open(&name, 2, |_| {}).await;
    assert!(db.transaction_with_str("cache").is_err());
    db.close();

    let s = IndexedDbStore::open(&name, test_env()).await.unwrap();
    assert_eq!(s.info().schema_version, 3);
    let got: Character = s.get(&ch.id).await.unwrap().unwrap();
    assert_eq!(got, ch, "the record is untouched");
    assert_eq!(
        s.list_characters(&CharacterQuery { tag: Some("x".into()), ..Default::default() }).await.unwrap().total,
        1
    );
    assert_eq!(s.messages(&chat.id, None, 10).await.unwrap()[0].mes, "kept");
    assert_eq!(s.get_setting("k").await.unwrap().unwrap().value, json!({"v": 1}));
    // The cache works, and a backup after the upgrade holds the same items as before it.
    let c = IdbResponseCache::new(s.clone(), CacheLimits::default());
    c.put("http://st\n\nlist", entry(5, 1.0));
    assert!(c.get("http://st\n\nlist").await.unwrap().is_some());
    let after = backup_of(&s).await;
    let items = |t: &str| t.lines().skip(1).filter(|l| !l.contains("\"end\"")).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(items(&after), items(&before));
    s.close();
    let db = raw_open(&name, DB_VERSION, |_| {}).await;
    let tx = db.transaction_with_str("cache").unwrap();
    assert!(tx.object_store("cache").unwrap().index("ixAge").is_ok());
    db.close();
}

/// The stored value of a character, read past the store with a raw connection.
async fn stored_character(name: &str, id: &str) -> JsValue {
    let db = raw_open(name, DB_VERSION, |_| {}).await;
    let tx = db.transaction_with_str("characters").unwrap();
    let req = tx.object_store("characters").unwrap().get(&JsValue::from_str(id)).unwrap();
    let p = Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    JsFuture::from(p).await.unwrap();
    let v = req.result().unwrap();
    db.close();
    v
}

fn field(v: &JsValue, k: &str) -> JsValue {
    js_sys::Reflect::get(v, &JsValue::from_str(k)).unwrap()
}

/// A card with a lorebook of `n` entries.
fn lore_card(name: &str, n: usize) -> serde_json::Value {
    let entries: Vec<_> = (0..n)
        .map(|i| json!({"id": i, "keys": [format!("key {i}")], "content": format!("Entry {i} of {name}."), "extensions": {"depth": 4}}))
        .collect();
    json!({"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": name, "tags": ["Lore"], "character_book": {"entries": entries}}})
}

#[wasm_bindgen_test]
async fn characters_are_stored_with_the_card_as_json_text() {
    let name = fresh_name();
    let s = IndexedDbStore::open(&name, test_env()).await.unwrap();
    let card = lore_card("Codex", 50);
    let c = s.create(Character::from_card(card.clone())).await.unwrap();
    s.import_characters_with_assets(vec![Character { id: "two".into(), ..Character::from_card(lore_card("Two", 3)) }], vec![], &mut |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    s.close();
    for id in [c.id.as_str(), "two"] {
        let v = stored_character(&name, id).await;
        assert!(field(&v, "card").is_undefined(), "no nested card object in {id}");
        let text = field(&v, "cardJson").as_string().expect("the card as JSON text");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["data"]["character_book"]["entries"].as_array().map(Vec::len), Some(if id == "two" { 3 } else { 50 }));
    }
    // Read back through every path: the same card.
    let s = IndexedDbStore::open(&name, test_env()).await.unwrap();
    assert_eq!(s.get::<Character>(&c.id).await.unwrap().unwrap().card, card);
    assert_eq!(s.list_characters(&CharacterQuery::default()).await.unwrap().items[0].card, card);
    let tagged = s.list_characters(&CharacterQuery { tag: Some("lore".into()), ..Default::default() }).await.unwrap();
    assert_eq!((tagged.total, tagged.items[0].card == card), (2, true));
    let js = s.get_character_js(&c.id).await.unwrap().unwrap();
    assert!(field(&js, "cardJson").is_undefined() && field(&js, "ixName").is_undefined());
    let js_card: serde_json::Value = serde_wasm_bindgen::from_value(field(&js, "card")).unwrap();
    assert_eq!(js_card, card);
    let light = s.list_characters_js(&CharacterQuery::default(), false).await.unwrap();
    assert_eq!(light.total, 2);
    assert!(light.items.iter().all(|v| field(v, "card").is_undefined() && field(v, "name").is_string()));
    // A backup carries the card as an object (schema 3), and importing it stores JSON text again.
    let text = backup_of(&s).await;
    assert!(text.contains("\"card\":{") && !text.contains("cardJson"), "{}", &text[..300.min(text.len())]);
    let name2 = fresh_name();
    let s2 = IndexedDbStore::open(&name2, test_env()).await.unwrap();
    s2.import_backup(&text, &mut |_| ControlFlow::Continue(())).await.unwrap();
    assert_eq!(s2.get::<Character>(&c.id).await.unwrap().unwrap().card, card);
    s2.close();
    assert!(field(&stored_character(&name2, &c.id).await, "cardJson").is_string());
}

#[wasm_bindgen_test]
async fn a_v3_database_with_data_is_migrated_to_v4() {
    let name = fresh_name();
    // A schema-3 database with characters written the way version 3 did (the card as an object).
    IndexedDbStore::open_at(&name, test_env(), 3).await.unwrap().close();
    let db = raw_open(&name, 3, |_| {}).await;
    let arr = Array::of1(&JsValue::from_str("characters"));
    let tx = db.transaction_with_str_sequence_and_mode(&arr, web_sys::IdbTransactionMode::Readwrite).unwrap();
    let st = tx.object_store("characters").unwrap();
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    use serde::Serialize;
    let mut old = Vec::new();
    for (i, who) in ["Zora", "adam", "Mona"].iter().enumerate() {
        let mut c = Character { id: format!("c{i}"), rev: 1, created_at: 5, updated_at: 5, ..Character::from_card(lore_card(who, 20)) };
        c.reindex();
        st.put(&c.serialize(&ser).unwrap()).unwrap();
        old.push(c);
    }
    let p = Promise::new(&mut |resolve, _| tx.set_oncomplete(Some(&resolve)));
    JsFuture::from(p).await.unwrap();
    db.close();

    let s = IndexedDbStore::open(&name, test_env()).await.unwrap();
    for c in &old {
        assert_eq!(&s.get::<Character>(&c.id).await.unwrap().unwrap(), c, "the record reads back the same");
    }
    let page = s.list_characters(&CharacterQuery::default()).await.unwrap();
    assert_eq!(page.items.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["adam", "Mona", "Zora"]);
    let before = backup_of(&s).await;
    s.close();
    let v = stored_character(&name, "c0").await;
    assert!(field(&v, "card").is_undefined() && field(&v, "cardJson").is_string(), "rewritten as JSON text");
    // Still writable, and the backup is the one schema 3 wrote.
    let s = IndexedDbStore::open(&name, test_env()).await.unwrap();
    assert!(before.lines().next().unwrap().contains(&format!("\"schemaVersion\":{SCHEMA_VERSION}")));
    let u = s.update::<Character>("c1", &mut |c| {
        c.favorite = true;
        Ok(())
    }).await.unwrap();
    assert_eq!((u.rev, u.card == old[1].card), (2, true));
}
