//! Tokens in disguise: UTF-16 text, base64 and percent-encoding. Each case
//! is one users hit; each negative is a kind of base64 that must stay quiet.

mod common;

use std::fs;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use common::*;
use patscan::tokengen::{corrupt, TokenRng};
use serde_json::Value;

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(if big_endian {
            &[0xFE, 0xFF]
        } else {
            &[0xFF, 0xFE]
        });
    }
    for unit in text.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

/// The single finding of a scan of `dir`, or a panic listing what was found.
fn only_finding(dir: &std::path::Path) -> Value {
    let run = scan_json(dir, &["--show-secrets"]);
    let findings = run.json["findings"].as_array().unwrap().clone();
    assert_eq!(findings.len(), 1, "{:#}", run.json);
    findings[0].clone()
}

fn assert_finding(
    f: &Value,
    rule: &str,
    secret: &str,
    line: u64,
    column: u64,
    encoding: Option<&str>,
) {
    assert_eq!(f["rule_id"], rule, "{f:#}");
    assert_eq!(f["secret"], secret, "{f:#}");
    assert_eq!(
        (f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap()),
        (line, column),
        "{f:#}"
    );
    assert_eq!(f["encoding"].as_str(), encoding, "{f:#}");
}

#[test]
fn utf16le_powershell_with_bom() {
    let dir = tempfile::tempdir().unwrap();
    let pat = token("azure-devops-pat-legacy", 1);
    let text = format!("# Registers the agent — café\r\n$org = \"https://dev.azure.com/contoso\"\r\n$pat = \"{pat}\"\r\n");
    fs::write(dir.path().join("register.ps1"), utf16(&text, false, true)).unwrap();
    let f = only_finding(dir.path());
    assert_finding(&f, "azure-devops-pat-legacy", &pat, 3, 9, Some("utf-16le"));
}

#[test]
fn utf16be_without_bom() {
    let dir = tempfile::tempdir().unwrap();
    let pat = token("github-classic-pat", 2);
    let text = format!("Windows Registry Editor Version 5.00\n\n[HKEY_CURRENT_USER\\Software\\Build]\n\"Token\"=\"{pat}\"\n");
    fs::write(dir.path().join("build.reg"), utf16(&text, true, false)).unwrap();
    let f = only_finding(dir.path());
    assert_finding(&f, "github-classic-pat", &pat, 4, 10, Some("utf-16be"));
}

#[test]
fn basic_auth_header_in_a_curl_command() {
    let dir = tempfile::tempdir().unwrap();
    let pat = token("azure-devops-pat", 3);
    let encoded = STANDARD.encode(format!(":{pat}"));
    let script = format!("#!/bin/sh\ncurl -s \\\n  -H \"Authorization: Basic {encoded}\" \\\n  https://dev.azure.com/contoso/_apis/projects\n");
    fs::write(dir.path().join("list-projects.sh"), script).unwrap();
    let f = only_finding(dir.path());
    assert_finding(&f, "azure-devops-pat", &pat, 3, 28, Some("base64"));
    assert_eq!(f["end_column"].as_u64().unwrap(), 28 + encoded.len() as u64);
}

#[test]
fn npmrc_password_for_an_azure_artifacts_feed() {
    let dir = tempfile::tempdir().unwrap();
    let pat = token("azure-devops-pat-legacy", 4);
    let npmrc = format!(
        "; begin auth token\n//pkgs.dev.azure.com/contoso/_packaging/web/npm/registry/:username=contoso\n//pkgs.dev.azure.com/contoso/_packaging/web/npm/registry/:_password={}\n//pkgs.dev.azure.com/contoso/_packaging/web/npm/registry/:email=npm requires email to be set but doesn't use the value\n",
        STANDARD.encode(&pat)
    );
    fs::write(dir.path().join(".npmrc"), npmrc).unwrap();
    let f = only_finding(dir.path());
    assert_finding(&f, "azure-devops-pat-legacy", &pat, 3, 69, Some("base64"));
}

#[test]
fn kubernetes_secret_values_including_a_nested_docker_config() {
    let dir = tempfile::tempdir().unwrap();
    let gh = token("github-classic-pat", 5);
    let docker = token("dockerhub-pat", 6);
    let auth = STANDARD.encode(format!("ci-bot:{docker}"));
    let dockerconfig = STANDARD.encode(format!(
        "{{\"auths\":{{\"https://index.docker.io/v1/\":{{\"auth\":\"{auth}\"}}}}}}"
    ));
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ci\ntype: Opaque\ndata:\n  GITHUB_TOKEN: {}\n  .dockerconfigjson: {dockerconfig}\n",
        STANDARD.encode(&gh)
    );
    fs::write(dir.path().join("secret.yaml"), manifest).unwrap();
    let run = scan_json(dir.path(), &["--show-secrets"]);
    let findings = run.json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{:#}", run.json);
    assert_finding(
        &findings[0],
        "github-classic-pat",
        &gh,
        7,
        17,
        Some("base64"),
    );
    assert_finding(
        &findings[1],
        "dockerhub-pat",
        &docker,
        8,
        22,
        Some("base64+base64"),
    );
}

/// A Kubernetes secret whose value is the base64 of nothing but a short
/// token: a 26-character GitLab PAT is 35 base64 characters and a `=`.
#[test]
fn kubernetes_secret_holding_a_bare_short_token() {
    let dir = tempfile::tempdir().unwrap();
    let pat = token("gitlab-pat", 10);
    let encoded = STANDARD.encode(&pat);
    assert_eq!(encoded.len(), 36, "{encoded}");
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: gitlab\ndata:\n  token: {encoded}\n"
    );
    fs::write(dir.path().join("gitlab-secret.yaml"), manifest).unwrap();
    let f = only_finding(dir.path());
    assert_finding(&f, "gitlab-pat", &pat, 6, 10, Some("base64"));
    assert_eq!(f["end_column"].as_u64().unwrap(), 10 + encoded.len() as u64);
}

/// Every built-in rule whose token is short (40 bytes or fewer, so 54
/// base64 characters or fewer) is found when a secret's value is its bare
/// base64, padded or not: the base64 runs start at the shortest encoded
/// token the rules allow, so a new short format is covered here too. Tokens
/// under `MIN_DECODED_SECRET` bytes are looked for in plain text only.
#[test]
fn every_short_token_is_found_as_the_bare_base64_value_of_a_secret() {
    let rules = patscan::rules::builtin().unwrap();
    let short: Vec<&str> = rules
        .rules()
        .iter()
        .map(|r| &r.spec)
        .filter(|s| s.max_length <= 40 && s.bare.is_none())
        .map(|s| s.id.as_str())
        .collect();
    assert!(short.contains(&"gitlab-pat"), "{short:?}");
    let dir = tempfile::tempdir().unwrap();
    let mut tokens = Vec::new();
    for (i, id) in short.iter().enumerate() {
        let tok = token(id, 100 + i as u64);
        if tok.len() < patscan::rules::MIN_DECODED_SECRET {
            continue;
        }
        let padded = STANDARD.encode(&tok);
        let bare = padded.trim_end_matches('=').to_string();
        fs::write(
            dir.path().join(format!("{id}.yaml")),
            format!("data:\n  padded: {padded}\n  bare: {bare}\n"),
        )
        .unwrap();
        tokens.push((id, tok));
    }
    let run = scan_json(dir.path(), &["--show-secrets"]);
    let findings = run.json["findings"].as_array().unwrap();
    for (id, tok) in &tokens {
        let mine: Vec<&Value> = findings
            .iter()
            .filter(|f| f["path"].as_str().unwrap().ends_with(&format!("{id}.yaml")))
            .collect();
        let mut lines: Vec<u64> = mine.iter().map(|f| f["line"].as_u64().unwrap()).collect();
        lines.sort_unstable();
        assert_eq!(lines, vec![2, 3], "{id}: {mine:#?}");
        for f in mine {
            assert_eq!(f["rule_id"], **id, "{f:#}");
            assert_eq!(f["secret"], tok.as_str(), "{f:#}");
            assert_eq!(f["encoding"], "base64", "{f:#}");
        }
    }
}

#[test]
fn docker_config_json_auth_value() {
    let dir = tempfile::tempdir().unwrap();
    let gl = token("gitlab-pat-routable", 7);
    let config = format!(
        "{{\n  \"auths\": {{\n    \"registry.gitlab.com\": {{\n      \"auth\": \"{}\"\n    }}\n  }}\n}}\n",
        STANDARD.encode(format!("deploy:{gl}"))
    );
    fs::write(dir.path().join("config.json"), config).unwrap();
    let f = only_finding(dir.path());
    assert_finding(&f, "gitlab-pat-routable", &gl, 4, 16, Some("base64"));
}

#[test]
fn url_safe_base64_without_padding() {
    let dir = tempfile::tempdir().unwrap();
    let npm = token("npm-token", 8);
    let encoded = URL_SAFE_NO_PAD.encode(format!("{{\"registry\":\"npm\",\"token\":\"{npm}\"}}"));
    fs::write(dir.path().join("state.txt"), format!("state={encoded}\n")).unwrap();
    let f = only_finding(dir.path());
    assert_finding(&f, "npm-token", &npm, 1, 7, Some("base64"));
}

#[test]
fn percent_encoded_tokens_in_urls_and_form_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let hf = token("huggingface-token", 9);
    let atl = token("atlassian-api-token", 10);
    let atl_encoded = atl.replace('=', "%3D");
    let text = format!(
        "GET /callback?state=%22{hf}%22&next=%2F HTTP/1.1\nbody: user=ops&token={atl_encoded}&submit=1\n"
    );
    fs::write(dir.path().join("requests.log"), text).unwrap();
    let run = scan_json(dir.path(), &["--show-secrets"]);
    let findings = run.json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{:#}", run.json);
    assert_finding(
        &findings[0],
        "huggingface-token",
        &hf,
        1,
        24,
        Some("percent"),
    );
    assert_finding(
        &findings[1],
        "atlassian-api-token",
        &atl,
        2,
        22,
        Some("percent"),
    );
    assert_eq!(
        findings[1]["end_column"].as_u64().unwrap(),
        22 + atl_encoded.len() as u64,
        "the location spans the encoded text"
    );
}

#[test]
fn base64_inside_a_utf16_file() {
    let dir = tempfile::tempdir().unwrap();
    let pat = token("azure-devops-pat", 11);
    let text = format!(
        "$headers = @{{ Authorization = \"Basic {}\" }}\r\n",
        STANDARD.encode(format!(":{pat}"))
    );
    fs::write(dir.path().join("call.ps1"), utf16(&text, false, true)).unwrap();
    let f = only_finding(dir.path());
    assert_finding(&f, "azure-devops-pat", &pat, 1, 38, Some("utf-16le+base64"));
}

#[test]
fn encoded_secrets_are_masked_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let pat = token("azure-devops-pat", 12);
    let encoded = STANDARD.encode(format!(":{pat}"));
    fs::write(
        dir.path().join("a.sh"),
        format!("curl -H 'Authorization: Basic {encoded}' x\n"),
    )
    .unwrap();
    for format in ["json", "human"] {
        let output = patscan()
            .current_dir(dir.path())
            .args(["scan", "--format", format])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!stdout.contains(&pat), "{format}: decoded token leaked");
        assert!(!stdout.contains(&encoded), "{format}: encoded token leaked");
    }
}

#[test]
fn random_base64_blobs_produce_no_findings() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = TokenRng::new(99);
    let random = |rng: &mut TokenRng, n: usize| -> Vec<u8> {
        (0..n).map(|_| rng.next_u64() as u8).collect()
    };
    // An inline PNG, a certificate, SRI hashes and lockfile integrity strings.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(random(&mut rng, 3000));
    let html = format!(
        "<img src=\"data:image/png;base64,{}\">\n<script src=\"app.js\" integrity=\"sha384-{}\"></script>\n",
        STANDARD.encode(&png),
        STANDARD.encode(random(&mut rng, 48))
    );
    let der = random(&mut rng, 1200);
    let pem_body: Vec<String> = STANDARD
        .encode(&der)
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        pem_body.join("\n")
    );
    let mut lock = String::from("{\n");
    for i in 0..200 {
        lock.push_str(&format!(
            "  \"pkg{i}\": \"sha512-{}\",\n",
            STANDARD.encode(random(&mut rng, 64))
        ));
    }
    lock.push_str("}\n");
    // A base64-encoded token whose checksum fails is not a finding either.
    let bad = corrupt("github-classic-pat", &mut rng).unwrap();
    let basic = format!(
        "Authorization: Basic {}\n",
        STANDARD.encode(format!("x:{bad}"))
    );
    fs::write(dir.path().join("index.html"), html).unwrap();
    fs::write(dir.path().join("ca.pem"), pem).unwrap();
    fs::write(dir.path().join("package-lock.json"), lock).unwrap();
    fs::write(dir.path().join("curl.txt"), basic).unwrap();
    let run = scan_json(dir.path(), &[]);
    assert_eq!(run.code, 0, "{:#}", run.json);
}
