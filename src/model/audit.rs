//! The result of `patscan azure-devops audit`: an organisation's valid
//! PATs, their flags, and the leaked tokens they may be. `live::pat_audit`
//! reads it from Azure DevOps; `report::pat_audit` renders it. It never
//! holds a token's value: the APIs do not return one.

use serde::Serialize;

/// Why a token is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flag {
    /// Scope `app_token`: full access to everything its owner can do.
    FullAccess,
    /// Lifetime (valid-from to valid-to) over `--max-days`.
    LongLived,
    /// Valid to more than a year from now.
    ValidOverAYear,
    /// Works in every organisation its owner belongs to.
    Global,
    /// Its owner was deleted in the identity provider, yet it is valid.
    OwnerDeleted,
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::FullAccess => "full-access",
            Flag::LongLived => "long-lived",
            Flag::ValidOverAYear => "valid-over-a-year",
            Flag::Global => "global",
            Flag::OwnerDeleted => "owner-deleted",
        }
    }
}

/// Where a PAT works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reach {
    ThisOrganisation,
    /// Several named organisations.
    Organisations,
    AllOrganisations,
}

impl Reach {
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::ThisOrganisation => "this organisation",
            Reach::Organisations => "several organisations",
            Reach::AllOrganisations => "all accessible organisations",
        }
    }
}

/// One valid PAT (never its value: the API does not return it).
#[derive(Debug, Clone, Serialize)]
pub struct AuditToken {
    pub owner: String,
    pub display_name: String,
    pub authorization_id: String,
    pub scopes: Vec<String>,
    /// `validFrom`: when it was created (or last regenerated).
    pub created: String,
    pub valid_to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_days: Option<i64>,
    pub reach: Reach,
    pub flags: Vec<Flag>,
    /// Fingerprints of leaked tokens (from `--scan-report`) this one may be.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leak_candidate_for: Vec<String>,
}

/// A leaked token from the scan report and its candidate authorizations.
#[derive(Debug, Clone, Serialize)]
pub struct LeakMatch {
    pub fingerprint: String,
    pub rule_id: String,
    /// The masked token, as the scan reported it.
    pub secret: String,
    pub owner: String,
    pub candidates: Vec<String>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub organisation: String,
    /// The day of the audit (UTC), which the flags are relative to.
    pub date: String,
    pub max_days: u32,
    pub users: usize,
    pub users_deleted_in_origin: usize,
    pub tokens: Vec<AuditToken>,
    /// Listed by the API as no longer valid (revoked or expired); not shown.
    pub not_valid: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaks: Option<Vec<LeakMatch>>,
    /// GET requests made.
    pub requests: usize,
}

impl AuditReport {
    pub fn flagged(&self) -> usize {
        self.tokens.iter().filter(|t| !t.flags.is_empty()).count()
    }
}
