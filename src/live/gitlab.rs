//! GitLab (gitlab.com): `GET /api/v4/personal_access_tokens/self` with the
//! token in `PRIVATE-TOKEN`. 200 describes the token (scopes, expiry,
//! `active`, `revoked`); 401 is inactive. A 403 whose JSON says
//! `insufficient_scope` means the token authenticated but lacks a scope, so
//! it is active; any other 403 is unknown. When the token may read its user,
//! `GET /api/v4/user` names the owner.

use super::revoke::Attempt;
use super::support::strings;
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Call, Http};

/// The official SaaS host. Self-managed instances are not checked: their
/// host would have to come from the scanned files.
pub const BASE: &str = "https://gitlab.com";

const HEADER: &str = "private-token";

pub fn accepts(rule_id: &str, token: &str) -> bool {
    matches!(rule_id, "gitlab-pat" | "gitlab-pat-routable")
        && token.starts_with("glpat-")
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub fn verify(http: &Http, base: &str, token: &str) -> Verification {
    let call = Call::get(
        format!("{base}/api/v4/personal_access_tokens/self"),
        Auth::Header(HEADER, token),
    );
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Gitlab, &call.describe()),
    };
    let json = answer.json();
    match (answer.status, &json) {
        (200, Some(body)) if body["id"].is_number() => {
            let revoked = body["revoked"].as_bool() == Some(true);
            let active = body["active"].as_bool();
            let mut v = if revoked {
                answer
                    .verification(Status::Inactive, Provider::Gitlab)
                    .with_reason("revoked (GitLab reports revoked: true)")
            } else if active == Some(false) {
                answer
                    .verification(Status::Inactive, Provider::Gitlab)
                    .with_reason("expired (GitLab reports active: false)")
            } else if active == Some(true) {
                answer.verification(Status::Active, Provider::Gitlab)
            } else {
                return answer
                    .verification(Status::Unknown, Provider::Gitlab)
                    .with_reason("GitLab's answer does not say whether the token is active");
            };
            v.scopes = strings(&body["scopes"]);
            v.expires_at = body["expires_at"].as_str().map(str::to_string);
            if v.status == Status::Active {
                v.owner = owner(http, base, token);
            }
            v
        }
        (401, _) => {
            let reason = match json.as_ref().and_then(|b| b["error_description"].as_str()) {
                Some(d) if d.to_ascii_lowercase().contains("expired") => {
                    "rejected by GitLab (401): expired"
                }
                Some(d) if d.to_ascii_lowercase().contains("revoked") => {
                    "rejected by GitLab (401): revoked"
                }
                _ => "rejected by GitLab (401): revoked, expired or never valid",
            };
            answer
                .verification(Status::Inactive, Provider::Gitlab)
                .with_reason(reason)
        }
        (403, Some(body)) if body["error"].as_str() == Some("insufficient_scope") => {
            let mut v = answer
                .verification(Status::Active, Provider::Gitlab)
                .with_reason(
                "authenticates, but lacks the scope to describe itself (403 insufficient_scope)",
            );
            v.owner = owner(http, base, token);
            v
        }
        _ => answer.unexpected(Provider::Gitlab),
    }
}

/// The owner's user name, when the token may read it; otherwise nothing
/// (this second request never changes the status).
fn owner(http: &Http, base: &str, token: &str) -> Option<String> {
    let call = Call::get(format!("{base}/api/v4/user"), Auth::Header(HEADER, token));
    let answer = http.send(&call).ok()?;
    if answer.status != 200 {
        return None;
    }
    answer.json()?["username"].as_str().map(str::to_string)
}

/// `DELETE /api/v4/personal_access_tokens/self`: the token revokes itself
/// (GitLab 15.0+), 204.
pub fn revoke(http: &Http, base: &str, token: &str) -> Attempt {
    let call = Call::new(
        reqwest::Method::DELETE,
        format!("{base}/api/v4/personal_access_tokens/self"),
        Auth::Header(HEADER, token),
    );
    Attempt::from_answer(http.send(&call), &call, |answer| match answer.status {
        204 => Ok("revoked itself (204)".into()),
        401 => Err("GitLab rejected the token (401): already revoked or expired".into()),
        403 => Err("GitLab refused (403): the token may not revoke itself".into()),
        _ => Err(answer
            .unexpected(Provider::Gitlab)
            .reason
            .unwrap_or_default()),
    })
}
