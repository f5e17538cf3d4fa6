//! TLS for every HTTPS client of the process.
//!
//! reqwest is built with `rustls-no-provider` (gitoxide's HTTP transport
//! would otherwise pull in aws-lc, a C library), so something must name
//! rustls's process-wide provider before the first HTTPS client is built:
//! the live checks' client and each organisation clone call
//! [`ensure_provider`] first.

use std::sync::OnceLock;

/// Installs ring as rustls's default provider, once; later calls (and a
/// provider installed by an embedding program) are left alone.
pub fn ensure_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// One client configuration, verifying with the platform's trust store,
/// for every organisation clone of the run: a client built from scratch
/// loads and parses the system's root certificates, and an organisation
/// of 3,000 repositories would do that 3,000 times. `None` when the trust
/// store cannot be set up; the caller then lets reqwest build its own (and
/// report the same failure).
pub fn shared_client_config() -> Option<rustls::ClientConfig> {
    static CONFIG: OnceLock<Option<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            use rustls_platform_verifier::BuilderVerifierExt as _;
            ensure_provider();
            rustls::ClientConfig::builder()
                .with_platform_verifier()
                .ok()
                .map(|builder| builder.with_no_client_auth())
        })
        .clone()
}
