//! Streamed backup import from real browser sources (Blob, ReadableStream, Uint8Array) into
//! IndexedDB, cancelled through an AbortSignal; and thumbnails stored in and read back from
//! IndexedDB, including a JPEG decoded by the browser (`createImageBitmap` + `OffscreenCanvas`).
#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::ops::ControlFlow;

use js_sys::{Array, Function, Promise, Uint8Array};
use nextchat_tavern::store::backup::{Phase, StreamOptions};
use nextchat_tavern::store::conformance::test_env;
use nextchat_tavern::store::indexeddb::IndexedDbStore;
use nextchat_tavern::store::web::{BrowserImages, JsSource};
use nextchat_tavern::store::*;
use nextchat_tavern::thumbnail::{png_size, ThumbnailOptions};
use nextchat_tavern::ErrorCode;
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    static N: Cell<u32> = const { Cell::new(0) };
}

async fn fresh_named() -> (String, IndexedDbStore) {
    let n = N.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    let name = format!("nct-bt-{}-{n}", js_sys::Date::now() as u64);
    let s = IndexedDbStore::open(&name, test_env()).await.expect("open");
    (name, s)
}

async fn fresh() -> IndexedDbStore {
    fresh_named().await.1
}

async fn populated() -> (IndexedDbStore, String) {
    let s = fresh().await;
    for i in 0..12 {
        let c = s
            .create(Character::from_card(json!({"data": {"name": format!("Ça {i} 🦊"), "tags": ["é"]}})))
            .await
            .unwrap();
        let chat = s.create_chat(Chat { character_id: Some(c.id.clone()), ..Default::default() }).await.unwrap();
        s.append_message(&chat.id, NewMessage { mes: format!("héllo — {i} ✓"), ..Default::default() }).await.unwrap();
        s.put_asset(
            Asset { mime: "image/png".into(), role: "avatar".into(), owner_id: Some(c.id), ..Default::default() },
            vec![i; 700],
        )
        .await
        .unwrap();
    }
    s.put_setting("ui", json!({"theme": "dark"})).await.unwrap();
    let text = backup(&s).await;
    (s, text)
}

async fn backup(s: &IndexedDbStore) -> String {
    let mut text = String::new();
    s.export_backup(true, &mut |l| {
        text.push_str(&l);
        Ok(())
    })
    .await
    .unwrap();
    text
}

fn body(text: &str) -> Vec<String> {
    text.lines().skip(1).map(str::to_string).collect()
}

/// A ReadableStream yielding `text`'s bytes in chunks of `n` (multi-byte characters split).
fn stream_of(text: &str, n: u32) -> JsValue {
    let f = Function::new_with_args(
        "bytes, n",
        "let at = 0; return new ReadableStream({ pull(c) { if (at >= bytes.length) { c.close(); return; } \
         c.enqueue(bytes.slice(at, at + n)); at += n; } });",
    );
    f.call2(&JsValue::NULL, &Uint8Array::from(text.as_bytes()), &JsValue::from(n)).unwrap()
}

fn blob_of(text: &str) -> JsValue {
    web_sys::Blob::new_with_str_sequence(&Array::of1(&JsValue::from_str(text))).unwrap().into()
}

#[wasm_bindgen_test]
async fn blob_stream_and_bytes_sources_import_like_the_whole_text() {
    let (_a, text) = populated().await;
    let expected = {
        let s = fresh().await;
        let rep = s.import_backup(&text, &mut |_| ControlFlow::Continue(())).await.unwrap();
        (rep, body(&backup(&s).await))
    };
    let sources: [(&str, JsValue, bool); 4] = [
        ("blob", blob_of(&text), true),
        ("string", JsValue::from_str(&text), true),
        ("bytes", Uint8Array::from(text.as_bytes()).into(), true),
        ("stream", stream_of(&text, 333), false),
    ];
    for (what, src, rewindable) in sources {
        let s = fresh().await;
        let mut source = JsSource::new(&src, None).unwrap();
        assert_eq!(nextchat_tavern::store::backup::ChunkSource::can_rewind(&source), rewindable, "{what}");
        let opts = StreamOptions { batch_items: 7, check_first: rewindable, ..Default::default() };
        let mut phases = Vec::new();
        let rep = s
            .import_backup_from(&mut source, &opts, &mut |p| {
                phases.push(p.phase);
                ControlFlow::Continue(())
            })
            .await
            .unwrap();
        assert_eq!(rep, expected.0, "{what}");
        assert_eq!(body(&backup(&s).await), expected.1, "{what}");
        assert_eq!(phases.contains(&Phase::Check), rewindable, "{what}");
    }
}

#[wasm_bindgen_test]
async fn an_abort_signal_cancels_a_streamed_import() {
    let (_a, text) = populated().await;
    // Aborted in the check pass: nothing written.
    let s = fresh().await;
    let ctl = web_sys::AbortController::new().unwrap();
    let mut source = JsSource::new(&blob_of(&text), Some(ctl.signal())).unwrap();
    ctl.abort();
    let e = s
        .import_backup_from(&mut source, &StreamOptions::default(), &mut |_| ControlFlow::Continue(()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Aborted);
    assert!(e.message().contains("nothing was written"), "{}", e.message());
    assert!(s.list_raw::<Character>().await.unwrap().is_empty());

    // A stream that stalls after its first chunks: the abort cancels the pending read.
    let stalled = Function::new_with_args(
        "bytes",
        "let sent = false; return new ReadableStream({ pull(c) { if (!sent) { sent = true; c.enqueue(bytes); } \
         else return new Promise(() => {}); } });",
    )
    .call1(&JsValue::NULL, &Uint8Array::from(text.as_bytes()[..text.len() / 2].as_ref()))
    .unwrap();
    let ctl = web_sys::AbortController::new().unwrap();
    let mut source = JsSource::new(&stalled, Some(ctl.signal())).unwrap();
    let later = ctl.clone();
    let cb = Closure::once_into_js(move || later.abort());
    web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), 50).unwrap();
    let opts = StreamOptions { batch_items: 5, check_first: false, ..Default::default() };
    let e = s.import_backup_from(&mut source, &opts, &mut |_| ControlFlow::Continue(())).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Aborted, "{}", e.message());
    let kept = s.list_raw::<Character>().await.unwrap().len();
    assert!(kept > 0 && e.message().contains("were imported and are kept"), "{kept}: {}", e.message());
}

/// A JPEG made by the browser itself.
async fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let f = Function::new_with_args(
        "w, h",
        "const c = new OffscreenCanvas(w, h); const x = c.getContext('2d'); x.fillStyle = '#f00'; x.fillRect(0, 0, w / 2, h); \
         x.fillStyle = '#00f'; x.fillRect(w / 2, 0, w / 2, h); \
         return c.convertToBlob({ type: 'image/jpeg', quality: 0.9 }).then((b) => b.arrayBuffer()).then((a) => new Uint8Array(a));",
    );
    let p: Promise = f.call2(&JsValue::NULL, &JsValue::from(w), &JsValue::from(h)).unwrap().unchecked_into();
    Uint8Array::new(&JsFuture::from(p).await.unwrap()).to_vec()
}

#[wasm_bindgen_test]
async fn thumbnails_of_jpeg_and_png_avatars_are_stored_and_read_back() {
    let (name, s) = fresh_named().await;
    let bytes = jpeg(900, 300).await;
    assert_eq!(&bytes[..2], &[0xFF, 0xD8], "a JPEG");
    let src = s
        .put_asset(Asset { mime: "image/jpeg".into(), role: "avatar".into(), ..Default::default() }, bytes)
        .await
        .unwrap();
    let t = s.thumbnail(&src.id, &ThumbnailOptions::default(), &BrowserImages).await.unwrap().unwrap();
    assert!(!t.original);
    assert_eq!((t.asset.width, t.asset.height), (Some(256), Some(85)));
    let png = s.asset_bytes(&t.asset.id).await.unwrap().unwrap();
    assert_eq!(png_size(&png).unwrap(), (256, 85));
    // Not a JPEG the browser can read: a typed error, nothing stored.
    let junk = s
        .put_asset(Asset { mime: "image/jpeg".into(), ..Default::default() }, vec![0xFF, 0xD8, 1, 2, 3])
        .await
        .unwrap();
    let e = s.thumbnail(&junk.id, &ThumbnailOptions::default(), &BrowserImages).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnsupportedFormat, "{}", e.message());
    // Too many pixels for the budget.
    let e =
        s.thumbnail(&src.id, &ThumbnailOptions { max_side: 64, max_pixels: 1000 }, &BrowserImages).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::TooLarge);
    s.close();

    // Another connection reads the stored thumbnail back without making it again.
    let again = IndexedDbStore::open(&name, test_env()).await.unwrap();
    let t2 = again.thumbnail(&src.id, &ThumbnailOptions::default(), &BrowserImages).await.unwrap().unwrap();
    assert_eq!(t2, t);
    let blob = again.asset_blob(&t.asset.id).await.unwrap().unwrap();
    assert_eq!(blob.type_(), "image/png");
    assert_eq!(blob.size() as u64, t.asset.size);
    assert_eq!(again.list::<Asset>().await.unwrap().len(), 3);
}
