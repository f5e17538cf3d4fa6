//! The identity calls, one entry per issuer, from each issuer's API
//! documentation (the `docs` link). Bases are HTTPS constants on the
//! issuer's own domains; shapes repeat the built-in rules' patterns so a
//! token is sent only when it has its issuer's form.
//!
//! Reading an entry: `answers` lists what the issuer documents for this
//! call; a rejection is listed only where the issuer says it means a bad
//! token (plain 401s, or the error code it gives for a bad key where a
//! 401/403 can also mean something else). Anything unlisted is `unknown`.

use super::super::support::{alnum, lower_hex, shaped, url_safe};
use super::{Answer, Field, Issuer, Means, Request, Send, Shown, Site, Source, Val, Verb, When};
use crate::model::Provider;

const JSON: &str = "application/json";

const fn get(path: &'static str, send: Send) -> Request {
    Request {
        verb: Verb::Get,
        path,
        send,
        accept: JSON,
        headers: &[],
        body: None,
    }
}

const fn post(path: &'static str, send: Send, body: Option<&'static str>) -> Request {
    Request {
        verb: Verb::Post,
        path,
        send,
        accept: JSON,
        headers: &[],
        body,
    }
}

/// 200 with a value at `pointer`: the API's own answer, not a proxy's.
const fn ok(pointer: &'static str) -> Answer {
    Answer {
        status: 200,
        when: When::Has(pointer),
        means: Means::Active,
    }
}

/// 200 with any JSON (APIs that answer with a bare list).
const OK_JSON: Answer = Answer {
    status: 200,
    when: When::Json,
    means: Means::Active,
};

/// `status` whatever the (non-HTML) body: the issuer's plain rejection.
const fn rejected(status: u16) -> Answer {
    Answer {
        status,
        when: When::Any,
        means: Means::Inactive(""),
    }
}

/// `status` with `value` at `pointer`: the issuer's documented bad-key
/// answer where the status alone can mean something else.
const fn rejected_as(status: u16, pointer: &'static str, value: &'static str) -> Answer {
    Answer {
        status,
        when: When::Is(pointer, Val::Str(value)),
        means: Means::Inactive(value),
    }
}

/// `status` with `value` at `pointer`: authenticated, lacks permission.
const fn denied_as(status: u16, pointer: &'static str, value: &'static str) -> Answer {
    Answer {
        status,
        when: When::Is(pointer, Val::Str(value)),
        means: Means::Denied(value),
    }
}

const fn owner(pointer: &'static str) -> Shown {
    Shown(Field::Owner, Source::Json(pointer))
}

const fn org(pointer: &'static str) -> Shown {
    Shown(Field::Organisation, Source::Json(pointer))
}

const fn scopes(pointer: &'static str) -> Shown {
    Shown(Field::Scopes, Source::Json(pointer))
}

// ------------------------------------------------------------------ shapes

fn upper_digit(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

fn lower_digit(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// Exactly `len` bytes, each passing `ok`.
fn all(t: &str, len: usize, ok: fn(u8) -> bool) -> bool {
    t.len() == len && t.bytes().all(ok)
}

/// `8-4-4-4-12` digits of `ok`.
fn uuid(t: &str, ok: fn(u8) -> bool) -> bool {
    t.len() == 36
        && t.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => ok(b),
        })
}

/// A part of a token: its shortest and longest length and its alphabet.
type Part = (usize, usize, fn(u8) -> bool);

/// `parts` separated by `sep`, each `(length range, alphabet)`.
fn parts(t: &str, sep: char, want: &[Part]) -> bool {
    let got: Vec<&str> = t.split(sep).collect();
    got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(p, (min, max, ok))| (*min..=*max).contains(&p.len()) && p.bytes().all(*ok))
}

fn openai(t: &str) -> bool {
    // Admin keys (`sk-admin-`) cannot list models; they are not checked.
    t.starts_with("sk-")
        && !t.starts_with("sk-admin-")
        && t.contains("T3BlbkFJ")
        && (40..=170).contains(&t.len())
        && t.bytes().all(url_safe)
}

fn anthropic(t: &str) -> bool {
    // Admin keys (`sk-ant-admin01-`) only reach the admin API.
    shaped(t, "sk-ant-api03-", 95..=95, url_safe) && t.ends_with("AA")
}

fn mailchimp(t: &str) -> bool {
    t.split_once("-us").is_some_and(|(key, dc)| {
        all(key, 32, lower_hex)
            && (1..=2).contains(&dc.len())
            && dc.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Mailchimp's data centre: the `usN` after the key's last `-`.
fn mailchimp_dc(t: &str) -> Option<&str> {
    t.rsplit_once('-')
        .map(|(_, dc)| dc)
        .filter(|dc| dc.starts_with("us"))
}

fn deepl(t: &str) -> bool {
    uuid(t.strip_suffix(":fx").unwrap_or(t), lower_hex)
}

/// DeepL's free keys (`:fx`) work on the free API host only.
fn deepl_host(t: &str) -> usize {
    usize::from(t.ends_with(":fx"))
}

fn asana(t: &str) -> bool {
    let Some((ids, secret)) = t.split_once(':') else {
        return false;
    };
    let ids: Vec<&str> = ids.split('/').collect();
    let digits = |s: &&str| (14..=19).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    all(secret, 32, lower_hex)
        && (ids.len() == 2 || ids.len() == 3)
        && (ids[0] == "1" || ids[0] == "2")
        && ids[1..].iter().all(digits)
}

fn dropbox(t: &str) -> bool {
    t.len() == 64
        && t.is_ascii()
        && t[..11].bytes().all(alnum)
        && &t[11..21] == "AAAAAAAAAA"
        && t[21..].bytes().all(url_safe)
}

fn airtable(t: &str) -> bool {
    t.strip_prefix("pat")
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(id, secret)| all(id, 14, alnum) && all(secret, 64, lower_hex))
}

fn discord(t: &str) -> bool {
    t.starts_with(['M', 'N', 'O'])
        && parts(
            t,
            '.',
            &[(24, 26, url_safe), (6, 6, url_safe), (27, 38, url_safe)],
        )
}

fn telegram(t: &str) -> bool {
    t.split_once(":AA").is_some_and(|(bot, secret)| {
        (8..=10).contains(&bot.len())
            && bot.bytes().all(|b| b.is_ascii_digit())
            && (32..=33).contains(&secret.len())
            && secret.bytes().all(url_safe)
    })
}

fn webex(t: &str) -> bool {
    t.len() == 64 + 1 + 4 + 1 + 36
        && t.is_ascii()
        && all(&t[..64], 64, alnum)
        && &t[64..65] == "_"
        && all(&t[65..69], 4, alnum)
        && &t[69..70] == "_"
        && uuid(&t[70..], hex)
}

fn hubspot(t: &str) -> bool {
    ["pat-na1-", "pat-na2-", "pat-eu1-"]
        .iter()
        .any(|p| t.strip_prefix(p).is_some_and(|rest| uuid(rest, lower_hex)))
}

fn pinecone(t: &str) -> bool {
    t.strip_prefix("pcsk_")
        .is_some_and(|rest| parts(rest, '_', &[(5, 6, alnum), (63, 63, alnum)]))
}

fn launchdarkly(t: &str) -> bool {
    t.strip_prefix("api-")
        .is_some_and(|rest| uuid(rest, lower_hex))
}

fn clickup(t: &str) -> bool {
    t.strip_prefix("pk_").is_some_and(|rest| {
        parts(
            rest,
            '_',
            &[(6, 10, |b| b.is_ascii_digit()), (32, 32, upper_digit)],
        )
    })
}

fn sendgrid(t: &str) -> bool {
    t.strip_prefix("SG.")
        .is_some_and(|rest| parts(rest, '.', &[(22, 22, url_safe), (43, 43, url_safe)]))
}

fn brevo(t: &str) -> bool {
    t.strip_prefix("xkeysib-")
        .is_some_and(|rest| parts(rest, '-', &[(64, 64, lower_hex), (16, 16, alnum)]))
}

fn circleci(t: &str) -> bool {
    t.strip_prefix("CCIPAT_")
        .is_some_and(|rest| parts(rest, '_', &[(22, 22, alnum), (40, 40, lower_hex)]))
}

fn intercom(t: &str) -> bool {
    t.len() == 60
        && t.is_ascii()
        && t.starts_with("dG9rOm")
        && t.ends_with('=')
        && t[..59]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

fn pagerduty_key(t: &str) -> bool {
    t.len() == 20 && !t.starts_with(['u', '+']) && t.bytes().all(|b| url_safe(b) || b == b'+')
}

// ------------------------------------------------------------------ table

pub static ISSUERS: &[Issuer] = &[
    // ------------------------------------------------------------- AI APIs
    Issuer {
        provider: Provider::Openai,
        name: "OpenAI",
        rules: &[("openai-api-key", openai)],
        site: Site::One("https://api.openai.com"),
        domains: &["openai.com"],
        request: get("/v1/models", Send::Bearer),
        answers: &[ok("/data"), rejected_as(401, "/error/code", "invalid_api_key")],
        shows: &[Shown(Field::Organisation, Source::Header("openai-organization"))],
        docs: "https://platform.openai.com/docs/api-reference/models/list",
    },
    Issuer {
        provider: Provider::Anthropic,
        name: "Anthropic",
        rules: &[("anthropic-api-key", anthropic)],
        site: Site::One("https://api.anthropic.com"),
        domains: &["anthropic.com"],
        request: Request {
            headers: &[("anthropic-version", "2023-06-01")],
            ..get("/v1/models", Send::Header("x-api-key"))
        },
        answers: &[
            ok("/data"),
            rejected_as(401, "/error/type", "authentication_error"),
        ],
        shows: &[Shown(
            Field::Organisation,
            Source::Header("anthropic-organization-id"),
        )],
        docs: "https://docs.anthropic.com/en/api/models-list",
    },
    Issuer {
        provider: Provider::Groq,
        name: "Groq",
        rules: &[("groq-api-key", |t| shaped(t, "gsk_", 52..=52, alnum))],
        site: Site::One("https://api.groq.com"),
        domains: &["groq.com"],
        request: get("/openai/v1/models", Send::Bearer),
        answers: &[ok("/data"), rejected(401)],
        shows: &[],
        docs: "https://console.groq.com/docs/api-reference#models-list",
    },
    Issuer {
        provider: Provider::Mistral,
        name: "Mistral AI",
        rules: &[("mistral-api-key", |t| all(t, 32, alnum))],
        site: Site::One("https://api.mistral.ai"),
        domains: &["mistral.ai"],
        request: get("/v1/models", Send::Bearer),
        answers: &[ok("/data"), rejected(401)],
        shows: &[],
        docs: "https://docs.mistral.ai/api/#tag/models",
    },
    Issuer {
        provider: Provider::Cohere,
        name: "Cohere",
        rules: &[("cohere-api-key", |t| all(t, 40, alnum))],
        site: Site::One("https://api.cohere.com"),
        domains: &["cohere.com"],
        request: post("/v1/check-api-key", Send::Bearer, None),
        answers: &[
            Answer {
                status: 200,
                when: When::Is("/valid", Val::Bool(true)),
                means: Means::Active,
            },
            Answer {
                status: 200,
                when: When::Is("/valid", Val::Bool(false)),
                means: Means::Inactive("valid: false"),
            },
            rejected(401),
        ],
        shows: &[owner("/owner_id"), org("/organization_id")],
        docs: "https://docs.cohere.com/reference/check-api-key",
    },
    Issuer {
        provider: Provider::Replicate,
        name: "Replicate",
        rules: &[("replicate-api-token", |t| shaped(t, "r8_", 37..=37, alnum))],
        site: Site::One("https://api.replicate.com"),
        domains: &["replicate.com"],
        request: get("/v1/account", Send::Bearer),
        answers: &[ok("/username"), rejected(401)],
        shows: &[owner("/username"), org("/name")],
        docs: "https://replicate.com/docs/reference/http#accounts.get",
    },
    Issuer {
        provider: Provider::Deepseek,
        name: "DeepSeek",
        rules: &[("deepseek-api-key", |t| shaped(t, "sk-", 32..=32, lower_hex))],
        site: Site::One("https://api.deepseek.com"),
        domains: &["deepseek.com"],
        request: get("/user/balance", Send::Bearer),
        answers: &[ok("/balance_infos"), rejected(401)],
        shows: &[],
        docs: "https://api-docs.deepseek.com/api/get-user-balance",
    },
    Issuer {
        provider: Provider::Xai,
        name: "xAI",
        rules: &[("xai-api-key", |t| shaped(t, "xai-", 70..=120, url_safe))],
        site: Site::One("https://api.x.ai"),
        domains: &["x.ai"],
        request: get("/v1/api-key", Send::Bearer),
        answers: &[
            // A key its team or owner blocked or disabled no longer works.
            Answer {
                status: 200,
                when: When::Is("/api_key_blocked", Val::Bool(true)),
                means: Means::Inactive("api_key_blocked"),
            },
            Answer {
                status: 200,
                when: When::Is("/api_key_disabled", Val::Bool(true)),
                means: Means::Inactive("api_key_disabled"),
            },
            ok("/api_key_id"),
            // The only parameter of this GET is the key.
            rejected(400),
            rejected(401),
        ],
        shows: &[owner("/name"), org("/team_id"), scopes("/acls")],
        docs: "https://docs.x.ai/docs/api-reference#api-key",
    },
    Issuer {
        provider: Provider::Openrouter,
        name: "OpenRouter",
        rules: &[("openrouter-api-key", |t| shaped(t, "sk-or-v1-", 64..=64, lower_hex))],
        site: Site::One("https://openrouter.ai"),
        domains: &["openrouter.ai"],
        request: get("/api/v1/key", Send::Bearer),
        answers: &[ok("/data"), rejected(401)],
        shows: &[owner("/data/label")],
        docs: "https://openrouter.ai/docs/api-reference/api-keys/get-current-api-key",
    },
    Issuer {
        provider: Provider::Cerebras,
        name: "Cerebras",
        rules: &[("cerebras-api-key", |t| shaped(t, "csk-", 48..=48, lower_digit))],
        site: Site::One("https://api.cerebras.ai"),
        domains: &["cerebras.ai"],
        request: get("/v1/models", Send::Bearer),
        answers: &[ok("/data"), rejected(401)],
        shows: &[],
        docs: "https://inference-docs.cerebras.ai/api-reference/models",
    },
    Issuer {
        provider: Provider::Togetherai,
        name: "Together AI",
        rules: &[("togetherai-api-key", |t| shaped(t, "tgp_v1_", 43..=43, url_safe))],
        site: Site::One("https://api.together.xyz"),
        domains: &["together.xyz"],
        request: get("/v1/models", Send::Bearer),
        answers: &[OK_JSON, rejected(401)],
        shows: &[],
        docs: "https://docs.together.ai/reference/models-1",
    },
    Issuer {
        provider: Provider::Elevenlabs,
        name: "ElevenLabs",
        rules: &[("elevenlabs-api-key", |t| shaped(t, "sk_", 48..=48, lower_hex))],
        site: Site::One("https://api.elevenlabs.io"),
        domains: &["elevenlabs.io"],
        request: get("/v1/user", Send::Header("xi-api-key")),
        answers: &[
            ok("/user_id"),
            // A key restricted to other endpoints says so; a bad one too.
            denied_as(401, "/detail/status", "missing_permissions"),
            rejected_as(401, "/detail/status", "invalid_api_key"),
        ],
        shows: &[owner("/user_id")],
        docs: "https://elevenlabs.io/docs/api-reference/user/get",
    },
    Issuer {
        provider: Provider::Deepgram,
        name: "Deepgram",
        rules: &[("deepgram-api-key", |t| all(t, 40, lower_hex))],
        site: Site::One("https://api.deepgram.com"),
        domains: &["deepgram.com"],
        request: get("/v1/projects", Send::Prefixed("Token ")),
        answers: &[ok("/projects"), rejected(401)],
        shows: &[org("/projects/0/name")],
        docs: "https://developers.deepgram.com/reference/management-api/projects/list",
    },
    Issuer {
        provider: Provider::Deepl,
        name: "DeepL",
        rules: &[("deepl-api-key", deepl)],
        site: Site::ByToken {
            bases: &["https://api.deepl.com", "https://api-free.deepl.com"],
            pick: deepl_host,
            what: "a free key (`:fx`) goes to the free API",
        },
        domains: &["deepl.com"],
        request: get("/v2/usage", Send::Prefixed("DeepL-Auth-Key ")),
        answers: &[ok("/character_count"), rejected(403)],
        shows: &[],
        docs: "https://developers.deepl.com/api-reference/usage-and-quota",
    },
    // ------------------------------------------------------------- e-mail
    Issuer {
        provider: Provider::Sendgrid,
        name: "SendGrid",
        rules: &[("sendgrid-api-key", sendgrid)],
        site: Site::One("https://api.sendgrid.com"),
        domains: &["sendgrid.com"],
        request: get("/v3/scopes", Send::Bearer),
        answers: &[ok("/scopes"), rejected(401)],
        shows: &[scopes("/scopes")],
        docs: "https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions/retrieve-a-list-of-scopes-for-which-this-user-has-access",
    },
    Issuer {
        provider: Provider::Mailchimp,
        name: "Mailchimp",
        rules: &[("mailchimp-api-key", mailchimp)],
        site: Site::Label {
            base: "https://api.mailchimp.com",
            label: mailchimp_dc,
            what: "the data centre the key ends with (`…-us6`)",
        },
        domains: &["api.mailchimp.com"],
        request: get("/3.0/", Send::BasicPassword("patscan")),
        answers: &[ok("/account_id"), rejected(401)],
        shows: &[owner("/email"), org("/account_name")],
        docs: "https://mailchimp.com/developer/marketing/api/root/list-api-root-resources/",
    },
    Issuer {
        provider: Provider::Mailgun,
        name: "Mailgun",
        rules: &[("mailgun-api-key", |t| shaped(t, "key-", 32..=32, lower_hex))],
        site: Site::AnyOf(&["https://api.mailgun.net", "https://api.eu.mailgun.net"]),
        domains: &["mailgun.net"],
        request: get("/v3/domains?limit=1", Send::BasicPassword("api")),
        answers: &[ok("/items"), rejected(401)],
        shows: &[org("/items/0/name")],
        docs: "https://documentation.mailgun.com/docs/mailgun/api-reference/openapi-final/tag/Domains/",
    },
    Issuer {
        provider: Provider::Brevo,
        name: "Brevo",
        rules: &[("brevo-api-key", brevo)],
        site: Site::One("https://api.brevo.com"),
        domains: &["brevo.com"],
        request: get("/v3/account", Send::Header("api-key")),
        // Brevo answers 401 to a key used from an address outside its
        // authorised IPs too: only "Key not found" rejects.
        answers: &[ok("/email"), rejected_as(401, "/message", "Key not found")],
        shows: &[owner("/email"), org("/companyName")],
        docs: "https://developers.brevo.com/reference/getaccount",
    },
    // ------------------------------------------------------- observability
    Issuer {
        provider: Provider::Datadog,
        name: "Datadog",
        rules: &[("datadog-api-key", |t| all(t, 32, lower_hex))],
        site: Site::AnyOf(&[
            "https://api.datadoghq.com",
            "https://api.us3.datadoghq.com",
            "https://api.us5.datadoghq.com",
            "https://api.datadoghq.eu",
            "https://api.ap1.datadoghq.com",
            "https://api.ap2.datadoghq.com",
            "https://api.uk1.datadoghq.com",
            "https://api.ddog-gov.com",
            "https://api.us2.ddog-gov.com",
        ]),
        domains: &["datadoghq.com", "datadoghq.eu", "ddog-gov.com"],
        request: get("/api/v1/validate", Send::Header("dd-api-key")),
        answers: &[
            Answer {
                status: 200,
                when: When::Is("/valid", Val::Bool(true)),
                means: Means::Active,
            },
            // "If invalid, a 403 is returned."
            rejected(403),
        ],
        shows: &[],
        docs: "https://docs.datadoghq.com/api/latest/authentication/#validate-api-key",
    },
    Issuer {
        provider: Provider::Newrelic,
        name: "New Relic",
        rules: &[("newrelic-user-api-key", |t| shaped(t, "NRAK-", 27..=27, upper_digit))],
        site: Site::AnyOf(&["https://api.newrelic.com", "https://api.eu.newrelic.com"]),
        domains: &["newrelic.com"],
        request: post(
            "/graphql",
            Send::Header("api-key"),
            Some(r#"{"query":"{ actor { user { name email } } }"}"#),
        ),
        answers: &[ok("/data/actor/user"), rejected(401)],
        shows: &[owner("/data/actor/user/email"), owner("/data/actor/user/name")],
        docs: "https://docs.newrelic.com/docs/apis/nerdgraph/get-started/introduction-new-relic-nerdgraph/",
    },
    Issuer {
        provider: Provider::Pagerduty,
        name: "PagerDuty",
        rules: &[
            ("pagerduty-api-key", pagerduty_key),
            ("pagerduty-user-token", |t| {
                t.len() == 20 && t.starts_with("u+") && t.bytes().all(|b| url_safe(b) || b == b'+')
            }),
        ],
        site: Site::AnyOf(&["https://api.pagerduty.com", "https://api.eu.pagerduty.com"]),
        domains: &["pagerduty.com"],
        request: Request {
            accept: "application/vnd.pagerduty+json;version=2",
            ..get("/abilities", Send::Prefixed("Token token="))
        },
        answers: &[ok("/abilities"), rejected(401)],
        shows: &[],
        docs: "https://developer.pagerduty.com/api-reference/",
    },
    Issuer {
        provider: Provider::Honeycomb,
        name: "Honeycomb",
        rules: &[("honeycomb-ingest-key", |t| {
            shaped(t, "hcaik_", 58..=58, alnum) || shaped(t, "hcxik_", 58..=58, alnum)
        })],
        site: Site::AnyOf(&["https://api.honeycomb.io", "https://api.eu1.honeycomb.io"]),
        domains: &["honeycomb.io"],
        request: get("/1/auth", Send::Header("x-honeycomb-team")),
        answers: &[ok("/team"), rejected(401)],
        shows: &[org("/team/name")],
        docs: "https://docs.honeycomb.io/api/",
    },
    Issuer {
        provider: Provider::Opsgenie,
        name: "Opsgenie",
        rules: &[("opsgenie-api-key", |t| uuid(t, lower_hex))],
        site: Site::AnyOf(&["https://api.opsgenie.com", "https://api.eu.opsgenie.com"]),
        domains: &["opsgenie.com"],
        request: get("/v2/account", Send::Prefixed("GenieKey ")),
        answers: &[ok("/data"), rejected(401)],
        shows: &[org("/data/name")],
        docs: "https://docs.opsgenie.com/docs/account-api",
    },
    Issuer {
        provider: Provider::Rootly,
        name: "Rootly",
        rules: &[("rootly-api-key", |t| shaped(t, "rootly_", 64..=64, lower_hex))],
        site: Site::One("https://api.rootly.com"),
        domains: &["rootly.com"],
        request: Request {
            accept: "application/vnd.api+json",
            ..get("/v1/users/me", Send::Bearer)
        },
        answers: &[ok("/data/id"), rejected(401)],
        shows: &[owner("/data/attributes/email")],
        docs: "https://docs.rootly.com/api-reference/overview",
    },
    // ------------------------------------------------- developer platforms
    Issuer {
        provider: Provider::Snyk,
        name: "Snyk",
        rules: &[("snyk-api-token", |t| uuid(t, hex))],
        site: Site::AnyOf(&[
            "https://api.snyk.io",
            "https://api.us.snyk.io",
            "https://api.eu.snyk.io",
            "https://api.au.snyk.io",
        ]),
        domains: &["snyk.io"],
        request: Request {
            accept: "application/vnd.api+json",
            ..get("/rest/self?version=2024-06-10", Send::Prefixed("token "))
        },
        answers: &[ok("/data/id"), rejected(401)],
        shows: &[
            owner("/data/attributes/email"),
            owner("/data/attributes/username"),
            owner("/data/attributes/name"),
        ],
        docs: "https://docs.snyk.io/snyk-api/reference/users",
    },
    Issuer {
        provider: Provider::Asana,
        name: "Asana",
        rules: &[
            ("asana-personal-access-token", asana),
            ("asana-legacy-token", |t| shaped(t, "0/", 32..=32, lower_hex)),
        ],
        site: Site::One("https://app.asana.com"),
        domains: &["asana.com"],
        request: get("/api/1.0/users/me", Send::Bearer),
        answers: &[ok("/data/gid"), rejected(401)],
        shows: &[
            owner("/data/email"),
            owner("/data/name"),
            org("/data/workspaces/0/name"),
        ],
        docs: "https://developers.asana.com/reference/getuser",
    },
    Issuer {
        provider: Provider::Dropbox,
        name: "Dropbox",
        rules: &[("dropbox-long-lived-token", dropbox)],
        site: Site::One("https://api.dropboxapi.com"),
        domains: &["dropboxapi.com"],
        request: post("/2/users/get_current_account", Send::Bearer, None),
        answers: &[ok("/account_id"), rejected(401)],
        shows: &[owner("/email"), owner("/name/display_name")],
        docs: "https://www.dropbox.com/developers/documentation/http/documentation#users-get_current_account",
    },
    Issuer {
        provider: Provider::Square,
        name: "Square",
        rules: &[
            ("square-access-token", |t| shaped(t, "EAAA", 60..=60, url_safe)),
            ("square-legacy-access-token", |t| shaped(t, "sq0atp-", 22..=22, url_safe)),
        ],
        site: Site::AnyOf(&[
            "https://connect.squareup.com",
            "https://connect.squareupsandbox.com",
        ]),
        domains: &["squareup.com", "squareupsandbox.com"],
        request: get("/v2/merchants/me", Send::Bearer),
        answers: &[
            ok("/merchant/id"),
            denied_as(403, "/errors/0/code", "INSUFFICIENT_SCOPES"),
            rejected(401),
        ],
        shows: &[org("/merchant/business_name")],
        docs: "https://developer.squareup.com/reference/square/merchants-api/retrieve-merchant",
    },
    Issuer {
        provider: Provider::Notion,
        name: "Notion",
        rules: &[
            ("notion-integration-token", |t| {
                t.len() == 50
                    && t.is_ascii()
                    && t.starts_with("ntn_")
                    && t[4..15].bytes().all(|b| b.is_ascii_digit())
                    && t[15..].bytes().all(alnum)
            }),
            ("notion-legacy-integration-token", |t| shaped(t, "secret_", 43..=43, alnum)),
        ],
        site: Site::One("https://api.notion.com"),
        domains: &["notion.com"],
        request: Request {
            headers: &[("notion-version", "2022-06-28")],
            ..get("/v1/users/me", Send::Bearer)
        },
        answers: &[ok("/id"), rejected_as(401, "/code", "unauthorized")],
        shows: &[owner("/name"), org("/bot/workspace_name")],
        docs: "https://developers.notion.com/reference/get-self",
    },
    Issuer {
        provider: Provider::Linear,
        name: "Linear",
        rules: &[("linear-api-key", |t| shaped(t, "lin_api_", 40..=40, alnum))],
        site: Site::One("https://api.linear.app"),
        domains: &["linear.app"],
        request: post(
            "/graphql",
            Send::Raw,
            Some(r#"{"query":"{ viewer { id name email organization { name } } }"}"#),
        ),
        answers: &[
            ok("/data/viewer/id"),
            rejected(401),
            rejected_as(400, "/errors/0/extensions/code", "AUTHENTICATION_ERROR"),
        ],
        shows: &[
            owner("/data/viewer/email"),
            owner("/data/viewer/name"),
            org("/data/viewer/organization/name"),
        ],
        docs: "https://linear.app/developers/graphql#authentication",
    },
    Issuer {
        provider: Provider::Airtable,
        name: "Airtable",
        rules: &[("airtable-personal-access-token", airtable)],
        site: Site::One("https://api.airtable.com"),
        domains: &["airtable.com"],
        request: get("/v0/meta/whoami", Send::Bearer),
        answers: &[ok("/id"), rejected(401)],
        shows: &[owner("/email"), owner("/id"), scopes("/scopes")],
        docs: "https://airtable.com/developers/web/api/get-user-id-scopes",
    },
    Issuer {
        provider: Provider::Figma,
        name: "Figma",
        rules: &[("figma-personal-access-token", |t| shaped(t, "figd_", 38..=42, url_safe))],
        site: Site::One("https://api.figma.com"),
        domains: &["figma.com"],
        request: get("/v1/me", Send::Header("x-figma-token")),
        // Figma answers a bad token with 403 "Invalid token"; other 403s
        // (a scope the token lacks) are not a rejection.
        answers: &[ok("/id"), rejected_as(403, "/err", "Invalid token")],
        shows: &[owner("/email"), owner("/handle")],
        docs: "https://www.figma.com/developers/api#get-me-endpoint",
    },
    Issuer {
        provider: Provider::Netlify,
        name: "Netlify",
        rules: &[("netlify-personal-access-token", |t| shaped(t, "nfp_", 36..=48, alnum))],
        site: Site::One("https://api.netlify.com"),
        domains: &["netlify.com"],
        request: get("/api/v1/user", Send::Bearer),
        answers: &[ok("/id"), rejected(401)],
        shows: &[owner("/email"), owner("/full_name")],
        docs: "https://open-api.netlify.com/#tag/user/operation/getCurrentUser",
    },
    Issuer {
        provider: Provider::Render,
        name: "Render",
        rules: &[("render-api-key", |t| shaped(t, "rnd_", 28..=28, alnum))],
        site: Site::One("https://api.render.com"),
        domains: &["render.com"],
        request: get("/v1/owners?limit=1", Send::Bearer),
        answers: &[OK_JSON, rejected(401)],
        shows: &[owner("/0/owner/email"), org("/0/owner/name")],
        docs: "https://api-docs.render.com/reference/list-owners",
    },
    Issuer {
        provider: Provider::Supabase,
        name: "Supabase",
        rules: &[("supabase-access-token", |t| shaped(t, "sbp_", 40..=40, lower_hex))],
        site: Site::One("https://api.supabase.com"),
        domains: &["supabase.com"],
        request: get("/v1/organizations", Send::Bearer),
        answers: &[OK_JSON, rejected(401)],
        shows: &[org("/0/name")],
        docs: "https://supabase.com/docs/reference/api/v1-list-all-organizations",
    },
    Issuer {
        provider: Provider::Pulumi,
        name: "Pulumi",
        rules: &[("pulumi-access-token", |t| shaped(t, "pul-", 40..=40, lower_hex))],
        site: Site::One("https://api.pulumi.com"),
        domains: &["pulumi.com"],
        request: Request {
            accept: "application/vnd.pulumi+8",
            ..get("/api/user", Send::Prefixed("token "))
        },
        answers: &[ok("/githubLogin"), rejected(401)],
        shows: &[
            owner("/githubLogin"),
            owner("/email"),
            org("/organizations/0/githubLogin"),
        ],
        docs: "https://www.pulumi.com/docs/pulumi-cloud/reference/cloud-rest-api/",
    },
    Issuer {
        provider: Provider::Circleci,
        name: "CircleCI",
        rules: &[("circleci-personal-token", circleci)],
        site: Site::One("https://circleci.com"),
        domains: &["circleci.com"],
        request: get("/api/v2/me", Send::Header("circle-token")),
        answers: &[ok("/id"), rejected(401)],
        shows: &[owner("/login"), owner("/name")],
        docs: "https://circleci.com/docs/api/v2/index.html#operation/getCurrentUser",
    },
    // --------------------------------------------------------- messaging
    Issuer {
        provider: Provider::Discord,
        name: "Discord",
        rules: &[("discord-bot-token", discord)],
        site: Site::One("https://discord.com"),
        domains: &["discord.com"],
        request: get("/api/v10/users/@me", Send::Prefixed("Bot ")),
        answers: &[ok("/id"), rejected(401)],
        shows: &[owner("/username")],
        docs: "https://discord.com/developers/docs/resources/user#get-current-user",
    },
    Issuer {
        provider: Provider::Telegram,
        name: "Telegram",
        rules: &[("telegram-bot-token", telegram)],
        site: Site::One("https://api.telegram.org"),
        domains: &["api.telegram.org"],
        request: get("/bot{token}/getMe", Send::InPath),
        answers: &[
            Answer {
                status: 200,
                when: When::Is("/ok", Val::Bool(true)),
                means: Means::Active,
            },
            Answer {
                status: 401,
                when: When::Is("/ok", Val::Bool(false)),
                means: Means::Inactive("Unauthorized"),
            },
        ],
        shows: &[owner("/result/username")],
        docs: "https://core.telegram.org/bots/api#getme",
    },
    Issuer {
        provider: Provider::Facebook,
        name: "Facebook",
        rules: &[("facebook-access-token", |t| shaped(t, "EAA", 100..=400, alnum))],
        site: Site::One("https://graph.facebook.com"),
        domains: &["facebook.com"],
        request: get("/me?fields=id,name", Send::Bearer),
        answers: &[
            ok("/id"),
            // Error 190: "Invalid OAuth 2.0 Access Token" (expired,
            // revoked, never valid). Other errors are not a rejection.
            Answer {
                status: 400,
                when: When::Is("/error/code", Val::Int(190)),
                means: Means::Inactive("OAuthException 190"),
            },
            Answer {
                status: 401,
                when: When::Is("/error/code", Val::Int(190)),
                means: Means::Inactive("OAuthException 190"),
            },
        ],
        shows: &[owner("/name"), owner("/id")],
        docs: "https://developers.facebook.com/docs/graph-api/guides/error-handling/",
    },
    Issuer {
        provider: Provider::Webex,
        name: "Webex",
        rules: &[("webex-access-token", webex)],
        site: Site::One("https://webexapis.com"),
        domains: &["webexapis.com"],
        request: get("/v1/people/me", Send::Bearer),
        answers: &[ok("/id"), rejected(401)],
        shows: &[owner("/emails/0"), owner("/displayName")],
        docs: "https://developer.webex.com/docs/api/v1/people/get-my-own-details",
    },
    // --------------------------------------------------------------- cloud
    Issuer {
        provider: Provider::Linode,
        name: "Linode",
        rules: &[("linode-api-token", |t| all(t, 64, lower_hex))],
        site: Site::One("https://api.linode.com"),
        domains: &["linode.com"],
        request: get("/v4/profile", Send::Bearer),
        answers: &[
            ok("/username"),
            // Linode answers 401 to a token without the scope too.
            rejected_as(401, "/errors/0/reason", "Invalid Token"),
            denied_as(
                401,
                "/errors/0/reason",
                "Your OAuth token is not authorized to use this endpoint.",
            ),
        ],
        shows: &[owner("/username"), owner("/email")],
        docs: "https://techdocs.akamai.com/linode-api/reference/get-profile",
    },
    Issuer {
        provider: Provider::Vultr,
        name: "Vultr",
        rules: &[("vultr-api-key", |t| all(t, 36, upper_digit))],
        site: Site::One("https://api.vultr.com"),
        domains: &["vultr.com"],
        request: get("/v2/account", Send::Bearer),
        // Vultr answers 401 to a key used from an address outside its
        // allowed list as well: only its "invalid token" words reject.
        answers: &[
            ok("/account"),
            Answer {
                status: 401,
                when: When::Is("/error", Val::Prefix("Invalid API token")),
                means: Means::Inactive("Invalid API token"),
            },
        ],
        shows: &[owner("/account/email"), org("/account/name"), scopes("/account/acls")],
        docs: "https://www.vultr.com/api/#tag/account/operation/get-account",
    },
    Issuer {
        provider: Provider::Hetzner,
        name: "Hetzner Cloud",
        rules: &[("hetzner-cloud-token", |t| all(t, 64, alnum))],
        site: Site::One("https://api.hetzner.cloud"),
        domains: &["hetzner.cloud"],
        request: get("/v1/servers?per_page=1", Send::Bearer),
        answers: &[ok("/servers"), rejected_as(401, "/error/code", "unauthorized")],
        shows: &[],
        docs: "https://docs.hetzner.cloud/#authentication",
    },
    Issuer {
        provider: Provider::Upcloud,
        name: "UpCloud",
        rules: &[("upcloud-api-token", |t| shaped(t, "ucat_", 24..=32, alnum))],
        site: Site::One("https://api.upcloud.com"),
        domains: &["upcloud.com"],
        request: get("/1.3/account", Send::Bearer),
        answers: &[ok("/account"), rejected(401)],
        shows: &[owner("/account/username")],
        docs: "https://developers.upcloud.com/1.3/3-accounts/",
    },
    Issuer {
        provider: Provider::Fastly,
        name: "Fastly",
        rules: &[("fastly-api-token", |t| all(t, 32, url_safe))],
        site: Site::One("https://api.fastly.com"),
        domains: &["fastly.com"],
        request: get("/tokens/self", Send::Header("fastly-key")),
        answers: &[ok("/id"), rejected(401)],
        shows: &[
            owner("/name"),
            scopes("/scope"),
            Shown(Field::Expires, Source::Json("/expires_at")),
        ],
        docs: "https://www.fastly.com/documentation/reference/api/auth-tokens/user/",
    },
    // ------------------------------------------------------- SaaS and data
    Issuer {
        provider: Provider::Typeform,
        name: "Typeform",
        rules: &[("typeform-personal-access-token", |t| shaped(t, "tfp_", 40..=59, url_safe))],
        site: Site::AnyOf(&["https://api.typeform.com", "https://api.eu.typeform.com"]),
        domains: &["typeform.com"],
        request: get("/me", Send::Bearer),
        answers: &[ok("/alias"), rejected(401)],
        shows: &[owner("/email"), owner("/alias")],
        docs: "https://www.typeform.com/developers/get-started/",
    },
    Issuer {
        provider: Provider::Intercom,
        name: "Intercom",
        rules: &[("intercom-access-token", intercom)],
        site: Site::AnyOf(&[
            "https://api.intercom.io",
            "https://api.eu.intercom.io",
            "https://api.au.intercom.io",
        ]),
        domains: &["intercom.io"],
        request: get("/me", Send::Bearer),
        answers: &[ok("/id"), rejected(401)],
        shows: &[owner("/email"), org("/app/name")],
        docs: "https://developers.intercom.com/docs/references/rest-api/api.intercom.io/admins/identifyadmin",
    },
    Issuer {
        provider: Provider::Hubspot,
        name: "HubSpot",
        rules: &[("hubspot-private-app-token", hubspot)],
        site: Site::One("https://api.hubapi.com"),
        domains: &["hubapi.com"],
        request: get("/account-info/v3/details", Send::Bearer),
        answers: &[ok("/portalId"), rejected(401)],
        shows: &[org("/portalId")],
        docs: "https://developers.hubspot.com/docs/api-reference/legacy/account/account-information/get-account-details",
    },
    Issuer {
        provider: Provider::Klaviyo,
        name: "Klaviyo",
        rules: &[("klaviyo-private-key", |t| shaped(t, "pk_", 34..=34, alnum))],
        site: Site::One("https://a.klaviyo.com"),
        domains: &["klaviyo.com"],
        request: Request {
            accept: "application/vnd.api+json",
            headers: &[("revision", "2024-10-15")],
            ..get("/api/accounts", Send::Prefixed("Klaviyo-API-Key "))
        },
        answers: &[
            ok("/data"),
            denied_as(403, "/errors/0/code", "permission_denied"),
            rejected(401),
        ],
        shows: &[org("/data/0/attributes/contact_information/organization_name")],
        docs: "https://developers.klaviyo.com/en/reference/get_accounts",
    },
    Issuer {
        provider: Provider::Pinecone,
        name: "Pinecone",
        rules: &[("pinecone-api-key", pinecone)],
        site: Site::One("https://api.pinecone.io"),
        domains: &["pinecone.io"],
        request: Request {
            headers: &[("x-pinecone-api-version", "2024-07")],
            ..get("/indexes", Send::Header("api-key"))
        },
        answers: &[ok("/indexes"), rejected(401)],
        shows: &[],
        docs: "https://docs.pinecone.io/reference/api/2024-07/control-plane/list_indexes",
    },
    Issuer {
        provider: Provider::Neon,
        name: "Neon",
        rules: &[("neon-api-key", |t| shaped(t, "napi_", 64..=64, alnum))],
        site: Site::One("https://console.neon.tech"),
        domains: &["neon.tech"],
        request: get("/api/v2/users/me", Send::Bearer),
        answers: &[ok("/id"), rejected(401)],
        shows: &[owner("/email"), owner("/name")],
        docs: "https://api-docs.neon.tech/reference/getcurrentuserinfo",
    },
    Issuer {
        provider: Provider::Launchdarkly,
        name: "LaunchDarkly",
        rules: &[("launchdarkly-access-token", launchdarkly)],
        site: Site::AnyOf(&[
            "https://app.launchdarkly.com",
            "https://app.eu.launchdarkly.com",
            "https://app.launchdarkly.us",
        ]),
        domains: &["launchdarkly.com", "launchdarkly.us"],
        request: get("/api/v2/caller-identity", Send::Raw),
        answers: &[ok("/accountId"), rejected(401)],
        shows: &[owner("/memberId"), org("/accountId"), owner("/tokenName")],
        docs: "https://launchdarkly.com/docs/api/other/get-caller-identity",
    },
    Issuer {
        provider: Provider::Contentful,
        name: "Contentful",
        rules: &[("contentful-personal-access-token", |t| shaped(t, "CFPAT-", 43..=43, url_safe))],
        site: Site::AnyOf(&["https://api.contentful.com", "https://api.eu.contentful.com"]),
        domains: &["contentful.com"],
        request: get("/users/me", Send::Bearer),
        answers: &[ok("/sys/id"), rejected(401)],
        shows: &[owner("/email")],
        docs: "https://www.contentful.com/developers/docs/references/content-management-api/#/reference/users/user/get-the-authenticated-user",
    },
    Issuer {
        provider: Provider::Clickup,
        name: "ClickUp",
        rules: &[("clickup-personal-token", clickup)],
        site: Site::One("https://api.clickup.com"),
        domains: &["clickup.com"],
        request: get("/api/v2/user", Send::Raw),
        answers: &[ok("/user/id"), rejected(401)],
        shows: &[owner("/user/email"), owner("/user/username")],
        docs: "https://developer.clickup.com/reference/getauthorizeduser",
    },
    Issuer {
        provider: Provider::Prefect,
        name: "Prefect Cloud",
        rules: &[("prefect-api-key", |t| shaped(t, "pnu_", 36..=36, alnum))],
        site: Site::One("https://api.prefect.cloud"),
        domains: &["prefect.cloud"],
        request: get("/api/me/", Send::Bearer),
        answers: &[ok("/id"), rejected(401)],
        shows: &[owner("/email"), owner("/handle")],
        docs: "https://app.prefect.cloud/api/docs#tag/Me/operation/read_me_api_me__get",
    },
    Issuer {
        provider: Provider::Coda,
        name: "Coda",
        rules: &[("coda-api-token", |t| uuid(t, lower_hex))],
        site: Site::One("https://coda.io"),
        domains: &["coda.io"],
        request: get("/apis/v1/whoami", Send::Bearer),
        answers: &[ok("/loginId"), rejected(401)],
        shows: &[owner("/loginId"), org("/workspace/name")],
        docs: "https://coda.io/developers/apis/v1#operation/whoami",
    },
    Issuer {
        provider: Provider::Eventbrite,
        name: "Eventbrite",
        rules: &[("eventbrite-private-token", |t| all(t, 20, upper_digit))],
        site: Site::One("https://www.eventbriteapi.com"),
        domains: &["eventbriteapi.com"],
        request: get("/v3/users/me/", Send::Bearer),
        answers: &[ok("/id"), rejected(401)],
        shows: &[owner("/emails/0/email"), owner("/name")],
        docs: "https://www.eventbrite.com/platform/api#/reference/user/retrieve-your-user/retrieve-your-user",
    },
    Issuer {
        provider: Provider::Rubygems,
        name: "RubyGems.org",
        rules: &[("rubygems-api-key", |t| shaped(t, "rubygems_", 48..=48, lower_hex))],
        site: Site::One("https://rubygems.org"),
        domains: &["rubygems.org"],
        request: get("/api/v1/gems.json", Send::Raw),
        answers: &[OK_JSON, rejected(401)],
        shows: &[],
        docs: "https://guides.rubygems.org/rubygems-org-api/#gem-methods",
    },
    Issuer {
        provider: Provider::Sonarcloud,
        name: "SonarQube Cloud",
        rules: &[("sonarcloud-token", |t| shaped(t, "sqco_", 59..=59, alnum))],
        site: Site::One("https://sonarcloud.io"),
        domains: &["sonarcloud.io"],
        request: get("/api/authentication/validate", Send::Bearer),
        answers: &[
            Answer {
                status: 200,
                when: When::Is("/valid", Val::Bool(true)),
                means: Means::Active,
            },
            Answer {
                status: 200,
                when: When::Is("/valid", Val::Bool(false)),
                means: Means::Inactive("valid: false"),
            },
            rejected(401),
        ],
        shows: &[],
        docs: "https://docs.sonarsource.com/sonarqube-cloud/advanced-setup/web-api/",
    },
    Issuer {
        provider: Provider::Cloudsmith,
        name: "Cloudsmith",
        rules: &[("cloudsmith-api-key", |t| all(t, 40, lower_hex))],
        site: Site::One("https://api.cloudsmith.io"),
        domains: &["cloudsmith.io"],
        request: get("/v1/user/self/", Send::Header("x-api-key")),
        answers: &[
            Answer {
                status: 200,
                when: When::Is("/authenticated", Val::Bool(true)),
                means: Means::Active,
            },
            rejected(401),
        ],
        shows: &[owner("/email"), owner("/slug")],
        docs: "https://help.cloudsmith.io/reference/user_self",
    },
];
