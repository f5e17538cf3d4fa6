//! Rules are data: one TOML file per provider under `rules/`, embedded in the
//! binary at build time, parsed and compiled once per run.
//!
//! A rule says how to find a token (literal keywords for the prefilter, or a
//! bare scan for prefix-less formats), how to confirm it (a regex whose
//! `secret` group is the token) and how to validate it (an issuer checksum, or
//! an entropy floor plus placeholder filters when the format has none).

pub(crate) mod compile;
pub(crate) mod context_words;
pub mod examples;
pub(crate) mod facts;
mod literals;
mod spec;
pub mod validate;
mod word_heads;

pub use compile::{
    CompiledRule, Prefilter, RuleSet, MAX_TOKEN_LENGTH, MIN_DECODED_SECRET, MIN_ENCODED_RUN_FLOOR,
};
pub use context_words::NameMemo;
pub use spec::{
    Anchor, BareScan, CheckEncoding, ChecksumInput, ChecksumKind, ChecksumSpec, OptIn, ParserKind,
    RuleFile, RuleSpec,
};

use crate::error::RuleError;

/// The built-in rule files (every `rules/*.toml`, in name order), embedded
/// by `build.rs` so the binary needs nothing on disk: (file name, the file's
/// document as JSON, which reads several times faster than its TOML).
pub const BUILTIN_RULE_FILES: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Where each built-in rule is defined: (rule id, file name under `rules/`,
/// 1-based line of its `id`), read by `build.rs` from the TOML.
pub const BUILTIN_RULE_PLACES: &[(&str, &str, usize)] =
    include!(concat!(env!("OUT_DIR"), "/builtin_rule_places.rs"));

/// Parses every built-in rule file, opt-in rules included (for listing
/// ids, generating test tokens and checking examples). The files ship inside
/// the binary, so an error here is a packaging bug, but it is still
/// reported, not unwrapped.
///
/// Parsed in parallel: with 600-odd rules this is a fifth of a pre-commit
/// hook's start-up, and the files are independent.
pub fn all_builtin_specs() -> Result<Vec<RuleSpec>, RuleError> {
    use rayon::prelude::*;
    let files = BUILTIN_RULE_FILES
        .par_iter()
        .map(|(name, json)| RuleFile::parse_json(name, json).map(|file| file.rules))
        .collect::<Result<Vec<_>, RuleError>>()?;
    Ok(files.into_iter().flatten().collect())
}

/// The built-in rules a default scan uses: every rule but the opt-in ones.
pub fn builtin_specs() -> Result<Vec<RuleSpec>, RuleError> {
    builtin_specs_with(&[])
}

/// The built-in rules with the opt-in sets in `opt_ins` turned on.
pub fn builtin_specs_with(opt_ins: &[OptIn]) -> Result<Vec<RuleSpec>, RuleError> {
    Ok(all_builtin_specs()?
        .into_iter()
        .filter(|spec| match spec.opt_in {
            None => true,
            Some(set) => opt_ins.contains(&set),
        })
        .collect())
}

/// The compiled built-in rule set of a default scan.
pub fn builtin() -> Result<RuleSet, RuleError> {
    RuleSet::compile(builtin_specs()?)
}

/// The compiled built-in rule set with the opt-in sets in `opt_ins`.
pub fn builtin_with(opt_ins: &[OptIn]) -> Result<RuleSet, RuleError> {
    RuleSet::compile(builtin_specs_with(opt_ins)?)
}
