//! npm: `GET /-/whoami` with the token as Bearer. 200 with a `username` is
//! active; 401 is inactive.

use super::revoke::Attempt;
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::checksum;
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Call, Http};

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

/// Two steps: `GET /-/npm/v1/tokens` lists the account's tokens, truncated;
/// the entry whose visible start is the token's first 8 characters gives
/// the `key`; `DELETE /-/npm/v1/tokens/token/{key}` deletes it. Several
/// matching entries are ambiguous: nothing is deleted.
pub fn revoke(http: &Http, base: &str, token: &str) -> Attempt {
    let list = Call::get(format!("{base}/-/npm/v1/tokens"), Auth::Bearer(token));
    let answer = match http.send(&list) {
        Ok(answer) => answer,
        Err(failure) => return Attempt::failed(failure.to_string(), &list, None),
    };
    let Some(body) = answer.json().filter(|_| answer.status == 200) else {
        let reason = match answer.status {
            401 => "npm rejected the token (401): already revoked or expired".to_string(),
            _ => answer.unexpected(Provider::Npm).reason.unwrap_or_default(),
        };
        return Attempt::failed(reason, &list, Some(answer.status));
    };
    let head: String = token.chars().take(8).collect();
    let keys: Vec<&str> = body["objects"]
        .as_array()
        .map(|objects| {
            objects
                .iter()
                .filter(|o| o["token"].as_str().is_some_and(|t| t.starts_with(&head)))
                .filter_map(|o| o["key"].as_str())
                .collect()
        })
        .unwrap_or_default();
    let key = match keys.as_slice() {
        [key] if is_key(key) => *key,
        [] => {
            return Attempt::failed(
                "the token's entry was not in its own token list".into(),
                &list,
                Some(200),
            )
        }
        [_] => return Attempt::failed("npm listed a malformed token key".into(), &list, Some(200)),
        _ => {
            return Attempt::failed(
                "several of the account's tokens start alike; none was deleted".into(),
                &list,
                Some(200),
            )
        }
    };
    let delete = Call::new(
        reqwest::Method::DELETE,
        format!("{base}/-/npm/v1/tokens/token/{key}"),
        Auth::Bearer(token),
    );
    Attempt::from_answer(http.send(&delete), &delete, |answer| match answer.status {
        200 | 204 => Ok(format!("deleted itself ({})", answer.status)),
        401 => Err("npm rejected the token (401)".into()),
        _ => Err(answer.unexpected(Provider::Npm).reason.unwrap_or_default()),
    })
}

/// npm token keys are hex digests; anything else never goes into a URL.
fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 256
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
