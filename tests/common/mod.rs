//! Shared by the golden suites (`golden.rs`, `golden_instruct.rs`): the inputs every recorded
//! prompt case carries, read into a [`PromptRequest`] the same way.

use nextchat_tavern::lorebook::Lorebook;
use nextchat_tavern::prompt::{AuthorsNote, CharacterInput, DepthPrompt, LorebookInput, PersonaInput, PromptRequest};
use nextchat_tavern::worldinfo::BookSource;
use serde_json::Value;

/// A string field, `""` when absent.
pub fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// The character of a recorded V2 card (avatar `<name>.png`, as SillyTavern names it).
pub fn character(card: &Value) -> CharacterInput {
    let d = &card["data"];
    let dp = &d["extensions"]["depth_prompt"];
    CharacterInput {
        name: s(&d["name"]),
        avatar: format!("{}.png", s(&d["name"])),
        description: s(&d["description"]),
        personality: s(&d["personality"]),
        scenario: s(&d["scenario"]),
        first_mes: s(&d["first_mes"]),
        mes_example: s(&d["mes_example"]),
        system_prompt: s(&d["system_prompt"]),
        post_history_instructions: s(&d["post_history_instructions"]),
        creator_notes: s(&d["creator_notes"]),
        character_version: s(&d["character_version"]),
        depth_prompt: dp.is_object().then(|| DepthPrompt {
            prompt: s(&dp["prompt"]),
            depth: dp["depth"].as_i64().unwrap_or(4),
            role: dp["role"].as_str().unwrap_or("system").into(),
        }),
        tags: Vec::new(),
    }
}

/// Card, persona, chat, the one global lorebook and the author's note of a recorded case.
pub fn case_inputs(case: &Value, req: &mut PromptRequest) {
    let se = &case["settings_in_effect"];
    req.character = character(&case["card"]);
    req.persona = PersonaInput {
        name: s(&case["persona"]["name"]),
        description: s(&case["persona"]["description"]),
        position: se["persona_description_position"].as_i64().unwrap_or(0),
    };
    req.chat = serde_json::from_value(case["chat"].clone()).expect("chat");
    if case["lorebook"].is_object() {
        let book: Lorebook = serde_json::from_value(case["lorebook"].clone()).expect("lorebook");
        req.lorebooks.push(LorebookInput { name: "golden".into(), source: BookSource::Global, book });
    }
    if let Some(an) = case["authors_note"].as_object() {
        req.authors_note = Some(AuthorsNote {
            text: s(&an["note_prompt"]),
            interval: an["note_interval"].as_i64().unwrap_or(1),
            depth: an["note_depth"].as_i64().unwrap_or(4),
            position: an["note_position"].as_i64().unwrap_or(1),
            role: an["note_role"].as_i64().unwrap_or(0),
        });
    }
}
