//! Text completion: SillyTavern 1.19's context template (the story string) and instruct
//! templates, re-implemented from SillyTavern's observed behaviour (the golden cases in
//! `tests/fixtures/st-golden-local/`). The shipped templates are SillyTavern 1.19's presets,
//! field for field: ChatML, Llama 3 Instruct, Mistral V7, Mistral V2 & V3, Alpaca, Vicuna 1.1,
//! Gemma 2 and Command R. `none` = no instruct mode (plain `Name: message` lines).
//!
//! How an instruct prompt is put together (SillyTavern 1.19):
//! 1. the story string, rendered from the context template, wrapped in the template's story-string
//!    prefix and suffix (a newline after the prefix when `wrap` is on); nothing when it is empty;
//! 2. each example block: the example separator and a newline, then its messages (`{{user}}:` /
//!    `{{char}}:` lines, consecutive lines by the same speaker merged) wrapped like chat messages;
//!    the user's example lines keep their name under "force" and "always";
//! 3. the chat start and a newline;
//! 4. the user alignment message (when set and the history does not start with a user message);
//! 5. the history with depth injections and, last, the post-history instructions as a user message;
//!    each message is `prefix [\n if wrap] [Name: ]content suffix`, the first message uses the
//!    first-input/first-output prefix, the last user message the last-input prefix;
//! 6. the reply prefix: the last-output (impersonate: last-input) prefix or the plain one, on a new
//!    line when `wrap` is on; for continue, the continued message without its suffix.
//!
//! Stop strings: `\n{{user}}:` (impersonate: `\n{{char}}:` first), the stop
//! sequence and the sequences (each line on its own, `\n` in front when `wrap` is on), the chat
//! start and example separator (`\n` in front), without duplicates.

use super::PromptRequest;
use crate::macros::MacroEngine;

/// When chat messages get a `Name: ` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamesBehavior {
    /// Never.
    Never,
    /// Group members and past personas only (SillyTavern's "force").
    Force,
    /// Always.
    Always,
}

/// An instruct template (SillyTavern's fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstructTemplate {
    /// Our name (`chatml`, `llama3`, …).
    pub name: &'static str,
    /// The SillyTavern 1.19 preset it reproduces.
    pub st_name: &'static str,
    /// User message prefix.
    pub input_sequence: &'static str,
    /// User message suffix.
    pub input_suffix: &'static str,
    /// Assistant message prefix.
    pub output_sequence: &'static str,
    /// Assistant message suffix.
    pub output_suffix: &'static str,
    /// System message prefix.
    pub system_sequence: &'static str,
    /// System message suffix.
    pub system_suffix: &'static str,
    /// Prefix of the first message when it is a user message.
    pub first_input_sequence: &'static str,
    /// Prefix of the last user message (and of the reply when impersonating).
    pub last_input_sequence: &'static str,
    /// Prefix of the first message when it is an assistant message.
    pub first_output_sequence: &'static str,
    /// Prefix of the reply.
    pub last_output_sequence: &'static str,
    /// Prefix for background (quiet) system instructions.
    pub last_system_sequence: &'static str,
    /// Stop sequence.
    pub stop_sequence: &'static str,
    /// Before the story string.
    pub story_string_prefix: &'static str,
    /// After the story string.
    pub story_string_suffix: &'static str,
    /// User message inserted first when the history does not start with one.
    pub user_alignment_message: &'static str,
    /// A newline after each prefix (and before the reply prefix).
    pub wrap: bool,
    /// Macros in the sequences are replaced.
    pub macros: bool,
    /// Name prefixes.
    pub names_behavior: NamesBehavior,
    /// System messages use the user sequences.
    pub system_same_as_user: bool,
    /// The sequences are stop strings too (else only the stop sequence).
    pub sequences_as_stop_strings: bool,
    /// Example dialogues are left out.
    pub skip_examples: bool,
}

const BASE: InstructTemplate = InstructTemplate {
    name: "",
    st_name: "",
    input_sequence: "",
    input_suffix: "",
    output_sequence: "",
    output_suffix: "",
    system_sequence: "",
    system_suffix: "",
    first_input_sequence: "",
    last_input_sequence: "",
    first_output_sequence: "",
    last_output_sequence: "",
    last_system_sequence: "",
    stop_sequence: "",
    story_string_prefix: "",
    story_string_suffix: "",
    user_alignment_message: "",
    wrap: false,
    macros: true,
    names_behavior: NamesBehavior::Force,
    system_same_as_user: false,
    sequences_as_stop_strings: true,
    skip_examples: false,
};

/// The shipped templates (SillyTavern 1.19's presets).
pub const TEMPLATES: &[InstructTemplate] = &[
    InstructTemplate {
        name: "chatml",
        st_name: "ChatML",
        input_sequence: "<|im_start|>user",
        input_suffix: "<|im_end|>\n",
        output_sequence: "<|im_start|>assistant",
        output_suffix: "<|im_end|>\n",
        system_sequence: "<|im_start|>system",
        system_suffix: "<|im_end|>\n",
        stop_sequence: "<|im_end|>",
        story_string_prefix: "<|im_start|>system",
        story_string_suffix: "<|im_end|>\n",
        wrap: true,
        ..BASE
    },
    InstructTemplate {
        name: "llama3",
        st_name: "Llama 3 Instruct",
        input_sequence: "<|start_header_id|>user<|end_header_id|>\n\n",
        input_suffix: "<|eot_id|>",
        output_sequence: "<|start_header_id|>assistant<|end_header_id|>\n\n",
        output_suffix: "<|eot_id|>",
        system_sequence: "<|start_header_id|>system<|end_header_id|>\n\n",
        system_suffix: "<|eot_id|>",
        stop_sequence: "<|eot_id|>",
        story_string_prefix: "<|start_header_id|>system<|end_header_id|>\n\n",
        story_string_suffix: "<|eot_id|>",
        ..BASE
    },
    InstructTemplate {
        name: "mistral",
        st_name: "Mistral V7",
        input_sequence: "[INST] ",
        input_suffix: "[/INST]",
        output_sequence: " ",
        output_suffix: "</s>",
        system_sequence: "[SYSTEM_PROMPT] ",
        system_suffix: "[/SYSTEM_PROMPT]",
        stop_sequence: "</s>",
        story_string_prefix: "[SYSTEM_PROMPT] ",
        story_string_suffix: "[/SYSTEM_PROMPT]",
        ..BASE
    },
    InstructTemplate {
        name: "mistral-v2-v3",
        st_name: "Mistral V2 & V3",
        input_sequence: "[INST] ",
        output_sequence: "[/INST] ",
        output_suffix: "</s>",
        last_output_sequence: "[/INST]",
        story_string_prefix: "[INST] ",
        story_string_suffix: "[/INST] Understood.</s>",
        user_alignment_message:
            "Let's get started. Please respond based on the information and instructions provided above.",
        system_same_as_user: true,
        ..BASE
    },
    InstructTemplate {
        name: "alpaca",
        st_name: "Alpaca",
        input_sequence: "### Instruction:",
        input_suffix: "\n\n",
        output_sequence: "### Response:",
        output_suffix: "\n\n",
        system_sequence: "### Input:",
        system_suffix: "\n\n",
        story_string_suffix: "\n\n",
        wrap: true,
        ..BASE
    },
    InstructTemplate {
        name: "vicuna",
        st_name: "Vicuna 1.1",
        input_sequence: "\nUSER: ",
        output_sequence: "\nASSISTANT: ",
        output_suffix: "</s>",
        story_string_prefix: "BEGINNING OF CONVERSATION: ",
        system_same_as_user: true,
        ..BASE
    },
    InstructTemplate {
        name: "gemma",
        st_name: "Gemma 2",
        input_sequence: "<start_of_turn>user",
        input_suffix: "<end_of_turn>\n",
        output_sequence: "<start_of_turn>model",
        output_suffix: "<end_of_turn>\n",
        system_sequence: "<start_of_turn>system",
        system_suffix: "<end_of_turn>\n",
        stop_sequence: "<end_of_turn>",
        story_string_prefix: "<start_of_turn>user",
        story_string_suffix: "<end_of_turn>\n",
        wrap: true,
        system_same_as_user: true,
        ..BASE
    },
    InstructTemplate {
        name: "command-r",
        st_name: "Command R",
        input_sequence: "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>",
        input_suffix: "<|END_OF_TURN_TOKEN|>",
        output_sequence: "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>",
        output_suffix: "<|END_OF_TURN_TOKEN|>",
        system_sequence: "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>",
        system_suffix: "<|END_OF_TURN_TOKEN|>",
        stop_sequence: "<|END_OF_TURN_TOKEN|>",
        story_string_prefix: "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>",
        story_string_suffix: "<|END_OF_TURN_TOKEN|>",
        ..BASE
    },
];

fn norm(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// Looks a template up by our name or SillyTavern's preset name (case, spaces and punctuation
/// ignored: `llama-3`, `Llama 3 Instruct`, `command_r`, `Mistral V7` all work).
pub fn template(name: &str) -> Option<&'static InstructTemplate> {
    let n = norm(name);
    if n.is_empty() {
        return None;
    }
    TEMPLATES.iter().find(|t| norm(t.name) == n || norm(t.st_name) == n)
}

/// SillyTavern 1.19's "Default" context template as a fresh user has it.
pub const DEFAULT_STORY_STRING: &str = "{{#if anchorBefore}}{{anchorBefore}}\n{{/if}}{{#if system}}{{system}}\n{{/if}}{{#if wiBefore}}{{wiBefore}}\n{{/if}}{{#if description}}{{description}}\n{{/if}}{{#if personality}}{{char}}'s personality: {{personality}}\n{{/if}}{{#if scenario}}Scenario: {{scenario}}\n{{/if}}{{#if wiAfter}}{{wiAfter}}\n{{/if}}{{#if persona}}{{persona}}\n{{/if}}{{#if anchorAfter}}{{anchorAfter}}\n{{/if}}";

/// The values a story string can use.
#[derive(Debug, Clone, Default)]
pub struct StoryFields {
    /// `{{anchorBefore}}` (e.g. the author's note "before the story string").
    pub anchor_before: String,
    /// `{{system}}`: the system prompt, or the card's override.
    pub system: String,
    /// `{{wiBefore}}` / `{{loreBefore}}`.
    pub wi_before: String,
    /// `{{description}}`.
    pub description: String,
    /// `{{personality}}`.
    pub personality: String,
    /// `{{scenario}}`.
    pub scenario: String,
    /// `{{wiAfter}}` / `{{loreAfter}}`.
    pub wi_after: String,
    /// `{{persona}}`.
    pub persona: String,
    /// `{{anchorAfter}}`.
    pub anchor_after: String,
    /// `{{mesExamples}}` (formatted).
    pub mes_examples: String,
    /// `{{mesExamplesRaw}}`.
    pub mes_examples_raw: String,
}

impl StoryFields {
    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "anchorBefore" => &self.anchor_before,
            "system" => &self.system,
            "wiBefore" | "loreBefore" => &self.wi_before,
            "description" => &self.description,
            "personality" => &self.personality,
            "scenario" => &self.scenario,
            "wiAfter" | "loreAfter" => &self.wi_after,
            "persona" => &self.persona,
            "anchorAfter" => &self.anchor_after,
            "mesExamples" => &self.mes_examples,
            "mesExamplesRaw" => &self.mes_examples_raw,
            _ => return None,
        })
    }
}

const TRIM_MARK: char = '\u{E000}';

/// Renders a story string template: `{{#if field}}…{{else}}…{{/if}}` blocks (a field counts when
/// it is not blank), `{{field}}` values, `{{trim}}` (removes the newlines around it); every other
/// text goes through the macro engine (`{{char}}`, `{{user}}`, …). Field values are inserted as
/// given (they are already macro-rendered).
pub fn render_story_string(template: &str, f: &StoryFields, eng: &mut MacroEngine) -> String {
    let mut out = String::new();
    let mut literal = String::new();
    // Each open `if`: (its own condition, whether output was on when it opened, in the else part).
    let mut stack: Vec<(bool, bool, bool)> = Vec::new();
    let active = |stack: &[(bool, bool, bool)]| stack.iter().all(|&(c, outer, in_else)| outer && (c != in_else));
    let flush = |literal: &mut String, out: &mut String, eng: &mut MacroEngine| {
        if !literal.is_empty() {
            out.push_str(&eng.render(literal));
            literal.clear();
        }
    };
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let on = active(&stack);
        if on {
            literal.push_str(&rest[..start]);
        }
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            rest = &rest[start..];
            break;
        };
        let inner = after[..end].trim();
        let token_len = start + 2 + end + 2;
        if let Some(cond) = inner.strip_prefix("#if").map(str::trim) {
            flush(&mut literal, &mut out, eng);
            let c = f.get(cond).is_some_and(|v| !v.trim().is_empty());
            stack.push((c, on, false));
        } else if inner == "else" && !stack.is_empty() {
            flush(&mut literal, &mut out, eng);
            if let Some(top) = stack.last_mut() {
                top.2 = true;
            }
        } else if inner == "/if" && !stack.is_empty() {
            flush(&mut literal, &mut out, eng);
            stack.pop();
        } else if on {
            if inner.eq_ignore_ascii_case("trim") {
                flush(&mut literal, &mut out, eng);
                out.push(TRIM_MARK);
            } else if let Some(v) = f.get(inner) {
                flush(&mut literal, &mut out, eng);
                out.push_str(v);
            } else {
                literal.push_str(&rest[start..token_len]);
            }
        }
        rest = &rest[token_len..];
    }
    if active(&stack) {
        literal.push_str(rest);
    }
    flush(&mut literal, &mut out, eng);
    if !out.contains(TRIM_MARK) {
        return out;
    }
    // `{{trim}}`: drop the newlines on both sides of each mark.
    let mut s = String::new();
    for (k, part) in out.split(TRIM_MARK).enumerate() {
        let part = if k > 0 { part.trim_start_matches(['\n', '\r']) } else { part };
        s = s.trim_end_matches(['\n', '\r']).to_string();
        s.push_str(part);
    }
    s
}

/// A role in the text prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    User,
    Assistant,
    System,
}

/// One history message for the text prompt.
#[derive(Debug, Clone)]
pub(crate) struct TextMsg {
    pub role: Role,
    pub content: String,
    /// Speaker name (chat messages; injections have none).
    pub name: Option<String>,
    /// Named under "force" (a group member, a past persona).
    pub forced_name: bool,
}

/// The parts of a text-completion prompt.
pub(crate) struct TextParts<'a> {
    /// The story string's values.
    pub story: StoryFields,
    /// Example blocks (macro-resolved, without `<START>`).
    pub examples: Vec<String>,
    /// History, depth injections and post-history instructions, chronological.
    pub history: &'a [TextMsg],
    /// The message being continued (generation type continue).
    pub continued: Option<TextMsg>,
    pub user: &'a str,
    pub char_name: &'a str,
    pub generation_type: &'a str,
}

/// Parses an example block as SillyTavern does for instruct mode: a line starting with
/// `{{user}}:` or `{{char}}:` starts a message when the speaker changes (lines by the same speaker
/// and other lines continue it; lines before the first speaker join the first message); the
/// speaker's `Name:` is removed once and the text trimmed. `None` when no line names a speaker.
pub(crate) fn parse_example_messages(block: &str, user: &str, char_name: &str) -> Option<Vec<(bool, String)>> {
    let up = format!("{user}:");
    let cp = format!("{char_name}:");
    let mut pending: Vec<&str> = Vec::new();
    let mut msgs: Vec<(bool, Vec<&str>)> = Vec::new();
    for line in block.split('\n') {
        let speaker = if line.starts_with(&up) {
            Some(true)
        } else if line.starts_with(&cp) {
            Some(false)
        } else {
            None
        };
        match (speaker, msgs.last_mut()) {
            (Some(u), Some(last)) if last.0 == u => last.1.push(line),
            (Some(u), _) => {
                let mut lines = std::mem::take(&mut pending);
                lines.push(line);
                msgs.push((u, lines));
            }
            (None, Some(last)) => last.1.push(line),
            (None, None) => pending.push(line),
        }
    }
    if msgs.is_empty() {
        return None;
    }
    Some(
        msgs.into_iter()
            .map(|(u, lines)| {
                let text = lines.join("\n");
                let prefix = if u { &up } else { &cp };
                (u, text.replacen(prefix.as_str(), "", 1).trim().to_string())
            })
            .collect(),
    )
}

struct Fmt<'t, 'e, 'c> {
    t: &'t InstructTemplate,
    eng: &'e mut MacroEngine<'c>,
}

impl Fmt<'_, '_, '_> {
    fn seq(&mut self, s: &str) -> String {
        if self.t.macros && s.contains("{{") {
            self.eng.render(s)
        } else {
            s.to_string()
        }
    }

    /// `prefix [\n] [Name: ]content suffix`.
    fn message(&mut self, prefix: &str, suffix: &str, name: Option<&str>, content: &str) -> String {
        let prefix = self.seq(prefix);
        let suffix = self.seq(suffix);
        let mut s = prefix.clone();
        if self.t.wrap && !prefix.is_empty() {
            s.push('\n');
        }
        if let Some(n) = name {
            s.push_str(n);
            s.push_str(": ");
        }
        s.push_str(content);
        s.push_str(&suffix);
        s
    }
}

fn or<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() {
        b
    } else {
        a
    }
}

/// The prompt's stop strings.
fn stop_strings(
    req: &PromptRequest,
    tpl: Option<&InstructTemplate>,
    p: &TextParts,
    eng: &mut MacroEngine,
) -> Vec<String> {
    let mut stop: Vec<String> = Vec::new();
    let user = format!("\n{}:", p.user);
    let ch = format!("\n{}:", p.char_name);
    if req.text.names_as_stop_strings {
        match p.generation_type {
            "impersonate" => stop.extend([ch, user]),
            // Continuing the user's own message (as the send box does) also stops at the character.
            "continue" if p.continued.as_ref().is_some_and(|m| m.role == Role::User) => stop.extend([user, ch]),
            _ => stop.push(user),
        }
    }
    if let Some(t) = tpl {
        let seqs: Vec<&str> = if t.sequences_as_stop_strings {
            vec![
                t.stop_sequence,
                t.input_sequence,
                t.output_sequence,
                t.first_output_sequence,
                t.last_output_sequence,
                t.system_sequence,
                t.last_system_sequence,
            ]
        } else {
            vec![t.stop_sequence]
        };
        for s in seqs {
            let s = if t.macros && s.contains("{{") { eng.render(s) } else { s.to_string() };
            for line in s.split('\n').filter(|l| !l.trim().is_empty()) {
                stop.push(if t.wrap { format!("\n{line}") } else { line.to_string() });
            }
        }
    }
    if req.text.separators_as_stop_strings {
        for s in [&req.text.chat_start, &req.text.example_separator] {
            if !s.is_empty() {
                stop.push(format!("\n{s}"));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    stop.retain(|s| seen.insert(s.clone()));
    stop
}

/// Renders the text prompt and its stop strings.
pub(crate) fn render(req: &PromptRequest, p: &TextParts, eng: &mut MacroEngine) -> (String, Vec<String>) {
    let tpl = template(&req.text.instruct);
    let story_template = if req.text.story_string.is_empty() { DEFAULT_STORY_STRING } else { &req.text.story_string };
    let story = render_story_string(story_template, &p.story, eng);
    let stop = stop_strings(req, tpl, p, eng);
    let text = match tpl {
        Some(t) => render_instruct(req, t, &story, p, eng),
        None => render_plain(req, &story, p),
    };
    (text, stop)
}

/// Instruct mode off: the story string, `***`-headed example blocks, the chat start, the history
/// as `Name: message` lines and the reply's `Name:`.
fn render_plain(req: &PromptRequest, story: &str, p: &TextParts) -> String {
    let mut out = story.to_string();
    for b in &p.examples {
        out.push_str(&req.text.example_separator);
        out.push('\n');
        out.push_str(b);
        out.push('\n');
    }
    if !req.text.chat_start.is_empty() {
        out.push_str(&req.text.chat_start);
        out.push('\n');
    }
    let line = |m: &TextMsg| -> String {
        let name = match (m.role, &m.name) {
            (_, Some(n)) => Some(n.as_str()),
            (Role::User, None) => Some(p.user),
            (Role::Assistant, None) => Some(p.char_name),
            _ => None,
        };
        match name {
            Some(n) if !m.content.starts_with(&format!("{n}: ")) => format!("{n}: {}", m.content),
            _ => m.content.clone(),
        }
    };
    for m in p.history {
        out.push_str(&line(m));
        out.push('\n');
    }
    match &p.continued {
        Some(m) => out.push_str(&line(m)),
        None => {
            let next = if p.generation_type == "impersonate" { p.user } else { p.char_name };
            out.push_str(&format!("{next}:"));
        }
    }
    out
}

fn render_instruct(
    req: &PromptRequest,
    t: &InstructTemplate,
    story: &str,
    p: &TextParts,
    eng: &mut MacroEngine,
) -> String {
    let mut f = Fmt { t, eng };
    let mut out = String::new();
    // 1. The story string.
    if !story.is_empty() {
        let prefix = f.seq(t.story_string_prefix);
        out.push_str(&prefix);
        if t.wrap && !prefix.is_empty() {
            out.push('\n');
        }
        out.push_str(story);
        out.push_str(&f.seq(t.story_string_suffix));
    }
    // 2. Example blocks.
    let names_user_examples = t.names_behavior != NamesBehavior::Never;
    let names_char = t.names_behavior == NamesBehavior::Always;
    if !t.skip_examples {
        for b in &p.examples {
            out.push_str(&req.text.example_separator);
            out.push('\n');
            match parse_example_messages(b, p.user, p.char_name) {
                Some(msgs) => {
                    for (is_user, text) in msgs {
                        let s = if is_user {
                            f.message(t.input_sequence, t.input_suffix, names_user_examples.then_some(p.user), &text)
                        } else {
                            f.message(t.output_sequence, t.output_suffix, names_char.then_some(p.char_name), &text)
                        };
                        out.push_str(&s);
                    }
                }
                None => out.push_str(b),
            }
        }
    }
    // 3. Chat start.
    if !req.text.chat_start.is_empty() {
        out.push_str(&req.text.chat_start);
        out.push('\n');
    }
    // 4–5. History.
    let role_of = |m: &TextMsg| if m.role == Role::System && t.system_same_as_user { Role::User } else { m.role };
    let impersonate = p.generation_type == "impersonate";
    let name_for = |m: &TextMsg| -> Option<String> {
        let named = match t.names_behavior {
            NamesBehavior::Never => false,
            NamesBehavior::Force => m.forced_name,
            NamesBehavior::Always => true,
        };
        if !named || m.role == Role::System {
            return None;
        }
        m.name.clone().or_else(|| Some(if m.role == Role::User { p.user } else { p.char_name }.to_string()))
    };
    if !t.user_alignment_message.is_empty() && p.history.first().is_some_and(|m| role_of(m) != Role::User) {
        let text = f.eng.render(t.user_alignment_message);
        let s = f.message(or(t.first_input_sequence, t.input_sequence), t.input_suffix, None, &text);
        out.push_str(&s);
    }
    let last_user = if impersonate { None } else { p.history.iter().rposition(|m| role_of(m) == Role::User) };
    for (i, m) in p.history.iter().enumerate() {
        let name = name_for(m);
        let s = match role_of(m) {
            Role::User => {
                let prefix = if Some(i) == last_user {
                    or(t.last_input_sequence, t.input_sequence)
                } else if i == 0 {
                    or(t.first_input_sequence, t.input_sequence)
                } else {
                    t.input_sequence
                };
                f.message(prefix, t.input_suffix, name.as_deref(), &m.content)
            }
            Role::Assistant => {
                let prefix = if i == 0 { or(t.first_output_sequence, t.output_sequence) } else { t.output_sequence };
                f.message(prefix, t.output_suffix, name.as_deref(), &m.content)
            }
            Role::System => f.message(t.system_sequence, t.system_suffix, None, &m.content),
        };
        out.push_str(&s);
    }
    // 6. The reply prefix.
    let (prefix, name, content) = match &p.continued {
        Some(m) => {
            let prefix = match role_of(m) {
                Role::User => or(t.last_input_sequence, t.input_sequence),
                Role::Assistant => or(t.last_output_sequence, t.output_sequence),
                Role::System => t.system_sequence,
            };
            (prefix, name_for(m), m.content.as_str())
        }
        None if impersonate => (
            or(t.last_input_sequence, t.input_sequence),
            (t.names_behavior == NamesBehavior::Always).then(|| p.user.to_string()),
            "",
        ),
        None => (
            or(t.last_output_sequence, t.output_sequence),
            (t.names_behavior == NamesBehavior::Always).then(|| p.char_name.to_string()),
            "",
        ),
    };
    let prefix = f.seq(prefix);
    if t.wrap && !prefix.is_empty() {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&prefix);
        out.push('\n');
    } else {
        out.push_str(&prefix);
    }
    match name {
        Some(n) if content.is_empty() => out.push_str(&format!("{n}:")),
        Some(n) => out.push_str(&format!("{n}: {content}")),
        None => out.push_str(content),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::macros::MacroContext;

    #[test]
    fn every_shipped_template_is_found_by_our_name_and_sillytaverns() {
        for t in TEMPLATES {
            assert_eq!(template(t.name), Some(t), "{}", t.name);
            assert_eq!(template(t.st_name), Some(t), "{}", t.st_name);
        }
        for n in ["ChatML", "llama-3", "Mistral", "alpaca", "Vicuna", "gemma", "Command-R", "command_r"] {
            assert!(template(n).is_some(), "{n}");
        }
        assert!(template("none").is_none());
        assert!(template("").is_none());
    }

    #[test]
    fn default_story_string() {
        let ctx = MacroContext { char_name: "Al".into(), ..Default::default() };
        let mut eng = MacroEngine::new(&ctx);
        let f = StoryFields {
            system: "Sys".into(),
            description: "Desc".into(),
            personality: "kind".into(),
            scenario: "Inn".into(),
            persona: "P".into(),
            ..Default::default()
        };
        assert_eq!(
            render_story_string(DEFAULT_STORY_STRING, &f, &mut eng),
            "Sys\nDesc\nAl's personality: kind\nScenario: Inn\nP\n"
        );
    }

    #[test]
    fn story_string_blocks_else_and_trim() {
        let ctx = MacroContext { char_name: "Al".into(), user: "Wren".into(), ..Default::default() };
        let mut eng = MacroEngine::new(&ctx);
        let f = StoryFields { description: "D".into(), scenario: "  ".into(), ..Default::default() };
        let t = "{{#if description}}[{{description}}]\n{{/if}}{{#if scenario}}S{{else}}no scenario{{/if}}\n{{trim}}\n{{user}}";
        assert_eq!(render_story_string(t, &f, &mut eng), "[D]\nno scenarioWren");
        assert_eq!(render_story_string("{{#if persona}}{{#if system}}x{{/if}}{{/if}}ok", &f, &mut eng), "ok");
    }

    #[test]
    fn example_blocks_parse_like_sillytavern() {
        let p = |b: &str| parse_example_messages(b, "Wren", "Al");
        assert_eq!(p("Wren: a\nAl: b"), Some(vec![(true, "a".into()), (false, "b".into())]));
        assert_eq!(
            p("Some narration.\nWren: a\nmore\nWren: b2\nAl: c\nnarr\nAl: d\nWren:e"),
            Some(vec![
                (true, "Some narration.\n a\nmore\nWren: b2".into()),
                (false, "c\nnarr\nAl: d".into()),
                (true, "e".into())
            ])
        );
        assert_eq!(p("  Wren:   spaced  \n\nAl:\tTab"), Some(vec![(false, "Wren:   spaced  \n\n\tTab".into())]));
        assert_eq!(p("WrenX: not me\nAl: hi"), Some(vec![(false, "WrenX: not me\n hi".into())]));
        assert_eq!(p("narration only"), None);
    }
}
