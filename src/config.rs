//! `.patscan.toml`: a team's settings, kept in the repository beside the
//! code it describes.
//!
//! ```toml
//! disabled_rules = ["github-app-server"]   # built-in rules to turn off
//! generic = true                           # also the opt-in generic rules
//!
//! [allow]
//! paths = ["tests/fixtures/**", "*.snap"] # not scanned at all
//! regexes = ['''^npm_TEST''']              # secrets matching one are allowed
//! values = ["…"]                           # these exact secrets are allowed
//!
//! [[rule]]                                 # custom rules: the built-in schema
//! id = "acme-api-key"
//! …
//! ```
//!
//! Every table denies unknown keys: a misspelt setting is an error (exit 2,
//! naming the key and line), never a silently ignored one. Custom rules are
//! compiled with the same limits as built-in ones and their examples are
//! checked on load. A rule is data (keywords, a regex, an offline checksum):
//! nothing in one can make patscan touch the network, and a custom rule may
//! not take a built-in rule's id, so whatever later keys off a built-in id
//! (live verification, revocation) never sees a custom rule's matches.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use thiserror::Error;

use crate::error::RuleError;
use crate::model::Secret;
use crate::relpath::relative_to_roots;
use crate::rules::{self, examples::check_custom_examples, OptIn, RuleSet, RuleSpec};

/// The file looked for at the scanned root.
pub const CONFIG_FILE_NAME: &str = ".patscan.toml";
/// Seed for the generated tokens of custom rules' examples: fixed, so a
/// config that loads once loads every time.
const EXAMPLE_SEED: u64 = 0x5eed;
/// Compiled-size cap of an allowlist regex.
const MAX_ALLOW_REGEX_BYTES: usize = 1 << 20;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("invalid config {}: disabled_rules names {rule:?}, which is no known rule", path.display())]
    UnknownRule { path: PathBuf, rule: String },
    #[error("invalid config {}: custom rule {rule:?} has the id of a built-in rule; give it its own id", path.display())]
    BuiltinId { path: PathBuf, rule: String },
    #[error("invalid config {}: custom rule {rule:?} needs at least one example (text it must match)", path.display())]
    NoExamples { path: PathBuf, rule: String },
    #[error("invalid config {}: {source}", path.display())]
    Rule {
        path: PathBuf,
        #[source]
        source: RuleError,
    },
    #[error("invalid config {}: allow.regexes[{index}]: {message}", path.display())]
    Regex {
        path: PathBuf,
        index: usize,
        message: String,
    },
    #[error("invalid config {}: allow.paths[{index}]: {message}", path.display())]
    Glob {
        path: PathBuf,
        index: usize,
        message: String,
    },
}

/// The file's schema.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Ids of built-in rules to turn off.
    #[serde(default)]
    pub disabled_rules: Vec<String>,
    /// Turn on the opt-in generic rules (`password = "…"`), as `--generic`
    /// does: off by default because they are noisy on real code.
    #[serde(default)]
    pub generic: bool,
    #[serde(default)]
    pub allow: AllowSpec,
    /// Custom rules, in the schema of the built-in rule files.
    #[serde(rename = "rule", default)]
    pub rules: Vec<RuleSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowSpec {
    /// Globs of paths (relative to the scanned root) never scanned. A glob
    /// without `/` matches a file or folder name at any depth.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes; a finding whose secret matches one is allowed.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Exact secrets to allow (published test tokens, say).
    #[serde(default)]
    pub values: Vec<String>,
}

/// Regexes and literal values a secret may match to be allowed.
#[derive(Debug, Default)]
pub struct Allowlist {
    regexes: Vec<regex::Regex>,
    values: HashSet<String>,
}

impl Allowlist {
    pub fn allows(&self, secret: &Secret) -> bool {
        let value = secret.expose();
        self.values.contains(value) || self.regexes.iter().any(|r| r.is_match(value))
    }

    pub fn is_empty(&self) -> bool {
        self.regexes.is_empty() && self.values.is_empty()
    }
}

/// Path globs, matched against paths relative to the scanned root.
#[derive(Debug, Clone)]
pub struct PathGlobs {
    set: GlobSet,
    roots: Vec<PathBuf>,
}

impl PathGlobs {
    /// True when `path`, reached by walking one of the roots, is skipped.
    /// Roots themselves are never skipped: the user named them.
    pub fn skips(&self, path: &Path) -> bool {
        match relative_to_roots(path, &self.roots) {
            Some(relative) => self.set.is_match(relative),
            None => false,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// The effective settings of a run.
pub struct Config {
    /// The file they came from; `None` for the defaults.
    pub source: Option<PathBuf>,
    pub rules: RuleSet,
    pub allowlist: Allowlist,
    pub skip_paths: Option<PathGlobs>,
}

/// Where the config for a scan of `roots` lives: `explicit`, else
/// `.patscan.toml` in the first folder scanned (or the current folder).
pub fn locate(explicit: Option<&Path>, roots: &[PathBuf]) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_path_buf());
    }
    let root = roots
        .iter()
        .find(|r| r.as_os_str() != "-" && r.is_dir())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let candidate = root.join(CONFIG_FILE_NAME);
    candidate.is_file().then_some(candidate)
}

/// Loads the config (see [`locate`]) for a scan of `roots`; without one,
/// the built-in rules and no allowlist.
pub fn load(explicit: Option<&Path>, roots: &[PathBuf]) -> Result<Config, ConfigError> {
    load_with(explicit, roots, &[])
}

/// As [`load`], with the opt-in rule sets in `opt_ins` turned on (from the
/// command line) in addition to those the config file turns on.
pub fn load_with(
    explicit: Option<&Path>,
    roots: &[PathBuf],
    opt_ins: &[OptIn],
) -> Result<Config, ConfigError> {
    let Some(path) = locate(explicit, roots) else {
        let rules = rules::builtin_with(opt_ins).map_err(|source| ConfigError::Rule {
            path: PathBuf::from("(built-in rules)"),
            source,
        })?;
        return Ok(Config {
            source: None,
            rules,
            allowlist: Allowlist::default(),
            skip_paths: None,
        });
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    from_text_with(&path, &text, roots, opt_ins)
}

/// Builds the config from `text`; `path` names it in errors.
pub fn from_text(path: &Path, text: &str, roots: &[PathBuf]) -> Result<Config, ConfigError> {
    from_text_with(path, text, roots, &[])
}

/// As [`from_text`], with the opt-in rule sets in `opt_ins` turned on.
pub fn from_text_with(
    path: &Path,
    text: &str,
    roots: &[PathBuf],
    opt_ins: &[OptIn],
) -> Result<Config, ConfigError> {
    let file: ConfigFile = toml::from_str(text).map_err(|err| ConfigError::Parse {
        path: path.to_path_buf(),
        message: err.to_string().trim_end().to_string(),
    })?;
    let mut opt_ins = opt_ins.to_vec();
    if file.generic && !opt_ins.contains(&OptIn::Generic) {
        opt_ins.push(OptIn::Generic);
    }
    let rules = effective_rules(path, file.disabled_rules, file.rules, &opt_ins)?;
    let allowlist = allowlist(path, &file.allow)?;
    let skip_paths = path_globs(path, &file.allow.paths, roots)?;
    Ok(Config {
        source: Some(path.to_path_buf()),
        rules,
        allowlist,
        skip_paths,
    })
}

fn effective_rules(
    path: &Path,
    disabled: Vec<String>,
    mut custom: Vec<RuleSpec>,
    opt_ins: &[OptIn],
) -> Result<RuleSet, ConfigError> {
    let rule_error = |source| ConfigError::Rule {
        path: path.to_path_buf(),
        source,
    };
    // All of them, so that an opt-in rule's id is known (to disable, and
    // not to be taken by a custom rule) whether or not its set is on.
    let builtin = rules::all_builtin_specs().map_err(rule_error)?;
    let builtin_ids: BTreeSet<&str> = builtin.iter().map(|s| s.id.as_str()).collect();
    for spec in &mut custom {
        if builtin_ids.contains(spec.id.as_str()) {
            return Err(ConfigError::BuiltinId {
                path: path.to_path_buf(),
                rule: spec.id.clone(),
            });
        }
        if spec.examples.is_empty() {
            return Err(ConfigError::NoExamples {
                path: path.to_path_buf(),
                rule: spec.id.clone(),
            });
        }
        spec.custom = true;
    }
    let disabled: BTreeSet<String> = disabled.into_iter().collect();
    for id in &disabled {
        if !builtin_ids.contains(id.as_str()) && !custom.iter().any(|s| &s.id == id) {
            return Err(ConfigError::UnknownRule {
                path: path.to_path_buf(),
                rule: id.clone(),
            });
        }
    }
    if !custom.is_empty() {
        // Checked on their own: a custom rule's examples must pass whatever
        // the built-in rules around it.
        let alone = RuleSet::compile(custom.clone()).map_err(rule_error)?;
        check_custom_examples(&alone, &builtin, EXAMPLE_SEED).map_err(rule_error)?;
    }
    let specs: Vec<RuleSpec> = builtin
        .into_iter()
        .chain(custom)
        .filter(|s| !disabled.contains(&s.id))
        .filter(|s| match s.opt_in {
            None => true,
            Some(set) => opt_ins.contains(&set),
        })
        .collect();
    RuleSet::compile(specs).map_err(rule_error)
}

fn allowlist(path: &Path, spec: &AllowSpec) -> Result<Allowlist, ConfigError> {
    let mut regexes = Vec::with_capacity(spec.regexes.len());
    for (index, pattern) in spec.regexes.iter().enumerate() {
        let regex = regex::RegexBuilder::new(pattern)
            .size_limit(MAX_ALLOW_REGEX_BYTES)
            .build()
            .map_err(|err| ConfigError::Regex {
                path: path.to_path_buf(),
                index,
                message: format!("invalid regex: {err}"),
            })?;
        regexes.push(regex);
    }
    Ok(Allowlist {
        regexes,
        values: spec.values.iter().cloned().collect(),
    })
}

fn path_globs(
    path: &Path,
    patterns: &[String],
    roots: &[PathBuf],
) -> Result<Option<PathGlobs>, ConfigError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for (index, pattern) in patterns.iter().enumerate() {
        let error = |message: String| ConfigError::Glob {
            path: path.to_path_buf(),
            index,
            message,
        };
        let trimmed = pattern.trim_start_matches('/').trim_end_matches('/');
        if trimmed.is_empty() {
            return Err(error("empty pattern".into()));
        }
        // As in .gitignore: no slash means "this name anywhere".
        let anchored = if pattern.trim_end_matches('/').contains('/') {
            trimmed.to_string()
        } else {
            format!("**/{trimmed}")
        };
        // And everything under a matching folder.
        for glob in [anchored.clone(), format!("{anchored}/**")] {
            let compiled = GlobBuilder::new(&glob)
                .literal_separator(true)
                .build()
                .map_err(|err| error(format!("invalid glob {pattern:?}: {err}")))?;
            builder.add(compiled);
        }
    }
    let set = builder.build().map_err(|err| ConfigError::Glob {
        path: path.to_path_buf(),
        index: 0,
        message: err.to_string(),
    })?;
    let roots = if roots.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        roots.to_vec()
    };
    Ok(Some(PathGlobs { set, roots }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Config, ConfigError> {
        from_text(Path::new(".patscan.toml"), text, &[PathBuf::from(".")])
    }

    #[test]
    fn path_globs_match_like_gitignore() {
        let config = load_text("[allow]\npaths = [\"*.snap\", \"tests/fixtures/\", \"/vendor\"]\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let globs = config.skip_paths.unwrap();
        assert!(globs.skips(Path::new("./a/b/x.snap")));
        assert!(globs.skips(Path::new("./tests/fixtures")));
        assert!(globs.skips(Path::new("./tests/fixtures/deep/f.txt")));
        assert!(globs.skips(Path::new("./vendor/lib.js")));
        assert!(!globs.skips(Path::new("./src/vendor/lib.js")));
        assert!(!globs.skips(Path::new("./tests/other.rs")));
    }

    #[test]
    fn generic_rules_are_on_only_when_asked_for() {
        let has_generic =
            |config: &Config| config.rules.rules().iter().any(|r| r.spec.opt_in.is_some());
        assert!(!has_generic(&load_text("").unwrap()));
        assert!(has_generic(&load_text("generic = true\n").unwrap()));
        let from_cli = from_text_with(
            Path::new(".patscan.toml"),
            "",
            &[PathBuf::from(".")],
            &[OptIn::Generic],
        )
        .unwrap();
        assert!(has_generic(&from_cli));
        // An opt-in rule may be disabled whether its set is on or not.
        let config = load_text("generic = true\ndisabled_rules = [\"generic-token\"]\n").unwrap();
        assert!(config
            .rules
            .rules()
            .iter()
            .all(|r| r.spec.id != "generic-token"));
        assert!(has_generic(&config));
        assert!(load_text("disabled_rules = [\"generic-token\"]\n").is_ok());
    }

    #[test]
    fn errors_name_the_key() {
        let err = load_text("colour = 1\n").err().unwrap().to_string();
        assert!(err.contains("colour"), "{err}");
        let err = load_text("[allow]\nregexes = [\"ok\", \"(\"]\n")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("allow.regexes[1]"), "{err}");
        let err = load_text("disabled_rules = [\"nope\"]\n")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("nope"), "{err}");
    }

    /// A custom rule of Acme's keys, without examples.
    const ACME: &str = "[[rule]]\nid = \"acme-key\"\nname = \"Acme\"\n\
        description = \"An Acme key.\"\nkeywords = [\"acme_\"]\n\
        pattern = '''(?P<secret>acme_[A-Za-z0-9]{24})'''\nmax_length = 29\nmin_entropy = 3.0\n";

    #[test]
    fn a_custom_rule_s_placeholders_are_filled_from_the_named_rule_s_pattern() {
        // Its own id, and a built-in rule's as the scene around it.
        let own = format!(
            "{ACME}examples = [\"key = {{{{token:acme-key}}}}\", \
             \"gh = {{{{token:github-classic-pat}}}} acme = {{{{token:acme-key}}}}\"]\n"
        );
        let config = load_text(&own).unwrap_or_else(|e| panic!("{e}"));
        assert!(config.rules.rules().iter().any(|r| r.spec.id == "acme-key"));
        // A family no rule has is named in the error.
        let err = load_text(&format!("{ACME}examples = [\"{{{{token:acme-nope}}}}\"]\n"))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("acme-nope"), "{err}");
        // A corrupt token needs a checksum to break.
        let err = load_text(&format!(
            "{ACME}examples = [\"{{{{token:acme-key}}}}\"]\n\
             negative_examples = [\"{{{{corrupt:acme-key}}}}\"]\n"
        ))
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("has no checksum"), "{err}");
    }

    #[test]
    fn a_custom_rule_with_a_checksum_has_its_examples_written_out() {
        let rule = |examples: &str| {
            format!(
                "[[rule]]\nid = \"acme-gh\"\nname = \"Acme GH\"\n\
                 description = \"A GitHub-shaped Acme key.\"\nkeywords = [\"ghp_\"]\n\
                 pattern = '''(?P<secret>ghp_[A-Za-z0-9]{{36}})'''\nmax_length = 40\n\
                 checksum = \"crc32-base62\"\n{examples}"
            )
        };
        // Its own placeholder has the shape only: no checksum holds.
        let err = load_text(&rule("examples = [\"{{token:acme-gh}}\"]\n"))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("computes no checksum"), "{err}");
        // Written out (generated here, never committed) it loads, and a
        // corrupt placeholder is one its checksum rejects.
        let mut rng = crate::tokengen::TokenRng::new(9);
        let token = crate::tokengen::generate("github-classic-pat", &mut rng).unwrap_or_default();
        let config = load_text(&rule(&format!(
            "examples = [\"t = {token}\"]\nnegative_examples = [\"t = {{{{corrupt:acme-gh}}}}\"]\n"
        )))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(config.rules.rules().iter().any(|r| r.spec.id == "acme-gh"));
    }
}
