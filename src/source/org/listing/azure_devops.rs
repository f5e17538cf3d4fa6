//! Azure DevOps (Services or Server): `GET {org}/_apis/git/repositories`
//! for the whole organisation (collection), or
//! `{org}/{project}/_apis/git/repositories` for one project, following
//! `x-ms-continuationtoken` when the service pages.

use serde_json::Value;

use super::{encode, required, text, Listed, Pager};
use crate::source::org::spec::OrgSpec;
use crate::source::org::OrgError;

const API_VERSION: &str = "7.1";

pub fn list(pager: &Pager<'_>, spec: &OrgSpec) -> Result<Vec<Listed>, OrgError> {
    let base = match &spec.project {
        Some(project) => format!(
            "{}/{}/{}/_apis/git/repositories?api-version={API_VERSION}",
            pager.api(),
            encode(&spec.name),
            encode(project)
        ),
        None => format!(
            "{}/{}/_apis/git/repositories?api-version={API_VERSION}",
            pager.api(),
            encode(&spec.name)
        ),
    };
    let mut listed = Vec::new();
    let endpoint = base.clone();
    pager.pages(
        base.clone(),
        "application/json",
        |answer, _, _| {
            let token = answer.header("x-ms-continuationtoken")?.trim();
            (!token.is_empty()).then(|| format!("{base}&continuationToken={}", encode(token)))
        },
        |page| {
            let Some(Value::Array(repos)) = page.get("value") else {
                return Err(OrgError::Listing {
                    endpoint: endpoint.clone(),
                    message: "expected {\"value\": [repositories]}".into(),
                });
            };
            for repo in repos {
                let project = text(&repo["project"], "name");
                listed.push(Listed {
                    id: required(repo, "id", &endpoint)?,
                    name: required(repo, "name", &endpoint)?,
                    project,
                    clone_url: required(repo, "remoteUrl", &endpoint)?,
                    web_url: required(repo, "webUrl", &endpoint)?,
                    archived: false,
                    disabled: repo["isDisabled"].as_bool().unwrap_or(false),
                    fork: repo["isFork"].as_bool().unwrap_or(false),
                    // A repository with no commits has no default branch.
                    empty: !matches!(repo.get("defaultBranch"), Some(Value::String(_)))
                        && repo["size"].as_u64() == Some(0),
                });
            }
            Ok(())
        },
    )?;
    Ok(listed)
}

/// `GET {org}[/{project}]/_apis/wiki/wikis`: the project wikis (their own
/// git repositories; a code wiki is a folder of a listed repository).
pub fn wikis(pager: &Pager<'_>, spec: &OrgSpec) -> Result<Vec<Listed>, OrgError> {
    let url = match &spec.project {
        Some(project) => format!(
            "{}/{}/{}/_apis/wiki/wikis?api-version={API_VERSION}",
            pager.api(),
            encode(&spec.name),
            encode(project)
        ),
        None => format!(
            "{}/{}/_apis/wiki/wikis?api-version={API_VERSION}",
            pager.api(),
            encode(&spec.name)
        ),
    };
    let mut listed = Vec::new();
    let endpoint = url.clone();
    pager.pages(
        url,
        "application/json",
        |_, _, _| None,
        |page| {
            let Some(Value::Array(wikis)) = page.get("value") else {
                return Err(OrgError::Listing {
                    endpoint: endpoint.clone(),
                    message: "expected {\"value\": [wikis]}".into(),
                });
            };
            for wiki in wikis.iter().filter(|w| w["type"] == "projectWiki") {
                let clone_url = required(wiki, "remoteUrl", &endpoint)?;
                // `…/{org}/{project}/_git/{name}`: the project is named there.
                let project = clone_url
                    .split("/_git/")
                    .next()
                    .and_then(|head| head.rsplit('/').next())
                    .map(|p| p.replace("%20", " "));
                listed.push(Listed {
                    id: required(wiki, "repositoryId", &endpoint)?,
                    name: required(wiki, "name", &endpoint)?,
                    project,
                    web_url: clone_url.clone(),
                    clone_url,
                    archived: false,
                    disabled: false,
                    fork: false,
                    empty: false,
                });
            }
            Ok(())
        },
    )?;
    Ok(listed)
}
