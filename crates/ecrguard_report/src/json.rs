//! JSON output. Field order is fixed and maps are sorted, so the same input gives
//! byte-identical output.

use crate::{JSON_VERSION, PolicyCheck, ScanReport, severity_counts};
use ecrguard_iam::policy::Effect;
use ecrguard_model::SourceDb;
use ecrguard_rules::Finding;
use serde::Serialize;
use serde_json::{Map, Value, json};

#[derive(Serialize)]
struct LocationJson<'a> {
    file: &'a str,
    start_line: usize,
    end_line: usize,
}

#[derive(Serialize)]
struct SuppressedJson<'a> {
    reason: &'a str,
    kind: &'static str,
    until: Option<&'a str>,
}

/// A finding as it appears in JSON (field order is the output contract).
#[derive(Serialize)]
struct FindingJson<'a> {
    rule_id: &'static str,
    rule_name: &'static str,
    severity: &'static str,
    resource: &'a str,
    repository: Option<&'a str>,
    /// For a resource named by ARN (live audit): its account and region.
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    location: Option<LocationJson<'a>>,
    statement_index: Option<usize>,
    sid: Option<&'a str>,
    message: &'a str,
    notes: &'a [String],
    help: Option<&'a str>,
    fingerprint: String,
    suppressed: Option<SuppressedJson<'a>>,
}

fn finding_json<'a>(
    location: Option<&'a ecrguard_model::Location>,
    f: &'a Finding,
) -> FindingJson<'a> {
    let arn = match &f.resource {
        ecrguard_model::ResourceId::Arn(a) => ecrguard_iam::principal::Arn::parse(a),
        _ => None,
    };
    FindingJson {
        account: arn.map(|a| a.account).filter(|a| !a.is_empty()),
        region: arn.map(|a| a.region).filter(|r| !r.is_empty()),
        rule_id: f.rule.code,
        rule_name: f.rule.name,
        severity: f.severity.as_str(),
        resource: f.resource.label(),
        repository: f.repository.as_ref().map(ecrguard_model::ResourceId::label),
        location: location.map(|l| LocationJson {
            file: &l.file,
            start_line: l.start_line,
            end_line: l.end_line,
        }),
        statement_index: f.statement.as_ref().map(|s| s.index),
        sid: f.statement.as_ref().and_then(|s| s.sid.as_deref()),
        message: &f.message,
        notes: &f.notes,
        help: f.help.as_deref(),
        fingerprint: f.fingerprint(),
        suppressed: f.suppression.as_ref().map(|s| SuppressedJson {
            reason: &s.reason,
            kind: match s.kind {
                ecrguard_rules::SuppressionKind::InSource => "in-source",
                ecrguard_rules::SuppressionKind::Config => "config",
            },
            until: s.until.as_deref(),
        }),
    }
}

/// One finding as JSON.
#[must_use]
pub fn finding(sources: &SourceDb, f: &Finding) -> Value {
    let location = f.origin.as_ref().and_then(|o| sources.lines(o));
    serde_json::to_value(finding_json(location.as_ref(), f)).unwrap_or(Value::Null)
}

fn summary(findings: &[&Finding], errors: usize) -> Value {
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
        summary(
            &check.findings.iter().collect::<Vec<_>>(),
            check.errors.len(),
        ),
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

#[derive(Serialize)]
struct NotEvaluatedJson<'a> {
    address: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct ScanJson<'a> {
    version: u32,
    findings: Vec<FindingJson<'a>>,
    errors: Value,
    not_evaluated: Vec<NotEvaluatedJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access: Option<Value>,
    summary: Value,
}

/// Renders a `scan` result (`version: 1`).
#[must_use]
pub fn render_scan(report: &ScanReport<'_>) -> String {
    let active: Vec<&Finding> = report.active().collect();
    let mut summary = summary(&active, report.errors.len());
    summary["suppressed"] = json!(report.findings.len() - active.len());
    summary["files"] = json!(report.files);
    summary["not_evaluated"] = json!(report.not_evaluated.len());
    // Findings are rendered on all cores, each pretty-printed one level in (four spaces), then
    // spliced into the document in order: the bytes are exactly what one serial pass writes.
    let findings: Vec<Vec<u8>> = {
        use rayon::prelude::*;
        report
            .findings
            .par_iter()
            .map(|f| {
                let location = f.origin.as_ref().and_then(|o| report.sources.lines(o));
                let mut one = Vec::with_capacity(1024);
                if serde_json::to_writer_pretty(&mut one, &finding_json(location.as_ref(), f))
                    .is_err()
                {
                    return Vec::new();
                }
                // JSON strings hold no raw line breaks, so every b'\n' is layout.
                let mut indented = Vec::with_capacity(one.len() + one.len() / 8);
                for &b in &one {
                    indented.push(b);
                    if b == b'\n' {
                        indented.extend_from_slice(b"    ");
                    }
                }
                indented
            })
            .collect()
    };
    let root = ScanJson {
        version: JSON_VERSION,
        findings: Vec::new(),
        errors: errors_json(&report.errors),
        not_evaluated: report
            .not_evaluated
            .iter()
            .map(|n| NotEvaluatedJson {
                address: &n.address,
                reason: &n.reason,
            })
            .collect(),
        access: report.access.map(crate::access::render_json),
        summary,
    };
    let mut rest = Vec::new();
    if serde_json::to_writer_pretty(&mut rest, &root).is_err() {
        return String::new();
    }
    // `version` comes first and is a number, so the first `"findings": []` is the top-level one.
    const EMPTY: &[u8] = b"\"findings\": []";
    let Some(at) = rest.windows(EMPTY.len()).position(|w| w == EMPTY) else {
        return String::new();
    };
    // Sized up front: a large report grown by doubling copies itself over and over into
    // freshly zeroed pages.
    let mut out =
        Vec::with_capacity(rest.len() + findings.iter().map(|f| f.len() + 6).sum::<usize>());
    out.extend_from_slice(&rest[..at]);
    if findings.is_empty() {
        out.extend_from_slice(EMPTY);
    } else {
        out.extend_from_slice(b"\"findings\": [");
        for (i, f) in findings.iter().enumerate() {
            out.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
            out.extend_from_slice(f);
        }
        out.extend_from_slice(b"\n  ]");
    }
    out.extend_from_slice(&rest[at + EMPTY.len()..]);
    out.push(b'\n');
    String::from_utf8(out).unwrap_or_default()
}
