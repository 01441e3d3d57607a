//! Token-bucket rate limiting, one bucket per server.
//!
//! A bucket holds up to `capacity` tokens and refills at `refill_per_sec`. Each request takes one
//! token; when none is left, [`TokenBucket::try_acquire`] says how long to wait.

/// Limiter settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Burst size: requests allowed at once after an idle period.
    pub capacity: f64,
    /// Sustained requests per second.
    pub refill_per_sec: f64,
}

impl Default for RateLimit {
    /// 10 requests burst, 5 per second sustained: well under what a local SillyTavern serves.
    fn default() -> Self {
        RateLimit { capacity: 10.0, refill_per_sec: 5.0 }
    }
}

/// A token bucket. Time is passed in (milliseconds), so it is deterministic to test.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    limit: RateLimit,
    tokens: f64,
    last_ms: f64,
}

impl TokenBucket {
    /// A full bucket at time `now_ms`. Non-finite or non-positive settings fall back to the defaults.
    pub fn new(limit: RateLimit, now_ms: f64) -> Self {
        let sane = |v: f64, d: f64| if v.is_finite() && v > 0.0 { v } else { d };
        let d = RateLimit::default();
        let limit = RateLimit {
            capacity: sane(limit.capacity, d.capacity).max(1.0),
            refill_per_sec: sane(limit.refill_per_sec, d.refill_per_sec),
        };
        TokenBucket { limit, tokens: limit.capacity, last_ms: now_ms }
    }

    fn refill(&mut self, now_ms: f64) {
        // A clock that goes backwards adds nothing (and takes nothing away).
        let elapsed = (now_ms - self.last_ms).max(0.0);
        self.tokens = (self.tokens + elapsed / 1000.0 * self.limit.refill_per_sec).min(self.limit.capacity);
        self.last_ms = self.last_ms.max(now_ms);
    }

    /// Takes a token if one is available (`Ok`), or returns the milliseconds until one will be.
    pub fn try_acquire(&mut self, now_ms: f64) -> Result<(), f64> {
        self.refill(now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - self.tokens) / self.limit.refill_per_sec * 1000.0).ceil())
        }
    }

    /// Tokens available at `now_ms` (for display and tests).
    pub fn available(&mut self, now_ms: f64) -> f64 {
        self.refill(now_ms);
        self.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_then_paces_requests() {
        let mut b = TokenBucket::new(RateLimit { capacity: 3.0, refill_per_sec: 2.0 }, 0.0);
        assert!(b.try_acquire(0.0).is_ok());
        assert!(b.try_acquire(0.0).is_ok());
        assert!(b.try_acquire(0.0).is_ok());
        assert_eq!(b.try_acquire(0.0), Err(500.0));
        assert_eq!(b.try_acquire(250.0), Err(250.0));
        assert!(b.try_acquire(500.0).is_ok());
        assert_eq!(b.try_acquire(500.0), Err(500.0));
    }

    #[test]
    fn never_exceeds_capacity_after_idle_time() {
        let mut b = TokenBucket::new(RateLimit { capacity: 2.0, refill_per_sec: 100.0 }, 0.0);
        assert_eq!(b.available(60_000.0), 2.0);
    }

    #[test]
    fn sustained_rate_over_a_long_run_matches_the_setting() {
        let mut b = TokenBucket::new(RateLimit { capacity: 5.0, refill_per_sec: 10.0 }, 0.0);
        let mut granted = 0;
        let mut t = 0.0;
        while t <= 10_000.0 {
            if b.try_acquire(t).is_ok() {
                granted += 1;
            }
            t += 1.0;
        }
        // 5 burst + 10/s for 10 s
        assert_eq!(granted, 105);
    }

    #[test]
    fn bad_settings_and_backwards_clocks_are_harmless() {
        let mut b = TokenBucket::new(RateLimit { capacity: f64::NAN, refill_per_sec: -1.0 }, 1000.0);
        assert_eq!(b.available(1000.0), RateLimit::default().capacity);
        for _ in 0..10 {
            b.try_acquire(1000.0).unwrap();
        }
        assert!(b.try_acquire(0.0).is_err(), "going back in time refills nothing");
    }
}
