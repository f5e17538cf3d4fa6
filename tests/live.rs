//! Live checks end to end: the real binary against the in-process emulator
//! on 127.0.0.1. Each issuer answer maps to the documented status, the
//! safety rules hold (no network without --verify, loopback-only overrides,
//! each token sent once, bounded concurrency, no token in any output).

mod common;
mod emulator;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{patscan, token, Run};
use emulator::{Behaviour, Emulator};
use serde_json::Value;

fn run(dir: &Path, overrides: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = patscan();
    cmd.current_dir(dir)
        .env_remove("PATSCAN_ENDPOINT_OVERRIDES");
    if let Some(o) = overrides {
        cmd.env("PATSCAN_ENDPOINT_OVERRIDES", o);
    }
    let output = cmd.args(args).output().unwrap();
    Run::from_output(output)
}

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).unwrap();
}

/// The verification of the finding in `file`.
fn verification<'a>(json: &'a Value, file: &str) -> &'a Value {
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("no finding in {file}: {json}"));
    &finding["verification"]
}

const FAST: &[&str] = &["--verify-timeout", "5", "--verify-rate", "100"];

/// Every issuer, every documented answer: (family, file, behaviour,
/// expected status, text the reason or owner must contain).
#[test]
fn each_issuer_answer_maps_to_the_right_status() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Behaviour, &str, &str)> = vec![
        // GitHub
        ("github-classic-pat", Behaviour::Active, "active", "octocat"),
        ("github-classic-pat", Behaviour::Revoked, "inactive", "401"),
        ("github-classic-pat", Behaviour::WrongScope, "active", "403"),
        (
            "github-classic-pat",
            Behaviour::WafForbidden,
            "unknown",
            "HTML",
        ),
        (
            "github-classic-pat",
            Behaviour::ServerError,
            "unknown",
            "HTTP 500",
        ),
        ("github-classic-pat", Behaviour::Html, "unknown", "HTML"),
        // GitLab
        (
            "gitlab-pat-routable",
            Behaviour::Active,
            "active",
            "gl-owner",
        ),
        (
            "gitlab-pat-routable",
            Behaviour::Revoked,
            "inactive",
            "revoked",
        ),
        ("gitlab-pat", Behaviour::Expired, "inactive", "expired"),
        (
            "gitlab-pat",
            Behaviour::WrongScope,
            "active",
            "insufficient_scope",
        ),
        // npm
        ("npm-token", Behaviour::Active, "active", "npm-owner"),
        ("npm-token", Behaviour::Revoked, "inactive", "401"),
        ("npm-token", Behaviour::Html, "unknown", "HTML"),
        // Hugging Face
        ("huggingface-token", Behaviour::Active, "active", "hf-owner"),
        ("huggingface-token", Behaviour::Expired, "inactive", "401"),
        (
            "huggingface-token",
            Behaviour::ServerError,
            "unknown",
            "500",
        ),
        // Slack: the body decides, the status is always 200
        (
            "slack-bot-token",
            Behaviour::Active,
            "active",
            "slack-owner",
        ),
        (
            "slack-bot-token",
            Behaviour::Revoked,
            "inactive",
            "token_revoked",
        ),
        (
            "slack-user-token",
            Behaviour::Expired,
            "inactive",
            "token_expired",
        ),
        ("slack-bot-token", Behaviour::Html, "unknown", "HTML"),
        // Azure DevOps
        (
            "azure-devops-pat",
            Behaviour::Active,
            "active",
            "ada@contoso.example",
        ),
        ("azure-devops-pat", Behaviour::Revoked, "inactive", "401"),
        (
            "azure-devops-pat-legacy",
            Behaviour::WrongScope,
            "unknown",
            "HTTP 403",
        ),
        ("azure-devops-pat", Behaviour::Html, "unknown", "HTML"),
    ];
    let mut tokens = Vec::new();
    for (i, (family, behaviour, _, _)) in cases.iter().enumerate() {
        let t = token(family, 1000 + i as u64);
        emu.set(&t, behaviour.clone());
        write(dir.path(), &format!("case{i}.env"), &format!("TOKEN={t}\n"));
        tokens.push(t);
    }
    let mut args = vec!["scan", "--verify", "--format", "json", "--ungrouped"];
    args.extend_from_slice(FAST);
    let out = run(dir.path(), Some(&emu.overrides()), &args);
    assert_eq!(out.code, 1, "stderr: {}", out.stderr);
    let json = out.json();
    for (i, (family, behaviour, status, text)) in cases.iter().enumerate() {
        let v = verification(&json, &format!("case{i}.env"));
        assert_eq!(v["status"], *status, "{family} {behaviour:?}: {v}");
        let shown = v.to_string();
        assert!(
            shown.contains(text),
            "{family} {behaviour:?}: {v} lacks {text}"
        );
        if *status != "active" {
            assert!(v["reason"].is_string(), "{family} {behaviour:?}: no reason");
        }
    }
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    out.assert_no_leak(&refs);
}

#[test]
fn details_from_the_issuers_are_reported() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let gh = token("github-classic-pat", 1);
    let gl = token("gitlab-pat-routable", 2);
    let hf = token("huggingface-token", 3);
    let sl = token("slack-bot-token", 4);
    for t in [&gh, &gl, &hf, &sl] {
        emu.set(t, Behaviour::Active);
    }
    write(
        dir.path(),
        "a.env",
        &format!("GH={gh}\nGL={gl}\nHF={hf}\nSLACK={sl}\n"),
    );
    let mut args = vec!["scan", "--verify", "--format", "json", "--ungrouped"];
    args.extend_from_slice(FAST);
    let out = run(dir.path(), Some(&emu.overrides()), &args);
    let json = out.json();
    let by_rule = |rule: &str| -> Value {
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == rule)
            .unwrap()["verification"]
            .clone()
    };
    let g = by_rule("github-classic-pat");
    assert_eq!(g["owner"], "octocat");
    assert_eq!(g["scopes"], serde_json::json!(["repo", "read:org"]));
    assert_eq!(g["expires_at"], "2031-01-01 00:00:00 UTC");
    assert_eq!(g["provider"], "github");
    assert_eq!(g["http_status"], 200);
    let l = by_rule("gitlab-pat-routable");
    assert_eq!(l["scopes"], serde_json::json!(["api", "read_user"]));
    assert_eq!(l["expires_at"], "2031-01-01");
    let h = by_rule("huggingface-token");
    assert_eq!(h["organisation"], "acme-ml");
    assert_eq!(h["scopes"], serde_json::json!(["write"]));
    let s = by_rule("slack-bot-token");
    assert_eq!(s["organisation"], "Acme");
    assert_eq!(json["verification_summary"]["active"], 4);
    out.assert_no_leak(&[&gh, &gl, &hf, &sl]);
}

#[test]
fn without_verify_no_connection_is_made() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let families = [
        "github-classic-pat",
        "gitlab-pat-routable",
        "npm-token",
        "huggingface-token",
        "slack-bot-token",
        "azure-devops-pat",
    ];
    let mut text = String::from("org: https://dev.azure.com/contoso\n");
    for (i, f) in families.iter().enumerate() {
        let t = token(f, 50 + i as u64);
        emu.set(&t, Behaviour::Active);
        text.push_str(&format!("T{i}={t}\n"));
    }
    write(dir.path(), "all.env", &text);
    for format in ["human", "json"] {
        let out = run(
            dir.path(),
            Some(&emu.overrides()),
            &["scan", "--format", format],
        );
        assert_eq!(out.code, 1);
    }
    // Even a non-loopback override is not read without --verify.
    let out = run(dir.path(), Some("github=https://203.0.113.9"), &["scan"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(emu.connections(), 0, "patscan connected without --verify");

    // The control: with --verify the same run does reach the emulator.
    let out = run(dir.path(), Some(&emu.overrides()), &["scan", "--verify"]);
    assert_eq!(out.code, 1);
    assert!(emu.connections() >= families.len());
}

#[test]
fn redirects_are_never_followed_with_a_token() {
    let emu = Emulator::start();
    let elsewhere = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let t = token("npm-token", 131);
    emu.set(
        &t,
        Behaviour::Redirect(format!("{}/-/whoami", elsewhere.url())),
    );
    elsewhere.set(&t, Behaviour::Active);
    write(
        dir.path(),
        "a.npmrc",
        &format!("//registry.npmjs.org/:_authToken={t}\n"),
    );
    let out = run(
        dir.path(),
        Some(&emu.overrides()),
        &["scan", "--verify", "--format", "json", "--ungrouped"],
    );
    let v = verification(&out.json(), "a.npmrc").clone();
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(v["reason"].as_str().unwrap().contains("redirect"), "{v}");
    assert_eq!(elsewhere.connections(), 0);
}

#[test]
fn overrides_must_be_loopback() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.env",
        &format!("T={}\n", token("github-classic-pat", 9)),
    );
    for bad in [
        "github=https://api.example.com",
        "github=http://localhost:8080",
        "github=http://192.168.1.10:8080",
        "gitlub=http://127.0.0.1:1",
    ] {
        let out = run(dir.path(), Some(bad), &["scan", "--verify"]);
        assert_eq!(out.code, 2, "{bad} accepted: {}", out.stderr);
        assert!(
            out.stderr.contains("PATSCAN_ENDPOINT_OVERRIDES"),
            "{}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "reported despite the refusal");
    }
}

#[test]
fn each_distinct_token_is_sent_once() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let t = token("npm-token", 77);
    emu.set(&t, Behaviour::Active);
    for i in 0..4 {
        write(
            dir.path(),
            &format!("f{i}.npmrc"),
            &format!("//registry.npmjs.org/:_authToken={t}\n# again {t}\n"),
        );
    }
    let mut args = vec!["scan", "--verify", "--format", "json", "--ungrouped"];
    args.extend_from_slice(FAST);
    let out = run(dir.path(), Some(&emu.overrides()), &args);
    let json = out.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 8);
    assert!(findings
        .iter()
        .all(|f| f["verification"]["status"] == "active"));
    assert_eq!(emu.requests_with(&t).len(), 1);
}

#[test]
fn rate_limits_are_honoured_and_never_inactive() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    // 429 once, then fine: patscan waits Retry-After and gets the answer.
    let once = token("github-classic-pat", 31);
    emu.set(
        &once,
        Behaviour::RateLimited {
            retry_after: 1,
            times: 1,
        },
    );
    // 429 every time: unknown, with the reason.
    let always = token("npm-token", 32);
    emu.set(
        &always,
        Behaviour::RateLimited {
            retry_after: 1,
            times: 100,
        },
    );
    write(dir.path(), "once.env", &format!("T={once}\n"));
    write(dir.path(), "always.env", &format!("T={always}\n"));
    let started = Instant::now();
    let mut args = vec!["scan", "--verify", "--format", "json", "--ungrouped"];
    args.extend_from_slice(FAST);
    let out = run(dir.path(), Some(&emu.overrides()), &args);
    let json = out.json();
    assert!(started.elapsed() >= Duration::from_secs(1));
    let v = verification(&json, "once.env");
    assert_eq!(v["status"], "active", "{v}");
    let times = emu.requests_with(&once);
    assert_eq!(times.len(), 2);
    let v = verification(&json, "always.env");
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(
        v["reason"].as_str().unwrap().contains("rate limited"),
        "{v}"
    );
    assert_eq!(v["http_status"], 429);
    // Bounded retries: the first try and two more.
    assert_eq!(emu.requests_with(&always).len(), 3);
}

#[test]
fn a_slow_issuer_times_out_as_unknown() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let t = token("huggingface-token", 41);
    emu.set(&t, Behaviour::Slow(Duration::from_secs(4)));
    write(dir.path(), "slow.env", &format!("HF_TOKEN={t}\n"));
    let started = Instant::now();
    let out = run(
        dir.path(),
        Some(&emu.overrides()),
        &[
            "scan",
            "--verify",
            "--format",
            "json",
            "--ungrouped",
            "--verify-timeout",
            "1",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    let v = verification(&out.json(), "slow.env").clone();
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(v["reason"].as_str().unwrap().contains("timeout"), "{v}");
    out.assert_no_leak(&[&t]);
}

#[test]
fn unreachable_issuer_is_unknown_not_inactive() {
    // A port nothing listens on: connection refused.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let t = token("github-classic-pat", 43);
    write(dir.path(), "a.env", &format!("T={t}\n"));
    let out = run(
        dir.path(),
        Some(&format!("github=http://127.0.0.1:{port}")),
        &["scan", "--verify", "--format", "json", "--ungrouped"],
    );
    let v = verification(&out.json(), "a.env").clone();
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(v["reason"].as_str().unwrap().contains("connect"), "{v}");
    out.assert_no_leak(&[&t]);
}

#[test]
fn azure_devops_organisation_near_the_token_is_checked() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let scoped = token("azure-devops-pat", 61);
    emu.set(&scoped, Behaviour::OrgScoped("contoso"));
    let lonely = token("azure-devops-pat", 62);
    emu.set(&lonely, Behaviour::OrgScoped("contoso"));
    write(
        dir.path(),
        "pipeline.yml",
        &format!("url: https://dev.azure.com/Contoso/project\nenv:\n  AZDO_PAT: {scoped}\n"),
    );
    write(dir.path(), "other.txt", &format!("pat = {lonely}\n"));
    let mut args = vec!["scan", "--verify", "--format", "json", "--ungrouped"];
    args.extend_from_slice(FAST);
    let out = run(dir.path(), Some(&emu.overrides()), &args);
    let json = out.json();
    let v = verification(&json, "pipeline.yml");
    assert_eq!(v["status"], "active", "{v}");
    assert_eq!(v["organisation"], "contoso");
    assert_eq!(v["owner"], "ada@contoso.example");
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("pipeline.yml"))
        .unwrap();
    assert_eq!(
        finding["nearby_organisations"],
        serde_json::json!(["contoso"])
    );
    assert!(emu
        .requests_with(&scoped)
        .iter()
        .any(|s| s.path == "/contoso/_apis/connectionData"));
    // Without an organisation nearby only the profile endpoint is asked.
    let v = verification(&json, "other.txt");
    assert_eq!(v["status"], "inactive", "{v}");
    assert!(
        v["reason"].as_str().unwrap().contains("organisation"),
        "{v}"
    );
    out.assert_no_leak(&[&scoped, &lonely]);
}

#[test]
fn concurrency_and_per_host_rate_are_bounded() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..6 {
        let t = token("npm-token", 200 + i);
        emu.set(&t, Behaviour::Slow(Duration::from_millis(300)));
        text.push_str(&format!("T{i}={t}\n"));
    }
    write(dir.path(), "many.env", &text);
    let started = Instant::now();
    let out = run(
        dir.path(),
        Some(&emu.overrides()),
        &[
            "scan",
            "--verify",
            "--verify-concurrency",
            "2",
            "--verify-rate",
            "4",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        emu.max_in_flight() <= 2,
        "{} in flight",
        emu.max_in_flight()
    );
    // Six requests at four a second to one host: at least 1.25 s.
    assert!(started.elapsed() >= Duration::from_millis(1250));
}

#[test]
fn human_output_marks_live_tokens() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let live = token("github-classic-pat", 71);
    let dead = token("github-classic-pat", 72);
    emu.set(&live, Behaviour::Active);
    emu.set(&dead, Behaviour::Revoked);
    write(dir.path(), "live.env", &format!("T={live}\n"));
    write(dir.path(), "dead.env", &format!("T={dead}\n"));
    let out = run(
        dir.path(),
        Some(&emu.overrides()),
        &["scan", "--verify", "--color", "never"],
    );
    assert_eq!(out.code, 1);
    let live_block = out
        .stdout
        .split("\n\n")
        .find(|b| b.contains("live.env"))
        .unwrap();
    assert!(
        live_block
            .contains("LIVE TOKEN active (github), severity critical (scope repo): owner octocat"),
        "{live_block}"
    );
    let dead_block = out
        .stdout
        .split("\n\n")
        .find(|b| b.contains("dead.env"))
        .unwrap();
    assert!(!dead_block.contains("LIVE"), "{dead_block}");
    assert!(
        dead_block.contains("verified inactive (github)"),
        "{dead_block}"
    );
    assert!(out
        .stdout
        .contains("verified: 1 active, 1 inactive, 0 unknown"));
    out.assert_no_leak(&[&live, &dead]);
}

#[test]
fn fail_on_active_sets_the_exit_code_by_status() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let dead = token("gitlab-pat-routable", 81);
    let flaky = token("gitlab-pat-routable", 82);
    emu.set(&dead, Behaviour::Revoked);
    emu.set(&flaky, Behaviour::ServerError);
    write(dir.path(), "a.env", &format!("A={dead}\nB={flaky}\n"));
    let o = emu.overrides();
    let base = ["scan", "--verify", "--verify-timeout", "5"];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        run(dir.path(), Some(&o), &args).code
    };
    assert_eq!(with(&[]), 1, "findings still exit 1 by default");
    assert_eq!(with(&["--fail-on-status", "active"]), 0);
    assert_eq!(with(&["--fail-on-status", "active-or-unknown"]), 1);
    let live = token("gitlab-pat-routable", 83);
    emu.set(&live, Behaviour::Active);
    write(dir.path(), "b.env", &format!("C={live}\n"));
    assert_eq!(with(&["--fail-on-status", "active"]), 1);
    // Both gates apply: gitlab-pat-routable tokens are checksum-verified
    // (high confidence), so --fail-on high keeps the live one failing.
    assert_eq!(
        with(&["--fail-on-status", "active", "--fail-on", "high"]),
        1
    );
    assert_eq!(with(&["--fail-on-status", "active", "--exit-zero"]), 0);
    // Asking to fail on a status without checking is an error.
    let out = run(dir.path(), None, &["scan", "--fail-on-status", "active"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--verify"), "{}", out.stderr);
}

#[test]
fn rules_without_a_live_check_are_unknown_and_contact_nobody() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let t = token("pypi-token", 91);
    write(dir.path(), "pypirc", &format!("password = {t}\n"));
    let out = run(
        dir.path(),
        Some(&emu.overrides()),
        &["scan", "--verify", "--format", "json", "--ungrouped"],
    );
    let json = out.json();
    let v = &json["findings"][0]["verification"];
    assert_eq!(v["status"], "unknown");
    assert!(v["reason"].as_str().unwrap().contains("no live check"));
    assert_eq!(emu.connections(), 0);
}

#[test]
fn verify_rechecks_a_report_written_with_show_secrets() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let t = token("github-classic-pat", 101);
    let u = token("npm-token", 102);
    emu.set(&t, Behaviour::Active);
    emu.set(&u, Behaviour::Revoked);
    write(dir.path(), "a.env", &format!("GH={t} NPM={u}\n"));
    // The scan itself never verifies here.
    let scan = run(
        dir.path(),
        None,
        &[
            "scan",
            "--format",
            "json",
            "--ungrouped",
            "--show-secrets",
            "-o",
            "report.json",
            "a.env",
        ],
    );
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    assert_eq!(emu.connections(), 0);

    let out = run(
        dir.path(),
        Some(&emu.overrides()),
        &["verify", "report.json", "--format", "json", "--ungrouped"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json = out.json();
    let statuses: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["verification"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["active", "inactive"]);
    // The report had the secrets in full; verify's output masks them again,
    // snippets included, and keeps the fingerprints.
    out.assert_no_leak(&[&t, &u]);
    let before: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(
        before["findings"][0]["fingerprint"],
        json["findings"][0]["fingerprint"]
    );
    // Human output of verify, and --fail-on-status.
    let out = run(
        dir.path(),
        Some(&emu.overrides()),
        &[
            "verify",
            "report.json",
            "--color",
            "never",
            "--fail-on-status",
            "active",
        ],
    );
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("LIVE TOKEN"));
    out.assert_no_leak(&[&t, &u]);

    // The default, grouped report is read too: each secret once.
    write(dir.path(), "b.env", &format!("GH={t}\n"));
    let scan = run(
        dir.path(),
        None,
        &[
            "scan",
            "--format",
            "json",
            "--show-secrets",
            "-o",
            "grouped.json",
            "a.env",
            "b.env",
        ],
    );
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let out = run(
        dir.path(),
        Some(&emu.overrides()),
        &["verify", "grouped.json", "--format", "json"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json = out.json();
    let secrets: Vec<(&str, u64)> = json["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["verification"]["status"].as_str().unwrap(),
                s["occurrence_count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(secrets, [("active", 2), ("inactive", 1)]);
    out.assert_no_leak(&[&t, &u]);
}

#[test]
fn verify_refuses_a_redacted_report_clearly() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let t = token("github-classic-pat", 111);
    write(dir.path(), "a.env", &format!("GH={t}\n"));
    let scan = run(
        dir.path(),
        None,
        &[
            "scan",
            "--format",
            "json",
            "--ungrouped",
            "-o",
            "report.json",
        ],
    );
    assert_eq!(scan.code, 1);
    let out = run(
        dir.path(),
        Some(&emu.overrides()),
        &["verify", "report.json"],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("redacted"), "{}", out.stderr);
    assert!(out.stderr.contains("--show-secrets"), "{}", out.stderr);
    assert_eq!(emu.connections(), 0);

    // A report edited so a secret no longer matches its fingerprint.
    let scan = run(
        dir.path(),
        None,
        &[
            "scan",
            "--format",
            "json",
            "--ungrouped",
            "--show-secrets",
            "-o",
            "full.json",
        ],
    );
    assert_eq!(scan.code, 1);
    let text = fs::read_to_string(dir.path().join("full.json")).unwrap();
    let other = token("github-classic-pat", 112);
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    doc["findings"][0]["secret"] = Value::String(other.clone());
    let mut second = doc["findings"][0].clone();
    second["secret"] = Value::String(t.clone());
    doc["findings"].as_array_mut().unwrap().push(second);
    fs::write(dir.path().join("edited.json"), doc.to_string()).unwrap();
    let out = run(
        dir.path(),
        Some(&emu.overrides()),
        &["verify", "edited.json"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("fingerprint"), "{}", out.stderr);
    assert_eq!(emu.connections(), 0);
    out.assert_no_leak(&[&t, &other]);
}

#[test]
fn a_long_retry_after_pauses_that_host_for_the_rest_of_the_run() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let limited = token("github-classic-pat", 121);
    let next = token("github-classic-pat", 122);
    let other_host = token("npm-token", 123);
    emu.set(
        &limited,
        Behaviour::RateLimited {
            retry_after: 3600,
            times: 100,
        },
    );
    emu.set(&next, Behaviour::Active);
    // Another host (a second emulator) is not held up.
    let npm_host = Emulator::start();
    npm_host.set(&other_host, Behaviour::Active);
    write(dir.path(), "a1.env", &format!("T={limited}\n"));
    write(dir.path(), "a2.env", &format!("T={next}\n"));
    let overrides = format!("{},npm={}", emu.overrides(), npm_host.url());
    write(dir.path(), "a3.env", &format!("T={other_host}\n"));
    let started = Instant::now();
    let out = run(
        dir.path(),
        Some(&overrides),
        &[
            "scan",
            "--verify",
            "--format",
            "json",
            "--ungrouped",
            "--verify-concurrency",
            "1",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    let json = out.json();
    let v = verification(&json, "a1.env");
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(
        v["reason"].as_str().unwrap().contains("retry after 3600s"),
        "{v}"
    );
    assert_eq!(
        emu.requests_with(&limited).len(),
        1,
        "a 3600 s Retry-After is not waited for"
    );
    let v = verification(&json, "a2.env");
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(v["reason"].as_str().unwrap().contains("not sent"), "{v}");
    assert!(emu.requests_with(&next).is_empty());
    assert_eq!(verification(&json, "a3.env")["status"], "active");
}

#[test]
fn verify_reads_the_report_from_stdin() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let t = token("huggingface-token", 141);
    emu.set(&t, Behaviour::Active);
    write(dir.path(), "a.env", &format!("HF_TOKEN={t}\n"));
    let scan = run(
        dir.path(),
        None,
        &["scan", "--format", "json", "--ungrouped", "--show-secrets"],
    );
    assert_eq!(scan.code, 1);
    let output = patscan()
        .current_dir(dir.path())
        .env("PATSCAN_ENDPOINT_OVERRIDES", emu.overrides())
        .args([
            "verify",
            "-",
            "--format",
            "json",
            "--ungrouped",
            "--fail-on-status",
            "active",
        ])
        .write_stdin(scan.stdout)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["findings"][0]["verification"]["owner"], "hf-owner");
    assert_eq!(
        json["summary"]["files_scanned"], 1,
        "the scan's summary is kept"
    );
    assert!(!stdout.contains(&t));
}

#[test]
fn custom_rules_never_verify_even_when_they_match_an_issuers_format() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let t = token("github-classic-pat", 151);
    emu.set(&t, Behaviour::Active);
    // The built-in rule is off; a custom rule finds the same text.
    write(
        dir.path(),
        ".patscan.toml",
        r#"disabled_rules = ["github-classic-pat"]

[[rule]]
id = "acme-mirror-token"
name = "Acme mirror token"
description = "Looks like a GitHub token, but is ours."
keywords = ["ghp_"]
pattern = '''(?P<secret>ghp_[A-Za-z0-9]{36})'''
max_length = 40
min_entropy = 3.0
examples = ["{{token:github-classic-pat}}"]
"#,
    );
    write(dir.path(), "a.env", &format!("T={t}\n"));
    let out = run(
        dir.path(),
        Some(&emu.overrides()),
        &[
            "scan",
            "--verify",
            "--format",
            "json",
            "--ungrouped",
            "a.env",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json = out.json();
    let finding = &json["findings"][0];
    assert_eq!(finding["rule_id"], "acme-mirror-token");
    assert_eq!(finding["verification"]["status"], "unknown");
    assert!(finding["verification"]["reason"]
        .as_str()
        .unwrap()
        .contains("no live check"));
    assert_eq!(emu.connections(), 0, "a custom rule's match was sent");
    out.assert_no_leak(&[&t]);
}

#[test]
fn sarif_raises_live_tokens_to_error_and_records_the_status() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let live = token("github-classic-pat", 41);
    let dead = token("github-classic-pat", 42);
    let slack = token("slack-bot-token", 43);
    emu.set(&live, Behaviour::Active);
    emu.set(&dead, Behaviour::Revoked);
    emu.set(&slack, Behaviour::Active);
    write(dir.path(), "live.env", &format!("T={live}\n"));
    write(dir.path(), "dead.env", &format!("T={dead}\n"));
    write(dir.path(), "slack.env", &format!("T={slack}\n"));
    let mut args = vec!["scan", "--verify", "--format", "sarif"];
    args.extend_from_slice(FAST);
    let out = run(dir.path(), Some(&emu.overrides()), &args);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json = out.json();
    let results = json["runs"][0]["results"].as_array().unwrap();
    let by_file = |file: &str| -> &Value {
        results
            .iter()
            .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == file)
            .unwrap_or_else(|| panic!("no result for {file}"))
    };
    let live_result = by_file("live.env");
    assert_eq!(live_result["level"], "error");
    assert_eq!(
        live_result["properties"]["verification"]["status"],
        "active"
    );
    assert!(live_result["message"]["text"]
        .as_str()
        .unwrap()
        .starts_with("LIVE TOKEN"));
    assert_eq!(
        by_file("dead.env")["properties"]["verification"]["status"],
        "inactive"
    );
    // A medium-confidence rule is a warning, unless the issuer says it is live.
    assert_eq!(by_file("slack.env")["level"], "error");
    out.assert_no_leak(&[&live, &dead, &slack]);
}
