//! Slack: `POST /api/auth.test` with the token as Bearer. Slack answers 200
//! whatever the outcome, so the body decides: `"ok": true` is active;
//! `"ok": false` with `invalid_auth`, `token_revoked`, `token_expired`,
//! `account_inactive` or `not_authed` is inactive; any other error code is
//! unknown with that code as the reason.

use super::revoke::Attempt;
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Body, Call, Http};
use reqwest::Method;

/// The official Web API host.
pub const BASE: &str = "https://slack.com";

/// Error codes that mean the token does not work, for good.
const REJECTIONS: &[&str] = &[
    "invalid_auth",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "not_authed",
];

/// Bot, user, workspace and app-level tokens. Refresh tokens (`xoxe-1-`)
/// only work with the app's client secret and are not checked.
pub fn accepts(rule_id: &str, token: &str) -> bool {
    let prefix_ok = match rule_id {
        "slack-bot-token" => token.starts_with("xoxb-"),
        "slack-user-token" => token.starts_with("xoxp-"),
        "slack-workspace-token" => token.starts_with("xoxa-"),
        "slack-app-token" => token.starts_with("xapp-"),
        "slack-refresh-token" => token.starts_with("xoxe.xox"),
        _ => false,
    };
    prefix_ok
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

pub fn verify(http: &Http, base: &str, token: &str) -> Verification {
    let call = Call::new(
        Method::POST,
        format!("{base}/api/auth.test"),
        Auth::Bearer(token),
    );
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Slack, &call.describe()),
    };
    let Some(body) = answer.json().filter(|_| answer.status == 200) else {
        return answer.unexpected(Provider::Slack);
    };
    match body["ok"].as_bool() {
        Some(true) => {
            let mut v = answer.verification(Status::Active, Provider::Slack);
            v.owner = body["user"].as_str().map(str::to_string);
            v.organisation = body["team"].as_str().map(str::to_string);
            v.scopes = answer.list_header("x-oauth-scopes");
            v
        }
        Some(false) => {
            let code = body["error"].as_str().unwrap_or("");
            let code_shown = error_code(code);
            if REJECTIONS.contains(&code) {
                answer
                    .verification(Status::Inactive, Provider::Slack)
                    .with_reason(format!("rejected by Slack ({code_shown})"))
            } else {
                answer
                    .verification(Status::Unknown, Provider::Slack)
                    .with_reason(format!("Slack answered error {code_shown:?}"))
            }
        }
        None => answer.unexpected(Provider::Slack),
    }
}

/// Slack's error codes are short snake_case words; anything else is not
/// shown as is.
pub(crate) fn error_code(code: &str) -> &str {
    let plain = !code.is_empty()
        && code.len() <= 64
        && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if plain {
        code
    } else {
        "unrecognised error"
    }
}

/// `POST /api/auth.revoke` with the token: `{"ok": true, "revoked": true}`.
pub fn revoke(http: &Http, base: &str, token: &str) -> Attempt {
    let call = Call::new(
        Method::POST,
        format!("{base}/api/auth.revoke"),
        Auth::Bearer(token),
    )
    .body(Body::Form(vec![("token", token)]));
    Attempt::from_answer(http.send(&call), &call, |answer| {
        let body = answer.json().filter(|_| answer.status == 200);
        match body {
            Some(b) if b["ok"] == true && b["revoked"] == true => {
                Ok("revoked itself (auth.revoke: revoked)".into())
            }
            Some(b) if b["ok"] == false => Err(format!(
                "Slack refused ({})",
                error_code(b["error"].as_str().unwrap_or(""))
            )),
            _ => Err(answer
                .unexpected(Provider::Slack)
                .reason
                .unwrap_or_default()),
        }
    })
}
