//! Storage: one record per thing, behind one async [`Store`] trait with two backends.
//!
//! * [`MemoryStore`] — always available (native tests, and the fallback where IndexedDB is not,
//!   e.g. some private modes: [`StoreInfo::persistent`] is `false` then, so the caller can say so).
//! * `IndexedDbStore` (`store::indexeddb`, wasm32 only) — the browser store.
//!
//! This module and everything in it except `indexeddb` is pure Rust (no web-sys). Both
//! backends implement a small set of atomic primitives (read-modify-write one record, bulk put,
//! append/edit/delete a message, …); everything else — stamping sync metadata, tombstones,
//! backups, JSONL export — is written once here on top of them. The one conformance suite in
//! [`conformance`] runs against both.
//!
//! ```text
//! characters  assets  assetBlobs  lorebooks  chats  messages[chatId,seq]  groups
//! memories    scenarios  settings  events(capped log)  cache(responses, not backed up)
//! ```
//!
//! [`cache`] is the persistent response cache of the SillyTavern client (its own small trait,
//! not part of [`Store`]).

pub mod backup;
pub mod cache;
#[doc(hidden)]
pub mod conformance;
pub mod env;
#[cfg(target_arch = "wasm32")]
pub mod indexeddb;
pub mod jsonl;
pub mod memory;
pub mod query;
pub mod schema;
#[cfg(target_arch = "wasm32")]
pub mod web;

use std::ops::ControlFlow;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use env::{Clock, IdGen, ManualClock, RandomIds, SeqIds, SystemClock};
pub use memory::MemoryStore;
pub use query::{CharacterQuery, CharacterSort, NameMatch, Page};
pub use schema::{
    Asset, Character, Chat, Event, Group, Lorebook, Memory, Message, MessageEdit, NewMessage, Record, ScenarioState,
    CardJson, ExternalText, SettingEntry, SyncMeta, SCHEMA_VERSION,
};

use crate::{Error, ErrorCode, Result};

/// Injected environment of a store: clock, id generator, limits.
#[derive(Clone)]
pub struct StoreEnv {
    /// Source of timestamps.
    pub clock: Rc<dyn Clock>,
    /// Source of new ids.
    pub ids: Rc<dyn IdGen>,
    /// The event log keeps at most this many entries (oldest dropped first).
    pub event_log_cap: usize,
}

impl Default for StoreEnv {
    fn default() -> Self {
        StoreEnv { clock: Rc::new(SystemClock), ids: Rc::new(RandomIds::default()), event_log_cap: 10_000 }
    }
}

impl std::fmt::Debug for StoreEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreEnv").field("event_log_cap", &self.event_log_cap).finish_non_exhaustive()
    }
}

/// What a store is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreInfo {
    /// `"indexeddb"` or `"memory"`.
    pub backend: String,
    /// False when data is lost on reload (the memory store).
    pub persistent: bool,
    /// Database name (IndexedDB) or empty.
    pub name: String,
    /// Schema version.
    pub schema_version: u32,
    /// Why this is a memory store when IndexedDB was asked for, if it is.
    pub fallback_reason: Option<String>,
}

/// What a write changed, announced to subscribers (and to other tabs by IndexedDB).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Object store name (`characters`, `messages`, `settings`, …).
    pub store: String,
    /// Ids concerned (chat ids for messages; settings keys for settings); empty = many.
    pub ids: Vec<String>,
    /// `put`, `delete`, `import`.
    pub op: String,
    /// True when the change came from another tab / connection.
    #[serde(default)]
    pub remote: bool,
}

impl Change {
    /// A local change.
    pub fn local(store: &str, op: &str, ids: Vec<String>) -> Change {
        Change { store: store.into(), ids, op: op.into(), remote: false }
    }
}

/// A change listener.
pub type Listener = Rc<dyn Fn(&Change)>;

/// Progress of a bulk operation: `done` of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Items written so far.
    pub done: usize,
    /// Items in total.
    pub total: usize,
}

/// Progress callback: return `ControlFlow::Break(())` to abort (nothing is kept).
pub type ProgressFn<'a> = &'a mut dyn FnMut(Progress) -> ControlFlow<()>;

/// One item of a backup, in the order it is written.
#[derive(Debug, Clone, PartialEq)]
pub enum BackupItem {
    /// A record of one of [`schema::stores::RECORD_STORES`] or `messages`, as stored.
    Record {
        /// Object store.
        store: String,
        /// The record.
        record: Value,
    },
    /// Bytes of an asset.
    AssetBytes {
        /// Asset id.
        id: String,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// A settings entry.
    Setting(SettingEntry),
}

/// What one import carries from batch to batch (a streamed import commits in several
/// transactions).
#[derive(Debug, Default, Clone)]
pub struct ImportSession {
    /// Assets whose metadata this import wrote: their bytes are written even over stored ones
    /// (bytes of other assets are only written where none are stored).
    pub written_assets: std::collections::HashSet<String>,
}

/// A thumbnail as [`Store::thumbnail`] returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThumbnailInfo {
    /// The thumbnail asset (role `thumbnail`) — or, when `original`, the source asset itself.
    pub asset: Asset,
    /// True when no thumbnail could be made here (not a PNG, and no decoder for its format):
    /// `asset` is the full-size original, to be shown scaled down by the caller.
    pub original: bool,
}

/// The id of the thumbnail of `source` at `max_side`: one per source revision and size, the
/// same on every device (so a backup carries it along and it is never made twice).
pub fn thumbnail_id(source: &Asset, max_side: u32) -> String {
    format!("{}.thumb{max_side}.r{}", source.id, source.rev)
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// Items written.
    pub written: usize,
    /// Items skipped because the local copy was newer or equal.
    pub skipped: usize,
}

/// Reads the sync metadata of a stored record value.
pub fn meta_of_value(v: &Value) -> SyncMeta {
    SyncMeta {
        id: v.get("id").and_then(Value::as_str).unwrap_or("").to_string(),
        rev: v.get("rev").and_then(Value::as_u64).unwrap_or(0),
        created_at: v.get("createdAt").and_then(Value::as_i64).unwrap_or(0),
        updated_at: v.get("updatedAt").and_then(Value::as_i64).unwrap_or(0),
        deleted: v.get("deleted").and_then(Value::as_bool).unwrap_or(false),
    }
}

/// Serialises a record into its stored value.
pub fn to_value<T: Serialize>(r: &T) -> Result<Value> {
    serde_json::to_value(r).map_err(|e| Error::new(ErrorCode::Internal, format!("could not serialise record: {e}")))
}

/// Reads a stored value back into a record.
pub fn from_value<T: serde::de::DeserializeOwned>(v: Value, store: &str) -> Result<T> {
    serde_json::from_value(v).map_err(|e| Error::new(ErrorCode::Storage, format!("a stored {store} record is unreadable: {e}")))
}

fn not_found(store: &str, id: &str) -> Error {
    Error::new(ErrorCode::NotFound, format!("no {store} record with id {id:?}"))
}

/// Stamps a record for creation: id (if empty), rev 1, created/updated now.
pub fn stamp_new<R: Record>(env: &StoreEnv, mut r: R) -> R {
    let now = env.clock.now_ms();
    let mut m = r.sync_meta();
    if m.id.is_empty() {
        m.id = env.ids.next_id();
    }
    m.rev = 1;
    m.created_at = now;
    m.updated_at = now;
    m.deleted = false;
    r.set_sync_meta(m);
    r.reindex();
    r
}

/// Stamps a record for an update of `prev`: same id and creation time, rev + 1, updated now
/// (never earlier than the previous stamp).
pub fn stamp_update<R: Record>(env: &StoreEnv, prev: &SyncMeta, mut r: R) -> R {
    let now = env.clock.now_ms().max(prev.updated_at);
    let mut m = r.sync_meta();
    m.id = prev.id.clone();
    m.rev = prev.rev + 1;
    m.created_at = prev.created_at;
    m.updated_at = now;
    r.set_sync_meta(m);
    r.reindex();
    r
}

/// The storage contract. Futures are not `Send`: the browser is single-threaded and IndexedDB
/// handles cannot cross threads.
///
/// Required methods are the backend primitives, each atomic (one IndexedDB transaction);
/// provided methods build the record-level operations on them.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// What this store is.
    fn info(&self) -> StoreInfo;

    /// The injected clock, ids and limits.
    fn env(&self) -> &StoreEnv;

    // ---- primitives -------------------------------------------------------------------------

    /// Reads a record, tombstones included.
    async fn get_raw<R: Record>(&self, id: &str) -> Result<Option<R>>;

    /// Every record of a kind, tombstones included, in id order.
    async fn list_raw<R: Record>(&self) -> Result<Vec<R>>;

    /// Atomically reads the record `id` (if any), calls `f` with it and stores what `f`
    /// returns (reindexed and validated). Nothing is written when `f` or validation fails.
    async fn write<R: Record>(&self, id: &str, f: &mut dyn FnMut(Option<R>) -> Result<R>) -> Result<R>;

    /// Stores many (already stamped) records in one transaction, calling `progress` after each;
    /// if `progress` breaks, or any write fails, nothing is kept.
    async fn put_many<R: Record>(&self, records: Vec<R>, progress: ProgressFn<'_>) -> Result<()>;

    /// Stores new (already stamped and validated) characters together with their assets
    /// (metadata, stamped, and bytes) in ONE transaction, calling `progress` after each
    /// character; if `progress` breaks, or any write fails, nothing is kept — no card without
    /// its image, no image without its card. Fails with `invalid_argument` when an id is taken.
    async fn put_characters(
        &self,
        chars: Vec<Character>,
        assets: Vec<(Asset, Vec<u8>)>,
        progress: ProgressFn<'_>,
    ) -> Result<()>;

    /// Tombstones a live chat and every live message of it in one transaction.
    async fn delete_chat(&self, chat_id: &str) -> Result<Chat>;

    /// Lists characters (live only) per the query, through indexes where the backend has them.
    async fn list_characters(&self, q: &CharacterQuery) -> Result<Page<Character>>;

    /// Appends a message in one transaction with the chat's counters; O(1) in the chat length.
    async fn append_message(&self, chat_id: &str, msg: NewMessage) -> Result<Message>;

    /// Edits a live message (and its swipes) in one transaction with the chat's preview.
    async fn edit_message(&self, chat_id: &str, seq: u64, edit: &MessageEdit) -> Result<Message>;

    /// Tombstones a message; the chat's count and preview follow.
    async fn delete_message(&self, chat_id: &str, seq: u64) -> Result<()>;

    /// Up to `limit` live messages with `seq < before` (all when `before` is `None`), the
    /// newest ones, returned oldest first: page backwards by passing the first `seq` returned.
    async fn messages(&self, chat_id: &str, before: Option<u64>, limit: usize) -> Result<Vec<Message>>;

    /// Every message of a chat (tombstones included), in `seq` order.
    async fn all_messages(&self, chat_id: &str) -> Result<Vec<Message>>;

    /// Reads a settings entry.
    async fn get_setting(&self, key: &str) -> Result<Option<SettingEntry>>;

    /// Writes a settings entry (rev + 1).
    async fn put_setting(&self, key: &str, value: Value) -> Result<SettingEntry>;

    /// Every settings entry, in key order.
    async fn list_settings(&self) -> Result<Vec<SettingEntry>>;

    /// Stores an asset's metadata and bytes in one transaction (stamps the metadata).
    async fn put_asset(&self, asset: Asset, bytes: Vec<u8>) -> Result<Asset>;

    /// The bytes of an asset, if stored.
    async fn asset_bytes(&self, id: &str) -> Result<Option<Vec<u8>>>;

    /// Appends to the event log, dropping the oldest entries beyond the cap.
    async fn log_event(&self, kind: &str, data: Value) -> Result<Event>;

    /// Event log entries with `seq > after`, oldest first, at most `limit`.
    async fn events(&self, after: Option<u64>, limit: usize) -> Result<Vec<Event>>;

    /// Writes backup items in one transaction, last-writer-wins per record
    /// ([`SyncMeta::newer_than`]); asset bytes and settings follow their records. `session`
    /// carries what earlier batches of the same import wrote. If `progress` breaks, or any
    /// write fails, nothing of this call is kept.
    async fn import_items(
        &self,
        items: Vec<BackupItem>,
        session: &mut ImportSession,
        progress: ProgressFn<'_>,
    ) -> Result<ImportReport>;

    /// Registers a change listener; returns its handle.
    fn subscribe(&self, listener: Listener) -> u64;

    /// Removes a change listener.
    fn unsubscribe(&self, handle: u64);

    // ---- provided ---------------------------------------------------------------------------

    /// Reads a live record (`None` for missing or tombstoned).
    async fn get<R: Record>(&self, id: &str) -> Result<Option<R>> {
        Ok(self.get_raw::<R>(id).await?.filter(|r| !r.sync_meta().deleted))
    }

    /// Every live record of a kind.
    async fn list<R: Record>(&self) -> Result<Vec<R>> {
        Ok(self.list_raw::<R>().await?.into_iter().filter(|r| !r.sync_meta().deleted).collect())
    }

    /// Creates a record: assigns an id when empty, rev 1, stamps; fails with `invalid_argument`
    /// when the id is taken (even by a tombstone).
    async fn create<R: Record>(&self, record: R) -> Result<R> {
        let mut r = Some(stamp_new(self.env(), record));
        let id = r.as_ref().map(|r| r.sync_meta().id).unwrap_or_default();
        self.write::<R>(&id.clone(), &mut |cur| {
            if cur.is_some() {
                return Err(Error::invalid_argument(format!("a {} record with id {id:?} exists", R::STORE)));
            }
            r.take().ok_or_else(|| Error::new(ErrorCode::Internal, "create retried"))
        })
        .await
    }

    /// Updates a live record with `f` (which sees the current copy); bumps rev and stamps.
    async fn update<R: Record>(&self, id: &str, f: &mut dyn FnMut(&mut R) -> Result<()>) -> Result<R> {
        let env = self.env().clone();
        self.write::<R>(id, &mut |cur| {
            let cur = cur.filter(|c| !c.sync_meta().deleted).ok_or_else(|| not_found(R::STORE, id))?;
            let prev = cur.sync_meta();
            let mut next = cur;
            f(&mut next)?;
            let mut m = next.sync_meta();
            m.deleted = false;
            next.set_sync_meta(m);
            Ok(stamp_update(&env, &prev, next))
        })
        .await
    }

    /// Tombstones a live record (kept for sync and undo).
    async fn delete<R: Record>(&self, id: &str) -> Result<R> {
        let env = self.env().clone();
        self.write::<R>(id, &mut |cur| {
            let cur = cur.filter(|c| !c.sync_meta().deleted).ok_or_else(|| not_found(R::STORE, id))?;
            let prev = cur.sync_meta();
            let mut next = cur;
            let mut m = next.sync_meta();
            m.deleted = true;
            next.set_sync_meta(m);
            Ok(stamp_update(&env, &prev, next))
        })
        .await
    }

    /// Brings a tombstoned record back (undo of delete).
    async fn restore<R: Record>(&self, id: &str) -> Result<R> {
        let env = self.env().clone();
        self.write::<R>(id, &mut |cur| {
            let cur = cur.filter(|c| c.sync_meta().deleted).ok_or_else(|| not_found(R::STORE, id))?;
            let prev = cur.sync_meta();
            let mut next = cur;
            let mut m = next.sync_meta();
            m.deleted = false;
            next.set_sync_meta(m);
            Ok(stamp_update(&env, &prev, next))
        })
        .await
    }

    /// Imports many new characters in one transaction with progress; all or nothing.
    async fn import_characters(&self, chars: Vec<Character>, progress: ProgressFn<'_>) -> Result<Vec<Character>> {
        self.import_characters_with_assets(chars, Vec::new(), progress).await
    }

    /// Imports many new characters and their assets (avatars: [`Asset::owner_id`] names the
    /// character) in one transaction with progress per character; all or nothing. Every
    /// invalid character is reported in one `validation` error (`[index] field: problem`).
    async fn import_characters_with_assets(
        &self,
        chars: Vec<Character>,
        assets: Vec<(Asset, Vec<u8>)>,
        progress: ProgressFn<'_>,
    ) -> Result<Vec<Character>> {
        let mut errs = Vec::new();
        let mut out = Vec::with_capacity(chars.len());
        for (i, c) in chars.into_iter().enumerate() {
            let c = stamp_new(self.env(), c);
            if let Err(e) = c.validate() {
                errs.push(format!("[{i}] {}", e.message()));
            }
            out.push(c);
        }
        schema::validation(errs)?;
        let mut staged = Vec::with_capacity(assets.len());
        for (a, bytes) in assets {
            staged.push((prepare_asset(self.env(), a, bytes.len())?, bytes));
        }
        self.put_characters(out.clone(), staged, progress).await?;
        Ok(out)
    }

    /// Creates a chat (counters start at 0).
    async fn create_chat(&self, mut chat: Chat) -> Result<Chat> {
        chat.message_count = 0;
        chat.next_seq = 0;
        chat.last_message_preview = None;
        chat.last_message_at = None;
        if chat.metadata.is_null() {
            chat.metadata = Value::Object(Default::default());
        }
        let chat = self.create(chat).await?;
        if let Some(cid) = chat.character_id.clone() {
            let now = chat.created_at;
            // Best effort: a chat may name a character that is not in this library.
            let _ = self
                .update::<Character>(&cid, &mut |c| {
                    c.last_used_at = Some(now);
                    Ok(())
                })
                .await;
        }
        Ok(chat)
    }

    /// Exports one chat as SillyTavern JSONL (header line, then one line per live message).
    async fn export_chat_jsonl(&self, chat_id: &str, user_name: &str) -> Result<String> {
        let chat = self.get::<Chat>(chat_id).await?.ok_or_else(|| not_found(schema::stores::CHATS, chat_id))?;
        let character_name = match &chat.character_id {
            Some(id) => self.get_raw::<Character>(id).await?.map(|c| c.name).unwrap_or_default(),
            None => String::new(),
        };
        let msgs = self.all_messages(chat_id).await?;
        Ok(jsonl::chat_to_jsonl(&chat, user_name, &character_name, &msgs))
    }

    /// Streams a full backup as JSON lines through `sink` (header, records, asset bytes,
    /// settings, trailer). Secret settings are left out unless `include_secrets`.
    async fn export_backup(&self, include_secrets: bool, sink: &mut dyn FnMut(String) -> Result<()>) -> Result<usize> {
        let mut w = backup::Writer::new(sink, self.env().clock.now_ms(), include_secrets)?;
        for store in schema::stores::RECORD_STORES {
            let values = match *store {
                schema::stores::CHARACTERS => values(self.list_raw::<Character>().await?)?,
                schema::stores::ASSETS => values(self.list_raw::<Asset>().await?)?,
                schema::stores::LOREBOOKS => values(self.list_raw::<Lorebook>().await?)?,
                schema::stores::CHATS => values(self.list_raw::<Chat>().await?)?,
                schema::stores::GROUPS => values(self.list_raw::<Group>().await?)?,
                schema::stores::MEMORIES => values(self.list_raw::<Memory>().await?)?,
                _ => values(self.list_raw::<ScenarioState>().await?)?,
            };
            for v in values {
                w.item(&BackupItem::Record { store: (*store).to_string(), record: v })?;
            }
        }
        for chat in self.list_raw::<Chat>().await? {
            for m in self.all_messages(&chat.id).await? {
                w.item(&BackupItem::Record { store: schema::stores::MESSAGES.into(), record: to_value(&m)? })?;
            }
        }
        for a in self.list_raw::<Asset>().await? {
            if a.deleted {
                continue;
            }
            if let Some(bytes) = self.asset_bytes(&a.id).await? {
                w.item(&BackupItem::AssetBytes { id: a.id.clone(), bytes })?;
            }
        }
        for s in self.list_settings().await? {
            if include_secrets || !schema::is_secret_key(&s.key) {
                w.item(&BackupItem::Setting(s))?;
            }
        }
        w.finish()
    }

    /// The thumbnail of an image asset, made on first use and kept as an asset of its own:
    /// id [`thumbnail_id`], role `thumbnail`, `thumbnailOf` = the source, `ownerId` = the
    /// source's owner, `width`/`height` set; later calls just read it. A PNG is decoded here
    /// ([`crate::thumbnail::png_thumbnail`]); other formats go to `decoder` (the browser's in
    /// the browser); where neither can decode it, the source itself comes back with
    /// `original: true`. A source that is itself a thumbnail is returned as it is. `None` for
    /// a missing or deleted asset, or one without bytes. Bounded work: see [`ThumbnailOptions`](crate::thumbnail::ThumbnailOptions)
    /// (`too_large` above `max_pixels`; a damaged PNG: `unsupported_format` / `truncated`).
    async fn thumbnail<D: crate::thumbnail::ImageDecoder>(
        &self,
        asset_id: &str,
        opts: &crate::thumbnail::ThumbnailOptions,
        decoder: &D,
    ) -> Result<Option<ThumbnailInfo>> {
        opts.validate()?;
        let Some(src) = self.get::<Asset>(asset_id).await? else { return Ok(None) };
        if src.thumbnail_of.is_some() {
            return Ok(Some(ThumbnailInfo { asset: src, original: false }));
        }
        let id = thumbnail_id(&src, opts.max_side);
        if let Some(t) = self.get::<Asset>(&id).await? {
            return Ok(Some(ThumbnailInfo { asset: t, original: false }));
        }
        let Some(bytes) = self.asset_bytes(asset_id).await? else { return Ok(None) };
        let made = if crate::thumbnail::is_png(&bytes) {
            Some(crate::thumbnail::png_thumbnail(&bytes, opts)?)
        } else {
            decoder.thumbnail(&bytes, &src.mime, opts).await?
        };
        drop(bytes);
        let Some(t) = made else { return Ok(Some(ThumbnailInfo { asset: src, original: true })) };
        let asset = Asset {
            id: id.clone(),
            mime: "image/png".into(),
            role: "thumbnail".into(),
            owner_id: src.owner_id.clone(),
            thumbnail_of: Some(src.id.clone()),
            width: Some(t.width),
            height: Some(t.height),
            ..Asset::default()
        };
        match self.put_asset(asset, t.png).await {
            Ok(a) => Ok(Some(ThumbnailInfo { asset: a, original: false })),
            // Made meanwhile (another tab): use that one. (A deleted thumbnail stays deleted:
            // the original is shown instead.)
            Err(e) if e.code() == ErrorCode::InvalidArgument => {
                let existing = self.get::<Asset>(&id).await?;
                Ok(Some(match existing {
                    Some(asset) => ThumbnailInfo { asset, original: false },
                    None => ThumbnailInfo { asset: src, original: true },
                }))
            }
            Err(e) => Err(e),
        }
    }

    /// Imports a backup made by [`Store::export_backup`] (any schema version up to ours), in one
    /// transaction: all or nothing. A foreign, newer, malformed or truncated file is rejected
    /// before anything is written. The whole text and its items are in memory: for large
    /// backups use [`Store::import_backup_from`].
    async fn import_backup(&self, text: &str, progress: ProgressFn<'_>) -> Result<ImportReport> {
        let items = backup::parse(text)?;
        self.import_items(items, &mut ImportSession::default(), progress).await
    }

    /// Imports a backup read chunk by chunk from `source`, committing it in batches of
    /// [`StreamOptions::batch_items`](backup::StreamOptions) items (or `batch_bytes` of lines),
    /// one transaction each, so memory stays bounded whatever the size of the backup.
    /// Last writer wins per record, as in [`Store::import_backup`].
    ///
    /// * The header is checked first: a foreign or newer backup fails (`unsupported_format`)
    ///   before anything is written.
    /// * With `check_first` (the default; needs a source that can be rewound, e.g. a `Blob`),
    ///   the whole backup is read and checked once before the first write: a malformed item
    ///   (error names its line) or a truncated file fails with nothing written.
    /// * Without it (a `ReadableStream`), batches are committed as they arrive; the last batch
    ///   only after the end line has been checked. An error or a cancel then keeps the batches
    ///   already committed — the message says how many items — and loses the rest. Importing
    ///   the same backup again is safe (equal records are skipped) and completes it.
    /// * A storage error (e.g. `quota_exceeded`) or a cancel during the write phase keeps the
    ///   committed batches likewise; the failing batch is rolled back as a whole.
    ///
    /// `progress` is called after each chunk of the check pass and after each item of the
    /// import pass; breaking cancels with `aborted`.
    async fn import_backup_from<C: backup::ChunkSource>(
        &self,
        source: &mut C,
        opts: &backup::StreamOptions,
        progress: backup::StreamProgressFn<'_>,
    ) -> Result<ImportReport> {
        use backup::{Phase, StreamProgress};
        let total_bytes = source.total_bytes();
        // Errors say what was kept: nothing, or the batches committed before.
        let partial = |e: Error, committed: usize, line: u64| -> Error {
            let kept = if committed == 0 {
                "nothing was written".to_string()
            } else {
                format!(
                    "the first {committed} items (up to line {line}) were imported and are kept; importing the same backup again is safe and completes it"
                )
            };
            if e.code() == ErrorCode::Aborted {
                Error::new(ErrorCode::Aborted, format!("the import was cancelled; {kept}"))
            } else {
                Error::new(e.code(), format!("{}; {kept}", e.message().trim_end_matches("; nothing was written")))
            }
        };
        let mut total = None;
        if opts.check_first {
            if !source.can_rewind() {
                return Err(Error::invalid_argument(
                    "this backup source can be read only once, so it cannot be checked before writing: pass a Blob, or turn checking first off",
                ));
            }
            let mut r = backup::Reader::with_max_line_bytes(opts.max_line_bytes);
            let checked: Result<usize> = async {
                loop {
                    let chunk = source.next_chunk().await?;
                    match &chunk {
                        Some(c) => r.push(c),
                        None => r.end_input(),
                    }
                    while r.next_item()?.is_some() {}
                    let p = StreamProgress {
                        phase: Phase::Check,
                        done: r.items(),
                        total: None,
                        bytes_read: r.bytes_read(),
                        total_bytes,
                    };
                    if progress(p).is_break() {
                        return Err(Error::new(ErrorCode::Aborted, "cancelled"));
                    }
                    if chunk.is_none() {
                        break;
                    }
                }
                let summary = r.finish()?;
                source.rewind().await?;
                Ok(summary.items)
            }
            .await;
            total = Some(checked.map_err(|e| partial(e, 0, 0))?);
        }

        let mut r = backup::Reader::with_max_line_bytes(opts.max_line_bytes);
        let mut session = ImportSession::default();
        let mut report = ImportReport::default();
        let mut batch: Vec<BackupItem> = Vec::new();
        let mut batch_bytes = 0usize;
        // Items committed so far, and the line of the last one.
        let mut committed = 0usize;
        let mut committed_line = 0u64;
        let mut eof = false;
        loop {
            loop {
                let item = match r.next_item() {
                    Ok(Some(item)) => item,
                    Ok(None) => break,
                    Err(e) => return Err(partial(e, committed, committed_line)),
                };
                batch_bytes += r.last_line_bytes();
                batch.push(item);
                // The last batch waits for the end line (checked by `finish`).
                if batch.len() >= opts.batch_items.max(1) || batch_bytes >= opts.batch_bytes {
                    let n = batch.len();
                    let (line, read) = (r.line(), r.bytes_read());
                    let base = committed;
                    let mut inner = |p: Progress| {
                        progress(StreamProgress {
                            phase: Phase::Import,
                            done: base + p.done,
                            total,
                            bytes_read: read,
                            total_bytes,
                        })
                    };
                    let rep = self
                        .import_items(std::mem::take(&mut batch), &mut session, &mut inner)
                        .await
                        .map_err(|e| partial(e, committed, committed_line))?;
                    report.written += rep.written;
                    report.skipped += rep.skipped;
                    committed += n;
                    committed_line = line;
                    batch_bytes = 0;
                }
            }
            if eof {
                break;
            }
            match source.next_chunk().await.map_err(|e| partial(e, committed, committed_line))? {
                Some(c) => r.push(&c),
                None => {
                    r.end_input();
                    eof = true;
                }
            }
        }
        r.finish().map_err(|e| partial(e, committed, committed_line))?;
        let read = r.bytes_read();
        let base = committed;
        let mut inner = |p: Progress| {
            progress(StreamProgress { phase: Phase::Import, done: base + p.done, total, bytes_read: read, total_bytes })
        };
        if !batch.is_empty() {
            let rep = self
                .import_items(batch, &mut session, &mut inner)
                .await
                .map_err(|e| partial(e, committed, committed_line))?;
            report.written += rep.written;
            report.skipped += rep.skipped;
        }
        Ok(report)
    }
}

fn values<R: Record>(rs: Vec<R>) -> Result<Vec<Value>> {
    rs.iter().map(to_value).collect()
}

/// The chat counters after appending `m` (shared by the backends).
pub fn chat_after_append(mut chat: Chat, m: &Message) -> Chat {
    chat.next_seq = m.seq + 1;
    chat.message_count += 1;
    chat.last_message_preview = Some(schema::preview(&m.mes));
    chat.last_message_at = Some(m.send_date.unwrap_or(m.created_at));
    chat
}

/// Stamps new asset metadata for `len` bytes and validates it.
pub fn prepare_asset(env: &StoreEnv, asset: Asset, len: usize) -> Result<Asset> {
    let mut asset = stamp_new(env, asset);
    asset.size = len as u64;
    asset.validate()?;
    Ok(asset)
}

/// Checks that a chat can take messages.
pub fn live_chat(chat: Option<Chat>, chat_id: &str) -> Result<Chat> {
    chat.filter(|c| !c.deleted).ok_or_else(|| not_found(schema::stores::CHATS, chat_id))
}

/// Builds the next message of `chat` (stamped) from the caller's part.
pub fn next_message(env: &StoreEnv, chat: &Chat, msg: NewMessage) -> Result<Message> {
    let mut m = Message::from_new(&chat.id, chat.next_seq, msg)?;
    m = stamp_new(env, m);
    if m.send_date.is_none() {
        m.send_date = Some(m.created_at);
    }
    Ok(m)
}

/// Stamps a chat update after its messages changed.
pub fn touch_chat(env: &StoreEnv, chat: Chat) -> Chat {
    let prev = chat.sync_meta();
    stamp_update(env, &prev, chat)
}
