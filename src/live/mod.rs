//! Live checks (opt-in, network): ask each token's issuer whether the token
//! still works, and who it belongs to.
//!
//! The policy lives here and in [`http`]; each issuer has its own module with
//! its hard-coded official HTTPS base URL and its reading of the answers.
//! Three rules shape everything:
//!
//! - A token only ever goes to its issuer's official host. The host is a
//!   constant in typed Rust, never read from a scanned file, a rule or a
//!   config file; the only redirect is the test-only
//!   `PATSCAN_ENDPOINT_OVERRIDES`, which [`endpoints`] accepts for loopback
//!   addresses only. A finding is checked only when both its rule id is a
//!   built-in one and the token has its issuer's shape (prefix, checksum), so
//!   a custom rule cannot make patscan send text anywhere. Tokens that work
//!   on one instance only take the instance's name from near the token but
//!   keep the issuer's domain constant: a Grafana Cloud stack
//!   (`STACK.grafana.net`) or a Shopify shop (`SHOP.myshopify.com`), each
//!   name checked to be a single DNS label. Vault is the one exception, as
//!   it has no official host at all: a Vault token is checked only at the
//!   `VAULT_ADDR=https://…` set next to it, over HTTPS, and never at a
//!   guessed address; without one it is `unknown`.
//! - Only an unambiguous rejection is `inactive`. Rate limits, server errors,
//!   timeouts, network and TLS failures, HTML pages and any answer the code
//!   does not expect are `unknown`, with the reason: a scanner that calls a
//!   live token dead because a proxy hiccuped is worse than none.
//! - Nothing of the token appears in logs, errors or reasons: [`Secret`]
//!   redacts itself, request headers are marked sensitive, and every reason
//!   is a fixed text or the issuer's short error code, scrubbed of the token.

pub mod azure_devops;
pub mod blast_radius;
pub mod buildkite;
pub mod cloudflare;
pub mod cratesio;
pub mod digitalocean;
pub mod doppler;
pub mod endpoints;
pub mod github;
pub mod gitlab;
pub mod grafana;
pub mod heroku;
pub mod http;
pub mod huggingface;
pub mod npm;
pub mod pat_audit;
pub mod postman;
pub mod reverify;
pub mod revoke;
pub mod sentry;
pub mod severity;
pub mod shopify;
pub mod slack;
pub mod stripe;
pub mod support;
pub mod vault;
pub mod vercel;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

pub use endpoints::{Endpoints, LiveError};
pub use http::{Http, Policy};

use crate::finding::{Finding, Secret};

/// What an issuer said about a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The issuer accepted the token: it works right now.
    Active,
    /// The issuer rejected it unambiguously (revoked, expired, never valid).
    Inactive,
    /// No clear answer: not checkable, rate limited, network or server
    /// trouble, or an answer patscan does not recognise.
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The issuers patscan can check. Their keys name them in
/// `PATSCAN_ENDPOINT_OVERRIDES` and in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Provider {
    AzureDevops,
    Github,
    Gitlab,
    Npm,
    Huggingface,
    Slack,
    Grafana,
    Vercel,
    Cloudflare,
    Digitalocean,
    Sentry,
    Stripe,
    Doppler,
    Shopify,
    Buildkite,
    Heroku,
    Vault,
    Postman,
    Cratesio,
}

impl Provider {
    pub const ALL: [Provider; 19] = [
        Provider::AzureDevops,
        Provider::Github,
        Provider::Gitlab,
        Provider::Npm,
        Provider::Huggingface,
        Provider::Slack,
        Provider::Grafana,
        Provider::Vercel,
        Provider::Cloudflare,
        Provider::Digitalocean,
        Provider::Sentry,
        Provider::Stripe,
        Provider::Doppler,
        Provider::Shopify,
        Provider::Buildkite,
        Provider::Heroku,
        Provider::Vault,
        Provider::Postman,
        Provider::Cratesio,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Provider::AzureDevops => "azure-devops",
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
            Provider::Npm => "npm",
            Provider::Huggingface => "huggingface",
            Provider::Slack => "slack",
            Provider::Grafana => "grafana",
            Provider::Vercel => "vercel",
            Provider::Cloudflare => "cloudflare",
            Provider::Digitalocean => "digitalocean",
            Provider::Sentry => "sentry",
            Provider::Stripe => "stripe",
            Provider::Doppler => "doppler",
            Provider::Shopify => "shopify",
            Provider::Buildkite => "buildkite",
            Provider::Heroku => "heroku",
            Provider::Vault => "vault",
            Provider::Postman => "postman",
            Provider::Cratesio => "crates-io",
        }
    }

    pub fn from_key(key: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.key() == key)
    }

    /// The issuer that can check this token, if patscan has a live check for
    /// it. Both the built-in rule id and the token's own shape must agree.
    pub fn for_token(rule_id: &str, secret: &Secret) -> Option<Provider> {
        let token = secret.expose();
        if azure_devops::accepts(rule_id, token) {
            Some(Provider::AzureDevops)
        } else if github::accepts(rule_id, token) {
            Some(Provider::Github)
        } else if gitlab::accepts(rule_id, token) {
            Some(Provider::Gitlab)
        } else if npm::accepts(rule_id, token) {
            Some(Provider::Npm)
        } else if huggingface::accepts(rule_id, token) {
            Some(Provider::Huggingface)
        } else if slack::accepts(rule_id, token) {
            Some(Provider::Slack)
        } else if grafana::accepts(rule_id, token) {
            Some(Provider::Grafana)
        } else if vercel::accepts(rule_id, token) {
            Some(Provider::Vercel)
        } else if cloudflare::accepts(rule_id, token) {
            Some(Provider::Cloudflare)
        } else if digitalocean::accepts(rule_id, token) {
            Some(Provider::Digitalocean)
        } else if sentry::accepts(rule_id, token) {
            Some(Provider::Sentry)
        } else if stripe::accepts(rule_id, token) {
            Some(Provider::Stripe)
        } else if doppler::accepts(rule_id, token) {
            Some(Provider::Doppler)
        } else if shopify::accepts(rule_id, token) {
            Some(Provider::Shopify)
        } else if buildkite::accepts(rule_id, token) {
            Some(Provider::Buildkite)
        } else if heroku::accepts(rule_id, token) {
            Some(Provider::Heroku)
        } else if vault::accepts(rule_id, token) {
            Some(Provider::Vault)
        } else if postman::accepts(rule_id, token) {
            Some(Provider::Postman)
        } else if cratesio::accepts(rule_id, token) {
            Some(Provider::Cratesio)
        } else {
            None
        }
    }
}

/// The result of a live check, as every report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub status: Status,
    /// The issuer asked (`github`, `azure-devops`, …); absent when no check
    /// exists for the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Why the status is what it is, in words (always set unless `active`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// User name, login or e-mail address of the token's owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Expiry as the issuer states it (its own date format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Organisation, team or workspace the token works in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// The request that decided the status (method and URL, never the
    /// token) and its HTTP status, so a result can be reproduced by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// How bad the leak is, from what the check learnt (active tokens
    /// only; see [`severity`] and the README's mapping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<severity::Severity>,
    /// Why that severity: the scope, role or area that decided it, or the
    /// stated default when the check cannot see permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_basis: Option<String>,
    /// The issuer's answer shows the token never expires.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_expiry: bool,
    /// Days from the check to `expires_at` (negative once past).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<i64>,
    /// Azure DevOps with `--blast-radius`: what the token reaches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<blast_radius::Access>,
    /// Azure DevOps: the owner's subject descriptor, which the Token
    /// Administration API needs to list their PATs. Not reported.
    #[serde(skip)]
    pub owner_descriptor: Option<String>,
}

impl Verification {
    pub fn new(status: Status, provider: Provider) -> Verification {
        Verification {
            provider: Some(provider.key().to_string()),
            ..Verification::bare(status)
        }
    }

    fn bare(status: Status) -> Verification {
        Verification {
            status,
            provider: None,
            reason: None,
            owner: None,
            scopes: Vec::new(),
            expires_at: None,
            organisation: None,
            endpoint: None,
            http_status: None,
            severity: None,
            severity_basis: None,
            no_expiry: false,
            expires_in_days: None,
            access: None,
            owner_descriptor: None,
        }
    }

    pub fn unknown(provider: Provider, reason: impl Into<String>) -> Verification {
        Verification::new(Status::Unknown, provider).with_reason(reason)
    }

    /// For findings of rules without a live check.
    pub fn not_checkable(rule_id: &str) -> Verification {
        Verification::bare(Status::Unknown)
            .with_reason(format!("patscan has no live check for {rule_id}"))
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Verification {
        self.reason = Some(reason.into());
        self
    }

    /// Removes any trace of `token` from the free-text fields: a last line
    /// of defence should an issuer echo the credential back.
    fn scrubbed(mut self, token: &str) -> Verification {
        let scrub = |field: &mut Option<String>| {
            if let Some(text) = field {
                if !token.is_empty() && text.contains(token) {
                    *text = text.replace(token, "[token]");
                }
            }
        };
        scrub(&mut self.reason);
        scrub(&mut self.owner);
        scrub(&mut self.expires_at);
        scrub(&mut self.organisation);
        scrub(&mut self.endpoint);
        scrub(&mut self.severity_basis);
        self.scopes.retain(|s| !s.contains(token));
        self
    }
}

/// What live checks attach to a finding: context the scanner saw around
/// the token, and the verification once done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveInfo {
    /// The instances named near the token, for issuers whose tokens work on
    /// one instance only: Azure DevOps organisations (`dev.azure.com/ORG`,
    /// `ORG.visualstudio.com`; organisation-scoped PATs can only be checked
    /// there), Grafana Cloud stacks (`STACK.grafana.net`), Shopify shops
    /// (`SHOP.myshopify.com`), Vault addresses (`VAULT_ADDR=https://…`) and
    /// Cloudflare account ids (for account API tokens).
    /// Each issuer's module checks its entries again before use.
    pub organisations: Vec<String>,
    pub verification: Option<Verification>,
}

/// What the scanner records around a token for a later live check. Cheap,
/// and only does work for rules that need context.
pub fn context_for(rule_id: &str, buf: &[u8], start: usize, end: usize) -> LiveInfo {
    let organisations = if rule_id.starts_with("azure-devops") {
        azure_devops::organisations_near(buf, start, end)
    } else if rule_id == "grafana-service-account-token" {
        grafana::stacks_near(buf, start, end)
    } else if rule_id.starts_with("shopify-") {
        shopify::shops_near(buf, start, end)
    } else if rule_id.starts_with("vault-") {
        vault::addresses_near(buf, start, end)
    } else if rule_id == "cloudflare-account-api-token" {
        cloudflare::accounts_near(buf, start, end)
    } else {
        Vec::new()
    };
    LiveInfo {
        organisations,
        verification: None,
    }
}

/// How to verify: concurrency plus the HTTP policy.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Requests in flight at once, over all issuers.
    pub concurrency: usize,
    pub policy: Policy,
    /// Azure DevOps: probe what each live PAT reaches (read-only GETs,
    /// bounded; see [`blast_radius`]).
    pub blast_radius: bool,
}

/// What the caller can be told while checking (never a token).
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyStats {
    /// Distinct tokens sent to an issuer (each once).
    pub distinct_tokens: usize,
}

/// One distinct token to check, with every organisation seen near any of
/// its occurrences.
struct Job {
    provider: Provider,
    secret: Secret,
    organisations: Vec<String>,
}

/// Checks every finding's token with its issuer and stores the result in
/// `finding.live.verification`. Each distinct token is checked once, however
/// often it was found; findings without a live check get `unknown`.
pub fn verify_findings(
    findings: &mut [Finding],
    endpoints: &Endpoints,
    options: &VerifyOptions,
) -> Result<VerifyStats, LiveError> {
    let mut jobs: Vec<Job> = Vec::new();
    let mut job_of: BTreeMap<(Provider, &str), usize> = BTreeMap::new();
    let mut assignment: Vec<Option<usize>> = Vec::with_capacity(findings.len());
    for finding in findings.iter() {
        let Some(provider) = Provider::for_token(&finding.rule_id, &finding.secret) else {
            assignment.push(None);
            continue;
        };
        let index = *job_of
            .entry((provider, finding.secret.expose()))
            .or_insert_with(|| {
                jobs.push(Job {
                    provider,
                    secret: finding.secret.clone(),
                    organisations: Vec::new(),
                });
                jobs.len() - 1
            });
        for org in &finding.live.organisations {
            if !jobs[index].organisations.contains(org) {
                jobs[index].organisations.push(org.clone());
            }
        }
        assignment.push(Some(index));
    }

    let results = run_jobs(&jobs, endpoints, options)?;
    for (finding, job) in findings.iter_mut().zip(assignment) {
        finding.live.verification = Some(match job {
            Some(index) => results[index].clone(),
            None => Verification::not_checkable(&finding.rule_id),
        });
    }
    Ok(VerifyStats {
        distinct_tokens: jobs.len(),
    })
}

/// Runs the jobs on at most `concurrency` threads sharing one client (and so
/// one per-host rate limiter).
fn run_jobs(
    jobs: &[Job],
    endpoints: &Endpoints,
    options: &VerifyOptions,
) -> Result<Vec<Verification>, LiveError> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let http = Http::new(options.policy.clone())?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Verification>>> = Mutex::new(vec![None; jobs.len()]);
    let workers = options.concurrency.clamp(1, jobs.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(index) else { break };
                let verification = check(&http, endpoints, job, options.blast_radius);
                results.lock().unwrap_or_else(|p| p.into_inner())[index] = Some(verification);
            });
        }
    });
    Ok(results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .zip(jobs)
        .map(|(v, job)| {
            v.unwrap_or_else(|| Verification::unknown(job.provider, "the check did not finish"))
        })
        .collect())
}

fn check(http: &Http, endpoints: &Endpoints, job: &Job, blast_radius: bool) -> Verification {
    let base = endpoints.base(job.provider);
    let token = job.secret.expose();
    let verification = match job.provider {
        Provider::AzureDevops => {
            azure_devops::verify(http, base, token, &job.organisations, blast_radius)
        }
        Provider::Github => github::verify(http, base, token),
        Provider::Gitlab => gitlab::verify(http, base, token),
        Provider::Npm => npm::verify(http, base, token),
        Provider::Huggingface => huggingface::verify(http, base, token),
        Provider::Slack => slack::verify(http, base, token),
        Provider::Grafana => grafana::verify(http, base, token, &job.organisations),
        Provider::Shopify => shopify::verify(http, base, token, &job.organisations),
        Provider::Vault => vault::verify(http, base, token, &job.organisations),
        Provider::Vercel => vercel::verify(http, base, token),
        Provider::Cloudflare => cloudflare::verify(http, base, token, &job.organisations),
        Provider::Digitalocean => digitalocean::verify(http, base, token),
        Provider::Sentry => sentry::verify(http, base, token),
        Provider::Stripe => stripe::verify(http, base, token),
        Provider::Doppler => doppler::verify(http, base, token),
        Provider::Buildkite => buildkite::verify(http, base, token),
        Provider::Heroku => heroku::verify(http, base, token),
        Provider::Postman => postman::verify(http, base, token),
        Provider::Cratesio => cratesio::verify(http, base, token),
    };
    let mut verification = verification.scrubbed(token);
    severity::apply(job.provider, token, &mut verification, severity::today());
    verification
}

/// Counts per status, for summaries.
pub fn tally(findings: &[Finding]) -> Option<BTreeMap<Status, usize>> {
    let mut counts = BTreeMap::new();
    let mut any = false;
    for finding in findings {
        if let Some(v) = &finding.live.verification {
            any = true;
            *counts.entry(v.status).or_insert(0) += 1;
        }
    }
    any.then_some(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokengen::{generate, TokenRng};

    #[test]
    fn only_built_in_rules_with_the_issuers_shape_are_checked() {
        let mut rng = TokenRng::new(5);
        let ghp = Secret::new(generate("github-classic-pat", &mut rng).unwrap());
        assert_eq!(
            Provider::for_token("github-classic-pat", &ghp),
            Some(Provider::Github)
        );
        // A rule id patscan does not ship (a custom rule) never verifies,
        // whatever it matched.
        assert_eq!(Provider::for_token("my-custom-rule", &ghp), None);
        // A built-in id with text of another shape does not either.
        let mut broken = ghp.expose().to_string();
        broken.pop();
        broken.push(if ghp.expose().ends_with('A') {
            'B'
        } else {
            'A'
        });
        assert_eq!(
            Provider::for_token("github-classic-pat", &Secret::new(broken)),
            None
        );
        let npm = Secret::new(generate("npm-token", &mut rng).unwrap());
        assert_eq!(Provider::for_token("github-classic-pat", &npm), None);
        assert_eq!(Provider::for_token("npm-token", &npm), Some(Provider::Npm));
        let slack = Secret::new("xoxb-1234567890-1234567890-abc/../evil".into());
        assert_eq!(Provider::for_token("slack-bot-token", &slack), None);
    }

    #[test]
    fn every_new_issuer_checks_its_own_rules_shape() {
        let cases = [
            ("grafana-service-account-token", Provider::Grafana),
            ("vercel-personal-access-token", Provider::Vercel),
            ("vercel-app-refresh-token", Provider::Vercel),
            ("cloudflare-user-api-token", Provider::Cloudflare),
            ("cloudflare-account-api-token", Provider::Cloudflare),
            ("digitalocean-pat", Provider::Digitalocean),
            ("sentry-org-token", Provider::Sentry),
            ("sentry-user-token", Provider::Sentry),
            ("stripe-secret-key", Provider::Stripe),
            ("doppler-token", Provider::Doppler),
            ("shopify-private-app-token", Provider::Shopify),
            ("buildkite-user-token", Provider::Buildkite),
            ("heroku-api-key", Provider::Heroku),
            ("vault-batch-token", Provider::Vault),
            ("postman-api-key", Provider::Postman),
            ("cratesio-api-token", Provider::Cratesio),
        ];
        for seed in 0..10 {
            let mut rng = TokenRng::new(seed);
            for (rule, provider) in cases {
                let t = Secret::new(generate(rule, &mut rng).unwrap());
                assert_eq!(Provider::for_token(rule, &t), Some(provider), "{rule}");
                assert_eq!(Provider::for_token("my-custom-rule", &t), None);
                // One byte that no issuer's shape allows.
                let bent = Secret::new(format!("{}/", t.expose()));
                assert_eq!(Provider::for_token(rule, &bent), None, "{rule}");
            }
        }
        // Kinds without a read-only check are not sent anywhere.
        let mut rng = TokenRng::new(1);
        for rule in [
            "vercel-ai-gateway-key",
            "cloudflare-global-api-key",
            "digitalocean-refresh-token",
            "shopify-shared-secret",
            "cratesio-trusted-publishing-token",
            "terraform-cloud-token",
            "grafana-cloud-token",
        ] {
            let t = Secret::new(generate(rule, &mut rng).unwrap());
            assert_eq!(Provider::for_token(rule, &t), None, "{rule}");
        }
        // A Grafana token whose checksum fails is not a Grafana token.
        let bad = Secret::new(
            crate::tokengen::corrupt("grafana-service-account-token", &mut rng).unwrap(),
        );
        assert_eq!(
            Provider::for_token("grafana-service-account-token", &bad),
            None
        );
    }

    #[test]
    fn scrubbing_removes_an_echoed_token() {
        let v = Verification::unknown(Provider::Github, "server said SECRET123 is bad")
            .scrubbed("SECRET123");
        assert_eq!(v.reason.as_deref(), Some("server said [token] is bad"));
    }
}
