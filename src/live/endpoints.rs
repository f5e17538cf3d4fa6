//! Where each issuer is reached: its official HTTPS base URL, or, for tests
//! only, a loopback URL from `PATSCAN_ENDPOINT_OVERRIDES`.
//!
//! The override exists so the test suite can run an emulator of the issuers'
//! APIs on 127.0.0.1. Anything that is not a loopback IP address is refused:
//! an environment variable must never be a way to send tokens to a
//! third-party host.

use std::collections::BTreeMap;
use std::net::IpAddr;

use reqwest::Url;
use thiserror::Error;

use super::Provider;

/// The test-only environment variable.
pub const OVERRIDES_VAR: &str = "PATSCAN_ENDPOINT_OVERRIDES";

#[derive(Debug, Error)]
pub enum LiveError {
    #[error("{OVERRIDES_VAR}: {0}")]
    Override(String),
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    #[error("cannot read the report: {0}")]
    Report(String),
    #[error(
        "the report holds only redacted secrets, so there is nothing to check; \
         run `patscan scan --verify`, or write the report with \
         `patscan scan --format json --show-secrets` (and keep that file safe)"
    )]
    RedactedReport,
    #[error("cannot write the audit log: {0}")]
    Audit(String),
}

/// Base URLs per provider, without a trailing slash.
#[derive(Debug, Clone)]
pub struct Endpoints {
    overrides: BTreeMap<Provider, String>,
}

impl Endpoints {
    /// The official hosts only.
    pub fn official() -> Endpoints {
        Endpoints {
            overrides: BTreeMap::new(),
        }
    }

    /// Official hosts, with the loopback overrides of
    /// `PATSCAN_ENDPOINT_OVERRIDES` when it is set.
    pub fn from_env() -> Result<Endpoints, LiveError> {
        match std::env::var(OVERRIDES_VAR) {
            Ok(value) => Endpoints::parse_overrides(&value),
            Err(std::env::VarError::NotPresent) => Ok(Endpoints::official()),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(LiveError::Override("not valid UTF-8".into()))
            }
        }
    }

    /// Parses `key=url,key=url`. Every URL must be `http` or `https` on a
    /// loopback IP address (127.0.0.0/8 or ::1).
    pub fn parse_overrides(value: &str) -> Result<Endpoints, LiveError> {
        let mut overrides = BTreeMap::new();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (key, url) = entry
                .split_once('=')
                .ok_or_else(|| LiveError::Override(format!("{entry:?} is not KEY=URL")))?;
            let provider = Provider::from_key(key.trim()).ok_or_else(|| {
                let keys: Vec<_> = Provider::ALL.iter().map(|p| p.key()).collect();
                LiveError::Override(format!(
                    "unknown provider {key:?} (expected one of {})",
                    keys.join(", ")
                ))
            })?;
            let url = url.trim();
            let parsed = Url::parse(url)
                .map_err(|e| LiveError::Override(format!("{url:?} is not a URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(LiveError::Override(format!("{url:?} is not http or https")));
            }
            if !is_loopback(&parsed) {
                return Err(LiveError::Override(format!(
                    "{url:?} is refused: overrides may only point at a loopback \
                     address (127.0.0.1, ::1); they exist for tests"
                )));
            }
            overrides.insert(provider, url.trim_end_matches('/').to_string());
        }
        Ok(Endpoints { overrides })
    }

    /// The base URL to use for `provider`.
    pub fn base(&self, provider: Provider) -> &str {
        match self.overrides.get(&provider) {
            Some(url) => url,
            None => official_base(provider),
        }
    }

    /// True when any provider is redirected (to a loopback emulator).
    pub fn has_overrides(&self) -> bool {
        !self.overrides.is_empty()
    }
}

/// The hard-coded official base of each provider. Azure DevOps and
/// DigitalOcean have two hosts; their modules derive the second from this
/// one. Grafana, Shopify and Vault tokens work on one instance: their
/// modules build the instance's URL from what was found near the token,
/// and this base only names the provider (see there).
pub fn official_base(provider: Provider) -> &'static str {
    match provider {
        Provider::AzureDevops => super::azure_devops::BASE,
        Provider::Github => super::github::BASE,
        Provider::Gitlab => super::gitlab::BASE,
        Provider::Npm => super::npm::BASE,
        Provider::Huggingface => super::huggingface::BASE,
        Provider::Slack => super::slack::BASE,
        Provider::Grafana => super::grafana::BASE,
        Provider::Vercel => super::vercel::BASE,
        Provider::Cloudflare => super::cloudflare::BASE,
        Provider::Digitalocean => super::digitalocean::BASE,
        Provider::Sentry => super::sentry::BASE,
        Provider::Stripe => super::stripe::BASE,
        Provider::Doppler => super::doppler::BASE,
        Provider::Shopify => super::shopify::BASE,
        Provider::Buildkite => super::buildkite::BASE,
        Provider::Heroku => super::heroku::BASE,
        Provider::Vault => super::vault::BASE,
        Provider::Postman => super::postman::BASE,
        Provider::Cratesio => super::cratesio::BASE,
    }
}

fn is_loopback(url: &Url) -> bool {
    // Only IP literals: a name, even `localhost`, is resolved by a resolver
    // patscan does not control.
    let Some(host) = url.host_str() else {
        return false;
    };
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    literal.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_overrides_are_accepted() {
        let e = Endpoints::parse_overrides(
            "github=http://127.0.0.1:8080/, azure-devops=http://[::1]:9/x",
        )
        .unwrap();
        assert_eq!(e.base(Provider::Github), "http://127.0.0.1:8080");
        assert_eq!(e.base(Provider::AzureDevops), "http://[::1]:9/x");
        assert_eq!(e.base(Provider::Npm), "https://registry.npmjs.org");
    }

    #[test]
    fn anything_but_loopback_is_refused() {
        for bad in [
            "github=https://evil.example",
            "github=http://localhost:80",
            "github=http://10.0.0.1",
            "github=http://127.0.0.1.nip.io",
            "github=ftp://127.0.0.1",
            "gitlub=http://127.0.0.1",
            "github",
        ] {
            assert!(Endpoints::parse_overrides(bad).is_err(), "{bad} accepted");
        }
    }
}
