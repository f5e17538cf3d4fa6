//! Baselines: the tokens a team already knows about, so CI fails only on new
//! ones.
//!
//! An entry is keyed by rule and the SHA-256 of the secret, never the secret
//! itself. The paths where the token was seen are kept for people reading
//! the file, but not matched: no line numbers, commit ids or timestamps, so
//! an entry survives edits, moved lines, renamed files, rebases and squashes
//! (the churn that makes other tools' baselines conflict on every merge).
//! The file is JSON with entries sorted by key, one per line, so two
//! branches that each add a token merge without conflict.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};
use thiserror::Error;

use crate::model::{Finding, Secret};
use crate::relpath::relative_path;

/// The only format version so far.
pub const BASELINE_VERSION: u32 = 1;

#[derive(Debug, Error)]
pub enum BaselineError {
    #[error("cannot read baseline {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("malformed baseline {}, line {line}, column {column}: {message}", path.display())]
    Malformed {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

/// Hex SHA-256 of a secret, checked on load: a hand-edited entry with a
/// typo must be an error, not an entry that silently never matches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SecretHash(String);

impl SecretHash {
    pub fn of(secret: &Secret) -> SecretHash {
        SecretHash(secret.sha256_hex())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for SecretHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let ok = text.len() == 64
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(SecretHash(text))
        } else {
            // Not quoted: what someone pastes here by mistake is the token.
            Err(serde::de::Error::custom(format!(
                "secret_sha256 must be 64 lowercase hex digits (the SHA-256 of the secret, never the secret), found {} characters",
                text.chars().count()
            )))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub rule_id: String,
    pub secret_sha256: SecretHash,
    /// Where the token was seen when the baseline was written, relative to
    /// the scanned root. For people only: matching ignores it.
    #[serde(default)]
    pub paths: Vec<String>,
}

impl fmt::Display for BaselineEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (secret sha256 {}…)",
            self.rule_id,
            &self.secret_sha256.as_str()[..12]
        )?;
        if !self.paths.is_empty() {
            write!(f, ", last seen in {}", self.paths.join(", "))?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    version: Version,
    entries: Vec<BaselineEntry>,
}

struct Version;

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let version = u32::deserialize(deserializer)?;
        if version == BASELINE_VERSION {
            Ok(Version)
        } else {
            Err(serde::de::Error::custom(format!(
                "unsupported baseline version {version} (this patscan reads version {BASELINE_VERSION})"
            )))
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Baseline {
    entries: Vec<BaselineEntry>,
    index: HashMap<(String, SecretHash), usize>,
}

impl Baseline {
    fn from_entries(mut entries: Vec<BaselineEntry>) -> Baseline {
        // One entry per key; paths of duplicates merged.
        let mut merged: BTreeMap<(String, SecretHash), BTreeSet<String>> = BTreeMap::new();
        for entry in entries.drain(..) {
            merged
                .entry((entry.rule_id, entry.secret_sha256))
                .or_default()
                .extend(entry.paths);
        }
        let entries: Vec<BaselineEntry> = merged
            .into_iter()
            .map(|((rule_id, secret_sha256), paths)| BaselineEntry {
                rule_id,
                secret_sha256,
                paths: paths.into_iter().collect(),
            })
            .collect();
        let index = entries
            .iter()
            .enumerate()
            .map(|(i, e)| ((e.rule_id.clone(), e.secret_sha256.clone()), i))
            .collect();
        Baseline { entries, index }
    }

    /// A baseline of `findings`, paths made relative to `roots`.
    pub fn from_findings(findings: &[Finding], roots: &[PathBuf]) -> Baseline {
        Baseline::from_entries(
            findings
                .iter()
                .map(|f| BaselineEntry {
                    rule_id: f.rule_id.clone(),
                    secret_sha256: SecretHash::of(&f.secret),
                    paths: vec![relative_path(&f.path, roots)],
                })
                .collect(),
        )
    }

    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Baseline::parse(path, &text)
    }

    /// Parses baseline text; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Baseline, BaselineError> {
        let file: BaselineFile =
            serde_json::from_str(text).map_err(|err| BaselineError::Malformed {
                path: path.to_path_buf(),
                line: err.line(),
                column: err.column(),
                message: strip_position(&err.to_string()),
            })?;
        let Version = file.version;
        Ok(Baseline::from_entries(file.entries))
    }

    /// This baseline with `entry` added: merged into the entry of the same
    /// token when there is one (its paths joined), kept sorted.
    pub fn with_entry(self, entry: BaselineEntry) -> Baseline {
        let mut entries = self.entries;
        entries.push(entry);
        Baseline::from_entries(entries)
    }

    /// Sorted by rule, then hash.
    pub fn entries(&self) -> &[BaselineEntry] {
        &self.entries
    }

    /// The index of the entry for this token, if the baseline knows it.
    pub fn position(&self, rule_id: &str, secret: &Secret) -> Option<usize> {
        self.index
            .get(&(rule_id.to_string(), SecretHash::of(secret)))
            .copied()
    }

    /// Writes the stable form: sorted entries, one per line.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{{")?;
        writeln!(out, "  \"version\": {BASELINE_VERSION},")?;
        if self.entries.is_empty() {
            writeln!(out, "  \"entries\": []")?;
        } else {
            writeln!(out, "  \"entries\": [")?;
            for (i, entry) in self.entries.iter().enumerate() {
                let comma = if i + 1 < self.entries.len() { "," } else { "" };
                writeln!(out, "    {}{comma}", serde_json::to_string(entry)?)?;
            }
            writeln!(out, "  ]")?;
        }
        writeln!(out, "}}")
    }
}

/// serde_json appends " at line L column C"; the error names them itself.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(c: char) -> String {
        c.to_string().repeat(64)
    }

    #[test]
    fn written_baselines_parse_back_sorted_and_merged() {
        let text = format!(
            r#"{{"version": 1, "entries": [
              {{"rule_id": "b", "secret_sha256": "{}", "paths": ["x"]}},
              {{"rule_id": "a", "secret_sha256": "{}", "paths": ["z"]}},
              {{"rule_id": "b", "secret_sha256": "{}", "paths": ["w"]}}
            ]}}"#,
            hash('1'),
            hash('2'),
            hash('1')
        );
        let baseline = Baseline::parse(Path::new("b.json"), &text).unwrap();
        let ids: Vec<_> = baseline.entries().iter().map(|e| &e.rule_id).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(baseline.entries()[1].paths, ["w", "x"]);
        let mut out = Vec::new();
        baseline.write(&mut out).unwrap();
        let again = Baseline::parse(Path::new("b.json"), std::str::from_utf8(&out).unwrap());
        assert_eq!(again.unwrap().entries(), baseline.entries());
    }

    #[test]
    fn errors_name_the_line() {
        let text = format!(
            "{{\n  \"version\": 1,\n  \"entries\": [\n    {{\"rule_id\": \"a\", \"secret_sha256\": \"{}\"}}\n  ]\n}}\n",
            "abc"
        );
        let err = Baseline::parse(Path::new("b.json"), &text).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("line 4"), "{message}");
        assert!(message.contains("secret_sha256"), "{message}");
        let err = Baseline::parse(Path::new("b.json"), "{\"version\": 2, \"entries\": []}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("version 2"), "{err}");
    }
}
