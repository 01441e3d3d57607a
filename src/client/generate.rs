//! Generation over several backends behind one interface, with fallback.
//!
//! * [`Backend`] describes where a request goes: SillyTavern's chat-completions or
//!   text-completions proxy, a direct OpenAI-compatible endpoint, or the host app's own LLM
//!   (a JS callback — how NextChat passes its `llm.chat`).
//! * [`http_request`] builds the HTTP request for the three HTTP backends.
//! * [`StreamAccumulator`] turns streamed bytes into text, reasoning and a finish reason, and
//!   knows whether the stream ended properly.
//! * [`generate_with_fallback`] tries backends in order behind per-backend circuit breakers,
//!   retrying transient failures that happen before the first token, and reports every switch.
//!
//! A stream that stops without its end marker (dropped connection, idle timeout) is not an
//! error: the text so far is returned with `incomplete: true`, so nothing the user saw is lost.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::breaker::{BreakerPolicy, CircuitBreaker};
use super::http::{Method, Request};
use super::retry::{is_retryable, RetryPolicy};
use super::sse::{decode_completion_event, SseParser, StreamItem};
use crate::error::{Error, ErrorCode, Result};

/// One chat message (OpenAI shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// Text.
    pub content: String,
    /// Optional speaker name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateRequest {
    /// Chat messages (chat-completion backends).
    #[serde(default)]
    pub messages: Vec<ChatMessage>,
    /// A text prompt (text-completion backends). When absent there, messages are flattened.
    #[serde(default)]
    pub prompt: Option<String>,
    /// Model name; a backend's own `model` wins when set.
    #[serde(default)]
    pub model: Option<String>,
    /// Sampling temperature.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Maximum new tokens.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Stop sequences.
    #[serde(default)]
    pub stop: Vec<String>,
    /// Stream tokens (default true).
    #[serde(default = "yes")]
    pub stream: bool,
    /// Extra body fields passed through unchanged (e.g. `top_p`, `seed`).
    #[serde(default)]
    pub extra: Map<String, Value>,
}

fn yes() -> bool {
    true
}

/// Where a generation goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Backend {
    /// SillyTavern's `/api/backends/chat-completions/generate` proxy.
    SillyTavernChat {
        /// `chat_completion_source`, e.g. `custom`, `openai`, `openrouter`.
        source: String,
        /// For the `custom` source: the upstream base URL (`…/v1`).
        #[serde(default)]
        custom_url: Option<String>,
        /// Model override.
        #[serde(default)]
        model: Option<String>,
    },
    /// SillyTavern's `/api/backends/text-completions/generate` proxy.
    SillyTavernText {
        /// `api_type`, e.g. `generic`, `koboldcpp`, `ollama`.
        api_type: String,
        /// The upstream server URL.
        api_server: String,
        /// Model override.
        #[serde(default)]
        model: Option<String>,
    },
    /// An OpenAI-compatible endpoint called directly from the browser.
    OpenAi {
        /// Base URL including `/v1`.
        base_url: String,
        /// Bearer key (kept in memory only; never logged).
        #[serde(default)]
        api_key: Option<String>,
        /// The name of a key kept in the store's secrets, used when `api_key` is not given
        /// (see [`resolve_api_keys`]).
        #[serde(default)]
        api_key_name: Option<String>,
        /// Model override.
        #[serde(default)]
        model: Option<String>,
    },
    /// The host application's own LLM client (a JS callback).
    Host {
        /// A label for reports.
        #[serde(default)]
        name: Option<String>,
    },
}

impl Backend {
    /// A short label for reports and logs (never includes keys).
    pub fn label(&self) -> String {
        match self {
            Backend::SillyTavernChat { source, .. } => format!("sillytavern-chat:{source}"),
            Backend::SillyTavernText { api_type, .. } => format!("sillytavern-text:{api_type}"),
            Backend::OpenAi { base_url, .. } => format!("openai:{base_url}"),
            Backend::Host { name } => format!("host:{}", name.as_deref().unwrap_or("callback")),
        }
    }
}

/// True when a backend names a stored API key that still has to be looked up.
pub fn needs_api_key(b: &Backend) -> bool {
    matches!(b, Backend::OpenAi { api_key: None, api_key_name: Some(n), .. } if !n.trim().is_empty())
}

/// Fills in each OpenAI-compatible backend's `api_key` from the keys stored under the name it
/// gives in `api_key_name` (a key given directly wins). A named key that is not stored is an
/// `invalid_argument` error naming it, so a request never goes out silently without its key.
pub fn resolve_api_keys(backends: &[Backend], keys: &std::collections::BTreeMap<String, String>) -> Result<Vec<Backend>> {
    backends
        .iter()
        .map(|b| match b {
            Backend::OpenAi { base_url, api_key: None, api_key_name: Some(name), model } if !name.trim().is_empty() => {
                match keys.get(name).filter(|k| !k.is_empty()) {
                    Some(k) => Ok(Backend::OpenAi {
                        base_url: base_url.clone(),
                        api_key: Some(k.clone()),
                        api_key_name: Some(name.clone()),
                        model: model.clone(),
                    }),
                    None => Err(Error::invalid_argument(format!(
                        "the backend {} asks for the API key \"{name}\", but no key of that name is stored (store it with setApiKey)",
                        b.label()
                    ))),
                }
            }
            _ => Ok(b.clone()),
        })
        .collect()
}

/// Flattens chat messages into a plain text prompt (for text backends given only messages).
pub fn flatten_messages(messages: &[ChatMessage]) -> String {
    let mut out = String::new();
    for m in messages {
        match (m.role.as_str(), &m.name) {
            (_, Some(n)) => out.push_str(&format!("{n}: {}\n", m.content)),
            ("system", None) => out.push_str(&format!("{}\n", m.content)),
            (r, None) => out.push_str(&format!("{r}: {}\n", m.content)),
        }
    }
    out
}

/// The HTTP request for an HTTP backend (`None` for [`Backend::Host`]). For SillyTavern backends
/// the path is relative to the SillyTavern base URL; for [`Backend::OpenAi`] it is absolute.
pub fn http_request(backend: &Backend, req: &GenerateRequest) -> Option<Request> {
    let mut body = Map::new();
    let model = |m: &Option<String>| m.clone().or_else(|| req.model.clone());
    let common = |body: &mut Map<String, Value>, model: Option<String>| {
        if let Some(m) = model {
            body.insert("model".into(), json!(m));
        }
        if let Some(t) = req.temperature {
            body.insert("temperature".into(), json!(t));
        }
        if let Some(n) = req.max_tokens {
            body.insert("max_tokens".into(), json!(n));
        }
        if !req.stop.is_empty() {
            body.insert("stop".into(), json!(req.stop));
        }
        body.insert("stream".into(), json!(req.stream));
        for (k, v) in &req.extra {
            body.entry(k.clone()).or_insert_with(|| v.clone());
        }
    };
    let (path, headers) = match backend {
        Backend::SillyTavernChat { source, custom_url, model: m } => {
            body.insert("chat_completion_source".into(), json!(source));
            if let Some(u) = custom_url {
                body.insert("custom_url".into(), json!(u));
            }
            body.insert("messages".into(), json!(req.messages));
            common(&mut body, model(m));
            ("/api/backends/chat-completions/generate".to_string(), vec![])
        }
        Backend::SillyTavernText { api_type, api_server, model: m } => {
            body.insert("api_type".into(), json!(api_type));
            body.insert("api_server".into(), json!(api_server));
            let prompt = req.prompt.clone().unwrap_or_else(|| flatten_messages(&req.messages));
            body.insert("prompt".into(), json!(prompt));
            common(&mut body, model(m));
            ("/api/backends/text-completions/generate".to_string(), vec![])
        }
        Backend::OpenAi { base_url, api_key, model: m, .. } => {
            let base = base_url.trim_end_matches('/');
            let path = if req.prompt.is_some() && req.messages.is_empty() {
                body.insert("prompt".into(), json!(req.prompt));
                format!("{base}/completions")
            } else {
                body.insert("messages".into(), json!(req.messages));
                format!("{base}/chat/completions")
            };
            common(&mut body, model(m));
            let mut h = vec![];
            if let Some(k) = api_key.as_ref().filter(|k| !k.is_empty()) {
                h.push(("Authorization".to_string(), format!("Bearer {k}")));
            }
            (path, h)
        }
        Backend::Host { .. } => return None,
    };
    Some(Request { method: Method::Post, path, headers, body: super::http::Body::Json(Value::Object(body)), timeout_ms: 0 })
}

/// How a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StopReason {
    /// The backend said it was done.
    Done,
    /// The stream stopped without an end marker (dropped connection).
    Dropped,
    /// No bytes arrived within the idle timeout.
    IdleTimeout,
    /// The caller aborted.
    Aborted,
}

/// Collects a streamed answer.
#[derive(Debug, Default)]
pub struct StreamAccumulator {
    parser: SseParser,
    /// Reply text so far.
    pub text: String,
    /// Reasoning text so far.
    pub reasoning: String,
    /// The finish reason, when given.
    pub finish_reason: Option<String>,
    /// True once the stream said it was done.
    pub done: bool,
    /// An error reported inside the stream.
    pub error: Option<String>,
    /// Number of text deltas received.
    pub deltas: usize,
}

impl StreamAccumulator {
    /// A fresh accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; returns the new text deltas (for `onToken`).
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        for ev in self.parser.feed(chunk) {
            for item in decode_completion_event(&ev) {
                match item {
                    StreamItem::Delta(t) => {
                        self.text.push_str(&t);
                        self.deltas += 1;
                        out.push(t);
                    }
                    StreamItem::Reasoning(r) => self.reasoning.push_str(&r),
                    StreamItem::Done { finish_reason } => {
                        self.done = true;
                        if finish_reason.is_some() {
                            self.finish_reason = finish_reason;
                        }
                    }
                    StreamItem::Error(e) => {
                        self.error.get_or_insert(e);
                    }
                    StreamItem::Ignore => {}
                }
            }
        }
        out
    }

    /// Ends the stream (the body closed).
    pub fn finish(&mut self) {
        self.parser.finish();
    }
}

/// Reads a non-streamed completion body (OpenAI / SillyTavern passthrough JSON).
pub fn parse_completion_json(body: &str) -> Result<(String, Option<String>)> {
    if let Some(e) = super::status::soft_error(body) {
        return Err(e);
    }
    let v: Value = serde_json::from_str(body).map_err(|e| Error::new(ErrorCode::ServerError, format!("completion is not JSON: {e}")))?;
    let choice = v.get("choices").and_then(|c| c.get(0));
    let text = choice
        .and_then(|c| c.get("message").and_then(|m| m.get("content")).or_else(|| c.get("text")))
        .and_then(Value::as_str)
        .or_else(|| v.get("content").and_then(Value::as_str))
        .ok_or_else(|| Error::new(ErrorCode::ServerError, "completion has no text"))?;
    let reason = choice.and_then(|c| c.get("finish_reason")).and_then(Value::as_str).map(str::to_string);
    Ok((text.to_string(), reason))
}

/// The result of a generation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateResult {
    /// The reply.
    pub text: String,
    /// Reasoning text, if the model produced any.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reasoning: String,
    /// True when the reply was cut short (dropped, idle timeout, aborted).
    pub incomplete: bool,
    /// How it ended.
    pub stop_reason: StopReason,
    /// The backend's finish reason (`stop`, `length`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// Label of the backend that answered.
    pub backend: String,
    /// Backends tried before it, with why they failed.
    pub fallbacks: Vec<Fallback>,
    /// Milliseconds from start to the first token (streams).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_token_ms: Option<f64>,
    /// Milliseconds from start to the end.
    pub total_ms: f64,
}

/// One backend that was skipped or failed before the one that answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fallback {
    /// Backend label.
    pub backend: String,
    /// Error code.
    pub code: String,
    /// Error message.
    pub message: String,
}

/// What one attempt at one backend produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// Text (possibly partial).
    pub text: String,
    /// Reasoning text.
    pub reasoning: String,
    /// How it ended.
    pub stop_reason: StopReason,
    /// The backend's finish reason.
    pub finish_reason: Option<String>,
    /// Time to first token.
    pub first_token_ms: Option<f64>,
}

/// Runs one attempt on one backend (implemented over fetch in the browser, faked in tests).
#[allow(async_fn_in_trait)]
pub trait Runner {
    /// Sends the request to `backend`, streaming deltas to `on_token`. An `Err` means nothing
    /// usable was produced; a partial answer is an `Ok` with a non-`Done` stop reason.
    async fn run(&self, backend: &Backend, req: &GenerateRequest, on_token: &mut dyn FnMut(&str)) -> Result<Attempt>;
    /// Waits (backoff).
    async fn sleep(&self, ms: f64);
    /// Epoch milliseconds.
    fn now_ms(&self) -> f64;
    /// Uniform `[0, 1)`.
    fn random(&self) -> f64;
}

/// Circuit breakers for a list of backends (kept across generations by the caller).
#[derive(Debug, Clone)]
pub struct Breakers(Vec<CircuitBreaker>);

impl Breakers {
    /// One closed breaker per backend.
    pub fn new(n: usize, policy: BreakerPolicy) -> Self {
        Breakers(vec![CircuitBreaker::new(policy); n])
    }
}

/// Tries `backends` in order. Each backend gets bounded retries (with backoff) for transient
/// failures *before any token arrived*; when it keeps failing, or its breaker is open, the next
/// one is used and the switch is recorded in `fallbacks` (and announced through `on_fallback`).
pub async fn generate_with_fallback<R: Runner>(
    runner: &R,
    backends: &[Backend],
    breakers: &mut Breakers,
    retry: &RetryPolicy,
    req: &GenerateRequest,
    on_token: &mut dyn FnMut(&str),
    on_fallback: &mut dyn FnMut(&Fallback),
) -> Result<GenerateResult> {
    if backends.is_empty() {
        return Err(Error::invalid_argument("no generation backend configured"));
    }
    if breakers.0.len() != backends.len() {
        *breakers = Breakers::new(backends.len(), BreakerPolicy::default());
    }
    let start = runner.now_ms();
    let mut fallbacks: Vec<Fallback> = Vec::new();
    let mut last_err = None;
    for (i, backend) in backends.iter().enumerate() {
        if !breakers.0[i].allow(runner.now_ms()) {
            let fb = Fallback { backend: backend.label(), code: "circuit_open".into(), message: "skipped after repeated failures".into() };
            on_fallback(&fb);
            fallbacks.push(fb);
            continue;
        }
        let mut retry_no = 0;
        loop {
            let mut got_token = false;
            let outcome = {
                let mut tok = |t: &str| {
                    got_token = true;
                    on_token(t)
                };
                runner.run(backend, req, &mut tok).await
            };
            match outcome {
                Ok(a) => {
                    breakers.0[i].record_success();
                    return Ok(GenerateResult {
                        incomplete: a.stop_reason != StopReason::Done,
                        text: a.text,
                        reasoning: a.reasoning,
                        stop_reason: a.stop_reason,
                        finish_reason: a.finish_reason,
                        backend: backend.label(),
                        fallbacks,
                        first_token_ms: a.first_token_ms,
                        total_ms: runner.now_ms() - start,
                    });
                }
                Err(e) if e.code() == ErrorCode::Aborted || e.code() == ErrorCode::InvalidArgument => return Err(e),
                Err(e) => {
                    breakers.0[i].record_failure(runner.now_ms());
                    retry_no += 1;
                    let transient = is_retryable(e.code()) && !got_token;
                    let mut rnd = || runner.random();
                    let delay = if transient && breakers.0[i].allow(runner.now_ms()) {
                        retry.delay_ms(retry_no, e.retry_after_ms(), &mut rnd)
                    } else {
                        None
                    };
                    match delay {
                        Some(ms) => runner.sleep(ms).await,
                        None => {
                            let fb = Fallback { backend: backend.label(), code: e.code().as_str().into(), message: e.message().into() };
                            if i + 1 < backends.len() {
                                on_fallback(&fb);
                            }
                            fallbacks.push(fb);
                            last_err = Some(e);
                            break;
                        }
                    }
                }
            }
        }
    }
    let summary = fallbacks.iter().map(|f| format!("{} ({}: {})", f.backend, f.code, f.message)).collect::<Vec<_>>().join("; ");
    let code = last_err.map_or(ErrorCode::ServerError, |e| e.code());
    Err(Error::new(code, format!("every backend failed: {summary}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::share::testutil::block_on;
    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;


    /// Scripted outcomes per backend label; each entry: tokens to emit, then the result.
    #[derive(Default)]
    struct Script {
        plan: RefCell<Vec<(String, VecDeque<(Vec<&'static str>, Result<StopReason>)>)>>,
        calls: RefCell<Vec<String>>,
        now: Cell<f64>,
        slept: RefCell<Vec<f64>>,
    }

    impl Script {
        fn on(self, label: &str, outcomes: Vec<(Vec<&'static str>, Result<StopReason>)>) -> Self {
            self.plan.borrow_mut().push((label.to_string(), outcomes.into()));
            self
        }
    }

    impl Runner for Script {
        async fn run(&self, backend: &Backend, _req: &GenerateRequest, on_token: &mut dyn FnMut(&str)) -> Result<Attempt> {
            let label = backend.label();
            self.calls.borrow_mut().push(label.clone());
            let (tokens, res) = {
                let mut plan = self.plan.borrow_mut();
                let q = &mut plan.iter_mut().find(|(l, _)| *l == label).expect("scripted").1;
                q.pop_front().expect("script ran out")
            };
            let mut text = String::new();
            for t in tokens {
                on_token(t);
                text.push_str(t);
            }
            res.map(|stop_reason| Attempt { text, reasoning: String::new(), stop_reason, finish_reason: None, first_token_ms: Some(1.0) })
        }
        async fn sleep(&self, ms: f64) {
            self.slept.borrow_mut().push(ms);
            self.now.set(self.now.get() + ms);
        }
        fn now_ms(&self) -> f64 {
            self.now.get()
        }
        fn random(&self) -> f64 {
            0.0
        }
    }

    fn st() -> Backend {
        Backend::SillyTavernChat { source: "custom".into(), custom_url: Some("http://127.0.0.1:9/v1".into()), model: None }
    }
    fn host() -> Backend {
        Backend::Host { name: Some("nextchat".into()) }
    }
    fn err(code: ErrorCode) -> Result<StopReason> {
        Err(Error::new(code, "x"))
    }

    fn run(s: &Script, backends: &[Backend], breakers: &mut Breakers) -> (Result<GenerateResult>, Vec<String>, Vec<Fallback>) {
        let mut toks = Vec::new();
        let mut fbs = Vec::new();
        let retry = RetryPolicy { max_retries: 2, base_delay_ms: 100.0, max_delay_ms: 1000.0 };
        let r = block_on(generate_with_fallback(
            s,
            backends,
            breakers,
            &retry,
            &GenerateRequest::default(),
            &mut |t| toks.push(t.to_string()),
            &mut |f| fbs.push(f.clone()),
        ));
        (r, toks, fbs)
    }

    #[test]
    fn streams_tokens_from_the_first_backend() {
        let s = Script::default().on("sillytavern-chat:custom", vec![(vec!["Hel", "lo"], Ok(StopReason::Done))]);
        let (r, toks, fbs) = run(&s, &[st(), host()], &mut Breakers::new(2, BreakerPolicy::default()));
        let r = r.unwrap();
        assert_eq!(r.text, "Hello");
        assert!(!r.incomplete);
        assert_eq!(toks, ["Hel", "lo"]);
        assert!(fbs.is_empty());
        assert_eq!(r.backend, "sillytavern-chat:custom");
    }

    #[test]
    fn transient_failures_are_retried_then_the_fallback_answers() {
        let s = Script::default()
            .on("sillytavern-chat:custom", vec![(vec![], err(ErrorCode::ServerError)), (vec![], err(ErrorCode::ServerError)), (vec![], err(ErrorCode::ServerError))])
            .on("host:nextchat", vec![(vec!["ok"], Ok(StopReason::Done))]);
        let mut br = Breakers::new(2, BreakerPolicy { failure_threshold: 5, cooldown_ms: 10_000.0 });
        let (r, _, fbs) = run(&s, &[st(), host()], &mut br);
        let r = r.unwrap();
        assert_eq!(r.text, "ok");
        assert_eq!(r.backend, "host:nextchat");
        assert_eq!(fbs.len(), 1);
        assert_eq!(fbs[0].code, "server_error");
        assert_eq!(*s.slept.borrow(), vec![50.0, 100.0], "two retries with backoff, then switch");
        assert_eq!(s.calls.borrow().len(), 4);
    }

    #[test]
    fn an_open_breaker_skips_the_backend_until_the_cooldown() {
        let s = Script::default()
            .on("sillytavern-chat:custom", vec![(vec![], err(ErrorCode::Network)), (vec!["back"], Ok(StopReason::Done))])
            .on("host:nextchat", vec![(vec!["a"], Ok(StopReason::Done)), (vec!["b"], Ok(StopReason::Done))]);
        let mut br = Breakers::new(2, BreakerPolicy { failure_threshold: 1, cooldown_ms: 5_000.0 });
        let (r, _, _) = run(&s, &[st(), host()], &mut br);
        assert_eq!(r.unwrap().text, "a");
        // Next generation: the breaker is open, the first backend is not even called.
        let (r, _, fbs) = run(&s, &[st(), host()], &mut br);
        assert_eq!(r.unwrap().text, "b");
        assert_eq!(fbs[0].code, "circuit_open");
        assert_eq!(s.calls.borrow().iter().filter(|c| c.starts_with("sillytavern")).count(), 1);
        // After the cooldown a trial goes through and closes the circuit.
        s.now.set(s.now.get() + 5_000.0);
        let (r, _, _) = run(&s, &[st(), host()], &mut br);
        assert_eq!(r.unwrap().text, "back");
    }

    #[test]
    fn a_dropped_stream_keeps_the_partial_text_and_is_not_retried() {
        let s = Script::default().on("sillytavern-chat:custom", vec![(vec!["Once upon"], Ok(StopReason::IdleTimeout))]);
        let (r, toks, _) = run(&s, &[st(), host()], &mut Breakers::new(2, BreakerPolicy::default()));
        let r = r.unwrap();
        assert_eq!(r.text, "Once upon");
        assert!(r.incomplete);
        assert_eq!(r.stop_reason, StopReason::IdleTimeout);
        assert_eq!(toks, ["Once upon"]);
    }

    #[test]
    fn abort_is_final_and_all_failing_is_a_typed_error() {
        let s = Script::default().on("sillytavern-chat:custom", vec![(vec![], err(ErrorCode::Aborted))]);
        let (r, _, _) = run(&s, &[st(), host()], &mut Breakers::new(2, BreakerPolicy::default()));
        assert_eq!(r.unwrap_err().code(), ErrorCode::Aborted);
        assert_eq!(s.calls.borrow().len(), 1);

        let s = Script::default()
            .on("sillytavern-chat:custom", vec![(vec![], err(ErrorCode::Unauthorized))])
            .on("host:nextchat", vec![(vec![], err(ErrorCode::Unauthorized))]);
        let (r, _, fbs) = run(&s, &[st(), host()], &mut Breakers::new(2, BreakerPolicy::default()));
        let e = r.unwrap_err();
        assert_eq!(e.code(), ErrorCode::Unauthorized);
        assert!(e.message().contains("sillytavern-chat:custom") && e.message().contains("host:nextchat"));
        assert_eq!(fbs.len(), 1, "only real switches are announced");
        assert_eq!(run(&s, &[], &mut Breakers::new(0, BreakerPolicy::default())).0.unwrap_err().code(), ErrorCode::InvalidArgument);
    }

    #[test]
    fn builds_requests_for_each_http_backend() {
        let req = GenerateRequest {
            messages: vec![ChatMessage { role: "user".into(), content: "Hi".into(), name: None }],
            model: Some("m1".into()),
            max_tokens: Some(64),
            stop: vec!["\nUser:".into()],
            stream: true,
            extra: [("top_p".to_string(), json!(0.9))].into_iter().collect(),
            ..Default::default()
        };
        let r = http_request(&st(), &req).unwrap();
        assert_eq!(r.path, "/api/backends/chat-completions/generate");
        let super::super::http::Body::Json(b) = &r.body else { panic!() };
        assert_eq!(b["chat_completion_source"], "custom");
        assert_eq!(b["custom_url"], "http://127.0.0.1:9/v1");
        assert_eq!(b["messages"][0]["content"], "Hi");
        assert_eq!((b["model"].as_str(), b["max_tokens"].as_u64(), b["stream"].as_bool()), (Some("m1"), Some(64), Some(true)));
        assert_eq!(b["top_p"], 0.9);

        let text = Backend::SillyTavernText { api_type: "generic".into(), api_server: "http://127.0.0.1:9".into(), model: None };
        let r = http_request(&text, &req).unwrap();
        let super::super::http::Body::Json(b) = &r.body else { panic!() };
        assert_eq!(r.path, "/api/backends/text-completions/generate");
        assert_eq!(b["prompt"], "user: Hi\n");
        assert_eq!(b["stop"][0], "\nUser:");

        let direct = Backend::OpenAi {
            base_url: "http://127.0.0.1:9/v1/".into(),
            api_key: Some("sk-1".into()),
            api_key_name: None,
            model: Some("m2".into()),
        };
        let r = http_request(&direct, &req).unwrap();
        assert_eq!(r.path, "http://127.0.0.1:9/v1/chat/completions");
        assert_eq!(r.header("authorization"), Some("Bearer sk-1"));
        let super::super::http::Body::Json(b) = &r.body else { panic!() };
        assert_eq!(b["model"], "m2", "the backend's model wins");
        assert!(!direct.label().contains("sk-1"), "labels never carry keys");
        assert!(http_request(&host(), &req).is_none());
    }

    #[test]
    fn accumulates_a_stream_and_parses_plain_json_answers() {
        let mut acc = StreamAccumulator::new();
        let d1 = acc.feed(b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"con");
        assert_eq!(d1, ["Hi"]);
        let d2 = acc.feed(b"tent\":\" there\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
        assert_eq!(d2, [" there"]);
        assert_eq!((acc.text.as_str(), acc.done, acc.finish_reason.as_deref()), ("Hi there", true, Some("stop")));

        let mut bad = StreamAccumulator::new();
        bad.feed(b"data: {oops\n\n");
        assert!(bad.error.as_deref().unwrap().starts_with("malformed"));

        assert_eq!(
            parse_completion_json(r#"{"choices":[{"message":{"content":"Hello there."},"finish_reason":"stop"}]}"#).unwrap(),
            ("Hello there.".to_string(), Some("stop".to_string()))
        );
        assert_eq!(parse_completion_json(r#"{"error":{"message":"Internal Server Error"}}"#).unwrap_err().code(), ErrorCode::ServerError);
        assert_eq!(parse_completion_json(r#"{"choices":[]}"#).unwrap_err().code(), ErrorCode::ServerError);
    }

    #[test]
    fn a_named_api_key_comes_from_the_stored_keys() {
        let named = |key: Option<&str>, name: &str| Backend::OpenAi {
            base_url: "http://127.0.0.1:9/v1".into(),
            api_key: key.map(String::from),
            api_key_name: Some(name.into()),
            model: None,
        };
        let keys: std::collections::BTreeMap<String, String> = [("openai".to_string(), "sk-stored".to_string())].into();
        assert!(needs_api_key(&named(None, "openai")));
        assert!(!needs_api_key(&named(Some("sk-given"), "openai")), "a key given directly wins");
        assert!(!needs_api_key(&host()));

        let out = resolve_api_keys(&[named(None, "openai"), named(Some("sk-given"), "openai"), host()], &keys).unwrap();
        let key = |b: &Backend| match b {
            Backend::OpenAi { api_key, .. } => api_key.clone(),
            _ => None,
        };
        assert_eq!(key(&out[0]).as_deref(), Some("sk-stored"));
        assert_eq!(key(&out[1]).as_deref(), Some("sk-given"));
        assert_eq!(out[2], host());
        let req = GenerateRequest { messages: vec![], ..serde_json::from_value(json!({})).unwrap() };
        assert_eq!(http_request(&out[0], &req).unwrap().header("authorization"), Some("Bearer sk-stored"));

        let missing = resolve_api_keys(&[named(None, "groq")], &keys).unwrap_err();
        assert_eq!(missing.code(), ErrorCode::InvalidArgument);
        assert!(missing.to_string().contains("\"groq\""), "{missing}");
        assert!(!missing.to_string().contains("sk-stored"), "messages never carry keys");
    }
}
