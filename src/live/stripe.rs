//! Stripe live-mode keys: `GET /v1/account` with the key as Bearer. 200
//! with `"object": "account"` is active (the account's name and e-mail
//! reported); 401 is inactive; a JSON 403 is a restricted key that
//! authenticated but may not read the account, so active.

use super::support::{self, text};
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Call, Http};

/// The official API host.
pub const BASE: &str = "https://api.stripe.com";

pub fn accepts(rule_id: &str, token: &str) -> bool {
    let prefix = match rule_id {
        "stripe-secret-key" => "sk_live_",
        "stripe-restricted-key" => "rk_live_",
        _ => return false,
    };
    support::shaped(token, prefix, 24..=247, support::alnum)
}

pub fn verify(http: &Http, base: &str, token: &str) -> Verification {
    let call = Call::get(format!("{base}/v1/account"), Auth::Bearer(token));
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Stripe, &call.describe()),
    };
    let json = answer.json();
    match (answer.status, &json) {
        (200, Some(body)) if body["object"].as_str() == Some("account") => {
            let mut v = answer.verification(Status::Active, Provider::Stripe);
            v.owner = text(body, &["email"]);
            v.organisation = text(body, &["settings", "dashboard", "display_name"])
                .or_else(|| text(body, &["business_profile", "name"]))
                .or_else(|| text(body, &["id"]));
            v
        }
        (401, _) => support::rejected(&answer, Provider::Stripe, "Stripe"),
        (403, Some(body)) if body["error"].is_object() => answer
            .verification(Status::Active, Provider::Stripe)
            .with_reason("authenticates, but this restricted key may not read the account (403)"),
        _ => answer.unexpected(Provider::Stripe),
    }
}
