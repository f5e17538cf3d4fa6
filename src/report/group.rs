//! Findings grouped by secret. An audit of a history finds the same token
//! copied into many files and commits; the person acting on it needs one
//! leaked secret with every place it sits and the commit that introduced
//! it, not one entry per place. Every grouped format (human, JSON, HTML,
//! the CI summaries) is built from [`group`], so they agree on what a
//! secret is (rule and value, the fingerprint) and on the order.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

pub use crate::civil_time::epoch_seconds;
use crate::model::Confidence;
use crate::model::{CommitMeta, Finding};
use crate::model::{Status, Verification};

/// One distinct secret and every place it was found.
pub struct SecretGroup<'a> {
    pub fingerprint: String,
    /// In order of first appearance: by commit date where there is one,
    /// then in report order (path, line).
    pub occurrences: Vec<&'a Finding>,
    /// The commit that introduced the secret: the oldest occurrence's.
    pub first_seen: Option<&'a CommitMeta>,
}

impl<'a> SecretGroup<'a> {
    /// The first occurrence: rule, confidence and validation are the same
    /// for all of them (the fingerprint covers the rule).
    pub fn first(&self) -> &'a Finding {
        self.occurrences[0]
    }

    pub fn rule_id(&self) -> &'a str {
        &self.first().rule_id
    }

    pub fn confidence(&self) -> Confidence {
        self.first().confidence
    }

    /// Live checks run once per secret and copy their result to every
    /// occurrence; the first occurrence that carries one speaks for all.
    pub fn verification(&self) -> Option<&'a Verification> {
        self.occurrences
            .iter()
            .find_map(|f| f.live.verification.as_ref())
    }

    /// Organisations named near any occurrence, each once, in order.
    pub fn organisations(&self) -> Vec<&'a str> {
        let mut seen = Vec::new();
        for finding in &self.occurrences {
            for org in &finding.live.organisations {
                if !seen.contains(&org.as_str()) {
                    seen.push(org.as_str());
                }
            }
        }
        seen
    }
}

/// Groups `findings` (in report order) by fingerprint. Secrets come out by
/// confidence, highest first, then by first appearance (oldest commit
/// first; for plain files, report order).
pub fn group(findings: &[Finding]) -> Vec<SecretGroup<'_>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<(Vec<(usize, &Finding)>, String)> = Vec::new();
    for (position, finding) in findings.iter().enumerate() {
        let fingerprint = finding.fingerprint();
        let slot = *index.entry(fingerprint.clone()).or_insert_with(|| {
            groups.push((Vec::new(), fingerprint));
            groups.len() - 1
        });
        groups[slot].0.push((position, finding));
    }
    let mut grouped: Vec<(Key, SecretGroup<'_>)> = groups
        .into_iter()
        .map(|(mut occurrences, fingerprint)| {
            occurrences.sort_by_key(|&(position, finding)| appearance(position, finding));
            let first = occurrences[0];
            let key = (
                Reverse(first.1.confidence),
                appearance(first.0, first.1),
                fingerprint.clone(),
            );
            let first_seen = occurrences.iter().find_map(|(_, f)| f.origin.commit());
            let group = SecretGroup {
                fingerprint,
                occurrences: occurrences.into_iter().map(|(_, f)| f).collect(),
                first_seen,
            };
            (key, group)
        })
        .collect();
    grouped.sort_by(|a, b| a.0.cmp(&b.0));
    grouped.into_iter().map(|(_, group)| group).collect()
}

/// Secrets per verification status, after `--verify`.
pub fn verification_counts(groups: &[SecretGroup<'_>]) -> Option<BTreeMap<Status, usize>> {
    let mut counts = BTreeMap::new();
    let mut any = false;
    for status in groups
        .iter()
        .filter_map(|g| g.verification().map(|v| v.status))
    {
        any = true;
        *counts.entry(status).or_insert(0) += 1;
    }
    any.then_some(counts)
}

type Key = (Reverse<Confidence>, (i64, usize), String);

/// When an occurrence appeared: its commit's date in seconds since the
/// epoch (`i64::MAX` without one, so dated ones come first), then its
/// place in the report.
fn appearance(position: usize, finding: &Finding) -> (i64, usize) {
    let time = finding
        .origin
        .commit()
        .and_then(|c| epoch_seconds(&c.date))
        .unwrap_or(i64::MAX);
    (time, position)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Secret};

    fn finding(rule: &str, secret: &str, path: &str, confidence: Confidence) -> Finding {
        Finding {
            repository: None,
            details: Vec::new(),
            rule_id: rule.into(),
            rule_name: rule.into(),
            confidence,
            validation: "checksum",
            path: path.into(),
            origin: Origin::File,
            line: 1,
            column: 1,
            end_column: 2,
            secret: Secret::new(secret.into()),
            snippet: String::new(),
            encoding: None,
            line_hash: None,
            allowed_by: None,
            live: Default::default(),
        }
    }

    fn at_commit(mut f: Finding, date: &str) -> Finding {
        f.origin = Origin::Commit {
            commit: CommitMeta {
                commit: date.into(),
                author: "a <a@example.com>".into(),
                date: date.into(),
                summary: String::new(),
            },
            blob: String::new(),
        };
        f
    }

    #[test]
    fn one_group_per_secret_ordered_by_confidence_then_first_commit() {
        let findings = vec![
            at_commit(
                finding("r", "A", "b.txt", Confidence::High),
                "2024-02-01T00:00:00Z",
            ),
            at_commit(
                finding("r", "B", "c.txt", Confidence::Medium),
                "2020-01-01T00:00:00Z",
            ),
            // Later in the report, older in time: it introduced A.
            at_commit(
                finding("r", "A", "z.txt", Confidence::High),
                "2024-01-31T18:00:00-05:00",
            ),
            at_commit(
                finding("r", "C", "a.txt", Confidence::High),
                "2023-01-01T00:00:00Z",
            ),
            // The same value under another rule is another secret.
            finding("s", "A", "d.txt", Confidence::High),
        ];
        let groups = group(&findings);
        let shape: Vec<(&str, Vec<&str>)> = groups
            .iter()
            .map(|g| {
                (
                    g.first().secret.expose(),
                    g.occurrences.iter().map(|f| f.path.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                ("C", vec!["a.txt"]),
                ("A", vec!["z.txt", "b.txt"]),
                ("A", vec!["d.txt"]),
                ("B", vec!["c.txt"]),
            ]
        );
        assert_eq!(
            groups[1].first_seen.map(|c| c.date.as_str()),
            Some("2024-01-31T18:00:00-05:00")
        );
        assert!(groups[2].first_seen.is_none());
    }
}
