//! Where a source's inputs go: the [`Sink`] the scan stage defines and
//! every source feeds. A source walks a folder, lists a history or reads
//! an index; for each input it says what identifies it ([`Input`]), asks
//! the sink whether to read it at all ([`Sink::wants`]), and hands over
//! the content (bytes or a reader) with where its findings are reported.
//!
//! The sink decides the rest: decoding, detection, counting, and, when a
//! cache is on, what an earlier scan learnt. A source never consults the
//! cache; it only keeps its promise not to read what the sink declined,
//! so a clean file or blob an earlier scan saw costs neither a read nor an
//! inflate.

use std::fs::Metadata;
use std::io::{self, Read, Seek};
use std::path::Path;

use gix::hash::ObjectId;

use crate::model::Origin;

/// What identifies an input across scans, known before reading it.
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    /// Nothing stable (standard input, a staged blob): always read.
    None,
    /// A file of a folder scan: its path and what its metadata says (size,
    /// times, inode). The sink may open the path itself to compare the
    /// content with what it knew.
    File { path: &'a Path, meta: &'a Metadata },
    /// A git blob, named by its content.
    Blob(&'a ObjectId),
}

/// One input, as a source announces it.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The name it is scanned under: a file's path as shown, a blob's path
    /// in its tree. An archive's name says that it is opened as one.
    pub name: &'a str,
    pub key: Key<'a>,
}

impl<'a> Input<'a> {
    pub fn file(name: &'a str, path: &'a Path, meta: &'a Metadata) -> Input<'a> {
        Input {
            name,
            key: Key::File { path, meta },
        }
    }

    pub fn blob(name: &'a str, id: &'a ObjectId) -> Input<'a> {
        Input {
            name,
            key: Key::Blob(id),
        }
    }
}

/// A container of inputs named by the digest of its content (an image
/// layer): the scan stage may know it whole, so it is asked about before
/// the source reads any of it. Its members are inputs of their own
/// (announced with [`Key::None`]), named `prefix` and their path.
#[derive(Debug, Clone, Copy)]
pub struct Group<'a> {
    /// The digest the source verifies its content against as it reads;
    /// `None` when nothing names it (it is then neither looked up nor
    /// remembered).
    pub digest: Option<&'a str>,
    /// The name of its members up to their own path (`app:1.2!/`).
    pub prefix: &'a str,
}

/// A reader the sink can also rewind (to hash a file's lines again, or to
/// seek in a zip archive).
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// Where an input's findings are reported: the path to show and their
/// provenance. Asked only when the input had findings, so a source may
/// look things up for it (a git blob's commit is read only then).
pub type Locate<'a> = &'a (dyn Fn() -> (String, Origin) + 'a);

/// What a source feeds, one input at a time: [`Sink::wants`] first, then
/// exactly one of the other calls with the ticket it gave (a stream that
/// failed gives it back, for one more).
pub trait Sink {
    /// What the sink needs back with the input's content.
    type Ticket;

    /// What the sink needs back when a [`Group`] is closed.
    type Group;

    /// Asked before the source reads anything of `group`. `None`: the
    /// scan stage knows it (an earlier layer of that digest was clean)
    /// and has counted its members as that scan did; the source must not
    /// read it. Otherwise every input fed until [`Sink::close_group`] is
    /// one of its members.
    fn open_group(&mut self, group: &Group<'_>) -> Option<Self::Group>;

    /// The group's last member was fed. `whole`: every member was read
    /// and the content matched its digest; only then is it remembered.
    /// Returns how many findings its members had.
    fn close_group(&mut self, group: Self::Group, whole: bool) -> usize;

    /// Asked before the source reads anything of `input`. `None`: the
    /// scan stage knows it already (an earlier scan under the same
    /// detection key found it clean) and has counted it as that scan
    /// did; the source must not read it.
    fn wants(&mut self, input: &Input<'_>) -> Option<Self::Ticket>;

    /// The input is over `--max-file-size` (its size known without
    /// reading it): counted, and remembered, but not read.
    fn too_large(&mut self, ticket: Self::Ticket);

    /// The source could not read the input after all (a missing or
    /// damaged object, reported by the source): nothing is remembered.
    fn unread(&mut self, ticket: Self::Ticket);

    /// The whole content, in memory (a git blob). Returns how many
    /// findings it had.
    fn bytes(
        &mut self,
        ticket: Self::Ticket,
        input: &Input<'_>,
        bytes: &[u8],
        locate: Locate<'_>,
    ) -> usize;

    /// The whole content as a stream that cannot be rewound (a large git
    /// blob, inflated as it is read, so it is never whole in memory).
    /// Returns how many findings it had. A read error counts and
    /// remembers nothing and drops what was found: the ticket comes back
    /// with it, for the source to hand the content over another way.
    fn stream(
        &mut self,
        ticket: Self::Ticket,
        input: &Input<'_>,
        stream: &mut dyn Read,
        locate: Locate<'_>,
    ) -> Result<usize, (Self::Ticket, io::Error)>;

    /// Whether the last `count` findings delivered (by [`Sink::stream`])
    /// still lack their line hash: a stream longer than the scanner's
    /// buffer cannot be hashed in the same pass, since a line's hash
    /// depends on the text after it. Then the source hands the content
    /// over once more, to [`Sink::hash_lines`].
    fn needs_line_hashes(&self, count: usize) -> bool {
        let _ = count;
        false
    }

    /// The content of the input just streamed, read again from its start,
    /// for the line hashes of its last `count` findings (after
    /// [`Sink::needs_line_hashes`]). Best effort: an error leaves them
    /// without.
    fn hash_lines(&mut self, count: usize, content: &mut dyn Read) {
        let _ = (count, content);
    }

    /// The content as a reader of `size` bytes, read to its end (a file).
    /// Returns how many findings it had; an error is a read error, after
    /// which what was found before it is kept and nothing is remembered.
    fn reader(
        &mut self,
        ticket: Self::Ticket,
        input: &Input<'_>,
        reader: &mut dyn ReadSeek,
        size: u64,
        locate: Locate<'_>,
    ) -> io::Result<usize>;
}
