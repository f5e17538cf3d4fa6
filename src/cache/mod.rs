//! Re-scans nearly free: what an earlier scan learnt about each input,
//! kept on disk and used only while nothing that changes detection has
//! changed.
//!
//! - [`key`]: the detection key, a hash of everything that decides what a
//!   scan finds (the rules' definitions, `--max-file-size`, archive
//!   settings, patscan's version, the cache format). A cache file is only
//!   read under the key it was written with.
//! - [`store`]: the file format (a checked header, a body, a CRC) and
//!   atomic writes. A file that is truncated, corrupt or of another format
//!   is ignored with a warning and rebuilt, never trusted.
//! - [`entry`]: what is kept per input: how it was scanned and, for each
//!   token found, its rule, position and fingerprint — never the token.
//! - [`blobs`]: the `--history` cache, per git blob id.
//! - [`layers`]: the `--image` cache, per layer digest, shared by every
//!   image and run (a base layer is read once).
//! - [`files`]: the `--cache DIR` cache of folder scans, per path, size,
//!   modification time and inode (and a content hash when those change).
//!
//! An input with findings is always read and scanned again, so its
//! findings (snippet, secret for live checks) are the fresh scan's; what
//! the cache held is only checked against them. Only clean inputs — nearly
//! all of them — are skipped unread.

pub mod blobs;
pub mod entry;
pub mod files;
pub mod key;
pub mod layers;
pub mod store;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

pub use crate::model::{CacheSetting, CacheSummary};

/// The counters behind [`CacheSummary`], shared by the scanning threads.
#[derive(Debug, Default)]
pub struct Counters {
    hits: AtomicU64,
    rescanned: AtomicU64,
    misses: AtomicU64,
}

impl Counters {
    pub fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add_hits(&self, count: u64) {
        self.hits.fetch_add(count, Ordering::Relaxed);
    }

    pub fn rescanned(&self) {
        self.rescanned.fetch_add(1, Ordering::Relaxed);
    }

    pub fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    pub fn summary(&self) -> CacheSummary {
        CacheSummary {
            hits: self.hits.load(Ordering::Relaxed),
            rescanned: self.rescanned.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

/// The user cache folder: `$XDG_CACHE_HOME/patscan`, else
/// `~/.cache/patscan`.
pub fn user_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".cache"))
        })?;
    Some(base.join("patscan"))
}
