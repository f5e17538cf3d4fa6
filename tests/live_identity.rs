//! The identity-call issuers (`live::identity`'s table), end to end: the
//! real binary against a loopback emulator that knows, independently of the
//! code, what each issuer's documented call looks like (host, method, path,
//! where the token goes, required headers) and how the issuer answers. For
//! every provider: an active token is active and shows who it belongs to,
//! the documented rejection is inactive, a 429, a 500 and an HTML page are
//! unknown; the request carried the token exactly where the issuer
//! documents it, went to the issuer's own host and path; no token appears
//! in any output. Issuers with several hosts (regions, sandbox) are asked
//! host by host and are inactive only when every host rejected the token.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use common::{patscan, token, Run};
use serde_json::Value;

/// Where the issuer documents the token travels.
#[derive(Clone, Copy)]
enum Carry {
    Bearer,
    /// `Authorization: T`.
    Raw,
    /// `Authorization: PREFIX T`.
    Prefixed(&'static str),
    /// A header of its own (lower-case).
    Header(&'static str),
    /// Basic with this `user:password` pattern, `{t}` the token.
    Basic(&'static str),
    /// In the path, where `{t}` is in `Spec::path`.
    Path,
}

/// What the test knows of one issuer's identity call, from its docs.
struct Spec {
    /// The provider's key in `PATSCAN_ENDPOINT_OVERRIDES` and reports.
    key: &'static str,
    rule: &'static str,
    /// A line of a file in which the rule finds `{t}`.
    line: &'static str,
    /// The hosts the token must be asked at, in order.
    hosts: fn(&str) -> Vec<String>,
    method: &'static str,
    path: &'static str,
    carry: Carry,
    /// Headers the call must carry (lower-case names).
    headers: &'static [(&'static str, &'static str)],
    /// Text the request body must contain (a GraphQL query).
    body: Option<&'static str>,
    /// The issuer's answer for a working token, and its headers.
    active: &'static str,
    active_headers: &'static [(&'static str, &'static str)],
    /// Text the active verification must show (owner, organisation, scope).
    shows: &'static str,
    /// The issuer's documented answer for a bad token.
    rejected: (u16, &'static str),
}

macro_rules! hosts {
    ($($h:literal),+) => {
        |_t: &str| vec![$($h.to_string()),+]
    };
}

const SPECS: &[Spec] = &[
    Spec {
        key: "openai",
        rule: "openai-api-key",
        line: "OPENAI_API_KEY={t}",
        hosts: hosts!("api.openai.com"),
        method: "GET",
        path: "/v1/models",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"object":"list","data":[{"id":"gpt-x","object":"model"}]}"#,
        active_headers: &[("openai-organization", "acme-ml")],
        shows: "acme-ml",
        rejected: (
            401,
            r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
        ),
    },
    Spec {
        key: "anthropic",
        rule: "anthropic-api-key",
        line: "ANTHROPIC_API_KEY={t}",
        hosts: hosts!("api.anthropic.com"),
        method: "GET",
        path: "/v1/models",
        carry: Carry::Header("x-api-key"),
        headers: &[("anthropic-version", "2023-06-01")],
        body: None,
        active: r#"{"data":[{"id":"claude-x","type":"model"}],"has_more":false}"#,
        active_headers: &[("anthropic-organization-id", "org-acme-anthropic")],
        shows: "org-acme-anthropic",
        rejected: (
            401,
            r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
        ),
    },
    Spec {
        key: "groq",
        rule: "groq-api-key",
        line: "GROQ_API_KEY={t}",
        hosts: hosts!("api.groq.com"),
        method: "GET",
        path: "/openai/v1/models",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"object":"list","data":[]}"#,
        active_headers: &[],
        shows: "",
        rejected: (
            401,
            r#"{"error":{"message":"Invalid API Key","type":"invalid_request_error","code":"invalid_api_key"}}"#,
        ),
    },
    Spec {
        key: "mistral",
        rule: "mistral-api-key",
        line: "MISTRAL_API_KEY={t}",
        hosts: hosts!("api.mistral.ai"),
        method: "GET",
        path: "/v1/models",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"object":"list","data":[]}"#,
        active_headers: &[],
        shows: "",
        rejected: (401, r#"{"message":"Unauthorized","request_id":"r1"}"#),
    },
    Spec {
        key: "cohere",
        rule: "cohere-api-key",
        line: "COHERE_API_KEY={t}",
        hosts: hosts!("api.cohere.com"),
        method: "POST",
        path: "/v1/check-api-key",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"valid":true,"organization_id":"org-acme-cohere","owner_id":"owner-7"}"#,
        active_headers: &[],
        shows: "org-acme-cohere",
        rejected: (401, r#"{"message":"invalid api token"}"#),
    },
    Spec {
        key: "replicate",
        rule: "replicate-api-token",
        line: "REPLICATE_API_TOKEN={t}",
        hosts: hosts!("api.replicate.com"),
        method: "GET",
        path: "/v1/account",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"type":"organization","username":"acme-replicate","name":"Acme ML"}"#,
        active_headers: &[],
        shows: "acme-replicate",
        rejected: (
            401,
            r#"{"title":"Unauthenticated","detail":"You did not pass a valid authentication token","status":401}"#,
        ),
    },
    Spec {
        key: "deepseek",
        rule: "deepseek-api-key",
        line: "DEEPSEEK_API_KEY={t}",
        hosts: hosts!("api.deepseek.com"),
        method: "GET",
        path: "/user/balance",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"is_available":true,"balance_infos":[{"currency":"USD","total_balance":"1.00"}]}"#,
        active_headers: &[],
        shows: "",
        rejected: (
            401,
            r#"{"error":{"message":"Authentication Fails, Your api key is invalid","type":"authentication_error"}}"#,
        ),
    },
    Spec {
        key: "xai",
        rule: "xai-api-key",
        line: "XAI_API_KEY={t}",
        hosts: hosts!("api.x.ai"),
        method: "GET",
        path: "/v1/api-key",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"api_key_id":"k1","name":"xai-ci-key","team_id":"team-acme","acls":["api-key:model:*"],"api_key_blocked":false,"api_key_disabled":false,"team_blocked":false}"#,
        active_headers: &[],
        shows: "xai-ci-key",
        rejected: (
            400,
            r#"{"code":"Client specified an invalid argument","error":"Incorrect API key provided"}"#,
        ),
    },
    Spec {
        key: "openrouter",
        rule: "openrouter-api-key",
        line: "OPENROUTER_API_KEY={t}",
        hosts: hosts!("openrouter.ai"),
        method: "GET",
        path: "/api/v1/key",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"data":{"label":"router-ci","usage":0,"limit":null}}"#,
        active_headers: &[],
        shows: "router-ci",
        rejected: (
            401,
            r#"{"error":{"message":"No auth credentials found","code":401}}"#,
        ),
    },
    Spec {
        key: "cerebras",
        rule: "cerebras-api-key",
        line: "CEREBRAS_API_KEY={t}",
        hosts: hosts!("api.cerebras.ai"),
        method: "GET",
        path: "/v1/models",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"object":"list","data":[]}"#,
        active_headers: &[],
        shows: "",
        rejected: (
            401,
            r#"{"message":"Wrong API Key","type":"invalid_request_error"}"#,
        ),
    },
    Spec {
        key: "together-ai",
        rule: "togetherai-api-key",
        line: "TOGETHER_API_KEY={t}",
        hosts: hosts!("api.together.xyz"),
        method: "GET",
        path: "/v1/models",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"[{"id":"meta-llama/x","object":"model"}]"#,
        active_headers: &[],
        shows: "",
        rejected: (401, r#"{"error":{"message":"Invalid API key provided"}}"#),
    },
    Spec {
        key: "elevenlabs",
        rule: "elevenlabs-api-key",
        line: "ELEVENLABS_API_KEY={t}",
        hosts: hosts!("api.elevenlabs.io"),
        method: "GET",
        path: "/v1/user",
        carry: Carry::Header("xi-api-key"),
        headers: &[],
        body: None,
        active: r#"{"user_id":"el-user-1","subscription":{"tier":"free"}}"#,
        active_headers: &[],
        shows: "el-user-1",
        rejected: (
            401,
            r#"{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}"#,
        ),
    },
    Spec {
        key: "deepgram",
        rule: "deepgram-api-key",
        line: "DEEPGRAM_API_KEY={t}",
        hosts: hosts!("api.deepgram.com"),
        method: "GET",
        path: "/v1/projects",
        carry: Carry::Prefixed("Token "),
        headers: &[],
        body: None,
        active: r#"{"projects":[{"project_id":"p1","name":"Acme Voice"}]}"#,
        active_headers: &[],
        shows: "Acme Voice",
        rejected: (
            401,
            r#"{"err_code":"INVALID_AUTH","err_msg":"Invalid credentials."}"#,
        ),
    },
    Spec {
        key: "deepl",
        rule: "deepl-api-key",
        line: "DEEPL_AUTH_KEY={t}",
        hosts: |t: &str| {
            vec![if t.ends_with(":fx") {
                "api-free.deepl.com".to_string()
            } else {
                "api.deepl.com".to_string()
            }]
        },
        method: "GET",
        path: "/v2/usage",
        carry: Carry::Prefixed("DeepL-Auth-Key "),
        headers: &[],
        body: None,
        active: r#"{"character_count":180118,"character_limit":1250000}"#,
        active_headers: &[],
        shows: "",
        rejected: (403, r#"{"message":"Forbidden"}"#),
    },
    Spec {
        key: "sendgrid",
        rule: "sendgrid-api-key",
        line: "SENDGRID_API_KEY={t}",
        hosts: hosts!("api.sendgrid.com"),
        method: "GET",
        path: "/v3/scopes",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"scopes":["mail.send","alerts.read"]}"#,
        active_headers: &[],
        shows: "mail.send",
        rejected: (
            401,
            r#"{"errors":[{"field":null,"message":"authorization required"}]}"#,
        ),
    },
    Spec {
        key: "mailchimp",
        rule: "mailchimp-api-key",
        line: "MAILCHIMP_API_KEY={t}",
        hosts: |t: &str| {
            let dc = t.rsplit('-').next().unwrap();
            vec![format!("{dc}.api.mailchimp.com")]
        },
        method: "GET",
        path: "/3.0/",
        carry: Carry::Basic("patscan:{t}"),
        headers: &[],
        body: None,
        active: r#"{"account_id":"a1","account_name":"Acme Mail","email":"mc@acme.example"}"#,
        active_headers: &[],
        shows: "mc@acme.example",
        rejected: (
            401,
            r#"{"type":"https://mailchimp.com/developer/marketing/docs/errors/","title":"API Key Invalid","status":401}"#,
        ),
    },
    Spec {
        key: "mailgun",
        rule: "mailgun-api-key",
        line: "MAILGUN_API_KEY={t}",
        hosts: hosts!("api.mailgun.net", "api.eu.mailgun.net"),
        method: "GET",
        path: "/v3/domains?limit=1",
        carry: Carry::Basic("api:{t}"),
        headers: &[],
        body: None,
        active: r#"{"total_count":1,"items":[{"name":"mg.acme.example"}]}"#,
        active_headers: &[],
        shows: "mg.acme.example",
        rejected: (401, "Forbidden"),
    },
    Spec {
        key: "brevo",
        rule: "brevo-api-key",
        line: "BREVO_API_KEY={t}",
        hosts: hosts!("api.brevo.com"),
        method: "GET",
        path: "/v3/account",
        carry: Carry::Header("api-key"),
        headers: &[],
        body: None,
        active: r#"{"email":"brevo@acme.example","companyName":"Acme"}"#,
        active_headers: &[],
        shows: "brevo@acme.example",
        rejected: (401, r#"{"code":"unauthorized","message":"Key not found"}"#),
    },
    Spec {
        key: "datadog",
        rule: "datadog-api-key",
        line: "DD_API_KEY={t}",
        hosts: hosts!(
            "api.datadoghq.com",
            "api.us3.datadoghq.com",
            "api.us5.datadoghq.com",
            "api.datadoghq.eu",
            "api.ap1.datadoghq.com",
            "api.ap2.datadoghq.com",
            "api.uk1.datadoghq.com",
            "api.ddog-gov.com",
            "api.us2.ddog-gov.com"
        ),
        method: "GET",
        path: "/api/v1/validate",
        carry: Carry::Header("dd-api-key"),
        headers: &[],
        body: None,
        active: r#"{"valid":true}"#,
        active_headers: &[],
        shows: "",
        rejected: (403, r#"{"errors":["Forbidden"]}"#),
    },
    Spec {
        key: "new-relic",
        rule: "newrelic-user-api-key",
        line: "NEW_RELIC_API_KEY={t}",
        hosts: hosts!("api.newrelic.com", "api.eu.newrelic.com"),
        method: "POST",
        path: "/graphql",
        carry: Carry::Header("api-key"),
        headers: &[],
        body: Some("actor { user"),
        active: r#"{"data":{"actor":{"user":{"name":"Ada","email":"nr@acme.example"}}}}"#,
        active_headers: &[],
        shows: "nr@acme.example",
        rejected: (401, r#"{"errors":[{"message":"Invalid API key"}]}"#),
    },
    Spec {
        key: "pagerduty",
        rule: "pagerduty-api-key",
        line: "PAGERDUTY_API_KEY={t}",
        hosts: hosts!("api.pagerduty.com", "api.eu.pagerduty.com"),
        method: "GET",
        path: "/abilities",
        carry: Carry::Prefixed("Token token="),
        headers: &[("accept", "application/vnd.pagerduty+json;version=2")],
        body: None,
        active: r#"{"abilities":["teams","read_only_users"]}"#,
        active_headers: &[],
        shows: "",
        rejected: (
            401,
            r#"{"error":{"message":"Authentication failed","code":2006}}"#,
        ),
    },
    Spec {
        key: "pagerduty",
        rule: "pagerduty-user-token",
        line: "PAGERDUTY_TOKEN={t}",
        hosts: hosts!("api.pagerduty.com", "api.eu.pagerduty.com"),
        method: "GET",
        path: "/abilities",
        carry: Carry::Prefixed("Token token="),
        headers: &[("accept", "application/vnd.pagerduty+json;version=2")],
        body: None,
        active: r#"{"abilities":["teams"]}"#,
        active_headers: &[],
        shows: "",
        rejected: (
            401,
            r#"{"error":{"message":"Authentication failed","code":2006}}"#,
        ),
    },
    Spec {
        key: "honeycomb",
        rule: "honeycomb-ingest-key",
        line: "HONEYCOMB_API_KEY={t}",
        hosts: hosts!("api.honeycomb.io", "api.eu1.honeycomb.io"),
        method: "GET",
        path: "/1/auth",
        carry: Carry::Header("x-honeycomb-team"),
        headers: &[],
        body: None,
        active: r#"{"id":"k1","type":"ingest","team":{"name":"Acme Obs","slug":"acme"},"environment":{"name":"prod","slug":"prod"}}"#,
        active_headers: &[],
        shows: "Acme Obs",
        rejected: (
            401,
            r#"{"error":"unknown API key - check your credentials"}"#,
        ),
    },
    Spec {
        key: "opsgenie",
        rule: "opsgenie-api-key",
        line: "OPSGENIE_API_KEY={t}",
        hosts: hosts!("api.opsgenie.com", "api.eu.opsgenie.com"),
        method: "GET",
        path: "/v2/account",
        carry: Carry::Prefixed("GenieKey "),
        headers: &[],
        body: None,
        active: r#"{"data":{"name":"acme-ops","userCount":3},"took":0.01,"requestId":"r1"}"#,
        active_headers: &[],
        shows: "acme-ops",
        rejected: (
            401,
            r#"{"message":"Could not authenticate","took":0.0,"requestId":"r1"}"#,
        ),
    },
    Spec {
        key: "rootly",
        rule: "rootly-api-key",
        line: "ROOTLY_API_TOKEN={t}",
        hosts: hosts!("api.rootly.com"),
        method: "GET",
        path: "/v1/users/me",
        carry: Carry::Bearer,
        headers: &[("accept", "application/vnd.api+json")],
        body: None,
        active: r#"{"data":{"id":"1","type":"users","attributes":{"email":"rootly@acme.example"}}}"#,
        active_headers: &[],
        shows: "rootly@acme.example",
        rejected: (401, r#"{"errors":[{"title":"Unauthorized"}]}"#),
    },
    Spec {
        key: "snyk",
        rule: "snyk-api-token",
        line: "SNYK_TOKEN={t}",
        hosts: hosts!(
            "api.snyk.io",
            "api.us.snyk.io",
            "api.eu.snyk.io",
            "api.au.snyk.io"
        ),
        method: "GET",
        path: "/rest/self?version=2024-06-10",
        carry: Carry::Prefixed("token "),
        headers: &[("accept", "application/vnd.api+json")],
        body: None,
        active: r#"{"data":{"id":"u1","type":"user","attributes":{"name":"Ada","username":"ada","email":"snyk@acme.example"}}}"#,
        active_headers: &[],
        shows: "snyk@acme.example",
        rejected: (401, r#"{"status":"401","code":"Unauthorized"}"#),
    },
    Spec {
        key: "asana",
        rule: "asana-personal-access-token",
        line: "ASANA_ACCESS_TOKEN={t}",
        hosts: hosts!("app.asana.com"),
        method: "GET",
        path: "/api/1.0/users/me",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"data":{"gid":"1","email":"asana@acme.example","name":"Ada","workspaces":[{"gid":"2","name":"Acme"}]}}"#,
        active_headers: &[],
        shows: "asana@acme.example",
        rejected: (401, r#"{"errors":[{"message":"Not Authorized"}]}"#),
    },
    Spec {
        key: "asana",
        rule: "asana-legacy-token",
        line: "ASANA_TOKEN={t}",
        hosts: hosts!("app.asana.com"),
        method: "GET",
        path: "/api/1.0/users/me",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"data":{"gid":"1","email":"asana-legacy@acme.example"}}"#,
        active_headers: &[],
        shows: "asana-legacy@acme.example",
        rejected: (401, r#"{"errors":[{"message":"Not Authorized"}]}"#),
    },
    Spec {
        key: "dropbox",
        rule: "dropbox-long-lived-token",
        line: "DROPBOX_ACCESS_TOKEN={t}",
        hosts: hosts!("api.dropboxapi.com"),
        method: "POST",
        path: "/2/users/get_current_account",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"account_id":"dbid:1","name":{"display_name":"Ada"},"email":"dropbox@acme.example"}"#,
        active_headers: &[],
        shows: "dropbox@acme.example",
        rejected: (
            401,
            r#"{"error_summary":"invalid_access_token/","error":{".tag":"invalid_access_token"}}"#,
        ),
    },
    Spec {
        key: "square",
        rule: "square-access-token",
        line: "SQUARE_ACCESS_TOKEN={t}",
        hosts: hosts!("connect.squareup.com", "connect.squareupsandbox.com"),
        method: "GET",
        path: "/v2/merchants/me",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"merchant":{"id":"M1","business_name":"Acme Coffee"}}"#,
        active_headers: &[],
        shows: "Acme Coffee",
        rejected: (
            401,
            r#"{"errors":[{"category":"AUTHENTICATION_ERROR","code":"UNAUTHORIZED","detail":"This request could not be authorized."}]}"#,
        ),
    },
    Spec {
        key: "square",
        rule: "square-legacy-access-token",
        line: "SQUARE_TOKEN={t}",
        hosts: hosts!("connect.squareup.com", "connect.squareupsandbox.com"),
        method: "GET",
        path: "/v2/merchants/me",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"merchant":{"id":"M2","business_name":"Acme Bakery"}}"#,
        active_headers: &[],
        shows: "Acme Bakery",
        rejected: (
            401,
            r#"{"errors":[{"category":"AUTHENTICATION_ERROR","code":"ACCESS_TOKEN_REVOKED"}]}"#,
        ),
    },
    Spec {
        key: "notion",
        rule: "notion-integration-token",
        line: "NOTION_TOKEN={t}",
        hosts: hosts!("api.notion.com"),
        method: "GET",
        path: "/v1/users/me",
        carry: Carry::Bearer,
        headers: &[("notion-version", "2022-06-28")],
        body: None,
        active: r#"{"object":"user","id":"u1","name":"Acme Bot","type":"bot","bot":{"workspace_name":"Acme Wiki"}}"#,
        active_headers: &[],
        shows: "Acme Wiki",
        rejected: (
            401,
            r#"{"object":"error","status":401,"code":"unauthorized","message":"API token is invalid."}"#,
        ),
    },
    Spec {
        key: "notion",
        rule: "notion-legacy-integration-token",
        line: "NOTION_TOKEN={t}",
        hosts: hosts!("api.notion.com"),
        method: "GET",
        path: "/v1/users/me",
        carry: Carry::Bearer,
        headers: &[("notion-version", "2022-06-28")],
        body: None,
        active: r#"{"object":"user","id":"u2","name":"Legacy Bot","type":"bot","bot":{}}"#,
        active_headers: &[],
        shows: "Legacy Bot",
        rejected: (
            401,
            r#"{"object":"error","status":401,"code":"unauthorized","message":"API token is invalid."}"#,
        ),
    },
    Spec {
        key: "linear",
        rule: "linear-api-key",
        line: "LINEAR_API_KEY={t}",
        hosts: hosts!("api.linear.app"),
        method: "POST",
        path: "/graphql",
        carry: Carry::Raw,
        headers: &[],
        body: Some("viewer"),
        active: r#"{"data":{"viewer":{"id":"u1","name":"Ada","email":"linear@acme.example","organization":{"name":"Acme"}}}}"#,
        active_headers: &[],
        shows: "linear@acme.example",
        rejected: (
            400,
            r#"{"errors":[{"message":"Authentication required, not authenticated","extensions":{"code":"AUTHENTICATION_ERROR","type":"authentication error"}}]}"#,
        ),
    },
    Spec {
        key: "airtable",
        rule: "airtable-personal-access-token",
        line: "AIRTABLE_TOKEN={t}",
        hosts: hosts!("api.airtable.com"),
        method: "GET",
        path: "/v0/meta/whoami",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"id":"usr1","email":"airtable@acme.example","scopes":["data.records:read"]}"#,
        active_headers: &[],
        shows: "data.records:read",
        rejected: (
            401,
            r#"{"error":{"type":"AUTHENTICATION_REQUIRED","message":"Authentication required"}}"#,
        ),
    },
    Spec {
        key: "figma",
        rule: "figma-personal-access-token",
        line: "FIGMA_TOKEN={t}",
        hosts: hosts!("api.figma.com"),
        method: "GET",
        path: "/v1/me",
        carry: Carry::Header("x-figma-token"),
        headers: &[],
        body: None,
        active: r#"{"id":"1","email":"figma@acme.example","handle":"ada"}"#,
        active_headers: &[],
        shows: "figma@acme.example",
        rejected: (403, r#"{"status":403,"err":"Invalid token"}"#),
    },
    Spec {
        key: "netlify",
        rule: "netlify-personal-access-token",
        line: "NETLIFY_AUTH_TOKEN={t}",
        hosts: hosts!("api.netlify.com"),
        method: "GET",
        path: "/api/v1/user",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"id":"1","email":"netlify@acme.example","full_name":"Ada"}"#,
        active_headers: &[],
        shows: "netlify@acme.example",
        rejected: (401, r#"{"code":401,"message":"Access Denied"}"#),
    },
    Spec {
        key: "render",
        rule: "render-api-key",
        line: "RENDER_API_KEY={t}",
        hosts: hosts!("api.render.com"),
        method: "GET",
        path: "/v1/owners?limit=1",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"[{"owner":{"id":"o1","name":"Acme","email":"render@acme.example","type":"team"},"cursor":"c1"}]"#,
        active_headers: &[],
        shows: "render@acme.example",
        rejected: (401, r#"{"message":"unauthorized"}"#),
    },
    Spec {
        key: "supabase",
        rule: "supabase-access-token",
        line: "SUPABASE_ACCESS_TOKEN={t}",
        hosts: hosts!("api.supabase.com"),
        method: "GET",
        path: "/v1/organizations",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"[{"id":"org1","name":"Acme DB"}]"#,
        active_headers: &[],
        shows: "Acme DB",
        rejected: (401, r#"{"message":"Unauthorized"}"#),
    },
    Spec {
        key: "pulumi",
        rule: "pulumi-access-token",
        line: "PULUMI_ACCESS_TOKEN={t}",
        hosts: hosts!("api.pulumi.com"),
        method: "GET",
        path: "/api/user",
        carry: Carry::Prefixed("token "),
        headers: &[("accept", "application/vnd.pulumi+8")],
        body: None,
        active: r#"{"githubLogin":"ada-pulumi","name":"Ada","email":"p@acme.example","organizations":[{"githubLogin":"acme"}]}"#,
        active_headers: &[],
        shows: "ada-pulumi",
        rejected: (
            401,
            r#"{"code":401,"message":"Unauthorized: No credentials provided or are invalid."}"#,
        ),
    },
    Spec {
        key: "circleci",
        rule: "circleci-personal-token",
        line: "CIRCLECI_TOKEN={t}",
        hosts: hosts!("circleci.com"),
        method: "GET",
        path: "/api/v2/me",
        carry: Carry::Header("circle-token"),
        headers: &[],
        body: None,
        active: r#"{"id":"u1","login":"ada-ci","name":"Ada"}"#,
        active_headers: &[],
        shows: "ada-ci",
        rejected: (401, r#"{"message":"You must log in first."}"#),
    },
    Spec {
        key: "discord",
        rule: "discord-bot-token",
        line: "DISCORD_BOT_TOKEN={t}",
        hosts: hosts!("discord.com"),
        method: "GET",
        path: "/api/v10/users/@me",
        carry: Carry::Prefixed("Bot "),
        headers: &[],
        body: None,
        active: r#"{"id":"1","username":"acme-bot","bot":true}"#,
        active_headers: &[],
        shows: "acme-bot",
        rejected: (401, r#"{"message":"401: Unauthorized","code":0}"#),
    },
    Spec {
        key: "telegram",
        rule: "telegram-bot-token",
        line: "TELEGRAM_BOT_TOKEN={t}",
        hosts: hosts!("api.telegram.org"),
        method: "GET",
        path: "/bot{t}/getMe",
        carry: Carry::Path,
        headers: &[],
        body: None,
        active: r#"{"ok":true,"result":{"id":1,"is_bot":true,"username":"acme_alerts_bot"}}"#,
        active_headers: &[],
        shows: "acme_alerts_bot",
        rejected: (
            401,
            r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
        ),
    },
    Spec {
        key: "facebook",
        rule: "facebook-access-token",
        line: "FACEBOOK_ACCESS_TOKEN={t}",
        hosts: hosts!("graph.facebook.com"),
        method: "GET",
        path: "/me?fields=id,name",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"id":"1","name":"Acme Page"}"#,
        active_headers: &[],
        shows: "Acme Page",
        rejected: (
            400,
            r#"{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190,"fbtrace_id":"x"}}"#,
        ),
    },
    Spec {
        key: "webex",
        rule: "webex-access-token",
        line: "WEBEX_ACCESS_TOKEN={t}",
        hosts: hosts!("webexapis.com"),
        method: "GET",
        path: "/v1/people/me",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"id":"p1","emails":["webex@acme.example"],"displayName":"Ada"}"#,
        active_headers: &[],
        shows: "webex@acme.example",
        rejected: (
            401,
            r#"{"message":"The request requires a valid access token set in the Authorization request header."}"#,
        ),
    },
    Spec {
        key: "linode",
        rule: "linode-api-token",
        line: "LINODE_TOKEN={t}",
        hosts: hosts!("api.linode.com"),
        method: "GET",
        path: "/v4/profile",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"username":"ada-linode","email":"linode@acme.example"}"#,
        active_headers: &[],
        shows: "ada-linode",
        rejected: (401, r#"{"errors":[{"reason":"Invalid Token"}]}"#),
    },
    Spec {
        key: "vultr",
        rule: "vultr-api-key",
        line: "VULTR_API_KEY={t}",
        hosts: hosts!("api.vultr.com"),
        method: "GET",
        path: "/v2/account",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"account":{"name":"Acme","email":"vultr@acme.example","acls":["manage_users"]}}"#,
        active_headers: &[],
        shows: "vultr@acme.example",
        rejected: (401, r#"{"error":"Invalid API token.","status":401}"#),
    },
    Spec {
        key: "hetzner",
        rule: "hetzner-cloud-token",
        line: "HCLOUD_TOKEN={t}",
        hosts: hosts!("api.hetzner.cloud"),
        method: "GET",
        path: "/v1/servers?per_page=1",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"servers":[],"meta":{"pagination":{"page":1}}}"#,
        active_headers: &[],
        shows: "",
        rejected: (
            401,
            r#"{"error":{"code":"unauthorized","message":"unable to authenticate"}}"#,
        ),
    },
    Spec {
        key: "upcloud",
        rule: "upcloud-api-token",
        line: "UPCLOUD_TOKEN={t}",
        hosts: hosts!("api.upcloud.com"),
        method: "GET",
        path: "/1.3/account",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"account":{"username":"acme-upcloud","credits":1}}"#,
        active_headers: &[],
        shows: "acme-upcloud",
        rejected: (
            401,
            r#"{"error":{"error_code":"AUTHENTICATION_FAILED","error_message":"Authentication failed."}}"#,
        ),
    },
    Spec {
        key: "fastly",
        rule: "fastly-api-token",
        line: "FASTLY_API_TOKEN={t}",
        hosts: hosts!("api.fastly.com"),
        method: "GET",
        path: "/tokens/self",
        carry: Carry::Header("fastly-key"),
        headers: &[],
        body: None,
        active: r#"{"id":"t1","name":"fastly-ci","scope":"global:read purge_select","expires_at":"2031-01-01T00:00:00Z"}"#,
        active_headers: &[],
        shows: "purge_select",
        rejected: (
            401,
            r#"{"msg":"Provided credentials are missing or invalid"}"#,
        ),
    },
    Spec {
        key: "typeform",
        rule: "typeform-personal-access-token",
        line: "TYPEFORM_TOKEN={t}",
        hosts: hosts!("api.typeform.com", "api.eu.typeform.com"),
        method: "GET",
        path: "/me",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"alias":"ada","email":"typeform@acme.example"}"#,
        active_headers: &[],
        shows: "typeform@acme.example",
        rejected: (
            401,
            r#"{"code":"AUTHENTICATION_FAILED","description":"Authentication credentials not found on the Request Headers"}"#,
        ),
    },
    Spec {
        key: "intercom",
        rule: "intercom-access-token",
        line: "INTERCOM_TOKEN={t}",
        hosts: hosts!(
            "api.intercom.io",
            "api.eu.intercom.io",
            "api.au.intercom.io"
        ),
        method: "GET",
        path: "/me",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"type":"admin","id":"1","email":"intercom@acme.example","app":{"name":"Acme Support"}}"#,
        active_headers: &[],
        shows: "Acme Support",
        rejected: (
            401,
            r#"{"type":"error.list","errors":[{"code":"unauthorized","message":"Access Token Invalid"}]}"#,
        ),
    },
    Spec {
        key: "hubspot",
        rule: "hubspot-private-app-token",
        line: "HUBSPOT_TOKEN={t}",
        hosts: hosts!("api.hubapi.com"),
        method: "GET",
        path: "/account-info/v3/details",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"portalId":424242,"uiDomain":"app.hubspot.com"}"#,
        active_headers: &[],
        shows: "424242",
        rejected: (
            401,
            r#"{"status":"error","message":"Authentication credentials not found.","category":"INVALID_AUTHENTICATION"}"#,
        ),
    },
    Spec {
        key: "klaviyo",
        rule: "klaviyo-private-key",
        line: "KLAVIYO_PRIVATE_KEY={t}",
        hosts: hosts!("a.klaviyo.com"),
        method: "GET",
        path: "/api/accounts",
        carry: Carry::Prefixed("Klaviyo-API-Key "),
        headers: &[
            ("revision", "2024-10-15"),
            ("accept", "application/vnd.api+json"),
        ],
        body: None,
        active: r#"{"data":[{"type":"account","id":"A1","attributes":{"contact_information":{"organization_name":"Acme Shop"}}}]}"#,
        active_headers: &[],
        shows: "Acme Shop",
        rejected: (
            401,
            r#"{"errors":[{"status":401,"code":"authentication_failed","title":"Incorrect authentication credentials."}]}"#,
        ),
    },
    Spec {
        key: "pinecone",
        rule: "pinecone-api-key",
        line: "PINECONE_API_KEY={t}",
        hosts: hosts!("api.pinecone.io"),
        method: "GET",
        path: "/indexes",
        carry: Carry::Header("api-key"),
        headers: &[("x-pinecone-api-version", "2024-07")],
        body: None,
        active: r#"{"indexes":[]}"#,
        active_headers: &[],
        shows: "",
        rejected: (
            401,
            r#"{"error":{"code":"UNAUTHENTICATED","message":"Invalid API Key"},"status":401}"#,
        ),
    },
    Spec {
        key: "neon",
        rule: "neon-api-key",
        line: "NEON_API_KEY={t}",
        hosts: hosts!("console.neon.tech"),
        method: "GET",
        path: "/api/v2/users/me",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"id":"u1","email":"neon@acme.example","name":"Ada"}"#,
        active_headers: &[],
        shows: "neon@acme.example",
        rejected: (401, r#"{"code":"","message":"authorization failed"}"#),
    },
    Spec {
        key: "launchdarkly",
        rule: "launchdarkly-access-token",
        line: "LAUNCHDARKLY_ACCESS_TOKEN={t}",
        hosts: hosts!(
            "app.launchdarkly.com",
            "app.eu.launchdarkly.com",
            "app.launchdarkly.us"
        ),
        method: "GET",
        path: "/api/v2/caller-identity",
        carry: Carry::Raw,
        headers: &[],
        body: None,
        active: r#"{"accountId":"acct-acme","memberId":"ld-member-1","tokenName":"ci"}"#,
        active_headers: &[],
        shows: "ld-member-1",
        rejected: (
            401,
            r#"{"code":"unauthorized","message":"Invalid account ID header"}"#,
        ),
    },
    Spec {
        key: "contentful",
        rule: "contentful-personal-access-token",
        line: "CONTENTFUL_MANAGEMENT_TOKEN={t}",
        hosts: hosts!("api.contentful.com", "api.eu.contentful.com"),
        method: "GET",
        path: "/users/me",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"sys":{"id":"u1","type":"User"},"email":"contentful@acme.example"}"#,
        active_headers: &[],
        shows: "contentful@acme.example",
        rejected: (
            401,
            r#"{"sys":{"type":"Error","id":"AccessTokenInvalid"},"message":"The access token you sent could not be found or is invalid."}"#,
        ),
    },
    Spec {
        key: "clickup",
        rule: "clickup-personal-token",
        line: "CLICKUP_TOKEN={t}",
        hosts: hosts!("api.clickup.com"),
        method: "GET",
        path: "/api/v2/user",
        carry: Carry::Raw,
        headers: &[],
        body: None,
        active: r#"{"user":{"id":1,"username":"ada","email":"clickup@acme.example"}}"#,
        active_headers: &[],
        shows: "clickup@acme.example",
        rejected: (401, r#"{"err":"Token invalid","ECODE":"OAUTH_025"}"#),
    },
    Spec {
        key: "prefect",
        rule: "prefect-api-key",
        line: "PREFECT_API_KEY={t}",
        hosts: hosts!("api.prefect.cloud"),
        method: "GET",
        path: "/api/me/",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"id":"u1","handle":"ada","email":"prefect@acme.example"}"#,
        active_headers: &[],
        shows: "prefect@acme.example",
        rejected: (401, r#"{"detail":"Unauthorized"}"#),
    },
    Spec {
        key: "coda",
        rule: "coda-api-token",
        line: "CODA_API_TOKEN={t}",
        hosts: hosts!("coda.io"),
        method: "GET",
        path: "/apis/v1/whoami",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"name":"Ada","loginId":"coda@acme.example","workspace":{"name":"Acme"}}"#,
        active_headers: &[],
        shows: "coda@acme.example",
        rejected: (
            401,
            r#"{"statusCode":401,"statusMessage":"Unauthorized","message":"Unauthorized"}"#,
        ),
    },
    Spec {
        key: "eventbrite",
        rule: "eventbrite-private-token",
        line: "EVENTBRITE_TOKEN={t}",
        hosts: hosts!("www.eventbriteapi.com"),
        method: "GET",
        path: "/v3/users/me/",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"id":"1","name":"Ada","emails":[{"email":"eventbrite@acme.example"}]}"#,
        active_headers: &[],
        shows: "eventbrite@acme.example",
        rejected: (
            401,
            r#"{"status_code":401,"error_description":"The OAuth token you provided was invalid.","error":"INVALID_AUTH"}"#,
        ),
    },
    Spec {
        key: "rubygems",
        rule: "rubygems-api-key",
        line: "GEM_HOST_API_KEY={t}",
        hosts: hosts!("rubygems.org"),
        method: "GET",
        path: "/api/v1/gems.json",
        carry: Carry::Raw,
        headers: &[],
        body: None,
        active: r#"[{"name":"acme-gem","downloads":1}]"#,
        active_headers: &[],
        shows: "",
        rejected: (
            401,
            "Access Denied. Please sign up for an account at https://rubygems.org",
        ),
    },
    Spec {
        key: "sonarcloud",
        rule: "sonarcloud-token",
        line: "SONAR_TOKEN={t}",
        hosts: hosts!("sonarcloud.io"),
        method: "GET",
        path: "/api/authentication/validate",
        carry: Carry::Bearer,
        headers: &[],
        body: None,
        active: r#"{"valid":true}"#,
        active_headers: &[],
        shows: "",
        rejected: (200, r#"{"valid":false}"#),
    },
    Spec {
        key: "cloudsmith",
        rule: "cloudsmith-api-key",
        line: "CLOUDSMITH_API_KEY={t}",
        hosts: hosts!("api.cloudsmith.io"),
        method: "GET",
        path: "/v1/user/self/",
        carry: Carry::Header("x-api-key"),
        headers: &[],
        body: None,
        active: r#"{"authenticated":true,"email":"cloudsmith@acme.example","slug":"ada"}"#,
        active_headers: &[],
        shows: "cloudsmith@acme.example",
        rejected: (401, r#"{"detail":"Invalid API key."}"#),
    },
];

// ------------------------------------------------------------------ emulator

/// What the emulator does with a token.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Behaviour {
    Active,
    /// Active at the host of this index only; rejected at the others.
    ActiveAt(usize),
    Rejected,
    RateLimited,
    ServerError,
    Html,
    /// This status and body, at every host.
    Answer(u16, &'static str),
}

/// One request as the emulator saw it.
#[derive(Debug, Clone)]
struct Seen {
    spec: usize,
    token: String,
    host: String,
    /// Path and query after the host segment.
    rest: String,
    /// Why the request is not the documented one, if it is not.
    mismatch: Option<String>,
}

#[derive(Default)]
struct State {
    tokens: HashMap<String, (usize, Behaviour)>,
    seen: Vec<Seen>,
    /// Requests whose token no spec knew.
    strays: Vec<String>,
}

struct Emulator {
    url: String,
    state: Arc<Mutex<State>>,
}

impl Emulator {
    fn start() -> Emulator {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state: Arc<Mutex<State>> = Arc::default();
        let shared = state.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                thread::spawn(move || serve(stream, state));
            }
        });
        Emulator { url, state }
    }

    fn set(&self, spec: usize, token: &str, behaviour: Behaviour) {
        self.state
            .lock()
            .unwrap()
            .tokens
            .insert(token.to_string(), (spec, behaviour));
    }

    fn seen(&self, token: &str) -> Vec<Seen> {
        self.state
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|s| s.token == token)
            .cloned()
            .collect()
    }

    fn mismatches(&self) -> Vec<Seen> {
        self.state
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|s| s.mismatch.is_some())
            .cloned()
            .collect()
    }

    fn strays(&self) -> Vec<String> {
        self.state.lock().unwrap().strays.clone()
    }

    /// Every table provider sent here.
    fn overrides(&self) -> String {
        let keys: BTreeSet<&str> = SPECS.iter().map(|s| s.key).collect();
        keys.iter()
            .map(|k| format!("{k}={}", self.url))
            .collect::<Vec<_>>()
            .join(",")
    }
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (k, v) = header.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The token as `carry` says the issuer expects it, if the request has it
/// there.
fn token_in(request: &Request, carry: Carry, path_after_host: &str, spec: &Spec) -> Option<String> {
    let auth = header(request, "authorization");
    match carry {
        Carry::Bearer => auth?.strip_prefix("Bearer ").map(str::to_string),
        Carry::Raw => auth.map(str::to_string),
        Carry::Prefixed(p) => auth?.strip_prefix(p).map(str::to_string),
        Carry::Header(name) => header(request, name).map(str::to_string),
        Carry::Basic(pattern) => {
            let encoded = auth?.strip_prefix("Basic ")?;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (before, after) = pattern.split_once("{t}")?;
            text.strip_prefix(before)?
                .strip_suffix(after)
                .map(str::to_string)
        }
        Carry::Path => {
            let (before, after) = spec.path.split_once("{t}")?;
            path_after_host
                .strip_prefix(before)?
                .strip_suffix(after)
                .map(str::to_string)
        }
    }
}

fn http(status: u16, content_type: &str, extra: &[(&str, &str)], body: &str) -> String {
    let mut out = format!(
        "HTTP/1.1 {status} Status\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out
}

fn content_type(body: &str) -> &'static str {
    if body.starts_with('{') || body.starts_with('[') {
        "application/json"
    } else {
        "text/plain"
    }
}

fn serve(stream: TcpStream, state: Arc<Mutex<State>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(clone);
    let mut writer = stream;
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    let response = answer(&request, &state);
    let _ = writer.write_all(response.as_bytes());
    let _ = writer.flush();
}

fn answer(request: &Request, state: &Mutex<State>) -> String {
    // The first path segment names the host patscan would have called.
    let target = request.target.trim_start_matches('/');
    let (host, rest) = target.split_once('/').unwrap_or((target, ""));
    let rest = format!("/{rest}");
    let mut state = state.lock().unwrap();
    let found = SPECS.iter().enumerate().find_map(|(i, spec)| {
        let t = token_in(request, spec.carry, &rest, spec)?;
        match state.tokens.get(&t) {
            Some((owner, b)) if *owner == i => Some((i, t, *b)),
            _ => None,
        }
    });
    let Some((index, token, behaviour)) = found else {
        state
            .strays
            .push(format!("{} {}", request.method, request.target));
        return http(404, "application/json", &[], r#"{"error":"unknown token"}"#);
    };
    let spec = &SPECS[index];
    let hosts = (spec.hosts)(&token);
    let mut wrong = Vec::new();
    if request.method != spec.method {
        wrong.push(format!("method {}", request.method));
    }
    if !hosts.iter().any(|h| h == host) {
        wrong.push(format!("host {host}"));
    }
    let want_path = spec.path.replace("{t}", &token);
    if rest != want_path {
        wrong.push(format!("path {rest}"));
    }
    for (name, value) in spec.headers {
        if header(request, name) != Some(*value) {
            wrong.push(format!("header {name}: {:?}", header(request, name)));
        }
    }
    if let Some(needle) = spec.body {
        if !request.body.contains(needle) {
            wrong.push(format!("body {:?}", request.body));
        }
    }
    if !matches!(spec.carry, Carry::Path) && request.target.contains(&token) {
        wrong.push("token in the URL".to_string());
    }
    if request.body.contains(&token) {
        wrong.push("token in the body".to_string());
    }
    let mismatch = (!wrong.is_empty()).then(|| wrong.join("; "));
    state.seen.push(Seen {
        spec: index,
        token: token.clone(),
        host: host.to_string(),
        rest,
        mismatch: mismatch.clone(),
    });
    drop(state);
    if mismatch.is_some() {
        return http(
            418,
            "application/json",
            &[],
            r#"{"error":"not the documented call"}"#,
        );
    }
    let host_index = hosts.iter().position(|h| h == host).unwrap_or(0);
    let active = || {
        http(
            200,
            content_type(spec.active),
            spec.active_headers,
            spec.active,
        )
    };
    let rejected = || {
        let (status, body) = spec.rejected;
        http(status, content_type(body), &[], body)
    };
    match behaviour {
        Behaviour::Active => active(),
        Behaviour::ActiveAt(i) if i == host_index => active(),
        Behaviour::ActiveAt(_) | Behaviour::Rejected => rejected(),
        Behaviour::RateLimited => http(
            429,
            "application/json",
            &[("Retry-After", "0")],
            r#"{"message":"rate limited"}"#,
        ),
        Behaviour::ServerError => http(500, "application/json", &[], r#"{"message":"oops"}"#),
        Behaviour::Html => http(
            200,
            "text/html; charset=utf-8",
            &[],
            "<!DOCTYPE html><html><body>Sign in to continue</body></html>",
        ),
        Behaviour::Answer(status, body) => http(status, content_type(body), &[], body),
    }
}

// --------------------------------------------------------------------- runs

const VERIFY: &[&str] = &[
    "scan",
    "--verify",
    "--format",
    "json",
    "--ungrouped",
    "--verify-timeout",
    "5",
    "--verify-rate",
    "1000",
];

fn run(dir: &Path, overrides: &str) -> Run {
    let output = patscan()
        .current_dir(dir)
        .env("PATSCAN_ENDPOINT_OVERRIDES", overrides)
        .args(VERIFY)
        .arg(".")
        .output()
        .unwrap();
    Run::from_output(output)
}

/// The verification of the finding of `rule` in `file`.
fn verification<'a>(json: &'a Value, file: &str, rule: &str) -> &'a Value {
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(file) && f["rule_id"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding in {file}"));
    &finding["verification"]
}

fn plant(dir: &Path, file: &str, spec: &Spec, token: &str) {
    fs::write(
        dir.join(file),
        format!("{}\n", spec.line.replace("{t}", token)),
    )
    .unwrap();
}

#[test]
fn every_identity_issuer_reads_each_answer_right_and_asks_where_documented() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let cases: [(Behaviour, &str, &str); 5] = [
        (Behaviour::Active, "active", ""),
        (Behaviour::Rejected, "inactive", "rejected by"),
        (Behaviour::RateLimited, "unknown", "rate limited"),
        (Behaviour::ServerError, "unknown", "HTTP 500"),
        (Behaviour::Html, "unknown", "HTML"),
    ];
    let mut planted = Vec::new();
    for (i, spec) in SPECS.iter().enumerate() {
        for (j, (behaviour, status, text)) in cases.iter().enumerate() {
            let t = token(spec.rule, 40_000 + (i * 10 + j) as u64);
            emu.set(i, &t, *behaviour);
            let file = format!("s{i}-{j}.env");
            plant(dir.path(), &file, spec, &t);
            planted.push((i, *behaviour, *status, *text, file, t));
        }
    }
    let out = run(dir.path(), &emu.overrides());
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json = out.json();
    for (i, behaviour, status, text, file, t) in &planted {
        let spec = &SPECS[*i];
        let v = verification(&json, file, spec.rule);
        let what = format!("{} {behaviour:?}: {v}", spec.rule);
        assert_eq!(v["status"], *status, "{what}");
        assert_eq!(v["provider"], spec.key, "{what}");
        let shown = v.to_string();
        let text = if *behaviour == Behaviour::Active {
            spec.shows
        } else {
            text
        };
        assert!(shown.contains(text), "{what} lacks {text:?}");
        if *status != "active" {
            assert!(v["reason"].is_string(), "{what}: no reason");
        }
        let seen = emu.seen(t);
        let hosts = (spec.hosts)(t);
        let asked: Vec<&str> = seen.iter().map(|s| s.host.as_str()).collect();
        match behaviour {
            // A working token is asked once, at the first host.
            Behaviour::Active => assert_eq!(asked, hosts[..1], "{what}"),
            // Any other answer leaves the question open at that host, so
            // every host is asked, once each, in the documented order.
            Behaviour::Rejected | Behaviour::ServerError | Behaviour::Html => {
                assert_eq!(asked, hosts, "{what}");
                if hosts.len() > 1 && *behaviour == Behaviour::Rejected {
                    assert!(shown.contains("every one of its"), "{what}");
                }
            }
            // A 429 is retried at each host, never elsewhere.
            _ => {
                let mut distinct = asked.clone();
                distinct.dedup();
                assert_eq!(distinct, hosts, "{what}");
            }
        }
        for s in &seen {
            assert_eq!(s.rest, spec.path.replace("{t}", t), "{what}");
            assert_eq!(s.spec, *i);
        }
    }
    assert_eq!(emu.mismatches().len(), 0, "{:#?}", emu.mismatches());
    assert!(emu.strays().is_empty(), "{:?}", emu.strays());
    let tokens: Vec<&str> = planted.iter().map(|p| p.5.as_str()).collect();
    out.assert_no_leak(&tokens);
}

/// Answers whose status alone would mislead: a token that authenticated
/// but may not make the call is active; a 401 or 403 that is not the
/// issuer's bad-key answer (an address outside an allow-list, a missing
/// scope) stays unknown; an answer that says the key is disabled or not
/// valid is inactive although its status is 200.
#[test]
fn answers_are_read_by_the_issuers_words_not_the_status_alone() {
    let cases: &[(&str, u16, &str, &str, &str)] = &[
        (
            "elevenlabs-api-key",
            401,
            r#"{"detail":{"status":"missing_permissions","message":"The API key you used is missing the permission user_read"}}"#,
            "active",
            "may not make this call",
        ),
        (
            "square-access-token",
            403,
            r#"{"errors":[{"category":"AUTHENTICATION_ERROR","code":"INSUFFICIENT_SCOPES"}]}"#,
            "active",
            "INSUFFICIENT_SCOPES",
        ),
        (
            "klaviyo-private-key",
            403,
            r#"{"errors":[{"status":403,"code":"permission_denied","title":"You do not have permission to perform this action."}]}"#,
            "active",
            "permission_denied",
        ),
        (
            "linode-api-token",
            401,
            r#"{"errors":[{"reason":"Your OAuth token is not authorized to use this endpoint."}]}"#,
            "active",
            "may not make this call",
        ),
        (
            "openai-api-key",
            401,
            r#"{"error":{"message":"You have insufficient permissions for this operation.","code":null}}"#,
            "unknown",
            "HTTP 401",
        ),
        (
            "vultr-api-key",
            401,
            r#"{"error":"Unauthorized IP address: 192.0.2.1","status":401}"#,
            "unknown",
            "HTTP 401",
        ),
        (
            "brevo-api-key",
            401,
            r#"{"code":"unauthorized","message":"We have detected you are using an unrecognised IP address"}"#,
            "unknown",
            "HTTP 401",
        ),
        (
            "figma-personal-access-token",
            403,
            r#"{"status":403,"err":"Token does not have the required scope"}"#,
            "unknown",
            "HTTP 403",
        ),
        (
            "facebook-access-token",
            400,
            r#"{"error":{"message":"Unsupported get request.","type":"GraphMethodException","code":100}}"#,
            "unknown",
            "HTTP 400",
        ),
        (
            "hetzner-cloud-token",
            401,
            r#"{"error":{"code":"forbidden","message":"insufficient permissions"}}"#,
            "unknown",
            "HTTP 401",
        ),
        (
            "xai-api-key",
            200,
            r#"{"api_key_id":"k1","name":"old","api_key_blocked":false,"api_key_disabled":true}"#,
            "inactive",
            "api_key_disabled",
        ),
        (
            "cohere-api-key",
            200,
            r#"{"valid":false}"#,
            "inactive",
            "valid: false",
        ),
    ];
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let mut tokens = Vec::new();
    for (n, (rule, status, body, _, _)) in cases.iter().enumerate() {
        let i = SPECS.iter().position(|s| s.rule == *rule).unwrap();
        let t = token(rule, 43_000 + n as u64);
        emu.set(i, &t, Behaviour::Answer(*status, body));
        plant(dir.path(), &format!("w{n}.env"), &SPECS[i], &t);
        tokens.push(t);
    }
    let out = run(dir.path(), &emu.overrides());
    let json = out.json();
    for (n, (rule, _, _, status, text)) in cases.iter().enumerate() {
        let v = verification(&json, &format!("w{n}.env"), rule);
        assert_eq!(v["status"], *status, "{rule}: {v}");
        assert!(v.to_string().contains(text), "{rule}: {v} lacks {text}");
    }
    assert!(emu.mismatches().is_empty(), "{:#?}", emu.mismatches());
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    out.assert_no_leak(&refs);
}

/// A token that works in one region only is found there: the hosts before
/// it rejected it, the ones after it are never asked.
#[test]
fn a_regional_token_is_active_where_it_lives() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let mut planted = Vec::new();
    for (i, spec) in SPECS.iter().enumerate() {
        let t = token(spec.rule, 41_000 + i as u64);
        let hosts = (spec.hosts)(&t);
        if hosts.len() < 2 {
            continue;
        }
        let at = hosts.len() / 2 + 1;
        emu.set(i, &t, Behaviour::ActiveAt(at.min(hosts.len() - 1)));
        let file = format!("r{i}.env");
        plant(dir.path(), &file, spec, &t);
        planted.push((i, at.min(hosts.len() - 1), file, t));
    }
    assert!(planted.len() >= 10, "multi-host issuers: {}", planted.len());
    let out = run(dir.path(), &emu.overrides());
    let json = out.json();
    for (i, at, file, t) in &planted {
        let spec = &SPECS[*i];
        let v = verification(&json, file, spec.rule);
        assert_eq!(v["status"], "active", "{}: {v}", spec.rule);
        let hosts = (spec.hosts)(t);
        let asked: Vec<String> = emu.seen(t).into_iter().map(|s| s.host).collect();
        assert_eq!(asked, hosts[..=*at], "{}", spec.rule);
        assert!(
            v["endpoint"].as_str().unwrap().contains(&hosts[*at]),
            "{}: {v}",
            spec.rule
        );
    }
    let tokens: Vec<&str> = planted.iter().map(|p| p.3.as_str()).collect();
    out.assert_no_leak(&tokens);
}

/// With each provider sent to its own server, a token reaches only its own
/// issuer's.
#[test]
fn each_token_goes_only_to_its_own_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let keys: BTreeSet<&str> = SPECS.iter().map(|s| s.key).collect();
    let servers: BTreeMap<&str, Emulator> = keys.iter().map(|k| (*k, Emulator::start())).collect();
    let mut text = String::new();
    let mut tokens = Vec::new();
    for (i, spec) in SPECS.iter().enumerate() {
        let t = token(spec.rule, 42_000 + i as u64);
        for server in servers.values() {
            server.set(i, &t, Behaviour::Active);
        }
        text.push_str(&spec.line.replace("{t}", &t));
        text.push('\n');
        tokens.push((i, t));
    }
    fs::write(dir.path().join("all.env"), text).unwrap();
    let overrides: Vec<String> = servers
        .iter()
        .map(|(k, s)| format!("{k}={}", s.url))
        .collect();
    let out = run(dir.path(), &overrides.join(","));
    let json = out.json();
    for (i, t) in &tokens {
        let spec = &SPECS[*i];
        let v = verification(&json, "all.env", spec.rule);
        assert_eq!(v["status"], "active", "{}: {v}", spec.rule);
        for (key, server) in &servers {
            let seen = server.seen(t);
            if *key == spec.key {
                assert_eq!(seen.len(), 1, "{}", spec.rule);
            } else {
                assert!(seen.is_empty(), "{}'s token reached {key}", spec.rule);
            }
        }
    }
    for server in servers.values() {
        assert!(server.strays().is_empty());
    }
    let refs: Vec<&str> = tokens.iter().map(|(_, t)| t.as_str()).collect();
    out.assert_no_leak(&refs);
}

/// The test's specs and the code's table cover the same rules, so no entry
/// goes untested.
#[test]
fn every_table_entry_has_a_spec() {
    let table: BTreeSet<(String, String)> = patscan::live::identity::ISSUERS
        .iter()
        .flat_map(|i| {
            i.rules
                .iter()
                .map(move |(rule, _)| (i.provider.key().to_string(), rule.to_string()))
        })
        .collect();
    let specs: BTreeSet<(String, String)> = SPECS
        .iter()
        .map(|s| (s.key.to_string(), s.rule.to_string()))
        .collect();
    assert_eq!(table, specs);
}

/// `docs/live.md` shows the table the code has, and the README the number
/// of providers.
#[test]
fn the_documentation_lists_every_identity_check() {
    let root = common::repo_root();
    let docs = fs::read_to_string(root.join("docs/live.md")).unwrap();
    let start = "<!-- identity-table:start -->\n";
    let end = "<!-- identity-table:end -->";
    let from = docs.find(start).expect("start marker") + start.len();
    let to = docs.find(end).expect("end marker");
    let want = patscan::live::identity::markdown_table();
    assert!(
        docs[from..to] == want,
        "docs/live.md's identity table is stale; paste this between the markers:\n{want}"
    );
    let readme = fs::read_to_string(root.join("README.md")).unwrap();
    let count = patscan::model::Provider::ALL.len();
    assert!(
        readme.contains(&format!("live checks for {count} providers")),
        "README.md should say \"live checks for {count} providers\""
    );
    assert!(
        docs.contains(&format!("{count} providers")),
        "docs/live.md should say \"{count} providers\""
    );
}
