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

use super::budget::{self, Gate, Plan, LARGE_BLOB};
use super::introduce::Job;
use super::one_line;
use super::packread::{Blob, PackReader, Packs};
use super::warn;
use crate::cache::blobs::{BlobCache, Mode};
use crate::cache::entry::{Entry, Outcome as Cached};
use crate::model::{Finding, Origin};
use crate::rules::RuleSet;
use crate::scan::{ScanOptions, Tally};
use crate::scanner::{self, Outcome, Scanner};
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

/// The blobs listed, on their way to the workers: one queue per worker,
/// each blob going to the worker its file name hashes to, so that the
/// versions of one file (usually one delta chain) meet in one reader's
/// cache instead of each worker decoding the chain again (a sixth less
/// inflating on azure-pipelines-tasks than batches taken in turn). A worker whose queue
/// is empty takes from the others' (see [`next_batch`]), so none idles
/// while work waits.
pub struct Dispatch {
    senders: Vec<crossbeam_channel::Sender<Vec<Job>>>,
    pending: Vec<Vec<Job>>,
    /// Blobs sent so far.
    pub sent: usize,
}

/// The workers' ends of the queues.
pub type Inboxes = Vec<crossbeam_channel::Receiver<Vec<Job>>>;

/// Queues for the workers of a scan with `threads` (0: one per core),
/// each holding at most `batches` batches (`None`: unbounded).
pub fn queues(threads: usize, batches: Option<usize>) -> (Dispatch, Inboxes) {
    let workers = budget::workers(threads);
    let (senders, inboxes) = (0..workers)
        .map(|_| match batches {
            Some(batches) => crossbeam_channel::bounded((batches / workers).max(1)),
            None => crossbeam_channel::unbounded(),
        })
        .unzip();
    let dispatch = Dispatch {
        senders,
        pending: vec![Vec::new(); workers],
        sent: 0,
    };
    (dispatch, inboxes)
}

impl Dispatch {
    /// Queues `job` for the worker of its path; a batch goes out once
    /// it holds [`BATCH`] blobs.
    pub fn push(&mut self, job: Job) {
        // By file name, not path: git picks delta bases among objects of
        // similar names (its name hash weighs the end of the path), and a
        // repository's copies of one file in many folders chain together.
        let key = job.path.rsplit(|&b| b == b'/').next().unwrap_or(&job.path);
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for &byte in key {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
        }
        let worker = (hash % self.pending.len() as u64) as usize;
        self.pending[worker].push(job);
        if self.pending[worker].len() >= BATCH {
            self.send(worker);
        }
    }

    /// Sends every batch not sent yet.
    pub fn flush(&mut self) {
        for worker in 0..self.pending.len() {
            if !self.pending[worker].is_empty() {
                self.send(worker);
            }
        }
    }

    fn send(&mut self, worker: usize) {
        let batch = std::mem::take(&mut self.pending[worker]);
        self.sent += batch.len();
        // Fails only if the workers are gone (a panic, re-raised later).
        let _ = self.senders[worker].send(batch);
    }
}

/// The next batch for worker `me`: from its own queue, else from any
/// other's, else the first to arrive anywhere; `None` once every queue is
/// closed and empty.
fn next_batch(me: usize, inboxes: &Inboxes) -> Option<Vec<Job>> {
    let n = inboxes.len();
    for i in 0..n {
        if let Ok(batch) = inboxes[(me + i) % n].try_recv() {
            return Some(batch);
        }
    }
    let mut select = crossbeam_channel::Select::new();
    for inbox in inboxes {
        select.recv(inbox);
    }
    let mut open = n;
    while open > 0 {
        let operation = select.select();
        let i = operation.index();
        match operation.recv(&inboxes[i]) {
            Ok(batch) => return Some(batch),
            Err(_) => {
                select.remove(i);
                open -= 1;
            }
        }
    }
    None
}

/// Scans every job received until the queues close; `origin` turns a
/// job into its provenance and the path to show. Findings come back
/// unordered.
#[allow(clippy::too_many_arguments)]
pub fn scan(
    sync: &gix::ThreadSafeRepository,
    packs: &Packs,
    jobs: Inboxes,
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
    let plan = Plan::new(
        options.max_memory,
        budget::workers(options.threads),
        packs.objects(),
    );
    let gate = Gate::new(plan.large);
    let work = |me: usize| {
        let repo = sync.to_thread_local();
        let mut reader = PackReader::new(&repo, packs, plan.reader);
        let mut head = Vec::with_capacity(scanner::BINARY_SNIFF_BYTES);
        let mut scanner =
            Scanner::new(rules, options.show_secrets).with_line_hashes(options.line_hashes);
        let mut buf = Vec::new();
        let mut found = Vec::new();
        let mut local = Vec::new();
        let mut mine = Trouble::default();
        let mut learnt = Vec::new();
        let mut with_findings = Vec::new();
        while let Some(batch) = next_batch(me, &jobs) {
            for job in &batch {
                let mode = cache.map_or(0, |_| mode_of(job, options));
                let known = cache.and_then(|c| c.lookup(&job.id, mode));
                if let (Some(cache), Some(entry)) = (cache, &known) {
                    if entry.is_clean() {
                        tally.replay(&entry.outcome);
                        cache.counters.hit();
                        continue;
                    }
                }
                let outcome = scan_one(
                    &mut Reading {
                        reader: &mut reader,
                        scanner: &mut scanner,
                        buf: &mut buf,
                        head: &mut head,
                        gate: &gate,
                    },
                    job,
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
                            if old != entry {
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
        .num_threads(jobs.len())
        .build()
    {
        Ok(pool) => {
            pool.broadcast(|context| work(context.index()));
        }
        Err(_) => work(0),
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

/// A worker's means of reading and scanning a blob.
struct Reading<'a, 'r, 's> {
    reader: &'a mut PackReader<'r>,
    scanner: &'a mut Scanner<'s>,
    /// Where a blob made whole in memory goes (shrunk after a large one).
    buf: &'a mut Vec<u8>,
    /// The first bytes of a streamed blob (see [`SniffFirst`]).
    head: &'a mut Vec<u8>,
    gate: &'a Gate,
}

/// A worker's buffer keeps at most this much between blobs.
const KEEP_BUFFER: usize = 16 << 20;

fn scan_one(
    reading: &mut Reading<'_, '_, '_>,
    job: &Job,
    options: &ScanOptions,
    tally: &Tally,
    out: &mut Vec<Finding>,
    trouble: &mut Trouble,
) -> Option<Cached> {
    let outcome = scan_blob(reading, job, options, tally, out, trouble);
    if reading.buf.capacity() > KEEP_BUFFER {
        *reading.buf = Vec::new();
    }
    outcome
}

fn scan_blob(
    reading: &mut Reading<'_, '_, '_>,
    job: &Job,
    options: &ScanOptions,
    tally: &Tally,
    out: &mut Vec<Finding>,
    trouble: &mut Trouble,
) -> Option<Cached> {
    let Reading {
        reader,
        scanner,
        buf,
        head,
        gate,
    } = reading;
    // The header is cheap and keeps a huge blob from being inflated at all.
    let size = match reader.header(&job.id, Some(gix::object::Kind::Blob)) {
        Ok(Some((_, size))) if size > options.max_file_size => {
            tally.large_skipped.fetch_add(1, Ordering::Relaxed);
            tally.progress.inc(0);
            return Some(Cached::Large);
        }
        Ok(Some((_, size))) => size,
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
    let archive = options
        .archives
        .as_ref()
        .filter(|_| archive::kind_of(&path).is_some());
    // A large blob made whole in memory (a delta chain's result, an
    // archive) waits for room: its result and its base, at most.
    let _permit = (size >= LARGE_BLOB && (archive.is_some() || !reader.streams(&job.id)))
        .then(|| gate.acquire(2 * size));
    if let Some(limits) = archive {
        if !read_whole(reader, job, buf, tally, trouble) {
            return None;
        }
        let archive = archive::scan_archive_blob(scanner, buf, &path, limits, &Origin::Stdin, out)?;
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
    let before = out.len();
    let scanned = match reader.blob(&job.id, buf) {
        Ok(Some(Blob::Bytes(bytes))) => Ok(scanner.scan_bytes(bytes, &path, &Origin::Stdin, out)),
        Ok(Some(Blob::Stream(stream))) => {
            let mut stream = SniffFirst::new(stream, head);
            scanner.scan_reader(&mut stream, &path, &Origin::Stdin, out)
        }
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
    let outcome = match scanned {
        Ok(outcome) => outcome,
        // A stream that failed on the way: what it found is dropped, and
        // the blob read whole (through gix's store when the pack's entry
        // is what failed), which reports the error properly.
        Err(_) => {
            out.truncate(before);
            if !read_whole(reader, job, buf, tally, trouble) {
                return None;
            }
            scanner.scan_bytes(buf, &path, &Origin::Stdin, out)
        }
    };
    match outcome {
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

/// Reads the blob whole into `buf`; `false` (counted) when it cannot be.
fn read_whole(
    reader: &mut PackReader<'_>,
    job: &Job,
    buf: &mut Vec<u8>,
    tally: &Tally,
    trouble: &mut Trouble,
) -> bool {
    match reader.read(&job.id, buf) {
        Ok(Some(_)) => true,
        Ok(None) => {
            trouble.missing(&job.id);
            tally.progress.inc(0);
            false
        }
        Err(e) => {
            trouble.unreadable(&job.id, &e);
            tally.progress.inc(0);
            false
        }
    }
}

/// Passes a stream through to the scanner, but ends it after its first
/// [`scanner::BINARY_SNIFF_BYTES`] when they make the scan skip it as
/// binary: the scanner decides on exactly those bytes either way, and the
/// rest of the blob is never inflated.
struct SniffFirst<'h, R> {
    inner: R,
    head: &'h mut Vec<u8>,
    decided: bool,
    binary: bool,
}

impl<'h, R> SniffFirst<'h, R> {
    fn new(inner: R, head: &'h mut Vec<u8>) -> SniffFirst<'h, R> {
        head.clear();
        SniffFirst {
            inner,
            head,
            decided: false,
            binary: false,
        }
    }
}

impl<R: std::io::Read> std::io::Read for SniffFirst<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.binary {
            return Ok(0);
        }
        if self.decided {
            return self.inner.read(out);
        }
        let want = (scanner::BINARY_SNIFF_BYTES - self.head.len()).min(out.len());
        let read = self.inner.read(&mut out[..want])?;
        self.head.extend_from_slice(&out[..read]);
        if read == 0 {
            self.decided = true;
        } else if self.head.len() == scanner::BINARY_SNIFF_BYTES {
            self.decided = true;
            self.binary = scanner::is_binary_head(self.head);
        }
        Ok(read)
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
