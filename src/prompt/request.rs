//! Reading engine requests strictly, the lorebook scan request, and the cache of compiled
//! lorebooks.
//!
//! Requests come from JS as JSON-shaped values. [`read_checked`] turns one into a typed request
//! and names the field path of any error (`settings.dept`), with a "did you mean" hint for
//! misspelled names: every request struct denies unknown fields. Card data and lorebook entries
//! keep their extension fields (they are read by their own lenient readers).
//!
//! [`BookCache`] keeps the last few compiled lorebooks keyed by their JSON text (and the compile
//! options), so a repeated build with the same books skips parsing and compiling.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{check_known_keys, did_you_mean, Error};
use crate::lorebook::Lorebook;
use crate::macros::{ChatMessage, MacroContext};
use crate::prompt::TokenCounter;
use crate::worldinfo::{
    self, BookRef, CompileOptions, CompiledLorebook, GlobalScanData, ScanCharacter, ScanInput, TimedState,
    WorldInfoResult, WorldInfoSettings,
};

/// Fields whose values are free-form JSON (variables): `null` inside them is a value.
const FREE_FORM: &[&str] = &["localVariables", "globalVariables", "local_variables", "global_variables", "extensions"];

/// Drops object members whose value is `null` (JS callers write `field: undefined` or `null`
/// for "not set"), except inside free-form values.
pub fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, x| !x.is_null());
            for (k, x) in map.iter_mut() {
                if !FREE_FORM.contains(&k.as_str()) {
                    strip_nulls(x);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Serde's "unknown field `x`, expected one of `a`, `b`" → (`x`, [`a`, `b`]).
fn parse_unknown_field(msg: &str) -> Option<(String, Vec<String>)> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let known = rest.split('`').skip(1).step_by(2).map(str::to_string).collect();
    Some((field.to_string(), known))
}

/// Where in `v` the object holding the unknown key `field` is: among the objects that have it,
/// the one whose other keys best fit `known` (serde does not say which struct complained).
fn locate(v: &Value, field: &str, known: &[String]) -> Option<String> {
    fn walk(v: &Value, path: &str, field: &str, known: &[String], best: &mut Option<(usize, String)>) {
        match v {
            Value::Object(map) => {
                if map.contains_key(field) {
                    let fit = map.keys().filter(|k| known.iter().any(|x| x == *k)).count() + 1;
                    if best.as_ref().is_none_or(|(f, _)| fit > *f) {
                        let p = if path.is_empty() { field.to_string() } else { format!("{path}.{field}") };
                        *best = Some((fit, p));
                    }
                }
                for (k, x) in map {
                    if !FREE_FORM.contains(&k.as_str()) {
                        walk(x, &if path.is_empty() { k.clone() } else { format!("{path}.{k}") }, field, known, best);
                    }
                }
            }
            Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    walk(x, &format!("{path}[{i}]"), field, known, best);
                }
            }
            _ => {}
        }
    }
    let mut best = None;
    walk(v, "", field, known, &mut best);
    best.map(|b| b.1)
}

/// Reads `value` as a `T`; an error is `invalid_argument` naming `what`, and for an unknown
/// field its path, e.g. "unknown field `settings.dept` in buildPrompt request (did you mean
/// `depth`?)".
pub fn read_checked<T: DeserializeOwned>(mut value: Value, what: &str) -> Result<T, Error> {
    strip_nulls(&mut value);
    // Owned-value parsing shares its code with the rest of the crate (`serde_json::from_value`);
    // the copy is kept for locating an error (requests are small: books come apart).
    match serde_json::from_value::<T>(value.clone()) {
        Ok(t) => Ok(t),
        Err(e) => Err(describe(&value, &e.to_string(), what)),
    }
}

fn describe(value: &Value, msg: &str, what: &str) -> Error {
    if let Some((field, known)) = parse_unknown_field(msg) {
        let full = locate(value, &field, &known).unwrap_or_else(|| field.clone());
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        let hint = match did_you_mean(&field, &known) {
            Some(k) => format!(" (did you mean `{k}`?)"),
            None if known.is_empty() => String::new(),
            None => format!(" (known fields: {})", known.join(", ")),
        };
        Error::invalid_argument(format!("unknown field `{full}` in {what}{hint}"))
    } else {
        Error::invalid_argument(format!("{what}: {msg}"))
    }
}

/// One lorebook of a request, as given: `{ name, source, book }` (the book is read by the
/// lenient lorebook reader: any World Info / character_book JSON, extension fields kept).
pub const LOREBOOK_FIELDS: &[&str] = &["name", "source", "book", "cacheKey", "matcher"];

/// Checks the members of one `lorebooks[i]` object.
pub fn check_lorebook_fields<'a>(keys: impl IntoIterator<Item = &'a str>, at: &str, what: &str) -> Result<(), Error> {
    check_known_keys(keys, LOREBOOK_FIELDS, at, Some(what))
}

/// A few compiled lorebooks, most recently used first, keyed by their JSON text and the compile
/// options. A hit compares the whole text (no false hits); the text is hashed first so that a
/// miss costs one pass. A book may also carry a caller's key (a record id and revision, say):
/// [`BookCache::get_keyed`] then finds it without its text, which the caller need not even
/// produce (for a big book, producing the text is most of a call's cost).
pub struct BookCache {
    cap: usize,
    items: Vec<CacheItem>,
    hits: u64,
    misses: u64,
}

struct CacheItem {
    hash: u64,
    opts: CompileOptions,
    json: Box<str>,
    key: Option<Box<str>>,
    book: Arc<CompiledLorebook>,
}

/// 64-bit FNV-1a-style hash over 8-byte words (fast, not cryptographic: hits are verified).
fn hash_text(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ w).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
    }
    for &x in chunks.remainder() {
        h = (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl BookCache {
    /// A cache of at most `cap` compiled books.
    pub const fn new(cap: usize) -> BookCache {
        BookCache { cap, items: Vec::new(), hits: 0, misses: 0 }
    }

    /// The compiled book for `json` (a lorebook's JSON text), compiled on a miss. `at` names the
    /// book in errors (`lorebooks[0].book`).
    /// `key`, when given, is remembered with the book for [`BookCache::get_keyed`].
    pub fn get_or_compile(
        &mut self,
        json: &str,
        opts: CompileOptions,
        key: Option<&str>,
        at: &str,
    ) -> Result<Arc<CompiledLorebook>, Error> {
        let hash = hash_text(json);
        if let Some(i) = self.items.iter().position(|it| it.hash == hash && it.opts == opts && *it.json == *json) {
            let it = self.hit(i);
            if key.is_some() {
                it.key = key.map(Into::into);
            }
            return Ok(it.book.clone());
        }
        self.misses += 1;
        let book: Lorebook = serde_json::from_str(json).map_err(|e| Error::invalid_argument(format!("{at}: {e}")))?;
        let book = Arc::new(CompiledLorebook::new(book, opts));
        self.items.insert(0, CacheItem { hash, opts, json: json.into(), key: key.map(Into::into), book: book.clone() });
        self.items.truncate(self.cap);
        Ok(book)
    }

    /// The book remembered under `key` (compiled with `opts`), if it is still cached. The key
    /// stands for the content: a caller whose book changed must use a new key.
    pub fn get_keyed(&mut self, key: &str, opts: CompileOptions) -> Option<Arc<CompiledLorebook>> {
        let i = self.items.iter().position(|it| it.opts == opts && it.key.as_deref() == Some(key))?;
        Some(self.hit(i).book.clone())
    }

    /// Counts a hit on item `i` and moves it to the front.
    fn hit(&mut self, i: usize) -> &mut CacheItem {
        self.hits += 1;
        let it = self.items.remove(i);
        self.items.insert(0, it);
        &mut self.items[0]
    }

    /// (hits, misses) since creation.
    pub fn counts(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }

    /// Forgets every book.
    pub fn clear(&mut self) {
        self.items.clear();
    }
}

/// The persona of a scan request: its name is `{{user}}` in keys and content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ScanPersona {
    /// Name (`{{user}}` unless `macros.user` is set).
    pub name: String,
    /// Description (`persona` match flag text unless `globalScanData.personaDescription` is set).
    pub description: String,
}

/// A lorebook scan request without its books (they are compiled and passed apart).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ScanRequest {
    /// The chat, oldest first.
    pub chat: Vec<ChatMessage>,
    /// World Info settings.
    pub settings: WorldInfoSettings,
    /// Max prompt tokens (8192 when absent).
    #[serde(alias = "max_context")]
    pub max_context: Option<usize>,
    /// Texts for the entries' `match*` flags.
    #[serde(alias = "global_scan_data")]
    pub global_scan_data: GlobalScanData,
    /// Generation type (`normal` when empty).
    pub trigger: String,
    /// Current character (filters; its name is `{{char}}` unless `macros.char` is set).
    pub character: ScanCharacter,
    /// The persona (its name is `{{user}}` unless `macros.user` is set).
    pub persona: ScanPersona,
    /// Macro context for keys and content.
    pub macros: Option<MacroContext>,
    /// Timed-effect state from the previous turn.
    pub state: TimedState,
    /// RNG seed.
    pub seed: u64,
    /// Count only: timed effects are not written.
    #[serde(alias = "dry_run")]
    pub dry_run: bool,
    /// Entries activated from outside (`"<book>.<uid>"`).
    #[serde(alias = "external_activations")]
    pub external_activations: Vec<String>,
    /// Extra texts scanned for every entry.
    pub injections: Vec<String>,
}

impl ScanRequest {
    /// The macro context the scan uses: `macros`, with `char`/`user` defaulting to the
    /// character's and persona's names; none when neither macros nor names are given.
    pub fn macro_context(&self) -> Option<MacroContext> {
        let (c, u) = (&self.character.name, &self.persona.name);
        if self.macros.is_none() && c.is_empty() && u.is_empty() {
            return None;
        }
        let mut m = self.macros.clone().unwrap_or_default();
        if m.char_name.is_empty() {
            m.char_name = c.clone();
        }
        if m.user.is_empty() {
            m.user = u.clone();
        }
        if m.persona.is_empty() {
            m.persona = self.persona.description.clone();
        }
        Some(m)
    }

    /// Scans `books` for this request.
    pub fn scan(&self, books: Vec<BookRef<'_>>, counter: &mut dyn TokenCounter) -> WorldInfoResult {
        let trigger = if self.trigger.is_empty() { "normal" } else { self.trigger.as_str() };
        let mut global = self.global_scan_data.clone();
        if global.persona_description.is_empty() {
            global.persona_description = self.persona.description.clone();
        }
        let macros = self.macro_context();
        let input = ScanInput {
            books,
            chat: &self.chat,
            settings: &self.settings,
            max_context: self.max_context.unwrap_or(8192),
            global: &global,
            trigger,
            character: &self.character,
            macros: macros.as_ref(),
            state: &self.state,
            seed: self.seed,
            dry_run: self.dry_run,
            external_activations: &self.external_activations,
            injections: &self.injections,
            greeting_index: None,
        };
        worldinfo::scan(&input, counter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::PromptRequest;
    use serde_json::json;

    fn err(v: Value) -> String {
        read_checked::<PromptRequest>(v, "buildPrompt request").unwrap_err().message().to_string()
    }

    #[test]
    fn unknown_fields_are_named_with_their_path_and_a_hint() {
        let m = err(json!({"character": {"name": "A"}, "lorebook": []}));
        assert_eq!(m, "unknown field `lorebook` in buildPrompt request (did you mean `lorebooks`?)");
        let m = err(json!({"character": {"name": "A"}, "settings": {"dept": 0}}));
        assert!(m.starts_with("unknown field `settings.dept` in buildPrompt request"), "{m}");
        let m = err(json!({"character": {"name": "A"}, "worldInfo": {"dept": 0}}));
        assert!(m.contains("`worldInfo.dept`") && m.contains("did you mean `depth`?"), "{m}");
        let m = err(json!({"character": {"name": "A"}, "settings": {"maxContext": "big"}}));
        assert!(m.contains("invalid type"), "{m}");
        // The same key elsewhere (card data passes through) does not mislead the path.
        let m = err(json!({"character": {"name": "A", "dept": 1}, "worldInfo": {"depth": 1, "dept": 0}}));
        assert!(m.starts_with("unknown field `worldInfo.dept`"), "{m}");
    }

    #[test]
    fn sillytavern_names_nulls_and_card_extras_are_accepted() {
        let r: PromptRequest = read_checked(
            json!({"character": {"spec": "chara_card_v2", "data": {"name": "A", "alternate_greetings": [], "extensions": {"x": 1}}},
                "settings": {"openai_max_context": 2000, "openai_max_tokens": 100, "names_behavior": 1, "wi_format": "[{0}]"},
                "worldInfo": {"world_info_depth": 3, "world_info_overflow_alert": true},
                "authorsNote": {"note_prompt": "N", "note_depth": 2}, "persona": null, "now": null}),
            "r",
        )
        .unwrap();
        assert_eq!((r.settings.max_context, r.settings.max_tokens, r.settings.names_behavior), (2000, 100, 1));
        assert_eq!((r.settings.wi_format.as_str(), r.world_info.depth, r.character.name.as_str()), ("[{0}]", 3, "A"));
        let an = r.authors_note.unwrap();
        assert_eq!((an.text.as_str(), an.depth), ("N", 2));
    }

    #[test]
    fn the_cache_compiles_once_and_never_confuses_books() {
        let mut c = BookCache::new(2);
        let a = r#"{"entries":{"0":{"uid":0,"key":["a"],"content":"A"}}}"#;
        let b = r#"{"entries":{"0":{"uid":0,"key":["b"],"content":"B"}}}"#;
        let o = CompileOptions::default();
        let x1 = c.get_or_compile(a, o, None, "a").unwrap();
        let x2 = c.get_or_compile(a, o, None, "a").unwrap();
        assert!(Arc::ptr_eq(&x1, &x2));
        let y = c.get_or_compile(b, o, None, "b").unwrap();
        assert!(!Arc::ptr_eq(&x1, &y));
        let z = c.get_or_compile(a, CompileOptions { case_sensitive: true, ..o }, None, "a").unwrap();
        assert!(!Arc::ptr_eq(&x1, &z));
        assert_eq!(c.counts(), (1, 3));
        assert!(c.get_or_compile("{", o, None, "lorebooks[0].book").unwrap_err().message().starts_with("lorebooks[0].book"));
    }

    #[test]
    fn a_keyed_book_is_found_by_its_key_alone() {
        let mut c = BookCache::new(2);
        let a = r#"{"entries":{"0":{"uid":0,"key":["a"],"content":"A"}}}"#;
        let b = r#"{"entries":{"0":{"uid":0,"key":["b"],"content":"B"}}}"#;
        let o = CompileOptions::default();
        assert!(c.get_keyed("char-1@1", o).is_none(), "nothing is cached yet");
        let x = c.get_or_compile(a, o, Some("char-1@1"), "a").unwrap();
        assert!(Arc::ptr_eq(&x, &c.get_keyed("char-1@1", o).unwrap()));
        assert!(c.get_keyed("char-1@1", CompileOptions { match_whole_words: !o.match_whole_words, ..o }).is_none(), "other options compile anew");
        assert!(c.get_keyed("char-1@2", o).is_none(), "a new revision is a miss");
        // The same content under a new key: no second compile, and the new key finds it.
        let x2 = c.get_or_compile(a, o, Some("char-1@2"), "a").unwrap();
        assert!(Arc::ptr_eq(&x, &x2));
        assert!(Arc::ptr_eq(&x, &c.get_keyed("char-1@2", o).unwrap()));
        // Evicted books are gone by key too (capacity 2).
        c.get_or_compile(b, o, Some("b@1"), "b").unwrap();
        c.get_or_compile(&b.replace('B', "C"), o, None, "c").unwrap();
        assert!(c.get_keyed("char-1@2", o).is_none());
        assert!(c.get_keyed("b@1", o).is_some());
        assert_eq!(c.counts(), (4, 3));
    }

    #[test]
    fn scan_names_default_to_the_character_and_persona() {
        let r: ScanRequest =
            read_checked(json!({"character": {"name": "Nova"}, "persona": {"name": "Sam"}}), "scan request").unwrap();
        let m = r.macro_context().unwrap();
        assert_eq!((m.char_name.as_str(), m.user.as_str()), ("Nova", "Sam"));
        let r: ScanRequest = read_checked(json!({"character": {"name": "Nova"}, "macros": {"char": "Other"}}), "s").unwrap();
        assert_eq!(r.macro_context().unwrap().char_name, "Other");
        assert!(read_checked::<ScanRequest>(json!({}), "s").unwrap().macro_context().is_none());
        assert!(read_checked::<ScanRequest>(json!({"lorebooks": []}), "s").is_err());
    }
}
