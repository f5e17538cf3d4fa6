//! `patscan completions SHELL` and `patscan man`: shell completion scripts
//! and a roff manual page, both generated from the clap definitions in
//! [`super::Cli`], so they can never disagree with the options the binary
//! accepts.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {}

/// Writes the completion script for `args.shell` to standard output.
pub fn run_completions(args: CompletionsArgs) -> Result<ExitCode> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "patscan", &mut out);
    emit(&out)
}

/// Writes the manual page (roff, section 1) to standard output: the
/// top-level page, then one section per subcommand with its options, so
/// `man patscan` documents every command on one page.
pub fn run_man(_args: ManArgs) -> Result<ExitCode> {
    let command = Cli::command();
    let mut out = Vec::new();
    man_page(&command, &mut out).context("cannot render the manual page")?;
    emit(&out)
}

fn man_page(command: &clap::Command, out: &mut Vec<u8>) -> io::Result<()> {
    let man = clap_mangen::Man::new(command.clone());
    man.render(out)?;
    for sub in command.get_subcommands() {
        if sub.is_hide_set() {
            continue;
        }
        // Each subcommand's page without its own title header: a section
        // of the main page, with the subcommand's synopsis and options.
        let name = format!("patscan {}", sub.get_name());
        let has_subcommands = sub.has_subcommands();
        let sub = sub.clone().bin_name(name.clone());
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        let man = clap_mangen::Man::new(sub);
        let mut body = Vec::new();
        man.render_synopsis_section(&mut body)?;
        man.render_description_section(&mut body)?;
        man.render_options_section(&mut body)?;
        if has_subcommands {
            man.render_subcommands_section(&mut body)?;
        }
        // The renderers open their own `.SH` sections; demote them to
        // subsections of this command's section.
        for line in String::from_utf8_lossy(&body).lines() {
            match line.strip_prefix(".SH ") {
                Some(heading) => writeln!(out, ".SS {heading}")?,
                None => writeln!(out, "{line}")?,
            }
        }
    }
    Ok(())
}

fn emit(bytes: &[u8]) -> Result<ExitCode> {
    let stdout = io::stdout();
    let mut lock = stdout.lock();
    lock.write_all(bytes)
        .and_then(|()| lock.flush())
        .context("cannot write to standard output")?;
    Ok(ExitCode::SUCCESS)
}
