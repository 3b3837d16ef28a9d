//! GitHub Actions workflow commands (`::error file=...,line=...,title=...::message`), one per
//! unsuppressed finding and per scan error.

use crate::ScanReport;
use ecrguard_rules::Severity;
use std::fmt::Write as _;

/// Escapes data of a workflow command.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property of a workflow command.
fn prop(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Renders the report as workflow commands.
#[must_use]
pub fn render(report: &ScanReport<'_>) -> String {
    let mut out = String::new();
    for f in report.active() {
        let cmd = match f.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low => "notice",
        };
        let title = prop(&format!("{} {}", f.rule.code, f.rule.name));
        match f.origin.as_ref().and_then(|o| report.sources.lines(o)) {
            Some(l) => {
                let _ = writeln!(
                    out,
                    "::{cmd} file={},line={},endLine={},title={title}::{}",
                    prop(&l.file),
                    l.start_line,
                    l.end_line,
                    data(&f.message)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "::{cmd} title={title}::{} ({})",
                    data(&f.message),
                    data(f.resource.label())
                );
            }
        }
    }
    for e in &report.errors {
        match e.location() {
            Some(l) if l.line().is_none() => {
                let _ = writeln!(
                    out,
                    "::error file={},title=ecrguard scan error::{}",
                    prop(&l.file),
                    data(&e.message)
                );
            }
            Some(l) => {
                let _ = writeln!(
                    out,
                    "::error file={},line={},title=ecrguard scan error::{}",
                    prop(&l.file),
                    l.start_line,
                    data(&e.message)
                );
            }
            // Not in a file: the place (an ARN, an address) leads the message.
            None => {
                let _ = writeln!(
                    out,
                    "::error title=ecrguard scan error::{}",
                    data(&e.to_string())
                );
            }
        }
    }
    out
}
