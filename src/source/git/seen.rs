//! The set of objects a history walk has seen: 20 bytes an id in one flat
//! table, open addressing with linear probing, sized once for the whole
//! store.
//!
//! Why not a `HashSet`: the walk looks up every entry of every tree it
//! reads (about 10 million lookups on azure-pipelines-tasks' 589,600
//! objects), each one a miss in the CPU caches of a 20 MB table, and
//! waited for one after the other that was a quarter of the listing
//! thread's time. Here a tree's entries are looked up as a batch: each
//! one's slot is asked of memory first ([`Seen::prefetch`]), then they are
//! inserted, so the misses overlap. Ids are SHA-1 or SHA-256 digests, so
//! their first 8 bytes are already a uniform hash.

use gix::hash::{oid, ObjectId};

/// The longest id kept (SHA-256); SHA-1 ids use the first 20 bytes.
const MAX: usize = 32;

pub struct Seen {
    /// `width` bytes a slot; all zeros is an empty slot.
    slots: Vec<u8>,
    width: usize,
    mask: usize,
    len: usize,
    /// Whether the all-zeros id, which cannot be told from an empty slot,
    /// is in the set (no object has it, but nothing here relies on that).
    zero: bool,
}

impl Seen {
    /// A set of `width`-byte ids with room for `objects` without growing
    /// (kept at most 7/8 full).
    pub fn new(width: usize, objects: usize) -> Seen {
        assert!((8..=MAX).contains(&width), "object id of {width} bytes");
        let slots = (objects + objects / 7 + 1).next_power_of_two().max(16);
        Seen {
            slots: vec![0; slots * width],
            width,
            mask: slots - 1,
            len: 0,
            zero: false,
        }
    }

    pub fn len(&self) -> usize {
        self.len + usize::from(self.zero)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn home(&self, id: &[u8]) -> usize {
        let mut head = [0u8; 8];
        head.copy_from_slice(&id[..8]);
        u64::from_le_bytes(head) as usize & self.mask
    }

    fn slot(&self, i: usize) -> &[u8] {
        &self.slots[i * self.width..(i + 1) * self.width]
    }

    fn is_zero(id: &[u8]) -> bool {
        id.iter().all(|&b| b == 0)
    }

    /// The slot holding `id`, or the empty one where it would go.
    fn find(&self, id: &[u8]) -> (usize, bool) {
        let mut i = self.home(id);
        loop {
            let slot = self.slot(i);
            if slot == id {
                return (i, true);
            }
            if Self::is_zero(slot) {
                return (i, false);
            }
            i = (i + 1) & self.mask;
        }
    }

    fn bytes<'a>(&self, id: &'a oid) -> &'a [u8] {
        let bytes = id.as_bytes();
        assert_eq!(bytes.len(), self.width, "an id of another hash kind");
        bytes
    }

    /// Asks for `id`'s slot to be brought into the CPU's cache, ahead of
    /// an [`Seen::insert`] or [`Seen::contains`] of it. Only a hint.
    #[inline]
    pub fn prefetch(&self, id: &oid) {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
        {
            let at = self.home(id.as_bytes()) * self.width;
            let line = self.slots[at..].as_ptr().cast::<i8>();
            // SAFETY: SSE is enabled (the cfg above; every x86-64 processor
            // has it), and a prefetch is a hint that reads nor writes
            // nothing: `line` points into the table anyway.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line);
            }
        }
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
        let _ = id;
    }

    /// Adds `id`; `true` if it was not there.
    pub fn insert(&mut self, id: &oid) -> bool {
        let id = self.bytes(id);
        if Self::is_zero(id) {
            return !std::mem::replace(&mut self.zero, true);
        }
        let (i, found) = self.find(id);
        if found {
            return false;
        }
        let width = self.width;
        self.slots[i * width..(i + 1) * width].copy_from_slice(id);
        self.len += 1;
        if self.len * 8 > (self.mask + 1) * 7 {
            self.grow();
        }
        true
    }

    pub fn contains(&self, id: &oid) -> bool {
        let id = self.bytes(id);
        if Self::is_zero(id) {
            return self.zero;
        }
        self.find(id).1
    }

    /// Takes `id` out; `true` if it was there. The entries after it in its
    /// run move back, so that no lookup stops early at the hole.
    pub fn remove(&mut self, id: &oid) -> bool {
        let id = self.bytes(id);
        if Self::is_zero(id) {
            return std::mem::replace(&mut self.zero, false);
        }
        let (mut hole, found) = self.find(id);
        if !found {
            return false;
        }
        let width = self.width;
        let mut next = hole;
        loop {
            next = (next + 1) & self.mask;
            if Self::is_zero(self.slot(next)) {
                break;
            }
            // The entry at `next` may move into the hole unless its home
            // lies cyclically in (hole, next]: then it would be found no more.
            let home = self.home(self.slot(next));
            let stays = if hole <= next {
                hole < home && home <= next
            } else {
                hole < home || home <= next
            };
            if !stays {
                self.slots
                    .copy_within(next * width..(next + 1) * width, hole * width);
                hole = next;
            }
        }
        self.slots[hole * width..(hole + 1) * width].fill(0);
        self.len -= 1;
        true
    }

    /// Twice the slots, every id placed again.
    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        let slots = (self.mask + 1) * 2;
        self.slots = vec![0; slots * self.width];
        self.mask = slots - 1;
        for id in old.chunks_exact(self.width) {
            if !Self::is_zero(id) {
                let (i, _) = self.find(id);
                let width = self.width;
                self.slots[i * width..(i + 1) * width].copy_from_slice(id);
            }
        }
    }

    /// Every id in the set, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = ObjectId> + '_ {
        let zero = self
            .zero
            .then(|| ObjectId::from_bytes_or_panic(&[0; MAX][..self.width]));
        self.slots
            .chunks_exact(self.width)
            .filter(|id| !Self::is_zero(id))
            .map(ObjectId::from_bytes_or_panic)
            .chain(zero)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Ids whose first bytes collide a lot (long runs, wrap-around at the
    /// table's end), from a small deterministic generator.
    fn ids(n: usize, seed: u64) -> Vec<ObjectId> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                let mut bytes = [0u8; 20];
                for b in &mut bytes {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    *b = (state >> 56) as u8;
                }
                // Few distinct homes: the first byte only varies.
                bytes[1..8].fill(0xff);
                ObjectId::from_bytes_or_panic(&bytes)
            })
            .collect()
    }

    #[test]
    fn it_agrees_with_a_hash_set_through_inserts_removals_and_growth() {
        let mut seen = Seen::new(20, 4);
        let mut model: HashSet<ObjectId> = HashSet::new();
        let all = ids(3000, 7);
        for (n, id) in all.iter().enumerate() {
            seen.prefetch(id);
            assert_eq!(seen.insert(id), model.insert(*id));
            if n % 3 == 0 {
                let gone = all[n / 2];
                assert_eq!(seen.remove(&gone), model.remove(&gone));
            }
        }
        assert_eq!(seen.len(), model.len());
        for id in all.iter().chain(&ids(500, 8)) {
            assert_eq!(seen.contains(id), model.contains(id), "{id}");
        }
        let listed: HashSet<ObjectId> = seen.iter().collect();
        assert_eq!(listed, model);
    }

    #[test]
    fn the_all_zeros_id_is_an_id_like_any_other() {
        let zero = ObjectId::null(gix::hash::Kind::Sha1);
        let mut seen = Seen::new(20, 10);
        assert!(!seen.contains(&zero));
        assert!(seen.insert(&zero) && !seen.insert(&zero));
        assert!(seen.contains(&zero) && seen.len() == 1);
        assert_eq!(seen.iter().collect::<Vec<_>>(), vec![zero]);
        assert!(seen.remove(&zero) && !seen.contains(&zero) && seen.is_empty());
    }
}
