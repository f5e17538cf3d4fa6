//! Decides whether a regex match is a token: the issuer checksum where the
//! format has one (decisive both ways), otherwise an entropy floor and
//! placeholder filters.

use super::spec::{ChecksumKind, ChecksumSpec, OptIn, RuleSpec};
use crate::checksum;
use crate::model::Confidence;

/// How a candidate was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// The issuer's checksum holds.
    Checksum,
    /// No checksum exists; entropy and placeholder filters passed.
    Heuristic,
    /// A structured format's parser (see `crate::parse`) accepted it: the
    /// PEM body decodes to a key, the JWT to a header and claims, the URL
    /// has a password that is no placeholder. Its confidence is the
    /// parser's verdict (an encrypted key or an expired token is low).
    Structure(Confidence),
}

impl Validation {
    pub fn as_str(self) -> &'static str {
        match self {
            Validation::Checksum => "checksum",
            Validation::Heuristic => "entropy",
            Validation::Structure(_) => "structure",
        }
    }

    pub fn confidence(self, rule: &RuleSpec) -> Confidence {
        match self {
            Validation::Checksum => Confidence::High,
            Validation::Heuristic => rule.confidence,
            Validation::Structure(confidence) => confidence,
        }
    }
}

/// Returns how `secret` was accepted, or `None` when it is not a token.
pub fn validate(rule: &RuleSpec, secret: &[u8]) -> Option<Validation> {
    if let Some(spec) = &rule.checksum {
        if checksum_holds(rule, spec, secret) {
            return Some(Validation::Checksum);
        }
        if !spec.inferred || spec.exact_length == Some(secret.len()) {
            return None;
        }
        // An inferred scheme may be wrong: fall back to the filters below.
    }
    if rule.opt_in == Some(OptIn::Generic) && crate::detect::generic::check_value(secret).is_err() {
        return None;
    }
    let body = strip_keyword(rule, secret);
    if looks_like_placeholder(body) {
        return None;
    }
    if let Some(floor) = rule.min_entropy {
        if checksum::shannon_entropy(body) < floor {
            return None;
        }
    }
    Some(Validation::Heuristic)
}

pub fn checksum_holds(rule: &RuleSpec, spec: &ChecksumSpec, secret: &[u8]) -> bool {
    match spec.algorithm {
        ChecksumKind::Crc32 | ChecksumKind::Crc32c | ChecksumKind::Xor => {
            checksum::computed::holds(spec, keyword_len(rule, secret), secret)
        }
        ChecksumKind::AzureHisV1 => {
            let mut seeds = [0u64; MAX_SEEDS];
            let n = parse_seeds(spec, &mut seeds);
            checksum::azure::his_v1_valid(secret, &seeds[..n])
        }
        ChecksumKind::AzureCask => checksum::azure::cask_valid(secret),
        ChecksumKind::EntraClientSecret => checksum::azure::entra_client_secret_valid(secret),
        ChecksumKind::AzureDevopsPat => checksum::azure_devops_pat_valid(secret),
        ChecksumKind::AzureDevopsPatLegacy => checksum::azure_devops_legacy_pat_valid(secret),
        ChecksumKind::Crc32Base62 => match secret.iter().position(|&b| b == b'_') {
            Some(underscore) => checksum::crc32_base62_valid(secret, underscore + 1),
            None => false,
        },
        ChecksumKind::GitlabRoutable => checksum::gitlab_routable_pat_valid(secret),
        ChecksumKind::Atlassian => checksum::atlassian_api_token_valid(secret),
    }
}

/// Most seeds one rule may name (Cosmos DB has seven).
pub const MAX_SEEDS: usize = 16;

/// The rule's Marvin seeds, decoded from their names into `out`; returns
/// how many. Names were checked when the rule was compiled.
pub fn parse_seeds(spec: &ChecksumSpec, out: &mut [u64; MAX_SEEDS]) -> usize {
    let mut n = 0;
    for seed in spec
        .seeds
        .iter()
        .filter_map(|name| checksum::azure::seed_from_name(name))
    {
        if n == MAX_SEEDS {
            break;
        }
        out[n] = seed;
        n += 1;
    }
    n
}

/// Length of the rule keyword `secret` starts with (0 if none): the prefix
/// that a checksum over the token's `body` skips.
pub fn keyword_len(rule: &RuleSpec, secret: &[u8]) -> usize {
    rule.keywords
        .iter()
        .filter(|k| secret.starts_with(k.as_bytes()))
        .map(String::len)
        .max()
        .unwrap_or(0)
}

/// The random part: the secret without the rule keyword it starts with, so
/// the fixed prefix neither lowers the entropy nor hides a placeholder body.
fn strip_keyword<'a>(rule: &RuleSpec, secret: &'a [u8]) -> &'a [u8] {
    rule.keywords
        .iter()
        .find_map(|k| secret.strip_prefix(k.as_bytes()))
        .unwrap_or(secret)
}

/// Words that mark documentation and templates, not issued tokens. A random
/// body contains one of these with negligible probability.
const PLACEHOLDER_WORDS: &[&[u8]] = &[
    b"xxxx",
    b"your",
    b"example",
    b"placeholder",
    b"redacted",
    b"changeme",
    b"dummy",
    b"sample",
    b"token_here",
    b"tokenhere",
    b"insert",
];

/// Placeholders: template words, very few distinct characters (`aaaa…`,
/// `0000…`), or runs like `abcdef…`/`012345…` making up most of the body.
pub fn looks_like_placeholder(body: &[u8]) -> bool {
    if body.is_empty() {
        return true;
    }
    let lower: Vec<u8> = body.iter().map(u8::to_ascii_lowercase).collect();
    if PLACEHOLDER_WORDS
        .iter()
        .any(|w| lower.windows(w.len()).any(|window| window == *w))
    {
        return true;
    }
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &b in body {
        if !seen[b as usize] {
            seen[b as usize] = true;
            distinct += 1;
        }
    }
    if body.len() >= 16 && distinct < 6 {
        return true;
    }
    let sequential = body
        .windows(2)
        .filter(|pair| pair[1] == pair[0].wrapping_add(1))
        .count();
    body.len() >= 8 && sequential * 2 >= body.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_recognised() {
        assert!(looks_like_placeholder(
            b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        ));
        assert!(looks_like_placeholder(b"XXXXXXXXXXXXXXXXXXXXXXXXXX"));
        assert!(looks_like_placeholder(b"your-token-here"));
        assert!(looks_like_placeholder(
            b"abcdefghijklmnopqrstuvwxyzabcdefgh"
        ));
        assert!(looks_like_placeholder(
            b"0123456789012345678901234567890123"
        ));
        assert!(looks_like_placeholder(
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"
        ));
        assert!(!looks_like_placeholder(
            b"jYCNNYmxuBtgRinmPTvAmeHMXzbXxYAdwF"
        ));
        assert!(!looks_like_placeholder(b"W6fYSu70dPEo5w_SwbHWgQ"));
    }
}
