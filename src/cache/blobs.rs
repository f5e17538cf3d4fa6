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

use super::entry::Entry;
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
    known: HashMap<ObjectId, (Mode, Entry)>,
    fresh: Mutex<Vec<(ObjectId, Mode, Entry)>>,
    /// Whether `known` came from a valid file (not a first or rebuilt one).
    warm: bool,
    pub counters: Counters,
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
            known: HashMap::default(),
            fresh: Mutex::new(Vec::new()),
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

    /// The entry for blob `id` scanned as `mode`.
    pub fn lookup(&self, id: &ObjectId, mode: Mode) -> Option<&Entry> {
        self.known
            .get(id)
            .filter(|(m, _)| *m == mode)
            .map(|(_, entry)| entry)
    }

    /// Adds what a worker scanned.
    pub fn record(&self, entries: &mut Vec<(ObjectId, Mode, Entry)>) {
        self.fresh
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .append(entries);
    }

    /// Writes the file if this scan learnt anything. Entries of blobs this
    /// scan did not list are kept: a `--range` scan sees only a few.
    pub fn save(self) -> Result<(), String> {
        let fresh = self.fresh.into_inner().unwrap_or_else(|p| p.into_inner());
        if fresh.is_empty() {
            return Ok(());
        }
        let mut all = self.known;
        for (id, mode, entry) in fresh {
            all.insert(id, (mode, entry));
        }
        let mut ids: Vec<&ObjectId> = all.keys().collect();
        ids.sort_unstable();
        let mut out = Writer::default();
        out.varint(ids.len() as u64);
        for id in ids {
            let (mode, entry) = &all[id];
            out.bytes(id.as_bytes());
            out.u8(*mode);
            entry.write(&mut out);
        }
        store::save(&self.path, Kind::Blobs, &self.key, &out.into_inner())
            .map_err(|e| format!("cannot write the cache {}: {e}", self.path.display()))?;
        if let Some(dir) = self.path.parent() {
            store::prune(dir, &self.prefix, KEEP);
        }
        Ok(())
    }
}

fn parse(body: &[u8]) -> Option<HashMap<ObjectId, (Mode, Entry)>> {
    let mut input = Reader::new(body);
    let count = input.varint()?;
    if count > input.remaining() as u64 {
        return None;
    }
    let mut known = HashMap::default();
    known.reserve(count as usize);
    for _ in 0..count {
        let id = ObjectId::try_from(input.bytes()?).ok()?;
        let mode = input.u8()?;
        let entry = Entry::read(&mut input)?;
        known.insert(id, (mode, entry));
    }
    (input.remaining() == 0).then_some(known)
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
