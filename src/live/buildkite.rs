//! Buildkite: `GET /v2/access-token` with the token as Bearer describes the
//! token itself. 200 with its `uuid` is active (scopes reported), 401
//! inactive.

use super::revoke::Attempt;
use super::support::{self, strings, text};
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Call, Http};

/// The official API host.
pub const BASE: &str = "https://api.buildkite.com";

pub fn accepts(rule_id: &str, token: &str) -> bool {
    rule_id == "buildkite-user-token"
        && (support::shaped(token, "bkua_", 40..=40, lower_alnum)
            || support::shaped(token, "bkua_", 53..=53, lower_alnum))
}

fn lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

pub fn verify(http: &Http, base: &str, token: &str) -> Verification {
    let call = Call::get(format!("{base}/v2/access-token"), Auth::Bearer(token));
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Buildkite, &call.describe()),
    };
    match (answer.status, answer.json()) {
        (200, Some(body)) if body["uuid"].is_string() => {
            let mut v = answer.verification(Status::Active, Provider::Buildkite);
            v.scopes = strings(&body["scopes"]);
            v.owner = text(&body, &["user", "email"]).or_else(|| text(&body, &["user", "name"]));
            v
        }
        (401, _) => support::rejected(&answer, Provider::Buildkite, "Buildkite"),
        _ => answer.unexpected(Provider::Buildkite),
    }
}

/// `DELETE /v2/access-token`: the token revokes itself, 204.
pub fn revoke(http: &Http, base: &str, token: &str) -> Attempt {
    let call = Call::new(
        reqwest::Method::DELETE,
        format!("{base}/v2/access-token"),
        Auth::Bearer(token),
    );
    Attempt::from_answer(http.send(&call), &call, |answer| match answer.status {
        204 | 200 => Ok(format!("revoked itself ({})", answer.status)),
        401 => Err("Buildkite rejected the token (401): already revoked".into()),
        _ => Err(answer
            .unexpected(Provider::Buildkite)
            .reason
            .unwrap_or_default()),
    })
}
