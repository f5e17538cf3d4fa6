//! What a live check found out about a token, as every report shows it:
//! the status, the issuer asked, what the token may do and how bad its leak
//! is. Plain data: `live/` computes it, `report/` renders it, and neither
//! needs the other for that.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Access, Finding};

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

/// Declares [`Provider`] from one list of `Variant => "key"` lines, so the
/// enum, [`Provider::ALL`] and the keys cannot disagree.
macro_rules! providers {
    ($($(#[$doc:meta])* $variant:ident => $key:literal,)*) => {
        /// The issuers patscan can check. Their keys name them in
        /// `PATSCAN_ENDPOINT_OVERRIDES` and in reports.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Provider {
            $($(#[$doc])* $variant,)*
        }

        impl Provider {
            pub const ALL: &'static [Provider] = &[$(Provider::$variant,)*];

            pub fn key(self) -> &'static str {
                match self {
                    $(Provider::$variant => $key,)*
                }
            }
        }
    };
}

providers! {
    // Each with a module of its own in `live/`.
    AzureDevops => "azure-devops",
    Github => "github",
    Gitlab => "gitlab",
    Npm => "npm",
    Huggingface => "huggingface",
    Slack => "slack",
    Grafana => "grafana",
    Vercel => "vercel",
    Cloudflare => "cloudflare",
    Digitalocean => "digitalocean",
    Sentry => "sentry",
    Stripe => "stripe",
    Doppler => "doppler",
    Shopify => "shopify",
    Buildkite => "buildkite",
    Heroku => "heroku",
    Vault => "vault",
    Postman => "postman",
    Cratesio => "crates-io",
    // Checked by one identity call each, from `live::identity`'s table.
    Openai => "openai",
    Anthropic => "anthropic",
    Groq => "groq",
    Mistral => "mistral",
    Cohere => "cohere",
    Replicate => "replicate",
    Deepseek => "deepseek",
    Xai => "xai",
    Openrouter => "openrouter",
    Cerebras => "cerebras",
    Togetherai => "together-ai",
    Elevenlabs => "elevenlabs",
    Deepgram => "deepgram",
    Deepl => "deepl",
    Sendgrid => "sendgrid",
    Mailchimp => "mailchimp",
    Mailgun => "mailgun",
    Brevo => "brevo",
    Datadog => "datadog",
    Newrelic => "new-relic",
    Pagerduty => "pagerduty",
    Honeycomb => "honeycomb",
    Opsgenie => "opsgenie",
    Rootly => "rootly",
    Snyk => "snyk",
    Asana => "asana",
    Dropbox => "dropbox",
    Square => "square",
    Notion => "notion",
    Linear => "linear",
    Airtable => "airtable",
    Figma => "figma",
    Netlify => "netlify",
    Render => "render",
    Supabase => "supabase",
    Pulumi => "pulumi",
    Circleci => "circleci",
    Discord => "discord",
    Telegram => "telegram",
    Facebook => "facebook",
    Webex => "webex",
    Linode => "linode",
    Vultr => "vultr",
    Hetzner => "hetzner",
    Upcloud => "upcloud",
    Fastly => "fastly",
    Typeform => "typeform",
    Intercom => "intercom",
    Hubspot => "hubspot",
    Klaviyo => "klaviyo",
    Pinecone => "pinecone",
    Neon => "neon",
    Launchdarkly => "launchdarkly",
    Contentful => "contentful",
    Clickup => "clickup",
    Prefect => "prefect",
    Coda => "coda",
    Eventbrite => "eventbrite",
    Rubygems => "rubygems",
    Sonarcloud => "sonarcloud",
    Cloudsmith => "cloudsmith",
}

impl Provider {
    pub fn from_key(key: &str) -> Option<Provider> {
        Provider::ALL.iter().copied().find(|p| p.key() == key)
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
    /// only; `live::severity` computes it, the README gives the mapping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
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
    pub access: Option<Access>,
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

/// How bad a live token's leak is (`live::severity` says how it is
/// decided, per issuer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
