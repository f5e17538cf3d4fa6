//! Structured secrets in the files they live in: private keys, JWTs,
//! connection strings and CLI credential files planted in a realistic tree
//! (fixtures/tree/structured) next to their look-alikes, scanned by the real
//! binary. Every planted secret is found where it was put, nothing else is,
//! and each finding carries its parser's verdict and details, never the
//! secret. Also the defects of a PAT used as a URL's user name.

mod common;

use std::collections::BTreeMap;
use std::fs;

use common::*;
use serde_json::Value;

fn structured_tree() -> std::path::PathBuf {
    fixture_dir("tree").join("structured")
}

fn details(finding: &Value) -> BTreeMap<String, String> {
    finding["details"]
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The finding planted at `path` with the given token.
fn finding_of<'a>(
    json: &'a Value,
    planted: &[Planted],
    path: &str,
    family_token: &str,
) -> &'a Value {
    let p = planted
        .iter()
        .find(|p| p.path == path && p.token == family_token)
        .unwrap();
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["path"] == path
                && f["line"].as_u64() == Some(p.line as u64)
                && f["column"].as_u64() == Some(p.column as u64)
        })
        .unwrap_or_else(|| panic!("no finding at {path}:{}:{}", p.line, p.column))
}

#[test]
fn every_structured_secret_is_found_and_no_look_alike_is() {
    for seed in [1, 2, 3] {
        let dir = tempfile::tempdir().unwrap();
        let planted = plant(&structured_tree(), dir.path(), seed);
        let run = scan_json(dir.path(), &[]);
        assert_eq!(run.code, 1, "stderr: {}", run.stderr);
        assert_eq!(found(&run.json), expected(&planted), "seed {seed}");
        for p in &planted {
            assert!(!run.stdout.contains(&p.token), "{} leaked", p.rule_id);
        }
    }
}

#[test]
fn findings_carry_their_parsers_verdict_and_details() {
    let dir = tempfile::tempdir().unwrap();
    let planted = plant(&structured_tree(), dir.path(), 4);
    let run = scan_json(dir.path(), &[]);
    let json = &run.json;
    let token = |path: &str, rule: &str| -> String {
        planted
            .iter()
            .find(|p| p.path == path && p.rule_id == rule)
            .unwrap_or_else(|| panic!("{rule} in {path}"))
            .token
            .clone()
    };
    let all = |path: &str, rule: &str| -> Vec<String> {
        planted
            .iter()
            .filter(|p| p.path == path && p.rule_id == rule)
            .map(|p| p.token.clone())
            .collect()
    };

    // id_rsa: a 2048-bit PKCS#1 RSA key, unencrypted: high.
    let key = finding_of(
        json,
        &planted,
        ".ssh/id_rsa",
        &token(".ssh/id_rsa", "private-key"),
    );
    assert_eq!(key["confidence"], "high");
    assert_eq!(key["validation"], "structure");
    let d = details(key);
    assert_eq!(d["type"], "rsa");
    assert_eq!(d["bits"], "2048");
    assert_eq!(d["encrypted"], "false");
    // An encrypted PKCS#8 key: low, and says so.
    let path = ".ssh/legacy-test-key.pem";
    let key = finding_of(json, &planted, path, &token(path, "private-key"));
    assert_eq!(key["confidence"], "low");
    assert_eq!(details(key)["encrypted"], "true");
    // The key inside a JSON string with \n escapes.
    let path = "service-account.json";
    let key = finding_of(json, &planted, path, &token(path, "private-key"));
    assert_eq!(key["confidence"], "high");
    assert_eq!(details(key)["format"], "pkcs8");

    // The Entra token names its tenant and app; the expired one is low.
    let path = "get-token.ps1";
    let tokens = all(path, "jwt");
    let entra = finding_of(json, &planted, path, &tokens[0]);
    let d = details(entra);
    assert_eq!(d["kind"], "entra-id");
    assert!(d.contains_key("tenant") && d.contains_key("app"), "{d:?}");
    assert_eq!(d["expired"], "false");
    assert_eq!(entra["confidence"], "medium");
    let expired = finding_of(json, &planted, path, &tokens[1]);
    assert_eq!(expired["confidence"], "low");
    assert_eq!(details(expired)["expired"], "true");

    // A connection string: the password is the secret, host and user the context.
    let path = "appsettings.json";
    let sql = finding_of(
        json,
        &planted,
        path,
        &token(path, "connection-string-password"),
    );
    let d = details(sql);
    assert_eq!(d["host"], "tcp:orders-prod.database.windows.net,1433");
    assert_eq!(d["user"], "orders-app");
    assert_eq!(sql["confidence"], "medium");
    let path = "infra/main.tf";
    let url = finding_of(
        json,
        &planted,
        path,
        &all(path, "connection-url-password")[0],
    );
    let d = details(url);
    assert_eq!(d["scheme"], "postgres");
    assert_eq!(d["host"], "pg-prod.postgres.database.azure.com");
    assert_eq!(d["user"], "tfadmin");
    // A real-looking password for localhost: reported, low.
    let path = "docker-compose.yml";
    let local = finding_of(
        json,
        &planted,
        path,
        &token(path, "connection-url-password"),
    );
    assert_eq!(local["confidence"], "low");

    // CLI files name their registry or host.
    let path = ".docker/config.json";
    let docker = finding_of(json, &planted, path, &token(path, "docker-config-auth"));
    assert_eq!(details(docker)["registry"], "contoso.azurecr.io");
    assert_eq!(details(docker)["user"], "deploy");
    let path = ".netrc";
    let netrc = finding_of(json, &planted, path, &token(path, "netrc-password"));
    assert_eq!(details(netrc)["host"], "artifacts.contoso.net");
    let path = ".pypirc";
    let pypirc = finding_of(json, &planted, path, &token(path, "ini-password"));
    assert_eq!(
        details(pypirc)["repository"],
        "https://pkgs.contoso.net/pypi/simple/"
    );
    assert_eq!(pypirc["confidence"], "medium");

    // No detail ever holds a secret.
    for finding in json["findings"].as_array().unwrap() {
        for value in details(finding).values() {
            for p in &planted {
                assert!(
                    !p.token.contains(value.as_str()) || value.len() < 8,
                    "detail {value} is part of a secret"
                );
            }
        }
    }
}

#[test]
fn human_output_shows_the_details_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let planted = plant(&structured_tree(), dir.path(), 5);
    let output = patscan()
        .current_dir(dir.path())
        .args(["scan", ".ssh/id_rsa"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("structure parsed"), "{stdout}");
    assert!(
        stdout.contains("type=rsa bits=2048 format=pkcs1 encrypted=false"),
        "{stdout}"
    );
    for p in &planted {
        assert!(!stdout.contains(&p.token));
    }
}

#[test]
fn a_key_in_base64_is_found_where_the_base64_is() {
    // kubeconfig's client-key-data: base64 of a PEM file.
    let dir = tempfile::tempdir().unwrap();
    let template = "users:\n- name: admin\n  user:\n    client-certificate-data: REDACTED\n    client-key-data: {{token:private-key-base64}}\n";
    let filled =
        patscan::tokengen::fill_template(template, &mut patscan::tokengen::TokenRng::new(3))
            .unwrap();
    fs::write(dir.path().join("kubeconfig"), &filled.text).unwrap();
    let run = scan_json(dir.path(), &[]);
    let findings = run.json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f["rule_id"], "private-key");
    assert_eq!(f["encoding"], "base64");
    assert_eq!(f["line"], 5);
    assert_eq!(f["column"], 22);
    assert_eq!(details(f)["type"], "ec");
    assert_eq!(details(f)["curve"], "P-256");
}

/// A PAT used as a URL's user name, with no password after it.
#[test]
fn a_token_as_the_user_name_of_a_url_is_found() {
    for (family, template) in [
        ("github-classic-pat", "git remote add origin https://{{token:github-classic-pat}}@github.com/acme/app.git\n"),
        ("azure-devops-pat", "[remote \"origin\"]\n\turl = https://{{token:azure-devops-pat}}@dev.azure.com/contoso/web/_git/web\n"),
        ("gitlab-pat-routable", "git clone https://{{token:gitlab-pat-routable}}@gitlab.com/acme/app.git\n"),
        ("npm-token", "npm install git+https://{{token:npm-token}}@github.com/acme/lib.git\n"),
        ("azure-devops-pat-legacy", "git clone https://{{token:azure-devops-pat-legacy}}@dev.azure.com/org/proj/_git/repo\n"),
    ] {
        for seed in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let filled = patscan::tokengen::fill_template(template, &mut patscan::tokengen::TokenRng::new(seed)).unwrap();
            fs::write(dir.path().join("setup.sh"), &filled.text).unwrap();
            let run = scan_json(dir.path(), &[]);
            let spots = found(&run.json);
            let p = &filled.placements[0];
            let want = ("setup.sh".to_string(), p.line, p.column, family.to_string());
            assert!(spots.contains(&want), "{family} seed {seed}: {spots:?}");
        }
    }
}

/// A legacy Azure DevOps PAT whose checksum verifies is reported in a clone
/// URL whatever the words around it look like.
#[test]
fn a_verified_legacy_pat_in_a_clone_url_is_never_a_placeholder() {
    for seed in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let template = "git clone https://user:{{token:azure-devops-pat-legacy}}@dev.azure.com/org/proj/_git/repo\n";
        let filled =
            patscan::tokengen::fill_template(template, &mut patscan::tokengen::TokenRng::new(seed))
                .unwrap();
        fs::write(dir.path().join("README.md"), &filled.text).unwrap();
        let run = scan_json(dir.path(), &[]);
        let findings = run.json["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "seed {seed}: {findings:?}");
        assert_eq!(findings[0]["rule_id"], "azure-devops-pat-legacy");
        assert_eq!(findings[0]["confidence"], "high");
    }
}

/// A 40-character ghs_ whose CRC fails is a look-alike; a longer one is
/// still reported on its shape.
#[test]
fn a_40_character_ghs_with_a_failing_crc_is_not_reported() {
    for seed in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let template = "GH_TOKEN={{corrupt:github-app-server}}\nGH_TOKEN_LONG={{token:github-app-server-long}}\nGH_TOKEN_OK={{token:github-app-server}}\n";
        let filled =
            patscan::tokengen::fill_template(template, &mut patscan::tokengen::TokenRng::new(seed))
                .unwrap();
        fs::write(dir.path().join("env"), &filled.text).unwrap();
        let run = scan_json(dir.path(), &[]);
        let lines: Vec<(u64, String)> = run.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["line"].as_u64().unwrap(),
                    f["confidence"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            vec![(2, "medium".to_string()), (3, "high".to_string())],
            "seed {seed}"
        );
    }
}
