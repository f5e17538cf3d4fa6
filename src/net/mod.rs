//! The one HTTP client of patscan, and the rules every request obeys,
//! whoever sends it: live checks and revocation (`live/`), organisation
//! listings and clones (`source::org`), CI logs and artifacts
//! (`source::ci`, whose bodies are read as they arrive:
//! [`Http::send_streaming`]), and container registries
//! (`source::image::registry`, whose layers stream the same way).
//!
//! - [`client`]: timeouts, a per-host rate limit, `Retry-After` honoured,
//!   no redirects (returned to the caller, never followed), HTTPS only
//!   unless the loopback test emulator is the
//!   target, the system's proxy settings, bounded answers; a credential
//!   travels only in a header marked sensitive and never appears in an
//!   error (failures are described in fixed words).
//! - [`tls`]: rustls with the ring provider and the platform's trust store,
//!   set up once per process for every HTTPS client (reqwest's and
//!   gitoxide's).
//! - [`overrides`]: the test-only `PATSCAN_ENDPOINT_OVERRIDES`, which points
//!   a service at a loopback emulator and refuses any other address. The
//!   official hosts themselves are constants of their callers (each issuer
//!   in `live/`, each platform in `source::org::listing`).
//!
//! This layer knows nothing of tokens, findings or verifications: it moves
//! bytes to the hosts its callers chose, under one policy.

pub mod client;
pub mod overrides;
pub mod tls;

use thiserror::Error;

pub use client::{Answer, Auth, Body, Call, Failure, Http, Policy, Streaming, TOKEN_SLOT};
pub use overrides::{Overrides, OVERRIDES_VAR};

/// What can go wrong before any request is sent.
#[derive(Debug, Error)]
pub enum NetError {
    /// `PATSCAN_ENDPOINT_OVERRIDES` is malformed or names a host that is
    /// not a loopback address.
    #[error("{OVERRIDES_VAR}: {0}")]
    Override(String),
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}
