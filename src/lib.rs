//! patscan: a fast scanner for leaked personal access tokens.
//!
//! The pipeline runs one way: a [`source`] yields bytes with a path, the
//! [`scanner`] reads them in bounded chunks and hands each to the
//! [`detect`] stage (one literal prefilter pass, regexes only around its
//! hits, a dedicated scan for prefix-less formats), whose candidates the
//! rule's validator accepts or drops ([`rules::validate`]: issuer checksums
//! from [`checksum`], else entropy and placeholder filters). [`scan`] gathers
//! [`model::Finding`]s, [`suppress`] drops what a team has allowed (inline
//! comments, [`config`] allowlists, a [`baseline`]) and [`report`] renders
//! the rest. Opt-in, [`live`] asks each token's issuer whether it still
//! works, over the one HTTP client of [`net`]. The binary (`main.rs`) is a
//! thin shell over [`cli`]. The layers and what each may use are in
//! `docs/architecture.md`, kept by `tests/architecture.rs`.

pub mod baseline;
pub mod cache;
pub mod civil_time;
pub mod cli;
pub mod codec;
pub mod config;
pub mod decode;
pub mod detect;
pub mod error;
pub mod fnv;
pub mod hook;
pub mod line_hash;
pub mod live;
pub mod lsp;
pub mod model;
pub mod net;
pub mod progress;
pub mod redact;
pub mod relpath;
pub mod report;
pub mod scan;
pub mod scanner;
pub mod size;
pub mod source;
pub mod suppress;
/// The seeded test-token generator: public for tests, benchmarks and fuzz
/// targets (`test-support`), private otherwise, where it only fills the
/// placeholders of custom rules' examples.
#[cfg(any(test, feature = "test-support"))]
pub mod tokengen;
#[cfg(not(any(test, feature = "test-support")))]
mod tokengen;

// Detection's parts keep their short paths (`patscan::rules`, …).
pub use detect::{checksum, engine, generic, parse, rules, runs};
