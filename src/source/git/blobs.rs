//! Scans blobs in parallel while they are still being listed: one worker
//! per thread of a rayon pool, each with its own repository handle (pack
//! caches are per handle), its own [`Scanner`] and read buffer, taking
//! batches of blobs from a channel. Batches are a commit's new blobs, which
//! are often deltas of each other, so they stay on one thread.

use std::sync::atomic::Ordering;
use std::sync::Mutex;

use super::introduce::Job;
use super::one_line;
use super::packread::{PackReader, Packs, DEFAULT_CACHE};
use super::warn;
use crate::finding::{Finding, Origin};
use crate::rules::RuleSet;
use crate::scan::{ScanOptions, Tally};
use crate::scanner::{Outcome, Scanner};
use crate::source::archive;
use gix::bstr::ByteSlice;

/// Blobs sent to a worker at a time.
pub const BATCH: usize = 32;

/// What went wrong with single blobs, summed over the workers.
#[derive(Default)]
struct Trouble {
    missing: usize,
    first_missing: Option<String>,
    unreadable: Vec<String>,
}

impl Trouble {
    /// A blob the object store does not have (a partial or damaged clone).
    fn missing(&mut self, id: &gix::ObjectId) {
        self.missing += 1;
        self.first_missing.get_or_insert_with(|| id.to_string());
    }

    /// A blob that is there but cannot be read or inflated.
    fn unreadable(&mut self, id: &gix::ObjectId, error: &(dyn std::error::Error + 'static)) {
        self.unreadable
            .push(format!("cannot read blob {id}: {}", one_line(error)));
    }
}

/// Scans every job received until the channel closes; `origin` turns a
/// job into its provenance and the path to show. Findings come back
/// unordered.
pub fn scan(
    sync: &gix::ThreadSafeRepository,
    packs: &Packs,
    jobs: crossbeam_channel::Receiver<Vec<Job>>,
    rules: &RuleSet,
    options: &ScanOptions,
    tally: &Tally,
    origin: &(dyn Fn(&gix::Repository, &Job) -> (String, Origin) + Sync),
) -> Vec<Finding> {
    let collected = Mutex::new(Vec::new());
    let trouble = Mutex::new(Trouble::default());
    let work = || {
        let repo = sync.to_thread_local();
        let mut reader = PackReader::new(&repo, packs, DEFAULT_CACHE);
        let mut scanner =
            Scanner::new(rules, options.show_secrets).with_line_hashes(options.line_hashes);
        let mut buf = Vec::new();
        let mut found = Vec::new();
        let mut local = Vec::new();
        let mut mine = Trouble::default();
        while let Ok(batch) = jobs.recv() {
            for job in &batch {
                scan_one(
                    &mut reader,
                    job,
                    &mut scanner,
                    &mut buf,
                    options,
                    tally,
                    &mut local,
                    &mut mine,
                );
                if !local.is_empty() {
                    let (path, origin) = origin(&repo, job);
                    for mut finding in local.drain(..) {
                        // An archive member keeps its `!/member` part.
                        let scanned = job.path.to_str_lossy();
                        let member = finding.path.strip_prefix(scanned.as_ref()).unwrap_or("");
                        finding.path = format!("{path}{member}");
                        finding.origin = origin.clone();
                        found.push(finding);
                    }
                }
            }
        }
        collected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .append(&mut found);
        let mut all = trouble.lock().unwrap_or_else(|p| p.into_inner());
        all.missing += mine.missing;
        if all.first_missing.is_none() {
            all.first_missing = mine.first_missing;
        }
        all.unreadable.append(&mut mine.unreadable);
    };
    match rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()
    {
        Ok(pool) => {
            pool.broadcast(|_| work());
        }
        Err(_) => work(),
    }

    let repo = &sync.to_thread_local();
    let trouble = trouble.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(first) = trouble.first_missing {
        warn(
            tally,
            repo,
            format!(
                "{} blob(s) missing from the object store (a partial clone?), first: {first}; \
                 they were not scanned",
                trouble.missing
            ),
        );
    }
    for (i, message) in trouble.unreadable.iter().enumerate() {
        if i == super::MAX_OBJECT_WARNINGS {
            warn(
                tally,
                repo,
                format!("{} unreadable blobs in all", trouble.unreadable.len()),
            );
            break;
        }
        warn(tally, repo, message);
    }
    collected.into_inner().unwrap_or_else(|p| p.into_inner())
}

#[allow(clippy::too_many_arguments)]
fn scan_one(
    reader: &mut PackReader<'_>,
    job: &Job,
    scanner: &mut Scanner<'_>,
    buf: &mut Vec<u8>,
    options: &ScanOptions,
    tally: &Tally,
    out: &mut Vec<Finding>,
    trouble: &mut Trouble,
) {
    // The header is cheap and keeps a huge blob from being inflated at all.
    match reader.header(&job.id, Some(gix::object::Kind::Blob)) {
        Ok(Some((_, size))) if size > options.max_file_size => {
            tally.large_skipped.fetch_add(1, Ordering::Relaxed);
            tally.progress.inc(0);
            return;
        }
        Ok(Some(_)) => {}
        Ok(None) => {
            trouble.missing(&job.id);
            tally.progress.inc(0);
            return;
        }
        Err(e) => {
            trouble.unreadable(&job.id, &e);
            tally.progress.inc(0);
            return;
        }
    }
    match reader.read(&job.id, buf) {
        Ok(Some(_)) => {}
        Ok(None) => {
            trouble.missing(&job.id);
            tally.progress.inc(0);
            return;
        }
        Err(e) => {
            trouble.unreadable(&job.id, &e);
            tally.progress.inc(0);
            return;
        }
    };
    let path = job.path.to_str_lossy();
    if let Some(limits) = &options.archives {
        if let Some(archive) =
            archive::scan_archive_blob(scanner, buf, &path, limits, &Origin::Stdin, out)
        {
            tally.archive_scanned(&archive);
            tally.progress.inc(0);
            for problem in archive.problems {
                tally.problem(problem);
            }
            return;
        }
    }
    match scanner.scan_bytes(buf, &path, &Origin::Stdin, out) {
        Outcome::Scanned { bytes } => tally.scanned(bytes),
        Outcome::Binary => {
            tally.binary_skipped.fetch_add(1, Ordering::Relaxed);
            tally.progress.inc(0);
        }
    }
}
