//! Tokens inside zip and tar files, nested archives, and the limits that
//! keep hostile archives (bombs, corrupt and encrypted files) contained.

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;

use common::*;

fn zip_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn tar_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// Sets the "encrypted" flag on every entry, as a password-protected zip
/// has (the zip writer offers no encryption we can use here).
fn mark_encrypted(mut zip: Vec<u8>) -> Vec<u8> {
    for i in 0..zip.len().saturating_sub(10) {
        let flag_at = match &zip[i..i + 4] {
            [0x50, 0x4b, 0x03, 0x04] => i + 6,
            [0x50, 0x4b, 0x01, 0x02] => i + 8,
            _ => continue,
        };
        zip[flag_at] |= 1;
    }
    zip
}

fn findings(dir: &Path, args: &[&str]) -> (i32, Vec<Spot>, String) {
    let run = scan_json(dir, args);
    (run.code, found(&run.json).into_iter().collect(), run.stderr)
}

#[test]
fn a_token_in_a_nuget_package_names_archive_and_member() {
    let dir = tempfile::tempdir().unwrap();
    let key = token("nuget-api-key", 1);
    let config =
        format!("<configuration>\n  <add key=\"ApiKey\" value=\"{key}\" />\n</configuration>\n");
    let nupkg = zip_bytes(&[
        ("Contoso.Web.nuspec", b"<package/>"),
        ("content/app.config", config.as_bytes()),
    ]);
    fs::write(dir.path().join("Contoso.Web.1.0.0.nupkg"), nupkg).unwrap();
    let (code, found, _) = findings(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        found,
        vec![(
            "Contoso.Web.1.0.0.nupkg!/content/app.config".into(),
            2,
            28,
            "nuget-api-key".into()
        )]
    );
}

#[test]
fn tar_family_members_are_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let npm = token("npm-token", 2);
    let npmrc = format!("//registry.npmjs.org/:_authToken={npm}\n");
    let tar = tar_bytes(&[
        ("package/package.json", b"{}"),
        ("package/.npmrc", npmrc.as_bytes()),
    ]);
    fs::write(dir.path().join("plain.tar"), &tar).unwrap();
    fs::write(dir.path().join("web-1.0.0.tgz"), gzip(&tar)).unwrap();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    bz.write_all(&tar).unwrap();
    fs::write(dir.path().join("web.tar.bz2"), bz.finish().unwrap()).unwrap();
    let mut xz = xz2::write::XzEncoder::new(Vec::new(), 6);
    xz.write_all(&tar).unwrap();
    fs::write(dir.path().join("web.tar.xz"), xz.finish().unwrap()).unwrap();

    let (_, found, stderr) = findings(dir.path(), &[]);
    let paths: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "plain.tar!/package/.npmrc",
            "web-1.0.0.tgz!/package/.npmrc",
            "web.tar.bz2!/package/.npmrc",
            "web.tar.xz!/package/.npmrc",
        ],
        "{stderr}"
    );
    assert!(found
        .iter()
        .all(|f| f.1 == 1 && f.2 == 34 && f.3 == "npm-token"));
}

#[test]
fn nested_archives_open_to_the_configured_depth() {
    let dir = tempfile::tempdir().unwrap();
    let gh = token("github-classic-pat", 3);
    let props = format!("github.token={gh}\n");
    let jar = zip_bytes(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("app.properties", props.as_bytes()),
    ]);
    let war = zip_bytes(&[("WEB-INF/lib/app.jar", &jar)]);
    let ear = zip_bytes(&[("web.war", &war)]);
    fs::write(dir.path().join("app.war"), &war).unwrap();
    fs::write(dir.path().join("deep.ear"), &ear).unwrap();

    let (_, found, stderr) = findings(dir.path(), &[]);
    let paths: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(paths, vec!["app.war!/WEB-INF/lib/app.jar!/app.properties"]);
    assert!(
        stderr.contains("deep.ear!/web.war!/WEB-INF/lib/app.jar")
            && stderr.contains("--archive-depth"),
        "{stderr}"
    );

    let (_, found, _) = findings(dir.path(), &["--archive-depth", "3"]);
    let paths: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "app.war!/WEB-INF/lib/app.jar!/app.properties",
            "deep.ear!/web.war!/WEB-INF/lib/app.jar!/app.properties",
        ]
    );
}

#[test]
fn a_tarball_inside_a_zip_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let hf = token("huggingface-token", 4);
    let env = format!("HF_TOKEN={hf}\n");
    let tgz = gzip(&tar_bytes(&[("model/.env", env.as_bytes())]));
    fs::write(
        dir.path().join("bundle.zip"),
        zip_bytes(&[("model.tar.gz", &tgz)]),
    )
    .unwrap();
    let (_, found, stderr) = findings(dir.path(), &[]);
    assert_eq!(found.len(), 1, "{stderr}");
    assert_eq!(found[0].0, "bundle.zip!/model.tar.gz!/model/.env");
}

#[test]
fn no_archives_treats_them_as_opaque() {
    let dir = tempfile::tempdir().unwrap();
    let gh = token("github-classic-pat", 5);
    fs::write(
        dir.path().join("a.zip"),
        zip_bytes(&[("t.txt", gh.as_bytes())]),
    )
    .unwrap();
    let (code, found, _) = findings(dir.path(), &["--no-archives"]);
    assert_eq!((code, found.len()), (0, 0));
}

#[test]
fn a_compression_bomb_is_stopped_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = vec![b'0'; 64 << 20];
    fs::write(
        dir.path().join("bomb.zip"),
        zip_bytes(&[("zeros.txt", &zeros)]),
    )
    .unwrap();
    fs::write(
        dir.path().join("bomb.tar.gz"),
        gzip(&tar_bytes(&[("zeros.txt", &zeros)])),
    )
    .unwrap();
    let gh = token("github-classic-pat", 6);
    fs::write(dir.path().join("real.txt"), &gh).unwrap();
    let (code, found, stderr) = findings(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(found.len(), 1);
    assert!(
        stderr.contains("bomb.zip!/zeros.txt") && stderr.contains("compression bomb"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bomb.tar.gz") && stderr.matches("compression bomb").count() >= 2,
        "{stderr}"
    );
}

#[test]
fn the_total_expansion_limit_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let text: Vec<u8> = (0..200_000u32)
        .flat_map(|i| format!("{i:>9}\n").into_bytes())
        .collect();
    fs::write(
        dir.path().join("logs.zip"),
        zip_bytes(&[("a.log", &text), ("b.log", &text)]),
    )
    .unwrap();
    let run = scan_json(dir.path(), &["--archive-max-bytes", "1M"]);
    assert!(
        run.stderr.contains("archive expands beyond"),
        "{}",
        run.stderr
    );
    assert_eq!(run.code, 0);
}

#[test]
fn corrupt_and_encrypted_archives_are_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let gh = token("github-classic-pat", 7);
    let good = zip_bytes(&[("t.txt", gh.as_bytes())]);
    fs::write(dir.path().join("truncated.zip"), &good[..good.len() / 2]).unwrap();
    fs::write(dir.path().join("garbage.tgz"), b"this is not gzip at all").unwrap();
    fs::write(
        dir.path().join("locked.zip"),
        mark_encrypted(zip_bytes(&[("secret.txt", gh.as_bytes())])),
    )
    .unwrap();
    fs::write(dir.path().join("ok.txt"), &gh).unwrap();

    let (code, found, stderr) = findings(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found.len(), 1);
    for name in ["truncated.zip", "garbage.tgz", "locked.zip"] {
        assert!(stderr.contains(name), "{name} not reported: {stderr}");
    }
    assert!(!stderr.contains(&gh));
}

#[test]
fn git_scans_open_archives_only_when_asked() {
    use common::git::Repo;
    let repo = Repo::init();
    repo.add("README.md", "# app\n");
    repo.commit("initial");
    let gh = token("github-classic-pat", 8);
    let jar = zip_bytes(&[("config/app.properties", format!("token={gh}\n").as_bytes())]);
    fs::create_dir_all(repo.join("lib")).unwrap();
    fs::write(repo.join("lib/app.jar"), &jar).unwrap();
    repo.git(&["add", "lib/app.jar"]);

    // The pre-commit hook's mode leaves archives closed by default...
    let (code, found, stderr) = findings(repo.path(), &["--staged"]);
    assert_eq!((code, found.len()), (0, 0), "{stderr}");
    // ...and opens them when asked.
    let (code, found, stderr) = findings(repo.path(), &["--staged", "--archives"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        found,
        vec![(
            "lib/app.jar!/config/app.properties".into(),
            1,
            7,
            "github-classic-pat".into()
        )]
    );

    repo.commit("add the jar");
    let run = scan_json(repo.path(), &["--history", "--archives"]);
    let findings = run.json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{:#}", run.json);
    assert_eq!(findings[0]["path"], "lib/app.jar!/config/app.properties");
    assert_eq!(findings[0]["origin"], "commit");
    assert_eq!(findings[0]["summary"], "add the jar");
}
