//! The one lorebook model: a superset of the Character Card V2/V3 `character_book`
//! and of SillyTavern World Info entries.
//!
//! # Two dialects, one model
//!
//! Lorebook entries reach us in two spellings of mostly the same data
//! (V2/V3 `character_book` and SillyTavern World Info):
//!
//! | concept | V2/V3 `character_book` entry | SillyTavern World Info entry |
//! |---|---|---|
//! | primary keys | `keys` | `key` |
//! | secondary keys | `secondary_keys` | `keysecondary` |
//! | on/off | `enabled` | `disable` (inverted) |
//! | order | `insertion_order` | `order` |
//! | id | `id` (number, V3 also string) | `uid` (number, also the map key) |
//! | position | `"before_char"`/`"after_char"` + `extensions.position` (0–7) | `position` (0–7) |
//! | ST settings | `extensions.*` in snake_case (`exclude_recursion`, `scan_depth`, … and *sic* `useProbability`, `selectiveLogic`) | top level, camelCase |
//!
//! [`LorebookEntry`] stores the *meaning* once, in typed fields with SillyTavern's
//! semantics, so the World Info engine runs on it unchanged. Reading accepts both
//! dialects (and the key-spelling variants different tools write); typed SillyTavern settings found
//! in a card entry's `extensions` are lifted out of the map into the typed fields.
//! Every key we do not know stays in [`LorebookEntry::extra`] (entry level) or in
//! [`LorebookEntry::extensions`], and is written back.
//!
//! Writing:
//! * [`serde::Serialize`] (and [`Lorebook::to_v3_value`]) writes the V3
//!   `character_book` dialect — the standard field names used in the card object.
//!   SillyTavern settings are written into `extensions` (snake_case, as SillyTavern's
//!   own exporter does) when they differ from SillyTavern's defaults.
//! * [`Lorebook::to_world_info_value`] writes a SillyTavern World Info file
//!   (`{"entries": {"<uid>": {...}}}`) with every field explicit.
//!
//! Both directions are lossless for the model: reading what we wrote gives back an
//! equal [`Lorebook`] (tested by the round-trip property tests). A setting equal to its
//! default may be written implicitly (absent) rather than explicitly.
//!
//! # Reading directly with serde
//!
//! `serde_json::from_str::<Lorebook>(text)` accepts a World Info file, a V2/V3
//! `character_book` object or a bare entry array. Use [`Lorebook::from_value`] to
//! also receive the warnings and to apply limits.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::card::lenient;
use crate::card::warning::Warnings;
use crate::error::{Error, ErrorCode};

/// JSON object type used for extension maps and unknown fields.
pub type JsonMap = Map<String, Value>;

/// `selectiveLogic`: how secondary keys combine with a primary match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SelectiveLogic {
    /// 0: at least one secondary key matches.
    #[default]
    AndAny,
    /// 1: at least one secondary key does not match.
    NotAll,
    /// 2: no secondary key matches.
    NotAny,
    /// 3: all secondary keys match.
    AndAll,
}

impl SelectiveLogic {
    /// From SillyTavern's number (unknown numbers → `None`).
    pub fn from_i64(n: i64) -> Option<Self> {
        Some(match n {
            0 => Self::AndAny,
            1 => Self::NotAll,
            2 => Self::NotAny,
            3 => Self::AndAll,
            _ => return None,
        })
    }
    /// SillyTavern's number.
    pub fn as_i64(self) -> i64 {
        self as i64
    }
}

/// World Info insertion position (SillyTavern's `position` enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Position {
    /// 0: before the character definitions (`before_char`).
    #[default]
    Before,
    /// 1: after the character definitions (`after_char`).
    After,
    /// 2: before the Author's Note text.
    AuthorsNoteTop,
    /// 3: after the Author's Note text.
    AuthorsNoteBottom,
    /// 4: injected into the chat at [`LorebookEntry::depth`] with [`LorebookEntry::role`].
    AtDepth,
    /// 5: an example-message block before the card's examples.
    ExamplesTop,
    /// 6: an example-message block after the card's examples.
    ExamplesBottom,
    /// 7: collected under [`LorebookEntry::outlet_name`] for `{{outlet::name}}`.
    Outlet,
    /// A number this version does not know; kept as is.
    Other(i64),
}

impl Position {
    /// From SillyTavern's number.
    pub fn from_i64(n: i64) -> Self {
        match n {
            0 => Self::Before,
            1 => Self::After,
            2 => Self::AuthorsNoteTop,
            3 => Self::AuthorsNoteBottom,
            4 => Self::AtDepth,
            5 => Self::ExamplesTop,
            6 => Self::ExamplesBottom,
            7 => Self::Outlet,
            n => Self::Other(n),
        }
    }
    /// SillyTavern's number.
    pub fn as_i64(self) -> i64 {
        match self {
            Self::Before => 0,
            Self::After => 1,
            Self::AuthorsNoteTop => 2,
            Self::AuthorsNoteBottom => 3,
            Self::AtDepth => 4,
            Self::ExamplesTop => 5,
            Self::ExamplesBottom => 6,
            Self::Outlet => 7,
            Self::Other(n) => n,
        }
    }
    /// The V2/V3 spec string: `before_char` for 0, `after_char` for everything else
    /// (what SillyTavern writes; the precise value goes to `extensions.position`).
    pub fn spec_str(self) -> &'static str {
        if self == Self::Before {
            "before_char"
        } else {
            "after_char"
        }
    }
}

/// Message role of an at-depth insertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Role {
    /// 0 (also `null`).
    #[default]
    System,
    /// 1.
    User,
    /// 2.
    Assistant,
}

impl Role {
    /// From a number 0/1/2 or a string `system`/`user`/`assistant`.
    pub fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(Self::System),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "system" | "0" | "" => Some(Self::System),
                "user" | "1" => Some(Self::User),
                "assistant" | "2" => Some(Self::Assistant),
                _ => None,
            },
            _ => match lenient::int(v)? {
                0 => Some(Self::System),
                1 => Some(Self::User),
                2 => Some(Self::Assistant),
                _ => None,
            },
        }
    }
    /// SillyTavern's number.
    pub fn as_i64(self) -> i64 {
        self as i64
    }
}

/// An entry id as written in a V3 book: a number or a string.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryId {
    /// Numeric id (V2, V3, SillyTavern uid).
    Int(i64),
    /// String id (V3 only).
    Str(String),
}

/// SillyTavern's `characterFilter`: limit an entry to (or exclude it from) characters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CharacterFilter {
    /// If true, the listed characters/tags are excluded instead of included.
    pub is_exclude: bool,
    /// Character avatar file names without `.png`.
    pub names: Vec<String>,
    /// Tag ids.
    pub tags: Vec<String>,
    /// Unknown keys, preserved.
    pub extra: JsonMap,
}

impl CharacterFilter {
    fn from_value(v: &Value) -> Option<Self> {
        let m = v.as_object()?;
        let mut f = CharacterFilter::default();
        for (k, v) in m {
            match k.as_str() {
                "isExclude" | "is_exclude" => f.is_exclude = lenient::boolean(v).unwrap_or(false),
                "names" => f.names = lenient::string_list(v, false).map(|x| x.0).unwrap_or_default(),
                "tags" => f.tags = lenient::string_list(v, false).map(|x| x.0).unwrap_or_default(),
                _ => {
                    f.extra.insert(k.clone(), v.clone());
                }
            }
        }
        Some(f)
    }
    fn to_value(&self) -> Value {
        let mut m = JsonMap::new();
        m.insert("isExclude".into(), self.is_exclude.into());
        m.insert("names".into(), self.names.clone().into());
        m.insert("tags".into(), self.tags.clone().into());
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }
}

/// One lorebook / World Info entry. Field docs give the SillyTavern name and default.
#[derive(Debug, Clone, PartialEq)]
pub struct LorebookEntry {
    /// Numeric identity (ST `uid`). From `uid`, else a numeric `id`, else the array index;
    /// made unique within the book on import (collisions are renumbered).
    pub uid: i64,
    /// The `id` exactly as the source V2/V3 entry gave it (number or string), if any.
    pub id: Option<EntryId>,
    /// Primary keys (`keys` / ST `key`). `/regex/flags` keys are regexes.
    pub keys: Vec<String>,
    /// Secondary keys (`secondary_keys` / ST `keysecondary`).
    pub secondary_keys: Vec<String>,
    /// Memo/title (`comment`). Default `""`.
    pub comment: String,
    /// V2/V3 `name` label (Agnai/Risu), if present.
    pub name: Option<String>,
    /// Text to insert; may start with decorator lines (kept byte-identical).
    pub content: String,
    /// Always active (`constant`). Default false.
    pub constant: bool,
    /// Secondary keys are checked (`selective`). ST default true; a V2 entry without it: false.
    pub selective: bool,
    /// `selectiveLogic` (ST), default AND_ANY.
    pub selective_logic: SelectiveLogic,
    /// Enabled (`enabled` / inverse of ST `disable`). Default true.
    pub enabled: bool,
    /// Insertion order (`insertion_order` / ST `order`). Default 100.
    pub order: i64,
    /// V2/V3 `priority` (budget priority, Agnai), if present.
    pub priority: Option<i64>,
    /// Insertion position (ST `position` 0–7 / spec `before_char`/`after_char`).
    pub position: Position,
    /// Depth for [`Position::AtDepth`]. Default 4.
    pub depth: i64,
    /// Role for [`Position::AtDepth`]. Default system.
    pub role: Role,
    /// Outlet name for [`Position::Outlet`]. Default `""`.
    pub outlet_name: String,
    /// V3 `use_regex`. Default false.
    pub use_regex: bool,
    /// `caseSensitive` / `case_sensitive`; `None` = use the global setting.
    pub case_sensitive: Option<bool>,
    /// `matchWholeWords`; `None` = use the global setting.
    pub match_whole_words: Option<bool>,
    /// `useGroupScoring`; `None` = use the global setting.
    pub use_group_scoring: Option<bool>,
    /// `scanDepth`; `None` = use the global/book scan depth.
    pub scan_depth: Option<i64>,
    /// `probability` 0–100. Default 100.
    pub probability: f64,
    /// `useProbability`. Default true.
    pub use_probability: bool,
    /// Inclusion group(s), comma-separated (`group`). Default `""`.
    pub group: String,
    /// `groupOverride` ("prioritize"). Default false.
    pub group_override: bool,
    /// `groupWeight`. Default 100.
    pub group_weight: f64,
    /// `excludeRecursion`: cannot be activated in recursion passes. Default false.
    pub exclude_recursion: bool,
    /// `preventRecursion`: content is not scanned recursively. Default false.
    pub prevent_recursion: bool,
    /// `delayUntilRecursion`: 0 = off; N = only from recursion level N (`true` reads as 1).
    pub delay_until_recursion: i64,
    /// `ignoreBudget`. Default false.
    pub ignore_budget: bool,
    /// `vectorized`. Default false.
    pub vectorized: bool,
    /// `addMemo` (UI only). Default false.
    pub add_memo: bool,
    /// `displayIndex` (UI order), if present.
    pub display_index: Option<i64>,
    /// `matchPersonaDescription`.
    pub match_persona_description: bool,
    /// `matchCharacterDescription`.
    pub match_character_description: bool,
    /// `matchCharacterPersonality`.
    pub match_character_personality: bool,
    /// `matchCharacterDepthPrompt`.
    pub match_character_depth_prompt: bool,
    /// `matchScenario`.
    pub match_scenario: bool,
    /// `matchCreatorNotes`.
    pub match_creator_notes: bool,
    /// `sticky` (messages); `None` = off.
    pub sticky: Option<i64>,
    /// `cooldown` (messages); `None` = off.
    pub cooldown: Option<i64>,
    /// `delay` (messages); `None` = off.
    pub delay: Option<i64>,
    /// Generation types that may activate it; empty = all.
    pub triggers: Vec<String>,
    /// `characterFilter`, if present.
    pub character_filter: Option<CharacterFilter>,
    /// `automationId`. Default `""`.
    pub automation_id: String,
    /// The entry's `extensions` object, minus the SillyTavern settings lifted into
    /// the typed fields above. Unknown keys are preserved.
    pub extensions: JsonMap,
    /// Unknown entry-level keys, preserved and written back at entry level.
    pub extra: JsonMap,
}

impl Default for LorebookEntry {
    fn default() -> Self {
        LorebookEntry {
            uid: 0,
            id: None,
            keys: Vec::new(),
            secondary_keys: Vec::new(),
            comment: String::new(),
            name: None,
            content: String::new(),
            constant: false,
            selective: true,
            selective_logic: SelectiveLogic::AndAny,
            enabled: true,
            order: 100,
            priority: None,
            position: Position::Before,
            depth: 4,
            role: Role::System,
            outlet_name: String::new(),
            use_regex: false,
            case_sensitive: None,
            match_whole_words: None,
            use_group_scoring: None,
            scan_depth: None,
            probability: 100.0,
            use_probability: true,
            group: String::new(),
            group_override: false,
            group_weight: 100.0,
            exclude_recursion: false,
            prevent_recursion: false,
            delay_until_recursion: 0,
            ignore_budget: false,
            vectorized: false,
            add_memo: false,
            display_index: None,
            match_persona_description: false,
            match_character_description: false,
            match_character_personality: false,
            match_character_depth_prompt: false,
            match_scenario: false,
            match_creator_notes: false,
            sticky: None,
            cooldown: None,
            delay: None,
            triggers: Vec::new(),
            character_filter: None,
            automation_id: String::new(),
            extensions: JsonMap::new(),
            extra: JsonMap::new(),
        }
    }
}

/// A lorebook (V2/V3 `character_book`, `lorebook_v3` data, or a World Info file).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lorebook {
    /// Book name, if any.
    pub name: Option<String>,
    /// Book description, if any.
    pub description: Option<String>,
    /// Messages to scan (`scan_depth`), if set.
    pub scan_depth: Option<i64>,
    /// Token budget (`token_budget`), if set.
    pub token_budget: Option<i64>,
    /// `recursive_scanning`: `None` = leave it to the app.
    pub recursive_scanning: Option<bool>,
    /// Book `extensions` (always written, `{}` by default).
    pub extensions: JsonMap,
    /// The entries, in source order.
    pub entries: Vec<LorebookEntry>,
    /// Unknown book-level keys (e.g. ST `originalData`), preserved.
    pub extra: JsonMap,
}

/// Which spelling an entry object uses (decides a few defaults).
#[derive(Clone, Copy, PartialEq)]
enum Dialect {
    Spec,
    WorldInfo,
}

/// Typed SillyTavern settings: (field id, names accepted at entry level in the WI
/// dialect, names accepted inside `extensions`, the name written into `extensions`).
pub(crate) const ST_FIELDS: &[(Field, &[&str], &[&str], &str)] = &[
    (Field::Position, &["position"], &["position"], "position"),
    (
        Field::ExcludeRecursion,
        &["excludeRecursion", "exclude_recursion"],
        &["exclude_recursion", "excludeRecursion"],
        "exclude_recursion",
    ),
    (
        Field::PreventRecursion,
        &["preventRecursion", "prevent_recursion"],
        &["prevent_recursion", "preventRecursion"],
        "prevent_recursion",
    ),
    (
        Field::DelayUntilRecursion,
        &["delayUntilRecursion", "delay_until_recursion"],
        &["delay_until_recursion", "delayUntilRecursion"],
        "delay_until_recursion",
    ),
    (Field::DisplayIndex, &["displayIndex", "display_index"], &["display_index", "displayIndex"], "display_index"),
    (Field::Probability, &["probability"], &["probability"], "probability"),
    (
        Field::UseProbability,
        &["useProbability", "use_probability"],
        &["useProbability", "use_probability"],
        "useProbability",
    ),
    (Field::Depth, &["depth"], &["depth"], "depth"),
    (
        Field::SelectiveLogic,
        &["selectiveLogic", "selective_logic"],
        &["selectiveLogic", "selective_logic"],
        "selectiveLogic",
    ),
    (Field::OutletName, &["outletName", "outlet_name"], &["outlet_name", "outletName"], "outlet_name"),
    (Field::Group, &["group"], &["group"], "group"),
    (
        Field::GroupOverride,
        &["groupOverride", "group_override"],
        &["group_override", "groupOverride"],
        "group_override",
    ),
    (Field::GroupWeight, &["groupWeight", "group_weight"], &["group_weight", "groupWeight"], "group_weight"),
    (Field::ScanDepth, &["scanDepth", "scan_depth"], &["scan_depth", "scanDepth"], "scan_depth"),
    (
        Field::CaseSensitive,
        &["caseSensitive", "case_sensitive"],
        &["case_sensitive", "caseSensitive"],
        "case_sensitive",
    ),
    (
        Field::MatchWholeWords,
        &["matchWholeWords", "match_whole_words"],
        &["match_whole_words", "matchWholeWords"],
        "match_whole_words",
    ),
    (
        Field::UseGroupScoring,
        &["useGroupScoring", "use_group_scoring"],
        &["use_group_scoring", "useGroupScoring"],
        "use_group_scoring",
    ),
    (Field::AutomationId, &["automationId", "automation_id"], &["automation_id", "automationId"], "automation_id"),
    (Field::Role, &["role"], &["role"], "role"),
    (Field::Vectorized, &["vectorized"], &["vectorized"], "vectorized"),
    (Field::Sticky, &["sticky"], &["sticky"], "sticky"),
    (Field::Cooldown, &["cooldown"], &["cooldown"], "cooldown"),
    (Field::Delay, &["delay"], &["delay"], "delay"),
    (
        Field::MatchPersonaDescription,
        &["matchPersonaDescription", "match_persona_description"],
        &["match_persona_description", "matchPersonaDescription"],
        "match_persona_description",
    ),
    (
        Field::MatchCharacterDescription,
        &["matchCharacterDescription", "match_character_description"],
        &["match_character_description", "matchCharacterDescription"],
        "match_character_description",
    ),
    (
        Field::MatchCharacterPersonality,
        &["matchCharacterPersonality", "match_character_personality"],
        &["match_character_personality", "matchCharacterPersonality"],
        "match_character_personality",
    ),
    (
        Field::MatchCharacterDepthPrompt,
        &["matchCharacterDepthPrompt", "match_character_depth_prompt"],
        &["match_character_depth_prompt", "matchCharacterDepthPrompt"],
        "match_character_depth_prompt",
    ),
    (
        Field::MatchScenario,
        &["matchScenario", "match_scenario"],
        &["match_scenario", "matchScenario"],
        "match_scenario",
    ),
    (
        Field::MatchCreatorNotes,
        &["matchCreatorNotes", "match_creator_notes"],
        &["match_creator_notes", "matchCreatorNotes"],
        "match_creator_notes",
    ),
    (Field::Triggers, &["triggers"], &["triggers"], "triggers"),
    (Field::IgnoreBudget, &["ignoreBudget", "ignore_budget"], &["ignore_budget", "ignoreBudget"], "ignore_budget"),
    (
        Field::CharacterFilter,
        &["characterFilter", "character_filter"],
        &["character_filter", "characterFilter"],
        "character_filter",
    ),
    (Field::AddMemo, &["addMemo", "add_memo"], &["add_memo", "addMemo"], "add_memo"),
];

/// The typed setting a top-level (World Info dialect) key names, if any.
fn top_field(name: &str) -> Option<Field> {
    Some(match name {
        "position" => Field::Position,
        "excludeRecursion" => Field::ExcludeRecursion,
        "exclude_recursion" => Field::ExcludeRecursion,
        "preventRecursion" => Field::PreventRecursion,
        "prevent_recursion" => Field::PreventRecursion,
        "delayUntilRecursion" => Field::DelayUntilRecursion,
        "delay_until_recursion" => Field::DelayUntilRecursion,
        "displayIndex" => Field::DisplayIndex,
        "display_index" => Field::DisplayIndex,
        "probability" => Field::Probability,
        "useProbability" => Field::UseProbability,
        "use_probability" => Field::UseProbability,
        "depth" => Field::Depth,
        "selectiveLogic" => Field::SelectiveLogic,
        "selective_logic" => Field::SelectiveLogic,
        "outletName" => Field::OutletName,
        "outlet_name" => Field::OutletName,
        "group" => Field::Group,
        "groupOverride" => Field::GroupOverride,
        "group_override" => Field::GroupOverride,
        "groupWeight" => Field::GroupWeight,
        "group_weight" => Field::GroupWeight,
        "scanDepth" => Field::ScanDepth,
        "scan_depth" => Field::ScanDepth,
        "caseSensitive" => Field::CaseSensitive,
        "case_sensitive" => Field::CaseSensitive,
        "matchWholeWords" => Field::MatchWholeWords,
        "match_whole_words" => Field::MatchWholeWords,
        "useGroupScoring" => Field::UseGroupScoring,
        "use_group_scoring" => Field::UseGroupScoring,
        "automationId" => Field::AutomationId,
        "automation_id" => Field::AutomationId,
        "role" => Field::Role,
        "vectorized" => Field::Vectorized,
        "sticky" => Field::Sticky,
        "cooldown" => Field::Cooldown,
        "delay" => Field::Delay,
        "matchPersonaDescription" => Field::MatchPersonaDescription,
        "match_persona_description" => Field::MatchPersonaDescription,
        "matchCharacterDescription" => Field::MatchCharacterDescription,
        "match_character_description" => Field::MatchCharacterDescription,
        "matchCharacterPersonality" => Field::MatchCharacterPersonality,
        "match_character_personality" => Field::MatchCharacterPersonality,
        "matchCharacterDepthPrompt" => Field::MatchCharacterDepthPrompt,
        "match_character_depth_prompt" => Field::MatchCharacterDepthPrompt,
        "matchScenario" => Field::MatchScenario,
        "match_scenario" => Field::MatchScenario,
        "matchCreatorNotes" => Field::MatchCreatorNotes,
        "match_creator_notes" => Field::MatchCreatorNotes,
        "triggers" => Field::Triggers,
        "ignoreBudget" => Field::IgnoreBudget,
        "ignore_budget" => Field::IgnoreBudget,
        "characterFilter" => Field::CharacterFilter,
        "character_filter" => Field::CharacterFilter,
        "addMemo" => Field::AddMemo,
        "add_memo" => Field::AddMemo,
        _ => return None,
    })
}

/// The typed setting an `extensions` key names, and the alias rank (0 = preferred spelling).
fn ext_field(name: &str) -> Option<(Field, usize)> {
    Some(match name {
        "position" => (Field::Position, 0),
        "exclude_recursion" => (Field::ExcludeRecursion, 0),
        "excludeRecursion" => (Field::ExcludeRecursion, 1),
        "prevent_recursion" => (Field::PreventRecursion, 0),
        "preventRecursion" => (Field::PreventRecursion, 1),
        "delay_until_recursion" => (Field::DelayUntilRecursion, 0),
        "delayUntilRecursion" => (Field::DelayUntilRecursion, 1),
        "display_index" => (Field::DisplayIndex, 0),
        "displayIndex" => (Field::DisplayIndex, 1),
        "probability" => (Field::Probability, 0),
        "useProbability" => (Field::UseProbability, 0),
        "use_probability" => (Field::UseProbability, 1),
        "depth" => (Field::Depth, 0),
        "selectiveLogic" => (Field::SelectiveLogic, 0),
        "selective_logic" => (Field::SelectiveLogic, 1),
        "outlet_name" => (Field::OutletName, 0),
        "outletName" => (Field::OutletName, 1),
        "group" => (Field::Group, 0),
        "group_override" => (Field::GroupOverride, 0),
        "groupOverride" => (Field::GroupOverride, 1),
        "group_weight" => (Field::GroupWeight, 0),
        "groupWeight" => (Field::GroupWeight, 1),
        "scan_depth" => (Field::ScanDepth, 0),
        "scanDepth" => (Field::ScanDepth, 1),
        "case_sensitive" => (Field::CaseSensitive, 0),
        "caseSensitive" => (Field::CaseSensitive, 1),
        "match_whole_words" => (Field::MatchWholeWords, 0),
        "matchWholeWords" => (Field::MatchWholeWords, 1),
        "use_group_scoring" => (Field::UseGroupScoring, 0),
        "useGroupScoring" => (Field::UseGroupScoring, 1),
        "automation_id" => (Field::AutomationId, 0),
        "automationId" => (Field::AutomationId, 1),
        "role" => (Field::Role, 0),
        "vectorized" => (Field::Vectorized, 0),
        "sticky" => (Field::Sticky, 0),
        "cooldown" => (Field::Cooldown, 0),
        "delay" => (Field::Delay, 0),
        "match_persona_description" => (Field::MatchPersonaDescription, 0),
        "matchPersonaDescription" => (Field::MatchPersonaDescription, 1),
        "match_character_description" => (Field::MatchCharacterDescription, 0),
        "matchCharacterDescription" => (Field::MatchCharacterDescription, 1),
        "match_character_personality" => (Field::MatchCharacterPersonality, 0),
        "matchCharacterPersonality" => (Field::MatchCharacterPersonality, 1),
        "match_character_depth_prompt" => (Field::MatchCharacterDepthPrompt, 0),
        "matchCharacterDepthPrompt" => (Field::MatchCharacterDepthPrompt, 1),
        "match_scenario" => (Field::MatchScenario, 0),
        "matchScenario" => (Field::MatchScenario, 1),
        "match_creator_notes" => (Field::MatchCreatorNotes, 0),
        "matchCreatorNotes" => (Field::MatchCreatorNotes, 1),
        "triggers" => (Field::Triggers, 0),
        "ignore_budget" => (Field::IgnoreBudget, 0),
        "ignoreBudget" => (Field::IgnoreBudget, 1),
        "character_filter" => (Field::CharacterFilter, 0),
        "characterFilter" => (Field::CharacterFilter, 1),
        "add_memo" => (Field::AddMemo, 0),
        "addMemo" => (Field::AddMemo, 1),
        _ => return None,
    })
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Field {
    Position,
    ExcludeRecursion,
    PreventRecursion,
    DelayUntilRecursion,
    DisplayIndex,
    Probability,
    UseProbability,
    Depth,
    SelectiveLogic,
    OutletName,
    Group,
    GroupOverride,
    GroupWeight,
    ScanDepth,
    CaseSensitive,
    MatchWholeWords,
    UseGroupScoring,
    AutomationId,
    Role,
    Vectorized,
    Sticky,
    Cooldown,
    Delay,
    MatchPersonaDescription,
    MatchCharacterDescription,
    MatchCharacterPersonality,
    MatchCharacterDepthPrompt,
    MatchScenario,
    MatchCreatorNotes,
    Triggers,
    IgnoreBudget,
    CharacterFilter,
    AddMemo,
}

fn nn(v: &Value) -> Option<&Value> {
    if v.is_null() {
        None
    } else {
        Some(v)
    }
}

/// `null` for an optional number/bool means "unset" (use global).
fn opt_int(v: &Value) -> Option<Option<i64>> {
    if v.is_null() {
        Some(None)
    } else {
        lenient::int(v).map(Some)
    }
}
fn opt_bool(v: &Value) -> Option<Option<bool>> {
    if v.is_null() {
        Some(None)
    } else {
        lenient::boolean(v).map(Some)
    }
}

impl LorebookEntry {
    /// Applies one typed SillyTavern setting. Returns false if the value has the wrong
    /// type (the caller then keeps the raw key).
    fn set_field(&mut self, f: Field, v: &Value) -> bool {
        macro_rules! set {
            ($slot:expr, $conv:expr) => {
                match $conv {
                    Some(x) => {
                        $slot = x;
                        true
                    }
                    None => false,
                }
            };
        }
        match f {
            Field::Position => match v {
                Value::String(s) if s == "before_char" => set!(self.position, Some(Position::Before)),
                Value::String(s) if s == "after_char" => set!(self.position, Some(Position::After)),
                _ => set!(self.position, lenient::int(v).map(Position::from_i64)),
            },
            Field::ExcludeRecursion => set!(self.exclude_recursion, lenient::boolean(v)),
            Field::PreventRecursion => set!(self.prevent_recursion, lenient::boolean(v)),
            Field::DelayUntilRecursion => match v {
                Value::Bool(b) => set!(self.delay_until_recursion, Some(*b as i64)),
                Value::Null => set!(self.delay_until_recursion, Some(0)),
                _ => set!(self.delay_until_recursion, lenient::int(v)),
            },
            Field::DisplayIndex => set!(self.display_index, opt_int(v)),
            Field::Probability => set!(self.probability, nn(v).and_then(lenient::float)),
            Field::UseProbability => set!(self.use_probability, lenient::boolean(v)),
            Field::Depth => set!(self.depth, nn(v).and_then(lenient::int)),
            Field::SelectiveLogic => {
                set!(self.selective_logic, nn(v).and_then(lenient::int).and_then(SelectiveLogic::from_i64))
            }
            Field::OutletName => set!(self.outlet_name, nn(v).and_then(lenient::string)),
            Field::Group => set!(self.group, nn(v).and_then(lenient::string)),
            Field::GroupOverride => set!(self.group_override, lenient::boolean(v)),
            Field::GroupWeight => set!(self.group_weight, nn(v).and_then(lenient::float)),
            Field::ScanDepth => set!(self.scan_depth, opt_int(v)),
            Field::CaseSensitive => set!(self.case_sensitive, opt_bool(v)),
            Field::MatchWholeWords => set!(self.match_whole_words, opt_bool(v)),
            Field::UseGroupScoring => set!(self.use_group_scoring, opt_bool(v)),
            Field::AutomationId => set!(self.automation_id, nn(v).and_then(lenient::string)),
            Field::Role => set!(self.role, Role::from_value(v)),
            Field::Vectorized => set!(self.vectorized, lenient::boolean(v)),
            Field::Sticky => set!(self.sticky, opt_int(v)),
            Field::Cooldown => set!(self.cooldown, opt_int(v)),
            Field::Delay => set!(self.delay, opt_int(v)),
            Field::MatchPersonaDescription => set!(self.match_persona_description, lenient::boolean(v)),
            Field::MatchCharacterDescription => set!(self.match_character_description, lenient::boolean(v)),
            Field::MatchCharacterPersonality => set!(self.match_character_personality, lenient::boolean(v)),
            Field::MatchCharacterDepthPrompt => set!(self.match_character_depth_prompt, lenient::boolean(v)),
            Field::MatchScenario => set!(self.match_scenario, lenient::boolean(v)),
            Field::MatchCreatorNotes => set!(self.match_creator_notes, lenient::boolean(v)),
            Field::Triggers => set!(self.triggers, lenient::string_list(v, false).map(|x| x.0)),
            Field::IgnoreBudget => set!(self.ignore_budget, lenient::boolean(v)),
            Field::CharacterFilter => {
                if v.is_null() {
                    self.character_filter = None;
                    true
                } else {
                    set!(self.character_filter, CharacterFilter::from_value(v).map(Some))
                }
            }
            Field::AddMemo => set!(self.add_memo, lenient::boolean(v)),
        }
    }

    /// Cheap check: does this typed setting differ from SillyTavern's default?
    pub(crate) fn non_default(&self, f: Field) -> bool {
        match f {
            Field::Position => self.position != Position::Before,
            Field::ExcludeRecursion => self.exclude_recursion,
            Field::PreventRecursion => self.prevent_recursion,
            Field::DelayUntilRecursion => self.delay_until_recursion != 0,
            Field::DisplayIndex => self.display_index.is_some(),
            Field::Probability => self.probability != 100.0,
            Field::UseProbability => !self.use_probability,
            Field::Depth => self.depth != 4,
            Field::SelectiveLogic => self.selective_logic != SelectiveLogic::AndAny,
            Field::OutletName => !self.outlet_name.is_empty(),
            Field::Group => !self.group.is_empty(),
            Field::GroupOverride => self.group_override,
            Field::GroupWeight => self.group_weight != 100.0,
            Field::ScanDepth => self.scan_depth.is_some(),
            Field::CaseSensitive => self.case_sensitive.is_some(),
            Field::MatchWholeWords => self.match_whole_words.is_some(),
            Field::UseGroupScoring => self.use_group_scoring.is_some(),
            Field::AutomationId => !self.automation_id.is_empty(),
            Field::Role => self.role != Role::System,
            Field::Vectorized => self.vectorized,
            Field::Sticky => self.sticky.is_some(),
            Field::Cooldown => self.cooldown.is_some(),
            Field::Delay => self.delay.is_some(),
            Field::MatchPersonaDescription => self.match_persona_description,
            Field::MatchCharacterDescription => self.match_character_description,
            Field::MatchCharacterPersonality => self.match_character_personality,
            Field::MatchCharacterDepthPrompt => self.match_character_depth_prompt,
            Field::MatchScenario => self.match_scenario,
            Field::MatchCreatorNotes => self.match_creator_notes,
            Field::Triggers => !self.triggers.is_empty(),
            Field::IgnoreBudget => self.ignore_budget,
            Field::CharacterFilter => self.character_filter.is_some(),
            Field::AddMemo => self.add_memo,
        }
    }

    /// The typed setting as JSON, and whether it differs from SillyTavern's default.
    pub(crate) fn get_field(&self, f: Field) -> (Value, bool) {
        let oi = |o: Option<i64>| o.map(Value::from).unwrap_or(Value::Null);
        let ob = |o: Option<bool>| o.map(Value::from).unwrap_or(Value::Null);
        match f {
            Field::Position => (self.position.as_i64().into(), self.position != Position::Before),
            Field::ExcludeRecursion => (self.exclude_recursion.into(), self.exclude_recursion),
            Field::PreventRecursion => (self.prevent_recursion.into(), self.prevent_recursion),
            Field::DelayUntilRecursion => (self.delay_until_recursion.into(), self.delay_until_recursion != 0),
            Field::DisplayIndex => (oi(self.display_index), self.display_index.is_some()),
            Field::Probability => (lenient::num_f64(self.probability), self.probability != 100.0),
            Field::UseProbability => (self.use_probability.into(), !self.use_probability),
            Field::Depth => (self.depth.into(), self.depth != 4),
            Field::SelectiveLogic => {
                (self.selective_logic.as_i64().into(), self.selective_logic != SelectiveLogic::AndAny)
            }
            Field::OutletName => (self.outlet_name.clone().into(), !self.outlet_name.is_empty()),
            Field::Group => (self.group.clone().into(), !self.group.is_empty()),
            Field::GroupOverride => (self.group_override.into(), self.group_override),
            Field::GroupWeight => (lenient::num_f64(self.group_weight), self.group_weight != 100.0),
            Field::ScanDepth => (oi(self.scan_depth), self.scan_depth.is_some()),
            Field::CaseSensitive => (ob(self.case_sensitive), self.case_sensitive.is_some()),
            Field::MatchWholeWords => (ob(self.match_whole_words), self.match_whole_words.is_some()),
            Field::UseGroupScoring => (ob(self.use_group_scoring), self.use_group_scoring.is_some()),
            Field::AutomationId => (self.automation_id.clone().into(), !self.automation_id.is_empty()),
            Field::Role => (self.role.as_i64().into(), self.role != Role::System),
            Field::Vectorized => (self.vectorized.into(), self.vectorized),
            Field::Sticky => (oi(self.sticky), self.sticky.is_some()),
            Field::Cooldown => (oi(self.cooldown), self.cooldown.is_some()),
            Field::Delay => (oi(self.delay), self.delay.is_some()),
            Field::MatchPersonaDescription => (self.match_persona_description.into(), self.match_persona_description),
            Field::MatchCharacterDescription => {
                (self.match_character_description.into(), self.match_character_description)
            }
            Field::MatchCharacterPersonality => {
                (self.match_character_personality.into(), self.match_character_personality)
            }
            Field::MatchCharacterDepthPrompt => {
                (self.match_character_depth_prompt.into(), self.match_character_depth_prompt)
            }
            Field::MatchScenario => (self.match_scenario.into(), self.match_scenario),
            Field::MatchCreatorNotes => (self.match_creator_notes.into(), self.match_creator_notes),
            Field::Triggers => (self.triggers.clone().into(), !self.triggers.is_empty()),
            Field::IgnoreBudget => (self.ignore_budget.into(), self.ignore_budget),
            Field::CharacterFilter => match &self.character_filter {
                Some(f) => (f.to_value(), true),
                None => (Value::Null, false),
            },
            Field::AddMemo => (self.add_memo.into(), self.add_memo),
        }
    }

    /// Reads an entry object in either dialect. `index` is its position in the
    /// book (used as uid when it has none). Unknown keys land in `extra`.
    pub fn from_value(v: &Value, index: usize, warnings: &mut Warnings) -> LorebookEntry {
        Self::from_owned(v.clone(), index, warnings)
    }

    /// Like [`Self::from_value`], taking the value (no copies of the strings).
    pub fn from_owned(v: Value, index: usize, warnings: &mut Warnings) -> LorebookEntry {
        let m = match v {
            Value::Object(m) => m,
            other => {
                warnings.push(
                    "lorebook_entry_not_object",
                    format!(
                        "lorebook entry {index} is not an object; kept as an empty entry with the raw value in extra.raw"
                    ),
                );
                let mut e = LorebookEntry { uid: index as i64, ..Default::default() };
                e.extra.insert("raw".into(), other);
                return e;
            }
        };
        let wi = m.contains_key("key")
            || m.contains_key("uid")
            || m.contains_key("disable")
            || m.contains_key("keysecondary");
        let dialect = if wi && !m.contains_key("keys") { Dialect::WorldInfo } else { Dialect::Spec };
        let mut e = LorebookEntry { uid: index as i64, ..Default::default() };
        if dialect == Dialect::Spec {
            // A V2/V3 entry without `selective` is not selective (the spec field is optional).
            e.selective = false;
        }
        let mut uid_set = false;
        // Typed SillyTavern settings read from the entry's top level: (field, key, raw value).
        let mut consumed_st: Vec<(Field, String, Value)> = Vec::new();

        for (k, mut val) in m {
            let ok = match k.as_str() {
                "keys" | "key" | "keywords" => match lenient::take_string_list(&mut val) {
                    Some((list, lossy)) => {
                        if lossy && !val.is_null() {
                            warnings.push(
                                "lorebook_keys_coerced",
                                format!("entry {index}: `{k}` was not a string array; coerced"),
                            );
                        }
                        e.keys = list;
                        true
                    }
                    None => false,
                },
                "secondary_keys" | "keysecondary" | "secondaryKeys" => match lenient::take_string_list(&mut val) {
                    Some((list, _)) => {
                        e.secondary_keys = list;
                        true
                    }
                    None => false,
                },
                "comment" => lenient::take_string(&mut val).map(|s| e.comment = s).is_some() || val.is_null(),
                "name" => {
                    e.name = lenient::take_string(&mut val);
                    e.name.is_some() || val.is_null()
                }
                "content" => lenient::take_string(&mut val).map(|s| e.content = s).is_some() || val.is_null(),
                "constant" => lenient::boolean(&val).map(|b| e.constant = b).is_some(),
                "selective" => lenient::boolean(&val).map(|b| e.selective = b).is_some(),
                "enabled" => lenient::boolean(&val).map(|b| e.enabled = b).is_some(),
                "disable" => lenient::boolean(&val).map(|b| e.enabled = !b).is_some(),
                "insertion_order" | "order" => lenient::int(&val).map(|n| e.order = n).is_some(),
                "priority" => {
                    e.priority = lenient::int(&val);
                    e.priority.is_some() || val.is_null()
                }
                "use_regex" | "useRegex" => lenient::boolean(&val).map(|b| e.use_regex = b).is_some(),
                "uid" => match lenient::int(&val) {
                    Some(n) => {
                        e.uid = n;
                        uid_set = true;
                        true
                    }
                    None => false,
                },
                "id" => match &mut val {
                    Value::Number(_) => match lenient::int(&val) {
                        Some(n) => {
                            e.id = Some(EntryId::Int(n));
                            if !uid_set {
                                e.uid = n;
                            }
                            true
                        }
                        None => false,
                    },
                    Value::String(s) => {
                        e.id = Some(EntryId::Str(std::mem::take(s)));
                        true
                    }
                    _ => false,
                },
                "extensions" => match &mut val {
                    Value::Object(x) => {
                        e.extensions = std::mem::take(x);
                        true
                    }
                    Value::Null => true,
                    _ => false,
                },
                _ => {
                    // Top-level SillyTavern settings (WI dialect; also tolerated in V2 entries).
                    let mut hit = false;
                    if let Some(f) = top_field(&k) {
                        if !consumed_st.iter().any(|c| c.0 == f) && e.set_field(f, &val) {
                            consumed_st.push((f, k.clone(), val.clone()));
                            hit = true;
                        }
                    }
                    hit
                }
            };
            if !ok {
                e.extra.insert(k, val);
            }
        }
        // A WI entry keyed "uid" wins over "id" for identity.
        if uid_set && dialect == Dialect::WorldInfo && e.id.is_none() {
            e.id = Some(EntryId::Int(e.uid));
        }

        // Lift SillyTavern settings out of `extensions` (snake_case, with the aliases other tools write).
        // The precise `extensions.position` wins over the spec's coarse string.
        if !e.extensions.is_empty() {
            // The known settings present, each with its best-ranked spelling (only that one is
            // lifted; other spellings stay in the map).
            let mut found: Vec<(Field, usize, String)> = Vec::new();
            for k in e.extensions.keys() {
                if let Some((f, rank)) = ext_field(k) {
                    match found.iter_mut().find(|x| x.0 == f) {
                        Some(x) if rank < x.1 => *x = (f, rank, k.clone()),
                        Some(_) => {}
                        None => found.push((f, rank, k.clone())),
                    }
                }
            }
            for (f, _, name) in found {
                let Some(val) = e.extensions.get(&name).cloned() else { continue };
                let top_level = consumed_st.iter().find(|c| c.0 == f && f != Field::Position);
                if let Some((_, top_key, top_val)) = top_level {
                    // The top-level value wins. An equal copy in `extensions` (ST writes
                    // `case_sensitive` in both places) is a mirror and is dropped; a
                    // different one is kept as is, and so is the top-level key (in
                    // `extra`), so both are written back.
                    let mut probe = e.clone();
                    if probe.set_field(f, &val) && probe.get_field(f).0 == e.get_field(f).0 {
                        e.extensions.shift_remove(&name);
                    } else {
                        e.extra.insert(top_key.clone(), top_val.clone());
                    }
                } else if e.set_field(f, &val) {
                    e.extensions.shift_remove(&name);
                } else {
                    warnings.push(
                        "lorebook_setting_unreadable",
                        format!("entry {index}: extensions.{name} has an unexpected type; kept as is, default used"),
                    );
                }
            }
        }
        e
    }

    /// Writes the entry in the V2/V3 `character_book` dialect. A `uid` key is added only
    /// when the uid differs from what a reader would derive (the numeric `id`).
    pub fn to_v3_value(&self) -> Value {
        self.to_v3_value_at(None)
    }

    /// Like [`Self::to_v3_value`], for the entry at `index` of a book (a `uid` key is added
    /// only when the uid differs from the numeric `id`, or from `index` without one).
    pub fn to_v3_value_at(&self, index: Option<usize>) -> Value {
        crate::card::ser::to_value(&crate::card::ser::EntryV3(self, index))
    }

    /// Writes the entry as a SillyTavern World Info entry, every field explicit.
    pub fn to_world_info_value(&self) -> Value {
        let mut m = JsonMap::new();
        m.insert("uid".into(), self.uid.into());
        m.insert("key".into(), self.keys.clone().into());
        m.insert("keysecondary".into(), self.secondary_keys.clone().into());
        m.insert("comment".into(), self.comment.clone().into());
        m.insert("content".into(), self.content.clone().into());
        m.insert("constant".into(), self.constant.into());
        m.insert("selective".into(), self.selective.into());
        m.insert("order".into(), self.order.into());
        m.insert("disable".into(), (!self.enabled).into());
        // Every ST setting, camelCase (the first top-level name in the table).
        for (f, top, _, _) in ST_FIELDS {
            let (val, non_default) = self.get_field(*f);
            if *f == Field::CharacterFilter && !non_default {
                continue; // ST omits it when unset
            }
            if *f == Field::DisplayIndex && !non_default {
                continue;
            }
            m.insert(top[0].to_string(), val);
        }
        if let Some(n) = &self.name {
            m.insert("name".into(), n.clone().into());
        }
        if let Some(p) = self.priority {
            m.insert("priority".into(), p.into());
        }
        if let Some(EntryId::Str(s)) = &self.id {
            m.insert("id".into(), s.clone().into());
        }
        if self.use_regex {
            m.insert("use_regex".into(), true.into());
        }
        if !self.extensions.is_empty() {
            m.insert("extensions".into(), Value::Object(self.extensions.clone()));
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }

    /// Decorator lines at the start of `content`, parsed on demand.
    /// The content itself is never modified.
    pub fn decorators(&self) -> Vec<Decorator> {
        parse_decorators(&self.content).0
    }

    /// `content` without its leading decorator lines (for prompts and V2 backfill).
    pub fn content_without_decorators(&self) -> &str {
        parse_decorators(&self.content).1
    }
}

/// One `@@name value` decorator line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decorator {
    /// Name without the `@@`.
    pub name: String,
    /// Text after the first space (trimmed); empty when there is none.
    pub value: String,
    /// True for a `@@@` fallback line.
    pub fallback: bool,
}

/// Splits leading decorator lines off `content`. Parsing stops at the first line that
/// does not start with `@@`. Returns the decorators and the remaining text.
pub fn parse_decorators(content: &str) -> (Vec<Decorator>, &str) {
    let mut out = Vec::new();
    let mut rest = content;
    while rest.starts_with("@@") {
        let (line, next) = match rest.find('\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        let line = line.trim_end_matches('\r');
        let fallback = line.starts_with("@@@");
        let body = if fallback { &line[3..] } else { &line[2..] };
        let (name, value) = match body.find(' ') {
            Some(i) => (&body[..i], body[i + 1..].trim()),
            None => (body.trim(), ""),
        };
        out.push(Decorator { name: name.to_string(), value: value.to_string(), fallback });
        rest = next;
    }
    (out, rest)
}

/// Limits applied while reading a lorebook.
#[derive(Debug, Clone, Copy)]
pub struct LorebookLimits {
    /// Maximum number of entries (default 100,000).
    pub max_entries: usize,
}

impl Default for LorebookLimits {
    fn default() -> Self {
        LorebookLimits { max_entries: 100_000 }
    }
}

impl Lorebook {
    /// Reads a book object: a V2/V3 `character_book`, the `data` of a `lorebook_v3`
    /// file, or a SillyTavern World Info file (`entries` as an object keyed by uid, or
    /// an array). A bare array is read as the entry list.
    pub fn from_value(v: &Value, limits: &LorebookLimits, warnings: &mut Warnings) -> Result<Lorebook, Error> {
        Self::from_owned(v.clone(), limits, warnings)
    }

    /// Like [`Self::from_value`], taking the value (no copies of the strings).
    pub fn from_owned(v: Value, limits: &LorebookLimits, warnings: &mut Warnings) -> Result<Lorebook, Error> {
        let mut book = Lorebook::default();
        let entries_v: Option<Value> = match v {
            Value::Array(_) => Some(v),
            Value::Object(m) => {
                let mut entries = None;
                for (k, mut val) in m {
                    let ok = match k.as_str() {
                        "name" => {
                            book.name = lenient::take_string(&mut val);
                            book.name.is_some() || val.is_null()
                        }
                        "description" => {
                            book.description = lenient::take_string(&mut val);
                            book.description.is_some() || val.is_null()
                        }
                        "scan_depth" => {
                            book.scan_depth = lenient::int(&val);
                            book.scan_depth.is_some() || val.is_null()
                        }
                        "token_budget" => {
                            book.token_budget = lenient::int(&val);
                            book.token_budget.is_some() || val.is_null()
                        }
                        "recursive_scanning" => {
                            book.recursive_scanning = lenient::boolean(&val);
                            book.recursive_scanning.is_some() || val.is_null()
                        }
                        "extensions" => match &mut val {
                            Value::Object(x) => {
                                book.extensions = std::mem::take(x);
                                true
                            }
                            Value::Null => true,
                            _ => false,
                        },
                        "entries" => {
                            entries = Some(val);
                            continue;
                        }
                        _ => false,
                    };
                    if !ok {
                        book.extra.insert(k, val);
                    }
                }
                entries
            }
            _ => return Err(Error::new(ErrorCode::NotACard, "a lorebook must be a JSON object or array")),
        };
        match entries_v {
            Some(Value::Array(items)) => {
                check_count(items.len(), limits)?;
                book.entries.reserve(items.len());
                for (i, it) in items.into_iter().enumerate() {
                    book.entries.push(LorebookEntry::from_owned(it, i, warnings));
                }
            }
            Some(Value::Object(map)) => {
                // SillyTavern World Info: entries keyed by uid. Sort numerically by key (then textually).
                check_count(map.len(), limits)?;
                let mut items: Vec<(String, Value)> = map.into_iter().collect();
                crate::sort::by(&mut items, |a, b| match (a.0.parse::<i64>(), b.0.parse::<i64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    (Ok(_), Err(_)) => std::cmp::Ordering::Less,
                    (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
                    _ => a.0.cmp(&b.0),
                });
                book.entries.reserve(items.len());
                for (i, (k, it)) in items.into_iter().enumerate() {
                    let uid_given = it.get("uid").and_then(lenient::int).is_some();
                    let mut e = LorebookEntry::from_owned(it, i, warnings);
                    let has_uid = uid_given || matches!(e.id, Some(EntryId::Int(_)));
                    if !has_uid {
                        if let Ok(n) = k.parse::<i64>() {
                            e.uid = n;
                        }
                    }
                    book.entries.push(e);
                }
            }
            Some(Value::Null) | None => {}
            Some(other) => {
                warnings.push("lorebook_entries_invalid", "`entries` is neither an array nor an object; kept in extra");
                book.extra.insert("entries".into(), other);
            }
        }
        book.dedupe_uids(warnings);
        Ok(book)
    }

    /// Makes every `uid` unique: later duplicates get the next free number; the
    /// original value is kept in `extensions.original_uid`.
    fn dedupe_uids(&mut self, warnings: &mut Warnings) {
        let mut seen = std::collections::HashSet::with_capacity(self.entries.len());
        let mut dups = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            if !seen.insert(e.uid) {
                dups.push(i);
            }
        }
        if dups.is_empty() {
            return;
        }
        let mut next = self.entries.iter().map(|e| e.uid).max().unwrap_or(0).saturating_add(1);
        for i in dups {
            let e = &mut self.entries[i];
            warnings.push(
                "lorebook_duplicate_uid",
                format!("entry {i}: uid {} is used twice; renumbered to {next}", e.uid),
            );
            e.extensions.entry("original_uid".to_string()).or_insert(Value::from(e.uid));
            e.uid = next;
            if matches!(e.id, Some(EntryId::Int(_))) {
                e.id = Some(EntryId::Int(next));
            }
            next = next.saturating_add(1);
        }
    }

    /// Writes the V2/V3 `character_book` object (standard field names).
    pub fn to_v3_value(&self) -> Value {
        crate::card::ser::to_value(&crate::card::ser::BookV3(self))
    }

    /// Writes a SillyTavern World Info file: `{"entries": {"<uid>": {...}}, ...}`.
    /// Book-level V2 fields go into `extra`-style top-level keys so they survive.
    pub fn to_world_info_value(&self) -> Value {
        let mut m = JsonMap::new();
        let mut entries = JsonMap::new();
        for e in &self.entries {
            entries.insert(e.uid.to_string(), e.to_world_info_value());
        }
        m.insert("entries".into(), Value::Object(entries));
        if let Some(n) = &self.name {
            m.insert("name".into(), n.clone().into());
        }
        if let Some(d) = &self.description {
            m.insert("description".into(), d.clone().into());
        }
        if let Some(n) = self.scan_depth {
            m.insert("scan_depth".into(), n.into());
        }
        if let Some(n) = self.token_budget {
            m.insert("token_budget".into(), n.into());
        }
        if let Some(b) = self.recursive_scanning {
            m.insert("recursive_scanning".into(), b.into());
        }
        if !self.extensions.is_empty() {
            m.insert("extensions".into(), Value::Object(self.extensions.clone()));
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }
}

fn check_count(n: usize, limits: &LorebookLimits) -> Result<(), Error> {
    if n > limits.max_entries {
        return Err(Error::new(
            ErrorCode::TooLarge,
            format!("lorebook has {n} entries; the limit is {}", limits.max_entries),
        ));
    }
    Ok(())
}

impl Serialize for Lorebook {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::card::ser::BookV3(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Lorebook {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Lorebook::from_owned(v, &LorebookLimits::default(), &mut Warnings::default())
            .map_err(|e| serde::de::Error::custom(e.message()))
    }
}

impl Serialize for LorebookEntry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::card::ser::EntryV3(self, None).serialize(s)
    }
}

impl<'de> Deserialize<'de> for LorebookEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(LorebookEntry::from_owned(v, 0, &mut Warnings::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_world_info_file_directly() {
        let wi = json!({"entries": {"1": {"uid": 1, "key": ["castle"], "keysecondary": ["gate"], "comment": "Castle",
            "content": "Stone.", "constant": false, "selective": true, "selectiveLogic": 3, "order": 50, "position": 4,
            "disable": true, "excludeRecursion": true, "depth": 2, "role": 2, "probability": 40, "useProbability": true,
            "scanDepth": null, "caseSensitive": true, "matchWholeWords": null, "sticky": 3, "cooldown": null,
            "delayUntilRecursion": true, "triggers": ["normal"], "characterFilter": {"isExclude": true, "names": ["A"], "tags": []},
            "mystery": 7},
            "0": {"uid": 0, "key": ["x"], "content": "first"}}});
        let b: Lorebook = serde_json::from_value(wi).unwrap();
        assert_eq!(b.entries.len(), 2);
        assert_eq!(b.entries[0].uid, 0);
        let e = &b.entries[1];
        assert_eq!(e.uid, 1);
        assert_eq!(e.keys, vec!["castle"]);
        assert_eq!(e.secondary_keys, vec!["gate"]);
        assert_eq!(e.selective_logic, SelectiveLogic::AndAll);
        assert_eq!(e.order, 50);
        assert_eq!(e.position, Position::AtDepth);
        assert!(!e.enabled);
        assert!(e.exclude_recursion);
        assert_eq!(e.depth, 2);
        assert_eq!(e.role, Role::Assistant);
        assert_eq!(e.probability, 40.0);
        assert_eq!(e.scan_depth, None);
        assert_eq!(e.case_sensitive, Some(true));
        assert_eq!(e.sticky, Some(3));
        assert_eq!(e.delay_until_recursion, 1);
        assert_eq!(e.triggers, vec!["normal"]);
        assert!(e.character_filter.as_ref().unwrap().is_exclude);
        assert_eq!(e.extra.get("mystery"), Some(&json!(7)));
        // WI dialect: a missing `selective` defaults to true.
        assert!(b.entries[0].selective);
    }

    #[test]
    fn reads_v2_book_with_st_extensions_and_aliases() {
        let book = json!({"extensions": {}, "entries": [{"keys": ["a"], "content": "c", "enabled": true, "insertion_order": 7,
            "position": "after_char", "extensions": {"position": 4, "depth": 1, "excludeRecursion": true, "useProbability": false,
            "selectiveLogic": 2, "custom": {"k": 1}}}]});
        let mut w = Warnings::default();
        let b = Lorebook::from_value(&book, &LorebookLimits::default(), &mut w).unwrap();
        let e = &b.entries[0];
        assert_eq!(e.position, Position::AtDepth);
        assert_eq!(e.depth, 1);
        assert!(e.exclude_recursion);
        assert!(!e.use_probability);
        assert_eq!(e.selective_logic, SelectiveLogic::NotAny);
        assert!(!e.selective);
        assert_eq!(e.extensions.len(), 1, "only unknown extension keys remain: {:?}", e.extensions);
        // Round trip through the V3 dialect and the WI dialect.
        let again = Lorebook::from_value(&b.to_v3_value(), &LorebookLimits::default(), &mut w).unwrap();
        assert_eq!(again, b);
        let wi = Lorebook::from_value(&b.to_world_info_value(), &LorebookLimits::default(), &mut w).unwrap();
        assert_eq!(wi.entries[0].depth, 1);
        assert_eq!(wi.entries[0].position, Position::AtDepth);
        assert_eq!(wi.entries[0].extensions, e.extensions);
    }

    #[test]
    fn field_lookup_matches_the_table() {
        for (f, tops, exts, out) in ST_FIELDS {
            for t in tops.iter() {
                assert_eq!(top_field(t), Some(*f), "{t}");
            }
            for (i, x) in exts.iter().enumerate() {
                assert_eq!(ext_field(x), Some((*f, i)), "{x}");
            }
            assert!(exts.contains(out), "{out} is written but not read back");
        }
    }

    #[test]
    fn duplicate_uids_are_renumbered() {
        let mut w = Warnings::default();
        let b = Lorebook::from_value(
            &json!([{"id": 5, "keys": []}, {"id": 5, "keys": []}]),
            &LorebookLimits::default(),
            &mut w,
        )
        .unwrap();
        assert_eq!(b.entries[0].uid, 5);
        assert_eq!(b.entries[1].uid, 6);
        assert_eq!(b.entries[1].extensions["original_uid"], json!(5));
        assert!(!w.is_empty());
    }

    #[test]
    fn entry_limit_is_enforced() {
        let mut w = Warnings::default();
        let err = Lorebook::from_value(&json!([{}, {}, {}]), &LorebookLimits { max_entries: 2 }, &mut w).unwrap_err();
        assert_eq!(err.code(), ErrorCode::TooLarge);
    }

    #[test]
    fn decorators_parse_without_touching_content() {
        let e = LorebookEntry { content: "@@depth 3\n@@@role user\nHello".into(), ..Default::default() };
        let d = e.decorators();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0], Decorator { name: "depth".into(), value: "3".into(), fallback: false });
        assert!(d[1].fallback);
        assert_eq!(e.content_without_decorators(), "Hello");
        assert_eq!(e.content, "@@depth 3\n@@@role user\nHello");
    }
}
