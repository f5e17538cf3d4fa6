//! Listing an organisation's repositories through its platform's REST API:
//! where the API is ([`Site`]), paging, and the checks that keep the
//! credential on the host the user chose.
//!
//! Requests go through patscan's one HTTP client ([`crate::net::Http`]):
//! timeouts, a per-host rate limit, `Retry-After` on 429, no redirects,
//! HTTPS only unless the loopback test emulator is the target.

pub mod azure_devops;
pub mod github;
pub mod gitlab;

use reqwest::Url;
use serde_json::Value;

use super::spec::{OrgSpec, Platform};
use super::{Credential, OrgError};
use crate::net::overrides::is_loopback;
use crate::net::{Answer, Auth, Call, Http, Overrides};

/// Official listing APIs and the hosts their clone URLs are on.
const GITHUB_API: &str = "https://api.github.com";
const GITHUB_GIT: &str = "https://github.com";
const GITLAB_API: &str = "https://gitlab.com";
const AZURE_DEVOPS_API: &str = "https://dev.azure.com";

/// Most pages read from one listing: 10,000 pages of 100 is a million
/// repositories; past that the answers are looping.
const MAX_PAGES: usize = 10_000;

/// A repository as its platform lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The platform's id (a number on GitHub and GitLab, a GUID on Azure
    /// DevOps): what `--shard` hashes, stable across renames.
    pub id: String,
    /// `owner/name`, `group/sub/name`, or the Azure DevOps repository name.
    pub name: String,
    pub project: Option<String>,
    /// HTTPS clone URL, checked to be on the listing's host, without any
    /// user name.
    pub clone_url: String,
    pub web_url: String,
    pub archived: bool,
    pub disabled: bool,
    pub fork: bool,
    /// Known empty from the listing (GitLab, Azure DevOps); GitHub's empty
    /// repositories are found when their refs are read.
    pub empty: bool,
}

impl Listed {
    /// What `--repo-include` and `--repo-exclude` match, and what reports
    /// call it: `owner/name`, `group/sub/name`, `project/name`.
    pub fn full_name(&self) -> String {
        match &self.project {
            Some(project) => format!("{project}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Where an organisation's API and git hosts are.
#[derive(Debug, Clone)]
pub struct Site {
    pub platform: Platform,
    /// The listing API's base URL, without a trailing slash.
    pub api: String,
    /// Origins (`scheme://host:port`) a clone URL may have: the credential
    /// goes to these and nowhere else.
    pub clone_origins: Vec<String>,
    /// The loopback test emulator or a loopback `--host`: plain HTTP is
    /// allowed.
    pub loopback: bool,
}

impl Site {
    /// The official hosts, a self-hosted `--host`, or (tests only) the
    /// loopback override of `PATSCAN_ENDPOINT_OVERRIDES` for the platform.
    pub fn resolve(
        spec: &OrgSpec,
        host: Option<&str>,
        overrides: &Overrides,
    ) -> Result<Site, OrgError> {
        let platform = spec.platform;
        // The platforms' keys are the live checks' issuer keys, so one
        // setting redirects both to the same emulator.
        if let Some(overridden) = overrides.get(platform.key()) {
            let url = Url::parse(overridden).map_err(|_| OrgError::Host(overridden.into()))?;
            return Ok(Site {
                platform,
                api: overridden.to_string(),
                clone_origins: vec![origin(&url)],
                loopback: true,
            });
        }
        if let Some(host) = host {
            let url = Url::parse(host).map_err(|_| OrgError::Host(host.into()))?;
            let loopback = is_loopback(&url);
            if !(url.scheme() == "https" || (url.scheme() == "http" && loopback))
                || url.username() != ""
                || url.password().is_some()
                || url.query().is_some()
            {
                return Err(OrgError::Host(host.into()));
            }
            let base = host.trim_end_matches('/').to_string();
            let api = match platform {
                // GitHub Enterprise Server's REST API lives under /api/v3.
                Platform::Github => format!("{base}/api/v3"),
                Platform::Gitlab | Platform::AzureDevops => base,
            };
            return Ok(Site {
                platform,
                api,
                clone_origins: vec![origin(&url)],
                loopback,
            });
        }
        let (api, origins) = match platform {
            Platform::Github => (GITHUB_API, vec![GITHUB_GIT.to_string()]),
            Platform::Gitlab => (GITLAB_API, vec![GITLAB_API.to_string()]),
            Platform::AzureDevops => (
                AZURE_DEVOPS_API,
                vec![
                    AZURE_DEVOPS_API.to_string(),
                    // Organisations created before 2018 keep this host.
                    format!(
                        "https://{}.visualstudio.com",
                        spec.name.to_ascii_lowercase()
                    ),
                ],
            ),
        };
        let origins = origins
            .iter()
            .map(|o| Url::parse(o).map(|u| origin(&u)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| OrgError::Spec {
                value: spec.to_string(),
                message: "not a valid host name".into(),
            })?;
        Ok(Site {
            platform,
            api: api.to_string(),
            clone_origins: origins,
            loopback: false,
        })
    }

    /// A listed clone URL made safe to hand the credential with: on one of
    /// the allowed origins, HTTPS unless loopback, without a user name.
    pub fn check_clone_url(&self, raw: &str) -> Result<String, String> {
        let mut url =
            Url::parse(raw).map_err(|_| "the listed clone URL is not a URL".to_string())?;
        let scheme_ok = url.scheme() == "https" || (self.loopback && url.scheme() == "http");
        if !scheme_ok || !self.clone_origins.contains(&origin(&url)) {
            return Err(format!(
                "its clone URL is on {}, not on {}: not cloned, so the credential goes \
                 nowhere else",
                origin(&url),
                self.clone_origins.join(" or ")
            ));
        }
        // Azure DevOps lists `https://ORG@dev.azure.com/…`.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        Ok(url.to_string())
    }

    /// The header the listing API takes the credential in.
    pub fn auth<'a>(&self, credential: Option<&'a Credential>) -> Auth<'a> {
        match credential {
            None => Auth::None,
            Some(c) => match self.platform {
                Platform::AzureDevops => Auth::BasicPat(c.expose()),
                Platform::Github | Platform::Gitlab => Auth::Bearer(c.expose()),
            },
        }
    }
}

/// Lists the repositories of `spec` on `site`.
pub fn list(
    http: &Http,
    site: &Site,
    spec: &OrgSpec,
    credential: Option<&Credential>,
) -> Result<Vec<Listed>, OrgError> {
    let pager = Pager {
        http,
        site,
        auth: site.auth(credential),
        credential_var: spec.platform.credential_var(),
    };
    let mut listed = match spec.platform {
        Platform::Github => github::list(&pager, spec)?,
        Platform::Gitlab => gitlab::list(&pager, spec)?,
        Platform::AzureDevops => azure_devops::list(&pager, spec)?,
    };
    listed.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    listed.dedup_by(|a, b| a.id == b.id);
    Ok(listed)
}

/// The project wikis of an Azure DevOps organisation (or project): git
/// repositories of their own, scanned like the others. Code wikis are
/// folders of repositories the listing has already.
pub fn wikis(
    http: &Http,
    site: &Site,
    spec: &OrgSpec,
    credential: Option<&Credential>,
) -> Result<Vec<Listed>, OrgError> {
    let pager = Pager {
        http,
        site,
        auth: site.auth(credential),
        credential_var: spec.platform.credential_var(),
    };
    azure_devops::wikis(&pager, spec)
}

/// Reads a listing page after page.
pub struct Pager<'a> {
    http: &'a Http,
    site: &'a Site,
    auth: Auth<'a>,
    credential_var: &'static str,
}

impl Pager<'_> {
    pub fn api(&self) -> &str {
        &self.site.api
    }

    pub fn site(&self) -> &Site {
        self.site
    }

    /// GETs `first`, then each page `next` names (from the answer's
    /// headers and body), handing every page's JSON to `each`.
    pub fn pages(
        &self,
        first: String,
        accept: &'static str,
        next: impl Fn(&Answer, &Value, &str) -> Option<String>,
        mut each: impl FnMut(&Value) -> Result<(), OrgError>,
    ) -> Result<(), OrgError> {
        let api_origin = Url::parse(&self.site.api)
            .map(|u| origin(&u))
            .map_err(|_| OrgError::Host(self.site.api.clone()))?;
        let mut url = first;
        for _ in 0..MAX_PAGES {
            let call = Call::get(url.clone(), self.auth).accept(accept);
            let answer = self.http.send(&call).map_err(|failure| OrgError::Listing {
                endpoint: call.describe(),
                message: failure.to_string(),
            })?;
            let json = self.check(&answer)?;
            each(&json)?;
            match next(&answer, &json, &url) {
                None => return Ok(()),
                Some(following) => {
                    let same = Url::parse(&following).is_ok_and(|u| origin(&u) == api_origin);
                    if !same {
                        return Err(OrgError::Listing {
                            endpoint: answer.endpoint.clone(),
                            message: "the next page is on another host; not followed \
                                      (the credential stays on the API's host)"
                                .into(),
                        });
                    }
                    url = following;
                }
            }
        }
        Err(OrgError::Listing {
            endpoint: url,
            message: format!("more than {MAX_PAGES} pages; the listing is looping"),
        })
    }

    /// The answer's JSON, or why the listing cannot go on.
    fn check(&self, answer: &Answer) -> Result<Value, OrgError> {
        let var = self.credential_var;
        let message = match answer.status {
            200 => match answer.json() {
                Some(json) => return Ok(json),
                None if answer.is_html() => "an HTML page instead of the API's JSON: a sign-in \
                     page, proxy or firewall answered"
                    .to_string(),
                None => "the answer is not JSON".to_string(),
            },
            401 => format!(
                "the credential was refused (HTTP 401): set {var} to a token that can read \
                 the organisation's repositories"
            ),
            403 if answer.header("x-ratelimit-remaining") == Some("0") => {
                "rate limited (HTTP 403, no requests left); try again after the limit resets"
                    .to_string()
            }
            403 => format!(
                "forbidden (HTTP 403): the token in {var} lacks the scope or access to list \
                 these repositories"
            ),
            404 => format!(
                "not found (HTTP 404): no such organisation, or the token in {var} cannot see it"
            ),
            429 => {
                "rate limited (HTTP 429) even after waiting as asked; try again later".to_string()
            }
            s @ 300..=399 => {
                format!("redirected (HTTP {s}); patscan never follows a redirect with a credential")
            }
            s => format!("unexpected answer (HTTP {s})"),
        };
        Err(OrgError::Listing {
            endpoint: answer.endpoint.clone(),
            message,
        })
    }
}

/// The `rel="next"` URL of an RFC 8288 `Link` header (GitHub, GitLab).
pub fn link_next(answer: &Answer) -> Option<String> {
    let header = answer.header("link")?;
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        let target = target.trim();
        (is_next && target.starts_with('<') && target.ends_with('>'))
            .then(|| target[1..target.len() - 1].to_string())
    })
}

/// A JSON string or number field as text (ids are numbers on GitHub and
/// GitLab, strings on Azure DevOps).
pub fn text(value: &Value, key: &str) -> Option<String> {
    match &value[key] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A missing field means a listing we do not understand: said once, with
/// the field.
pub fn required(value: &Value, key: &str, endpoint: &str) -> Result<String, OrgError> {
    text(value, key).ok_or_else(|| OrgError::Listing {
        endpoint: endpoint.to_string(),
        message: format!("a repository without `{key}` in the answer"),
    })
}

/// Percent-encodes one path segment or query value.
pub fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for &b in segment.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `scheme://host:port`, the port always written.
pub fn origin(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(origins: &[&str], loopback: bool) -> Site {
        Site {
            platform: Platform::Github,
            api: "https://api.github.com".into(),
            clone_origins: origins.iter().map(|o| o.to_string()).collect(),
            loopback,
        }
    }

    #[test]
    fn clone_urls_off_the_listing_host_are_refused() {
        let s = site(&["https://github.com:443"], false);
        assert_eq!(
            s.check_clone_url("https://github.com/acme/a.git").unwrap(),
            "https://github.com/acme/a.git"
        );
        for bad in [
            "https://evil.example/acme/a.git",
            "http://github.com/acme/a.git",
            "https://github.com.evil.example/a.git",
            "https://github.com:8443/a.git",
            "ssh://git@github.com/a.git",
        ] {
            assert!(s.check_clone_url(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn user_names_are_stripped_from_clone_urls() {
        let s = site(&["https://dev.azure.com:443"], false);
        assert_eq!(
            s.check_clone_url("https://contoso@dev.azure.com/contoso/p/_git/r")
                .unwrap(),
            "https://dev.azure.com/contoso/p/_git/r"
        );
    }

    #[test]
    fn hosts_must_be_https_unless_loopback() {
        let spec = OrgSpec::parse("gitlab:team").unwrap();
        let overrides = Overrides::none();
        for bad in [
            "http://git.example.com",
            "ftp://x",
            "https://u:p@git.example.com",
        ] {
            assert!(
                Site::resolve(&spec, Some(bad), &overrides).is_err(),
                "{bad}"
            );
        }
        let site = Site::resolve(&spec, Some("https://git.example.com/"), &overrides).unwrap();
        assert_eq!(site.api, "https://git.example.com");
        assert_eq!(site.clone_origins, ["https://git.example.com:443"]);
        let spec = OrgSpec::parse("github:acme").unwrap();
        let site = Site::resolve(&spec, Some("http://127.0.0.1:9"), &overrides).unwrap();
        assert_eq!(site.api, "http://127.0.0.1:9/api/v3");
        assert!(site.loopback);
        let site = Site::resolve(&spec, None, &overrides).unwrap();
        assert_eq!(site.api, GITHUB_API);
        assert_eq!(site.clone_origins, ["https://github.com:443"]);
    }
}
