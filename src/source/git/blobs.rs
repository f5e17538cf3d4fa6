//! Scans blobs in parallel while they are still being listed: one worker
//! per thread of a rayon pool, each with its own repository handle (pack
//! caches are per handle), its own [`Scanner`] and read buffer, taking
//! batches of blobs from a channel. Batches are a commit's new blobs, which
//! are often deltas of each other, so they stay on one thread.
//!
//! With a [`BlobCache`], a blob it knows as clean is counted as scanned
//! without being read; one it knows with findings is read and scanned
//! again (the cache holds no secrets) and checked against the entry.

use std::sync::atomic::Ordering;
use std::sync::Mutex;

use super::introduce::Job;
use super::one_line;
use super::packread::{PackReader, Packs, DEFAULT_CACHE};
use super::warn;
use crate::cache::blobs::{BlobCache, Mode};
use crate::cache::entry::{Entry, Outcome as Cached};
use crate::model::{Finding, Origin};
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

/// What a history scan with a cache shares with the workers: the cache,
/// and the blobs found to have findings (for the run's record).
pub struct Memory<'a> {
    pub cache: &'a BlobCache,
    with_findings: Mutex<Vec<Job>>,
}

impl<'a> Memory<'a> {
    pub fn new(cache: &'a BlobCache) -> Memory<'a> {
        Memory {
            cache,
            with_findings: Mutex::new(Vec::new()),
        }
    }

    /// The jobs whose blobs had findings, so far.
    pub fn with_findings(&self) -> Vec<Job> {
        self.with_findings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Scans every job received until the channel closes; `origin` turns a
/// job into its provenance and the path to show. Findings come back
/// unordered.
#[allow(clippy::too_many_arguments)]
pub fn scan(
    sync: &gix::ThreadSafeRepository,
    packs: &Packs,
    jobs: crossbeam_channel::Receiver<Vec<Job>>,
    rules: &RuleSet,
    options: &ScanOptions,
    tally: &Tally,
    origin: &(dyn Fn(&gix::Repository, &Job) -> (String, Origin) + Sync),
    memory: Option<&Memory<'_>>,
) -> Vec<Finding> {
    let cache = memory.map(|m| m.cache);
    let collected = Mutex::new(Vec::new());
    let trouble = Mutex::new(Trouble::default());
    let mismatches = std::sync::atomic::AtomicU64::new(0);
    let work = || {
        let repo = sync.to_thread_local();
        let mut reader = PackReader::new(&repo, packs, DEFAULT_CACHE);
        let mut scanner =
            Scanner::new(rules, options.show_secrets).with_line_hashes(options.line_hashes);
        let mut buf = Vec::new();
        let mut found = Vec::new();
        let mut local = Vec::new();
        let mut mine = Trouble::default();
        let mut learnt = Vec::new();
        let mut with_findings = Vec::new();
        while let Ok(batch) = jobs.recv() {
            for job in &batch {
                let mode = cache.map_or(0, |_| mode_of(job, options));
                let known = cache.and_then(|c| c.lookup(&job.id, mode));
                if let (Some(cache), Some(entry)) = (cache, known) {
                    if entry.is_clean() {
                        tally.replay(&entry.outcome);
                        cache.counters.hit();
                        continue;
                    }
                }
                let outcome = scan_one(
                    &mut reader,
                    job,
                    &mut scanner,
                    &mut buf,
                    options,
                    tally,
                    &mut local,
                    &mut mine,
                );
                if let (Some(cache), Some(outcome)) = (cache, outcome) {
                    let entry = Entry::new(outcome, &local, &job.path.to_str_lossy());
                    match known {
                        Some(old) => {
                            cache.counters.rescanned();
                            if *old != entry {
                                mismatches.fetch_add(1, Ordering::Relaxed);
                                learnt.push((job.id, mode, entry));
                            }
                        }
                        None => {
                            cache.counters.miss();
                            learnt.push((job.id, mode, entry));
                        }
                    }
                }
                if !local.is_empty() {
                    if memory.is_some() {
                        with_findings.push(job.clone());
                    }
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
        if let Some(memory) = memory {
            memory.cache.record(&mut learnt);
            memory
                .with_findings
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .append(&mut with_findings);
        }
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
    let mismatches = mismatches.into_inner();
    if mismatches > 0 {
        warn(
            tally,
            repo,
            format!(
                "{mismatches} blob(s) held other findings than the cache said; the fresh \
                 scan's are reported and the cache is corrected"
            ),
        );
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
) -> Option<Cached> {
    // The header is cheap and keeps a huge blob from being inflated at all.
    match reader.header(&job.id, Some(gix::object::Kind::Blob)) {
        Ok(Some((_, size))) if size > options.max_file_size => {
            tally.large_skipped.fetch_add(1, Ordering::Relaxed);
            tally.progress.inc(0);
            return Some(Cached::Large);
        }
        Ok(Some(_)) => {}
        Ok(None) => {
            trouble.missing(&job.id);
            tally.progress.inc(0);
            return None;
        }
        Err(e) => {
            trouble.unreadable(&job.id, &e);
            tally.progress.inc(0);
            return None;
        }
    }
    match reader.read(&job.id, buf) {
        Ok(Some(_)) => {}
        Ok(None) => {
            trouble.missing(&job.id);
            tally.progress.inc(0);
            return None;
        }
        Err(e) => {
            trouble.unreadable(&job.id, &e);
            tally.progress.inc(0);
            return None;
        }
    };
    let path = job.path.to_str_lossy();
    if let Some(limits) = &options.archives {
        if let Some(archive) =
            archive::scan_archive_blob(scanner, buf, &path, limits, &Origin::Stdin, out)
        {
            tally.archive_scanned(&archive);
            tally.progress.inc(0);
            // An archive with problems is not cached: they are reported
            // again next time.
            let outcome = archive
                .problems
                .is_empty()
                .then(|| crate::scan::archive_outcome(&archive));
            for problem in archive.problems {
                tally.problem(problem);
            }
            return outcome;
        }
    }
    match scanner.scan_bytes(buf, &path, &Origin::Stdin, out) {
        Outcome::Scanned { bytes } => {
            tally.scanned(bytes);
            Some(Cached::Text { bytes })
        }
        Outcome::Binary => {
            tally.binary_skipped.fetch_add(1, Ordering::Relaxed);
            tally.progress.inc(0);
            Some(Cached::Binary)
        }
    }
}

/// How `job` is scanned: as text, or as the archive its path names.
fn mode_of(job: &Job, options: &ScanOptions) -> Mode {
    if options.archives.is_none() {
        return 0;
    }
    match archive::kind_of(&job.path.to_str_lossy()) {
        Some(kind) => 1 + kind as u8,
        None => 0,
    }
}
