//! Cloudflare user API tokens (`cfut_`): `GET /client/v4/user/tokens/verify`
//! with the token as Bearer. 200 with `success` and a `result.status` of
//! `active` is active; `disabled` or `expired` is inactive, as is a 401 or an
//! answer whose error code is 1000 ("Invalid API Token"). Account tokens need
//! their account id and global keys their owner's e-mail, which patscan does
//! not guess: they are not checked.

use super::http::{Auth, Call, Http};
use super::revoke::Attempt;
use super::support::{self, text};
use super::{Provider, Status, Verification};

/// The official API host.
pub const BASE: &str = "https://api.cloudflare.com";
const VERIFY: &str = "/client/v4/user/tokens/verify";

pub fn accepts(rule_id: &str, token: &str) -> bool {
    rule_id == "cloudflare-user-api-token"
        && support::shaped(token, "cfut_", 48..=48, support::alnum)
        && token[45..].bytes().all(support::lower_hex)
}

fn invalid_token_error(body: &serde_json::Value) -> bool {
    body["errors"]
        .as_array()
        .is_some_and(|errors| errors.iter().any(|e| e["code"].as_i64() == Some(1000)))
}

pub fn verify(http: &Http, base: &str, token: &str) -> Verification {
    let call = Call::get(format!("{base}{VERIFY}"), Auth::Bearer(token));
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Cloudflare, &call.describe()),
    };
    let json = answer.json();
    match (answer.status, &json) {
        (200, Some(body)) if body["success"].as_bool() == Some(true) => {
            let status = text(body, &["result", "status"]);
            let mut v = match status.as_deref() {
                Some("active") => answer.verification(Status::Active, Provider::Cloudflare),
                Some(s @ ("disabled" | "expired")) => answer
                    .verification(Status::Inactive, Provider::Cloudflare)
                    .with_reason(format!("Cloudflare reports the token {s}")),
                _ => {
                    return answer
                        .verification(Status::Unknown, Provider::Cloudflare)
                        .with_reason(
                            "Cloudflare's answer does not say whether the token is active",
                        )
                }
            };
            v.expires_at = text(body, &["result", "expires_on"]);
            v
        }
        (401, _) => support::rejected(&answer, Provider::Cloudflare, "Cloudflare"),
        (400..=403, Some(body)) if invalid_token_error(body) => answer
            .verification(Status::Inactive, Provider::Cloudflare)
            .with_reason(format!(
                "rejected by Cloudflare (HTTP {}, error 1000: invalid API token)",
                answer.status
            )),
        _ => answer.unexpected(Provider::Cloudflare),
    }
}

/// Two steps: the verify call names the token's id; `DELETE
/// /client/v4/user/tokens/{id}` deletes it (the token needs the "API
/// Tokens: Edit" permission to do so).
pub fn revoke(http: &Http, base: &str, token: &str) -> Attempt {
    let lookup = Call::get(format!("{base}{VERIFY}"), Auth::Bearer(token));
    let answer = match http.send(&lookup) {
        Ok(answer) => answer,
        Err(failure) => return Attempt::failed(failure.to_string(), &lookup, None),
    };
    let id = answer
        .json()
        .filter(|_| answer.status == 200)
        .and_then(|body| text(&body, &["result", "id"]));
    let Some(id) = id.filter(|id| id.len() <= 64 && id.bytes().all(support::alnum)) else {
        let reason = match answer.status {
            401 => "Cloudflare rejected the token (401): already revoked or expired".to_string(),
            200 => "Cloudflare's verify answer named no usable token id".to_string(),
            _ => answer
                .unexpected(Provider::Cloudflare)
                .reason
                .unwrap_or_default(),
        };
        return Attempt::failed(reason, &lookup, Some(answer.status));
    };
    let delete = Call::new(
        reqwest::Method::DELETE,
        format!("{base}/client/v4/user/tokens/{id}"),
        Auth::Bearer(token),
    );
    Attempt::from_answer(http.send(&delete), &delete, |answer| {
        match (answer.status, answer.json()) {
            (200, Some(body)) if body["success"].as_bool() == Some(true) => {
                Ok("deleted itself (200)".into())
            }
            (403, _) => Err(
                "Cloudflare refused (403): the token lacks the API Tokens Edit permission; \
                 delete it at https://dash.cloudflare.com/profile/api-tokens"
                    .into(),
            ),
            (401, _) => Err("Cloudflare rejected the token (401)".into()),
            _ => Err(answer
                .unexpected(Provider::Cloudflare)
                .reason
                .unwrap_or_default()),
        }
    })
}
