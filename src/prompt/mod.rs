//! Prompt assembly: chat completion and text completion (issue #5).
