//! Every rule carries examples that must match and negative examples that
//! must not. Templates (`{{token:FAMILY}}`) are filled at run time, so no
//! committed text holds a string that passes a real issuer's checksum.
//!
//! Built-in rules are checked by the test suite ([`check_examples`], test
//! support only), whose generator makes checksum-valid tokens. Custom rules
//! are checked when a config is loaded ([`check_custom_examples`]), their
//! placeholders filled from the named rule's own pattern: a token of the
//! right shape, accepted by that rule's entropy and placeholder filters, but
//! with no checksum computed (a release build has no generator for them).

use std::collections::HashMap;

use crate::engine::{find_tokens, Match, Scratch};
use crate::error::RuleError;
use crate::rules::validate::validate;
use crate::rules::{RuleSet, RuleSpec};
use crate::tokengen::sample::Pattern;
use crate::tokengen::template::{self, Filled, Maker, Refusal, TemplateError};
use crate::tokengen::TokenRng;

/// Draws before a placeholder is declared unfillable (a random draw can
/// hit an entropy floor or the placeholder filter now and then).
const ATTEMPTS: usize = 64;

/// Checks the examples of every rule in `set`, filled by the test suite's
/// generator. `seed` makes the generated tokens reproducible.
#[cfg(any(test, feature = "test-support"))]
pub fn check_examples(set: &RuleSet, seed: u64) -> Result<(), RuleError> {
    check_examples_seeds(set, [seed]).map_err(|(_, error)| error)
}

/// [`check_examples`] once per seed, with one scratch space: the matcher's
/// lazily built automata stay warm from one seed to the next. The error
/// names the seed it came with.
#[cfg(any(test, feature = "test-support"))]
pub fn check_examples_seeds(
    set: &RuleSet,
    seeds: impl IntoIterator<Item = u64>,
) -> Result<(), (u64, RuleError)> {
    let mut scratch = Scratch::new(set);
    for seed in seeds {
        let mut rng = TokenRng::new(seed);
        check_with(set, &mut scratch, &mut |t| {
            crate::tokengen::fill_template(t, &mut rng)
        })
        .map_err(|error| (seed, error))?;
    }
    Ok(())
}

/// Checks the examples of a config's custom rules (`set`), their
/// placeholders filled from the patterns of the rules they name: one of
/// `set` or of `builtin`. `seed` makes the draws reproducible.
pub fn check_custom_examples(
    set: &RuleSet,
    builtin: &[RuleSpec],
    seed: u64,
) -> Result<(), RuleError> {
    let mut rng = TokenRng::new(seed);
    let mut maker = FromPatterns {
        specs: set
            .rules()
            .iter()
            .map(|r| &r.spec)
            .chain(builtin)
            .map(|spec| (spec.id.as_str(), spec))
            .collect(),
        patterns: HashMap::new(),
    };
    let mut scratch = Scratch::new(set);
    check_with(set, &mut scratch, &mut |t| {
        template::fill_with(t, &mut rng, &mut maker)
    })
}

/// Fills placeholders with draws from the named rule's pattern.
struct FromPatterns<'s> {
    specs: HashMap<&'s str, &'s RuleSpec>,
    patterns: HashMap<String, Option<Pattern>>,
}

impl Maker for FromPatterns<'_> {
    fn make(&mut self, family: &str, valid: bool, rng: &mut TokenRng) -> Result<String, Refusal> {
        let spec = *self.specs.get(family).ok_or(Refusal::Unknown)?;
        if !valid && spec.checksum.is_none() {
            return Err(Refusal::NoChecksum);
        }
        // A structured secret (a key block, a JWT) is more than its
        // pattern's shape.
        if spec.parser.is_some() {
            return Err(Refusal::Failed);
        }
        let pattern = self
            .patterns
            .entry(family.to_string())
            .or_insert_with(|| Pattern::new(&spec.pattern))
            .as_ref()
            .ok_or(Refusal::Failed)?;
        for _ in 0..ATTEMPTS {
            let token = pattern.draw(rng);
            if !pattern.matches_whole(&token) {
                continue;
            }
            let accepted = validate(spec, &token).is_some();
            // Valid: what the rule's filters accept, or, for a rule with a
            // checksum, the shape alone. Corrupt: the shape, which its
            // checksum rejects.
            let fits = if valid {
                accepted || spec.checksum.is_some()
            } else {
                !accepted
            };
            if fits {
                return String::from_utf8(token).map_err(|_| Refusal::Failed);
            }
        }
        Err(Refusal::Failed)
    }
}

fn check_with(
    set: &RuleSet,
    scratch: &mut Scratch,
    fill: &mut dyn FnMut(&str) -> Result<Filled, TemplateError>,
) -> Result<(), RuleError> {
    let mut found = Vec::new();
    for (index, rule) in set.rules().iter().enumerate() {
        let spec = &rule.spec;
        let fail = |i: usize, problem: String| RuleError::Example {
            rule: spec.id.clone(),
            index: i + 1,
            problem,
        };
        for (i, example) in spec.examples.iter().enumerate() {
            let filled = fill(example).map_err(|e| fail(i, e.to_string()))?;
            found.clear();
            find_tokens(set, filled.text.as_bytes(), scratch, &mut found);
            let ours: Vec<&Match> = found.iter().filter(|m| m.rule == index).collect();
            // Where the template placed a token of this rule, the finding
            // must be exactly it. Tokens of other rules are only the scene
            // (an access key id next to its secret).
            let expected: Vec<(usize, usize)> = filled
                .placements
                .iter()
                .filter(|p| p.valid && p.family == spec.id)
                .map(|p| (p.offset, p.offset + p.token.len()))
                .collect();
            if expected.is_empty() {
                if ours.len() != 1 {
                    return Err(fail(
                        i,
                        format!("should match once, matched {} times", ours.len()),
                    ));
                }
            } else {
                let got: Vec<(usize, usize)> = ours.iter().map(|m| (m.start, m.end)).collect();
                if got != expected {
                    // A custom rule's own placeholder has its shape only.
                    let hint = if spec.custom && spec.checksum.is_some() {
                        "; patscan fills {{token:…}} with the pattern's shape and computes no \
                         checksum, so a rule with a checksum needs its examples written out"
                    } else {
                        ""
                    };
                    return Err(fail(
                        i,
                        format!(
                            "should match the generated token at {expected:?}, matched {got:?}{hint}"
                        ),
                    ));
                }
            }
        }
        for (i, example) in spec.negative_examples.iter().enumerate() {
            let filled = fill(example).map_err(|e| fail(i, e.to_string()))?;
            found.clear();
            find_tokens(set, filled.text.as_bytes(), scratch, &mut found);
            if found.iter().any(|m| m.rule == index) {
                return Err(RuleError::Example {
                    rule: spec.id.clone(),
                    index: i + 1,
                    problem: "(negative) matched, but must not".into(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_in_rule_s_placeholder_gets_its_shape_and_no_checksum() {
        let builtin = crate::rules::all_builtin_specs().unwrap_or_else(|e| panic!("{e}"));
        let mut maker = FromPatterns {
            specs: builtin.iter().map(|s| (s.id.as_str(), s)).collect(),
            patterns: HashMap::new(),
        };
        let mut rng = TokenRng::new(11);
        for _ in 0..20 {
            let token = maker
                .make("github-classic-pat", true, &mut rng)
                .unwrap_or_default();
            assert_eq!(token.len(), 40, "{token}");
            assert!(token.starts_with("ghp_"));
            assert!(token[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
            assert!(!crate::checksum::crc32_base62_valid(token.as_bytes(), 4));
        }
        assert_eq!(
            maker.make("no-such-rule", true, &mut rng),
            Err(Refusal::Unknown)
        );
        // A structured secret is more than a pattern's shape.
        assert_eq!(
            maker.make("private-key", true, &mut rng),
            Err(Refusal::Failed)
        );
    }
}
