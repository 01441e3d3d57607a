//! World Info (lorebook) activation with SillyTavern 1.19 semantics.
//!
//! # Design
//!
//! **Compile once, scan often.** [`CompiledLorebook::new`] parses each entry's
//! decorators, normalises its keys (trimmed, lower-cased unless case-sensitive, the
//! whole-word rule resolved per entry) and puts every plain key into one of two
//! Aho-Corasick automata (case-insensitive keys run over lower-cased text,
//! case-sensitive keys over the raw text). `/regex/` keys are translated from
//! JavaScript syntax and compiled once on `regex-lite` (linear time: hostile
//! patterns cannot hang the tab; see [`jsregex`]); each regex's required literal
//! *set* (one of which every match contains: `/\b(?:sword|blade)(?:s|es)?\b/i` needs
//! `sword` or `blade`) goes into the automata as a prefilter. Keys containing macros (`{{user}}`) are
//! resolved per scan. The compiled book is immutable; callers cache it until the
//! book or the global case/whole-word settings change.
//!
//! **Scanning** ([`scan`]) follows SillyTavern's `checkWorldInfo`:
//!
//! 1. Entries of all active books are put in one list: chat book, persona book,
//!    then global and character books per `character_strategy`; each group sorted by
//!    `order` descending (ties keep book order, i.e. ascending uid).
//! 2. The haystack of an entry is the newest `scanDepth` messages (entry depth, or
//!    the global depth plus the min-activations skew), each `"\x01Name: text"`,
//!    joined by `"\n\x01"`, plus the persona/card fields the entry opts into, the
//!    scan-enabled injections and (except in min-activation passes) the recursion
//!    buffer. Depth 0 is an empty haystack. Instead of building that string per
//!    entry, each text segment is run through the automata **once per scan** and
//!    every pattern remembers the newest message it occurs in (separately for
//!    substring and whole-word occurrences: ASCII `\w` boundaries, checked at the
//!    match) and a bitmask of the other segments. A key then matches an entry iff
//!    `newest_message < entry_depth` or its segment mask meets the entry's. Regex
//!    keys run only when one of their literals occurs: a segment-local regex only on
//!    the messages holding one, and when every match starts with one of the literals
//!    (after an optional `\b`, with no other assertion at the start: `\bdragon(s)?\b`,
//!    `\b(?:sword|blade)s?\b`), anchored at each recorded occurrence; others on the
//!    real haystack string. The property test runs every regex over the whole haystack
//!    as its oracle.
//! 3. Each pass walks the sorted list — in fact only its *candidates*: a
//!    `CandidateIndex` built at compile time maps each automaton pattern to the entries
//!    whose primary keys need it, so a pass visits the entries of the patterns seen
//!    so far (whole-word keys only if a whole-word occurrence was seen), the entries
//!    that need a look every time (constant, `@@activate`, keys with macros, regexes
//!    without a literal set, empty keys) and those named by timed state; the rest cannot
//!    activate. A property test (`tests/engine_index.rs`) checks that this never
//!    changes a result. It skips entries that are disabled, filtered
//!    by generation trigger or character/tag filter, delayed, on cooldown (unless
//!    sticky), `delayUntilRecursion` above the current level, or `excludeRecursion`
//!    in a recursion pass; `@@activate`, external activation, `constant` and sticky
//!    activate without keys; `@@dont_activate` blocks (even constants); otherwise a
//!    primary key must match and the secondary keys must satisfy `selectiveLogic`.
//! 4. Candidates of the pass: sticky first; inclusion groups (sticky members win;
//!    group scoring drops lower-scored *scored* members; a group already filled in an
//!    earlier pass — by an entry whose `group` string equals the name — drops all;
//!    else "prioritize" by highest order, else a weighted pick from the seeded RNG).
//! 5. **Budget**: `max(1, round(budget% × maxContext / 100))`, capped by
//!    `budget_cap`. Walking candidates in order, each content (macros resolved) plus
//!    `"\n"` is appended to the pass text; when tokens(earlier passes) +
//!    tokens(pass text) ≥ budget the entry is dropped and the budget is *overflowed*:
//!    from then on only `ignoreBudget` entries are added, and no further recursion
//!    or min-activation pass starts. Probability rolls (seeded RNG) happen here; a
//!    failed roll excludes the entry for the rest of the generation.
//! 6. **Next pass**: recursion if enabled, not overflowed and some new entry lacks
//!    `preventRecursion` (their contents join the recursion buffer); after a
//!    min-activations pass with a non-empty buffer, recursion; else min-activations
//!    (depth + 1) while too few entries are active, the depth has not passed
//!    `min_activations_depth_max` (if set) or the chat length; else the next
//!    `delayUntilRecursion` level (levels are the distinct values ascending, `true`
//!    = 1; the first level is current from the start). `max_recursion_steps` caps the
//!    number of passes. Every pass activates at least one new entry or is the last,
//!    and entries activate at most once, so the loop ends after at most
//!    entries + chat length + levels + 1 passes.
//! 7. **Output**: activated entries stably sorted by `order` descending, then
//!    prepended per slot — so slots read ascending by order, equal orders in
//!    *reverse activation order*; outlets are appended (descending). @depth entries
//!    with equal (depth, role) merge. Timed effects (sticky/cooldown records,
//!    `start` = chat length, `end` = start + N) are written for activated entries
//!    and returned in [`TimedState`] for the caller to store per chat.
//!
//! Golden cases vs the doc (the golden case is right): equal orders come out in
//! reverse *activation* order (the doc's "reverse uid" only holds within one pass,
//! see `wi-min-activations-2`); a per-entry `useGroupScoring: null` member is never
//! dropped by scoring even when another member turns scoring on (`wi-groups-5`);
//! the recursion buffer holds the macro-resolved content (`wi-macros-1`).

pub mod compile;
pub mod jsregex;
mod scan;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use compile::{CompileOptions, CompileStats, CompiledLorebook};
pub use scan::scan;

use crate::macros::{ChatMessage, MacroContext};

/// Global World Info settings (`world_info_settings`). JS names are camelCase; the
/// SillyTavern names (`world_info_depth`, …) are accepted too. Defaults are those of
/// a fresh SillyTavern user. Unknown fields are an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct WorldInfoSettings {
    /// Messages scanned (`world_info_depth`, 2).
    #[serde(alias = "world_info_depth")]
    pub depth: i64,
    /// Budget in percent of the max prompt tokens (`world_info_budget`, 25).
    #[serde(alias = "world_info_budget")]
    pub budget: f64,
    /// Absolute token cap, 0 = none (`world_info_budget_cap`).
    #[serde(alias = "world_info_budget_cap")]
    pub budget_cap: i64,
    /// Widen the depth until this many entries are active, 0 = off.
    #[serde(alias = "world_info_min_activations")]
    pub min_activations: i64,
    /// Limit of that widening, 0 = the chat length.
    #[serde(alias = "world_info_min_activations_depth_max")]
    pub min_activations_depth_max: i64,
    /// Recursive scanning (true).
    #[serde(alias = "world_info_recursive")]
    pub recursive: bool,
    /// Cap on scan passes, 0 = unlimited.
    #[serde(alias = "world_info_max_recursion_steps")]
    pub max_recursion_steps: i64,
    /// Case-sensitive keys (false).
    #[serde(alias = "world_info_case_sensitive")]
    pub case_sensitive: bool,
    /// Whole-word keys (true).
    #[serde(alias = "world_info_match_whole_words")]
    pub match_whole_words: bool,
    /// Inclusion-group scoring (false).
    #[serde(alias = "world_info_use_group_scoring")]
    pub use_group_scoring: bool,
    /// Scan `"Name: message"` (true).
    #[serde(alias = "world_info_include_names")]
    pub include_names: bool,
    /// 0 evenly, 1 character first, 2 global first.
    #[serde(alias = "world_info_character_strategy")]
    pub character_strategy: i64,
    /// SillyTavern's overflow toast (`world_info_overflow_alert`): accepted so that its
    /// settings object can be passed as it is; the engine reports overflow in the result.
    #[serde(alias = "world_info_overflow_alert")]
    pub overflow_alert: bool,
    /// SillyTavern's selection of global books (`selected`, `world_info`): accepted so that its
    /// settings object can be passed as it is; the books themselves come in the request.
    #[serde(alias = "world_info", skip_serializing_if = "Option::is_none")]
    pub selected: Option<serde_json::Value>,
}

impl Default for WorldInfoSettings {
    fn default() -> Self {
        WorldInfoSettings {
            depth: 2,
            budget: 25.0,
            budget_cap: 0,
            min_activations: 0,
            min_activations_depth_max: 0,
            recursive: true,
            max_recursion_steps: 0,
            case_sensitive: false,
            match_whole_words: true,
            use_group_scoring: false,
            include_names: true,
            character_strategy: 1,
            overflow_alert: false,
            selected: None,
        }
    }
}

impl WorldInfoSettings {
    /// The options a lorebook must be compiled with for these settings.
    pub fn compile_options(&self) -> CompileOptions {
        CompileOptions { case_sensitive: self.case_sensitive, match_whole_words: self.match_whole_words }
    }

    /// `max(1, round(budget% × max_context / 100))`, capped by `budget_cap`.
    pub fn budget_tokens(&self, max_context: usize) -> usize {
        let b = (self.budget * max_context as f64 / 100.0).round();
        let mut b = if b.is_finite() && b >= 1.0 { b as usize } else { 1 };
        if self.budget_cap > 0 && (self.budget_cap as usize) < b {
            b = self.budget_cap as usize;
        }
        b
    }
}

/// Texts entries may opt into scanning (`match*` flags). Empty = not scanned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct GlobalScanData {
    /// Persona description.
    pub persona_description: String,
    /// Character description.
    pub character_description: String,
    /// Character personality.
    pub character_personality: String,
    /// Character depth prompt.
    pub character_depth_prompt: String,
    /// Scenario.
    pub scenario: String,
    /// Creator notes.
    pub creator_notes: String,
}

/// Where a book is active (decides the entry order, step 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BookSource {
    /// The chat's book.
    Chat,
    /// The persona's book.
    Persona,
    /// A globally selected book.
    #[default]
    Global,
    /// The character's book (embedded or linked).
    Character,
}

/// The current character for character/tag filters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ScanCharacter {
    /// Display name.
    pub name: String,
    /// Avatar file name (`Aldric.png`); filters compare it without `.png`.
    pub avatar: String,
    /// Tag ids.
    pub tags: Vec<String>,
}

impl ScanCharacter {
    fn file_name(&self) -> &str {
        let a = if self.avatar.is_empty() { &self.name } else { &self.avatar };
        a.strip_suffix(".png").unwrap_or(a)
    }
}

/// One timed-effect record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimedRecord {
    /// Hash of the entry when the record was made (32-bit).
    #[serde(default)]
    pub hash: u64,
    /// Chat length at activation.
    pub start: i64,
    /// `start` + the effect's length.
    pub end: i64,
    /// A cooldown started by an ending sticky (survives a regenerate at the same length).
    #[serde(default)]
    pub protected: bool,
}

/// Timed-effect state of one chat (`chat_metadata.timedWorldInfo`), keyed `"<book>.<uid>"`.
/// Pass it in, store what comes back (every turn: without it sticky and cooldown effects
/// end after one generation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct TimedState {
    /// Sticky records.
    pub sticky: BTreeMap<String, TimedRecord>,
    /// Cooldown records.
    pub cooldown: BTreeMap<String, TimedRecord>,
    /// Entries with `@@keep_activate_after_match` / `@@dont_activate_after_match`
    /// that have matched in this chat.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub matched: BTreeSet<String>,
}

/// A book taking part in a scan.
#[derive(Debug, Clone, Copy)]
pub struct BookRef<'a> {
    /// Book name (timed-effect keys are `"<name>.<uid>"`).
    pub name: &'a str,
    /// Where it is active.
    pub source: BookSource,
    /// The compiled book.
    pub book: &'a CompiledLorebook,
}

/// Everything one scan reads.
pub struct ScanInput<'a> {
    /// Active books (a name given twice is scanned once).
    pub books: Vec<BookRef<'a>>,
    /// The chat, oldest first (system messages are skipped). For a swipe, without
    /// the message being swiped.
    pub chat: &'a [ChatMessage],
    /// Global settings.
    pub settings: &'a WorldInfoSettings,
    /// Max prompt tokens (context size minus reply length).
    pub max_context: usize,
    /// Texts for the `match*` flags.
    pub global: &'a GlobalScanData,
    /// Generation type: normal, continue, impersonate, swipe, regenerate, quiet.
    pub trigger: &'a str,
    /// Current character.
    pub character: &'a ScanCharacter,
    /// Macro context for keys and content (`None`: no macro substitution).
    pub macros: Option<&'a MacroContext>,
    /// Timed-effect state before this generation.
    pub state: &'a TimedState,
    /// RNG seed (probability, inclusion-group picks, random macros).
    pub seed: u64,
    /// Token counting only: timed effects are read but not written.
    pub dry_run: bool,
    /// Entries activated from outside (`"<book>.<uid>"`).
    pub external_activations: &'a [String],
    /// Extra texts scanned for every entry (author's note and other scan-enabled injections).
    pub injections: &'a [String],
    /// Active greeting index (for `@@is_greeting`).
    pub greeting_index: Option<i64>,
}

/// Why an entry activated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivationReason {
    /// `key`, `constant`, `sticky`, `decorator`, `external` or `keepAfterMatch`.
    pub kind: String,
    /// The primary key that matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Where it matched: `message` (see `message_index`), `persona`, `description`,
    /// `personality`, `depthPrompt`, `scenario`, `creatorNotes`, `injection`,
    /// `recursion` or `haystack` (a regex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Index into the chat of the newest message containing the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_index: Option<usize>,
    /// Secondary keys that matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secondary_keys: Vec<String>,
}

/// An activated entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivatedEntry {
    /// Book name.
    pub world: String,
    /// Entry uid.
    pub uid: i64,
    /// Entry title.
    pub comment: String,
    /// Inserted text (decorators removed, macros resolved).
    pub content: String,
    /// Position 0–7.
    pub position: i64,
    /// @depth depth.
    pub depth: i64,
    /// @depth role 0 system, 1 user, 2 assistant.
    pub role: i64,
    /// Insertion order.
    pub order: i64,
    /// Outlet name (position 7).
    pub outlet_name: String,
    /// Scan pass (1-based) that activated it.
    pub pass: usize,
    /// `initial`, `recursion` or `minActivations`.
    pub pass_kind: String,
    /// Delay-until-recursion level current in that pass.
    pub recursion_level: i64,
    /// Tokens of its content (with the trailing newline the budget counts).
    pub tokens: usize,
    /// Why.
    pub reason: ActivationReason,
}

/// An entry that matched but was not inserted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DroppedEntry {
    /// Book name (shared: a scan that overflows its budget drops thousands of entries).
    pub world: std::sync::Arc<str>,
    /// Entry uid.
    pub uid: i64,
    /// `budget`, `probability`, `inclusionGroup`, `groupScore` or `groupFilled`.
    pub reason: std::borrow::Cow<'static, str>,
    /// The inclusion group involved, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// @depth entries with the same depth and role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DepthInjection {
    /// Depth (0 = after the last message).
    pub depth: i64,
    /// 0 system, 1 user, 2 assistant.
    pub role: i64,
    /// Contents, ascending order.
    pub entries: Vec<String>,
}

/// An example-message block from World Info.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExampleInjection {
    /// 0 = before the card's examples (EM top), 1 = after (EM bottom).
    pub position: i64,
    /// Text.
    pub content: String,
}

/// The result of a scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorldInfoResult {
    /// Activated entries in activation order.
    pub activated: Vec<ActivatedEntry>,
    /// Position 0 text (joined by `\n`).
    pub world_info_before: String,
    /// Position 1 text.
    pub world_info_after: String,
    /// Position 4 groups.
    pub depth_entries: Vec<DepthInjection>,
    /// Positions 5 and 6, one list.
    pub example_entries: Vec<ExampleInjection>,
    /// Position 2.
    pub an_top: Vec<String>,
    /// Position 3.
    pub an_bottom: Vec<String>,
    /// Position 7 by outlet name.
    pub outlets: BTreeMap<String, Vec<String>>,
    /// Scan passes run (including the last one that found nothing).
    pub scan_passes: usize,
    /// The token budget.
    pub budget_tokens: usize,
    /// Whether the budget overflowed.
    pub budget_overflowed: bool,
    /// Matched entries that were not inserted, with the reason.
    pub dropped: Vec<DroppedEntry>,
    /// Problems (unsupported regex keys …).
    pub warnings: Vec<String>,
    /// Timed-effect state to store for the chat.
    pub state: TimedState,
}
