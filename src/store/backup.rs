//! The backup format: JSON lines, written and read one item at a time.
//!
//! ```text
//! {"format":"nextchat-tavern-backup","formatVersion":1,"schemaVersion":2,"createdAt":…,"includesSecrets":false}
//! {"t":"record","store":"characters","record":{…}}
//! {"t":"asset","id":"…","base64":"…"}
//! {"t":"setting","entry":{"key":"…","value":…,"rev":1,"updatedAt":…}}
//! {"t":"end","items":123}
//! ```
//! The trailer's item count lets an import tell a complete file from a truncated one.
//!
//! Reading is incremental: a [`Reader`] takes the bytes in chunks of any size (a line, or a
//! multi-byte character, may be split across chunks — lines are cut at `\n` bytes, which never
//! occur inside a UTF-8 sequence), hands out each item as soon as its line is complete, and
//! checks the header on the first line, so a foreign or newer backup is rejected before any
//! item is seen. Every item is checked as it is read (known store, a record that reads back as
//! its record type, an id, valid base64, …); errors name the (1-based, physical) line. Memory
//! is one line plus the unread rest of the last chunk. Blank lines, a leading BOM and `\r\n`
//! line ends are accepted.

use std::ops::ControlFlow;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::schema::{self, stores, SettingEntry, SCHEMA_VERSION};
use super::BackupItem;
use crate::{Error, ErrorCode, Result};

/// The `format` value of the header line.
pub const FORMAT: &str = "nextchat-tavern-backup";
/// The newest backup format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The longest line a [`Reader`] accepts by default (256 MiB: an asset of ~190 MB in base64).
pub const DEFAULT_MAX_LINE_BYTES: usize = 256 << 20;

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

/// The header line of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// Backup format version (1 ..= [`FORMAT_VERSION`]).
    pub format_version: u32,
    /// Schema version of the store that wrote it (at most [`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// When it was written (ms), if it says.
    pub created_at: Option<i64>,
    /// Whether secret settings (API keys) are included.
    pub includes_secrets: bool,
}

fn parse_header(line: u64, text: &str) -> Result<Header> {
    let header: Value = serde_json::from_str(text)
        .map_err(|e| Error::new(ErrorCode::BadJson, format!("backup header (line {line}): {e}")))?;
    if header.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(bad("not a nextchat-tavern backup (no \"format\" header)"));
    }
    let fv = header.get("formatVersion").and_then(Value::as_u64).unwrap_or(0);
    if fv == 0 || fv > u64::from(FORMAT_VERSION) {
        return Err(bad(format!("backup format version {fv} is not supported by this build (max {FORMAT_VERSION})")));
    }
    let sv = header.get("schemaVersion").and_then(Value::as_u64).unwrap_or(0);
    if sv > u64::from(SCHEMA_VERSION) {
        return Err(bad(format!(
            "the backup was made by a newer version (schema {sv} > {SCHEMA_VERSION}); update this app to import it"
        )));
    }
    Ok(Header {
        format_version: fv as u32,
        schema_version: sv as u32,
        created_at: header.get("createdAt").and_then(Value::as_i64),
        includes_secrets: header.get("includesSecrets").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// Checks that a record reads back as its record type (a record that does not would make
/// every later listing of its store fail) and that it has an id.
fn check_record(store: &str, record: &Value) -> std::result::Result<(), String> {
    // `from_value` on a copy, not `T::deserialize(&Value)`: the stores already read records
    // with it, so this adds no new deserializer code to the wasm module.
    fn de<T: serde::de::DeserializeOwned>(v: &Value) -> std::result::Result<(), String> {
        serde_json::from_value::<T>(v.clone()).map(drop).map_err(|e| e.to_string())
    }
    match store {
        stores::CHARACTERS => de::<schema::Character>(record)?,
        stores::ASSETS => de::<schema::Asset>(record)?,
        stores::LOREBOOKS => de::<schema::Lorebook>(record)?,
        stores::CHATS => de::<schema::Chat>(record)?,
        stores::GROUPS => de::<schema::Group>(record)?,
        stores::MEMORIES => de::<schema::Memory>(record)?,
        stores::SCENARIOS => de::<schema::ScenarioState>(record)?,
        stores::MESSAGES => return de::<schema::Message>(record),
        other => return Err(format!("unknown store {other:?}")),
    }
    match record.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => Ok(()),
        _ => Err(format!("a {store} record without id")),
    }
}

/// What the reader knows apart from its byte buffer.
#[derive(Debug, Default)]
struct State {
    header: Option<Header>,
    items: usize,
    ended: bool,
}

impl State {
    /// Parses one complete line (without its `\n`); `Ok(None)` for the header, blank lines
    /// and the trailer.
    fn line(&mut self, n: u64, raw: &[u8]) -> Result<Option<BackupItem>> {
        let mut raw = raw;
        if n == 1 {
            raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
        }
        raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = std::str::from_utf8(raw)
            .map_err(|e| Error::new(ErrorCode::BadJson, format!("backup line {n}: not valid UTF-8 ({e})")))?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        if self.header.is_none() {
            self.header = Some(parse_header(n, text)?);
            return Ok(None);
        }
        if self.ended {
            return Err(bad(format!("backup line {n}: data after the end of the backup")));
        }
        let v: Value =
            serde_json::from_str(text).map_err(|e| Error::new(ErrorCode::BadJson, format!("backup line {n}: {e}")))?;
        let at = |what: &str| bad(format!("backup line {n}: {what}"));
        let invalid = |what: &str| Error::new(ErrorCode::Validation, format!("backup line {n}: {what}"));
        let item = match v.get("t").and_then(Value::as_str) {
            Some("record") => {
                let store = v.get("store").and_then(Value::as_str).ok_or_else(|| at("no store"))?.to_string();
                if !stores::RECORD_STORES.contains(&store.as_str()) && store != stores::MESSAGES {
                    return Err(at(&format!("unknown store {store:?}")));
                }
                let Some(Value::Object(_)) = v.get("record") else { return Err(at("no record")) };
                let Value::Object(mut obj) = v else { return Err(at("not an object")) };
                let record = obj.remove("record").unwrap_or(Value::Null);
                check_record(&store, &record).map_err(|e| invalid(&format!("bad {store} record: {e}")))?;
                BackupItem::Record { store, record }
            }
            Some("asset") => {
                let id =
                    v.get("id").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| at("no asset id"))?;
                let b64 = v.get("base64").and_then(Value::as_str).ok_or_else(|| at("no asset bytes"))?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| at(&format!("bad base64: {e}")))?;
                BackupItem::AssetBytes { id: id.to_string(), bytes }
            }
            Some("setting") => {
                let entry: SettingEntry = v
                    .get("entry")
                    .and_then(|e| serde_json::from_value(e.clone()).ok())
                    .ok_or_else(|| at("bad setting"))?;
                BackupItem::Setting(entry)
            }
            Some("end") => {
                let count = v.get("items").and_then(Value::as_u64).unwrap_or(u64::MAX);
                if count != self.items as u64 {
                    return Err(Error::new(
                        ErrorCode::Truncated,
                        format!("backup line {n}: the backup says {count} items but has {}", self.items),
                    ));
                }
                self.ended = true;
                return Ok(None);
            }
            _ => return Err(at("unknown item type")),
        };
        self.items += 1;
        Ok(Some(item))
    }
}

/// What a complete backup held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Its header.
    pub header: Header,
    /// Items between header and trailer.
    pub items: usize,
}

/// Incremental backup reader: [`push`](Reader::push) bytes as they arrive, take items with
/// [`next_item`](Reader::next_item), call [`end_input`](Reader::end_input) at the end of the
/// input, take the last items, then [`finish`](Reader::finish) checks that the file was complete.
///
/// Any split of the same bytes into chunks gives the same items and the same error.
#[derive(Debug)]
pub struct Reader {
    buf: Vec<u8>,
    /// Start of the unread part of `buf`.
    start: usize,
    /// Bytes after `start` already known to hold no `\n`.
    scanned: usize,
    /// Physical lines taken so far.
    lines: u64,
    /// Bytes pushed so far.
    bytes: u64,
    /// Length of the line of the last item (bytes).
    last_line: usize,
    input_done: bool,
    max_line: usize,
    state: State,
}

impl Default for Reader {
    fn default() -> Self {
        Reader::new()
    }
}

impl Reader {
    /// A reader with the default line limit ([`DEFAULT_MAX_LINE_BYTES`]).
    pub fn new() -> Self {
        Reader::with_max_line_bytes(DEFAULT_MAX_LINE_BYTES)
    }

    /// A reader that rejects lines longer than `max` bytes with `too_large`.
    pub fn with_max_line_bytes(max: usize) -> Self {
        Reader {
            buf: Vec::new(),
            start: 0,
            scanned: 0,
            lines: 0,
            bytes: 0,
            last_line: 0,
            input_done: false,
            max_line: max.max(1),
            state: State::default(),
        }
    }

    /// Appends the next chunk of input.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
        self.bytes += chunk.len() as u64;
    }

    /// Marks the end of the input: a last line without `\n` becomes readable.
    pub fn end_input(&mut self) {
        self.input_done = true;
    }

    /// Bytes pushed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Items read so far.
    pub fn items(&self) -> usize {
        self.state.items
    }

    /// Physical lines read so far (the line of the last item or error).
    pub fn line(&self) -> u64 {
        self.lines
    }

    /// Bytes of the line the last item came from.
    pub fn last_line_bytes(&self) -> usize {
        self.last_line
    }

    /// The header, once its line has been read.
    pub fn header(&self) -> Option<&Header> {
        self.state.header.as_ref()
    }

    fn too_long(&self, n: u64) -> Error {
        Error::new(ErrorCode::TooLarge, format!("backup line {n} is longer than {} bytes", self.max_line))
    }

    /// The next complete line, as a range of `buf`.
    fn take_line(&mut self) -> Result<Option<(usize, usize)>> {
        let from = self.start + self.scanned;
        if let Some(i) = self.buf[from..].iter().position(|&b| b == b'\n') {
            let (s, e) = (self.start, from + i);
            self.lines += 1;
            if e - s > self.max_line {
                return Err(self.too_long(self.lines));
            }
            self.start = e + 1;
            self.scanned = 0;
            return Ok(Some((s, e)));
        }
        self.scanned = self.buf.len() - self.start;
        if self.scanned > self.max_line {
            return Err(self.too_long(self.lines + 1));
        }
        if self.input_done && self.scanned > 0 {
            let (s, e) = (self.start, self.buf.len());
            self.lines += 1;
            self.start = e;
            self.scanned = 0;
            return Ok(Some((s, e)));
        }
        Ok(None)
    }

    /// The next item whose line is complete, or `None` when more input is needed (or, after
    /// [`end_input`](Reader::end_input), when the input is exhausted).
    pub fn next_item(&mut self) -> Result<Option<BackupItem>> {
        while let Some((s, e)) = self.take_line()? {
            if let Some(item) = self.state.line(self.lines, &self.buf[s..e])? {
                self.last_line = e - s + 1;
                return Ok(Some(item));
            }
        }
        if self.input_done {
            self.buf = Vec::new();
            self.start = 0;
        }
        Ok(None)
    }

    /// Checks, after the input ended and every item was taken, that the backup was complete.
    pub fn finish(&mut self) -> Result<Summary> {
        if !self.input_done || self.start < self.buf.len() {
            return Err(Error::new(ErrorCode::Internal, "backup reader finished before its input was read"));
        }
        let Some(header) = self.state.header.clone() else {
            return Err(Error::new(ErrorCode::Truncated, "the backup is empty"));
        };
        if !self.state.ended {
            return Err(Error::new(
                ErrorCode::Truncated,
                format!("the backup has no end line after {} items (truncated download?)", self.state.items),
            ));
        }
        Ok(Summary { header, items: self.state.items })
    }
}

/// Parses a whole backup; fails on a foreign, newer, malformed or truncated file.
pub fn parse(text: &str) -> Result<Vec<BackupItem>> {
    parse_chunked(text.as_bytes(), usize::MAX)
}

/// Parses a whole backup handed to a [`Reader`] in pieces of `chunk` bytes (tests, fuzzing).
pub fn parse_chunked(bytes: &[u8], chunk: usize) -> Result<Vec<BackupItem>> {
    read_all(Reader::new(), bytes, chunk)
}

/// Feeds `bytes` to `r` in pieces of `chunk` bytes and collects every item.
pub fn read_all(mut r: Reader, bytes: &[u8], chunk: usize) -> Result<Vec<BackupItem>> {
    let mut items = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        r.push(piece);
        while let Some(item) = r.next_item()? {
            items.push(item);
        }
    }
    r.end_input();
    while let Some(item) = r.next_item()? {
        items.push(item);
    }
    r.finish()?;
    Ok(items)
}

/// A source of backup bytes read chunk by chunk: a `Blob`, a `ReadableStream` or bytes in the
/// browser (`store::web`), a slice natively ([`SliceSource`]).
#[allow(async_fn_in_trait)]
pub trait ChunkSource {
    /// The next chunk, or `None` at the end.
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>>;
    /// The total size in bytes, when known in advance.
    fn total_bytes(&self) -> Option<u64> {
        None
    }
    /// Whether [`rewind`](ChunkSource::rewind) works (a `Blob` or bytes: yes; a stream: no).
    fn can_rewind(&self) -> bool {
        false
    }
    /// Starts again from the first byte.
    async fn rewind(&mut self) -> Result<()> {
        Err(Error::invalid_argument("this backup source can be read only once"))
    }
}

/// A [`ChunkSource`] over bytes in memory, handed out `chunk` bytes at a time.
#[derive(Debug)]
pub struct SliceSource<'a> {
    data: &'a [u8],
    pos: usize,
    chunk: usize,
    rewindable: bool,
}

impl<'a> SliceSource<'a> {
    /// Chunks of `chunk` bytes (at least 1).
    pub fn new(data: &'a [u8], chunk: usize) -> Self {
        SliceSource { data, pos: 0, chunk: chunk.max(1), rewindable: true }
    }

    /// The same, but readable only once (like a `ReadableStream`).
    pub fn once(data: &'a [u8], chunk: usize) -> Self {
        SliceSource { rewindable: false, ..SliceSource::new(data, chunk) }
    }
}

impl ChunkSource for SliceSource<'_> {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        if self.pos >= self.data.len() {
            return Ok(None);
        }
        let end = self.pos.saturating_add(self.chunk).min(self.data.len());
        let out = self.data[self.pos..end].to_vec();
        self.pos = end;
        Ok(Some(out))
    }
    fn total_bytes(&self) -> Option<u64> {
        Some(self.data.len() as u64)
    }
    fn can_rewind(&self) -> bool {
        self.rewindable
    }
    async fn rewind(&mut self) -> Result<()> {
        if !self.rewindable {
            return Err(Error::invalid_argument("this backup source can be read only once"));
        }
        self.pos = 0;
        Ok(())
    }
}

/// How a streamed import runs (see [`Store::import_backup_from`](super::Store::import_backup_from)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOptions {
    /// Items per transaction (default 200).
    pub batch_items: usize,
    /// Line bytes per transaction (default 4 MiB); a batch is committed when either bound is reached.
    pub batch_bytes: usize,
    /// Read the whole backup once to check it before writing anything (default true; needs a
    /// source that can be rewound).
    pub check_first: bool,
    /// Longest accepted line (default [`DEFAULT_MAX_LINE_BYTES`]).
    pub max_line_bytes: usize,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            batch_items: 200,
            batch_bytes: 4 << 20,
            check_first: true,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// The phase of a streamed import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    /// The first pass: reading and checking, nothing is written.
    Check,
    /// Writing, batch by batch.
    Import,
}

/// Progress of a streamed import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamProgress {
    /// `check` or `import`.
    pub phase: Phase,
    /// Items checked (check phase) or processed — written or skipped — (import phase) so far.
    pub done: usize,
    /// Items in the backup, once known (after the check phase).
    pub total: Option<usize>,
    /// Bytes read in this phase.
    pub bytes_read: u64,
    /// Size of the backup, when the source knows it.
    pub total_bytes: Option<u64>,
}

/// Streamed progress callback: return `ControlFlow::Break(())` to cancel.
pub type StreamProgressFn<'a> = &'a mut dyn FnMut(StreamProgress) -> ControlFlow<()>;

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
        w.item(&BackupItem::Record { store: "characters".into(), record: json!({"id":"a","name":"Zoë 🦊"}) }).unwrap();
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

    #[test]
    fn every_chunk_size_reads_the_same() {
        let s = sample();
        let whole = parse(&s).unwrap();
        for n in 1..=s.len() {
            assert_eq!(parse_chunked(s.as_bytes(), n).unwrap(), whole, "chunk {n}");
        }
    }

    #[test]
    fn the_header_is_checked_before_any_item() {
        let newer =
            format!("{{\"format\":\"{FORMAT}\",\"formatVersion\":1,\"schemaVersion\":{}}}\n", SCHEMA_VERSION + 1);
        let mut r = Reader::new();
        r.push(newer.as_bytes());
        let e = r.next_item().unwrap_err();
        assert_eq!(e.code(), ErrorCode::UnsupportedFormat);
        assert!(e.message().contains("newer"), "{}", e.message());
    }

    #[test]
    fn errors_name_the_physical_line() {
        let s = sample().replacen("{\"t\":\"asset\"", "\n{\"t\":\"asset\",", 1);
        let e = parse(&s).unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadJson);
        assert!(e.message().starts_with("backup line 4:"), "{}", e.message());
        let e = parse(&sample().replacen("\"id\":\"a\"", "\"id\":\"\"", 1)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Validation);
        assert!(e.message().starts_with("backup line 2:") && e.message().contains("without id"), "{}", e.message());
        let e = parse(&sample().replacen("\"name\":\"Zoë 🦊\"", "\"name\":5", 1)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Validation, "{}", e.message());
    }

    #[test]
    fn crlf_bom_blank_lines_and_a_missing_last_newline_are_fine() {
        let s = format!("\u{feff}{}", sample().replace('\n', "\r\n\r\n"));
        assert_eq!(parse(s.trim_end()).unwrap(), parse(&sample()).unwrap());
    }

    #[test]
    fn long_lines_are_too_large_whatever_the_chunking() {
        let s = sample();
        for chunk in [1, 7, 60, 61, 4096] {
            let e = read_all(Reader::with_max_line_bytes(60), s.as_bytes(), chunk).unwrap_err();
            assert_eq!(e.code(), ErrorCode::TooLarge);
            assert!(e.message().starts_with("backup line 1 "), "{}", e.message());
        }
    }

    #[test]
    fn data_after_the_end_and_bad_utf8_are_rejected() {
        let e = parse(&format!("{}{{\"t\":\"setting\"}}\n", sample())).unwrap_err();
        assert!(e.message().contains("after the end"), "{}", e.message());
        let mut bytes = sample().into_bytes();
        let at = bytes.iter().position(|&b| b == 0xC3).unwrap();
        bytes[at] = 0xFF;
        let e = parse_chunked(&bytes, 3).unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadJson);
        assert!(e.message().contains("UTF-8"), "{}", e.message());
    }
}
