//! The scan cache: a repeat `--history` scan reports exactly what a fresh
//! one does while reading only new blobs and those with findings; a rule
//! change or a damaged cache file is never trusted; the cache holds no
//! secret; `--cache DIR` does the same for folder scans.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::git::{token, Repo};
use common::*;
use serde_json::Value;

/// The report without what differs between two identical scans: the
/// time taken and what the cache did.
fn comparable(json: &Value) -> Value {
    let mut json = json.clone();
    let summary = json["summary"].as_object_mut().expect("a summary");
    summary.remove("duration_seconds");
    summary.remove("cache");
    json
}

fn cache(json: &Value) -> (u64, u64, u64) {
    let cache = &json["summary"]["cache"];
    assert!(cache.is_object(), "no cache summary: {json}");
    let n = |key: &str| cache[key].as_u64().expect("a count");
    (n("hits"), n("rescanned"), n("misses"))
}

fn history(repo: &Repo, extra: &[&str]) -> JsonRun {
    let mut args = vec!["--history"];
    args.extend_from_slice(extra);
    let run = scan_json(repo.path(), &args);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    run
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn cache_files(repo: &Repo) -> Vec<PathBuf> {
    files_under(&repo.join(".git/patscan-cache"))
}

/// A history with a token in a blob that a later commit removes, one in a
/// commit message, one in a commit no ref reaches and one in a blob no
/// commit has, among clean files; objects left loose.
fn leaky_repo() -> (Repo, Vec<String>) {
    let repo = Repo::init();
    for i in 0..5 {
        repo.add(&format!("src/file{i}.txt"), &format!("clean text {i}\n"));
    }
    repo.commit("initial");
    let in_blob = token("github-classic-pat", 301);
    repo.add("deploy.sh", &format!("export GITHUB_TOKEN={in_blob}\n"));
    repo.commit("add deploy");
    repo.add(
        "deploy.sh",
        &format!("# rotated\nexport GITHUB_TOKEN={in_blob}\n"),
    );
    repo.commit("edit deploy");
    let in_message = token("gitlab-pat", 302);
    repo.add("src/file1.txt", "changed\n");
    repo.commit(&format!("tweak\n\nGITLAB_TOKEN={in_message}"));
    // A commit no ref reaches any more.
    let dangling = token("npm-token", 303);
    repo.add("leak.txt", &format!("{dangling}\n"));
    repo.commit("oops");
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    // A blob in no commit.
    let bare = token("npm-token", 304);
    repo.write("stray.txt", &format!("{bare}\n"));
    repo.git(&["hash-object", "-w", "stray.txt"]);
    fs::remove_file(repo.join("stray.txt")).unwrap();
    (repo, vec![in_blob, in_message, dangling, bare])
}

#[test]
fn a_repeat_history_scan_reports_the_same_and_reads_only_blobs_with_findings() {
    let (repo, secrets) = leaky_repo();
    let fresh = history(&repo, &["--no-cache"]);
    assert!(fresh.json["summary"].get("cache").is_none());
    assert!(!repo.join(".git/patscan-cache").exists());
    // Four findings: the token added (not again at its edit), the message,
    // the rebased-away commit's blob, the stray blob.
    assert_eq!(fresh.json["findings"].as_array().unwrap().len(), 4);

    let first = history(&repo, &[]);
    assert_eq!(comparable(&first.json), comparable(&fresh.json));
    let (hits, rescanned, misses) = cache(&first.json);
    assert_eq!((hits, rescanned), (0, 0));
    let blobs = first.json["summary"]["files_scanned"].as_u64().unwrap();
    assert_eq!(misses, blobs);
    assert!(!cache_files(&repo).is_empty());

    for _ in 0..2 {
        let again = history(&repo, &[]);
        assert_eq!(comparable(&again.json), comparable(&fresh.json));
        // Only the blobs with findings that are reported are read: the
        // first version of deploy.sh, the rebased-away leak.txt and the
        // stray blob (the edited deploy.sh's token was its parent's).
        assert_eq!(cache(&again.json), (blobs - 3, 3, 0));
        assert!(again.stderr.is_empty(), "{}", again.stderr);
    }
    for run in [&fresh, &first] {
        for secret in &secrets {
            assert!(!run.stdout.contains(secret.as_str()));
        }
    }
}

/// The path of the loose object `id`.
fn loose(repo: &Repo, id: &str) -> PathBuf {
    repo.join(&format!(".git/objects/{}/{}", &id[..2], &id[2..]))
}

#[test]
fn a_clean_blob_known_to_the_cache_is_never_read() {
    let (repo, _) = leaky_repo();
    history(&repo, &[]);
    let clean = repo.git(&["rev-parse", "HEAD:src/file3.txt"]);
    let object = loose(&repo, &clean);
    assert!(object.exists());
    // Garbage of the same name: whoever reads the blob fails.
    let mode = fs::metadata(&object).unwrap().permissions();
    let mut writable = mode.clone();
    #[allow(clippy::permissions_set_readonly_false)]
    writable.set_readonly(false);
    fs::set_permissions(&object, writable).unwrap();
    fs::write(&object, b"not zlib at all").unwrap();

    let fresh = history(&repo, &["--no-cache"]);
    assert!(fresh.stderr.contains(&clean), "{}", fresh.stderr);
    let cached = history(&repo, &[]);
    assert!(cached.stderr.is_empty(), "{}", cached.stderr);
    assert_eq!(cached.json["findings"], fresh.json["findings"]);

    // Gone altogether: the store changed, so the history is walked again,
    // and still the blob is not asked for.
    fs::remove_file(&object).unwrap();
    let fresh = history(&repo, &["--no-cache"]);
    assert!(fresh.stderr.contains("missing"), "{}", fresh.stderr);
    let cached = history(&repo, &[]);
    assert!(cached.stderr.is_empty(), "{}", cached.stderr);
    assert_eq!(cached.json["findings"], fresh.json["findings"]);
    let (_, rescanned, misses) = cache(&cached.json);
    assert_eq!((rescanned, misses), (4, 0));
}

#[test]
fn after_new_commits_only_their_blobs_are_scanned() {
    let (repo, _) = leaky_repo();
    let first = history(&repo, &[]);
    let before = cache(&first.json).2;

    let secret = token("npm-token", 305);
    repo.add("new/a.txt", "a new clean file\n");
    repo.add("new/b.txt", &format!("NPM_TOKEN={secret}\n"));
    repo.commit("two new files");
    let fresh = history(&repo, &["--no-cache"]);
    let cached = history(&repo, &[]);
    assert_eq!(comparable(&cached.json), comparable(&fresh.json));
    let (hits, rescanned, misses) = cache(&cached.json);
    assert_eq!(misses, 2, "only the two new blobs are scanned");
    assert_eq!(rescanned, 3);
    assert_eq!(hits + rescanned + misses, before + 2);
    assert!(cached.stdout.contains("new/b.txt"));

    // A moved ref alone (no new object) is a new listing too.
    repo.git(&["branch", "side", "HEAD~1"]);
    repo.git(&["tag", "-a", "v1", "-m", "release", "HEAD~2"]);
    let fresh = history(&repo, &["--no-cache"]);
    let cached = history(&repo, &[]);
    assert_eq!(comparable(&cached.json), comparable(&fresh.json));
    assert_eq!(cache(&cached.json).2, 0);
}

/// Writes garbage over the loose object `id`: whoever reads it fails.
fn spoil(repo: &Repo, id: &str) {
    let object = loose(repo, id);
    let mut writable = fs::metadata(&object).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    writable.set_readonly(false);
    fs::set_permissions(&object, writable).unwrap();
    fs::write(&object, b"not zlib at all").unwrap();
}

#[test]
fn after_a_new_commit_no_old_tree_is_read_and_the_findings_are_a_walks() {
    let (repo, _) = leaky_repo();
    history(&repo, &[]);
    // A tree only old commits have, unreadable from now on: a walk of the
    // history would warn about it.
    let old_tree = repo.git(&["rev-parse", "HEAD~1:src"]);
    assert_ne!(old_tree, repo.git(&["rev-parse", "HEAD:src"]));
    spoil(&repo, &old_tree);

    let secret = token("npm-token", 306);
    repo.add(
        "new/a.txt",
        "a new clean file
",
    );
    repo.add(
        "new/b.txt",
        &format!(
            "NPM_TOKEN={secret}
"
        ),
    );
    repo.commit("two new files");
    let fresh = history(&repo, &["--no-cache"]);
    assert!(fresh.stderr.contains(&old_tree), "{}", fresh.stderr);
    let cached = history(&repo, &[]);
    assert!(cached.stderr.is_empty(), "{}", cached.stderr);
    assert_eq!(cached.json["findings"], fresh.json["findings"]);
    let (_, rescanned, misses) = cache(&cached.json);
    assert_eq!((rescanned, misses), (3, 2));

    // And the extended run is replayed as it is.
    let again = history(&repo, &[]);
    assert!(again.stderr.is_empty(), "{}", again.stderr);
    assert_eq!(comparable(&again.json), comparable(&cached.json));
    assert_eq!(cache(&again.json).2, 0);
}

#[test]
fn a_replay_drops_carried_tokens_without_reading_the_edits_that_carry_them() {
    let (repo, _) = leaky_repo();
    let fresh = history(&repo, &["--no-cache"]);
    history(&repo, &[]);
    // The edited deploy.sh still holds the token its first version added:
    // the walk dropped that finding as carried. Spoilt now, it would be a
    // warning to a replay that read it.
    let edited = repo.git(&["rev-parse", "HEAD~1:deploy.sh"]);
    spoil(&repo, &edited);
    let again = history(&repo, &[]);
    assert!(again.stderr.is_empty(), "{}", again.stderr);
    assert_eq!(comparable(&again.json), comparable(&fresh.json));

    // The same for a token carried by a new commit's edit, decided when
    // the run is extended to it.
    let (repo, secrets) = leaky_repo();
    history(&repo, &[]);
    repo.add(
        "deploy.sh",
        &format!("# rotated twice\nexport GITHUB_TOKEN={}\n", secrets[0]),
    );
    repo.commit("edit deploy again");
    let fresh = history(&repo, &["--no-cache"]);
    let extended = history(&repo, &[]);
    assert!(extended.stderr.is_empty(), "{}", extended.stderr);
    assert_eq!(comparable(&extended.json), comparable(&fresh.json));
    spoil(&repo, &repo.git(&["rev-parse", "HEAD:deploy.sh"]));
    let again = history(&repo, &[]);
    assert!(again.stderr.is_empty(), "{}", again.stderr);
    assert_eq!(comparable(&again.json), comparable(&fresh.json));
}

#[test]
fn a_stray_blob_committed_later_moves_to_its_commit_as_in_a_walk() {
    let (repo, secrets) = leaky_repo();
    history(&repo, &[]);
    // The blob no commit had (leaky_repo's last token) now committed, and
    // a commit on top of it.
    repo.add("stray.txt", &format!("{}\n", secrets[3]));
    let commit = repo.commit("commit the stray file");
    repo.add("later.txt", "later\n");
    repo.commit("later");
    let fresh = history(&repo, &["--no-cache"]);
    let cached = history(&repo, &[]);
    assert_eq!(comparable(&cached.json), comparable(&fresh.json));
    let stray: Vec<&Value> = fresh.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == "stray.txt")
        .collect();
    assert_eq!(stray.len(), 1, "{}", fresh.stdout);
    assert_eq!(stray[0]["commit"], commit.as_str());
    let again = history(&repo, &[]);
    assert_eq!(comparable(&again.json), comparable(&fresh.json));
}

#[test]
fn a_rewound_branch_a_gc_or_a_new_dangling_commit_walk_the_history_again() {
    let (repo, _) = leaky_repo();
    history(&repo, &[]);
    let check = |what: &str| {
        let fresh = history(&repo, &["--no-cache"]);
        let cached = history(&repo, &[]);
        assert_eq!(
            comparable(&cached.json),
            comparable(&fresh.json),
            "after {what}"
        );
        let again = history(&repo, &[]);
        assert_eq!(comparable(&again.json), comparable(&fresh.json), "{what}");
    };
    // A new commit, then the branch rewound past it and past an old one:
    // the old one's blob is reachable from no ref any more.
    repo.add("next.txt", "next\n");
    repo.commit("next");
    check("a new commit");
    repo.git(&["reset", "-q", "--hard", "HEAD~2"]);
    check("a rewind");
    let secret = token("npm-token", 307);
    repo.add("amended.txt", &format!("{secret}\n"));
    repo.commit("to be amended");
    repo.git(&["commit", "-q", "--amend", "-m", "amended"]);
    check("an amended commit");
    repo.git(&["gc", "-q", "--prune=now"]);
    check("a gc");
}

#[test]
fn a_run_with_missing_blobs_is_replayed_with_its_warning() {
    let (repo, _) = leaky_repo();
    let gone = repo.git(&["rev-parse", "HEAD:src/file4.txt"]);
    fs::remove_file(loose(&repo, &gone)).unwrap();
    let fresh = history(&repo, &["--no-cache"]);
    assert!(fresh.stderr.contains("missing"), "{}", fresh.stderr);
    let first = history(&repo, &[]);
    assert_eq!(comparable(&first.json), comparable(&fresh.json));
    // Replayed, not walked: an old tree spoilt now goes unnoticed, and
    // the missing blob is reported as before.
    spoil(&repo, &repo.git(&["rev-parse", "HEAD~1:src"]));
    let again = history(&repo, &[]);
    assert_eq!(comparable(&again.json), comparable(&fresh.json));
    assert_eq!(again.stderr, fresh.stderr);
    assert_eq!(cache(&again.json).2, 0);
}

#[test]
fn a_rule_change_invalidates_the_cache() {
    let (repo, _) = leaky_repo();
    history(&repo, &[]);
    history(&repo, &[]);

    // Turning a rule off: everything is scanned again, under the new key.
    fs::write(
        repo.join(".patscan.toml"),
        "disabled_rules = [\"github-classic-pat\"]\n",
    )
    .unwrap();
    let fresh = history(&repo, &["--no-cache"]);
    let cached = history(&repo, &[]);
    assert_eq!(comparable(&cached.json), comparable(&fresh.json));
    assert!(!cached.stdout.contains("github-classic-pat"));
    let (hits, rescanned, _) = cache(&cached.json);
    assert_eq!((hits, rescanned), (0, 0));

    // A custom rule that finds something in a blob the cache knew clean.
    fs::write(
        repo.join(".patscan.toml"),
        "[[rule]]\nid = \"acme-key\"\nname = \"Acme API key\"\ndescription = \"An Acme key.\"\n\
         keywords = [\"acme_\"]\npattern = '''(?P<secret>acme_[A-Za-z0-9]{24})(?:[^A-Za-z0-9]|$)'''\n\
         max_length = 29\nmin_entropy = 3.0\nexamples = [\"key = acme_Qm9vZ2xlRm9vQmFyQmF6MTIz\"]\n",
    )
    .unwrap();
    repo.add(
        "src/file4.txt",
        "clean text 4\nkey = acme_Zx8Yw7Vu6Ts5Rq4Po3Nm2Lk1\n",
    );
    repo.commit("acme");
    let fresh = history(&repo, &["--no-cache"]);
    let cached = history(&repo, &[]);
    assert_eq!(comparable(&cached.json), comparable(&fresh.json));
    assert!(cached.stdout.contains("acme-key"), "{}", cached.stdout);
    assert_eq!(cache(&cached.json).0, 0);

    // Back to the built-in rules: that cache is still there, and right.
    fs::remove_file(repo.join(".patscan.toml")).unwrap();
    let fresh = history(&repo, &["--no-cache"]);
    let cached = history(&repo, &[]);
    assert_eq!(comparable(&cached.json), comparable(&fresh.json));
    let (hits, _, misses) = cache(&cached.json);
    assert!(hits > 0);
    assert_eq!(misses, 1, "only the new blob of src/file4.txt");
}

#[test]
fn a_corrupt_or_foreign_cache_file_is_ignored_with_a_warning_and_rebuilt() {
    let (repo, _) = leaky_repo();
    let fresh = history(&repo, &["--no-cache"]);
    history(&repo, &[]);
    let files = cache_files(&repo);
    let blobs = files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "bin"))
        .expect("a blob cache file")
        .clone();

    let good = fs::read(&blobs).unwrap();
    let damages: Vec<Vec<u8>> = vec![
        good[..good.len() / 2].to_vec(),
        {
            let mut flipped = good.clone();
            let middle = flipped.len() / 2;
            flipped[middle] ^= 1;
            flipped
        },
        b"{\"some\": \"other tool's file\"}\n".to_vec(),
        Vec::new(),
    ];
    for damage in damages {
        fs::write(&blobs, &damage).unwrap();
        let run = history(&repo, &[]);
        assert!(
            run.stderr.contains("ignored the cache file"),
            "{}",
            run.stderr
        );
        assert_eq!(run.json["findings"], fresh.json["findings"]);
        // Rebuilt: the next scan trusts it again, without a warning.
        let again = history(&repo, &[]);
        assert!(again.stderr.is_empty(), "{}", again.stderr);
        assert_eq!(comparable(&again.json), comparable(&fresh.json));
        assert_eq!(cache(&again.json).2, 0);
    }

    // A damaged run record: reported, the history walked again (every blob
    // known), and the record rewritten.
    let records: Vec<_> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "run"))
        .collect();
    assert_eq!(records.len(), 1, "{files:?}");
    fs::write(records[0], b"garbage").unwrap();
    let run = history(&repo, &[]);
    assert!(
        run.stderr.contains("ignored the cache file"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json["findings"], fresh.json["findings"]);
    assert_eq!(cache(&run.json).2, 0);
    let again = history(&repo, &[]);
    assert!(again.stderr.is_empty(), "{}", again.stderr);
    assert_eq!(comparable(&again.json), comparable(&fresh.json));
}

#[test]
fn the_cache_holds_no_secret() {
    let (repo, secrets) = leaky_repo();
    history(&repo, &[]);
    history(&repo, &["--show-secrets"]);
    let dir = tempfile::tempdir().unwrap();
    history(&repo, &["--cache", dir.path().to_str().unwrap()]);
    let mut files = cache_files(&repo);
    files.extend(files_under(dir.path()));
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let bytes = fs::read(&file).unwrap();
        for secret in &secrets {
            for form in [
                secret.clone(),
                base64::engine::general_purpose::STANDARD.encode(secret),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
            ] {
                assert!(
                    !bytes.windows(form.len()).any(|w| w == form.as_bytes()),
                    "{} holds a secret",
                    file.display()
                );
            }
            // Nor a long piece of one.
            let piece = &secret.as_bytes()[secret.len() - 16..];
            assert!(!bytes.windows(16).any(|w| w == piece));
        }
    }
}

#[test]
fn cache_dir_puts_the_history_cache_there_and_no_cache_writes_nothing() {
    let (repo, _) = leaky_repo();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().to_str().unwrap();
    let first = history(&repo, &["--cache", at]);
    assert!(!repo.join(".git/patscan-cache").exists());
    assert!(!files_under(dir.path()).is_empty());
    let again = history(&repo, &["--cache", at]);
    assert_eq!(comparable(&again.json), comparable(&first.json));
    assert_eq!(cache(&again.json).2, 0);

    history(&repo, &["--no-cache"]);
    assert!(!repo.join(".git/patscan-cache").exists());
    let both = patscan()
        .current_dir(repo.path())
        .args(["scan", "--history", "--no-cache", "--cache", at])
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn where_the_git_folder_cannot_hold_the_cache_it_goes_to_xdg_cache_home() {
    let (repo, _) = leaky_repo();
    // A file where the cache folder would be: `.git/patscan-cache` cannot
    // be made (as on a read-only checkout, which root would not notice).
    fs::write(repo.join(".git/patscan-cache"), "not a folder").unwrap();
    let xdg = tempfile::tempdir().unwrap();
    let scan = |repo: &Repo| {
        let output = patscan()
            .current_dir(repo.path())
            .env("XDG_CACHE_HOME", xdg.path())
            .args(["scan", "--history", "--format", "json", "--ungrouped"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        serde_json::from_slice::<Value>(&output.stdout).unwrap()
    };
    let first = scan(&repo);
    let shared = files_under(&xdg.path().join("patscan"));
    assert!(
        shared.iter().any(|f| f
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("blobs-"))),
        "the cache is in $XDG_CACHE_HOME/patscan: {shared:?}"
    );
    let again = scan(&repo);
    assert_eq!(comparable(&again), comparable(&first));
    assert_eq!(cache(&again).2, 0, "the second run is answered from there");
    assert_eq!(
        fs::read_to_string(repo.join(".git/patscan-cache")).unwrap(),
        "not a folder"
    );
}

#[test]
fn a_range_scan_uses_and_fills_the_blob_cache() {
    let (repo, _) = leaky_repo();
    let fresh = history(&repo, &["--no-cache", "--range", "HEAD~3..HEAD"]);
    let first = history(&repo, &["--range", "HEAD~3..HEAD"]);
    assert_eq!(comparable(&first.json), comparable(&fresh.json));
    let again = history(&repo, &["--range", "HEAD~3..HEAD"]);
    assert_eq!(comparable(&again.json), comparable(&fresh.json));
    let (hits, rescanned, misses) = cache(&again.json);
    assert_eq!(misses, 0);
    assert!(hits > 0 && rescanned > 0);
}

fn folder_scan(dir: &Path, cache_dir: &Path) -> JsonRun {
    let run = scan_json(dir, &["--cache", cache_dir.to_str().unwrap(), "."]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    run
}

#[test]
fn a_folder_scan_with_cache_dir_rereads_only_changed_files() {
    let tree = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let secret = token("github-classic-pat", 306);
    for i in 0..6 {
        fs::write(
            tree.path().join(format!("f{i}.txt")),
            format!("plain {i}\n"),
        )
        .unwrap();
    }
    fs::write(tree.path().join("key.env"), format!("T={secret}\n")).unwrap();

    // Off by default for folders.
    let fresh = scan_json(tree.path(), &["."]);
    assert!(fresh.json["summary"].get("cache").is_none());
    let first = folder_scan(tree.path(), cache_dir.path());
    assert_eq!(comparable(&first.json), comparable(&fresh.json));
    assert_eq!(cache(&first.json), (0, 0, 7));
    let again = folder_scan(tree.path(), cache_dir.path());
    assert_eq!(comparable(&again.json), comparable(&fresh.json));
    assert_eq!(cache(&again.json), (6, 1, 0));

    // A modified file is scanned again, and what it now holds found.
    let added = token("npm-token", 307);
    fs::write(
        tree.path().join("f2.txt"),
        format!("plain 2\nNPM={added}\n"),
    )
    .unwrap();
    let fresh = scan_json(tree.path(), &["."]);
    let changed = folder_scan(tree.path(), cache_dir.path());
    assert_eq!(comparable(&changed.json), comparable(&fresh.json));
    assert_eq!(cache(&changed.json), (5, 1, 1));
    assert!(changed.stdout.contains("npm-token"));

    // Rewritten with the same bytes (a checkout): its content hash says
    // it is unchanged. The same size with other bytes: scanned again.
    fs::write(tree.path().join("f3.txt"), "plain 3\n").unwrap();
    fs::write(tree.path().join("f4.txt"), "plain X\n").unwrap();
    let touched = folder_scan(tree.path(), cache_dir.path());
    // f2 holds a token now: read again, like key.env.
    assert_eq!(cache(&touched.json), (4, 2, 1));
    assert_eq!(comparable(&touched.json), comparable(&fresh.json));
    for run in [&first, &again, &changed, &touched] {
        assert!(!run.stdout.contains(&secret));
    }
    for file in files_under(cache_dir.path()) {
        let bytes = fs::read(file).unwrap();
        for token in [&secret, &added] {
            assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()));
        }
    }
}
