//! Pieces the issuers' modules share: the token-shape test every `accepts`
//! makes, reading fields out of JSON answers, the plain "401 means rejected"
//! reading, names of instances found near a token, and how answers from
//! several instances combine.

use std::ops::RangeInclusive;

use serde_json::Value;

use crate::model::{Provider, Status, Verification};
use crate::net::{Answer, Failure};

/// An answer of the shared client read as a verification: the HTTP layer
/// moves bytes and knows nothing of what a token's status is.
pub trait AnswerVerdict {
    /// A verification carrying this answer's endpoint and status.
    fn verification(&self, status: Status, provider: Provider) -> Verification;
    /// The `unknown` result for any answer a provider does not recognise,
    /// with the most useful reason patscan can give.
    fn unexpected(&self, provider: Provider) -> Verification;
}

impl AnswerVerdict for Answer {
    fn verification(&self, status: Status, provider: Provider) -> Verification {
        let mut v = Verification::new(status, provider);
        v.endpoint = Some(self.endpoint.clone());
        v.http_status = Some(self.status);
        v
    }

    fn unexpected(&self, provider: Provider) -> Verification {
        let reason = match self.status {
            429 => match self.retry_after() {
                Some(wait) => format!(
                    "rate limited (HTTP 429, retry after {}s); try again later",
                    wait.as_secs()
                ),
                None => "rate limited (HTTP 429); try again later".to_string(),
            },
            s @ 500..=599 => format!("server error (HTTP {s})"),
            s if self.is_html() => format!(
                "an HTML page instead of the API's JSON (HTTP {s}): a sign-in page, \
                 proxy or firewall answered"
            ),
            s @ 300..=399 => {
                format!("redirected (HTTP {s}); patscan never follows a redirect with a token")
            }
            s => format!("unexpected answer (HTTP {s})"),
        };
        self.verification(Status::Unknown, provider)
            .with_reason(reason)
    }
}

/// A request that got no answer, read as an `unknown` verification whose
/// reason is the failure's fixed words.
pub trait FailureVerdict {
    fn verification(&self, provider: Provider, call: &str) -> Verification;
}

impl FailureVerdict for Failure {
    fn verification(&self, provider: Provider, call: &str) -> Verification {
        let mut v = Verification::unknown(provider, self.to_string());
        v.endpoint = Some(call.to_string());
        v
    }
}

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
}
