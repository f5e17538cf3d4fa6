//! The HTTP side of a CI-log scan: JSON GETs and pages with the credential
//! on the API's host only, streamed downloads (a log is scanned as it
//! arrives), and answers turned into messages that name the scope a
//! refusal means.

use reqwest::Url;
use serde_json::Value;

use crate::net::{Answer, Auth, Call, Failure, Http, Streaming};
use crate::source::org::listing::{origin, Site};

/// Most pages read from one listing: past that the answers are looping.
const MAX_PAGES: usize = 10_000;

/// Why a call gave nothing to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// 404 or 410: deleted (a log past retention, an expired artifact).
    Gone(String),
    /// 401 or 403: the credential lacks a scope (named in the message).
    Denied(String),
    Other(String),
}

impl CallError {
    pub fn message(&self) -> &str {
        match self {
            CallError::Gone(m) | CallError::Denied(m) | CallError::Other(m) => m,
        }
    }
}

/// One platform's API, with the credential.
pub struct Api<'a> {
    pub http: &'a Http,
    pub site: &'a Site,
    pub auth: Auth<'a>,
    /// The variable the credential came from, for messages.
    pub var: &'static str,
    api_origin: String,
    /// Other origins of the same service the credential may go to
    /// (Azure DevOps' release API on `vsrm.dev.azure.com`).
    also: Vec<String>,
}

impl<'a> Api<'a> {
    pub fn new(http: &'a Http, site: &'a Site, auth: Auth<'a>, var: &'static str) -> Api<'a> {
        let api_origin = Url::parse(&site.api)
            .map(|u| origin(&u))
            .unwrap_or_default();
        Api {
            http,
            site,
            auth,
            var,
            api_origin,
            also: Vec::new(),
        }
    }

    /// Lets the credential go to `base`'s origin too (a constant of the
    /// caller: another host of the same official service).
    pub fn also_to(mut self, base: &str) -> Api<'a> {
        if let Ok(url) = Url::parse(base) {
            self.also.push(origin(&url));
        }
        self
    }

    /// The listing API's base URL.
    pub fn base(&self) -> &str {
        &self.site.api
    }

    /// Whether `url` is on the API's origin (the credential may go there).
    pub fn on_api_host(&self, url: &str) -> bool {
        Url::parse(url).is_ok_and(|u| {
            let at = origin(&u);
            at == self.api_origin || self.also.contains(&at)
        })
    }

    /// GETs `url` (on the API's host) as JSON. `scope` names the permission
    /// a 401 or 403 means (`Build (Read)`, `actions:read`).
    pub fn json(&self, url: &str, scope: &str) -> Result<(Answer, Value), CallError> {
        let answer = self.answer(url, "application/json", scope)?;
        match answer.json() {
            Some(json) => Ok((answer, json)),
            None if answer.is_html() => Err(CallError::Other(format!(
                "{}: an HTML page instead of the API's JSON: a sign-in page, proxy or \
                 firewall answered",
                answer.endpoint
            ))),
            None => Err(CallError::Other(format!(
                "{}: the answer is not JSON",
                answer.endpoint
            ))),
        }
    }

    /// GETs `first`, then each page `next` names, handing each page's JSON
    /// to `each`, until it says it has enough (`false`). A next page on
    /// another host is not followed.
    pub fn pages(
        &self,
        first: String,
        scope: &str,
        next: impl Fn(&Answer, &Value) -> Option<String>,
        mut each: impl FnMut(&Value) -> Result<bool, String>,
    ) -> Result<(), CallError> {
        let mut url = first;
        for _ in 0..MAX_PAGES {
            let (answer, json) = self.json(&url, scope)?;
            let more =
                each(&json).map_err(|m| CallError::Other(format!("{}: {m}", answer.endpoint)))?;
            if !more {
                return Ok(());
            }
            match next(&answer, &json) {
                None => return Ok(()),
                Some(following) if self.on_api_host(&following) => url = following,
                Some(_) => {
                    return Err(CallError::Other(format!(
                        "{}: the next page is on another host; not followed (the credential \
                         stays on the API's host)",
                        answer.endpoint
                    )))
                }
            }
        }
        Err(CallError::Other(format!(
            "{url}: more than {MAX_PAGES} pages; the listing is looping"
        )))
    }

    fn answer(&self, url: &str, accept: &'static str, scope: &str) -> Result<Answer, CallError> {
        let streaming = self.open_here(url, accept)?;
        let streaming = self.check(streaming, scope)?;
        streaming
            .into_answer()
            .map_err(|f| CallError::Other(format!("GET {url}: {f}")))
    }

    /// Opens `url` for reading as it arrives. The credential goes only to
    /// the API's host; a redirect (GitHub's logs and artifacts, GitLab's
    /// object storage) is followed once, to an HTTPS URL, without it.
    pub fn download(&self, url: &str, scope: &str) -> Result<Streaming, CallError> {
        let first = self.open_here(url, "*/*")?;
        if !(300..400).contains(&first.status) {
            return self.check(first, scope);
        }
        let Some(location) = first.header("location").map(str::to_string) else {
            return self.check(first, scope);
        };
        let target = Url::parse(url)
            .and_then(|base| base.join(&location))
            .map_err(|_| CallError::Other(format!("{}: a redirect to no URL", first.endpoint)))?;
        let secure = target.scheme() == "https"
            || (self.site.loopback
                && target.scheme() == "http"
                && crate::net::overrides::is_loopback(&target));
        if !secure {
            return Err(CallError::Other(format!(
                "{}: redirected to a URL that is not HTTPS; not followed",
                first.endpoint
            )));
        }
        let call = Call::get(target.to_string(), Auth::None).accept("*/*");
        let answer = self.http.send_streaming(&call).map_err(|f| {
            // The redirect's URL is signed: only its host is named.
            CallError::Other(format!(
                "{} (redirected to {}): {f}",
                first.endpoint,
                target.host_str().unwrap_or_default()
            ))
        })?;
        self.check(answer, scope)
    }

    fn open_here(&self, url: &str, accept: &'static str) -> Result<Streaming, CallError> {
        if !self.on_api_host(url) {
            return Err(CallError::Other(format!(
                "GET {url}: not on the API's host ({}); not requested, so the credential \
                 goes nowhere else",
                self.api_origin
            )));
        }
        let call = Call::get(url.to_string(), self.auth).accept(accept);
        self.http
            .send_streaming(&call)
            .map_err(|f| CallError::Other(format!("{}: {f}", call.describe())))
    }

    /// A readable answer, or why not, naming the scope a refusal means.
    fn check(&self, answer: Streaming, scope: &str) -> Result<Streaming, CallError> {
        let var = self.var;
        let at = &answer.endpoint;
        match answer.status {
            200..=299 => Ok(answer),
            401 => Err(CallError::Denied(format!(
                "{at}: the credential was refused (HTTP 401): set {var} to a token with \
                 {scope}"
            ))),
            403 if answer.header("x-ratelimit-remaining") == Some("0") => {
                Err(CallError::Other(format!(
                    "{at}: rate limited (HTTP 403, no requests left); try again after the \
                     limit resets"
                )))
            }
            403 => Err(CallError::Denied(format!(
                "{at}: forbidden (HTTP 403): the token in {var} lacks {scope}"
            ))),
            404 | 410 => Err(CallError::Gone(format!(
                "{at}: gone (HTTP {}): deleted by the platform (retention) or never kept",
                answer.status
            ))),
            429 => Err(CallError::Other(format!(
                "{at}: rate limited (HTTP 429) even after waiting as asked; try again later"
            ))),
            s @ 300..=399 => Err(CallError::Other(format!(
                "{at}: redirected (HTTP {s}); not followed with a credential"
            ))),
            s => Err(CallError::Other(format!(
                "{at}: unexpected answer (HTTP {s})"
            ))),
        }
    }
}

impl From<Failure> for CallError {
    fn from(f: Failure) -> CallError {
        CallError::Other(f.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Policy;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// A server that answers each request with `answers[i]` (status line
    /// and headers, no body), and records the requests' heads.
    fn server(answers: Vec<String>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut heads = Vec::new();
            for answer in answers {
                let (mut stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                heads.push(head);
                let reply = format!("{answer}Content-Length: 0\r\nConnection: close\r\n\r\n");
                stream.write_all(reply.as_bytes()).unwrap();
            }
            heads
        });
        (base, handle)
    }

    fn site(base: &str) -> Site {
        Site {
            platform: crate::source::org::Platform::Github,
            api: base.to_string(),
            clone_origins: Vec::new(),
            loopback: true,
        }
    }

    #[test]
    fn a_redirect_to_plain_http_elsewhere_is_not_followed() {
        let (base, handle) = server(vec![
            "HTTP/1.1 302 Found\r\nLocation: http://example.invalid/log?sig=abc\r\n".into(),
        ]);
        let http = Http::new(Policy {
            loopback_emulator: true,
            ..Policy::default()
        })
        .unwrap();
        let site = site(&base);
        let api = Api::new(&http, &site, Auth::Bearer("cred-123"), "GITHUB_TOKEN");
        let Err(error) = api.download(&format!("{base}/logs"), "actions:read") else {
            panic!("a redirect to plain HTTP was followed");
        };
        assert!(error.message().contains("not HTTPS"), "{error:?}");
        let heads = handle.join().unwrap();
        assert_eq!(heads.len(), 1, "nothing went to the redirect's target");
    }

    #[test]
    fn nothing_is_sent_off_the_api_host_and_refusals_name_the_scope() {
        let (base, handle) = server(vec!["HTTP/1.1 403 Forbidden\r\n".into()]);
        let http = Http::new(Policy {
            loopback_emulator: true,
            ..Policy::default()
        })
        .unwrap();
        let site = site(&base);
        let api = Api::new(&http, &site, Auth::Bearer("cred-123"), "GITHUB_TOKEN");
        let Err(CallError::Other(message)) = api.json("http://127.0.0.2:9/x", "actions:read")
        else {
            panic!("a request off the API's host was sent");
        };
        assert!(message.contains("not on the API's host"));
        let Err(CallError::Denied(message)) = api.json(&format!("{base}/x"), "actions:read") else {
            panic!("a 403 was not a refusal");
        };
        assert!(
            message.contains("GITHUB_TOKEN lacks actions:read"),
            "{message}"
        );
        assert!(!message.contains("cred-123"));
        let heads = handle.join().unwrap();
        assert!(heads[0]
            .to_ascii_lowercase()
            .contains("authorization: bearer cred-123"));
    }
}
