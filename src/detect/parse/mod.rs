//! Parsers for structured secrets, where a regex can find a candidate but
//! not decide it: a PEM block spans lines and says in its DER body whether
//! it is a key at all and whether it is encrypted; a JWT is only a
//! credential if its header and claims decode (and it matters whether it
//! has expired); in a connection string the secret is the password, and
//! whether that is a placeholder depends on the host and user around it.
//!
//! A rule names its parser (`parser = "private-key"`); the engine runs the
//! rule's regex as usual and hands each match to [`confirm`], which may
//! reject it, move the secret's span and set the confidence. [`describe`]
//! gives the finding's non-secret context (key type and size, token
//! issuer and expiry, connection host and user) when the finding is built:
//! parsing again there costs only per finding, and keeps the hot path's
//! [`Match`](crate::engine::Match) small and `Copy`.
//!
//! Each format has its own module and documents its own choices. Nothing
//! here decrypts or verifies a signature; all of it is offline.

use std::ops::Range;

use crate::model::Confidence;
use crate::rules::validate::Validation;
use crate::rules::ParserKind;

pub mod age;
pub mod connection;
pub mod credfile;
pub mod der;
pub mod jwt;
pub mod pem;
pub mod pgp;
pub mod pkcs12;
pub mod placeholder;
pub mod ppk;
pub mod published;

/// Non-secret facts about a finding, in the order they are shown: names
/// such as `type`, `bits`, `encrypted`, `issuer`, `host`. Never the secret.
pub type Details = Vec<(String, String)>;

/// What a parser concluded about a candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The secret: for a URL the password, for a PEM block the whole block.
    pub span: Range<usize>,
    pub confidence: Confidence,
    /// The format carries a checksum and it held (an age key's bech32, a
    /// PGP armor's CRC-24).
    pub checksum: bool,
    pub details: Details,
}

impl Parsed {
    fn new(span: Range<usize>, confidence: Confidence) -> Parsed {
        Parsed {
            span,
            confidence,
            checksum: false,
            details: Vec::new(),
        }
    }

    fn detail(&mut self, name: &str, value: impl Into<String>) {
        self.details.push((name.to_string(), value.into()));
    }
}

/// Runs `kind`'s parser on a regex match: `whole` is the span of the whole
/// match in `haystack`, `secret` that of its `secret` group. `None` drops
/// the candidate.
pub fn confirm(
    kind: ParserKind,
    haystack: &[u8],
    whole: Range<usize>,
    secret: Range<usize>,
) -> Option<(Range<usize>, Validation)> {
    let parsed = parse(kind, haystack, whole, secret)?;
    let validation = if parsed.checksum {
        Validation::Checksum
    } else {
        Validation::Structure(parsed.confidence)
    };
    Some((parsed.span, validation))
}

/// The details of a finding of `kind` whose secret is `span` of `text`
/// (the scanned buffer, or the secret alone when the finding was decoded
/// from base64 and its surroundings are gone). Empty when nothing is
/// known.
pub fn describe(kind: ParserKind, text: &[u8], span: Range<usize>) -> Details {
    let found = match kind {
        // These formats' spans are the whole thing: parse it again.
        ParserKind::PrivateKey => pem::parse(text, span.start),
        ParserKind::Ppk => ppk::parse(text, span.start),
        ParserKind::Pgp => pgp::parse(text, span.start),
        ParserKind::Age => age::parse(text, span.clone()),
        ParserKind::Jwt => jwt::parse(text, span.clone()),
        ParserKind::Pkcs12 => pkcs12::parse(text, span.start),
        // The secret is inside: read its surroundings.
        ParserKind::ConnectionUrl => connection::describe_url(text, span.clone()),
        ParserKind::ConnectionString => connection::describe_string(text, span.clone()),
        ParserKind::CredentialFile => credfile::describe(text, span.clone()),
    };
    found.map(|p| p.details).unwrap_or_default()
}

fn parse(
    kind: ParserKind,
    haystack: &[u8],
    whole: Range<usize>,
    secret: Range<usize>,
) -> Option<Parsed> {
    match kind {
        ParserKind::PrivateKey => pem::parse(haystack, secret.start),
        ParserKind::Ppk => ppk::parse(haystack, secret.start),
        ParserKind::Pgp => pgp::parse(haystack, secret.start),
        ParserKind::Age => age::parse(haystack, secret),
        ParserKind::Jwt => jwt::parse(haystack, secret),
        ParserKind::Pkcs12 => pkcs12::parse(haystack, secret.start),
        ParserKind::ConnectionUrl => connection::parse_url(haystack, whole, secret),
        ParserKind::ConnectionString => connection::parse_string(haystack, whole, secret),
        ParserKind::CredentialFile => credfile::parse(haystack, whole, secret),
    }
}

/// A parse's details as string pairs, for the parsers' tests.
#[cfg(test)]
pub(crate) fn test_details(parsed: &Parsed) -> Vec<(&str, &str)> {
    parsed
        .details
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}
