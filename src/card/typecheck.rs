//! Strict type check of a card object handed to a writer by a program (the JS
//! `exportCard`). Reading a card *file* is lenient (quirks are fixed and reported);
//! a program building a card object gets a clear `invalid_argument` instead, so that
//! `{spec, data: "nope"}` is not silently written as a nameless card. Unknown keys are
//! fine everywhere (they are kept); only the standard fields must have their types.

use serde_json::{Map, Value};

use crate::error::Error;

fn fail(path: &str, want: &str, got: &Value) -> Error {
    let got = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    Error::invalid_argument(format!("{path} must be {want}, not {got}"))
}

fn is_string_list(v: &Value) -> bool {
    v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
}

/// Checks the fields of `m` against `(key, check)` rules. `optional` keys may be null.
fn check_fields(m: &Map<String, Value>, path: &str, rules: &[(&str, Kind)]) -> Result<(), Error> {
    for (key, kind) in rules {
        let Some(v) = m.get(*key) else { continue };
        let p = format!("{path}.{key}");
        let ok = match kind {
            Kind::Str => v.is_string(),
            Kind::OptStr => v.is_string() || v.is_null(),
            Kind::StrList => is_string_list(v),
            Kind::OptStrList => v.is_null() || is_string_list(v),
            Kind::Obj => v.is_object(),
            Kind::OptNum => v.is_null() || v.is_number(),
            Kind::Num => v.is_number(),
            Kind::Bool => v.is_boolean(),
            Kind::NumOrStr => v.is_number() || v.is_string(),
            Kind::StrMap => v.is_null() || v.as_object().is_some_and(|o| o.values().all(Value::is_string)),
        };
        if !ok {
            return Err(fail(&p, kind.describe(), v));
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Kind {
    Str,
    OptStr,
    StrList,
    OptStrList,
    Obj,
    Num,
    OptNum,
    Bool,
    NumOrStr,
    StrMap,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Str => "a string",
            Kind::OptStr => "a string (or absent)",
            Kind::StrList => "an array of strings",
            Kind::OptStrList => "an array of strings (or absent)",
            Kind::Obj => "an object",
            Kind::Num => "a number",
            Kind::OptNum => "a number (or absent)",
            Kind::Bool => "a boolean",
            Kind::NumOrStr => "a number or a string",
            Kind::StrMap => "an object of strings (or absent)",
        }
    }
}

const DATA_RULES: &[(&str, Kind)] = &[
    ("name", Kind::Str),
    ("description", Kind::Str),
    ("personality", Kind::Str),
    ("scenario", Kind::Str),
    ("first_mes", Kind::Str),
    ("mes_example", Kind::Str),
    ("creator_notes", Kind::Str),
    ("system_prompt", Kind::Str),
    ("post_history_instructions", Kind::Str),
    ("alternate_greetings", Kind::StrList),
    ("tags", Kind::StrList),
    ("creator", Kind::Str),
    ("character_version", Kind::Str),
    ("extensions", Kind::Obj),
    ("group_only_greetings", Kind::StrList),
    ("nickname", Kind::OptStr),
    ("creator_notes_multilingual", Kind::StrMap),
    ("source", Kind::OptStrList),
    ("creation_date", Kind::OptNum),
    ("modification_date", Kind::OptNum),
];

const BOOK_RULES: &[(&str, Kind)] = &[
    ("name", Kind::Str),
    ("description", Kind::Str),
    ("scan_depth", Kind::OptNum),
    ("token_budget", Kind::OptNum),
    ("recursive_scanning", Kind::Bool),
    ("extensions", Kind::Obj),
];

const ENTRY_RULES: &[(&str, Kind)] = &[
    ("keys", Kind::StrList),
    ("content", Kind::Str),
    ("extensions", Kind::Obj),
    ("enabled", Kind::Bool),
    ("insertion_order", Kind::Num),
    ("case_sensitive", Kind::Bool),
    ("name", Kind::Str),
    ("priority", Kind::Num),
    ("id", Kind::NumOrStr),
    ("comment", Kind::Str),
    ("selective", Kind::Bool),
    ("secondary_keys", Kind::StrList),
    ("constant", Kind::Bool),
    ("position", Kind::Str),
    ("use_regex", Kind::Bool),
];

const ASSET_RULES: &[(&str, Kind)] =
    &[("type", Kind::Str), ("uri", Kind::Str), ("name", Kind::Str), ("ext", Kind::Str)];

fn check_data(m: &Map<String, Value>, path: &str) -> Result<(), Error> {
    check_fields(m, path, DATA_RULES)?;
    if let Some(b) = m.get("character_book").filter(|b| !b.is_null()) {
        let p = format!("{path}.character_book");
        let book = b.as_object().ok_or_else(|| fail(&p, "an object (or absent)", b))?;
        check_fields(book, &p, BOOK_RULES)?;
        if let Some(es) = book.get("entries") {
            let list = es.as_array().ok_or_else(|| fail(&format!("{p}.entries"), "an array", es))?;
            for (i, e) in list.iter().enumerate() {
                let ep = format!("{p}.entries[{i}]");
                let entry = e.as_object().ok_or_else(|| fail(&ep, "an object", e))?;
                check_fields(entry, &ep, ENTRY_RULES)?;
            }
        }
    }
    if let Some(a) = m.get("assets").filter(|a| !a.is_null()) {
        let p = format!("{path}.assets");
        let list = a.as_array().ok_or_else(|| fail(&p, "an array (or absent)", a))?;
        for (i, x) in list.iter().enumerate() {
            let ap = format!("{p}[{i}]");
            let asset = x.as_object().ok_or_else(|| fail(&ap, "an object", x))?;
            check_fields(asset, &ap, ASSET_RULES)?;
        }
    }
    Ok(())
}

/// Checks a card object (V1 flat, or V2/V3 `{spec, data}`) given by a program; `what`
/// names it in messages (e.g. `card`). Errors are `invalid_argument` naming the field.
pub fn check_card_value(v: &Value, what: &str) -> Result<(), Error> {
    let top = v.as_object().ok_or_else(|| fail(what, "an object", v))?;
    if let Some(s) = top.get("spec") {
        if !s.is_string() {
            return Err(fail(&format!("{what}.spec"), "a string", s));
        }
    }
    if let Some(s) = top.get("spec_version") {
        if !(s.is_string() || s.is_number()) {
            return Err(fail(&format!("{what}.spec_version"), "a string", s));
        }
    }
    let wrapped = matches!(top.get("spec").and_then(Value::as_str), Some("chara_card_v2" | "chara_card_v3"))
        || top.contains_key("data");
    if wrapped {
        let d = top.get("data").unwrap_or(&Value::Null);
        let data = d.as_object().ok_or_else(|| fail(&format!("{what}.data"), "an object", d))?;
        check_data(data, &format!("{what}.data"))
    } else {
        check_data(top, what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_must_be_an_object() {
        let e = check_card_value(&json!({"spec": "chara_card_v3", "data": "nope"}), "card").unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidArgument);
        assert!(e.message().contains("card.data must be an object"), "{}", e.message());
    }

    #[test]
    fn typed_fields_are_checked_and_unknown_fields_are_fine() {
        let ok = json!({"spec": "chara_card_v3", "data": {"name": "A", "tags": ["x"], "x_custom": [1, {"y": null}],
            "extensions": {"anything": 1}, "character_book": {"entries": [{"keys": ["k"], "content": "c", "zzz": 1}]}}});
        check_card_value(&ok, "card").unwrap();
        for (bad, field) in [
            (json!({"spec": "chara_card_v2", "data": {"name": 5}}), "card.data.name"),
            (json!({"spec": "chara_card_v2", "data": {"tags": "a,b"}}), "card.data.tags"),
            (json!({"spec": "chara_card_v2", "data": {"extensions": []}}), "card.data.extensions"),
            (json!({"data": {"character_book": {"entries": [{"keys": "k"}]}}}), "card.data.character_book.entries[0].keys"),
            (json!({"data": {"assets": [{"uri": 1}]}}), "card.data.assets[0].uri"),
            (json!({"name": "V1", "first_mes": ["x"]}), "card.first_mes"),
            (json!({"spec": 3, "data": {}}), "card.spec"),
        ] {
            let e = check_card_value(&bad, "card").unwrap_err();
            assert!(e.message().starts_with(&format!("{field} must be")), "{}", e.message());
        }
    }
}
