//! `Generator`: one `generate()` over several backends with streaming, abort, idle timeout,
//! retries and fallback. Converts types only; the logic is in `client::generate`.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::client::JsStClient;
use super::error::{from_js_value, to_js_value};
use crate::client::breaker::BreakerPolicy;
use crate::client::generate::{generate_with_fallback, needs_api_key, resolve_api_keys, Backend, Breakers, GenerateRequest};
use crate::client::retry::RetryPolicy;
use crate::client::st::StClient;
use crate::error::Error;
use crate::net::fetch::FetchTransport;
use crate::net::generate::BrowserRunner;
use super::store::{load_api_keys, log_event_to, Backend as StoreBackend, TavernStore};

#[wasm_bindgen(typescript_custom_section)]
const TS_GENERATE: &'static str = r#"
/** Where a generation goes. Backends are tried in the order given. */
export type GenerationBackend =
  | { kind: "sillyTavernChat"; source: string; customUrl?: string; model?: string }
  | { kind: "sillyTavernText"; apiType: string; apiServer: string; model?: string }
  | { kind: "openAi"; baseUrl: string; apiKey?: string;
      /** The name of a key kept with `store.setApiKey` (used when `apiKey` is not given; needs `useApiKeys(store)`). */
      apiKeyName?: string; model?: string }
  | { kind: "host"; name?: string };
/** The host app's own LLM (e.g. NextChat's `llm.chat`): resolve to the whole text, or yield chunks. */
export type HostLlmCallback = (request: GenerateRequest, options: { signal?: AbortSignal }) =>
  Promise<string> | AsyncIterable<string>;
/** Generations through a SillyTavern client (`st.generator(…)`) are rate limited by a bucket of
 *  their own (the client's `rateLimit` settings, default burst 10 then 5/s), separate from the
 *  client's list and CRUD calls: a generation never waits behind background reads. Direct
 *  "openAi" and "host" backends are not rate limited. */
export interface GeneratorOptions {
  backends: GenerationBackend[];
  /** Required when a backend has kind "host". */
  host?: HostLlmCallback;
  /** End a stream after this many ms without data; the partial text is kept (default 20000). */
  idleTimeoutMs?: number;
  /** Timeout of a non-streamed request (default 120000). */
  requestTimeoutMs?: number;
  retry?: { maxRetries: number; baseDelayMs: number; maxDelayMs: number };
  /** After `failureThreshold` failures a backend is skipped for `cooldownMs` (default 3 / 30000). */
  breaker?: { failureThreshold: number; cooldownMs: number };
}
export interface GenerateRequest {
  messages?: { role: "system" | "user" | "assistant"; content: string; name?: string }[];
  prompt?: string;
  model?: string;
  temperature?: number;
  maxTokens?: number;
  stop?: string[];
  /** Default true. */
  stream?: boolean;
  /** Extra body fields passed through (e.g. top_p, seed). */
  extra?: Record<string, unknown>;
}
export interface GenerationFallback { backend: string; code: string; message: string }
export interface GenerateResult {
  text: string;
  reasoning?: string;
  /** True when cut short (dropped connection, idle timeout, abort): `text` is what arrived. */
  incomplete: boolean;
  stopReason: "done" | "dropped" | "idleTimeout" | "aborted";
  finishReason?: string;
  /** The backend that answered. */
  backend: string;
  /** Backends that failed or were skipped first. */
  fallbacks: GenerationFallback[];
  firstTokenMs?: number;
  totalMs: number;
}
export interface GenerateCallOptions {
  signal?: AbortSignal;
  onToken?: (text: string) => void;
  onFallback?: (fallback: GenerationFallback) => void;
}
"#;

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Opts {
    backends: Vec<Backend>,
    idle_timeout_ms: Option<u32>,
    request_timeout_ms: Option<u32>,
    retry: Option<RetryPolicy>,
    breaker: Option<BreakerPolicy>,
}

/// Generation with streaming, abort, idle timeout, retries and fallback between backends.
#[wasm_bindgen]
pub struct Generator {
    log: Rc<RefCell<Option<StoreBackend>>>,
    keys: Rc<RefCell<Option<StoreBackend>>>,
    st: Option<Rc<StClient<FetchTransport>>>,
    host: Option<Function>,
    backends: Rc<Vec<Backend>>,
    breakers: Rc<RefCell<Breakers>>,
    retry: RetryPolicy,
    idle_timeout_ms: u32,
    request_timeout_ms: u32,
}

impl Generator {
    fn build(st: Option<Rc<StClient<FetchTransport>>>, options: JsValue) -> Result<Generator, JsValue> {
        let host = Reflect::get(&options, &JsValue::from_str("host")).ok().and_then(|h| h.dyn_into::<Function>().ok());
        let o: Opts = from_js_value(options, "Generator options")?;
        if o.backends.is_empty() {
            return Err(Error::invalid_argument("backends: give at least one").into());
        }
        if o.backends.iter().any(|b| matches!(b, Backend::Host { .. })) && host.is_none() {
            return Err(Error::invalid_argument("a \"host\" backend needs options.host, a function").into());
        }
        let n = o.backends.len();
        Ok(Generator {
            log: Rc::default(),
            keys: Rc::default(),
            st,
            host,
            backends: Rc::new(o.backends),
            breakers: Rc::new(RefCell::new(Breakers::new(n, o.breaker.unwrap_or_default()))),
            retry: o.retry.unwrap_or_default(),
            idle_timeout_ms: o.idle_timeout_ms.unwrap_or(20_000),
            request_timeout_ms: o.request_timeout_ms.unwrap_or(120_000),
        })
    }
}

#[wasm_bindgen]
impl Generator {
    /// A generator without a SillyTavern server (direct OpenAI-compatible and host backends).
    /// For SillyTavern backends use `sillyTavernClient.generator(options)`.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "GeneratorOptions")] options: JsValue) -> Result<Generator, JsValue> {
        Generator::build(None, options)
    }

    /// Records every generation's usage and latency (backend, times, length, fallbacks,
    /// outcome) in `store`'s event log as `generation` events.
    #[wasm_bindgen(js_name = logTo)]
    pub fn log_to(&self, store: &TavernStore) {
        *self.log.borrow_mut() = Some(store.backend());
    }

    /// Looks up the keys that backends name with `apiKeyName` in `store`'s secrets (kept with
    /// `setApiKey`), at every `generate()`: a key changed in the store applies to the next call.
    #[wasm_bindgen(js_name = useApiKeys)]
    pub fn use_api_keys(&self, store: &TavernStore) {
        *self.keys.borrow_mut() = Some(store.backend());
    }

    /// Generates a reply. Streams text through `onToken`; resolves with the whole text (partial
    /// and `incomplete: true` when the stream was cut); rejects with a TavernError when no
    /// backend produced anything (code "aborted" when aborted before any text).
    #[wasm_bindgen(unchecked_return_type = "Promise<GenerateResult>")]
    pub fn generate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GenerateRequest")] request: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "GenerateCallOptions")] options: JsValue,
    ) -> Promise {
        let req: Result<GenerateRequest, JsValue> = from_js_value(request, "generate request");
        let get = |k: &str| if options.is_object() { Reflect::get(&options, &JsValue::from_str(k)).ok() } else { None };
        let signal = get("signal").and_then(|s| s.dyn_into::<web_sys::AbortSignal>().ok());
        let on_token = get("onToken").and_then(|f| f.dyn_into::<Function>().ok());
        let on_fallback = get("onFallback").and_then(|f| f.dyn_into::<Function>().ok());
        let runner = BrowserRunner {
            st: self.st.clone(),
            host: self.host.clone(),
            idle_timeout_ms: self.idle_timeout_ms,
            request_timeout_ms: self.request_timeout_ms,
            signal,
        };
        let backends = Rc::clone(&self.backends);
        let breakers = Rc::clone(&self.breakers);
        let retry = self.retry;
        let log = self.log.borrow().clone();
        let keys = self.keys.borrow().clone();
        future_to_promise(async move {
            let req = req?;
            let backends = if backends.iter().any(needs_api_key) {
                let Some(store) = &keys else {
                    return Err(Error::invalid_argument("a backend names an API key (apiKeyName): call useApiKeys(store) first").into());
                };
                Rc::new(resolve_api_keys(&backends, &load_api_keys(store).await?)?)
            } else {
                backends
            };
            let mut tok = |t: &str| {
                if let Some(f) = &on_token {
                    let _ = f.call1(&JsValue::NULL, &JsValue::from_str(t));
                }
            };
            let mut fb = |f: &crate::client::generate::Fallback| {
                if let (Some(cb), Ok(v)) = (&on_fallback, to_js_value(f)) {
                    let _ = cb.call1(&JsValue::NULL, &v);
                }
            };
            let mut local = breakers.borrow().clone();
            let result = generate_with_fallback(&runner, &backends, &mut local, &retry, &req, &mut tok, &mut fb).await;
            *breakers.borrow_mut() = local;
            if let Some(store) = &log {
                // The log is best effort: a full or failing store never fails the generation.
                let _ = log_event_to(store, "generation", usage_event(&result)).await;
            }
            to_js_value(&result?)
        })
    }
}

/// The `generation` event recorded for a result (no message text, no keys).
fn usage_event(r: &Result<crate::client::generate::GenerateResult, Error>) -> serde_json::Value {
    match r {
        Ok(g) => serde_json::json!({
            "ok": true,
            "backend": g.backend,
            "chars": g.text.chars().count(),
            "incomplete": g.incomplete,
            "stopReason": g.stop_reason,
            "finishReason": g.finish_reason,
            "firstTokenMs": g.first_token_ms,
            "totalMs": g.total_ms,
            "fallbacks": g.fallbacks.iter().map(|f| serde_json::json!({"backend": f.backend, "code": f.code})).collect::<Vec<_>>(),
        }),
        Err(e) => serde_json::json!({ "ok": false, "code": e.code().as_str() }),
    }
}

#[wasm_bindgen(js_class = SillyTavernClient)]
impl JsStClient {
    /// A `Generator` whose SillyTavern backends go through this server (its session and limiter).
    pub fn generator(&self, #[wasm_bindgen(unchecked_param_type = "GeneratorOptions")] options: JsValue) -> Result<Generator, JsValue> {
        Generator::build(Some(self.shared_client()), options)
    }
}
