//! Import/export warnings: every fix-up of a quirky input is reported, never silent.
//!
//! A [`Warning`] has a stable machine-readable `code` (snake_case, usually naming the
//! quirk, e.g. `tags_coerced`) and a `message` written for the person reading it
//! (what was wrong and what was done, without internal references). Warnings never stop an import; errors do.

use serde::{Deserialize, Serialize};

/// One fix-up or lossy step taken while reading or writing a card or lorebook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// Stable snake_case code (e.g. `tags_csv`, `lossy_utf8`, `empty_name`).
    pub code: String,
    /// Human-readable explanation (may change between versions).
    pub message: String,
}

impl Warning {
    /// Builds a warning.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Warning { code: code.to_string(), message: message.into() }
    }
}

/// A sink for warnings, shared by all readers.
#[derive(Debug, Default, Clone)]
pub struct Warnings(pub Vec<Warning>);

impl Warnings {
    /// Adds a warning.
    pub fn push(&mut self, code: &str, message: impl Into<String>) {
        // Cap the list: a 5,000-entry lorebook with the same quirk on every entry
        // must not produce 5,000 warnings.
        const MAX: usize = 200;
        if self.0.len() < MAX {
            self.0.push(Warning::new(code, message));
        } else if self.0.len() == MAX {
            self.0.push(Warning::new("too_many_warnings", "further warnings were suppressed"));
        }
    }
    /// True when no warning was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The collected warnings.
    pub fn into_vec(self) -> Vec<Warning> {
        self.0
    }
}
