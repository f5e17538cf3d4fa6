//! Hostile shapes of input: a gigabyte stream, a very long line, many tiny
//! files, a deep tree, special files, files that change under the scan,
//! unreadable files. Each ends with the rest of the scan complete, no hang,
//! no crash, and each problem reported once.

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command as Process, Stdio};

use common::*;
use patscan::tokengen::{generate, TokenRng};

fn token(family: &str, seed: u64) -> String {
    generate(family, &mut TokenRng::new(seed)).unwrap()
}

/// How often `needle` occurs in `haystack`.
fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

struct Streamed {
    json: serde_json::Value,
    stderr: String,
    /// Peak resident memory in KiB, when `/usr/bin/time` could measure it.
    max_rss_kib: Option<u64>,
}

/// Runs `patscan scan - --format json ARGS` on `blocks` copies of `block`
/// followed by `tail`, written by a thread as patscan reads them.
fn stream(block: &[u8], blocks: usize, tail: &[u8], args: &[&str]) -> Streamed {
    let time = Path::new("/usr/bin/time");
    let mut command = if time.exists() {
        let mut c = Process::new(time);
        c.args(["-f", "max_rss_kib=%M", env!("CARGO_BIN_EXE_patscan")]);
        c
    } else {
        Process::new(env!("CARGO_BIN_EXE_patscan"))
    };
    let mut child = command
        .args(["scan", "-", "--format", "json", "--ungrouped"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let block = block.to_vec();
    let tail = tail.to_vec();
    let writer = std::thread::spawn(move || {
        for _ in 0..blocks {
            if stdin.write_all(&block).is_err() {
                return;
            }
        }
        let _ = stdin.write_all(&tail);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let max_rss_kib = stderr
        .lines()
        .find_map(|l| l.strip_prefix("max_rss_kib="))
        .and_then(|v| v.trim().parse().ok());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout:.200} / {stderr}"));
    Streamed {
        json,
        stderr,
        max_rss_kib,
    }
}

#[test]
fn a_gigabyte_of_text_is_scanned_to_its_end_in_bounded_memory() {
    let line =
        b"2026-11-25T10:00:00Z INFO worker=7 request served in 12ms path=/api/v1/items?page=3\n";
    let block: Vec<u8> = line
        .iter()
        .copied()
        .cycle()
        .take(line.len() * 12_000)
        .collect();
    let blocks = (1usize << 30).div_ceil(block.len());
    let secret = token("github-classic-pat", 1);
    let tail = format!("the end: {secret}\n");
    let run = stream(&block, blocks, tail.as_bytes(), &["--max-file-size", "2G"]);
    let total = (block.len() * blocks + tail.len()) as u64;
    assert!(total >= 1 << 30);
    assert_eq!(run.json["summary"]["bytes_scanned"].as_u64(), Some(total));
    let finding = &run.json["findings"][0];
    assert_eq!(finding["line"].as_u64(), Some((12_000 * blocks + 1) as u64));
    assert_eq!(finding["column"].as_u64(), Some(10));
    assert_eq!(run.json["findings"].as_array().unwrap().len(), 1);
    if let Some(kib) = run.max_rss_kib {
        assert!(kib < 200 * 1024, "peak RSS {kib} KiB for a 1 GiB stream");
    }
}

#[test]
fn a_stream_over_the_size_limit_is_scanned_up_to_it_and_says_so() {
    let secret = token("npm-token", 2);
    let block = format!("x = {secret}\n").repeat(1000);
    let run = stream(block.as_bytes(), 10, b"", &["--max-file-size", "100K"]);
    assert_eq!(
        run.json["summary"]["bytes_scanned"].as_u64(),
        Some(100 << 10)
    );
    assert_eq!(
        count(&run.stderr, "over --max-file-size"),
        1,
        "{}",
        run.stderr
    );
    assert_eq!(run.json["summary"]["large_files_skipped"].as_u64(), Some(1));
    assert!(!run.json["findings"].as_array().unwrap().is_empty());
}

#[test]
fn a_single_line_of_a_hundred_megabytes_is_scanned() {
    let secret = token("azure-devops-pat", 3);
    let block = b"aGVsbG8=,\"k\":[1,2,3],x=a.b(c)+d;".repeat(32 << 10); // ~1 MiB, no newline
    let tail = format!("t=\"{secret}\"");
    let run = stream(&block, 100, tail.as_bytes(), &[]);
    let finding = &run.json["findings"][0];
    assert_eq!(finding["line"].as_u64(), Some(1));
    assert_eq!(
        finding["column"].as_u64(),
        Some((block.len() * 100 + 4) as u64)
    );
    assert!(finding["snippet"].as_str().unwrap().chars().count() < 300);
    if let Some(kib) = run.max_rss_kib {
        assert!(kib < 200 * 1024, "peak RSS {kib} KiB for a 100 MiB line");
    }
}

#[test]
fn max_file_size_takes_human_sizes_and_rejects_nonsense() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("big.txt"), vec![b'a'; 3 << 10]).unwrap();
    fs::write(dir.path().join("small.txt"), b"hello").unwrap();
    for (size, skipped) in [("2K", 1), ("2KiB", 1), ("3k", 0), ("500M", 0), ("4G", 0)] {
        let run = scan_json(dir.path(), &["--max-file-size", size]);
        assert_eq!(
            run.json["summary"]["large_files_skipped"].as_u64(),
            Some(skipped),
            "{size}"
        );
        assert_eq!(count(&run.stderr, "big.txt"), skipped as usize, "{size}");
    }
    for bad in ["5X", "", "-1", "99999999999999999999G"] {
        patscan()
            .current_dir(dir.path())
            .args(["scan", &format!("--max-file-size={bad}")])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("invalid size"));
    }
}

#[test]
fn twenty_thousand_tiny_files_are_all_scanned() {
    let dir = tempfile::tempdir().unwrap();
    for folder in 0..100 {
        let sub = dir.path().join(format!("d{folder}"));
        fs::create_dir(&sub).unwrap();
        for file in 0..200 {
            fs::write(sub.join(format!("f{file}.txt")), b"x=1\n").unwrap();
        }
    }
    fs::write(
        dir.path().join("d99/f199.txt"),
        format!("{}\n", token("npm-token", 4)),
    )
    .unwrap();
    let run = scan_json(dir.path(), &[]);
    assert_eq!(run.json["summary"]["files_scanned"].as_u64(), Some(20_000));
    assert_eq!(
        found(&run.json).into_iter().collect::<Vec<_>>(),
        vec![("d99/f199.txt".to_string(), 1, 1, "npm-token".to_string())]
    );
}

#[test]
fn a_folder_tree_a_thousand_levels_deep_is_walked_to_the_bottom() {
    let dir = tempfile::tempdir().unwrap();
    let mut deep = dir.path().to_path_buf();
    for _ in 0..1000 {
        deep.push("d");
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("t.txt"), token("github-classic-pat", 5)).unwrap();
    let run = scan_json(dir.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = found(&run.json);
    assert_eq!(found.len(), 1);
    assert_eq!(found.iter().next().unwrap().0.matches("d/").count(), 1000);
}

#[cfg(unix)]
#[test]
fn special_files_and_loops_are_each_reported_once_and_the_rest_is_scanned() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ok.txt"), token("npm-token", 6)).unwrap();
    assert!(Process::new("mkfifo")
        .arg(dir.path().join("pipe"))
        .status()
        .unwrap()
        .success());
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("sock")).unwrap();
    fs::create_dir(dir.path().join("loop")).unwrap();
    symlink("..", dir.path().join("loop/up")).unwrap();
    symlink("missing-target", dir.path().join("dangling")).unwrap();
    // Unreadable for root too: reading /proc/self/mem at offset 0 fails.
    symlink("/proc/self/mem", dir.path().join("mem")).unwrap();

    let run = scan_json(dir.path(), &["--follow"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(found(&run.json).len(), 1);
    for name in ["pipe", "sock", "loop/up", "dangling", "mem"] {
        let warning = format!("patscan: warning: {name}: ");
        let warnings = run.stderr.lines().filter(|l| l.starts_with(&warning));
        assert_eq!(warnings.count(), 1, "{name}: {}", run.stderr);
        let problems = run.json["problems"].as_array().unwrap();
        assert_eq!(
            problems.iter().filter(|p| p["path"] == name).count(),
            1,
            "{name}: {problems:?}"
        );
    }
    assert_eq!(run.json["summary"]["problems"].as_u64(), Some(5));
}

#[cfg(unix)]
#[test]
fn a_file_without_read_permission_is_one_warning() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ok.txt"), token("npm-token", 7)).unwrap();
    let locked = dir.path().join("locked.txt");
    fs::write(&locked, "x").unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads through permissions, so the check that holds for root too
    // is a PATH that cannot be read by anyone.
    let run = scan_json(dir.path(), &[".", "/proc/self/mem"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(count(&run.stderr, "/proc/self/mem"), 1, "{}", run.stderr);
    let root = fs::File::open(&locked).is_ok();
    assert_eq!(count(&run.stderr, "locked.txt"), usize::from(!root));
    assert_eq!(found(&run.json).len(), 1);
}

#[test]
fn files_changing_and_disappearing_during_the_scan_never_break_it() {
    let dir = tempfile::tempdir().unwrap();
    let stable = token("github-classic-pat", 8);
    fs::write(dir.path().join("stable.txt"), &stable).unwrap();
    let churn = dir.path().join("churn");
    fs::create_dir(&churn).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churner = {
        let (churn, stop) = (churn.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut round = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for i in 0..50 {
                    let path = churn.join(format!("f{i}.txt"));
                    match (round + i) % 4 {
                        0 => drop(fs::write(&path, "x=1\n".repeat(5000))),
                        1 => drop(fs::remove_file(&path)),
                        2 => drop(fs::write(&path, b"")),
                        _ => drop(fs::create_dir(&path).and_then(|_| fs::remove_dir(&path))),
                    }
                }
                round += 1;
            }
        })
    };
    for _ in 0..10 {
        let run = scan_json(dir.path(), &[]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(found(&run.json).iter().any(|f| f.0 == "stable.txt"));
        let problems = run.json["problems"].as_array().unwrap();
        let mut paths: Vec<&str> = problems
            .iter()
            .map(|p| p["path"].as_str().unwrap())
            .collect();
        let all = paths.len();
        paths.dedup();
        assert_eq!(paths.len(), all, "a problem reported twice: {problems:?}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    churner.join().unwrap();
}
