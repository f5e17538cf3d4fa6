//! The on-disk schema of a rule file. `deny_unknown_fields` everywhere: a
//! misspelt key must be an error, not a silently ignored setting.

use serde::{Deserialize, Serialize};

use crate::error::RuleError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(rename = "rule", default)]
    pub rules: Vec<RuleSpec>,
}

impl RuleFile {
    /// Parses one rule file; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<RuleFile, RuleError> {
        toml::from_str(text).map_err(|source| RuleError::Parse {
            origin: origin.to_string(),
            message: source.to_string(),
        })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Literals, one of which every token of this rule contains. They feed the
    /// single Aho-Corasick pass; the regex runs only around their hits.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// A prefix-less format found by a dedicated scan instead of keywords.
    #[serde(default)]
    pub bare: Option<BareScan>,
    /// The confirming regex. If it has a group named `secret`, that group is
    /// the token; otherwise the whole match is.
    pub pattern: String,
    /// An upper bound on the token's length in bytes: how far around a keyword
    /// hit the regex must look.
    pub max_length: usize,
    #[serde(default)]
    pub checksum: Option<ChecksumKind>,
    /// Shannon entropy floor (bits per byte) of the secret, for formats
    /// without a checksum.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    #[serde(default = "default_confidence")]
    pub confidence: Confidence,
    /// How to take the token out of service, for the reports' help text.
    #[serde(default)]
    pub revoke: Option<String>,
    #[serde(default)]
    pub references: Vec<String>,
    /// Text that must yield exactly one finding of this rule. May hold
    /// `{{token:FAMILY}}` placeholders, filled by the seeded generator.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Text that must yield no finding of this rule.
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// Set for rules from a config file (never read from TOML), so anything
    /// keyed on built-in rules can tell them apart.
    #[serde(skip_deserializing, default, skip_serializing_if = "is_false")]
    pub custom: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

fn default_confidence() -> Confidence {
    Confidence::Medium
}

/// Prefix-less formats with a dedicated scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum BareScan {
    /// A maximal run of exactly 52 characters of `[a-z2-7]` (the legacy
    /// Azure DevOps PAT).
    #[serde(rename = "base32-52")]
    Base32Run52,
}

/// Issuer checksums patscan can verify offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChecksumKind {
    /// Azure DevOps 84/88-character format: Marvin32 over the decoded key.
    AzureDevopsPat,
    /// Azure DevOps legacy 52-character format: CRC32 xor a magic value.
    AzureDevopsPatLegacy,
    /// GitHub and npm: the last 6 characters are base62(CRC32(random part)).
    Crc32Base62,
    /// GitLab routable tokens: the last 7 characters are base36(CRC32(rest)).
    GitlabRoutable,
    /// Atlassian API tokens: the last 8 characters are hex CRC32 of the rest.
    Atlassian,
}

/// How sure a finding is. A verified issuer checksum is `high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl std::str::FromStr for Confidence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Confidence::Low),
            "medium" => Ok(Confidence::Medium),
            "high" => Ok(Confidence::High),
            other => Err(format!(
                "unknown confidence {other:?} (expected low, medium or high)"
            )),
        }
    }
}

impl std::fmt::Display for Confidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
