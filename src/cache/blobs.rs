//! The `--history` cache: per git blob id, how the blob was scanned and
//! what it held. A blob id names its content, so an entry stays true for
//! as long as the detection key does; a repeat scan reads only the blobs
//! it has not seen and those with findings.
//!
//! One file per repository and detection key, `blobs-<key>.bin` in
//! `<git dir>/patscan-cache/` by default (under `--cache DIR`, and in the
//! user cache folder when the git dir is not writable, its name also
//! holds a hash of the git dir's path).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use gix::hash::ObjectId;
use gix::hashtable::HashMap;
use sha2::{Digest, Sha256};

use super::entry::{Entry, Outcome};
use super::key::{hex, DetectionKey};
use super::store::{self, Kind};
use super::{CacheSetting, Counters};
use crate::codec::{Reader, Writer};

/// Cache files of other detection keys kept per repository: a team that
/// alternates two configs keeps both warm.
const KEEP: usize = 4;

/// How a blob was scanned besides its bytes: 0 as text, or 1 + the
/// archive kind its path gave it (archives are recognised by name).
pub type Mode = u8;

pub struct BlobCache {
    path: PathBuf,
    prefix: String,
    key: DetectionKey,
    known: Known,
    fresh: Mutex<Known>,
    /// Whether `known` came from a valid file (not a first or rebuilt one).
    warm: bool,
    pub counters: Counters,
}

/// Entries, compact: nearly every blob is clean text, binary or too large,
/// which one word says with the scan mode (32 bytes a blob with its id,
/// no allocation); the few with findings or an archive's counts keep their
/// whole [`Entry`] aside.
#[derive(Default)]
struct Known {
    /// Sorted by id once loaded (in scan order while being learnt).
    plain: Vec<(ObjectId, u64)>,
    rich: HashMap<ObjectId, (Mode, Entry)>,
    /// Where ids starting with each byte start in `plain`.
    fanout: Vec<u32>,
}

/// A plain entry's word: mode (8 bits), outcome (2), scanned bytes (54).
const TEXT: u64 = 0;
const BINARY: u64 = 1;
const LARGE: u64 = 2;
const BYTES: u64 = (1 << 54) - 1;

fn pack(mode: Mode, entry: &Entry) -> Option<u64> {
    if !entry.hits.is_empty() {
        return None;
    }
    let (outcome, bytes) = match entry.outcome {
        Outcome::Text { bytes } if bytes <= BYTES => (TEXT, bytes),
        Outcome::Binary => (BINARY, 0),
        Outcome::Large => (LARGE, 0),
        _ => return None,
    };
    Some(u64::from(mode) << 56 | outcome << 54 | bytes)
}

fn unpack(word: u64) -> (Mode, Entry) {
    let outcome = match (word >> 54) & 3 {
        TEXT => Outcome::Text {
            bytes: word & BYTES,
        },
        BINARY => Outcome::Binary,
        _ => Outcome::Large,
    };
    let entry = Entry {
        outcome,
        hits: Vec::new(),
    };
    ((word >> 56) as Mode, entry)
}

impl Known {
    fn insert(&mut self, id: ObjectId, mode: Mode, entry: Entry) {
        match pack(mode, &entry) {
            Some(word) => self.plain.push((id, word)),
            None => {
                self.rich.insert(id, (mode, entry));
            }
        }
    }

    fn len(&self) -> usize {
        self.plain.len() + self.rich.len()
    }

    /// Sorts the plain entries (the last of two for one id wins) and
    /// indexes them by first byte.
    fn seal(&mut self) {
        self.plain.sort_by_key(|a| a.0);
        // Stable sort: of equal ids the last learnt is last; keep it.
        let mut kept: Vec<(ObjectId, u64)> = Vec::with_capacity(self.plain.len());
        for (id, word) in self.plain.drain(..) {
            match kept.last_mut() {
                Some(last) if last.0 == id => last.1 = word,
                _ => kept.push((id, word)),
            }
        }
        kept.shrink_to_fit();
        self.plain = kept;
        self.fanout = vec![0; 257];
        for (id, _) in &self.plain {
            self.fanout[usize::from(id.as_bytes()[0]) + 1] += 1;
        }
        for i in 1..257 {
            self.fanout[i] += self.fanout[i - 1];
        }
    }

    fn get(&self, id: &ObjectId) -> Option<(Mode, Entry)> {
        if let Some((mode, entry)) = self.rich.get(id) {
            return Some((*mode, entry.clone()));
        }
        let first = usize::from(id.as_bytes()[0]);
        let range = self.fanout.get(first).copied()? as usize
            ..self.fanout.get(first + 1).copied()? as usize;
        let bucket = self.plain.get(range)?;
        let at = bucket.binary_search_by(|(other, _)| other.cmp(id)).ok()?;
        Some(unpack(bucket[at].1))
    }
}

impl BlobCache {
    /// The cache for the repository at `git_dir` under `setting`, and a
    /// warning when the file there could not be used. `None` when the
    /// cache is off or there is nowhere to keep it.
    pub fn open(
        setting: &CacheSetting,
        git_dir: &Path,
        key: DetectionKey,
    ) -> Option<(BlobCache, Option<String>)> {
        let (dir, prefix) = location(setting, git_dir)?;
        let path = dir.join(format!("{prefix}{}.bin", key.short()));
        let mut cache = BlobCache {
            path,
            prefix,
            key,
            known: Known::default(),
            fresh: Mutex::new(Known::default()),
            warm: false,
            counters: Counters::default(),
        };
        let (known, warning) = store::load_entries(&cache.path, Kind::Blobs, &key, parse);
        if let Some(known) = known {
            cache.known = known;
            cache.warm = true;
        }
        Some((cache, warning))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether entries were read from a valid file. A run is replayed only
    /// then: after a lost or damaged file, a walk rebuilds it whole.
    pub fn is_warm(&self) -> bool {
        self.warm
    }

    /// Where the record of the last whole-history run goes.
    pub fn run_path(&self) -> PathBuf {
        self.path.with_extension("run")
    }

    pub fn key(&self) -> &DetectionKey {
        &self.key
    }

    /// How many blobs the cache knew when it was opened.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    pub fn is_empty(&self) -> bool {
        self.known.len() == 0
    }

    /// Whether the cache knows blob `id` (scanned in any mode).
    pub fn contains(&self, id: &ObjectId) -> bool {
        self.known.get(id).is_some()
    }

    /// The entry for blob `id` scanned as `mode`.
    pub fn lookup(&self, id: &ObjectId, mode: Mode) -> Option<Entry> {
        self.known
            .get(id)
            .filter(|(m, _)| *m == mode)
            .map(|(_, entry)| entry)
    }

    /// Adds what a worker scanned.
    pub fn record(&self, entries: &mut Vec<(ObjectId, Mode, Entry)>) {
        let mut fresh = self.fresh.lock().unwrap_or_else(|p| p.into_inner());
        for (id, mode, entry) in entries.drain(..) {
            fresh.insert(id, mode, entry);
        }
    }

    /// Writes the file if this scan learnt anything. Entries of blobs this
    /// scan did not list are kept: a `--range` scan sees only a few. The
    /// known and the fresh entries are merged in id order as they are
    /// written, never gathered in one table.
    pub fn save(self) -> Result<(), String> {
        let mut fresh = self.fresh.into_inner().unwrap_or_else(|p| p.into_inner());
        if fresh.len() == 0 {
            return Ok(());
        }
        fresh.seal();
        let known = self.known;
        // The rich entries, old and new, in id order; a fresh one wins.
        let mut rich: Vec<(&ObjectId, &(Mode, Entry))> = known
            .rich
            .iter()
            .filter(|(id, _)| !fresh.rich.contains_key(*id))
            .chain(fresh.rich.iter())
            .collect();
        rich.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let merged = merge(&known.plain, &fresh.plain);
        // Learnt with findings now: the rich entry stands.
        let plain = || {
            merged
                .clone()
                .filter(|(id, _)| !fresh.rich.contains_key(*id))
        };
        // Old plain entries whose blob now has a rich entry are dropped,
        // and vice versa: one entry per id.
        let shadowed = |id: &ObjectId| fresh.plain.binary_search_by(|(o, _)| o.cmp(id)).is_ok();
        let rich: Vec<_> = rich
            .into_iter()
            .filter(|(id, _)| fresh.rich.contains_key(*id) || !shadowed(id))
            .collect();
        let count = plain().count() + rich.len();
        let mut out = Writer::default();
        out.varint(count as u64);
        let mut rich = rich.into_iter().peekable();
        for (id, word) in plain() {
            while let Some((rid, (mode, entry))) = rich.next_if(|(rid, _)| *rid < id) {
                write_entry(&mut out, rid, *mode, entry);
            }
            let (mode, entry) = unpack(word);
            write_entry(&mut out, id, mode, &entry);
        }
        for (rid, (mode, entry)) in rich {
            write_entry(&mut out, rid, *mode, entry);
        }
        store::save(&self.path, Kind::Blobs, &self.key, &out.into_inner())
            .map_err(|e| format!("cannot write the cache {}: {e}", self.path.display()))?;
        if let Some(dir) = self.path.parent() {
            store::prune(dir, &self.prefix, KEEP);
        }
        Ok(())
    }
}

fn write_entry(out: &mut Writer, id: &ObjectId, mode: Mode, entry: &Entry) {
    out.bytes(id.as_bytes());
    out.u8(mode);
    entry.write(out);
}

/// Two id-sorted lists merged in id order; of an id in both, `newer`'s.
fn merge<'a>(
    older: &'a [(ObjectId, u64)],
    newer: &'a [(ObjectId, u64)],
) -> impl Iterator<Item = (&'a ObjectId, u64)> + Clone + 'a {
    let mut a = older.iter().peekable();
    let mut b = newer.iter().peekable();
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if x.0 < y.0 => a.next().map(|(id, w)| (id, *w)),
        (Some(x), Some(y)) if x.0 == y.0 => {
            a.next();
            b.next().map(|(id, w)| (id, *w))
        }
        (Some(_), Some(_)) | (None, Some(_)) => b.next().map(|(id, w)| (id, *w)),
        (Some(_), None) => a.next().map(|(id, w)| (id, *w)),
        (None, None) => None,
    })
}

fn parse(body: &[u8]) -> Option<Known> {
    let mut input = Reader::new(body);
    let count = input.varint()?;
    if count > input.remaining() as u64 {
        return None;
    }
    let mut known = Known::default();
    // Nearly all of them plain.
    known.plain.reserve(count as usize);
    for _ in 0..count {
        let id = ObjectId::try_from(input.bytes()?).ok()?;
        let mode = input.u8()?;
        let entry = Entry::read(&mut input)?;
        known.insert(id, mode, entry);
    }
    if input.remaining() != 0 {
        return None;
    }
    known.seal();
    Some(known)
}

/// The folder and the file-name prefix of a repository's cache files.
fn location(setting: &CacheSetting, git_dir: &Path) -> Option<(PathBuf, String)> {
    let shared = |dir: PathBuf| {
        // Several repositories share the folder: name each one's files.
        let canonical = git_dir
            .canonicalize()
            .unwrap_or_else(|_| git_dir.to_path_buf());
        let hash = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
        (dir, format!("blobs-{}-", hex(&hash[..8])))
    };
    match setting {
        CacheSetting::Off => None,
        CacheSetting::Dir(dir) => Some(shared(dir.clone())),
        CacheSetting::Default => {
            let own = git_dir.join("patscan-cache");
            if writable(&own) {
                Some((own, "blobs-".to_string()))
            } else {
                super::user_cache_dir().map(shared)
            }
        }
    }
}

/// Whether files can be created in `dir` (made if missing).
fn writable(dir: &Path) -> bool {
    if std::fs::create_dir_all(dir).is_err() {
        return false;
    }
    let probe = dir.join(format!(".probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(_) => false,
    }
}
