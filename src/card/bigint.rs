//! Integers beyond what a JS number holds exactly (±(2^53 − 1)) in card and lorebook
//! JSON. Unknown fields must survive a trip through JavaScript, and
//! `-9223372036854775808` read as a JS number comes back as `-9223372036854776000`.
//! The JS layer hands such integers over as `BigInt`s; this module finds them in a
//! value (to turn them into `BigInt`s) and turns marked strings back into exact
//! integers (the JS side marks each `BigInt` while it writes JSON text).

use serde_json::{Number, Value};

use crate::error::Error;

/// Largest integer a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE: u64 = (1 << 53) - 1;

/// One step into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// Cheap pre-check on JSON text: a run of 16 or more digits is needed for an integer
/// beyond 2^53 (false positives, e.g. long digit runs inside strings, are fine).
pub fn may_hold_big_integers(text: &str) -> bool {
    let mut run = 0;
    for b in text.bytes() {
        if b.is_ascii_digit() {
            run += 1;
            if run >= 16 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

fn is_big(n: &Number) -> bool {
    match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => i.unsigned_abs() > MAX_SAFE,
        (None, Some(u)) => u > MAX_SAFE,
        _ => false,
    }
}

/// Every integer in `v` that a JS number cannot hold exactly, with its path.
pub fn big_integers(v: &Value) -> Vec<(Vec<PathSeg>, Number)> {
    fn walk(v: &Value, path: &mut Vec<PathSeg>, out: &mut Vec<(Vec<PathSeg>, Number)>) {
        match v {
            Value::Number(n) if is_big(n) => out.push((path.clone(), n.clone())),
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    path.push(PathSeg::Index(i));
                    walk(x, path, out);
                    path.pop();
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    path.push(PathSeg::Key(k.clone()));
                    walk(x, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// Replaces every string `"{mark}<decimal>"` in `v` by that integer. An integer beyond
/// the 64-bit range is an `invalid_argument` error (`what` names the value).
pub fn restore_marked_integers(v: &mut Value, mark: &str, what: &str) -> Result<(), Error> {
    match v {
        Value::String(s) => {
            if let Some(digits) = s.strip_prefix(mark) {
                let n = digits
                    .parse::<i64>()
                    .map(Number::from)
                    .or_else(|_| digits.parse::<u64>().map(Number::from))
                    .map_err(|_| {
                        Error::invalid_argument(format!(
                            "{what} holds the BigInt {digits}, which is outside the 64-bit integer range"
                        ))
                    })?;
                *v = Value::Number(n);
            }
        }
        Value::Array(a) => {
            for x in a {
                restore_marked_integers(x, mark, what)?;
            }
        }
        Value::Object(m) => {
            for (_, x) in m.iter_mut() {
                restore_marked_integers(x, mark, what)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_only_integers_a_js_number_cannot_hold() {
        let v = json!({"a": [1, 9007199254740991i64, {"b": -9223372036854775808i64}], "c": 18446744073709551615u64,
            "d": 1.5e300, "e": -9007199254740992i64});
        let found = big_integers(&v);
        let paths: Vec<Vec<PathSeg>> = found.iter().map(|x| x.0.clone()).collect();
        use PathSeg::*;
        assert_eq!(
            paths,
            vec![
                vec![Key("a".into()), Index(2), Key("b".into())],
                vec![Key("c".into())],
                vec![Key("e".into())]
            ]
        );
        assert!(may_hold_big_integers(&v.to_string()));
        assert!(!may_hold_big_integers(r#"{"a": 9007199254740}"#));
    }

    #[test]
    fn marked_strings_become_exact_integers() {
        let m = "\u{0}mark:";
        let mut v = json!({"x": [format!("{m}-9223372036854775808")], "y": format!("{m}18446744073709551615"), "z": "plain"});
        restore_marked_integers(&mut v, m, "card").unwrap();
        assert_eq!(v.to_string(), r#"{"x":[-9223372036854775808],"y":18446744073709551615,"z":"plain"}"#);
        let mut too_big = json!([format!("{m}99999999999999999999999")]);
        let e = restore_marked_integers(&mut too_big, m, "card").unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidArgument);
    }
}
