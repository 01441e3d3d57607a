//! Native timing of a 20,000-entry scan (`cargo test --release --test engine_perf -- --ignored --nocapture`;
//! `WI_MSGS` messages (20), `WI_DEPTH` scan depth (all messages), `WI_RUNS` scans timed (20), `WI_REGEX_SHARE` of the keys are
//! regexes of the common real-card shape (0.05)).

use nextchat_tavern::lorebook::{Lorebook, LorebookEntry};
use nextchat_tavern::macros::rng::Rng;
use nextchat_tavern::macros::ChatMessage;
use nextchat_tavern::prompt::Estimator;
use nextchat_tavern::worldinfo::{
    scan, BookRef, BookSource, CompiledLorebook, GlobalScanData, ScanCharacter, ScanInput, TimedState,
    WorldInfoSettings,
};

#[test]
#[ignore = "timing, run by hand in release mode"]
fn scan_20000_entries_timing() {
    let mut r = Rng::new(9);
    let syl =
        ["ka", "lo", "mi", "ru", "sen", "tor", "vel", "an", "dra", "quil", "ost", "fen", "gar", "hul", "ir", "zeb"];
    let word = |r: &mut Rng| (0..2 + r.below(3)).map(|_| syl[r.below(16) as usize]).collect::<String>();
    let vocab: Vec<String> = (0..40000).map(|_| word(&mut r)).collect();
    let filler: Vec<&str> =
        "the a of and to in is was he she it that for on with as his her at by from they we said".split(' ').collect();
    let regex_share: f64 = std::env::var("WI_REGEX_SHARE").ok().and_then(|s| s.parse().ok()).unwrap_or(0.05);
    let mut entries = Vec::new();
    for uid in 0..20000 {
        let keys = (0..3)
            .map(|_| {
                let w = &vocab[r.below(40000) as usize];
                if r.next_f64() < regex_share {
                    // The common shape of real cards: an alternation of words with optional endings.
                    let w2 = &vocab[r.below(40000) as usize];
                    format!("/\\b(?:{w}|{w2})(?:s|es)?\\b/i")
                } else if r.next_f64() < 0.1 {
                    format!("{w} {}", vocab[r.below(40000) as usize])
                } else {
                    w.clone()
                }
            })
            .collect();
        let content = (0..14)
            .map(|_| {
                if r.next_f64() < 0.15 {
                    vocab[r.below(40000) as usize].clone()
                } else {
                    filler[r.below(filler.len() as u64) as usize].to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        entries.push(LorebookEntry { uid, keys, content, order: r.below(200) as i64, ..Default::default() });
    }
    let settings = WorldInfoSettings { depth: 20, include_names: true, ..Default::default() };
    let t = std::time::Instant::now();
    let book = CompiledLorebook::new(Lorebook { entries, ..Default::default() }, settings.compile_options());
    eprintln!("compile {:?} {:?}", t.elapsed(), book.stats());
    let msgs: usize = std::env::var("WI_MSGS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let words: usize = if msgs > 20 { 300 } else { 45 };
    let depth: i64 = std::env::var("WI_DEPTH").ok().and_then(|s| s.parse().ok()).unwrap_or(msgs as i64);
    let settings = WorldInfoSettings { depth, ..settings };
    let chat: Vec<ChatMessage> = (0..msgs)
        .map(|i| ChatMessage {
            name: "Wren".into(),
            is_user: i % 2 == 0,
            mes: (0..words)
                .map(|_| {
                    if r.next_f64() < 0.04 {
                        vocab[r.below(40000) as usize].clone()
                    } else {
                        filler[r.below(filler.len() as u64) as usize].to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
            ..Default::default()
        })
        .collect();
    let g = GlobalScanData::default();
    let c = ScanCharacter::default();
    let st = TimedState::default();
    let input = ScanInput {
        books: vec![BookRef { name: "b", source: BookSource::Global, book: &book }],
        chat: &chat,
        settings: &settings,
        max_context: 8192,
        global: &g,
        trigger: "normal",
        character: &c,
        macros: None,
        state: &st,
        seed: 1,
        dry_run: false,
        external_activations: &[],
        injections: &[],
        greeting_index: None,
    };
    let t = std::time::Instant::now();
    let n: u32 = std::env::var("WI_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let mut res = None;
    for _ in 0..n {
        res = Some(scan(&input, &mut Estimator));
    }
    let r = res.unwrap();
    eprintln!(
        "scan {:?} per pass; activated {} dropped {} passes {}",
        t.elapsed() / n,
        r.activated.len(),
        r.dropped.len(),
        r.scan_passes
    );
    assert!(!r.activated.is_empty());
}

/// The same timing over a book and chat from files (`WI_BOOK`, `WI_CHAT`: the World Info
/// benchmark's data, written out as JSON), with the benchmark's settings at `WI_DEPTH` (2).
#[test]
#[ignore = "timing, run by hand in release mode"]
fn scan_timing_of_files() {
    let (Ok(book), Ok(chat)) = (std::env::var("WI_BOOK"), std::env::var("WI_CHAT")) else {
        eprintln!("set WI_BOOK and WI_CHAT to JSON files");
        return;
    };
    let book: Lorebook = serde_json::from_str(&std::fs::read_to_string(book).unwrap()).unwrap();
    let chat: Vec<ChatMessage> = serde_json::from_str(&std::fs::read_to_string(chat).unwrap()).unwrap();
    let depth: i64 = std::env::var("WI_DEPTH").ok().and_then(|s| s.parse().ok()).unwrap_or(2);
    let settings: WorldInfoSettings = serde_json::from_value(serde_json::json!({
        "depth": depth, "recursive": true, "matchWholeWords": true, "caseSensitive": false, "budget": 25, "includeNames": true
    }))
    .unwrap();
    let t = std::time::Instant::now();
    let book = CompiledLorebook::new(book, settings.compile_options());
    eprintln!("compile {:?}", t.elapsed());
    let (g, c, st) = (GlobalScanData::default(), ScanCharacter::default(), TimedState::default());
    let input = ScanInput {
        books: vec![BookRef { name: "bench", source: BookSource::Global, book: &book }],
        chat: &chat,
        settings: &settings,
        max_context: 8192,
        global: &g,
        trigger: "normal",
        character: &c,
        macros: None,
        state: &st,
        seed: 1,
        dry_run: false,
        external_activations: &[],
        injections: &[],
        greeting_index: None,
    };
    let n: u32 = std::env::var("WI_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let t = std::time::Instant::now();
    let mut res = None;
    for _ in 0..n {
        res = Some(scan(&input, &mut Estimator));
    }
    let r = res.unwrap();
    eprintln!(
        "scan {:?} per call; activated {} dropped {} passes {}",
        t.elapsed() / n,
        r.activated.len(),
        r.dropped.len(),
        r.scan_passes
    );
}
