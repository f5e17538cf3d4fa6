//! Escaping for the two places input lands in the HTML report: element
//! text and attribute values, and the JSON data island. Paths, snippets,
//! author names and commit summaries are all attacker-controlled (anyone
//! who can commit chooses them), so nothing from input is written raw.

use std::fmt;

/// Text or a double- or single-quoted attribute value, escaped: `&`, `<`,
/// `>`, `"` and `'` become character references.
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// JSON text made safe inside `<script type="application/json">`: `<`,
/// `>` and `&` become `\u003c`, `\u003e` and `\u0026`, so no string can
/// close the element (`</script>`) or open a comment (`<!--`), and U+2028
/// and U+2029 are escaped for any consumer that reads the island as
/// JavaScript. Those characters only occur inside JSON strings, where the
/// escapes mean the same thing, so the result parses to the same value.
pub fn script_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for ch in json.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_references() {
        assert_eq!(
            Esc(r#"<script>alert("x" & 'y')</script>"#).to_string(),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(Esc("plain/path.rs é").to_string(), "plain/path.rs é");
    }

    #[test]
    fn the_island_cannot_close_its_script_and_still_parses() {
        let value = serde_json::json!({
            "path": "</script><script>alert(1)</script><!--",
            "summary": "a & b \u{2028} c \u{2029}",
        });
        let safe = script_safe_json(&serde_json::to_string(&value).unwrap());
        for bad in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
            assert!(!safe.contains(bad), "{bad:?} in {safe}");
        }
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
    }
}
