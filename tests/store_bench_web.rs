//! Storage benchmark in headless Chromium (not part of `make test`; run it with
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test --release
//!  --target wasm32-unknown-unknown --test store_bench_web -- --nocapture`).
//!
//! Prints `BENCH <name> ours_ms=<x> peer_ms=<y> ratio=<peer/ours>`. The peer is NextChat's way
//! of persisting chats: the whole chat store JSON-serialised and written as ONE IndexedDB value
//! (idb-keyval's `set`: database `keyval-store`, object store `keyval`, one readwrite
//! transaction with `put(value, key)`), reproduced here op for op with web-sys because the
//! wasm test runner cannot load npm modules.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Promise};
use nextchat_tavern::store::indexeddb::{factory, IndexedDbStore};
use nextchat_tavern::store::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn now() -> f64 {
    let perf = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let f: js_sys::Function = js_sys::Reflect::get(&perf, &"now".into()).unwrap().unchecked_into();
    f.call0(&perf).unwrap().as_f64().unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn line(name: &str, ours: f64, peer: Option<f64>) {
    let text = match peer {
        Some(p) => format!("BENCH {name} ours_ms={ours:.3} peer_ms={p:.3} ratio={:.2}", p / ours),
        None => format!("BENCH {name} ours_ms={ours:.3}"),
    };
    web_sys::console::log_1(&JsValue::from_str(&text));
}

async fn wait(req: &web_sys::IdbRequest) -> JsValue {
    let p = Promise::new(&mut |res, rej| {
        req.set_onsuccess(Some(&res));
        req.set_onerror(Some(&rej));
    });
    JsFuture::from(p).await.unwrap();
    req.result().unwrap()
}

/// idb-keyval's `createStore("keyval-store", "keyval")`.
async fn keyval_db(name: &str) -> web_sys::IdbDatabase {
    let req = factory().unwrap().open(name).unwrap();
    let r = req.clone();
    let up = Closure::<dyn FnMut()>::new(move || {
        let db: web_sys::IdbDatabase = r.result().unwrap().unchecked_into();
        let _ = db.create_object_store("keyval");
    });
    req.set_onupgradeneeded(Some(up.as_ref().unchecked_ref()));
    wait(&req).await.unchecked_into()
}

/// idb-keyval's `set(key, value)`: one readwrite transaction, resolved on `complete`.
async fn keyval_set(db: &web_sys::IdbDatabase, key: &str, value: &JsValue) {
    let tx = db.transaction_with_str_and_mode("keyval", web_sys::IdbTransactionMode::Readwrite).unwrap();
    tx.object_store("keyval").unwrap().put_with_key(value, &JsValue::from_str(key)).unwrap();
    let p = Promise::new(&mut |res, rej| {
        tx.set_oncomplete(Some(&res));
        tx.set_onerror(Some(&rej));
    });
    JsFuture::from(p).await.unwrap();
}

fn nextchat_message(i: usize) -> JsValue {
    let v = serde_json::json!({
        "id": format!("m{i}"), "date": "2026/11/27 05:20:00", "role": if i % 2 == 0 { "user" } else { "assistant" },
        "content": format!("Message number {i}: the quick brown fox jumps over the lazy dog, twice over, for a realistic length."),
        "streaming": false, "model": "gpt-4o-mini"
    });
    js_sys::JSON::parse(&v.to_string()).unwrap()
}

const RUNS: usize = 15;

#[wasm_bindgen_test]
async fn bench_append_ours_vs_nextchat() {
    for &n in &[100usize, 1_000, 10_000] {
        // Ours: one record per message.
        let s = IndexedDbStore::open(&format!("bench-ours-{n}-{}", js_sys::Date::now()), StoreEnv::default()).await.unwrap();
        let chat = s.create_chat(Chat::default()).await.unwrap();
        let items: Vec<BackupItem> = {
            let mut c = s.get::<Chat>(&chat.id).await.unwrap().unwrap();
            let mut items = Vec::new();
            for i in 0..n {
                let mut m = Message::from_new(&chat.id, i as u64, NewMessage { name: "U".into(), mes: format!("Message number {i}: the quick brown fox jumps over the lazy dog, twice over, for a realistic length."), ..Default::default() }).unwrap();
                m.id = format!("m{i}");
                m.rev = 1;
                items.push(BackupItem::Record { store: "messages".into(), record: serde_json::to_value(&m).unwrap() });
            }
            c.next_seq = n as u64;
            c.message_count = n as u64;
            c.rev += 1;
            items.push(BackupItem::Record { store: "chats".into(), record: serde_json::to_value(&c).unwrap() });
            items
        };
        s.import_items(items, &mut |_| std::ops::ControlFlow::Continue(())).await.unwrap();
        let mut ours = Vec::new();
        for i in 0..RUNS {
            let t = now();
            s.append_message(&chat.id, NewMessage { name: "U".into(), mes: format!("new {i}"), ..Default::default() }).await.unwrap();
            ours.push(now() - t);
        }
        // Peer: NextChat's chat store, whole, through idb-keyval on every update.
        let db = keyval_db(&format!("keyval-bench-{n}-{}", js_sys::Date::now())).await;
        let messages = Array::new();
        for i in 0..n {
            messages.push(&nextchat_message(i));
        }
        let session = js_sys::Object::new();
        js_sys::Reflect::set(&session, &"messages".into(), &messages).unwrap();
        let state = js_sys::Object::new();
        js_sys::Reflect::set(&state, &"sessions".into(), &Array::of1(&session)).unwrap();
        js_sys::Reflect::set(&state, &"currentSessionIndex".into(), &0.into()).unwrap();
        let mut peer = Vec::new();
        for i in 0..RUNS {
            let t = now();
            messages.push(&nextchat_message(n + i));
            let json = js_sys::JSON::stringify(&state).unwrap();
            keyval_set(&db, "chat-next-web-store", &json).await;
            peer.push(now() - t);
        }
        db.close();
        line(&format!("store_append_at_{n}"), median(ours), Some(median(peer)));
        // Last 50 messages of the chat.
        if n == 10_000 {
            let mut t50 = Vec::new();
            for _ in 0..RUNS {
                let t = now();
                let page = s.messages(&chat.id, None, 50).await.unwrap();
                t50.push(now() - t);
                assert_eq!(page.len(), 50);
            }
            line("store_last_50_of_10000", median(t50), None);
        }
        s.close();
    }
}

#[wasm_bindgen_test]
async fn bench_list_first_page_of_10000_characters() {
    let s = IndexedDbStore::open(&format!("bench-chars-{}", js_sys::Date::now()), StoreEnv::default()).await.unwrap();
    let chars: Vec<Character> = (0..10_000)
        .map(|i| Character::from_card(serde_json::json!({"spec": "chara_card_v2", "data": {"name": format!("Character {:05}", (i * 7919) % 10_000), "tags": ["bench"], "description": "x".repeat(200)}})))
        .collect();
    let t = now();
    s.import_characters(chars, &mut |_| std::ops::ControlFlow::Continue(())).await.unwrap();
    line("store_import_10000_characters_one_tx", now() - t, None);
    let mut v = Vec::new();
    for _ in 0..RUNS {
        let t = now();
        let p = s.list_characters(&CharacterQuery { limit: Some(50), ..Default::default() }).await.unwrap();
        v.push(now() - t);
        assert_eq!(p.total, 10_000);
        assert_eq!(p.items[0].name, "Character 00000");
    }
    line("store_list_first_page_of_10000_by_name", median(v), None);
    let mut v = Vec::new();
    for _ in 0..5 {
        let t = now();
        let p = s.list_characters(&CharacterQuery { query: Some("99".into()), limit: Some(50), ..Default::default() }).await.unwrap();
        v.push(now() - t);
        assert!(p.total > 0);
    }
    line("store_substring_search_10000", median(v), None);
}
