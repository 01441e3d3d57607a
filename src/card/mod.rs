//! Character card codec (issue #4): import every card format, export V3 PNG/JSON/CharX.

pub mod lenient;
pub mod warning;

pub use warning::{Warning, Warnings};
