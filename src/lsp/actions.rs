//! Quick fixes for a reported token: allow it with an inline comment in the
//! file's comment syntax, add it to the baseline (a command the server runs:
//! the file is written sorted, as `patscan baseline` writes it), or, where
//! the token is a whole string literal in a language that reads environment
//! variables, replace the literal with a read of one.
//!
//! No edit carries the token: the literal is replaced, the comment names
//! no value, and the baseline command carries the token's SHA-256 only.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Command, Diagnostic, Position, Range,
    TextEdit, Url, WorkspaceEdit,
};
use serde::{Deserialize, Serialize};

use crate::baseline::SecretHash;

use super::diagnose::{Found, SOURCE};
use super::language::{env_name, EnvStyle, Language};
use super::text::{utf16_len, Positions};

/// The command of the baseline action (`workspace/executeCommand`).
pub const ADD_TO_BASELINE: &str = "patscan.addToBaseline";

/// The marker the allow action writes.
pub const ALLOW_MARKER: &str = "patscan:allow";

/// The argument of [`ADD_TO_BASELINE`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BaselineArgs {
    pub uri: Url,
    pub rule_id: String,
    pub secret_sha256: SecretHash,
}

/// The document a code action is asked for.
pub struct Subject<'a> {
    pub uri: &'a Url,
    pub text: &'a str,
    pub language: Language,
    pub found: &'a [Found],
    /// The baseline file's name as the action's title shows it; `None`
    /// outside a workspace folder, where there is no baseline.
    pub baseline: Option<&'a str>,
}

/// The actions for the tokens that `range` touches. `diagnostics` are the
/// client's (from the request's context): each action names the ones it
/// fixes.
pub fn code_actions(
    subject: &Subject<'_>,
    range: Range,
    diagnostics: &[Diagnostic],
) -> Vec<CodeActionOrCommand> {
    let mut actions = Vec::new();
    for found in subject
        .found
        .iter()
        .filter(|f| f.range.start <= range.end && range.start <= f.range.end)
    {
        let fixes: Vec<Diagnostic> = diagnostics
            .iter()
            .filter(|d| d.range == found.range && d.source.as_deref() == Some(SOURCE))
            .cloned()
            .collect();
        let action = |title: String, edit: Option<WorkspaceEdit>, command: Option<Command>| {
            CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(fixes.clone()),
                edit,
                command,
                is_preferred: None,
                disabled: None,
                data: None,
            })
        };
        if let Some(style) = subject.language.env {
            if let Some((name, edits)) = env_replacement(subject.text, found, style) {
                let mut a = action(
                    format!("Replace the token with the environment variable {name}"),
                    Some(edit_of(subject.uri, edits)),
                    None,
                );
                if let CodeActionOrCommand::CodeAction(a) = &mut a {
                    a.is_preferred = Some(true);
                }
                actions.push(a);
            }
        }
        if let Some(comment) = subject.language.comment {
            let text = comment.around(ALLOW_MARKER);
            let at = line_end(subject.text, found);
            actions.push(action(
                format!("Allow this token here ({})", text.trim()),
                Some(edit_of(
                    subject.uri,
                    vec![TextEdit::new(Range::new(at, at), text)],
                )),
                None,
            ));
        }
        if let Some(baseline) = subject.baseline {
            let args = BaselineArgs {
                uri: subject.uri.clone(),
                rule_id: found.rule_id.clone(),
                secret_sha256: found.secret_sha256.clone(),
            };
            let title = format!("Add this token to the baseline ({baseline})");
            let command = Command {
                title: title.clone(),
                command: ADD_TO_BASELINE.to_string(),
                arguments: serde_json::to_value(args).ok().map(|v| vec![v]),
            };
            actions.push(action(title, None, Some(command)));
        }
    }
    actions
}

fn edit_of(uri: &Url, edits: Vec<TextEdit>) -> WorkspaceEdit {
    WorkspaceEdit {
        changes: Some(HashMap::from([(uri.clone(), edits)])),
        document_changes: None,
        change_annotations: None,
    }
}

/// The end of the line the token ends on (before a `\r\n`).
fn line_end(text: &str, found: &Found) -> Position {
    let rest = &text[found.end..];
    let mut end = memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len());
    if end > 0 && rest.as_bytes()[end - 1] == b'\r' {
        end -= 1;
    }
    Position::new(
        found.range.end.line,
        found.range.end.character + utf16_len(&rest[..end]),
    )
}

/// The variable's name and the edits that read it instead of the literal,
/// when the token is the whole of a plain string literal.
fn env_replacement(text: &str, found: &Found, style: EnvStyle) -> Option<(String, Vec<TextEdit>)> {
    let bytes = text.as_bytes();
    if !found.plain || found.start == 0 {
        return None;
    }
    let quote = bytes[found.start - 1];
    if !style.quotes().contains(&quote) || bytes.get(found.end) != Some(&quote) {
        return None;
    }
    let open = found.start - 1;
    // r"…", b"…", f"…", @"…", $"…": a literal of another kind, left alone.
    if open > 0 && (bytes[open - 1].is_ascii_alphanumeric() || b"_@$".contains(&bytes[open - 1])) {
        return None;
    }
    let line_start = memchr::memrchr(b'\n', &bytes[..open]).map_or(0, |i| i + 1);
    let name = assigned_key(&text[line_start..open])
        .and_then(|key| env_name(&key))
        .or_else(|| env_name(&found.rule_id))?;
    let mut positions = Positions::new(text);
    let literal = positions.range(open, found.end + 1);
    let mut edits = vec![TextEdit::new(literal, style.reference(&name))];
    if style == EnvStyle::Python {
        if let Some(line) = python_import_line(text) {
            let at = Position::new(line, 0);
            edits.insert(
                0,
                TextEdit::new(Range::new(at, at), "import os\n".to_string()),
            );
        }
    }
    Some((name, edits))
}

/// The name a literal is assigned to on its line: `token = "…"`,
/// `"apiKey": "…"`, `$env:PAT = '…'`, `API_KEY := "…"`.
fn assigned_key(before: &str) -> Option<String> {
    let before = before.trim_end();
    let before = [":=", "=>", "=", ":"]
        .iter()
        .find_map(|op| before.strip_suffix(op))?
        .trim_end()
        .trim_end_matches(['"', '\'']);
    let key = before
        .rsplit(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .next()?;
    (!key.is_empty()).then(|| key.to_string())
}

/// Where `import os` goes when the file lacks it: after a shebang, an
/// encoding line and `from __future__` imports, which must come first.
/// `None` when the file imports `os` already.
fn python_import_line(text: &str) -> Option<u32> {
    let mut at = 0;
    let mut leading = true;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line == "import os"
            || line.starts_with("import os ")
            || line.starts_with("import os,")
            || line.starts_with("import os;")
        {
            return None;
        }
        if leading
            && (line.starts_with("#!")
                || line.starts_with("# -*-")
                || line.starts_with("from __future__"))
        {
            at = number as u32 + 1;
        } else {
            leading = false;
        }
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, token: &str) -> Found {
        let start = text.find(token).unwrap();
        let end = start + token.len();
        Found {
            start,
            end,
            range: Positions::new(text).range(start, end),
            rule_id: "github-classic-pat".into(),
            secret_sha256: SecretHash::of(&crate::model::Secret::new(token.into())),
            plain: true,
        }
    }

    #[test]
    fn keys_before_a_literal_name_the_variable() {
        assert_eq!(assigned_key("const apiKey = ").as_deref(), Some("apiKey"));
        assert_eq!(
            assigned_key("  \"auth-token\": ").as_deref(),
            Some("auth-token")
        );
        assert_eq!(assigned_key("$env:PAT = ").as_deref(), Some("PAT"));
        assert_eq!(assigned_key("call(").as_deref(), None);
    }

    #[test]
    fn only_a_whole_plain_literal_is_replaced() {
        let token = "TOKENVALUE";
        let text = "x = 1\napi_key = \"TOKENVALUE\"\n";
        let (name, edits) = env_replacement(text, &found(text, token), EnvStyle::Python).unwrap();
        assert_eq!(name, "API_KEY");
        assert_eq!(edits[0].new_text, "import os\n");
        assert_eq!(edits[1].new_text, "os.environ[\"API_KEY\"]");
        assert_eq!(
            edits[1].range,
            Range::new(Position::new(1, 10), Position::new(1, 22))
        );
        for text in [
            "k = \"Bearer TOKENVALUE\"",
            "k = r\"TOKENVALUE\"",
            "k = 'TOKENVALUE\"",
        ] {
            assert!(
                env_replacement(text, &found(text, token), EnvStyle::Python).is_none(),
                "{text}"
            );
        }
        let text = "#!/usr/bin/env python\nfrom __future__ import annotations\nimport sys\n";
        assert_eq!(python_import_line(text), Some(2));
        assert_eq!(python_import_line("import os\n"), None);
        let text = "let t = \"TOKENVALUE\";";
        let (name, edits) = env_replacement(text, &found(text, token), EnvStyle::Rust).unwrap();
        assert_eq!((name.as_str(), edits.len()), ("T", 1));
        assert_eq!(edits[0].new_text, "std::env::var(\"T\")");
    }
}
