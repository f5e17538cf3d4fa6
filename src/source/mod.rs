//! Where bytes come from: the file system and standard input ([`fs`]), a
//! git repository's index and history ([`git`]), an organisation's
//! repositories ([`org`]), container images ([`image`]). A source reads
//! inputs and hands each to the scan stage's sink (`scan::sink`) with what identifies it (a path and its
//! metadata, a blob id) and where its findings are reported; it asks the
//! sink first, so an input the scan stage already knows is never read. It
//! never consults the cache itself.

pub mod ci;
pub mod fs;
pub mod git;
pub mod image;
pub mod org;
