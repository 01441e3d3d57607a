//! Card writers: PNG (V3 `ccv3` + V2 `chara` backfill), JSON V3/V2, CharX.
//!
//! Writer rules:
//! * PNG: old `chara`/`ccv3`/`chara-ext-asset_*` chunks are removed from the avatar,
//!   then `tEXt chara` (V2 backfill with the V1 fields at the top level), `tEXt ccv3`
//!   (full V3) and any RisuAI `chara-ext-asset_:N` chunks are inserted before `IEND`
//!   (or before the first other text chunk, so "first tEXt" readers see the card).
//!   Base64 without line breaks, no BOM. `embeded://` assets become `data:` URIs
//!   (a PNG has no zip to resolve them).
//! * CharX: `card.json` first (deflate), assets at their `embeded://` paths, the icon
//!   as a real file (`ccdefault:` is replaced by `assets/icon/images/main.png`), and
//!   every other file that came with the card (`module.risum`, `x_meta/*`) unchanged.
//! * A card we imported can always be exported: an `embeded://` or `__asset:`
//!   reference whose file is missing (the archive came without it, or the caller did
//!   not pass it) is written back unchanged and reported as an `asset_missing`
//!   warning, as the import did.
//! * PNG size: by default `chara` carries the whole V2 card, lorebook included, so
//!   SillyTavern and other V2-only readers get everything; with
//!   [`ExportOptions::omit_v2_lorebook`] the V2 copy leaves the lorebook out (it is
//!   in `ccv3` once), which halves a lorebook-heavy card.

use serde_json::Value;

use crate::card::archive::embedded_path;
use crate::card::decode::b64_encode;
use crate::card::model::{Asset, Card};
use crate::card::png;
use crate::card::zip;
use crate::card::warning::{Warning, Warnings};
use crate::card::AssetFile;
use crate::error::{Error, ErrorCode};

/// Output formats of [`export_card`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// PNG with `chara` + `ccv3`.
    Png,
    /// Pretty V3 JSON.
    JsonV3,
    /// Pretty V2 JSON (for Agnai and old tools).
    JsonV2,
    /// CharX zip.
    Charx,
}

/// Options for [`export_card`].
#[derive(Debug, Clone, Default)]
pub struct ExportOptions<'a> {
    /// Avatar PNG (PNG export: the carrier; CharX: the main icon). `None` = placeholder.
    pub avatar: Option<&'a [u8]>,
    /// Files that came with the card (from the import), looked up by path.
    pub assets: &'a [AssetFile],
    /// If set, `modification_date` is set to this (unix seconds) on export.
    pub now: Option<i64>,
    /// PNG only: write the V2 `chara` copy without the lorebook (the `ccv3` copy keeps
    /// it). Smaller files; V2-only readers then see the card without its lorebook.
    pub omit_v2_lorebook: bool,
}

/// Exports a card. Lossy steps are dropped; see [`export_card_reporting`].
pub fn export_card(card: &Card, format: ExportFormat, opts: &ExportOptions<'_>) -> Result<Vec<u8>, Error> {
    export_card_reporting(card, format, opts).map(|(bytes, _)| bytes)
}

/// Exports a card and reports what could not be written as asked (e.g. an asset
/// whose file is missing: its reference is kept as it was).
pub fn export_card_reporting(
    card: &Card,
    format: ExportFormat,
    opts: &ExportOptions<'_>,
) -> Result<(Vec<u8>, Vec<Warning>), Error> {
    let mut card = card.clone();
    if let Some(now) = opts.now {
        card.modification_date = Some(now);
    }
    let mut w = Warnings::default();
    let bytes = match format {
        ExportFormat::JsonV3 => serde_json::to_vec_pretty(&card).unwrap_or_default(),
        ExportFormat::JsonV2 => to_pretty(&card.to_v2_value()),
        ExportFormat::Png => export_png(card, opts, &mut w)?,
        ExportFormat::Charx => export_charx(card, opts, &mut w)?,
    };
    Ok((bytes, w.into_vec()))
}

fn to_pretty(v: &Value) -> Vec<u8> {
    // Serialising a Value cannot fail.
    serde_json::to_vec_pretty(v).unwrap_or_default()
}

fn to_compact(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

fn mime_for(ext: &str) -> &'static str {
    match ext.to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "avif" => "image/avif",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        _ => "application/octet-stream",
    }
}

fn find_file<'a>(files: &'a [AssetFile], path: &str) -> Option<&'a AssetFile> {
    files.iter().find(|f| f.path == path).or_else(|| files.iter().find(|f| f.path.eq_ignore_ascii_case(path)))
}

fn missing(asset: &Asset, w: &mut Warnings) {
    w.push(
        "asset_missing",
        format!(
            "asset `{}` ({}) has no file to go with it (it was not in the imported card, or was not passed in); \
             the reference was written as it was",
            asset.name, asset.uri
        ),
    );
}

fn export_png(mut card: Card, opts: &ExportOptions<'_>, w: &mut Warnings) -> Result<Vec<u8>, Error> {
    let mut ext_chunks: Vec<(String, String)> = Vec::new();
    if let Some(assets) = card.assets.as_mut() {
        for a in assets.iter_mut() {
            if let Some(path) = embedded_path(&a.uri) {
                let Some(f) = find_file(opts.assets, &path) else {
                    missing(a, w);
                    continue;
                };
                a.uri = format!("data:{};base64,{}", mime_for(&a.ext), b64_encode(&f.bytes));
            } else if let Some(n) = a.uri.strip_prefix("__asset:") {
                let Some(f) = find_file(opts.assets, &a.uri) else {
                    missing(a, w);
                    continue;
                };
                if !ext_chunks.iter().any(|(k, _)| k[17..] == *n) {
                    ext_chunks.push((format!("chara-ext-asset_:{n}"), b64_encode(&f.bytes)));
                }
            }
        }
    }
    // RisuAI V2 data may reference `__asset:N` from extensions; keep every such chunk we have.
    for f in opts.assets {
        if let Some(n) = f.path.strip_prefix("__asset:") {
            if !ext_chunks.iter().any(|(k, _)| k[17..] == *n) {
                ext_chunks.push((format!("chara-ext-asset_:{n}"), b64_encode(&f.bytes)));
            }
        }
    }
    let mut v2 = card.to_v2_value();
    if opts.omit_v2_lorebook {
        if let Some(data) = v2.get_mut("data").and_then(Value::as_object_mut) {
            data.shift_remove("character_book");
        }
    }
    let chara = b64_encode(&to_compact(&v2));
    let ccv3 = b64_encode(&serde_json::to_vec(&card).unwrap_or_default());
    let placeholder;
    let avatar = match opts.avatar {
        Some(a) => a,
        None => {
            placeholder = png::placeholder_png(&card.name);
            &placeholder
        }
    };
    let mut texts: Vec<(&str, &[u8])> = vec![("chara", chara.as_bytes()), ("ccv3", ccv3.as_bytes())];
    for (k, v) in &ext_chunks {
        texts.push((k.as_str(), v.as_bytes()));
    }
    png::embed_text_chunks(avatar, &texts)
}

/// True for a safe relative zip path (ASCII-ish, no `..`, not absolute).
fn safe_path(p: &str) -> bool {
    !p.is_empty() && !p.starts_with('/') && !p.contains('\\') && !p.split('/').any(|s| s == ".." || s.is_empty())
}

fn export_charx(mut card: Card, opts: &ExportOptions<'_>, w: &mut Warnings) -> Result<Vec<u8>, Error> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut add = |files: &mut Vec<(String, Vec<u8>)>, path: String, bytes: Vec<u8>| {
        if seen.insert(path.clone()) {
            files.push((path, bytes));
        }
    };
    let mut assets = card.assets.take().unwrap_or_else(|| vec![Asset::default_icon()]);
    for a in assets.iter_mut() {
        if a.uri.eq_ignore_ascii_case("ccdefault:") && a.kind == "icon" {
            let bytes = match opts.avatar {
                Some(b) => b.to_vec(),
                None => png::placeholder_png(&card.name),
            };
            let ext = if bytes.starts_with(png::SIGNATURE) {
                "png"
            } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
                "jpeg"
            } else if bytes.len() > 12 && &bytes[8..12] == b"WEBP" {
                "webp"
            } else {
                "png"
            };
            let name = if a.name.is_empty() { "main".to_string() } else { sanitize(&a.name) };
            let path = format!("assets/icon/images/{name}.{ext}");
            a.uri = format!("embeded://{path}");
            a.ext = ext.into();
            add(&mut files, path, bytes);
        } else if let Some(path) = embedded_path(&a.uri) {
            let Some(f) = find_file(opts.assets, &path) else {
                missing(a, w);
                continue;
            };
            if safe_path(&f.path) {
                a.uri = format!("embeded://{}", f.path);
                add(&mut files, f.path.clone(), f.bytes.clone());
            } else {
                // An entry name such as `a//b` or `../x`: store the file under a safe name.
                let ext = if a.ext.is_empty() || a.ext == "unknown" { "bin".to_string() } else { sanitize(&a.ext) };
                let kind = if a.kind.is_empty() { "other".to_string() } else { sanitize(&a.kind) };
                let path = format!("assets/{kind}/other/{}.{ext}", sanitize(&f.path));
                w.push(
                    "asset_renamed",
                    format!("asset `{}` had an unsafe file name `{}` and was stored as `{path}`", a.name, f.path),
                );
                a.uri = format!("embeded://{path}");
                add(&mut files, path, f.bytes.clone());
            }
        } else if let Some(n) = a.uri.strip_prefix("__asset:") {
            let Some(f) = find_file(opts.assets, &a.uri) else {
                missing(a, w);
                continue;
            };
            let ext = if a.ext.is_empty() || a.ext == "unknown" { "bin".to_string() } else { sanitize(&a.ext) };
            let kind = if a.kind.is_empty() { "other".to_string() } else { sanitize(&a.kind) };
            let path = format!("assets/{kind}/images/asset_{}.{ext}", sanitize(n));
            a.uri = format!("embeded://{path}");
            add(&mut files, path, f.bytes.clone());
        }
    }
    card.assets = Some(assets);
    // Other files that came with the card (module.risum, x_meta/*, unreferenced assets).
    for f in opts.assets {
        if f.path.starts_with("__asset:") || f.path == "card.json" {
            continue;
        }
        if safe_path(&f.path) {
            add(&mut files, f.path.clone(), f.bytes.clone());
        }
    }
    let mut wr = zip::Writer::new();
    wr.add("card.json", &serde_json::to_vec_pretty(&card).unwrap_or_default(), true)?;
    for (path, bytes) in &files {
        let media = matches!(
            path.rsplit_once('.').map(|x| x.1),
            Some("png" | "jpg" | "jpeg" | "webp" | "gif" | "mp3" | "mp4" | "ogg" | "webm")
        );
        wr.add(path, bytes, !media)?;
    }
    Ok(wr.finish())
}

fn sanitize(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' })
        .take(100)
        .collect();
    let t = t.trim_matches('.').to_string();
    if t.is_empty() {
        "asset".into()
    } else {
        t
    }
}

impl ExportFormat {
    /// Parses `png`, `json` (= V3), `json_v3`, `json_v2`, `charx`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "png" => ExportFormat::Png,
            "json" | "json_v3" | "v3" => ExportFormat::JsonV3,
            "json_v2" | "v2" => ExportFormat::JsonV2,
            "charx" => ExportFormat::Charx,
            other => return Err(Error::new(ErrorCode::InvalidArgument, format!("unknown export format `{other}`"))),
        })
    }
}
