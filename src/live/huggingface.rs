//! Hugging Face: `GET /api/whoami-v2` with the token as Bearer. 200 with a
//! `name` is active (the token's role from `auth.accessToken.role`, its
//! organisations from `orgs`); 401 is inactive. Leaked tokens are revoked
//! by value through the unauthenticated `POST /api/credentials/revoke`.

use serde_json::json;

use super::revoke::Attempt;
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Body, Call, Http};

/// The official hub.
pub const BASE: &str = "https://huggingface.co";

pub fn accepts(rule_id: &str, token: &str) -> bool {
    rule_id == "huggingface-token"
        && token.starts_with("hf_")
        && token[3..].bytes().all(|b| b.is_ascii_alphanumeric())
}

pub fn verify(http: &Http, base: &str, token: &str) -> Verification {
    let call = Call::get(format!("{base}/api/whoami-v2"), Auth::Bearer(token));
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Huggingface, &call.describe()),
    };
    match (answer.status, answer.json()) {
        (200, Some(body)) if body["name"].is_string() => {
            let mut v = answer.verification(Status::Active, Provider::Huggingface);
            v.owner = body["name"].as_str().map(str::to_string);
            v.scopes = body["auth"]["accessToken"]["role"]
                .as_str()
                .map(|role| vec![role.to_string()])
                .unwrap_or_default();
            let orgs: Vec<&str> = body["orgs"]
                .as_array()
                .map(|orgs| orgs.iter().filter_map(|o| o["name"].as_str()).collect())
                .unwrap_or_default();
            if !orgs.is_empty() {
                v.organisation = Some(orgs.join(", "));
            }
            v
        }
        (401, _) => answer
            .verification(Status::Inactive, Provider::Huggingface)
            .with_reason("rejected by Hugging Face (401): invalidated or never valid"),
        _ => answer.unexpected(Provider::Huggingface),
    }
}

/// Where the owner invalidates a token by hand.
pub const REVOKE_PAGE: &str = "https://huggingface.co/settings/tokens";

/// `POST /api/credentials/revoke` with `{"credentials": [T]}`,
/// unauthenticated by design (like GitHub's): Hugging Face invalidates the
/// leaked token, 200 or 202.
pub fn revoke(http: &Http, base: &str, token: &str) -> Attempt {
    let call = Call::new(
        reqwest::Method::POST,
        format!("{base}/api/credentials/revoke"),
        Auth::None,
    )
    .body(Body::Json(json!({ "credentials": [token] })));
    Attempt::from_answer(http.send(&call), &call, |answer| match answer.status {
        200 | 202 | 204 => Ok(format!(
            "reported to Hugging Face's revocation API ({})",
            answer.status
        )),
        _ => Err(format!(
            "{}; the owner can invalidate it at {REVOKE_PAGE}",
            answer
                .unexpected(Provider::Huggingface)
                .reason
                .unwrap_or_default()
        )),
    })
}
