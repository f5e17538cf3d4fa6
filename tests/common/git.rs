//! Real repositories built with the `git` CLI in temporary folders, with a
//! fixed identity so tests never depend on the machine's git config.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use patscan::tokengen::{generate, TokenRng};

pub const AUTHOR_NAME: &str = "Ada Tester";
pub const AUTHOR_EMAIL: &str = "ada@example.test";

pub struct Repo {
    pub dir: tempfile::TempDir,
}

/// Runs git in `dir` with a fixed identity, dates and no global config.
pub fn git_in(dir: &Path, args: &[&str]) -> Output {
    git_in_with(dir, args, &[])
}

/// [`git_in`] with more environment (set last, so it wins).
pub fn git_in_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let output = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", AUTHOR_NAME)
        .env("GIT_AUTHOR_EMAIL", AUTHOR_EMAIL)
        .env("GIT_AUTHOR_DATE", "2024-03-01T12:00:00Z")
        .env("GIT_COMMITTER_NAME", AUTHOR_NAME)
        .env("GIT_COMMITTER_EMAIL", AUTHOR_EMAIL)
        .env("GIT_COMMITTER_DATE", "2024-03-01T12:00:00Z")
        .args([
            "-c",
            "user.name=Ada Tester",
            "-c",
            "user.email=ada@example.test",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(["-c", "tag.gpgsign=false"])
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("git runs");
    output
}

impl Repo {
    /// `git init` in a fresh temporary folder.
    pub fn init() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo { dir };
        repo.git(&["init", "-q"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs git and asserts it succeeded; returns stdout, trimmed.
    pub fn git(&self, args: &[&str]) -> String {
        let output = git_in(self.path(), args);
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    pub fn write(&self, path: &str, text: &str) {
        let full = self.path().join(path);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, text).unwrap();
    }

    /// Writes and stages a file.
    pub fn add(&self, path: &str, text: &str) {
        self.write(path, text);
        self.git(&["add", path]);
    }

    /// Commits what is staged as authored and committed at `date`
    /// (RFC 3339); returns the new commit id.
    pub fn commit_at(&self, message: &str, date: &str) -> String {
        let args = ["commit", "-q", "--allow-empty", "-m", message];
        let env = [("GIT_AUTHOR_DATE", date), ("GIT_COMMITTER_DATE", date)];
        let output = git_in_with(self.path(), &args, &env);
        assert!(
            output.status.success(),
            "git commit failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        self.git(&["rev-parse", "HEAD"])
    }

    /// Commits what is staged; returns the new commit id.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn file_url(&self) -> String {
        format!("file://{}", self.path().display())
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }
}

/// A distinct valid token per seed, never a literal in the source.
pub fn token(family: &str, seed: u64) -> String {
    generate(family, &mut TokenRng::new(seed)).expect("known family")
}
