//! The exported API in a real browser (headless Chromium via wasm-bindgen-test-runner).
#![cfg(target_arch = "wasm32")]

use nextchat_tavern::api;
use nextchat_tavern::{Error, ErrorCode};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap()
}

#[wasm_bindgen_test]
fn version_matches_the_crate() {
    assert_eq!(api::version(), env!("CARGO_PKG_VERSION"));
}

#[wasm_bindgen_test]
fn build_info_is_a_plain_camel_case_object() {
    let info = api::build_info().unwrap();
    assert_eq!(get(&info, "version").as_string().unwrap(), env!("CARGO_PKG_VERSION"));
    assert_eq!(get(&info, "name").as_string().unwrap(), "nextchat-tavern");
    assert_eq!(get(&info, "targetArch").as_string().unwrap(), "wasm32");
    assert!(get(&info, "target_arch").is_undefined());
    // A plain object, not a Map: JSON.stringify sees the fields.
    let json = String::from(js_sys::JSON::stringify(&info).unwrap());
    assert!(json.contains("\"version\""), "{json}");
}

#[wasm_bindgen_test]
fn errors_become_js_errors_with_a_stable_code() {
    let js: JsValue = Error::new(ErrorCode::NotACard, "no chara or ccv3 chunk").into();
    let err = js.dyn_ref::<js_sys::Error>().expect("a real JS Error");
    assert_eq!(String::from(err.name()), "TavernError");
    assert_eq!(String::from(err.message()), "no chara or ccv3 chunk");
    assert_eq!(get(&js, "code").as_string().unwrap(), "not_a_card");
    assert!(api::error::is_tavern_error(&js));
    // Plain errors and non-errors are not ours.
    assert!(!api::error::is_tavern_error(&js_sys::Error::new("x").into()));
    assert!(!api::error::is_tavern_error(&JsValue::from_str("not_a_card")));
}

#[wasm_bindgen_test]
fn error_codes_lists_every_code() {
    let codes = api::error::error_codes();
    assert_eq!(codes.len(), ErrorCode::ALL.len());
    assert!(codes.iter().any(|c| c == "too_large"));
}

#[wasm_bindgen_test]
fn bad_js_input_is_an_invalid_argument_error() {
    let r: Result<u32, JsValue> = api::error::from_js_value(JsValue::from_str("seven"), "count");
    let js = r.unwrap_err();
    assert_eq!(get(&js, "code").as_string().unwrap(), "invalid_argument");
    assert!(String::from(js.dyn_ref::<js_sys::Error>().unwrap().message()).starts_with("count:"));
}
