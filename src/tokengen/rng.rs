//! The seeded random source of every generated token.

/// SplitMix64: tiny, fast, and fully determined by its seed, so generated
/// fixtures are reproducible across platforms without an external crate.
/// Not cryptographic, which is fine: these tokens are test data.
#[derive(Debug, Clone)]
pub struct TokenRng {
    state: u64,
}

impl TokenRng {
    /// Creates a generator; equal seeds give equal sequences.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits (standard SplitMix64 step).
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in `0..n`, without modulo bias (rejection sampling).
    /// Returns 0 for `n == 0` rather than panicking.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Values below `threshold` would over-represent small residues.
        let threshold = n.wrapping_neg() % n;
        loop {
            let r = self.next_u64();
            if r >= threshold {
                return r % n;
            }
        }
    }

    /// `len` chars drawn uniformly from `alphabet`. Each byte is taken as a
    /// Latin-1 char (alphabets are meant to be ASCII). An empty alphabet
    /// yields an empty string.
    #[cfg(any(test, feature = "test-support"))]
    pub fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        if alphabet.is_empty() {
            return String::new();
        }
        (0..len).map(|_| char::from(self.pick(alphabet))).collect()
    }

    /// Fills `buf` with random bytes.
    #[cfg(any(test, feature = "test-support"))]
    pub fn fill_bytes(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    /// One uniform element of a non-empty slice.
    #[cfg(any(test, feature = "test-support"))]
    pub(crate) fn pick(&mut self, alphabet: &[u8]) -> u8 {
        let i = self.below(alphabet.len() as u64) as usize;
        alphabet.get(i).copied().unwrap_or(b'0')
    }
}
