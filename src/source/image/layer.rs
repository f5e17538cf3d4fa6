//! One layer read as it streams: its digest computed over the stored
//! bytes (or, for a legacy `docker save` layer named only by its
//! uncompressed digest, over the tar), decompressed (gzip, zstd, or none:
//! told by the bytes, not the media type), its tar walked once. Regular
//! files go to a visitor (the scan stage's sink); what every entry does to
//! the file system is kept as a [`Listing`], from which the image's later
//! layers decide each earlier file's state.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use super::digest::{Digest, Hashing};
use super::store::normal;

/// What a layer does to the file system, as later layers are compared
/// with it.
#[derive(Debug, Default)]
pub struct Listing {
    /// Every path the layer writes, and whether it is a folder.
    pub entries: HashMap<String, bool>,
    /// Paths a whiteout (`.wh.NAME`) deletes.
    pub whiteouts: HashSet<String>,
    /// Folders an opaque whiteout (`.wh..wh..opq`) empties of what lower
    /// layers put there.
    pub opaque: HashSet<String>,
}

impl Listing {
    /// Records one tar entry; `true` when it is a file to scan.
    fn record(&mut self, path: &str, is_dir: bool) -> bool {
        let (dir, name) = match path.rsplit_once('/') {
            Some((dir, name)) => (dir, name),
            None => ("", path),
        };
        if let Some(rest) = name.strip_prefix(".wh.") {
            if rest == ".wh..opq" {
                self.opaque.insert(dir.to_string());
            } else if !rest.starts_with(".wh.") {
                // (`.wh..wh.plnk` and friends are aufs bookkeeping.)
                let deleted = if dir.is_empty() {
                    rest.to_string()
                } else {
                    format!("{dir}/{rest}")
                };
                self.whiteouts.insert(deleted);
            }
            return false;
        }
        self.entries.insert(path.to_string(), is_dir);
        !is_dir
    }
}

/// What a walk does with each regular file: its path, size and content.
pub type Visit<'a> = &'a mut dyn FnMut(&str, u64, &mut dyn Read) -> io::Result<()>;

/// How a layer read ended.
#[derive(Debug)]
pub struct Walked {
    pub listing: Listing,
    /// Bytes of the blob read, as stored.
    pub stored_bytes: u64,
    /// Why the layer is not whole (read error, corrupt data, a digest
    /// mismatch); `None` when every byte was read and verified.
    pub problem: Option<String>,
}

/// Reads the layer `blob`. `digest` names the stored bytes, `diff_id` the
/// tar inside (used when `digest` is `None`); `visit` gets each regular
/// file with its path and size (`None`: only list). `max_ratio` bounds
/// the expansion of compressed data.
pub fn walk(
    blob: Box<dyn Read + Send + '_>,
    digest: Option<&Digest>,
    diff_id: Option<&Digest>,
    max_ratio: u64,
    mut visit: Option<Visit<'_>>,
) -> Walked {
    let stored = Rc::new(Cell::new(0u64));
    let mut raw = Hashing::new(
        Counting {
            inner: blob,
            count: Rc::clone(&stored),
        },
        digest,
    );
    let mut listing = Listing::default();
    let inner_digest = if digest.is_none() { diff_id } else { None };
    let walked = (|| -> Result<Option<Digest>, String> {
        let mut buffered = BufReader::with_capacity(1 << 16, &mut raw);
        let head = buffered.fill_buf().map_err(read_error)?;
        let kind = compression_of(head);
        let decoded = Decoded::new_or_plain(kind, buffered)
            .map_err(|e| format!("not a readable compressed layer: {e}"))?;
        let guarded = RatioGuard {
            inner: decoded,
            produced: 0,
            consumed: Rc::clone(&stored),
            max_ratio: if kind.is_some() { max_ratio } else { 0 },
        };
        let mut tar_bytes = Hashing::new(guarded, inner_digest);
        {
            let mut archive = tar::Archive::new(&mut tar_bytes);
            let entries = archive
                .entries()
                .map_err(|e| format!("not a tar layer: {e}"))?;
            for entry in entries {
                let mut entry = entry.map_err(|e| format!("corrupt or truncated layer: {e}"))?;
                let path = normal(&String::from_utf8_lossy(&entry.path_bytes()));
                if path.is_empty() {
                    continue;
                }
                let kind = entry.header().entry_type();
                let scan = listing.record(&path, kind.is_dir()) && kind.is_file();
                if let (true, Some(visit)) = (scan, visit.as_mut()) {
                    let size = entry.size();
                    visit(&path, size, &mut entry).map_err(read_error)?;
                }
            }
        }
        // The tar's end is not the blob's: padding and the compressor's
        // trailer are part of what the digest covers.
        tar_bytes.finish().map_err(read_error)
    })();
    let problem = match walked {
        Err(message) => Some(message),
        Ok(found_diff) => match raw.finish() {
            Err(e) => Some(read_error(e)),
            Ok(found) => {
                let (expected, found) = match (digest, inner_digest) {
                    (Some(expected), _) => (Some(expected), found),
                    (None, Some(expected)) => (Some(expected), found_diff),
                    (None, None) => (None, None),
                };
                match expected {
                    Some(expected) if found.as_ref() != Some(expected) => Some(format!(
                        "content does not match its digest {} (found {}): the layer is not \
                         what the image names; what was found in it is reported, and it is \
                         not remembered as scanned",
                        expected.short(),
                        found.as_ref().map_or("none", |d| d.short())
                    )),
                    _ => None,
                }
            }
        },
    };
    Walked {
        listing,
        stored_bytes: stored.get(),
        problem,
    }
}

fn read_error(e: io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => format!("truncated: {e}"),
        _ => format!("read error: {e}"),
    }
}

/// Counts the bytes read through it, for the summary and the ratio bound.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Stops a decompressing stream whose output outgrows what it read by
/// more than `max_ratio` (after 1 MiB): a compression bomb, not a layer.
struct RatioGuard<R> {
    inner: R,
    produced: u64,
    consumed: Rc<Cell<u64>>,
    /// 0: unbounded (an uncompressed layer).
    max_ratio: u64,
}

impl<R: Read> Read for RatioGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        let input = self.consumed.get().max(1);
        if self.max_ratio > 0 && self.produced > (1 << 20) && self.produced / input > self.max_ratio
        {
            return Err(io::Error::other(format!(
                "expands more than {}x its compressed size: a compression bomb? stopped reading",
                self.max_ratio
            )));
        }
        Ok(n)
    }
}

/// A compression a blob's first bytes announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
}

/// A stream decompressed as its first bytes say.
pub enum Decoded<R: BufRead> {
    Plain(R),
    Gzip(Box<flate2::bufread::MultiGzDecoder<R>>),
    Zstd(Box<ZstdFrames<R>>),
}

/// The compression of a stream that starts with `head`, if any.
pub fn compression_of(head: &[u8]) -> Option<Compression> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Some(Compression::Gzip)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Compression::Zstd)
    } else {
        None
    }
}

impl<R: BufRead> Decoded<R> {
    pub fn new(kind: Compression, reader: R) -> io::Result<Decoded<R>> {
        Ok(match kind {
            Compression::Gzip => {
                Decoded::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(reader)))
            }
            Compression::Zstd => Decoded::Zstd(Box::new(ZstdFrames::new(reader))),
        })
    }

    fn new_or_plain(kind: Option<Compression>, reader: R) -> io::Result<Decoded<R>> {
        match kind {
            Some(kind) => Decoded::new(kind, reader),
            None => Ok(Decoded::Plain(reader)),
        }
    }
}

impl<R: BufRead> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoded::Plain(r) => r.read(buf),
            Decoded::Gzip(r) => r.read(buf),
            Decoded::Zstd(r) => r.read(buf),
        }
    }
}

/// zstd frames one after the other (a layer may hold several, as
/// `zstd:chunked` writes them), skippable frames skipped. Pure Rust
/// (`ruzstd`): no C compiler in the build.
pub struct ZstdFrames<R: BufRead> {
    state: Frames<R>,
}

enum Frames<R: BufRead> {
    Between(R),
    In(Box<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>),
    Done,
}

impl<R: BufRead> ZstdFrames<R> {
    fn new(reader: R) -> ZstdFrames<R> {
        ZstdFrames {
            state: Frames::Between(reader),
        }
    }
}

const SKIPPABLE: std::ops::RangeInclusive<u32> = 0x184D_2A50..=0x184D_2A5F;

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match std::mem::replace(&mut self.state, Frames::Done) {
                Frames::Done => return Ok(0),
                Frames::In(mut decoder) => {
                    let n = decoder.read(buf)?;
                    if n > 0 || buf.is_empty() {
                        self.state = Frames::In(decoder);
                        return Ok(n);
                    }
                    self.state = Frames::Between(decoder.into_inner());
                }
                Frames::Between(mut reader) => {
                    let head = reader.fill_buf()?;
                    if head.is_empty() {
                        return Ok(0);
                    }
                    // A skippable frame: its magic, its length, its bytes.
                    if head.len() >= 8 {
                        let number = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
                        if SKIPPABLE.contains(&number) {
                            let length = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
                            reader.consume(8);
                            io::copy(&mut (&mut reader).take(u64::from(length)), &mut io::sink())?;
                            self.state = Frames::Between(reader);
                            continue;
                        }
                    }
                    let decoder = ruzstd::decoding::StreamingDecoder::new(reader)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                    self.state = Frames::In(Box::new(decoder));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zstd_frames_one_after_another_and_skippable_ones_decode_whole() {
        use ruzstd::encoding::{compress_to_vec, CompressionLevel};
        let mut stream = compress_to_vec(&b"first frame, "[..], CompressionLevel::Fastest);
        // A skippable frame (as zstd:chunked writes its table of contents).
        stream.extend_from_slice(&0x184D_2A5Eu32.to_le_bytes());
        stream.extend_from_slice(&5u32.to_le_bytes());
        stream.extend_from_slice(b"skip!");
        stream.extend(compress_to_vec(
            &b"second frame"[..],
            CompressionLevel::Fastest,
        ));
        assert_eq!(compression_of(&stream), Some(Compression::Zstd));
        let mut decoded = Decoded::new(Compression::Zstd, &stream[..]).unwrap();
        let mut out = Vec::new();
        decoded.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"first frame, second frame");
        // Cut short: an error, not a short layer.
        let mut cut = Decoded::new(Compression::Zstd, &stream[..stream.len() - 3]).unwrap();
        assert!(cut.read_to_end(&mut Vec::new()).is_err());
    }

    #[test]
    fn whiteouts_and_opaque_folders_are_listed_not_scanned() {
        let mut listing = Listing::default();
        assert!(listing.record("etc/npmrc", false));
        assert!(!listing.record("etc", true));
        assert!(!listing.record("app/.wh.secret.txt", false));
        assert!(!listing.record("cache/.wh..wh..opq", false));
        assert!(!listing.record(".wh.top", false));
        assert!(!listing.record(".wh..wh.plnk", false));
        assert!(listing.whiteouts.contains("app/secret.txt"));
        assert!(listing.whiteouts.contains("top"));
        assert!(listing.opaque.contains("cache"));
        assert_eq!(listing.whiteouts.len(), 2);
        assert_eq!(listing.entries.get("etc"), Some(&true));
    }
}
