//! OCSF 1.3 Compliance Findings (class 2003), one JSON object per line: each ecrguard finding
//! as a failed check of its rule (the control), with the rule's compliance mappings as the
//! standards, the resource, and the finding's fingerprint as its unique id.

use crate::ScanReport;
use ecrguard_rules::{Finding, Severity};
use serde_json::{Value, json};

/// The OCSF schema version written.
pub const OCSF_VERSION: &str = "1.3.0";
/// Category: Findings.
pub const CATEGORY_UID: u32 = 2;
/// Class: Compliance Finding.
pub const CLASS_UID: u32 = 2003;
/// Activity: Create.
const ACTIVITY_CREATE: u32 = 1;

/// The attributes the Compliance Finding class requires (OCSF 1.3), checked by the tests.
pub const REQUIRED: &[&str] = &[
    "activity_id",
    "category_uid",
    "class_uid",
    "compliance",
    "finding_info",
    "metadata",
    "severity_id",
    "time",
    "type_uid",
];

fn severity_id(s: Severity) -> u32 {
    // OCSF: 1 informational, 2 low, 3 medium, 4 high, 5 critical.
    match s {
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

/// One OCSF finding; `time` is milliseconds since the epoch.
#[must_use]
pub fn finding(report: &ScanReport<'_>, f: &Finding, time: i64) -> Value {
    let mut resource = json!({"uid": f.resource.label(), "name": f.resource.label()});
    if let ecrguard_model::ResourceId::Arn(arn) = &f.resource
        && let Some(a) = ecrguard_iam::principal::Arn::parse(arn)
    {
        resource["cloud_partition"] = json!(a.partition);
        resource["region"] = json!(a.region);
        resource["owner"] = json!({"account": {"uid": a.account, "type_id": 10}});
    }
    if let Some(loc) = f.origin.as_ref().and_then(|o| report.sources.lines(o)) {
        resource["data"] = json!({"file": loc.file, "line": loc.start_line});
    }
    let (status, status_id) = if f.suppression.is_some() {
        ("Suppressed", 3)
    } else {
        ("New", 1)
    };
    json!({
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "time": time,
        "severity_id": severity_id(f.severity),
        "severity": f.severity.as_str(),
        "status_id": status_id,
        "status": status,
        "message": f.message,
        "finding_info": {
            "uid": f.fingerprint(report.sources),
            "title": f.rule.summary,
            "desc": f.message,
            "types": [f.rule.name],
        },
        "compliance": {
            "control": f.rule.code,
            "standards": f.rule.compliance,
            "status_id": 3,
            "status": "Fail",
        },
        "remediation": {"desc": f.help.clone().unwrap_or_default()},
        "resources": [resource],
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "ecrguard", "vendor_name": "ecrguard", "version": env!("CARGO_PKG_VERSION")},
        },
    })
}

/// Renders the report as JSON lines.
#[must_use]
pub fn render(report: &ScanReport<'_>, time: i64) -> String {
    let mut out = String::new();
    for f in &report.findings {
        out.push_str(&finding(report, f, time).to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecrguard_model::{Origin, ResourceId, SourceDb};

    #[test]
    fn every_line_is_a_compliance_finding_with_the_required_attributes() {
        let mut sources = SourceDb::default();
        let file = sources.add("main.tf", "x\n");
        let f = ecrguard_rules::suppression::invalid(
            ResourceId::Arn("arn:aws:ecr:eu-west-1:111122223333:repository/app".into()),
            Origin::File(file),
            "a finding".into(),
        );
        let report = ScanReport::of_findings(&sources, vec![f]);
        let text = render(&report, 1_765_000_000_000);
        assert_eq!(text.lines().count(), 1);
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            for key in REQUIRED {
                assert!(!v[key].is_null(), "{key} missing: {line}");
            }
            assert_eq!(v["type_uid"], 200_301);
            assert!(v["finding_info"]["uid"].as_str().unwrap().len() == 16);
            assert!(v["finding_info"]["title"].is_string());
            assert!(v["metadata"]["product"]["vendor_name"].is_string());
            assert_eq!(v["resources"][0]["owner"]["account"]["uid"], "111122223333");
        }
    }
}
