//! Connection strings: URLs with a password (`postgres://user:pass@host/db`,
//! `mongodb+srv://`, `redis://:pass@host`, `amqp://`) and `key=value;`
//! strings (ADO.NET and ODBC `Server=…;User Id=…;Password=…;`, JDBC
//! properties `;password=…` or `?password=…`, Azure Storage's
//! `AccountKey=`).
//!
//! Why a parser: the secret is the password alone, so that is the span a
//! finding masks and fingerprints, while the host and user, which say
//! whose database it is, are the context the report shows. Whether it is
//! a secret at all depends on that context: `postgres:postgres@localhost`
//! is a docker-compose default, `Password=<password>` a template, the
//! storage emulator's key is published. Those are dropped; a real password
//! for a local host is kept at low confidence.

use std::ops::Range;

use super::placeholder::{
    is_azure_storage_emulator_key, is_default_credential, is_local_host, is_placeholder_password,
};
use super::Parsed;
use crate::model::Confidence;

/// Longest URL or `key=value;` string looked at around a password.
const MAX_CONTEXT: usize = 1024;

/// A URL match: `secret` is the password between `user:` and `@host`.
pub fn parse_url(text: &[u8], whole: Range<usize>, secret: Range<usize>) -> Option<Parsed> {
    let sep = memchr::memmem::rfind(text.get(whole.start..secret.start)?, b"://")? + whole.start;
    analyze_url(text, sep, secret)
}

/// The details of a URL password finding at `span`.
pub fn describe_url(text: &[u8], span: Range<usize>) -> Option<Parsed> {
    let from = span.start.saturating_sub(MAX_CONTEXT);
    let sep = memchr::memmem::rfind(text.get(from..span.start)?, b"://")? + from;
    analyze_url(text, sep, span)
}

fn analyze_url(text: &[u8], sep: usize, secret: Range<usize>) -> Option<Parsed> {
    let scheme_start = text[..sep]
        .iter()
        .rposition(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-')))
        .map_or(0, |i| i + 1);
    let scheme = String::from_utf8_lossy(&text[scheme_start..sep]).to_ascii_lowercase();
    let user = text.get(sep + 3..secret.start.checked_sub(1)?)?;
    if user.contains(&b'@') || user.contains(&b'/') {
        return None;
    }
    let password = &text[secret.clone()];
    if text.get(secret.end) != Some(&b'@') {
        return None;
    }
    let host_start = secret.end + 1;
    let host_end = text[host_start..]
        .iter()
        .position(|&b| {
            matches!(b, b'/' | b':' | b'?' | b'#' | b',' | b'"' | b'\'' | b'`')
                || b.is_ascii_whitespace()
                || b == b')'
        })
        .map_or(text.len(), |i| host_start + i);
    let host = &text[host_start..host_end];
    judge(password, user, host, secret, &scheme)
}

/// The common verdict: drop placeholders and local defaults, keep a local
/// password at low confidence, anything else at medium.
fn judge(
    password: &[u8],
    user: &[u8],
    host: &[u8],
    span: Range<usize>,
    scheme: &str,
) -> Option<Parsed> {
    let decoded = percent_decode(password);
    if is_placeholder_password(&decoded) || is_placeholder_password(password) {
        return None;
    }
    // A user that is a template makes the whole string one.
    if user.starts_with(b"$") || user.starts_with(b"<") || user.starts_with(b"{") {
        return None;
    }
    let local = host.is_empty() || is_local_host(host);
    if local && is_default_credential(user, &decoded) {
        return None;
    }
    let confidence = if local {
        Confidence::Low
    } else {
        Confidence::Medium
    };
    let mut parsed = Parsed::new(span, confidence);
    if !scheme.is_empty() {
        parsed.detail("scheme", scheme);
    }
    if !host.is_empty() {
        parsed.detail("host", String::from_utf8_lossy(host));
    }
    if !user.is_empty() {
        parsed.detail("user", String::from_utf8_lossy(user));
    }
    if local {
        parsed.detail("local", "true");
    }
    Some(parsed)
}

fn percent_decode(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if value[i] == b'%' && i + 2 < value.len() {
            let hex = std::str::from_utf8(&value[i + 1..i + 3]).ok();
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(value[i]);
        i += 1;
    }
    out
}

/// Signatures of Azure's identifiable account keys, at characters 76..80.
const IDENTIFIABLE: &[&[u8]] = &[b"+ASt", b"ACDb"];

/// A `key=value;` string match: `secret` is the value of `Password`,
/// `Pwd` or `AccountKey`.
pub fn parse_string(text: &[u8], _whole: Range<usize>, secret: Range<usize>) -> Option<Parsed> {
    analyze_string(text, secret)
}

/// The details of a `key=value;` password finding at `span`.
pub fn describe_string(text: &[u8], span: Range<usize>) -> Option<Parsed> {
    analyze_string(text, span)
}

/// Bytes that end a connection string embedded in code, JSON or XML.
fn ends_string(b: u8) -> bool {
    matches!(b, b'"' | b'\'' | b'\n' | b'\r' | b'`' | b'<' | b'>')
}

fn analyze_string(text: &[u8], secret: Range<usize>) -> Option<Parsed> {
    // Trailing blanks are the separator's, not the password's.
    let mut secret = secret;
    while secret.end > secret.start && text[secret.end - 1].is_ascii_whitespace() {
        secret.end -= 1;
    }
    let floor = secret.start.saturating_sub(MAX_CONTEXT);
    let start = text[floor..secret.start]
        .iter()
        .rposition(|&b| ends_string(b))
        .map_or(floor, |i| floor + i + 1);
    let ceiling = (secret.end + MAX_CONTEXT).min(text.len());
    let end = text[secret.end..ceiling]
        .iter()
        .position(|&b| ends_string(b))
        .map_or(ceiling, |i| secret.end + i);
    let whole = &text[start..end];
    let (mut host, mut user, mut account, mut secret_key) = (None, None, None, None);
    let mut jdbc_host = None;
    if let Some(rest) = whole.strip_prefix(b"jdbc:") {
        // `jdbc:sqlserver://host:1433;…`, `jdbc:postgresql://host/db?…`
        if let Some(at) = memchr::memmem::find(rest, b"//") {
            let after = &rest[at + 2..];
            let len = after
                .iter()
                .position(|&b| matches!(b, b'/' | b':' | b';' | b'?' | b'&'))
                .unwrap_or(after.len());
            jdbc_host = Some(&after[..len]);
        }
    }
    for pair in whole.split(|&b| matches!(b, b';' | b'&' | b'?')) {
        let Some(eq) = pair.iter().position(|&b| b == b'=') else {
            continue;
        };
        let key = pair[..eq].trim_ascii().to_ascii_lowercase();
        let value = pair[eq + 1..].trim_ascii();
        match key.as_slice() {
            b"server" | b"data source" | b"datasource" | b"host" | b"hostname" | b"address"
            | b"addr" | b"network address" | b"servername" | b"server name" => host = Some(value),
            b"user id" | b"userid" | b"uid" | b"user" | b"username" | b"user name" => {
                user = Some(value)
            }
            b"accountname" => account = Some(value),
            b"password" | b"pwd" | b"accountkey" => secret_key = Some(key),
            _ => {}
        }
    }
    let host = host.or(jdbc_host);
    let key = secret_key?;
    let value = &text[secret.clone()];
    if key == b"accountkey" {
        if is_azure_storage_emulator_key(value)
            || account.is_some_and(|a| a.eq_ignore_ascii_case(b"devstoreaccount1"))
            || crate::rules::validate::looks_like_placeholder(value)
        {
            return None;
        }
        // An identifiable key (`+ASt`, `ACDb`, … six characters from its
        // end) has a checksum, and its own rule reports it.
        if value.len() == 88 && IDENTIFIABLE.contains(&&value[76..80]) {
            return None;
        }
        let mut parsed = Parsed::new(secret, Confidence::Medium);
        parsed.detail("scheme", "azure-storage");
        if let Some(account) = account {
            parsed.detail("account", String::from_utf8_lossy(account));
        }
        return Some(parsed);
    }
    // A password alone is any `password=` in code or a query string: a
    // connection string names its server or its user as well.
    if host.is_none() && user.is_none() {
        return None;
    }
    let scheme = if jdbc_host.is_some() { "jdbc" } else { "ado" };
    judge(
        value,
        user.unwrap_or_default(),
        host.unwrap_or_default(),
        secret,
        scheme,
    )
    .filter(|_| host.is_some() || user.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokengen::{structured::password, TokenRng};

    /// A password made at test time: no literal here is one patscan reports.
    fn pw() -> String {
        password(&mut TokenRng::new(9))
    }

    fn url(text: &str) -> Option<Parsed> {
        let at = text.find("://").unwrap();
        let colon = text[at + 3..].find(':').unwrap() + at + 3;
        let end = text.rfind('@').unwrap();
        parse_url(text.as_bytes(), 0..text.len(), colon + 1..end)
    }

    use crate::parse::test_details as details;

    #[test]
    fn a_url_password_is_the_secret_with_host_and_user_as_context() {
        let text = format!(
            "DATABASE_URL=postgres://orders:{}@orders.pg.azure.com:5432/orders",
            pw()
        );
        let parsed = url(&text).unwrap();
        assert_eq!(text[parsed.span.clone()], pw());
        assert_eq!(parsed.confidence, Confidence::Medium);
        assert_eq!(
            details(&parsed),
            vec![
                ("scheme", "postgres"),
                ("host", "orders.pg.azure.com"),
                ("user", "orders")
            ]
        );
    }

    #[test]
    fn local_defaults_and_templates_are_dropped_local_passwords_are_low() {
        assert!(url("postgres://postgres:postgres@localhost:5432/app").is_none());
        assert!(url("postgres://app:${DB_PASSWORD}@db.prod.net/app").is_none());
        assert!(url("mysql://root:root@127.0.0.1/app").is_none());
        let low = url(&format!("redis://:{}@localhost:6379", pw())).unwrap();
        assert_eq!(low.confidence, Confidence::Low);
    }

    fn string(text: &str) -> Option<Parsed> {
        let lower = text.to_ascii_lowercase();
        let at = lower
            .find("password=")
            .map(|i| i + 9)
            .or(lower.find("accountkey=").map(|i| i + 11))
            .unwrap();
        let end = text[at..].find([';', '"']).map_or(text.len(), |i| at + i);
        parse_string(text.as_bytes(), 0..text.len(), at..end)
    }

    #[test]
    fn ado_and_jdbc_strings() {
        let text = format!(
            r#""Default": "Server=tcp:orders.database.windows.net,1433;Initial Catalog=orders;User Id=app;Password={};""#,
            pw()
        );
        let parsed = string(&text).unwrap();
        assert_eq!(text[parsed.span.clone()], pw());
        assert!(details(&parsed).contains(&("user", "app")));
        assert!(string("Server=.;Database=x;User Id=sa;Password=<password>;").is_none());
        assert!(string("Server=localhost;User Id=sa;Password=Passw0rd;").is_none());
        // A password with nothing to connect to is no connection string.
        assert!(string("login(password=Xk3pQ9vT2mBz)").is_none());
        let jdbc = &format!(
            "jdbc:sqlserver://sql.prod.net:1433;databaseName=x;user=app;password={}",
            pw()
        );
        let parsed = string(jdbc).unwrap();
        assert!(details(&parsed).contains(&("host", "sql.prod.net")));
    }
}
