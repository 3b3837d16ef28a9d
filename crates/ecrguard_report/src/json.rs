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
    /// For Terraform: the root module the resource was reached from, when not the scanned
    /// path itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    root: Option<&'a str>,
    /// For a branch of a conditional policy: the conditions the finding holds under.
    #[serde(skip_serializing_if = "<[AssumptionJson<'_>]>::is_empty")]
    assumes: Vec<AssumptionJson<'a>>,
    location: Option<LocationJson<'a>>,
    statement_index: Option<usize>,
    sid: Option<&'a str>,
    message: &'a str,
    notes: &'a [String],
    help: Option<&'a str>,
    fingerprint: String,
    suppressed: Option<SuppressedJson<'a>>,
    /// The rule's compliance mappings.
    #[serde(skip_serializing_if = "<[&str]>::is_empty")]
    compliance: &'static [&'static str],
}

#[derive(Serialize)]
struct AssumptionJson<'a> {
    condition: &'a str,
    holds: bool,
}

fn finding_json<'a>(
    sources: &SourceDb,
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
        root: f.resource.root(),
        assumes: f
            .assumes
            .iter()
            .map(|a| AssumptionJson {
                condition: &a.condition,
                holds: a.holds,
            })
            .collect(),
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
        fingerprint: f.fingerprint(sources),
        compliance: f.rule.compliance,
        suppressed: f.suppression.as_ref().map(|s| SuppressedJson {
            reason: &s.reason,
            kind: match s.kind {
                ecrguard_rules::SuppressionKind::InSource => "in-source",
                ecrguard_rules::SuppressionKind::Config => "config",
                ecrguard_rules::SuppressionKind::Baseline => "baseline",
            },
            until: s.until.as_deref(),
        }),
    }
}

/// One finding as JSON.
#[must_use]
pub fn finding(sources: &SourceDb, f: &Finding) -> Value {
    let location = f.origin.as_ref().and_then(|o| sources.lines(o));
    serde_json::to_value(finding_json(sources, location.as_ref(), f)).unwrap_or(Value::Null)
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

fn errors_json(errors: &[crate::InputProblem]) -> Value {
    Value::Array(
        errors
            .iter()
            .map(|e| {
                let mut v = json!({"file": e.location().map(|l| &l.file), "line": e.location().and_then(ecrguard_model::Location::line), "message": e.message});
                // Live errors name the resource by ARN, source ones a declared name.
                match &e.place {
                    crate::Place::Arn(arn) => v["arn"] = json!(arn),
                    crate::Place::Address(a) => v["address"] = json!(a),
                    crate::Place::Run | crate::Place::File(_) => {}
                }
                v
            })
            .collect(),
    )
}

#[derive(Serialize)]
struct NotEvaluatedJson<'a> {
    address: String,
    reason: &'a str,
}

#[derive(Serialize)]
struct ScanJson<'a> {
    version: u32,
    findings: Vec<FindingJson<'a>>,
    errors: Value,
    not_evaluated: Vec<NotEvaluatedJson<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    /// With `--compliance`: the framework's controls and the findings under each.
    #[serde(skip_serializing_if = "Option::is_none")]
    compliance: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access: Option<Value>,
    summary: Value,
}

/// Findings rendered by one task: enough to amortise the task, few enough to balance cores.
const FINDINGS_PER_TASK: usize = 256;
/// Findings rendered while the previous window is written: the write (a kernel copy on one
/// core) overlaps rendering, and memory holds two windows, not the whole report.
const FINDINGS_PER_WINDOW: usize = 4096;

/// Writes a `scan` result (`version: 1`) to `out`; the bytes are exactly what
/// `serde_json::to_writer_pretty` writes for the whole document, plus a final line break.
///
/// # Errors
/// When `out` fails; what was written before stays written.
pub fn write_scan(
    report: &ScanReport<'_>,
    out: &mut (dyn std::io::Write + Send),
) -> std::io::Result<()> {
    use rayon::prelude::*;
    let active: Vec<&Finding> = report.active().collect();
    let mut summary = summary(&active, report.errors.len());
    summary["suppressed"] = json!(report.findings.len() - active.len());
    // Of the suppressed, those a baseline (`--baseline`) accounts for.
    summary["baselined"] = json!(
        report
            .findings
            .iter()
            .filter(|f| f
                .suppression
                .as_ref()
                .is_some_and(|s| s.kind == ecrguard_rules::SuppressionKind::Baseline))
            .count()
    );
    summary["files"] = json!(report.files);
    summary["not_evaluated"] = json!(report.not_evaluated.len());
    let root = ScanJson {
        version: JSON_VERSION,
        findings: Vec::new(),
        errors: errors_json(&report.errors),
        not_evaluated: report
            .not_evaluated
            .iter()
            .map(|n| NotEvaluatedJson {
                address: n.place.to_string(),
                reason: &n.message,
            })
            .collect(),
        notes: &report.notes,
        compliance: report.compliance.map(|f| {
            json!({
                "framework": f.key,
                "name": f.name,
                "controls": crate::by_control(f, &active)
                    .into_iter()
                    .map(|(control, rules, n)| json!({"control": control, "rules": rules, "findings": n}))
                    .collect::<Vec<_>>(),
            })
        }),
        access: report.access.map(crate::access::render_json),
        summary,
    };
    let rest = serde_json::to_vec_pretty(&root).map_err(std::io::Error::other)?;
    // `version` comes first and is a number, so the first `"findings": []` is the top-level one.
    const EMPTY: &[u8] = b"\"findings\": []";
    let at = rest
        .windows(EMPTY.len())
        .position(|w| w == EMPTY)
        .ok_or_else(|| std::io::Error::other("no findings array in the JSON document"))?;
    if report.findings.is_empty() {
        out.write_all(&rest)?;
        return out.write_all(b"\n");
    }
    out.write_all(&rest[..at])?;
    out.write_all(b"\"findings\": [")?;
    // Findings are rendered on all cores, each pretty-printed one level in (four spaces), and
    // written in order by one thread while the next window renders.
    let render = |offset: usize, chunk: &[Finding]| -> std::io::Result<Vec<u8>> {
        let mut block = Vec::with_capacity(chunk.len() * 768);
        let mut one = Vec::with_capacity(1024);
        for (i, f) in chunk.iter().enumerate() {
            block.extend_from_slice(if offset + i == 0 {
                b"\n    "
            } else {
                b",\n    "
            });
            let location = f.origin.as_ref().and_then(|o| report.sources.lines(o));
            one.clear();
            serde_json::to_writer_pretty(
                &mut one,
                &finding_json(report.sources, location.as_ref(), f),
            )?;
            // JSON strings hold no raw line breaks, so every b'\n' is layout.
            for line in one.split_inclusive(|&b| b == b'\n') {
                block.extend_from_slice(line);
                if line.ends_with(b"\n") {
                    block.extend_from_slice(b"    ");
                }
            }
        }
        Ok(block)
    };
    let sink = &mut *out;
    std::thread::scope(|s| -> std::io::Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(1);
        let writer = s.spawn(move || -> std::io::Result<()> {
            for window in rx {
                for block in window {
                    sink.write_all(&block)?;
                }
            }
            Ok(())
        });
        for (w, window) in report.findings.chunks(FINDINGS_PER_WINDOW).enumerate() {
            let blocks = window
                .par_chunks(FINDINGS_PER_TASK)
                .enumerate()
                .map(|(t, chunk)| render(w * FINDINGS_PER_WINDOW + t * FINDINGS_PER_TASK, chunk))
                .collect::<std::io::Result<Vec<_>>>()?;
            // The writer stopped: its error is the one to report.
            if tx.send(blocks).is_err() {
                break;
            }
        }
        drop(tx);
        writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    out.write_all(b"\n  ]")?;
    out.write_all(&rest[at + EMPTY.len()..])?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecrguard_model::{Origin, ResourceId, Span};

    /// `n` findings, one per line of one file, every third suppressed, with notes and help so
    /// that nested arrays and escapes are laid out too.
    fn findings(sources: &mut SourceDb, n: usize) -> Vec<Finding> {
        let text: String = (0..n).map(|i| format!("line {i}\n")).collect();
        let file = sources.add("stack/template.yaml", text);
        let mut offset = 0usize;
        (0..n)
            .map(|i| {
                let len = format!("line {i}\n").len();
                let origin = Origin::Span {
                    file,
                    span: Span::new(offset, offset + len),
                };
                offset += len;
                let mut f = ecrguard_rules::suppression::invalid(
                    ResourceId::CloudFormation(format!("Repo{i}")),
                    origin,
                    format!("finding {i} with \"quotes\" and a tab\t"),
                );
                f.notes = vec![format!("note {i}"), "second note".into()];
                f.help = Some("do this".into());
                if i % 3 == 0 {
                    f.suppression = Some(ecrguard_rules::Suppression {
                        kind: ecrguard_rules::SuppressionKind::Config,
                        reason: "accepted".into(),
                        until: None,
                    });
                }
                f
            })
            .collect()
    }

    fn report(sources: &SourceDb, findings: Vec<Finding>) -> ScanReport<'_> {
        ScanReport::of_findings(sources, findings)
    }

    /// The streamed document must be exactly serde_json's pretty layout of the same value,
    /// across several render tasks and windows (and at their edges), in the findings' order.
    #[test]
    fn streamed_report_is_serde_pretty_across_tasks_and_windows() {
        for n in [
            0,
            1,
            FINDINGS_PER_TASK,
            FINDINGS_PER_TASK + 1,
            FINDINGS_PER_WINDOW,
            2 * FINDINGS_PER_WINDOW + 3,
        ] {
            let mut sources = SourceDb::default();
            let all = findings(&mut sources, n);
            let mut bytes = Vec::new();
            write_scan(&report(&sources, all), &mut bytes).unwrap();
            let text = String::from_utf8(bytes).unwrap();
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                text,
                format!("{}\n", serde_json::to_string_pretty(&v).unwrap()),
                "{n} findings"
            );
            let out = v["findings"].as_array().unwrap();
            assert_eq!(out.len(), n);
            for (i, f) in out.iter().enumerate() {
                assert_eq!(f["resource"], format!("Repo{i}"));
                assert_eq!(f["location"]["start_line"], i + 1);
                assert_eq!(f["suppressed"].is_null(), i % 3 != 0);
            }
            assert_eq!(v["summary"]["suppressed"], n.div_ceil(3));
        }
    }

    /// A sink that fails after some bytes (a full disk, a closed pipe).
    struct FailsAfter(usize);
    impl std::io::Write for FailsAfter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if buf.len() > self.0 {
                return Err(std::io::Error::other("disk full"));
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A failing sink is an error for the caller, whichever window it fails in; rendering
    /// stops instead of hanging on the writer.
    #[test]
    fn a_failing_sink_is_an_error_not_a_hang() {
        let mut sources = SourceDb::default();
        let all = findings(&mut sources, 3 * FINDINGS_PER_WINDOW);
        let report = report(&sources, all);
        for budget in [0, 100, 1_000_000, 4_000_000] {
            let err = write_scan(&report, &mut FailsAfter(budget)).unwrap_err();
            assert_eq!(err.to_string(), "disk full", "after {budget} bytes");
        }
    }
}
