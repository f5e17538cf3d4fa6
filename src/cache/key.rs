//! The detection key: one hash of everything that decides what a scan of
//! an input finds. Two scans with the same key find the same tokens in the
//! same bytes, so a cached result is only used under the key it was made
//! with. Allowlists and baselines are applied after the scan and are not
//! in it; the output format, `--show-secrets` and thread count neither.
//! Which settings count is the scan stage's call
//! (`ScanOptions::detection_key`); this module only hashes them.

use sha2::{Digest, Sha256};

use crate::rules::RuleSet;

/// Bumped whenever the cache files' layout or meaning changes.
pub const FORMAT_VERSION: u32 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectionKey(pub [u8; 32]);

impl DetectionKey {
    /// The key of `rules` under the detection `settings` (name, value),
    /// in the caller's order.
    pub fn new(rules: &RuleSet, settings: &[(&str, &[u8])]) -> DetectionKey {
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
        for (name, value) in settings {
            field(name, value);
        }
        DetectionKey(hasher.finalize().into())
    }

    /// The whole key in hex, as reports name it.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// The first 16 hex digits, for file names.
    pub fn short(&self) -> String {
        hex(&self.0[..8])
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
