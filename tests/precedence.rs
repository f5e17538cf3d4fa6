//! One secret, one finding: where two rules claim the same bytes, the more
//! specific one stands (docs/detection.md, "When rules overlap"), whatever
//! the order the rules are declared or the hits come in.

mod common;

use std::fs;

use common::*;

/// (rule, confidence) of each finding in `file`, in document order.
fn findings_in(dir: &std::path::Path, args: &[&str]) -> Vec<(String, String)> {
    let run = scan_json(dir, args);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    run.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["confidence"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn ids(found: &[(String, String)]) -> Vec<&str> {
    found.iter().map(|(id, _)| id.as_str()).collect()
}

#[test]
fn a_key_named_for_its_issuer_is_that_issuers_not_the_shared_prefixs() {
    // Clerk and Paystack live keys have Stripe's `sk_live_` and a body
    // Stripe's rule also takes; the name before them says whose they are.
    let dir = tempfile::tempdir().unwrap();
    let clerk = token("clerk-secret-key", 1);
    let paystack = token("paystack-secret-key", 2);
    fs::write(
        dir.path().join(".env"),
        format!("CLERK_SECRET_KEY={clerk}\nPAYSTACK_SECRET_KEY={paystack}\n"),
    )
    .unwrap();
    let found = findings_in(dir.path(), &[]);
    assert_eq!(ids(&found), ["clerk-secret-key", "paystack-secret-key"]);
    // Without the name, the same bytes are Stripe's.
    fs::write(
        dir.path().join(".env"),
        format!("STRIPE_SECRET_KEY={clerk}\n"),
    )
    .unwrap();
    assert_eq!(ids(&findings_in(dir.path(), &[])), ["stripe-secret-key"]);
}

#[test]
fn a_yandex_key_under_an_aws_name_is_reported_once_as_yandex() {
    // A Yandex Cloud static key secret used through the S3-compatible API
    // sits under an AWS-style name; the AWS rule takes any 40 base64
    // characters there. Pick a generated key the AWS alphabet also covers.
    let yandex = (0..200)
        .map(|seed| token("yandex-cloud-static-key-secret", seed))
        .find(|t| !t.contains(['-', '_']))
        .expect("a key without - or _");
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("credentials"),
        format!("[yandex]\nyandex_aws_secret_access_key = {yandex}\n"),
    )
    .unwrap();
    assert_eq!(
        ids(&findings_in(dir.path(), &[])),
        ["yandex-cloud-static-key-secret"]
    );
    // Under the AWS name alone it is an AWS-shaped secret: reported as such.
    fs::write(
        dir.path().join("credentials"),
        format!("[default]\naws_secret_access_key = {yandex}\n"),
    )
    .unwrap();
    assert_eq!(
        ids(&findings_in(dir.path(), &[])),
        ["aws-secret-access-key"]
    );
}

#[test]
fn a_token_used_as_a_connection_password_is_the_tokens_finding() {
    let dir = tempfile::tempdir().unwrap();
    let pat = token("github-classic-pat", 3);
    fs::write(
        dir.path().join("appsettings.json"),
        format!(
            "{{\"ConnectionStrings\": {{\"Feed\": \"Server=feed.acme.example;User Id=ci;Password={pat};\"}}}}\n"
        ),
    )
    .unwrap();
    let found = findings_in(dir.path(), &[]);
    assert_eq!(found, [("github-classic-pat".into(), "high".into())]);
}

#[test]
fn a_cosmos_db_key_in_its_connection_string_is_the_cosmos_db_rules() {
    // The Cosmos DB rule (its endpoint names the service) and the
    // connection-string parser (any AccountKey=) both claim the key.
    let dir = tempfile::tempdir().unwrap();
    let key = token("azure-cosmosdb-key-legacy", 4);
    fs::write(
        dir.path().join("local.settings.json"),
        format!(
            "{{\"Values\": {{\"CosmosDb\": \"AccountEndpoint=https://contoso-orders.documents.azure.com:443/;AccountKey={key};\"}}}}\n"
        ),
    )
    .unwrap();
    assert_eq!(
        ids(&findings_in(dir.path(), &[])),
        ["azure-cosmosdb-key-legacy"]
    );
}

/// Two custom rules on the same token, declared in either order: the one
/// whose token carries its own literal stands over the one that only names
/// it, and the report is the same both ways.
#[test]
fn the_outcome_does_not_depend_on_the_order_rules_are_declared() {
    let prefixed = "[[rule]]\nid = \"acme-prefixed\"\nname = \"Acme key\"\ndescription = \"d\"\nkeywords = [\"acme_\"]\npattern = '''(?P<secret>acme_[A-Za-z0-9]{24})(?:[^A-Za-z0-9]|$)'''\nmax_length = 29\nmin_entropy = 3.0\nexamples = [\"acme_Qm9vZ2xlRm9vQmFyQmF6MTIz\"]  # patscan:allow\nnegative_examples = [\"acme_short\"]\n";
    let named = "[[rule]]\nid = \"acme-named\"\nname = \"Acme token by name\"\ndescription = \"d\"\ncontext = [\"acme_token\"]\npattern = '''acme_token\\s*=\\s*(?P<secret>[A-Za-z0-9_]{29})(?:[^A-Za-z0-9_]|$)'''\nmax_length = 60\nmin_entropy = 3.0\nexamples = [\"acme_token = acme_Qm9vZ2xlRm9vQmFyQmF6MTIz\"]  # patscan:allow\nnegative_examples = [\"acme_token = short\"]\n";
    let mut reports = Vec::new();
    for config in [
        format!("{prefixed}\n{named}"),
        format!("{named}\n{prefixed}"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("rules.toml"), config).unwrap();
        fs::write(
            dir.path().join("app.env"),
            "acme_token = acme_Zx8Kq2Lm9Pw4Rt7Yb3Nc6Vd1\n",
        )
        .unwrap();
        let found = findings_in(dir.path(), &["--config", "rules.toml", "app.env"]);
        reports.push(found);
    }
    assert_eq!(reports[0], [("acme-prefixed".into(), "medium".into())]);
    assert_eq!(reports[0], reports[1]);
}
