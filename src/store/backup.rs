//! The backup format: JSON lines, written and read one item at a time.
//!
//! ```text
//! {"format":"nextchat-tavern-backup","formatVersion":1,"schemaVersion":2,"createdAt":…,"includesSecrets":false}
//! {"t":"record","store":"characters","record":{…}}
//! {"t":"asset","id":"…","base64":"…"}
//! {"t":"setting","entry":{"key":"…","value":…,"rev":1,"updatedAt":…}}
//! {"t":"end","items":123}
//! ```
//! The trailer's item count lets an import reject a truncated file before writing anything.

use base64::Engine as _;
use serde_json::{json, Value};

use super::schema::{self, SettingEntry, SCHEMA_VERSION};
use super::BackupItem;
use crate::{Error, ErrorCode, Result};

/// The `format` value of the header line.
pub const FORMAT: &str = "nextchat-tavern-backup";
/// The newest backup format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Writes backup lines to a sink.
pub struct Writer<'a> {
    sink: &'a mut dyn FnMut(String) -> Result<()>,
    items: usize,
}

impl<'a> Writer<'a> {
    /// Writes the header line.
    pub fn new(sink: &'a mut dyn FnMut(String) -> Result<()>, now_ms: i64, include_secrets: bool) -> Result<Self> {
        let header = json!({
            "format": FORMAT,
            "formatVersion": FORMAT_VERSION,
            "schemaVersion": SCHEMA_VERSION,
            "createdAt": now_ms,
            "includesSecrets": include_secrets,
        });
        sink(format!("{header}\n"))?;
        Ok(Writer { sink, items: 0 })
    }

    /// Writes one item line.
    pub fn item(&mut self, item: &BackupItem) -> Result<()> {
        let v = match item {
            BackupItem::Record { store, record } => json!({"t": "record", "store": store, "record": record}),
            BackupItem::AssetBytes { id, bytes } => {
                json!({"t": "asset", "id": id, "base64": base64::engine::general_purpose::STANDARD.encode(bytes)})
            }
            BackupItem::Setting(s) => json!({"t": "setting", "entry": s}),
        };
        self.items += 1;
        (self.sink)(format!("{v}\n"))
    }

    /// Writes the trailer; returns the item count.
    pub fn finish(self) -> Result<usize> {
        (self.sink)(format!("{}\n", json!({"t": "end", "items": self.items})))?;
        Ok(self.items)
    }
}

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::UnsupportedFormat, msg)
}

/// Parses a whole backup; fails without side effects on a foreign, newer or truncated file.
pub fn parse(text: &str) -> Result<Vec<BackupItem>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Value = lines
        .next()
        .ok_or_else(|| Error::new(ErrorCode::Truncated, "the backup is empty"))
        .and_then(|l| serde_json::from_str(l).map_err(|e| Error::new(ErrorCode::BadJson, format!("backup header: {e}"))))?;
    if header.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(bad("not a nextchat-tavern backup (no \"format\" header)"));
    }
    let fv = header.get("formatVersion").and_then(Value::as_u64).unwrap_or(0);
    if fv == 0 || fv > u64::from(FORMAT_VERSION) {
        return Err(bad(format!("backup format version {fv} is not supported by this build (max {FORMAT_VERSION})")));
    }
    let sv = header.get("schemaVersion").and_then(Value::as_u64).unwrap_or(0);
    if sv > u64::from(SCHEMA_VERSION) {
        return Err(bad(format!("the backup was made by a newer version (schema {sv} > {SCHEMA_VERSION})")));
    }
    let mut items = Vec::new();
    let mut ended = false;
    for (n, line) in lines.enumerate() {
        if ended {
            return Err(bad("data after the end of the backup"));
        }
        let v: Value = serde_json::from_str(line)
            .map_err(|e| Error::new(ErrorCode::BadJson, format!("backup line {}: {e}", n + 2)))?;
        let at = |what: &str| bad(format!("backup line {}: {what}", n + 2));
        match v.get("t").and_then(Value::as_str) {
            Some("record") => {
                let store = v.get("store").and_then(Value::as_str).ok_or_else(|| at("no store"))?;
                if !schema::stores::RECORD_STORES.contains(&store) && store != schema::stores::MESSAGES {
                    return Err(at(&format!("unknown store {store:?}")));
                }
                let record = v.get("record").filter(|r| r.is_object()).cloned().ok_or_else(|| at("no record"))?;
                items.push(BackupItem::Record { store: store.to_string(), record });
            }
            Some("asset") => {
                let id = v.get("id").and_then(Value::as_str).ok_or_else(|| at("no asset id"))?;
                let b64 = v.get("base64").and_then(Value::as_str).ok_or_else(|| at("no asset bytes"))?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| at(&format!("bad base64: {e}")))?;
                items.push(BackupItem::AssetBytes { id: id.to_string(), bytes });
            }
            Some("setting") => {
                let entry: SettingEntry = v
                    .get("entry")
                    .cloned()
                    .and_then(|e| serde_json::from_value(e).ok())
                    .ok_or_else(|| at("bad setting"))?;
                items.push(BackupItem::Setting(entry));
            }
            Some("end") => {
                let count = v.get("items").and_then(Value::as_u64).unwrap_or(u64::MAX);
                if count != items.len() as u64 {
                    return Err(Error::new(
                        ErrorCode::Truncated,
                        format!("the backup says {count} items but has {}", items.len()),
                    ));
                }
                ended = true;
            }
            _ => return Err(at("unknown item type")),
        }
    }
    if !ended {
        return Err(Error::new(ErrorCode::Truncated, "the backup has no end line (truncated download?)"));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        let mut out = String::new();
        let mut sink = |s: String| {
            out.push_str(&s);
            Ok(())
        };
        let mut w = Writer::new(&mut sink, 5, false).unwrap();
        w.item(&BackupItem::Record { store: "characters".into(), record: json!({"id":"a"}) }).unwrap();
        w.item(&BackupItem::AssetBytes { id: "x".into(), bytes: vec![0, 1, 255] }).unwrap();
        assert_eq!(w.finish().unwrap(), 2);
        out
    }

    #[test]
    fn round_trips() {
        let items = parse(&sample()).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1], BackupItem::AssetBytes { id: "x".into(), bytes: vec![0, 1, 255] });
    }

    #[test]
    fn rejects_truncated_foreign_and_newer_files() {
        let s = sample();
        let cut: String = s.lines().take(2).map(|l| format!("{l}\n")).collect();
        assert_eq!(parse(&cut).unwrap_err().code(), ErrorCode::Truncated);
        assert_eq!(parse("{\"hello\":1}").unwrap_err().code(), ErrorCode::UnsupportedFormat);
        let newer = s.replacen("\"formatVersion\":1", "\"formatVersion\":9", 1);
        assert_eq!(parse(&newer).unwrap_err().code(), ErrorCode::UnsupportedFormat);
        assert_eq!(parse("").unwrap_err().code(), ErrorCode::Truncated);
    }
}
