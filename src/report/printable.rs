//! Text from scanned input made safe to print to a terminal or a CI log.
//!
//! A path, a line of a file or a commit summary is chosen by whoever wrote
//! the repository. Printed raw, an escape sequence in it can repaint the
//! terminal (hide the finding, fake a clean result) and a carriage return
//! or newline can forge a line of patscan's own output, or a workflow
//! command that a CI runner reads from the start of a line. Every C0 and
//! C1 control character except tab is shown as its Rust escape instead.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with its control characters (but tab) escaped as `\n`, `\r`,
/// `\u{1b}` and so on; borrowed when there is nothing to escape, which is
/// nearly always.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c != '\t' && c.is_control()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let text = "src/app.rs\tconst token = \"é\";";
        assert!(matches!(printable(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn escapes_newlines_and_terminal_sequences() {
        assert_eq!(
            printable("a\nb\r\u{1b}[2Kc\u{7f}\u{9b}"),
            "a\\nb\\r\\u{1b}[2Kc\\u{7f}\\u{9b}"
        );
    }
}
