//! Steps inside one log. Azure Pipelines keeps a log per task, so the
//! timeline names the step; a GitHub Actions job log and a GitLab job
//! trace are one stream per job, with a line that opens each step
//! (`##[group]Run …`, `section_start:TIME:NAME`). [`Marked`] reads the
//! stream through to the scan stage and notes, as it passes, the line at
//! which each step starts, so a finding's line can be named by its step
//! without the log ever being held or read twice.

use std::io::{self, Read};

/// Which step markers a log has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markers {
    /// One log per step: nothing to look for.
    None,
    /// GitHub Actions: `TIMESTAMP ##[group]Run NAME`.
    GithubGroup,
    /// GitLab: `\x1b[0Ksection_start:TIME:NAME[opts]\r\x1b[0K…`.
    GitlabSection,
}

/// The first bytes of a line kept to look for a marker in.
const HEAD: usize = 512;
/// A step's name is cut to this many characters.
const NAME: usize = 100;

/// A reader that counts lines and notes where each step starts.
pub struct Marked<R> {
    inner: R,
    markers: Markers,
    /// The 1-based number of the line being read.
    line: usize,
    head: Vec<u8>,
    /// `(first line, step name)`, in order.
    steps: Vec<(usize, String)>,
}

impl<R: Read> Marked<R> {
    pub fn new(inner: R, markers: Markers) -> Marked<R> {
        Marked {
            inner,
            markers,
            line: 1,
            head: Vec::with_capacity(HEAD),
            steps: Vec::new(),
        }
    }

    /// The reader back, and the steps seen, each with the line it starts
    /// at.
    pub fn split(mut self) -> (R, Steps) {
        self.end_of_line();
        (self.inner, Steps(self.steps))
    }

    fn end_of_line(&mut self) {
        if let Some(name) = marker(self.markers, &self.head) {
            self.steps.push((self.line, name));
        }
        self.head.clear();
    }

    fn note(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while let Some(at) = memchr::memchr(b'\n', rest) {
            self.keep(&rest[..at]);
            self.end_of_line();
            self.line += 1;
            rest = &rest[at + 1..];
        }
        self.keep(rest);
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = HEAD - self.head.len();
        self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

impl<R: Read> Read for Marked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.markers != Markers::None {
            self.note(&buf[..n]);
        }
        Ok(n)
    }
}

/// Where each step of a log starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Steps(Vec<(usize, String)>);

impl Steps {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The step that line `line` belongs to, if any started before it.
    pub fn at(&self, line: usize) -> Option<(usize, &str)> {
        let i = self.0.partition_point(|(start, _)| *start <= line);
        let (start, name) = self.0.get(i.checked_sub(1)?)?;
        Some((*start, name.as_str()))
    }
}

/// The step a line opens, if it is a marker.
fn marker(markers: Markers, line: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let name = match markers {
        Markers::None => return None,
        Markers::GithubGroup => {
            // After the timestamp (`2026-12-07T01:02:03.4567890Z `).
            let rest = text.split_once(' ').map_or(&*text, |(_, r)| r);
            let rest = rest.strip_prefix("\u{feff}").unwrap_or(rest);
            rest.strip_prefix("##[group]Run ")?.trim().to_string()
        }
        Markers::GitlabSection => {
            let at = text.find("section_start:")?;
            let rest = &text[at + "section_start:".len()..];
            let (_, rest) = rest.split_once(':')?;
            let end = rest
                .find(|c: char| c == '[' || c == '\r' || c == '\x1b' || c.is_whitespace())
                .unwrap_or(rest.len());
            rest[..end].to_string()
        }
    };
    let name: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(NAME)
        .collect();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps_of(text: &str, markers: Markers, piece: usize) -> Steps {
        let mut marked = Marked::new(text.as_bytes(), markers);
        let mut buf = vec![0u8; piece];
        let mut all = Vec::new();
        loop {
            let n = marked.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        assert_eq!(all, text.as_bytes(), "the bytes pass through unchanged");
        marked.split().1
    }

    #[test]
    fn github_run_groups_name_the_steps_whatever_the_read_sizes() {
        let log = "2026-12-07T01:00:00.0000000Z ##[group]Run actions/checkout@v4\n\
                   2026-12-07T01:00:01.0000000Z with: x\n\
                   2026-12-07T01:00:02.0000000Z ##[group]Operating System\n\
                   2026-12-07T01:00:03.0000000Z ##[group]Run ./build.sh --verbose\n\
                   2026-12-07T01:00:04.0000000Z + echo hi\n";
        for piece in [1, 3, 7, 64, 4096] {
            let steps = steps_of(log, Markers::GithubGroup, piece);
            assert_eq!(steps.at(2), Some((1, "actions/checkout@v4")), "{piece}");
            assert_eq!(steps.at(3), Some((1, "actions/checkout@v4")));
            assert_eq!(steps.at(5), Some((4, "./build.sh --verbose")));
        }
    }

    #[test]
    fn gitlab_sections_name_the_steps() {
        let log = "Running with gitlab-runner\n\
                   \x1b[0Ksection_start:1700000000:prepare_script[collapsed=true]\r\x1b[0KPreparing\n\
                   ok\n\
                   \x1b[0Ksection_start:1700000001:step_script\r\x1b[0KExecuting\n\
                   $ ./deploy.sh\n";
        let steps = steps_of(log, Markers::GitlabSection, 5);
        assert_eq!(steps.at(1), None);
        assert_eq!(steps.at(3), Some((2, "prepare_script")));
        assert_eq!(steps.at(5), Some((4, "step_script")));
    }

    #[test]
    fn logs_without_markers_name_no_step() {
        let steps = steps_of("a\n##[group]Run x\n", Markers::None, 4);
        assert_eq!(steps.at(2), None);
    }
}
