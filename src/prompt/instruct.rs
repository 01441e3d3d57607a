//! Text completion: SillyTavern's Default story string and instruct templates
//! (shipped as data: ChatML, Llama 3, Mistral, Alpaca, Vicuna, Gemma, Command-R,
//! and `none` = plain `Name: message` lines).

use super::{PromptMessage, PromptRequest};

/// An instruct template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstructTemplate {
    /// Name.
    pub name: &'static str,
    /// Wraps system text: (prefix, suffix). `None`: system text is sent as a user turn.
    pub system: Option<(&'static str, &'static str)>,
    /// Wraps user turns.
    pub user: (&'static str, &'static str),
    /// Wraps assistant turns.
    pub assistant: (&'static str, &'static str),
    /// Stop strings of the template.
    pub stop: &'static [&'static str],
}

/// The shipped templates.
pub const TEMPLATES: &[InstructTemplate] = &[
    InstructTemplate {
        name: "chatml",
        system: Some(("<|im_start|>system\n", "<|im_end|>\n")),
        user: ("<|im_start|>user\n", "<|im_end|>\n"),
        assistant: ("<|im_start|>assistant\n", "<|im_end|>\n"),
        stop: &["<|im_end|>"],
    },
    InstructTemplate {
        name: "llama3",
        system: Some(("<|start_header_id|>system<|end_header_id|>\n\n", "<|eot_id|>")),
        user: ("<|start_header_id|>user<|end_header_id|>\n\n", "<|eot_id|>"),
        assistant: ("<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>"),
        stop: &["<|eot_id|>"],
    },
    InstructTemplate {
        name: "mistral",
        system: None,
        user: ("[INST] ", " [/INST]"),
        assistant: ("", "</s>"),
        stop: &["</s>", "[INST]"],
    },
    InstructTemplate {
        name: "alpaca",
        system: Some(("", "\n\n")),
        user: ("### Instruction:\n", "\n\n"),
        assistant: ("### Response:\n", "\n\n"),
        stop: &["### Instruction:"],
    },
    InstructTemplate {
        name: "vicuna",
        system: Some(("", "\n\n")),
        user: ("USER: ", "\n"),
        assistant: ("ASSISTANT: ", "</s>\n"),
        stop: &["USER:", "</s>"],
    },
    InstructTemplate {
        name: "gemma",
        system: None,
        user: ("<start_of_turn>user\n", "<end_of_turn>\n"),
        assistant: ("<start_of_turn>model\n", "<end_of_turn>\n"),
        stop: &["<end_of_turn>"],
    },
    InstructTemplate {
        name: "command-r",
        system: Some(("<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>", "<|END_OF_TURN_TOKEN|>")),
        user: ("<|START_OF_TURN_TOKEN|><|USER_TOKEN|>", "<|END_OF_TURN_TOKEN|>"),
        assistant: ("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>", "<|END_OF_TURN_TOKEN|>"),
        stop: &["<|END_OF_TURN_TOKEN|>"],
    },
];

/// Looks a template up by name (case-insensitive; `llama-3`, `command_r` accepted).
pub fn template(name: &str) -> Option<&'static InstructTemplate> {
    let n: String = name.to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    TEMPLATES.iter().find(|t| t.name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>() == n)
}

/// The parts of a text-completion prompt.
pub(crate) struct TextParts<'a> {
    /// Story-string fields: system, wiBefore, description, personality, scenario, wiAfter, persona.
    pub story: [String; 7],
    /// Example blocks (already macro-resolved).
    pub examples: Vec<String>,
    /// History and control messages, chronological.
    pub history: &'a [PromptMessage],
    pub user: &'a str,
    pub char_name: &'a str,
    pub impersonate: bool,
}

/// SillyTavern's Default story string: each present field followed by a newline
/// (personality as `{{char}}'s personality: …`, scenario as `Scenario: …`).
pub fn story_string(f: &[String; 7], char_name: &str) -> String {
    let mut s = String::new();
    for (i, v) in f.iter().enumerate() {
        if v.trim().is_empty() {
            continue;
        }
        match i {
            3 => s.push_str(&format!("{char_name}'s personality: {v}")),
            4 => s.push_str(&format!("Scenario: {v}")),
            _ => s.push_str(v),
        }
        s.push('\n');
    }
    s
}

/// Renders the text prompt and its stop strings.
pub(crate) fn render(req: &PromptRequest, p: &TextParts) -> (String, Vec<String>) {
    let sep = &req.text.example_separator;
    let tpl = template(&req.text.instruct);
    let story = story_string(&p.story, p.char_name);
    let mut out = String::new();
    match tpl.and_then(|t| t.system.map(|s| (t, s))) {
        Some((_, (pre, suf))) if !story.is_empty() => {
            out.push_str(pre);
            out.push_str(story.trim_end());
            out.push_str(suf);
        }
        _ => {
            if let (Some(t), false) = (tpl, story.is_empty()) {
                out.push_str(t.user.0);
                out.push_str(story.trim_end());
                out.push_str(t.user.1);
            } else {
                out.push_str(&story);
            }
        }
    }
    for b in &p.examples {
        out.push_str(sep);
        out.push('\n');
        out.push_str(b);
        out.push('\n');
    }
    if !req.text.chat_start.is_empty() {
        out.push_str(&req.text.chat_start);
        out.push('\n');
    }
    for m in p.history {
        let name = match (m.role.as_str(), &m.name) {
            (_, Some(n)) => Some(n.as_str()),
            ("user", None) => Some(p.user),
            ("assistant", None) => Some(p.char_name),
            _ => None,
        };
        let body = match name {
            Some(n) if !m.content.starts_with(&format!("{n}: ")) => format!("{n}: {}", m.content),
            _ => m.content.clone(),
        };
        match tpl {
            Some(t) => {
                let (pre, suf) = match m.role.as_str() {
                    "user" => t.user,
                    "assistant" => t.assistant,
                    _ => t.system.unwrap_or(t.user),
                };
                out.push_str(pre);
                out.push_str(&body);
                out.push_str(suf);
            }
            None => {
                out.push_str(&body);
                out.push('\n');
            }
        }
    }
    let next = if p.impersonate { p.user } else { p.char_name };
    match tpl {
        Some(t) => {
            out.push_str(if p.impersonate { t.user.0 } else { t.assistant.0 });
            out.push_str(&format!("{next}:"));
        }
        None => out.push_str(&format!("{next}:")),
    }
    let mut stop: Vec<String> = tpl.map(|t| t.stop.iter().map(|s| s.to_string()).collect()).unwrap_or_default();
    stop.push(format!("\n{}:", p.user));
    if p.impersonate {
        stop.push(format!("\n{}:", p.char_name));
    }
    (out, stop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_template_is_found_by_name() {
        for n in ["ChatML", "llama-3", "Mistral", "alpaca", "Vicuna", "gemma", "Command-R", "command_r"] {
            assert!(template(n).is_some(), "{n}");
        }
        assert!(template("none").is_none());
    }

    #[test]
    fn default_story_string() {
        let f =
            ["Sys".to_string(), String::new(), "Desc".into(), "kind".into(), "Inn".into(), String::new(), "P".into()];
        assert_eq!(story_string(&f, "Al"), "Sys\nDesc\nAl's personality: kind\nScenario: Inn\nP\n");
    }
}
