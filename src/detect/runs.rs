//! Maximal runs of a byte class, found without looking at every byte.
//!
//! Any run of at least `min` bytes covers one of the checkpoints
//! `min-1, 2*min-1, …`, so only those bytes are tested until one is in the
//! class; then the run is measured around it and the next checkpoint is set
//! `min` bytes past its end. On code and prose this touches a fraction of the
//! bytes, which is what lets the prefix-less Azure DevOps PAT and base64
//! views ride along with the keyword pass at little cost.

use std::ops::Range;

/// A byte class as a lookup table.
pub type ByteClass = [bool; 256];

const fn base32_lower_class() -> ByteClass {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = is_base32_lower(i as u8);
        i += 1;
    }
    table
}

const fn base64_class() -> ByteClass {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = is_base64(i as u8);
        i += 1;
    }
    table
}

const fn is_base32_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || (b >= b'2' && b <= b'7')
}

const fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'-' || b == b'_'
}

/// `[a-z2-7]`: the legacy Azure DevOps PAT's alphabet.
pub static BASE32_LOWER: ByteClass = base32_lower_class();
/// Standard and URL-safe base64 together (without `=`): every token
/// alphabet is inside it, and so is every base64 run worth decoding.
pub static BASE64_ANY: ByteClass = base64_class();

/// Calls `found(start, end)` for each maximal run of `class` bytes in
/// `range` that is at least `min` bytes long. Runs are maximal within
/// `range`: callers pass a range whose edges are outside the class.
pub fn maximal_runs(
    class: &ByteClass,
    haystack: &[u8],
    range: Range<usize>,
    min: usize,
    mut found: impl FnMut(usize, usize),
) {
    debug_assert!(min > 0);
    let limit = range.end.min(haystack.len());
    let mut checkpoint = range.start + min - 1;
    while checkpoint < limit {
        if !class[haystack[checkpoint] as usize] {
            checkpoint += min;
            continue;
        }
        let mut start = checkpoint;
        while start > range.start && class[haystack[start - 1] as usize] {
            start -= 1;
        }
        let mut end = checkpoint + 1;
        while end < limit && class[haystack[end] as usize] {
            end += 1;
        }
        if end - start >= min {
            found(start, end);
        }
        // `end` is outside the class, so the next run starts after it and
        // must cover `end + min`.
        checkpoint = end + min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(class: &ByteClass, text: &[u8], min: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < text.len() {
            if class[text[i] as usize] {
                let s = i;
                while i < text.len() && class[text[i] as usize] {
                    i += 1;
                }
                if i - s >= min {
                    out.push((s, i));
                }
            } else {
                i += 1;
            }
        }
        out
    }

    #[test]
    fn agrees_with_a_naive_scan() {
        let alphabet = b"ab2 8Z+=";
        let mut state = 0x1234_5678_9abc_def0u64;
        for round in 0..3000 {
            let len = (state % 60) as usize;
            let min = 1 + round % 6;
            let mut text = Vec::new();
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            for class in [&BASE32_LOWER, &BASE64_ANY] {
                let mut got = Vec::new();
                maximal_runs(class, &text, 0..text.len(), min, |s, e| got.push((s, e)));
                assert_eq!(
                    got,
                    naive(class, &text, min),
                    "{:?}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }

    #[test]
    fn runs_stay_inside_the_range() {
        let text = b"abcdefgh";
        let mut got = Vec::new();
        maximal_runs(&BASE32_LOWER, text, 2..6, 2, |s, e| got.push((s, e)));
        assert_eq!(got, vec![(2, 6)]);
    }
}
