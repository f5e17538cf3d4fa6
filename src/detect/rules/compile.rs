//! Turns rule specs into one matcher: a single Aho-Corasick automaton over
//! every rule's keywords, plus each rule's confirming regex.

use std::collections::HashSet;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex_automata::{meta, util::syntax};

use super::spec::{BareScan, ChecksumKind, ChecksumSpec, RuleSpec};
use super::validate::MAX_SEEDS;
use crate::error::RuleError;

/// Longest token a rule may describe. Chunked reads of large files keep this
/// much overlap, so it bounds memory per thread as well as regex work.
pub const MAX_TOKEN_LENGTH: usize = 2048;
/// Longest pattern text accepted, and the compiled-size cap: a rule (a custom
/// one especially) must not be able to make the scan slow or huge.
const MAX_PATTERN_LENGTH: usize = 4096;
const MAX_COMPILED_REGEX_BYTES: usize = 4 << 20;
/// Most keywords one automaton holds. Past 64 patterns the aho-corasick
/// crate gives up its SIMD (Teddy) prefilter and scans byte by byte, and past
/// 32 it switches to a slower "fat" Teddy; a few slim Teddy passes over a
/// buffer cost less than one pass without it (on 200 MB of Rust source with
/// 103 keywords: 0.44 s in two automata of up to 64 with 3-byte keywords
/// mixed in, 0.22 s with short keywords apart and automata of 32).
pub const KEYWORDS_PER_AUTOMATON: usize = 32;
/// Keywords shorter than this go into automata of their own (see
/// [`RuleSet::compile`]).
const SHORT_KEYWORD: usize = 4;

pub struct CompiledRule {
    pub spec: RuleSpec,
    pub regex: meta::Regex,
    /// Index of the `secret` capture group, if the pattern names one.
    pub secret_group: Option<usize>,
}

pub struct RuleSet {
    rules: Vec<CompiledRule>,
    /// The keyword automata, each with the index of its first keyword in
    /// `keyword_rules` (see [`KEYWORDS_PER_AUTOMATON`]).
    keywords: Vec<(AhoCorasick, usize)>,
    /// For each keyword (across all automata), the rules that use it.
    keyword_rules: Vec<Vec<usize>>,
    bare_rules: Vec<(usize, BareScan)>,
    max_token_length: usize,
}

impl RuleSet {
    pub fn compile(specs: Vec<RuleSpec>) -> Result<RuleSet, RuleError> {
        let mut seen = HashSet::new();
        let mut rules = Vec::with_capacity(specs.len());
        let mut keyword_texts: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut bare_rules = Vec::new();
        let mut max_token_length = 0;

        for spec in specs {
            let index = rules.len();
            check_spec(&spec)?;
            if !seen.insert(spec.id.clone()) {
                return Err(RuleError::Invalid {
                    rule: spec.id.clone(),
                    message: "duplicate rule id".into(),
                });
            }
            for keyword in &spec.keywords {
                match keyword_texts.iter().position(|k| k == keyword) {
                    Some(existing) => keyword_rules[existing].push(index),
                    None => {
                        keyword_texts.push(keyword.clone());
                        keyword_rules.push(vec![index]);
                    }
                }
            }
            if let Some(bare) = spec.bare {
                bare_rules.push((index, bare));
            }
            max_token_length = max_token_length.max(spec.max_length);
            let regex = compile_pattern(&spec)?;
            let secret_group = regex
                .group_info()
                .to_index(regex_automata::PatternID::ZERO, "secret");
            rules.push(CompiledRule {
                spec,
                regex,
                secret_group,
            });
        }

        fold_contained_keywords(&mut keyword_texts, &mut keyword_rules);
        // Short keywords in automata of their own: the SIMD prefilter
        // fingerprints min(4, shortest keyword) bytes, and a single 3-byte
        // keyword among many long ones would blur every fingerprint.
        let order = |k: &String| usize::from(k.len() >= SHORT_KEYWORD);
        let mut paired: Vec<(String, Vec<usize>)> =
            keyword_texts.into_iter().zip(keyword_rules).collect();
        paired.sort_by_key(|(k, _)| order(k));
        let (keyword_texts, keyword_rules): (Vec<String>, Vec<Vec<usize>>) =
            paired.into_iter().unzip();
        let mut keywords = Vec::new();
        let mut start = 0;
        while start < keyword_texts.len() {
            let group = order(&keyword_texts[start]);
            let end = (start..keyword_texts.len())
                .take(KEYWORDS_PER_AUTOMATON)
                .take_while(|&i| order(&keyword_texts[i]) == group)
                .last()
                .map_or(start + 1, |i| i + 1);
            let automaton = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&keyword_texts[start..end])
                .map_err(|e| RuleError::Invalid {
                    rule: "(keywords)".into(),
                    message: e.to_string(),
                })?;
            keywords.push((automaton, start));
            start = end;
        }

        Ok(RuleSet {
            rules,
            keywords,
            keyword_rules,
            bare_rules,
            max_token_length,
        })
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    pub fn get(&self, index: usize) -> &CompiledRule {
        &self.rules[index]
    }

    /// The keyword automata, each with the global index of its first
    /// keyword: a hit on pattern `p` of one is keyword `offset + p`.
    pub fn keywords(&self) -> &[(AhoCorasick, usize)] {
        &self.keywords
    }

    /// The rules of keyword `pattern` (a global index, see [`Self::keywords`]).
    pub fn rules_for_keyword(&self, pattern: usize) -> &[usize] {
        &self.keyword_rules[pattern]
    }

    pub fn bare_rules(&self) -> &[(usize, BareScan)] {
        &self.bare_rules
    }

    /// The longest token any rule can match: the overlap between chunks.
    pub fn max_token_length(&self) -> usize {
        self.max_token_length
    }
}

/// Where one keyword contains another (a custom `ghp_abc` and the built-in
/// `ghp_`), the longer one is dropped and its rules hang off the shorter:
/// every occurrence of the longer contains the shorter, and the rule's window
/// around the shorter's hit still covers the token. This keeps leftmost-first
/// search from hiding one keyword behind another that starts at the same byte.
fn fold_contained_keywords(texts: &mut Vec<String>, rules: &mut Vec<Vec<usize>>) {
    loop {
        let pair = (0..texts.len()).find_map(|long| {
            (0..texts.len())
                .find(|&short| short != long && texts[long].contains(texts[short].as_str()))
                .map(|short| (long, short))
        });
        let Some((long, short)) = pair else {
            return;
        };
        let moved = rules.remove(long);
        texts.remove(long);
        let short = if short > long { short - 1 } else { short };
        for rule in moved {
            if !rules[short].contains(&rule) {
                rules[short].push(rule);
            }
        }
    }
}

fn invalid(spec: &RuleSpec, message: impl Into<String>) -> RuleError {
    RuleError::Invalid {
        rule: spec.id.clone(),
        message: message.into(),
    }
}

fn check_spec(spec: &RuleSpec) -> Result<(), RuleError> {
    let id_ok = !spec.id.is_empty()
        && spec
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !id_ok {
        return Err(invalid(
            spec,
            "rule id must be non-empty lowercase letters, digits, '-' or '.'",
        ));
    }
    if spec.keywords.is_empty() && spec.bare.is_none() {
        return Err(invalid(
            spec,
            "a rule needs at least one keyword (the literal prefilter runs the regex only near them)",
        ));
    }
    if spec.keywords.iter().any(|k| k.len() < 3) {
        return Err(invalid(
            spec,
            "keywords must be at least 3 bytes long, or the prefilter would fire everywhere",
        ));
    }
    if spec.max_length == 0 || spec.max_length > MAX_TOKEN_LENGTH {
        return Err(invalid(
            spec,
            format!("max_length must be between 1 and {MAX_TOKEN_LENGTH}"),
        ));
    }
    if spec.pattern.len() > MAX_PATTERN_LENGTH {
        return Err(invalid(
            spec,
            format!("pattern is longer than {MAX_PATTERN_LENGTH} bytes"),
        ));
    }
    if let Some(checksum) = &spec.checksum {
        check_checksum(spec, checksum)?;
    }
    if let Some(entropy) = spec.min_entropy {
        if !(0.0..=8.0).contains(&entropy) {
            return Err(invalid(spec, "min_entropy must be between 0 and 8"));
        }
    }
    Ok(())
}

fn check_checksum(spec: &RuleSpec, checksum: &ChecksumSpec) -> Result<(), RuleError> {
    use crate::checksum::computed::{is_computed, MAX_CHECK_LENGTH};
    if is_computed(checksum.algorithm) {
        match (checksum.encoding, checksum.length) {
            (Some(_), Some(length)) if (1..=MAX_CHECK_LENGTH).contains(&length) => {}
            _ => {
                return Err(invalid(
                    spec,
                    format!(
                        "checksum {:?} needs an encoding and a length of 1 to {MAX_CHECK_LENGTH}",
                        checksum.algorithm
                    ),
                ))
            }
        }
        if checksum.separator.as_ref().is_some_and(|s| s.len() > 4) {
            return Err(invalid(spec, "a checksum separator is at most 4 bytes"));
        }
    } else if checksum.encoding.is_some() || checksum.length.is_some() {
        return Err(invalid(
            spec,
            "encoding and length describe crc32, crc32c and xor checksums only",
        ));
    }
    if checksum.algorithm == ChecksumKind::AzureHisV1 {
        if checksum.seeds.is_empty() || checksum.seeds.len() > MAX_SEEDS {
            return Err(invalid(
                spec,
                format!("an azure-his-v1 checksum names 1 to {MAX_SEEDS} seeds"),
            ));
        }
        if let Some(bad) = checksum
            .seeds
            .iter()
            .find(|name| crate::checksum::azure::seed_from_name(name).is_none())
        {
            return Err(invalid(
                spec,
                format!("seed {bad:?} is not 8 printable ASCII characters"),
            ));
        }
    } else if !checksum.seeds.is_empty() {
        return Err(invalid(spec, "only azure-his-v1 checksums take seeds"));
    }
    Ok(())
}

pub(crate) fn compile_pattern(spec: &RuleSpec) -> Result<meta::Regex, RuleError> {
    meta::Regex::builder()
        // Bytes, not text: files may hold invalid UTF-8, and ASCII classes
        // are all a token alphabet needs.
        .syntax(
            syntax::Config::new()
                .utf8(false)
                .unicode(false)
                .nest_limit(50),
        )
        .configure(
            meta::Config::new()
                .utf8_empty(false)
                .nfa_size_limit(Some(MAX_COMPILED_REGEX_BYTES))
                .dfa_size_limit(Some(MAX_COMPILED_REGEX_BYTES))
                .hybrid_cache_capacity(2 << 20),
        )
        .build(&spec.pattern)
        .map_err(|e| invalid(spec, format!("invalid pattern: {}", with_causes(&e))))
}

/// A syntax error prints the pattern with a caret under the fault, over
/// several lines; errors here are one line, so keep the verdict (the last
/// line) and say where.
fn one_line(message: &str) -> String {
    if !message.contains('\n') {
        return message.to_string();
    }
    let verdict = message
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .trim_start_matches("error: ");
    let caret = message
        .lines()
        .find(|l| l.trim_start().starts_with('^'))
        .and_then(|l| l.find('^'));
    match caret {
        // The quoted pattern is indented by four spaces.
        Some(column) => format!("{verdict} (at byte {})", column.saturating_sub(4)),
        None => verdict.to_string(),
    }
}

/// An error and its causes on one line: the regex builder's own message
/// ("error building NFA") says nothing of why, its cause does ("exceeds
/// size limit").
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = one_line(&err.to_string());
    let mut cause = err.source();
    while let Some(inner) = cause {
        let part = one_line(&inner.to_string());
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_are_one_line_naming_the_place() {
        let message = "regex parse error:\n    ab(c\n      ^\nerror: unclosed group";
        assert_eq!(one_line(message), "unclosed group (at byte 2)");
        assert_eq!(one_line("exceeded limit"), "exceeded limit");
    }

    #[test]
    fn a_keyword_containing_another_is_folded_into_it() {
        let mut texts = vec![
            "ghp_".to_string(),
            "xoxb-".to_string(),
            "ghp_abc".to_string(),
        ];
        let mut rules = vec![vec![0], vec![1], vec![2]];
        fold_contained_keywords(&mut texts, &mut rules);
        assert_eq!(texts, vec!["ghp_".to_string(), "xoxb-".to_string()]);
        assert_eq!(rules, vec![vec![0, 2], vec![1]]);
    }
}
