//! Feature tests of the World Info engine and prompt assembly beyond the golden
//! cases (features SillyTavern's recordings do not cover).

use nextchat_tavern::lorebook::{CharacterFilter, Lorebook, LorebookEntry, Position};
use nextchat_tavern::macros::ChatMessage;
use nextchat_tavern::prompt::{build_prompt, Estimator, LorebookInput, PromptRequest};
use nextchat_tavern::worldinfo::{
    scan, BookRef, BookSource, CompiledLorebook, GlobalScanData, ScanCharacter, ScanInput, TimedState, WorldInfoResult,
    WorldInfoSettings,
};

fn entry(uid: i64, keys: &[&str], content: &str) -> LorebookEntry {
    LorebookEntry {
        uid,
        keys: keys.iter().map(|s| s.to_string()).collect(),
        content: content.into(),
        ..Default::default()
    }
}

fn chat(msgs: &[&str]) -> Vec<ChatMessage> {
    msgs.iter()
        .enumerate()
        .map(|(i, m)| ChatMessage {
            name: if i % 2 == 0 { "Wren".into() } else { "Al".into() },
            is_user: i % 2 == 0,
            mes: m.to_string(),
            ..Default::default()
        })
        .collect()
}

struct Run<'a> {
    books: Vec<(&'a str, BookSource, &'a CompiledLorebook)>,
    chat: Vec<ChatMessage>,
    settings: WorldInfoSettings,
    character: ScanCharacter,
    external: Vec<String>,
    injections: Vec<String>,
    seed: u64,
    dry_run: bool,
}

impl<'a> Run<'a> {
    fn new(book: &'a CompiledLorebook, msgs: &[&str]) -> Self {
        Run {
            books: vec![("b", BookSource::Global, book)],
            chat: chat(msgs),
            settings: WorldInfoSettings::default(),
            character: ScanCharacter { name: "Al".into(), avatar: "Al.png".into(), tags: vec![] },
            external: vec![],
            injections: vec![],
            seed: 1,
            dry_run: false,
        }
    }
    fn go(&self) -> WorldInfoResult {
        let g = GlobalScanData::default();
        let st = TimedState::default();
        let input = ScanInput {
            books: self.books.iter().map(|(n, s, b)| BookRef { name: n, source: *s, book: b }).collect(),
            chat: &self.chat,
            settings: &self.settings,
            max_context: 8192,
            global: &g,
            trigger: "normal",
            character: &self.character,
            macros: None,
            state: &st,
            seed: self.seed,
            dry_run: self.dry_run,
            external_activations: &self.external,
            injections: &self.injections,
            greeting_index: None,
        };
        scan(&input, &mut Estimator)
    }
}

fn compile(entries: Vec<LorebookEntry>) -> CompiledLorebook {
    CompiledLorebook::new(Lorebook { entries, ..Default::default() }, WorldInfoSettings::default().compile_options())
}

fn uids(r: &WorldInfoResult) -> Vec<i64> {
    r.activated.iter().map(|a| a.uid).collect()
}

#[test]
fn v3_decorators_depth_role_and_exclude_keys() {
    let b = compile(vec![
        entry(0, &["gate"], "@@depth 2\n@@role assistant\nGate lore."),
        entry(1, &["gate"], "@@exclude_keys dragon\nNo dragons."),
        entry(2, &["gate"], "@@additional_keys moat, bridge\nNeeds moat or bridge."),
        entry(3, &["gate"], "@@unknown_x 1\n@@@activate\nFallback used."),
    ]);
    let r = Run::new(&b, &["the gate and the dragon and the bridge"]).go();
    assert_eq!(uids(&r), vec![0, 2, 3]);
    assert_eq!(r.depth_entries.len(), 1);
    assert_eq!((r.depth_entries[0].depth, r.depth_entries[0].role), (2, 2));
    assert_eq!(r.depth_entries[0].entries, vec!["Gate lore."]);
}

#[test]
fn external_activation_and_tag_filter() {
    let mut tagged = entry(1, &["gate"], "tagged");
    tagged.character_filter =
        Some(CharacterFilter { is_exclude: false, names: vec![], tags: vec!["t1".into()], ..Default::default() });
    let b = compile(vec![entry(0, &["nothing-matches"], "forced"), tagged]);
    let mut run = Run::new(&b, &["gate"]);
    run.external = vec!["b.0".into()];
    run.character.tags = vec!["t2".into()];
    assert_eq!(uids(&run.go()), vec![0]);
    run.character.tags = vec!["t1".into()];
    assert_eq!(uids(&run.go()), vec![0, 1]);
}

#[test]
fn unsupported_regex_keys_never_match_and_are_reported() {
    let b = compile(vec![entry(0, &["/gate(?=s)/"], "lookahead"), entry(1, &["/ga+te/i"], "ok")]);
    let r = Run::new(&b, &["GAAATES"]).go();
    assert_eq!(uids(&r), vec![1]);
    assert!(r.warnings.iter().any(|w| w.contains("lookahead")), "{:?}", r.warnings);
}

#[test]
fn weighted_inclusion_group_pick_is_seeded() {
    let mut es = Vec::new();
    for i in 0..6 {
        let mut e = entry(i, &["gate"], &format!("member {i}"));
        e.group = "g".into();
        e.group_weight = (i + 1) as f64 * 10.0;
        es.push(e);
    }
    let b = compile(es);
    let mut run = Run::new(&b, &["gate"]);
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..40 {
        run.seed = seed;
        let r = run.go();
        assert_eq!(r.activated.len(), 1, "exactly one member of the group");
        assert_eq!(uids(&r), uids(&run.go()), "same seed, same pick");
        seen.insert(r.activated[0].uid);
    }
    assert!(seen.len() > 2, "different seeds pick different members: {seen:?}");
}

#[test]
fn injections_are_scanned_and_dry_run_writes_no_timed_effects() {
    let mut sticky = entry(0, &["omen"], "sticky omen");
    sticky.sticky = Some(3);
    let b = compile(vec![sticky]);
    let mut run = Run::new(&b, &["hello"]);
    run.injections = vec!["an omen in the author's note".into()];
    let r = run.go();
    assert_eq!(uids(&r), vec![0]);
    assert_eq!(r.activated[0].reason.source.as_deref(), Some("injection"));
    assert_eq!(r.state.sticky.len(), 1);
    run.dry_run = true;
    assert!(run.go().state.sticky.is_empty());
}

#[test]
fn character_strategy_orders_books() {
    let g = compile(vec![entry(0, &["gate"], "global")]);
    let c = compile(vec![entry(0, &["gate"], "character")]);
    let mut run = Run::new(&g, &["gate"]);
    run.books = vec![("g", BookSource::Global, &g), ("c", BookSource::Character, &c)];
    let worlds = |r: &WorldInfoResult| r.activated.iter().map(|a| a.world.clone()).collect::<Vec<_>>();
    assert_eq!(worlds(&run.go()), ["c", "g"], "character first (default)");
    run.settings.character_strategy = 2;
    assert_eq!(worlds(&run.go()), ["g", "c"], "global first");
}

#[test]
fn report_names_the_key_and_message() {
    let b = compile(vec![entry(0, &["gate"], "g")]);
    let r = Run::new(&b, &["the gate", "ok"]).go();
    let a = &r.activated[0];
    assert_eq!(a.reason.kind, "key");
    assert_eq!(a.reason.key.as_deref(), Some("gate"));
    assert_eq!(a.reason.message_index, Some(0));
    assert_eq!(a.pass, 1);
}

#[test]
fn compiled_matcher_scales_to_large_books() {
    let es: Vec<LorebookEntry> =
        (0..5000).map(|i| entry(i, &[&format!("key{i}"), &format!("alt{i}"), "/rx\\d+z/"], "c")).collect();
    let b = compile(es);
    let stats = b.stats();
    assert_eq!(stats.entries, 5000);
    assert_eq!(stats.regex_keys, 5000);
    assert!(stats.automaton_bytes > 0);
    let r = Run::new(&b, &["key17 and alt4000"]).go();
    assert_eq!(uids(&r), vec![17, 4000]);
}

fn text_request(instruct: &str) -> PromptRequest {
    let mut req = PromptRequest { mode: "text".into(), ..Default::default() };
    req.character.name = "Al".into();
    req.character.description = "{{char}} is a smith.".into();
    req.character.mes_example = "<START>\n{{user}}: Hi\n{{char}}: Well met!".into();
    req.persona.name = "Wren".into();
    req.chat = chat(&["Hello", "Greetings"]);
    req.text.instruct = instruct.into();
    req.lorebooks.push(LorebookInput {
        name: "b".into(),
        source: BookSource::Global,
        book: Lorebook { entries: vec![entry(0, &["hello"], "Hello lore.")], ..Default::default() },
    });
    req
}

#[test]
fn text_completion_default_story_string_and_examples() {
    let out = build_prompt(&text_request("none"), &mut Estimator).unwrap();
    let t = out.text.unwrap();
    assert!(
        t.starts_with("Write Al's next reply in a fictional chat between Al and Wren.\nHello lore.\nAl is a smith.\n"),
        "{t}"
    );
    assert!(t.contains("***\nWren: Hi\nAl: Well met!\n***\nWren: Hello\nAl: Greetings\nAl:"), "{t}");
    assert!(out.stop.contains(&"\nWren:".to_string()));
}

#[test]
fn text_completion_instruct_templates() {
    // SillyTavern 1.19's presets name chat messages only in groups ("force"); the prompt ends
    // with the assistant prefix (tests/golden_instruct.rs pins whole prompts).
    for (name, user_tag, end, stop) in [
        ("chatml", "<|im_start|>user\nHello<|im_end|>\n", "<|im_start|>assistant\n", "\n<|im_end|>"),
        (
            "llama3",
            "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>",
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            "<|eot_id|>",
        ),
        ("mistral", "[INST] Hello[/INST]", "Greetings</s> ", "</s>"),
        ("alpaca", "### Instruction:\nHello\n\n", "### Response:\n", "\n### Instruction:"),
        ("vicuna", "\nUSER: Hello", "\nASSISTANT: ", "USER: "),
        ("gemma", "<start_of_turn>user\nHello<end_of_turn>\n", "<start_of_turn>model\n", "\n<end_of_turn>"),
        (
            "command-r",
            "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hello<|END_OF_TURN_TOKEN|>",
            "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>",
            "<|END_OF_TURN_TOKEN|>",
        ),
    ] {
        let out = build_prompt(&text_request(name), &mut Estimator).unwrap();
        let t = out.text.unwrap();
        assert!(t.contains(user_tag), "{name}: {t}");
        assert!(t.ends_with(end), "{name}: {t}");
        assert!(out.stop.iter().any(|s| s == stop), "{name}: {:?}", out.stop);
    }
}

#[test]
fn chat_completion_author_note_positions_and_lorebook_state_round_trip() {
    let mut req = text_request("none");
    req.mode = "chat".into();
    req.authors_note =
        Some(nextchat_tavern::prompt::AuthorsNote { text: "[Note]".into(), position: 0, ..Default::default() });
    let mut sticky = entry(1, &["greetings"], "sticky lore");
    sticky.sticky = Some(2);
    sticky.position = Position::After;
    req.lorebooks[0].book.entries.push(sticky);
    let out = build_prompt(&req, &mut Estimator).unwrap();
    assert_eq!(out.messages[1].content, "[Note]", "position 0: right after the main prompt");
    assert!(out.messages.iter().any(|m| m.content == "sticky lore"));
    assert_eq!(out.lorebook_state.sticky.len(), 1);
    assert!(out.report.blocks.iter().any(|b| b.identifier == "chatHistory" && b.tokens > 0));
    assert_eq!(out.report.world_info.activated.len(), 2);
}

/// `{{char}}` / `{{user}}` in keys resolve from the scan request's character and persona
/// when no macro context is given (before: only from `macros`, so such keys never matched).
#[test]
fn scan_request_names_resolve_char_and_user_keys() {
    use nextchat_tavern::prompt::{read_checked, ScanRequest};
    let book = Lorebook {
        entries: vec![entry(0, &["{{user}}'s ship"], "U"), entry(1, &["{{char}}'s sword"], "C")],
        ..Default::default()
    };
    let compiled = CompiledLorebook::new(book, WorldInfoSettings::default().compile_options());
    let req: ScanRequest = read_checked(
        serde_json::json!({"chat": [{"name": "Sam", "isUser": true, "mes": "Is Sam's ship near Nova's sword?"}],
            "character": {"name": "Nova"}, "persona": {"name": "Sam"}}),
        "scan request",
    )
    .unwrap();
    let res = req.scan(vec![BookRef { name: "b", source: BookSource::Global, book: &compiled }], &mut Estimator);
    let mut uids: Vec<i64> = res.activated.iter().map(|e| e.uid).collect();
    uids.sort();
    assert_eq!(uids, [0, 1]);
}

/// A whole request read strictly: a misspelled top-level or nested field is an error naming it.
#[test]
fn prompt_requests_reject_misspelled_fields_by_path() {
    use nextchat_tavern::prompt::read_checked;
    let e = read_checked::<PromptRequest>(
        serde_json::json!({"character": {"name": "A"}, "authorsNote": {"txt": "x"}}),
        "buildPrompt request",
    )
    .unwrap_err();
    assert_eq!(e.code(), nextchat_tavern::ErrorCode::InvalidArgument);
    assert!(e.message().contains("`authorsNote.txt`") && e.message().contains("did you mean `text`?"), "{}", e.message());
}
