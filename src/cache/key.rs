//! The detection key: one hash of everything that decides what a scan of
//! an input finds. Two scans with the same key find the same tokens in the
//! same bytes, so a cached result is only used under the key it was made
//! with. Allowlists and baselines are applied after the scan and are not
//! in it; the output format, `--show-secrets` and thread count neither.

use sha2::{Digest, Sha256};

use crate::rules::RuleSet;
use crate::scan::ScanOptions;

/// Bumped whenever the cache files' layout or meaning changes.
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectionKey(pub [u8; 32]);

impl DetectionKey {
    pub fn new(rules: &RuleSet, options: &ScanOptions) -> DetectionKey {
        let mut hasher = Sha256::new();
        let mut field = |name: &str, value: &[u8]| {
            // Length-prefixed, so no two different inputs hash alike.
            hasher.update((name.len() as u64).to_le_bytes());
            hasher.update(name.as_bytes());
            hasher.update((value.len() as u64).to_le_bytes());
            hasher.update(value);
        };
        field("format", &FORMAT_VERSION.to_le_bytes());
        field("patscan", env!("CARGO_PKG_VERSION").as_bytes());
        for rule in rules.rules() {
            // The definition as data: built-in rules as embedded in this
            // binary, custom ones from the config; disabled ones are absent.
            let spec = serde_json::to_vec(&rule.spec).unwrap_or_default();
            field("rule", &spec);
        }
        field("max-file-size", &options.max_file_size.to_le_bytes());
        match &options.archives {
            None => field("archives", b"off"),
            Some(limits) => {
                let text = format!(
                    "depth={} members={} member-bytes={} total-bytes={} ratio={}",
                    limits.max_depth,
                    limits.max_members,
                    limits.max_member_bytes,
                    limits.max_total_bytes,
                    limits.max_ratio
                );
                field("archives", text.as_bytes());
            }
        }
        DetectionKey(hasher.finalize().into())
    }

    /// The first 16 hex digits, for file names.
    pub fn short(&self) -> String {
        hex(&self.0[..8])
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_changes_with_rules_and_settings_that_change_detection() {
        let rules = crate::rules::builtin().unwrap_or_else(|e| panic!("{e}"));
        let options = ScanOptions::default();
        let base = DetectionKey::new(&rules, &options);
        assert_eq!(base, DetectionKey::new(&rules, &options));

        let fewer = RuleSet::compile(rules.rules()[1..].iter().map(|r| r.spec.clone()).collect())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(base, DetectionKey::new(&fewer, &options));

        let smaller = ScanOptions {
            max_file_size: 1 << 20,
            ..ScanOptions::default()
        };
        assert_ne!(base, DetectionKey::new(&rules, &smaller));
        let closed = ScanOptions {
            archives: None,
            ..ScanOptions::default()
        };
        assert_ne!(base, DetectionKey::new(&rules, &closed));

        // What only changes the output does not.
        let shown = ScanOptions {
            show_secrets: true,
            line_hashes: false,
            threads: 1,
            ..ScanOptions::default()
        };
        assert_eq!(base, DetectionKey::new(&rules, &shown));
    }
}
