//! The HTTP client every network user of patscan shares (live checks,
//! revocation, organisation listings): a timeout per request, a per-host
//! rate limit, `Retry-After` honoured on 429 (and 503), no redirects, HTTPS
//! only unless the loopback test emulator is the target, bounded bodies,
//! credentials only in sensitive headers, and errors described in fixed
//! words so no token can leak through them.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, Url};
use serde_json::Value;

use super::NetError;

/// Largest answer body read; the APIs answer with a few KiB.
const MAX_BODY: u64 = 1 << 20;
/// Wait used when a 429 carries no usable `Retry-After`.
const DEFAULT_BACKOFF: Duration = Duration::from_secs(2);

/// Limits for every request.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Per request: connect, send and read the answer.
    pub timeout: Duration,
    /// Requests per second to one host, across all threads.
    pub rate_per_host: f64,
    /// How many times a rate-limited request is tried again.
    pub retries: u32,
    /// A `Retry-After` longer than this is not waited for: the token is
    /// reported `unknown` (rate limited) instead of stalling the run.
    pub max_retry_wait: Duration,
    /// Talking to the loopback test emulator (`PATSCAN_ENDPOINT_OVERRIDES`):
    /// plain HTTP allowed, proxies bypassed. Otherwise the client refuses
    /// anything but HTTPS and honours the system's proxy settings.
    pub loopback_emulator: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            timeout: Duration::from_secs(10),
            rate_per_host: 5.0,
            retries: 2,
            max_retry_wait: Duration::from_secs(60),
            loopback_emulator: false,
        }
    }
}

/// How a request authenticates. The value is put in a header marked
/// sensitive, so not even reqwest's `Debug` prints it.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    None,
    /// `Authorization: Bearer T`.
    Bearer(&'a str),
    /// `Authorization: token T` (GitHub's documented form).
    Token(&'a str),
    /// `Authorization: Basic base64(":" T)` (Azure DevOps PATs).
    BasicPat(&'a str),
    /// A header of its own, such as GitLab's `PRIVATE-TOKEN`.
    Header(&'static str, &'a str),
    /// `Authorization: T`, the bare token (crates.io's documented form).
    Raw(&'a str),
    /// `Authorization: PREFIX` followed by the token, for the issuers whose
    /// scheme is its own word (`Bot `, `GenieKey `, `Token token=`).
    Prefixed(&'static str, &'a str),
    /// `Authorization: Basic base64(USER:PASSWORD)`, the token being either
    /// (Mailgun's `api:KEY`, EasyPost's `KEY:`).
    Basic(&'a str, &'a str),
    /// The token is a segment of the URL path (Telegram's `/botTOKEN/getMe`,
    /// the only form that issuer documents): the call's URL holds
    /// [`TOKEN_SLOT`] where it goes, the client puts it there when sending,
    /// and every description of the call keeps the slot.
    InPath(&'a str),
}

/// Where an [`Auth::InPath`] token goes in a call's URL.
pub const TOKEN_SLOT: &str = "{token}";

/// One request. Bodies may carry tokens (GitHub's revocation API, Slack's
/// auth.revoke form); they are never logged.
pub struct Call<'a> {
    pub method: Method,
    pub url: String,
    pub auth: Auth<'a>,
    pub accept: &'static str,
    /// Fixed, non-secret headers an API requires (an API version).
    pub headers: Vec<(&'static str, &'static str)>,
    pub body: Body<'a>,
}

pub enum Body<'a> {
    Empty,
    Json(Value),
    Form(Vec<(&'static str, &'a str)>),
}

impl<'a> Call<'a> {
    pub fn get(url: String, auth: Auth<'a>) -> Call<'a> {
        Call {
            method: Method::GET,
            url,
            auth,
            accept: "application/json",
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    pub fn new(method: Method, url: String, auth: Auth<'a>) -> Call<'a> {
        Call {
            method,
            ..Call::get(url, auth)
        }
    }

    pub fn accept(mut self, accept: &'static str) -> Call<'a> {
        self.accept = accept;
        self
    }

    pub fn body(mut self, body: Body<'a>) -> Call<'a> {
        self.body = body;
        self
    }

    /// Adds a fixed header. Names are lower-case constants; a token never
    /// travels here (see [`Auth`]).
    pub fn header(mut self, name: &'static str, value: &'static str) -> Call<'a> {
        self.headers.push((name, value));
        self
    }

    /// `METHOD URL`, for reports. URLs never hold a token: an
    /// [`Auth::InPath`] token is shown as its slot.
    pub fn describe(&self) -> String {
        format!("{} {}", self.method, self.url)
    }

    /// The URL to send: the described one, with an [`Auth::InPath`] token
    /// in its slot. The token must be made of bytes a path segment carries
    /// as they are, so that nothing else of the URL can change.
    fn target(&self) -> Result<String, Failure> {
        match self.auth {
            Auth::InPath(token) => {
                let plain = !token.is_empty()
                    && token
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
                if !plain || self.url.matches(TOKEN_SLOT).count() != 1 {
                    return Err(Failure::BadToken);
                }
                Ok(self.url.replace(TOKEN_SLOT, token))
            }
            _ => Ok(self.url.clone()),
        }
    }
}

/// An HTTP answer, whatever its status.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// `METHOD URL` of the request.
    pub endpoint: String,
}

impl Answer {
    /// A comma-separated header as a list (`X-OAuth-Scopes: repo, read:org`);
    /// empty when absent.
    pub fn list_header(&self, name: &str) -> Vec<String> {
        self.header(name)
            .map(|value| {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON, when it is JSON (an object or array) and not HTML.
    pub fn json(&self) -> Option<Value> {
        if self.is_html() {
            return None;
        }
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(value @ (Value::Object(_) | Value::Array(_))) => Some(value),
            _ => None,
        }
    }

    /// A sign-in page, a proxy's or a firewall's error page.
    pub fn is_html(&self) -> bool {
        let typed_html = self
            .header(CONTENT_TYPE.as_str())
            .is_some_and(|t| t.to_ascii_lowercase().contains("html"));
        let first = self.body.iter().find(|b| !b.is_ascii_whitespace());
        typed_html || first == Some(&b'<')
    }

    pub fn retry_after(&self) -> Option<Duration> {
        let value = self.header("retry-after")?.trim();
        value.parse::<u64>().ok().map(Duration::from_secs)
    }
}

/// An answer whose body is read as it arrives ([`Http::send_streaming`]). Read
/// errors are described in fixed words, as [`Failure`]s are.
pub struct Streaming {
    pub status: u16,
    pub headers: HeaderMap,
    /// `METHOD URL` of the request.
    pub endpoint: String,
    timeout: Duration,
    body: reqwest::blocking::Response,
}

impl Streaming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The size the server announced, if it did.
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")?.trim().parse().ok()
    }

    pub fn retry_after(&self) -> Option<Duration> {
        let value = self.header("retry-after")?.trim();
        value.parse::<u64>().ok().map(Duration::from_secs)
    }

    /// The body read whole, up to 1 MiB: an [`Answer`].
    pub fn into_answer(mut self) -> Result<Answer, Failure> {
        let mut body = Vec::new();
        (&mut self)
            .take(MAX_BODY)
            .read_to_end(&mut body)
            .map_err(|e| read_failure(&e, self.timeout))?;
        Ok(Answer {
            status: self.status,
            headers: self.headers,
            body,
            endpoint: self.endpoint,
        })
    }
}

impl Read for Streaming {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.body.read(buf).map_err(|e| {
            let failure = read_failure(&e, self.timeout);
            std::io::Error::new(e.kind(), failure.to_string())
        })
    }
}

/// A body's read error in fixed words (reqwest wraps its own error in the
/// io::Error; its text is never shown).
fn read_failure(e: &std::io::Error, timeout: Duration) -> Failure {
    if e.kind() == std::io::ErrorKind::TimedOut {
        return Failure::Timeout(timeout);
    }
    let timed_out = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
        .is_some_and(|r| r.is_timeout());
    if timed_out {
        Failure::Timeout(timeout)
    } else {
        Failure::Network
    }
}

/// Why no answer came. Described in fixed words: the underlying error text is
/// never shown, so nothing it might hold can leak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Timeout(Duration),
    Dns,
    /// The host's certificate does not chain to a trusted root: the
    /// handshake stopped before any request, so nothing was sent.
    UntrustedCertificate,
    Tls,
    Connect,
    Network,
    /// The host asked (`Retry-After`) not to be called for longer than
    /// patscan waits; the request was not sent.
    RateLimited(Duration),
    /// The token has bytes an HTTP header cannot carry.
    BadToken,
    BadUrl,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Timeout(d) => write!(f, "no answer within {}s (timeout)", d.as_secs_f64()),
            Failure::Dns => f.write_str("DNS lookup failed"),
            Failure::UntrustedCertificate => f.write_str(
                "the server's TLS certificate is not trusted (system store, or SSL_CERT_FILE when set); nothing was sent",
            ),
            Failure::Tls => f.write_str("TLS handshake failed"),
            Failure::Connect => f.write_str("could not connect"),
            Failure::Network => f.write_str("network error"),
            Failure::RateLimited(wait) => write!(
                f,
                "rate limited: the issuer asked for a pause of {}s (Retry-After); not sent",
                wait.as_secs()
            ),
            Failure::BadToken => f.write_str("the token cannot be sent in an HTTP header"),
            Failure::BadUrl => f.write_str("invalid endpoint URL"),
        }
    }
}

/// A client shared by all worker threads.
pub struct Http {
    client: Client,
    policy: Policy,
    limiter: RateLimiter,
}

impl Http {
    pub fn new(policy: Policy) -> Result<Http, NetError> {
        super::tls::ensure_provider();
        let mut builder = Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("patscan/", env!("CARGO_PKG_VERSION")));
        builder = if policy.loopback_emulator {
            builder.no_proxy()
        } else {
            // Official hosts are HTTPS constants; this makes it a property of
            // the client too.
            builder.https_only(true)
        };
        let client = builder
            .build()
            .map_err(|e| NetError::Client(e.to_string()))?;
        Ok(Http {
            client,
            limiter: RateLimiter::new(policy.rate_per_host),
            policy,
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Sends `call`, waiting for the host's rate limit; a 429 (or a 503 with
    /// `Retry-After`) is retried after the wait the server asked for, up to
    /// `retries` times and never longer than `max_retry_wait`. The body is
    /// read whole, up to 1 MiB.
    pub fn send(&self, call: &Call<'_>) -> Result<Answer, Failure> {
        self.send_streaming(call)?.into_answer()
    }

    /// [`Http::send`], with the body left to read as it arrives (a CI log
    /// of a gigabyte is scanned as it downloads, never held whole).
    pub fn send_streaming(&self, call: &Call<'_>) -> Result<Streaming, Failure> {
        let url = Url::parse(&call.target()?).map_err(|_| Failure::BadUrl)?;
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(0)
        );
        let mut attempt = 0;
        loop {
            // A host that asked for a long pause is not called again in this
            // run: waiting would stall every other check.
            self.limiter
                .acquire(&host, self.policy.max_retry_wait)
                .map_err(Failure::RateLimited)?;
            let answer = self.once(call, url.clone())?;
            let limited =
                answer.status == 429 || (answer.status == 503 && answer.retry_after().is_some());
            if !limited {
                return Ok(answer);
            }
            let wait = answer.retry_after().unwrap_or(DEFAULT_BACKOFF);
            self.limiter.defer(&host, Instant::now() + wait);
            if attempt >= self.policy.retries || wait > self.policy.max_retry_wait {
                return Ok(answer);
            }
            attempt += 1;
        }
    }

    fn once(&self, call: &Call<'_>, url: Url) -> Result<Streaming, Failure> {
        let mut headers = HeaderMap::new();
        for (name, value) in &call.headers {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        if let Some((name, value)) = auth_header(call.auth)? {
            headers.insert(name, value);
        }
        let mut request = self
            .client
            .request(call.method.clone(), url)
            .headers(headers)
            .header(reqwest::header::ACCEPT, call.accept);
        request = match &call.body {
            Body::Empty => request,
            Body::Json(value) => request.json(value),
            Body::Form(fields) => request.form(fields),
        };
        let response = request.send().map_err(|e| self.classify(&e))?;
        Ok(Streaming {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            endpoint: call.describe(),
            timeout: self.policy.timeout,
            body: response,
        })
    }

    fn classify(&self, error: &reqwest::Error) -> Failure {
        if error.is_timeout() {
            return Failure::Timeout(self.policy.timeout);
        }
        // The cause chain's texts are inspected, never shown.
        let mut chain = String::new();
        let mut source: Option<&dyn std::error::Error> = Some(error);
        while let Some(cause) = source {
            chain.push_str(&cause.to_string().to_ascii_lowercase());
            chain.push('\n');
            source = cause.source();
        }
        if chain.contains("timed out") {
            Failure::Timeout(self.policy.timeout)
        } else if chain.contains("dns error") || chain.contains("failed to lookup") {
            Failure::Dns
        } else if chain.contains("invalid peer certificate") {
            Failure::UntrustedCertificate
        } else if chain.contains("certificate")
            || chain.contains("tls")
            || chain.contains("handshake")
        {
            Failure::Tls
        } else if error.is_connect() {
            Failure::Connect
        } else {
            Failure::Network
        }
    }
}

fn auth_header(auth: Auth<'_>) -> Result<Option<(HeaderName, HeaderValue)>, Failure> {
    use base64::Engine as _;
    let (name, text) = match auth {
        Auth::None | Auth::InPath(_) => return Ok(None),
        Auth::Bearer(t) => (AUTHORIZATION, format!("Bearer {t}")),
        Auth::Token(t) => (AUTHORIZATION, format!("token {t}")),
        Auth::BasicPat(t) => (
            AUTHORIZATION,
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!(":{t}"))
            ),
        ),
        Auth::Header(name, t) => (HeaderName::from_static(name), t.to_string()),
        Auth::Raw(t) => (AUTHORIZATION, t.to_string()),
        Auth::Prefixed(prefix, t) => (AUTHORIZATION, format!("{prefix}{t}")),
        Auth::Basic(user, password) => (
            AUTHORIZATION,
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ),
        ),
    };
    let mut value = HeaderValue::from_str(&text).map_err(|_| Failure::BadToken)?;
    value.set_sensitive(true);
    Ok(Some((name, value)))
}

/// At most `rate` requests per second to each host, shared by all threads;
/// a server's `Retry-After` pushes the host's next slot back for everyone.
struct RateLimiter {
    interval: Duration,
    next: Mutex<HashMap<String, Instant>>,
}

impl RateLimiter {
    fn new(rate: f64) -> RateLimiter {
        let interval = if rate.is_finite() && rate > 0.0 {
            Duration::from_secs_f64(1.0 / rate)
        } else {
            Duration::ZERO
        };
        RateLimiter {
            interval,
            next: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for the host's next slot and takes it, unless that is more
    /// than `max_wait` away: then the wait is returned and nothing is taken.
    fn acquire(&self, host: &str, max_wait: Duration) -> Result<(), Duration> {
        let wait = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let slot = next.get(host).map_or(now, |&t| t.max(now));
            let wait = slot - now;
            if wait > max_wait {
                return Err(wait);
            }
            next.insert(host.to_string(), slot + self.interval);
            wait
        };
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        Ok(())
    }

    fn defer(&self, host: &str, until: Instant) {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let slot = next.entry(host.to_string()).or_insert(until);
        *slot = (*slot).max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_spaces_requests_to_one_host() {
        let limiter = RateLimiter::new(20.0);
        let max = Duration::from_secs(1);
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire("h:1", max).unwrap();
        }
        // Three slots at 0, 50 and 100 ms.
        assert!(start.elapsed() >= Duration::from_millis(95));
        let other = Instant::now();
        limiter.acquire("other:1", max).unwrap();
        assert!(other.elapsed() < Duration::from_millis(40));
    }

    #[test]
    fn a_long_retry_after_fails_fast_instead_of_stalling() {
        let limiter = RateLimiter::new(100.0);
        limiter.defer("h:1", Instant::now() + Duration::from_secs(3600));
        let start = Instant::now();
        let wait = limiter.acquire("h:1", Duration::from_secs(60)).unwrap_err();
        assert!(wait > Duration::from_secs(3500));
        assert!(start.elapsed() < Duration::from_millis(50));
        assert!(limiter.acquire("h:2", Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn auth_headers_are_sensitive() {
        let (_, value) = auth_header(Auth::Bearer("abc")).unwrap().unwrap();
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("abc"));
        let (_, basic) = auth_header(Auth::BasicPat("pat")).unwrap().unwrap();
        assert_eq!(basic.to_str().unwrap(), "Basic OnBhdA==");
        let (_, basic) = auth_header(Auth::Basic("api", "k")).unwrap().unwrap();
        assert_eq!(basic.to_str().unwrap(), "Basic YXBpOms=");
        assert!(basic.is_sensitive());
        let (_, bot) = auth_header(Auth::Prefixed("Bot ", "t")).unwrap().unwrap();
        assert_eq!(bot.to_str().unwrap(), "Bot t");
        assert!(bot.is_sensitive());
        assert!(auth_header(Auth::InPath("t")).unwrap().is_none());
    }

    #[test]
    fn a_path_token_is_sent_in_its_slot_and_never_described() {
        let call = Call::get(
            format!("https://api.example/bot{TOKEN_SLOT}/getMe"),
            Auth::InPath("123:AAx-y_z"),
        );
        assert_eq!(
            call.target().unwrap(),
            "https://api.example/bot123:AAx-y_z/getMe"
        );
        assert_eq!(call.describe(), "GET https://api.example/bot{token}/getMe");
        // Bytes that would change the URL's meaning are refused.
        for bad in ["a/b", "a?b", "a#b", "a%2f", "a b", ""] {
            let call = Call::get(format!("https://h/{TOKEN_SLOT}"), Auth::InPath(bad));
            assert_eq!(call.target(), Err(Failure::BadToken), "{bad}");
        }
        // So is a URL without exactly one slot.
        let call = Call::get("https://h/x".into(), Auth::InPath("t"));
        assert_eq!(call.target(), Err(Failure::BadToken));
    }
}
