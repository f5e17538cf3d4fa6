//! Revocation (opt-in, network): take leaked tokens out of service, safely
//! and with an audit trail.
//!
//! - Dry run by default: without confirmation patscan says what it would
//!   revoke and where, and sends nothing. `--yes` confirms everything; on a
//!   terminal patscan asks per token.
//! - Only tokens verified `active` are revoked, unless `force`.
//! - Every decision, performed or not, is one [`AuditEntry`]: printed, and
//!   appended to the JSON Lines audit log when one is given. No entry holds
//!   the token.
//! - A failure is reported with its reason and the rest go on; the caller
//!   learns from [`Revocations::incomplete`] that not everything was done.
//!
//! The requests themselves live with each provider's live check; this module
//! decides which token goes where, batches GitHub's API and keeps the log.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::{
    azure_devops, buildkite, cloudflare, cratesio, digitalocean, doppler, github, gitlab, heroku,
    huggingface, npm, slack, vault, vercel, Endpoints, LiveError,
};
use crate::model::{Finding, Provider, Secret, Status, Verification};
use crate::net::{Answer, Call, Failure, Http};

/// What one revocation request came to.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub ok: bool,
    pub reason: String,
    pub endpoint: String,
    pub http_status: Option<u16>,
}

impl Attempt {
    /// Judges an answer with `judge` (Ok = revoked, with what to say); no
    /// answer at all is a failure with the fixed-words reason.
    pub fn from_answer(
        result: Result<Answer, Failure>,
        call: &Call<'_>,
        judge: impl FnOnce(&Answer) -> Result<String, String>,
    ) -> Attempt {
        match result {
            Ok(answer) => {
                let (ok, reason) = match judge(&answer) {
                    Ok(reason) => (true, reason),
                    Err(reason) => (false, reason),
                };
                Attempt {
                    ok,
                    reason,
                    endpoint: call.describe(),
                    http_status: Some(answer.status),
                }
            }
            Err(failure) => Attempt::failed(failure.to_string(), call, None),
        }
    }

    pub fn failed(reason: String, call: &Call<'_>, http_status: Option<u16>) -> Attempt {
        Attempt {
            ok: false,
            reason,
            endpoint: call.describe(),
            http_status,
        }
    }
}

/// How a token can be taken out of service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    /// GitHub's unauthenticated credential revocation API, batched.
    GithubApi,
    /// `ghs_` installation tokens: `DELETE /installation/token`.
    GithubSelf,
    GitlabSelf,
    SlackSelf,
    NpmSelf,
    /// Not by the token itself: the owner's page, or an organisation admin.
    AzureDevops,
    /// Hugging Face's unauthenticated revocation API.
    HuggingfaceApi,
    VercelSelf,
    /// Two steps: verify names the id, then delete it.
    CloudflareSelf,
    BuildkiteSelf,
    DopplerSelf,
    CratesioSelf,
    DigitaloceanSelf,
    /// Two steps: find the token's id among the authorizations, delete it.
    HerokuSelf,
    /// At the `VAULT_ADDR` found near the token.
    VaultSelf,
}

impl Method {
    fn for_token(rule_id: &str, token: &str) -> Option<Method> {
        if github::revocable_by_api(rule_id, token) {
            Some(Method::GithubApi)
        } else if github::revocable_by_itself(rule_id, token) {
            Some(Method::GithubSelf)
        } else if gitlab::accepts(rule_id, token) {
            Some(Method::GitlabSelf)
        } else if slack::accepts(rule_id, token) {
            Some(Method::SlackSelf)
        } else if npm::accepts(rule_id, token) {
            Some(Method::NpmSelf)
        } else if azure_devops::accepts(rule_id, token) {
            Some(Method::AzureDevops)
        } else if huggingface::accepts(rule_id, token) {
            Some(Method::HuggingfaceApi)
        } else if vercel::revocable(rule_id, token) {
            Some(Method::VercelSelf)
        } else if cloudflare::revocable(rule_id, token) {
            Some(Method::CloudflareSelf)
        } else if buildkite::accepts(rule_id, token) {
            Some(Method::BuildkiteSelf)
        } else if doppler::accepts(rule_id, token) {
            Some(Method::DopplerSelf)
        } else if cratesio::accepts(rule_id, token) {
            Some(Method::CratesioSelf)
        } else if digitalocean::accepts(rule_id, token) {
            Some(Method::DigitaloceanSelf)
        } else if heroku::accepts(rule_id, token) {
            Some(Method::HerokuSelf)
        } else if vault::revocable(rule_id, token) {
            Some(Method::VaultSelf)
        } else {
            None
        }
    }

    fn provider(self) -> Provider {
        match self {
            Method::GithubApi | Method::GithubSelf => Provider::Github,
            Method::GitlabSelf => Provider::Gitlab,
            Method::SlackSelf => Provider::Slack,
            Method::NpmSelf => Provider::Npm,
            Method::AzureDevops => Provider::AzureDevops,
            Method::HuggingfaceApi => Provider::Huggingface,
            Method::VercelSelf => Provider::Vercel,
            Method::CloudflareSelf => Provider::Cloudflare,
            Method::BuildkiteSelf => Provider::Buildkite,
            Method::DopplerSelf => Provider::Doppler,
            Method::CratesioSelf => Provider::Cratesio,
            Method::DigitaloceanSelf => Provider::Digitalocean,
            Method::HerokuSelf => Provider::Heroku,
            Method::VaultSelf => Provider::Vault,
        }
    }

    /// Where the request would go, for the dry run. `context` is what was
    /// found near the token (Vault's address).
    fn describe(self, base: &str, context: &[String]) -> String {
        match self {
            Method::GithubApi => format!("POST {base}/credentials/revoke (GitHub credential revocation API)"),
            Method::GithubSelf => format!("DELETE {base}/installation/token (the token revokes itself)"),
            Method::GitlabSelf => {
                format!("DELETE {base}/api/v4/personal_access_tokens/self (the token revokes itself)")
            }
            Method::SlackSelf => format!("POST {base}/api/auth.revoke (the token revokes itself)"),
            Method::NpmSelf => format!(
                "GET {base}/-/npm/v1/tokens, then DELETE {base}/-/npm/v1/tokens/token/KEY (the token deletes itself)"
            ),
            Method::HuggingfaceApi => {
                format!("POST {base}/api/credentials/revoke (Hugging Face's revocation API)")
            }
            Method::VercelSelf => {
                format!("DELETE {base}/v3/user/tokens/current (the token deletes itself)")
            }
            Method::CloudflareSelf => format!(
                "GET {base}/client/v4/user/tokens/verify, then DELETE {base}/client/v4/user/tokens/ID (the token deletes itself)"
            ),
            Method::BuildkiteSelf => {
                format!("DELETE {base}/v2/access-token (the token revokes itself)")
            }
            Method::DopplerSelf => format!("POST {base}/v3/auth/revoke (the token revokes itself)"),
            Method::CratesioSelf => {
                format!("DELETE {base}/api/v1/tokens/current (the token revokes itself)")
            }
            Method::DigitaloceanSelf => format!(
                "POST {}/v1/oauth/revoke (the token revokes itself)",
                digitalocean::oauth_base(base)
            ),
            Method::HerokuSelf => format!(
                "GET {base}/oauth/authorizations, then DELETE {base}/oauth/tokens/ID (the token revokes itself)"
            ),
            Method::VaultSelf => vault::describe_revocation(base, context),
            Method::AzureDevops => String::new(),
        }
    }
}

/// How revocations are confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// Say what would be done; send nothing.
    DryRun,
    /// Do it (`--yes`).
    Yes,
    /// Ask per token (on a terminal).
    Ask,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Revoked,
    Failed,
    /// Dry run: would have been revoked.
    WouldRevoke,
    /// The user said no at the prompt.
    Declined,
    /// Not eligible: inactive, unknown without `--force`, or no way to revoke.
    Skipped,
    /// patscan cannot revoke it; the owner must (the reason says where).
    Manual,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Revoked => "revoked",
            Outcome::Failed => "FAILED",
            Outcome::WouldRevoke => "would revoke (dry run)",
            Outcome::Declined => "declined",
            Outcome::Skipped => "skipped",
            Outcome::Manual => "NOT REVOKED, owner action needed",
        }
    }
}

/// One line of the audit log. Holds the token's fingerprint, never the token.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// UTC, RFC 3339.
    pub time: String,
    pub action: &'static str,
    pub rule: String,
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// The verification status the decision was based on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<Status>,
    pub outcome: Outcome,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The provider's HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    pub dry_run: bool,
}

#[derive(Debug, Clone)]
pub struct RevokeOptions {
    pub confirm: Confirm,
    /// Revoke tokens whose status is not `active` too.
    pub force: bool,
    /// An Azure DevOps organisation admin's credential for the Token
    /// Administration API (from `PATSCAN_AZURE_DEVOPS_ADMIN_TOKEN`).
    pub azure_devops_admin: Option<Secret>,
}

/// The environment variable holding an Azure DevOps organisation admin's
/// credential for the Token Administration API: an Entra ID access token
/// (sent as Bearer) or a PAT (sent as Basic); see `azure_devops::admin_auth`.
pub const AZURE_DEVOPS_ADMIN_VAR: &str = "PATSCAN_AZURE_DEVOPS_ADMIN_TOKEN";

/// Every entry of a run.
#[derive(Debug, Default)]
pub struct Revocations {
    pub entries: Vec<AuditEntry>,
}

impl Revocations {
    /// True when a token patscan was asked to revoke is still in service: a
    /// revocation failed, or (outside a dry run) only its owner can revoke it.
    pub fn incomplete(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.outcome == Outcome::Failed || (e.outcome == Outcome::Manual && !e.dry_run))
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.entries.iter().filter(|e| e.outcome == outcome).count()
    }
}

/// Where entries go as they happen: a human line to `out`, a JSON line to
/// the audit log. Written one by one, so an interrupted run keeps its trail.
pub struct Journal<'a> {
    out: &'a mut dyn Write,
    log: Option<File>,
    done: Revocations,
}

impl<'a> Journal<'a> {
    pub fn new(out: &'a mut dyn Write, log: Option<File>) -> Journal<'a> {
        Journal {
            out,
            log,
            done: Revocations::default(),
        }
    }

    fn record(&mut self, token: &Secret, entry: AuditEntry) -> io::Result<()> {
        let owner = entry
            .owner
            .as_deref()
            .map(|o| format!(", owner {o}"))
            .unwrap_or_default();
        writeln!(
            self.out,
            "revoke: {} ({}, fingerprint {}{owner}): {}: {}",
            token.redacted(),
            entry.rule,
            entry.fingerprint,
            entry.outcome.as_str(),
            entry.reason
        )?;
        if let Some(log) = &mut self.log {
            let line = serde_json::to_string(&entry).map_err(io::Error::other)?;
            writeln!(log, "{line}")?;
            log.flush()?;
        }
        self.done.entries.push(entry);
        Ok(())
    }

    pub fn finish(self) -> Revocations {
        self.done
    }
}

/// One distinct token and what is known about it.
struct Target<'f> {
    finding: &'f Finding,
    verification: Option<&'f Verification>,
}

impl Target<'_> {
    fn entry(&self, provider: Option<Provider>, outcome: Outcome, reason: String) -> AuditEntry {
        let v = self.verification;
        AuditEntry {
            time: rfc3339_now(),
            action: "revoke",
            rule: self.finding.rule_id.clone(),
            fingerprint: self.finding.fingerprint(),
            provider: provider.map(Provider::key),
            owner: v.and_then(|v| v.owner.clone()),
            organisation: v.and_then(|v| v.organisation.clone()),
            verified: v.map(|v| v.status),
            outcome,
            reason: scrub(reason, &self.finding.secret),
            endpoint: None,
            http_status: None,
            dry_run: false,
        }
    }

    fn secret(&self) -> &Secret {
        &self.finding.secret
    }
}

/// Decides and (when confirmed) performs the revocation of every distinct
/// token among `findings`, recording each decision in `journal`. `ask` is
/// called per token under [`Confirm::Ask`] and returns the user's answer.
pub fn revoke_findings(
    findings: &[Finding],
    endpoints: &Endpoints,
    http: &Http,
    options: &RevokeOptions,
    ask: &mut dyn FnMut(&str) -> bool,
    journal: &mut Journal<'_>,
) -> Result<(), LiveError> {
    let io = |e: io::Error| LiveError::Audit(e.to_string());
    let mut seen = BTreeSet::new();
    let mut github_batch: Vec<Target<'_>> = Vec::new();
    for finding in findings {
        if !seen.insert((finding.rule_id.as_str(), finding.secret.expose())) {
            continue;
        }
        let target = Target {
            finding,
            verification: finding.live.verification.as_ref(),
        };
        let token = finding.secret.expose();
        let Some(method) = Method::for_token(&finding.rule_id, token) else {
            let entry = target.entry(
                None,
                Outcome::Skipped,
                format!("patscan cannot revoke {} tokens", finding.rule_id),
            );
            journal.record(target.secret(), entry).map_err(io)?;
            continue;
        };
        let provider = method.provider();
        if let Some(reason) = ineligible(&target, options.force) {
            let entry = target.entry(Some(provider), Outcome::Skipped, reason);
            journal.record(target.secret(), entry).map_err(io)?;
            continue;
        }
        let base = endpoints.base(provider);
        let context = &finding.live.organisations;
        match method {
            Method::AzureDevops => {
                let entry = azure_devops_revocation(&target, base, http, options, ask);
                journal.record(target.secret(), entry).map_err(io)?;
            }
            _ => {
                let plan = method.describe(base, context);
                match decide(options.confirm, ask, &target, &plan) {
                    Decision::DryRun => {
                        let mut entry = target.entry(
                            Some(provider),
                            Outcome::WouldRevoke,
                            format!("would send {plan}; run with --yes to revoke"),
                        );
                        entry.dry_run = true;
                        journal.record(target.secret(), entry).map_err(io)?;
                    }
                    Decision::Declined => {
                        let entry = target.entry(
                            Some(provider),
                            Outcome::Declined,
                            "not revoked: declined at the prompt".into(),
                        );
                        journal.record(target.secret(), entry).map_err(io)?;
                    }
                    Decision::Go if method == Method::GithubApi => github_batch.push(target),
                    Decision::Go => {
                        let attempt = match method {
                            Method::GithubSelf => {
                                github::revoke_installation_token(http, base, token)
                            }
                            Method::GitlabSelf => gitlab::revoke(http, base, token),
                            Method::SlackSelf => slack::revoke(http, base, token),
                            Method::HuggingfaceApi => huggingface::revoke(http, base, token),
                            Method::VercelSelf => vercel::revoke(http, base, token),
                            Method::CloudflareSelf => cloudflare::revoke(http, base, token),
                            Method::BuildkiteSelf => buildkite::revoke(http, base, token),
                            Method::DopplerSelf => doppler::revoke(http, base, token),
                            Method::CratesioSelf => cratesio::revoke(http, base, token),
                            Method::DigitaloceanSelf => digitalocean::revoke(http, base, token),
                            Method::HerokuSelf => heroku::revoke(http, base, token),
                            Method::VaultSelf => vault::revoke(http, base, token, context),
                            _ => npm::revoke(http, base, token),
                        };
                        let entry = attempted(&target, provider, attempt);
                        journal.record(target.secret(), entry).map_err(io)?;
                    }
                }
            }
        }
    }
    let limits = BatchLimits {
        size: github::REVOKE_BATCH,
        requests: github::REVOKE_REQUESTS_PER_HOUR,
    };
    revoke_github_batches(
        github_batch,
        endpoints.base(Provider::Github),
        http,
        limits,
        journal,
    )
}

/// GitHub's limits on its revocation API (parameters so tests can shrink
/// them).
#[derive(Debug, Clone, Copy)]
struct BatchLimits {
    /// Tokens per request.
    size: usize,
    /// Requests per run (GitHub allows this many an hour).
    requests: usize,
}

/// Why a token is not revoked, if it is not.
fn ineligible(target: &Target<'_>, force: bool) -> Option<String> {
    if force {
        return None;
    }
    match target.verification {
        Some(v) if v.status == Status::Active => None,
        Some(v) if v.status == Status::Inactive => Some(format!(
            "verified inactive ({}); nothing to revoke",
            v.reason.as_deref().unwrap_or("rejected")
        )),
        Some(v) => Some(format!(
            "status unknown ({}); --force revokes it anyway",
            v.reason.as_deref().unwrap_or("no answer")
        )),
        None => Some("not verified; --force revokes it anyway".into()),
    }
}

enum Decision {
    DryRun,
    Declined,
    Go,
}

fn decide(
    confirm: Confirm,
    ask: &mut dyn FnMut(&str) -> bool,
    target: &Target<'_>,
    plan: &str,
) -> Decision {
    match confirm {
        Confirm::DryRun => Decision::DryRun,
        Confirm::Yes => Decision::Go,
        Confirm::Ask => {
            let owner = target
                .verification
                .and_then(|v| v.owner.as_deref())
                .map(|o| format!(" of {o}"))
                .unwrap_or_default();
            let question = format!(
                "Revoke {} ({}{owner}) with {plan}?",
                target.secret().redacted(),
                target.finding.rule_id
            );
            if ask(&question) {
                Decision::Go
            } else {
                Decision::Declined
            }
        }
    }
}

fn attempted(target: &Target<'_>, provider: Provider, attempt: Attempt) -> AuditEntry {
    let outcome = if attempt.ok {
        Outcome::Revoked
    } else {
        Outcome::Failed
    };
    let mut entry = target.entry(Some(provider), outcome, attempt.reason);
    entry.endpoint = Some(attempt.endpoint);
    entry.http_status = attempt.http_status;
    entry
}

fn finish(mut entry: AuditEntry, options: &RevokeOptions) -> AuditEntry {
    entry.dry_run = options.confirm == Confirm::DryRun;
    entry
}

/// Sends GitHub's tokens in batches of at most [`github::REVOKE_BATCH`],
/// and no more than [`github::REVOKE_REQUESTS_PER_HOUR`] requests: tokens
/// beyond that are reported failed, to be sent in an hour.
fn revoke_github_batches(
    targets: Vec<Target<'_>>,
    base: &str,
    http: &Http,
    limits: BatchLimits,
    journal: &mut Journal<'_>,
) -> Result<(), LiveError> {
    let io = |e: io::Error| LiveError::Audit(e.to_string());
    let mut halted: Option<String> = None;
    for (index, batch) in targets.chunks(limits.size.max(1)).enumerate() {
        if index >= limits.requests && halted.is_none() {
            halted = Some(format!(
                "not sent: GitHub allows {} revocation requests an hour; run again later",
                limits.requests
            ));
        }
        if let Some(reason) = &halted {
            for target in batch {
                let entry = target.entry(Some(Provider::Github), Outcome::Failed, reason.clone());
                journal.record(target.secret(), entry).map_err(io)?;
            }
            continue;
        }
        let tokens: Vec<&str> = batch.iter().map(|t| t.secret().expose()).collect();
        let attempt = github::revoke_batch(http, base, &tokens);
        // Rate limited even after honouring Retry-After: stop hammering.
        if attempt.http_status == Some(429) {
            halted =
                Some("not sent: GitHub's revocation API is rate limiting; run again later".into());
        }
        for target in batch {
            let mut attempt = attempt.clone();
            if attempt.ok && batch.len() > 1 {
                attempt.reason = format!("{} (batch of {})", attempt.reason, batch.len());
            }
            let entry = attempted(target, Provider::Github, attempt);
            journal.record(target.secret(), entry).map_err(io)?;
        }
    }
    Ok(())
}

/// An Azure DevOps PAT cannot revoke itself. Without admin credentials:
/// name the owner and organisation and print the page where the owner
/// revokes it. With an organisation admin's credential: list the owner's
/// valid PATs in the organisation (patscan cannot tell which one leaked:
/// the API never shows token values), show exactly those, and revoke them
/// once confirmed.
fn azure_devops_revocation(
    target: &Target<'_>,
    base: &str,
    http: &Http,
    options: &RevokeOptions,
    ask: &mut dyn FnMut(&str) -> bool,
) -> AuditEntry {
    let provider = Some(Provider::AzureDevops);
    let v = target.verification;
    let org = v.and_then(|v| v.organisation.as_deref());
    let owner = v
        .and_then(|v| v.owner.as_deref())
        .unwrap_or("the token's owner");
    let page = azure_devops::revoke_page(org);
    let manual = |extra: &str| {
        finish(
            target.entry(
                provider,
                Outcome::Manual,
                format!(
                    "an Azure DevOps PAT cannot revoke itself; {owner} must revoke it at {page}{extra}"
                ),
            ),
            options,
        )
    };
    let subject = v.and_then(|v| v.owner_descriptor.as_deref());
    let (Some(admin), Some(org), Some(subject)) = (&options.azure_devops_admin, org, subject)
    else {
        let hint = if options.azure_devops_admin.is_none() {
            format!(
                " (or an organisation admin sets {AZURE_DEVOPS_ADMIN_VAR} for the Token \
                 Administration API); enabling the policy \"Automatic revocation of leaked \
                 tokens\" revokes leaks GitHub finds"
            )
        } else {
            " (the admin API needs the organisation, and the owner as its \
             connectionData names them; neither was known)"
                .to_string()
        };
        return manual(&hint);
    };
    let list = match azure_devops::list_authorizations(http, base, org, subject, admin.expose()) {
        Ok(list) => list,
        Err(attempt) => {
            let mut entry = target.entry(
                provider,
                Outcome::Failed,
                format!("{}; {owner} must revoke it at {page}", attempt.reason),
            );
            entry.endpoint = Some(attempt.endpoint);
            entry.http_status = attempt.http_status;
            return entry;
        }
    };
    if list.is_empty() {
        return manual(" (the Token Administration API lists no valid PAT of the owner)");
    }
    let names: Vec<String> = list
        .iter()
        .map(|a| {
            format!(
                "\"{}\" (valid to {}, scope {})",
                a.name, a.valid_to, a.scope
            )
        })
        .collect();
    let plan = format!(
        "the Token Administration API, revoking all {} valid PAT(s) of {owner} in {org} \
         (the leaked one cannot be told apart): {}",
        list.len(),
        names.join(", ")
    );
    match decide(options.confirm, ask, target, &plan) {
        Decision::DryRun => {
            let mut entry =
                target.entry(provider, Outcome::WouldRevoke, format!("would use {plan}"));
            entry.dry_run = true;
            entry
        }
        Decision::Declined => target.entry(
            provider,
            Outcome::Declined,
            format!("not revoked: declined; {owner} can revoke it at {page}"),
        ),
        Decision::Go => {
            let ids: Vec<&str> = list.iter().map(|a| a.id.as_str()).collect();
            let attempt =
                azure_devops::revoke_authorizations(http, base, org, &ids, admin.expose());
            let mut entry = attempted(target, Provider::AzureDevops, attempt);
            if entry.outcome == Outcome::Revoked {
                entry.reason = format!("{}: {}", entry.reason, names.join(", "));
            }
            entry
        }
    }
}

/// A last guard: no reason text may carry the token.
fn scrub(reason: String, secret: &Secret) -> String {
    let token = secret.expose();
    if !token.is_empty() && reason.contains(token) {
        reason.replace(token, "[token]")
    } else {
        reason
    }
}

/// Now, UTC, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

/// Seconds since the epoch as RFC 3339 UTC.
fn rfc3339(secs: u64) -> String {
    format!("{}Z", crate::civil_time::utc_timestamp(secs as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Confidence;
    use crate::model::LiveInfo;
    use crate::model::Origin;
    use crate::net::Policy;
    use std::io::{BufRead, BufReader, Read};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A loopback server answering every request with 202, counting them.
    fn accepting_server() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(&stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                seen.fetch_add(1, Ordering::SeqCst);
                let _ = (&stream).write_all(
                    b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                );
            }
        });
        (url, count)
    }

    fn finding(n: u64) -> Finding {
        Finding {
            repository: None,
            details: Vec::new(),
            rule_id: "github-classic-pat".into(),
            rule_name: String::new(),
            confidence: Confidence::High,
            validation: "checksum",
            path: "x".into(),
            origin: Origin::File,
            line: 1,
            column: 1,
            end_column: 41,
            secret: Secret::new(format!("ghp_{n:036}")),
            snippet: String::new(),
            encoding: None,
            line_hash: None,
            allowed_by: None,
            live: LiveInfo::default(),
        }
    }

    #[test]
    fn github_batches_stop_at_the_request_limit() {
        let (url, requests) = accepting_server();
        let http = Http::new(Policy {
            loopback_emulator: true,
            rate_per_host: 1000.0,
            ..Policy::default()
        })
        .unwrap();
        let findings: Vec<Finding> = (0..5).map(finding).collect();
        let targets = findings
            .iter()
            .map(|f| Target {
                finding: f,
                verification: None,
            })
            .collect();
        let mut out = Vec::new();
        let mut journal = Journal::new(&mut out, None);
        let limits = BatchLimits {
            size: 2,
            requests: 2,
        };
        revoke_github_batches(targets, &url, &http, limits, &mut journal).unwrap();
        let done = journal.finish();
        assert_eq!(requests.load(Ordering::SeqCst), 2);
        assert_eq!(done.count(Outcome::Revoked), 4);
        assert_eq!(done.count(Outcome::Failed), 1);
        assert!(done.entries[4]
            .reason
            .contains("2 revocation requests an hour"));
        assert!(done.incomplete());
        let printed = String::from_utf8(out).unwrap();
        assert!(!printed.contains(findings[0].secret.expose()));
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_825_600), "2000-02-29T12:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
    }
}
