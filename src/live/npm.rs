//! npm: `GET /-/whoami` with the token as Bearer. 200 with a `username` is
//! active; 401 is inactive.

use super::http::{Auth, Call, Http};
use super::{Provider, Status, Verification};
use crate::checksum;

/// The official registry.
pub const BASE: &str = "https://registry.npmjs.org";

pub fn accepts(rule_id: &str, token: &str) -> bool {
    rule_id == "npm-token"
        && token.starts_with("npm_")
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && checksum::crc32_base62_valid(token.as_bytes(), 4)
}

pub fn verify(http: &Http, base: &str, token: &str) -> Verification {
    let call = Call::get(format!("{base}/-/whoami"), Auth::Bearer(token));
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Npm, &call.describe()),
    };
    match (answer.status, answer.json()) {
        (200, Some(body)) if body["username"].is_string() => {
            let mut v = answer.verification(Status::Active, Provider::Npm);
            v.owner = body["username"].as_str().map(str::to_string);
            v
        }
        (401, _) => answer
            .verification(Status::Inactive, Provider::Npm)
            .with_reason("rejected by npm (401): revoked, expired or never valid"),
        _ => answer.unexpected(Provider::Npm),
    }
}
