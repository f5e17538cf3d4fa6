//! Which rule's finding stands when two rules claim the same secret.
//!
//! Rules overlap by design: a connection string's `Password=` parser sees
//! every password, a GitHub token among them; the AWS secret-key rule takes
//! any 40 characters after `aws_secret_access_key`, a Yandex Cloud key
//! (`YC…`) among them; Stripe's `sk_live_` rule takes a Clerk or Paystack key
//! of the same shape. One secret must give one finding, and it must be the
//! one that says the most about it. So each hit is ranked by the evidence
//! behind it, and where two hits claim the same bytes only the higher
//! ranked stands:
//!
//! 1. **class**: an opt-in keyword-assignment (generic) rule is below a
//!    container parser (a connection string's or credential file's
//!    password, a URL's), which is below a format rule (a token's own
//!    shape: prefixed tokens, named keys, private keys, JWTs);
//! 2. **checksum**: the issuer's checksum held (the strongest proof of a
//!    format: nothing else is that token);
//! 3. **own literal**: the token itself carries its issuer's literal (a
//!    prefix such as `YC`, `sk_live_`, `ghp_`, or a signature inside it such
//!    as `JQQJ99`), rather than being any string of its alphabet;
//! 4. **named**: the rule also requires its provider's name or field next to
//!    the token (context words, `AccountEndpoint=…documents.azure.com`);
//! 5. the finding's confidence, then the longer span (the more of the
//!    secret it covers), then the rule id, so the outcome never depends on
//!    the order in which rules or hits come.
//!
//! What counts as "the same secret": two plain hits whose spans share a
//! byte; a container's password and a token over the same bytes, plain or
//! decoded (`.docker/config.json`'s base64 `auth` holding a GitHub token,
//! the same inside a Kubernetes secret); otherwise, two hits decoded from
//! the same base64 or percent-encoded run only when their decoded secrets
//! are equal or one holds the other (one run can hold several different
//! tokens), and a plain hit and a decoded one never (the text and what it
//! decodes to are two different things).

use std::cmp::Ordering;

use regex_syntax::hir::{Hir, HirKind};

use crate::model::Confidence;
use crate::rules::facts::{self, secret_group};
use crate::rules::{OptIn, ParserKind, RuleSpec};

/// The kind of rule, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// An opt-in keyword-assignment rule (`--generic`).
    Generic,
    /// A parser that reports whatever password stands in a container (a
    /// connection string, a URL, a credential file).
    Container,
    /// A rule for one format.
    Format,
}

/// What a rule's definition says about its findings, whatever the hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleEvidence {
    pub class: Class,
    /// The token itself holds a literal of the rule (a prefix, a signature).
    pub own_literal: bool,
    /// The rule requires its provider's name or field next to the token.
    pub named: bool,
}

impl Class {
    /// The kind of `spec` (cheap: no pattern is read).
    pub fn of(spec: &RuleSpec) -> Class {
        if spec.opt_in == Some(OptIn::Generic) {
            Class::Generic
        } else if matches!(
            spec.parser,
            Some(
                ParserKind::ConnectionUrl
                    | ParserKind::ConnectionString
                    | ParserKind::CredentialFile
            )
        ) {
            Class::Container
        } else {
            Class::Format
        }
    }
}

impl RuleEvidence {
    /// Reads the evidence off a rule's definition. Parses its pattern, so
    /// callers keep the result (see [`Ranks`]).
    pub fn of(spec: &RuleSpec) -> RuleEvidence {
        let class = Class::of(spec);
        let hir = facts::parse(&spec.pattern).ok();
        let secret = hir.as_ref().map(|h| secret_group(h).unwrap_or(h));
        let prefix_literal = secret.is_some_and(starts_with_literal);
        let inside = |keyword: &str| {
            spec.anchor.is_some()
                || secret.is_some_and(|s| {
                    literal_prefixes(s)
                        .iter()
                        .any(|p| p.starts_with(keyword.as_bytes()))
                        || holds_literal(s, keyword.as_bytes())
                })
        };
        let keyword_inside = spec.keywords.iter().any(|k| inside(k));
        let keyword_outside = spec.keywords.iter().any(|k| !inside(k));
        RuleEvidence {
            class,
            own_literal: prefix_literal || keyword_inside,
            named: !spec.context.is_empty() || keyword_outside,
        }
    }
}

/// A hit's rank: compare two with [`Rank::cmp`], the greater stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rank<'a> {
    pub evidence: RuleEvidence,
    pub checksum: bool,
    pub confidence: Confidence,
    pub span_len: usize,
    pub rule_id: &'a str,
}

impl Ord for Rank<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let key = |r: &Rank| {
            (
                r.evidence.class,
                r.checksum,
                r.evidence.own_literal,
                r.evidence.named,
                confidence_order(r.confidence),
                r.span_len,
            )
        };
        key(self)
            .cmp(&key(other))
            // Reversed: of two otherwise equal rules, the one whose id
            // sorts first stands, whichever came first.
            .then_with(|| other.rule_id.cmp(self.rule_id))
    }
}

impl PartialOrd for Rank<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn confidence_order(confidence: Confidence) -> u8 {
    match confidence {
        Confidence::Low => 0,
        Confidence::Medium => 1,
        Confidence::High => 2,
    }
}

/// Rule evidence, read once per rule on first need: most scans never have
/// two rules on one secret, so most rules are never read.
#[derive(Default)]
pub struct Ranks {
    evidence: Vec<Option<RuleEvidence>>,
}

impl Ranks {
    pub fn evidence(&mut self, index: usize, spec: &RuleSpec) -> RuleEvidence {
        if self.evidence.len() <= index {
            self.evidence.resize(index + 1, None);
        }
        *self.evidence[index].get_or_insert_with(|| RuleEvidence::of(spec))
    }
}

/// A claim on secret bytes, as the scanner holds its hits.
pub struct Claim<'a> {
    pub start: usize,
    pub end: usize,
    /// The decoded secret, for a hit found inside an encoding.
    pub decoded: Option<&'a [u8]>,
    pub class: Class,
}

/// Whether two hits claim the same secret (see the module doc).
pub fn same_secret(a: &Claim, b: &Claim) -> bool {
    if a.start >= b.end || b.start >= a.end {
        return false;
    }
    let container = |c: &Claim| c.class < Class::Format;
    match (a.decoded, b.decoded) {
        (None, None) => true,
        // A container's password (a docker `auth`, plain or decoded)
        // and a token found over the same bytes: the token is in it.
        _ if container(a) != container(b) => true,
        (Some(x), Some(y)) => contains(x, y) || contains(y, x),
        _ => false,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// Which of `claims` stand: within each group of claims whose spans
/// overlap, the highest ranked first, then each one that claims no secret
/// an already standing one claims. `claims` must be sorted by start (as
/// the scanner keeps its hits); `rank(i)` ranks claim `i` and is called
/// only for claims that overlap another. Returns a keep flag per claim.
pub fn standing<'r>(claims: &[Claim], mut rank: impl FnMut(usize) -> Rank<'r>) -> Vec<bool> {
    debug_assert!(claims.windows(2).all(|w| w[0].start <= w[1].start));
    let mut keep = vec![true; claims.len()];
    let mut group_start = 0;
    while group_start < claims.len() {
        // A run of claims each of which starts before the furthest end so
        // far: only these can claim one another's bytes.
        let mut group_end = group_start + 1;
        let mut reach = claims[group_start].end;
        while group_end < claims.len() && claims[group_end].start < reach {
            reach = reach.max(claims[group_end].end);
            group_end += 1;
        }
        if group_end - group_start > 1 {
            settle(claims, group_start..group_end, &mut rank, &mut keep);
        }
        group_start = group_end;
    }
    keep
}

/// Settles one group of overlapping claims (see [`standing`]).
fn settle<'r>(
    claims: &[Claim],
    group: std::ops::Range<usize>,
    rank: &mut impl FnMut(usize) -> Rank<'r>,
    keep: &mut [bool],
) {
    let contested: Vec<usize> = group
        .clone()
        .filter(|&i| {
            group
                .clone()
                .any(|j| j != i && same_secret(&claims[i], &claims[j]))
        })
        .collect();
    if contested.is_empty() {
        return;
    }
    let mut order: Vec<(Rank, usize)> = contested.iter().map(|&i| (rank(i), i)).collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut stood: Vec<usize> = Vec::new();
    for (_, i) in order {
        if stood.iter().any(|&s| same_secret(&claims[s], &claims[i])) {
            keep[i] = false;
        } else {
            stood.push(i);
        }
    }
}

/// The literals every match of `hir` starts with, if it always starts with
/// one (small classes such as `[Ss]` expanded; a wide class ends it).
fn literal_prefixes(hir: &Hir) -> Vec<Vec<u8>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let mut extractor = Extractor::new();
    extractor
        .kind(ExtractKind::Prefix)
        .limit_class(2)
        .limit_total(64);
    let seq = extractor.extract(hir);
    seq.literals()
        .map(|lits| lits.iter().map(|l| l.as_bytes().to_vec()).collect())
        .unwrap_or_default()
}

/// Whether every match of `hir` starts with a literal of two bytes or more.
fn starts_with_literal(hir: &Hir) -> bool {
    let prefixes = literal_prefixes(hir);
    !prefixes.is_empty() && prefixes.iter().all(|p| p.len() >= 2)
}

/// Whether `hir` has `literal` inside one of its literal pieces.
fn holds_literal(hir: &Hir, literal: &[u8]) -> bool {
    match hir.kind() {
        HirKind::Literal(l) => contains(&l.0, literal),
        HirKind::Capture(c) => holds_literal(&c.sub, literal),
        HirKind::Repetition(r) => holds_literal(&r.sub, literal),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => {
            parts.iter().any(|p| holds_literal(p, literal))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleFile;

    fn spec(body: &str) -> RuleSpec {
        let text = format!(
            "[[rule]]\nid = \"r\"\nname = \"n\"\ndescription = \"d\"\nmax_length = 80\n{body}"
        );
        RuleFile::parse("t", &text).unwrap().rules.remove(0)
    }

    #[test]
    fn evidence_is_read_from_the_rule() {
        // A prefix of its own.
        let prefixed = spec("keywords = ['ghp_']\npattern = '''(?P<secret>ghp_[A-Za-z0-9]{36})'''");
        assert_eq!(
            RuleEvidence::of(&prefixed),
            RuleEvidence {
                class: Class::Format,
                own_literal: true,
                named: false
            }
        );
        // Found by a name before it, any string of its alphabet.
        let named = spec(
            "context = ['aws_secret']\npattern = '''aws_secret=(?P<secret>[A-Za-z0-9/+]{40})'''",
        );
        assert_eq!(
            RuleEvidence::of(&named),
            RuleEvidence {
                class: Class::Format,
                own_literal: false,
                named: true
            }
        );
        // A name and a literal: the name is context, the literal starts the secret.
        let both = spec(
            "context = ['yandex']\npattern = '''yandex_key=(?P<secret>YC[A-Za-z0-9_-]{38})'''",
        );
        assert_eq!(
            RuleEvidence::of(&both),
            RuleEvidence {
                class: Class::Format,
                own_literal: true,
                named: true
            }
        );
        // A keyword outside the secret names it; one inside is its own.
        let outside = spec(
            "keywords = ['ntKey=']\npattern = '''AccountKey=(?P<secret>[A-Za-z0-9+/]{86}==)'''",
        );
        assert_eq!(
            RuleEvidence::of(&outside),
            RuleEvidence {
                class: Class::Format,
                own_literal: false,
                named: true
            }
        );
        let inside = spec(
            "keywords = ['T3BlbkFJ']\npattern = '''(?P<secret>sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})'''",
        );
        assert!(RuleEvidence::of(&inside).own_literal);
        assert!(!RuleEvidence::of(&inside).named);
        // Containers and opt-in rules.
        let container = spec(
            "keywords = ['assword=']\nparser = 'connection-string'\npattern = '''Password=(?P<secret>[^;]+)'''",
        );
        assert_eq!(RuleEvidence::of(&container).class, Class::Container);
        let generic = spec(
            "keywords = ['password']\nopt_in = 'generic'\nconfidence = 'low'\npattern = '''password=(?P<secret>\\S+)'''",
        );
        assert_eq!(RuleEvidence::of(&generic).class, Class::Generic);
    }

    fn rank(evidence: RuleEvidence, checksum: bool, id: &'static str) -> Rank<'static> {
        Rank {
            evidence,
            checksum,
            confidence: Confidence::Medium,
            span_len: 40,
            rule_id: id,
        }
    }

    #[test]
    fn the_more_specific_rank_is_greater_whatever_the_order() {
        let format = |own_literal, named| RuleEvidence {
            class: Class::Format,
            own_literal,
            named,
        };
        let container = RuleEvidence {
            class: Class::Container,
            own_literal: true,
            named: true,
        };
        let ladder = [
            rank(
                RuleEvidence {
                    class: Class::Generic,
                    own_literal: true,
                    named: true,
                },
                false,
                "g",
            ),
            rank(container, false, "c"),
            rank(format(false, true), false, "named"),
            rank(format(true, false), false, "literal"),
            rank(format(true, true), false, "both"),
            rank(format(false, false), true, "checksum"),
        ];
        for (i, low) in ladder.iter().enumerate() {
            for high in &ladder[i + 1..] {
                assert_eq!(
                    high.cmp(low),
                    Ordering::Greater,
                    "{} over {}",
                    high.rule_id,
                    low.rule_id
                );
                assert_eq!(
                    low.cmp(high),
                    Ordering::Less,
                    "{} under {}",
                    low.rule_id,
                    high.rule_id
                );
            }
        }
        // All else equal, the id decides, the same way from both sides.
        let a = rank(format(true, false), false, "a-rule");
        let b = rank(format(true, false), false, "b-rule");
        assert_eq!(a.cmp(&b), Ordering::Greater);
        assert_eq!(b.cmp(&a), Ordering::Less);
    }

    fn claim(start: usize, end: usize, decoded: Option<&[u8]>, class: Class) -> Claim<'_> {
        Claim {
            start,
            end,
            decoded,
            class,
        }
    }

    #[test]
    fn claims_on_one_secret_leave_the_highest_ranked_in_either_order() {
        let low = rank(
            RuleEvidence {
                class: Class::Format,
                own_literal: false,
                named: true,
            },
            false,
            "aws",
        );
        let high = rank(
            RuleEvidence {
                class: Class::Format,
                own_literal: true,
                named: true,
            },
            false,
            "yandex",
        );
        let other = rank(
            RuleEvidence {
                class: Class::Format,
                own_literal: true,
                named: false,
            },
            false,
            "far",
        );
        let claims = [
            claim(10, 50, None, Class::Format),
            claim(10, 50, None, Class::Format),
            claim(60, 90, None, Class::Format),
        ];
        let ranks = [low, high, other];
        assert_eq!(standing(&claims, |i| ranks[i]), vec![false, true, true]);
        let ranks = [high, low, other];
        assert_eq!(standing(&claims, |i| ranks[i]), vec![true, false, true]);
    }

    #[test]
    fn what_counts_as_the_same_secret() {
        let plain = claim(0, 40, None, Class::Format);
        assert!(same_secret(&plain, &claim(39, 60, None, Class::Format)));
        assert!(!same_secret(&plain, &claim(40, 60, None, Class::Format)));
        // Two tokens decoded from one base64 run are two secrets.
        let one = claim(0, 200, Some(b"ghp_aaaa"), Class::Format);
        assert!(!same_secret(
            &one,
            &claim(0, 200, Some(b"glpat-bbbb"), Class::Format)
        ));
        assert!(same_secret(
            &one,
            &claim(0, 200, Some(b"x ghp_aaaa"), Class::Format)
        ));
        // The base64 text is a container's secret; the token it decodes to
        // claims it. A format rule's text and a decoded token do not.
        let auth = claim(0, 200, None, Class::Container);
        assert!(same_secret(&auth, &one) && same_secret(&one, &auth));
        assert!(!same_secret(&claim(0, 200, None, Class::Format), &one));
        // So does a container decoded from the same run (a docker config
        // inside a Kubernetes secret) as the token inside it...
        let decoded_auth = claim(0, 200, Some(b"Y2ktYm90OmdocF9hYWFh"), Class::Container);
        assert!(same_secret(&decoded_auth, &one) && same_secret(&one, &decoded_auth));
        // ...but two containers decoded from one run are two secrets.
        let other_auth = claim(0, 200, Some(b"ZGVwbG95OnNlY3JldA=="), Class::Container);
        assert!(!same_secret(&decoded_auth, &other_auth));
    }
}
