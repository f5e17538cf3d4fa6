//! The CI formats through the real binary: GitHub workflow commands, Azure
//! Pipelines logging commands, `--annotations` under GITHUB_ACTIONS /
//! TF_BUILD with the job summaries, the GitLab Secret Detection report
//! (validated against GitLab's schema), the Markdown summary, and SARIF
//! kept within code scanning's limits. Every token is generated at test
//! time; none may appear in any of these outputs.

mod common;

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use assert_cmd::Command;
use common::git::Repo;
use common::*;
use patscan::tokengen::{generate, TokenRng};
use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// patscan with no CI platform in its environment (the suite may itself
/// run on one); tests add the variables they are about.
fn bare() -> Command {
    let mut cmd = patscan();
    for var in [
        "GITHUB_ACTIONS",
        "GITHUB_STEP_SUMMARY",
        "TF_BUILD",
        "AGENT_TEMPDIRECTORY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn run_with(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = bare();
    for (key, value) in env {
        cmd.env(key, value);
    }
    let output = cmd.current_dir(dir).args(args).output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn run(dir: &Path, args: &[&str]) -> Run {
    run_with(dir, &[], args)
}

fn token(family: &str, seed: u64) -> String {
    generate(family, &mut TokenRng::new(seed)).unwrap()
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn assert_masked(text: &str, tokens: &[&str], what: &str) {
    for token in tokens {
        assert!(!text.contains(token), "{what} shows a token:\n{text}");
        // Nor any part past the four characters a masked token shows.
        assert!(
            !text.contains(&token[4..16]),
            "{what} shows part of a token"
        );
    }
}

/// A tree with a high-confidence token copied into two files (one with a
/// comma and a colon in its name, which end GitHub property values) and a
/// medium-confidence one.
struct Tree {
    dir: tempfile::TempDir,
    github: String,
    huggingface: String,
}

fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let github = token("github-classic-pat", 1);
    let huggingface = token("huggingface-token", 2);
    write(
        dir.path(),
        "config/app.env",
        &format!("# app\nGH={github}\n"),
    );
    write(dir.path(), "odd,name:x.env", &format!("TOKEN={github}\n"));
    write(
        dir.path(),
        "src/hf.py",
        &format!("HF = \"{huggingface}\"\n"),
    );
    Tree {
        dir,
        github,
        huggingface,
    }
}

impl Tree {
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn tokens(&self) -> [&str; 2] {
        [&self.github, &self.huggingface]
    }
}

// ------------------------------------------------------------- GitHub

#[test]
fn github_format_writes_one_escaped_masked_workflow_command_per_place() {
    let tree = tree();
    let out = run(tree.path(), &["scan", "--format", "github"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_masked(&out.stdout, &tree.tokens(), "--format github");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    // The high-confidence secret first, both of its places, as errors.
    assert!(
        lines[0].starts_with("::error file=config/app.env,line=2,endLine=2,col=4,"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("::error file=odd%2Cname%3Ax.env,line=1,"),
        "{}",
        lines[1]
    );
    assert!(lines[0].contains("The same secret is in 1 other place."));
    assert!(lines[0].contains("ghp_…[40 chars]"));
    assert!(
        lines[2].starts_with("::warning file=src/hf.py,line=1,"),
        "{}",
        lines[2]
    );
}

#[test]
fn annotations_under_github_actions_add_commands_and_append_the_step_summary() {
    let tree = tree();
    let summary = tree.path().join("summary.md");
    fs::write(&summary, "# Earlier step\n").unwrap();
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
    ];
    // A pull request's file whose line would be a workflow command when
    // the human report quotes it.
    let npm = token("npm-token", 3);
    write(
        tree.path(),
        "evil.txt",
        &format!("::error::injected {npm}\n"),
    );
    let out = run_with(tree.path(), &env, &["scan", "--annotations", "-j", "1"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    // Commands off, the human report, commands back on, the annotations.
    let lines: Vec<&str> = out.stdout.lines().collect();
    let stop = lines[0]
        .strip_prefix("::stop-commands::")
        .expect("commands paused");
    assert_eq!(stop.len(), 32, "{stop}");
    assert!(lines[1].starts_with("config/app.env:2:4: github-classic-pat"));
    let resume = lines
        .iter()
        .position(|l| *l == format!("::{stop}::"))
        .unwrap();
    let quoted = lines
        .iter()
        .position(|l| l.contains("::error::injected"))
        .unwrap();
    assert!(quoted < resume, "{}", out.stdout);
    let commands: Vec<&str> = lines[resume + 1..].to_vec();
    assert_eq!(commands.len(), 4, "{}", out.stdout);
    assert!(commands
        .iter()
        .all(|l| l.starts_with("::error ") || l.starts_with("::warning ")));
    assert_masked(&out.stdout, &tree.tokens(), "annotations");
    let written = fs::read_to_string(&summary).unwrap();
    assert!(
        written.starts_with("# Earlier step\n## patscan: 3 leaked secrets"),
        "{written}"
    );
    assert!(written.contains("| 1 | `ghp_…[40 chars]` |"), "{written}");
    assert_masked(&written, &tree.tokens(), "the step summary");

    // --format github on stdout: the commands once, not twice.
    let out = run_with(
        tree.path(),
        &env,
        &["scan", "--annotations", "--format", "github"],
    );
    assert_eq!(out.stdout.lines().count(), 4, "{}", out.stdout);
    assert!(!out.stdout.contains("stop-commands"), "{}", out.stdout);
    // The report to a file: the annotations still reach the log.
    let out = run_with(
        tree.path(),
        &env,
        &[
            "scan",
            "--annotations",
            "--format",
            "sarif",
            "-o",
            "out.sarif",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 4, "{}", out.stdout);
    assert!(tree.path().join("out.sarif").exists());
}

#[test]
fn annotations_outside_ci_only_say_so() {
    let tree = tree();
    let out = run(tree.path(), &["scan", "--annotations", "--format", "json"]);
    assert_eq!(out.code, 1);
    serde_json::from_str::<Value>(&out.stdout).expect("only the JSON report on stdout");
    assert!(out.stderr.contains("--annotations"), "{}", out.stderr);
    let out = run(tree.path(), &["scan", "--annotations", "--quiet"]);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

// ------------------------------------------------------ Azure Pipelines

#[test]
fn azure_pipelines_logging_commands_and_uploaded_summary() {
    let tree = tree();
    let out = run(tree.path(), &["scan", "--format", "azure-pipelines"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert!(
        lines[0].starts_with(
            "##vso[task.logissue type=error;sourcepath=config/app.env;linenumber=2;columnnumber=4;code=github-classic-pat;]"
        ),
        "{}",
        lines[0]
    );
    assert!(lines[2].starts_with("##vso[task.logissue type=warning;sourcepath=src/hf.py;"));
    assert_masked(&out.stdout, &tree.tokens(), "--format azure-pipelines");

    // Under TF_BUILD, with --annotations and the human format.
    let temp = tempfile::tempdir().unwrap();
    let env = [
        ("TF_BUILD", "True"),
        ("AGENT_TEMPDIRECTORY", temp.path().to_str().unwrap()),
    ];
    let out = run_with(tree.path(), &env, &["scan", "--annotations"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let issues = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("##vso[task.logissue "))
        .count();
    assert_eq!(issues, 3, "{}", out.stdout);
    let upload = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("##vso[task.uploadsummary]"))
        .expect("an uploadsummary command");
    assert!(Path::new(upload).starts_with(temp.path()), "{upload}");
    let summary = fs::read_to_string(upload).unwrap();
    assert!(
        summary.starts_with("## patscan: 2 leaked secrets"),
        "{summary}"
    );
    assert_masked(&summary, &tree.tokens(), "the Azure summary");
    assert_masked(&out.stdout, &tree.tokens(), "the Azure annotations");
}

#[test]
fn under_azure_pipelines_a_quoted_logging_command_in_a_report_is_inert() {
    // A line of a scanned file (a pull request controls it) quoted in the
    // report would be run by the agent: set a variable, fail the build.
    let dir = tempfile::tempdir().unwrap();
    let github = token("github-classic-pat", 7);
    let line = format!("echo '##vso[task.setvariable variable=Gate]open' # {github}");
    write(dir.path(), "ci/deploy.sh", &format!("{line}\n"));
    let env = [("TF_BUILD", "True")];
    for format in [
        "human", "json", "jsonl", "sarif", "html", "markdown", "gitlab",
    ] {
        let out = run_with(dir.path(), &env, &["scan", "--format", format]);
        assert_eq!(out.code, 1, "{format}: {}", out.stderr);
        assert!(
            !out.stdout.contains("##vso["),
            "--format {format} carries a logging command:\n{}",
            out.stdout
        );
        assert_masked(&out.stdout, &[&github], format);
    }
    // JSON keeps the quoted text as it is, once parsed.
    let out = run_with(dir.path(), &env, &["scan", "--format", "json"]);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(report
        .to_string()
        .contains("##vso[task.setvariable variable=Gate]open"));
    // Outside Azure Pipelines nothing is rewritten.
    let out = run(dir.path(), &["scan"]);
    assert!(
        out.stdout.contains("##vso[task.setvariable"),
        "{}",
        out.stdout
    );
}

#[test]
fn under_azure_pipelines_a_warning_quoting_a_hostile_path_is_inert() {
    // The agent reads stderr too: a file name is as much the pull
    // request's as a line of a file.
    let dir = tempfile::tempdir().unwrap();
    let name = "##vso[task.setvariable variable=Gate]open.zip";
    write(dir.path(), name, "PK\u{3}\u{4} not a zip archive");
    let out = run_with(dir.path(), &[("TF_BUILD", "True")], &["scan"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("task.setvariable variable=Gate]open.zip")
            && out.stderr.contains("not a readable zip archive"),
        "the problem is not reported: {}",
        out.stderr
    );
    assert!(!out.stderr.contains("##vso["), "{}", out.stderr);
    // Outside Azure Pipelines the name is quoted as it is.
    let out = run(dir.path(), &["scan"]);
    assert!(out.stderr.contains(name), "{}", out.stderr);
}

#[test]
fn control_characters_from_scanned_input_are_escaped_in_the_human_report() {
    // An escape sequence or carriage return in a scanned line or path could
    // repaint the terminal or forge a line of the report (or a workflow
    // command at the start of a CI log line).
    let dir = tempfile::tempdir().unwrap();
    let github = token("github-classic-pat", 9);
    let line = format!("token = \"{github}\" # \u{1b}[2K\r::error::clean\u{7}");
    write(dir.path(), "conf/a\u{1b}[8mb.env", &format!("{line}\n"));
    let out = run(dir.path(), &["scan", "--color", "never"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!out.stdout.contains('\u{1b}'), "{:?}", out.stdout);
    assert!(!out.stdout.contains('\r'), "{:?}", out.stdout);
    assert!(!out.stdout.contains('\u{7}'), "{:?}", out.stdout);
    assert!(
        out.stdout.contains("conf/a\\u{1b}[8mb.env:1:")
            && out.stdout.contains("\\u{1b}[2K\\r::error::clean\\u{7}"),
        "{}",
        out.stdout
    );
    assert_masked(&out.stdout, &[&github], "the human report");
}

// -------------------------------------------------------------- GitLab

fn assert_valid_gitlab(report: &Value) {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let path = "tests/schemas/gitlab-secret-detection-report-format-15.2.1.json";
        let text = fs::read_to_string(repo_root().join(path)).unwrap();
        jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
    });
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "not a valid Secret Detection report:\n{}\n{report:#}",
        errors.join("\n")
    );
}

#[test]
fn gitlab_report_validates_against_gitlab_s_schema_with_stable_ids() {
    let tree = tree();
    // A file that cannot be scanned becomes a scan message.
    write(tree.path(), "big.txt", &"x".repeat(4096));
    let args = ["scan", "--format", "gitlab", "--max-file-size", "1K"];
    let out = run(tree.path(), &args);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_masked(&out.stdout, &tree.tokens(), "--format gitlab");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_valid_gitlab(&report);
    assert_eq!(report["version"], "15.2.1");
    assert_eq!(report["scan"]["type"], "secret_detection");
    assert_eq!(report["scan"]["status"], "success");
    assert_eq!(report["scan"]["analyzer"]["id"], "patscan");
    assert_eq!(report["scan"]["messages"][0]["level"], "warn");
    let vulns = report["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 3);
    assert_eq!(vulns[0]["severity"], "Critical");
    assert_eq!(vulns[0]["location"]["file"], "config/app.env");
    assert_eq!(vulns[0]["location"]["start_line"], 2);
    assert_eq!(vulns[0]["identifiers"][0]["value"], "github-classic-pat");
    assert_eq!(vulns[2]["severity"], "Medium");
    let ids: Vec<&str> = vulns.iter().map(|v| v["id"].as_str().unwrap()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), 3, "one id per place: {ids:?}");
    let uuid =
        regex::Regex::new("^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
            .unwrap();
    assert!(ids.iter().all(|id| uuid.is_match(id)), "{ids:?}");
    // The same scan again: the same ids, so GitLab tracks them.
    let again: Value = serde_json::from_str(&run(tree.path(), &args).stdout).unwrap();
    let again_ids: Vec<&str> = again["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, again_ids);
}

#[test]
fn gitlab_report_of_a_history_scan_names_each_commit() {
    let repo = Repo::init();
    let secret = token("npm-token", 7);
    repo.add("deploy.sh", &format!("export NPM_TOKEN={secret}\n"));
    let added = repo.commit("add deploy script");
    repo.add("deploy.sh", "export NPM_TOKEN=$NPM_TOKEN\n");
    repo.commit("read the token from the environment");
    let out = run(repo.path(), &["scan", "--history", "--format", "gitlab"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_masked(&out.stdout, &[&secret], "the history report");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_valid_gitlab(&report);
    let commit = &report["vulnerabilities"][0]["location"]["commit"];
    assert_eq!(commit["sha"], added.as_str());
    assert_eq!(commit["message"], "add deploy script");
    assert!(commit["author"].as_str().unwrap().contains("Ada Tester"));
}

#[test]
fn gitlab_report_with_no_findings_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "clean.txt", "nothing here\n");
    let out = run(dir.path(), &["scan", "--format", "gitlab"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_valid_gitlab(&report);
    assert_eq!(report["vulnerabilities"].as_array().unwrap().len(), 0);
}

// ------------------------------------------------------------ Markdown

#[test]
fn markdown_summary_is_per_secret_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = TokenRng::new(11);
    let tokens: Vec<String> = (0..60)
        .map(|_| generate("npm-token", &mut rng).unwrap())
        .collect();
    let text: String = tokens.iter().map(|t| format!("t={t}\n")).collect();
    write(dir.path(), "many.txt", &text);
    // One of them copied: still one row.
    write(dir.path(), "copy.txt", &format!("again={}\n", tokens[0]));
    let out = run(dir.path(), &["scan", "--format", "markdown"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    assert_masked(&out.stdout, &refs, "--format markdown");
    assert!(out.stdout.starts_with("## patscan: 60 leaked secrets\n"));
    assert!(
        out.stdout.contains("60 secrets in 61 places"),
        "{}",
        out.stdout
    );
    let rows = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
        .count();
    assert_eq!(rows, 50, "{}", out.stdout);
    assert!(
        out.stdout.contains("\nand 10 more secrets: "),
        "{}",
        out.stdout
    );
    // The copied secret lists both places; how to revoke follows, once per rule.
    assert!(
        out.stdout.contains("`copy.txt:1` and `many.txt:1`"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stdout.matches("(`npm-token`): ").count(), 1);

    let clean = tempfile::tempdir().unwrap();
    write(clean.path(), "a.txt", "nothing\n");
    let out = run(clean.path(), &["scan", "--format", "markdown"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.starts_with("## patscan: no leaked secrets"),
        "{}",
        out.stdout
    );
}

// ------------------------------------------------------- --show-secrets

#[test]
fn public_formats_refuse_show_secrets() {
    let tree = tree();
    for format in ["github", "azure-pipelines", "gitlab", "markdown"] {
        let out = run(tree.path(), &["scan", "--format", format, "--show-secrets"]);
        assert_eq!(out.code, 2, "{format}: {}", out.stdout);
        assert!(out.stdout.is_empty(), "{format}: {}", out.stdout);
        assert!(
            out.stderr
                .contains("--show-secrets does not combine with --format"),
            "{format}: {}",
            out.stderr
        );
    }
    // Annotations next to a private report stay masked.
    let env = [("GITHUB_ACTIONS", "true")];
    let out = run_with(
        tree.path(),
        &env,
        &["scan", "--annotations", "--show-secrets"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let commands: String = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error ") || l.starts_with("::warning "))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(commands.lines().count(), 3);
    assert_masked(&commands, &tree.tokens(), "annotations with --show-secrets");
    assert!(
        out.stdout.contains(&tree.github),
        "the human report does show it"
    );
}

// --------------------------------------------------------------- SARIF

#[test]
fn sarif_over_code_scanning_s_limit_keeps_the_highest_ranked_25000_results() {
    // Through the binary, at GitHub's real limit: 25,600 findings, 12,800
    // checksum-verified npm tokens (level error) and 12,800 Hugging Face
    // tokens (entropy only, level warning), in 16 files of 1,600 lines.
    // Which results are kept, and in what order, is the unit test
    // `report::sarif::tests::a_run_over_the_result_limit…`, at a limit of
    // 250: here, that the CLI applies the limit and says so.
    let dir = tempfile::tempdir().unwrap();
    let mut rng = TokenRng::new(40_000);
    for file in 0..16 {
        let mut text = String::with_capacity(1_600 * 50);
        for _ in 0..800 {
            text.push_str(&format!(
                "hf={}\n",
                generate("huggingface-token", &mut rng).unwrap()
            ));
            text.push_str(&format!(
                "npm={}\n",
                generate("npm-token", &mut rng).unwrap()
            ));
        }
        write(dir.path(), &format!("dump/d{file:02}.txt"), &text);
    }
    let out = run(
        dir.path(),
        &["scan", "dump", "--format", "sarif", "-o", "out.sarif"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("SARIF: 600 results left out, the lowest-ranked"),
        "{}",
        out.stderr
    );
    let log: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("out.sarif")).unwrap()).unwrap();
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 25_000);
    assert_eq!(run["properties"]["patscan/omittedResults"], 600);
    assert!(run["properties"]["patscan/omittedReason"]
        .as_str()
        .unwrap()
        .contains("25000 results"));
    let errors = results.iter().filter(|r| r["level"] == "error").count();
    assert_eq!(errors, 12_800, "every error-level result is kept");
}
