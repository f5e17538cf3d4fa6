//! Turns rule specs into one matcher: a single Aho-Corasick automaton over
//! every rule's keywords, plus each rule's confirming regex.

use std::borrow::Cow;
use std::collections::HashSet;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex_automata::{meta, util::syntax};

use super::context_words::{ContextBuilder, ContextWords, MIN_CONTEXT_RUN};
use super::facts::{self, PatternFacts, RunAfter, RunShape};
use super::literals::{shared_literals, teddy_order, FINGERPRINT};
use super::spec::{Anchor, BareScan, ChecksumKind, ChecksumSpec, RuleSpec};
use super::validate::MAX_SEEDS;
use super::word_heads::MIN_WORD;
use crate::error::RuleError;

/// Longest token a rule may describe. Chunked reads of large files keep this
/// much overlap, so it bounds memory per thread as well as regex work.
pub const MAX_TOKEN_LENGTH: usize = 2048;
/// Longest pattern text accepted, and the compiled-size cap: a rule (a custom
/// one especially) must not be able to make the scan slow or huge.
const MAX_PATTERN_LENGTH: usize = 4096;
const MAX_COMPILED_REGEX_BYTES: usize = 4 << 20;

pub struct CompiledRule {
    pub spec: RuleSpec,
    /// Built on first use: most rules never see a keyword hit in a scan,
    /// and building every regex up front cost more than a small scan itself
    /// (a pre-commit hook pays it on every commit). Custom rules are built
    /// when loaded, so their errors surface there; built-in ones are built by
    /// the test suite.
    regex: std::sync::OnceLock<(meta::Regex, Option<usize>)>,
}

impl CompiledRule {
    fn new(spec: RuleSpec) -> Result<CompiledRule, RuleError> {
        let rule = CompiledRule {
            spec,
            regex: std::sync::OnceLock::new(),
        };
        if rule.spec.custom {
            let built = build(&rule.spec)?;
            let _ = rule.regex.set(built);
        }
        Ok(rule)
    }

    /// Builds the regex now, reporting why it cannot be (the test suite
    /// runs this over every built-in rule).
    pub fn build_now(&self) -> Result<(), RuleError> {
        if self.regex.get().is_none() {
            let built = build(&self.spec)?;
            let _ = self.regex.set(built);
        }
        Ok(())
    }

    /// The confirming regex.
    pub fn regex(&self) -> &meta::Regex {
        &self.built().0
    }

    /// Index of the `secret` capture group, if the pattern names one.
    pub fn secret_group(&self) -> Option<usize> {
        self.built().1
    }

    fn built(&self) -> &(meta::Regex, Option<usize>) {
        self.regex.get_or_init(|| match build(&self.spec) {
            Ok(built) => built,
            // A built-in pattern that parses but does not build (over the
            // size limit) is a packaging bug the test suite catches; never
            // matching is the safe reading of it.
            Err(_) => (
                meta::Regex::new_many::<&str>(&[]).expect("the empty regex set builds"),
                None,
            ),
        })
    }
}

fn build(spec: &RuleSpec) -> Result<(meta::Regex, Option<usize>), RuleError> {
    let regex = compile_pattern(spec)?;
    let group = regex
        .group_info()
        .to_index(regex_automata::PatternID::ZERO, "secret");
    Ok((regex, group))
}

pub struct RuleSet {
    rules: Vec<CompiledRule>,
    /// How each rule's candidates are found, for `patscan rules --prefilter`.
    prefilters: Vec<Prefilter>,
    keywords: Option<KeywordSearcher>,
    /// The automaton's literals, for `patscan rules` and the tests.
    keyword_texts: Vec<String>,
    /// For each keyword pattern of the automaton, the rules that use it.
    keyword_rules: Vec<Vec<usize>>,
    /// Keywords that only ever start a token, looked up at the start of
    /// token-alphabet runs instead of by the automaton (see [`RunPrefixes`]).
    prefixes: RunPrefixes,
    preceded: RunPreceded,
    anchors: RunAnchors,
    context: ContextWords,
    bare_rules: Vec<(usize, BareScan)>,
    max_token_length: usize,
    min_encoded_run: usize,
}

/// How a rule's candidates reach its regex. Only [`Prefilter::Automaton`]
/// costs the keyword pass anything per byte; the others are looked up on
/// the runs of token characters the engine collects anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefilter {
    /// Its keywords are literals of the SIMD keyword pass.
    Automaton,
    /// Its keywords start every token: looked up where a run starts.
    RunPrefix,
    /// Its keywords end in a separator a long run follows (`hvs.`,
    /// `sha256~`): looked up before a run starts.
    Preceded,
    /// Looked up before a run where a long run follows its keyword
    /// (`dp.pt.`), and searched by the keyword pass where none does
    /// (`dp.st.` before a config name): those keywords, one bit each.
    PrecededAndAutomaton { searched: u64 },
    /// Its keywords stand at a fixed place in a run.
    Anchor,
    /// Its context words, looked up before random-looking runs.
    Context,
    /// A prefix-less format scanned for inside long runs.
    Bare,
}

impl Prefilter {
    pub fn as_str(self) -> &'static str {
        match self {
            Prefilter::Automaton => "automaton",
            Prefilter::RunPrefix => "run-prefix",
            Prefilter::Preceded => "preceded",
            Prefilter::PrecededAndAutomaton { .. } => "preceded+automaton",
            Prefilter::Anchor => "anchor",
            Prefilter::Context => "context",
            Prefilter::Bare => "bare",
        }
    }
}

/// Shortest base64 run the scan collects, whatever the rules: below 16
/// encoded characters (12 bytes of token) a run is any identifier or word
/// (`getElementById`, a short hash, a CSS class), and decoding each one on
/// every line would cost more than the keyword pass; no issuer's token is
/// that short. A custom rule with a shorter secret is still found in plain
/// text, only not inside base64.
pub const MIN_ENCODED_RUN_FLOOR: usize = 16;

/// Secrets shorter than this (a GitLab PAT's 26 bytes) are looked for in
/// plain text only, not inside base64: with the 16- to 24-character keys of
/// the long tail (an Alibaba key id, context-named API keys) the decoder
/// would take every base64 run of 22 characters, most identifiers and paths
/// among them, for tokens that are rarely base64-wrapped.
pub const MIN_DECODED_SECRET: usize = 26;

/// Length of `n` bytes in base64 without padding (`=` is not part of a
/// collected run): ceil(4n/3).
pub const fn base64_len(n: usize) -> usize {
    (4 * n).div_ceil(3)
}

/// The keyword pass: Teddy (the packed SIMD searcher) while the literals
/// are few enough for it, else a DFA with whatever prefilter it picks. For a
/// handful of literals Aho-Corasick's own choice is a rare-byte prefilter,
/// measured at 5.4 GB/s where Teddy gives 12.3 GB/s on the same source text.
///
/// Teddy fingerprints each literal by its first bytes, as many as the
/// shortest literal has, up to 4: one 3-byte literal (`8Q~`, `:AA`) made it
/// fingerprint three bytes of every literal, and ordinary text matched far
/// more fingerprints. So literals shorter than 4 bytes are found apart (see
/// [`ShortKeywords`]): measured on azure-pipelines-tasks, the pass over its
/// 75 MB went from 223 to 173 million instructions.
///
/// Teddy's speed falls with its literal count: more than 32 take the fat
/// Teddy (16 bytes a step instead of 32), and fewer literals share its 8
/// buckets with fewer false fingerprint hits. So keywords that share 4
/// bytes or more are searched as one literal, their common part (see
/// [`shared_literals`]: `assword` for `Password=`, `password=` and
/// `ClearTextPassword`), and each hit is checked against the keywords it
/// stands for: a keyword is reported exactly where it occurs, as before.
/// Each literal starts at its rarest four bytes, and the literals go to
/// Teddy in the order whose buckets match least ordinary text (see
/// [`super::literals`]): on generated data the keyword pass took a fifth
/// fewer instructions, and the whole scan a tenth fewer mispredicted
/// branches.
pub struct KeywordSearcher {
    long: Option<LongSearcher>,
    /// The literals of `long`, for `patscan rules --prefilter`.
    literals: Vec<String>,
    /// For each literal of `long`, the keywords it stands for.
    members: Vec<Vec<Member>>,
    short: ShortKeywords,
}

/// A keyword a literal of the SIMD pass stands for.
struct Member {
    /// Where the literal is in the keyword.
    offset: usize,
    /// The keyword's length, and its bytes when they are more than the
    /// literal (to check).
    len: usize,
    check: Option<Vec<u8>>,
    /// Its index among the keyword pass's keywords.
    index: usize,
}

enum LongSearcher {
    Packed(aho_corasick::packed::Searcher),
    Automaton(AhoCorasick),
}

/// Keywords shorter than Teddy's fingerprint, found by a `memchr3` pass
/// over their rarest bytes (`~` of `8Q~`, `!` of `!AQ`, `:` of `:AA`): each
/// such byte found is checked against the keywords that hold it there.
#[derive(Default)]
struct ShortKeywords {
    /// At most three bytes, one `memchr3` pass.
    needles: Vec<u8>,
    /// For each needle: (keyword, where the needle is in it, keyword index).
    at_needle: Vec<Vec<(Vec<u8>, usize, usize)>>,
}

/// How common a byte is in source text, roughly: 0 for the rare
/// punctuation, 1 for the common, 2 for digits and capitals, 3 for the
/// rest. The short keywords are searched by their least common byte.
fn commonness(b: u8) -> u8 {
    match b {
        b'a'..=b'z' | b' ' | b'\t' | b'\n' | b'\r' => 3,
        b'A'..=b'Z' | b'0'..=b'9' => 2,
        b':' | b';' | b',' | b'.' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b'\''
        | b'=' | b'/' | b'_' | b'-' | b'<' | b'>' | b'+' | b'*' | b'#' | b'$' | b'&' => 1,
        _ => 0,
    }
}

impl KeywordSearcher {
    /// Whether the packed SIMD searcher took every literal it was given.
    pub fn is_packed(&self) -> bool {
        !matches!(self.long, Some(LongSearcher::Automaton(_)))
    }

    /// How many literals the SIMD pass fingerprints (the short keywords are
    /// found apart; keywords that share a literal count once).
    pub fn packed_len(&self) -> usize {
        self.literals.len()
    }

    /// The literals the SIMD pass fingerprints.
    pub fn packed_literals(&self) -> &[String] {
        &self.literals
    }

    fn new(keywords: &[String]) -> Result<KeywordSearcher, RuleError> {
        let mut short = ShortKeywords::default();
        let mut long_ids = Vec::new();
        for (index, keyword) in keywords.iter().enumerate() {
            let bytes = keyword.as_bytes();
            if bytes.len() < FINGERPRINT {
                // The first of the least common bytes.
                if let Some(at) = (0..bytes.len()).min_by_key(|&i| commonness(bytes[i])) {
                    let needle = bytes[at];
                    let slot = match short.needles.iter().position(|&n| n == needle) {
                        Some(slot) => Some(slot),
                        None if short.needles.len() < 3 => {
                            short.needles.push(needle);
                            short.at_needle.push(Vec::new());
                            Some(short.needles.len() - 1)
                        }
                        None => None,
                    };
                    if let Some(slot) = slot {
                        short.at_needle[slot].push((bytes.to_vec(), at, index));
                        continue;
                    }
                }
            }
            long_ids.push(index);
        }
        let long_keywords: Vec<&[u8]> = long_ids.iter().map(|&i| keywords[i].as_bytes()).collect();
        let mut literals = Vec::new();
        let mut texts = Vec::new();
        let mut members = Vec::new();
        let shared = shared_literals(&long_keywords);
        let parts: Vec<Vec<u8>> = shared.iter().map(|(literal, _)| literal.clone()).collect();
        for (literal, of) in teddy_order(&parts).into_iter().map(|i| &shared[i]) {
            members.push(
                of.iter()
                    .map(|&(offset, k)| {
                        let keyword = long_keywords[k];
                        Member {
                            offset,
                            len: keyword.len(),
                            check: (keyword.len() > literal.len()).then(|| keyword.to_vec()),
                            index: long_ids[k],
                        }
                    })
                    .collect(),
            );
            // Shown as text; a part of a non-ASCII keyword may cut a
            // character, so lossily (the search takes the bytes).
            texts.push(String::from_utf8_lossy(literal).into_owned());
            literals.push(literal.clone());
        }
        let long = if literals.is_empty() {
            None
        } else {
            let mut packed = aho_corasick::packed::Config::new()
                .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
                .builder();
            packed.extend(&literals);
            match packed.build() {
                Some(searcher) => Some(LongSearcher::Packed(searcher)),
                None => Some(LongSearcher::Automaton(
                    AhoCorasick::builder()
                        .match_kind(MatchKind::LeftmostFirst)
                        .kind(Some(AhoCorasickKind::DFA))
                        .build(&literals)
                        .map_err(|e| RuleError::Invalid {
                            rule: "(keywords)".into(),
                            message: e.to_string(),
                        })?,
                )),
            }
        };
        Ok(KeywordSearcher {
            long,
            literals: texts,
            members,
            short,
        })
    }

    /// The leftmost literal at or after `at`: (start, literal index).
    #[inline]
    fn find_literal(&self, haystack: &[u8], at: usize) -> Option<(usize, usize)> {
        match self.long.as_ref()? {
            LongSearcher::Packed(searcher) => searcher
                .find_in(haystack, aho_corasick::Span::from(at..haystack.len()))
                .map(|m| (m.start(), m.pattern().as_usize())),
            LongSearcher::Automaton(automaton) => automaton
                .find(aho_corasick::Input::new(haystack).range(at..))
                .map(|m| (m.start(), m.pattern().as_usize())),
        }
    }

    /// Calls `found(start, end, keyword index)` for every occurrence of
    /// every keyword in `haystack`, overlapping ones too, in no set order.
    #[inline]
    pub fn each_hit(&self, haystack: &[u8], mut found: impl FnMut(usize, usize, usize)) {
        // Leftmost-first search lets Teddy run; restarting one byte after
        // each hit's start (not at its end) still finds literals that
        // overlap one another (no literal is a prefix of another, so none
        // hides another that starts at the same byte).
        let mut at = 0;
        while at < haystack.len() {
            let Some((hit, literal)) = self.find_literal(haystack, at) else {
                break;
            };
            at = hit + 1;
            for member in &self.members[literal] {
                let Some(start) = hit.checked_sub(member.offset) else {
                    continue;
                };
                let end = start + member.len;
                let stands = match &member.check {
                    None => true,
                    Some(keyword) => haystack.get(start..end) == Some(keyword.as_slice()),
                };
                if stands {
                    found(start, end, member.index);
                }
            }
        }
        self.short_hits(haystack, found);
    }

    /// Calls `found(start, end, keyword index)` for every occurrence of a
    /// short keyword in `haystack`.
    #[inline]
    pub fn short_hits(&self, haystack: &[u8], mut found: impl FnMut(usize, usize, usize)) {
        let needles = &self.short.needles;
        let mut check = |slot: usize, at: usize| {
            for (keyword, offset, index) in &self.short.at_needle[slot] {
                let Some(start) = at.checked_sub(*offset) else {
                    continue;
                };
                let end = start + keyword.len();
                if haystack.get(start..end) == Some(keyword.as_slice()) {
                    found(start, end, *index);
                }
            }
        };
        let slot_of = |byte: u8| needles.iter().position(|&n| n == byte).unwrap_or(0);
        match needles[..] {
            [] => {}
            [one] => memchr::memchr_iter(one, haystack).for_each(|at| check(0, at)),
            [one, two] => memchr::memchr2_iter(one, two, haystack)
                .for_each(|at| check(slot_of(haystack[at]), at)),
            [one, two, three, ..] => memchr::memchr3_iter(one, two, three, haystack)
                .for_each(|at| check(slot_of(haystack[at]), at)),
        }
    }
}

/// Token prefixes found without the automaton.
///
/// The keyword pass is an Aho-Corasick search whose speed comes from its
/// SIMD prefilter (Teddy), and that prefilter holds at most a few dozen
/// literals before it saturates: measured on generated source, 24 keywords
/// search at 9 GB/s, 145 at 0.5 GB/s. Most formats, though, are a fixed
/// prefix followed by a long run of token characters (`glptt-` + 40 hex), and
/// such a token always starts a maximal run of base64-alphabet bytes, which
/// the engine collects anyway (for the decoders and the bare formats) in one
/// cheap checkpointed pass. So a keyword that begins every token of its rule,
/// and is made of token characters itself, is looked up only where a run
/// starts: one table probe per run instead of one more literal for the
/// automaton. The automaton keeps the keywords that can stand inside a run
/// (`JQQJ99`, Azure key signatures, `T3BlbkFJ`) or hold other characters
/// (`dp.pt.`, `8Q~`).
pub struct RunPrefixes {
    /// One bit per two-byte head that some prefix starts with: 8 KiB, so the
    /// probe every run start costs stays in L1 and almost always ends here.
    head_bits: Box<[u64; 1024]>,
    /// For each two-byte head, 1 + its index in `by_head`, or 0 when no
    /// prefix starts with it.
    heads: Box<[u16]>,
    /// The prefixes sharing a head.
    by_head: Vec<Vec<RunPrefix>>,
    /// The shortest token of any rule found this way: shorter runs cannot
    /// hold one.
    min_run: usize,
}

impl Default for RunPrefixes {
    fn default() -> Self {
        RunPrefixes {
            head_bits: Box::new([0; 1024]),
            heads: vec![0; 1 << 16].into_boxed_slice(),
            by_head: Vec::new(),
            min_run: 0,
        }
    }
}

impl RunPrefixes {
    /// Shortest run worth a lookup (`usize::MAX` when there are no prefixes).
    pub fn min_run(&self) -> usize {
        if self.by_head.is_empty() {
            usize::MAX
        } else {
            self.min_run
        }
    }

    /// Calls `found(rule, prefix_len)` for every prefix that `text` starts with.
    #[inline]
    pub fn lookup(&self, text: &[u8], mut found: impl FnMut(usize, usize)) {
        let Some(head) = text.get(..2) else {
            return;
        };
        let index = usize::from(head[0]) << 8 | usize::from(head[1]);
        if self.head_bits[index >> 6] & (1 << (index & 63)) == 0 {
            return;
        }
        let slot = self.heads[index];
        if slot == 0 {
            return;
        }
        // A head is shared by four prefixes on average (`sk-`, `sk_live_`,
        // `sk-ant-`): a compare of eight bytes each in a register, where
        // `starts_with` called `memcmp` 300,000 times in 64 MiB of generated
        // data (callgrind).
        let first8 = (text.get(..8))
            .and_then(|bytes| bytes.try_into().ok())
            .map(u64::from_le_bytes);
        for prefix in &self.by_head[usize::from(slot) - 1] {
            let starts = match first8 {
                Some(first8) => {
                    first8 & prefix.mask8 == prefix.first8
                        && text[8..].starts_with(prefix.bytes.get(8..).unwrap_or_default())
                }
                None => text.starts_with(&prefix.bytes),
            };
            if starts {
                for &rule in &prefix.rules {
                    found(rule, prefix.bytes.len());
                }
            }
        }
    }

    fn add(&mut self, prefix: &str, rule: usize, min_token: usize) {
        let bytes = prefix.as_bytes();
        let head = usize::from(bytes[0]) << 8 | usize::from(bytes[1]);
        self.head_bits[head >> 6] |= 1 << (head & 63);
        if self.heads[head] == 0 {
            self.by_head.push(Vec::new());
            // Fewer than 65,536 heads exist, so the index fits.
            self.heads[head] = self.by_head.len() as u16;
        }
        let entries = &mut self.by_head[usize::from(self.heads[head]) - 1];
        match entries.iter_mut().find(|entry| entry.bytes == bytes) {
            Some(entry) => entry.rules.push(rule),
            None => entries.push(RunPrefix::new(bytes, rule)),
        }
        self.min_run = if self.min_run == 0 {
            min_token
        } else {
            self.min_run.min(min_token)
        };
    }
}

/// Bytes before a run, bytes the run starts with, and its rules.
type PrecededEntry = (Vec<u8>, Vec<u8>, Vec<usize>);

/// Keywords that end in a separator followed by a long run: `hvs.` + 90
/// token characters, `sha256~` + 43, `.atlasv1.` + 60, `k.eyJ1Ijoi` (where
/// the run starts with the keyword's last letters).
///
/// Such a keyword is split after its last byte outside the base64
/// alphabet: the part before (`hvs.`) ends where a maximal run starts, and
/// the part after (`eyJ1Ijoi` of `k.eyJ1Ijoi`, often empty) starts that
/// run. So instead
/// of one more literal for the automaton, each run long enough is checked
/// for the bytes just before it: one table load by the two bytes before the
/// run, which for almost every run has no entry.
pub struct RunPreceded {
    /// For each pair of bytes before a run, 1 + its index in `entries`, or
    /// 0: code has a run after `.` every few lines (`this.name`), so one
    /// byte would send most of them to the compares.
    slots: Box<[u16]>,
    /// (bytes before the run, bytes the run starts with, rules).
    entries: Vec<Vec<PrecededEntry>>,
    min_run: usize,
}

impl Default for RunPreceded {
    fn default() -> Self {
        RunPreceded {
            slots: vec![0; 1 << 16].into_boxed_slice(),
            entries: Vec::new(),
            min_run: usize::MAX,
        }
    }
}

impl RunPreceded {
    /// Shortest run worth a lookup (`usize::MAX` when there are none).
    pub fn min_run(&self) -> usize {
        self.min_run
    }

    /// Calls `found(rule, keyword_start)` for every keyword that ends just
    /// before, or straddles the start of, the run `start..end`.
    #[inline]
    pub fn lookup(
        &self,
        haystack: &[u8],
        start: usize,
        end: usize,
        mut found: impl FnMut(usize, usize),
    ) {
        if start < 1 || end - start < self.min_run {
            return;
        }
        // Before the buffer's second byte, the first of the pair is taken
        // as 0 (`ends_with` below decides).
        let first = if start >= 2 { haystack[start - 2] } else { 0 };
        let pair = usize::from(first) << 8 | usize::from(haystack[start - 1]);
        let slot = self.slots[pair];
        if slot == 0 {
            return;
        }
        for (before, begins, rules) in &self.entries[usize::from(slot) - 1] {
            if haystack[..start].ends_with(before) && haystack[start..end].starts_with(begins) {
                for &rule in rules {
                    found(rule, start - before.len());
                }
            }
        }
    }

    fn add(&mut self, before: Vec<u8>, begins: Vec<u8>, rule: usize, run: usize) {
        // A one-byte `before` (`:` of `:AA`) goes under every pair it ends.
        let pairs: Vec<usize> = match before[..] {
            [.., second, last] => vec![usize::from(second) << 8 | usize::from(last)],
            [last] => (0..256)
                .map(|first| first << 8 | usize::from(last))
                .collect(),
            [] => return,
        };
        for pair in pairs {
            if self.slots[pair] == 0 {
                self.entries.push(Vec::new());
                // Fewer than 65,536 pairs exist, so the index fits.
                self.slots[pair] = self.entries.len() as u16;
            }
            let entries = &mut self.entries[usize::from(self.slots[pair]) - 1];
            match entries
                .iter_mut()
                .find(|(b, s, _)| *b == before && *s == begins)
            {
                Some((_, _, rules)) if rules.contains(&rule) => {}
                Some((_, _, rules)) => rules.push(rule),
                None => entries.push((before.clone(), begins.clone(), vec![rule])),
            }
        }
        self.min_run = self.min_run.min(run);
    }
}

/// Keywords, each with the rules it opens a window for.
type KeywordRules = Vec<(Vec<u8>, Vec<usize>)>;

/// A prefix of [`RunPrefixes`] and its rules.
struct RunPrefix {
    bytes: Vec<u8>,
    /// Its first eight bytes (fewer in a shorter one) as a little-endian
    /// word, and the mask of the bytes it has.
    first8: u64,
    mask8: u64,
    rules: Vec<usize>,
}

impl RunPrefix {
    fn new(bytes: &[u8], rule: usize) -> RunPrefix {
        let mut word = [0u8; 8];
        let mut mask = [0u8; 8];
        for (i, &b) in bytes.iter().take(8).enumerate() {
            word[i] = b;
            mask[i] = 0xff;
        }
        RunPrefix {
            bytes: bytes.to_vec(),
            first8: u64::from_le_bytes(word),
            mask8: u64::from_le_bytes(mask),
            rules: vec![rule],
        }
    }
}

/// Keywords at a fixed place inside their token (Azure key signatures:
/// `+ASt` ends 6 characters before a storage key's end, `JQQJ99` starts 52
/// after a common annotated key's start). Such a token is a whole run of
/// base64-alphabet bytes, so each long run is checked at those places only:
/// a few compares per run, where the same literals in the automaton cost a
/// third of its speed (the Azure signatures alone, measured).
#[derive(Default)]
pub struct RunAnchors {
    /// (place, keyword, rules), grouped by place so a run reads each place once.
    places: Vec<(Place, KeywordRules, FirstBytes)>,
}

/// The first bytes of a place's keywords, one bit each: most runs have
/// none of them at the place, and are done after one test.
type FirstBytes = [u64; 4];

fn has_first(set: &FirstBytes, byte: u8) -> bool {
    set[usize::from(byte >> 6)] & (1 << (byte & 63)) != 0
}

/// Where a group of anchored keywords is read in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub from_start: bool,
    pub offset: usize,
    pub len: usize,
}

impl RunAnchors {
    /// Calls `found(rule, keyword_start)` for every anchored keyword that
    /// stands at its place in the run `start..end` of `haystack`.
    #[inline]
    pub fn lookup(
        &self,
        haystack: &[u8],
        start: usize,
        end: usize,
        mut found: impl FnMut(usize, usize),
    ) {
        let run = end - start;
        for (place, keywords, first) in &self.places {
            if run < place.offset + place.len {
                continue;
            }
            let at = if place.from_start {
                start + place.offset
            } else {
                end - place.offset - place.len
            };
            if !has_first(first, haystack[at]) {
                continue;
            }
            let text = &haystack[at..at + place.len];
            for (keyword, rules) in keywords {
                if text == keyword.as_slice() {
                    for &rule in rules {
                        found(rule, at);
                    }
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    fn add(&mut self, anchor: Anchor, keyword: &str, rule: usize) {
        let place = Place {
            from_start: anchor.from_start.is_some(),
            offset: anchor.from_start.or(anchor.from_end).unwrap_or(0),
            len: keyword.len(),
        };
        let i = match self.places.iter().position(|(p, _, _)| *p == place) {
            Some(i) => i,
            None => {
                self.places.push((place, Vec::new(), [0; 4]));
                self.places.len() - 1
            }
        };
        let (_, group, first) = &mut self.places[i];
        let byte = keyword.as_bytes()[0];
        first[usize::from(byte >> 6)] |= 1 << (byte & 63);
        match group.iter_mut().find(|(k, _)| k == keyword.as_bytes()) {
            Some((_, rules)) => rules.push(rule),
            None => group.push((keyword.as_bytes().to_vec(), vec![rule])),
        }
    }
}

/// Runs shorter than this are not looked up. The engine visits every run
/// this long anyway (for the context words), so a probe of the prefix table
/// there costs one bit test; below it, identifiers and words of ordinary
/// text would cost a probe each. Rules whose tokens can be shorter (an
/// Alibaba key id of 16 is the shortest that qualifies) keep their keywords
/// in the automaton.
pub const MIN_PREFIX_RUN: usize = MIN_CONTEXT_RUN;

impl RuleSet {
    pub fn compile(specs: Vec<RuleSpec>) -> Result<RuleSet, RuleError> {
        let mut seen = HashSet::new();
        let mut rules = Vec::with_capacity(specs.len());
        let mut prefilters = Vec::with_capacity(specs.len());
        let mut keyword_texts: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut prefixes = RunPrefixes::default();
        let mut preceded = RunPreceded::default();
        let mut anchors = RunAnchors::default();
        let mut context = ContextBuilder::default();
        let mut bare_rules = Vec::new();
        let mut max_token_length = 0;
        let mut shortest_secret = usize::MAX;

        // The built-in rules' facts come from the build's table; the rest
        // (custom rules, a built-in one whose pattern was changed) are
        // parsed, in parallel: that was most of the start-up.
        let analysed = {
            use rayon::prelude::*;
            specs
                .par_iter()
                .map(|spec| check_spec(spec).and_then(|()| pattern_facts(spec)))
                .collect::<Vec<_>>()
        };
        for (spec, facts) in specs.into_iter().zip(analysed) {
            let index = rules.len();
            let facts = facts?;
            if !seen.insert(spec.id.clone()) {
                return Err(RuleError::Invalid {
                    rule: spec.id.clone(),
                    message: "duplicate rule id".into(),
                });
            }
            let prefilter = if let Some(anchor) = spec.anchor {
                for keyword in &spec.keywords {
                    anchors.add(anchor, keyword, index);
                }
                Prefilter::Anchor
            } else if let Some(min_token) = starts_every_token(&spec, &facts) {
                for keyword in &spec.keywords {
                    prefixes.add(keyword, index, min_token);
                }
                Prefilter::RunPrefix
            } else if let Some((splits, searched)) = preceded_splits(&spec, &facts) {
                for (before, start, run) in splits {
                    preceded.add(before.to_vec(), start.to_vec(), index, *run);
                }
                for (k, keyword) in spec.keywords.iter().enumerate() {
                    if searched >> k & 1 == 1 {
                        add_keyword(&mut keyword_texts, &mut keyword_rules, keyword, index);
                    }
                }
                if searched == 0 {
                    Prefilter::Preceded
                } else {
                    Prefilter::PrecededAndAutomaton { searched }
                }
            } else if spec.keywords.is_empty() {
                if spec.context.is_empty() {
                    Prefilter::Bare
                } else {
                    Prefilter::Context
                }
            } else {
                for keyword in &spec.keywords {
                    add_keyword(&mut keyword_texts, &mut keyword_rules, keyword, index);
                }
                Prefilter::Automaton
            };
            prefilters.push(prefilter);
            if !spec.context.is_empty() {
                let run = facts.leading_run;
                if run < MIN_CONTEXT_RUN {
                    return Err(invalid(
                        &spec,
                        format!(
                            "a rule found by context words needs a secret that starts with a run of at least \
                             {MIN_CONTEXT_RUN} token characters (letters, digits, '-', '_', '+', '/'); this one's is {run}"
                        ),
                    ));
                }
                context.add(&spec.context, index, facts.shape, facts.named_in_key);
            }
            if let Some(bare) = spec.bare {
                bare_rules.push((index, bare));
            }
            max_token_length = max_token_length.max(spec.max_length);
            // A structured rule's secret (a password) can be a few bytes,
            // but it stands inside a URL or a config line that is much
            // longer: it must not drag every short base64 run into the
            // decoder (measured: 30% more work on a source tree). Base64 of
            // such a line is as long as the other rules' floor anyway.
            if spec.parser.is_none() {
                shortest_secret = shortest_secret.min(facts.min_secret_len);
            }
            rules.push(CompiledRule::new(spec)?);
        }

        fold_contained_keywords(&mut keyword_texts, &mut keyword_rules);
        let keywords = if keyword_texts.is_empty() {
            None
        } else {
            Some(KeywordSearcher::new(&keyword_texts)?)
        };

        Ok(RuleSet {
            rules,
            prefilters,
            keywords,
            keyword_texts,
            keyword_rules,
            prefixes,
            preceded,
            anchors,
            context: context.build(),
            bare_rules,
            max_token_length,
            min_encoded_run: base64_len(shortest_secret.max(MIN_DECODED_SECRET))
                .max(MIN_ENCODED_RUN_FLOOR),
        })
    }

    pub fn prefixes(&self) -> &RunPrefixes {
        &self.prefixes
    }

    pub fn preceded(&self) -> &RunPreceded {
        &self.preceded
    }

    pub fn anchors(&self) -> &RunAnchors {
        &self.anchors
    }

    pub fn context(&self) -> &ContextWords {
        &self.context
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// How rule `index`'s candidates are found.
    pub fn prefilter(&self, index: usize) -> Prefilter {
        self.prefilters[index]
    }

    pub fn get(&self, index: usize) -> &CompiledRule {
        &self.rules[index]
    }

    pub fn keywords(&self) -> Option<&KeywordSearcher> {
        self.keywords.as_ref()
    }

    /// The literals the keyword automaton searches for.
    pub fn automaton_keywords(&self) -> &[String] {
        &self.keyword_texts
    }

    pub fn rules_for_keyword(&self, pattern: usize) -> &[usize] {
        &self.keyword_rules[pattern]
    }

    pub fn bare_rules(&self) -> &[(usize, BareScan)] {
        &self.bare_rules
    }

    /// The longest token any rule can match: the overlap between chunks.
    pub fn max_token_length(&self) -> usize {
        self.max_token_length
    }

    /// The shortest run of base64-alphabet bytes that can hold a token of
    /// these rules, encoded: the base64 of the shortest `secret` any rule
    /// matches (e.g. a 26-character GitLab PAT is 35 characters unpadded),
    /// never below [`MIN_ENCODED_RUN_FLOOR`]. Derived from the rules so a
    /// new, shorter format is found inside base64 without anyone editing a
    /// constant.
    pub fn min_encoded_run(&self) -> usize {
        self.min_encoded_run
    }
}

/// Where one keyword contains another (a custom `ghp_abc` and the built-in
/// `ghp_`), the longer one is dropped and its rules hang off the shorter:
/// every occurrence of the longer contains the shorter, and the rule's window
/// around the shorter's hit still covers the token. This keeps leftmost-first
/// search from hiding one keyword behind another that starts at the same byte.
fn fold_contained_keywords(texts: &mut Vec<String>, rules: &mut Vec<Vec<usize>>) {
    loop {
        let pair = (0..texts.len()).find_map(|long| {
            (0..texts.len())
                .find(|&short| short != long && texts[long].contains(texts[short].as_str()))
                .map(|short| (long, short))
        });
        let Some((long, short)) = pair else {
            return;
        };
        let moved = rules.remove(long);
        texts.remove(long);
        let short = if short > long { short - 1 } else { short };
        for rule in moved {
            if !rules[short].contains(&rule) {
                rules[short].push(rule);
            }
        }
    }
}

/// The built-in rules' pattern facts, worked out by `build.rs` (see
/// [`facts`]): (rule id, fingerprint of its pattern and keywords, facts),
/// sorted by id.
static BUILTIN_FACTS: &[(&str, u64, PatternFacts)] =
    include!(concat!(env!("OUT_DIR"), "/builtin_facts.rs"));

/// `spec`'s pattern facts: from the build's table when the rule is a
/// built-in one as built, else by parsing its pattern.
fn pattern_facts(spec: &RuleSpec) -> Result<PatternFacts, RuleError> {
    if !spec.custom {
        if let Ok(at) = BUILTIN_FACTS.binary_search_by(|(id, _, _)| (*id).cmp(spec.id.as_str())) {
            let (_, fingerprint, facts) = &BUILTIN_FACTS[at];
            if *fingerprint == facts::fingerprint(&spec.pattern, &spec.keywords) {
                return Ok(facts.clone());
            }
        }
    }
    facts::analyse(&spec.pattern, &spec.keywords)
        .map_err(|e| invalid(spec, format!("invalid pattern: {}", with_causes(&*e))))
}

/// The shortest token of `spec` if every token it matches starts with one of
/// its keywords, every keyword is made of base64-alphabet bytes and tokens
/// are at least [`MIN_PREFIX_RUN`] long: then a token always starts a long
/// run, and its keywords can be looked up there (see [`RunPrefixes`]).
fn starts_every_token(spec: &RuleSpec, facts: &PatternFacts) -> Option<usize> {
    let keywords_fit = !spec.keywords.is_empty()
        && !spec.custom
        && spec
            .keywords
            .iter()
            .all(|k| k.len() >= 2 && k.bytes().all(facts::is_token_byte));
    (keywords_fit && facts.leading_run >= MIN_PREFIX_RUN && facts.keywords_start_every_token)
        .then_some(facts.leading_run)
}

/// The lookups before runs of at least [`MIN_PREFIX_RUN`] token characters
/// that find a rule's matches (see [`RunPreceded`]), and the keywords (one
/// bit each) the keyword pass must still search for the branches of its
/// pattern they do not find (see [`PatternFacts::preceded`]).
fn preceded_splits<'f>(spec: &RuleSpec, facts: &'f PatternFacts) -> Option<(&'f [RunAfter], u64)> {
    if spec.custom || spec.anchor.is_some() {
        return None;
    }
    let splits = facts.preceded.as_deref()?;
    splits
        .iter()
        .all(|(_, _, run)| *run >= MIN_PREFIX_RUN)
        .then_some((splits, facts.searched))
}

// The pattern analysis keeps only the lookups the engine can make.
const _: () = assert!(facts::MIN_PRECEDED_RUN == MIN_PREFIX_RUN);

/// Adds `keyword` to the keyword pass's literals for `rule`.
fn add_keyword(texts: &mut Vec<String>, rules: &mut Vec<Vec<usize>>, keyword: &str, rule: usize) {
    match texts.iter().position(|k| k == keyword) {
        Some(existing) => rules[existing].push(rule),
        None => {
            texts.push(keyword.to_string());
            rules.push(vec![rule]);
        }
    }
}

fn invalid(spec: &RuleSpec, message: impl Into<String>) -> RuleError {
    RuleError::Invalid {
        rule: spec.id.clone(),
        message: message.into(),
    }
}

fn check_spec(spec: &RuleSpec) -> Result<(), RuleError> {
    let id_ok = !spec.id.is_empty()
        && spec
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !id_ok {
        return Err(invalid(
            spec,
            "rule id must be non-empty lowercase letters, digits, '-' or '.'",
        ));
    }
    if spec.keywords.is_empty() && spec.bare.is_none() && spec.context.is_empty() {
        return Err(invalid(
            spec,
            "a rule needs at least one keyword or context word (the literal prefilter runs the regex only near them)",
        ));
    }
    if spec
        .keywords
        .iter()
        .chain(&spec.context)
        .any(|k| k.len() < MIN_WORD)
    {
        return Err(invalid(
            spec,
            format!("keywords and context words must be at least {MIN_WORD} bytes long, or the prefilter would fire everywhere"),
        ));
    }
    if spec.context.iter().any(|w| !w.is_ascii()) {
        return Err(invalid(spec, "context words must be ASCII"));
    }
    if spec.max_length == 0 || spec.max_length > MAX_TOKEN_LENGTH {
        return Err(invalid(
            spec,
            format!("max_length must be between 1 and {MAX_TOKEN_LENGTH}"),
        ));
    }
    if spec.pattern.len() > MAX_PATTERN_LENGTH {
        return Err(invalid(
            spec,
            format!("pattern is longer than {MAX_PATTERN_LENGTH} bytes"),
        ));
    }
    if let Some(checksum) = &spec.checksum {
        check_checksum(spec, checksum)?;
    }
    if let Some(anchor) = spec.anchor {
        if anchor.from_start.is_some() == anchor.from_end.is_some() {
            return Err(invalid(
                spec,
                "an anchor sets exactly one of from_start and from_end",
            ));
        }
        if spec
            .keywords
            .iter()
            .any(|k| !k.bytes().all(|b| crate::runs::BASE64_ANY[usize::from(b)]))
        {
            return Err(invalid(
                spec,
                "an anchored keyword must be made of base64-alphabet characters (it is read inside a run of them)",
            ));
        }
    }
    if let Some(entropy) = spec.min_entropy {
        if !(0.0..=8.0).contains(&entropy) {
            return Err(invalid(spec, "min_entropy must be between 0 and 8"));
        }
    }
    Ok(())
}

fn check_checksum(spec: &RuleSpec, checksum: &ChecksumSpec) -> Result<(), RuleError> {
    use crate::checksum::computed::{is_computed, MAX_CHECK_LENGTH};
    if is_computed(checksum.algorithm) {
        match (checksum.encoding, checksum.length) {
            (Some(_), Some(length)) if (1..=MAX_CHECK_LENGTH).contains(&length) => {}
            _ => {
                return Err(invalid(
                    spec,
                    format!(
                        "checksum {:?} needs an encoding and a length of 1 to {MAX_CHECK_LENGTH}",
                        checksum.algorithm
                    ),
                ))
            }
        }
        if checksum.separator.as_ref().is_some_and(|s| s.len() > 4) {
            return Err(invalid(spec, "a checksum separator is at most 4 bytes"));
        }
    } else if checksum.encoding.is_some() || checksum.length.is_some() {
        return Err(invalid(
            spec,
            "encoding and length describe crc32, crc32c and xor checksums only",
        ));
    }
    if checksum.algorithm == ChecksumKind::AzureHisV1 {
        if checksum.seeds.is_empty() || checksum.seeds.len() > MAX_SEEDS {
            return Err(invalid(
                spec,
                format!("an azure-his-v1 checksum names 1 to {MAX_SEEDS} seeds"),
            ));
        }
        if let Some(bad) = checksum
            .seeds
            .iter()
            .find(|name| crate::checksum::azure::seed_from_name(name).is_none())
        {
            return Err(invalid(
                spec,
                format!("seed {bad:?} is not 8 printable ASCII characters"),
            ));
        }
    } else if !checksum.seeds.is_empty() {
        return Err(invalid(spec, "only azure-his-v1 checksums take seeds"));
    }
    Ok(())
}

pub(crate) fn compile_pattern(spec: &RuleSpec) -> Result<meta::Regex, RuleError> {
    meta::Regex::builder()
        // Bytes, not text: files may hold invalid UTF-8, and ASCII classes
        // are all a token alphabet needs.
        .syntax(
            syntax::Config::new()
                .utf8(false)
                .unicode(false)
                .nest_limit(50),
        )
        .configure(
            meta::Config::new()
                .utf8_empty(false)
                .nfa_size_limit(Some(MAX_COMPILED_REGEX_BYTES))
                .dfa_size_limit(Some(MAX_COMPILED_REGEX_BYTES))
                .hybrid_cache_capacity(2 << 20)
                // Built on a rule's first keyword hit, in the scan: a full
                // DFA and a one-pass DFA were 40% of building each regex,
                // and the windows they search are a few hundred bytes,
                // where the lazy DFA and the backtracker do as well.
                .dfa(false)
                .onepass(false),
        )
        .build(&spec.pattern)
        .map_err(|e| invalid(spec, format!("invalid pattern: {}", with_causes(&e))))
}

/// A syntax error prints the pattern with a caret under the fault, over
/// several lines; errors here are one line, so keep the verdict (the last
/// line) and say where.
fn one_line(message: &str) -> String {
    if !message.contains('\n') {
        return message.to_string();
    }
    let verdict = message
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .trim_start_matches("error: ");
    let caret = message
        .lines()
        .find(|l| l.trim_start().starts_with('^'))
        .and_then(|l| l.find('^'));
    match caret {
        // The quoted pattern is indented by four spaces.
        Some(column) => format!("{verdict} (at byte {})", column.saturating_sub(4)),
        None => verdict.to_string(),
    }
}

/// An error and its causes on one line: the regex builder's own message
/// ("error building NFA") says nothing of why, its cause does ("exceeds
/// size limit").
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = one_line(&err.to_string());
    let mut cause = err.source();
    while let Some(inner) = cause {
        let part = one_line(&inner.to_string());
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    /// The build's table is what every run uses for the built-in rules, so
    /// it must hold every one of them, and agree with parsing the pattern
    /// now: a rule missing from it (its keywords or pattern read differently
    /// at run time) would silently cost the start-up its parse again.
    #[test]
    fn every_built_in_rule_takes_its_facts_from_the_build_and_they_match_a_parse() {
        let specs = crate::rules::all_builtin_specs().unwrap();
        assert_eq!(BUILTIN_FACTS.len(), specs.len());
        assert!(
            BUILTIN_FACTS.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted by id"
        );
        for spec in &specs {
            let at = BUILTIN_FACTS
                .binary_search_by(|(id, _, _)| (*id).cmp(spec.id.as_str()))
                .unwrap_or_else(|_| panic!("{} is not in the table", spec.id));
            let (_, fingerprint, built) = &BUILTIN_FACTS[at];
            assert_eq!(
                *fingerprint,
                facts::fingerprint(&spec.pattern, &spec.keywords),
                "{}: its pattern or keywords read differently at run time",
                spec.id
            );
            let parsed = facts::analyse(&spec.pattern, &spec.keywords).unwrap();
            assert_eq!(*built, parsed, "{}", spec.id);
        }
    }

    #[test]
    fn a_changed_built_in_pattern_is_parsed_not_read_from_the_table() {
        let mut spec = crate::rules::all_builtin_specs()
            .unwrap()
            .into_iter()
            .find(|spec| spec.id == "github-fine-grained-pat")
            .unwrap();
        let built = pattern_facts(&spec).unwrap();
        // A shorter token: the table's facts would be stale.
        spec.pattern = "(?P<secret>github_pat_[A-Za-z0-9_]{30})".into();
        let changed = pattern_facts(&spec).unwrap();
        assert_ne!(built.min_secret_len, changed.min_secret_len);
        assert_eq!(changed.min_secret_len, "github_pat_".len() + 30);
        spec.pattern = "(?P<secret>github_pat_[".into();
        assert!(pattern_facts(&spec).is_err());
    }

    use super::*;

    #[test]
    fn syntax_errors_are_one_line_naming_the_place() {
        let message = "regex parse error:\n    ab(c\n      ^\nerror: unclosed group";
        assert_eq!(one_line(message), "unclosed group (at byte 2)");
        assert_eq!(one_line("exceeded limit"), "exceeded limit");
    }

    fn rule(id: &str, pattern: &str) -> RuleSpec {
        let text = format!(
            "[[rule]]\nid = \"{id}\"\nname = \"n\"\ndescription = \"d\"\nkeywords = [\"abc\"]\npattern = '''{pattern}'''\nmax_length = 80\n"
        );
        super::super::RuleFile::parse("t", &text)
            .unwrap()
            .rules
            .remove(0)
    }

    #[test]
    fn the_built_in_rules_reach_down_to_a_gitlab_pat_in_base64() {
        let set = crate::rules::builtin().unwrap();
        println!("built-in min_encoded_run = {}", set.min_encoded_run());
        assert!(set.min_encoded_run() <= base64_len(26));
        // Structured rules' short passwords do not lower it: every run
        // shorter than a GitLab PAT's base64 would be decoded.
        assert!(set.min_encoded_run() >= base64_len(26));
    }

    #[test]
    fn the_shortest_encoded_run_follows_the_shortest_secret() {
        assert_eq!(base64_len(26), 35);
        assert_eq!(base64_len(27), 36);
        assert_eq!(base64_len(40), 54);
        let set = RuleSet::compile(vec![
            rule(
                "long",
                "(?:^|[^a-z])(?P<secret>abc[a-z0-9]{37})(?:[^a-z]|$)",
            ),
            rule("short", "x(?P<secret>abc(?:[a-z]{23}|[0-9]{30}))y"),
        ])
        .unwrap();
        // 26 bytes of secret: 35 base64 characters without padding.
        assert_eq!(set.min_encoded_run(), 35);
        // A very short custom secret does not drag the runs below the floor.
        let set = RuleSet::compile(vec![rule("tiny", "abc[0-9]{2}")]).unwrap();
        assert_eq!(set.min_encoded_run(), base64_len(MIN_DECODED_SECRET));
    }

    #[test]
    fn prefixes_that_start_every_token_leave_the_automaton() {
        let set = crate::rules::builtin().unwrap();
        let prefixed = |keyword: &[u8]| {
            let mut hit = false;
            set.prefixes()
                .lookup(keyword, |_, len| hit |= len == keyword.len());
            hit
        };
        // A fixed prefix and a long body: looked up where a run starts.
        for keyword in [&b"ghp_"[..], b"npm_", b"glpat-", b"vcp_"] {
            assert!(prefixed(keyword), "{}", String::from_utf8_lossy(keyword));
        }
        // Inside a token (`JQQJ99`, `T3BlbkFJ`) or no keyword at all: the
        // automaton and the bare scan keep them.
        for keyword in [&b"JQQJ99"[..], b"T3BlbkFJ"] {
            assert!(!prefixed(keyword));
        }
        assert!(set.prefixes().min_run() >= MIN_PREFIX_RUN);
    }

    /// Prefixes shorter than, as long as and longer than the eight bytes
    /// compared in a register, sharing a head, against texts shorter and
    /// longer than eight bytes: exactly the prefixes a text starts with.
    #[test]
    fn a_run_prefix_is_found_exactly_where_the_text_starts_with_it() {
        let prefixes = ["sk-", "sk_live_", "sk-ant-api03-", "sk-proj-", "skx"];
        let mut table = RunPrefixes::default();
        for (rule, prefix) in prefixes.iter().enumerate() {
            table.add(prefix, rule, 8);
        }
        let texts: [&[u8]; 9] = [
            b"sk-",
            b"sk",
            b"sk_live",
            b"sk_live_",
            b"sk_live_x",
            b"sk-ant-api03-AAAA",
            b"sk-ant-api04-AAAA",
            b"sk-proj-abc",
            b"SK-proj-abc",
        ];
        for text in texts {
            let mut found = Vec::new();
            table.lookup(text, |rule, len| found.push((rule, len)));
            found.sort_unstable();
            let expected: Vec<(usize, usize)> = (prefixes.iter().enumerate())
                .filter(|(_, prefix)| text.starts_with(prefix.as_bytes()))
                .map(|(rule, prefix)| (rule, prefix.len()))
                .collect();
            assert_eq!(found, expected, "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn short_keywords_are_found_by_their_rarest_byte_everywhere() {
        // Three needles at most (`~`, `!`, `a`): `:AA` stays in Teddy.
        let keywords: Vec<String> = ["8Q~", "!AQ", "abc", "ghp_", ":AA"]
            .iter()
            .map(|k| k.to_string())
            .collect();
        let searcher = KeywordSearcher::new(&keywords).unwrap();
        assert_eq!(searcher.packed_len(), 2);
        let text = b"!AQ x8Q~8Q~ abc :AA!A!AQ ghp_ 8Q";
        let mut short = Vec::new();
        searcher.short_hits(text, |start, end, k| short.push((start, end, k)));
        short.sort();
        let expected = vec![(0, 3, 1), (5, 8, 0), (8, 11, 0), (12, 15, 2), (21, 24, 1)];
        assert_eq!(short, expected);
        let mut all = Vec::new();
        searcher.each_hit(text, |start, end, k| all.push((start, end, k)));
        all.sort();
        let mut expected = [expected, vec![(16, 19, 4), (25, 29, 3)]].concat();
        expected.sort();
        assert_eq!(all, expected);
    }

    /// Every occurrence of every keyword, overlapping ones too, by a plain
    /// search: what the keyword pass must report.
    fn naive_hits(keywords: &[String], text: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut hits = Vec::new();
        for (k, keyword) in keywords.iter().enumerate() {
            let keyword = keyword.as_bytes();
            for start in 0..text.len() {
                if text[start..].starts_with(keyword) {
                    hits.push((start, start + keyword.len(), k));
                }
            }
        }
        hits.sort();
        hits
    }

    #[test]
    fn keywords_sharing_four_bytes_are_one_literal_and_each_is_still_found_where_it_stands() {
        let keywords: Vec<String> = [
            "Password=",
            "password=",
            "rTextPassword",
            "duffel_live_",
            "duffel_test_",
            "\"auth\"",
            "_auth=",
            "PRIVATE KEY",
            "AKIA",
        ]
        .iter()
        .map(|k| k.to_string())
        .collect();
        let searcher = KeywordSearcher::new(&keywords).unwrap();
        let mut literals = searcher.packed_literals().to_vec();
        literals.sort();
        assert_eq!(
            literals,
            ["AKIA", "PRIVATE KEY", "assword", "auth", "duffel_"],
            "one literal for the keywords that share 4 bytes or more"
        );
        // Overlapping keywords (`ClearTextPassword=` holds two), parts of
        // keywords that are not keywords (`assword`, `duffel_x`, `author`),
        // keywords at the buffer's ends.
        let text = b"Password=1 ClearTextPassword=2 assword= duffel_xduffel_live_ \
            author \"auth\" _auth=x _auth PRIVATE KEYAKIAuth passWord= rTextPassword";
        let mut hits = Vec::new();
        searcher.each_hit(text, |start, end, k| hits.push((start, end, k)));
        hits.sort();
        assert_eq!(hits, naive_hits(&keywords, text));
        assert_eq!(hits.len(), 9, "{hits:?}");
        // A cut buffer: a keyword that would start before it is not there.
        let cut = &text[1..];
        let mut hits = Vec::new();
        searcher.each_hit(cut, |start, end, k| hits.push((start, end, k)));
        hits.sort();
        assert_eq!(hits, naive_hits(&keywords, cut));
    }

    /// Whether the keyword pass or a lookup before a run opens a window for
    /// `rule` in `text`, as the engine makes them.
    fn opens_a_window(set: &RuleSet, rule: usize, text: &[u8]) -> bool {
        let mut opened = false;
        if let Some(keywords) = set.keywords() {
            keywords.each_hit(text, |_, _, k| {
                opened |= set.rules_for_keyword(k).contains(&rule)
            });
        }
        crate::runs::maximal_runs(
            &crate::runs::BASE64_ANY,
            text,
            0..text.len(),
            MIN_PREFIX_RUN,
            |start, end| {
                set.preceded()
                    .lookup(text, start, end, |found, _| opened |= found == rule)
            },
        );
        opened
    }

    /// The analysis that moves keywords out of the keyword pass claims that
    /// every match of the pattern is still found: every branch of it,
    /// before a run or by a keyword it still searches. Checked on random
    /// matches of every rule found by the keyword pass or before a run
    /// (drawn from the whole pattern, boundaries included), doppler's
    /// `dp.st.<config>.` branch and the keywords that share a literal among
    /// them.
    #[test]
    fn every_drawn_match_of_a_keyword_or_preceded_rule_opens_its_window() {
        let set = crate::rules::builtin().unwrap();
        let mut rng = crate::tokengen::TokenRng::new(24);
        let mut checked = 0;
        let mut missed = Vec::new();
        for (index, rule) in set.rules().iter().enumerate() {
            if !matches!(
                set.prefilter(index),
                Prefilter::Automaton | Prefilter::Preceded | Prefilter::PrecededAndAutomaton { .. }
            ) {
                continue;
            }
            let whole = rule.spec.pattern.replace("?P<secret>", "");
            let pattern = crate::tokengen::sample::Pattern::new(&whole).unwrap();
            for _ in 0..200 {
                let text = [&b"\n"[..], &pattern.draw(&mut rng), b"\n"].concat();
                checked += 1;
                if !opens_a_window(&set, index, &text) {
                    missed.push(format!(
                        "{}: {}",
                        rule.spec.id,
                        String::from_utf8_lossy(&text)
                    ));
                }
            }
        }
        assert!(
            missed.is_empty(),
            "{} of {checked}: {missed:#?}",
            missed.len()
        );
        // `dp.st.`, the second keyword, is still searched.
        assert_eq!(
            set.prefilter(index_of(&set, "doppler-token")),
            Prefilter::PrecededAndAutomaton { searched: 0b10 }
        );
        assert_eq!(
            set.prefilter(index_of(&set, "microsoft-teams-webhook")),
            Prefilter::Preceded
        );
    }

    fn index_of(set: &RuleSet, id: &str) -> usize {
        set.rules().iter().position(|r| r.spec.id == id).unwrap()
    }

    #[test]
    fn a_pattern_is_spelt_out_into_branches_each_found_before_its_run_or_by_a_keyword() {
        let keywords = ["ab.x.", "ab.y.", "ab.z."];
        // `ab.z.` is followed by a short name in one branch: it stays in
        // the keyword pass, for both of its branches.
        let facts = facts::analyse(
            r"(?:^|[^a-z])ab\.(?:x|y|z(?:\.[a-z]{2,8})?)\.[A-Za-z0-9]{20}",
            &keywords,
        )
        .unwrap();
        let splits: Vec<(&[u8], &[u8], usize)> = facts
            .preceded
            .as_deref()
            .unwrap()
            .iter()
            .map(|(before, begins, run)| (&before[..], &begins[..], *run))
            .collect();
        assert_eq!(
            splits,
            vec![(&b"ab.x."[..], &b""[..], 20), (b"ab.y.", b"", 20)]
        );
        assert_eq!(facts.searched, 0b100);
        // A run too short: nothing is looked up before it.
        let facts = facts::analyse(r"ab\.(?:x|y)\.[A-Za-z0-9]{15}", &keywords[..2]).unwrap();
        assert_eq!(facts.preceded, None);
        // A branch that holds no keyword: what finds it is not known.
        let facts = facts::analyse(r"(?:ab\.x\.|cd)[A-Za-z0-9]{20}", &keywords[..1]).unwrap();
        assert_eq!(facts.preceded, None);
        // A keyword without a separator splits at its literal's: two bytes
        // at least (`.c` here; a lone `"` would send every quoted run to
        // the compares).
        let facts = facts::analyse(r"https://a\.bc/hook/[0-9a-f]{32}", &["hook/"]).unwrap();
        let (before, begins, run) = &facts.preceded.as_deref().unwrap()[0];
        assert_eq!(
            (&before[..], &begins[..], *run),
            (&b"https://a."[..], &b"bc/hook/"[..], 40)
        );
        let facts = facts::analyse(
            r#"key\s*=\s*"ClearTextPassword"\s+value"#,
            &["TextPassword"],
        )
        .unwrap();
        assert_eq!(facts.preceded, None);
        // The token bytes before a separator start the run a token starts.
        let facts = facts::analyse(
            r"(?P<secret>eyJhbGciOiJIUzI1NiJ9\.[a-z]{30})",
            &["eyJhbGci"],
        )
        .unwrap();
        assert_eq!(facts.leading_run, 20);
    }

    #[test]
    fn a_keyword_ending_in_one_separator_is_looked_up_before_the_run() {
        let mut preceded = RunPreceded::default();
        preceded.add(b":".to_vec(), b"AA".to_vec(), 7, 20);
        let found = |text: &[u8], start: usize| {
            let mut hits = Vec::new();
            preceded.lookup(text, start, text.len(), |rule, at| hits.push((rule, at)));
            hits
        };
        let run = b"AA0123456789abcdefgh";
        for before in [&b":"[..], b"1:", b"//x:"] {
            let text = [before, run].concat();
            assert_eq!(found(&text, before.len()), vec![(7, before.len() - 1)]);
        }
        // Another byte before, or another start, or too short a run.
        assert!(found(b"-AA0123456789abcdefgh", 1).is_empty());
        assert!(found(b":AB0123456789abcdefgh", 1).is_empty());
        assert!(found(b":AA0123", 1).is_empty());
    }

    #[test]
    fn a_keyword_containing_another_is_folded_into_it() {
        let mut texts = vec![
            "ghp_".to_string(),
            "xoxb-".to_string(),
            "ghp_abc".to_string(),
        ];
        let mut rules = vec![vec![0], vec![1], vec![2]];
        fold_contained_keywords(&mut texts, &mut rules);
        assert_eq!(texts, vec!["ghp_".to_string(), "xoxb-".to_string()]);
        assert_eq!(rules, vec![vec![0, 2], vec![1]]);
    }
}
