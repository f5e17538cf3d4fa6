//! The words every format uses for a live token's risk: severity, expiry
//! and, for Azure DevOps with `--blast-radius`, what it reaches. One place,
//! so the human, HTML and Markdown outputs say the same thing.

use crate::model::{Access, Verification};

/// `critical (scope repo)`, when the token got a severity.
pub fn severity(v: &Verification) -> Option<String> {
    let severity = v.severity?;
    Some(match &v.severity_basis {
        Some(basis) => format!("{severity} ({basis})"),
        None => severity.to_string(),
    })
}

/// `expires 2031-01-01 (in 1856 days)`, `expired … ago`, `never expires`.
pub fn expiry(v: &Verification) -> Option<String> {
    if v.no_expiry {
        return Some("never expires".to_string());
    }
    let at = v.expires_at.as_deref()?;
    Some(match v.expires_in_days {
        Some(days) if days < 0 => format!("expired {at} ({} days ago)", -days),
        Some(days) => format!("expires {at} (in {days} days)"),
        None => format!("expires {at}"),
    })
}

/// One line per organisation probed, then the probe's notes.
pub fn reach(access: &Access) -> Vec<String> {
    let mut lines = Vec::new();
    if access.organisation_scoped {
        lines.push(
            "organisation-scoped: only organisation endpoints accept it (global PATs are \
             being retired, so this is the normal case)"
                .to_string(),
        );
    }
    for (org, o) in &access.organisations {
        if !o.accepted && o.unclear.is_empty() {
            lines.push(format!("reach {org}: refused the token"));
            continue;
        }
        let reachable: Vec<String> = o
            .reachable
            .iter()
            .map(|r| match r.count {
                Some(n) => format!("{} ({n})", r.area),
                None => r.area.clone(),
            })
            .collect();
        let mut parts = vec![if reachable.is_empty() {
            "no area".to_string()
        } else {
            reachable.join(", ")
        }];
        if !o.absent.is_empty() {
            parts.push(format!("absent: {}", o.absent.join(", ")));
        }
        if !o.unclear.is_empty() {
            let unclear: Vec<String> = o
                .unclear
                .iter()
                .map(|(area, why)| format!("{area} ({why})"))
                .collect();
            parts.push(format!("unclear: {}", unclear.join(", ")));
        }
        lines.push(format!("reach {org}: {}", parts.join("; ")));
    }
    for note in &access.notes {
        lines.push(format!("note: {note}"));
    }
    lines
}
