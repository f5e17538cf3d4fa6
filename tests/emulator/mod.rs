//! An emulator of the issuers' APIs on 127.0.0.1, inside the test process.
//!
//! It answers the requests patscan's live checks and revocations make the
//! way the real services document (see token-formats.md §4 and §5), with a
//! behaviour chosen per token: active, revoked, expired, wrong scope, rate
//! limited, server error, slow, HTML. It records every connection and request
//! so tests can assert what was (not) sent.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use base64::Engine as _;

#[derive(Debug, Clone, PartialEq)]
pub enum Behaviour {
    Active,
    Revoked,
    Expired,
    /// Authenticates but lacks the scope for the endpoint.
    WrongScope,
    /// 429 with `Retry-After: secs` for the first `times` requests, then
    /// active.
    RateLimited {
        retry_after: u64,
        times: usize,
    },
    ServerError,
    /// Sleeps this long, then answers as active.
    Slow(Duration),
    /// 200 with an HTML sign-in page.
    Html,
    /// 403 with an HTML page, as a web application firewall answers.
    WafForbidden,
    /// Azure DevOps: refused by the profile endpoint (401), accepted by the
    /// named organisation only.
    OrgScoped(&'static str),
    /// 302 to another host (where a careless client would resend the token).
    Redirect(String),
}

#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub token: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Default)]
struct State {
    behaviours: HashMap<String, Behaviour>,
    seen: Vec<Seen>,
    served: HashMap<String, usize>,
    /// Tokens whose revocation fails with this HTTP status.
    revoke_failures: HashMap<String, u16>,
    /// The Azure DevOps organisation admin's credential.
    admin: Option<String>,
    /// Azure DevOps blast radius: per token, the organisations that accept
    /// it and the areas each lets it list (see [`Emulator::set_ado_reach`]).
    ado_reach: HashMap<String, Vec<(String, Vec<&'static str>)>>,
    /// The organisation whose users and PATs the audit fixture serves.
    audit_org: Option<String>,
    /// A credential that may read Graph but lacks Token Administration.
    unscoped_admin: Option<String>,
    /// Answer the next Graph users request with 429 and `Retry-After: 1`.
    audit_rate_limit_once: bool,
}

pub struct Emulator {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    connections: Arc<AtomicUsize>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

impl Emulator {
    pub fn start() -> Emulator {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let emulator = Emulator {
            addr,
            state: Arc::default(),
            connections: Arc::default(),
            in_flight: Arc::default(),
            max_in_flight: Arc::default(),
        };
        let state = emulator.state.clone();
        let connections = emulator.connections.clone();
        let in_flight = emulator.in_flight.clone();
        let max_in_flight = emulator.max_in_flight.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                connections.fetch_add(1, Ordering::SeqCst);
                let state = state.clone();
                let in_flight = in_flight.clone();
                let max_in_flight = max_in_flight.clone();
                thread::spawn(move || serve(stream, state, in_flight, max_in_flight));
            }
        });
        emulator
    }

    /// Sets how the emulator treats `token`. Unknown tokens are rejected.
    pub fn set(&self, token: &str, behaviour: Behaviour) {
        self.state
            .lock()
            .unwrap()
            .behaviours
            .insert(token.to_string(), behaviour);
    }

    /// Makes revoking `token` fail with `status`.
    pub fn fail_revocation(&self, token: &str, status: u16) {
        self.state
            .lock()
            .unwrap()
            .revoke_failures
            .insert(token.to_string(), status);
    }

    /// Accepts `token` as an Azure DevOps organisation admin's credential.
    pub fn set_admin(&self, token: &str) {
        self.state.lock().unwrap().admin = Some(token.to_string());
    }

    /// Azure DevOps: `token` is accepted by `org`, where it may list
    /// `areas` (`projects`, `code`, `build`, `release`, `packaging`,
    /// `work-items`, `service-connections`, `agent-pools`); every other
    /// area answers 401 (release 203 with a sign-in page, as VSRM does).
    /// Once set, organisations not named refuse the token, and the
    /// profile's accounts list the named ones.
    pub fn set_ado_reach(&self, token: &str, org: &str, areas: &[&'static str]) {
        self.state
            .lock()
            .unwrap()
            .ado_reach
            .entry(token.to_string())
            .or_default()
            .push((org.to_string(), areas.to_vec()));
    }

    /// Serves the PAT audit fixture (four users over three Graph pages,
    /// their PATs over Token Administration pages) for `org`.
    pub fn set_audit_org(&self, org: &str) {
        self.state.lock().unwrap().audit_org = Some(org.to_string());
    }

    /// `token` may read Graph but gets 403 from Token Administration.
    pub fn set_unscoped_admin(&self, token: &str) {
        self.state.lock().unwrap().unscoped_admin = Some(token.to_string());
    }

    /// The next Graph users request gets 429 with `Retry-After: 1`.
    pub fn rate_limit_audit_once(&self) {
        self.state.lock().unwrap().audit_rate_limit_once = true;
    }

    /// Requests to revocation endpoints (anything that changes state).
    pub fn revocation_requests(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| is_revocation(&s.method, &s.path))
            .collect()
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `PATSCAN_ENDPOINT_OVERRIDES` sending every provider here, so that
    /// no token a test plants can reach a real issuer.
    pub fn overrides(&self) -> String {
        patscan::model::Provider::ALL
            .iter()
            .map(|p| format!("{}={}", p.key(), self.url()))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Requests that carried `token` (in a header or the body).
    pub fn requests_with(&self, token: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.token.as_deref() == Some(token) || s.body.contains(token))
            .collect()
    }
}

fn serve(
    stream: TcpStream,
    state: Arc<Mutex<State>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut writer = stream;
    loop {
        let Some(seen) = read_request(&mut reader) else {
            return;
        };
        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        max_in_flight.fetch_max(now, Ordering::SeqCst);
        let revocation = {
            let mut state = state.lock().unwrap();
            audit(&seen, &mut state).or_else(|| revocation(&seen, &mut state))
        };
        if let Some(response) = revocation {
            state.lock().unwrap().seen.push(seen.clone());
            in_flight.fetch_sub(1, Ordering::SeqCst);
            let _ = writer.write_all(response.as_bytes());
            return;
        }
        let behaviour = {
            let mut state = state.lock().unwrap();
            state.seen.push(seen.clone());
            let token = seen.token.clone().unwrap_or_default();
            let served = state.served.entry(token.clone()).or_insert(0);
            *served += 1;
            let count = *served;
            state.behaviours.get(&token).cloned().map(|b| (b, count))
        };
        let area = ado_area(&seen, behaviour.as_ref(), &state.lock().unwrap());
        let response = area.unwrap_or_else(|| respond(&seen, behaviour));
        in_flight.fetch_sub(1, Ordering::SeqCst);
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
        let _ = writer.flush();
        if response.contains("Connection: close") {
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Seen> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let body = String::from_utf8_lossy(&body).into_owned();
    // Vercel's introspection carries the token in a form body only.
    let token = token_of(&headers).or_else(|| {
        body.strip_prefix("token=")
            .map(|t| t.split('&').next().unwrap_or_default().to_string())
    });
    Some(Seen {
        method,
        path,
        token,
        headers,
        body,
    })
}

fn token_of(headers: &[(String, String)]) -> Option<String> {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    for name in [
        "private-token",
        "x-shopify-access-token",
        "x-vault-token",
        "x-api-key",
    ] {
        if let Some(t) = get(name) {
            return Some(t);
        }
    }
    let auth = get("authorization")?;
    if let Some(t) = auth.strip_prefix("Bearer ") {
        return Some(t.to_string());
    }
    if let Some(t) = auth.strip_prefix("token ") {
        return Some(t.to_string());
    }
    if let Some(b) = auth.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(b).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        return text.strip_prefix(':').map(str::to_string);
    }
    // crates.io: the bare token.
    Some(auth)
}

/// An id the emulated issuer keeps for `token` (Cloudflare's token id:
/// 32 hex digits; Heroku's: a UUID).
pub fn token_id(token: &str) -> String {
    npm_key(token)[..32].to_string()
}

pub fn token_uuid(token: &str) -> String {
    let h = npm_key(token);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn http(status: u16, content_type: &str, extra: &[(&str, String)], body: &str) -> String {
    let reason = match status {
        200 => "OK",
        203 => "Non-Authoritative Information",
        401 => "Unauthorized",
        302 => "Found",
        403 => "Forbidden",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out
}

fn json(status: u16, body: &str) -> String {
    http(status, "application/json; charset=utf-8", &[], body)
}

const SIGN_IN_PAGE: &str =
    "<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in to continue</body></html>";

/// The answer for one request, by endpoint and the token's behaviour.
fn respond(seen: &Seen, behaviour: Option<(Behaviour, usize)>) -> String {
    let path = seen.path.split('?').next().unwrap_or("");
    // Cloudflare verifies account tokens under their account, alike.
    let path = if path.starts_with("/client/v4/accounts/") && path.ends_with("/tokens/verify") {
        "/client/v4/user/tokens/verify"
    } else {
        path
    };
    let token = seen.token.clone().unwrap_or_default();
    let Some((behaviour, count)) = behaviour else {
        return rejected(path);
    };
    match behaviour {
        Behaviour::RateLimited { retry_after, times } if count <= times => {
            return http(
                429,
                "application/json",
                &[("Retry-After", retry_after.to_string())],
                r#"{"message":"API rate limit exceeded"}"#,
            );
        }
        Behaviour::ServerError => return json(500, r#"{"message":"Server Error"}"#),
        Behaviour::Html => return http(200, "text/html; charset=utf-8", &[], SIGN_IN_PAGE),
        Behaviour::WafForbidden => {
            return http(
                403,
                "text/html",
                &[],
                "<html><body>Attention Required! | Cloudflare</body></html>",
            )
        }
        Behaviour::Redirect(to) => {
            return http(302, "text/plain", &[("Location", to)], "Found");
        }
        Behaviour::Slow(wait) => thread::sleep(wait),
        _ => {}
    }
    match behaviour {
        Behaviour::Revoked => revoked(path),
        Behaviour::Expired => expired(path),
        Behaviour::WrongScope => wrong_scope(path, &token),
        Behaviour::OrgScoped(org) => {
            if path == format!("/{org}/_apis/connectionData") {
                active(path, &token)
            } else {
                rejected(path)
            }
        }
        _ => active(path, &token),
    }
}

fn active(path: &str, token: &str) -> String {
    match path {
        "/user" => http(
            200,
            "application/json",
            &[
                ("X-OAuth-Scopes", "repo, read:org".into()),
                (
                    "github-authentication-token-expiration",
                    "2031-01-01 00:00:00 UTC".into(),
                ),
            ],
            r#"{"login":"octocat","id":1}"#,
        ),
        "/api/v4/personal_access_tokens/self" => json(
            200,
            r#"{"id":42,"name":"ci","revoked":false,"active":true,"scopes":["api","read_user"],"expires_at":"2031-01-01","user_id":7}"#,
        ),
        "/api/v4/user" => json(200, r#"{"id":7,"username":"gl-owner"}"#),
        "/-/whoami" => json(200, r#"{"username":"npm-owner"}"#),
        "/api/whoami-v2" => json(
            200,
            r#"{"type":"user","name":"hf-owner","orgs":[{"name":"acme-ml"}],"auth":{"type":"access_token","accessToken":{"displayName":"ci","role":"write"}}}"#,
        ),
        "/api/auth.test" => http(
            200,
            "application/json",
            &[("x-oauth-scopes", "chat:write,channels:read".into())],
            r#"{"ok":true,"url":"https://acme.slack.com/","team":"Acme","user":"slack-owner","team_id":"T1","user_id":"U1"}"#,
        ),
        "/_apis/profile/profiles/me" => json(
            200,
            r#"{"id":"0d1f3c3e-1111-2222-3333-444455556666","displayName":"Ada","emailAddress":"ada@contoso.example","publicAlias":"0d1f"}"#,
        ),
        "/api/org" => json(200, r#"{"id":1,"name":"Acme Ops","address":{}}"#),
        "/v2/user" => json(
            200,
            r#"{"user":{"id":"u_1","username":"vercel-owner","email":"v@acme.example"}}"#,
        ),
        "/login/oauth/userinfo" => json(200, r#"{"sub":"u_1","email":"vercel-app@acme.example"}"#),
        "/login/oauth/token/introspect" => json(200, r#"{"active":true,"sub":"vercel-app-user"}"#),
        "/client/v4/user/tokens/verify" => json(
            200,
            &format!(
                r#"{{"success":true,"errors":[],"messages":[],"result":{{"id":"{}","status":"active","expires_on":"2031-01-01T00:00:00Z"}}}}"#,
                token_id(token)
            ),
        ),
        "/v2/account" => json(
            200,
            r#"{"account":{"uuid":"d0","email":"do-owner@acme.example","status":"active","team":{"name":"Acme"}}}"#,
        ),
        "/api/0/organizations/" => json(
            200,
            r#"[{"slug":"acme","name":"Acme"},{"slug":"acme-labs","name":"Labs"}]"#,
        ),
        "/v1/account" => json(
            200,
            r#"{"id":"acct_1","object":"account","email":"billing@acme.example","settings":{"dashboard":{"display_name":"Acme Payments"}}}"#,
        ),
        "/v3/me" => json(
            200,
            r#"{"workplace":{"slug":"acme","name":"Acme Workplace"},"type":"personal","name":"doppler-owner","token_preview":"dp.pt.Zq…"}"#,
        ),
        "/admin/oauth/access_scopes.json" => json(
            200,
            r#"{"access_scopes":[{"handle":"read_products"},{"handle":"write_orders"}]}"#,
        ),
        "/v2/access-token" => json(
            200,
            r#"{"uuid":"b1","scopes":["read_builds","write_builds"],"user":{"name":"BK Owner","email":"bk-owner@acme.example"}}"#,
        ),
        "/account" => json(
            200,
            r#"{"id":"01234567-89ab-cdef-0123-456789abcdef","email":"heroku-owner@acme.example"}"#,
        ),
        "/v1/auth/token/lookup-self" => json(
            200,
            r#"{"data":{"display_name":"approle-ci","policies":["default","ci"],"expire_time":"2031-01-01T00:00:00Z"}}"#,
        ),
        "/me" => json(
            200,
            r#"{"user":{"id":1,"username":"postman-owner","email":"p@acme.example"}}"#,
        ),
        "/api/v1/me" => json(200, r#"{"user":{"id":1,"login":"crates-owner"}}"#),
        p if p.ends_with("/_apis/connectionData") => json(200, ADO_CONNECTION_DATA),
        _ => json(404, r#"{"message":"Not Found"}"#),
    }
}

/// How each service rejects a token it does not know (or that was revoked).
fn rejected(path: &str) -> String {
    match path {
        "/user" => json(
            401,
            r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}"#,
        ),
        "/api/v4/personal_access_tokens/self" | "/api/v4/user" => {
            json(401, r#"{"message":"401 Unauthorized"}"#)
        }
        "/-/whoami" => json(401, r#"{"error":"Unauthorized"}"#),
        "/api/whoami-v2" => json(
            401,
            r#"{"error":"Invalid credentials in Authorization header"}"#,
        ),
        "/api/auth.test" => json(200, r#"{"ok":false,"error":"invalid_auth"}"#),
        "/api/org" => json(401, r#"{"message":"Invalid API key"}"#),
        "/v2/user" => json(
            403,
            r#"{"error":{"code":"forbidden","message":"Not authorized","invalidToken":true}}"#,
        ),
        "/login/oauth/userinfo" => json(401, r#"{"error":"invalid_token"}"#),
        "/login/oauth/token/introspect" => json(200, r#"{"active":false}"#),
        "/client/v4/user/tokens/verify" => json(
            401,
            r#"{"success":false,"errors":[{"code":1000,"message":"Invalid API Token"}],"messages":[],"result":null}"#,
        ),
        "/v2/account" => json(
            401,
            r#"{"id":"Unauthorized","message":"Unable to authenticate you"}"#,
        ),
        "/api/0/organizations/" => json(401, r#"{"detail":"Invalid token"}"#),
        "/v1/account" => json(
            401,
            r#"{"error":{"message":"Invalid API Key provided: sk_live_****9f3a","type":"invalid_request_error"}}"#,
        ),
        "/v3/me" => json(
            401,
            r#"{"messages":["Invalid Auth token"],"success":false}"#,
        ),
        "/admin/oauth/access_scopes.json" => json(
            401,
            r#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#,
        ),
        "/v2/access-token" => json(
            401,
            r#"{"message":"Authentication required. Please supply a valid API Access Token"}"#,
        ),
        "/account" => json(
            401,
            r#"{"id":"unauthorized","message":"Invalid credentials provided."}"#,
        ),
        "/v1/auth/token/lookup-self" => json(
            403,
            r#"{"errors":["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"]}"#,
        ),
        "/me" => json(
            401,
            r#"{"error":{"name":"AuthenticationError","message":"Invalid API Key. Every request requires a valid API Key to be sent."}}"#,
        ),
        "/api/v1/me" => json(403, r#"{"errors":[{"detail":"authentication failed"}]}"#),
        _ => http(401, "text/plain", &[], "Unauthorized"),
    }
}

fn revoked(path: &str) -> String {
    match path {
        "/api/auth.test" => json(200, r#"{"ok":false,"error":"token_revoked"}"#),
        "/api/v4/personal_access_tokens/self" | "/api/v4/user" => json(
            401,
            r#"{"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."}"#,
        ),
        _ => rejected(path),
    }
}

fn expired(path: &str) -> String {
    match path {
        "/client/v4/user/tokens/verify" => json(
            200,
            r#"{"success":true,"errors":[],"messages":[],"result":{"id":"0","status":"expired"}}"#,
        ),
        "/api/auth.test" => json(200, r#"{"ok":false,"error":"token_expired"}"#),
        "/api/v4/personal_access_tokens/self" | "/api/v4/user" => json(
            401,
            r#"{"error":"invalid_token","error_description":"Token has expired."}"#,
        ),
        _ => rejected(path),
    }
}

fn wrong_scope(path: &str, token: &str) -> String {
    match path {
        "/user" => json(
            403,
            r#"{"message":"Resource not accessible by personal access token","documentation_url":"https://docs.github.com/rest/users/users#get-the-authenticated-user","status":"403"}"#,
        ),
        "/api/v4/personal_access_tokens/self" | "/api/v4/user" => json(
            403,
            r#"{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api read_api"}"#,
        ),
        // Azure DevOps: a PAT without vso.profile is refused by the profile
        // endpoint without a 401.
        "/_apis/profile/profiles/me" => json(
            403,
            r#"{"$id":"1","message":"VS30063: You are not authorized to access https://app.vssps.visualstudio.com.","typeKey":"UnauthorizedRequestException"}"#,
        ),
        "/api/0/organizations/" => json(
            403,
            r#"{"detail":"You do not have permission to perform this action."}"#,
        ),
        "/v1/account" => json(
            403,
            r#"{"error":{"type":"invalid_request_error","message":"The provided key does not have the required permissions for this endpoint."}}"#,
        ),
        "/v1/auth/token/lookup-self" => json(403, r#"{"errors":["permission denied"]}"#),
        "/api/v1/me" => json(
            403,
            r#"{"errors":[{"detail":"this token does not have the required permissions to perform this action"}]}"#,
        ),
        _ => active(path, token),
    }
}

/// Revocation endpoints and the admin listing (token-formats.md §5).
pub fn is_revocation(method: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or("");
    matches!(
        (method, path),
        ("POST", "/credentials/revoke")
            | ("DELETE", "/installation/token")
            | ("DELETE", "/api/v4/personal_access_tokens/self")
            | ("POST", "/api/auth.revoke")
            | ("GET", "/-/npm/v1/tokens")
            | ("POST", "/api/credentials/revoke")
            | ("DELETE", "/v3/user/tokens/current")
            | ("DELETE", "/v2/access-token")
            | ("POST", "/v3/auth/revoke")
            | ("DELETE", "/api/v1/tokens/current")
            | ("POST", "/v1/oauth/revoke")
            | ("GET", "/oauth/authorizations")
            | ("POST", "/v1/auth/token/revoke-self")
    ) || (method == "DELETE" && path.starts_with("/-/npm/v1/tokens/token/"))
        || (method == "DELETE" && path.starts_with("/client/v4/user/tokens/"))
        || (method == "DELETE" && path.starts_with("/oauth/tokens/"))
        || path.contains("/_apis/tokenadmin/")
}

/// npm's key of a token (a digest, as the registry lists it).
pub fn npm_key(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn live(state: &State, token: &str) -> bool {
    matches!(
        state.behaviours.get(token),
        Some(Behaviour::Active | Behaviour::WrongScope | Behaviour::OrgScoped(_))
    )
}

/// Answers a revocation request, or `None` for any other request. A
/// revoked token answers as `Revoked` from then on.
fn revocation(seen: &Seen, state: &mut State) -> Option<String> {
    let path = seen.path.split('?').next().unwrap_or("");
    if !is_revocation(&seen.method, path) {
        return None;
    }
    let token = seen.token.clone().unwrap_or_default();
    let failure = |state: &State, t: &str| state.revoke_failures.get(t).copied();
    let revoke = |state: &mut State, t: &str| {
        state.behaviours.insert(t.to_string(), Behaviour::Revoked);
    };
    Some(match (seen.method.as_str(), path) {
        ("POST", "/credentials/revoke") => {
            // Unauthenticated by design: "Any authenticated requests will return a 403".
            if seen.token.is_some() {
                return Some(json(403, r#"{"message":"Must not be authenticated"}"#));
            }
            let body: serde_json::Value = serde_json::from_str(&seen.body).unwrap_or_default();
            let creds: Vec<String> = body["credentials"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            if creds.is_empty() || creds.len() > 1000 {
                return Some(json(422, r#"{"message":"Validation Failed"}"#));
            }
            if let Some(status) = creds.iter().find_map(|c| failure(state, c)) {
                return Some(json(
                    status,
                    r#"{"message":"Validation Failed, or the endpoint has been spammed."}"#,
                ));
            }
            for c in &creds {
                revoke(state, c);
            }
            http(202, "application/json", &[], "{}")
        }
        ("DELETE", "/installation/token") | ("DELETE", "/api/v4/personal_access_tokens/self") => {
            if let Some(status) = failure(state, &token) {
                return Some(json(status, r#"{"message":"failed"}"#));
            }
            if !live(state, &token) {
                return Some(json(401, r#"{"message":"401 Unauthorized"}"#));
            }
            revoke(state, &token);
            http(204, "application/json", &[], "")
        }
        ("POST", "/api/auth.revoke") => {
            if let Some(status) = failure(state, &token) {
                return Some(if status == 200 {
                    json(200, r#"{"ok":false,"error":"not_allowed_token_type"}"#)
                } else {
                    json(status, r#"{"ok":false,"error":"fatal_error"}"#)
                });
            }
            if !live(state, &token) {
                return Some(json(200, r#"{"ok":false,"error":"invalid_auth"}"#));
            }
            revoke(state, &token);
            json(200, r#"{"ok":true,"revoked":true}"#)
        }
        ("GET", "/-/npm/v1/tokens") => {
            if !live(state, &token) {
                return Some(json(401, r#"{"error":"Unauthorized"}"#));
            }
            let head: String = token.chars().take(8).collect();
            let tail: String = token.chars().skip(token.len() - 4).collect();
            json(
                200,
                &format!(
                    r#"{{"objects":[{{"token":"npm_Zq9x…0000","key":"{}","readonly":true}},{{"token":"{head}…{tail}","key":"{}","readonly":false,"automation":true}}],"total":2,"urls":{{}}}}"#,
                    npm_key("decoy"),
                    npm_key(&token)
                ),
            )
        }
        ("DELETE", p) if p.starts_with("/-/npm/v1/tokens/token/") => {
            let key = p.trim_start_matches("/-/npm/v1/tokens/token/");
            if let Some(status) = failure(state, &token) {
                return Some(json(status, r#"{"error":"failed"}"#));
            }
            if !live(state, &token) || key != npm_key(&token) {
                return Some(json(404, r#"{"error":"Not found"}"#));
            }
            revoke(state, &token);
            http(204, "application/json", &[], "")
        }
        ("POST", "/api/credentials/revoke") => {
            // Hugging Face: unauthenticated, by value.
            if seen.token.is_some() {
                return Some(json(400, r#"{"error":"must not be authenticated"}"#));
            }
            let body: serde_json::Value = serde_json::from_str(&seen.body).unwrap_or_default();
            let creds: Vec<String> = body["credentials"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            if creds.is_empty() {
                return Some(json(400, r#"{"error":"no credentials"}"#));
            }
            if let Some(status) = creds.iter().find_map(|c| failure(state, c)) {
                return Some(json(status, r#"{"error":"failed"}"#));
            }
            for c in &creds {
                revoke(state, c);
            }
            http(202, "application/json", &[], "{}")
        }
        ("DELETE", "/v3/user/tokens/current")
        | ("DELETE", "/v2/access-token")
        | ("DELETE", "/api/v1/tokens/current")
        | ("POST", "/v1/auth/token/revoke-self")
        | ("POST", "/v3/auth/revoke")
        | ("POST", "/v1/oauth/revoke") => {
            if let Some(status) = failure(state, &token) {
                return Some(json(status, r#"{"message":"failed"}"#));
            }
            if !live(state, &token) {
                return Some(match path {
                    "/v3/user/tokens/current" => {
                        json(403, r#"{"error":{"code":"forbidden","invalidToken":true}}"#)
                    }
                    "/v1/auth/token/revoke-self" => {
                        json(403, r#"{"errors":["permission denied"]}"#)
                    }
                    "/api/v1/tokens/current" => {
                        json(403, r#"{"errors":[{"detail":"authentication failed"}]}"#)
                    }
                    _ => json(401, r#"{"message":"Unauthorized"}"#),
                });
            }
            // Doppler and DigitalOcean name the token in the body as well.
            if matches!(path, "/v3/auth/revoke" | "/v1/oauth/revoke") && !seen.body.contains(&token)
            {
                return Some(json(400, r#"{"message":"token missing from the body"}"#));
            }
            revoke(state, &token);
            match path {
                "/v3/user/tokens/current" => json(200, r#"{"tokenId":"t_1"}"#),
                "/v3/auth/revoke" => json(200, r#"{"success":true}"#),
                "/v1/oauth/revoke" => json(200, "{}"),
                _ => http(204, "application/json", &[], ""),
            }
        }
        ("DELETE", p) if p.starts_with("/client/v4/user/tokens/") => {
            let id = p.trim_start_matches("/client/v4/user/tokens/");
            if let Some(status) = failure(state, &token) {
                return Some(json(
                    status,
                    r#"{"success":false,"errors":[{"code":9109,"message":"Unauthorized to access requested resource"}]}"#,
                ));
            }
            if !live(state, &token) || id != token_id(&token) {
                return Some(json(
                    404,
                    r#"{"success":false,"errors":[{"code":1003,"message":"Not found"}]}"#,
                ));
            }
            revoke(state, &token);
            json(
                200,
                &format!(r#"{{"success":true,"result":{{"id":"{id}"}}}}"#),
            )
        }
        ("GET", "/oauth/authorizations") => {
            if !live(state, &token) {
                return Some(json(401, r#"{"id":"unauthorized"}"#));
            }
            json(
                200,
                &format!(
                    r#"[{{"id":"a0","access_token":{{"id":"{}","token":"decoy-token"}}}},{{"id":"a1","access_token":{{"id":"{}","token":"{token}"}}}}]"#,
                    token_uuid("decoy"),
                    token_uuid(&token)
                ),
            )
        }
        ("DELETE", p) if p.starts_with("/oauth/tokens/") => {
            let id = p.trim_start_matches("/oauth/tokens/");
            if let Some(status) = failure(state, &token) {
                return Some(json(status, r#"{"id":"failed"}"#));
            }
            if !live(state, &token) || id != token_uuid(&token) {
                return Some(json(404, r#"{"id":"not_found"}"#));
            }
            revoke(state, &token);
            json(200, &format!(r#"{{"id":"{id}"}}"#))
        }
        (method, p) if p.contains("/_apis/tokenadmin/") => {
            if state.admin.as_deref() != Some(token.as_str()) {
                return Some(http(401, "text/plain", &[], "Unauthorized"));
            }
            if method == "GET" && seen.path.contains("continuationToken=page%2B2") {
                json(
                    200,
                    r#"{"value":[{"authorizationId":"4f1c2d3e-aaaa-bbbb-cccc-000000000003","displayName":"deploy key","validTo":"2027-03-01T00:00:00Z","scope":"vso.packaging","isValid":true}],"continuationToken":""}"#,
                )
            } else if method == "GET" {
                // The first page, with a continuation token that needs
                // escaping in the query.
                json(
                    200,
                    r#"{"value":[{"authorizationId":"4f1c2d3e-aaaa-bbbb-cccc-000000000001","displayName":"ci pipeline","validTo":"2027-01-01T00:00:00Z","scope":"vso.code","isValid":true},{"authorizationId":"4f1c2d3e-aaaa-bbbb-cccc-000000000002","displayName":"old laptop","validTo":"2024-01-01T00:00:00Z","scope":"app_token","isValid":false}],"continuationToken":"page+2"}"#,
                )
            } else {
                http(204, "application/json", &[], "")
            }
        }
        _ => return None,
    })
}

const ADO_CONNECTION_DATA: &str = r#"{"authenticatedUser":{"id":"0d1f3c3e-1111-2222-3333-444455556666","descriptor":"Microsoft.IdentityModel.Claims.ClaimsIdentity;ada","providerDisplayName":"Ada","subjectDescriptor":"aad.MDAwMDAwMDAtYWRhLTAwMDA","properties":{"Account":{"$type":"System.String","$value":"ada@contoso.example"}}}}"#;

/// The first project every emulated organisation lists; per-project areas
/// are only served under it.
pub const ADO_PROJECT_ID: &str = "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c";

/// Each area's path after `/{org}`, whether it sits under a project, and
/// how many entries its list has.
const ADO_AREAS: &[(&str, &str, bool, usize)] = &[
    ("projects", "/_apis/projects", false, 2),
    ("code", "/_apis/git/repositories", false, 14),
    ("build", "/_apis/build/definitions", true, 3),
    ("release", "/_apis/release/definitions", true, 1),
    ("packaging", "/_apis/packaging/feeds", false, 2),
    ("work-items", "/_apis/wit/fields", false, 60),
    (
        "service-connections",
        "/_apis/serviceendpoint/endpoints",
        true,
        2,
    ),
    ("agent-pools", "/_apis/distributedtask/pools", false, 4),
];

/// Azure DevOps blast-radius answers: the profile's accounts, and
/// connectionData and the area lists per organisation. `None` for any
/// other request, or when the token's behaviour decides (rate limits,
/// unknown tokens), so [`respond`] answers.
fn ado_area(seen: &Seen, behaviour: Option<&(Behaviour, usize)>, state: &State) -> Option<String> {
    let path = seen.path.split('?').next().unwrap_or("");
    let token = seen.token.as_deref().unwrap_or("");
    let (behaviour, count) = behaviour?;
    match behaviour {
        Behaviour::RateLimited { times, .. } if count <= times => return None,
        Behaviour::Active | Behaviour::OrgScoped(_) | Behaviour::RateLimited { .. } => {}
        _ => return None,
    }
    let reach = state.ado_reach.get(token);
    if path == "/_apis/accounts" {
        let names: Vec<String> = match reach {
            Some(orgs) => orgs.iter().map(|(o, _)| o.clone()).collect(),
            None => vec!["contoso".to_string()],
        };
        let value: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                format!(
                    r#"{{"accountId":"00000000-0000-0000-0000-00000000000{i}","accountUri":"https://vssps.dev.azure.com/{n}/","accountName":"{n}"}}"#
                )
            })
            .collect();
        return Some(json(
            200,
            &format!(
                r#"{{"count":{},"value":[{}]}}"#,
                value.len(),
                value.join(",")
            ),
        ));
    }
    let (org, rest) = path.strip_prefix('/')?.split_once('/')?;
    let rest = format!("/{rest}");
    let accepted: Option<Vec<&str>> = match (reach, behaviour) {
        (Some(orgs), _) => orgs
            .iter()
            .find(|(o, _)| o == org)
            .map(|(_, areas)| areas.clone()),
        (None, Behaviour::OrgScoped(o)) if *o == org => {
            Some(ADO_AREAS.iter().map(|a| a.0).collect())
        }
        (None, Behaviour::OrgScoped(_)) => None,
        (None, _) => Some(ADO_AREAS.iter().map(|a| a.0).collect()),
    };
    if rest == "/_apis/connectionData" {
        // Without a reach set, connectionData answers as before.
        reach?;
        return Some(match accepted {
            Some(_) => json(200, ADO_CONNECTION_DATA),
            None => http(401, "text/plain", &[], "Unauthorized"),
        });
    }
    let (area, _, _, count) = ADO_AREAS.iter().find(|(_, suffix, in_project, _)| {
        if *in_project {
            rest == format!("/{ADO_PROJECT_ID}{suffix}")
        } else {
            rest == *suffix
        }
    })?;
    let Some(areas) = accepted else {
        return Some(http(401, "text/plain", &[], "Unauthorized"));
    };
    if !areas.contains(area) {
        return Some(if *area == "release" {
            http(203, "text/html; charset=utf-8", &[], SIGN_IN_PAGE)
        } else {
            json(
                401,
                r#"{"$id":"1","message":"TF400813: The user is not authorized to access this resource.","typeKey":"UnauthorizedRequestException"}"#,
            )
        });
    }
    let items: Vec<String> = (0..*count)
        .map(|i| match (*area, i) {
            ("projects", 0) => format!(r#"{{"id":"{ADO_PROJECT_ID}","name":"web"}}"#),
            _ => format!(r#"{{"id":"{i}","name":"{area}-{i}"}}"#),
        })
        .collect();
    Some(json(
        200,
        &format!(r#"{{"count":{count},"value":[{}]}}"#, items.join(",")),
    ))
}

/// A date `days` from today, as Azure DevOps writes them.
fn ado_date(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    format!(
        "{}.000Z",
        patscan::civil_time::utc_timestamp(now + days * 86_400)
    )
}

/// The audit fixture's users: (descriptor, principal name, deleted in
/// the identity provider), over three Graph pages.
pub const AUDIT_USERS: &[(&str, &str, bool)] = &[
    ("aad.YWRh", "ada@contoso.example", false),
    ("aad.Ym9i", "bob@contoso.example", false),
    ("aad.Y2Fyb2w", "carol@contoso.example", true),
    ("aad.ZGFu", "dan@contoso.example", false),
];

/// The continuation token of the second Graph page: it needs escaping.
pub const AUDIT_PAGE_2: &str = "p2+x/y=";

fn audit_user(index: usize) -> String {
    let (descriptor, name, deleted) = AUDIT_USERS[index];
    format!(
        r#"{{"subjectKind":"user","domain":"contoso.example","principalName":"{name}","mailAddress":"{name}","origin":"aad","originId":"{index}","displayName":"{name}","descriptor":"{descriptor}","isDeletedInOrigin":{deleted},"url":"https://vssps.dev.azure.com/x/_apis/Graph/Users/{descriptor}"}}"#
    )
}

fn audit_pat(
    id: &str,
    name: &str,
    scope: &str,
    from: i64,
    to: i64,
    global: bool,
    valid: bool,
) -> String {
    let targets = if global {
        "null".to_string()
    } else {
        r#"["5f4e9a8b-0000-0000-0000-00000000f00d"]"#.to_string()
    };
    format!(
        r#"{{"clientId":"00000000-0000-0000-0000-000000000000","accessId":"{id}-access","authorizationId":"{id}","hostAuthorizationId":"00000000-0000-0000-0000-000000000000","userId":"u","validFrom":"{}","validTo":"{}","displayName":"{name}","scope":"{scope}","targetAccounts":{targets},"isValid":{valid},"isPublic":false}}"#,
        ado_date(from),
        ado_date(to)
    )
}

/// The Graph users and Token Administration answers of the audit fixture.
fn audit(seen: &Seen, state: &mut State) -> Option<String> {
    let org = state.audit_org.clone()?;
    let path = seen.path.split('?').next().unwrap_or("");
    let graph = format!("/{org}/_apis/graph/users");
    let tokens = format!("/{org}/_apis/tokenadmin/personalaccesstokens/");
    if seen.method != "GET" || (path != graph && !path.starts_with(&tokens)) {
        return None;
    }
    let url = reqwest::Url::parse(&format!("http://emulator{}", seen.path)).ok()?;
    let continuation = url
        .query_pairs()
        .find(|(k, _)| k == "continuationToken")
        .map(|(_, v)| v.into_owned());
    let credential = seen.token.clone().unwrap_or_default();
    if path == graph && state.audit_rate_limit_once {
        state.audit_rate_limit_once = false;
        return Some(http(
            429,
            "application/json",
            &[("Retry-After", "1".into())],
            r#"{"message":"TF400733: The request has been throttled."}"#,
        ));
    }
    let unscoped = state.unscoped_admin.as_deref() == Some(credential.as_str());
    if !unscoped && state.admin.as_deref() != Some(credential.as_str()) {
        return Some(http(401, "text/plain", &[], "Unauthorized"));
    }
    if path == graph {
        let (users, next) = match continuation.as_deref() {
            None => (vec![audit_user(0), audit_user(1)], Some(AUDIT_PAGE_2)),
            Some(AUDIT_PAGE_2) => (vec![audit_user(2)], Some("p3")),
            Some("p3") => (vec![audit_user(3)], None),
            Some(_) => return Some(json(400, r#"{"message":"bad continuation token"}"#)),
        };
        let extra: Vec<(&str, String)> = next
            .map(|n| vec![("X-MS-ContinuationToken", n.to_string())])
            .unwrap_or_default();
        return Some(http(
            200,
            "application/json; charset=utf-8",
            &extra,
            &format!(
                r#"{{"count":{},"value":[{}]}}"#,
                users.len(),
                users.join(",")
            ),
        ));
    }
    if unscoped {
        return Some(json(
            403,
            r#"{"$id":"1","message":"VS403358: Access denied. You need Token Administration permission.","typeKey":"UnauthorizedRequestException"}"#,
        ));
    }
    let subject = path.trim_start_matches(&tokens);
    let (pats, next): (Vec<String>, Option<&str>) = match (subject, continuation.as_deref()) {
        ("aad.YWRh", None) => (
            vec![audit_pat(
                "4f1c2d3e-aaaa-bbbb-cccc-0000000000a1",
                "ci pipeline",
                "vso.code_write vso.build_execute",
                -10,
                20,
                false,
                true,
            )],
            Some("ada page 2"),
        ),
        ("aad.YWRh", Some("ada page 2")) => (
            vec![
                audit_pat(
                    "4f1c2d3e-aaaa-bbbb-cccc-0000000000a2",
                    "old laptop",
                    "app_token",
                    -30,
                    400,
                    true,
                    true,
                ),
                audit_pat(
                    "4f1c2d3e-aaaa-bbbb-cccc-0000000000a3",
                    "revoked",
                    "vso.code",
                    -30,
                    30,
                    false,
                    false,
                ),
            ],
            None,
        ),
        ("aad.Y2Fyb2w", None) => (
            vec![audit_pat(
                "4f1c2d3e-aaaa-bbbb-cccc-0000000000c1",
                "deploy",
                "vso.packaging",
                -5,
                25,
                false,
                true,
            )],
            None,
        ),
        ("aad.ZGFu", None) => (
            vec![audit_pat(
                "4f1c2d3e-aaaa-bbbb-cccc-0000000000d1",
                "reports",
                "vso.work",
                -100,
                10,
                false,
                true,
            )],
            None,
        ),
        ("aad.Ym9i", None) => (Vec::new(), None),
        _ => return Some(json(404, r#"{"message":"user not found"}"#)),
    };
    let next = next
        .map(|n| format!(r#""{n}""#))
        .unwrap_or_else(|| "null".to_string());
    Some(json(
        200,
        &format!(
            r#"{{"value":[{}],"continuationToken":{next}}}"#,
            pats.join(",")
        ),
    ))
}
