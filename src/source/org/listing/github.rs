//! GitHub (and GitHub Enterprise Server): `GET /orgs/{org}/repos` or
//! `GET /users/{user}/repos`, 100 per page, following the `Link` header.

use serde_json::Value;

use super::{encode, link_next, required, Listed, Pager};
use crate::source::org::spec::{OrgSpec, Owner};
use crate::source::org::OrgError;

const ACCEPT: &str = "application/vnd.github+json";

pub fn list(pager: &Pager<'_>, spec: &OrgSpec) -> Result<Vec<Listed>, OrgError> {
    let first = match spec.owner {
        Owner::Organisation => format!(
            "{}/orgs/{}/repos?type=all&per_page=100",
            pager.api(),
            encode(&spec.name)
        ),
        Owner::User => format!(
            "{}/users/{}/repos?type=owner&per_page=100",
            pager.api(),
            encode(&spec.name)
        ),
    };
    let mut listed = Vec::new();
    let endpoint = first.clone();
    pager.pages(
        first,
        ACCEPT,
        |answer, _, _| link_next(answer),
        |page| {
            let Value::Array(repos) = page else {
                return Err(OrgError::Listing {
                    endpoint: endpoint.clone(),
                    message: "expected a JSON array of repositories".into(),
                });
            };
            for repo in repos {
                listed.push(Listed {
                    id: required(repo, "id", &endpoint)?,
                    name: required(repo, "full_name", &endpoint)?,
                    project: None,
                    clone_url: required(repo, "clone_url", &endpoint)?,
                    web_url: required(repo, "html_url", &endpoint)?,
                    archived: repo["archived"].as_bool().unwrap_or(false),
                    disabled: repo["disabled"].as_bool().unwrap_or(false),
                    fork: repo["fork"].as_bool().unwrap_or(false),
                    empty: false,
                });
            }
            Ok(())
        },
    )?;
    Ok(listed)
}
