//! Test tokens for any built-in rule, made from the rule itself: a random
//! string drawn from the `secret` group of its pattern, then, where the
//! format has a checksum, check characters rewritten so that it holds. A
//! rule file therefore needs no generator code: its examples' `{{token:ID}}`
//! placeholders are filled from its own pattern, and `{{corrupt:ID}}` with the
//! same token one character off, so only the checksum tells them apart.
//!
//! Every token made here is confirmed by the rule's own regex and validator
//! before it is returned, so a rule whose pattern and checksum disagree fails
//! loudly in its example check instead of yielding tokens it cannot find.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::sample::Pattern;
use super::TokenRng;
use crate::checksum::{azure, computed};
use crate::rules::validate::{checksum_holds, keyword_len, parse_seeds, validate, MAX_SEEDS};
use crate::rules::{CheckEncoding, ChecksumInput, ChecksumKind, ChecksumSpec, RuleSpec};

/// Attempts before a rule is declared ungeneratable (a random draw can hit
/// the placeholder filter or an entropy floor now and then, never often).
const ATTEMPTS: usize = 64;

/// A rule ready to generate from.
struct Sampler {
    spec: RuleSpec,
    pattern: Pattern,
}

fn builtin() -> &'static HashMap<String, Sampler> {
    static SAMPLERS: OnceLock<HashMap<String, Sampler>> = OnceLock::new();
    SAMPLERS.get_or_init(|| {
        // Opt-in rules too: their examples are checked like any other.
        crate::rules::all_builtin_specs()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|spec| Some((spec.id.clone(), Sampler::new(spec)?)))
            .collect()
    })
}

/// Whether a built-in rule `id` exists to generate from.
pub fn knows(id: &str) -> bool {
    builtin().contains_key(id)
}

/// Whether rule `id`'s validator accepts `token` (true for a family that is
/// no built-in rule).
pub fn accepted(id: &str, token: &str) -> bool {
    match builtin().get(id) {
        // A structured token is judged in its context (the parser reads
        // around it), by the example check.
        Some(sampler) if sampler.spec.parser.is_some() => true,
        // A context rule finds a token only where its run looks random
        // (`ContextWords::may_be_secret`): draw only tokens it can find.
        Some(sampler) => {
            validate(&sampler.spec, token.as_bytes()).is_some()
                && (sampler.spec.context.is_empty() || leading_run_looks_random(token.as_bytes()))
        }
        None => true,
    }
}

/// A valid token for the built-in rule `id`.
pub fn generate(id: &str, rng: &mut TokenRng) -> Option<String> {
    builtin().get(id)?.valid(rng)
}

/// A token of rule `id`'s shape whose checksum fails; `None` for a rule
/// without a checksum.
pub fn corrupt(id: &str, rng: &mut TokenRng) -> Option<String> {
    builtin().get(id)?.corrupt(rng)
}

impl Sampler {
    fn new(spec: RuleSpec) -> Option<Sampler> {
        let pattern = Pattern::new(&spec.pattern)?;
        Some(Sampler { spec, pattern })
    }

    fn valid(&self, rng: &mut TokenRng) -> Option<String> {
        if let Some(parser) = self.spec.parser {
            return super::structured::generate(&self.spec.id, parser, rng);
        }
        for _ in 0..ATTEMPTS {
            let mut token = self.pattern.draw(rng);
            if self.spec.checksum.is_some() && !self.repair(&mut token, rng) {
                continue;
            }
            if self.accepts(&token) {
                return String::from_utf8(token).ok();
            }
        }
        None
    }

    fn corrupt(&self, rng: &mut TokenRng) -> Option<String> {
        if self.spec.parser == Some(crate::rules::ParserKind::Age) {
            return super::structured::corrupt_age(rng);
        }
        let spec = self.spec.checksum.as_ref()?;
        for _ in 0..ATTEMPTS {
            let token = self.valid(rng)?.into_bytes();
            let start = keyword_len(&self.spec, &token);
            if start + 1 >= token.len() {
                return None;
            }
            let mut changed = token.clone();
            let at = start + rng.below((token.len() - start) as u64) as usize;
            changed[at] = look_alike(changed[at], rng);
            if changed != token
                && self.matches_whole(&changed)
                && !checksum_holds(&self.spec, spec, &changed)
            {
                return String::from_utf8(changed).ok();
            }
        }
        None
    }

    /// Rewrites the check characters of `token` for the rule's checksum.
    fn repair(&self, token: &mut [u8], rng: &mut TokenRng) -> bool {
        let Some(spec) = &self.spec.checksum else {
            return true;
        };
        let keyword = keyword_len(&self.spec, token);
        match spec.algorithm {
            ChecksumKind::Crc32 | ChecksumKind::Crc32c | ChecksumKind::Xor => {
                computed::repair(spec, keyword, token)
            }
            ChecksumKind::AzureHisV1 => {
                let mut seeds = [0u64; MAX_SEEDS];
                let n = parse_seeds(spec, &mut seeds);
                n > 0 && azure::his_v1_repair(token, seeds[rng.below(n as u64) as usize])
            }
            ChecksumKind::AzureCask | ChecksumKind::AzureDevopsPat => azure::cask_repair(token),
            ChecksumKind::EntraClientSecret => azure::entra_client_secret_repair(token),
            ChecksumKind::GitlabRoutable => {
                computed::repair(&crc32_tail(CheckEncoding::Base36, 7), 0, token)
            }
            ChecksumKind::Atlassian => {
                computed::repair(&crc32_tail(CheckEncoding::HexUpper, 8), 0, token)
            }
            ChecksumKind::Crc32Base62 => {
                let body = token.iter().position(|&b| b == b'_').map_or(0, |u| u + 1);
                let github = ChecksumSpec {
                    input: ChecksumInput::Body,
                    ..crc32_tail(CheckEncoding::Base62, 6)
                };
                computed::repair(&github, body, token)
            }
            // 32 random bytes with a CRC hidden inside: the hand-written
            // generator in `tokengen` makes these.
            ChecksumKind::AzureDevopsPatLegacy => false,
        }
    }

    /// The rule's regex finds exactly `token` in it, and its validator
    /// accepts it (a checksum, if any, holds).
    fn accepts(&self, token: &[u8]) -> bool {
        self.matches_whole(token)
            && match validate(&self.spec, token) {
                Some(validation) => {
                    self.spec.checksum.is_none()
                        || validation == crate::rules::validate::Validation::Checksum
                }
                None => false,
            }
    }

    fn matches_whole(&self, token: &[u8]) -> bool {
        self.pattern.matches_whole(token)
    }
}

/// Whether the run of token characters a token starts looks random, as a
/// context rule's candidate run must.
fn leading_run_looks_random(token: &[u8]) -> bool {
    let end = token
        .iter()
        .position(|&b| !crate::runs::BASE64_ANY[usize::from(b)])
        .unwrap_or(token.len());
    crate::rules::context_words::looks_random(&token[..end])
}

/// CRC-32 of everything before the last `length` characters.
fn crc32_tail(encoding: CheckEncoding, length: usize) -> ChecksumSpec {
    ChecksumSpec {
        encoding: Some(encoding),
        length: Some(length),
        ..ChecksumSpec::named(ChecksumKind::Crc32)
    }
}

/// Another character of the same kind (digit, lowercase, uppercase), so the
/// changed token keeps the pattern's shape.
fn look_alike(byte: u8, rng: &mut TokenRng) -> u8 {
    let pool: &[u8] = match byte {
        b'0'..=b'9' => b"0123456789",
        b'a'..=b'f' => b"abcdef",
        b'g'..=b'z' => b"ghijklmnopqrstuvwxyz",
        b'A'..=b'F' => b"ABCDEF",
        b'G'..=b'Z' => b"GHIJKLMNOPQRSTUVWXYZ",
        _ => return byte,
    };
    let others: Vec<u8> = pool.iter().copied().filter(|&c| c != byte).collect();
    others[rng.below(others.len() as u64) as usize]
}
