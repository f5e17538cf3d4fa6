//! Severity after `--verify`, end to end: the real binary against the
//! loopback emulator. Each issuer's answer (scopes header, token listing,
//! or nothing) gives the documented severity, and every output shows it:
//! human, JSON, SARIF (`security-severity` raised) and HTML.

mod common;
mod emulator;

use std::fs;
use std::path::Path;

use common::{patscan, token, Run};
use emulator::{Behaviour, Emulator};
use serde_json::Value;

const FAST: &[&str] = &["--verify-timeout", "5", "--verify-rate", "100"];

fn run(dir: &Path, emu: &Emulator, args: &[&str]) -> Run {
    let output = patscan()
        .current_dir(dir)
        .env("PATSCAN_ENDPOINT_OVERRIDES", emu.overrides())
        .args(args)
        .args(FAST)
        .output()
        .unwrap();
    Run::from_output(output)
}

/// The verification of the finding in `file` (ungrouped JSON).
fn verification<'a>(json: &'a Value, file: &str) -> &'a Value {
    &json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("no finding in {file}: {json}"))["verification"]
}

fn today() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (secs / 86_400) as i64
}

struct Planted {
    tokens: Vec<String>,
}

/// One file per issuer, each token active or revoked in the emulator.
fn plant(dir: &Path, emu: &Emulator) -> Planted {
    let cases = [
        ("github.env", "github-classic-pat", Behaviour::Active),
        ("gitlab.env", "gitlab-pat-routable", Behaviour::Active),
        ("slack.env", "slack-bot-token", Behaviour::Active),
        ("npm.env", "npm-token", Behaviour::Active),
        ("hf.env", "huggingface-token", Behaviour::Active),
        ("ado.env", "azure-devops-pat", Behaviour::Active),
        ("revoked.env", "github-classic-pat", Behaviour::Revoked),
    ];
    let mut tokens = Vec::new();
    for (i, (file, family, behaviour)) in cases.into_iter().enumerate() {
        let t = token(family, 900 + i as u64);
        emu.set(&t, behaviour);
        fs::write(dir.join(file), format!("TOKEN={t}\n")).unwrap();
        tokens.push(t);
    }
    Planted { tokens }
}

#[test]
fn each_issuer_answer_gives_its_documented_severity() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let planted = plant(dir.path(), &emu);
    let out = run(
        dir.path(),
        &emu,
        &["scan", "--verify", "--format", "json", "--ungrouped"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json = out.json();
    // (file, severity, words the basis must hold)
    let expected = [
        // X-OAuth-Scopes: repo, read:org
        ("github.env", "critical", "scope repo"),
        // personal_access_tokens/self: scopes api, read_user
        ("gitlab.env", "critical", "scope api"),
        // x-oauth-scopes: chat:write,channels:read
        ("slack.env", "high", "scope chat:write"),
        // whoami says nothing of the token type: publish assumed.
        ("npm.env", "critical", "publish"),
        // whoami-v2: role write
        ("hf.env", "high", "role write"),
        // A PAT cannot read its scopes: the stated default.
        ("ado.env", "high", "--blast-radius"),
    ];
    for (file, severity, basis) in expected {
        let v = verification(&json, file);
        assert_eq!(v["status"], "active", "{file}: {v}");
        assert_eq!(v["severity"], severity, "{file}: {v}");
        assert!(
            v["severity_basis"].as_str().unwrap().contains(basis),
            "{file}: {v}"
        );
    }
    // GitHub states the expiry (2031-01-01 in the emulator): days left.
    let gh = verification(&json, "github.env");
    let expiry = patscan::civil_time::epoch_day("2031-01-01").unwrap();
    let days = gh["expires_in_days"].as_i64().unwrap();
    assert!((expiry - today() - days).abs() <= 1, "{gh}");
    assert!(gh.get("no_expiry").is_none(), "{gh}");
    // A revoked token can do nothing: no severity.
    let revoked = verification(&json, "revoked.env");
    assert_eq!(revoked["status"], "inactive");
    assert!(revoked.get("severity").is_none(), "{revoked}");
    let tokens: Vec<&str> = planted.tokens.iter().map(String::as_str).collect();
    out.assert_no_leak(&tokens);
}

#[test]
fn every_output_shows_the_severity() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let planted = plant(dir.path(), &emu);
    let tokens: Vec<&str> = planted.tokens.iter().map(String::as_str).collect();

    let human = run(dir.path(), &emu, &["scan", "--verify", "--color", "never"]);
    assert!(
        human
            .stdout
            .contains("LIVE TOKEN active (github), severity critical (scope repo)"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("(in "), "{}", human.stdout);
    human.assert_no_leak(&tokens);

    let sarif = run(dir.path(), &emu, &["scan", "--verify", "--format", "sarif"]);
    let log = sarif.json();
    let run0 = &log["runs"][0];
    let rule = run0["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "github-classic-pat")
        .unwrap();
    // A critical live token raises the rule's score to the top.
    assert_eq!(rule["properties"]["security-severity"], "10.0");
    let results = run0["results"].as_array().unwrap();
    let live_gh = results
        .iter()
        .find(|r| {
            r["ruleId"] == "github-classic-pat"
                && r["properties"]["verification"]["status"] == "active"
        })
        .expect("the live GitHub result");
    assert_eq!(live_gh["properties"]["security-severity"], "10.0");
    assert_eq!(
        live_gh["properties"]["verification"]["severity"],
        "critical"
    );
    // Rules whose tokens were not live keep their own score.
    let slack_rule = run0["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "gitlab-pat")
        .unwrap();
    assert_ne!(slack_rule["properties"]["security-severity"], "10.0");
    sarif.assert_no_leak(&tokens);

    let html = run(dir.path(), &emu, &["scan", "--verify", "--format", "html"]);
    assert!(html.stdout.contains(
        "data-sort=\"severity\" aria-sort=\"none\"><button type=\"button\">Severity</button>"
    ));
    assert!(
        html.stdout
            .contains("<span class=\"badge sev-critical\">critical</span>"),
        "no severity badge"
    );
    assert!(html.stdout.contains("severity: critical (scope repo)"));
    html.assert_no_leak(&tokens);

    let md = run(
        dir.path(),
        &emu,
        &["scan", "--verify", "--format", "markdown"],
    );
    assert!(md.stdout.contains("**LIVE** (critical)"), "{}", md.stdout);
}
