//! What a scan is told about its cache and what it says the cache did:
//! a setting of the command line and a part of the report's summary,
//! plain data that the cache, the scan stage, the sources that clone
//! repositories and the reports all name.

use std::path::PathBuf;

use serde::Serialize;

/// Where the cache lives, as the command line chose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CacheSetting {
    /// No cache (`--no-cache`; the default for folder scans).
    #[default]
    Off,
    /// The default of `--history`: `<git dir>/patscan-cache/`, or the user
    /// cache folder when the git dir is not writable.
    Default,
    /// `--cache DIR`.
    Dir(PathBuf),
}

/// What the cache did in one scan; in the JSON summary as `cache`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CacheSummary {
    /// Inputs known clean from an earlier scan: not read at all.
    pub hits: u64,
    /// Inputs with findings in the cache: read and scanned again, to
    /// rebuild their findings (the cache holds no secrets).
    pub rescanned: u64,
    /// Inputs the cache did not know (new, changed, or the rules changed):
    /// scanned and added.
    pub misses: u64,
}

impl CacheSummary {
    /// Adds another scan's counts (an organisation scan sums its
    /// repositories').
    pub fn add(&mut self, other: &CacheSummary) {
        self.hits += other.hits;
        self.rescanned += other.rescanned;
        self.misses += other.misses;
    }
}
