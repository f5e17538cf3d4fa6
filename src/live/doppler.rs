//! Doppler: `GET /v3/me` with the token as Bearer. 200 describing the token
//! (its `type`, workplace) is active; 401 inactive. The answer's
//! `token_preview` is never reported.

use serde_json::json;

use super::revoke::Attempt;
use super::support::{self, text};
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Body, Call, Http};

/// The official API host.
pub const BASE: &str = "https://api.doppler.com";

const KINDS: &[&str] = &["pt", "ct", "sa", "scim", "audit"];

pub fn accepts(rule_id: &str, token: &str) -> bool {
    if rule_id != "doppler-token" {
        return false;
    }
    let Some(rest) = token.strip_prefix("dp.") else {
        return false;
    };
    let parts: Vec<&str> = rest.split('.').collect();
    let random = |s: &str| (40..=44).contains(&s.len()) && s.bytes().all(support::alnum);
    match parts.as_slice() {
        [kind, secret] => (KINDS.contains(kind) || *kind == "st") && random(secret),
        ["st", env, secret] => {
            (2..=35).contains(&env.len())
                && env
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
                && random(secret)
        }
        _ => false,
    }
}

pub fn verify(http: &Http, base: &str, token: &str) -> Verification {
    let call = Call::get(format!("{base}/v3/me"), Auth::Bearer(token));
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Doppler, &call.describe()),
    };
    match (answer.status, answer.json()) {
        (200, Some(body)) if body["type"].is_string() || body["workplace"].is_object() => {
            let mut v = answer.verification(Status::Active, Provider::Doppler);
            v.owner = text(&body, &["name"]);
            v.organisation = text(&body, &["workplace", "name"]);
            v.scopes = text(&body, &["type"]).into_iter().collect();
            v
        }
        (401, _) => support::rejected(&answer, Provider::Doppler, "Doppler"),
        _ => answer.unexpected(Provider::Doppler),
    }
}

/// `POST /v3/auth/revoke` with `{"token": …}`, authenticated by the token
/// itself: 200.
pub fn revoke(http: &Http, base: &str, token: &str) -> Attempt {
    let call = Call::new(
        reqwest::Method::POST,
        format!("{base}/v3/auth/revoke"),
        Auth::Bearer(token),
    )
    .body(Body::Json(json!({ "token": token })));
    Attempt::from_answer(http.send(&call), &call, |answer| match answer.status {
        200 | 204 => Ok(format!("revoked itself ({})", answer.status)),
        401 => Err("Doppler rejected the token (401): already revoked".into()),
        _ => Err(answer
            .unexpected(Provider::Doppler)
            .reason
            .unwrap_or_default()),
    })
}
