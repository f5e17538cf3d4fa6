//! The file-system source: a parallel, gitignore-aware walk (the `ignore`
//! crate, as in ripgrep) whose worker threads scan each file as they reach it.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use ignore::{WalkBuilder, WalkState};

use crate::error::ScanError;
use crate::model::{Finding, Origin};
use crate::progress::Progress;
use crate::rules::RuleSet;
use crate::scan::intake::Intake;
use crate::scan::sink::{Input, Sink};
use crate::scan::{Problem, ScanOptions, ScanReport, Tally};
use crate::scanner::{Outcome, Scanner};

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
    let intake = Intake::files(rules, options, &tally);
    scan_paths(&roots, defaulted, options, &intake);
    let mut findings = intake.take_findings();
    if !stdin_requested.is_empty() {
        scan_stdin(rules, options, &tally, &mut findings)?;
    }
    let summary = intake.finish();
    let mut report = crate::scan::finish(findings, tally, started);
    report.summary.cache = summary;
    Ok(report)
}

/// Walks `roots` and hands every regular file to `intake`, in parallel.
pub fn scan_paths(
    roots: &[PathBuf],
    strip_dot_prefix: bool,
    options: &ScanOptions,
    intake: &Intake<'_>,
) {
    let Some((first, rest)) = roots.split_first() else {
        return;
    };
    let tally = intake.tally();
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

    builder.build_parallel().run(|| {
        let mut worker = Worker {
            sink: intake.sink(),
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
}

/// A walker thread's state: the scan stage's sink, which keeps what it
/// found until the walk drops it.
struct Worker<'i, 'a> {
    sink: crate::scan::intake::Worker<'i, 'a>,
}

impl Worker<'_, '_> {
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
        let meta = match file.metadata() {
            Ok(meta) if meta.len() > options.max_file_size => {
                tally.too_large(display, meta.len(), options.max_file_size);
                return;
            }
            Ok(meta) => meta,
            Err(err) => {
                tally.problem(Problem::new(display, &format!("cannot stat: {err}")));
                return;
            }
        };
        let input = Input::file(display, path, &meta);
        // Declined: the scan stage knows the file, unchanged and clean.
        let Some(ticket) = self.sink.wants(&input) else {
            return;
        };
        let locate = || (display.to_string(), Origin::File);
        if let Err(err) = self
            .sink
            .reader(ticket, &input, &mut file, meta.len(), &locate)
        {
            // A read error mid-file: what was found before it is kept.
            tally.problem(Problem::new(display, &format!("read error: {err}")));
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
