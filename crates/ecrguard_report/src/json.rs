//! JSON output. Field order is fixed and maps are sorted, so the same input gives
//! byte-identical output.

use crate::{JSON_VERSION, PolicyCheck, ScanReport, severity_counts};
use ecrguard_iam::policy::Effect;
use ecrguard_model::SourceDb;
use ecrguard_rules::Finding;
use serde_json::{Map, Value, json};

/// One finding as JSON.
#[must_use]
pub fn finding(sources: &SourceDb, f: &Finding) -> Value {
    let location = f.origin.as_ref().and_then(|o| sources.lines(o)).map_or(
        Value::Null,
        |l| json!({"file": l.file, "start_line": l.start_line, "end_line": l.end_line}),
    );
    json!({
        "rule_id": f.rule.code,
        "rule_name": f.rule.name,
        "severity": f.severity.as_str(),
        "resource": f.resource.label(),
        "repository": f.repository.as_ref().map(|r| r.label().to_string()),
        "location": location,
        "statement_index": f.statement.as_ref().map(|s| s.index),
        "sid": f.statement.as_ref().and_then(|s| s.sid.clone()),
        "message": f.message,
        "notes": f.notes,
        "help": f.help,
        "fingerprint": f.fingerprint(),
        "suppressed": f.suppression.as_ref().map(|s| json!({
            "reason": s.reason,
            "kind": match s.kind { ecrguard_rules::SuppressionKind::InSource => "in-source", ecrguard_rules::SuppressionKind::Config => "config" },
            "until": s.until,
        })),
    })
}

fn summary(findings: &[Finding], errors: usize) -> Value {
    let mut by = Map::new();
    for (sev, n) in severity_counts(findings) {
        by.insert(sev.as_str().to_string(), json!(n));
    }
    json!({"findings": findings.len(), "errors": errors, "by_severity": by})
}

/// Renders a `check-policy` result (`version: 1`).
#[must_use]
pub fn render_policy_check(check: &PolicyCheck<'_>) -> String {
    let mut root = Map::new();
    root.insert("version".into(), json!(JSON_VERSION));
    root.insert("input".into(), json!(check.input));
    root.insert("verdict".into(), json!(check.verdict()));
    root.insert("owner_account".into(), json!(check.owner_account));
    let (external, access, statements, incomplete) = match (check.analysis, check.policy) {
        (Some(a), Some(p)) => {
            let external: Vec<String> = a.external.iter().map(ecrguard_iam::Party::label).collect();
            let mut access = Map::new();
            for (party, classes) in &a.access {
                access.insert(
                    party.label(),
                    json!(classes.iter().map(|c| c.as_str()).collect::<Vec<_>>()),
                );
            }
            let statements: Vec<Value> = a
                .statements
                .iter()
                .map(|sa| {
                    let st = &p.statements[sa.index];
                    let mut grants = Map::new();
                    for (party, names) in &sa.grants {
                        grants.insert(party.label(), json!(names.iter().collect::<Vec<_>>()));
                    }
                    json!({
                        "index": sa.index,
                        "sid": st.sid,
                        "effect": st.effect.map(|e| match e { Effect::Allow => "Allow", Effect::Deny => "Deny" }),
                        "verdict": sa.verdict.as_str(),
                        "grants": grants,
                        "narrowed_by": sa.narrowed_by,
                        "conditions": sa.conditions.iter().map(|c| json!({"restricts": c.restricts, "reason": c.reason})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            (
                json!(external),
                Value::Object(access),
                json!(statements),
                a.incomplete,
            )
        }
        _ => (json!([]), json!({}), json!([]), true),
    };
    root.insert("external".into(), external);
    root.insert("access".into(), access);
    root.insert("statements".into(), statements);
    root.insert("incomplete".into(), json!(incomplete));
    root.insert(
        "findings".into(),
        Value::Array(
            check
                .findings
                .iter()
                .map(|f| finding(check.sources, f))
                .collect(),
        ),
    );
    root.insert("errors".into(), errors_json(&check.errors));
    root.insert(
        "summary".into(),
        summary(&check.findings, check.errors.len()),
    );
    let mut s = serde_json::to_string_pretty(&Value::Object(root))
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

fn errors_json(errors: &[crate::InputError]) -> Value {
    Value::Array(
        errors
            .iter()
            .map(|e| json!({"file": e.location.as_ref().map(|l| &l.file), "line": e.location.as_ref().map(|l| l.start_line), "message": e.message}))
            .collect(),
    )
}

/// Renders a `scan` result (`version: 1`).
#[must_use]
pub fn render_scan(report: &ScanReport<'_>) -> String {
    let active: Vec<Finding> = report.active().cloned().collect();
    let mut summary = summary(&active, report.errors.len());
    summary["suppressed"] = json!(report.findings.len() - active.len());
    summary["files"] = json!(report.files);
    summary["not_evaluated"] = json!(report.not_evaluated.len());
    let root = json!({
        "version": JSON_VERSION,
        "findings": report.findings.iter().map(|f| finding(report.sources, f)).collect::<Vec<_>>(),
        "errors": errors_json(&report.errors),
        "not_evaluated": report.not_evaluated.iter().map(|n| json!({"address": n.address, "reason": n.reason})).collect::<Vec<_>>(),
        "summary": summary,
    });
    let mut s = serde_json::to_string_pretty(&root).unwrap_or_default();
    s.push('\n');
    s
}
