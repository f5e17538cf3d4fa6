//! The scan stage: what a scan is asked to do ([`ScanOptions`]), the
//! [`sink::Sink`] the sources feed and its implementation ([`intake`],
//! which alone consults the cache), archives opened ([`archive`]), what it
//! counts while the sources feed it ([`Tally`]), and how their findings
//! become one report in a stable order ([`finish`]). The sources
//! (`source::fs`, `source::git`, `source::org`) drive it; it never calls
//! them.

pub mod archive;
pub mod intake;
pub mod sink;
mod sniff;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use crate::baseline::BaselineEntry;
use crate::cache::entry::Outcome as Cached;
use crate::cache::key::DetectionKey;
use crate::config::PathGlobs;
use crate::model::{CacheSetting, CacheSummary};
use crate::model::{CommitActivity, Finding};
use crate::progress::Progress;
use crate::rules::RuleSet;
use crate::suppress::{self, SuppressedCounts};

/// Default `--max-file-size`: large enough for any source file, log or
/// bundle people commit; bigger files are usually data dumps.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 256 << 20;

#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Paths to scan; `-` is standard input. Empty means the current folder.
    pub paths: Vec<PathBuf>,
    /// Scan files that .gitignore and friends exclude.
    pub include_ignored: bool,
    pub follow_links: bool,
    pub max_file_size: u64,
    /// Worker threads; 0 picks one per core.
    pub threads: usize,
    /// Keep secrets unmasked in snippets (`--show-secrets`).
    pub show_secrets: bool,
    /// Look inside zip and tar files, within these limits; `None` treats
    /// them as the binary files they are (`--no-archives`).
    pub archives: Option<ArchiveLimits>,
    /// Paths never scanned (the config's `allow.paths`).
    pub skip_paths: Option<PathGlobs>,
    /// Draw a progress bar on stderr (the CLI decides: terminal or `--progress`).
    pub progress: bool,
    /// Give each finding GitHub's line hash (SARIF's
    /// `primaryLocationLineHash`). It costs a pass over the text of every
    /// input with findings, so the CLI turns it on only for SARIF.
    pub line_hashes: bool,
    /// Remember what was scanned, to skip it next time (see [`crate::cache`]).
    pub cache: CacheSetting,
    /// `--max-memory`: the memory a history scan may use; its caches
    /// shrink to fit (slower, never a failure). `None`: their defaults.
    pub max_memory: Option<u64>,
}

impl ScanOptions {
    /// The cache's detection key of a scan with `rules` and these options:
    /// the settings that change what a scan of an input finds
    /// (`--max-file-size`, the archive limits), not those that only change
    /// the output (`--show-secrets`, line hashes, threads).
    pub fn detection_key(&self, rules: &RuleSet) -> DetectionKey {
        let archives = match &self.archives {
            None => "off".to_string(),
            Some(limits) => format!(
                "depth={} members={} member-bytes={} total-bytes={} ratio={}",
                limits.max_depth,
                limits.max_members,
                limits.max_member_bytes,
                limits.max_total_bytes,
                limits.max_ratio
            ),
        };
        DetectionKey::new(
            rules,
            &[
                ("max-file-size", &self.max_file_size.to_le_bytes()),
                ("archives", archives.as_bytes()),
            ],
        )
    }
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            paths: Vec::new(),
            include_ignored: false,
            follow_links: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            threads: 0,
            show_secrets: false,
            archives: Some(ArchiveLimits::default()),
            skip_paths: None,
            progress: false,
            line_hashes: true,
            cache: CacheSetting::Off,
            max_memory: None,
        }
    }
}

/// Something that could not be scanned. The scan goes on without it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: &str, message: &str) -> Problem {
        Problem {
            path: path.to_string(),
            message: message.to_string(),
        }
    }

    pub(crate) fn from_walk_error(err: &ignore::Error) -> Problem {
        let path = walk_error_path(err).unwrap_or_default();
        let message = match err.io_error() {
            Some(io) => io.to_string(),
            None => strip_path_from(&err.to_string(), &path),
        };
        Problem { path, message }
    }
}

fn walk_error_path(err: &ignore::Error) -> Option<String> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.to_string_lossy().into_owned()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.to_string_lossy().into_owned()),
        _ => None,
    }
}

fn strip_path_from(message: &str, path: &str) -> String {
    message
        .strip_prefix(path)
        .map(|rest| rest.trim_start_matches(':').trim().to_string())
        .unwrap_or_else(|| message.to_string())
}

/// Bounds on what one top-level archive may make patscan read.
#[derive(Debug, Clone, Copy)]
pub struct ArchiveLimits {
    /// Archives inside archives are opened down to this depth (1: only the
    /// top-level archive's members).
    pub max_depth: usize,
    pub max_members: usize,
    pub max_member_bytes: u64,
    pub max_total_bytes: u64,
    /// Uncompressed bytes per compressed byte beyond which a stream is a
    /// bomb, not data. Ordinary text compresses 3 to 10 times.
    pub max_ratio: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: 2,
            max_members: 100_000,
            max_member_bytes: 256 << 20,
            max_total_bytes: 4 << 30,
            max_ratio: 200,
        }
    }
}

/// What scanning one top-level archive produced, besides findings.
#[derive(Debug, Default)]
pub struct ArchiveTally {
    pub members_scanned: u64,
    pub bytes_scanned: u64,
    pub binary_members: u64,
    pub problems: Vec<Problem>,
}

/// Counters and problems shared by the scanning threads.
#[derive(Default)]
pub struct Tally {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub binary_skipped: AtomicU64,
    pub large_skipped: AtomicU64,
    pub archives: AtomicU64,
    pub archive_members: AtomicU64,
    problems: Mutex<Vec<Problem>>,
    /// Advanced once per scanned item; hidden unless asked for.
    pub progress: Progress,
    /// What an item is called in the summary: `files` unless set (`blobs`).
    pub unit: &'static str,
    /// Commits read by a history scan, per day (the HTML timeline).
    pub commit_activity: Mutex<CommitActivity>,
}

impl Tally {
    pub fn with_progress(progress: Progress) -> Tally {
        Tally {
            progress,
            ..Tally::default()
        }
    }

    /// Counts commits a history scan read, by committer time.
    pub fn commits_read(&self, times: impl IntoIterator<Item = i64>) {
        lock(&self.commit_activity).add_commits(times);
    }

    /// The commits counted so far.
    pub fn commit_activity(&self) -> CommitActivity {
        lock(&self.commit_activity).clone()
    }

    /// Replaces the commit counts (a replayed run restores its record's).
    pub fn set_commit_activity(&self, activity: CommitActivity) {
        *lock(&self.commit_activity) = activity;
    }

    pub fn scanned(&self, bytes: u64) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.progress.inc(bytes);
    }

    pub fn archive_scanned(&self, archive: &ArchiveTally) {
        self.archives.fetch_add(1, Ordering::Relaxed);
        self.archive_members
            .fetch_add(archive.members_scanned, Ordering::Relaxed);
        self.bytes
            .fetch_add(archive.bytes_scanned, Ordering::Relaxed);
        self.binary_skipped
            .fetch_add(archive.binary_members, Ordering::Relaxed);
    }

    /// Counts an input the cache knows into the tally as scanning it would
    /// have.
    pub fn replay(&self, outcome: &Cached) {
        match *outcome {
            Cached::Text { bytes } => self.scanned(bytes),
            Cached::Binary => {
                self.binary_skipped.fetch_add(1, Ordering::Relaxed);
                self.progress.inc(0);
            }
            Cached::Large => {
                self.large_skipped.fetch_add(1, Ordering::Relaxed);
                self.progress.inc(0);
            }
            Cached::Archive {
                bytes,
                members,
                binary_members,
            } => {
                self.archive_scanned(&ArchiveTally {
                    members_scanned: members,
                    bytes_scanned: bytes,
                    binary_members,
                    ..ArchiveTally::default()
                });
                self.progress.inc(0);
            }
        }
    }

    /// Counts and reports an input skipped for being over `--max-file-size`.
    pub fn too_large(&self, path: &str, size: u64, limit: u64) {
        self.large_skipped.fetch_add(1, Ordering::Relaxed);
        self.problem(Problem::new(
            path,
            &format!(
                "skipped: {} is over --max-file-size {}",
                crate::size::format_bytes(size),
                crate::size::format_bytes(limit)
            ),
        ));
    }

    /// How many problems have been reported so far.
    pub fn problem_count(&self) -> usize {
        lock(&self.problems).len()
    }

    /// The problems reported after the first `from`.
    pub fn problems_since(&self, from: usize) -> Vec<Problem> {
        lock(&self.problems)
            .get(from..)
            .unwrap_or_default()
            .to_vec()
    }

    pub fn problem(&self, problem: Problem) {
        lock(&self.problems).push(problem);
    }
}

/// How the cache records an archive that was read.
pub fn archive_outcome(archive: &ArchiveTally) -> Cached {
    Cached::Archive {
        bytes: archive.bytes_scanned,
        members: archive.members_scanned,
        binary_members: archive.binary_members,
    }
}

/// A poisoned lock only means another thread panicked mid-count; the
/// counts are still worth reporting.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub files_scanned: u64,
    /// What `files_scanned` counts, for people: `files` or `blobs`.
    #[serde(skip)]
    pub unit: &'static str,
    pub bytes_scanned: u64,
    pub binary_files_skipped: u64,
    pub large_files_skipped: u64,
    pub archives_scanned: u64,
    pub archive_members_scanned: u64,
    /// Files and folders that could not be read (see the warnings).
    pub problems: usize,
    pub findings: usize,
    pub findings_by_rule: BTreeMap<String, usize>,
    pub duration_seconds: f64,
    /// Findings not reported because a team allowed them.
    pub suppressed: SuppressedCounts,
    /// Baseline entries that matched no token in this scan.
    pub stale_baseline_entries: Vec<BaselineEntry>,
    /// What the cache answered, when one was used (`--history`, `--cache`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheSummary>,
    /// Commits a history scan read, per day: only the HTML timeline draws
    /// it, so it stays out of the JSON.
    #[serde(skip)]
    pub commit_activity: CommitActivity,
    /// What an organisation scan (`scan --org`) listed and did with each
    /// repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<crate::model::OrgSummary>,
    /// What an image scan (`scan --image`) read: images, layers, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<crate::model::ImageSummary>,
    /// Which patscan and which rules wrote the report (set by the command
    /// line), so `patscan merge` joins only reports that agree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_set: Option<RuleSetId>,
}

/// The identity of a rule set: the patscan version and a digest of every
/// rule's definition (built-in as embedded, custom from the config,
/// disabled ones absent). Two reports with the same one looked for the
/// same tokens the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSetId {
    pub patscan: String,
    pub rules: String,
}

impl RuleSetId {
    pub fn new(rules: &RuleSet) -> RuleSetId {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for rule in rules.rules() {
            let spec = serde_json::to_vec(&rule.spec).unwrap_or_default();
            // Length-prefixed, so no two different rule lists hash alike.
            hasher.update((spec.len() as u64).to_le_bytes());
            hasher.update(&spec);
        }
        let digest = hasher.finalize();
        RuleSetId {
            patscan: env!("CARGO_PKG_VERSION").to_string(),
            rules: digest[..8].iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

pub struct ScanReport {
    pub findings: Vec<Finding>,
    /// Sorted by path, then message, so output is stable across runs.
    pub problems: Vec<Problem>,
    pub summary: Summary,
}

/// Sorts what the sources found and counts it into a report.
pub fn finish(mut findings: Vec<Finding>, tally: Tally, started: Instant) -> ScanReport {
    tally.progress.finish();
    let allowed = suppress::take_inline_allowed(&mut findings);
    // An organisation scan's findings go by repository first (`None`
    // for local scans, so their order is unchanged).
    findings.sort_by(|a, b| {
        (
            &a.repository,
            &a.path,
            a.line,
            a.column,
            &a.rule_id,
            &a.origin,
        )
            .cmp(&(
                &b.repository,
                &b.path,
                b.line,
                b.column,
                &b.rule_id,
                &b.origin,
            ))
    });
    let commit_activity = tally.commit_activity();
    let mut problems = tally
        .problems
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    for problem in &mut problems {
        // A message can quote input (an archive's or a repository's error
        // text); it reaches stderr and every report format.
        problem.message = crate::redact::redact_tokens(&problem.message);
    }
    problems.sort();
    problems.dedup();

    let mut findings_by_rule = BTreeMap::new();
    for finding in &findings {
        *findings_by_rule.entry(finding.rule_id.clone()).or_insert(0) += 1;
    }
    let summary = Summary {
        files_scanned: tally.files.load(Ordering::Relaxed),
        unit: if tally.unit.is_empty() {
            "files"
        } else {
            tally.unit
        },
        bytes_scanned: tally.bytes.load(Ordering::Relaxed),
        binary_files_skipped: tally.binary_skipped.load(Ordering::Relaxed),
        large_files_skipped: tally.large_skipped.load(Ordering::Relaxed),
        archives_scanned: tally.archives.load(Ordering::Relaxed),
        archive_members_scanned: tally.archive_members.load(Ordering::Relaxed),
        problems: problems.len(),
        findings: findings.len(),
        findings_by_rule,
        duration_seconds: started.elapsed().as_secs_f64(),
        suppressed: SuppressedCounts {
            inline_comment: allowed.len(),
            ..SuppressedCounts::default()
        },
        stale_baseline_entries: Vec::new(),
        cache: None,
        commit_activity,
        organisation: None,
        images: None,
        rule_set: None,
    };
    ScanReport {
        findings,
        problems,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokengen::{generate, TokenRng};

    #[test]
    fn problem_messages_are_masked_and_each_reported_once() {
        let token = generate("npm-token", &mut TokenRng::new(4)).unwrap();
        let tally = Tally::default();
        for _ in 0..2 {
            tally.problem(Problem::new("a.zip", &format!("bad entry {token}")));
        }
        let report = finish(Vec::new(), tally, Instant::now());
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].message, "bad entry npm_…[40 chars]");
        assert_eq!(report.summary.problems, 1);
    }

    #[test]
    fn the_key_changes_with_rules_and_settings_that_change_detection() {
        let rules = crate::rules::builtin().unwrap_or_else(|e| panic!("{e}"));
        let options = ScanOptions::default();
        let base = options.detection_key(&rules);
        assert_eq!(base, options.detection_key(&rules));

        let fewer = RuleSet::compile(rules.rules()[1..].iter().map(|r| r.spec.clone()).collect())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(base, options.detection_key(&fewer));

        let smaller = ScanOptions {
            max_file_size: 1 << 20,
            ..ScanOptions::default()
        };
        assert_ne!(base, smaller.detection_key(&rules));
        let closed = ScanOptions {
            archives: None,
            ..ScanOptions::default()
        };
        assert_ne!(base, closed.detection_key(&rules));

        // What only changes the output does not.
        let shown = ScanOptions {
            show_secrets: true,
            line_hashes: false,
            threads: 1,
            ..ScanOptions::default()
        };
        assert_eq!(base, shown.detection_key(&rules));
    }
}
