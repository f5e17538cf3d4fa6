//! Bytes in, validated token spans out: the scan's hot path.
//!
//! One Aho-Corasick pass over the buffer finds every rule keyword. Each hit
//! opens a window of the rule's `max_length` on either side; overlapping
//! windows of a rule merge, and the rule's regex runs only inside them, with
//! the bytes around the window still visible to its boundary assertions.
//! Prefix-less formats get a dedicated scan instead (see [`base32_runs`]),
//! inside the long base64-alphabet runs that one checkpointed pass collects.
//! Nothing here is per line, and nothing allocates per candidate once the
//! per-thread [`Scratch`] has warmed up.

use regex_automata::{meta, util::captures::Captures, Input};

use crate::rules::validate::{validate, Validation};
use crate::rules::{BareScan, RuleSet};
use crate::runs;

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
    long_runs: Vec<(usize, usize)>,
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
            long_runs: Vec::new(),
        }
    }

    /// Maximal runs of at least [`LONG_RUN`] base64-alphabet bytes in the
    /// buffer last passed to [`find_tokens`].
    pub fn long_runs(&self) -> &[(usize, usize)] {
        &self.long_runs
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

    // One pass over the runs of base64-alphabet bytes serves both the bare
    // formats (which live inside such runs) and the decoders that run after.
    scratch.long_runs.clear();
    let long_runs = &mut scratch.long_runs;
    runs::maximal_runs(
        &runs::BASE64_ANY,
        haystack,
        0..haystack.len(),
        LONG_RUN,
        |s, e| long_runs.push((s, e)),
    );
    for &(rule, bare) in rules.bare_rules() {
        match bare {
            BareScan::Base32Run52 => {
                for &(start, end) in scratch.long_runs.iter().filter(|r| r.1 - r.0 >= 52) {
                    base32_runs(haystack, start..end, 52, |start, end| {
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
}

fn collect_windows(rules: &RuleSet, haystack: &[u8], scratch: &mut Scratch) {
    for (automaton, offset) in rules.keywords() {
        // Leftmost-first search lets the automaton use its SIMD prefilter;
        // restarting one byte after each hit's start (not at its end) still
        // finds keywords that overlap one another.
        let mut at = 0;
        while at < haystack.len() {
            let Some(hit) = automaton.find(aho_corasick::Input::new(haystack).range(at..)) else {
                break;
            };
            at = hit.start() + 1;
            for &rule in rules.rules_for_keyword(offset + hit.pattern().as_usize()) {
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
    // Each automaton yields its hits in order; a rule whose keywords sit in
    // different automata gets their windows interleaved, so sort those.
    if rules.keywords().len() > 1 {
        for &rule in &scratch.touched {
            scratch.windows[rule].sort_unstable();
        }
    }
}

/// Windows arrive sorted by start (see [`collect_windows`]).
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

/// Shortest run of base64-alphabet bytes collected for the decoders (see
/// [`crate::decode`]); the bare formats are found inside these runs too.
pub const LONG_RUN: usize = 36;

/// Calls `found` for every maximal run of exactly `length` bytes of
/// `[a-z2-7]` inside `range`, and for a run of `length + 1` that starts right
/// after a backslash with an escape letter (`\n`, `\t`, `\r`: a token at the
/// start of a JSON-escaped line).
pub fn base32_runs(
    haystack: &[u8],
    range: std::ops::Range<usize>,
    length: usize,
    mut found: impl FnMut(usize, usize),
) {
    runs::maximal_runs(
        &runs::BASE32_LOWER,
        haystack,
        range,
        length,
        |start, end| {
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
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(text: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        base32_runs(text, 0..text.len(), 4, |s, e| out.push((s, e)));
        out
    }

    #[test]
    fn base32_runs_finds_exact_length_runs_only() {
        assert_eq!(runs(b"abcd"), vec![(0, 4)]);
        assert_eq!(runs(b"x abcd y"), vec![(2, 6)]);
        assert_eq!(runs(b"abcde"), vec![]);
        assert_eq!(runs(b"abc"), vec![]);
        assert_eq!(runs(b"ab1dabcd0abcd"), vec![(9, 13)]);
        assert_eq!(runs(b"ab1abcd0abcd"), vec![(3, 7), (8, 12)]);
        assert_eq!(runs(b"\\nabcd"), vec![(2, 6)]);
        assert_eq!(runs(b"ABCDabcd"), vec![(4, 8)]);
    }

    #[test]
    fn merging_windows() {
        let mut w = vec![(0, 5), (3, 8), (10, 12), (11, 11), (12, 20)];
        merge_in_place(&mut w);
        assert_eq!(w, vec![(0, 8), (10, 20)]);
    }
}

#[cfg(test)]
mod keyword_tests {
    use super::*;
    use crate::rules::{RuleFile, RuleSet};

    fn rule(id: &str, keyword: &str, pattern: &str) -> String {
        format!(
            "[[rule]]\nid = \"{id}\"\nname = \"n\"\ndescription = \"d\"\nkeywords = [\"{keyword}\"]\npattern = '''{pattern}'''\nmax_length = 20\n"
        )
    }

    #[test]
    fn overlapping_keywords_of_different_rules_are_both_seen() {
        let text = rule("one", "abcd", "abcd[0-9]{4}") + &rule("two", "cdef", "cdef[0-9]{4}");
        let set = RuleSet::compile(RuleFile::parse("t", &text).unwrap().rules).unwrap();
        let mut scratch = Scratch::new(&set);
        let mut out = Vec::new();
        // "abcd1234" and "cdef5678" share no bytes, but the keyword hits
        // "abcd" and "cdef" overlap in "abcdef…".
        find_tokens(&set, b"abcdef5678 abcd1234", &mut scratch, &mut out);
        let mut rules: Vec<usize> = out.iter().map(|m| m.rule).collect();
        rules.sort();
        assert_eq!(rules, vec![0, 1]);
    }

    #[test]
    fn keywords_beyond_one_automaton_are_all_seen() {
        use crate::rules::compile::KEYWORDS_PER_AUTOMATON;
        // "zz000_" is the first keyword (first automaton); then more keywords
        // than one automaton holds; the last rule lists "zz000_" again and
        // "zz999_", which lands in the second automaton.
        let n = KEYWORDS_PER_AUTOMATON + 6;
        let mut text = rule("first", "zz000_", "zz000_[a-z]{4}");
        for i in 0..n {
            text += &rule(
                &format!("r{i}"),
                &format!("kw{i:03}q"),
                &format!("kw{i:03}q[0-9]{{4}}"),
            );
        }
        text += concat!(
            "[[rule]]\nid = \"both\"\nname = \"n\"\ndescription = \"d\"\n",
            "keywords = [\"zz000_\", \"zz999_\"]\n",
            "pattern = '''zz[0-9]{3}_[0-9]{4}'''\nmax_length = 20\n"
        );
        let set = RuleSet::compile(RuleFile::parse("t", &text).unwrap().rules).unwrap();
        assert!(set.keywords().len() > 1);
        let mut scratch = Scratch::new(&set);
        let mut out = Vec::new();
        // The second automaton's hit (zz999_) comes first in the text, the
        // first automaton's (zz000_) last: the "both" rule still sees both.
        let haystack = format!("zz999_1111 kw000q1234 kw{:03}q5678 zz000_2222 x", n - 1);
        find_tokens(&set, haystack.as_bytes(), &mut scratch, &mut out);
        let mut found: Vec<(usize, usize)> = out.iter().map(|m| (m.rule, m.start)).collect();
        found.sort();
        assert_eq!(found, vec![(1, 11), (n, 22), (n + 1, 0), (n + 1, 33)]);
    }
}
