//! `--format jsonl`: one finding per line, the same object as in `--format
//! json`, so a pipeline can stream, `grep` or `jq -c` it. No summary line:
//! every line is a finding.

use std::io::{self, Write};

use super::json::JsonFinding;
use super::RenderOptions;
use crate::scan::ScanReport;

pub fn write(report: &ScanReport, options: RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    for finding in &report.findings {
        serde_json::to_writer(&mut *out, &JsonFinding::new(finding, options))?;
        writeln!(out)?;
    }
    Ok(())
}
