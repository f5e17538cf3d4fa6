//! Templates: text with `{{token:FAMILY}}` and `{{corrupt:FAMILY}}`
//! placeholders, filled by a [`Maker`] with each token's place recorded.
//! The test suite's maker generates checksum-valid tokens
//! (`tokengen::fill_template`, test support only); custom rules' examples
//! are filled from the rules' patterns (`rules::examples`).

use thiserror::Error;

use super::TokenRng;

/// Where a placeholder's token landed in the filled text. A release build
/// (checking custom rules' examples) reads only `valid`, `token` and
/// `offset`; the rest is for the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(any(test, feature = "test-support")), allow(dead_code))]
pub struct Placement {
    /// The rule that must find the token: the family named by the
    /// placeholder, or the rule a variant of it belongs to
    /// ([`Maker::rule_of`]).
    pub family: String,
    /// `true` for `{{token:…}}`, `false` for `{{corrupt:…}}`.
    pub valid: bool,
    /// The inserted token.
    pub token: String,
    /// Byte offset of the token in [`Filled::text`].
    pub offset: usize,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in chars (Unicode scalar values) from the
    /// start of the line, the way editors and SARIF consumers count.
    pub column: usize,
}

/// A filled template: the text plus where each token went, so tests can
/// assert the scanner reports exactly those positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    pub text: String,
    pub placements: Vec<Placement>,
}

/// Why a template could not be filled; each variant names the placeholder
/// and its 1-based line so the offending fixture is easy to find.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    #[error("line {line}: unknown token family `{family}` in placeholder `{placeholder}`")]
    UnknownFamily {
        placeholder: String,
        family: String,
        line: usize,
    },
    #[error("line {line}: unterminated placeholder `{placeholder}` (no `}}}}` on the same line)")]
    Unterminated { placeholder: String, line: usize },
    #[error(
        "line {line}: placeholder `{placeholder}` asks for a corrupt token, but `{family}` has no checksum"
    )]
    NoChecksum {
        placeholder: String,
        family: String,
        line: usize,
    },
    #[error("line {line}: no token of `{family}` could be made for placeholder `{placeholder}`")]
    Failed {
        placeholder: String,
        family: String,
        line: usize,
    },
}

/// Why a [`Maker`] made no token for a placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such family.
    Unknown,
    /// A corrupt token was asked of a family without a checksum.
    NoChecksum,
    /// The family is known but no token could be drawn.
    Failed,
}

/// What turns a placeholder's family into a token.
pub trait Maker {
    /// A token of `family`: one its rule accepts when `valid`, else one of
    /// its shape whose checksum fails.
    fn make(&mut self, family: &str, valid: bool, rng: &mut TokenRng) -> Result<String, Refusal>;

    /// The rule a family's tokens are reported under (a variant names the
    /// rule it belongs to).
    fn rule_of<'f>(&self, family: &'f str) -> &'f str {
        family
    }
}

/// Placeholder openers and whether they produce a valid token.
const PLACEHOLDER_KINDS: &[(&str, bool)] = &[("{{token:", true), ("{{corrupt:", false)];
const PLACEHOLDER_CLOSE: &str = "}}";
/// Unterminated placeholders are quoted up to this many chars in errors.
const ERROR_QUOTE_CHARS: usize = 60;

/// Output text plus the 1-based line/column of its end, maintained
/// incrementally so placement positions cost nothing extra.
struct Writer {
    text: String,
    line: usize,
    column: usize,
}

impl Writer {
    fn push(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        self.text.push_str(s);
    }
}

/// Replaces every `{{token:FAMILY}}` and `{{corrupt:FAMILY}}` with what
/// `maker` makes, recording each placement. Other `{{…}}` text (e.g. GitHub
/// Actions `${{ secrets.X }}`) is left alone. A placeholder must close on
/// its own line.
pub fn fill_with(
    template: &str,
    rng: &mut TokenRng,
    maker: &mut dyn Maker,
) -> Result<Filled, TemplateError> {
    let mut out = Writer {
        text: String::with_capacity(template.len() + 256),
        line: 1,
        column: 1,
    };
    let mut placements = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push(&rest[..start]);
        rest = &rest[start..];
        let Some(&(opener, valid)) = PLACEHOLDER_KINDS.iter().find(|(o, _)| rest.starts_with(o))
        else {
            // Not ours: emit one `{` and rescan, so `{{{token:x}}}` still works.
            out.push("{");
            rest = &rest[1..];
            continue;
        };
        let (family, len) = parse_placeholder(rest, opener, out.line)?;
        let placeholder = &rest[..len];
        let token = maker.make(family, valid, rng).map_err(|refusal| {
            let (placeholder, family, line) =
                (placeholder.to_string(), family.to_string(), out.line);
            match refusal {
                Refusal::Unknown => TemplateError::UnknownFamily {
                    placeholder,
                    family,
                    line,
                },
                Refusal::NoChecksum => TemplateError::NoChecksum {
                    placeholder,
                    family,
                    line,
                },
                Refusal::Failed => TemplateError::Failed {
                    placeholder,
                    family,
                    line,
                },
            }
        })?;
        placements.push(Placement {
            family: maker.rule_of(family).to_string(),
            valid,
            token: token.clone(),
            offset: out.text.len(),
            line: out.line,
            column: out.column,
        });
        out.push(&token);
        rest = &rest[len..];
    }
    out.push(rest);
    Ok(Filled {
        text: out.text,
        placements,
    })
}

/// Splits `{{kind:FAMILY}}…` into the family and the placeholder's length.
fn parse_placeholder<'a>(
    rest: &'a str,
    opener: &str,
    line: usize,
) -> Result<(&'a str, usize), TemplateError> {
    let line_end = rest.find('\n').unwrap_or(rest.len());
    let this_line = &rest[..line_end];
    match this_line[opener.len()..].find(PLACEHOLDER_CLOSE) {
        Some(rel) => {
            let family = &this_line[opener.len()..opener.len() + rel];
            Ok((family, opener.len() + rel + PLACEHOLDER_CLOSE.len()))
        }
        None => Err(TemplateError::Unterminated {
            placeholder: this_line.chars().take(ERROR_QUOTE_CHARS).collect(),
            line,
        }),
    }
}
