//! `--format azure-pipelines`: Azure Pipelines logging commands
//! (`##vso[task.logissue type=error;sourcepath=…;linenumber=…]message`),
//! one per place a secret was found; they show up on the build's summary
//! and, for pull-request builds, as issues. Always masked: build logs are
//! read by everyone with access to the pipeline.

use std::io::{self, Write};

use super::annotation::{annotations, Annotation, Level};
use super::ReportContext;
use crate::scan::ScanReport;

pub fn write(
    report: &ScanReport,
    context: &ReportContext<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    for annotation in annotations(report, context) {
        writeln!(out, "{}", command(&annotation))?;
    }
    Ok(())
}

/// One `task.logissue` line. Azure has no notice level: low-confidence
/// findings are warnings.
pub fn command(annotation: &Annotation) -> String {
    let kind = match annotation.level {
        Level::Error => "error",
        Level::Warning | Level::Notice => "warning",
    };
    let mut properties = vec![format!("type={kind}")];
    if let Some(file) = &annotation.file {
        properties.push(format!("sourcepath={}", escape_property(file)));
        properties.push(format!("linenumber={}", annotation.line));
        properties.push(format!("columnnumber={}", annotation.column));
    }
    properties.push(format!("code={}", escape_property(&annotation.rule_id)));
    format!(
        "##vso[task.logissue {};]{}",
        properties.join(";"),
        escape_data(&annotation.message)
    )
}

/// The command that attaches a Markdown file to the build's summary.
pub fn upload_summary_command(path: &str) -> String {
    format!("##vso[task.uploadsummary]{}", escape_data(path))
}

/// The message part: `%` (first, as `%AZP25`), CR and LF, so a command
/// stays one line.
pub fn escape_data(value: &str) -> String {
    value
        .replace('%', "%AZP25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: also `;`, which ends a value, and `]`, which ends the
/// properties.
pub fn escape_property(value: &str) -> String {
    escape_data(value).replace(';', "%3B").replace(']', "%5D")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_as_the_agent_expects() {
        assert_eq!(escape_data("50%\r\n"), "50%AZP25%0D%0A");
        assert_eq!(escape_property("a;b]c%"), "a%3Bb%5Dc%AZP25");
        let annotation = Annotation {
            level: Level::Notice,
            file: Some("x;y]/a.env".into()),
            line: 3,
            column: 5,
            end_column: 9,
            rule_id: "x-token".into(),
            title: "Leaked X".into(),
            message: "one\n##vso[task.complete result=Succeeded]".into(),
        };
        assert_eq!(
            command(&annotation),
            "##vso[task.logissue type=warning;sourcepath=x%3By%5D/a.env;linenumber=3;columnnumber=5;code=x-token;]one%0A##vso[task.complete result=Succeeded]"
        );
    }
}
