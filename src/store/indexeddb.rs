//! The IndexedDB backend (browser edge, wasm32 only), written directly on web-sys.
//!
//! Why not rexie/idb: we need the open request's `blocked` event (reported, not hung), the
//! `versionchange` event (close so other tabs can upgrade), explicit `abort()` on any failure,
//! cursors with direction / `advance` and a multi-step migration in the upgrade transaction.
//! The whole adapter is two small futures ([`request`] and [`TxDone`]) over IDB's events.
//!
//! Layout ([`DB_VERSION`]): every record store is keyed by `id`; `messages` by
//! `[chatId, seq]`; `assetBlobs` holds `Blob`s under the asset id; `settings` is keyed by `key`;
//! `events` has auto-increment `seq`. Version 2 adds the character indexes `ixName`, `ixTags`
//! (multi-entry), `ixUsed`, `ixCreated` and back-fills them in the upgrade transaction.
//! Version 3 adds `cache`, the client's response cache ([`IdbResponseCache`]): not records, not
//! in backups. Version 4 stores a character's card as JSON text (`cardJson`) instead of a nested
//! object, and rewrites the characters already stored in the upgrade transaction.
//!
//! Why JSON text: a card with a 6,000-entry lorebook is some 300,000 JS values. Stored as an
//! object, every write converts it value by value from Rust to JS and IndexedDB clones it value
//! by value (and every read does both again): about a second each way. As one string it is one
//! copy for IndexedDB, and Rust and the browser's `JSON.parse` convert it at native speed.
//! [`IndexedDbStore::get_character_js`] and [`IndexedDbStore::list_characters_js`] hand the
//! stored value to JS without it ever entering wasm memory.
//!
//! Every operation is one transaction; any error aborts it, so nothing partial is ever kept.
//! After a commit the change is announced to this tab's listeners and, through a
//! `BroadcastChannel` named `nextchat-tavern:<db name>`, to other tabs.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use std::any::{Any, TypeId};

use js_sys::{Array, Promise, Reflect, Uint8Array};
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    BroadcastChannel, DomException, Event, IdbCursorDirection, IdbCursorWithValue, IdbDatabase, IdbFactory,
    IdbIndexParameters, IdbKeyRange, IdbObjectStore, IdbObjectStoreParameters, IdbOpenDbRequest, IdbRequest,
    IdbTransaction, IdbTransactionMode, IdbVersionChangeEvent, MessageEvent,
};

use super::cache::{CacheEntry, CacheLimits, LocalFuture, ResponseCache};
use super::memory::normalize_imported;
use super::schema::{
    self, stores, Asset, Character, Chat, Event as LogEvent, Message, MessageEdit, NewMessage, Record, SettingEntry, SyncMeta,
};
use super::{
    chat_after_append, live_chat, meta_of_value, next_message, stamp_new, touch_chat, BackupItem, Change,
    CharacterQuery, CharacterSort, ImportReport, ImportSession, Listener, NameMatch, Page, Progress, ProgressFn, Store,
    StoreEnv, StoreInfo,
};
use crate::{Error, ErrorCode, Result};

// ---- errors ------------------------------------------------------------------------------------

/// Maps a JS/DOM error to a crate error with a stable code.
pub fn map_js_error(e: &JsValue, context: &str) -> Error {
    if let Some(d) = e.dyn_ref::<DomException>() {
        let name = d.name();
        let code = match name.as_str() {
            "QuotaExceededError" => ErrorCode::QuotaExceeded,
            "AbortError" => ErrorCode::Aborted,
            "VersionError" => ErrorCode::UnsupportedFormat,
            "TimeoutError" => ErrorCode::Timeout,
            _ => ErrorCode::Storage,
        };
        return Error::new(code, format!("{context}: {name}: {}", d.message()));
    }
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return Error::new(ErrorCode::Storage, format!("{context}: {}", String::from(err.message())));
    }
    Error::new(ErrorCode::Storage, format!("{context}: {e:?}"))
}

fn js_err(context: &'static str) -> impl Fn(JsValue) -> Error {
    move |e| map_js_error(&e, context)
}

fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| Error::new(ErrorCode::Internal, format!("could not convert a record to JS: {e}")))
}

fn from_js<T: serde::de::DeserializeOwned>(v: JsValue, store: &str) -> Result<T> {
    serde_wasm_bindgen::from_value(v)
        .map_err(|e| Error::new(ErrorCode::Storage, format!("a stored {store} record is unreadable: {e}")))
}

// ---- stored values of records (characters: the card as JSON text) ------------------------------

/// The IndexedDB database version: the layout of the object stores. Versions 1–3 equal the
/// record schema ([`schema::SCHEMA_VERSION`]); 4 changes only how characters are laid out
/// (`cardJson`), so records as JS and backups see them keep schema 3.
pub const DB_VERSION: u32 = 4;

/// The field of a stored character that holds its card as JSON text (layout 4).
const CARD_JSON: &str = "cardJson";
/// Derived index fields of a stored character (not shown to JS).
const INDEX_FIELDS: [&str; 4] = ["ixName", "ixTags", "ixUsed", "ixCreated"];

fn prop(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn set_prop(v: &JsValue, key: &str, x: &JsValue) -> Result<()> {
    Reflect::set(v, &JsValue::from_str(key), x).map(drop).map_err(js_err("record"))
}

fn delete_prop(v: &JsValue, key: &str) {
    if let Some(o) = v.dyn_ref::<js_sys::Object>() {
        let _ = Reflect::delete_property(o, &JsValue::from_str(key));
    }
}

/// The stored value of a character: every field as it is, the card as JSON text.
fn character_to_js(c: &mut Character) -> Result<JsValue> {
    let card = std::mem::take(&mut c.card);
    let text = crate::jsjson::card_text_js(&card);
    let v = to_js(&*c);
    c.card = card;
    let v = v?;
    delete_prop(&v, "card");
    set_prop(&v, CARD_JSON, &text)?;
    Ok(v)
}

/// A stored character without its card (`card` left empty), and the card as stored: JSON text
/// (layout 4), an object (older layouts) or `undefined`. `v` is left as it was.
fn character_parts(v: &JsValue) -> Result<(Character, JsValue)> {
    let text = prop(v, CARD_JSON);
    let obj = prop(v, "card");
    delete_prop(v, CARD_JSON);
    delete_prop(v, "card");
    let c = from_js::<Character>(v.clone(), stores::CHARACTERS);
    if !text.is_undefined() {
        set_prop(v, CARD_JSON, &text)?;
    }
    if !obj.is_undefined() {
        set_prop(v, "card", &obj)?;
    }
    Ok((c?, if text.is_string() { text } else { obj }))
}

/// A stored character, card included (as its text, left a JS string: copied into wasm only
/// when looked at, and written back as it is when unchanged).
fn character_from_js(v: &JsValue) -> Result<Character> {
    let (mut c, card) = character_parts(v)?;
    if card.is_string() {
        c.card = crate::jsjson::JsText::card(card);
    } else if !card.is_undefined() {
        c.card = from_js::<Value>(card, stores::CHARACTERS)?.into();
    }
    Ok(c)
}

/// A stored character as JS sees it (the shape `TavernStore` returns): without the derived index
/// fields, the card parsed by the browser (`with_card`) or left out. Consumes the stored value.
fn public_character_js(v: JsValue, with_card: bool) -> Result<JsValue> {
    for k in INDEX_FIELDS {
        delete_prop(&v, k);
    }
    let text = prop(&v, CARD_JSON);
    delete_prop(&v, CARD_JSON);
    if !with_card {
        delete_prop(&v, "card");
    } else if text.is_string() {
        let card = crate::jsjson::from_json_js(&text).map_err(|e| Error::new(e.code(), format!("the stored card is unreadable: {}", e.message())))?;
        set_prop(&v, "card", &card)?;
    }
    Ok(v)
}

/// The sync metadata of a stored value, read field by field (a card is not converted).
fn stored_meta(v: &JsValue) -> SyncMeta {
    let num = |k: &str| prop(v, k).as_f64().unwrap_or(0.0);
    SyncMeta {
        id: prop(v, "id").as_string().unwrap_or_default(),
        rev: num("rev") as u64,
        created_at: num("createdAt") as i64,
        updated_at: num("updatedAt") as i64,
        deleted: prop(v, "deleted").as_bool().unwrap_or(false),
    }
}

/// The stored value of any record (characters through [`character_to_js`]).
fn record_to_js<R: Record>(r: &mut R) -> Result<JsValue> {
    match (r as &mut dyn Any).downcast_mut::<Character>() {
        Some(c) => character_to_js(c),
        None => to_js(r),
    }
}

/// Any record from its stored value (characters through [`character_from_js`]).
fn record_from_js<R: Record>(v: JsValue) -> Result<R> {
    if TypeId::of::<R>() == TypeId::of::<Character>() {
        let c: Box<dyn Any> = Box::new(character_from_js(&v)?);
        return c.downcast::<R>().map(|r| *r).map_err(|_| Error::new(ErrorCode::Internal, "record type mismatch"));
    }
    from_js::<R>(v, R::STORE)
}

// ---- request / transaction futures --------------------------------------------------------------

/// Resolves with `request.result` on `success`, rejects with `request.error` on `error`.
/// Handlers are removed when dropped, so an abandoned request never calls a freed closure.
struct RequestWait {
    req: IdbRequest,
    fut: JsFuture,
    _cb: Closure<dyn FnMut(Event)>,
}

impl RequestWait {
    fn new(req: &IdbRequest) -> Self {
        let mut cb = None;
        let promise = Promise::new(&mut |resolve, reject| {
            let r = req.clone();
            let c = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
                if e.type_() == "success" {
                    let _ = resolve.call1(&JsValue::UNDEFINED, &r.result().unwrap_or(JsValue::UNDEFINED));
                } else {
                    let err = r.error().ok().flatten().map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
                    let _ = reject.call1(&JsValue::UNDEFINED, &err);
                }
            });
            req.set_onsuccess(Some(c.as_ref().unchecked_ref()));
            req.set_onerror(Some(c.as_ref().unchecked_ref()));
            cb = Some(c);
        });
        let cb = cb.unwrap_or_else(|| Closure::new(|_e: Event| {}));
        RequestWait { req: req.clone(), fut: JsFuture::from(promise), _cb: cb }
    }

    async fn wait(mut self, context: &'static str) -> Result<JsValue> {
        (&mut self.fut).await.map_err(|e| map_js_error(&e, context))
    }
}

impl Drop for RequestWait {
    fn drop(&mut self) {
        self.req.set_onsuccess(None);
        self.req.set_onerror(None);
    }
}

async fn request(req: std::result::Result<IdbRequest, JsValue>, context: &'static str) -> Result<JsValue> {
    let req = req.map_err(js_err(context))?;
    RequestWait::new(&req).wait(context).await
}

/// Resolves on `complete`, rejects with the transaction's error on `abort`.
struct TxDone {
    tx: IdbTransaction,
    fut: Option<JsFuture>,
    _cb: Closure<dyn FnMut(Event)>,
}

impl TxDone {
    fn new(tx: &IdbTransaction) -> Self {
        let mut cb = None;
        let promise = Promise::new(&mut |resolve, reject| {
            let t = tx.clone();
            let c = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
                if e.type_() == "complete" {
                    let _ = resolve.call0(&JsValue::UNDEFINED);
                } else {
                    let err: JsValue = match t.error() {
                        Some(d) => d.into(),
                        None => DomException::new_with_message_and_name("the transaction was aborted", "AbortError")
                            .map(JsValue::from)
                            .unwrap_or(JsValue::UNDEFINED),
                    };
                    let _ = reject.call1(&JsValue::UNDEFINED, &err);
                }
            });
            tx.set_oncomplete(Some(c.as_ref().unchecked_ref()));
            tx.set_onabort(Some(c.as_ref().unchecked_ref()));
            cb = Some(c);
        });
        let cb = cb.unwrap_or_else(|| Closure::new(|_e: Event| {}));
        TxDone { tx: tx.clone(), fut: Some(JsFuture::from(promise)), _cb: cb }
    }

    /// Commits (or reports why it could not) after the body's result: on `Err` the transaction
    /// is aborted and the body's error returned; on `Ok` the commit's outcome decides.
    async fn finish<T>(mut self, body: Result<T>) -> Result<T> {
        let fut = self.fut.take();
        match body {
            Ok(v) => {
                if let Some(f) = fut {
                    f.await.map_err(|e| map_js_error(&e, "transaction"))?;
                }
                Ok(v)
            }
            Err(e) => {
                let _ = self.tx.abort();
                if let Some(f) = fut {
                    let _ = f.await;
                }
                Err(e)
            }
        }
    }
}

impl Drop for TxDone {
    fn drop(&mut self) {
        self.tx.set_oncomplete(None);
        self.tx.set_onabort(None);
    }
}

/// Tells IndexedDB that no more requests follow, so it commits as soon as the pending ones are
/// done instead of waiting for this task's callbacks (saves a round of event dispatch per write
/// transaction). Where `commit()` is missing (old browsers) the transaction auto-commits as before.
#[allow(deprecated)] // web-sys marks commit() deprecated (unstable WebIDL); Chromium has it since 76
fn commit(tx: &IdbTransaction) {
    let _ = tx.commit();
}

fn store_of(tx: &IdbTransaction, name: &str) -> Result<IdbObjectStore> {
    tx.object_store(name).map_err(|e| map_js_error(&e, "object store"))
}

fn chat_range(chat_id: &str, upper_seq: Option<u64>) -> Result<IdbKeyRange> {
    let lower = Array::of2(&JsValue::from_str(chat_id), &JsValue::from_f64(0.0));
    let (upper, open) = match upper_seq {
        Some(s) => (Array::of2(&JsValue::from_str(chat_id), &JsValue::from_f64(s as f64)), true),
        None => (Array::of2(&JsValue::from_str(chat_id), &JsValue::from_f64(9_007_199_254_740_991.0)), false),
    };
    IdbKeyRange::bound_with_lower_open_and_upper_open(&lower, &upper, false, open).map_err(js_err("key range"))
}

fn msg_key(chat_id: &str, seq: u64) -> JsValue {
    Array::of2(&JsValue::from_str(chat_id), &JsValue::from_f64(seq as f64)).into()
}

/// The newest live message of a chat with `seq >= from` (cursor backwards, skipping tombstones).
async fn last_live(messages: &IdbObjectStore, chat_id: &str, from: u64) -> Result<Option<Message>> {
    let lower = Array::of2(&JsValue::from_str(chat_id), &JsValue::from_f64(from as f64));
    let upper = Array::of2(&JsValue::from_str(chat_id), &JsValue::from_f64(9_007_199_254_740_991.0));
    let range = IdbKeyRange::bound(&lower, &upper).map_err(js_err("key range"))?;
    let req = messages
        .open_cursor_with_range_and_direction(&range, IdbCursorDirection::Prev)
        .map_err(js_err("cursor"))?;
    loop {
        let cur = RequestWait::new(&req).wait("cursor").await?;
        let Ok(cursor) = cur.dyn_into::<IdbCursorWithValue>() else { return Ok(None) };
        let m: Message = from_js(cursor.value().map_err(js_err("cursor"))?, stores::MESSAGES)?;
        if !m.deleted {
            return Ok(Some(m));
        }
        cursor.continue_().map_err(js_err("cursor"))?;
    }
}

// ---- schema and migrations ----------------------------------------------------------------------

fn create_store(db: &IdbDatabase, name: &str, key_path: Option<JsValue>, auto: bool) -> std::result::Result<IdbObjectStore, JsValue> {
    let p = IdbObjectStoreParameters::new();
    if let Some(k) = key_path {
        p.set_key_path(&k);
    }
    if auto {
        p.set_auto_increment(true);
    }
    db.create_object_store_with_optional_parameters(name, &p)
}

fn index(store: &IdbObjectStore, name: &str, multi: bool) -> std::result::Result<(), JsValue> {
    let p = IdbIndexParameters::new();
    p.set_multi_entry(multi);
    store.create_index_with_str_and_optional_parameters(name, name, &p)?;
    Ok(())
}

/// Version 1: every store.
fn migrate_to_v1(db: &IdbDatabase) -> std::result::Result<(), JsValue> {
    for s in stores::RECORD_STORES {
        let st = create_store(db, s, Some(JsValue::from_str("id")), false)?;
        if *s == stores::CHATS {
            index(&st, "characterId", false)?;
        }
        if *s == stores::ASSETS {
            index(&st, "ownerId", false)?;
        }
    }
    let key: JsValue = Array::of2(&JsValue::from_str("chatId"), &JsValue::from_str("seq")).into();
    create_store(db, stores::MESSAGES, Some(key), false)?;
    create_store(db, stores::ASSET_BLOBS, None, false)?;
    create_store(db, stores::SETTINGS, Some(JsValue::from_str("key")), false)?;
    create_store(db, stores::EVENTS, Some(JsValue::from_str("seq")), true)?;
    Ok(())
}

/// Version 2: character indexes (back-filled by [`rewrite_characters`]).
fn migrate_to_v2(tx: &IdbTransaction) -> std::result::Result<(), JsValue> {
    let st = tx.object_store(stores::CHARACTERS)?;
    index(&st, "ixName", false)?;
    index(&st, "ixTags", true)?;
    index(&st, "ixUsed", false)?;
    index(&st, "ixCreated", false)?;
    Ok(())
}

/// Versions 2 and 4 on data already stored: every character is read (any older layout),
/// reindexed (version 2's index fields) and written back in the current layout (version 4's
/// `cardJson`). Returns the cursor handler, which must live until the upgrade transaction
/// completes.
fn rewrite_characters(tx: &IdbTransaction) -> std::result::Result<Closure<dyn FnMut(Event)>, JsValue> {
    let st = tx.object_store(stores::CHARACTERS)?;
    let req = st.open_cursor()?;
    let r = req.clone();
    let cb = Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
        let Ok(res) = r.result() else { return };
        let Ok(cursor) = res.dyn_into::<IdbCursorWithValue>() else { return }; // null: done
        if let Ok(v) = cursor.value() {
            // An unreadable record is left as it is (still readable raw, just not indexed).
            if let Ok(mut c) = character_from_js(&v) {
                c.reindex();
                if let Ok(js) = character_to_js(&mut c) {
                    let _ = cursor.update(&js);
                }
            }
        }
        let _ = cursor.continue_();
    });
    req.set_onsuccess(Some(cb.as_ref().unchecked_ref()));
    Ok(cb)
}

/// Version 3: the response cache (`cache`, keyed by `key`, `ixAge` on `[fetchedAt, size]` so
/// eviction walks ages and sizes without reading bodies). No existing store changes.
fn migrate_to_v3(db: &IdbDatabase) -> std::result::Result<(), JsValue> {
    let st = create_store(db, stores::CACHE, Some(JsValue::from_str("key")), false)?;
    let key: JsValue = Array::of2(&JsValue::from_str("fetchedAt"), &JsValue::from_str("size")).into();
    st.create_index_with_str_sequence("ixAge", &key)?;
    Ok(())
}

/// Runs every migration step from `old` to `new` in the upgrade transaction.
fn upgrade(db: &IdbDatabase, tx: &IdbTransaction, old: u32, new: u32) -> std::result::Result<Vec<Closure<dyn FnMut(Event)>>, JsValue> {
    let mut keep = Vec::new();
    if old < 1 && new >= 1 {
        migrate_to_v1(db)?;
    }
    if old < 2 && new >= 2 {
        migrate_to_v2(tx)?;
    }
    if old < 3 && new >= 3 {
        migrate_to_v3(db)?;
    }
    // Characters stored by an older layout: reindexed (for 2) and rewritten with their card as
    // JSON text (for 4), in one pass.
    if old >= 1 && ((old < 2 && new >= 2) || (old < 4 && new >= 4)) {
        keep.push(rewrite_characters(tx)?);
    }
    Ok(keep)
}

// ---- fault injection (tests) --------------------------------------------------------------------

/// A simulated failure for robustness tests (a real quota cannot be filled in CI): the `nth`
/// write request from now on fails as if the browser had thrown `dom_error` (e.g.
/// `QuotaExceededError`), aborting its transaction exactly like a real failed request does.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Fault {
    /// Counts down on every write request; fires at 1.
    pub nth: u32,
    /// DOMException name to fail with.
    pub dom_error: String,
}

// ---- the store ----------------------------------------------------------------------------------

struct Inner {
    name: String,
    db: RefCell<Option<IdbDatabase>>,
    closed_reason: RefCell<Option<String>>,
    env: StoreEnv,
    channel: Option<BroadcastChannel>,
    listeners: RefCell<Vec<(u64, Listener)>>,
    next_listener: Cell<u64>,
    fault: RefCell<Option<Fault>>,
    _on_versionchange: RefCell<Option<Closure<dyn FnMut(Event)>>>,
    _on_message: RefCell<Option<Closure<dyn FnMut(MessageEvent)>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(db) = self.db.borrow_mut().take() {
            db.set_onversionchange(None);
            db.close();
        }
        if let Some(ch) = &self.channel {
            ch.set_onmessage(None);
            ch.close();
        }
    }
}

/// The IndexedDB [`Store`]. Cheap to clone (one shared connection).
#[derive(Clone)]
pub struct IndexedDbStore {
    inner: Rc<Inner>,
}

impl std::fmt::Debug for IndexedDbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexedDbStore").field("name", &self.inner.name).finish_non_exhaustive()
    }
}

/// The `indexedDB` factory of this global (window or worker), if there is one.
pub fn factory() -> Result<IdbFactory> {
    let g = js_sys::global();
    let f = js_sys::Reflect::get(&g, &JsValue::from_str("indexedDB"))
        .map_err(|e| map_js_error(&e, "indexedDB is not accessible"))?;
    if f.is_undefined() || f.is_null() {
        return Err(Error::new(ErrorCode::Storage, "IndexedDB is not available in this browser context"));
    }
    f.dyn_into::<IdbFactory>().map_err(|_| Error::new(ErrorCode::Storage, "indexedDB is not an IDBFactory"))
}

/// Deletes a whole database (tests, "reset everything").
pub async fn delete_database(name: &str) -> Result<()> {
    let req = factory()?.delete_database(name).map_err(js_err("deleteDatabase"))?;
    RequestWait::new(&req).wait("deleteDatabase").await.map(|_| ())
}

/// Opens (creating or upgrading) a database at `version`; `blocked` is reported as
/// [`ErrorCode::Blocked`] instead of waiting for the other tab.
async fn open_db(name: &str, version: u32) -> Result<IdbDatabase> {
    let req: IdbOpenDbRequest = factory()?.open_with_u32(name, version).map_err(js_err("indexedDB.open"))?;
    let abandoned = Rc::new(Cell::new(false));
    let upgrade_error: Rc<RefCell<Option<String>>> = Rc::default();
    let keep: Rc<RefCell<Vec<Closure<dyn FnMut(Event)>>>> = Rc::default();
    let mut handlers: Vec<Closure<dyn FnMut(Event)>> = Vec::new();
    let promise = Promise::new(&mut |resolve, reject| {
        let r = req.clone();
        let ab = abandoned.clone();
        let on_success = Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
            let db = r.result().unwrap_or(JsValue::UNDEFINED);
            if ab.get() {
                // We already reported `blocked`; nobody will use this connection.
                if let Ok(db) = db.dyn_into::<IdbDatabase>() {
                    db.close();
                }
            } else {
                let _ = resolve.call1(&JsValue::UNDEFINED, &db);
            }
        });
        let r = req.clone();
        let rej = reject.clone();
        let on_error = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
            e.prevent_default();
            let err = r.error().ok().flatten().map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
            let _ = rej.call1(&JsValue::UNDEFINED, &err);
        });
        let ab = abandoned.clone();
        let rej = reject.clone();
        let on_blocked = Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
            ab.set(true);
            let err = DomException::new_with_message_and_name(
                "another tab keeps the database open with an older version; close it or reload it",
                "BlockedError",
            )
            .map(JsValue::from)
            .unwrap_or(JsValue::UNDEFINED);
            let _ = rej.call1(&JsValue::UNDEFINED, &err);
        });
        let r = req.clone();
        let k = keep.clone();
        let ue = upgrade_error.clone();
        let on_upgrade = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
            let Some(ev) = e.dyn_ref::<IdbVersionChangeEvent>() else { return };
            let old = ev.old_version() as u32;
            let new = ev.new_version().unwrap_or(0.0) as u32;
            let (Ok(db), Some(tx)) = (r.result().and_then(|d| d.dyn_into::<IdbDatabase>().map_err(JsValue::from)), r.transaction()) else {
                return;
            };
            match upgrade(&db, &tx, old, new) {
                Ok(cbs) => k.borrow_mut().extend(cbs),
                Err(err) => {
                    *ue.borrow_mut() = Some(format!("{err:?}"));
                    let _ = tx.abort();
                }
            }
        });
        req.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
        req.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        req.set_onblocked(Some(on_blocked.as_ref().unchecked_ref()));
        req.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        handlers.extend([on_success, on_error, on_blocked, on_upgrade]);
    });
    let out = JsFuture::from(promise).await;
    if abandoned.get() {
        // The request is still pending in the browser: its handlers must outlive this call
        // (they close the connection if it ever opens). A few closures, only after `blocked`.
        for h in handlers {
            h.forget();
        }
        for h in keep.take() {
            h.forget();
        }
    } else {
        req.set_onsuccess(None);
        req.set_onerror(None);
        req.set_onblocked(None);
        req.set_onupgradeneeded(None);
    }
    match out {
        Ok(db) => db.dyn_into::<IdbDatabase>().map_err(|_| Error::new(ErrorCode::Internal, "open returned no database")),
        Err(e) => {
            if e.dyn_ref::<DomException>().is_some_and(|d| d.name() == "BlockedError") {
                return Err(Error::new(
                    ErrorCode::Blocked,
                    format!("opening {name:?} at schema {version} is blocked: another tab keeps an older version open; close or reload it"),
                ));
            }
            if let Some(u) = upgrade_error.borrow().clone() {
                return Err(Error::new(ErrorCode::Storage, format!("schema upgrade of {name:?} failed: {u}")));
            }
            Err(map_js_error(&e, "indexedDB.open"))
        }
    }
}

impl IndexedDbStore {
    /// Opens (creating or migrating) the database `name` at the current schema version.
    pub async fn open(name: &str, env: StoreEnv) -> Result<Self> {
        Self::open_at(name, env, DB_VERSION).await
    }

    /// Opens at an explicit database version ([`DB_VERSION`] and older; migration tests create
    /// old databases with it).
    #[doc(hidden)]
    pub async fn open_at(name: &str, env: StoreEnv, version: u32) -> Result<Self> {
        if version == 0 || version > DB_VERSION {
            return Err(Error::invalid_argument(format!("database version {version} is not one this build knows")));
        }
        let db = open_db(name, version).await?;
        let channel = BroadcastChannel::new(&format!("nextchat-tavern:{name}")).ok();
        let inner = Rc::new(Inner {
            name: name.to_string(),
            db: RefCell::new(Some(db.clone())),
            closed_reason: RefCell::new(None),
            env,
            channel,
            listeners: RefCell::new(Vec::new()),
            next_listener: Cell::new(1),
            fault: RefCell::new(None),
            _on_versionchange: RefCell::new(None),
            _on_message: RefCell::new(None),
        });
        // Another tab wants to upgrade: step aside (close) instead of blocking it.
        let weak: Weak<Inner> = Rc::downgrade(&inner);
        let on_vc = Closure::<dyn FnMut(Event)>::new(move |_e: Event| {
            if let Some(inner) = weak.upgrade() {
                if let Some(db) = inner.db.borrow_mut().take() {
                    db.close();
                }
                *inner.closed_reason.borrow_mut() =
                    Some("the database was closed because another tab upgraded it; reload this page".into());
            }
        });
        db.set_onversionchange(Some(on_vc.as_ref().unchecked_ref()));
        *inner._on_versionchange.borrow_mut() = Some(on_vc);
        if let Some(ch) = &inner.channel {
            let weak: Weak<Inner> = Rc::downgrade(&inner);
            let on_msg = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                let Some(inner) = weak.upgrade() else { return };
                let Some(text) = e.data().as_string() else { return };
                let Ok(mut change) = serde_json::from_str::<Change>(&text) else { return };
                change.remote = true;
                emit_to(&inner, &change);
            });
            ch.set_onmessage(Some(on_msg.as_ref().unchecked_ref()));
            *inner._on_message.borrow_mut() = Some(on_msg);
        }
        Ok(IndexedDbStore { inner })
    }

    /// Closes the connection (further calls fail with `storage`).
    pub fn close(&self) {
        if let Some(db) = self.inner.db.borrow_mut().take() {
            db.close();
        }
        *self.inner.closed_reason.borrow_mut() = Some("the store was closed".into());
    }

    /// Arms a simulated failure (see [`Fault`]).
    #[doc(hidden)]
    pub fn inject_fault(&self, fault: Option<Fault>) {
        *self.inner.fault.borrow_mut() = fault;
    }

    fn db(&self) -> Result<IdbDatabase> {
        self.inner.db.borrow().clone().ok_or_else(|| {
            Error::new(
                ErrorCode::Storage,
                self.inner.closed_reason.borrow().clone().unwrap_or_else(|| "the database is closed".into()),
            )
        })
    }

    fn tx(&self, names: &[&str], rw: bool) -> Result<(IdbTransaction, TxDone)> {
        let arr = Array::new();
        for n in names {
            arr.push(&JsValue::from_str(n));
        }
        let mode = if rw { IdbTransactionMode::Readwrite } else { IdbTransactionMode::Readonly };
        let tx = self.db()?.transaction_with_str_sequence_and_mode(&arr, mode).map_err(js_err("transaction"))?;
        let done = TxDone::new(&tx);
        Ok((tx, done))
    }

    /// Issues a write request, or the armed simulated failure (which aborts `tx` like a real one).
    fn write_req(&self, tx: &IdbTransaction, f: impl FnOnce() -> std::result::Result<IdbRequest, JsValue>) -> Result<RequestWait> {
        self.issue(tx, f).map(|req| RequestWait::new(&req))
    }

    /// Issues the LAST writes of a transaction without waiting for each: a failed request aborts
    /// the transaction, and [`TxDone::finish`] reports its error. Cheaper than [`Self::write_req`]
    /// (no handler, no promise), and lets [`commit`] end the transaction at once.
    fn fire(&self, tx: &IdbTransaction, f: impl FnOnce() -> std::result::Result<IdbRequest, JsValue>) -> Result<()> {
        self.issue(tx, f).map(|_| ())
    }

    fn issue(&self, tx: &IdbTransaction, f: impl FnOnce() -> std::result::Result<IdbRequest, JsValue>) -> Result<IdbRequest> {
        let fire = {
            let mut fault = self.inner.fault.borrow_mut();
            match fault.as_mut() {
                Some(x) if x.nth <= 1 => {
                    let name = x.dom_error.clone();
                    *fault = None;
                    Some(name)
                }
                Some(x) => {
                    x.nth -= 1;
                    None
                }
                None => None,
            }
        };
        if let Some(name) = fire {
            let _ = tx.abort();
            let e = DomException::new_with_message_and_name("simulated failure (test)", &name).map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
            return Err(map_js_error(&e, "write"));
        }
        f().map_err(js_err("write"))
    }

    async fn put_js(&self, tx: &IdbTransaction, store: &IdbObjectStore, v: &JsValue) -> Result<()> {
        self.write_req(tx, || store.put(v))?.wait("put").await.map(|_| ())
    }

    fn announce(&self, change: Change) {
        if let Some(ch) = &self.inner.channel {
            if let Ok(text) = serde_json::to_string(&change) {
                let _ = ch.post_message(&JsValue::from_str(&text));
            }
        }
        emit_to(&self.inner, &change);
    }

    /// One page of characters as their stored values (see [`Self::list_characters_js`]): the
    /// cards are not converted, only the other fields where a filter or sort needs them.
    async fn list_characters_indexed(&self, q: &CharacterQuery) -> Result<Page<JsValue>> {
        let (tx, done) = self.tx(&[stores::CHARACTERS], false)?;
        let body = async {
            let st = store_of(&tx, stores::CHARACTERS)?;
            let limit = q.page_size();
            let needle = q.needle();
            // Tag, favourites, or a name filter with a non-name sort: gather the candidates
            // (through the tag index when there is a tag) and order them like the index would.
            if q.tag_key().is_some() || q.favorites_only || (needle.is_some() && q.sort != CharacterSort::Name) {
                let all = match q.tag_key() {
                    Some(t) => request(st.index("ixTags").and_then(|i| i.get_all_with_key(&JsValue::from_str(&t))), "getAll").await?,
                    None => request(st.get_all(), "getAll").await?,
                };
                let mut rows = Vec::new();
                for v in Array::from(&all).iter() {
                    rows.push((character_parts(&v)?.0, v));
                }
                let page = q.apply_by(rows, |(c, _)| c);
                return Ok(Page { items: page.items.into_iter().map(|(_, v)| v).collect(), total: page.total, offset: page.offset });
            }
            let (ix, forward) = match q.sort {
                CharacterSort::Name => ("ixName", true),
                CharacterSort::RecentlyUsed => ("ixUsed", false),
                CharacterSort::Created => ("ixCreated", false),
            };
            let dir = if forward != q.reverse { IdbCursorDirection::Next } else { IdbCursorDirection::Prev };
            let index = st.index(ix).map_err(js_err("index"))?;
            let range: JsValue = match (&needle, q.match_mode) {
                (Some(n), NameMatch::Prefix) => {
                    IdbKeyRange::bound(&JsValue::from_str(n), &JsValue::from_str(&format!("{n}\u{FFFF}")))
                        .map_err(js_err("key range"))?
                        .into()
                }
                _ => JsValue::UNDEFINED,
            };
            let substring = needle.filter(|_| q.match_mode == NameMatch::Substring);
            if substring.is_none() {
                // Pure index walk: count, skip `offset` entries, read one page. A first page in
                // index order is one `getAll` (issued with the count): a cursor costs a round
                // trip per record.
                let count = if range.is_undefined() { index.count() } else { index.count_with_key(&range) };
                let count = RequestWait::new(&count.map_err(js_err("count"))?);
                let first_page = if q.offset == 0 && limit > 0 && matches!(dir, IdbCursorDirection::Next) {
                    let req = index.get_all_with_key_and_limit(&range, limit.min(u32::MAX as usize) as u32);
                    Some(RequestWait::new(&req.map_err(js_err("getAll"))?))
                } else {
                    None
                };
                let total = count.wait("count").await?.as_f64().unwrap_or(0.0) as usize;
                if let Some(w) = first_page {
                    let all = w.wait("getAll").await?;
                    return Ok(Page { items: Array::from(&all).iter().collect(), total, offset: 0 });
                }
                let mut items = Vec::new();
                if q.offset < total && limit > 0 {
                    let req = index.open_cursor_with_range_and_direction(&range, dir).map_err(js_err("cursor"))?;
                    let mut skipped = q.offset == 0;
                    loop {
                        let cur = RequestWait::new(&req).wait("cursor").await?;
                        let Ok(cursor) = cur.dyn_into::<IdbCursorWithValue>() else { break };
                        if !skipped {
                            skipped = true;
                            cursor.advance(q.offset as u32).map_err(js_err("cursor"))?;
                            continue;
                        }
                        items.push(cursor.value().map_err(js_err("cursor"))?);
                        if items.len() >= limit {
                            break;
                        }
                        cursor.continue_().map_err(js_err("cursor"))?;
                    }
                }
                return Ok(Page { items, total, offset: q.offset });
            }
            // Substring of the name: walk the name index's keys, read values only for the page.
            let n = substring.unwrap_or_default();
            let req = index.open_cursor_with_range_and_direction(&JsValue::UNDEFINED, dir).map_err(js_err("cursor"))?;
            let mut total = 0;
            let mut items = Vec::new();
            loop {
                let cur = RequestWait::new(&req).wait("cursor").await?;
                let Ok(cursor) = cur.dyn_into::<IdbCursorWithValue>() else { break };
                let key = cursor.key().ok().and_then(|k| k.as_string()).unwrap_or_default();
                if key.contains(&n) {
                    if total >= q.offset && items.len() < limit {
                        items.push(cursor.value().map_err(js_err("cursor"))?);
                    }
                    total += 1;
                }
                cursor.continue_().map_err(js_err("cursor"))?;
            }
            Ok(Page { items, total, offset: q.offset })
        }
        .await;
        done.finish(body).await
    }
}

fn emit_to(inner: &Inner, change: &Change) {
    let ls: Vec<Listener> = inner.listeners.borrow().iter().map(|(_, l)| l.clone()).collect();
    for l in ls {
        l(change);
    }
}

fn not_found_msg(chat_id: &str, seq: u64) -> Error {
    Error::new(ErrorCode::NotFound, format!("no message {seq} in chat {chat_id:?}"))
}

impl Store for IndexedDbStore {
    fn info(&self) -> StoreInfo {
        StoreInfo {
            backend: "indexeddb".into(),
            persistent: true,
            name: self.inner.name.clone(),
            schema_version: schema::SCHEMA_VERSION,
            fallback_reason: None,
        }
    }

    fn env(&self) -> &StoreEnv {
        &self.inner.env
    }

    async fn get_raw<R: Record>(&self, id: &str) -> Result<Option<R>> {
        let (tx, done) = self.tx(&[R::STORE], false)?;
        let body = async {
            let v = request(store_of(&tx, R::STORE)?.get(&JsValue::from_str(id)), "get").await?;
            if v.is_undefined() {
                Ok(None)
            } else {
                record_from_js::<R>(v).map(Some)
            }
        }
        .await;
        done.finish(body).await
    }

    async fn list_raw<R: Record>(&self) -> Result<Vec<R>> {
        let (tx, done) = self.tx(&[R::STORE], false)?;
        let body = async {
            let all = request(store_of(&tx, R::STORE)?.get_all(), "getAll").await?;
            Array::from(&all).iter().map(record_from_js::<R>).collect()
        }
        .await;
        done.finish(body).await
    }

    async fn write<R: Record>(&self, id: &str, f: &mut dyn FnMut(Option<R>) -> Result<R>) -> Result<R> {
        let (tx, done) = self.tx(&[R::STORE], true)?;
        let body = async {
            let st = store_of(&tx, R::STORE)?;
            let v = request(st.get(&JsValue::from_str(id)), "get").await?;
            let cur = if v.is_undefined() { None } else { Some(record_from_js::<R>(v)?) };
            let mut next = f(cur)?;
            next.reindex();
            next.validate()?;
            if next.sync_meta().id != id {
                return Err(Error::new(ErrorCode::Internal, "a write changed the record id"));
            }
            let v = record_to_js(&mut next)?;
            self.fire(&tx, || st.put(&v))?;
            commit(&tx);
            Ok(next)
        }
        .await;
        let next = done.finish(body).await?;
        let op = if next.sync_meta().deleted { "delete" } else { "put" };
        self.announce(Change::local(R::STORE, op, vec![id.to_string()]));
        Ok(next)
    }

    async fn put_many<R: Record>(&self, records: Vec<R>, progress: ProgressFn<'_>) -> Result<()> {
        let (tx, done) = self.tx(&[R::STORE], true)?;
        let total = records.len();
        let mut ids = Vec::with_capacity(total);
        let body = async {
            let st = store_of(&tx, R::STORE)?;
            // Issue every put, then wait for them in order (requests run in issue order).
            let mut waits = Vec::with_capacity(total);
            for mut r in records {
                r.reindex();
                ids.push(r.sync_meta().id);
                let v = record_to_js(&mut r)?;
                waits.push(self.write_req(&tx, || st.put(&v))?);
            }
            for (i, w) in waits.into_iter().enumerate() {
                w.wait("put").await?;
                if progress(Progress { done: i + 1, total }).is_break() {
                    return Err(Error::new(ErrorCode::Aborted, "the import was cancelled; nothing was written"));
                }
            }
            Ok(())
        }
        .await;
        done.finish(body).await?;
        self.announce(Change::local(R::STORE, "put", ids));
        Ok(())
    }

    async fn put_characters(
        &self,
        chars: Vec<Character>,
        assets: Vec<(Asset, Vec<u8>)>,
        progress: ProgressFn<'_>,
    ) -> Result<()> {
        let mut blobs_in = Vec::with_capacity(assets.len());
        for (a, bytes) in &assets {
            blobs_in.push(bytes_to_blob(bytes, &a.mime)?);
        }
        let (tx, done) = self.tx(&[stores::CHARACTERS, stores::ASSETS, stores::ASSET_BLOBS], true)?;
        let total = chars.len();
        let mut char_ids = Vec::with_capacity(total);
        let asset_ids: Vec<String> = assets.iter().map(|(a, _)| a.id.clone()).collect();
        let body = async {
            let cs = store_of(&tx, stores::CHARACTERS)?;
            let metas = store_of(&tx, stores::ASSETS)?;
            let blobs = store_of(&tx, stores::ASSET_BLOBS)?;
            // Issue every write, then wait in order (requests run in issue order). `add`, not
            // `put`: an id collision fails the whole transaction instead of overwriting.
            let mut asset_waits = Vec::with_capacity(assets.len());
            for ((a, _), blob) in assets.iter().zip(&blobs_in) {
                let mv = to_js(a)?;
                let key = JsValue::from_str(&a.id);
                asset_waits.push(self.write_req(&tx, || metas.add(&mv))?);
                asset_waits.push(self.write_req(&tx, || blobs.add_with_key(blob, &key))?);
            }
            let mut waits = Vec::with_capacity(total);
            for mut c in chars {
                c.reindex();
                c.validate()?;
                char_ids.push(c.id.clone());
                let v = character_to_js(&mut c)?;
                waits.push(self.write_req(&tx, || cs.add(&v))?);
            }
            for w in asset_waits {
                w.wait("add asset").await?;
            }
            for (i, w) in waits.into_iter().enumerate() {
                w.wait("add character").await?;
                if progress(Progress { done: i + 1, total }).is_break() {
                    return Err(Error::new(ErrorCode::Aborted, "the import was cancelled; nothing was written"));
                }
            }
            Ok(())
        }
        .await;
        done.finish(body).await.map_err(|e| {
            if e.message().contains("ConstraintError") {
                Error::invalid_argument(format!("a character or asset with one of these ids exists: {}", e.message()))
            } else {
                e
            }
        })?;
        if !asset_ids.is_empty() {
            self.announce(Change::local(stores::ASSETS, "put", asset_ids));
        }
        self.announce(Change::local(stores::CHARACTERS, "put", char_ids));
        Ok(())
    }

    async fn delete_chat(&self, chat_id: &str) -> Result<Chat> {
        let (tx, done) = self.tx(&[stores::CHATS, stores::MESSAGES], true)?;
        let body = async {
            let chats = store_of(&tx, stores::CHATS)?;
            let messages = store_of(&tx, stores::MESSAGES)?;
            let v = request(chats.get(&JsValue::from_str(chat_id)), "get chat").await?;
            let chat = if v.is_undefined() { None } else { Some(from_js::<Chat>(v, stores::CHATS)?) };
            let chat = live_chat(chat, chat_id)?;
            let prev = chat.sync_meta();
            let mut next = chat;
            next.deleted = true;
            let next = super::stamp_update(&self.inner.env, &prev, next);
            // Tombstone every live message with one cursor walk over the chat's key range.
            let range = chat_range(chat_id, None)?;
            let req = messages.open_cursor_with_range(&range).map_err(js_err("cursor"))?;
            loop {
                let cur = RequestWait::new(&req).wait("cursor").await?;
                let Ok(cursor) = cur.dyn_into::<IdbCursorWithValue>() else { break };
                let m: Message = from_js(cursor.value().map_err(js_err("cursor"))?, stores::MESSAGES)?;
                if !m.deleted {
                    let prev = m.sync_meta();
                    let mut t = m;
                    t.deleted = true;
                    let t = super::stamp_update(&self.inner.env, &prev, t);
                    let tv = to_js(&t)?;
                    self.write_req(&tx, || cursor.update(&tv))?;
                }
                cursor.continue_().map_err(js_err("cursor"))?;
            }
            self.put_js(&tx, &chats, &to_js(&next)?).await?;
            Ok(next)
        }
        .await;
        let chat = done.finish(body).await?;
        self.announce(Change::local(stores::CHATS, "delete", vec![chat_id.to_string()]));
        self.announce(Change::local(stores::MESSAGES, "delete", vec![chat_id.to_string()]));
        Ok(chat)
    }

    async fn list_characters(&self, q: &CharacterQuery) -> Result<Page<Character>> {
        let page = self.list_characters_indexed(q).await?;
        let items = page.items.iter().map(character_from_js).collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total: page.total, offset: page.offset })
    }

    async fn append_message(&self, chat_id: &str, msg: NewMessage) -> Result<Message> {
        let (tx, done) = self.tx(&[stores::CHATS, stores::MESSAGES], true)?;
        let body = async {
            let chats = store_of(&tx, stores::CHATS)?;
            let messages = store_of(&tx, stores::MESSAGES)?;
            let v = request(chats.get(&JsValue::from_str(chat_id)), "get chat").await?;
            let chat = if v.is_undefined() { None } else { Some(from_js::<Chat>(v, stores::CHATS)?) };
            let chat = live_chat(chat, chat_id)?;
            let m = next_message(&self.inner.env, &chat, msg)?;
            let chat = touch_chat(&self.inner.env, chat_after_append(chat, &m));
            let mv = to_js(&m)?;
            let cv = to_js(&chat)?;
            // Both writes, then commit: their outcome is the transaction's.
            self.fire(&tx, || messages.add(&mv))?;
            self.fire(&tx, || chats.put(&cv))?;
            commit(&tx);
            Ok(m)
        }
        .await;
        let m = done.finish(body).await?;
        self.announce(Change::local(stores::MESSAGES, "put", vec![chat_id.to_string()]));
        Ok(m)
    }

    async fn edit_message(&self, chat_id: &str, seq: u64, edit: &MessageEdit) -> Result<Message> {
        let (tx, done) = self.tx(&[stores::CHATS, stores::MESSAGES], true)?;
        let body = async {
            let chats = store_of(&tx, stores::CHATS)?;
            let messages = store_of(&tx, stores::MESSAGES)?;
            let v = request(chats.get(&JsValue::from_str(chat_id)), "get chat").await?;
            let chat = if v.is_undefined() { None } else { Some(from_js::<Chat>(v, stores::CHATS)?) };
            let mut chat = live_chat(chat, chat_id)?;
            let v = request(messages.get(&msg_key(chat_id, seq)), "get message").await?;
            let cur = if v.is_undefined() { None } else { Some(from_js::<Message>(v, stores::MESSAGES)?) };
            let cur = cur.filter(|m| !m.deleted).ok_or_else(|| not_found_msg(chat_id, seq))?;
            let prev = cur.sync_meta();
            let mut next = cur;
            next.apply_edit(edit)?;
            let next = super::stamp_update(&self.inner.env, &prev, next);
            let is_last = last_live(&messages, chat_id, seq + 1).await?.is_none();
            if is_last {
                chat.last_message_preview = Some(schema::preview(&next.mes));
            }
            let chat = touch_chat(&self.inner.env, chat);
            let (mv, cv) = (to_js(&next)?, to_js(&chat)?);
            self.fire(&tx, || messages.put(&mv))?;
            self.fire(&tx, || chats.put(&cv))?;
            commit(&tx);
            Ok(next)
        }
        .await;
        let m = done.finish(body).await?;
        self.announce(Change::local(stores::MESSAGES, "put", vec![chat_id.to_string()]));
        Ok(m)
    }

    async fn delete_message(&self, chat_id: &str, seq: u64) -> Result<()> {
        let (tx, done) = self.tx(&[stores::CHATS, stores::MESSAGES], true)?;
        let body = async {
            let chats = store_of(&tx, stores::CHATS)?;
            let messages = store_of(&tx, stores::MESSAGES)?;
            let v = request(chats.get(&JsValue::from_str(chat_id)), "get chat").await?;
            let chat = if v.is_undefined() { None } else { Some(from_js::<Chat>(v, stores::CHATS)?) };
            let mut chat = live_chat(chat, chat_id)?;
            let v = request(messages.get(&msg_key(chat_id, seq)), "get message").await?;
            let cur = if v.is_undefined() { None } else { Some(from_js::<Message>(v, stores::MESSAGES)?) };
            let cur = cur.filter(|m| !m.deleted).ok_or_else(|| not_found_msg(chat_id, seq))?;
            let prev = cur.sync_meta();
            let mut next = cur;
            next.deleted = true;
            let next = super::stamp_update(&self.inner.env, &prev, next);
            self.put_js(&tx, &messages, &to_js(&next)?).await?;
            let last = last_live(&messages, chat_id, 0).await?;
            chat.message_count = chat.message_count.saturating_sub(1);
            chat.last_message_preview = last.as_ref().map(|m| schema::preview(&m.mes));
            chat.last_message_at = last.as_ref().map(|m| m.send_date.unwrap_or(m.created_at));
            let chat = touch_chat(&self.inner.env, chat);
            let cv = to_js(&chat)?;
            self.fire(&tx, || chats.put(&cv))?;
            commit(&tx);
            Ok(())
        }
        .await;
        done.finish(body).await?;
        self.announce(Change::local(stores::MESSAGES, "delete", vec![chat_id.to_string()]));
        Ok(())
    }

    async fn messages(&self, chat_id: &str, before: Option<u64>, limit: usize) -> Result<Vec<Message>> {
        let (tx, done) = self.tx(&[stores::MESSAGES], false)?;
        let body = async {
            let mut out = Vec::new();
            if limit == 0 || before == Some(0) {
                return Ok(out);
            }
            let st = store_of(&tx, stores::MESSAGES)?;
            let range = chat_range(chat_id, before)?;
            let req = st.open_cursor_with_range_and_direction(&range, IdbCursorDirection::Prev).map_err(js_err("cursor"))?;
            loop {
                let cur = RequestWait::new(&req).wait("cursor").await?;
                let Ok(cursor) = cur.dyn_into::<IdbCursorWithValue>() else { break };
                let m: Message = from_js(cursor.value().map_err(js_err("cursor"))?, stores::MESSAGES)?;
                if !m.deleted {
                    out.push(m);
                    if out.len() >= limit {
                        break;
                    }
                }
                cursor.continue_().map_err(js_err("cursor"))?;
            }
            out.reverse();
            Ok(out)
        }
        .await;
        done.finish(body).await
    }

    async fn all_messages(&self, chat_id: &str) -> Result<Vec<Message>> {
        let (tx, done) = self.tx(&[stores::MESSAGES], false)?;
        let body = async {
            let st = store_of(&tx, stores::MESSAGES)?;
            let range: JsValue = chat_range(chat_id, None)?.into();
            let all = request(st.get_all_with_key(&range), "getAll").await?;
            Array::from(&all).iter().map(|v| from_js::<Message>(v, stores::MESSAGES)).collect()
        }
        .await;
        done.finish(body).await
    }

    async fn get_setting(&self, key: &str) -> Result<Option<SettingEntry>> {
        let (tx, done) = self.tx(&[stores::SETTINGS], false)?;
        let body = async {
            let v = request(store_of(&tx, stores::SETTINGS)?.get(&JsValue::from_str(key)), "get").await?;
            if v.is_undefined() {
                Ok(None)
            } else {
                from_js(v, stores::SETTINGS).map(Some)
            }
        }
        .await;
        done.finish(body).await
    }

    async fn put_setting(&self, key: &str, value: Value) -> Result<SettingEntry> {
        let (tx, done) = self.tx(&[stores::SETTINGS], true)?;
        let body = async {
            let st = store_of(&tx, stores::SETTINGS)?;
            let v = request(st.get(&JsValue::from_str(key)), "get").await?;
            let prev: Option<SettingEntry> = if v.is_undefined() { None } else { Some(from_js(v, stores::SETTINGS)?) };
            let e = SettingEntry {
                key: key.to_string(),
                value,
                rev: prev.as_ref().map(|p| p.rev).unwrap_or(0) + 1,
                updated_at: self.inner.env.clock.now_ms().max(prev.as_ref().map(|p| p.updated_at).unwrap_or(0)),
            };
            self.put_js(&tx, &st, &to_js(&e)?).await?;
            Ok(e)
        }
        .await;
        let e = done.finish(body).await?;
        self.announce(Change::local(stores::SETTINGS, "put", vec![key.to_string()]));
        Ok(e)
    }

    async fn list_settings(&self) -> Result<Vec<SettingEntry>> {
        let (tx, done) = self.tx(&[stores::SETTINGS], false)?;
        let body = async {
            let all = request(store_of(&tx, stores::SETTINGS)?.get_all(), "getAll").await?;
            Array::from(&all).iter().map(|v| from_js::<SettingEntry>(v, stores::SETTINGS)).collect()
        }
        .await;
        done.finish(body).await
    }

    async fn put_asset(&self, asset: Asset, bytes: Vec<u8>) -> Result<Asset> {
        let mut asset = stamp_new(&self.inner.env, asset);
        asset.size = bytes.len() as u64;
        asset.validate()?;
        let blob = bytes_to_blob(&bytes, &asset.mime)?;
        let (tx, done) = self.tx(&[stores::ASSETS, stores::ASSET_BLOBS], true)?;
        let body = async {
            let metas = store_of(&tx, stores::ASSETS)?;
            let blobs = store_of(&tx, stores::ASSET_BLOBS)?;
            let mv = to_js(&asset)?;
            let key = JsValue::from_str(&asset.id);
            let w1 = self.write_req(&tx, || metas.add(&mv))?;
            let w2 = self.write_req(&tx, || blobs.put_with_key(&blob, &key))?;
            w1.wait("add asset").await?;
            w2.wait("put asset bytes").await?;
            Ok(())
        }
        .await;
        // Like the memory store: a taken id is the caller's mistake, not a storage failure.
        done.finish(body).await.map_err(|e| {
            if e.message().contains("ConstraintError") {
                Error::invalid_argument(format!("an asset with id {:?} exists", asset.id))
            } else {
                e
            }
        })?;
        self.announce(Change::local(stores::ASSETS, "put", vec![asset.id.clone()]));
        Ok(asset)
    }

    async fn asset_bytes(&self, id: &str) -> Result<Option<Vec<u8>>> {
        let Some(blob) = self.asset_blob(id).await? else { return Ok(None) };
        let buf = JsFuture::from(blob.array_buffer()).await.map_err(|e| map_js_error(&e, "blob.arrayBuffer"))?;
        Ok(Some(Uint8Array::new(&buf).to_vec()))
    }

    async fn log_event(&self, kind: &str, data: Value) -> Result<LogEvent> {
        let at = self.inner.env.clock.now_ms();
        let cap = self.inner.env.event_log_cap as f64;
        let (tx, done) = self.tx(&[stores::EVENTS], true)?;
        let body = async {
            let st = store_of(&tx, stores::EVENTS)?;
            let v = to_js(&serde_json::json!({"at": at, "kind": kind, "data": data}))?;
            let key = self.write_req(&tx, || st.add(&v))?.wait("add event").await?;
            let seq = key.as_f64().unwrap_or(0.0);
            if seq > cap {
                // Keys are increasing and never reused: everything at or below seq - cap goes.
                let range = IdbKeyRange::upper_bound(&JsValue::from_f64(seq - cap)).map_err(js_err("key range"))?;
                self.write_req(&tx, || st.delete(&range))?.wait("trim events").await?;
            }
            Ok(LogEvent { seq: seq as u64, at, kind: kind.to_string(), data: data.clone() })
        }
        .await;
        done.finish(body).await
    }

    async fn events(&self, after: Option<u64>, limit: usize) -> Result<Vec<LogEvent>> {
        let (tx, done) = self.tx(&[stores::EVENTS], false)?;
        let body = async {
            let st = store_of(&tx, stores::EVENTS)?;
            let range = IdbKeyRange::lower_bound_with_open(&JsValue::from_f64(after.unwrap_or(0) as f64), true)
                .map_err(js_err("key range"))?;
            let all = request(st.get_all_with_key_and_limit(&range, limit.min(u32::MAX as usize) as u32), "getAll").await?;
            Array::from(&all).iter().map(|v| from_js::<LogEvent>(v, stores::EVENTS)).collect()
        }
        .await;
        done.finish(body).await
    }

    async fn import_items(
        &self,
        items: Vec<BackupItem>,
        session: &mut ImportSession,
        progress: ProgressFn<'_>,
    ) -> Result<ImportReport> {
        let (tx, done) = self.tx(stores::ALL, true)?;
        let total = items.len();
        let body = async {
            let mut report = ImportReport::default();
            // Asset id → MIME type of the metadata written by this call (the bytes' Blob gets
            // the type back; a backup stores bare bytes). Earlier batches: `session`.
            let mut written_assets: std::collections::HashMap<String, String> = std::collections::HashMap::new();
            for (i, item) in items.into_iter().enumerate() {
                match item {
                    BackupItem::Record { store, record } if store == stores::MESSAGES => {
                        let m: Message = super::from_value(record, stores::MESSAGES)?;
                        let st = store_of(&tx, stores::MESSAGES)?;
                        let v = request(st.get(&msg_key(&m.chat_id, m.seq)), "get").await?;
                        let newer = v.is_undefined() || m.sync_meta().newer_than(&from_js::<Message>(v, stores::MESSAGES)?.sync_meta());
                        if newer {
                            self.put_js(&tx, &st, &to_js(&m)?).await?;
                            report.written += 1;
                        } else {
                            report.skipped += 1;
                        }
                    }
                    BackupItem::Record { store, record } => {
                        let Some(name) = stores::RECORD_STORES.iter().copied().find(|s| *s == store) else {
                            return Err(Error::new(ErrorCode::UnsupportedFormat, format!("unknown store {store}")));
                        };
                        let record = normalize_imported(name, record)?;
                        let meta = meta_of_value(&record);
                        if meta.id.is_empty() {
                            return Err(Error::new(ErrorCode::Validation, format!("a {name} record without id")));
                        }
                        let st = store_of(&tx, name)?;
                        let v = request(st.get(&JsValue::from_str(&meta.id)), "get").await?;
                        let newer = v.is_undefined() || meta.newer_than(&stored_meta(&v));
                        if newer {
                            if name == stores::ASSETS {
                                let mime = record.get("mime").and_then(Value::as_str).unwrap_or("").to_string();
                                written_assets.insert(meta.id.clone(), mime);
                            }
                            let v = if name == stores::CHARACTERS {
                                character_to_js(&mut super::from_value::<Character>(record, name)?)?
                            } else {
                                to_js(&record)?
                            };
                            self.put_js(&tx, &st, &v).await?;
                            report.written += 1;
                        } else {
                            report.skipped += 1;
                        }
                    }
                    BackupItem::AssetBytes { id, bytes } => {
                        let st = store_of(&tx, stores::ASSET_BLOBS)?;
                        let key = JsValue::from_str(&id);
                        let exists = !request(st.get_key(&key), "getKey").await?.is_undefined();
                        if written_assets.contains_key(&id) || session.written_assets.contains(&id) || !exists {
                            let mime = match written_assets.get(&id) {
                                Some(m) => m.clone(),
                                None => {
                                    let v = request(store_of(&tx, stores::ASSETS)?.get(&key), "get asset").await?;
                                    if v.is_undefined() { String::new() } else { from_js::<Asset>(v, stores::ASSETS)?.mime }
                                }
                            };
                            let blob = bytes_to_blob(&bytes, &mime)?;
                            self.write_req(&tx, || st.put_with_key(&blob, &key))?.wait("put blob").await?;
                            report.written += 1;
                        } else {
                            report.skipped += 1;
                        }
                    }
                    BackupItem::Setting(s) => {
                        let st = store_of(&tx, stores::SETTINGS)?;
                        let v = request(st.get(&JsValue::from_str(&s.key)), "get").await?;
                        let newer = v.is_undefined() || {
                            let cur: SettingEntry = from_js(v, stores::SETTINGS)?;
                            (s.rev, s.updated_at) > (cur.rev, cur.updated_at)
                        };
                        if newer {
                            self.put_js(&tx, &st, &to_js(&s)?).await?;
                            report.written += 1;
                        } else {
                            report.skipped += 1;
                        }
                    }
                }
                if progress(Progress { done: i + 1, total }).is_break() {
                    return Err(Error::new(ErrorCode::Aborted, "the import was cancelled; nothing was written"));
                }
            }
            Ok((report, written_assets))
        }
        .await;
        let (report, written_assets) = done.finish(body).await?;
        session.written_assets.extend(written_assets.into_keys());
        self.announce(Change::local("*", "import", Vec::new()));
        Ok(report)
    }

    fn subscribe(&self, listener: Listener) -> u64 {
        let h = self.inner.next_listener.get();
        self.inner.next_listener.set(h + 1);
        self.inner.listeners.borrow_mut().push((h, listener));
        h
    }

    fn unsubscribe(&self, handle: u64) {
        self.inner.listeners.borrow_mut().retain(|(h, _)| *h != handle);
    }
}

impl IndexedDbStore {
    /// A live character as JS sees it (no derived index fields), straight from its stored value:
    /// the card is parsed by the browser's `JSON.parse` and never enters wasm memory. `None`
    /// for a missing or deleted character.
    pub async fn get_character_js(&self, id: &str) -> Result<Option<JsValue>> {
        let (tx, done) = self.tx(&[stores::CHARACTERS], false)?;
        let body = async { request(store_of(&tx, stores::CHARACTERS)?.get(&JsValue::from_str(id)), "get").await }.await;
        let v = done.finish(body).await?;
        if v.is_undefined() || prop(&v, "deleted").as_bool() == Some(true) {
            return Ok(None);
        }
        public_character_js(v, true).map(Some)
    }

    /// [`Store::list_characters`] as JS sees the characters (like [`Self::get_character_js`]);
    /// without `with_card` the items leave the card out (a list that shows names, tags and
    /// avatars reads no card at all).
    pub async fn list_characters_js(&self, q: &CharacterQuery, with_card: bool) -> Result<Page<JsValue>> {
        let page = self.list_characters_indexed(q).await?;
        let items = page.items.into_iter().map(|v| public_character_js(v, with_card)).collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total: page.total, offset: page.offset })
    }

    /// The stored `Blob` of an asset (for `URL.createObjectURL` without copying into wasm).
    pub async fn asset_blob(&self, id: &str) -> Result<Option<web_sys::Blob>> {
        let (tx, done) = self.tx(&[stores::ASSET_BLOBS], false)?;
        let body = async { request(store_of(&tx, stores::ASSET_BLOBS)?.get(&JsValue::from_str(id)), "get").await }.await;
        let v = done.finish(body).await?;
        if v.is_undefined() {
            return Ok(None);
        }
        v.dyn_into::<web_sys::Blob>()
            .map(Some)
            .map_err(|_| Error::new(ErrorCode::Storage, format!("asset {id:?} bytes are not a Blob")))
    }
}

fn bytes_to_blob(bytes: &[u8], mime: &str) -> Result<web_sys::Blob> {
    let arr = Uint8Array::from(bytes);
    let parts = Array::of1(&arr);
    let opts = web_sys::BlobPropertyBag::new();
    if !mime.is_empty() {
        opts.set_type(mime);
    }
    web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).map_err(js_err("Blob"))
}

// ---- the response cache (schema 3) --------------------------------------------------------------

struct CacheInner {
    store: IndexedDbStore,
    limits: CacheLimits,
    /// (entries, bytes) as last counted plus what was put since; `None`: count on the next put.
    /// Other tabs' writes are not seen, so this may be low; every trim recounts exactly.
    usage: Cell<Option<(usize, usize)>>,
    trimming: Cell<bool>,
}

/// The [`ResponseCache`] in an IndexedDB database's `cache` store. Cheap to clone; keep one per
/// database (it tracks the cache's size to know when to evict).
///
/// Each entry is `{key, body: Uint8Array, contentType, fetchedAt, size}`. A put is one
/// write transaction issued at once; when the caps may be exceeded, a separate transaction
/// walks `ixAge` (keys only, newest first) and deletes the oldest entries down to 90 % of the
/// caps, so the walk runs once per ~10 % of the cap rather than on every put.
#[derive(Clone)]
pub struct IdbResponseCache {
    inner: Rc<CacheInner>,
}

impl std::fmt::Debug for IdbResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdbResponseCache")
            .field("store", &self.inner.store)
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

impl IdbResponseCache {
    /// The response cache of `store` (a database at schema 3 or later).
    pub fn new(store: IndexedDbStore, limits: CacheLimits) -> Self {
        IdbResponseCache {
            inner: Rc::new(CacheInner { store, limits, usage: Cell::new(None), trimming: Cell::new(false) }),
        }
    }

    /// Issues the write of one entry (its transaction commits on its own).
    fn write(&self, key: &str, entry: &CacheEntry) -> Result<()> {
        let s = &self.inner.store;
        let (tx, _done) = s.tx(&[stores::CACHE], true)?;
        let st = store_of(&tx, stores::CACHE)?;
        let v = js_sys::Object::new();
        let set = |k: &str, val: &JsValue| {
            js_sys::Reflect::set(&v, &JsValue::from_str(k), val).map(drop).map_err(js_err("cache entry"))
        };
        set("key", &JsValue::from_str(key))?;
        set("body", &Uint8Array::from(entry.body.as_slice()))?;
        set("contentType", &JsValue::from_str(&entry.content_type))?;
        set("fetchedAt", &JsValue::from_f64(entry.fetched_ms))?;
        set("size", &JsValue::from_f64(entry.body.len() as f64))?;
        s.fire(&tx, || st.put(&v))?;
        commit(&tx);
        Ok(())
    }

    /// Counts entries and bytes (newest first, keys only) and deletes the oldest beyond 90 % of
    /// the caps when the caps are exceeded. Returns the usage left.
    pub async fn trim(&self) -> Result<(usize, usize)> {
        let CacheLimits { max_entries, max_bytes } = self.inner.limits;
        let s = &self.inner.store;
        let (tx, done) = s.tx(&[stores::CACHE], true)?;
        let body = async {
            let st = store_of(&tx, stores::CACHE)?;
            let ix = st.index("ixAge").map_err(js_err("index"))?;
            let req = ix
                .open_key_cursor_with_range_and_direction(&JsValue::UNDEFINED, IdbCursorDirection::Prev)
                .map_err(js_err("cursor"))?;
            let mut seen: Vec<(JsValue, usize)> = Vec::new();
            loop {
                let cur = RequestWait::new(&req).wait("cursor").await?;
                let Ok(cursor) = cur.dyn_into::<web_sys::IdbCursor>() else { break };
                let size =
                    cursor.key().ok().map(|k| Array::from(&k).get(1).as_f64().unwrap_or(0.0) as usize).unwrap_or(0);
                seen.push((cursor.primary_key().map_err(js_err("cursor"))?, size));
                cursor.continue_().map_err(js_err("cursor"))?;
            }
            let mut count = seen.len();
            let mut bytes: usize = seen.iter().map(|(_, n)| n).sum();
            if count > max_entries || bytes > max_bytes {
                let (low_n, low_b) = (max_entries * 9 / 10, max_bytes / 10 * 9);
                // The newest entry stays, even when it alone is over 90 % of the byte cap.
                while (count > low_n || bytes > low_b) && seen.len() > 1 {
                    let Some((key, size)) = seen.pop() else { break };
                    s.fire(&tx, || st.delete(&key))?;
                    count -= 1;
                    bytes -= size;
                }
            }
            commit(&tx);
            Ok((count, bytes))
        }
        .await;
        done.finish(body).await
    }
}

impl ResponseCache for IdbResponseCache {
    fn get(&self, key: &str) -> LocalFuture<'_, Result<Option<CacheEntry>>> {
        let key = key.to_string();
        Box::pin(async move {
            let (tx, done) = self.inner.store.tx(&[stores::CACHE], false)?;
            let body =
                async { request(store_of(&tx, stores::CACHE)?.get(&JsValue::from_str(&key)), "get").await }.await;
            let v = done.finish(body).await?;
            if v.is_undefined() {
                return Ok(None);
            }
            let field = |k: &str| js_sys::Reflect::get(&v, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
            let (Ok(bytes), Some(fetched_ms)) = (field("body").dyn_into::<Uint8Array>(), field("fetchedAt").as_f64())
            else {
                return Ok(None); // not an entry this build wrote: a miss
            };
            Ok(Some(CacheEntry {
                body: bytes.to_vec(),
                content_type: field("contentType").as_string().unwrap_or_default(),
                fetched_ms,
            }))
        })
    }

    fn put(&self, key: &str, entry: CacheEntry) {
        let size = entry.body.len();
        let inner = &self.inner;
        if size > inner.limits.max_bytes || self.write(key, &entry).is_err() {
            return;
        }
        let over = match inner.usage.get() {
            None => true,
            Some((n, b)) => {
                inner.usage.set(Some((n + 1, b + size)));
                n + 1 > inner.limits.max_entries || b + size > inner.limits.max_bytes
            }
        };
        if over && !inner.trimming.replace(true) {
            let me = self.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let left = me.trim().await.ok();
                me.inner.usage.set(left);
                me.inner.trimming.set(false);
            });
        }
    }

    fn clear(&self, prefix: &str) -> LocalFuture<'_, Result<()>> {
        let prefix = prefix.to_string();
        Box::pin(async move {
            let s = &self.inner.store;
            let (tx, done) = s.tx(&[stores::CACHE], true)?;
            let body = (|| {
                let st = store_of(&tx, stores::CACHE)?;
                if prefix.is_empty() {
                    s.fire(&tx, || st.clear())?;
                } else {
                    let range = IdbKeyRange::bound(
                        &JsValue::from_str(&prefix),
                        &JsValue::from_str(&format!("{prefix}\u{FFFF}")),
                    )
                    .map_err(js_err("key range"))?;
                    s.fire(&tx, || st.delete(&range))?;
                }
                commit(&tx);
                Ok(())
            })();
            let out = done.finish(body).await;
            self.inner.usage.set(if prefix.is_empty() && out.is_ok() { Some((0, 0)) } else { None });
            out
        })
    }
}
