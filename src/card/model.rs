//! The one card model: Character Card V3 (`chara_card_v3`), a superset of V1 and V2.
//!
//! # The format in one paragraph
//!
//! A V3 card is `{"spec": "chara_card_v3", "spec_version": "3.0", "data": {...}}`.
//! `data` holds the six V1 fields (`name`, `description`, `personality`, `scenario`,
//! `first_mes`, `mes_example`), the V2 additions (`creator_notes`, `system_prompt`,
//! `post_history_instructions`, `alternate_greetings`, `character_book`, `tags`,
//! `creator`, `character_version`, `extensions`) and the V3 additions (`assets`,
//! `nickname`, `creator_notes_multilingual`, `source`, `group_only_greetings`,
//! `creation_date`, `modification_date`). `extensions` is free-form and **must never
//! lose keys**; app data (SillyTavern's `talkativeness`, `depth_prompt`, `world`, …)
//! lives there.
//!
//! [`Card`] keeps the standard fields typed and every other key in three maps:
//! [`Card::extensions`] (`data.extensions`), [`Card::data_extra`] (unknown keys of
//! `data`) and [`Card::extra`] (unknown top-level keys). [`Card::to_v3_value`]
//! writes them all back, so import → edit → export loses nothing.
//!
//! [`serde::Serialize`] writes the V3 object; [`serde::Deserialize`] reads V1/V2/V3
//! objects leniently (see [`crate::card::json::card_from_json_value`] for the
//! version that also reports warnings).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::card::lenient;
use crate::card::warning::Warnings;
use crate::lorebook::{JsonMap, Lorebook};

/// A V3 asset descriptor (`data.assets[]`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Asset {
    /// `icon`, `background`, `user_icon`, `emotion`, `x_*`, … (kept as written).
    pub kind: String,
    /// `ccdefault:`, `embeded://path`, `__asset:N`, `data:…`, `https://…`.
    pub uri: String,
    /// Asset name (`main` for the main icon; the emotion name for emotions).
    pub name: String,
    /// Lowercase extension without the dot, or `unknown`.
    pub ext: String,
    /// Unknown keys, preserved.
    pub extra: JsonMap,
}

impl Asset {
    /// The default asset list the spec assumes when `assets` is absent.
    pub fn default_icon() -> Asset {
        Asset {
            kind: "icon".into(),
            uri: "ccdefault:".into(),
            name: "main".into(),
            ext: "png".into(),
            extra: Map::new(),
        }
    }

    pub(crate) fn from_value(v: &Value, warnings: &mut Warnings) -> Option<Asset> {
        let m = v.as_object()?;
        let mut a = Asset::default();
        for (k, val) in m {
            let s = lenient::string(val);
            match (k.as_str(), s) {
                ("type", Some(s)) => a.kind = s,
                ("uri", Some(s)) => a.uri = s,
                ("name", Some(s)) => a.name = s,
                ("ext", Some(s)) => {
                    // Some writers put a dot in front: `.png` → `png`
                    if let Some(t) = s.strip_prefix('.') {
                        warnings.push("asset_ext_dot", format!("asset ext `{s}` had a leading dot; normalised"));
                        a.ext = t.to_string();
                    } else {
                        a.ext = s
                    }
                }
                _ => {
                    a.extra.insert(k.clone(), val.clone());
                }
            }
        }
        Some(a)
    }
}

/// A character card in the V3 model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Card {
    /// `data.name`.
    pub name: String,
    /// `data.description`.
    pub description: String,
    /// `data.personality`.
    pub personality: String,
    /// `data.scenario`.
    pub scenario: String,
    /// `data.first_mes`: the greeting.
    pub first_mes: String,
    /// `data.mes_example`: example dialogue (`<START>` blocks).
    pub mes_example: String,
    /// `data.creator_notes`.
    pub creator_notes: String,
    /// `data.system_prompt` (`""` = use the user's).
    pub system_prompt: String,
    /// `data.post_history_instructions` (`""` = use the user's).
    pub post_history_instructions: String,
    /// `data.alternate_greetings`.
    pub alternate_greetings: Vec<String>,
    /// `data.character_book`, the embedded lorebook.
    pub character_book: Option<Lorebook>,
    /// `data.tags`.
    pub tags: Vec<String>,
    /// `data.creator`.
    pub creator: String,
    /// `data.character_version`.
    pub character_version: String,
    /// `data.extensions`, every key preserved.
    pub extensions: JsonMap,
    /// `data.group_only_greetings` (V3).
    pub group_only_greetings: Vec<String>,
    /// `data.assets` (V3); `None` = absent (the spec then assumes the default icon).
    pub assets: Option<Vec<Asset>>,
    /// `data.nickname` (V3).
    pub nickname: Option<String>,
    /// `data.creator_notes_multilingual` (V3): ISO 639-1 code → text.
    pub creator_notes_multilingual: Option<JsonMap>,
    /// `data.source` (V3): origin ids/URLs.
    pub source: Option<Vec<String>>,
    /// `data.creation_date` (V3), unix seconds.
    pub creation_date: Option<i64>,
    /// `data.modification_date` (V3), unix seconds.
    pub modification_date: Option<i64>,
    /// Unknown keys of `data`, preserved.
    pub data_extra: JsonMap,
    /// Unknown top-level keys (next to `spec`/`spec_version`/`data`), preserved. The reader
    /// never puts `spec`, `spec_version` or `data` here (a conflicting original is renamed
    /// to `spec_original` etc.).
    pub extra: JsonMap,
}

/// The V1 fields mirrored at the top level by V2 writers (and by SillyTavern).
pub(crate) const V1_FIELDS: [&str; 6] = ["name", "description", "personality", "scenario", "first_mes", "mes_example"];

impl Card {
    /// Was `key` a Backyard date (`createdAt` / `updatedAt`) already read into this card? Then
    /// it is not kept again as an unknown field.
    pub(crate) fn backyard_date_read(&self, key: &str) -> bool {
        match key {
            "createdAt" => self.creation_date.is_some(),
            "updatedAt" => self.modification_date.is_some(),
            _ => false,
        }
    }

    /// Writes the V3 object `{spec: "chara_card_v3", spec_version: "3.0", data: {...}}`.
    pub fn to_v3_value(&self) -> Value {
        crate::card::ser::to_value(&crate::card::ser::CardV3(self))
    }

    fn data_common(&self, v2: bool) -> Map<String, Value> {
        let mut d = Map::new();
        d.insert("name".into(), self.name.clone().into());
        d.insert("description".into(), self.description.clone().into());
        d.insert("personality".into(), self.personality.clone().into());
        d.insert("scenario".into(), self.scenario.clone().into());
        d.insert("first_mes".into(), self.first_mes.clone().into());
        d.insert("mes_example".into(), self.mes_example.clone().into());
        d.insert("creator_notes".into(), self.creator_notes.clone().into());
        d.insert("system_prompt".into(), self.system_prompt.clone().into());
        d.insert("post_history_instructions".into(), self.post_history_instructions.clone().into());
        d.insert("alternate_greetings".into(), self.alternate_greetings.clone().into());
        if let Some(b) = &self.character_book {
            let mut bv = b.to_v3_value();
            if v2 {
                v2_backfill_book(&mut bv);
            }
            d.insert("character_book".into(), bv);
        }
        d.insert("tags".into(), self.tags.clone().into());
        d.insert("creator".into(), self.creator.clone().into());
        d.insert("character_version".into(), self.character_version.clone().into());
        d.insert("extensions".into(), Value::Object(self.extensions.clone()));
        d
    }

    /// The V3 `data` object.
    pub fn data_v3(&self) -> Map<String, Value> {
        match crate::card::ser::to_value(&crate::card::ser::DataV3(self)) {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    /// Writes the V2 backfill: `chara_card_v2` with
    /// the V1 fields copied to the top level, decorators stripped from lorebook
    /// content, V3-only fields dropped (they live in the `ccv3` chunk / V3 export).
    /// Unknown `data` keys are kept (V2 readers must ignore them).
    pub fn to_v2_value(&self) -> Value {
        let mut top = Map::new();
        let data = {
            let mut d = self.data_common(true);
            for (k, v) in &self.data_extra {
                d.insert(k.clone(), v.clone());
            }
            d
        };
        for f in V1_FIELDS {
            top.insert(f.into(), data[f].clone());
        }
        top.insert("spec".into(), "chara_card_v2".into());
        top.insert("spec_version".into(), "2.0".into());
        top.insert("data".into(), Value::Object(data));
        for (k, v) in &self.extra {
            top.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Value::Object(top)
    }

    /// Number of lorebook entries (0 without a book).
    pub fn lorebook_len(&self) -> usize {
        self.character_book.as_ref().map_or(0, |b| b.entries.len())
    }
}

/// V2 lorebook backfill: strip decorators from `content`, move `use_regex` into
/// `extensions.use_regex`, move string ids into `extensions.original_id`.
fn v2_backfill_book(book: &mut Value) {
    let Some(entries) = book.get_mut("entries").and_then(Value::as_array_mut) else { return };
    for e in entries {
        let Some(m) = e.as_object_mut() else { continue };
        if let Some(Value::String(c)) = m.get("content") {
            let stripped = crate::lorebook::parse_decorators(c).1;
            if stripped.len() != c.len() {
                let s = stripped.trim_start_matches(['\r', '\n']).to_string();
                m.insert("content".into(), s.into());
            }
        }
        let use_regex = m.remove("use_regex");
        let id = m.get("id").cloned();
        let ext = m.entry("extensions").or_insert_with(|| Value::Object(Map::new()));
        if let Some(ext) = ext.as_object_mut() {
            if let Some(Value::Bool(true)) = use_regex {
                ext.insert("use_regex".into(), true.into());
            }
            if let Some(Value::String(s)) = &id {
                ext.insert("original_id".into(), s.clone().into());
            }
        }
        if let Some(Value::String(_)) = id {
            m.remove("id");
        }
    }
}

impl Serialize for Card {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::card::ser::CardV3(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Card {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let mut w = Warnings::default();
        crate::card::json::card_from_json_value(v, &crate::card::Limits::default(), None, &mut w)
            .map(|(c, _)| c)
            .map_err(|e| serde::de::Error::custom(e.message()))
    }
}
