//! Sharing one in-flight request between identical callers, and a small response cache with
//! stale-while-revalidate reads. Single-threaded (wasm): `Rc`/`RefCell`, no locks.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::error::Result;

/// One in-flight result that several callers wait for.
struct Slot<T> {
    result: RefCell<Option<Result<T>>>,
    wakers: RefCell<Vec<Waker>>,
}

struct Wait<T>(Rc<Slot<T>>);

impl<T: Clone> Future for Wait<T> {
    type Output = Result<T>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        if let Some(r) = self.0.result.borrow().as_ref() {
            return Poll::Ready(r.clone());
        }
        self.0.wakers.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

/// Coalesces identical concurrent requests: the first caller runs the request, later callers
/// with the same key wait for its result.
pub struct Coalescer<T> {
    inflight: RefCell<HashMap<String, Rc<Slot<T>>>>,
}

impl<T> Default for Coalescer<T> {
    fn default() -> Self {
        Coalescer { inflight: RefCell::new(HashMap::new()) }
    }
}

impl<T: Clone> Coalescer<T> {
    /// Runs `make()` unless a request with `key` is already in flight, in which case its result
    /// is shared.
    pub async fn run<F, Fut>(&self, key: String, make: F) -> Result<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let existing = self.inflight.borrow().get(&key).cloned();
        if let Some(slot) = existing {
            return Wait(slot).await;
        }
        let slot = Rc::new(Slot { result: RefCell::new(None), wakers: RefCell::new(Vec::new()) });
        self.inflight.borrow_mut().insert(key.clone(), Rc::clone(&slot));
        // Removes the entry even if this future is dropped mid-way, so later callers retry.
        struct Done<'a, T>(&'a Coalescer<T>, String);
        impl<T> Drop for Done<'_, T> {
            fn drop(&mut self) {
                self.0.inflight.borrow_mut().remove(&self.1);
            }
        }
        let done = Done(self, key);
        let result = make().await;
        drop(done);
        *slot.result.borrow_mut() = Some(result.clone());
        for w in slot.wakers.borrow_mut().drain(..) {
            w.wake();
        }
        result
    }

    /// Number of distinct requests in flight.
    pub fn in_flight(&self) -> usize {
        self.inflight.borrow().len()
    }
}

/// A cached value and when it was fetched.
#[derive(Debug, Clone)]
struct Entry<T> {
    value: T,
    fetched_ms: f64,
}

/// What a cache read found.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<T> {
    /// Younger than the max age (value, time it was fetched).
    Fresh(T, f64),
    /// Older than the max age: usable now, refresh in the background.
    Stale(T, f64),
    /// Not cached.
    Miss,
}

/// A keyed cache with a size cap (oldest entries go first) and whole-cache invalidation.
pub struct Cache<T> {
    entries: RefCell<HashMap<String, Entry<T>>>,
    cap: usize,
}

impl<T: Clone> Cache<T> {
    /// A cache of at most `cap` entries.
    pub fn new(cap: usize) -> Self {
        Cache { entries: RefCell::new(HashMap::new()), cap: cap.max(1) }
    }

    /// Reads `key` at `now_ms`.
    pub fn get(&self, key: &str, now_ms: f64, max_age_ms: f64) -> Lookup<T> {
        match self.entries.borrow().get(key) {
            // Strictly younger: `max_age_ms: 0` always revalidates.
            Some(e) if now_ms - e.fetched_ms < max_age_ms => Lookup::Fresh(e.value.clone(), e.fetched_ms),
            Some(e) => Lookup::Stale(e.value.clone(), e.fetched_ms),
            None => Lookup::Miss,
        }
    }

    /// Stores `value` for `key`.
    pub fn put(&self, key: String, value: T, now_ms: f64) {
        let mut m = self.entries.borrow_mut();
        if m.len() >= self.cap && !m.contains_key(&key) {
            if let Some(oldest) =
                m.iter().min_by(|a, b| a.1.fetched_ms.total_cmp(&b.1.fetched_ms)).map(|(k, _)| k.clone())
            {
                m.remove(&oldest);
            }
        }
        m.insert(key, Entry { value, fetched_ms: now_ms });
    }

    /// Drops everything (after any mutation on the server).
    pub fn clear(&self) {
        self.entries.borrow_mut().clear();
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    pub use crate::store::conformance::block_on;

    /// Runs two futures concurrently (polled in turn) to completion.
    pub fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
        let mut a = Box::pin(a);
        let mut b = Box::pin(b);
        let (mut ra, mut rb) = (None, None);
        let mut cx = Context::from_waker(Waker::noop());
        while ra.is_none() || rb.is_none() {
            if ra.is_none() {
                if let Poll::Ready(v) = a.as_mut().poll(&mut cx) {
                    ra = Some(v);
                }
            }
            if rb.is_none() {
                if let Poll::Ready(v) = Pin::as_mut(&mut b).poll(&mut cx) {
                    rb = Some(v);
                }
            }
        }
        (ra.unwrap(), rb.unwrap())
    }

    /// A future that is pending once, then ready (to interleave test futures).
    pub struct YieldOnce(pub bool);
    impl Future for YieldOnce {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                Poll::Ready(())
            } else {
                self.0 = true;
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;
    use std::cell::Cell;

    #[test]
    fn identical_concurrent_calls_share_one_request() {
        let c: Coalescer<u32> = Coalescer::default();
        let runs = Cell::new(0);
        let call = || {
            c.run("k".into(), || async {
                runs.set(runs.get() + 1);
                YieldOnce(false).await;
                Ok(7)
            })
        };
        let (a, b) = join(call(), call());
        assert_eq!((a.unwrap(), b.unwrap()), (7, 7));
        assert_eq!(runs.get(), 1);
        assert_eq!(c.in_flight(), 0);
        // Once finished, a new call runs again.
        block_on(call()).unwrap();
        assert_eq!(runs.get(), 2);
    }

    #[test]
    fn different_keys_are_not_shared_and_errors_are_shared() {
        let c: Coalescer<u32> = Coalescer::default();
        let runs = Cell::new(0);
        let (a, b) = join(
            c.run("a".into(), || async {
                runs.set(runs.get() + 1);
                YieldOnce(false).await;
                Ok(1)
            }),
            c.run("b".into(), || async {
                runs.set(runs.get() + 1);
                Ok(2)
            }),
        );
        assert_eq!((a.unwrap(), b.unwrap(), runs.get()), (1, 2, 2));
        let fail = || {
            c.run("x".into(), || async {
                YieldOnce(false).await;
                Err::<u32, _>(crate::Error::new(crate::ErrorCode::Network, "down"))
            })
        };
        let (a, b) = join(fail(), fail());
        assert_eq!(a.unwrap_err().code(), crate::ErrorCode::Network);
        assert_eq!(b.unwrap_err().code(), crate::ErrorCode::Network);
    }

    #[test]
    fn cache_fresh_stale_miss_cap_and_clear() {
        let c: Cache<&str> = Cache::new(2);
        assert_eq!(c.get("a", 0.0, 100.0), Lookup::Miss);
        c.put("a".into(), "A", 0.0);
        assert_eq!(c.get("a", 50.0, 100.0), Lookup::Fresh("A", 0.0));
        assert_eq!(c.get("a", 150.0, 100.0), Lookup::Stale("A", 0.0));
        c.put("b".into(), "B", 10.0);
        c.put("c".into(), "C", 20.0);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get("a", 20.0, 100.0), Lookup::Miss, "oldest evicted");
        assert_eq!(c.get("c", 20.0, 0.0), Lookup::Stale("C", 20.0), "max age 0 is always stale");
        c.clear();
        assert!(c.is_empty());
    }
}
