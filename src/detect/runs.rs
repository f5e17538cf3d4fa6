//! Maximal runs of a byte class: the engine's one pass over every byte
//! besides the keyword search.
//!
//! Where AVX2 is available, 64 bytes are classified at a time (two nibble
//! lookups with `pshufb`, the technique simdjson uses for its character
//! classes) into a bit mask, and runs are read off the mask with bit
//! counts: about a byte per instruction, whatever the shortest run asked
//! for. Code is mostly run bytes (identifiers are runs of the base64
//! alphabet), so the older checkpointed scan, which tests every `min`-th
//! byte and measures the run around a hit, ended up reading most bytes one
//! at a time anyway, and got slower as rules with shorter tokens lowered
//! `min`. It remains the fallback.

use std::ops::{Index, Range};

/// A byte class: a lookup table, and the same class as two 16-byte nibble
/// tables where it can be written so (`member(b)` iff
/// `low[b & 15] & high[b >> 4] != 0`).
pub struct ByteClass {
    members: [bool; 256],
    nibbles: Option<([u8; 16], [u8; 16])>,
}

impl Index<usize> for ByteClass {
    type Output = bool;

    #[inline]
    fn index(&self, byte: usize) -> &bool {
        &self.members[byte]
    }
}

impl ByteClass {
    const fn new(members: [bool; 256]) -> ByteClass {
        ByteClass {
            members,
            nibbles: nibble_tables(&members),
        }
    }
}

/// The nibble tables of a class: each high nibble's set of low nibbles
/// gets one bit, so at most eight distinct sets fit (and no byte of 0x80
/// or more may be a member, as `pshufb` zeroes those lanes).
pub(crate) const fn nibble_tables(members: &[bool; 256]) -> Option<([u8; 16], [u8; 16])> {
    let mut sets = [0u16; 8];
    let mut count = 0;
    let mut high = [0u8; 16];
    let mut low = [0u8; 16];
    let mut h = 0;
    while h < 16 {
        let mut set = 0u16;
        let mut l = 0;
        while l < 16 {
            if members[h * 16 + l] {
                set |= 1 << l;
            }
            l += 1;
        }
        if set != 0 {
            if h >= 8 {
                return None;
            }
            let mut bit = 0;
            while bit < count && sets[bit] != set {
                bit += 1;
            }
            if bit == count {
                if count == 8 {
                    return None;
                }
                sets[count] = set;
                count += 1;
            }
            high[h] = 1 << bit;
            let mut l = 0;
            while l < 16 {
                if set & (1 << l) != 0 {
                    low[l] |= 1 << bit;
                }
                l += 1;
            }
        }
        h += 1;
    }
    Some((low, high))
}

const fn base32_lower_class() -> ByteClass {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = is_base32_lower(i as u8);
        i += 1;
    }
    ByteClass::new(table)
}

const fn base64_class() -> ByteClass {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = crate::rules::facts::is_token_byte(i as u8);
        i += 1;
    }
    ByteClass::new(table)
}

const fn is_base32_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || (b >= b'2' && b <= b'7')
}

/// A byte's case for the tests of whether a run looks random or encoded:
/// [`CASE_LOWER`], [`CASE_UPPER`], [`CASE_DIGIT`], or 0 for every other
/// byte.
pub static CASE_OF: [u8; 256] = {
    let mut case = [0; 256];
    let mut b = 0;
    while b < 256 {
        case[b] = match b as u8 {
            b'a'..=b'z' => CASE_LOWER,
            b'A'..=b'Z' => CASE_UPPER,
            b'0'..=b'9' => CASE_DIGIT,
            _ => 0,
        };
        b += 1;
    }
    case
};
pub const CASE_LOWER: u8 = 1;
pub const CASE_UPPER: u8 = 2;
pub const CASE_DIGIT: u8 = 4;
const CASE_ALL: u8 = CASE_LOWER | CASE_UPPER | CASE_DIGIT;

/// The cases ([`CASE_OF`]) among the bytes of `run`, read until all three
/// are seen.
///
/// Sixteen bytes a step where the run has them: every long run is asked
/// this before it is decoded, and a hex digest (no capital) is read to its
/// end; a byte at a time it was 3% of a scan of generated data (callgrind).
#[inline]
pub fn cases_in(run: &[u8]) -> u8 {
    #[cfg(target_arch = "x86_64")]
    if run.len() >= 16 {
        return simd::cases_in(run);
    }
    cases_in_bytewise(run)
}

/// The bytes of `v` in `first..=last` (`first` above 0), as a lane mask:
/// 0xff where in. Signed compares: bytes of 0x80 and up are negative, in
/// no range. SSE2, part of every x86_64.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn bytes_within(
    v: std::arch::x86_64::__m128i,
    first: u8,
    last: u8,
) -> std::arch::x86_64::__m128i {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of every x86_64.
    unsafe {
        _mm_and_si128(
            _mm_cmpgt_epi8(v, _mm_set1_epi8(first as i8 - 1)),
            _mm_cmplt_epi8(v, _mm_set1_epi8(last as i8 + 1)),
        )
    }
}

/// Whether some byte of `bytes[start..end]` is one `block` marks, 16 bytes
/// a step: `block` gives the 16 bytes loaded at a place as a lane mask
/// (bit `i` for byte `i`; bytes past `end` are read, never counted), and
/// `byte` tests the last bytes one at a time where fewer than 16 remain in
/// `bytes`. Inlined, so that each caller's compares stay in registers.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn any_in_blocks(
    bytes: &[u8],
    start: usize,
    end: usize,
    block: impl Fn(std::arch::x86_64::__m128i) -> u32,
    byte: impl Fn(u8) -> bool,
) -> bool {
    let mut at = start;
    while at < end {
        let Some(sixteen) = bytes.get(at..at + 16) else {
            return bytes[at..end].iter().any(|&b| byte(b));
        };
        // SAFETY: `sixteen` is 16 bytes; the load is unaligned; SSE2 is
        // part of every x86_64.
        let v = unsafe { std::arch::x86_64::_mm_loadu_si128(sixteen.as_ptr().cast()) };
        let mut marked = block(v);
        if end - at < 16 {
            marked &= (1 << (end - at)) - 1;
        }
        if marked != 0 {
            return true;
        }
        at += 16;
    }
    false
}

/// [`cases_in`] a byte at a time: for runs shorter than 16 bytes, and on
/// other targets.
fn cases_in_bytewise(run: &[u8]) -> u8 {
    let mut seen = 0;
    for &b in run {
        seen |= CASE_OF[usize::from(b)];
        if seen == CASE_ALL {
            break;
        }
    }
    seen
}

/// `[a-z2-7]`: the legacy Azure DevOps PAT's alphabet.
pub static BASE32_LOWER: ByteClass = base32_lower_class();
/// Standard and URL-safe base64 together (without `=`): every token
/// alphabet is inside it, and so is every base64 run worth decoding.
pub static BASE64_ANY: ByteClass = base64_class();

/// Calls `found(start, end)` for each maximal run of `class` bytes in
/// `range` that is at least `min` bytes long. Runs are maximal within
/// `range`: callers pass a range whose edges are outside the class.
pub fn maximal_runs(
    class: &ByteClass,
    haystack: &[u8],
    range: Range<usize>,
    min: usize,
    found: impl FnMut(usize, usize),
) {
    #[cfg(target_arch = "x86_64")]
    if let Some((low, high)) = &class.nibbles {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 is available, checked just above.
            unsafe { simd::maximal_runs(low, high, class, haystack, range, min, found) };
            return;
        }
    }
    checkpointed_runs(class, haystack, range, min, found)
}

/// The portable scan: tests every `min`-th byte until one is in the class,
/// then measures the run around it (any run of `min` bytes covers one of
/// those checkpoints).
fn checkpointed_runs(
    class: &ByteClass,
    haystack: &[u8],
    range: Range<usize>,
    min: usize,
    mut found: impl FnMut(usize, usize),
) {
    debug_assert!(min > 0);
    let limit = range.end.min(haystack.len());
    let mut checkpoint = range.start + min - 1;
    while checkpoint < limit {
        if !class[haystack[checkpoint] as usize] {
            checkpoint += min;
            continue;
        }
        let mut start = checkpoint;
        while start > range.start && class[haystack[start - 1] as usize] {
            start -= 1;
        }
        let mut end = checkpoint + 1;
        while end < limit && class[haystack[end] as usize] {
            end += 1;
        }
        if end - start >= min {
            found(start, end);
        }
        // `end` is outside the class, so the next run starts after it and
        // must cover `end + min`.
        checkpoint = end + min;
    }
}

/// Calls `found(i)` for each `i` in `range` where `haystack[i]` is `one` or
/// `two`, in order. Made for the short ranges of a run (the engine's `-` and
/// `+` inside each run of 16 bytes or more), where `memchr2`'s set-up cost
/// more than the search: 16 bytes per SSE2 compare, read in place.
pub fn each_of_two(
    haystack: &[u8],
    range: Range<usize>,
    one: u8,
    two: u8,
    mut found: impl FnMut(usize),
) {
    let end = range.end.min(haystack.len());
    let mut at = range.start;
    #[cfg(target_arch = "x86_64")]
    while at + 16 <= haystack.len() && at < end {
        use std::arch::x86_64::*;
        // SAFETY: `at + 16 <= haystack.len()`; SSE2 is part of every x86_64.
        let mut hits = unsafe {
            let v = _mm_loadu_si128(haystack.as_ptr().add(at).cast());
            let either = _mm_or_si128(
                _mm_cmpeq_epi8(v, _mm_set1_epi8(one as i8)),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(two as i8)),
            );
            _mm_movemask_epi8(either) as u32
        };
        // Bytes past the range's end were read, not counted.
        if end - at < 16 {
            hits &= (1 << (end - at)) - 1;
        }
        while hits != 0 {
            found(at + hits.trailing_zeros() as usize);
            hits &= hits - 1;
        }
        at += 16;
    }
    while at < end {
        if haystack[at] == one || haystack[at] == two {
            found(at);
        }
        at += 1;
    }
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;
    use std::ops::Range;

    use super::{bytes_within as within, ByteClass, CASE_ALL, CASE_DIGIT, CASE_LOWER, CASE_UPPER};

    /// [`super::cases_in`] of a run of 16 bytes or more: its 16-byte blocks,
    /// the last one overlapping the one before where the length is not a
    /// multiple of 16 (a byte read twice changes no union).
    pub(super) fn cases_in(run: &[u8]) -> u8 {
        debug_assert!(run.len() >= 16);
        let (mut lower, mut upper, mut digit) = (0, 0, 0);
        let mut at = 0;
        loop {
            let from = at.min(run.len() - 16);
            // SAFETY: `from + 16 <= run.len()`; the load is unaligned.
            let v = unsafe { _mm_loadu_si128(run.as_ptr().add(from).cast()) };
            // SAFETY: SSE2, as above.
            unsafe {
                lower |= _mm_movemask_epi8(within(v, b'a', b'z'));
                upper |= _mm_movemask_epi8(within(v, b'A', b'Z'));
                digit |= _mm_movemask_epi8(within(v, b'0', b'9'));
            }
            at += 16;
            let seen = (u8::from(lower != 0) * CASE_LOWER)
                | (u8::from(upper != 0) * CASE_UPPER)
                | (u8::from(digit != 0) * CASE_DIGIT);
            if seen == CASE_ALL || at >= run.len() {
                return seen;
            }
        }
    }

    /// One bit per byte of `bytes[at..at + 64]` (which must be in bounds):
    /// set where the byte is in the class.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn mask64(low: __m256i, high: __m256i, bytes: &[u8], at: usize) -> u64 {
        let nibble = _mm256_set1_epi8(0x0f);
        let zero = _mm256_setzero_si256();
        let mut mask = 0u64;
        for half in 0..2 {
            // SAFETY: the caller keeps `at + 64` within `bytes`.
            let v = unsafe { _mm256_loadu_si256(bytes.as_ptr().add(at + 32 * half).cast()) };
            let lo = _mm256_and_si256(v, nibble);
            let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
            let hit = _mm256_and_si256(_mm256_shuffle_epi8(low, lo), _mm256_shuffle_epi8(high, hi));
            // A byte of 0x80 or more has a high nibble of 8 to 15, whose
            // entries in `high` are 0 (see `nibble_tables`).
            let outside = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hit, zero)) as u32;
            mask |= u64::from(!outside) << (32 * half);
        }
        mask
    }

    /// The class mask of `haystack[base..limit]`'s first 64 bytes, and
    /// how many bytes it covers (fewer at the end of the range).
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn block_mask(
        low: __m256i,
        high: __m256i,
        class: &ByteClass,
        haystack: &[u8],
        base: usize,
        limit: usize,
    ) -> (u64, usize) {
        if base + 64 <= limit {
            // SAFETY: `base + 64 <= limit <= haystack.len()`.
            (unsafe { mask64(low, high, haystack, base) }, 64)
        } else if base < limit {
            let mut mask = 0u64;
            for (i, &b) in haystack[base..limit].iter().enumerate() {
                mask |= u64::from(class[usize::from(b)]) << i;
            }
            (mask, limit - base)
        } else {
            (0, 0)
        }
    }

    /// Bit `i` set where bits `i..i + min` of `bits` are all set: where a
    /// run of at least `min` members starts or continues. Shifts by at
    /// most what is already known to be set, so log2(min) steps.
    #[inline(always)]
    fn runs_of_at_least(bits: u128, min: usize) -> u128 {
        let mut covered = 1;
        let mut long = bits;
        while covered < min {
            let step = covered.min(min - covered);
            long &= long >> step;
            covered += step;
        }
        long
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn maximal_runs(
        low: &[u8; 16],
        high: &[u8; 16],
        class: &ByteClass,
        haystack: &[u8],
        range: Range<usize>,
        min: usize,
        mut found: impl FnMut(usize, usize),
    ) {
        // SAFETY: unaligned 16-byte loads of two arrays.
        let (low, high) = unsafe {
            (
                _mm256_broadcastsi128_si256(_mm_loadu_si128(low.as_ptr().cast())),
                _mm256_broadcastsi128_si256(_mm_loadu_si128(high.as_ptr().cast())),
            )
        };
        let limit = range.end.min(haystack.len());
        // Most runs in code are short (identifiers, words), and visiting
        // each cost more than classifying the bytes. So each block's mask
        // is first reduced, with the next block's mask behind it, to the
        // places where `min` members in a row start: a block with none
        // (and no run open) is done in a few instructions. Needs the next
        // block to cover a run's first `min` bytes, so `min <= 65`.
        let skip_short = min <= 65;
        let mut run_start: Option<usize> = None;
        let mut base = range.start.min(limit);
        // SAFETY (all `block_mask` calls): AVX2 is enabled for this function.
        let (mut mask, mut width) = unsafe { block_mask(low, high, class, haystack, base, limit) };
        while width > 0 {
            let (next, next_width) =
                unsafe { block_mask(low, high, class, haystack, base + width, limit) };
            // Bits past `width` are zero in `mask` (the last block), and
            // `next` is then empty, so no run reaches past `limit`.
            let both = u128::from(mask) | u128::from(next) << 64;
            let long = if min == 16 {
                // The engine's length (the shortest context and prefix
                // run): constant shifts, unrolled, where the loop with
                // variable ones was a third of this function.
                runs_of_at_least(both, 16) as u64
            } else if skip_short {
                runs_of_at_least(both, min) as u64
            } else {
                mask
            };
            let mut pos = 0;
            while pos < width {
                match run_start {
                    Some(start) => {
                        let outside = !mask >> pos;
                        if outside == 0 {
                            break;
                        }
                        pos += outside.trailing_zeros() as usize;
                        if pos >= width {
                            break;
                        }
                        let end = base + pos;
                        if end - start >= min {
                            found(start, end);
                        }
                        run_start = None;
                    }
                    None => {
                        // `pos` is outside any run of `min` or more here
                        // (at a block's start, a long run would be open),
                        // so the first bit of `long` from `pos` is the
                        // start of the next long run.
                        let inside = long >> pos;
                        if inside == 0 {
                            break;
                        }
                        pos += inside.trailing_zeros() as usize;
                        run_start = Some(base + pos);
                    }
                }
            }
            base += width;
            (mask, width) = (next, next_width);
        }
        if let Some(start) = run_start {
            if limit - start >= min {
                found(start, limit);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(class: &ByteClass, text: &[u8], min: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < text.len() {
            if class[text[i] as usize] {
                let s = i;
                while i < text.len() && class[text[i] as usize] {
                    i += 1;
                }
                if i - s >= min {
                    out.push((s, i));
                }
            } else {
                i += 1;
            }
        }
        out
    }

    /// The vector union of cases against the byte loop, on runs of every
    /// length up to 80 with each case rare or absent, high bytes among them.
    #[test]
    fn cases_in_is_the_union_of_each_bytes_case() {
        let mut rng = crate::tokengen::TokenRng::new(0x5EED_CA5E);
        let pools: [&[u8]; 4] = [
            b"abcdef0123456789",
            b"abcXYZ+/-_",
            b"aZ09\xc3",
            b"zzzzzzzzzzzzzzzzZ",
        ];
        let mut kinds = [0usize; 8];
        for round in 0..20_000 {
            let pool = pools[round % pools.len()];
            let len = rng.below(81) as usize;
            let run: Vec<u8> = (0..len)
                .map(|_| pool[rng.below(pool.len() as u64) as usize])
                .collect();
            let union = run
                .iter()
                .fold(0, |seen, &b| seen | CASE_OF[usize::from(b)]);
            assert_eq!(cases_in(&run), union, "{run:?}");
            kinds[usize::from(union)] += 1;
        }
        // Every combination of cases came up, so each was checked.
        assert!(kinds.iter().all(|&n| n > 0), "{kinds:?}");
    }

    #[test]
    fn agrees_with_a_naive_scan() {
        // Bytes in and out of both classes, a high byte among them.
        let alphabet = b"ab2 8Z+=\xc3_-/";
        let mut state = 0x1234_5678_9abc_def0u64;
        // Run lengths around the block size and the shortcut's limit too:
        // the vector scan looks one block ahead for runs of up to 65.
        let mins = [1, 2, 3, 4, 5, 6, 16, 17, 31, 33, 63, 64, 65, 66, 100];
        for round in 0..6000 {
            // Past 64 and 128 bytes too: the vector scan's blocks.
            let len = (state % 400) as usize;
            let min = mins[round % mins.len()];
            // Half the texts have long runs: one byte in 40 outside both
            // classes.
            let spaced = round % 2 == 1;
            let mut text = Vec::new();
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let byte = if spaced && state % 40 != 0 {
                    b"ab27"[(state >> 8) as usize % 4]
                } else {
                    alphabet[(state % alphabet.len() as u64) as usize]
                };
                text.push(byte);
            }
            for class in [&BASE32_LOWER, &BASE64_ANY] {
                let mut got = Vec::new();
                maximal_runs(class, &text, 0..text.len(), min, |s, e| got.push((s, e)));
                let mut portable = Vec::new();
                checkpointed_runs(class, &text, 0..text.len(), min, |s, e| {
                    portable.push((s, e))
                });
                let expected = naive(class, &text, min);
                let shown = String::from_utf8_lossy(&text);
                assert_eq!(got, expected, "{shown:?}");
                assert_eq!(portable, expected, "{shown:?}");
            }
        }
    }

    #[test]
    fn a_run_of_each_length_at_each_place_in_a_block() {
        for min in [1, 2, 15, 16, 17, 63, 64, 65, 66, 70] {
            for at in 0..140 {
                for len in [min - 1, min, min + 1, 64, 65, 130] {
                    let mut text = vec![b' '; at];
                    text.extend(std::iter::repeat(b'a').take(len));
                    text.extend(b" x ");
                    let mut got = Vec::new();
                    maximal_runs(&BASE64_ANY, &text, 0..text.len(), min, |s, e| {
                        got.push((s, e))
                    });
                    let expected = naive(&BASE64_ANY, &text, min);
                    assert_eq!(got, expected, "min {min}, run of {len} at {at}");
                }
            }
        }
    }

    #[test]
    fn each_of_two_finds_what_a_scan_finds_inside_the_range() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for round in 0..2000 {
            let len = (state % 90) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    b"a-+b"[(state % 4) as usize]
                })
                .collect();
            let start = round % 7;
            let end = len.saturating_sub(round % 23);
            let mut got = Vec::new();
            each_of_two(&text, start..end, b'-', b'+', |i| got.push(i));
            let expected: Vec<usize> = (start..end)
                .filter(|&i| text[i] == b'-' || text[i] == b'+')
                .collect();
            assert_eq!(got, expected, "{start}..{end} of {len}");
        }
    }

    #[test]
    fn runs_stay_inside_the_range() {
        let text = b"abcdefgh";
        let mut got = Vec::new();
        maximal_runs(&BASE32_LOWER, text, 2..6, 2, |s, e| got.push((s, e)));
        assert_eq!(got, vec![(2, 6)]);
    }
}
