//! Postman: `GET /me` with the key in `X-Api-Key`. 200 with a `user` is
//! active (owner: user name or e-mail), 401 inactive.

use super::support::{self, text};
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Call, Http};

/// The official API host.
pub const BASE: &str = "https://api.getpostman.com";

pub fn accepts(rule_id: &str, token: &str) -> bool {
    rule_id == "postman-api-key"
        && token.len() == 64
        && token.starts_with("PMAK-")
        && token.as_bytes()[29] == b'-'
        && token[5..29].bytes().all(|b| b.is_ascii_hexdigit())
        && token[30..].bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn verify(http: &Http, base: &str, token: &str) -> Verification {
    let call = Call::get(format!("{base}/me"), Auth::Header("x-api-key", token));
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Postman, &call.describe()),
    };
    match (answer.status, answer.json()) {
        (200, Some(body)) if body["user"].is_object() => {
            let mut v = answer.verification(Status::Active, Provider::Postman);
            v.owner =
                text(&body, &["user", "username"]).or_else(|| text(&body, &["user", "email"]));
            v.organisation = text(&body, &["user", "teamName"]);
            v
        }
        (401, _) => support::rejected(&answer, Provider::Postman, "Postman"),
        _ => answer.unexpected(Provider::Postman),
    }
}
