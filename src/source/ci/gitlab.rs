//! GitLab CI (gitlab.com or self-managed): the group's projects (or one
//! project), their finished pipelines (`/projects/{id}/pipelines`), each
//! pipeline's jobs, their traces (`/jobs/{id}/trace`, plain text, a line
//! per anchor `#L{n}` on the job's page) and artifacts (`/jobs/{id}/artifacts`,
//! a zip).

use std::sync::Arc;

use serde_json::Value;

use super::api::{Api, CallError};
use super::run::Window;
use super::{Artifact, CiError, CiSpec, Kind, Log, Markers, Pipeline, Run};
use crate::model::Repository;
use crate::source::org::listing::{encode, link_next, text};

/// What a refusal of the API means.
pub const API_SCOPE: &str = "the read_api scope (and at least the Reporter role)";

/// The next page: `Link`, or `X-Next-Page` on `base`.
fn next_page(base: &str, answer: &crate::net::Answer) -> Option<String> {
    link_next(answer).or_else(|| {
        let page = answer.header("x-next-page")?.trim();
        (!page.is_empty() && page.chars().all(|c| c.is_ascii_digit()))
            .then(|| format!("{base}&page={page}"))
    })
}

/// `GROUP[/SUB…]` is a group (its projects, with subgroups) unless it
/// names a project.
pub fn pipelines(api: &Api<'_>, spec: &CiSpec) -> Result<(Vec<Pipeline>, Vec<String>), CiError> {
    let path = &spec.org.name;
    let mut projects: Vec<Value> = Vec::new();
    let single = format!("{}/api/v4/projects/{}", api.base(), encode(path));
    match api.json(&single, API_SCOPE) {
        Ok((_, project)) => projects.push(project),
        Err(CallError::Gone(_)) => {
            let base = format!(
                "{}/api/v4/groups/{}/projects?include_subgroups=true&per_page=100&order_by=id&sort=asc",
                api.base(),
                encode(path)
            );
            api.pages(
                base.clone(),
                API_SCOPE,
                |answer, _| next_page(&base, answer),
                |page| {
                    let Value::Array(items) = page else {
                        return Err("expected a JSON array of projects".into());
                    };
                    projects.extend(items.iter().cloned());
                    Ok(true)
                },
            )
            .map_err(|e| CiError::Listing(e.message().to_string()))?;
        }
        Err(e) => return Err(CiError::Listing(e.message().to_string())),
    }
    let mut pipelines = Vec::new();
    let mut problems = Vec::new();
    for project in &projects {
        let (Some(id), Some(name)) = (text(project, "id"), text(project, "path_with_namespace"))
        else {
            problems.push("a project without `id` or `path_with_namespace`".into());
            continue;
        };
        let url = text(project, "web_url").unwrap_or_default();
        pipelines.push(Pipeline {
            id: id.clone(),
            name: name.clone(),
            url: url.clone(),
            repository: Arc::new(Repository {
                platform: "gitlab",
                organisation: path.clone(),
                project: None,
                name,
                url,
                id: id.clone(),
            }),
            scope: id.clone(),
            key: id,
            kind: Kind::Build,
        });
    }
    Ok((pipelines, problems))
}

/// The project's finished pipelines in the window, newest first.
pub fn runs(api: &Api<'_>, pipeline: &Pipeline, window: &Window) -> Result<Vec<Run>, CallError> {
    let mut base = format!(
        "{}/api/v4/projects/{}/pipelines?scope=finished&order_by=id&sort=desc&per_page=100",
        api.base(),
        encode(&pipeline.scope)
    );
    if let Some(since) = window.since_timestamp() {
        base.push_str(&format!("&updated_after={}", encode(&since)));
    }
    let mut runs = Vec::new();
    api.pages(
        base.clone(),
        API_SCOPE,
        |answer, _| next_page(&base, answer),
        |page| {
            let Value::Array(items) = page else {
                return Err("expected a JSON array of pipelines".into());
            };
            window.take_runs(&mut runs, items, |item| {
                let id = text(item, "id").ok_or("a pipeline without `id`")?;
                let number = text(item, "iid").unwrap_or_else(|| id.clone());
                Ok(Run {
                    label: format!("#{number}"),
                    url: text(item, "web_url").unwrap_or_default(),
                    id,
                })
            })
        },
    )?;
    Ok(runs)
}

/// A pipeline's job traces and artifacts.
#[allow(clippy::type_complexity)]
pub fn contents(
    api: &Api<'_>,
    pipeline: &Pipeline,
    run: &Run,
) -> Result<(Vec<Log>, Vec<Artifact>, Vec<String>), CallError> {
    let project = format!("{}/api/v4/projects/{}", api.base(), encode(&pipeline.scope));
    let base = format!(
        "{project}/pipelines/{}/jobs?include_retried=true&per_page=100",
        encode(&run.id)
    );
    let mut logs = Vec::new();
    let mut artifacts = Vec::new();
    api.pages(
        base.clone(),
        API_SCOPE,
        |answer, _| next_page(&base, answer),
        |page| {
            let Value::Array(jobs) = page else {
                return Err("expected a JSON array of jobs".into());
            };
            for job in jobs {
                let id = text(job, "id").ok_or("a job without `id`")?;
                let name = text(job, "name").unwrap_or_else(|| id.clone());
                let web = text(job, "web_url");
                logs.push(Log {
                    job: name.clone(),
                    step: String::new(),
                    url: format!("{project}/jobs/{}/trace", encode(&id)),
                    line_url: web.map(|w| format!("{w}#L{{line}}")),
                    markers: Markers::GitlabSection,
                    archive: false,
                });
                if job["artifacts_file"].is_object() {
                    artifacts.push(Artifact {
                        name: format!("{name}-{id}"),
                        url: format!("{project}/jobs/{}/artifacts", encode(&id)),
                        gone: false,
                    });
                }
            }
            Ok(true)
        },
    )?;
    Ok((logs, artifacts, Vec::new()))
}
