//! The parts of an image config where tokens land, as text to scan, one
//! entry per line: `Env` (`ENV` and, through the build, `ARG`), `Cmd` and
//! `Entrypoint`, `Labels`, `OnBuild`, and the build `history`, whose
//! `created_by` holds each `RUN` line with the build arguments it used.
//! A finding's line is the entry's number, from 1.

use serde_json::Value;

/// The fields scanned, each as `(name, text)`; absent fields are left out.
pub fn fields(config: &Value) -> Vec<(&'static str, String)> {
    let inner = &config["config"];
    let mut out = Vec::new();
    let lines = |value: &Value| -> Option<String> {
        let items = value.as_array()?;
        Some(
            items
                .iter()
                .map(|v| one_line(v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    };
    for (name, value) in [("Env", &inner["Env"]), ("OnBuild", &inner["OnBuild"])] {
        if let Some(text) = lines(value) {
            out.push((name, text));
        }
    }
    // A command is one entry: its arguments on one line.
    for name in ["Entrypoint", "Cmd"] {
        if let Some(items) = inner[name].as_array() {
            let words: Vec<String> = items
                .iter()
                .map(|v| one_line(v.as_str().unwrap_or_default()))
                .collect();
            out.push((name, words.join(" ")));
        }
    }
    if let Some(labels) = inner["Labels"].as_object() {
        let text: Vec<String> = labels
            .iter()
            .map(|(k, v)| one_line(&format!("{k}={}", v.as_str().unwrap_or_default())))
            .collect();
        out.push(("Labels", text.join("\n")));
    }
    if let Some(history) = config["history"].as_array() {
        let text: Vec<String> = history
            .iter()
            .map(|step| {
                let created_by = step["created_by"].as_str().unwrap_or_default();
                match step["comment"].as_str() {
                    Some(comment) if !comment.is_empty() => {
                        one_line(&format!("{created_by} # {comment}"))
                    }
                    _ => one_line(created_by),
                }
            })
            .collect();
        out.push(("history", text.join("\n")));
    }
    out
}

/// An entry on one line: its own line breaks (a multi-line `RUN`) become
/// spaces, so line N stays entry N.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_entry_is_one_line() {
        let config = serde_json::json!({
            "config": {
                "Env": ["PATH=/bin", "TOKEN=x\ny"],
                "Cmd": ["sh", "-c", "run"],
                "Labels": {"a": "1"}
            },
            "history": [
                {"created_by": "ADD file"},
                {"created_by": "RUN a", "comment": "buildkit"}
            ]
        });
        let fields = fields(&config);
        let get = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.as_str())
        };
        assert_eq!(get("Env"), Some("PATH=/bin\nTOKEN=x y"));
        assert_eq!(get("Cmd"), Some("sh -c run"));
        assert_eq!(get("Labels"), Some("a=1"));
        assert_eq!(get("history"), Some("ADD file\nRUN a # buildkit"));
        assert_eq!(get("Entrypoint"), None);
    }
}
