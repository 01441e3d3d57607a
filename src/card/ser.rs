//! Streaming serialisation of the V3 card, lorebook and entry objects (no intermediate
//! `serde_json::Value` tree: a 5,000-entry lorebook is written straight to text).
//!
//! Rules shared with the readers:
//! * known keys are written in the standard order;
//! * an unknown key kept in an `extra` map is written after them;
//! * a *known* key in `extra` means the reader could not use its value: that original
//!   value is written in its place, so nothing is lost and re-reading gives the same model.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::card::model::{Asset, Card};
use crate::lorebook::model::{EntryId, Lorebook, LorebookEntry, ST_FIELDS};
use crate::lorebook::JsonMap;

/// Writes known keys, letting `extra` override them, then the remaining `extra` keys.
struct Obj<'a, M> {
    map: M,
    extra: &'a JsonMap,
    known: &'static [&'static str],
}

impl<'a, M: SerializeMap> Obj<'a, M> {
    fn new(map: M, extra: &'a JsonMap, known: &'static [&'static str]) -> Self {
        Obj { map, extra, known }
    }
    fn key<V: Serialize + ?Sized>(&mut self, k: &str, v: &V) -> Result<(), M::Error> {
        match self.extra.get(k) {
            Some(x) => self.map.serialize_entry(k, x),
            None => self.map.serialize_entry(k, v),
        }
    }
    fn opt<V: Serialize>(&mut self, k: &str, v: Option<V>) -> Result<(), M::Error> {
        match (self.extra.get(k), v) {
            (Some(x), _) => self.map.serialize_entry(k, x),
            (None, Some(v)) => self.map.serialize_entry(k, &v),
            (None, None) => Ok(()),
        }
    }
    fn end(mut self) -> Result<M::Ok, M::Error> {
        for (k, v) in self.extra {
            if !self.known.contains(&k.as_str()) {
                self.map.serialize_entry(k, v)?;
            }
        }
        self.map.end()
    }
}

impl Serialize for EntryId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            EntryId::Int(n) => s.serialize_i64(*n),
            EntryId::Str(t) => s.serialize_str(t),
        }
    }
}

/// An entry's `extensions`: the preserved map, plus SillyTavern settings that differ from
/// their defaults (snake_case, as SillyTavern writes them). A key already in the map was kept
/// on purpose and is written as it was.
struct EntryExt<'a>(&'a LorebookEntry);

impl Serialize for EntryExt<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut m = s.serialize_map(None)?;
        for (k, v) in &e.extensions {
            m.serialize_entry(k, v)?;
        }
        for (f, _, _, out) in ST_FIELDS {
            if e.non_default(*f) && !e.extensions.contains_key(*out) {
                m.serialize_entry(out, &e.get_field(*f).0)?;
            }
        }
        m.end()
    }
}

const ENTRY_KEYS: &[&str] = &[
    "keys",
    "content",
    "extensions",
    "enabled",
    "insertion_order",
    "case_sensitive",
    "name",
    "priority",
    "id",
    "comment",
    "selective",
    "secondary_keys",
    "constant",
    "position",
    "use_regex",
    "uid",
];

/// An entry in the V2/V3 `character_book` dialect, at `index` of its book (if known).
pub(crate) struct EntryV3<'a>(pub &'a LorebookEntry, pub Option<usize>);

impl Serialize for EntryV3<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut o = Obj::new(s.serialize_map(None)?, &e.extra, ENTRY_KEYS);
        o.key("keys", &e.keys)?;
        o.key("content", &e.content)?;
        o.key("extensions", &EntryExt(e))?;
        o.key("enabled", &e.enabled)?;
        o.key("insertion_order", &e.order)?;
        o.opt("case_sensitive", e.case_sensitive)?;
        o.opt("name", e.name.as_ref())?;
        o.opt("priority", e.priority)?;
        o.opt("id", e.id.as_ref())?;
        o.key("comment", &e.comment)?;
        o.key("selective", &e.selective)?;
        o.key("secondary_keys", &e.secondary_keys)?;
        o.key("constant", &e.constant)?;
        o.key("position", e.position.spec_str())?;
        o.key("use_regex", &e.use_regex)?;
        // `uid` only when a reader would not derive it (from the numeric id, else the index).
        let derived = match (&e.id, self.1) {
            (Some(EntryId::Int(n)), _) => Some(*n),
            (_, Some(i)) => Some(i as i64),
            _ => None,
        };
        o.opt("uid", (derived != Some(e.uid)).then_some(e.uid))?;
        o.end()
    }
}

struct Entries<'a>(&'a [LorebookEntry]);

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (i, e) in self.0.iter().enumerate() {
            seq.serialize_element(&EntryV3(e, Some(i)))?;
        }
        seq.end()
    }
}

const BOOK_KEYS: &[&str] =
    &["name", "description", "scan_depth", "token_budget", "recursive_scanning", "extensions", "entries"];

/// A lorebook as a V2/V3 `character_book` object.
pub(crate) struct BookV3<'a>(pub &'a Lorebook);

impl Serialize for BookV3<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let b = self.0;
        let mut o = Obj::new(s.serialize_map(None)?, &b.extra, BOOK_KEYS);
        o.opt("name", b.name.as_ref())?;
        o.opt("description", b.description.as_ref())?;
        o.opt("scan_depth", b.scan_depth)?;
        o.opt("token_budget", b.token_budget)?;
        o.opt("recursive_scanning", b.recursive_scanning)?;
        o.key("extensions", &b.extensions)?;
        o.key("entries", &Entries(&b.entries))?;
        o.end()
    }
}

const ASSET_KEYS: &[&str] = &["type", "uri", "name", "ext"];

impl Serialize for Asset {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = Obj::new(s.serialize_map(None)?, &self.extra, ASSET_KEYS);
        o.key("type", &self.kind)?;
        o.key("uri", &self.uri)?;
        o.key("name", &self.name)?;
        o.key("ext", &self.ext)?;
        o.end()
    }
}

const DATA_KEYS: &[&str] = &[
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "creator_notes",
    "system_prompt",
    "post_history_instructions",
    "alternate_greetings",
    "character_book",
    "tags",
    "creator",
    "character_version",
    "extensions",
    "group_only_greetings",
    "assets",
    "nickname",
    "creator_notes_multilingual",
    "source",
    "creation_date",
    "modification_date",
];

/// The V3 `data` object.
pub(crate) struct DataV3<'a>(pub &'a Card);

impl Serialize for DataV3<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut o = Obj::new(s.serialize_map(None)?, &c.data_extra, DATA_KEYS);
        o.key("name", &c.name)?;
        o.key("description", &c.description)?;
        o.key("personality", &c.personality)?;
        o.key("scenario", &c.scenario)?;
        o.key("first_mes", &c.first_mes)?;
        o.key("mes_example", &c.mes_example)?;
        o.key("creator_notes", &c.creator_notes)?;
        o.key("system_prompt", &c.system_prompt)?;
        o.key("post_history_instructions", &c.post_history_instructions)?;
        o.key("alternate_greetings", &c.alternate_greetings)?;
        o.opt("character_book", c.character_book.as_ref().map(BookV3))?;
        o.key("tags", &c.tags)?;
        o.key("creator", &c.creator)?;
        o.key("character_version", &c.character_version)?;
        o.key("extensions", &c.extensions)?;
        o.key("group_only_greetings", &c.group_only_greetings)?;
        o.opt("assets", c.assets.as_ref())?;
        o.opt("nickname", c.nickname.as_ref())?;
        o.opt("creator_notes_multilingual", c.creator_notes_multilingual.as_ref())?;
        o.opt("source", c.source.as_ref())?;
        o.opt("creation_date", c.creation_date)?;
        o.opt("modification_date", c.modification_date)?;
        o.end()
    }
}

/// The whole V3 card object. Top-level `extra` keys never replace `spec`, `spec_version`
/// or `data`.
pub(crate) struct CardV3<'a>(pub &'a Card);

impl Serialize for CardV3<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("spec", "chara_card_v3")?;
        m.serialize_entry("spec_version", "3.0")?;
        m.serialize_entry("data", &DataV3(c))?;
        for (k, v) in &c.extra {
            if !matches!(k.as_str(), "spec" | "spec_version" | "data") {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

/// `serde_json::to_value` for our own serialisers (they cannot fail on a `Value` target).
pub(crate) fn to_value<T: Serialize>(t: &T) -> serde_json::Value {
    serde_json::to_value(t).unwrap_or(serde_json::Value::Null)
}
