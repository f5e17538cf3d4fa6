//! The CI gate end to end through the real binary: SARIF that validates and
//! carries what GitHub code scanning needs, baselines that survive moves and
//! renames, inline allow comments, the config file, and exit-code gating.
//! Every token is generated at test time.

mod common;

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use common::*;
use patscan::line_hash::LineHasher;
use patscan::tokengen::{generate, TokenRng};
use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let output = patscan().current_dir(dir).args(args).output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn token(family: &str, seed: u64) -> String {
    generate(family, &mut TokenRng::new(seed)).unwrap()
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// Validates against the vendored official SARIF 2.1.0 schema.
fn assert_valid_sarif(log: &Value) {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let text = fs::read_to_string(repo_root().join("tests/schemas/sarif-2.1.0.json")).unwrap();
        jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
    });
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF does not validate:\n{}",
        errors.join("\n")
    );
}

/// GitHub's hash of `line` in `file`, from an independent full pass.
fn github_line_hash(file: &Path, line: usize) -> String {
    let text = fs::read_to_string(file).unwrap();
    let mut hasher = LineHasher::all();
    hasher.feed_str(&text);
    hasher.finish()[&line].clone()
}

fn findings(json: &Value) -> &Vec<Value> {
    json["findings"].as_array().unwrap()
}

// ---------------------------------------------------------------- SARIF

#[test]
fn sarif_validates_and_carries_every_field_github_code_scanning_needs() {
    let dir = tempfile::tempdir().unwrap();
    let planted = plant(&fixture_dir("tree"), dir.path(), 31);
    let out = run(dir.path(), &["scan", "--format", "sarif"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let log = out.json();
    assert_valid_sarif(&log);
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "one run");
    let run_ = &runs[0];
    assert_eq!(run_["tool"]["driver"]["name"], "patscan");
    // SARIF2005: the driver says where to learn about the tool.
    let uri = run_["tool"]["driver"]["informationUri"].as_str().unwrap();
    assert_eq!(uri, env!("CARGO_PKG_REPOSITORY"));
    assert!(uri.starts_with("https://"), "{uri}");

    // Every rule exactly once, with what GitHub shows.
    let rules = run_["tool"]["driver"]["rules"].as_array().unwrap();
    let builtin = patscan::rules::builtin().unwrap();
    let mut ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), builtin.rules().len());
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), builtin.rules().len(), "duplicate rule ids");
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        for key in ["shortDescription", "fullDescription", "help"] {
            let text = rule[key]["text"].as_str().unwrap_or("");
            assert!(
                !text.is_empty() && text.len() <= 1024 || key == "help",
                "{id}: {key}"
            );
        }
        assert!(!rule["name"].as_str().unwrap().is_empty());
        let help = rule["help"]["text"].as_str().unwrap();
        assert!(help.contains("How to revoke"), "{id}: {help}");
        assert!(rule["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("revoke"));
        let tags: Vec<&str> = rule["properties"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(tags.contains(&"security"), "{id}: {tags:?}");
        let severity: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(severity > 0.0 && severity <= 10.0);
        let precision = rule["properties"]["precision"].as_str().unwrap();
        assert!(["very-high", "high", "medium", "low"].contains(&precision));
    }
    // The revoke text of the rule is what the help says.
    let github = rules
        .iter()
        .find(|r| r["id"] == "github-classic-pat")
        .unwrap();
    assert!(github["help"]["text"]
        .as_str()
        .unwrap()
        .contains("https://github.com/settings/tokens"));

    // One result per planted token, located exactly, fingerprinted as GitHub does.
    let results = run_["results"].as_array().unwrap();
    let valid: Vec<&Planted> = reported(&planted);
    assert_eq!(results.len(), valid.len());
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[index]["id"], result["ruleId"],
            "ruleIndex points at the rule"
        );
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap()));
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let locations = result["locations"].as_array().unwrap();
        assert_eq!(locations.len(), 1);
        let physical = &locations[0]["physicalLocation"];
        let uri = physical["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.starts_with("./") && !uri.starts_with('/'), "{uri}");
        let region = &physical["region"];
        let (line, column) = (
            region["startLine"].as_u64().unwrap() as usize,
            region["startColumn"].as_u64().unwrap() as usize,
        );
        assert_eq!(region["endLine"].as_u64().unwrap() as usize, line);
        assert!(line >= 1 && column >= 1);
        let end = region["endColumn"].as_u64().unwrap() as usize;
        let p = valid
            .iter()
            .find(|p| p.path == uri && p.line == line && p.column == column)
            .unwrap_or_else(|| panic!("no planted token at {uri}:{line}:{column}"));
        assert_eq!(end - column, p.token.chars().count());
        assert_eq!(result["ruleId"], p.rule_id.as_str());
        let hash = result["partialFingerprints"]["primaryLocationLineHash"]
            .as_str()
            .unwrap();
        assert_eq!(
            hash,
            github_line_hash(&dir.path().join(uri), line),
            "{uri}:{line}"
        );
    }
    for p in &planted {
        assert!(
            !out.stdout.contains(&p.token),
            "{} leaked into SARIF",
            p.rule_id
        );
    }
}

#[test]
fn the_schema_check_rejects_logs_github_would_reject() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.env",
        &format!("T={}\n", token("npm-token", 40)),
    );
    let mut log = run(dir.path(), &["scan", "--format", "sarif"]).json();
    assert_valid_sarif(&log);
    // The failure gitleaks users hit: a column of 0.
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["endColumn"] =
        Value::from(0);
    let result = std::panic::catch_unwind(|| assert_valid_sarif(&log));
    assert!(result.is_err(), "an endColumn of 0 must not validate");
}

#[test]
fn sarif_shows_the_secret_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let t = token("github-classic-pat", 41);
    write(dir.path(), "a.env", &format!("TOKEN={t}\n"));
    let hidden = run(dir.path(), &["scan", "--format", "sarif"]);
    assert!(!hidden.stdout.contains(&t));
    let shown = run(dir.path(), &["scan", "--format", "sarif", "--show-secrets"]);
    let log = shown.json();
    assert_valid_sarif(&log);
    assert_eq!(
        log["runs"][0]["results"][0]["properties"]["secret"],
        t.as_str()
    );
}

#[test]
fn sarif_uris_are_relative_to_the_scanned_root_and_encoded() {
    let dir = tempfile::tempdir().unwrap();
    let t = token("npm-token", 42);
    write(
        dir.path(),
        "repo/src/my app.js",
        &format!("const t = '{t}';\n"),
    );
    let out = run(dir.path(), &["scan", "repo", "--format", "sarif"]);
    let log = out.json();
    assert_valid_sarif(&log);
    let uri = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"];
    assert_eq!(uri, "src/my%20app.js");
}

#[test]
fn sarif_line_hash_is_right_for_files_larger_than_one_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let t = token("gitlab-pat-routable", 43);
    let mut text = String::new();
    let mut line = 1;
    while text.len() < (5 << 20) {
        text.push_str(&format!("{line:>8} lorem ipsum dolor sit amet\n"));
        line += 1;
    }
    text.push_str(&format!("token: {t}\nlast line\n"));
    write(dir.path(), "big.log", &text);
    let out = run(dir.path(), &["scan", "--format", "sarif"]);
    let log = out.json();
    let result = &log["runs"][0]["results"][0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        line
    );
    assert_eq!(
        result["partialFingerprints"]["primaryLocationLineHash"],
        github_line_hash(&dir.path().join("big.log"), line).as_str()
    );
}

#[test]
fn sarif_with_no_findings_is_still_a_valid_log_with_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.rs", "fn main() {}\n");
    let out = run(dir.path(), &["scan", "--format", "sarif"]);
    assert_eq!(out.code, 0);
    let log = out.json();
    assert_valid_sarif(&log);
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
    assert!(!log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn sarif_reports_files_it_could_not_scan_as_tool_notifications() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "big.txt", &"a".repeat(4096));
    write(dir.path(), "small.txt", "hello\n");
    let out = run(
        dir.path(),
        &["scan", "--format", "sarif", "--max-file-size", "1K"],
    );
    assert_eq!(out.code, 0);
    let log = out.json();
    assert_valid_sarif(&log);
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert!(notes[0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("big.txt"));
    assert_eq!(notes[0]["level"], "warning");
}

// ---------------------------------------------------------------- JSONL

#[test]
fn jsonl_prints_one_redacted_finding_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let planted = plant(&fixture_dir("tree"), dir.path(), 32);
    let out = run(dir.path(), &["scan", "--format", "jsonl"]);
    assert_eq!(out.code, 1);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), reported(&planted).len());
    for line in &lines {
        assert!(line["rule_id"].is_string() && line["line"].is_u64());
    }
    for p in &planted {
        assert!(!out.stdout.contains(&p.token));
    }
}

// ---------------------------------------------------------------- baseline

#[test]
fn baseline_survives_moved_lines_and_renamed_files_and_catches_new_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let a = token("github-classic-pat", 51);
    let b = token("npm-token", 52);
    write(root, "src/config.py", &format!("A = '{a}'\nB = '{b}'\n"));
    write(root, "deploy/values.yaml", &format!("token: {a}\n"));

    let made = run(root, &["baseline", "--output", "patscan-baseline.json"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let text = fs::read_to_string(root.join("patscan-baseline.json")).unwrap();
    assert!(
        !text.contains(&a) && !text.contains(&b),
        "secret in baseline"
    );
    let doc: Value = serde_json::from_str(&text).unwrap();
    let entries = doc["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "one entry per token: {text}");
    for entry in entries {
        let keys: Vec<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            keys,
            ["paths", "rule_id", "secret_sha256"],
            "no lines, commits or times"
        );
    }
    let github = entries
        .iter()
        .find(|e| e["rule_id"] == "github-classic-pat")
        .unwrap();
    assert_eq!(
        github["paths"],
        serde_json::json!(["deploy/values.yaml", "src/config.py"])
    );

    // Same tree: nothing new.
    let clean = run(
        root,
        &[
            "scan",
            "--format",
            "json",
            "--ungrouped",
            "--baseline",
            "patscan-baseline.json",
        ],
    );
    assert_eq!(clean.code, 0, "{}", clean.stdout);
    assert_eq!(clean.json()["summary"]["suppressed"]["baseline"], 3);

    // Lines moved, a file renamed and moved, indentation changed.
    fs::remove_file(root.join("src/config.py")).unwrap();
    write(
        root,
        "lib/settings/conf.py",
        &format!("# header\n\n\n  B = '{b}'\n  A = '{a}'\n"),
    );
    let moved = run(
        root,
        &[
            "scan",
            "--format",
            "json",
            "--ungrouped",
            "--baseline",
            "patscan-baseline.json",
        ],
    );
    assert_eq!(moved.code, 0, "{}", moved.stdout);
    assert!(moved.json()["summary"]["stale_baseline_entries"]
        .as_array()
        .unwrap()
        .is_empty());

    // A new token is the only thing reported.
    let c = token("github-classic-pat", 53);
    write(root, "lib/new.py", &format!("C = '{c}'\n"));
    let fresh = run(
        root,
        &[
            "scan",
            "--format",
            "json",
            "--ungrouped",
            "--baseline",
            "patscan-baseline.json",
        ],
    );
    assert_eq!(fresh.code, 1);
    let json = fresh.json();
    let reported: Vec<&str> = findings(&json)
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(reported, ["lib/new.py"]);

    // Rewriting the baseline of an unchanged tree gives identical bytes.
    run(root, &["baseline", "--output", "again.json"]);
    run(root, &["baseline", "--output", "again2.json"]);
    assert_eq!(
        fs::read(root.join("again.json")).unwrap(),
        fs::read(root.join("again2.json")).unwrap()
    );
}

#[test]
fn baseline_paths_do_not_depend_on_how_the_root_was_named() {
    let dir = tempfile::tempdir().unwrap();
    let t = token("npm-token", 54);
    write(
        dir.path(),
        "repo/x/.npmrc",
        &format!("//registry.npmjs.org/:_authToken={t}\n"),
    );
    let from_parent = run(dir.path(), &["baseline", "repo"]);
    let from_inside = run(&dir.path().join("repo"), &["baseline"]);
    assert_eq!(from_parent.code, 0, "{}", from_parent.stderr);
    assert_eq!(from_parent.stdout, from_inside.stdout);
    assert!(
        from_inside.stdout.contains("\"x/.npmrc\""),
        "{}",
        from_inside.stdout
    );
}

#[test]
fn stale_baseline_entries_are_reported_on_stderr_and_in_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let a = token("gitlab-pat-routable", 55);
    let b = token("npm-token", 56);
    write(root, "a.txt", &format!("{a}\n"));
    write(root, "b.txt", &format!("{b}\n"));
    run(root, &["baseline", "--output", "base.json"]);
    fs::remove_file(root.join("a.txt")).unwrap();

    let out = run(
        root,
        &[
            "scan",
            "--format",
            "json",
            "--ungrouped",
            "--baseline",
            "base.json",
        ],
    );
    assert_eq!(out.code, 0);
    let stale = out.json()["summary"]["stale_baseline_entries"].clone();
    assert_eq!(stale.as_array().unwrap().len(), 1, "{stale}");
    assert_eq!(stale[0]["rule_id"], "gitlab-pat-routable");
    assert_eq!(stale[0]["paths"], serde_json::json!(["a.txt"]));
    assert!(
        out.stderr.contains("stale baseline entry"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("gitlab-pat-routable"), "{}", out.stderr);
    assert!(!out.stderr.contains(&a));
    let human = run(root, &["scan", "--baseline", "base.json"]);
    assert!(
        human.stdout.contains("1 stale baseline entries"),
        "{}",
        human.stdout
    );
}

#[test]
fn a_malformed_baseline_is_exit_2_naming_the_line_never_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.txt", &format!("{}\n", token("npm-token", 57)));
    let good = "0".repeat(64);
    let cases = [
        // (file text, expected line)
        ("{\n  \"version\": 1,\n  \"entries\": [\n    {\"rule_id\": \"x\",}\n  ]\n}\n".to_string(), 4),
        (format!("{{\n  \"version\": 1,\n  \"entries\": [\n    {{\"rule_id\": \"x\", \"secret_sha256\": \"{good}\"}},\n    {{\"rule_id\": \"x\", \"secret_sha256\": \"nothex\"}}\n  ]\n}}\n"), 5),
        (format!("{{\n  \"version\": 1,\n  \"entries\": [\n    {{\"rule\": \"x\", \"secret_sha256\": \"{good}\"}}\n  ]\n}}\n"), 4),
        ("{\n  \"version\": 9,\n  \"entries\": []\n}\n".to_string(), 2),
        (String::new(), 1),
    ];
    for (text, line) in cases {
        write(root, "base.json", &text);
        for format in ["json", "sarif", "human"] {
            let out = run(
                root,
                &["scan", "--format", format, "--baseline", "base.json"],
            );
            assert_eq!(out.code, 2, "{text}\n{}", out.stderr);
            assert!(
                out.stdout.is_empty(),
                "a report was written: {}",
                out.stdout
            );
            assert!(
                out.stderr.contains(&format!("line {line}")),
                "expected line {line}: {}",
                out.stderr
            );
        }
    }
    let missing = run(root, &["scan", "--baseline", "nope.json"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("nope.json"), "{}", missing.stderr);
}

// ---------------------------------------------------------------- allow comments

#[test]
fn every_allow_comment_works_on_the_line_and_the_line_before_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let markers = [
        "patscan:allow",
        "gitleaks:allow",
        "pragma: allowlist secret",
        "trufflehog:ignore",
    ];
    let mut seed = 60;
    let mut reported = Vec::new();
    for (i, marker) in markers.iter().enumerate() {
        let mut next = || {
            seed += 1;
            token("github-classic-pat", seed)
        };
        let text = format!(
            "same = '{}'  # {marker}\n# {marker}\nbefore = '{}'\n# {marker}\n\ntoo_far = '{}'\nafter = '{}'\n# {marker}\n",
            next(),
            next(),
            next(),
            next()
        );
        let name = format!("f{i}.py");
        write(root, &name, &text);
        reported.push((name.clone(), 6));
        reported.push((name, 7));
    }
    let out = run(root, &["scan", "--format", "json", "--ungrouped"]);
    let json = out.json();
    let got: Vec<(String, usize)> = findings(&json)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    assert_eq!(got, reported);
    assert_eq!(json["summary"]["suppressed"]["inline_comment"], 8);
    assert_eq!(json["summary"]["findings"], 8);
    let human = run(root, &["scan"]);
    assert!(
        human.stdout.contains("8 suppressed (8 by inline comment)"),
        "{}",
        human.stdout
    );
}

// ---------------------------------------------------------------- config

#[test]
fn config_disables_rules_skips_paths_and_allows_values_and_regexes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let npm = token("npm-token", 71);
    let allowed_value = token("github-classic-pat", 72);
    let kept = token("github-classic-pat", 73);
    let gitlab = token("gitlab-pat-routable", 74);
    write(
        root,
        "a.txt",
        &format!("{npm}\n{allowed_value}\n{kept}\n{gitlab}\n"),
    );
    write(root, "tests/fixtures/deep/f.txt", &format!("{kept}\n"));
    write(root, "snap/x.snap", &format!("{kept}\n"));
    write(
        root,
        ".patscan.toml",
        &format!(
            "disabled_rules = [\"npm-token\"]\n\n[allow]\npaths = [\"tests/fixtures/\", \"*.snap\"]\nvalues = [\"{allowed_value}\"]\nregexes = ['^glpat-']\n"
        ),
    );
    let out = run(root, &["scan", "--format", "json", "--ungrouped"]);
    let json = out.json();
    let got: Vec<(String, u64, String)> = findings(&json)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The config file itself holds the allowed value: allowed there too.
    assert_eq!(
        got,
        [("a.txt".to_string(), 3, "github-classic-pat".to_string())]
    );
    assert_eq!(json["summary"]["suppressed"]["allowlist"], 3);
    assert_eq!(
        json["summary"]["files_scanned"], 2,
        "skipped paths are never read"
    );

    // --config elsewhere replaces discovery.
    write(root, "other.toml", "disabled_rules = []\n");
    let out = run(
        root,
        &[
            "scan",
            "--format",
            "json",
            "--ungrouped",
            "--config",
            "other.toml",
        ],
    );
    assert!(findings(&out.json()).len() >= 6);
}

#[test]
fn config_errors_are_exit_2_naming_the_key_or_rule() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.txt", "nothing here\n");
    let rule = |id: &str, pattern: &str, example: &str| {
        format!(
            "[[rule]]\nid = \"{id}\"\nname = \"Acme\"\ndescription = \"Acme key\"\nkeywords = [\"acme_\"]\npattern = '''{pattern}'''\nmax_length = 40\nexamples = [\"{example}\"]\n"
        )
    };
    let cases = [
        ("colour = \"red\"\n".to_string(), "colour"),
        ("[allow]\npathz = []\n".to_string(), "pathz"),
        (
            "[allow]\nregexes = [\"ok\", \"(unclosed\"]\n".to_string(),
            "allow.regexes[1]",
        ),
        ("[allow]\npaths = [\"a/[\"]\n".to_string(), "allow.paths[0]"),
        (
            "disabled_rules = [\"github-clasic-pat\"]\n".to_string(),
            "github-clasic-pat",
        ),
        (rule("acme-key", "acme_[a-z", "acme_abc"), "acme-key"),
        (
            rule("github-classic-pat", "acme_[a-z]{8}", "acme_abcdefgh"),
            "github-classic-pat",
        ),
        (
            rule("acme-key", "acme_[a-z]{8}", "acme_abcdefgh").replace("max_length", "max_len"),
            "max_len",
        ),
    ];
    for (text, needle) in cases {
        write(root, ".patscan.toml", &text);
        for args in [&["scan"][..], &["rules"][..], &["baseline"][..]] {
            let out = run(root, args);
            assert_eq!(out.code, 2, "{args:?} {text}\n{}", out.stderr);
            assert!(out.stderr.contains(needle), "{needle}: {}", out.stderr);
            assert!(out.stderr.contains(".patscan.toml"), "{}", out.stderr);
            assert!(out.stdout.is_empty());
        }
    }
}

#[test]
fn custom_rules_are_checked_used_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let custom = "[[rule]]\nid = \"acme-key\"\nname = \"Acme API key\"\ndescription = \"An Acme key.\"\nkeywords = [\"acme_\"]\npattern = '''(?P<secret>acme_[A-Za-z0-9]{24})(?:[^A-Za-z0-9]|$)'''\nmax_length = 29\nmin_entropy = 3.0\nrevoke = \"Delete it in the Acme console.\"\nexamples = [\"key = acme_Qm9vZ2xlRm9vQmFyQmF6MTIz\"]\nnegative_examples = [\"acme_short\"]\n";
    // A failing example is rejected with the rule and example named.
    let broken = custom.replace("acme_Qm9vZ2xlRm9vQmFyQmF6MTIz", "acme_tooShort");
    write(root, "cfg/broken.toml", &broken);
    let out = run(root, &["rules", "--config", "cfg/broken.toml"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("acme-key") && out.stderr.contains("example 1"),
        "{}",
        out.stderr
    );
    // A rule without examples is rejected too.
    let untested = custom.replace("examples = [\"key = acme_Qm9vZ2xlRm9vQmFyQmF6MTIz\"]\n", "");
    write(root, "cfg/untested.toml", &untested);
    let out = run(root, &["rules", "--config", "cfg/untested.toml"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("at least one example"),
        "{}",
        out.stderr
    );

    write(
        root,
        "cfg/good.toml",
        &format!("disabled_rules = [\"npm-token\"]\n{custom}"),
    );
    let listed = run(root, &["rules", "--config", "cfg/good.toml"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(listed.stdout.contains("acme-key") && listed.stdout.contains("(custom)"));
    assert!(!listed.stdout.contains("npm-token"));
    let as_json = run(
        root,
        &["rules", "--format", "json", "--config", "cfg/good.toml"],
    );
    let specs = as_json.json();
    let acme = specs
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "acme-key")
        .unwrap();
    assert_eq!(acme["custom"], true);

    write(
        root,
        "src/app.py",
        "KEY = 'acme_Zx8Kq2Lm9Pw4Rt7Yb3Nc6Vd1'\n",
    );
    let out = run(
        root,
        &["scan", "--format", "sarif", "--config", "cfg/good.toml"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let log = out.json();
    assert_valid_sarif(&log);
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "acme-key");
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let rule = rules.iter().find(|r| r["id"] == "acme-key").unwrap();
    assert!(rule["help"]["text"]
        .as_str()
        .unwrap()
        .contains("Acme console"));
    assert!(!rules.iter().any(|r| r["id"] == "npm-token"));
}

// ---------------------------------------------------------------- exit codes

#[test]
fn exit_codes_follow_fail_on_and_exit_zero() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // github-fine-grained-pat has no checksum: medium confidence.
    write(
        root,
        "medium.txt",
        &format!("{}\n", token("github-fine-grained-pat", 81)),
    );
    let code = |args: &[&str]| run(root, args).code;
    assert_eq!(code(&["scan"]), 1);
    assert_eq!(code(&["scan", "--fail-on", "low"]), 1);
    assert_eq!(code(&["scan", "--fail-on", "medium"]), 1);
    assert_eq!(code(&["scan", "--fail-on", "high"]), 0);
    assert_eq!(code(&["scan", "--exit-zero"]), 0);
    write(
        root,
        "high.txt",
        &format!("{}\n", token("github-classic-pat", 82)),
    );
    assert_eq!(code(&["scan", "--fail-on", "high"]), 1);
    assert_eq!(code(&["scan", "--fail-on", "high", "--exit-zero"]), 0);
    // Findings are still reported under --exit-zero.
    let out = run(
        root,
        &["scan", "--exit-zero", "--format", "json", "--ungrouped"],
    );
    assert_eq!(findings(&out.json()).len(), 2);
    // Errors stay 2 whatever the gate says.
    assert_eq!(code(&["scan", "missing-dir", "--exit-zero"]), 2);
    assert_eq!(code(&["scan", "--fail-on", "critical"]), 2);
}
