//! Scans blobs in parallel while they are still being listed: one worker
//! per thread of a rayon pool, each with its own repository handle (pack
//! caches are per handle), its own sink and read buffer, taking batches
//! of blobs from its queue (see [`Dispatch`]): the versions of one file,
//! often deltas of each other, go to one worker.
//!
//! Each blob goes to the scan stage's sink, which is asked first: a blob
//! the cache knows as clean is declined and never read, not even its
//! header. A whole object in a pack is streamed into the sink as it is
//! inflated; a large blob that must be made whole in memory waits at a
//! [`Gate`] for room in the memory budget.

use std::sync::Mutex;

use super::budget::{self, Gate, Plan, LARGE_BLOB};
use super::introduce::Job;
use super::one_line;
use super::packread::{Blob, PackReader, Packs};
use super::warn;
use crate::model::{Finding, Origin};
use crate::scan::archive;
use crate::scan::intake::Intake;
use crate::scan::sink::{Input, Locate, Sink};
use gix::bstr::ByteSlice;

/// Blobs sent to a worker at a time.
pub const BATCH: usize = 32;

/// What went wrong with single blobs, summed over the workers.
#[derive(Default)]
struct Trouble {
    missing: usize,
    /// The lowest id missing: which worker meets a missing blob first
    /// depends on timing, and two scans of one store must say the same.
    first_missing: Option<gix::ObjectId>,
    unreadable: Vec<String>,
}

impl Trouble {
    /// A blob the object store does not have (a partial or damaged clone).
    fn missing(&mut self, id: &gix::ObjectId) {
        self.missing += 1;
        self.first_missing = Some(self.first_missing.map_or(*id, |first| first.min(*id)));
    }

    /// A blob that is there but cannot be read or inflated.
    fn unreadable(&mut self, id: &gix::ObjectId, error: &(dyn std::error::Error + 'static)) {
        self.unreadable
            .push(format!("cannot read blob {id}: {}", one_line(error)));
    }
}

/// What a history scan with a cache shares with the workers: the scan
/// stage's intake that remembers, and the blobs found to have findings
/// (for the run's record).
pub struct Memory<'a> {
    pub intake: &'a Intake<'a>,
    with_findings: Mutex<Vec<Job>>,
}

impl<'a> Memory<'a> {
    pub fn new(intake: &'a Intake<'a>) -> Memory<'a> {
        Memory {
            intake,
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
        let mut hash = crate::fnv::Fnv1a::new();
        hash.write(key);
        let worker = (hash.finish() % self.pending.len() as u64) as usize;
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

/// Hands every job received, until the queues close, to a sink of
/// `intake`; `origin` turns a job into its provenance and the path to
/// show. Findings come back unordered.
pub fn scan(
    sync: &gix::ThreadSafeRepository,
    packs: &Packs,
    jobs: Inboxes,
    intake: &Intake<'_>,
    origin: &(dyn Fn(&gix::Repository, &Job) -> (String, Origin) + Sync),
    memory: Option<&Memory<'_>>,
) -> Vec<Finding> {
    let options = intake.options();
    let tally = intake.tally();
    let trouble = Mutex::new(Trouble::default());
    let plan = Plan::new(
        options.max_memory,
        budget::workers(options.threads),
        packs.objects(),
    );
    let gate = Gate::new(plan.large);
    let work = |me: usize| {
        let repo = sync.to_thread_local();
        let mut reader = PackReader::new(&repo, packs, plan.reader);
        let mut sink = intake.sink();
        let mut buf = Vec::new();
        let mut mine = Trouble::default();
        let mut with_findings = Vec::new();
        while let Some(batch) = next_batch(me, &jobs) {
            for job in &batch {
                let name = job.path.to_str_lossy();
                let input = Input::blob(&name, &job.id);
                // Declined: known clean, not even its header is read.
                let Some(ticket) = sink.wants(&input) else {
                    continue;
                };
                let locate = || origin(&repo, job);
                let found = feed(
                    &mut Reading {
                        reader: &mut reader,
                        buf: &mut buf,
                        gate: &gate,
                        max_size: options.max_file_size,
                        archives: options.archives.is_some(),
                        trouble: &mut mine,
                    },
                    &mut sink,
                    ticket,
                    &input,
                    job,
                    &locate,
                );
                if found > 0 && memory.is_some() {
                    with_findings.push(job.clone());
                }
            }
        }
        drop(sink);
        if let Some(memory) = memory {
            memory
                .with_findings
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .append(&mut with_findings);
        }
        let mut all = trouble.lock().unwrap_or_else(|p| p.into_inner());
        all.missing += mine.missing;
        all.first_missing = match (all.first_missing, mine.first_missing) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
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
    let mut trouble = trouble.into_inner().unwrap_or_else(|p| p.into_inner());
    // In the same order whichever worker met them.
    trouble.unreadable.sort();
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
    intake.take_findings()
}

/// A worker's means of reading a blob.
struct Reading<'a, 'r> {
    reader: &'a mut PackReader<'r>,
    /// Where a blob made whole in memory goes (shrunk after a large one).
    buf: &'a mut Vec<u8>,
    gate: &'a Gate,
    /// `--max-file-size`.
    max_size: u64,
    /// Whether archives are opened (read whole, in memory).
    archives: bool,
    trouble: &'a mut Trouble,
}

/// A worker's buffer keeps at most this much between blobs.
const KEEP_BUFFER: usize = 16 << 20;

/// Reads `job`'s blob and hands it to `sink` with `ticket`: how many
/// findings it had.
fn feed<S: Sink>(
    reading: &mut Reading<'_, '_>,
    sink: &mut S,
    ticket: S::Ticket,
    input: &Input<'_>,
    job: &Job,
    locate: Locate<'_>,
) -> usize {
    let found = feed_blob(reading, sink, ticket, input, job, locate);
    if reading.buf.capacity() > KEEP_BUFFER {
        *reading.buf = Vec::new();
    }
    found
}

fn feed_blob<S: Sink>(
    reading: &mut Reading<'_, '_>,
    sink: &mut S,
    ticket: S::Ticket,
    input: &Input<'_>,
    job: &Job,
    locate: Locate<'_>,
) -> usize {
    let Reading {
        reader,
        buf,
        gate,
        max_size,
        archives,
        trouble,
    } = reading;
    // The header is cheap and keeps a huge blob from being inflated at all.
    let size = match reader.header(&job.id, Some(gix::object::Kind::Blob)) {
        Ok(Some((_, size))) if size > *max_size => {
            sink.too_large(ticket);
            return 0;
        }
        Ok(Some((_, size))) => size,
        Ok(None) => {
            trouble.missing(&job.id);
            sink.unread(ticket);
            return 0;
        }
        Err(e) => {
            trouble.unreadable(&job.id, &e);
            sink.unread(ticket);
            return 0;
        }
    };
    let archive = *archives && archive::kind_of(input.name).is_some();
    // A large blob made whole in memory (a delta chain's result, an
    // archive) waits for room: its result and its base, at most.
    let _permit = (size >= LARGE_BLOB && (archive || !reader.streams(&job.id)))
        .then(|| gate.acquire(2 * size));
    if archive {
        return feed_whole(reader, buf, trouble, sink, ticket, input, job, locate);
    }
    let ticket = match reader.blob(&job.id, buf) {
        Ok(Some(Blob::Bytes(bytes))) => return sink.bytes(ticket, input, bytes, locate),
        Ok(Some(Blob::Stream(mut stream))) => {
            match sink.stream(ticket, input, &mut stream, locate) {
                Ok(found) => {
                    if found > 0 && sink.needs_line_hashes(found) {
                        hash_again(reader, buf, sink, &job.id, found);
                    }
                    return found;
                }
                Err((ticket, _)) => ticket,
            }
        }
        Ok(None) => {
            trouble.missing(&job.id);
            sink.unread(ticket);
            return 0;
        }
        Err(e) => {
            trouble.unreadable(&job.id, &e);
            sink.unread(ticket);
            return 0;
        }
    };
    // A stream that failed on the way (the sink dropped what it found):
    // the blob read whole (through gix's store when the pack's entry is
    // what failed), which reports the error properly.
    feed_whole(reader, buf, trouble, sink, ticket, input, job, locate)
}

/// Streams the blob `id` once more for the line hashes of its `count`
/// findings, which a blob longer than the scanner's buffer could not get
/// while it was scanned. Only blobs with findings pay for it.
fn hash_again<S: Sink>(
    reader: &mut PackReader<'_>,
    buf: &mut Vec<u8>,
    sink: &mut S,
    id: &gix::hash::oid,
    count: usize,
) {
    match reader.blob(id, buf) {
        Ok(Some(Blob::Stream(mut stream))) => sink.hash_lines(count, &mut stream),
        Ok(Some(Blob::Bytes(mut bytes))) => sink.hash_lines(count, &mut bytes),
        // Read a moment ago: a failure now only costs the hashes.
        Ok(None) | Err(_) => {}
    }
}

/// Reads the blob whole into `buf` and hands it to `sink`; a blob that
/// cannot be read is counted in the trouble and given back unread.
#[allow(clippy::too_many_arguments)]
fn feed_whole<S: Sink>(
    reader: &mut PackReader<'_>,
    buf: &mut Vec<u8>,
    trouble: &mut Trouble,
    sink: &mut S,
    ticket: S::Ticket,
    input: &Input<'_>,
    job: &Job,
    locate: Locate<'_>,
) -> usize {
    match reader.read(&job.id, buf) {
        Ok(Some(_)) => sink.bytes(ticket, input, buf, locate),
        Ok(None) => {
            trouble.missing(&job.id);
            sink.unread(ticket);
            0
        }
        Err(e) => {
            trouble.unreadable(&job.id, &e);
            sink.unread(ticket);
            0
        }
    }
}
