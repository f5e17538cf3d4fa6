//! `scan --ci-logs`: pipeline logs and artifacts end to end, against the
//! loopback emulator of Azure Pipelines, GitHub Actions and GitLab CI
//! (tests/org_emulator/ci.rs), with tokens the tests generate planted in
//! logs and zipped artifacts. The credential must reach nothing but the
//! emulator's API requests: not an output, an argument, a URL or the disk.

mod common;
mod org_emulator;

use std::fs;
use std::io::Write;
use std::path::Path;

use common::{patscan, token, Run};
use org_emulator::ci::{EmuArtifact, EmuJob, EmuPipeline, EmuRun, LogBody};
use org_emulator::{OrgServer, Seen};
use serde_json::Value;

/// A credential no rule matches, so only our own checks keep it out.
fn credential(seed: u64) -> String {
    let mut rng = patscan::tokengen::TokenRng::new(seed);
    let hex: String = (0..24)
        .map(|_| char::from_digit((rng.next_u64() % 16) as u32, 16).unwrap())
        .collect();
    format!("cred{hex}")
}

fn zip_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A finish time `days` ago, RFC 3339.
fn days_ago(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let secs = now - days * 86_400;
    let (d, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = d + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn text(s: &str) -> LogBody {
    LogBody::Text(s.to_string())
}

fn job(name: &str, steps: Vec<(&str, LogBody)>) -> EmuJob {
    EmuJob {
        name: name.into(),
        steps: steps.into_iter().map(|(s, b)| (s.to_string(), b)).collect(),
    }
}

fn run(id: u64, number: &str, days: i64, jobs: Vec<EmuJob>, artifacts: Vec<EmuArtifact>) -> EmuRun {
    EmuRun {
        id,
        number: number.into(),
        finished: days_ago(days),
        jobs,
        artifacts,
    }
}

/// `patscan scan --ci-logs SPEC --format json ARGS` against `server`, the
/// credential in `var`, temporary files in `tmp`.
fn ci_scan(
    server: &OrgServer,
    var: &str,
    cred: &str,
    spec: &str,
    tmp: &Path,
    args: &[&str],
) -> (Run, Value) {
    let output = patscan()
        .env("PATSCAN_ENDPOINT_OVERRIDES", server.overrides())
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITLAB_TOKEN")
        .env_remove("AZURE_DEVOPS_EXT_PAT")
        .env(var, cred)
        .env("TMPDIR", tmp)
        .args(["scan", "--ci-logs", spec, "--format", "json", "--ungrouped"])
        .args(args)
        .output()
        .unwrap();
    let run = Run::from_output(output);
    let json: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} / {}", run.stdout, run.stderr));
    (run, json)
}

/// The credential is in no output, no request URL, and no file left
/// behind; it travelled only in the API requests' Authorization header.
fn assert_credential_kept(cred: &str, run: &Run, seen: &[Seen], tmp: &Path) {
    assert!(!run.stdout.contains(cred) && !run.stderr.contains(cred));
    for request in seen {
        assert!(!request.target.contains(cred), "{}", request.target);
        if request.target.starts_with("/blob/") {
            assert!(
                request.authorization.is_none(),
                "the credential went to the redirect's target"
            );
        }
    }
    assert!(
        fs::read_dir(tmp).unwrap().next().is_none(),
        "files left in the temporary folder"
    );
}

fn findings(json: &Value) -> Vec<&Value> {
    json["findings"].as_array().unwrap().iter().collect()
}

fn problems(json: &Value) -> Vec<String> {
    json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}: {}",
                p["path"].as_str().unwrap(),
                p["message"].as_str().unwrap()
            )
        })
        .collect()
}

/// Asserts where on its platform a finding stands: pipeline, run, job,
/// step, line of the log, and the web link to that line.
fn assert_log_place(
    found: &Value,
    pipeline: &str,
    run: &str,
    job: &str,
    step: &str,
    line: u64,
    log_url: &str,
) {
    assert_eq!(found["pipeline"], pipeline, "{found}");
    assert_eq!(found["run"], run, "{found}");
    assert_eq!(found["job"], job, "{found}");
    assert_eq!(found["step"], step, "{found}");
    assert_eq!(found["line"], line, "{found}");
    assert_eq!(found["log_url"], log_url, "{found}");
}

/// The finding whose secret starts as `secret` does (the JSON shows it
/// redacted: its first four characters and length).
fn finding_of<'a>(json: &'a Value, secret: &str) -> Option<&'a Value> {
    let shown = format!("{}…[{} chars]", &secret[..4], secret.chars().count());
    findings(json)
        .into_iter()
        .find(|f| f["secret"].as_str() == Some(shown.as_str()))
}

#[test]
fn azure_pipelines_logs_and_artifacts_are_scanned_end_to_end_without_leaking_the_credential() {
    let cred = credential(1);
    // One definition and one build per page: continuation tokens.
    let server = OrgServer::start(&cred, 1);
    let in_test = token("azure-devops-pat", 21);
    let in_artifact = token("github-classic-pat", 22);
    let in_big = token("npm-token", 23);
    let too_old = token("gitlab-pat", 24);
    let nested = zip_bytes(&[(
        "config/secrets.env",
        format!("GH={in_artifact}\n").as_bytes(),
    )]);
    let artifact = zip_bytes(&[("readme.txt", b"build output\n"), ("inner.zip", &nested)]);
    server.add_pipeline(EmuPipeline {
        id: 1,
        name: "ci-build".into(),
        runs: vec![
            run(
                13,
                "20261201.3",
                1,
                vec![job(
                    "Build",
                    vec![
                        ("Checkout", text("fetching\nok\n")),
                        (
                            "Run tests",
                            text(&format!("+ set -x\n+ dotnet test\nPAT={in_test}\n")),
                        ),
                        ("Publish", LogBody::Deleted),
                    ],
                )],
                vec![EmuArtifact {
                    name: "drop".into(),
                    zip: artifact,
                    expired: false,
                }],
            ),
            run(
                12,
                "20261130.1",
                2,
                vec![job("Build", vec![("Run", text("clean\n"))])],
                vec![],
            ),
            run(
                11,
                "20200101.1",
                2000,
                vec![job("Build", vec![("Run", text(&format!("{too_old}\n")))])],
                vec![],
            ),
        ],
        ..EmuPipeline::default()
    });
    server.add_pipeline(EmuPipeline {
        id: 2,
        name: "nightly".into(),
        runs: vec![run(
            21,
            "20261201.1",
            1,
            vec![job(
                "Soak",
                vec![(
                    "Long test",
                    LogBody::Generated {
                        size: 50 << 20,
                        tail: format!("dump: NPM_TOKEN={in_big}\n"),
                    },
                )],
            )],
            vec![],
        )],
        ..EmuPipeline::default()
    });
    // One rate-limited answer on the way: waited for, then read.
    server.limit_once("/ado/acme/Proj/_apis/build/builds");
    let tmp = tempfile::tempdir().unwrap();
    let (run, json) = ci_scan(
        &server,
        "AZURE_DEVOPS_EXT_PAT",
        &cred,
        "azure-devops:acme/Proj",
        tmp.path(),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);

    let test = finding_of(&json, &in_test).expect("the token the test step printed");
    assert_eq!(test["rule_id"], "azure-devops-pat");
    assert_eq!(test["origin"], "ci-log");
    assert_log_place(
        test,
        "Proj/ci-build",
        "20261201.3",
        "Build",
        "Run tests",
        3,
        "https://ado.example/acme/Proj/_build/results?buildId=13&view=logs&j=job-0&t=task-1&l=3",
    );
    assert_eq!(test["run_id"], "13");
    assert_eq!(test["column"], 5);
    assert_eq!(test["repository"]["project"], "Proj");
    assert!(test["snippet"].as_str().unwrap().starts_with("PAT="));
    assert!(!test["snippet"].as_str().unwrap().contains(&in_test[8..]));

    let nested = finding_of(&json, &in_artifact).expect("the token in the nested archive");
    assert_eq!(
        nested["path"],
        "Proj/ci-build 20261201.3/artifacts/drop.zip!/inner.zip!/config/secrets.env"
    );
    let big = finding_of(&json, &in_big).expect("the token at the end of the 50 MB log");
    assert_eq!(big["step"], "Long test");
    assert!(
        finding_of(&json, &too_old).is_none(),
        "a run outside --since 30d"
    );
    assert_eq!(findings(&json).len(), 3);
    assert!(json["summary"]["bytes_scanned"].as_u64().unwrap() > 50 << 20);

    let problems = problems(&json);
    assert!(
        problems.iter().any(|p| p
            .starts_with("Proj/ci-build 20261201.3/Build/Publish: log not scanned:")
            && p.contains("HTTP 404")),
        "{problems:?}"
    );
    let org = &json["summary"]["organisation"];
    assert_eq!(org["spec"], "ci-logs:azure-devops:acme/Proj");
    let pipelines = org["repositories"].as_array().unwrap();
    assert_eq!(pipelines.len(), 2);
    assert_eq!(pipelines[0]["name"], "Proj/ci-build");
    assert_eq!(pipelines[0]["status"], "scanned");
    assert_eq!(
        pipelines[0]["runs_scanned"],
        serde_json::json!(["12", "13"])
    );

    let seen = server.seen();
    assert!(seen.iter().any(|s| s.status == 429), "the 429 was served");
    assert!(seen
        .iter()
        .any(|s| s.target.contains("/build/builds?") && s.target.contains("continuationToken=2")));
    assert!(seen
        .iter()
        .any(|s| s.target.contains("/build/definitions?")
            && s.target.contains("continuationToken=2")));
    assert_credential_kept(&cred, &run, &seen, tmp.path());
    // A job's own log repeats its tasks': not read.
    assert!(!seen.iter().any(|s| s.target.contains("/builds/13/logs/4?")));
}

#[test]
fn since_last_skips_the_runs_already_scanned_and_reads_the_new_ones() {
    let cred = credential(2);
    let server = OrgServer::start(&cred, 10);
    let first = token("github-classic-pat", 31);
    let later = token("npm-token", 32);
    let one = run(
        51,
        "1",
        3,
        vec![job("Deploy", vec![("Push", text(&format!("{first}\n")))])],
        vec![],
    );
    server.add_pipeline(EmuPipeline {
        id: 5,
        name: "deploy".into(),
        runs: vec![one],
        ..EmuPipeline::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_, json) = ci_scan(
        &server,
        "AZURE_DEVOPS_EXT_PAT",
        &cred,
        "azure-devops:acme/Proj",
        tmp.path(),
        &[],
    );
    assert!(finding_of(&json, &first).is_some());
    let report = dir.path().join("first.json");
    fs::write(&report, serde_json::to_string(&json).unwrap()).unwrap();

    // Nothing new: no log is read again.
    let before = server.seen().len();
    let (run1, json) = ci_scan(
        &server,
        "AZURE_DEVOPS_EXT_PAT",
        &cred,
        "azure-devops:acme/Proj",
        tmp.path(),
        &["--since-last", report.to_str().unwrap()],
    );
    assert_eq!(run1.code, 0, "{}", run1.stderr);
    assert!(findings(&json).is_empty());
    assert_eq!(
        json["summary"]["organisation"]["repositories"][0]["status"],
        "unchanged"
    );
    assert!(!server.seen()[before..]
        .iter()
        .any(|s| s.target.contains("/logs")));

    // A new run: only it is read; the record keeps both.
    let two = run(
        52,
        "2",
        1,
        vec![job("Deploy", vec![("Push", text(&format!("{later}\n")))])],
        vec![],
    );
    server.add_run(5, two);
    let (_, json) = ci_scan(
        &server,
        "AZURE_DEVOPS_EXT_PAT",
        &cred,
        "azure-devops:acme/Proj",
        tmp.path(),
        &["--since-last", report.to_str().unwrap()],
    );
    assert!(finding_of(&json, &later).is_some());
    assert!(finding_of(&json, &first).is_none());
    let record = &json["summary"]["organisation"]["repositories"][0];
    assert_eq!(record["status"], "scanned");
    assert_eq!(record["runs_scanned"], serde_json::json!(["51", "52"]));
}

#[test]
fn a_missing_scope_is_named_and_the_rest_of_the_scan_goes_on() {
    let cred = credential(3);
    let server = OrgServer::start(&cred, 10);
    let leaked = token("azure-devops-pat", 41);
    server.add_pipeline(EmuPipeline {
        id: 1,
        name: "app".into(),
        runs: vec![run(
            71,
            "1",
            1,
            vec![job("Build", vec![("Echo", text(&format!("{leaked}\n")))])],
            vec![EmuArtifact {
                name: "drop".into(),
                zip: zip_bytes(&[("a.txt", b"x")]),
                expired: false,
            }],
        )],
        ..EmuPipeline::default()
    });
    server.forbid("/ado/acme/Proj/_apis/build/builds/71/artifacts");
    let tmp = tempfile::tempdir().unwrap();
    let (run, json) = ci_scan(
        &server,
        "AZURE_DEVOPS_EXT_PAT",
        &cred,
        "azure-devops:acme/Proj",
        tmp.path(),
        &[],
    );
    assert!(finding_of(&json, &leaked).is_some(), "{}", run.stderr);
    let problems = problems(&json);
    assert!(
        problems.iter().any(|p| p.contains("HTTP 403")
            && p.contains("AZURE_DEVOPS_EXT_PAT lacks the Build (Read) scope")),
        "{problems:?}"
    );
    assert!(run.stderr.contains("Build (Read)"));
    // Not recorded as scanned: a later scan with the scope reads it.
    let pipeline = &json["summary"]["organisation"]["repositories"][0];
    assert_eq!(pipeline["status"], "failed");
    assert!(pipeline.get("runs_scanned").is_none());

    // A credential refused outright: a clear error, exit 2.
    let (refused, _) = {
        let output = patscan()
            .env("PATSCAN_ENDPOINT_OVERRIDES", server.overrides())
            .env("AZURE_DEVOPS_EXT_PAT", "wrong")
            .env("TMPDIR", tmp.path())
            .args(["scan", "--ci-logs", "azure-devops:acme/Proj"])
            .output()
            .unwrap();
        (Run::from_output(output), ())
    };
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("HTTP 401") && refused.stderr.contains("AZURE_DEVOPS_EXT_PAT"),
        "{}",
        refused.stderr
    );
}

#[test]
fn github_actions_job_logs_and_artifacts_are_read_through_redirects_without_the_credential() {
    let cred = credential(4);
    let server = OrgServer::start(&cred, 1);
    let printed = token("github-classic-pat", 51);
    let uploaded = token("npm-token", 52);
    let older = token("azure-devops-pat", 53);
    server.add_pipeline(EmuPipeline {
        id: 900,
        name: "CI".into(),
        runs: vec![
            run(
                1001,
                "42",
                1,
                vec![job(
                    "build",
                    vec![
                        ("actions/checkout@v4", text("2026-12-01T10:00:01.0000000Z Syncing repository\n")),
                        (
                            "./build.sh",
                            text(&format!("2026-12-01T10:00:02.0000000Z + curl -H 'Authorization: token {printed}'\n")),
                        ),
                    ],
                )],
                vec![
                    EmuArtifact {
                        name: "report".into(),
                        zip: zip_bytes(&[("env.txt", format!("NPM_TOKEN={uploaded}\n").as_bytes())]),
                        expired: false,
                    },
                    EmuArtifact {
                        name: "old-logs".into(),
                        zip: Vec::new(),
                        expired: true,
                    },
                ],
            ),
            run(1000, "41", 2, vec![job("build", vec![("make", text(&format!("{older}\n")))])], vec![]),
        ],
        ..EmuPipeline::default()
    });
    server.limit_once("/github/repos/acme/app/actions/runs/1001/jobs");
    let tmp = tempfile::tempdir().unwrap();
    let (run, json) = ci_scan(
        &server,
        "GITHUB_TOKEN",
        &cred,
        "github:acme/app",
        tmp.path(),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);

    let found = finding_of(&json, &printed).expect("the token the step printed");
    assert_log_place(
        found,
        "acme/app: CI",
        "#42",
        "build",
        "./build.sh",
        4,
        "https://github.example/acme/app/actions/runs/1001/job/100100",
    );
    assert_eq!(found["repository"]["name"], "acme/app");
    let artifact = finding_of(&json, &uploaded).expect("the token in the artifact");
    assert_eq!(
        artifact["path"],
        "acme/app: CI #42/artifacts/report.zip!/env.txt"
    );
    // The older run is on the second page (one run per page).
    assert!(finding_of(&json, &older).is_some());
    let problems = problems(&json);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("artifacts/old-logs.zip") && p.contains("expired")),
        "{problems:?}"
    );
    let seen = server.seen();
    assert!(seen.iter().any(|s| s.target.starts_with("/blob/job/")));
    assert!(seen.iter().any(|s| s.target.contains("page=2")));
    assert_credential_kept(&cred, &run, &seen, tmp.path());
    // Bearer to the API only.
    for request in seen.iter().filter(|s| s.target.starts_with("/github/")) {
        assert_eq!(
            request.authorization.as_deref(),
            Some(format!("Bearer {cred}").as_str())
        );
    }

    // The whole organisation: its repositories are listed first.
    server.list(org_emulator::EmuRepo::new(7, "app"));
    let (_, json) = ci_scan(
        &server,
        "GITHUB_TOKEN",
        &cred,
        "github:acme",
        tmp.path(),
        &["--builds", "1"],
    );
    assert!(finding_of(&json, &printed).is_some());
    assert!(
        finding_of(&json, &older).is_none(),
        "--builds 1 reads the newest run only"
    );
    assert_eq!(
        json["summary"]["organisation"]["repositories"][0]["runs_scanned"],
        serde_json::json!(["1001"])
    );
}

#[test]
fn a_log_over_the_size_limit_is_reported_not_silently_skipped() {
    let cred = credential(9);
    let server = OrgServer::start(&cred, 10);
    let at_end = token("npm-token", 95);
    server.add_pipeline(EmuPipeline {
        id: 1,
        name: "big".into(),
        runs: vec![run(
            1,
            "1",
            1,
            vec![job(
                "J",
                vec![(
                    "Verbose",
                    LogBody::Generated {
                        size: 50 << 20,
                        tail: format!("{at_end}\n"),
                    },
                )],
            )],
            vec![],
        )],
        ..EmuPipeline::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let (run, json) = ci_scan(
        &server,
        "AZURE_DEVOPS_EXT_PAT",
        &cred,
        "azure-devops:acme/Proj",
        tmp.path(),
        &["--max-file-size", "10M"],
    );
    assert!(finding_of(&json, &at_end).is_none());
    let problems = problems(&json);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("Proj/big 1/J/Verbose: skipped:")
                && p.contains("over --max-file-size")),
        "{problems:?}"
    );
    assert!(run.stderr.contains("over --max-file-size"));
    assert_eq!(json["summary"]["large_files_skipped"], 1);
}

#[test]
fn gitlab_job_traces_and_artifacts_of_a_group_are_scanned() {
    let cred = credential(5);
    let server = OrgServer::start(&cred, 1);
    let traced = token("gitlab-pat-routable", 61);
    let kept = token("github-classic-pat", 62);
    // The group's listing names the project; its CI is pipeline 3.
    server.list(org_emulator::EmuRepo::new(3, "svc"));
    server.add_pipeline(EmuPipeline {
        id: 3,
        name: "svc".into(),
        runs: vec![run(
            301,
            "7",
            1,
            vec![job(
                "deploy",
                vec![
                    ("prepare_script", text("Preparing\n")),
                    (
                        "step_script",
                        text(&format!("$ env\nGITLAB_TOKEN={traced}\n")),
                    ),
                ],
            )],
            vec![EmuArtifact {
                name: "coverage".into(),
                zip: zip_bytes(&[(
                    "nested.zip",
                    &zip_bytes(&[("x.env", format!("T={kept}\n").as_bytes())]),
                )]),
                expired: false,
            }],
        )],
        ..EmuPipeline::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let (run, json) = ci_scan(
        &server,
        "GITLAB_TOKEN",
        &cred,
        "gitlab:acme",
        tmp.path(),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = finding_of(&json, &traced).expect("the token in the trace");
    assert_log_place(
        found,
        "acme/svc",
        "#7",
        "deploy",
        "step_script",
        5,
        "https://gitlab.example/acme/svc/-/jobs/30100#L5",
    );
    let nested = finding_of(&json, &kept).expect("the token in the nested archive");
    assert_eq!(
        nested["path"],
        "acme/svc #7/artifacts/deploy-30100.zip!/nested.zip!/x.env"
    );
    assert_credential_kept(&cred, &run, &server.seen(), tmp.path());

    // One project by its path: the same findings, without the group.
    let before = server.seen().len();
    let (_, one) = ci_scan(
        &server,
        "GITLAB_TOKEN",
        &cred,
        "gitlab:acme/svc",
        tmp.path(),
        &[],
    );
    assert_eq!(findings(&one).len(), findings(&json).len());
    assert!(!server.seen()[before..]
        .iter()
        .any(|s| s.target.contains("/groups/")));
}

#[test]
fn shards_of_a_ci_log_scan_merge_into_the_whole_scan() {
    let cred = credential(6);
    let server = OrgServer::start(&cred, 3);
    for i in 0..6u64 {
        let leaked = token("npm-token", 70 + i);
        server.add_pipeline(EmuPipeline {
            id: 10 + i,
            name: format!("p{i}"),
            runs: vec![run(
                100 + i,
                "1",
                1,
                vec![job("J", vec![("S", text(&format!("{leaked}\n")))])],
                vec![],
            )],
            ..EmuPipeline::default()
        });
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The whole organisation: its projects are listed first.
    let spec = "azure-devops:acme";
    let (_, whole) = ci_scan(
        &server,
        "AZURE_DEVOPS_EXT_PAT",
        &cred,
        spec,
        tmp.path(),
        &[],
    );
    assert_eq!(findings(&whole).len(), 6);
    let mut parts = Vec::new();
    for shard in ["0/2", "1/2"] {
        let (_, json) = ci_scan(
            &server,
            "AZURE_DEVOPS_EXT_PAT",
            &cred,
            spec,
            tmp.path(),
            &["--shard", shard],
        );
        assert!(findings(&json).len() < 6, "a shard has only its part");
        let path = dir.path().join(format!("{}.json", shard.replace('/', "-")));
        fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
        parts.push(path);
    }
    let output = patscan()
        .arg("merge")
        .args(&parts)
        .arg("--exit-zero")
        .output()
        .unwrap();
    let merged = Run::from_output(output);
    let merged: Value =
        serde_json::from_str(&merged.stdout).unwrap_or_else(|_| panic!("{}", merged.stderr));
    let places = |json: &Value| {
        let mut v: Vec<(String, String)> = findings(json)
            .iter()
            .map(|f| (f["path"].to_string(), f["fingerprint"].to_string()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(places(&merged), places(&whole));
    assert_eq!(
        merged["summary"]["organisation"]["repositories"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
}

#[test]
fn a_gigabyte_log_is_scanned_as_it_downloads_in_bounded_memory() {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        eprintln!("skipped: /usr/bin/time is needed to measure the peak memory");
        return;
    }
    let cred = credential(7);
    let server = OrgServer::start(&cred, 10);
    let last = token("github-classic-pat", 81);
    server.add_pipeline(EmuPipeline {
        id: 1,
        name: "soak".into(),
        runs: vec![run(
            1,
            "1",
            1,
            vec![job(
                "Soak",
                vec![(
                    "Dump",
                    LogBody::Generated {
                        size: 1 << 30,
                        tail: format!("last line: {last}\n"),
                    },
                )],
            )],
            vec![],
        )],
        ..EmuPipeline::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(time)
        .args(["-f", "max_rss_kib=%M", env!("CARGO_BIN_EXE_patscan")])
        .env("PATSCAN_ENDPOINT_OVERRIDES", server.overrides())
        .env("AZURE_DEVOPS_EXT_PAT", &cred)
        .env("TMPDIR", tmp.path())
        .args([
            "scan",
            "--ci-logs",
            "azure-devops:acme/Proj",
            "--format",
            "json",
            "--ungrouped",
            "--max-file-size",
            "2G",
        ])
        .output()
        .unwrap();
    let run = Run::from_output(output);
    let json: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|_| panic!("{}", run.stderr));
    assert!(finding_of(&json, &last).is_some(), "{}", run.stderr);
    assert!(json["summary"]["bytes_scanned"].as_u64().unwrap() > 1 << 30);
    let kib: u64 = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("max_rss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .expect("peak memory measured");
    assert!(kib < 200 * 1024, "peak RSS {kib} KiB for a 1 GiB log");
}

#[test]
fn classic_release_logs_are_read_as_the_zip_azure_devops_serves() {
    let cred = credential(8);
    let server = OrgServer::start(&cred, 10);
    let leaked = token("azure-devops-pat", 91);
    server.with_ci(|ci| {
        ci.release_pipelines.push(EmuPipeline {
            id: 500,
            name: "release-to-prod".into(),
            runs: vec![run(
                801,
                "Release-12",
                1,
                vec![job(
                    "Agent job",
                    vec![
                        ("Initialize job", text("Agent ready\n")),
                        (
                            "Run script",
                            text(&format!("+ az login\nAZURE_DEVOPS_EXT_PAT={leaked}\n")),
                        ),
                    ],
                )],
                vec![],
            )],
            ..EmuPipeline::default()
        });
    });
    let tmp = tempfile::tempdir().unwrap();
    let (run, json) = ci_scan(
        &server,
        "AZURE_DEVOPS_EXT_PAT",
        &cred,
        "azure-devops:acme/Proj",
        tmp.path(),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = finding_of(&json, &leaked).expect("the token in the release's log");
    assert_eq!(
        found["path"],
        "Proj/release-to-prod Release-12/logs.zip!/Stage 1/Agent job/2_Run script.log"
    );
    assert_eq!(found["line"], 2);
    assert_eq!(found["pipeline"], "Proj/release-to-prod");
    assert_eq!(
        found["log_url"],
        "https://ado.example/acme/Proj/_releaseProgress?releaseId=801"
    );
    let pipelines = json["summary"]["organisation"]["repositories"]
        .as_array()
        .unwrap();
    assert_eq!(pipelines[0]["id"], "release/Proj/500");
    assert_eq!(pipelines[0]["runs_scanned"], serde_json::json!(["801"]));
    assert_credential_kept(&cred, &run, &server.seen(), tmp.path());
}

/// The text and JSON reports of one CI-log finding, with what varies run
/// to run (the server's port, durations, digests of the rules) masked.
#[test]
fn a_ci_log_finding_in_the_text_and_json_reports() {
    let cred = credential(10);
    let server = OrgServer::start(&cred, 10);
    let leaked = token("azure-devops-pat", 2026);
    server.add_pipeline(EmuPipeline {
        id: 1,
        name: "ci-build".into(),
        runs: vec![run(
            13,
            "20261201.3",
            1,
            vec![job(
                "Build",
                vec![(
                    "Run tests",
                    text(&format!("+ dotnet test\nexport PAT={leaked}\n")),
                )],
            )],
            vec![],
        )],
        ..EmuPipeline::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let render = |format: &str| {
        let output = patscan()
            .env("PATSCAN_ENDPOINT_OVERRIDES", server.overrides())
            .env("AZURE_DEVOPS_EXT_PAT", &cred)
            .env("TMPDIR", tmp.path())
            .args([
                "scan",
                "--ci-logs",
                "azure-devops:acme/Proj",
                "--color",
                "never",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        let run = Run::from_output(output);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(!run.stdout.contains(&leaked) && !run.stdout.contains(&cred));
        let durations = regex::Regex::new(r"in \d+\.\d+s").unwrap();
        let text = run.stdout.replace(&server.addr.to_string(), "[server]");
        durations.replace_all(&text, "in [duration]").into_owned()
    };
    insta::assert_snapshot!("ci_log_human", render("human"));
    let mut json: Value = serde_json::from_str(&render("json")).unwrap();
    let summary = &mut json["summary"];
    summary["duration_seconds"] = Value::from(0);
    summary["rule_set"] = Value::from("[rule set]");
    summary["organisation"]["detection_key"] = Value::from("[detection key]");
    insta::assert_snapshot!("ci_log_json", serde_json::to_string_pretty(&json).unwrap());
}

#[test]
fn an_azure_devops_server_named_by_host_gets_the_requests_and_the_credential() {
    let cred = credential(11);
    let server = OrgServer::start(&cred, 10);
    let leaked = token("azure-devops-pat", 111);
    server.add_pipeline(EmuPipeline {
        id: 1,
        name: "tfs-build".into(),
        runs: vec![run(
            1,
            "1",
            1,
            vec![job("J", vec![("S", text(&format!("{leaked}\n")))])],
            vec![],
        )],
        ..EmuPipeline::default()
    });
    server.with_ci(|ci| {
        ci.release_pipelines.push(EmuPipeline {
            id: 2,
            name: "tfs-release".into(),
            runs: vec![run(
                2,
                "Release-1",
                1,
                vec![job(
                    "Agent job",
                    vec![("Run", text(&format!("again {leaked}\n")))],
                )],
                vec![],
            )],
            ..EmuPipeline::default()
        });
    });
    let tmp = tempfile::tempdir().unwrap();
    // No test override: the server is the user's --host (a collection URL).
    let output = patscan()
        .env_remove("PATSCAN_ENDPOINT_OVERRIDES")
        .env("AZURE_DEVOPS_EXT_PAT", &cred)
        .env("TMPDIR", tmp.path())
        .args(["scan", "--ci-logs", "azure-devops:acme/Proj", "--host"])
        .arg(format!("http://{}/ado", server.addr))
        .args(["--format", "json", "--ungrouped"])
        .output()
        .unwrap();
    let run = Run::from_output(output);
    let json: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|_| panic!("{}", run.stderr));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let pipelines: Vec<&str> = findings(&json)
        .iter()
        .map(|f| f["pipeline"].as_str().unwrap())
        .collect();
    // The release API is the server's own on Azure DevOps Server.
    assert_eq!(pipelines, ["Proj/tfs-build", "Proj/tfs-release"]);
    assert_credential_kept(&cred, &run, &server.seen(), tmp.path());
}
