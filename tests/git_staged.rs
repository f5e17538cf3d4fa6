//! `patscan scan --staged`: exactly what the next commit would add, read
//! from the index, and the pre-commit hook that runs it.

mod common;

use std::fs;

use common::git::{git_in, token, Repo};
use common::*;
use serde_json::Value;

fn findings(json: &Value) -> Vec<&Value> {
    json["findings"].as_array().unwrap().iter().collect()
}

fn paths(json: &Value) -> Vec<String> {
    let mut paths: Vec<String> = findings(json)
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    paths
}

/// A repository with one commit holding an innocent file.
fn repo_with_base() -> Repo {
    let repo = Repo::init();
    repo.add("README.md", "# project\n");
    repo.commit("initial");
    repo
}

#[test]
fn scans_the_index_not_the_work_tree() {
    let repo = repo_with_base();
    let staged = token("github-classic-pat", 1);
    let unstaged = token("npm-token", 2);
    // Staged, then deleted from the work tree: still in the next commit.
    repo.add("config/app.env", &format!("GITHUB_TOKEN={staged}\n"));
    fs::remove_file(repo.join("config/app.env")).unwrap();
    // Only in the work tree: not part of the commit.
    repo.write("README.md", &format!("# project\nnpm: {unstaged}\n"));
    repo.write("notes.txt", &format!("{unstaged}\n"));

    let run = scan_json(repo.path(), &["--staged"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(paths(&run.json), vec!["config/app.env".to_string()]);
    let finding = findings(&run.json)[0];
    assert_eq!(finding["rule_id"], "github-classic-pat");
    assert_eq!(finding["origin"], "staged");
    assert_eq!(
        (finding["line"].as_u64(), finding["column"].as_u64()),
        (Some(1), Some(14))
    );
    assert!(!run.stdout.contains(&staged) && !run.stderr.contains(&staged));

    // The plain work-tree scan sees the opposite picture.
    let run = scan_json(repo.path(), &[]);
    assert_eq!(
        paths(&run.json),
        vec!["README.md".to_string(), "notes.txt".to_string()]
    );
}

#[test]
fn reports_only_what_the_commit_adds_unless_all() {
    let repo = Repo::init();
    let old = token("gitlab-pat", 3);
    let new = token("npm-token", 4);
    repo.add("deploy.sh", &format!("export TOKEN={old}\n"));
    repo.add("moved.txt", &format!("{old}\n"));
    repo.commit("legacy script");
    repo.add(
        "deploy.sh",
        &format!("export TOKEN={old}\nexport NPM={new}\n"),
    );
    // A rename adds nothing new either.
    repo.git(&["mv", "moved.txt", "renamed.txt"]);

    let run = scan_json(repo.path(), &["--staged"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found: Vec<_> = findings(&run.json)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["rule_id"].as_str().unwrap(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, vec![("deploy.sh", "npm-token", 2)]);

    let run = scan_json(repo.path(), &["--staged", "--all"]);
    let mut found: Vec<_> = findings(&run.json)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("deploy.sh".to_string(), "gitlab-pat".to_string()),
            ("deploy.sh".to_string(), "npm-token".to_string()),
            ("renamed.txt".to_string(), "gitlab-pat".to_string()),
        ]
    );
}

#[test]
fn nothing_staged_means_nothing_found_even_with_tokens_in_head() {
    let repo = Repo::init();
    repo.add("old.txt", &format!("{}\n", token("npm-token", 5)));
    repo.commit("old secret, already committed");
    let run = scan_json(repo.path(), &["--staged"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json["summary"]["files_scanned"], 0);
}

#[test]
fn a_repository_without_commits_scans_every_staged_blob() {
    let repo = Repo::init();
    let secret = token("huggingface-token", 6);
    repo.add("src/main.py", &format!("HF = \"{secret}\"\n"));
    repo.add("src/clean.py", "print('hello')\n");
    let run = scan_json(repo.path(), &["--staged"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(paths(&run.json), vec!["src/main.py".to_string()]);
    assert_eq!(run.json["summary"]["files_scanned"], 2);
}

#[test]
fn staged_runs_from_a_subfolder_and_refuses_a_non_repository() {
    let repo = repo_with_base();
    repo.add("a/b/c.txt", &format!("{}\n", token("npm-token", 7)));
    let run = scan_json(&repo.join("a/b"), &["--staged"]);
    assert_eq!(paths(&run.json), vec!["a/b/c.txt".to_string()]);

    let plain = tempfile::tempdir().unwrap();
    let output = patscan()
        .current_dir(plain.path())
        .args(["scan", "--staged"])
        .env("GIT_CEILING_DIRECTORIES", plain.path().parent().unwrap())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not a git repository"), "{stderr}");
}

#[test]
fn a_blocked_commit_says_what_where_and_how_to_allow_it() {
    let repo = repo_with_base();
    let secret = token("github-classic-pat", 8);
    repo.add("settings.yml", &format!("token: {secret}\n"));
    let output = patscan()
        .current_dir(repo.path())
        .args(["scan", "--staged"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.contains("settings.yml:1:8: github-classic-pat"),
        "{stdout}"
    );
    assert!(stdout.contains("staged blob"), "{stdout}");
    assert!(stderr.contains("commit blocked"), "{stderr}");
    assert!(
        stderr.contains("patscan:allow") && stderr.contains("--no-verify"),
        "{stderr}"
    );
    assert!(!stdout.contains(&secret) && !stderr.contains(&secret));
}

#[test]
fn install_hook_blocks_a_commit_and_never_overwrites_a_hook_unasked() {
    let repo = repo_with_base();
    patscan()
        .current_dir(repo.path())
        .arg("install-hook")
        .assert()
        .code(0);
    let hook = repo.join(".git/hooks/pre-commit");
    let script = fs::read_to_string(&hook).unwrap();
    assert!(script.contains("patscan scan --staged"), "{script}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&hook).unwrap().permissions().mode() & 0o111,
            0o111
        );
    }

    // The hook runs at `git commit` and blocks the token.
    let bin = assert_cmd::cargo::cargo_bin("patscan");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let secret = token("npm-token", 9);
    repo.add(
        ".npmrc",
        &format!("//registry.npmjs.org/:_authToken={secret}\n"),
    );
    let commit = std::process::Command::new("git")
        .current_dir(repo.path())
        .env("PATH", &path)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["-c", "user.name=T", "-c", "user.email=t@example.test"])
        .args(["commit", "-q", "-m", "add npmrc"])
        .output()
        .unwrap();
    assert!(!commit.status.success(), "the commit went through");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&commit.stdout),
        String::from_utf8_lossy(&commit.stderr)
    );
    assert!(
        all.contains(".npmrc:1:") && all.contains("commit blocked"),
        "{all}"
    );
    assert!(!all.contains(&secret));
    assert_eq!(
        git_in(repo.path(), &["rev-list", "--count", "HEAD"]).stdout,
        b"1\n"
    );

    // A second install refuses to clobber the hook; --force replaces it.
    fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
    let output = patscan()
        .current_dir(repo.path())
        .arg("install-hook")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&hook).unwrap(), "#!/bin/sh\necho mine\n");
    patscan()
        .current_dir(repo.path())
        .args(["install-hook", "--force"])
        .assert()
        .code(0);
    assert!(fs::read_to_string(&hook)
        .unwrap()
        .contains("patscan scan --staged"));
}

#[test]
fn the_pre_commit_framework_manifest_declares_both_hooks() {
    let text = fs::read_to_string(repo_root().join(".pre-commit-hooks.yaml")).unwrap();
    for needle in [
        "id: patscan\n",
        "id: patscan-system\n",
        "entry: patscan scan --staged",
        "language: rust",
        "language: system",
        "pass_filenames: false",
    ] {
        assert!(
            text.contains(needle),
            "missing {needle:?} in .pre-commit-hooks.yaml"
        );
    }
}

#[test]
fn redirected_stderr_never_gets_a_progress_bar() {
    let repo = repo_with_base();
    repo.add("a.txt", "nothing here\n");
    repo.commit("more");
    let output = patscan()
        .current_dir(repo.path())
        .args(["scan", "--history"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn changes_deep_in_a_tree_are_found_beside_untouched_folders() {
    // The staged scan skips folders the index's cache-tree shows unchanged;
    // changed ones at every depth must still be read.
    let repo = Repo::init();
    for dir in ["a", "b", "b/c", "b/c/d", "e"] {
        repo.add(&format!("{dir}/keep.txt"), "unchanged\n");
    }
    let old = token("npm-token", 30);
    repo.add("e/old.txt", &format!("{old}\n"));
    repo.commit("tree");
    let deep = token("github-classic-pat", 31);
    let fresh = token("gitlab-pat", 32);
    repo.add("b/c/d/keep.txt", &format!("unchanged\n{deep}\n"));
    repo.add("new/dir/file.txt", &format!("{fresh}\n"));
    repo.git(&["rm", "-q", "e/old.txt"]);

    let run = scan_json(repo.path(), &["--staged"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        paths(&run.json),
        vec!["b/c/d/keep.txt".to_string(), "new/dir/file.txt".to_string()]
    );
    assert_eq!(run.json["summary"]["files_scanned"], 2);
}

#[test]
fn the_hook_sees_what_commit_dash_a_stages_into_a_temporary_index() {
    let repo = repo_with_base();
    repo.add("app.cfg", "key = none\n");
    repo.commit("config");
    patscan()
        .current_dir(repo.path())
        .arg("install-hook")
        .assert()
        .code(0);
    let secret = token("huggingface-token", 33);
    // Modified but not added: `git commit -a` stages it only for the hook.
    repo.write("app.cfg", &format!("key = {secret}\n"));
    let bin = assert_cmd::cargo::cargo_bin("patscan");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let commit = std::process::Command::new("git")
        .current_dir(repo.path())
        .env("PATH", &path)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["-c", "user.name=T", "-c", "user.email=t@example.test"])
        .args(["commit", "-q", "-a", "-m", "edit config"])
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&commit.stdout),
        String::from_utf8_lossy(&commit.stderr)
    );
    assert!(!commit.status.success(), "the commit went through: {all}");
    assert!(all.contains("app.cfg:1:7: huggingface-token"), "{all}");
}

#[test]
fn install_hook_honours_core_hooks_path() {
    let repo = repo_with_base();
    repo.git(&["config", "core.hooksPath", "tools/hooks"]);
    patscan()
        .current_dir(repo.path())
        .arg("install-hook")
        .assert()
        .code(0);
    let script = fs::read_to_string(repo.join("tools/hooks/pre-commit")).unwrap();
    assert!(script.contains("patscan scan --staged"));
    assert!(!repo.join(".git/hooks/pre-commit").exists());
}

#[test]
fn a_staged_blob_over_the_size_limit_is_skipped_with_a_warning() {
    let repo = repo_with_base();
    let secret = token("npm-token", 39);
    repo.add("big.log", &format!("{}{secret}\n", "x".repeat(4096)));
    let run = scan_json(repo.path(), &["--staged", "--max-file-size", "1K"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json["summary"]["large_files_skipped"], 1);
    assert!(run.stderr.contains("big.log") && run.stderr.contains("--max-file-size"));
}
