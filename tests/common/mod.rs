//! Shared test helpers: plant fixtures (placeholders filled with generated
//! tokens), run the real binary, read its JSON; [`git`] builds repositories.
#![allow(dead_code)]

pub mod git;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use patscan::tokengen::{fill_template, TokenRng};
use serde_json::Value;

/// A token the fixture filler placed: where a finding must be reported.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Planted {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub rule_id: String,
    pub valid: bool,
    pub token: String,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture_dir(name: &str) -> PathBuf {
    repo_root().join("fixtures").join(name)
}

/// Copies the fixture tree `src` to `dst`, filling every `{{token:…}}` and
/// `{{corrupt:…}}` placeholder; returns what was planted, paths relative to
/// `dst` with `/` separators.
pub fn plant(src: &Path, dst: &Path, seed: u64) -> Vec<Planted> {
    let mut rng = TokenRng::new(seed);
    let mut planted = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let rel = path.strip_prefix(src).unwrap();
            let target = dst.join(rel);
            if path.is_dir() {
                fs::create_dir_all(&target).unwrap();
                stack.push(path);
                continue;
            }
            let text = fs::read_to_string(&path).unwrap();
            let filled = fill_template(&text, &mut rng).unwrap();
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            fs::write(&target, &filled.text).unwrap();
            let rel = rel.to_string_lossy().replace('\\', "/");
            planted.extend(filled.placements.into_iter().map(|p| Planted {
                path: rel.clone(),
                line: p.line,
                column: p.column,
                rule_id: p.family,
                valid: p.valid,
                token: p.token,
            }));
        }
    }
    planted.sort();
    planted
}

pub fn patscan() -> Command {
    let mut cmd = Command::cargo_bin("patscan").unwrap();
    cmd.env_remove("NO_COLOR");
    cmd
}

pub struct JsonRun {
    pub code: i32,
    pub json: Value,
    pub stderr: String,
    pub stdout: String,
}

/// Runs `patscan scan --format json ARGS` in `dir`.
pub fn scan_json(dir: &Path, args: &[&str]) -> JsonRun {
    let output = patscan()
        .current_dir(dir)
        .arg("scan")
        .args(["--format", "json", "--ungrouped"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    JsonRun {
        code: output.status.code().unwrap_or(-1),
        json,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        stdout,
    }
}

/// Where a finding is: (path, line, column, rule).
pub type Spot = (String, usize, usize, String);

/// (path, line, column, rule) of every finding in a JSON report.
pub fn found(json: &Value) -> BTreeSet<Spot> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap() as usize,
                f["column"].as_u64().unwrap() as usize,
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The placements a scan must report: every valid token, and the corrupt
/// look-alikes of formats whose checksum scheme is only inferred (those are
/// still reported, at the rule's own confidence).
pub fn reported(planted: &[Planted]) -> Vec<&Planted> {
    let rules = patscan::rules::builtin().expect("built-in rules compile");
    // An inferred scheme keeps a failing token, unless it is known to be
    // exact at that token's length (a 40-character `ghs_`).
    let inferred = |id: &str, len: usize| {
        rules.rules().iter().any(|r| {
            r.spec.id == id
                && r.spec
                    .checksum
                    .as_ref()
                    .is_some_and(|c| c.inferred && c.exact_length != Some(len))
        })
    };
    planted
        .iter()
        .filter(|p| p.valid || inferred(&p.rule_id, p.token.len()))
        .collect()
}

/// What `found` should return for the placements (see [`reported`]).
pub fn expected(planted: &[Planted]) -> BTreeSet<Spot> {
    reported(planted)
        .into_iter()
        .map(|p| (p.path.clone(), p.line, p.column, p.rule_id.clone()))
        .collect()
}

/// A fresh token of `family`, checksum-valid where the format has one,
/// generated at test time (never committed).
pub fn token(family: &str, seed: u64) -> String {
    patscan::tokengen::generate(family, &mut TokenRng::new(seed)).expect("known family")
}

/// What a run of the binary printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(output: std::process::Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }

    /// Fails if any of `tokens` appears on stdout or stderr.
    pub fn assert_no_leak(&self, tokens: &[&str]) {
        for t in tokens {
            assert!(!self.stdout.contains(t), "token leaked to stdout");
            assert!(!self.stderr.contains(t), "token leaked to stderr");
        }
    }
}
