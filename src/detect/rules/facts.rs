//! What the prefilter needs to know about a rule's pattern, read off its
//! syntax tree: whether its keywords start every token, whether they stand
//! before a run, how long a run the secret starts and of which bytes.
//!
//! Parsing 634 patterns to learn this was 60% of every run's start-up, which
//! a pre-commit hook pays on every commit. The built-in rules' facts are
//! therefore worked out at build time: `build.rs` includes this very file
//! (so it uses nothing but `std` and `regex_syntax`) and writes a table the
//! binary embeds ([`super::compile`] reads it). Custom rules, and a built-in
//! rule whose pattern or keywords differ from the table's (the fingerprint
//! says so), are analysed here at run time, by the same code.

use std::borrow::Cow;

use regex_syntax::hir::{Class, Hir, HirKind};

/// A keyword split before a run: the bytes before it, the bytes the run
/// starts with, and the run's length (see `RunPreceded` in the compiler).
pub type RunAfter = (Cow<'static, [u8]>, Cow<'static, [u8]>, usize);

/// The facts of one pattern, given its keywords. Borrowed in the table the
/// build writes, owned when worked out at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternFacts {
    /// Every token the secret matches starts with one of the keywords.
    pub keywords_start_every_token: bool,
    /// Lookups before a run that find the pattern's matches: for each
    /// branch of the pattern (its alternations and optional parts spelt
    /// out), a literal that holds one of the keywords and a byte outside the
    /// token alphabet, right before a long run. Where it splits, and how
    /// long the run is sure to be. `None` when no branch is found that way.
    pub preceded: Option<Cow<'static, [RunAfter]>>,
    /// With `preceded`, the keywords (bit `i` for keyword `i`) the keyword
    /// pass must still search, for the branches no long run follows
    /// (doppler's `dp.st.` before a config name): 0 when the lookups find
    /// every match.
    pub searched: u64,
    /// The fewest token-alphabet bytes every secret starts with.
    pub leading_run: usize,
    /// The shape of that run, for the context-word prefilter.
    pub shape: RunShape,
    /// The secret's shortest match.
    pub min_secret_len: usize,
    /// The pattern names its secret in the key it is assigned to (see
    /// [`named_in_key`]): a context word is then looked for in that key
    /// only, not in the whole window before the run.
    pub named_in_key: bool,
}

/// The run a context rule's secret starts: at least `min` token
/// characters, at most `max`, its bytes of the kinds in `kinds` (see
/// [`byte_kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunShape {
    pub min: usize,
    pub max: usize,
    pub kinds: u16,
    /// The kinds of token byte that may stand right after the secret's
    /// run when the run goes on past it (`+` and `/` after a hex key whose
    /// pattern ends in `(?:[^A-Za-z0-9_-]|$)`); 0 when the run must end
    /// with the secret. A run longer than `max` holds the secret only with
    /// such a byte where the secret may end.
    pub after: u16,
    /// The kinds of byte the secret may start with (`A` of Twitter's
    /// `AAAA…`): most random-looking runs start otherwise.
    pub first: u16,
    /// The bytes that may stand right before the secret, one bit each
    /// below 128 (all bits when a byte above may, or when the pattern may
    /// start with the secret): `.` for Vault's `s.` + 24 characters, the
    /// quotes, spaces and `=` of an assignment for most.
    pub before: u128,
    /// When a token byte may stand before the secret, so that the secret
    /// need not start its run (`io/v3/` + Infura key): the kinds of those
    /// bytes, one of which the run must then hold; 0 otherwise.
    pub inside: u16,
}

/// Whether `b` belongs to the token alphabet: standard and URL-safe base64
/// together, without `=`. Every token alphabet is inside it.
pub const fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'-' || b == b'_'
}

/// Which of nine kinds a token byte is (`a-f`, `g-z`, `A-F`, `G-Z`, digits,
/// `-`, `_`, `+`, `/`), as one bit; 0 for bytes outside the token alphabet.
/// Coarse on purpose: a rule allows a kind when its class holds any byte of
/// it, so a test by kind can only let too much through, never too little.
pub const fn byte_kind(b: u8) -> u16 {
    match b {
        b'a'..=b'f' => 1,
        b'g'..=b'z' => 1 << 1,
        b'A'..=b'F' => 1 << 2,
        b'G'..=b'Z' => 1 << 3,
        b'0'..=b'9' => 1 << 4,
        b'-' => 1 << 5,
        b'_' => 1 << 6,
        b'+' => 1 << 7,
        b'/' => 1 << 8,
        _ => 0,
    }
}

/// A fingerprint of what the facts depend on (the pattern and the
/// keywords, in order): the build's table is used for a rule only when its
/// fingerprint matches, so a stale or overridden entry is never trusted.
/// FNV-1a: this runs for every rule at start-up and must cost next to
/// nothing; a collision would need a deliberately crafted built-in rule.
pub fn fingerprint(pattern: &str, keywords: &[impl AsRef<str>]) -> u64 {
    let mut hash = crate::fnv::Fnv1a::new();
    for part in std::iter::once(pattern).chain(keywords.iter().map(AsRef::as_ref)) {
        hash.write(part.as_bytes());
        // A separator no UTF-8 text holds, so "ab","c" differs from "a","bc".
        hash.write(&[0xff]);
    }
    hash.finish()
}

/// Parses `pattern` with the regex's own settings (bytes, ASCII classes)
/// and works out its facts for `keywords`.
pub fn analyse(
    pattern: &str,
    keywords: &[impl AsRef<str>],
) -> Result<PatternFacts, Box<regex_syntax::Error>> {
    let hir = parse(pattern)?;
    let secret = secret_group(&hir).unwrap_or(&hir);
    let leading_run = leading_run_len(secret);
    let (preceded, searched) = match followed_by_runs(keywords, &hir) {
        Some((splits, searched)) => (Some(Cow::Owned(splits)), searched),
        None => (None, 0),
    };
    Ok(PatternFacts {
        keywords_start_every_token: keywords_start_every_token(keywords, secret),
        preceded,
        searched,
        leading_run,
        shape: run_shape(
            secret,
            leading_run,
            next_to_secret(&hir, Edge::First),
            next_to_secret(&hir, Edge::Last),
        ),
        min_secret_len: secret.properties().minimum_len().unwrap_or(0),
        named_in_key: named_in_key(&hir),
    })
}

/// A pattern as a syntax tree, with the same settings as the regex.
pub fn parse(pattern: &str) -> Result<Hir, Box<regex_syntax::Error>> {
    regex_syntax::ParserBuilder::new()
        .utf8(false)
        .unicode(false)
        .nest_limit(50)
        .build()
        .parse(pattern)
        .map_err(Box::new)
}

/// Whether every token `secret` matches starts with one of `keywords`.
fn keywords_start_every_token(keywords: &[impl AsRef<str>], secret: &Hir) -> bool {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    if keywords.is_empty() {
        return false;
    }
    let mut extractor = Extractor::new();
    // A class of up to 16 bytes is expanded (Twilio's `SK[0-9a-f]` gives
    // its 16 keywords); the default stops at 10, which left such rules in
    // the automaton with one literal per hex digit.
    extractor
        .kind(ExtractKind::Prefix)
        .limit_class(16)
        .limit_total(256);
    let seq = extractor.extract(secret);
    let Some(literals) = seq.literals() else {
        return false;
    };
    !literals.is_empty()
        && literals.iter().all(|literal| {
            keywords
                .iter()
                .any(|k| literal.as_bytes().starts_with(k.as_ref().as_bytes()))
        })
}

/// Shortest run a lookup before a run is made for: the engine visits runs
/// of 16 token characters or more (`MIN_PREFIX_RUN` in the compiler, which
/// checks that the two agree).
pub const MIN_PRECEDED_RUN: usize = 16;

/// Most branches a pattern is spelt out into (see [`branches`]); a pattern
/// with more is left to the keyword pass.
const MAX_BRANCHES: usize = 256;

/// A part of one branch of a pattern: literal bytes (neighbours merged), or
/// anything else.
enum Piece<'h> {
    Bytes(Vec<u8>),
    Node(&'h Hir),
}

/// The pattern as the branches its alternations and optional parts (`?`)
/// spell out, each a sequence whose literals every match of that branch
/// holds; `None` past [`MAX_BRANCHES`]. Every match of `hir` matches one
/// branch.
fn branches(hir: &Hir) -> Option<Vec<Vec<Piece<'_>>>> {
    let one = |piece| Some(vec![vec![piece]]);
    match hir.kind() {
        HirKind::Empty => Some(vec![Vec::new()]),
        HirKind::Literal(literal) => one(Piece::Bytes(literal.0.to_vec())),
        HirKind::Capture(c) => branches(&c.sub),
        HirKind::Concat(parts) => {
            let mut all = vec![Vec::new()];
            for part in parts {
                let tails = branches(part)?;
                if all.len() * tails.len() > MAX_BRANCHES {
                    return None;
                }
                let mut next = Vec::with_capacity(all.len() * tails.len());
                for head in &all {
                    for tail in &tails {
                        let mut joined: Vec<Piece> = head.iter().map(Piece::copy).collect();
                        for piece in tail {
                            push_merged(&mut joined, piece.copy());
                        }
                        next.push(joined);
                    }
                }
                all = next;
            }
            Some(all)
        }
        HirKind::Alternation(alternatives) => {
            let mut all = Vec::new();
            for alternative in alternatives {
                all.extend(branches(alternative)?);
                if all.len() > MAX_BRANCHES {
                    return None;
                }
            }
            Some(all)
        }
        HirKind::Repetition(r) if r.min == 0 && r.max == Some(1) => {
            let mut all = vec![Vec::new()];
            all.extend(branches(&r.sub)?);
            Some(all)
        }
        _ => one(Piece::Node(hir)),
    }
}

impl Piece<'_> {
    fn copy(&self) -> Self {
        match self {
            Piece::Bytes(bytes) => Piece::Bytes(bytes.clone()),
            Piece::Node(hir) => Piece::Node(hir),
        }
    }
}

/// Appends `piece`, joining literal bytes to literal bytes before them.
fn push_merged<'h>(pieces: &mut Vec<Piece<'h>>, piece: Piece<'h>) {
    match (pieces.last_mut(), piece) {
        (Some(Piece::Bytes(last)), Piece::Bytes(more)) => last.extend_from_slice(&more),
        (_, piece) => pieces.push(piece),
    }
}

/// How one branch can be found: the keywords its literals hold (one bit
/// each), and a lookup before a long run if one of them stands before one.
struct BranchCover {
    present: u64,
    preceded: Option<RunAfter>,
}

/// For one branch, the keywords its literals hold and the first lookup
/// before a run they give. The literal splits after a byte outside the
/// token alphabet: the keyword's last one (`hvs.`, `dp.pt.`: the keyword
/// up to there is looked up, as the keyword was written); else the last one
/// before the keyword in its literal (`.webhook.office.` before
/// `com/webhookb2/`); else the first one after it (`xoxe.` before
/// `xoxb-1-…`). What stands before the split is looked up right before a
/// run (a byte outside the alphabet ends the run before it), and the run
/// must be [`MIN_PRECEDED_RUN`] long in every match. Taken from the
/// literal, it must be two bytes at least: one common byte (`"`) would
/// send every run after it to the compares.
fn cover(keywords: &[impl AsRef<str>], branch: &[Piece]) -> BranchCover {
    let mut present = 0u64;
    let mut preceded = None;
    for (k, keyword) in keywords.iter().enumerate() {
        let keyword = keyword.as_ref().as_bytes();
        for (i, piece) in branch.iter().enumerate() {
            let Piece::Bytes(literal) = piece else {
                continue;
            };
            let Some(at) = literal.windows(keyword.len()).position(|w| w == keyword) else {
                continue;
            };
            present |= 1 << k;
            if preceded.is_none() {
                preceded = split_before_run(literal, at, keyword, &branch[i + 1..]);
            }
            break;
        }
    }
    BranchCover { present, preceded }
}

/// Where `keyword`, at `at` in `literal`, splits before a run, if the run
/// is long enough (see [`cover`]).
fn split_before_run(literal: &[u8], at: usize, keyword: &[u8], rest: &[Piece]) -> Option<RunAfter> {
    let end = at + keyword.len();
    let separator = |b: &u8| !is_token_byte(*b);
    let (from, split) = if let Some(last) = keyword.iter().rposition(separator) {
        (at, at + last + 1)
    } else if let Some(last) = literal[..at].iter().rposition(separator) {
        (0, last + 1)
    } else {
        (at, end + literal[end..].iter().position(separator)? + 1)
    };
    let before = &literal[from..split];
    if before.len() < 2 && !keyword.iter().any(separator) {
        return None;
    }
    let after = &literal[split..];
    let in_literal = after.iter().take_while(|&&b| is_token_byte(b)).count();
    let run = if in_literal == after.len() {
        in_literal + leading_run_of_pieces(rest)
    } else {
        in_literal
    };
    (run >= MIN_PRECEDED_RUN).then(|| {
        (
            Cow::Owned(before.to_vec()),
            Cow::Owned(literal[split..end.max(split)].to_vec()),
            run,
        )
    })
}

/// [`leading_run_of`] over the pieces of a branch.
fn leading_run_of_pieces(pieces: &[Piece]) -> usize {
    let mut total = 0;
    for piece in pieces {
        match piece {
            Piece::Bytes(bytes) => {
                let run = bytes.iter().take_while(|&&b| is_token_byte(b)).count();
                total += run;
                if run < bytes.len() {
                    return total;
                }
            }
            Piece::Node(hir) if run_class_only(hir) => {
                total += hir.properties().minimum_len().unwrap_or(0);
            }
            Piece::Node(hir) => return total + leading_run_len(hir),
        }
    }
    total
}

/// The lookups before runs that find the pattern's matches, and the
/// keywords the keyword pass must still search for the branches no long
/// run follows: `None` when no branch is found before a run, or a branch
/// holds none of the keywords in a literal (then what finds it is not
/// known here, and every keyword stays in the keyword pass).
fn followed_by_runs(keywords: &[impl AsRef<str>], hir: &Hir) -> Option<(Vec<RunAfter>, u64)> {
    if keywords.is_empty() || keywords.len() > 64 {
        return None;
    }
    let covers: Vec<BranchCover> = branches(hir)?
        .iter()
        .map(|branch| cover(keywords, branch))
        .collect();
    // Branches without a run after a keyword: one of their keywords is
    // searched (one already searched for another branch, if any).
    let mut searched = 0u64;
    for branch in covers.iter().filter(|c| c.preceded.is_none()) {
        if branch.present == 0 {
            return None;
        }
        if branch.present & searched == 0 {
            searched |= 1 << branch.present.trailing_zeros();
        }
    }
    // The others are looked up before their run, unless a keyword they
    // hold is searched anyway.
    let mut splits: Vec<RunAfter> = Vec::new();
    for branch in covers.iter().filter(|c| c.present & searched == 0) {
        let Some((before, begins, run)) = &branch.preceded else {
            continue;
        };
        // The same split in several branches: the shortest run holds.
        match splits
            .iter_mut()
            .find(|(b, s, _)| b == before && s == begins)
        {
            Some((_, _, shortest)) => *shortest = (*shortest).min(*run),
            None => splits.push((before.clone(), begins.clone(), *run)),
        }
    }
    (!splits.is_empty()).then_some((splits, searched))
}

/// The top-level sequence of `hir`, with capture groups opened.
fn flatten_concat<'h>(hir: &'h Hir, out: &mut Vec<&'h Hir>) {
    match hir.kind() {
        HirKind::Concat(parts) => parts.iter().for_each(|part| flatten_concat(part, out)),
        HirKind::Capture(c) => flatten_concat(&c.sub, out),
        _ => out.push(hir),
    }
}

/// The shape of the run `secret` starts, `min` long at least.
fn run_shape(secret: &Hir, min: usize, follows: ByteSet, precedes: ByteSet) -> RunShape {
    let mut parts = Vec::new();
    flatten_concat(secret, &mut parts);
    // The run ends where the secret ends, or at a part that cannot start
    // with a token character (`.` in `pat….hex`): then its longest is
    // known; a part that may continue it leaves it unbounded.
    let leading = parts
        .iter()
        .take_while(|part| run_class_only(part))
        .collect::<Vec<_>>();
    // The token bytes that may go on with the run after it.
    let goes_on = match parts.get(leading.len()) {
        None => follows,
        Some(next) => first_bytes(next),
    };
    let after = (0..=255u8)
        .filter(|&b| is_token_byte(b) && goes_on.contains(b))
        .fold(0, |kinds, b| kinds | byte_kind(b));
    let ends_there = parts.len() == leading.len() || after == 0;
    let max = if ends_there {
        leading.iter().try_fold(0usize, |total, part| {
            part.properties()
                .maximum_len()
                .map(|len| total.saturating_add(len))
        })
    } else {
        None
    };
    let held = bytes_in(secret);
    let kinds = (0..=255u8)
        .filter(|&b| held.contains(b))
        .fold(0, |kinds, b| kinds | byte_kind(b));
    // A token byte before the secret puts it inside a run (Infura's `v3/`
    // + key, in the run `io/v3/…`): the run then need not start as the
    // secret does, only hold such a byte.
    let inside = (0..=255u8)
        .filter(|&b| is_token_byte(b) && precedes.contains(b))
        .fold(0, |kinds, b| kinds | byte_kind(b));
    let (starts, may_be_empty) = edge_and_pass(secret, Edge::First);
    let first = (0..=255u8)
        .filter(|&b| may_be_empty || starts.contains(b))
        .fold(0, |kinds, b| kinds | byte_kind(b));
    RunShape {
        min,
        max: max.unwrap_or(usize::MAX),
        kinds,
        after,
        first,
        before: ascii_bits(precedes),
        inside,
    }
}

/// The bytes that may come right next to the secret group in a match
/// (over-approximated): after it (`Edge::First` of what follows; none past
/// the end of the text, `$`) or before it (`Edge::Last` of what precedes).
/// All of them when the match may end or start with the secret.
fn next_to_secret(hir: &Hir, edge: Edge) -> ByteSet {
    let mut parts = Vec::new();
    let known = match edge {
        Edge::First => parts_after_secret(hir, &mut parts),
        Edge::Last => parts_before_secret(hir, &mut parts),
    };
    match known.then(|| edge_of_sequence(&parts, edge)) {
        Some((bytes, false)) => bytes,
        _ => ByteSet::ALL,
    }
}

/// A byte set as one bit per byte below 128, or every bit when it holds a
/// byte above.
fn ascii_bits(set: ByteSet) -> u128 {
    if set.0[2] != 0 || set.0[3] != 0 {
        u128::MAX
    } else {
        u128::from(set.0[0]) | u128::from(set.0[1]) << 64
    }
}

/// The parts of the pattern's top-level sequence after the secret group,
/// with capture groups opened, into `out`; false when the secret is not in
/// that sequence.
fn parts_after_secret<'h>(hir: &'h Hir, out: &mut Vec<&'h Hir>) -> bool {
    match hir.kind() {
        HirKind::Capture(c) if c.name.as_deref() == Some("secret") => true,
        HirKind::Capture(c) => parts_after_secret(&c.sub, out),
        HirKind::Concat(parts) => {
            let Some(at) = parts.iter().position(|part| secret_group(part).is_some()) else {
                return false;
            };
            if !parts_after_secret(&parts[at], out) {
                return false;
            }
            out.extend(parts[at + 1..].iter());
            true
        }
        _ => false,
    }
}

/// Which end of a match [`edge_of_sequence`] reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Edge {
    First,
    Last,
}

/// The bytes a match of `parts` in sequence may start with (or end with,
/// for [`Edge::Last`]), and whether it may match nothing and let the byte
/// beyond it take that place.
fn edge_of_sequence<H: std::borrow::Borrow<Hir>>(parts: &[H], edge: Edge) -> (ByteSet, bool) {
    let mut bytes = ByteSet::default();
    let mut visit = |part: &H| {
        let (part_bytes, may_pass) = edge_and_pass(part.borrow(), edge);
        bytes = bytes.union(part_bytes);
        may_pass
    };
    let passes = match edge {
        Edge::First => parts.iter().all(&mut visit),
        Edge::Last => parts.iter().rev().all(&mut visit),
    };
    (bytes, passes)
}

/// [`edge_of_sequence`] of one part. The end of the text (`$`) lets no
/// byte follow, its start (`^`) none come before; the other look-arounds
/// are taken to allow any byte.
fn edge_and_pass(hir: &Hir, edge: Edge) -> (ByteSet, bool) {
    use regex_syntax::hir::Look;
    match hir.kind() {
        HirKind::Empty => (ByteSet::default(), true),
        HirKind::Look(Look::End) if edge == Edge::First => (ByteSet::default(), false),
        HirKind::Look(Look::Start) if edge == Edge::Last => (ByteSet::default(), false),
        HirKind::Look(_) => (ByteSet::ALL, false),
        HirKind::Literal(literal) => {
            let mut set = ByteSet::default();
            let byte = match edge {
                Edge::First => literal.0.first(),
                Edge::Last => literal.0.last(),
            };
            match byte {
                Some(&b) => {
                    set.insert(b);
                    (set, false)
                }
                None => (set, true),
            }
        }
        HirKind::Class(_) => (bytes_in(hir), false),
        HirKind::Repetition(r) => {
            let (bytes, may_pass) = edge_and_pass(&r.sub, edge);
            (bytes, may_pass || r.min == 0)
        }
        HirKind::Capture(c) => edge_and_pass(&c.sub, edge),
        HirKind::Concat(parts) => edge_of_sequence(parts, edge),
        HirKind::Alternation(parts) => {
            parts
                .iter()
                .fold((ByteSet::default(), false), |(set, pass), part| {
                    let (bytes, may_pass) = edge_and_pass(part, edge);
                    (set.union(bytes), pass || may_pass)
                })
        }
    }
}

/// A set of bytes, one bit each.
#[derive(Clone, Copy, Default)]
struct ByteSet([u64; 4]);

impl ByteSet {
    const ALL: ByteSet = ByteSet([u64::MAX; 4]);

    fn insert(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1 << (b & 63);
    }

    fn insert_range(&mut self, from: u8, to: u8) {
        for b in from..=to {
            self.insert(b);
        }
    }

    fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }

    fn union(mut self, other: ByteSet) -> ByteSet {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine |= theirs;
        }
        self
    }
}

/// The bytes a match of `hir` may start with (over-approximated: any byte
/// it may hold, unless it is a literal or a class).
fn first_bytes(hir: &Hir) -> ByteSet {
    match hir.kind() {
        HirKind::Literal(literal) => {
            let mut set = ByteSet::default();
            if let Some(&b) = literal.0.first() {
                set.insert(b);
            }
            set
        }
        HirKind::Class(_) => bytes_in(hir),
        HirKind::Capture(c) => first_bytes(&c.sub),
        _ if hir.properties().minimum_len() == Some(0) => ByteSet::ALL,
        _ => bytes_in(hir),
    }
}

/// Every byte that occurs in anything `hir` can match (over-approximated: a
/// look-around or an empty match holds none, a class what it holds). One
/// walk of the tree: asking it byte by byte, 256 walks per rule, was a
/// seventh of the start-up.
fn bytes_in(hir: &Hir) -> ByteSet {
    let mut set = ByteSet::default();
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(literal) => {
            for &b in literal.0.iter() {
                set.insert(b);
            }
        }
        HirKind::Class(Class::Bytes(class)) => {
            for range in class.ranges() {
                set.insert_range(range.start(), range.end());
            }
        }
        HirKind::Class(Class::Unicode(class)) => {
            for range in class.ranges() {
                if let Ok(from) = u8::try_from(u32::from(range.start())) {
                    let to = u8::try_from(u32::from(range.end())).unwrap_or(u8::MAX);
                    set.insert_range(from, to);
                }
            }
        }
        HirKind::Repetition(r) => set = bytes_in(&r.sub),
        HirKind::Capture(c) => set = bytes_in(&c.sub),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => {
            set = parts
                .iter()
                .fold(ByteSet::default(), |set, part| set.union(bytes_in(part)));
        }
    }
    set
}

/// The fewest bytes every match of `hir` starts with that are all in the
/// token alphabet: how long a run a token is sure to start.
fn leading_run_len(hir: &Hir) -> usize {
    match hir.kind() {
        HirKind::Concat(parts) => leading_run_of(parts),
        HirKind::Capture(c) => leading_run_len(&c.sub),
        // `eyJ0eXAiOiAiVENWMiJ9.`: the token bytes before the separator.
        HirKind::Literal(literal) => literal.0.iter().take_while(|&&b| is_token_byte(b)).count(),
        _ if run_class_only(hir) => hir.properties().minimum_len().unwrap_or(0),
        _ => 0,
    }
}

/// [`leading_run_len`] of a sequence.
fn leading_run_of<H: std::borrow::Borrow<Hir>>(parts: &[H]) -> usize {
    let mut total = 0;
    for part in parts {
        let part = part.borrow();
        if run_class_only(part) {
            total += part.properties().minimum_len().unwrap_or(0);
        } else {
            return total + leading_run_len(part);
        }
    }
    total
}

/// Whether every byte `hir` can match is in the token alphabet.
fn run_class_only(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(literal) => literal.0.iter().all(|&b| is_token_byte(b)),
        HirKind::Class(Class::Bytes(class)) => class
            .ranges()
            .iter()
            .all(|r| (r.start()..=r.end()).all(is_token_byte)),
        HirKind::Class(Class::Unicode(class)) => class.ranges().iter().all(|r| {
            (r.end() as u32) < 0x80 && (r.start() as u8..=r.end() as u8).all(is_token_byte)
        }),
        HirKind::Repetition(r) => run_class_only(&r.sub),
        HirKind::Capture(c) => run_class_only(&c.sub),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => parts.iter().all(run_class_only),
    }
}

/// Whether a byte can be part of a key's name: `DD_API_KEY`,
/// `datadog.api-key`, `datadogApiKey`.
pub const fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// Whether every match of the pattern is a key's name, then at least one
/// byte that cannot be in a name (quotes, spaces, `:`, `=`, `,`), then the
/// secret: `datadog_api_key = "…"`, `"DD_APP_KEY": "…"`. Read back from
/// the secret, such a match is the stretch of non-name bytes before it and
/// the stretch of name bytes before that, so a context word that is part
/// of the match stands inside that name: the lookup reads only there.
pub fn named_in_key(hir: &Hir) -> bool {
    let mut before = Vec::new();
    if !parts_before_secret(hir, &mut before) {
        return false;
    }
    // `(?:name = |hapikey=)(?P<secret>…)`: every branch must be of the form.
    match before.split_last() {
        Some((last, rest)) => match last.kind() {
            HirKind::Alternation(branches) => branches.iter().all(|branch| {
                let mut parts = rest.to_vec();
                flatten_concat(branch, &mut parts);
                name_then_gap(&parts)
            }),
            _ => name_then_gap(&before),
        },
        None => false,
    }
}

/// Whether `parts` are a name (after at most a one-byte boundary), then
/// at least one byte that cannot be in a name: see [`named_in_key`].
fn name_then_gap(parts: &[&Hir]) -> bool {
    // (the bytes it may hold, its shortest and longest match), literals
    // byte by byte: `hapikey=` is a name and a gap.
    let mut pieces: Vec<(ByteSet, usize, Option<usize>)> = Vec::new();
    for part in parts {
        match part.kind() {
            HirKind::Literal(literal) => pieces.extend(literal.0.iter().map(|&b| {
                let mut set = ByteSet::default();
                set.insert(b);
                (set, 1, Some(1))
            })),
            _ => pieces.push((
                bytes_in(part),
                part.properties().minimum_len().unwrap_or(0),
                part.properties().maximum_len(),
            )),
        }
    }
    let all_in = |held: &ByteSet, name: bool| {
        (0..=255u8).all(|b| !held.contains(b) || is_name_byte(b) == name)
    };
    // The separators, back from the secret: at least one byte of them.
    let gap = pieces
        .iter()
        .rev()
        .take_while(|(held, _, _)| all_in(held, false))
        .count();
    let gap_len: usize = pieces[pieces.len() - gap..].iter().map(|p| p.1).sum();
    // A leading boundary of one byte (`(?:^|[^A-Za-z0-9])`) may be
    // anything: a word of three bytes or more cannot stand inside it.
    let name = &pieces[..pieces.len() - gap];
    let name = match name.first() {
        Some((held, _, longest)) if !all_in(held, true) && *longest <= Some(1) => &name[1..],
        _ => name,
    };
    gap_len > 0 && name.iter().all(|(held, _, _)| all_in(held, true))
}

/// The parts of the pattern's top-level sequence before the secret group,
/// with capture groups opened; false when the secret is not in that
/// sequence.
fn parts_before_secret<'h>(hir: &'h Hir, out: &mut Vec<&'h Hir>) -> bool {
    match hir.kind() {
        HirKind::Capture(c) if c.name.as_deref() == Some("secret") => true,
        HirKind::Capture(c) => parts_before_secret(&c.sub, out),
        HirKind::Concat(parts) => {
            for part in parts {
                if parts_before_secret(part, out) {
                    return true;
                }
                if secret_group(part).is_some() {
                    return false;
                }
            }
            false
        }
        _ => {
            out.push(hir);
            false
        }
    }
}

/// The capture group named `secret`, if the pattern has one.
pub fn secret_group(hir: &Hir) -> Option<&Hir> {
    match hir.kind() {
        HirKind::Capture(c) if c.name.as_deref() == Some("secret") => Some(&c.sub),
        HirKind::Capture(c) => secret_group(&c.sub),
        HirKind::Repetition(r) => secret_group(&r.sub),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => parts.iter().find_map(secret_group),
        _ => None,
    }
}
