//! Prompt assembly: chat completion and text completion.
//!
//! [`build_prompt`] takes a [`PromptRequest`] (character or group, persona, chat,
//! settings, lorebooks and their timed-effect state, generation type) and returns
//! the OpenAI-style `messages` (chat completion) or the prompt `text` (text
//! completion with an instruct template), the stop strings, a [`PromptReport`] and
//! the new lorebook state. Token counting goes through a [`TokenCounter`]
//! (default: SillyTavern's "None / estimated" tokenizer).

mod build;
pub mod instruct;
pub mod request;
pub mod tokens;

use serde::{Deserialize, Serialize};

pub use build::{build_prompt, build_prompt_with_books};
pub use request::{read_checked, BookCache, ScanRequest};
pub use tokens::{Estimator, TokenCounter};

use crate::lorebook::Lorebook;
use crate::macros::{ChatMessage, VarMap};
use crate::worldinfo::{BookSource, TimedState, WorldInfoResult, WorldInfoSettings};

/// A character (the fields prompt assembly uses).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CharacterInput {
    /// Name.
    pub name: String,
    /// Avatar file name (for lorebook character filters).
    pub avatar: String,
    /// `description`.
    pub description: String,
    /// `personality`.
    pub personality: String,
    /// `scenario`.
    pub scenario: String,
    /// `first_mes`.
    #[serde(alias = "first_mes")]
    pub first_mes: String,
    /// `mes_example`.
    #[serde(alias = "mes_example")]
    pub mes_example: String,
    /// `system_prompt` (replaces the main prompt when preferred).
    #[serde(alias = "system_prompt")]
    pub system_prompt: String,
    /// `post_history_instructions` (replaces the jailbreak prompt when preferred).
    #[serde(alias = "post_history_instructions")]
    pub post_history_instructions: String,
    /// `creator_notes`.
    #[serde(alias = "creator_notes")]
    pub creator_notes: String,
    /// `character_version`.
    #[serde(alias = "character_version")]
    pub character_version: String,
    /// `extensions.depth_prompt`.
    #[serde(alias = "depth_prompt", skip_serializing_if = "Option::is_none")]
    pub depth_prompt: Option<DepthPrompt>,
    /// Tag ids (lorebook tag filters).
    pub tags: Vec<String>,
}

/// Reads a character from a V1 flat object or a V2/V3 card (`{spec, data: {…}}`, as the card
/// codec returns it): the card's `data` fields, with `extensions.depth_prompt` and the tags.
/// Anything else is an error naming what was given.
pub fn character_from_value(v: &serde_json::Value) -> crate::Result<CharacterInput> {
    use serde_json::Value;
    let Value::Object(top) = v else {
        return Err(crate::Error::invalid_argument(format!("a character must be an object (a card), got {v}")));
    };
    let mut flat = match top.get("data") {
        Some(Value::Object(data)) => {
            let mut f = data.clone();
            if let Some(a) = top.get("avatar") {
                f.entry("avatar").or_insert_with(|| a.clone());
            }
            f
        }
        _ => top.clone(),
    };
    if !flat.contains_key("depth_prompt") && !flat.contains_key("depthPrompt") {
        if let Some(dp) = flat.get("extensions").and_then(|e| e.get("depth_prompt")).cloned() {
            flat.insert("depth_prompt".into(), dp);
        }
    }
    serde_json::from_value(Value::Object(flat)).map_err(|e| crate::Error::invalid_argument(format!("character: {e}")))
}

fn de_character<'de, D: serde::Deserializer<'de>>(d: D) -> Result<CharacterInput, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    character_from_value(&v).map_err(|e| serde::de::Error::custom(e.message()))
}

fn de_characters<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<CharacterInput>, D::Error> {
    let v = Vec::<serde_json::Value>::deserialize(d)?;
    v.iter().map(|m| character_from_value(m).map_err(|e| serde::de::Error::custom(e.message()))).collect()
}

/// The character's depth prompt ("character's note").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DepthPrompt {
    /// Text.
    pub prompt: String,
    /// Depth (default 4).
    pub depth: i64,
    /// `system`, `user` or `assistant`.
    pub role: String,
}

impl Default for DepthPrompt {
    fn default() -> Self {
        DepthPrompt { prompt: String::new(), depth: 4, role: "system".into() }
    }
}

/// A group chat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupInput {
    /// All members (cards or flat characters, as [`character_from_value`] reads them);
    /// [`PromptRequest::character`] is the current speaker.
    #[serde(deserialize_with = "de_characters")]
    pub members: Vec<CharacterInput>,
    /// Muted member names.
    pub muted: Vec<String>,
    /// Join the members' description/personality/scenario (generation mode "join").
    #[serde(alias = "join_cards")]
    pub join_cards: bool,
}

/// The user's persona.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct PersonaInput {
    /// Name (`{{user}}`).
    pub name: String,
    /// Description (`{{persona}}`).
    pub description: String,
    /// 0 = in the prompt (the only position implemented), anything else = not inserted.
    pub position: i64,
}

/// Author's note of the chat (SillyTavern's `chat_metadata` names `note_prompt`, `note_interval`,
/// … are accepted too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorsNote {
    /// The note text (macros allowed).
    #[serde(alias = "note_prompt")]
    pub text: String,
    /// Insert every N user messages (0 = never).
    #[serde(alias = "note_interval")]
    pub interval: i64,
    /// Depth when in chat.
    #[serde(alias = "note_depth")]
    pub depth: i64,
    /// 1 = in chat at depth, 0 = after the main prompt, 2 = before the main prompt.
    #[serde(alias = "note_position")]
    pub position: i64,
    /// 0 system, 1 user, 2 assistant.
    #[serde(alias = "note_role")]
    pub role: i64,
}

impl Default for AuthorsNote {
    fn default() -> Self {
        AuthorsNote { text: String::new(), interval: 1, depth: 4, position: 1, role: 0 }
    }
}

/// One item of the prompt order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromptOrderItem {
    /// `main`, `worldInfoBefore`, `personaDescription`, `charDescription`,
    /// `charPersonality`, `scenario`, `enhanceDefinitions`, `nsfw`, `worldInfoAfter`,
    /// `dialogueExamples`, `chatHistory`, `jailbreak`, or a custom prompt identifier.
    pub identifier: String,
    /// Whether it is included.
    pub enabled: bool,
}

/// A custom prompt of the preset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomPrompt {
    /// Identifier (referenced from the order).
    pub identifier: String,
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// Text (macros allowed).
    pub content: String,
    /// 0 = relative (in the order), 1 = absolute (injected at depth).
    #[serde(alias = "injection_position")]
    pub injection_position: i64,
    /// Depth for absolute prompts.
    #[serde(alias = "injection_depth")]
    pub injection_depth: i64,
    /// Order for absolute prompts (default 100).
    #[serde(alias = "injection_order")]
    pub injection_order: i64,
}

/// Chat-completion preset and prompt settings (defaults = SillyTavern's Default preset). JS names
/// are camelCase; SillyTavern's own names are accepted too (`openai_max_context`,
/// `openai_max_tokens`, `names_behavior`, `wi_format`, `send_if_empty`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct PromptSettings {
    /// Main prompt.
    pub main_prompt: String,
    /// Auxiliary ("NSFW") prompt.
    pub nsfw_prompt: String,
    /// Post-history instructions ("jailbreak").
    pub jailbreak_prompt: String,
    /// Enhance-definitions prompt.
    pub enhance_definitions_prompt: String,
    /// The order and enabled set.
    pub prompt_order: Vec<PromptOrderItem>,
    /// Custom prompts.
    pub custom_prompts: Vec<CustomPrompt>,
    /// `[Start a new Chat]`.
    #[serde(alias = "new_chat_prompt")]
    pub new_chat_prompt: String,
    /// `[Start a new group chat. Group members: {{group}}]`.
    #[serde(alias = "new_group_chat_prompt")]
    pub new_group_chat_prompt: String,
    /// `[Example Chat]`.
    #[serde(alias = "new_example_chat_prompt")]
    pub new_example_chat_prompt: String,
    /// Continue nudge.
    #[serde(alias = "continue_nudge_prompt")]
    pub continue_nudge_prompt: String,
    /// Impersonation prompt.
    #[serde(alias = "impersonation_prompt")]
    pub impersonation_prompt: String,
    /// Group nudge.
    #[serde(alias = "group_nudge_prompt")]
    pub group_nudge_prompt: String,
    /// Quiet prompt (for `quiet` generations).
    pub quiet_prompt: String,
    /// World Info wrapper (`{0}` = the text).
    #[serde(alias = "wi_format")]
    pub wi_format: String,
    /// `{{scenario}}`.
    #[serde(alias = "scenario_format")]
    pub scenario_format: String,
    /// `{{personality}}`.
    #[serde(alias = "personality_format")]
    pub personality_format: String,
    /// -1 none, 0 default, 1 completion (`name` field), 2 content (`Name: ` prefix).
    #[serde(alias = "names_behavior")]
    pub names_behavior: i64,
    /// Use the card's system prompt instead of the main prompt.
    #[serde(alias = "prefer_character_prompt")]
    pub prefer_character_prompt: bool,
    /// Use the card's post-history instructions instead of the jailbreak prompt.
    #[serde(alias = "prefer_character_jailbreak")]
    pub prefer_character_jailbreak: bool,
    /// Context size in tokens.
    #[serde(alias = "openai_max_context")]
    pub max_context: usize,
    /// Reply length in tokens (reserved).
    #[serde(alias = "openai_max_tokens")]
    pub max_tokens: usize,
    /// Examples before history (else they get what the history leaves).
    #[serde(alias = "pin_examples")]
    pub pin_examples: bool,
    /// User message used when the user sent nothing.
    #[serde(alias = "send_if_empty")]
    pub send_if_empty: String,
    /// Tokens added to each chat message's content count (framing). Default 5, as SillyTavern
    /// counts: each message on its own, 3 framing + 1 for the role + 3 of reply priming − 2
    /// (the golden trimming case pins it). Not used in text-completion mode.
    pub tokens_per_message: usize,
    /// Model name (`{{model}}`).
    pub model: String,
}

impl Default for PromptSettings {
    fn default() -> Self {
        let order = [
            ("main", true),
            ("worldInfoBefore", true),
            ("personaDescription", true),
            ("charDescription", true),
            ("charPersonality", true),
            ("scenario", true),
            ("enhanceDefinitions", false),
            ("nsfw", true),
            ("worldInfoAfter", true),
            ("dialogueExamples", true),
            ("chatHistory", true),
            ("jailbreak", true),
        ];
        PromptSettings {
            main_prompt: "Write {{char}}'s next reply in a fictional chat between {{charIfNotGroup}} and {{user}}.".into(),
            nsfw_prompt: String::new(),
            jailbreak_prompt: String::new(),
            enhance_definitions_prompt: "If you have more knowledge of {{char}}, add to the character's lore and personality to enhance them but keep the Character Sheet's definitions absolute.".into(),
            prompt_order: order
                .iter()
                .map(|(i, e)| PromptOrderItem { identifier: i.to_string(), enabled: *e })
                .collect(),
            custom_prompts: Vec::new(),
            new_chat_prompt: "[Start a new Chat]".into(),
            new_group_chat_prompt: "[Start a new group chat. Group members: {{group}}]".into(),
            new_example_chat_prompt: "[Example Chat]".into(),
            continue_nudge_prompt: "[Continue your last message without repeating its original content.]".into(),
            impersonation_prompt: "[Write your next reply from the point of view of {{user}}, using the chat history so far as a guideline for the writing style of {{user}}. Write 1 reply only in internet RP style. Don't write as {{char}} or system. Don't describe actions of {{char}}.]".into(),
            group_nudge_prompt: "[Write the next reply only as {{char}}.]".into(),
            quiet_prompt: String::new(),
            wi_format: "{0}".into(),
            scenario_format: "{{scenario}}".into(),
            personality_format: "{{personality}}".into(),
            names_behavior: 0,
            prefer_character_prompt: true,
            prefer_character_jailbreak: true,
            max_context: 4095,
            max_tokens: 300,
            pin_examples: false,
            send_if_empty: String::new(),
            tokens_per_message: 5,
            model: String::new(),
        }
    }
}

/// A lorebook taking part in the build.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct LorebookInput {
    /// Book name.
    pub name: String,
    /// Where it is active.
    pub source: BookSource,
    /// The book.
    pub book: Lorebook,
}

/// Text-completion settings (SillyTavern's context template and the instruct template's name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct TextSettings {
    /// Instruct template: ours (`chatml`, `llama3`, `mistral` = Mistral V7, `mistral-v2-v3`,
    /// `alpaca`, `vicuna`, `gemma`, `command-r`) or SillyTavern's preset name (`Llama 3 Instruct`,
    /// …), or `none` for plain `Name: message` lines.
    pub instruct: String,
    /// Separator heading each example block (`***`).
    #[serde(alias = "example_separator")]
    pub example_separator: String,
    /// Marks the start of the chat (`***`).
    #[serde(alias = "chat_start")]
    pub chat_start: String,
    /// The story string template (`{{#if field}}…{{/if}}`, `{{trim}}`, macros); empty =
    /// SillyTavern 1.19's Default ([`instruct::DEFAULT_STORY_STRING`]).
    #[serde(alias = "story_string")]
    pub story_string: String,
    /// `\n{{user}}:` (and `\n{{char}}:` when impersonating or continuing) are stop strings.
    #[serde(alias = "names_as_stop_strings")]
    pub names_as_stop_strings: bool,
    /// The chat start and example separator are stop strings.
    #[serde(alias = "separators_as_stop_strings")]
    pub separators_as_stop_strings: bool,
}

impl Default for TextSettings {
    fn default() -> Self {
        TextSettings {
            instruct: "none".into(),
            example_separator: "***".into(),
            chat_start: "***".into(),
            story_string: String::new(),
            names_as_stop_strings: true,
            separators_as_stop_strings: true,
        }
    }
}

/// Everything one prompt build reads. Unknown fields are an error naming the field (snake_case
/// names are accepted as aliases); the character and group members are cards or flat
/// characters ([`character_from_value`]), whose extra fields pass through.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct PromptRequest {
    /// `chat` (messages) or `text` (one prompt string).
    pub mode: String,
    /// The character (in groups: the current speaker): a card or a flat character.
    #[serde(deserialize_with = "de_character")]
    pub character: CharacterInput,
    /// Group chat, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupInput>,
    /// Persona.
    pub persona: PersonaInput,
    /// Chat, oldest first.
    pub chat: Vec<ChatMessage>,
    /// Chat-completion settings (budget, prompts, order).
    pub settings: PromptSettings,
    /// Text-completion settings.
    pub text: TextSettings,
    /// World Info settings.
    #[serde(alias = "world_info")]
    pub world_info: WorldInfoSettings,
    /// Active lorebooks.
    pub lorebooks: Vec<LorebookInput>,
    /// Timed-effect state of the chat.
    #[serde(alias = "lorebook_state")]
    pub lorebook_state: TimedState,
    /// Author's note.
    #[serde(alias = "authors_note", skip_serializing_if = "Option::is_none")]
    pub authors_note: Option<AuthorsNote>,
    /// normal, continue, impersonate, swipe, regenerate, quiet.
    #[serde(alias = "generation_type")]
    pub generation_type: String,
    /// Text in the send box.
    pub input: String,
    /// Random seed.
    pub seed: u64,
    /// "Now" (epoch ms) for time macros.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub now: Option<f64>,
    /// UTC offset in minutes.
    #[serde(alias = "utc_offset_minutes")]
    pub utc_offset_minutes: i32,
    /// Chat id (stable `{{pick}}`).
    #[serde(alias = "chat_id")]
    pub chat_id: String,
    /// Chat variables.
    #[serde(alias = "local_variables")]
    pub local_variables: VarMap,
    /// Global variables.
    #[serde(alias = "global_variables")]
    pub global_variables: VarMap,
}

/// One message of a chat-completion prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// Text.
    pub content: String,
    /// Optional name (`example_user`, `example_assistant`, or a speaker).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One block of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportBlock {
    /// Identifier (`main`, `chatHistory`, `dialogueExamples`, `authorsNote`, …).
    pub identifier: String,
    /// Messages it produced.
    pub messages: usize,
    /// Tokens.
    pub tokens: usize,
}

/// Why the prompt looks the way it does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptReport {
    /// Every block with its token count, in prompt order.
    pub blocks: Vec<ReportBlock>,
    /// Total tokens of the prompt.
    pub total_tokens: usize,
    /// Token budget (context − reply).
    pub budget: usize,
    /// Chat messages included / dropped by the budget.
    pub history_included: usize,
    /// Chat messages that did not fit.
    pub history_dropped: usize,
    /// Example blocks included / dropped.
    pub examples_included: usize,
    /// Example blocks that did not fit.
    pub examples_dropped: usize,
    /// The World Info scan (activated entries with reasons, dropped entries).
    pub world_info: WorldInfoResult,
}

/// The result of [`build_prompt`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptOutput {
    /// Chat-completion messages (also filled in text mode, for inspection).
    pub messages: Vec<PromptMessage>,
    /// Text-completion prompt (text mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Stop strings.
    pub stop: Vec<String>,
    /// The report.
    pub report: PromptReport,
    /// Lorebook timed-effect state to store.
    pub lorebook_state: TimedState,
    /// Chat variables after macros ran.
    pub local_variables: VarMap,
    /// Global variables after macros ran.
    pub global_variables: VarMap,
}

#[cfg(test)]
mod card_input_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn characters_come_from_v3_cards_v2_cards_and_flat_objects() {
        let v3 = json!({"spec": "chara_card_v3", "spec_version": "3.0", "data": {
            "name": "Nova", "description": "A pilot.", "first_mes": "Hi", "tags": ["sci-fi"],
            "extensions": {"depth_prompt": {"prompt": "Stay calm.", "depth": 2, "role": "system"}}}});
        let c = character_from_value(&v3).unwrap();
        assert_eq!((c.name.as_str(), c.description.as_str(), c.first_mes.as_str()), ("Nova", "A pilot.", "Hi"));
        assert_eq!(c.tags, ["sci-fi"]);
        assert_eq!(c.depth_prompt.unwrap().prompt, "Stay calm.");
        let flat = character_from_value(&json!({"name": "Old", "description": "V1"})).unwrap();
        assert_eq!(flat.name, "Old");
        assert_eq!(character_from_value(&json!(42)).unwrap_err().code(), crate::ErrorCode::InvalidArgument);
    }
}
