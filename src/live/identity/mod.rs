//! Identity checks from a table: the issuers whose token is checked by one
//! documented, read-only "who am I" call, each described as data
//! ([`ISSUERS`]) and read by one engine, instead of a module per issuer.
//!
//! An entry says which built-in rules it accepts and what shape the token
//! must have, the issuer's official HTTPS base (a Rust constant: never from
//! a rule, a config or a scanned file), the call (method, path, how the
//! token travels, fixed headers), which answers mean `active` or
//! `inactive`, and where the answer names the owner. The policy of
//! [`super`] holds unchanged: only an answer an entry lists as the issuer's
//! rejection is `inactive`; anything else (429, 5xx, HTML, a status or body
//! the entry does not list) is `unknown` with a fixed reason, and nothing
//! of the token is ever part of a reason.
//!
//! Some issuers run the same API on several hosts (regions, a sandbox): a
//! token is asked at each in turn until one accepts it, and is `inactive`
//! only when every one rejected it. Mailchimp's host carries the data
//! centre its key names (`…-us6`), one DNS label under the fixed domain;
//! DeepL's host depends on whether the key is a free one (`:fx`).

mod table;

use serde_json::Value;

pub use table::ISSUERS;

use super::support::{self, AnswerVerdict as _, FailureVerdict as _};
use crate::model::{Provider, Status, Verification};
use crate::net::{Answer as Reply, Auth, Body, Call, Http};

/// Whether a token has the shape of its rule's issuer: checked before
/// anything is sent.
pub type Shape = fn(&str) -> bool;

/// One issuer checked by an identity call.
pub struct Issuer {
    pub provider: Provider,
    /// The issuer's name, as reasons and the documentation say it.
    pub name: &'static str,
    /// Built-in rule ids and the shape a token of each must have before it
    /// is sent anywhere.
    pub rules: &'static [(&'static str, Shape)],
    pub site: Site,
    /// The issuer's own domains: every official host is one of them or
    /// under one (checked by a test).
    pub domains: &'static [&'static str],
    pub request: Request,
    /// How answers read, first match wins; anything else is `unknown`.
    pub answers: &'static [Answer],
    /// Where an active answer names the token's owner, organisation,
    /// scopes or expiry; for each field the first one present wins.
    pub shows: &'static [Shown],
    /// The issuer's documentation of the call.
    pub docs: &'static str,
}

/// Where an issuer's API is.
pub enum Site {
    /// One official base URL.
    One(&'static str),
    /// The same API at each of these bases (regions, a sandbox); the token
    /// works at one of them.
    AnyOf(&'static [&'static str]),
    /// `https://LABEL.HOST` for the base `https://HOST`, the label taken
    /// from the token itself and checked to be one DNS label; `what` says
    /// where it comes from.
    Label {
        base: &'static str,
        label: fn(&str) -> Option<&str>,
        what: &'static str,
    },
    /// One of `bases`, chosen by the token's shape; `what` says how.
    ByToken {
        bases: &'static [&'static str],
        pick: fn(&str) -> usize,
        what: &'static str,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
}

/// The identity call.
pub struct Request {
    pub verb: Verb,
    /// Path (and fixed query) after the base; holds
    /// [`crate::net::TOKEN_SLOT`] when the token travels in the path.
    pub path: &'static str,
    pub send: Send,
    pub accept: &'static str,
    /// Fixed headers the API requires, lower-case names.
    pub headers: &'static [(&'static str, &'static str)],
    /// A fixed JSON body (a GraphQL query), when the call is a POST.
    pub body: Option<&'static str>,
}

/// How the token travels.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Send {
    /// `Authorization: Bearer T`.
    Bearer,
    /// `Authorization: T`.
    Raw,
    /// `Authorization: PREFIX` then the token (`token `, `Bot `, …).
    Prefixed(&'static str),
    /// A header of its own (lower-case name).
    Header(&'static str),
    /// Basic, the token as the user name and no password.
    BasicUser,
    /// Basic, the token as the password of this fixed user name.
    BasicPassword(&'static str),
    /// In the URL path, at the slot (Telegram).
    InPath,
}

/// One way an answer can read.
pub struct Answer {
    pub status: u16,
    pub when: When,
    pub means: Means,
}

/// What the body of an answer must hold. An HTML page never matches.
#[derive(Clone, Copy)]
pub enum When {
    /// Anything but HTML.
    Any,
    /// Any JSON object or array.
    Json,
    /// JSON with a value (not null) at this pointer.
    Has(&'static str),
    /// JSON with this value at this pointer.
    Is(&'static str, Val),
}

#[derive(Clone, Copy)]
pub enum Val {
    Str(&'static str),
    Prefix(&'static str),
    Bool(bool),
    Int(i64),
}

#[derive(Clone, Copy)]
pub enum Means {
    /// The token works.
    Active,
    /// The token authenticated but may not make this call (the issuer's
    /// words): it works, so it is active.
    Denied(&'static str),
    /// The issuer's rejection (its words, empty when the status says it
    /// all): revoked, expired or never valid.
    Inactive(&'static str),
}

/// A field of the verification and where an active answer holds it.
#[derive(Clone, Copy)]
pub struct Shown(pub Field, pub Source);

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Owner,
    Organisation,
    Scopes,
    Expires,
}

#[derive(Clone, Copy)]
pub enum Source {
    /// A JSON pointer into the body.
    Json(&'static str),
    /// A response header.
    Header(&'static str),
}

/// The table's entry for `provider`, if it is one of the table's.
pub fn issuer(provider: Provider) -> Option<&'static Issuer> {
    ISSUERS.iter().find(|i| i.provider == provider)
}

/// The table's issuer that checks this built-in rule, when the token has
/// that rule's shape.
pub fn provider_for(rule_id: &str, token: &str) -> Option<Provider> {
    ISSUERS.iter().find_map(|issuer| {
        issuer
            .rules
            .iter()
            .any(|(id, shape)| *id == rule_id && shape(token))
            .then_some(issuer.provider)
    })
}

impl Issuer {
    /// The base that stands for the issuer (in `PATSCAN_ENDPOINT_OVERRIDES`
    /// and [`super::endpoints::official_base`]).
    pub fn base(&self) -> &'static str {
        match self.site {
            Site::One(base) | Site::Label { base, .. } => base,
            Site::AnyOf(bases) | Site::ByToken { bases, .. } => {
                bases.first().copied().unwrap_or("")
            }
        }
    }

    /// Every official base the table can produce (a label aside).
    pub fn official_bases(&self) -> Vec<&'static str> {
        match self.site {
            Site::One(base) | Site::Label { base, .. } => vec![base],
            Site::AnyOf(bases) | Site::ByToken { bases, .. } => bases.to_vec(),
        }
    }

    /// The bases to ask for `token`, in order, or `None` when the token
    /// does not name a usable label. `base` is what the endpoints say for
    /// the provider: its official base, or a loopback override, under which
    /// `https://HOST` becomes `OVERRIDE/HOST` so a test emulator sees which
    /// host patscan would have called.
    pub fn bases(&self, token: &str, base: &str) -> Option<Vec<String>> {
        let official: Vec<String> = match self.site {
            Site::One(b) => vec![b.to_string()],
            Site::AnyOf(bases) => bases.iter().map(|b| b.to_string()).collect(),
            Site::ByToken { bases, pick, .. } => vec![bases.get(pick(token))?.to_string()],
            Site::Label { base: b, label, .. } => {
                let label = label(token).filter(|l| crate::detect::context::is_label(l))?;
                let host = b.strip_prefix("https://")?;
                vec![format!("https://{label}.{host}")]
            }
        };
        if base == self.base() {
            return Some(official);
        }
        Some(
            official
                .iter()
                .map(|o| format!("{base}/{}", o.trim_start_matches("https://")))
                .collect(),
        )
    }
}

/// Checks `token` with its issuer: at each base in turn until one accepts
/// it; inactive only when every base rejected it.
pub fn verify(http: &Http, base: &str, provider: Provider, token: &str) -> Verification {
    let Some(issuer) = issuer(provider) else {
        return Verification::unknown(provider, "patscan has no identity call for this issuer");
    };
    let Some(bases) = issuer.bases(token, base) else {
        return Verification::unknown(
            provider,
            format!(
                "the token does not name a usable {} host ({})",
                issuer.name,
                match issuer.site {
                    Site::Label { what, .. } | Site::ByToken { what, .. } => what,
                    _ => "",
                }
            ),
        );
    };
    let several = bases.len() > 1;
    let mut results = Vec::new();
    for base in &bases {
        let v = ask(http, issuer, base, token);
        let active = v.status == Status::Active;
        results.push(v);
        if active {
            break;
        }
    }
    let all_rejected = results.iter().all(|v| v.status == Status::Inactive);
    let mut v = support::combine(results)
        .unwrap_or_else(|| Verification::unknown(provider, "no host answered"));
    if several && all_rejected {
        if let Some(reason) = &mut v.reason {
            reason.push_str(&format!(
                "; every one of its {} hosts rejected it",
                bases.len()
            ));
        }
    }
    v
}

/// One call at one base, read by the entry's answers.
fn ask(http: &Http, issuer: &Issuer, base: &str, token: &str) -> Verification {
    let provider = issuer.provider;
    let r = &issuer.request;
    let auth = match r.send {
        Send::Bearer => Auth::Bearer(token),
        Send::Raw => Auth::Raw(token),
        Send::Prefixed(prefix) => Auth::Prefixed(prefix, token),
        Send::Header(name) => Auth::Header(name, token),
        Send::BasicUser => Auth::Basic(token, ""),
        Send::BasicPassword(user) => Auth::Basic(user, token),
        Send::InPath => Auth::InPath(token),
    };
    let method = match r.verb {
        Verb::Get => reqwest::Method::GET,
        Verb::Post => reqwest::Method::POST,
    };
    let mut call = Call::new(method, format!("{base}{}", r.path), auth).accept(r.accept);
    for &(name, value) in r.headers {
        call = call.header(name, value);
    }
    if let Some(body) = r.body {
        match serde_json::from_str(body) {
            Ok(json) => call = call.body(Body::Json(json)),
            // The table's bodies are constants a test parses.
            Err(_) => return Verification::unknown(provider, "the request body does not parse"),
        }
    }
    let reply = match http.send(&call) {
        Ok(reply) => reply,
        Err(failure) => return failure.verification(provider, &call.describe()),
    };
    read(issuer, &reply)
}

/// The verification an answer means, by the entry's list.
fn read(issuer: &Issuer, reply: &Reply) -> Verification {
    let provider = issuer.provider;
    let json = reply.json();
    let Some(answer) = issuer
        .answers
        .iter()
        .find(|a| a.status == reply.status && holds(a.when, reply, json.as_ref()))
    else {
        return reply.unexpected(provider);
    };
    let status = reply.status;
    match answer.means {
        Means::Active => {
            let mut v = reply.verification(Status::Active, provider);
            fill(&mut v, issuer.shows, reply, json.as_ref());
            v
        }
        Means::Denied(said) => {
            let mut v = reply
                .verification(Status::Active, provider)
                .with_reason(format!(
                    "authenticates, but may not make this call (HTTP {status}{})",
                    words(said)
                ));
            fill(&mut v, issuer.shows, reply, json.as_ref());
            v
        }
        Means::Inactive(said) => {
            reply
                .verification(Status::Inactive, provider)
                .with_reason(format!(
                    "rejected by {} (HTTP {status}{}): revoked, expired or never valid",
                    issuer.name,
                    words(said)
                ))
        }
    }
}

fn words(said: &str) -> String {
    if said.is_empty() {
        String::new()
    } else {
        format!(" {said}")
    }
}

fn holds(when: When, reply: &Reply, json: Option<&Value>) -> bool {
    if reply.is_html() {
        return false;
    }
    match when {
        When::Any => true,
        When::Json => json.is_some(),
        When::Has(pointer) => json
            .and_then(|j| j.pointer(pointer))
            .is_some_and(|v| !v.is_null()),
        When::Is(pointer, want) => {
            json.and_then(|j| j.pointer(pointer))
                .is_some_and(|v| match want {
                    Val::Str(s) => v.as_str() == Some(s),
                    Val::Prefix(p) => v.as_str().is_some_and(|s| s.starts_with(p)),
                    Val::Bool(b) => v.as_bool() == Some(b),
                    Val::Int(i) => v.as_i64() == Some(i),
                })
        }
    }
}

/// Fills the verification's owner, organisation, scopes and expiry from
/// the answer, as the entry's `shows` say.
fn fill(v: &mut Verification, shows: &[Shown], reply: &Reply, json: Option<&Value>) {
    for Shown(field, from) in shows {
        let found: Option<Value> = match from {
            Source::Json(pointer) => json.and_then(|j| j.pointer(pointer)).cloned(),
            Source::Header(name) => reply.header(name).map(|h| Value::String(h.to_string())),
        };
        let Some(found) = found else { continue };
        match field {
            Field::Scopes if v.scopes.is_empty() => v.scopes = scopes(&found),
            Field::Owner if v.owner.is_none() => v.owner = text(&found),
            Field::Organisation if v.organisation.is_none() => v.organisation = text(&found),
            Field::Expires if v.expires_at.is_none() => v.expires_at = text(&found),
            _ => {}
        }
    }
}

/// A string or a number as text; nothing for empty strings and others.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Scopes as an array of strings, or one string separated by spaces or
/// commas.
fn scopes(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => s
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        other => support::strings(other),
    }
}

/// The Markdown table of every identity check, as `docs/live.md` shows it
/// (a test keeps the two equal).
pub fn markdown_table() -> String {
    let mut md = String::from(
        "| Provider | Rules | Request (official host, HTTPS) | active | inactive |\n\
         |---|---|---|---|---|\n",
    );
    for issuer in ISSUERS {
        let rules: Vec<String> = issuer
            .rules
            .iter()
            .map(|(id, _)| format!("`{id}`"))
            .collect();
        let active: Vec<String> = issuer
            .answers
            .iter()
            .filter(|a| !matches!(a.means, Means::Inactive(_)))
            .map(describe_answer)
            .collect();
        let inactive: Vec<String> = issuer
            .answers
            .iter()
            .filter(|a| matches!(a.means, Means::Inactive(_)))
            .map(describe_answer)
            .collect();
        md.push_str(&format!(
            "| [{}]({}) | {} | {} | {} | {} |\n",
            issuer.name,
            issuer.docs,
            rules.join(", "),
            describe_request(issuer),
            active.join("; "),
            inactive.join("; "),
        ));
    }
    md
}

fn describe_request(issuer: &Issuer) -> String {
    let r = &issuer.request;
    let verb = match r.verb {
        Verb::Get => "GET",
        Verb::Post => "POST",
    };
    let host = |base: &str| base.trim_start_matches("https://").to_string();
    let (first, note) = match issuer.site {
        Site::One(base) => (host(base), String::new()),
        Site::AnyOf(bases) => (
            host(bases[0]),
            format!(
                "; then {} until one accepts it",
                bases[1..]
                    .iter()
                    .map(|b| format!("`{}`", host(b)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Site::Label { base, what, .. } => (
            format!("LABEL.{}", host(base)),
            format!("; LABEL is {what}"),
        ),
        Site::ByToken { bases, what, .. } => (
            host(bases[0]),
            format!(
                "; {what}: {}",
                bases
                    .iter()
                    .map(|b| format!("`{}`", host(b)))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ),
    };
    let send = match r.send {
        Send::Bearer => "Bearer".to_string(),
        Send::Raw => "`Authorization: TOKEN`".to_string(),
        Send::Prefixed(p) => format!("`Authorization: {p}TOKEN`"),
        Send::Header(h) => format!("`{h}`"),
        Send::BasicUser => "Basic `TOKEN:`".to_string(),
        Send::BasicPassword(u) => format!("Basic `{u}:TOKEN`"),
        Send::InPath => "the token in the path".to_string(),
    };
    let mut extra = String::new();
    for (name, value) in r.headers {
        extra.push_str(&format!(", `{name}: {value}`"));
    }
    if let Some(body) = r.body {
        extra.push_str(&format!(", body `{body}`"));
    }
    format!("`{verb} {first}{}`, {send}{extra}{note}", r.path)
}

fn describe_answer(answer: &Answer) -> String {
    let body = match answer.when {
        When::Any => String::new(),
        When::Json => " (JSON)".to_string(),
        When::Has(p) => format!(" with `{p}`"),
        When::Is(p, Val::Str(s)) => format!(" with `{p}` = `{s}`"),
        When::Is(p, Val::Prefix(s)) => format!(" with `{p}` starting `{s}`"),
        When::Is(p, Val::Bool(b)) => format!(" with `{p}` = `{b}`"),
        When::Is(p, Val::Int(i)) => format!(" with `{p}` = `{i}`"),
    };
    let note = match answer.means {
        Means::Denied(_) => " (authenticates, may not make the call)",
        _ => "",
    };
    format!("{}{body}{note}", answer.status)
}

#[cfg(test)]
mod tests;
