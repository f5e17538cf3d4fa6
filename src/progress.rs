//! The progress bar of long scans: items (files or blobs) done of total,
//! bytes, byte rate and elapsed time, drawn on stderr.
//!
//! It is off unless asked for: [`Progress::new`] with `enabled` false costs
//! one branch per item. The CLI enables it when stderr is a terminal outside
//! CI, or on `--progress`; a forced bar on a redirected stderr prints one
//! plain line a second instead of redrawing, so a log stays readable.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle, TermLike};

use crate::size::format_bytes;

/// A shared handle; clones update the same bar.
#[derive(Clone, Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
    bytes: Arc<AtomicU64>,
    /// Redrawn in place; otherwise plain lines, and the last one is kept.
    terminal: bool,
    unit: Arc<Mutex<&'static str>>,
}

impl Progress {
    /// A bar counting `unit`s (`files`, `blobs`); hidden when not `enabled`.
    pub fn new(enabled: bool, unit: &'static str) -> Progress {
        if !enabled {
            return Progress::default();
        }
        let bytes = Arc::new(AtomicU64::new(0));
        let terminal = io::stderr().is_terminal();
        let target = if terminal {
            ProgressDrawTarget::stderr_with_hz(10)
        } else {
            ProgressDrawTarget::term_like_with_hz(Box::new(PlainLines::default()), 1)
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(style(unit, &bytes, false));
        if terminal {
            // Keeps the spinner and elapsed time moving during a long blob.
            bar.enable_steady_tick(Duration::from_millis(250));
        }
        Progress {
            bar: Some(bar),
            bytes,
            terminal,
            unit: Arc::new(Mutex::new(unit)),
        }
    }

    /// Sets the number of items known so far (it may grow while a source
    /// is still listing them); the spinner becomes a bar.
    pub fn set_total(&self, total: u64, unit: &'static str) {
        if let Some(bar) = &self.bar {
            let first = bar.length().is_none();
            bar.set_length(total);
            if !first {
                return;
            }
            *self.unit.lock().unwrap_or_else(|p| p.into_inner()) = unit;
            bar.set_style(style(unit, &self.bytes, true));
        }
    }

    /// One item done, of `bytes` bytes.
    pub fn inc(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            self.bytes.fetch_add(bytes, Ordering::Relaxed);
            bar.inc(1);
        }
    }

    /// Removes the bar from a terminal so that the report and warnings
    /// start on a clean line; in a log, prints the final count.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            if self.terminal {
                bar.finish_and_clear();
            } else {
                bar.finish_and_clear();
                let unit = *self.unit.lock().unwrap_or_else(|p| p.into_inner());
                eprintln!(
                    "patscan: {} {unit}, {} in {:.1}s",
                    bar.position(),
                    format_bytes(self.bytes.load(Ordering::Relaxed)),
                    bar.elapsed().as_secs_f64()
                );
            }
        }
    }
}

fn style(unit: &'static str, bytes: &Arc<AtomicU64>, with_total: bool) -> ProgressStyle {
    let template = if with_total {
        format!("{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit}, {{bytes_done}} ({{byte_rate}})")
    } else {
        format!("{{spinner}} [{{elapsed_precise}}] {{pos}} {unit}, {{bytes_done}} ({{byte_rate}})")
    };
    let done = Arc::clone(bytes);
    let rate = Arc::clone(bytes);
    ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .with_key(
            "bytes_done",
            move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&format_bytes(done.load(Ordering::Relaxed)));
            },
        )
        .with_key(
            "byte_rate",
            move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let seconds = state.elapsed().as_secs_f64().max(0.001);
                let per_second = (rate.load(Ordering::Relaxed) as f64 / seconds) as u64;
                let _ = write!(w, "{}/s", format_bytes(per_second));
            },
        )
}

/// A "terminal" that cannot move the cursor: a frame becomes a line, at
/// most one a second (indicatif's own limit lets bursts through).
#[derive(Default)]
struct PlainLines {
    last: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for PlainLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlainLines")
    }
}

impl TermLike for PlainLines {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> io::Result<()> {
        if s.trim().is_empty() {
            return Ok(());
        }
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|at| at.elapsed() < Duration::from_secs(1)) {
            return Ok(());
        }
        *last = Some(Instant::now());
        writeln!(io::stderr(), "{s}")
    }
    fn write_str(&self, s: &str) -> io::Result<()> {
        self.write_line(s)
    }
    fn clear_line(&self) -> io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// Whether to draw a bar: asked for, or stderr is a terminal outside CI
/// and the user did not ask for quiet.
pub fn wanted(forced: bool, quiet: bool) -> bool {
    forced || (!quiet && io::stderr().is_terminal() && std::env::var_os("CI").is_none())
}
