//! A document's text as the protocol addresses it: lines end at `\n` (a
//! `\r` before it belongs to the line break), and a character offset counts
//! UTF-16 code units, the protocol's default position encoding, so an emoji
//! before a token moves it two characters, not one, and not four bytes.
//!
//! Nothing here keeps a line index: an edit or a finding's position is found
//! with one `memchr` pass over the text before it, which for a 10,000-line
//! file costs microseconds and keeps 1,000 open documents at their text's size.

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};
use memchr::{memchr_iter, memrchr};

/// The byte offset of `position` in `text`. A line past the end is the end
/// of the text; a character past its line's end is the line's end (before
/// its `\r\n`), and one inside a surrogate pair is the character's start.
pub fn offset_of(text: &str, position: Position) -> usize {
    let line_start = match position.line {
        0 => 0,
        line => match memchr_iter(b'\n', text.as_bytes()).nth(line as usize - 1) {
            Some(newline) => newline + 1,
            None => return text.len(),
        },
    };
    let rest = &text[line_start..];
    let line_end = memchr::memchr(b'\n', rest.as_bytes()).map_or(rest.len(), |i| {
        if i > 0 && rest.as_bytes()[i - 1] == b'\r' {
            i - 1
        } else {
            i
        }
    });
    let line = &rest[..line_end];
    let wanted = position.character as usize;
    if line.is_ascii() {
        return line_start + wanted.min(line.len());
    }
    let mut units = 0;
    for (at, c) in line.char_indices() {
        if units + c.len_utf16() > wanted {
            return line_start + at;
        }
        units += c.len_utf16();
    }
    line_start + line.len()
}

/// UTF-16 code units in `text`.
pub fn utf16_len(text: &str) -> u32 {
    if text.is_ascii() {
        return text.len() as u32;
    }
    text.chars().map(|c| c.len_utf16() as u32).sum()
}

/// Applies one change of a `didChange` notification: a range replaced, or
/// (no range) the whole text.
pub fn apply_change(text: &mut String, change: &TextDocumentContentChangeEvent) {
    match change.range {
        Some(range) => {
            let start = offset_of(text, range.start);
            let end = offset_of(text, range.end).max(start);
            text.replace_range(start..end, &change.text);
        }
        None => {
            text.clear();
            text.push_str(&change.text);
        }
    }
}

/// Protocol positions of byte offsets met in increasing order: each costs
/// the text between it and the one before, so a document's findings cost
/// one pass over it. An offset before the last one starts over.
pub struct Positions<'t> {
    text: &'t str,
    line: u32,
    line_start: usize,
}

impl<'t> Positions<'t> {
    pub fn new(text: &'t str) -> Positions<'t> {
        Positions {
            text,
            line: 0,
            line_start: 0,
        }
    }

    /// The byte offset of a scanner position: 1-based line, 1-based column
    /// in characters (Unicode scalar values).
    pub fn offset_of_line_column(&mut self, line: usize, column: usize) -> usize {
        let line = line.saturating_sub(1) as u32;
        if line < self.line {
            *self = Positions::new(self.text);
        }
        let bytes = self.text.as_bytes();
        if line > self.line {
            let skip = (line - self.line) as usize;
            match memchr_iter(b'\n', &bytes[self.line_start..]).nth(skip - 1) {
                Some(newline) => {
                    self.line_start += newline + 1;
                    self.line = line;
                }
                None => return self.text.len(),
            }
        }
        advance_chars(self.text, self.line_start, column.saturating_sub(1))
    }

    /// The protocol position of `offset` (a character boundary).
    pub fn position(&mut self, offset: usize) -> Position {
        if offset < self.line_start {
            *self = Positions::new(self.text);
        }
        let bytes = &self.text.as_bytes()[self.line_start..offset];
        let newlines = memchr_iter(b'\n', bytes).count();
        if newlines > 0 {
            self.line += newlines as u32;
            self.line_start += memrchr(b'\n', bytes).map_or(0, |i| i + 1);
        }
        Position::new(self.line, utf16_len(&self.text[self.line_start..offset]))
    }

    /// The range of `start..end`.
    pub fn range(&mut self, start: usize, end: usize) -> Range {
        let start = self.position(start);
        Range::new(start, self.position(end))
    }
}

/// The offset `chars` characters after `from`, at most the text's end.
pub fn advance_chars(text: &str, from: usize, chars: usize) -> usize {
    let rest = &text[from..];
    match rest.char_indices().nth(chars) {
        Some((at, _)) => from + at,
        None => text.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(
        range: Option<((u32, u32), (u32, u32))>,
        text: &str,
    ) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: range.map(|(a, b)| Range::new(Position::new(a.0, a.1), Position::new(b.0, b.1))),
            range_length: None,
            text: text.to_string(),
        }
    }

    #[test]
    fn positions_count_utf16_code_units() {
        let text = "ab\n😀é token\r\nlast";
        // 😀 is two UTF-16 units and four bytes; é one unit and two bytes.
        assert_eq!(offset_of(text, Position::new(1, 0)), 3);
        assert_eq!(offset_of(text, Position::new(1, 2)), 7);
        assert_eq!(offset_of(text, Position::new(1, 1)), 3, "inside a pair");
        assert_eq!(offset_of(text, Position::new(1, 3)), 9);
        assert_eq!(offset_of(text, Position::new(1, 4)), 10);
        assert_eq!(
            offset_of(text, Position::new(1, 99)),
            15,
            "before the \\r\\n"
        );
        assert_eq!(offset_of(text, Position::new(2, 2)), 19);
        assert_eq!(offset_of(text, Position::new(7, 0)), text.len());
        let mut positions = Positions::new(text);
        assert_eq!(positions.position(10), Position::new(1, 4));
        assert_eq!(positions.position(15), Position::new(1, 9));
        assert_eq!(positions.position(19), Position::new(2, 2));
        assert_eq!(positions.position(3), Position::new(1, 0), "starts over");
        assert_eq!(positions.offset_of_line_column(2, 4), 10);
        assert_eq!(positions.offset_of_line_column(3, 1), 17);
        assert_eq!(positions.offset_of_line_column(1, 2), 1);
    }

    #[test]
    fn partial_edits_apply_in_order() {
        let mut text = String::from("let a = 1;\n😀 b = 2;\n");
        apply_change(&mut text, &change(Some(((1, 3), (1, 4))), "c"));
        assert_eq!(text, "let a = 1;\n😀 c = 2;\n");
        apply_change(&mut text, &change(Some(((0, 10), (1, 2))), ""));
        assert_eq!(text, "let a = 1; c = 2;\n");
        apply_change(&mut text, &change(Some(((1, 0), (1, 0))), "x"));
        assert_eq!(text, "let a = 1; c = 2;\nx");
        apply_change(&mut text, &change(None, "new"));
        assert_eq!(text, "new");
        // A client's mistakes never panic: past the end, reversed, inside
        // a surrogate pair.
        apply_change(&mut text, &change(Some(((9, 9), (12, 0))), "!"));
        assert_eq!(text, "new!");
        apply_change(&mut text, &change(Some(((0, 3), (0, 1))), "?"));
        assert_eq!(text, "new?!");
        let mut text = String::from("😀x");
        apply_change(&mut text, &change(Some(((0, 1), (0, 3))), ""));
        assert_eq!(text, "");
    }
}
