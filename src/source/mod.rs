//! Where bytes come from. Each source hands the scanner readers plus the
//! path to report; git history and the staged index will join the file
//! system here.

pub mod archive;
pub mod fs;
