//! Command-line interface: argument definitions (clap derive) and the glue
//! from parsed arguments to library calls and an exit code.
//!
//! Exit codes: 0 no findings, 1 findings, 2 error. An error is never 0 or 1.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::hook;
use crate::progress;
use crate::report::{self, Format, RenderOptions};
use crate::rules::{self, RuleSet};
use crate::scan::{self, ScanOptions};
use crate::size::parse_size;
use crate::source::git::{self, Mode as GitMode};

const EXIT_CODES: &str = "\
Exit codes:
  0  no tokens found
  1  tokens found
  2  error (bad arguments, a PATH that does not exist, not a git repository,
     nothing to scan, output not writable)";

#[derive(Debug, Parser)]
#[command(
    name = "patscan",
    version,
    about = "Find leaked personal access tokens, validated by their issuers' checksums",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and folders for tokens.
    #[command(after_help = EXIT_CODES)]
    Scan(ScanArgs),
    /// List the rules (token formats) patscan knows.
    Rules(RulesArgs),
    /// Install a git pre-commit hook that runs `patscan scan --staged`.
    InstallHook(InstallHookArgs),
}

#[derive(Debug, Args)]
pub struct InstallHookArgs {
    /// The repository (default: the one containing the current folder).
    pub repo: Option<PathBuf>,
    /// Replace an existing pre-commit hook.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or folders to scan; `-` reads standard input. Default: `.`.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets in full. Without it every output masks them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Also scan files excluded by .gitignore, .ignore and git's excludes.
    #[arg(long)]
    pub no_ignore: bool,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(short = 'L', long)]
    pub follow: bool,
    /// Skip files larger than this (K, M, G suffixes).
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// When to colour the human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Do not print warnings about unreadable or skipped files.
    #[arg(short, long)]
    pub quiet: bool,
    /// Draw the progress bar on stderr even when it is not a terminal
    /// (by default only a terminal outside CI gets one).
    #[arg(long)]
    pub progress: bool,
    /// Scan what the next commit would add: blobs added or modified in the
    /// git index relative to HEAD, read from the index, not the work tree.
    /// PATH is the repository (default `.`). The pre-commit hook's mode.
    #[arg(long, conflicts_with = "history", help_heading = "Git")]
    pub staged: bool,
    /// With --staged: report every token in the staged blobs, including
    /// those HEAD already has.
    #[arg(long, requires = "staged", help_heading = "Git")]
    pub all: bool,
    /// Scan the whole git history of the repository at PATH (default `.`):
    /// every blob once, at the commit that introduced it; blobs no ref
    /// reaches; commit and annotated tag messages.
    #[arg(long, help_heading = "Git")]
    pub history: bool,
    /// With --history: only what the commits in A..B introduce (the
    /// commits reachable from B and not from A), e.g. a pull request.
    #[arg(long, value_name = "A..B", requires = "history", help_heading = "Git")]
    pub range: Option<String>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Parses the process arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                // `patscan scan | head`: the reader left; nothing to report.
                return ExitCode::SUCCESS;
            }
            eprintln!("patscan: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Rules(args) => run_rules(args),
        Command::InstallHook(args) => run_install_hook(args),
    }
}

fn load_rules() -> Result<RuleSet> {
    rules::builtin().context("loading the built-in rules")
}

fn run_scan(args: ScanArgs) -> Result<ExitCode> {
    let rules = load_rules()?;
    let git_mode = if args.staged {
        Some(GitMode::Staged { all: args.all })
    } else if args.history {
        Some(GitMode::History {
            range: args.range.clone(),
        })
    } else {
        None
    };
    let options = ScanOptions {
        paths: args.paths.clone(),
        include_ignored: args.no_ignore,
        follow_links: args.follow,
        max_file_size: args.max_file_size,
        threads: args.threads,
        show_secrets: args.show_secrets,
        // A staged scan takes milliseconds: a bar would only flicker.
        progress: progress::wanted(args.progress, args.quiet || args.staged),
    };
    let report = match &git_mode {
        Some(mode) => {
            let repo = match args.paths.as_slice() {
                [] => PathBuf::from("."),
                [one] => one.clone(),
                _ => anyhow::bail!("--staged and --history take one repository path"),
            };
            git::scan(&rules, &repo, mode, &options)?
        }
        None => scan::run(&rules, &options)?,
    };
    if !args.quiet {
        let stderr = io::stderr();
        let mut err = stderr.lock();
        for problem in &report.problems {
            writeln!(
                err,
                "patscan: warning: {}: {}",
                problem.path, problem.message
            )
            .ok();
        }
    }

    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let render = RenderOptions {
        show_secrets: args.show_secrets,
        color: color && args.format == Format::Human,
    };
    write_output(args.output.as_ref(), |out| {
        report::write_report(args.format, &report, render, out)
    })?;

    if args.staged && !report.findings.is_empty() && !args.quiet {
        eprint!("{}", blocked_message(report.findings.len()));
    }

    Ok(if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What a blocked commit tells the committer: what happened, what to do,
/// and how to let a false positive through.
fn blocked_message(count: usize) -> String {
    let tokens = if count == 1 { "a token" } else { "tokens" };
    format!(
        "\npatscan: commit blocked: the staged changes add {tokens} (listed above).\n\
         \x20 - Remove it from the file and `git add` it again; if it was ever pushed or shared,\n\
         \x20   revoke it with its issuer: removing it from git does not make it safe.\n\
         \x20 - A false positive (a test fixture, a documented example)? Put `patscan:allow` in a\n\
         \x20   comment on its line, or skip the check once with `git commit --no-verify`.\n"
    )
}

fn run_install_hook(args: InstallHookArgs) -> Result<ExitCode> {
    let repo = args.repo.unwrap_or_else(|| PathBuf::from("."));
    let path = hook::install(&repo, args.force)?;
    eprintln!(
        "patscan: installed {}: each commit now runs `patscan scan --staged`",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes to FILE or standard output, buffered, and flushes so that a write
/// error surfaces as an error rather than a truncated report.
fn write_output(
    path: Option<&PathBuf>,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    match path {
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("cannot create output file {}", path.display()))?;
            let mut out = BufWriter::new(file);
            render(&mut out)
                .and_then(|_| out.flush())
                .with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            render(&mut out)
                .and_then(|_| out.flush())
                .context("cannot write to standard output")
        }
    }
}

fn run_rules(args: RulesArgs) -> Result<ExitCode> {
    let rules = load_rules()?;
    write_output(None, |out| match args.format {
        Format::Json => {
            let specs: Vec<_> = rules.rules().iter().map(|r| &r.spec).collect();
            serde_json::to_writer_pretty(&mut *out, &specs)?;
            writeln!(out)
        }
        Format::Human => {
            for rule in rules.rules() {
                let spec = &rule.spec;
                let check = match spec.checksum {
                    Some(_) => "checksum",
                    None => "entropy",
                };
                writeln!(out, "{:<26} {:<9} {}", spec.id, check, spec.name)?;
            }
            Ok(())
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
