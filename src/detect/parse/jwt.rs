//! JSON Web Tokens: `header.claims.signature`, each part base64url.
//!
//! Why a parser: `eyJ` starts every base64-encoded JSON object, so the
//! shape alone finds source maps and test data as readily as tokens. A
//! JWT is a credential only if its header decodes to JSON naming a signing
//! algorithm (an `alg: none` token authenticates nothing), its claims to a
//! JSON object, and it carries a signature. The claims then say what the
//! token opens and for how long: issuer, audience, Entra tenant and app,
//! expiry. An expired token is reported with that fact at low confidence
//! (it no longer works, but it shows where live ones are kept); a token
//! with neither issuer nor expiry names nothing to revoke and is low too.
//! Nothing is verified: the signing key is the issuer's.

use std::ops::Range;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde_json::Value;

use super::Parsed;
use crate::model::Confidence;

const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Longest token read: Entra tokens with many group claims run to a few
/// kilobytes; past this it is no bearer token anyone sends.
const MAX_JWT: usize = 16 << 10;
/// Shortest signature kept: an HMAC-SHA-256 is 43 characters.
const MIN_SIGNATURE: usize = 16;

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The token starting at `span.start`, read to the end of its signature
/// (the regex stops early: the window it searches is bounded).
pub fn parse(text: &[u8], span: Range<usize>) -> Option<Parsed> {
    parse_at(text, span.start, now())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn run_end(text: &[u8], from: usize, limit: usize) -> usize {
    text[from..limit]
        .iter()
        .position(|&b| !is_b64url(b))
        .map_or(limit, |i| from + i)
}

fn parse_at(text: &[u8], start: usize, now: i64) -> Option<Parsed> {
    let limit = text.len().min(start + MAX_JWT);
    let header_end = run_end(text, start, limit);
    if text.get(header_end) != Some(&b'.') {
        return None;
    }
    let payload_end = run_end(text, header_end + 1, limit);
    if text.get(payload_end) != Some(&b'.') {
        return None;
    }
    let signature_end = run_end(text, payload_end + 1, limit);
    // A fourth part: a JWE (encrypted, five parts), not a signed token.
    if text.get(signature_end) == Some(&b'.') {
        return None;
    }
    if signature_end - (payload_end + 1) < MIN_SIGNATURE {
        return None;
    }
    let header = json_object(&text[start..header_end])?;
    let claims = json_object(&text[header_end + 1..payload_end])?;
    let alg = header.get("alg")?.as_str()?;
    if alg.eq_ignore_ascii_case("none") || header.get("enc").is_some() {
        return None;
    }
    if is_sample(&claims) {
        return None;
    }
    let mut parsed = Parsed::new(start..signature_end, Confidence::Medium);
    parsed.detail("alg", alg);
    let text_claim = |name: &str| -> Option<String> {
        match claims.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            _ => None,
        }
    };
    let issuer = text_claim("iss");
    let kind = match issuer.as_deref() {
        Some(iss)
            if iss.contains("sts.windows.net")
                || iss.contains("login.microsoftonline.com")
                || iss.contains("login.windows.net") =>
        {
            Some("entra-id")
        }
        Some("kubernetes/serviceaccount") => Some("kubernetes-service-account"),
        Some(iss) if iss.contains("kubernetes") || claims.get("kubernetes.io").is_some() => {
            Some("kubernetes-service-account")
        }
        _ => None,
    };
    if let Some(kind) = kind {
        parsed.detail("kind", kind);
    }
    for (claim, name) in [("iss", "issuer"), ("aud", "audience"), ("tid", "tenant")] {
        if let Some(value) = text_claim(claim) {
            parsed.detail(name, value);
        }
    }
    if let Some(app) = text_claim("appid").or_else(|| text_claim("azp")) {
        parsed.detail("app", app);
    }
    if let Some(sub) = text_claim("sub").filter(|s| s.starts_with("system:serviceaccount:")) {
        parsed.detail("subject", sub);
    }
    let exp = claims.get("exp").and_then(Value::as_i64);
    if let Some(exp) = exp {
        parsed.detail("expires", crate::civil_time::utc_timestamp(exp));
        let expired = exp <= now;
        parsed.detail("expired", expired.to_string());
        if expired {
            parsed.confidence = Confidence::Low;
        }
    } else if issuer.is_none() {
        parsed.confidence = Confidence::Low;
    }
    Some(parsed)
}

fn json_object(part: &[u8]) -> Option<serde_json::Map<String, Value>> {
    let bytes = URL_SAFE_LENIENT.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// jwt.io's example token and its look-alikes in tutorials.
fn is_sample(claims: &serde_json::Map<String, Value>) -> bool {
    let sub = claims.get("sub").and_then(Value::as_str);
    let name = claims.get("name").and_then(Value::as_str);
    sub == Some("1234567890") || name == Some("John Doe")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokengen::structured::{jwt, Claims};
    use crate::tokengen::TokenRng;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use crate::parse::test_details as details;

    #[test]
    fn an_entra_token_names_its_tenant_and_app() {
        let token = jwt(&mut TokenRng::new(1), Claims::Entra);
        let text = format!("Authorization: Bearer {token}\n");
        let start = text.find("eyJ").unwrap();
        let parsed = parse(text.as_bytes(), start..start + 10).unwrap();
        assert_eq!(&text[parsed.span.clone()], token);
        let d = details(&parsed);
        assert!(d.contains(&("kind", "entra-id")));
        assert!(d.iter().any(|(k, _)| *k == "tenant"));
        assert!(d.iter().any(|(k, _)| *k == "app"));
        assert!(d.contains(&("expired", "false")));
        assert_eq!(parsed.confidence, Confidence::Medium);
    }

    #[test]
    fn an_expired_token_is_low_and_says_so() {
        let token = jwt(&mut TokenRng::new(2), Claims::Expired);
        let parsed = parse(token.as_bytes(), 0..5).unwrap();
        assert_eq!(parsed.confidence, Confidence::Low);
        assert!(details(&parsed).contains(&("expired", "true")));
    }

    #[test]
    fn unsigned_and_undecodable_tokens_are_dropped() {
        let enc = |s: &str| URL_SAFE_NO_PAD.encode(s);
        let signature = "c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl";
        let none = format!(
            "{}.{}.{signature}",
            enc(r#"{"alg":"none"}"#),
            enc(r#"{"iss":"x"}"#)
        );
        assert!(parse(none.as_bytes(), 0..3).is_none());
        let unsigned = format!("{}.{}.", enc(r#"{"alg":"HS256"}"#), enc(r#"{"iss":"x"}"#));
        assert!(parse(unsigned.as_bytes(), 0..3).is_none());
        let not_json = format!("{}.{}.{signature}", enc("{not json"), enc(r#"{"iss":"x"}"#));
        assert!(parse(not_json.as_bytes(), 0..3).is_none());
        let sample = format!(
            "{}.{}.{signature}",
            enc(r#"{"alg":"HS256","typ":"JWT"}"#),
            enc(r#"{"sub":"1234567890","name":"John Doe","iat":1516239022}"#)
        );
        assert!(parse(sample.as_bytes(), 0..3).is_none());
    }

    #[test]
    fn a_kubernetes_token_without_expiry_is_kept() {
        let token = jwt(&mut TokenRng::new(3), Claims::Kubernetes);
        let parsed = parse(token.as_bytes(), 0..3).unwrap();
        assert_eq!(parsed.confidence, Confidence::Medium);
        assert!(details(&parsed).contains(&("kind", "kubernetes-service-account")));
    }
}
