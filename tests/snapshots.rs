//! Snapshot tests of every output format on one small, deterministic tree
//! (tokens from a fixed generator seed, so the redacted forms, fingerprints
//! and line hashes are stable; durations normalised). A change to any
//! format shows up as a reviewable diff (`cargo insta review`).

mod common;

use std::fs;
use std::path::Path;

use common::patscan;
use patscan::tokengen::{fill_template, TokenRng};
use serde_json::Value;

const FILES: &[(&str, &str)] = &[
    (
        "config/app.env",
        "# deployment settings\nGITHUB_TOKEN={{token:github-classic-pat}}\nNPM_TOKEN={{token:npm-token}} # patscan:allow\n",
    ),
    (
        "src/client.py",
        "import os\n\nHF_TOKEN = \"{{token:huggingface-token}}\"\nGITLAB = os.environ.get(\"GL\", \"{{token:gitlab-pat-routable}}\")\n",
    ),
    // A structured finding: its details (scheme, host, user) in every format.
    (
        "deploy/db.env",
        "DATABASE_URL=postgres://orders:{{token:connection-url-password}}@orders-prod.postgres.database.azure.com:5432/orders\n",
    ),
];

/// Plants the tree; returns the tokens, which no snapshot may contain.
fn plant(dir: &Path) -> Vec<String> {
    let mut rng = TokenRng::new(2024);
    let mut tokens = Vec::new();
    for (path, template) in FILES {
        let filled = fill_template(template, &mut rng).unwrap();
        let target = dir.join(path);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(target, &filled.text).unwrap();
        tokens.extend(filled.placements.into_iter().map(|p| p.token));
    }
    // The GitHub token copied into a backup: one secret, two places.
    let copy = dir.join("backup/app.env.bak");
    fs::create_dir_all(copy.parent().unwrap()).unwrap();
    fs::write(copy, format!("# old\nexport GITHUB_TOKEN={}\n", tokens[0])).unwrap();
    tokens
}

fn render(format: &str) -> String {
    render_with(&[format])
}

fn render_with(format: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let tokens = plant(dir.path());
    let output = patscan()
        .current_dir(dir.path())
        // Not the CI platform these tests may run on: no job summaries.
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("TF_BUILD")
        .args(["scan", "-j", "1", "--format"])
        .args(format)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    for token in &tokens {
        assert!(
            !stdout.contains(token.as_str()),
            "a token leaked into {format:?}"
        );
    }
    stdout
}

/// Durations vary run to run; nothing else may.
fn normalise_duration(text: &str) -> String {
    let re = regex::Regex::new(r"in \d+\.\d+s").unwrap();
    re.replace_all(text, "in [duration]").into_owned()
}

fn normalise_json(mut value: Value) -> String {
    if let Some(summary) = value.get_mut("summary") {
        summary["duration_seconds"] = Value::from(0);
        // A digest of every rule's definition: it changes with each rule
        // added, which is not a change of the format.
        summary["rule_set"]["rules"] = Value::from("[digest]");
    }
    serde_json::to_string_pretty(&value).unwrap()
}

#[test]
fn human_format() {
    insta::assert_snapshot!("human", normalise_duration(&render("human")));
}

#[test]
fn json_format() {
    let json: Value = serde_json::from_str(&render("json")).unwrap();
    insta::assert_snapshot!("json", normalise_json(json));
}

#[test]
fn json_ungrouped_format() {
    let json: Value = serde_json::from_str(&render_with(&["json", "--ungrouped"])).unwrap();
    insta::assert_snapshot!("json_ungrouped", normalise_json(json));
}

#[test]
fn jsonl_format() {
    insta::assert_snapshot!("jsonl", render("jsonl"));
}

#[test]
fn sarif_format() {
    let mut log: Value = serde_json::from_str(&render("sarif")).unwrap();
    // Only the rules the results use: the full list (and so every index)
    // changes whenever a rule file does; tests/ci_gate.rs checks it.
    let used: Vec<Value> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].clone())
        .collect();
    for result in log["runs"][0]["results"].as_array_mut().unwrap() {
        result["ruleIndex"] = Value::from("[index]");
    }
    let driver = &mut log["runs"][0]["tool"]["driver"];
    driver["version"] = Value::from("[version]");
    driver["semanticVersion"] = Value::from("[version]");
    let rules = driver["rules"].as_array_mut().unwrap();
    rules.retain(|r| used.contains(&r["id"]));
    insta::assert_snapshot!("sarif", serde_json::to_string_pretty(&log).unwrap());
}

#[test]
fn github_format() {
    insta::assert_snapshot!("github", render("github"));
}

#[test]
fn azure_pipelines_format() {
    insta::assert_snapshot!("azure_pipelines", render("azure-pipelines"));
}

#[test]
fn markdown_format() {
    insta::assert_snapshot!("markdown", render("markdown"));
}

#[test]
fn gitlab_format() {
    let mut report: Value = serde_json::from_str(&render("gitlab")).unwrap();
    let scan = &mut report["scan"];
    for key in ["start_time", "end_time"] {
        assert!(scan[key].as_str().unwrap().len() == 19, "{}", scan[key]);
        scan[key] = Value::from("[time]");
    }
    for tool in ["analyzer", "scanner"] {
        scan[tool]["version"] = Value::from("[version]");
    }
    insta::assert_snapshot!("gitlab", serde_json::to_string_pretty(&report).unwrap());
}
