//! Text output for people: the verdict first, then each statement that opens the
//! repository, then the findings with the offending lines. Colour only when asked (the
//! binary asks on a terminal).

use crate::shown::one_line;
use crate::{PolicyCheck, ScanReport, severity_counts, snippet};
use ecrguard_iam::analysis::{Party, Verdict};
use ecrguard_iam::catalog;
use ecrguard_iam::policy::Effect;
use ecrguard_model::SourceDb;
use ecrguard_rules::{Finding, Severity};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Text rendering options.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// ANSI colours.
    pub color: bool,
}

pub(crate) fn paint(on: bool, code: &str, s: &str) -> String {
    if on {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
    }
}

/// Renders a `check-policy` result.
#[must_use]
pub fn render_policy_check(check: &PolicyCheck<'_>, opts: TextOptions) -> String {
    let c = opts.color;
    let mut out = String::new();
    let verdict = check.verdict();
    let vcolor = match verdict {
        "private" => "32",
        "cross-account" | "network-restricted" => "33",
        _ => "1;31",
    };
    let _ = writeln!(
        out,
        "{} {}",
        paint(c, "1", "verdict:"),
        paint(c, vcolor, verdict)
    );
    let _ = writeln!(out, "  {}", verdict_sentence(check));
    if let Some(a) = check.analysis {
        let owner = check.owner_account.as_deref();
        if !a.external.is_empty() {
            let owner_note = owner.map_or_else(
                || " (owner account unknown: pass --owner-account)".to_string(),
                |o| format!(" (owner {o})"),
            );
            let _ = writeln!(out, "{}{owner_note}", paint(c, "1", "external parties:"));
            let width = a
                .external
                .iter()
                .map(|p| p.label().len())
                .max()
                .unwrap_or(0);
            for party in &a.external {
                let classes: Vec<&str> = a
                    .access
                    .get(party)
                    .map(|s| s.iter().map(|c| c.as_str()).collect())
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {:<width$}  {}",
                    one_line(&party.label()),
                    classes.join(", ")
                );
            }
        }
        if let Some(policy) = check.policy {
            let _ = writeln!(out, "{}", paint(c, "1", "statements:"));
            for sa in &a.statements {
                let st = &policy.statements[sa.index];
                let effect = match st.effect {
                    Some(Effect::Allow) => "Allow",
                    Some(Effect::Deny) => "Deny",
                    None => "?",
                };
                let reach = if st.effect == Some(Effect::Allow) {
                    let parties: Vec<String> = sa
                        .grants
                        .iter()
                        .map(|(p, names)| {
                            format!("{} ({})", party_words(p, owner), classes_of(names))
                        })
                        .collect();
                    if parties.is_empty() {
                        "grants nothing on the repository".to_string()
                    } else {
                        format!("opens to {}", parties.join(", "))
                    }
                } else {
                    "narrows the other statements".to_string()
                };
                let mut line = format!("  {} {effect}: {reach}", st.label());
                if !sa.narrowed_by.is_empty() {
                    let by: Vec<String> = sa
                        .narrowed_by
                        .iter()
                        .map(|i| policy.statements[*i].label())
                        .collect();
                    let _ = write!(line, "; narrowed by Deny {}", by.join(", "));
                }
                let _ = writeln!(out, "{}", one_line(&line));
            }
        }
    }
    if !check.findings.is_empty() {
        out.push('\n');
    }
    for f in &check.findings {
        render_finding(&mut out, check.sources, f, c);
    }
    error_lines(&mut out, &check.errors, c);
    out.push('\n');
    let _ = writeln!(
        out,
        "{}",
        summary(
            &check.findings.iter().collect::<Vec<_>>(),
            check.errors.len()
        )
    );
    out
}

fn classes_of(names: &BTreeSet<&'static str>) -> String {
    let classes: BTreeSet<_> = names
        .iter()
        .filter_map(|n| catalog::find(n))
        .map(|a| a.class)
        .collect();
    classes
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn party_words(p: &Party, owner: Option<&str>) -> String {
    match p {
        Party::Everyone => "anyone (`*`)".to_string(),
        Party::Network(n) => format!("anyone via {n}"),
        Party::Account(a)
            if owner == Some(a.as_str()) || a == ecrguard_iam::analysis::SELF_ACCOUNT =>
        {
            format!("the owner account {a}")
        }
        Party::Account(a) => format!("account {a}"),
        Party::Org(o) => format!("organization {o}"),
        Party::Service(s) => format!("{s} for any account"),
        Party::Unidentified(u) => u.clone(),
    }
}

fn verdict_sentence(check: &PolicyCheck<'_>) -> String {
    let Some(a) = check.analysis else {
        return "the policy could not be read, so AWS would reject it".to_string();
    };
    let base = match a.effective_verdict {
        Verdict::Public => "anyone (`*`) can reach the repository".to_string(),
        Verdict::NetworkRestricted => {
            "anyone can reach the repository, but only through the listed networks".to_string()
        }
        Verdict::CrossAccount => "parties outside the owner account have access".to_string(),
        Verdict::Private | Verdict::Invalid => "only the owner account has access".to_string(),
    };
    if a.verdict == Verdict::Invalid {
        format!("AWS would reject this policy; as written, {base}")
    } else if a.incomplete {
        format!("{base}, as far as it could be evaluated")
    } else {
        base
    }
}

/// Renders one finding with its snippet, notes and help.
pub fn render_finding(out: &mut String, sources: &SourceDb, f: &Finding, c: bool) {
    let sev = paint(c, severity_color(f.severity), f.severity.as_str());
    let _ = writeln!(
        out,
        "{sev}[{}] {}: {}",
        f.rule.code,
        f.rule.name,
        one_line(&f.message)
    );
    if let Some(origin) = &f.origin {
        if let (Some(file), Some(span)) = (origin.file(), origin.span()) {
            let src = sources.get(file);
            let (line, col) = src.line_col(span.start as usize);
            let _ = writeln!(out, "  --> {}:{line}:{col}", one_line(&src.path));
            for l in snippet::render(sources, origin).lines() {
                let _ = writeln!(out, "  {l}");
            }
        } else if let Some(loc) = sources_location(sources, origin) {
            let _ = writeln!(out, "  --> {}", one_line(&loc));
        }
    }
    for n in &f.notes {
        let _ = writeln!(out, "  = note: {}", one_line(n));
    }
    if let Some(h) = &f.help {
        let _ = writeln!(out, "  = help: {}", one_line(h));
    }
    out.push('\n');
}

fn sources_location(sources: &SourceDb, origin: &ecrguard_model::Origin) -> Option<String> {
    match origin {
        ecrguard_model::Origin::Aws { arn, region, call } => {
            Some(format!("{arn} ({region}, {call})"))
        }
        other => sources.lines(other).map(|l| l.to_string()),
    }
}

fn error_lines(out: &mut String, errors: &[crate::InputProblem], c: bool) {
    for e in errors {
        let loc = match e.place {
            crate::Place::Run => String::new(),
            ref place => format!("{place}: "),
        };
        let _ = writeln!(
            out,
            "{} {}{}",
            paint(c, "1;31", "error:"),
            one_line(&loc),
            one_line(&e.message)
        );
    }
}

fn not_evaluated_lines(out: &mut String, report: &ScanReport<'_>) {
    for n in &report.not_evaluated {
        let _ = writeln!(
            out,
            "  {}: {}",
            one_line(&n.place.to_string()),
            one_line(&n.message)
        );
    }
}

/// `3 findings: 1 critical, 2 high` / `no findings`.
#[must_use]
pub fn summary(findings: &[&Finding], errors: usize) -> String {
    let mut s = if findings.is_empty() {
        "no findings".to_string()
    } else {
        let parts: Vec<String> = severity_counts(findings)
            .iter()
            .map(|(sev, n)| format!("{n} {sev}"))
            .collect();
        format!(
            "{} finding{}: {}",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            parts.join(", ")
        )
    };
    if errors > 0 {
        let _ = write!(
            s,
            "; {errors} error{} (result incomplete)",
            if errors == 1 { "" } else { "s" }
        );
    }
    s
}

/// Renders a `scan` result: each unsuppressed finding with its source lines, errors, what was
/// not evaluated, then a summary.
#[must_use]
pub fn render_scan(report: &ScanReport<'_>, opts: TextOptions) -> String {
    let c = opts.color;
    let mut out = String::new();
    // Strict: what was not read comes first, as the reason the run fails.
    let strict_first = report.strict && !report.not_evaluated.is_empty();
    if strict_first {
        let _ = writeln!(
            out,
            "{}",
            paint(
                c,
                "1;31",
                "not evaluated (--strict: the result is incomplete):"
            )
        );
        not_evaluated_lines(&mut out, report);
        out.push('\n');
    }
    for f in report.active() {
        render_finding(&mut out, report.sources, f, c);
    }
    error_lines(&mut out, &report.errors, c);
    if !report.not_evaluated.is_empty() && !strict_first {
        let _ = writeln!(out, "{}", paint(c, "1", "not evaluated:"));
        not_evaluated_lines(&mut out, report);
    }
    if let Some(framework) = report.compliance {
        let active: Vec<&Finding> = report.active().collect();
        let _ = writeln!(out, "{}", paint(c, "1", &format!("{}:", framework.name)));
        for (control, rules, n) in crate::by_control(framework, &active) {
            let verdict = if n == 0 {
                "pass".to_string()
            } else {
                format!("{n} finding{}", if n == 1 { "" } else { "s" })
            };
            let _ = writeln!(out, "  {control} ({}): {verdict}", rules.join(", "));
        }
        out.push('\n');
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out, "{}", paint(c, "1", "notes:"));
        for n in &report.notes {
            let _ = writeln!(out, "  {}", one_line(n));
        }
    }
    if !report.errors.is_empty()
        || (!report.not_evaluated.is_empty() && !strict_first)
        || !report.notes.is_empty()
    {
        out.push('\n');
    }
    if let Some(m) = report.access {
        crate::access::render_text(&mut out, m, c);
    }
    let active: Vec<&Finding> = report.active().collect();
    let baselined = report
        .findings
        .iter()
        .filter(|f| {
            f.suppression
                .as_ref()
                .is_some_and(|s| s.kind == ecrguard_rules::SuppressionKind::Baseline)
        })
        .count();
    let suppressed = report.findings.len() - active.len() - baselined;
    let mut line = format!(
        "{} {} scanned; {}",
        report.files,
        report.files_noun[usize::from(report.files != 1)],
        summary(&active, report.errors.len())
    );
    if suppressed > 0 {
        let _ = write!(line, "; {suppressed} suppressed");
    }
    if baselined > 0 {
        let _ = write!(line, "; {baselined} baselined");
    }
    if strict_first {
        let _ = write!(
            line,
            "; {} not evaluated (--strict: result incomplete)",
            report.not_evaluated.len()
        );
    }
    let _ = writeln!(out, "{line}");
    out
}
