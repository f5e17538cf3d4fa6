//! CI logs (`scan --ci-logs`): what pipelines printed and kept. A PAT that
//! never touched a repository still leaks when a script echoes it, `set
//! -x` prints it, a debug step dumps the environment, or an uploaded
//! artifact keeps it.
//!
//! The data flow: [`spec`] parses `--ci-logs`; a platform module
//! ([`azure_devops`], [`github`], [`gitlab`]) lists the pipelines, their
//! runs in the window (`--since`, `--builds`), each run's logs and
//! artifacts, through [`api`] (the `net` client, the credential on the
//! API's host only); [`run`] keeps this shard's pipelines, skips the runs
//! an earlier report scanned (`--since-last`), and streams each log to the
//! scan stage's sink as it downloads ([`marks`] notes where each step
//! starts on the way), an artifact through the archive support.

pub mod api;
pub mod azure_devops;
pub mod github;
pub mod gitlab;
pub mod marks;
pub mod run;
pub mod spec;

use std::sync::Arc;

use thiserror::Error;

use crate::model::Repository;
use crate::source::org::OrgError;

pub use marks::Markers;
pub use run::{scan, CiOptions};
pub use spec::CiSpec;

#[derive(Debug, Error)]
pub enum CiError {
    #[error("--ci-logs {value:?}: {message}")]
    Spec { value: String, message: String },
    #[error("cannot list the pipelines: {0}")]
    Listing(String),
    #[error(transparent)]
    Org(#[from] OrgError),
}

/// A pipeline: an Azure Pipelines build or release definition, a GitHub
/// Actions workflow, a GitLab project's CI.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Stable across renames: what `--shard` hashes and `--since-last`
    /// matches (`build/PROJECT/ID`, a workflow id, a project id).
    pub id: String,
    /// What reports call it: `Proj/ci-build`, `acme/api: CI`, `group/app`.
    pub name: String,
    pub url: String,
    /// What findings name as their repository.
    pub repository: Arc<Repository>,
    /// The platform's handles (project, definition id, `owner/repo`,
    /// workflow id, project id), as its module needs them.
    pub scope: String,
    pub key: String,
    pub kind: Kind,
}

/// What kind of pipeline (Azure DevOps has two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Build,
    Release,
}

/// One run of a pipeline.
#[derive(Debug, Clone)]
pub struct Run {
    /// The platform's id (a number), unique on the platform.
    pub id: String,
    /// As shown: a build number, `#12`.
    pub label: String,
    pub url: String,
}

/// One log of a run.
#[derive(Debug, Clone)]
pub struct Log {
    pub job: String,
    /// The step, when the log is one step's (Azure Pipelines).
    pub step: String,
    /// The API URL to download it from.
    pub url: String,
    /// The web page of a line: `{line}` stands for its number.
    pub line_url: Option<String>,
    pub markers: Markers,
    /// A zip of logs (scanned as an archive), not one log.
    pub archive: bool,
}

/// One artifact of a run: a zip (or a gone one).
#[derive(Debug, Clone)]
pub struct Artifact {
    pub name: String,
    pub url: String,
    /// Expired or deleted, as the listing says.
    pub gone: bool,
}
