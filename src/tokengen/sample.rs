//! Random strings drawn from a rule's own pattern: what the `secret` group
//! (or the whole pattern) matches, a character class at a time. No
//! checksum is computed here: a draw has the format's shape, and only the
//! test suite's generator (`from_rule`, test support only) rewrites check
//! characters so that a checksum holds.

use regex_automata::{meta, Input};
use regex_syntax::hir::{Class, Hir, HirKind};

use super::TokenRng;

/// Extra repetitions drawn for an unbounded `*` or `+`.
const UNBOUNDED_EXTRA: u32 = 24;

/// A rule's pattern, ready to draw from.
pub struct Pattern {
    secret: Hir,
    regex: meta::Regex,
}

impl Pattern {
    /// `None` for a pattern that does not parse (a rule set that compiled
    /// has none).
    pub fn new(pattern: &str) -> Option<Pattern> {
        let hir = regex_syntax::ParserBuilder::new()
            .utf8(false)
            .unicode(false)
            .build()
            .parse(pattern)
            .ok()?;
        let secret = find_secret(&hir).unwrap_or(&hir).clone();
        // A token is checked against the `secret` group alone: many
        // patterns need a name before the token (context and generic rules,
        // `BUNDLE_…=`), which a bare drawn token lacks. The examples then
        // check the whole pattern around it.
        let regex = meta::Builder::new()
            .configure(meta::Config::new().utf8_empty(false))
            .build_from_hir(&secret)
            .ok()?;
        Some(Pattern { secret, regex })
    }

    /// A random string the `secret` group matches (see [`Self::matches_whole`]:
    /// an anchor or a look-around can still refuse it).
    pub fn draw(&self, rng: &mut TokenRng) -> Vec<u8> {
        let mut token = Vec::new();
        sample(&self.secret, rng, &mut token);
        token
    }

    /// Whether the `secret` group, searched in `token`, is all of it.
    pub fn matches_whole(&self, token: &[u8]) -> bool {
        let mut caps = self.regex.create_captures();
        self.regex.search_captures(&Input::new(token), &mut caps);
        let group = self
            .regex
            .group_info()
            .to_index(regex_automata::PatternID::ZERO, "secret");
        let span = match group {
            Some(group) => caps.get_group(group),
            None => caps.get_match().map(|m| m.span()),
        };
        span.is_some_and(|s| s.start == 0 && s.end == token.len())
    }
}

fn find_secret(hir: &Hir) -> Option<&Hir> {
    match hir.kind() {
        HirKind::Capture(capture) if capture.name.as_deref() == Some("secret") => Some(hir),
        HirKind::Capture(capture) => find_secret(&capture.sub),
        HirKind::Repetition(repetition) => find_secret(&repetition.sub),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => parts.iter().find_map(find_secret),
        _ => None,
    }
}

/// Appends a random string that `hir` matches.
fn sample(hir: &Hir, rng: &mut TokenRng, out: &mut Vec<u8>) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(literal) => out.extend_from_slice(&literal.0),
        HirKind::Class(class) => out.push(pick_from_class(class, rng)),
        HirKind::Repetition(repetition) => {
            let max = repetition
                .max
                .unwrap_or(repetition.min + UNBOUNDED_EXTRA)
                .max(repetition.min);
            // Half the draws at the shortest length: real tokens mostly have
            // one fixed length, the pattern's lower bound.
            let count = if rng.below(2) == 0 {
                repetition.min
            } else {
                repetition.min + rng.below(u64::from(max - repetition.min) + 1) as u32
            };
            for _ in 0..count {
                sample(&repetition.sub, rng, out);
            }
        }
        HirKind::Capture(capture) => sample(&capture.sub, rng, out),
        HirKind::Concat(parts) => parts.iter().for_each(|part| sample(part, rng, out)),
        HirKind::Alternation(parts) => {
            let i = rng.below(parts.len() as u64) as usize;
            sample(&parts[i], rng, out);
        }
    }
}

/// A random byte of `class`, printable ASCII where the class has any.
fn pick_from_class(class: &Class, rng: &mut TokenRng) -> u8 {
    let ranges: Vec<(u8, u8)> = match class {
        Class::Bytes(bytes) => bytes
            .ranges()
            .iter()
            .map(|r| (r.start(), r.end()))
            .collect(),
        Class::Unicode(chars) => chars
            .ranges()
            .iter()
            .filter(|r| (r.start() as u32) < 0x80)
            .map(|r| (r.start() as u8, (r.end() as u32).min(0x7F) as u8))
            .collect(),
    };
    let printable: Vec<(u8, u8)> = ranges
        .iter()
        .filter_map(|&(lo, hi)| {
            let (lo, hi) = (lo.max(0x21), hi.min(0x7E));
            (lo <= hi).then_some((lo, hi))
        })
        .collect();
    let ranges = if printable.is_empty() {
        ranges
    } else {
        printable
    };
    let total: u64 = ranges.iter().map(|&(lo, hi)| u64::from(hi - lo) + 1).sum();
    let mut i = rng.below(total.max(1));
    for &(lo, hi) in &ranges {
        let size = u64::from(hi - lo) + 1;
        if i < size {
            return lo + i as u8;
        }
        i -= size;
    }
    b'a'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draw_matches_the_secret_group_and_keeps_its_shape() {
        let pattern = Pattern::new(r"key=(?P<secret>acme_[a-f0-9]{24})\b").expect("parses");
        let mut rng = TokenRng::new(7);
        for _ in 0..50 {
            let token = pattern.draw(&mut rng);
            assert_eq!(token.len(), 29);
            assert!(token.starts_with(b"acme_"));
            assert!(token[5..].iter().all(|b| b"0123456789abcdef".contains(b)));
            assert!(pattern.matches_whole(&token));
        }
        assert!(!pattern.matches_whole(b"acme_short"));
        assert!(Pattern::new("(").is_none());
    }
}
