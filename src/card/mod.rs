//! Character card codec: import every card format people have, export
//! V3 PNG / JSON / CharX, losing nothing.
//!
//! # Pipeline
//!
//! [`import_card`] sniffs the **content** (never the file name):
//!
//! | first bytes | container | reader |
//! |---|---|---|
//! | `89 50 4E 47 …` | PNG/APNG | [`png`]: `ccv3`/`chara` in tEXt/zTXt/iTXt anywhere |
//! | `FF D8 FF` | JPEG (+ appended CharX zip) | [`zip`] + [`archive`] |
//! | `50 4B 03 04` | zip: CharX (`card.json`) or BYAF (`manifest.json`) | [`archive`] |
//! | `{` | JSON: V1/V2/V3, SillyTavern, Pygmalion, Agnai | [`json`] |
//! | `RIFF….WEBP` | WebP, card in EXIF `UserComment` (legacy TavernAI) | `exif` |
//! | other UTF-8 text | Oobabooga YAML | [`yaml`] |
//!
//! Every flavour lands in the one V3 [`Card`] model. Quirks are normalised and
//! reported as [`Warning`]s written for the person importing the card; unknown fields and
//! `extensions` survive. Failures are typed [`Error`]s: `not_a_card`, `truncated`,
//! `bad_json`, `too_large`, `unsupported_format`. No input makes the reader panic
//! or allocate past the [`Limits`].
//!
//! [`export`] writes PNG (`chara` V2 backfill + `ccv3`), JSON V2/V3 and CharX.

pub mod archive;
pub mod bigint;
pub mod decode;
pub mod export;
pub mod json;
pub mod lenient;
pub mod limits;
pub mod model;
pub mod typecheck;
pub mod png;
pub(crate) mod ser;
pub mod warning;
pub mod yaml;
pub mod zip;

mod exif;

pub use json::card_from_json_value;
pub use limits::Limits;
pub use model::{Asset, Card};
pub use warning::{Warning, Warnings};

use crate::error::{Error, ErrorCode};
use limits::Budget;

/// The container a card came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PNG / APNG with text chunks.
    Png,
    /// A JSON file.
    Json,
    /// An Oobabooga YAML file.
    Yaml,
    /// A CharX zip.
    Charx,
    /// A CharX zip appended to a JPEG (RisuAI "CharX embedded JPEG").
    CharxJpeg,
    /// A Backyard Archive (BYAF).
    Byaf,
    /// A WebP image with the card in EXIF `UserComment` (legacy TavernAI).
    Webp,
}

impl Format {
    /// Stable string (`png`, `json`, `yaml`, `charx`, `charx_jpeg`, `byaf`, `webp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Json => "json",
            Format::Yaml => "yaml",
            Format::Charx => "charx",
            Format::CharxJpeg => "charx_jpeg",
            Format::Byaf => "byaf",
            Format::Webp => "webp",
        }
    }
}

/// The card flavour the data was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceSpec {
    /// Character Card V1 (flat TavernAI JSON, also SillyTavern without `spec`).
    V1,
    /// Character Card V2.
    V2,
    /// Character Card V3.
    V3,
    /// Pygmalion / Gradio / old TextGen (`char_name`, …).
    Pygmalion,
    /// Oobabooga text-generation-webui YAML.
    Oobabooga,
    /// Agnai native export.
    Agnai,
    /// Backyard Archive Format.
    Byaf,
    /// Backyard/Faraday legacy PNG (EXIF UserComment).
    BackyardLegacy,
}

impl SourceSpec {
    /// Stable string (`chara_card_v1`, `chara_card_v2`, `chara_card_v3`, `pygmalion`,
    /// `oobabooga`, `agnai`, `byaf`, `backyard_legacy`).
    pub fn as_str(self) -> &'static str {
        match self {
            SourceSpec::V1 => "chara_card_v1",
            SourceSpec::V2 => "chara_card_v2",
            SourceSpec::V3 => "chara_card_v3",
            SourceSpec::Pygmalion => "pygmalion",
            SourceSpec::Oobabooga => "oobabooga",
            SourceSpec::Agnai => "agnai",
            SourceSpec::Byaf => "byaf",
            SourceSpec::BackyardLegacy => "backyard_legacy",
        }
    }
}

/// A file that came with the card: a zip entry (CharX/BYAF; `path` is the entry
/// name, referenced as `embeded://<path>`), or a PNG `chara-ext-asset_:N` chunk
/// (`path` is `__asset:N`). CharX entries that are not assets (`module.risum`,
/// `x_meta/*`) are included too, so they can be written back unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetFile {
    /// Zip entry name, or `__asset:N`.
    pub path: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Options for [`import_card`].
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Safety limits.
    pub limits: Limits,
    /// The file name, used only as the card name when the card has none.
    pub file_name: Option<String>,
}

/// A successfully imported card.
#[derive(Debug, Clone)]
pub struct ImportedCard {
    /// The container.
    pub format: Format,
    /// The flavour.
    pub source_spec: SourceSpec,
    /// The card, normalised to the V3 model.
    pub card: Card,
    /// Files that came with it (see [`AssetFile`]).
    pub assets: Vec<AssetFile>,
    /// Every fix-up applied.
    pub warnings: Vec<Warning>,
}

/// Sniffed kind of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniff {
    /// PNG signature.
    Png,
    /// JPEG SOI.
    Jpeg,
    /// Zip local header (or empty zip).
    Zip,
    /// WebP (RIFF…WEBP).
    Webp,
    /// RisuAI module.
    Risum,
    /// JSON object (after BOM/whitespace).
    Json,
    /// Other text.
    Text,
    /// Binary we do not know.
    Unknown,
}

/// Looks at the first bytes.
pub fn sniff(bytes: &[u8]) -> Sniff {
    if bytes.starts_with(png::SIGNATURE) {
        return Sniff::Png;
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Sniff::Jpeg;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Sniff::Zip;
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Sniff::Webp;
    }
    if bytes.len() >= 2 && bytes[0] == 111 && bytes[1] == 0 {
        return Sniff::Risum;
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') || first == Some(&b'[') {
        return Sniff::Json;
    }
    // Text: no NULs and mostly valid UTF-8 in the first 4 KiB.
    let head = &body[..body.len().min(4096)];
    if !head.is_empty() && !head.contains(&0) {
        let valid = match std::str::from_utf8(head) {
            Ok(_) => true,
            Err(e) => e.valid_up_to() + 4 >= head.len() && e.error_len().is_none(),
        };
        if valid {
            return Sniff::Text;
        }
    }
    Sniff::Unknown
}

/// Imports a card from file bytes. See the module docs for the formats.
pub fn import_card(bytes: &[u8], opts: &ImportOptions) -> Result<ImportedCard, Error> {
    let limits = &opts.limits;
    if bytes.len() > limits.max_input_bytes {
        return Err(Error::new(
            ErrorCode::TooLarge,
            format!("the input is {} bytes; the limit is {}", bytes.len(), limits.max_input_bytes),
        ));
    }
    let mut w = Warnings::default();
    let mut budget = Budget::new(limits);
    let fname = opts.file_name.as_deref();
    let (format, spec, card, assets) = match sniff(bytes) {
        Sniff::Png => {
            let (spec, card, assets) = import_png(bytes, limits, &mut budget, fname, &mut w)?;
            (Format::Png, spec, card, assets)
        }
        Sniff::Jpeg => {
            if !zip::has_zip(bytes) {
                return Err(Error::new(ErrorCode::NotACard, "a JPEG without an embedded CharX archive holds no card"));
            }
            let a = zip::Archive::open(bytes, limits)?;
            if archive::zip_kind(&a) != Some("charx") {
                return Err(Error::new(ErrorCode::NotACard, "the zip inside the JPEG has no card.json"));
            }
            let (card, spec, files) = archive::read_charx(&a, limits, &mut budget, &mut w)?;
            (Format::CharxJpeg, spec, card, files)
        }
        Sniff::Zip => {
            let a = zip::Archive::open(bytes, limits)?;
            match archive::zip_kind(&a) {
                Some("charx") => {
                    let (card, spec, files) = archive::read_charx(&a, limits, &mut budget, &mut w)?;
                    (Format::Charx, spec, card, files)
                }
                Some(_) => {
                    let (card, spec, files) = archive::read_byaf(&a, limits, &mut budget, &mut w)?;
                    (Format::Byaf, spec, card, files)
                }
                None => {
                    return Err(Error::new(
                        ErrorCode::NotACard,
                        "a zip without card.json (CharX) or manifest.json (BYAF)",
                    ))
                }
            }
        }
        Sniff::Json => {
            let v = decode::parse_json(bytes, "the card JSON", limits, &mut w)?;
            let (card, spec) = json::card_from_json_value(v, limits, fname, &mut w)?;
            (Format::Json, spec, card, Vec::new())
        }
        Sniff::Text => {
            if bytes.len() > limits.max_json_bytes {
                return Err(Error::new(ErrorCode::TooLarge, "the text file is larger than the JSON limit"));
            }
            let text = decode::utf8(bytes, "the YAML file", &mut w);
            let card = yaml::read_oobabooga(&text, &mut w).map_err(|e| {
                if e.code() == ErrorCode::BadJson {
                    Error::new(ErrorCode::NotACard, format!("the text is not a card: {}", e.message()))
                } else {
                    e
                }
            })?;
            (Format::Yaml, SourceSpec::Oobabooga, card, Vec::new())
        }
        Sniff::Webp => {
            let (card, spec) = exif::card_from_webp(bytes, limits, fname, &mut w)?;
            (Format::Webp, spec, card, Vec::new())
        }
        Sniff::Risum => {
            return Err(Error::new(
                ErrorCode::UnsupportedFormat,
                "this is a RisuAI module (.risum), not a character card",
            ))
        }
        Sniff::Unknown => {
            return Err(Error::new(
                ErrorCode::NotACard,
                "unknown file type (no PNG, JPEG, zip, JSON or YAML signature)",
            ))
        }
    };
    Ok(ImportedCard { format, source_spec: spec, card, assets, warnings: w.into_vec() })
}

fn import_png(
    bytes: &[u8],
    limits: &Limits,
    budget: &mut Budget,
    fname: Option<&str>,
    w: &mut Warnings,
) -> Result<(SourceSpec, Card, Vec<AssetFile>), Error> {
    let found = png::collect(bytes, limits, budget, w)?;
    let total = found.ccv3.len() + found.chara.len();
    if total == 0 {
        if let Some(exif) = &found.exif {
            if let Some(r) = exif::backyard_from_exif(exif, limits, w)? {
                return Ok((SourceSpec::BackyardLegacy, r, Vec::new()));
            }
        }
        if let Some(t) = found.truncated {
            return Err(Error::new(ErrorCode::Truncated, format!("{t}, and no card was found before the damage")));
        }
        return Err(Error::new(ErrorCode::NotACard, "the PNG holds no character card"));
    }
    if let Some(t) = &found.truncated {
        w.push("png_truncated", format!("{t}; the card stored before the damage was read"));
    }
    if found.ccv3.len() > 1 || found.chara.len() > 1 {
        w.push(
            "png_duplicate_card_chunks",
            format!(
                "the PNG holds the card more than once ({} V3 and {} V2 copies); the last readable copy was used",
                found.ccv3.len(),
                found.chara.len()
            ),
        );
    }
    let mut last_err: Option<Error> = None;
    for (label, list) in [("ccv3", &found.ccv3), ("chara", &found.chara)] {
        for payload in list.iter().rev() {
            let mut local = Warnings::default();
            let attempt = png::payload_to_json_bytes(payload, limits)
                .and_then(|j| decode::parse_json(&j, &format!("the `{label}` chunk"), limits, &mut local))
                .and_then(|v| json::card_from_json_value(v, limits, fname, &mut local));
            match attempt {
                Ok((card, spec)) => {
                    if let Some(e) = last_err.take() {
                        w.push(
                            "png_card_chunk_skipped",
                            format!("one copy of the card in the PNG was damaged ({}); the card was read from another copy", e.message()),
                        );
                    }
                    w.0.extend(local.0);
                    let assets = png_assets(&card, &found.ext_assets, limits, w);
                    return Ok((spec, card, assets));
                }
                Err(e) if matches!(e.code(), ErrorCode::TooLarge | ErrorCode::UnsupportedFormat) => return Err(e),
                Err(e) => last_err = Some(e),
            }
        }
    }
    Err(last_err.unwrap_or_else(|| Error::new(ErrorCode::NotACard, "no readable card chunk")))
}

/// Decodes RisuAI `chara-ext-asset_:N` chunks into `__asset:N` files.
fn png_assets(card: &Card, chunks: &[(String, Vec<u8>)], _limits: &Limits, w: &mut Warnings) -> Vec<AssetFile> {
    let mut out = Vec::new();
    for (id, text) in chunks {
        match decode::b64_decode_lenient(text) {
            Some(bytes) => out.push(AssetFile { path: format!("__asset:{id}"), bytes }),
            None => w.push("png_asset_unreadable", format!("embedded asset {id} in the PNG is damaged and was skipped")),
        }
    }
    if let Some(assets) = &card.assets {
        for a in assets {
            if let Some(n) = a.uri.strip_prefix("__asset:") {
                if !out.iter().any(|f| f.path[8..] == *n) {
                    w.push(
                        "asset_missing",
                        format!("asset `{}` ({}) is not stored in the PNG; the reference is kept", a.name, a.uri),
                    );
                }
            }
        }
    }
    out
}
