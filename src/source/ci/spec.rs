//! `--ci-logs PLATFORM:NAME[/…]`: whose pipelines to read, parsed once.

use std::fmt;

use super::CiError;
use crate::source::org::{OrgSpec, Platform};

/// A parsed `--ci-logs` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiSpec {
    /// The organisation (Azure DevOps organisation and project, GitHub
    /// organisation, GitLab group or project path), checked as `--org`
    /// checks it.
    pub org: OrgSpec,
    /// `github:ORG/REPO`: one repository only.
    pub repo: Option<String>,
}

impl CiSpec {
    pub fn parse(value: &str) -> Result<CiSpec, CiError> {
        let bad = |message: &str| CiError::Spec {
            value: value.to_string(),
            message: message.to_string(),
        };
        let (kind, rest) = value.split_once(':').ok_or_else(|| {
            bad("expected azure-devops:ORG[/PROJECT], github:ORG[/REPO] or gitlab:GROUP[/PROJECT]")
        })?;
        let spec_error = |e: crate::source::org::OrgError| match e {
            crate::source::org::OrgError::Spec { message, .. } => bad(&message),
            other => bad(&other.to_string()),
        };
        match kind {
            "github" => {
                let rest = rest.trim_matches('/');
                let (org, repo) = match rest.split_once('/') {
                    Some((org, repo)) => (org, Some(repo)),
                    None => (rest, None),
                };
                let org = OrgSpec::parse(&format!("github:{org}")).map_err(spec_error)?;
                if let Some(repo) = repo {
                    // The repository name is checked as an organisation's is.
                    OrgSpec::parse(&format!("github:{repo}")).map_err(spec_error)?;
                }
                Ok(CiSpec {
                    org,
                    repo: repo.map(str::to_string),
                })
            }
            "azure-devops" | "gitlab" => Ok(CiSpec {
                org: OrgSpec::parse(value).map_err(spec_error)?,
                repo: None,
            }),
            other => Err(bad(&format!(
                "unknown platform {other:?} (expected azure-devops, github or gitlab)"
            ))),
        }
    }

    pub fn platform(&self) -> Platform {
        self.org.platform
    }
}

impl fmt::Display for CiSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repo {
            Some(repo) => write!(f, "{}/{repo}", self.org),
            None => write!(f, "{}", self.org),
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
            "github:acme/api",
            "gitlab:group/sub/project",
        ] {
            assert_eq!(CiSpec::parse(text).unwrap().to_string(), text);
        }
        let spec = CiSpec::parse("github:acme/api").unwrap();
        assert_eq!(
            (spec.org.name.as_str(), spec.repo.as_deref()),
            ("acme", Some("api"))
        );
    }

    #[test]
    fn malformed_specs_are_refused() {
        for bad in [
            "acme",
            "github:",
            "github:a/b/c",
            "github-user:ada",
            "bitbucket:acme",
            "azure-devops:a/b/c",
            "gitlab:a/../b",
            "github:a?x=1",
        ] {
            assert!(CiSpec::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
