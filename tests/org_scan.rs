//! `scan --org`: organisation audits end to end against the loopback
//! emulator of the listing APIs and a git smart-HTTP server (both in
//! tests/org_emulator), with repositories the tests build and tokens they
//! generate.

mod common;
mod org_emulator;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use common::git::Repo;
use common::{patscan, token, Run};
use org_emulator::{EmuRepo, OrgServer, ORG};
use serde_json::Value;

/// A credential no rule matches, so only our own checks can keep it out of
/// the outputs (a token-shaped one would be masked by the redaction).
fn credential(seed: u64) -> String {
    let mut rng = patscan::tokengen::TokenRng::new(seed);
    let hex: String = (0..24)
        .map(|_| char::from_digit((rng.next_u64() % 16) as u32, 16).unwrap())
        .collect();
    format!("cred{hex}")
}

/// A work tree with one commit per `(path, text)`.
fn repo_with(files: &[(&str, String)]) -> Repo {
    let repo = Repo::init();
    for (path, text) in files {
        repo.add(path, text);
        repo.commit(&format!("add {path}"));
    }
    repo
}

/// `patscan scan --org SPEC --format FORMAT ARGS` against `server`, with
/// the credential in `var`.
fn org_scan(server: &OrgServer, var: &str, cred: &str, spec: &str, args: &[&str]) -> Run {
    org_scan_env(server, var, cred, spec, args, &[])
}

fn org_scan_env(
    server: &OrgServer,
    var: &str,
    cred: &str,
    spec: &str,
    args: &[&str],
    env: &[(&str, String)],
) -> Run {
    let mut cmd = patscan();
    cmd.env("PATSCAN_ENDPOINT_OVERRIDES", server.overrides())
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITLAB_TOKEN")
        .env_remove("AZURE_DEVOPS_EXT_PAT")
        .env(var, cred)
        // The machine's git config plays no part.
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["scan", "--org", spec])
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from_output(cmd.output().unwrap())
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn statuses(json: &Value) -> BTreeMap<String, String> {
    json["summary"]["organisation"]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A `git` on PATH that logs its arguments, then runs the real one.
fn git_shim(dir: &Path) -> (PathBuf, PathBuf) {
    let real = std::process::Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    let real = String::from_utf8(real.stdout).unwrap().trim().to_string();
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    let log = dir.join("argv.log");
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{real}' \"$@\"\n",
        log.display()
    );
    let shim = bin.join("git");
    fs::write(&shim, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&shim, fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    (PathBuf::from(path), log)
}

#[test]
fn a_github_organisation_is_listed_over_pages_cloned_and_scanned_without_leaking_the_credential() {
    let cred = credential(1);
    let server = OrgServer::start(&cred, 2);
    let leaked = token("github-classic-pat", 11);
    let other = token("npm-token", 12);
    let with_token = repo_with(&[
        ("README.md", "hello\n".into()),
        ("config/ci.env", format!("GH={leaked}\n")),
    ]);
    let clean = repo_with(&[("a.txt", "nothing here\n".into())]);
    let archived = repo_with(&[("old.env", format!("NPM={other}\n"))]);
    server.serve(EmuRepo::new(101, "api"), with_token.path());
    server.serve(EmuRepo::new(102, "web"), clean.path());
    server.serve(
        EmuRepo {
            archived: true,
            ..EmuRepo::new(103, "legacy")
        },
        archived.path(),
    );
    server.serve(
        EmuRepo {
            fork: true,
            ..EmuRepo::new(104, "forked")
        },
        with_token.path(),
    );
    server.serve_empty(EmuRepo::new(105, "empty"));
    // Listed, but the git server has no such repository: its clone fails.
    server.list(EmuRepo::new(106, "gone"));
    server.serve(
        EmuRepo {
            elsewhere: true,
            ..EmuRepo::new(107, "elsewhere")
        },
        clean.path(),
    );
    server.serve(EmuRepo::new(108, "skip-me"), with_token.path());
    // Four pages of two; the second is rate limited once.
    server.limit_page_once(2);

    let work = tempfile::tempdir().unwrap();
    let clones = work.path().join("clones");
    let (path, argv_log) = git_shim(work.path());
    let run = org_scan_env(
        &server,
        "GITHUB_TOKEN",
        &cred,
        &format!("github:{ORG}"),
        &[
            "--format",
            "json",
            "--clone-dir",
            clones.to_str().unwrap(),
            "--keep-clones",
            "--repo-exclude",
            "acme/skip-*",
            "--org-jobs",
            "3",
        ],
        &[("PATH", path.to_string_lossy().into_owned())],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();

    // Every page was read, the limited one twice.
    let seen = server.seen();
    let pages: Vec<&str> = seen
        .iter()
        .filter(|s| s.target.starts_with("/github/orgs/acme/repos"))
        .map(|s| s.target.as_str())
        .collect();
    assert_eq!(pages.len(), 5, "{pages:?}");
    assert_eq!(
        seen.iter().filter(|s| s.status == 429).count(),
        1,
        "one 429"
    );

    let expected: BTreeMap<String, String> = [
        ("acme/api", "scanned"),
        ("acme/web", "scanned"),
        ("acme/legacy", "archived"),
        ("acme/forked", "fork"),
        ("acme/empty", "empty"),
        ("acme/gone", "failed"),
        ("acme/elsewhere", "failed"),
        ("acme/skip-me", "excluded"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(statuses(&json), expected);
    assert_eq!(json["summary"]["organisation"]["repositories_listed"], 8);

    // The one token, named with its repository and links.
    let secrets = json["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 1, "{secrets:?}");
    let place = &secrets[0]["occurrences"][0];
    assert_eq!(place["path"], "config/ci.env");
    let repo = &place["repository"];
    assert_eq!(repo["platform"], "github");
    assert_eq!(repo["organisation"], ORG);
    assert_eq!(repo["name"], "acme/api");
    assert_eq!(repo["id"], "101");
    let commit = place["commit"].as_str().unwrap();
    assert_eq!(
        repo["commit_url"],
        format!("https://github.example/acme/api/commit/{commit}")
    );
    assert_eq!(
        repo["file_url"],
        format!("https://github.example/acme/api/blob/{commit}/config/ci.env#L1")
    );

    // The failures are problems naming the repository; the rest went on.
    let problems = json["problems"].as_array().unwrap();
    let gone = problems
        .iter()
        .find(|p| p["path"] == "github:acme/gone")
        .expect("the failed clone is a problem");
    assert!(gone["message"]
        .as_str()
        .unwrap()
        .contains("git clone failed"));
    let elsewhere = problems
        .iter()
        .find(|p| p["path"] == "github:acme/elsewhere")
        .expect("the foreign clone URL is a problem");
    assert!(elsewhere["message"].as_str().unwrap().contains("127.0.0.2"));
    // The clones are made in process: no git command ran at all, so none
    // could name the foreign host or carry the credential.
    assert!(!argv_log.exists(), "{:?}", fs::read_to_string(&argv_log));

    // Git authenticated with the credential (the server refuses others)...
    assert!(seen
        .iter()
        .any(|s| s.target.contains("/git/api.git/git-upload-pack") && s.status == 200));
    // ...which is in no output, no git argument, no file of the clones.
    run.assert_no_leak(&[&cred]);
    let encoded = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{cred}"))
    };
    // `--since-last` reads each remote's refs with the system git: the
    // credential is in none of its arguments either.
    let previous = work.path().join("previous.json");
    fs::write(&previous, &run.stdout).unwrap();
    let again = org_scan_env(
        &server,
        "GITHUB_TOKEN",
        &cred,
        &format!("github:{ORG}"),
        &[
            "--format",
            "json",
            "--since-last",
            previous.to_str().unwrap(),
        ],
        &[("PATH", path.to_string_lossy().into_owned())],
    );
    assert_ne!(again.code, 2, "{}", again.stderr);
    assert_eq!(statuses(&again.json())["acme/api"], "unchanged");
    again.assert_no_leak(&[&cred]);
    let argv = fs::read_to_string(&argv_log).unwrap();
    assert!(argv.contains("ls-remote"), "{argv}");
    assert!(!argv.contains("127.0.0.2"), "{argv}");
    assert!(!argv.contains(&cred), "{argv}");
    assert!(!argv.contains(&encoded), "{argv}");
    let kept = files_under(&clones);
    assert!(kept.iter().any(|f| f.ends_with("config")), "{kept:?}");
    for file in kept {
        let bytes = fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&cred), "credential in {}", file.display());
        assert!(!text.contains(&encoded), "credential in {}", file.display());
    }
}

#[test]
fn gitlab_groups_and_azure_devops_projects_are_scanned_end_to_end() {
    let cred = credential(2);
    let server = OrgServer::start(&cred, 1);
    let leaked = token("gitlab-pat", 21);
    let repo = repo_with(&[("deploy.sh", format!("export T={leaked}\n"))]);
    let clean = repo_with(&[("a.txt", "clean\n".into())]);
    server.serve(EmuRepo::new(1, "one"), repo.path());
    server.serve(EmuRepo::new(2, "two"), clean.path());
    server.serve(
        EmuRepo {
            listed_empty: true,
            ..EmuRepo::new(3, "three")
        },
        clean.path(),
    );

    // GitLab: three pages by X-Next-Page.
    let run = org_scan(
        &server,
        "GITLAB_TOKEN",
        &cred,
        &format!("gitlab:{ORG}"),
        &["--format", "json", "--ungrouped"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["repository"]["platform"], "gitlab");
    assert_eq!(findings[0]["repository"]["name"], "acme/one");
    let commit = findings[0]["commit"].as_str().unwrap();
    assert_eq!(
        findings[0]["repository"]["file_url"],
        format!("https://gitlab.example/acme/one/-/blob/{commit}/deploy.sh#L1")
    );
    assert_eq!(statuses(&json)["acme/three"], "empty");
    run.assert_no_leak(&[&cred]);

    // Azure DevOps, one project: pages by continuation token, clone URLs
    // with the organisation as user name.
    let run = org_scan(
        &server,
        "AZURE_DEVOPS_EXT_PAT",
        &cred,
        &format!("azure-devops:{ORG}/Proj"),
        &["--format", "jsonl"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let rows: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1);
    let repository = &rows[0]["repository"];
    assert_eq!(repository["platform"], "azure-devops");
    assert_eq!(repository["project"], "Proj");
    assert_eq!(repository["name"], "one");
    assert!(repository["file_url"]
        .as_str()
        .unwrap()
        .starts_with("https://ado.example/acme/Proj/_git/one?path=/deploy.sh&version=GC"));
    run.assert_no_leak(&[&cred]);
    // The human report names the repository too.
    let run = org_scan(
        &server,
        "AZURE_DEVOPS_EXT_PAT",
        &cred,
        &format!("azure-devops:{ORG}"),
        &["--color", "never"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("repository azure-devops:acme/Proj/one: https://ado.example/"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("azure-devops:acme: 3 repositories listed: 2 scanned, 1 empty"));
}

/// A proxy on 127.0.0.1 that records each request line and answers 502.
fn recording_proxy() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = lines.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_ok() {
                seen.lock().unwrap().push(line.trim_end().to_string());
            }
            // Headers up to the blank line, then a refusal.
            let mut header = String::new();
            while reader
                .read_line(&mut header)
                .map(|n| n > 2)
                .unwrap_or(false)
            {
                header.clear();
            }
            let _ = stream.write_all(
                b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (port, lines)
}

#[test]
fn the_clone_goes_through_the_proxy_git_is_configured_with() {
    let cred = credential(7);
    let server = OrgServer::start(&cred, 10);
    let repo = repo_with(&[("a.txt", "nothing here\n".into())]);
    server.serve(EmuRepo::new(201, "api"), repo.path());
    let (proxy_port, proxied) = recording_proxy();
    let work = tempfile::tempdir().unwrap();
    let gitconfig = work.path().join("gitconfig");
    fs::write(
        &gitconfig,
        format!("[http]\n\tproxy = http://127.0.0.1:{proxy_port}\n"),
    )
    .unwrap();
    let run = org_scan_env(
        &server,
        "GITHUB_TOKEN",
        &cred,
        &format!("github:{ORG}"),
        &["--format", "json"],
        &[(
            "GIT_CONFIG_GLOBAL",
            gitconfig.to_string_lossy().into_owned(),
        )],
    );
    assert_ne!(run.code, 2, "{}", run.stderr);
    // The proxy refused, so the clone failed: it did not go around it.
    assert_eq!(statuses(&run.json())["acme/api"], "failed");
    let proxied = proxied.lock().unwrap().clone();
    assert!(
        proxied
            .iter()
            .any(|line| line.starts_with("GET http://127.0.0.1:") && line.contains("info/refs")),
        "{proxied:?}"
    );
    assert!(!run.stdout.contains(&cred) && !run.stderr.contains(&cred));
}

#[test]
fn a_refused_listing_stops_the_run_with_a_clear_error() {
    let cred = credential(3);
    let server = OrgServer::start(&cred, 10);
    let wrong = credential(4);
    for (spec, cred, expected) in [
        ("github:acme", wrong.as_str(), "HTTP 401"),
        ("github:forbidden", cred.as_str(), "HTTP 403"),
        ("github:nobody", cred.as_str(), "HTTP 404"),
    ] {
        let run = org_scan(&server, "GITHUB_TOKEN", cred, spec, &["--format", "json"]);
        assert_eq!(run.code, 2, "{spec}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{spec}: {}", run.stderr);
        assert!(run.stderr.contains("GITHUB_TOKEN"), "{}", run.stderr);
        run.assert_no_leak(&[cred]);
    }
}

#[test]
fn a_self_hosted_host_gets_the_listing_and_the_clones() {
    let cred = credential(5);
    let server = OrgServer::start(&cred, 10);
    let leaked = token("github-classic-pat", 51);
    let repo = repo_with(&[("k.txt", format!("{leaked}\n"))]);
    server.serve(EmuRepo::new(1, "one"), repo.path());
    let output = patscan()
        .env_remove("PATSCAN_ENDPOINT_OVERRIDES")
        .env("GITHUB_TOKEN", &cred)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["scan", "--org", "github:acme", "--format", "json"])
        .args(["--host", &format!("http://{}/ghe", server.addr)])
        .output()
        .unwrap();
    let run = Run::from_output(output);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(
        json["summary"]["organisation"]["api"],
        format!("http://{}/ghe/api/v3", server.addr)
    );
    assert_eq!(json["secrets"].as_array().unwrap().len(), 1);
    // A plain-HTTP host that is not loopback is refused before any request.
    let run = Run::from_output(
        patscan()
            .env("GITHUB_TOKEN", &cred)
            .args([
                "scan",
                "--org",
                "github:acme",
                "--host",
                "http://git.example.com",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("https://"), "{}", run.stderr);
}

#[test]
fn an_https_host_is_listed_and_cloned_over_tls_and_an_untrusted_certificate_sends_nothing() {
    let cred = credential(9);
    let (server, ca_pem) = OrgServer::start_tls(&cred, 10);
    let leaked = token("github-classic-pat", 91);
    let repo = repo_with(&[("k.txt", format!("{leaked}\n"))]);
    server.serve(EmuRepo::new(1, "one"), repo.path());
    let work = tempfile::tempdir().unwrap();
    let trusted = work.path().join("ca.pem");
    std::fs::write(&trusted, &ca_pem).unwrap();
    let host = format!("https://{}/ghe", server.addr);
    let run_with_ca = |ca: &Path| {
        Run::from_output(
            patscan()
                .env_remove("PATSCAN_ENDPOINT_OVERRIDES")
                .env("SSL_CERT_FILE", ca)
                .env("GITHUB_TOKEN", &cred)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .args(["scan", "--org", "github:acme", "--format", "json"])
                .args(["--host", &host])
                .output()
                .unwrap(),
        )
    };

    // Both the listing and the clone go over TLS to the named host.
    let run = run_with_ca(&trusted);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(
        json["summary"]["organisation"]["api"],
        format!("{host}/api/v3")
    );
    assert_eq!(json["secrets"].as_array().unwrap().len(), 1);
    assert_eq!(statuses(&json)["acme/one"], "scanned");
    assert!(server.seen().iter().any(|s| s.target.contains("info/refs")));

    // A certificate from a CA the client does not trust ends the handshake:
    // the server decrypts no request, so the credential never left.
    let (stranger, stranger_ca) = OrgServer::start_tls(&cred, 10);
    drop(stranger);
    let untrusted = work.path().join("other-ca.pem");
    std::fs::write(&untrusted, stranger_ca).unwrap();
    let before = server.seen().len();
    let run = run_with_ca(&untrusted);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("certificate is not trusted"),
        "{}",
        run.stderr
    );
    assert_eq!(server.seen().len(), before, "a request got through");
    assert!(!run.stdout.contains(&cred) && !run.stderr.contains(&cred));
}

#[test]
fn since_last_skips_the_repositories_whose_refs_did_not_change() {
    let cred = credential(6);
    let server = OrgServer::start(&cred, 10);
    let repos: Vec<Repo> = (0..3)
        .map(|i| repo_with(&[("a.txt", format!("clean {i}\n"))]))
        .collect();
    for (i, repo) in repos.iter().enumerate() {
        server.serve(EmuRepo::new(i as u64 + 1, &format!("r{i}")), repo.path());
    }
    let work = tempfile::tempdir().unwrap();
    let first = work.path().join("first.json");
    let run = org_scan(
        &server,
        "GITHUB_TOKEN",
        &cred,
        "github:acme",
        &["--format", "json", "-o", first.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);

    // r1 gets a new commit with a token.
    let leaked = token("npm-token", 61);
    repos[1].add("b.env", &format!("NPM={leaked}\n"));
    repos[1].commit("add b");
    repos[1].git(&[
        "push",
        "-q",
        server.served_path("r1").to_str().unwrap(),
        "main",
    ]);
    let before = server.seen().len();
    let run = org_scan(
        &server,
        "GITHUB_TOKEN",
        &cred,
        "github:acme",
        &["--format", "json", "--since-last", first.to_str().unwrap()],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    let status = statuses(&json);
    assert_eq!(status["acme/r0"], "unchanged");
    assert_eq!(status["acme/r1"], "scanned");
    assert_eq!(status["acme/r2"], "unchanged");
    assert_eq!(json["secrets"].as_array().unwrap().len(), 1);
    // Only the changed repository was fetched.
    let fetched: Vec<String> = server.seen()[before..]
        .iter()
        .filter(|s| s.fetch)
        .map(|s| s.target.clone())
        .collect();
    assert_eq!(fetched, ["/git/r1.git/git-upload-pack"]);

    // Another organisation's report is refused.
    let run = org_scan(
        &server,
        "GITLAB_TOKEN",
        &cred,
        "gitlab:acme",
        &["--since-last", first.to_str().unwrap()],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("github:acme"), "{}", run.stderr);
}

/// Drops what differs between runs of the same scan: how long it took.
fn without_timing(mut json: Value) -> Value {
    if let Some(summary) = json["summary"].as_object_mut() {
        summary.remove("duration_seconds");
    }
    json
}

fn merge(paths: &[PathBuf]) -> Run {
    Run::from_output(
        patscan()
            .arg("merge")
            .args(paths)
            .arg("--exit-zero")
            .output()
            .unwrap(),
    )
}

#[test]
fn shard_runs_merged_equal_one_unsharded_run() {
    let cred = credential(7);
    let server = OrgServer::start(&cred, 100);
    let work = tempfile::tempdir().unwrap();
    // 12 tiny repositories, two or three per shard at most shards; two
    // npm tokens are each in two repositories (one secret, many places,
    // often in different shards). Every scan clones every repository of
    // its shard, and the test makes 15 scans: more repositories only
    // repeat the same cases.
    for i in 0..12u64 {
        let mut files = vec![("README.md", format!("repo {i}\n"))];
        if i % 3 == 0 {
            files.push((
                "ci.env",
                format!("NPM={}\n", token("npm-token", 700 + i % 2)),
            ));
        }
        if i % 4 == 1 {
            files.push((
                "gh.txt",
                format!("{}\n", token("github-classic-pat", 800 + i)),
            ));
        }
        let repo = repo_with(&files);
        server.serve(
            EmuRepo::new(1000 + i * 7919, &format!("repo{i:02}")),
            repo.path(),
        );
    }
    let scan = |format: &str, extra: &[&str], out: &Path| {
        let mut args = vec![
            "--format",
            format,
            "-o",
            out.to_str().unwrap(),
            "--org-jobs",
            "4",
        ];
        args.extend_from_slice(extra);
        let run = org_scan(&server, "GITHUB_TOKEN", &cred, "github:acme", &args);
        // A shard may hold no token (exit 0); the whole organisation does.
        let sharded = extra.contains(&"--shard");
        assert!(
            run.code == 1 || (sharded && run.code == 0),
            "{}",
            run.stderr
        );
    };
    let whole = work.path().join("whole.json");
    scan("json", &[], &whole);
    let whole_json: Value = serde_json::from_str(&fs::read_to_string(&whole).unwrap()).unwrap();
    // 2 npm tokens in two places each, 3 GitHub tokens.
    let secrets = whole_json["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 5);
    let expected = without_timing(whole_json);

    // One shard (the whole run again), two, and more shards than some
    // hold repositories with tokens.
    for n in [1, 2, 5u32] {
        let parts: Vec<PathBuf> = (0..n)
            .map(|i| {
                let out = work.path().join(format!("shard-{i}-of-{n}.json"));
                scan("json", &["--shard", &format!("{i}/{n}")], &out);
                out
            })
            .collect();
        let merged = merge(&parts);
        assert_eq!(merged.code, 0, "{}", merged.stderr);
        assert!(merged.stderr.is_empty(), "{}", merged.stderr);
        assert_eq!(without_timing(merged.json()), expected, "N = {n}");
    }

    // JSON Lines and SARIF merge the same way.
    for format in ["jsonl", "sarif"] {
        let n = 2;
        let whole = work.path().join(format!("whole.{format}"));
        scan(format, &[], &whole);
        let parts: Vec<PathBuf> = (0..n)
            .map(|i| {
                let out = work.path().join(format!("shard-{i}.{format}"));
                scan(format, &["--shard", &format!("{i}/{n}")], &out);
                out
            })
            .collect();
        let merged = merge(&parts);
        assert_eq!(merged.code, 0, "{}", merged.stderr);
        let text = fs::read_to_string(&whole).unwrap();
        if format == "jsonl" {
            let rows = |t: &str| -> Vec<Value> {
                t.lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect()
            };
            assert_eq!(rows(&merged.stdout), rows(&text));
        } else {
            // Related locations point at the other places a shard saw;
            // everything else is the unsharded run's.
            let results = |log: Value| -> Vec<Value> {
                let mut results = log["runs"][0]["results"].as_array().unwrap().clone();
                for r in &mut results {
                    r.as_object_mut().unwrap().remove("relatedLocations");
                }
                results
            };
            let whole: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(results(merged.json()), results(whole));
        }
    }

    // A shard twice, or a report of another organisation, is refused.
    let one = work.path().join("shard-0-of-2.json");
    let run = merge(&[one.clone(), one.clone()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("both shard 0/2"), "{}", run.stderr);
    let mut other: Value = serde_json::from_str(&fs::read_to_string(&one).unwrap()).unwrap();
    other["summary"]["organisation"]["spec"] = "github:other".into();
    other["summary"]["organisation"]["shard"] = "1/2".into();
    let other_path = work.path().join("other.json");
    fs::write(&other_path, other.to_string()).unwrap();
    let run = merge(&[one.clone(), other_path]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("different organisations"),
        "{}",
        run.stderr
    );
    // A missing shard is said.
    let run = merge(&[one]);
    assert!(
        run.stderr.contains("shards 1/2 are missing"),
        "{}",
        run.stderr
    );
}
