//! crates.io: `GET /api/v1/me` with the bare token in `Authorization`.
//! 200 with a `user` is active (owner: login); 401 inactive. crates.io
//! answers 403 both to a token it does not know ("authentication failed")
//! and to a scoped token that may not read the user ("does not have the
//! required permissions"): the text of its error decides, anything else
//! is unknown. Trusted Publishing tokens live for minutes and are not
//! checked.

use super::revoke::Attempt;
use super::support::{self, text};
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Call, Http};

/// The official registry.
pub const BASE: &str = "https://crates.io";

pub fn accepts(rule_id: &str, token: &str) -> bool {
    rule_id == "cratesio-api-token" && support::shaped(token, "cio", 32..=32, support::alnum)
}

fn error_text(body: &serde_json::Value) -> String {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["detail"].as_str())
                .collect::<Vec<_>>()
                .join(" ")
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

pub fn verify(http: &Http, base: &str, token: &str) -> Verification {
    let call = Call::get(format!("{base}/api/v1/me"), Auth::Raw(token));
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Cratesio, &call.describe()),
    };
    let json = answer.json();
    match (answer.status, &json) {
        (200, Some(body)) if body["user"].is_object() => {
            let mut v = answer.verification(Status::Active, Provider::Cratesio);
            v.owner = text(body, &["user", "login"]);
            v
        }
        (401, _) => support::rejected(&answer, Provider::Cratesio, "crates.io"),
        (403, Some(body)) => {
            let detail = error_text(body);
            if detail.contains("authentication failed") || detail.contains("must be logged in") {
                answer
                    .verification(Status::Inactive, Provider::Cratesio)
                    .with_reason("rejected by crates.io (403 authentication failed): revoked, expired or never valid")
            } else if detail.contains("required permissions") {
                answer
                    .verification(Status::Active, Provider::Cratesio)
                    .with_reason(
                        "authenticates, but its scopes do not allow reading the user (403)",
                    )
            } else {
                answer.unexpected(Provider::Cratesio)
            }
        }
        _ => answer.unexpected(Provider::Cratesio),
    }
}

/// `DELETE /api/v1/tokens/current`: the token revokes itself, 204.
pub fn revoke(http: &Http, base: &str, token: &str) -> Attempt {
    let call = Call::new(
        reqwest::Method::DELETE,
        format!("{base}/api/v1/tokens/current"),
        Auth::Raw(token),
    );
    Attempt::from_answer(http.send(&call), &call, |answer| match answer.status {
        200 | 204 => Ok(format!("revoked itself ({})", answer.status)),
        401 | 403 => Err(format!(
            "crates.io rejected the token ({}): already revoked or expired",
            answer.status
        )),
        _ => Err(answer
            .unexpected(Provider::Cratesio)
            .reason
            .unwrap_or_default()),
    })
}
