//! Where bytes come from. Each source hands the scanner bytes plus the path
//! (and, for git, the provenance) to report: the file system, the staged
//! index and the git history.

pub mod archive;
pub mod fs;
pub mod git;
pub mod org;
