//! The configuration system: typed settings with validation that reports every bad field,
//! partial updates (JSON merge patch), persistence through any [`Store`], and secrets (API keys,
//! passwords) kept apart — never in `Debug` output, never in backups unless asked for.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::Store;
use crate::{Error, ErrorCode, Result};

/// Settings key under which [`Settings`] are stored.
pub const SETTINGS_KEY: &str = "settings";
/// Settings key under which [`Secrets`] are stored (excluded from backups by default).
pub const SECRETS_KEY: &str = "secrets";

/// How to authenticate to a SillyTavern server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AuthMode {
    /// No authentication.
    #[default]
    None,
    /// HTTP basic auth (`basicAuthMode`).
    Basic,
    /// A user account (login form, session cookie).
    Account,
}

/// The SillyTavern connection.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Connection {
    /// Base URL, e.g. `http://127.0.0.1:8000`; empty when there is no server.
    pub url: String,
    /// Authentication mode.
    pub auth_mode: AuthMode,
    /// User name (basic / account); the password lives in [`Secrets`].
    pub username: String,
}

/// Where generation requests go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BackendKind {
    /// Through the SillyTavern server.
    SillyTavern,
    /// Directly to an OpenAI-compatible endpoint.
    #[default]
    OpenAi,
    /// A callback supplied by the host page (e.g. NextChat's own client).
    Host,
}

/// Generation backend and endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Backend {
    /// Which backend.
    pub kind: BackendKind,
    /// Base URL of the OpenAI-compatible endpoint (kind `openAi`).
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// Name of the API key in [`Secrets::api_keys`] to use.
    pub api_key_name: String,
}

/// The OpenAI-compatible endpoint a fresh configuration points at (the default backend kind
/// needs one, and the defaults must be valid: otherwise every partial update of a fresh store
/// would be rejected for a field the caller never touched).
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

impl Default for Backend {
    fn default() -> Self {
        Backend {
            kind: BackendKind::default(),
            base_url: DEFAULT_OPENAI_BASE_URL.to_string(),
            model: String::new(),
            api_key_name: String::new(),
        }
    }
}

/// Generation parameters; every field optional so that overrides can set just one.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Generation {
    /// Sampling temperature, 0–2.
    pub temperature: Option<f64>,
    /// Nucleus sampling, 0–1.
    pub top_p: Option<f64>,
    /// Reply length limit in tokens, 1–131072.
    pub max_tokens: Option<u32>,
    /// Context window in tokens, 256–2097152.
    pub context_size: Option<u32>,
    /// Stream replies.
    pub stream: Option<bool>,
}

/// Speech output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Voice {
    /// Read replies aloud.
    pub enabled: bool,
    /// `SpeechSynthesisVoice` name; empty = browser default.
    pub voice: String,
    /// Rate, 0.1–10.
    pub rate: f64,
    /// Pitch, 0–2.
    pub pitch: f64,
}

impl Default for Voice {
    fn default() -> Self {
        Voice { enabled: false, voice: String::new(), rate: 1.0, pitch: 1.0 }
    }
}

/// Colour scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ThemeMode {
    /// Follow the system.
    #[default]
    System,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

/// Theme preferences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Theme {
    /// Colour scheme.
    pub mode: ThemeMode,
    /// Accent colour as `#rrggbb`; empty = default.
    pub accent: String,
    /// Font scale, 0.5–3.
    pub font_scale: f64,
}

impl Default for Theme {
    fn default() -> Self {
        Theme { mode: ThemeMode::System, accent: String::new(), font_scale: 1.0 }
    }
}

/// All non-secret settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Settings {
    /// SillyTavern connection.
    pub connection: Connection,
    /// Generation backend.
    pub backend: Backend,
    /// Generation defaults.
    pub generation: Generation,
    /// Per-character overrides of the generation defaults, by character id.
    pub character_overrides: BTreeMap<String, Generation>,
    /// Per-chat overrides, by chat id (win over character overrides).
    pub chat_overrides: BTreeMap<String, Generation>,
    /// Voice.
    pub voice: Voice,
    /// Theme.
    pub theme: Theme,
}

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Dotted path, e.g. `generation.temperature`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn check_range<T: PartialOrd + fmt::Display + Copy>(errs: &mut Vec<FieldError>, path: &str, v: Option<T>, lo: T, hi: T) {
    if let Some(v) = v {
        if !(v >= lo && v <= hi) {
            errs.push(FieldError { path: path.into(), message: format!("must be between {lo} and {hi}, got {v}") });
        }
    }
}

fn check_url(errs: &mut Vec<FieldError>, path: &str, url: &str, required: bool) {
    if url.is_empty() {
        if required {
            errs.push(FieldError { path: path.into(), message: "is required for this backend".into() });
        }
        return;
    }
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.split("://").nth(1).is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
        && !url.chars().any(char::is_whitespace);
    if !ok {
        errs.push(FieldError { path: path.into(), message: format!("must be an http(s) URL, got {url:?}") });
    }
}

fn check_generation(errs: &mut Vec<FieldError>, prefix: &str, g: &Generation) {
    check_range(errs, &format!("{prefix}.temperature"), g.temperature, 0.0, 2.0);
    check_range(errs, &format!("{prefix}.topP"), g.top_p, 0.0, 1.0);
    check_range(errs, &format!("{prefix}.maxTokens"), g.max_tokens, 1, 131_072);
    check_range(errs, &format!("{prefix}.contextSize"), g.context_size, 256, 2_097_152);
}

impl Settings {
    /// Every problem, in field order (empty when valid).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let st_required = self.backend.kind == BackendKind::SillyTavern;
        check_url(&mut errs, "connection.url", &self.connection.url, st_required);
        if self.connection.auth_mode != AuthMode::None && self.connection.username.trim().is_empty() {
            errs.push(FieldError { path: "connection.username".into(), message: "is required for this auth mode".into() });
        }
        check_url(&mut errs, "backend.baseUrl", &self.backend.base_url, self.backend.kind == BackendKind::OpenAi);
        check_generation(&mut errs, "generation", &self.generation);
        for (id, g) in &self.character_overrides {
            check_generation(&mut errs, &format!("characterOverrides.{id}"), g);
        }
        for (id, g) in &self.chat_overrides {
            check_generation(&mut errs, &format!("chatOverrides.{id}"), g);
        }
        check_range(&mut errs, "voice.rate", Some(self.voice.rate), 0.1, 10.0);
        check_range(&mut errs, "voice.pitch", Some(self.voice.pitch), 0.0, 2.0);
        let a = &self.theme.accent;
        if !a.is_empty() && !(a.len() == 7 && a.starts_with('#') && a[1..].chars().all(|c| c.is_ascii_hexdigit())) {
            errs.push(FieldError { path: "theme.accent".into(), message: format!("must be #rrggbb, got {a:?}") });
        }
        check_range(&mut errs, "theme.fontScale", Some(self.theme.font_scale), 0.5, 3.0);
        errs
    }

    /// The generation parameters in effect for a chat: defaults, then the character's
    /// overrides, then the chat's.
    pub fn effective_generation(&self, character_id: Option<&str>, chat_id: Option<&str>) -> Generation {
        let mut g = self.generation.clone();
        let layers = [
            character_id.and_then(|id| self.character_overrides.get(id)),
            chat_id.and_then(|id| self.chat_overrides.get(id)),
        ];
        for o in layers.into_iter().flatten() {
            g.temperature = o.temperature.or(g.temperature);
            g.top_p = o.top_p.or(g.top_p);
            g.max_tokens = o.max_tokens.or(g.max_tokens);
            g.context_size = o.context_size.or(g.context_size);
            g.stream = o.stream.or(g.stream);
        }
        g
    }

    /// Applies a partial update (JSON merge patch, RFC 7396: objects merge, `null` removes)
    /// and validates the result; every bad field is reported in one `validation` error.
    pub fn patched(&self, patch: &Value) -> Result<Settings> {
        let (next, errs) = self.try_patch(patch);
        match next {
            Some(s) if errs.is_empty() => Ok(s),
            _ => Err(validation_error(&errs)),
        }
    }

    /// Like [`Settings::patched`] but returns the field errors instead of failing.
    pub fn try_patch(&self, patch: &Value) -> (Option<Settings>, Vec<FieldError>) {
        if !patch.is_object() {
            return (None, vec![FieldError { path: String::new(), message: "a settings update must be an object".into() }]);
        }
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        merge_patch(&mut v, patch);
        match serde_json::from_value::<Settings>(v.clone()) {
            Ok(s) => {
                let errs = s.validate();
                (Some(s), errs)
            }
            Err(_) => (None, shape_errors(&v)),
        }
    }
}

/// Type errors for every section that does not deserialise (serde stops at the first one, so
/// each section is tried on its own).
fn shape_errors(v: &Value) -> Vec<FieldError> {
    fn try_one<T: serde::de::DeserializeOwned>(errs: &mut Vec<FieldError>, path: &str, v: Option<&Value>) {
        if let Some(v) = v {
            if let Err(e) = serde_json::from_value::<T>(v.clone()) {
                errs.push(FieldError { path: path.into(), message: e.to_string() });
            }
        }
    }
    let mut errs = Vec::new();
    if let Value::Object(o) = v {
        for k in o.keys() {
            let known = ["connection", "backend", "generation", "characterOverrides", "chatOverrides", "voice", "theme"];
            if !known.contains(&k.as_str()) {
                errs.push(FieldError { path: k.clone(), message: "unknown setting".into() });
            }
        }
        try_one::<Connection>(&mut errs, "connection", o.get("connection"));
        try_one::<Backend>(&mut errs, "backend", o.get("backend"));
        try_one::<Generation>(&mut errs, "generation", o.get("generation"));
        try_one::<BTreeMap<String, Generation>>(&mut errs, "characterOverrides", o.get("characterOverrides"));
        try_one::<BTreeMap<String, Generation>>(&mut errs, "chatOverrides", o.get("chatOverrides"));
        try_one::<Voice>(&mut errs, "voice", o.get("voice"));
        try_one::<Theme>(&mut errs, "theme", o.get("theme"));
    }
    if errs.is_empty() {
        errs.push(FieldError { path: String::new(), message: "settings do not have the expected shape".into() });
    }
    errs
}

/// One `validation` error listing every field problem.
pub fn validation_error(errs: &[FieldError]) -> Error {
    let msg = errs.iter().map(|e| format!("{}: {}", e.path, e.message)).collect::<Vec<_>>().join("; ");
    Error::new(ErrorCode::Validation, msg)
}

/// RFC 7396 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    if let Value::Object(p) = patch {
        if !target.is_object() {
            *target = Value::Object(Default::default());
        }
        if let Value::Object(t) = target {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
    } else {
        *target = patch.clone();
    }
}

/// Secrets: API keys and passwords. Stored locally under [`SECRETS_KEY`]; `Debug` never shows
/// values; backups leave them out unless the user asks.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Secrets {
    /// API keys by name (e.g. `openai`).
    pub api_keys: BTreeMap<String, String>,
    /// SillyTavern password (basic / account auth).
    pub sillytavern_password: Option<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("api_keys", &self.api_keys.keys().collect::<Vec<_>>())
            .field("sillytavern_password", &self.sillytavern_password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Secrets {
    /// The names of the stored keys, with whether each is set — what a UI may show.
    pub fn summary(&self) -> BTreeMap<String, bool> {
        self.api_keys.iter().map(|(k, v)| (k.clone(), !v.is_empty())).collect()
    }
}

/// Loads the settings (defaults when none were saved; unknown or broken stored fields fall
/// back to defaults rather than locking the user out).
pub async fn load<S: Store>(store: &S) -> Result<Settings> {
    let Some(e) = store.get_setting(SETTINGS_KEY).await? else { return Ok(Settings::default()) };
    Ok(serde_json::from_value(e.value.clone()).unwrap_or_else(|_| {
        let mut s = Settings::default();
        let mut v = serde_json::to_value(&s).unwrap_or(Value::Null);
        merge_patch(&mut v, &e.value);
        if let Ok(x) = serde_json::from_value(v) {
            s = x;
        }
        s
    }))
}

/// Applies a partial update, validates it and saves it; returns the new settings.
pub async fn update<S: Store>(store: &S, patch: &Value) -> Result<Settings> {
    let next = load(store).await?.patched(patch)?;
    let v = serde_json::to_value(&next).map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
    store.put_setting(SETTINGS_KEY, v).await?;
    Ok(next)
}

/// Loads the secrets.
pub async fn load_secrets<S: Store>(store: &S) -> Result<Secrets> {
    Ok(store
        .get_setting(SECRETS_KEY)
        .await?
        .and_then(|e| serde_json::from_value(e.value).ok())
        .unwrap_or_default())
}

/// Sets (or, with `None`, removes) one API key.
pub async fn set_api_key<S: Store>(store: &S, name: &str, key: Option<&str>) -> Result<()> {
    if name.trim().is_empty() {
        return Err(validation_error(&[FieldError { path: "name".into(), message: "must not be empty".into() }]));
    }
    let mut s = load_secrets(store).await?;
    match key {
        Some(k) => s.api_keys.insert(name.to_string(), k.to_string()),
        None => s.api_keys.remove(name),
    };
    let v = serde_json::to_value(&s).map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
    store.put_setting(SECRETS_KEY, v).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_valid() {
        // Regression: the default backend (openAi) required a base URL the defaults did not
        // have, so every partial update of a fresh store failed on `backend.baseUrl`.
        assert_eq!(Settings::default().validate(), vec![]);
        let s = Settings::default().patched(&json!({"theme": {"mode": "dark"}})).unwrap();
        assert_eq!(s.theme.mode, ThemeMode::Dark);
    }

    #[test]
    fn validation_reports_every_bad_field() {
        let s = Settings::default();
        let patch = json!({
            "connection": {"url": "ftp://x", "authMode": "basic"},
            "backend": {"kind": "sillyTavern"},
            "generation": {"temperature": 3.5, "topP": -1},
            "chatOverrides": {"c1": {"maxTokens": 0}},
            "theme": {"accent": "red", "fontScale": 9},
        });
        let (_, errs) = s.try_patch(&patch);
        let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "connection.url",
                "connection.username",
                "generation.temperature",
                "generation.topP",
                "chatOverrides.c1.maxTokens",
                "theme.accent",
                "theme.fontScale"
            ]
        );
        let e = s.patched(&patch).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Validation);
        assert!(e.message().contains("theme.fontScale") && e.message().contains("connection.url"));
    }

    #[test]
    fn shape_errors_name_each_bad_section() {
        let (_, errs) = Settings::default().try_patch(&json!({"voice": {"rate": "fast"}, "theme": {"mode": "neon"}, "colour": 1}));
        let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["colour", "voice", "theme"]);
    }

    #[test]
    fn partial_updates_merge_and_null_removes() {
        let mut s = Settings::default();
        s.backend.base_url = "https://a.example/v1".into();
        let s = s.patched(&json!({"generation": {"temperature": 0.7}, "chatOverrides": {"c": {"temperature": 1.2}}})).unwrap();
        let s = s.patched(&json!({"generation": {"maxTokens": 300}})).unwrap();
        assert_eq!((s.generation.temperature, s.generation.max_tokens), (Some(0.7), Some(300)));
        assert_eq!(s.effective_generation(None, Some("c")).temperature, Some(1.2));
        assert_eq!(s.effective_generation(None, Some("c")).max_tokens, Some(300));
        let s = s.patched(&json!({"chatOverrides": {"c": null}})).unwrap();
        assert!(s.chat_overrides.is_empty());
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let mut s = Secrets::default();
        s.api_keys.insert("openai".into(), "sk-secret-123".into());
        s.sillytavern_password = Some("hunter2".into());
        let d = format!("{s:?}");
        assert!(!d.contains("sk-secret") && !d.contains("hunter2"), "{d}");
        assert!(d.contains("openai"));
    }
}
