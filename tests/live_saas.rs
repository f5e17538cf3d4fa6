//! Live checks and revocation for the developer-platform issuers (Grafana,
//! Vercel, Cloudflare, DigitalOcean, Sentry, Stripe, Doppler, Shopify,
//! Buildkite, Heroku, Vault, Postman, crates.io, and Hugging Face's
//! revocation API), end to end: the real binary against the loopback
//! emulator. Every documented answer maps to the right status, tokens that
//! need an instance are only checked when one is named near them, each
//! token goes only to its own (overridden) host, revocation is a dry run
//! without --yes, and no token appears in any output.

mod common;
mod emulator;

use std::fs;
use std::path::Path;

use common::{patscan, token, Run};
use emulator::{Behaviour, Emulator};
use serde_json::Value;

fn run(dir: &Path, overrides: &str, args: &[&str]) -> Run {
    let output = patscan()
        .current_dir(dir)
        .env("PATSCAN_ENDPOINT_OVERRIDES", overrides)
        .args(args)
        .output()
        .unwrap();
    Run::from_output(output)
}

const VERIFY: &[&str] = &[
    "scan",
    "--verify",
    "--format",
    "json",
    "--ungrouped",
    "--verify-timeout",
    "5",
    "--verify-rate",
    "200",
];

/// What a file needs next to the token for the issuer to be checkable.
fn context(rule: &str) -> &'static str {
    match rule {
        "grafana-service-account-token" => "GRAFANA_URL=https://acme.grafana.net\n",
        r if r.starts_with("shopify-") => "SHOPIFY_SHOP=acme-store.myshopify.com\n",
        r if r.starts_with("vault-") => "VAULT_ADDR=https://vault.acme.example:8200\n",
        "cloudflare-account-api-token" => {
            "CLOUDFLARE_ACCOUNT_ID=0123456789abcdef0123456789abcdef\n"
        }
        _ => "",
    }
}

fn verification<'a>(json: &'a Value, file: &str) -> &'a Value {
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("no finding in {file}: {json}"));
    &finding["verification"]
}

/// Each provider: its rule, the path of its check, and a text its active
/// answer must show (owner, organisation or scope).
const PROVIDERS: &[(&str, &str, &str)] = &[
    ("grafana-service-account-token", "/api/org", "Acme Ops"),
    ("vercel-personal-access-token", "/v2/user", "vercel-owner"),
    ("vercel-integration-token", "/v2/user", "vercel-owner"),
    (
        "vercel-app-access-token",
        "/login/oauth/userinfo",
        "vercel-app@acme.example",
    ),
    (
        "vercel-app-refresh-token",
        "/login/oauth/token/introspect",
        "vercel-app-user",
    ),
    (
        "cloudflare-user-api-token",
        "/client/v4/user/tokens/verify",
        "2031-01-01",
    ),
    (
        "cloudflare-account-api-token",
        "/client/v4/accounts/0123456789abcdef0123456789abcdef/tokens/verify",
        "2031-01-01",
    ),
    ("digitalocean-pat", "/v2/account", "do-owner@acme.example"),
    (
        "digitalocean-oauth-token",
        "/v2/account",
        "do-owner@acme.example",
    ),
    ("sentry-user-token", "/api/0/organizations/", "acme-labs"),
    ("sentry-org-token", "/api/0/organizations/", "acme-labs"),
    ("stripe-secret-key", "/v1/account", "Acme Payments"),
    (
        "stripe-restricted-key",
        "/v1/account",
        "billing@acme.example",
    ),
    ("doppler-token", "/v3/me", "Acme Workplace"),
    (
        "shopify-access-token",
        "/admin/oauth/access_scopes.json",
        "write_orders",
    ),
    (
        "shopify-custom-app-token",
        "/admin/oauth/access_scopes.json",
        "read_products",
    ),
    (
        "shopify-private-app-token",
        "/admin/oauth/access_scopes.json",
        "acme-store.myshopify.com",
    ),
    (
        "buildkite-user-token",
        "/v2/access-token",
        "bk-owner@acme.example",
    ),
    ("heroku-api-key", "/account", "heroku-owner@acme.example"),
    (
        "vault-service-token",
        "/v1/auth/token/lookup-self",
        "approle-ci",
    ),
    (
        "vault-batch-token",
        "/v1/auth/token/lookup-self",
        "approle-ci",
    ),
    ("postman-api-key", "/me", "postman-owner"),
    ("cratesio-api-token", "/api/v1/me", "crates-owner"),
];

#[test]
fn each_provider_answer_maps_to_the_right_status() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    // (behaviour, expected status, text the verification must contain);
    // the active case's text comes from PROVIDERS.
    let answers: Vec<(Behaviour, &str, &str)> = vec![
        (Behaviour::Active, "active", ""),
        (Behaviour::Revoked, "inactive", "rejected"),
        (
            Behaviour::RateLimited {
                retry_after: 0,
                times: 100,
            },
            "unknown",
            "rate limited",
        ),
        (Behaviour::ServerError, "unknown", "HTTP 500"),
        (Behaviour::Html, "unknown", "HTML"),
        (Behaviour::WafForbidden, "unknown", "HTML"),
    ];
    let mut cases = Vec::new();
    let mut seed = 5000;
    for (rule, _, active_text) in PROVIDERS {
        for (behaviour, status, text) in &answers {
            seed += 1;
            let t = token(rule, seed);
            emu.set(&t, behaviour.clone());
            let file = format!("c{seed}.env");
            fs::write(
                dir.path().join(&file),
                format!("{}TOKEN={t}\n", context(rule)),
            )
            .unwrap();
            let text = if text.is_empty() { active_text } else { text };
            cases.push((rule, behaviour.clone(), *status, text, file, t));
        }
    }
    let out = run(dir.path(), &emu.overrides(), VERIFY);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json = out.json();
    for (rule, behaviour, status, text, file, _) in &cases {
        let v = verification(&json, file);
        assert_eq!(v["status"], *status, "{rule} {behaviour:?}: {v}");
        let shown = v.to_string();
        assert!(
            shown.contains(**text),
            "{rule} {behaviour:?}: {v} lacks {text}"
        );
        if *status != "active" {
            assert!(v["reason"].is_string(), "{rule} {behaviour:?}: no reason");
        }
    }
    // Each check asked its documented endpoint.
    for (rule, behaviour, _, _, _, t) in &cases {
        if *behaviour == Behaviour::Active {
            let path = PROVIDERS.iter().find(|p| p.0 == **rule).unwrap().1;
            let seen = emu.requests_with(t);
            assert!(
                !seen.is_empty() && seen.iter().all(|s| s.path.split('?').next() == Some(path)),
                "{rule}: {seen:?}"
            );
        }
    }
    let tokens: Vec<&str> = cases.iter().map(|c| c.5.as_str()).collect();
    out.assert_no_leak(&tokens);
}

/// Answers only some issuers give: a token that authenticates without the
/// scope to describe itself is active; Vault's bare "permission denied"
/// is not a rejection; an expired Cloudflare token is inactive.
#[test]
fn scope_and_status_answers_are_read_precisely() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "sentry-user-token",
            Behaviour::WrongScope,
            "active",
            "org:read",
        ),
        (
            "stripe-restricted-key",
            Behaviour::WrongScope,
            "active",
            "restricted key",
        ),
        (
            "cratesio-api-token",
            Behaviour::WrongScope,
            "active",
            "scopes",
        ),
        (
            "cratesio-api-token",
            Behaviour::Revoked,
            "inactive",
            "authentication failed",
        ),
        (
            "vault-service-token",
            Behaviour::WrongScope,
            "unknown",
            "permission denied",
        ),
        (
            "vault-service-token",
            Behaviour::Revoked,
            "inactive",
            "invalid token",
        ),
        (
            "cloudflare-user-api-token",
            Behaviour::Expired,
            "inactive",
            "expired",
        ),
        (
            "cloudflare-user-api-token",
            Behaviour::Revoked,
            "inactive",
            "401",
        ),
        (
            "vercel-personal-access-token",
            Behaviour::Revoked,
            "inactive",
            "403",
        ),
        (
            "vercel-app-refresh-token",
            Behaviour::Revoked,
            "inactive",
            "active: false",
        ),
    ];
    let mut tokens = Vec::new();
    for (i, (rule, behaviour, _, _)) in cases.iter().enumerate() {
        let t = token(rule, 6000 + i as u64);
        emu.set(&t, behaviour.clone());
        fs::write(
            dir.path().join(format!("s{i}.env")),
            format!("{}TOKEN={t}\n", context(rule)),
        )
        .unwrap();
        tokens.push(t);
    }
    let out = run(dir.path(), &emu.overrides(), VERIFY);
    let json = out.json();
    for (i, (rule, behaviour, status, text)) in cases.iter().enumerate() {
        let v = verification(&json, &format!("s{i}.env"));
        assert_eq!(v["status"], *status, "{rule} {behaviour:?}: {v}");
        assert!(
            v.to_string().contains(text),
            "{rule} {behaviour:?}: {v} lacks {text}"
        );
    }
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    out.assert_no_leak(&refs);
}

/// Grafana, Shopify and Vault tokens work on one instance: without one
/// named near the token, nothing is sent and the reason says why. A plain
/// http:// Vault address or a self-hosted Grafana do not count.
#[test]
fn instance_tokens_without_an_instance_nearby_are_unknown_and_not_sent() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("grafana-service-account-token", "", "Grafana Cloud stack"),
        (
            "grafana-service-account-token",
            "GRAFANA_URL=https://grafana.acme.internal\n",
            "self-hosted",
        ),
        ("shopify-access-token", "", "no shop"),
        ("cloudflare-account-api-token", "", "account id"),
        ("vault-service-token", "", "VAULT_ADDR"),
        (
            "vault-service-token",
            "VAULT_ADDR=http://127.0.0.1:8200\n",
            "never guesses",
        ),
    ];
    let mut tokens = Vec::new();
    for (i, (rule, ctx, _)) in cases.iter().enumerate() {
        let t = token(rule, 6100 + i as u64);
        emu.set(&t, Behaviour::Active);
        // Padding keeps any other case's context out of reach.
        fs::write(
            dir.path().join(format!("n{i}.env")),
            format!("{ctx}TOKEN={t}\n"),
        )
        .unwrap();
        tokens.push(t);
    }
    let out = run(dir.path(), &emu.overrides(), VERIFY);
    let json = out.json();
    for (i, (rule, _, text)) in cases.iter().enumerate() {
        let v = verification(&json, &format!("n{i}.env"));
        assert_eq!(v["status"], "unknown", "{rule}: {v}");
        assert!(
            v["reason"].as_str().unwrap().contains(text),
            "{rule}: {v} lacks {text}"
        );
        assert!(emu.requests_with(&tokens[i]).is_empty(), "{rule} was sent");
    }
    assert_eq!(emu.connections(), 0);
}

/// With each provider sent to its own loopback server, every token reaches
/// only its issuer's server, on its documented path, exactly once.
#[test]
fn each_token_goes_only_to_its_own_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let keys = [
        ("grafana", "grafana-service-account-token"),
        ("vercel", "vercel-personal-access-token"),
        ("cloudflare", "cloudflare-user-api-token"),
        ("digitalocean", "digitalocean-pat"),
        ("sentry", "sentry-user-token"),
        ("stripe", "stripe-secret-key"),
        ("doppler", "doppler-token"),
        ("shopify", "shopify-access-token"),
        ("buildkite", "buildkite-user-token"),
        ("heroku", "heroku-api-key"),
        ("vault", "vault-service-token"),
        ("postman", "postman-api-key"),
        ("crates-io", "cratesio-api-token"),
    ];
    let servers: Vec<Emulator> = keys.iter().map(|_| Emulator::start()).collect();
    let mut text = String::new();
    let mut tokens = Vec::new();
    for (i, (_, rule)) in keys.iter().enumerate() {
        let t = token(rule, 6200 + i as u64);
        for s in &servers {
            s.set(&t, Behaviour::Active);
        }
        text.push_str(context(rule));
        text.push_str(&format!("T{i}={t}\n"));
        tokens.push(t);
    }
    fs::write(dir.path().join("all.env"), text).unwrap();
    let overrides: Vec<String> = keys
        .iter()
        .zip(&servers)
        .map(|((key, _), s)| format!("{key}={}", s.url()))
        .collect();
    let out = run(dir.path(), &overrides.join(","), VERIFY);
    let json = out.json();
    for f in json["findings"].as_array().unwrap() {
        assert_eq!(f["verification"]["status"], "active", "{f}");
    }
    for (i, (key, rule)) in keys.iter().enumerate() {
        let path = PROVIDERS.iter().find(|p| p.0 == *rule).unwrap().1;
        for (j, server) in servers.iter().enumerate() {
            let seen = server.requests_with(&tokens[i]);
            if i == j {
                assert_eq!(seen.len(), 1, "{key}: {seen:?}");
                assert_eq!(seen[0].path.split('?').next().unwrap(), path, "{key}");
            } else {
                assert!(
                    seen.is_empty(),
                    "{rule}'s token reached {}'s server",
                    keys[j].0
                );
            }
        }
    }
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    out.assert_no_leak(&refs);
}

/// Tokens with a self-revocation API, one each, plus Hugging Face's API.
const REVOCABLE: &[(&str, &str)] = &[
    ("vercel-personal-access-token", "/v3/user/tokens/current"),
    ("cloudflare-user-api-token", "/client/v4/user/tokens/"),
    ("buildkite-user-token", "/v2/access-token"),
    ("doppler-token", "/v3/auth/revoke"),
    ("cratesio-api-token", "/api/v1/tokens/current"),
    ("digitalocean-pat", "/v1/oauth/revoke"),
    ("heroku-api-key", "/oauth/tokens/"),
    ("vault-service-token", "/v1/auth/token/revoke-self"),
    ("huggingface-token", "/api/credentials/revoke"),
];

fn plant_revocable(emu: &Emulator, dir: &Path) -> Vec<String> {
    let mut text = String::new();
    let mut tokens = Vec::new();
    for (i, (rule, _)) in REVOCABLE.iter().enumerate() {
        let t = token(rule, 6300 + i as u64);
        emu.set(&t, Behaviour::Active);
        text.push_str(context(rule));
        text.push_str(&format!("T{i}={t}\n"));
        tokens.push(t);
    }
    fs::write(dir.join("leak.env"), text).unwrap();
    tokens
}

fn audit(dir: &Path) -> Vec<Value> {
    fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const REVOKE: &[&str] = &[
    "scan",
    "--verify",
    "--revoke",
    "--audit-log",
    "audit.jsonl",
    "--verify-rate",
    "200",
];

#[test]
fn revocation_is_a_dry_run_without_consent() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let tokens = plant_revocable(&emu, dir.path());
    let out = run(dir.path(), &emu.overrides(), REVOKE);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        emu.revocation_requests().is_empty(),
        "{:?}",
        emu.revocation_requests()
    );
    let log = audit(dir.path());
    assert_eq!(log.len(), REVOCABLE.len(), "{log:?}");
    for e in &log {
        assert_eq!(e["outcome"], "would-revoke", "{e}");
        assert_eq!(e["dry_run"], true, "{e}");
    }
    // The plan names where each request would go.
    for (_, path) in REVOCABLE {
        assert!(
            out.stderr.contains(path),
            "{path} missing from {}",
            out.stderr
        );
    }
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    out.assert_no_leak(&refs);
}

#[test]
fn yes_revokes_each_token_with_its_issuers_api_and_it_is_dead_after() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let tokens = plant_revocable(&emu, dir.path());
    let mut args = REVOKE.to_vec();
    args.push("--yes");
    let out = run(dir.path(), &emu.overrides(), &args);
    assert_eq!(out.code, 1, "findings still exit 1: {}", out.stderr);
    let log = audit(dir.path());
    assert_eq!(log.len(), REVOCABLE.len());
    let requests = emu.revocation_requests();
    for (i, (rule, path)) in REVOCABLE.iter().enumerate() {
        let e = log.iter().find(|e| e["rule"] == *rule).unwrap();
        assert_eq!(e["outcome"], "revoked", "{e}");
        assert!(
            requests.iter().any(|s| s.path.starts_with(path)
                && (s.token.as_deref() == Some(tokens[i].as_str()) || s.body.contains(&tokens[i]))),
            "{rule}: no request to {path}"
        );
    }
    // Hugging Face's API is unauthenticated: the token travels in the body only.
    let hf = requests
        .iter()
        .find(|s| s.path == "/api/credentials/revoke")
        .unwrap();
    assert!(hf.token.is_none());
    let again = run(dir.path(), &emu.overrides(), VERIFY);
    for f in again.json()["findings"].as_array().unwrap() {
        assert_eq!(f["verification"]["status"], "inactive", "{f}");
    }
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    out.assert_no_leak(&refs);
    again.assert_no_leak(&refs);
    let log_text = fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    for t in &tokens {
        assert!(!log_text.contains(t.as_str()), "token in the audit log");
    }
}

#[test]
fn failed_revocations_are_reported_and_exit_3() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let tokens = plant_revocable(&emu, dir.path());
    for t in &tokens {
        emu.fail_revocation(t, 500);
    }
    let mut args = REVOKE.to_vec();
    args.push("--yes");
    let out = run(dir.path(), &emu.overrides(), &args);
    assert_eq!(out.code, 3, "{}", out.stderr);
    for e in audit(dir.path()) {
        assert_eq!(e["outcome"], "failed", "{e}");
        assert!(e["reason"].as_str().unwrap().contains("500"), "{e}");
    }
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    out.assert_no_leak(&refs);
}
