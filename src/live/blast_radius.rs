//! Azure DevOps blast radius (`--verify --blast-radius`): what a live PAT
//! reaches, found with read-only GETs.
//!
//! A PAT cannot read its own scopes, and the profile endpoint only says
//! whose it is. So patscan asks each organisation the token reaches for one
//! list per scope family (projects, code, build, release, packaging, work
//! items, service connections, agent pools, PAT administration): a JSON list
//! means the family's scope is granted, a 401, 403 or 203 sign-in page that
//! it is not. Every request is a GET of a documented list endpoint (the
//! README lists them), goes through the shared [`Http`] policy (rate limit,
//! `Retry-After`), and there are at most [`MAX_ORGS`] organisations and
//! [`MAX_REQUESTS`] requests per token.
//!
//! GETs cannot tell read from write: a reachable area is counted at its
//! family's severity (code, build, release and packaging `high`: they hold
//! the source and what builds and ships it; agent pools, service
//! connections and PAT administration `critical`: pipeline infrastructure,
//! the cloud credentials of service connections, and every PAT of the
//! organisation), projects and work items `medium`, nothing but the
//! profile `low`.

use std::collections::BTreeMap;

use super::azure_devops::{self, is_id};
use super::severity::Assessment;
use crate::detect::context::is_org_name;
use crate::model::{Access, OrgAccess, Reach, Severity};
use crate::net::{Answer, Auth, Call, Http};

/// Organisations probed per token at most.
pub const MAX_ORGS: usize = 5;
/// Requests per token at most (accounts, then per organisation one
/// connectionData and one per area).
pub const MAX_REQUESTS: usize = 60;

/// Which official host an area lives on.
#[derive(Debug, Clone, Copy)]
enum Host {
    Org,
    Release,
    Feeds,
    Admin,
}

/// What each area needs in its URL besides the organisation.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Needs {
    Nothing,
    /// A project (the first one the projects list named).
    Project,
    /// The token owner's subject descriptor (from connectionData).
    Subject,
}

struct Area {
    key: &'static str,
    host: Host,
    path: &'static str,
    needs: Needs,
    severity: Severity,
    /// The list's size means something (not so for work item fields).
    counted: bool,
}

/// The areas, in probe order; `projects` comes first as the others may
/// need one of its projects.
const AREAS: &[Area] = &[
    Area {
        key: "projects",
        host: Host::Org,
        path: "/_apis/projects?api-version=7.1",
        needs: Needs::Nothing,
        severity: Severity::Medium,
        counted: true,
    },
    Area {
        key: "code",
        host: Host::Org,
        path: "/_apis/git/repositories?api-version=7.1",
        needs: Needs::Nothing,
        severity: Severity::High,
        counted: true,
    },
    Area {
        key: "build",
        host: Host::Org,
        path: "/_apis/build/definitions?api-version=7.1",
        needs: Needs::Project,
        severity: Severity::High,
        counted: true,
    },
    Area {
        key: "release",
        host: Host::Release,
        path: "/_apis/release/definitions?api-version=7.1",
        needs: Needs::Project,
        severity: Severity::High,
        counted: true,
    },
    Area {
        key: "packaging",
        host: Host::Feeds,
        path: "/_apis/packaging/feeds?api-version=7.1",
        needs: Needs::Nothing,
        severity: Severity::High,
        counted: true,
    },
    Area {
        key: "work-items",
        host: Host::Org,
        path: "/_apis/wit/fields?api-version=7.1",
        needs: Needs::Nothing,
        severity: Severity::Medium,
        counted: false,
    },
    Area {
        key: "service-connections",
        host: Host::Org,
        path: "/_apis/serviceendpoint/endpoints?api-version=7.1",
        needs: Needs::Project,
        severity: Severity::Critical,
        counted: true,
    },
    Area {
        key: "agent-pools",
        host: Host::Org,
        path: "/_apis/distributedtask/pools?api-version=7.1",
        needs: Needs::Nothing,
        severity: Severity::Critical,
        counted: true,
    },
    Area {
        key: "pat-administration",
        host: Host::Admin,
        path: "/_apis/tokenadmin/personalaccesstokens/{subject}?isPublic=false&pageSize=1&api-version=7.1-preview.1",
        needs: Needs::Subject,
        severity: Severity::Critical,
        counted: false,
    },
];

/// The area keys in probe order, for the README and tests.
pub fn area_keys() -> impl Iterator<Item = &'static str> {
    AREAS.iter().map(|a| a.key)
}

/// The official hosts (or, under a test override, the emulator for all).
struct Hosts<'a> {
    profile: &'a str,
    org: &'a str,
    release: &'a str,
    feeds: &'a str,
    admin: &'a str,
}

impl<'a> Hosts<'a> {
    fn new(base: &'a str) -> Hosts<'a> {
        if base == azure_devops::BASE {
            Hosts {
                profile: azure_devops::BASE,
                org: azure_devops::ORG_BASE,
                release: azure_devops::RELEASE_BASE,
                feeds: azure_devops::FEEDS_BASE,
                admin: azure_devops::ADMIN_BASE,
            }
        } else {
            Hosts {
                profile: base,
                org: base,
                release: base,
                feeds: base,
                admin: base,
            }
        }
    }

    fn of(&self, host: Host) -> &'a str {
        match host {
            Host::Org => self.org,
            Host::Release => self.release,
            Host::Feeds => self.feeds,
            Host::Admin => self.admin,
        }
    }
}

/// The request budget of one token.
struct Budget {
    used: usize,
}

impl Budget {
    fn send(&mut self, http: &Http, url: String, token: &str) -> Option<Result<Answer, String>> {
        if self.used >= MAX_REQUESTS {
            return None;
        }
        self.used += 1;
        let call = Call::get(url, Auth::BasicPat(token));
        Some(http.send(&call).map_err(|failure| failure.to_string()))
    }
}

/// Probes what `token` reaches. `named` are the organisations found near
/// the token; `member_id` is the profile's id when the profile endpoint
/// accepted the token (its accounts are added).
pub fn probe(
    http: &Http,
    base: &str,
    token: &str,
    named: &[String],
    member_id: Option<&str>,
) -> Access {
    let hosts = Hosts::new(base);
    let mut budget = Budget { used: 0 };
    let mut notes = Vec::new();
    let mut orgs: Vec<String> = Vec::new();
    let add = |orgs: &mut Vec<String>, name: &str| {
        let name = name.to_ascii_lowercase();
        if is_org_name(&name) && !orgs.contains(&name) {
            orgs.push(name);
        }
    };
    for name in named {
        add(&mut orgs, name);
    }
    match member_id.filter(|id| is_id(id)) {
        Some(id) => match accounts(http, &hosts, id, token, &mut budget) {
            Ok(names) => {
                for name in names {
                    add(&mut orgs, &name);
                }
            }
            Err(reason) => notes.push(format!("the profile's accounts were not listed: {reason}")),
        },
        None => notes.push(
            "the profile endpoint refused the token, so only the organisations named near \
             it were probed"
                .to_string(),
        ),
    }
    if orgs.len() > MAX_ORGS {
        notes.push(format!(
            "{} more organisation(s) not probed (at most {MAX_ORGS} per token)",
            orgs.len() - MAX_ORGS
        ));
        orgs.truncate(MAX_ORGS);
    }
    if orgs.is_empty() {
        notes.push("no organisation is known to probe".to_string());
    }
    let mut organisations = BTreeMap::new();
    for org in &orgs {
        organisations.insert(
            org.clone(),
            probe_org(http, &hosts, org, token, &mut budget),
        );
    }
    if budget.used >= MAX_REQUESTS {
        notes.push(format!(
            "the request budget ({MAX_REQUESTS} per token) ran out"
        ));
    }
    let accepted_any = organisations.values().any(|o| o.accepted);
    Access {
        organisations,
        organisation_scoped: member_id.is_none() && accepted_any,
        requests: budget.used,
        notes,
    }
}

/// `GET {profile}/_apis/accounts?memberId={id}`: the organisations of the
/// token's owner.
fn accounts(
    http: &Http,
    hosts: &Hosts<'_>,
    member_id: &str,
    token: &str,
    budget: &mut Budget,
) -> Result<Vec<String>, String> {
    let url = format!(
        "{}/_apis/accounts?memberId={member_id}&api-version=7.1",
        hosts.profile
    );
    let answer = budget
        .send(http, url, token)
        .ok_or_else(|| "request budget reached".to_string())??;
    let body = answer.json().filter(|_| answer.status == 200);
    let Some(items) = body.as_ref().and_then(|b| b["value"].as_array()) else {
        return Err(format!("HTTP {}", answer.status));
    };
    Ok(items
        .iter()
        .filter_map(|a| a["accountName"].as_str())
        .map(str::to_string)
        .collect())
}

fn probe_org(
    http: &Http,
    hosts: &Hosts<'_>,
    org: &str,
    token: &str,
    budget: &mut Budget,
) -> OrgAccess {
    let mut access = OrgAccess::default();
    let url = format!("{}/{org}/_apis/connectionData", hosts.org);
    let subject = match budget.send(http, url, token) {
        None => {
            access
                .unclear
                .insert("organisation".into(), "request budget reached".into());
            return access;
        }
        Some(Err(reason)) => {
            access.unclear.insert("organisation".into(), reason);
            return access;
        }
        Some(Ok(answer)) => match answer.json().filter(|_| answer.status == 200) {
            Some(body) if body["authenticatedUser"]["id"].is_string() => {
                access.accepted = true;
                body["authenticatedUser"]["subjectDescriptor"]
                    .as_str()
                    .filter(|d| is_id(d))
                    .map(str::to_string)
            }
            _ if refused(&answer) => return access,
            _ => {
                access
                    .unclear
                    .insert("organisation".into(), format!("HTTP {}", answer.status));
                return access;
            }
        },
    };
    let mut project: Option<String> = None;
    for area in AREAS {
        let segment = match area.needs {
            Needs::Nothing => String::new(),
            Needs::Project => match &project {
                Some(p) => format!("/{p}"),
                None => {
                    access.unclear.insert(
                        area.key.into(),
                        "not checked: needs a project, and none was listed".into(),
                    );
                    continue;
                }
            },
            Needs::Subject => String::new(),
        };
        let path = match (&subject, area.needs) {
            (Some(s), Needs::Subject) => area.path.replace("{subject}", s),
            (None, Needs::Subject) => {
                access.unclear.insert(
                    area.key.into(),
                    "not checked: the owner's descriptor is unknown".into(),
                );
                continue;
            }
            _ => area.path.to_string(),
        };
        let url = format!("{}/{org}{segment}{path}", hosts.of(area.host));
        let answer = match budget.send(http, url, token) {
            None => {
                access
                    .unclear
                    .insert(area.key.into(), "request budget reached".into());
                continue;
            }
            Some(Err(reason)) => {
                access.unclear.insert(area.key.into(), reason);
                continue;
            }
            Some(Ok(answer)) => answer,
        };
        let body = answer.json().filter(|_| answer.status == 200);
        match body
            .as_ref()
            .and_then(|b| b["value"].as_array().map(|v| (b, v)))
        {
            Some((body, items)) => {
                if area.key == "projects" {
                    project = items
                        .iter()
                        .find_map(|p| p["id"].as_str().filter(|id| is_id(id)))
                        .map(str::to_string);
                }
                let count = area
                    .counted
                    .then(|| body["count"].as_u64().unwrap_or(items.len() as u64));
                access.reachable.push(Reach {
                    area: area.key.to_string(),
                    count,
                });
            }
            None if refused(&answer) => access.absent.push(area.key.to_string()),
            None => {
                access
                    .unclear
                    .insert(area.key.into(), format!("HTTP {}", answer.status));
            }
        }
    }
    access
}

/// Azure DevOps' ways of saying "not with this token": 401, 403, and a
/// 203 (or any) sign-in page.
fn refused(answer: &Answer) -> bool {
    matches!(answer.status, 401 | 403 | 203) || answer.is_html()
}

/// The severity the reachable areas support (see the module docs).
pub fn assessment(access: &Access) -> Assessment {
    let mut best: Option<(Severity, &str, &str)> = None;
    for (org, access) in &access.organisations {
        for reach in &access.reachable {
            let Some(area) = AREAS.iter().find(|a| a.key == reach.area) else {
                continue;
            };
            if best.map_or(true, |(s, _, _)| area.severity > s) {
                best = Some((area.severity, area.key, org));
            }
        }
    }
    let unclear = access.organisations.values().any(|o| !o.unclear.is_empty());
    let note = "; GETs cannot tell read from write";
    match best {
        Some((severity, area, org)) if severity >= Severity::High || !unclear => Assessment {
            severity,
            basis: format!("{area} reachable in {org}{note}"),
        },
        _ if unclear => Assessment {
            severity: Severity::High,
            basis: "some areas could not be checked; assumed able to write".into(),
        },
        _ if access.organisations.is_empty() => Assessment {
            severity: Severity::High,
            basis: "no organisation was known to probe; assumed able to write".into(),
        },
        _ => Assessment {
            severity: Severity::Low,
            basis: "no area answered: nothing beyond the owner's identity".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An organisation: its name, reachable areas, and unclear ones.
    type Org<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);

    fn access(areas: &[Org<'_>]) -> Access {
        let mut organisations = BTreeMap::new();
        for (org, reachable, unclear) in areas {
            organisations.insert(
                org.to_string(),
                OrgAccess {
                    accepted: true,
                    reachable: reachable
                        .iter()
                        .map(|a| Reach {
                            area: a.to_string(),
                            count: None,
                        })
                        .collect(),
                    absent: Vec::new(),
                    unclear: unclear
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                },
            );
        }
        Access {
            organisations,
            organisation_scoped: false,
            requests: 0,
            notes: Vec::new(),
        }
    }

    #[test]
    fn severity_follows_the_most_dangerous_reachable_area() {
        let a = access(&[
            ("a", &["projects", "code"], &[]),
            ("b", &["agent-pools"], &[]),
        ]);
        let got = assessment(&a);
        assert_eq!(got.severity, Severity::Critical);
        assert!(got.basis.starts_with("agent-pools reachable in b"));
        assert_eq!(
            assessment(&access(&[("a", &["projects", "packaging"], &[])])).severity,
            Severity::High
        );
        assert_eq!(
            assessment(&access(&[("a", &["projects", "work-items"], &[])])).severity,
            Severity::Medium
        );
        assert_eq!(
            assessment(&access(&[("a", &[], &[])])).severity,
            Severity::Low
        );
    }

    #[test]
    fn unclear_areas_never_lower_the_severity() {
        let a = access(&[("a", &["projects"], &[("code", "HTTP 500")])]);
        assert_eq!(assessment(&a).severity, Severity::High);
        let a = access(&[("a", &["service-connections"], &[("code", "HTTP 500")])]);
        assert_eq!(assessment(&a).severity, Severity::Critical);
    }

    #[test]
    fn every_area_path_is_a_get_of_a_list() {
        for area in AREAS {
            assert!(area.path.starts_with("/_apis/"), "{}", area.key);
            assert!(area.path.contains("api-version="), "{}", area.key);
        }
    }
}
