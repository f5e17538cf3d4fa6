//! The default format, for a terminal or a CI log.

use std::io::{self, Write};

use super::group::{group, verification_counts, SecretGroup};
use super::printable::printable;
use super::RenderOptions;
use crate::model::{Finding, LayerState, Origin};
use crate::model::{Status, Verification};
use crate::scan::ScanReport;
use crate::size::format_bytes;

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn path(&self, text: &str) -> String {
        self.wrap("35", &printable(text))
    }
    fn rule(&self, text: &str) -> String {
        self.wrap("1;31", text)
    }
    fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }
    fn live(&self, text: &str) -> String {
        self.wrap("1;97;41", text)
    }
}

/// One line per finding after `--verify`. A live token gets a loud
/// `LIVE TOKEN` marker (also without colour, for CI logs).
fn write_verification(v: &Verification, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let mut details = Vec::new();
    if let Some(owner) = &v.owner {
        details.push(format!("owner {owner}"));
    }
    if let Some(org) = &v.organisation {
        details.push(format!("organisation {org}"));
    }
    if !v.scopes.is_empty() {
        details.push(format!("scopes {}", v.scopes.join(",")));
    }
    if let Some(expiry) = super::risk::expiry(v) {
        details.push(expiry);
    }
    if let Some(reason) = &v.reason {
        details.push(reason.clone());
    }
    let provider = v.provider.as_deref().unwrap_or("no check");
    let details = if details.is_empty() {
        String::new()
    } else {
        format!(": {}", details.join("; "))
    };
    match v.status {
        Status::Active => {
            let severity = super::risk::severity(v)
                .map(|s| format!(", severity {s}"))
                .unwrap_or_default();
            writeln!(
                out,
                "    {} {}",
                paint.live("LIVE TOKEN"),
                paint.rule(&format!("active ({provider}){severity}{details}"))
            )?;
            for line in v.access.iter().flat_map(super::risk::reach) {
                writeln!(out, "      {line}")?;
            }
            Ok(())
        }
        status => writeln!(
            out,
            "    {}",
            paint.dim(&format!("verified {status} ({provider}){details}"))
        ),
    }
}

/// How many more places of one secret are listed under it; the rest are
/// counted ("and 24 more"), and `--format json` lists them all.
const MORE_PLACES_SHOWN: usize = 5;

pub fn write(report: &ScanReport, options: RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint { on: options.color };
    let groups = group(&report.findings);
    for secret in &groups {
        let finding = secret.first();
        writeln!(
            out,
            "{}:{}:{}: {} {}",
            paint.path(&finding.path),
            finding.line,
            finding.column,
            paint.rule(&finding.rule_id),
            paint.dim(&format!(
                "({}; {} confidence, {}{})",
                finding.rule_name,
                finding.confidence,
                match finding.validation {
                    "checksum" => "checksum verified",
                    "structure" => "structure parsed",
                    _ => "entropy checked",
                },
                match &finding.encoding {
                    Some(encoding) => format!("; {encoding}-encoded"),
                    None => String::new(),
                }
            )),
        )?;
        writeln!(out, "    {}", printable(finding.snippet.trim()))?;
        if !finding.details.is_empty() {
            let details: Vec<String> = finding
                .details
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            writeln!(out, "    {}", paint.dim(&printable(&details.join(" "))))?;
        }
        if let Some(provenance) = provenance(&finding.origin) {
            writeln!(out, "    {}", paint.dim(&printable(&provenance)))?;
        }
        if let Some(repository) = super::json::JsonRepository::new(finding) {
            writeln!(
                out,
                "    {}",
                paint.dim(&printable(&repository_line(&repository)))
            )?;
        }
        if let Some(verification) = secret.verification() {
            write_verification(verification, &paint, out)?;
        }
        if options.show_secrets {
            writeln!(out, "    secret: {}", finding.secret.expose())?;
        }
        write_more_places(&secret.occurrences[1..], &paint, out)?;
        writeln!(
            out,
            "    {}",
            paint.dim(&format!("fingerprint: {}", secret.fingerprint))
        )?;
        writeln!(out)?;
    }
    write_summary(report, &groups, &paint, out)
}

/// The other places of a secret, one line each: where, and in which commit.
fn write_more_places(others: &[&Finding], paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    if others.is_empty() {
        return Ok(());
    }
    let places = if others.len() == 1 { "place" } else { "places" };
    writeln!(out, "    also in {} more {places}:", others.len())?;
    for finding in others.iter().take(MORE_PLACES_SHOWN) {
        let commit = match finding.origin.commit() {
            Some(c) => format!(" (commit {}, {})", short(&c.commit), c.date),
            None => match finding.origin.blob() {
                Some(blob) => format!(" (blob {})", short(blob)),
                None => String::new(),
            },
        };
        writeln!(
            out,
            "      {}:{}:{}{}",
            paint.path(&finding.path),
            finding.line,
            finding.column,
            paint.dim(&commit)
        )?;
    }
    if others.len() > MORE_PLACES_SHOWN {
        writeln!(
            out,
            "      {}",
            paint.dim(&format!(
                "and {} more (--format json lists every place)",
                others.len() - MORE_PLACES_SHOWN
            ))
        )?;
    }
    Ok(())
}

/// Where in git the token lives, for findings that do not come from a file.
fn provenance(origin: &Origin) -> Option<String> {
    match origin {
        Origin::File | Origin::Stdin => None,
        Origin::Staged { blob } => Some(format!("staged blob {}", short(blob))),
        Origin::Commit { commit, .. } | Origin::CommitMessage { commit } => Some(format!(
            "commit {} by {} on {}: {}",
            short(&commit.commit),
            commit.author,
            commit.date,
            commit.summary
        )),
        Origin::UnreachableCommit { commit, .. } => Some(format!(
            "commit {} by {} on {}: {} (reachable from no ref, still in the object store)",
            short(&commit.commit),
            commit.author,
            commit.date,
            commit.summary
        )),
        Origin::TagMessage {
            tag, author, date, ..
        } => Some(format!("annotated tag {tag} by {author} on {date}")),
        Origin::Unreachable { blob } => Some(format!(
            "blob {blob}, reachable from no ref (still in the object store)"
        )),
        Origin::CiLog(place) => Some(ci_log_line(place)),
        Origin::Variable(place) => Some(format!(
            "{} {}, variable {}: {}; severity {}",
            place.setting, place.owner, place.variable, place.exposure, place.severity
        )),
        Origin::ImageLayer { .. } | Origin::ImageConfig { .. } => image_place(origin),
    }
}

/// `pipeline ci, run 20261207.1, job Build, step Test: https://…`.
fn ci_log_line(place: &crate::model::CiLogPlace) -> String {
    let mut text = format!("pipeline {}, run {}", place.pipeline, place.run);
    for (what, name) in [("job", &place.job), ("step", &place.step)] {
        if !name.is_empty() {
            text.push_str(&format!(", {what} {name}"));
        }
    }
    if let Some(url) = &place.url {
        text.push_str(&format!(": {url}"));
    }
    text
}

/// Where in a container image: the image and platform, then the layer and
/// the file's state, or the config field.
pub(crate) fn image_place(origin: &Origin) -> Option<String> {
    let image = origin.image()?;
    let platform = match &image.platform {
        Some(platform) => format!(" ({platform})"),
        None => String::new(),
    };
    let manifest = short_digest(&image.manifest);
    match origin {
        Origin::ImageLayer {
            layer_digest,
            layer_index,
            state,
            ..
        } => {
            let state = match state {
                LayerState::Visible => "visible in the image".to_string(),
                LayerState::Overwritten => {
                    "overwritten by a later layer, still in this one".to_string()
                }
                LayerState::Deleted => "deleted by a later layer, still in this one".to_string(),
                LayerState::Unknown => "state unknown (a later layer could not be read)".into(),
            };
            Some(format!(
                "image {}{platform} {manifest}, layer {layer_index} {}: {state}",
                image.reference,
                short_digest(layer_digest)
            ))
        }
        Origin::ImageConfig { field, .. } => Some(format!(
            "image {}{platform} {manifest}, config {field}",
            image.reference
        )),
        _ => None,
    }
}

/// `sha256:0123456789ab`.
fn short_digest(digest: &str) -> &str {
    let cut = digest.find(':').map_or(12, |c| c + 13);
    digest.get(..cut).unwrap_or(digest)
}

/// What an image scan read: images by status, layers, bytes.
fn write_images(images: &crate::model::ImageSummary, out: &mut dyn Write) -> io::Result<()> {
    use crate::model::ImageStatus;
    let mut counts: std::collections::BTreeMap<ImageStatus, usize> = Default::default();
    for image in &images.images {
        *counts.entry(image.status).or_insert(0) += 1;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(status, n)| format!("{n} {}", status.as_str()))
        .collect();
    let shard = match &images.shard {
        Some(shard) => format!(" (shard {shard} of {} listed)", images.images_listed),
        None => String::new(),
    };
    writeln!(
        out,
        "images{shard}: {}; layers: {} read ({}), {} known clean from the cache, {} failed",
        if parts.is_empty() {
            "none in this run".to_string()
        } else {
            parts.join(", ")
        },
        images.layers_scanned,
        format_bytes(images.layer_bytes),
        images.layers_cached,
        images.layers_failed
    )?;
    for image in &images.images {
        if image.status != ImageStatus::Scanned {
            writeln!(out, "  {:<7} {}", image.status.as_str(), image.reference)?;
        }
    }
    Ok(())
}

/// `repository github:acme/widgets: https://…/blob/…#L3`.
fn repository_line(repository: &super::json::JsonRepository<'_>) -> String {
    let r = repository.repository;
    let name = match &r.project {
        Some(project) => format!("{}:{}/{project}/{}", r.platform, r.organisation, r.name),
        None => format!("{}:{}", r.platform, r.name),
    };
    let link = repository
        .file_url
        .as_deref()
        .or(repository.commit_url.as_deref())
        .unwrap_or(&r.url);
    format!("repository {name}: {link}")
}

/// Twelve hex digits: unambiguous in practice, short enough to read.
fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// What an organisation scan did with the repositories: counts by status,
/// then the skipped ones by name (failures are also warnings).
fn write_organisation(org: &crate::model::OrgSummary, out: &mut dyn Write) -> io::Result<()> {
    use crate::model::RepoStatus;
    let mut counts: std::collections::BTreeMap<RepoStatus, usize> = Default::default();
    for repo in &org.repositories {
        *counts.entry(repo.status).or_insert(0) += 1;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(status, n)| format!("{n} {}", status.as_str()))
        .collect();
    let shard = match &org.shard {
        Some(shard) => format!(", shard {shard}"),
        None => String::new(),
    };
    // A CI-log scan lists pipelines where an organisation scan lists
    // repositories.
    let listed = if org.spec.starts_with("ci-logs:") {
        "pipelines"
    } else {
        "repositories"
    };
    writeln!(
        out,
        "{}: {} {listed} listed{shard}: {}",
        org.spec,
        org.repositories_listed,
        if parts.is_empty() {
            "none in this run".to_string()
        } else {
            parts.join(", ")
        }
    )?;
    for repo in &org.repositories {
        if !matches!(repo.status, RepoStatus::Scanned | RepoStatus::Unchanged) {
            writeln!(out, "  {:<9} {}", repo.status.as_str(), repo.name)?;
        }
    }
    if !org.service_connections.is_empty() {
        let pat: Vec<String> = org
            .service_connections
            .iter()
            .filter(|c| c.pat_based)
            .map(|c| format!("{}/{} ({}, {})", c.project, c.name, c.kind, c.scheme))
            .collect();
        write!(
            out,
            "service connections: {} ({} PAT-based",
            org.service_connections.len(),
            pat.len()
        )?;
        if pat.is_empty() {
            writeln!(out, ")")?;
        } else {
            writeln!(out, ": {}; one more PAT to rotate each)", pat.join(", "))?;
        }
    }
    Ok(())
}

fn write_summary(
    report: &ScanReport,
    groups: &[SecretGroup<'_>],
    paint: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let summary = &report.summary;
    let count = summary.findings;
    let secrets = groups.len();
    let tokens = match secrets {
        0 => "no tokens found".to_string(),
        1 => "1 token found".to_string(),
        n => format!("{n} tokens found"),
    };
    let headline = if count > secrets {
        format!("{tokens} in {count} places")
    } else {
        tokens
    };
    let mut extras = Vec::new();
    if summary.archives_scanned > 0 {
        extras.push(format!(
            "{} members of {} archives",
            summary.archive_members_scanned, summary.archives_scanned
        ));
    }
    if summary.binary_files_skipped > 0 {
        extras.push(format!("{} binary skipped", summary.binary_files_skipped));
    }
    if summary.large_files_skipped > 0 {
        extras.push(format!("{} over size limit", summary.large_files_skipped));
    }
    let suppressed = &summary.suppressed;
    if suppressed.total() > 0 {
        let mut parts = Vec::new();
        for (n, what) in [
            (suppressed.inline_comment, "inline comment"),
            (suppressed.allowlist, "config allowlist"),
            (suppressed.baseline, "baseline"),
        ] {
            if n > 0 {
                parts.push(format!("{n} by {what}"));
            }
        }
        extras.push(format!(
            "{} suppressed ({})",
            suppressed.total(),
            parts.join(", ")
        ));
    }
    if !summary.stale_baseline_entries.is_empty() {
        extras.push(format!(
            "{} stale baseline entries",
            summary.stale_baseline_entries.len()
        ));
    }
    if let Some(cache) = &summary.cache {
        // Unread inputs still count as scanned above: what the cache
        // answered for them is what a scan would have found.
        extras.push(format!(
            "cache: {} unchanged and not read, {} rescanned, {} new",
            cache.hits, cache.rescanned, cache.misses
        ));
    }
    if summary.problems > 0 {
        extras.push(format!(
            "{} unreadable or skipped (see warnings)",
            summary.problems
        ));
    }
    let extras = if extras.is_empty() {
        String::new()
    } else {
        format!("; {}", extras.join(", "))
    };
    let headline = if count > 0 {
        paint.rule(&headline)
    } else {
        headline
    };
    writeln!(
        out,
        "{headline}: scanned {} {}, {} in {:.2}s{extras}",
        summary.files_scanned,
        summary.unit,
        format_bytes(summary.bytes_scanned),
        summary.duration_seconds,
    )?;
    for (rule, n) in &summary.findings_by_rule {
        writeln!(out, "  {n:>5}  {rule}")?;
    }
    if let Some(org) = &summary.organisation {
        write_organisation(org, out)?;
    }
    if let Some(images) = &summary.images {
        write_images(images, out)?;
    }
    if let Some(counts) = verification_counts(groups) {
        let count = |s: Status| counts.get(&s).copied().unwrap_or(0);
        let line = format!(
            "verified: {} active, {} inactive, {} unknown",
            count(Status::Active),
            count(Status::Inactive),
            count(Status::Unknown)
        );
        if count(Status::Active) > 0 {
            writeln!(out, "{}", paint.rule(&line))?;
        } else {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}
