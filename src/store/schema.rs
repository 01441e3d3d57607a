//! Record schema: one record per thing, each with sync metadata from day one.
//!
//! Every record carries a stable `id`, a `rev` (bumped on every write), `createdAt` /
//! `updatedAt` stamps from the injected clock and a `deleted` tombstone flag. Field names are
//! camelCase: the same shape is stored in IndexedDB, exported in backups and seen by JS.
//!
//! Fields named `ix…` are derived index keys, recomputed by [`Record::reindex`] on every write
//! and absent on tombstones, so that IndexedDB indexes only ever contain live records.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::rc::Rc;

use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// The record schema version of this build (backup `schemaVersion`, `StoreInfo.schemaVersion`).
/// The IndexedDB database version equals it up to 3; the IndexedDB backend's own layout
/// changes since then count on from there (`store::indexeddb::DB_VERSION`: 4 keeps cards as
/// JSON text), without changing records or backups.
///
/// * 1 — the first layout: every object store, keyed by `id` (messages by `[chatId, seq]`).
/// * 2 — derived index fields on characters (`ixName`, `ixTags`, `ixUsed`, `ixCreated`) and
///   their indexes, back-filled from existing records by the 1→2 migration.
/// * 3 — the `cache` store ([`stores::CACHE`]): the SillyTavern client's persistent response
///   cache (character lists, thumbnails), keyed by `key` with an `ixAge` index on
///   `[fetchedAt, size]` for eviction. Cached responses are not records: no sync metadata,
///   never in backups (`export_backup`), never imported, droppable at any time. The 2→3
///   migration only creates the store; existing data is untouched.
pub const SCHEMA_VERSION: u32 = 3;

/// The object stores (IndexedDB) / tables (memory) of the schema.
pub mod stores {
    /// Characters (card JSON + library metadata).
    pub const CHARACTERS: &str = "characters";
    /// Asset metadata (avatars, thumbnails, other files); bytes live in [`ASSET_BLOBS`].
    pub const ASSETS: &str = "assets";
    /// Asset bytes as Blobs, keyed by asset id.
    pub const ASSET_BLOBS: &str = "assetBlobs";
    /// Lorebooks (World Info).
    pub const LOREBOOKS: &str = "lorebooks";
    /// Chat metadata.
    pub const CHATS: &str = "chats";
    /// Messages, keyed by `[chatId, seq]`.
    pub const MESSAGES: &str = "messages";
    /// Group definitions.
    pub const GROUPS: &str = "groups";
    /// Long-term memories.
    pub const MEMORIES: &str = "memories";
    /// Scenario state.
    pub const SCENARIOS: &str = "scenarios";
    /// Settings, keyed by settings key.
    pub const SETTINGS: &str = "settings";
    /// The append-only, size-capped event log (auto-increment keys).
    pub const EVENTS: &str = "events";
    /// Cached server responses (schema 3; see [`crate::store::cache`]): keyed by `key`, no sync
    /// metadata, not in backups, not in [`ALL`].
    pub const CACHE: &str = "cache";

    /// Stores whose records are generic [`Record`](super::Record)s keyed by `id`.
    pub const RECORD_STORES: &[&str] = &[CHARACTERS, ASSETS, LOREBOOKS, CHATS, GROUPS, MEMORIES, SCENARIOS];
    /// Every store of user data (what a backup import may write); the response [`CACHE`] is not one.
    pub const ALL: &[&str] =
        &[CHARACTERS, ASSETS, ASSET_BLOBS, LOREBOOKS, CHATS, MESSAGES, GROUPS, MEMORIES, SCENARIOS, SETTINGS, EVENTS];
}

/// The sync metadata shared by every record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncMeta {
    /// Stable id.
    pub id: String,
    /// Revision, 1 on creation, +1 on every write (tombstoning included).
    pub rev: u64,
    /// Creation time (ms since epoch).
    pub created_at: i64,
    /// Last write time (ms since epoch).
    pub updated_at: i64,
    /// Tombstone flag.
    pub deleted: bool,
}

impl SyncMeta {
    /// True when `self` should win over `other` in a last-writer-wins merge (backup import, sync).
    pub fn newer_than(&self, other: &SyncMeta) -> bool {
        (self.rev, self.updated_at) > (other.rev, other.updated_at)
    }
}

/// A storable record kind keyed by its `id`.
pub trait Record: Serialize + DeserializeOwned + Clone + std::fmt::Debug + 'static {
    /// Object store name.
    const STORE: &'static str;
    /// A copy of the sync metadata.
    fn sync_meta(&self) -> SyncMeta;
    /// Overwrites the sync metadata.
    fn set_sync_meta(&mut self, meta: SyncMeta);
    /// Recomputes derived index fields (clears them on tombstones).
    fn reindex(&mut self) {}
    /// Checks invariants before a write; every problem in one [`crate::ErrorCode::Validation`] error.
    fn validate(&self) -> crate::Result<()> {
        Ok(())
    }
}

macro_rules! record {
    (
        $(#[$m:meta])*
        $name:ident in $store:expr;
        { $( $(#[$fm:meta])* pub $f:ident : $t:ty, )* }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// Stable id (assigned by the store when empty on creation).
            #[serde(default)]
            pub id: String,
            /// Revision: 1 on creation, +1 on every write.
            #[serde(default)]
            pub rev: u64,
            /// Creation time, ms since the epoch.
            #[serde(default)]
            pub created_at: i64,
            /// Last write time, ms since the epoch.
            #[serde(default)]
            pub updated_at: i64,
            /// Tombstone: the record was deleted (kept for sync and undo).
            #[serde(default)]
            pub deleted: bool,
            $( $(#[$fm])* pub $f: $t, )*
        }

        impl $name {
            fn meta_of(&self) -> SyncMeta {
                SyncMeta {
                    id: self.id.clone(),
                    rev: self.rev,
                    created_at: self.created_at,
                    updated_at: self.updated_at,
                    deleted: self.deleted,
                }
            }
            fn set_meta_of(&mut self, m: SyncMeta) {
                self.id = m.id;
                self.rev = m.rev;
                self.created_at = m.created_at;
                self.updated_at = m.updated_at;
                self.deleted = m.deleted;
            }
        }

    };
}

macro_rules! plain_record {
    ($name:ident) => {
        impl Record for $name {
            const STORE: &'static str = <$name>::STORE_NAME;
            fn sync_meta(&self) -> SyncMeta {
                self.meta_of()
            }
            fn set_sync_meta(&mut self, meta: SyncMeta) {
                self.set_meta_of(meta)
            }
        }
    };
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

fn empty_card() -> CardJson {
    CardJson::from(empty_object())
}

/// A character's card JSON: the text it came as (from JS, or from IndexedDB), parsed only when
/// something looks inside (`Deref` to [`Value`]); or a parsed value. A card with a large
/// lorebook is megabytes of JSON and hundreds of thousands of values: passed through as text
/// it is scanned once ([`Character::from_card_text`]) instead of being built as a tree and
/// serialised again. The text may also live outside Rust memory ([`ExternalText`]: in the
/// browser, a JS string), copied in only when something reads it, so a card that goes from JS
/// to IndexedDB and back never crosses into wasm at all. Changed only through `DerefMut`,
/// which drops the text: text and value agree.
#[derive(Clone, Default)]
pub struct CardJson {
    text: OnceCell<Rc<str>>,
    /// Where the text is, when it has not been copied in yet.
    external: Option<Rc<dyn ExternalText>>,
    /// Whether the text is a JSON object (known from the scan, or trusted for stored text).
    object: bool,
    value: OnceCell<Value>,
}

/// Card JSON text held elsewhere (a JS string, say): read only when something needs it in Rust.
pub trait ExternalText {
    /// The text.
    fn load(&self) -> String;
    /// For the code that made it, to find its own kind again (`downcast_ref`).
    fn as_any(&self) -> &dyn std::any::Any;
}

impl CardJson {
    /// Text held elsewhere, known to be a JSON object: stored text written by this store, or text
    /// whose maker checked that it is an object. Trusted: loaded and parsed only when something
    /// reads it (if it ever is not JSON, reading it gives `null`, and writing it back keeps it).
    pub fn from_external(text: Rc<dyn ExternalText>) -> CardJson {
        CardJson { text: OnceCell::new(), external: Some(text), object: true, value: OnceCell::new() }
    }

    /// The text held elsewhere, if the card still is that text (for its maker to use it as it
    /// is, without a copy).
    pub fn external(&self) -> Option<&dyn ExternalText> {
        self.external.as_deref()
    }

    /// The text, loaded on first use when it is held elsewhere; `None` for a parsed value.
    fn raw(&self) -> Option<&Rc<str>> {
        if let Some(t) = self.text.get() {
            return Some(t);
        }
        let ext = self.external.as_ref()?;
        Some(self.text.get_or_init(|| ext.load().into()))
    }

    /// The card as a JSON value (parsed on first use when it came as text).
    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| match self.raw() {
            Some(t) => serde_json::from_str(t).unwrap_or(Value::Null),
            None => Value::Null,
        })
    }

    /// The card as JSON text: the text it came as, or the value serialised.
    pub fn text(&self) -> Cow<'_, str> {
        match self.raw() {
            Some(t) => Cow::Borrowed(t),
            None => Cow::Owned(serde_json::to_string(self.value()).unwrap_or_else(|_| "null".into())),
        }
    }

    /// True for a JSON object (without parsing text).
    pub fn is_object(&self) -> bool {
        if (self.text.get().is_some() || self.external.is_some()) && self.value.get().is_none() {
            self.object
        } else {
            self.value().is_object()
        }
    }
}

impl From<Value> for CardJson {
    fn from(v: Value) -> Self {
        CardJson { text: OnceCell::new(), external: None, object: v.is_object(), value: OnceCell::from(v) }
    }
}

impl std::ops::Deref for CardJson {
    type Target = Value;
    fn deref(&self) -> &Value {
        self.value()
    }
}

/// Changing the card drops the text it came as (the value is the card from then on).
impl std::ops::DerefMut for CardJson {
    fn deref_mut(&mut self) -> &mut Value {
        self.value();
        self.text = OnceCell::new();
        self.external = None;
        self.value.get_mut().expect("parsed just above")
    }
}

impl PartialEq for CardJson {
    fn eq(&self, other: &Self) -> bool {
        if let (Some(a), Some(b)) = (&self.external, &other.external) {
            if Rc::ptr_eq(a, b) {
                return true;
            }
        }
        match (self.raw(), other.raw()) {
            (Some(a), Some(b)) if a == b => true,
            _ => self.value() == other.value(),
        }
    }
}

impl PartialEq<Value> for CardJson {
    fn eq(&self, other: &Value) -> bool {
        self.value() == other
    }
}

impl std::fmt::Debug for CardJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value().fmt(f)
    }
}

impl Serialize for CardJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for CardJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(CardJson::from)
    }
}

/// What [`Character::from_card`] reads of a card (`name` and `tags` of `data`, or of the card
/// itself), found by one scan of its JSON text that skips everything else without building it.
#[derive(Clone, Copy)]
enum Want {
    Top,
    Data,
    Str,
    Strs,
    Skip,
}

#[derive(Default)]
struct Head {
    name: Option<String>,
    tags: Option<Vec<String>>,
}

enum Found {
    Other,
    Str(String),
    Strs(Vec<String>),
    /// An object: its own name/tags, and (at the top) what `data` was.
    Map(Head, Option<Box<Found>>),
}

struct Seek(Want);

impl<'de> DeserializeSeed<'de> for Seek {
    type Value = Found;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Found, D::Error> {
        match self.0 {
            Want::Skip => IgnoredAny::deserialize(d).map(|_| Found::Other),
            _ => d.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Seek {
    type Value = Found;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Found, E> {
        Ok(Found::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Found, E> {
        Ok(Found::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Found, E> {
        Ok(Found::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Found, E> {
        Ok(Found::Other)
    }
    fn visit_unit<E>(self) -> Result<Found, E> {
        Ok(Found::Other)
    }
    fn visit_none<E>(self) -> Result<Found, E> {
        Ok(Found::Other)
    }
    fn visit_str<E>(self, v: &str) -> Result<Found, E> {
        Ok(if matches!(self.0, Want::Str) { Found::Str(v.to_string()) } else { Found::Other })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Found, A::Error> {
        if matches!(self.0, Want::Strs) {
            let mut out = Vec::new();
            while let Some(x) = seq.next_element_seed(Seek(Want::Str))? {
                if let Found::Str(s) = x {
                    out.push(s);
                }
            }
            return Ok(Found::Strs(out));
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Found::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        if !matches!(self.0, Want::Top | Want::Data) {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Found::Other);
        }
        let mut head = Head::default();
        let mut data = None;
        while let Some(k) = map.next_key::<Cow<'de, str>>()? {
            match &*k {
                "name" => {
                    head.name = match map.next_value_seed(Seek(Want::Str))? {
                        Found::Str(s) => Some(s),
                        _ => None,
                    }
                }
                "tags" => {
                    head.tags = match map.next_value_seed(Seek(Want::Strs))? {
                        Found::Strs(v) => Some(v),
                        _ => None,
                    }
                }
                "data" if matches!(self.0, Want::Top) => data = Some(Box::new(map.next_value_seed(Seek(Want::Data))?)),
                _ => {
                    map.next_value_seed(Seek(Want::Skip))?;
                }
            }
        }
        Ok(Found::Map(head, data))
    }
}

record! {
    /// A character in the library: the card JSON (V2/V3, as produced by the card codec) plus
    /// library metadata.
    Character in stores::CHARACTERS;
    {
        /// Display name (kept in step with the card's `data.name` by [`Character::from_card`]).
        #[serde(default)]
        pub name: String,
        /// The card as JSON (`spec`, `data`, …), stored as given.
        #[serde(default = "empty_card")]
        pub card: CardJson,
        /// Library tags (initially the card's `data.tags`).
        #[serde(default)]
        pub tags: Vec<String>,
        /// Marked as favourite.
        #[serde(default)]
        pub favorite: bool,
        /// Last time a chat with this character was used (ms).
        #[serde(default)]
        pub last_used_at: Option<i64>,
        /// Asset id of the avatar image.
        #[serde(default)]
        pub avatar_asset_id: Option<String>,
        /// Index key: lowercased name (absent on tombstones).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ix_name: Option<String>,
        /// Index key: lowercased tags, multi-entry (absent on tombstones).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ix_tags: Option<Vec<String>>,
        /// Index key: last used, 0 when never (absent on tombstones).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ix_used: Option<i64>,
        /// Index key: creation time (absent on tombstones).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ix_created: Option<i64>,
    }
}

impl Character {
    const STORE_NAME: &'static str = stores::CHARACTERS;

    /// A new (unsaved) character from card JSON: name and tags are read from `data.name` /
    /// `data.tags` (V2/V3) or the top-level `name` / `tags` (V1).
    pub fn from_card(card: Value) -> Character {
        let data = card.get("data").filter(|d| d.is_object()).unwrap_or(&card);
        let name = data.get("name").and_then(Value::as_str).unwrap_or("").trim().to_string();
        let tags = data
            .get("tags")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        Character { name, card: card.into(), tags: normalize_tags(tags), ..Character::default() }
    }

    /// [`Character::from_card`] for a card given as JSON text: one scan checks the JSON and
    /// finds the name and tags; the text is kept as it is (see [`CardJson`]). Fails with
    /// `bad_json` when the text is not JSON.
    pub fn from_card_text(text: String) -> crate::Result<Character> {
        let mut de = serde_json::Deserializer::from_str(&text);
        let found = Seek(Want::Top)
            .deserialize(&mut de)
            .and_then(|f| de.end().map(|_| f))
            .map_err(|e| crate::Error::new(crate::ErrorCode::BadJson, format!("the card is not JSON: {e}")))?;
        let (object, head) = match found {
            Found::Map(top, data) => (true, match data.map(|d| *d) {
                Some(Found::Map(d, _)) => d,
                _ => top,
            }),
            _ => (false, Head::default()),
        };
        Ok(Character {
            name: head.name.unwrap_or_default().trim().to_string(),
            tags: normalize_tags(head.tags.unwrap_or_default()),
            card: CardJson { text: OnceCell::from(Rc::<str>::from(text)), external: None, object, value: OnceCell::new() },
            ..Character::default()
        })
    }
}

impl Character {
    /// A new (unsaved) character whose card text is held elsewhere ([`ExternalText`]): `head` is
    /// JSON text with just what [`Character::from_card_text`] reads of a card (its `name`, `tags`
    /// and `data` with `data`'s `name` and `tags`), so both ways agree. The card must be an object.
    pub fn from_card_elsewhere(head: String, card: Rc<dyn ExternalText>) -> crate::Result<Character> {
        let mut c = Character::from_card_text(head)?;
        if !c.card.is_object() {
            return Err(crate::Error::invalid_argument("the card must be a JSON object"));
        }
        c.card = CardJson::from_external(card);
        Ok(c)
    }
}

/// Trims tags, drops empty ones and duplicates (case-insensitive), keeps the first spelling.
pub fn normalize_tags(tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        let t = t.trim().to_string();
        if !t.is_empty() && !out.iter().any(|o| o.to_lowercase() == t.to_lowercase()) {
            out.push(t);
        }
    }
    out
}

impl Record for Character {
    const STORE: &'static str = Character::STORE_NAME;
    fn sync_meta(&self) -> SyncMeta {
        self.meta_of()
    }
    fn set_sync_meta(&mut self, meta: SyncMeta) {
        self.set_meta_of(meta)
    }
    fn reindex(&mut self) {
        if self.deleted {
            self.ix_name = None;
            self.ix_tags = None;
            self.ix_used = None;
            self.ix_created = None;
        } else {
            self.ix_name = Some(self.name.to_lowercase());
            let mut tags: Vec<String> = self.tags.iter().map(|t| t.to_lowercase()).collect();
            tags.dedup();
            self.ix_tags = Some(tags);
            self.ix_used = Some(self.last_used_at.unwrap_or(0));
            self.ix_created = Some(self.created_at);
        }
    }
    fn validate(&self) -> crate::Result<()> {
        let mut errs = Vec::new();
        if self.name.trim().is_empty() {
            errs.push("name: must not be empty".to_string());
        }
        if self.name.chars().count() > 512 {
            errs.push("name: longer than 512 characters".to_string());
        }
        if !self.card.is_object() {
            errs.push("card: must be a JSON object".to_string());
        }
        if self.tags.iter().any(|t| t.trim().is_empty()) {
            errs.push("tags: must not contain empty tags".to_string());
        }
        validation(errs)
    }
}

/// Joins field problems into one `validation` error (or `Ok` when there are none).
pub fn validation(errs: Vec<String>) -> crate::Result<()> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(crate::Error::new(crate::ErrorCode::Validation, errs.join("; ")))
    }
}

record! {
    /// Metadata of a stored file (avatar, thumbnail, attachment); the bytes are stored
    /// separately (`assetBlobs`) so that listing assets never loads images.
    Asset in stores::ASSETS;
    {
        /// MIME type, e.g. `image/png`.
        #[serde(default)]
        pub mime: String,
        /// Size of the bytes.
        #[serde(default)]
        pub size: u64,
        /// What the asset is for: `avatar`, `thumbnail`, `background`, `attachment`, ….
        #[serde(default)]
        pub role: String,
        /// Original file name, if any.
        #[serde(default)]
        pub file_name: Option<String>,
        /// The record this asset belongs to (e.g. a character id).
        #[serde(default)]
        pub owner_id: Option<String>,
        /// For a thumbnail: the asset it was made from.
        #[serde(default)]
        pub thumbnail_of: Option<String>,
        /// Pixel width, if known.
        #[serde(default)]
        pub width: Option<u32>,
        /// Pixel height, if known.
        #[serde(default)]
        pub height: Option<u32>,
    }
}
impl Asset {
    const STORE_NAME: &'static str = stores::ASSETS;
}
plain_record!(Asset);

record! {
    /// A lorebook (World Info book); `data` holds the lorebook model as JSON.
    Lorebook in stores::LOREBOOKS;
    {
        /// Display name.
        #[serde(default)]
        pub name: String,
        /// The lorebook as JSON (entries, settings).
        #[serde(default = "empty_object")]
        pub data: Value,
    }
}
impl Lorebook {
    const STORE_NAME: &'static str = stores::LOREBOOKS;
}
plain_record!(Lorebook);

record! {
    /// Chat metadata. Messages live in their own store, keyed by `[chatId, seq]`.
    Chat in stores::CHATS;
    {
        /// The character this chat is with (one of `characterId` / `groupId`).
        #[serde(default)]
        pub character_id: Option<String>,
        /// The group this chat belongs to.
        #[serde(default)]
        pub group_id: Option<String>,
        /// Title shown in lists.
        #[serde(default)]
        pub title: String,
        /// Live (non-deleted) messages.
        #[serde(default)]
        pub message_count: u64,
        /// The sequence number the next appended message gets.
        #[serde(default)]
        pub next_seq: u64,
        /// First characters of the last live message.
        #[serde(default)]
        pub last_message_preview: Option<String>,
        /// Time of the last message (ms).
        #[serde(default)]
        pub last_message_at: Option<i64>,
        /// SillyTavern `chat_metadata` (author's note, variables, …), kept as given.
        #[serde(default = "empty_object")]
        pub metadata: Value,
    }
}
impl Chat {
    const STORE_NAME: &'static str = stores::CHATS;
}
impl Record for Chat {
    const STORE: &'static str = Chat::STORE_NAME;
    fn sync_meta(&self) -> SyncMeta {
        self.meta_of()
    }
    fn set_sync_meta(&mut self, meta: SyncMeta) {
        self.set_meta_of(meta)
    }
    fn validate(&self) -> crate::Result<()> {
        let mut errs = Vec::new();
        if self.character_id.is_some() && self.group_id.is_some() {
            errs.push("characterId/groupId: a chat belongs to a character or a group, not both".into());
        }
        if !self.metadata.is_object() {
            errs.push("metadata: must be a JSON object".into());
        }
        validation(errs)
    }
}

record! {
    /// A group of characters chatting together.
    Group in stores::GROUPS;
    {
        /// Display name.
        #[serde(default)]
        pub name: String,
        /// Member character ids, in order.
        #[serde(default)]
        pub members: Vec<String>,
        /// Group settings (activation strategy, muted members, …).
        #[serde(default = "empty_object")]
        pub data: Value,
    }
}
impl Group {
    const STORE_NAME: &'static str = stores::GROUPS;
}
plain_record!(Group);

record! {
    /// A long-term memory (summary, fact) for a chat or character (used by the memory issue).
    Memory in stores::MEMORIES;
    {
        /// The chat it belongs to.
        #[serde(default)]
        pub chat_id: Option<String>,
        /// The character it belongs to.
        #[serde(default)]
        pub character_id: Option<String>,
        /// Memory text.
        #[serde(default)]
        pub text: String,
        /// Anything else (embedding ids, source message range, …).
        #[serde(default = "empty_object")]
        pub data: Value,
    }
}
impl Memory {
    const STORE_NAME: &'static str = stores::MEMORIES;
}
plain_record!(Memory);

record! {
    /// Scenario state for a chat (used by the scenario issue).
    ScenarioState in stores::SCENARIOS;
    {
        /// The chat it belongs to.
        #[serde(default)]
        pub chat_id: Option<String>,
        /// The state as JSON.
        #[serde(default = "empty_object")]
        pub data: Value,
    }
}
impl ScenarioState {
    const STORE_NAME: &'static str = stores::SCENARIOS;
}
plain_record!(ScenarioState);

record! {
    /// One chat message, keyed by `[chatId, seq]`, in SillyTavern's shape: `mes`, `swipes`,
    /// `swipeId`, `swipeInfo`, `extra`, and every other SillyTavern field kept in `fields`.
    Message in stores::MESSAGES;
    {
        /// The chat.
        #[serde(default)]
        pub chat_id: String,
        /// Position in the chat, from 0, never reused.
        #[serde(default)]
        pub seq: u64,
        /// Speaker display name.
        #[serde(default)]
        pub name: String,
        /// Sent by the user.
        #[serde(default)]
        pub is_user: bool,
        /// Hidden from the prompt.
        #[serde(default)]
        pub is_system: bool,
        /// Text (equals `swipes[swipeId]` when there are swipes).
        #[serde(default)]
        pub mes: String,
        /// Send time (ms); exported as ISO 8601.
        #[serde(default)]
        pub send_date: Option<i64>,
        /// Alternative replies.
        #[serde(default)]
        pub swipes: Vec<String>,
        /// Current swipe.
        #[serde(default)]
        pub swipe_id: usize,
        /// Per-swipe metadata, parallel to `swipes`.
        #[serde(default)]
        pub swipe_info: Vec<Value>,
        /// SillyTavern `extra` (api, model, reasoning, media, …), kept as given.
        #[serde(default = "empty_object")]
        pub extra: Value,
        /// Any other SillyTavern message fields (`gen_started`, `force_avatar`, `original_avatar`,
        /// `title`, …), kept as given and written back on export.
        #[serde(default)]
        pub fields: Map<String, Value>,
    }
}
impl Message {
    const STORE_NAME: &'static str = stores::MESSAGES;
}
plain_record!(Message);

/// A message as the caller supplies it to `append_message` (the store assigns the rest).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewMessage {
    /// Speaker display name.
    pub name: String,
    /// Sent by the user.
    pub is_user: bool,
    /// Hidden from the prompt.
    pub is_system: bool,
    /// Text.
    pub mes: String,
    /// Send time (ms); the store's clock when absent.
    pub send_date: Option<i64>,
    /// Alternative replies (when given, `mes` must equal `swipes[swipeId]` or is set to it).
    pub swipes: Vec<String>,
    /// Current swipe.
    pub swipe_id: usize,
    /// Per-swipe metadata.
    pub swipe_info: Vec<Value>,
    /// SillyTavern `extra`.
    pub extra: Option<Value>,
    /// Other SillyTavern fields.
    pub fields: Map<String, Value>,
}

/// A change to one message. Fields left `None` are unchanged; applied in the order
/// `mes`, `addSwipe`, `deleteSwipe`, `swipeId`, `extra`, `isSystem`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MessageEdit {
    /// New text for the current swipe.
    pub mes: Option<String>,
    /// Appends a swipe and makes it current.
    pub add_swipe: Option<String>,
    /// Removes the swipe at this index (not the last remaining one).
    pub delete_swipe: Option<usize>,
    /// Selects a swipe.
    pub swipe_id: Option<usize>,
    /// Replaces `extra`.
    pub extra: Option<Value>,
    /// Hides or shows the message in prompts.
    pub is_system: Option<bool>,
}

impl Message {
    /// Applies an edit, keeping `mes == swipes[swipeId]`.
    pub fn apply_edit(&mut self, edit: &MessageEdit) -> crate::Result<()> {
        if let Some(m) = &edit.mes {
            self.mes = m.clone();
            if let Some(s) = self.swipes.get_mut(self.swipe_id) {
                *s = m.clone();
            }
        }
        if let Some(s) = &edit.add_swipe {
            if self.swipes.is_empty() {
                self.swipes.push(self.mes.clone());
                self.swipe_info.push(Value::Null);
            }
            self.swipes.push(s.clone());
            while self.swipe_info.len() + 1 < self.swipes.len() {
                self.swipe_info.push(Value::Null);
            }
            self.swipe_info.push(Value::Null);
            self.swipe_id = self.swipes.len() - 1;
            self.mes = s.clone();
        }
        if let Some(i) = edit.delete_swipe {
            if i >= self.swipes.len() {
                return Err(crate::Error::new(crate::ErrorCode::NotFound, format!("no swipe {i}")));
            }
            if self.swipes.len() == 1 {
                return Err(crate::Error::invalid_argument("cannot delete the only swipe; delete the message"));
            }
            self.swipes.remove(i);
            if i < self.swipe_info.len() {
                self.swipe_info.remove(i);
            }
            if self.swipe_id > i || self.swipe_id >= self.swipes.len() {
                self.swipe_id = self.swipe_id.saturating_sub(1);
            }
            self.mes = self.swipes[self.swipe_id].clone();
        }
        if let Some(i) = edit.swipe_id {
            if self.swipes.is_empty() && i == 0 {
                // no swipes: index 0 is the message itself
            } else if i >= self.swipes.len() {
                return Err(crate::Error::new(crate::ErrorCode::NotFound, format!("no swipe {i}")));
            } else {
                self.swipe_id = i;
                self.mes = self.swipes[i].clone();
            }
        }
        if let Some(x) = &edit.extra {
            if !x.is_object() {
                return Err(crate::Error::new(crate::ErrorCode::Validation, "extra: must be a JSON object"));
            }
            self.extra = x.clone();
        }
        if let Some(s) = edit.is_system {
            self.is_system = s;
        }
        Ok(())
    }

    /// Builds the stored message from the caller's part.
    pub fn from_new(chat_id: &str, seq: u64, m: NewMessage) -> crate::Result<Message> {
        let mut mes = m.mes;
        let mut swipe_id = m.swipe_id;
        if !m.swipes.is_empty() {
            if swipe_id >= m.swipes.len() {
                return Err(crate::Error::new(
                    crate::ErrorCode::Validation,
                    format!("swipeId: {swipe_id} is out of range for {} swipes", m.swipes.len()),
                ));
            }
            mes = m.swipes[swipe_id].clone();
        } else {
            swipe_id = 0;
        }
        let extra = m.extra.unwrap_or_else(empty_object);
        if !extra.is_object() {
            return Err(crate::Error::new(crate::ErrorCode::Validation, "extra: must be a JSON object"));
        }
        Ok(Message {
            chat_id: chat_id.to_string(),
            seq,
            name: m.name,
            is_user: m.is_user,
            is_system: m.is_system,
            mes,
            send_date: m.send_date,
            swipes: m.swipes,
            swipe_id,
            swipe_info: m.swipe_info,
            extra,
            fields: m.fields,
            ..Message::default()
        })
    }
}

/// How many characters of the last message a chat keeps as its preview.
pub const PREVIEW_CHARS: usize = 100;

/// The preview of a message text.
pub fn preview(text: &str) -> String {
    let t = text.trim();
    match t.char_indices().nth(PREVIEW_CHARS) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
    }
}

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Position in the log (increasing, never reused).
    #[serde(default)]
    pub seq: u64,
    /// When (ms).
    pub at: i64,
    /// What happened, e.g. `chat.message`.
    pub kind: String,
    /// Details.
    #[serde(default)]
    pub data: Value,
}

/// A settings entry (one per settings key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingEntry {
    /// Settings key.
    pub key: String,
    /// The value.
    pub value: Value,
    /// Revision, +1 per write.
    #[serde(default)]
    pub rev: u64,
    /// Last write (ms).
    #[serde(default)]
    pub updated_at: i64,
}

/// Settings keys that hold secrets: excluded from backups unless explicitly asked for.
pub fn is_secret_key(key: &str) -> bool {
    key == "secrets" || key.starts_with("secrets.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn character_from_v2_card_reads_name_and_tags() {
        let c = Character::from_card(json!({"spec":"chara_card_v2","data":{"name":" Alice ","tags":["a","A","b",""]}}));
        assert_eq!(c.name, "Alice");
        assert_eq!(c.tags, vec!["a", "b"]);
        assert_eq!(c.id, "");
        assert!(c.card.is_object());
    }

    struct Elsewhere {
        text: String,
        loads: std::cell::Cell<u32>,
    }
    impl ExternalText for Elsewhere {
        fn load(&self) -> String {
            self.loads.set(self.loads.get() + 1);
            self.text.clone()
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    #[test]
    fn a_card_held_elsewhere_is_loaded_once_and_only_when_read() {
        let text = r#"{"spec":"chara_card_v2","data":{"name":"Nova","tags":["a"],"description":"d"}}"#;
        let ext = Rc::new(Elsewhere { text: text.into(), loads: Default::default() });
        let head = r#"{"data":{"name":" Nova ","tags":["a","A"]}}"#.to_string();
        let c = Character::from_card_elsewhere(head, ext.clone()).unwrap();
        assert_eq!((c.name.as_str(), c.tags.clone()), ("Nova", vec!["a".to_string()]));
        assert!(c.card.is_object() && c.validate().is_ok());
        assert_eq!(ext.loads.get(), 0, "naming and validating the character does not read the card");
        assert!(c.card.external().is_some_and(|e| e.as_any().is::<Elsewhere>()));
        let copy = c.clone();
        assert_eq!(copy.card, c.card);
        assert_eq!(ext.loads.get(), 0, "the same text elsewhere is equal without reading it");
        assert_eq!(c.card.text(), text);
        assert_eq!(c.card["data"]["description"], "d");
        assert_eq!(ext.loads.get(), 1);
        let mut changed = c.clone();
        changed.card["data"]["description"] = json!("e");
        assert!(changed.card.external().is_none(), "a changed card is no longer the text elsewhere");
        assert!(changed.card.text().contains(r#""description":"e""#));
        assert!(Character::from_card_elsewhere(r#"{"data":"x"}"#.into(), ext.clone()).is_ok(), "top-level name when data is not an object");
        assert!(Character::from_card_elsewhere("[1]".into(), ext).is_err());
    }

    #[test]
    fn from_card_text_reads_what_from_card_reads() {
        for card in [
            json!({"spec":"chara_card_v2","data":{"name":" Alice ","tags":["a","A",1,"b",""],"character_book":{"entries":[{"keys":["x"],"name":"no"}]}},"name":"top"}),
            json!({"name":"V1 Bob","tags":["t"],"description":"d"}),
            json!({"data":"not an object","name":"Top","tags":"not a list"}),
            json!({"data":{"name":1,"tags":null}}),
            json!({"data":{"name":"first","name":"second"}}),
            json!(["not", "an", "object"]),
            json!("text"),
        ] {
            let text = serde_json::to_string(&card).unwrap();
            let a = Character::from_card(card.clone());
            let b = Character::from_card_text(text.clone()).unwrap();
            assert_eq!((&a.name, &a.tags, a.card.is_object()), (&b.name, &b.tags, b.card.is_object()), "{text}");
            assert_eq!(b.card, card);
            assert_eq!(b.card.text(), text, "the text is kept as it came");
        }
        let dup = Character::from_card_text(r#"{"data":{"name":"first","name":"second"}}"#.into()).unwrap();
        assert_eq!(dup.name, "second", "the last duplicate wins, as when parsing into a value");
        for bad in ["", "{", "{\"a\":1} x", "{'a':1}"] {
            let e = Character::from_card_text(bad.into()).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::BadJson, "{bad}");
        }
    }

    #[test]
    fn reindex_clears_index_fields_on_tombstones() {
        let mut c = Character { name: "Bob".into(), tags: vec!["X".into()], created_at: 5, ..Default::default() };
        c.reindex();
        assert_eq!(c.ix_name.as_deref(), Some("bob"));
        assert_eq!(c.ix_tags, Some(vec!["x".to_string()]));
        assert_eq!(c.ix_used, Some(0));
        c.deleted = true;
        c.reindex();
        let v = serde_json::to_value(&c).unwrap();
        assert!(v.get("ixName").is_none() && v.get("ixTags").is_none(), "{v}");
    }

    #[test]
    fn validation_lists_every_bad_field() {
        let c = Character { card: json!([]).into(), ..Default::default() };
        let e = c.validate().unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::Validation);
        assert!(e.message().contains("name:") && e.message().contains("card:"), "{}", e.message());
    }

    #[test]
    fn swipe_edits_keep_mes_in_step() {
        let mut m = Message::from_new("c", 0, NewMessage { mes: "one".into(), ..Default::default() }).unwrap();
        m.apply_edit(&MessageEdit { add_swipe: Some("two".into()), ..Default::default() }).unwrap();
        assert_eq!((m.swipes.len(), m.swipe_id, m.mes.as_str()), (2, 1, "two"));
        m.apply_edit(&MessageEdit { swipe_id: Some(0), ..Default::default() }).unwrap();
        assert_eq!(m.mes, "one");
        m.apply_edit(&MessageEdit { mes: Some("uno".into()), ..Default::default() }).unwrap();
        assert_eq!(m.swipes, vec!["uno", "two"]);
        m.apply_edit(&MessageEdit { delete_swipe: Some(0), ..Default::default() }).unwrap();
        assert_eq!((m.swipes.len(), m.swipe_id, m.mes.as_str()), (1, 0, "two"));
        assert_eq!(m.swipe_info.len(), 1);
        let e = m.apply_edit(&MessageEdit { delete_swipe: Some(0), ..Default::default() }).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidArgument);
        let e = m.apply_edit(&MessageEdit { swipe_id: Some(5), ..Default::default() }).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::NotFound);
    }

    #[test]
    fn preview_is_char_safe() {
        let long = "é".repeat(150);
        let p = preview(&long);
        assert_eq!(p.chars().count(), PREVIEW_CHARS + 1);
        assert_eq!(preview("  hi "), "hi");
    }

    #[test]
    fn unknown_fields_of_records_do_not_break_reading() {
        let c: Character = serde_json::from_value(json!({"id":"x","name":"A","card":{},"future":1})).unwrap();
        assert_eq!(c.id, "x");
    }
}
