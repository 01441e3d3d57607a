//! Stable sorting with one compiled copy of the standard library's sort per element type.
//!
//! `slice::sort_by` is generic over the comparator, so every call site with its own closure
//! compiles the whole sort again (several KB of wasm each). These helpers hand the comparator
//! over as a trait object: all call sites sorting the same element type share one copy.

use std::cmp::Ordering;

/// Sorts `v` stably by `cmp` (as `slice::sort_by`).
pub fn by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    by_dyn(v, &mut cmp);
}

/// Sorts `v` stably by `key` (as `slice::sort_by_key`).
pub fn by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    by_dyn(v, &mut |a: &T, b: &T| key(a).cmp(&key(b)));
}

fn by_dyn<T>(v: &mut [T], cmp: &mut dyn FnMut(&T, &T) -> Ordering) {
    v.sort_by(|a, b| cmp(a, b));
}

#[cfg(test)]
mod tests {
    #[test]
    fn sorts_stably_like_the_standard_sort() {
        let mut v: Vec<(u8, usize)> = [3u8, 1, 3, 0, 1, 2, 3, 0].iter().enumerate().map(|(i, &k)| (k, i)).collect();
        let mut expected = v.clone();
        expected.sort_by_key(|x| x.0);
        super::by_key(&mut v, |x| x.0);
        assert_eq!(v, expected);
        super::by(&mut v, |a, b| b.0.cmp(&a.0));
        assert_eq!(v.iter().map(|x| x.1).collect::<Vec<_>>(), [0, 2, 6, 5, 1, 4, 3, 7]);
    }
}
