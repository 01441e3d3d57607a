//! JS API of the prompt engine: `buildPrompt`, `renderMacros`, `scanLorebooks`, and
//! the `LorebookMatcher` class that keeps a compiled lorebook between scans.
//! Only type conversion lives here; the logic is in `macros`, `worldinfo`, `prompt`.

use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::error::{from_js_value, to_js_value};
use crate::lorebook::Lorebook;
use crate::macros::{self, ChatMessage, MacroContext};
use crate::prompt::{self, Estimator, LorebookInput, PromptRequest, TokenCounter};
use crate::worldinfo::{
    self, BookRef, BookSource, CompiledLorebook, GlobalScanData, ScanCharacter, ScanInput, TimedState,
    WorldInfoSettings,
};

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
/** World Info settings (SillyTavern names such as `world_info_depth` are accepted too). */
export interface WorldInfoSettings { depth?: number; budget?: number; budgetCap?: number; minActivations?: number;
  minActivationsDepthMax?: number; recursive?: boolean; maxRecursionSteps?: number; caseSensitive?: boolean;
  matchWholeWords?: boolean; useGroupScoring?: boolean; includeNames?: boolean; characterStrategy?: number; }
export interface TimedRecord { hash: number; start: number; end: number; protected: boolean; }
/** Timed-effect state of a chat: store it and pass it back next time. */
export interface TimedState { sticky: Record<string, TimedRecord>; cooldown: Record<string, TimedRecord>; matched?: string[]; }
export type BookSource = "chat" | "persona" | "global" | "character";
/** A lorebook: SillyTavern World Info JSON, a V2/V3 character_book, or a bare entry array. */
export type LorebookJson = unknown;
export interface LorebookInput { name: string; source?: BookSource; book: LorebookJson; }
export interface ScanRequest { lorebooks: LorebookInput[]; chat: ChatMessage[]; settings?: WorldInfoSettings;
  maxContext?: number; globalScanData?: { personaDescription?: string; characterDescription?: string;
  characterPersonality?: string; characterDepthPrompt?: string; scenario?: string; creatorNotes?: string };
  trigger?: string; character?: { name?: string; avatar?: string; tags?: string[] }; macros?: MacroContext;
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
/** A prompt build request; see the Rust docs of `PromptRequest` for every field. */
export interface PromptRequest { mode?: "chat" | "text"; character: Record<string, unknown>;
  group?: { members: Record<string, unknown>[]; muted?: string[]; joinCards?: boolean };
  persona?: { name?: string; description?: string; position?: number }; chat: ChatMessage[];
  settings?: Record<string, unknown>; text?: {
    /** Instruct template: ours (`chatml`, `llama3`, `mistral`, `mistral-v2-v3`, `alpaca`, `vicuna`, `gemma`, `command-r`), SillyTavern's preset name, or `none` (plain `Name: message` lines). */
    instruct?: string; exampleSeparator?: string; chatStart?: string;
    /** Context template story string (Handlebars-style `{{#if}}`; default: SillyTavern's Default). */
    storyString?: string; namesAsStopStrings?: boolean; separatorsAsStopStrings?: boolean;
  };
  worldInfo?: WorldInfoSettings; lorebooks?: LorebookInput[]; lorebookState?: TimedState;
  authorsNote?: { text?: string; interval?: number; depth?: number; position?: number; role?: number };
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
        from_js_value(context, "context")?
    };
    if ctx.now.is_none() {
        ctx.now = Some(js_sys::Date::now());
        ctx.utc_offset_minutes = -(js_sys::Date::new_0().get_timezone_offset() as i32);
    }
    to_js_value(&macros::render(text, &ctx))
}

/// Builds a prompt. `countTokens(text)` is optional (default: `ceil(utf8 bytes / 3.35)`).
#[wasm_bindgen(js_name = buildPrompt, unchecked_return_type = "PromptOutput")]
pub fn build_prompt(
    #[wasm_bindgen(unchecked_param_type = "PromptRequest")] request: JsValue,
    #[wasm_bindgen(js_name = countTokens, unchecked_optional_param_type = "(text: string) => number")] count_tokens: JsValue,
) -> Result<JsValue, JsValue> {
    // The character (and group members) may be given as cards straight from the codec.
    let fix = |v: JsValue, what: &str| -> Result<JsValue, JsValue> {
        if v.is_undefined() || v.is_null() {
            return Ok(v);
        }
        let raw: serde_json::Value = from_js_value(v, what)?;
        to_js_value(&prompt::character_from_value(&raw)?)
    };
    let get = |o: &JsValue, k: &str| js_sys::Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    if request.is_object() {
        let request = js_sys::Object::assign(&js_sys::Object::new(), request.unchecked_ref());
        js_sys::Reflect::set(&request, &JsValue::from_str("character"), &fix(get(&request, "character"), "character")?)?;
        let group = get(&request, "group");
        if group.is_object() {
            let group = js_sys::Object::assign(&js_sys::Object::new(), group.unchecked_ref());
            if let Ok(members) = get(&group, "members").dyn_into::<js_sys::Array>() {
                let fixed = js_sys::Array::new();
                for m in members.iter() {
                    fixed.push(&fix(m, "group member")?);
                }
                js_sys::Reflect::set(&group, &JsValue::from_str("members"), &fixed)?;
            }
            js_sys::Reflect::set(&request, &JsValue::from_str("group"), &group)?;
        }
        return build_prompt_fixed(request.into(), count_tokens);
    }
    build_prompt_fixed(request, count_tokens)
}

fn build_prompt_fixed(request: JsValue, count_tokens: JsValue) -> Result<JsValue, JsValue> {
    let req: PromptRequest = from_js_value(request, "request")?;
    let mut c = counter(count_tokens);
    let out = prompt::build_prompt(&req, &mut c)?;
    to_js_value(&out)
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ScanRequest {
    lorebooks: Vec<LorebookInput>,
    chat: Vec<ChatMessage>,
    settings: WorldInfoSettings,
    max_context: Option<usize>,
    global_scan_data: GlobalScanData,
    trigger: String,
    character: ScanCharacter,
    macros: Option<MacroContext>,
    state: TimedState,
    seed: u64,
    dry_run: bool,
    external_activations: Vec<String>,
    injections: Vec<String>,
}

fn run_scan(req: &ScanRequest, books: Vec<BookRef<'_>>, c: &mut dyn TokenCounter) -> worldinfo::WorldInfoResult {
    let trigger = if req.trigger.is_empty() { "normal" } else { req.trigger.as_str() };
    let input = ScanInput {
        books,
        chat: &req.chat,
        settings: &req.settings,
        max_context: req.max_context.unwrap_or(8192),
        global: &req.global_scan_data,
        trigger,
        character: &req.character,
        macros: req.macros.as_ref(),
        state: &req.state,
        seed: req.seed,
        dry_run: req.dry_run,
        external_activations: &req.external_activations,
        injections: &req.injections,
        greeting_index: None,
    };
    worldinfo::scan(&input, c)
}

/// Scans lorebooks against a chat (the editor's "test this entry"). Compiles the
/// books on every call; use `LorebookMatcher` to keep a compiled book.
#[wasm_bindgen(js_name = scanLorebooks, unchecked_return_type = "WorldInfoResult")]
pub fn scan_lorebooks(
    #[wasm_bindgen(unchecked_param_type = "ScanRequest")] request: JsValue,
    #[wasm_bindgen(js_name = countTokens, unchecked_optional_param_type = "(text: string) => number")] count_tokens: JsValue,
) -> Result<JsValue, JsValue> {
    let req: ScanRequest = from_js_value(request, "request")?;
    let compiled: Vec<CompiledLorebook> =
        req.lorebooks.iter().map(|l| CompiledLorebook::new(l.book.clone(), req.settings.compile_options())).collect();
    let books = req
        .lorebooks
        .iter()
        .zip(&compiled)
        .map(|(l, b)| BookRef { name: &l.name, source: l.source, book: b })
        .collect();
    let mut c = counter(count_tokens);
    to_js_value(&run_scan(&req, books, &mut c))
}

/// A lorebook compiled once (Aho-Corasick over plain keys, regex keys compiled) and
/// reused by `scan` until it is replaced.
#[wasm_bindgen]
pub struct LorebookMatcher {
    name: String,
    source: BookSource,
    compiled: CompiledLorebook,
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
        let book: Lorebook = from_js_value(book, "book")?;
        let settings: WorldInfoSettings = if settings.is_undefined() || settings.is_null() {
            WorldInfoSettings::default()
        } else {
            from_js_value(settings, "settings")?
        };
        let source: BookSource = if source.is_undefined() || source.is_null() {
            BookSource::Global
        } else {
            from_js_value(source, "source")?
        };
        Ok(LorebookMatcher { name, source, compiled: CompiledLorebook::new(book, settings.compile_options()) })
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
        let req: ScanRequest = from_js_value(request, "request")?;
        let books = vec![BookRef { name: &self.name, source: self.source, book: &self.compiled }];
        let mut c = counter(count_tokens);
        to_js_value(&run_scan(&req, books, &mut c))
    }

    /// Scans and returns only the number of activated entries (for benchmarks:
    /// avoids converting the whole result to JS).
    #[wasm_bindgen(js_name = scanCount)]
    pub fn scan_count(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ScanRequest")] request: JsValue,
    ) -> Result<u32, JsValue> {
        let req: ScanRequest = from_js_value(request, "request")?;
        let books = vec![BookRef { name: &self.name, source: self.source, book: &self.compiled }];
        Ok(run_scan(&req, books, &mut Estimator).activated.len() as u32)
    }
}
