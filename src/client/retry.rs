//! Retries with exponential backoff and full jitter, bounded, honouring `Retry-After`.
//!
//! Note: through SillyTavern an upstream's `Retry-After` never reaches the browser (the server
//! does not pass the header on), so the backoff must work without it; when a server does send
//! it (a direct OpenAI-compatible endpoint), it wins over the computed delay, capped by
//! `max_delay_ms`.

use crate::error::ErrorCode;

/// Retry settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry).
    pub max_retries: u32,
    /// Delay before the first retry, before jitter.
    pub base_delay_ms: f64,
    /// Upper bound of any single delay.
    pub max_delay_ms: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 3, base_delay_ms: 500.0, max_delay_ms: 30_000.0 }
    }
}

/// Whether an error with this code is worth retrying (transient).
pub fn is_retryable(code: ErrorCode) -> bool {
    matches!(code, ErrorCode::RateLimited | ErrorCode::ServerError | ErrorCode::Network | ErrorCode::Timeout)
}

impl RetryPolicy {
    /// The delay before retry number `retry` (1-based), or `None` when retries are used up.
    /// `random` returns a uniform number in `[0, 1)` (seedable in tests).
    pub fn delay_ms(&self, retry: u32, retry_after_ms: Option<f64>, random: &mut dyn FnMut() -> f64) -> Option<f64> {
        if retry == 0 || retry > self.max_retries {
            return None;
        }
        let max = if self.max_delay_ms.is_finite() && self.max_delay_ms >= 0.0 { self.max_delay_ms } else { 30_000.0 };
        if let Some(ra) = retry_after_ms.filter(|v| v.is_finite() && *v >= 0.0) {
            return Some(ra.min(max));
        }
        let exp = self.base_delay_ms.max(0.0) * 2f64.powi(retry.min(30) as i32 - 1);
        let r = random();
        let r = if r.is_finite() { r.clamp(0.0, 1.0) } else { 0.5 };
        // "Full jitter" over the upper half: spreads clients out but never retries instantly.
        Some((exp.min(max) * (0.5 + 0.5 * r)).floor())
    }
}

/// Parses a `Retry-After` header value: delay-seconds, or an HTTP date (IMF-fixdate) relative to
/// `now_ms` (Unix epoch milliseconds). Returns milliseconds to wait, or `None` if unparseable.
pub fn parse_retry_after(value: &str, now_ms: f64) -> Option<f64> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(secs.min(86_400) as f64 * 1000.0);
    }
    let at = parse_imf_fixdate(v)?;
    Some((at - now_ms).max(0.0))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` → Unix epoch milliseconds.
fn parse_imf_fixdate(s: &str) -> Option<f64> {
    let rest = s.split_once(", ")?.1;
    let parts: Vec<&str> = rest.split(' ').collect();
    if parts.len() != 5 || parts[4] != "GMT" {
        return None;
    }
    let day: i64 = parts[0].parse().ok()?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| *m == parts[1])? as i64
        + 1;
    let year: i64 = parts[2].parse().ok()?;
    let hms: Vec<i64> = parts[3].split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    if hms.len() != 3 || !(1..=31).contains(&day) || hms[0] > 23 || hms[1] > 59 || hms[2] > 60 {
        return None;
    }
    let days = crate::civil::days_from_civil(year, month, day);
    Some(((days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2]) * 1000) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_within_jitter_bounds_and_stop() {
        let p = RetryPolicy { max_retries: 4, base_delay_ms: 100.0, max_delay_ms: 500.0 };
        let mut lo = || 0.0;
        let mut hi = || 0.999_999;
        assert_eq!(p.delay_ms(1, None, &mut lo), Some(50.0));
        assert_eq!(p.delay_ms(1, None, &mut hi), Some(99.0));
        assert_eq!(p.delay_ms(2, None, &mut lo), Some(100.0));
        assert_eq!(p.delay_ms(3, None, &mut lo), Some(200.0));
        assert_eq!(p.delay_ms(4, None, &mut hi), Some(499.0), "capped by max_delay_ms");
        assert_eq!(p.delay_ms(5, None, &mut lo), None, "retries used up");
        assert_eq!(p.delay_ms(0, None, &mut lo), None);
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = RetryPolicy { max_retries: 2, base_delay_ms: 100.0, max_delay_ms: 5_000.0 };
        let mut r = || 0.5;
        assert_eq!(p.delay_ms(1, Some(2_000.0), &mut r), Some(2_000.0));
        assert_eq!(p.delay_ms(1, Some(60_000.0), &mut r), Some(5_000.0));
        assert_eq!(p.delay_ms(3, Some(10.0), &mut r), None, "Retry-After does not extend the retry budget");
    }

    #[test]
    fn parses_retry_after_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("3", 0.0), Some(3_000.0));
        assert_eq!(parse_retry_after(" 120 ", 0.0), Some(120_000.0));
        // 1994-11-06T08:49:37Z = 784111777 s
        assert_eq!(parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000.0));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", 784_111_777_000.0), Some(10_000.0));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 900_000_000_000.0), Some(0.0), "past dates mean now");
        assert_eq!(parse_retry_after("soon", 0.0), None);
        assert_eq!(parse_retry_after("Sun, 32 Nov 1994 08:49:37 GMT", 0.0), None);
        assert_eq!(parse_retry_after("-5", 0.0), None);
    }

    #[test]
    fn only_transient_errors_are_retryable() {
        assert!(is_retryable(ErrorCode::RateLimited));
        assert!(is_retryable(ErrorCode::ServerError));
        assert!(is_retryable(ErrorCode::Network));
        assert!(!is_retryable(ErrorCode::Unauthorized));
        assert!(!is_retryable(ErrorCode::IntegrityConflict));
        assert!(!is_retryable(ErrorCode::Aborted));
    }
}
