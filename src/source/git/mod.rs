//! The git sources, read in-process with `gix` (pure Rust, packs read
//! directly; no `git log -p` to parse):
//!
//! - [`staged`]: what the next commit would add, read from the index — the
//!   pre-commit hook's mode, whose cost follows the size of the change, not
//!   of the repository.
//! - [`history`]: every blob of the object store, each distinct blob scanned
//!   once ([`blobs`], in parallel), reported at the commit that introduced it
//!   ([`commits`] orders the commits, [`introduce`] finds each commit's new
//!   blobs), plus commit and annotated tag messages; [`carried`] keeps a
//!   token from being reported again at every later edit of its file;
//!   `--range A..B` limits it all to what the commits of a pull request add.

pub mod blobs;
pub mod budget;
pub mod carried;
pub mod commits;
pub mod error;
pub mod extend;
pub mod history;
pub mod introduce;
pub mod packread;
pub mod replay;
pub mod staged;

use std::path::{Path, PathBuf};
use std::time::Instant;

pub use error::GitError;

use crate::model::{CommitMeta, Secret};
use crate::progress::Progress;
use crate::rules::RuleSet;
use crate::scan::intake::Intake;
use crate::scan::{self, Problem, ScanOptions, ScanReport, Tally};

/// Which part of a repository to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The index against HEAD. `all`: every secret in the staged blobs, not
    /// only those the commit would add.
    Staged { all: bool },
    /// The whole object store, or the commits of `range` (`A..B`).
    History { range: Option<String> },
}

/// Scans the repository that contains `path` (discovered upwards, as git
/// does). Only a failure to start is an error; a missing or corrupt object
/// during the scan becomes a warning in the report.
pub fn scan(
    rules: &RuleSet,
    path: &Path,
    mode: &Mode,
    options: &ScanOptions,
) -> Result<ScanReport, GitError> {
    let started = Instant::now();
    // History reads trees and blobs through `packread`, which keeps its own
    // cache of delta chains; gix's default cache serves the rest.
    let repo = open(path)?;
    let mut tally = Tally::with_progress(Progress::new(options.progress, "blobs"));
    tally.unit = "blobs";
    let findings = match mode {
        Mode::Staged { all } => staged::scan(&repo, rules, options, *all, &tally)?,
        Mode::History { range } => {
            // The scan stage's intake, with the history cache of `repo`
            // under the current rules unless it is off.
            let intake =
                Intake::history(rules, options, &tally, repo.git_dir(), display_root(&repo));
            let findings = history::scan(&repo, rules, options, range.as_deref(), &tally, &intake)?;
            let summary = intake.finish();
            let mut report = scan::finish(findings, tally, started);
            report.summary.cache = summary;
            return Ok(report);
        }
    };
    Ok(scan::finish(findings, tally, started))
}

/// Opens the repository containing `path`, with an object cache sized for
/// walking trees.
pub fn open(path: &Path) -> Result<gix::Repository, GitError> {
    // With overrides: a hook runs with GIT_DIR and GIT_INDEX_FILE set (`git
    // commit -a` stages into a temporary index), and that index is the truth.
    let mut repo =
        gix::discover_with_environment_overrides(path).map_err(|e| GitError::NotARepository {
            path: path.to_path_buf(),
            message: one_line(&e),
        })?;
    // Trees are read once each; a small cache still helps the delta
    // resolution of neighbouring trees.
    repo.object_cache_size_if_unset(4 << 20);
    Ok(repo)
}

/// The folder to name in warnings: the work tree, or the git dir if bare.
pub(crate) fn display_root(repo: &gix::Repository) -> String {
    let root: PathBuf = repo
        .workdir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo.git_dir().to_path_buf());
    root.to_string_lossy().into_owned()
}

/// `Name <email>` and RFC 3339 date of a signature, lossily decoded.
pub(crate) fn describe_signature(sig: Option<gix::actor::SignatureRef<'_>>) -> (String, String) {
    match sig {
        Some(sig) => {
            let sig = sig.trim();
            let who = format!("{} <{}>", sig.name, sig.email);
            let date = sig
                .time()
                .map(|t| t.format_or_unix(gix::date::time::format::ISO8601_STRICT))
                .unwrap_or_default();
            (who, date)
        }
        None => (String::new(), String::new()),
    }
}

/// The first line of a message with every token found on it masked, so
/// that showing the summary next to a finding cannot leak a secret.
pub(crate) fn masked_summary(message: &[u8], secrets: &[&Secret], show_secrets: bool) -> String {
    let first = message.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut line = String::from_utf8_lossy(first).trim_end().to_string();
    if !show_secrets {
        for secret in secrets {
            line = line.replace(secret.expose(), &secret.redacted());
        }
    }
    line
}

/// Builds the provenance of a commit from its decoded form.
pub(crate) fn commit_meta(
    id: &gix::hash::oid,
    commit: &gix::objs::CommitRef<'_>,
    secrets_in_message: &[&Secret],
    show_secrets: bool,
) -> CommitMeta {
    let (author, date) = describe_signature(commit.author().ok());
    CommitMeta {
        commit: id.to_string(),
        author,
        date,
        summary: masked_summary(commit.message, secrets_in_message, show_secrets),
    }
}

/// Problems about single objects are capped so that a partial clone with
/// a million missing blobs gives one line, not a million.
pub(crate) const MAX_OBJECT_WARNINGS: usize = 10;

/// Records a warning about the repository as a whole.
pub(crate) fn warn(tally: &Tally, repo: &gix::Repository, message: impl AsRef<str>) {
    tally.problem(Problem::new(&display_root(repo), message.as_ref()));
}

/// An error and its causes on one line: gix errors render multi-line
/// reports with `{:#}`, and every message of ours is a single line.
pub fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_never_shows_a_token_unless_asked() {
        let secret = Secret::new("ghp_0123456789abcdefghijklmnopqrstuvwxyz".into());
        let message = format!("add {} to ci\n\nbody line", secret.expose());
        let masked = masked_summary(message.as_bytes(), &[&secret], false);
        assert_eq!(masked, "add ghp_…[40 chars] to ci");
        let shown = masked_summary(message.as_bytes(), &[&secret], true);
        assert!(shown.contains(secret.expose()));
    }

    #[test]
    fn one_line_joins_causes_without_newlines() {
        let inner = std::io::Error::other("disk\non fire");
        let outer = GitError::Index(one_line(&inner));
        assert_eq!(one_line(&outer), "cannot read the index: disk on fire");
    }
}
