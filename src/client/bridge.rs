//! The chat bridge: keeps a local chat and a SillyTavern chat file in step without ever losing a
//! message on either side.
//!
//! SillyTavern messages have no ids, so a message is recognised by its *fingerprint*: who sent
//! it (`is_user`, `name`) and when it was first sent (`send_date`), numbered when several share
//! those. Editing a message or adding swipes keeps its fingerprint.
//!
//! [`merge`] unions two versions of a chat: every message of either side appears once, in the
//! remote order with local-only messages placed after the message that preceded them locally;
//! a message present on both sides with different texts keeps every text as a swipe; the local
//! selection becomes current only when the server does not know that text yet (a new edit or
//! swipe), else the server's selection stays. [`StClient::sync_chat`] loads the server copy,
//! merges, saves the merge under the server's integrity id — it never forces unless the caller
//! asks — and then reads the chat back to verify that every message it saved is there.
//!
//! Why the read-back: SillyTavern's integrity id names a chat, not a version, so a save cannot be
//! made conditional on the version that was loaded. Two writers that load the same version and
//! save one after the other both succeed, and the second save drops the first one's new
//! messages. The read-back sees that, merges the server copy again and saves again (bounded by
//! [`MAX_MERGE_ROUNDS`]); the outcome counts such rounds in [`SyncOutcome::overwritten`].
//! A save of such a writer can still be on its way when we read back, so the chat is read once
//! more after twice the slowest round trip of the sync (50 ms at least). What no client-side check can see is a writer even
//! slower than that (its load before our save, its save after our second look): our messages
//! then stay in our local copy, and our next sync puts them back on the server.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use super::http::Transport;
use super::st::StClient;
use crate::error::{Error, ErrorCode, Result};
use crate::store::jsonl::{new_message_to_st, parse_chat_jsonl};
use crate::store::schema::NewMessage;

/// How many times [`StClient::sync_chat`] reloads, merges and saves again after an integrity
/// conflict or a save of ours that another writer overwrote, before giving up (another client
/// keeps writing).
pub const MAX_MERGE_ROUNDS: usize = 6;

/// Bounds of the wait before [`StClient::sync_chat`]'s second look at a saved chat (ms).
const SETTLE_MIN_MS: f64 = 50.0;
const SETTLE_MAX_MS: f64 = 2_000.0;

fn base_key(m: &NewMessage) -> String {
    match m.send_date {
        Some(d) => format!("{}|{}|{d}", m.is_user as u8, m.name),
        None => format!("{}|{}|text:{}", m.is_user as u8, m.name, m.swipes.first().unwrap_or(&m.mes)),
    }
}

/// Fingerprints of a chat's messages, in order (duplicates of a base key get `#n`).
pub fn fingerprints(messages: &[NewMessage]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    messages
        .iter()
        .map(|m| {
            let k = base_key(m);
            let n = seen.entry(k.clone()).or_insert(0);
            *n += 1;
            if *n == 1 { k } else { format!("{k}#{n}") }
        })
        .collect()
}

/// The texts of a message: its swipes, or just `mes`.
fn texts(m: &NewMessage) -> Vec<String> {
    if m.swipes.is_empty() { vec![m.mes.clone()] } else { m.swipes.clone() }
}

/// Combines two versions of one message: every text of both survives as a swipe; `preferred`'s
/// current text stays current.
fn union_message(preferred: &NewMessage, other: &NewMessage) -> NewMessage {
    let mut all = texts(preferred);
    let mut info = if preferred.swipes.is_empty() { vec![Value::Null] } else { preferred.swipe_info.clone() };
    info.resize(all.len(), Value::Null);
    let other_info = if other.swipes.is_empty() { vec![Value::Null] } else { other.swipe_info.clone() };
    for (i, t) in texts(other).into_iter().enumerate() {
        if !all.contains(&t) {
            all.push(t);
            info.push(other_info.get(i).cloned().unwrap_or(Value::Null));
        }
    }
    let mut out = preferred.clone();
    if all.len() > 1 {
        out.swipe_id = all.iter().position(|t| *t == preferred.mes).unwrap_or(0);
        out.swipes = all;
        out.swipe_info = info;
    }
    for (k, v) in &other.fields {
        out.fields.entry(k.clone()).or_insert_with(|| v.clone());
    }
    if let (Some(Value::Object(mine)), Some(Value::Object(theirs))) = (out.extra.as_mut(), other.extra.as_ref()) {
        for (k, v) in theirs {
            mine.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Both,
    Remote,
    Local,
}

/// The result of merging a local and a remote version of a chat.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// The merged chat, in order.
    pub messages: Vec<NewMessage>,
    /// True when the merge differs from the local version (the caller updates its store).
    pub local_changed: bool,
    /// True when the merge differs from the remote version (it must be saved).
    pub remote_changed: bool,
}

/// Unions two versions of a chat (see the module docs). Lossless: every text of every message
/// of both inputs is in the output.
pub fn merge(local: &[NewMessage], remote: &[NewMessage]) -> Merged {
    let lf = fingerprints(local);
    let rf = fingerprints(remote);
    let local_by_fp: HashMap<&str, usize> = lf.iter().enumerate().map(|(i, f)| (f.as_str(), i)).collect();
    let remote_set: HashSet<&str> = rf.iter().map(String::as_str).collect();

    // Start from the remote order, each common message unioned (local selection wins).
    // The flag marks messages that exist on the remote side only.
    let mut out: Vec<(String, NewMessage, Origin)> = remote
        .iter()
        .zip(&rf)
        .map(|(r, f)| match local_by_fp.get(f.as_str()) {
            // The local selection wins only when it is news to the server.
            Some(&i) if texts(r).contains(&local[i].mes) => (f.clone(), union_message(r, &local[i]), Origin::Both),
            Some(&i) => (f.clone(), union_message(&local[i], r), Origin::Both),
            None => (f.clone(), r.clone(), Origin::Remote),
        })
        .collect();
    // Insert local-only messages after the message that preceded them locally, and after the
    // remote-only messages sent before them there.
    let mut last_anchor: Option<String> = None;
    for (m, f) in local.iter().zip(&lf) {
        if remote_set.contains(f.as_str()) {
            last_anchor = Some(f.clone());
            continue;
        }
        let mut p = match &last_anchor {
            Some(a) => out.iter().position(|(fp, _, _)| fp == a).map_or(out.len(), |p| p + 1),
            None => 0,
        };
        while p < out.len() {
            let skip = match out[p].2 {
                Origin::Local => true,
                Origin::Remote => match (out[p].1.send_date, m.send_date) {
                    (Some(theirs), Some(mine)) => theirs <= mine,
                    _ => true,
                },
                Origin::Both => false,
            };
            if !skip {
                break;
            }
            p += 1;
        }
        out.insert(p, (f.clone(), m.clone(), Origin::Local));
        last_anchor = Some(f.clone());
    }
    let messages: Vec<NewMessage> = out.into_iter().map(|(_, m, _)| m).collect();
    let local_changed = messages.as_slice() != local;
    let remote_changed = messages.as_slice() != remote;
    Merged { messages, local_changed, remote_changed }
}

/// Finds the SillyTavern character that a local card corresponds to: the same avatar file name
/// first (`avatar_hint`, e.g. remembered from an earlier import), else the same name with the
/// same description (SillyTavern may have renamed the file: `Alice1.png`). Returns its avatar.
pub fn match_character(card: &Value, avatar_hint: Option<&str>, st_characters: &[Value]) -> Option<String> {
    let avatar_of = |c: &Value| c.get("avatar").and_then(Value::as_str).map(str::to_string);
    if let Some(hint) = avatar_hint {
        if let Some(c) = st_characters.iter().find(|c| avatar_of(c).as_deref() == Some(hint)) {
            return avatar_of(c);
        }
    }
    // Newlines are compared as `\n` (a server may have stored `\r\n`).
    let field = |c: &Value, k: &str| -> String {
        c.get("data").and_then(|d| d.get(k)).or_else(|| c.get(k)).and_then(Value::as_str).unwrap_or("").trim().replace("\r\n", "\n")
    };
    let (name, desc) = (field(card, "name"), field(card, "description"));
    if name.is_empty() {
        return None;
    }
    st_characters.iter().find(|c| field(c, "name") == name && field(c, "description") == desc).and_then(avatar_of)
}

/// A local chat's link to a SillyTavern chat file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatLink {
    /// The character's avatar file name (`Alice.png`); empty for group chats.
    pub avatar: String,
    /// The chat file name without `.jsonl` (solo) or the group chat id.
    pub file: String,
    /// True for a group chat.
    #[serde(default)]
    pub is_group: bool,
    /// The integrity id of the file as we last saved or loaded it.
    pub integrity: String,
    /// The header's `chat_metadata` as last seen (kept and written back).
    #[serde(default)]
    pub chat_metadata: Value,
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncOutcome {
    /// The chat as it now is on the server (and should be locally).
    pub messages: Vec<NewMessage>,
    /// True when the local copy must be replaced by `messages`.
    pub local_changed: bool,
    /// Concurrent changes met and resolved by merging again: integrity conflicts plus
    /// [`SyncOutcome::overwritten`].
    pub conflicts: usize,
    /// Saves of ours that another writer overwrote before our read-back, dropping messages we
    /// had saved; each was repaired by merging and saving again.
    pub overwritten: usize,
    /// The link with the integrity id now on the server.
    pub link: ChatLink,
}

/// True when two message lists save as the same chat lines.
fn same_as_saved(a: &[NewMessage], b: &[NewMessage]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || new_message_to_st(x) == new_message_to_st(y))
}

/// SillyTavern chat lines (header first) for a message list.
pub fn to_lines(link: &ChatLink, messages: &[NewMessage]) -> Vec<Value> {
    let mut meta = if link.chat_metadata.is_object() { link.chat_metadata.clone() } else { json!({}) };
    meta["integrity"] = json!(link.integrity);
    let mut lines = vec![json!({"chat_metadata": meta, "user_name": "unused", "character_name": "unused"})];
    lines.extend(messages.iter().map(new_message_to_st));
    lines
}

/// Splits SillyTavern chat lines into the header and messages.
pub fn from_lines(lines: &[Value]) -> (Value, Vec<NewMessage>) {
    let text = lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n");
    parse_chat_jsonl(&text)
}

impl<T: Transport> StClient<T> {
    async fn load_lines(&self, link: &ChatLink) -> Result<Vec<Value>> {
        if link.is_group { self.group_chat(&link.file).await } else { self.chat(&link.avatar, &link.file).await }
    }

    async fn save_lines(&self, link: &ChatLink, lines: &[Value], force: bool) -> Result<()> {
        if link.is_group {
            self.save_group_chat(&link.file, lines, force).await
        } else {
            self.save_chat(&link.avatar, &link.file, lines, force).await
        }
    }

    /// Brings the linked SillyTavern chat and `local` together: loads the server copy, merges
    /// (nothing lost on either side), saves the merge when it adds anything, under the server's
    /// integrity id, and reads the chat back to check that every message of the merge is there.
    /// A `400 integrity` (the file was replaced by another chat meanwhile) or a read-back that
    /// misses messages (another writer saved over ours) triggers another merge and save, at most
    /// [`MAX_MERGE_ROUNDS`] times in all; then it fails with `integrity_conflict` (the local copy
    /// still has everything). With `force` the local version overwrites the server's without
    /// loading it (only when the user asked for it).
    pub async fn sync_chat(&self, link: &ChatLink, local: &[NewMessage], force: bool) -> Result<SyncOutcome> {
        let mut link = link.clone();
        if force {
            self.save_lines(&link, &to_lines(&link, local), true).await?;
            return Ok(SyncOutcome { messages: local.to_vec(), local_changed: false, conflicts: 0, overwritten: 0, link });
        }
        let mut messages = local.to_vec();
        let (mut conflicts, mut overwritten) = (0, 0);
        // The slowest round trip of this sync: a concurrent writer's save can trail its load by
        // about that much.
        let mut slowest = 0.0f64;
        // The server copy: loaded at first, then the read-back of our last save.
        let mut lines = self.timed(&mut slowest, self.load_lines(&link)).await?;
        loop {
            let (header, remote) = from_lines(&lines);
            if let Some(meta) = header.get("chat_metadata").filter(|m| m.is_object()) {
                if let Some(id) = meta.get("integrity").and_then(Value::as_str) {
                    link.integrity = id.to_string();
                }
                link.chat_metadata = meta.clone();
            }
            let merged = merge(&messages, &remote);
            messages = merged.messages;
            if !merged.remote_changed {
                // The server has every message of ours (first load, or verified read-back). The
                // server's copies of our own messages are what we sent: compared as saved.
                let local_changed = !same_as_saved(&messages, local);
                return Ok(SyncOutcome { messages, local_changed, conflicts, overwritten, link });
            }
            if conflicts > MAX_MERGE_ROUNDS {
                return Err(Error::new(
                    ErrorCode::IntegrityConflict,
                    format!(
                        "the chat kept being changed on the server by another writer ({conflicts} merges); the server \
                         copy may lack messages of this copy, which still has them all: sync again"
                    ),
                ));
            }
            match self.timed(&mut slowest, self.save_lines(&link, &to_lines(&link, &messages), false)).await {
                Ok(()) => {}
                Err(e) if e.code() == ErrorCode::IntegrityConflict => {
                    conflicts += 1;
                    lines = self.timed(&mut slowest, self.load_lines(&link)).await?;
                    continue;
                }
                Err(e) => return Err(e),
            }
            // Verify: read back. A copy that lacks any of our messages was overwritten by a
            // writer that loaded before our save landed: merge with it and save again.
            lines = self.timed(&mut slowest, self.load_lines(&link)).await?;
            if !self.has_all(&messages, &lines) {
                overwritten += 1;
                conflicts += 1;
                continue;
            }
            // Such a save can still be on its way (sent from a copy loaded just before ours
            // landed): look once more, after twice the slowest round trip seen.
            self.transport().sleep((2.0 * slowest).clamp(SETTLE_MIN_MS, SETTLE_MAX_MS)).await;
            lines = self.load_lines(&link).await?;
            if !self.has_all(&messages, &lines) {
                overwritten += 1;
                conflicts += 1;
            }
        }
    }

    /// Awaits `f`, keeping the longest time such a call took in `slowest`.
    async fn timed<R>(&self, slowest: &mut f64, f: impl std::future::Future<Output = R>) -> R {
        let start = self.transport().now_ms();
        let r = f.await;
        *slowest = slowest.max(self.transport().now_ms() - start);
        r
    }

    /// True when the chat `lines` contain every message (and every text) of `messages`.
    fn has_all(&self, messages: &[NewMessage], lines: &[Value]) -> bool {
        let (_, back) = from_lines(lines);
        !merge(messages, &back).remote_changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(name: &str, user: bool, date: i64, mes: &str) -> NewMessage {
        NewMessage { name: name.into(), is_user: user, mes: mes.into(), send_date: Some(date), ..Default::default() }
    }

    fn all_texts(ms: &[NewMessage]) -> Vec<String> {
        ms.iter().flat_map(texts).collect()
    }

    #[test]
    fn identical_chats_merge_to_themselves() {
        let a = vec![msg("U", true, 1, "hi"), msg("Alice", false, 2, "hello")];
        let m = merge(&a, &a);
        assert_eq!(m.messages, a);
        assert!(!m.local_changed && !m.remote_changed);
    }

    #[test]
    fn both_sides_appended_keeps_every_message_in_a_sensible_order() {
        let base = vec![msg("U", true, 1, "hi"), msg("Alice", false, 2, "hello")];
        let mut local = base.clone();
        local.push(msg("U", true, 10, "local question"));
        local.push(msg("Alice", false, 11, "local answer"));
        let mut remote = base.clone();
        remote.push(msg("U", true, 5, "remote question"));
        let m = merge(&local, &remote);
        let order: Vec<&str> = m.messages.iter().map(|x| x.mes.as_str()).collect();
        assert_eq!(order, ["hi", "hello", "remote question", "local question", "local answer"]);
        assert!(m.local_changed && m.remote_changed);
    }

    #[test]
    fn concurrent_edits_of_one_message_keep_both_texts_as_swipes() {
        let local = vec![msg("Alice", false, 2, "local edit")];
        let remote = vec![msg("Alice", false, 2, "remote edit")];
        let m = merge(&local, &remote);
        assert_eq!(m.messages.len(), 1);
        let x = &m.messages[0];
        assert_eq!(x.swipes, ["local edit", "remote edit"]);
        assert_eq!((x.swipe_id, x.mes.as_str()), (0, "local edit"), "the local selection stays current");
        assert_eq!(x.swipe_info.len(), 2);
    }

    #[test]
    fn swipes_added_on_either_side_are_unioned() {
        let mut local = msg("Alice", false, 2, "b");
        local.swipes = vec!["a".into(), "b".into()];
        local.swipe_id = 1;
        local.swipe_info = vec![Value::Null, Value::Null];
        let mut remote = msg("Alice", false, 2, "a");
        remote.swipes = vec!["a".into(), "c".into()];
        remote.swipe_info = vec![json!({"x":1}), json!({"y":2})];
        let m = merge(&[local], &[remote]);
        assert_eq!(m.messages[0].swipes, ["a", "b", "c"]);
        assert_eq!(m.messages[0].mes, "b");
        assert_eq!(m.messages[0].swipe_id, 1);
        assert_eq!(m.messages[0].swipe_info[2], json!({"y":2}));
    }

    #[test]
    fn a_stale_local_selection_does_not_undo_a_remote_edit() {
        let mut remote = msg("Alice", false, 2, "edited elsewhere");
        remote.swipes = vec!["edited elsewhere".into(), "original".into()];
        remote.swipe_info = vec![Value::Null, Value::Null];
        let local = msg("Alice", false, 2, "original");
        let m = merge(&[local], &[remote.clone()]);
        assert_eq!(m.messages[0].mes, "edited elsewhere");
        assert!(!m.remote_changed);
    }

    #[test]
    fn same_sender_same_time_messages_are_told_apart() {
        let local = vec![msg("U", true, 1, "one"), msg("U", true, 1, "two")];
        let remote = vec![msg("U", true, 1, "one")];
        let m = merge(&local, &remote);
        assert_eq!(m.messages.len(), 2);
        assert_eq!(all_texts(&m.messages), ["one", "two"]);
    }

    #[test]
    fn merge_is_lossless_for_many_random_histories() {
        // A small deterministic generator: both sides start from a common prefix, then each
        // appends, edits and swipes independently.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _case in 0..300 {
            let base: Vec<NewMessage> =
                (0..rnd(5)).map(|i| msg(if i % 2 == 0 { "U" } else { "A" }, i % 2 == 0, i as i64, &format!("b{i}"))).collect();
            let mut sides = [base.clone(), base.clone()];
            for (s, side) in sides.iter_mut().enumerate() {
                for k in 0..rnd(4) {
                    match rnd(3) {
                        0 => side.push(msg(if rnd(2) == 0 { "U" } else { "A" }, rnd(2) == 0, 100 + rnd(20) as i64, &format!("s{s}-{k}"))),
                        1 if !side.is_empty() => {
                            let i = rnd(side.len() as u64) as usize;
                            let m = &mut side[i];
                            m.mes = format!("edit{s}-{k}");
                            let (id, text) = (m.swipe_id, m.mes.clone());
                            if let Some(sw) = m.swipes.get_mut(id) {
                                *sw = text;
                            }
                        }
                        _ if !side.is_empty() => {
                            let i = rnd(side.len() as u64) as usize;
                            let m = &mut side[i];
                            if m.swipes.is_empty() {
                                m.swipes.push(m.mes.clone());
                                m.swipe_info.push(Value::Null);
                            }
                            m.swipes.push(format!("swipe{s}-{k}"));
                            m.swipe_info.push(Value::Null);
                            m.swipe_id = m.swipes.len() - 1;
                            m.mes = m.swipes[m.swipe_id].clone();
                        }
                        _ => {}
                    }
                }
            }
            let m = merge(&sides[0], &sides[1]);
            let merged: HashSet<String> = all_texts(&m.messages).into_iter().collect();
            for side in &sides {
                for t in all_texts(side) {
                    assert!(merged.contains(&t), "lost {t:?}");
                }
                assert!(m.messages.len() >= side.len());
            }
            for x in &m.messages {
                if !x.swipes.is_empty() {
                    assert_eq!(x.swipes[x.swipe_id], x.mes, "mes == swipes[swipe_id]");
                    assert_eq!(x.swipes.len(), x.swipe_info.len());
                }
            }
            // Merging the result with either side again changes nothing more on the server side.
            assert!(!merge(&m.messages, &m.messages).remote_changed);
        }
    }

    #[test]
    fn matches_characters_by_avatar_then_by_content() {
        let st = vec![
            json!({"avatar": "Alice.png", "name": "Alice", "data": {"name": "Alice", "description": "old"}}),
            json!({"avatar": "Alice1.png", "name": "Alice", "data": {"name": "Alice", "description": "A knight."}}),
        ];
        let card = json!({"spec": "chara_card_v3", "data": {"name": "Alice", "description": "A knight."}});
        assert_eq!(match_character(&card, Some("Alice.png"), &st).as_deref(), Some("Alice.png"));
        assert_eq!(match_character(&card, None, &st).as_deref(), Some("Alice1.png"));
        assert_eq!(match_character(&card, Some("Gone.png"), &st).as_deref(), Some("Alice1.png"));
        assert_eq!(match_character(&json!({"data": {"name": "Bob"}}), None, &st), None);
        let crlf = vec![json!({"avatar": "Multi.png", "name": "M", "data": {"name": "M", "description": "a\r\nb"}})];
        let card = json!({"data": {"name": "M", "description": "a\nb"}});
        assert_eq!(match_character(&card, None, &crlf).as_deref(), Some("Multi.png"));
    }

    /// A SillyTavern chat endpoint in memory: one chat file, the integrity check, and requests
    /// that take a (pseudo-random) number of scheduler turns to arrive and to answer. The clock
    /// advances one ms per turn.
    mod server {
        use super::*;
        use crate::client::http::{Body, Request, Response, Transport};
        use std::cell::{Cell, RefCell};
        use std::future::Future;
        use std::pin::Pin;
        use std::rc::Rc;
        use std::task::{Context, Poll};

        #[derive(Default)]
        pub struct Server {
            pub file: RefCell<Vec<Value>>,
            pub clock: Cell<f64>,
            pub seed: Cell<u64>,
            pub saves: Cell<usize>,
        }

        impl Server {
            fn turns(&self) -> u64 {
                let mut x = self.seed.get();
                if x == 0 {
                    return 1; // lockstep
                }
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                self.seed.set(x);
                x % 4
            }

            fn handle(&self, req: &Request) -> Response {
                let ok = |body: Value| Response { status: 200, headers: vec![], body: body.to_string().into_bytes() };
                let Body::Json(b) = &req.body else { return ok(json!({"token": "t"})) };
                match req.path.as_str() {
                    "/api/chats/get" => ok(Value::Array(self.file.borrow().clone())),
                    "/api/chats/save" => {
                        let lines = b["chat"].as_array().cloned().unwrap_or_default();
                        let stored = self.file.borrow().first().and_then(|h| h["chat_metadata"]["integrity"].as_str().map(str::to_string));
                        let sent = lines.first().and_then(|h| h["chat_metadata"]["integrity"].as_str().map(str::to_string));
                        if b["force"] != true && stored.is_some() && stored != sent {
                            return Response { status: 400, headers: vec![], body: br#"{"error":"integrity"}"#.to_vec() };
                        }
                        self.saves.set(self.saves.get() + 1);
                        *self.file.borrow_mut() = lines;
                        ok(json!({"ok": true}))
                    }
                    _ => ok(json!({"token": "t"})),
                }
            }
        }

        /// Pending for `n` polls, advancing the server clock on each.
        struct Turns<'a>(&'a Server, u64);
        impl Future for Turns<'_> {
            type Output = ();
            fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
                if self.1 == 0 {
                    return Poll::Ready(());
                }
                self.1 -= 1;
                self.0.clock.set(self.0.clock.get() + 1.0);
                Poll::Pending
            }
        }

        pub struct Tx(pub Rc<Server>);
        impl Transport for Tx {
            async fn send(&self, req: &Request) -> crate::error::Result<Response> {
                Turns(&self.0, self.0.turns()).await; // on the way there
                let resp = self.0.handle(req);
                Turns(&self.0, self.0.turns()).await; // on the way back
                Ok(resp)
            }
            async fn sleep(&self, ms: f64) {
                let until = self.0.clock.get() + ms;
                while self.0.clock.get() < until {
                    Turns(&self.0, 1).await;
                }
            }
            fn now_ms(&self) -> f64 {
                self.0.clock.get()
            }
            fn random(&self) -> f64 {
                0.5
            }
        }
    }

    fn writer(srv: &std::rc::Rc<server::Server>) -> StClient<server::Tx> {
        let limits = crate::client::st::ClientOptions {
            rate_limit: crate::client::limiter::RateLimit { capacity: 1e9, refill_per_sec: 1e9 },
            ..Default::default()
        };
        StClient::new(server::Tx(std::rc::Rc::clone(srv)), limits)
    }

    fn on_server(srv: &server::Server) -> Vec<String> {
        from_lines(&srv.file.borrow()).1.iter().map(|m| m.mes.clone()).collect()
    }

    #[test]
    fn two_writers_saving_at_once_both_keep_their_messages_on_the_server() {
        use crate::client::share::testutil::{block_on, join};
        let srv = std::rc::Rc::new(server::Server::default());
        let link = ChatLink { avatar: "A.png".into(), file: "A - 1".into(), is_group: false, integrity: "chat-1".into(), chat_metadata: json!({}) };
        let base = vec![msg("A", false, 1, "hello")];
        block_on(writer(&srv).sync_chat(&link, &base, false)).unwrap();
        let (a, b) = (writer(&srv), writer(&srv));
        let mine = [base.clone(), vec![msg("U", true, 10, "from A")]].concat();
        let theirs = [base.clone(), vec![msg("U", true, 11, "from B")]].concat();
        // In lockstep both load the same version, both save: the second save drops A's message.
        let (ra, rb) = join(a.sync_chat(&link, &mine, false), b.sync_chat(&link, &theirs, false));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let server = on_server(&srv);
        assert!(server.contains(&"from A".to_string()) && server.contains(&"from B".to_string()), "{server:?}");
        assert_eq!(ra.overwritten + rb.overwritten, 1, "the overwritten save was seen and repaired: {ra:?} {rb:?}");
        assert!(ra.conflicts + rb.conflicts >= 1);
    }

    #[test]
    fn a_lone_writer_whose_save_is_read_back_has_nothing_to_change_locally() {
        use crate::client::share::testutil::block_on;
        let srv = std::rc::Rc::new(server::Server::default());
        let link = ChatLink { avatar: "A.png".into(), file: "A - 1".into(), is_group: false, integrity: "chat-1".into(), chat_metadata: json!({}) };
        let mut base = vec![msg("A", false, 1_795_737_600_000, "hello"), msg("U", true, 1_795_737_601_000, "hi")];
        base[0].extra = Some(json!({"api": "custom"}));
        let out = block_on(writer(&srv).sync_chat(&link, &base, false)).unwrap();
        assert_eq!(srv.saves.get(), 1);
        assert!(!out.local_changed, "the read-back is our own save: {:?}", out.messages);
        assert_eq!((out.conflicts, out.overwritten), (0, 0));
    }

    #[test]
    fn many_rounds_of_concurrent_writers_with_random_timing_lose_nothing() {
        use crate::client::share::testutil::{block_on, join};
        let mut repaired = 0;
        for round in 0..300u64 {
            let srv = std::rc::Rc::new(server::Server::default());
            let link = ChatLink { avatar: "A.png".into(), file: "A - 1".into(), is_group: false, integrity: "chat-1".into(), chat_metadata: json!({}) };
            let base = vec![msg("A", false, 1, "hello")];
            block_on(writer(&srv).sync_chat(&link, &base, false)).unwrap();
            srv.seed.set(0x9e37_79b9_7f4a_7c15 ^ round.wrapping_mul(0x1234_5678_9abc_def1).wrapping_add(1));
            let (a, b) = (writer(&srv), writer(&srv));
            let mine = [base.clone(), vec![msg("U", true, 10, "from A")]].concat();
            let mut theirs = base.clone();
            theirs[0].mes = "hello, edited".into();
            theirs.push(msg("U", true, 11, "from B"));
            let (ra, rb) = join(a.sync_chat(&link, &mine, false), b.sync_chat(&link, &theirs, false));
            let server = on_server(&srv);
            let (_, msgs) = from_lines(&srv.file.borrow());
            for (r, own) in [(&ra, "from A"), (&rb, "from B")] {
                match r {
                    Ok(o) => {
                        assert!(server.contains(&own.to_string()), "round {round}: {own} lost although its sync succeeded: {server:?}");
                        repaired += o.overwritten;
                    }
                    Err(e) => assert_eq!(e.code(), ErrorCode::IntegrityConflict, "round {round}: {e}"),
                }
            }
            if rb.is_ok() {
                assert!(all_texts(&msgs).contains(&"hello, edited".to_string()), "round {round}: B's edit lost");
            }
        }
        assert!(repaired > 0, "some rounds overwrote a save and repaired it");
    }

    #[test]
    fn lines_round_trip() {
        let link = ChatLink { avatar: "A.png".into(), file: "A - 1".into(), is_group: false, integrity: "i-1".into(), chat_metadata: json!({"note_prompt": "x"}) };
        let mut m = msg("Alice", false, 1_795_737_600_000, "hello");
        m.extra = Some(json!({"api": "custom"}));
        m.fields.insert("original_avatar".into(), json!("A.png"));
        let lines = to_lines(&link, &[m.clone()]);
        assert_eq!(lines[0]["chat_metadata"]["integrity"], "i-1");
        assert_eq!(lines[0]["chat_metadata"]["note_prompt"], "x");
        let (header, back) = from_lines(&lines);
        assert_eq!(header["chat_metadata"]["integrity"], "i-1");
        assert_eq!(back, vec![m]);
    }
}
