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

use crate::generic;
use crate::rules::validate::{validate, Validation};
use crate::rules::{BareScan, NameMemo, RuleSet};
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
    /// Per rule, made when the rule's regex first runs (see
    /// [`crate::rules::CompiledRule::regex`]).
    caches: Vec<Option<(meta::Cache, Captures)>>,
    touched: Vec<usize>,
    long_runs: Vec<(usize, usize)>,
    names: NameMemo,
}

impl Scratch {
    pub fn new(rules: &RuleSet) -> Scratch {
        Scratch {
            windows: vec![Vec::new(); rules.rules().len()],
            caches: (0..rules.rules().len()).map(|_| None).collect(),
            touched: Vec::new(),
            long_runs: Vec::new(),
            names: NameMemo::default(),
        }
    }

    /// Maximal runs of at least [`RuleSet::min_encoded_run`] base64-alphabet
    /// bytes in the buffer last passed to [`find_tokens`].
    pub fn long_runs(&self) -> &[(usize, usize)] {
        &self.long_runs
    }
}

/// Appends every validated token in `haystack` to `out`, ordered by rule
/// then position. Callers that need document order sort afterwards.
pub fn find_tokens(rules: &RuleSet, haystack: &[u8], scratch: &mut Scratch, out: &mut Vec<Match>) {
    collect_windows(rules, haystack, scratch);
    // One pass over the runs of base64-alphabet bytes serves the prefixed
    // formats (a token starts a run: its prefix is looked up there), the bare
    // formats (which live inside such runs) and the decoders that run after.
    scratch.long_runs.clear();
    let prefixes = rules.prefixes();
    let preceded = rules.preceded();
    let anchors = rules.anchors();
    let context = rules.context();
    // Runs as long as the shortest encoded token go to the decoders.
    let long = rules.min_encoded_run();
    let shortest = long
        .min(prefixes.min_run())
        .min(preceded.min_run())
        .min(context.min_run());
    {
        let Scratch {
            long_runs,
            windows,
            touched,
            names,
            ..
        } = scratch;
        runs::maximal_runs(
            &runs::BASE64_ANY,
            haystack,
            0..haystack.len(),
            shortest,
            |start, end| {
                // A run that starts `//` after a scheme's colon holds a
                // URL's user name: `https://ghp_…@github.com`, a PAT used
                // as the git user. The token starts two bytes in.
                let user_at = start + 2;
                let url_user = end - start > 2
                    && haystack[start] == b'/'
                    && haystack[start + 1] == b'/'
                    && start > 0
                    && haystack[start - 1] == b':';
                if end - start >= long {
                    long_runs.push((start, end));
                    anchors.lookup(haystack, start, end, |rule, at| {
                        open_window(rules, rule, at, at, haystack.len(), windows, touched)
                    });
                    if url_user {
                        anchors.lookup(haystack, user_at, end, |rule, at| {
                            open_window(rules, rule, at, at, haystack.len(), windows, touched)
                        });
                    }
                }
                preceded.lookup(haystack, start, end, |rule, at| {
                    open_window(rules, rule, at, start, haystack.len(), windows, touched)
                });
                context.lookup(haystack, start, end, names, |rule, at| {
                    open_window(rules, rule, at, end, haystack.len(), windows, touched)
                });
                if end - start < prefixes.min_run() {
                    return;
                }
                let mut open = |rule: usize, prefix: usize, at: usize| {
                    open_window(
                        rules,
                        rule,
                        at,
                        at + prefix,
                        haystack.len(),
                        windows,
                        touched,
                    )
                };
                prefixes.lookup(&haystack[start..end], |rule, len| open(rule, len, start));
                if url_user {
                    prefixes.lookup(&haystack[user_at..end], |rule, len| {
                        open(rule, len, user_at)
                    });
                }
                // A token can also follow a `-` or `+` inside a run: an
                // address `incoming+group-42-glimt-…@`. (Not `/`: it is in
                // every path and base64 blob, and no token follows one.)
                // Only where a token could still fit before the run ends.
                let last = end - prefixes.min_run();
                runs::each_of_two(haystack, start..last, b'-', b'+', |i| {
                    let at = i + 1;
                    prefixes.lookup(&haystack[at..end], |rule, len| open(rule, len, at));
                });
                // A token at the start of a JSON-escaped line: `\n` + token.
                if start > 0
                    && haystack[start - 1] == b'\\'
                    && matches!(haystack[start], b'n' | b't' | b'r')
                {
                    prefixes.lookup(&haystack[start + 1..end], |rule, len| {
                        open(rule, len, start + 1)
                    });
                    if end - start > long {
                        anchors.lookup(haystack, start + 1, end, |rule, at| {
                            open_window(rules, rule, at, at, haystack.len(), windows, touched)
                        });
                    }
                }
            },
        );
    }
    for i in 0..scratch.touched.len() {
        let rule = scratch.touched[i];
        let mut windows = std::mem::take(&mut scratch.windows[rule]);
        windows.sort_unstable();
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

/// Queues the window around a keyword found at `start..end` for `rule`'s
/// regex: the rule's `max_length` on either side.
fn open_window(
    rules: &RuleSet,
    rule: usize,
    start: usize,
    end: usize,
    len: usize,
    windows: &mut [Vec<(usize, usize)>],
    touched: &mut Vec<usize>,
) {
    let reach = rules.get(rule).spec.max_length;
    // +2 past the token: room for the pattern's trailing boundary byte.
    let window = (start.saturating_sub(reach), (end + reach + 2).min(len));
    let rule_windows = &mut windows[rule];
    if rule_windows.is_empty() {
        touched.push(rule);
    }
    rule_windows.push(window);
}

fn collect_windows(rules: &RuleSet, haystack: &[u8], scratch: &mut Scratch) {
    let Some(automaton) = rules.keywords() else {
        return;
    };
    let open = |start: usize, end: usize, keyword: usize| {
        for &rule in rules.rules_for_keyword(keyword) {
            open_window(
                rules,
                rule,
                start,
                end,
                haystack.len(),
                &mut scratch.windows,
                &mut scratch.touched,
            );
        }
    };
    automaton.each_hit(haystack, open);
}

/// Windows must be sorted by start (keyword and run-prefix hits arrive in
/// two passes, so the caller sorts).
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
    let regex = compiled.regex();
    let (cache, caps) =
        scratch.caches[rule].get_or_insert_with(|| (regex.create_cache(), regex.create_captures()));
    let mut at = start;
    while at < end {
        // The range limits the search while the bytes outside it still count
        // for `^`, `$` and boundary classes.
        let input = Input::new(haystack).range(at..end);
        regex.search_captures_with(cache, &input, caps);
        let Some(whole) = caps.get_match() else {
            break;
        };
        let span = compiled
            .secret_group()
            .and_then(|group| caps.get_group(group))
            .unwrap_or(whole.span());
        let verdict = match compiled.spec.parser {
            // A structured format: the parser decides, and may move the
            // span (to the password in a URL, to a PEM block's END line).
            Some(kind) => crate::parse::confirm(kind, haystack, whole.range(), span.range()),
            // Generic (keyword-assignment) rules also judge the key and the
            // line the value stands on, which the validator does not see.
            None if compiled.spec.opt_in.is_some()
                && generic::check_context(haystack, whole.start(), span.start, span.end)
                    .is_err() =>
            {
                None
            }
            None => validate(&compiled.spec, &haystack[span.start..span.end])
                .map(|validation| (span.range(), validation)),
        };
        let mut resume = span.end;
        if let Some((found, validation)) = verdict {
            resume = found.end.max(span.end);
            out.push(Match {
                rule,
                start: found.start,
                end: found.end,
                validation,
            });
        }
        // Resume at the token's end, not the match's: the byte the pattern
        // consumed as a trailing boundary may be the next token's leading one.
        at = if resume > at { resume } else { at + 1 };
    }
}

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
}
