//! The core scan over a realistic tree: every planted token is found at its
//! exact line and column, nothing else is, and the edge cases of "where it
//! looks" behave.

mod common;

use std::fs;

use common::*;
use predicates::prelude::*;

#[test]
fn finds_exactly_the_planted_tokens_across_the_fixture_tree() {
    for seed in [1, 2, 3] {
        let dir = tempfile::tempdir().unwrap();
        let planted = plant(&fixture_dir("tree"), dir.path(), seed);
        let run = scan_json(dir.path(), &[]);
        assert_eq!(run.code, 1, "stderr: {}", run.stderr);
        assert_eq!(found(&run.json), expected(&planted), "seed {seed}");
    }
}

#[test]
fn the_fixture_tree_covers_every_rule_and_every_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let planted = plant(&fixture_dir("tree"), dir.path(), 7);
    let rules = patscan::rules::builtin().unwrap();
    for rule in rules.rules() {
        let id = rule.spec.id.as_str();
        assert!(
            planted.iter().any(|p| p.valid && p.rule_id == id),
            "no fixture plants a {id} token"
        );
        if rule.spec.checksum.is_some() {
            assert!(
                planted.iter().any(|p| !p.valid && p.rule_id == id),
                "no fixture plants a corrupted {id} token"
            );
        }
    }
}

#[test]
fn json_findings_carry_the_documented_fields_and_redact_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let planted = plant(&fixture_dir("tree"), dir.path(), 11);
    let run = scan_json(dir.path(), &[]);
    for finding in run.json["findings"].as_array().unwrap() {
        for key in [
            "rule_id",
            "path",
            "line",
            "column",
            "end_column",
            "secret",
            "fingerprint",
            "confidence",
        ] {
            assert!(!finding[key].is_null(), "missing {key} in {finding}");
        }
        let span = finding["end_column"].as_u64().unwrap() - finding["column"].as_u64().unwrap();
        let secret = finding["secret"].as_str().unwrap();
        assert!(
            secret.contains(&format!("[{span} chars]")),
            "{secret} {finding}"
        );
    }
    for p in &planted {
        assert!(
            !run.stdout.contains(&p.token),
            "token leaked into JSON output"
        );
        assert!(!run.stderr.contains(&p.token), "token leaked into stderr");
    }
    let summary = &run.json["summary"];
    assert_eq!(
        summary["findings"].as_u64().unwrap() as usize,
        expected(&planted).len()
    );
    assert!(summary["files_scanned"].as_u64().unwrap() >= 14);
}

#[test]
fn show_secrets_prints_the_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let planted = plant(&fixture_dir("tree"), dir.path(), 12);
    let run = scan_json(dir.path(), &["--show-secrets"]);
    let secrets: Vec<&str> = run.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    for p in planted.iter().filter(|p| p.valid) {
        assert!(
            secrets.contains(&p.token.as_str()),
            "{} not shown",
            p.rule_id
        );
    }
}

#[test]
fn human_output_masks_secrets_and_summarises() {
    let dir = tempfile::tempdir().unwrap();
    let planted = plant(&fixture_dir("tree"), dir.path(), 13);
    let output = patscan()
        .current_dir(dir.path())
        .arg("scan")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("ado-pat.txt:1:1: azure-devops-pat-legacy"),
        "{stdout}"
    );
    assert!(stdout.contains("tokens found"), "{stdout}");
    assert!(!stdout.contains("\x1b["), "no colour when not a terminal");
    for p in &planted {
        assert!(!stdout.contains(&p.token), "{} leaked", p.rule_id);
    }
}

#[test]
fn fingerprint_survives_moving_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let token = patscan::tokengen::generate(
        "github-classic-pat",
        &mut patscan::tokengen::TokenRng::new(5),
    )
    .unwrap();
    fs::write(dir.path().join("a.txt"), format!("x = '{token}'\n")).unwrap();
    fs::write(
        dir.path().join("b.txt"),
        format!("\n\n\n    moved: {token}\n"),
    )
    .unwrap();
    let run = scan_json(dir.path(), &[]);
    let fps: Vec<&str> = run.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fps.len(), 2);
    assert_eq!(fps[0], fps[1]);
}

#[test]
fn no_findings_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("main.rs"),
        "fn main() { println!(\"hi\"); }\n",
    )
    .unwrap();
    patscan()
        .current_dir(dir.path())
        .arg("scan")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("no tokens found"));
}

#[test]
fn a_missing_path_is_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = patscan()
        .current_dir(dir.path())
        .args(["scan", "does-not-exist"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("does-not-exist"));
}

#[test]
fn gitignored_files_are_skipped_unless_asked_and_dot_git_never_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = patscan::tokengen::TokenRng::new(21);
    let a = patscan::tokengen::generate("npm-token", &mut rng).unwrap();
    let b = patscan::tokengen::generate("npm-token", &mut rng).unwrap();
    fs::write(dir.path().join(".gitignore"), "ignored.log\n").unwrap();
    fs::write(dir.path().join("ignored.log"), format!("token {a}\n")).unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    fs::write(
        dir.path().join(".git").join("config"),
        format!("token {b}\n"),
    )
    .unwrap();

    let run = scan_json(dir.path(), &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let run = scan_json(dir.path(), &["--no-ignore"]);
    let paths: Vec<_> = found(&run.json).into_iter().map(|f| f.0).collect();
    assert_eq!(paths, vec!["ignored.log".to_string()]);
}

#[test]
fn binary_files_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let token =
        patscan::tokengen::generate("npm-token", &mut patscan::tokengen::TokenRng::new(3)).unwrap();
    let mut bytes = vec![0u8, 1, 2, 3, 0, 0];
    bytes.extend_from_slice(token.as_bytes());
    fs::write(dir.path().join("blob.bin"), bytes).unwrap();
    let run = scan_json(dir.path(), &[]);
    assert_eq!(run.code, 0);
    assert_eq!(run.json["summary"]["binary_files_skipped"], 1);
}

#[test]
fn a_token_in_the_middle_of_a_multi_megabyte_minified_line_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let token =
        patscan::tokengen::generate("azure-devops-pat", &mut patscan::tokengen::TokenRng::new(4))
            .unwrap();
    let chunk = "function(a,b){return a.map(function(c){return c*b})};var x=\"é\";";
    let half = chunk.repeat(100_000); // ~6.5 MB: crosses the scanner's chunk boundary
    let line = format!("{half}var t=\"{token}\";{half}");
    fs::write(dir.path().join("bundle.min.js"), &line).unwrap();
    let run = scan_json(dir.path(), &[]);
    let findings = found(&run.json);
    let column = half.chars().count() + "var t=\"".len() + 1;
    assert_eq!(
        findings.into_iter().collect::<Vec<_>>(),
        vec![(
            "bundle.min.js".to_string(),
            1,
            column,
            "azure-devops-pat".to_string()
        )]
    );
    let snippet = run.json["findings"][0]["snippet"].as_str().unwrap();
    assert!(
        snippet.chars().count() < 300,
        "snippet is cut around the token"
    );
}

#[test]
fn tokens_on_both_sides_of_a_chunk_boundary_are_each_found_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = patscan::tokengen::TokenRng::new(8);
    let mut text = String::new();
    let mut expected_lines = Vec::new();
    let mut line = 1;
    // Lines of ~100 bytes, a token every few lines, across several chunks.
    while text.len() < 9 << 20 {
        if line % 7919 == 0 {
            let token = patscan::tokengen::generate("github-classic-pat", &mut rng).unwrap();
            text.push_str(&format!("token={token}\n"));
            expected_lines.push(line);
        } else {
            text.push_str(&format!("{line:>8} lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor inc\n"));
        }
        line += 1;
    }
    fs::write(dir.path().join("big.log"), &text).unwrap();
    let run = scan_json(dir.path(), &[]);
    let lines: Vec<usize> = found(&run.json).into_iter().map(|f| f.1).collect();
    assert_eq!(lines, expected_lines);
}

#[test]
fn files_over_the_size_limit_are_warned_about_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("big.txt"), "a".repeat(4096)).unwrap();
    fs::write(dir.path().join("small.txt"), "hello").unwrap();
    let run = scan_json(dir.path(), &["--max-file-size", "1K"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.json["summary"]["large_files_skipped"], 1);
    assert_eq!(run.json["summary"]["files_scanned"], 1);
    assert!(run.stderr.contains("big.txt"), "{}", run.stderr);
}

#[test]
fn invalid_utf8_and_crlf_files_are_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let token =
        patscan::tokengen::generate("npm-token", &mut patscan::tokengen::TokenRng::new(9)).unwrap();
    let mut bytes = b"\xff\xfe\xfa garbage\r\nNPM_TOKEN=".to_vec();
    bytes.extend_from_slice(token.as_bytes());
    bytes.extend_from_slice(b"\r\n\xc3\x28");
    fs::write(dir.path().join("weird.env"), bytes).unwrap();
    let run = scan_json(dir.path(), &[]);
    assert_eq!(
        found(&run.json).into_iter().collect::<Vec<_>>(),
        vec![("weird.env".to_string(), 2, 11, "npm-token".to_string())]
    );
}

#[test]
fn stdin_is_scanned_with_dash() {
    let token = patscan::tokengen::generate(
        "gitlab-pat-routable",
        &mut patscan::tokengen::TokenRng::new(10),
    )
    .unwrap();
    let output = patscan()
        .args(["scan", "-", "--format", "json", "--ungrouped"])
        .write_stdin(format!("line one\nexport T={token}\n"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["findings"][0]["path"], "<stdin>");
    assert_eq!(json["findings"][0]["line"], 2);
}

#[test]
fn output_flag_writes_the_report_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    plant(&fixture_dir("tree"), dir.path(), 14);
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("report.json");
    patscan()
        .current_dir(dir.path())
        .args(["scan", "--format", "json", "--ungrouped", "--output"])
        .arg(&report)
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty());
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(report).unwrap()).unwrap();
    assert!(json["findings"].as_array().unwrap().len() > 10);
}

#[cfg(unix)]
#[test]
fn unreadable_files_fifos_and_symlink_loops_are_warnings_not_failures() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let token =
        patscan::tokengen::generate("npm-token", &mut patscan::tokengen::TokenRng::new(6)).unwrap();
    fs::write(dir.path().join("ok.txt"), format!("{token}\n")).unwrap();
    let locked = dir.path().join("locked.txt");
    fs::write(&locked, "secret").unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let fifo = dir.path().join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    fs::create_dir(dir.path().join("loop")).unwrap();
    symlink("..", dir.path().join("loop").join("up")).unwrap();

    let run = scan_json(dir.path(), &["--follow"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(found(&run.json).len(), 1);
    assert!(run.stderr.contains("pipe"), "{}", run.stderr);
    assert!(run.stderr.to_lowercase().contains("loop"), "{}", run.stderr);
    // Root can read anything; the permission warning only shows for others.
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .unwrap()
        .stdout
        == b"0\n";
    if !is_root {
        assert!(run.stderr.contains("locked.txt"), "{}", run.stderr);
    }
}
