//! Output formats. Each is a pure function of the scan report: the same
//! findings always render to the same bytes, and the secret appears only when
//! the caller passed `show_secrets`.

pub mod human;
pub mod json;

use std::io::{self, Write};

use crate::scan::ScanReport;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Findings for people: location, rule, masked line, then a summary.
    Human,
    /// One JSON document: {"findings": [...], "summary": {...}}.
    Json,
}

#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub show_secrets: bool,
    pub color: bool,
}

pub fn write_report(
    format: Format,
    report: &ScanReport,
    options: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::write(report, options, out),
        Format::Json => json::write(report, options, out),
    }
}
