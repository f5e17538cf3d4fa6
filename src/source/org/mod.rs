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
//! every finding names its [`Repository`](crate::model::Repository).

pub mod clone;
pub mod fetch;
pub mod listing;
pub mod run;
pub mod settings;
pub mod shard;
pub mod spec;

use std::fmt;

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
