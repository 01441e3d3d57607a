//! Lorebook files: reading every flavour into the one [`Lorebook`] model and
//! writing SillyTavern World Info and `lorebook_v3`.
//!
//! | flavour | detected by | notes |
//! |---|---|---|
//! | `lorebook_v3` | `spec: "lorebook_v3"` | `data` is a V3 book |
//! | SillyTavern World Info | `entries` object keyed by uid (or array) with `key`/`uid` entries | `originalData` kept in `extra` |
//! | V2/V3 `character_book` | `entries` array with `keys` | |
//! | card with a book | a V1/V2/V3 card JSON | its `character_book` |
//! | Agnai memory book | `kind: "memory"` | `entry`→content, `keywords`→keys, `weight`→order |
//! | NovelAI | `lorebookVersion` | `text`→content, `displayName`→comment, `forceActivation`→constant, `contextConfig.budgetPriority`→order |
//! | RisuAI | `type: "risu"` + `data[]` | CSV `key`/`secondkey`, `insertorder`, `alwaysActive`/`mode` |
//!
//! Fields without a counterpart stay in each entry's `extra` so nothing is lost.

use serde_json::{Map, Value};

use crate::card::decode;
use crate::card::lenient;
use crate::card::limits::{Budget, Limits};
use crate::card::warning::Warnings;
use crate::card::Warning;
use crate::error::{Error, ErrorCode};
use crate::lorebook::model::{Lorebook, LorebookEntry};

/// Where a lorebook came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LorebookFormat {
    /// SillyTavern World Info JSON.
    WorldInfo,
    /// `{"spec": "lorebook_v3", "data": {...}}`.
    LorebookV3,
    /// A bare V2/V3 `character_book` object or entry array.
    CharacterBook,
    /// The `character_book` of a character card (JSON or PNG).
    Card,
    /// Agnai memory book.
    AgnaiMemory,
    /// NovelAI lorebook (`.lorebook`, or a PNG with `naidata`).
    NovelAi,
    /// RisuAI lorebook export.
    Risu,
}

impl LorebookFormat {
    /// Stable string: `worldinfo_json`, `lorebook_v3`, `character_book`, `card`,
    /// `agnai_memory`, `novelai`, `risu`.
    pub fn as_str(self) -> &'static str {
        match self {
            LorebookFormat::WorldInfo => "worldinfo_json",
            LorebookFormat::LorebookV3 => "lorebook_v3",
            LorebookFormat::CharacterBook => "character_book",
            LorebookFormat::Card => "card",
            LorebookFormat::AgnaiMemory => "agnai_memory",
            LorebookFormat::NovelAi => "novelai",
            LorebookFormat::Risu => "risu",
        }
    }
}

/// A successfully imported lorebook.
#[derive(Debug, Clone)]
pub struct ImportedLorebook {
    /// The book.
    pub lorebook: Lorebook,
    /// The flavour it came in.
    pub source_format: LorebookFormat,
    /// Every fix-up applied.
    pub warnings: Vec<Warning>,
}

/// Imports a lorebook from file bytes: JSON in any flavour above, or a PNG (a
/// NovelAI `naidata` chunk, or a character card's embedded book).
pub fn import_lorebook(bytes: &[u8], limits: &Limits) -> Result<ImportedLorebook, Error> {
    if bytes.len() > limits.max_input_bytes {
        return Err(Error::new(
            ErrorCode::TooLarge,
            format!("the input is {} bytes; the limit is {}", bytes.len(), limits.max_input_bytes),
        ));
    }
    let mut w = Warnings::default();
    if bytes.starts_with(crate::card::png::SIGNATURE) {
        let mut budget = Budget::new(limits);
        let found = crate::card::png::collect(bytes, limits, &mut budget, &mut w)?;
        if let Some(nai) = found.naidata.last() {
            let j = crate::card::png::payload_to_json_bytes(nai, limits)?;
            let v = decode::parse_json(&j, "the naidata chunk", limits, &mut w)?;
            let (lorebook, source_format) = lorebook_from_json_value(&v, limits, &mut w)?;
            return Ok(ImportedLorebook { lorebook, source_format, warnings: w.into_vec() });
        }
        let card = crate::card::import_card(bytes, &crate::card::ImportOptions { limits: *limits, file_name: None })?;
        let lorebook =
            card.card.character_book.ok_or_else(|| Error::new(ErrorCode::NotACard, "the PNG card has no lorebook"))?;
        return Ok(ImportedLorebook { lorebook, source_format: LorebookFormat::Card, warnings: card.warnings });
    }
    let v = decode::parse_json(bytes, "the lorebook JSON", limits, &mut w)?;
    let (lorebook, source_format) = lorebook_from_json_value(&v, limits, &mut w)?;
    Ok(ImportedLorebook { lorebook, source_format, warnings: w.into_vec() })
}

/// Reads a parsed lorebook JSON value of any flavour.
pub fn lorebook_from_json_value(
    v: &Value,
    limits: &Limits,
    w: &mut Warnings,
) -> Result<(Lorebook, LorebookFormat), Error> {
    let ll = limits.lorebook();
    let m = match v {
        Value::Object(m) => m,
        Value::Array(_) => return Ok((Lorebook::from_value(v, &ll, w)?, LorebookFormat::CharacterBook)),
        _ => return Err(Error::new(ErrorCode::NotACard, "a lorebook must be a JSON object")),
    };
    if m.get("spec").and_then(Value::as_str) == Some("lorebook_v3") {
        let data = m.get("data").ok_or_else(|| Error::new(ErrorCode::NotACard, "lorebook_v3 without data"))?;
        let mut book = Lorebook::from_value(data, &ll, w)?;
        for (k, val) in m {
            if k != "spec" && k != "data" {
                book.extra.insert(format!("lorebook_v3_{k}"), val.clone());
            }
        }
        return Ok((book, LorebookFormat::LorebookV3));
    }
    if m.get("type").and_then(Value::as_str) == Some("risu") {
        return Ok((read_risu(m, limits, w)?, LorebookFormat::Risu));
    }
    if m.get("kind").and_then(Value::as_str) == Some("memory") {
        return Ok((read_agnai(m, limits, w)?, LorebookFormat::AgnaiMemory));
    }
    if m.contains_key("lorebookVersion") {
        return Ok((read_novelai(m, limits, w)?, LorebookFormat::NovelAi));
    }
    if let crate::card::json::JsonKind::Card(_) = crate::card::json::classify(v) {
        let (card, _) = crate::card::json::card_from_json_value(v.clone(), limits, None, w)?;
        let book = card.character_book.ok_or_else(|| Error::new(ErrorCode::NotACard, "the card has no lorebook"))?;
        return Ok((book, LorebookFormat::Card));
    }
    match m.get("entries") {
        Some(Value::Object(_)) => Ok((Lorebook::from_value(v, &ll, w)?, LorebookFormat::WorldInfo)),
        Some(Value::Array(a)) => {
            let wi = a.iter().any(|e| e.get("key").is_some() || e.get("uid").is_some());
            let f = if wi { LorebookFormat::WorldInfo } else { LorebookFormat::CharacterBook };
            Ok((Lorebook::from_value(v, &ll, w)?, f))
        }
        _ => Err(Error::new(ErrorCode::NotACard, "the JSON is not a lorebook (no entries)")),
    }
}

fn entries_of<'a>(m: &'a Map<String, Value>, key: &str, limits: &Limits) -> Result<&'a [Value], Error> {
    let a = m.get(key).and_then(Value::as_array).map(|a| a.as_slice()).unwrap_or(&[]);
    if a.len() > limits.max_lorebook_entries {
        return Err(Error::new(
            ErrorCode::TooLarge,
            format!("lorebook has {} entries; the limit is {}", a.len(), limits.max_lorebook_entries),
        ));
    }
    Ok(a)
}

/// Renames keys of an entry object, then reads it as a spec entry.
fn renamed(item: &Value, renames: &[(&str, &str)], i: usize, w: &mut Warnings) -> LorebookEntry {
    let Some(obj) = item.as_object() else { return LorebookEntry::from_value(item, i, w) };
    let mut o = Map::new();
    for (k, v) in obj {
        let nk = renames.iter().find(|(from, _)| from == k).map_or(k.as_str(), |(_, to)| to);
        if o.contains_key(nk) {
            o.insert(k.clone(), v.clone());
        } else {
            o.insert(nk.to_string(), v.clone());
        }
    }
    if !o.contains_key("keys") {
        o.insert("keys".into(), Value::Array(Vec::new()));
    }
    LorebookEntry::from_value(&Value::Object(o), i, w)
}

fn read_book_fields(m: &Map<String, Value>, skip: &[&str], renames: &[(&str, &str)]) -> Lorebook {
    let mut book = Lorebook::default();
    for (k, v) in m {
        if skip.contains(&k.as_str()) {
            continue;
        }
        let k2 = renames.iter().find(|(f, _)| f == k).map_or(k.as_str(), |(_, t)| t);
        match k2 {
            "name" => book.name = lenient::string(v),
            "description" => book.description = lenient::string(v),
            "scan_depth" => book.scan_depth = lenient::int(v),
            "token_budget" => book.token_budget = lenient::int(v),
            "recursive_scanning" => book.recursive_scanning = lenient::boolean(v),
            "extensions" if v.is_object() => book.extensions = v.as_object().cloned().unwrap_or_default(),
            _ => {
                book.extra.insert(k.clone(), v.clone());
            }
        }
    }
    book
}

fn read_agnai(m: &Map<String, Value>, limits: &Limits, w: &mut Warnings) -> Result<Lorebook, Error> {
    let mut book = read_book_fields(
        m,
        &["entries"],
        &[("scanDepth", "scan_depth"), ("tokenBudget", "token_budget"), ("recursiveScanning", "recursive_scanning")],
    );
    for (i, e) in entries_of(m, "entries", limits)?.iter().enumerate() {
        let mut entry = renamed(e, &[("entry", "content"), ("keywords", "keys"), ("weight", "insertion_order")], i, w);
        if entry.name.is_none() {
            entry.name = Some(String::new());
        }
        book.entries.push(entry);
    }
    Ok(book)
}

fn read_novelai(m: &Map<String, Value>, limits: &Limits, w: &mut Warnings) -> Result<Lorebook, Error> {
    let mut book = read_book_fields(m, &["entries"], &[]);
    for (i, e) in entries_of(m, "entries", limits)?.iter().enumerate() {
        let mut entry =
            renamed(e, &[("text", "content"), ("displayName", "comment"), ("forceActivation", "constant")], i, w);
        if let Some(p) = e.get("contextConfig").and_then(|c| c.get("budgetPriority")).and_then(lenient::int) {
            entry.order = p;
        } else {
            entry.order = 0;
        }
        book.entries.push(entry);
    }
    Ok(book)
}

fn read_risu(m: &Map<String, Value>, limits: &Limits, w: &mut Warnings) -> Result<Lorebook, Error> {
    let mut book = read_book_fields(m, &["data", "type"], &[]);
    book.extra.insert("type".into(), "risu".into());
    for (i, e) in entries_of(m, "data", limits)?.iter().enumerate() {
        let Some(o) = e.as_object() else {
            book.entries.push(LorebookEntry::from_value(e, i, w));
            continue;
        };
        let mut entry = LorebookEntry { uid: i as i64, selective: false, ..Default::default() };
        for (k, v) in o {
            match k.as_str() {
                "key" => entry.keys = lenient::csv(&lenient::string(v).unwrap_or_default()),
                "secondkey" => entry.secondary_keys = lenient::csv(&lenient::string(v).unwrap_or_default()),
                "insertorder" => entry.order = lenient::int(v).unwrap_or(100),
                "comment" => entry.comment = lenient::string(v).unwrap_or_default(),
                "content" => entry.content = lenient::string(v).unwrap_or_default(),
                "alwaysActive" => entry.constant |= lenient::boolean(v).unwrap_or(false),
                "selective" => entry.selective = lenient::boolean(v).unwrap_or(false),
                "useRegex" => entry.use_regex = lenient::boolean(v).unwrap_or(false),
                "activationPercent" => match lenient::float(v) {
                    Some(p) => entry.probability = p,
                    None => {
                        entry.extra.insert(k.clone(), v.clone());
                    }
                },
                _ => {
                    entry.extra.insert(k.clone(), v.clone());
                }
            }
        }
        if o.get("mode").and_then(Value::as_str) == Some("constant") {
            entry.constant = true;
        }
        if o.get("mode").and_then(Value::as_str) == Some("multiple") {
            entry.selective = true;
        }
        if let Some(cs) = o.get("extentions").and_then(|x| x.get("risu_case_sensitive")).and_then(lenient::boolean) {
            entry.case_sensitive = Some(cs);
        }
        book.entries.push(entry);
    }
    Ok(book)
}

/// Output flavours of [`export_lorebook`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LorebookExportFormat {
    /// SillyTavern World Info JSON.
    SillyTavern,
    /// `{"spec": "lorebook_v3", "data": {...}}`.
    V3,
}

impl LorebookExportFormat {
    /// Parses `sillytavern` / `v3`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "sillytavern" | "worldinfo" | "st" => Ok(Self::SillyTavern),
            "v3" | "lorebook_v3" => Ok(Self::V3),
            other => Err(Error::invalid_argument(format!("unknown lorebook export format `{other}`"))),
        }
    }
}

/// Writes a lorebook file (pretty JSON, UTF-8).
pub fn export_lorebook(book: &Lorebook, format: LorebookExportFormat) -> Vec<u8> {
    let v = match format {
        LorebookExportFormat::SillyTavern => book.to_world_info_value(),
        LorebookExportFormat::V3 => {
            let mut data = book.to_v3_value();
            let mut top = Map::new();
            top.insert("spec".into(), "lorebook_v3".into());
            // Keys we parked from the source `lorebook_v3` wrapper go back to the top.
            if let Some(d) = data.as_object_mut() {
                let parked: Vec<String> = d.keys().filter(|k| k.starts_with("lorebook_v3_")).cloned().collect();
                for k in parked {
                    if let Some(v) = d.remove(&k) {
                        top.insert(k["lorebook_v3_".len()..].to_string(), v);
                    }
                }
            }
            top.insert("data".into(), data);
            Value::Object(top)
        }
    };
    serde_json::to_vec_pretty(&v).unwrap_or_default()
}
