//! `fetch()`-based transport: `credentials: "include"` on every call (SillyTavern's session
//! cookie carries the CSRF token), a per-request timeout, an optional caller `AbortSignal`, and
//! failures classified — including telling a CORS block apart from a server that is down.

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Headers, RequestCredentials, RequestInit, RequestMode};

use crate::client::http::{Body, Method, Request, Response, Transport};
use crate::client::status::{cors_help, network_error, origin_of, ServerKind};
use crate::error::{Error, ErrorCode, Result};

/// Fetch transport for one base URL.
#[derive(Clone)]
pub struct FetchTransport {
    base_url: String,
    signal: Option<AbortSignal>,
    /// Send cookies (SillyTavern needs them; a direct OpenAI-compatible endpoint answering
    /// `Access-Control-Allow-Origin: *` must not get them, or the browser rejects the answer).
    with_credentials: bool,
    /// What kind of server answers (decides the advice in failure messages).
    kind: ServerKind,
}

impl FetchTransport {
    /// `base_url` like `http://127.0.0.1:8000` (a trailing `/` is dropped).
    pub fn new(base_url: &str) -> Self {
        FetchTransport { base_url: base_url.trim_end_matches('/').to_string(), signal: None, with_credentials: true, kind: ServerKind::SillyTavern }
    }

    /// A transport that sends no cookies (for third-party endpoints).
    pub fn without_credentials(mut self) -> Self {
        self.with_credentials = false;
        self
    }

    /// A transport for a direct OpenAI-compatible endpoint: no cookies, and failures explained
    /// for that kind of server (request paths are absolute URLs).
    pub fn for_openai_backend() -> Self {
        FetchTransport { kind: ServerKind::OpenAiCompatible, ..FetchTransport::new("").without_credentials() }
    }

    /// The same transport observing a caller's `AbortSignal`.
    pub fn with_signal(&self, signal: Option<AbortSignal>) -> Self {
        FetchTransport { signal, ..self.clone() }
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// True when the caller's signal has fired.
    pub fn aborted_by_caller(&self) -> bool {
        self.signal.as_ref().is_some_and(AbortSignal::aborted)
    }
}

fn global_fn(name: &str) -> Result<Function> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or_else(|| Error::new(ErrorCode::Internal, format!("no global {name}() in this environment")))
}

fn js_err(context: &str, e: JsValue) -> Error {
    let msg = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    Error::new(ErrorCode::Internal, format!("{context}: {msg}"))
}

/// Calls `setTimeout(cb, ms)`; returns the timer id.
fn set_timeout(cb: &Function, ms: f64) -> Result<JsValue> {
    global_fn("setTimeout")?.call2(&JsValue::NULL, cb, &JsValue::from_f64(ms)).map_err(|e| js_err("setTimeout", e))
}

fn clear_timeout(id: &JsValue) {
    if let Ok(f) = global_fn("clearTimeout") {
        let _ = f.call1(&JsValue::NULL, id);
    }
}

/// A page's origin (`location.origin`), or "this page".
fn page_origin() -> String {
    Reflect::get(&js_sys::global(), &JsValue::from_str("location"))
        .and_then(|l| Reflect::get(&l, &JsValue::from_str("origin")))
        .ok()
        .and_then(|o| o.as_string())
        .unwrap_or_else(|| "this page".into())
}

fn build_body(body: &Body, headers: &Headers) -> Result<Option<JsValue>> {
    Ok(match body {
        Body::Empty => None,
        Body::Json(v) => {
            headers.set("Content-Type", "application/json").map_err(|e| js_err("headers", e))?;
            Some(JsValue::from_str(&v.to_string()))
        }
        // Encoded here, not by `FormData` (which turns `\n` into `\r\n` in text fields): the
        // server gets every byte as given.
        Body::Multipart { .. } => match body.encode_multipart() {
            Some((content_type, bytes)) => {
                headers.set("Content-Type", &content_type).map_err(|e| js_err("headers", e))?;
                Some(Uint8Array::from(bytes.as_slice()).into())
            }
            None => None,
        },
    })
}

/// Awaits a promise; on rejection runs `on_err`.
async fn await_js(p: Promise) -> std::result::Result<JsValue, JsValue> {
    JsFuture::from(p).await
}

impl FetchTransport {
    /// Sends `req`; `Ok` carries the fetch `Response` object once headers arrived, with the
    /// controller that aborts it and the timer to clear.
    pub async fn start(&self, req: &Request) -> Result<(web_sys::Response, Guard)> {
        if self.aborted_by_caller() {
            return Err(Error::new(ErrorCode::Aborted, "the request was aborted"));
        }
        let url = format!("{}{}", self.base_url, req.path);
        let headers = Headers::new().map_err(|e| js_err("headers", e))?;
        for (k, v) in &req.headers {
            headers.set(k, v).map_err(|e| js_err("headers", e))?;
        }
        let init = RequestInit::new();
        init.set_method(match req.method {
            Method::Get => "GET",
            Method::Post => "POST",
        });
        init.set_credentials(if self.with_credentials { RequestCredentials::Include } else { RequestCredentials::Omit });
        init.set_mode(RequestMode::Cors);
        if let Some(b) = build_body(&req.body, &headers)? {
            init.set_body(&b);
        }
        init.set_headers(&headers);
        let mut guard = Guard::new(self.signal.clone(), req.timeout_ms)?;
        guard.url = url.clone();
        init.set_signal(Some(&guard.controller.signal()));

        let fetch = global_fn("fetch")?;
        let promise: Promise = fetch
            .call2(&JsValue::NULL, &JsValue::from_str(&url), &init)
            .map_err(|e| js_err("fetch", e))?
            .unchecked_into();
        match await_js(promise).await {
            Ok(r) => Ok((r.unchecked_into(), guard)),
            Err(e) => Err(self.classify_failure(&guard, e).await),
        }
    }

    /// Classifies a rejected fetch or body read: aborted, timeout, CORS block or network.
    pub async fn classify_failure(&self, guard: &Guard, e: JsValue) -> Error {
        if self.aborted_by_caller() {
            return Error::new(ErrorCode::Aborted, "the request was aborted");
        }
        if guard.timed_out() {
            let shown = if self.base_url.is_empty() { guard.url.as_str() } else { self.base_url.as_str() };
            return Error::new(ErrorCode::Timeout, format!("no answer from {shown} within {} ms", guard.timeout_ms));
        }
        // `TypeError: Failed to fetch` hides whether the server is down or CORS blocked the
        // answer, so the server that was asked (never the page's own) is probed with `no-cors`
        // requests, whose opaque answers prove only that it is up. SillyTavern's
        // `Cross-Origin-Resource-Policy: same-origin` (helmet, on every response) makes even
        // those fail, but a request line longer than Node's 16 KB header limit is answered `431`
        // by the HTTP parser itself, before any middleware adds that header. A server that drops
        // such a line is asked once more with a short one.
        let page = page_origin();
        let origin = origin_of(&guard.url).unwrap_or_else(|| page.clone());
        let probe = |url: String| async move {
            let init = RequestInit::new();
            init.set_mode(RequestMode::NoCors);
            init.set_credentials(RequestCredentials::Omit);
            let fetch = global_fn("fetch").ok()?;
            let p: Promise = fetch.call2(&JsValue::NULL, &JsValue::from_str(&url), &init).ok()?.unchecked_into();
            await_js(p).await.ok()
        };
        let up = probe(format!("{origin}/?probe={}", "x".repeat(20_000))).await.is_some()
            || probe(format!("{origin}/")).await.is_some();
        let shown = if self.base_url.is_empty() { guard.url.as_str() } else { self.base_url.as_str() };
        if up {
            return cors_help(self.kind, &page, shown);
        }
        network_error(shown, &js_err("fetch", e).message().replace("fetch: ", ""))
    }

    /// Reads a whole response.
    pub async fn finish(&self, resp: web_sys::Response, guard: &Guard) -> Result<Response> {
        let status = resp.status();
        let headers = read_headers(&resp.headers());
        let buf = match resp.array_buffer() {
            Ok(p) => await_js(p).await,
            Err(e) => Err(e),
        };
        let body = match buf {
            Ok(b) => Uint8Array::new(&b).to_vec(),
            Err(e) => return Err(self.classify_failure(guard, e).await),
        };
        Ok(Response { status, headers, body })
    }
}

/// Lower-cased header pairs readable by the page.
pub fn read_headers(h: &Headers) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(Some(iter)) = js_sys::try_iter(h) {
        for pair in iter.flatten() {
            let pair: Array = pair.unchecked_into();
            if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                out.push((k.to_ascii_lowercase(), v));
            }
        }
    }
    out
}

/// Owns the `AbortController` of one request: aborts it on timeout or when the caller's signal
/// fires, and cleans its timer and listener up when dropped.
pub struct Guard {
    controller: AbortController,
    timer: Option<JsValue>,
    _on_timeout: Option<wasm_bindgen::closure::Closure<dyn FnMut()>>,
    forward: Option<(AbortSignal, wasm_bindgen::closure::Closure<dyn FnMut()>)>,
    timed_out: std::rc::Rc<std::cell::Cell<bool>>,
    timeout_ms: u32,
    /// The request's full URL (for probing and messages).
    url: String,
}

impl Guard {
    fn new(signal: Option<AbortSignal>, timeout_ms: u32) -> Result<Self> {
        use wasm_bindgen::closure::Closure;
        let controller = AbortController::new().map_err(|e| js_err("AbortController", e))?;
        let timed_out = std::rc::Rc::new(std::cell::Cell::new(false));
        let (timer, on_timeout) = if timeout_ms > 0 {
            let c = controller.clone();
            let flag = timed_out.clone();
            let cb = Closure::<dyn FnMut()>::new(move || {
                flag.set(true);
                c.abort();
            });
            let id = set_timeout(cb.as_ref().unchecked_ref(), timeout_ms as f64)?;
            (Some(id), Some(cb))
        } else {
            (None, None)
        };
        let forward = signal.map(|s| {
            let c = controller.clone();
            let cb = Closure::<dyn FnMut()>::new(move || c.abort());
            let _ = s.add_event_listener_with_callback("abort", cb.as_ref().unchecked_ref());
            (s, cb)
        });
        Ok(Guard { controller, timer, _on_timeout: on_timeout, forward, timed_out, timeout_ms, url: String::new() })
    }

    /// True when the timer (not the caller) aborted the request.
    pub fn timed_out(&self) -> bool {
        self.timed_out.get()
    }

    /// Restarts the timeout (used as an idle timer while streaming).
    pub fn restart_timer(&mut self) {
        if let (Some(id), Some(cb)) = (&self.timer, &self._on_timeout) {
            clear_timeout(id);
            self.timer = set_timeout(cb.as_ref().unchecked_ref(), self.timeout_ms as f64).ok();
        }
    }

    /// Aborts the request now.
    pub fn abort(&self) {
        self.controller.abort();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(id) = &self.timer {
            clear_timeout(id);
        }
        if let Some((s, cb)) = &self.forward {
            let _ = s.remove_event_listener_with_callback("abort", cb.as_ref().unchecked_ref());
        }
    }
}

impl Transport for FetchTransport {
    async fn send(&self, req: &Request) -> Result<Response> {
        let (resp, guard) = self.start(req).await?;
        self.finish(resp, &guard).await
    }

    async fn sleep(&self, ms: f64) {
        let p = Promise::new(&mut |resolve, _| {
            let _ = set_timeout(&resolve, ms.max(0.0));
        });
        let _ = JsFuture::from(p).await;
    }

    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    fn cancellable(&self) -> bool {
        self.signal.is_some()
    }

    fn page_origin(&self) -> Option<String> {
        Reflect::get(&js_sys::global(), &JsValue::from_str("location"))
            .and_then(|l| Reflect::get(&l, &JsValue::from_str("origin")))
            .ok()
            .and_then(|o| o.as_string())
            .filter(|o| o != "null")
    }

    fn server_url(&self) -> Option<String> {
        Some(self.base_url.clone()).filter(|u| !u.is_empty())
    }
}
