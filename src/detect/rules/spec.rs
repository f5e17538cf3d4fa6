//! The on-disk schema of a rule file. `deny_unknown_fields` everywhere: a
//! misspelt key must be an error, not a silently ignored setting.

use serde::{Deserialize, Serialize};

use crate::error::RuleError;
use crate::model::Confidence;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// The provider a file's rules belong to ("GitHub", "Microsoft Azure"):
    /// how `patscan rules` and the README group them. A rule may name its own.
    #[serde(default)]
    pub family: Option<String>,
    #[serde(rename = "rule", default)]
    pub rules: Vec<RuleSpec>,
}

impl RuleFile {
    /// Parses one rule file; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<RuleFile, RuleError> {
        let file: RuleFile = toml::from_str(text).map_err(|source| RuleError::Parse {
            origin: origin.to_string(),
            message: source.to_string(),
        })?;
        Ok(file.with_family())
    }

    /// Parses a rule file that `build.rs` converted to JSON (the built-in
    /// ones); `origin` names it in errors.
    pub fn parse_json(origin: &str, json: &str) -> Result<RuleFile, RuleError> {
        let file: RuleFile = serde_json::from_str(json).map_err(|source| RuleError::Parse {
            origin: origin.to_string(),
            message: source.to_string(),
        })?;
        Ok(file.with_family())
    }

    /// Gives each rule without a family of its own the file's.
    fn with_family(mut self) -> RuleFile {
        if let Some(family) = &self.family {
            for rule in self.rules.iter_mut().filter(|r| r.family.is_empty()) {
                rule.family = family.clone();
            }
        }
        self
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The provider, for grouping (set from the file's `family` when empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub family: String,
    /// Literals, one of which every token of this rule contains. They feed the
    /// single Aho-Corasick pass; the regex runs only around their hits.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// For formats with no literal of their own (a 32-hex API key): words of
    /// which one names the token just before it, as a variable or config key
    /// does (`DATADOG_API_KEY=`, `"twilio_auth_token":`). Matched without
    /// regard to ASCII case, and looked for only in the few bytes before a
    /// run of token characters long enough to be the secret, so hundreds of
    /// them cost no second pass over the input (see `ContextWords`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    /// A prefix-less format found by a dedicated scan instead of keywords.
    #[serde(default)]
    pub bare: Option<BareScan>,
    /// Where the keyword stands in every token, when the token is a whole
    /// run of base64-alphabet characters (`=` padding aside): then the
    /// keyword is checked at that place in each long run instead of being
    /// searched for everywhere (see `RunAnchors`).
    #[serde(default)]
    pub anchor: Option<Anchor>,
    /// The confirming regex. If it has a group named `secret`, that group is
    /// the token; otherwise the whole match is.
    pub pattern: String,
    /// An upper bound on the token's length in bytes: how far around a keyword
    /// hit the regex must look.
    pub max_length: usize,
    /// The issuer checksum: a named scheme (`checksum = "gitlab-routable"`)
    /// or one described as data (`[rule.checksum]`, see [`ChecksumSpec`]).
    #[serde(default)]
    pub checksum: Option<ChecksumSpec>,
    /// Shannon entropy floor (bits per byte) of the secret, for formats
    /// without a checksum.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// A structured format whose regex match is only a candidate: the
    /// parser (see `crate::parse`) then decides, may narrow or widen the
    /// secret's span (the password inside a URL, a PEM block to its `END`
    /// line) and sets the confidence. `min_entropy` and the placeholder
    /// filter are the parser's business then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parser: Option<ParserKind>,
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
    /// A rule left out of the compiled set unless asked for
    /// (`opt_in = "generic"`: `--generic` or `generic = true` in the
    /// config), so the default scan's prefilter and speed never pay for it.
    /// Its values must also pass the generic value filters
    /// ([`crate::detect::generic`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_in: Option<OptIn>,
    /// Set for rules from a config file (never read from TOML), so anything
    /// keyed on built-in rules can tell them apart.
    #[serde(skip_deserializing, default, skip_serializing_if = "is_false")]
    pub custom: bool,
}

/// Rule sets that are off unless asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptIn {
    /// Keyword-assignment detection (`password = "…"`): no issuer format,
    /// so low confidence and more false positives than any other rule.
    Generic,
}

impl OptIn {
    pub fn as_str(self) -> &'static str {
        match self {
            OptIn::Generic => "generic",
        }
    }
}

fn is_false(value: &bool) -> bool {
    !value
}

fn default_confidence() -> Confidence {
    Confidence::Medium
}

/// A keyword's fixed place in its token: `from_start` characters after the
/// token's first, or ending `from_end` characters before its last (trailing
/// `=` padding not counted). Exactly one is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_start: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_end: Option<usize>,
}

/// The structured formats a rule can hand its candidates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParserKind {
    /// A PEM private key block (`-----BEGIN … PRIVATE KEY-----` to its
    /// `END` line), also with `\n` escapes inside a JSON string.
    PrivateKey,
    /// A PuTTY `.ppk` private key file.
    Ppk,
    /// An OpenPGP `PRIVATE KEY BLOCK` (armor CRC-24 checked).
    Pgp,
    /// An age secret key (`AGE-SECRET-KEY-1…`, bech32 with a checksum).
    Age,
    /// A JSON Web Token: header and claims decoded offline.
    Jwt,
    /// A URL with a password (`postgres://user:pass@host/db`): the
    /// password is the secret, host and user the context.
    ConnectionUrl,
    /// `key=value;` connection strings (ADO.NET, ODBC, JDBC properties):
    /// the `Password`/`Pwd` value is the secret.
    ConnectionString,
    /// A credential in a CLI tool's file whose value has no shape of its
    /// own (docker `auth`, `.netrc`, `.pypirc`, `.npmrc` `_auth`).
    CredentialFile,
    /// A PKCS#12 key store (`.p12`/`.pfx`) in base64: the DER decoded and
    /// its bags read (binary files are read by the scanner itself).
    Pkcs12,
}

impl ParserKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ParserKind::PrivateKey => "private-key",
            ParserKind::Ppk => "ppk",
            ParserKind::Pgp => "pgp",
            ParserKind::Age => "age",
            ParserKind::Jwt => "jwt",
            ParserKind::ConnectionUrl => "connection-url",
            ParserKind::ConnectionString => "connection-string",
            ParserKind::CredentialFile => "credential-file",
            ParserKind::Pkcs12 => "pkcs12",
        }
    }
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
    /// CRC-32 (IEEE) of part of the token, written in the token's last
    /// `length` characters (see [`ChecksumSpec`]).
    Crc32,
    /// CRC-32C (Castagnoli), as CRC-32 (Unkey).
    Crc32c,
    /// XOR of the input bytes (crates.io trusted-publishing tokens).
    Xor,
    /// Azure "identifiable keys" (HIS v1): a signature and a Marvin32 of
    /// the decoded key in its last four bytes, under one of `seeds`.
    AzureHisV1,
    /// Azure common annotated security keys (`JQQJ99`, 84/88 chars): a
    /// Marvin32 of the first 60 decoded bytes, base62 or raw base64.
    AzureCask,
    /// Entra ID client secrets (`8Q~`): a Marvin32 of the first 37
    /// characters in a base-66 alphabet.
    EntraClientSecret,
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

/// What part of a token a computed checksum covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChecksumInput {
    /// Everything before the check digits (and their separator).
    #[default]
    All,
    /// Only what follows the rule keyword the token starts with.
    Body,
}

/// How a computed checksum is written into the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckEncoding {
    /// Base62 digits `0-9A-Za-z`, most significant first, zero-padded.
    Base62,
    /// Base62 with lowercase before uppercase: `0-9a-zA-Z` (Apify).
    Base62LowerFirst,
    /// Base62 with letters first: `A-Za-z0-9` (crates.io).
    Base62LettersFirst,
    /// Lowercase base36 (GitLab).
    Base36,
    /// Bitcoin base58, padded with `1` (Unkey).
    Base58,
    /// Lowercase hex of the value (big-endian).
    Hex,
    /// Uppercase hex of the value (big-endian).
    HexUpper,
    /// Lowercase hex of the value's little-endian bytes (Grafana).
    HexLe,
    /// Standard base64 of the value's little-endian bytes (Confluent).
    Base64Le,
}

/// An issuer checksum. Written either as a scheme's name
/// (`checksum = "azure-devops-pat"`) or as a table that describes it as
/// data, so that most CRC-based formats need no code:
///
/// ```toml
/// [rule.checksum]
/// algorithm = "crc32"      # crc32 | crc32c | xor | azure-his-v1 | …
/// input = "body"           # all (default) | body: after the keyword
/// encoding = "base62"      # how the value is written
/// length = 6               # check characters at the token's end
/// separator = "_"          # a character between input and check, if any
/// inferred = true          # scheme inferred from few examples
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChecksumSpec {
    pub algorithm: ChecksumKind,
    #[serde(skip_serializing_if = "is_default_input")]
    pub input: ChecksumInput,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<CheckEncoding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub separator: Option<String>,
    /// Marvin seeds by their 8-character names (`Default0`, `MastRW00`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<String>,
    /// The scheme was inferred from a few public examples, not read in the
    /// issuer's code: a token that fails it is still reported, at the rule's
    /// own confidence, in case the inference is wrong; one that passes is
    /// `high`.
    #[serde(skip_serializing_if = "is_false")]
    pub inferred: bool,
    /// For an `inferred` scheme: the token length at which it is known to
    /// be exact (GitHub's 40-character `ghs_`), so a token of that length
    /// that fails it is a look-alike and dropped, as for a non-inferred one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact_length: Option<usize>,
}

fn is_default_input(input: &ChecksumInput) -> bool {
    *input == ChecksumInput::All
}

impl ChecksumSpec {
    pub fn named(algorithm: ChecksumKind) -> ChecksumSpec {
        ChecksumSpec {
            algorithm,
            input: ChecksumInput::All,
            encoding: None,
            length: None,
            separator: None,
            seeds: Vec::new(),
            inferred: false,
            exact_length: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecksumTable {
    algorithm: ChecksumKind,
    #[serde(default)]
    input: ChecksumInput,
    #[serde(default)]
    encoding: Option<CheckEncoding>,
    #[serde(default)]
    length: Option<usize>,
    #[serde(default)]
    separator: Option<String>,
    #[serde(default)]
    seeds: Vec<String>,
    #[serde(default)]
    inferred: bool,
    #[serde(default)]
    exact_length: Option<usize>,
}

impl<'de> Deserialize<'de> for ChecksumSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// A name or a table; untagged, but each arm keeps its own error
        /// text through the explicit match below.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            Table(toml::Value),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Name(name) => {
                let algorithm = ChecksumKind::deserialize(serde::de::value::StrDeserializer::<
                    serde::de::value::Error,
                >::new(&name))
                .map_err(serde::de::Error::custom)?;
                Ok(ChecksumSpec::named(algorithm))
            }
            Raw::Table(value) => {
                let table = ChecksumTable::deserialize(value).map_err(serde::de::Error::custom)?;
                Ok(ChecksumSpec {
                    algorithm: table.algorithm,
                    input: table.input,
                    encoding: table.encoding,
                    length: table.length,
                    separator: table.separator,
                    seeds: table.seeds,
                    inferred: table.inferred,
                    exact_length: table.exact_length,
                })
            }
        }
    }
}
