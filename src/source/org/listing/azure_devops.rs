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
