//! Token counting. The engine counts through [`TokenCounter`], so a host app can
//! plug in its real tokenizer (a JS callback in the browser); the default is
//! SillyTavern's "None / estimated" tokenizer: `ceil(utf8_bytes / 3.35)`.

/// Counts tokens of a text.
pub trait TokenCounter {
    /// Tokens in `text`.
    fn count(&mut self, text: &str) -> usize;
}

/// SillyTavern's "None / estimated" tokenizer: `ceil(utf8 bytes / 3.35)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Estimator;

/// The estimate for `bytes` UTF-8 bytes.
pub fn estimate_bytes(bytes: usize) -> usize {
    // The same floating-point expression as JavaScript's Math.ceil(bytes / 3.35).
    (bytes as f64 / 3.35).ceil() as usize
}

impl TokenCounter for Estimator {
    fn count(&mut self, text: &str) -> usize {
        estimate_bytes(text.len())
    }
}

impl<F: FnMut(&str) -> usize> TokenCounter for F {
    fn count(&mut self, text: &str) -> usize {
        self(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimator_matches_sillytavern_none_tokenizer() {
        assert_eq!(Estimator.count(""), 0);
        assert_eq!(Estimator.count("a"), 1);
        assert_eq!(Estimator.count("abc"), 1);
        assert_eq!(Estimator.count("abcd"), 2);
        // 67 bytes / 3.35 = 20 exactly.
        assert_eq!(Estimator.count(&"x".repeat(67)), 20);
        assert_eq!(Estimator.count(&"x".repeat(68)), 21);
        assert_eq!(Estimator.count("ü"), 1, "counts UTF-8 bytes");
        let mut f = |s: &str| s.split_whitespace().count();
        assert_eq!(f.count("a b c"), 3);
    }
}
