//! The `--image` cache: per container image layer, by the digest that
//! names its content, how it was scanned (files, bytes, binary files) and
//! what it held. A layer is shared by every image built on it, so one file
//! serves all images and registries: a base layer an earlier image or run
//! found clean is not downloaded or read again.
//!
//! One file per detection key, `layers-<key>.bin`, in `--cache DIR` or
//! the user cache folder. Layers learnt during a run are known to the rest
//! of the run at once (an image list shares its base layers).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use super::entry::Entry;
use super::key::DetectionKey;
use super::store::{self, Kind};
use super::{CacheSetting, Counters};
use crate::codec::{Reader, Writer};

/// Layer digests are `algorithm:hex`; anything longer is not one.
const MAX_DIGEST: usize = 160;

pub struct LayerCache {
    path: PathBuf,
    key: DetectionKey,
    known: Mutex<HashMap<String, Entry>>,
    learnt: Mutex<bool>,
    pub counters: Counters,
}

impl LayerCache {
    /// The layer cache under `setting`, and a warning when its file could
    /// not be used. `None` when the cache is off or has no place.
    pub fn open(setting: &CacheSetting, key: DetectionKey) -> Option<(LayerCache, Option<String>)> {
        let dir = match setting {
            CacheSetting::Off => return None,
            CacheSetting::Dir(dir) => dir.clone(),
            CacheSetting::Default => super::user_cache_dir()?,
        };
        let path = dir.join(format!("layers-{}.bin", key.short()));
        let (known, warning) = store::load_entries(&path, Kind::Layers, &key, parse);
        Some((
            LayerCache {
                path,
                key,
                known: Mutex::new(known.unwrap_or_default()),
                learnt: Mutex::new(false),
                counters: Counters::default(),
            },
            warning,
        ))
    }

    /// What the cache knows of layer `digest`.
    pub fn lookup(&self, digest: &str) -> Option<Entry> {
        lock(&self.known).get(digest).cloned()
    }

    /// Remembers a layer read whole and verified.
    pub fn record(&self, digest: &str, entry: Entry) {
        if digest.len() > MAX_DIGEST {
            return;
        }
        lock(&self.known).insert(digest.to_string(), entry);
        *lock(&self.learnt) = true;
    }

    /// Writes the file if this run learnt anything.
    pub fn save(self) -> Result<(), String> {
        if !self.learnt.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Ok(());
        }
        let known = self.known.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut entries: Vec<(&String, &Entry)> = known.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = Writer::default();
        out.varint(entries.len() as u64);
        for (digest, entry) in entries {
            out.bytes(digest.as_bytes());
            entry.write(&mut out);
        }
        store::save(&self.path, Kind::Layers, &self.key, &out.into_inner())
            .map_err(|e| format!("cannot write the cache {}: {e}", self.path.display()))
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

fn parse(body: &[u8]) -> Option<HashMap<String, Entry>> {
    let mut input = Reader::new(body);
    let count = input.varint()?;
    if count > input.remaining() as u64 {
        return None;
    }
    let mut known = HashMap::with_capacity(count as usize);
    for _ in 0..count {
        let digest = input.string()?;
        if digest.len() > MAX_DIGEST {
            return None;
        }
        let entry = Entry::read(&mut input)?;
        known.insert(digest, entry);
    }
    (input.remaining() == 0).then_some(known)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::entry::Outcome;

    #[test]
    fn layers_are_remembered_across_runs_under_one_key() {
        let dir = std::env::temp_dir().join(format!("patscan-layers-{}", std::process::id()));
        let setting = CacheSetting::Dir(dir.clone());
        let key = DetectionKey([7; 32]);
        let (cache, warning) = LayerCache::open(&setting, key).unwrap();
        assert!(warning.is_none());
        assert!(cache.lookup("sha256:aa").is_none());
        let entry = Entry {
            outcome: Outcome::Archive {
                bytes: 10,
                members: 2,
                binary_members: 1,
            },
            hits: Vec::new(),
        };
        cache.record("sha256:aa", entry.clone());
        assert_eq!(cache.lookup("sha256:aa"), Some(entry.clone()));
        cache.save().unwrap();

        let (again, _) = LayerCache::open(&setting, key).unwrap();
        assert_eq!(again.lookup("sha256:aa"), Some(entry));
        // Another key: another file, nothing known.
        let (other, _) = LayerCache::open(&setting, DetectionKey([8; 32])).unwrap();
        assert!(other.lookup("sha256:aa").is_none());
        let _ = std::fs::remove_dir_all(dir);
    }
}
