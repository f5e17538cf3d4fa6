//! CI glue: which platform the scan runs on (from the variables each sets),
//! `--annotations` on top of the chosen format, the job summaries, and the
//! refusal of `--show-secrets` with outputs that are public to everyone who
//! can read a pull request or a pipeline.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use sha2::Digest;

use crate::report::printable::printable;
use crate::report::{azure_pipelines, github, markdown, sarif, Format, ReportContext};
use crate::scan::ScanReport;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    GithubActions,
    AzurePipelines,
}

impl Platform {
    /// `GITHUB_ACTIONS=true` (GitHub Actions), else `TF_BUILD=True` (Azure
    /// Pipelines).
    pub fn detect() -> Option<Platform> {
        let var = |name: &str| std::env::var(name).unwrap_or_default();
        if var("GITHUB_ACTIONS") == "true" {
            Some(Platform::GithubActions)
        } else if var("TF_BUILD").eq_ignore_ascii_case("true") {
            Some(Platform::AzurePipelines)
        } else {
            None
        }
    }

    fn format(self) -> Format {
        match self {
            Platform::GithubActions => Format::Github,
            Platform::AzurePipelines => Format::AzurePipelines,
        }
    }
}

/// Annotations, summaries and comments are read by everyone with access
/// to the repository or pipeline, often the whole internet for a public
/// project: they never carry a secret, and asking for one is an error
/// rather than a silently masked report.
pub fn refuse_show_secrets(format: Format, show_secrets: bool) -> Result<()> {
    if show_secrets && format.is_public() {
        let name = clap::ValueEnum::to_possible_value(&format)
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        anyhow::bail!(
            "--show-secrets does not combine with --format {name}: its output is public to \
             everyone who can read the pull request or pipeline, so it always masks secrets \
             (use --format json --show-secrets for a private report)"
        );
    }
    Ok(())
}

/// Under GitHub Actions with `annotations`, a report on standard output in
/// another format (human, JSON, …) quotes the scanned files, which a pull
/// request controls: a line of one starting with `::` would be run as a
/// workflow command. Processing is turned off around the report with
/// `::stop-commands::TOKEN` (TOKEN unguessable from the files) and resumed
/// by [`after_report`]; returns the token.
pub fn pause_commands(
    format: Format,
    to_stdout: bool,
    annotations: bool,
) -> Result<Option<String>> {
    if !(annotations && to_stdout && format != Format::Github)
        || Platform::detect() != Some(Platform::GithubActions)
    {
        return Ok(None);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let seed = format!("{nanos}:{}:{:p}", std::process::id(), &nanos);
    let digest = sha2::Sha256::digest(seed.as_bytes());
    let token: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "::stop-commands::{token}")
        .and_then(|_| out.flush())
        .context("cannot write to standard output")?;
    Ok(Some(token))
}

/// Azure Pipelines runs a `##vso[…]` logging command found anywhere in a
/// step's output, and has no switch to pause that: a report quoting a
/// scanned file (a snippet, a path, a commit summary, all of which a pull
/// request controls) could set variables or fail the build. Under
/// `TF_BUILD=True` a report written to standard output goes through this
/// writer, which breaks the marker in a way that keeps each format's
/// meaning: in JSON, `#` becomes the escape `\u0023` (the same string
/// once parsed); in HTML the character reference `&#35;`; in text a zero
/// width space. The `azure-pipelines` format is left alone: its lines
/// start with patscan's own command, and the agent reads one per line.
pub struct AzureCommandGuard<W: Write> {
    inner: W,
    replacement: &'static [u8],
    /// The end of the last write, when it may begin a marker.
    pending: Vec<u8>,
}

const AZURE_MARKER: &[u8] = b"##vso[";

impl<W: Write> AzureCommandGuard<W> {
    /// The guard for `format`, or `None` when it needs none.
    pub fn for_format(format: Format, inner: W) -> Result<AzureCommandGuard<W>, W> {
        let replacement: &'static [u8] = match format {
            Format::AzurePipelines => return Err(inner),
            Format::Json | Format::Jsonl | Format::Sarif | Format::Gitlab => b"#\\u0023vso[",
            Format::Html => b"#&#35;vso[",
            Format::Human | Format::Github | Format::Markdown => "#\u{200B}#vso[".as_bytes(),
        };
        Ok(AzureCommandGuard {
            inner,
            replacement,
            pending: Vec::new(),
        })
    }
}

impl<W: Write> Write for AzureCommandGuard<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut text = std::mem::take(&mut self.pending);
        text.extend_from_slice(data);
        let mut start = 0;
        while let Some(at) = find(&text[start..], AZURE_MARKER) {
            self.inner.write_all(&text[start..start + at])?;
            self.inner.write_all(self.replacement)?;
            start += at + AZURE_MARKER.len();
        }
        // Hold back a tail that may be the start of a marker.
        let rest = &text[start..];
        let keep = (1..AZURE_MARKER.len())
            .rev()
            .find(|&n| rest.len() >= n && rest.ends_with(&AZURE_MARKER[..n]))
            .unwrap_or(0);
        self.inner.write_all(&rest[..rest.len() - keep])?;
        self.pending = rest[rest.len() - keep..].to_vec();
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        self.inner.write_all(&pending)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for AzureCommandGuard<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// `out`, behind an [`AzureCommandGuard`] when the report goes to standard
/// output under Azure Pipelines and its format needs one.
pub fn guard_stdout<'a>(
    format: Format,
    to_stdout: bool,
    out: &'a mut dyn Write,
) -> Box<dyn Write + 'a> {
    if !to_stdout || Platform::detect() != Some(Platform::AzurePipelines) {
        return Box::new(out);
    }
    match AzureCommandGuard::for_format(format, out) {
        Ok(guard) => Box::new(guard),
        Err(out) => Box::new(out),
    }
}

/// A message for standard error that quotes input (a path, a git error):
/// its control characters escaped, and under Azure Pipelines, which runs a
/// `##vso[` command found on any line of a step's output, stdout or
/// stderr, the marker broken as in the human report.
pub fn log_safe(text: &str) -> String {
    let text = printable(text);
    if Platform::detect() == Some(Platform::AzurePipelines) && text.contains("##vso[") {
        text.replace("##vso[", "#\u{200B}#vso[")
    } else {
        text.into_owned()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What a scan adds for the CI platform it runs on, after the report was
/// written: with `annotations`, the platform's annotations on standard
/// output (unless the report on standard output already is them); and
/// when the format or `annotations` targets the platform, the Markdown
/// summary (GitHub: appended to `$GITHUB_STEP_SUMMARY`; Azure: a file
/// attached with `##vso[task.uploadsummary]`).
#[allow(clippy::too_many_arguments)]
pub fn after_report(
    format: Format,
    to_stdout: bool,
    annotations: bool,
    quiet: bool,
    paused: Option<String>,
    report: &ScanReport,
    context: &ReportContext<'_>,
) -> Result<()> {
    let platform = Platform::detect();
    if annotations && platform.is_none() && !quiet {
        eprintln!(
            "patscan: note: --annotations: neither GITHUB_ACTIONS=true nor TF_BUILD=True is set, \
             so no annotations were written"
        );
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if let Some(token) = paused {
        writeln!(out, "::{token}::").context("cannot write to standard output")?;
    }
    if let Some(platform) = platform.filter(|_| annotations) {
        if !(to_stdout && format == platform.format()) {
            match platform {
                Platform::GithubActions => github::write(report, context, &mut out),
                Platform::AzurePipelines => azure_pipelines::write(report, context, &mut out),
            }
            .context("cannot write annotations to standard output")?;
        }
    }
    let summary_for = |p: Platform| format == p.format() || (annotations && platform == Some(p));
    if summary_for(Platform::GithubActions) {
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut file| file.write_all(markdown::render(report, context).as_bytes()))
                .with_context(|| format!("cannot append the summary to {}", path.display()))?;
        }
    }
    if summary_for(Platform::AzurePipelines) && platform == Some(Platform::AzurePipelines) {
        // The agent's temp folder is emptied after each job; one file per
        // run, so two scans in a job each keep their summary.
        let dir = std::env::var_os("AGENT_TEMPDIRECTORY")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let path = dir.join(format!("patscan-summary-{}.md", std::process::id()));
        std::fs::write(&path, markdown::render(report, context))
            .with_context(|| format!("cannot write the summary to {}", path.display()))?;
        writeln!(
            out,
            "{}",
            azure_pipelines::upload_summary_command(&path.to_string_lossy())
        )
        .context("cannot write to standard output")?;
    }
    out.flush().context("cannot write to standard output")?;
    Ok(())
}

/// Says on stderr how many SARIF results were left out to stay within
/// code scanning's limits (the log's run properties say it too).
pub fn warn_omitted(omitted: usize) {
    if omitted > 0 {
        let limits = sarif::Limits::CODE_SCANNING;
        eprintln!(
            "patscan: warning: SARIF: {omitted} results left out, the lowest-ranked, to stay within \
             GitHub code scanning's limits ({} results, {} MB gzip-compressed per upload); \
             `--format json` lists every finding",
            limits.max_results,
            limits.max_gzip_bytes / 1_000_000
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guarded(format: Format, pieces: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let Ok(mut guard) = AzureCommandGuard::for_format(format, &mut out) else {
                panic!("{format:?} is guarded");
            };
            for piece in pieces {
                guard.write_all(piece).unwrap();
            }
            guard.flush().unwrap();
        }
        out
    }

    #[test]
    fn a_marker_split_across_writes_is_still_broken() {
        let text = guarded(
            Format::Human,
            &[b"a ##v", b"so[task.setvariable variable=X]1 #", b"#"],
        );
        let text = String::from_utf8(text).unwrap();
        assert!(!text.contains("##vso["), "{text}");
        assert_eq!(text, "a #\u{200B}#vso[task.setvariable variable=X]1 ##");
    }

    #[test]
    fn json_keeps_its_value_and_html_its_text() {
        let json = br#"{"line":"echo ##vso[task.complete result=Failed]"}"#;
        let out = guarded(Format::Json, &[json]);
        assert!(!out.windows(6).any(|w| w == b"##vso["));
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["line"], "echo ##vso[task.complete result=Failed]");
        let html = guarded(Format::Html, &[b"<td>##vso[x]</td>"]);
        assert_eq!(html, b"<td>#&#35;vso[x]</td>");
    }

    #[test]
    fn the_azure_format_is_its_own_commands() {
        assert!(AzureCommandGuard::for_format(Format::AzurePipelines, Vec::new()).is_err());
    }
}
