//! Server-sent events (the `text/event-stream` format) and streamed completion chunks.
//!
//! The wire format: lines separated by `\n`, `\r\n` or `\r`; a blank line ends an event.
//! `data: x` lines accumulate (joined with `\n`), `event:` names the event, `id:` and `retry:`
//! are kept, lines starting with `:` are comments. A stream cut in the middle of an event
//! leaves that event pending: [`SseParser::finish`] reports whether anything was left over.
//!
//! Bytes are buffered until a line is complete, so a multi-byte UTF-8 character split across two
//! network chunks decodes correctly; invalid UTF-8 is replaced, never a panic.

use serde_json::Value;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field; empty means the default `message`.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen (it persists across events, as in browsers).
    pub id: Option<String>,
    /// A `retry:` value in milliseconds, if this event carried one.
    pub retry_ms: Option<u64>,
}

/// Incremental SSE parser: feed it chunks as they arrive.
#[derive(Debug)]
pub struct SseParser {
    line: Vec<u8>,
    /// The previous chunk ended in `\r`: a `\n` starting the next chunk belongs to it.
    after_cr: bool,
    data: String,
    has_data: bool,
    event: String,
    last_id: Option<String>,
    retry_ms: Option<u64>,
    /// Maximum bytes of one line or one event's data; protects against a server that never
    /// sends a newline.
    max_event_bytes: usize,
    overflowed: bool,
}

/// Default cap on one event: 16 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 << 20;

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    /// A parser with the default per-event size cap.
    pub fn new() -> Self {
        Self::with_max_event_bytes(DEFAULT_MAX_EVENT_BYTES)
    }

    /// A parser that drops (and flags) events larger than `max` bytes.
    pub fn with_max_event_bytes(max: usize) -> Self {
        SseParser {
            line: Vec::new(),
            after_cr: false,
            data: String::new(),
            has_data: false,
            event: String::new(),
            last_id: None,
            retry_ms: None,
            max_event_bytes: max,
            overflowed: false,
        }
    }

    /// True once an oversized line or event was dropped.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Feeds one chunk; returns the events completed by it.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        for &b in chunk {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(ev) = self.process_line(&line) {
                        out.push(ev);
                    }
                }
                _ => {
                    if self.line.len() < self.max_event_bytes {
                        self.line.push(b);
                    } else {
                        self.overflowed = true;
                    }
                }
            }
        }
        out
    }

    /// Ends the stream. Returns true when a partial line or event was pending, i.e. the stream
    /// was cut mid-event (its contents are discarded, as the SSE spec says).
    pub fn finish(&mut self) -> bool {
        let pending = !self.line.is_empty() || self.has_data;
        self.line.clear();
        self.reset_event();
        pending
    }

    fn reset_event(&mut self) {
        self.data.clear();
        self.has_data = false;
        self.event.clear();
        self.retry_ms = None;
    }

    fn process_line(&mut self, line: &[u8]) -> Option<SseEvent> {
        if line.is_empty() {
            if !self.has_data {
                self.reset_event();
                return None;
            }
            let ev = SseEvent {
                event: std::mem::take(&mut self.event),
                data: std::mem::take(&mut self.data),
                id: self.last_id.clone(),
                retry_ms: self.retry_ms.take(),
            };
            self.has_data = false;
            return Some(ev);
        }
        if line[0] == b':' {
            return None; // comment / keep-alive
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.find(':') {
            Some(i) => {
                let v = &text[i + 1..];
                (&text[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (&text[..], ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                if self.data.len() + value.len() > self.max_event_bytes {
                    self.overflowed = true;
                } else {
                    self.data.push_str(value);
                }
                self.has_data = true;
            }
            "event" => self.event = value.to_string(),
            "id" if !value.contains('\0') => self.last_id = Some(value.to_string()),
            "retry" => self.retry_ms = value.parse().ok(),
            _ => {}
        }
        None
    }
}

/// What one streamed event means for the generated text.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// New text to append (may be empty for role-only chunks, which are returned as `Ignore`).
    Delta(String),
    /// Reasoning / thinking text, kept separately from the reply.
    Reasoning(String),
    /// The stream says it is finished (`[DONE]`, or a final chunk with a finish reason).
    Done {
        /// `stop`, `length`, … when the server said.
        finish_reason: Option<String>,
    },
    /// The server reported an error inside the stream.
    Error(String),
    /// Nothing to do (keep-alives, role-only chunks, unknown events).
    Ignore,
}

/// Interprets one event of an OpenAI-compatible chat or text completion stream (as passed
/// through by SillyTavern), or of a Claude stream. Malformed JSON is an [`StreamItem::Error`].
pub fn decode_completion_event(ev: &SseEvent) -> Vec<StreamItem> {
    let data = ev.data.trim();
    if data == "[DONE]" {
        return vec![StreamItem::Done { finish_reason: None }];
    }
    if ev.event == "error" {
        return vec![StreamItem::Error(error_message(data))];
    }
    if data.is_empty() {
        return vec![StreamItem::Ignore];
    }
    let v: Value = match serde_json::from_str(data) {
        Ok(v) => v,
        Err(e) => return vec![StreamItem::Error(format!("malformed stream event ({e}): {}", clip(data, 120)))],
    };
    if let Some(err) = v.get("error").filter(|e| !e.is_null() && *e != &Value::Bool(false)) {
        return vec![StreamItem::Error(error_message(&err.to_string()))];
    }
    // Claude native events
    match v.get("type").and_then(Value::as_str) {
        Some("content_block_delta") => {
            let d = &v["delta"];
            if let Some(t) = d.get("text").and_then(Value::as_str) {
                return vec![StreamItem::Delta(t.to_string())];
            }
            if let Some(t) = d.get("thinking").and_then(Value::as_str) {
                return vec![StreamItem::Reasoning(t.to_string())];
            }
            return vec![StreamItem::Ignore];
        }
        Some("message_stop") => return vec![StreamItem::Done { finish_reason: None }],
        Some("message_delta") => {
            let reason = v["delta"].get("stop_reason").and_then(Value::as_str).map(str::to_string);
            return vec![if reason.is_some() { StreamItem::Done { finish_reason: reason } } else { StreamItem::Ignore }];
        }
        Some("error") => return vec![StreamItem::Error(error_message(&v.to_string()))],
        _ => {}
    }
    // OpenAI chat / text completion chunks
    let mut items = Vec::new();
    if let Some(choice) = v.get("choices").and_then(Value::as_array).and_then(|c| c.first()) {
        let delta = choice.get("delta");
        let text = delta
            .and_then(|d| d.get("content"))
            .or_else(|| choice.get("text"))
            .or_else(|| choice.get("message").and_then(|m| m.get("content")))
            .and_then(Value::as_str);
        if let Some(r) = delta.and_then(|d| d.get("reasoning_content").or_else(|| d.get("reasoning"))).and_then(Value::as_str) {
            if !r.is_empty() {
                items.push(StreamItem::Reasoning(r.to_string()));
            }
        }
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            items.push(StreamItem::Delta(t.to_string()));
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            items.push(StreamItem::Done { finish_reason: Some(reason.to_string()) });
        }
    } else if let Some(t) = v.get("content").and_then(Value::as_str) {
        // llama.cpp / generic `{content}` chunks
        if !t.is_empty() {
            items.push(StreamItem::Delta(t.to_string()));
        }
        if v.get("stop").and_then(Value::as_bool) == Some(true) {
            items.push(StreamItem::Done { finish_reason: Some("stop".into()) });
        }
    }
    if items.is_empty() {
        items.push(StreamItem::Ignore);
    }
    items
}

fn error_message(raw: &str) -> String {
    let v: Option<Value> = serde_json::from_str(raw).ok();
    let msg = v.as_ref().and_then(|v| {
        v.get("message")
            .or_else(|| v.get("error").and_then(|e| e.get("message")))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| v.as_str().map(str::to_string))
    });
    msg.unwrap_or_else(|| clip(raw, 300).to_string())
}

fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(content: &str) -> String {
        format!(
            "data: {}\n\n",
            serde_json::json!({"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":content},"finish_reason":null}]})
        )
    }

    fn collect_text(stream: &[u8], split: &[usize]) -> (String, bool) {
        let mut p = SseParser::new();
        let mut text = String::new();
        let mut done = false;
        let mut start = 0;
        for &end in split.iter().chain(std::iter::once(&stream.len())) {
            for ev in p.feed(&stream[start..end]) {
                for item in decode_completion_event(&ev) {
                    match item {
                        StreamItem::Delta(t) => text.push_str(&t),
                        StreamItem::Done { .. } => done = true,
                        other => assert!(matches!(other, StreamItem::Ignore), "{other:?}"),
                    }
                }
            }
            start = end;
        }
        (text, done)
    }

    #[test]
    fn parses_events_split_at_every_byte_boundary() {
        let stream = format!("{}{}{}data: [DONE]\n\n", chunk("Hél"), chunk("lo 🌍 "), chunk("there."));
        let bytes = stream.as_bytes();
        let (whole, done) = collect_text(bytes, &[]);
        assert_eq!(whole, "Héllo 🌍 there.");
        assert!(done);
        for cut in 1..bytes.len() {
            assert_eq!(collect_text(bytes, &[cut]), (whole.clone(), true), "cut at {cut}");
        }
        let every: Vec<usize> = (1..bytes.len()).collect();
        assert_eq!(collect_text(bytes, &every).0, whole);
    }

    #[test]
    fn handles_crlf_cr_multiline_data_comments_and_fields() {
        let mut p = SseParser::new();
        let evs = p.feed(b": keep-alive\r\nevent: update\r\nid: 7\r\nretry: 1500\r\ndata: a\r\ndata:b\r\r\ndata: c\n\n");
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0], SseEvent { event: "update".into(), data: "a\nb".into(), id: Some("7".into()), retry_ms: Some(1500) });
        assert_eq!(evs[1], SseEvent { event: "".into(), data: "c".into(), id: Some("7".into()), retry_ms: None });
    }

    #[test]
    fn crlf_split_between_chunks_is_one_line_break() {
        let mut p = SseParser::new();
        assert!(p.feed(b"data: x\r").is_empty());
        let evs = p.feed(b"\n\r\n");
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].data, "x");
    }

    #[test]
    fn a_cut_stream_reports_its_pending_event() {
        let mut p = SseParser::new();
        let evs = p.feed(chunk("Hello").as_bytes());
        assert_eq!(evs.len(), 1);
        assert!(!p.finish(), "nothing pending after a complete event");
        p.feed(b"data: {\"choices\":[{\"delta\":{\"content\":\"par");
        assert!(p.finish(), "a partial event is reported");
    }

    #[test]
    fn oversized_lines_are_dropped_not_buffered_forever() {
        let mut p = SseParser::with_max_event_bytes(16);
        let evs = p.feed(b"data: 0123456789abcdefghijklmnop\n\ndata: ok\n\n");
        assert!(p.overflowed());
        assert_eq!(evs.last().unwrap().data, "ok");
    }

    #[test]
    fn a_default_parser_has_the_default_size_cap() {
        // Regression: a derived Default once gave a 0-byte cap that dropped every line.
        let mut p = SseParser::default();
        assert_eq!(p.feed(b"data: hi\n\n")[0].data, "hi");
        assert!(!p.overflowed());
    }

    #[test]
    fn invalid_utf8_is_replaced_not_a_panic() {
        let mut p = SseParser::new();
        let evs = p.feed(b"data: \xff\xfe ok\n\n");
        assert_eq!(evs[0].data, "\u{fffd}\u{fffd} ok");
    }

    #[test]
    fn decodes_error_events_and_malformed_json() {
        let ev = |data: &str| SseEvent { data: data.into(), ..Default::default() };
        assert_eq!(
            decode_completion_event(&ev(r#"{"error":{"message":"Rate limit reached","type":"rate_limit"}}"#)),
            vec![StreamItem::Error("Rate limit reached".into())]
        );
        assert!(matches!(&decode_completion_event(&ev("{not json"))[0], StreamItem::Error(m) if m.starts_with("malformed stream event")));
        let named = SseEvent { event: "error".into(), data: r#"{"message":"upstream died"}"#.into(), ..Default::default() };
        assert_eq!(decode_completion_event(&named), vec![StreamItem::Error("upstream died".into())]);
    }

    #[test]
    fn decodes_text_completion_finish_reason_reasoning_and_claude() {
        let ev = |data: serde_json::Value| SseEvent { data: data.to_string(), ..Default::default() };
        assert_eq!(
            decode_completion_event(&ev(serde_json::json!({"choices":[{"text":"Once","finish_reason":null}]}))),
            vec![StreamItem::Delta("Once".into())]
        );
        assert_eq!(
            decode_completion_event(&ev(serde_json::json!({"choices":[{"delta":{},"finish_reason":"length"}]}))),
            vec![StreamItem::Done { finish_reason: Some("length".into()) }]
        );
        assert_eq!(
            decode_completion_event(&ev(serde_json::json!({"choices":[{"delta":{"role":"assistant"}}]}))),
            vec![StreamItem::Ignore]
        );
        assert_eq!(
            decode_completion_event(&ev(serde_json::json!({"choices":[{"delta":{"reasoning_content":"hmm","content":"Hi"}}]}))),
            vec![StreamItem::Reasoning("hmm".into()), StreamItem::Delta("Hi".into())]
        );
        assert_eq!(
            decode_completion_event(&ev(serde_json::json!({"type":"content_block_delta","delta":{"type":"text_delta","text":"Yo"}}))),
            vec![StreamItem::Delta("Yo".into())]
        );
        assert_eq!(
            decode_completion_event(&ev(serde_json::json!({"type":"message_stop"}))),
            vec![StreamItem::Done { finish_reason: None }]
        );
        assert_eq!(
            decode_completion_event(&ev(serde_json::json!({"content":"tok","stop":true}))),
            vec![StreamItem::Delta("tok".into()), StreamItem::Done { finish_reason: Some("stop".into()) }]
        );
    }
}
