//! Typed errors of the library. The binary adds context with `anyhow` and
//! maps any of them to exit code 2.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum RuleError {
    #[error("cannot parse rule file {origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("rule {rule}: {message}")]
    Invalid { rule: String, message: String },
    #[error("rule {rule}: example {index} {problem}")]
    Example {
        rule: String,
        index: usize,
        problem: String,
    },
}

#[derive(Debug, Error)]
pub enum ScanError {
    #[error("{}: no such file or directory", .0.display())]
    PathNotFound(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the scan: {0}")]
    Setup(String),
}

#[derive(Debug, Error)]
#[error("invalid size {input:?}: {reason} (examples: 500K, 100M, 4G, 1048576)")]
pub struct SizeError {
    pub input: String,
    pub reason: &'static str,
}
