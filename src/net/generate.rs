//! The browser [`Runner`]: streams completions over fetch (SillyTavern proxy or a direct
//! OpenAI-compatible endpoint) with an idle timeout, or calls the host app's JS callback.

use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStreamDefaultReader};

use super::fetch::FetchTransport;
use crate::client::generate::{http_request, parse_completion_json, Attempt, Backend, GenerateRequest, Runner, StopReason, StreamAccumulator};
use crate::client::http::{Request, Transport};
use crate::client::st::StClient;
use crate::client::status::{error_for_status, is_csrf_rejection, soft_error};
use crate::error::{Error, ErrorCode, Result};

/// Runs generations in the browser.
pub struct BrowserRunner {
    /// The SillyTavern server for the SillyTavern backends (shares its CSRF token and limiter).
    pub st: Option<Rc<StClient<FetchTransport>>>,
    /// The host callback for [`Backend::Host`].
    pub host: Option<Function>,
    /// End a stream after this long without bytes (SillyTavern never closes the stream when its
    /// upstream drops). Also the wait for the response headers.
    pub idle_timeout_ms: u32,
    /// Timeout of a non-streamed request.
    pub request_timeout_ms: u32,
    /// The caller's abort signal.
    pub signal: Option<AbortSignal>,
}

fn js_msg(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}

impl BrowserRunner {
    fn aborted(&self) -> bool {
        self.signal.as_ref().is_some_and(AbortSignal::aborted)
    }

    async fn run_http(&self, backend: &Backend, req: &GenerateRequest, on_token: &mut dyn FnMut(&str)) -> Result<Attempt> {
        let mut request: Request = http_request(backend, req).ok_or_else(|| Error::new(ErrorCode::Internal, "not an HTTP backend"))?;
        request.timeout_ms = if req.stream { self.idle_timeout_ms } else { self.request_timeout_ms };
        let (transport, st) = match backend {
            Backend::OpenAi { .. } => (FetchTransport::for_openai_backend().with_signal(self.signal.clone()), None),
            _ => {
                let st = self.st.as_ref().ok_or_else(|| Error::invalid_argument("a SillyTavern backend needs a SillyTavern client"))?;
                (st.transport().with_signal(self.signal.clone()), Some(st))
            }
        };
        let start = transport.now_ms();
        let mut csrf_retry = true;
        let (resp, mut guard) = loop {
            if let Some(st) = st {
                st.throttle_generation().await;
                st.authorize(&mut request).await?;
            }
            let (resp, guard) = transport.start(&request).await?;
            if resp.ok() {
                break (resp, guard);
            }
            let full = transport.finish(resp, &guard).await?;
            let body = full.text();
            if is_csrf_rejection(full.status, &body) {
                if let Some(st) = st {
                    if !csrf_retry {
                        return Err(st.csrf_rejected(full.status, &body));
                    }
                    csrf_retry = false;
                    st.invalidate_csrf();
                    continue;
                }
            }
            let retry_after = full.header("retry-after").and_then(|v| crate::client::retry::parse_retry_after(v, js_sys::Date::now()));
            return Err(error_for_status(full.status, &body).with_retry_after(retry_after));
        };
        if !req.stream {
            let full = transport.finish(resp, &guard).await?;
            let (text, finish_reason) = parse_completion_json(&full.text())?;
            on_token(&text);
            return Ok(Attempt { text, reasoning: String::new(), stop_reason: StopReason::Done, finish_reason, first_token_ms: None });
        }
        let body = resp.body().ok_or_else(|| Error::new(ErrorCode::ServerError, "the stream has no body"))?;
        let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
        let mut acc = StreamAccumulator::new();
        let mut first_token_ms = None;
        // A JSON error answer instead of SSE (kept small): checked when the stream ends empty.
        let mut head: Vec<u8> = Vec::new();
        let stop = loop {
            let chunk = JsFuture::from(reader.read()).await;
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = e;
                    break if self.aborted() {
                        StopReason::Aborted
                    } else if guard.timed_out() {
                        StopReason::IdleTimeout
                    } else {
                        StopReason::Dropped
                    };
                }
            };
            if Reflect::get(&chunk, &JsValue::from_str("done")).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
                acc.finish();
                break if acc.done { StopReason::Done } else { StopReason::Dropped };
            }
            guard.restart_timer();
            let bytes = Reflect::get(&chunk, &JsValue::from_str("value")).map(|v| Uint8Array::new(&v).to_vec()).unwrap_or_default();
            if head.len() < 65_536 {
                head.extend_from_slice(&bytes[..bytes.len().min(65_536 - head.len())]);
            }
            for t in acc.feed(&bytes) {
                if first_token_ms.is_none() {
                    first_token_ms = Some(transport.now_ms() - start);
                }
                on_token(&t);
            }
            if acc.done {
                // `[DONE]` seen: do not wait for the server to close the connection.
                let _ = reader.cancel();
                break StopReason::Done;
            }
        };
        if let Some(e) = acc.error.take() {
            if acc.text.is_empty() {
                return Err(Error::new(ErrorCode::ServerError, e));
            }
        }
        if acc.text.is_empty() && acc.reasoning.is_empty() {
            if stop == StopReason::Aborted {
                return Err(Error::new(ErrorCode::Aborted, "the generation was aborted"));
            }
            if let Some(e) = soft_error(&String::from_utf8_lossy(&head)) {
                return Err(e);
            }
            if stop != StopReason::Done {
                let why = if stop == StopReason::IdleTimeout { "no data within the idle timeout" } else { "the connection dropped" };
                return Err(Error::new(if stop == StopReason::IdleTimeout { ErrorCode::Timeout } else { ErrorCode::Network }, format!("{why} before any text arrived")));
            }
        }
        Ok(Attempt { text: acc.text, reasoning: acc.reasoning, stop_reason: stop, finish_reason: acc.finish_reason, first_token_ms })
    }

    /// Calls the host callback `(request, { signal, onToken }) => Promise<string> | AsyncIterable<string>`.
    async fn run_host(&self, req: &GenerateRequest, on_token: &mut dyn FnMut(&str)) -> Result<Attempt> {
        let f = self.host.as_ref().ok_or_else(|| Error::invalid_argument("a host backend needs a host callback"))?;
        let start = js_sys::Date::now();
        let js_req = crate::api::error::to_js_value(req).map_err(|_| Error::new(ErrorCode::Internal, "request conversion"))?;
        let opts = Object::new();
        if let Some(s) = &self.signal {
            let _ = Reflect::set(&opts, &JsValue::from_str("signal"), s);
        }
        let host_err = |e: JsValue| {
            let code = Reflect::get(&e, &JsValue::from_str("name")).ok().and_then(|n| n.as_string());
            if code.as_deref() == Some("AbortError") {
                Error::new(ErrorCode::Aborted, "the generation was aborted")
            } else {
                Error::new(ErrorCode::ServerError, format!("host LLM callback failed: {}", js_msg(&e)))
            }
        };
        let ret = f.call2(&JsValue::NULL, &js_req, &opts).map_err(host_err)?;
        let iter_fn = Reflect::get(&ret, &js_sys::Symbol::async_iterator()).ok().filter(|v| v.is_function());
        let mut text = String::new();
        let mut first = None;
        if let Some(iter_fn) = iter_fn {
            let iter = iter_fn.unchecked_ref::<Function>().call0(&ret).map_err(host_err)?;
            let next: Function = Reflect::get(&iter, &JsValue::from_str("next")).map_err(host_err)?.dyn_into().map_err(|_| Error::new(ErrorCode::ServerError, "host iterator has no next()"))?;
            loop {
                if self.aborted() {
                    if let Ok(r) = Reflect::get(&iter, &JsValue::from_str("return")) {
                        if let Some(r) = r.dyn_ref::<Function>() {
                            let _ = r.call0(&iter);
                        }
                    }
                    return if text.is_empty() {
                        Err(Error::new(ErrorCode::Aborted, "the generation was aborted"))
                    } else {
                        Ok(Attempt { text, reasoning: String::new(), stop_reason: StopReason::Aborted, finish_reason: None, first_token_ms: first })
                    };
                }
                let step = match JsFuture::from(Promise::resolve(&next.call0(&iter).map_err(host_err)?)).await {
                    Ok(s) => s,
                    Err(e) if !text.is_empty() => {
                        let _ = e;
                        return Ok(Attempt { text, reasoning: String::new(), stop_reason: StopReason::Dropped, finish_reason: None, first_token_ms: first });
                    }
                    Err(e) => return Err(host_err(e)),
                };
                if Reflect::get(&step, &JsValue::from_str("done")).ok().and_then(|d| d.as_bool()).unwrap_or(false) {
                    break;
                }
                if let Some(t) = Reflect::get(&step, &JsValue::from_str("value")).ok().and_then(|v| v.as_string()) {
                    first.get_or_insert(js_sys::Date::now() - start);
                    text.push_str(&t);
                    on_token(&t);
                }
            }
        } else {
            let v = JsFuture::from(Promise::resolve(&ret)).await.map_err(host_err)?;
            let t = v.as_string().ok_or_else(|| Error::new(ErrorCode::ServerError, "host LLM callback must resolve to a string"))?;
            on_token(&t);
            text = t;
        }
        Ok(Attempt { text, reasoning: String::new(), stop_reason: StopReason::Done, finish_reason: None, first_token_ms: first })
    }
}

impl Runner for BrowserRunner {
    async fn run(&self, backend: &Backend, req: &GenerateRequest, on_token: &mut dyn FnMut(&str)) -> Result<Attempt> {
        if self.aborted() {
            return Err(Error::new(ErrorCode::Aborted, "the generation was aborted"));
        }
        match backend {
            Backend::Host { .. } => self.run_host(req, on_token).await,
            _ => self.run_http(backend, req, on_token).await,
        }
    }

    async fn sleep(&self, ms: f64) {
        FetchTransport::new("").sleep(ms).await
    }

    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }
}
