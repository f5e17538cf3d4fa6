//! The CI side of the emulator: Azure Pipelines builds (definitions,
//! builds, timelines, logs, artifacts; `x-ms-continuationtoken` paging),
//! GitHub Actions (workflows, runs with `Link` paging, jobs, logs and
//! artifacts behind a redirect to a signed blob URL, read without the
//! credential) and GitLab CI (pipelines with `X-Next-Page`, jobs, traces,
//! artifacts), with their documented shapes: a deleted log is 404, a log
//! can be generated on the fly (a gigabyte never in memory), and any path
//! can be answered 429 with `Retry-After` once.

use std::io::Write;
use std::net::SocketAddr;

use super::{basic_password, json, Answer, Request, State, ORG, PROJECT};

/// A pipeline: an Azure Pipelines definition, a GitHub workflow (of the
/// repository `acme/app`), or a GitLab project (listed with this id).
#[derive(Debug, Clone, Default)]
pub struct EmuPipeline {
    pub id: u64,
    pub name: String,
    pub runs: Vec<EmuRun>,
    /// A classic definition's variables: name, value, isSecret.
    pub variables: Vec<(String, String, bool)>,
}

/// Variables of a variable group or release definition (and release
/// stage), or an Actions variable list: name, value, isSecret.
pub type Vars = Vec<(String, String, bool)>;

fn vars_json(vars: &Vars) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (name, value, secret) in vars {
        // A secret's value is never returned by the API.
        let value = if *secret {
            serde_json::Value::Null
        } else {
            value.clone().into()
        };
        map.insert(
            name.clone(),
            serde_json::json!({"value": value, "isSecret": secret}),
        );
    }
    serde_json::Value::Object(map)
}

/// One run; `id` unique across pipelines.
#[derive(Debug, Clone)]
pub struct EmuRun {
    pub id: u64,
    pub number: String,
    /// RFC 3339.
    pub finished: String,
    pub jobs: Vec<EmuJob>,
    pub artifacts: Vec<EmuArtifact>,
}

/// A job: its steps' logs (Azure Pipelines: one log per step; GitHub and
/// GitLab: one log per job, the steps' texts one after the other, each
/// opened by the platform's marker line).
#[derive(Debug, Clone)]
pub struct EmuJob {
    pub name: String,
    pub steps: Vec<(String, LogBody)>,
}

#[derive(Debug, Clone)]
pub enum LogBody {
    Text(String),
    /// Past retention: 404.
    Deleted,
    /// `size` bytes of a repeated harmless line, then `tail`, generated
    /// as they are sent.
    Generated {
        size: u64,
        tail: String,
    },
}

#[derive(Debug, Clone)]
pub struct EmuArtifact {
    pub name: String,
    pub zip: Vec<u8>,
    pub expired: bool,
}

#[derive(Default)]
pub struct CiState {
    pub pipelines: Vec<EmuPipeline>,
    /// Path prefixes answered 429 (`Retry-After: 1`) once each.
    pub limited: Vec<String>,
    /// Path prefixes always answered 403 (a token without the scope).
    pub forbidden: Vec<String>,
    pub variable_groups: Vec<(String, Vars)>,
    /// Release definitions: name, variables, one stage's variables.
    pub releases: Vec<(String, Vars, Vars)>,
    /// Service connections: name, type, scheme.
    pub connections: Vec<(String, String, String)>,
    pub org_variables: Vars,
    /// Actions variables by repository name.
    pub repo_variables: Vec<(String, Vars)>,
    /// Project wikis: the name of a served (unlisted) repository each.
    pub wikis: Vec<String>,
    /// Classic release definitions with releases: each release's logs
    /// are served as one zip, `JOB/N_STEP.log` per step.
    pub release_pipelines: Vec<EmuPipeline>,
}

/// A release's logs as Azure DevOps serves them: one zip.
fn release_zip(run: &EmuRun) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for job in &run.jobs {
        for (i, (step, body)) in job.steps.iter().enumerate() {
            if let LogBody::Text(text) = body {
                writer
                    .start_file(
                        format!("Stage 1/{}/{}_{step}.log", job.name, i + 1),
                        options,
                    )
                    .unwrap();
                writer.write_all(text.as_bytes()).unwrap();
            }
        }
    }
    writer.finish().unwrap().into_inner()
}

/// What the server sends.
pub(super) enum Reply {
    Whole(Answer),
    Generated {
        headers: Vec<(String, String)>,
        size: u64,
        tail: Vec<u8>,
    },
}

const FILLER: &[u8] = b"2026-12-01T10:00:00.0000000Z building module 42 of 97: ok, no warnings\n";

/// Writes a generated body: `size` bytes of filler, then `tail`.
pub(super) fn send_generated(
    stream: &mut impl Write,
    headers: &[(String, String)],
    size: u64,
    tail: &[u8],
) -> std::io::Result<()> {
    let mut head = "HTTP/1.1 200 OK\r\n".to_string();
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        size + tail.len() as u64
    ));
    stream.write_all(head.as_bytes())?;
    let block: Vec<u8> = FILLER
        .iter()
        .copied()
        .cycle()
        .take(FILLER.len() * 4096)
        .collect();
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        stream.write_all(&block[..n])?;
        left -= n as u64;
    }
    stream.write_all(tail)?;
    stream.flush()
}

/// The job's log as one text (GitHub, GitLab): each step opened by the
/// platform's marker. `None` when a step's log is deleted or generated.
fn job_text(job: &EmuJob, platform: &str) -> Option<String> {
    let mut text = String::new();
    for (step, body) in &job.steps {
        let LogBody::Text(body) = body else {
            return None;
        };
        match platform {
            "github" => text.push_str(&format!(
                "2026-12-01T10:00:00.0000000Z ##[group]Run {step}\n"
            )),
            _ => text.push_str(&format!(
                "\x1b[0Ksection_start:1764583200:{step}\r\x1b[0K{step}\n"
            )),
        }
        text.push_str(body);
    }
    Some(text)
}

fn body_reply(body: &LogBody, headers: Vec<(String, String)>) -> Reply {
    match body {
        LogBody::Text(text) => Reply::Whole((200, headers, text.clone().into_bytes())),
        LogBody::Deleted => Reply::Whole(json(
            404,
            serde_json::json!({"message": "Not Found"}),
            vec![],
        )),
        LogBody::Generated { size, tail } => Reply::Generated {
            headers,
            size: *size,
            tail: tail.clone().into_bytes(),
        },
    }
}

fn text_headers() -> Vec<(String, String)> {
    vec![("Content-Type".into(), "text/plain".into())]
}

fn zip_reply(zip: &[u8]) -> Reply {
    Reply::Whole((
        200,
        vec![("Content-Type".into(), "application/zip".into())],
        zip.to_vec(),
    ))
}

fn not_found() -> Reply {
    Reply::Whole(json(
        404,
        serde_json::json!({"message": "Not Found"}),
        vec![],
    ))
}

/// Answers a CI request, or `None` for the repository listings and git.
pub(super) fn route(request: &Request, state: &mut State, addr: SocketAddr) -> Option<Reply> {
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((&request.target, ""));
    let param = |key: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .map(|v| {
                v.replace("%3A", ":")
                    .replace("%3E", ">")
                    .replace("%3D", "=")
            })
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let base = format!("{}://{addr}", state.scheme);
    // The signed blob URLs GitHub redirects to: no credential needed.
    if let ["blob", kind, id] = segments.as_slice() {
        let id: u64 = id.parse().ok()?;
        let ci = &state.ci;
        return Some(match *kind {
            "job" => find_job(ci, id)
                .and_then(|job| job_text(job, "github"))
                .map(|t| Reply::Whole((200, text_headers(), t.into_bytes())))
                .or_else(|| {
                    let job = find_job(ci, id)?;
                    let (_, body) = job.steps.first()?;
                    Some(body_reply(body, text_headers()))
                })
                .unwrap_or_else(not_found),
            _ => find_artifact(ci, id).map_or_else(not_found, |a| zip_reply(&a.zip)),
        });
    }
    const ADO: [&str; 6] = [
        "build",
        "projects",
        "wiki",
        "distributedtask",
        "release",
        "serviceendpoint",
    ];
    let platform = match segments.first() {
        Some(&"ado") if segments.iter().any(|s| ADO.contains(s)) => "ado",
        Some(&"github") if segments.get(1) == Some(&"repos") => "github",
        Some(&"github")
            if segments.get(1) == Some(&"orgs") && segments.get(3) == Some(&"actions") =>
        {
            "github"
        }
        Some(&"gitlab") if segments.get(3) == Some(&"projects") => "gitlab",
        _ => return None,
    };
    let auth = request.headers.get("authorization");
    let authorised = match platform {
        "ado" => basic_password(auth) == Some(state.token.clone()),
        _ => auth == Some(&format!("Bearer {}", state.token)),
    };
    if !authorised {
        return Some(Reply::Whole(json(
            401,
            serde_json::json!({"message": "Bad credentials"}),
            vec![],
        )));
    }
    if let Some(i) = state
        .ci
        .limited
        .iter()
        .position(|p| path.starts_with(p.as_str()))
    {
        state.ci.limited.remove(i);
        return Some(Reply::Whole(json(
            429,
            serde_json::json!({"message": "rate limited"}),
            vec![("Retry-After".into(), "1".into())],
        )));
    }
    if state
        .ci
        .forbidden
        .iter()
        .any(|p| path.starts_with(p.as_str()))
    {
        return Some(Reply::Whole(json(
            403,
            serde_json::json!({"message": "Access denied"}),
            vec![],
        )));
    }
    let size = state.page_size.max(1);
    let ci = &state.ci;
    Some(match platform {
        "ado" => ado(&segments, &param, ci, size, &base),
        "github" => github(&segments, &param, ci, size, &base, path),
        _ => gitlab(&segments, &param, ci, size, &base, path),
    })
}

fn find_job(ci: &CiState, id: u64) -> Option<&EmuJob> {
    let run = find_run(ci, id / 100)?;
    run.jobs.get((id % 100) as usize)
}

fn find_run(ci: &CiState, id: u64) -> Option<&EmuRun> {
    ci.pipelines
        .iter()
        .flat_map(|p| p.runs.iter())
        .find(|r| r.id == id)
}

fn find_artifact(ci: &CiState, id: u64) -> Option<&EmuArtifact> {
    find_run(ci, id / 100)?.artifacts.get((id % 100) as usize)
}

/// One page of `items` (1-based `page`), and whether more follow.
fn page_of<T: Clone>(items: &[T], page: usize, size: usize) -> (Vec<T>, bool) {
    let start = (page.max(1) - 1) * size;
    let slice = items.iter().skip(start).take(size).cloned().collect();
    (slice, start + size < items.len())
}

fn ado(
    segments: &[&str],
    param: &dyn Fn(&str) -> Option<String>,
    ci: &CiState,
    size: usize,
    base: &str,
) -> Reply {
    let page: usize = param("continuationToken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    let paged = |items: Vec<serde_json::Value>| {
        let (slice, more) = page_of(&items, page, size);
        let headers = if more {
            vec![("x-ms-continuationtoken".into(), (page + 1).to_string())]
        } else {
            vec![]
        };
        Reply::Whole(json(
            200,
            serde_json::json!({"count": slice.len(), "value": slice}),
            headers,
        ))
    };
    let web = format!("https://ado.example/{ORG}/{PROJECT}");
    let list = |items: Vec<serde_json::Value>| {
        Reply::Whole(json(
            200,
            serde_json::json!({"count": items.len(), "value": items}),
            vec![],
        ))
    };
    match segments {
        ["ado", org, "_apis", "projects"] if *org == ORG => {
            paged(vec![serde_json::json!({"id": "p-1", "name": PROJECT})])
        }
        ["ado", org, "_apis", "wiki", "wikis"] | ["ado", org, _, "_apis", "wiki", "wikis"] if *org == ORG => list(
            ci.wikis
                .iter()
                .enumerate()
                .map(|(i, name)| serde_json::json!({
                    "id": format!("w-{i}"), "name": name, "type": "projectWiki",
                    "repositoryId": format!("00000000-0000-0000-0000-9{i:011}"), "projectId": "p-1",
                    "remoteUrl": format!("{base}/git/{name}.git").replace("/git/", &format!("/{PROJECT}/_git/../../git/")),
                }))
                .chain(std::iter::once(serde_json::json!({
                    "id": "code", "name": "docs", "type": "codeWiki", "repositoryId": "r-1",
                    "remoteUrl": format!("{base}/git/docs.git"),
                })))
                .collect(),
        ),
        ["ado", org, project, "_apis", "distributedtask", "variablegroups"] if *org == ORG && *project == PROJECT => list(
            ci.variable_groups
                .iter()
                .enumerate()
                .map(|(i, (name, vars))| serde_json::json!({"id": i + 1, "name": name, "variables": vars_json(vars)}))
                .collect(),
        ),
        ["ado", org, project, "_apis", "release", "definitions"] if *org == ORG && *project == PROJECT => list(
            ci.releases
                .iter()
                .enumerate()
                .map(|(i, (name, vars, stage))| serde_json::json!({
                    "id": i + 1, "name": name, "variables": vars_json(vars),
                    "environments": [{"id": 1, "name": "Production", "variables": vars_json(stage)}],
                }))
                .chain(ci.release_pipelines.iter().map(|p| serde_json::json!({
                    "id": p.id, "name": p.name, "variables": vars_json(&p.variables), "environments": [],
                    "_links": {"web": {"href": format!("{web}/_release?definitionId={}", p.id)}},
                })))
                .collect(),
        ),
        ["ado", org, project, "_apis", "release", "releases"] if *org == ORG && *project == PROJECT => {
            let definition: Option<u64> = param("definitionId").and_then(|d| d.parse().ok());
            let since = param("minCreatedTime");
            paged(
                ci.release_pipelines
                    .iter()
                    .filter(|p| Some(p.id) == definition)
                    .flat_map(|p| p.runs.iter())
                    .filter(|r| since.as_ref().map_or(true, |s| r.finished.as_str() >= s.as_str()))
                    .map(|r| serde_json::json!({
                        "id": r.id, "name": r.number, "createdOn": r.finished,
                        "_links": {"web": {"href": format!("{web}/_releaseProgress?releaseId={}", r.id)}},
                    }))
                    .collect(),
            )
        }
        ["ado", org, project, "_apis", "release", "releases", id, "logs"] if *org == ORG && *project == PROJECT => {
            let release = ci
                .release_pipelines
                .iter()
                .flat_map(|p| p.runs.iter())
                .find(|r| r.id.to_string() == *id);
            release.map_or_else(not_found, |r| zip_reply(&release_zip(r)))
        }
        ["ado", org, project, "_apis", "serviceendpoint", "endpoints"] if *org == ORG && *project == PROJECT => list(
            ci.connections
                .iter()
                .map(|(name, kind, scheme)| serde_json::json!({
                    "id": name, "name": name, "type": kind, "url": "https://example.invalid",
                    "authorization": {"scheme": scheme, "parameters": {}},
                }))
                .collect(),
        ),
        ["ado", org, project, "_apis", "build", "definitions"]
            if *org == ORG && *project == PROJECT =>
        {
            paged(
                ci.pipelines
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "id": p.id, "name": p.name, "path": "\\",
                            "variables": vars_json(&p.variables),
                            "project": {"id": "p-1", "name": PROJECT},
                            "_links": {"web": {"href": format!("{web}/_build?definitionId={}", p.id)}},
                        })
                    })
                    .collect(),
            )
        }
        ["ado", org, project, "_apis", "build", "builds"] if *org == ORG && *project == PROJECT => {
            let definition: Option<u64> = param("definitions").and_then(|d| d.parse().ok());
            let since = param("minTime");
            let top: Option<usize> = param("$top").and_then(|t| t.parse().ok());
            let mut builds: Vec<(&EmuPipeline, &EmuRun)> = ci
                .pipelines
                .iter()
                .filter(|p| definition.map_or(true, |d| d == p.id))
                .flat_map(|p| p.runs.iter().map(move |r| (p, r)))
                .filter(|(_, r)| since.as_ref().map_or(true, |s| r.finished.as_str() >= s.as_str()))
                .collect();
            builds.sort_by(|a, b| b.1.finished.cmp(&a.1.finished));
            if let Some(top) = top {
                builds.truncate(top);
            }
            paged(
                builds
                    .iter()
                    .map(|(p, r)| {
                        serde_json::json!({
                            "id": r.id, "buildNumber": r.number, "status": "completed",
                            "result": "succeeded", "finishTime": r.finished,
                            "definition": {"id": p.id, "name": p.name},
                            "_links": {"web": {"href": format!("{web}/_build/results?buildId={}", r.id)}},
                        })
                    })
                    .collect(),
            )
        }
        ["ado", _, _, "_apis", "build", "builds", id, rest @ ..] => {
            let Some(run) = id.parse().ok().and_then(|id| find_run(ci, id)) else {
                return not_found();
            };
            // Log ids: 1 + the step's place across jobs; then the jobs' own.
            let steps: Vec<(usize, &EmuJob, &String, &LogBody)> = run
                .jobs
                .iter()
                .enumerate()
                .flat_map(|(j, job)| job.steps.iter().map(move |(s, b)| (j, job, s, b)))
                .collect();
            match rest {
                ["logs"] => {
                    let ids: Vec<serde_json::Value> = (1..=steps.len() + run.jobs.len())
                        .map(|id| serde_json::json!({"id": id, "type": "Container"}))
                        .collect();
                    Reply::Whole(json(200, serde_json::json!({"count": ids.len(), "value": ids}), vec![]))
                }
                ["logs", log] => {
                    let Ok(log) = log.parse::<usize>() else {
                        return not_found();
                    };
                    if let Some((_, _, _, body)) = log.checked_sub(1).and_then(|i| steps.get(i)) {
                        return body_reply(body, text_headers());
                    }
                    // A job's own log: all its steps again.
                    let Some(job) = run.jobs.get(log - steps.len() - 1) else {
                        return not_found();
                    };
                    match job_text(job, "ado") {
                        Some(text) => Reply::Whole((200, text_headers(), text.into_bytes())),
                        None => not_found(),
                    }
                }
                ["timeline"] => {
                    let mut records = Vec::new();
                    for (j, job) in run.jobs.iter().enumerate() {
                        records.push(serde_json::json!({
                            "id": format!("job-{j}"), "parentId": "stage-0", "type": "Job",
                            "name": job.name, "log": {"id": steps.len() + j + 1, "url": "https://elsewhere.example/log"},
                        }));
                    }
                    records.push(serde_json::json!({"id": "stage-0", "parentId": null, "type": "Stage", "name": "Build", "log": null}));
                    for (i, (j, _, step, _)) in steps.iter().enumerate() {
                        records.push(serde_json::json!({
                            "id": format!("task-{i}"), "parentId": format!("job-{j}"), "type": "Task",
                            "name": step, "log": {"id": i + 1},
                        }));
                    }
                    Reply::Whole(json(200, serde_json::json!({"id": "t", "records": records}), vec![]))
                }
                ["artifacts"] => match param("artifactName") {
                    Some(name) => run
                        .artifacts
                        .iter()
                        .find(|a| a.name == name && !a.expired)
                        .map_or_else(not_found, |a| zip_reply(&a.zip)),
                    None => {
                        let items: Vec<serde_json::Value> = run
                            .artifacts
                            .iter()
                            .filter(|a| !a.expired)
                            .map(|a| serde_json::json!({
                                "id": 1, "name": a.name,
                                "resource": {"type": "Container", "downloadUrl": format!("{base}/ado/elsewhere")},
                            }))
                            .collect();
                        Reply::Whole(json(200, serde_json::json!({"count": items.len(), "value": items}), vec![]))
                    }
                },
                _ => not_found(),
            }
        }
        _ => not_found(),
    }
}

fn github(
    segments: &[&str],
    param: &dyn Fn(&str) -> Option<String>,
    ci: &CiState,
    size: usize,
    base: &str,
    path: &str,
) -> Reply {
    let page: usize = param("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let link = |more: bool| -> Vec<(String, String)> {
        if more {
            vec![(
                "Link".into(),
                format!(
                    "<{base}{path}?per_page=100&page={}>; rel=\"next\"",
                    page + 1
                ),
            )]
        } else {
            vec![]
        }
    };
    let html = format!("https://github.example/{ORG}/app");
    let variables = |vars: &Vars| {
        let items: Vec<serde_json::Value> = vars
            .iter()
            .map(|(name, value, _)| serde_json::json!({"name": name, "value": value, "visibility": "all"}))
            .collect();
        Reply::Whole(json(
            200,
            serde_json::json!({"total_count": items.len(), "variables": items}),
            vec![],
        ))
    };
    match segments {
        ["github", "orgs", org, "actions", "variables"] if *org == ORG => {
            variables(&ci.org_variables)
        }
        ["github", "repos", org, repo, "actions", "variables"] if *org == ORG => variables(
            &ci.repo_variables
                .iter()
                .find(|(name, _)| name == repo)
                .map(|(_, vars)| vars.clone())
                .unwrap_or_default(),
        ),
        ["github", "repos", org, "app"] if *org == ORG => Reply::Whole(json(
            200,
            serde_json::json!({"id": 7, "full_name": format!("{ORG}/app"), "html_url": html}),
            vec![],
        )),
        ["github", "repos", org, repo, "actions", rest @ ..] if *org == ORG => match rest {
            ["workflows"] => {
                let workflows: Vec<serde_json::Value> = ci
                    .pipelines
                    .iter()
                    .map(|p| serde_json::json!({
                        "id": p.id, "name": p.name, "path": format!(".github/workflows/{}.yml", p.name),
                        "html_url": format!("https://github.example/{ORG}/{repo}/actions/workflows/{}.yml", p.name),
                    }))
                    .collect();
                Reply::Whole(json(
                    200,
                    serde_json::json!({"total_count": workflows.len(), "workflows": workflows}),
                    vec![],
                ))
            }
            ["workflows", id, "runs"] => {
                let Some(pipeline) = ci.pipelines.iter().find(|p| p.id.to_string() == *id) else {
                    return not_found();
                };
                let since = param("created").map(|c| c.trim_start_matches(">=").to_string());
                let mut runs: Vec<&EmuRun> = pipeline
                    .runs
                    .iter()
                    .filter(|r| {
                        since
                            .as_ref()
                            .map_or(true, |s| r.finished.as_str() >= s.as_str())
                    })
                    .collect();
                runs.sort_by(|a, b| b.finished.cmp(&a.finished));
                let (slice, more) = page_of(&runs, page, size);
                let items: Vec<serde_json::Value> = slice
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "id": r.id, "run_number": r.number, "status": "completed",
                            "created_at": r.finished,
                            "html_url": format!("{html}/actions/runs/{}", r.id),
                        })
                    })
                    .collect();
                Reply::Whole(json(
                    200,
                    serde_json::json!({"total_count": runs.len(), "workflow_runs": items}),
                    link(more),
                ))
            }
            ["runs", id, "jobs"] => {
                let Some(run) = id.parse().ok().and_then(|id| find_run(ci, id)) else {
                    return not_found();
                };
                let jobs: Vec<serde_json::Value> = run
                    .jobs
                    .iter()
                    .enumerate()
                    .map(|(j, job)| {
                        let id = run.id * 100 + j as u64;
                        serde_json::json!({
                            "id": id, "name": job.name,
                            "html_url": format!("{html}/actions/runs/{}/job/{id}", run.id),
                        })
                    })
                    .collect();
                Reply::Whole(json(
                    200,
                    serde_json::json!({"total_count": jobs.len(), "jobs": jobs}),
                    vec![],
                ))
            }
            ["jobs", id, "logs"] => match id.parse().ok().and_then(|id| find_job(ci, id)) {
                Some(_) => Reply::Whole((
                    302,
                    vec![(
                        "Location".into(),
                        format!("{base}/blob/job/{id}?sig=s1gn4ture"),
                    )],
                    Vec::new(),
                )),
                None => not_found(),
            },
            ["runs", id, "artifacts"] => {
                let Some(run) = id.parse().ok().and_then(|id| find_run(ci, id)) else {
                    return not_found();
                };
                let items: Vec<serde_json::Value> = run
                    .artifacts
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        serde_json::json!({
                            "id": run.id * 100 + i as u64, "name": a.name, "expired": a.expired,
                            "size_in_bytes": a.zip.len(),
                        })
                    })
                    .collect();
                Reply::Whole(json(
                    200,
                    serde_json::json!({"total_count": items.len(), "artifacts": items}),
                    vec![],
                ))
            }
            ["artifacts", id, "zip"] => {
                match id.parse().ok().and_then(|id| find_artifact(ci, id)) {
                    Some(a) if !a.expired => Reply::Whole((
                        302,
                        vec![(
                            "Location".into(),
                            format!("{base}/blob/artifact/{id}?sig=s1gn4ture"),
                        )],
                        Vec::new(),
                    )),
                    _ => Reply::Whole(json(
                        410,
                        serde_json::json!({"message": "Artifact has expired"}),
                        vec![],
                    )),
                }
            }
            _ => not_found(),
        },
        _ => not_found(),
    }
}

fn gitlab(
    segments: &[&str],
    param: &dyn Fn(&str) -> Option<String>,
    ci: &CiState,
    size: usize,
    _base: &str,
    _path: &str,
) -> Reply {
    let page: usize = param("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let next = |more: bool| -> Vec<(String, String)> {
        vec![(
            "X-Next-Page".into(),
            if more {
                (page + 1).to_string()
            } else {
                String::new()
            },
        )]
    };
    let web = format!("https://gitlab.example/{ORG}");
    match segments {
        ["gitlab", "api", "v4", "projects", id, rest @ ..] => {
            // By id, or by its URL-encoded path (`acme%2Fsvc`).
            let Some(pipeline) = ci
                .pipelines
                .iter()
                .find(|p| p.id.to_string() == *id || format!("{ORG}%2F{}", p.name) == *id)
            else {
                return not_found();
            };
            match rest {
                [] => Reply::Whole(json(
                    200,
                    serde_json::json!({
                        "id": pipeline.id, "path_with_namespace": format!("{ORG}/{}", pipeline.name),
                        "web_url": format!("{web}/{}", pipeline.name),
                    }),
                    vec![],
                )),
                ["pipelines"] => {
                    let since = param("updated_after");
                    let mut runs: Vec<&EmuRun> = pipeline
                        .runs
                        .iter()
                        .filter(|r| {
                            since
                                .as_ref()
                                .map_or(true, |s| r.finished.as_str() >= s.as_str())
                        })
                        .collect();
                    runs.sort_by_key(|r| std::cmp::Reverse(r.id));
                    let (slice, more) = page_of(&runs, page, size);
                    let items: Vec<serde_json::Value> = slice
                        .iter()
                        .map(|r| serde_json::json!({
                            "id": r.id, "iid": r.number, "status": "success", "created_at": r.finished,
                            "web_url": format!("{web}/{}/-/pipelines/{}", pipeline.name, r.id),
                        }))
                        .collect();
                    Reply::Whole(json(200, serde_json::Value::Array(items), next(more)))
                }
                ["pipelines", id, "jobs"] => {
                    let Some(run) = id.parse().ok().and_then(|id| find_run(ci, id)) else {
                        return not_found();
                    };
                    let jobs: Vec<serde_json::Value> = run
                        .jobs
                        .iter()
                        .enumerate()
                        .map(|(j, job)| {
                            let id = run.id * 100 + j as u64;
                            let mut value = serde_json::json!({
                                "id": id, "name": job.name, "stage": "test", "status": "success",
                                "web_url": format!("{web}/{}/-/jobs/{id}", pipeline.name),
                            });
                            if let Some(a) = run.artifacts.get(j) {
                                value["artifacts_file"] = serde_json::json!({"filename": format!("{}.zip", a.name), "size": a.zip.len()});
                            }
                            value
                        })
                        .collect();
                    Reply::Whole(json(200, serde_json::Value::Array(jobs), next(false)))
                }
                ["jobs", id, "trace"] => {
                    let Some(job) = id.parse().ok().and_then(|id| find_job(ci, id)) else {
                        return not_found();
                    };
                    match job_text(job, "gitlab") {
                        Some(text) => Reply::Whole((200, text_headers(), text.into_bytes())),
                        None => job
                            .steps
                            .first()
                            .map_or_else(not_found, |(_, body)| body_reply(body, text_headers())),
                    }
                }
                ["jobs", id, "artifacts"] => {
                    let artifact = id
                        .parse::<u64>()
                        .ok()
                        .and_then(|id| find_run(ci, id / 100)?.artifacts.get((id % 100) as usize));
                    match artifact {
                        Some(a) if !a.expired => zip_reply(&a.zip),
                        _ => not_found(),
                    }
                }
                _ => not_found(),
            }
        }
        _ => not_found(),
    }
}
