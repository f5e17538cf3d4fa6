//! The README and the handbook under `docs/` document what the binary does:
//! the supported-token table (`docs/tokens.md`) is `patscan rules
//! --markdown`, so a rule added, removed or changed without the table
//! following fails here; every relative link in them resolves, down to the
//! heading it names; every page is reachable from the README; and the
//! shell completions and manual page the docs tell people to install are
//! produced from the command-line definitions.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::*;

const START: &str = "<!-- rules-table:start";
const END: &str = "<!-- rules-table:end -->";

#[test]
fn the_supported_tokens_table_is_the_rule_files() {
    let page = std::fs::read_to_string(repo_root().join("docs/tokens.md")).unwrap();
    let start = page
        .find(START)
        .expect("docs/tokens.md has the rules-table start marker");
    let body_start = start + page[start..].find('\n').expect("marker line ends") + 1;
    let end = page
        .find(END)
        .expect("docs/tokens.md has the rules-table end marker");
    let documented = &page[body_start..end];
    let output = patscan().args(["rules", "--markdown"]).output().unwrap();
    assert!(output.status.success());
    let generated = String::from_utf8(output.stdout).unwrap();
    assert!(
        documented == generated,
        "docs/tokens.md's table is out of date: replace it with the output of \
         `cargo run -q -- rules --markdown`"
    );
}

#[test]
fn every_rule_names_its_provider() {
    let set = patscan::rules::builtin().unwrap();
    for rule in set.rules() {
        assert!(
            !rule.spec.family.is_empty(),
            "{} has no family",
            rule.spec.id
        );
    }
}

// ------------------------------------------------------------ links

/// README.md and every page under docs/.
fn pages() -> Vec<PathBuf> {
    let root = repo_root();
    let mut pages = vec![root.join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The Markdown outside fenced code blocks, line by line.
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            lines.push(line);
        }
    }
    lines
}

/// `text` without its inline code spans (a `[x](y)` in code is no link).
fn without_code(text: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for c in text.chars() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            out.push(c);
        }
    }
    out
}

/// The targets of the inline links `[text](target)` on a line.
fn link_targets(line: &str) -> Vec<String> {
    let line = without_code(line);
    let mut targets = Vec::new();
    let mut rest = line.as_str();
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let Some(end) = after.find(')') else { break };
        let target = after[..end].split_whitespace().next().unwrap_or("");
        targets.push(target.to_string());
        rest = &after[end..];
    }
    targets
}

/// GitHub's anchor for a heading: the rendered text lower-cased, without
/// punctuation but `-` and `_`, spaces turned into `-`.
fn slug(heading: &str) -> String {
    // Links in a heading render as their text.
    let mut text = String::new();
    let mut rest = heading;
    while let Some(open) = rest.find('[') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match (after.find("]("), after.find(')')) {
            (Some(close), Some(end)) if close < end => {
                text.push_str(&after[..close]);
                rest = &after[end + 1..];
            }
            _ => {
                text.push('[');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text.to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a page's headings, with GitHub's `-1`, `-2` suffixes for
/// repeated ones.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    for line in prose(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if hashes == 0 || hashes > 6 || !line[hashes..].starts_with(' ') {
            continue;
        }
        let base = slug(line[hashes..].trim());
        let mut anchor = base.clone();
        let mut n = 0;
        while anchors.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        anchors.insert(anchor);
    }
    anchors
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_relative_link_resolves() {
    let root = repo_root();
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = read(&page);
        let name = page.strip_prefix(&root).unwrap().display().to_string();
        for line in prose(&text) {
            for target in link_targets(line) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (file, anchor) = match target.split_once('#') {
                    Some((file, anchor)) => (file, Some(anchor)),
                    None => (target.as_str(), None),
                };
                let dest = if file.is_empty() {
                    page.clone()
                } else {
                    page.parent().unwrap().join(file)
                };
                if !dest.exists() {
                    broken.push(format!("{name}: {target}: no file {}", dest.display()));
                    continue;
                }
                if let Some(anchor) = anchor {
                    let is_markdown = dest.extension().is_some_and(|e| e == "md");
                    if !is_markdown || !anchors(&read(&dest)).contains(anchor) {
                        broken.push(format!("{name}: {target}: no heading #{anchor}"));
                    }
                }
            }
        }
    }
    assert!(checked > 20, "only {checked} relative links found");
    assert!(broken.is_empty(), "dangling links:\n{}", broken.join("\n"));
}

#[test]
fn every_docs_page_is_linked_from_the_readme() {
    let root = repo_root();
    let readme = read(&root.join("README.md"));
    let linked: BTreeSet<String> = prose(&readme)
        .into_iter()
        .flat_map(link_targets)
        .map(|t| t.split('#').next().unwrap_or("").to_string())
        .collect();
    for page in pages().into_iter().skip(1) {
        let rel = page.strip_prefix(&root).unwrap().display().to_string();
        assert!(linked.contains(&rel), "{rel} is not linked from README.md");
    }
}

#[test]
fn the_link_checker_knows_github_anchors() {
    assert_eq!(
        slug("GitHub annotations: `--format github`"),
        "github-annotations---format-github"
    );
    assert_eq!(
        slug("Is the token still active? `--verify`"),
        "is-the-token-still-active---verify"
    );
    let text = "# A\n```\n# not a heading\n```\n## A\n## B [link](x.md)\n";
    let found = anchors(text);
    assert_eq!(
        found,
        ["a", "a-1", "b-link"]
            .map(String::from)
            .into_iter()
            .collect::<BTreeSet<String>>()
    );
    assert_eq!(
        link_targets("see [x](a.md#b) and `[y](c.md)`"),
        vec!["a.md#b"]
    );
}

// ------------------------------------------------------------ completions and man page

#[test]
fn completions_are_generated_for_every_shell() {
    // Each shell's own way of registering a completion, then what it
    // completes: the subcommands and the options of `scan`.
    for (shell, registers) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef patscan"),
        ("fish", "complete -c patscan"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[patscan]"),
    ] {
        let output = patscan().args(["completions", shell]).output().unwrap();
        assert!(output.status.success(), "{shell}: {output:?}");
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains(registers), "{shell}: no {registers:?}");
        for word in [
            "scan",
            "baseline",
            "merge",
            "completions",
            "history",
            "show-secrets",
        ] {
            assert!(
                script.contains(word),
                "{shell} completions do not mention {word}"
            );
        }
    }
    patscan().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn the_man_page_is_roff_and_documents_every_subcommand() {
    let output = patscan().arg("man").output().unwrap();
    assert!(output.status.success());
    let page = String::from_utf8(output.stdout).unwrap();
    assert!(page.contains("\n.TH patscan 1"), "no roff title line");
    for section in ["NAME", "SYNOPSIS", "SUBCOMMANDS"] {
        assert!(
            page.contains(&format!("\n.SH {section}")),
            "no section {section}"
        );
    }
    for section in ["PATSCAN SCAN", "PATSCAN MERGE", "PATSCAN COMPLETIONS"] {
        assert!(
            page.contains(&format!("\n.SH \"{section}\"")),
            "no section {section}"
        );
    }
    assert!(
        page.contains("history"),
        "scan's --history is not documented"
    );
}
