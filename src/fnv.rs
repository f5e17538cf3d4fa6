//! FNV-1a, 64 bits: fixed, portable and the same in every release (the
//! standard library's hasher is none of these), for hashes that decide
//! something lasting: a repository's shard, a blob's worker, and the
//! fingerprint that ties the build script's rule facts to the binary's
//! rules (`build.rs` includes this file too, so it uses only `core`).

/// A running FNV-1a hash.
pub struct Fnv1a(u64);

impl Fnv1a {
    pub const fn new() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    pub fn finish(&self) -> u64 {
        self.0
    }
}

impl Default for Fnv1a {
    fn default() -> Fnv1a {
        Fnv1a::new()
    }
}
