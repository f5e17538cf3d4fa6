//! Seeded generator of realistic test tokens.
//!
//! Tests, benchmarks and rule-example checks need tokens that look exactly
//! like real ones, including a *valid* embedded checksum, without ever
//! committing such a string to the repository (push protection and other
//! scanners would flag it). So tokens are produced at run time from a seed:
//! the same seed always yields the same tokens, which keeps failures
//! reproducible.
//!
//! Formats follow `reference/token-formats.md` and the Python oracle
//! `tools/tokencheck.py` (`families()`); the family names are the scanner's
//! rule ids.
//!
//! Two parts. Always in the library: the random source ([`TokenRng`]),
//! templates ([`template`]) and draws from a rule's own pattern
//! ([`sample`]), which fill the `{{token:…}}` placeholders of custom rules'
//! examples in `.patscan.toml` with strings of the right shape and no
//! checksum. With the `test-support` feature (the tests, benchmarks,
//! examples and fuzz targets) or in the crate's own tests: the hand-written
//! generators of the families, the checksum repair of every other
//! built-in rule's tokens ([`generate`], [`corrupt`], [`fill_template`])
//! and the structured formats ([`structured`]). A release build carries
//! none of those.

mod rng;
pub mod sample;
pub mod template;

pub use rng::TokenRng;

#[cfg(any(test, feature = "test-support"))]
mod families;
#[cfg(any(test, feature = "test-support"))]
mod from_rule;
#[cfg(any(test, feature = "test-support"))]
pub mod structured;

#[cfg(any(test, feature = "test-support"))]
pub use families::{
    checksum_validator, corrupt, fill_template, generate, is_family, rule_of, FAMILIES, VARIANTS,
};
