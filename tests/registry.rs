//! `scan --image` of registry references, against a loopback emulator of
//! the distribution API: bearer tokens from the 401 challenge's token
//! service, anonymous and with credentials (variables, the Docker config's
//! helpers), blobs redirected to another host without the credential, a
//! digest mismatch, several platforms.

mod common;
mod image_fixtures;
mod registry_emulator;

use std::path::Path;

use serde_json::Value;

use common::*;
use image_fixtures::*;
use registry_emulator::Registry;

/// A one-layer image with `secret` in `etc/token.txt` (an uncompressed
/// layer of some size, so that a changed byte lands in the file) and
/// `env` in its environment.
fn image(secret: &str, env: &str, architecture: &'static str) -> Image {
    let mut text = format!("TOKEN={secret}\n").into_bytes();
    text.extend(vec![b'#'; 6000]);
    text.push(b'\n');
    let mut image = Image::new(vec![(
        layer_tar(&[Entry::Dir("etc"), Entry::File("etc/token.txt", &text)]),
        Compression::None,
    )]);
    image.env.push(format!("NPM_TOKEN={env}"));
    image.architecture = architecture;
    image
}

fn scan(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut command = patscan();
    command
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("xdg"))
        .env("HOME", dir)
        .env_remove("DOCKER_CONFIG")
        .env_remove("PATSCAN_REGISTRY_USERNAME")
        .env_remove("PATSCAN_REGISTRY_PASSWORD")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .args(["scan", "--format", "json", "--ungrouped"])
        .args(args);
    if !args.contains(&"--cache") {
        command.arg("--no-cache");
    }
    for (name, value) in env {
        command.env(name, value);
    }
    Run::from_output(command.output().unwrap())
}

fn secrets(json: &Value) -> Vec<String> {
    let mut found: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().unwrap().to_string())
        .collect();
    found.sort();
    found
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn an_anonymous_pull_takes_a_token_and_follows_blobs_to_storage_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, env) = (token("github-classic-pat", 2801), token("npm-token", 2802));
    let registry = Registry::start();
    registry.redirect_blobs();
    let mut layout = Layout::default();
    let descriptor = layout.add_image(&image(&secret, &env, "amd64"));
    layout.index.push(descriptor);
    registry.push_layout("acme/app", "1.0", &layout);
    let reference = registry.reference("acme/app", "1.0");

    let run = scan(dir.path(), &[], &["--image", &reference, "--show-secrets"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(secrets(&json), sorted(vec![secret.clone(), env.clone()]));
    let layer = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["secret"] == secret.as_str())
        .unwrap();
    assert_eq!(layer["path"], format!("{reference}!/etc/token.txt"));
    assert_eq!(layer["image"]["layer_state"], "visible");
    assert_eq!(json["summary"]["images"]["layers_scanned"], 1);

    let seen = registry.seen();
    // The challenge, then a token fetched without any credential.
    assert!(seen.iter().any(|s| s.status == 401));
    let token_requests: Vec<_> = seen
        .iter()
        .filter(|s| s.target.starts_with("/token"))
        .collect();
    assert!(!token_requests.is_empty());
    assert!(token_requests.iter().all(|s| s.authorization.is_none()));
    assert!(token_requests[0]
        .target
        .contains("scope=repository%3Aacme%2Fapp%3Apull"));
    // Blobs came from the storage host, which never saw the token.
    let stored: Vec<_> = seen
        .iter()
        .filter(|s| s.server == registry.blob_addr)
        .collect();
    assert!(!stored.is_empty(), "{seen:?}");
    assert!(
        stored
            .iter()
            .all(|s| s.authorization.is_none() && s.status == 200),
        "{stored:?}"
    );
    // The registry itself got the bearer token.
    assert!(seen.iter().any(|s| s.server == registry.addr
        && s.authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Bearer issued-"))));
}

#[test]
fn a_private_image_needs_a_credential_which_goes_only_to_the_token_service() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, env) = (token("github-classic-pat", 2811), token("npm-token", 2812));
    let registry = Registry::start();
    registry.require_credential("robot", "s3cret-pass");
    registry.redirect_blobs();
    let mut layout = Layout::default();
    let descriptor = layout.add_image(&image(&secret, &env, "amd64"));
    layout.index.push(descriptor);
    registry.push_layout("acme/private", "v2", &layout);
    let reference = registry.reference("acme/private", "v2");

    // Without one: a problem that says what to do, no finding, and exit 2:
    // nothing could be read (the summary says failed), which a CI gate must
    // not take for a clean image.
    let run = scan(dir.path(), &[], &["--image", &reference]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["summary"]["images"]["images"][0]["status"], "failed");
    assert!(run.stderr.contains("docker login"), "{}", run.stderr);

    // With the variables.
    let credential = [
        ("PATSCAN_REGISTRY_USERNAME", "robot"),
        ("PATSCAN_REGISTRY_PASSWORD", "s3cret-pass"),
    ];
    let run = scan(
        dir.path(),
        &credential,
        &["--image", &reference, "--show-secrets"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        secrets(&run.json()),
        sorted(vec![secret.clone(), env.clone()])
    );
    assert!(!run.stdout.contains("s3cret-pass") && !run.stderr.contains("s3cret-pass"));
    let basic = "Basic cm9ib3Q6czNjcmV0LXBhc3M=";
    for s in registry.seen() {
        if s.authorization.as_deref() == Some(basic) {
            assert!(
                s.server == registry.addr && s.target.starts_with("/token"),
                "{s:?}"
            );
        }
        if s.server == registry.blob_addr {
            assert!(s.authorization.is_none(), "{s:?}");
        }
    }

    // From the Docker config, through a credential helper.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-emu");
    std::fs::write(
        &helper,
        "#!/bin/sh\nread server\necho \"{\\\"ServerURL\\\":\\\"$server\\\",\\\"Username\\\":\\\"robot\\\",\\\"Secret\\\":\\\"s3cret-pass\\\"}\"\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let docker = dir.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"credHelpers": {{"{}": "emu"}}}}"#, registry.addr),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = scan(
        dir.path(),
        &[("DOCKER_CONFIG", docker.to_str().unwrap()), ("PATH", &path)],
        &["--image", &reference, "--show-secrets"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(secrets(&run.json()), sorted(vec![secret, env]));

    // From the Docker config's `auths` (what `docker login` writes
    // without a helper).
    // Encoded here, not written out: a literal `auth` value in this file is
    // what patscan itself reports in a scan of the repository.
    let auth = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode("robot:s3cret-pass")
    };
    std::fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            registry.addr
        ),
    )
    .unwrap();
    let run = scan(
        dir.path(),
        &[("DOCKER_CONFIG", docker.to_str().unwrap())],
        &["--image", &reference],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stdout.contains("s3cret-pass") && !run.stderr.contains("s3cret-pass"));

    // The variables are refused when the run names two registries: the
    // credential would go to both.
    let other = "127.0.0.1:9/x/y:1";
    let run = scan(
        dir.path(),
        &credential,
        &["--image", &reference, "--image", other],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("several registries"), "{}", run.stderr);
}

#[test]
fn a_blob_that_does_not_match_its_digest_is_reported_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, env) = (token("github-classic-pat", 2821), token("npm-token", 2822));
    let registry = Registry::start();
    let built = image(&secret, &env, "amd64");
    let mut layout = Layout::default();
    let descriptor = layout.add_image(&built);
    layout.index.push(descriptor);
    registry.push_layout("acme/app", "bad", &layout);
    let layer = digest(&built.blobs()[0]);
    registry.tamper(&layer);
    let reference = registry.reference("acme/app", "bad");

    let cache = dir.path().join("cache");
    let args = ["--image", &reference, "--cache", cache.to_str().unwrap()];
    let run = scan(dir.path(), &[], &args);
    let json = run.json();
    let problems = json["problems"].to_string();
    assert!(problems.contains("does not match its digest"), "{problems}");
    assert_eq!(json["summary"]["images"]["layers_failed"], 1);
    assert_eq!(json["summary"]["images"]["images"][0]["status"], "partial");
    // Not remembered: the next run reads it again.
    let again = scan(dir.path(), &[], &args).json();
    assert_eq!(again["summary"]["images"]["layers_cached"], 0);
    assert!(again["problems"]
        .to_string()
        .contains("does not match its digest"));
}

#[test]
fn a_multi_platform_index_from_a_registry() {
    let dir = tempfile::tempdir().unwrap();
    let amd = (token("github-classic-pat", 2831), token("npm-token", 2832));
    let arm = (token("github-classic-pat", 2833), token("npm-token", 2834));
    let registry = Registry::start();
    let (x, y) = (
        image(&amd.0, &amd.1, "amd64"),
        image(&arm.0, &arm.1, "arm64"),
    );
    let mut layout = Layout::default();
    let index = layout.add_index(&[&x, &y]);
    layout.index.push(index);
    registry.push_layout("acme/multi", "latest", &layout);
    let reference = format!("{}/acme/multi", registry.addr);

    let run = scan(dir.path(), &[], &["--image", &reference, "--show-secrets"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(
        secrets(&json),
        sorted(vec![
            amd.0.clone(),
            amd.1.clone(),
            arm.0.clone(),
            arm.1.clone()
        ])
    );
    let run = scan(
        dir.path(),
        &[],
        &[
            "--image",
            &reference,
            "--show-secrets",
            "--platform",
            "linux/arm64",
        ],
    );
    assert_eq!(secrets(&run.json()), sorted(vec![arm.0, arm.1]));
    let missing = format!("{}/acme/none:1", registry.addr);
    let run = scan(dir.path(), &[], &["--image", &missing]);
    assert!(run.stderr.contains("not found"), "{}", run.stderr);
}

#[test]
fn a_registry_catalogue_lists_every_tag_to_scan() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let mut planted = Vec::new();
    for (n, (repository, tag)) in [
        ("acme/api", "1.0"),
        ("acme/api", "2.0"),
        ("acme/web", "latest"),
        ("other/tool", "v1"),
    ]
    .into_iter()
    .enumerate()
    {
        let secret = token("github-classic-pat", 2840 + n as u64);
        let env = token("npm-token", 2850 + n as u64);
        let mut layout = Layout::default();
        let descriptor = layout.add_image(&image(&secret, &env, "amd64"));
        layout.index.push(descriptor);
        registry.push_layout(repository, tag, &layout);
        planted.push((repository, secret, env));
    }
    let all = format!("{}", registry.addr);
    let run = scan(
        dir.path(),
        &[],
        &["--image-catalog", &all, "--show-secrets"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    let expected: Vec<String> = planted
        .iter()
        .flat_map(|(_, s, e)| [s.clone(), e.clone()])
        .collect();
    assert_eq!(secrets(&json), sorted(expected));
    let references: Vec<&str> = json["summary"]["images"]["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        references,
        [
            format!("{all}/acme/api:1.0"),
            format!("{all}/acme/api:2.0"),
            format!("{all}/acme/web:latest"),
            format!("{all}/other/tool:v1"),
        ]
    );
    // The catalogue was read page by page (two names a page here).
    assert!(registry
        .seen()
        .iter()
        .any(|s| s.target.starts_with("/v2/_catalog?last=")));

    // One namespace only.
    let run = scan(
        dir.path(),
        &[],
        &["--image-catalog", &format!("{all}/acme"), "--show-secrets"],
    );
    let json = run.json();
    assert_eq!(json["summary"]["images"]["images_listed"], 3);
    let expected: Vec<String> = planted
        .iter()
        .filter(|(r, _, _)| r.starts_with("acme/"))
        .flat_map(|(_, s, e)| [s.clone(), e.clone()])
        .collect();
    assert_eq!(secrets(&json), sorted(expected));
}
