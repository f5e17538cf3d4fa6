//! `scan --org` beyond the repositories: Azure DevOps pipeline variables
//! that are not secret (variable groups, classic build and release
//! definitions), project wikis, service connections by type and scheme;
//! GitHub Actions variables. Against the loopback emulator, with tokens
//! the tests generate.

mod common;
mod org_emulator;

use common::git::Repo;
use common::{patscan, token, Run};
use org_emulator::ci::EmuPipeline;
use org_emulator::{EmuRepo, OrgServer};
use serde_json::Value;

fn credential(seed: u64) -> String {
    let mut rng = patscan::tokengen::TokenRng::new(seed);
    let hex: String = (0..24)
        .map(|_| char::from_digit((rng.next_u64() % 16) as u32, 16).unwrap())
        .collect();
    format!("cred{hex}")
}

fn org_scan(server: &OrgServer, var: &str, cred: &str, spec: &str) -> (Run, Value) {
    let output = patscan()
        .env("PATSCAN_ENDPOINT_OVERRIDES", server.overrides())
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITLAB_TOKEN")
        .env_remove("AZURE_DEVOPS_EXT_PAT")
        .env(var, cred)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["scan", "--org", spec, "--format", "json", "--ungrouped"])
        .output()
        .unwrap();
    let run = Run::from_output(output);
    let json = run.json();
    (run, json)
}

fn finding_of<'a>(json: &'a Value, secret: &str) -> Option<&'a Value> {
    let shown = format!("{}…[{} chars]", &secret[..4], secret.chars().count());
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["secret"].as_str() == Some(shown.as_str()))
}

fn var(name: &str, value: &str, secret: bool) -> (String, String, bool) {
    (name.to_string(), value.to_string(), secret)
}

#[test]
fn azure_devops_plain_variables_wikis_and_service_connections_are_audited() {
    let cred = credential(1);
    let server = OrgServer::start(&cred, 10);
    let in_group = token("azure-devops-pat", 11);
    let in_secret = token("azure-devops-pat", 12);
    let in_build = token("github-classic-pat", 13);
    let in_release = token("npm-token", 14);
    let in_wiki = token("azure-devops-pat", 15);
    let code = Repo::init();
    code.add("README.md", "hello\n");
    code.commit("init");
    server.serve(EmuRepo::new(1, "app"), code.path());
    let wiki = Repo::init();
    wiki.add("Home.md", &format!("Use this PAT: {in_wiki}\n"));
    wiki.commit("page");
    wiki.add("Home.md", "Ask the admins for a PAT.\n");
    wiki.commit("remove the PAT");
    server.serve_wiki("Proj.wiki", wiki.path());
    server.add_pipeline(EmuPipeline {
        id: 4,
        name: "classic-build".into(),
        variables: vec![
            var("GH_TOKEN", &in_build, false),
            var("configuration", "Release", false),
        ],
        ..EmuPipeline::default()
    });
    server.with_ci(|ci| {
        ci.variable_groups.push((
            "deploy-settings".into(),
            vec![
                var("DEPLOY_PAT", &in_group, false),
                var("HIDDEN", &in_secret, true),
            ],
        ));
        ci.releases.push((
            "release-to-prod".into(),
            vec![],
            vec![var("NPM", &in_release, false)],
        ));
        ci.connections.push((
            "github-conn".into(),
            "github".into(),
            "PersonalAccessToken".into(),
        ));
        ci.connections.push((
            "azure-sub".into(),
            "azurerm".into(),
            "ServicePrincipal".into(),
        ));
    });
    let (run, json) = org_scan(
        &server,
        "AZURE_DEVOPS_EXT_PAT",
        &cred,
        "azure-devops:acme/Proj",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);

    let group = finding_of(&json, &in_group).expect("the PAT in the variable group");
    assert_eq!(group["origin"], "pipeline-variable");
    assert_eq!(group["setting"], "variable group");
    assert_eq!(group["owner"], "Proj/deploy-settings");
    assert_eq!(group["variable"], "DEPLOY_PAT");
    assert_eq!(group["severity"], "high");
    assert!(group["exposure"]
        .as_str()
        .unwrap()
        .contains("readable by everyone with view access"));
    assert_eq!(
        group["path"],
        "Proj/_variable-groups/deploy-settings/DEPLOY_PAT"
    );
    assert!(
        finding_of(&json, &in_secret).is_none(),
        "a secret variable's value is never returned"
    );
    let build = finding_of(&json, &in_build).expect("the token in the build definition");
    assert_eq!(build["setting"], "build pipeline");
    let release = finding_of(&json, &in_release).expect("the token in the release stage");
    assert_eq!(release["variable"], "Production/NPM");
    let wiki = finding_of(&json, &in_wiki).expect("the PAT in the wiki's history");
    assert_eq!(wiki["repository"]["name"], "Proj.wiki");
    assert_eq!(wiki["path"], "Home.md");

    let connections = json["summary"]["organisation"]["service_connections"]
        .as_array()
        .unwrap();
    assert_eq!(connections.len(), 2);
    let pat = connections
        .iter()
        .find(|c| c["name"] == "github-conn")
        .unwrap();
    assert_eq!(pat["type"], "github");
    assert_eq!(pat["scheme"], "PersonalAccessToken");
    assert_eq!(pat["pat_based"], true);
    assert!(!run.stdout.contains(&cred) && !run.stderr.contains(&cred));

    // The text report says who can read it and notes the PAT connection.
    let output = patscan()
        .env("PATSCAN_ENDPOINT_OVERRIDES", server.overrides())
        .env("AZURE_DEVOPS_EXT_PAT", &cred)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args([
            "scan",
            "--org",
            "azure-devops:acme/Proj",
            "--color",
            "never",
        ])
        .output()
        .unwrap();
    let human = Run::from_output(output);
    assert!(
        human
            .stdout
            .contains("variable group Proj/deploy-settings, variable DEPLOY_PAT"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("severity high"));

    // So does the HTML audit report, in its own section.
    let output = patscan()
        .env("PATSCAN_ENDPOINT_OVERRIDES", server.overrides())
        .env("AZURE_DEVOPS_EXT_PAT", &cred)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args([
            "scan",
            "--org",
            "azure-devops:acme/Proj",
            "--format",
            "html",
        ])
        .output()
        .unwrap();
    let html = Run::from_output(output).stdout;
    let section = html
        .split("<section id=\"service-connections\">")
        .nth(1)
        .expect("a service connections section");
    assert!(section
        .contains("<td>github-conn</td><td>github</td><td>PersonalAccessToken</td><td>yes</td>"));
    assert!(
        section.contains("<td>azure-sub</td><td>azurerm</td><td>ServicePrincipal</td><td></td>")
    );
    assert!(
        human
            .stdout
            .contains("Proj/github-conn (github, PersonalAccessToken)"),
        "{}",
        human.stdout
    );
}

#[test]
fn a_missing_scope_for_the_settings_is_named_and_the_repositories_are_still_scanned() {
    let cred = credential(2);
    let server = OrgServer::start(&cred, 10);
    let leaked = token("github-classic-pat", 21);
    let code = Repo::init();
    code.add("ci.env", &format!("T={leaked}\n"));
    code.commit("init");
    server.serve(EmuRepo::new(1, "app"), code.path());
    server.forbid("/ado/acme/Proj/_apis/distributedtask/variablegroups");
    server.forbid("/ado/acme/Proj/_apis/wiki/wikis");
    let (run, json) = org_scan(
        &server,
        "AZURE_DEVOPS_EXT_PAT",
        &cred,
        "azure-devops:acme/Proj",
    );
    assert!(finding_of(&json, &leaked).is_some(), "{}", run.stderr);
    let problems: Vec<String> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("variable groups") && p.contains("Variable Groups (Read)")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("Wiki (Read)")),
        "{problems:?}"
    );
}

#[test]
fn github_actions_variables_of_the_organisation_and_its_repositories_are_scanned() {
    let cred = credential(3);
    let server = OrgServer::start(&cred, 10);
    let org_var = token("npm-token", 31);
    let repo_var = token("github-classic-pat", 32);
    let code = Repo::init();
    code.add("README.md", "hello\n");
    code.commit("init");
    server.serve(EmuRepo::new(1, "api"), code.path());
    server.with_ci(|ci| {
        ci.org_variables.push(var("NPM_TOKEN", &org_var, false));
        ci.repo_variables
            .push(("api".into(), vec![var("DEPLOY", &repo_var, false)]));
    });
    let (run, json) = org_scan(&server, "GITHUB_TOKEN", &cred, "github:acme");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let org = finding_of(&json, &org_var).expect("the organisation variable");
    assert_eq!(org["setting"], "organisation Actions variables");
    assert_eq!(org["severity"], "high");
    let repo = finding_of(&json, &repo_var).expect("the repository variable");
    assert_eq!(repo["owner"], "acme/api");
    assert_eq!(repo["repository"]["name"], "acme/api");
    assert!(!run.stdout.contains(&cred) && !run.stderr.contains(&cred));
}
