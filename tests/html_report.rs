//! `--format html`: the report opened in a real headless browser
//! (Chromium's `--dump-dom` gives the DOM after the report's script ran).
//! One repository, built here, with one token copied across commits so
//! that first-seen dates, occurrence counts and the timeline are real, and
//! with markup in a path and a commit message that must stay text. Without
//! a browser the browser tests say so and return; `.ci/run` installs one.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::git::{token, Repo};
use common::{patscan, Run};
use serde_json::Value;

/// A file name and a commit summary that would run script if written raw.
const MARKUP_PATH: &str = "<img src=x onerror=alert(1)>.env";
const MARKUP_SUMMARY: &str = "back up </script><script>alert(2)</script>";

struct Fixture {
    repo: Repo,
    /// GitHub (3 places), GitLab (1), Hugging Face (1).
    tokens: [String; 3],
    commits: Vec<String>,
}

fn fixture() -> Fixture {
    let repo = Repo::init();
    let github = token("github-classic-pat", 141);
    let gitlab = token("gitlab-pat-routable", 142);
    let huggingface = token("huggingface-token", 143);
    let mut commits = Vec::new();
    repo.add("README.md", "# app\n");
    commits.push(repo.commit_at("initial", "2024-01-10T09:00:00Z"));
    repo.add("config/app.env", &format!("GITHUB_TOKEN={github}\n"));
    commits.push(repo.commit_at("add config", "2024-02-01T09:00:00Z"));
    repo.add(
        "backup/app.env.bak",
        &format!("# old\nexport GITHUB_TOKEN={github}\n"),
    );
    repo.add(MARKUP_PATH, &format!("GL={gitlab}\n"));
    commits.push(repo.commit_at(MARKUP_SUMMARY, "2024-03-15T09:00:00Z"));
    repo.add("deploy/ci.sh", &format!("curl -H 'token {github}'\n"));
    repo.add("ml/train.py", &format!("HF_TOKEN = \"{huggingface}\"\n"));
    commits.push(repo.commit_at("deploy and train", "2024-04-20T09:00:00Z"));
    // Two later commits without secrets: the history goes on after the last
    // leak, and the timeline must show it.
    repo.add("README.md", "# app\n\nDocs.\n");
    commits.push(repo.commit_at("docs", "2024-06-29T09:00:00Z"));
    repo.add("README.md", "# app\n\nMore docs.\n");
    commits.push(repo.commit_at("more docs", "2024-06-30T09:00:00Z"));
    Fixture {
        repo,
        tokens: [github, gitlab, huggingface],
        commits,
    }
}

/// Runs `patscan scan --history --format html -o report.html` in the
/// fixture; returns the run and the file.
fn html_report(fixture: &Fixture, extra: &[&str]) -> (Run, PathBuf, String) {
    let out = fixture.repo.path().join("report.html");
    let run = Run::from_output(
        patscan()
            .current_dir(fixture.repo.path())
            .args(["scan", "--history", "--format", "html", "-o"])
            .arg(&out)
            .args(extra)
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let html = std::fs::read_to_string(&out).unwrap();
    (run, out, html)
}

/// The grouped JSON report of the same scan, to compare against.
fn json_report(fixture: &Fixture) -> Value {
    let run = Run::from_output(
        patscan()
            .current_dir(fixture.repo.path())
            .args(["scan", "--history", "--format", "json"])
            .output()
            .unwrap(),
    );
    run.json()
}

fn find_browser() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|candidate| candidate.is_file())
}

fn browser_or_skip(test: &str) -> Option<PathBuf> {
    let found = find_browser();
    if found.is_none() {
        eprintln!(
            "SKIPPED {test}: no chromium, chromium-browser or google-chrome on PATH \
             (.ci/run installs Debian's `chromium`)"
        );
    }
    found
}

/// The DOM of `file` (with `fragment`, e.g. `#filter=gitlab`) after the
/// page's script ran.
fn dump_dom(browser: &Path, file: &Path, fragment: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let dom = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}{fragment}", file.display()))
        .stdin(Stdio::null())
        .stdout(dom.reopen().unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // A guard, not a measurement: a wedged browser must not hang the suite.
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("{} did not finish within 120 s", browser.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{} failed: {status}", browser.display());
    let text = std::fs::read_to_string(dom.path()).unwrap();
    assert!(text.contains("</html>"), "no DOM dumped: {text}");
    text
}

/// A secret's row as the DOM shows it.
#[derive(Debug)]
struct Row {
    fingerprint: String,
    hidden: bool,
    occurrences: usize,
    provider: String,
    rule_id: String,
}

fn rows(dom: &str) -> Vec<Row> {
    let body = regex::Regex::new(
        r#"(?s)<tbody class="secret"([^>]*)>(.*?)</tbody>\s*(?:<tbody|</table>)"#,
    )
    .unwrap();
    let attr = |attrs: &str, name: &str| {
        regex::Regex::new(&format!(r#"\b{name}="([^"]*)""#))
            .unwrap()
            .captures(attrs)
            .map(|c| c[1].to_string())
    };
    let cell = |inner: &str, re: &str| {
        regex::Regex::new(re)
            .unwrap()
            .captures(inner)
            .map(|c| c[1].to_string())
            .unwrap_or_else(|| panic!("no {re} in {inner}"))
    };
    body.captures_iter(dom)
        .map(|c| Row {
            fingerprint: attr(&c[1], "data-fingerprint").unwrap(),
            hidden: regex::Regex::new(r"\bhidden\b").unwrap().is_match(&c[1]),
            occurrences: cell(&c[2], r#"<td class="num occurrences">(\d+)</td>"#)
                .parse()
                .unwrap(),
            provider: cell(&c[2], r#"<td class="provider">([^<]*)</td>"#),
            rule_id: cell(&c[2], r#"<code class="rule-id">([^<]*)</code>"#),
        })
        .collect()
}

fn visible(rows: &[Row]) -> Vec<&str> {
    rows.iter()
        .filter(|r| !r.hidden)
        .map(|r| r.rule_id.as_str())
        .collect()
}

/// The text of the page: the three references a serialised DOM writes.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn assert_no_token(text: &str, tokens: &[String], what: &str) {
    for t in tokens {
        assert!(!text.contains(t.as_str()), "a raw token is in the {what}");
        // Nor its unmasked body (everything after the 4-character prefix).
        assert!(!text.contains(&t[4..]), "a token's body is in the {what}");
    }
}

fn assert_offline(html: &str) {
    let external = regex::Regex::new(
        r#"(?i)\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?:https?:)?//"#,
    )
    .unwrap();
    assert!(
        !external.is_match(html),
        "an external resource: {:?}",
        external.find(html)
    );
    assert!(!html.contains("<link"), "no linked stylesheets");
    assert!(
        html.contains("Content-Security-Policy") && html.contains("default-src 'none'"),
        "a CSP that forbids loading anything"
    );
}

#[test]
fn the_file_is_masked_escaped_self_contained_and_carries_the_grouped_data() {
    let fixture = fixture();
    let (run, _, html) = html_report(&fixture, &[]);
    run.assert_no_leak(
        &fixture
            .tokens
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_no_token(&html, &fixture.tokens, "HTML file");
    assert_offline(&html);

    // Markup from input is text: only patscan's own two scripts exist.
    assert_eq!(html.matches("<script").count(), 2, "island and script only");
    assert!(!html.contains("<img"), "the path's markup is escaped");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;.env"));
    assert!(html.contains("back up &lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));

    // The island is the grouped JSON: same secrets, order and counts.
    let start = html
        .find(r#"<script type="application/json" id="patscan-data">"#)
        .unwrap();
    let island_text = &html[start..];
    let island_text = &island_text[island_text.find('>').unwrap() + 1..];
    let island_text = &island_text[..island_text.find("</script>").unwrap()];
    let island: Value = serde_json::from_str(island_text).unwrap();
    let json = json_report(&fixture);
    let shape = |secrets: &Value| -> Vec<(String, u64, String)> {
        secrets
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["fingerprint"].as_str().unwrap().to_string(),
                    s["occurrence_count"].as_u64().unwrap(),
                    s["secret"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(shape(&island["secrets"]), shape(&json["secrets"]));
    let github = &island["secrets"][0];
    assert_eq!(github["rule_id"], "github-classic-pat");
    assert_eq!(github["provider"], "GitHub");
    assert_eq!(github["occurrence_count"], 3);
    assert_eq!(github["first_seen"]["commit"], fixture.commits[1].as_str());
    assert!(github["revoke"].as_str().unwrap().len() > 10);

    // The timeline: one circle per commit holding a secret (three), one
    // mark per secret, over a history row of every scanned commit (six,
    // four of them without a secret), from the first to the last.
    assert!(html.contains("<svg class=\"timeline\""));
    assert_eq!(html.matches("<circle class=\"commit\"").count(), 3);
    assert_eq!(html.matches("<path class=\"secret ").count(), 3);
    assert!(html.contains(">2024-02-01<") && html.contains(">2024-04-20<"));
    let history = history_bars(&html);
    assert_eq!(history.iter().map(|(_, n)| n).sum::<u64>(), 6);
    assert!(history
        .first()
        .is_some_and(|(d, _)| d.starts_with("2024-01-10")));
    assert!(history
        .last()
        .is_some_and(|(d, _)| d.ends_with("2024-06-30")));
    assert!(html.contains("6 commits scanned from 2024-01-10 to 2024-06-30"));
}

/// The history row's bars: each period's dates and its commit count.
fn history_bars(html: &str) -> Vec<(String, u64)> {
    let bar = regex::Regex::new(
        r#"<rect class="history"[^>]*><title>([0-9-]+(?: to [0-9-]+)?): ([0-9]+) commits?</title>"#,
    )
    .unwrap();
    bar.captures_iter(html)
        .map(|c| (c[1].to_string(), c[2].parse().unwrap()))
        .collect()
}

/// The timeline's markup, from `<svg` to `</svg>`.
fn timeline_svg(html: &str) -> &str {
    let start = html.find("<svg class=\"timeline\"").expect("a timeline");
    let end = html[start..].find("</svg>").expect("a closed svg") + start;
    &html[start..end]
}

#[test]
fn a_replayed_history_draws_the_same_timeline_as_a_fresh_scan() {
    let fixture = fixture();
    let (_, _, fresh) = html_report(&fixture, &["--no-cache"]);
    // The first cached run walks the history and records it …
    let walked = json_report(&fixture);
    assert!(walked["summary"]["cache"]["misses"].as_u64() > Some(0));
    // … so this one replays the record without reading a blob it need not.
    let (_, _, replayed) = html_report(&fixture, &[]);
    let again = json_report(&fixture);
    assert_eq!(again["summary"]["cache"]["misses"], 0, "{again}");
    assert_eq!(timeline_svg(&replayed), timeline_svg(&fresh));
    assert_eq!(history_bars(&replayed).len(), history_bars(&fresh).len());
}

#[test]
fn the_browser_renders_one_row_per_secret_with_counts_and_revoke_text() {
    let Some(browser) = browser_or_skip("the_browser_renders_one_row_per_secret") else {
        return;
    };
    let fixture = fixture();
    let (_, file, _) = html_report(&fixture, &[]);
    let dom = dump_dom(&browser, &file, "");
    assert_no_token(&dom, &fixture.tokens, "DOM");
    assert_offline(&dom);
    // Nothing from input became an element.
    assert!(!dom.contains("<img"), "the path became an element");
    assert_eq!(dom.matches("<script").count(), 2);

    let rows = rows(&dom);
    let json = json_report(&fixture);
    let expected: Vec<(String, usize)> = json["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["fingerprint"].as_str().unwrap().to_string(),
                s["occurrence_count"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    let shown: Vec<(String, usize)> = rows
        .iter()
        .map(|r| (r.fingerprint.clone(), r.occurrences))
        .collect();
    assert_eq!(shown, expected);
    assert_eq!(
        rows.iter()
            .map(|r| (r.rule_id.as_str(), r.occurrences, r.provider.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("github-classic-pat", 3, "GitHub"),
            ("gitlab-pat-routable", 1, "GitLab"),
            ("huggingface-token", 1, "Hugging Face"),
        ]
    );
    assert!(rows.iter().all(|r| !r.hidden));
    assert!(dom.contains("Showing 3 of 3 secrets"), "the script ran");

    // Every secret says how to revoke it, in its rule's words.
    let text = unescape(&dom);
    let rules = patscan::rules::builtin().unwrap();
    for row in &rows {
        let spec = &rules
            .rules()
            .iter()
            .find(|r| r.spec.id == row.rule_id)
            .unwrap()
            .spec;
        let revoke = spec
            .revoke
            .as_deref()
            .expect("built-in rules say how to revoke");
        assert!(text.contains(revoke), "no revoke text for {}", row.rule_id);
    }
    // First seen: the commit that introduced the GitHub token, by date.
    assert!(text.contains(&fixture.commits[1][..12]));
    assert!(text.contains("2024-02-01"));
    // The masked snippets of all five places are in the DOM.
    assert_eq!(dom.matches("<code class=\"snippet\">").count(), 5);
}

#[test]
fn a_fragment_filters_and_sorts_the_table() {
    let Some(browser) = browser_or_skip("a_fragment_filters_and_sorts_the_table") else {
        return;
    };
    let fixture = fixture();
    let (_, file, _) = html_report(&fixture, &[]);

    let dom = dump_dom(&browser, &file, "#filter=gitlab");
    assert_eq!(visible(&rows(&dom)), vec!["gitlab-pat-routable"]);
    assert!(dom.contains("Showing 1 of 3 secrets"));

    // A field filter, and terms that must all match.
    let dom = dump_dom(&browser, &file, "#filter=path%3Abackup%2F");
    assert_eq!(visible(&rows(&dom)), vec!["github-classic-pat"]);
    let dom = dump_dom(
        &browser,
        &file,
        "#filter=confidence%3Ahigh%20provider%3Agit",
    );
    assert_eq!(
        visible(&rows(&dom)),
        vec!["github-classic-pat", "gitlab-pat-routable"]
    );
    // Commit summaries are searched too (the markup commit added GitLab's
    // token and the GitHub one's backup), and `?q=` works like `#filter=`.
    let dom = dump_dom(&browser, &file, "?q=alert(2)");
    assert_eq!(
        visible(&rows(&dom)),
        vec!["github-classic-pat", "gitlab-pat-routable"]
    );
    // Nothing matches: every row hidden, and the table says so.
    let dom = dump_dom(&browser, &file, "#filter=no-such-secret");
    assert!(visible(&rows(&dom)).is_empty());
    assert!(
        dom.contains("<tbody id=\"no-match\">"),
        "the no-match row shows"
    );
    assert_no_token(&dom, &fixture.tokens, "DOM");

    let order = |dom: &str| -> Vec<String> { rows(dom).into_iter().map(|r| r.rule_id).collect() };
    let dom = dump_dom(&browser, &file, "#sort=-rule");
    assert_eq!(
        order(&dom),
        vec![
            "huggingface-token",
            "gitlab-pat-routable",
            "github-classic-pat"
        ]
    );
    assert!(dom.contains(r#"data-sort="rule" aria-sort="descending""#));
    let dom = dump_dom(&browser, &file, "#sort=-occurrences&filter=git");
    let rows_now = rows(&dom);
    assert_eq!(rows_now[0].rule_id, "github-classic-pat");
    assert_eq!(
        visible(&rows_now),
        vec!["github-classic-pat", "gitlab-pat-routable"]
    );
    // Newest first: the Hugging Face token came last.
    let dom = dump_dom(&browser, &file, "#sort=-first_seen");
    assert_eq!(order(&dom)[0], "huggingface-token");
}

#[test]
fn places_are_collapsed_until_asked_for() {
    let Some(browser) = browser_or_skip("places_are_collapsed_until_asked_for") else {
        return;
    };
    let fixture = fixture();
    let (_, file, _) = html_report(&fixture, &[]);
    let collapsed = dump_dom(&browser, &file, "");
    let places = regex::Regex::new(r#"<tr class="places" id="[^"]*"( hidden="")?>"#).unwrap();
    let states = |dom: &str| -> Vec<bool> {
        places
            .captures_iter(dom)
            .map(|c| c.get(1).is_some())
            .collect()
    };
    assert_eq!(states(&collapsed), vec![true, true, true]);
    let open = dump_dom(&browser, &file, "#open=all");
    assert_eq!(states(&open), vec![false, false, false]);
}

#[test]
fn show_secrets_is_refused_for_html() {
    let fixture = fixture();
    let out = fixture.repo.path().join("report.html");
    let run = Run::from_output(
        patscan()
            .current_dir(fixture.repo.path())
            .args([
                "scan",
                "--history",
                "--format",
                "html",
                "--show-secrets",
                "-o",
            ])
            .arg(&out)
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--show-secrets does not combine with --format html"),
        "{}",
        run.stderr
    );
    assert!(!out.exists(), "nothing written");
    run.assert_no_leak(
        &fixture
            .tokens
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
}

#[test]
fn a_file_scan_says_there_is_no_history() {
    let dir = tempfile::tempdir().unwrap();
    let secret = token("github-classic-pat", 144);
    std::fs::write(dir.path().join("app.env"), format!("T={secret}\n")).unwrap();
    let run = Run::from_output(
        patscan()
            .current_dir(dir.path())
            .args(["scan", "--format", "html", "."])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("No git history in this scan"));
    assert!(!run.stdout.contains("<svg"));
    assert!(run.stdout.contains("<td class=\"num occurrences\">1</td>"));
    assert!(run.stdout.contains("app.env:1:3"));
    run.assert_no_leak(&[&secret]);

    // No findings: a report that says so, not an empty page.
    let clean = tempfile::tempdir().unwrap();
    std::fs::write(clean.path().join("README"), "nothing here\n").unwrap();
    let run = Run::from_output(
        patscan()
            .current_dir(clean.path())
            .args(["scan", "--format", "html", "."])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("No secrets found."));
    assert!(run.stdout.ends_with("</html>\n"));
}

#[test]
fn verify_refuses_show_secrets_for_html_before_reading_anything() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::from_output(
        patscan()
            .current_dir(dir.path())
            .args([
                "verify",
                "missing.json",
                "--format",
                "html",
                "--show-secrets",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--show-secrets does not combine with --format html"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("missing.json"), "{}", run.stderr);
}

#[test]
fn rules_has_no_html_form() {
    let run = Run::from_output(
        patscan()
            .args(["rules", "--format", "html"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("the other formats report a scan"),
        "{}",
        run.stderr
    );
}
