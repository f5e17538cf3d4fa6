//! The cache of folder scans (`--cache DIR`, off by default): per absolute
//! path, the file's size, modification time and inode (and status-change
//! time) when it was scanned,
//! a SHA-256 of its content, and the [`Entry`]. A file whose size, time
//! and inode are unchanged is taken as unchanged and, if it was clean, not
//! opened; when they changed but the size did not (a checkout, a `touch`),
//! its content hash decides. One file per detection key,
//! `files-<key>.bin` in DIR.

use std::collections::HashMap;
use std::fs::Metadata;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::entry::Entry;
use super::key::DetectionKey;
use super::store::{self, Kind};
use super::Counters;
use crate::codec::{Reader, Writer};

const KEEP: usize = 4;

/// What says a file is still the one scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub size: u64,
    /// Nanoseconds since the epoch (0 when the platform has none).
    pub modified: u128,
    /// The inode number (0 where there is none).
    pub inode: u64,
    /// Status-change time in nanoseconds (0 where there is none): as in
    /// git's index, it catches a rewrite whose modification time was set
    /// back.
    pub changed: u128,
}

impl Stamp {
    pub fn of(meta: &Metadata) -> Stamp {
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        #[cfg(unix)]
        let (inode, changed) = {
            use std::os::unix::fs::MetadataExt;
            let changed =
                (meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128).max(0) as u128;
            (meta.ino(), changed)
        };
        #[cfg(not(unix))]
        let (inode, changed) = (0, 0);
        Stamp {
            size: meta.len(),
            modified,
            inode,
            changed,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FileEntry {
    pub stamp: Stamp,
    /// SHA-256 of the content, when the scan read all of it (not for
    /// binary files, whose scan stops at the first block, nor archives).
    pub content: Option<[u8; 32]>,
    pub entry: Entry,
}

pub struct FileCache {
    path: PathBuf,
    key: DetectionKey,
    known: HashMap<String, FileEntry>,
    fresh: Mutex<Vec<(String, FileEntry)>>,
    pub counters: Counters,
}

impl FileCache {
    /// The cache in `dir`, and a warning when its file could not be used.
    pub fn open(dir: &Path, key: DetectionKey) -> (FileCache, Option<String>) {
        let path = dir.join(format!("files-{}.bin", key.short()));
        let mut cache = FileCache {
            path,
            key,
            known: HashMap::new(),
            fresh: Mutex::new(Vec::new()),
            counters: Counters::default(),
        };
        let (known, warning) = store::load_entries(&cache.path, Kind::Files, &key, parse);
        if let Some(known) = known {
            cache.known = known;
        }
        (cache, warning)
    }

    pub fn lookup(&self, path: &str) -> Option<&FileEntry> {
        self.known.get(path)
    }

    pub fn record(&self, entries: &mut Vec<(String, FileEntry)>) {
        self.fresh
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .append(entries);
    }

    /// Writes the file if this scan learnt anything; entries of files not
    /// scanned this time (another folder) are kept.
    pub fn save(self) -> Result<(), String> {
        let fresh = self.fresh.into_inner().unwrap_or_else(|p| p.into_inner());
        if fresh.is_empty() {
            return Ok(());
        }
        let mut all = self.known;
        all.extend(fresh);
        let mut paths: Vec<&String> = all.keys().collect();
        paths.sort_unstable();
        let mut out = Writer::default();
        out.varint(paths.len() as u64);
        for path in paths {
            let file = &all[path];
            out.bytes(path.as_bytes());
            out.varint(file.stamp.size);
            out.raw(&file.stamp.modified.to_le_bytes());
            out.varint(file.stamp.inode);
            out.raw(&file.stamp.changed.to_le_bytes());
            match &file.content {
                Some(hash) => {
                    out.u8(1);
                    out.raw(hash);
                }
                None => out.u8(0),
            }
            file.entry.write(&mut out);
        }
        store::save(&self.path, Kind::Files, &self.key, &out.into_inner())
            .map_err(|e| format!("cannot write the cache {}: {e}", self.path.display()))?;
        if let Some(dir) = self.path.parent() {
            store::prune(dir, "files-", KEEP);
        }
        Ok(())
    }
}

fn parse(body: &[u8]) -> Option<HashMap<String, FileEntry>> {
    let mut input = Reader::new(body);
    let count = input.varint()?;
    if count > input.remaining() as u64 {
        return None;
    }
    let mut known = HashMap::with_capacity(count as usize);
    for _ in 0..count {
        let path = input.string()?;
        let stamp = Stamp {
            size: input.varint()?,
            modified: u128::from_le_bytes(input.raw::<16>()?),
            inode: input.varint()?,
            changed: u128::from_le_bytes(input.raw::<16>()?),
        };
        let content = match input.u8()? {
            0 => None,
            1 => Some(input.raw::<32>()?),
            _ => return None,
        };
        let entry = Entry::read(&mut input)?;
        known.insert(
            path,
            FileEntry {
                stamp,
                content,
                entry,
            },
        );
    }
    (input.remaining() == 0).then_some(known)
}

/// The key of a file in the cache: its absolute path.
pub fn key_of(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

/// SHA-256 of everything read through it.
pub struct Hashing<R> {
    pub inner: R,
    hasher: Sha256,
}

impl<R: Read> Hashing<R> {
    pub fn new(inner: R) -> Hashing<R> {
        Hashing {
            inner,
            hasher: Sha256::new(),
        }
    }

    pub fn finish(self) -> [u8; 32] {
        self.hasher.finalize().into()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// SHA-256 of a whole reader.
pub fn hash_all(reader: &mut dyn Read) -> io::Result<[u8; 32]> {
    let mut hashing = Hashing::new(reader);
    io::copy(&mut hashing, &mut io::sink())?;
    Ok(hashing.finish())
}
