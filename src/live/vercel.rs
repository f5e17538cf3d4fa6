//! Vercel. Personal and integration tokens (`vcp_`, `vci_`):
//! `GET /v2/user` with the token as Bearer; 200 with a `user` is active, 401
//! (or a 403 whose error says `invalidToken`) inactive. App access tokens
//! (`vca_`): `POST /login/oauth/userinfo`, 200 with a `sub`. App refresh
//! tokens (`vcr_`): `POST /login/oauth/token/introspect` with `token=…`,
//! whose `active` decides. AI Gateway keys (`vck_`) have no read-only check
//! (only a paid completion), so they are not checked.

use super::revoke::Attempt;
use super::support::{self, text};
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Body, Call, Http};

/// The official API host.
pub const BASE: &str = "https://api.vercel.com";

fn token_shape(token: &str, prefix: &str) -> bool {
    support::shaped(token, prefix, 56..=56, support::url_safe)
        && token[token.len() - 6..].bytes().all(support::alnum)
}

pub fn accepts(rule_id: &str, token: &str) -> bool {
    let prefix = match rule_id {
        "vercel-personal-access-token" => "vcp_",
        "vercel-integration-token" => "vci_",
        "vercel-app-access-token" => "vca_",
        "vercel-app-refresh-token" => "vcr_",
        _ => return false,
    };
    token_shape(token, prefix)
}

/// Personal and integration tokens can delete themselves.
pub fn revocable(rule_id: &str, token: &str) -> bool {
    accepts(rule_id, token) && (token.starts_with("vcp_") || token.starts_with("vci_"))
}

pub fn verify(http: &Http, base: &str, token: &str) -> Verification {
    if token.starts_with("vcr_") {
        return introspect(http, base, token);
    }
    let app = token.starts_with("vca_");
    let call = if app {
        Call::new(
            reqwest::Method::POST,
            format!("{base}/login/oauth/userinfo"),
            Auth::Bearer(token),
        )
    } else {
        Call::get(format!("{base}/v2/user"), Auth::Bearer(token))
    };
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Vercel, &call.describe()),
    };
    let json = answer.json();
    match (answer.status, &json) {
        (200, Some(body)) if app && body["sub"].is_string() => {
            let mut v = answer.verification(Status::Active, Provider::Vercel);
            v.owner = text(body, &["email"])
                .or_else(|| text(body, &["preferred_username"]))
                .or_else(|| text(body, &["sub"]));
            v
        }
        (200, Some(body)) if !app && body["user"].is_object() => {
            let mut v = answer.verification(Status::Active, Provider::Vercel);
            v.owner = text(body, &["user", "username"]).or_else(|| text(body, &["user", "email"]));
            v
        }
        (401, _) => support::rejected(&answer, Provider::Vercel, "Vercel"),
        (403, Some(body)) if body["error"]["invalidToken"].as_bool() == Some(true) => {
            support::rejected(&answer, Provider::Vercel, "Vercel")
        }
        _ => answer.unexpected(Provider::Vercel),
    }
}

fn introspect(http: &Http, base: &str, token: &str) -> Verification {
    let call = Call::new(
        reqwest::Method::POST,
        format!("{base}/login/oauth/token/introspect"),
        Auth::None,
    )
    .body(Body::Form(vec![("token", token)]));
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Vercel, &call.describe()),
    };
    match (answer.status, answer.json()) {
        (200, Some(body)) if body["active"].as_bool() == Some(true) => {
            let mut v = answer.verification(Status::Active, Provider::Vercel);
            v.owner = text(&body, &["sub"]);
            v
        }
        (200, Some(body)) if body["active"].as_bool() == Some(false) => answer
            .verification(Status::Inactive, Provider::Vercel)
            .with_reason(
                "rejected: Vercel's token introspection says active: false (revoked or expired)",
            ),
        _ => answer.unexpected(Provider::Vercel),
    }
}

/// `DELETE /v3/user/tokens/current`: the token deletes itself.
pub fn revoke(http: &Http, base: &str, token: &str) -> Attempt {
    let call = Call::new(
        reqwest::Method::DELETE,
        format!("{base}/v3/user/tokens/current"),
        Auth::Bearer(token),
    );
    Attempt::from_answer(http.send(&call), &call, |answer| match answer.status {
        200 | 204 => Ok(format!("deleted itself ({})", answer.status)),
        401 | 403 => Err(format!(
            "Vercel rejected the token ({}): already revoked or expired",
            answer.status
        )),
        _ => Err(answer
            .unexpected(Provider::Vercel)
            .reason
            .unwrap_or_default()),
    })
}
