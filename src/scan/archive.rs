//! Tokens inside what gets published: zip-based packages and documents
//! (`.zip .jar .war .nupkg .whl .docx .xlsx .pptx .vsix …`) and tar files,
//! plain or compressed (`.tar .tar.gz .tgz .tar.bz2 .tar.xz`), nested to a
//! configurable depth. Members are streamed to the scanner, never extracted
//! to disk. A finding's path names the archive and the member:
//! `pkg.nupkg!/content/app.config`, `a.zip!/lib/b.jar!/x.properties`.
//!
//! Archives are hostile input, so every dimension is bounded: nesting
//! depth, members per archive, bytes per member, total bytes expanded from
//! one top-level archive, and the expansion ratio of compressed data. Each
//! limit, when hit, is reported as a problem and the rest goes on; so is a
//! corrupt or encrypted archive.

use std::cell::Cell;
use std::io::{self, Cursor, Read, Seek};
use std::rc::Rc;

use crate::model::{Finding, Origin};
use crate::scan::{ArchiveLimits, ArchiveTally, Problem};
use crate::scanner::{Outcome, Scanner};

/// Archive formats patscan opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Tar,
    TarGz,
    TarBz2,
    TarXz,
}

const ZIP_EXTENSIONS: &[&str] = &[
    ".zip", ".jar", ".war", ".ear", ".aar", ".apk", ".nupkg", ".snupkg", ".whl", ".egg", ".docx",
    ".xlsx", ".pptx", ".odt", ".ods", ".vsix", ".xpi", ".crx",
];

/// The archive kind a name says, if any (case-insensitive).
pub fn kind_of(name: &str) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    if ZIP_EXTENSIONS.iter().any(|e| lower.ends_with(e)) {
        Some(Kind::Zip)
    } else if lower.ends_with(".tar") {
        Some(Kind::Tar)
    } else if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        Some(Kind::TarGz)
    } else if lower.ends_with(".tar.bz2") || lower.ends_with(".tbz2") || lower.ends_with(".tbz") {
        Some(Kind::TarBz2)
    } else if lower.ends_with(".tar.xz") || lower.ends_with(".txz") {
        Some(Kind::TarXz)
    } else {
        None
    }
}

/// Scans a top-level archive. `compressed_size` is the archive's size on
/// disk, for the expansion-ratio bound.
pub fn scan_archive<R: Read + Seek>(
    scanner: &mut Scanner<'_>,
    kind: Kind,
    reader: R,
    display: &str,
    compressed_size: u64,
    limits: &ArchiveLimits,
    out: &mut Vec<Finding>,
) -> ArchiveTally {
    scan_archive_from(
        scanner,
        kind,
        reader,
        display,
        compressed_size,
        limits,
        &Origin::File,
        out,
    )
}

/// Opens a git blob as an archive when its path names one, its members
/// reported with `origin`; `None` when the path is not an archive's.
pub fn scan_archive_blob(
    scanner: &mut Scanner<'_>,
    bytes: &[u8],
    path: &str,
    limits: &ArchiveLimits,
    origin: &Origin,
    out: &mut Vec<Finding>,
) -> Option<ArchiveTally> {
    let kind = kind_of(path)?;
    let size = bytes.len() as u64;
    Some(scan_archive_from(
        scanner,
        kind,
        Cursor::new(bytes),
        path,
        size,
        limits,
        origin,
        out,
    ))
}

#[allow(clippy::too_many_arguments)]
fn scan_archive_from<R: Read + Seek>(
    scanner: &mut Scanner<'_>,
    kind: Kind,
    reader: R,
    display: &str,
    compressed_size: u64,
    limits: &ArchiveLimits,
    origin: &Origin,
    out: &mut Vec<Finding>,
) -> ArchiveTally {
    let mut walk = Walk {
        scanner,
        limits,
        out,
        tally: ArchiveTally::default(),
        total: 0,
        origin,
    };
    walk.archive(
        kind,
        Source::Seekable(Box::new(reader)),
        display,
        compressed_size,
        1,
    );
    walk.tally
}

/// A reader over archive bytes: zip needs to seek, tar streams.
enum Source<'a> {
    Seekable(Box<dyn ReadSeek + 'a>),
    Stream(Box<dyn Read + 'a>),
}

trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

struct Walk<'s, 'r, 'o> {
    scanner: &'s mut Scanner<'r>,
    limits: &'s ArchiveLimits,
    out: &'o mut Vec<Finding>,
    tally: ArchiveTally,
    /// Uncompressed bytes read from the top-level archive so far.
    total: u64,
    /// Where the top-level archive came from (a file, a staged or committed blob).
    origin: &'s Origin,
}

/// Why reading a member stopped early.
#[derive(Debug)]
enum Stop {
    MemberTooLarge,
    TotalTooLarge,
}

impl Walk<'_, '_, '_> {
    fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.tally.problems.push(Problem {
            path: path.to_string(),
            message: message.into(),
        });
    }

    fn archive(
        &mut self,
        kind: Kind,
        source: Source<'_>,
        display: &str,
        compressed: u64,
        depth: usize,
    ) {
        match (kind, source) {
            (Kind::Zip, Source::Seekable(reader)) => self.zip(reader, display, depth),
            (Kind::Zip, Source::Stream(mut reader)) => {
                // A zip inside another archive: read it (bounded) to seek in it.
                if let Some(bytes) = self.read_bounded(&mut reader, display) {
                    self.zip(Box::new(Cursor::new(bytes)), display, depth)
                }
            }
            (Kind::Tar, source) => self.tar(into_stream(source), display, depth),
            (compressed_tar, source) => {
                let (counted, count) = Counted::new(into_stream(source));
                let decoded: Box<dyn Read + '_> = match compressed_tar {
                    Kind::TarGz => Box::new(flate2::read::MultiGzDecoder::new(counted)),
                    Kind::TarBz2 => Box::new(bzip2::read::MultiBzDecoder::new(counted)),
                    _ => Box::new(xz2::read::XzDecoder::new_multi_decoder(counted)),
                };
                let guarded =
                    RatioGuard::new(decoded, Some(count), compressed, self.limits.max_ratio);
                self.tar(Box::new(guarded), display, depth)
            }
        }
    }

    fn zip(&mut self, reader: Box<dyn ReadSeek + '_>, display: &str, depth: usize) {
        let mut archive = match zip::ZipArchive::new(reader) {
            Ok(archive) => archive,
            Err(err) => return self.problem(display, format!("not a readable zip archive: {err}")),
        };
        let count = archive.len();
        if count > self.limits.max_members {
            self.problem(
                display,
                format!(
                    "has {count} members; only the first {} are scanned (archive member limit)",
                    self.limits.max_members
                ),
            );
        }
        for index in 0..count.min(self.limits.max_members) {
            let member = match archive.by_index(index) {
                Ok(member) => member,
                Err(err) => {
                    self.problem(display, format!("member {index}: {err}"));
                    continue;
                }
            };
            if member.is_dir() {
                continue;
            }
            let name = member.name().to_string();
            let path = format!("{display}!/{name}");
            let compressed = member.compressed_size();
            // The zip reader inflates; the central directory says how many
            // compressed bytes went in.
            let mut guarded = RatioGuard::new(member, None, compressed, self.limits.max_ratio);
            self.member(&mut guarded, &path, &name, compressed, depth);
        }
    }

    fn tar(&mut self, reader: Box<dyn Read + '_>, display: &str, depth: usize) {
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(entries) => entries,
            Err(err) => return self.problem(display, format!("not a readable tar archive: {err}")),
        };
        let mut seen = 0usize;
        for entry in entries {
            let mut entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    self.problem(display, format!("corrupt tar archive: {err}"));
                    return;
                }
            };
            if !entry.header().entry_type().is_file() {
                continue;
            }
            seen += 1;
            if seen > self.limits.max_members {
                self.problem(
                    display,
                    format!(
                        "more than {} members; the rest are not scanned (archive member limit)",
                        self.limits.max_members
                    ),
                );
                return;
            }
            let name = entry
                .path()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| "?".to_string());
            let path = format!("{display}!/{name}");
            let size = entry.size();
            self.member(&mut entry, &path, &name, size, depth);
            if self.total > self.limits.max_total_bytes {
                return;
            }
        }
    }

    /// Scans one member, or opens it as a nested archive.
    fn member(
        &mut self,
        reader: &mut dyn Read,
        path: &str,
        name: &str,
        compressed: u64,
        depth: usize,
    ) {
        if let Some(kind) = kind_of(name) {
            if depth < self.limits.max_depth {
                let source = Source::Stream(Box::new(&mut *reader));
                self.archive(kind, source, path, compressed, depth + 1);
            } else {
                self.problem(
                    path,
                    format!(
                        "nested archive not opened: deeper than --archive-depth {}",
                        self.limits.max_depth
                    ),
                );
            }
            return;
        }
        let budget = self
            .limits
            .max_member_bytes
            .min(self.limits.max_total_bytes.saturating_sub(self.total));
        let mut limited = Limited::new(reader, budget);
        match self
            .scanner
            .scan_reader(&mut limited, path, self.origin, self.out)
        {
            Ok(Outcome::Scanned { bytes }) => {
                self.tally.members_scanned += 1;
                self.tally.bytes_scanned += bytes;
            }
            Ok(Outcome::Binary) => self.tally.binary_members += 1,
            Err(err) => self.problem(path, format!("read error: {err}")),
        }
        self.total += limited.read;
        if let Some(stop) = limited.stopped(self.limits.max_member_bytes) {
            let message = match stop {
                Stop::MemberTooLarge => format!(
                    "member larger than {} bytes; the rest is not scanned",
                    self.limits.max_member_bytes
                ),
                Stop::TotalTooLarge => format!(
                    "archive expands beyond {} bytes; the rest is not scanned",
                    self.limits.max_total_bytes
                ),
            };
            self.problem(path, message);
        }
    }

    /// Reads a nested archive into memory, within the member and total limits.
    fn read_bounded(&mut self, reader: &mut dyn Read, path: &str) -> Option<Vec<u8>> {
        let budget = self
            .limits
            .max_member_bytes
            .min(self.limits.max_total_bytes.saturating_sub(self.total));
        let mut bytes = Vec::new();
        let mut limited = Limited::new(reader, budget);
        if let Err(err) = limited.read_to_end(&mut bytes) {
            self.problem(path, format!("read error: {err}"));
            return None;
        }
        self.total += limited.read;
        if limited.stopped(self.limits.max_member_bytes).is_some() {
            self.problem(
                path,
                "nested archive too large to open (archive size limits)",
            );
            return None;
        }
        Some(bytes)
    }
}

fn into_stream(source: Source<'_>) -> Box<dyn Read + '_> {
    match source {
        Source::Seekable(reader) => Box::new(reader),
        Source::Stream(reader) => reader,
    }
}

/// Reads at most `budget` bytes and remembers whether there was more.
struct Limited<'a> {
    inner: &'a mut dyn Read,
    budget: u64,
    read: u64,
    truncated: bool,
}

impl<'a> Limited<'a> {
    fn new(inner: &'a mut dyn Read, budget: u64) -> Limited<'a> {
        Limited {
            inner,
            budget,
            read: 0,
            truncated: false,
        }
    }

    fn stopped(&self, member_limit: u64) -> Option<Stop> {
        if !self.truncated {
            None
        } else if self.budget >= member_limit {
            Some(Stop::MemberTooLarge)
        } else {
            Some(Stop::TotalTooLarge)
        }
    }
}

impl Read for Limited<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read >= self.budget {
            // Probe one byte to tell "exactly at the limit" from "over it".
            let mut probe = [0u8; 1];
            if !self.truncated && self.inner.read(&mut probe)? > 0 {
                self.truncated = true;
            }
            return Ok(0);
        }
        let room = (self.budget - self.read).min(buf.len() as u64) as usize;
        let n = self.inner.read(&mut buf[..room])?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Counts the bytes read through it (the compressed side of a stream).
struct Counted<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R> Counted<R> {
    fn new(inner: R) -> (Counted<R>, Rc<Cell<u64>>) {
        let count = Rc::new(Cell::new(0));
        (
            Counted {
                inner,
                count: count.clone(),
            },
            count,
        )
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Fails a decompressing stream whose output outgrows its input by more
/// than `max_ratio` (after 1 MiB of slack, for small, highly compressible
/// files). The input is what the compressed side has read so far, or the
/// size the container declares, whichever is larger.
struct RatioGuard<R> {
    inner: R,
    compressed_read: Option<Rc<Cell<u64>>>,
    declared_compressed: u64,
    max_ratio: u64,
    produced: u64,
}

impl<R: Read> RatioGuard<R> {
    fn new(
        inner: R,
        compressed_read: Option<Rc<Cell<u64>>>,
        declared_compressed: u64,
        max_ratio: u64,
    ) -> RatioGuard<R> {
        RatioGuard {
            inner,
            compressed_read,
            declared_compressed,
            max_ratio,
            produced: 0,
        }
    }
}

impl<R: Read> Read for RatioGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        let read = self.compressed_read.as_ref().map_or(0, |c| c.get());
        let input = read.max(self.declared_compressed).max(1);
        if self.produced > (1 << 20) && self.produced / input > self.max_ratio {
            return Err(io::Error::other(format!(
                "expands more than {}x its compressed size: a compression bomb? stopped reading",
                self.max_ratio
            )));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name() {
        assert_eq!(kind_of("Pkg.1.0.NUPKG"), Some(Kind::Zip));
        assert_eq!(kind_of("a.whl"), Some(Kind::Zip));
        assert_eq!(kind_of("x.tar.gz"), Some(Kind::TarGz));
        assert_eq!(kind_of("x.tgz"), Some(Kind::TarGz));
        assert_eq!(kind_of("x.tar.xz"), Some(Kind::TarXz));
        assert_eq!(kind_of("x.tar.bz2"), Some(Kind::TarBz2));
        assert_eq!(kind_of("x.tar"), Some(Kind::Tar));
        assert_eq!(kind_of("notes.txt"), None);
        assert_eq!(kind_of("archive.gz"), None);
    }
}
