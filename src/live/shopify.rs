//! Shopify: an access token works on one shop only, so patscan checks it
//! only on a shop named near it (`SHOP.myshopify.com`, a host Shopify
//! operates), with `GET /admin/oauth/access_scopes.json` and the token in
//! `X-Shopify-Access-Token`. 200 with `access_scopes` is active (the
//! scopes reported), 401 inactive. Without a shop name it is `unknown`.
//! Shared secrets (`shpss_`) are not access tokens and are not checked.

use super::support;
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::detect::context::{is_label, MAX_INSTANCES};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Call, Http};

/// Shopify's shop domain. Requests go to `https://SHOP.myshopify.com`; this
/// constant stands for the provider in `PATSCAN_ENDPOINT_OVERRIDES`.
pub const BASE: &str = "https://myshopify.com";
const DOMAIN: &str = "myshopify.com";
const HEADER: &str = "x-shopify-access-token";

pub fn accepts(rule_id: &str, token: &str) -> bool {
    let prefix = match rule_id {
        "shopify-access-token" => "shpat_",
        "shopify-custom-app-token" => "shpca_",
        "shopify-private-app-token" => "shppa_",
        _ => return false,
    };
    support::shaped(token, prefix, 32..=32, |b| b.is_ascii_hexdigit())
}

fn shop_of(entry: &str) -> Option<&str> {
    entry
        .strip_suffix(".myshopify.com")
        .filter(|shop| is_label(shop))
}

pub fn verify(http: &Http, base: &str, token: &str, context: &[String]) -> Verification {
    let shops: Vec<&str> = context
        .iter()
        .filter_map(|e| shop_of(e))
        .take(MAX_INSTANCES)
        .collect();
    if shops.is_empty() {
        return Verification::unknown(
            Provider::Shopify,
            "a Shopify token works only on its own shop, and no shop (SHOP.myshopify.com) is \
             named near it",
        );
    }
    let results = shops
        .iter()
        .map(|shop| {
            // Under a test override every shop is the emulator.
            let host = if base == BASE {
                format!("https://{shop}.{DOMAIN}")
            } else {
                base.to_string()
            };
            check_shop(http, &host, shop, token)
        })
        .collect();
    support::combine(results)
        .unwrap_or_else(|| Verification::unknown(Provider::Shopify, "no shop answered"))
}

fn check_shop(http: &Http, host: &str, shop: &str, token: &str) -> Verification {
    let call = Call::get(
        format!("{host}/admin/oauth/access_scopes.json"),
        Auth::Header(HEADER, token),
    );
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Shopify, &call.describe()),
    };
    match (answer.status, answer.json()) {
        (200, Some(body)) if body["access_scopes"].is_array() => {
            let mut v = answer.verification(Status::Active, Provider::Shopify);
            v.organisation = Some(format!("{shop}.{DOMAIN}"));
            v.scopes = body["access_scopes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s["handle"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            v
        }
        (401, _) => answer
            .verification(Status::Inactive, Provider::Shopify)
            .with_reason(format!(
                "rejected by the shop {shop}.{DOMAIN} (401): revoked, app uninstalled or never \
                 valid there"
            )),
        _ => answer.unexpected(Provider::Shopify),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shops_are_rechecked_before_use() {
        assert_eq!(shop_of("acme-store.myshopify.com"), Some("acme-store"));
        assert_eq!(shop_of("a:1.myshopify.com"), None);
        assert_eq!(shop_of("evil.example/x.myshopify.com"), None);
    }
}
