//! Byte-level decoding shared by all readers: lenient base64 (URL-safe alphabet,
//! missing padding, line breaks), UTF-8 with a lossy fallback, JSON with size and
//! nesting limits, zlib with a cap, and date parsing (seconds, milliseconds, ISO text).
//!
//! Decode order for a card chunk: keyword → base64 → bytes → UTF-8 → JSON. Never
//! decode base64 into a Latin-1 string first (that is what `atob` does, and it turns
//! every emoji into mojibake).

use std::borrow::Cow;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use serde_json::Value;

use crate::civil::days_from_civil;
use crate::card::limits::{Budget, Limits};
use crate::card::warning::Warnings;
use crate::error::{Error, ErrorCode};

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Standard base64 with padding (what we write).
pub fn b64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Lenient base64: ASCII whitespace and NULs are skipped, URL-safe `-_` map to
/// `+/`, `=` padding is optional. Returns `None` for any other byte.
pub fn b64_decode_lenient(text: &[u8]) -> Option<Vec<u8>> {
    // Fast path: clean standard base64.
    let trimmed = trim_ascii(text);
    if let Ok(v) = LENIENT.decode(trimmed) {
        return Some(v);
    }
    let mut clean = Vec::with_capacity(text.len());
    for &b in text {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => clean.push(b),
            b'-' => clean.push(b'+'),
            b'_' => clean.push(b'/'),
            b'=' | b' ' | b'\t' | b'\n' | b'\r' | 0 | 0x0b | 0x0c => {}
            _ => return None,
        }
    }
    if clean.len() % 4 == 1 {
        clean.pop(); // a dangling sextet carries no whole byte
    }
    LENIENT.decode(&clean).ok()
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|c| !c.is_ascii_whitespace() && *c != 0).unwrap_or(b.len());
    let e = b.iter().rposition(|c| !c.is_ascii_whitespace() && *c != 0).map_or(s, |i| i + 1);
    &b[s..e]
}

/// UTF-8 text from bytes: strips a BOM; invalid sequences become U+FFFD with a
/// `lossy_utf8` warning.
pub fn utf8<'a>(bytes: &'a [u8], what: &str, warnings: &mut Warnings) -> Cow<'a, str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            warnings.push("lossy_utf8", format!("{what} is not valid UTF-8; invalid bytes were replaced with U+FFFD"));
            String::from_utf8_lossy(bytes)
        }
    }
}

/// Checks the nesting depth of JSON text without parsing it (strings are skipped).
pub fn check_json_depth(text: &[u8], max: usize) -> Result<(), Error> {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    for &b in text {
        if in_str {
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(Error::new(
                        ErrorCode::BadJson,
                        format!("JSON nesting is deeper than the limit of {max}"),
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Parses JSON bytes into a value under the limits (size, depth), decoding UTF-8
/// leniently.
pub fn parse_json(bytes: &[u8], what: &str, limits: &Limits, warnings: &mut Warnings) -> Result<Value, Error> {
    if bytes.len() > limits.max_json_bytes {
        return Err(Error::new(
            ErrorCode::TooLarge,
            format!("{what} is {} bytes; the limit is {}", bytes.len(), limits.max_json_bytes),
        ));
    }
    check_json_depth(bytes, limits.max_json_depth)?;
    let text = utf8(bytes, what, warnings);
    serde_json::from_str::<Value>(&text).map_err(|e| Error::new(ErrorCode::BadJson, format!("{what}: {e}")))
}

/// Inflates a zlib stream (`zlib = true`) or raw deflate data, capped at
/// `min(per_item, budget)` bytes. Exceeding the cap is `too_large`; a broken
/// stream is `truncated`.
pub fn inflate(data: &[u8], zlib: bool, per_item: usize, budget: &mut Budget, what: &str) -> Result<Vec<u8>, Error> {
    use miniz_oxide::inflate::{self, TINFLStatus};
    let cap = budget.cap(per_item);
    let r = if zlib {
        inflate::decompress_to_vec_zlib_with_limit(data, cap)
    } else {
        inflate::decompress_to_vec_with_limit(data, cap)
    };
    match r {
        Ok(v) => {
            budget.spend(v.len());
            Ok(v)
        }
        Err(e) if e.status == TINFLStatus::HasMoreOutput => {
            Err(Error::new(ErrorCode::TooLarge, format!("{what} inflates past the limit of {cap} bytes")))
        }
        Err(e) => Err(Error::new(ErrorCode::Truncated, format!("{what}: compressed data is damaged ({:?})", e.status))),
    }
}

/// Parses an ISO-8601 date/time (`2024-01-02`, `2024-01-02T03:04:05.678Z`,
/// `…+02:00`) into unix seconds. Dates past 10^11 seconds (year 5138) are refused: card
/// readers take such numbers for milliseconds, so they could not round-trip.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    parse_iso8601_any(s).filter(|t| t.abs() <= 100_000_000_000)
}

fn parse_iso8601_any(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, mo, d) * 86400;
    if b.len() == 10 {
        return Some(secs);
    }
    if !(b[10] == b'T' || b[10] == b' ') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let (h, mi) = (num(11..13)?, num(14..16)?);
    let mut i = 16;
    let mut sec = 0;
    if b.len() >= 19 && b[16] == b':' {
        sec = num(17..19)?;
        i = 19;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    secs += h * 3600 + mi * 60 + sec;
    let rest = &s[i..];
    if rest.is_empty() || rest == "Z" || rest == "z" {
        return Some(secs);
    }
    let sign = match rest.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let r = rest[1..].replace(':', "");
    if r.len() != 4 || !r.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let off = r[0..2].parse::<i64>().ok()? * 3600 + r[2..4].parse::<i64>().ok()? * 60;
    Some(secs - sign * off)
}

/// Formats unix seconds as `YYYY-MM-DDTHH:MM:SS.000Z`.
pub fn format_iso8601(secs: i64) -> String {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (y, m, d) = crate::civil::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_lenient_variants() {
        assert_eq!(b64_decode_lenient(b"aGVsbG8=").unwrap(), b"hello");
        assert_eq!(b64_decode_lenient(b"aGVs\nbG8").unwrap(), b"hello");
        assert_eq!(b64_decode_lenient(b" aGVsbG8\0").unwrap(), b"hello");
        assert_eq!(b64_decode_lenient(b"-_-_").unwrap(), b64_decode_lenient(b"+/+/").unwrap());
        assert!(b64_decode_lenient(b"not base64!").is_none());
    }

    #[test]
    fn depth_limit() {
        assert!(check_json_depth(b"[[[]]]", 3).is_ok());
        assert_eq!(check_json_depth(b"[[[[]]]]", 3).unwrap_err().code(), ErrorCode::BadJson);
        assert!(check_json_depth(br#"["[[[[[[["]"#, 2).is_ok());
    }

    #[test]
    fn iso_dates() {
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso8601("2024-03-01T12:00:00.123Z"), Some(1709294400));
        assert_eq!(parse_iso8601("2024-03-01T14:00:00+02:00"), Some(1709294400));
        assert_eq!(parse_iso8601("2024-03-01"), Some(1709251200));
        assert_eq!(parse_iso8601("2023-5-12 @17h"), None);
        assert_eq!(format_iso8601(1709294400), "2024-03-01T12:00:00.000Z");
    }
}
