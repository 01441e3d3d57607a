//! The card API in a real browser (headless Chromium via wasm-bindgen-test-runner):
//! importCard → exportCard (PNG, CharX) → importCard, lorebooks, typed errors, async import.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Object, Reflect, Uint8Array};
use nextchat_tavern::api;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const V2_PNG: &[u8] = include_bytes!("fixtures/cards/v2_basic.png");
const CHARX: &[u8] = include_bytes!("fixtures/cards/charx_with_assets.charx");
const WORLD: &[u8] = include_bytes!("fixtures/cards/st_eldoria_worldinfo.json");
const UNICODE_PNG: &[u8] = include_bytes!("fixtures/cards/v3_multiscript_unicode.png");

fn get(obj: &JsValue, path: &str) -> JsValue {
    let mut cur = obj.clone();
    for k in path.split('.') {
        cur = Reflect::get(&cur, &JsValue::from_str(k)).unwrap();
    }
    cur
}

fn opts(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

#[wasm_bindgen_test]
fn imports_a_png_card_and_round_trips_it_through_png_and_json() {
    let r = api::card::import_card(V2_PNG, JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&r, "format").as_string().unwrap(), "png");
    assert_eq!(get(&r, "sourceSpec").as_string().unwrap(), "chara_card_v2");
    let card = get(&r, "card");
    assert_eq!(get(&card, "spec").as_string().unwrap(), "chara_card_v3");
    assert_eq!(get(&card, "data.name").as_string().unwrap(), "Borin Ironhand");
    assert_eq!(js_sys::Array::from(&get(&card, "data.character_book.entries")).length(), 3);
    assert!(js_sys::Array::is_array(&get(&r, "warnings")));

    for format in ["png", "json", "charx"] {
        let bytes = api::card::export_card(
            card.clone(),
            opts(&[("format", format.into()), ("touchModificationDate", false.into())]),
        )
        .unwrap();
        let back = api::card::import_card(&bytes.to_vec(), JsValue::UNDEFINED).unwrap();
        assert_eq!(get(&back, "card.data.name").as_string().unwrap(), "Borin Ironhand", "{format}");
        assert_eq!(
            js_sys::JSON::stringify(&get(&back, "card.data.extensions")).unwrap(),
            js_sys::JSON::stringify(&get(&card, "data.extensions")).unwrap(),
            "{format}"
        );
    }
}

#[wasm_bindgen_test]
fn unicode_survives_the_browser_boundary() {
    let r = api::card::import_card(UNICODE_PNG, JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&r, "card.data.name").as_string().unwrap(), "Ліра 🌙 月影 ليرا");
}

#[wasm_bindgen_test]
fn charx_assets_come_back_as_uint8arrays_and_export_again() {
    let r = api::card::import_card(CHARX, JsValue::UNDEFINED).unwrap();
    let assets = js_sys::Array::from(&get(&r, "assets"));
    assert_eq!(assets.length(), 3);
    assert!(get(&assets.get(0), "bytes").is_instance_of::<Uint8Array>());
    let out = api::card::export_card(get(&r, "card"), opts(&[("format", "charx".into()), ("assets", assets.into())]))
        .unwrap();
    let back = api::card::import_card(&out.to_vec(), JsValue::UNDEFINED).unwrap();
    assert_eq!(js_sys::Array::from(&get(&back, "assets")).length(), 3);
}

#[wasm_bindgen_test]
fn bad_input_throws_a_tavern_error_with_a_code() {
    let err = api::card::import_card(&[0u8, 1, 2, 3, 255], JsValue::UNDEFINED).unwrap_err();
    assert!(api::error::is_tavern_error(&err));
    assert_eq!(get(&err, "code").as_string().unwrap(), "not_a_card");
    let err = api::card::import_card(&V2_PNG[..1200], JsValue::UNDEFINED).unwrap_err();
    assert_eq!(get(&err, "code").as_string().unwrap(), "truncated");
    let err = api::card::export_card(JsValue::from(3), opts(&[("format", "png".into())])).unwrap_err();
    assert_eq!(get(&err, "code").as_string().unwrap(), "invalid_argument");
}

#[wasm_bindgen_test]
fn lorebooks_import_from_text_and_export_as_world_info() {
    let text = String::from_utf8(WORLD.to_vec()).unwrap();
    let r = api::card::import_lorebook(JsValue::from_str(&text), JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&r, "sourceFormat").as_string().unwrap(), "worldinfo_json");
    let book = get(&r, "lorebook");
    assert_eq!(js_sys::Array::from(&get(&book, "entries")).length(), 4);
    let st = api::card::export_lorebook(book.clone(), opts(&[("format", "sillytavern".into())])).unwrap();
    let parsed = js_sys::JSON::parse(&String::from_utf8(st.to_vec()).unwrap()).unwrap();
    assert_eq!(Object::keys(get(&parsed, "entries").unchecked_ref::<Object>()).length(), 4);
    let v3 = api::card::export_lorebook(book, opts(&[("format", "v3".into())])).unwrap();
    let parsed = js_sys::JSON::parse(&String::from_utf8(v3.to_vec()).unwrap()).unwrap();
    assert_eq!(get(&parsed, "spec").as_string().unwrap(), "lorebook_v3");
}

#[wasm_bindgen_test]
async fn async_import_reports_progress() {
    let seen = js_sys::Array::new();
    let seen2 = seen.clone();
    let cb = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(move |p: JsValue| {
        seen2.push(&get(&p, "phase"));
    });
    let f: &Function = cb.as_ref().unchecked_ref();
    let r = api::card::import_card_async(V2_PNG.to_vec(), opts(&[("onProgress", f.clone().into())])).await.unwrap();
    assert_eq!(get(&r, "card.data.name").as_string().unwrap(), "Borin Ironhand");
    assert_eq!(seen.length(), 3);
    assert_eq!(seen.get(2).as_string().unwrap(), "done");
}

#[wasm_bindgen_test]
fn big_integers_cross_the_browser_boundary_exactly() {
    let json = br#"{"spec":"chara_card_v3","spec_version":"3.0","data":{"name":"Big","extensions":{"min":-9223372036854775808,"small":7}}}"#;
    let r = api::card::import_card(json, JsValue::UNDEFINED).unwrap();
    let min = get(&r, "card.data.extensions.min");
    assert!(min.is_bigint(), "{min:?}");
    assert_eq!(js_sys::BigInt::from(min).to_string(10).unwrap(), "-9223372036854775808");
    assert_eq!(get(&r, "card.data.extensions.small").as_f64(), Some(7.0));
    let out = api::card::export_card(get(&r, "card"), opts(&[("format", "json".into())])).unwrap();
    let text = String::from_utf8(out.to_vec()).unwrap();
    assert!(text.contains("\"min\": -9223372036854775808"), "{text}");
}

#[wasm_bindgen_test]
fn card_data_of_the_wrong_type_and_unknown_options_are_refused() {
    let card = opts(&[("spec", "chara_card_v3".into()), ("data", "nope".into())]);
    let err = api::card::export_card(card, opts(&[("format", "png".into())])).unwrap_err();
    assert_eq!(get(&err, "code").as_string().unwrap(), "invalid_argument");
    assert!(get(&err, "message").as_string().unwrap().contains("card.data"));
    let r = api::card::import_card(V2_PNG, JsValue::UNDEFINED).unwrap();
    let err = api::card::export_card(get(&r, "card"), opts(&[("format", "png".into()), ("v2lorebook", false.into())]))
        .unwrap_err();
    assert!(get(&err, "message").as_string().unwrap().contains("options.v2lorebook"));
}
