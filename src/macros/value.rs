//! JavaScript-like value conversions used by variables (`Number(x)`, `String(x)`).
//!
//! SillyTavern stores chat and global variables as JSON values: strings as given,
//! numbers after arithmetic. These helpers reproduce the JavaScript conversions the
//! variable macros rely on, so `{{addvar}}` on `"10"` gives the number `15` and on
//! `"start-"` the string `"start-page"`.

use serde_json::Value;

/// JavaScript `Number(value)`.
pub fn to_number(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => str_to_number(s),
        Value::Array(a) => match a.len() {
            0 => 0.0,
            1 => to_number(&Value::String(to_js_string(&a[0]))),
            _ => f64::NAN,
        },
        Value::Object(_) => f64::NAN,
    }
}

fn is_js_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{FEFF}'
}

/// JavaScript `Number(string)`.
pub fn str_to_number(s: &str) -> f64 {
    let t = s.trim_matches(is_js_space);
    if t.is_empty() {
        return 0.0;
    }
    let (neg, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let radix_body = |prefix: &str, radix: u32| -> Option<f64> {
        let rest = body.strip_prefix(prefix).or_else(|| body.strip_prefix(&prefix.to_ascii_uppercase()))?;
        if rest.is_empty() || t.starts_with(['-', '+']) {
            return Some(f64::NAN);
        }
        let mut acc = 0f64;
        for c in rest.chars() {
            let d = c.to_digit(radix)?;
            acc = acc * radix as f64 + d as f64;
        }
        Some(acc)
    };
    for (p, r) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if body.len() >= 2 && body[..2].eq_ignore_ascii_case(p) {
            return radix_body(p, r).unwrap_or(f64::NAN);
        }
    }
    if body == "Infinity" {
        return if neg { f64::NEG_INFINITY } else { f64::INFINITY };
    }
    // Decimal literal: digits, optional fraction, optional exponent. Rust's parser
    // accepts "inf"/"nan" spellings that JS does not, so validate first.
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut digits = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return f64::NAN;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return f64::NAN;
        }
    }
    if i != bytes.len() {
        return f64::NAN;
    }
    match body.parse::<f64>() {
        Ok(x) => {
            if neg {
                -x
            } else {
                x
            }
        }
        Err(_) => f64::NAN,
    }
}

/// JavaScript `String(number)`.
pub fn number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if (1e-6..1e21).contains(&a) {
        if x.fract() == 0.0 && a < 9.007_199_254_740_992e15 {
            return format!("{}", x as i64);
        }
        return format!("{x}");
    }
    // Exponent form: Rust gives "1e21" / "1.5e-7"; JS writes "1e+21".
    let s = format!("{x:e}");
    match s.split_once('e') {
        Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
        _ => s,
    }
}

/// JavaScript `String(value)` for a stored variable (objects and arrays as JSON).
pub fn to_js_string(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_to_string(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A number as stored by SillyTavern (integers stay integers in JSON; NaN/∞ → null).
pub fn number_value(x: f64) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 {
        return Value::from(x as i64);
    }
    serde_json::Number::from_f64(x).map(Value::Number).unwrap_or(Value::Null)
}

/// JavaScript truthiness of a stored value.
pub fn js_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0 && !x.is_nan()),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// `{{addvar}}` semantics: append to a JSON array, add numbers, or concatenate strings.
/// Returns the new stored value.
pub fn add(current: Option<&Value>, value: &str) -> Value {
    // `getVariable(name) || 0`
    let cur = match current {
        Some(v) if js_truthy(v) => v.clone(),
        _ => Value::from(0),
    };
    if let Value::String(s) = &cur {
        if let Ok(Value::Array(mut arr)) = serde_json::from_str::<Value>(s) {
            arr.push(Value::String(value.to_string()));
            return Value::String(Value::Array(arr).to_string());
        }
    }
    let inc = str_to_number(value);
    let cur_n = to_number(&cur);
    if inc.is_nan() || cur_n.is_nan() {
        let base = if js_truthy(&cur) { to_js_string(&cur) } else { String::new() };
        return Value::String(base + value);
    }
    number_value(cur_n + inc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn js_number_parsing() {
        assert_eq!(str_to_number(" 12 "), 12.0);
        assert_eq!(str_to_number(""), 0.0);
        assert_eq!(str_to_number("0x10"), 16.0);
        assert_eq!(str_to_number("1e3"), 1000.0);
        assert_eq!(str_to_number("-2.5"), -2.5);
        assert_eq!(str_to_number(".5"), 0.5);
        assert!(str_to_number("12px").is_nan());
        assert!(str_to_number("inf").is_nan());
        assert!(str_to_number("-0x10").is_nan());
        assert_eq!(str_to_number("-Infinity"), f64::NEG_INFINITY);
    }

    #[test]
    fn js_number_printing() {
        assert_eq!(number_to_string(15.0), "15");
        assert_eq!(number_to_string(-1.0), "-1");
        assert_eq!(number_to_string(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(number_to_string(1e21), "1e+21");
        assert_eq!(number_to_string(1.5e-7), "1.5e-7");
        assert_eq!(number_to_string(f64::NAN), "NaN");
    }

    #[test]
    fn addvar_semantics() {
        assert_eq!(add(Some(&json!("10")), "5"), json!(15));
        assert_eq!(add(Some(&json!("start-")), "page"), json!("start-page"));
        assert_eq!(add(None, "page"), json!("page"));
        assert_eq!(add(None, "1"), json!(1));
        assert_eq!(add(Some(&json!("[1]")), "x"), json!("[1,\"x\"]"));
        assert_eq!(add(Some(&json!(0.5)), "0.25"), json!(0.75));
    }
}
