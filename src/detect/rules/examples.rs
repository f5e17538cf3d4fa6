//! Every rule carries examples that must match and negative examples that
//! must not. Templates (`{{token:FAMILY}}`) are filled by the seeded
//! generator, so no committed text holds a string that passes a real
//! issuer's checksum. Built-in rules are checked by the test suite, custom
//! rules when they are loaded.

use crate::engine::{find_tokens, Match, Scratch};
use crate::error::RuleError;
use crate::rules::RuleSet;
use crate::tokengen::{fill_template, TokenRng};

/// Checks the examples of every rule in `set`. `seed` makes the generated
/// tokens reproducible.
pub fn check_examples(set: &RuleSet, seed: u64) -> Result<(), RuleError> {
    let mut rng = TokenRng::new(seed);
    let mut scratch = Scratch::new(set);
    let mut found = Vec::new();
    for (index, rule) in set.rules().iter().enumerate() {
        let spec = &rule.spec;
        let fail = |i: usize, problem: String| RuleError::Example {
            rule: spec.id.clone(),
            index: i + 1,
            problem,
        };
        for (i, example) in spec.examples.iter().enumerate() {
            let filled = fill_template(example, &mut rng).map_err(|e| fail(i, e.to_string()))?;
            found.clear();
            find_tokens(set, filled.text.as_bytes(), &mut scratch, &mut found);
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
                    return Err(fail(
                        i,
                        format!(
                            "should match the generated token at {expected:?}, matched {got:?}"
                        ),
                    ));
                }
            }
        }
        for (i, example) in spec.negative_examples.iter().enumerate() {
            let filled = fill_template(example, &mut rng).map_err(|e| fail(i, e.to_string()))?;
            found.clear();
            find_tokens(set, filled.text.as_bytes(), &mut scratch, &mut found);
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
