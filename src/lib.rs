//! # nextchat-tavern
//!
//! A SillyTavern-class character roleplay engine for the browser, compiled to
//! WebAssembly. The crate is layered (see `ARCHITECTURE.md`):
//!
//! * a **pure core** — plain Rust with no web-sys, tested natively with `cargo test`;
//! * **browser edges** — IndexedDB, fetch, DOM, behind small traits;
//! * the **API layer** ([`api`], `wasm32` only) — wasm-bindgen functions that only convert types.

#![warn(missing_docs)]

pub mod card;
pub mod civil;
pub mod client;
pub mod error;
pub mod lorebook;
pub mod macros;
pub mod prompt;
pub mod settings;
pub mod sort;
pub mod store;
pub mod thumbnail;
pub mod version;
pub mod worldinfo;

#[cfg(target_arch = "wasm32")]
pub mod api;
#[cfg(target_arch = "wasm32")]
pub mod jsjson;
#[cfg(target_arch = "wasm32")]
pub mod net;

pub use error::{Error, ErrorCode, Result};
pub use version::VERSION;
