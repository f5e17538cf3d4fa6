//! Azure Pipelines (Azure DevOps Services or Server): build definitions
//! (`_apis/build/definitions`), their completed builds (`_apis/build/builds`,
//! newest first, `x-ms-continuationtoken` paging), each build's timeline
//! (which task wrote which log), its logs (`…/logs/{id}`, plain text) and
//! its artifacts (`…/artifacts`, each as a zip).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::api::{Api, CallError};
use super::run::Window;
use super::{Artifact, CiError, CiSpec, Kind, Log, Markers, Pipeline, Run};
use crate::model::Repository;
use crate::source::org::listing::{encode, text};

const API_VERSION: &str = "7.1";
/// Azure DevOps Services' release API is on a host of its own; Azure
/// DevOps Server (and the test emulator) serve it with the rest.
pub const RELEASES: &str = "https://vsrm.dev.azure.com";
const SERVICES: &str = "https://dev.azure.com";
/// What a refusal of the release APIs means.
pub const RELEASE_SCOPE: &str = "the Release (Read) scope";

/// The release API's base for the API at `api`.
pub fn releases_base(api: &str) -> &str {
    if api == SERVICES {
        RELEASES
    } else {
        api
    }
}
/// What a refusal of the build APIs means.
pub const BUILD_SCOPE: &str = "the Build (Read) scope";
const PROJECT_SCOPE: &str = "the Project and Team (Read) scope";

/// The next page's URL from `x-ms-continuationtoken`.
fn continuation(base: &str, answer: &crate::net::Answer) -> Option<String> {
    let token = answer.header("x-ms-continuationtoken")?.trim();
    (!token.is_empty()).then(|| format!("{base}&continuationToken={}", encode(token)))
}

/// `{"value": [...]}`'s items.
fn values(page: &Value) -> Result<&Vec<Value>, String> {
    match page.get("value") {
        Some(Value::Array(items)) => Ok(items),
        _ => Err("expected {\"value\": [...]}".into()),
    }
}

/// The project's API base: `{api}/{org}/{project}`.
fn project_base(api: &Api<'_>, org: &str, project: &str) -> String {
    format!("{}/{}/{}", api.base(), encode(org), encode(project))
}

/// Every build definition of the organisation (or project).
pub fn pipelines(api: &Api<'_>, spec: &CiSpec) -> Result<(Vec<Pipeline>, Vec<String>), CiError> {
    let org = &spec.org.name;
    let projects = match &spec.org.project {
        Some(project) => vec![project.clone()],
        None => {
            let base = format!(
                "{}/{}/_apis/projects?api-version={API_VERSION}&$top=100",
                api.base(),
                encode(org)
            );
            let mut names = Vec::new();
            api.pages(
                base.clone(),
                PROJECT_SCOPE,
                |answer, _| continuation(&base, answer),
                |page| {
                    for project in values(page)? {
                        names.extend(text(project, "name"));
                    }
                    Ok(true)
                },
            )
            .map_err(|e| CiError::Listing(e.message().to_string()))?;
            names
        }
    };
    let mut pipelines = Vec::new();
    let mut problems = Vec::new();
    for project in &projects {
        let base = format!(
            "{}/_apis/build/definitions?api-version={API_VERSION}&$top=1000",
            project_base(api, org, project)
        );
        let mut found = Vec::new();
        let listed = api.pages(
            base.clone(),
            BUILD_SCOPE,
            |answer, _| continuation(&base, answer),
            |page| {
                for definition in values(page)? {
                    let id = text(definition, "id").ok_or("a definition without `id`")?;
                    let name = text(definition, "name").ok_or("a definition without `name`")?;
                    let url = definition["_links"]["web"]["href"]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| {
                            format!(
                                "{}/_build?definitionId={id}",
                                project_base(api, org, project)
                            )
                        });
                    let project_id =
                        text(&definition["project"], "id").unwrap_or_else(|| project.clone());
                    found.push(Pipeline {
                        id: format!("build/{project_id}/{id}"),
                        name: format!("{project}/{name}"),
                        url: url.clone(),
                        repository: Arc::new(Repository {
                            platform: "azure-devops",
                            organisation: org.clone(),
                            project: Some(project.clone()),
                            name: name.clone(),
                            url,
                            id: id.clone(),
                        }),
                        scope: project.clone(),
                        key: id,
                        kind: Kind::Build,
                    });
                }
                Ok(true)
            },
        );
        match listed {
            Ok(()) => pipelines.append(&mut found),
            // One project's refusal leaves the others to read, unless it
            // is the only one.
            Err(e) if projects.len() > 1 => problems.push(e.message().to_string()),
            Err(e) => return Err(CiError::Listing(e.message().to_string())),
        }
        match release_definitions(api, org, project) {
            Ok(mut found) => pipelines.append(&mut found),
            Err(e) => problems.push(format!("classic releases not read: {}", e.message())),
        }
    }
    Ok((pipelines, problems))
}

/// The release API's project base: `{vsrm}/{org}/{project}`.
fn release_project_base(api: &Api<'_>, org: &str, project: &str) -> String {
    format!(
        "{}/{}/{}",
        releases_base(api.base()),
        encode(org),
        encode(project)
    )
}

/// A project's classic release definitions.
fn release_definitions(
    api: &Api<'_>,
    org: &str,
    project: &str,
) -> Result<Vec<Pipeline>, CallError> {
    let base = format!(
        "{}/_apis/release/definitions?api-version={API_VERSION}",
        release_project_base(api, org, project)
    );
    let mut found = Vec::new();
    api.pages(
        base.clone(),
        RELEASE_SCOPE,
        |answer, _| continuation(&base, answer),
        |page| {
            for definition in values(page)? {
                let id = text(definition, "id").ok_or("a release definition without `id`")?;
                let name = text(definition, "name").unwrap_or_else(|| id.clone());
                let url = definition["_links"]["web"]["href"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        format!(
                            "{}/_release?definitionId={id}",
                            project_base(api, org, project)
                        )
                    });
                found.push(Pipeline {
                    id: format!("release/{project}/{id}"),
                    name: format!("{project}/{name}"),
                    url: url.clone(),
                    repository: Arc::new(Repository {
                        platform: "azure-devops",
                        organisation: org.to_string(),
                        project: Some(project.to_string()),
                        name: name.clone(),
                        url,
                        id: id.clone(),
                    }),
                    scope: project.to_string(),
                    key: id,
                    kind: Kind::Release,
                });
            }
            Ok(true)
        },
    )?;
    Ok(found)
}

/// A classic release definition's releases in the window, newest first.
fn releases(api: &Api<'_>, pipeline: &Pipeline, window: &Window) -> Result<Vec<Run>, CallError> {
    let org = &pipeline.repository.organisation;
    let mut base = format!(
        "{}/_apis/release/releases?api-version={API_VERSION}&definitionId={}&queryOrder=descending",
        release_project_base(api, org, &pipeline.scope),
        encode(&pipeline.key)
    );
    if let Some(since) = window.since_timestamp() {
        base.push_str(&format!("&minCreatedTime={}", encode(&since)));
    }
    if let Some(most) = window.most {
        base.push_str(&format!("&$top={}", most.min(100)));
    }
    let mut runs = Vec::new();
    api.pages(
        base.clone(),
        RELEASE_SCOPE,
        |answer, _| continuation(&base, answer),
        |page| {
            window.take_runs(&mut runs, values(page)?, |release| {
                let id = text(release, "id").ok_or("a release without `id`")?;
                Ok(Run {
                    label: text(release, "name").unwrap_or_else(|| id.clone()),
                    url: release["_links"]["web"]["href"]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| pipeline.url.clone()),
                    id,
                })
            })
        },
    )?;
    Ok(runs)
}

/// The pipeline's completed builds (or releases) in the window, newest
/// first.
pub fn runs(api: &Api<'_>, pipeline: &Pipeline, window: &Window) -> Result<Vec<Run>, CallError> {
    if pipeline.kind == Kind::Release {
        return releases(api, pipeline, window);
    }
    let org = &pipeline.repository.organisation;
    let mut base = format!(
        "{}/_apis/build/builds?api-version={API_VERSION}&definitions={}\
         &statusFilter=completed&queryOrder=finishTimeDescending",
        project_base(api, org, &pipeline.scope),
        encode(&pipeline.key)
    );
    if let Some(since) = window.since_timestamp() {
        base.push_str(&format!("&minTime={}", encode(&since)));
    }
    if let Some(most) = window.most {
        base.push_str(&format!("&$top={}", most.min(5000)));
    }
    let mut runs = Vec::new();
    api.pages(
        base.clone(),
        BUILD_SCOPE,
        |answer, _| continuation(&base, answer),
        |page| {
            window.take_runs(&mut runs, values(page)?, |build| {
                let id = text(build, "id").ok_or("a build without `id`")?;
                let label = text(build, "buildNumber").unwrap_or_else(|| id.clone());
                let url = build["_links"]["web"]["href"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        format!(
                            "{}/_build/results?buildId={id}",
                            project_base(api, org, &pipeline.scope)
                        )
                    });
                Ok(Run { id, label, url })
            })
        },
    )?;
    Ok(runs)
}

/// A build's logs (named by the timeline: job and task) and artifacts.
#[allow(clippy::type_complexity)]
pub fn contents(
    api: &Api<'_>,
    pipeline: &Pipeline,
    run: &Run,
) -> Result<(Vec<Log>, Vec<Artifact>, Vec<String>), CallError> {
    let org = &pipeline.repository.organisation;
    if pipeline.kind == Kind::Release {
        // One zip of every stage's, job's and task's log.
        let logs = Log {
            job: "logs".into(),
            step: String::new(),
            url: format!(
                "{}/_apis/release/releases/{}/logs?api-version={API_VERSION}",
                release_project_base(api, org, &pipeline.scope),
                encode(&run.id)
            ),
            line_url: None,
            markers: Markers::None,
            archive: true,
        };
        return Ok((vec![logs], Vec::new(), Vec::new()));
    }
    let build = format!(
        "{}/_apis/build/builds/{}",
        project_base(api, org, &pipeline.scope),
        encode(&run.id)
    );
    let mut problems = Vec::new();
    // Every log of the build, whatever the timeline says of it.
    let (_, listing) = api.json(
        &format!("{build}/logs?api-version={API_VERSION}"),
        BUILD_SCOPE,
    )?;
    let log_ids: Vec<String> = values(&listing)
        .map_err(CallError::Other)?
        .iter()
        .filter_map(|log| text(log, "id"))
        .collect();
    let timeline = match api.json(
        &format!("{build}/timeline?api-version={API_VERSION}"),
        BUILD_SCOPE,
    ) {
        Ok((_, timeline)) => timeline,
        Err(CallError::Gone(_)) => Value::Null,
        Err(e) => {
            problems.push(format!("the timeline: {}", e.message()));
            Value::Null
        }
    };
    let records: Vec<&Value> = timeline["records"]
        .as_array()
        .map(|r| r.iter().collect())
        .unwrap_or_default();
    let by_id: HashMap<String, &Value> = records
        .iter()
        .filter_map(|r| Some((text(r, "id")?, *r)))
        .collect();
    // A job's own log repeats its tasks' logs: read the tasks', and the
    // job's only when none of its tasks has a log.
    let jobs_with_task_logs: HashSet<String> = records
        .iter()
        .filter(|r| r["type"] == "Task" && r["log"].is_object())
        .filter_map(|r| job_of(r, &by_id).and_then(|j| text(j, "id")))
        .collect();
    let mut logs = Vec::new();
    let mut named: HashSet<String> = HashSet::new();
    for record in &records {
        let Some(log_id) = text(&record["log"], "id") else {
            continue;
        };
        named.insert(log_id.clone());
        let kind = record["type"].as_str().unwrap_or_default();
        let own_id = text(record, "id").unwrap_or_default();
        if kind == "Job" && jobs_with_task_logs.contains(&own_id) {
            continue;
        }
        let job = job_of(record, &by_id);
        let job_name = job
            .and_then(|j| text(j, "name"))
            .unwrap_or_else(|| "(build)".to_string());
        let step = if kind == "Job" {
            String::new()
        } else {
            text(record, "name").unwrap_or_default()
        };
        let mut line_url = format!("{}&view=logs", run.url);
        if let Some(job_id) = job.and_then(|j| text(j, "id")) {
            line_url.push_str(&format!("&j={job_id}"));
            if kind != "Job" {
                line_url.push_str(&format!("&t={own_id}"));
            }
        }
        line_url.push_str("&l={line}");
        logs.push(Log {
            job: job_name,
            step,
            url: format!("{build}/logs/{}?api-version={API_VERSION}", encode(&log_id)),
            line_url: Some(line_url),
            markers: Markers::None,
            archive: false,
        });
    }
    for log_id in log_ids.iter().filter(|id| !named.contains(*id)) {
        logs.push(Log {
            job: "(build)".into(),
            step: format!("log {log_id}"),
            url: format!("{build}/logs/{}?api-version={API_VERSION}", encode(log_id)),
            line_url: None,
            markers: Markers::None,
            archive: false,
        });
    }
    let artifacts = match api.json(
        &format!("{build}/artifacts?api-version={API_VERSION}"),
        BUILD_SCOPE,
    ) {
        Ok((_, listing)) => values(&listing)
            .map_err(CallError::Other)?
            .iter()
            .filter_map(|a| text(a, "name"))
            .map(|name| Artifact {
                url: format!(
                    "{build}/artifacts?artifactName={}&api-version={API_VERSION}&%24format=zip",
                    encode(&name)
                ),
                name,
                gone: false,
            })
            .collect(),
        Err(e) => {
            problems.push(format!("the artifacts: {}", e.message()));
            Vec::new()
        }
    };
    Ok((logs, artifacts, problems))
}

/// The job record a record belongs to (itself for a job).
fn job_of<'a>(record: &'a Value, by_id: &HashMap<String, &'a Value>) -> Option<&'a Value> {
    let mut current = record;
    for _ in 0..16 {
        if current["type"] == "Job" {
            return Some(current);
        }
        current = by_id.get(&text(current, "parentId")?)?;
    }
    None
}
