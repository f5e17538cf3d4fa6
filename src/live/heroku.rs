//! Heroku: `GET /account` with the token as Bearer and Heroku's v3 media
//! type. 200 with the account's `id` is active (owner: its e-mail), 401
//! inactive.

use super::revoke::Attempt;
use super::support::{self, text};
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Call, Http};

/// The official API host.
pub const BASE: &str = "https://api.heroku.com";
const ACCEPT: &str = "application/vnd.heroku+json; version=3";

pub fn accepts(rule_id: &str, token: &str) -> bool {
    rule_id == "heroku-api-key" && support::shaped(token, "HRKU-AA", 58..=58, support::url_safe)
}

pub fn verify(http: &Http, base: &str, token: &str) -> Verification {
    let call = Call::get(format!("{base}/account"), Auth::Bearer(token)).accept(ACCEPT);
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Heroku, &call.describe()),
    };
    match (answer.status, answer.json()) {
        (200, Some(body)) if body["id"].is_string() => {
            let mut v = answer.verification(Status::Active, Provider::Heroku);
            v.owner = text(&body, &["email"]);
            v
        }
        (401, _) => support::rejected(&answer, Provider::Heroku, "Heroku"),
        _ => answer.unexpected(Provider::Heroku),
    }
}

/// Two steps: `GET /oauth/authorizations` lists the account's
/// authorizations; the one whose access token is this token names its id;
/// `DELETE /oauth/tokens/{id}` revokes it. No match, or several, and
/// nothing is deleted.
pub fn revoke(http: &Http, base: &str, token: &str) -> Attempt {
    let list =
        Call::get(format!("{base}/oauth/authorizations"), Auth::Bearer(token)).accept(ACCEPT);
    let answer = match http.send(&list) {
        Ok(answer) => answer,
        Err(failure) => return Attempt::failed(failure.to_string(), &list, None),
    };
    let Some(body) = answer.json().filter(|_| answer.status == 200) else {
        let reason = match answer.status {
            401 => "Heroku rejected the token (401): already revoked or expired".to_string(),
            _ => answer
                .unexpected(Provider::Heroku)
                .reason
                .unwrap_or_default(),
        };
        return Attempt::failed(reason, &list, Some(answer.status));
    };
    let ids: Vec<String> = body
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|a| a["access_token"]["token"].as_str() == Some(token))
                .filter_map(|a| text(a, &["access_token", "id"]))
                .collect()
        })
        .unwrap_or_default();
    let id = match ids.as_slice() {
        [id] if is_id(id) => id.clone(),
        [] => {
            return Attempt::failed(
                "Heroku's list of the account's authorizations does not show this token; revoke \
                 it with `heroku authorizations`"
                    .into(),
                &list,
                Some(200),
            )
        }
        _ => {
            return Attempt::failed(
                "Heroku listed no single, well-formed id for the token; nothing was deleted".into(),
                &list,
                Some(200),
            )
        }
    };
    let delete = Call::new(
        reqwest::Method::DELETE,
        format!("{base}/oauth/tokens/{id}"),
        Auth::Bearer(token),
    )
    .accept(ACCEPT);
    Attempt::from_answer(http.send(&delete), &delete, |answer| match answer.status {
        200 | 204 => Ok(format!("revoked itself ({})", answer.status)),
        401 => Err("Heroku rejected the token (401)".into()),
        _ => Err(answer
            .unexpected(Provider::Heroku)
            .reason
            .unwrap_or_default()),
    })
}

/// Heroku ids are UUIDs; nothing else goes into a URL.
fn is_id(id: &str) -> bool {
    id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}
