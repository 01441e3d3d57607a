//! JS API of the card codec: `importCard`, `importCardAsync`, `exportCard`,
//! `importLorebook`, `exportLorebook`. Conversion only; the logic is in
//! [`crate::card`] and [`crate::lorebook`].
//!
//! Cards and lorebooks cross the boundary as JSON text turned into JS objects with
//! `JSON.parse` / `JSON.stringify` (much faster than building objects one property at
//! a time for a 5,000-entry lorebook); bytes cross as `Uint8Array`.

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::card::export::{export_card as core_export, ExportFormat, ExportOptions};
use crate::card::{self, AssetFile, ImportOptions, ImportedCard, Limits, Warning};
use crate::error::{Error, ErrorCode};
use crate::lorebook::{self, LorebookExportFormat};

#[wasm_bindgen(typescript_custom_section)]
const TS_CARD: &'static str = r#"
/** A fix-up applied while reading (or a lossy step while writing). Never fatal. */
export interface CardWarning {
  /** Stable snake_case code, e.g. `"tags_coerced"`, `"lossy_utf8"`, `"empty_name"`. */
  code: string;
  /** Human-readable explanation. */
  message: string;
}

/** Safety limits (bytes unless noted). Every field is optional; defaults in parentheses. */
export interface CardLimits {
  /** Largest input file (256 MiB). */
  maxInputBytes?: number;
  /** Total inflated bytes per import: zTXt/iTXt chunks and zip members (512 MiB). */
  maxDecompressedBytes?: number;
  /** Largest single card/lorebook JSON text (64 MiB). */
  maxJsonBytes?: number;
  /** Most zip entries (10,000). */
  maxZipEntries?: number;
  /** Deepest JSON nesting (128). */
  maxJsonDepth?: number;
  /** Most lorebook entries (100,000). */
  maxLorebookEntries?: number;
}

export interface ImportCardOptions {
  /** Only used as the card name when the card has none. */
  fileName?: string;
  limits?: CardLimits;
}

/** Progress of `importCardAsync`. */
export interface ImportProgress {
  phase: "read" | "convert" | "done";
  /** 0..1 */
  fraction: number;
}

export interface ImportCardAsyncOptions extends ImportCardOptions {
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
}

/** A V3 asset descriptor. */
export interface CardAsset {
  type: string;
  uri: string;
  name: string;
  ext: string;
  [key: string]: unknown;
}

/** A V2/V3 lorebook entry (standard field names; SillyTavern settings in `extensions`). */
export interface CharacterBookEntry {
  keys: string[];
  content: string;
  extensions: Record<string, unknown>;
  enabled: boolean;
  insertion_order: number;
  case_sensitive?: boolean;
  name?: string;
  priority?: number;
  id?: number | string;
  comment?: string;
  selective?: boolean;
  secondary_keys?: string[];
  constant?: boolean;
  position?: "before_char" | "after_char";
  use_regex?: boolean;
  [key: string]: unknown;
}

/** A V2/V3 `character_book`. */
export interface CharacterBook {
  name?: string;
  description?: string;
  scan_depth?: number;
  token_budget?: number;
  recursive_scanning?: boolean;
  extensions: Record<string, unknown>;
  entries: CharacterBookEntry[];
  [key: string]: unknown;
}

/** `data` of a Character Card V3. Unknown keys are preserved. */
export interface CardDataV3 {
  name: string;
  description: string;
  personality: string;
  scenario: string;
  first_mes: string;
  mes_example: string;
  creator_notes: string;
  system_prompt: string;
  post_history_instructions: string;
  alternate_greetings: string[];
  character_book?: CharacterBook;
  tags: string[];
  creator: string;
  character_version: string;
  extensions: Record<string, unknown>;
  group_only_greetings: string[];
  assets?: CardAsset[];
  nickname?: string;
  creator_notes_multilingual?: Record<string, string>;
  source?: string[];
  creation_date?: number;
  modification_date?: number;
  [key: string]: unknown;
}

/** A Character Card V3 object. */
export interface CardV3 {
  spec: "chara_card_v3";
  spec_version: "3.0";
  data: CardDataV3;
  [key: string]: unknown;
}

/** A file that came with the card: a CharX/BYAF zip entry (`embeded://<path>`) or a PNG `__asset:N` chunk. */
export interface CardAssetFile {
  path: string;
  bytes: Uint8Array;
}

export interface ImportedCard {
  /** Container: `"png" | "json" | "yaml" | "charx" | "charx_jpeg" | "byaf" | "webp"`. */
  format: "png" | "json" | "yaml" | "charx" | "charx_jpeg" | "byaf" | "webp";
  /** Flavour: `"chara_card_v1" | "chara_card_v2" | "chara_card_v3" | "pygmalion" | "oobabooga" | "agnai" | "byaf" | "backyard_legacy"`. */
  sourceSpec: "chara_card_v1" | "chara_card_v2" | "chara_card_v3" | "pygmalion" | "oobabooga" | "agnai" | "byaf" | "backyard_legacy";
  /** The card as a V3 object in the standard field names. */
  card: CardV3;
  /** Files that came with it. Pass them back to `exportCard` to keep them. */
  assets: CardAssetFile[];
  warnings: CardWarning[];
}

export interface ExportCardOptions {
  /** `"json"` is V3; `"json_v2"` is a V2 file for old tools. */
  format: "png" | "json" | "json_v2" | "charx";
  /** PNG avatar (PNG export: the image carrying the card; CharX: the main icon). Default: a generated placeholder. */
  avatar?: Uint8Array;
  /** Files from `importCard(...).assets`, needed for `embeded://` / `__asset:` references. */
  assets?: CardAssetFile[];
  /** Set `modification_date` to now (default true). */
  touchModificationDate?: boolean;
}

export interface ImportedLorebook {
  /** The book in V3 `character_book` shape (SillyTavern settings in each entry's `extensions`). */
  lorebook: CharacterBook;
  /** `"worldinfo_json" | "lorebook_v3" | "character_book" | "card" | "agnai_memory" | "novelai" | "risu"`. */
  sourceFormat: string;
  warnings: CardWarning[];
}

export interface ExportLorebookOptions {
  /** `"sillytavern"`: World Info JSON (`{entries: {uid: …}}`); `"v3"`: `{spec: "lorebook_v3", data}`. */
  format: "sillytavern" | "v3";
}

/** Reads a character card from file bytes (PNG, JSON, YAML, CharX, JPEG+CharX, BYAF, legacy WebP), detected by content. Throws `TavernError` (`not_a_card`, `truncated`, `bad_json`, `too_large`, `unsupported_format`). */
export function importCard(bytes: Uint8Array, options?: ImportCardOptions): ImportedCard;
/** Like `importCard`, but yields to the event loop between phases and reports progress; honours `signal`. */
export function importCardAsync(bytes: Uint8Array, options?: ImportCardAsyncOptions): Promise<ImportedCard>;
/** Writes a card as PNG (`chara` V2 backfill + `ccv3`), V3/V2 JSON, or CharX. Accepts V1/V2/V3 card objects. */
export function exportCard(card: CardV3 | Record<string, unknown>, options: ExportCardOptions): Uint8Array;
/** Reads a lorebook: SillyTavern World Info, lorebook_v3, character_book, a card's book, Agnai, NovelAI (JSON or naidata PNG), RisuAI. */
export function importLorebook(input: Uint8Array | string, options?: { limits?: CardLimits }): ImportedLorebook;
/** Writes a lorebook file (UTF-8 JSON bytes). */
export function exportLorebook(lorebook: CharacterBook | Record<string, unknown>, options: ExportLorebookOptions): Uint8Array;
"#;

fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() {
        Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

fn set(obj: &Object, key: &str, v: &JsValue) {
    // Setting a property on a plain fresh object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(key), v);
}

fn parse_json_text(text: &str) -> Result<JsValue, JsValue> {
    JSON::parse(text).map_err(|_| Error::new(ErrorCode::Internal, "could not hand JSON to JS").into())
}

fn limits_from(opts: &JsValue) -> Result<Limits, JsValue> {
    let l = get(opts, "limits");
    if l.is_undefined() || l.is_null() {
        return Ok(Limits::default());
    }
    super::error::from_js_value::<Limits>(l, "options.limits")
}

fn warnings_to_js(ws: &[Warning]) -> Result<JsValue, JsValue> {
    super::error::to_js_value(ws)
}

fn imported_to_js(r: ImportedCard) -> Result<JsValue, JsValue> {
    let o = Object::new();
    set(&o, "format", &JsValue::from_str(r.format.as_str()));
    set(&o, "sourceSpec", &JsValue::from_str(r.source_spec.as_str()));
    let text = serde_json::to_string(&r.card).map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
    set(&o, "card", &parse_json_text(&text)?);
    let assets = Array::new();
    for f in &r.assets {
        let a = Object::new();
        set(&a, "path", &JsValue::from_str(&f.path));
        set(&a, "bytes", &Uint8Array::from(f.bytes.as_slice()).into());
        assets.push(&a);
    }
    set(&o, "assets", &assets);
    set(&o, "warnings", &warnings_to_js(&r.warnings)?);
    Ok(o.into())
}

fn import_options(options: &JsValue) -> Result<ImportOptions, JsValue> {
    Ok(ImportOptions { limits: limits_from(options)?, file_name: get(options, "fileName").as_string() })
}

/// See the TypeScript declaration.
#[wasm_bindgen(js_name = importCard, skip_typescript)]
pub fn import_card(bytes: &[u8], options: JsValue) -> Result<JsValue, JsValue> {
    let opts = import_options(&options)?;
    let r = card::import_card(bytes, &opts)?;
    imported_to_js(r)
}

async fn yield_now() -> Result<(), JsValue> {
    let set_timeout = Reflect::get(&js_sys::global(), &JsValue::from_str("setTimeout"))?;
    let Ok(set_timeout) = set_timeout.dyn_into::<Function>() else { return Ok(()) };
    let p = Promise::new(&mut |resolve, _| {
        let _ = set_timeout.call2(&JsValue::NULL, &resolve, &JsValue::from(0));
    });
    JsFuture::from(p).await.map(|_| ())
}

fn progress(cb: &JsValue, phase: &str, fraction: f64) {
    if let Some(f) = cb.dyn_ref::<Function>() {
        let o = Object::new();
        set(&o, "phase", &JsValue::from_str(phase));
        set(&o, "fraction", &JsValue::from(fraction));
        let _ = f.call1(&JsValue::NULL, &o);
    }
}

fn check_abort(signal: &JsValue) -> Result<(), JsValue> {
    if get(signal, "aborted").as_bool() == Some(true) {
        return Err(Error::new(ErrorCode::Aborted, "importCardAsync was aborted").into());
    }
    Ok(())
}

/// See the TypeScript declaration.
#[wasm_bindgen(js_name = importCardAsync, skip_typescript)]
pub async fn import_card_async(bytes: Vec<u8>, options: JsValue) -> Result<JsValue, JsValue> {
    let opts = import_options(&options)?;
    let cb = get(&options, "onProgress");
    let signal = get(&options, "signal");
    progress(&cb, "read", 0.0);
    yield_now().await?;
    check_abort(&signal)?;
    let r = card::import_card(&bytes, &opts)?;
    drop(bytes);
    progress(&cb, "convert", 0.7);
    yield_now().await?;
    check_abort(&signal)?;
    let out = imported_to_js(r)?;
    progress(&cb, "done", 1.0);
    Ok(out)
}

fn js_to_json_value(v: &JsValue, what: &str) -> Result<serde_json::Value, JsValue> {
    if !v.is_object() {
        return Err(Error::invalid_argument(format!("{what} must be an object")).into());
    }
    let text: String = JSON::stringify(v)
        .map_err(|_| Error::invalid_argument(format!("{what} cannot be serialised (cycle or BigInt?)")))?
        .into();
    serde_json::from_str(&text).map_err(|e| Error::invalid_argument(format!("{what}: {e}")).into())
}

fn assets_from(options: &JsValue) -> Result<Vec<AssetFile>, JsValue> {
    let a = get(options, "assets");
    if a.is_undefined() || a.is_null() {
        return Ok(Vec::new());
    }
    let arr: Array = a.dyn_into().map_err(|_| Error::invalid_argument("options.assets must be an array"))?;
    let mut out = Vec::with_capacity(arr.length() as usize);
    for item in arr.iter() {
        let path = get(&item, "path")
            .as_string()
            .ok_or_else(|| Error::invalid_argument("options.assets[].path must be a string"))?;
        let bytes: Uint8Array = get(&item, "bytes")
            .dyn_into()
            .map_err(|_| Error::invalid_argument("options.assets[].bytes must be a Uint8Array"))?;
        out.push(AssetFile { path, bytes: bytes.to_vec() });
    }
    Ok(out)
}

/// See the TypeScript declaration.
#[wasm_bindgen(js_name = exportCard, skip_typescript)]
pub fn export_card(card_obj: JsValue, options: JsValue) -> Result<Uint8Array, JsValue> {
    let format =
        get(&options, "format").as_string().ok_or_else(|| Error::invalid_argument("options.format is required"))?;
    let format = ExportFormat::parse(&format)?;
    let v = js_to_json_value(&card_obj, "card")?;
    let mut w = card::Warnings::default();
    let (c, _) = card::card_from_json_value(v, &Limits::default(), None, &mut w)
        .map_err(|e| Error::invalid_argument(format!("card: {}", e.message())))?;
    let avatar = match get(&options, "avatar") {
        a if a.is_undefined() || a.is_null() => None,
        a => Some(
            a.dyn_into::<Uint8Array>()
                .map_err(|_| Error::invalid_argument("options.avatar must be a Uint8Array"))?
                .to_vec(),
        ),
    };
    let assets = assets_from(&options)?;
    let touch = get(&options, "touchModificationDate").as_bool().unwrap_or(true);
    let now = touch.then(|| (js_sys::Date::now() / 1000.0).floor() as i64);
    let opts = ExportOptions { avatar: avatar.as_deref(), assets: &assets, now };
    let bytes = core_export(&c, format, &opts)?;
    Ok(Uint8Array::from(bytes.as_slice()))
}

/// See the TypeScript declaration.
#[wasm_bindgen(js_name = importLorebook, skip_typescript)]
pub fn import_lorebook(input: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let limits = limits_from(&options)?;
    let bytes: Vec<u8> = if let Some(s) = input.as_string() {
        s.into_bytes()
    } else if let Some(u) = input.dyn_ref::<Uint8Array>() {
        u.to_vec()
    } else {
        return Err(Error::invalid_argument("importLorebook expects a Uint8Array or a string").into());
    };
    let r = lorebook::import_lorebook(&bytes, &limits)?;
    let o = Object::new();
    let text = serde_json::to_string(&r.lorebook).map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
    set(&o, "lorebook", &parse_json_text(&text)?);
    set(&o, "sourceFormat", &JsValue::from_str(r.source_format.as_str()));
    set(&o, "warnings", &warnings_to_js(&r.warnings)?);
    Ok(o.into())
}

/// See the TypeScript declaration.
#[wasm_bindgen(js_name = exportLorebook, skip_typescript)]
pub fn export_lorebook(book: JsValue, options: JsValue) -> Result<Uint8Array, JsValue> {
    let format =
        get(&options, "format").as_string().ok_or_else(|| Error::invalid_argument("options.format is required"))?;
    let format = LorebookExportFormat::parse(&format)?;
    let v = js_to_json_value(&book, "lorebook")?;
    let mut w = card::Warnings::default();
    let (b, _) = lorebook::formats::lorebook_from_json_value(&v, &Limits::default(), &mut w)
        .map_err(|e| Error::invalid_argument(format!("lorebook: {}", e.message())))?;
    Ok(Uint8Array::from(lorebook::export_lorebook(&b, format).as_slice()))
}
