//! The SillyTavern API client, written once against [`Transport`].
//!
//! What every call gets: the CSRF token (fetched once, sent as `X-CSRF-Token` on every POST,
//! refreshed and retried once when the server rejects it), a token-bucket rate limit, bounded
//! retries with backoff on transient failures (only for requests that are safe to repeat), and
//! SillyTavern's error shapes turned into typed errors (`200 {error}` bodies included).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde_json::{json, Value};

use super::http::{Body, Method, Request, Response, Transport};
use super::limiter::{RateLimit, TokenBucket};
use super::retry::{is_retryable, RetryPolicy};
use super::share::{Cache, Coalescer, Lookup};
use super::status::{csrf_rejected, error_for_status, is_csrf_rejection, soft_error};
use crate::error::{Error, ErrorCode, Result};
use crate::store::cache::{CacheEntry, ResponseCache};

/// Client settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientOptions {
    /// Requests per server.
    pub rate_limit: RateLimit,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// Per-request timeout in ms (0 = none).
    pub timeout_ms: u32,
    /// HTTP Basic credentials (`Authorization` header on every request), for a SillyTavern
    /// with `basicAuthMode` behind `listen: true`.
    pub basic_auth: Option<(String, String)>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions { rate_limit: RateLimit::default(), retry: RetryPolicy::default(), timeout_ms: 30_000, basic_auth: None }
    }
}

/// `Basic base64(user:password)`.
pub fn basic_auth_header(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// A SillyTavern server.
pub struct StClient<T: Transport> {
    transport: T,
    shared: Rc<Shared>,
}

/// What all views of one server share: settings, the CSRF token and the rate limiters.
struct Shared {
    options: ClientOptions,
    csrf: RefCell<Option<String>>,
    /// Reads and writes (lists, CRUD, chats).
    limiter: RefCell<TokenBucket>,
    /// Generations: their own bucket, so a generation never waits behind background reads.
    generation_limiter: RefCell<TokenBucket>,
    reads: Coalescer<Response>,
    cache: Cache<Rc<Response>>,
    /// Bumped by every invalidation: a read that began before one does not fill the caches.
    epoch: Cell<u64>,
    /// The persistent layer under `cache`, if any (see [`StClient::use_persistent_cache`]).
    persistent: RefCell<Option<Persistent>>,
    /// The handle of the logged-in user when known (from `login` or `me`), part of the
    /// persistent keys so that two users of one server never share entries.
    user: RefCell<String>,
}

/// A persistent response cache and the server its keys belong to.
#[derive(Clone)]
struct Persistent {
    cache: Rc<dyn ResponseCache>,
    server: String,
}

/// Cached reads kept per server (character lists, thumbnails, …).
const CACHE_ENTRIES: usize = 512;

/// A value read through the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct Cached<T> {
    /// The value.
    pub value: T,
    /// True when it came from the cache but is older than the max age: refresh it.
    pub stale: bool,
    /// True when it came from the cache at all.
    pub from_cache: bool,
    /// When the value was fetched (epoch ms): the identity of this cached copy.
    pub fetched_ms: f64,
}

/// What a request does, which decides retries, sharing and cache invalidation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Reads: retried, and identical concurrent reads share one request.
    Read,
    /// Idempotent writes (saves, deletes): retried; clear the read cache.
    Write,
    /// Writes that must not happen twice (create, import, duplicate, rename): retried only on
    /// 429; clear the read cache.
    Create,
}

impl<T: Transport> StClient<T> {
    /// A client over `transport`.
    pub fn new(transport: T, options: ClientOptions) -> Self {
        let now = transport.now_ms();
        let shared = Shared {
            limiter: RefCell::new(TokenBucket::new(options.rate_limit, now)),
            generation_limiter: RefCell::new(TokenBucket::new(options.rate_limit, now)),
            options,
            csrf: RefCell::new(None),
            reads: Coalescer::default(),
            cache: Cache::new(CACHE_ENTRIES),
            epoch: Cell::new(0),
            persistent: RefCell::new(None),
            user: RefCell::new(String::new()),
        };
        StClient { transport, shared: Rc::new(shared) }
    }

    /// The same server (token, limiter, settings) over another transport — e.g. one carrying a
    /// per-call `AbortSignal`.
    pub fn with_transport<U: Transport>(&self, transport: U) -> StClient<U> {
        StClient { transport, shared: Rc::clone(&self.shared) }
    }

    /// The transport (for the browser layer).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Keeps cached reads (the character list, thumbnails) in `cache` too, so that another
    /// client over the same cache — e.g. after a page reload — is served them at once (fresh
    /// or stale by age, exactly like the memory cache). Keys are `server`, the logged-in
    /// user's handle when known, and the request; every successful write through this client
    /// drops all of `server`'s entries. `None` detaches the layer. Shared by every view
    /// ([`StClient::with_transport`]) of this client.
    pub fn use_persistent_cache(&self, cache: Option<Rc<dyn ResponseCache>>, server: &str) {
        *self.shared.persistent.borrow_mut() =
            cache.map(|cache| Persistent { cache, server: server.trim_end_matches('/').to_string() });
    }

    /// The persistent layer and the key of a request in it.
    fn persistent_key(&self, request_key: &str) -> Option<(Rc<dyn ResponseCache>, String)> {
        let p = self.shared.persistent.borrow().clone()?;
        let key = format!("{}\n{}\n{request_key}", p.server, self.shared.user.borrow());
        Some((p.cache, key))
    }

    /// Drops the memory cache (reads in flight will not fill it) and the persistent entries of
    /// this server. A persistent layer that fails to clear is detached (this client no longer
    /// reads entries it could not invalidate) and the error returned.
    async fn invalidate(&self) -> Result<()> {
        self.clear_cache();
        let layer = self.shared.persistent.borrow().clone();
        let Some(p) = layer else { return Ok(()) };
        let r = p.cache.clear(&format!("{}\n", p.server)).await;
        if r.is_err() {
            *self.shared.persistent.borrow_mut() = None;
        }
        r
    }

    /// Waits for a rate-limit token, then sends.
    async fn send_limited(&self, req: &Request) -> Result<Response> {
        self.throttle().await;
        match &self.shared.options.basic_auth {
            Some((user, password)) => {
                let mut req = req.clone();
                req.headers.push(("Authorization".into(), basic_auth_header(user, password)));
                self.transport.send(&req).await
            }
            None => self.transport.send(req).await,
        }
    }

    /// The CSRF token, fetched once per client (and again after a rejection).
    pub async fn csrf_token(&self) -> Result<String> {
        if let Some(t) = self.shared.csrf.borrow().clone() {
            return Ok(t);
        }
        let mut req = Request::get("/csrf-token");
        req.timeout_ms = self.shared.options.timeout_ms;
        let resp = self.send_limited(&req).await?;
        if !resp.ok() {
            return Err(error_for_status(resp.status, &resp.text()));
        }
        let token = serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_string))
            .ok_or_else(|| Error::new(ErrorCode::ServerError, "GET /csrf-token did not return a token: is this a SillyTavern server?"))?;
        *self.shared.csrf.borrow_mut() = Some(token.clone());
        Ok(token)
    }

    /// Adds the CSRF token to a request sent outside [`StClient`]'s own calls (streaming).
    pub async fn authorize(&self, req: &mut Request) -> Result<()> {
        let token = self.csrf_token().await?;
        req.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("x-csrf-token"));
        req.headers.push(("X-CSRF-Token".into(), token));
        Ok(())
    }

    /// The error for a CSRF rejection of a freshly fetched token (explains a page and server on
    /// different host names).
    pub fn csrf_rejected(&self, status: u16, body: &str) -> Error {
        csrf_rejected(self.transport.page_origin().as_deref(), self.transport.server_url().as_deref(), status, body)
    }

    /// Forgets the CSRF token (after the server rejected it).
    pub fn invalidate_csrf(&self) {
        *self.shared.csrf.borrow_mut() = None;
    }

    /// Waits for the rate limiter of reads and writes.
    pub async fn throttle(&self) {
        self.wait_for(&self.shared.limiter).await
    }

    /// Waits for the generation rate limiter: a bucket of its own (same settings), so that a
    /// generation never queues behind list or CRUD calls made in the background.
    pub async fn throttle_generation(&self) {
        self.wait_for(&self.shared.generation_limiter).await
    }

    async fn wait_for(&self, bucket: &RefCell<TokenBucket>) {
        loop {
            let wait = bucket.borrow_mut().try_acquire(self.transport.now_ms());
            match wait {
                Ok(()) => return,
                Err(ms) => self.transport.sleep(ms).await,
            }
        }
    }

    /// Sends a request; identical concurrent reads share one request, and successful writes
    /// clear the read cache.
    async fn call(&self, req: Request, op: Op) -> Result<Response> {
        if op == Op::Read && !self.transport.cancellable() {
            let key = request_key(&req);
            return self.shared.reads.run(key, || self.call_once(req, op)).await;
        }
        let result = self.call_once(req, op).await;
        if op != Op::Read && result.is_ok() {
            // The write itself succeeded: a cache that could not be cleared is not its error
            // (the layer is detached instead).
            let _ = self.invalidate().await;
        }
        result
    }

    /// A read served from the cache when younger than `max_age_ms` (or stale, flagged, when
    /// older — the caller refreshes it), else fetched and cached. A memory miss looks in the
    /// persistent layer (and keeps what it finds in memory) before going to the server.
    async fn call_cached(&self, req: Request, max_age_ms: f64) -> Result<Cached<Rc<Response>>> {
        let key = request_key(&req);
        if let Some(hit) = self.cached(&key, max_age_ms) {
            return Ok(hit);
        }
        if let Some((layer, pkey)) = self.persistent_key(&key) {
            let epoch = self.shared.epoch.get();
            // A broken persistent layer is a miss, never an error.
            if let Ok(Some(e)) = layer.get(&pkey).await {
                if self.shared.epoch.get() == epoch {
                    let mut headers = Vec::new();
                    if !e.content_type.is_empty() {
                        headers.push(("content-type".to_string(), e.content_type));
                    }
                    self.shared.cache.put(
                        key.clone(),
                        Rc::new(Response { status: 200, headers, body: e.body }),
                        e.fetched_ms,
                    );
                    if let Some(hit) = self.cached(&key, max_age_ms) {
                        return Ok(hit);
                    }
                }
            }
        }
        self.fetch_and_cache(req).await
    }

    /// The memory cache's answer, if it has one.
    fn cached(&self, key: &str, max_age_ms: f64) -> Option<Cached<Rc<Response>>> {
        match self.shared.cache.get(key, self.transport.now_ms(), max_age_ms) {
            Lookup::Fresh(value, fetched_ms) => Some(Cached { value, stale: false, from_cache: true, fetched_ms }),
            Lookup::Stale(value, fetched_ms) => Some(Cached { value, stale: true, from_cache: true, fetched_ms }),
            Lookup::Miss => None,
        }
    }

    /// Fetches a read and stores it in the memory cache and the persistent layer (unless an
    /// invalidation happened meanwhile: then the answer may predate a write, and is not kept).
    async fn fetch_and_cache(&self, req: Request) -> Result<Cached<Rc<Response>>> {
        let key = request_key(&req);
        let epoch = self.shared.epoch.get();
        let value = Rc::new(self.call(req, Op::Read).await?);
        // Only an object can be `{error}` (lists and images are never parsed here).
        if value.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            if let Some(e) = soft_error(&value.text()) {
                return Err(e);
            }
        }
        let fetched_ms = self.transport.now_ms();
        if self.shared.epoch.get() == epoch {
            if let Some((layer, pkey)) = self.persistent_key(&key) {
                let content_type = value.header("content-type").unwrap_or("").to_string();
                layer.put(&pkey, CacheEntry { body: value.body.clone(), content_type, fetched_ms });
            }
            self.shared.cache.put(key, Rc::clone(&value), fetched_ms);
        }
        Ok(Cached { value, stale: false, from_cache: false, fetched_ms })
    }

    /// Drops every cached read of the memory cache (reads in flight will not fill it).
    pub fn clear_cache(&self) {
        self.shared.cache.clear();
        self.shared.epoch.set(self.shared.epoch.get() + 1);
    }

    /// Drops every cached read, the persistent entries of this server included.
    pub async fn clear_all_caches(&self) -> Result<()> {
        self.invalidate().await
    }

    /// Sends a request with CSRF, rate limiting and retries; returns a 2xx response.
    async fn call_once(&self, mut req: Request, op: Op) -> Result<Response> {
        req.timeout_ms = self.shared.options.timeout_ms;
        let mut csrf_refreshed = false;
        let mut retry = 0;
        loop {
            if req.method == Method::Post {
                self.authorize(&mut req).await?;
            }
            let outcome = self.send_limited(&req).await;
            let err = match outcome {
                Ok(resp) if resp.ok() => return Ok(resp),
                Ok(resp) => {
                    let body = resp.text();
                    if is_csrf_rejection(resp.status, &body) {
                        if !csrf_refreshed {
                            csrf_refreshed = true;
                            self.invalidate_csrf();
                            continue;
                        }
                        return Err(self.csrf_rejected(resp.status, &body));
                    }
                    let retry_after = resp.header("retry-after").and_then(|v| super::retry::parse_retry_after(v, self.transport.now_ms()));
                    error_for_status(resp.status, &body).with_retry_after(retry_after)
                }
                Err(e) => e,
            };
            retry += 1;
            let may_repeat = op != Op::Create || err.code() == ErrorCode::RateLimited;
            if !(may_repeat && is_retryable(err.code())) {
                return Err(err);
            }
            let mut rnd = || self.transport.random();
            match self.shared.options.retry.delay_ms(retry, err.retry_after_ms(), &mut rnd) {
                Some(ms) => self.transport.sleep(ms).await,
                None => return Err(err),
            }
        }
    }

    /// POSTs JSON and parses a JSON answer (an empty body is `null`); `200 {error}` is an error.
    async fn post(&self, path: &str, body: Value, op: Op) -> Result<Value> {
        let resp = self.call(Request::post_json(path, body), op).await?;
        parse_json_body(&resp)
    }

    /// POSTs JSON and returns the body as text (for endpoints that answer `OK` or a file name).
    async fn post_text(&self, path: &str, body: Value, op: Op) -> Result<String> {
        let resp = self.call(Request::post_json(path, body), op).await?;
        let text = resp.text();
        if let Some(e) = soft_error(&text) {
            return Err(e);
        }
        Ok(text)
    }

    // ---- accounts -----------------------------------------------------------------------------

    /// Logs in to a SillyTavern with user accounts (`enableUserAccounts`); the session cookie is
    /// updated by the server, and the CSRF token stays valid.
    pub async fn login(&self, handle: &str, password: &str) -> Result<()> {
        let r = self.post("/api/users/login", json!({"handle": handle, "password": password}), Op::Create).await;
        self.clear_cache();
        if r.is_ok() {
            *self.shared.user.borrow_mut() = handle.to_string();
        }
        match r {
            Err(e) if e.code() == ErrorCode::Forbidden => {
                Err(Error::new(ErrorCode::Unauthorized, format!("login refused for {handle:?}: {}", e.message())))
            }
            other => other.map(drop),
        }
    }

    /// Logs out; the next call fetches a fresh CSRF token.
    pub async fn logout(&self) -> Result<()> {
        self.post_text("/api/users/logout", json!({}), Op::Write).await?;
        self.invalidate_csrf();
        self.shared.user.borrow_mut().clear();
        Ok(())
    }

    /// The logged-in user (`/api/users/me`). Its handle keys this client's persistent cache
    /// entries from now on.
    pub async fn me(&self) -> Result<Value> {
        let resp = self.call(Request::get("/api/users/me"), Op::Read).await?;
        let v = parse_json_body(&resp)?;
        if let Some(h) = v.get("handle").and_then(Value::as_str) {
            *self.shared.user.borrow_mut() = h.to_string();
        }
        Ok(v)
    }

    // ---- characters -------------------------------------------------------------------------

    /// All characters (`/api/characters/all`; shallow objects when the server is configured so).
    pub async fn characters(&self) -> Result<Vec<Value>> {
        expect_array(self.post("/api/characters/all", json!({}), Op::Read).await?, "characters/all")
    }

    /// All characters through the cache (see [`Cached`]); the list is dropped from the cache by
    /// any write through this client, and refreshed with [`StClient::refresh_characters`].
    pub async fn characters_cached(&self, max_age_ms: f64) -> Result<Cached<Vec<Value>>> {
        let c = self.characters_cached_raw(max_age_ms).await?;
        let list = expect_array(parse_json_body(&c.value)?, "characters/all")?;
        Ok(Cached { value: list, stale: c.stale, from_cache: c.from_cache, fetched_ms: c.fetched_ms })
    }

    /// [`StClient::characters_cached`] without parsing: the JS layer parses the body with the
    /// browser's own `JSON.parse` and keeps the parsed list per [`Cached::fetched_ms`].
    pub async fn characters_cached_raw(&self, max_age_ms: f64) -> Result<Cached<Rc<Response>>> {
        self.call_cached(Request::post_json("/api/characters/all", json!({})), max_age_ms).await
    }

    /// Fetches the character list again and replaces the cached copy.
    pub async fn refresh_characters(&self) -> Result<Vec<Value>> {
        let resp = self.refresh_characters_raw().await?;
        expect_array(parse_json_body(&resp.value)?, "characters/all")
    }

    /// [`StClient::refresh_characters`] without parsing.
    pub async fn refresh_characters_raw(&self) -> Result<Cached<Rc<Response>>> {
        self.fetch_and_cache(Request::post_json("/api/characters/all", json!({}))).await
    }

    /// One full character by avatar file name (`Alice.png`).
    pub async fn character(&self, avatar: &str) -> Result<Value> {
        self.post("/api/characters/get", json!({ "avatar_url": avatar }), Op::Read).await
    }

    /// Creates a character from a V2/V3 card JSON (kept whole through `json_data`), with an
    /// optional PNG avatar. Returns the new avatar file name.
    pub async fn create_character(&self, card: &Value, avatar_png: Option<Vec<u8>>) -> Result<String> {
        let fields = character_form_fields(card)?;
        let file = avatar_png.map(|b| ("avatar".to_string(), "avatar.png".to_string(), "image/png".to_string(), b));
        let req = multipart("/api/characters/create", fields, file);
        let resp = self.call(req, Op::Create).await?;
        let name = resp.text().trim().to_string();
        if name.is_empty() || soft_error(&name).is_some() {
            return Err(Error::new(ErrorCode::ServerError, format!("characters/create gave no file name: {name}")));
        }
        Ok(name)
    }

    /// Replaces a character's card with `card` (`/api/characters/edit`, the full-edit form), keeping
    /// its avatar file name; an optional new PNG avatar replaces the image.
    pub async fn edit_character(&self, avatar: &str, card: &Value, avatar_png: Option<Vec<u8>>) -> Result<()> {
        let mut fields = character_form_fields(card)?;
        fields.push(("avatar_url".into(), avatar.to_string()));
        let file = avatar_png.map(|b| ("avatar".to_string(), "avatar.png".to_string(), "image/png".to_string(), b));
        let resp = self.call(multipart("/api/characters/edit", fields, file), Op::Write).await?;
        if let Some(e) = soft_error(&resp.text()) {
            return Err(e);
        }
        Ok(())
    }

    /// Deep-merges a partial card into a stored character (`/api/characters/merge-attributes`).
    pub async fn merge_character(&self, avatar: &str, partial: &Value) -> Result<()> {
        let mut body = partial.clone();
        let obj = body.as_object_mut().ok_or_else(|| Error::invalid_argument("merge data must be an object"))?;
        obj.insert("avatar".into(), json!(avatar));
        self.post_text("/api/characters/merge-attributes", body, Op::Write).await.map(drop)
    }

    /// Renames a character; returns the new avatar file name.
    pub async fn rename_character(&self, avatar: &str, new_name: &str) -> Result<String> {
        let v = self.post("/api/characters/rename", json!({"avatar_url": avatar, "new_name": new_name}), Op::Create).await?;
        string_field(&v, "avatar", "characters/rename")
    }

    /// Deletes a character (and its chats when `delete_chats`).
    pub async fn delete_character(&self, avatar: &str, delete_chats: bool) -> Result<()> {
        self.post_text("/api/characters/delete", json!({"avatar_url": avatar, "delete_chats": delete_chats}), Op::Write)
            .await
            .map(drop)
    }

    /// Duplicates a character; returns the copy's avatar file name.
    pub async fn duplicate_character(&self, avatar: &str) -> Result<String> {
        let v = self.post("/api/characters/duplicate", json!({ "avatar_url": avatar }), Op::Create).await?;
        string_field(&v, "path", "characters/duplicate")
    }

    /// Imports a card file (`png`, `json`, `yaml`, `charx`, `byaf`); returns the avatar file name.
    pub async fn import_character(&self, bytes: Vec<u8>, file_type: &str, file_name: &str) -> Result<String> {
        let req = multipart(
            "/api/characters/import",
            vec![("file_type".into(), file_type.into())],
            Some(("avatar".into(), file_name.into(), "application/octet-stream".into(), bytes)),
        );
        let resp = self.call(req, Op::Create).await?;
        let v = parse_json_body(&resp)?;
        let name = string_field(&v, "file_name", "characters/import")?;
        Ok(if name.ends_with(".png") { name } else { format!("{name}.png") })
    }

    /// Exports a character as `png` or `json` bytes.
    pub async fn export_character(&self, avatar: &str, format: &str) -> Result<Vec<u8>> {
        let req = Request::post_json("/api/characters/export", json!({"avatar_url": avatar, "format": format}));
        Ok(self.call(req, Op::Read).await?.body)
    }

    /// The chat files of a character (empty when it has no chats folder yet).
    pub async fn character_chats(&self, avatar: &str) -> Result<Vec<Value>> {
        let resp = self.call(Request::post_json("/api/characters/chats", json!({"avatar_url": avatar})), Op::Read).await?;
        let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        // `{error:true}` here only means "no chats folder yet".
        Ok(match v {
            Value::Array(a) => a,
            Value::Object(_) => Vec::new(),
            _ => return Err(Error::new(ErrorCode::ServerError, "characters/chats: unexpected answer")),
        })
    }

    /// A thumbnail or original image (GET, with credentials): `kind` is `avatar`, `bg` or `persona`.
    /// Cached for `max_age_ms`; an older cached copy is returned as it is (use
    /// [`StClient::thumbnail_cached`] to know and refresh it).
    pub async fn thumbnail(&self, kind: &str, file: &str, max_age_ms: f64) -> Result<Vec<u8>> {
        Ok(self.thumbnail_cached(kind, file, max_age_ms).await?.value.body.clone())
    }

    /// A thumbnail through the cache (see [`Cached`]); refresh a stale one with
    /// [`StClient::refresh_thumbnail`].
    pub async fn thumbnail_cached(&self, kind: &str, file: &str, max_age_ms: f64) -> Result<Cached<Rc<Response>>> {
        self.call_cached(thumbnail_request(kind, file), max_age_ms).await
    }

    /// Fetches a thumbnail again and replaces the cached copy.
    pub async fn refresh_thumbnail(&self, kind: &str, file: &str) -> Result<Cached<Rc<Response>>> {
        self.fetch_and_cache(thumbnail_request(kind, file)).await
    }

    // ---- chats ------------------------------------------------------------------------------

    /// A solo chat as its JSONL lines (header first); empty when it does not exist.
    pub async fn chat(&self, avatar: &str, file_name: &str) -> Result<Vec<Value>> {
        let v = self.post("/api/chats/get", json!({"avatar_url": avatar, "file_name": file_name}), Op::Read).await?;
        Ok(match v {
            Value::Array(a) => a,
            _ => Vec::new(),
        })
    }

    /// Saves a solo chat. Without `force`, an integrity mismatch is an `integrity_conflict` error.
    pub async fn save_chat(&self, avatar: &str, file_name: &str, lines: &[Value], force: bool) -> Result<()> {
        let body = json!({"avatar_url": avatar, "file_name": file_name, "chat": lines, "force": force});
        self.post("/api/chats/save", body, Op::Write).await.map(drop)
    }

    /// Deletes a solo chat file.
    pub async fn delete_chat(&self, avatar: &str, file_name: &str) -> Result<()> {
        let chatfile = if file_name.ends_with(".jsonl") { file_name.to_string() } else { format!("{file_name}.jsonl") };
        self.post_text("/api/chats/delete", json!({"avatar_url": avatar, "chatfile": chatfile}), Op::Write).await.map(drop)
    }

    /// Renames a chat file; returns the sanitised new name.
    pub async fn rename_chat(&self, avatar: &str, from: &str, to: &str, is_group: bool) -> Result<String> {
        let with_ext = |s: &str| if s.ends_with(".jsonl") { s.to_string() } else { format!("{s}.jsonl") };
        let body = json!({"avatar_url": avatar, "original_file": with_ext(from), "renamed_file": with_ext(to), "is_group": is_group});
        let v = self.post("/api/chats/rename", body, Op::Create).await?;
        Ok(v.get("sanitizedFileName").and_then(Value::as_str).unwrap_or(to).to_string())
    }

    /// Exports a chat file as `jsonl` (the raw file) or `txt` (readable transcript).
    pub async fn export_chat(&self, avatar: &str, file_name: &str, format: &str, is_group: bool) -> Result<String> {
        let file = if file_name.ends_with(".jsonl") { file_name.to_string() } else { format!("{file_name}.jsonl") };
        let body = json!({"avatar_url": avatar, "file": file, "exportfilename": file, "format": format, "is_group": is_group});
        let v = self.post("/api/chats/export", body, Op::Read).await?;
        string_field(&v, "result", "chats/export")
    }

    /// Imports a chat file (`jsonl`, or `json` from Kobold Lite, CAI Tools, Oobabooga, Agnai,
    /// RisuAI) for a character; returns the new chat file names.
    pub async fn import_chat(&self, avatar: &str, character_name: &str, user_name: &str, bytes: Vec<u8>, file_type: &str) -> Result<Vec<String>> {
        let fields = vec![
            ("file_type".to_string(), file_type.to_string()),
            ("avatar_url".to_string(), avatar.to_string()),
            ("character_name".to_string(), character_name.to_string()),
            ("user_name".to_string(), user_name.to_string()),
        ];
        let req = multipart("/api/chats/import", fields, Some(("avatar".into(), format!("chat.{file_type}"), "application/octet-stream".into(), bytes)));
        let v = parse_json_body(&self.call(req, Op::Create).await?)?;
        Ok(v.get("fileNames").and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default())
    }

    /// A group chat by chat id.
    pub async fn group_chat(&self, chat_id: &str) -> Result<Vec<Value>> {
        let v = self.post("/api/chats/group/get", json!({ "id": chat_id }), Op::Read).await?;
        Ok(match v {
            Value::Array(a) => a,
            _ => Vec::new(),
        })
    }

    /// Saves a group chat (same integrity rules as solo chats).
    pub async fn save_group_chat(&self, chat_id: &str, lines: &[Value], force: bool) -> Result<()> {
        self.post("/api/chats/group/save", json!({"id": chat_id, "chat": lines, "force": force}), Op::Write).await.map(drop)
    }

    /// Imports a group chat file (JSONL); returns the new chat id.
    pub async fn import_group_chat(&self, bytes: Vec<u8>) -> Result<String> {
        let req = multipart("/api/chats/group/import", vec![], Some(("avatar".into(), "chat.jsonl".into(), "application/octet-stream".into(), bytes)));
        let v = parse_json_body(&self.call(req, Op::Create).await?)?;
        match v.get("res") {
            Some(Value::String(id)) => Ok(id.clone()),
            Some(other) => Ok(other.to_string()),
            None => Err(Error::new(ErrorCode::ServerError, format!("chats/group/import: no `res` in {}", short(&v)))),
        }
    }

    /// Deletes a group chat.
    pub async fn delete_group_chat(&self, chat_id: &str) -> Result<()> {
        self.post_text("/api/chats/group/delete", json!({ "id": chat_id }), Op::Write).await.map(drop)
    }

    // ---- groups -----------------------------------------------------------------------------

    /// All groups.
    pub async fn groups(&self) -> Result<Vec<Value>> {
        expect_array(self.post("/api/groups/all", json!({}), Op::Read).await?, "groups/all")
    }

    /// Creates a group from a partial group object; returns the full group.
    pub async fn create_group(&self, group: &Value) -> Result<Value> {
        self.post("/api/groups/create", group.clone(), Op::Create).await
    }

    /// Replaces a group with the complete object given.
    pub async fn edit_group(&self, group: &Value) -> Result<()> {
        self.post("/api/groups/edit", group.clone(), Op::Write).await.map(drop)
    }

    /// Deletes a group and its chats.
    pub async fn delete_group(&self, id: &str) -> Result<()> {
        self.post("/api/groups/delete", json!({ "id": id }), Op::Write).await.map(drop)
    }

    // ---- world info -------------------------------------------------------------------------

    /// Lorebook names (`[{file_id, name, extensions}]`).
    pub async fn worldinfo_list(&self) -> Result<Vec<Value>> {
        expect_array(self.post("/api/worldinfo/list", json!({}), Op::Read).await?, "worldinfo/list")
    }

    /// A lorebook file (`{entries:{}}` when missing).
    pub async fn worldinfo(&self, name: &str) -> Result<Value> {
        self.post("/api/worldinfo/get", json!({ "name": name }), Op::Read).await
    }

    /// Saves a lorebook (must have `entries`).
    pub async fn save_worldinfo(&self, name: &str, data: &Value) -> Result<()> {
        if data.get("entries").map_or(true, |e| !e.is_object()) {
            return Err(Error::invalid_argument("a SillyTavern lorebook needs an `entries` object"));
        }
        self.post("/api/worldinfo/edit", json!({"name": name, "data": data}), Op::Write).await.map(drop)
    }

    /// Imports a lorebook file (SillyTavern, Agnai, NovelAI, RisuAI, … formats the server reads);
    /// `file_name` without extension becomes the book's name. Returns the name.
    pub async fn import_worldinfo(&self, bytes: Vec<u8>, file_name: &str) -> Result<String> {
        let req = multipart("/api/worldinfo/import", vec![], Some(("avatar".into(), file_name.into(), "application/json".into(), bytes)));
        let v = parse_json_body(&self.call(req, Op::Create).await?)?;
        string_field(&v, "name", "worldinfo/import")
    }

    /// Imports a character or lorebook from a URL the server supports (Chub, JanitorAI, RisuRealm,
    /// … or a direct PNG on a host in its `whitelistImportDomains`): the server fetches it, then
    /// it is uploaded to the matching import endpoint. Returns `(kind, name)` with kind
    /// `character` (name = avatar file name) or `lorebook`.
    pub async fn import_from_url(&self, url: &str) -> Result<(String, String)> {
        let resp = self.call(Request::post_json("/api/content/importURL", json!({ "url": url })), Op::Read).await?;
        let kind = resp.header("x-custom-content-type").map(str::to_string).ok_or_else(|| {
            Error::new(
                ErrorCode::ServerError,
                "importURL answered without X-Custom-Content-Type: add it to SillyTavern's cors.exposedHeaders",
            )
        })?;
        let tail = url.rsplit('/').next().unwrap_or("import").split(['?', '#']).next().unwrap_or("import");
        match kind.as_str() {
            "character" => {
                let png = resp.body.starts_with(b"\x89PNG");
                let (ty, name) = if png { ("png", format!("{}.png", tail.trim_end_matches(".png"))) } else { ("json", format!("{tail}.json")) };
                Ok(("character".into(), self.import_character(resp.body, ty, &name).await?))
            }
            "lorebook" => Ok(("lorebook".into(), self.import_worldinfo(resp.body, &format!("{}.json", tail.trim_end_matches(".json"))).await?)),
            other => Err(Error::new(ErrorCode::UnsupportedFormat, format!("importURL returned an unknown kind {other:?}"))),
        }
    }

    /// Deletes a lorebook.
    pub async fn delete_worldinfo(&self, name: &str) -> Result<()> {
        self.post_text("/api/worldinfo/delete", json!({ "name": name }), Op::Write).await.map(drop)
    }

    // ---- settings ---------------------------------------------------------------------------

    /// The user's settings (the server returns them as a JSON string; it is parsed here).
    pub async fn settings(&self) -> Result<Value> {
        let v = self.post("/api/settings/get", json!({}), Op::Read).await?;
        match v.get("settings") {
            Some(Value::String(s)) => serde_json::from_str(s)
                .map_err(|e| Error::new(ErrorCode::ServerError, format!("settings are not JSON: {e}"))),
            Some(other) => Ok(other.clone()),
            None => Err(Error::new(ErrorCode::ServerError, "settings/get answered without settings")),
        }
    }
}

/// Builds the multipart fields SillyTavern's `characters/create` reads from a V2/V3 card.
/// `json_data` carries the whole card so unknown fields survive.
pub fn character_form_fields(card: &Value) -> Result<Vec<(String, String)>> {
    let data = card.get("data").unwrap_or(card);
    let s = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let name = s("name");
    if name.trim().is_empty() {
        return Err(Error::invalid_argument("the character needs a name"));
    }
    let mut f = vec![("ch_name".to_string(), name)];
    for (field, key) in [
        ("description", "description"),
        ("personality", "personality"),
        ("scenario", "scenario"),
        ("first_mes", "first_mes"),
        ("mes_example", "mes_example"),
        ("creator_notes", "creator_notes"),
        ("system_prompt", "system_prompt"),
        ("post_history_instructions", "post_history_instructions"),
        ("creator", "creator"),
        ("character_version", "character_version"),
    ] {
        f.push((field.to_string(), s(key)));
    }
    if let Some(tags) = data.get("tags").and_then(Value::as_array) {
        let tags: Vec<&str> = tags.iter().filter_map(Value::as_str).collect();
        f.push(("tags".into(), tags.join(",")));
    }
    for g in data.get("alternate_greetings").and_then(Value::as_array).into_iter().flatten() {
        if let Some(g) = g.as_str() {
            f.push(("alternate_greetings".into(), g.to_string()));
        }
    }
    if let Some(ext) = data.get("extensions").filter(|e| e.is_object()) {
        if let Some(t) = ext.get("talkativeness") {
            f.push(("talkativeness".into(), t.as_str().map_or_else(|| t.to_string(), str::to_string)));
        }
        if let Some(dp) = ext.get("depth_prompt") {
            if let Some(p) = dp.get("prompt").and_then(Value::as_str) {
                f.push(("depth_prompt_prompt".into(), p.to_string()));
            }
            if let Some(d) = dp.get("depth").filter(|d| d.is_number()) {
                f.push(("depth_prompt_depth".into(), d.to_string()));
            }
            if let Some(r) = dp.get("role").and_then(Value::as_str) {
                f.push(("depth_prompt_role".into(), r.to_string()));
            }
        }
        f.push(("extensions".into(), ext.to_string()));
    }
    f.push(("json_data".into(), card.to_string()));
    Ok(f)
}

fn multipart(path: &str, fields: Vec<(String, String)>, file: Option<(String, String, String, Vec<u8>)>) -> Request {
    Request { method: Method::Post, path: path.into(), headers: Vec::new(), body: Body::Multipart { fields, file }, timeout_ms: 0 }
}

fn thumbnail_request(kind: &str, file: &str) -> Request {
    Request::get(format!("/thumbnail?type={}&file={}", url_encode(kind), url_encode(file)))
}

/// Identity of a request for sharing and caching.
fn request_key(req: &Request) -> String {
    let body = match &req.body {
        Body::Empty => String::new(),
        Body::Json(v) => v.to_string(),
        Body::Multipart { .. } => return format!("{:p}", req), // never shared
    };
    format!("{:?} {} {}", req.method, req.path, body)
}

fn parse_json_body(resp: &Response) -> Result<Value> {
    if resp.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let text = resp.text();
    if let Some(e) = soft_error(&text) {
        return Err(e);
    }
    serde_json::from_str(&text).or_else(|_| Ok(Value::String(text)))
}

fn expect_array(v: Value, what: &str) -> Result<Vec<Value>> {
    match v {
        Value::Array(a) => Ok(a),
        other => Err(Error::new(ErrorCode::ServerError, format!("{what}: expected a list, got {}", short(&other)))),
    }
}

fn string_field(v: &Value, key: &str, what: &str) -> Result<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::new(ErrorCode::ServerError, format!("{what}: no `{key}` in {}", short(v))))
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 200 { format!("{}…", &s[..s.char_indices().nth(200).map_or(s.len(), |(i, _)| i)]) } else { s }
}

/// Percent-encodes a query component.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::share::testutil::{block_on, join, YieldOnce};
    use crate::store::cache::MemoryResponseCache;
    use std::cell::Cell;
    use std::collections::VecDeque;

    /// A scripted server: answers requests in order and records them; time advances on sleep.
    #[derive(Default)]
    struct Fake {
        answers: RefCell<VecDeque<Result<Response>>>,
        seen: RefCell<Vec<Request>>,
        now: Cell<f64>,
        slept: RefCell<Vec<f64>>,
    }

    fn resp(status: u16, body: &str) -> Result<Response> {
        Ok(Response { status, headers: vec![], body: body.as_bytes().to_vec() })
    }

    impl Fake {
        fn with(answers: Vec<Result<Response>>) -> Self {
            Fake { answers: RefCell::new(answers.into()), ..Default::default() }
        }
    }

    impl Transport for Fake {
        async fn send(&self, req: &Request) -> Result<Response> {
            self.seen.borrow_mut().push(req.clone());
            YieldOnce(false).await; // a real request is never ready at once
            self.answers.borrow_mut().pop_front().unwrap_or_else(|| Err(Error::new(ErrorCode::Internal, "script ran out")))
        }
        async fn sleep(&self, ms: f64) {
            self.slept.borrow_mut().push(ms);
            self.now.set(self.now.get() + ms);
        }
        fn now_ms(&self) -> f64 {
            self.now.get()
        }
        fn random(&self) -> f64 {
            0.5
        }
    }


    const TOKEN: &str = r#"{"token":"t1"}"#;

    #[test]
    fn fetches_the_csrf_token_once_and_sends_it_on_posts() {
        let c = StClient::new(Fake::with(vec![resp(200, TOKEN), resp(200, "[]"), resp(200, "[]")]), ClientOptions::default());
        assert_eq!(block_on(c.characters()).unwrap(), Vec::<Value>::new());
        assert_eq!(block_on(c.groups()).unwrap(), Vec::<Value>::new());
        let seen = c.transport().seen.borrow();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].path, "/csrf-token");
        assert_eq!(seen[0].method, Method::Get);
        assert_eq!(seen[1].header("x-csrf-token"), Some("t1"));
        assert_eq!(seen[2].path, "/api/groups/all");
    }

    #[test]
    fn a_csrf_rejection_refreshes_the_token_and_retries_once() {
        let reject = "<pre>ForbiddenError: Invalid CSRF token</pre>";
        let c = StClient::new(
            Fake::with(vec![resp(200, TOKEN), resp(403, reject), resp(200, r#"{"token":"t2"}"#), resp(200, "[]")]),
            ClientOptions::default(),
        );
        block_on(c.worldinfo_list()).unwrap();
        let seen = c.transport().seen.borrow();
        assert_eq!(seen[3].header("X-CSRF-Token"), Some("t2"));

        // A second rejection right after the refresh is an error, not a loop.
        let c = StClient::new(
            Fake::with(vec![resp(200, TOKEN), resp(403, reject), resp(200, TOKEN), resp(403, reject)]),
            ClientOptions::default(),
        );
        assert_eq!(block_on(c.worldinfo_list()).unwrap_err().code(), ErrorCode::Forbidden);
    }

    #[test]
    fn transient_failures_are_retried_with_backoff_then_reported() {
        let opts = ClientOptions { retry: RetryPolicy { max_retries: 2, base_delay_ms: 100.0, max_delay_ms: 1000.0 }, ..Default::default() };
        let c = StClient::new(Fake::with(vec![resp(200, TOKEN), resp(502, "bad gateway"), resp(200, "[]")]), opts.clone());
        block_on(c.characters()).unwrap();
        assert_eq!(*c.transport().slept.borrow(), vec![75.0]);

        let c = StClient::new(Fake::with(vec![resp(200, TOKEN), resp(500, "x"), resp(500, "x"), resp(500, "boom")]), opts);
        let e = block_on(c.characters()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ServerError);
        assert!(e.message().contains("boom"));
        assert_eq!(c.transport().slept.borrow().len(), 2, "bounded retries");
    }

    #[test]
    fn retry_after_is_honoured_when_the_server_sends_it() {
        let mut limited = resp(429, "slow down").unwrap();
        limited.headers.push(("retry-after".into(), "2".into()));
        let c = StClient::new(Fake::with(vec![resp(200, TOKEN), Ok(limited), resp(200, "[]")]), ClientOptions::default());
        block_on(c.groups()).unwrap();
        assert_eq!(*c.transport().slept.borrow(), vec![2000.0]);
    }

    #[test]
    fn creating_is_not_repeated_after_a_server_error() {
        let c = StClient::new(Fake::with(vec![resp(200, TOKEN), resp(500, "oops")]), ClientOptions::default());
        let card = json!({"spec":"chara_card_v2","data":{"name":"Alice"}});
        assert_eq!(block_on(c.create_character(&card, None)).unwrap_err().code(), ErrorCode::ServerError);
        assert_eq!(c.transport().seen.borrow().len(), 2);
    }

    #[test]
    fn integrity_conflicts_and_soft_errors_are_typed() {
        let c = StClient::new(
            Fake::with(vec![resp(200, TOKEN), resp(400, r#"{"error":"integrity"}"#), resp(200, r#"{"error":true}"#)]),
            ClientOptions::default(),
        );
        let e = block_on(c.save_chat("Alice.png", "Alice - 1", &[json!({"chat_metadata":{"integrity":"a"}})], false)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::IntegrityConflict);
        let e = block_on(c.import_character(vec![1, 2, 3], "xyz", "x.xyz")).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ServerError);
    }

    #[test]
    fn requests_wait_for_the_rate_limiter() {
        let opts = ClientOptions { rate_limit: RateLimit { capacity: 2.0, refill_per_sec: 10.0 }, ..Default::default() };
        let c = StClient::new(Fake::with(vec![resp(200, TOKEN), resp(200, "[]"), resp(200, "[]"), resp(200, "[]")]), opts);
        for _ in 0..3 {
            block_on(c.groups()).unwrap();
        }
        // token + 3 calls = 4 requests; burst of 2, then 100 ms apart
        assert_eq!(*c.transport().slept.borrow(), vec![100.0, 100.0]);
    }

    #[test]
    fn generation_does_not_queue_behind_background_reads() {
        let mut answers = vec![resp(200, TOKEN)];
        answers.extend((0..12).map(|_| resp(200, "[]")));
        let c = StClient::new(Fake::with(answers), ClientOptions::default());
        for _ in 0..12 {
            block_on(c.groups()).unwrap();
        }
        let slept = c.transport().slept.borrow().len();
        assert!(slept > 0, "13 requests exceed the burst of 10: the reads were paced");
        block_on(c.throttle_generation());
        assert_eq!(c.transport().slept.borrow().len(), slept, "the generation started at once");
        block_on(c.throttle());
        assert!(c.transport().slept.borrow().len() > slept, "reads still wait for their own bucket");
    }

    #[test]
    fn identical_concurrent_reads_share_one_request() {
        let c = StClient::new(Fake::with(vec![resp(200, TOKEN), resp(200, r#"[{"name":"A"}]"#)]), ClientOptions::default());
        block_on(c.csrf_token()).unwrap();
        let (a, b) = join(c.characters(), c.characters());
        assert_eq!(a.unwrap(), b.unwrap());
        assert_eq!(c.transport().seen.borrow().len(), 2, "token + one shared list request");
    }

    #[test]
    fn cached_list_is_fresh_then_stale_and_any_write_invalidates_it() {
        let c = StClient::new(
            Fake::with(vec![
                resp(200, TOKEN),
                resp(200, r#"[{"name":"A"}]"#),
                resp(200, r#"[{"name":"A"},{"name":"B"}]"#),
                resp(200, r#"{"ok":true}"#),
                resp(200, r#"[{"name":"C"}]"#),
            ]),
            ClientOptions::default(),
        );
        let first = block_on(c.characters_cached(1000.0)).unwrap();
        assert!(!first.from_cache && !first.stale);
        let again = block_on(c.characters_cached(1000.0)).unwrap();
        assert!(again.from_cache && !again.stale);
        assert_eq!(again.value, first.value);
        c.transport().now.set(5000.0);
        let stale = block_on(c.characters_cached(1000.0)).unwrap();
        assert!(stale.stale, "old entries are served, flagged stale");
        let fresh = block_on(c.refresh_characters()).unwrap();
        assert_eq!(fresh.len(), 2);
        assert_eq!(block_on(c.characters_cached(1000.0)).unwrap().value.len(), 2);
        block_on(c.save_worldinfo("B", &json!({"entries":{}}))).unwrap();
        let after_write = block_on(c.characters_cached(1000.0)).unwrap();
        assert!(!after_write.from_cache, "a write clears the cache");
        assert_eq!(after_write.value[0]["name"], "C");
    }

    fn png(status: u16, bytes: &[u8]) -> Result<Response> {
        Ok(Response { status, headers: vec![("content-type".into(), "image/png".into())], body: bytes.to_vec() })
    }

    /// A client of `server` over the scripted answers and `cache`, its clock at `now`.
    fn persistent_client(
        answers: Vec<Result<Response>>,
        cache: &Rc<MemoryResponseCache>,
        server: &str,
        now: f64,
    ) -> StClient<Fake> {
        let c = StClient::new(Fake::with(answers), ClientOptions::default());
        c.transport().now.set(now);
        c.use_persistent_cache(Some(Rc::clone(cache) as Rc<dyn ResponseCache>), server);
        c
    }

    #[test]
    fn a_new_client_over_the_same_persistent_cache_is_served_without_a_request() {
        let cache = Rc::new(MemoryResponseCache::default());
        let first = persistent_client(
            vec![resp(200, TOKEN), resp(200, r#"[{"name":"A"}]"#), png(200, b"\x89PNG-a")],
            &cache,
            "http://st:8000/",
            1000.0,
        );
        let got = block_on(first.characters_cached(60_000.0)).unwrap();
        assert!(!got.from_cache);
        assert_eq!(block_on(first.thumbnail("avatar", "A.png", 60_000.0)).unwrap(), b"\x89PNG-a");
        assert_eq!(cache.len(), 2, "the list and the thumbnail were written through");

        // "Reload": a new client with an empty memory cache and a server that must not be asked.
        let reloaded = persistent_client(vec![], &cache, "http://st:8000", 31_000.0);
        let again = block_on(reloaded.characters_cached(60_000.0)).unwrap();
        assert!(again.from_cache && !again.stale);
        assert_eq!(again.value, got.value);
        assert_eq!(again.fetched_ms, 1000.0, "the copy keeps its fetch time");
        let thumb = block_on(reloaded.thumbnail_cached("avatar", "A.png", 60_000.0)).unwrap();
        assert_eq!(
            (thumb.value.body.as_slice(), thumb.value.header("content-type")),
            (&b"\x89PNG-a"[..], Some("image/png"))
        );
        assert!(reloaded.transport().seen.borrow().is_empty(), "no request at all, not even the CSRF token");

        // Older than the max age: served, flagged stale; the refresh replaces the persistent copy.
        let later = persistent_client(
            vec![resp(200, TOKEN), resp(200, r#"[{"name":"A"},{"name":"B"}]"#)],
            &cache,
            "http://st:8000",
            90_000.0,
        );
        let stale = block_on(later.characters_cached(60_000.0)).unwrap();
        assert!(stale.from_cache && stale.stale);
        assert!(later.transport().seen.borrow().is_empty());
        assert_eq!(block_on(later.refresh_characters()).unwrap().len(), 2);
        let next = persistent_client(vec![], &cache, "http://st:8000", 95_000.0);
        let fresh = block_on(next.characters_cached(60_000.0)).unwrap();
        assert!(fresh.from_cache && !fresh.stale);
        assert_eq!((fresh.value.len(), fresh.fetched_ms), (2, 90_000.0));
    }

    #[test]
    fn a_write_clears_the_persistent_entries_of_its_server_only() {
        let cache = Rc::new(MemoryResponseCache::default());
        let a = persistent_client(
            vec![resp(200, TOKEN), resp(200, r#"[{"name":"A"}]"#), resp(200, "{}")],
            &cache,
            "http://a:8000",
            0.0,
        );
        let b = persistent_client(vec![resp(200, TOKEN), resp(200, r#"[{"name":"B"}]"#)], &cache, "http://b:8000", 0.0);
        block_on(a.characters_cached(60_000.0)).unwrap();
        // Two servers never share entries: b goes to its own server.
        let from_b = block_on(b.characters_cached(60_000.0)).unwrap();
        assert!(!from_b.from_cache);
        assert_eq!(from_b.value[0]["name"], "B");
        assert_eq!(cache.len(), 2);

        block_on(a.save_worldinfo("W", &json!({"entries":{}}))).unwrap();
        assert_eq!(cache.len(), 1, "a's entries are gone, b's kept");
        let a2 =
            persistent_client(vec![resp(200, TOKEN), resp(200, r#"[{"name":"A2"}]"#)], &cache, "http://a:8000", 1.0);
        let after = block_on(a2.characters_cached(60_000.0)).unwrap();
        assert!(!after.from_cache, "the write invalidated the persistent copy");
        assert_eq!(after.value[0]["name"], "A2");
        let b2 = persistent_client(vec![], &cache, "http://b:8000", 1.0);
        assert!(block_on(b2.characters_cached(60_000.0)).unwrap().from_cache);

        // clear_all_caches drops this server's entries too.
        block_on(a2.clear_all_caches()).unwrap();
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn persistent_entries_are_kept_per_user() {
        let cache = Rc::new(MemoryResponseCache::default());
        let me = r#"{"handle":"alice","name":"Alice"}"#;
        let alice = persistent_client(
            vec![resp(200, TOKEN), resp(200, "{}"), resp(200, r#"[{"name":"A"}]"#)],
            &cache,
            "http://st",
            0.0,
        );
        block_on(alice.login("alice", "pw")).unwrap();
        block_on(alice.characters_cached(60_000.0)).unwrap();
        // A new client that does not know who is logged in does not read alice's entries…
        let unknown = persistent_client(vec![resp(200, TOKEN), resp(200, "[]")], &cache, "http://st", 1.0);
        assert!(!block_on(unknown.characters_cached(60_000.0)).unwrap().from_cache);
        // …and one that asked the server (`me`) does.
        let known = persistent_client(vec![resp(200, me)], &cache, "http://st", 1.0);
        assert_eq!(block_on(known.me()).unwrap()["handle"], "alice");
        let hit = block_on(known.characters_cached(60_000.0)).unwrap();
        assert!(hit.from_cache);
        assert_eq!(hit.value[0]["name"], "A");
    }

    #[test]
    fn a_read_that_overlaps_a_write_is_not_cached() {
        let cache = Rc::new(MemoryResponseCache::default());
        let c = persistent_client(
            vec![resp(200, TOKEN), resp(200, "{}"), resp(200, r#"[{"name":"old"}]"#), resp(200, r#"[{"name":"new"}]"#)],
            &cache,
            "http://st",
            0.0,
        );
        block_on(c.csrf_token()).unwrap();
        // The write is answered first; the list answer may predate it.
        let (w, r) = join(c.save_worldinfo("W", &json!({"entries":{}})), c.characters_cached(60_000.0));
        w.unwrap();
        assert_eq!(r.unwrap().value[0]["name"], "old");
        assert!(cache.is_empty(), "not written through");
        let next = block_on(c.characters_cached(60_000.0)).unwrap();
        assert!(!next.from_cache);
        assert_eq!(next.value[0]["name"], "new");
    }

    /// A persistent layer whose every operation fails.
    struct Broken;
    impl ResponseCache for Broken {
        fn get(&self, _: &str) -> crate::store::cache::LocalFuture<'_, Result<Option<CacheEntry>>> {
            Box::pin(async { Err(Error::new(ErrorCode::Storage, "broken")) })
        }
        fn put(&self, _: &str, _: CacheEntry) {}
        fn clear(&self, _: &str) -> crate::store::cache::LocalFuture<'_, Result<()>> {
            Box::pin(async { Err(Error::new(ErrorCode::Storage, "broken")) })
        }
    }

    #[test]
    fn a_failing_persistent_layer_is_a_miss_and_is_detached_when_it_cannot_be_cleared() {
        let c = StClient::new(
            Fake::with(vec![resp(200, TOKEN), resp(200, "[]"), resp(200, "{}")]),
            ClientOptions::default(),
        );
        c.use_persistent_cache(Some(Rc::new(Broken)), "http://st");
        assert!(!block_on(c.characters_cached(1000.0)).unwrap().from_cache, "a failed read is a miss");
        block_on(c.save_worldinfo("W", &json!({"entries":{}}))).expect("the write's own outcome");
        assert!(c.shared.persistent.borrow().is_none(), "detached");
    }

    #[test]
    fn sync_chat_loads_merges_saves_and_survives_an_integrity_conflict() {
        use crate::client::bridge::{from_lines, ChatLink};
        use crate::store::schema::NewMessage;
        let header = |id: &str| json!({"chat_metadata": {"integrity": id, "note_prompt": "kept"}, "user_name": "unused", "character_name": "unused"});
        let line = |mes: &str, date: &str| json!({"name": "U", "is_user": true, "is_system": false, "mes": mes, "send_date": date, "extra": {}});
        let v1 = json!([header("srv-1"), line("from tab B", "2026-11-27T05:00:00.000Z")]);
        // Meanwhile the file is replaced (another chat, new integrity id) before our save lands.
        let v2 = json!([header("srv-2"), line("from tab B", "2026-11-27T05:00:00.000Z"), line("from tab C", "2026-11-27T05:30:00.000Z")]);
        let v3 = json!([header("srv-2"), line("from tab B", "2026-11-27T05:00:00.000Z"), line("from tab C", "2026-11-27T05:30:00.000Z"), line("from tab A", "2026-11-27T06:13:20.000Z")]);
        let c = StClient::new(
            Fake::with(vec![
                resp(200, TOKEN),
                resp(200, &v1.to_string()),
                resp(400, r#"{"error":"integrity"}"#),
                resp(200, &v2.to_string()),
                resp(200, r#"{"ok":true}"#),
                // The read-back and the second look: our save is there.
                resp(200, &v3.to_string()),
                resp(200, &v3.to_string()),
            ]),
            ClientOptions::default(),
        );
        let link = ChatLink { avatar: "A.png".into(), file: "A - 1".into(), is_group: false, integrity: "mine-1".into(), chat_metadata: json!({}) };
        // 06:13Z, after both remote messages
        let local = vec![NewMessage { name: "U".into(), is_user: true, mes: "from tab A".into(), send_date: Some(1_795_760_000_000), ..Default::default() }];
        let out = block_on(c.sync_chat(&link, &local, false)).unwrap();
        assert_eq!((out.conflicts, out.overwritten), (1, 0));
        assert!(out.local_changed);
        assert_eq!(out.link.integrity, "srv-2");
        let texts: Vec<&str> = out.messages.iter().map(|m| m.mes.as_str()).collect();
        assert_eq!(texts, ["from tab B", "from tab C", "from tab A"]);
        let seen = c.transport().seen.borrow();
        assert_eq!(seen.len(), 7, "token, load, save (conflict), load, save, read-back, second look");
        assert_eq!((seen[5].path.as_str(), seen[6].path.as_str()), ("/api/chats/get", "/api/chats/get"));
        let Body::Json(last) = &seen[4].body else { panic!() };
        assert_eq!(last["force"], false, "never forced");
        let (header, saved) = from_lines(last["chat"].as_array().unwrap());
        assert_eq!(header["chat_metadata"]["integrity"], "srv-2");
        assert_eq!(header["chat_metadata"]["note_prompt"], "kept");
        assert_eq!(saved.len(), 3);
    }

    #[test]
    fn sync_chat_saves_nothing_when_the_server_already_has_everything() {
        use crate::client::bridge::ChatLink;
        use crate::store::schema::NewMessage;
        let v = json!([{"chat_metadata": {"integrity": "i"}}, {"name": "U", "is_user": true, "mes": "hi", "send_date": "2026-11-27T05:00:00.000Z", "extra": {}}]);
        let c = StClient::new(Fake::with(vec![resp(200, TOKEN), resp(200, &v.to_string())]), ClientOptions::default());
        let link = ChatLink { avatar: "A.png".into(), file: "A - 1".into(), is_group: false, integrity: "i".into(), chat_metadata: json!({}) };
        let out = block_on(c.sync_chat(&link, &[], false)).unwrap();
        assert!(out.local_changed);
        assert_eq!(out.messages.len(), 1);
        assert_eq!(out.messages[0].mes, "hi");
        let _ = NewMessage::default();
        assert_eq!(c.transport().seen.borrow().len(), 2, "token + load, no save");
    }

    #[test]
    fn character_form_carries_the_whole_card_and_st_fields() {
        let card = json!({"spec":"chara_card_v3","spec_version":"3.0","data":{
            "name":"Alice","description":"d","tags":["a","b"],"alternate_greetings":["g1","g2"],
            "extensions":{"talkativeness":"0.7","depth_prompt":{"prompt":"p","depth":2,"role":"system"},"x":{"y":1}},
            "unknown_field":[1,2]}});
        let f = character_form_fields(&card).unwrap();
        let get = |k: &str| f.iter().filter(|(n, _)| n == k).map(|(_, v)| v.as_str()).collect::<Vec<_>>();
        assert_eq!(get("ch_name"), ["Alice"]);
        assert_eq!(get("tags"), ["a,b"]);
        assert_eq!(get("alternate_greetings"), ["g1", "g2"]);
        assert_eq!(get("talkativeness"), ["0.7"]);
        assert_eq!(get("depth_prompt_depth"), ["2"]);
        let round: Value = serde_json::from_str(get("json_data")[0]).unwrap();
        assert_eq!(round, card);
        assert_eq!(character_form_fields(&json!({"data":{"name":"  "}})).unwrap_err().code(), ErrorCode::InvalidArgument);
    }

    #[test]
    fn basic_auth_goes_on_every_request() {
        let opts = ClientOptions { basic_auth: Some(("user".into(), "pa:ss".into())), ..Default::default() };
        let c = StClient::new(Fake::with(vec![resp(200, TOKEN), resp(200, "[]")]), opts);
        block_on(c.groups()).unwrap();
        for r in c.transport().seen.borrow().iter() {
            assert_eq!(r.header("authorization"), Some("Basic dXNlcjpwYTpzcw=="));
        }
    }

    #[test]
    fn a_refused_login_is_unauthorized() {
        let c = StClient::new(Fake::with(vec![resp(200, TOKEN), resp(403, r#"{"error":"Incorrect credentials"}"#)]), ClientOptions::default());
        let e = block_on(c.login("alice", "wrong")).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Unauthorized);
        assert!(e.message().contains("Incorrect credentials"));
    }

    #[test]
    fn url_encoding_of_query_values() {
        assert_eq!(url_encode("Alice Smith.png"), "Alice%20Smith.png");
        assert_eq!(url_encode("a&b=c/ü"), "a%26b%3Dc%2F%C3%BC");
    }
}
