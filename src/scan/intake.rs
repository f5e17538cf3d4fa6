//! The scan stage's side of [`Sink`]: an [`Intake`] per scan, shared by
//! the source's threads, and a [`Worker`] per thread that scans what the
//! source hands it (archives opened, text decoded and matched), counts it,
//! and keeps its findings until the scan is done.
//!
//! The cache is a service of the intake, and only of the intake. A folder
//! scan with `--cache DIR` remembers files by path, size, times and inode
//! (and content when only the times moved); a history scan remembers blobs
//! by id, and the record of its last whole run ([`Intake::recall`]). An
//! input the cache knows as clean is declined in [`Sink::wants`] and
//! counted as the earlier scan counted it; one it knows with findings is
//! scanned again (the cache holds no secrets) and checked against the
//! entry.

use std::fs::File;
use std::io::{self, BufReader};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use gix::hash::ObjectId;

use super::archive;
use super::sink::{Group, Input, Key, Locate, ReadSeek, Sink};
use super::sniff::SniffFirst;
use super::{ArchiveTally, Problem, ScanOptions, Tally};
use crate::cache::blobs::{BlobCache, Mode};
use crate::cache::entry::{Entry, Outcome as Cached};
use crate::cache::files::{self, FileCache, FileEntry, Stamp};
use crate::cache::layers::LayerCache;
use crate::cache::store::{self, Kind};
use crate::model::{CacheSetting, CacheSummary, Finding, Origin};
use crate::rules::RuleSet;
use crate::scanner::{Outcome, Scanner};

/// What earlier scans learnt, as this scan can use it.
enum Memory {
    Off,
    Files(FileCache),
    Blobs(BlobCache),
    Layers(LayerCache),
}

/// One scan's intake: what every [`Worker`] shares.
pub struct Intake<'a> {
    rules: &'a RuleSet,
    options: &'a ScanOptions,
    tally: &'a Tally,
    memory: Memory,
    /// Where the cache's warnings are reported: its folder, or the
    /// repository.
    place: String,
    /// The findings of workers that are done.
    collected: Mutex<Vec<Finding>>,
    /// Inputs with other findings than the cache said.
    mismatches: AtomicU64,
}

impl<'a> Intake<'a> {
    /// An intake that remembers nothing.
    pub fn new(rules: &'a RuleSet, options: &'a ScanOptions, tally: &'a Tally) -> Intake<'a> {
        Intake {
            rules,
            options,
            tally,
            memory: Memory::Off,
            place: String::new(),
            collected: Mutex::new(Vec::new()),
            mismatches: AtomicU64::new(0),
        }
    }

    /// The intake of a folder scan: with `--cache DIR`, files are
    /// remembered there (the default place is a repository's; folders have
    /// none). A cache file that cannot be trusted is reported and rebuilt.
    pub fn files(rules: &'a RuleSet, options: &'a ScanOptions, tally: &'a Tally) -> Intake<'a> {
        let mut intake = Intake::new(rules, options, tally);
        if let CacheSetting::Dir(dir) = &options.cache {
            intake.place = dir.to_string_lossy().into_owned();
            let (cache, warning) = FileCache::open(dir, options.detection_key(rules));
            if let Some(message) = warning {
                intake.warn(&message);
            }
            intake.memory = Memory::Files(cache);
        }
        intake
    }

    /// The intake of the history of the repository at `git_dir`, named
    /// `place` in warnings: blobs are remembered unless the cache is off or
    /// there is nowhere to keep it.
    pub fn history(
        rules: &'a RuleSet,
        options: &'a ScanOptions,
        tally: &'a Tally,
        git_dir: &Path,
        place: String,
    ) -> Intake<'a> {
        let mut intake = Intake::new(rules, options, tally);
        intake.place = place;
        let key = options.detection_key(rules);
        if let Some((cache, warning)) = BlobCache::open(&options.cache, git_dir, key) {
            if let Some(message) = warning {
                intake.warn(&message);
            }
            intake.memory = Memory::Blobs(cache);
        }
        intake
    }

    /// The intake of an image scan: layers are remembered by digest, in
    /// `--cache DIR` or the user cache folder, unless the cache is off.
    pub fn layers(rules: &'a RuleSet, options: &'a ScanOptions, tally: &'a Tally) -> Intake<'a> {
        let mut intake = Intake::new(rules, options, tally);
        if let Some((cache, warning)) =
            LayerCache::open(&options.cache, options.detection_key(rules))
        {
            intake.place = cache.path().to_string_lossy().into_owned();
            if let Some(message) = warning {
                intake.warn(&message);
            }
            intake.memory = Memory::Layers(cache);
        }
        intake
    }

    pub fn options(&self) -> &'a ScanOptions {
        self.options
    }

    pub fn tally(&self) -> &'a Tally {
        self.tally
    }

    /// Whether blobs are remembered (a history scan with its cache): only
    /// then is a whole run worth recording.
    pub fn remembers_blobs(&self) -> bool {
        matches!(self.memory, Memory::Blobs(_))
    }

    /// A worker for one thread of the source.
    pub fn sink(&self) -> Worker<'_, 'a> {
        Worker {
            intake: self,
            scanner: Scanner::new(self.rules, self.options.show_secrets)
                .with_line_hashes(self.options.line_hashes),
            local: Vec::new(),
            head: Vec::with_capacity(crate::scanner::BINARY_SNIFF_BYTES),
            found: Vec::new(),
            files: Vec::new(),
            blobs: Vec::new(),
            group: None,
        }
    }

    /// The findings of every worker dropped so far, unordered.
    pub fn take_findings(&self) -> Vec<Finding> {
        std::mem::take(&mut *lock(&self.collected))
    }

    /// Counts `count` inputs known clean without being listed (a replayed
    /// history run's).
    pub fn known_clean(&self, count: u64) {
        if let Memory::Blobs(cache) = &self.memory {
            cache.counters.add_hits(count);
        }
    }

    /// The record of the last whole run, parsed with `parse`, when the
    /// blob cache is warm (after a lost or damaged cache file a walk
    /// rebuilds it whole). A damaged record is reported.
    pub fn recall<T>(&self, parse: impl FnOnce(&[u8]) -> Option<T>) -> Option<T> {
        let Memory::Blobs(cache) = &self.memory else {
            return None;
        };
        if !cache.is_warm() {
            return None;
        }
        let (run, warning) = store::load_entries(&cache.run_path(), Kind::Run, cache.key(), parse);
        if let Some(message) = warning {
            self.warn(&message);
        }
        run
    }

    /// Keeps `record` as the last whole run's, next to the blob cache.
    pub fn record(&self, record: &[u8]) -> Result<(), String> {
        let Memory::Blobs(cache) = &self.memory else {
            return Ok(());
        };
        let path = cache.run_path();
        store::save(&path, Kind::Run, cache.key(), record)
            .map_err(|e| format!("cannot write the cache {}: {e}", path.display()))
    }

    /// Ends the scan's use of the cache: writes what it learnt and says
    /// what it did (`None` without a cache). A failure to write is a
    /// warning: the scan itself is done.
    pub fn finish(self) -> Option<CacheSummary> {
        let mismatches = self.mismatches.load(Ordering::Relaxed);
        if mismatches > 0 {
            self.warn(&format!(
                "{mismatches} blob(s) held other findings than the cache said; the fresh \
                 scan's are reported and the cache is corrected"
            ));
        }
        let (summary, saved) = match self.memory {
            Memory::Off => return None,
            Memory::Files(cache) => (cache.counters.summary(), cache.save()),
            Memory::Blobs(cache) => (cache.counters.summary(), cache.save()),
            Memory::Layers(cache) => (cache.counters.summary(), cache.save()),
        };
        if let Err(message) = saved {
            self.tally.problem(Problem::new(&self.place, &message));
        }
        Some(summary)
    }

    fn warn(&self, message: &str) {
        self.tally.problem(Problem::new(&self.place, message));
    }
}

/// What a worker needs back with an input's content: what to remember it
/// by, and what the cache knew of it when it is scanned again.
pub struct Ticket(Memo);

enum Memo {
    /// Nothing to remember: no cache, or an input without a key.
    None,
    File {
        key: String,
        stamp: Stamp,
        /// The entry of an unchanged file with findings, scanned again.
        known: Option<FileEntry>,
    },
    Blob {
        id: ObjectId,
        mode: Mode,
        /// The entry of a blob with findings, scanned again.
        known: Option<Entry>,
    },
}

/// An open [`Group`]: what its members counted and where their findings
/// start, to remember it whole.
pub struct OpenGroup {
    digest: Option<String>,
    prefix: String,
    /// The entry of a layer with findings, scanned again.
    known: Option<Entry>,
    /// Where its findings start in the worker's `found`.
    start: usize,
    bytes: u64,
    members: u64,
    binary: u64,
}

/// One thread's scanner, its findings, and what it learnt for the cache;
/// handed to the intake when dropped.
pub struct Worker<'i, 'a> {
    intake: &'i Intake<'a>,
    scanner: Scanner<'a>,
    /// The current input's findings, under the name it was scanned as.
    local: Vec<Finding>,
    /// The first bytes of a streamed input (see [`SniffFirst`]).
    head: Vec<u8>,
    /// Findings where they are reported.
    found: Vec<Finding>,
    files: Vec<(String, FileEntry)>,
    blobs: Vec<(ObjectId, Mode, Entry)>,
    /// The group being fed, if any.
    group: Option<OpenGroup>,
}

impl Drop for Worker<'_, '_> {
    fn drop(&mut self) {
        lock(&self.intake.collected).append(&mut self.found);
        match &self.intake.memory {
            Memory::Off => {}
            Memory::Files(cache) => cache.record(&mut self.files),
            Memory::Blobs(cache) => cache.record(&mut self.blobs),
            Memory::Layers(_) => {}
        }
    }
}

impl Sink for Worker<'_, '_> {
    type Ticket = Ticket;
    type Group = ();

    fn open_group(&mut self, group: &Group<'_>) -> Option<()> {
        let intake = self.intake;
        let mut known = None;
        if let (Memory::Layers(cache), Some(digest)) = (&intake.memory, group.digest) {
            known = cache.lookup(digest);
            if let Some(entry) = known.as_ref().filter(|e| e.is_clean()) {
                if let Cached::Archive {
                    bytes,
                    members,
                    binary_members,
                } = entry.outcome
                {
                    let tally = intake.tally;
                    tally.files.fetch_add(members, Ordering::Relaxed);
                    tally.bytes.fetch_add(bytes, Ordering::Relaxed);
                    tally
                        .binary_skipped
                        .fetch_add(binary_members, Ordering::Relaxed);
                    tally.progress.inc(bytes);
                    cache.counters.hit();
                    return None;
                }
            }
        }
        self.group = Some(OpenGroup {
            digest: group.digest.map(str::to_string),
            prefix: group.prefix.to_string(),
            known,
            start: self.found.len(),
            bytes: 0,
            members: 0,
            binary: 0,
        });
        Some(())
    }

    fn close_group(&mut self, _group: (), whole: bool) -> usize {
        let Some(group) = self.group.take() else {
            return 0;
        };
        let findings = &self.found[group.start.min(self.found.len())..];
        let count = findings.len();
        let (Memory::Layers(cache), Some(digest), true) =
            (&self.intake.memory, &group.digest, whole)
        else {
            return count;
        };
        let outcome = Cached::Archive {
            bytes: group.bytes,
            members: group.members,
            binary_members: group.binary,
        };
        let entry = Entry::new(outcome, findings, &group.prefix);
        match &group.known {
            Some(old) => {
                cache.counters.rescanned();
                if *old == entry {
                    return count;
                }
                self.intake.mismatches.fetch_add(1, Ordering::Relaxed);
            }
            None => cache.counters.miss(),
        }
        cache.record(digest, entry);
        count
    }

    fn wants(&mut self, input: &Input<'_>) -> Option<Ticket> {
        let intake = self.intake;
        match (&intake.memory, input.key) {
            (Memory::Files(cache), Key::File { path, meta }) => {
                self.file_wanted(cache, path, Stamp::of(meta))
            }
            (Memory::Blobs(cache), Key::Blob(id)) => {
                let mode = mode_of(input.name, intake.options);
                let known = cache.lookup(id, mode);
                if let Some(entry) = known.as_ref().filter(|e| e.is_clean()) {
                    intake.tally.replay(&entry.outcome);
                    cache.counters.hit();
                    return None;
                }
                Some(Ticket(Memo::Blob {
                    id: *id,
                    mode,
                    known,
                }))
            }
            _ => Some(Ticket(Memo::None)),
        }
    }

    fn too_large(&mut self, ticket: Ticket) {
        let tally = self.intake.tally;
        tally.large_skipped.fetch_add(1, Ordering::Relaxed);
        tally.progress.inc(0);
        self.local.clear();
        self.remember(ticket, "", Cached::Large, None);
    }

    fn unread(&mut self, _ticket: Ticket) {
        self.intake.tally.progress.inc(0);
    }

    fn bytes(
        &mut self,
        ticket: Ticket,
        input: &Input<'_>,
        bytes: &[u8],
        locate: Locate<'_>,
    ) -> usize {
        self.local.clear();
        if let Some(outcome) = self.scan_bytes(input.name, bytes) {
            self.remember(ticket, input.name, outcome, None);
        }
        self.deliver(input.name, locate)
    }

    fn stream(
        &mut self,
        ticket: Ticket,
        input: &Input<'_>,
        stream: &mut dyn io::Read,
        locate: Locate<'_>,
    ) -> Result<usize, (Ticket, io::Error)> {
        self.local.clear();
        let archive =
            self.intake.options.archives.is_some() && archive::kind_of(input.name).is_some();
        if archive {
            // An archive is opened in memory: a source should hand it over
            // whole, but one streamed is read whole here.
            let mut bytes = Vec::new();
            if let Err(err) = stream.read_to_end(&mut bytes) {
                return Err((ticket, err));
            }
            return Ok(self.bytes(ticket, input, &bytes, locate));
        }
        let mut sniffing = SniffFirst::new(stream, &mut self.head);
        let scanned =
            self.scanner
                .scan_reader(&mut sniffing, input.name, &Origin::Stdin, &mut self.local);
        let outcome = match scanned {
            Ok(outcome) => self.counted(outcome),
            Err(err) => {
                self.local.clear();
                return Err((ticket, err));
            }
        };
        self.remember(ticket, input.name, outcome, None);
        Ok(self.deliver(input.name, locate))
    }

    fn needs_line_hashes(&self, count: usize) -> bool {
        let start = self.found.len().saturating_sub(count);
        self.intake.options.line_hashes && self.found[start..].iter().any(|f| f.line_hash.is_none())
    }

    fn hash_lines(&mut self, count: usize, content: &mut dyn io::Read) {
        let start = self.found.len().saturating_sub(count);
        let _ = crate::line_hash::fill_from_reader(content, &mut self.found[start..]);
    }

    fn reader(
        &mut self,
        ticket: Ticket,
        input: &Input<'_>,
        reader: &mut dyn ReadSeek,
        size: u64,
        locate: Locate<'_>,
    ) -> io::Result<usize> {
        self.local.clear();
        // The content's hash is kept for a file the cache remembers.
        let hash = matches!(ticket.0, Memo::File { .. });
        let scanned = match self.scan_reader(input.name, reader, size, hash) {
            Ok(scanned) => scanned,
            Err(err) => {
                // What was found before a read error is kept.
                self.deliver(input.name, locate);
                return Err(err);
            }
        };
        if let Some((outcome, content)) = scanned {
            self.remember(ticket, input.name, outcome, content);
        }
        Ok(self.deliver(input.name, locate))
    }
}

impl Worker<'_, '_> {
    /// Whether the file at `path`, now `stamp`, needs reading.
    fn file_wanted(&mut self, cache: &FileCache, path: &Path, stamp: Stamp) -> Option<Ticket> {
        let key = files::key_of(path);
        let Some(old) = cache.lookup(&key) else {
            return Some(Ticket(Memo::File {
                key,
                stamp,
                known: None,
            }));
        };
        // Unchanged: the same size, time and inode, or, when only the
        // time or inode moved (a checkout, a `touch`), the same content.
        let unchanged = if old.stamp == stamp {
            true
        } else if old.stamp.size == stamp.size && old.content.is_some() {
            let content = File::open(path).and_then(|mut file| files::hash_all(&mut file));
            content.ok() == old.content
        } else {
            false
        };
        if unchanged && old.entry.is_clean() {
            self.intake.tally.replay(&old.entry.outcome);
            cache.counters.hit();
            if old.stamp != stamp {
                let mut entry = old.clone();
                entry.stamp = stamp;
                self.files.push((key, entry));
            }
            return None;
        }
        Some(Ticket(Memo::File {
            key,
            stamp,
            known: unchanged.then(|| old.clone()),
        }))
    }

    /// Scans a blob in memory into `local`: how, for the cache (`None`
    /// for an archive with problems, which are reported again next time).
    fn scan_bytes(&mut self, name: &str, bytes: &[u8]) -> Option<Cached> {
        let options = self.intake.options;
        if let Some(limits) = &options.archives {
            if let Some(archive) = archive::scan_archive_blob(
                &mut self.scanner,
                bytes,
                name,
                limits,
                &Origin::Stdin,
                &mut self.local,
            ) {
                return self.archive_done(archive);
            }
        }
        let outcome = self
            .scanner
            .scan_bytes(bytes, name, &Origin::Stdin, &mut self.local);
        Some(self.counted(outcome))
    }

    /// Counts a scanned input; how the cache records it.
    fn counted(&mut self, outcome: Outcome) -> Cached {
        let tally = self.intake.tally;
        match outcome {
            Outcome::Scanned { bytes } => {
                tally.scanned(bytes);
                if let Some(group) = &mut self.group {
                    group.members += 1;
                    group.bytes += bytes;
                }
                Cached::Text { bytes }
            }
            Outcome::Binary => {
                if let Some(group) = &mut self.group {
                    group.binary += 1;
                }
                tally.binary_skipped.fetch_add(1, Ordering::Relaxed);
                tally.progress.inc(0);
                Cached::Binary
            }
        }
    }

    /// Scans a reader into `local`, with a hash of its content when `hash`
    /// is set and it was read whole.
    #[allow(clippy::type_complexity)]
    fn scan_reader(
        &mut self,
        name: &str,
        reader: &mut dyn ReadSeek,
        size: u64,
        hash: bool,
    ) -> io::Result<Option<(Cached, Option<[u8; 32]>)>> {
        let options = self.intake.options;
        let tally = self.intake.tally;
        if let Some(limits) = &options.archives {
            if let Some(kind) = archive::kind_of(name) {
                let archive = archive::scan_archive(
                    &mut self.scanner,
                    kind,
                    BufReader::new(reader),
                    name,
                    size,
                    limits,
                    &mut self.local,
                );
                return Ok(self.archive_done(archive).map(|outcome| (outcome, None)));
            }
        }
        let mut hashing = files::Hashing::new(&mut *reader);
        let source: &mut dyn io::Read = if hash {
            &mut hashing
        } else {
            &mut *hashing.inner
        };
        let scanned = self
            .scanner
            .scan_reader(source, name, &Origin::Stdin, &mut self.local)?;
        match scanned {
            Outcome::Scanned { bytes } => {
                tally.scanned(bytes);
                // Read to its end: the hash is of the whole content.
                let content = hash.then(|| hashing.finish());
                self.hash_lines(reader);
                Ok(Some((Cached::Text { bytes }, content)))
            }
            Outcome::Binary => {
                tally.binary_skipped.fetch_add(1, Ordering::Relaxed);
                tally.progress.inc(0);
                Ok(Some((Cached::Binary, None)))
            }
        }
    }

    /// Fills the line hashes the scanner could not compute (inputs larger
    /// than one chunk) by reading the input again from its start; only
    /// inputs with findings. Best effort: without it SARIF omits the hash
    /// and GitHub's upload action computes it.
    fn hash_lines(&mut self, reader: &mut dyn ReadSeek) {
        if !self.intake.options.line_hashes || self.local.iter().all(|f| f.line_hash.is_some()) {
            return;
        }
        if reader.rewind().is_ok() {
            let _ = crate::line_hash::fill_from_reader(reader, &mut self.local);
        }
    }

    /// Counts an opened archive and reports its problems; how the cache
    /// records it, unless it had problems.
    fn archive_done(&mut self, archive: ArchiveTally) -> Option<Cached> {
        let tally = self.intake.tally;
        tally.archive_scanned(&archive);
        tally.progress.inc(0);
        if let Some(group) = &mut self.group {
            group.members += archive.members_scanned;
            group.bytes += archive.bytes_scanned;
            group.binary += archive.binary_members;
        }
        let outcome = archive
            .problems
            .is_empty()
            .then(|| super::archive_outcome(&archive));
        for problem in archive.problems {
            tally.problem(problem);
        }
        outcome
    }

    /// Remembers what scanning the ticket's input found (in `local`).
    fn remember(&mut self, ticket: Ticket, name: &str, outcome: Cached, content: Option<[u8; 32]>) {
        let intake = self.intake;
        match (ticket.0, &intake.memory) {
            (Memo::File { key, stamp, known }, Memory::Files(cache)) => {
                let entry = Entry::new(outcome, &self.local, name);
                match known {
                    Some(old) => {
                        cache.counters.rescanned();
                        if old.entry == entry && old.stamp == stamp && old.content == content {
                            return;
                        }
                    }
                    None => cache.counters.miss(),
                }
                self.files.push((
                    key,
                    FileEntry {
                        stamp,
                        content,
                        entry,
                    },
                ));
            }
            (Memo::Blob { id, mode, known }, Memory::Blobs(cache)) => {
                let entry = Entry::new(outcome, &self.local, name);
                match known {
                    Some(old) => {
                        cache.counters.rescanned();
                        if old == entry {
                            return;
                        }
                        intake.mismatches.fetch_add(1, Ordering::Relaxed);
                    }
                    None => cache.counters.miss(),
                }
                self.blobs.push((id, mode, entry));
            }
            _ => {}
        }
    }

    /// Moves the input's findings to where they are reported; how many.
    fn deliver(&mut self, scanned: &str, locate: Locate<'_>) -> usize {
        let count = self.local.len();
        if count == 0 {
            return 0;
        }
        let (path, origin) = locate();
        for mut finding in self.local.drain(..) {
            // An archive member keeps its `!/member` part.
            let member = finding.path.strip_prefix(scanned).unwrap_or("");
            finding.path = format!("{path}{member}");
            finding.origin = origin.clone();
            self.found.push(finding);
        }
        count
    }
}

/// How a blob named `name` is scanned: as text, or as the archive its
/// name says.
fn mode_of(name: &str, options: &ScanOptions) -> Mode {
    if options.archives.is_none() {
        return 0;
    }
    match archive::kind_of(name) {
        Some(kind) => 1 + kind as u8,
        None => 0,
    }
}

/// A poisoned lock only means another thread panicked; what it holds is
/// still worth keeping.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
