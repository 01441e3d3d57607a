//! The one error type of the crate.
//!
//! Every failure that reaches a caller is an [`Error`]: a stable machine-readable
//! [`ErrorCode`] plus a human message. The codes are plain strings in JS
//! (`err.code === "not_a_card"`), generated from the single list in
//! [`error_codes!`] below, so Rust, the JS error objects and the TypeScript
//! union type can never drift apart.
//!
//! This module is pure Rust (no web-sys); the conversion to a JS `Error`
//! lives in `api::error`.

use std::fmt;

/// Declares [`ErrorCode`] with its string form and a doc line per code,
/// and the TypeScript union of all codes.
macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])* $variant:ident => $code:literal, )+) => {
        /// Stable error codes. The string form (`as_str`) is part of the public
        /// JS API: never rename one, only add.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[doc = $doc])* $variant, )+
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )+ ];

            /// The stable string code, as seen from JS.
            pub const fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )+ }
            }

            /// Parses a string code back (for errors that crossed a boundary).
            pub fn from_code(s: &str) -> Option<ErrorCode> {
                match s { $( $code => Some(ErrorCode::$variant), )+ _ => None }
            }
        }

        /// TypeScript declaration of the code union, emitted into the `.d.ts`.
        pub const TS_ERROR_CODE_UNION: &str = concat!(
            "export type ErrorCode =", $( "\n  | \"", $code, "\"", )+ ";"
        );
    };
}

error_codes! {
    /// The caller passed an argument of the wrong shape or out of range.
    InvalidArgument => "invalid_argument",
    /// The input is not a character card (or lorebook) in any known format.
    NotACard => "not_a_card",
    /// The input ends before a structure it started is complete.
    Truncated => "truncated",
    /// Text that should be JSON (or YAML) does not parse.
    BadJson => "bad_json",
    /// A configured limit (input size, decompressed size, entry count, nesting) was exceeded.
    TooLarge => "too_large",
    /// A recognised container or version this build cannot read or write.
    UnsupportedFormat => "unsupported_format",
    /// The operation was cancelled through an `AbortSignal`.
    Aborted => "aborted",
    /// The operation did not finish in the allowed time.
    Timeout => "timeout",
    /// The network request failed before any HTTP response.
    Network => "network",
    /// The browser blocked a cross-origin request (CORS); the message says what to configure.
    CorsBlocked => "cors_blocked",
    /// The server rejected the credentials (HTTP 401).
    Unauthorized => "unauthorized",
    /// The server refused the request (HTTP 403, also CSRF rejections after a retry).
    Forbidden => "forbidden",
    /// The requested record or server resource does not exist.
    NotFound => "not_found",
    /// A save was refused because the stored copy changed meanwhile.
    IntegrityConflict => "integrity_conflict",
    /// Too many requests (HTTP 429, or our own limiter).
    RateLimited => "rate_limited",
    /// The server answered with an error status (5xx or unexpected 4xx).
    ServerError => "server_error",
    /// A storage backend (IndexedDB) failed.
    Storage => "storage",
    /// The browser refused a write because the storage quota is full.
    QuotaExceeded => "quota_exceeded",
    /// A schema upgrade is blocked by another open tab.
    Blocked => "blocked",
    /// Settings or records failed validation; the message lists every bad field.
    Validation => "validation",
    /// A bug in this library. Please report it.
    Internal => "internal",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with a stable [`ErrorCode`] and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
    retry_after_ms: Option<u64>,
}

impl Error {
    /// Builds an error from a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), retry_after_ms: None }
    }

    /// Attaches the server's `Retry-After` (in ms) to a rate-limit or server error.
    pub fn with_retry_after(mut self, ms: Option<f64>) -> Self {
        self.retry_after_ms = ms.filter(|v| v.is_finite() && *v >= 0.0).map(|v| v as u64);
        self
    }

    /// How long the server asked us to wait before retrying, if it said.
    pub fn retry_after_ms(&self) -> Option<f64> {
        self.retry_after_ms.map(|v| v as f64)
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Shorthand for [`ErrorCode::InvalidArgument`].
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidArgument, message)
    }
}

/// Edit distance, ASCII case and `_` ignored.
fn edit_distance(a: &str, b: &str) -> usize {
    let norm = |s: &str| -> Vec<u8> { s.bytes().filter(|c| *c != b'_').map(|c| c.to_ascii_lowercase()).collect() };
    let (a, b) = (norm(a), norm(b));
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest known name to `unknown` (edit distance, ignoring case and `_`, at most a third of
/// its length and at least 1), if any.
pub fn did_you_mean<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let limit = (unknown.len() / 3).max(1);
    known
        .iter()
        .map(|k| (edit_distance(unknown, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|x| x.1)
}

/// Checks that every key of an input object at `at` is one of `known`. The first that is not is
/// an `invalid_argument` error naming it (``unknown field `at.key` in within``), with the closest
/// known name as a hint, or the known names when none is close.
pub fn check_known_keys<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    known: &[&str],
    at: &str,
    within: Option<&str>,
) -> Result<()> {
    let Some(k) = keys.into_iter().find(|k| !known.contains(k)) else { return Ok(()) };
    let hint = match did_you_mean(k, known) {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => format!(" (known fields: {})", known.join(", ")),
    };
    let within = within.map(|w| format!(" in {w}")).unwrap_or_default();
    Err(Error::invalid_argument(format!("unknown field `{at}.{k}`{within}{hint}")))
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// The crate-wide result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn did_you_mean_finds_close_names_only() {
        assert_eq!(did_you_mean("lorebook", &["lorebooks", "chat"]), Some("lorebooks"));
        assert_eq!(did_you_mean("max_context", &["maxContext"]), Some("maxContext"));
        assert_eq!(did_you_mean("zzz", &["lorebooks", "chat"]), None);
    }

    #[test]
    fn unknown_keys_are_named_with_a_hint() {
        let known = ["format", "v2Lorebook"];
        assert!(check_known_keys(["format", "v2Lorebook"], &known, "options", None).is_ok());
        let e = check_known_keys(["format", "v2lorebook"], &known, "options", None).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument);
        assert_eq!(e.message(), "unknown field `options.v2lorebook` (did you mean `v2Lorebook`?)");
        let e = check_known_keys(["zzz"], &known, "lorebooks[0]", Some("buildPrompt request")).unwrap_err();
        assert_eq!(
            e.message(),
            "unknown field `lorebooks[0].zzz` in buildPrompt request (known fields: format, v2Lorebook)"
        );
    }

    #[test]
    fn codes_are_unique_snake_case_and_round_trip() {
        let mut seen = HashSet::new();
        for &code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s} is not snake_case");
            assert_eq!(ErrorCode::from_code(s), Some(code));
        }
        assert_eq!(ErrorCode::from_code("no_such_code"), None);
    }

    #[test]
    fn codes_named_by_the_card_fixtures_exist() {
        for s in ["not_a_card", "truncated", "bad_json", "too_large", "unsupported_format"] {
            assert!(ErrorCode::from_code(s).is_some(), "missing {s}");
        }
    }

    #[test]
    fn typescript_union_lists_every_code() {
        for &code in ErrorCode::ALL {
            assert!(TS_ERROR_CODE_UNION.contains(&format!("\"{}\"", code.as_str())));
        }
        assert!(TS_ERROR_CODE_UNION.starts_with("export type ErrorCode ="));
        assert!(TS_ERROR_CODE_UNION.ends_with(';'));
    }

    #[test]
    fn display_shows_code_and_message() {
        let e = Error::new(ErrorCode::TooLarge, "zTXt inflates past 16 MiB");
        assert_eq!(e.to_string(), "too_large: zTXt inflates past 16 MiB");
        assert_eq!(e.code(), ErrorCode::TooLarge);
        assert_eq!(e.message(), "zTXt inflates past 16 MiB");
    }
}
