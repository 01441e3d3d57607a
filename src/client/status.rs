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

/// What kind of server a request went to (decides the advice in failure messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// A SillyTavern server (cookies, CSRF, its `config.yaml`).
    SillyTavern,
    /// A direct OpenAI-compatible endpoint (Ollama, LM Studio, llama.cpp, vLLM, a cloud API…).
    OpenAiCompatible,
}

/// `scheme://host[:port]` of an absolute URL, lower-cased; `None` for a relative one.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    if host_port.is_empty() {
        return None;
    }
    Some(format!("{}://{}", scheme.to_ascii_lowercase(), host_port.to_ascii_lowercase()))
}

/// The host name of a URL or origin (no port), lower-cased.
pub fn host_of(url: &str) -> String {
    let origin = origin_of(url).unwrap_or_default();
    let rest = origin.split_once("://").map_or("", |(_, r)| r);
    if let Some(v6) = rest.strip_prefix('[') {
        return format!("[{}]", v6.split(']').next().unwrap_or(""));
    }
    rest.split(':').next().unwrap_or("").to_string()
}

/// The advice when the page and the server have different host names: the browser treats
/// them as different sites and does not keep the server's session cookie.
fn host_advice(page_origin: &str, server_url: &str) -> Option<String> {
    let (ph, sh) = (host_of(page_origin), host_of(server_url));
    (!ph.is_empty() && !sh.is_empty() && ph != sh).then(|| {
        format!(
            "The page is on host \"{ph}\" but the server on \"{sh}\": the browser treats them as different sites and \
             does not keep the server's session cookie, so every request is refused. Open the page and the server \
             under the same host name (both \"{sh}\" or both \"{ph}\")."
        )
    })
}

/// A server that could not be reached at all (down, wrong port, host name that does not resolve).
pub fn network_error(server_url: &str, detail: &str) -> Error {
    let detail = if detail.is_empty() { String::new() } else { format!(" ({detail})") };
    Error::new(
        ErrorCode::Network,
        format!("could not reach {server_url}: no server answered there — is it running, and are the host name and port right?{detail}"),
    )
}

/// Explains a fetch that failed with no response (the browser's `TypeError: Failed to fetch`)
/// although the server at `server_url` is up: the browser refused the answer (CORS). The advice
/// depends on the kind of server; a page on another host name is told about cookies too.
pub fn cors_help(kind: ServerKind, page_origin: &str, server_url: &str) -> Error {
    let mut msg = match kind {
        ServerKind::SillyTavern => format!(
            "the browser blocked the answer of {server_url} to this page ({page_origin}). If that is SillyTavern, allow \
             this page in its config.yaml: cors: {{ enabled: true, origin: [\"{page_origin}\"], methods: [GET, POST, OPTIONS], \
             allowedHeaders: [Content-Type, X-CSRF-Token], credentials: true }} and restart it."
        ),
        ServerKind::OpenAiCompatible => format!(
            "the browser blocked the answer of {server_url} to this page ({page_origin}): the server is up but does not \
             allow requests from other sites (CORS). Allow the origin {page_origin} in that server's settings — it must \
             answer preflight OPTIONS requests and allow the Authorization and Content-Type headers (Ollama: set \
             OLLAMA_ORIGINS; LM Studio: enable CORS in its server settings) — or send the requests through \
             SillyTavern's proxy (a sillyTavernChat backend with source \"custom\" and this URL)."
        ),
    };
    if kind == ServerKind::SillyTavern {
        if let Some(advice) = host_advice(page_origin, server_url) {
            msg.push(' ');
            msg.push_str(&advice);
        }
    }
    Error::new(ErrorCode::CorsBlocked, msg)
}

/// The error for a CSRF rejection that persists with a freshly fetched token. When the page and
/// the server have different host names, that is the cause (the session cookie the token belongs
/// to is not kept): the error is `cors_blocked` with that explanation. Else it is the server's
/// `forbidden`.
pub fn csrf_rejected(page_origin: Option<&str>, server_url: Option<&str>, status: u16, body: &str) -> Error {
    if let (Some(page), Some(server)) = (page_origin, server_url) {
        if let Some(advice) = host_advice(page, server) {
            return Error::new(
                ErrorCode::CorsBlocked,
                format!("{server} refused a freshly fetched CSRF token from this page ({page}). {advice}"),
            );
        }
    }
    error_for_status(status, body)
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
        let e = cors_help(ServerKind::SillyTavern, "http://localhost:8080", "http://127.0.0.1:8000");
        assert_eq!(e.code(), ErrorCode::CorsBlocked);
        assert!(e.message().contains("origin: [\"http://localhost:8080\"]"));
        assert!(e.message().contains("same host name"));
        let same = cors_help(ServerKind::SillyTavern, "http://127.0.0.1:8080", "http://127.0.0.1:8000");
        assert!(!same.message().contains("same host name"));
    }

    #[test]
    fn cors_help_for_a_direct_backend_names_its_url_and_not_sillytavern_config() {
        let url = "http://127.0.0.1:9999/v1/chat/completions";
        let e = cors_help(ServerKind::OpenAiCompatible, "http://127.0.0.1:8080", url);
        assert_eq!(e.code(), ErrorCode::CorsBlocked);
        assert!(e.message().contains(url), "{}", e.message());
        assert!(!e.message().contains("config.yaml"), "{}", e.message());
        assert!(e.message().contains("OLLAMA_ORIGINS"));
        let n = network_error(url, "Failed to fetch");
        assert_eq!(n.code(), ErrorCode::Network);
        assert!(n.message().starts_with(&format!("could not reach {url}:")), "{}", n.message());
    }

    #[test]
    fn origins_and_hosts() {
        assert_eq!(origin_of("http://127.0.0.1:8124/v1/chat/completions").as_deref(), Some("http://127.0.0.1:8124"));
        assert_eq!(origin_of("HTTPS://User:pw@Example.COM/x?y").as_deref(), Some("https://example.com"));
        assert_eq!(origin_of("/v1/chat"), None);
        assert_eq!(origin_of(""), None);
        assert_eq!(host_of("http://localhost:8080"), "localhost");
        assert_eq!(host_of("http://[::1]:8000/"), "[::1]");
    }

    #[test]
    fn a_persistent_csrf_rejection_across_host_names_explains_the_cookie() {
        let body = "<pre>ForbiddenError: Invalid CSRF token.</pre>";
        let e = csrf_rejected(Some("http://localhost:8080"), Some("http://127.0.0.1:8123"), 403, body);
        assert_eq!(e.code(), ErrorCode::CorsBlocked);
        assert!(e.message().contains("\"localhost\"") && e.message().contains("\"127.0.0.1\""), "{}", e.message());
        assert!(e.message().contains("same host name") && e.message().contains("cookie"));
        assert!(!e.message().contains("refresh"), "{}", e.message());
        let same = csrf_rejected(Some("http://127.0.0.1:8080"), Some("http://127.0.0.1:8123"), 403, body);
        assert_eq!(same.code(), ErrorCode::Forbidden);
        assert_eq!(csrf_rejected(None, None, 403, body).code(), ErrorCode::Forbidden);
    }

    #[test]
    fn long_bodies_are_clipped() {
        let body = "x".repeat(5000);
        let e = error_for_status(500, &body);
        assert!(e.message().chars().count() < 400);
    }
}
