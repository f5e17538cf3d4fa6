//! No output shows a token unless `--show-secrets` is given: every report
//! format, the report file, baselines, warnings, errors and the progress
//! line, over a tree holding plain and disguised tokens. With
//! `--show-secrets` the same outputs do show them, so the check can fail.
//! Also: a reader that goes away (`patscan scan | head -1`) gets a quiet
//! exit.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::sync::OnceLock;

use base64::Engine as _;
use common::*;
use patscan::tokengen::{generate, TokenRng};

/// What must never be printed: each token, and the encoded text it was
/// planted as.
struct Secrets {
    plain: Vec<String>,
    encoded: Vec<String>,
    /// Every piece of every secret in one automaton, built on first use:
    /// over the fixture tree's hundreds of tokens it has tens of thousands
    /// of patterns, and building it for each output checked was half of
    /// this file's time.
    searcher: OnceLock<Searcher>,
}

struct Searcher {
    automaton: aho_corasick::AhoCorasick,
    /// Each pattern, and the secret it is a piece of.
    pieces: Vec<(String, String)>,
}

/// The whole string and every 12-character window past its first four
/// characters (what a masked secret shows), so a cut-off copy is caught too.
fn pieces(secret: &str) -> Vec<String> {
    let chars: Vec<char> = secret.chars().collect();
    let mut out = vec![secret.to_string()];
    for start in 4..=chars.len().saturating_sub(12) {
        out.push(chars[start..start + 12].iter().collect());
    }
    out
}

fn assert_hidden(output: &str, secrets: &Secrets, what: &str) {
    // One pass with every piece of every secret (a `contains` per piece
    // in this unoptimised test binary took minutes over eight formats).
    let searcher = secrets.searcher.get_or_init(|| {
        let mut pieces_of = Vec::new();
        for secret in secrets.plain.iter().chain(&secrets.encoded) {
            for piece in pieces(secret) {
                pieces_of.push((piece, secret.clone()));
            }
        }
        let automaton = aho_corasick::AhoCorasick::new(pieces_of.iter().map(|(p, _)| p)).unwrap();
        Searcher {
            automaton,
            pieces: pieces_of,
        }
    });
    if let Some(hit) = searcher.automaton.find(output) {
        let (piece, secret) = &searcher.pieces[hit.pattern().as_usize()];
        panic!("{what} shows (part of) a secret: {piece:?} of {secret:?}\n{output}");
    }
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

/// The fixture tree, plus tokens in base64, percent-encoding and UTF-16,
/// and two tokens on one line (each snippet shows the other).
fn hostile_tree(dir: &Path) -> Secrets {
    let planted = plant(&fixture_dir("tree"), dir, 21);
    // Tokens with a failed checksum are no secret (nor a finding): only the
    // reported ones are checked.
    let mut plain: Vec<String> = reported(&planted)
        .into_iter()
        .map(|p| p.token.clone())
        .collect();
    let mut encoded = Vec::new();
    let mut rng = TokenRng::new(99);
    let mut token = |family: &str| {
        let t = generate(family, &mut rng).unwrap();
        plain.push(t.clone());
        t
    };
    let ado = token("azure-devops-pat-legacy");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(":{ado}"));
    let gh = token("github-classic-pat");
    let percent: String = gh.bytes().map(|b| format!("%{b:02X}")).collect();
    let npm = token("npm-token");
    let (a, b) = (token("gitlab-pat-routable"), token("atlassian-api-token"));
    fs::create_dir_all(dir.join("encoded")).unwrap();
    fs::write(
        dir.join("encoded/secret.yaml"),
        format!("data:\n  auth: {basic}\n"),
    )
    .unwrap();
    fs::write(
        dir.join("encoded/url.txt"),
        format!("https://example.com/hook?token={percent}&x=1\n"),
    )
    .unwrap();
    fs::write(
        dir.join("encoded/setup.ps1"),
        utf16le(&format!("$env:NPM_TOKEN = \"{npm}\"\r\n")),
    )
    .unwrap();
    fs::write(dir.join("same-line.env"), format!("A={a} B={b}\n")).unwrap();
    encoded.push(basic);
    encoded.push(percent);
    Secrets {
        plain,
        encoded,
        searcher: OnceLock::new(),
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let output = patscan().current_dir(dir).args(args).output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

const FORMATS: &[&str] = &["human", "json", "jsonl", "sarif"];
/// Formats that never show a secret (`--show-secrets` is refused with them).
const PUBLIC_FORMATS: &[&str] = &["github", "azure-pipelines", "gitlab", "markdown", "html"];

#[test]
fn no_output_shows_a_token_without_show_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = hostile_tree(dir.path());
    // Colours only change the human format, and the progress line on
    // stderr is the same whatever the format: asked for once, with it.
    let coloured = run(
        dir.path(),
        &[
            "scan",
            "--format",
            "human",
            "--color",
            "always",
            "--progress",
        ],
    );
    assert_eq!(coloured.code, 1, "{}", coloured.stderr);
    assert_hidden(&coloured.stdout, &secrets, "human with colours on stdout");
    assert_hidden(&coloured.stderr, &secrets, "the progress line on stderr");
    for format in FORMATS.iter().chain(PUBLIC_FORMATS) {
        let out = run(dir.path(), &["scan", "--format", format]);
        assert_eq!(out.code, 1, "{format}: {}", out.stderr);
        assert_hidden(&out.stdout, &secrets, &format!("{format} on stdout"));
        assert_hidden(&out.stderr, &secrets, &format!("stderr of {format}"));
        let report = dir.path().join(format!("report.{format}"));
        let out = run(
            dir.path(),
            &["scan", "--format", format, "-o", report.to_str().unwrap()],
        );
        assert_eq!(out.code, 1);
        let written = fs::read_to_string(&report).unwrap();
        fs::remove_file(&report).unwrap();
        assert!(written.len() > 100, "{format} report is empty");
        assert_hidden(&written, &secrets, &format!("the {format} report file"));
    }
    // Every planted token is found (or the checks above prove little).
    let run_json = scan_json(dir.path(), &[]);
    assert!(run_json.json["summary"]["findings"].as_u64().unwrap() >= 20);
    let encodings: Vec<&str> = run_json.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["encoding"].as_str())
        .collect();
    for encoding in ["base64", "percent", "utf-16le"] {
        assert!(encodings.contains(&encoding), "{encodings:?}");
    }
}

#[test]
fn baselines_warnings_and_errors_show_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = hostile_tree(dir.path());
    let out = run(dir.path(), &["baseline", "-o", "baseline.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_hidden(&out.stderr, &secrets, "baseline's stderr");
    let baseline = fs::read_to_string(dir.path().join("baseline.json")).unwrap();
    assert_hidden(&baseline, &secrets, "the baseline file");
    let out = run(dir.path(), &["baseline"]);
    assert_hidden(&out.stdout, &secrets, "the baseline on stdout");

    // Stale entries: the tokens are gone, the warnings name them.
    fs::remove_file(dir.path().join("same-line.env")).unwrap();
    let out = run(dir.path(), &["scan", "--baseline", "baseline.json"]);
    assert!(
        out.stderr.contains("stale baseline entry"),
        "{}",
        out.stderr
    );
    assert_hidden(&out.stderr, &secrets, "stale-entry warnings");

    // A token pasted into the baseline instead of its hash.
    let token = &secrets.plain[0];
    fs::write(
        dir.path().join("pasted.json"),
        format!("{{\"version\": 1, \"entries\": [{{\"rule_id\": \"x\", \"secret_sha256\": \"{token}\"}}]}}"),
    )
    .unwrap();
    let out = run(dir.path(), &["scan", "--baseline", "pasted.json"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("secret_sha256"), "{}", out.stderr);
    assert_hidden(&out.stderr, &secrets, "a baseline error");

    // A config syntax error on the line that holds a token: TOML errors
    // quote the line.
    fs::write(
        dir.path().join("bad.toml"),
        format!("[allow]\nvalues = [\"{token}\", oops]\n"),
    )
    .unwrap();
    let out = run(dir.path(), &["scan", "--config", "bad.toml"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("bad.toml"), "{}", out.stderr);
    assert!(out.stderr.contains("values"), "{}", out.stderr);
    assert_hidden(&out.stderr, &secrets, "a config error");

    // A wrong type quotes the value it rejects.
    fs::write(
        dir.path().join("typed.json"),
        format!("{{\"version\": \"{token}\", \"entries\": []}}"),
    )
    .unwrap();
    let out = run(dir.path(), &["scan", "--baseline", "typed.json"]);
    assert_eq!(out.code, 2);
    assert_hidden(&out.stderr, &secrets, "a baseline type error");
}

#[test]
fn with_show_secrets_every_format_shows_the_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = hostile_tree(dir.path());
    for format in FORMATS {
        let out = run(dir.path(), &["scan", "--format", format, "--show-secrets"]);
        assert_eq!(out.code, 1);
        for token in &secrets.plain[secrets.plain.len() - 5..] {
            assert!(
                out.stdout.contains(token.as_str()),
                "{format} --show-secrets does not show {token}"
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn a_reader_that_leaves_early_gets_a_quiet_exit() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = TokenRng::new(3);
    // Far more output than a pipe buffers, so patscan is still writing
    // when the reader goes.
    let text: String = (0..3000)
        .map(|_| format!("token = {}\n", generate("npm-token", &mut rng).unwrap()))
        .collect();
    fs::write(dir.path().join("many.txt"), text).unwrap();
    for format in FORMATS {
        let mut child = Process::new(env!("CARGO_BIN_EXE_patscan"))
            .current_dir(dir.path())
            .args(["scan", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        // The reader is dropped here: patscan's next write fails with EPIPE.
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.is_empty(), "{format}: {stderr}");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{format}: {:?}",
            output.status
        );
    }
}
