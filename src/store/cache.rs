//! A persistent response cache: what the SillyTavern client keeps across page loads (the
//! character list, thumbnails), behind one small trait with two backends.
//!
//! * [`MemoryResponseCache`] — in memory (native tests, and the in-memory `TavernStore`);
//! * `IdbResponseCache` (`store::indexeddb`, wasm32 only) — the `cache` object store of an
//!   IndexedDB database (schema 3).
//!
//! It is a cache, not data: entries carry no sync metadata, are never in backups, and any of
//! them may be evicted at any time. Keys start with the server (see
//! [`crate::client::st::StClient::use_persistent_cache`]), so one server's entries are cleared
//! by prefix without touching another's. Both backends cap the number of entries and their
//! total size; the oldest (by fetch time) go first.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use crate::Result;

/// A boxed, single-threaded future (the trait is used as `Rc<dyn ResponseCache>`).
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// One cached response.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheEntry {
    /// The response body.
    pub body: Vec<u8>,
    /// Its `Content-Type` ("" when unknown).
    pub content_type: String,
    /// When it was fetched (epoch ms); decides fresh/stale and eviction order.
    pub fetched_ms: f64,
}

/// Size caps of a response cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// At most this many entries.
    pub max_entries: usize,
    /// At most this many body bytes in total (a larger single entry is not stored).
    pub max_bytes: usize,
}

impl Default for CacheLimits {
    fn default() -> Self {
        CacheLimits { max_entries: 1000, max_bytes: 32 << 20 }
    }
}

/// A keyed store of responses that outlives the client (and, in IndexedDB, the page).
pub trait ResponseCache {
    /// The entry under `key`, if any.
    fn get(&self, key: &str) -> LocalFuture<'_, Result<Option<CacheEntry>>>;
    /// Stores `entry` under `key` (replacing any). The write is issued at once, in call order
    /// with later calls, but may complete after this returns; a failed write is dropped (this
    /// is a cache). Evicts the oldest entries beyond the [`CacheLimits`].
    fn put(&self, key: &str, entry: CacheEntry);
    /// Drops every entry whose key starts with `prefix` (`""`: everything).
    fn clear(&self, prefix: &str) -> LocalFuture<'_, Result<()>>;
}

/// [`ResponseCache`] in memory.
#[derive(Debug, Default)]
pub struct MemoryResponseCache {
    entries: RefCell<HashMap<String, CacheEntry>>,
    limits: CacheLimits,
}

impl MemoryResponseCache {
    /// An empty cache with these caps.
    pub fn new(limits: CacheLimits) -> Self {
        MemoryResponseCache { entries: RefCell::new(HashMap::new()), limits }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total body bytes.
    pub fn bytes(&self) -> usize {
        self.entries.borrow().values().map(|e| e.body.len()).sum()
    }
}

impl ResponseCache for MemoryResponseCache {
    fn get(&self, key: &str) -> LocalFuture<'_, Result<Option<CacheEntry>>> {
        let found = self.entries.borrow().get(key).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn put(&self, key: &str, entry: CacheEntry) {
        if entry.body.len() > self.limits.max_bytes {
            return;
        }
        let mut m = self.entries.borrow_mut();
        m.insert(key.to_string(), entry);
        let mut bytes: usize = m.values().map(|e| e.body.len()).sum();
        while m.len() > self.limits.max_entries || bytes > self.limits.max_bytes {
            let Some(oldest) =
                m.iter().min_by(|a, b| a.1.fetched_ms.total_cmp(&b.1.fetched_ms)).map(|(k, _)| k.clone())
            else {
                break;
            };
            bytes -= m.remove(&oldest).map_or(0, |e| e.body.len());
        }
    }

    fn clear(&self, prefix: &str) -> LocalFuture<'_, Result<()>> {
        self.entries.borrow_mut().retain(|k, _| !k.starts_with(prefix));
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::share::testutil::block_on;

    fn entry(n: usize, at: f64) -> CacheEntry {
        CacheEntry { body: vec![7; n], content_type: "image/png".into(), fetched_ms: at }
    }

    #[test]
    fn put_get_replace_and_clear_by_prefix() {
        let c = MemoryResponseCache::default();
        assert_eq!(block_on(c.get("a\nx")).unwrap(), None);
        c.put("a\nx", entry(3, 1.0));
        c.put("a\ny", entry(4, 2.0));
        c.put("b\nx", entry(5, 3.0));
        assert_eq!(block_on(c.get("a\nx")).unwrap(), Some(entry(3, 1.0)));
        c.put("a\nx", entry(6, 4.0));
        assert_eq!(block_on(c.get("a\nx")).unwrap().unwrap().body.len(), 6);
        assert_eq!((c.len(), c.bytes()), (3, 15));
        block_on(c.clear("a\n")).unwrap();
        assert_eq!(c.len(), 1, "only the other prefix is left");
        assert!(block_on(c.get("b\nx")).unwrap().is_some());
        block_on(c.clear("")).unwrap();
        assert!(c.is_empty());
    }

    #[test]
    fn caps_evict_the_oldest_entries() {
        let c = MemoryResponseCache::new(CacheLimits { max_entries: 3, max_bytes: 100 });
        for i in 0..5 {
            c.put(&format!("k{i}"), entry(10, i as f64));
        }
        assert_eq!(c.len(), 3);
        assert!(block_on(c.get("k1")).unwrap().is_none(), "oldest evicted by count");
        assert!(block_on(c.get("k2")).unwrap().is_some());
        c.put("big", entry(85, 10.0));
        assert_eq!((c.len(), c.bytes()), (2, 95), "oldest evicted by size");
        assert!(block_on(c.get("k4")).unwrap().is_some());
        c.put("huge", entry(101, 11.0));
        assert!(block_on(c.get("huge")).unwrap().is_none(), "an entry over the byte cap is not kept");
        assert_eq!(c.len(), 2);
    }
}
