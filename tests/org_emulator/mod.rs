//! A loopback emulator of the three platforms' repository listings
//! (GitHub, GitLab, Azure DevOps: their documented JSON, paging, 401, 403,
//! 404, 429) and a git smart-HTTP server (`git http-backend` behind a small
//! HTTP server with Basic authentication checked), in the test process, on
//! 127.0.0.1. It serves repositories the tests build and records every
//! request so tests can assert what was (not) sent. [`OrgServer::start_tls`]
//! serves the same over HTTPS, with a certificate from a CA of its own.
#![allow(dead_code)]

pub mod ci;
mod tls;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;

use base64::Engine as _;

/// The organisation every listing answers for (others are 404, `forbidden`
/// is 403).
pub const ORG: &str = "acme";
/// The Azure DevOps project of every repository.
pub const PROJECT: &str = "Proj";

/// One repository of the emulated organisation.
#[derive(Debug, Clone)]
pub struct EmuRepo {
    pub id: u64,
    pub name: String,
    pub archived: bool,
    pub fork: bool,
    /// Listed as empty where the platform says so (GitLab, Azure DevOps).
    pub listed_empty: bool,
    /// Served by the git server (a bare repository was added); otherwise
    /// its clone fails with 404.
    pub served: bool,
    /// Listed with a clone URL on another host (127.0.0.2), as a hostile
    /// or misconfigured listing might.
    pub elsewhere: bool,
}

impl EmuRepo {
    pub fn new(id: u64, name: &str) -> EmuRepo {
        EmuRepo {
            id,
            name: name.to_string(),
            archived: false,
            fork: false,
            listed_empty: false,
            served: false,
            elsewhere: false,
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub authorization: Option<String>,
    pub status: u16,
    /// A git request that fetches objects (not only lists refs).
    pub fetch: bool,
}

#[derive(Default)]
struct State {
    repos: Vec<EmuRepo>,
    token: String,
    page_size: usize,
    /// Pages (1-based) answered 429 once, with `Retry-After: 1`.
    limited_pages: Vec<usize>,
    seen: Vec<Seen>,
    scheme: &'static str,
    ci: ci::CiState,
}

pub struct OrgServer {
    pub addr: SocketAddr,
    /// `http`, or `https` for [`OrgServer::start_tls`].
    pub scheme: &'static str,
    state: Arc<Mutex<State>>,
    git_root: tempfile::TempDir,
}

impl OrgServer {
    /// A server for `token`, listing `page_size` repositories per page.
    pub fn start(token: &str, page_size: usize) -> OrgServer {
        OrgServer::launch(token, page_size, None)
    }

    /// [`OrgServer::start`] over HTTPS, with a certificate for 127.0.0.1
    /// issued by a fresh CA; returns the CA's certificate (PEM), which a
    /// client must trust to talk to it.
    pub fn start_tls(token: &str, page_size: usize) -> (OrgServer, String) {
        let (config, ca_pem) = tls::server_config_for_loopback();
        (OrgServer::launch(token, page_size, Some(config)), ca_pem)
    }

    fn launch(token: &str, page_size: usize, tls: Option<Arc<rustls::ServerConfig>>) -> OrgServer {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            token: token.to_string(),
            page_size,
            scheme,
            ..State::default()
        }));
        let git_root = tempfile::tempdir().unwrap();
        let server = OrgServer {
            addr,
            scheme,
            state: Arc::clone(&state),
            git_root,
        };
        let root = server.git_root.path().to_path_buf();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let state = Arc::clone(&state);
                let root = root.clone();
                let tls = tls.clone();
                thread::spawn(move || {
                    let _ = match tls {
                        Some(config) => tls::accept(config, stream)
                            .and_then(|stream| handle(stream, &state, &root, addr)),
                        None => handle(stream, &state, &root, addr),
                    };
                });
            }
        });
        server
    }

    /// `PATSCAN_ENDPOINT_OVERRIDES` pointing all three listings here.
    pub fn overrides(&self) -> String {
        format!(
            "github={s}://{a}/github,gitlab={s}://{a}/gitlab,azure-devops={s}://{a}/ado",
            a = self.addr,
            s = self.scheme
        )
    }

    /// Lists `repo` without serving it.
    pub fn list(&self, repo: EmuRepo) {
        self.state.lock().unwrap().repos.push(repo);
    }

    /// Lists `repo` and serves a bare clone of the work tree `source`.
    pub fn serve(&self, mut repo: EmuRepo, source: &Path) {
        let target = self.git_root.path().join(format!("{}.git", repo.name));
        let out = Command::new("git")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args(["clone", "--bare", "--quiet"])
            .arg(source)
            .arg(&target)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        repo.served = true;
        self.list(repo);
    }

    /// Lists `repo` and serves an empty (commit-less) repository for it.
    pub fn serve_empty(&self, mut repo: EmuRepo) {
        let target = self.git_root.path().join(format!("{}.git", repo.name));
        let out = Command::new("git")
            .args(["init", "--bare", "--quiet"])
            .arg(&target)
            .output()
            .expect("git runs");
        assert!(out.status.success());
        repo.served = true;
        self.list(repo);
    }

    /// The bare repository served for `name` (to push more commits).
    pub fn served_path(&self, name: &str) -> PathBuf {
        self.git_root.path().join(format!("{name}.git"))
    }

    /// Answers page `page` (1-based) with one 429 before the real answer.
    pub fn limit_page_once(&self, page: usize) {
        self.state.lock().unwrap().limited_pages.push(page);
    }

    /// Adds a CI pipeline (see [`ci`]).
    pub fn add_pipeline(&self, pipeline: ci::EmuPipeline) {
        self.state.lock().unwrap().ci.pipelines.push(pipeline);
    }

    /// Adds a run to the pipeline `id`.
    pub fn add_run(&self, id: u64, run: ci::EmuRun) {
        let mut state = self.state.lock().unwrap();
        let pipeline = state.ci.pipelines.iter_mut().find(|p| p.id == id).unwrap();
        pipeline.runs.push(run);
    }

    /// Answers the next CI request whose path starts with `prefix` with a
    /// 429 and `Retry-After: 1`.
    pub fn limit_once(&self, prefix: &str) {
        self.state
            .lock()
            .unwrap()
            .ci
            .limited
            .push(prefix.to_string());
    }

    /// Serves the work tree `source` as the project wiki `name` (listed
    /// by the wikis API, not with the repositories).
    pub fn serve_wiki(&self, name: &str, source: &Path) {
        let target = self.git_root.path().join(format!("{name}.git"));
        let out = Command::new("git")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args(["clone", "--bare", "--quiet"])
            .arg(source)
            .arg(&target)
            .output()
            .expect("git runs");
        assert!(out.status.success());
        self.state.lock().unwrap().ci.wikis.push(name.to_string());
    }

    /// Changes the CI and settings state (variables, connections, …).
    pub fn with_ci(&self, change: impl FnOnce(&mut ci::CiState)) {
        change(&mut self.state.lock().unwrap().ci);
    }

    /// Answers every CI request whose path starts with `prefix` with 403.
    pub fn forbid(&self, prefix: &str) {
        self.state
            .lock()
            .unwrap()
            .ci
            .forbidden
            .push(prefix.to_string());
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

struct Request {
    method: String,
    target: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// One request; the connection carries no other (every answer closes it).
fn read_request(stream: &mut impl Read) -> std::io::Result<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            break;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let mut body = Vec::new();
    if let Some(length) = headers.get("content-length") {
        body.resize(length.parse().unwrap_or(0), 0);
        reader.read_exact(&mut body)?;
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    Ok(Request {
        method,
        target,
        headers,
        body,
    })
}

fn respond(
    stream: &mut impl Write,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} X\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

fn handle(
    mut stream: impl Read + Write,
    state: &Arc<Mutex<State>>,
    root: &Path,
    addr: SocketAddr,
) -> std::io::Result<()> {
    let request = read_request(&mut stream)?;
    let authorization = request.headers.get("authorization").cloned();
    let reply = {
        let mut locked = state.lock().unwrap();
        ci::route(&request, &mut locked, addr)
    };
    if let Some(reply) = reply {
        let status = match &reply {
            ci::Reply::Whole((status, _, _)) => *status,
            ci::Reply::Generated { .. } => 200,
        };
        state.lock().unwrap().seen.push(Seen {
            method: request.method.clone(),
            target: request.target.clone(),
            authorization,
            status,
            fetch: false,
        });
        return match reply {
            ci::Reply::Whole((status, headers, body)) => {
                respond(&mut stream, status, &headers, &body)
            }
            ci::Reply::Generated {
                headers,
                size,
                tail,
            } => ci::send_generated(&mut stream, &headers, size, &tail),
        };
    }
    let (status, headers, body) = if let Some(rest) = request.target.strip_prefix("/git/") {
        git(&request, rest, state, root)
    } else {
        listing(&request, state, addr)
    };
    state.lock().unwrap().seen.push(Seen {
        method: request.method.clone(),
        target: request.target.clone(),
        authorization,
        status,
        // Protocol v2 names the command; v0 sends `want` lines.
        fetch: request.body.windows(13).any(|w| w == b"command=fetch")
            || request.body.windows(5).any(|w| w == b"want "),
    });
    respond(&mut stream, status, &headers, &body)
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);

fn json(status: u16, body: serde_json::Value, headers: Vec<(String, String)>) -> Answer {
    let mut headers = headers;
    headers.push(("Content-Type".into(), "application/json".into()));
    (status, headers, body.to_string().into_bytes())
}

/// `Authorization: Basic base64(user:password)`'s password.
fn basic_password(header: Option<&String>) -> Option<String> {
    let encoded = header?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split_once(':')?.1.to_string())
}

fn listing(request: &Request, state: &Arc<Mutex<State>>, addr: SocketAddr) -> Answer {
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((&request.target, ""));
    let param = |key: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .map(str::to_string)
    };
    let mut state = state.lock().unwrap();
    let auth = request.headers.get("authorization");
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (platform, org) = match segments.as_slice() {
        ["github", "orgs" | "users", org, "repos"] => ("github", *org),
        // GitHub Enterprise Server under `--host http://ADDR/ghe`.
        ["ghe", "api", "v3", "orgs", org, "repos"] => ("github", *org),
        ["gitlab", "api", "v4", "groups", org, "projects"] => ("gitlab", *org),
        ["ado", org, "_apis", "git", "repositories"] => ("ado", *org),
        ["ado", org, project, "_apis", "git", "repositories"] if *project == PROJECT => {
            ("ado", *org)
        }
        _ => return json(404, serde_json::json!({"message": "Not Found"}), vec![]),
    };
    let authorised = match platform {
        "ado" => basic_password(auth) == Some(state.token.clone()),
        _ => auth == Some(&format!("Bearer {}", state.token)),
    };
    if !authorised {
        return json(
            401,
            serde_json::json!({"message": "Bad credentials"}),
            vec![],
        );
    }
    if org == "forbidden" {
        return json(403, serde_json::json!({"message": "Forbidden"}), vec![]);
    }
    if org != ORG {
        return json(404, serde_json::json!({"message": "Not Found"}), vec![]);
    }
    // GitHub and GitLab page by number, Azure DevOps by continuation token
    // (here: the page number too).
    let page: usize = match platform {
        "ado" => param("continuationToken").and_then(|t| t.parse().ok()),
        _ => param("page").and_then(|p| p.parse().ok()),
    }
    .unwrap_or(1);
    if let Some(i) = state.limited_pages.iter().position(|&p| p == page) {
        state.limited_pages.remove(i);
        return json(
            429,
            serde_json::json!({"message": "rate limited"}),
            vec![("Retry-After".into(), "1".into())],
        );
    }
    let size = state.page_size.max(1);
    let start = (page - 1) * size;
    let slice: Vec<EmuRepo> = state.repos.iter().skip(start).take(size).cloned().collect();
    let more = start + size < state.repos.len();
    let scheme = state.scheme;
    let base = format!("{scheme}://{addr}");
    let items: Vec<serde_json::Value> = slice
        .iter()
        .map(|r| {
            let clone = if r.elsewhere {
                format!("{scheme}://127.0.0.2:{}/git/{}.git", addr.port(), r.name)
            } else {
                format!("{base}/git/{}.git", r.name)
            };
            match platform {
                "github" => serde_json::json!({
                    "id": r.id, "name": r.name, "full_name": format!("{ORG}/{}", r.name),
                    "clone_url": clone, "html_url": format!("https://github.example/{ORG}/{}", r.name),
                    "archived": r.archived, "disabled": false, "fork": r.fork, "size": 1,
                }),
                "gitlab" => {
                    let mut p = serde_json::json!({
                        "id": r.id, "path_with_namespace": format!("{ORG}/{}", r.name),
                        "http_url_to_repo": clone, "web_url": format!("https://gitlab.example/{ORG}/{}", r.name),
                        "archived": r.archived, "empty_repo": r.listed_empty,
                    });
                    if r.fork {
                        p["forked_from_project"] = serde_json::json!({"id": 1});
                    }
                    p
                }
                _ => serde_json::json!({
                    "id": format!("00000000-0000-0000-0000-{:012}", r.id), "name": r.name,
                    "project": {"name": PROJECT},
                    // As Azure DevOps lists it: with the organisation as user name.
                    "remoteUrl": clone.replace("://", &format!("://{ORG}@")),
                    "webUrl": format!("https://ado.example/{ORG}/{PROJECT}/_git/{}", r.name),
                    "defaultBranch": if r.listed_empty { serde_json::Value::Null } else { "refs/heads/main".into() },
                    "size": if r.listed_empty { 0 } else { 1 },
                    "isDisabled": false, "isFork": r.fork,
                }),
            }
        })
        .collect();
    let mut headers = Vec::new();
    if more {
        let next = page + 1;
        match platform {
            "github" => headers.push((
                "Link".into(),
                format!("<{base}{path}?per_page=100&page={next}>; rel=\"next\", <{base}{path}?page=1>; rel=\"first\""),
            )),
            // GitLab: keyset-less offset paging names the next page.
            "gitlab" => headers.push(("X-Next-Page".into(), next.to_string())),
            _ => headers.push(("x-ms-continuationtoken".into(), next.to_string())),
        }
    } else if platform == "gitlab" {
        headers.push(("X-Next-Page".into(), String::new()));
    }
    let body = match platform {
        "ado" => serde_json::json!({"count": items.len(), "value": items}),
        _ => serde_json::Value::Array(items),
    };
    json(200, body, headers)
}

/// The git smart-HTTP protocol through `git http-backend`, for the
/// repositories served, with the token checked as a Basic password.
fn git(request: &Request, rest: &str, state: &Arc<Mutex<State>>, root: &Path) -> Answer {
    let token = state.lock().unwrap().token.clone();
    if basic_password(request.headers.get("authorization")) != Some(token) {
        return (
            401,
            vec![("WWW-Authenticate".into(), "Basic realm=\"git\"".into())],
            b"authentication required".to_vec(),
        );
    }
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut cmd = Command::new("git");
    cmd.arg("http-backend")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("REQUEST_METHOD", &request.method)
        .env("PATH_INFO", format!("/{path}"))
        .env("QUERY_STRING", query)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("REMOTE_USER", "tester")
        .env("CONTENT_LENGTH", request.body.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(t) = request.headers.get("content-type") {
        cmd.env("CONTENT_TYPE", t);
    }
    if let Some(p) = request.headers.get("git-protocol") {
        cmd.env("HTTP_GIT_PROTOCOL", p);
    }
    if let Some(e) = request.headers.get("content-encoding") {
        cmd.env("HTTP_CONTENT_ENCODING", e);
    }
    let Ok(mut child) = cmd.spawn() else {
        return (500, vec![], b"cannot run git http-backend".to_vec());
    };
    let mut stdin = child.stdin.take().unwrap();
    let body = request.body.clone();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let output = child.wait_with_output().unwrap();
    let _ = writer.join();
    let out = output.stdout;
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((at, sep)) = split else {
        return (500, vec![], b"bad CGI output".to_vec());
    };
    let head = String::from_utf8_lossy(&out[..at]).into_owned();
    let mut status = 200;
    let mut headers = Vec::new();
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("status") {
            status = value.trim()[..3].parse().unwrap_or(500);
        } else {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    (status, headers, out[at + sep..].to_vec())
}
