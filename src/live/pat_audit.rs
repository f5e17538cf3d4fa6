//! `patscan azure-devops audit`: an organisation's PAT hygiene, read with
//! an administrator's credential.
//!
//! Two documented APIs, both read-only GETs on `vssps.dev.azure.com`:
//! Graph lists the organisation's users (`_apis/graph/users`, paged by the
//! `X-MS-ContinuationToken` response header), and Token Administration
//! lists each user's PATs (`_apis/tokenadmin/personalaccesstokens/{subject}`,
//! paged by the `continuationToken` field). Neither ever returns a token's
//! value, so the audit cannot leak one. Each valid PAT is reported with its
//! owner, name, scopes, validity and reach, and flagged where Microsoft's
//! guidance warns: full access, long lifetimes, global reach, and tokens
//! whose owner was deleted in the identity provider.
//!
//! Combined with a scan report, each leaked Azure DevOps token verified
//! active is matched to its owner's authorizations in this organisation.
//! The APIs cannot tell which authorization a leaked value belongs to, so
//! the result is a candidate list, narrowed by owner and organisation only.

use thiserror::Error;

use super::azure_devops::{self, admin_auth, is_id};
use super::support::AnswerVerdict as _;
use crate::model::audit::{AuditReport, AuditToken, Flag, LeakMatch, Reach};
use crate::net::{Answer, Call, Http};

/// Pages read per listing at most (users, or one user's PATs).
const MAX_PAGES: usize = 50;

/// A token valid for more than this many days from now is flagged.
pub const YEAR_DAYS: i64 = 365;

#[derive(Debug, Error)]
pub enum AuditError {
    #[error(
        "the admin credential was refused by {api} (HTTP {status}): it needs {scope} in \
         organisation {org}{hint}"
    )]
    Refused {
        api: &'static str,
        status: u16,
        scope: &'static str,
        org: String,
        hint: &'static str,
    },
    #[error("{api}: {reason} ({endpoint})")]
    Failed {
        api: &'static str,
        reason: String,
        endpoint: String,
    },
}

/// A leaked Azure DevOps token as a scan report names it.
#[derive(Debug, Clone)]
pub struct Leak {
    pub fingerprint: String,
    pub rule_id: String,
    pub secret: String,
    pub owner: String,
    pub organisation: Option<String>,
}

struct User {
    descriptor: String,
    name: String,
    deleted: bool,
}

/// Reads the organisation's users and their PATs and flags them.
pub fn run(
    http: &Http,
    base: &str,
    org: &str,
    admin: &str,
    max_days: u32,
    today: i64,
) -> Result<AuditReport, AuditError> {
    let base = if base == azure_devops::BASE {
        azure_devops::ADMIN_BASE
    } else {
        base
    };
    let mut requests = 0;
    let users = list_users(http, base, org, admin, &mut requests)?;
    let mut tokens = Vec::new();
    let mut not_valid = 0;
    for user in &users {
        for item in list_tokens(http, base, org, &user.descriptor, admin, &mut requests)? {
            match token(&item, user, max_days, today) {
                Some(t) => tokens.push(t),
                None => not_valid += 1,
            }
        }
    }
    tokens.sort_by(|a, b| {
        b.flags
            .len()
            .cmp(&a.flags.len())
            .then_with(|| a.owner.cmp(&b.owner))
            .then_with(|| a.display_name.cmp(&b.display_name))
    });
    Ok(AuditReport {
        organisation: org.to_string(),
        date: crate::civil_time::utc_day(today * 86_400),
        max_days,
        users: users.len(),
        users_deleted_in_origin: users.iter().filter(|u| u.deleted).count(),
        tokens,
        not_valid,
        leaks: None,
        requests,
    })
}

/// Marks the candidates of each leak and records the matches.
pub fn match_leaks(report: &mut AuditReport, leaks: &[Leak]) {
    let mut matches = Vec::new();
    for leak in leaks {
        let same_org = leak
            .organisation
            .as_deref()
            .map_or(true, |o| o.eq_ignore_ascii_case(&report.organisation));
        let mut candidates = Vec::new();
        if same_org {
            for t in report
                .tokens
                .iter_mut()
                .filter(|t| t.owner.eq_ignore_ascii_case(&leak.owner))
            {
                t.leak_candidate_for.push(leak.fingerprint.clone());
                candidates.push(t.authorization_id.clone());
            }
        }
        let note = if !same_org {
            format!(
                "verified in organisation {}, not this one",
                leak.organisation.as_deref().unwrap_or("?")
            )
        } else if candidates.is_empty() {
            "no valid PAT of this owner is listed here: revoked meanwhile, or it belongs to \
             another organisation"
                .to_string()
        } else {
            let by = if leak.organisation.is_some() {
                "owner and organisation"
            } else {
                "owner only (the scan did not name the organisation)"
            };
            format!(
                "candidates matched by {by}; the API never shows token values, so any of \
                 them may be the leaked one"
            )
        };
        matches.push(LeakMatch {
            fingerprint: leak.fingerprint.clone(),
            rule_id: leak.rule_id.clone(),
            secret: leak.secret.clone(),
            owner: leak.owner.clone(),
            candidates,
            note,
        });
    }
    report.leaks = Some(matches);
}

/// The verified-active Azure DevOps tokens of a `patscan scan --verify
/// --format json` report (grouped or `--ungrouped`).
pub fn leaks_in_scan_report(report: &serde_json::Value) -> Vec<Leak> {
    let entries = report["secrets"]
        .as_array()
        .or_else(|| report["findings"].as_array())
        .cloned()
        .unwrap_or_default();
    let mut leaks: Vec<Leak> = Vec::new();
    for entry in &entries {
        let v = &entry["verification"];
        let active = v["status"].as_str() == Some("active")
            && v["provider"].as_str() == Some("azure-devops");
        let (Some(owner), Some(fingerprint)) = (v["owner"].as_str(), entry["fingerprint"].as_str())
        else {
            continue;
        };
        if !active || leaks.iter().any(|l| l.fingerprint == fingerprint) {
            continue;
        }
        leaks.push(Leak {
            fingerprint: fingerprint.to_string(),
            rule_id: entry["rule_id"].as_str().unwrap_or("").to_string(),
            secret: entry["secret"].as_str().unwrap_or("").to_string(),
            owner: owner.to_string(),
            organisation: v["organisation"].as_str().map(str::to_string),
        });
    }
    leaks
}

fn token(item: &serde_json::Value, user: &User, max_days: u32, today: i64) -> Option<AuditToken> {
    let text = |key: &str| item[key].as_str().unwrap_or("").to_string();
    let valid_to = text("validTo");
    let created = text("validFrom");
    let to_day = crate::civil_time::epoch_day(&valid_to);
    let expired = to_day.is_some_and(|d| d < today);
    if item["isValid"].as_bool() == Some(false) || expired {
        return None;
    }
    let authorization_id = text("authorizationId");
    if !is_id(&authorization_id) {
        return None;
    }
    let scopes: Vec<String> = item["scope"]
        .as_str()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let lifetime_days = crate::civil_time::epoch_day(&created)
        .zip(to_day)
        .map(|(from, to)| to - from);
    let targets: Vec<&str> = item["targetAccounts"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t.as_str()).collect())
        .unwrap_or_default();
    let reach = match targets.len() {
        0 => Reach::AllOrganisations,
        1 => Reach::ThisOrganisation,
        _ => Reach::Organisations,
    };
    let mut flags = Vec::new();
    if scopes.iter().any(|s| s == "app_token") {
        flags.push(Flag::FullAccess);
    }
    if lifetime_days.is_some_and(|d| d > i64::from(max_days)) {
        flags.push(Flag::LongLived);
    }
    if to_day.is_some_and(|d| d - today > YEAR_DAYS) {
        flags.push(Flag::ValidOverAYear);
    }
    if reach == Reach::AllOrganisations {
        flags.push(Flag::Global);
    }
    if user.deleted {
        flags.push(Flag::OwnerDeleted);
    }
    Some(AuditToken {
        owner: user.name.clone(),
        display_name: text("displayName"),
        authorization_id,
        scopes,
        created,
        valid_to,
        lifetime_days,
        reach,
        flags,
        leak_candidate_for: Vec::new(),
    })
}

const GRAPH: &str = "Graph (users)";
const TOKEN_ADMIN: &str = "Token Administration";

/// `GET {vssps}/{org}/_apis/graph/users`, every page.
fn list_users(
    http: &Http,
    base: &str,
    org: &str,
    admin: &str,
    requests: &mut usize,
) -> Result<Vec<User>, AuditError> {
    let first = format!("{base}/{org}/_apis/graph/users?api-version=7.1-preview.1");
    let mut users = Vec::new();
    let mut continuation: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let url = with_continuation(&first, continuation.as_deref());
        let answer = get(http, url, admin, GRAPH, org, requests)?;
        let body = answer.json().filter(|_| answer.status == 200);
        let Some(items) = body.as_ref().and_then(|b| b["value"].as_array()) else {
            return Err(unexpected(&answer, GRAPH));
        };
        for item in items {
            let Some(descriptor) = item["descriptor"].as_str().filter(|d| is_id(d)) else {
                continue;
            };
            let name = item["principalName"]
                .as_str()
                .or_else(|| item["mailAddress"].as_str())
                .or_else(|| item["displayName"].as_str())
                .unwrap_or(descriptor);
            users.push(User {
                descriptor: descriptor.to_string(),
                name: name.to_string(),
                deleted: item["isDeletedInOrigin"].as_bool() == Some(true),
            });
        }
        continuation = answer
            .header("x-ms-continuationtoken")
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if continuation.is_none() {
            break;
        }
    }
    Ok(users)
}

/// `GET {vssps}/{org}/_apis/tokenadmin/personalaccesstokens/{subject}`,
/// every page.
fn list_tokens(
    http: &Http,
    base: &str,
    org: &str,
    subject: &str,
    admin: &str,
    requests: &mut usize,
) -> Result<Vec<serde_json::Value>, AuditError> {
    let first = format!(
        "{base}/{org}/_apis/tokenadmin/personalaccesstokens/{subject}?isPublic=false&api-version=7.1-preview.1"
    );
    let mut items = Vec::new();
    let mut continuation: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let url = with_continuation(&first, continuation.as_deref());
        let answer = get(http, url, admin, TOKEN_ADMIN, org, requests)?;
        let body = answer.json().filter(|_| answer.status == 200);
        let Some(page) = body.as_ref().and_then(|b| b["value"].as_array()) else {
            return Err(unexpected(&answer, TOKEN_ADMIN));
        };
        items.extend(page.iter().cloned());
        continuation = body
            .as_ref()
            .and_then(|b| b["continuationToken"].as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if continuation.is_none() {
            break;
        }
    }
    Ok(items)
}

fn with_continuation(first: &str, continuation: Option<&str>) -> String {
    match (continuation, reqwest::Url::parse(first)) {
        (Some(token), Ok(mut url)) => {
            url.query_pairs_mut()
                .append_pair("continuationToken", token);
            url.to_string()
        }
        _ => first.to_string(),
    }
}

/// One GET through the shared policy (rate limit, `Retry-After` on 429);
/// 401 and 403 become a message naming the scope the API needs.
fn get(
    http: &Http,
    url: String,
    admin: &str,
    api: &'static str,
    org: &str,
    requests: &mut usize,
) -> Result<Answer, AuditError> {
    *requests += 1;
    let call = Call::get(url, admin_auth(admin));
    let answer = http.send(&call).map_err(|failure| AuditError::Failed {
        api,
        reason: failure.to_string(),
        endpoint: call.describe(),
    })?;
    if matches!(answer.status, 401 | 403) || (answer.status == 203 && answer.is_html()) {
        let (scope, hint) = if api == GRAPH {
            ("Graph read (vso.graph)", "")
        } else {
            (
                "Token Administration (vso.tokenadministration)",
                ", and organisation administrator rights",
            )
        };
        return Err(AuditError::Refused {
            api,
            status: answer.status,
            scope,
            org: org.to_string(),
            hint,
        });
    }
    Ok(answer)
}

fn unexpected(answer: &Answer, api: &'static str) -> AuditError {
    AuditError::Failed {
        api,
        reason: answer
            .unexpected(crate::model::Provider::AzureDevops)
            .reason
            .unwrap_or_else(|| format!("unexpected answer (HTTP {})", answer.status)),
        endpoint: answer.endpoint.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(deleted: bool) -> User {
        User {
            descriptor: "aad.x".into(),
            name: "ada@contoso.example".into(),
            deleted,
        }
    }

    #[test]
    fn flags_follow_the_guidance() {
        let today = crate::civil_time::epoch_day("2026-12-01").unwrap();
        let item = json!({
            "authorizationId": "id-1", "displayName": "laptop", "scope": "app_token",
            "validFrom": "2026-01-01T00:00:00Z", "validTo": "2028-01-01T00:00:00Z",
            "targetAccounts": null, "isValid": true
        });
        let t = token(&item, &user(true), 90, today).unwrap();
        assert_eq!(
            t.flags,
            vec![
                Flag::FullAccess,
                Flag::LongLived,
                Flag::ValidOverAYear,
                Flag::Global,
                Flag::OwnerDeleted
            ]
        );
        assert_eq!(t.reach, Reach::AllOrganisations);
        let item = json!({
            "authorizationId": "id-2", "displayName": "ci", "scope": "vso.code vso.build",
            "validFrom": "2026-11-01T00:00:00Z", "validTo": "2026-12-31T00:00:00Z",
            "targetAccounts": ["0000-org"], "isValid": true
        });
        let t = token(&item, &user(false), 90, today).unwrap();
        assert!(t.flags.is_empty());
        assert_eq!(t.scopes, vec!["vso.code", "vso.build"]);
        assert_eq!(t.lifetime_days, Some(60));
        // Expired or revoked tokens are counted, not listed.
        let item = json!({
            "authorizationId": "id-3", "validFrom": "2025-01-01", "validTo": "2025-02-01",
            "isValid": true
        });
        assert!(token(&item, &user(false), 90, today).is_none());
    }

    #[test]
    fn leaks_match_by_owner_and_organisation() {
        let today = crate::civil_time::epoch_day("2026-12-01").unwrap();
        let item = json!({
            "authorizationId": "id-1", "displayName": "ci", "scope": "vso.code",
            "validFrom": "2026-11-01", "validTo": "2026-12-31", "targetAccounts": ["o"]
        });
        let mut report = AuditReport {
            organisation: "fabrikam".into(),
            date: String::new(),
            max_days: 90,
            users: 1,
            users_deleted_in_origin: 0,
            tokens: vec![token(&item, &user(false), 90, today).unwrap()],
            not_valid: 0,
            leaks: None,
            requests: 0,
        };
        let scan = json!({"secrets": [
            {"fingerprint": "fp1", "rule_id": "azure-devops-pat", "secret": "abc…",
             "verification": {"status": "active", "provider": "azure-devops",
                              "owner": "ADA@contoso.example", "organisation": "fabrikam"}},
            {"fingerprint": "fp2", "rule_id": "azure-devops-pat", "secret": "def…",
             "verification": {"status": "active", "provider": "azure-devops",
                              "owner": "ada@contoso.example", "organisation": "contoso"}},
            {"fingerprint": "fp3", "rule_id": "azure-devops-pat", "secret": "ghi…",
             "verification": {"status": "inactive", "provider": "azure-devops",
                              "owner": "ada@contoso.example"}}
        ]});
        let leaks = leaks_in_scan_report(&scan);
        assert_eq!(leaks.len(), 2);
        match_leaks(&mut report, &leaks);
        let matches = report.leaks.as_ref().unwrap();
        assert_eq!(matches[0].candidates, vec!["id-1"]);
        assert!(matches[1].candidates.is_empty());
        assert!(matches[1].note.contains("contoso"));
        assert_eq!(report.tokens[0].leak_candidate_for, vec!["fp1"]);
    }
}
