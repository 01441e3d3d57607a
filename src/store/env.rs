//! Injected time and identity: every timestamp and every new id a store makes comes from a
//! [`Clock`] and an [`IdGen`], so tests are deterministic and sync can reason about stamps.

use std::cell::Cell;

/// A source of "now" in milliseconds since the Unix epoch.
pub trait Clock {
    /// The current time in ms since 1970-01-01T00:00:00Z.
    fn now_ms(&self) -> i64;
}

/// A source of stable, unique record ids.
pub trait IdGen {
    /// A new id, never returned before by this generator.
    fn next_id(&self) -> String;
}

/// The real clock: `Date.now()` in the browser, the system clock natively.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        #[cfg(target_arch = "wasm32")]
        {
            js_sys::Date::now() as i64
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0)
        }
    }
}

/// A clock for tests: starts at `start` and advances by `step` ms on every read.
#[derive(Debug)]
pub struct ManualClock {
    now: Cell<i64>,
    step: i64,
}

impl ManualClock {
    /// A clock reading `start`, then `start + step`, ….
    pub fn new(start: i64, step: i64) -> Self {
        ManualClock { now: Cell::new(start), step }
    }

    /// Moves the clock to `ms`.
    pub fn set(&self, ms: i64) {
        self.now.set(ms);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        let t = self.now.get();
        self.now.set(t + self.step);
        t
    }
}

/// Random 128-bit ids in UUID v4 text form (`crypto.getRandomValues` in the browser when
/// available, otherwise a time-seeded xorshift generator — ids only need to be unique).
#[derive(Debug)]
pub struct RandomIds {
    state: Cell<u64>,
}

impl Default for RandomIds {
    fn default() -> Self {
        let seed = SystemClock.now_ms() as u64 ^ 0x9E37_79B9_7F4A_7C15 ^ (&SystemClock as *const _ as u64);
        #[cfg(target_arch = "wasm32")]
        let seed = seed ^ ((js_sys::Math::random() * (u32::MAX as f64)) as u64) << 32
            ^ ((js_sys::Math::random() * (u32::MAX as f64)) as u64);
        RandomIds { state: Cell::new(seed | 1) }
    }
}

impl RandomIds {
    fn next_u64(&self) -> u64 {
        // xorshift64*
        let mut x = self.state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state.set(x);
        let mixed = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        #[cfg(target_arch = "wasm32")]
        let mixed = mixed ^ ((js_sys::Math::random() * (u32::MAX as f64)) as u64);
        mixed
    }
}

impl IdGen for RandomIds {
    fn next_id(&self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&a.to_be_bytes());
        bytes[8..].copy_from_slice(&b.to_be_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
    }
}

/// Sequential ids for tests: `<prefix>1`, `<prefix>2`, ….
#[derive(Debug)]
pub struct SeqIds {
    prefix: String,
    next: Cell<u64>,
}

impl SeqIds {
    /// Ids `<prefix>1`, `<prefix>2`, ….
    pub fn new(prefix: impl Into<String>) -> Self {
        SeqIds { prefix: prefix.into(), next: Cell::new(1) }
    }
}

impl IdGen for SeqIds {
    fn next_id(&self) -> String {
        let n = self.next.get();
        self.next.set(n + 1);
        // Zero-padded so that lexical order equals creation order.
        format!("{}{n:08}", self.prefix)
    }
}

/// Formats ms since the epoch as ISO 8601 UTC with milliseconds (`2026-11-27T05:20:00.000Z`),
/// the `send_date` form SillyTavern 1.19 writes.
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = crate::civil::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_795_737_600_123), "2026-11-27T00:00:00.123Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn random_ids_are_uuid_shaped_and_distinct() {
        let g = RandomIds::default();
        let a = g.next_id();
        let b = g.next_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn seq_ids_sort_in_creation_order() {
        let g = SeqIds::new("c");
        let ids: Vec<_> = (0..12).map(|_| g.next_id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}
