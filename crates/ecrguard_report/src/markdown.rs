//! Markdown for pull-request comments and GitHub step summaries: a summary by severity and by
//! rule, then the findings grouped by resource. Everything taken from the input (names,
//! messages that quote it) is escaped: a resource named like a link or an image must not
//! become one on the page, and a `|` must not break a table.

use crate::ScanReport;
use ecrguard_rules::{Finding, Severity};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// At most this many findings are listed (GitHub caps a step summary at 1 MiB); the summary
/// tables still count them all.
pub const MAX_LISTED: usize = 500;

/// Text from the input, made inert: every character Markdown or HTML could read as markup is
/// written as an HTML character reference (inline HTML such as `<code>` does not stop
/// Markdown inside it, so code is escaped the same way), and `://` and `www.` are broken so
/// that no address becomes a link.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' | '<' | '>' | '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '!' | '#'
            | '~' | '{' | '}' | '"' | '\'' | '=' | '@' | ':' | '.' => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Code: an HTML `<code>` element, its text escaped like any other.
fn code(s: &str) -> String {
    format!("<code>{}</code>", escape(s))
}

/// A message whose `backticked` parts are code: each part escaped as what it is.
fn message(s: &str) -> String {
    s.split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { code(part) } else { escape(part) })
        .collect()
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
    }
}

/// Renders a scan or audit report as Markdown.
#[must_use]
pub fn render(report: &ScanReport<'_>) -> String {
    let active: Vec<&Finding> = report.active().collect();
    let mut out = String::new();
    let status = if report.incomplete() {
        "incomplete"
    } else if active.is_empty() {
        "clean"
    } else {
        "findings"
    };
    let _ = writeln!(
        out,
        "## ecrguard: {} finding{} ({status})\n",
        active.len(),
        if active.len() == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        out,
        "{} {} scanned; {} suppressed or baselined; {} input error{}; {} not evaluated.\n",
        report.files,
        report.files_noun[usize::from(report.files != 1)],
        report.findings.len() - active.len(),
        report.errors.len(),
        if report.errors.len() == 1 { "" } else { "s" },
        report.not_evaluated.len()
    );
    if !active.is_empty() {
        out.push_str("| Severity | Findings |\n| --- | ---: |\n");
        for sev in [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
        ] {
            let n = active.iter().filter(|f| f.severity == sev).count();
            if n > 0 {
                let _ = writeln!(out, "| {} | {n} |", severity_word(sev));
            }
        }
        out.push('\n');
        let mut by_rule: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for f in &active {
            *by_rule.entry((f.rule.code, f.rule.name)).or_default() += 1;
        }
        out.push_str("| Rule | | Findings |\n| --- | --- | ---: |\n");
        for ((code, name), n) in by_rule {
            let _ = writeln!(out, "| {code} | {name} | {n} |");
        }
        out.push_str("\n### Findings by resource\n\n");
        let mut by_resource: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in &active {
            by_resource.entry(f.resource.label()).or_default().push(f);
        }
        let mut listed = 0;
        'resources: for (resource, findings) in by_resource {
            let _ = writeln!(out, "**{}**\n", code(resource));
            for f in findings {
                if listed == MAX_LISTED {
                    out.push('\n');
                    break 'resources;
                }
                listed += 1;
                let place = f
                    .origin
                    .as_ref()
                    .and_then(|o| report.sources.lines(o))
                    .map(|l| format!(" ({})", code(&format!("{}:{}", l.file, l.start_line))))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "- **{}** {} {}{place}",
                    severity_word(f.severity),
                    f.rule.code,
                    message(&f.message)
                );
            }
            out.push('\n');
        }
        if active.len() > listed {
            let _ = writeln!(
                out,
                "_{} more finding{} not listed here; the SARIF and JSON reports have them all._\n",
                active.len() - listed,
                if active.len() - listed == 1 { "" } else { "s" }
            );
        }
    }
    if let Some(framework) = report.compliance {
        let _ = writeln!(
            out,
            "### {}\n\n| Control | Rules | Findings |\n| --- | --- | ---: |",
            framework.name
        );
        for (control, rules, n) in crate::by_control(framework, &active) {
            let _ = writeln!(out, "| {} | {} | {n} |", escape(control), rules.join(", "));
        }
        out.push('\n');
    }
    if !report.notes.is_empty() {
        out.push_str("### Notes\n\n");
        for n in report.notes.iter().take(MAX_LISTED) {
            let _ = writeln!(out, "- {}", message(n));
        }
        out.push('\n');
    }
    if !report.errors.is_empty() {
        out.push_str("### Inputs that could not be read\n\n");
        for e in report.errors.iter().take(MAX_LISTED) {
            let place = match e.place {
                crate::Place::Run => String::new(),
                crate::Place::File(ref l) => format!("{} ", code(&l.file)),
                crate::Place::Address(ref a) | crate::Place::Arn(ref a) => format!("{} ", code(a)),
            };
            let _ = writeln!(out, "- {place}{}", message(&e.message));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_never_becomes_markup() {
        let m = message(
            "Repository `x](https://evil.example/p.png) <img src=x>|` is ![public](www.evil.example)",
        );
        for markup in ["](", "<img", "https://", "www.", "|", "!["] {
            assert!(!m.contains(markup), "{markup} in {m}");
        }
        assert!(
            m.starts_with("Repository <code>x&#93;&#40;https&#58;"),
            "{m}"
        );
        assert!(m.contains(" is &#33;&#91;public&#93;"), "{m}");
    }
}

#[cfg(test)]
mod render_tests {
    use super::*;
    use ecrguard_model::{Origin, ResourceId, SourceDb, Span};

    #[test]
    fn summary_tables_then_findings_by_resource() {
        let mut sources = SourceDb::default();
        let file = sources.add("main.tf", "one\ntwo\nthree\n");
        let finding = |line_start: usize, resource: &str, message: &str| {
            ecrguard_rules::suppression::invalid(
                ResourceId::Terraform(resource.into()),
                Origin::Span {
                    file,
                    span: Span::new(line_start, line_start + 3),
                },
                message.into(),
            )
        };
        let findings = vec![
            finding(0, "aws_ecr_repository.b", "first `b`"),
            finding(4, "aws_ecr_repository.a", "second"),
            finding(8, "aws_ecr_repository.a", "third"),
        ];
        let report = ScanReport {
            notes: vec!["a note".into()],
            ..ScanReport::of_findings(&sources, findings)
        };
        let md = render(&report);
        assert!(
            md.starts_with("## ecrguard: 3 findings (findings)\n"),
            "{md}"
        );
        assert!(md.contains("| ECR092 | suppression-invalid | 3 |"), "{md}");
        // Grouped by resource, in name order, with file and line.
        let a = md
            .find("<code>aws&#95;ecr&#95;repository&#46;a</code>")
            .unwrap();
        let b = md
            .find("<code>aws&#95;ecr&#95;repository&#46;b</code>")
            .unwrap();
        assert!(a < b, "{md}");
        assert!(
            md.contains("first <code>b</code> (<code>main&#46;tf&#58;1</code>)"),
            "{md}"
        );
        assert!(md.contains("### Notes\n\n- a note"), "{md}");
    }
}
