//! `--format json`: one document with every secret, the places it was
//! found, and the summary; `--ungrouped`, one row per place instead.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::group::{group, verification_counts, SecretGroup};
use super::RenderOptions;
use crate::model::{self, Status, Verification};
use crate::model::{Finding, Origin, Repository};
use crate::scan::{Problem, ScanReport, Summary};

/// A finding as JSON shows it, one row per place (`--ungrouped`, JSONL).
/// Built from [`Finding`] so the secret goes through the redaction choice
/// exactly once, here.
#[derive(Serialize)]
pub struct JsonFinding<'a> {
    #[serde(flatten)]
    pub token: JsonToken<'a>,
    /// Instances named near the token (Azure DevOps organisations, Grafana
    /// Cloud stacks, Shopify shops, Vault addresses), kept so that
    /// `patscan verify` can check an organisation-scoped PAT later.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub nearby_organisations: &'a [String],
    /// Present after `--verify`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<&'a Verification>,
    #[serde(flatten)]
    pub place: JsonPlace<'a>,
}

/// What identifies a token, the same in both shapes: the one place the
/// secret goes through the redaction choice.
#[derive(Serialize)]
pub struct JsonToken<'a> {
    pub rule_id: &'a str,
    pub rule_name: &'a str,
    pub secret: String,
    pub fingerprint: String,
    pub confidence: &'a str,
    pub validation: &'a str,
    /// What a structured rule's parser read: key type and size, a JWT's
    /// issuer and expiry, a connection's host and user. Never the secret.
    #[serde(skip_serializing_if = "Details::is_empty")]
    pub details: Details<'a>,
}

/// A finding's details as a JSON object, in the parser's order.
pub struct Details<'a>(pub &'a [(String, String)]);

impl Details<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Details<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'a> JsonToken<'a> {
    pub fn new(finding: &'a Finding, options: RenderOptions) -> JsonToken<'a> {
        JsonToken {
            rule_id: &finding.rule_id,
            rule_name: &finding.rule_name,
            secret: finding.display_secret(options.show_secrets),
            fingerprint: finding.fingerprint(),
            confidence: finding.confidence.as_str(),
            validation: finding.validation,
            details: Details(&finding.details),
        }
    }
}

/// Where one occurrence is: the part of a finding that differs between
/// the copies of one secret.
#[derive(Serialize)]
pub struct JsonPlace<'a> {
    pub path: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub snippet: &'a str,
    /// Present when the token was found encoded (`base64`, `utf-16le`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'a str>,
    /// Where the token is: `file`, `stdin`, `staged`, `commit`,
    /// `unreachable-commit`, `commit-message`, `tag-message`,
    /// `unreachable`, `image-layer` or `image-config`.
    pub origin: &'static str,
    /// Git provenance; absent for files and stdin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<&'a str>,
    /// The hosted repository (`scan --org`), with links to the commit and
    /// the file at that commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<JsonRepository<'a>>,
    /// A CI log's pipeline, run, job, step and line URL (`scan --ci-logs`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub ci_log: Option<&'a crate::model::CiLogPlace>,
    /// A plain-text pipeline variable's setting, owner, name and exposure.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub variable: Option<&'a crate::model::VariablePlace>,
    /// The container image (`scan --image`): reference, manifest,
    /// platform, and the layer and the file's state, or the config field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<JsonImage<'a>>,
}

/// Where in a container image a finding is.
#[derive(Serialize)]
pub struct JsonImage<'a> {
    #[serde(flatten)]
    pub place: &'a crate::model::ImagePlace,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_digest: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_index: Option<usize>,
    /// `visible`, `overwritten`, `deleted` or `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<&'a str>,
    /// `Env`, `Cmd`, `Entrypoint`, `Labels`, `OnBuild` or `history`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_field: Option<&'a str>,
}

impl<'a> JsonImage<'a> {
    pub fn new(origin: &'a Origin) -> Option<JsonImage<'a>> {
        match origin {
            Origin::ImageLayer {
                image,
                layer_digest,
                layer_index,
                state,
            } => Some(JsonImage {
                place: image,
                layer_digest: Some(layer_digest),
                layer_index: Some(*layer_index),
                layer_state: Some(state.as_str()),
                config_digest: None,
                config_field: None,
            }),
            Origin::ImageConfig {
                image,
                config_digest,
                field,
            } => Some(JsonImage {
                place: image,
                layer_digest: None,
                layer_index: None,
                layer_state: None,
                config_digest: Some(config_digest),
                config_field: Some(field),
            }),
            _ => None,
        }
    }
}

/// A finding's repository as every format shows it.
#[derive(Serialize)]
pub struct JsonRepository<'a> {
    #[serde(flatten)]
    pub repository: &'a Repository,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_url: Option<String>,
}

impl<'a> JsonRepository<'a> {
    /// `None` for a finding of a local scan.
    pub fn new(finding: &'a Finding) -> Option<JsonRepository<'a>> {
        let repository = finding.repository.as_deref()?;
        let commit = finding.origin.commit().map(|c| c.commit.as_str());
        let in_file = matches!(
            finding.origin,
            Origin::Commit { .. } | Origin::UnreachableCommit { .. }
        );
        Some(JsonRepository {
            repository,
            commit_url: commit.map(|c| repository.commit_url(c)),
            file_url: commit
                .filter(|_| in_file)
                .map(|c| repository.file_url(c, &finding.path, finding.line)),
        })
    }
}

impl<'a> JsonPlace<'a> {
    pub fn new(finding: &'a Finding) -> JsonPlace<'a> {
        let git = finding.origin.commit();
        let tag = match &finding.origin {
            Origin::TagMessage {
                tag, author, date, ..
            } => Some((tag.as_str(), author.as_str(), date.as_str())),
            _ => None,
        };
        JsonPlace {
            path: &finding.path,
            line: finding.line,
            column: finding.column,
            end_line: finding.line,
            end_column: finding.end_column,
            snippet: &finding.snippet,
            encoding: finding.encoding.as_deref(),
            origin: finding.origin.kind(),
            commit: git.map(|c| c.commit.as_str()),
            author: git.map(|c| c.author.as_str()).or(tag.map(|t| t.1)),
            date: git.map(|c| c.date.as_str()).or(tag.map(|t| t.2)),
            summary: git.map(|c| c.summary.as_str()),
            blob: finding.origin.blob(),
            tag: tag.map(|t| t.0),
            repository: JsonRepository::new(finding),
            ci_log: match &finding.origin {
                Origin::CiLog(place) => Some(place),
                _ => None,
            },
            variable: match &finding.origin {
                Origin::Variable(place) => Some(place),
                _ => None,
            },
            image: JsonImage::new(&finding.origin),
        }
    }
}

impl<'a> JsonFinding<'a> {
    pub fn new(finding: &'a Finding, options: RenderOptions) -> JsonFinding<'a> {
        JsonFinding {
            token: JsonToken::new(finding, options),
            nearby_organisations: &finding.live.organisations,
            verification: finding.live.verification.as_ref(),
            place: JsonPlace::new(finding),
        }
    }
}

/// One distinct secret and every place it was found (the default shape).
#[derive(Serialize)]
pub struct JsonSecret<'a> {
    #[serde(flatten)]
    pub token: JsonToken<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nearby_organisations: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<&'a Verification>,
    /// The commit that introduced it (git scans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<FirstSeen<'a>>,
    pub occurrence_count: usize,
    pub occurrences: Vec<JsonPlace<'a>>,
}

#[derive(Serialize)]
pub struct FirstSeen<'a> {
    pub commit: &'a str,
    pub author: &'a str,
    pub date: &'a str,
}

impl<'a> JsonSecret<'a> {
    pub fn new(group: &SecretGroup<'a>, options: RenderOptions) -> JsonSecret<'a> {
        JsonSecret {
            token: JsonToken::new(group.first(), options),
            nearby_organisations: group.organisations(),
            verification: group.verification(),
            first_seen: group.first_seen.map(|c| FirstSeen {
                commit: &c.commit,
                author: &c.author,
                date: &c.date,
            }),
            occurrence_count: group.occurrences.len(),
            occurrences: group
                .occurrences
                .iter()
                .map(|f| JsonPlace::new(f))
                .collect(),
        }
    }
}

/// The summary with the two counts a grouped report is read by.
#[derive(Serialize)]
struct GroupedSummary<'a> {
    /// Distinct secrets (by fingerprint).
    secrets: usize,
    /// Places they were found; `findings` counts the same.
    occurrences: usize,
    #[serde(flatten)]
    summary: &'a Summary,
}

#[derive(Serialize)]
struct GroupedDocument<'a> {
    secrets: Vec<JsonSecret<'a>>,
    problems: &'a [Problem],
    summary: GroupedSummary<'a>,
    /// Secrets per verification status, after `--verify`.
    #[serde(skip_serializing_if = "Option::is_none")]
    verification_summary: Option<BTreeMap<Status, usize>>,
}

#[derive(Serialize)]
struct Document<'a> {
    findings: Vec<JsonFinding<'a>>,
    problems: &'a [Problem],
    summary: &'a Summary,
    /// Findings per verification status, after `--verify`.
    #[serde(skip_serializing_if = "Option::is_none")]
    verification_summary: Option<BTreeMap<Status, usize>>,
}

pub fn write(report: &ScanReport, options: RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    if options.ungrouped {
        let document = Document {
            findings: report
                .findings
                .iter()
                .map(|f| JsonFinding::new(f, options))
                .collect(),
            problems: &report.problems,
            summary: &report.summary,
            verification_summary: model::tally(&report.findings),
        };
        serde_json::to_writer_pretty(&mut *out, &document)?;
    } else {
        let groups = group(&report.findings);
        let document = GroupedDocument {
            verification_summary: verification_counts(&groups),
            secrets: groups.iter().map(|g| JsonSecret::new(g, options)).collect(),
            problems: &report.problems,
            summary: GroupedSummary {
                secrets: groups.len(),
                occurrences: report.findings.len(),
                summary: &report.summary,
            },
        };
        serde_json::to_writer_pretty(&mut *out, &document)?;
    }
    writeln!(out)
}
