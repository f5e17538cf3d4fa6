//! Where each issuer is reached: its official HTTPS base URL, or, for tests
//! only, the loopback URL `PATSCAN_ENDPOINT_OVERRIDES` names for it (the
//! loopback-only check is the HTTP layer's, [`Overrides`]).

use thiserror::Error;

use crate::model::Provider;
use crate::net::{NetError, Overrides};

#[derive(Debug, Error)]
pub enum LiveError {
    #[error(transparent)]
    Net(#[from] NetError),
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
    overrides: Overrides,
}

impl Endpoints {
    /// The official hosts only.
    pub fn official() -> Endpoints {
        Endpoints {
            overrides: Overrides::none(),
        }
    }

    /// Official hosts, with the loopback overrides of
    /// `PATSCAN_ENDPOINT_OVERRIDES` when it is set.
    pub fn from_env() -> Result<Endpoints, LiveError> {
        Ok(Endpoints {
            overrides: Overrides::from_env(&provider_keys())?,
        })
    }

    /// Parses `key=url,key=url`, keys being providers' keys. Every URL must
    /// be `http` or `https` on a loopback IP address (127.0.0.0/8 or ::1).
    pub fn parse_overrides(value: &str) -> Result<Endpoints, LiveError> {
        Ok(Endpoints {
            overrides: Overrides::parse(value, &provider_keys())?,
        })
    }

    /// The base URL to use for `provider`.
    pub fn base(&self, provider: Provider) -> &str {
        self.overrides
            .get(provider.key())
            .unwrap_or_else(|| official_base(provider))
    }

    /// True when any provider is redirected (to a loopback emulator).
    pub fn has_overrides(&self) -> bool {
        !self.overrides.is_empty()
    }

    /// The redirections themselves, for the other users of the variable
    /// (organisation listings, keyed by the same platform names).
    pub fn overrides(&self) -> &Overrides {
        &self.overrides
    }
}

fn provider_keys() -> Vec<&'static str> {
    Provider::ALL.iter().map(|p| p.key()).collect()
}

/// The hard-coded official base of each provider. Azure DevOps and
/// DigitalOcean have two hosts; their modules derive the second from this
/// one. Grafana, Shopify and Vault tokens work on one instance: their
/// modules build the instance's URL from what was found near the token,
/// and this base only names the provider (see there). The identity table's
/// issuers have theirs in the table.
pub fn official_base(provider: Provider) -> &'static str {
    if let Some(issuer) = super::identity::issuer(provider) {
        return issuer.base();
    }
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
        // Every other provider is a table entry (a test holds it): an
        // empty base is no URL, so nothing could be sent.
        _ => "",
    }
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
    fn every_provider_has_an_official_https_base() {
        for provider in Provider::ALL {
            let base = official_base(*provider);
            assert!(base.starts_with("https://"), "{provider:?}: {base:?}");
            assert!(!base.ends_with('/'), "{provider:?}: {base:?}");
            assert_eq!(Endpoints::official().base(*provider), base);
        }
        // A table issuer is redirected by its own key like any other.
        let e = Endpoints::parse_overrides("openai=http://127.0.0.1:9").unwrap();
        assert_eq!(e.base(Provider::Openai), "http://127.0.0.1:9");
        assert_eq!(e.base(Provider::Anthropic), "https://api.anthropic.com");
    }

    #[test]
    fn the_override_rules_are_the_net_layers() {
        // `net::overrides` tests every refusal; here, that the live
        // checks' parse goes through it with their own provider names.
        for bad in ["github=https://evil.example", "gitlub=http://127.0.0.1"] {
            assert!(Endpoints::parse_overrides(bad).is_err(), "{bad} accepted");
        }
    }
}
