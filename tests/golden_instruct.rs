//! Golden text-completion prompts (instruct mode) recorded from a real SillyTavern 1.19 by
//! `scripts/record-instruct-golden.mjs` (tests/fixtures/st-golden-local, schema in its README.md).
//! Every case must pass; there is no skip list. For each case we build the prompt through the
//! public API with the matching shipped instruct template and compare the prompt text and the
//! stop strings with what SillyTavern sent; the template data must equal SillyTavern's preset.

use std::path::PathBuf;

use nextchat_tavern::prompt::instruct::{self, InstructTemplate, NamesBehavior};
use nextchat_tavern::prompt::{build_prompt, Estimator, PromptRequest};
use serde_json::Value;

mod common;
use common::s;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/st-golden-local")
}

/// Every case listed in index.json (fails if the index is missing or empty).
fn cases() -> Vec<(String, Value)> {
    let dir = fixture_dir();
    let index: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).expect("index.json"))
        .expect("index.json parses");
    let mut out = Vec::new();
    for c in index["cases"].as_array().expect("cases") {
        let file = c["file"].as_str().expect("file");
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        out.push((file.to_string(), serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))));
    }
    assert!(!out.is_empty(), "no instruct golden cases");
    out
}

/// The prompt request for a case: our template by its name, every other setting read back from ST.
fn request(case: &Value) -> PromptRequest {
    let se = &case["settings_in_effect"];
    let ctx = &se["context"];
    let mut req = PromptRequest { mode: "text".into(), ..Default::default() };
    req.text.instruct = s(&case["template"]);
    req.text.story_string = s(&ctx["story_string"]);
    req.text.example_separator = s(&ctx["example_separator"]);
    req.text.chat_start = s(&ctx["chat_start"]);
    req.text.names_as_stop_strings = ctx["names_as_stop_strings"].as_bool().expect("names_as_stop_strings");
    req.text.separators_as_stop_strings = ctx["use_stop_strings"].as_bool().expect("use_stop_strings");
    let st = &mut req.settings;
    st.max_context = se["max_context"].as_u64().expect("max_context") as usize;
    st.max_tokens = se["amount_gen"].as_u64().expect("amount_gen") as usize;
    let sp = &se["sysprompt"];
    st.main_prompt = if sp["enabled"].as_bool() == Some(true) { s(&sp["content"]) } else { String::new() };
    st.jailbreak_prompt = if sp["enabled"].as_bool() == Some(true) { s(&sp["post_history"]) } else { String::new() };
    st.prefer_character_prompt = se["prefer_character_prompt"].as_bool().expect("prefer_character_prompt");
    st.prefer_character_jailbreak = se["prefer_character_jailbreak"].as_bool().expect("prefer_character_jailbreak");
    req.world_info = serde_json::from_value(se["world_info"].clone()).expect("world_info settings");
    common::case_inputs(case, &mut req);
    req.generation_type = s(&case["generation_type"]);
    req.now = Some(0.0);
    req
}

/// Where two texts first differ, with some context.
fn diff(got: &str, exp: &str) -> String {
    let at = got.chars().zip(exp.chars()).take_while(|(a, b)| a == b).count();
    let from = at.saturating_sub(60);
    let cut = |t: &str| t.chars().skip(from).take(160).collect::<String>();
    format!("first difference at char {at}:\n    got      …{:?}\n    expected …{:?}", cut(got), cut(exp))
}

fn run_case(file: &str, case: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    let exp = &case["expected"];
    let req = request(case);
    let out = match build_prompt(&req, &mut Estimator) {
        Ok(o) => o,
        Err(e) => return vec![format!("{file}: build failed: {e}")],
    };
    let text = out.text.unwrap_or_default();
    let exp_prompt = exp["prompt"].as_str().expect("expected.prompt");
    if text != exp_prompt {
        errs.push(format!("{file}: prompt differs; {}\n  full prompt: {text:?}", diff(&text, exp_prompt)));
    }
    let exp_stop: Vec<String> = serde_json::from_value(exp["stopping_strings"].clone()).expect("stopping_strings");
    if out.stop != exp_stop {
        errs.push(format!("{file}: stop strings\n    got      {:?}\n    expected {:?}", out.stop, exp_stop));
    }
    // What the generic (OpenAI-compatible) upstream received: the same prompt, the first four
    // stop strings (SillyTavern's server cuts the list for this source), the reply length.
    let up = &exp["upstream"];
    assert_eq!(up["prompt"].as_str(), Some(exp_prompt), "{file}: the upstream prompt is the page's prompt");
    let up_stop: Vec<String> = serde_json::from_value(up["stop"].clone()).expect("upstream.stop");
    assert_eq!(up_stop, exp_stop[..exp_stop.len().min(4)], "{file}: upstream stop");
    assert_eq!(up["max_tokens"].as_u64(), Some(req.settings.max_tokens as u64), "{file}: max_tokens");
    errs
}

fn run(filter: impl Fn(&Value) -> bool) {
    let mut n = 0;
    let mut failures = Vec::new();
    for (file, case) in cases() {
        if !filter(&case) {
            continue;
        }
        n += 1;
        failures.extend(run_case(&file, &case));
    }
    assert!(n > 0, "no cases matched");
    if !failures.is_empty() {
        panic!("{} of {n} instruct golden cases fail:\n\n{}", failures.len(), failures.join("\n\n"));
    }
    eprintln!("instruct: {n}/{n} golden cases pass");
}

#[test]
fn golden_instruct_all_cases() {
    run(|_| true);
}

#[test]
fn golden_instruct_templates_each_have_a_plain_case() {
    for t in instruct::TEMPLATES {
        run(|c| c["template"] == t.name && c["feature"] == "plain");
    }
}

#[test]
fn golden_instruct_impersonate() {
    run(|c| c["generation_type"] == "impersonate");
}

#[test]
fn golden_instruct_continue() {
    run(|c| c["generation_type"] == "continue");
}

#[test]
fn golden_instruct_card_overrides_lorebook_authors_note_and_depth_prompt() {
    run(|c| c["feature"] == "features");
}

#[test]
fn golden_instruct_user_first_chat() {
    run(|c| c["feature"] == "user-first");
}

/// Our shipped template data is SillyTavern 1.19's preset, field for field.
#[test]
fn golden_instruct_shipped_templates_equal_sillytaverns_presets() {
    let mut checked = std::collections::BTreeSet::new();
    for (file, case) in cases() {
        let name = s(&case["template"]);
        let st_name = s(&case["st_template"]);
        let t: &InstructTemplate = instruct::template(&name).unwrap_or_else(|| panic!("{file}: no template {name}"));
        assert_eq!(instruct::template(&st_name), Some(t), "{file}: {st_name} is found by SillyTavern's name");
        let i = &case["settings_in_effect"]["instruct"];
        assert_eq!(i["preset"], st_name.as_str(), "{file}");
        assert_eq!(t.st_name, st_name, "{file}");
        let strings = [
            ("input_sequence", t.input_sequence),
            ("input_suffix", t.input_suffix),
            ("output_sequence", t.output_sequence),
            ("output_suffix", t.output_suffix),
            ("system_sequence", t.system_sequence),
            ("system_suffix", t.system_suffix),
            ("first_input_sequence", t.first_input_sequence),
            ("last_input_sequence", t.last_input_sequence),
            ("first_output_sequence", t.first_output_sequence),
            ("last_output_sequence", t.last_output_sequence),
            ("last_system_sequence", t.last_system_sequence),
            ("stop_sequence", t.stop_sequence),
            ("story_string_prefix", t.story_string_prefix),
            ("story_string_suffix", t.story_string_suffix),
            ("user_alignment_message", t.user_alignment_message),
        ];
        for (k, ours) in strings {
            assert_eq!(i[k].as_str(), Some(ours), "{file}: {name}.{k}");
        }
        let flags = [
            ("wrap", t.wrap),
            ("macro", t.macros),
            ("system_same_as_user", t.system_same_as_user),
            ("sequences_as_stop_strings", t.sequences_as_stop_strings),
            ("skip_examples", t.skip_examples),
        ];
        for (k, ours) in flags {
            assert_eq!(i[k].as_bool(), Some(ours), "{file}: {name}.{k}");
        }
        let names = match t.names_behavior {
            NamesBehavior::Never => "none",
            NamesBehavior::Force => "force",
            NamesBehavior::Always => "always",
        };
        assert_eq!(i["names_behavior"].as_str(), Some(names), "{file}: {name}.names_behavior");
        // The context template is a fresh user's Default, which is our default story string.
        let ctx = &case["settings_in_effect"]["context"];
        assert_eq!(ctx["preset"], "Default", "{file}");
        assert_eq!(ctx["story_string"].as_str(), Some(instruct::DEFAULT_STORY_STRING), "{file}");
        let d = nextchat_tavern::prompt::TextSettings::default();
        assert_eq!(ctx["example_separator"].as_str(), Some(d.example_separator.as_str()), "{file}");
        assert_eq!(ctx["chat_start"].as_str(), Some(d.chat_start.as_str()), "{file}");
        assert_eq!(ctx["names_as_stop_strings"].as_bool(), Some(d.names_as_stop_strings), "{file}");
        assert_eq!(ctx["use_stop_strings"].as_bool(), Some(d.separators_as_stop_strings), "{file}");
        checked.insert(name);
    }
    let all: std::collections::BTreeSet<String> = instruct::TEMPLATES.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(checked, all, "every shipped template has a recorded case");
}
