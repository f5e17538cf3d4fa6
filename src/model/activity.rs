//! How many commits a history scan read, per UTC day: the background of the
//! HTML report's timeline, so a secret is seen against the project's whole
//! life and not only against the other commits that hold secrets. A day
//! histogram stays small (a decade is under 4,000 entries) whatever the
//! number of commits, and goes into the cache's run record, so a replayed
//! scan draws the same chart as a fresh one.

use std::collections::BTreeMap;

const SECONDS_PER_DAY: i64 = 86_400;

/// Commits per UTC day, keyed by days since 1970-01-01 (negative before).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitActivity {
    days: BTreeMap<i64, u64>,
}

impl CommitActivity {
    /// Counts commits by their committer time (seconds since the epoch):
    /// the time a commit entered the history, which is what a timeline of
    /// the history shows.
    pub fn add_commits(&mut self, times: impl IntoIterator<Item = i64>) {
        for time in times {
            *self
                .days
                .entry(time.div_euclid(SECONDS_PER_DAY))
                .or_insert(0) += 1;
        }
    }

    /// Adds another scan's counts (several repositories in one report).
    pub fn merge(&mut self, other: &CommitActivity) {
        for (&day, &count) in &other.days {
            *self.days.entry(day).or_insert(0) += count;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    pub fn commits(&self) -> u64 {
        self.days.values().sum()
    }

    /// The first and last instant with a commit: the start of the first
    /// day and the end of the last.
    pub fn span(&self) -> Option<(i64, i64)> {
        let first = *self.days.keys().next()?;
        let last = *self.days.keys().next_back()?;
        Some((first * SECONDS_PER_DAY, (last + 1) * SECONDS_PER_DAY - 1))
    }

    /// Each day with commits: its start (seconds since the epoch) and count.
    pub fn days(&self) -> impl Iterator<Item = (i64, u64)> + '_ {
        self.days
            .iter()
            .map(|(&day, &count)| (day * SECONDS_PER_DAY, count))
    }

    /// `(day, count)` pairs for the cache's run record.
    pub fn entries(&self) -> impl Iterator<Item = (i64, u64)> + '_ {
        self.days.iter().map(|(&day, &count)| (day, count))
    }

    /// Rebuilds from [`entries`](Self::entries); `None` if a day repeats
    /// or is out of order (a damaged record is not trusted).
    pub fn from_entries(entries: impl IntoIterator<Item = (i64, u64)>) -> Option<CommitActivity> {
        let mut days = BTreeMap::new();
        let mut previous = None;
        for (day, count) in entries {
            if previous.is_some_and(|p| p >= day) {
                return None;
            }
            previous = Some(day);
            days.insert(day, count);
        }
        Some(CommitActivity { days })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_are_counted_per_utc_day_including_before_1970() {
        let mut activity = CommitActivity::default();
        // 2024-03-01 00:00:00 and 23:59:59 UTC, 2024-03-02, and 1969-12-31.
        activity.add_commits([1_709_251_200, 1_709_337_599, 1_709_337_600, -1]);
        let days: Vec<(i64, u64)> = activity.days().collect();
        assert_eq!(
            days,
            vec![(-86_400, 1), (1_709_251_200, 2), (1_709_337_600, 1)]
        );
        assert_eq!(activity.commits(), 4);
        assert_eq!(activity.span(), Some((-86_400, 1_709_423_999)));
    }

    #[test]
    fn entries_round_trip_and_a_disordered_record_is_refused() {
        let mut activity = CommitActivity::default();
        activity.add_commits([0, 100_000, 100_001, 9_000_000]);
        let entries: Vec<(i64, u64)> = activity.entries().collect();
        assert_eq!(
            CommitActivity::from_entries(entries.clone()),
            Some(activity)
        );
        let mut reversed = entries;
        reversed.reverse();
        assert_eq!(CommitActivity::from_entries(reversed), None);
    }

    #[test]
    fn merging_adds_counts_day_by_day() {
        let mut a = CommitActivity::default();
        a.add_commits([0, 86_400]);
        let mut b = CommitActivity::default();
        b.add_commits([86_401, 200_000]);
        a.merge(&b);
        assert_eq!(
            a.entries().collect::<Vec<_>>(),
            vec![(0, 1), (1, 2), (2, 1)]
        );
    }
}
