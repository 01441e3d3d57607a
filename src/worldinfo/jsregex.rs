//! JavaScript `/pattern/flags` keys → `regex-lite` patterns.
//!
//! Regex keys come from untrusted cards, so they run on `regex-lite`, a linear-time
//! engine (no backtracking, so no catastrophic patterns; ~21 KB gzip). JavaScript
//! syntax is translated; what regex-lite cannot express is *rejected with a reason*
//! (such a key never matches and the scan report says why) rather than approximated:
//!
//! | JavaScript | here |
//! |---|---|
//! | `\d \w \b \B \D \W` (ASCII) | same (regex-lite is ASCII for these too) |
//! | `\s \S` (Unicode whitespace) | explicit classes of the JS whitespace set |
//! | `.` (no line terminators) | `[^\n\r\u2028\u2029]`; with `s`: any char |
//! | `\xHH \uHHHH \u{…} \cX \0`, identity escapes, surrogate pairs | the code point |
//! | `(?<name>…)`, `(?:…)`, `{n,m}`, lazy quantifiers | same |
//! | a lone `{`/`}`/`]` | literal |
//! | `i` on non-ASCII letters | letters expanded to `[xX]` classes (regex-lite folds ASCII only) |
//! | lookaround, backreferences, `\p{…}` | **rejected** (`Unsupported`) |
//! | syntax errors (`(unclosed`, `a**`, `[z-a]`) | `Invalid`: like SillyTavern, the key is then plain text |
//!
//! Each translated pattern also yields an optional *required literal set*: strings one
//! of which every match contains, found on the parse (alternations, optional parts and
//! bounded products of them; case-insensitive literals lower-cased ASCII, non-ASCII
//! letters under `i` count as classes). When every match *starts* with one of a set
//! (after an optional `\b`), that set is used and the pattern also gets an anchored form.
//! The compiled matcher puts the literals into its Aho-Corasick automata and only runs a
//! regex where one of them occurs.

/// Result of reading one key.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyRegex {
    /// Not of the `/pattern/flags` form (or contains an unescaped `/`): a plain key.
    NotRegex,
    /// JavaScript would reject the pattern: SillyTavern then treats the key as plain text.
    Invalid(String),
    /// Valid JavaScript that this engine does not support: the key never matches.
    Unsupported(String),
    /// A translated pattern.
    Ok(Translated),
}

/// A translated regex key.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    /// Pattern for regex-lite.
    pub pattern: String,
    /// A literal every match contains, and whether it is compared case-insensitively
    /// (then it is lower-case ASCII).
    pub literal: Option<(String, bool)>,
    /// A set of literals one of which every match contains (alternations, optional
    /// endings and case-insensitive keys included), and whether they are compared
    /// case-insensitively (then they are lower-case ASCII). Each has at least two
    /// characters and neither `\n` nor `\x01`; no member contains another.
    pub literals: Option<(Vec<String>, bool)>,
    /// The pattern has no `^`/`$` and can match neither `\n` nor `\x01`, so a match can
    /// never span two scanned segments: it may run on each segment separately.
    pub local: bool,
    /// When every match starts with one of [`Translated::literals`] (nothing but an
    /// optional `\b` before it): the pattern anchored there (`\A(?:…)`, the leading `\b`
    /// removed) and whether a `\b` must hold just before the literal. Running it from
    /// each occurrence of a literal finds a match far quicker than a search.
    pub anchored: Option<(String, bool)>,
}

/// Longest accepted pattern (characters).
pub const MAX_PATTERN_LEN: usize = 4096;

/// Splits `/pattern/flags` like SillyTavern: the shortest pattern followed by `/` and
/// only `gimsuy` flags to the end; a pattern with an unescaped `/` is not a regex.
pub fn split_key(key: &str) -> Option<(&str, &str)> {
    let body = key.strip_prefix('/')?;
    // Shortest pattern such that the rest is "/" + flags: scan for each '/' position.
    for (i, _) in body.match_indices('/') {
        if i == 0 {
            continue;
        }
        let flags = &body[i + 1..];
        if flags.bytes().all(|b| b"gimsuy".contains(&b)) {
            let pat = &body[..i];
            // An unescaped '/' inside the pattern: not a regex.
            let b = pat.as_bytes();
            for (j, &c) in b.iter().enumerate() {
                if c == b'/' && (j == 0 || b[j - 1] != b'\\') {
                    return None;
                }
            }
            return Some((pat, flags));
        }
    }
    None
}

/// Reads a key: a regex key is translated, anything else is [`KeyRegex::NotRegex`].
pub fn parse_key(key: &str) -> KeyRegex {
    let Some((pat, flags)) = split_key(key) else {
        return KeyRegex::NotRegex;
    };
    let mut seen = String::new();
    for f in flags.chars() {
        if seen.contains(f) {
            return KeyRegex::Invalid(format!("flag '{f}' given twice"));
        }
        seen.push(f);
    }
    if pat.chars().count() > MAX_PATTERN_LEN {
        return KeyRegex::Unsupported(format!("pattern longer than {MAX_PATTERN_LEN} characters"));
    }
    // SillyTavern unescapes the first "\/"; a remaining "\/" is an identity escape anyway.
    let pat = pat.replacen("\\/", "/", 1);
    translate(&pat, flags)
}

const WS_RANGES: &str =
    "\\t\\n\\x{0B}\\x{0C}\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}";

fn lit(c: char) -> String {
    if c.is_ascii_alphanumeric() {
        c.to_string()
    } else if c.is_ascii() {
        format!("\\x{{{:X}}}", c as u32)
    } else {
        c.to_string()
    }
}

fn case_variants(c: char) -> Vec<char> {
    let mut v = vec![c];
    let mut lo = c.to_lowercase();
    if let (Some(l), None) = (lo.next(), lo.next()) {
        if !v.contains(&l) {
            v.push(l);
        }
    }
    let mut up = c.to_uppercase();
    if let (Some(u), None) = (up.next(), up.next()) {
        if !v.contains(&u) {
            v.push(u);
        }
    }
    v
}

struct Tx<'a> {
    c: Vec<char>,
    i: usize,
    out: String,
    icase: bool,
    dotall: bool,
    unicode: bool,
    runs: Vec<String>,
    cur: String,
    top_alt: bool,
    /// Something can match '\n' or '\x01', or an anchor was used.
    cross: bool,
    /// Literal-set analysis: one frame per open group (see [`Info`]).
    frames: Vec<Frame>,
    _p: std::marker::PhantomData<&'a ()>,
}

/// Most strings a literal set may hold (larger sets are dropped as "anything").
const SET_LIMIT: usize = 64;

/// What the literal analysis knows about a piece of a pattern.
#[derive(Clone, Debug, Default)]
struct Info {
    /// Every string the piece can match (`""` included when it can match nothing),
    /// if there are few; `None`: unknown or too many.
    exact: Option<Vec<String>>,
    /// A set of non-empty strings one of which every match of the piece contains.
    req: Option<Vec<String>>,
    /// A set of strings one of which every match of the piece starts with.
    pre: Option<Vec<String>>,
    /// The piece can match the empty string.
    nullable: bool,
    /// An assertion (`\b`, `^` …) may be tested where a match of the piece starts.
    lead: bool,
}

/// An open group: its finished alternatives and the pieces of the current one.
#[derive(Default)]
struct Frame {
    branches: Vec<Info>,
    seq: Vec<Info>,
}

fn set_score(set: &[String]) -> (usize, std::cmp::Reverse<usize>) {
    let min = set.iter().map(|s| s.chars().count()).min().unwrap_or(0);
    (min.min(8), std::cmp::Reverse(set.len()))
}

/// Sorted, deduplicated, and without strings that contain another member (a text holding
/// the longer one holds the shorter one too).
fn minimize(mut set: Vec<String>) -> Vec<String> {
    crate::sort::by(&mut set, |a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    set.dedup();
    let mut out: Vec<String> = Vec::with_capacity(set.len());
    for s in set {
        if !out.iter().any(|t| s.contains(t.as_str())) {
            out.push(s);
        }
    }
    out
}

/// Sorted, deduplicated, and without strings that start with another member.
fn minimize_prefixes(mut set: Vec<String>) -> Vec<String> {
    crate::sort::by(&mut set, |a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    set.dedup();
    let mut out: Vec<String> = Vec::with_capacity(set.len());
    for s in set {
        if !out.iter().any(|t| s.starts_with(t.as_str())) {
            out.push(s);
        }
    }
    out
}

fn product(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() * b.len() > SET_LIMIT {
        return None;
    }
    Some(a.iter().flat_map(|x| b.iter().map(move |y| format!("{x}{y}"))).collect())
}

impl Info {
    fn any() -> Info {
        Info::default()
    }

    /// A zero-width assertion.
    fn empty() -> Info {
        Info { exact: Some(vec![String::new()]), req: None, pre: Some(vec![String::new()]), nullable: true, lead: true }
    }

    /// One literal character.
    fn literal(c: String) -> Info {
        Info { exact: Some(vec![c.clone()]), req: None, pre: Some(vec![c]), nullable: false, lead: false }
    }

    /// The better of the exact set (if it has no empty string) and the required set.
    fn best(&self) -> Option<Vec<String>> {
        let exact = self.exact.as_ref().filter(|e| e.iter().all(|s| !s.is_empty()));
        match (exact, &self.req) {
            (Some(e), Some(r)) => Some(if set_score(e) >= set_score(r) { e.clone() } else { r.clone() }),
            (Some(e), None) => Some(e.clone()),
            (None, r) => r.clone(),
        }
    }

    /// Pieces one after another.
    fn concat(seq: Vec<Info>) -> Info {
        let mut exact = Some(vec![String::new()]);
        let mut cands: Vec<Vec<String>> = Vec::new();
        let mut run: Option<Vec<String>> = None;
        for p in &seq {
            exact = match (&exact, &p.exact) {
                (Some(e), Some(pe)) => product(e, pe),
                _ => None,
            };
            if let Some(r) = &p.req {
                cands.push(r.clone());
            }
            match &p.exact {
                Some(pe) => {
                    run = Some(match run.take() {
                        None => pe.clone(),
                        Some(r) => match product(&r, pe) {
                            Some(x) => x,
                            None => {
                                cands.push(r);
                                pe.clone()
                            }
                        },
                    })
                }
                None => cands.extend(run.take()),
            }
        }
        cands.extend(run);
        let nullable = seq.iter().all(|p| p.nullable);
        let mut lead = false;
        for p in &seq {
            lead |= p.lead;
            if lead || !p.nullable {
                break;
            }
        }
        // The exact strings of the leading pieces, then the prefixes of the next one.
        let mut acc = vec![String::new()];
        for p in &seq {
            match &p.exact {
                Some(e) => match product(&acc, e) {
                    Some(x) => acc = x,
                    None => break,
                },
                None => {
                    if let Some(x) = p.pre.as_ref().and_then(|pp| product(&acc, pp)) {
                        acc = x;
                    }
                    break;
                }
            }
        }
        let req = cands
            .into_iter()
            .filter(|c| !c.is_empty() && c.iter().all(|s| !s.is_empty()))
            .map(minimize)
            .max_by_key(|c| set_score(c));
        Info { exact, req, pre: Some(acc), nullable, lead }
    }

    /// Alternatives.
    fn alt(branches: Vec<Info>) -> Info {
        if branches.len() == 1 {
            return branches.into_iter().next().unwrap_or_default();
        }
        let mut exact = Some(Vec::new());
        let mut req = Some(Vec::new());
        let mut pre = Some(Vec::new());
        for b in &branches {
            pre = match (pre, &b.pre) {
                (Some(mut p), Some(bp)) if p.len() + bp.len() <= SET_LIMIT => {
                    p.extend(bp.iter().cloned());
                    Some(p)
                }
                _ => None,
            };
            exact = match (exact, &b.exact) {
                (Some(mut e), Some(be)) if e.len() + be.len() <= SET_LIMIT => {
                    e.extend(be.iter().cloned());
                    Some(e)
                }
                _ => None,
            };
            req = match (req, b.best()) {
                (Some(mut r), Some(bb)) if r.len() + bb.len() <= SET_LIMIT => {
                    r.extend(bb);
                    Some(r)
                }
                _ => None,
            };
        }
        let nullable = branches.iter().any(|b| b.nullable);
        let lead = branches.iter().any(|b| b.lead);
        Info { exact, req: req.map(minimize), pre, nullable, lead }
    }

    /// The piece under a quantifier `q` (`?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}`, maybe lazy).
    fn quantified(self, q: &str, zero: bool) -> Info {
        let q = q.trim_end_matches('?');
        let q = if q.is_empty() { "?" } else { q };
        if q == "{1}" || q == "{1,1}" {
            return self;
        }
        let with_empty = |v: Option<Vec<String>>| {
            v.map(|mut e| {
                e.push(String::new());
                e
            })
        };
        if q == "?" || q == "{0,1}" {
            let (exact, pre) = (with_empty(self.exact), with_empty(self.pre));
            return Info { exact, req: None, pre, nullable: true, lead: self.lead };
        }
        if zero {
            return Info { exact: None, req: None, pre: Some(vec![String::new()]), nullable: true, lead: self.lead };
        }
        Info { exact: None, req: self.best(), pre: self.pre.clone(), nullable: self.nullable, lead: self.lead }
    }
}

fn inv<T>(m: impl Into<String>) -> Result<T, KeyRegex> {
    Err(KeyRegex::Invalid(m.into()))
}
fn unsup<T>(m: impl Into<String>) -> Result<T, KeyRegex> {
    Err(KeyRegex::Unsupported(m.into()))
}

/// What the previous token was (for quantifier validity and literal runs).
#[derive(Clone, Copy, PartialEq)]
enum Prev {
    Nothing,
    Literal,
    Atom,
    Quantified,
}

fn hex_val(cs: &[char]) -> Option<u32> {
    let s: String = cs.iter().collect();
    u32::from_str_radix(&s, 16).ok()
}

impl Tx<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.c.get(self.i + k).copied()
    }

    fn end_run(&mut self) {
        if !self.cur.is_empty() {
            self.runs.push(std::mem::take(&mut self.cur));
        }
    }

    /// Adds a piece to the literal analysis of the current group.
    fn piece(&mut self, info: Info) {
        if let Some(f) = self.frames.last_mut() {
            f.seq.push(info);
        }
    }

    fn emit_literal(&mut self, ch: char, depth: usize) {
        let info = if ch == '\n' || ch == '\x01' {
            // Scanned text is split at these: a literal holding one is never seen whole.
            Info::any()
        } else if !self.icase {
            Info::literal(ch.to_string())
        } else if ch.is_ascii() && !(self.unicode && matches!(ch, 's' | 'S' | 'k' | 'K')) {
            // (`iu` folds ſ and the Kelvin sign into s and k.)
            Info::literal(ch.to_ascii_lowercase().to_string())
        } else {
            Info::any()
        };
        self.piece(info);
        if ch == '\n' || ch == '\x01' {
            self.cross = true;
        }
        if self.icase && !ch.is_ascii() {
            let v = case_variants(ch);
            if v.len() > 1 {
                self.out.push('[');
                for x in v {
                    self.out.push_str(&lit(x));
                }
                self.out.push(']');
            } else {
                self.out.push_str(&lit(ch));
            }
        } else {
            self.out.push_str(&lit(ch));
        }
        if depth == 0 && ch != '\n' && ch != '\x01' {
            self.cur.push(ch);
        } else if depth == 0 {
            self.end_run();
        }
    }

    /// Reads an escape after `\` (outside or inside a class). Returns a literal code
    /// point, or a class text (`Err(text)`) for \d, \w, \s, …
    fn escape(&mut self, in_class: bool) -> Result<Result<char, String>, KeyRegex> {
        let Some(e) = self.peek(0) else {
            return inv("\\ at end of pattern");
        };
        self.i += 1;
        Ok(match e {
            'd' | 'w' => Err(format!("\\{e}")),
            'D' | 'W' => {
                self.cross = true;
                Err(format!("\\{e}"))
            }
            'b' if in_class => Ok('\x08'),
            'b' | 'B' => Err(format!("\\{e}")),
            's' => {
                self.cross = true;
                Err(if in_class { WS_RANGES.to_string() } else { format!("[{WS_RANGES}]") })
            }
            'S' => {
                self.cross = true;
                if in_class {
                    return unsup("\\S inside a character class");
                }
                Err(format!("[^{WS_RANGES}]"))
            }
            'n' => Ok('\n'),
            'r' => Ok('\r'),
            't' => Ok('\t'),
            'f' => Ok('\x0C'),
            'v' => Ok('\x0B'),
            '0' if !self.peek(0).is_some_and(|d| d.is_ascii_digit()) => Ok('\0'),
            '1'..='9' if !in_class => return unsup("backreferences are not supported"),
            '0'..='9' => return unsup("octal escapes are not supported"),
            'k' if self.peek(0) == Some('<') => return unsup("named backreferences are not supported"),
            'p' | 'P' if self.unicode => return unsup("Unicode property escapes are not supported"),
            'x' => {
                let h: Vec<char> = self.c[self.i..].iter().take(2).copied().collect();
                if h.len() == 2 && h.iter().all(|c| c.is_ascii_hexdigit()) {
                    self.i += 2;
                    Ok(char::from_u32(hex_val(&h).unwrap_or(0)).unwrap_or('\u{FFFD}'))
                } else {
                    Ok('x')
                }
            }
            'u' => {
                if self.peek(0) == Some('{') && self.unicode {
                    let close = self.c[self.i..].iter().position(|&c| c == '}');
                    let Some(close) = close else {
                        return inv("bad \\u{…} escape");
                    };
                    let h: Vec<char> = self.c[self.i + 1..self.i + close].to_vec();
                    let v = hex_val(&h).and_then(char::from_u32);
                    let Some(v) = v else {
                        return inv("bad \\u{…} escape");
                    };
                    self.i += close + 1;
                    Ok(v)
                } else {
                    let h: Vec<char> = self.c[self.i..].iter().take(4).copied().collect();
                    if h.len() == 4 && h.iter().all(|c| c.is_ascii_hexdigit()) {
                        self.i += 4;
                        let hi = hex_val(&h).unwrap_or(0);
                        if (0xD800..0xDC00).contains(&hi) && self.peek(0) == Some('\\') && self.peek(1) == Some('u') {
                            let l: Vec<char> = self.c[self.i + 2..].iter().take(4).copied().collect();
                            if l.len() == 4 && l.iter().all(|c| c.is_ascii_hexdigit()) {
                                let lo = hex_val(&l).unwrap_or(0);
                                if (0xDC00..0xE000).contains(&lo) {
                                    self.i += 6;
                                    let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                    return Ok(Ok(char::from_u32(cp).unwrap_or('\u{FFFD}')));
                                }
                            }
                        }
                        match char::from_u32(hi) {
                            Some(c) => Ok(c),
                            None => return unsup("lone surrogate escapes are not supported"),
                        }
                    } else if self.unicode {
                        return inv("bad \\u escape");
                    } else {
                        Ok('u')
                    }
                }
            }
            'c' => match self.peek(0) {
                Some(l) if l.is_ascii_alphabetic() => {
                    self.i += 1;
                    Ok(char::from_u32(l as u32 % 32).unwrap_or('\0'))
                }
                _ => {
                    self.i -= 1; // "\c" is a literal backslash followed by c
                    Ok('\\')
                }
            },
            other => Ok(other),
        })
    }

    fn class(&mut self) -> Result<(), KeyRegex> {
        // self.i is just after '['.
        let negated = self.peek(0) == Some('^');
        if negated {
            self.i += 1;
            self.cross = true;
        }
        if self.peek(0) == Some(']') {
            self.i += 1;
            self.out.push_str(if negated { "(?s:.)" } else { "(?:\\b\\B)" });
            return Ok(());
        }
        let mut body = String::new();
        let mut closed = false;
        // An item is a code point or a class escape.
        while let Some(ch) = self.peek(0) {
            if ch == ']' {
                self.i += 1;
                closed = true;
                break;
            }
            self.i += 1;
            let item: Result<char, String> = if ch == '\\' { self.escape(true)? } else { Ok(ch) };
            // Range?
            if let Ok(a) = item {
                if self.peek(0) == Some('-') && self.peek(1).is_some_and(|x| x != ']') {
                    self.i += 1;
                    let nb = self.peek(0).unwrap_or(']');
                    self.i += 1;
                    let end: Result<char, String> = if nb == '\\' { self.escape(true)? } else { Ok(nb) };
                    match end {
                        Ok(b) => {
                            if a > b {
                                return inv("range out of order in character class");
                            }
                            self.push_range(&mut body, a, b)?;
                        }
                        Err(cls) => {
                            // JS (non-u): "a-\d" is a, '-', \d.
                            self.push_char(&mut body, a);
                            self.push_char(&mut body, '-');
                            body.push_str(&cls);
                        }
                    }
                    continue;
                }
                self.push_char(&mut body, a);
            } else if let Err(cls) = item {
                body.push_str(&cls);
            }
        }
        if !closed {
            return inv("missing ] in character class");
        }
        self.out.push('[');
        if negated {
            self.out.push('^');
        }
        self.out.push_str(&body);
        self.out.push(']');
        Ok(())
    }

    fn push_char(&mut self, body: &mut String, c: char) {
        if c == '\n' || c == '\x01' {
            self.cross = true;
        }
        let vs = if self.icase && !c.is_ascii() { case_variants(c) } else { vec![c] };
        for x in vs {
            if x.is_ascii_alphanumeric() {
                body.push(x);
            } else {
                body.push_str(&format!("\\x{{{:X}}}", x as u32));
            }
        }
    }

    fn push_range(&mut self, body: &mut String, a: char, b: char) -> Result<(), KeyRegex> {
        if (a..=b).contains(&'\n') || (a..=b).contains(&'\x01') {
            self.cross = true;
        }
        body.push_str(&format!("\\x{{{:X}}}-\\x{{{:X}}}", a as u32, b as u32));
        if self.icase && !(a.is_ascii() && b.is_ascii()) {
            let n = b as u32 - a as u32;
            if n > 1024 {
                return unsup("case-insensitive range over 1024 non-ASCII characters");
            }
            for cp in a as u32..=b as u32 {
                if let Some(ch) = char::from_u32(cp) {
                    for v in case_variants(ch).into_iter().skip(1) {
                        body.push_str(&format!("\\x{{{:X}}}", v as u32));
                    }
                }
            }
        }
        Ok(())
    }

    fn quantifier(&mut self) -> Option<(String, bool)> {
        // Returns (text, allows_zero) if a quantifier starts at self.i.
        let c = self.peek(0)?;
        let (mut q, zero) = match c {
            '*' => {
                self.i += 1;
                ("*".to_string(), true)
            }
            '+' => {
                self.i += 1;
                ("+".to_string(), false)
            }
            '?' => {
                self.i += 1;
                ("?".to_string(), true)
            }
            '{' => {
                let rest: String = self.c[self.i..].iter().take(24).collect();
                let close = rest.find('}')?;
                let inner = &rest[1..close];
                let (lo, hi) = match inner.split_once(',') {
                    Some((l, h)) => {
                        (l.parse::<u32>().ok()?, if h.is_empty() { None } else { Some(h.parse::<u32>().ok()?) })
                    }
                    None => {
                        let n = inner.parse::<u32>().ok()?;
                        (n, Some(n))
                    }
                };
                self.i += rest[..=close].chars().count();
                let hi_s = match hi {
                    Some(h) => h.to_string(),
                    None => String::new(),
                };
                let txt = if inner.contains(',') { format!("{{{lo},{hi_s}}}") } else { format!("{{{lo}}}") };
                // Encode order problems for the caller through an impossible text.
                if hi.is_some_and(|h| h < lo) {
                    return Some(("!order".to_string(), false));
                }
                if lo > 1000 || hi.is_some_and(|h| h > 1000) {
                    return Some(("!big".to_string(), false));
                }
                (txt, lo == 0)
            }
            _ => return None,
        };
        if self.peek(0) == Some('?') {
            self.i += 1;
            q.push('?');
        }
        Some((q, zero))
    }

    /// Ends the innermost group of the literal analysis: its alternatives combined.
    fn close_frame(&mut self) -> Info {
        let Some(mut f) = self.frames.pop() else {
            return Info::any();
        };
        f.branches.push(Info::concat(f.seq));
        Info::alt(f.branches)
    }

    fn run(&mut self) -> Result<(), KeyRegex> {
        let mut depth = 0usize;
        let mut prev = Prev::Nothing;
        while let Some(ch) = self.peek(0) {
            // Quantifiers first.
            if matches!(ch, '*' | '+' | '?' | '{') {
                let save = self.i;
                if let Some((q, zero)) = self.quantifier() {
                    if q == "!order" {
                        return inv("numbers out of order in {} quantifier");
                    }
                    if q == "!big" {
                        return unsup("repetition counts above 1000 are not supported");
                    }
                    match prev {
                        Prev::Nothing | Prev::Quantified => return inv("nothing to repeat"),
                        Prev::Literal if depth == 0 => {
                            if zero {
                                self.cur.pop();
                            }
                            self.end_run();
                        }
                        _ => {}
                    }
                    if let Some(last) = self.frames.last_mut().and_then(|f| f.seq.pop()) {
                        let info = last.quantified(&q, zero);
                        self.piece(info);
                    }
                    self.out.push_str(&q);
                    prev = Prev::Quantified;
                    continue;
                }
                self.i = save;
                if ch == '{' {
                    self.i += 1;
                    self.emit_literal('{', depth);
                    prev = Prev::Literal;
                    continue;
                }
            }
            self.i += 1;
            match ch {
                '\\' => match self.escape(false)? {
                    Ok(c) => {
                        self.emit_literal(c, depth);
                        prev = Prev::Literal;
                    }
                    Err(cls) => {
                        self.end_run();
                        let assertion = cls == "\\b" || cls == "\\B";
                        self.piece(if assertion { Info::empty() } else { Info::any() });
                        prev = if assertion { Prev::Nothing } else { Prev::Atom };
                        self.out.push_str(&cls);
                    }
                },
                '[' => {
                    self.end_run();
                    self.class()?;
                    self.piece(Info::any());
                    prev = Prev::Atom;
                }
                '(' => {
                    self.end_run();
                    if self.peek(0) == Some('?') {
                        match (self.peek(1), self.peek(2)) {
                            (Some(':'), _) => {
                                self.i += 2;
                                self.out.push_str("(?:");
                            }
                            (Some('='), _) | (Some('!'), _) | (Some('<'), Some('=')) | (Some('<'), Some('!')) => {
                                return unsup("lookahead/lookbehind assertions are not supported");
                            }
                            (Some('<'), _) => {
                                let close = self.c[self.i..].iter().position(|&c| c == '>');
                                let Some(close) = close else {
                                    return inv("bad group name");
                                };
                                let name: String = self.c[self.i + 2..self.i + close].iter().collect();
                                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                                    return unsup("group names other than ASCII letters, digits and _");
                                }
                                self.i += close + 1;
                                self.out.push_str(&format!("(?P<{name}>"));
                            }
                            _ => return inv("invalid group"),
                        }
                    } else {
                        self.out.push('(');
                    }
                    depth += 1;
                    self.frames.push(Frame::default());
                    prev = Prev::Nothing;
                }
                ')' => {
                    if depth == 0 {
                        return inv("unmatched )");
                    }
                    depth -= 1;
                    let info = self.close_frame();
                    self.piece(info);
                    self.out.push(')');
                    prev = Prev::Atom;
                }
                '|' => {
                    if depth == 0 {
                        self.top_alt = true;
                    }
                    self.end_run();
                    if let Some(f) = self.frames.last_mut() {
                        let seq = std::mem::take(&mut f.seq);
                        f.branches.push(Info::concat(seq));
                    }
                    self.out.push('|');
                    prev = Prev::Nothing;
                }
                '.' => {
                    self.cross = true;
                    self.end_run();
                    self.piece(Info::any());
                    self.out.push_str(if self.dotall { "(?s:.)" } else { "[^\\n\\r\\x{2028}\\x{2029}]" });
                    prev = Prev::Atom;
                }
                '^' | '$' => {
                    self.cross = true;
                    self.end_run();
                    self.piece(Info::empty());
                    self.out.push(ch);
                    prev = Prev::Nothing;
                }
                other => {
                    self.emit_literal(other, depth);
                    prev = Prev::Literal;
                }
            }
        }
        if depth != 0 {
            return inv("unterminated group");
        }
        self.end_run();
        Ok(())
    }
}

/// Translates a JS pattern body with its flags.
pub fn translate(pat: &str, flags: &str) -> KeyRegex {
    let mut tx = Tx {
        c: pat.chars().collect(),
        i: 0,
        out: String::new(),
        icase: flags.contains('i'),
        dotall: flags.contains('s'),
        unicode: flags.contains('u'),
        runs: Vec::new(),
        cur: String::new(),
        top_alt: false,
        cross: flags.contains('y'),
        frames: vec![Frame::default()],
        _p: std::marker::PhantomData,
    };
    if let Err(e) = tx.run() {
        return e;
    }
    // The literal analysis of the whole pattern, and of the pattern without a leading `\b`.
    let mut top = tx.frames.pop().unwrap_or_default();
    let seq = std::mem::take(&mut top.seq);
    let lead_b = top.branches.is_empty() && tx.out.starts_with("\\b") && !seq.is_empty();
    let stripped = lead_b.then(|| Info::concat(seq[1..].to_vec()));
    top.branches.push(Info::concat(seq));
    let full = Info::alt(top.branches);
    let long = |set: &Vec<String>| !set.is_empty() && set.iter().all(|s| s.chars().count() >= 2);
    let starts = |i: &Info| i.pre.clone().filter(|p| !i.lead && long(p)).map(minimize_prefixes);
    let mut literals = full.best().filter(long).map(|set| (minimize(set), tx.icase));
    let mut prefix = String::new();
    if tx.icase {
        prefix.push_str("(?i)");
    }
    if flags.contains('m') {
        prefix.push_str("(?m)");
    }
    let sticky = flags.contains('y');
    let body = if sticky { format!("\\A(?:{})", tx.out) } else { tx.out.clone() };
    let pattern = format!("{prefix}{body}");
    let usable = |r: &String| {
        r.chars().count() >= 2 && (!tx.icase || (r.is_ascii() && !(tx.unicode && r.contains(['s', 'S', 'k', 'K']))))
    };
    // The longest usable run (the first of equals).
    let best = if tx.top_alt {
        None
    } else {
        tx.runs.iter().enumerate().filter(|(_, r)| usable(r)).fold(
            None,
            |b: Option<(usize, &String)>, (i, r)| match b {
                Some((_, br)) if br.len() >= r.len() => b,
                _ => Some((i, r)),
            },
        )
    };
    let literal = best.map(|(_, r)| if tx.icase { (r.to_ascii_lowercase(), true) } else { (r.clone(), false) });
    // When every match starts with one of a set of literals (after an optional `\b`, and
    // with no assertion tested at that start): the anchored form, run from each occurrence.
    let anchored = match (stripped.as_ref().and_then(starts), starts(&full)) {
        _ if sticky => None,
        (Some(set), _) => Some((set, format!("{prefix}\\A(?:{})", &tx.out[2..]), true)),
        (None, Some(set)) => Some((set, format!("{prefix}\\A(?:{})", tx.out), false)),
        (None, None) => None,
    };
    let anchored = anchored.map(|(set, pattern, lead_b)| {
        literals = Some((set, tx.icase));
        (pattern, lead_b)
    });
    KeyRegex::Ok(Translated { pattern, literal, literals, local: !tx.cross, anchored })
}

/// Compiles a translated pattern with limits (bounded memory; matching is linear).
pub fn compile(t: &Translated) -> Result<regex_lite::Regex, String> {
    compile_pattern(&t.pattern)
}

/// [`compile`] for any translated pattern text (e.g. [`Translated::anchored`]).
pub fn compile_pattern(pattern: &str) -> Result<regex_lite::Regex, String> {
    regex_lite::RegexBuilder::new(pattern).size_limit(1 << 20).nest_limit(64).build().map_err(|e| e.to_string())
}

/// Is `b` an ASCII word character (JavaScript's `\w`)?
pub(crate) fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A regex whose every match starts with one of its literals, checked from each
/// occurrence of those instead of by a search over the whole text.
#[derive(Debug)]
pub struct AnchoredRegex {
    re: regex_lite::Regex,
    literals: Vec<String>,
    icase: bool,
    lead_b: bool,
}

impl AnchoredRegex {
    /// The anchored form of `t`, when it has one.
    pub fn new(t: &Translated) -> Option<AnchoredRegex> {
        let (pattern, lead_b) = t.anchored.as_ref()?;
        let (literals, icase) = t.literals.clone()?;
        Some(AnchoredRegex { re: compile_pattern(pattern).ok()?, literals, icase, lead_b: *lead_b })
    }

    /// Is the literal compared case-insensitively?
    pub fn icase(&self) -> bool {
        self.icase
    }

    /// Is there a match starting at byte `p`, where a literal occurs?
    pub fn matches_at(&self, hay: &str, p: usize) -> bool {
        let h = hay.as_bytes();
        p < h.len()
            && hay.is_char_boundary(p)
            && (!self.lead_b || (p > 0 && is_word(h[p - 1])) != is_word(h[p]))
            && self.re.is_match(&hay[p..])
    }

    /// Same answer as the full regex's `is_match(hay)`. `lower` is `hay` lower-cased, used
    /// to find case-insensitive literals when `hay` is ASCII (same byte offsets).
    pub fn is_match(&self, hay: &str, lower: Option<&str>) -> bool {
        let at = |p: usize| self.matches_at(hay, p);
        let search = match (self.icase, lower) {
            (false, _) => hay,
            (true, Some(l)) if hay.is_ascii() && l.len() == hay.len() => l,
            (true, _) => {
                let h = hay.as_bytes();
                return self.literals.iter().any(|lit| {
                    let n = lit.as_bytes();
                    h.len() >= n.len()
                        && (0..=h.len() - n.len()).any(|p| h[p..p + n.len()].eq_ignore_ascii_case(n) && at(p))
                });
            }
        };
        self.literals.iter().any(|lit| {
            let step = lit.chars().next().map_or(1, char::len_utf8);
            let mut from = 0;
            while let Some(i) = search[from..].find(lit.as_str()) {
                if at(from + i) {
                    return true;
                }
                from += i + step;
            }
            false
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(key: &str) -> (regex_lite::Regex, Option<(String, bool)>) {
        match parse_key(key) {
            KeyRegex::Ok(t) => (compile(&t).unwrap_or_else(|e| panic!("{key}: {e} ({})", t.pattern)), t.literal),
            other => panic!("{key}: {other:?}"),
        }
    }

    #[test]
    fn splits_like_sillytavern() {
        assert_eq!(split_key("/abc/i"), Some(("abc", "i")));
        assert_eq!(split_key("/a\\/b/"), Some(("a\\/b", "")));
        assert_eq!(split_key("/a/b/"), None, "unescaped slash");
        assert_eq!(split_key("/abc/x"), None, "unknown flag");
        assert_eq!(split_key("abc"), None);
        assert_eq!(split_key("//"), None);
        assert!(matches!(parse_key("/a/gg"), KeyRegex::Invalid(_)));
    }

    #[test]
    fn translates_common_syntax() {
        let (re, lit) = ok("/tund\\w*s?/i");
        assert!(re.is_match("TUNDRAS"));
        assert_eq!(lit, Some(("tund".into(), true)));
        let (re, _) = ok("/^\\x01Aldric:/m");
        assert!(re.is_match("\x01Wren: x\n\x01Aldric: y"));
        let (re, _) = ok("/\\n\\x01Wren/");
        assert!(re.is_match("a\n\x01Wren"));
        let (re, _) = ok("/a.c/");
        assert!(re.is_match("abc") && !re.is_match("a\rc"));
        let (re, _) = ok("/a.c/s");
        assert!(re.is_match("a\nc"));
        let (re, _) = ok("/x{2,3}y{/");
        assert!(re.is_match("xxy{"));
        let (re, _) = ok("/(?<n>ab)+c/");
        assert!(re.is_match("ababc"));
        let (re, _) = ok("/[^]x[]?/");
        assert!(re.is_match("\nx"));
        let (re, _) = ok("/a\\sb/");
        assert!(re.is_match("a\u{a0}b"), "JS \\s includes NBSP");
        let (re, _) = ok("/\\uD83D\\uDE00/");
        assert!(re.is_match("😀"));
        let (re, _) = ok("/[a-c\\d-]+$/");
        assert!(re.is_match("x-ab1"));
        // Word boundaries are assertions (ASCII word characters, as in JavaScript).
        let (re, _) = ok("/\\bdrag(on|ons)?\\b/i");
        assert!(re.is_match("the Dragons fly") && re.is_match("drag"));
        assert!(!re.is_match("bdrag") && !re.is_match("dragonfly") && !re.is_match("a_drag"));
        assert!(re.is_match("éDRAG"), "é is not a word character");
        let (re, _) = ok("/\\Bar\\B/");
        assert!(re.is_match("bars") && !re.is_match("ar") && !re.is_match("a bar"));
        let (re, _) = ok("/[\\b]/");
        assert!(re.is_match("\x08") && !re.is_match("b"));
    }

    #[test]
    fn non_ascii_case_insensitivity() {
        let (re, lit) = ok("/дракон/i");
        assert!(re.is_match("ДРАКОН летит"));
        assert_eq!(lit, None, "non-ASCII literals are not used case-insensitively");
        let (re, _) = ok("/[а-я]+Ж/i");
        assert!(re.is_match("ПРИВЕТж"));
    }

    #[test]
    fn rejects_with_reasons() {
        assert!(matches!(parse_key("/(unclosed/"), KeyRegex::Invalid(_)));
        assert!(matches!(parse_key("/a**/"), KeyRegex::Invalid(_)));
        assert!(matches!(parse_key("/[z-a]/"), KeyRegex::Invalid(_)));
        assert!(matches!(parse_key("/a(?=b)/"), KeyRegex::Unsupported(_)));
        assert!(matches!(parse_key("/(a)\\1/"), KeyRegex::Unsupported(_)));
        assert!(matches!(parse_key("/a{2000}/"), KeyRegex::Unsupported(_)));
    }

    #[test]
    fn literal_extraction() {
        assert_eq!(ok("/foo|bar/").1, None);
        // Regression: `\b` is an assertion, not a literal "b" (it was, and such keys never matched).
        assert_eq!(ok("/\\bdrag(on|ons)?\\b/i").1, Some(("drag".into(), true)));
        assert_eq!(ok("/\\Bx\\B/").1, None);
    }

    fn set(key: &str) -> Option<(Vec<String>, bool)> {
        match parse_key(key) {
            KeyRegex::Ok(t) => t.literals,
            other => panic!("{key}: {other:?}"),
        }
    }

    #[test]
    fn literal_sets() {
        let v = |xs: &[&str], ci: bool| Some((xs.iter().map(|s| s.to_string()).collect::<Vec<_>>(), ci));
        // The common shape of real cards: words with optional endings.
        assert_eq!(set("/\\b(?:sword|blade)(?:s|es)?\\b/i"), v(&["blade", "sword"], true));
        assert_eq!(set("/\\b(Sword|BLADE)s?\\b/"), v(&["BLADE", "Sword"], false));
        assert_eq!(set("/foo|bar/"), v(&["bar", "foo"], false));
        assert_eq!(set("/(?:dark|light) ?elf/i"), v(&["darkelf", "dark elf", "lightelf", "light elf"], true));
        assert_eq!(set("/\\w+ ?elves/"), v(&["elves"], false));
        assert_eq!(set("/\\d+ (gold|silver) coins?/"), v(&[" gold coin", " silver coin"], false));
        assert_eq!(set("/(ab|cd)(ef|gh)/"), v(&["abef", "abgh", "cdef", "cdgh"], false));
        assert_eq!(set("/x(?:yz)+w/"), v(&["xyz"], false));
        assert_eq!(set("/\\w(?:yz)+w/"), v(&["yz"], false));
        assert_eq!(set("/(dragon|wyrm)+/i"), v(&["wyrm", "dragon"], true));
        // Case-insensitive non-ASCII letters (and s/k under `iu`) are classes, not literals.
        assert_eq!(set("/ж(ab)/i"), v(&["ab"], true));
        assert_eq!(set("/sun|moon/iu"), v(&["un", "moon"], true));
        assert_eq!(set("/дракон/"), v(&["дракон"], false));
        // Nothing required: optional, empty alternative, single characters, line breaks.
        assert_eq!(set("/(foo)?/"), None);
        assert_eq!(set("/foo|/"), None);
        assert_eq!(set("/a|bc/"), None);
        assert_eq!(set("/[a-z]+/"), None);
        assert_eq!(set("/(?:foo)*bar/"), v(&["bar"], false));
        assert_eq!(set("/a\\nb/"), None);
    }

    fn anchored(key: &str) -> Option<AnchoredRegex> {
        match parse_key(key) {
            KeyRegex::Ok(t) => AnchoredRegex::new(&t),
            other => panic!("{key}: {other:?}"),
        }
    }

    #[test]
    fn anchored_at_the_literal_agrees_with_search() {
        for k in ["/x|bc/", "/\\d+bc/", "/bc/y", "/b?/", "/(?:\\bab|cd)e/", "/\\bab|cd/"] {
            assert!(anchored(k).is_none(), "{k}");
        }
        let hays = [
            "",
            "drag",
            "xdrag",
            "a drag",
            "Dragons!",
            "_drag",
            "dragon-7",
            "dr ag",
            "drag-12 x",
            "éDRAGON",
            "dragdrag",
        ];
        for k in [
            "/\\bdrag(on|ons)?\\b/i",
            "/drag-?\\d+/",
            "/drag\\b/",
            "/\\bdrag/",
            "/dr+ag/i",
            "/drago?n?s?/",
            "/\\b(?:drag|x ?dr)(?:s|ons)?\\b/i",
            "/a?drag/",
            "/(?:dr)+ag\\B/",
        ] {
            let a = anchored(k).unwrap_or_else(|| panic!("{k} has no anchored form"));
            let (re, _) = ok(k);
            for h in hays {
                let low = h.to_lowercase();
                assert_eq!(a.is_match(h, None), re.is_match(h), "{k} on {h:?}");
                assert_eq!(a.is_match(h, Some(&low)), re.is_match(h), "{k} on {h:?} (lower)");
            }
        }
        assert_eq!(ok("/hello w?orld/").1, Some(("hello ".into(), false)));
        assert_eq!(ok("/ab w?orlds/").1, Some(("orlds".into(), false)));
        assert_eq!(ok("/(a|b) gate/").1, Some((" gate".into(), false)));
        assert_eq!(ok("/x\\d+/").1, None);
    }

    #[test]
    fn segment_locality() {
        let local = |k: &str| match parse_key(k) {
            KeyRegex::Ok(t) => t.local,
            other => panic!("{other:?}"),
        };
        assert!(local("/\\bdrag(on|ons)?\\b/i"));
        assert!(local("/x\\d+[a-z]/"));
        assert!(!local("/a.b/"));
        assert!(!local("/a\\sb/"));
        assert!(!local("/^a/m"));
        assert!(!local("/a$/"));
        assert!(!local("/[^a]/"));
        assert!(!local("/\\n\\x01W/"));
        assert!(!local("/[\\x00-\\x0f]/"));
    }

    #[test]
    fn hostile_patterns_stay_linear() {
        let (re, _) = ok("/(a+)+$/");
        let hay = "a".repeat(50_000) + "!";
        let t = std::time::Instant::now();
        assert!(!re.is_match(&hay));
        assert!(t.elapsed().as_secs() < 5);
    }
}
