//! Errors as JS sees them: a real `Error` (so stack traces and `instanceof Error`
//! work) with `name === "TavernError"`, a stable string `code` and a human `message`.

use wasm_bindgen::prelude::*;

use crate::error::{Error, ErrorCode, TS_ERROR_CODE_UNION};

#[wasm_bindgen(typescript_custom_section)]
const TS_ERROR_CODES: &'static str = TS_ERROR_CODE_UNION;

#[wasm_bindgen(typescript_custom_section)]
const TS_TAVERN_ERROR: &'static str = r#"
/**
 * Every error this package throws or rejects with.
 * Branch on `code` (stable), show `message` (human-readable, may change).
 */
export interface TavernError extends Error {
  name: "TavernError";
  code: ErrorCode;
  message: string;
}
"#;

/// Builds the JS error object for a crate error.
pub fn to_js(err: &Error) -> JsValue {
    let js = js_sys::Error::new(err.message());
    js.set_name("TavernError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&js, &JsValue::from_str("code"), &JsValue::from_str(err.code().as_str()));
    js.into()
}

impl From<Error> for JsValue {
    fn from(err: Error) -> JsValue {
        to_js(&err)
    }
}

/// Serialises a value to a plain JS object (maps as objects, not `Map`s).
pub fn to_js_value<T: serde::Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    value
        .serialize(&ser)
        .map_err(|e| Error::new(ErrorCode::Internal, format!("could not convert result to JS: {e}")).into())
}

/// Reads a JS value into a Rust type; a shape mismatch is an `invalid_argument` error.
pub fn from_js_value<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|e| Error::invalid_argument(format!("{what}: {e}")).into())
}

#[wasm_bindgen(typescript_custom_section)]
const TS_IS_TAVERN_ERROR: &'static str = r#"
/** True when `value` is an error thrown by this package (narrows it to `TavernError`). */
export function isTavernError(value: unknown): value is TavernError;
"#;

/// True when `value` is an error thrown by this package.
#[wasm_bindgen(js_name = isTavernError, skip_typescript)]
pub fn is_tavern_error(value: &JsValue) -> bool {
    let Some(err) = value.dyn_ref::<js_sys::Error>() else { return false };
    let code = js_sys::Reflect::get(err, &JsValue::from_str("code")).ok().and_then(|c| c.as_string());
    String::from(err.name()) == "TavernError" && code.is_some_and(|c| ErrorCode::from_code(&c).is_some())
}

/// Every error code this version can produce.
#[wasm_bindgen(js_name = errorCodes, unchecked_return_type = "ErrorCode[]")]
pub fn error_codes() -> Vec<String> {
    ErrorCode::ALL.iter().map(|c| c.as_str().to_string()).collect()
}
