//! Masks tokens in free text that patscan prints beside its findings:
//! error messages, problems (warnings) and panic messages.
//!
//! Those texts can quote input: a TOML syntax error shows the offending
//! line of a config (and `allow.values` is where people paste tokens), a
//! serde error quotes the value it rejected, a warning names a path. A
//! report masks the secrets it found; this gives the other outputs the same
//! guarantee for every token a built-in rule recognises in plain text.

use std::cell::RefCell;
use std::sync::OnceLock;

use crate::engine::{find_tokens, Scratch};
use crate::model::Secret;
use crate::rules::{self, RuleSet};

fn builtin() -> Option<&'static RuleSet> {
    static RULES: OnceLock<Option<RuleSet>> = OnceLock::new();
    RULES.get_or_init(|| rules::builtin().ok()).as_ref()
}

/// `text` with every token the built-in rules find in it replaced by its
/// redacted form (`ghp_…[40 chars]`).
pub fn redact_tokens(text: &str) -> String {
    let Some(rules) = builtin() else {
        return text.to_string();
    };
    thread_local! {
        // Reused: a scan with thousands of warnings masks each of them.
        static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
    }
    let mut matches = Vec::new();
    SCRATCH.with(|cell| {
        let mut cell = cell.borrow_mut();
        let scratch = cell.get_or_insert_with(|| Scratch::new(rules));
        find_tokens(rules, text.as_bytes(), scratch, &mut matches);
    });
    if matches.is_empty() {
        return text.to_string();
    }
    let mut spans: Vec<(usize, usize)> = matches.iter().map(|m| (m.start, m.end)).collect();
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in spans {
        if start < at {
            continue; // overlaps a span already masked
        }
        // Tokens are ASCII, so their spans are on character boundaries;
        // `get` keeps a surprise from panicking.
        let (Some(before), Some(token)) = (text.get(at..start), text.get(start..end)) else {
            continue;
        };
        out.push_str(before);
        out.push_str(&Secret::new(token.to_string()).redacted());
        at = end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

/// Replaces the default panic message with one whose text has its tokens
/// masked: a panic payload formatted from input must not print a secret.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("{}", panic_message(info.payload(), info.location()));
    }));
}

fn panic_message(
    payload: &(dyn std::any::Any + Send),
    location: Option<&std::panic::Location<'_>>,
) -> String {
    let payload = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string());
    let location = location
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    format!(
        "patscan: internal error (a bug; please report it){location}: {}",
        redact_tokens(&payload)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokengen::{generate, TokenRng};

    #[test]
    fn tokens_in_messages_are_masked_and_the_rest_kept() {
        let mut rng = TokenRng::new(5);
        let a = generate("github-classic-pat", &mut rng).unwrap();
        let b = generate("npm-token", &mut rng).unwrap();
        let message = format!("line 3: values = [\"{a}\", '{b}'] é");
        let masked = redact_tokens(&message);
        assert!(!masked.contains(&a) && !masked.contains(&b), "{masked}");
        assert_eq!(
            masked,
            "line 3: values = [\"ghp_…[40 chars]\", 'npm_…[40 chars]'] é"
        );
        assert_eq!(redact_tokens("nothing here"), "nothing here");
    }

    #[test]
    fn a_panic_message_is_masked() {
        let token = generate("gitlab-pat-routable", &mut TokenRng::new(2)).unwrap();
        let caught = std::panic::catch_unwind(|| {
            std::panic::set_hook(Box::new(|info| {
                // Hand the formatted message back through a panic-free path.
                MESSAGE.with(|m| *m.borrow_mut() = panic_message(info.payload(), info.location()));
            }));
            panic!("bad input near {token}");
        });
        let _ = std::panic::take_hook();
        assert!(caught.is_err());
        let message = MESSAGE.with(|m| m.borrow().clone());
        assert!(message.contains("bad input near glpa…["), "{message}");
        assert!(!message.contains(&token));
    }

    thread_local! {
        static MESSAGE: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
}
