//! What a live Azure DevOps PAT reaches (`--verify --blast-radius`), as
//! `verification.access` reports it. `live::blast_radius` probes it and
//! derives the severity from it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What the token reaches, as `verification.access` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// Organisation name → what it answered.
    pub organisations: BTreeMap<String, OrgAccess>,
    /// Only organisation endpoints accepted the token (the profile
    /// endpoint refused it): an organisation-scoped PAT, the normal case
    /// now that global PATs are being retired.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub organisation_scoped: bool,
    /// Requests the probe made.
    pub requests: usize,
    /// What the probe could not do (caps reached, no organisation known).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgAccess {
    /// The organisation accepted the token (`connectionData`).
    pub accepted: bool,
    /// Areas that answered with their list, with the list's size.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reachable: Vec<Reach>,
    /// Areas refused (401, 403, 203 sign-in page): the scope is absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<String>,
    /// Areas without a clear answer, with the reason.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unclear: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reach {
    pub area: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}
