//! DigitalOcean: `GET /v2/account` with the token as Bearer. 200 with an
//! `account` is active (owner: its e-mail), 401 inactive. Refresh tokens
//! cannot call the API and are not checked.

use super::revoke::Attempt;
use super::support::{self, text};
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Body, Call, Http};

/// The official API host; it also stands for the provider in
/// `PATSCAN_ENDPOINT_OVERRIDES`.
pub const BASE: &str = "https://api.digitalocean.com";
/// The official OAuth host, where tokens are revoked.
pub const OAUTH_BASE: &str = "https://cloud.digitalocean.com";

pub fn accepts(rule_id: &str, token: &str) -> bool {
    let prefix = match rule_id {
        "digitalocean-pat" => "dop_v1_",
        "digitalocean-oauth-token" => "doo_v1_",
        _ => return false,
    };
    support::shaped(token, prefix, 64..=64, support::lower_hex)
}

pub fn verify(http: &Http, base: &str, token: &str) -> Verification {
    let call = Call::get(format!("{base}/v2/account"), Auth::Bearer(token));
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Digitalocean, &call.describe()),
    };
    match (answer.status, answer.json()) {
        (200, Some(body)) if body["account"].is_object() => {
            let mut v = answer.verification(Status::Active, Provider::Digitalocean);
            v.owner = text(&body, &["account", "email"]);
            v.organisation = text(&body, &["account", "team", "name"]);
            v
        }
        (401, _) => support::rejected(&answer, Provider::Digitalocean, "DigitalOcean"),
        _ => answer.unexpected(Provider::Digitalocean),
    }
}

/// Where revocations go: the OAuth host, or under a test override the
/// emulator that stands for both hosts.
pub fn oauth_base(base: &str) -> &str {
    if base == BASE {
        OAUTH_BASE
    } else {
        base
    }
}

/// `POST https://cloud.digitalocean.com/v1/oauth/revoke` with `token=…`,
/// authenticated by the token itself: 200.
pub fn revoke(http: &Http, base: &str, token: &str) -> Attempt {
    let oauth = oauth_base(base);
    let call = Call::new(
        reqwest::Method::POST,
        format!("{oauth}/v1/oauth/revoke"),
        Auth::Bearer(token),
    )
    .body(Body::Form(vec![("token", token)]));
    Attempt::from_answer(http.send(&call), &call, |answer| match answer.status {
        200 | 204 => Ok(format!("revoked itself ({})", answer.status)),
        401 => Err("DigitalOcean rejected the token (401): already revoked or expired".into()),
        _ => Err(answer
            .unexpected(Provider::Digitalocean)
            .reason
            .unwrap_or_default()),
    })
}
