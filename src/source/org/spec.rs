//! `--org PLATFORM:NAME`: which organisation to audit, parsed once so every
//! later stage works with a checked value.

use std::fmt;

use super::OrgError;

/// The hosting platform of an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Platform {
    AzureDevops,
    Github,
    Gitlab,
}

impl Platform {
    /// The name reports and `--org` use.
    pub fn key(self) -> &'static str {
        match self {
            Platform::AzureDevops => "azure-devops",
            Platform::Github => "github",
            Platform::Gitlab => "gitlab",
        }
    }

    /// The environment variable the credential is read from (never an
    /// argument: the process list is public).
    pub fn credential_var(self) -> &'static str {
        match self {
            Platform::AzureDevops => "AZURE_DEVOPS_EXT_PAT",
            Platform::Github => "GITHUB_TOKEN",
            Platform::Gitlab => "GITLAB_TOKEN",
        }
    }
}

/// Whose repositories a GitHub listing asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// An organisation (`github:ORG`), a group, an Azure DevOps organisation.
    Organisation,
    /// A personal account (`github-user:USER`).
    User,
}

/// A parsed `--org` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSpec {
    pub platform: Platform,
    pub owner: Owner,
    /// The organisation, user, group path (`group/subgroup`) or Azure
    /// DevOps organisation (a collection on Azure DevOps Server).
    pub name: String,
    /// `azure-devops:ORG/PROJECT`: one project only.
    pub project: Option<String>,
}

impl OrgSpec {
    pub fn parse(value: &str) -> Result<OrgSpec, OrgError> {
        let bad = |why: &str| OrgError::Spec {
            value: value.to_string(),
            message: why.to_string(),
        };
        let (kind, rest) = value.split_once(':').ok_or_else(|| {
            bad("expected azure-devops:ORG[/PROJECT], github:ORG, github-user:USER or gitlab:GROUP")
        })?;
        let rest = rest.trim_matches('/');
        if rest.is_empty() {
            return Err(bad("the name after the colon is empty"));
        }
        if rest
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '%' | '\\'))
        {
            return Err(bad("names have no spaces, `?`, `#`, `%` or `\\`"));
        }
        let segments: Vec<&str> = rest.split('/').collect();
        if segments
            .iter()
            .any(|s| s.is_empty() || *s == "." || *s == "..")
        {
            return Err(bad("a path segment is empty, `.` or `..`"));
        }
        let one = |platform, owner| -> Result<OrgSpec, OrgError> {
            if segments.len() != 1 {
                return Err(bad("expected one name, without `/`"));
            }
            Ok(OrgSpec {
                platform,
                owner,
                name: rest.to_string(),
                project: None,
            })
        };
        match kind {
            "github" => one(Platform::Github, Owner::Organisation),
            "github-user" => one(Platform::Github, Owner::User),
            "gitlab" => Ok(OrgSpec {
                platform: Platform::Gitlab,
                owner: Owner::Organisation,
                name: rest.to_string(),
                project: None,
            }),
            "azure-devops" => match segments.as_slice() {
                [org] => Ok(OrgSpec {
                    platform: Platform::AzureDevops,
                    owner: Owner::Organisation,
                    name: org.to_string(),
                    project: None,
                }),
                [org, project] => Ok(OrgSpec {
                    platform: Platform::AzureDevops,
                    owner: Owner::Organisation,
                    name: org.to_string(),
                    project: Some(project.to_string()),
                }),
                _ => Err(bad("expected azure-devops:ORG or azure-devops:ORG/PROJECT")),
            },
            other => Err(bad(&format!(
                "unknown platform {other:?} (expected azure-devops, github, github-user or gitlab)"
            ))),
        }
    }
}

impl fmt::Display for OrgSpec {
    /// The canonical form, as given to `--org`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match (self.platform, self.owner) {
            (Platform::Github, Owner::User) => "github-user",
            (platform, _) => platform.key(),
        };
        match &self.project {
            Some(project) => write!(f, "{kind}:{}/{project}", self.name),
            None => write!(f, "{kind}:{}", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_form_parses_and_prints_back() {
        for text in [
            "azure-devops:contoso",
            "azure-devops:contoso/Fabrikam",
            "github:acme",
            "github-user:ada",
            "gitlab:group/sub/team",
        ] {
            let spec = OrgSpec::parse(text).unwrap();
            assert_eq!(spec.to_string(), text);
        }
        let spec = OrgSpec::parse("azure-devops:contoso/Fabrikam").unwrap();
        assert_eq!(spec.project.as_deref(), Some("Fabrikam"));
        assert_eq!(
            OrgSpec::parse("github-user:ada").unwrap().owner,
            Owner::User
        );
    }

    #[test]
    fn malformed_specs_are_refused() {
        for bad in [
            "acme",
            "github:",
            "github:a/b",
            "bitbucket:acme",
            "azure-devops:a/b/c",
            "gitlab:a//b",
            "gitlab:a/../b",
            "github:a b",
            "github:a?x=1",
        ] {
            assert!(OrgSpec::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
