//! The in-memory store: the reference backend for the conformance suite, and the fallback
//! where IndexedDB is unavailable (nothing survives a reload: [`StoreInfo::persistent`] is false).
//!
//! Every operation validates and computes first and mutates last, so a failed or aborted
//! operation leaves nothing partial, like an aborted IndexedDB transaction.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use serde_json::Value;

use super::schema::{self, stores, Asset, Chat, Event, Message, MessageEdit, NewMessage, Record, SettingEntry};
use super::{
    chat_after_append, from_value, live_chat, meta_of_value, next_message, stamp_new, to_value, touch_chat, BackupItem,
    Change, CharacterQuery, ImportReport, ImportSession, Listener, Page, Progress, ProgressFn, Store, StoreEnv,
    StoreInfo,
};
use crate::store::schema::Character;
use crate::{Error, ErrorCode, Result};

#[derive(Default)]
struct State {
    tables: BTreeMap<&'static str, BTreeMap<String, Value>>,
    messages: BTreeMap<(String, u64), Message>,
    blobs: BTreeMap<String, Vec<u8>>,
    settings: BTreeMap<String, SettingEntry>,
    events: VecDeque<Event>,
    next_event: u64,
    used: usize,
}

/// The in-memory [`Store`].
pub struct MemoryStore {
    state: RefCell<State>,
    env: StoreEnv,
    quota: Option<usize>,
    fallback_reason: Option<String>,
    listeners: RefCell<Vec<(u64, Listener)>>,
    next_listener: Cell<u64>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new(StoreEnv::default())
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").field("quota", &self.quota).finish_non_exhaustive()
    }
}

fn size_of<T: serde::Serialize>(v: &T) -> usize {
    serde_json::to_string(v).map(|s| s.len()).unwrap_or(0)
}

fn table_name(store: &str) -> Option<&'static str> {
    stores::RECORD_STORES.iter().copied().find(|s| *s == store)
}

impl MemoryStore {
    /// An empty store with the given environment.
    pub fn new(env: StoreEnv) -> Self {
        MemoryStore {
            state: RefCell::new(State::default()),
            env,
            quota: None,
            fallback_reason: None,
            listeners: RefCell::new(Vec::new()),
            next_listener: Cell::new(1),
        }
    }

    /// An empty store that refuses writes once its data (as JSON) would exceed `bytes`, with
    /// [`ErrorCode::QuotaExceeded`] — the memory twin of a full browser quota.
    pub fn with_quota(env: StoreEnv, bytes: usize) -> Self {
        MemoryStore { quota: Some(bytes), ..MemoryStore::new(env) }
    }

    /// Marks this store as a fallback for an unavailable IndexedDB, with the reason.
    pub fn as_fallback(mut self, reason: impl Into<String>) -> Self {
        self.fallback_reason = Some(reason.into());
        self
    }

    /// Approximate bytes stored (JSON size of records plus asset bytes).
    pub fn used_bytes(&self) -> usize {
        self.state.borrow().used
    }

    fn check_quota(&self, used: usize, delta_add: usize, delta_sub: usize) -> Result<usize> {
        let next = (used + delta_add).saturating_sub(delta_sub);
        match self.quota {
            Some(q) if next > q && delta_add > delta_sub => Err(Error::new(
                ErrorCode::QuotaExceeded,
                format!("storage quota exceeded ({next} of {q} bytes); nothing was written"),
            )),
            _ => Ok(next),
        }
    }

    fn emit(&self, change: Change) {
        let ls: Vec<Listener> = self.listeners.borrow().iter().map(|(_, l)| l.clone()).collect();
        for l in ls {
            l(&change);
        }
    }

    fn last_live_message(st: &State, chat_id: &str) -> Option<Message> {
        st.messages
            .range((chat_id.to_string(), 0)..=(chat_id.to_string(), u64::MAX))
            .rev()
            .map(|(_, m)| m)
            .find(|m| !m.deleted)
            .cloned()
    }

    fn get_chat(st: &State, chat_id: &str) -> Result<Option<Chat>> {
        st.tables
            .get(stores::CHATS)
            .and_then(|t| t.get(chat_id))
            .cloned()
            .map(|v| from_value::<Chat>(v, stores::CHATS))
            .transpose()
    }
}

impl Store for MemoryStore {
    fn info(&self) -> StoreInfo {
        StoreInfo {
            backend: "memory".into(),
            persistent: false,
            name: String::new(),
            schema_version: schema::SCHEMA_VERSION,
            fallback_reason: self.fallback_reason.clone(),
        }
    }

    fn env(&self) -> &StoreEnv {
        &self.env
    }

    async fn get_raw<R: Record>(&self, id: &str) -> Result<Option<R>> {
        let v = self.state.borrow().tables.get(R::STORE).and_then(|t| t.get(id)).cloned();
        v.map(|v| from_value(v, R::STORE)).transpose()
    }

    async fn list_raw<R: Record>(&self) -> Result<Vec<R>> {
        let vs: Vec<Value> =
            self.state.borrow().tables.get(R::STORE).map(|t| t.values().cloned().collect()).unwrap_or_default();
        vs.into_iter().map(|v| from_value(v, R::STORE)).collect()
    }

    async fn write<R: Record>(&self, id: &str, f: &mut dyn FnMut(Option<R>) -> Result<R>) -> Result<R> {
        let store = table_name(R::STORE).ok_or_else(|| Error::new(ErrorCode::Internal, "not a record store"))?;
        let cur = self.get_raw::<R>(id).await?;
        let old_size = cur.as_ref().map(size_of).unwrap_or(0);
        let mut next = f(cur)?;
        next.reindex();
        next.validate()?;
        if next.sync_meta().id != id {
            return Err(Error::new(ErrorCode::Internal, "a write changed the record id"));
        }
        let v = to_value(&next)?;
        let deleted = next.sync_meta().deleted;
        {
            let mut st = self.state.borrow_mut();
            let used = self.check_quota(st.used, size_of(&v), old_size)?;
            st.used = used;
            st.tables.entry(store).or_default().insert(id.to_string(), v);
        }
        self.emit(Change::local(store, if deleted { "delete" } else { "put" }, vec![id.to_string()]));
        Ok(next)
    }

    async fn put_many<R: Record>(&self, records: Vec<R>, progress: ProgressFn<'_>) -> Result<()> {
        let store = table_name(R::STORE).ok_or_else(|| Error::new(ErrorCode::Internal, "not a record store"))?;
        let total = records.len();
        let mut staged = Vec::with_capacity(total);
        let mut add = 0;
        for (i, mut r) in records.into_iter().enumerate() {
            r.reindex();
            let v = to_value(&r)?;
            add += size_of(&v);
            staged.push((r.sync_meta().id, v));
            if progress(Progress { done: i + 1, total }).is_break() {
                return Err(Error::new(ErrorCode::Aborted, "the import was cancelled; nothing was written"));
            }
        }
        let ids: Vec<String> = staged.iter().map(|(id, _)| id.clone()).collect();
        {
            let mut st = self.state.borrow_mut();
            let sub: usize =
                staged.iter().filter_map(|(id, _)| st.tables.get(store).and_then(|t| t.get(id))).map(size_of).sum();
            st.used = self.check_quota(st.used, add, sub)?;
            let t = st.tables.entry(store).or_default();
            for (id, v) in staged {
                t.insert(id, v);
            }
        }
        self.emit(Change::local(store, "put", ids));
        Ok(())
    }

    async fn put_characters(
        &self,
        chars: Vec<Character>,
        assets: Vec<(Asset, Vec<u8>)>,
        progress: ProgressFn<'_>,
    ) -> Result<()> {
        let total = chars.len();
        let mut staged_chars = Vec::with_capacity(total);
        let mut staged_assets = Vec::with_capacity(assets.len());
        let mut add = 0;
        {
            let st = self.state.borrow();
            let taken = |t: &str, id: &str| st.tables.get(t).is_some_and(|m| m.contains_key(id));
            for (a, bytes) in assets {
                if taken(stores::ASSETS, &a.id) {
                    return Err(Error::invalid_argument(format!("an asset with id {:?} exists", a.id)));
                }
                let v = to_value(&a)?;
                add += size_of(&v) + bytes.len();
                staged_assets.push((a.id.clone(), v, bytes));
            }
            for (i, mut c) in chars.into_iter().enumerate() {
                c.reindex();
                c.validate()?;
                if taken(stores::CHARACTERS, &c.id) {
                    return Err(Error::invalid_argument(format!("a characters record with id {:?} exists", c.id)));
                }
                let v = to_value(&c)?;
                add += size_of(&v);
                staged_chars.push((c.id.clone(), v));
                if progress(Progress { done: i + 1, total }).is_break() {
                    return Err(Error::new(ErrorCode::Aborted, "the import was cancelled; nothing was written"));
                }
            }
        }
        let char_ids: Vec<String> = staged_chars.iter().map(|(id, _)| id.clone()).collect();
        let asset_ids: Vec<String> = staged_assets.iter().map(|(id, _, _)| id.clone()).collect();
        {
            let mut st = self.state.borrow_mut();
            st.used = self.check_quota(st.used, add, 0)?;
            for (id, v, bytes) in staged_assets {
                st.tables.entry(stores::ASSETS).or_default().insert(id.clone(), v);
                st.blobs.insert(id, bytes);
            }
            let t = st.tables.entry(stores::CHARACTERS).or_default();
            for (id, v) in staged_chars {
                t.insert(id, v);
            }
        }
        if !asset_ids.is_empty() {
            self.emit(Change::local(stores::ASSETS, "put", asset_ids));
        }
        self.emit(Change::local(stores::CHARACTERS, "put", char_ids));
        Ok(())
    }

    async fn delete_chat(&self, chat_id: &str) -> Result<Chat> {
        let chat = {
            let mut st = self.state.borrow_mut();
            let chat = live_chat(Self::get_chat(&st, chat_id)?, chat_id)?;
            let prev = chat.sync_meta();
            let mut next = chat;
            next.deleted = true;
            let next = super::stamp_update(&self.env, &prev, next);
            let cv = to_value(&next)?;
            let live: Vec<(String, u64)> = st
                .messages
                .range((chat_id.to_string(), 0)..=(chat_id.to_string(), u64::MAX))
                .filter(|(_, m)| !m.deleted)
                .map(|(k, _)| k.clone())
                .collect();
            for k in live {
                if let Some(m) = st.messages.get(&k).cloned() {
                    let prev = m.sync_meta();
                    let mut t = m;
                    t.deleted = true;
                    let t = super::stamp_update(&self.env, &prev, t);
                    st.messages.insert(k, t);
                }
            }
            st.tables.entry(stores::CHATS).or_default().insert(chat_id.to_string(), cv);
            next
        };
        self.emit(Change::local(stores::CHATS, "delete", vec![chat_id.to_string()]));
        self.emit(Change::local(stores::MESSAGES, "delete", vec![chat_id.to_string()]));
        Ok(chat)
    }

    async fn list_characters(&self, q: &CharacterQuery) -> Result<Page<Character>> {
        let all = self.list_raw::<Character>().await?;
        Ok(q.apply(all))
    }

    async fn append_message(&self, chat_id: &str, msg: NewMessage) -> Result<Message> {
        let m = {
            let mut st = self.state.borrow_mut();
            let chat = live_chat(Self::get_chat(&st, chat_id)?, chat_id)?;
            let m = next_message(&self.env, &chat, msg)?;
            if st.messages.contains_key(&(chat_id.to_string(), m.seq)) {
                // IndexedDB's `add` fails with ConstraintError here; so do we.
                return Err(Error::new(
                    ErrorCode::Storage,
                    format!("a message with seq {} already exists in chat {chat_id:?}; nothing was written", m.seq),
                ));
            }
            let chat = touch_chat(&self.env, chat_after_append(chat, &m));
            let cv = to_value(&chat)?;
            let old = st.tables.get(stores::CHATS).and_then(|t| t.get(chat_id)).map(size_of).unwrap_or(0);
            st.used = self.check_quota(st.used, size_of(&m) + size_of(&cv), old)?;
            st.messages.insert((chat_id.to_string(), m.seq), m.clone());
            st.tables.entry(stores::CHATS).or_default().insert(chat_id.to_string(), cv);
            m
        };
        self.emit(Change::local(stores::MESSAGES, "put", vec![chat_id.to_string()]));
        Ok(m)
    }

    async fn edit_message(&self, chat_id: &str, seq: u64, edit: &MessageEdit) -> Result<Message> {
        let m = {
            let mut st = self.state.borrow_mut();
            let chat = live_chat(Self::get_chat(&st, chat_id)?, chat_id)?;
            let key = (chat_id.to_string(), seq);
            let cur = st.messages.get(&key).filter(|m| !m.deleted).cloned().ok_or_else(|| {
                Error::new(ErrorCode::NotFound, format!("no message {seq} in chat {chat_id:?}"))
            })?;
            let prev = cur.sync_meta();
            let mut next = cur.clone();
            next.apply_edit(edit)?;
            let next = super::stamp_update(&self.env, &prev, next);
            let is_last = Self::last_live_message(&st, chat_id).map(|l| l.seq) == Some(seq);
            let mut chat = chat;
            if is_last {
                chat.last_message_preview = Some(schema::preview(&next.mes));
            }
            let chat = touch_chat(&self.env, chat);
            let cv = to_value(&chat)?;
            st.used = self.check_quota(st.used, size_of(&next), size_of(&cur))?;
            st.messages.insert(key, next.clone());
            st.tables.entry(stores::CHATS).or_default().insert(chat_id.to_string(), cv);
            next
        };
        self.emit(Change::local(stores::MESSAGES, "put", vec![chat_id.to_string()]));
        Ok(m)
    }

    async fn delete_message(&self, chat_id: &str, seq: u64) -> Result<()> {
        {
            let mut st = self.state.borrow_mut();
            let mut chat = live_chat(Self::get_chat(&st, chat_id)?, chat_id)?;
            let key = (chat_id.to_string(), seq);
            let cur = st.messages.get(&key).filter(|m| !m.deleted).cloned().ok_or_else(|| {
                Error::new(ErrorCode::NotFound, format!("no message {seq} in chat {chat_id:?}"))
            })?;
            let prev = cur.sync_meta();
            let mut next = cur;
            next.deleted = true;
            let next = super::stamp_update(&self.env, &prev, next);
            st.messages.insert(key, next);
            let last = Self::last_live_message(&st, chat_id);
            chat.message_count = chat.message_count.saturating_sub(1);
            chat.last_message_preview = last.as_ref().map(|m| schema::preview(&m.mes));
            chat.last_message_at = last.as_ref().map(|m| m.send_date.unwrap_or(m.created_at));
            let chat = touch_chat(&self.env, chat);
            let cv = to_value(&chat)?;
            st.tables.entry(stores::CHATS).or_default().insert(chat_id.to_string(), cv);
        }
        self.emit(Change::local(stores::MESSAGES, "delete", vec![chat_id.to_string()]));
        Ok(())
    }

    async fn messages(&self, chat_id: &str, before: Option<u64>, limit: usize) -> Result<Vec<Message>> {
        let st = self.state.borrow();
        let end = before.unwrap_or(u64::MAX);
        let mut out: Vec<Message> = st
            .messages
            .range((chat_id.to_string(), 0)..(chat_id.to_string(), end))
            .rev()
            .map(|(_, m)| m)
            .filter(|m| !m.deleted)
            .take(limit)
            .cloned()
            .collect();
        out.reverse();
        Ok(out)
    }

    async fn all_messages(&self, chat_id: &str) -> Result<Vec<Message>> {
        let st = self.state.borrow();
        Ok(st
            .messages
            .range((chat_id.to_string(), 0)..=(chat_id.to_string(), u64::MAX))
            .map(|(_, m)| m.clone())
            .collect())
    }

    async fn get_setting(&self, key: &str) -> Result<Option<SettingEntry>> {
        Ok(self.state.borrow().settings.get(key).cloned())
    }

    async fn put_setting(&self, key: &str, value: Value) -> Result<SettingEntry> {
        let e = {
            let mut st = self.state.borrow_mut();
            let prev = st.settings.get(key).cloned();
            let e = SettingEntry {
                key: key.to_string(),
                value,
                rev: prev.as_ref().map(|p| p.rev).unwrap_or(0) + 1,
                updated_at: self.env.clock.now_ms().max(prev.as_ref().map(|p| p.updated_at).unwrap_or(0)),
            };
            st.used = self.check_quota(st.used, size_of(&e), prev.as_ref().map(size_of).unwrap_or(0))?;
            st.settings.insert(key.to_string(), e.clone());
            e
        };
        self.emit(Change::local(stores::SETTINGS, "put", vec![key.to_string()]));
        Ok(e)
    }

    async fn list_settings(&self) -> Result<Vec<SettingEntry>> {
        Ok(self.state.borrow().settings.values().cloned().collect())
    }

    async fn put_asset(&self, asset: Asset, bytes: Vec<u8>) -> Result<Asset> {
        let mut asset = stamp_new(&self.env, asset);
        asset.size = bytes.len() as u64;
        asset.validate()?;
        let id = asset.id.clone();
        {
            let mut st = self.state.borrow_mut();
            if st.tables.get(stores::ASSETS).is_some_and(|t| t.contains_key(&id)) {
                return Err(Error::invalid_argument(format!("an asset with id {id:?} exists")));
            }
            let v = to_value(&asset)?;
            st.used = self.check_quota(st.used, size_of(&v) + bytes.len(), 0)?;
            st.tables.entry(stores::ASSETS).or_default().insert(id.clone(), v);
            st.blobs.insert(id.clone(), bytes);
        }
        self.emit(Change::local(stores::ASSETS, "put", vec![id]));
        Ok(asset)
    }

    async fn asset_bytes(&self, id: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.state.borrow().blobs.get(id).cloned())
    }

    async fn log_event(&self, kind: &str, data: Value) -> Result<Event> {
        let mut st = self.state.borrow_mut();
        st.next_event += 1;
        let e = Event { seq: st.next_event, at: self.env.clock.now_ms(), kind: kind.to_string(), data };
        st.events.push_back(e.clone());
        while st.events.len() > self.env.event_log_cap {
            st.events.pop_front();
        }
        Ok(e)
    }

    async fn events(&self, after: Option<u64>, limit: usize) -> Result<Vec<Event>> {
        let st = self.state.borrow();
        let after = after.unwrap_or(0);
        Ok(st.events.iter().filter(|e| e.seq > after).take(limit).cloned().collect())
    }

    async fn import_items(
        &self,
        items: Vec<BackupItem>,
        session: &mut ImportSession,
        progress: ProgressFn<'_>,
    ) -> Result<ImportReport> {
        // Stage every decision against the current state as this call changes it (so duplicates
        // in a backup resolve item by item, like IndexedDB's reads inside its transaction, and
        // the outcome does not depend on how the items are split into calls), then apply all.
        enum Op {
            Rec(&'static str, String, Value),
            Msg(Box<Message>),
            Blob(String, Vec<u8>),
            Set(SettingEntry),
        }
        let total = items.len();
        let mut ops = Vec::new();
        let mut report = ImportReport::default();
        // Assets whose metadata this call writes; `session` gets them once everything is kept.
        let mut written_assets = std::collections::HashSet::new();
        let mut staged_msgs: std::collections::HashMap<(String, u64), super::SyncMeta> = Default::default();
        let mut staged_recs: std::collections::HashMap<(&'static str, String), super::SyncMeta> = Default::default();
        let mut staged_blobs = std::collections::HashSet::new();
        let mut staged_sets: std::collections::HashMap<String, (u64, i64)> = Default::default();
        {
            let st = self.state.borrow();
            for (i, item) in items.into_iter().enumerate() {
                match item {
                    BackupItem::Record { store, record } if store == stores::MESSAGES => {
                        let m: Message = from_value(record, stores::MESSAGES)?;
                        let key = (m.chat_id.clone(), m.seq);
                        let cur =
                            staged_msgs.get(&key).cloned().or_else(|| st.messages.get(&key).map(|c| c.sync_meta()));
                        let newer = cur.is_none_or(|cur| m.sync_meta().newer_than(&cur));
                        if newer {
                            staged_msgs.insert(key, m.sync_meta());
                            ops.push(Op::Msg(Box::new(m)));
                            report.written += 1;
                        } else {
                            report.skipped += 1;
                        }
                    }
                    BackupItem::Record { store, record } => {
                        let t = table_name(&store)
                            .ok_or_else(|| Error::new(ErrorCode::UnsupportedFormat, format!("unknown store {store}")))?;
                        let record = normalize_imported(t, record)?;
                        let meta = meta_of_value(&record);
                        if meta.id.is_empty() {
                            return Err(Error::new(ErrorCode::Validation, format!("a {t} record without id")));
                        }
                        let key = (t, meta.id.clone());
                        let cur = staged_recs
                            .get(&key)
                            .cloned()
                            .or_else(|| st.tables.get(t).and_then(|m| m.get(&meta.id)).map(meta_of_value));
                        let newer = cur.is_none_or(|cur| meta.newer_than(&cur));
                        if newer {
                            if t == stores::ASSETS {
                                written_assets.insert(meta.id.clone());
                            }
                            staged_recs.insert(key, meta.clone());
                            ops.push(Op::Rec(t, meta.id, record));
                            report.written += 1;
                        } else {
                            report.skipped += 1;
                        }
                    }
                    BackupItem::AssetBytes { id, bytes } => {
                        let exists = staged_blobs.contains(&id) || st.blobs.contains_key(&id);
                        if written_assets.contains(&id) || session.written_assets.contains(&id) || !exists {
                            staged_blobs.insert(id.clone());
                            ops.push(Op::Blob(id, bytes));
                            report.written += 1;
                        } else {
                            report.skipped += 1;
                        }
                    }
                    BackupItem::Setting(s) => {
                        let cur = staged_sets
                            .get(&s.key)
                            .copied()
                            .or_else(|| st.settings.get(&s.key).map(|c| (c.rev, c.updated_at)));
                        let newer = cur.is_none_or(|cur| (s.rev, s.updated_at) > cur);
                        if newer {
                            staged_sets.insert(s.key.clone(), (s.rev, s.updated_at));
                            ops.push(Op::Set(s));
                            report.written += 1;
                        } else {
                            report.skipped += 1;
                        }
                    }
                }
                if progress(Progress { done: i + 1, total }).is_break() {
                    return Err(Error::new(ErrorCode::Aborted, "the import was cancelled; nothing was written"));
                }
            }
        }
        let add: usize = ops
            .iter()
            .map(|o| match o {
                Op::Rec(_, _, v) => size_of(v),
                Op::Msg(m) => size_of(&**m),
                Op::Blob(_, b) => b.len(),
                Op::Set(s) => size_of(s),
            })
            .sum();
        let mut st = self.state.borrow_mut();
        st.used = self.check_quota(st.used, add, 0)?;
        for op in ops {
            match op {
                Op::Rec(t, id, v) => {
                    st.tables.entry(t).or_default().insert(id, v);
                }
                Op::Msg(m) => {
                    st.messages.insert((m.chat_id.clone(), m.seq), *m);
                }
                Op::Blob(id, b) => {
                    st.blobs.insert(id, b);
                }
                Op::Set(s) => {
                    st.settings.insert(s.key.clone(), s);
                }
            }
        }
        drop(st);
        session.written_assets.extend(written_assets);
        self.emit(Change::local("*", "import", Vec::new()));
        Ok(report)
    }

    fn subscribe(&self, listener: Listener) -> u64 {
        let h = self.next_listener.get();
        self.next_listener.set(h + 1);
        self.listeners.borrow_mut().push((h, listener));
        h
    }

    fn unsubscribe(&self, handle: u64) {
        self.listeners.borrow_mut().retain(|(h, _)| *h != handle);
    }
}

/// Brings an imported record to the current schema (derived index fields recomputed).
pub fn normalize_imported(store: &str, record: Value) -> Result<Value> {
    if store == stores::CHARACTERS {
        let mut c: Character = from_value(record, store)?;
        c.reindex();
        return to_value(&c);
    }
    Ok(record)
}
