//! Revocation end to end against the emulator: dry run by default, `--yes`,
//! each provider's success and failure, GitHub batching, Azure DevOps'
//! owner page and admin API, the audit log, and the token never shown.

mod common;
mod emulator;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use common::{token, Run};
use emulator::{Behaviour, Emulator};
use serde_json::Value;

fn run(
    dir: &Path,
    emu: &Emulator,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Run {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("patscan"));
    cmd.current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("PATSCAN_AZURE_DEVOPS_ADMIN_TOKEN")
        .env("PATSCAN_ENDPOINT_OVERRIDES", emu.overrides())
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let output = child.wait_with_output().unwrap();
    Run::from_output(output)
}

fn audit(dir: &Path) -> Vec<Value> {
    fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn entry<'a>(log: &'a [Value], rule: &str) -> &'a Value {
    log.iter()
        .find(|e| e["rule"] == rule)
        .unwrap_or_else(|| panic!("no audit entry for {rule}: {log:?}"))
}

/// One active token of each self-revoking provider plus GitHub's API.
fn four_live_tokens(emu: &Emulator, dir: &Path) -> Vec<String> {
    let tokens = vec![
        token("github-classic-pat", 1),
        token("gitlab-pat-routable", 2),
        token("slack-bot-token", 3),
        token("npm-token", 4),
    ];
    let mut text = String::new();
    for (i, t) in tokens.iter().enumerate() {
        emu.set(t, Behaviour::Active);
        text.push_str(&format!("T{i}={t}\n"));
    }
    fs::write(dir.join("leak.env"), text).unwrap();
    tokens
}

const SCAN_REVOKE: &[&str] = &[
    "scan",
    "--verify",
    "--revoke",
    "--audit-log",
    "audit.jsonl",
    "--verify-rate",
    "200",
];

#[test]
fn a_dry_run_sends_nothing_and_logs_what_it_would_do() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let tokens = four_live_tokens(&emu, dir.path());
    let out = run(dir.path(), &emu, SCAN_REVOKE, None, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        emu.revocation_requests().is_empty(),
        "{:?}",
        emu.revocation_requests()
    );
    assert!(
        out.stderr.contains("would revoke (dry run)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("/credentials/revoke"), "{}", out.stderr);
    assert!(
        out.stderr.contains("dry run, nothing was revoked"),
        "{}",
        out.stderr
    );
    let log = audit(dir.path());
    assert_eq!(log.len(), 4);
    for e in &log {
        assert_eq!(e["outcome"], "would-revoke", "{e}");
        assert_eq!(e["dry_run"], true);
        assert_eq!(e["verified"], "active");
    }
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    out.assert_no_leak(&refs);
}

#[test]
fn yes_revokes_with_each_providers_api() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let tokens = four_live_tokens(&emu, dir.path());
    let mut args = SCAN_REVOKE.to_vec();
    args.push("--yes");
    let out = run(dir.path(), &emu, &args, None, &[]);
    assert_eq!(out.code, 1, "findings still exit 1: {}", out.stderr);
    let log = audit(dir.path());
    assert_eq!(log.len(), 4, "{log:?}");
    for e in &log {
        assert_eq!(e["outcome"], "revoked", "{e}");
        assert_eq!(e["dry_run"], false);
    }
    assert_eq!(entry(&log, "github-classic-pat")["http_status"], 202);
    assert_eq!(entry(&log, "github-classic-pat")["owner"], "octocat");
    assert_eq!(entry(&log, "gitlab-pat-routable")["http_status"], 204);
    assert_eq!(entry(&log, "slack-bot-token")["http_status"], 200);
    assert_eq!(entry(&log, "npm-token")["provider"], "npm");

    // What went over the wire: GitHub's call carries no credentials header,
    // only the body; npm listed its tokens, then deleted its own key.
    let requests = emu.revocation_requests();
    let gh = requests
        .iter()
        .find(|s| s.path == "/credentials/revoke")
        .unwrap();
    assert!(gh.token.is_none());
    let body: Value = serde_json::from_str(&gh.body).unwrap();
    assert_eq!(body["credentials"], serde_json::json!([tokens[0]]));
    assert!(requests.iter().any(|s| s.method == "DELETE"
        && s.path == format!("/-/npm/v1/tokens/token/{}", emulator::npm_key(&tokens[3]))));
    assert!(requests.iter().any(|s| s.method == "DELETE"
        && s.path == "/api/v4/personal_access_tokens/self"
        && s.token.as_deref() == Some(tokens[1].as_str())));

    // They are dead now: a new check says inactive.
    let again = run(
        dir.path(),
        &emu,
        &["scan", "--verify", "--format", "json", "--ungrouped"],
        None,
        &[],
    );
    let json: Value = serde_json::from_str(&again.stdout).unwrap();
    for f in json["findings"].as_array().unwrap() {
        assert_eq!(f["verification"]["status"], "inactive", "{f}");
    }
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    out.assert_no_leak(&refs);
    let log_text = fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    for t in &tokens {
        assert!(!log_text.contains(t.as_str()), "token in the audit log");
    }
}

#[test]
fn failures_are_reported_the_rest_go_on_and_exit_3() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let tokens = four_live_tokens(&emu, dir.path());
    emu.fail_revocation(&tokens[0], 422); // GitHub: spammed
    emu.fail_revocation(&tokens[1], 500); // GitLab: server error
    emu.fail_revocation(&tokens[2], 200); // Slack: ok:false
    let mut args = SCAN_REVOKE.to_vec();
    args.push("--yes");
    let out = run(dir.path(), &emu, &args, None, &[]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let log = audit(dir.path());
    let gh = entry(&log, "github-classic-pat");
    assert_eq!(gh["outcome"], "failed");
    assert!(gh["reason"].as_str().unwrap().contains("422"), "{gh}");
    let gl = entry(&log, "gitlab-pat-routable");
    assert_eq!(gl["outcome"], "failed");
    assert!(gl["reason"].as_str().unwrap().contains("HTTP 500"), "{gl}");
    let sl = entry(&log, "slack-bot-token");
    assert_eq!(sl["outcome"], "failed");
    assert!(
        sl["reason"]
            .as_str()
            .unwrap()
            .contains("not_allowed_token_type"),
        "{sl}"
    );
    assert_eq!(entry(&log, "npm-token")["outcome"], "revoked");
    assert!(out.stderr.contains("FAILED"), "{}", out.stderr);
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    out.assert_no_leak(&refs);
}

#[test]
fn only_active_tokens_unless_force() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let dead = token("gitlab-pat-routable", 21);
    let unclear = token("gitlab-pat-routable", 22);
    emu.set(&dead, Behaviour::Revoked);
    emu.set(&unclear, Behaviour::ServerError);
    fs::write(dir.path().join("a.env"), format!("A={dead}\nB={unclear}\n")).unwrap();
    let mut args = SCAN_REVOKE.to_vec();
    args.push("--yes");
    let out = run(dir.path(), &emu, &args, None, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(emu.revocation_requests().is_empty());
    let log = audit(dir.path());
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|e| e["outcome"] == "skipped"), "{log:?}");
    assert!(log
        .iter()
        .any(|e| e["reason"].as_str().unwrap().contains("--force")));

    args.push("--force");
    let out = run(dir.path(), &emu, &args, None, &[]);
    // Both are tried; the emulator refuses both (401: not live), so exit 3.
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(emu.revocation_requests().len(), 2);
    assert_eq!(audit(dir.path()).len(), 4, "the log is appended to");
    out.assert_no_leak(&[&dead, &unclear]);
}

#[test]
fn github_tokens_go_in_batches_of_at_most_1000() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let mut tokens = Vec::new();
    for i in 0..1001 {
        let t = token("github-classic-pat", 10_000 + i);
        emu.set(&t, Behaviour::Active);
        text.push_str(&format!("{t}\n"));
        tokens.push(t);
    }
    fs::write(dir.path().join("many.txt"), text).unwrap();
    let out = run(
        dir.path(),
        &emu,
        &[
            "scan",
            "--verify",
            "--revoke",
            "--yes",
            "--verify-rate",
            "100000",
            "--verify-concurrency",
            "16",
            "--audit-log",
            "audit.jsonl",
        ],
        None,
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let batches: Vec<usize> = emu
        .revocation_requests()
        .iter()
        .filter(|s| s.path == "/credentials/revoke")
        .map(|s| {
            let body: Value = serde_json::from_str(&s.body).unwrap();
            body["credentials"].as_array().unwrap().len()
        })
        .collect();
    assert_eq!(batches, [1000, 1]);
    let log = audit(dir.path());
    assert_eq!(log.len(), 1001);
    assert!(log.iter().all(|e| e["outcome"] == "revoked"));
}

#[test]
fn revoke_reads_the_token_from_stdin() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let t = token("gitlab-pat-routable", 31);
    emu.set(&t, Behaviour::Active);
    let input = format!("{t}\n");

    // Dry run first: nothing is sent.
    let out = run(
        dir.path(),
        &emu,
        &[
            "revoke",
            "--rule",
            "gitlab-pat-routable",
            "--audit-log",
            "audit.jsonl",
        ],
        Some(&input),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("verify: glpa…"), "{}", out.stdout);
    assert!(
        out.stdout.contains("would revoke (dry run)"),
        "{}",
        out.stdout
    );
    assert!(emu.revocation_requests().is_empty());

    let out = run(
        dir.path(),
        &emu,
        &[
            "revoke",
            "--rule",
            "gitlab-pat-routable",
            "--yes",
            "--audit-log",
            "audit.jsonl",
        ],
        Some(&input),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(": revoked: revoked itself (204)"),
        "{}",
        out.stdout
    );
    assert_eq!(emu.revocation_requests().len(), 1);
    let log = audit(dir.path());
    assert_eq!(log.len(), 2);
    assert_eq!(log[1]["outcome"], "revoked");
    assert_eq!(log[1]["owner"], "gl-owner");
    assert!(log[1]["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(log[1]["fingerprint"].as_str().unwrap().len(), 16);
    out.assert_no_leak(&[&t]);

    // Already revoked: skipped, nothing more is sent.
    let out = run(
        dir.path(),
        &emu,
        &["revoke", "--rule", "gitlab-pat-routable", "--yes"],
        Some(&input),
        &[],
    );
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("skipped: verified inactive"),
        "{}",
        out.stdout
    );
    assert_eq!(emu.revocation_requests().len(), 1);

    // A token that is not of the rule, an unknown rule, no token: errors.
    for (args, stdin) in [
        (
            vec!["revoke", "--rule", "npm-token", "--yes"],
            input.as_str(),
        ),
        (
            vec!["revoke", "--rule", "no-such-rule", "--yes"],
            input.as_str(),
        ),
        (
            vec!["revoke", "--rule", "gitlab-pat-routable", "--yes"],
            "\n",
        ),
    ] {
        let out = run(dir.path(), &emu, &args, Some(stdin), &[]);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        out.assert_no_leak(&[&t]);
    }
}

#[test]
fn azure_devops_says_what_cannot_be_done_and_uses_the_admin_api_when_allowed() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let pat = token("azure-devops-pat", 41);
    emu.set(&pat, Behaviour::OrgScoped("contoso"));
    fs::write(
        dir.path().join("azure-pipelines.yml"),
        format!("# https://dev.azure.com/contoso/web\nvariables:\n  PAT: {pat}\n"),
    )
    .unwrap();
    let mut args = SCAN_REVOKE.to_vec();
    args.push("--yes");

    // No admin credential: owner, organisation and the exact page; exit 3.
    let out = run(dir.path(), &emu, &args, None, &[]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("cannot revoke itself"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("ada@contoso.example"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("https://dev.azure.com/contoso/_usersSettings/tokens"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("PATSCAN_AZURE_DEVOPS_ADMIN_TOKEN"));
    let log = audit(dir.path());
    assert_eq!(log[0]["outcome"], "manual");
    assert_eq!(log[0]["organisation"], "contoso");
    assert!(emu.revocation_requests().is_empty());

    // With an organisation admin's credential: a dry run lists exactly what
    // would be revoked and revokes nothing.
    let admin = "admin-credential-7f3a9c";
    emu.set_admin(admin);
    let env = [("PATSCAN_AZURE_DEVOPS_ADMIN_TOKEN", admin)];
    let dry = SCAN_REVOKE.to_vec();
    let out = run(dir.path(), &emu, &dry, None, &env);
    assert!(out.stderr.contains("\"ci pipeline\""), "{}", out.stderr);
    assert!(
        out.stderr.contains("\"deploy key\""),
        "second page: {}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("old laptop"),
        "invalid PATs are not listed"
    );
    assert!(emu.revocation_requests().iter().all(|s| s.method == "GET"));

    let out = run(dir.path(), &emu, &args, None, &env);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let post = emu
        .revocation_requests()
        .into_iter()
        .find(|s| s.method == "POST")
        .expect("a revocation request");
    assert!(post
        .path
        .starts_with("/contoso/_apis/tokenadmin/revocations"));
    assert!(post.path.contains("isPublic=false"));
    let body: Value = serde_json::from_str(&post.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!([
            {"authorizationId": "4f1c2d3e-aaaa-bbbb-cccc-000000000001"},
            {"authorizationId": "4f1c2d3e-aaaa-bbbb-cccc-000000000003"}
        ])
    );
    let log = audit(dir.path());
    assert_eq!(log.last().unwrap()["outcome"], "revoked");
    out.assert_no_leak(&[&pat, admin]);
}

#[test]
fn hugging_face_tokens_are_revoked_by_value_or_point_to_the_owners_page() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let t = token("huggingface-token", 51);
    let stuck = token("huggingface-token", 52);
    emu.set(&t, Behaviour::Active);
    emu.set(&stuck, Behaviour::Active);
    emu.fail_revocation(&stuck, 503);
    fs::write(
        dir.path().join("hf.env"),
        format!(
            "HF_TOKEN={t}
OLD={stuck}
"
        ),
    )
    .unwrap();
    let mut args = SCAN_REVOKE.to_vec();
    args.push("--yes");
    let out = run(dir.path(), &emu, &args, None, &[]);
    // One revoked through the API, one failed: exit 3, and the failure
    // names the page where the owner invalidates it.
    assert_eq!(out.code, 3, "{}", out.stderr);
    let log = audit(dir.path());
    let outcomes: Vec<&str> = log.iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["revoked", "failed"], "{log:?}");
    assert!(log[1]["reason"]
        .as_str()
        .unwrap()
        .contains("https://huggingface.co/settings/tokens"));
    let sent = emu.revocation_requests();
    assert_eq!(sent.len(), 2);
    assert!(sent
        .iter()
        .all(|s| s.path == "/api/credentials/revoke" && s.token.is_none()));
    out.assert_no_leak(&[&t, &stuck]);
}

#[test]
fn revoke_needs_verify() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &emu, &["scan", "--revoke"], None, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = run(dir.path(), &emu, &["scan", "--verify", "--yes"], None, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(emu.connections(), 0);
}

/// On a terminal without --yes patscan asks per token. `script` gives the
/// child a pseudo-terminal; the answers are typed ahead: yes, then no.
#[test]
fn on_a_terminal_each_token_is_confirmed() {
    let Ok(probe) = std::process::Command::new("script")
        .arg("--version")
        .output()
    else {
        panic!("this test needs util-linux `script` for a pseudo-terminal");
    };
    assert!(probe.status.success());
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let first = token("gitlab-pat-routable", 61);
    let second = token("gitlab-pat-routable", 62);
    emu.set(&first, Behaviour::Active);
    emu.set(&second, Behaviour::Active);
    fs::write(dir.path().join("a.env"), format!("A={first}\nB={second}\n")).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("patscan");
    let command = format!(
        "'{}' scan --verify --revoke --color never --audit-log audit.jsonl a.env",
        bin.display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .env("PATSCAN_ENDPOINT_OVERRIDES", emu.overrides())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(b"y\nn\n").unwrap();
    let output = {
        // Keep stdin open until the child is done, so `script` does not
        // hang up the terminal early.
        let output = std::thread::spawn(move || child.wait_with_output().unwrap());
        let started = std::time::Instant::now();
        while audit(dir.path()).len() < 2 && started.elapsed().as_secs() < 60 {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        drop(input);
        output.join().unwrap()
    };
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("[y/N]"), "no prompt: {shown}");
    let log = audit(dir.path());
    let outcomes: Vec<&str> = log.iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["revoked", "declined"], "{shown}");
    assert_eq!(emu.revocation_requests().len(), 1);
    assert!(!shown.contains(&first) && !shown.contains(&second));
}
