//! The context words of a group by their first four bytes: at every place
//! of a key or a window, whether a word may start there, before any word
//! is compared.
//!
//! A head is the four bytes at a place, case folded, the first lowest,
//! with zeros past the text's end (no folded byte of a text is zero
//! otherwise, but a NUL, which a three-byte word is kept under as well).
//! Heads hash to one bit each of a 4 KiB set, small enough to stay in L1.
//! Three bytes hit at one place in 27 of generated data (`nam` of
//! `namecheap` in every `name`), four at one in 150. A three-byte word
//! (`box`, `ovh`) is kept under each byte that may follow it, and under
//! its three bytes and a zero for the last place of a text.

/// The shortest context word (and keyword) the rule check accepts: every
/// word has a head of at least this many bytes.
pub(super) const MIN_WORD: usize = 3;

const HEAD_SLOTS: usize = 1 << 15;
/// Fibonacci hashing to 15 bits: the top bits of the product.
const GOLDEN: u32 = 0x9E37_79B1;
const SLOT_SHIFT: u32 = 32 - HEAD_SLOTS.trailing_zeros();

/// ASCII letters folded to lower case, every other byte as it is: what
/// `eq_ignore_ascii_case` compares.
static FOLD: [u8; 256] = {
    let mut fold = [0; 256];
    let mut b = 0;
    while b < 256 {
        fold[b] = (b as u8).to_ascii_lowercase();
        b += 1;
    }
    fold
};

pub(super) struct WordHeads {
    bits: Box<[u32; HEAD_SLOTS / 32]>,
    /// For each hashed head, 1 + its index in `heads`, or 0.
    slots: Box<[u16]>,
    /// Under each slot, the heads hashed to it and their words (indices
    /// into the group's words): a common name that shares a slot with a
    /// word's head costs one compare, not a call.
    heads: Vec<Vec<(u32, Vec<usize>)>>,
    /// Whether eight places at a time are tested with AVX2.
    pub(super) vector: bool,
}

impl WordHeads {
    /// `may_follow`: the bytes that may stand after a word where the
    /// group's words are searched.
    pub(super) fn new(words: &[String], may_follow: impl Fn(u8) -> bool) -> WordHeads {
        let mut heads = WordHeads {
            bits: Box::new([0; HEAD_SLOTS / 32]),
            slots: vec![0; HEAD_SLOTS].into_boxed_slice(),
            heads: Vec::new(),
            vector: avx2_available(),
        };
        let fold = |b: u8| u32::from(FOLD[usize::from(b)]);
        // Folded bytes that may follow a word, each once; a zero stands
        // for the text's end.
        let mut followers: Vec<u32> = (0..=255u8).filter(|&b| may_follow(b)).map(fold).collect();
        followers.push(0);
        followers.sort_unstable();
        followers.dedup();
        for (index, word) in words.iter().enumerate() {
            match *word.as_bytes() {
                [a, b, c, d, ..] => {
                    heads.add(
                        fold(a) | fold(b) << 8 | fold(c) << 16 | fold(d) << 24,
                        index,
                    );
                }
                [a, b, c] => {
                    let three = fold(a) | fold(b) << 8 | fold(c) << 16;
                    for &next in &followers {
                        heads.add(three | next << 24, index);
                    }
                }
                // The rule check refuses shorter words.
                _ => {}
            }
        }
        heads
    }

    fn add(&mut self, head: u32, word: usize) {
        let slot = slot(head);
        self.bits[slot / 32] |= 1 << (slot % 32);
        if self.slots[slot] == 0 {
            self.heads.push(Vec::new());
            // Fewer than 65,536 slots exist, so the index fits.
            self.slots[slot] = self.heads.len() as u16;
        }
        let under = &mut self.heads[usize::from(self.slots[slot]) - 1];
        match under.iter_mut().find(|(known, _)| *known == head) {
            Some((_, words)) if words.contains(&word) => {}
            Some((_, words)) => words.push(word),
            None => under.push((head, vec![word])),
        }
    }

    #[inline]
    fn may_start(&self, head: u32) -> bool {
        let slot = slot(head);
        self.bits[slot / 32] & (1 << (slot % 32)) != 0
    }

    /// The words whose head is `head`.
    #[inline]
    pub(super) fn words(&self, head: u32) -> &[usize] {
        match self.slots[slot(head)] {
            0 => &[],
            slot => (self.heads[usize::from(slot) - 1].iter())
                .find(|(known, _)| *known == head)
                .map_or(&[], |(_, words)| words),
        }
    }

    /// Calls `found(place, head)` for each place of the text
    /// `haystack[from..to]` (at least [`MIN_WORD`] bytes) whose head is in
    /// the set, in order; a place counts from `from`.
    #[inline]
    pub(super) fn each_candidate(
        &self,
        haystack: &[u8],
        from: usize,
        to: usize,
        found: impl FnMut(usize, u32),
    ) {
        debug_assert!(to - from >= MIN_WORD && to <= haystack.len());
        #[cfg(target_arch = "x86_64")]
        if self.vector {
            // SAFETY: AVX2 is available, checked when the set was made.
            unsafe { self.each_candidate_avx2(haystack, from, to, found) };
            return;
        }
        self.each_candidate_bytewise(&haystack[from..to], found)
    }

    /// A place at a time: the portable way, and the reference the vector
    /// one is tested against.
    fn each_candidate_bytewise(&self, text: &[u8], mut found: impl FnMut(usize, u32)) {
        let fold = |b: u8| u32::from(FOLD[usize::from(b)]);
        let mut head = fold(text[0]) << 8 | fold(text[1]) << 16 | fold(text[2]) << 24;
        for place in 0..=text.len() - MIN_WORD {
            let next = text.get(place + 3).map_or(0, |&b| fold(b));
            head = head >> 8 | next << 24;
            if self.may_start(head) {
                found(place, head);
            }
        }
    }

    /// Eight places at a time: their heads spread from 16 loaded bytes by
    /// one shuffle and hashed by one multiply. A place at a time, the hash and probe of each byte of a key
    /// were a twentieth of a whole scan of generated data (callgrind).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn each_candidate_avx2(
        &self,
        haystack: &[u8],
        from: usize,
        to: usize,
        mut found: impl FnMut(usize, u32),
    ) {
        use std::arch::x86_64::*;
        let places = to - from - (MIN_WORD - 1);
        // Place i's head: bytes i to i + 3, in lane i of eight.
        let spread = _mm256_setr_epi8(
            0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6, //
            4, 5, 6, 7, 5, 6, 7, 8, 6, 7, 8, 9, 7, 8, 9, 10,
        );
        let index = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let mut first = 0;
        while first < places {
            let start = from + first;
            let left = (to - start).min(16);
            let bytes = match haystack.get(start..start + 16) {
                // SAFETY: 16 bytes are there; the load is unaligned.
                Some(block) => unsafe { _mm_loadu_si128(block.as_ptr().cast()) },
                None => {
                    let mut padded = [0u8; 16];
                    padded[..left].copy_from_slice(&haystack[start..start + left]);
                    // SAFETY: as above, from the copy.
                    unsafe { _mm_loadu_si128(padded.as_ptr().cast()) }
                }
            };
            let capitals = crate::runs::bytes_within(bytes, b'A', b'Z');
            let folded = _mm_or_si128(bytes, _mm_and_si128(capitals, _mm_set1_epi8(0x20)));
            // Zeros past the text's end.
            let inside = _mm_cmpgt_epi8(_mm_set1_epi8(left as i8), index);
            let folded = _mm_and_si128(folded, inside);
            let heads = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(folded), spread);
            let product = _mm256_mullo_epi32(heads, _mm256_set1_epi32(GOLDEN as i32));
            let mut slots = [0u32; 8];
            // SAFETY: `slots` is 32 bytes; the store is unaligned.
            unsafe {
                _mm256_storeu_si256(
                    slots.as_mut_ptr().cast(),
                    _mm256_srli_epi32::<{ SLOT_SHIFT as i32 }>(product),
                )
            };
            // One probe a place, by scalar loads: a gather of the eight
            // was slower, a third of this function's time spent waiting
            // on it (perf; gathers are microcoded on current Intel parts).
            let mut hits = 0u32;
            for (lane, &slot) in slots.iter().enumerate() {
                let slot = slot as usize;
                hits |= (self.bits[slot / 32] >> (slot % 32) & 1) << lane;
            }
            // Places past the text's last are not the text's.
            hits &= (1 << (places - first).min(8)) - 1;
            if hits != 0 {
                let mut lanes = [0u32; 8];
                // SAFETY: `lanes` is 32 bytes; the store is unaligned.
                unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), heads) };
                while hits != 0 {
                    let lane = hits.trailing_zeros() as usize;
                    hits &= hits - 1;
                    found(first + lane, lanes[lane]);
                }
            }
            first += 8;
        }
    }
}

/// Whether this processor has AVX2 (x86_64 only).
pub(super) fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[inline]
fn slot(head: u32) -> usize {
    (head.wrapping_mul(GOLDEN) >> SLOT_SHIFT) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every place whose head is in the set, the vector way and the byte
    /// way, on texts of every length from 3 to 40 at every offset of a
    /// buffer (so that some end at the buffer's end), with capitals,
    /// symbols, bytes above ASCII and NULs.
    #[test]
    fn the_vector_test_finds_the_places_the_bytewise_one_does() {
        let words: Vec<String> = ["key", "api_key", "datadog", "dd.a", "box", "\u{e9}t\u{e9}"]
            .iter()
            .map(|w| w.to_string())
            .collect();
        let mut heads = WordHeads::new(&words, |_| true);
        let pool = b"keyKEYapi_datadogDDd.aBoXbox\0\xc3\xa9t-= \"";
        let mut rng = crate::tokengen::TokenRng::new(0x9E37_79B9_7F4A_7C15u64);
        let mut next = move |n: usize| rng.below(n as u64) as usize;
        let mut candidates = 0;
        for _ in 0..300 {
            let buffer: Vec<u8> = (0..next(60) + 3).map(|_| pool[next(pool.len())]).collect();
            for from in 0..buffer.len() - 2 {
                for to in from + MIN_WORD..=buffer.len() {
                    let collect = |heads: &WordHeads| {
                        let mut got = Vec::new();
                        heads.each_candidate(&buffer, from, to, |at, head| got.push((at, head)));
                        got
                    };
                    heads.vector = false;
                    let bytewise = collect(&heads);
                    heads.vector = avx2_available();
                    assert_eq!(collect(&heads), bytewise, "{:?}", &buffer[from..to]);
                    candidates += bytewise.len();
                }
            }
        }
        assert!(candidates > 10_000, "words were in the texts: {candidates}");
    }

    #[test]
    fn a_three_byte_word_has_a_head_at_the_end_and_before_each_follower() {
        let heads = WordHeads::new(&["ovh".to_string()], |b| b.is_ascii_alphanumeric());
        let head = |text: &[u8], place: usize| {
            let mut got = None;
            heads.each_candidate(text, 0, text.len(), |at, head| {
                if at == place {
                    got = Some(head);
                }
            });
            got.map(|head| heads.words(head).to_vec())
        };
        assert_eq!(head(b"ovh", 0), Some(vec![0]));
        assert_eq!(head(b"OVHx", 0), Some(vec![0]));
        assert_eq!(head(b"ovh=", 0).unwrap_or_default(), Vec::<usize>::new());
    }
}
