//! `--verify --blast-radius` end to end: what a live Azure DevOps PAT
//! reaches, probed against the loopback emulator with GETs only, bounded,
//! and reported in every output without the token.

mod common;
mod emulator;

use std::fs;
use std::path::Path;

use common::{patscan, token, Run};
use emulator::{Behaviour, Emulator};
use serde_json::Value;

const FAST: &[&str] = &["--verify-timeout", "5", "--verify-rate", "200"];

fn run(dir: &Path, emu: &Emulator, args: &[&str]) -> Run {
    let output = patscan()
        .current_dir(dir)
        .env("PATSCAN_ENDPOINT_OVERRIDES", emu.overrides())
        .env_remove("PATSCAN_AZURE_DEVOPS_ADMIN_TOKEN")
        .args(args)
        .args(FAST)
        .output()
        .unwrap();
    Run::from_output(output)
}

fn only_verification(json: &Value) -> &Value {
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{json}");
    &findings[0]["verification"]
}

fn areas(org: &Value, key: &str) -> Vec<String> {
    org[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["area"].as_str().or(x.as_str()).unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_global_pat_is_mapped_across_its_organisations_with_gets_only() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let pat = token("azure-devops-pat", 7001);
    emu.set(&pat, Behaviour::Active);
    emu.set_ado_reach(
        &pat,
        "contoso",
        &["projects", "code", "build", "packaging", "work-items"],
    );
    // Only known from the profile's accounts, not from the scanned file.
    emu.set_ado_reach(&pat, "fabrikam", &["projects"]);
    fs::write(
        dir.path().join("azure-pipelines.yml"),
        format!("# https://dev.azure.com/contoso/web\nvariables:\n  AZDO_PAT: {pat}\n"),
    )
    .unwrap();
    let out = run(
        dir.path(),
        &emu,
        &[
            "scan",
            "--verify",
            "--blast-radius",
            "--format",
            "json",
            "--ungrouped",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json = out.json();
    let v = only_verification(&json);
    assert_eq!(v["status"], "active", "{v}");
    let access = &v["access"];
    let contoso = &access["organisations"]["contoso"];
    assert_eq!(contoso["accepted"], true, "{access}");
    assert_eq!(
        areas(contoso, "reachable"),
        ["projects", "code", "build", "packaging", "work-items"]
    );
    let counts: Vec<Value> = contoso["reachable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].clone())
        .collect();
    // 2 projects, 14 repositories, 3 build and 2 feeds; fields are not counted.
    assert_eq!(
        counts,
        [2.into(), 14.into(), 3.into(), 2.into(), Value::Null]
    );
    // 401, and the 203 sign-in page of release management, mean absent.
    let absent = contoso["absent"].as_array().unwrap();
    for area in [
        "release",
        "service-connections",
        "agent-pools",
        "pat-administration",
    ] {
        assert!(absent.iter().any(|a| a == area), "{area}: {contoso}");
    }
    let fabrikam = &access["organisations"]["fabrikam"];
    assert_eq!(areas(fabrikam, "reachable"), ["projects"], "{access}");
    assert!(access.get("organisation_scoped").is_none(), "{access}");
    // Code, build and packaging reachable, no pipeline infrastructure: high.
    assert_eq!(v["severity"], "high", "{v}");
    assert!(v["severity_basis"]
        .as_str()
        .unwrap()
        .contains("reachable in contoso"));

    // Read-only: every request the token went into is a GET, bounded.
    let sent = emu.requests_with(&pat);
    assert!(sent.iter().all(|s| s.method == "GET"), "{sent:?}");
    assert!(emu.revocation_requests().iter().all(|s| s.method == "GET"));
    assert!(sent.len() <= 2 + 60, "{} requests", sent.len());
    assert_eq!(
        access["requests"].as_u64().unwrap() as usize,
        sent.len() - 2
    );
    assert!(sent
        .iter()
        .any(|s| s.path.starts_with("/_apis/accounts?memberId=")));
    assert!(sent
        .iter()
        .any(|s| s.path.starts_with("/contoso/_apis/packaging/feeds?")));
    assert!(sent.iter().any(|s| s.path.starts_with(&format!(
        "/contoso/{}/_apis/release/definitions?",
        emulator::ADO_PROJECT_ID
    ))));
    out.assert_no_leak(&[&pat]);

    // The human report says the same in words.
    let human = run(
        dir.path(),
        &emu,
        &["scan", "--verify", "--blast-radius", "--color", "never"],
    );
    assert!(
        human.stdout.contains(
            "reach contoso: projects (2), code (14), build (3), packaging (2), work-items; \
             absent: release, service-connections, agent-pools, pat-administration"
        ),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("reach fabrikam: projects (2)"));
    assert!(human.stdout.contains("severity high"));
    human.assert_no_leak(&[&pat]);
}

#[test]
fn pipeline_infrastructure_makes_it_critical_in_sarif_too() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let pat = token("azure-devops-pat", 7002);
    emu.set(&pat, Behaviour::Active);
    emu.set_ado_reach(&pat, "contoso", &["projects", "service-connections"]);
    fs::write(
        dir.path().join("ci.yml"),
        format!("url: https://dev.azure.com/contoso/x\ntoken: {pat}\n"),
    )
    .unwrap();
    let out = run(
        dir.path(),
        &emu,
        &["scan", "--verify", "--blast-radius", "--format", "sarif"],
    );
    let log = out.json();
    let result = &log["runs"][0]["results"][0];
    let v = &result["properties"]["verification"];
    assert_eq!(v["severity"], "critical", "{v}");
    assert!(v["severity_basis"]
        .as_str()
        .unwrap()
        .starts_with("service-connections reachable in contoso"));
    assert_eq!(result["properties"]["security-severity"], "10.0");
    let rule = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "azure-devops-pat")
        .unwrap();
    assert_eq!(rule["properties"]["security-severity"], "10.0");
    out.assert_no_leak(&[&pat]);
}

#[test]
fn an_organisation_scoped_pat_is_said_to_be_one() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let pat = token("azure-devops-pat", 7003);
    emu.set(&pat, Behaviour::OrgScoped("contoso"));
    fs::write(
        dir.path().join("ci.yml"),
        format!("url: https://contoso.visualstudio.com/x\ntoken: {pat}\n"),
    )
    .unwrap();
    let out = run(
        dir.path(),
        &emu,
        &[
            "scan",
            "--verify",
            "--blast-radius",
            "--format",
            "json",
            "--ungrouped",
        ],
    );
    let json = out.json();
    let v = only_verification(&json);
    assert_eq!(v["status"], "active", "{v}");
    assert_eq!(v["access"]["organisation_scoped"], true, "{v}");
    assert!(v["reason"]
        .as_str()
        .unwrap()
        .starts_with("organisation-scoped"));
    // Every area answers in its organisation: critical (agent pools).
    assert_eq!(v["severity"], "critical", "{v}");
    // The profile refused it: no accounts lookup, no other organisation.
    let sent = emu.requests_with(&pat);
    assert!(!sent.iter().any(|s| s.path.starts_with("/_apis/accounts")));
    assert!(sent.iter().all(|s| s.method == "GET"));
    assert_eq!(
        v["access"]["organisations"].as_object().unwrap().len(),
        1,
        "{v}"
    );
    let human = run(
        dir.path(),
        &emu,
        &["scan", "--verify", "--blast-radius", "--color", "never"],
    );
    assert!(human
        .stdout
        .contains("organisation-scoped: only organisation endpoints accept it"));
    human.assert_no_leak(&[&pat]);
    out.assert_no_leak(&[&pat]);
}

#[test]
fn blast_radius_needs_verify_and_is_off_by_default() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let pat = token("azure-devops-pat", 7004);
    emu.set(&pat, Behaviour::Active);
    fs::write(
        dir.path().join("ci.yml"),
        format!("url: https://dev.azure.com/contoso/x\ntoken: {pat}\n"),
    )
    .unwrap();
    let out = run(dir.path(), &emu, &["scan", "--blast-radius"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--verify"), "{}", out.stderr);
    assert_eq!(emu.connections(), 0);
    // --verify alone makes no area request.
    let out = run(
        dir.path(),
        &emu,
        &["scan", "--verify", "--format", "json", "--ungrouped"],
    );
    let json = out.json();
    assert!(only_verification(&json).get("access").is_none());
    assert!(!emu
        .requests_with(&pat)
        .iter()
        .any(|s| s.path.contains("/_apis/projects")));
}
