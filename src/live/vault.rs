//! HashiCorp Vault runs on its owner's servers: there is no official host.
//! patscan checks a Vault token only against the address set next to it in
//! the same file (`VAULT_ADDR=https://…`), never a guessed one, and only
//! over HTTPS: `GET /v1/auth/token/lookup-self` with the token in
//! `X-Vault-Token`. 200 with `data` is active (display name, policies and
//! expiry reported). Vault answers 403 both to an invalid token and to a
//! valid one without the default policy; only a 403 that says
//! `invalid token` is inactive, a bare `permission denied` is unknown.

use super::revoke::Attempt;
use super::support::{self, strings, text};
use super::support::{AnswerVerdict as _, FailureVerdict as _};
use crate::detect::context::{vault_address, MAX_INSTANCES};
use crate::model::{Provider, Status, Verification};
use crate::net::{Auth, Call, Http};

/// No host of its own: requests go to the `VAULT_ADDR` found near the token.
/// This reserved name (it never resolves) stands for the provider in
/// `PATSCAN_ENDPOINT_OVERRIDES`.
pub const BASE: &str = "https://vault.invalid";
const HEADER: &str = "x-vault-token";

pub fn accepts(rule_id: &str, token: &str) -> bool {
    match rule_id {
        "vault-service-token" => support::shaped(token, "hvs.", 90..=120, support::url_safe),
        "vault-batch-token" => support::shaped(token, "hvb.", 138..=300, support::url_safe),
        _ => false,
    }
}

/// Batch tokens cannot be revoked on their own.
pub fn revocable(rule_id: &str, token: &str) -> bool {
    rule_id == "vault-service-token" && accepts(rule_id, token)
}

fn addresses(base: &str, context: &[String]) -> Vec<String> {
    context
        .iter()
        .filter_map(|e| vault_address(e))
        .take(MAX_INSTANCES)
        // Under a test override every address is the emulator.
        .map(|a| {
            if base == BASE {
                a.to_string()
            } else {
                base.to_string()
            }
        })
        .collect()
}

pub fn verify(http: &Http, base: &str, token: &str, context: &[String]) -> Verification {
    let addrs = addresses(base, context);
    if addrs.is_empty() {
        return Verification::unknown(
            Provider::Vault,
            "Vault runs on its owner's servers and no VAULT_ADDR=https://… is set near the \
             token; patscan never guesses a Vault address",
        );
    }
    let results = addrs
        .iter()
        .map(|addr| lookup_self(http, addr, token))
        .collect();
    support::combine(results)
        .unwrap_or_else(|| Verification::unknown(Provider::Vault, "no Vault answered"))
}

fn lookup_self(http: &Http, addr: &str, token: &str) -> Verification {
    let call = Call::get(
        format!("{addr}/v1/auth/token/lookup-self"),
        Auth::Header(HEADER, token),
    );
    let answer = match http.send(&call) {
        Ok(answer) => answer,
        Err(failure) => return failure.verification(Provider::Vault, &call.describe()),
    };
    let json = answer.json();
    match (answer.status, &json) {
        (200, Some(body)) if body["data"].is_object() => {
            let mut v = answer.verification(Status::Active, Provider::Vault);
            v.owner = text(body, &["data", "display_name"]);
            v.scopes = strings(&body["data"]["policies"]);
            v.expires_at = text(body, &["data", "expire_time"]);
            v
        }
        (403, Some(body)) => {
            let errors = strings(&body["errors"]).join(" ").to_ascii_lowercase();
            if errors.contains("invalid token") {
                answer
                    .verification(Status::Inactive, Provider::Vault)
                    .with_reason(
                        "rejected by Vault (403 invalid token): revoked, expired or never valid",
                    )
            } else {
                answer
                    .verification(Status::Unknown, Provider::Vault)
                    .with_reason(
                        "Vault said permission denied (403): an invalid token, or a valid one \
                     without the default policy",
                    )
            }
        }
        _ => answer.unexpected(Provider::Vault),
    }
}

/// `POST /v1/auth/token/revoke-self` on the address(es) named near the
/// token: 204. The first that succeeds decides.
pub fn revoke(http: &Http, base: &str, token: &str, context: &[String]) -> Attempt {
    let addrs = addresses(base, context);
    let mut last = None;
    for addr in addrs {
        let call = Call::new(
            reqwest::Method::POST,
            format!("{addr}/v1/auth/token/revoke-self"),
            Auth::Header(HEADER, token),
        );
        let attempt = Attempt::from_answer(http.send(&call), &call, |answer| match answer.status {
            200 | 204 => Ok(format!("revoked itself ({})", answer.status)),
            403 => Err("Vault refused (403): already revoked or expired".into()),
            _ => Err(answer
                .unexpected(Provider::Vault)
                .reason
                .unwrap_or_default()),
        });
        if attempt.ok {
            return attempt;
        }
        last = Some(attempt);
    }
    last.unwrap_or_else(|| Attempt {
        ok: false,
        reason: "no VAULT_ADDR=https://… near the token: patscan does not know which Vault \
                 issued it"
            .into(),
        endpoint: String::new(),
        http_status: None,
    })
}

/// Where the dry run says the revocation would go.
pub fn describe_revocation(base: &str, context: &[String]) -> String {
    match addresses(base, context).first() {
        Some(addr) => format!("POST {addr}/v1/auth/token/revoke-self (the token revokes itself)"),
        None => "nothing: no VAULT_ADDR=https://… near the token".into(),
    }
}
