//! SillyTavern macro engine: `{{char}}`, `{{user}}`, variables,
//! `{{if}}…{{else}}…{{/if}}`, time, randomness and the rest of the 1.19 macro set.
//!
//! # Semantics (SillyTavern 1.19 engine, verified against the recorded golden cases)
//!
//! * Syntax: `{{name}}`, `{{name::a::b}}`, `{{name arg}}`, legacy `{{name:arg}}`.
//!   Names are case-insensitive and may be padded with whitespace (`{{ char }}`).
//!   Arguments are trimmed. Nested macros inside arguments are resolved first,
//!   left to right (so `{{setvar::k_{{user}}::v}}` builds the name).
//! * Anything that is not a well-formed macro is text (`{{char}`, `{{ {{user}}` →
//!   `{{ Wren`, `{{{char}}}` → `{Aldric}`). Unknown macros, and known macros called
//!   with the wrong number of arguments (`{{setvar::a::b::c}}`), stay as written.
//! * Legacy `<USER>`, `<BOT>`, `<CHAR>`, `<GROUP>`, `<CHARIFNOTGROUP>` are rewritten to
//!   macros first, in any letter case.
//! * `{{if cond}}…{{else}}…{{/if}}` blocks nest; only the taken branch is evaluated.
//!   A condition is `.var`, `$var`, a macro name (`{{if description}}`), a nested
//!   macro, or literal text; `!` negates; `""`, `false`, `off`, `0` are false.
//! * `{{trim}}` removes itself and the newlines directly next to it.
//! * Card fields (`{{description}}` …) are themselves rendered when inserted.
//! * Variables: local (chat) and global maps of JSON values; strings as written,
//!   numbers after arithmetic (`addvar`, `incvar`, `+=`, `++`); shorthand
//!   `{{.x}}`/`{{$x}}` with `= += -= ++ -- ??= ||= ?? || == != > >= < <=`.
//! * Determinism: all randomness comes from a seeded [`rng::Rng`]; `{{pick}}` is a
//!   hash of the chat seed and the macro's position; the clock is injected through
//!   [`MacroContext::now`].

mod engine;
pub mod parse;
pub mod rng;
pub mod time;
pub mod value;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use engine::MacroEngine;

/// A JSON object of variables (name → value).
pub type VarMap = Map<String, Value>;

/// One chat message as the engine sees it (SillyTavern's message object, reduced).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ChatMessage {
    /// Speaker name.
    pub name: String,
    /// Sent by the user.
    #[serde(alias = "is_user")]
    pub is_user: bool,
    /// A system/narrator message (hidden from World Info scanning).
    #[serde(alias = "is_system")]
    pub is_system: bool,
    /// Message text.
    #[serde(alias = "text", alias = "content")]
    pub mes: String,
    /// Send time: epoch milliseconds or an ISO-8601 string.
    #[serde(alias = "send_date", skip_serializing_if = "Option::is_none")]
    pub send_date: Option<Value>,
    /// Index of the shown swipe.
    #[serde(alias = "swipe_id", skip_serializing_if = "Option::is_none")]
    pub swipe_id: Option<i64>,
    /// All swipes of this message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swipes: Option<Vec<String>>,
    /// Avatar override (SillyTavern `force_avatar`); with names_behavior "default"
    /// such a message gets a `Name: ` prefix.
    #[serde(alias = "force_avatar", skip_serializing_if = "Option::is_none")]
    pub force_avatar: Option<String>,
}

/// Everything macros can read. Field names are camelCase in JS; the snake_case names
/// used by the golden fixtures are accepted as aliases.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MacroContext {
    /// Current character name (`{{char}}`; in groups the current speaker).
    #[serde(rename = "char", alias = "charName")]
    pub char_name: String,
    /// Persona name (`{{user}}`).
    pub user: String,
    /// Card `description`.
    pub description: String,
    /// Card `personality`.
    pub personality: String,
    /// Card `scenario` (a chat scenario override should already be applied).
    pub scenario: String,
    /// Persona description (`{{persona}}`).
    pub persona: String,
    /// Card `mes_example` (raw).
    #[serde(alias = "mes_example")]
    pub mes_example: String,
    /// Card `first_mes`.
    #[serde(alias = "first_mes")]
    pub first_mes: String,
    /// Card `creator_notes`.
    #[serde(alias = "creator_notes")]
    pub creator_notes: String,
    /// Card depth prompt text.
    #[serde(alias = "depth_prompt")]
    pub depth_prompt: String,
    /// Card `character_version`.
    #[serde(alias = "char_version")]
    pub char_version: String,
    /// Card `system_prompt` (`{{charPrompt}}`).
    #[serde(alias = "system_prompt")]
    pub system_prompt: String,
    /// Card `post_history_instructions` (`{{charInstruction}}`).
    #[serde(alias = "post_history_instructions")]
    pub post_history_instructions: String,
    /// The global system prompt (`{{systemPrompt}}`).
    #[serde(alias = "global_system_prompt")]
    pub global_system_prompt: String,
    /// Preformatted `{{mesExamples}}`; when absent the raw examples are formatted as
    /// text completion does (blocks headed by `example_separator`, default `***`).
    #[serde(alias = "mes_examples", skip_serializing_if = "Option::is_none")]
    pub mes_examples: Option<String>,
    /// Separator heading each example block in `{{mesExamples}}` (default `***`).
    #[serde(alias = "example_separator", skip_serializing_if = "Option::is_none")]
    pub example_separator: Option<String>,
    /// The chat, oldest first.
    pub chat: Vec<ChatMessage>,
    /// Text in the send box (`{{input}}`).
    pub input: String,
    /// Group member names (empty in a solo chat).
    #[serde(alias = "group_members")]
    pub group_members: Vec<String>,
    /// Muted group members.
    #[serde(alias = "group_muted")]
    pub group_muted: Vec<String>,
    /// Model name (`{{model}}`).
    pub model: String,
    /// Context size in tokens (`{{maxContext}}`).
    #[serde(alias = "max_context")]
    pub max_context: u64,
    /// Reply length in tokens (`{{maxResponse}}`).
    #[serde(alias = "max_response")]
    pub max_response: u64,
    /// `{{isMobile}}`.
    #[serde(alias = "is_mobile")]
    pub is_mobile: bool,
    /// Enabled extension names (`{{hasExtension::x}}`).
    pub extensions: Vec<String>,
    /// World Info outlet contents by outlet name (`{{outlet::name}}`).
    pub outlets: BTreeMap<String, Vec<String>>,
    /// Generation type of the last generation (`{{lastGenerationType}}`).
    #[serde(alias = "last_generation_type")]
    pub last_generation_type: String,
    /// First chat message included in the prompt (`{{firstIncludedMessageId}}`).
    #[serde(alias = "first_included_message_id", skip_serializing_if = "Option::is_none")]
    pub first_included_message_id: Option<i64>,
    /// Chat variables before rendering.
    #[serde(alias = "local_variables")]
    pub local_variables: VarMap,
    /// Global variables before rendering.
    #[serde(alias = "global_variables")]
    pub global_variables: VarMap,
    /// "Now" in epoch milliseconds; `None` = the system clock.
    #[serde(alias = "now_ms", skip_serializing_if = "Option::is_none")]
    pub now: Option<f64>,
    /// Local time zone offset from UTC in minutes (e.g. 120 for UTC+2). Default 0.
    #[serde(alias = "utc_offset_minutes")]
    pub utc_offset_minutes: i32,
    /// Seed for `{{random}}` and `{{roll}}`; `None` = 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Stable per-chat id for `{{pick}}` (SillyTavern uses the chat id).
    #[serde(alias = "chat_id")]
    pub chat_id: String,
}

/// The result of [`render`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderOutput {
    /// The rendered text.
    pub output: String,
    /// Chat variables after rendering.
    pub local_variables: VarMap,
    /// Global variables after rendering.
    pub global_variables: VarMap,
    /// Strings collected by `{{banned::"…"}}` (for text-generation banned strings).
    pub banned: Vec<String>,
}

/// Renders `text` once with `ctx` (variables start from the context's maps).
pub fn render(text: &str, ctx: &MacroContext) -> RenderOutput {
    let mut eng = MacroEngine::new(ctx);
    let output = eng.render(text);
    let (local_variables, global_variables, banned) = eng.finish();
    RenderOutput { output, local_variables, global_variables, banned }
}

/// Splits `mes_example` into blocks the way SillyTavern does: on `<START>` (any case),
/// adding one in front if missing; each block is trimmed. Empty text → no blocks.
pub fn split_examples(examples: &str) -> Vec<String> {
    let t = examples.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("<START>") {
        return Vec::new();
    }
    let lower = t.to_ascii_lowercase();
    let mut parts: Vec<String> = Vec::new();
    let mut idx = Vec::new();
    let mut from = 0;
    while let Some(p) = lower[from..].find("<start>") {
        idx.push(from + p);
        from += p + 7;
    }
    if idx.first() != Some(&0) {
        idx.insert(0, usize::MAX); // implicit block before the first marker
    }
    for (k, &start) in idx.iter().enumerate() {
        let body_start = if start == usize::MAX { 0 } else { start + 7 };
        let end = idx.get(k + 1).copied().unwrap_or(t.len());
        parts.push(t[body_start..end].trim().to_string());
    }
    parts
}

/// `{{mesExamples}}` in text-completion form: each block headed by `separator` and a
/// newline, followed by a newline.
pub fn format_examples(examples: &str, separator: &str) -> String {
    split_examples(examples).into_iter().map(|b| format!("{separator}\n{b}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_blocks() {
        assert_eq!(split_examples("<START>\na\n<start>\nb"), ["a", "b"]);
        assert_eq!(split_examples("x: hi"), ["x: hi"]);
        assert_eq!(split_examples("x: hi\n<START>\ny"), ["x: hi", "y"]);
        assert!(split_examples("  ").is_empty());
        assert_eq!(format_examples("<START>\nA: 1", "***"), "***\nA: 1\n");
    }
}
