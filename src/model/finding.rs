//! What a scan reports, and the two things every output must get right: the
//! secret is redacted unless asked for, and the fingerprint identifies the
//! token without revealing it or depending on where it was found.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::image::{ImagePlace, LayerState};
use super::LiveInfo;

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

/// A found token's value. `Debug` and `Display` redact it, so a stray log
/// line, `{:?}` or panic message cannot print it; only [`Secret::expose`]
/// gives the raw text, for `--show-secrets`, live checks and hashing.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A short, non-secret stand-in: the first characters (usually the
    /// public prefix such as `ghp_`) and the length.
    pub fn redacted(&self) -> String {
        let shown: String = self.0.chars().take(REDACTED_PREFIX_CHARS).collect();
        format!("{shown}…[{} chars]", self.len())
    }

    /// SHA-256 of the secret, hex. Used for baselines: stable across runs,
    /// never the secret itself.
    pub fn sha256_hex(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }
}

/// Four characters: the public prefix of most formats, 20 bits of a
/// prefix-less one. Enough to tell tokens apart by eye, too few to matter.
const REDACTED_PREFIX_CHARS: usize = 4;

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Where a finding was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Origin {
    /// A file in the scanned tree.
    File,
    /// Standard input.
    Stdin,
    /// A blob in the git index, about to be committed (`--staged`).
    Staged { blob: String },
    /// A blob in the git history, at the commit that first introduced it.
    Commit {
        #[serde(flatten)]
        commit: CommitMeta,
        blob: String,
    },
    /// A blob in a commit that no ref reaches any more (rebased away,
    /// amended, on a deleted branch), at the commit that introduced it.
    UnreachableCommit {
        #[serde(flatten)]
        commit: CommitMeta,
        blob: String,
    },
    /// A commit's message.
    CommitMessage {
        #[serde(flatten)]
        commit: CommitMeta,
    },
    /// An annotated tag's message.
    TagMessage {
        tag: String,
        /// The tag object's id.
        object: String,
        author: String,
        date: String,
    },
    /// A blob in the object store that no commit reachable from a ref
    /// contains (left by a force-push, a rebase or a deleted branch): only
    /// its object id is known, and it is still leaked.
    Unreachable { blob: String },
    /// A line of a CI log (`scan --ci-logs`): which pipeline, run, job and
    /// step printed it, and the log line's web page where the platform has
    /// one.
    CiLog(Box<CiLogPlace>),
    /// A plain-text pipeline variable (`scan --org`): not marked secret,
    /// so readable by everyone who may view the pipeline.
    Variable(Box<VariablePlace>),
    /// A file in a layer of a container image (`scan --image`).
    ImageLayer {
        #[serde(flatten)]
        image: ImagePlace,
        /// The layer's digest, as the manifest names it.
        layer_digest: String,
        /// Its place in the manifest's list of layers, from 0 (the base).
        layer_index: usize,
        /// Whether the file is in the final image or hidden by a later
        /// layer (overwritten, deleted); the token is in the image either way.
        state: LayerState,
    },
    /// A container image's configuration: its environment, command,
    /// labels, and build history (where `ARG` and `RUN` values land).
    ImageConfig {
        #[serde(flatten)]
        image: ImagePlace,
        config_digest: String,
        /// `Env`, `Cmd`, `Entrypoint`, `Labels`, `OnBuild` or `history`;
        /// the line is the entry's, from 1.
        field: String,
    },
}

/// Where a plain-text pipeline variable is (`scan --org`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct VariablePlace {
    /// `variable group`, `build pipeline`, `release pipeline`,
    /// `organisation Actions variables`, `repository Actions variables`.
    pub setting: String,
    /// The group's, pipeline's or repository's name.
    pub owner: String,
    /// The variable's name.
    pub variable: String,
    /// Who can read it, in words.
    pub exposure: String,
    /// `high`: a token in plain text there is readable by every viewer.
    pub severity: &'static str,
    /// The setting's web page.
    #[serde(rename = "setting_url", skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Where in a CI system a log line is (`scan --ci-logs`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CiLogPlace {
    /// The pipeline (Azure Pipelines definition, GitHub workflow, GitLab
    /// project) as the platform names it.
    pub pipeline: String,
    /// The run (build number, workflow run, GitLab pipeline), as shown.
    pub run: String,
    /// The platform's id of the run.
    pub run_id: String,
    /// The job; empty when the log is not a job's (an artifact).
    pub job: String,
    /// The step (task, section); empty when the log does not say.
    pub step: String,
    /// The web page of the log line, or of the run where the platform
    /// has no link to a line.
    #[serde(rename = "log_url", skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// What identifies a commit to a person: enough to find it (`git show ID`)
/// and to know whom to ask.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CommitMeta {
    /// Full object id, hex.
    pub commit: String,
    /// `Name <email>` of the author.
    pub author: String,
    /// Author date, RFC 3339.
    pub date: String,
    /// First line of the message, with any token in it masked.
    pub summary: String,
}

impl Origin {
    /// The commit this finding is attributed to, if any.
    pub fn commit(&self) -> Option<&CommitMeta> {
        match self {
            Origin::Commit { commit, .. }
            | Origin::UnreachableCommit { commit, .. }
            | Origin::CommitMessage { commit } => Some(commit),
            _ => None,
        }
    }

    /// The git object id of the blob the finding is in, if any.
    pub fn blob(&self) -> Option<&str> {
        match self {
            Origin::Staged { blob }
            | Origin::Commit { blob, .. }
            | Origin::UnreachableCommit { blob, .. }
            | Origin::Unreachable { blob } => Some(blob),
            _ => None,
        }
    }

    /// The container image the finding is in, if any.
    pub fn image(&self) -> Option<&ImagePlace> {
        match self {
            Origin::ImageLayer { image, .. } | Origin::ImageConfig { image, .. } => Some(image),
            _ => None,
        }
    }

    /// A short machine-readable name of the kind of place.
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::File => "file",
            Origin::Stdin => "stdin",
            Origin::Staged { .. } => "staged",
            Origin::Commit { .. } => "commit",
            Origin::UnreachableCommit { .. } => "unreachable-commit",
            Origin::CommitMessage { .. } => "commit-message",
            Origin::TagMessage { .. } => "tag-message",
            Origin::Unreachable { .. } => "unreachable",
            Origin::CiLog(_) => "ci-log",
            Origin::Variable(_) => "pipeline-variable",
            Origin::ImageLayer { .. } => "image-layer",
            Origin::ImageConfig { .. } => "image-config",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub rule_id: String,
    pub rule_name: String,
    pub confidence: Confidence,
    /// `checksum` when the issuer checksum verified it, `entropy` otherwise.
    pub validation: &'static str,
    /// The path as reached from the scanned PATH argument.
    pub path: String,
    pub origin: Origin,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters, of the token's first character.
    pub column: usize,
    /// 1-based column one past the token's last character (as in SARIF).
    pub end_column: usize,
    pub secret: Secret,
    /// The line around the token, with every token on it already masked
    /// (or left as is under `--show-secrets`).
    pub snippet: String,
    /// How the token was disguised, outermost first (`utf-16le`, `base64`,
    /// `utf-16le+base64`, `percent`); `None` for plain text. The location is
    /// that of the encoded text.
    pub encoding: Option<String>,
    /// GitHub code scanning's `primaryLocationLineHash` of the line (see
    /// [`crate::line_hash`]); `None` when the input could not be hashed.
    pub line_hash: Option<String>,
    /// The inline comment (`patscan:allow`, `gitleaks:allow`, …) on the
    /// token's line or the line before that suppresses it.
    pub allowed_by: Option<&'static str>,
    /// Context for live checks and, after `--verify`, their result.
    pub live: LiveInfo,
    /// The hosted repository the finding is in (`scan --org`); `None` for
    /// a local scan. Shared by every finding of the repository.
    pub repository: Option<std::sync::Arc<Repository>>,
    /// Non-secret facts a structured rule's parser read (key type and
    /// size, a JWT's issuer and expiry, a connection's host and user), in
    /// the order shown; empty for other rules. Never the secret.
    pub details: Vec<(String, String)>,
}

/// A repository of a hosting platform, as an organisation scan names it:
/// enough to find it again and to link to the commit and file.
///
/// Field order is the sort order of an organisation report (derived
/// `Ord`), which `patscan merge` reproduces from the JSON.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Repository {
    /// `azure-devops`, `github` or `gitlab`.
    pub platform: &'static str,
    /// The organisation, user, group (with subgroups, `a/b`) or Azure
    /// DevOps collection.
    pub organisation: String,
    /// The Azure DevOps project; `None` elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The name as the platform lists it (`owner/name`, `group/sub/name`,
    /// or the Azure DevOps repository name).
    pub name: String,
    /// The repository's page.
    pub url: String,
    /// The platform's id of the repository (stable across renames).
    pub id: String,
}

impl Repository {
    /// The web page of `commit`.
    pub fn commit_url(&self, commit: &str) -> String {
        match self.platform {
            "gitlab" => format!("{}/-/commit/{commit}", self.url),
            _ => format!("{}/commit/{commit}", self.url),
        }
    }

    /// The web page of `path` at `commit`, at `line`.
    pub fn file_url(&self, commit: &str, path: &str, line: usize) -> String {
        let path = url_path(path);
        match self.platform {
            "gitlab" => format!("{}/-/blob/{commit}/{path}#L{line}", self.url),
            "azure-devops" => format!(
                "{}?path=/{path}&version=GC{commit}&line={line}&lineEnd={line}",
                self.url
            ),
            _ => format!("{}/blob/{commit}/{path}#L{line}", self.url),
        }
    }
}

/// A repository path as a URL path: every byte outside the unreserved set
/// and `/` percent-encoded.
fn url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Finding {
    /// Identifies the token, not its position: `sha256(rule_id ":" secret)`,
    /// shortened. The same token in another file or line has the same one.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.rule_id, &self.secret)
    }

    /// How the finding was validated, in the words the reports use.
    pub fn validation_words(&self) -> &'static str {
        match self.validation {
            "checksum" => "issuer checksum verified",
            "structure" => "structure parsed",
            _ => "shape and entropy match",
        }
    }

    /// The secret as it may be shown: redacted unless `show` is set.
    pub fn display_secret(&self, show: bool) -> String {
        if show {
            self.secret.expose().to_string()
        } else {
            self.secret.redacted()
        }
    }
}

pub fn fingerprint(rule_id: &str, secret: &Secret) -> String {
    let mut hasher = Sha256::new();
    hasher.update(rule_id.as_bytes());
    hasher.update(b":");
    hasher.update(secret.expose().as_bytes());
    hex(&hasher.finalize()[..8])
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let secret = Secret::new("ghp_0123456789abcdefghijklmnopqrstuvwxyz".into());
        let debug = format!("{secret:?}");
        let display = format!("{secret}");
        assert!(!debug.contains("0123456789"));
        assert!(!display.contains("0123456789"));
        assert_eq!(display, "ghp_…[40 chars]");
    }

    #[test]
    fn fingerprint_depends_on_rule_and_secret_only() {
        let a = Secret::new("abc".into());
        assert_eq!(fingerprint("r", &a), fingerprint("r", &a));
        assert_ne!(fingerprint("r", &a), fingerprint("s", &a));
        assert_eq!(fingerprint("r", &a).len(), 16);
    }
}
