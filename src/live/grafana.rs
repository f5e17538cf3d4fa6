//! Grafana: service account tokens work only on the Grafana instance that
//! issued them, so there is no central "who am I". patscan checks a token
//! only on a Grafana Cloud stack (`https://STACK.grafana.net`, a host
//! Grafana Labs operates) named within a few KiB of it, with
//! `GET /api/org` and the token as Bearer: 200 with the organisation's `id`
//! and `name` is active, 401 inactive. A self-hosted Grafana's address would
//! come from the scanned files, and a token never goes to a host a file
//! names, so such tokens are `unknown` with that reason.

use super::support;
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::detect::context::{is_grafana_stack, MAX_INSTANCES};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Call, Http};

/// Grafana Cloud's domain. Requests go to `https://STACK.grafana.net`; this
/// constant stands for the provider in `PATSCAN_ENDPOINT_OVERRIDES`.
pub const BASE: &str = "https://grafana.net";
const DOMAIN: &str = "grafana.net";

pub fn accepts(rule_id: &str, token: &str) -> bool {
    rule_id == "grafana-service-account-token" && checksum_holds(token)
}

/// `glsa_` + 32 alphanumerics + `_` + the CRC-32 of the first 37 bytes,
/// its four bytes little-endian, in lowercase hex (Grafana's satokengen).
fn checksum_holds(token: &str) -> bool {
    let bytes = token.as_bytes();
    if bytes.len() != 46 || !token.starts_with("glsa_") || bytes[37] != b'_' {
        return false;
    }
    if !bytes[5..37].iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let crc = crc32fast::hash(&bytes[..37]).to_le_bytes();
    let want: String = crc.iter().map(|b| format!("{b:02x}")).collect();
    token[38..] == want
}

/// The stack of a context entry `STACK.grafana.net`, re-checked.
fn stack_of(entry: &str) -> Option<&str> {
    entry
        .strip_suffix(".grafana.net")
        .filter(|stack| is_grafana_stack(stack))
}

pub fn verify(http: &Http, base: &str, token: &str, context: &[String]) -> Verification {
    let stacks: Vec<&str> = context
        .iter()
        .filter_map(|e| stack_of(e))
        .take(MAX_INSTANCES)
        .collect();
    if stacks.is_empty() {
        return Verification::unknown(
            Provider::Grafana,
            "a Grafana token works only on its own instance, and no Grafana Cloud stack \
             (https://STACK.grafana.net) is named near it; patscan never sends a token to a \
             self-hosted address taken from the scanned files",
        );
    }
    let results = stacks
        .iter()
        .map(|stack| {
            // Under a test override every stack is the emulator.
            let host = if base == BASE {
                format!("https://{stack}.{DOMAIN}")
            } else {
                base.to_string()
            };
            check_stack(http, &host, stack, token)
        })
        .collect();
    support::combine(results)
        .unwrap_or_else(|| Verification::unknown(Provider::Grafana, "no stack answered"))
}

fn check_stack(http: &Http, host: &str, stack: &str, token: &str) -> Verification {
    let call = Call::get(format!("{host}/api/org"), Auth::Bearer(token));
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Grafana, &call.describe()),
    };
    match (answer.status, answer.json()) {
        (200, Some(body)) if body["id"].is_number() && body["name"].is_string() => {
            let mut v = answer.verification(Status::Active, Provider::Grafana);
            v.organisation = Some(format!(
                "{} ({stack}.{DOMAIN})",
                body["name"].as_str().unwrap_or_default()
            ));
            v
        }
        (401, _) => answer
            .verification(Status::Inactive, Provider::Grafana)
            .with_reason(format!(
                "rejected by the Grafana stack {stack}.{DOMAIN} (401): deleted, expired or \
                 never valid there"
            )),
        _ => answer.unexpected(Provider::Grafana),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_are_rechecked_before_use() {
        assert_eq!(stack_of("acme.grafana.net"), Some("acme"));
        assert_eq!(stack_of("a/b.grafana.net"), None);
        assert_eq!(stack_of("logs-prod-006.grafana.net"), None);
    }
}
