//! The activation loop (see the module docs of [`crate::worldinfo`]).

use std::collections::{HashMap, HashSet};

use aho_corasick::AhoCorasick;

use super::compile::{is_multi_word, lower, CEntry, CKey, CRegex, CompiledLorebook, WW_BIT};
use super::jsregex::{self, is_word, KeyRegex};
use super::*;
use crate::lorebook::{LorebookEntry, Position, SelectiveLogic};
use crate::macros::rng::Rng;
use crate::macros::MacroEngine;
use crate::prompt::TokenCounter;

/// Max scan depth (SillyTavern's MAX_SCAN_DEPTH).
const MAX_SCAN_DEPTH: usize = 1000;

const FIELD_NAMES: [&str; 6] = ["persona", "description", "personality", "depthPrompt", "scenario", "creatorNotes"];
const BIT_INJ: u16 = 1 << 6;
const BIT_BUF: u16 = 1 << 7;

#[derive(Clone, Copy)]
struct Hit {
    msg_sub: u32,
    msg_ww: u32,
    bits_sub: u16,
    bits_ww: u16,
}

const NO_HIT: Hit = Hit { msg_sub: u32::MAX, msg_ww: u32::MAX, bits_sub: 0, bits_ww: 0 };

#[derive(Clone, Copy)]
enum Slot {
    Msg(u32),
    Bits(u16),
    /// Segment `i` of the recursion buffer (bit [`BIT_BUF`]).
    Buf(u32),
}

/// What one automaton has seen in a scan.
struct AutoState {
    /// Per pattern: where it was seen.
    hits: Vec<Hit>,
    /// Patterns seen at least once, in the order first seen.
    seen: Vec<u32>,
    /// Per required literal of a regex key: where it occurs in messages (message, byte
    /// offset in the text the automaton ran on), in message order.
    lit_msgs: HashMap<u32, Vec<(u32, u32)>>,
    /// The same for the segments of the recursion buffer (segment, byte offset).
    lit_buf: HashMap<u32, Vec<(u32, u32)>>,
}

impl AutoState {
    fn new(patterns: usize) -> Self {
        AutoState { hits: vec![NO_HIT; patterns], seen: Vec::new(), lit_msgs: HashMap::new(), lit_buf: HashMap::new() }
    }
}

fn run_automaton(ac: &AhoCorasick, text: &str, st: &mut AutoState, literal: &[bool], slot: Slot) {
    let bytes = text.as_bytes();
    for m in ac.find_overlapping_iter(text) {
        let (s, e) = (m.start(), m.end());
        let ww = (s == 0 || !is_word(bytes[s - 1])) && (e == bytes.len() || !is_word(bytes[e]));
        let pat = m.pattern().as_usize();
        let h = &mut st.hits[pat];
        if h.msg_sub == u32::MAX && h.bits_sub == 0 {
            st.seen.push(pat as u32);
        }
        match slot {
            Slot::Msg(i) => {
                h.msg_sub = h.msg_sub.min(i);
                if ww {
                    h.msg_ww = h.msg_ww.min(i);
                }
                if literal.get(pat).copied().unwrap_or(false) {
                    st.lit_msgs.entry(pat as u32).or_default().push((i, s as u32));
                }
            }
            Slot::Bits(b) => {
                h.bits_sub |= b;
                if ww {
                    h.bits_ww |= b;
                }
            }
            Slot::Buf(i) => {
                h.bits_sub |= BIT_BUF;
                if ww {
                    h.bits_ww |= BIT_BUF;
                }
                if literal.get(pat).copied().unwrap_or(false) {
                    st.lit_buf.entry(pat as u32).or_default().push((i, s as u32));
                }
            }
        }
    }
}

/// The haystack an entry sees.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Cfg {
    depth: usize,
    mask: u16,
}

/// Where a key matched.
#[derive(Clone, Copy)]
enum Src {
    Msg(u32),
    Bits(u16),
    Haystack,
}

/// Segments of the scanned text (raw and lower-cased).
struct Segs {
    msgs: Vec<String>,
    msgs_lower: Vec<String>,
    /// Per message: ASCII only (then lower-cased offsets are the raw text's).
    msgs_ascii: Vec<bool>,
    /// Index into the input chat of each scanned message (newest first).
    msg_index: Vec<usize>,
    fields: [String; 6],
    fields_lower: [String; 6],
    inj: Vec<String>,
    inj_lower: Vec<String>,
    buf: Vec<String>,
    buf_lower: Vec<String>,
}

impl Segs {
    /// A segment-local regex over the segments of `cfg` (with a literal precheck).
    ///
    /// `lit_msgs`: per required literal, where it occurs in messages (message, byte offset),
    /// in message order; all other messages are skipped.
    fn local_regex_match(
        &self,
        rx: &CRegex,
        lit_msgs: Option<&[&[(u32, u32)]]>,
        lit_buf: Option<&[&[(u32, u32)]]>,
        cfg: Cfg,
    ) -> Option<Src> {
        let test = |raw: &str, low: &str| -> bool {
            if let Some((set, cs)) = &rx.literals {
                let h = if *cs { raw } else { low };
                if !set.iter().any(|l| h.contains(l.as_str())) {
                    return false;
                }
            }
            rx.is_match_segment(raw, low)
        };
        let d = cfg.depth.min(self.msgs.len());
        match lit_msgs {
            Some(lists) => {
                // Occurrences of the literals in messages, newest message first.
                let mut occ: Vec<(u32, u32)> =
                    lists.iter().flat_map(|l| l.iter().take_while(|o| (o.0 as usize) < d).copied()).collect();
                if lists.len() > 1 {
                    occ.sort_unstable();
                }
                let mut last = u32::MAX;
                for (i, off) in occ {
                    let m = i as usize;
                    let hit = match &rx.anchored {
                        Some(a) if !a.icase() || self.msgs_ascii[m] => a.matches_at(&self.msgs[m], off as usize),
                        _ if i == last => continue,
                        _ => rx.is_match_segment(&self.msgs[m], &self.msgs_lower[m]),
                    };
                    if hit {
                        return Some(Src::Msg(i));
                    }
                    last = i;
                }
            }
            None => {
                for i in 0..d {
                    if test(&self.msgs[i], &self.msgs_lower[i]) {
                        return Some(Src::Msg(i as u32));
                    }
                }
            }
        }
        for f in 0..6 {
            if cfg.mask & (1 << f) != 0 && !self.fields[f].is_empty() && test(&self.fields[f], &self.fields_lower[f]) {
                return Some(Src::Bits(1 << f));
            }
        }
        if cfg.mask & BIT_INJ != 0 {
            for (t, l) in self.inj.iter().zip(&self.inj_lower) {
                if test(t, l) {
                    return Some(Src::Bits(BIT_INJ));
                }
            }
        }
        if cfg.mask & BIT_BUF != 0 {
            match (lit_buf, &rx.anchored) {
                // Only the recorded occurrences of the literals, checked in place.
                (Some(lists), Some(a)) => {
                    for &(i, off) in lists.iter().flat_map(|l| l.iter()) {
                        let m = i as usize;
                        let hit = if !a.icase() || self.buf[m].is_ascii() {
                            a.matches_at(&self.buf[m], off as usize)
                        } else {
                            rx.is_match_segment(&self.buf[m], &self.buf_lower[m])
                        };
                        if hit {
                            return Some(Src::Bits(BIT_BUF));
                        }
                    }
                }
                _ => {
                    for (t, l) in self.buf.iter().zip(&self.buf_lower) {
                        if test(t, l) {
                            return Some(Src::Bits(BIT_BUF));
                        }
                    }
                }
            }
        }
        // Zero-width-capable patterns (`/a*/`) still see one (empty) haystack.
        (d == 0 && rx.re.is_match("")).then_some(Src::Haystack)
    }

    /// Test oracle for a segment-local regex that matched the whole haystack: the first
    /// segment it matches on its own, in the order [`Segs::local_regex_match`] reports.
    fn naive_local_src(&self, re: &regex_lite::Regex, cfg: Cfg) -> Src {
        let d = cfg.depth.min(self.msgs.len());
        if let Some(i) = (0..d).find(|&i| re.is_match(&self.msgs[i])) {
            return Src::Msg(i as u32);
        }
        for f in 0..6 {
            if cfg.mask & (1 << f) != 0 && !self.fields[f].is_empty() && re.is_match(&self.fields[f]) {
                return Src::Bits(1 << f);
            }
        }
        if cfg.mask & BIT_INJ != 0 && self.inj.iter().any(|t| re.is_match(t)) {
            return Src::Bits(BIT_INJ);
        }
        if cfg.mask & BIT_BUF != 0 && self.buf.iter().any(|t| re.is_match(t)) {
            return Src::Bits(BIT_BUF);
        }
        Src::Haystack
    }

    fn haystack(&self, cfg: Cfg) -> String {
        if cfg.depth == 0 {
            return String::new();
        }
        let d = cfg.depth.min(self.msgs.len());
        let mut s = String::from("\x01");
        for (i, m) in self.msgs[..d].iter().enumerate() {
            if i > 0 {
                s.push_str("\n\x01");
            }
            s.push_str(m);
        }
        for (i, f) in self.fields.iter().enumerate() {
            if cfg.mask & (1 << i) != 0 && !f.is_empty() {
                s.push_str("\n\x01");
                s.push_str(f);
            }
        }
        if cfg.mask & BIT_INJ != 0 {
            for t in &self.inj {
                s.push_str("\n\x01");
                s.push_str(t);
            }
        }
        if cfg.mask & BIT_BUF != 0 {
            for t in &self.buf {
                s.push_str("\n\x01");
                s.push_str(t);
            }
        }
        s
    }
}

struct BookState {
    auto: [AutoState; 2],
    scanned_msgs: usize,
    scanned_buf: usize,
}

impl BookState {
    /// Runs one text segment (`raw`, and `low` lower-cased) through both automata of `book`.
    fn scan(&mut self, book: &CompiledLorebook, raw: &str, low: &str, slot: Slot) {
        for (k, ac) in book.ac.iter().enumerate() {
            if let Some(ac) = ac {
                run_automaton(ac, if k == 0 { low } else { raw }, &mut self.auto[k], &book.index.literal[k], slot);
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Pass {
    Initial,
    Recursion,
    MinActivations,
}

impl Pass {
    fn name(self) -> &'static str {
        match self {
            Pass::Initial => "initial",
            Pass::Recursion => "recursion",
            Pass::MinActivations => "minActivations",
        }
    }
}

impl Item<'_> {
    /// The timed-effect key `"<book>.<uid>"` (built only when needed).
    fn key(&self) -> String {
        format!("{}.{}", self.world, self.e.uid)
    }
}

#[derive(Clone, Copy)]
struct Item<'a> {
    book: usize,
    ce: &'a CEntry,
    e: &'a LorebookEntry,
    world: &'a str,
}

/// The entries of all books, numbered book by book in each book's sorted order (item `ii` of
/// book `bi` is `sorted[ii - base[bi]]`); built on demand, never as one array per scan.
struct Items<'a> {
    /// Per book: name, compiled book, first item number and scan-order group (group, then
    /// tie-break before the item number: global lore before character lore when merged).
    books: Vec<(&'a str, &'a CompiledLorebook, usize, (u8, u8))>,
    /// Per book: its name, shared by the entries it drops.
    names: Vec<std::sync::Arc<str>>,
    len: usize,
}

impl<'a> Items<'a> {
    fn new(books: &[&BookRef<'a>], character_strategy: i64) -> Self {
        let mut len = 0;
        let books: Vec<_> = books
            .iter()
            .map(|b| {
                // Chat lore, then persona lore, then global and character lore: merged by
                // order (strategy 0, "evenly"), global first (2) or character first (else).
                let group = match (b.source, character_strategy) {
                    (BookSource::Chat, _) => 0,
                    (BookSource::Persona, _) => 1,
                    (_, 0) => 2,
                    (BookSource::Global, 2) => 2,
                    (BookSource::Character, s) if s != 2 => 2,
                    _ => 3,
                };
                let group = (group, u8::from(b.source == BookSource::Character));
                let first = len;
                len += b.book.entries.len();
                (b.name, b.book, first, group)
            })
            .collect();
        let names = books.iter().map(|b| std::sync::Arc::from(b.0)).collect();
        Items { books, names, len }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// The name of book `bi`, shared.
    fn world(&self, bi: usize) -> std::sync::Arc<str> {
        self.names[bi].clone()
    }

    fn book_of(&self, ii: usize) -> usize {
        self.books.partition_point(|b| b.2 <= ii) - 1
    }

    fn at(&self, ii: usize) -> Item<'a> {
        let bi = self.book_of(ii);
        let (world, book, first, _) = self.books[bi];
        let ei = book.sorted[ii - first];
        Item { book: bi, ce: &book.entries[ei], e: &book.book.entries[ei], world }
    }

    /// The item number of entry `ei` of book `bi`.
    fn of(&self, bi: usize, ei: u32) -> usize {
        let (_, book, first, _) = self.books[bi];
        first + book.index.sorted_pos[ei as usize] as usize
    }

    /// Sort key of the scan order: group, then `order` descending, then book kind and item number.
    fn rank(&self, ii: usize) -> (u8, std::cmp::Reverse<i64>, u8, usize) {
        let bi = self.book_of(ii);
        let (_, book, first, (group, tie)) = self.books[bi];
        (group, std::cmp::Reverse(book.index.orders[book.sorted[ii - first]]), tie, ii)
    }
}

struct Cand<'a> {
    item: usize,
    sticky: bool,
    why: Why<'a>,
}

/// Why a candidate activates; made into an [`ActivationReason`] only if it does.
enum Why<'a> {
    Simple(&'static str),
    Key { key: &'a str, src: Src, secondary: Vec<&'a str> },
}

struct Scanner<'a, 'b> {
    input: &'b ScanInput<'a>,
    books: Vec<&'a CompiledLorebook>,
    states: Vec<BookState>,
    segs: Segs,
    hay_cache: HashMap<Cfg, (String, Option<String>)>,
    dyn_keys: HashMap<String, String>,
    dyn_regex: HashMap<String, Option<regex_lite::Regex>>,
    engine: Option<MacroEngine<'a>>,
}

impl<'a, 'b> Scanner<'a, 'b> {
    fn ensure_msgs(&mut self, depth: usize) {
        let need = depth.min(self.segs.msgs.len()).min(MAX_SCAN_DEPTH);
        for (bi, book) in self.books.iter().enumerate() {
            let st = &mut self.states[bi];
            while st.scanned_msgs < need {
                let i = st.scanned_msgs;
                st.scan(book, &self.segs.msgs[i], &self.segs.msgs_lower[i], Slot::Msg(i as u32));
                st.scanned_msgs += 1;
            }
        }
    }

    fn scan_new_buffer(&mut self) {
        for (bi, book) in self.books.iter().enumerate() {
            let st = &mut self.states[bi];
            while st.scanned_buf < self.segs.buf.len() {
                let i = st.scanned_buf;
                st.scan(book, &self.segs.buf[i], &self.segs.buf_lower[i], Slot::Buf(i as u32));
                st.scanned_buf += 1;
            }
        }
        self.hay_cache.clear();
    }

    fn hay(&mut self, cfg: Cfg, lower_too: bool) -> &(String, Option<String>) {
        let segs = &self.segs;
        let entry = self.hay_cache.entry(cfg).or_insert_with(|| (segs.haystack(cfg), None));
        if lower_too && entry.1.is_none() {
            entry.1 = Some(lower(&entry.0));
        }
        entry
    }

    fn render(&mut self, text: &str) -> String {
        match &mut self.engine {
            Some(e) => e.render(text),
            None => text.to_string(),
        }
    }

    /// Does `key` match the haystack `cfg` of an entry of book `bi`?
    fn key_matches(&mut self, bi: usize, e: &LorebookEntry, key: &CKey, cfg: Cfg) -> Option<Src> {
        if cfg.depth == 0 {
            return None;
        }
        match key {
            CKey::Empty => Some(Src::Haystack),
            CKey::Never { .. } => None,
            CKey::Plain { pat, cs, ww, .. } => self.plain_hit(bi, *pat, *cs, *ww, cfg),
            CKey::Regex { rx, .. } => {
                let book = self.books[bi];
                let r = &book.regexes[*rx as usize];
                if book.naive_regex {
                    let (h, _) = self.hay(cfg, false);
                    if !r.re.is_match(h) {
                        return None;
                    }
                    return Some(if r.local { self.segs.naive_local_src(&r.re, cfg) } else { Src::Haystack });
                }
                if !r.prefilter.is_empty()
                    && !r.prefilter.iter().any(|&(pf, cs)| self.plain_hit(bi, pf, cs, false, cfg).is_some())
                {
                    return None;
                }
                if r.local {
                    // No match can span two segments: test only the segments that
                    // contain a required literal, each on its own.
                    let st = &self.states[bi];
                    let lists: Vec<&[(u32, u32)]> = r
                        .prefilter
                        .iter()
                        .map(|&(pf, cs)| st.auto[usize::from(cs)].lit_msgs.get(&pf).map_or(&[][..], Vec::as_slice))
                        .collect();
                    let lit_msgs = (!lists.is_empty()).then_some(lists.as_slice());
                    let bufs: Vec<&[(u32, u32)]> = r
                        .prefilter
                        .iter()
                        .map(|&(pf, cs)| st.auto[usize::from(cs)].lit_buf.get(&pf).map_or(&[][..], Vec::as_slice))
                        .collect();
                    let lit_buf = (!bufs.is_empty()).then_some(bufs.as_slice());
                    return self.segs.local_regex_match(r, lit_msgs, lit_buf, cfg);
                }
                let (h, _) = self.hay(cfg, false);
                r.re.is_match(h).then_some(Src::Haystack)
            }
            CKey::Dynamic { raw } => {
                let resolved = match self.dyn_keys.get(raw) {
                    Some(r) => r.clone(),
                    None => {
                        let r = self.render(raw);
                        self.dyn_keys.insert(raw.clone(), r.clone());
                        r
                    }
                };
                if resolved.is_empty() {
                    return None;
                }
                self.slow_match(resolved.trim(), e, cfg).then_some(Src::Haystack)
            }
        }
    }

    fn plain_hit(&self, bi: usize, pat: u32, cs: bool, ww: bool, cfg: Cfg) -> Option<Src> {
        let h = self.states[bi].auto[usize::from(cs)].hits.get(pat as usize).copied().unwrap_or(NO_HIT);
        let (msg, bits) = if ww { (h.msg_ww, h.bits_ww) } else { (h.msg_sub, h.bits_sub) };
        if (msg as usize) < cfg.depth {
            return Some(Src::Msg(msg));
        }
        let b = bits & cfg.mask;
        (b != 0).then_some(Src::Bits(b))
    }

    /// Matching for keys resolved at scan time (macros): regex or plain, on the string.
    fn slow_match(&mut self, key: &str, e: &LorebookEntry, cfg: Cfg) -> bool {
        let opts = self.input.settings;
        if key.is_empty() {
            return true;
        }
        let parsed = match jsregex::parse_key(key) {
            KeyRegex::NotRegex if e.use_regex => jsregex::translate(key, ""),
            other => other,
        };
        match parsed {
            KeyRegex::Ok(t) => {
                let re = self.dyn_regex.entry(key.to_string()).or_insert_with(|| jsregex::compile(&t).ok()).clone();
                match re {
                    Some(re) => {
                        let (h, _) = self.hay(cfg, false);
                        re.is_match(h)
                    }
                    None => false,
                }
            }
            KeyRegex::Unsupported(_) => false,
            KeyRegex::Invalid(_) | KeyRegex::NotRegex => {
                let cs = e.case_sensitive.unwrap_or(opts.case_sensitive);
                let ww = e.match_whole_words.unwrap_or(opts.match_whole_words);
                let needle = if cs { key.to_string() } else { lower(key) };
                let (raw, low) = self.hay(cfg, !cs);
                let hay = if cs { raw.as_str() } else { low.as_deref().unwrap_or("") };
                if !ww || is_multi_word(&needle) {
                    return hay.contains(&needle);
                }
                let hb = hay.as_bytes();
                hay.match_indices(&needle).any(|(s, m)| {
                    let end = s + m.len();
                    (s == 0 || !is_word(hb[s - 1])) && (end == hb.len() || !is_word(hb[end]))
                })
            }
        }
    }

    fn src_reason(&self, src: Src) -> (Option<String>, Option<usize>) {
        match src {
            Src::Msg(i) => (Some("message".into()), self.segs.msg_index.get(i as usize).copied()),
            Src::Bits(b) => {
                let name = if b & BIT_BUF != 0 && b & !BIT_BUF == 0 {
                    "recursion"
                } else if b & BIT_INJ != 0 && b & 0x3F == 0 {
                    "injection"
                } else {
                    FIELD_NAMES.get(b.trailing_zeros() as usize).copied().unwrap_or("haystack")
                };
                (Some(name.into()), None)
            }
            Src::Haystack => (Some("haystack".into()), None),
        }
    }

    fn score(&mut self, bi: usize, e: &LorebookEntry, ce: &CEntry, cfg: Cfg) -> usize {
        let primary = ce.primary.iter().filter(|k| self.key_matches(bi, e, k, cfg).is_some()).count();
        if ce.secondary.is_empty() {
            return primary;
        }
        let secondary = ce.secondary.iter().filter(|k| self.key_matches(bi, e, k, cfg).is_some()).count();
        match e.selective_logic {
            SelectiveLogic::AndAny => primary + secondary,
            SelectiveLogic::AndAll if secondary == ce.secondary.len() => primary + secondary,
            _ => primary,
        }
    }
}

fn role_num(r: crate::lorebook::Role) -> i64 {
    r.as_i64()
}

/// Runs one World Info scan. `counter` counts tokens for the budget.
pub fn scan(input: &ScanInput<'_>, counter: &mut dyn TokenCounter) -> WorldInfoResult {
    let settings = input.settings;
    let mut result = WorldInfoResult { budget_tokens: settings.budget_tokens(input.max_context), ..Default::default() };
    let budget = result.budget_tokens;

    // Books: dedupe by name, keep the given order within each source.
    let mut seen_books = HashSet::new();
    let books: Vec<&BookRef> = input.books.iter().filter(|b| seen_books.insert(b.name)).collect();
    for b in &books {
        result.warnings.extend(b.book.warnings().iter().map(|w| format!("{}: {w}", b.name)));
    }

    // 1. The entries, in scan order (see `Items`).
    let items = Items::new(&books, settings.character_strategy);

    // Chat (non-system, newest first).
    let visible: Vec<usize> = (0..input.chat.len()).filter(|&i| !input.chat[i].is_system).collect();
    let chat_len = visible.len() as i64;
    let assistant_count = input.chat.iter().filter(|m| !m.is_user && !m.is_system).count() as i64;
    let msg_index: Vec<usize> = visible.iter().rev().copied().collect();
    let msgs: Vec<String> = msg_index
        .iter()
        .take(MAX_SCAN_DEPTH.max(1))
        .map(|&i| {
            let m = &input.chat[i];
            if settings.include_names {
                format!("{}: {}", m.name, m.mes)
            } else {
                m.mes.clone()
            }
        })
        .collect();
    let g = input.global;
    let fields = [
        g.persona_description.clone(),
        g.character_description.clone(),
        g.character_personality.clone(),
        g.character_depth_prompt.clone(),
        g.scenario.clone(),
        g.creator_notes.clone(),
    ];
    let segs = Segs {
        msgs_lower: msgs.iter().map(|m| lower(m)).collect(),
        msgs_ascii: msgs.iter().map(|m| m.is_ascii()).collect(),
        msgs,
        msg_index,
        fields_lower: fields.clone().map(|f| lower(&f)),
        fields,
        inj_lower: input.injections.iter().map(|t| lower(t)).collect(),
        inj: input.injections.to_vec(),
        buf: Vec::new(),
        buf_lower: Vec::new(),
    };
    let compiled: Vec<&CompiledLorebook> = books.iter().map(|b| b.book).collect();
    let mut states: Vec<BookState> = compiled
        .iter()
        .map(|b| BookState {
            auto: [AutoState::new(b.pattern_count[0]), AutoState::new(b.pattern_count[1])],
            scanned_msgs: 0,
            scanned_buf: 0,
        })
        .collect();
    // Fields and injections are scanned once.
    for (book, st) in compiled.iter().zip(&mut states) {
        for f in 0..6 {
            if !segs.fields[f].is_empty() {
                st.scan(book, &segs.fields[f], &segs.fields_lower[f], Slot::Bits(1 << f));
            }
        }
        for (t, l) in segs.inj.iter().zip(&segs.inj_lower) {
            st.scan(book, t, l, Slot::Bits(BIT_INJ));
        }
    }
    let mut sc = Scanner {
        input,
        books: compiled,
        states,
        segs,
        hay_cache: HashMap::new(),
        dyn_keys: HashMap::new(),
        dyn_regex: HashMap::new(),
        engine: input.macros.map(|ctx| MacroEngine::new(ctx).with_rng(Rng::new(input.seed ^ 0x5EED_0F3A_C205))),
    };

    // 3. Timed effects.
    let mut state = input.state.clone();
    let has_timed = !state.sticky.is_empty() || !state.cooldown.is_empty();
    // Item by timed-effect hash (a later book wins, as within a book a later entry does).
    let item_by_hash = |h: u64| -> Option<usize> {
        books.iter().enumerate().rev().find_map(|(bi, b)| Some(items.of(bi, *b.book.index.by_hash.get(&h)?)))
    };
    let hashes: HashMap<u64, usize> = if has_timed {
        state
            .sticky
            .values()
            .chain(state.cooldown.values())
            .filter_map(|r| Some((r.hash, item_by_hash(r.hash)?)))
            .collect()
    } else {
        HashMap::new()
    };
    let effect_of = |it: &Item, sticky: bool| -> i64 {
        if sticky {
            it.e.sticky.unwrap_or(0)
        } else {
            it.e.cooldown.unwrap_or(0)
        }
    };
    for sticky_kind in [true, false] {
        let map = if sticky_kind { &state.sticky } else { &state.cooldown };
        let keys: Vec<String> = map.keys().cloned().collect();
        for k in keys {
            let rec = if sticky_kind { state.sticky[&k].clone() } else { state.cooldown[&k].clone() };
            let remove = |st: &mut TimedState| {
                if sticky_kind {
                    st.sticky.remove(&k);
                } else {
                    st.cooldown.remove(&k);
                }
            };
            if chat_len <= rec.start && !rec.protected {
                remove(&mut state);
                continue;
            }
            let Some(&ii) = hashes.get(&rec.hash) else {
                if chat_len >= rec.end {
                    remove(&mut state);
                }
                continue;
            };
            let it = &items.at(ii);
            if effect_of(it, sticky_kind) <= 0 {
                remove(&mut state);
                continue;
            }
            if chat_len >= rec.end {
                remove(&mut state);
                let cd = it.e.cooldown.unwrap_or(0);
                if sticky_kind && cd > 0 {
                    state.cooldown.insert(
                        k.clone(),
                        TimedRecord { hash: rec.hash, start: chat_len, end: chat_len + cd, protected: true },
                    );
                }
            }
        }
    }
    let active = |map: &std::collections::BTreeMap<String, TimedRecord>| -> HashSet<String> {
        map.iter().filter(|(_, r)| hashes.contains_key(&r.hash) && chat_len < r.end).map(|(k, _)| k.clone()).collect()
    };
    let sticky_active = active(&state.sticky);
    let cooldown_active = active(&state.cooldown);

    // Delay-until-recursion levels.
    let mut levels: Vec<i64> = books.iter().flat_map(|b| b.book.index.delay_levels.iter().copied()).collect();
    levels.sort_unstable();
    levels.dedup();
    let mut level = if levels.is_empty() { 0 } else { levels.remove(0) };

    let mut rng = Rng::new(input.seed);
    let mut activated: Vec<usize> = Vec::new();
    let mut activated_set: Vec<bool> = vec![false; items.len()];
    let mut failed_prob: Vec<bool> = vec![false; items.len()];
    let mut contents: HashMap<usize, (String, usize, ActivationReason, usize, Pass, i64)> = HashMap::new();
    let mut all_text = String::new();
    let mut overflow = false;
    let mut skew: usize = 0;
    let mut pass = Pass::Initial;
    let mut passes = 0usize;
    let external: HashSet<&str> = input.external_activations.iter().map(String::as_str).collect();
    let trigger = match input.trigger {
        "normal" | "continue" | "impersonate" | "swipe" | "regenerate" | "quiet" => input.trigger,
        _ => "normal",
    };
    let char_file = input.character.file_name().to_string();
    let needs_key =
        !sticky_active.is_empty() || !cooldown_active.is_empty() || !external.is_empty() || !state.matched.is_empty();
    // Entries named by timed state or external activation: always candidates.
    let mut keyed_items: Vec<usize> = Vec::new();
    if needs_key {
        for key in sticky_active.iter().chain(state.matched.iter()).map(String::as_str).chain(external.iter().copied())
        {
            for (bi, b) in books.iter().enumerate() {
                let Some(uid) = key.strip_prefix(b.name).and_then(|r| r.strip_prefix('.')) else {
                    continue;
                };
                let Some(eis) = uid.parse::<i64>().ok().and_then(|u| b.book.index.by_uid.get(&u)) else {
                    continue;
                };
                keyed_items.extend(eis.iter().map(|&ei| items.of(bi, ei)));
            }
        }
    }
    // Each pass activates an entry, or is a min-activations pass (the depth grows each time), the
    // recursion pass after one, a delay-level pass, or the last: a true upper bound.
    let max_passes_hard = items.len() + 2 * (msg_count_bound(chat_len) + 2) + levels.len() + 1;

    loop {
        passes += 1;
        let global_depth = (settings.depth.max(0) as usize).saturating_add(skew);
        let need = global_depth.max(sc.books.iter().map(|b| b.max_entry_depth.max(0) as usize).max().unwrap_or(0));
        sc.ensure_msgs(need);
        let is_rec = pass == Pass::Recursion;
        let buf_bit = if pass != Pass::MinActivations && !sc.segs.buf.is_empty() { BIT_BUF } else { 0 };
        let inj_bit = if sc.segs.inj.is_empty() { 0 } else { BIT_INJ };

        // 4. Candidates: only entries that can activate (see `CandidateIndex`), in scan order.
        let mut visit: Vec<usize> = Vec::new();
        {
            let mut mark = vec![false; items.len()];
            let mut add = |ii: usize| {
                if !mark[ii] && !activated_set[ii] && !failed_prob[ii] {
                    mark[ii] = true;
                    visit.push(ii);
                }
            };
            for (bi, b) in books.iter().enumerate() {
                let ix = &b.book.index;
                for (k, auto) in sc.states[bi].auto.iter().enumerate() {
                    for &pat in &auto.seen {
                        // A whole-word key whose pattern was only seen inside words cannot match.
                        let h = auto.hits[pat as usize];
                        let ww_seen = h.msg_ww != u32::MAX || h.bits_ww != 0;
                        for &p in ix.postings(k, pat) {
                            if ww_seen || p & WW_BIT == 0 {
                                add(items.of(bi, p & !WW_BIT));
                            }
                        }
                    }
                }
                for &ei in &ix.always {
                    add(items.of(bi, ei));
                }
            }
            keyed_items.iter().for_each(|&ii| add(ii));
        }
        // Within a book, item numbers already follow the scan order.
        if books.len() == 1 {
            visit.sort_unstable();
        } else {
            visit.sort_by_cached_key(|&ii| items.rank(ii));
        }
        let mut cands: Vec<Cand> = Vec::new();
        for &ii in &visit {
            let it = &items.at(ii);
            let (e, ce) = (it.e, it.ce);
            if !e.enabled {
                continue;
            }
            if !e.triggers.is_empty() && !e.triggers.iter().any(|t| t == trigger) {
                continue;
            }
            if let Some(f) = &e.character_filter {
                if !f.names.is_empty() {
                    let inc = f.names.iter().any(|n| n == &char_file);
                    if if f.is_exclude { inc } else { !inc } {
                        continue;
                    }
                }
                if !f.tags.is_empty() && !input.character.tags.is_empty() {
                    let inc = input.character.tags.iter().any(|t| f.tags.contains(t));
                    if if f.is_exclude { inc } else { !inc } {
                        continue;
                    }
                }
            }
            // Key lookups only when some state exists (the common case has none).
            let key = if needs_key { it.key() } else { String::new() };
            let sticky = needs_key && sticky_active.contains(&key);
            if e.delay.is_some_and(|d| d > 0 && chat_len < d) {
                continue;
            }
            if needs_key && cooldown_active.contains(&key) && !sticky {
                continue;
            }
            if e.delay_until_recursion > 0 && !sticky && (!is_rec || e.delay_until_recursion > level) {
                continue;
            }
            if e.exclude_recursion && is_rec && !sticky {
                continue;
            }
            let d = &ce.decor;
            if d.only_after.is_some_and(|n| assistant_count < n) {
                continue;
            }
            if d.only_every.is_some_and(|n| assistant_count % n != 0) {
                continue;
            }
            if d.is_greeting.is_some_and(|n| input.greeting_index.unwrap_or(0) != n) {
                continue;
            }
            let matched_before = needs_key && state.matched.contains(&key);
            if d.dont_after_match && matched_before {
                continue;
            }
            let simple = Why::Simple;
            if d.dont_activate && !d.activate {
                continue;
            }
            let reason = if d.activate {
                simple("decorator")
            } else if needs_key && external.contains(key.as_str()) {
                simple("external")
            } else if e.constant {
                simple("constant")
            } else if sticky {
                simple("sticky")
            } else if d.keep_after_match && matched_before {
                simple("keepAfterMatch")
            } else {
                if ce.primary.is_empty() {
                    continue;
                }
                let cfg = entry_cfg(it, global_depth, inj_bit | buf_bit);
                let mut hit = None;
                for k in &ce.primary {
                    if let Some(src) = sc.key_matches(it.book, e, k, cfg) {
                        hit = Some((k.text(), src));
                        break;
                    }
                }
                let Some((key, src)) = hit else { continue };
                let mut sec_matched = Vec::new();
                if e.selective && !ce.secondary.is_empty() {
                    let mut any = false;
                    let mut all = true;
                    for k in &ce.secondary {
                        if sc.key_matches(it.book, e, k, cfg).is_some() {
                            any = true;
                            sec_matched.push(k.text());
                        } else {
                            all = false;
                        }
                    }
                    let ok = match e.selective_logic {
                        SelectiveLogic::AndAny => any,
                        SelectiveLogic::AndAll => all,
                        SelectiveLogic::NotAny => !any,
                        SelectiveLogic::NotAll => !all,
                    };
                    if !ok {
                        continue;
                    }
                }
                if d.exclude_keys.iter().any(|k| sc.key_matches(it.book, e, k, cfg).is_some()) {
                    continue;
                }
                if !d.additional_keys.iter().all(|ks| ks.iter().any(|k| sc.key_matches(it.book, e, k, cfg).is_some())) {
                    continue;
                }
                Why::Key { key, src, secondary: sec_matched }
            };
            cands.push(Cand { item: ii, sticky, why: reason });
        }

        // 5. Sticky first.
        crate::sort::by_key(&mut cands, |c| !c.sticky);

        // 6. Inclusion groups.
        let mut removed: HashSet<usize> = HashSet::new(); // candidate indices
        let mut group_names: Vec<String> = Vec::new();
        let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
        for (ci, c) in cands.iter().enumerate() {
            for gname in &items.at(c.item).ce.groups {
                if !groups.contains_key(gname) {
                    group_names.push(gname.clone());
                }
                groups.entry(gname.clone()).or_default().push(ci);
            }
        }
        let drop_c = |ci: usize, why: &'static str, g: &str, removed: &mut HashSet<usize>, result: &mut WorldInfoResult| {
            if removed.insert(ci) {
                let it = &items.at(cands[ci].item);
                result.dropped.push(DroppedEntry {
                    world: items.world(it.book),
                    uid: it.e.uid,
                    reason: why.into(),
                    group: Some(g.to_string()),
                });
            }
        };
        let mut sticky_groups: HashSet<String> = HashSet::new();
        for gname in &group_names {
            let members = &groups[gname];
            if members.iter().any(|&ci| cands[ci].sticky) {
                sticky_groups.insert(gname.clone());
                for &ci in members {
                    if !cands[ci].sticky {
                        drop_c(ci, "inclusionGroup", gname, &mut removed, &mut result);
                    }
                }
            }
        }
        for gname in &group_names {
            if sticky_groups.contains(gname) {
                continue;
            }
            let members = groups[gname].clone();
            let scoring = settings.use_group_scoring
                || members.iter().any(|&ci| items.at(cands[ci].item).e.use_group_scoring == Some(true));
            if !scoring {
                continue;
            }
            let scores: Vec<usize> = members
                .iter()
                .map(|&ci| {
                    let it = &items.at(cands[ci].item);
                    let cfg = entry_cfg(it, global_depth, inj_bit | buf_bit);
                    sc.score(it.book, it.e, it.ce, cfg)
                })
                .collect();
            let max = scores.iter().copied().max().unwrap_or(0);
            let mut kept = Vec::new();
            for (k, &ci) in members.iter().enumerate() {
                let scored = items.at(cands[ci].item).e.use_group_scoring.unwrap_or(settings.use_group_scoring);
                if scored && scores[k] < max {
                    drop_c(ci, "groupScore", gname, &mut removed, &mut result);
                } else {
                    kept.push(ci);
                }
            }
            groups.insert(gname.clone(), kept);
        }
        for gname in &group_names {
            if sticky_groups.contains(gname) {
                continue;
            }
            let members = groups[gname].clone();
            if activated.iter().any(|&ii| items.at(ii).e.group == *gname) {
                for &ci in &members {
                    drop_c(ci, "groupFilled", gname, &mut removed, &mut result);
                }
                continue;
            }
            if members.len() <= 1 {
                continue;
            }
            let mut prios: Vec<usize> =
                members.iter().copied().filter(|&ci| items.at(cands[ci].item).e.group_override).collect();
            let winner = if !prios.is_empty() {
                crate::sort::by(&mut prios, |&a, &b| items.at(cands[b].item).e.order.cmp(&items.at(cands[a].item).e.order));
                prios[0]
            } else {
                let weight = |ci: usize| {
                    let w = items.at(cands[ci].item).e.group_weight;
                    if w.is_finite() && w >= 0.0 {
                        w
                    } else {
                        100.0
                    }
                };
                let total: f64 = members.iter().map(|&ci| weight(ci)).sum();
                let roll = rng.next_f64() * total;
                let mut acc = 0.0;
                let mut w = *members.last().unwrap_or(&members[0]);
                for &ci in &members {
                    acc += weight(ci);
                    if roll <= acc {
                        w = ci;
                        break;
                    }
                }
                w
            };
            for &ci in &members {
                if ci != winner {
                    drop_c(ci, "inclusionGroup", gname, &mut removed, &mut result);
                }
            }
        }

        // 7. Probability and budget.
        let prev_tokens = if all_text.is_empty() { 0 } else { counter.count(&all_text) };
        let mut pass_text = String::new();
        let mut new_now: Vec<usize> = Vec::new();
        for (ci, c) in cands.iter().enumerate() {
            if removed.contains(&ci) {
                continue;
            }
            let it = &items.at(c.item);
            let e = it.e;
            if overflow && !e.ignore_budget {
                result.dropped.push(DroppedEntry {
                    world: items.world(it.book),
                    uid: e.uid,
                    reason: "budget".into(),
                    group: None,
                });
                continue;
            }
            if e.use_probability && e.probability < 100.0 && !c.sticky {
                let roll = rng.next_f64() * 100.0;
                if roll > e.probability {
                    failed_prob[c.item] = true;
                    result.dropped.push(DroppedEntry {
                        world: items.world(it.book),
                        uid: e.uid,
                        reason: "probability".into(),
                        group: None,
                    });
                    continue;
                }
            }
            let content = sc.render(&it.ce.content);
            let before = pass_text.len();
            pass_text.push_str(&content);
            pass_text.push('\n');
            let tokens = counter.count(&pass_text[before..]);
            if !e.ignore_budget && prev_tokens + counter.count(&pass_text) >= budget {
                overflow = true;
                result.dropped.push(DroppedEntry {
                    world: items.world(it.book),
                    uid: e.uid,
                    reason: "budget".into(),
                    group: None,
                });
                continue;
            }
            activated.push(c.item);
            activated_set[c.item] = true;
            new_now.push(c.item);
            let reason = match &c.why {
                Why::Simple(kind) => ActivationReason {
                    kind: (*kind).into(),
                    key: None,
                    source: None,
                    message_index: None,
                    secondary_keys: Vec::new(),
                },
                Why::Key { key, src, secondary } => {
                    let (source, message_index) = sc.src_reason(*src);
                    ActivationReason {
                        kind: "key".into(),
                        key: Some(key.to_string()),
                        source,
                        message_index,
                        secondary_keys: secondary.iter().map(|k| k.to_string()).collect(),
                    }
                }
            };
            contents.insert(c.item, (content, tokens, reason, passes, pass, level));
        }
        all_text.push_str(&pass_text);

        // 8. Next state.
        let rec_texts: Vec<&str> =
            new_now.iter().filter(|&&ii| !items.at(ii).e.prevent_recursion).map(|ii| contents[ii].0.as_str()).collect();
        let mut next = None;
        if settings.recursive && !overflow && !rec_texts.is_empty() {
            next = Some(Pass::Recursion);
        }
        if !rec_texts.is_empty() {
            let t = rec_texts.join("\n");
            sc.segs.buf_lower.push(lower(&t));
            sc.segs.buf.push(t);
            sc.scan_new_buffer();
        }
        if settings.recursive && !overflow && pass == Pass::MinActivations && !sc.segs.buf.is_empty() {
            next = Some(Pass::Recursion);
        }
        if next.is_none()
            && !overflow
            && settings.min_activations > 0
            && (activated.len() as i64) < settings.min_activations
        {
            let depth = global_depth as i64;
            let over = (settings.min_activations_depth_max > 0 && depth > settings.min_activations_depth_max)
                || depth > chat_len;
            if !over {
                next = Some(Pass::MinActivations);
                skew += 1;
            }
        }
        if next.is_none() && !levels.is_empty() {
            next = Some(Pass::Recursion);
            level = levels.remove(0);
        }
        if settings.max_recursion_steps > 0 && passes as i64 >= settings.max_recursion_steps {
            next = None;
        }
        if passes >= max_passes_hard {
            next = None;
        }
        match next {
            Some(p) => pass = p,
            None => break,
        }
    }
    result.scan_passes = passes;
    result.budget_overflowed = overflow;

    // 9. Output.
    let mut sorted = activated.clone();
    crate::sort::by_key(&mut sorted, |&ii| std::cmp::Reverse(items.at(ii).e.order));
    let mut before: Vec<&str> = Vec::new();
    let mut after: Vec<&str> = Vec::new();
    for &ii in &sorted {
        let it = &items.at(ii);
        let content = contents[&ii].0.as_str();
        if content.is_empty() {
            continue;
        }
        match it.ce.position {
            Position::Before => before.insert(0, content),
            Position::After => after.insert(0, content),
            Position::AuthorsNoteTop => result.an_top.insert(0, content.to_string()),
            Position::AuthorsNoteBottom => result.an_bottom.insert(0, content.to_string()),
            Position::AtDepth => {
                let (depth, role) = (it.ce.depth, role_num(it.ce.role));
                match result.depth_entries.iter_mut().find(|d| d.depth == depth && d.role == role) {
                    Some(d) => d.entries.insert(0, content.to_string()),
                    None => {
                        result.depth_entries.push(DepthInjection { depth, role, entries: vec![content.to_string()] })
                    }
                }
            }
            Position::ExamplesTop | Position::ExamplesBottom => result.example_entries.insert(
                0,
                ExampleInjection {
                    position: i64::from(it.ce.position == Position::ExamplesBottom),
                    content: content.to_string(),
                },
            ),
            Position::Outlet => {
                if !it.e.outlet_name.is_empty() {
                    result.outlets.entry(it.e.outlet_name.clone()).or_default().push(content.to_string());
                }
            }
            Position::Other(_) => {}
        }
    }
    result.world_info_before = before.join("\n");
    result.world_info_after = after.join("\n");
    for &ii in &activated {
        let it = &items.at(ii);
        let (content, tokens, reason, pass_no, pass_kind, lvl) = contents[&ii].clone();
        result.activated.push(ActivatedEntry {
            world: it.world.to_string(),
            uid: it.e.uid,
            comment: it.e.comment.clone(),
            content,
            position: it.ce.position.as_i64(),
            depth: it.ce.depth,
            role: role_num(it.ce.role),
            order: it.e.order,
            outlet_name: it.e.outlet_name.clone(),
            pass: pass_no,
            pass_kind: pass_kind.name().into(),
            recursion_level: lvl,
            tokens,
            reason,
        });
    }

    // Timed effects for activated entries.
    if input.dry_run {
        result.state = input.state.clone();
    } else {
        for &ii in &activated {
            let it = &items.at(ii);
            if let Some(s) = it.e.sticky.filter(|&s| s > 0) {
                state.sticky.entry(it.key()).or_insert(TimedRecord {
                    hash: it.ce.hash,
                    start: chat_len,
                    end: chat_len + s,
                    protected: false,
                });
            }
            if let Some(c) = it.e.cooldown.filter(|&c| c > 0) {
                state.cooldown.entry(it.key()).or_insert(TimedRecord {
                    hash: it.ce.hash,
                    start: chat_len,
                    end: chat_len + c,
                    protected: false,
                });
            }
            if it.ce.decor.keep_after_match || it.ce.decor.dont_after_match {
                state.matched.insert(it.key());
            }
        }
        result.state = state;
    }
    result
}

fn msg_count_bound(chat_len: i64) -> usize {
    chat_len.clamp(0, MAX_SCAN_DEPTH as i64) as usize
}

fn entry_cfg(it: &Item, global_depth: usize, base_mask: u16) -> Cfg {
    let e = it.e;
    let depth = match it.ce.scan_depth {
        Some(sd) => sd.clamp(0, MAX_SCAN_DEPTH as i64) as usize,
        None => global_depth.min(MAX_SCAN_DEPTH),
    };
    let mut mask = base_mask;
    let flags = [
        e.match_persona_description,
        e.match_character_description,
        e.match_character_personality,
        e.match_character_depth_prompt,
        e.match_scenario,
        e.match_creator_notes,
    ];
    for (i, f) in flags.iter().enumerate() {
        if *f {
            mask |= 1 << i;
        }
    }
    Cfg { depth, mask }
}
