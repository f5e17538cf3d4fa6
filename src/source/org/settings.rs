//! The other places a PAT is pasted in an organisation, besides its
//! repositories: pipeline variables that are not marked secret (Azure
//! DevOps variable groups and classic build and release definitions'
//! variables; GitHub Actions variables, plain text by design), and, for
//! the audit, Azure DevOps service connections by type and scheme (never
//! their secrets). A variable's value is scanned like any input; a token
//! there is readable by everyone who may view the pipeline, which the
//! finding says, with a high severity. Each listing that is refused is a
//! problem naming the scope it needs; the rest goes on.

use std::sync::Arc;

use serde_json::Value;

use super::listing::{encode, link_next, text, Listed, Site};
use super::spec::{OrgSpec, Platform};
use crate::model::{Finding, Origin, Repository, ServiceConnection, VariablePlace};
use crate::rules::RuleSet;
use crate::scan::intake::{Intake, Worker};
use crate::scan::sink::{Input, Key, Sink};
use crate::scan::{Problem, ScanOptions, Tally};
use crate::source::ci::api::{Api, CallError};

const API_VERSION: &str = "7.1";

const EXPOSURE: &str = "not marked secret: readable by everyone with view access to the pipeline";
const GITHUB_EXPOSURE: &str =
    "an Actions variable (plain text by design): readable by everyone with access to the repository";

/// What the settings held.
#[derive(Default)]
pub struct Settings {
    pub findings: Vec<Finding>,
    pub connections: Vec<ServiceConnection>,
}

/// Reads and scans the organisation's settings.
pub fn scan(
    rules: &RuleSet,
    options: &ScanOptions,
    api: &Api<'_>,
    spec: &OrgSpec,
    repos: &[Listed],
    tally: &Tally,
) -> Settings {
    let site = api.site;
    let options = ScanOptions {
        archives: None,
        ..options.clone()
    };
    let intake = Intake::new(rules, &options, tally);
    let mut settings = Settings::default();
    let repositories = {
        let mut reader = Reader {
            api,
            worker: intake.sink(),
            tally,
            spec,
            repositories: Vec::new(),
        };
        match spec.platform {
            Platform::AzureDevops => {
                settings.connections = reader.azure_devops(site, repos);
            }
            Platform::Github => reader.github(repos),
            Platform::Gitlab => {}
        }
        reader.repositories
    };
    settings.findings = intake.take_findings();
    for finding in &mut settings.findings {
        if let Some((_, repository)) = repositories.iter().find(|(p, _)| *p == finding.path) {
            finding.repository = Some(Arc::clone(repository));
        }
    }
    let _ = intake.finish();
    settings.connections.sort();
    settings
}

/// A definition's name, web page and plain variables.
type Definition = (String, Option<String>, Vec<(String, String)>);

struct Reader<'a, 'w> {
    api: &'a Api<'a>,
    worker: Worker<'w, 'a>,
    tally: &'a Tally,
    spec: &'a OrgSpec,
    /// The repository of each input with findings that has one.
    repositories: Vec<(String, Arc<Repository>)>,
}

impl Reader<'_, '_> {
    fn problem(&self, what: &str, error: &CallError) {
        self.tally.problem(Problem::new(
            &format!("{}:{}", self.spec.platform.key(), self.spec.name),
            &format!("{what} not read: {}", error.message()),
        ));
    }

    /// Scans one variable's value.
    fn variable(
        &mut self,
        path: String,
        place: VariablePlace,
        repository: Option<&Arc<Repository>>,
        value: &str,
    ) {
        let input = Input {
            name: &path,
            key: Key::None,
        };
        let Some(ticket) = self.worker.wants(&input) else {
            return;
        };
        let text = format!("{}={value}\n", place.variable);
        let origin = Origin::Variable(Box::new(place));
        let locate = || (path.clone(), origin.clone());
        let found = self.worker.bytes(ticket, &input, text.as_bytes(), &locate);
        if let (true, Some(repository)) = (found > 0, repository) {
            self.repositories.push((path, Arc::clone(repository)));
        }
    }

    /// `{"NAME": {"value": …, "isSecret": …}}`: the plain ones.
    fn plain_variables(variables: &Value) -> Vec<(String, String)> {
        let Some(map) = variables.as_object() else {
            return Vec::new();
        };
        map.iter()
            .filter(|(_, v)| !v["isSecret"].as_bool().unwrap_or(false))
            .filter_map(|(name, v)| Some((name.clone(), v["value"].as_str()?.to_string())))
            .filter(|(_, value)| !value.is_empty())
            .collect()
    }

    fn azure_devops(&mut self, site: &Site, repos: &[Listed]) -> Vec<ServiceConnection> {
        let org = self.spec.name.clone();
        let projects: Vec<String> = match &self.spec.project {
            Some(project) => vec![project.clone()],
            None => {
                let mut names: Vec<String> =
                    repos.iter().filter_map(|r| r.project.clone()).collect();
                let url = format!(
                    "{}/{}/_apis/projects?api-version={API_VERSION}&$top=500",
                    self.api.base(),
                    encode(&org)
                );
                match self.api.json(&url, "the Project and Team (Read) scope") {
                    Ok((_, json)) => names.extend(
                        json["value"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|p| text(p, "name")),
                    ),
                    Err(e) => self.problem("the projects", &e),
                }
                names.sort();
                names.dedup();
                names
            }
        };
        // The release API's host: its own on Azure DevOps Services, the
        // server itself on Azure DevOps Server (and the test emulator).
        let releases = crate::source::ci::azure_devops::releases_base(&site.api).to_string();
        let mut connections = Vec::new();
        for project in &projects {
            let base = format!("{}/{}/{}", self.api.base(), encode(&org), encode(project));
            self.variable_groups(&base, project);
            self.build_definitions(&base, project);
            let release_base = format!("{releases}/{}/{}", encode(&org), encode(project));
            self.release_definitions(&release_base, project);
            connections.extend(self.service_connections(&base, project));
        }
        connections
    }

    fn variable_groups(&mut self, base: &str, project: &str) {
        let url = format!("{base}/_apis/distributedtask/variablegroups?api-version={API_VERSION}");
        let json = match self.api.json(&url, "the Variable Groups (Read) scope") {
            Ok((_, json)) => json,
            Err(e) => return self.problem(&format!("{project}'s variable groups"), &e),
        };
        for group in json["value"].as_array().into_iter().flatten() {
            let name = text(group, "name").unwrap_or_default();
            for (variable, value) in Self::plain_variables(&group["variables"]) {
                let place = VariablePlace {
                    setting: "variable group".into(),
                    owner: format!("{project}/{name}"),
                    variable: variable.clone(),
                    exposure: EXPOSURE.into(),
                    severity: "high",
                    url: None,
                };
                let path = format!("{project}/_variable-groups/{name}/{variable}");
                self.variable(path, place, None, &value);
            }
        }
    }

    fn build_definitions(&mut self, base: &str, project: &str) {
        let first = format!(
            "{base}/_apis/build/definitions?api-version={API_VERSION}&includeAllProperties=true&$top=1000"
        );
        let mut found: Vec<Definition> = Vec::new();
        let listed = self.api.pages(
            first.clone(),
            "the Build (Read) scope",
            |answer, _| {
                let token = answer.header("x-ms-continuationtoken")?.trim();
                (!token.is_empty()).then(|| format!("{first}&continuationToken={}", encode(token)))
            },
            |page| {
                for definition in page["value"].as_array().into_iter().flatten() {
                    let name = text(definition, "name").unwrap_or_default();
                    let url = definition["_links"]["web"]["href"]
                        .as_str()
                        .map(str::to_string);
                    found.push((name, url, Self::plain_variables(&definition["variables"])));
                }
                Ok(true)
            },
        );
        if let Err(e) = listed {
            return self.problem(&format!("{project}'s build definitions"), &e);
        }
        for (name, url, variables) in found {
            for (variable, value) in variables {
                let place = VariablePlace {
                    setting: "build pipeline".into(),
                    owner: format!("{project}/{name}"),
                    variable: variable.clone(),
                    exposure: EXPOSURE.into(),
                    severity: "high",
                    url: url.clone(),
                };
                let path = format!("{project}/_build-variables/{name}/{variable}");
                self.variable(path, place, None, &value);
            }
        }
    }

    fn release_definitions(&mut self, base: &str, project: &str) {
        let url = format!(
            "{base}/_apis/release/definitions?api-version={API_VERSION}&$expand=variables,environments"
        );
        let json = match self.api.json(&url, "the Release (Read) scope") {
            Ok((_, json)) => json,
            Err(e) => return self.problem(&format!("{project}'s release definitions"), &e),
        };
        for definition in json["value"].as_array().into_iter().flatten() {
            let name = text(definition, "name").unwrap_or_default();
            let mut variables = Self::plain_variables(&definition["variables"]);
            for environment in definition["environments"].as_array().into_iter().flatten() {
                let stage = text(environment, "name").unwrap_or_default();
                variables.extend(
                    Self::plain_variables(&environment["variables"])
                        .into_iter()
                        .map(|(n, v)| (format!("{stage}/{n}"), v)),
                );
            }
            for (variable, value) in variables {
                let place = VariablePlace {
                    setting: "release pipeline".into(),
                    owner: format!("{project}/{name}"),
                    variable: variable.clone(),
                    exposure: EXPOSURE.into(),
                    severity: "high",
                    url: None,
                };
                let path = format!("{project}/_release-variables/{name}/{variable}");
                self.variable(path, place, None, &value);
            }
        }
    }

    fn service_connections(&mut self, base: &str, project: &str) -> Vec<ServiceConnection> {
        let url = format!("{base}/_apis/serviceendpoint/endpoints?api-version={API_VERSION}");
        let json = match self.api.json(&url, "the Service Connections (Read) scope") {
            Ok((_, json)) => json,
            Err(e) => {
                self.problem(&format!("{project}'s service connections"), &e);
                return Vec::new();
            }
        };
        json["value"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|endpoint| {
                let scheme = text(&endpoint["authorization"], "scheme").unwrap_or_default();
                ServiceConnection {
                    project: project.to_string(),
                    name: text(endpoint, "name").unwrap_or_default(),
                    kind: text(endpoint, "type").unwrap_or_default(),
                    pat_based: matches!(
                        scheme.to_ascii_lowercase().as_str(),
                        "personalaccesstoken" | "token"
                    ),
                    scheme,
                }
            })
            .collect()
    }

    fn github(&mut self, repos: &[Listed]) {
        let org = self.spec.name.clone();
        if self.spec.owner == super::spec::Owner::Organisation {
            let first = format!(
                "{}/orgs/{}/actions/variables?per_page=30",
                self.api.base(),
                encode(&org)
            );
            let scope = "the Variables (read) permission (a classic token: admin:org)";
            match self.github_variables(first, scope) {
                Ok(variables) => {
                    for (variable, value) in variables {
                        let place = VariablePlace {
                            setting: "organisation Actions variables".into(),
                            owner: org.clone(),
                            variable: variable.clone(),
                            exposure: GITHUB_EXPOSURE.into(),
                            severity: "high",
                            url: None,
                        };
                        self.variable(
                            format!("{org}/_actions-variables/{variable}"),
                            place,
                            None,
                            &value,
                        );
                    }
                }
                Err(e) => self.problem("the organisation's Actions variables", &e),
            }
        }
        for repo in repos {
            let first = format!(
                "{}/repos/{}/actions/variables?per_page=30",
                self.api.base(),
                repo.name
                    .split('/')
                    .map(encode)
                    .collect::<Vec<_>>()
                    .join("/")
            );
            let scope = "the Variables (read) permission (a classic token: repo)";
            let variables = match self.github_variables(first, scope) {
                Ok(variables) => variables,
                // No Actions there: nothing to read.
                Err(CallError::Gone(_)) => continue,
                Err(e) => {
                    self.problem(&format!("{}'s Actions variables", repo.name), &e);
                    continue;
                }
            };
            let repository = Arc::new(Repository {
                platform: "github",
                organisation: org.clone(),
                project: None,
                name: repo.name.clone(),
                url: repo.web_url.clone(),
                id: repo.id.clone(),
            });
            for (variable, value) in variables {
                let place = VariablePlace {
                    setting: "repository Actions variables".into(),
                    owner: repo.name.clone(),
                    variable: variable.clone(),
                    exposure: GITHUB_EXPOSURE.into(),
                    severity: "high",
                    url: Some(format!("{}/settings/variables/actions", repo.web_url)),
                };
                let path = format!("{}/_actions-variables/{variable}", repo.name);
                self.variable(path, place, Some(&repository), &value);
            }
        }
    }

    fn github_variables(
        &self,
        first: String,
        scope: &str,
    ) -> Result<Vec<(String, String)>, CallError> {
        let mut variables = Vec::new();
        self.api.pages(
            first,
            scope,
            |answer, _| link_next(answer),
            |page| {
                for variable in page["variables"].as_array().into_iter().flatten() {
                    if let (Some(name), Some(value)) =
                        (text(variable, "name"), text(variable, "value"))
                    {
                        variables.push((name, value));
                    }
                }
                Ok(true)
            },
        )?;
        Ok(variables)
    }
}
