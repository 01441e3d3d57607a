//! Version and build information (pure Rust).

use serde::Serialize;

/// The crate version, which is also the npm package version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What a running module reports about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildInfo {
    /// Crate / npm package version.
    pub version: &'static str,
    /// Package name.
    pub name: &'static str,
    /// `wasm32` in the browser, the host architecture in native tests.
    pub target_arch: &'static str,
    /// Whether debug assertions were compiled in.
    pub debug: bool,
}

/// Build information of this module.
pub fn build_info() -> BuildInfo {
    BuildInfo {
        version: VERSION,
        name: env!("CARGO_PKG_NAME"),
        target_arch: std::env::consts::ARCH,
        debug: cfg!(debug_assertions),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_semver_from_cargo() {
        let parts: Vec<_> = VERSION.split('.').collect();
        assert_eq!(parts.len(), 3, "{VERSION}");
        assert!(parts.iter().all(|p| p.parse::<u32>().is_ok()), "{VERSION}");
        let info = build_info();
        assert_eq!(info.version, VERSION);
        assert_eq!(info.name, "nextchat-tavern");
    }
}
