//! Organisation audits (`scan --org`): every repository of an Azure DevOps
//! organisation or project, a GitHub organisation or user, or a GitLab
//! group with its subgroups.
//!
//! The data flow: [`spec`] parses `--org`; [`listing`] asks the platform's
//! REST API for the repositories (paging, rate limits); [`shard`] keeps
//! this machine's part; [`fetch`] makes a full bare clone of each
//! repository in process and [`clone`] reads its refs for `--since-last`
//! with the system `git`; [`run`] scans `--org-jobs` of
//! them at once with the `--history` scan and gathers one report in which
//! every finding names its [`Repository`](crate::finding::Repository).

pub mod clone;
pub mod fetch;
pub mod listing;
pub mod run;
pub mod shard;
pub mod spec;

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use run::{scan, OrgOptions, Previous};
pub use shard::Shard;
pub use spec::{OrgSpec, Platform};

#[derive(Debug, Error)]
pub enum OrgError {
    #[error("--org {value:?}: {message}")]
    Spec { value: String, message: String },
    #[error(
        "--host {0:?}: expected an https:// URL without user, password or query \
         (plain http only on a loopback address)"
    )]
    Host(String),
    #[error("cannot list the repositories: {endpoint}: {message}")]
    Listing { endpoint: String, message: String },
    #[error("{0}")]
    Setup(String),
    #[error("--since-last {path}: {message}")]
    Previous { path: String, message: String },
}

/// A platform credential read from its environment variable. `Debug`
/// never prints it; only [`Credential::expose`] gives it, to build the one
/// header that carries it.
pub struct Credential(String);

impl Credential {
    pub fn new(value: String) -> Credential {
        Credential(value)
    }

    /// The platform's variable, when set and not empty.
    pub fn from_env(platform: Platform) -> Option<Credential> {
        std::env::var(platform.credential_var())
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .map(Credential)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential([hidden])")
    }
}

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
