//! The wasm-bindgen API layer: converts types between JS and the pure core,
//! and holds no logic of its own. Compiled for `wasm32` only.
//!
//! JS naming: camelCase functions, Promises for anything async, errors thrown
//! as `TavernError` objects (see [`error`]).

pub mod card;
pub mod client;
pub mod engine;
pub mod error;
pub mod generate;
pub mod store;

use wasm_bindgen::prelude::*;

use crate::version;

/// Runs once when the module is instantiated (`init()` / `initSync()`):
/// routes Rust panics to `console.error` with a readable message.
#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[wasm_bindgen(typescript_custom_section)]
const TS_BUILD_INFO: &'static str = r#"
/** What the loaded module reports about itself. */
export interface BuildInfo {
  /** Package version (same as `version()`). */
  version: string;
  /** Package name, `"nextchat-tavern"`. */
  name: string;
  /** `"wasm32"` in browsers and Node. */
  targetArch: string;
  /** True for a debug build. */
  debug: boolean;
}
"#;

/// The package version, e.g. `"0.1.0"`.
#[wasm_bindgen]
pub fn version() -> String {
    version::VERSION.to_string()
}

/// Version and build details of the loaded module.
#[wasm_bindgen(js_name = buildInfo, unchecked_return_type = "BuildInfo")]
pub fn build_info() -> Result<JsValue, JsValue> {
    error::to_js_value(&version::build_info())
}
