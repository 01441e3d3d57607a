//! Circuit breaker: after `failure_threshold` consecutive failures a backend is "open" (skipped,
//! so the caller switches to its fallback) for `cooldown_ms`; then one trial request is let
//! through ("half-open"): success closes the circuit, failure opens it again.

/// Breaker settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BreakerPolicy {
    /// Consecutive failures that open the circuit.
    pub failure_threshold: u32,
    /// How long the circuit stays open before a trial request.
    pub cooldown_ms: f64,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy { failure_threshold: 3, cooldown_ms: 30_000.0 }
    }
}

/// Breaker state, as reported to the caller.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum BreakerState {
    /// Requests flow normally.
    Closed,
    /// Requests are refused until `until_ms`; use the fallback.
    Open {
        /// When a trial request will be allowed.
        until_ms: f64,
    },
    /// One trial request is in flight.
    HalfOpen,
}

/// A circuit breaker for one backend.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    policy: BreakerPolicy,
    failures: u32,
    state: BreakerState,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(policy: BreakerPolicy) -> Self {
        CircuitBreaker { policy, failures: 0, state: BreakerState::Closed }
    }

    /// The current state at `now_ms`.
    pub fn state(&self, now_ms: f64) -> BreakerState {
        match self.state {
            BreakerState::Open { until_ms } if now_ms >= until_ms => BreakerState::HalfOpen,
            s => s,
        }
    }

    /// Whether a request may go to this backend now. In the half-open state this admits exactly
    /// one trial request until its outcome is recorded.
    pub fn allow(&mut self, now_ms: f64) -> bool {
        match self.state {
            BreakerState::Closed => true,
            BreakerState::Open { until_ms } if now_ms >= until_ms => {
                self.state = BreakerState::HalfOpen;
                true
            }
            BreakerState::Open { .. } | BreakerState::HalfOpen => false,
        }
    }

    /// Records a success: the circuit closes.
    pub fn record_success(&mut self) {
        self.failures = 0;
        self.state = BreakerState::Closed;
    }

    /// Records a failure; returns true when this failure opened the circuit.
    pub fn record_failure(&mut self, now_ms: f64) -> bool {
        self.failures = self.failures.saturating_add(1);
        let open = matches!(self.state, BreakerState::HalfOpen) || self.failures >= self.policy.failure_threshold.max(1);
        if open {
            let was_open = matches!(self.state, BreakerState::Open { .. });
            self.state = BreakerState::Open { until_ms: now_ms + self.policy.cooldown_ms.max(0.0) };
            return !was_open;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_then_half_opens_after_cooldown() {
        let mut b = CircuitBreaker::new(BreakerPolicy { failure_threshold: 3, cooldown_ms: 1000.0 });
        assert!(b.allow(0.0));
        assert!(!b.record_failure(0.0));
        assert!(!b.record_failure(10.0));
        assert!(b.record_failure(20.0), "third failure opens");
        assert_eq!(b.state(20.0), BreakerState::Open { until_ms: 1020.0 });
        assert!(!b.allow(500.0));
        assert!(b.allow(1020.0), "trial request after the cooldown");
        assert!(!b.allow(1021.0), "only one trial at a time");
        b.record_success();
        assert_eq!(b.state(1022.0), BreakerState::Closed);
        assert!(b.allow(1022.0));
    }

    #[test]
    fn a_failed_trial_reopens_immediately() {
        let mut b = CircuitBreaker::new(BreakerPolicy { failure_threshold: 2, cooldown_ms: 100.0 });
        b.record_failure(0.0);
        b.record_failure(0.0);
        assert!(b.allow(100.0));
        assert!(b.record_failure(150.0));
        assert_eq!(b.state(150.0), BreakerState::Open { until_ms: 250.0 });
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let mut b = CircuitBreaker::new(BreakerPolicy { failure_threshold: 2, cooldown_ms: 100.0 });
        b.record_failure(0.0);
        b.record_success();
        assert!(!b.record_failure(1.0));
        assert_eq!(b.state(1.0), BreakerState::Closed);
    }
}
