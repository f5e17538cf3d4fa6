//! Scans blobs in parallel while they are still being listed: one worker
//! per thread of a rayon pool, each with its own repository handle (pack
//! caches are per handle), its own [`Scanner`] and read buffer, taking
//! batches of blobs from a channel. Batches are a commit's new blobs, which
//! are often deltas of each other, so they stay on one thread.
//!
//! Each blob goes to the scan stage's sink, which is asked first: a blob
//! the cache knows as clean is declined and never read, not even its
//! header.

use std::sync::Mutex;

use super::introduce::Job;
use super::one_line;
use super::packread::{PackReader, Packs, DEFAULT_CACHE};
use super::warn;
use crate::model::{Finding, Origin};
use crate::scan::intake::Intake;
use crate::scan::sink::{Input, Sink};
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

/// Hands every job received, until the channel closes, to a sink of
/// `intake`; `origin` turns a job into its provenance and the path to
/// show. Findings come back unordered.
pub fn scan(
    sync: &gix::ThreadSafeRepository,
    packs: &Packs,
    jobs: crossbeam_channel::Receiver<Vec<Job>>,
    intake: &Intake<'_>,
    origin: &(dyn Fn(&gix::Repository, &Job) -> (String, Origin) + Sync),
    memory: Option<&Memory<'_>>,
) -> Vec<Finding> {
    let options = intake.options();
    let tally = intake.tally();
    let trouble = Mutex::new(Trouble::default());
    let work = || {
        let repo = sync.to_thread_local();
        let mut reader = PackReader::new(&repo, packs, DEFAULT_CACHE);
        let mut sink = intake.sink();
        let mut buf = Vec::new();
        let mut mine = Trouble::default();
        let mut with_findings = Vec::new();
        while let Ok(batch) = jobs.recv() {
            for job in &batch {
                let name = job.path.to_str_lossy();
                let input = Input::blob(&name, &job.id);
                // Declined: known clean, not even its header is read.
                let Some(ticket) = sink.wants(&input) else {
                    continue;
                };
                match read_one(&mut reader, job, &mut buf, options.max_file_size, &mut mine) {
                    Read::Whole => {
                        let locate = || origin(&repo, job);
                        let found = sink.bytes(ticket, &input, &buf, &locate);
                        if found > 0 && memory.is_some() {
                            with_findings.push(job.clone());
                        }
                    }
                    Read::TooLarge => sink.too_large(ticket),
                    Read::Failed => sink.unread(ticket),
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
    intake.take_findings()
}

/// What reading a blob came to.
enum Read {
    /// Its bytes are in the buffer.
    Whole,
    /// Over `--max-file-size`, said by its header: not inflated.
    TooLarge,
    /// Missing or unreadable (counted in the trouble).
    Failed,
}

fn read_one(
    reader: &mut PackReader<'_>,
    job: &Job,
    buf: &mut Vec<u8>,
    max_size: u64,
    trouble: &mut Trouble,
) -> Read {
    // The header is cheap and keeps a huge blob from being inflated at all.
    match reader.header(&job.id, Some(gix::object::Kind::Blob)) {
        Ok(Some((_, size))) if size > max_size => return Read::TooLarge,
        Ok(Some(_)) => {}
        Ok(None) => {
            trouble.missing(&job.id);
            return Read::Failed;
        }
        Err(e) => {
            trouble.unreadable(&job.id, &e);
            return Read::Failed;
        }
    }
    match reader.read(&job.id, buf) {
        Ok(Some(_)) => Read::Whole,
        Ok(None) => {
            trouble.missing(&job.id);
            Read::Failed
        }
        Err(e) => {
            trouble.unreadable(&job.id, &e);
            Read::Failed
        }
    }
}
