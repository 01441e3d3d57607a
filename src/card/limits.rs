//! Safety limits for reading untrusted files. Every limit is explicit and
//! configurable; the defaults fit real cards (20 MB PNGs, 200 MB CharX) while
//! stopping bombs early. Exceeding a limit is a `too_large` error (JSON nesting:
//! `bad_json`).

use serde::{Deserialize, Serialize};

/// Import limits. All sizes are in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Limits {
    /// Largest accepted input file (default 256 MiB).
    pub max_input_bytes: usize,
    /// Largest total of inflated bytes (zTXt/iTXt chunks, zip members) per import (default 512 MiB).
    pub max_decompressed_bytes: usize,
    /// Largest single card/lorebook JSON text, after base64/inflate (default 64 MiB).
    pub max_json_bytes: usize,
    /// Most entries in a zip (CharX/BYAF) central directory (default 10,000).
    pub max_zip_entries: usize,
    /// Deepest JSON nesting of arrays/objects (default 128; serde_json's own hard cap is 128).
    pub max_json_depth: usize,
    /// Most lorebook entries in one book (default 100,000).
    pub max_lorebook_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 256 << 20,
            max_decompressed_bytes: 512 << 20,
            max_json_bytes: 64 << 20,
            max_zip_entries: 10_000,
            max_json_depth: 128,
            max_lorebook_entries: 100_000,
        }
    }
}

impl Limits {
    pub(crate) fn lorebook(&self) -> crate::lorebook::LorebookLimits {
        crate::lorebook::LorebookLimits { max_entries: self.max_lorebook_entries }
    }
}

/// Tracks the decompression budget ([`Limits::max_decompressed_bytes`]) across one import.
#[derive(Debug)]
pub struct Budget {
    /// Bytes that may still be inflated.
    pub left: usize,
}

impl Budget {
    /// A fresh budget for one import.
    pub fn new(l: &Limits) -> Self {
        Budget { left: l.max_decompressed_bytes }
    }
    /// Largest amount that may be inflated next: min(per-item cap, what is left).
    pub fn cap(&self, per_item: usize) -> usize {
        per_item.min(self.left)
    }
    /// Records inflated bytes.
    pub fn spend(&mut self, n: usize) {
        self.left = self.left.saturating_sub(n);
    }
}
