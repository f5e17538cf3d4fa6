//! GitLab (gitlab.com or self-managed): `GET /api/v4/groups/{id}/projects`
//! with subgroups, 100 per page, following the `Link` header or, without
//! one, `X-Next-Page`.

use serde_json::Value;

use super::{encode, link_next, required, Listed, Pager};
use crate::source::org::spec::OrgSpec;
use crate::source::org::OrgError;

pub fn list(pager: &Pager<'_>, spec: &OrgSpec) -> Result<Vec<Listed>, OrgError> {
    // A group path (`group/sub`) is one URL-encoded id.
    let base = format!(
        "{}/api/v4/groups/{}/projects?include_subgroups=true&per_page=100&order_by=id&sort=asc",
        pager.api(),
        encode(&spec.name)
    );
    let mut listed = Vec::new();
    let endpoint = base.clone();
    pager.pages(
        base.clone(),
        "application/json",
        |answer, _, _| {
            link_next(answer).or_else(|| {
                let page = answer.header("x-next-page")?.trim();
                (!page.is_empty() && page.chars().all(|c| c.is_ascii_digit()))
                    .then(|| format!("{base}&page={page}"))
            })
        },
        |page| {
            let Value::Array(projects) = page else {
                return Err(OrgError::Listing {
                    endpoint: endpoint.clone(),
                    message: "expected a JSON array of projects".into(),
                });
            };
            for project in projects {
                listed.push(Listed {
                    id: required(project, "id", &endpoint)?,
                    name: required(project, "path_with_namespace", &endpoint)?,
                    project: None,
                    clone_url: required(project, "http_url_to_repo", &endpoint)?,
                    web_url: required(project, "web_url", &endpoint)?,
                    archived: project["archived"].as_bool().unwrap_or(false),
                    disabled: false,
                    fork: project["forked_from_project"].is_object(),
                    empty: project["empty_repo"].as_bool().unwrap_or(false),
                });
            }
            Ok(())
        },
    )?;
    Ok(listed)
}
