//! Live checks (opt-in, network): ask each token's issuer whether the token
//! still works, and who it belongs to.
//!
//! The policy lives here and in the shared client ([`crate::net`]); each issuer has its own module with
//! its hard-coded official HTTPS base URL and its reading of the answers.
//! Three rules shape everything:
//!
//! Most issuers need no module: their check is one documented "who am I"
//! call, described as data in [`identity`]'s table and read by one engine.
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
pub mod huggingface;
pub mod identity;
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

pub use endpoints::{Endpoints, LiveError};

use crate::model::{Finding, Provider, Secret, Verification};
use crate::net::{Http, Policy};

/// The issuer that can check this token, if patscan has a live check for
/// it. Both the built-in rule id and the token's own shape must agree.
pub fn provider_for(rule_id: &str, secret: &Secret) -> Option<Provider> {
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
        identity::provider_for(rule_id, token)
    }
}

/// The providers with a module of their own; every other one is an entry
/// of [`identity`]'s table (a test holds the two apart and complete).
pub const HAND_WRITTEN: &[Provider] = &[
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

/// Removes any trace of `token` from a verification's free-text fields: a
/// last line of defence should an issuer echo the credential back.
fn scrubbed(mut v: Verification, token: &str) -> Verification {
    let scrub = |field: &mut Option<String>| {
        if let Some(text) = field {
            if !token.is_empty() && text.contains(token) {
                *text = text.replace(token, "[token]");
            }
        }
    };
    scrub(&mut v.reason);
    scrub(&mut v.owner);
    scrub(&mut v.expires_at);
    scrub(&mut v.organisation);
    scrub(&mut v.endpoint);
    scrub(&mut v.severity_basis);
    v.scopes.retain(|s| !s.contains(token));
    v
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
        let Some(provider) = provider_for(&finding.rule_id, &finding.secret) else {
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
        table => identity::verify(http, base, table, token),
    };
    let mut verification = scrubbed(verification, token);
    severity::apply(job.provider, token, &mut verification, severity::today());
    verification
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
            provider_for("github-classic-pat", &ghp),
            Some(Provider::Github)
        );
        // A rule id patscan does not ship (a custom rule) never verifies,
        // whatever it matched.
        assert_eq!(provider_for("my-custom-rule", &ghp), None);
        // A built-in id with text of another shape does not either.
        let mut broken = ghp.expose().to_string();
        broken.pop();
        broken.push(if ghp.expose().ends_with('A') {
            'B'
        } else {
            'A'
        });
        assert_eq!(
            provider_for("github-classic-pat", &Secret::new(broken)),
            None
        );
        let npm = Secret::new(generate("npm-token", &mut rng).unwrap());
        assert_eq!(provider_for("github-classic-pat", &npm), None);
        assert_eq!(provider_for("npm-token", &npm), Some(Provider::Npm));
        let slack = Secret::new("xoxb-1234567890-1234567890-abc/../evil".into());
        assert_eq!(provider_for("slack-bot-token", &slack), None);
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
                assert_eq!(provider_for(rule, &t), Some(provider), "{rule}");
                assert_eq!(provider_for("my-custom-rule", &t), None);
                // One byte that no issuer's shape allows.
                let bent = Secret::new(format!("{}/", t.expose()));
                assert_eq!(provider_for(rule, &bent), None, "{rule}");
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
            assert_eq!(provider_for(rule, &t), None, "{rule}");
        }
        // A Grafana token whose checksum fails is not a Grafana token.
        let bad = Secret::new(
            crate::tokengen::corrupt("grafana-service-account-token", &mut rng).unwrap(),
        );
        assert_eq!(provider_for("grafana-service-account-token", &bad), None);
    }

    #[test]
    fn scrubbing_removes_an_echoed_token() {
        let v = scrubbed(
            Verification::unknown(Provider::Github, "server said SECRET123 is bad"),
            "SECRET123",
        );
        assert_eq!(v.reason.as_deref(), Some("server said [token] is bad"));
    }
}
