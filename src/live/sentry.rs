//! Sentry (sentry.io): `GET /api/0/organizations/` with the token as
//! Bearer. 200 with a list is active (the organisations' slugs reported); a
//! JSON 403 means the token authenticated but may not list organisations,
//! so it is active too; 401 is inactive. An organisation token names its
//! Sentry in its payload: one for a self-hosted Sentry is not sent to
//! sentry.io, nor anywhere else.

use base64::Engine as _;
use serde_json::Value;

use super::support::{self, text};
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Call, Http};

/// The official SaaS host.
pub const BASE: &str = "https://sentry.io";

fn b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

pub fn accepts(rule_id: &str, token: &str) -> bool {
    match rule_id {
        "sentry-user-token" => support::shaped(token, "sntryu_", 64..=64, support::lower_hex),
        "sentry-org-token" => token.strip_prefix("sntrys_").is_some_and(|rest| {
            let parts: Vec<&str> = rest.split('_').collect();
            matches!(parts.as_slice(), [payload, secret]
                if payload.starts_with("eyJ") && payload.len() <= 420 && payload.bytes().all(b64)
                    && secret.len() == 43 && secret.bytes().all(b64))
        }),
        _ => false,
    }
}

/// The `url` an organisation token's payload names, when it can be read.
fn payload_url(token: &str) -> Option<String> {
    let payload = token.strip_prefix("sntrys_")?.split('_').next()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(payload))
        .ok()?;
    let json: Value = serde_json::from_slice(&bytes).ok()?;
    text(&json, &["url"])
}

/// Whether a URL is sentry.io's (or one of its regions').
fn is_sentry_io(url: &str) -> bool {
    let host = url
        .strip_prefix("https://")
        .unwrap_or("")
        .split(['/', ':'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    host == "sentry.io" || host.ends_with(".sentry.io")
}

pub fn verify(http: &Http, base: &str, token: &str) -> Verification {
    if let Some(url) = payload_url(token) {
        if !is_sentry_io(&url) {
            return Verification::unknown(
                Provider::Sentry,
                "the organization token belongs to a self-hosted Sentry (its payload names \
                 another URL); patscan only asks sentry.io",
            );
        }
    }
    let call = Call::get(format!("{base}/api/0/organizations/"), Auth::Bearer(token));
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Sentry, &call.describe()),
    };
    let json = answer.json();
    match (answer.status, &json) {
        (200, Some(Value::Array(orgs))) => {
            let mut v = answer.verification(Status::Active, Provider::Sentry);
            let slugs: Vec<String> = orgs.iter().filter_map(|o| text(o, &["slug"])).collect();
            if !slugs.is_empty() {
                v.organisation = Some(slugs.join(", "));
            }
            v
        }
        (403, Some(body)) if body["detail"].is_string() => answer
            .verification(Status::Active, Provider::Sentry)
            .with_reason("authenticates, but may not list organizations (403: no org:read scope)"),
        (401, _) => support::rejected(&answer, Provider::Sentry, "Sentry"),
        _ => answer.unexpected(Provider::Sentry),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org_token(url: &str) -> String {
        let payload =
            format!(r#"{{"iat":1704205802.0,"url":"{url}","region_url":"{url}","org":"acme"}}"#);
        let b64 = base64::engine::general_purpose::STANDARD.encode(payload);
        format!("sntrys_{b64}_{}", "Q".repeat(43))
    }

    #[test]
    fn an_organization_token_names_its_sentry() {
        let saas = org_token("https://us.sentry.io");
        assert!(accepts("sentry-org-token", &saas));
        assert!(is_sentry_io(&payload_url(&saas).unwrap()));
        let own = org_token("https://sentry.acme.internal");
        assert!(accepts("sentry-org-token", &own));
        assert!(!is_sentry_io(&payload_url(&own).unwrap()));
        assert!(!is_sentry_io("https://sentry.io.evil.example"));
        assert!(!is_sentry_io("http://sentry.io"));
    }
}
