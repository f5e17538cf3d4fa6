//! The cache file format and its atomic write.
//!
//! ```text
//! magic "patscan\x1a" | format version (u32 LE) | kind (u8) | detection key (32 bytes)
//! | body | CRC-32 of everything before it (u32 LE)
//! ```
//!
//! A file is used only when every part checks out; anything else —
//! truncated, flipped bits, another format version, another kind, another
//! key — is reported and ignored, and the scan rebuilds it. Writes go to a
//! temporary file in the same folder, renamed over the old one, so a
//! reader never sees half a file and a crash leaves the old one intact.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::key::{DetectionKey, FORMAT_VERSION};

const MAGIC: &[u8; 8] = b"patscan\x1a";
const HEADER: usize = 8 + 4 + 1 + 32;
/// A cache file larger than this is not one patscan wrote.
const MAX_FILE: u64 = 4 << 30;

/// What a cache file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Git blobs (`--history`).
    Blobs = 1,
    /// Files of a folder scan.
    Files = 2,
    /// The record of a whole `--history` run (see `source::git::replay`).
    Run = 3,
    /// Container image layers, by digest (`scan --image`).
    Layers = 4,
}

/// The result of reading a cache file.
pub enum Loaded {
    /// No file yet: a first scan.
    Missing,
    /// The body of a valid file.
    Body(Vec<u8>),
    /// A file that cannot be trusted, and why (for the warning).
    Ignored(String),
}

/// The entries of the cache file at `path`, parsed with `parse`, or the
/// warning that says why the file is ignored (and rebuilt). A missing file
/// is neither: a first scan.
pub fn load_entries<T>(
    path: &Path,
    kind: Kind,
    key: &DetectionKey,
    parse: impl FnOnce(&[u8]) -> Option<T>,
) -> (Option<T>, Option<String>) {
    let reason = match load(path, kind, key) {
        Loaded::Missing => return (None, None),
        Loaded::Body(body) => match parse(&body) {
            Some(entries) => return (Some(entries), None),
            None => "its entries are malformed".to_string(),
        },
        Loaded::Ignored(reason) => reason,
    };
    let warning = format!(
        "ignored the cache file {}: {reason}; it is rebuilt",
        path.display()
    );
    (None, Some(warning))
}

pub fn load(path: &Path, kind: Kind, key: &DetectionKey) -> Loaded {
    let len = match fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Loaded::Missing,
        Err(e) => return Loaded::Ignored(format!("cannot read it: {e}")),
    };
    if len > MAX_FILE {
        return Loaded::Ignored("it is too large to be a patscan cache".into());
    }
    let mut data = match fs::read(path) {
        Ok(data) => data,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Loaded::Missing,
        Err(e) => return Loaded::Ignored(format!("cannot read it: {e}")),
    };
    if data.len() < HEADER + 4 || &data[..8] != MAGIC {
        return Loaded::Ignored("it is not a patscan cache file (or is truncated)".into());
    }
    let (content, crc) = data.split_at(data.len() - 4);
    if crc32fast::hash(content).to_le_bytes() != crc {
        return Loaded::Ignored("it is corrupt (checksum mismatch)".into());
    }
    let version = u32::from_le_bytes([data[8], data[9], data[10], data[11]]);
    if version != FORMAT_VERSION {
        return Loaded::Ignored(format!(
            "it has cache format {version}, this patscan writes {FORMAT_VERSION}"
        ));
    }
    if data[12] != kind as u8 || data[13..HEADER] != key.0 {
        return Loaded::Ignored("it was written for other rules or another kind of scan".into());
    }
    data.truncate(data.len() - 4);
    data.drain(..HEADER);
    Loaded::Body(data)
}

/// Writes `body` to `path` atomically, creating the folder if needed. The
/// header and checksum are written around the body, not copied with it.
pub fn save(path: &Path, kind: Kind, key: &DetectionKey, body: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.push(kind as u8);
    header.extend_from_slice(&key.0);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header);
    crc.update(body);
    let crc = crc.finalize();
    let temp = temp_path(path);
    let written = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(&header)?;
        file.write_all(body)?;
        file.write_all(&crc.to_le_bytes())?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// A name no other process writing the same cache uses at the same time.
fn temp_path(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    path.with_file_name(name)
}

/// Keeps the `keep` most recently written cache files of `prefix` in
/// `dir` (one per set of rules used lately) and removes older ones, and
/// any temporary file a crashed writer left.
pub fn prune(dir: &Path, prefix: &str, keep: usize) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut caches = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(prefix) {
            continue;
        }
        let modified = entry.metadata().and_then(|m| m.modified()).ok();
        if name.contains(".tmp-") {
            // Only when stale: another scan may be writing it right now.
            let old = modified
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600);
            if old {
                let _ = fs::remove_file(entry.path());
            }
            continue;
        }
        if name.ends_with(".bin") {
            caches.push((modified, entry.path()));
        }
    }
    caches.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (_, path) in caches.into_iter().skip(keep) {
        let _ = fs::remove_file(path.with_extension("run"));
        let _ = fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> DetectionKey {
        DetectionKey([byte; 32])
    }

    #[test]
    fn a_saved_file_loads_and_any_damage_is_caught() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("sub/blobs-1.bin");
        save(&path, Kind::Blobs, &key(1), b"body bytes").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(load(&path, Kind::Blobs, &key(1)), Loaded::Body(b) if b == b"body bytes"));
        assert!(matches!(
            load(&path, Kind::Blobs, &key(2)),
            Loaded::Ignored(_)
        ));
        assert!(matches!(
            load(&path, Kind::Files, &key(1)),
            Loaded::Ignored(_)
        ));
        assert!(matches!(
            load(&dir.path().join("none"), Kind::Blobs, &key(1)),
            Loaded::Missing
        ));

        let good = fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
        for len in 0..good.len() {
            fs::write(&path, &good[..len]).unwrap_or_else(|e| panic!("{e}"));
            assert!(matches!(
                load(&path, Kind::Blobs, &key(1)),
                Loaded::Ignored(_)
            ));
        }
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x40;
            fs::write(&path, &bad).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                matches!(load(&path, Kind::Blobs, &key(1)), Loaded::Ignored(_)),
                "flipped byte {at}"
            );
        }
    }
}
