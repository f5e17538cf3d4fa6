//! `patscan scan --history` and `--range`: every blob of a real repository
//! once, attributed to the commit that introduced it; what no ref reaches;
//! messages; and repositories that are shallow, empty or missing objects.

mod common;

use common::git::{git_in, token, Repo, AUTHOR_EMAIL, AUTHOR_NAME};
use common::*;
use serde_json::Value;

fn findings(json: &Value) -> Vec<&Value> {
    json["findings"].as_array().unwrap().iter().collect()
}

/// (origin, path, rule) of every finding, sorted.
fn summary(json: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = findings(json)
        .iter()
        .map(|f| {
            (
                f["origin"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn history(repo: &Repo, extra: &[&str]) -> JsonRun {
    let mut args = vec!["--history"];
    args.extend_from_slice(extra);
    scan_json(repo.path(), &args)
}

fn no_leak(run: &JsonRun, secrets: &[&str]) {
    for secret in secrets {
        assert!(!run.stdout.contains(secret), "secret in stdout");
        assert!(!run.stderr.contains(secret), "secret in stderr");
    }
}

#[test]
fn a_token_deleted_in_the_next_commit_is_found_at_the_commit_that_added_it() {
    let repo = Repo::init();
    repo.add("README.md", "# app\n");
    repo.commit("initial");
    let secret = token("github-classic-pat", 11);
    repo.add(
        "ci/deploy.sh",
        &format!("#!/bin/sh\ncurl -H 'Authorization: token {secret}'\n"),
    );
    let added = repo.commit("add deploy script");
    repo.git(&["rm", "-q", "ci/deploy.sh"]);
    repo.commit("remove secret");

    let run = history(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let all = findings(&run.json);
    assert_eq!(all.len(), 1, "{}", run.stdout);
    let f = all[0];
    assert_eq!(f["path"], "ci/deploy.sh");
    assert_eq!(f["origin"], "commit");
    assert_eq!(f["commit"], added.as_str());
    assert_eq!(
        f["author"],
        format!("{AUTHOR_NAME} <{AUTHOR_EMAIL}>").as_str()
    );
    assert_eq!(f["date"], "2024-03-01T12:00:00+00:00");
    assert_eq!(f["summary"], "add deploy script");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(2), Some(31))
    );
    assert_eq!(
        run.json["summary"]["files_scanned"], 2,
        "each distinct blob once"
    );
    no_leak(&run, &[&secret]);

    // The human report names the commit too.
    let output = patscan()
        .current_dir(repo.path())
        .args(["scan", "--history"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("commit {} by {AUTHOR_NAME}", &added[..12])),
        "{stdout}"
    );
}

#[test]
fn the_same_blob_in_many_commits_and_paths_is_scanned_and_reported_once() {
    let repo = Repo::init();
    let secret = token("npm-token", 12);
    let text = format!("token={secret}\n");
    repo.add("a.txt", &text);
    let first = repo.commit("first");
    repo.add("copy/a.txt", &text);
    repo.add("other.txt", "x\n");
    repo.commit("copy");
    repo.add("other.txt", "y\n");
    repo.commit("touch");
    let run = history(&repo, &[]);
    let all = findings(&run.json);
    assert_eq!(all.len(), 1, "{}", run.stdout);
    assert_eq!(all[0]["commit"], first.as_str());
    assert_eq!(all[0]["path"], "a.txt");
}

#[test]
fn branches_not_checked_out_tags_detached_heads_and_messages_are_scanned() {
    let repo = Repo::init();
    repo.add("README.md", "# app\n");
    repo.commit("initial");

    let on_branch = token("gitlab-pat", 13);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.add("feature.env", &format!("GITLAB={on_branch}\n"));
    repo.commit("feature work");
    repo.git(&["checkout", "-q", "main"]);

    // Reachable only from an annotated tag whose message has a token too.
    let in_tag = token("pypi-token", 14);
    let tag_message = token("slack-bot-token", 15);
    repo.git(&["checkout", "-q", "--detach"]);
    repo.add("release.cfg", &format!("pypi={in_tag}\n"));
    repo.commit("release build");
    repo.git(&[
        "tag",
        "-a",
        "v1.0",
        "-m",
        &format!("release notes {tag_message}"),
    ]);

    // Reachable only from a detached HEAD.
    let detached = token("huggingface-token", 16);
    repo.add("model.py", &format!("HF='{detached}'\n"));
    let message_token = token("github-classic-pat", 17);
    repo.commit(&format!("oops {message_token} in the subject"));

    let run = history(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        summary(&run.json),
        vec![
            ("commit".into(), "feature.env".into(), "gitlab-pat".into()),
            (
                "commit".into(),
                "model.py".into(),
                "huggingface-token".into()
            ),
            ("commit".into(), "release.cfg".into(), "pypi-token".into()),
            (
                "commit-message".into(),
                "<commit message>".into(),
                "github-classic-pat".into()
            ),
            (
                "tag-message".into(),
                "<tag message>".into(),
                "slack-bot-token".into()
            ),
        ]
    );
    let tag = findings(&run.json)
        .into_iter()
        .find(|f| f["origin"] == "tag-message")
        .unwrap();
    assert_eq!(tag["tag"], "v1.0");
    let message = findings(&run.json)
        .into_iter()
        .find(|f| f["origin"] == "commit-message")
        .unwrap();
    let subject = message["summary"].as_str().unwrap();
    assert!(
        subject.starts_with("oops ghp_") && subject.ends_with("in the subject"),
        "{subject}"
    );
    no_leak(
        &run,
        &[&on_branch, &in_tag, &tag_message, &detached, &message_token],
    );
}

#[test]
fn a_blob_no_ref_reaches_is_reported_with_its_object_id() {
    let repo = Repo::init();
    repo.add("README.md", "# app\n");
    repo.commit("initial");
    let secret = token("atlassian-api-token", 18);
    repo.write("dangling.txt", &format!("jira={secret}\n"));
    let blob = repo.git(&["hash-object", "-w", "dangling.txt"]);
    std::fs::remove_file(repo.join("dangling.txt")).unwrap();

    let run = history(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let all = findings(&run.json);
    assert_eq!(all.len(), 1, "{}", run.stdout);
    assert_eq!(all[0]["origin"], "unreachable");
    assert_eq!(all[0]["blob"], blob.as_str());
    assert_eq!(all[0]["path"], "<unreachable blob>");
    assert!(all[0].get("commit").is_none());
    no_leak(&run, &[&secret]);
}

#[test]
fn a_rebased_away_commit_still_leaks_its_blob_and_message_under_its_commit() {
    let repo = Repo::init();
    repo.add("README.md", "# app\n");
    repo.commit("initial");
    let secret = token("npm-token", 19);
    let in_message = token("gitlab-pat", 28);
    repo.add("leak.txt", &format!("{secret}\n"));
    let gone = repo.commit(&format!("leak\n\nGITLAB_TOKEN={in_message}"));
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);

    let run = history(&repo, &[]);
    assert_eq!(
        summary(&run.json),
        vec![
            (
                "commit-message".into(),
                "<commit message>".into(),
                "gitlab-pat".into()
            ),
            (
                "unreachable-commit".into(),
                "leak.txt".into(),
                "npm-token".into()
            ),
        ]
    );
    let message = findings(&run.json)[0];
    assert_eq!(message["commit"], gone.as_str());
    assert_eq!(message["line"], 3);
    // The blob is attributed to the commit that no ref reaches any more.
    let blob = findings(&run.json)[1];
    assert_eq!(blob["commit"], gone.as_str());
    assert_eq!(
        blob["author"],
        format!("{AUTHOR_NAME} <{AUTHOR_EMAIL}>").as_str()
    );
    let output = patscan()
        .current_dir(repo.path())
        .args(["scan", "--history"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("reachable from no ref"), "{stdout}");
    no_leak(&run, &[&secret, &in_message]);
}

#[test]
fn a_range_scans_only_what_its_commits_introduce() {
    let repo = Repo::init();
    let old = token("github-classic-pat", 20);
    repo.add("old.txt", &format!("{old}\n"));
    repo.commit("before the pull request");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    let added = token("npm-token", 21);
    repo.add("new.txt", &format!("{added}\n"));
    let pr_commit = repo.commit("pull request commit");
    // The PR also edits the old file without touching its token.
    repo.add("old.txt", &format!("{old}\nmore\n"));
    repo.commit("edit old");

    let run = history(&repo, &["--range", "main..pr"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // old.txt's new version is a new blob, but its token came from the
    // base: the pull request is blamed only for the token it added.
    let all = findings(&run.json);
    assert_eq!(all.len(), 1, "{}", run.stdout);
    assert_eq!(all[0]["rule_id"], "npm-token");
    assert_eq!(all[0]["commit"], pr_commit.as_str());
    assert_eq!(
        run.json["summary"]["files_scanned"], 2,
        "new.txt and old.txt's new version"
    );

    // A range with only a clean commit finds nothing, though history has tokens.
    repo.git(&["checkout", "-q", "main"]);
    repo.add("clean.txt", "fine\n");
    repo.commit("clean");
    let run = history(&repo, &["--range", "HEAD~1..HEAD"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json["summary"]["files_scanned"], 1);

    // A malformed range is a one-line error.
    let output = patscan()
        .current_dir(repo.path())
        .args(["scan", "--history", "--range", "nope..HEAD"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--range"), "{stderr}");
}

#[test]
fn a_shallow_clone_is_scanned_with_a_warning() {
    let origin = Repo::init();
    origin.add("a.txt", &format!("{}\n", token("npm-token", 22)));
    origin.commit("one");
    let tip = token("gitlab-pat", 23);
    origin.add("b.txt", &format!("{tip}\n"));
    origin.commit("two");

    let clone = tempfile::tempdir().unwrap();
    let out = git_in(
        clone.path(),
        &["clone", "-q", "--depth", "1", &origin.file_url(), "shallow"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = scan_json(&clone.path().join("shallow"), &["--history"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // The tip's tree has both files: both blobs are attributed to it.
    let all = findings(&run.json);
    assert_eq!(all.len(), 2, "{}", run.stdout);
    assert!(run.stderr.contains("shallow clone"), "{}", run.stderr);
}

#[test]
fn a_partial_clone_warns_about_missing_blobs_and_scans_the_rest() {
    let origin = Repo::init();
    origin.git(&["config", "uploadpack.allowFilter", "true"]);
    let gone = token("github-classic-pat", 24);
    origin.add("old.txt", &format!("{gone}\n"));
    origin.commit("old");
    origin.add("old.txt", "rotated\n");
    let tip = token("npm-token", 25);
    origin.add("new.txt", &format!("{tip}\n"));
    origin.commit("new");

    let clone = tempfile::tempdir().unwrap();
    let out = git_in(
        clone.path(),
        &[
            "clone",
            "-q",
            "--filter=blob:none",
            &origin.file_url(),
            "partial",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = clone.path().join("partial");
    let run = scan_json(&dir, &["--history"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        summary(&run.json),
        vec![("commit".into(), "new.txt".into(), "npm-token".into())]
    );
    assert!(
        run.stderr.contains("missing from the object store"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json["summary"]["problems"], 1);
}

#[test]
fn an_empty_repository_is_a_one_line_error() {
    let repo = Repo::init();
    let output = patscan()
        .current_dir(repo.path())
        .args(["scan", "--history"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("nothing to scan"), "{stderr}");
}

#[test]
fn a_repository_path_argument_and_bare_repositories_work() {
    let repo = Repo::init();
    let secret = token("azure-devops-pat", 26);
    repo.add("azure.txt", &format!("{secret}\n"));
    repo.commit("add");
    let bare = tempfile::tempdir().unwrap();
    let out = git_in(
        bare.path(),
        &["clone", "-q", "--bare", &repo.file_url(), "b.git"],
    );
    assert!(out.status.success());
    let elsewhere = tempfile::tempdir().unwrap();
    let bare_path = bare.path().join("b.git");
    let run = scan_json(
        elsewhere.path(),
        &["--history", bare_path.to_str().unwrap()],
    );
    assert_eq!(
        summary(&run.json),
        vec![(
            "commit".into(),
            "azure.txt".into(),
            "azure-devops-pat".into()
        )]
    );

    // --staged needs an index.
    let output = patscan()
        .current_dir(elsewhere.path())
        .args(["scan", "--staged", bare_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("bare repository"));
}

#[test]
fn a_token_is_reported_where_it_was_introduced_not_at_every_later_edit() {
    let repo = Repo::init();
    let secret = token("github-classic-pat", 27);
    repo.add("settings.py", &format!("TOKEN = '{secret}'\n"));
    let introduced = repo.commit("settings");
    for i in 0..3 {
        repo.add("settings.py", &format!("TOKEN = '{secret}'\nDEBUG = {i}\n"));
        repo.commit(&format!("edit {i}"));
    }
    // Moved to another file: a new place for it, reported again.
    repo.add("moved.py", &format!("T = '{secret}'\n"));
    let moved = repo.commit("copy");

    let run = history(&repo, &[]);
    assert_eq!(
        run.json["summary"]["files_scanned"], 5,
        "every version is scanned"
    );
    let mut got: Vec<_> = findings(&run.json)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["commit"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("moved.py".to_string(), moved),
            ("settings.py".to_string(), introduced)
        ]
    );
}

#[test]
fn stashes_and_notes_are_refs_like_any_other() {
    let repo = Repo::init();
    repo.add("app.cfg", "key = none\n");
    repo.commit("initial");
    let stashed = token("npm-token", 34);
    repo.write("app.cfg", &format!("key = {stashed}\n"));
    repo.git(&["stash", "-q"]);
    let noted = token("huggingface-token", 35);
    repo.git(&["notes", "add", "-m", &format!("debug: {noted}"), "HEAD"]);

    let run = history(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut rules: Vec<_> = summary(&run.json)
        .into_iter()
        .map(|(_, _, rule)| rule)
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        vec!["huggingface-token".to_string(), "npm-token".to_string()]
    );
    let stash = findings(&run.json)
        .into_iter()
        .find(|f| f["rule_id"] == "npm-token")
        .unwrap();
    assert_eq!(stash["path"], "app.cfg");
    assert_eq!(stash["origin"], "commit");
}

#[test]
fn a_corrupt_object_is_a_warning_and_the_rest_is_scanned() {
    let repo = Repo::init();
    let kept = token("github-classic-pat", 36);
    repo.add("kept.txt", &format!("{kept}\n"));
    repo.add("broken.txt", "this blob will be damaged\n");
    repo.commit("two files");
    let blob = repo.git(&["rev-parse", "HEAD:broken.txt"]);
    let loose = repo.join(&format!(".git/objects/{}/{}", &blob[..2], &blob[2..]));
    let mut perms = std::fs::metadata(&loose).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&loose, perms).unwrap();
    std::fs::write(&loose, b"not zlib at all").unwrap();

    let run = history(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        summary(&run.json),
        vec![(
            "commit".into(),
            "kept.txt".into(),
            "github-classic-pat".into()
        )]
    );
    assert!(run.stderr.contains(&blob), "{}", run.stderr);
    assert!(run.json["summary"]["problems"].as_u64().unwrap() >= 1);
}

#[test]
fn a_range_with_main_merged_in_does_not_blame_the_pull_request_for_main() {
    let repo = Repo::init();
    repo.add("README.md", "# app\n");
    repo.commit("initial");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let ours = token("npm-token", 37);
    repo.add("feature.txt", &format!("{ours}\n"));
    let feature_commit = repo.commit("feature");
    repo.git(&["checkout", "-q", "main"]);
    let theirs = token("gitlab-pat", 38);
    repo.add("main.txt", &format!("{theirs}\n"));
    repo.commit("main moves on");
    repo.git(&["checkout", "-q", "feature"]);
    repo.git(&["merge", "-q", "--no-edit", "main"]);

    let run = history(&repo, &["--range", "main..feature"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let all = findings(&run.json);
    assert_eq!(all.len(), 1, "{}", run.stdout);
    assert_eq!(all[0]["path"], "feature.txt");
    assert_eq!(all[0]["commit"], feature_commit.as_str());
    // The human summary counts blobs.
    let output = patscan()
        .current_dir(repo.path())
        .args(["scan", "--history", "--range", "main..feature"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("scanned 1 blobs"), "{stdout}");
}

/// The report without what differs between two scans of the same
/// repository: the time taken.
fn comparable(json: &Value) -> Value {
    let mut json = json.clone();
    json["summary"]
        .as_object_mut()
        .expect("a summary")
        .remove("duration_seconds");
    json
}

#[test]
fn a_tiny_max_memory_costs_speed_never_a_finding() {
    let repo = Repo::init();
    let mut secrets = Vec::new();
    let mut text = String::new();
    // Files edited over many commits, repacked into deep delta chains, and
    // a blob large enough to be read apart from the packs' mapping (and,
    // deltified, to wait for room in memory).
    let mut large: String = (0..180_000u64)
        .map(|i| {
            format!(
                "{:016x} line of a large generated file\n",
                i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            )
        })
        .collect();
    for i in 0..40u64 {
        text.push_str(&format!(
            "line {i} of a file that grows by a line a commit\n"
        ));
        repo.add("grows.txt", &text);
        repo.add(&format!("dir{}/f.txt", i % 5), &format!("{text}{i}\n"));
        if i % 10 == 3 {
            let secret = token("npm-token", 400 + i);
            repo.add(
                &format!("dir{}/f.txt", i % 5),
                &format!("{text}NPM_TOKEN={secret}\n"),
            );
            secrets.push(secret);
        }
        if i % 13 == 0 {
            let secret = token("github-classic-pat", 500 + i);
            large.push_str(&format!("GITHUB_TOKEN={secret}\n"));
            repo.add("large.txt", &large);
            secrets.push(secret);
        }
        repo.commit(&format!("commit {i}"));
    }
    repo.git(&["repack", "-adfq", "--depth=50", "--window=50"]);
    let roomy = history(&repo, &["--no-cache"]);
    assert_eq!(roomy.code, 1, "{}", roomy.stderr);
    assert!(findings(&roomy.json).len() >= secrets.len());
    for max in ["1K", "1M", "24M"] {
        let tight = history(&repo, &["--no-cache", "--max-memory", max]);
        assert_eq!(tight.code, 1, "{}", tight.stderr);
        assert!(tight.stderr.is_empty(), "{}", tight.stderr);
        assert_eq!(
            comparable(&tight.json),
            comparable(&roomy.json),
            "--max-memory {max}"
        );
    }
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    no_leak(&roomy, &secrets);
}

/// The SARIF line hash of a token far into a blob larger than the
/// scanner's 4 MiB chunk: a line's hash depends on the text after it, so
/// a blob inflated as it is scanned (whole in a pack) is read again for
/// it, and a loose one (whole in memory) is hashed from memory.
#[test]
fn a_token_deep_in_a_large_blob_gets_its_line_hash_packed_or_loose() {
    let repo = Repo::init();
    let secret = token("gitlab-pat-routable", 44);
    let mut text = String::new();
    let mut line = 1;
    while text.len() < (5 << 20) {
        text.push_str(&format!("{line:>8} lorem ipsum dolor sit amet\n"));
        line += 1;
    }
    text.push_str(&format!("token: {secret}\nlast line\n"));
    let mut hasher = patscan::line_hash::LineHasher::all();
    hasher.feed_str(&text);
    let expected = hasher.finish()[&line].clone();
    repo.add("logs/big.log", &text);
    repo.commit("add a large log");

    let sarif_hash = |repo: &Repo| {
        let output = patscan()
            .current_dir(repo.path())
            .args(["scan", "--history", "--no-cache", "--format", "sarif"])
            .output()
            .unwrap();
        let log: Value = serde_json::from_slice(&output.stdout).unwrap();
        let result = &log["runs"][0]["results"][0];
        assert_eq!(
            result["locations"][0]["physicalLocation"]["region"]["startLine"],
            line
        );
        result["partialFingerprints"]["primaryLocationLineHash"].clone()
    };
    assert_eq!(sarif_hash(&repo), expected.as_str(), "a loose blob");
    repo.git(&["repack", "-adq"]);
    repo.git(&["prune-packed"]);
    assert_eq!(
        sarif_hash(&repo),
        expected.as_str(),
        "a blob whole in a pack"
    );
}
