//! Golden cases recorded from a real SillyTavern 1.19 (tests/fixtures/st-golden,
//! copied from the shared fixtures so a fresh clone tests itself). Every case must
//! pass; there is no skip list. Tests are named after the golden prefix and feature.

use std::path::PathBuf;

use serde_json::Value;

mod common;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/st-golden")
}

/// Loads every case of one kind from index.json (fails if the index is missing).
fn cases(kind: &str) -> Vec<(String, Value)> {
    let dir = fixture_dir();
    let index: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).expect("index.json"))
        .expect("index.json parses");
    let mut out = Vec::new();
    for c in index["cases"].as_array().expect("cases") {
        if c["kind"] != kind {
            continue;
        }
        let file = c["file"].as_str().expect("file");
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        out.push((file.to_string(), serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))));
    }
    assert!(!out.is_empty(), "no {kind} cases found");
    out
}

fn report(kind: &str, total: usize, failures: Vec<String>) {
    if !failures.is_empty() {
        panic!("{} of {total} {kind} golden cases fail:\n\n{}", failures.len(), failures.join("\n\n"));
    }
    eprintln!("{kind}: {total}/{total} golden cases pass");
}

mod macros {
    use super::*;
    use nextchat_tavern::macros::{render, MacroContext};

    fn run(feature: Option<&str>) {
        let all = cases("macro");
        let mut n = 0;
        let mut failures = Vec::new();
        for (file, case) in all {
            if feature.is_some_and(|f| case["feature"] != f) {
                continue;
            }
            n += 1;
            let ctx: MacroContext = match serde_json::from_value(case["context"].clone()) {
                Ok(c) => c,
                Err(e) => {
                    failures.push(format!("{file}: context does not deserialize: {e}"));
                    continue;
                }
            };
            let input = case["input"].as_str().unwrap_or_default();
            let got = render(input, &ctx);
            let exp = &case["expected"];
            let mut errs = Vec::new();
            if exp["output"] != Value::String(got.output.clone()) {
                errs.push(format!("  output:   {:?}\n  expected: {:?}", got.output, exp["output"]));
            }
            if exp["local_variables_after"] != Value::Object(got.local_variables.clone()) {
                errs.push(format!(
                    "  local vars: {}\n  expected:   {}",
                    Value::Object(got.local_variables.clone()),
                    exp["local_variables_after"]
                ));
            }
            if exp["global_variables_after"] != Value::Object(got.global_variables.clone()) {
                errs.push(format!(
                    "  global vars: {}\n  expected:    {}",
                    Value::Object(got.global_variables.clone()),
                    exp["global_variables_after"]
                ));
            }
            if !errs.is_empty() {
                failures.push(format!("{file} ({}) input {:?}\n{}", case["description"], input, errs.join("\n")));
            }
        }
        assert!(n > 0, "no cases for {feature:?}");
        report(&format!("macro {}", feature.unwrap_or("(all)")), n, failures);
    }

    #[test]
    fn golden_macro_all_cases() {
        run(None);
    }
    #[test]
    fn golden_macro_card_fields() {
        run(Some("card"));
    }
    #[test]
    fn golden_macro_chat_state() {
        run(Some("chat"));
    }
    #[test]
    fn golden_macro_environment() {
        run(Some("env"));
    }
    #[test]
    fn golden_macro_escaping_and_malformed_braces() {
        run(Some("escape"));
    }
    #[test]
    fn golden_macro_if_else_blocks() {
        run(Some("if"));
    }
    #[test]
    fn golden_macro_legacy_tags() {
        run(Some("legacy"));
    }
    #[test]
    fn golden_macro_names() {
        run(Some("names"));
    }
    #[test]
    fn golden_macro_nesting() {
        run(Some("nesting"));
    }
    #[test]
    fn golden_macro_text_macros() {
        run(Some("text"));
    }
    #[test]
    fn golden_macro_variables() {
        run(Some("vars"));
    }
}

mod world_info {
    use super::*;
    use nextchat_tavern::lorebook::Lorebook;
    use nextchat_tavern::macros::{ChatMessage, MacroContext};
    use nextchat_tavern::prompt::Estimator;
    use nextchat_tavern::worldinfo::{
        scan, BookRef, BookSource, CompiledLorebook, GlobalScanData, ScanCharacter, ScanInput, TimedState,
        WorldInfoSettings,
    };
    use serde_json::json;

    /// Runs one case; returns the mismatches.
    fn run_case(file: &str, case: &Value) -> Vec<String> {
        let settings: WorldInfoSettings = serde_json::from_value(case["settings"].clone()).expect("settings");
        let book: Lorebook = serde_json::from_value(case["lorebook"].clone()).expect("lorebook");
        let compiled = CompiledLorebook::new(book, settings.compile_options());
        let chat: Vec<ChatMessage> = serde_json::from_value(case["chat"].clone()).expect("chat");
        let character: ScanCharacter = serde_json::from_value(case["character"].clone()).expect("character");
        let global: GlobalScanData = serde_json::from_value(case["global_scan_data"].clone()).unwrap_or_default();
        let name = case["lorebook_name"].as_str().expect("lorebook_name");
        let macros = MacroContext {
            char_name: character.name.clone(),
            user: case["user"].as_str().unwrap_or_default().to_string(),
            now: Some(0.0),
            ..Default::default()
        };
        let max_context = case["max_context"].as_u64().expect("max_context") as usize;
        let mut state = TimedState::default();
        let mut errs = Vec::new();
        for (t, turn) in case["turns"].as_array().expect("turns").iter().enumerate() {
            let n = turn["messages"].as_u64().unwrap_or(0) as usize;
            let input = ScanInput {
                books: vec![BookRef { name, source: BookSource::Global, book: &compiled }],
                chat: &chat[..n.min(chat.len())],
                settings: &settings,
                max_context,
                global: &global,
                trigger: turn["trigger"].as_str().unwrap_or("normal"),
                character: &character,
                macros: Some(&macros),
                state: &state,
                seed: 1,
                dry_run: false,
                external_activations: &[],
                injections: &[],
                greeting_index: None,
            };
            let r = scan(&input, &mut Estimator);
            let exp = &turn["expected"];
            let uids: Vec<i64> = r.activated.iter().map(|a| a.uid).collect();
            let timed = |m: &std::collections::BTreeMap<String, nextchat_tavern::worldinfo::TimedRecord>| {
                Value::Object(
                    m.iter()
                        .map(|(k, v)| (k.clone(), json!({"start": v.start, "end": v.end, "protected": v.protected})))
                        .collect(),
                )
            };
            let got = json!({
                "activated_uids": uids,
                "world_info_before": r.world_info_before,
                "world_info_after": r.world_info_after,
                "depth_entries": r.depth_entries.iter().map(|d| json!({"depth": d.depth, "role": d.role, "entries": d.entries})).collect::<Vec<_>>(),
                "example_entries": r.example_entries.iter().map(|d| json!({"position": d.position, "content": d.content})).collect::<Vec<_>>(),
                "an_top": r.an_top,
                "an_bottom": r.an_bottom,
                "outlets": r.outlets,
                "scan_passes": r.scan_passes,
                "budget_tokens": r.budget_tokens,
                "budget_overflowed": r.budget_overflowed,
                "timed_effects_after": {"sticky": timed(&r.state.sticky), "cooldown": timed(&r.state.cooldown)},
            });
            for (k, v) in exp.as_object().expect("expected object") {
                if got.get(k) != Some(v) {
                    errs.push(format!("{file} turn {t} `{k}`:\n    got      {}\n    expected {}", got[k], v));
                }
            }
            state = r.state;
        }
        errs
    }

    fn run(feature_prefix: &str) {
        let mut n = 0;
        let mut failures = Vec::new();
        for (file, case) in cases("world_info") {
            if !case["feature"].as_str().unwrap_or_default().starts_with(feature_prefix) {
                continue;
            }
            n += 1;
            let errs = run_case(&file, &case);
            if !errs.is_empty() {
                failures.push(format!("{file} ({})\n{}", case["description"], errs.join("\n")));
            }
        }
        assert!(n > 0, "no cases for {feature_prefix}");
        report(&format!("wi {feature_prefix}"), n, failures);
    }

    #[test]
    fn golden_wi_all_cases() {
        run("");
    }
    #[test]
    fn golden_wi_plain_keys() {
        run("keys-plain");
    }
    #[test]
    fn golden_wi_case_sensitivity() {
        run("case-sensitive");
    }
    #[test]
    fn golden_wi_whole_words() {
        run("whole-words");
    }
    #[test]
    fn golden_wi_regex_keys() {
        run("regex");
    }
    #[test]
    fn golden_wi_secondary_key_logic() {
        run("secondary");
    }
    #[test]
    fn golden_wi_scan_depth() {
        run("scan-depth");
    }
    #[test]
    fn golden_wi_include_names() {
        run("include-names");
    }
    #[test]
    fn golden_wi_constant_and_disabled() {
        run("constant-disabled");
    }
    #[test]
    fn golden_wi_probability() {
        run("probability");
    }
    #[test]
    fn golden_wi_recursion() {
        run("recursion");
    }
    #[test]
    fn golden_wi_min_activations() {
        run("min-activations");
    }
    #[test]
    fn golden_wi_budget() {
        run("budget");
    }
    #[test]
    fn golden_wi_insertion_order() {
        run("order");
    }
    #[test]
    fn golden_wi_positions() {
        run("positions");
    }
    #[test]
    fn golden_wi_inclusion_groups() {
        run("groups");
    }
    #[test]
    fn golden_wi_sticky() {
        run("sticky");
    }
    #[test]
    fn golden_wi_cooldown_and_delay() {
        run("cooldown");
        run("delay");
    }
    #[test]
    fn golden_wi_character_filter() {
        run("char-filter");
    }
    #[test]
    fn golden_wi_generation_triggers() {
        run("triggers");
    }
    #[test]
    fn golden_wi_match_fields() {
        run("match-fields");
    }
    #[test]
    fn golden_wi_decorators() {
        run("decorators");
    }
    #[test]
    fn golden_wi_macros_in_keys_and_content() {
        run("macros");
    }
}

mod prompts {
    use super::*;
    use nextchat_tavern::macros::ChatMessage;
    use nextchat_tavern::prompt::{build_prompt, Estimator, GroupInput, PromptOrderItem, PromptRequest, TokenCounter};
    use serde_json::json;

    fn request(case: &Value) -> PromptRequest {
        let se = &case["settings_in_effect"];
        let mut req = PromptRequest { mode: "chat".into(), ..Default::default() };
        let st = &mut req.settings;
        st.max_context = se["openai_max_context"].as_u64().unwrap_or(4095) as usize;
        st.max_tokens = se["openai_max_tokens"].as_u64().unwrap_or(300) as usize;
        st.prefer_character_prompt = se["prefer_character_prompt"].as_bool().unwrap_or(true);
        st.prefer_character_jailbreak = se["prefer_character_jailbreak"].as_bool().unwrap_or(true);
        st.names_behavior = se["names_behavior"].as_i64().unwrap_or(0);
        for (k, slot) in [
            ("new_chat_prompt", &mut st.new_chat_prompt),
            ("new_example_chat_prompt", &mut st.new_example_chat_prompt),
            ("continue_nudge_prompt", &mut st.continue_nudge_prompt),
            ("impersonation_prompt", &mut st.impersonation_prompt),
            ("wi_format", &mut st.wi_format),
            ("scenario_format", &mut st.scenario_format),
            ("personality_format", &mut st.personality_format),
        ] {
            if let Some(v) = se[k].as_str() {
                *slot = v.to_string();
            }
        }
        for p in se["prompts"].as_array().into_iter().flatten() {
            let c = p["content"].as_str().unwrap_or_default().to_string();
            match p["identifier"].as_str() {
                Some("main") => st.main_prompt = c,
                Some("nsfw") => st.nsfw_prompt = c,
                Some("jailbreak") => st.jailbreak_prompt = c,
                Some("enhanceDefinitions") => st.enhance_definitions_prompt = c,
                _ => {}
            }
        }
        if let Some(order) = se["prompt_order"].as_array() {
            st.prompt_order = order
                .iter()
                .map(|o| PromptOrderItem {
                    identifier: o["identifier"].as_str().unwrap_or_default().into(),
                    enabled: o["enabled"].as_bool().unwrap_or(false),
                })
                .collect();
        }
        common::case_inputs(case, &mut req);
        if let Some(g) = case["group"].as_object() {
            req.group = Some(GroupInput {
                members: g["cards"].as_array().expect("cards").iter().map(common::character).collect(),
                muted: Vec::new(),
                join_cards: g["generation_mode"].as_i64() == Some(1),
            });
        }
        req.generation_type = case["generation_type"].as_str().unwrap_or("normal").into();
        req.now = Some(0.0);
        req
    }

    fn compare(file: &str, label: &str, got: &[nextchat_tavern::prompt::PromptMessage], exp: &Value) -> Option<String> {
        let got_v = serde_json::to_value(got).expect("serialize");
        (got_v != exp["messages"]).then(|| {
            format!(
                "{file} {label}:\n  got      {}\n  expected {}",
                serde_json::to_string_pretty(&got_v).unwrap_or_default(),
                serde_json::to_string_pretty(&exp["messages"]).unwrap_or_default()
            )
        })
    }

    fn run_case(file: &str, case: &Value, counter: &mut dyn TokenCounter) -> Vec<String> {
        let mut errs = Vec::new();
        let mut req = request(case);
        if let Some(reqs) = case["expected_all_requests"].as_array().filter(|_| req.group.is_some()) {
            // One request per member reply, in list order; each reply joins the chat.
            let members = req.group.as_ref().map(|g| g.members.clone()).unwrap_or_default();
            for (k, exp) in reqs.iter().enumerate() {
                let Some(m) = members.get(k) else { break };
                req.character = m.clone();
                let out = build_prompt(&req, counter).expect("build");
                errs.extend(compare(file, &format!("request {k}"), &out.messages, exp));
                req.chat.push(ChatMessage { name: m.name.clone(), mes: "Fake reply.".into(), ..Default::default() });
            }
            return errs;
        }
        let out = build_prompt(&req, counter).expect("build");
        errs.extend(compare(file, "", &out.messages, &case["expected"]));
        let _ = json!(null);
        errs
    }

    fn run(feature: &str, counter: &mut dyn TokenCounter) {
        let mut n = 0;
        let mut failures = Vec::new();
        for (file, case) in cases("prompt") {
            if !feature.is_empty() && case["feature"] != feature {
                continue;
            }
            n += 1;
            let errs = run_case(&file, &case, counter);
            if !errs.is_empty() {
                failures.push(errs.join("\n"));
            }
        }
        assert!(n > 0, "no prompt cases for {feature:?}");
        report(&format!("prompt {feature}"), n, failures);
    }

    /// ST counted these prompts with the gpt-3.5 tokenizer (cl100k_base); the framing per
    /// message is `tokens_per_message`.
    fn cl100k() -> impl FnMut(&str) -> usize {
        let bpe = tiktoken_rs::cl100k_base().expect("cl100k_base");
        move |s: &str| bpe.encode_with_special_tokens(s).len()
    }

    #[test]
    fn golden_prompt_all_cases() {
        let mut c = cl100k();
        run("", &mut c);
    }

    /// SillyTavern trims the history with its own per-message accounting (the default
    /// `tokens_per_message`, 5); 4 keeps one message too many here, 7 one too few.
    #[test]
    fn golden_prompt_history_trimming_with_cl100k_counter() {
        let mut c = cl100k();
        run("trimming", &mut c);
    }

    #[test]
    fn golden_prompt_cases_without_trimming_pass_with_the_estimator() {
        let mut n = 0;
        for (file, case) in cases("prompt") {
            if case["feature"] == "trimming" {
                continue;
            }
            n += 1;
            let errs = run_case(&file, &case, &mut Estimator);
            assert!(errs.is_empty(), "{}", errs.join("\n"));
        }
        assert_eq!(n, 8);
    }
}
