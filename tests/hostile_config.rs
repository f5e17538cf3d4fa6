//! A config file is input too (a pull request can change it): a rule that
//! would be huge or slow to compile is refused with a clear error, a
//! keyword too short to be selective is refused, one that fires everywhere
//! only costs time in proportion to the text, and nothing in a config can
//! make patscan contact a host.

mod common;
mod emulator;

use std::fs;
use std::path::Path;

use common::*;
use emulator::{Behaviour, Emulator};
use patscan::tokengen::{generate, TokenRng};

/// A custom rule with `pattern` and `keyword`; its example is `example`.
fn rule(pattern: &str, keyword: &str, example: &str) -> String {
    format!(
        "[[rule]]\nid = \"acme-key\"\nname = \"Acme key\"\ndescription = \"d\"\n\
         keywords = [\"{keyword}\"]\npattern = '''{pattern}'''\nmax_length = 64\n\
         examples = ['''{example}''']\n"
    )
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_config(dir: &Path, config: &str, args: &[&str]) -> Run {
    fs::write(dir.join("patscan.toml"), config).unwrap();
    let output = patscan()
        .current_dir(dir)
        .env_remove("PATSCAN_ENDPOINT_OVERRIDES")
        .args(["scan", "--config", "patscan.toml"])
        .args(args)
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn a_pattern_too_long_or_too_big_compiled_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("acme_(?:{})", vec!["[a-z]"; 2000].join(""));
    let cases = [
        (long.as_str(), "longer than 4096 bytes"),
        // Short text, enormous automaton: nested counted repetition.
        ("acme_(?:(?:[a-z]{100}){100}){100}", "limit"),
        ("acme_(?:[a-zA-Z0-9]{1000}){50}", "limit"),
        ("acme_((((((((((((((((((((((((((((((((((((((((((((((((((((x))))))))))))))))))))))))))))))))))))))))))))))))))))", "nest"),
    ];
    for (pattern, expected) in cases {
        let run = run_config(dir.path(), &rule(pattern, "acme_", "acme_x"), &[]);
        assert_eq!(run.code, 2, "{pattern:.40}: {}", run.stderr);
        assert!(run.stderr.contains("acme-key"), "{}", run.stderr);
        assert!(
            run.stderr.contains(expected),
            "{pattern:.40}: {}",
            run.stderr
        );
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    // The same limits apply to the allowlist's regexes.
    let run = run_config(
        dir.path(),
        "[allow]\nregexes = ['''(?:(?:[a-z]{100}){100}){100}''']\n",
        &[],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("allow.regexes[0]"), "{}", run.stderr);
}

#[test]
fn a_keyword_that_would_fire_everywhere_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for keyword in ["", "a", "e=", " "] {
        let config = rule("(?P<secret>e=[a-z]{20})", keyword, "e=abcdefghijklmnopqrst");
        let run = run_config(dir.path(), &config, &[]);
        assert_eq!(run.code, 2, "{keyword:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("at least 3 bytes"),
            "{keyword:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_common_keyword_and_a_backtracking_shaped_pattern_still_scan_in_one_pass() {
    // "the " is in every sentence and `(a|aa)*` explodes a backtracking
    // engine; patscan's regexes are automata, run only in windows of
    // max_length around each keyword hit, so the scan ends and finds the
    // one real key among thousands of near misses.
    let dir = tempfile::tempdir().unwrap();
    let config = rule(
        "(?P<secret>the (?:a|aa)*b[A-Za-z0-9]{16})(?:[^A-Za-z0-9]|$)",
        "the ",
        "x the aaabQm9vZ2xlRm9vQmFy y",
    );
    let near_misses = format!("the {}c\n", "a".repeat(50)).repeat(20_000);
    fs::write(
        dir.path().join("text.txt"),
        format!("{near_misses}and the aabXk29QpL7mZ3vT8wR here\n"),
    )
    .unwrap();
    let run = run_config(dir.path(), &config, &["--format", "json", "--ungrouped"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let found: Vec<_> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == "text.txt")
        .map(|f| (f["line"].as_u64().unwrap(), f["rule_id"].as_str().unwrap()))
        .collect();
    assert_eq!(found, vec![(20_001, "acme-key")]);
}

#[test]
fn a_config_cannot_make_patscan_contact_a_host() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let token = generate("github-classic-pat", &mut TokenRng::new(31)).unwrap();
    emu.set(&token, Behaviour::Active);
    fs::write(dir.path().join("app.env"), format!("GH={token}\n")).unwrap();
    let overrides = emu.overrides();
    let scan = |config: &str| {
        fs::write(dir.path().join("patscan.toml"), config).unwrap();
        let output = patscan()
            .current_dir(dir.path())
            .env("PATSCAN_ENDPOINT_OVERRIDES", &overrides)
            .args([
                "scan",
                "--config",
                "patscan.toml",
                "--verify",
                "--format",
                "json",
                "--ungrouped",
            ])
            .args(["--verify-timeout", "5"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!stdout.contains(&token) && !stderr.contains(&token));
        (output.status.code(), stdout, stderr)
    };

    // A custom rule that matches the very same GitHub token: never checked.
    let custom = format!(
        "disabled_rules = [\"github-classic-pat\"]\n{}",
        rule(
            "(?P<secret>ghp_[A-Za-z0-9]{36})",
            "ghp_",
            "t = {{token:github-classic-pat}}"
        )
    );
    let (code, stdout, stderr) = scan(&custom);
    assert_eq!(code, Some(1), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let finding = &json["findings"][0];
    assert_eq!(finding["rule_id"], "acme-key");
    assert_ne!(finding["verification"]["status"], "active");
    assert_eq!(emu.connections(), 0, "a custom rule's match was sent");

    // Keys that would name a host or an endpoint do not exist.
    for key in [
        "endpoint = \"http://127.0.0.1:1\"\n",
        "[verify]\nhost = \"127.0.0.1\"\n",
        "[[rule]]\nid = \"x\"\nverify_url = \"http://127.0.0.1:1\"\n",
    ] {
        let (code, _, stderr) = scan(key);
        assert_eq!(code, Some(2), "{key}: {stderr}");
        assert!(stderr.contains("unknown field"), "{key}: {stderr}");
    }
    assert_eq!(emu.connections(), 0);

    // The control: the built-in rule does reach the (emulated) issuer, so
    // the counts above can tell.
    let (code, _, stderr) = scan("");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(emu.connections() > 0);
}

/// A TOML syntax error is explained by the parser over several lines (the
/// line, a caret under the fault, the verdict): they print as lines, not
/// one line of literal `\n`s, while a control character quoted from the
/// file stays escaped, so a config cannot write to the terminal.
#[test]
fn a_parse_error_prints_as_lines_with_the_file_s_control_characters_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_config(
        dir.path(),
        "disabled_rules = [\n  \"npm-token\",\n  oops\u{1b}[2J\n]\n",
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(lines.len() >= 3, "one line: {}", run.stderr);
    assert!(
        lines[0].starts_with("patscan: error: invalid config patscan.toml: "),
        "{}",
        run.stderr
    );
    assert!(
        lines[1..].iter().all(|l| l.starts_with("    ")),
        "{}",
        run.stderr
    );
    assert!(
        lines.iter().any(|l| l.contains('^')),
        "no caret: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("\\n"), "literal \\n: {}", run.stderr);
    assert!(!run.stderr.contains('\u{1b}'), "raw escape: {}", run.stderr);
    assert!(run.stderr.contains("\\u{1b}"), "{}", run.stderr);

    // A one-line parser message stays one line.
    let run = run_config(dir.path(), "disabled_rules = [\"no-such-rule\"]\n", &[]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}
