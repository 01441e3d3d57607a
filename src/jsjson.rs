//! JSON data crossing between JS and Rust (wasm32 only). Cards and lorebooks cross as JSON
//! text: the browser's `JSON.stringify` / `JSON.parse` are far faster than building a large
//! object value by value.
//!
//! Integers that a JS number cannot hold exactly (beyond ±(2^53 − 1)) are `BigInt`s on the JS
//! side, in both directions, so an unknown extension field such as a 64-bit id survives
//! import → JS → store → export unchanged. The rules for finding and restoring them are in
//! `card::bigint`; this module only walks JS values.

use js_sys::{Reflect, JSON};
use wasm_bindgen::prelude::*;

use std::rc::Rc;

use crate::card::bigint::{big_integers, may_hold_big_integers, restore_marked_integers, PathSeg};
use crate::store::{CardJson, Character, ExternalText};
use crate::{Error, ErrorCode};

/// Marks a `BigInt` inside the JSON text while crossing from JS; not a string a card holds.
const BIGINT_MARK: &str = "\u{0}nextchat-tavern:bigint:";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = TextEncoder)]
    type Utf8Encoder;
    #[wasm_bindgen(constructor, js_class = "TextEncoder")]
    fn new() -> Utf8Encoder;
    #[wasm_bindgen(method, js_class = "TextEncoder")]
    fn encode(this: &Utf8Encoder, text: &JsValue) -> js_sys::Uint8Array;
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn parse_js_string(text: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = RegExp)]
    type JsRegExp;
    #[wasm_bindgen(constructor, js_class = "RegExp")]
    fn new(source: &str) -> JsRegExp;
    #[wasm_bindgen(method, js_class = "RegExp")]
    fn test(this: &JsRegExp, text: &JsValue) -> bool;
}

/// Card JSON text kept as a JS string (see [`CardJson::from_external`]): a card that goes from
/// JS to IndexedDB and back is never copied into wasm.
pub struct JsText(JsValue);

impl ExternalText for JsText {
    fn load(&self) -> String {
        js_string(&self.0).unwrap_or_default()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl JsText {
    /// A JS string that holds JSON text known to be an object (e.g. stored by this package).
    pub fn card(text: JsValue) -> CardJson {
        CardJson::from_external(Rc::new(JsText(text)))
    }
}

/// A card's JSON text as a JS string (the string itself when it still is one).
pub fn card_text_js(card: &CardJson) -> JsValue {
    match card.external().and_then(|e| e.as_any().downcast_ref::<JsText>()) {
        Some(t) => t.0.clone(),
        None => JsValue::from_str(&card.text()),
    }
}

/// A card as a JS object (parsed by the browser; integers a JS number cannot hold as `BigInt`s).
pub fn card_to_js(card: &CardJson) -> Result<JsValue, Error> {
    match card.external().and_then(|e| e.as_any().downcast_ref::<JsText>()) {
        Some(t) => from_json_js(&t.0),
        None => from_json_text(&card.text()),
    }
}

/// JSON text held in a JS string as a JS value, without copying it into wasm unless it may hold
/// integers a JS number cannot (see [`from_json_text`]).
pub fn from_json_js(text: &JsValue) -> Result<JsValue, Error> {
    if !JsRegExp::new("[0-9]{16}").test(text) {
        return parse_js_string(text).map_err(|_| Error::new(ErrorCode::Internal, "could not hand JSON to JS"));
    }
    from_json_text(&js_string(text).ok_or_else(|| Error::new(ErrorCode::Internal, "the JSON text is not a string"))?)
}

/// A card object as a new character whose card text stays a JS string ([`JsText`]): only the
/// fields that name the character are read here. `None` when the card holds a `BigInt`
/// (`JSON.stringify` refuses it: the caller takes the way through Rust).
pub fn character_from_object(card: &JsValue) -> Option<crate::Result<Character>> {
    let text = JSON::stringify(card).ok()?;
    let get = |o: &JsValue, k: &str| Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    let pick = |o: &JsValue| {
        let p = js_sys::Object::new();
        for k in ["name", "tags"] {
            let _ = Reflect::set(&p, &JsValue::from_str(k), &get(o, k));
        }
        p
    };
    // What `Character::from_card_text` reads of a card, and nothing more.
    let head = pick(card);
    let data = get(card, "data");
    if !data.is_undefined() {
        let data: JsValue = if data.is_object() && !js_sys::Array::is_array(&data) { pick(&data).into() } else { JsValue::NULL };
        let _ = Reflect::set(&head, &JsValue::from_str("data"), &data);
    }
    let head = js_string(&JSON::stringify(&head).ok()?.into())?;
    Some(Character::from_card_elsewhere(head, Rc::new(JsText(text.into()))))
}

/// A JS string as a Rust `String` through `TextEncoder` (native), instead of the glue's
/// string passing, which copies ASCII text one character at a time in JS: for several MB of
/// JSON that is most of the cost.
fn js_string(s: &JsValue) -> Option<String> {
    if !s.is_string() {
        return None;
    }
    String::from_utf8(Utf8Encoder::new().encode(s).to_vec()).ok()
}

/// A JS value as JSON text (`what` names it in errors). `BigInt`s become exact JSON integers.
pub fn to_json_text(v: &JsValue, what: &str) -> Result<String, Error> {
    let not_json = || Error::invalid_argument(format!("{what} is not JSON data (a cycle or a function?)"));
    // Plain JSON first (fast, and the common case); a BigInt makes it throw.
    if let Ok(text) = JSON::stringify(v) {
        return js_string(&text).ok_or_else(not_json);
    }
    let replacer = Closure::<dyn FnMut(JsValue, JsValue) -> JsValue>::new(|_k: JsValue, v: JsValue| {
        match v.dyn_ref::<js_sys::BigInt>() {
            Some(b) => JsValue::from_str(&format!("{BIGINT_MARK}{}", String::from(b.to_string(10).unwrap_or_default()))),
            None => v,
        }
    });
    let text = JSON::stringify_with_replacer(v, replacer.as_ref()).map_err(|_| not_json())?;
    let text = js_string(&text).ok_or_else(not_json)?;
    let mut value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::invalid_argument(format!("{what}: {e}")))?;
    restore_marked_integers(&mut value, BIGINT_MARK, what)?;
    serde_json::to_string(&value).map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))
}

/// A JS object as a JSON value (`what` names it in errors; it must be an object).
pub fn to_json_value(v: &JsValue, what: &str) -> Result<serde_json::Value, Error> {
    if !v.is_object() || js_sys::Array::is_array(v) {
        return Err(Error::invalid_argument(format!("{what} must be an object")));
    }
    serde_json::from_str(&to_json_text(v, what)?).map_err(|e| Error::invalid_argument(format!("{what}: {e}")))
}

fn seg_js(seg: &PathSeg) -> JsValue {
    match seg {
        PathSeg::Key(k) => JsValue::from_str(k),
        PathSeg::Index(i) => JsValue::from(*i as u32),
    }
}

/// JSON text as a plain JS value through `JSON.parse`. JSON-friendly: only integers that a JS
/// number cannot hold exactly become `BigInt`s.
pub fn from_json_text(text: &str) -> Result<JsValue, Error> {
    let internal = || Error::new(ErrorCode::Internal, "could not hand JSON to JS");
    let parsed = JSON::parse(text).map_err(|_| internal())?;
    if !may_hold_big_integers(text) {
        return Ok(parsed);
    }
    // Rare path: read the text again to find where they are.
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
    for (path, n) in big_integers(&v) {
        let big: JsValue = match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => js_sys::BigInt::from(i).into(),
            (None, Some(u)) => js_sys::BigInt::from(u).into(),
            _ => continue,
        };
        let Some((last, parents)) = path.split_last() else { continue };
        let mut cur = parsed.clone();
        for seg in parents {
            cur = Reflect::get(&cur, &seg_js(seg)).map_err(|_| internal())?;
        }
        Reflect::set(&cur, &seg_js(last), &big).map_err(|_| internal())?;
    }
    Ok(parsed)
}

/// A serialisable value as a plain JS value through JSON text (see [`from_json_text`]).
pub fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, Error> {
    let text = serde_json::to_string(value).map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
    from_json_text(&text)
}
