//! Turning HTTP outcomes into typed errors.
//!
//! SillyTavern reports failures in several shapes (see the server notes): real status codes,
//! `200 {"error": true}` / `200 {"error": {"message": …}}` bodies, an HTML `403` page for CSRF
//! rejections, and `400 {"error":"integrity"}` for a chat save that lost the integrity check.

use serde_json::Value;

use crate::error::{Error, ErrorCode};

/// Longest body excerpt carried in an error message.
const BODY_EXCERPT: usize = 300;

/// True when a response is SillyTavern's CSRF rejection (refresh the token and retry once).
pub fn is_csrf_rejection(status: u16, body: &str) -> bool {
    status == 403 && body.contains("Invalid CSRF token")
}

/// The error for a non-2xx response.
pub fn error_for_status(status: u16, body: &str) -> Error {
    let detail = body_message(body);
    let with = |code, what: &str| Error::new(code, format!("{what} (HTTP {status}){}", suffix(&detail)));
    match status {
        400 if json_error_str(body).as_deref() == Some("integrity") => Error::new(
            ErrorCode::IntegrityConflict,
            "the chat was changed elsewhere since it was loaded (integrity check failed); reload and merge, or save with force",
        ),
        401 => with(ErrorCode::Unauthorized, "the server rejected the credentials"),
        403 if is_csrf_rejection(status, body) => with(ErrorCode::Forbidden, "the server rejected the CSRF token"),
        403 => with(ErrorCode::Forbidden, "the server refused the request"),
        404 => with(ErrorCode::NotFound, "not found"),
        408 | 504 => with(ErrorCode::Timeout, "the server timed out"),
        429 => with(ErrorCode::RateLimited, "too many requests"),
        _ => with(ErrorCode::ServerError, "the server answered with an error"),
    }
}

/// SillyTavern's "soft" failures: a 2xx JSON body with a truthy top-level `error`.
/// Returns `None` for anything else (including non-JSON bodies).
pub fn soft_error(body: &str) -> Option<Error> {
    let v: Value = serde_json::from_str(body.trim_start()).ok()?;
    let err = v.as_object()?.get("error")?;
    let truthy = match err {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => !s.is_empty(),
        _ => true,
    };
    if !truthy {
        return None;
    }
    let quota = v.get("quota_error").and_then(Value::as_bool) == Some(true);
    let msg = body_message(body);
    let code = if quota { ErrorCode::RateLimited } else { ErrorCode::ServerError };
    Some(Error::new(code, if msg.is_empty() { "the server reported an error".to_string() } else { msg }))
}

/// Explains a fetch that failed with no response (the browser's `TypeError: Failed to fetch`)
/// for a page at `page_origin` talking to `server_url`: what to put in SillyTavern's config.
pub fn cors_help(page_origin: &str, server_url: &str) -> Error {
    let host = |u: &str| {
        let rest = u.split_once("://").map_or(u, |(_, r)| r);
        rest.split(['/', ':']).next().unwrap_or("").to_ascii_lowercase()
    };
    let (ph, sh) = (host(page_origin), host(server_url));
    let loopback = |h: &str| h == "localhost" || h == "127.0.0.1" || h == "[::1]";
    let mut msg = format!(
        "could not reach {server_url} from {page_origin}. If SillyTavern is running, allow this page in its config.yaml: \
         cors: {{ enabled: true, origin: [\"{page_origin}\"], methods: [GET, POST, OPTIONS], \
         allowedHeaders: [Content-Type, X-CSRF-Token], credentials: true }} and restart it."
    );
    if ph != sh && loopback(&ph) && loopback(&sh) {
        msg.push_str(&format!(
            " The page uses host \"{ph}\" but the server \"{sh}\": use the same host name for both, \
             or the session cookie is not sent and every request fails."
        ));
    }
    Error::new(ErrorCode::CorsBlocked, msg)
}

fn json_error_str(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    v.get("error")?.as_str().map(str::to_string)
}

/// A short human message from a body: a JSON `message`/`error.message`/`error` string, else the
/// text with HTML tags stripped, clipped.
fn body_message(body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        let m = v
            .get("message")
            .and_then(Value::as_str)
            .or_else(|| v.get("error").and_then(|e| e.get("message")).and_then(Value::as_str))
            .or_else(|| v.get("error").and_then(Value::as_str));
        if let Some(m) = m {
            return clip(m);
        }
        return clip(&v.to_string());
    }
    let mut text = String::with_capacity(body.len().min(4096));
    let mut in_tag = false;
    for c in body.chars().take(20_000) {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    clip(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn clip(s: &str) -> String {
    if s.chars().count() <= BODY_EXCERPT {
        return s.to_string();
    }
    let mut out: String = s.chars().take(BODY_EXCERPT).collect();
    out.push('…');
    out
}

fn suffix(detail: &str) -> String {
    if detail.is_empty() { String::new() } else { format!(": {detail}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_statuses_to_stable_codes() {
        let cases = [
            (401, "", ErrorCode::Unauthorized),
            (403, "Forbidden", ErrorCode::Forbidden),
            (404, "Not found", ErrorCode::NotFound),
            (429, "", ErrorCode::RateLimited),
            (500, "", ErrorCode::ServerError),
            (502, r#"{"error":{"message":"Connection refused: x","code":"ECONNREFUSED"}}"#, ErrorCode::ServerError),
            (504, "", ErrorCode::Timeout),
            (400, r#"{"error":"integrity"}"#, ErrorCode::IntegrityConflict),
            (400, "Is not a valid world info file", ErrorCode::ServerError),
        ];
        for (status, body, code) in cases {
            assert_eq!(error_for_status(status, body).code(), code, "{status} {body}");
        }
        let e = error_for_status(502, r#"{"error":{"message":"Connection refused: x","code":"ECONNREFUSED"}}"#);
        assert_eq!(e.message(), "the server answered with an error (HTTP 502): Connection refused: x");
    }

    #[test]
    fn recognises_the_csrf_rejection_page() {
        let body = "<!DOCTYPE html><html><body><pre>ForbiddenError: Invalid CSRF token.<br> &nbsp;at csrf</pre></body></html>";
        assert!(is_csrf_rejection(403, body));
        assert!(!is_csrf_rejection(403, "Forbidden"));
        assert!(!is_csrf_rejection(400, body));
        let e = error_for_status(403, body);
        assert_eq!(e.code(), ErrorCode::Forbidden);
        assert!(e.message().contains("CSRF"), "{}", e.message());
        assert!(!e.message().contains('<'), "HTML is stripped: {}", e.message());
    }

    #[test]
    fn finds_soft_errors_in_2xx_bodies() {
        assert_eq!(soft_error(r#"{"error":true}"#).unwrap().code(), ErrorCode::ServerError);
        let e = soft_error(r#"{"error":{"message":"Too Many Requests"},"quota_error":true}"#).unwrap();
        assert_eq!(e.code(), ErrorCode::RateLimited);
        assert_eq!(e.message(), "Too Many Requests");
        assert!(soft_error(r#"{"error":false,"ok":true}"#).is_none());
        assert!(soft_error(r#"{"ok":true}"#).is_none());
        assert!(soft_error(r#"[{"error":true}]"#).is_none(), "arrays are data, not errors");
        assert!(soft_error("Alice.png").is_none());
    }

    #[test]
    fn cors_help_names_the_config_and_the_host_mismatch() {
        let e = cors_help("http://localhost:8080", "http://127.0.0.1:8000");
        assert_eq!(e.code(), ErrorCode::CorsBlocked);
        assert!(e.message().contains("origin: [\"http://localhost:8080\"]"));
        assert!(e.message().contains("same host name"));
        let same = cors_help("http://127.0.0.1:8080", "http://127.0.0.1:8000");
        assert!(!same.message().contains("same host name"));
    }

    #[test]
    fn long_bodies_are_clipped() {
        let body = "x".repeat(5000);
        let e = error_for_status(500, &body);
        assert!(e.message().chars().count() < 400);
    }
}
