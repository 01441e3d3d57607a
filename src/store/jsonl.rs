//! SillyTavern chat JSONL: a header line, then one line per message,
//! joined with `\n`, no trailing newline.

use serde_json::{json, Map, Value};

use super::env::iso8601;
use super::schema::{Chat, Message, NewMessage};

/// SillyTavern's old `create_date` form: `YYYY-MM-DD@HHhMMmSSsMMMms`.
pub fn st_create_date(ms: i64) -> String {
    let iso = iso8601(ms); // 2026-11-27T05:20:00.000Z
    format!("{}@{}h{}m{}s{}ms", &iso[0..10], &iso[11..13], &iso[14..16], &iso[17..19], &iso[20..23])
}

/// One message as a SillyTavern JSONL object.
pub fn message_to_st(m: &Message) -> Value {
    new_message_to_st(&NewMessage {
        name: m.name.clone(),
        is_user: m.is_user,
        is_system: m.is_system,
        mes: m.mes.clone(),
        send_date: m.send_date,
        swipes: m.swipes.clone(),
        swipe_id: m.swipe_id,
        swipe_info: m.swipe_info.clone(),
        extra: Some(m.extra.clone()),
        fields: m.fields.clone(),
    })
}

/// A message in the caller's shape as a SillyTavern JSONL object (missing per-swipe metadata is
/// filled in as SillyTavern writes it).
pub fn new_message_to_st(m: &NewMessage) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), json!(m.name));
    o.insert("is_user".into(), json!(m.is_user));
    o.insert("is_system".into(), json!(m.is_system));
    if let Some(d) = m.send_date {
        o.insert("send_date".into(), json!(iso8601(d)));
    }
    o.insert("mes".into(), json!(m.mes));
    if !m.swipes.is_empty() {
        o.insert("swipes".into(), json!(m.swipes));
        o.insert("swipe_id".into(), json!(m.swipe_id));
        let info: Vec<Value> = (0..m.swipes.len())
            .map(|i| match m.swipe_info.get(i) {
                Some(v) if !v.is_null() => v.clone(),
                _ => json!({ "send_date": m.send_date.map(iso8601), "extra": {} }),
            })
            .collect();
        o.insert("swipe_info".into(), Value::Array(info));
    }
    o.insert("extra".into(), m.extra.clone().filter(Value::is_object).unwrap_or_else(|| json!({})));
    for (k, v) in &m.fields {
        o.entry(k.clone()).or_insert_with(|| v.clone());
    }
    Value::Object(o)
}

/// The whole chat file. Tombstoned messages are left out.
pub fn chat_to_jsonl(chat: &Chat, user_name: &str, character_name: &str, messages: &[Message]) -> String {
    let header = json!({
        "user_name": user_name,
        "character_name": character_name,
        "create_date": st_create_date(chat.created_at),
        "chat_metadata": if chat.metadata.is_object() { chat.metadata.clone() } else { json!({}) },
    });
    let mut lines = vec![header.to_string()];
    lines.extend(messages.iter().filter(|m| !m.deleted).map(|m| message_to_st(m).to_string()));
    lines.join("\n")
}

/// Parses a SillyTavern JSONL chat: the header object and the messages (unparseable lines are
/// skipped, as SillyTavern does). ISO and epoch-ms `send_date`s become ms; other forms are
/// kept verbatim in `fields`.
pub fn parse_chat_jsonl(text: &str) -> (Value, Vec<NewMessage>) {
    let mut header = Value::Null;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Ok(Value::Object(mut o)) = serde_json::from_str::<Value>(line) else { continue };
        if i == 0 && !o.contains_key("mes") {
            header = Value::Object(o);
            continue;
        }
        let take_str = |o: &mut Map<String, Value>, k: &str| o.remove(k).and_then(|v| v.as_str().map(str::to_string));
        let take_bool = |o: &mut Map<String, Value>, k: &str| o.remove(k).and_then(|v| v.as_bool()).unwrap_or(false);
        let name = take_str(&mut o, "name").unwrap_or_default();
        let mes = take_str(&mut o, "mes").unwrap_or_default();
        let is_user = take_bool(&mut o, "is_user");
        let is_system = take_bool(&mut o, "is_system");
        let send_date = match o.get("send_date") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => parse_iso8601(s),
            _ => None,
        };
        if send_date.is_some() {
            o.remove("send_date");
        }
        let swipes: Vec<String> = match o.remove("swipes") {
            Some(Value::Array(a)) => a.into_iter().map(|v| v.as_str().unwrap_or("").to_string()).collect(),
            _ => Vec::new(),
        };
        let swipe_id = o.remove("swipe_id").and_then(|v| v.as_u64()).unwrap_or(0) as usize;
        let swipe_info = match o.remove("swipe_info") {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        };
        let extra = o.remove("extra").filter(Value::is_object);
        let (swipes, swipe_id) = if swipe_id < swipes.len() { (swipes, swipe_id) } else { (Vec::new(), 0) };
        out.push(NewMessage { name, is_user, is_system, mes, send_date, swipes, swipe_id, swipe_info, extra, fields: o });
    }
    (header, out)
}

/// Parses `YYYY-MM-DDTHH:MM:SS(.mmm)Z` to ms since the epoch.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    let ms = if b.get(19) == Some(&b'.') { num(20..23).unwrap_or(0) } else { 0 };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let days = crate::civil::days_from_civil(y, mo, d);
    Some(((days * 86_400 + h * 3600 + mi * 60 + se) * 1000) + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trip() {
        for ms in [0, 1_795_737_600_123, 951_782_400_000, 1_700_000_000_999] {
            assert_eq!(parse_iso8601(&iso8601(ms)), Some(ms));
        }
        assert_eq!(parse_iso8601("November 27, 2026 5:13am"), None);
    }

    #[test]
    fn create_date_has_the_old_st_form() {
        assert_eq!(st_create_date(1_795_737_600_123), "2026-11-27@00h00m00s123ms");
    }

    #[test]
    fn parse_skips_bad_lines_and_keeps_unknown_fields() {
        let text = "{\"user_name\":\"U\",\"character_name\":\"A\",\"chat_metadata\":{}}\nnot json\n\
            {\"name\":\"A\",\"is_user\":false,\"mes\":\"hi\",\"send_date\":\"November 27, 2026 5:13am\",\"original_avatar\":\"a.png\",\"swipes\":[\"x\",\"hi\"],\"swipe_id\":1}";
        let (h, msgs) = parse_chat_jsonl(text);
        assert_eq!(h["character_name"], "A");
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].fields["original_avatar"], "a.png");
        assert_eq!(msgs[0].fields["send_date"], "November 27, 2026 5:13am");
        assert_eq!(msgs[0].swipe_id, 1);
    }
}
