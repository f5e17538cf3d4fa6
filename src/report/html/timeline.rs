//! The report's timeline: an inline SVG (no script, no network) over the
//! whole scanned history. Its bottom row is the history itself, commits per
//! period as bars, so a secret is seen against the project's life (leaked
//! in the first week, or last month?); above it the commits that hold a
//! secret, sized by how many occurrences each holds, and each secret marked
//! at the commit that introduced it, on a lane for its confidence. Built in
//! Rust so it is there without JavaScript and its escaping is tested with
//! the rest.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::escape::Esc;
use crate::civil_time::{epoch_seconds, utc_day as day};
use crate::model::CommitActivity;
use crate::report::group::SecretGroup;

const WIDTH: f64 = 960.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 50.0;
const LANES: [(&str, f64); 3] = [("high", 28.0), ("medium", 56.0), ("low", 84.0)];
const COMMITS_Y: f64 = 116.0;
/// The history row: bars grow up from the axis to at most this height.
const HISTORY_LABEL_Y: f64 = 160.0;
const BAR_MAX: f64 = 36.0;
const AXIS_Y: f64 = 180.0;
const HEIGHT: f64 = 210.0;
/// Bars across the plot at most: thin enough to show a decade by month,
/// wide enough to hover.
const MAX_BARS: i64 = 160;
const SECONDS_PER_DAY: i64 = 86_400;

/// A commit that holds at least one occurrence.
struct CommitPoint<'a> {
    time: i64,
    date: &'a str,
    author: &'a str,
    summary: &'a str,
    occurrences: usize,
}

/// Writes the chart, or returns `Ok(false)` without writing when there is
/// no history to draw: no commit was scanned and no occurrence has a dated
/// commit (a scan of files, stdin or the index).
pub fn write(
    groups: &[SecretGroup<'_>],
    activity: &CommitActivity,
    out: &mut dyn Write,
) -> io::Result<bool> {
    let mut commits: BTreeMap<&str, CommitPoint<'_>> = BTreeMap::new();
    for finding in groups.iter().flat_map(|g| g.occurrences.iter()) {
        let Some(meta) = finding.origin.commit() else {
            continue;
        };
        let Some(time) = epoch_seconds(&meta.date) else {
            continue;
        };
        commits
            .entry(meta.commit.as_str())
            .or_insert(CommitPoint {
                time,
                date: &meta.date,
                author: &meta.author,
                summary: &meta.summary,
                occurrences: 0,
            })
            .occurrences += 1;
    }
    let span = activity.span();
    let times = commits
        .values()
        .map(|c| c.time)
        .chain(span.into_iter().flat_map(|(a, b)| [a, b]));
    let (Some(first), Some(last)) = (times.clone().min(), times.max()) else {
        return Ok(false);
    };
    let scale = Scale { first, last };

    let title = if activity.is_empty() {
        "Commits holding secrets over time; each secret marked where it was introduced".to_string()
    } else {
        format!(
            "{} commits scanned from {} to {}, per period; commits holding secrets and each secret marked where it was introduced",
            activity.commits(),
            day(first),
            day(last)
        )
    };
    writeln!(
        out,
        r#"<svg class="timeline" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="timeline-title"><title id="timeline-title">{title}</title>"#,
        title = Esc(&title),
    )?;
    let history_lane = (!activity.is_empty()).then_some(("history", HISTORY_LABEL_Y));
    for (label, y) in LANES
        .iter()
        .copied()
        .chain([("commits", COMMITS_Y)])
        .chain(history_lane)
    {
        writeln!(
            out,
            r#"<line class="lane" x1="{LEFT}" y1="{y}" x2="{x2}" y2="{y}"/><text class="lane-label" x="{lx}" y="{ty}">{label}</text>"#,
            x2 = WIDTH - RIGHT,
            lx = LEFT - 10.0,
            ty = y + 4.0,
        )?;
    }
    writeln!(
        out,
        r#"<line class="axis" x1="{LEFT}" y1="{AXIS_Y}" x2="{x2}" y2="{AXIS_Y}"/>"#,
        x2 = WIDTH - RIGHT
    )?;
    for time in scale.ticks() {
        let x = scale.x(time);
        writeln!(
            out,
            r#"<line class="tick" x1="{x:.1}" y1="{AXIS_Y}" x2="{x:.1}" y2="{y2}"/><text class="tick-label" x="{x:.1}" y="{ty}">{date}</text>"#,
            y2 = AXIS_Y + 5.0,
            ty = AXIS_Y + 20.0,
            date = day(time),
        )?;
    }
    write_history(activity, &scale, out)?;
    for (id, commit) in &commits {
        let radius = 3.0 + commit.occurrences.min(6) as f64;
        let places = if commit.occurrences == 1 {
            "1 occurrence".to_string()
        } else {
            format!("{} occurrences", commit.occurrences)
        };
        writeln!(
            out,
            r#"<circle class="commit" cx="{x:.1}" cy="{COMMITS_Y}" r="{radius}"><title>{short} {date} {author}: {summary} ({places})</title></circle>"#,
            x = scale.x(commit.time),
            short = Esc(short(id)),
            date = Esc(commit.date),
            author = Esc(commit.author),
            summary = Esc(commit.summary),
        )?;
    }
    for group in groups {
        let Some(meta) = group.first_seen else {
            continue;
        };
        let Some(time) = epoch_seconds(&meta.date) else {
            continue;
        };
        let confidence = group.confidence().as_str();
        let y = LANES
            .iter()
            .find(|(lane, _)| *lane == confidence)
            .map_or(COMMITS_Y, |(_, y)| *y);
        let first = group.first();
        writeln!(
            out,
            r##"<a href="#secret-{fp}"><path class="secret {confidence}" d="M{x:.1} {top} l6 6 l-6 6 l-6 -6 z"><title>{name} {secret}: introduced {date} in {short} by {author}</title></path></a>"##,
            fp = Esc(&group.fingerprint),
            x = scale.x(time),
            top = y - 6.0,
            name = Esc(&first.rule_name),
            secret = Esc(&first.display_secret(false)),
            date = Esc(&meta.date),
            short = Esc(short(&meta.commit)),
            author = Esc(&meta.author),
        )?;
    }
    writeln!(out, "</svg>")?;
    Ok(true)
}

/// The history row: the scanned commits counted into at most [`MAX_BARS`]
/// periods of whole days, one bar each, height by count (linear, so a
/// busy month looks busy; at least a pixel, so one commit shows).
fn write_history(activity: &CommitActivity, scale: &Scale, out: &mut dyn Write) -> io::Result<()> {
    let Some(periods) = Periods::over(activity, scale) else {
        return Ok(());
    };
    let max = periods.counts.iter().copied().max().unwrap_or(0).max(1);
    for (i, &count) in periods.counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let start = periods.start + i as i64 * periods.length;
        // The last period may run past the last commit: it ends there.
        let end = (start + periods.length - 1).min(scale.last);
        let x = scale.x(start.max(scale.first));
        let width = (scale.x(end + 1) - x - 1.0).max(1.0);
        let height = (BAR_MAX * count as f64 / max as f64).max(1.0);
        let commits = if count == 1 { "commit" } else { "commits" };
        let dates = if day(start) == day(end) {
            day(start)
        } else {
            format!("{} to {}", day(start), day(end))
        };
        writeln!(
            out,
            r#"<rect class="history" x="{x:.1}" y="{y:.1}" width="{width:.1}" height="{height:.1}"><title>{dates}: {count} {commits}</title></rect>"#,
            y = AXIS_Y - height,
        )?;
    }
    Ok(())
}

/// Whole-day periods covering the plot, and the commits in each.
struct Periods {
    /// Start of the first period (seconds since the epoch, a UTC midnight).
    start: i64,
    /// Length of each period in seconds, a whole number of days.
    length: i64,
    counts: Vec<u64>,
}

impl Periods {
    fn over(activity: &CommitActivity, scale: &Scale) -> Option<Periods> {
        if activity.is_empty() {
            return None;
        }
        let start = scale.first.div_euclid(SECONDS_PER_DAY) * SECONDS_PER_DAY;
        let days = (scale.last - start) / SECONDS_PER_DAY + 1;
        let days_per_period = (days + MAX_BARS - 1) / MAX_BARS;
        let length = days_per_period * SECONDS_PER_DAY;
        let mut counts = vec![0u64; ((days + days_per_period - 1) / days_per_period) as usize];
        for (day_start, count) in activity.days() {
            let index = ((day_start - start) / length) as usize;
            if let Some(slot) = counts.get_mut(index) {
                *slot += count;
            }
        }
        Some(Periods {
            start,
            length,
            counts,
        })
    }
}

/// A commit id as people quote it.
pub fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// Maps instants between the first and last commit onto the plot's width.
struct Scale {
    first: i64,
    last: i64,
}

impl Scale {
    fn x(&self, time: i64) -> f64 {
        let width = WIDTH - LEFT - RIGHT;
        if self.last == self.first {
            return LEFT + width / 2.0;
        }
        LEFT + width * (time - self.first) as f64 / (self.last - self.first) as f64
    }

    /// Up to five labelled instants from the first commit to the last, one
    /// when they are the same day.
    fn ticks(&self) -> Vec<i64> {
        if day(self.first) == day(self.last) {
            return vec![self.first];
        }
        let span = self.last - self.first;
        let mut ticks: Vec<i64> = (0..5).map(|i| self.first + span * i / 4).collect();
        ticks.dedup_by_key(|t| day(*t));
        ticks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_through_the_epoch() {
        for date in [
            "1970-01-01",
            "2000-02-29",
            "2024-03-01",
            "1969-12-31",
            "2100-12-31",
        ] {
            let time = epoch_seconds(&format!("{date}T13:00:00Z")).unwrap();
            assert_eq!(day(time), date);
        }
    }

    #[test]
    fn ticks_span_the_commits_and_collapse_on_one_day() {
        let one = Scale {
            first: 1_709_294_400,
            last: 1_709_294_400 + 3600,
        };
        assert_eq!(one.ticks().len(), 1);
        assert_eq!(one.x(one.first), LEFT);
        assert_eq!(one.x(one.last), WIDTH - RIGHT);
        let year = Scale {
            first: 1_704_067_200,
            last: 1_704_067_200 + 365 * 86_400,
        };
        let ticks: Vec<String> = year.ticks().into_iter().map(day).collect();
        assert_eq!(ticks.first().map(String::as_str), Some("2024-01-01"));
        assert_eq!(ticks.last().map(String::as_str), Some("2024-12-31"));
        assert_eq!(ticks.len(), 5);
    }

    #[test]
    fn periods_are_whole_days_and_count_every_commit() {
        let mut activity = CommitActivity::default();
        // Ten years of one commit a day, plus a busy day.
        let first = 1_262_304_000; // 2010-01-01
        activity.add_commits((0..3653).map(|d| first + d * SECONDS_PER_DAY + 3600));
        activity.add_commits([first + 100 * SECONDS_PER_DAY; 50]);
        let (a, b) = activity.span().unwrap();
        let periods = Periods::over(&activity, &Scale { first: a, last: b }).unwrap();
        assert!(periods.counts.len() as i64 <= MAX_BARS);
        assert_eq!(periods.length % SECONDS_PER_DAY, 0);
        assert_eq!(periods.counts.iter().sum::<u64>(), 3653 + 50);
        let busiest = periods.counts.iter().copied().max().unwrap();
        assert_eq!(busiest, periods.length as u64 / SECONDS_PER_DAY as u64 + 50);
    }

    #[test]
    fn the_history_row_spans_commits_without_secrets() {
        let mut activity = CommitActivity::default();
        activity.add_commits([1_262_304_000, 1_262_304_000 + 30 * SECONDS_PER_DAY]);
        let mut svg = Vec::new();
        assert!(write(&[], &activity, &mut svg).unwrap());
        let svg = String::from_utf8(svg).unwrap();
        assert_eq!(svg.matches("<rect class=\"history\"").count(), 2);
        assert!(svg.contains("2 commits scanned from 2010-01-01 to 2010-01-31"));
        assert!(svg.contains("<title>2010-01-01: 1 commit</title>"));
        let mut none = Vec::new();
        assert!(!write(&[], &CommitActivity::default(), &mut none).unwrap());
        assert!(none.is_empty());
    }
}
