//! JSON card readers: V1, V2, V3, SillyTavern's hybrid, Pygmalion/Gradio, Agnai,
//! and the dispatch by keys that tells them apart.
//!
//! Every reader ends in `read_data`, which fills a [`Card`] from a `data`-shaped
//! object, normalising the quirks real cards have (each fix reported as a warning) and
//! keeping every unknown key.

use serde_json::{Map, Value};

use crate::card::decode;
use crate::card::lenient;
use crate::card::limits::Limits;
use crate::card::model::{Asset, Card, V1_FIELDS};
use crate::card::warning::Warnings;
use crate::card::SourceSpec;
use crate::error::{Error, ErrorCode};
use crate::lorebook::Lorebook;

/// What a JSON object is, by its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    /// A character card of this flavour.
    Card(SourceSpec),
    /// A lorebook file (any flavour).
    Lorebook,
    /// A BYAF manifest (an unzipped archive).
    ByafManifest,
    /// Nothing we know.
    Unknown,
}

/// Classifies a JSON object by its keys.
pub fn classify(v: &Value) -> JsonKind {
    let Some(m) = v.as_object() else { return JsonKind::Unknown };
    let spec = m.get("spec").and_then(Value::as_str);
    match spec {
        Some("chara_card_v3") => return JsonKind::Card(SourceSpec::V3),
        Some("chara_card_v2") => return JsonKind::Card(SourceSpec::V2),
        Some("lorebook_v3") => return JsonKind::Lorebook,
        _ => {}
    }
    if let Some(d) = m.get("data").and_then(Value::as_object) {
        if d.contains_key("name") || d.contains_key("first_mes") || d.contains_key("description") {
            let v3 =
                d.contains_key("group_only_greetings") || d.contains_key("assets") || spec_version_major(m) == Some(3);
            return JsonKind::Card(if v3 { SourceSpec::V3 } else { SourceSpec::V2 });
        }
    }
    let has = |k: &str| m.contains_key(k);
    if m.get("kind").and_then(Value::as_str) == Some("character")
        || (has("name") && has("persona") && has("greeting") && has("scenario") && has("sampleChat"))
    {
        return JsonKind::Card(SourceSpec::Agnai);
    }
    if has("char_name") {
        return JsonKind::Card(SourceSpec::Pygmalion);
    }
    if (m.get("type").and_then(Value::as_str) == Some("risu") && m.get("data").is_some_and(Value::is_array))
        || m.get("kind").and_then(Value::as_str) == Some("memory")
        || has("lorebookVersion")
        || (has("entries") && !has("first_mes") && !has("description") && !has("char_name"))
    {
        return JsonKind::Lorebook;
    }
    if has("name") && (has("first_mes") || has("description") || has("mes_example")) {
        return JsonKind::Card(SourceSpec::V1);
    }
    if has("schemaVersion") && has("characters") {
        return JsonKind::ByafManifest;
    }
    JsonKind::Unknown
}

fn spec_version_major(m: &Map<String, Value>) -> Option<i64> {
    m.get("spec_version").and_then(lenient::float).map(|f| f.floor() as i64)
}

/// Reads a card from a parsed JSON value (any card flavour). The second item is
/// the detected flavour. A lorebook or unknown object is `not_a_card`.
pub fn card_from_json_value(
    v: Value,
    limits: &Limits,
    file_name: Option<&str>,
    w: &mut Warnings,
) -> Result<(Card, SourceSpec), Error> {
    let kind = classify(&v);
    let Value::Object(mut top) = v else {
        return Err(Error::new(ErrorCode::NotACard, "the JSON is not an object"));
    };
    let spec = match kind {
        JsonKind::Card(s) => s,
        JsonKind::Lorebook => {
            return Err(Error::new(
                ErrorCode::NotACard,
                "this JSON is a lorebook, not a character card; import it as a lorebook",
            ))
        }
        JsonKind::ByafManifest => {
            return Err(Error::new(
                ErrorCode::UnsupportedFormat,
                "this is a BYAF manifest.json; import the whole .byaf archive",
            ))
        }
        JsonKind::Unknown => {
            if let Some(s) = top.get("spec").and_then(Value::as_str) {
                return Err(Error::new(ErrorCode::UnsupportedFormat, format!("unknown card spec `{s}`")));
            }
            return Err(Error::new(ErrorCode::NotACard, "the JSON object has no character card fields"));
        }
    };
    let mut card = Card::default();
    match spec {
        SourceSpec::V2 | SourceSpec::V3 => {
            match top.get("spec").and_then(Value::as_str) {
                Some("chara_card_v2") | Some("chara_card_v3") => {}
                Some(other) => w.push("spec_unknown", format!("unknown spec `{other}`; read as {}", spec.as_str())),
                None => w.push(
                    "spec_missing",
                    format!("the card does not say which format version it is; read it as {} from its fields", spec.as_str()),
                ),
            }
            if spec == SourceSpec::V3 {
                if let Some(f) = top.get("spec_version").and_then(lenient::float) {
                    if !(3.0..4.0).contains(&f) {
                        w.push("spec_version", format!("spec_version {f} is outside 3.x; imported anyway"));
                    }
                }
            }
            top.shift_remove("spec");
            top.shift_remove("spec_version");
            let data = match top.shift_remove("data") {
                Some(Value::Object(d)) => d,
                other => {
                    w.push("data_missing", "`data` is missing or not an object; using the top-level fields");
                    if let Some(o) = other {
                        put_extra(&mut card, "data".into(), o, w);
                    }
                    Map::new()
                }
            };
            let had_book = data.get("character_book").is_some_and(|b| !b.is_null());
            read_data(data, &mut card, limits, w, false)?;
            // Some tools put the book at the top level instead of under `data`.
            if let Some(b) = top.shift_remove("character_book") {
                if !had_book && (b.is_object() || b.is_array()) {
                    w.push("character_book_top_level", "character_book was at the top level; moved under data");
                    card.character_book = Some(Lorebook::from_value(&b, &limits.lorebook(), w)?);
                } else {
                    put_extra(&mut card, "character_book".into(), b, w);
                }
            }
            absorb_mirrors(top, &mut card, w);
        }
        SourceSpec::V1 => read_v1(top, &mut card, limits, w)?,
        SourceSpec::Pygmalion => {
            for (from, to) in [
                ("char_name", "name"),
                ("char_persona", "description"),
                ("world_scenario", "scenario"),
                ("char_greeting", "first_mes"),
                ("example_dialogue", "mes_example"),
            ] {
                if let Some(v) = top.shift_remove(from) {
                    if top.contains_key(to) {
                        put_extra(&mut card, from.into(), v, w);
                    } else {
                        top.insert(to.into(), v);
                    }
                }
            }
            read_v1(top, &mut card, limits, w)?;
        }
        SourceSpec::Agnai => read_agnai(top, &mut card, limits, w)?,
        _ => return Err(Error::new(ErrorCode::Internal, "unexpected card kind")),
    }
    if card.creator_notes.trim() == "Creator's notes go here." {
        w.push(
            "creator_notes_placeholder",
            "the creator notes held only the placeholder \"Creator's notes go here.\"; they were cleared",
        );
        card.creator_notes.clear();
    }
    normalise_extensions(&mut card, w);
    if card.name.trim().is_empty() {
        match file_name.and_then(file_stem) {
            Some(stem) => {
                w.push("empty_name", format!("the card has no name; the file name `{stem}` is used"));
                card.name = stem;
            }
            None => w.push("empty_name", "the card has no name"),
        }
    }
    Ok((card, spec))
}

/// Adds an unknown top-level key to `card.extra`; `spec`/`spec_version`/`data` (which the
/// writer owns) are renamed to `<key>_original` so they survive without clobbering the card.
fn put_extra(card: &mut Card, k: String, v: Value, w: &mut Warnings) {
    if matches!(k.as_str(), "spec" | "spec_version" | "data") {
        let mut name = format!("{k}_original");
        while card.extra.contains_key(&name) {
            name.push('_');
        }
        w.push("reserved_key_renamed", format!("top-level `{k}` could not be used; kept as `{name}`"));
        card.extra.insert(name, v);
    } else {
        card.extra.insert(k, v);
    }
}

fn file_stem(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next()?;
    let stem = base.rsplit_once('.').map_or(base, |(s, _)| s).trim();
    (!stem.is_empty()).then(|| stem.to_string())
}

/// V1 (and SillyTavern hybrid without `spec`): the fields sit at the top level.
fn read_v1(mut top: Map<String, Value>, card: &mut Card, limits: &Limits, w: &mut Warnings) -> Result<(), Error> {
    // Legacy ST keys that belong in `data`/`extensions`.
    if let Some(c) = top.shift_remove("creatorcomment") {
        if top.get("creator_notes").is_none() {
            top.insert("creator_notes".into(), c);
        } else {
            put_extra(card, "creatorcomment".into(), c, w);
        }
    }
    let mut ext = match top.shift_remove("extensions") {
        Some(Value::Object(m)) => m,
        Some(Value::Null) | None => Map::new(),
        Some(other) => {
            put_extra(card, "extensions".into(), other, w);
            Map::new()
        }
    };
    for k in ["talkativeness", "fav"] {
        if let Some(v) = top.shift_remove(k) {
            if ext.contains_key(k) {
                put_extra(card, k.into(), v, w);
            } else {
                ext.insert(k.to_string(), v);
            }
        }
    }
    top.insert("extensions".into(), Value::Object(ext));
    // Known data keys are read; the rest stay at the top level.
    let mut data = Map::new();
    let keys: Vec<String> = top.keys().cloned().collect();
    for k in keys {
        if is_data_key(&k) {
            let v = top.shift_remove(&k).unwrap();
            data.insert(k, v);
        }
    }
    read_data(data, card, limits, w, true)?;
    for (k, v) in top {
        put_extra(card, k, v, w);
    }
    Ok(())
}

fn is_data_key(k: &str) -> bool {
    matches!(
        k,
        "name"
            | "description"
            | "personality"
            | "scenario"
            | "first_mes"
            | "mes_example"
            | "creator_notes"
            | "system_prompt"
            | "post_history_instructions"
            | "alternate_greetings"
            | "character_book"
            | "tags"
            | "creator"
            | "character_version"
            | "extensions"
            | "group_only_greetings"
            | "assets"
            | "nickname"
            | "creator_notes_multilingual"
            | "source"
            | "creation_date"
            | "modification_date"
    )
}

/// Top-level keys next to `data` in a V2/V3 object. The V1 mirrors (and ST's
/// `creatorcomment`/`tags`/`talkativeness`/`fav`) are dropped when they equal the
/// `data` value — the V2 backfill rewrites them — and kept with a warning otherwise.
fn absorb_mirrors(top: Map<String, Value>, card: &mut Card, w: &mut Warnings) {
    for (k, v) in top {
        let same = match k.as_str() {
            "name" => lenient::string(&v).as_deref() == Some(card.name.as_str()),
            "description" => lenient::string(&v).as_deref() == Some(card.description.as_str()),
            "personality" => lenient::string(&v).as_deref() == Some(card.personality.as_str()),
            "scenario" => lenient::string(&v).as_deref() == Some(card.scenario.as_str()),
            "first_mes" => lenient::string(&v).as_deref() == Some(card.first_mes.as_str()),
            "mes_example" => lenient::string(&v).as_deref() == Some(card.mes_example.as_str()),
            "creatorcomment" => lenient::string(&v).as_deref() == Some(card.creator_notes.as_str()),
            "tags" => lenient::string_list(&v, true).map(|x| x.0).as_deref() == Some(card.tags.as_slice()),
            "talkativeness" => {
                let ext = card.extensions.get("talkativeness").and_then(lenient::float);
                ext.is_some() && lenient::float(&v) == ext
            }
            "fav" => {
                let ext = card.extensions.get("fav").and_then(lenient::boolean);
                ext.is_some() && lenient::boolean(&v) == ext
            }
            _ => false,
        };
        if !same {
            if V1_FIELDS.contains(&k.as_str()) || k == "creatorcomment" || k == "tags" {
                w.push(
                    "mirror_differs",
                    format!("top-level `{k}` differs from data.{k}; data wins, the top-level value is kept"),
                );
            }
            put_extra(card, k, v, w);
        }
    }
}

fn string_field(k: &str, v: &mut Value, w: &mut Warnings) -> Option<String> {
    match v {
        Value::String(s) => {
            if (k == "character_version" || k == "creator") && (s == "undefined" || s == "null") {
                w.push("literal_undefined", format!("the card's `{k}` held the placeholder text `{s}`; read as empty"));
                return Some(String::new());
            }
            Some(std::mem::take(s))
        }
        Value::Null => Some(String::new()),
        Value::Number(_) | Value::Bool(_) => {
            w.push(
                "number_as_string",
                format!("the card's `{k}` was a {} instead of text; converted to text", if v.is_number() { "number" } else { "true/false value" }),
            );
            lenient::string(v)
        }
        _ => None,
    }
}

fn list_field(k: &str, v: &Value, csv: bool, w: &mut Warnings) -> Option<Vec<String>> {
    let (list, lossy) = lenient::string_list(v, csv)?;
    if lossy {
        let what = match v {
            Value::String(_) if csv => "a comma-separated text; split into a list",
            Value::String(_) => "a single text; read as a one-item list",
            _ => "a list with items that were not text; numbers were converted to text, other items dropped",
        };
        w.push(&format!("{k}_coerced"), format!("the card's `{k}` was {what}"));
    }
    Some(list)
}

fn date_field(k: &str, v: &Value, w: &mut Warnings) -> Option<i64> {
    let secs = match v {
        Value::Number(_) => lenient::int(v)?,
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                let t = decode::parse_iso8601(s)?;
                w.push("date_iso", format!("the card's `{k}` was a date text; converted to a timestamp"));
                return Some(t);
            }
        },
        _ => return None,
    };
    if secs > 100_000_000_000 {
        w.push("date_milliseconds", format!("the card's `{k}` was in milliseconds; converted to seconds"));
        return Some(secs / 1000);
    }
    Some(secs)
}

/// Fills `card` from a `data`-shaped object, normalising quirks. Unknown keys go to
/// `card.data_extra` (or `card.extra` when `v1`, since V1 has no `data` object).
pub(crate) fn read_data(
    data: Map<String, Value>,
    card: &mut Card,
    limits: &Limits,
    w: &mut Warnings,
    v1: bool,
) -> Result<(), Error> {
    let mut saw_extensions = false;
    for (k, mut v) in data {
        let ok: bool = match k.as_str() {
            "name"
            | "description"
            | "personality"
            | "scenario"
            | "first_mes"
            | "mes_example"
            | "creator_notes"
            | "system_prompt"
            | "post_history_instructions"
            | "creator"
            | "character_version" => match string_field(&k, &mut v, w) {
                Some(s) => {
                    let slot = match k.as_str() {
                        "name" => &mut card.name,
                        "description" => &mut card.description,
                        "personality" => &mut card.personality,
                        "scenario" => &mut card.scenario,
                        "first_mes" => &mut card.first_mes,
                        "mes_example" => &mut card.mes_example,
                        "creator_notes" => &mut card.creator_notes,
                        "system_prompt" => &mut card.system_prompt,
                        "post_history_instructions" => &mut card.post_history_instructions,
                        "creator" => &mut card.creator,
                        _ => &mut card.character_version,
                    };
                    *slot = s;
                    true
                }
                None => false,
            },
            "alternate_greetings" => list_field(&k, &v, false, w).map(|l| card.alternate_greetings = l).is_some(),
            "group_only_greetings" => list_field(&k, &v, false, w).map(|l| card.group_only_greetings = l).is_some(),
            "tags" => list_field(&k, &v, true, w).map(|l| card.tags = l).is_some(),
            "source" => match v {
                Value::Null => true,
                _ => list_field(&k, &v, false, w).map(|l| card.source = Some(l)).is_some(),
            },
            "nickname" => match v {
                Value::Null => true,
                _ => lenient::string(&v).map(|s| card.nickname = Some(s)).is_some(),
            },
            "creation_date" | "modification_date" => {
                if v.is_null() {
                    true
                } else {
                    match date_field(&k, &v, w) {
                        Some(t) => {
                            if k == "creation_date" {
                                card.creation_date = Some(t)
                            } else {
                                card.modification_date = Some(t)
                            }
                            true
                        }
                        None => {
                            w.push("date_unreadable", format!("data.{k} is not a date we can read; kept as is"));
                            false
                        }
                    }
                }
            }
            "creator_notes_multilingual" => match &v {
                Value::Null => true,
                Value::Object(m) if m.values().all(Value::is_string) => {
                    card.creator_notes_multilingual = Some(m.clone());
                    true
                }
                _ => false,
            },
            "assets" => match &v {
                Value::Null => true,
                Value::Array(items) if items.iter().all(Value::is_object) => {
                    card.assets = Some(items.iter().filter_map(|a| Asset::from_value(a, w)).collect());
                    true
                }
                _ => {
                    w.push("assets_unreadable", "data.assets is not a list of objects; kept as is");
                    false
                }
            },
            "character_book" => match v {
                Value::Null => {
                    w.push("character_book_null", "the card's lorebook was empty (null); read as no lorebook");
                    true
                }
                Value::Object(_) | Value::Array(_) => {
                    card.character_book = Some(Lorebook::from_owned(v, &limits.lorebook(), w)?);
                    continue;
                }
                _ => false,
            },
            "extensions" => {
                saw_extensions = true;
                match v {
                    Value::Object(m) => {
                        card.extensions = m;
                        continue;
                    }
                    Value::Null => {
                        w.push("extensions_null", "the card's extensions were empty (null); read as none");
                        true
                    }
                    _ => {
                        w.push("extensions_invalid", "data.extensions is not an object; kept under its key, set to {}");
                        card.data_extra.insert("extensions_original".into(), v.clone());
                        true
                    }
                }
            }
            _ => false,
        };
        if !ok {
            if v1 {
                put_extra(card, k, v, w);
            } else {
                card.data_extra.insert(k, v);
            }
        }
    }
    if !saw_extensions && !v1 {
        w.push("extensions_missing", "the card had no extensions field; an empty one was added");
    }
    Ok(())
}

/// Loosely typed SillyTavern settings: `talkativeness` as a string, `fav` as a string, `depth_prompt.depth` as `""`,
/// `depth_prompt.role` as a number.
fn normalise_extensions(card: &mut Card, w: &mut Warnings) {
    let ext = &mut card.extensions;
    if let Some(t) = ext.get_mut("talkativeness") {
        if !t.is_number() {
            let parsed = lenient::float(t);
            let new = parsed.unwrap_or(0.5);
            w.push("talkativeness_coerced", format!("the talkativeness setting was {t}; read as {new}"));
            *t = lenient::num_f64(new);
        }
    }
    if let Some(f) = ext.get_mut("fav") {
        if !f.is_boolean() {
            if let Some(b) = lenient::boolean(f) {
                w.push("fav_coerced", format!("extensions.fav was {f}; read as {b}"));
                *f = b.into();
            }
        }
    }
    if let Some(Value::Object(dp)) = ext.get_mut("depth_prompt") {
        if let Some(d) = dp.get_mut("depth") {
            if !d.is_i64() && !d.is_u64() {
                let n = lenient::int(d).unwrap_or(4);
                w.push(
                    "depth_prompt_depth_coerced",
                    format!("the character note depth was {d}; read as {n}"),
                );
                *d = n.into();
            }
        }
        if let Some(r) = dp.get_mut("role") {
            if !r.is_string() {
                let role = match lenient::int(r) {
                    Some(1) => "user",
                    Some(2) => "assistant",
                    _ => "system",
                };
                w.push(
                    "depth_prompt_role_coerced",
                    format!("the character note role was {r}; read as {role}"),
                );
                *r = role.into();
            }
        }
        if let Some(p) = dp.get_mut("prompt") {
            if p.is_null() {
                *p = "".into();
            }
        }
    }
}

/// Agnai native character export.
fn read_agnai(mut top: Map<String, Value>, card: &mut Card, limits: &Limits, w: &mut Warnings) -> Result<(), Error> {
    let mut agnai = Map::new();
    let take_str = |top: &mut Map<String, Value>, k: &str| top.shift_remove(k).and_then(|v| lenient::string(&v));
    card.name = take_str(&mut top, "name").unwrap_or_default();
    card.first_mes = take_str(&mut top, "greeting").unwrap_or_default();
    card.scenario = take_str(&mut top, "scenario").unwrap_or_default();
    card.mes_example = take_str(&mut top, "sampleChat").unwrap_or_default();
    card.creator_notes = take_str(&mut top, "description").unwrap_or_default();
    card.system_prompt = take_str(&mut top, "systemPrompt").unwrap_or_default();
    card.post_history_instructions = take_str(&mut top, "postHistoryInstructions").unwrap_or_default();
    card.creator = take_str(&mut top, "creator").unwrap_or_default();
    card.character_version = take_str(&mut top, "characterVersion").unwrap_or_default();
    if let Some(v) = top.shift_remove("alternateGreetings") {
        card.alternate_greetings = list_field("alternate_greetings", &v, false, w).unwrap_or_default();
    }
    if let Some(v) = top.shift_remove("tags") {
        card.tags = list_field("tags", &v, true, w).unwrap_or_default();
    }
    if let Some(Value::Object(m)) = top.shift_remove("extensions") {
        card.extensions = m;
    }
    if let Some(p) = top.shift_remove("persona") {
        card.description = render_agnai_persona(&card.name, &p);
        agnai.insert("persona".into(), p);
    }
    if let Some(b) = top.shift_remove("characterBook") {
        if !b.is_null() {
            let book = crate::lorebook::formats::lorebook_from_json_value(&b, limits, w)?.0;
            card.character_book = Some(book);
        }
    }
    if let Some(Value::Object(ins)) = top.shift_remove("insert") {
        let mut dp = Map::new();
        dp.insert("prompt".into(), ins.get("prompt").cloned().unwrap_or_else(|| "".into()));
        dp.insert("depth".into(), ins.get("depth").and_then(lenient::int).unwrap_or(4).into());
        dp.insert("role".into(), "system".into());
        card.extensions.entry("depth_prompt".to_string()).or_insert(Value::Object(dp));
    }
    for k in ["voice", "appearance", "json", "sprite", "avatar", "_id", "kind", "userId"] {
        if let Some(v) = top.shift_remove(k) {
            agnai.insert(k.into(), v);
        }
    }
    for (k, v) in top {
        agnai.insert(k, v);
    }
    card.extensions.insert("agnai".into(), Value::Object(agnai));
    Ok(())
}

/// Renders an Agnai persona to description text (plain text, or W++ for attributes).
fn render_agnai_persona(name: &str, p: &Value) -> String {
    let kind = p.get("kind").and_then(Value::as_str).unwrap_or("text");
    let attrs = p.get("attributes").and_then(Value::as_object);
    if kind == "text" {
        return attrs
            .and_then(|a| a.get("text"))
            .and_then(|t| t.as_array())
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
    }
    let Some(attrs) = attrs else { return String::new() };
    let mut s = format!("[character(\"{name}\") {{\n");
    for (k, v) in attrs {
        let vals: Vec<String> = v
            .as_array()
            .map(|a| a.iter().filter_map(lenient::string).map(|x| format!("\"{x}\"")).collect())
            .unwrap_or_default();
        s.push_str(&format!("{k}({})\n", vals.join(" + ")));
    }
    s.push_str("}]");
    s
}
