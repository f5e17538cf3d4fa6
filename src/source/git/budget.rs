//! The memory of a history scan, bounded by design.
//!
//! What grows with the repository is per-object state, kept compact (ids
//! and offsets, no strings, no buffer per object): the set of trees and
//! blobs seen (24 to 48 bytes an object), the mapped pack indexes (28), the
//! commit graph (64 bytes a commit and 20 a parent) and, with the cache,
//! its index of known blobs (32 bytes a blob). Everything else is a cache
//! or a buffer bounded in bytes, per reader (one per worker thread and one
//! for the listing): decoded objects, mapped pack pages (see
//! [`packread`](super::packread)), and a shared allowance for the large
//! blobs that must be whole in memory (a delta chain's result) while they
//! are scanned.
//!
//! `--max-memory SIZE` sets the whole: what the per-object state is
//! estimated to take is set aside, and the caches share the rest, down to
//! small floors. A smaller budget costs speed (more inflating again, more
//! mapping again, large blobs one at a time), never a failure.

use std::sync::{Condvar, Mutex};

use super::packread::{Budget, DEFAULT_CACHE, DEFAULT_WINDOW};

/// What the process takes besides the history's state and caches: code,
/// compiled rules, and each worker's scanner (a 4 MiB chunk and its
/// overlap, regex caches).
const FIXED: u64 = 56 << 20;
const PER_WORKER: u64 = 8 << 20;
/// Per-object state, estimated high (see the module's doc).
const PER_OBJECT: u64 = 96;
/// The smallest caches a reader gets, however small the budget.
const FLOOR: usize = 256 << 10;
/// By default, large blobs whole in memory at once may take this much.
const DEFAULT_LARGE: u64 = 512 << 20;
/// The listing reader's cache at most.
const LISTER_CACHE: usize = 8 << 20;
/// Blobs from this size on ask the [`Gate`] before they are made whole.
pub const LARGE_BLOB: u64 = 8 << 20;

/// How a history scan spends its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Each worker's reader's caches.
    pub reader: Budget,
    /// The listing's reader: trees are small and their chains short, so
    /// a smaller cache reads them nearly as fast (83 against 90 MiB
    /// inflated on azure-pipelines-tasks with 32 and 8 MiB); but they lie
    /// all over the packs, so twice the window (with 16 MiB, mapping them
    /// again took 8% of the listing's time on 2.7 million objects).
    pub lister: Budget,
    /// Bytes of large blobs whole in memory at once, over all workers.
    pub large: u64,
}

impl Plan {
    /// The plan for `workers` scanning threads (plus the listing's reader)
    /// over a store of `objects` objects, within `max_memory` if given.
    pub fn new(max_memory: Option<u64>, workers: usize, objects: u64) -> Plan {
        let Some(max) = max_memory else {
            let reader = Budget::default();
            return Plan {
                reader,
                lister: Budget {
                    cache: reader.cache.min(LISTER_CACHE),
                    window: 2 * reader.window,
                },
                large: DEFAULT_LARGE,
            };
        };
        let workers = workers.max(1) as u64;
        let state = FIXED + PER_WORKER * workers + PER_OBJECT * objects;
        let free = max.saturating_sub(state);
        // A quarter for large blobs, the rest split among the readers:
        // half of a reader's share for decoded objects (and a quarter of
        // that again for spare buffers), the rest for mapped pages.
        let large = free / 4;
        let share = (free - large) / (workers + 1);
        let cache = (share / 2).min(DEFAULT_CACHE as u64) as usize;
        let window = (share * 3 / 8).min(DEFAULT_WINDOW as u64) as usize;
        let reader = Budget {
            cache: cache.max(FLOOR),
            window: window.max(FLOOR),
        };
        Plan {
            reader,
            lister: Budget {
                cache: reader.cache.min(LISTER_CACHE),
                window: 2 * reader.window,
            },
            large: large.min(DEFAULT_LARGE),
        }
    }
}

/// The allowance for large blobs whole in memory: a worker asks for a
/// blob's bytes before making it whole and gives them back after scanning
/// it. A blob larger than the whole allowance waits until it is alone.
pub struct Gate {
    limit: u64,
    used: Mutex<u64>,
    freed: Condvar,
}

/// Bytes held from a [`Gate`] until dropped.
pub struct Permit<'a> {
    gate: &'a Gate,
    bytes: u64,
}

impl Gate {
    pub fn new(limit: u64) -> Gate {
        Gate {
            limit,
            used: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Waits until `bytes` fit (or nothing else is held), and holds them.
    pub fn acquire(&self, bytes: u64) -> Permit<'_> {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        while *used > 0 && *used + bytes > self.limit {
            used = self.freed.wait(used).unwrap_or_else(|p| p.into_inner());
        }
        *used += bytes;
        Permit { gate: self, bytes }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut used = self.gate.used.lock().unwrap_or_else(|p| p.into_inner());
        *used -= self.bytes;
        self.gate.freed.notify_all();
    }
}

/// The scanning threads a scan with `threads` (0: one per core) runs.
pub fn workers(threads: usize) -> usize {
    if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn a_budget_shrinks_the_caches_to_their_floors_but_never_below() {
        let roomy = Plan::new(Some(4 << 30), 2, 1_000_000);
        assert_eq!(roomy.reader, Budget::default());
        let tight = Plan::new(Some(200 << 20), 2, 1_000_000);
        assert!(tight.reader.cache < DEFAULT_CACHE && tight.reader.cache >= FLOOR);
        assert!(tight.reader.window < DEFAULT_WINDOW && tight.reader.window >= FLOOR);
        let tiny = Plan::new(Some(1 << 20), 2, 1_000_000);
        assert_eq!(tiny.reader.cache, FLOOR);
        assert_eq!(tiny.reader.window, FLOOR);
        assert_eq!(tiny.large, 0);
    }

    #[test]
    fn the_gate_holds_large_blobs_within_its_limit_and_lets_an_oversized_one_through_alone() {
        let gate = Gate::new(100);
        let held = AtomicU64::new(0);
        let over = AtomicU64::new(0);
        std::thread::scope(|scope| {
            for bytes in [60, 60, 30, 250, 40, 70] {
                let (gate, held, over) = (&gate, &held, &over);
                scope.spawn(move || {
                    let _permit = gate.acquire(bytes);
                    let now = held.fetch_add(bytes, Ordering::SeqCst) + bytes;
                    // Over the limit only when alone.
                    if now > 100 && now != bytes {
                        over.fetch_add(1, Ordering::SeqCst);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    held.fetch_sub(bytes, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(over.load(Ordering::SeqCst), 0);
        assert_eq!(*gate.used.lock().unwrap(), 0);
    }
}
