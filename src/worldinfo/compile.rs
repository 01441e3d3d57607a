//! The compiled matcher of one lorebook: decorators parsed, keys normalised,
//! plain keys (and the required literals of regex keys) in Aho-Corasick automata,
//! regex keys translated and compiled once.

use aho_corasick::{AhoCorasick, MatchKind};

use super::jsregex::{self, KeyRegex};
use crate::lorebook::{parse_decorators, Lorebook, LorebookEntry, Position, Role};
use crate::macros::rng::fnv1a64;

/// Global settings that change how keys compile (an entry's own `caseSensitive` /
/// `matchWholeWords` win over these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CompileOptions {
    /// `world_info_case_sensitive`.
    pub case_sensitive: bool,
    /// `world_info_match_whole_words`.
    pub match_whole_words: bool,
}

/// A compiled key.
#[derive(Debug, Clone)]
pub(crate) enum CKey {
    /// A whitespace-only key, trimmed to "": matches any non-empty haystack.
    Empty,
    /// A plain key: pattern `pat` of the case-insensitive (`cs == false`) or
    /// case-sensitive automaton; `ww` = whole-word boundaries required.
    Plain { pat: u32, cs: bool, ww: bool, text: String },
    /// A regex key (index into [`CompiledLorebook::regexes`]).
    Regex { rx: u32, text: String },
    /// A key that never matches (an unsupported regex); the reason is in the warnings.
    Never { text: String },
    /// A key with macros: resolved and matched at scan time.
    Dynamic { raw: String },
}

impl CKey {
    pub(crate) fn text(&self) -> &str {
        match self {
            CKey::Empty => "",
            CKey::Plain { text, .. } | CKey::Regex { text, .. } | CKey::Never { text } => text,
            CKey::Dynamic { raw } => raw,
        }
    }
}

/// A compiled regex key.
#[derive(Debug)]
pub(crate) struct CRegex {
    pub re: regex_lite::Regex,
    /// Required literals, one of which every match contains: (pattern id, case-sensitive
    /// automaton?) each. Empty: the regex has none and runs on every scan.
    pub prefilter: Vec<(u32, bool)>,
    /// The literals themselves (lower-case when compared case-insensitively) and whether
    /// they are case-sensitive.
    pub literals: Option<(Vec<String>, bool)>,
    /// A match cannot span scanned segments (see [`jsregex::Translated::local`]).
    pub local: bool,
    /// The quicker form when every match starts with the literal.
    pub anchored: Option<jsregex::AnchoredRegex>,
}

impl CRegex {
    /// Does the regex match `raw` (one segment of a `local` regex; `low` is it lower-cased)?
    pub(crate) fn is_match_segment(&self, raw: &str, low: &str) -> bool {
        match &self.anchored {
            Some(a) => a.is_match(raw, Some(low)),
            None => self.re.is_match(raw),
        }
    }
}

/// Decorators that change activation or placement (the V3 card spec's and SillyTavern's own).
#[derive(Debug, Clone, Default)]
pub(crate) struct Decor {
    pub activate: bool,
    pub dont_activate: bool,
    pub depth: Option<i64>,
    pub role: Option<Role>,
    pub position: Option<Position>,
    pub scan_depth: Option<i64>,
    pub only_after: Option<i64>,
    pub only_every: Option<i64>,
    pub keep_after_match: bool,
    pub dont_after_match: bool,
    pub is_greeting: Option<i64>,
    pub exclude_keys: Vec<CKey>,
    pub additional_keys: Vec<Vec<CKey>>,
}

/// One compiled entry.
#[derive(Debug)]
pub(crate) struct CEntry {
    pub primary: Vec<CKey>,
    pub secondary: Vec<CKey>,
    pub decor: Decor,
    /// Content without decorator lines.
    pub content: String,
    /// Inclusion groups (comma-separated `group`, trimmed, empty ones dropped).
    pub groups: Vec<String>,
    /// Hash of the whole entry (timed-effect records refer to it).
    pub hash: u64,
    pub position: Position,
    pub depth: i64,
    pub role: Role,
    pub scan_depth: Option<i64>,
}

/// What lets a scan look only at entries that can activate, instead of all of them.
///
/// An entry activates by key only when one of its primary keys matches, and a plain key (or
/// a regex key with a required literal) can match only when its automaton pattern was seen.
/// So a pass visits the posting lists of the patterns seen so far, plus the entries that
/// need a look whatever was seen (`always`), plus the few named by timed state.
#[derive(Debug, Default)]
pub(crate) struct CandidateIndex {
    /// Per automaton: posting-list offsets by pattern id (`pattern_count + 1` long).
    pub off: [Vec<u32>; 2],
    /// Per automaton: postings grouped by pattern, each an entry index with [`WW_BIT`] set
    /// when that key needs a whole-word hit.
    pub post: [Vec<u32>; 2],
    /// Entries checked on every pass: constant, `@@activate`, or a primary key that can
    /// match without a pattern hit (empty, with macros, a regex with no required literal).
    pub always: Vec<u32>,
    /// Per automaton: is the pattern the required literal of some regex key?
    pub literal: [Vec<bool>; 2],
    /// Per entry: its position in [`CompiledLorebook::sorted`].
    pub sorted_pos: Vec<u32>,
    /// Per entry: its `order`, contiguous for cheap sorting.
    pub orders: Vec<i64>,
    /// The distinct positive `delayUntilRecursion` levels, ascending.
    pub delay_levels: Vec<i64>,
    /// Entry by timed-effect hash (the last entry in `sorted` order wins, as a map built
    /// over it would).
    pub by_hash: std::collections::HashMap<u64, u32>,
    /// Entries by uid.
    pub by_uid: std::collections::HashMap<i64, Vec<u32>>,
}

/// Posting flag: the key matches whole words only.
pub(crate) const WW_BIT: u32 = 1 << 31;

impl CandidateIndex {
    fn build(entries: &[CEntry], book: &Lorebook, sorted: &[usize], regexes: &[CRegex], counts: [usize; 2]) -> Self {
        let mut pairs: [Vec<(u32, u32)>; 2] = Default::default();
        let mut always = Vec::new();
        let mut literal = [vec![false; counts[0]], vec![false; counts[1]]];
        for r in regexes {
            for &(pat, cs) in &r.prefilter {
                literal[usize::from(cs)][pat as usize] = true;
            }
        }
        for (ei, ce) in entries.iter().enumerate() {
            let e = &book.entries[ei];
            let mut unconditional = e.constant || ce.decor.activate;
            for k in &ce.primary {
                match k {
                    CKey::Plain { pat, cs, ww, .. } => {
                        pairs[usize::from(*cs)].push((*pat, ei as u32 | if *ww { WW_BIT } else { 0 }))
                    }
                    CKey::Regex { rx, .. } => {
                        let pf = &regexes[*rx as usize].prefilter;
                        unconditional |= pf.is_empty();
                        for &(pat, cs) in pf {
                            pairs[usize::from(cs)].push((pat, ei as u32));
                        }
                    }
                    CKey::Empty | CKey::Dynamic { .. } => unconditional = true,
                    CKey::Never { .. } => {}
                }
            }
            if unconditional {
                always.push(ei as u32);
            }
        }
        let csr = |mut v: Vec<(u32, u32)>, n: usize| -> (Vec<u32>, Vec<u32>) {
            v.sort_unstable();
            v.dedup();
            let mut off = vec![0u32; n + 1];
            for &(p, _) in &v {
                off[p as usize + 1] += 1;
            }
            for i in 0..n {
                off[i + 1] += off[i];
            }
            (off, v.into_iter().map(|(_, e)| e).collect())
        };
        let [p0, p1] = pairs;
        let (off0, post0) = csr(p0, counts[0]);
        let (off1, post1) = csr(p1, counts[1]);
        let mut sorted_pos = vec![0u32; entries.len()];
        let mut by_hash = std::collections::HashMap::new();
        for (pos, &ei) in sorted.iter().enumerate() {
            sorted_pos[ei] = pos as u32;
            by_hash.insert(entries[ei].hash, ei as u32);
        }
        let mut by_uid: std::collections::HashMap<i64, Vec<u32>> = std::collections::HashMap::new();
        for (ei, e) in book.entries.iter().enumerate() {
            by_uid.entry(e.uid).or_default().push(ei as u32);
        }
        let mut delay_levels: Vec<i64> =
            book.entries.iter().map(|e| e.delay_until_recursion).filter(|&l| l > 0).collect();
        delay_levels.sort_unstable();
        delay_levels.dedup();
        CandidateIndex {
            off: [off0, off1],
            post: [post0, post1],
            always,
            literal,
            sorted_pos,
            orders: book.entries.iter().map(|e| e.order).collect(),
            delay_levels,
            by_hash,
            by_uid,
        }
    }

    /// The entries posted under pattern `pat` of automaton `k`.
    pub(crate) fn postings(&self, k: usize, pat: u32) -> &[u32] {
        let (a, b) = (self.off[k][pat as usize] as usize, self.off[k][pat as usize + 1] as usize);
        &self.post[k][a..b]
    }
}

/// A lorebook compiled for scanning. Build once and reuse until the book (or the
/// global case/whole-word settings) change; scanning never mutates it.
#[derive(Debug)]
pub struct CompiledLorebook {
    pub(crate) book: Lorebook,
    pub(crate) entries: Vec<CEntry>,
    /// Entry indices sorted by `order` descending (ties: book order).
    pub(crate) sorted: Vec<usize>,
    pub(crate) ac: [Option<AhoCorasick>; 2],
    pub(crate) pattern_count: [usize; 2],
    pub(crate) regexes: Vec<CRegex>,
    pub(crate) has_dynamic: bool,
    pub(crate) max_entry_depth: i64,
    /// Test oracle: regex keys run over the whole haystack, without literals or segments.
    pub(crate) naive_regex: bool,
    /// Which entries a scan needs to look at (see [`CandidateIndex`]).
    pub(crate) index: CandidateIndex,
    opts: CompileOptions,
    warnings: Vec<String>,
    compile_micros: u64,
}

const LEGACY_TAGS: [&str; 5] = ["<user>", "<bot>", "<char>", "<group>", "<charifnotgroup>"];

pub(crate) fn has_macros(s: &str) -> bool {
    if s.contains("{{") {
        return true;
    }
    if !s.contains('<') {
        return false;
    }
    let l = s.to_ascii_lowercase();
    LEGACY_TAGS.iter().any(|t| l.contains(t))
}

/// JS `str.split(/\s+/).length > 1` for a trimmed key: does it contain whitespace?
pub(crate) fn is_multi_word(s: &str) -> bool {
    s.chars().any(|c| c.is_whitespace() || c == '\u{FEFF}')
}

/// Lower-casing as JavaScript's `toLowerCase` (full Unicode mapping).
pub(crate) fn lower(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// Deduplicating pattern lists of the two automata (0 = case-insensitive, 1 = case-sensitive).
#[derive(Default)]
pub(crate) struct Interner {
    pats: [Vec<String>; 2],
    ids: [std::collections::HashMap<String, u32>; 2],
}

impl Interner {
    pub(crate) fn pattern(&mut self, text: String, cs: bool) -> u32 {
        let k = usize::from(cs);
        if let Some(&id) = self.ids[k].get(&text) {
            return id;
        }
        let id = self.pats[k].len() as u32;
        self.ids[k].insert(text.clone(), id);
        self.pats[k].push(text);
        id
    }
}

struct Builder {
    interner: Interner,
    regexes: Vec<CRegex>,
    warnings: Vec<String>,
}

impl Builder {
    fn key(&mut self, raw: &str, cs: bool, ww: bool, use_regex: bool, where_: &str) -> Option<CKey> {
        if raw.is_empty() {
            return None;
        }
        if has_macros(raw) {
            return Some(CKey::Dynamic { raw: raw.to_string() });
        }
        let mut warns = Vec::new();
        let k = compile_key(raw.trim(), cs, ww, use_regex, &mut self.interner, &mut self.regexes, &mut warns);
        self.warnings.extend(warns.into_iter().map(|w| format!("{where_}: {w}")));
        Some(k)
    }
}

/// Compiles one (already macro-resolved, trimmed) key.
pub(crate) fn compile_key(
    key: &str,
    cs: bool,
    ww: bool,
    use_regex: bool,
    interner: &mut Interner,
    regexes: &mut Vec<CRegex>,
    warn: &mut Vec<String>,
) -> CKey {
    if key.is_empty() {
        return CKey::Empty;
    }
    let parsed = match jsregex::parse_key(key) {
        KeyRegex::NotRegex if use_regex => jsregex::translate(key, ""),
        other => other,
    };
    match parsed {
        KeyRegex::Ok(t) => match jsregex::compile(&t) {
            Ok(re) => {
                // The literal set (alternations and optional parts included) gates the regex;
                // the anchored form, if any, runs from the occurrences of its literals.
                let anchored = jsregex::AnchoredRegex::new(&t);
                let literals = t.literals.map(|(set, ci)| (set, !ci));
                let prefilter = match &literals {
                    Some((set, cs)) => set.iter().map(|l| (interner.pattern(l.clone(), *cs), *cs)).collect(),
                    None => Vec::new(),
                };
                regexes.push(CRegex { re, prefilter, literals, local: t.local, anchored });
                CKey::Regex { rx: (regexes.len() - 1) as u32, text: key.to_string() }
            }
            Err(e) => {
                warn.push(format!("regex key {key:?} cannot be compiled ({e}); it never matches"));
                CKey::Never { text: key.to_string() }
            }
        },
        KeyRegex::Unsupported(why) => {
            warn.push(format!("regex key {key:?} is not supported: {why}; it never matches"));
            CKey::Never { text: key.to_string() }
        }
        KeyRegex::Invalid(_) | KeyRegex::NotRegex => {
            let text = if cs { key.to_string() } else { lower(key) };
            let ww = ww && !is_multi_word(&text);
            let pat = interner.pattern(text, cs);
            CKey::Plain { pat, cs, ww, text: key.to_string() }
        }
    }
}

fn parse_i64(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok()
}

impl CompiledLorebook {
    /// Compiles `book` for the given global settings.
    pub fn new(book: Lorebook, opts: CompileOptions) -> CompiledLorebook {
        #[cfg(not(target_arch = "wasm32"))]
        let t0 = std::time::Instant::now();
        #[cfg(target_arch = "wasm32")]
        let t0 = js_sys::Date::now();
        let mut b = Builder { interner: Interner::default(), regexes: Vec::new(), warnings: Vec::new() };
        let mut entries = Vec::with_capacity(book.entries.len());
        let mut has_dynamic = false;
        let mut max_entry_depth = 0;
        for e in &book.entries {
            let ce = Self::compile_entry(e, opts, &mut b);
            has_dynamic |= ce.primary.iter().chain(&ce.secondary).any(|k| matches!(k, CKey::Dynamic { .. }));
            if let Some(d) = ce.scan_depth {
                max_entry_depth = max_entry_depth.max(d);
            }
            entries.push(ce);
        }
        let build = |pats: &Vec<String>| -> Option<AhoCorasick> {
            if pats.is_empty() {
                return None;
            }
            AhoCorasick::builder().match_kind(MatchKind::Standard).build(pats).ok()
        };
        let ac = [build(&b.interner.pats[0]), build(&b.interner.pats[1])];
        let mut sorted: Vec<usize> = (0..book.entries.len()).collect();
        crate::sort::by(&mut sorted, |&a, &b| book.entries[b].order.cmp(&book.entries[a].order));
        let pattern_count = [b.interner.pats[0].len(), b.interner.pats[1].len()];
        let index = CandidateIndex::build(&entries, &book, &sorted, &b.regexes, pattern_count);
        #[cfg(not(target_arch = "wasm32"))]
        let compile_micros = t0.elapsed().as_micros() as u64;
        #[cfg(target_arch = "wasm32")]
        let compile_micros = ((js_sys::Date::now() - t0) * 1000.0) as u64;
        CompiledLorebook {
            book,
            entries,
            sorted,
            pattern_count,
            ac,
            index,
            regexes: b.regexes,
            has_dynamic,
            max_entry_depth,
            naive_regex: false,
            opts,
            warnings: b.warnings,
            compile_micros,
        }
    }

    fn compile_entry(e: &LorebookEntry, opts: CompileOptions, b: &mut Builder) -> CEntry {
        let cs = e.case_sensitive.unwrap_or(opts.case_sensitive);
        let ww = e.match_whole_words.unwrap_or(opts.match_whole_words);
        let where_ = format!("entry {}", e.uid);
        let primary: Vec<CKey> = e.keys.iter().filter_map(|k| b.key(k, cs, ww, e.use_regex, &where_)).collect();
        let secondary: Vec<CKey> =
            e.secondary_keys.iter().filter_map(|k| b.key(k, cs, ww, e.use_regex, &where_)).collect();
        let (decs, rest) = parse_decorators(&e.content);
        let mut decor = Decor::default();
        let mut seen: Vec<String> = Vec::new();
        let mut prev_unknown = false;
        for d in decs {
            if d.fallback && !prev_unknown {
                continue;
            }
            let name = d.name.to_ascii_lowercase();
            let repeatable = name == "additional_keys";
            if !repeatable && seen.contains(&name) {
                prev_unknown = true;
                continue;
            }
            let v = d.value.trim();
            let csv = |b: &mut Builder| -> Vec<CKey> {
                v.split(',').filter_map(|k| b.key(k.trim(), cs, ww, e.use_regex, &where_)).collect()
            };
            let known = match name.as_str() {
                "activate" => {
                    decor.activate = true;
                    true
                }
                "dont_activate" => {
                    decor.dont_activate = true;
                    true
                }
                "depth" => parse_i64(v).map(|n| decor.depth = Some(n.max(0))).is_some(),
                "role" => {
                    Role::from_value(&serde_json::Value::String(v.to_string())).map(|r| decor.role = Some(r)).is_some()
                }
                "position" => {
                    let p = match v {
                        "before_desc" => Some(Position::Before),
                        "after_desc" | "personality" | "scenario" => Some(Position::After),
                        _ => None,
                    };
                    p.map(|p| decor.position = Some(p)).is_some()
                }
                "scan_depth" => parse_i64(v).map(|n| decor.scan_depth = Some(n)).is_some(),
                "activate_only_after" => parse_i64(v).map(|n| decor.only_after = Some(n)).is_some(),
                "activate_only_every" => parse_i64(v).filter(|&n| n > 0).map(|n| decor.only_every = Some(n)).is_some(),
                "keep_activate_after_match" => {
                    decor.keep_after_match = true;
                    true
                }
                "dont_activate_after_match" => {
                    decor.dont_after_match = true;
                    true
                }
                "is_greeting" => parse_i64(v).map(|n| decor.is_greeting = Some(n)).is_some(),
                "exclude_keys" => {
                    if e.use_regex {
                        false
                    } else {
                        decor.exclude_keys = csv(b);
                        true
                    }
                }
                "additional_keys" => {
                    let ks = csv(b);
                    decor.additional_keys.push(ks);
                    true
                }
                _ => false,
            };
            if known {
                seen.push(name);
            }
            prev_unknown = !known;
        }
        let groups = e.group.split(',').map(|g| g.trim()).filter(|g| !g.is_empty()).map(String::from).collect();
        let hash = fnv1a64(e.to_world_info_value().to_string().as_bytes()) & 0xFFFF_FFFF;
        // `@@depth` implies an at-depth insertion unless `@@position` says otherwise.
        let position = decor.position.or(decor.depth.map(|_| Position::AtDepth)).unwrap_or(e.position);
        CEntry {
            primary,
            secondary,
            content: rest.to_string(),
            groups,
            hash,
            position,
            depth: decor.depth.unwrap_or(e.depth).max(0),
            role: decor.role.unwrap_or(e.role),
            scan_depth: decor.scan_depth.or(e.scan_depth),
            decor,
        }
    }

    /// Test oracle: this book with its candidate index switched off, so that every scan
    /// pass looks at every entry, and regex keys run over the whole haystack string (no
    /// literal prefilter, no per-segment or anchored runs). Scans must give the same
    /// result either way.
    #[doc(hidden)]
    pub fn visiting_every_entry(mut self) -> Self {
        self.index.always = (0..self.entries.len() as u32).collect();
        self.naive_regex = true;
        self
    }

    /// The lorebook this was compiled from.
    pub fn lorebook(&self) -> &Lorebook {
        &self.book
    }

    /// Whether some key contains macros (resolved per scan, not in the automata).
    pub fn has_dynamic_keys(&self) -> bool {
        self.has_dynamic
    }

    /// The options it was compiled with.
    pub fn options(&self) -> CompileOptions {
        self.opts
    }

    /// Problems found while compiling (unsupported regex keys, with reasons).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Statistics: patterns, regexes, approximate heap bytes of the automata, compile time.
    pub fn stats(&self) -> CompileStats {
        CompileStats {
            entries: self.entries.len(),
            plain_patterns: self.pattern_count[0] + self.pattern_count[1],
            regex_keys: self.regexes.len(),
            automaton_bytes: self.ac.iter().flatten().map(|a| a.memory_usage()).sum(),
            compile_micros: self.compile_micros,
        }
    }
}

/// See [`CompiledLorebook::stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompileStats {
    /// Entries in the book.
    pub entries: usize,
    /// Distinct plain patterns (keys and regex literals) in the automata.
    pub plain_patterns: usize,
    /// Compiled regex keys.
    pub regex_keys: usize,
    /// Heap bytes of the Aho-Corasick automata.
    pub automaton_bytes: usize,
    /// Compile time in microseconds.
    pub compile_micros: u64,
}
