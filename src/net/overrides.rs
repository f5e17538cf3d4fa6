//! The test-only redirection of a service to a loopback emulator:
//! `PATSCAN_ENDPOINT_OVERRIDES=key=url,key=url`.
//!
//! The override exists so the test suite can run emulators of the issuers'
//! and platforms' APIs on 127.0.0.1. Anything that is not a loopback IP
//! address is refused: an environment variable must never be a way to send
//! tokens to a third-party host. The keys are the callers' (live checks
//! name issuers, organisation listings platforms); the caller says which it
//! knows, so a misspelt key is an error rather than silently ignored.

use std::collections::BTreeMap;
use std::net::IpAddr;

use reqwest::Url;

use super::NetError;

/// The test-only environment variable.
pub const OVERRIDES_VAR: &str = "PATSCAN_ENDPOINT_OVERRIDES";

/// Loopback base URLs per service key, without a trailing slash.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    bases: BTreeMap<String, String>,
}

impl Overrides {
    /// No override: every service at its official host.
    pub fn none() -> Overrides {
        Overrides::default()
    }

    /// The overrides of `PATSCAN_ENDPOINT_OVERRIDES`, none when it is not
    /// set. `known` lists the keys a caller may be redirected by.
    pub fn from_env(known: &[&str]) -> Result<Overrides, NetError> {
        match std::env::var(OVERRIDES_VAR) {
            Ok(value) => Overrides::parse(&value, known),
            Err(std::env::VarError::NotPresent) => Ok(Overrides::none()),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(NetError::Override("not valid UTF-8".into()))
            }
        }
    }

    /// Parses `key=url,key=url`. Every key must be one of `known`, every
    /// URL `http` or `https` on a loopback IP address (127.0.0.0/8 or ::1).
    pub fn parse(value: &str, known: &[&str]) -> Result<Overrides, NetError> {
        let mut bases = BTreeMap::new();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (key, url) = entry
                .split_once('=')
                .ok_or_else(|| NetError::Override(format!("{entry:?} is not KEY=URL")))?;
            let key = key.trim();
            if !known.contains(&key) {
                return Err(NetError::Override(format!(
                    "unknown provider {key:?} (expected one of {})",
                    known.join(", ")
                )));
            }
            let url = url.trim();
            let parsed = Url::parse(url)
                .map_err(|e| NetError::Override(format!("{url:?} is not a URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(NetError::Override(format!("{url:?} is not http or https")));
            }
            if !is_loopback(&parsed) {
                return Err(NetError::Override(format!(
                    "{url:?} is refused: overrides may only point at a loopback \
                     address (127.0.0.1, ::1); they exist for tests"
                )));
            }
            bases.insert(key.to_string(), url.trim_end_matches('/').to_string());
        }
        Ok(Overrides { bases })
    }

    /// The loopback base URL `key` is redirected to, if it is.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.bases.get(key).map(String::as_str)
    }

    /// True when any service is redirected.
    pub fn is_empty(&self) -> bool {
        self.bases.is_empty()
    }
}

/// Whether `url`'s host is a loopback IP literal. A name, even
/// `localhost`, does not count: a resolver patscan does not control
/// resolves it.
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    literal.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["github", "azure-devops", "npm"];

    #[test]
    fn loopback_overrides_are_accepted() {
        let o = Overrides::parse(
            "github=http://127.0.0.1:8080/, azure-devops=http://[::1]:9/x",
            KNOWN,
        )
        .unwrap();
        assert_eq!(o.get("github"), Some("http://127.0.0.1:8080"));
        assert_eq!(o.get("azure-devops"), Some("http://[::1]:9/x"));
        assert_eq!(o.get("npm"), None);
        assert!(!o.is_empty());
        assert!(Overrides::none().is_empty());
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
            assert!(Overrides::parse(bad, KNOWN).is_err(), "{bad} accepted");
        }
    }
}
