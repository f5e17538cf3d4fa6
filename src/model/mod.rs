//! The plain data every layer shares: what a scan found ([`Finding`],
//! [`Secret`], [`Origin`]), what a live check learnt about it
//! ([`Verification`], [`Status`], [`Access`]), the commits a history scan
//! read ([`CommitActivity`], the HTML timeline's background), what an
//! organisation's PAT audit lists ([`AuditReport`]), what the cache was
//! told and did ([`CacheSetting`], [`CacheSummary`]), and where in a
//! container image a finding is ([`ImagePlace`], [`ImageSummary`]).
//!
//! The bottom layer: it uses no other module of the crate, so detection,
//! sources, live checks and reports can all speak of a finding without
//! depending on each other. Computing these values is the other layers'
//! work (see `docs/architecture.md`).

pub mod access;
pub mod activity;
pub mod audit;
pub mod cache;
pub mod finding;
pub mod image;
pub mod org;
pub mod verification;

pub use access::{Access, OrgAccess, Reach};
pub use activity::CommitActivity;
pub use audit::{AuditReport, AuditToken, Flag, LeakMatch};
pub use cache::{CacheSetting, CacheSummary};
pub use finding::{
    fingerprint, CiLogPlace, CommitMeta, Confidence, Finding, Origin, Repository, Secret,
    VariablePlace,
};
pub use image::{ImageOutcome, ImagePlace, ImageStatus, ImageSummary, LayerState};
pub use org::{OrgSummary, RepoOutcome, RepoStatus, ServiceConnection};
pub use verification::{tally, LiveInfo, Provider, Severity, Status, Verification};
