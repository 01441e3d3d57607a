//! Lenient readers for JSON values whose type varies between tools
//! (string-or-array, number-or-string, null-as-absent).
//!
//! Each helper returns `None` when the value cannot be read as the wanted type,
//! so the caller decides whether to fall back to a default and warn.

use serde_json::{Map, Number, Value};

/// A string, or a number/bool stringified. `null` → `None`.
pub fn string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A boolean, also from `"true"`/`"false"` strings and 0/1 numbers.
pub fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim() {
            "true" | "True" | "TRUE" | "1" => Some(true),
            "false" | "False" | "FALSE" | "0" | "" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        _ => None,
    }
}

/// A float, also from numeric strings.
pub fn float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// An integer, also from numeric strings and floats (rounded toward zero).
pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|u| u.min(i64::MAX as u64) as i64))
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f.clamp(i64::MIN as f64, i64::MAX as f64) as i64)),
        Value::String(s) => {
            let t = s.trim();
            t.parse::<i64>().ok().or_else(|| t.parse::<f64>().ok().filter(|f| f.is_finite()).map(|f| f as i64))
        }
        _ => None,
    }
}

/// A list of strings. An array keeps its string items (numbers stringified,
/// nulls and nested values skipped); a bare string becomes a one-item list
/// (`split_csv` = false) or is split on commas (`split_csv` = true).
/// Returns `(list, lossy)` where `lossy` tells that something was coerced.
pub fn string_list(v: &Value, split_csv: bool) -> Option<(Vec<String>, bool)> {
    match v {
        Value::Array(items) => {
            let mut lossy = false;
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                match it {
                    Value::String(s) => out.push(s.clone()),
                    Value::Number(_) | Value::Bool(_) => {
                        lossy = true;
                        out.push(string(it).unwrap_or_default())
                    }
                    _ => lossy = true,
                }
            }
            Some((out, lossy))
        }
        Value::String(s) if split_csv => Some((csv(s), true)),
        Value::String(s) => Some((vec![s.clone()], true)),
        Value::Null => Some((Vec::new(), false)),
        _ => None,
    }
}

/// Splits a comma-separated list, trimming items and dropping empties.
pub fn csv(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
}

/// An object (`null` and other types → `None`).
pub fn object(v: &Value) -> Option<&Map<String, Value>> {
    v.as_object()
}

/// A JSON number from a float, written as an integer when it is integral
/// (so `100` stays `100`, not `100.0`).
pub fn num_f64(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::Number(Number::from(f as i64))
    } else {
        Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)
    }
}

/// Like [`string`], but moves a `String` out of `v` instead of copying it (`v` is left
/// as an empty string then). `None` leaves `v` untouched.
pub fn take_string(v: &mut Value) -> Option<String> {
    match v {
        Value::String(s) => Some(std::mem::take(s)),
        other => string(other),
    }
}

/// Like [`string_list`] without CSV splitting, moving the strings out of an all-string
/// array instead of copying them. `None` leaves `v` untouched.
pub fn take_string_list(v: &mut Value) -> Option<(Vec<String>, bool)> {
    if let Value::Array(items) = v {
        if items.iter().all(Value::is_string) {
            let out = items.iter_mut().map(|x| take_string(x).unwrap_or_default()).collect();
            return Some((out, false));
        }
    }
    string_list(v, false)
}
