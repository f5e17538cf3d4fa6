//! `--shard I/N`: a deterministic split of an organisation's repositories
//! between N machines. A repository's shard is a stable hash of its
//! platform and id, so shards stay balanced, every machine computes the
//! same split without talking to the others, and adding a repository
//! never moves the others.

use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count` (0-based, as `JOB_COMPLETION_INDEX` and a
/// GitHub Actions matrix count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Whether the repository `id` of `platform` belongs to this shard.
    pub fn contains(&self, platform: &str, id: &str) -> bool {
        fnv1a(&[platform.as_bytes(), b":", id.as_bytes()]) % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(value: &str) -> Result<Shard, String> {
        let bad = || format!("{value:?} is not I/N (0 <= I < N, e.g. 0/4)");
        let (i, n) = value.split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// FNV-1a of the parts one after the other (see [`crate::fnv`]).
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash = crate::fnv::Fnv1a::new();
    for part in parts {
        hash.write(part);
    }
    hash.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_repository_is_in_exactly_one_shard() {
        for count in 1..=7 {
            let shards: Vec<Shard> = (0..count).map(|index| Shard { index, count }).collect();
            let mut sizes = vec![0usize; count as usize];
            for id in 0..700 {
                let owners: Vec<usize> = shards
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.contains("github", &id.to_string()))
                    .map(|(i, _)| i)
                    .collect();
                assert_eq!(owners.len(), 1);
                sizes[owners[0]] += 1;
            }
            // Balanced: no shard gets twice its share.
            let share = 700 / count as usize;
            assert!(sizes.iter().all(|&s| s < 2 * share + 10), "{sizes:?}");
        }
    }

    #[test]
    fn the_split_is_fixed_across_releases() {
        // FNV-1a of "github:1": a change here moves repositories between
        // the shards of a running audit.
        assert_eq!(fnv1a(&[b"github:1"]), 0x7e1f_85fc_c717_eaeb);
    }

    #[test]
    fn shard_specs_parse() {
        assert_eq!(
            "2/5".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 5 }
        );
        for bad in ["5/5", "0/0", "-1/3", "a/b", "3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
