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
}
