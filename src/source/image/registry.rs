//! Images pulled from a registry over the OCI distribution API
//! (`GET /v2/<name>/manifests/<reference>`, `GET /v2/<name>/blobs/<digest>`),
//! through the project's one HTTP client (`net`).
//!
//! Authentication as Docker does it: a request without credentials; on a
//! 401 the `WWW-Authenticate` challenge says how. `Bearer realm=…` asks
//! for a token from the realm (the registry's token service) for
//! `repository:<name>:pull`, anonymously or with the user's credential;
//! `Basic` asks for the credential itself. The credential (see
//! [`credentials`](super::credentials)) goes only to the registry and to
//! the realm its challenge names, and the realm only over HTTPS (plain
//! HTTP only when registry and realm are both loopback addresses: the
//! tests' emulator, a local registry).
//!
//! Redirects: registries answer blob requests with a redirect to storage
//! (a CDN, S3, Azure Blob) whose URL carries its own signature. One is
//! followed (up to five in a row) only to HTTPS, or between loopback
//! addresses for a loopback registry; the registry's `Authorization` is
//! sent again only when the target is the registry itself (same scheme,
//! host and port), never to another host. A redirect's URL is never shown
//! (it holds the signature): messages name its host.

use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::Url;

use super::credentials::{self, Credential};
use super::digest::Digest;
use super::reference::RegistryRef;
use super::store::{read_document, Locator, Store};
use crate::net::overrides::is_loopback;
use crate::net::{Auth, Call, Http, Policy, Streaming};

/// What a manifest request accepts: indexes and manifests, OCI and Docker.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

const MAX_REDIRECTS: usize = 5;

/// Pages of a catalogue or tag list followed (1,000 names each).
const MAX_PAGES: usize = 1000;

/// The run's HTTP clients, built when a registry reference first needs
/// one: HTTPS only for registries, plain HTTP allowed for loopback ones.
pub struct Registries {
    https: Mutex<Option<std::sync::Arc<Http>>>,
    loopback: Mutex<Option<std::sync::Arc<Http>>>,
    /// `PATSCAN_REGISTRY_USERNAME`/`_PASSWORD`, when the run names one
    /// registry only.
    env: Option<(String, Credential)>,
}

impl Registries {
    /// `registries` are those the run's references name; the variables'
    /// credential is refused when there are several (it would go to all).
    pub fn new(registries: &[String]) -> Result<Registries, String> {
        let env = match credentials::from_env() {
            None => None,
            Some(credential) => {
                let mut named: Vec<&String> = registries.iter().collect();
                named.sort();
                named.dedup();
                match named.as_slice() {
                    [one] => Some(((*one).clone(), credential)),
                    [] => None,
                    _ => {
                        return Err(format!(
                            "{} and {} are set, but the references name several registries \
                             ({}): a credential goes to one registry only; use the Docker \
                             config (`docker login`) for several",
                            credentials::USERNAME_VAR,
                            credentials::PASSWORD_VAR,
                            named
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    }
                }
            }
        };
        Ok(Registries {
            https: Mutex::new(None),
            loopback: Mutex::new(None),
            env,
        })
    }

    /// A client for the repository `name` names.
    pub fn client(&self, name: &RegistryRef) -> Result<Client, String> {
        let host = name.api_host();
        let loopback = Url::parse(&format!("http://{host}/"))
            .map(|u| is_loopback(&u))
            .unwrap_or(false);
        let scheme = if loopback { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{host}/"))
            .map_err(|_| format!("{host}: not a registry host"))?;
        let slot = if loopback {
            &self.loopback
        } else {
            &self.https
        };
        let http = {
            let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
            match &*slot {
                Some(http) => std::sync::Arc::clone(http),
                None => {
                    let http = Http::new(Policy {
                        // Per read: a layer download may take minutes.
                        timeout: Duration::from_secs(30),
                        rate_per_host: 50.0,
                        loopback_emulator: loopback,
                        ..Policy::default()
                    })
                    .map(std::sync::Arc::new)
                    .map_err(|e| e.to_string())?;
                    *slot = Some(std::sync::Arc::clone(&http));
                    http
                }
            }
        };
        let env = self
            .env
            .as_ref()
            .filter(|(registry, _)| *registry == name.registry)
            .map(|(_, c)| c.clone());
        Ok(Client {
            http,
            base,
            registry: name.registry.clone(),
            repository: name.repository.clone(),
            loopback,
            env,
            auth: Mutex::new(Session::Anonymous),
        })
    }
}

/// How requests to the registry authenticate, as its challenges taught.
#[derive(Clone)]
enum Session {
    Anonymous,
    Bearer(String),
    Basic(Credential),
}

/// One repository of one registry.
pub struct Client {
    http: std::sync::Arc<Http>,
    /// `https://host[:port]/`.
    base: Url,
    /// As references name it (for the Docker config).
    registry: String,
    repository: String,
    loopback: bool,
    env: Option<Credential>,
    auth: Mutex<Session>,
}

impl Client {
    /// The manifest (or index) `reference` (a tag or a digest) names: its
    /// bytes and digest, checked against the digest asked for or the one
    /// the registry states.
    pub fn manifest(&self, reference: &str) -> Result<(Vec<u8>, Digest), String> {
        let answer = self.get(&format!("manifests/{reference}"), MANIFEST_TYPES)?;
        let stated = answer
            .header("docker-content-digest")
            .and_then(Digest::parse);
        let expected = Digest::parse(reference).or(stated);
        let bytes = read_document(answer, expected.as_ref())
            .map_err(|e| format!("manifest {reference}: {e}"))?;
        let digest = expected.unwrap_or_else(|| Digest::of(&bytes));
        Ok((bytes, digest))
    }

    /// The repositories of the registry's catalogue (`GET /v2/_catalog`,
    /// every page) whose name starts with `prefix` (a namespace: `acme/`;
    /// empty for all). Not every registry offers one: Docker Hub and GHCR
    /// do not, ACR, Harbor, GitLab and `registry:2` do.
    pub fn repositories(&self, prefix: &str) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for page in self.pages("_catalog?n=1000")? {
            for name in page["repositories"].as_array().into_iter().flatten() {
                if let Some(name) = name.as_str().filter(|n| n.starts_with(prefix)) {
                    names.push(name.to_string());
                }
            }
        }
        Ok(names)
    }

    /// The repository's tags (`GET /v2/<name>/tags/list`, every page).
    pub fn tags(&self) -> Result<Vec<String>, String> {
        let mut tags = Vec::new();
        for page in self.pages(&format!("{}/tags/list?n=1000", self.repository))? {
            for tag in page["tags"].as_array().into_iter().flatten() {
                if let Some(tag) = tag.as_str() {
                    tags.push(tag.to_string());
                }
            }
        }
        Ok(tags)
    }

    /// The JSON pages of a listing, following `Link: <…>; rel="next"` on
    /// the registry itself (at most [`MAX_PAGES`]).
    fn pages(&self, first: &str) -> Result<Vec<serde_json::Value>, String> {
        let mut pages = Vec::new();
        let mut path = first.to_string();
        for _ in 0..MAX_PAGES {
            let answer = self.get_v2(&path, "application/json")?;
            let next = answer.header("link").and_then(next_page);
            let bytes = read_document(answer, None).map_err(|e| format!("{path}: {e}"))?;
            let page = serde_json::from_slice(&bytes)
                .map_err(|_| format!("{path}: the registry did not answer JSON"))?;
            pages.push(page);
            match next {
                Some(next) => path = next,
                None => return Ok(pages),
            }
        }
        Err(format!("{first}: more than {MAX_PAGES} pages"))
    }

    /// `GET /v2/<repository>/<path>`, authenticating when challenged and
    /// following redirects as the module says; a 200 answer.
    fn get(&self, path: &str, accept: &'static str) -> Result<Streaming, String> {
        self.get_v2(&format!("{}/{path}", self.repository), accept)
    }

    /// `GET /v2/<path>`, as [`Client::get`].
    fn get_v2(&self, path: &str, accept: &'static str) -> Result<Streaming, String> {
        let url = self
            .base
            .join(&format!("v2/{path}"))
            .map_err(|_| format!("{path}: not a valid request"))?;
        let mut challenged = false;
        let mut url = url;
        let mut redirects = 0;
        loop {
            let same_origin = url.origin() == self.base.origin();
            let session = self.session();
            let auth = match (&session, same_origin) {
                (Session::Bearer(token), true) => Auth::Bearer(token),
                (Session::Basic(c), true) => Auth::Basic(&c.username, c.secret()),
                _ => Auth::None,
            };
            let call = Call::get(url.to_string(), auth).accept(accept);
            let answer = self
                .http
                .send_streaming(&call)
                .map_err(|e| format!("{}: {e}", host_of(&url)))?;
            match answer.status {
                200 => return Ok(answer),
                401 if same_origin && !challenged => {
                    challenged = true;
                    let challenge = answer
                        .header("www-authenticate")
                        .unwrap_or_default()
                        .to_string();
                    self.authenticate(&challenge)?;
                }
                301 | 302 | 303 | 307 | 308 => {
                    redirects += 1;
                    if redirects > MAX_REDIRECTS {
                        return Err(format!("{path}: more than {MAX_REDIRECTS} redirects"));
                    }
                    let location = answer.header("location").unwrap_or_default();
                    let next = url
                        .join(location)
                        .map_err(|_| format!("{path}: a redirect to an invalid URL"))?;
                    self.check_redirect(&next, path)?;
                    url = next;
                }
                status => return Err(self.refused(path, status, challenged)),
            }
        }
    }

    fn session(&self) -> Session {
        self.auth.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set_session(&self, session: Session) {
        *self.auth.lock().unwrap_or_else(|p| p.into_inner()) = session;
    }

    /// Where a redirect may go: HTTPS, or loopback for a loopback
    /// registry; never plain HTTP elsewhere.
    fn check_redirect(&self, next: &Url, path: &str) -> Result<(), String> {
        let allowed = match next.scheme() {
            "https" => !self.loopback || is_loopback(next),
            "http" => self.loopback && is_loopback(next),
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(format!(
                "{path}: the registry redirects to {} over {}: refused (only HTTPS, or \
                 loopback for a loopback registry)",
                host_of(next),
                next.scheme()
            ))
        }
    }

    /// Answers a 401 challenge: a token from the realm (`Bearer`), or the
    /// credential itself (`Basic`).
    fn authenticate(&self, challenge: &str) -> Result<(), String> {
        let (scheme, params) = parse_challenge(challenge).ok_or_else(|| {
            "the registry asks for authentication without saying how (no WWW-Authenticate)"
                .to_string()
        })?;
        match scheme.as_str() {
            "basic" => {
                let credential = self.credential()?.ok_or_else(|| {
                    format!(
                        "the registry asks for a user name and password, and none is set for \
                         {} (`docker login {}`, or {} and {})",
                        self.registry,
                        self.registry,
                        credentials::USERNAME_VAR,
                        credentials::PASSWORD_VAR
                    )
                })?;
                self.set_session(Session::Basic(credential));
                Ok(())
            }
            "bearer" => {
                let realm = params
                    .iter()
                    .find(|(k, _)| k == "realm")
                    .map(|(_, v)| v.as_str())
                    .ok_or("the registry's challenge names no token service (realm)")?;
                let mut url = Url::parse(realm)
                    .map_err(|_| "the registry's token service (realm) is not a URL".to_string())?;
                let allowed = match url.scheme() {
                    "https" => true,
                    "http" => self.loopback && is_loopback(&url),
                    _ => false,
                };
                if !allowed || !url.username().is_empty() || url.password().is_some() {
                    return Err(format!(
                        "the registry's token service {} is not HTTPS: refused (a credential \
                         or token never travels over plain HTTP, except between loopback \
                         addresses)",
                        host_of(&url)
                    ));
                }
                let scope = params
                    .iter()
                    .find(|(k, _)| k == "scope")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| {
                        if self.repository.is_empty() {
                            "registry:catalog:*".to_string()
                        } else {
                            format!("repository:{}:pull", self.repository)
                        }
                    });
                {
                    let mut query = url.query_pairs_mut();
                    if let Some((_, service)) = params.iter().find(|(k, _)| k == "service") {
                        query.append_pair("service", service);
                    }
                    query.append_pair("scope", &scope);
                }
                let credential = self.credential()?;
                let auth = match &credential {
                    Some(c) => Auth::Basic(&c.username, c.secret()),
                    None => Auth::None,
                };
                let answer = self
                    .http
                    .send(&Call::get(url.to_string(), auth))
                    .map_err(|e| format!("the token service {}: {e}", host_of(&url)))?;
                if answer.status != 200 {
                    return Err(format!(
                        "the token service {} refused {} (HTTP {})",
                        host_of(&url),
                        if credential.is_some() {
                            "the credential"
                        } else {
                            "an anonymous pull: the image may need `docker login`"
                        },
                        answer.status
                    ));
                }
                let json = answer.json().unwrap_or_default();
                let token = json["token"]
                    .as_str()
                    .or(json["access_token"].as_str())
                    .filter(|t| !t.is_empty())
                    .ok_or("the token service answered without a token")?;
                self.set_session(Session::Bearer(token.to_string()));
                Ok(())
            }
            _ => {
                Err("the registry asks for an authentication scheme patscan does not speak".into())
            }
        }
    }

    /// The user's credential for this registry, looked up when asked for.
    fn credential(&self) -> Result<Option<Credential>, String> {
        if let Some(credential) = &self.env {
            return Ok(Some(credential.clone()));
        }
        credentials::from_docker_config(&self.registry)
    }

    fn refused(&self, path: &str, status: u16, challenged: bool) -> String {
        let what = if path.contains("/manifests/") {
            "the image"
        } else if path.contains("/blobs/") {
            "a blob"
        } else {
            "the listing"
        };
        match status {
            401 | 403 if challenged => format!(
                "{what} ({path}): access refused (HTTP {status}): a private image needs \
                 `docker login {}` or {}/{}",
                self.registry,
                credentials::USERNAME_VAR,
                credentials::PASSWORD_VAR
            ),
            404 => format!(
                "{what} ({path}): not found (HTTP 404): no such repository, tag or digest, or \
                 the credential cannot see it"
            ),
            status => format!("{what} ({path}): the registry answered HTTP {status}"),
        }
    }
}

impl Store for Client {
    fn open(&self, at: &Locator) -> Result<Box<dyn Read + Send + '_>, String> {
        match at {
            Locator::Digest(digest) => {
                let answer = self.get(&format!("blobs/{digest}"), "*/*")?;
                Ok(Box::new(answer))
            }
            Locator::Path(path) => Err(format!("{path}: a registry has no paths")),
        }
    }

    fn manifest_document(&self, digest: &Digest) -> Result<Vec<u8>, String> {
        self.manifest(digest.as_str()).map(|(bytes, _)| bytes)
    }
}

/// The path after `/v2/` of a `Link: </v2/…>; rel="next"` header.
fn next_page(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        if !params.contains("rel=\"next\"") && !params.contains("rel=next") {
            return None;
        }
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        // Only on the registry itself: a path, never another host.
        target.strip_prefix("/v2/").map(str::to_string)
    })
}

/// `scheme://host[:port]`, what messages show of a URL (never its path
/// or query, which may hold a signature).
fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        _ => url.scheme().to_string(),
    }
}

/// `Bearer realm="…",service="…",scope="…"`: the scheme (lower case) and
/// its parameters.
fn parse_challenge(header: &str) -> Option<(String, Vec<(String, String)>)> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.is_empty() {
        return None;
    }
    let mut params = Vec::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (quoted[..end].to_string(), &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        params.push((key, value));
        rest = remainder.trim_start().trim_start_matches(',').trim_start();
    }
    Some((scheme.to_ascii_lowercase(), params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_parsed() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(scheme, "bearer");
        assert_eq!(
            params,
            vec![
                ("realm".into(), "https://auth.example/token".into()),
                ("service".into(), "registry.example".into()),
                ("scope".into(), "repository:a/b:pull,push".into()),
            ]
        );
        let (scheme, params) = parse_challenge(r#"Basic realm="Registry""#).unwrap();
        assert_eq!(scheme, "basic");
        assert_eq!(params.len(), 1);
        assert!(parse_challenge("").is_none());
    }

    fn client(registry: &str) -> Client {
        let name = RegistryRef {
            registry: registry.to_string(),
            repository: "acme/app".to_string(),
            tag: None,
            digest: None,
        };
        Registries::new(&[]).unwrap().client(&name).unwrap()
    }

    #[test]
    fn a_token_service_over_plain_http_gets_nothing() {
        // Refused before any request is sent (the host does not exist).
        let remote = client("registry.invalid");
        let refused = remote
            .authenticate(r#"Bearer realm="http://auth.invalid/token",service="x""#)
            .unwrap_err();
        assert!(refused.contains("not HTTPS"), "{refused}");
        // A loopback registry may use a loopback realm over HTTP, not
        // another host's.
        let local = client("127.0.0.1:5000");
        let refused = local
            .authenticate(r#"Bearer realm="http://auth.invalid/token""#)
            .unwrap_err();
        assert!(refused.contains("not HTTPS"), "{refused}");
        let refused = remote
            .authenticate(r#"Bearer realm="https://user:pw@auth.invalid/token""#)
            .unwrap_err();
        assert!(refused.contains("refused"), "{refused}");
    }

    #[test]
    fn redirects_go_to_https_or_between_loopback_addresses_only() {
        let remote = client("registry.invalid");
        let to = |url: &str| Url::parse(url).unwrap();
        assert!(remote
            .check_redirect(&to("https://cdn.invalid/blob?sig=1"), "blobs/x")
            .is_ok());
        let refused = remote
            .check_redirect(&to("http://cdn.invalid/blob?sig=SECRET"), "blobs/x")
            .unwrap_err();
        assert!(!refused.contains("SECRET"), "{refused}");
        assert!(remote
            .check_redirect(&to("ftp://cdn.invalid/x"), "blobs/x")
            .is_err());
        let local = client("127.0.0.1:5000");
        assert!(local
            .check_redirect(&to("http://127.0.0.2:9000/blob"), "blobs/x")
            .is_ok());
        assert!(local
            .check_redirect(&to("http://cdn.invalid/blob"), "blobs/x")
            .is_err());
        assert!(local
            .check_redirect(&to("https://cdn.invalid/blob"), "blobs/x")
            .is_err());
    }

    #[test]
    fn the_next_page_is_a_path_on_the_registry() {
        assert_eq!(
            next_page(r#"</v2/_catalog?last=b&n=2>; rel="next""#).as_deref(),
            Some("_catalog?last=b&n=2")
        );
        assert_eq!(
            next_page(r#"<https://evil.invalid/v2/x>; rel="next""#),
            None
        );
        assert_eq!(next_page(r#"</v2/x>; rel="prev""#), None);
    }

    #[test]
    fn messages_show_a_urls_host_only() {
        let url = Url::parse("https://cdn.example:8443/blob?sig=SECRET").unwrap();
        assert_eq!(host_of(&url), "https://cdn.example:8443");
    }
}
