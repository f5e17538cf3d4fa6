//! Bytes in, validated token spans out: the scan's hot path.
//!
//! One Aho-Corasick pass over the buffer finds every rule keyword. Each hit
//! opens a window of the rule's `max_length` on either side; overlapping
//! windows of a rule merge, and the rule's regex runs only inside them, with
//! the bytes around the window still visible to its boundary assertions.
//! Prefix-less formats get a dedicated scan instead (see [`base32_runs`]).
//! Nothing here is per line, and nothing allocates per candidate once the
//! per-thread [`Scratch`] has warmed up.

use regex_automata::{meta, util::captures::Captures, Input};

use crate::rules::validate::{validate, Validation};
use crate::rules::{BareScan, RuleSet};

/// A validated token in the scanned buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// Index of the rule in its [`RuleSet`].
    pub rule: usize,
    pub start: usize,
    pub end: usize,
    pub validation: Validation,
}

/// Per-thread state, reused from buffer to buffer.
pub struct Scratch {
    windows: Vec<Vec<(usize, usize)>>,
    caches: Vec<meta::Cache>,
    captures: Vec<Captures>,
    touched: Vec<usize>,
}

impl Scratch {
    pub fn new(rules: &RuleSet) -> Scratch {
        Scratch {
            windows: vec![Vec::new(); rules.rules().len()],
            caches: rules
                .rules()
                .iter()
                .map(|r| r.regex.create_cache())
                .collect(),
            captures: rules
                .rules()
                .iter()
                .map(|r| r.regex.create_captures())
                .collect(),
            touched: Vec::new(),
        }
    }
}

/// Appends every validated token in `haystack` to `out`, ordered by rule
/// then position. Callers that need document order sort afterwards.
pub fn find_tokens(rules: &RuleSet, haystack: &[u8], scratch: &mut Scratch, out: &mut Vec<Match>) {
    collect_windows(rules, haystack, scratch);
    for i in 0..scratch.touched.len() {
        let rule = scratch.touched[i];
        let mut windows = std::mem::take(&mut scratch.windows[rule]);
        merge_in_place(&mut windows);
        for &(start, end) in &windows {
            confirm(rules, rule, haystack, start, end, scratch, out);
        }
        windows.clear();
        scratch.windows[rule] = windows;
    }
    scratch.touched.clear();

    for &(rule, bare) in rules.bare_rules() {
        match bare {
            BareScan::Base32Run52 => {
                base32_runs(haystack, 52, |start, end| {
                    let secret = &haystack[start..end];
                    if let Some(validation) = validate(&rules.get(rule).spec, secret) {
                        out.push(Match {
                            rule,
                            start,
                            end,
                            validation,
                        });
                    }
                });
            }
        }
    }
}

fn collect_windows(rules: &RuleSet, haystack: &[u8], scratch: &mut Scratch) {
    let Some(automaton) = rules.keywords() else {
        return;
    };
    for hit in automaton.find_iter(haystack) {
        for &rule in rules.rules_for_keyword(hit.pattern().as_usize()) {
            let reach = rules.get(rule).spec.max_length;
            // +2 past the token: room for the pattern's trailing boundary byte.
            let window = (
                hit.start().saturating_sub(reach),
                (hit.end() + reach + 2).min(haystack.len()),
            );
            let windows = &mut scratch.windows[rule];
            if windows.is_empty() {
                scratch.touched.push(rule);
            }
            windows.push(window);
        }
    }
}

/// Windows arrive in hit order, so their starts are already sorted.
fn merge_in_place(windows: &mut Vec<(usize, usize)>) {
    let mut merged = 0;
    for i in 1..windows.len() {
        if windows[i].0 <= windows[merged].1 {
            windows[merged].1 = windows[merged].1.max(windows[i].1);
        } else {
            merged += 1;
            windows[merged] = windows[i];
        }
    }
    windows.truncate(merged + 1);
}

fn confirm(
    rules: &RuleSet,
    rule: usize,
    haystack: &[u8],
    start: usize,
    end: usize,
    scratch: &mut Scratch,
    out: &mut Vec<Match>,
) {
    let compiled = rules.get(rule);
    let cache = &mut scratch.caches[rule];
    let caps = &mut scratch.captures[rule];
    let mut at = start;
    while at < end {
        // The range limits the search while the bytes outside it still count
        // for `^`, `$` and boundary classes.
        let input = Input::new(haystack).range(at..end);
        compiled.regex.search_captures_with(cache, &input, caps);
        let Some(whole) = caps.get_match() else {
            break;
        };
        let span = compiled
            .secret_group
            .and_then(|group| caps.get_group(group))
            .unwrap_or(whole.span());
        if let Some(validation) = validate(&compiled.spec, &haystack[span.start..span.end]) {
            out.push(Match {
                rule,
                start: span.start,
                end: span.end,
                validation,
            });
        }
        // Resume at the token's end, not the match's: the byte the pattern
        // consumed as a trailing boundary may be the next token's leading one.
        at = if span.end > at { span.end } else { at + 1 };
    }
}

const fn base32_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = b'a';
    while b <= b'z' {
        table[b as usize] = true;
        b += 1;
    }
    let mut d = b'2';
    while d <= b'7' {
        table[d as usize] = true;
        d += 1;
    }
    table
}

static BASE32_LOWER: [bool; 256] = base32_table();

/// Calls `found` for every maximal run of exactly `length` bytes of
/// `[a-z2-7]`, and for a run of `length + 1` that starts right after a
/// backslash with an escape letter (`\n`, `\t`, `\r`: a token at the start of
/// a JSON-escaped line).
///
/// Why it is fast: any run of at least `length` bytes covers one of the
/// checkpoints `length-1, 2*length-1, …`, so only those bytes are tested
/// until one is in the alphabet; then the run is measured around it. On
/// prose and code that touches a small fraction of the bytes.
pub fn base32_runs(haystack: &[u8], length: usize, mut found: impl FnMut(usize, usize)) {
    let is_b32 = |b: u8| BASE32_LOWER[b as usize];
    let mut checkpoint = length - 1;
    while checkpoint < haystack.len() {
        if !is_b32(haystack[checkpoint]) {
            checkpoint += length;
            continue;
        }
        let mut start = checkpoint;
        while start > 0 && is_b32(haystack[start - 1]) {
            start -= 1;
        }
        let mut end = checkpoint + 1;
        while end < haystack.len() && is_b32(haystack[end]) {
            end += 1;
        }
        let run = end - start;
        if run == length {
            found(start, end);
        } else if run == length + 1
            && start > 0
            && haystack[start - 1] == b'\\'
            && matches!(haystack[start], b'n' | b't' | b'r')
        {
            found(start + 1, end);
        }
        // `end` is outside the alphabet, so the next run starts after it and
        // must cover `end + length`.
        checkpoint = end + length;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(text: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        base32_runs(text, 4, |s, e| out.push((s, e)));
        out
    }

    #[test]
    fn base32_runs_finds_exact_length_runs_only() {
        assert_eq!(runs(b"abcd"), vec![(0, 4)]);
        assert_eq!(runs(b"x abcd y"), vec![(2, 6)]);
        assert_eq!(runs(b"abcde"), vec![]);
        assert_eq!(runs(b"abc"), vec![]);
        assert_eq!(runs(b"ab1dabcd0abcd"), vec![(9, 13)]);
        assert_eq!(runs(b"\\nabcd"), vec![(2, 6)]);
        assert_eq!(runs(b"ABCDabcd"), vec![(4, 8)]);
    }

    #[test]
    fn base32_runs_agrees_with_a_naive_scan() {
        let alphabet = b"ab2 8Z";
        let mut state = 0x1234_5678_9abc_def0u64;
        for _ in 0..2000 {
            let len = (state % 40) as usize;
            let mut text = Vec::new();
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            let mut naive = Vec::new();
            let mut i = 0;
            while i < text.len() {
                if BASE32_LOWER[text[i] as usize] {
                    let s = i;
                    while i < text.len() && BASE32_LOWER[text[i] as usize] {
                        i += 1;
                    }
                    if i - s == 4 {
                        naive.push((s, i));
                    }
                } else {
                    i += 1;
                }
            }
            assert_eq!(
                runs(&text),
                naive,
                "text {:?}",
                String::from_utf8_lossy(&text)
            );
        }
    }

    #[test]
    fn merging_windows() {
        let mut w = vec![(0, 5), (3, 8), (10, 12), (11, 11), (12, 20)];
        merge_in_place(&mut w);
        assert_eq!(w, vec![(0, 8), (10, 20)]);
    }
}
