//! Context words: how formats without a literal of their own (a 32-digit
//! hex key named only by `datadog_api_key = …` before it) are found, and the
//! test of whether a run of token characters could be such a secret.

use super::compile::MIN_ENCODED_RUN_FLOOR;
use super::facts::{is_name_byte, RunShape};
use super::word_heads::{WordHeads, MIN_WORD};
use crate::runs::{CASE_DIGIT, CASE_LOWER, CASE_OF, CASE_UPPER};

/// Shortest run a context rule's secret may start: as for the base64 views
/// (see [`MIN_ENCODED_RUN_FLOOR`]), below this every identifier would be a
/// candidate.
pub const MIN_CONTEXT_RUN: usize = MIN_ENCODED_RUN_FLOOR;
/// How far before a candidate run its context word may start.
pub const CONTEXT_REACH: usize = 64;
/// A candidate run may be this much longer than the longest run a context
/// rule's secret starts (a token followed by `-suffix`); longer runs are
/// base64 blobs and hashes, not keys.
const CONTEXT_RUN_SLACK: usize = 32;

/// Context words: the prefilter for formats without a literal.
///
/// Hundreds of such words in the keyword automaton would push it off its
/// SIMD prefilter and slow every byte of the scan (see
/// [`super::compile::KeywordSearcher`]). But every such token is a run of
/// token characters, and the engine finds those runs anyway in one cheap
/// checkpointed pass. So the words are looked for only before a run that
/// could be a secret: long enough, not too long, and looking random.
///
/// Where they are looked for depends on the rule. Most patterns name their
/// secret in the key it is assigned to (`datadog_api_key = "…"`, see
/// [`super::facts::named_in_key`]): their words are looked for in that key
/// only, a dozen bytes or so. The others (a URL, `mailgun … key-…`) have
/// theirs looked for in the [`CONTEXT_REACH`] bytes before the run.
pub struct ContextWords {
    in_key: WordGroup,
    in_window: WordGroup,
    /// For each run length up to the longest candidate, the shapes a run
    /// that long can be, by shortest secret first.
    by_length: Vec<Vec<Fit>>,
    /// For each run length, the groups some shape of that length is of.
    groups_by_length: Vec<u8>,
    min_run: usize,
    max_run: usize,
    /// Whether 16 bytes of a run are tested at a time with AVX2.
    vector: bool,
}

/// The groups of [`ContextWords`], as bits of [`Fit::groups`].
const IN_KEY: u8 = 1;
const IN_WINDOW: u8 = 2;

/// Words and the rules that use them.
struct WordGroup {
    /// Lower-cased, compared case-insensitively.
    words: Vec<String>,
    /// For each word, the rules that use it.
    rules: Vec<Vec<usize>>,
    /// The words by their first bytes (see [`WordHeads`]).
    heads: WordHeads,
}

/// A shape as a run of some length is tested against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Fit {
    /// The secret's shortest run: its bytes must be of `kinds`.
    min: usize,
    /// For a run longer than the secret's longest: that longest, and the
    /// kinds of byte that may go on after the secret (see
    /// [`RunShape::after`]), one of which must stand where it may end.
    goes_on: Option<(usize, u16)>,
    kinds: u16,
    /// The kinds of byte the secret may start with.
    first: u16,
    /// The bytes that may stand before the secret, one bit each below 128
    /// (see [`RunShape::before`]).
    before: u128,
    /// The groups whose rules have this shape.
    groups: u8,
    /// For a secret that need not start its run: the kinds of byte one of
    /// which must stand before it in the run (see [`RunShape::inside`]).
    inside: u16,
    /// The bytes of `kinds`, for a test of 16 bytes at a time.
    bytes: Option<KindBytes>,
}

/// A set of bytes as the two nibble tables of a `pshufb` test (see
/// [`crate::runs::ByteClass`]): byte `b` is in it iff
/// `low[b & 15] & high[b >> 4] != 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct KindBytes {
    low: [u8; 16],
    high: [u8; 16],
}

impl KindBytes {
    /// The token bytes of `kinds`; `None` if the tables cannot hold them
    /// (they always can: six rows of the ASCII table at most).
    fn of(kinds: u16) -> Option<KindBytes> {
        let mut members = [false; 256];
        for (member, &kind) in members.iter_mut().zip(BYTE_KINDS.iter()) {
            *member = kind & kinds != 0;
        }
        crate::runs::nibble_tables(&members).map(|(low, high)| KindBytes { low, high })
    }

    /// Whether every byte of `haystack[start..end]` is in the set, 16 at a
    /// time: the byte loop was a third of the test of a run's shape
    /// (callgrind).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn holds_all(&self, haystack: &[u8], start: usize, end: usize) -> bool {
        use std::arch::x86_64::*;
        // SAFETY: the tables are 16 bytes each; the loads are unaligned.
        let (low, high) = unsafe {
            (
                _mm_loadu_si128(self.low.as_ptr().cast()),
                _mm_loadu_si128(self.high.as_ptr().cast()),
            )
        };
        let nibble = _mm_set1_epi8(0x0f);
        let outside = |v: __m128i| {
            let rows = _mm_and_si128(_mm_srli_epi16::<4>(v), nibble);
            let sets = _mm_and_si128(
                _mm_shuffle_epi8(low, _mm_and_si128(v, nibble)),
                _mm_shuffle_epi8(high, rows),
            );
            _mm_movemask_epi8(_mm_cmpeq_epi8(sets, _mm_setzero_si128())) as u32
        };
        !crate::runs::any_in_blocks(haystack, start, end, outside, |b| !self.holds(b))
    }

    fn holds(&self, b: u8) -> bool {
        // Rows 8 and up (bytes above ASCII) are empty.
        self.low[usize::from(b & 15)] & self.high[usize::from(b >> 4)] != 0
    }
}

#[derive(Default)]
pub(super) struct ContextBuilder {
    in_key: GroupBuilder,
    in_window: GroupBuilder,
}

#[derive(Default)]
struct GroupBuilder {
    words: Vec<String>,
    rules: Vec<Vec<usize>>,
    shapes: Vec<RunShape>,
}

static BYTE_KINDS: [u16; 256] = {
    let mut kinds = [0; 256];
    let mut b = 0;
    while b < 256 {
        kinds[b] = super::facts::byte_kind(b as u8);
        b += 1;
    }
    kinds
};

impl ContextBuilder {
    /// A rule's context words; `named_in_key` from its pattern's facts.
    /// A word that cannot be part of a key's name (`cloudinary://`) is
    /// looked for in the whole window even then.
    pub(super) fn add(
        &mut self,
        words: &[String],
        rule: usize,
        shape: RunShape,
        named_in_key: bool,
    ) {
        for word in words {
            let in_key = named_in_key && word.bytes().all(is_name_byte);
            let group = if in_key {
                &mut self.in_key
            } else {
                &mut self.in_window
            };
            group.add(&word.to_ascii_lowercase(), rule, shape);
        }
    }

    pub(super) fn build(self) -> ContextWords {
        let shapes = || {
            (self.in_key.shapes.iter().map(|shape| (shape, IN_KEY)))
                .chain(self.in_window.shapes.iter().map(|shape| (shape, IN_WINDOW)))
        };
        let min_run = shapes().map(|(shape, _)| shape.min).min();
        let max_run = shapes().map(|(shape, _)| shape.min).max();
        let max_run = max_run.map_or(0, |run| run + CONTEXT_RUN_SLACK);
        // For each run length, the shapes a run that long can be.
        let mut by_length = vec![Vec::<Fit>::new(); max_run + 1];
        for (shape, group) in shapes() {
            // Past its longest, a secret's run goes on only with the bytes
            // its pattern lets follow it (`-suffix`), up to the slack.
            let longest = match (shape.after, shape.inside) {
                (0, 0) => shape.max,
                _ => shape.max.saturating_add(CONTEXT_RUN_SLACK),
            };
            for (len, fits) in by_length
                .iter_mut()
                .enumerate()
                .take(longest.min(max_run) + 1)
                .skip(shape.min)
            {
                let goes_on = (len > shape.max).then_some((shape.max, shape.after));
                // Shapes of a group merge into one entry per kind of test
                // (the run as long as the secret, or longer; a secret at
                // the run's start, or inside): the shortest secret, the
                // longest, and every kind of byte any of them allows. A
                // superset of what each allows, in a handful of entries: a
                // run was tested against 30 or 40 at common lengths.
                let same = |fit: &&mut Fit| {
                    fit.groups == group
                        && fit.goes_on.is_some() == goes_on.is_some()
                        && (fit.inside == 0) == (shape.inside == 0)
                };
                match fits.iter_mut().find(same) {
                    Some(fit) => {
                        fit.min = fit.min.min(shape.min);
                        fit.goes_on = fit
                            .goes_on
                            .zip(goes_on)
                            .map(|((a, x), (b, y))| (a.max(b), x | y));
                        fit.kinds |= shape.kinds;
                        fit.first |= shape.first;
                        fit.before |= shape.before;
                        fit.inside |= shape.inside;
                    }
                    None => fits.push(Fit {
                        min: shape.min,
                        goes_on,
                        kinds: shape.kinds,
                        first: shape.first,
                        before: shape.before,
                        groups: group,
                        inside: shape.inside,
                        bytes: None,
                    }),
                }
            }
        }
        for fits in &mut by_length {
            for fit in fits.iter_mut() {
                fit.bytes = KindBytes::of(fit.kinds);
            }
            fits.sort_unstable();
        }
        let groups_by_length = (by_length.iter())
            .map(|fits| fits.iter().fold(0, |groups, fit| groups | fit.groups))
            .collect();
        ContextWords {
            // In a key, a word is followed by a name byte or the key's end.
            in_key: self.in_key.build(is_name_byte),
            in_window: self.in_window.build(|_| true),
            by_length,
            groups_by_length,
            min_run: min_run.unwrap_or(usize::MAX),
            max_run,
            vector: super::word_heads::avx2_available(),
        }
    }
}

impl GroupBuilder {
    fn add(&mut self, word: &str, rule: usize, shape: RunShape) {
        if !self.shapes.contains(&shape) {
            self.shapes.push(shape);
        }
        match self.words.iter().position(|w| w == word) {
            Some(i) if self.rules[i].contains(&rule) => {}
            Some(i) => self.rules[i].push(rule),
            None => {
                self.words.push(word.to_string());
                self.rules.push(vec![rule]);
            }
        }
    }

    /// `may_follow`: the bytes that may stand after a word where the
    /// group's words are searched.
    fn build(self, may_follow: impl Fn(u8) -> bool) -> WordGroup {
        WordGroup {
            heads: WordHeads::new(&self.words, may_follow),
            words: self.words,
            rules: self.rules,
        }
    }
}

impl WordGroup {
    /// Calls `found(rule, word_start)` for every word that stands wholly
    /// inside `haystack[from..to]`.
    ///
    /// Each place costs a probe of a set of hashed heads (see
    /// [`WordHeads`]), independent of the other places; only a hit compares
    /// words. An Aho-Corasick DFA walked over the same bytes cost a load a
    /// byte that waited on the one before, in a table of some 3,000 states
    /// that did not stay in the cache: the walk over a dozen bytes of a key
    /// was a ninth of a whole scan's time on generated data (perf).
    #[inline]
    fn search(
        &self,
        haystack: &[u8],
        from: usize,
        to: usize,
        found: &mut impl FnMut(usize, usize),
    ) {
        if to.saturating_sub(from) < MIN_WORD || to > haystack.len() {
            return;
        }
        let text = &haystack[from..to];
        self.heads.each_candidate(haystack, from, to, |at, head| {
            let words = self.heads.words(head);
            if !words.is_empty() {
                self.words_at(text, at, words, from, found);
            }
        });
    }

    /// Which of `words` (of one head) stand at `text[at..]`.
    #[cold]
    fn words_at(
        &self,
        text: &[u8],
        at: usize,
        words: &[usize],
        offset: usize,
        found: &mut impl FnMut(usize, usize),
    ) {
        for &word in words {
            let want = self.words[word].as_bytes();
            if text
                .get(at..at + want.len())
                .is_some_and(|there| there.eq_ignore_ascii_case(want))
            {
                for &rule in &self.rules[word] {
                    found(rule, offset + at);
                }
            }
        }
    }
}

impl ContextWords {
    /// Shortest run worth a look (`usize::MAX` when no rule has context).
    pub fn min_run(&self) -> usize {
        self.min_run
    }

    /// The groups of `wanted` some rule of which could have its secret
    /// start the run `start..end` (a bit each): the run long enough for the secret and
    /// not much longer, its first bytes of the kinds the secret is made of
    /// (a 32-character hex key cannot start a run of base64 with capitals
    /// in it), the byte before it one the pattern allows there. Most
    /// random-looking runs (hashes of other lengths, base64 blobs) fit
    /// none.
    #[inline]
    fn groups_fitting(&self, haystack: &[u8], start: usize, end: usize, wanted: u8) -> u8 {
        let run = &haystack[start..end];
        let (Some(shapes), Some(&first)) = (self.by_length.get(run.len()), run.first()) else {
            return 0;
        };
        let first = BYTE_KINDS[usize::from(first)];
        // At the buffer's start, or after a byte above ASCII (whose bit
        // the shapes do not keep): whatever the pattern allows.
        let before = match start.checked_sub(1).map(|at| haystack[at]) {
            Some(byte) if byte < 128 => 1u128 << byte,
            _ => 0,
        };
        let mut groups = 0;
        for fit in shapes {
            if fit.groups & wanted & !groups == 0 {
                continue;
            }
            if self.at_start(fit, first, before, haystack, start) || holds_inside(fit, run) {
                groups |= fit.groups;
                if groups == wanted {
                    break;
                }
            }
        }
        groups
    }

    /// Whether the run at `start` can start with a secret of `fit`'s
    /// shape: its first byte (of kinds `first`), the byte before it
    /// (`before`, 0 at the buffer's start: anything), the kinds of its
    /// first `fit.min` bytes, and, for a run longer than the secret's
    /// longest, a byte where the secret may end that its pattern lets
    /// follow it (a 40-digit hash is no 32-digit key).
    #[inline]
    fn at_start(&self, fit: &Fit, first: u16, before: u128, haystack: &[u8], start: usize) -> bool {
        first & fit.first != 0
            && (before == 0 || before & fit.before != 0)
            && self.of_kinds(fit, haystack, start)
            && match fit.goes_on {
                None => true,
                Some((longest, after)) => haystack[start + fit.min..=start + longest]
                    .iter()
                    .any(|&b| BYTE_KINDS[usize::from(b)] & after != 0),
            }
    }

    /// Whether the first `fit.min` bytes of the run at `start` are all of
    /// `fit.kinds`.
    #[inline]
    fn of_kinds(&self, fit: &Fit, haystack: &[u8], start: usize) -> bool {
        let end = start + fit.min;
        #[cfg(target_arch = "x86_64")]
        if let (true, Some(bytes)) = (self.vector, &fit.bytes) {
            // SAFETY: AVX2 is available, checked when the words were built.
            return unsafe { bytes.holds_all(haystack, start, end) };
        }
        haystack[start..end]
            .iter()
            .all(|&b| BYTE_KINDS[usize::from(b)] & !fit.kinds == 0)
    }

    /// Calls `found(rule, word_start)` for each context word before the
    /// run `start..end` that could name it: in the key it is assigned to,
    /// or in the window before it (see [`ContextWords`]).
    ///
    /// Only for a run that could be a context rule's secret: of a fitting
    /// length and shape for the rules of a group (see [`ContextWords::groups_fitting`]),
    /// and with a digit, or with upper- and lower-case letters alternating
    /// as often as in random text. Identifiers, words and paths mostly fail
    /// this, and they are most of the runs in code.
    #[inline]
    pub fn lookup(
        &self,
        haystack: &[u8],
        start: usize,
        end: usize,
        memo: &mut NameMemo,
        mut found: impl FnMut(usize, usize),
    ) {
        let len = end - start;
        if len < self.min_run || len > self.max_run {
            return;
        }
        // The key's name first, where only key rules could fit: a run
        // under no name (`"id": …`), or under one searched in vain just
        // before, needs no test of its shape.
        let possible = self.groups_by_length[len];
        let name = match possible & IN_KEY {
            0 => None,
            _ => self
                .key_name(haystack, start)
                .filter(|&name| !memo.wordless(haystack, name)),
        };
        let mut groups = possible;
        if name.is_none() {
            groups &= !IN_KEY;
        }
        if groups == 0 {
            return;
        }
        // The shapes, then the case count: a byte-table pass that rejects
        // paths and words (a `/` or a `g` fits no hex key) first.
        let groups = self.groups_fitting(haystack, start, end, groups);
        if groups == 0 || !looks_random_at(haystack, start, end) {
            return;
        }
        if let (Some(name), true) = (name, groups & IN_KEY != 0) {
            self.words_in_name(haystack, name, memo, &mut found);
        }
        if groups & IN_WINDOW != 0 {
            self.words_in_window(haystack, start, &mut found);
        }
    }

    /// The words of the key before `run_start` (see [`ContextWords::key_name`]).
    #[cfg(test)]
    fn words_in_key(
        &self,
        haystack: &[u8],
        run_start: usize,
        memo: &mut NameMemo,
        found: &mut impl FnMut(usize, usize),
    ) {
        if let Some(name) = self.key_name(haystack, run_start) {
            if !memo.wordless(haystack, name) {
                self.words_in_name(haystack, name, memo, found);
            }
        }
    }

    /// The name of the key before `run_start`, if one long enough to hold
    /// a word: back from the run over the bytes that cannot be in a name
    /// (`": "`, ` = '`), then over the name itself, all within
    /// [`CONTEXT_REACH`] and on the run's line.
    #[inline]
    fn key_name(&self, haystack: &[u8], run_start: usize) -> Option<(usize, usize)> {
        let floor = run_start.saturating_sub(CONTEXT_REACH);
        let mut at = run_start;
        while at > floor && !NAME_BYTES[usize::from(haystack[at - 1])] {
            if haystack[at - 1] == b'\n' {
                return None;
            }
            at -= 1;
        }
        let name_end = at;
        let name_start = name_start(haystack, floor, name_end);
        (name_end - name_start >= MIN_WORD).then_some((name_start, name_end))
    }

    /// The words in a key's name; a name without any is remembered (see
    /// [`NameMemo`]).
    fn words_in_name(
        &self,
        haystack: &[u8],
        (start, end): (usize, usize),
        memo: &mut NameMemo,
        found: &mut impl FnMut(usize, usize),
    ) {
        let mut any = false;
        self.in_key.search(haystack, start, end, &mut |rule, word| {
            any = true;
            found(rule, word);
        });
        if !any {
            memo.remember(haystack, (start, end));
        }
    }

    /// The words in the [`CONTEXT_REACH`] bytes before `run_start`, on the
    /// run's line.
    fn words_in_window(
        &self,
        haystack: &[u8],
        run_start: usize,
        found: &mut impl FnMut(usize, usize),
    ) {
        let from = run_start.saturating_sub(CONTEXT_REACH);
        let from = match memchr::memrchr(b'\n', &haystack[from..run_start]) {
            Some(newline) => from + newline + 1,
            None => from,
        };
        if from < run_start {
            self.in_window.search(haystack, from, run_start, found);
        }
    }
}

/// The last key name that held no context word, per thread: the next run
/// under the same name needs no search. A file's keys repeat (every entry
/// of a lock file has its `integrity`, every object of a JSON array its
/// `sha`); on generated data this skipped two fifths of the searches. (A
/// table of 256 such names, by a hash, skipped a quarter more, but its
/// lookups cost more time than the searches they saved: perf.)
#[derive(Debug, Default)]
pub struct NameMemo {
    /// The name's length and its bytes, the last one highest.
    wordless: Option<(usize, u128)>,
}

impl NameMemo {
    /// Whether the name `haystack[start..end]` was the last searched in
    /// vain.
    #[inline]
    fn wordless(&self, haystack: &[u8], (start, end): (usize, usize)) -> bool {
        self.wordless.is_some() && NameMemo::key(haystack, start, end) == self.wordless
    }

    fn remember(&mut self, haystack: &[u8], (start, end): (usize, usize)) {
        self.wordless = NameMemo::key(haystack, start, end);
    }

    /// The name `haystack[start..end]` as a key, when it is 1 to 16 bytes
    /// and 16 bytes end with it (read in place, the bytes before the name
    /// masked off).
    #[inline]
    fn key(haystack: &[u8], start: usize, end: usize) -> Option<(usize, u128)> {
        let len = end - start;
        let block: [u8; 16] = haystack.get(end.checked_sub(16)?..end)?.try_into().ok()?;
        // A table, not a shift: a shift of a u128 by a variable is a
        // branchy sequence, and this runs for nearly every named run.
        let kept = NAME_MASKS.get(len).filter(|_| len > 0)?;
        Some((len, u128::from_le_bytes(block) & kept))
    }
}

/// For a name of `len` bytes (1 to 16), the mask that keeps the top `len`
/// bytes of the 16 that end with it.
static NAME_MASKS: [u128; 17] = {
    let mut masks = [0; 17];
    let mut len = 1;
    while len <= 16 {
        masks[len] = !0u128 << (8 * (16 - len));
        len += 1;
    }
    masks
};

/// [`is_name_byte`] as a table: two loads a byte where the compares were
/// a fifth of reading a key.
static NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = is_name_byte(b as u8);
        b += 1;
    }
    table
};

/// Where the name that ends at `end` starts, no further back than `floor`.
///
/// Sixteen bytes at a time where they are there: names are a dozen bytes
/// or more (`serviceResponse_v`, `DATADOG_API_KEY`), and the byte loop was
/// a third of reading a key (callgrind).
#[inline]
fn name_start(haystack: &[u8], floor: usize, end: usize) -> usize {
    let mut at = end;
    #[cfg(target_arch = "x86_64")]
    while at >= floor + 16 {
        // Name bytes among the 16 before `at`, the last the highest bit.
        let names = name_mask(&haystack[at - 16..at]);
        // The name bytes at the top, before the first byte that is not.
        let tail = (!(u32::from(names) << 16)).leading_zeros() as usize;
        at -= tail;
        if tail < 16 {
            return at;
        }
    }
    while at > floor && NAME_BYTES[usize::from(haystack[at - 1])] {
        at -= 1;
    }
    at
}

/// The name bytes ([`is_name_byte`]) of 16 bytes, bit `i` for byte `i`:
/// letters, digits, `_`, `.` and `-`.
#[cfg(target_arch = "x86_64")]
#[inline]
fn name_mask(block: &[u8]) -> u16 {
    use std::arch::x86_64::*;
    debug_assert_eq!(block.len(), 16);
    // SAFETY: 16 bytes (the load is unaligned); SSE2 is part of every
    // x86_64. Signed compares: bytes of 0x80 and up are in no range.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        let within = crate::runs::bytes_within;
        let is = |b: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8));
        let letters = within(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', b'z');
        let names = _mm_or_si128(
            _mm_or_si128(letters, within(v, b'0', b'9')),
            _mm_or_si128(is(b'_'), _mm_or_si128(is(b'.'), is(b'-'))),
        );
        _mm_movemask_epi8(names) as u16
    }
}

/// Whether `run` can hold a secret of `fit`'s shape after a token byte
/// inside it (see [`RunShape::inside`]): a hash without a `/` holds no
/// `infura.io/v3/` key.
#[inline]
fn holds_inside(fit: &Fit, run: &[u8]) -> bool {
    fit.inside != 0
        && run[..run.len() - fit.min]
            .iter()
            .any(|&b| BYTE_KINDS[usize::from(b)] & fit.inside != 0)
}

/// Whether a run of token characters looks random: it has a digit, or its
/// letters change case as often as random text does. Identifiers, words and
/// paths mostly do not (see [`ContextWords::may_be_secret`]).
///
/// On the hot path for nearly every run of 16 bytes or more (most of them
/// identifiers with no digit, read to the end), so each byte is one load
/// from [`CASE_OF`] and a few branch-free operations: a change is counted
/// where two letters in a row (ignoring the symbols between) differ in
/// case. A loop that derived the case from [`BYTE_KINDS`] with compares
/// was a tenth of a whole scan of azure-pipelines-tasks.
// The engine calls `looks_random_at`; this is the token generator's.
#[cfg_attr(not(any(test, feature = "test-support")), allow(dead_code))]
pub(crate) fn looks_random(run: &[u8]) -> bool {
    looks_random_at(run, 0, run.len())
}

/// [`looks_random`] of `bytes[start..end]`, which may read (never count)
/// the bytes after `end`: most runs are inside a larger buffer.
#[inline]
fn looks_random_at(bytes: &[u8], start: usize, end: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        case_masks::looks_random(bytes, start, end)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        looks_random_bytewise(&bytes[start..end])
    }
}

/// [`looks_random`] a byte at a time: the portable version, and the
/// reference the vector one is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn looks_random_bytewise(run: &[u8]) -> bool {
    let mut changes = 0usize;
    let mut last = 0u8;
    for &b in run {
        let case = CASE_OF[usize::from(b)];
        if case == CASE_DIGIT {
            return true;
        }
        // 1 ^ 2: a lower-case letter after an upper-case one or the
        // reverse; a symbol (0) or the first letter never gives 3.
        changes += usize::from(case ^ last == CASE_LOWER ^ CASE_UPPER);
        last = if case == 0 { last } else { case };
    }
    changes * 4 >= run.len()
}

/// [`looks_random`] on bit masks, one bit a byte, 64 bytes at a time: the
/// byte loop carried the last letter's case from byte to byte (about 15
/// instructions a byte, a twelfth of a whole scan of real code, as most
/// runs are identifiers without a digit, read to their end). Here a run
/// is first searched for a digit, 16 bytes a compare; without one, the
/// letters and capitals of 16 bytes come from SSE2 compares, and the case
/// changes are counted with bit operations: between neighbouring letters
/// in one go, and one by one only where a symbol separates two letters.
#[cfg(target_arch = "x86_64")]
mod case_masks {
    use std::arch::x86_64::*;

    use crate::runs::{any_in_blocks, bytes_within as within};

    #[inline]
    fn bits(mask: __m128i) -> u64 {
        // SAFETY: SSE2 is part of every x86_64.
        u64::from(unsafe { _mm_movemask_epi8(mask) } as u16)
    }

    /// Whether `bytes[start..end]` holds a digit, 16 bytes at a time: most
    /// runs that get this far (hashes, UUIDs, keys) do in their first 16,
    /// and need no case count.
    #[inline]
    fn has_digit(bytes: &[u8], start: usize, end: usize) -> bool {
        let digits = |v: __m128i| bits(within(v, b'0', b'9')) as u32;
        any_in_blocks(bytes, start, end, digits, |b| b.is_ascii_digit())
    }

    /// Letters and capitals among `bytes[start..end]` (at most 64 bytes),
    /// one bit each, bit `i` for byte `start + i`.
    #[inline]
    fn masks(bytes: &[u8], start: usize, end: usize) -> (u64, u64) {
        debug_assert!(end - start <= 64);
        let mut padded = [b'+'; 64];
        // Read in place when 64 bytes are there, else from a copy padded
        // with `+`, a symbol, which the count skips. (A run is most often
        // in a larger buffer, and the copy was a fifth of the cost.)
        let block = match bytes.get(start..start + 64) {
            Some(block) => block,
            None => {
                padded[..end - start].copy_from_slice(&bytes[start..end]);
                &padded[..]
            }
        };
        let (mut letters, mut upper) = (0u64, 0u64);
        // Only the lanes the run reaches: most runs are 16 to 32 bytes.
        let lanes = (end - start).div_ceil(16);
        for (i, lane) in block.chunks_exact(16).take(lanes).enumerate() {
            // SAFETY: `lane` is 16 bytes; the load is unaligned.
            let v = unsafe { _mm_loadu_si128(lane.as_ptr().cast()) };
            let caps = within(v, b'A', b'Z');
            // SAFETY: SSE2 is part of every x86_64.
            letters |= bits(unsafe { _mm_or_si128(caps, within(v, b'a', b'z')) }) << (16 * i);
            upper |= bits(caps) << (16 * i);
        }
        // Bytes past `end` read in place are not the run's.
        let inside = u64::MAX >> (64 - (end - start));
        (letters & inside, upper & inside)
    }

    /// Whether `bytes[start..end]` looks random (see [`super::looks_random`]);
    /// the bytes after `end` may be read, never counted.
    pub(super) fn looks_random(bytes: &[u8], start: usize, end: usize) -> bool {
        if has_digit(bytes, start, end) {
            return true;
        }
        let mut changes = 0usize;
        // Whether the last letter of the chunks before was a capital.
        let mut last_upper: Option<bool> = None;
        let mut from = start;
        while from < end {
            let to = end.min(from + 64);
            let (letters, upper) = masks(bytes, from, to);
            from = to;
            // Letters right after a letter: a change where the case differs.
            let after_letter = letters & (letters << 1);
            changes += ((upper ^ (upper << 1)) & after_letter).count_ones() as usize;
            // Letters after a symbol (or first in the chunk): compared
            // with the last letter before them.
            let mut firsts = letters & !(letters << 1);
            while firsts != 0 {
                let at = firsts.trailing_zeros();
                firsts &= firsts - 1;
                let before = letters & ((1u64 << at) - 1);
                let previous = if before == 0 {
                    last_upper
                } else {
                    Some(upper >> (63 - before.leading_zeros()) & 1 == 1)
                };
                if let Some(previous) = previous {
                    changes += usize::from(previous != (upper >> at & 1 == 1));
                }
            }
            if letters != 0 {
                last_upper = Some(upper >> (63 - letters.leading_zeros()) & 1 == 1);
            }
        }
        changes * 4 >= end - start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What [`ContextWords::words_in_window`] must report, by brute force:
    /// every (rule, start) of a word that stands, in any case, in the
    /// [`CONTEXT_REACH`] bytes before `run_start` with no line break
    /// between it and the run.
    fn in_window_reference(
        words: &[(&str, usize)],
        haystack: &[u8],
        run_start: usize,
    ) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for at in run_start.saturating_sub(CONTEXT_REACH)..run_start {
            if haystack[at..run_start].contains(&b'\n') {
                continue;
            }
            for &(word, rule) in words {
                let end = at + word.len();
                if end <= run_start && haystack[at..end].eq_ignore_ascii_case(word.as_bytes()) {
                    out.push((rule, at));
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// What [`ContextWords::words_in_key`] must report: the words of the
    /// window reference that are part of the key before the run, i.e.
    /// followed by name bytes, then only bytes that are neither a name's
    /// nor a line break.
    fn in_key_reference(
        words: &[(&str, usize)],
        haystack: &[u8],
        run_start: usize,
    ) -> Vec<(usize, usize)> {
        let mut out = in_window_reference(words, haystack, run_start);
        out.retain(|&(rule, at)| {
            let (word, _) = words.iter().find(|(_, r)| *r == rule).unwrap();
            let rest = &haystack[at + word.len()..run_start];
            let name = rest.iter().take_while(|&&b| is_name_byte(b)).count();
            rest[name..].iter().all(|&b| !is_name_byte(b) && b != b'\n')
        });
        out
    }

    #[test]
    fn words_are_found_in_the_key_or_the_window_before_a_run_and_nowhere_else() {
        // Words sharing heads (`key`, `keyvault`), contained in one another
        // (`api_key`, `key`), with name bytes (`.`, `-`, `_`), and the bytes
        // around them: separators, line breaks, the window's edges.
        let key_words: &[(&str, usize)] = &[
            ("key", 0),
            ("keyvault", 1),
            ("api_key", 2),
            ("datadog", 3),
            ("dd.api", 4),
            ("x-api-key", 5),
        ];
        let window_words: &[(&str, usize)] = &[("sumo", 6), ("api", 7), ("dog", 8)];
        let mut builder = ContextBuilder::default();
        let shape = any_run();
        for (words, in_key) in [(key_words, true), (window_words, false)] {
            for &(word, rule) in words {
                builder.add(&[word.to_string()], rule, shape, in_key);
            }
        }
        let context = builder.build();
        let pool = b"keyKEYvaultapi_datadogDsumo.X-\n \t=:\"'";
        let mut rng = crate::tokengen::TokenRng::new(0x2545_F491_4F6C_DD1Du64);
        let mut next = move |n: usize| rng.below(n as u64) as usize;
        let (mut in_key, mut in_window) = (0, 0);
        for _ in 0..400 {
            let len = next(160);
            let mut haystack: Vec<u8> = (0..len).map(|_| pool[next(pool.len())]).collect();
            // Whole words too, in random case, so the long ones occur.
            for _ in 0..3 {
                let (word, _) = key_words[next(key_words.len())];
                let at = next(haystack.len() + 1);
                let word = word.bytes().map(|b| {
                    if next(2) == 0 {
                        b.to_ascii_uppercase()
                    } else {
                        b
                    }
                });
                haystack.splice(at..at, word);
            }
            let shown = String::from_utf8_lossy(&haystack).into_owned();
            // One memo for the whole text, as the engine keeps one: runs
            // under the same name meet the name searched in vain before.
            let mut memo = NameMemo::default();
            for run_start in 0..=haystack.len() {
                let mut got = Vec::new();
                context.words_in_key(&haystack, run_start, &mut memo, &mut |rule, at| {
                    got.push((rule, at))
                });
                got.sort_unstable();
                let expected = in_key_reference(key_words, &haystack, run_start);
                in_key += expected.len();
                assert_eq!(got, expected, "key before {run_start} of {shown:?}");

                let mut got = Vec::new();
                context.words_in_window(&haystack, run_start, &mut |rule, at| got.push((rule, at)));
                got.sort_unstable();
                let expected = in_window_reference(window_words, &haystack, run_start);
                in_window += expected.len();
                assert_eq!(got, expected, "window before {run_start} of {shown:?}");
            }
        }
        assert!(
            in_key > 1_000 && in_window > 1_000,
            "words were planted: {in_key}, {in_window}"
        );
    }

    #[test]
    fn a_remembered_name_is_that_name_only() {
        // Each name after 20 bytes of padding, so 16 bytes end with it.
        let at = |name: &str| {
            let text = format!("{}{name}", "=".repeat(20));
            let end = text.len();
            (text.into_bytes(), (end - name.len(), end))
        };
        for name in ["sha", "integrity", "exactly_16_bytes"] {
            let mut memo = NameMemo::default();
            let (text, span) = at(name);
            assert!(!memo.wordless(&text, span));
            memo.remember(&text, span);
            assert!(memo.wordless(&text, span), "{name}");
            // The same bytes with one more before, one changed, one less.
            let (longer, wider) = at(&format!("x{name}"));
            assert!(!memo.wordless(&longer, wider), "x{name}");
            let changed = format!("Q{}", &name[1..]);
            let (text, span) = at(&changed);
            assert!(!memo.wordless(&text, span), "{changed}");
            let (text, span) = at(&name[1..]);
            assert!(!memo.wordless(&text, span), "{}", &name[1..]);
        }
        // Longer than 16 bytes, or too close to the buffer's start: never.
        let mut memo = NameMemo::default();
        let (text, span) = at(&"k".repeat(17));
        memo.remember(&text, span);
        assert!(!memo.wordless(&text, span));
        memo.remember(b"shaa", (0, 3));
        assert!(!memo.wordless(b"shaa", (0, 3)));
    }

    #[test]
    fn a_name_starts_where_the_byte_loop_says_however_long_it_is() {
        let pool = b"aZ09_.-x =\"\n\xc3";
        let mut rng = crate::tokengen::TokenRng::new(0x2545_F491_4F6C_DD1Du64);
        let mut next = move |n: usize| rng.below(n as u64) as usize;
        let mut long = 0;
        for _ in 0..2_000 {
            // Mostly name bytes, so that names of 16 and more occur.
            let text: Vec<u8> = (0..next(100))
                .map(|_| {
                    pool[if next(8) == 0 {
                        next(pool.len())
                    } else {
                        next(7)
                    }]
                })
                .collect();
            for end in 0..=text.len() {
                for floor in [0, end / 2, end.saturating_sub(20)] {
                    let mut expected = end;
                    while expected > floor && is_name_byte(text[expected - 1]) {
                        expected -= 1;
                    }
                    long += usize::from(end - expected >= 16);
                    assert_eq!(
                        name_start(&text, floor, end),
                        expected,
                        "{text:?} {floor}..{end}"
                    );
                }
            }
        }
        assert!(long > 1_000, "long names were made: {long}");
    }

    #[test]
    fn sixteen_bytes_at_a_time_a_run_is_of_the_kinds_the_byte_table_says() {
        let alphabet: Vec<u8> = (0..=255u8)
            .filter(|&b| BYTE_KINDS[usize::from(b)] != 0)
            .collect();
        let mut rng = crate::tokengen::TokenRng::new(0x2545_F491_4F6C_DD1Du64);
        let mut next = move |n: usize| rng.below(n as u64) as usize;
        let (mut held, mut not) = (0, 0);
        for _ in 0..3_000 {
            let kinds = next(1 << 9) as u16;
            let bytes = KindBytes::of(kinds).expect("every set of kinds fits the tables");
            // Mostly bytes of the kinds, so that long runs of them occur.
            let of_kinds: Vec<u8> = (alphabet.iter().copied())
                .filter(|&b| BYTE_KINDS[usize::from(b)] & kinds != 0)
                .collect();
            let run: Vec<u8> = (0..next(70))
                .map(|_| match (next(40), of_kinds.is_empty()) {
                    (0, _) | (_, true) => alphabet[next(alphabet.len())],
                    _ => of_kinds[next(of_kinds.len())],
                })
                .collect();
            for start in 0..run.len() {
                for end in start..=run.len() {
                    let expected =
                        (run[start..end].iter()).all(|&b| BYTE_KINDS[usize::from(b)] & !kinds == 0);
                    assert_eq!((start..end).all(|at| bytes.holds(run[at])), expected);
                    #[cfg(target_arch = "x86_64")]
                    if super::super::word_heads::avx2_available() {
                        // SAFETY: AVX2 is available, checked just above.
                        let vector = unsafe { bytes.holds_all(&run, start, end) };
                        assert_eq!(vector, expected, "{kinds:#x} {:?}", &run[start..end]);
                    }
                    if expected {
                        held += 1
                    } else {
                        not += 1
                    }
                }
            }
        }
        assert!(held > 10_000 && not > 10_000, "{held} {not}");
    }

    /// A shape any run of 16 to 72 characters fits.
    fn any_run() -> RunShape {
        RunShape {
            min: MIN_CONTEXT_RUN,
            max: 40,
            kinds: u16::MAX,
            after: u16::MAX,
            first: u16::MAX,
            before: u128::MAX,
            inside: 0,
        }
    }

    fn facts_of(pattern: &str) -> super::super::facts::PatternFacts {
        super::super::facts::analyse(pattern, &[] as &[&str]).unwrap()
    }

    #[test]
    fn patterns_that_name_their_secret_in_a_key_are_told_apart() {
        for named in [
            r#"(?i:datadog|dd)[\w.-]{0,24}?(?i:api)[\w.-]{0,12}["']?\s{0,3}(?:[:=]|:=|=>|,)\s{0,3}[`'"]?(?P<secret>[a-f0-9]{32})(?:[^A-Za-z0-9_]|$)"#,
            // After a one-byte boundary, which a word cannot stand in.
            r#"(?:^|[^A-Za-z0-9])(?i:box)[\w.-]{0,24}?["']?\s{0,3}[:=]\s{0,3}(?P<secret>[A-Za-z0-9]{32})"#,
            // Every branch a name and a gap, a literal split between them.
            r#"(?:(?i:hubspot)[\w.-]{0,24}?\s{0,3}[:=]\s{0,3}|hapikey=)(?P<secret>[a-f0-9]{32})"#,
        ] {
            assert!(facts_of(named).named_in_key, "{named}");
        }
        for not_named in [
            // The word may stand anywhere on the line before the key.
            r#"(?i:mailgun)[^\r\n]{0,48}?(?:^|[^A-Za-z0-9_-])(?P<secret>key-[a-f0-9]{32})"#,
            r#"cloudinary://[0-9]{12,20}:(?P<secret>[A-Za-z0-9_-]{27})@"#,
            // No byte between the name and the secret.
            r#"(?i:acme)[\w.-]{0,12}(?P<secret>[a-f0-9]{32})"#,
            // Spaces inside the name.
            r#"(?i:ngrok)[\w .-]{0,32}?[:=]\s{0,3}(?P<secret>[a-f0-9]{32})"#,
        ] {
            assert!(!facts_of(not_named).named_in_key, "{not_named}");
        }
    }

    #[test]
    fn a_hash_longer_than_a_keys_run_fits_only_where_the_pattern_lets_the_run_go_on() {
        let hex = |n: usize| {
            "0123456789abcdef"
                .chars()
                .cycle()
                .take(n)
                .collect::<String>()
        };
        let group = |pattern: &str| {
            let mut builder = ContextBuilder::default();
            builder.add(&["acme".to_string()], 0, facts_of(pattern).shape, true);
            let context = builder.build();
            // A run after ` = "`, as the pattern allows.
            move |run: &[u8]| {
                let text = [b" = \"".as_slice(), run].concat();
                context.groups_fitting(&text, 4, text.len(), IN_KEY | IN_WINDOW) == IN_KEY
            }
        };
        // After the key only a byte outside `[A-Za-z0-9_-]`: of the run's
        // bytes, `+` and `/`.
        let bounded =
            group(r#"(?i:acme)\s{0,3}=\s{0,3}["']?(?P<secret>[a-f0-9]{32})(?:[^A-Za-z0-9_-]|$)"#);
        assert!(bounded(hex(32).as_bytes()));
        assert!(!bounded(hex(40).as_bytes()), "a 40-digit hash");
        assert!(
            bounded(format!("{}/x1", hex(32)).as_bytes()),
            "the key, then a path"
        );
        assert!(!bounded(format!("{}-x1", hex(32)).as_bytes()));
        // Without a boundary the key may start any longer run.
        let open = group(r#"(?i:acme)\s{0,3}=\s{0,3}["']?(?P<secret>[a-f0-9]{32})"#);
        assert!(open(hex(40).as_bytes()));
        // A secret whose run ends at a byte outside the alphabet: a longer
        // run is never it.
        let dotted = group(r#"(?i:acme)\s{0,3}=\s{0,3}["']?(?P<secret>[a-f0-9]{32}\.[a-z]{4})"#);
        assert!(dotted(hex(32).as_bytes()));
        assert!(!dotted(hex(33).as_bytes()));
        // A secret that starts with letters of its own: a UUID starts with
        // a digit or `a`-`f`, never `k`.
        let prefixed = group(
            r#"(?i:acme)\s{0,3}=\s{0,3}["']?(?P<secret>key-[a-f0-9]{32})(?:[^A-Za-z0-9_-]|$)"#,
        );
        assert!(prefixed(format!("key-{}", hex(32)).as_bytes()));
        assert!(!prefixed(b"8a6a15e9-487d-4530-8ab3-48f804653d23"));
        assert!(!prefixed(b"ea6a15e9-487d-4530-8ab3-48f804653d23"));
        // A secret after `s.`: the byte before the run must be that `.`.
        let mut builder = ContextBuilder::default();
        let vault = facts_of(r#"(?i:vault)\s{0,3}=\s{0,3}["']?s\.(?P<secret>[A-Za-z0-9]{24})"#);
        builder.add(&["vault".to_string()], 0, vault.shape, vault.named_in_key);
        let context = builder.build();
        let after = |before: &[u8]| {
            let text = [before, b"a1b2c3d4e5f6g7h8i9j0k1l2"].concat();
            context.groups_fitting(&text, before.len(), text.len(), IN_KEY | IN_WINDOW)
        };
        assert_eq!(after(b"vault = s."), IN_WINDOW);
        assert_eq!(after(b"vault = \""), 0);
        // After a token byte the secret need not start the run (`io/v3/` +
        // key is one run): its shape says nothing of the run's first bytes.
        let mut builder = ContextBuilder::default();
        let url = facts_of(r"\.infura\.io/v3/(?P<secret>[a-f0-9]{32})(?:[^A-Za-z0-9_-]|$)");
        builder.add(&["infura".to_string()], 0, url.shape, url.named_in_key);
        let context = builder.build();
        let text = format!("https://mainnet.infura.io/v3/{}", hex(32));
        let run = text.len() - "io/v3/".len() - 32;
        assert_eq!(
            context.groups_fitting(text.as_bytes(), run, text.len(), IN_KEY | IN_WINDOW),
            IN_WINDOW
        );
        // But a run without the `/` the key stands after holds none.
        let text = format!("id: {}", hex(40));
        assert_eq!(
            context.groups_fitting(text.as_bytes(), 4, text.len(), IN_KEY | IN_WINDOW),
            0
        );
    }

    /// A key rule's word with a byte no name holds is looked for in the
    /// window instead, where it can stand.
    #[test]
    fn a_word_that_cannot_be_in_a_name_is_looked_for_in_the_window() {
        let shape = any_run();
        let mut builder = ContextBuilder::default();
        builder.add(&["cloudinary://".to_string()], 0, shape, true);
        let context = builder.build();
        let text = b"url = cloudinary://12345:";
        let mut got = Vec::new();
        context.words_in_window(text, text.len(), &mut |rule, at| got.push((rule, at)));
        assert_eq!(got, vec![(0, 6)]);
    }

    /// [`looks_random`] as first written, a byte at a time with the
    /// branches spelt out: the table-driven one must agree on every run.
    fn looks_random_reference(run: &[u8]) -> bool {
        let mut changes = 0;
        let mut last_upper: Option<bool> = None;
        for &b in run {
            if b.is_ascii_digit() {
                return true;
            }
            if b.is_ascii_alphabetic() {
                let upper = b.is_ascii_uppercase();
                if last_upper.is_some_and(|last| last != upper) {
                    changes += 1;
                }
                last_upper = Some(upper);
            }
        }
        changes * 4 >= run.len()
    }

    #[test]
    fn looks_random_agrees_with_its_reference_on_every_kind_of_run() {
        let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/-_";
        let letters_and_symbols = b"aZbY+/-_cXdW";
        let mut rng = crate::tokengen::TokenRng::new(0x9E37_79B9_7F4A_7C15u64);
        let mut next = move |n: usize| rng.below(n as u64) as usize;
        let mut disagreements = Vec::new();
        let mut random_ones = 0;
        for round in 0..20_000 {
            // Past 64 bytes too: the vector version works in blocks of 64.
            let len = 1 + next(200);
            // Half the runs have no digit, so the case count decides.
            let pool: &[u8] = if round % 2 == 0 {
                alphabet
            } else {
                letters_and_symbols
            };
            let run: Vec<u8> = (0..len).map(|_| pool[next(pool.len())]).collect();
            let expected = looks_random_reference(&run);
            random_ones += usize::from(expected);
            // In place too, with bytes after the run that must not count.
            let mut in_buffer = run.clone();
            in_buffer.extend_from_slice(&alphabet[..(round % 70).min(alphabet.len())]);
            if super::looks_random(&run) != expected
                || super::looks_random_bytewise(&run) != expected
                || super::looks_random_at(&in_buffer, 0, run.len()) != expected
            {
                disagreements.push(String::from_utf8_lossy(&run).into_owned());
            }
        }
        for word in [
            "getElementById",
            "snake_case_name",
            "src/detect/rules",
            "aBcDeFgHiJkLmNoP",
        ] {
            if super::looks_random(word.as_bytes()) != looks_random_reference(word.as_bytes()) {
                disagreements.push(word.to_string());
            }
        }
        assert!(disagreements.is_empty(), "{disagreements:?}");
        assert!(
            (1_000..19_000).contains(&random_ones),
            "both verdicts occur: {random_ones}"
        );
    }
}
