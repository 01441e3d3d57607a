//! The transport seam: plain request/response values and the [`Transport`] trait.
//!
//! The browser implementation (fetch, `credentials: "include"`, `AbortSignal`) lives in
//! `crate::net`; native tests use a scripted fake. Client logic (CSRF, retries, rate limits)
//! is written once against this trait.

use crate::error::Result;

/// HTTP method (SillyTavern's API uses only these two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// No body.
    Empty,
    /// `application/json`.
    Json(serde_json::Value),
    /// `multipart/form-data`: text fields, then at most one file (SillyTavern reads every upload
    /// from the field named `avatar`).
    Multipart {
        /// Text fields in order.
        fields: Vec<(String, String)>,
        /// `(field name, file name, content type, bytes)`.
        file: Option<(String, String, String, Vec<u8>)>,
    },
}

impl Body {
    /// Encodes a [`Body::Multipart`] as `multipart/form-data` bytes: `(content type, body)`.
    ///
    /// Built here rather than by the browser's `FormData`, which rewrites every `\n` of a text
    /// field as `\r\n` (the form-encoding rules): a card's multi-line fields must reach the
    /// server byte for byte. The boundary is chosen so that it occurs in no part. `None` for
    /// other bodies.
    pub fn encode_multipart(&self) -> Option<(String, Vec<u8>)> {
        let Body::Multipart { fields, file } = self else { return None };
        let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        let mut n: u64 = 0x6e63_7476_0000_0001;
        let boundary = loop {
            let b = format!("----nextchat-tavern-{n:016x}");
            let clash = fields.iter().any(|(k, v)| contains(k.as_bytes(), b.as_bytes()) || contains(v.as_bytes(), b.as_bytes()))
                || file.as_ref().is_some_and(|(_, _, _, bytes)| contains(bytes, b.as_bytes()));
            if !clash {
                break b;
            }
            n = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        };
        // Names and file names are quoted; `"` and line breaks inside them are percent-escaped
        // (as browsers do), everything else is sent as it is.
        let quote = |s: &str| s.replace('"', "%22").replace('\r', "%0D").replace('\n', "%0A");
        let mut out = Vec::new();
        for (k, v) in fields {
            out.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n", quote(k)).as_bytes());
            out.extend_from_slice(v.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if let Some((field, name, mime, bytes)) = file {
            out.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                    quote(field),
                    quote(name),
                    if mime.is_empty() { "application/octet-stream" } else { mime.as_str() }
                )
                .as_bytes(),
            );
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        Some((format!("multipart/form-data; boundary={boundary}"), out))
    }
}

/// One HTTP request, relative to the client's base URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Path and query, starting with `/`.
    pub path: String,
    /// Extra headers (the transport adds `Content-Type` for JSON bodies).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Body,
    /// Timeout for the whole request in ms (0 = none).
    pub timeout_ms: u32,
}

impl Request {
    /// A JSON POST.
    pub fn post_json(path: impl Into<String>, body: serde_json::Value) -> Self {
        Request { method: Method::Post, path: path.into(), headers: Vec::new(), body: Body::Json(body), timeout_ms: 0 }
    }

    /// A GET.
    pub fn get(path: impl Into<String>) -> Self {
        Request { method: Method::Get, path: path.into(), headers: Vec::new(), body: Body::Empty, timeout_ms: 0 }
    }

    /// The value of a header set on this request (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A complete response.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers readable by the page (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header value (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// True for 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends requests. Implementations never panic; a network failure is an `Err` with code
/// `network` (or `cors_blocked` when the browser hid the response), an abort is `aborted`, an
/// expired timeout is `timeout`.
#[allow(async_fn_in_trait)] // single-threaded wasm: no Send bound wanted
pub trait Transport {
    /// Sends one request and reads the whole body.
    async fn send(&self, req: &Request) -> Result<Response>;
    /// Waits `ms` milliseconds (for rate limiting and backoff).
    async fn sleep(&self, ms: f64);
    /// Current time in Unix epoch milliseconds.
    fn now_ms(&self) -> f64;
    /// A uniform random number in `[0, 1)` (for jitter).
    fn random(&self) -> f64;
    /// True when calls through this transport can be cancelled by their caller (such calls are
    /// not shared with other callers, so one caller's abort never fails another's call).
    fn cancellable(&self) -> bool {
        false
    }
    /// The origin of the page making the requests (`location.origin`), when there is one: used
    /// to explain failures caused by the page and the server having different host names.
    fn page_origin(&self) -> Option<String> {
        None
    }
    /// The server's base URL, when known (for messages).
    fn server_url(&self) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_bodies_keep_every_byte_of_text_fields() {
        let body = Body::Multipart {
            fields: vec![("description".into(), "line 1\nline 2\r\nline 3\n".into()), ("na\"me".into(), "ü".into())],
            file: Some(("avatar".into(), "a\".png".into(), "image/png".into(), vec![0, 10, 13, 255])),
        };
        let (ct, bytes) = body.encode_multipart().unwrap();
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("name=\"description\"\r\n\r\nline 1\nline 2\r\nline 3\n\r\n--"), "{text}");
        assert!(text.contains("name=\"na%22me\"\r\n\r\nü\r\n"));
        assert!(text.contains("filename=\"a%22.png\"\r\nContent-Type: image/png\r\n\r\n"));
        assert!(bytes.windows(4).any(|w| w == [0, 10, 13, 255]));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
        assert_eq!(text.matches(boundary).count(), 4);
        assert_eq!(Body::Empty.encode_multipart(), None);
    }

    #[test]
    fn the_boundary_never_occurs_in_a_part() {
        let (ct, _) = Body::Multipart { fields: vec![], file: None }.encode_multipart().unwrap();
        let first = ct.strip_prefix("multipart/form-data; boundary=").unwrap().to_string();
        let body = Body::Multipart { fields: vec![("x".into(), format!("a{first}b"))], file: None };
        let (ct2, bytes) = body.encode_multipart().unwrap();
        let second = ct2.strip_prefix("multipart/form-data; boundary=").unwrap();
        assert_ne!(first, second);
        assert_eq!(String::from_utf8_lossy(&bytes).matches(second).count(), 2);
    }
}
