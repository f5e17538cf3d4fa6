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
const PUBLISHED: &[(&str, &str)] = &[
    // RSA 512: the sample key of the `pem` crate (README.md, src/lib.rs
    // tests, benches/pem_benchmark.rs; pem 1.x to 4.x).
    (
        "c033383af443be132d660d2cce731b39a51ce3ba19eefa925c5539da14e05e49",
        "pem crate (crates.io)",
    ),
    // RSA 512: the pem crate's second sample (its SAMPLE's block labelled
    // RSA PUBLIC KEY, which holds a private key; reused in its tests).
    (
        "fcfc36191a6e289b6d854d0c729e04097f6f8eb99b3660c742b6ed24de5055e9",
        "pem crate (crates.io)",
    ),
    // RSA 4096, PKCS#8: the key of the `rcgen` crate's certificate tests
    // (src/certificate.rs, rcgen 0.12 to 0.14).
    (
        "ebaf369082e43b13d3622e4af75780b075e3a9580942c53df8b7759298cf05e0",
        "rcgen crate (crates.io)",
    ),
];

/// Where the key with this fingerprint is published, if it is one.
pub fn lookup(fingerprint: &[u8; 32]) -> Option<&'static str> {
    let hex: String = fingerprint.iter().map(|b| format!("{b:02x}")).collect();
    PUBLISHED
        .iter()
        .find(|(known, _)| *known == hex)
        .map(|(_, source)| *source)
}
