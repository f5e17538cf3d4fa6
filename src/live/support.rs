//! Pieces the issuers' modules share: the token-shape test every `accepts`
//! makes, reading fields out of JSON answers, the plain "401 means rejected"
//! reading, names of instances found near a token, and how answers from
//! several instances combine.

use std::ops::RangeInclusive;

use regex::bytes::Regex;
use serde_json::Value;

use super::http::Answer;
use super::{Provider, Status, Verification};

/// Bytes searched on each side of a token for the instance it belongs to.
pub const CONTEXT_WINDOW: usize = 2048;
/// Instances checked per token at most: bounds the requests per token.
pub const MAX_INSTANCES: usize = 3;

/// Whether `token` is `prefix` followed by a body whose length is in `body`
/// and whose every byte passes `ok`: the issuer's shape, checked before
/// anything is sent.
pub fn shaped(token: &str, prefix: &str, body: RangeInclusive<usize>, ok: fn(u8) -> bool) -> bool {
    token
        .strip_prefix(prefix)
        .is_some_and(|rest| body.contains(&rest.len()) && rest.bytes().all(ok))
}

pub fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

pub fn lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

pub fn url_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The string at `path` in `value`, if there is one and it is not empty.
pub fn text(value: &Value, path: &[&str]) -> Option<String> {
    let mut at = value;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

/// The strings of a JSON array (others skipped).
pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The `inactive` of an issuer that answers 401 to a token it does not
/// accept.
pub fn rejected(answer: &Answer, provider: Provider, issuer: &str) -> Verification {
    answer
        .verification(Status::Inactive, provider)
        .with_reason(format!(
            "rejected by {issuer} (HTTP {}): revoked, expired or never valid",
            answer.status
        ))
}

/// Instance names captured by group 1 of `regex` within [`CONTEXT_WINDOW`]
/// bytes of `start..end`, lower-cased, first seen first, at most
/// [`MAX_INSTANCES`], each passing `keep`.
pub fn names_near(
    regex: &Regex,
    buf: &[u8],
    start: usize,
    end: usize,
    keep: impl Fn(&str) -> bool,
) -> Vec<String> {
    let from = start.saturating_sub(CONTEXT_WINDOW);
    let to = end.saturating_add(CONTEXT_WINDOW).min(buf.len());
    let mut names: Vec<String> = Vec::new();
    let Some(window) = buf.get(from..to) else {
        return names;
    };
    for caps in regex.captures_iter(window) {
        let Some(name) = caps.get(1) else { continue };
        let name = String::from_utf8_lossy(name.as_bytes()).to_ascii_lowercase();
        if keep(&name) && !names.contains(&name) {
            names.push(name);
        }
        if names.len() == MAX_INSTANCES {
            break;
        }
    }
    names
}

/// A DNS label: letters, digits and inner hyphens, 1 to 63 characters.
/// Checked again before a name goes into a URL.
pub fn is_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// One token checked on several instances (the ones named near it): active
/// if any accepts it, inactive only if every one rejected it, otherwise the
/// first unclear answer.
pub fn combine(results: Vec<Verification>) -> Option<Verification> {
    if let Some(active) = results.iter().find(|v| v.status == Status::Active) {
        return Some(active.clone());
    }
    if !results.is_empty() && results.iter().all(|v| v.status == Status::Inactive) {
        return results.into_iter().next();
    }
    results.into_iter().find(|v| v.status == Status::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_exact() {
        assert!(shaped("ab_12", "ab_", 2..=2, alnum));
        assert!(!shaped("ab_123", "ab_", 2..=2, alnum));
        assert!(!shaped("ab_1/", "ab_", 2..=2, alnum));
        assert!(!shaped("xb_12", "ab_", 2..=2, alnum));
    }

    #[test]
    fn labels_exclude_anything_that_could_change_the_host() {
        assert!(is_label("acme-store"));
        for bad in ["", "-a", "a-", "a.b", "a/b", "a@b", "a:1"] {
            assert!(!is_label(bad), "{bad}");
        }
    }
}
