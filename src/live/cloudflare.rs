//! Cloudflare user API tokens (`cfut_`): `GET /client/v4/user/tokens/verify`
//! with the token as Bearer. 200 with `success` and a `result.status` of
//! `active` is active; `disabled` or `expired` is inactive, as is a 401 or an
//! answer whose error code is 1000 ("Invalid API Token"). Account tokens
//! (`cfat_`) are verified the same way under their account,
//! `GET /client/v4/accounts/ACCOUNT/tokens/verify`, when an account id (32
//! hex digits: `CLOUDFLARE_ACCOUNT_ID=…`, `account_id = "…"` or
//! `/accounts/…`) is named near the token; otherwise they are `unknown`.
//! The host stays Cloudflare's. Global API keys need their owner's e-mail
//! and are not checked.

use super::revoke::Attempt;
use super::support::{self, text};
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::detect::context::{is_cloudflare_account, MAX_INSTANCES};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Call, Http};

/// The official API host.
pub const BASE: &str = "https://api.cloudflare.com";
const VERIFY: &str = "/client/v4/user/tokens/verify";

pub fn accepts(rule_id: &str, token: &str) -> bool {
    let prefix = match rule_id {
        "cloudflare-user-api-token" => "cfut_",
        "cloudflare-account-api-token" => "cfat_",
        _ => return false,
    };
    support::shaped(token, prefix, 48..=48, support::alnum)
        && token[token.len() - 8..].bytes().all(support::lower_hex)
}

/// User tokens can delete themselves (account tokens would need the
/// account's token-admin API).
pub fn revocable(rule_id: &str, token: &str) -> bool {
    rule_id == "cloudflare-user-api-token" && accepts(rule_id, token)
}

fn invalid_token_error(body: &serde_json::Value) -> bool {
    body["errors"]
        .as_array()
        .is_some_and(|errors| errors.iter().any(|e| e["code"].as_i64() == Some(1000)))
}

pub fn verify(http: &Http, base: &str, token: &str, context: &[String]) -> Verification {
    if !token.starts_with("cfat_") {
        return check(http, format!("{base}{VERIFY}"), token);
    }
    let accounts: Vec<&String> = context
        .iter()
        .filter(|a| is_cloudflare_account(a))
        .take(MAX_INSTANCES)
        .collect();
    if accounts.is_empty() {
        return Verification::unknown(
            Provider::Cloudflare,
            "an account API token is verified under its account, and no Cloudflare account id \
             (32 hex digits, CLOUDFLARE_ACCOUNT_ID=…) is named near it",
        );
    }
    let results = accounts
        .iter()
        .map(|id| {
            check(
                http,
                format!("{base}/client/v4/accounts/{id}/tokens/verify"),
                token,
            )
        })
        .collect();
    support::combine(results)
        .unwrap_or_else(|| Verification::unknown(Provider::Cloudflare, "no account answered"))
}

fn check(http: &Http, url: String, token: &str) -> Verification {
    let call = Call::get(url, Auth::Bearer(token));
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
