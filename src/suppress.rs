//! The suppress stage: what a team has decided not to be told about again.
//!
//! Three mechanisms, applied in this order, each counted in the summary:
//! inline allow comments (checked by the scanner while it still holds the
//! bytes, see [`allow_comment`]), the config file's allowlists (rules, paths
//! are skipped before scanning; regexes and literal values here), and the
//! baseline (known tokens, by rule and hash of the secret).

use std::collections::BTreeMap;

use memchr::memmem;
use serde::Serialize;

use crate::baseline::Baseline;
use crate::config::Allowlist;
use crate::model::Finding;
use crate::scan::ScanReport;

/// Comments that allow the token on their line or the next one. Besides our
/// own, the markers of gitleaks, detect-secrets and TruffleHog, so a team can
/// switch tools without editing every file.
pub const ALLOW_MARKERS: &[&str] = &[
    "patscan:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
    "trufflehog:ignore",
];

/// How far from the token, in bytes, a marker on the same line is looked
/// for. Comments sit near the token; the cap keeps a megabyte-long minified
/// line with many tokens from costing quadratic time.
const LINE_REACH: usize = 4096;

/// The marker on the token's line or on the line before, if any. Looks only
/// at the lines around one token, so it costs nothing per line scanned.
/// `start..end` is the token in `buf`; only bytes in `buf` are seen (a
/// previous line cut off by a chunk boundary of a huge file is not).
pub fn allow_comment(buf: &[u8], start: usize, end: usize) -> Option<&'static str> {
    // Both searches are bounded, so a huge line costs LINE_REACH, not its length.
    let floor = start.saturating_sub(LINE_REACH);
    let line_start = memchr::memrchr(b'\n', &buf[floor..start]).map(|i| floor + i + 1);
    let ceiling = end.saturating_add(LINE_REACH).min(buf.len());
    let line_end = memchr::memchr(b'\n', &buf[end..ceiling]).map_or(ceiling, |i| end + i);
    let from = line_start.unwrap_or(floor);
    if let Some(marker) = find_marker(&buf[from..line_end]) {
        return Some(marker);
    }
    // The line before: none when the token's line is the first, or longer
    // than the reach.
    let previous_end = line_start? - 1;
    let previous_floor = previous_end.saturating_sub(LINE_REACH);
    let previous_start = memchr::memrchr(b'\n', &buf[previous_floor..previous_end])
        .map_or(previous_floor, |i| previous_floor + i + 1);
    find_marker(&buf[previous_start..previous_end])
}

fn find_marker(text: &[u8]) -> Option<&'static str> {
    ALLOW_MARKERS
        .iter()
        .copied()
        .find(|marker| memmem::find(text, marker.as_bytes()).is_some())
}

/// How many findings each mechanism suppressed.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SuppressedCounts {
    pub inline_comment: usize,
    pub allowlist: usize,
    pub baseline: usize,
}

impl SuppressedCounts {
    pub fn total(&self) -> usize {
        self.inline_comment + self.allowlist + self.baseline
    }
}

/// Drops findings allowed by `allowlist` or known to `baseline`, records
/// the counts and stale baseline entries in the summary, and recounts it.
/// Baseline entries are stale when no token left after the inline comments
/// matches them (one now allowed inline no longer needs its entry).
pub fn apply(report: &mut ScanReport, allowlist: &Allowlist, baseline: Option<&Baseline>) {
    let findings = std::mem::take(&mut report.findings);
    let mut kept = Vec::with_capacity(findings.len());
    let mut matched = vec![false; baseline.map_or(0, |b| b.entries().len())];
    let counts = &mut report.summary.suppressed;
    for finding in findings {
        let known = baseline.and_then(|b| b.position(&finding.rule_id, &finding.secret));
        if let Some(index) = known {
            matched[index] = true;
        }
        if allowlist.allows(&finding.secret) {
            counts.allowlist += 1;
        } else if known.is_some() {
            counts.baseline += 1;
        } else {
            kept.push(finding);
        }
    }
    if let Some(baseline) = baseline {
        report.summary.stale_baseline_entries = baseline
            .entries()
            .iter()
            .zip(&matched)
            .filter(|(_, &m)| !m)
            .map(|(e, _)| e.clone())
            .collect();
    }
    report.findings = kept;
    recount(report);
}

/// Makes `findings` and `findings_by_rule` agree with the kept findings.
pub fn recount(report: &mut ScanReport) {
    let mut by_rule = BTreeMap::new();
    for finding in &report.findings {
        *by_rule.entry(finding.rule_id.clone()).or_insert(0) += 1;
    }
    report.summary.findings = report.findings.len();
    report.summary.findings_by_rule = by_rule;
}

/// Splits off the findings an inline comment allows, counting them.
pub fn take_inline_allowed(findings: &mut Vec<Finding>) -> Vec<Finding> {
    let (allowed, kept): (Vec<_>, Vec<_>) = std::mem::take(findings)
        .into_iter()
        .partition(|f| f.allowed_by.is_some());
    *findings = kept;
    allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(text: &str, token: &str) -> Option<&'static str> {
        let start = text.find(token).unwrap();
        allow_comment(text.as_bytes(), start, start + token.len())
    }

    #[test]
    fn markers_on_the_line_or_the_line_before() {
        assert_eq!(
            allowed("t = TOKEN # patscan:allow", "TOKEN"),
            Some("patscan:allow")
        );
        assert_eq!(
            allowed("// gitleaks:allow\nt = TOKEN\n", "TOKEN"),
            Some("gitleaks:allow")
        );
        assert_eq!(
            allowed("x\nt = TOKEN  # pragma: allowlist secret\n", "TOKEN"),
            Some("pragma: allowlist secret")
        );
        assert_eq!(
            allowed("t = TOKEN // trufflehog:ignore", "TOKEN"),
            Some("trufflehog:ignore")
        );
        assert_eq!(allowed("# patscan:allow\n\nt = TOKEN", "TOKEN"), None);
        assert_eq!(allowed("t = TOKEN\n# patscan:allow", "TOKEN"), None);
        assert_eq!(allowed("TOKEN", "TOKEN"), None);
        // Bounded: a marker far along a huge line is not looked for.
        let far = format!("TOKEN{} patscan:allow", " ".repeat(LINE_REACH + 1));
        assert_eq!(allowed(&far, "TOKEN"), None);
        let long_previous = format!("# patscan:allow {}\nTOKEN", "x".repeat(LINE_REACH));
        assert_eq!(allowed(&long_previous, "TOKEN"), None);
        let near_end = format!("# {} patscan:allow\nTOKEN", "x".repeat(LINE_REACH));
        assert_eq!(allowed(&near_end, "TOKEN"), Some("patscan:allow"));
    }
}
