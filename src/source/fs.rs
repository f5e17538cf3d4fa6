//! The file-system source: a parallel, gitignore-aware walk (the `ignore`
//! crate, as in ripgrep) whose worker threads scan each file as they reach it.

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Instant;

use ignore::{WalkBuilder, WalkState};

use crate::cache::entry::{Entry, Outcome as Cached};
use crate::cache::files::{self, FileCache, FileEntry, Stamp};
use crate::cache::CacheSetting;
use crate::error::ScanError;
use crate::model::{Finding, Origin};
use crate::progress::Progress;
use crate::rules::RuleSet;
use crate::scan::{Problem, ScanOptions, ScanReport, Tally};
use crate::scanner::{Outcome, Scanner};
use crate::source::archive;

/// Scans the paths of `options` (files, folders, `-` for standard
/// input) into one report. Only a setup failure (a PATH that does not exist) is an
/// error; anything unreadable during the scan becomes a [`Problem`].
pub fn scan(rules: &RuleSet, options: &ScanOptions) -> Result<ScanReport, ScanError> {
    let started = Instant::now();
    let defaulted = options.paths.is_empty();
    let paths = if defaulted {
        vec![PathBuf::from(".")]
    } else {
        options.paths.clone()
    };
    let (stdin_requested, roots): (Vec<_>, Vec<_>) =
        paths.into_iter().partition(|p| p.as_os_str() == "-");
    for root in &roots {
        if std::fs::symlink_metadata(root).is_err() {
            return Err(ScanError::PathNotFound(root.clone()));
        }
    }

    let tally = Tally::with_progress(Progress::new(options.progress, "files"));
    let cache = match &options.cache {
        CacheSetting::Dir(dir) => {
            let key = options.detection_key(rules);
            let (cache, warning) = FileCache::open(dir, key);
            if let Some(message) = warning {
                tally.problem(Problem::new(&dir.to_string_lossy(), &message));
            }
            Some(cache)
        }
        // The default place is a repository's; folders have none.
        CacheSetting::Off | CacheSetting::Default => None,
    };
    let mut findings = scan_paths(rules, &roots, defaulted, options, &tally, cache.as_ref());
    if !stdin_requested.is_empty() {
        scan_stdin(rules, options, &tally, &mut findings)?;
    }
    let summary = cache.map(|cache| {
        let summary = cache.counters.summary();
        if let Err(message) = cache.save() {
            let dir = match &options.cache {
                CacheSetting::Dir(dir) => dir.to_string_lossy().into_owned(),
                _ => String::new(),
            };
            tally.problem(Problem::new(&dir, &message));
        }
        summary
    });
    let mut report = crate::scan::finish(findings, tally, started);
    report.summary.cache = summary;
    Ok(report)
}

/// Walks `roots` and scans every regular file, in parallel.
pub fn scan_paths(
    rules: &RuleSet,
    roots: &[PathBuf],
    strip_dot_prefix: bool,
    options: &ScanOptions,
    tally: &Tally,
    cache: Option<&FileCache>,
) -> Vec<Finding> {
    let Some((first, rest)) = roots.split_first() else {
        return Vec::new();
    };
    let mut builder = WalkBuilder::new(first);
    for root in rest {
        builder.add(root);
    }
    let respect_ignores = !options.include_ignored;
    let skip_paths = options.skip_paths.clone();
    builder
        .hidden(false)
        .parents(respect_ignores)
        .ignore(respect_ignores)
        .git_ignore(respect_ignores)
        .git_global(respect_ignores)
        .git_exclude(respect_ignores)
        // Honour .gitignore in a plain folder too: what a user ignores is
        // ignored whether or not `git init` has run yet.
        .require_git(false)
        .follow_links(options.follow_links)
        .threads(options.threads)
        // Never descend into a repository's object store; history is its own
        // source, and packed objects are compressed anyway.
        .filter_entry(move |entry| {
            if entry.file_name() == ".git" && entry.file_type().is_some_and(|t| t.is_dir()) {
                return false;
            }
            // The config's `allow.paths`: pruned here, so never read.
            !(entry.depth() > 0 && skip_paths.as_ref().is_some_and(|g| g.skips(entry.path())))
        });

    let collected = Mutex::new(Vec::new());
    builder.build_parallel().run(|| {
        let mut worker = Worker {
            scanner: Scanner::new(rules, options.show_secrets)
                .with_line_hashes(options.line_hashes),
            findings: Vec::new(),
            collected: &collected,
            line_hashes: options.line_hashes,
            cache,
            learnt: Vec::new(),
        };
        Box::new(move |entry| {
            match entry {
                Ok(entry) => worker.visit(&entry, strip_dot_prefix, options, tally),
                Err(err) => {
                    let mut problem = Problem::from_walk_error(&err);
                    // Named as the files are: `loop/up`, not `./loop/up`.
                    if strip_dot_prefix {
                        problem.path = display_path(Path::new(&problem.path), true);
                    }
                    tally.problem(problem)
                }
            }
            WalkState::Continue
        })
    });
    collected.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// A walker thread's state; hands its findings over when the walk drops it.
struct Worker<'a> {
    scanner: Scanner<'a>,
    findings: Vec<Finding>,
    collected: &'a Mutex<Vec<Finding>>,
    /// Re-read files larger than a chunk for their findings' line hashes.
    line_hashes: bool,
    cache: Option<&'a FileCache>,
    /// What this thread scanned, for the cache.
    learnt: Vec<(String, FileEntry)>,
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        let mut all = self.collected.lock().unwrap_or_else(|p| p.into_inner());
        all.append(&mut self.findings);
        if let Some(cache) = self.cache {
            cache.record(&mut self.learnt);
        }
    }
}

impl Worker<'_> {
    fn visit(
        &mut self,
        entry: &ignore::DirEntry,
        strip_dot_prefix: bool,
        options: &ScanOptions,
        tally: &Tally,
    ) {
        let path = entry.path();
        let Some(file_type) = entry.file_type() else {
            return; // stdin; handled elsewhere
        };
        if file_type.is_dir() {
            return;
        }
        let display = display_path(path, strip_dot_prefix);
        if file_type.is_symlink() {
            // Not following links: a link to a file is reported as skipped
            // only when the user named it; inside a tree it is just passed.
            if entry.depth() == 0 {
                tally.problem(Problem::new(
                    &display,
                    "is a symbolic link; pass --follow to scan its target",
                ));
            }
            return;
        }
        if !file_type.is_file() {
            tally.problem(Problem::new(
                &display,
                "not a regular file (FIFO, socket or device); skipped",
            ));
            return;
        }
        self.scan_file(path, &display, options, tally);
    }

    fn scan_file(&mut self, path: &Path, display: &str, options: &ScanOptions, tally: &Tally) {
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(err) => {
                tally.problem(Problem::new(display, &format!("cannot open: {err}")));
                return;
            }
        };
        let stamp = match file.metadata() {
            Ok(meta) if meta.len() > options.max_file_size => {
                tally.too_large(display, meta.len(), options.max_file_size);
                return;
            }
            Ok(meta) => Stamp::of(&meta),
            Err(err) => {
                tally.problem(Problem::new(display, &format!("cannot stat: {err}")));
                return;
            }
        };
        let Some(cache) = self.cache else {
            self.scan_open_file(file, stamp.size, path, display, options, tally, false);
            return;
        };
        let key = files::key_of(path);
        let known = cache.lookup(&key);
        // Unchanged: the same size, time and inode, or, when only the
        // time or inode moved (a checkout, a `touch`), the same content.
        let mut unchanged = false;
        if let Some(old) = known {
            unchanged = if old.stamp == stamp {
                true
            } else if old.stamp.size == stamp.size && old.content.is_some() {
                let content = files::hash_all(&mut file).ok();
                if let Err(err) = file.rewind() {
                    tally.problem(Problem::new(display, &format!("read error: {err}")));
                    return;
                }
                content.is_some() && content == old.content
            } else {
                false
            };
            if unchanged && old.entry.is_clean() {
                tally.replay(&old.entry.outcome);
                cache.counters.hit();
                if old.stamp != stamp {
                    let mut entry = old.clone();
                    entry.stamp = stamp;
                    self.learnt.push((key, entry));
                }
                return;
            }
        }
        let found_from = self.findings.len();
        let scanned = self.scan_open_file(file, stamp.size, path, display, options, tally, true);
        let Some((outcome, content)) = scanned else {
            return;
        };
        let entry = Entry::new(outcome, &self.findings[found_from..], display);
        match known {
            Some(old) if unchanged => {
                cache.counters.rescanned();
                if old.entry == entry && old.stamp == stamp && old.content == content {
                    return;
                }
            }
            _ => cache.counters.miss(),
        }
        self.learnt.push((
            key,
            FileEntry {
                stamp,
                content,
                entry,
            },
        ));
    }

    /// Scans an opened file: how, for the cache, with a hash of its content
    /// when `hash` is set and it was read whole; `None` when reading it
    /// failed (so it is not cached).
    #[allow(clippy::too_many_arguments)]
    fn scan_open_file(
        &mut self,
        mut file: File,
        size: u64,
        path: &Path,
        display: &str,
        options: &ScanOptions,
        tally: &Tally,
        hash: bool,
    ) -> Option<(Cached, Option<[u8; 32]>)> {
        if let Some(limits) = &options.archives {
            if let Some(kind) = archive::kind_of(display) {
                let result = archive::scan_archive(
                    &mut self.scanner,
                    kind,
                    io::BufReader::new(file),
                    display,
                    size,
                    limits,
                    &mut self.findings,
                );
                tally.archive_scanned(&result);
                // With problems it is not cached: they are reported again.
                let outcome = result
                    .problems
                    .is_empty()
                    .then(|| crate::scan::archive_outcome(&result));
                for problem in result.problems {
                    tally.problem(problem);
                }
                return outcome.map(|o| (o, None));
            }
        }
        let found_from = self.findings.len();
        let mut hashing = files::Hashing::new(&mut file);
        let reader: &mut dyn Read = if hash {
            &mut hashing
        } else {
            &mut *hashing.inner
        };
        let scanned = self
            .scanner
            .scan_reader(reader, display, &Origin::File, &mut self.findings);
        match scanned {
            Ok(Outcome::Scanned { bytes }) => {
                tally.scanned(bytes);
                // Read to its end: the hash is of the whole content.
                let content = hash.then(|| hashing.finish());
                self.hash_lines(path, found_from);
                Some((Cached::Text { bytes }, content))
            }
            Ok(Outcome::Binary) => {
                tally.binary_skipped.fetch_add(1, Ordering::Relaxed);
                Some((Cached::Binary, None))
            }
            Err(err) => {
                // A read error mid-file: what was found before it is kept.
                tally.problem(Problem::new(display, &format!("read error: {err}")));
                None
            }
        }
    }
}

impl Worker<'_> {
    /// Fills the line hashes the scanner could not compute (inputs larger
    /// than one chunk) by reading the file again; only files with findings.
    fn hash_lines(&mut self, path: &Path, found_from: usize) {
        let new = &mut self.findings[found_from..];
        if !self.line_hashes || new.iter().all(|f| f.line_hash.is_some()) {
            return;
        }
        // Best effort: without it SARIF omits the hash and GitHub's upload
        // action computes it.
        if let Ok(mut file) = File::open(path) {
            let _ = crate::line_hash::fill_from_reader(&mut file, new);
        }
    }
}

fn display_path(path: &Path, strip_dot_prefix: bool) -> String {
    let shown = if strip_dot_prefix {
        path.strip_prefix("./").unwrap_or(path)
    } else {
        path
    };
    shown.to_string_lossy().into_owned()
}

fn scan_stdin(
    rules: &RuleSet,
    options: &ScanOptions,
    tally: &Tally,
    findings: &mut Vec<Finding>,
) -> Result<(), ScanError> {
    let mut scanner =
        Scanner::new(rules, options.show_secrets).with_line_hashes(options.line_hashes);
    let stdin = std::io::stdin();
    let mut handle = stdin.lock().take(options.max_file_size);
    match scanner.scan_reader(&mut handle, "<stdin>", &Origin::Stdin, findings) {
        Ok(Outcome::Scanned { bytes }) => {
            tally.scanned(bytes);
            // A stream has no size to check up front: say so when the limit
            // cut it, rather than pass off a partial scan as a whole one.
            let mut probe = [0u8; 1];
            let more = bytes == options.max_file_size
                && handle
                    .into_inner()
                    .read(&mut probe)
                    .map_err(|source| ScanError::Io {
                        path: PathBuf::from("<stdin>"),
                        source,
                    })?
                    > 0;
            if more {
                tally.large_skipped.fetch_add(1, Ordering::Relaxed);
                tally.problem(Problem::new(
                    "<stdin>",
                    &format!(
                        "only the first {} scanned: standard input is over --max-file-size",
                        crate::size::format_bytes(options.max_file_size)
                    ),
                ));
            }
        }
        Ok(Outcome::Binary) => {
            tally.binary_skipped.fetch_add(1, Ordering::Relaxed);
        }
        Err(source) => {
            return Err(ScanError::Io {
                path: PathBuf::from("<stdin>"),
                source,
            })
        }
    }
    Ok(())
}
