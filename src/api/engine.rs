//! JS API of the prompt engine: `buildPrompt`, `renderMacros`, `scanLorebooks`, and
//! the `LorebookMatcher` class that keeps a compiled lorebook between scans.
//! Only type conversion lives here; the logic is in `macros`, `worldinfo`, `prompt`.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use wasm_bindgen::prelude::*;

use super::error::{from_js_value, to_js_value};
use crate::error::Error;
use crate::macros::{self, MacroContext};
use crate::prompt::request::check_lorebook_fields;
use crate::prompt::{self, read_checked, BookCache, Estimator, PromptRequest, ScanRequest, TokenCounter};
use crate::worldinfo::{BookRef, BookSource, CompileOptions, CompiledLorebook, WorldInfoSettings};

#[wasm_bindgen(typescript_custom_section)]
const TS_ENGINE: &'static str = r#"
/** A chat message (SillyTavern's message object, reduced). */
export interface ChatMessage { name?: string; isUser?: boolean; isSystem?: boolean; mes: string;
  sendDate?: number | string; swipeId?: number; swipes?: string[]; forceAvatar?: string; }
/** Everything macros can read. Unset fields are empty. */
export interface MacroContext { char?: string; user?: string; description?: string; personality?: string;
  scenario?: string; persona?: string; mesExample?: string; firstMes?: string; creatorNotes?: string;
  depthPrompt?: string; charVersion?: string; systemPrompt?: string; postHistoryInstructions?: string;
  globalSystemPrompt?: string; mesExamples?: string; exampleSeparator?: string; chat?: ChatMessage[];
  input?: string; groupMembers?: string[]; groupMuted?: string[]; model?: string; maxContext?: number;
  maxResponse?: number; isMobile?: boolean; extensions?: string[]; outlets?: Record<string, string[]>;
  lastGenerationType?: string; firstIncludedMessageId?: number; localVariables?: Record<string, unknown>;
  globalVariables?: Record<string, unknown>; now?: number; utcOffsetMinutes?: number; seed?: number; chatId?: string; }
export interface RenderOutput { output: string; localVariables: Record<string, unknown>;
  globalVariables: Record<string, unknown>; banned: string[]; }
/** World Info settings. SillyTavern's `world_info_settings` names are accepted too; unknown names are an `invalid_argument` error. */
export interface WorldInfoSettings {
  /** Messages scanned (2). */ depth?: number; world_info_depth?: number;
  /** Budget in % of the max prompt tokens (25). */ budget?: number; world_info_budget?: number;
  /** Absolute token cap, 0 = none. */ budgetCap?: number; world_info_budget_cap?: number;
  /** Widen the depth until this many entries are active, 0 = off. */ minActivations?: number; world_info_min_activations?: number;
  /** Limit of that widening, 0 = the chat length. */ minActivationsDepthMax?: number; world_info_min_activations_depth_max?: number;
  /** Recursive scanning (true). */ recursive?: boolean; world_info_recursive?: boolean;
  /** Cap on scan passes, 0 = unlimited. */ maxRecursionSteps?: number; world_info_max_recursion_steps?: number;
  /** Case-sensitive keys (false). */ caseSensitive?: boolean; world_info_case_sensitive?: boolean;
  /** Whole-word keys (true). */ matchWholeWords?: boolean; world_info_match_whole_words?: boolean;
  /** Inclusion-group scoring (false). */ useGroupScoring?: boolean; world_info_use_group_scoring?: boolean;
  /** Scan "Name: message" (true). */ includeNames?: boolean; world_info_include_names?: boolean;
  /** 0 evenly, 1 character first (default), 2 global first. */ characterStrategy?: number; world_info_character_strategy?: number;
  /** SillyTavern's overflow toast: accepted, not used (overflow is in the result). */ overflowAlert?: boolean; world_info_overflow_alert?: boolean;
  /** SillyTavern's selection of global books: accepted, not used (pass the books in `lorebooks`). */ selected?: unknown; world_info?: unknown; }
export interface TimedRecord { hash: number; start: number; end: number; protected: boolean; }
/** Timed-effect state of a chat (sticky, cooldown): store the `state` / `lorebookState` a call returns and pass it back
 * on the next turn of the same chat — without it, sticky and cooldown effects end after one generation. */
export interface TimedState { sticky: Record<string, TimedRecord>; cooldown: Record<string, TimedRecord>; matched?: string[]; }
export type BookSource = "chat" | "persona" | "global" | "character";
/** A lorebook: SillyTavern World Info JSON, a V2/V3 character_book, or a bare entry array. */
export type LorebookJson = unknown;
/**
 * A lorebook taking part in a scan or build: its JSON (`book`, compiled once and cached by content, a few books
 * at a time) or a `LorebookMatcher` compiled earlier (`matcher`: no conversion at all, the fastest for big books;
 * it must have been compiled with the same `caseSensitive` / `matchWholeWords`). Unknown fields are an error.
 *
 * `cacheKey` names this content of the book, e.g. a stored character's `` `${id}@${rev}` ``: a call whose key the
 * cache already holds does not read `book` at all (reading a big book is most of a call's cost). Use a new key
 * whenever the book changes; a book passed without a key is recognised by its content.
 */
export type LorebookInput =
  | { name: string; source?: BookSource; book: LorebookJson; cacheKey?: string; matcher?: never }
  | { name?: string; source?: BookSource; matcher: LorebookMatcher; book?: never };
export interface ScanRequest { lorebooks?: LorebookInput[];
  /** The chat, **oldest first** (system messages are skipped). */
  chat: ChatMessage[]; settings?: WorldInfoSettings;
  /** Max prompt tokens for the budget (8192). */
  maxContext?: number; globalScanData?: { personaDescription?: string; characterDescription?: string;
  characterPersonality?: string; characterDepthPrompt?: string; scenario?: string; creatorNotes?: string };
  /** Generation type: normal (default), continue, impersonate, swipe, regenerate, quiet. */
  trigger?: string;
  /** The current character (filters); its name is `{{char}}` in keys and content unless `macros.char` is set. */
  character?: { name?: string; avatar?: string; tags?: string[] };
  /** The persona; its name is `{{user}}` unless `macros.user` is set, its description the `persona` match text. */
  persona?: { name?: string; description?: string };
  macros?: MacroContext;
  /** The `state` of the previous turn's result (pass it back every turn). */
  state?: TimedState; seed?: number; dryRun?: boolean; externalActivations?: string[]; injections?: string[]; }
export interface ActivatedEntry { world: string; uid: number; comment: string; content: string; position: number;
  depth: number; role: number; order: number; outletName: string; pass: number; passKind: string;
  recursionLevel: number; tokens: number; reason: { kind: string; key?: string; source?: string;
  messageIndex?: number; secondaryKeys?: string[] }; }
export interface WorldInfoResult { activated: ActivatedEntry[]; worldInfoBefore: string; worldInfoAfter: string;
  depthEntries: { depth: number; role: number; entries: string[] }[];
  exampleEntries: { position: number; content: string }[]; anTop: string[]; anBottom: string[];
  outlets: Record<string, string[]>; scanPasses: number; budgetTokens: number; budgetOverflowed: boolean;
  dropped: { world: string; uid: number; reason: string; group?: string }[]; warnings: string[]; state: TimedState; }
/** One item of the prompt order. */
export interface PromptOrderItem { identifier: string; enabled: boolean; }
/** A custom prompt of the preset (relative: placed by the order; absolute: injected at a depth). */
export interface CustomPrompt { identifier?: string; role?: "system" | "user" | "assistant"; content?: string;
  /** 0 relative, 1 absolute. */ injectionPosition?: number; injection_position?: number;
  injectionDepth?: number; injection_depth?: number; /** 100 */ injectionOrder?: number; injection_order?: number; }
/**
 * Chat-completion preset and prompt settings; defaults are SillyTavern's Default preset. SillyTavern's own names
 * (`openai_max_context`, `openai_max_tokens`, `names_behavior`, `wi_format`, `send_if_empty`, …) are accepted too. Unknown names are an `invalid_argument` error.
 */
export interface PromptSettings {
  /** Main prompt (`Write {{char}}'s next reply…`). */ mainPrompt?: string;
  /** Auxiliary ("NSFW") prompt. */ nsfwPrompt?: string;
  /** Post-history instructions ("jailbreak"). */ jailbreakPrompt?: string;
  enhanceDefinitionsPrompt?: string;
  /** The order and enabled set (identifiers `main`, `worldInfoBefore`, `personaDescription`, `charDescription`,
   * `charPersonality`, `scenario`, `enhanceDefinitions`, `nsfw`, `worldInfoAfter`, `dialogueExamples`,
   * `chatHistory`, `jailbreak`, or a custom prompt's). */
  promptOrder?: PromptOrderItem[];
  customPrompts?: CustomPrompt[];
  newChatPrompt?: string; new_chat_prompt?: string; newGroupChatPrompt?: string; new_group_chat_prompt?: string;
  newExampleChatPrompt?: string; new_example_chat_prompt?: string; continueNudgePrompt?: string; continue_nudge_prompt?: string;
  impersonationPrompt?: string; impersonation_prompt?: string; groupNudgePrompt?: string; group_nudge_prompt?: string;
  quietPrompt?: string;
  /** World Info wrapper, `{0}` = the text. */ wiFormat?: string; wi_format?: string;
  scenarioFormat?: string; scenario_format?: string; personalityFormat?: string; personality_format?: string;
  /** -1 none, 0 default, 1 completion (`name` field), 2 content (`Name: ` prefix). */ namesBehavior?: number; names_behavior?: number;
  /** Use the card's system prompt (true). */ preferCharacterPrompt?: boolean; prefer_character_prompt?: boolean;
  /** Use the card's post-history instructions (true). */ preferCharacterJailbreak?: boolean; prefer_character_jailbreak?: boolean;
  /** Context size in tokens (4095). */ maxContext?: number; openai_max_context?: number;
  /** Reply reserve in tokens (300); the budget is maxContext − maxTokens. */ maxTokens?: number; openai_max_tokens?: number;
  /** Examples before history (false). */ pinExamples?: boolean; pin_examples?: boolean;
  /** User message used when the user sent nothing. */ sendIfEmpty?: string; send_if_empty?: string;
  /** Tokens added to each chat message's count for its framing; **default 5** (as SillyTavern counts). */
  tokensPerMessage?: number;
  /** `{{model}}`. */ model?: string; }
/** A character: a card as `importCard` returns it (`{ spec, data }`), or a flat V1-style object. Extra card fields pass through. */
export type PromptCharacter = Record<string, unknown>;
/**
 * A prompt build request. Unknown fields are an `invalid_argument` error naming the field path
 * (`settings.dept`); snake_case names are accepted too. Card data and lorebook entries keep their extension fields.
 */
export interface PromptRequest { mode?: "chat" | "text"; character: PromptCharacter;
  group?: { members: PromptCharacter[]; muted?: string[]; joinCards?: boolean };
  persona?: { name?: string; description?: string; position?: number };
  /** The chat, **oldest first**. Extra fields of SillyTavern's message objects are ignored. */
  chat: ChatMessage[];
  settings?: PromptSettings; text?: {
    /** Instruct template: ours (`chatml`, `llama3`, `mistral`, `mistral-v2-v3`, `alpaca`, `vicuna`, `gemma`, `command-r`), SillyTavern's preset name, or `none` (plain `Name: message` lines). */
    instruct?: string; exampleSeparator?: string; chatStart?: string;
    /** Context template story string (Handlebars-style `{{#if}}`; default: SillyTavern's Default). */
    storyString?: string; namesAsStopStrings?: boolean; separatorsAsStopStrings?: boolean;
  };
  worldInfo?: WorldInfoSettings; lorebooks?: LorebookInput[];
  /** The `lorebookState` of the previous turn's output (pass it back every turn). */
  lorebookState?: TimedState;
  /** Author's note (SillyTavern's `note_prompt`, `note_interval`, `note_depth`, `note_position`, `note_role` accepted). */
  authorsNote?: { text?: string; interval?: number; depth?: number; position?: number; role?: number;
    note_prompt?: string; note_interval?: number; note_depth?: number; note_position?: number; note_role?: number };
  generationType?: string; input?: string; seed?: number; now?: number; utcOffsetMinutes?: number; chatId?: string;
  localVariables?: Record<string, unknown>; globalVariables?: Record<string, unknown>; }
export interface PromptMessage { role: "system" | "user" | "assistant"; content: string; name?: string; }
export interface PromptOutput { messages: PromptMessage[]; text?: string; stop: string[];
  report: { blocks: { identifier: string; messages: number; tokens: number }[]; totalTokens: number; budget: number;
    historyIncluded: number; historyDropped: number; examplesIncluded: number; examplesDropped: number;
    worldInfo: WorldInfoResult };
  lorebookState: TimedState; localVariables: Record<string, unknown>; globalVariables: Record<string, unknown>; }
export interface CompileStats { entries: number; plainPatterns: number; regexKeys: number; automatonBytes: number; compileMicros: number; }
"#;

/// Token counting through an optional JS callback `(text) => number`.
struct JsCounter(Option<js_sys::Function>);

impl TokenCounter for JsCounter {
    fn count(&mut self, text: &str) -> usize {
        match &self.0 {
            Some(f) => f
                .call1(&JsValue::NULL, &JsValue::from_str(text))
                .ok()
                .and_then(|v| v.as_f64())
                .filter(|x| x.is_finite() && *x >= 0.0)
                .map(|x| x as usize)
                .unwrap_or_else(|| Estimator.count(text)),
            None => Estimator.count(text),
        }
    }
}

fn counter(f: JsValue) -> JsCounter {
    JsCounter(f.dyn_into::<js_sys::Function>().ok())
}

/// Renders macros in `text` (variables are returned, not stored).
#[wasm_bindgen(js_name = renderMacros, unchecked_return_type = "RenderOutput")]
pub fn render_macros(
    text: &str,
    #[wasm_bindgen(unchecked_param_type = "MacroContext")] context: JsValue,
) -> Result<JsValue, JsValue> {
    let mut ctx: MacroContext = if context.is_undefined() || context.is_null() {
        MacroContext::default()
    } else {
        read_checked(from_js_value(context, "context")?, "renderMacros context")?
    };
    if ctx.now.is_none() {
        ctx.now = Some(js_sys::Date::now());
        ctx.utc_offset_minutes = -(js_sys::Date::new_0().get_timezone_offset() as i32);
    }
    to_js_value(&macros::render(text, &ctx))
}


thread_local! {
    /// Compiled lorebooks by JSON text (a repeated build with the same books skips the
    /// conversion and the compile).
    static BOOKS: RefCell<BookCache> = const { RefCell::new(BookCache::new(4)) };
    /// Live `LorebookMatcher`s by handle, so that requests can name them.
    static MATCHERS: RefCell<Vec<(u32, (String, BookSource, Arc<CompiledLorebook>))>> = const { RefCell::new(Vec::new()) };
    static NEXT_HANDLE: Cell<u32> = const { Cell::new(1) };
}

fn get(o: &JsValue, k: &str) -> JsValue {
    js_sys::Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
}

/// A request object without its `lorebooks` (returned apart), as JSON.
fn split_request(request: JsValue, what: &str) -> Result<(serde_json::Value, JsValue), JsValue> {
    if !request.is_object() || js_sys::Array::is_array(&request) {
        return Err(Error::invalid_argument(format!("{what} must be an object")).into());
    }
    let copy = js_sys::Object::assign(&js_sys::Object::new(), request.unchecked_ref());
    let books = get(&copy, "lorebooks");
    js_sys::Reflect::delete_property(&copy, &JsValue::from_str("lorebooks"))?;
    // A card's own lorebook is not read from the character (it comes through `lorebooks`):
    // leaving it out saves converting a big book on every call.
    let character = get(&copy, "character");
    if character.is_object() {
        js_sys::Reflect::set(&copy, &JsValue::from_str("character"), &without_book(&character)?)?;
    }
    let group = get(&copy, "group");
    if let Ok(members) = get(&group, "members").dyn_into::<js_sys::Array>() {
        let group = js_sys::Object::assign(&js_sys::Object::new(), group.unchecked_ref());
        let fixed: js_sys::Array = members.iter().map(|m| without_book(&m)).collect::<Result<_, _>>()?;
        js_sys::Reflect::set(&group, &JsValue::from_str("members"), &fixed)?;
        js_sys::Reflect::set(&copy, &JsValue::from_str("group"), &group)?;
    }
    let value: serde_json::Value = from_js_value(copy.into(), what)?;
    Ok((value, books))
}

fn read_book_source(v: JsValue, what: &str) -> Result<BookSource, JsValue> {
    let s = v.as_string().unwrap_or_default();
    Ok(read_checked(serde_json::Value::String(s), what)?)
}

/// A character card without `character_book` (in `data` or at the top), copied shallowly.
fn without_book(card: &JsValue) -> Result<JsValue, JsValue> {
    if !card.is_object() {
        return Ok(card.clone());
    }
    let key = JsValue::from_str("character_book");
    let mut card = card.clone();
    if js_sys::Reflect::has(&card, &key)? {
        let c = js_sys::Object::assign(&js_sys::Object::new(), card.unchecked_ref());
        js_sys::Reflect::delete_property(&c, &key)?;
        card = c.into();
    }
    let data = get(&card, "data");
    if data.is_object() && js_sys::Reflect::has(&data, &key)? {
        let d = js_sys::Object::assign(&js_sys::Object::new(), data.unchecked_ref());
        js_sys::Reflect::delete_property(&d, &key)?;
        let c = js_sys::Object::assign(&js_sys::Object::new(), card.unchecked_ref());
        js_sys::Reflect::set(&c, &JsValue::from_str("data"), &d)?;
        card = c.into();
    }
    Ok(card)
}

/// The compiled books of a request's `lorebooks`: each `{ name, source?, book }` (compiled, or
/// taken from the cache when the same book was compiled before) or `{ name?, source?, matcher }`
/// (a `LorebookMatcher`, used as it is).
fn compiled_books(
    books: &JsValue,
    opts: CompileOptions,
    what: &str,
) -> Result<Vec<(String, BookSource, Arc<CompiledLorebook>)>, JsValue> {
    if books.is_undefined() || books.is_null() {
        return Ok(Vec::new());
    }
    let Some(arr) = books.dyn_ref::<js_sys::Array>() else {
        return Err(Error::invalid_argument(format!("{what}: `lorebooks` must be an array")).into());
    };
    let mut out = Vec::new();
    for (i, item) in arr.iter().enumerate() {
        let at = format!("lorebooks[{i}]");
        if !item.is_object() || js_sys::Array::is_array(&item) {
            return Err(Error::invalid_argument(format!("{what}: `{at}` must be an object {{ name, source, book }}")).into());
        }
        let keys: Vec<String> =
            js_sys::Object::keys(item.unchecked_ref::<js_sys::Object>()).iter().filter_map(|k| k.as_string()).collect();
        check_lorebook_fields(keys.iter().map(String::as_str), &at, what)?;
        let name = get(&item, "name");
        let name = if name.is_undefined() || name.is_null() {
            None
        } else {
            Some(name.as_string().ok_or_else(|| Error::invalid_argument(format!("{what}: `{at}.name` must be a string")))?)
        };
        let source = get(&item, "source");
        let source: Option<BookSource> =
            if source.is_undefined() || source.is_null() { None } else { Some(read_book_source(source, &format!("{what}: `{at}.source`"))?) };
        let matcher = get(&item, "matcher");
        let book = get(&item, "book");
        if !matcher.is_undefined() && !matcher.is_null() {
            if !book.is_undefined() {
                return Err(Error::invalid_argument(format!("{what}: `{at}` has both `book` and `matcher`")).into());
            }
            let handle = get(&matcher, "handle").as_f64().unwrap_or(0.0) as u32;
            let (m_name, m_source, compiled) = MATCHERS
                .with(|m| m.borrow().iter().find(|x| x.0 == handle).map(|x| x.1.clone()))
                .ok_or_else(|| Error::invalid_argument(format!("{what}: `{at}.matcher` is not a live LorebookMatcher")))?;
            if compiled.options() != opts {
                return Err(Error::invalid_argument(format!(
                    "{what}: `{at}.matcher` was compiled for other World Info settings (caseSensitive, matchWholeWords)"
                ))
                .into());
            }
            out.push((name.unwrap_or(m_name), source.unwrap_or(m_source), compiled));
        } else {
            let key = get(&item, "cacheKey");
            let key = if key.is_undefined() || key.is_null() {
                None
            } else {
                Some(key.as_string().ok_or_else(|| Error::invalid_argument(format!("{what}: `{at}.cacheKey` must be a string")))?)
            };
            let compiled = compile_cached(&book, opts, key.as_deref(), &format!("{what}: `{at}.book`"))?;
            out.push((name.unwrap_or_default(), source.unwrap_or_default(), compiled));
        }
    }
    Ok(out)
}

/// A lorebook compiled from its JSON text, through the cache (by `key` alone when the cache
/// knows it: the book is then not read).
fn compile_cached(book: &JsValue, opts: CompileOptions, key: Option<&str>, at: &str) -> Result<Arc<CompiledLorebook>, JsValue> {
    if let Some(hit) = key.and_then(|k| BOOKS.with(|c| c.borrow_mut().get_keyed(k, opts))) {
        return Ok(hit);
    }
    if book.is_undefined() || book.is_null() {
        return Err(Error::invalid_argument(format!("{at} is missing")).into());
    }
    let json = crate::jsjson::to_json_text(book, at)?;
    Ok(BOOKS.with(|c| c.borrow_mut().get_or_compile(&json, opts, key, at))?)
}

fn refs(books: &[(String, BookSource, Arc<CompiledLorebook>)]) -> Vec<BookRef<'_>> {
    books.iter().map(|(name, source, b)| BookRef { name, source: *source, book: b }).collect()
}

/// Builds a prompt. `countTokens(text)` is optional (default: `ceil(utf8 bytes / 3.35)`).
#[wasm_bindgen(js_name = buildPrompt, unchecked_return_type = "PromptOutput")]
pub fn build_prompt(
    #[wasm_bindgen(unchecked_param_type = "PromptRequest")] request: JsValue,
    #[wasm_bindgen(js_name = countTokens, unchecked_optional_param_type = "(text: string) => number")] count_tokens: JsValue,
) -> Result<JsValue, JsValue> {
    const WHAT: &str = "buildPrompt request";
    let (value, books) = split_request(request, WHAT)?;
    let req: PromptRequest = read_checked(value, WHAT)?;
    let books = compiled_books(&books, req.world_info.compile_options(), WHAT)?;
    let mut c = counter(count_tokens);
    let out = prompt::build_prompt_with_books(&req, refs(&books), &mut c)?;
    to_js_value(&out)
}

/// Scans lorebooks against a chat (the editor's "test this entry"). Books are compiled once
/// and cached by content; `{ matcher }` uses a `LorebookMatcher`.
#[wasm_bindgen(js_name = scanLorebooks, unchecked_return_type = "WorldInfoResult")]
pub fn scan_lorebooks(
    #[wasm_bindgen(unchecked_param_type = "ScanRequest")] request: JsValue,
    #[wasm_bindgen(js_name = countTokens, unchecked_optional_param_type = "(text: string) => number")] count_tokens: JsValue,
) -> Result<JsValue, JsValue> {
    const WHAT: &str = "scanLorebooks request";
    let (value, books) = split_request(request, WHAT)?;
    let req: ScanRequest = read_checked(value, WHAT)?;
    let books = compiled_books(&books, req.settings.compile_options(), WHAT)?;
    let mut c = counter(count_tokens);
    to_js_value(&req.scan(refs(&books), &mut c))
}

/// A lorebook compiled once (Aho-Corasick over plain keys, regex keys compiled) and
/// reused by `scan`, or passed to `buildPrompt`/`scanLorebooks` as `{ matcher }`, until it
/// is freed.
#[wasm_bindgen]
pub struct LorebookMatcher {
    handle: u32,
    name: String,
    source: BookSource,
    compiled: Arc<CompiledLorebook>,
}

impl Drop for LorebookMatcher {
    fn drop(&mut self) {
        let h = self.handle;
        // During teardown the registry may already be gone; nothing to release then.
        let _ = MATCHERS.try_with(|m| m.borrow_mut().retain(|x| x.0 != h));
    }
}

#[wasm_bindgen]
impl LorebookMatcher {
    /// Compiles `book` (any lorebook JSON) named `name`, for the given World Info settings.
    #[wasm_bindgen(constructor)]
    pub fn new(
        name: String,
        #[wasm_bindgen(unchecked_param_type = "LorebookJson")] book: JsValue,
        #[wasm_bindgen(unchecked_param_type = "WorldInfoSettings | undefined")] settings: JsValue,
        #[wasm_bindgen(unchecked_param_type = "BookSource | undefined")] source: JsValue,
    ) -> Result<LorebookMatcher, JsValue> {
        let settings: WorldInfoSettings = if settings.is_undefined() || settings.is_null() {
            WorldInfoSettings::default()
        } else {
            read_checked(from_js_value(settings, "settings")?, "LorebookMatcher settings")?
        };
        let source: BookSource = if source.is_undefined() || source.is_null() {
            BookSource::Global
        } else {
            read_book_source(source, "LorebookMatcher source")?
        };
        let compiled = compile_cached(&book, settings.compile_options(), None, "book")?;
        let handle = NEXT_HANDLE.with(|n| {
            let h = n.get();
            n.set(h.wrapping_add(1).max(1));
            h
        });
        MATCHERS.with(|m| m.borrow_mut().push((handle, (name.clone(), source, compiled.clone()))));
        Ok(LorebookMatcher { handle, name, source, compiled })
    }

    /// The id by which requests find this matcher (`lorebooks: [{ matcher }]`).
    #[wasm_bindgen(getter)]
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// Entries, patterns, regex keys, automaton bytes and compile time.
    #[wasm_bindgen(unchecked_return_type = "CompileStats")]
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        to_js_value(&self.compiled.stats())
    }

    /// Scans with this compiled book (`request.lorebooks` is ignored).
    #[wasm_bindgen(unchecked_return_type = "WorldInfoResult")]
    pub fn scan(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ScanRequest")] request: JsValue,
        #[wasm_bindgen(js_name = countTokens, unchecked_optional_param_type = "(text: string) => number")] count_tokens: JsValue,
    ) -> Result<JsValue, JsValue> {
        let (value, _) = split_request(request, "scan request")?;
        let req: ScanRequest = read_checked(value, "scan request")?;
        let books = vec![BookRef { name: &self.name, source: self.source, book: &self.compiled }];
        let mut c = counter(count_tokens);
        to_js_value(&req.scan(books, &mut c))
    }

    /// Scans and returns only the number of activated entries (for benchmarks:
    /// avoids converting the whole result to JS).
    #[wasm_bindgen(js_name = scanCount)]
    pub fn scan_count(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ScanRequest")] request: JsValue,
    ) -> Result<u32, JsValue> {
        let (value, _) = split_request(request, "scan request")?;
        let req: ScanRequest = read_checked(value, "scan request")?;
        let books = vec![BookRef { name: &self.name, source: self.source, book: &self.compiled }];
        Ok(req.scan(books, &mut Estimator).activated.len() as u32)
    }
}
