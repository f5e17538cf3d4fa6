//! `patscan merge A.json B.json … -o all.json`: reports of the same rule
//! set joined, local scans or the shards of an organisation scan (see
//! [`crate::report::merge`]).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use super::write_output;
use crate::report::merge::{self, Input, Kind};

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Reports written by the same patscan with the same rules, all JSON
    /// (grouped or --ungrouped), all JSON Lines or all SARIF: scans of
    /// separate folders or repositories, or the shards of one
    /// `scan --org … --shard I/N`.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// Write the merged report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 0 even when the merged report has findings.
    #[arg(long)]
    pub exit_zero: bool,
}

pub fn run(args: MergeArgs) -> Result<ExitCode> {
    let mut inputs = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        inputs.push(Input::parse(&path.display().to_string(), &text)?);
    }
    let (merged, warnings) = merge::merge(&inputs)?;
    for warning in warnings {
        eprintln!("patscan: warning: {}", super::ci::log_safe(&warning));
    }
    let kind = inputs[0].kind;
    let findings = match kind {
        Kind::Jsonl => merged.as_array().map_or(0, Vec::len),
        Kind::Json | Kind::JsonUngrouped => {
            merged["summary"]["findings"].as_u64().unwrap_or(0) as usize
        }
        Kind::Sarif => merged["runs"][0]["results"].as_array().map_or(0, Vec::len),
    };
    write_output(args.output.as_ref(), |out| {
        if kind == Kind::Jsonl {
            for row in merged.as_array().into_iter().flatten() {
                serde_json::to_writer(&mut *out, row)?;
                writeln!(out)?;
            }
            Ok(())
        } else {
            serde_json::to_writer_pretty(&mut *out, &merged)?;
            writeln!(out)
        }
    })?;
    Ok(if findings > 0 && !args.exit_zero {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
