//! `patscan azure-devops audit` end to end against the loopback emulator's
//! Graph and Token Administration endpoints: paging with continuation
//! tokens, a 429 with `Retry-After`, a credential without the scope, the
//! flags, the match with a scan report, and the credential never shown.

mod common;
mod emulator;

use std::fs;
use std::path::Path;

use common::{patscan, token, Run};
use emulator::{Behaviour, Emulator, AUDIT_PAGE_2};
use serde_json::Value;

/// A PAT-shaped administrator credential (sent with Basic).
const ADMIN: &str = "adminpat0c4f9e2b7a1d";

fn audit(dir: &Path, emu: &Emulator, admin: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = patscan();
    cmd.current_dir(dir)
        .env("PATSCAN_ENDPOINT_OVERRIDES", emu.overrides())
        .env_remove("PATSCAN_AZURE_DEVOPS_ADMIN_TOKEN");
    if let Some(admin) = admin {
        cmd.env("PATSCAN_AZURE_DEVOPS_ADMIN_TOKEN", admin);
    }
    let output = cmd
        .args(["azure-devops", "audit", "--org", "fabrikam"])
        .args(args)
        .args(["--verify-timeout", "5", "--verify-rate", "200"])
        .output()
        .unwrap();
    Run::from_output(output)
}

fn by_name<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["display_name"] == name)
        .unwrap_or_else(|| panic!("no token {name}: {json}"))
}

fn flags(token: &Value) -> Vec<&str> {
    token["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect()
}

#[test]
fn every_pat_of_every_user_is_listed_and_flagged_across_pages() {
    let emu = Emulator::start();
    emu.set_audit_org("fabrikam");
    emu.set_admin(ADMIN);
    emu.rate_limit_audit_once();
    let dir = tempfile::tempdir().unwrap();
    let out = audit(dir.path(), &emu, Some(ADMIN), &["--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    // Four users over three Graph pages, one deleted in Entra ID.
    assert_eq!(json["users"], 4, "{json}");
    assert_eq!(json["users_deleted_in_origin"], 1);
    // Ada's PATs span two Token Administration pages; the revoked one is
    // counted, not listed.
    assert_eq!(json["tokens"].as_array().unwrap().len(), 4, "{json}");
    assert_eq!(json["not_valid"], 1);

    let laptop = by_name(&json, "old laptop");
    assert_eq!(laptop["owner"], "ada@contoso.example");
    assert_eq!(
        flags(laptop),
        ["full-access", "long-lived", "valid-over-a-year", "global"]
    );
    assert_eq!(laptop["reach"], "all-organisations");
    assert_eq!(laptop["scopes"], serde_json::json!(["app_token"]));
    assert_eq!(laptop["lifetime_days"], 430);
    let ci = by_name(&json, "ci pipeline");
    assert!(flags(ci).is_empty(), "{ci}");
    assert_eq!(ci["reach"], "this-organisation");
    assert_eq!(
        ci["scopes"],
        serde_json::json!(["vso.code_write", "vso.build_execute"])
    );
    assert_eq!(flags(by_name(&json, "deploy")), ["owner-deleted"]);
    // 110 days over the default --max-days 90.
    assert_eq!(flags(by_name(&json, "reports")), ["long-lived"]);
    // The most flagged first.
    assert_eq!(json["tokens"][0]["display_name"], "old laptop");

    // Paging: the continuation header was sent back escaped, the body's
    // continuation token too; the throttled first page was retried.
    let seen = emu.seen();
    let graph: Vec<&str> = seen
        .iter()
        .filter(|s| s.path.starts_with("/fabrikam/_apis/graph/users"))
        .map(|s| s.path.as_str())
        .collect();
    assert_eq!(graph.len(), 4, "{graph:?}");
    assert_eq!(graph[0], graph[1], "the 429 was not retried");
    let escaped: String = url_encode(AUDIT_PAGE_2);
    assert!(
        graph[2].contains(&format!("continuationToken={escaped}")),
        "{graph:?}"
    );
    assert!(graph[3].contains("continuationToken=p3"));
    assert!(seen
        .iter()
        .any(|s| s.path.contains("continuationToken=ada+page+2")));
    assert!(seen.iter().all(|s| s.method == "GET"), "only reads");
    // A PAT-shaped credential goes as Basic, never in a URL.
    assert!(seen.iter().all(|s| !s.path.contains(ADMIN)));
    let auth = seen[0]
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap();
    assert!(auth.1.starts_with("Basic "));
    out.assert_no_leak(&[ADMIN]);

    // The human and HTML outputs list the same tokens.
    let human = audit(dir.path(), &emu, Some(ADMIN), &[]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(human.stdout.contains(
        "ada@contoso.example \"old laptop\" [full-access, long-lived, valid-over-a-year, global]"
    ));
    assert!(human.stdout.contains("reach: all accessible organisations"));
    assert!(human
        .stdout
        .contains("4 valid PAT(s) of 4 user(s) in fabrikam"));
    human.assert_no_leak(&[ADMIN]);
    let report = dir.path().join("audit.html");
    let html = audit(
        dir.path(),
        &emu,
        Some(ADMIN),
        &["--format", "html", "-o", report.to_str().unwrap()],
    );
    assert_eq!(html.code, 0, "{}", html.stderr);
    let page = fs::read_to_string(&report).unwrap();
    assert!(page.contains("Content-Security-Policy"));
    assert!(page.contains("<span class=\"badge high\">owner-deleted</span>"));
    assert!(page.contains("data-authorization=\"4f1c2d3e-aaaa-bbbb-cccc-0000000000a2\""));
    assert!(!page.contains(ADMIN));
}

/// What `url::form_urlencoded` makes of a query value.
fn url_encode(text: &str) -> String {
    let mut url = reqwest::Url::parse("http://x/").unwrap();
    url.query_pairs_mut().append_pair("v", text);
    url.query().unwrap().trim_start_matches("v=").to_string()
}

#[test]
fn an_entra_token_is_sent_as_bearer() {
    let emu = Emulator::start();
    emu.set_audit_org("fabrikam");
    let jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl";
    emu.set_admin(jwt);
    let dir = tempfile::tempdir().unwrap();
    let out = audit(dir.path(), &emu, Some(jwt), &["--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let seen = emu.seen();
    assert!(!seen.is_empty());
    for s in &seen {
        let auth = s
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .unwrap();
        assert_eq!(auth.1, format!("Bearer {jwt}"));
    }
    out.assert_no_leak(&[jwt]);
}

#[test]
fn a_credential_without_the_scope_gets_a_message_naming_it() {
    let emu = Emulator::start();
    emu.set_audit_org("fabrikam");
    let weak = "graphonlypat5b7e";
    emu.set_unscoped_admin(weak);
    let dir = tempfile::tempdir().unwrap();
    let out = audit(dir.path(), &emu, Some(weak), &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("it needs Token Administration (vso.tokenadministration)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("HTTP 403"));
    out.assert_no_leak(&[weak]);
    // A credential the organisation does not know at all: 401, Graph.
    let out = audit(dir.path(), &emu, Some("strangerpat"), &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("Graph read (vso.graph)"),
        "{}",
        out.stderr
    );
    out.assert_no_leak(&["strangerpat"]);
    // No credential: nothing is sent, and the variable is named.
    let before = emu.seen().len();
    let out = audit(dir.path(), &emu, None, &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("PATSCAN_AZURE_DEVOPS_ADMIN_TOKEN"));
    assert_eq!(emu.seen().len(), before);
}

#[test]
fn a_scan_report_names_the_candidate_authorisations() {
    let emu = Emulator::start();
    emu.set_audit_org("fabrikam");
    emu.set_admin(ADMIN);
    let dir = tempfile::tempdir().unwrap();
    // A leaked PAT of Ada's, live in fabrikam (connectionData names her).
    let pat = token("azure-devops-pat", 7101);
    emu.set(&pat, Behaviour::OrgScoped("fabrikam"));
    fs::write(
        dir.path().join("deploy.sh"),
        format!("git clone https://dev.azure.com/fabrikam/web/_git/web\nexport AZDO={pat}\n"),
    )
    .unwrap();
    let report = dir.path().join("scan.json");
    let scan = patscan()
        .current_dir(dir.path())
        .env("PATSCAN_ENDPOINT_OVERRIDES", emu.overrides())
        .args(["scan", "--verify", "--format", "json", "-o"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(scan.status.code(), Some(1));
    let out = audit(
        dir.path(),
        &emu,
        Some(ADMIN),
        &[
            "--format",
            "json",
            "--scan-report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    let leaks = json["leaks"].as_array().unwrap();
    assert_eq!(leaks.len(), 1, "{json}");
    assert_eq!(leaks[0]["owner"], "ada@contoso.example");
    assert_eq!(
        leaks[0]["candidates"],
        serde_json::json!([
            "4f1c2d3e-aaaa-bbbb-cccc-0000000000a2",
            "4f1c2d3e-aaaa-bbbb-cccc-0000000000a1"
        ])
    );
    assert!(leaks[0]["note"]
        .as_str()
        .unwrap()
        .contains("owner and organisation"));
    let fingerprint = leaks[0]["fingerprint"].as_str().unwrap();
    assert_eq!(
        by_name(&json, "ci pipeline")["leak_candidate_for"],
        serde_json::json!([fingerprint])
    );
    assert!(by_name(&json, "deploy").get("leak_candidate_for").is_none());
    let human = audit(
        dir.path(),
        &emu,
        Some(ADMIN),
        &["--scan-report", report.to_str().unwrap()],
    );
    assert!(human
        .stdout
        .contains(&format!("LEAK CANDIDATE for {fingerprint}")));
    human.assert_no_leak(&[ADMIN, &pat]);
    out.assert_no_leak(&[ADMIN, &pat]);
}
