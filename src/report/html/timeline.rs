//! The report's timeline: an inline SVG (no script, no network) with the
//! commits that hold a secret along a time axis, sized by how many
//! occurrences each holds, and each secret marked at the commit that
//! introduced it, on a lane for its confidence. Built in Rust so it is
//! there without JavaScript and its escaping is tested with the rest.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::escape::Esc;
use crate::civil_time::{epoch_seconds, utc_day as day};
use crate::report::group::SecretGroup;

const WIDTH: f64 = 960.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 50.0;
const LANES: [(&str, f64); 3] = [("high", 28.0), ("medium", 56.0), ("low", 84.0)];
const COMMITS_Y: f64 = 122.0;
const AXIS_Y: f64 = 150.0;
const HEIGHT: f64 = 180.0;

/// A commit that holds at least one occurrence.
struct CommitPoint<'a> {
    time: i64,
    date: &'a str,
    author: &'a str,
    summary: &'a str,
    occurrences: usize,
}

/// Writes the chart, or returns `Ok(false)` without writing when no
/// occurrence has a dated commit (a scan of files, stdin or the index).
pub fn write(groups: &[SecretGroup<'_>], out: &mut dyn Write) -> io::Result<bool> {
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
    let (Some(first), Some(last)) = (
        commits.values().map(|c| c.time).min(),
        commits.values().map(|c| c.time).max(),
    ) else {
        return Ok(false);
    };
    let scale = Scale { first, last };

    writeln!(
        out,
        r#"<svg class="timeline" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="timeline-title"><title id="timeline-title">Commits holding secrets over time; each secret marked where it was introduced</title>"#
    )?;
    for (label, y) in LANES.iter().copied().chain([("commits", COMMITS_Y)]) {
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
}
