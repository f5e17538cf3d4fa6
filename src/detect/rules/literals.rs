//! The literals of the keyword pass's SIMD search: which part of each
//! keyword is searched for, and in which order the parts are given to it.
//!
//! The search is Teddy (`aho_corasick::packed`): every 32 bytes of text are
//! tested against a fingerprint of each literal's first [`FINGERPRINT`]
//! bytes, kept per bucket of literals as the set of low and of high nibbles
//! at each place, and a literal is compared only where its bucket's
//! fingerprint matched. The test costs the same whatever the literals; the
//! compares and the branches they mispredict are what the literals decide.
//! Literals that start with common letters match often (`cont` of
//! `contribsys.com` in every `content`), and a bucket of literals whose
//! nibbles combine into common bytes matches words none of them is (`ma`
//! and `re` make `me` and `ra` too). So each literal starts at its rarest
//! four bytes, and the literals are ordered so that the buckets Teddy makes
//! of them match as little ordinary text as can be found: together, on the
//! generated corpus, 8,385 matched places in 3 MB became 59, and on the
//! sources of azure-pipelines-tasks 6,937 became 1,976.

/// Teddy's longest fingerprint: literals shorter than this shorten it.
pub(super) const FINGERPRINT: usize = 4;

/// Slim Teddy's buckets.
const BUCKETS: usize = 8;
/// The most literals slim Teddy takes: more take the fat one (16 buckets),
/// more than 64 no Teddy at all. The order is worked out for the slim one
/// only; for more literals (custom rules' keywords) it would cost the
/// start-up the square of their number and model the wrong buckets.
const SLIM_LITERALS: usize = 32;

/// A literal of the SIMD pass and the keywords it stands for: (where the
/// literal is in the keyword, which keyword).
pub(super) type SharedLiteral = (Vec<u8>, Vec<(usize, usize)>);

/// Fewer literals for the SIMD pass: keywords that share FINGERPRINT
/// bytes or more are searched as one literal, the longest part that all of
/// them share around a 4-byte part held by the most keywords (`assword` for
/// `Password=`, `password=` and `rTextPassword`; `duffel_` for
/// `duffel_live_` and `duffel_test_`). Returns each literal with the
/// keywords it stands for: (where the literal is in the keyword, which
/// keyword). No literal contains another, so none can hide another in a
/// leftmost-first search. Runs at every start-up: 4-byte parts sorted, not
/// keywords compared in pairs (that was 6 million instructions).
pub(super) fn shared_literals(keywords: &[&[u8]]) -> Vec<SharedLiteral> {
    let mut literals: Vec<SharedLiteral> = Vec::new();
    // Each keyword's 4-byte parts, its first place for each, sorted once so
    // that equal parts are neighbours.
    let mut parts: Vec<(&[u8], usize, usize)> = Vec::new();
    for (k, keyword) in keywords.iter().enumerate() {
        for (at, part) in keyword.windows(FINGERPRINT).enumerate() {
            parts.push((part, k, at));
        }
    }
    parts.sort_unstable();
    parts.dedup_by(|b, a| a.0 == b.0 && a.1 == b.1);
    let mut covered = vec![false; keywords.len()];
    loop {
        // The part the most keywords not yet covered hold (the first such,
        // for a stable choice).
        let mut best: Vec<(usize, usize)> = Vec::new();
        let mut start = 0;
        while start < parts.len() {
            let end = start
                + parts[start..]
                    .iter()
                    .take_while(|p| p.0 == parts[start].0)
                    .count();
            let holding = parts[start..end].iter().filter(|p| !covered[p.1]).count();
            if holding > best.len() {
                best = (parts[start..end].iter())
                    .filter(|p| !covered[p.1])
                    .map(|&(_, k, at)| (k, at))
                    .collect();
            }
            start = end;
        }
        if best.len() < 2 {
            break;
        }
        let holders = best;
        // Widened while every holder has the same byte on that side.
        let (first, at) = holders[0];
        let same = |offset: usize| {
            holders.iter().all(|&(k, place)| {
                keywords[k].get(place + offset) == keywords[first].get(at + offset)
            })
        };
        let mut right = FINGERPRINT;
        while at + right < keywords[first].len() && same(right) {
            right += 1;
        }
        let mut left = 0;
        while holders.iter().all(|&(_, place)| place > left)
            && holders
                .iter()
                .all(|&(k, place)| keywords[k][place - left - 1] == keywords[first][at - left - 1])
        {
            left += 1;
        }
        for &(k, _) in &holders {
            covered[k] = true;
        }
        literals.push((
            keywords[first][at - left..at + right].to_vec(),
            holders
                .iter()
                .map(|&(k, place)| (place - left, k))
                .collect(),
        ));
    }
    let uncovered = (0..keywords.len()).filter(|&k| !covered[k]);
    for k in uncovered {
        literals.push((keywords[k].to_vec(), vec![(0, k)]));
    }
    // Each literal from its rarest four bytes: Teddy fingerprints a
    // literal's first four, and `cont` of `contribsys.com` stood in every
    // `content` and `contains`. The keyword is still checked whole.
    for (literal, of) in &mut literals {
        let start = rarest_start(literal);
        literal.drain(..start);
        for (offset, _) in of.iter_mut() {
            *offset += start;
        }
    }
    // A literal that contains another hands its keywords to the shorter,
    // which stands wherever the longer does. (Taking the most-held part
    // first leaves none such; kept for the guarantee.)
    let find = |haystack: &[u8], needle: &[u8]| {
        haystack
            .windows(needle.len())
            .position(|window| window == needle)
    };
    loop {
        let pair = (0..literals.len()).find_map(|long| {
            (0..literals.len())
                .filter(|&short| short != long)
                .find_map(|short| {
                    find(&literals[long].0, &literals[short].0).map(|at| (long, short, at))
                })
        });
        let Some((long, short, at)) = pair else {
            break;
        };
        let (_, moved) = literals.remove(long);
        let short = if short > long { short - 1 } else { short };
        literals[short]
            .1
            .extend(moved.into_iter().map(|(offset, k)| (offset + at, k)));
    }
    literals
}

/// Where `literal` is best searched from: the place whose first
/// [`FINGERPRINT`] bytes are least common (by [`text_frequency`]), but where
/// what is left of the literal is not so short that it stands in ordinary
/// text for itself: a whole literal found leaves the SIMD loop and costs
/// about ten fingerprint matches (`word`, the rarest four of `assword`,
/// is in every `keyword`). The first such place on a tie.
fn rarest_start(literal: &[u8]) -> usize {
    const WHOLE_MATCH_COST: f64 = 10.0;
    let frequency = |bytes: &[u8]| -> f64 { bytes.iter().map(|&b| text_frequency(b)).product() };
    let mut best = (0, f64::INFINITY);
    for start in 0..=literal.len().saturating_sub(FINGERPRINT) {
        let rest = &literal[start..];
        let cost =
            frequency(&rest[..FINGERPRINT.min(rest.len())]) + WHOLE_MATCH_COST * frequency(rest);
        if cost < best.1 {
            best = (start, cost);
        }
    }
    best.0
}

/// A literal as Teddy's buckets see it: the low and the high nibbles of
/// its first [`FINGERPRINT`] bytes, one bit each per place, and the low
/// nibbles together (literals with the same share a bucket).
#[derive(Clone, Copy)]
struct Fingerprint {
    low: [u16; FINGERPRINT],
    high: [u16; FINGERPRINT],
    low_nibbles: u16,
    /// Whether another literal has the same `low_nibbles` (then Teddy puts
    /// the two in one bucket).
    shares_low_nibbles: bool,
}

impl Fingerprint {
    fn of(literal: &[u8]) -> Fingerprint {
        let mut fingerprint = Fingerprint {
            low: [0; FINGERPRINT],
            high: [0; FINGERPRINT],
            low_nibbles: 0,
            shares_low_nibbles: false,
        };
        for (place, &b) in literal.iter().take(FINGERPRINT).enumerate() {
            fingerprint.low[place] = 1 << (b & 15);
            fingerprint.high[place] = 1 << (b >> 4);
            fingerprint.low_nibbles |= u16::from(b & 15) << (4 * place);
        }
        fingerprint
    }
}

/// The order to give `literals` to Teddy in: a permutation of their
/// indices, whose buckets (see [`Buckets`]) match few places of
/// ordinary text by [`text_frequency`], found by one pass of swapping pairs
/// where a swap helps. (On the built-in literals a second pass improved
/// the estimate by a sixth and the matches counted on real text not at
/// all.) A better order only makes the search faster: which literals share
/// a bucket never changes what is found. Runs at every start-up, in about
/// 300,000 instructions for two dozen literals.
pub(super) fn teddy_order(literals: &[Vec<u8>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..literals.len()).collect();
    if literals.len() <= BUCKETS || literals.len() > SLIM_LITERALS {
        return order;
    }
    let fingerprints = fingerprints(literals);
    let frequency = nibble_frequency();
    let mut places = Vec::with_capacity(order.len());
    let mut current = Buckets::of(&fingerprints, &order, &frequency, &mut places, None);
    for i in 0..order.len() {
        for j in i + 1..order.len() {
            order.swap(i, j);
            let trial = Buckets::of(
                &fingerprints,
                &order,
                &frequency,
                &mut places,
                Some(&current),
            );
            if trial.matches() < current.matches() {
                current = trial;
            } else {
                order.swap(i, j);
            }
        }
    }
    order
}

fn fingerprints(literals: &[Vec<u8>]) -> Vec<Fingerprint> {
    let mut fingerprints: Vec<Fingerprint> = literals.iter().map(|l| Fingerprint::of(l)).collect();
    for i in 0..fingerprints.len() {
        let low = fingerprints[i].low_nibbles;
        fingerprints[i].shares_low_nibbles =
            (fingerprints.iter().enumerate()).any(|(j, other)| j != i && other.low_nibbles == low);
    }
    fingerprints
}

/// The bucket of each place in `order`, as aho-corasick 1.1's Teddy
/// assigns them: literals whose first [`FINGERPRINT`] bytes have the same
/// low nibbles share one; any other goes to bucket `7 - i % 8` for its
/// place `i`. (Should a later version assign them otherwise, the order is
/// merely no longer the best.)
fn teddy_buckets(fingerprints: &[Fingerprint], order: &[usize], buckets: &mut Vec<usize>) {
    buckets.clear();
    for (i, &literal) in order.iter().enumerate() {
        let fingerprint = &fingerprints[literal];
        let earlier = fingerprint.shares_low_nibbles.then(|| {
            (order[..i].iter().zip(buckets.iter()))
                .find(|(&other, _)| fingerprints[other].low_nibbles == fingerprint.low_nibbles)
        });
        let earlier = earlier.flatten();
        buckets.push(match earlier {
            Some((_, &bucket)) => bucket,
            None => BUCKETS - 1 - i % BUCKETS,
        });
    }
}

/// [`text_frequency`] by high nibble, then low.
fn nibble_frequency() -> [[f64; 16]; 16] {
    let mut table = [[0.0; 16]; 16];
    for (high, row) in table.iter_mut().enumerate() {
        for (low, frequency) in row.iter_mut().enumerate() {
            *frequency = text_frequency((high << 4 | low) as u8);
        }
    }
    table
}

/// Teddy's buckets of an order: each one's fingerprint (the low and the
/// high nibbles of its literals at each place) and how often, by
/// [`text_frequency`], it matches four bytes of text: the product over the
/// places of the frequency of the bytes whose low and high nibbles are both
/// among its literals' there.
struct Buckets {
    low: [[u16; FINGERPRINT]; BUCKETS],
    high: [[u16; FINGERPRINT]; BUCKETS],
    matches: [f64; BUCKETS],
}

impl Buckets {
    /// The buckets of `order`; those with the same fingerprint as in
    /// `known` take its estimate (a swap changes two buckets at most).
    /// `places`: room for [`teddy_buckets`], kept between calls.
    fn of(
        fingerprints: &[Fingerprint],
        order: &[usize],
        frequency: &[[f64; 16]; 16],
        places: &mut Vec<usize>,
        known: Option<&Buckets>,
    ) -> Buckets {
        teddy_buckets(fingerprints, order, places);
        let mut buckets = Buckets {
            low: [[0; FINGERPRINT]; BUCKETS],
            high: [[0; FINGERPRINT]; BUCKETS],
            matches: [0.0; BUCKETS],
        };
        for (&literal, &bucket) in order.iter().zip(places.iter()) {
            let fingerprint = &fingerprints[literal];
            for place in 0..FINGERPRINT {
                buckets.low[bucket][place] |= fingerprint.low[place];
                buckets.high[bucket][place] |= fingerprint.high[place];
            }
        }
        for bucket in 0..BUCKETS {
            let (low, high) = (&buckets.low[bucket], &buckets.high[bucket]);
            buckets.matches[bucket] = match known {
                Some(known) if known.low[bucket] == *low && known.high[bucket] == *high => {
                    known.matches[bucket]
                }
                _ => fingerprint_matches(low, high, frequency),
            };
        }
        buckets
    }

    fn matches(&self) -> f64 {
        self.matches.iter().sum()
    }
}

/// How often a bucket's fingerprint (its nibbles at each place) matches
/// four bytes of text by [`text_frequency`]; 0 for an empty bucket.
fn fingerprint_matches(
    low: &[u16; FINGERPRINT],
    high: &[u16; FINGERPRINT],
    frequency: &[[f64; 16]; 16],
) -> f64 {
    let mut product = 1.0;
    for (&low, &high) in low.iter().zip(high) {
        let mut sum = 0.0;
        let mut highs = high;
        while highs != 0 {
            let row = &frequency[highs.trailing_zeros() as usize];
            highs &= highs - 1;
            let mut lows = low;
            while lows != 0 {
                sum += row[lows.trailing_zeros() as usize];
                lows &= lows - 1;
            }
        }
        product *= sum;
    }
    product
}

/// How often a byte occurs in source text, as a share of all bytes:
/// measured on 8 MB of the sources of microsoft/azure-pipelines-tasks
/// (TypeScript, JSON, Markdown, localised strings), rounded to parts in
/// 10,000. A byte not listed was rarer than 3 in 10,000 (2 is taken); each
/// byte above ASCII about 7 (they were 9% of the text together).
fn text_frequency(b: u8) -> f64 {
    f64::from(TEXT_FREQUENCY[usize::from(b)]) / 10_000.0
}

/// [`text_frequency`] in parts in 10,000, by byte.
static TEXT_FREQUENCY: [u16; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = parts_in_10000(b as u8);
        b += 1;
    }
    table
};

const fn parts_in_10000(b: u8) -> u16 {
    match b {
        b' ' => 1533,
        b'e' => 661,
        b't' => 411,
        b's' => 390,
        b'o' => 373,
        b'i' => 365,
        b'r' => 350,
        b'n' => 348,
        b'a' => 339,
        b'"' => 302,
        b'l' => 270,
        b'c' => 219,
        b'.' => 198,
        b'p' => 197,
        b'u' => 188,
        b'\n' => 178,
        b'd' => 174,
        b'm' => 145,
        b'g' => 126,
        b':' => 109,
        b'h' => 97,
        b',' => 94,
        b'/' => 92,
        b'-' => 77,
        b'f' => 72,
        b'b' => 70,
        b'=' => 66,
        b'v' => 64,
        b'T' | b'y' => 60,
        b'S' => 57,
        b'A' => 56,
        b'k' => 52,
        b'P' => 51,
        b'I' => 48,
        b'N' | b'\'' => 46,
        b'E' => 45,
        b'R' => 42,
        b'C' | b'1' => 40,
        b')' | b'(' => 39,
        b'0' => 37,
        b'w' => 36,
        b'z' => 34,
        b'{' | b'}' => 33,
        b'M' | b'O' => 32,
        b'D' | b'F' => 31,
        b'_' => 29,
        b';' | b'2' => 26,
        b'x' | b'L' => 23,
        b'$' => 21,
        b'U' | b'V' => 19,
        b'3' => 17,
        b'\\' | b'G' | b'4' | b'W' => 16,
        b'5' | b'H' | b'j' => 15,
        b'B' | b'6' => 14,
        b'q' | b'>' | b'8' => 13,
        b'7' | b']' | b'[' => 12,
        b'%' | b'9' => 10,
        b'*' | b'<' | b'K' => 9,
        b'Y' | b'J' => 7,
        b'#' | b'`' | b'^' | b'+' | b'X' => 6,
        b'Q' | b'@' | b'Z' => 5,
        b'\0' => 4,
        b'|' | b'&' | b'\t' | b'!' | b'?' => 3,
        0x80.. => 7,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(texts: &[&str]) -> Vec<Vec<u8>> {
        texts.iter().map(|t| t.as_bytes().to_vec()).collect()
    }

    #[test]
    fn a_shared_literal_never_contains_another() {
        // `assword` for the first two and `word` for the others would let
        // `word` hide inside `assword`: the part all four hold is taken.
        let keywords: Vec<&[u8]> = vec![b"Password=", b"password=", b"wordlist", b"a-word"];
        let literals = shared_literals(&keywords);
        assert_eq!(literals.len(), 1);
        assert_eq!(literals[0].0, b"word");
        for (i, (a, _)) in literals.iter().enumerate() {
            for (j, (b, _)) in literals.iter().enumerate() {
                assert!(i == j || !a.windows(b.len()).any(|w| w == b.as_slice()));
            }
        }
        let keywords = &keywords;
        let mut covered: Vec<usize> = literals
            .iter()
            .flat_map(|(literal, of)| {
                of.iter().map(move |&(offset, k)| {
                    assert_eq!(
                        &keywords[k][offset..offset + literal.len()],
                        literal.as_slice()
                    );
                    k
                })
            })
            .collect();
        covered.sort();
        assert_eq!(covered, vec![0, 1, 2, 3]);
        assert!(literals.len() < keywords.len());
    }

    #[test]
    fn a_literal_starts_at_its_rarest_four_bytes() {
        assert_eq!(rarest_start(b"contribsys.com"), 5, "`ibsy`, not `cont`");
        assert_eq!(rarest_start(b"AKIA"), 0);
        // `word` is rarer than `assw`, but alone it would match in every
        // `keyword` and `words`.
        assert_eq!(rarest_start(b"assword"), 0);
        assert_eq!(rarest_start(b"username"), 3, "`rname`, not `user`");
        // Ties go to the first place.
        assert_eq!(rarest_start(b"zzzzzz"), 0);
    }

    /// The order is a permutation, and Teddy's buckets of it match no more
    /// text than those of the literals as given, and here far less: every
    /// common literal alone with rare ones.
    #[test]
    fn the_bucket_order_is_a_permutation_that_matches_less_text() {
        // Given so that the common ones share buckets (places i, i + 8
        // and i + 16 do).
        let literals = bytes(&[
            "ress", "ance", "ally", "ward", "AKIA", "ASIA", "xoxe", "eyv1", "tion", "ence", "ious",
            "ship", "5Aep", "T3Bl", "Q~zq", "!AQ#", "ment", "able",
        ]);
        let order = teddy_order(&literals);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..literals.len()).collect::<Vec<_>>());
        let fingerprints = fingerprints(&literals);
        let given: Vec<usize> = (0..literals.len()).collect();
        let matches = |order: &[usize]| {
            Buckets::of(
                &fingerprints,
                order,
                &nibble_frequency(),
                &mut Vec::new(),
                None,
            )
            .matches()
        };
        let (before, after) = (matches(&given), matches(&order));
        assert!(after < before / 2.0, "{before} to {after}");
    }

    /// Past slim Teddy's 32 literals the order is left as given: the
    /// model is of its buckets, and the swaps would cost the start-up the
    /// square of the literals.
    #[test]
    fn more_literals_than_slim_teddy_takes_keep_their_order() {
        let literals: Vec<Vec<u8>> = (0..40u8)
            .map(|i| vec![b'a' + i % 26, b'q', i, b'z'])
            .collect();
        assert_eq!(teddy_order(&literals), (0..40).collect::<Vec<_>>());
        assert_ne!(teddy_order(&literals[..20]), (0..20).collect::<Vec<_>>());
    }

    /// Literals with the same low nibbles share a bucket whatever their
    /// places, as Teddy puts them.
    #[test]
    fn literals_with_the_same_low_nibbles_share_a_bucket() {
        // `P` is 0x50 and `p` 0x70: the same low nibbles.
        let literals = bytes(&[
            "Pwd=", "abcd", "bcde", "cdef", "defg", "efgh", "fghi", "ghij", "hijk", "pwd=",
        ]);
        let fingerprints = fingerprints(&literals);
        let order: Vec<usize> = (0..literals.len()).collect();
        let mut buckets = Vec::new();
        teddy_buckets(&fingerprints, &order, &mut buckets);
        // The first eight by place, from 7 down; the ninth wraps around;
        // the tenth joins the first.
        assert_eq!(buckets, [7, 6, 5, 4, 3, 2, 1, 0, 7, 7]);
    }
}
