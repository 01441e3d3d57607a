//! Zip-based card formats: CharX (`card.json` + assets, also appended to a JPEG)
//! and BYAF (Backyard Archive Format v1).
//!
//! # CharX
//!
//! `card.json` at the root is a V3 card (V2 tolerated). Assets are other zip entries,
//! referenced from `data.assets[].uri` as `embeded://<entry name>` (spelled with one
//! "d" on purpose; `embedded://` is accepted too). RisuAI also stores
//! `module.risum` and `x_meta/*.json`; every non-card entry is returned as an
//! [`AssetFile`] so a CharX → CharX export keeps them byte-identical.
//!
//! # BYAF
//!
//! `manifest.json` → `characters/<id>/character.json` + `scenarios/*.json`.
//! Mapping to V3: sampler settings and chat messages
//! are kept under `extensions.backyard`, and Backyard's single-brace macros
//! (`{character}`, `{user}`, `#{character}:`) become `{{char}}`/`{{user}}`.

use serde_json::{Map, Value};

use crate::card::json::card_from_json_value;
use crate::card::lenient;
use crate::card::limits::{Budget, Limits};
use crate::card::model::{Asset, Card};
use crate::card::warning::Warnings;
use crate::card::zip::Archive;
use crate::card::{decode, AssetFile, SourceSpec};
use crate::error::{Error, ErrorCode};
use crate::lorebook::{Lorebook, LorebookEntry};

/// What kind of zip this is.
pub fn zip_kind(a: &Archive<'_>) -> Option<&'static str> {
    if a.entries.iter().any(|e| e.name == "card.json") || a.find("card.json").is_some() {
        Some("charx")
    } else if a.find("manifest.json").is_some() {
        Some("byaf")
    } else {
        None
    }
}

/// Normalises a CharX asset URI to a zip entry name: accepts `embeded://` and
/// `embedded://` in any case, strips leading `/` and `./`, turns `\` into `/`.
pub fn embedded_path(uri: &str) -> Option<String> {
    let b = uri.as_bytes();
    // The prefixes are ASCII, so a match ends on a char boundary.
    let rest = if b.len() >= 10 && b[..10].eq_ignore_ascii_case(b"embeded://") {
        &uri[10..]
    } else if b.len() >= 11 && b[..11].eq_ignore_ascii_case(b"embedded://") {
        &uri[11..]
    } else {
        return None;
    };
    let mut p = rest.replace('\\', "/");
    while let Some(s) = p.strip_prefix("./").or_else(|| p.strip_prefix('/')) {
        p = s.to_string();
    }
    Some(p)
}

/// Reads a CharX archive.
pub fn read_charx(
    a: &Archive<'_>,
    limits: &Limits,
    budget: &mut Budget,
    w: &mut Warnings,
) -> Result<(Card, SourceSpec, Vec<AssetFile>), Error> {
    let entry = a.find("card.json").ok_or_else(|| Error::new(ErrorCode::NotACard, "CharX: no card.json"))?.clone();
    let bytes = a.read(&entry, limits.max_json_bytes, budget, w)?;
    let v = decode::parse_json(&bytes, "CharX card.json", limits, w)?;
    let (mut card, spec) = card_from_json_value(v, limits, None, w)?;
    let mut files = Vec::new();
    for e in &a.entries {
        if e.name == entry.name || e.name.ends_with('/') {
            continue;
        }
        let data = a.read(e, limits.max_decompressed_bytes, budget, w)?;
        files.push(AssetFile { path: e.name.clone(), bytes: data });
    }
    // Resolve asset URIs (exact name first, then case-insensitively); normalise spelling
    // variants to the canonical `embeded://`.
    if let Some(assets) = card.assets.as_mut() {
        let exact: std::collections::HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
        let folded: std::collections::HashMap<String, &str> =
            files.iter().map(|f| (f.path.to_ascii_lowercase(), f.path.as_str())).collect();
        for asset in assets.iter_mut() {
            let Some(path) = embedded_path(&asset.uri) else { continue };
            let found = if exact.contains(path.as_str()) {
                Some(path.clone())
            } else {
                folded.get(&path.to_ascii_lowercase()).map(|p| p.to_string())
            };
            match found {
                Some(p) => {
                    let canonical = format!("embeded://{p}");
                    if asset.uri != canonical {
                        w.push(
                            "asset_uri_normalised",
                            format!("asset address `{}` was corrected to `{canonical}`", asset.uri),
                        );
                        asset.uri = canonical;
                    }
                }
                None => w.push(
                    "asset_missing",
                    format!("asset `{}` ({}) is not in the archive; the reference is kept", asset.name, asset.uri),
                ),
            }
        }
    }
    Ok((card, spec, files))
}

/// Backyard → Tavern macros: `{character}` → `{{char}}`, `{user}` → `{{user}}`,
/// `#{character}:` → `{{char}}:`, `#{user}:` → `{{user}}:` (case-insensitive;
/// double-braced text is left alone).
pub fn byaf_macros_to_tavern(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let hash = b[i] == b'#' && b.get(i + 1) == Some(&b'{');
        let at = if hash { i + 1 } else { i };
        if b[at] == b'{' && (at == 0 || b[at - 1] != b'{') && b.get(at + 1) != Some(&b'{') {
            let rest = &b[at + 1..];
            let mut hit = None;
            for (name, repl) in [("character}", "{{char}}"), ("user}", "{{user}}")] {
                let n = name.len();
                if rest.len() >= n
                    && rest[..n].eq_ignore_ascii_case(name.as_bytes())
                    && b.get(at + 1 + n) != Some(&b'}')
                {
                    hit = Some((at + 1 + n, repl));
                    break;
                }
            }
            if let Some((after, repl)) = hit {
                if hash && b.get(after) != Some(&b':') {
                    out.push('#');
                }
                out.push_str(repl);
                i = after;
                continue;
            }
        }
        let ch = s[i..].chars().next().unwrap_or('\u{FFFD}');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// A Backyard lore item `{key, value, ...}` as a lorebook entry (keys split on
/// commas, macros translated); other fields are kept on the entry.
pub(crate) fn lore_item_entry(item: &Value, i: usize, w: &mut Warnings) -> LorebookEntry {
    let mut o = Map::new();
    o.insert("keys".into(), lenient::csv(&str_of(item, "key")).into());
    o.insert("content".into(), byaf_macros_to_tavern(&str_of(item, "value")).into());
    o.insert("enabled".into(), true.into());
    o.insert("insertion_order".into(), (i as i64).into());
    o.insert("use_regex".into(), false.into());
    o.insert("extensions".into(), Value::Object(Map::new()));
    for (k, v) in item.as_object().into_iter().flatten() {
        if k != "key" && k != "value" {
            o.entry(format!("backyard_{k}")).or_insert_with(|| v.clone());
        }
    }
    LorebookEntry::from_value(&Value::Object(o), i, w)
}

fn str_of(v: &Value, k: &str) -> String {
    v.get(k).and_then(lenient::string).unwrap_or_default()
}

/// Reads a BYAF archive.
pub fn read_byaf(
    a: &Archive<'_>,
    limits: &Limits,
    budget: &mut Budget,
    w: &mut Warnings,
) -> Result<(Card, SourceSpec, Vec<AssetFile>), Error> {
    let json_at = |path: &str, budget: &mut Budget, w: &mut Warnings| -> Result<Value, Error> {
        let e =
            a.find(path).ok_or_else(|| Error::new(ErrorCode::NotACard, format!("BYAF: `{path}` is missing")))?.clone();
        let b = a.read(&e, limits.max_json_bytes, budget, w)?;
        decode::parse_json(&b, path, limits, w)
    };
    let manifest = json_at("manifest.json", budget, w)?;
    if manifest.get("schemaVersion").is_none() {
        return Err(Error::new(ErrorCode::NotACard, "zip with manifest.json but no schemaVersion: not a BYAF archive"));
    }
    let char_path = manifest
        .get("characters")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .ok_or_else(|| Error::new(ErrorCode::NotACard, "BYAF: manifest lists no character"))?
        .to_string();
    if char_path.split('/').any(|p| p == "..") {
        return Err(Error::new(ErrorCode::NotACard, "BYAF: character path escapes the archive"));
    }
    let ch = json_at(&char_path, budget, w)?;
    let char_dir = char_path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    let mut scenarios = Vec::new();
    for p in manifest.get("scenarios").and_then(Value::as_array).into_iter().flatten() {
        if let Some(p) = p.as_str() {
            match json_at(p, budget, w) {
                Ok(s) => scenarios.push(s),
                Err(e) => w.push("byaf_scenario_unreadable", format!("BYAF scenario `{p}`: {}", e.message())),
            }
        }
    }
    let mut card = Card::default();
    let name = str_of(&ch, "name");
    card.name = if name.is_empty() { str_of(&ch, "displayName") } else { name };
    card.description = byaf_macros_to_tavern(&str_of(&ch, "persona"));
    if let Some(dn) = ch.get("displayName").and_then(Value::as_str) {
        card.extensions.insert("display_name".into(), dn.into());
    }
    if ch.get("isNSFW").and_then(lenient::boolean) == Some(true) {
        card.tags.push("nsfw".into());
    }
    if let Some(author) = manifest.get("author") {
        card.creator = str_of(author, "name");
        card.creator_notes = str_of(author, "backyardURL");
    }
    card.creation_date = ch.get("createdAt").and_then(Value::as_str).and_then(decode::parse_iso8601);
    card.modification_date = ch.get("updatedAt").and_then(Value::as_str).and_then(decode::parse_iso8601);
    let mut backyard = Map::new();
    if let Some(s0) = scenarios.first() {
        card.scenario = byaf_macros_to_tavern(&str_of(s0, "narrative"));
        card.system_prompt = byaf_macros_to_tavern(&str_of(s0, "formattingInstructions"));
        let first = |s: &Value| {
            s.get("firstMessages")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .map(|m| byaf_macros_to_tavern(&str_of(m, "text")))
        };
        card.first_mes = first(s0).unwrap_or_default();
        for s in scenarios.iter().skip(1) {
            if let Some(g) = first(s) {
                if g != card.first_mes && !card.alternate_greetings.contains(&g) {
                    card.alternate_greetings.push(g);
                }
            }
        }
        let mut ex = String::new();
        for m in s0.get("exampleMessages").and_then(Value::as_array).into_iter().flatten() {
            ex.push_str("<START>\n");
            ex.push_str(&byaf_macros_to_tavern(&str_of(m, "text")));
            ex.push('\n');
        }
        card.mes_example = ex.trim_end().to_string();
        for (k, v) in s0.as_object().into_iter().flatten() {
            if !matches!(
                k.as_str(),
                "narrative" | "formattingInstructions" | "firstMessages" | "exampleMessages" | "schemaVersion"
            ) {
                backyard.insert(k.clone(), v.clone());
            }
        }
        if scenarios.len() > 1 {
            backyard.insert("scenarios".into(), Value::Array(scenarios[1..].to_vec()));
        }
    }
    let lore = ch.get("loreItems").and_then(Value::as_array).cloned().unwrap_or_default();
    if !lore.is_empty() {
        if lore.len() > limits.max_lorebook_entries {
            return Err(Error::new(ErrorCode::TooLarge, format!("BYAF has {} lore items", lore.len())));
        }
        let mut book = Lorebook::default();
        for (i, item) in lore.iter().enumerate() {
            let e = lore_item_entry(item, i, w);
            book.entries.push(e);
        }
        card.character_book = Some(book);
    }
    // Images: first = main icon, the rest icons; background image from the scenario.
    let mut files = Vec::new();
    let mut assets = Vec::new();
    for (i, img) in ch.get("images").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let rel = str_of(img, "path");
        if rel.split('/').any(|p| p == "..") || rel.is_empty() {
            continue;
        }
        let full = if char_dir.is_empty() { rel.clone() } else { format!("{char_dir}/{rel}") };
        let Some(e) = a.find(&full).cloned() else {
            w.push("asset_missing", format!("BYAF image `{full}` is not in the archive"));
            continue;
        };
        let bytes = a.read(&e, limits.max_decompressed_bytes, budget, w)?;
        let ext = full.rsplit_once('.').map_or("unknown", |(_, x)| x).to_ascii_lowercase();
        let label = str_of(img, "label");
        assets.push(Asset {
            kind: "icon".into(),
            uri: format!("embeded://{}", e.name),
            name: if i == 0 {
                "main".into()
            } else if label.is_empty() {
                format!("image{i}")
            } else {
                label
            },
            ext,
            extra: Map::new(),
        });
        files.push(AssetFile { path: e.name.clone(), bytes });
    }
    if let Some(bg) = scenarios.first().and_then(|s| s.get("backgroundImage")).and_then(Value::as_str) {
        if let Some(e) = a.find(bg).cloned() {
            let bytes = a.read(&e, limits.max_decompressed_bytes, budget, w)?;
            let ext = bg.rsplit_once('.').map_or("unknown", |(_, x)| x).to_ascii_lowercase();
            assets.push(Asset {
                kind: "background".into(),
                uri: format!("embeded://{}", e.name),
                name: "main".into(),
                ext,
                extra: Map::new(),
            });
            files.push(AssetFile { path: e.name.clone(), bytes });
        }
    }
    if !assets.is_empty() {
        card.assets = Some(assets);
    }
    let mut char_extra = Map::new();
    for (k, v) in ch.as_object().into_iter().flatten() {
        if !card.backyard_date_read(k)
            && !matches!(
                k.as_str(),
                "name" | "displayName" | "persona" | "isNSFW" | "loreItems" | "images" | "schemaVersion"
            )
        {
            char_extra.insert(k.clone(), v.clone());
        }
    }
    if !char_extra.is_empty() {
        backyard.insert("character".into(), Value::Object(char_extra));
    }
    card.extensions.insert("backyard".into(), Value::Object(backyard));
    Ok((card, SourceSpec::Byaf, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backyard_macros() {
        assert_eq!(byaf_macros_to_tavern("Hi {user}, I am {Character}."), "Hi {{user}}, I am {{char}}.");
        assert_eq!(byaf_macros_to_tavern("#{character}: hey\n#{user}: yo"), "{{char}}: hey\n{{user}}: yo");
        assert_eq!(byaf_macros_to_tavern("{{user}} stays {{char}}"), "{{user}} stays {{char}}");
        assert_eq!(byaf_macros_to_tavern("ünï {x} {user"), "ünï {x} {user");
    }

    #[test]
    fn embedded_uri_variants() {
        assert_eq!(embedded_path("embeded://assets/a.png").as_deref(), Some("assets/a.png"));
        assert_eq!(embedded_path("Embedded://./assets\\a.png").as_deref(), Some("assets/a.png"));
        assert_eq!(embedded_path("ccdefault:"), None);
    }
}
