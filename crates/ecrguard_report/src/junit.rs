//! JUnit XML: one test suite per rule that ran, one test case per finding (failed) or per
//! rule with no findings (passed); scan errors as a suite of errors.

use crate::ScanReport;
use std::fmt::Write as _;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => o.push(c),
        }
    }
    o
}

/// Renders the report as JUnit XML.
#[must_use]
pub fn render(report: &ScanReport<'_>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let active: Vec<_> = report.active().collect();
    let _ = writeln!(
        out,
        "<testsuites name=\"ecrguard\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
        report.rules.len().max(active.len()),
        active.len(),
        report.errors.len()
    );
    for m in &report.rules {
        let mine: Vec<_> = active.iter().filter(|f| f.rule.code == m.code).collect();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{} {}\" tests=\"{}\" failures=\"{}\">",
            m.code,
            m.name,
            mine.len().max(1),
            mine.len()
        );
        if mine.is_empty() {
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\"/>",
                m.code,
                esc(m.name)
            );
        }
        for f in mine {
            let loc = f
                .origin
                .as_ref()
                .and_then(|o| report.sources.lines(o))
                .map_or_else(
                    || f.resource.to_string(),
                    |l| format!("{}:{}", l.file, l.start_line),
                );
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\">",
                m.code,
                esc(f.resource.label()),
                esc(&loc)
            );
            let _ = writeln!(
                out,
                "      <failure type=\"{}\" message=\"{}\">{}: {}</failure>",
                f.severity,
                esc(&f.message),
                esc(&loc),
                esc(&f.message)
            );
            let _ = writeln!(out, "    </testcase>");
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    if !report.errors.is_empty() {
        let _ = writeln!(
            out,
            "  <testsuite name=\"scan errors\" tests=\"{0}\" errors=\"{0}\">",
            report.errors.len()
        );
        for e in &report.errors {
            let loc = e.place.to_string();
            let _ = writeln!(
                out,
                "    <testcase classname=\"errors\" name=\"{}\"><error message=\"{}\"/></testcase>",
                esc(&loc),
                esc(&e.message)
            );
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}
