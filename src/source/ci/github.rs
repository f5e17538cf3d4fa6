//! GitHub Actions (github.com or Enterprise Server): each repository's
//! workflows (`/repos/{o}/{r}/actions/workflows`), their completed runs
//! (`…/workflows/{id}/runs`, `Link` paging), each run's jobs and their
//! logs (`…/actions/jobs/{id}/logs`, a redirect to the plain text, read
//! without the credential) and artifacts (`…/artifacts/{id}/zip`).

use std::sync::Arc;

use serde_json::Value;

use super::api::{Api, CallError};
use super::run::Window;
use super::{Artifact, CiError, CiSpec, Kind, Log, Markers, Pipeline, Run};
use crate::model::Repository;
use crate::source::org::listing::{encode, link_next, text};

/// What a refusal of the Actions APIs means.
pub const ACTIONS_SCOPE: &str =
    "actions:read (a fine-grained token's Actions: read; a classic token's repo scope)";
const REPO_SCOPE: &str = "read access to the repositories (metadata:read)";

/// The repositories, then each one's workflows.
pub fn pipelines(api: &Api<'_>, spec: &CiSpec) -> Result<(Vec<Pipeline>, Vec<String>), CiError> {
    let org = &spec.org.name;
    let mut repos: Vec<Value> = Vec::new();
    match &spec.repo {
        Some(repo) => {
            let url = format!("{}/repos/{}/{}", api.base(), encode(org), encode(repo));
            let (_, json) = api
                .json(&url, REPO_SCOPE)
                .map_err(|e| CiError::Listing(e.message().to_string()))?;
            repos.push(json);
        }
        None => {
            let first = format!(
                "{}/orgs/{}/repos?type=all&per_page=100",
                api.base(),
                encode(org)
            );
            api.pages(
                first,
                REPO_SCOPE,
                |answer, _| link_next(answer),
                |page| {
                    let Value::Array(items) = page else {
                        return Err("expected a JSON array of repositories".into());
                    };
                    repos.extend(items.iter().cloned());
                    Ok(true)
                },
            )
            .map_err(|e| CiError::Listing(e.message().to_string()))?;
        }
    }
    let mut pipelines = Vec::new();
    let mut problems = Vec::new();
    for repo in &repos {
        let (Some(full), Some(repo_id)) = (text(repo, "full_name"), text(repo, "id")) else {
            problems.push("a repository without `full_name` or `id` in the listing".into());
            continue;
        };
        let html = text(repo, "html_url").unwrap_or_default();
        let repository = Arc::new(Repository {
            platform: "github",
            organisation: org.clone(),
            project: None,
            name: full.clone(),
            url: html.clone(),
            id: repo_id,
        });
        let first = format!(
            "{}/repos/{}/actions/workflows?per_page=100",
            api.base(),
            path_of(&full)
        );
        let listed = api.pages(
            first,
            ACTIONS_SCOPE,
            |answer, _| link_next(answer),
            |page| {
                let Some(Value::Array(workflows)) = page.get("workflows") else {
                    return Err("expected {\"workflows\": [...]}".into());
                };
                for workflow in workflows {
                    let id = text(workflow, "id").ok_or("a workflow without `id`")?;
                    let name = text(workflow, "name").unwrap_or_else(|| id.clone());
                    pipelines.push(Pipeline {
                        id: id.clone(),
                        name: format!("{full}: {name}"),
                        url: text(workflow, "html_url").unwrap_or_else(|| html.clone()),
                        repository: Arc::clone(&repository),
                        scope: full.clone(),
                        key: id,
                        kind: Kind::Build,
                    });
                }
                Ok(true)
            },
        );
        if let Err(e) = listed {
            problems.push(format!("{full}: {}", e.message()));
        }
    }
    Ok((pipelines, problems))
}

/// `owner/repo` as two encoded path segments.
fn path_of(full: &str) -> String {
    full.split('/').map(encode).collect::<Vec<_>>().join("/")
}

/// The workflow's completed runs in the window, newest first.
pub fn runs(api: &Api<'_>, pipeline: &Pipeline, window: &Window) -> Result<Vec<Run>, CallError> {
    let mut first = format!(
        "{}/repos/{}/actions/workflows/{}/runs?status=completed&per_page=100",
        api.base(),
        path_of(&pipeline.scope),
        encode(&pipeline.key)
    );
    if let Some(since) = window.since_timestamp() {
        first.push_str(&format!("&created={}", encode(&format!(">={since}"))));
    }
    let mut runs = Vec::new();
    api.pages(
        first,
        ACTIONS_SCOPE,
        |answer, _| link_next(answer),
        |page| {
            let Some(Value::Array(items)) = page.get("workflow_runs") else {
                return Err("expected {\"workflow_runs\": [...]}".into());
            };
            window.take_runs(&mut runs, items, |item| {
                let id = text(item, "id").ok_or("a run without `id`")?;
                let number = text(item, "run_number").unwrap_or_else(|| id.clone());
                Ok(Run {
                    label: format!("#{number}"),
                    url: text(item, "html_url").unwrap_or_default(),
                    id,
                })
            })
        },
    )?;
    Ok(runs)
}

/// A run's job logs and artifacts.
#[allow(clippy::type_complexity)]
pub fn contents(
    api: &Api<'_>,
    pipeline: &Pipeline,
    run: &Run,
) -> Result<(Vec<Log>, Vec<Artifact>, Vec<String>), CallError> {
    let repo = format!("{}/repos/{}", api.base(), path_of(&pipeline.scope));
    let mut logs = Vec::new();
    api.pages(
        format!(
            "{repo}/actions/runs/{}/jobs?filter=all&per_page=100",
            encode(&run.id)
        ),
        ACTIONS_SCOPE,
        |answer, _| link_next(answer),
        |page| {
            let Some(Value::Array(jobs)) = page.get("jobs") else {
                return Err("expected {\"jobs\": [...]}".into());
            };
            for job in jobs {
                let id = text(job, "id").ok_or("a job without `id`")?;
                logs.push(Log {
                    job: text(job, "name").unwrap_or_else(|| id.clone()),
                    step: String::new(),
                    url: format!("{repo}/actions/jobs/{}/logs", encode(&id)),
                    line_url: text(job, "html_url"),
                    markers: Markers::GithubGroup,
                    archive: false,
                });
            }
            Ok(true)
        },
    )?;
    let mut artifacts = Vec::new();
    let mut problems = Vec::new();
    let listed = api.pages(
        format!(
            "{repo}/actions/runs/{}/artifacts?per_page=100",
            encode(&run.id)
        ),
        ACTIONS_SCOPE,
        |answer, _| link_next(answer),
        |page| {
            let Some(Value::Array(items)) = page.get("artifacts") else {
                return Err("expected {\"artifacts\": [...]}".into());
            };
            for item in items {
                let id = text(item, "id").ok_or("an artifact without `id`")?;
                artifacts.push(Artifact {
                    name: text(item, "name").unwrap_or_else(|| id.clone()),
                    url: format!("{repo}/actions/artifacts/{}/zip", encode(&id)),
                    gone: item["expired"].as_bool().unwrap_or(false),
                });
            }
            Ok(true)
        },
    );
    if let Err(e) = listed {
        problems.push(format!("the artifacts: {}", e.message()));
    }
    Ok((logs, artifacts, problems))
}
