//! The candidate index (a pass looks only at entries whose keys' patterns were seen) must
//! never change a scan's result: random books, keys of every kind, several books with
//! sources and strategies, compared with the same scan looking at every entry and running
//! every regex key over the whole haystack (no literal prefilter, no per-segment runs).

use nextchat_tavern::lorebook::{Lorebook, LorebookEntry, SelectiveLogic};
use nextchat_tavern::macros::ChatMessage;
use nextchat_tavern::prompt::Estimator;
use nextchat_tavern::worldinfo::{
    scan, BookRef, BookSource, CompiledLorebook, GlobalScanData, ScanCharacter, ScanInput, TimedState, WorldInfoResult,
    WorldInfoSettings,
};
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "ka",
    "kalo",
    "lomi",
    "Mira",
    "sen-4",
    "tor",
    "dra9",
    "an",
    "velka",
    "ka_lo",
    "KÄlo",
    "éka",
    "\u{212A}alo",
    "İka",
];
const KEY_SHAPES: usize = 17;

/// A key of shape `shape` built on word `w`: plain, multi-word, regex anchored at its
/// literal, regex with the literal elsewhere, regex without a literal, empty.
fn key(shape: usize, w: &str, w2: &str) -> String {
    let l = w.to_lowercase();
    match shape {
        0 => w.to_string(),
        1 => l.to_uppercase(),
        2 => format!("{w} {w2}"),
        3 => format!("/\\b{l}(s|es)?\\b/i"),
        4 => format!("/{l}-?\\d+/"),
        5 => format!("/[a-z]{l}/"),
        6 => format!("/\\d|{l}/i"),
        7 => format!("/{l}\\b/"),
        // Alternations of words with optional endings (the common shape of real cards).
        9 => format!("/\\b(?:{l}|{})(?:s|es)?\\b/i", w2.to_lowercase()),
        10 => format!("/\\b({w}|{w2})s?\\b/"),
        11 => format!("/(?:dark|{l}) ?{}/i", w2.to_lowercase()),
        12 => format!("/^(?:Wren: )?{l}/m"),
        13 => format!("/{l}.{}|{w}\\s+{w2}/s", w2.to_lowercase()),
        14 => format!("/{}|{w}(?:\\d+|x)/iu", w2.to_lowercase()),
        15 => format!("/\\B{l}|{w2}\\B/"),
        16 => format!("/(?:{l}){{2}}|[{w2}]{{3}}{l}?/i"),
        _ => " ".to_string(),
    }
}

type Spec = (Vec<(usize, usize, usize)>, Vec<(usize, usize, usize)>, u8, i64, usize, bool, bool, Option<bool>);

fn entry() -> impl Strategy<Value = Spec> {
    let k = (0..KEY_SHAPES, 0..WORDS.len(), 0..WORDS.len());
    (
        prop::collection::vec(k.clone(), 0..4),
        prop::collection::vec(k, 0..3),
        0u8..4,
        0i64..5,
        0..WORDS.len(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(None), any::<bool>().prop_map(Some)],
    )
}

fn book(specs: &[Spec], uid0: i64) -> Lorebook {
    let mut b = Lorebook::default();
    for (i, (pk, sk, logic, order, cw, constant, prevent, ww)) in specs.iter().enumerate() {
        b.entries.push(LorebookEntry {
            uid: uid0 + i as i64,
            keys: pk.iter().map(|&(s, a, c)| key(s, WORDS[a], WORDS[c])).collect(),
            secondary_keys: sk.iter().map(|&(s, a, c)| key(s, WORDS[a], WORDS[c])).collect(),
            selective: !sk.is_empty(),
            selective_logic: match logic {
                0 => SelectiveLogic::AndAny,
                1 => SelectiveLogic::NotAll,
                2 => SelectiveLogic::NotAny,
                _ => SelectiveLogic::AndAll,
            },
            order: *order,
            content: format!("about {} and more", WORDS[*cw]),
            constant: *constant && i % 5 == 0,
            prevent_recursion: *prevent,
            match_whole_words: *ww,
            ..Default::default()
        });
    }
    b
}

fn run(
    books: &[(String, BookSource, CompiledLorebook)],
    chat: &[ChatMessage],
    s: &WorldInfoSettings,
) -> WorldInfoResult {
    run_with(books, chat, s, &[])
}

fn run_with(
    books: &[(String, BookSource, CompiledLorebook)],
    chat: &[ChatMessage],
    s: &WorldInfoSettings,
    injections: &[String],
) -> WorldInfoResult {
    let (g, c, st) = (GlobalScanData::default(), ScanCharacter::default(), TimedState::default());
    let input = ScanInput {
        books: books.iter().map(|(n, src, b)| BookRef { name: n, source: *src, book: b }).collect(),
        chat,
        settings: s,
        max_context: 2000,
        global: &g,
        trigger: "normal",
        character: &c,
        macros: None,
        state: &st,
        seed: 7,
        dry_run: false,
        external_activations: &[],
        injections,
        greeting_index: None,
    };
    scan(&input, &mut Estimator)
}

/// Message text: words with endings, upper-cased or not, joined by spaces, line breaks or commas.
fn text(ws: &[(usize, u8, u8, bool)]) -> String {
    let mut t = String::new();
    for (i, &(w, p, sep, up)) in ws.iter().enumerate() {
        if i > 0 {
            t.push_str([" ", "\n", ", "][sep as usize]);
        }
        let w = if up { WORDS[w].to_uppercase() } else { WORDS[w].to_string() };
        t.push_str(&w);
        t.push_str(["", "s", "-12", "x", "es", "S"][p as usize]);
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn candidate_index_never_changes_a_scan(
        books in prop::collection::vec((prop::collection::vec(entry(), 1..12), 0u8..4), 1..4),
        msgs in prop::collection::vec(prop::collection::vec((0..WORDS.len(), 0u8..6, 0u8..3, any::<bool>()), 0..6), 1..6),
        inj in prop::collection::vec((0..WORDS.len(), 0u8..6, 0u8..3, any::<bool>()), 0..3),
        strategy in 0i64..3,
        depth in 1i64..6,
        recursive in any::<bool>(),
        budget in 1.0f64..30.0,
    ) {
        let settings = WorldInfoSettings { depth, recursive, character_strategy: strategy, budget, ..Default::default() };
        let chat: Vec<ChatMessage> = msgs
            .iter()
            .enumerate()
            .map(|(i, ws)| ChatMessage {
                name: "Wren".into(),
                is_user: i % 2 == 0,
                mes: text(ws),
                ..Default::default()
            })
            .collect();
        let injections: Vec<String> = if inj.is_empty() { Vec::new() } else { vec![text(&inj)] };
        let mk = |all: bool| -> Vec<(String, BookSource, CompiledLorebook)> {
            books
                .iter()
                .enumerate()
                .map(|(i, (specs, src))| {
                    let source = [BookSource::Global, BookSource::Character, BookSource::Chat, BookSource::Persona][*src as usize];
                    let b = CompiledLorebook::new(book(specs, 100 * i as i64), settings.compile_options());
                    (format!("book{i}"), source, if all { b.visiting_every_entry() } else { b })
                })
                .collect()
        };
        let indexed = run_with(&mk(false), &chat, &settings, &injections);
        let full = run_with(&mk(true), &chat, &settings, &injections);
        prop_assert_eq!(indexed, full);
    }
}

#[test]
fn equal_order_merges_global_before_character_lore() {
    let one = |uid| Lorebook {
        entries: vec![LorebookEntry {
            uid,
            keys: vec!["kalo".into()],
            content: format!("e{uid}"),
            order: 5,
            ..Default::default()
        }],
        ..Default::default()
    };
    let s = WorldInfoSettings { character_strategy: 0, ..Default::default() };
    let chat = vec![ChatMessage { name: "W".into(), mes: "kalo".into(), is_user: true, ..Default::default() }];
    // The character book is given first; under "evenly" equal orders still list global lore first.
    let books = vec![
        ("c".to_string(), BookSource::Character, CompiledLorebook::new(one(1), s.compile_options())),
        ("g".to_string(), BookSource::Global, CompiledLorebook::new(one(2), s.compile_options())),
    ];
    let r = run(&books, &chat, &s);
    let order: Vec<i64> = r.activated.iter().map(|a| a.uid).collect();
    let full =
        run(&books.into_iter().map(|(n, src, b)| (n, src, b.visiting_every_entry())).collect::<Vec<_>>(), &chat, &s);
    assert_eq!(order, full.activated.iter().map(|a| a.uid).collect::<Vec<_>>());
    assert_eq!(order, vec![2, 1]);
}
