//! `SillyTavernClient`: the SillyTavern server API for JS. Converts arguments, attaches the
//! caller's `AbortSignal`, and turns results into plain objects / `Uint8Array`s.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use js_sys::{Promise, Reflect, Uint8Array};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::error::{from_js_value, to_js_value};
use super::store::TavernStore;
use crate::client::breaker::BreakerPolicy;
use crate::client::limiter::RateLimit;
use crate::client::retry::RetryPolicy;
use crate::client::bridge::ChatLink;
use crate::client::http::Response;
use crate::store::schema::NewMessage;
use crate::client::st::{Cached, ClientOptions, StClient};
use crate::error::{Error, ErrorCode};
use crate::net::fetch::FetchTransport;

#[wasm_bindgen(typescript_custom_section)]
const TS_CLIENT: &'static str = r#"
/** Connection settings of a SillyTavern server. */
export interface SillyTavernClientOptions {
  /** e.g. "http://127.0.0.1:8000". The page must use the same host name (see README). */
  baseUrl: string;
  /** Per-request timeout in ms (default 30000; 0 = none). */
  timeoutMs?: number;
  /** Token bucket per server for reads and writes (default: burst 10, 5 requests/s).
   *  Generations through this server have a bucket of their own with the same settings, so a
   *  generation never waits behind list or CRUD calls. */
  rateLimit?: { capacity: number; refillPerSec: number };
  /** Retries of transient failures (default: 3 retries, 500 ms base, 30 s cap). */
  retry?: { maxRetries: number; baseDelayMs: number; maxDelayMs: number };
  /** HTTP Basic credentials, for a server with `basicAuthMode` (sent on every request). */
  basicAuth?: { username: string; password: string };
}
/** Per-call options. */
export interface CallOptions {
  /** Aborts the call; the promise rejects with code "aborted". */
  signal?: AbortSignal;
}
/** A character as SillyTavern returns it (V1 top-level fields, `data`, server extras). */
export type StCharacter = { name: string; avatar: string; data?: Record<string, unknown> } & Record<string, unknown>;
/** One line of a SillyTavern chat file (the header first, then messages). */
export type StChatLine = Record<string, unknown>;
/** Links a local chat to a SillyTavern chat file. Keep the `link` returned by sync calls. */
export interface ChatLink {
  /** The character's avatar file name ("Alice.png"); "" for group chats. */
  avatar: string;
  /** Chat file name without ".jsonl", or the group chat id. */
  file: string;
  isGroup?: boolean;
  /** The integrity id last seen on the server (any new id for a new chat). */
  integrity: string;
  chatMetadata?: Record<string, unknown>;
}
/** A message in the local store's shape (see TavernStore). */
export interface BridgeMessage {
  name: string; isUser?: boolean; isSystem?: boolean; mes: string; sendDate?: number;
  swipes?: string[]; swipeId?: number; swipeInfo?: unknown[]; extra?: Record<string, unknown>;
  fields?: Record<string, unknown>;
}
export interface ChatSyncResult {
  /** The chat as it now is on the server. */
  messages: BridgeMessage[];
  /** True when the local chat must be replaced by `messages`. */
  localChanged: boolean;
  /** Concurrent changes met and resolved by merging and saving again: integrity conflicts,
   *  plus `overwritten`. */
  conflicts: number;
  /** Times another writer's save dropped messages this sync had saved (seen by reading the chat
   *  back after saving); each was repaired by merging and saving again. */
  overwritten: number;
  link: ChatLink;
}
/** A SillyTavern World Info file. */
export type StWorldInfo = { entries: Record<string, Record<string, unknown>> } & Record<string, unknown>;
/** A value read through the client's cache. */
export interface CachedValue<T> {
  value: T;
  /** True when it came from a cache (memory, or the store given to `useCache`) without a request. */
  fromCache: boolean;
  /** True when that cached copy is older than `maxAgeMs`: a refresh is on its way (`onUpdate`). */
  stale: boolean;
  /** When this copy was fetched from the server (epoch ms). */
  fetchedAt: number;
}
"#;

fn parse_options(v: JsValue) -> Result<(String, ClientOptions), JsValue> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Opts {
        base_url: String,
        timeout_ms: Option<u32>,
        rate_limit: Option<RateLimit>,
        retry: Option<RetryPolicy>,
        basic_auth: Option<BasicAuth>,
        #[allow(dead_code)]
        breaker: Option<BreakerPolicy>,
    }
    #[derive(serde::Deserialize)]
    struct BasicAuth {
        username: String,
        password: String,
    }
    let o: Opts = from_js_value(v, "SillyTavernClient options")?;
    let url = o.base_url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Error::invalid_argument(format!("baseUrl must start with http:// or https://, got {url:?}")).into());
    }
    let d = ClientOptions::default();
    Ok((
        url.to_string(),
        ClientOptions {
            timeout_ms: o.timeout_ms.unwrap_or(d.timeout_ms),
            rate_limit: o.rate_limit.unwrap_or(d.rate_limit),
            retry: o.retry.unwrap_or(d.retry),
            basic_auth: o.basic_auth.map(|b| (b.username, b.password)),
        },
    ))
}

fn signal_of(opts: &JsValue) -> Option<web_sys::AbortSignal> {
    if !opts.is_object() {
        return None;
    }
    Reflect::get(opts, &JsValue::from_str("signal")).ok()?.dyn_into().ok()
}

fn flag(opts: &JsValue, name: &str) -> bool {
    opts.is_object() && Reflect::get(opts, &JsValue::from_str(name)).ok().and_then(|v| v.as_bool()).unwrap_or(false)
}

fn sync_result(o: crate::client::bridge::SyncOutcome) -> Result<JsValue, JsValue> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Out {
        messages: Vec<NewMessage>,
        local_changed: bool,
        conflicts: usize,
        overwritten: usize,
        link: ChatLink,
    }
    to_js_value(&Out {
        messages: o.messages,
        local_changed: o.local_changed,
        conflicts: o.conflicts,
        overwritten: o.overwritten,
        link: o.link,
    })
}

fn number(opts: &JsValue, name: &str) -> Option<f64> {
    if !opts.is_object() {
        return None;
    }
    Reflect::get(opts, &JsValue::from_str(name)).ok().and_then(|v| v.as_f64()).filter(|v| v.is_finite() && *v >= 0.0)
}

fn json_arg(v: JsValue, what: &str) -> Result<Value, JsValue> {
    from_js_value(v, what)
}

fn bytes(b: Vec<u8>) -> JsValue {
    Uint8Array::from(b.as_slice()).into()
}

/// A connection to one SillyTavern server: CSRF handled, rate limited, retried, typed errors.
#[wasm_bindgen(js_name = SillyTavernClient)]
pub struct JsStClient {
    inner: Rc<StClient<FetchTransport>>,
    /// The cached character list parsed by the browser, keyed by the cache entry's fetch time.
    parsed_list: Rc<RefCell<Option<(f64, js_sys::Array)>>>,
}

/// A shallow copy (new array, shared elements) of the parsed form of a cached list response,
/// parsing it with `JSON.parse` only when this cache entry has not been parsed yet.
fn parsed_copy(slot: &RefCell<Option<(f64, js_sys::Array)>>, cached: &Cached<Rc<Response>>) -> Result<JsValue, JsValue> {
    if let Some((stamp, arr)) = slot.borrow().as_ref() {
        if *stamp == cached.fetched_ms {
            return Ok(arr.slice(0, arr.length()).into());
        }
    }
    let v = js_sys::JSON::parse(&cached.value.text())
        .map_err(|_| JsValue::from(Error::new(ErrorCode::ServerError, "characters/all answered with invalid JSON")))?;
    let arr: js_sys::Array = v
        .dyn_into()
        .map_err(|_| JsValue::from(Error::new(ErrorCode::ServerError, "characters/all did not answer with a list")))?;
    *slot.borrow_mut() = Some((cached.fetched_ms, arr.clone()));
    Ok(arr.slice(0, arr.length()).into())
}

macro_rules! js_ok {
    ($e:expr) => {
        $e.await.map_err(JsValue::from)
    };
}

impl JsStClient {
    /// `characters` / `cachedCharacters`: no `max_age` → straight to the server.
    fn characters_swr(&self, opts: &JsValue, max_age: Option<f64>, with_meta: bool) -> Promise {
        let on_update = if opts.is_object() {
            Reflect::get(opts, &JsValue::from_str("onUpdate")).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        } else {
            None
        };
        let shared = Rc::clone(&self.inner);
        let parsed = Rc::clone(&self.parsed_list);
        self.run(opts, move |c| async move {
            let Some(max_age) = max_age else { return to_js_value(&js_ok!(c.characters())?) };
            let cached = js_ok!(c.characters_cached_raw(max_age))?;
            let list = parsed_copy(&parsed, &cached)?;
            if cached.stale {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(fresh) = shared.refresh_characters_raw().await {
                        if let (Ok(v), Some(f)) = (parsed_copy(&parsed, &fresh), on_update) {
                            let _ = f.call1(&JsValue::NULL, &v);
                        }
                    }
                });
            }
            if !with_meta {
                return Ok(list);
            }
            let out = js_sys::Object::new();
            for (k, v) in [
                ("value", list),
                ("fromCache", JsValue::from_bool(cached.from_cache)),
                ("stale", JsValue::from_bool(cached.stale)),
                ("fetchedAt", JsValue::from_f64(cached.fetched_ms)),
            ] {
                Reflect::set(&out, &JsValue::from_str(k), &v)?;
            }
            Ok(out.into())
        })
    }

    /// A thumbnail through the cache; a stale copy is returned and refreshed in the background.
    async fn thumbnail_swr(
        c: StClient<FetchTransport>,
        shared: Rc<StClient<FetchTransport>>,
        kind: String,
        file: String,
        max_age: f64,
    ) -> Result<Vec<u8>, JsValue> {
        let t = js_ok!(c.thumbnail_cached(&kind, &file, max_age))?;
        if t.stale {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = shared.refresh_thumbnail(&kind, &file).await;
            });
        }
        Ok(t.value.body.clone())
    }

    /// The underlying client (shared with generators made from it).
    pub(crate) fn shared_client(&self) -> Rc<StClient<FetchTransport>> {
        Rc::clone(&self.inner)
    }

    /// Runs `f` on a view of the client that observes the call's `AbortSignal`.
    fn run<F, Fut>(&self, opts: &JsValue, f: F) -> Promise
    where
        F: FnOnce(StClient<FetchTransport>) -> Fut,
        Fut: Future<Output = Result<JsValue, JsValue>> + 'static,
    {
        let client = self.inner.with_transport(self.inner.transport().with_signal(signal_of(opts)));
        future_to_promise(f(client))
    }
}

#[wasm_bindgen(js_class = SillyTavernClient)]
impl JsStClient {
    /// Creates a client. Nothing is sent until the first call.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "SillyTavernClientOptions")] options: JsValue) -> Result<JsStClient, JsValue> {
        let (url, opts) = parse_options(options)?;
        Ok(JsStClient { inner: Rc::new(StClient::new(FetchTransport::new(&url), opts)), parsed_list: Rc::default() })
    }

    /// The server's base URL.
    #[wasm_bindgen(getter, js_name = baseUrl)]
    pub fn base_url(&self) -> String {
        self.inner.transport().base_url().to_string()
    }

    /// Fetches (once) and returns the CSRF token; a quick "is it reachable" check.
    #[wasm_bindgen(js_name = connect, unchecked_return_type = "Promise<void>")]
    pub fn connect(&self, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { js_ok!(c.csrf_token()).map(|_| JsValue::UNDEFINED) })
    }

    /// Logs in (servers with user accounts). Rejects with "unauthorized" on wrong credentials.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn login(&self, handle: String, password: String, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { js_ok!(c.login(&handle, &password)).map(|_| JsValue::UNDEFINED) })
    }

    /// Logs out.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn logout(&self, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { js_ok!(c.logout()).map(|_| JsValue::UNDEFINED) })
    }

    /// The logged-in user: `{ handle, name, admin, … }`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Record<string, unknown>>")]
    pub fn me(&self, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { to_js_value(&js_ok!(c.me())?) })
    }

    /// Imports a character or lorebook from a URL the server supports (Chub, JanitorAI,
    /// RisuRealm, … or a direct PNG on a host in its `whitelistImportDomains`).
    #[wasm_bindgen(js_name = importFromUrl, unchecked_return_type = "Promise<{ kind: \"character\" | \"lorebook\"; name: string }>")]
    pub fn import_from_url(&self, url: String, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move {
            let (kind, name) = js_ok!(c.import_from_url(&url))?;
            to_js_value(&serde_json::json!({ "kind": kind, "name": name }))
        })
    }

    /// All characters. With `maxAgeMs`, served from the client's cache when younger; an older
    /// cached list is returned at once (stale-while-revalidate) and `onUpdate` receives the fresh
    /// list when it arrives. Any write through this client drops the cache. Cached lists share
    /// their character objects between calls: treat them as read-only.
    #[wasm_bindgen(unchecked_return_type = "Promise<StCharacter[]>")]
    pub fn characters(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions & { maxAgeMs?: number; onUpdate?: (list: StCharacter[]) => void }")] opts: JsValue,
    ) -> Promise {
        self.characters_swr(&opts, number(&opts, "maxAgeMs"), false)
    }

    /// All characters through the cache, with where they came from: `characters()` with
    /// `maxAgeMs` (default 30000) that resolves to `{ value, fromCache, stale, fetchedAt }`.
    /// After `useCache(store)`, a new client (e.g. after a page reload) resolves from the store
    /// at once — `fromCache: true`, `stale` when older than `maxAgeMs` (then `onUpdate` gets
    /// the fresh list).
    #[wasm_bindgen(js_name = cachedCharacters, unchecked_return_type = "Promise<CachedValue<StCharacter[]>>")]
    pub fn cached_characters(
        &self,
        #[wasm_bindgen(
            unchecked_optional_param_type = "CallOptions & { maxAgeMs?: number; onUpdate?: (list: StCharacter[]) => void }"
        )]
        opts: JsValue,
    ) -> Promise {
        self.characters_swr(&opts, Some(number(&opts, "maxAgeMs").unwrap_or(30_000.0)), true)
    }

    /// Keeps this client's cached reads (the character list, thumbnails) in `store` as well
    /// (its IndexedDB `cache`: size-capped, never in backups), so a new client on the same
    /// server and store — after a page reload, in another tab — is served them at once, then
    /// revalidates them by `maxAgeMs`. Every write through a client drops the server's entries.
    /// On a server with user accounts, entries are kept per user once `login()` or `me()` told
    /// the client who is logged in. A store in memory (`info().persistent === false`) adds
    /// nothing to the client's own memory cache.
    #[wasm_bindgen(js_name = useCache)]
    pub fn use_cache(&self, store: &TavernStore) {
        self.inner.use_persistent_cache(store.response_cache(), self.inner.transport().base_url());
    }

    /// Drops every cached read of this client, and this server's entries in the store given to
    /// `useCache`.
    #[wasm_bindgen(js_name = clearCache, unchecked_return_type = "Promise<void>")]
    pub fn clear_cache(&self) -> Promise {
        let c = Rc::clone(&self.inner);
        future_to_promise(async move { js_ok!(c.clear_all_caches()).map(|_| JsValue::UNDEFINED) })
    }

    /// One character by avatar file name.
    #[wasm_bindgen(unchecked_return_type = "Promise<StCharacter>")]
    pub fn character(&self, avatar: String, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { to_js_value(&js_ok!(c.character(&avatar))?) })
    }

    /// Full details of several characters, loaded lazily in batches of `batchSize` parallel
    /// requests (default 6; identical requests in flight are shared). Resolves in the order
    /// given; a character that failed to load is a `TavernError` in its slot.
    #[wasm_bindgen(js_name = characterDetails, unchecked_return_type = "Promise<(StCharacter | TavernError)[]>")]
    pub fn character_details(
        &self,
        avatars: Vec<String>,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions & { batchSize?: number }")] opts: JsValue,
    ) -> Promise {
        let batch = number(&opts, "batchSize").map_or(6, |n| (n as usize).clamp(1, 32));
        let me = JsStClient { inner: Rc::clone(&self.inner), parsed_list: Rc::clone(&self.parsed_list) };
        let opts2 = opts.clone();
        future_to_promise(async move {
            let out = js_sys::Array::new();
            for chunk in avatars.chunks(batch) {
                let promises = js_sys::Array::new();
                for a in chunk {
                    promises.push(&me.character(a.clone(), opts2.clone()));
                }
                // allSettled: one failure does not sink the batch; it takes its slot instead.
                let done = wasm_bindgen_futures::JsFuture::from(Promise::all_settled(&promises)).await?;
                for r in js_sys::Array::from(&done).iter() {
                    let ok = Reflect::get(&r, &JsValue::from_str("status")).ok().and_then(|s| s.as_string()).as_deref() == Some("fulfilled");
                    out.push(&Reflect::get(&r, &JsValue::from_str(if ok { "value" } else { "reason" }))?);
                }
            }
            Ok(out.into())
        })
    }

    /// Creates a character from a V2/V3 card object (and optional PNG avatar); resolves to its avatar file name.
    #[wasm_bindgen(js_name = createCharacter, unchecked_return_type = "Promise<string>")]
    pub fn create_character(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] card: JsValue,
        avatar: Option<Vec<u8>>,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue,
    ) -> Promise {
        let card = json_arg(card, "card");
        self.run(&opts, |c| async move { Ok(JsValue::from_str(&js_ok!(c.create_character(&card?, avatar))?)) })
    }

    /// Replaces a character's card (full edit), keeping its avatar file name; an optional new PNG
    /// replaces the image.
    #[wasm_bindgen(js_name = editCharacter, unchecked_return_type = "Promise<void>")]
    pub fn edit_character(
        &self,
        avatar: String,
        #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] card: JsValue,
        image: Option<Vec<u8>>,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue,
    ) -> Promise {
        let card = json_arg(card, "card");
        self.run(&opts, |c| async move { js_ok!(c.edit_character(&avatar, &card?, image)).map(|_| JsValue::UNDEFINED) })
    }

    /// Deep-merges a partial card into a stored character.
    #[wasm_bindgen(js_name = mergeCharacter, unchecked_return_type = "Promise<void>")]
    pub fn merge_character(
        &self,
        avatar: String,
        #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] partial: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue,
    ) -> Promise {
        let partial = json_arg(partial, "partial");
        self.run(&opts, |c| async move { js_ok!(c.merge_character(&avatar, &partial?)).map(|_| JsValue::UNDEFINED) })
    }

    /// Renames a character; resolves to the new avatar file name.
    #[wasm_bindgen(js_name = renameCharacter, unchecked_return_type = "Promise<string>")]
    pub fn rename_character(&self, avatar: String, #[wasm_bindgen(js_name = newName)] new_name: String, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { Ok(JsValue::from_str(&js_ok!(c.rename_character(&avatar, &new_name))?)) })
    }

    /// Deletes a character (`{ deleteChats: true }` also removes its chats).
    #[wasm_bindgen(js_name = deleteCharacter, unchecked_return_type = "Promise<void>")]
    pub fn delete_character(
        &self,
        avatar: String,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions & { deleteChats?: boolean }")] opts: JsValue,
    ) -> Promise {
        let delete_chats = flag(&opts, "deleteChats");
        self.run(&opts, |c| async move { js_ok!(c.delete_character(&avatar, delete_chats)).map(|_| JsValue::UNDEFINED) })
    }

    /// Duplicates a character; resolves to the copy's avatar file name.
    #[wasm_bindgen(js_name = duplicateCharacter, unchecked_return_type = "Promise<string>")]
    pub fn duplicate_character(&self, avatar: String, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { Ok(JsValue::from_str(&js_ok!(c.duplicate_character(&avatar))?)) })
    }

    /// Imports a card file (`fileType`: png, json, yaml, charx, byaf); resolves to the avatar file name.
    #[wasm_bindgen(js_name = importCharacter, unchecked_return_type = "Promise<string>")]
    pub fn import_character(
        &self,
        bytes: Vec<u8>,
        #[wasm_bindgen(js_name = fileType)] file_type: String,
        #[wasm_bindgen(js_name = fileName)] file_name: String,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue,
    ) -> Promise {
        self.run(&opts, |c| async move { Ok(JsValue::from_str(&js_ok!(c.import_character(bytes, &file_type, &file_name))?)) })
    }

    /// Exports a character as "png" or "json" bytes.
    #[wasm_bindgen(js_name = exportCharacter, unchecked_return_type = "Promise<Uint8Array>")]
    pub fn export_character(&self, avatar: String, format: String, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { Ok(bytes(js_ok!(c.export_character(&avatar, &format))?)) })
    }

    /// The chat files of a character.
    #[wasm_bindgen(js_name = characterChats, unchecked_return_type = "Promise<Record<string, unknown>[]>")]
    pub fn character_chats(&self, avatar: String, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { to_js_value(&js_ok!(c.character_chats(&avatar))?) })
    }

    /// An avatar/background/persona thumbnail as image bytes (fetched with credentials: a plain
    /// `<img src>` is blocked by SillyTavern's Cross-Origin-Resource-Policy). Cached (in the
    /// `useCache` store too); a copy older than `maxAgeMs` (default 5 minutes) is returned and
    /// refreshed in the background.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array>")]
    pub fn thumbnail(
        &self,
        kind: String,
        file: String,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions & { maxAgeMs?: number }")] opts: JsValue,
    ) -> Promise {
        let max_age = number(&opts, "maxAgeMs").unwrap_or(300_000.0);
        let shared = Rc::clone(&self.inner);
        self.run(&opts, move |c| async move { Ok(bytes(Self::thumbnail_swr(c, shared, kind, file, max_age).await?)) })
    }

    /// A thumbnail as an object URL for `<img src>` (revoke it with `URL.revokeObjectURL`).
    #[wasm_bindgen(js_name = thumbnailUrl, unchecked_return_type = "Promise<string>")]
    pub fn thumbnail_url(
        &self,
        kind: String,
        file: String,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions & { maxAgeMs?: number }")] opts: JsValue,
    ) -> Promise {
        let max_age = number(&opts, "maxAgeMs").unwrap_or(300_000.0);
        let shared = Rc::clone(&self.inner);
        self.run(&opts, move |c| async move {
            let data = Self::thumbnail_swr(c, shared, kind, file, max_age).await?;
            let mime = if data.starts_with(&[0xFF, 0xD8]) {
                "image/jpeg"
            } else if data.starts_with(b"GIF8") {
                "image/gif"
            } else if data.starts_with(b"RIFF") {
                "image/webp"
            } else {
                "image/png"
            };
            let parts = js_sys::Array::of1(&Uint8Array::from(data.as_slice()));
            let bag = web_sys::BlobPropertyBag::new();
            bag.set_type(mime);
            let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &bag)?;
            Ok(JsValue::from_str(&web_sys::Url::create_object_url_with_blob(&blob)?))
        })
    }

    /// A solo chat's lines (header first); `[]` when it does not exist.
    #[wasm_bindgen(unchecked_return_type = "Promise<StChatLine[]>")]
    pub fn chat(&self, avatar: String, #[wasm_bindgen(js_name = fileName)] file_name: String, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { to_js_value(&js_ok!(c.chat(&avatar, &file_name))?) })
    }

    /// Saves a solo chat; rejects with "integrity_conflict" when it changed elsewhere (unless `force`).
    #[wasm_bindgen(js_name = saveChat, unchecked_return_type = "Promise<void>")]
    pub fn save_chat(
        &self,
        avatar: String,
        #[wasm_bindgen(js_name = fileName)] file_name: String,
        #[wasm_bindgen(unchecked_param_type = "StChatLine[]")] lines: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions & { force?: boolean }")] opts: JsValue,
    ) -> Promise {
        let lines: Result<Vec<Value>, JsValue> = from_js_value(lines, "chat lines");
        let force = flag(&opts, "force");
        self.run(&opts, |c| async move { js_ok!(c.save_chat(&avatar, &file_name, &lines?, force)).map(|_| JsValue::UNDEFINED) })
    }

    /// Deletes a solo chat.
    #[wasm_bindgen(js_name = deleteChat, unchecked_return_type = "Promise<void>")]
    pub fn delete_chat(&self, avatar: String, #[wasm_bindgen(js_name = fileName)] file_name: String, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { js_ok!(c.delete_chat(&avatar, &file_name)).map(|_| JsValue::UNDEFINED) })
    }

    /// Renames a chat file; resolves to the sanitised new name.
    #[wasm_bindgen(js_name = renameChat, unchecked_return_type = "Promise<string>")]
    pub fn rename_chat(
        &self,
        avatar: String,
        from: String,
        to: String,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions & { isGroup?: boolean }")] opts: JsValue,
    ) -> Promise {
        let is_group = flag(&opts, "isGroup");
        self.run(&opts, |c| async move { Ok(JsValue::from_str(&js_ok!(c.rename_chat(&avatar, &from, &to, is_group))?)) })
    }

    /// Syncs a local chat (`messages` in the local store's shape) with its linked SillyTavern
    /// chat: loads the server copy, merges — no message of either side is lost — and saves the
    /// merge, then reads it back to verify that every message is there (merging and saving again
    /// through integrity conflicts and saves of other writers); `force: true` overwrites the server copy
    /// instead (only when the user asked). When `localChanged`, replace the local messages with
    /// `messages`, and keep the returned `link`.
    #[wasm_bindgen(js_name = syncChat, unchecked_return_type = "Promise<ChatSyncResult>")]
    pub fn sync_chat(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ChatLink")] link: JsValue,
        #[wasm_bindgen(unchecked_param_type = "BridgeMessage[]")] messages: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions & { force?: boolean }")] opts: JsValue,
    ) -> Promise {
        let link: Result<ChatLink, JsValue> = from_js_value(link, "chat link");
        let messages: Result<Vec<NewMessage>, JsValue> = from_js_value(messages, "messages");
        let force = flag(&opts, "force");
        self.run(&opts, |c| async move { sync_result(js_ok!(c.sync_chat(&link?, &messages?, force))?) })
    }

    /// Exports a chat file: `format` "jsonl" (the raw file) or "txt" (a transcript).
    #[wasm_bindgen(js_name = exportChat, unchecked_return_type = "Promise<string>")]
    pub fn export_chat(
        &self,
        avatar: String,
        #[wasm_bindgen(js_name = fileName)] file_name: String,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions & { format?: \"jsonl\" | \"txt\"; isGroup?: boolean }")] opts: JsValue,
    ) -> Promise {
        let format = if opts.is_object() { Reflect::get(&opts, &JsValue::from_str("format")).ok().and_then(|v| v.as_string()) } else { None };
        let is_group = flag(&opts, "isGroup");
        self.run(&opts, move |c| async move {
            Ok(JsValue::from_str(&js_ok!(c.export_chat(&avatar, &file_name, format.as_deref().unwrap_or("jsonl"), is_group))?))
        })
    }

    /// Imports a chat file for a character (`fileType` "jsonl" or "json"); resolves to the new file names.
    #[wasm_bindgen(js_name = importChat, unchecked_return_type = "Promise<string[]>")]
    pub fn import_chat(
        &self,
        avatar: String,
        #[wasm_bindgen(js_name = characterName)] character_name: String,
        #[wasm_bindgen(js_name = userName)] user_name: String,
        bytes: Vec<u8>,
        #[wasm_bindgen(js_name = fileType)] file_type: String,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue,
    ) -> Promise {
        self.run(&opts, move |c| async move { to_js_value(&js_ok!(c.import_chat(&avatar, &character_name, &user_name, bytes, &file_type))?) })
    }

    /// A group chat's lines.
    #[wasm_bindgen(js_name = groupChat, unchecked_return_type = "Promise<StChatLine[]>")]
    pub fn group_chat(&self, #[wasm_bindgen(js_name = chatId)] chat_id: String, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { to_js_value(&js_ok!(c.group_chat(&chat_id))?) })
    }

    /// Saves a group chat (integrity rules as for solo chats).
    #[wasm_bindgen(js_name = saveGroupChat, unchecked_return_type = "Promise<void>")]
    pub fn save_group_chat(
        &self,
        #[wasm_bindgen(js_name = chatId)] chat_id: String,
        #[wasm_bindgen(unchecked_param_type = "StChatLine[]")] lines: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions & { force?: boolean }")] opts: JsValue,
    ) -> Promise {
        let lines: Result<Vec<Value>, JsValue> = from_js_value(lines, "chat lines");
        let force = flag(&opts, "force");
        self.run(&opts, |c| async move { js_ok!(c.save_group_chat(&chat_id, &lines?, force)).map(|_| JsValue::UNDEFINED) })
    }

    /// Imports a group chat file (JSONL); resolves to the new chat id.
    #[wasm_bindgen(js_name = importGroupChat, unchecked_return_type = "Promise<string>")]
    pub fn import_group_chat(&self, bytes: Vec<u8>, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, move |c| async move { Ok(JsValue::from_str(&js_ok!(c.import_group_chat(bytes))?)) })
    }

    /// Deletes a group chat.
    #[wasm_bindgen(js_name = deleteGroupChat, unchecked_return_type = "Promise<void>")]
    pub fn delete_group_chat(&self, #[wasm_bindgen(js_name = chatId)] chat_id: String, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { js_ok!(c.delete_group_chat(&chat_id)).map(|_| JsValue::UNDEFINED) })
    }

    /// All groups.
    #[wasm_bindgen(unchecked_return_type = "Promise<Record<string, unknown>[]>")]
    pub fn groups(&self, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { to_js_value(&js_ok!(c.groups())?) })
    }

    /// Creates a group from a partial group; resolves to the full group.
    #[wasm_bindgen(js_name = createGroup, unchecked_return_type = "Promise<Record<string, unknown>>")]
    pub fn create_group(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] group: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue,
    ) -> Promise {
        let group = json_arg(group, "group");
        self.run(&opts, |c| async move { to_js_value(&js_ok!(c.create_group(&group?))?) })
    }

    /// Replaces a group with the complete object given.
    #[wasm_bindgen(js_name = editGroup, unchecked_return_type = "Promise<void>")]
    pub fn edit_group(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] group: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue,
    ) -> Promise {
        let group = json_arg(group, "group");
        self.run(&opts, |c| async move { js_ok!(c.edit_group(&group?)).map(|_| JsValue::UNDEFINED) })
    }

    /// Deletes a group and its chats.
    #[wasm_bindgen(js_name = deleteGroup, unchecked_return_type = "Promise<void>")]
    pub fn delete_group(&self, id: String, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { js_ok!(c.delete_group(&id)).map(|_| JsValue::UNDEFINED) })
    }

    /// Lorebook names.
    #[wasm_bindgen(js_name = worldInfoList, unchecked_return_type = "Promise<{ file_id: string; name: string }[]>")]
    pub fn world_info_list(&self, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { to_js_value(&js_ok!(c.worldinfo_list())?) })
    }

    /// A lorebook file (`{ entries: {} }` when missing).
    #[wasm_bindgen(js_name = worldInfo, unchecked_return_type = "Promise<StWorldInfo>")]
    pub fn world_info(&self, name: String, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { to_js_value(&js_ok!(c.worldinfo(&name))?) })
    }

    /// Saves a lorebook.
    #[wasm_bindgen(js_name = saveWorldInfo, unchecked_return_type = "Promise<void>")]
    pub fn save_world_info(
        &self,
        name: String,
        #[wasm_bindgen(unchecked_param_type = "StWorldInfo")] data: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue,
    ) -> Promise {
        let data = json_arg(data, "world info");
        self.run(&opts, |c| async move { js_ok!(c.save_worldinfo(&name, &data?)).map(|_| JsValue::UNDEFINED) })
    }

    /// Imports a lorebook file; its name (without extension) names the book. Resolves to the name.
    #[wasm_bindgen(js_name = importWorldInfo, unchecked_return_type = "Promise<string>")]
    pub fn import_world_info(
        &self,
        bytes: Vec<u8>,
        #[wasm_bindgen(js_name = fileName)] file_name: String,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue,
    ) -> Promise {
        self.run(&opts, move |c| async move { Ok(JsValue::from_str(&js_ok!(c.import_worldinfo(bytes, &file_name))?)) })
    }

    /// Deletes a lorebook.
    #[wasm_bindgen(js_name = deleteWorldInfo, unchecked_return_type = "Promise<void>")]
    pub fn delete_world_info(&self, name: String, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { js_ok!(c.delete_worldinfo(&name)).map(|_| JsValue::UNDEFINED) })
    }

    /// The user's SillyTavern settings, parsed.
    #[wasm_bindgen(unchecked_return_type = "Promise<Record<string, unknown>>")]
    pub fn settings(&self, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] opts: JsValue) -> Promise {
        self.run(&opts, |c| async move { to_js_value(&js_ok!(c.settings())?) })
    }
}

/// Finds the SillyTavern character a local card corresponds to: the same avatar file name
/// (`avatarHint`) first, else the same name and description. Returns its avatar or `null`.
#[wasm_bindgen(js_name = matchCharacter, unchecked_return_type = "string | null")]
pub fn match_character(
    #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] card: JsValue,
    #[wasm_bindgen(js_name = avatarHint)] avatar_hint: Option<String>,
    #[wasm_bindgen(js_name = stCharacters, unchecked_param_type = "StCharacter[]")] st_characters: JsValue,
) -> Result<JsValue, JsValue> {
    let card: Value = from_js_value(card, "card")?;
    let list: Vec<Value> = from_js_value(st_characters, "stCharacters")?;
    Ok(crate::client::bridge::match_character(&card, avatar_hint.as_deref(), &list).map_or(JsValue::NULL, |a| JsValue::from_str(&a)))
}
