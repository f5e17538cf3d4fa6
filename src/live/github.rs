//! GitHub: `GET /user` with the token. 200 with a `login` is active (scopes
//! from `X-OAuth-Scopes`, expiry from `github-authentication-token-expiration`);
//! 401 is inactive. A 403 is active only when GitHub's own JSON says the
//! token authenticated but lacks permission; any other 403 (rate limit, a
//! firewall's page) is unknown.

use super::revoke::Attempt;
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::checksum;
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Body, Call, Http};

/// The official API host.
pub const BASE: &str = "https://api.github.com";

const ACCEPT: &str = "application/vnd.github+json";

/// Rules and shapes with a live check. Refresh tokens (`ghr_`) cannot be
/// used as credentials without the app's secret, so they are not checked.
pub fn accepts(rule_id: &str, token: &str) -> bool {
    let prefix = match rule_id {
        "github-classic-pat" => "ghp_",
        "github-oauth" => "gho_",
        "github-app-user" => "ghu_",
        "github-app-server" => "ghs_",
        "github-fine-grained-pat" => "github_pat_",
        _ => return false,
    };
    let body_ok = token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let checksum_ok = match prefix {
        // ghs_ and fine-grained tokens have no checksum patscan verifies.
        "ghs_" | "github_pat_" => true,
        _ => checksum::crc32_base62_valid(token.as_bytes(), prefix.len()),
    };
    token.starts_with(prefix) && body_ok && checksum_ok
}

pub fn verify(http: &Http, base: &str, token: &str) -> Verification {
    let call = Call::get(format!("{base}/user"), Auth::Token(token)).accept(ACCEPT);
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Github, &call.describe()),
    };
    let json = answer.json();
    match (answer.status, &json) {
        (200, Some(body)) if body["login"].is_string() => {
            let mut v = answer.verification(Status::Active, Provider::Github);
            v.owner = body["login"].as_str().map(str::to_string);
            v.scopes = answer.list_header("x-oauth-scopes");
            v.expires_at = answer
                .header("github-authentication-token-expiration")
                .map(str::to_string);
            v
        }
        (401, _) => answer
            .verification(Status::Inactive, Provider::Github)
            .with_reason(
                "rejected by GitHub (401 Bad credentials): revoked, expired or never valid",
            ),
        (403, Some(body)) if is_permission_message(body) => answer
            .verification(Status::Active, Provider::Github)
            .with_reason(
                "authenticates, but may not read the user profile (403 Resource not accessible)",
            ),
        _ => answer.unexpected(Provider::Github),
    }
}

/// GitHub's JSON for a token that authenticated but lacks permission, as
/// opposed to its rate-limit 403 ("API rate limit exceeded").
fn is_permission_message(body: &serde_json::Value) -> bool {
    body["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("Resource not accessible by"))
}

/// Tokens per request to the credential revocation API (GitHub's limit).
pub const REVOKE_BATCH: usize = 1000;
/// Requests per hour the revocation API allows; patscan never sends more in
/// one run.
pub const REVOKE_REQUESTS_PER_HOUR: usize = 60;

/// Token types the unauthenticated credential revocation API accepts.
pub fn revocable_by_api(rule_id: &str, token: &str) -> bool {
    let refresh = rule_id == "github-refresh"
        && token.starts_with("ghr_")
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && checksum::crc32_base62_valid(token.as_bytes(), 4);
    refresh || (accepts(rule_id, token) && !token.starts_with("ghs_"))
}

/// An installation token (`ghs_`) revokes itself.
pub fn revocable_by_itself(rule_id: &str, token: &str) -> bool {
    rule_id == "github-app-server" && accepts(rule_id, token)
}

/// Reports up to [`REVOKE_BATCH`] tokens to `POST /credentials/revoke`. The
/// endpoint is unauthenticated (an authenticated call gets 403); 202 means
/// GitHub accepted the batch and will revoke and notify the owners.
pub fn revoke_batch(http: &Http, base: &str, tokens: &[&str]) -> Attempt {
    let call = Call::new(
        reqwest::Method::POST,
        format!("{base}/credentials/revoke"),
        Auth::None,
    )
    .accept(ACCEPT)
    .body(Body::Json(serde_json::json!({ "credentials": tokens })));
    Attempt::from_answer(http.send(&call), &call, |answer| match answer.status {
        202 => Ok("accepted by GitHub's credential revocation API (202)".into()),
        422 => Err(
            "GitHub refused the batch (422: validation failed, or the endpoint is being spammed)"
                .into(),
        ),
        _ => Err(answer
            .unexpected(Provider::Github)
            .reason
            .unwrap_or_default()),
    })
}

/// `DELETE /installation/token` with the installation token itself: 204.
pub fn revoke_installation_token(http: &Http, base: &str, token: &str) -> Attempt {
    let call = Call::new(
        reqwest::Method::DELETE,
        format!("{base}/installation/token"),
        Auth::Token(token),
    )
    .accept(ACCEPT);
    Attempt::from_answer(http.send(&call), &call, |answer| match answer.status {
        204 => Ok("revoked itself (204)".into()),
        401 => Err("GitHub rejected the token (401): already revoked or expired".into()),
        _ => Err(answer
            .unexpected(Provider::Github)
            .reason
            .unwrap_or_default()),
    })
}
