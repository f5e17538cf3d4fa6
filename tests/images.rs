//! `scan --image`: images written by the tests (no Docker daemon), read
//! from an OCI layout folder, `docker save` archives (the OCI layout of
//! Docker 25+, the legacy layout, gzip-compressed), with each file's state
//! in the final image, the config's environment and history, nested
//! archives, several platforms, damaged layers, and the layer cache.

mod common;
mod image_fixtures;

use std::path::Path;

use serde_json::Value;

use common::*;
use image_fixtures::*;

/// The tokens planted in [`sample`], by where they are.
struct Planted {
    /// `etc/app.env` in layer 0, deleted by a whiteout in layer 2.
    deleted: String,
    /// `opt/tool.conf` in layer 0, written again in layer 1.
    overwritten: String,
    /// `cache/old.txt` in layer 0, hidden by an opaque `cache/` in layer 2.
    opaque: String,
    /// `srv/keep.txt` in layer 1 (zstd), still there at the end.
    visible: String,
    /// `inner.txt` in `opt/bundle.tar.gz` of layer 0.
    nested: String,
    /// `config.Env`.
    env: String,
    /// `history[1].created_by`.
    history: String,
}

fn planted(seed: u64) -> Planted {
    Planted {
        deleted: token("github-classic-pat", seed),
        overwritten: token("npm-token", seed + 1),
        opaque: token("github-classic-pat", seed + 2),
        visible: token("npm-token", seed + 3),
        nested: token("github-classic-pat", seed + 4),
        env: token("npm-token", seed + 5),
        history: token("github-classic-pat", seed + 6),
    }
}

/// Three layers (gzip, zstd, none) and a config, with a token in each
/// place an image hides one.
fn sample(t: &Planted) -> Image {
    let bundle = gzip(&layer_tar(&[Entry::File(
        "inner.txt",
        format!("key={}\n", t.nested).as_bytes(),
    )]));
    let base = layer_tar(&[
        Entry::Dir("etc"),
        Entry::File(
            "etc/app.env",
            format!("GITHUB_TOKEN={}\n", t.deleted).as_bytes(),
        ),
        Entry::Dir("opt"),
        Entry::File(
            "opt/tool.conf",
            format!("//registry.npmjs.org/:_authToken={}\n", t.overwritten).as_bytes(),
        ),
        Entry::File("opt/bundle.tar.gz", &bundle),
        Entry::Dir("cache"),
        Entry::File("cache/old.txt", format!("token {}\n", t.opaque).as_bytes()),
    ]);
    let middle = layer_tar(&[
        Entry::File("opt/tool.conf", b"registry=https://registry.npmjs.org/\n"),
        Entry::Dir("srv"),
        Entry::File(
            "srv/keep.txt",
            format!("\n\nNPM={}\n", t.visible).as_bytes(),
        ),
    ]);
    let top = layer_tar(&[
        Entry::File("etc/.wh.app.env", b""),
        Entry::Dir("cache"),
        Entry::File("cache/.wh..wh..opq", b""),
        Entry::File("cache/new.txt", b"nothing here\n"),
    ]);
    let mut image = Image::new(vec![
        (base, Compression::Gzip),
        (middle, Compression::Zstd),
        (top, Compression::None),
    ]);
    image.env.push(format!("NPM_TOKEN={}", t.env));
    image.history = vec![
        "ADD rootfs.tar /".into(),
        format!(
            "RUN /bin/sh -c git clone https://{}@github.com/acme/app.git",
            t.history
        ),
        "RUN /bin/sh -c rm /etc/app.env".into(),
    ];
    image
}

/// Runs `patscan scan --image ARGS… --format json --ungrouped` in `dir`
/// with the cache in `dir/cache` (never the user's).
fn scan_image(dir: &Path, args: &[&str]) -> Run {
    let output = patscan()
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("xdg"))
        .env_remove("PATSCAN_REGISTRY_USERNAME")
        .env_remove("PATSCAN_REGISTRY_PASSWORD")
        .args(["scan", "--format", "json", "--ungrouped"])
        .args(args)
        .output()
        .unwrap();
    Run::from_output(output)
}

/// The finding whose secret is `token` (run with --show-secrets).
fn finding<'a>(json: &'a Value, token: &str) -> &'a Value {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["secret"] == token)
        .unwrap_or_else(|| {
            panic!(
                "token not found in {}",
                serde_json::to_string_pretty(json).unwrap()
            )
        })
}

fn assert_sample_found(json: &Value, t: &Planted, reference: &str) {
    let layer = |token: &str, path: &str, index: u64, state: &str| {
        let f = finding(json, token);
        assert_eq!(f["path"], format!("{reference}!/{path}"), "{f}");
        assert_eq!(f["origin"], "image-layer", "{f}");
        assert_eq!(f["image"]["reference"], reference, "{f}");
        assert_eq!(f["image"]["layer_index"], index, "{f}");
        assert_eq!(f["image"]["layer_state"], state, "{f}");
        assert_eq!(f["image"]["platform"], "linux/amd64", "{f}");
        assert!(f["image"]["layer_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:"));
        f
    };
    layer(&t.deleted, "etc/app.env", 0, "deleted");
    layer(&t.overwritten, "opt/tool.conf", 0, "overwritten");
    layer(&t.opaque, "cache/old.txt", 0, "deleted");
    let visible = layer(&t.visible, "srv/keep.txt", 1, "visible");
    assert_eq!(visible["line"], 3);
    layer(&t.nested, "opt/bundle.tar.gz!/inner.txt", 0, "visible");
    let env = finding(json, &t.env);
    assert_eq!(env["origin"], "image-config");
    assert_eq!(env["path"], format!("{reference}#config/Env"));
    assert_eq!(env["image"]["config_field"], "Env");
    assert_eq!(env["line"], 2, "the second variable");
    let history = finding(json, &t.history);
    assert_eq!(history["image"]["config_field"], "history");
    assert_eq!(history["line"], 2, "the second build step");
    assert_eq!(json["findings"].as_array().unwrap().len(), 7, "{json}");
    let images = &json["summary"]["images"];
    assert_eq!(images["layers_scanned"], 3, "{images}");
    assert_eq!(images["layers_failed"], 0);
    assert_eq!(images["images"][0]["status"], "scanned");
    assert!(images["layer_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn an_oci_layout_folder_shows_every_layer_with_its_state_and_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let t = planted(2701);
    let mut layout = Layout::default();
    let descriptor = layout.add_image(&sample(&t));
    layout.index.push(descriptor);
    layout.write_dir(&dir.path().join("app-oci"));

    let run = scan_image(
        dir.path(),
        &["--image", "app-oci", "--show-secrets", "--no-cache"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_sample_found(&run.json(), &t, "app-oci");
}

#[test]
fn docker_save_archives_old_and_new_and_compressed_read_alike() {
    let dir = tempfile::tempdir().unwrap();
    let t = planted(2711);
    let image = sample(&t);
    let mut layout = Layout::default();
    let descriptor = layout.add_image(&image);
    layout.index.push(descriptor);
    std::fs::write(dir.path().join("oci.tar"), layout.tar()).unwrap();
    std::fs::write(dir.path().join("oci.tar.gz"), gzip(&layout.tar())).unwrap();
    std::fs::write(
        dir.path().join("legacy.tar"),
        docker_save_legacy(&image, "app:1"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("legacy.tar.gz"),
        gzip(&docker_save_legacy(&image, "app:1")),
    )
    .unwrap();
    for name in ["oci.tar", "oci.tar.gz", "legacy.tar", "legacy.tar.gz"] {
        let run = scan_image(
            dir.path(),
            &["--image", name, "--show-secrets", "--no-cache"],
        );
        assert_eq!(run.code, 1, "{name}: {}", run.stderr);
        assert_sample_found(&run.json(), &t, name);
    }
}

#[test]
fn secrets_never_reach_the_outputs_without_show_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let t = planted(2721);
    let mut layout = Layout::default();
    let descriptor = layout.add_image(&sample(&t));
    layout.index.push(descriptor);
    layout.write_dir(&dir.path().join("img"));
    let tokens = [
        &t.deleted,
        &t.overwritten,
        &t.opaque,
        &t.visible,
        &t.nested,
        &t.env,
        &t.history,
    ];
    let tokens: Vec<&str> = tokens.iter().map(|s| s.as_str()).collect();
    for format in ["human", "json", "sarif", "html"] {
        let output = patscan()
            .current_dir(dir.path())
            .args([
                "scan",
                "--no-cache",
                "--image",
                "img",
                "--format",
                format,
                "--color",
                "never",
            ])
            .output()
            .unwrap();
        let run = Run::from_output(output);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        run.assert_no_leak(&tokens);
        // Every format says where in the image: the deleted file's layer
        // and state.
        // (SARIF's URIs percent-encode the `!`.)
        let path = if format == "sarif" {
            "img%21/etc/app.env"
        } else {
            "img!/etc/app.env"
        };
        assert!(run.stdout.contains(path), "{format}: {}", run.stdout);
        assert!(run.stdout.contains("deleted"), "{format}: {}", run.stdout);
    }
    let output = patscan()
        .current_dir(dir.path())
        .args(["scan", "--no-cache", "--image", "img", "--color", "never"])
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&output.stdout);
    assert!(
        human.contains("layer 0 sha256:") && human.contains("deleted by a later layer"),
        "{human}"
    );
    assert!(human.contains("config Env"), "{human}");
    assert!(human.contains("layers: 3 read"), "{human}");
}

#[test]
fn every_platform_of_an_index_is_scanned_unless_one_is_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let amd = token("github-classic-pat", 2731);
    let arm = token("npm-token", 2732);
    let mut amd64 = Image::new(vec![(
        layer_tar(&[Entry::File("app/config", format!("t={amd}\n").as_bytes())]),
        Compression::Gzip,
    )]);
    amd64.architecture = "amd64";
    let mut arm64 = Image::new(vec![(
        layer_tar(&[Entry::File("app/config", format!("t={arm}\n").as_bytes())]),
        Compression::Zstd,
    )]);
    arm64.architecture = "arm64";
    let mut layout = Layout::default();
    let index = layout.add_index(&[&amd64, &arm64]);
    layout.index.push(index);
    layout.write_dir(&dir.path().join("multi"));

    let run = scan_image(
        dir.path(),
        &["--image", "multi", "--show-secrets", "--no-cache"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(finding(&json, &amd)["image"]["platform"], "linux/amd64");
    assert_eq!(finding(&json, &arm)["image"]["platform"], "linux/arm64");
    assert_eq!(
        json["summary"]["images"]["images"][0]["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );

    let run = scan_image(
        dir.path(),
        &[
            "--image",
            "multi",
            "--show-secrets",
            "--no-cache",
            "--platform",
            "linux/arm64",
        ],
    );
    let json = run.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{json}");
    assert_eq!(findings[0]["secret"], arm.as_str());

    let run = scan_image(
        dir.path(),
        &[
            "--image",
            "multi",
            "--no-cache",
            "--platform",
            "linux/s390x",
        ],
    );
    // The one image has no such platform: nothing was scanned, which a
    // gate must not take for a clean result.
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("no image for --platform linux/s390x"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.json()["summary"]["images"]["images"][0]["status"],
        "failed"
    );
}

#[test]
fn a_damaged_or_missing_layer_is_a_problem_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let good = token("github-classic-pat", 2741);
    let tampered = token("npm-token", 2742);
    let image = Image::new(vec![
        (
            layer_tar(&[Entry::File("good.txt", format!("{good}\n").as_bytes())]),
            Compression::Gzip,
        ),
        (
            layer_tar(&[Entry::File(
                "bad.txt",
                format!("{tampered}\n{}\n", "#".repeat(8000)).as_bytes(),
            )]),
            Compression::None,
        ),
        (
            layer_tar(&[Entry::File("gone.txt", b"x\n")]),
            Compression::Gzip,
        ),
        (
            layer_tar(&[Entry::File("cut.txt", &vec![b'a'; 300_000])]),
            Compression::Gzip,
        ),
    ]);
    let mut layout = Layout::default();
    let descriptor = layout.add_image(&image);
    layout.index.push(descriptor);
    let root = dir.path().join("broken");
    layout.write_dir(&root);
    let blobs = image.blobs();
    let path_of = |blob: &[u8]| {
        root.join("blobs/sha256")
            .join(digest(blob).strip_prefix("sha256:").unwrap())
    };
    // Layer 1: a byte of the file changed after the manifest was written.
    let mut changed = blobs[1].clone();
    let at = 512 + 1000;
    changed[at] ^= 1;
    std::fs::write(path_of(&blobs[1]), changed).unwrap();
    // Layer 2: missing. Layer 3: cut short.
    std::fs::remove_file(path_of(&blobs[2])).unwrap();
    std::fs::write(path_of(&blobs[3]), &blobs[3][..blobs[3].len() / 2]).unwrap();

    let run = scan_image(dir.path(), &["--image", "broken", "--show-secrets"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    finding(&json, &good);
    // The tampered layer's token is still reported: it is in what the
    // image serves; the layer is reported as not matching its digest.
    finding(&json, &tampered);
    let problems = json["problems"].to_string();
    assert!(problems.contains("does not match its digest"), "{problems}");
    assert!(problems.contains("missing blob"), "{problems}");
    assert!(problems.contains("layer 3"), "{problems}");
    let images = &json["summary"]["images"];
    assert_eq!(images["layers_scanned"], 1, "{images}");
    assert_eq!(images["layers_failed"], 3, "{images}");
    assert_eq!(images["images"][0]["status"], "partial");
    assert!(run.stderr.contains("does not match its digest"));

    // A tampered layer is never remembered as scanned: the next run reads
    // it again and says so again.
    let again = scan_image(dir.path(), &["--image", "broken", "--show-secrets"]);
    let json = again.json();
    finding(&json, &tampered);
    assert!(json["problems"]
        .to_string()
        .contains("does not match its digest"));
    // The good layer has a finding: read again, never skipped.
    assert_eq!(
        json["summary"]["images"]["layers_cached"], 0,
        "{}",
        json["summary"]
    );
    assert_eq!(
        json["summary"]["cache"]["rescanned"], 1,
        "{}",
        json["summary"]
    );
}

#[test]
fn a_truncated_archive_or_not_an_image_is_a_problem_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let t = planted(2751);
    let mut layout = Layout::default();
    let descriptor = layout.add_image(&sample(&t));
    layout.index.push(descriptor);
    let tar = layout.tar();
    std::fs::write(dir.path().join("whole.tar"), &tar).unwrap();
    std::fs::write(dir.path().join("cut.tar"), &tar[..tar.len() / 3]).unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"hello").unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let run = scan_image(
        dir.path(),
        &[
            "--no-cache",
            "--image",
            "cut.tar",
            "--image",
            "notes.txt",
            "--image",
            "empty",
        ],
    );
    // Nothing could be read: the report is written (with each problem),
    // and the run fails, so a CI gate never passes on a scan of nothing.
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("none of the 3 image(s) could be read"),
        "{}",
        run.stderr
    );
    let json = run.json();
    let statuses: Vec<&str> = json["summary"]["images"]["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "failed", "failed"], "{json}");
    assert_eq!(
        json["problems"].as_array().unwrap().len(),
        3,
        "{}",
        json["problems"]
    );
    let run = scan_image(dir.path(), &["--no-cache", "--image", "./nowhere.tar"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.json()["problems"].to_string().contains("no such file"));
    // One image read and one missing: the scan goes on, and the exit code
    // is the findings' (the missing one is a problem in the report).
    let run = scan_image(
        dir.path(),
        &[
            "--no-cache",
            "--image",
            "whole.tar",
            "--image",
            "./nowhere.tar",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert!(json["problems"].to_string().contains("no such file"));
    assert!(!json["findings"].as_array().unwrap().is_empty());
}

#[test]
fn layers_are_cached_by_digest_across_images_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let leaked = token("github-classic-pat", 2761);
    let base = layer_tar(&[
        Entry::File("etc/os-release", b"ID=test\n"),
        Entry::File(
            "root/.git-credentials",
            format!("https://x:{leaked}@github.com\n").as_bytes(),
        ),
    ]);
    let cleanup = layer_tar(&[Entry::File("root/.wh..git-credentials", b"")]);
    let app = |n: u8| layer_tar(&[Entry::File("app/main.txt", &[b'a' + n; 100])]);
    let first = Image::new(vec![
        (base.clone(), Compression::Gzip),
        (cleanup.clone(), Compression::Gzip),
        (app(1), Compression::Gzip),
    ]);
    let second = Image::new(vec![
        (base, Compression::Gzip),
        (cleanup, Compression::Gzip),
        (app(2), Compression::Gzip),
    ]);
    for (name, image) in [("one", &first), ("two", &second)] {
        let mut layout = Layout::default();
        let descriptor = layout.add_image(image);
        layout.index.push(descriptor);
        layout.write_dir(&dir.path().join(name));
    }
    let cache = dir.path().join("layer-cache");
    let cache = cache.to_str().unwrap();
    let args = [
        "--image",
        "one",
        "--image",
        "two",
        "--show-secrets",
        "--cache",
        cache,
    ];
    let run = scan_image(dir.path(), &args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    let files_first = json["summary"]["files_scanned"].clone();
    let images = &json["summary"]["images"];
    // The second image shares two layers with the first: the clean one
    // is known at once, the one with a token is read again for its
    // finding in this image.
    assert_eq!(images["layers_scanned"], 5, "{images}");
    assert_eq!(images["layers_cached"], 1, "{images}");
    let states: Vec<(&str, &str)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["image"]["reference"].as_str().unwrap(),
                f["image"]["layer_state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(states, [("one", "deleted"), ("two", "deleted")]);

    // A second run: every clean layer is known; the finding's state is
    // still told from the (listed, not scanned) layer that deletes it.
    let run = scan_image(dir.path(), &args);
    let json = run.json();
    let images = &json["summary"]["images"];
    assert_eq!(images["layers_cached"], 4, "{images}");
    assert_eq!(images["layers_scanned"], 2, "{images}");
    assert_eq!(json["summary"]["cache"]["hits"], 4);
    let states: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["image"]["layer_state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["deleted", "deleted"]);
    // A known layer counts its files as its scan did.
    assert_eq!(json["summary"]["files_scanned"], files_first);
}

#[test]
fn images_from_a_file_and_arguments_that_do_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let leaked = token("npm-token", 2771);
    let image = Image::new(vec![(
        layer_tar(&[Entry::File("x", format!("{leaked}\n").as_bytes())]),
        Compression::Gzip,
    )]);
    let mut layout = Layout::default();
    let descriptor = layout.add_image(&image);
    layout.index.push(descriptor);
    layout.write_dir(&dir.path().join("a"));
    std::fs::write(dir.path().join("list.txt"), "# images\n\na\n").unwrap();
    let run = scan_image(dir.path(), &["--no-cache", "--images-from", "list.txt"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.json()["summary"]["images"]["images"][0]["reference"],
        "a"
    );

    for args in [
        &["--image", "a", "src"][..],
        &["--image", "a", "--history"][..],
        &["--platform", "linux/amd64"][..],
        &["--image", "a", "--platform", "linux"][..],
        &["--shard", "0/2"][..],
    ] {
        let output = patscan()
            .current_dir(dir.path())
            .arg("scan")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn image_list_shards_merge_into_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let shared = token("npm-token", 2781);
    let mut list = String::new();
    for i in 0..6u64 {
        let own = token("github-classic-pat", 2790 + i);
        let mut files = vec![Entry::File("app/own.txt", own.as_bytes())];
        let text = format!("NPM={shared}\n");
        if i % 2 == 0 {
            files.push(Entry::File("app/shared.env", text.as_bytes()));
        }
        let image = Image::new(vec![(layer_tar(&files), Compression::Gzip)]);
        let mut layout = Layout::default();
        let descriptor = layout.add_image(&image);
        layout.index.push(descriptor);
        layout.write_dir(&dir.path().join(format!("img{i}")));
        list.push_str(&format!("img{i}\n"));
    }
    std::fs::write(dir.path().join("list.txt"), list).unwrap();
    let scan = |extra: &[&str], out: &str| {
        let mut args = vec!["--no-cache", "--images-from", "list.txt", "-o", out];
        args.extend_from_slice(extra);
        let output = patscan()
            .current_dir(dir.path())
            .args(["scan", "--format", "json"])
            .args(&args)
            .output()
            .unwrap();
        assert!(
            output.status.code().unwrap_or(2) < 2,
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let read = |name: &str| -> Value {
        let mut json: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(name)).unwrap()).unwrap();
        json["summary"]
            .as_object_mut()
            .unwrap()
            .remove("duration_seconds");
        json
    };
    scan(&[], "whole.json");
    let whole = read("whole.json");
    assert_eq!(whole["secrets"].as_array().unwrap().len(), 7);
    assert_eq!(
        whole["summary"]["images"]["images"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    for i in 0..3 {
        scan(&["--shard", &format!("{i}/3")], &format!("shard-{i}.json"));
    }
    let merge = |parts: &[&str]| {
        let output = patscan()
            .current_dir(dir.path())
            .arg("merge")
            .args(parts)
            .args(["--exit-zero", "-o", "merged.json"])
            .output()
            .unwrap();
        Run::from_output(output)
    };
    let merged = merge(&["shard-0.json", "shard-1.json", "shard-2.json"]);
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    assert!(merged.stderr.is_empty(), "{}", merged.stderr);
    assert_eq!(read("merged.json"), whole);
    // A shard missing is said.
    let partial = merge(&["shard-0.json", "shard-2.json"]);
    assert!(partial.stderr.contains("1/3"), "{}", partial.stderr);
}

/// The human and JSON reports of an image finding, as snapshots: a token
/// in a file a later layer deleted, and one in the environment.
#[test]
fn image_findings_in_the_human_and_json_formats() {
    let dir = tempfile::tempdir().unwrap();
    let (file, env) = (token("github-classic-pat", 2801), token("npm-token", 2802));
    let mut image = Image::new(vec![
        (
            layer_tar(&[Entry::File(
                "root/.npmrc",
                format!("//registry.npmjs.org/:_authToken={env}\n# {file}\n").as_bytes(),
            )]),
            Compression::Gzip,
        ),
        (
            layer_tar(&[Entry::File("root/.wh..npmrc", b"")]),
            Compression::Zstd,
        ),
    ]);
    image.env.push(format!("NPM_TOKEN={env}"));
    let mut layout = Layout::default();
    let descriptor = layout.add_image(&image);
    layout.index.push(descriptor);
    layout.write_dir(&dir.path().join("app"));
    let render = |format: &str| {
        let output = patscan()
            .current_dir(dir.path())
            .args([
                "scan",
                "-j",
                "1",
                "--no-cache",
                "--image",
                "app",
                "--color",
                "never",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        let run = Run::from_output(output);
        assert_eq!(run.code, 1, "{}", run.stderr);
        run.assert_no_leak(&[&file, &env]);
        run.stdout
    };
    let human = regex::Regex::new(r"in \d+\.\d+s")
        .unwrap()
        .replace_all(&render("human"), "in [duration]")
        .into_owned();
    insta::assert_snapshot!("image_human", human);
    let mut json: Value = serde_json::from_str(&render("json")).unwrap();
    json["summary"]["duration_seconds"] = Value::from(0);
    json["summary"]["rule_set"]["rules"] = Value::from("[digest]");
    // A digest of the rules and the cache format: any rule change moves it.
    json["summary"]["images"]["detection_key"] = Value::from("[detection key]");
    insta::assert_snapshot!("image_json", serde_json::to_string_pretty(&json).unwrap());
}
