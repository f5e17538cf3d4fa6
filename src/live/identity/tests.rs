//! The table's own invariants: complete, consistent with the providers and
//! the rules, official hosts on the issuers' domains, answers that can
//! only call a token inactive when the issuer said so.

use std::collections::BTreeSet;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::*;
use crate::live::HAND_WRITTEN;
use crate::model::Secret;
use crate::net::TOKEN_SLOT;
use crate::tokengen::{generate, TokenRng};

#[test]
fn every_provider_is_either_hand_written_or_one_table_entry() {
    let mut seen = BTreeSet::new();
    for issuer in ISSUERS {
        assert!(seen.insert(issuer.provider), "{:?} twice", issuer.provider);
        assert!(
            !HAND_WRITTEN.contains(&issuer.provider),
            "{:?} is hand-written and in the table",
            issuer.provider
        );
    }
    for provider in Provider::ALL {
        assert!(
            HAND_WRITTEN.contains(provider) || seen.contains(provider),
            "{provider:?} has no check"
        );
    }
    assert_eq!(HAND_WRITTEN.len() + ISSUERS.len(), Provider::ALL.len());
}

#[test]
fn every_rule_is_a_built_in_one_and_belongs_to_one_issuer() {
    let rules = crate::rules::builtin().expect("built-in rules compile");
    let ids: BTreeSet<&str> = rules.rules().iter().map(|r| r.spec.id.as_str()).collect();
    let mut claimed = BTreeSet::new();
    for issuer in ISSUERS {
        assert!(!issuer.rules.is_empty(), "{}", issuer.name);
        for (id, _) in issuer.rules {
            assert!(ids.contains(id), "{}: no built-in rule {id}", issuer.name);
            assert!(claimed.insert(*id), "{id} claimed twice");
        }
    }
}

#[test]
fn generated_tokens_pass_their_shape_and_nothing_else_does() {
    for seed in 0..12 {
        let mut rng = TokenRng::new(seed);
        for issuer in ISSUERS {
            for (rule, _) in issuer.rules {
                let token =
                    generate(rule, &mut rng).unwrap_or_else(|| panic!("{rule}: no generator"));
                let secret = Secret::new(token.clone());
                assert_eq!(
                    crate::live::provider_for(rule, &secret),
                    Some(issuer.provider),
                    "{rule}: {token:?} refused"
                );
                // A custom rule never sends anything, whatever it matched.
                assert_eq!(crate::live::provider_for("my-custom-rule", &secret), None);
                // A byte no shape allows, one more or one less byte.
                for bent in [
                    format!("{token}/"),
                    format!("{token}\u{e9}"),
                    format!("/{token}"),
                ] {
                    assert_eq!(provider_for(rule, &bent), None, "{rule}: {bent:?}");
                }
            }
        }
    }
}

#[test]
fn shapes_survive_hostile_text() {
    // Multi-byte text of every length never panics a shape check.
    for issuer in ISSUERS {
        for (rule, shape) in issuer.rules {
            for len in 0..130 {
                let text: String = "é".repeat(len);
                assert!(!shape(&text), "{rule}");
                let mixed = "aé".repeat(len);
                assert!(!shape(&mixed), "{rule}");
            }
        }
    }
}

/// The registrable domain test: the host is the domain or under it.
fn on_domain(host: &str, domain: &str) -> bool {
    host == domain || host.ends_with(&format!(".{domain}"))
}

#[test]
fn official_bases_are_https_hosts_on_the_issuers_own_domains() {
    for issuer in ISSUERS {
        assert!(!issuer.domains.is_empty(), "{}", issuer.name);
        for domain in issuer.domains {
            // A real domain, not a public suffix.
            assert!(domain.contains('.'), "{}: {domain}", issuer.name);
            assert_eq!(*domain, domain.to_ascii_lowercase());
        }
        for base in issuer.official_bases() {
            let host = base
                .strip_prefix("https://")
                .unwrap_or_else(|| panic!("{}: {base} is not HTTPS", issuer.name));
            assert!(
                host.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'.'
                    || b == b'-'),
                "{}: {base} is more than a host",
                issuer.name
            );
            assert!(
                issuer.domains.iter().any(|d| on_domain(host, d)),
                "{}: {host} is not on {:?}",
                issuer.name,
                issuer.domains
            );
        }
        assert_eq!(issuer.base(), issuer.official_bases()[0]);
    }
}

#[test]
fn requests_are_well_formed() {
    for issuer in ISSUERS {
        let r = &issuer.request;
        assert!(r.path.starts_with('/'), "{}", issuer.name);
        let slots = r.path.matches(TOKEN_SLOT).count();
        assert_eq!(slots == 1, r.send == Send::InPath, "{}", issuer.name);
        assert!(slots <= 1, "{}", issuer.name);
        let mut names: Vec<&str> = r.headers.iter().map(|(n, _)| *n).collect();
        if let Send::Header(name) = r.send {
            names.push(name);
        }
        for name in names {
            assert_eq!(name, name.to_ascii_lowercase(), "{}", issuer.name);
            assert!(HeaderName::from_bytes(name.as_bytes()).is_ok(), "{name}");
            assert_ne!(
                name, "authorization",
                "{}: use the Authorization forms",
                issuer.name
            );
        }
        for (_, value) in r.headers {
            assert!(HeaderValue::from_str(value).is_ok());
        }
        assert!(HeaderValue::from_str(r.accept).is_ok());
        if let Some(body) = r.body {
            assert!(r.verb == Verb::Post, "{}: a body on a GET", issuer.name);
            serde_json::from_str::<serde_json::Value>(body)
                .unwrap_or_else(|e| panic!("{}: {e}", issuer.name));
        }
        assert!(issuer.docs.starts_with("https://"), "{}", issuer.name);
    }
}

#[test]
fn answers_only_reject_where_the_issuer_said_so() {
    for issuer in ISSUERS {
        let name = issuer.name;
        assert!(
            issuer
                .answers
                .iter()
                .any(|a| a.status == 200 && matches!(a.means, Means::Active)),
            "{name}: no active answer"
        );
        assert!(
            issuer
                .answers
                .iter()
                .any(|a| matches!(a.means, Means::Inactive(_))),
            "{name}: no rejection"
        );
        for a in issuer.answers {
            // Rate limits, server errors and redirects are never read.
            assert!(
                a.status == 200 || (400..=499).contains(&a.status) && a.status != 429,
                "{name}: {}",
                a.status
            );
            match a.means {
                // An active answer is recognised by its body, never by its
                // status alone (a proxy answers 200 too).
                Means::Active | Means::Denied(_) => {
                    assert!(!matches!(a.when, When::Any), "{name}: bare {}", a.status);
                }
                // A 200 rejects only by the issuer's explicit word.
                Means::Inactive(_) if a.status == 200 => {
                    assert!(matches!(a.when, When::Is(..)), "{name}: bare 200 rejection");
                }
                Means::Inactive(_) => {}
            }
        }
    }
}

#[test]
fn hosts_follow_the_token_and_overrides_keep_the_host_in_the_path() {
    let mailchimp = issuer(Provider::Mailchimp).unwrap();
    let key = format!("{}-us14", "0123456789abcdef".repeat(2));
    assert_eq!(
        mailchimp.bases(&key, mailchimp.base()).unwrap(),
        ["https://us14.api.mailchimp.com"]
    );
    assert_eq!(
        mailchimp.bases(&key, "http://127.0.0.1:9").unwrap(),
        ["http://127.0.0.1:9/us14.api.mailchimp.com"]
    );
    // A label that is not one DNS label is never used.
    assert_eq!(mailchimp.bases("x-us1.evil", mailchimp.base()), None);

    let deepl = issuer(Provider::Deepl).unwrap();
    let free = "279a2e9d-83b3-c416-7e2d-f721593e42a0:fx";
    assert_eq!(
        deepl.bases(free, deepl.base()).unwrap(),
        ["https://api-free.deepl.com"]
    );
    assert_eq!(
        deepl.bases(&free[..36], deepl.base()).unwrap(),
        ["https://api.deepl.com"]
    );

    let datadog = issuer(Provider::Datadog).unwrap();
    let bases = datadog.bases("k", "http://127.0.0.1:9").unwrap();
    assert_eq!(bases.len(), datadog.official_bases().len());
    assert_eq!(bases[0], "http://127.0.0.1:9/api.datadoghq.com");
    assert_eq!(bases[3], "http://127.0.0.1:9/api.datadoghq.eu");
}

fn reply(status: u16, content_type: &str, body: &str, headers: &[(&'static str, &str)]) -> Reply {
    let mut map = HeaderMap::new();
    map.insert("content-type", HeaderValue::from_str(content_type).unwrap());
    for (k, v) in headers {
        map.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    Reply {
        status,
        headers: map,
        body: body.as_bytes().to_vec(),
        endpoint: "GET https://example/".into(),
    }
}

#[test]
fn answers_are_read_by_status_and_body() {
    let openai = issuer(Provider::Openai).unwrap();
    let json = "application/json";
    let v = read(
        openai,
        &reply(
            200,
            json,
            r#"{"data":[]}"#,
            &[("openai-organization", "acme-ml")],
        ),
    );
    assert_eq!(v.status, Status::Active);
    assert_eq!(v.organisation.as_deref(), Some("acme-ml"));
    let v = read(
        openai,
        &reply(401, json, r#"{"error":{"code":"invalid_api_key"}}"#, &[]),
    );
    assert_eq!(v.status, Status::Inactive);
    assert!(v
        .reason
        .unwrap()
        .contains("rejected by OpenAI (HTTP 401 invalid_api_key)"));
    // A 401 that is not the documented bad-key answer stays open.
    let v = read(
        openai,
        &reply(401, json, r#"{"error":{"code":"other"}}"#, &[]),
    );
    assert_eq!(v.status, Status::Unknown);
    // So does a proxy's HTML, a 200 without the API's body, a 429, a 500.
    for (status, ct, body) in [
        (401, "text/html", "<html>sign in</html>"),
        (200, json, r#"{"hello":1}"#),
        (200, "text/plain", "ok"),
        (429, json, "{}"),
        (500, json, "{}"),
    ] {
        let v = read(openai, &reply(status, ct, body, &[]));
        assert_eq!(v.status, Status::Unknown, "{status} {body}");
        assert!(v.reason.is_some());
    }
}

#[test]
fn identity_fields_come_from_the_listed_places() {
    let asana = issuer(Provider::Asana).unwrap();
    let body = r#"{"data":{"gid":"1","email":"","name":"Ada","workspaces":[{"name":"Acme"}]}}"#;
    let v = read(asana, &reply(200, "application/json", body, &[]));
    // An empty e-mail falls back to the name.
    assert_eq!(v.owner.as_deref(), Some("Ada"));
    assert_eq!(v.organisation.as_deref(), Some("Acme"));
    let fastly = issuer(Provider::Fastly).unwrap();
    let body = r#"{"id":"t1","name":"ci","scope":"global:read purge_select","expires_at":"2031-01-01T00:00:00Z"}"#;
    let v = read(fastly, &reply(200, "application/json", body, &[]));
    assert_eq!(v.scopes, ["global:read", "purge_select"]);
    assert_eq!(v.expires_at.as_deref(), Some("2031-01-01T00:00:00Z"));
    let hubspot = issuer(Provider::Hubspot).unwrap();
    let v = read(
        hubspot,
        &reply(200, "application/json", r#"{"portalId":123}"#, &[]),
    );
    assert_eq!(v.organisation.as_deref(), Some("123"));
}

#[test]
fn a_denied_answer_is_active_with_its_reason() {
    let square = issuer(Provider::Square).unwrap();
    let body = r#"{"errors":[{"code":"INSUFFICIENT_SCOPES"}]}"#;
    let v = read(square, &reply(403, "application/json", body, &[]));
    assert_eq!(v.status, Status::Active);
    assert!(v.reason.unwrap().contains("may not make this call"));
    let v = read(square, &reply(403, "application/json", "{}", &[]));
    assert_eq!(v.status, Status::Unknown);
}

#[test]
fn the_markdown_table_has_a_row_per_issuer() {
    let md = markdown_table();
    assert_eq!(md.lines().count(), ISSUERS.len() + 2);
    for issuer in ISSUERS {
        assert!(md.contains(&format!("[{}]({})", issuer.name, issuer.docs)));
        for base in issuer.official_bases() {
            assert!(md.contains(base.trim_start_matches("https://")), "{base}");
        }
    }
}
