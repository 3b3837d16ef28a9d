//! SARIF 2.1.0 for GitHub code scanning and other viewers: rules with help text and
//! `security-severity`, results with locations (or the ARN as a logical location),
//! partial fingerprints, and suppressions.

use crate::ScanReport;
use ecrguard_rules::{Finding, RuleMeta, Severity, SuppressionKind};
use serde_json::{Value, json};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

fn rule(m: &RuleMeta) -> Value {
    let docs: String = m
        .docs
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    json!({
        "id": m.code,
        "name": m.name,
        "shortDescription": {"text": m.summary},
        "fullDescription": {"text": m.summary},
        "help": {"text": docs, "markdown": docs},
        "defaultConfiguration": {"level": level(m.severity)},
        "properties": {
            "security-severity": m.severity.security_severity(),
            "tags": std::iter::once("security")
                .chain(std::iter::once(m.category.as_str()))
                .chain(m.compliance.iter().copied())
                .collect::<Vec<_>>(),
            "precision": "high",
        }
    })
}

fn result(report: &ScanReport<'_>, f: &Finding, rule_index: usize) -> Value {
    let mut r = json!({
        "ruleId": f.rule.code,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": {"text": f.message},
        "partialFingerprints": {"ecrguardFingerprint/v2": f.fingerprint(report.sources)},
        "properties": {"severity": f.severity.as_str(), "resource": f.resource.label()},
    });
    if let Some(root) = f.resource.root() {
        r["properties"]["root"] = json!(root);
    }
    if !f.assumes.is_empty() {
        r["properties"]["assumes"] = f
            .assumes
            .iter()
            .map(|a| json!({"condition": a.condition, "holds": a.holds}))
            .collect();
    }
    let location = match &f.origin {
        Some(ecrguard_model::Origin::Aws { arn, .. }) => {
            Some(json!({"logicalLocations": [{"fullyQualifiedName": arn, "kind": "resource"}]}))
        }
        Some(o) => report.sources.lines(o).map(|l| {
            json!({
                "physicalLocation": {
                    "artifactLocation": {"uri": l.file.trim_start_matches("./")},
                    "region": {"startLine": l.start_line, "endLine": l.end_line}
                },
                "logicalLocations": [{"fullyQualifiedName": f.resource.label(), "kind": "resource"}]
            })
        }),
        None => None,
    };
    if let Some(l) = location {
        r["locations"] = json!([l]);
    }
    if let Some(s) = &f.suppression {
        let kind = match s.kind {
            SuppressionKind::InSource => "inSource",
            SuppressionKind::Config | SuppressionKind::Baseline => "external",
        };
        r["suppressions"] = json!([{"kind": kind, "justification": s.reason}]);
    }
    r
}

/// GitHub code scanning accepts at most this many results in one run.
pub const MAX_RESULTS: usize = 25_000;

/// Renders the report as a SARIF 2.1.0 log. `category` is the run's
/// `automationDetails.id` (GitHub's code-scanning category: `ecrguard/scan`).
#[must_use]
pub fn render(report: &ScanReport<'_>, category: &str) -> String {
    let rules: Vec<Value> = report.rules.iter().map(|m| rule(m)).collect();
    // Over GitHub's limit, the most severe are kept (unsuppressed first), in report order.
    let mut kept: Vec<&Finding> = report.findings.iter().collect();
    let cut = kept.len().saturating_sub(MAX_RESULTS);
    if cut > 0 {
        let mut order: Vec<usize> = (0..kept.len()).collect();
        order.sort_by_key(|&i| {
            let f = kept[i];
            (f.suppression.is_some(), std::cmp::Reverse(f.severity), i)
        });
        let mut keep: Vec<usize> = order[..MAX_RESULTS].to_vec();
        keep.sort_unstable();
        kept = keep.into_iter().map(|i| kept[i]).collect();
    }
    let results: Vec<Value> = kept
        .iter()
        .map(|f| {
            let idx = report
                .rules
                .iter()
                .position(|m| m.code == f.rule.code)
                .unwrap_or(0);
            result(report, f, idx)
        })
        .collect();
    let mut notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            let mut n = json!({"level": "error", "message": {"text": e.message}});
            match e.location() {
                Some(l) if l.line().is_none() => {
                    n["locations"] = json!([{"physicalLocation": {"artifactLocation": {"uri": l.file}}}]);
                }
                Some(l) => {
                    n["locations"] = json!([{"physicalLocation": {"artifactLocation": {"uri": l.file}, "region": {"startLine": l.start_line}}}]);
                }
                // A live resource or a declared name: a logical location, as results have.
                None => match &e.place {
                    crate::Place::Arn(name) | crate::Place::Address(name) => {
                        n["locations"] = json!([{"logicalLocations": [{"fullyQualifiedName": name, "kind": "resource"}]}]);
                    }
                    crate::Place::Run | crate::Place::File(_) => {}
                },
            }
            n
        })
        .collect();
    for n in &report.notes {
        notifications.push(json!({"level": "note", "message": {"text": n}}));
    }
    if cut > 0 {
        notifications.push(json!({
            "level": "warning",
            "message": {"text": format!(
                "{cut} of {} results are not in this file: GitHub code scanning accepts {MAX_RESULTS} per run, so the most severe were kept (the JSON report has them all)",
                report.findings.len()
            )},
        }));
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ecrguard",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html",
                "rules": rules,
            }},
            // GitHub reads the category as what precedes the last `/` of the id.
            "automationDetails": {"id": if category.ends_with('/') {
                category.to_string()
            } else {
                format!("{category}/")
            }},
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }]
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecrguard_model::{Origin, ResourceId, SourceDb};

    /// Over GitHub's 25,000 results per run, the most severe are kept, unsuppressed first, in
    /// report order, and a notification says how many were left out.
    #[test]
    fn results_are_capped_keeping_the_most_severe() {
        let mut sources = SourceDb::default();
        let file = sources.add("main.tf", "x");
        let n = MAX_RESULTS + 10;
        let findings: Vec<Finding> = (0..n)
            .map(|i| {
                let mut f = ecrguard_rules::suppression::invalid(
                    ResourceId::Terraform(format!("aws_ecr_repository.r{i}").into()),
                    Origin::File(file),
                    format!("finding {i}"),
                );
                // Twenty critical ones at the end must survive the cut.
                if i >= n - 20 {
                    f.severity = Severity::Critical;
                }
                f
            })
            .collect();
        let report = ScanReport::of_findings(&sources, findings);
        let v: Value = serde_json::from_str(&render(&report, "ecrguard/scan")).unwrap();
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), MAX_RESULTS);
        let critical = results.iter().filter(|r| r["level"] == "error").count();
        assert_eq!(critical, 20, "every critical result is kept");
        let notes = v["runs"][0]["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap();
        assert!(notes.iter().any(|n| {
            n["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("10 of 25010 results are not in this file")
        }));
        assert_eq!(v["runs"][0]["automationDetails"]["id"], "ecrguard/scan/");
    }

    /// Every output names where an error is, a live resource's ARN included.
    #[test]
    fn an_error_at_an_arn_names_it_in_every_output() {
        let sources = SourceDb::default();
        let arn = "arn:aws:ecr:us-east-1:111122223333:repository/app";
        let mut report = ScanReport::of_findings(&sources, Vec::new());
        report.errors.push(crate::InputProblem::error(
            crate::Place::Arn(arn.into()),
            "ecr:GetRepositoryPolicy (us-east-1): denied [access-denied]",
        ));
        let v: Value = serde_json::from_str(&render(&report, "ecrguard/audit")).unwrap();
        let note = &v["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(
            note["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            arn
        );
        assert!(crate::github::render(&report).contains(arn));
        let text = crate::text::render_scan(&report, crate::text::TextOptions { color: false });
        assert!(
            text.contains(&format!("error: {arn}: ecr:GetRepositoryPolicy")),
            "{text}"
        );
        let mut json = Vec::new();
        crate::json::write_scan(&report, &mut json).unwrap();
        let json = String::from_utf8(json).unwrap();
        assert!(json.contains(&format!("\"arn\": \"{arn}\"")), "{json}");
    }
}
