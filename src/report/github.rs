//! `--format github`: GitHub Actions workflow commands
//! (`::error file=…,line=…,col=…,title=…::message`), one per place a
//! secret was found, so each shows up on the pull request's diff. Always
//! masked: annotations are public to everyone who can read the run.

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

/// One workflow command line.
pub fn command(annotation: &Annotation) -> String {
    let name = match annotation.level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Notice => "notice",
    };
    let mut properties = Vec::new();
    if let Some(file) = &annotation.file {
        properties.push(format!("file={}", escape_property(file)));
        properties.push(format!("line={}", annotation.line));
        properties.push(format!("endLine={}", annotation.line));
        properties.push(format!("col={}", annotation.column));
        properties.push(format!("endColumn={}", annotation.end_column));
    }
    properties.push(format!("title={}", escape_property(&annotation.title)));
    format!(
        "::{name} {}::{}",
        properties.join(","),
        escape_data(&annotation.message)
    )
}

/// The message part: `%`, CR and LF encoded, so a command stays one line
/// (a newline in a path could otherwise start a command of its own).
pub fn escape_data(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: also `:` and `,`, which end a value.
pub fn escape_property(value: &str) -> String {
    escape_data(value).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_as_the_runner_expects() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        let annotation = Annotation {
            level: Level::Warning,
            file: Some("dir,x/a:b.env".into()),
            line: 3,
            column: 5,
            end_column: 9,
            rule_id: "x-token".into(),
            title: "Leaked X".into(),
            message: "one\n::error::two".into(),
        };
        assert_eq!(
            command(&annotation),
            "::warning file=dir%2Cx/a%3Ab.env,line=3,endLine=3,col=5,endColumn=9,title=Leaked X::one%0A::error::two"
        );
    }
}
