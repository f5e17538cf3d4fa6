//! How bad a live token is: a severity from what the issuer's answer says
//! the token may do, and how long it keeps working.
//!
//! A live check learns different things per issuer: GitHub classic tokens
//! and Slack tokens name their scopes in a response header, GitLab's
//! `personal_access_tokens/self` lists them, Hugging Face names the token's
//! role, Buildkite and Shopify list their scopes, Vault its policies. Others
//! say only whose token it is. The mapping is fixed here, per issuer, and
//! documented in the README ("Severity"), so a report reader can tell a
//! severity the issuer's answer supports from a stated default:
//!
//! - `critical`: full or administrative access (a GitHub `repo`, `admin:*`
//!   or `delete_repo` scope, GitLab `api` or `sudo`, Slack `admin*`, an
//!   unrestricted Stripe secret key, a Vault `root` token, an Azure DevOps
//!   token that reaches agent pools, service connections or PAT
//!   administration);
//! - `high`: write access, and the default when the check cannot see what
//!   the token may do (patscan never guesses a leak down);
//! - `medium`: read access only;
//! - `low`: nothing beyond the owner's identity or public data.
//!
//! Only active tokens get a severity: a revoked token can do nothing.

use crate::model::{Provider, Severity, Status, Verification};

/// A severity and the words that justify it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub severity: Severity,
    pub basis: String,
}

impl Assessment {
    fn new(severity: Severity, basis: impl Into<String>) -> Assessment {
        Assessment {
            severity,
            basis: basis.into(),
        }
    }

    /// The stated default when the check does not learn the permissions.
    fn unseen(what: &str) -> Assessment {
        Assessment::new(
            Severity::High,
            format!(
                "{what}; assumed able to write (patscan's default when permissions are unseen)"
            ),
        )
    }
}

/// Fills `severity`, `severity_basis`, `no_expiry` and `expires_in_days`
/// of an active verification; leaves any other one untouched. `token` is
/// only looked at for its prefix (the token type); `today` is days since
/// 1970-01-01 (UTC).
pub fn apply(provider: Provider, token: &str, v: &mut Verification, today: i64) {
    if v.status != Status::Active {
        return;
    }
    let assessment = assess(provider, token, v);
    v.severity = Some(assessment.severity);
    v.severity_basis = Some(assessment.basis);
    v.expires_in_days = v
        .expires_at
        .as_deref()
        .and_then(crate::civil_time::epoch_day)
        .map(|day| day - today);
    v.no_expiry = v.expires_at.is_none() && states_missing_expiry(provider, token);
}

/// Today as days since 1970-01-01 (UTC).
pub fn today() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| (d.as_secs() / 86_400) as i64)
        .unwrap_or(0)
}

/// Issuers whose answer always carries the expiry when there is one, so
/// its absence means the token never expires: GitHub sends
/// `github-authentication-token-expiration` for every PAT that expires,
/// GitLab's `expires_at` is `null` for a token without one.
fn states_missing_expiry(provider: Provider, token: &str) -> bool {
    match provider {
        Provider::Github => token.starts_with("ghp_") || token.starts_with("github_pat_"),
        Provider::Gitlab => true,
        _ => false,
    }
}

/// The per-issuer mapping (see the module documentation and the README).
pub fn assess(provider: Provider, token: &str, v: &Verification) -> Assessment {
    let scopes: Vec<&str> = v.scopes.iter().map(String::as_str).collect();
    match provider {
        Provider::Github => github(token, &scopes),
        Provider::Gitlab => gitlab(&scopes),
        Provider::Slack => slack(&scopes),
        Provider::Npm => Assessment::new(
            Severity::Critical,
            "npm's whoami does not tell read-only from publish tokens; assumed able to \
             publish packages (the default token type)",
        ),
        Provider::Huggingface => match scopes.first().copied() {
            Some("write") => Assessment::new(Severity::High, "role write"),
            Some("read") => Assessment::new(Severity::Medium, "role read"),
            Some(role) => Assessment::unseen(&format!("role {role}: permissions not listed")),
            None => Assessment::unseen("role not stated"),
        },
        Provider::Buildkite | Provider::Shopify => read_write_scopes(&scopes),
        Provider::Vault => {
            if scopes.contains(&"root") {
                Assessment::new(Severity::Critical, "policy root")
            } else {
                Assessment::unseen("Vault policies do not say what they allow")
            }
        }
        Provider::Stripe if token.starts_with("sk_live_") => Assessment::new(
            Severity::Critical,
            "an unrestricted live secret key: full access to the Stripe account",
        ),
        Provider::Heroku => Assessment::new(
            Severity::Critical,
            "a Heroku API key acts as its account, with every permission the account has",
        ),
        Provider::AzureDevops => match &v.access {
            Some(access) => super::blast_radius::assessment(access),
            None => Assessment::unseen(
                "an Azure DevOps PAT cannot read its own scopes (add --blast-radius to probe \
                 what it reaches)",
            ),
        },
        _ => Assessment::unseen("the check does not learn the token's permissions"),
    }
}

/// GitHub: classic PATs and OAuth tokens list their scopes in
/// `X-OAuth-Scopes`; fine-grained PATs and GitHub App tokens send none,
/// their permissions are invisible to `GET /user`.
fn github(token: &str, scopes: &[&str]) -> Assessment {
    let classic = token.starts_with("ghp_") || token.starts_with("gho_");
    if !classic {
        return Assessment::unseen(
            "fine-grained and GitHub App tokens do not show their permissions to GET /user",
        );
    }
    if scopes.is_empty() {
        return Assessment::new(Severity::Low, "no scopes: public data only");
    }
    let critical =
        |s: &&&str| matches!(**s, "repo" | "delete_repo" | "site_admin") || s.starts_with("admin:");
    if let Some(s) = scopes.iter().find(critical) {
        return Assessment::new(Severity::Critical, format!("scope {s}"));
    }
    let high = |s: &&&str| {
        s.starts_with("write:")
            || s.starts_with("delete:")
            || matches!(
                **s,
                "public_repo" | "workflow" | "gist" | "user" | "codespace" | "project"
            )
    };
    if let Some(s) = scopes.iter().find(high) {
        return Assessment::new(Severity::High, format!("scope {s}"));
    }
    let low = |s: &&str| matches!(*s, "read:user" | "user:email");
    if scopes.iter().all(low) {
        return Assessment::new(Severity::Low, "identity scopes only");
    }
    Assessment::new(Severity::Medium, "read scopes only")
}

/// GitLab scopes, as `personal_access_tokens/self` lists them.
fn gitlab(scopes: &[&str]) -> Assessment {
    if scopes.is_empty() {
        return Assessment::unseen("the token's scopes were not listed");
    }
    if let Some(s) = scopes
        .iter()
        .find(|s| matches!(**s, "api" | "sudo" | "admin_mode"))
    {
        return Assessment::new(Severity::Critical, format!("scope {s}"));
    }
    let read = |s: &&str| s.starts_with("read_");
    let identity = |s: &&str| matches!(*s, "read_user" | "openid" | "profile" | "email");
    if let Some(s) = scopes.iter().find(|s| !read(s) && !identity(s)) {
        return Assessment::new(Severity::High, format!("scope {s}"));
    }
    if scopes.iter().all(identity) {
        return Assessment::new(Severity::Low, "identity scopes only");
    }
    Assessment::new(Severity::Medium, "read scopes only")
}

/// Slack scopes from `x-oauth-scopes`.
fn slack(scopes: &[&str]) -> Assessment {
    if scopes.is_empty() {
        return Assessment::unseen("Slack did not list the token's scopes");
    }
    if let Some(s) = scopes.iter().find(|s| s.starts_with("admin")) {
        return Assessment::new(Severity::Critical, format!("scope {s}"));
    }
    let write = |s: &&&str| {
        s.ends_with(":write") || s.contains(":write.") || matches!(**s, "client" | "post")
    };
    if let Some(s) = scopes.iter().find(write) {
        return Assessment::new(Severity::High, format!("scope {s}"));
    }
    let identity = |s: &&str| {
        matches!(*s, "identify" | "openid" | "profile" | "email") || s.starts_with("identity.")
    };
    if scopes.iter().all(identity) {
        return Assessment::new(Severity::Low, "identity scopes only");
    }
    Assessment::new(Severity::Medium, "read scopes only")
}

/// Buildkite (`read_builds`, `write_builds`, `graphql`) and Shopify
/// (`read_products`, `write_orders`) scopes.
fn read_write_scopes(scopes: &[&str]) -> Assessment {
    if scopes.is_empty() {
        return Assessment::unseen("no scopes were listed");
    }
    if let Some(s) = scopes.iter().find(|s| !s.starts_with("read_")) {
        return Assessment::new(Severity::High, format!("scope {s}"));
    }
    Assessment::new(Severity::Medium, "read scopes only")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(provider: Provider, scopes: &[&str]) -> Verification {
        let mut v = Verification::new(Status::Active, provider);
        v.scopes = scopes.iter().map(|s| s.to_string()).collect();
        v
    }

    fn severity(provider: Provider, token: &str, scopes: &[&str]) -> Severity {
        assess(provider, token, &active(provider, scopes)).severity
    }

    #[test]
    fn github_classic_scopes() {
        use Severity::*;
        let g = Provider::Github;
        assert_eq!(severity(g, "ghp_x", &["repo", "read:org"]), Critical);
        assert_eq!(severity(g, "ghp_x", &["admin:org"]), Critical);
        assert_eq!(severity(g, "gho_x", &["delete_repo"]), Critical);
        assert_eq!(severity(g, "ghp_x", &["write:packages"]), High);
        assert_eq!(severity(g, "ghp_x", &["public_repo"]), High);
        assert_eq!(severity(g, "ghp_x", &["read:org", "read:packages"]), Medium);
        assert_eq!(severity(g, "ghp_x", &["read:user", "user:email"]), Low);
        assert_eq!(severity(g, "ghp_x", &[]), Low);
        // Tokens whose permissions GET /user does not show: the default.
        assert_eq!(severity(g, "github_pat_x", &[]), High);
        assert_eq!(severity(g, "ghs_x", &[]), High);
    }

    #[test]
    fn gitlab_scopes() {
        use Severity::*;
        let g = Provider::Gitlab;
        assert_eq!(severity(g, "", &["api", "read_user"]), Critical);
        assert_eq!(severity(g, "", &["sudo"]), Critical);
        assert_eq!(severity(g, "", &["write_repository", "read_api"]), High);
        assert_eq!(severity(g, "", &["read_api", "read_repository"]), Medium);
        assert_eq!(severity(g, "", &["read_user"]), Low);
        assert_eq!(severity(g, "", &[]), High);
    }

    #[test]
    fn slack_scopes() {
        use Severity::*;
        let s = Provider::Slack;
        assert_eq!(severity(s, "", &["admin.users:write"]), Critical);
        assert_eq!(severity(s, "", &["chat:write", "channels:read"]), High);
        assert_eq!(severity(s, "", &["channels:read", "users:read"]), Medium);
        assert_eq!(severity(s, "", &["identity.basic"]), Low);
        assert_eq!(severity(s, "", &[]), High);
    }

    #[test]
    fn issuers_that_show_little() {
        use Severity::*;
        assert_eq!(severity(Provider::Npm, "npm_x", &[]), Critical);
        assert_eq!(severity(Provider::Huggingface, "", &["read"]), Medium);
        assert_eq!(severity(Provider::Huggingface, "", &["write"]), High);
        assert_eq!(severity(Provider::Buildkite, "", &["read_builds"]), Medium);
        assert_eq!(
            severity(Provider::Buildkite, "", &["read_builds", "write_builds"]),
            High
        );
        assert_eq!(severity(Provider::Vault, "", &["root"]), Critical);
        assert_eq!(severity(Provider::Vault, "", &["default", "ci"]), High);
        assert_eq!(severity(Provider::Stripe, "sk_live_x", &[]), Critical);
        assert_eq!(severity(Provider::Stripe, "rk_live_x", &[]), High);
        assert_eq!(severity(Provider::Heroku, "", &[]), Critical);
        assert_eq!(severity(Provider::Sentry, "", &[]), High);
        // Azure DevOps without --blast-radius: a PAT cannot read its scopes.
        let a = assess(
            Provider::AzureDevops,
            "",
            &active(Provider::AzureDevops, &[]),
        );
        assert_eq!(a.severity, High);
        assert!(a.basis.contains("--blast-radius"));
    }

    #[test]
    fn expiry_flags() {
        let today = crate::civil_time::epoch_day("2030-12-22").unwrap();
        let mut v = active(Provider::Github, &["repo"]);
        v.expires_at = Some("2031-01-01 00:00:00 UTC".into());
        apply(Provider::Github, "ghp_x", &mut v, today);
        assert_eq!(v.expires_in_days, Some(10));
        assert!(!v.no_expiry);
        assert_eq!(v.severity, Some(Severity::Critical));

        let mut v = active(Provider::Github, &["repo"]);
        apply(Provider::Github, "ghp_x", &mut v, today);
        assert!(v.no_expiry);
        assert_eq!(v.expires_in_days, None);

        // An issuer that never states the expiry: unknown, not "never".
        let mut v = active(Provider::Npm, &[]);
        apply(Provider::Npm, "npm_x", &mut v, today);
        assert!(!v.no_expiry);

        // Inactive tokens get nothing.
        let mut v = Verification::new(Status::Inactive, Provider::Github);
        apply(Provider::Github, "ghp_x", &mut v, today);
        assert_eq!(v.severity, None);
    }
}
