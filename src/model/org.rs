//! What an organisation scan (`scan --org`) did, as its report's summary
//! says: what was asked, under which rules, and each repository's fate.
//! `source::org` fills it; reports render it and `patscan merge` joins it.

use serde::{Deserialize, Serialize};

/// What an organisation scan did, in the report's summary: what was
/// asked, under which rules, and each repository's fate. `patscan merge`
/// checks the first two; `--since-last` reads the refs digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSummary {
    /// The `--org` value, canonical.
    pub spec: String,
    /// The listing API's base URL.
    pub api: String,
    /// A hash of everything that decides what is found (rules, limits,
    /// patscan's version): reports merge only under the same one.
    pub detection_key: String,
    /// `I/N` under `--shard`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Repositories the platform listed (all shards).
    pub repositories_listed: usize,
    /// This run's repositories (its shard's), by name.
    pub repositories: Vec<RepoOutcome>,
    /// Azure DevOps: the service connections, by type and scheme only
    /// (never a secret); those of a PAT-based scheme are flagged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_connections: Vec<ServiceConnection>,
}

/// An Azure DevOps service connection, as an audit lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ServiceConnection {
    pub project: String,
    pub name: String,
    /// `github`, `azurerm`, `externaltfs`, `generic`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// `PersonalAccessToken`, `Token`, `ServicePrincipal`, `OAuth`, …
    pub scheme: String,
    /// Authenticates with a personal access token: one more PAT to
    /// rotate, readable by the connection's administrators.
    pub pat_based: bool,
}

/// One repository of an organisation scan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RepoOutcome {
    /// `owner/name`, `group/sub/name` or `project/name`.
    pub name: String,
    /// The platform's id.
    pub id: String,
    pub url: String,
    pub status: RepoStatus,
    /// SHA-256 of its `HEAD`, branches and tags when read: an unchanged
    /// digest lets `--since-last` skip it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refs_digest: Option<String>,
    /// `scan --ci-logs`: the pipeline's runs in the window that this or an
    /// earlier run (`--since-last`) scanned, by the platform's id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs_scanned: Vec<String>,
}

/// What happened to a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RepoStatus {
    /// Cloned and its whole history scanned.
    Scanned,
    /// `--since-last`: its refs are those of the earlier run; not cloned.
    Unchanged,
    /// The clone or scan failed (see the problems); the rest went on.
    Failed,
    /// Archived (read-only): skipped unless `--include-archived`.
    Archived,
    /// Disabled by the platform: nothing can be read.
    Disabled,
    /// A fork: skipped unless `--include-forks`.
    Fork,
    /// No commits: nothing to scan.
    Empty,
    /// Left out by `--repo-include` or `--repo-exclude`.
    Excluded,
}

impl RepoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RepoStatus::Scanned => "scanned",
            RepoStatus::Unchanged => "unchanged",
            RepoStatus::Failed => "failed",
            RepoStatus::Archived => "archived",
            RepoStatus::Disabled => "disabled",
            RepoStatus::Fork => "fork",
            RepoStatus::Empty => "empty",
            RepoStatus::Excluded => "excluded",
        }
    }
}
