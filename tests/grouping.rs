//! One finding per secret: a token copied into many files and commits is
//! one secret with its places and the commit that introduced it, in every
//! grouped format; `--ungrouped` and JSONL keep one row per place.

mod common;

use common::git::{token, Repo};
use common::*;
use serde_json::Value;

/// A history where one GitHub token is introduced on 5 January 2024, then
/// copied into eight more files by two later commits, beside another token.
struct Copied {
    repo: Repo,
    spread: String,
    other: String,
    introduced: String,
}

fn copied_history() -> Copied {
    let repo = Repo::init();
    let spread = token("github-classic-pat", 501);
    let other = token("npm-token", 502);
    repo.add("ci/a.env", &format!("GH_TOKEN={spread}\n"));
    repo.git(&[
        "commit",
        "-q",
        "-m",
        "add ci",
        "--date",
        "2024-01-05T09:00:00Z",
    ]);
    let introduced = repo.git(&["rev-parse", "HEAD"]);
    repo.add("ci/b.env", &format!("GH_TOKEN={spread}\nNPM={other}\n"));
    repo.git(&[
        "commit",
        "-q",
        "-m",
        "copy",
        "--date",
        "2024-02-05T09:00:00+02:00",
    ]);
    for i in 0..7 {
        repo.add(
            &format!("tests/data/case{i}.env"),
            &format!("# case {i}\nGH_TOKEN={spread}\n"),
        );
    }
    repo.git(&[
        "commit",
        "-q",
        "-m",
        "test data",
        "--date",
        "2024-03-05T09:00:00Z",
    ]);
    Copied {
        repo,
        spread,
        other,
        introduced,
    }
}

fn secret<'a>(json: &'a Value, rule: &str) -> &'a Value {
    json["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["rule_id"] == rule)
        .unwrap_or_else(|| panic!("no {rule} secret in {json}"))
}

#[test]
fn json_has_one_entry_per_secret_with_its_places_and_first_commit() {
    let h = copied_history();
    let run = scan_json(h.repo.path(), &["--history"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // scan_json asks for --ungrouped; the default shape is asked for here.
    let out = patscan()
        .current_dir(h.repo.path())
        .args(["scan", "--history", "--format", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["secrets"].as_array().unwrap().len(), 2);
    assert_eq!(json["summary"]["secrets"], 2);
    assert_eq!(json["summary"]["occurrences"], 10);
    assert_eq!(run.json["findings"].as_array().unwrap().len(), 10);

    let gh = secret(&json, "github-classic-pat");
    assert_eq!(gh["occurrence_count"], 9);
    assert_eq!(gh["first_seen"]["commit"], h.introduced.as_str());
    assert_eq!(gh["first_seen"]["date"], "2024-01-05T09:00:00+00:00");
    let places: Vec<&str> = gh["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert_eq!(places[0], "ci/a.env", "the oldest place comes first");
    assert_eq!(places[1], "ci/b.env");
    assert_eq!(places.len(), 9);
    // The fingerprint is the secret's, and matches the per-place rows.
    for row in run.json["findings"].as_array().unwrap() {
        if row["rule_id"] == "github-classic-pat" {
            assert_eq!(row["fingerprint"], gh["fingerprint"]);
        }
    }
    let npm = secret(&json, "npm-token");
    assert_eq!(npm["occurrence_count"], 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(&h.spread) && !text.contains(&h.other));
}

#[test]
fn human_output_prints_a_secret_once_and_counts_the_rest_of_its_places() {
    let h = copied_history();
    let out = patscan()
        .current_dir(h.repo.path())
        .args(["scan", "--history", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let headers = text
        .lines()
        .filter(|l| l.contains(": github-classic-pat ("))
        .count();
    assert_eq!(headers, 1, "{text}");
    assert!(
        text.starts_with("ci/a.env:1:10: github-classic-pat"),
        "{text}"
    );
    assert!(text.contains("also in 8 more places:"), "{text}");
    assert!(
        text.contains("and 3 more (--format json lists every place)"),
        "{text}"
    );
    assert!(text.contains("2 tokens found in 10 places"), "{text}");
    assert!(!text.contains(&h.spread) && !text.contains(&h.other));
}

#[test]
fn jsonl_and_sarif_keep_one_row_per_place_and_sarif_links_the_others() {
    let h = copied_history();
    let jsonl = patscan()
        .current_dir(h.repo.path())
        .args(["scan", "--history", "--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&jsonl.stdout).lines().count(), 10);

    let sarif = patscan()
        .current_dir(h.repo.path())
        .args(["scan", "--history", "--format", "sarif"])
        .output()
        .unwrap();
    let log: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 10);
    for result in results {
        let related = result["relatedLocations"].as_array();
        if result["ruleId"] == "github-classic-pat" {
            // Eight other places, all listed (the bound is 10).
            assert_eq!(related.map(Vec::len), Some(8));
        } else {
            assert!(related.is_none());
        }
    }
}

/// `patscan merge` of two folders scanned separately is the report of one
/// scan of both: the token they share is one secret with both places, the
/// counts add up; reports of other rules, or an organisation run beside a
/// local one, are refused.
#[test]
fn reports_of_separately_scanned_folders_merge_into_one_scan_of_both() {
    let work = tempfile::tempdir().unwrap();
    let shared = token("github-classic-pat", 611);
    let own = token("npm-token", 612);
    let write = |path: &str, text: String| {
        let path = work.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("a/ci.env", format!("GH_TOKEN={shared}\nNPM={own}\n"));
    write("b/deploy/copy.env", format!("export GH={shared}\n"));
    write("b/README.md", "nothing here\n".into());
    let run = |args: &[&str]| -> Run {
        Run::from_output(
            patscan()
                .current_dir(work.path())
                .args(args)
                .output()
                .unwrap(),
        )
    };
    let read = |name: &str| -> Value {
        let text = std::fs::read_to_string(work.path().join(name)).unwrap();
        let mut json: Value = serde_json::from_str(&text).unwrap();
        if let Some(summary) = json["summary"].as_object_mut() {
            summary.remove("duration_seconds");
        }
        json
    };
    for (shape, extra) in [("ungrouped", Some("--ungrouped")), ("grouped", None)] {
        let scan = |paths: &[&str], out: &str| {
            let mut args = vec!["scan", "--format", "json", "-o", out];
            args.extend(extra);
            args.extend(paths);
            assert_eq!(run(&args).code, 1);
        };
        scan(&["a"], "a.json");
        scan(&["b"], "b.json");
        scan(&["a", "b"], "both.json");
        let merged = run(&["merge", "a.json", "b.json", "-o", "merged.json"]);
        assert_eq!(merged.code, 1, "{shape}: {}", merged.stderr);
        assert!(merged.stderr.is_empty(), "{shape}: {}", merged.stderr);
        assert_eq!(read("merged.json"), read("both.json"), "{shape}");
    }
    let both = read("both.json");
    let github = secret(&both, "github-classic-pat");
    assert_eq!(github["occurrence_count"], 2);
    assert_eq!(both["summary"]["files_scanned"], 3);

    // SARIF: the results of one scan of both.
    for (paths, out) in [
        (&["a"][..], "a.sarif"),
        (&["b"], "b.sarif"),
        (&["a", "b"], "both.sarif"),
    ] {
        let mut args = vec!["scan", "--format", "sarif", "-o", out];
        args.extend(paths);
        assert_eq!(run(&args).code, 1);
    }
    let merged = run(&["merge", "a.sarif", "b.sarif"]);
    assert_eq!(merged.code, 1, "{}", merged.stderr);
    let results = |log: Value| -> Vec<Value> {
        let mut results = log["runs"][0]["results"].as_array().unwrap().clone();
        for r in &mut results {
            r.as_object_mut().unwrap().remove("relatedLocations");
        }
        results
    };
    let merged: Value = serde_json::from_str(&merged.stdout).unwrap();
    let sarif = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(work.path().join(name)).unwrap()).unwrap()
    };
    assert_eq!(results(merged), results(sarif("both.sarif")));

    // Another rule set (a rule turned off) is refused, naming both files.
    write("fewer.toml", "disabled_rules = [\"npm-token\"]\n".into());
    assert_eq!(
        run(&[
            "scan",
            "--config",
            "fewer.toml",
            "--format",
            "json",
            "-o",
            "fewer.json",
            "b"
        ])
        .code,
        1
    );
    let refused = run(&["merge", "a.json", "fewer.json"]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("different rules") && refused.stderr.contains("fewer.json"),
        "{}",
        refused.stderr
    );
    // An organisation run beside a local scan is refused.
    let mut org = read("b.json");
    org["summary"]["organisation"] =
        serde_json::json!({"spec": "github:acme", "detection_key": "k"});
    std::fs::write(work.path().join("org.json"), org.to_string()).unwrap();
    let refused = run(&["merge", "a.json", "org.json"]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("organisation run"),
        "{}",
        refused.stderr
    );
}
