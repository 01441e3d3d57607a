//! `TavernStore`: the character library, chats, backups and settings for JS.
//! Conversion only — every operation is a [`crate::store::Store`] or [`crate::settings`] call.

use std::ops::ControlFlow;
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use serde::Deserialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;

use super::error::{from_js_value, to_js_value};
use crate::settings;
use crate::store::backup::{ChunkSource, StreamOptions, StreamProgress};
use crate::store::cache::{CacheLimits, ResponseCache};
use crate::store::indexeddb::{IdbResponseCache, IndexedDbStore};
use crate::store::web::{BrowserImages, JsSource};
use crate::store::{
    Asset, CardJson, Change, Character, CharacterQuery, Chat, MemoryStore, MessageEdit, NewMessage, Progress, Record, Store,
    StoreEnv, ThumbnailInfo,
};
use crate::thumbnail::ThumbnailOptions;
use crate::{Error, ErrorCode};

#[wasm_bindgen(typescript_custom_section)]
const TS_STORE: &'static str = r#"
/** Sync metadata carried by every record. */
export interface SyncMeta { id: string; rev: number; createdAt: number; updatedAt: number; deleted: boolean; }
export interface Character extends SyncMeta {
  name: string; card: Record<string, unknown>; tags: string[]; favorite: boolean;
  lastUsedAt: number | null; avatarAssetId: string | null;
}
export interface CharacterInput {
  card: Record<string, unknown>; tags?: string[]; favorite?: boolean;
  /** Avatar image bytes, stored as a Blob in the asset store. */
  avatar?: Uint8Array; avatarMime?: string;
}
export interface CharacterPatch { card?: Record<string, unknown>; name?: string; tags?: string[]; favorite?: boolean; lastUsedAt?: number | null; }
export interface CharacterQuery {
  query?: string; match?: "substring" | "prefix"; tag?: string; favoritesOnly?: boolean;
  sort?: "name" | "recentlyUsed" | "created"; reverse?: boolean; offset?: number; limit?: number;
  /** `false`: the items come without `card` (a list of names, tags and avatars reads no card). Default `true`. */
  withCard?: boolean;
}
export interface Page<T> { items: T[]; total: number; offset: number; }
export interface Chat extends SyncMeta {
  characterId: string | null; groupId: string | null; title: string; messageCount: number; nextSeq: number;
  lastMessagePreview: string | null; lastMessageAt: number | null; metadata: Record<string, unknown>;
}
export interface ChatInput { characterId?: string; groupId?: string; title?: string; metadata?: Record<string, unknown>; }
export interface Message extends SyncMeta {
  chatId: string; seq: number; name: string; isUser: boolean; isSystem: boolean; mes: string; sendDate: number | null;
  swipes: string[]; swipeId: number; swipeInfo: unknown[]; extra: Record<string, unknown>; fields: Record<string, unknown>;
}
export interface MessageInput {
  name?: string; isUser?: boolean; isSystem?: boolean; mes?: string; sendDate?: number;
  swipes?: string[]; swipeId?: number; swipeInfo?: unknown[]; extra?: Record<string, unknown>; fields?: Record<string, unknown>;
}
export interface MessageEdit { mes?: string; addSwipe?: string; deleteSwipe?: number; swipeId?: number; extra?: Record<string, unknown>; isSystem?: boolean; }
export interface GetMessagesOptions { chatId: string; before?: number; limit?: number; }
export interface ProgressOptions { onProgress?: (p: { done: number; total: number }) => void; signal?: AbortSignal; }
export interface ImportReport { written: number; skipped: number; }
/** Progress of `importBackup`: first a `check` pass (when checking first), then `import`. */
export interface BackupImportProgress {
  phase: "check" | "import";
  /** Items checked (check) or written/skipped (import) so far. */
  done: number;
  /** Items in the backup, once the check pass has counted them; else `null`. */
  total: number | null;
  /** Bytes read in this phase. */
  bytesRead: number;
  /** Size of the backup when known (Blob, bytes, string); `null` for a stream. */
  totalBytes: number | null;
}
export interface BackupImportOptions {
  onProgress?: (p: BackupImportProgress) => void;
  /** Cancels with code `aborted` (batches already committed are kept; see `importBackup`). */
  signal?: AbortSignal;
  /** Items per transaction (default 200). */
  batchSize?: number;
  /** Read and check the whole backup before writing anything (default `true`; a
   *  `ReadableStream` can be read only once, so it is imported as it arrives — `true` with
   *  a stream is an `invalid_argument` error). */
  checkFirst?: boolean;
}
/** Metadata of a stored file; its bytes: `getAssetBlob(id)`. */
export interface Asset extends SyncMeta {
  mime: string; size: number; role: string; fileName: string | null; ownerId: string | null;
  /** For a thumbnail: the asset it was made from. */
  thumbnailOf: string | null; width: number | null; height: number | null;
}
export interface ThumbnailOptions {
  /** Longest side in pixels, 1–1024 (default 256). */
  maxSide?: number;
  /** Sources with more pixels are refused with `too_large` (default 50 000 000). */
  maxPixels?: number;
}
export interface Thumbnail {
  /** The thumbnail asset (`role: "thumbnail"`, PNG) — or the source itself when `original`. */
  asset: Asset;
  /** True when no thumbnail could be made here (not a PNG and no image decoder, e.g. a JPEG
   *  in Node): `asset` is the full-size original, show it scaled down. */
  original: boolean;
}
export interface BackupOptions { /** Include stored API keys and passwords (default false). */ includeSecrets?: boolean; }
export interface StoreInfo { backend: "indexeddb" | "memory"; persistent: boolean; name: string; schemaVersion: number; fallbackReason: string | null; }
export interface StoreChange { store: string; ids: string[]; op: "put" | "delete" | "import"; remote: boolean; }
/** A card to import: the card JSON (object or text/bytes), or `{ card, avatar?, avatarMime? }`. */
export type CardFile = Record<string, unknown> | string | Uint8Array | CharacterInput;
/** Generation parameters; unset ones are `null` when read (and `null` removes one in a patch). */
export interface Generation { temperature?: number | null; topP?: number | null; maxTokens?: number | null; contextSize?: number | null; stream?: boolean | null; }
export interface Settings {
  connection: { url: string; authMode: "none" | "basic" | "account"; username: string };
  backend: { kind: "sillyTavern" | "openAi" | "host"; baseUrl: string; model: string; apiKeyName: string };
  generation: Generation;
  characterOverrides: Record<string, Generation>;
  chatOverrides: Record<string, Generation>;
  voice: { enabled: boolean; voice: string; rate: number; pitch: number };
  theme: { mode: "system" | "light" | "dark"; accent: string; fontScale: number };
}
/** A partial settings update (JSON merge patch: objects merge, `null` removes). */
export type SettingsPatch = { [K in keyof Settings]?: Partial<Settings[K]> | null };
export interface FieldError { path: string; message: string; }
/** One entry of the analytics event log. */
export interface StoreEvent { seq: number; at: number; kind: string; data: Record<string, unknown>; }
"#;

#[derive(Clone)]
pub(crate) enum Backend {
    Idb(IndexedDbStore),
    Mem(Rc<MemoryStore>),
}

/// Runs `$body` with `$s` bound to the concrete store.
macro_rules! with_store {
    ($b:expr, $s:ident => $body:expr) => {
        match $b {
            Backend::Idb($s) => $body,
            Backend::Mem($s) => {
                let $s = &**$s;
                $body
            }
        }
    };
}

/// A store of characters, chats, assets and settings: IndexedDB when a name is given and
/// IndexedDB works, else in memory (see `info().persistent` / `fallbackReason`).
#[wasm_bindgen]
pub struct TavernStore {
    backend: Backend,
    /// The response cache in this store (the `cache` object store in IndexedDB), one per
    /// store object so that every client using it shares its size accounting; none in memory
    /// (nothing would outlive the page, and each client has its own memory cache).
    response_cache: Option<Rc<dyn ResponseCache>>,
}

impl TavernStore {
    /// The store behind this JS object (for other API objects that write to it).
    pub(crate) fn backend(&self) -> Backend {
        self.backend.clone()
    }

    /// The response cache kept in this store (for `SillyTavernClient.useCache`).
    pub(crate) fn response_cache(&self) -> Option<Rc<dyn ResponseCache>> {
        self.response_cache.clone()
    }
}

/// Appends an event to a store's size-capped log (used by the generator for usage figures).
pub(crate) async fn log_event_to(b: &Backend, kind: &str, data: Value) -> Result<(), Error> {
    with_store!(b, s => s.log_event(kind, data).await.map(drop))
}

/// The stored API keys by name (for a generator's `useApiKeys`).
pub(crate) async fn load_api_keys(b: &Backend) -> Result<std::collections::BTreeMap<String, String>, Error> {
    with_store!(b, s => settings::load_secrets(s).await.map(|x| x.api_keys))
}

fn spawn<F>(f: F) -> Promise
where
    F: std::future::Future<Output = Result<JsValue, JsValue>> + 'static,
{
    future_to_promise(f)
}

fn js_progress(opts: &JsValue) -> impl FnMut(Progress) -> ControlFlow<()> {
    let get = |k: &str| js_sys::Reflect::get(opts, &JsValue::from_str(k)).ok().filter(|v| !v.is_undefined() && !v.is_null());
    let on = get("onProgress").and_then(|f| f.dyn_into::<Function>().ok());
    let signal = get("signal").and_then(|s| s.dyn_into::<web_sys::AbortSignal>().ok());
    move |p: Progress| {
        if signal.as_ref().is_some_and(|s| s.aborted()) {
            return ControlFlow::Break(());
        }
        if let Some(f) = &on {
            if let Ok(v) = to_js_value(&p) {
                let _ = f.call1(&JsValue::UNDEFINED, &v);
            }
        }
        if signal.as_ref().is_some_and(|s| s.aborted()) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

fn aborted_before(opts: &JsValue) -> bool {
    js_sys::Reflect::get(opts, &JsValue::from_str("signal"))
        .ok()
        .and_then(|s| s.dyn_into::<web_sys::AbortSignal>().ok())
        .is_some_and(|s| s.aborted())
}

/// One card file as given by JS → (the character read from its card, tags, favourite, avatar bytes and MIME).
struct CardIn {
    character: Character,
    tags: Option<Vec<String>>,
    favorite: bool,
    avatar: Option<(Vec<u8>, String)>,
}

/// The character of a card object from JS (`what_card` names the card, `what` the character in
/// errors). Its JSON text comes from the browser's `JSON.stringify` and stays a JS string until
/// something reads it in Rust (a card with a large lorebook is megabytes of JSON: copying it into
/// wasm and back out to IndexedDB would cost more than the rest of the write).
fn character_from_object(v: &JsValue, what_card: &str, what: &str) -> Result<Character, Error> {
    if !v.is_object() || Array::is_array(v) {
        return Err(Error::invalid_argument(format!("{what_card} must be an object")));
    }
    match crate::jsjson::character_from_object(v) {
        Some(c) => c.map_err(|e| Error::new(e.code(), format!("{what}: {}", e.message()))),
        None => character_from_text(crate::jsjson::to_json_text(v, what_card)?, what),
    }
}

/// The character of a card given as JSON text (`what` names it in errors).
fn character_from_text(text: String, what: &str) -> Result<Character, Error> {
    Character::from_card_text(text).map_err(|e| Error::new(e.code(), format!("{what}: {}", e.message())))
}

fn card_in(v: JsValue, i: usize) -> Result<CardIn, Error> {
    let what = format!("card [{i}]");
    let parse = |text: String| character_from_text(text, &what);
    if let Some(s) = v.as_string() {
        return Ok(CardIn { character: parse(s)?, tags: None, favorite: false, avatar: None });
    }
    if let Some(u) = v.dyn_ref::<Uint8Array>() {
        let bytes = u.to_vec();
        let text = String::from_utf8(bytes).map_err(|_| {
            Error::new(ErrorCode::UnsupportedFormat, format!("card [{i}]: only JSON cards are imported here (decode PNG/CharX with the card API first)"))
        })?;
        return Ok(CardIn { character: parse(text)?, tags: None, favorite: false, avatar: None });
    }
    let has_card = js_sys::Reflect::get(&v, &JsValue::from_str("card")).map(|c| c.is_object()).unwrap_or(false);
    if has_card {
        let get = |k: &str| js_sys::Reflect::get(&v, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
        let character = character_from_object(&get("card"), &format!("{what}: card"), &what)?;
        let tags: Option<Vec<String>> = serde_wasm_bindgen::from_value(get("tags")).ok();
        let avatar = get("avatar").dyn_into::<Uint8Array>().ok().map(|u| {
            (u.to_vec(), get("avatarMime").as_string().unwrap_or_else(|| "image/png".to_string()))
        });
        return Ok(CardIn { character, tags, favorite: get("favorite").as_bool().unwrap_or(false), avatar });
    }
    if !v.is_object() {
        return Err(Error::invalid_argument(format!("card [{i}]: expected a card object, JSON text or bytes")));
    }
    let character = character_from_object(&v, &what, &what)?;
    Ok(CardIn { character, tags: None, favorite: false, avatar: None })
}

/// The character (with its final id) and its avatar asset (owned by it), if any.
fn character_of(c: CardIn, env: &StoreEnv) -> (Character, Option<(Asset, Vec<u8>)>) {
    let mut ch = c.character;
    ch.id = env.ids.next_id();
    if let Some(t) = c.tags {
        ch.tags = crate::store::schema::normalize_tags(t);
    }
    ch.favorite = c.favorite;
    let asset = c.avatar.map(|(bytes, mime)| {
        let id = env.ids.next_id();
        ch.avatar_asset_id = Some(id.clone());
        (Asset { id, mime, role: "avatar".into(), owner_id: Some(ch.id.clone()), ..Default::default() }, bytes)
    });
    (ch, asset)
}

/// Parses every card file, then validates every character: all problems in one error.
fn characters_of(files: Vec<JsValue>, env: &StoreEnv) -> Result<(Vec<Character>, Vec<(Asset, Vec<u8>)>), Error> {
    let mut chars = Vec::with_capacity(files.len());
    let mut assets = Vec::new();
    let mut errs = Vec::new();
    for (i, v) in files.into_iter().enumerate() {
        match card_in(v, i) {
            Ok(c) => {
                let (ch, a) = character_of(c, env);
                let mut probe = ch.clone();
                probe.reindex();
                if let Err(e) = probe.validate() {
                    errs.push(format!("card [{i}]: {}", e.message()));
                }
                chars.push(ch);
                assets.extend(a);
            }
            Err(e) => errs.push(e.message().to_string()),
        }
    }
    if !errs.is_empty() {
        return Err(Error::new(ErrorCode::Validation, errs.join("; ")));
    }
    Ok((chars, assets))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct CharacterPatch {
    /// Read apart from the rest (through [`character_from_object`]).
    #[serde(skip)]
    card: Option<Character>,
    name: Option<String>,
    tags: Option<Vec<String>>,
    favorite: Option<bool>,
    /// Absent: unchanged; `null`: cleared; a number: set.
    #[serde(deserialize_with = "present")]
    last_used_at: Option<Option<i64>>,
}

/// A field that is present (possibly `null`) → `Some(..)`; serde's plain `Option<Option<T>>`
/// reads `null` as absent, which silently ignored `lastUsedAt: null`.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ChatInput {
    character_id: Option<String>,
    group_id: Option<String>,
    title: String,
    metadata: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetMessages {
    chat_id: String,
    before: Option<u64>,
    limit: Option<usize>,
}

/// A character as JS sees it: the derived index keys (`ixName`, …) stay inside the store.
fn public(mut c: Character) -> Character {
    c.ix_name = None;
    c.ix_tags = None;
    c.ix_used = None;
    c.ix_created = None;
    c
}

fn chars_js(cs: Vec<Character>, with_card: bool) -> Result<JsValue, JsValue> {
    let out = Array::new();
    for mut c in cs {
        if with_card {
            out.push(&char_js(c)?);
        } else {
            c.card = CardJson::default();
            let v = to_js_value(&public(c))?;
            Reflect::delete_property(v.unchecked_ref::<js_sys::Object>(), &JsValue::from_str("card"))?;
            out.push(&v);
        }
    }
    Ok(out.into())
}

/// A character for JS: the card through JSON text (`jsjson::card_to_js`), the rest field by field.
fn char_js(mut c: Character) -> Result<JsValue, JsValue> {
    let card = std::mem::take(&mut c.card);
    let v = to_js_value(&public(c))?;
    Reflect::set(&v, &JsValue::from_str("card"), &crate::jsjson::card_to_js(&card)?)?;
    Ok(v)
}

/// `withCard` of `listCharacters` and `importCards` options: absent or `true` → true.
fn with_card_of(query: &JsValue) -> Result<bool, Error> {
    let v = if query.is_object() { Reflect::get(query, &JsValue::from_str("withCard")).unwrap_or(JsValue::UNDEFINED) } else { JsValue::UNDEFINED };
    if v.is_undefined() {
        return Ok(true);
    }
    v.as_bool().ok_or_else(|| Error::invalid_argument("withCard must be a boolean"))
}

/// The bytes of an asset as a Blob (IndexedDB hands out its stored Blob without copying).
async fn asset_blob(b: &Backend, id: &str) -> Result<Option<web_sys::Blob>, JsValue> {
    match b {
        Backend::Idb(s) => Ok(s.asset_blob(id).await?),
        Backend::Mem(s) => {
            let Some(bytes) = s.asset_bytes(id).await? else { return Ok(None) };
            let mime = s.get::<Asset>(id).await?.map(|a| a.mime).unwrap_or_default();
            let opts = web_sys::BlobPropertyBag::new();
            opts.set_type(&mime);
            Ok(Some(web_sys::Blob::new_with_u8_array_sequence_and_options(
                &Array::of1(&Uint8Array::from(&bytes[..])),
                &opts,
            )?))
        }
    }
}

/// `Store::thumbnail` with the browser's decoders, for `thumbnail` and `thumbnailUrl` (one
/// call site per backend keeps the module small).
async fn thumbnail_of(b: &Backend, asset_id: &str, options: JsValue) -> Result<Option<ThumbnailInfo>, JsValue> {
    let o: ThumbnailOptions = if options.is_undefined() || options.is_null() {
        ThumbnailOptions::default()
    } else {
        from_js_value(options, "thumbnail options")?
    };
    Ok(with_store!(b, s => s.thumbnail(asset_id, &o, &BrowserImages).await?))
}

#[wasm_bindgen]
impl TavernStore {
    /// Opens the store `name` in IndexedDB (default `"nextchat-tavern"`); with `null`, or where
    /// IndexedDB is unavailable, an in-memory store (`info().persistent === false`). A schema
    /// upgrade blocked by another tab rejects with code `blocked`.
    #[wasm_bindgen(unchecked_return_type = "Promise<TavernStore>")]
    pub fn open(#[wasm_bindgen(unchecked_optional_param_type = "string | null")] name: JsValue) -> Promise {
        // A plain JsValue, not Option<JsValue>: wasm-bindgen maps both `null` and `undefined`
        // to `None`, which made `open(null)` open the default IndexedDB database.
        spawn(async move {
            let memory = name.is_null();
            let name = name.as_string().unwrap_or_else(|| "nextchat-tavern".to_string());
            let backend = if memory {
                Backend::Mem(Rc::new(MemoryStore::new(StoreEnv::default())))
            } else {
                match IndexedDbStore::open(&name, StoreEnv::default()).await {
                    Ok(s) => Backend::Idb(s),
                    Err(e) if e.code() == ErrorCode::Blocked || e.code() == ErrorCode::UnsupportedFormat => return Err(e.into()),
                    Err(e) => Backend::Mem(Rc::new(
                        MemoryStore::new(StoreEnv::default()).as_fallback(format!("IndexedDB unavailable: {}", e.message())),
                    )),
                }
            };
            let response_cache: Option<Rc<dyn ResponseCache>> = match &backend {
                Backend::Idb(s) => Some(Rc::new(IdbResponseCache::new(s.clone(), CacheLimits::default()))),
                Backend::Mem(_) => None,
            };
            Ok(TavernStore { backend, response_cache }.into())
        })
    }

    /// What this store is (backend, persistence, fallback reason).
    #[wasm_bindgen(unchecked_return_type = "StoreInfo")]
    pub fn info(&self) -> Result<JsValue, JsValue> {
        with_store!(&self.backend, s => to_js_value(&s.info()))
    }

    /// Creates a character from a card (and an optional avatar).
    #[wasm_bindgen(js_name = createCharacter, unchecked_return_type = "Promise<Character>")]
    pub fn create_character(&self, #[wasm_bindgen(unchecked_param_type = "CharacterInput")] input: JsValue) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            // Card and avatar in one transaction: an invalid card leaves no orphan image.
            let c = card_in(input, 0)?;
            with_store!(&b, s => {
                let (ch, asset) = character_of(c, s.env());
                let mut out = s.import_characters_with_assets(vec![ch], asset.into_iter().collect(), &mut |_| ControlFlow::Continue(())).await
                    .map_err(|e| if e.code() == ErrorCode::Validation { Error::new(ErrorCode::Validation, e.message().trim_start_matches("[0] ")) } else { e })?;
                out.pop().map(char_js).unwrap_or(Ok(JsValue::NULL))
            })
        })
    }

    /// Updates fields of a character (rev + 1).
    #[wasm_bindgen(js_name = updateCharacter, unchecked_return_type = "Promise<Character>")]
    pub fn update_character(&self, id: String, #[wasm_bindgen(unchecked_param_type = "CharacterPatch")] patch: JsValue) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            let card = if patch.is_object() { Reflect::get(&patch, &JsValue::from_str("card"))? } else { JsValue::UNDEFINED };
            let mut p: CharacterPatch = from_js_value(patch, "patch")?;
            if !card.is_undefined() && !card.is_null() {
                p.card = Some(character_from_object(&card, "patch: card", "patch: card")?);
            }
            with_store!(&b, s => char_js(s.update::<Character>(&id, &mut |c| {
                if let Some(fresh) = &p.card {
                    c.card = fresh.card.clone();
                    c.name = fresh.name.clone();
                }
                if let Some(n) = &p.name { c.name = n.trim().to_string(); }
                if let Some(t) = &p.tags { c.tags = crate::store::schema::normalize_tags(t.clone()); }
                if let Some(f) = p.favorite { c.favorite = f; }
                if let Some(u) = p.last_used_at { c.last_used_at = u; }
                Ok(())
            }).await?))
        })
    }

    /// Deletes a character (tombstone; `restoreCharacter` undoes it).
    #[wasm_bindgen(js_name = deleteCharacter, unchecked_return_type = "Promise<Character>")]
    pub fn delete_character(&self, id: String) -> Promise {
        let b = self.backend.clone();
        spawn(async move { with_store!(&b, s => char_js(s.delete::<Character>(&id).await?)) })
    }

    /// Undoes `deleteCharacter`.
    #[wasm_bindgen(js_name = restoreCharacter, unchecked_return_type = "Promise<Character>")]
    pub fn restore_character(&self, id: String) -> Promise {
        let b = self.backend.clone();
        spawn(async move { with_store!(&b, s => char_js(s.restore::<Character>(&id).await?)) })
    }

    /// A live character, or `null`.
    #[wasm_bindgen(js_name = getCharacter, unchecked_return_type = "Promise<Character | null>")]
    pub fn get_character(&self, id: String) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            match &b {
                Backend::Idb(s) => Ok(s.get_character_js(&id).await?.unwrap_or(JsValue::NULL)),
                Backend::Mem(s) => s.get::<Character>(&id).await?.map(char_js).unwrap_or(Ok(JsValue::NULL)),
            }
        })
    }

    /// One page of characters, filtered and sorted through indexes; with `withCard: false` the
    /// items leave the card out (for lists that show names, tags and avatars).
    #[wasm_bindgen(js_name = listCharacters, unchecked_return_type = "Promise<Page<Character>>")]
    pub fn list_characters(&self, #[wasm_bindgen(unchecked_optional_param_type = "CharacterQuery")] query: JsValue) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            let with_card = with_card_of(&query)?;
            let q: CharacterQuery = if query.is_undefined() || query.is_null() { CharacterQuery::default() } else { from_js_value(query, "query")? };
            let (items, total, offset) = match &b {
                Backend::Idb(s) => {
                    let page = s.list_characters_js(&q, with_card).await?;
                    (page.items, page.total, page.offset)
                }
                Backend::Mem(s) => {
                    let page = s.list_characters(&q).await?;
                    (Array::from(&chars_js(page.items, with_card)?).iter().collect(), page.total, page.offset)
                }
            };
            let out = js_sys::Object::new();
            Reflect::set(&out, &JsValue::from_str("items"), &items.into_iter().collect::<Array>())?;
            Reflect::set(&out, &JsValue::from_str("total"), &JsValue::from_f64(total as f64))?;
            Reflect::set(&out, &JsValue::from_str("offset"), &JsValue::from_f64(offset as f64))?;
            Ok(out.into())
        })
    }

    /// Imports many cards in one transaction: all or nothing. `onProgress` is called after each
    /// card; aborting `signal` cancels and keeps nothing (code `aborted`). With `withCard: false`
    /// the characters returned leave their cards out.
    #[wasm_bindgen(js_name = importCards, unchecked_return_type = "Promise<Character[]>")]
    pub fn import_cards(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CardFile[]")] files: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ProgressOptions & { withCard?: boolean }")] options: JsValue,
    ) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            if aborted_before(&options) {
                return Err(Error::new(ErrorCode::Aborted, "the import was cancelled before it started").into());
            }
            let with_card = with_card_of(&options)?;
            let arr: Array = files.dyn_into().map_err(|_| Error::invalid_argument("files: expected an array"))?;
            let mut progress = js_progress(&options);
            with_store!(&b, s => {
                let (chars, assets) = characters_of(arr.iter().collect(), s.env())?;
                // Cards and avatars in ONE transaction: never a card without its image.
                chars_js(s.import_characters_with_assets(chars, assets, &mut progress).await?, with_card)
            })
        })
    }

    /// The bytes of an asset (e.g. an avatar) as a Blob, or `null`.
    #[wasm_bindgen(js_name = getAssetBlob, unchecked_return_type = "Promise<Blob | null>")]
    pub fn get_asset_blob(&self, id: String) -> Promise {
        let b = self.backend.clone();
        spawn(async move { Ok(asset_blob(&b, &id).await?.map(JsValue::from).unwrap_or(JsValue::NULL)) })
    }

    /// Creates a chat with a character or a group.
    #[wasm_bindgen(js_name = createChat, unchecked_return_type = "Promise<Chat>")]
    pub fn create_chat(&self, #[wasm_bindgen(unchecked_param_type = "ChatInput")] input: JsValue) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            let i: ChatInput = from_js_value(input, "chat")?;
            let chat = Chat {
                character_id: i.character_id,
                group_id: i.group_id,
                title: i.title,
                metadata: i.metadata.unwrap_or(Value::Object(Default::default())),
                ..Default::default()
            };
            with_store!(&b, s => to_js_value(&s.create_chat(chat).await?))
        })
    }

    /// Deletes a chat and its messages (tombstones, kept for sync).
    #[wasm_bindgen(js_name = deleteChat, unchecked_return_type = "Promise<Chat>")]
    pub fn delete_chat(&self, #[wasm_bindgen(js_name = chatId)] chat_id: String) -> Promise {
        let b = self.backend.clone();
        spawn(async move { with_store!(&b, s => to_js_value(&s.delete_chat(&chat_id).await?)) })
    }

    /// A live chat, or `null`.
    #[wasm_bindgen(js_name = getChat, unchecked_return_type = "Promise<Chat | null>")]
    pub fn get_chat(&self, id: String) -> Promise {
        let b = self.backend.clone();
        spawn(async move { with_store!(&b, s => to_js_value(&s.get::<Chat>(&id).await?)) })
    }

    /// Live chats, most recently active first; `characterId` / `groupId` narrow the list.
    #[wasm_bindgen(js_name = listChats, unchecked_return_type = "Promise<Chat[]>")]
    pub fn list_chats(&self, #[wasm_bindgen(unchecked_optional_param_type = "{ characterId?: string; groupId?: string }")] filter: JsValue) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            #[derive(Deserialize, Default)]
            #[serde(default, rename_all = "camelCase")]
            struct Filter {
                character_id: Option<String>,
                group_id: Option<String>,
            }
            let f: Filter = if filter.is_undefined() || filter.is_null() { Filter::default() } else { from_js_value(filter, "filter")? };
            let mut chats: Vec<Chat> = with_store!(&b, s => s.list::<Chat>().await?);
            chats.retain(|c| {
                f.character_id.as_ref().is_none_or(|id| c.character_id.as_ref() == Some(id))
                    && f.group_id.as_ref().is_none_or(|id| c.group_id.as_ref() == Some(id))
            });
            crate::sort::by_key(&mut chats, |c| std::cmp::Reverse(c.last_message_at.unwrap_or(c.updated_at)));
            to_js_value(&chats)
        })
    }

    /// Appends an event to the analytics log (size-capped, oldest dropped first).
    #[wasm_bindgen(js_name = logEvent, unchecked_return_type = "Promise<StoreEvent>")]
    pub fn log_event(&self, kind: String, #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] data: JsValue) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            let data: Value = from_js_value(data, "event data")?;
            with_store!(&b, s => to_js_value(&s.log_event(&kind, data).await?))
        })
    }

    /// Reads the event log in order, after `after` (a `seq`), at most `limit` (default 100).
    #[wasm_bindgen(unchecked_return_type = "Promise<StoreEvent[]>")]
    pub fn events(&self, #[wasm_bindgen(unchecked_optional_param_type = "{ after?: number; limit?: number }")] options: JsValue) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            #[derive(Deserialize, Default)]
            #[serde(default)]
            struct Opts {
                after: Option<u64>,
                limit: Option<usize>,
            }
            let o: Opts = if options.is_undefined() || options.is_null() { Opts::default() } else { from_js_value(options, "options")? };
            with_store!(&b, s => to_js_value(&s.events(o.after, o.limit.unwrap_or(100)).await?))
        })
    }

    /// Appends a message (constant time, whatever the chat length).
    #[wasm_bindgen(js_name = appendMessage, unchecked_return_type = "Promise<Message>")]
    pub fn append_message(&self, #[wasm_bindgen(js_name = chatId)] chat_id: String, #[wasm_bindgen(unchecked_param_type = "MessageInput")] message: JsValue) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            let m: NewMessage = from_js_value(message, "message")?;
            with_store!(&b, s => to_js_value(&s.append_message(&chat_id, m).await?))
        })
    }

    /// Edits a message or its swipes.
    #[wasm_bindgen(js_name = editMessage, unchecked_return_type = "Promise<Message>")]
    pub fn edit_message(&self, #[wasm_bindgen(js_name = chatId)] chat_id: String, seq: f64, #[wasm_bindgen(unchecked_param_type = "MessageEdit")] edit: JsValue) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            let e: MessageEdit = from_js_value(edit, "edit")?;
            with_store!(&b, s => to_js_value(&s.edit_message(&chat_id, seq as u64, &e).await?))
        })
    }

    /// Deletes a message (tombstone).
    #[wasm_bindgen(js_name = deleteMessage, unchecked_return_type = "Promise<void>")]
    pub fn delete_message(&self, #[wasm_bindgen(js_name = chatId)] chat_id: String, seq: f64) -> Promise {
        let b = self.backend.clone();
        spawn(async move { with_store!(&b, s => { s.delete_message(&chat_id, seq as u64).await?; Ok(JsValue::UNDEFINED) }) })
    }

    /// The last `limit` (default 50) live messages before `before`, oldest first.
    #[wasm_bindgen(js_name = getMessages, unchecked_return_type = "Promise<Message[]>")]
    pub fn get_messages(&self, #[wasm_bindgen(unchecked_param_type = "GetMessagesOptions")] options: JsValue) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            let o: GetMessages = from_js_value(options, "options")?;
            let limit = o.limit.unwrap_or(50).min(10_000);
            with_store!(&b, s => to_js_value(&s.messages(&o.chat_id, o.before, limit).await?))
        })
    }

    /// One chat as SillyTavern JSONL.
    #[wasm_bindgen(js_name = exportChatJsonl, unchecked_return_type = "Promise<string>")]
    pub fn export_chat_jsonl(&self, #[wasm_bindgen(js_name = chatId)] chat_id: String, #[wasm_bindgen(js_name = userName)] user_name: Option<String>) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            let user = user_name.unwrap_or_else(|| "User".to_string());
            with_store!(&b, s => Ok(JsValue::from_str(&s.export_chat_jsonl(&chat_id, &user).await?)))
        })
    }

    /// A full backup as a Blob of JSON lines (assets included; API keys only with
    /// `includeSecrets: true`).
    #[wasm_bindgen(js_name = exportBackup, unchecked_return_type = "Promise<Blob>")]
    pub fn export_backup(&self, #[wasm_bindgen(unchecked_optional_param_type = "BackupOptions")] options: JsValue) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            let secrets = options.is_object()
                && js_sys::Reflect::get(&options, &JsValue::from_str("includeSecrets")).ok().and_then(|v| v.as_bool()).unwrap_or(false);
            // Lines go into Blob storage every ~4 MiB, so the page never holds the whole
            // backup as strings.
            let parts = Array::new();
            let mut pending = 0usize;
            let opts = web_sys::BlobPropertyBag::new();
            opts.set_type("application/x-ndjson");
            let collapse = |parts: &Array| -> Result<(), JsValue> {
                let blob = web_sys::Blob::new_with_blob_sequence_and_options(parts, &opts)?;
                parts.set_length(0);
                parts.push(&blob);
                Ok(())
            };
            with_store!(&b, s => s.export_backup(secrets, &mut |line| {
                pending += line.len();
                parts.push(&JsValue::from_str(&line));
                if pending >= 4 << 20 {
                    pending = 0;
                    collapse(&parts).map_err(|e| crate::Error::new(crate::ErrorCode::Storage, format!("building the backup Blob failed: {e:?}")))?;
                }
                Ok(())
            }).await?);
            collapse(&parts)?;
            let blob = parts.get(0);
            Ok(blob)
        })
    }

    /// Imports a backup from a `Blob`/`File`, a `ReadableStream<Uint8Array>` (e.g. a fetch
    /// body), a `Uint8Array` or a string, read chunk by chunk and written in batches of
    /// `batchSize` items (one transaction each), so memory stays bounded; last writer wins per
    /// record. The header is checked first (a newer backup: `unsupported_format`, nothing
    /// written). A Blob, bytes or string is read twice: once to check every line (a bad line:
    /// its number in the message; a truncated file: `truncated`; nothing written), then to
    /// write. A stream is imported as it arrives: an error or cancel keeps the batches already
    /// committed and the message says how many items; importing again completes it.
    #[wasm_bindgen(js_name = importBackup, unchecked_return_type = "Promise<ImportReport>")]
    pub fn import_backup(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Blob | ReadableStream<Uint8Array> | Uint8Array | string")]
        backup: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "BackupImportOptions")] options: JsValue,
    ) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            if aborted_before(&options) {
                return Err(Error::new(
                    ErrorCode::Aborted,
                    "the import was cancelled before it started; nothing was written",
                )
                .into());
            }
            let get = |k: &str| {
                js_sys::Reflect::get(&options, &JsValue::from_str(k)).ok().filter(|v| !v.is_undefined() && !v.is_null())
            };
            let on = get("onProgress").and_then(|f| f.dyn_into::<Function>().ok());
            let signal = get("signal").and_then(|s| s.dyn_into::<web_sys::AbortSignal>().ok());
            let mut source = JsSource::new(&backup, signal.clone())?;
            let mut opts = StreamOptions { check_first: source.can_rewind(), ..StreamOptions::default() };
            if let Some(n) = get("batchSize") {
                let n = n
                    .as_f64()
                    .filter(|n| *n >= 1.0 && n.fract() == 0.0)
                    .ok_or_else(|| Error::invalid_argument("batchSize must be a whole number ≥ 1"))?;
                opts.batch_items = n.min(1e6) as usize;
            }
            if let Some(c) = get("checkFirst") {
                opts.check_first =
                    c.as_bool().ok_or_else(|| Error::invalid_argument("checkFirst must be a boolean"))?;
            }
            let mut progress = move |p: StreamProgress| {
                if signal.as_ref().is_some_and(|s| s.aborted()) {
                    return ControlFlow::Break(());
                }
                if let (Some(f), Ok(v)) = (&on, to_js_value(&p)) {
                    let _ = f.call1(&JsValue::UNDEFINED, &v);
                }
                if signal.as_ref().is_some_and(|s| s.aborted()) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            };
            with_store!(&b, s => to_js_value(&s.import_backup_from(&mut source, &opts, &mut progress).await?))
        })
    }

    /// The thumbnail of an image asset (default longest side 256 px), made on first use and
    /// kept as an asset of its own (`role: "thumbnail"`, `thumbnailOf`), so later calls read it
    /// back. PNG is decoded in Rust; other formats by the browser (`createImageBitmap`); where
    /// neither works (e.g. a JPEG in Node) the original comes back with `original: true`.
    /// `null` for a missing asset. Too many pixels: `too_large`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Thumbnail | null>")]
    pub fn thumbnail(
        &self,
        #[wasm_bindgen(js_name = assetId)] asset_id: String,
        #[wasm_bindgen(unchecked_optional_param_type = "ThumbnailOptions")] options: JsValue,
    ) -> Promise {
        let b = self.backend.clone();
        spawn(async move { to_js_value(&thumbnail_of(&b, &asset_id, options).await?) })
    }

    /// A `blob:` URL of the thumbnail (or of the original, see `thumbnail`), or `null` for a
    /// missing asset. Revoke it with `URL.revokeObjectURL` when it is no longer shown.
    #[wasm_bindgen(js_name = thumbnailUrl, unchecked_return_type = "Promise<string | null>")]
    pub fn thumbnail_url(
        &self,
        #[wasm_bindgen(js_name = assetId)] asset_id: String,
        #[wasm_bindgen(unchecked_optional_param_type = "ThumbnailOptions")] options: JsValue,
    ) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            let Some(t) = thumbnail_of(&b, &asset_id, options).await? else { return Ok(JsValue::NULL) };
            let Some(blob) = asset_blob(&b, &t.asset.id).await? else { return Ok(JsValue::NULL) };
            Ok(JsValue::from_str(&web_sys::Url::create_object_url_with_blob(&blob)?))
        })
    }

    /// The current settings (defaults when never saved).
    #[wasm_bindgen(js_name = getSettings, unchecked_return_type = "Promise<Settings>")]
    pub fn get_settings(&self) -> Promise {
        let b = self.backend.clone();
        spawn(async move { with_store!(&b, s => to_js_value(&settings::load(s).await?)) })
    }

    /// Applies a partial update; rejects with code `validation` listing every bad field.
    #[wasm_bindgen(js_name = setSettings, unchecked_return_type = "Promise<Settings>")]
    pub fn set_settings(&self, #[wasm_bindgen(unchecked_param_type = "SettingsPatch")] patch: JsValue) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            let p: Value = from_js_value(patch, "settings")?;
            with_store!(&b, s => to_js_value(&settings::update(s, &p).await?))
        })
    }

    /// Every problem a partial update would have, without saving (`[]` when valid).
    #[wasm_bindgen(js_name = validateSettings, unchecked_return_type = "Promise<FieldError[]>")]
    pub fn validate_settings(&self, #[wasm_bindgen(unchecked_param_type = "SettingsPatch")] patch: JsValue) -> Promise {
        let b = self.backend.clone();
        spawn(async move {
            let p: Value = from_js_value(patch, "settings")?;
            with_store!(&b, s => to_js_value(&settings::load(s).await?.try_patch(&p).1))
        })
    }

    /// Stores (or with `null` removes) an API key; it never appears in backups unless asked.
    #[wasm_bindgen(js_name = setApiKey, unchecked_return_type = "Promise<void>")]
    pub fn set_api_key(&self, name: String, key: Option<String>) -> Promise {
        let b = self.backend.clone();
        spawn(async move { with_store!(&b, s => { settings::set_api_key(s, &name, key.as_deref()).await?; Ok(JsValue::UNDEFINED) }) })
    }

    /// Which API keys are stored (names → set), never the values.
    #[wasm_bindgen(js_name = apiKeyNames, unchecked_return_type = "Promise<Record<string, boolean>>")]
    pub fn api_key_names(&self) -> Promise {
        let b = self.backend.clone();
        spawn(async move { with_store!(&b, s => to_js_value(&settings::load_secrets(s).await?.summary())) })
    }

    /// Calls `listener` on every change (this tab's and, for IndexedDB, other tabs');
    /// returns a function that unsubscribes.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(&self, #[wasm_bindgen(unchecked_param_type = "(change: StoreChange) => void")] listener: Function) -> JsValue {
        self.subscribe_filtered(listener, None)
    }

    /// Calls `listener` with the new settings whenever they change (in any tab).
    #[wasm_bindgen(js_name = subscribeSettings, unchecked_return_type = "() => void")]
    pub fn subscribe_settings(&self, #[wasm_bindgen(unchecked_param_type = "(settings: Settings) => void")] listener: Function) -> JsValue {
        let b = self.backend.clone();
        let wrapped = Closure::<dyn Fn(JsValue)>::new(move |change: JsValue| {
            let keys: Vec<String> = js_sys::Reflect::get(&change, &JsValue::from_str("ids"))
                .ok()
                .and_then(|v| serde_wasm_bindgen::from_value(v).ok())
                .unwrap_or_default();
            if !keys.is_empty() && !keys.iter().any(|k| k == settings::SETTINGS_KEY) {
                return;
            }
            let b = b.clone();
            let listener = listener.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let loaded = with_store!(&b, s => settings::load(s).await);
                if let Ok(v) = loaded.map_err(JsValue::from).and_then(|s| to_js_value(&s)) {
                    let _ = listener.call1(&JsValue::UNDEFINED, &v);
                }
            });
        });
        let f: Function = wrapped.into_js_value().unchecked_into();
        self.subscribe_filtered(f, Some(crate::store::schema::stores::SETTINGS))
    }

    fn subscribe_filtered(&self, listener: Function, only: Option<&'static str>) -> JsValue {
        let l: crate::store::Listener = Rc::new(move |c: &Change| {
            if only.is_some_and(|o| c.store != o && c.store != "*") {
                return;
            }
            if let Ok(v) = to_js_value(c) {
                let _ = listener.call1(&JsValue::UNDEFINED, &v);
            }
        });
        let handle = with_store!(&self.backend, s => s.subscribe(l));
        let b = self.backend.clone();
        Closure::once_into_js(move || with_store!(&b, s => s.unsubscribe(handle)))
    }
}
