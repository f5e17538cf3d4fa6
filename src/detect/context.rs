//! Context extraction: what the text around a token names that a later
//! live check needs, because the token works on one instance only. Azure
//! DevOps organisations (`dev.azure.com/ORG`, `ORG.visualstudio.com`;
//! organisation-scoped PATs can only be checked there), Grafana Cloud
//! stacks (`STACK.grafana.net`), Shopify shops (`SHOP.myshopify.com`),
//! Vault addresses (`VAULT_ADDR=https://…`) and Cloudflare account ids.
//!
//! This is detection's work, done while the bytes are at hand; it reads a
//! bounded window and never touches the network. The live checks re-check
//! every name with the same predicates ([`is_org_name`], [`is_label`],
//! [`is_grafana_stack`], [`vault_address`], [`is_cloudflare_account`])
//! before it goes into a URL, and keep each issuer's domain constant.

use std::sync::OnceLock;

use regex::bytes::Regex;

use crate::model::LiveInfo;

/// Bytes searched on each side of a token for the instance it belongs to.
pub const CONTEXT_WINDOW: usize = 2048;
/// Instances checked per token at most: bounds the requests per token.
pub const MAX_INSTANCES: usize = 3;

/// What the scanner records around a token for a later live check. Cheap,
/// and only does work for rules that need context.
pub fn context_for(rule_id: &str, buf: &[u8], start: usize, end: usize) -> LiveInfo {
    let organisations = if rule_id.starts_with("azure-devops") {
        organisations_near(buf, start, end)
    } else if rule_id == "grafana-service-account-token" {
        stacks_near(buf, start, end)
    } else if rule_id.starts_with("shopify-") {
        shops_near(buf, start, end)
    } else if rule_id.starts_with("vault-") {
        addresses_near(buf, start, end)
    } else if rule_id == "cloudflare-account-api-token" {
        accounts_near(buf, start, end)
    } else {
        Vec::new()
    };
    LiveInfo {
        organisations,
        verification: None,
    }
}

// ------------------------------------------------------------ Azure DevOps

/// Host labels of `*.visualstudio.com` that are services, not organisations.
const NOT_ORGS: &[&str] = &[
    "app",
    "www",
    "vssps",
    "vsrm",
    "pkgs",
    "feeds",
    "status",
    "marketplace",
    "aex",
    "vsaex",
    "vsstart",
    "go",
    "spsprod",
    "learn",
];

/// Organisation names in URLs within [`CONTEXT_WINDOW`] bytes of the token at
/// `start..end` in `buf`, lower-cased, first seen first.
pub fn organisations_near(buf: &[u8], start: usize, end: usize) -> Vec<String> {
    let Some(regex) = org_regex() else {
        return Vec::new();
    };
    let from = start.saturating_sub(CONTEXT_WINDOW);
    let to = end.saturating_add(CONTEXT_WINDOW).min(buf.len());
    let mut orgs = Vec::new();
    for caps in regex.captures_iter(&buf[from..to]) {
        let Some(name) = caps.get(1).or_else(|| caps.get(2)) else {
            continue;
        };
        let name = String::from_utf8_lossy(name.as_bytes()).to_ascii_lowercase();
        if is_org_name(&name) && !NOT_ORGS.contains(&name.as_str()) && !orgs.contains(&name) {
            orgs.push(name);
        }
        if orgs.len() == MAX_INSTANCES {
            break;
        }
    }
    orgs
}

fn org_regex() -> Option<&'static Regex> {
    static REGEX: OnceLock<Option<Regex>> = OnceLock::new();
    REGEX
        .get_or_init(|| {
            Regex::new(
                r"(?i)dev\.azure\.com/([a-z0-9][a-z0-9-]{0,49})|\b([a-z0-9][a-z0-9-]{0,49})\.visualstudio\.com",
            )
            .ok()
        })
        .as_ref()
}

/// Azure DevOps organisation names: letters, digits and inner hyphens, at
/// most 50 characters. Checked again before a name goes into a URL path.
pub fn is_org_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 50
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

// ------------------------------------------------------------ Grafana Cloud

/// Grafana Cloud's domain: a stack is `STACK.grafana.net`.
const GRAFANA_DOMAIN: &str = "grafana.net";

/// Labels of `*.grafana.net` that are Grafana Cloud services (metrics, logs,
/// traces endpoints), not stacks.
const GRAFANA_SERVICES: &[&str] = &[
    "www",
    "api",
    "grafana",
    "prometheus",
    "logs",
    "tempo",
    "profiles",
    "otlp",
    "alloy",
    "influx",
    "graphite",
    "mimir",
    "loki",
    "pyroscope",
    "faro",
    "status",
    "docs",
];

/// Grafana Cloud stacks (`STACK.grafana.net`) named near the token.
pub fn stacks_near(buf: &[u8], start: usize, end: usize) -> Vec<String> {
    let Some(regex) = stack_regex() else {
        return Vec::new();
    };
    names_near(regex, buf, start, end, is_grafana_stack)
        .into_iter()
        .map(|stack| format!("{stack}.{GRAFANA_DOMAIN}"))
        .collect()
}

fn stack_regex() -> Option<&'static Regex> {
    static REGEX: OnceLock<Option<Regex>> = OnceLock::new();
    REGEX
        .get_or_init(|| Regex::new(r"(?i)https?://([a-z0-9][a-z0-9-]{0,62})\.grafana\.net\b").ok())
        .as_ref()
}

/// A Grafana Cloud stack's name: a DNS label that is not one of Grafana
/// Cloud's service hosts (metrics, logs, traces endpoints).
pub fn is_grafana_stack(name: &str) -> bool {
    is_label(name)
        && !name.contains("-prod-")
        && !GRAFANA_SERVICES
            .iter()
            .any(|s| name == *s || name.starts_with(&format!("{s}-")))
}

// ------------------------------------------------------------ Shopify

/// Shopify's shop domain: a shop is `SHOP.myshopify.com`.
const SHOPIFY_DOMAIN: &str = "myshopify.com";

/// Shops (`SHOP.myshopify.com`) named near the token.
pub fn shops_near(buf: &[u8], start: usize, end: usize) -> Vec<String> {
    let Some(regex) = shop_regex() else {
        return Vec::new();
    };
    names_near(regex, buf, start, end, |name| {
        is_label(name) && name != "www"
    })
    .into_iter()
    .map(|shop| format!("{shop}.{SHOPIFY_DOMAIN}"))
    .collect()
}

fn shop_regex() -> Option<&'static Regex> {
    static REGEX: OnceLock<Option<Regex>> = OnceLock::new();
    REGEX
        .get_or_init(|| {
            Regex::new(r"(?i)(?:^|[^A-Za-z0-9.-])([a-z0-9][a-z0-9-]{0,62})\.myshopify\.com\b").ok()
        })
        .as_ref()
}

// ------------------------------------------------------------ Vault

/// `https://host[:port]` values of `VAULT_ADDR` assignments near the token.
pub fn addresses_near(buf: &[u8], start: usize, end: usize) -> Vec<String> {
    let Some(regex) = addr_regex() else {
        return Vec::new();
    };
    names_near(regex, buf, start, end, |a| vault_address(a).is_some())
}

fn addr_regex() -> Option<&'static Regex> {
    static REGEX: OnceLock<Option<Regex>> = OnceLock::new();
    REGEX
        .get_or_init(|| {
            Regex::new(
                r#"(?i)\bVAULT_ADDR["']?\s*[:=]\s*["']?(https://[a-z0-9.-]{1,253}(?::[0-9]{1,5})?)(?:[/"'\s]|$)"#,
            )
            .ok()
        })
        .as_ref()
}

/// A context entry, re-checked: `https://` and a host name or address with
/// an optional port, nothing else (no user info, path or query).
pub fn vault_address(entry: &str) -> Option<&str> {
    let rest = entry.strip_prefix("https://")?;
    let (host, port) = match rest.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty() && host.len() <= 253 && host.split('.').all(is_label);
    let port_ok = port.map_or(true, |p| {
        !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
    });
    (host_ok && port_ok).then_some(entry)
}

// ------------------------------------------------------------ Cloudflare

/// Cloudflare account ids (32 lowercase hex digits) named near the token.
pub fn accounts_near(buf: &[u8], start: usize, end: usize) -> Vec<String> {
    static REGEX: OnceLock<Option<Regex>> = OnceLock::new();
    let regex = REGEX.get_or_init(|| {
        Regex::new(
            r#"(?i)(?:account[_-]?id["']?\s*[:=]\s*["']?|/accounts/)([a-f0-9]{32})(?:[^a-z0-9]|$)"#,
        )
        .ok()
    });
    match regex {
        Some(regex) => names_near(regex, buf, start, end, is_cloudflare_account),
        None => Vec::new(),
    }
}

/// A Cloudflare account id: 32 lowercase hex digits.
pub fn is_cloudflare_account(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

// ------------------------------------------------------------ shared

/// Instance names captured by group 1 of `regex` within [`CONTEXT_WINDOW`]
/// bytes of `start..end`, lower-cased, first seen first, at most
/// [`MAX_INSTANCES`], each passing `keep`.
pub fn names_near(
    regex: &Regex,
    buf: &[u8],
    start: usize,
    end: usize,
    keep: impl Fn(&str) -> bool,
) -> Vec<String> {
    let from = start.saturating_sub(CONTEXT_WINDOW);
    let to = end.saturating_add(CONTEXT_WINDOW).min(buf.len());
    let mut names: Vec<String> = Vec::new();
    let Some(window) = buf.get(from..to) else {
        return names;
    };
    for caps in regex.captures_iter(window) {
        let Some(name) = caps.get(1) else { continue };
        let name = String::from_utf8_lossy(name.as_bytes()).to_ascii_lowercase();
        if keep(&name) && !names.contains(&name) {
            names.push(name);
        }
        if names.len() == MAX_INSTANCES {
            break;
        }
    }
    names
}

/// A DNS label: letters, digits and inner hyphens, 1 to 63 characters.
/// Checked again before a name goes into a URL.
pub fn is_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_organisations_near_the_token() {
        let text = b"url: https://dev.azure.com/Contoso/proj\nTOKEN\nalso https://fabrikam.visualstudio.com/x and https://app.vssps.visualstudio.com/";
        let at = text.windows(5).position(|w| w == b"TOKEN").unwrap();
        assert_eq!(
            organisations_near(text, at, at + 5),
            vec!["contoso".to_string(), "fabrikam".to_string()]
        );
    }

    #[test]
    fn organisation_names_cannot_escape_the_path() {
        assert!(is_org_name("contoso-1"));
        for bad in ["", "../x", "a/b", "-a", "a?b", &"a".repeat(51)] {
            assert!(!is_org_name(bad), "{bad}");
        }
    }

    #[test]
    fn only_grafana_cloud_stacks_are_taken_from_the_context() {
        let text = b"url: https://acme.grafana.net\npush: https://prometheus-prod-13-prod-us-east-0.grafana.net/api/prom/push\n\
                     self: https://grafana.acme.internal\nevil: https://acme.grafana.net.evil.example\nT";
        let end = text.len();
        assert_eq!(stacks_near(text, end - 1, end), vec!["acme.grafana.net"]);
        assert!(is_grafana_stack("acme"));
        assert!(!is_grafana_stack("logs-prod-006"));
    }

    #[test]
    fn shops_come_only_from_myshopify_hosts() {
        let text = b"shop: acme-store.myshopify.com\nother: evil.example/x.myshopify.com.evil\nT";
        let end = text.len();
        let shops = shops_near(text, end - 1, end);
        assert_eq!(shops[0], "acme-store.myshopify.com");
        assert!(shops
            .iter()
            .all(|s| s.strip_suffix(".myshopify.com").is_some_and(is_label)));
    }

    #[test]
    fn only_https_vault_addresses_set_near_the_token_count() {
        let text = b"export VAULT_ADDR=https://vault.acme.example:8200\nVAULT_ADDR=http://127.0.0.1:8200\n\
                     VAULT_ADDR: \"https://user@evil.example\"\nT";
        let end = text.len();
        assert_eq!(
            addresses_near(text, end - 1, end),
            vec!["https://vault.acme.example:8200"]
        );
        for bad in [
            "http://vault.acme.example",
            "https://a@b.example",
            "https://vault.example/x",
            "https://vault.example:80x",
            "https://",
        ] {
            assert!(vault_address(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn account_ids_are_32_hex_digits_named_as_accounts() {
        let text = b"CLOUDFLARE_ACCOUNT_ID: 0123456789abcdef0123456789abcdef\n\
                     GET /client/v4/accounts/fedcba9876543210fedcba9876543210/tokens\n\
                     sha = 00112233445566778899aabbccddeeff\nT";
        let end = text.len();
        assert_eq!(
            accounts_near(text, end - 1, end),
            vec![
                "0123456789abcdef0123456789abcdef",
                "fedcba9876543210fedcba9876543210"
            ]
        );
        assert!(!is_cloudflare_account("0123456789abcdef0123456789abcdeg"));
        assert!(!is_cloudflare_account("../x"));
    }

    #[test]
    fn labels_exclude_anything_that_could_change_the_host() {
        assert!(is_label("acme-store"));
        for bad in ["", "-a", "a-", "a.b", "a/b", "a@b", "a:1"] {
            assert!(!is_label(bad), "{bad}");
        }
    }
}
