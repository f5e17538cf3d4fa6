//! Azure DevOps. Two checks, both with `Authorization: Basic base64(":PAT")`:
//!
//! - the profile endpoint, `GET https://app.vssps.visualstudio.com/_apis/profile/profiles/me`,
//!   which needs no organisation: 200 with the profile JSON is active, 401 is
//!   inactive, anything else unknown;
//! - for each organisation named near the token (`dev.azure.com/ORG`,
//!   `ORG.visualstudio.com`), `GET https://dev.azure.com/ORG/_apis/connectionData`:
//!   organisation-scoped PATs, the coming default, are only accepted there.
//!
//! Azure DevOps may answer bad credentials with a 203 and an HTML sign-in
//! page, so only JSON with the expected fields counts as active. The token
//! is active if any check accepts it, inactive only if every check rejected
//! it with a 401, and unknown otherwise.

use super::revoke::Attempt;
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::checksum;
use crate::detect::context::{is_org_name, MAX_INSTANCES};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Body, Call, Http};

/// The official profile host; it also stands for the provider in
/// `PATSCAN_ENDPOINT_OVERRIDES`.
pub const BASE: &str = "https://app.vssps.visualstudio.com";
/// The official organisation host.
pub const ORG_BASE: &str = "https://dev.azure.com";
/// The official host of release management (`--blast-radius`).
pub const RELEASE_BASE: &str = "https://vsrm.dev.azure.com";
/// The official host of Azure Artifacts feeds (`--blast-radius`).
pub const FEEDS_BASE: &str = "https://feeds.dev.azure.com";

const PROFILE_PATH: &str = "/_apis/profile/profiles/me?api-version=7.1-preview.3";
const CONNECTION_PATH: &str = "/_apis/connectionData";

pub fn accepts(rule_id: &str, token: &str) -> bool {
    match rule_id {
        "azure-devops-pat" => checksum::azure_devops_pat_valid(token.as_bytes()),
        "azure-devops-pat-legacy" => checksum::azure_devops_legacy_pat_valid(token.as_bytes()),
        _ => false,
    }
}

pub fn verify(
    http: &Http,
    base: &str,
    token: &str,
    organisations: &[String],
    blast_radius: bool,
) -> Verification {
    let (profile, member_id) = check_profile(http, base, token);
    // Under a test override both hosts are the emulator's.
    let org_base = if base == BASE { ORG_BASE } else { base };
    let orgs: Vec<Verification> = organisations
        .iter()
        .filter(|o| is_org_name(o))
        .take(MAX_INSTANCES)
        .map(|org| check_org(http, org_base, org, token))
        .collect();
    let mut v = combine(profile, orgs);
    if blast_radius && v.status == Status::Active {
        let access =
            super::blast_radius::probe(http, base, token, organisations, member_id.as_deref());
        if access.organisation_scoped {
            let note = "organisation-scoped: only organisation endpoints accept it";
            v.reason = Some(match v.reason.take() {
                Some(reason) => format!("{note}; {reason}"),
                None => note.to_string(),
            });
        }
        v.access = Some(access);
    }
    v
}

/// The profile check, and the profile's id (the member id its accounts
/// are listed by) when it accepted the token.
fn check_profile(http: &Http, base: &str, token: &str) -> (Verification, Option<String>) {
    let call = Call::get(format!("{base}{PROFILE_PATH}"), Auth::BasicPat(token));
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => {
            return (
                failure.verification(Provider::AzureDevops, &call.describe()),
                None,
            )
        }
    };
    match (answer.status, answer.json()) {
        (200, Some(body)) if body["id"].is_string() => {
            let mut v = answer.verification(Status::Active, Provider::AzureDevops);
            v.owner = body["emailAddress"]
                .as_str()
                .or_else(|| body["displayName"].as_str())
                .map(str::to_string);
            let id = body["id"]
                .as_str()
                .filter(|id| is_id(id))
                .map(str::to_string);
            (v, id)
        }
        (401, _) => (
            answer
                .verification(Status::Inactive, Provider::AzureDevops)
                .with_reason("rejected by Azure DevOps (401): revoked, expired or never valid"),
            None,
        ),
        _ => (answer.unexpected(Provider::AzureDevops), None),
    }
}

fn check_org(http: &Http, org_base: &str, org: &str, token: &str) -> Verification {
    let call = Call::get(
        format!("{org_base}/{org}{CONNECTION_PATH}"),
        Auth::BasicPat(token),
    );
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::AzureDevops, &call.describe()),
    };
    let user = answer.json().map(|b| b["authenticatedUser"].clone());
    match (answer.status, user) {
        (200, Some(user)) if user["id"].is_string() && !is_anonymous(&user) => {
            let mut v = answer.verification(Status::Active, Provider::AzureDevops);
            v.organisation = Some(org.to_string());
            v.owner_descriptor = user["subjectDescriptor"]
                .as_str()
                .filter(|d| is_id(d))
                .map(str::to_string);
            v.owner = user["properties"]["Account"]["$value"]
                .as_str()
                .or_else(|| user["providerDisplayName"].as_str())
                .map(str::to_string);
            v
        }
        (401, _) => {
            let mut v = answer
                .verification(Status::Inactive, Provider::AzureDevops)
                .with_reason(format!("rejected by organisation {org} (401)"));
            v.organisation = Some(org.to_string());
            v
        }
        _ => answer.unexpected(Provider::AzureDevops),
    }
}

/// Public (anonymous) access shows up as an authenticated user too.
fn is_anonymous(user: &serde_json::Value) -> bool {
    user["descriptor"].as_str().is_some_and(|d| {
        d.starts_with("System:PublicAccess") || d.contains("UnauthenticatedIdentity")
    })
}

/// Active if any check accepted the token (owner from the profile, the
/// organisation from an organisation check), inactive only if all of them
/// rejected it with a 401, unknown otherwise (with the first unclear reason).
fn combine(profile: Verification, orgs: Vec<Verification>) -> Verification {
    let all: Vec<&Verification> = std::iter::once(&profile).chain(orgs.iter()).collect();
    if let Some(active) = all.iter().find(|v| v.status == Status::Active) {
        let mut v = (*active).clone();
        if v.owner.is_none() {
            v.owner = all.iter().find_map(|o| o.owner.clone());
        }
        if let Some(org) = orgs.iter().find(|o| o.status == Status::Active) {
            if v.organisation.is_none() {
                v.organisation = org.organisation.clone();
            }
            if v.owner_descriptor.is_none() {
                v.owner_descriptor = org.owner_descriptor.clone();
            }
        }
        if profile.status != Status::Active {
            v.reason = Some(format!(
                "accepted by its organisation; the profile endpoint said: {}",
                profile.reason.as_deref().unwrap_or("no")
            ));
        }
        return v;
    }
    if all.iter().all(|v| v.status == Status::Inactive) {
        let mut v = profile;
        if orgs.is_empty() {
            v.reason = Some(
                "rejected by Azure DevOps (401): revoked, expired or never valid (no \
                 organisation URL was near it; an organisation-scoped PAT is only accepted \
                 by its organisation)"
                    .to_string(),
            );
        } else {
            let names: Vec<_> = orgs.iter().filter_map(|o| o.organisation.clone()).collect();
            v.reason = Some(format!(
                "rejected (401) by the profile endpoint and by organisation {}",
                names.join(", ")
            ));
        }
        return v;
    }
    all.into_iter()
        .find(|v| v.status == Status::Unknown)
        .cloned()
        .unwrap_or(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_credentials_pick_their_scheme() {
        assert!(matches!(
            admin_auth("eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ4In0.c2ln"),
            Auth::Bearer(_)
        ));
        assert!(matches!(admin_auth("a.b"), Auth::BasicPat(_)));
        assert!(matches!(admin_auth("abc123"), Auth::BasicPat(_)));
    }
}

/// The official host of the Token Administration API.
pub const ADMIN_BASE: &str = "https://vssps.dev.azure.com";

/// Where the owner revokes their PATs.
pub fn revoke_page(organisation: Option<&str>) -> String {
    match organisation.filter(|o| is_org_name(o)) {
        Some(org) => format!("https://dev.azure.com/{org}/_usersSettings/tokens"),
        None => "https://dev.azure.com/{organization}/_usersSettings/tokens".to_string(),
    }
}

/// One of the owner's PAT authorizations, as the Token Administration API
/// lists it (never the token).
#[derive(Debug, Clone)]
pub struct Authorization {
    pub id: String,
    pub name: String,
    pub valid_to: String,
    pub scope: String,
}

/// Lists the owner's valid PATs in `org` with an organisation admin's
/// credential: `GET {vssps}/{org}/_apis/tokenadmin/personalaccesstokens/{subject}`.
pub fn list_authorizations(
    http: &Http,
    base: &str,
    org: &str,
    subject: &str,
    admin: &str,
) -> Result<Vec<Authorization>, Attempt> {
    let base = if base == BASE { ADMIN_BASE } else { base };
    let first = format!(
        "{base}/{org}/_apis/tokenadmin/personalaccesstokens/{subject}?isPublic=false&api-version=7.1-preview.1"
    );
    let mut found = Vec::new();
    let mut continuation: Option<String> = None;
    for _ in 0..MAX_ADMIN_PAGES {
        let url = match &continuation {
            None => first.clone(),
            Some(token) => match reqwest::Url::parse(&first) {
                Ok(mut url) => {
                    url.query_pairs_mut()
                        .append_pair("continuationToken", token);
                    url.to_string()
                }
                Err(_) => break,
            },
        };
        let call = Call::get(url, admin_auth(admin));
        let answer = match http.send(&call) {
            Ok(answer) => answer,
            Err(failure) => return Err(Attempt::failed(failure.to_string(), &call, None)),
        };
        let body = answer.json().filter(|_| answer.status == 200);
        let Some(items) = body.as_ref().and_then(|b| b["value"].as_array()) else {
            let reason = match answer.status {
                401 | 403 => format!(
                    "the admin credential was refused ({}); it needs organisation admin rights",
                    answer.status
                ),
                _ => answer
                    .unexpected(Provider::AzureDevops)
                    .reason
                    .unwrap_or_default(),
            };
            return Err(Attempt::failed(reason, &call, Some(answer.status)));
        };
        let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
        found.extend(
            items
                .iter()
                .filter(|i| i["isValid"].as_bool() != Some(false))
                .filter(|i| i["authorizationId"].as_str().is_some_and(is_id))
                .map(|i| Authorization {
                    id: text(&i["authorizationId"]),
                    name: text(&i["displayName"]),
                    valid_to: text(&i["validTo"]),
                    scope: text(&i["scope"]),
                }),
        );
        continuation = body
            .as_ref()
            .and_then(|b| b["continuationToken"].as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if continuation.is_none() {
            break;
        }
    }
    Ok(found)
}

/// Pages of the admin listing read at most (a user rarely has more than one).
const MAX_ADMIN_PAGES: usize = 20;

/// `POST {vssps}/{org}/_apis/tokenadmin/revocations?isPublic=false` with
/// the authorization ids.
pub fn revoke_authorizations(
    http: &Http,
    base: &str,
    org: &str,
    ids: &[&str],
    admin: &str,
) -> Attempt {
    let base = if base == BASE { ADMIN_BASE } else { base };
    let body: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| serde_json::json!({ "authorizationId": id }))
        .collect();
    let call = Call::new(
        reqwest::Method::POST,
        format!(
            "{base}/{org}/_apis/tokenadmin/revocations?isPublic=false&api-version=7.1-preview.1"
        ),
        admin_auth(admin),
    )
    .body(Body::Json(serde_json::Value::Array(body)));
    Attempt::from_answer(http.send(&call), &call, |answer| match answer.status {
        200 | 204 => Ok(format!(
            "revoked {} PAT authorization(s) with the Token Administration API ({})",
            ids.len(),
            answer.status
        )),
        401 | 403 => Err(format!(
            "the admin credential was refused ({}); it needs organisation admin rights",
            answer.status
        )),
        _ => Err(answer
            .unexpected(Provider::AzureDevops)
            .reason
            .unwrap_or_default()),
    })
}

/// How an administrator's credential authenticates: an Entra ID access
/// token (a JWT: three dot-separated base64url parts) as Bearer, anything
/// else as a PAT with Basic.
pub fn admin_auth(admin: &str) -> Auth<'_> {
    let parts: Vec<&str> = admin.split('.').collect();
    let jwt = parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'='))
        });
    if jwt {
        Auth::Bearer(admin)
    } else {
        Auth::BasicPat(admin)
    }
}

/// Identity descriptors and authorization ids only ever fill a URL path
/// segment or a JSON string; they are checked to be plain first.
pub fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 512
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}
