//! World Info (lorebook) activation with SillyTavern 1.19 semantics (issue #5).
