//! The CI integrations are code that runs in users' pipelines: the GitHub
//! Action (`action.yml`), the Azure Pipelines steps template and the Azure
//! Pipelines task (`integrations/azure-pipelines/`). Each is checked against
//! what its platform requires (the published schema where one exists), then
//! run here the way the platform runs it: the scripts of its steps, with the
//! environment the runner or agent gives them, the expressions expanded
//! from the inputs, and step outputs and pipeline variables passed on as the
//! platform passes them. The scans are real, on repositories built here.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use common::git::{git_in, Repo};
use common::{repo_root, token};

fn patscan_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("patscan")
}

fn yaml_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

fn json_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn assert_valid(schema_file: &str, document: &Value, what: &str) {
    let schema = json_file(&repo_root().join("tests/schemas").join(schema_file));
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{what} is not valid: {errors:#?}");
}

/// `${{ … }}` expressions in `text`, expanded by `lookup` (which panics on
/// one it does not know, so a new expression gets a test).
fn expand(text: &str, lookup: &dyn Fn(&str) -> String) -> String {
    let expression = regex::Regex::new(r"\$\{\{\s*(.*?)\s*\}\}").unwrap();
    expression
        .replace_all(text, |caps: &regex::Captures<'_>| lookup(&caps[1]))
        .into_owned()
}

fn expressions(text: &str) -> Vec<String> {
    let expression = regex::Regex::new(r"\$\{\{\s*(.*?)\s*\}\}").unwrap();
    expression
        .captures_iter(text)
        .map(|c| c[1].to_string())
        .collect()
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => panic!("not a scalar: {other}"),
    }
}

/// Runs one step's script as the platform does: written to a file, run
/// by bash with `flags`, in `cwd`, with exactly `env` (plus PATH and HOME).
fn run_script(script: &str, flags: &[&str], cwd: &Path, env: &BTreeMap<String, String>) -> Output {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), script).unwrap();
    Command::new("bash")
        .args(["--noprofile", "--norc"])
        .args(flags)
        .arg(file.path())
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .envs(env)
        .output()
        .expect("bash runs")
}

/// A repository with one GitHub token committed in `config/app.env`, and
/// an `origin` it was pushed to (pull request builds fetch from it).
struct Checkout {
    _origin: tempfile::TempDir,
    repo: Repo,
    token: String,
}

fn checkout_with_token(seed: u64) -> Checkout {
    let origin = tempfile::tempdir().unwrap();
    git_in(origin.path(), &["init", "-q", "--bare"]);
    let repo = Repo::init();
    let token = token("github-classic-pat", seed);
    repo.add("README.md", "# service\n");
    repo.add("config/app.env", &format!("GITHUB_TOKEN={token}\n"));
    repo.commit("add config");
    let url = origin.path().to_string_lossy().into_owned();
    repo.git(&["remote", "add", "origin", &url]);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.git(&["fetch", "-q", "origin"]);
    Checkout {
        _origin: origin,
        repo,
        token,
    }
}

impl Checkout {
    /// A branch off main that adds a second token; returns it.
    fn pull_request_adding_token(&self, seed: u64) -> String {
        let added = token("gitlab-pat-routable", seed);
        self.repo.git(&["checkout", "-q", "-b", "feature"]);
        self.repo
            .add("deploy/ci.sh", &format!("export GITLAB_TOKEN={added}\n"));
        self.repo.commit("deploy script");
        added
    }
}

fn sarif_paths(sarif: &Value) -> Vec<String> {
    sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn assert_absent(haystacks: &[(&str, &str)], secrets: &[&str]) {
    for (what, text) in haystacks {
        for secret in secrets {
            assert!(!text.contains(secret), "a secret is in the {what}");
        }
    }
}

// ---------------------------------------------------------------- GitHub

/// The composite action's steps, run as the runner runs them.
struct ActionRun {
    /// The exit code of the step that failed the job, or 0.
    code: i32,
    stdout: String,
    stderr: String,
    /// `steps.<id>.outputs.<name>`.
    outputs: BTreeMap<String, String>,
    summary: String,
    /// The `uses:` steps reached, with their `with:` expanded.
    used: Vec<(String, BTreeMap<String, String>)>,
}

fn action() -> Value {
    yaml_file(&repo_root().join("action.yml"))
}

fn run_action(repo: &Path, inputs: &[(&str, &str)], env: &[(&str, &str)]) -> ActionRun {
    let action = action();
    let mut values: BTreeMap<String, String> = action["inputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, spec)| (name.clone(), scalar(&spec["default"])))
        .collect();
    for (name, value) in inputs {
        assert!(values.contains_key(*name), "no input {name}");
        values.insert(name.to_string(), value.to_string());
    }
    let runner = tempfile::tempdir().unwrap();
    let summary = runner.path().join("step-summary.md");
    let mut base: BTreeMap<String, String> = [
        ("GITHUB_ACTIONS", "true".to_string()),
        ("CI", "true".to_string()),
        ("GITHUB_WORKSPACE", repo.display().to_string()),
        ("RUNNER_TEMP", runner.path().display().to_string()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
        ("GITHUB_ACTION_PATH", repo_root().display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in env {
        base.insert(k.to_string(), v.to_string());
    }

    let mut outputs: BTreeMap<String, String> = BTreeMap::new();
    let mut run = ActionRun {
        code: 0,
        stdout: String::new(),
        stderr: String::new(),
        outputs: BTreeMap::new(),
        summary: String::new(),
        used: Vec::new(),
    };
    for (index, step) in action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let lookup = |expr: &str| -> String {
            if let Some(name) = expr.strip_prefix("inputs.") {
                return values
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| panic!("no input {name}"));
            }
            if expr == "github.action_path" {
                return repo_root().display().to_string();
            }
            if let Some(rest) = expr.strip_prefix("steps.") {
                return outputs.get(rest).cloned().unwrap_or_default();
            }
            panic!("the test does not know the expression {expr:?}");
        };
        if let Some(uses) = step["uses"].as_str() {
            // Reached only with `if: always() && …`: the condition is the
            // platform's; the test checks the inputs it would get.
            let with = step["with"]
                .as_object()
                .map(|w| {
                    w.iter()
                        .map(|(k, v)| (k.clone(), expand(&scalar(v), &lookup)))
                        .collect()
                })
                .unwrap_or_default();
            run.used.push((uses.to_string(), with));
            continue;
        }
        if run.code != 0 {
            continue; // a failed step skips the ones after it
        }
        let script = step["run"].as_str().expect("a run step");
        assert_eq!(step["shell"], "bash", "step {index} names its shell");
        let output_file = runner.path().join(format!("output-{index}"));
        std::fs::write(&output_file, "").unwrap();
        let mut env = base.clone();
        env.insert("GITHUB_OUTPUT".into(), output_file.display().to_string());
        if let Some(step_env) = step["env"].as_object() {
            for (k, v) in step_env {
                env.insert(k.clone(), expand(&scalar(v), &lookup));
            }
        }
        // `shell: bash` is `bash --noprofile --norc -eo pipefail {0}`.
        let out = run_script(script, &["-eo", "pipefail"], repo, &env);
        run.stdout.push_str(&String::from_utf8_lossy(&out.stdout));
        run.stderr.push_str(&String::from_utf8_lossy(&out.stderr));
        if let Some(id) = step["id"].as_str() {
            for line in std::fs::read_to_string(&output_file).unwrap().lines() {
                if let Some((name, value)) = line.split_once('=') {
                    outputs.insert(format!("{id}.outputs.{name}"), value.to_string());
                }
            }
        }
        run.code = out.status.code().unwrap_or(-1);
    }
    run.outputs = outputs;
    run.summary = std::fs::read_to_string(&summary).unwrap_or_default();
    run
}

#[test]
fn the_action_metadata_is_valid_and_its_scripts_take_inputs_only_through_env() {
    let action = action();
    assert_valid("github-action.json", &action, "action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    let inputs = action["inputs"].as_object().unwrap();
    let step_ids: Vec<&str> = action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    let text = std::fs::read_to_string(repo_root().join("action.yml")).unwrap();
    for expr in expressions(&text) {
        let known = expr == "github.action_path"
            || expr
                .strip_prefix("inputs.")
                .is_some_and(|name| inputs.contains_key(name))
            || expr
                .strip_prefix("steps.")
                .and_then(|rest| rest.split('.').next())
                .is_some_and(|id| step_ids.contains(&id))
            || expr.starts_with("always() && inputs.upload-sarif == 'true'");
        assert!(known, "an expression naming nothing: {expr}");
    }
    for step in action["runs"]["steps"].as_array().unwrap() {
        if let Some(script) = step["run"].as_str() {
            assert!(
                !script.contains("${{"),
                "an expression spliced into a script is a shell injection: {script}"
            );
        }
    }
}

#[test]
fn the_action_annotates_summarises_writes_sarif_and_fails_on_a_new_token() {
    let checkout = checkout_with_token(401);
    let bin = patscan_bin();
    let run = run_action(
        checkout.repo.path(),
        &[("patscan-path", &bin.to_string_lossy())],
        &[],
    );
    assert_eq!(
        run.code, 1,
        "the last step fails the job: {}{}",
        run.stdout, run.stderr
    );
    assert_eq!(run.outputs["scan.outputs.exit-code"], "1");
    assert!(
        run.stdout.contains("::error file=config/app.env,line=1"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("::error title=patscan::leaked tokens found"));
    assert!(run.summary.contains("patscan") && run.summary.contains("config/app.env"));

    let sarif_file = &run.outputs["scan.outputs.sarif-file"];
    let sarif = json_file(&checkout.repo.path().join(sarif_file));
    assert_eq!(sarif_paths(&sarif), ["config/app.env"]);
    // The upload step gets the log the scan wrote.
    let (uses, with) = &run.used[0];
    assert!(uses.starts_with("github/codeql-action/upload-sarif@"));
    assert_eq!(&with["sarif_file"], sarif_file);

    let sarif_text = sarif.to_string();
    assert_absent(
        &[
            ("log", &run.stdout),
            ("stderr", &run.stderr),
            ("job summary", &run.summary),
            ("SARIF log", &sarif_text),
        ],
        &[&checkout.token],
    );
}

#[test]
fn the_action_passes_when_the_only_token_is_in_the_baseline() {
    let checkout = checkout_with_token(402);
    let baseline = common::patscan()
        .current_dir(checkout.repo.path())
        .args(["baseline", "--output", ".patscan-baseline.json"])
        .output()
        .unwrap();
    assert!(
        baseline.status.success(),
        "{}",
        String::from_utf8_lossy(&baseline.stderr)
    );
    let bin = patscan_bin();
    let run = run_action(
        checkout.repo.path(),
        &[("patscan-path", &bin.to_string_lossy())],
        &[],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.outputs["scan.outputs.exit-code"], "0");
    assert!(run.stdout.contains("patscan: no new tokens"));
    assert!(!run.stdout.contains("::error file="));
}

#[test]
fn in_a_pull_request_the_action_scans_only_the_commits_it_adds() {
    let checkout = checkout_with_token(403);
    let added = checkout.pull_request_adding_token(404);
    let bin = patscan_bin();
    let bin = bin.to_string_lossy();
    let tree = run_action(checkout.repo.path(), &[("patscan-path", &bin)], &[]);
    let tree_sarif = json_file(&checkout.repo.path().join("patscan.sarif"));
    assert_eq!(tree.code, 1);
    assert_eq!(
        sarif_paths(&tree_sarif).len(),
        2,
        "the tree has both tokens"
    );

    let pr = run_action(
        checkout.repo.path(),
        &[("patscan-path", &bin), ("range", "pull-request")],
        &[("GITHUB_BASE_REF", "main")],
    );
    assert_eq!(pr.code, 1, "{}{}", pr.stdout, pr.stderr);
    let sarif = json_file(&checkout.repo.path().join("patscan.sarif"));
    assert_eq!(
        sarif_paths(&sarif),
        ["deploy/ci.sh"],
        "only what the PR adds"
    );
    assert_absent(
        &[
            ("log", &pr.stdout),
            ("stderr", &pr.stderr),
            ("summary", &pr.summary),
        ],
        &[&checkout.token, &added],
    );

    // Outside a pull request `pull-request` falls back to the tree, and says so.
    let push = run_action(
        checkout.repo.path(),
        &[("patscan-path", &bin), ("range", "pull-request")],
        &[],
    );
    assert!(push
        .stdout
        .contains("not a pull request build; scanning the tree"));
    assert_eq!(push.outputs["scan.outputs.exit-code"], "1");
}

#[test]
fn an_unknown_fail_on_value_stops_the_action_with_a_clear_message() {
    let checkout = checkout_with_token(405);
    let bin = patscan_bin();
    let run = run_action(
        checkout.repo.path(),
        &[
            ("patscan-path", &bin.to_string_lossy()),
            ("fail-on", "critical"),
        ],
        &[],
    );
    assert_eq!(run.code, 2);
    assert!(run
        .stdout
        .contains("fail-on must be low, medium, high or never"));
    assert!(!run.outputs.contains_key("scan.outputs.exit-code"));
}

// --------------------------------------------------------- Azure Pipelines

fn template() -> Value {
    yaml_file(&repo_root().join("integrations/azure-pipelines/patscan.yml"))
}

/// A value the agent would hold as the pipeline's own token: it must not
/// reach any output.
const PIPELINE_TOKEN: &str = "pipeline-access-token-7f3e9a2c41d8b6e0";

struct AgentRun {
    /// The exit code of the step that failed the job, or 0.
    code: i32,
    stdout: String,
    stderr: String,
    variables: BTreeMap<String, String>,
    /// The `task:` steps reached, with their inputs (macros expanded).
    tasks: Vec<(String, BTreeMap<String, String>)>,
    staging: PathBuf,
    _agent: tempfile::TempDir,
}

/// The first logging command of a line, as the agent reads it (one per
/// line): `(area.event, properties, data)`.
fn logging_command(line: &str) -> Option<(String, String, String)> {
    let start = line.find("##vso[")? + 6;
    let rest = &line[start..];
    let end = rest.find(']')?;
    let (command, properties) = rest[..end].split_once(' ').unwrap_or((&rest[..end], ""));
    Some((
        command.to_string(),
        properties.to_string(),
        rest[end + 1..].to_string(),
    ))
}

fn boolean_rendering(value: &str) -> String {
    match value.to_ascii_lowercase().as_str() {
        "true" => "True".into(),
        "false" => "False".into(),
        other => panic!("not a boolean: {other}"),
    }
}

fn run_template(repo: &Path, parameters: &[(&str, &str)], env: &[(&str, &str)]) -> AgentRun {
    let template = template();
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for parameter in template["parameters"].as_array().unwrap() {
        let name = parameter["name"].as_str().unwrap().to_string();
        let mut default = scalar(&parameter["default"]);
        if parameter["type"] == "boolean" {
            // Template expressions render booleans as True / False.
            default = boolean_rendering(&default);
        }
        values.insert(name, default);
    }
    for (name, value) in parameters {
        assert!(values.contains_key(*name), "no parameter {name}");
        values.insert(name.to_string(), value.to_string());
    }
    let agent = tempfile::tempdir().unwrap();
    let staging = agent.path().join("a");
    let temp = agent.path().join("_temp");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::create_dir_all(&temp).unwrap();
    let mut variables: BTreeMap<String, String> = [
        ("TF_BUILD", "True".to_string()),
        ("BUILD_SOURCESDIRECTORY", repo.display().to_string()),
        (
            "BUILD_ARTIFACTSTAGINGDIRECTORY",
            staging.display().to_string(),
        ),
        ("AGENT_TEMPDIRECTORY", temp.display().to_string()),
        ("SYSTEM_ACCESSTOKEN", PIPELINE_TOKEN.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in env {
        variables.insert(k.to_string(), v.to_string());
    }
    let lookup = |expr: &str| -> String {
        let name = expr
            .strip_prefix("parameters.")
            .unwrap_or_else(|| panic!("the test does not know the expression {expr:?}"));
        values
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("no parameter {name}"))
    };
    let macros = |text: &str, variables: &BTreeMap<String, String>| -> String {
        let macro_ = regex::Regex::new(r"\$\(([A-Za-z0-9._]+)\)").unwrap();
        macro_
            .replace_all(text, |c: &regex::Captures<'_>| {
                let key = c[1].replace('.', "_").to_uppercase();
                variables
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| panic!("no variable {}", &c[1]))
            })
            .into_owned()
    };

    let mut run = AgentRun {
        code: 0,
        stdout: String::new(),
        stderr: String::new(),
        variables: BTreeMap::new(),
        tasks: Vec::new(),
        staging,
        _agent: agent,
    };
    for step in template["steps"].as_array().unwrap() {
        let condition = step["condition"].as_str().unwrap_or("succeeded()");
        let runs = match condition {
            "succeeded()" => run.code == 0,
            "succeededOrFailed()" | "always()" => true,
            other => panic!("the test does not know the condition {other}"),
        };
        if !runs {
            continue;
        }
        if let Some(task) = step["task"].as_str() {
            let inputs = step["inputs"]
                .as_object()
                .map(|i| {
                    i.iter()
                        .map(|(k, v)| (k.clone(), macros(&expand(&scalar(v), &lookup), &variables)))
                        .collect()
                })
                .unwrap_or_default();
            run.tasks.push((task.to_string(), inputs));
            continue;
        }
        let script = step["bash"].as_str().expect("a bash step");
        let mut env = variables.clone();
        if let Some(step_env) = step["env"].as_object() {
            for (k, v) in step_env {
                env.insert(k.clone(), expand(&scalar(v), &lookup));
            }
        }
        // The Bash task runs the script file with `bash`, no `-e`.
        let out = run_script(script, &[], repo, &env);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        for line in stdout.lines() {
            if let Some((command, properties, data)) = logging_command(line) {
                if command == "task.setvariable" {
                    let name = properties
                        .strip_prefix("variable=")
                        .expect("a variable name")
                        .split(';')
                        .next()
                        .unwrap()
                        .to_string();
                    variables.insert(name.replace('.', "_").to_uppercase(), data);
                }
            }
        }
        run.stdout.push_str(&stdout);
        run.stderr.push_str(&String::from_utf8_lossy(&out.stderr));
        let code = out.status.code().unwrap_or(-1);
        if code != 0 {
            run.code = code;
        }
    }
    run.variables = variables;
    run
}

fn commands(stdout: &str, name: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(logging_command)
        .filter(|(command, _, _)| command == name)
        .map(|(_, properties, data)| (properties, data))
        .collect()
}

#[test]
fn the_template_is_valid_azure_pipelines_yaml_and_maps_no_pipeline_token() {
    let template = template();
    assert_valid("azure-pipelines.json", &template, "the template");
    let text =
        std::fs::read_to_string(repo_root().join("integrations/azure-pipelines/patscan.yml"))
            .unwrap();
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!code.contains("System.AccessToken") && !code.contains("SYSTEM_ACCESSTOKEN"));
    for step in template["steps"].as_array().unwrap() {
        if let Some(script) = step["bash"].as_str() {
            assert!(
                !script.contains("${{"),
                "an expression spliced into a script: {script}"
            );
        }
    }
    let names: Vec<&str> = template["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for expr in expressions(&text) {
        let name = expr.strip_prefix("parameters.").unwrap_or(&expr);
        assert!(
            names.contains(&name),
            "an expression naming nothing: {expr}"
        );
    }
}

#[test]
fn the_template_publishes_sarif_files_issues_and_fails_on_a_new_token() {
    let checkout = checkout_with_token(411);
    let bin = patscan_bin();
    let run = run_template(
        checkout.repo.path(),
        &[("patscanPath", &bin.to_string_lossy())],
        &[],
    );
    assert_eq!(
        run.code, 1,
        "the gate fails the job: {}{}",
        run.stdout, run.stderr
    );
    assert_eq!(run.variables["PATSCANEXITCODE"], "1");

    let issues = commands(&run.stdout, "task.logissue");
    assert!(
        issues
            .iter()
            .any(|(p, _)| p.contains("type=error") && p.contains("sourcepath=config/app.env")),
        "{issues:?}"
    );
    let summaries = commands(&run.stdout, "task.uploadsummary");
    assert_eq!(summaries.len(), 1);
    let summary = std::fs::read_to_string(&summaries[0].1).expect("the summary file exists");
    assert!(summary.contains("config/app.env"));

    let logs = run.staging.join("CodeAnalysisLogs");
    let sarif = json_file(&logs.join("patscan.sarif"));
    assert_eq!(sarif_paths(&sarif), ["config/app.env"]);
    let (task, inputs) = &run.tasks[0];
    assert_eq!(task, "PublishBuildArtifacts@1");
    assert_eq!(inputs["ArtifactName"], "CodeAnalysisLogs");
    assert_eq!(Path::new(&inputs["PathtoPublish"]), logs);

    let sarif_text = sarif.to_string();
    assert_absent(
        &[
            ("log", &run.stdout),
            ("stderr", &run.stderr),
            ("summary", &summary),
            ("SARIF log", &sarif_text),
        ],
        &[&checkout.token, PIPELINE_TOKEN],
    );
}

#[test]
fn in_a_pull_request_build_the_template_scans_the_commits_the_pull_request_adds() {
    let checkout = checkout_with_token(412);
    let added = checkout.pull_request_adding_token(413);
    let bin = patscan_bin();
    let run = run_template(
        checkout.repo.path(),
        &[("patscanPath", &bin.to_string_lossy())],
        &[("SYSTEM_PULLREQUEST_TARGETBRANCH", "refs/heads/main")],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let sarif = json_file(&run.staging.join("CodeAnalysisLogs/patscan.sarif"));
    assert_eq!(sarif_paths(&sarif), ["deploy/ci.sh"]);
    assert_absent(
        &[("log", &run.stdout), ("stderr", &run.stderr)],
        &[&checkout.token, &added, PIPELINE_TOKEN],
    );

    // With the parameter off, the same build scans the tree.
    let tree = run_template(
        checkout.repo.path(),
        &[
            ("patscanPath", &bin.to_string_lossy()),
            ("pullRequestCommits", "False"),
        ],
        &[("SYSTEM_PULLREQUEST_TARGETBRANCH", "refs/heads/main")],
    );
    let sarif = json_file(&tree.staging.join("CodeAnalysisLogs/patscan.sarif"));
    assert_eq!(sarif_paths(&sarif).len(), 2);
}

#[test]
fn a_file_named_like_a_logging_command_cannot_reset_the_gate() {
    // A pull request controls file names; this one, quoted in an issue's
    // line, would set the variable the gate reads if the agent ran it.
    let checkout = checkout_with_token(414);
    let hostile = "##vso[task.setvariable variable=PatscanExitCode]0.env";
    checkout.repo.add(
        hostile,
        &format!("T={}\n", token("github-classic-pat", 415)),
    );
    checkout.repo.commit("hostile name");
    let bin = patscan_bin();
    let run = run_template(
        checkout.repo.path(),
        &[("patscanPath", &bin.to_string_lossy())],
        &[],
    );
    assert_eq!(run.variables["PATSCANEXITCODE"], "1", "{}", run.stdout);
    assert_eq!(run.code, 1);
}

// ------------------------------------------------------- Azure DevOps task

fn task_dir() -> PathBuf {
    repo_root().join("integrations/azure-pipelines/task")
}

#[test]
fn the_task_and_its_extension_manifest_have_what_the_platform_requires() {
    let task = json_file(&task_dir().join("task.json"));
    let guid = regex::Regex::new(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        .unwrap();
    assert!(guid.is_match(task["id"].as_str().unwrap()), "id is a GUID");
    assert!(regex::Regex::new(r"^[A-Za-z0-9\-]+$")
        .unwrap()
        .is_match(task["name"].as_str().unwrap()));
    for field in [
        "friendlyName",
        "description",
        "author",
        "instanceNameFormat",
    ] {
        assert!(
            task[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field}"
        );
    }
    assert!([
        "Build",
        "Utility",
        "Test",
        "Package",
        "Deploy",
        "Azure Pipelines"
    ]
    .contains(&task["category"].as_str().unwrap()));
    for part in ["Major", "Minor", "Patch"] {
        assert!(task["version"][part].is_u64(), "version.{part}");
    }
    let inputs = task["inputs"].as_array().unwrap();
    let mut names = Vec::new();
    for input in inputs {
        let name = input["name"].as_str().unwrap();
        let kind = input["type"].as_str().unwrap();
        assert!(
            [
                "string",
                "boolean",
                "pickList",
                "filePath",
                "multiLine",
                "radio"
            ]
            .contains(&kind),
            "{name}: {kind}"
        );
        assert!(input["label"].as_str().is_some(), "{name} has a label");
        if kind == "pickList" {
            let default = input["defaultValue"].as_str().unwrap();
            assert!(
                input["options"].get(default).is_some(),
                "{name}'s default is an option"
            );
        }
        if kind == "boolean" {
            assert!(["true", "false"].contains(&input["defaultValue"].as_str().unwrap()));
        }
        names.push(name.to_string());
    }
    let format_macro = regex::Regex::new(r"\$\(([A-Za-z0-9]+)\)").unwrap();
    for c in format_macro.captures_iter(task["instanceNameFormat"].as_str().unwrap()) {
        assert!(
            names.contains(&c[1].to_string()),
            "instanceNameFormat names {}",
            &c[1]
        );
    }
    let handler = &task["execution"]["Node20_1"];
    let target = task_dir().join(handler["target"].as_str().unwrap());
    assert!(target.is_file(), "the handler's script exists");
    // Every input the script reads is declared.
    let script = std::fs::read_to_string(&target).unwrap();
    let read = regex::Regex::new(r#"(?:input|bool)\('([A-Za-z0-9]+)'"#).unwrap();
    for c in read.captures_iter(&script) {
        assert!(
            names.contains(&c[1].to_string()),
            "the script reads undeclared {}",
            &c[1]
        );
    }

    let manifest = json_file(&task_dir().join("../vss-extension.json"));
    assert_eq!(manifest["manifestVersion"], 1);
    for field in ["id", "name", "publisher", "version"] {
        assert!(
            manifest[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field}"
        );
    }
    assert!(regex::Regex::new(r"^\d+\.\d+\.\d+$")
        .unwrap()
        .is_match(manifest["version"].as_str().unwrap()));
    assert!(manifest["targets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == "Microsoft.VisualStudio.Services"));
    let files: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let contribution = manifest["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "ms.vss-distributed-task.task")
        .expect("a task contribution");
    assert!(contribution["targets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "ms.vss-distributed-task.tasks"));
    let folder = contribution["properties"]["name"].as_str().unwrap();
    assert!(files.contains(&folder), "the task folder is packaged");
    assert!(task_dir()
        .join("../")
        .join(folder)
        .join("task.json")
        .is_file());
}

fn node_or_skip(test: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let node = std::env::split_paths(&path)
        .map(|d| d.join("node"))
        .find(|p| p.is_file());
    if node.is_none() {
        eprintln!("skipping {test}: no `node` on PATH (.ci/run installs Node.js)");
    }
    node
}

#[test]
fn the_task_runs_patscan_publishes_sarif_sets_the_result_and_keeps_the_pipeline_token() {
    let Some(node) = node_or_skip("the_task_runs_patscan") else {
        return;
    };
    let checkout = checkout_with_token(421);
    let agent = tempfile::tempdir().unwrap();
    let staging = agent.path().join("a");
    // patscan behind a wrapper that records the environment it was given.
    let seen_env = agent.path().join("patscan-env.txt");
    let wrapper = agent.path().join("patscan");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nenv > '{}'\nexec '{}' \"$@\"\n",
            seen_env.display(),
            patscan_bin().display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = Command::new(node)
        .arg(task_dir().join("patscan-task.js"))
        .current_dir(agent.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TF_BUILD", "True")
        .env("BUILD_SOURCESDIRECTORY", checkout.repo.path())
        .env("BUILD_ARTIFACTSTAGINGDIRECTORY", &staging)
        .env("AGENT_TEMPDIRECTORY", agent.path())
        .env("SYSTEM_ACCESSTOKEN", PIPELINE_TOKEN)
        .env("INPUT_PATSCANPATH", &wrapper)
        .env("INPUT_FAILON", "low")
        .env("INPUT_PUBLISHSARIF", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(commands(&stdout, "task.logissue")
        .iter()
        .any(|(p, _)| p.contains("sourcepath=config/app.env")));
    let uploads = commands(&stdout, "artifact.upload");
    assert_eq!(uploads.len(), 1);
    assert!(uploads[0].0.contains("artifactname=CodeAnalysisLogs"));
    let sarif = json_file(Path::new(&uploads[0].1));
    assert_eq!(sarif_paths(&sarif), ["config/app.env"]);
    let complete = commands(&stdout, "task.complete");
    assert!(complete
        .last()
        .is_some_and(|(p, _)| p.contains("result=Failed")));

    let env = std::fs::read_to_string(&seen_env).unwrap();
    assert!(env.contains("TF_BUILD=True"));
    assert!(
        !env.contains(PIPELINE_TOKEN),
        "patscan got the pipeline's token"
    );
    assert_absent(
        &[("log", &stdout), ("stderr", &stderr)],
        &[&checkout.token, PIPELINE_TOKEN],
    );

    // A token-free checkout succeeds.
    let clean = Repo::init();
    clean.add("README.md", "# nothing here\n");
    clean.commit("init");
    let out = Command::new(node_or_skip("the_task_runs_patscan").unwrap())
        .arg(task_dir().join("patscan-task.js"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TF_BUILD", "True")
        .env("BUILD_SOURCESDIRECTORY", clean.path())
        .env("BUILD_ARTIFACTSTAGINGDIRECTORY", &staging)
        .env("INPUT_PATSCANPATH", patscan_bin())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(commands(&stdout, "task.complete")
        .last()
        .is_some_and(|(p, _)| p.contains("result=Succeeded")));
}
