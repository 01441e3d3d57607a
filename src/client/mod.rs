//! SillyTavern / OpenAI-compatible client: the pure parts.
//!
//! Everything here is transport-free and tested natively:
//!
//! * [`sse`] — an incremental server-sent-events parser that survives any chunking of the
//!   byte stream, and a decoder that turns OpenAI / Claude / text-completion stream events into
//!   text deltas, a done marker or an error;
//! * [`limiter`] — a token-bucket rate limiter per server;
//! * [`retry`] — exponential backoff with jitter, honouring `Retry-After` when present;
//! * [`breaker`] — a circuit breaker that tells the caller when to switch to a fallback backend;
//! * [`http`] and [`st`] — the [`http::Transport`] seam and the SillyTavern API client written
//!   against it (CSRF, rate limit, retries, typed endpoints), tested here with a scripted fake;
//! * [`status`] — classification of HTTP outcomes (including SillyTavern's `200 {error}` answers,
//!   CSRF rejections and integrity conflicts) into stable [`ErrorCode`](crate::ErrorCode)s.
//!
//! Time is always passed in as milliseconds (`now_ms`) and randomness as a closure, so every
//! behaviour is deterministic under test.

pub mod breaker;
pub mod bridge;
pub mod generate;
pub mod http;
pub mod limiter;
pub mod retry;
pub mod share;
pub mod sse;
pub mod st;
pub mod status;
