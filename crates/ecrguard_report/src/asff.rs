//! The AWS Security Finding Format (ASFF, schema 2018-10-08), for AWS Security Hub: one
//! finding per ecrguard finding, its `Id` taken from the fingerprint (so a re-import updates
//! the same Security Hub finding), the account's default product, the rule as generator,
//! severity, remediation, the resource (with `AwsEcrRepository` details for a repository ARN)
//! and the rule's compliance mappings.

use crate::ScanReport;
use ecrguard_rules::{Finding, Severity};
use serde_json::{Value, json};

/// What ASFF needs that an infrastructure-code finding does not carry.
#[derive(Debug, Clone)]
pub struct AsffOptions {
    /// The account for findings without an ARN (the run's owner account), else
    /// `000000000000`.
    pub account: Option<String>,
    /// The region for findings without an ARN and for the product ARN, else `us-east-1`.
    pub region: Option<String>,
    /// `CreatedAt` / `UpdatedAt`: RFC 3339.
    pub now: String,
}

/// Security Hub's limits on a few fields.
const MAX_DESCRIPTION: usize = 1024;
const MAX_TITLE: usize = 256;
const MAX_REQUIREMENTS: usize = 32;

fn label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// The ASFF finding of one ecrguard finding.
#[must_use]
pub fn finding(report: &ScanReport<'_>, f: &Finding, opts: &AsffOptions) -> Value {
    let arn_text = f.arn();
    let arn = arn_text.and_then(ecrguard_iam::principal::Arn::parse);
    let account = arn
        .as_ref()
        .map(|a| a.account)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .or_else(|| opts.account.clone())
        .unwrap_or_else(|| "000000000000".into());
    let region = arn
        .as_ref()
        .map(|a| a.region)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .or_else(|| opts.region.clone())
        .unwrap_or_else(|| "us-east-1".into());
    let partition = arn.as_ref().map_or("aws", |a| a.partition);
    let fingerprint = f.fingerprint(report.sources);
    let repository_name = arn
        .as_ref()
        .filter(|a| a.service == "ecr")
        .and_then(|a| a.resource.strip_prefix("repository/"));
    let resource = match (repository_name, arn_text) {
        (Some(name), Some(text)) => json!({
            "Type": "AwsEcrRepository",
            "Id": text,
            "Partition": partition,
            "Region": region,
            "Details": {"AwsEcrRepository": {"RepositoryName": name, "Arn": text}},
        }),
        _ => json!({
            "Type": "Other",
            "Id": f.resource.label(),
            "Partition": partition,
            "Region": region,
        }),
    };
    let exposure = matches!(
        f.rule.code,
        "ECR002" | "ECR003" | "ECR006" | "ECR007" | "ECR014" | "ECR016"
    );
    let mut types = vec!["Software and Configuration Checks/AWS Security Best Practices"];
    if exposure {
        types.push("Effects/Data Exposure");
    }
    let mut description = f.message.clone();
    for n in &f.notes {
        description.push_str("; ");
        description.push_str(n);
    }
    let mut out = json!({
        "SchemaVersion": "2018-10-08",
        "Id": format!("ecrguard/{account}/{region}/{fingerprint}"),
        "ProductArn": format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default"),
        "ProductName": "ecrguard",
        "CompanyName": "ecrguard",
        "GeneratorId": format!("ecrguard/{}", f.rule.code),
        "AwsAccountId": account,
        "Types": types,
        "CreatedAt": opts.now,
        "UpdatedAt": opts.now,
        "Severity": {"Label": label(f.severity)},
        "Title": cut(&format!("{} {}", f.rule.code, f.rule.summary), MAX_TITLE),
        "Description": cut(&description, MAX_DESCRIPTION),
        "Resources": [resource],
        "Compliance": {
            "Status": "FAILED",
            "RelatedRequirements": f.rule.compliance.iter().take(MAX_REQUIREMENTS).map(|r| cut(r, 256)).collect::<Vec<_>>(),
        },
        "ProductFields": {
            "ecrguard/Rule": f.rule.name,
            "ecrguard/Fingerprint": fingerprint,
            "ecrguard/Resource": f.resource.label(),
        },
        "RecordState": "ACTIVE",
        "Workflow": {"Status": if f.suppression.is_some() { "SUPPRESSED" } else { "NEW" }},
    });
    if let Some(help) = &f.help {
        out["Remediation"] = json!({"Recommendation": {"Text": cut(help, 512)}});
    }
    if let Some(loc) = f.origin.as_ref().and_then(|o| report.sources.lines(o)) {
        out["ProductFields"]["ecrguard/Location"] =
            json!(format!("{}:{}", loc.file, loc.start_line));
    }
    out
}

/// Renders the report as a JSON array of ASFF findings (what `BatchImportFindings` takes,
/// in batches of 100).
#[must_use]
pub fn render(report: &ScanReport<'_>, opts: &AsffOptions) -> String {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| finding(report, f, opts))
        .collect();
    let mut s = serde_json::to_string_pretty(&findings).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecrguard_model::{Origin, ResourceId, SourceDb};

    /// The fields Security Hub's `BatchImportFindings` requires, on a live finding and on a
    /// code finding (whose account and region come from the options).
    #[test]
    fn findings_have_every_required_field() {
        const REQUIRED: &[&str] = &[
            "SchemaVersion",
            "Id",
            "ProductArn",
            "GeneratorId",
            "AwsAccountId",
            "Types",
            "CreatedAt",
            "UpdatedAt",
            "Severity",
            "Title",
            "Description",
            "Resources",
        ];
        let mut sources = SourceDb::default();
        let file = sources.add("main.tf", "x\n");
        let live = ecrguard_rules::suppression::invalid(
            ResourceId::Arn("arn:aws:ecr:eu-west-1:111122223333:repository/app".into()),
            Origin::File(file),
            "live".into(),
        );
        let code = ecrguard_rules::suppression::invalid(
            ResourceId::Terraform("aws_ecr_repository.app".into()),
            Origin::File(file),
            "x".repeat(2000),
        );
        let report = ScanReport::of_findings(&sources, vec![live, code]);
        let opts = AsffOptions {
            account: Some("444455556666".into()),
            region: Some("us-west-2".into()),
            now: "2026-12-06T00:00:00Z".into(),
        };
        let v: Value = serde_json::from_str(&render(&report, &opts)).unwrap();
        let list = v.as_array().unwrap();
        for f in list {
            for key in REQUIRED {
                assert!(!f[key].is_null(), "{key}: {f}");
            }
            assert_eq!(f["SchemaVersion"], "2018-10-08");
            assert!(f["Description"].as_str().unwrap().chars().count() <= MAX_DESCRIPTION);
            assert!(f["Resources"][0]["Type"].is_string() && f["Resources"][0]["Id"].is_string());
        }
        assert_eq!(list[0]["AwsAccountId"], "111122223333");
        assert_eq!(list[0]["Resources"][0]["Type"], "AwsEcrRepository");
        assert_eq!(
            list[0]["Resources"][0]["Details"]["AwsEcrRepository"]["RepositoryName"],
            "app"
        );
        assert_eq!(
            list[0]["ProductArn"],
            "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default"
        );
        assert_eq!(list[1]["AwsAccountId"], "444455556666");
        assert_eq!(list[1]["Resources"][0]["Region"], "us-west-2");
    }
}
