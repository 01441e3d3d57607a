//! JS API of the card codec: `importCard`, `importCardAsync`, `exportCard`,
//! `importLorebook`, `exportLorebook`. Conversion only; the logic is in
//! [`crate::card`] and [`crate::lorebook`].
//!
//! Cards and lorebooks cross the boundary as JSON text turned into JS objects with
//! `JSON.parse` / `JSON.stringify` (much faster than building objects one property at
//! a time for a 5,000-entry lorebook); bytes cross as `Uint8Array`.

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::card::export::{export_card_reporting as core_export, ExportFormat, ExportOptions};
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

/** Options of `importCard`. Unknown keys are an `invalid_argument` error. */
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

/**
 * A Character Card V3 object, as plain JSON-compatible data with one exception: an
 * integer that a JS number cannot hold exactly (beyond ±(2^53 − 1), e.g. a 64-bit id in
 * an extension) is a `BigInt`, so it survives import → edit → export unchanged.
 * `exportCard` accepts such `BigInt`s back (within the 64-bit range). Every other
 * number is a plain `number`. (`JSON.stringify` throws on a `BigInt`; use a replacer
 * if you serialise such a card yourself.)
 */
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

/** Options of `exportCard`. Unknown keys are an `invalid_argument` error. */
export interface ExportCardOptions {
  /** `"json"` is V3; `"json_v2"` is a V2 file for old tools. */
  format: "png" | "json" | "json_v2" | "charx";
  /** PNG avatar (PNG export: the image carrying the card; CharX: the main icon). Default: a generated placeholder. */
  avatar?: Uint8Array;
  /** Files from `importCard(...).assets`, needed for `embeded://` / `__asset:` references. A reference whose file is missing is written unchanged and reported to `onWarning`. */
  assets?: CardAssetFile[];
  /** Set `modification_date` to now (default true). */
  touchModificationDate?: boolean;
  /**
   * PNG only: also put the lorebook into the V2 `chara` copy (default true, what
   * SillyTavern and V2-only tools expect). `false` leaves it only in the V3 `ccv3` copy,
   * which SillyTavern reads first: a lorebook-heavy card gets about half as big, but
   * tools that read only V2 see the card without its lorebook.
   */
  v2Lorebook?: boolean;
  /** Called with each lossy step of the export (e.g. `asset_missing`). */
  onWarning?: (w: CardWarning) => void;
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
/** Writes a card as PNG (`chara` V2 backfill + `ccv3`), V3/V2 JSON, or CharX. Accepts V1/V2/V3 card objects; unknown fields are kept, but standard fields of the wrong type (e.g. `data` that is not an object, `tags` that is not a string array) and unknown option keys throw `invalid_argument` naming the field. */
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

/// A present option: `None` for `undefined` and `null`.
fn opt(obj: &JsValue, key: &str) -> Option<JsValue> {
    let v = get(obj, key);
    (!v.is_undefined() && !v.is_null()).then_some(v)
}

/// An options object: `undefined`/`null` (when `required` is false) or a plain object
/// whose own keys are all in `known`. A misspelled option is an error naming it.
fn check_options(obj: &JsValue, what: &str, known: &[&str], required: bool) -> Result<(), JsValue> {
    if obj.is_undefined() || obj.is_null() {
        if required {
            return Err(Error::invalid_argument(format!("{what} is required")).into());
        }
        return Ok(());
    }
    if !obj.is_object() || Array::is_array(obj) || obj.is_function() || obj.is_instance_of::<Uint8Array>() {
        return Err(Error::invalid_argument(format!("{what} must be an object")).into());
    }
    let keys: Vec<String> = Object::keys(obj.unchecked_ref::<Object>()).iter().filter_map(|k| k.as_string()).collect();
    Ok(crate::error::check_known_keys(keys.iter().map(String::as_str), known, what, None)?)
}

fn opt_string(obj: &JsValue, key: &str, what: &str) -> Result<Option<String>, JsValue> {
    match opt(obj, key) {
        None => Ok(None),
        Some(v) => v
            .as_string()
            .map(Some)
            .ok_or_else(|| Error::invalid_argument(format!("{what}.{key} must be a string")).into()),
    }
}

fn opt_bool(obj: &JsValue, key: &str, what: &str) -> Result<Option<bool>, JsValue> {
    match opt(obj, key) {
        None => Ok(None),
        Some(v) => {
            v.as_bool().map(Some).ok_or_else(|| Error::invalid_argument(format!("{what}.{key} must be a boolean")).into())
        }
    }
}

fn opt_function(obj: &JsValue, key: &str, what: &str) -> Result<Option<Function>, JsValue> {
    match opt(obj, key) {
        None => Ok(None),
        Some(v) => v
            .dyn_into::<Function>()
            .map(Some)
            .map_err(|_| Error::invalid_argument(format!("{what}.{key} must be a function")).into()),
    }
}

const LIMIT_KEYS: &[&str] =
    &["maxInputBytes", "maxDecompressedBytes", "maxJsonBytes", "maxZipEntries", "maxJsonDepth", "maxLorebookEntries"];

fn set(obj: &Object, key: &str, v: &JsValue) {
    // Setting a property on a plain fresh object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(key), v);
}


fn limits_from(opts: &JsValue) -> Result<Limits, JsValue> {
    let Some(l) = opt(opts, "limits") else { return Ok(Limits::default()) };
    check_options(&l, "options.limits", LIMIT_KEYS, false)?;
    super::error::from_js_value::<Limits>(l, "options.limits")
}

fn warnings_to_js(ws: &[Warning]) -> Result<JsValue, JsValue> {
    super::error::to_js_value(ws)
}

fn imported_to_js(r: ImportedCard) -> Result<JsValue, JsValue> {
    let o = Object::new();
    set(&o, "format", &JsValue::from_str(r.format.as_str()));
    set(&o, "sourceSpec", &JsValue::from_str(r.source_spec.as_str()));
    set(&o, "card", &crate::jsjson::to_js(&r.card)?);
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
    Ok(ImportOptions { limits: limits_from(options)?, file_name: opt_string(options, "fileName", "options")? })
}

/// See the TypeScript declaration.
#[wasm_bindgen(js_name = importCard, skip_typescript)]
pub fn import_card(bytes: &[u8], options: JsValue) -> Result<JsValue, JsValue> {
    check_options(&options, "options", &["fileName", "limits"], false)?;
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

fn progress(cb: &Option<Function>, phase: &str, fraction: f64) {
    if let Some(f) = cb {
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
    check_options(&options, "options", &["fileName", "limits", "onProgress", "signal"], false)?;
    let opts = import_options(&options)?;
    let cb = opt_function(&options, "onProgress", "options")?;
    let signal = get(&options, "signal");
    if !(signal.is_undefined() || signal.is_null() || signal.is_object()) {
        return Err(Error::invalid_argument("options.signal must be an AbortSignal").into());
    }
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


fn assets_from(options: &JsValue) -> Result<Vec<AssetFile>, JsValue> {
    let Some(a) = opt(options, "assets") else { return Ok(Vec::new()) };
    let arr: Array = a.dyn_into().map_err(|_| Error::invalid_argument("options.assets must be an array"))?;
    let mut out = Vec::with_capacity(arr.length() as usize);
    for (i, item) in arr.iter().enumerate() {
        check_options(&item, &format!("options.assets[{i}]"), &["path", "bytes"], true)?;
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
    check_options(
        &options,
        "options",
        &["format", "avatar", "assets", "touchModificationDate", "v2Lorebook", "onWarning"],
        true,
    )?;
    let format = opt_string(&options, "format", "options")?
        .ok_or_else(|| Error::invalid_argument("options.format is required"))?;
    let format = ExportFormat::parse(&format)?;
    let v = crate::jsjson::to_json_value(&card_obj, "card")?;
    card::typecheck::check_card_value(&v, "card")?;
    let mut w = card::Warnings::default();
    let (c, _) = card::card_from_json_value(v, &Limits::default(), None, &mut w)
        .map_err(|e| Error::invalid_argument(format!("card: {}", e.message())))?;
    let avatar = match opt(&options, "avatar") {
        None => None,
        Some(a) => Some(
            a.dyn_into::<Uint8Array>()
                .map_err(|_| Error::invalid_argument("options.avatar must be a Uint8Array"))?
                .to_vec(),
        ),
    };
    let assets = assets_from(&options)?;
    let touch = opt_bool(&options, "touchModificationDate", "options")?.unwrap_or(true);
    let v2_lorebook = opt_bool(&options, "v2Lorebook", "options")?.unwrap_or(true);
    let on_warning = opt_function(&options, "onWarning", "options")?;
    let now = touch.then(|| (js_sys::Date::now() / 1000.0).floor() as i64);
    let opts = ExportOptions { avatar: avatar.as_deref(), assets: &assets, now, omit_v2_lorebook: !v2_lorebook };
    let (bytes, warnings) = core_export(&c, format, &opts)?;
    if let Some(f) = on_warning {
        for w in &warnings {
            f.call1(&JsValue::NULL, &super::error::to_js_value(w)?)?;
        }
    }
    Ok(Uint8Array::from(bytes.as_slice()))
}

/// See the TypeScript declaration.
#[wasm_bindgen(js_name = importLorebook, skip_typescript)]
pub fn import_lorebook(input: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    check_options(&options, "options", &["limits"], false)?;
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
    set(&o, "lorebook", &crate::jsjson::to_js(&r.lorebook)?);
    set(&o, "sourceFormat", &JsValue::from_str(r.source_format.as_str()));
    set(&o, "warnings", &warnings_to_js(&r.warnings)?);
    Ok(o.into())
}

/// See the TypeScript declaration.
#[wasm_bindgen(js_name = exportLorebook, skip_typescript)]
pub fn export_lorebook(book: JsValue, options: JsValue) -> Result<Uint8Array, JsValue> {
    check_options(&options, "options", &["format"], true)?;
    let format = opt_string(&options, "format", "options")?
        .ok_or_else(|| Error::invalid_argument("options.format is required"))?;
    let format = LorebookExportFormat::parse(&format)?;
    let v = crate::jsjson::to_json_value(&book, "lorebook")?;
    let mut w = card::Warnings::default();
    let (b, _) = lorebook::formats::lorebook_from_json_value(&v, &Limits::default(), &mut w)
        .map_err(|e| Error::invalid_argument(format!("lorebook: {}", e.message())))?;
    Ok(Uint8Array::from(lorebook::export_lorebook(&b, format).as_slice()))
}
