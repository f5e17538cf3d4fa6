//! What stops a git scan before it starts. Anything that goes wrong once a
//! scan runs (a missing or corrupt object) is a warning, not one of these.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum GitError {
    #[error("{}: not a git repository ({message})", path.display())]
    NotARepository { path: PathBuf, message: String },
    #[error("{}: a bare repository has no index; --staged needs a work tree", path.display())]
    NoWorkTree { path: PathBuf },
    #[error("cannot read the index: {0}")]
    Index(String),
    #[error("cannot read HEAD: {0}")]
    Head(String),
    #[error("invalid --range {spec:?}: {message}")]
    Range { spec: String, message: String },
    #[error("cannot list the references: {0}")]
    References(String),
    #[error("cannot list the objects: {0}")]
    Objects(String),
    #[error("{}: nothing to scan: {reason}", path.display())]
    NothingToScan { path: PathBuf, reason: String },
}
