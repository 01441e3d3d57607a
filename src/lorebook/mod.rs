//! The one lorebook model and lorebook file formats.
//!
//! * [`model`]: [`Lorebook`] / [`LorebookEntry`], a superset of V2/V3 `character_book`
//!   and SillyTavern World Info entries (the World Info engine runs on it).
//! * [`formats`]: reading and writing lorebook files (SillyTavern World Info,
//!   `lorebook_v3`, a bare `character_book`, Agnai memory books, NovelAI, RisuAI).

pub mod model;

pub use model::{
    parse_decorators, CharacterFilter, Decorator, EntryId, JsonMap, Lorebook, LorebookEntry, LorebookLimits, Position,
    Role, SelectiveLogic,
};

pub mod formats;

pub use formats::{export_lorebook, import_lorebook, ImportedLorebook, LorebookExportFormat, LorebookFormat};
