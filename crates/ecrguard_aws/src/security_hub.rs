//! Findings imported into AWS Security Hub (feature `security-hub`): `audit --security-hub`.
//!
//! With the account's default product ARN, Security Hub takes a finding only from the account
//! it is about and in the region of its product ARN, so findings are imported through each
//! audited account's own credentials (its audit role), one region at a time, 100 per
//! `BatchImportFindings` call. A finding ecrguard imported before that the audit no longer
//! reports is imported again archived (`RecordState` `ARCHIVED`, `Compliance.Status`
//! `PASSED`): providers may change those two, never `Workflow` (the customer's).

use crate::api::{ApiError, ErrorKind};
use crate::sdk::{MAX_RESPONSE_BYTES, ResponseLimit, Timeouts, classify, config_assuming};
use aws_sdk_securityhub::types::{
    AwsEcrRepositoryDetails, AwsSecurityFinding, AwsSecurityFindingFilters, Compliance,
    ComplianceStatus, FindingProviderFields, FindingProviderSeverity, Partition, Recommendation,
    RecordState, Remediation, Resource, ResourceDetails, Severity, SeverityLabel, StringFilter,
    StringFilterComparison, Workflow, WorkflowStatus,
};
use serde_json::Value;
use std::collections::HashMap;

/// Findings per `BatchImportFindings` call: Security Hub's limit.
pub const BATCH: usize = 100;

/// Most pages of `GetFindings` read (100 findings each).
pub const MAX_PAGES: usize = 1_000;

/// One account's Security Hub in one region.
pub struct SdkSecurityHub {
    client: aws_sdk_securityhub::Client,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Findings Security Hub took.
    pub imported: usize,
    /// Findings it refused, or whose call failed: `(finding id, why)`.
    pub failed: Vec<(String, String)>,
}

impl SdkSecurityHub {
    /// A client for `region` with the profile's credentials, or `role_arn`'s when given.
    pub async fn connect(
        profile: Option<&str>,
        role_arn: Option<&str>,
        region: &str,
        timeouts: Timeouts,
        max_attempts: u32,
    ) -> Self {
        let base = config_assuming(
            profile,
            role_arn,
            None,
            Some(region),
            timeouts,
            max_attempts,
        )
        .await;
        SdkSecurityHub {
            client: aws_sdk_securityhub::Client::from_conf(
                aws_sdk_securityhub::config::Builder::from(&base)
                    .interceptor(ResponseLimit(MAX_RESPONSE_BYTES))
                    .region(aws_config::Region::new(region.to_string()))
                    .build(),
            ),
        }
    }

    /// `securityhub:BatchImportFindings`, [`BATCH`] findings per call (the SDK's adaptive
    /// retry covers throttling). Every finding not taken is listed with why.
    pub async fn import(&self, findings: Vec<AwsSecurityFinding>) -> Imported {
        let mut out = Imported::default();
        for batch in findings.chunks(BATCH) {
            let ids: Vec<String> = batch
                .iter()
                .map(|f| f.id.clone().unwrap_or_default())
                .collect();
            // On the heap: the SDK's futures for Security Hub's large types would overflow a
            // thread's stack in an unoptimized build.
            let sent = Box::pin(
                self.client
                    .batch_import_findings()
                    .set_findings(Some(batch.to_vec()))
                    .send(),
            )
            .await;
            match sent {
                Ok(answer) => {
                    let failed = answer.failed_findings();
                    out.imported += batch.len().saturating_sub(failed.len());
                    out.failed.extend(failed.iter().map(|f| {
                        (
                            f.id().unwrap_or_default().to_string(),
                            format!(
                                "{}: {}",
                                f.error_code().unwrap_or("error"),
                                f.error_message().unwrap_or_default()
                            ),
                        )
                    }));
                }
                Err(e) => {
                    let why = classify(&e).to_string();
                    out.failed
                        .extend(ids.into_iter().map(|id| (id, why.clone())));
                }
            }
        }
        out
    }

    /// `securityhub:GetFindings` (every page): the active findings of `product_arn` whose
    /// generator starts with `generator_prefix`, in `account`. Filtered here as well as in the
    /// request: an answer is checked, not trusted.
    ///
    /// # Errors
    /// A failed call, or more than [`MAX_PAGES`] pages.
    pub async fn active_findings(
        &self,
        product_arn: &str,
        generator_prefix: &str,
        account: &str,
    ) -> Result<Vec<AwsSecurityFinding>, ApiError> {
        let equals = |v: &str| {
            StringFilter::builder()
                .comparison(StringFilterComparison::Equals)
                .value(v)
                .build()
        };
        let filters = AwsSecurityFindingFilters::builder()
            .product_arn(equals(product_arn))
            .aws_account_id(equals(account))
            .record_state(equals("ACTIVE"))
            .generator_id(
                StringFilter::builder()
                    .comparison(StringFilterComparison::Prefix)
                    .value(generator_prefix)
                    .build(),
            )
            .build();
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = Box::pin(
                self.client
                    .get_findings()
                    .filters(filters.clone())
                    .max_results(100)
                    .set_next_token(token.take())
                    .send(),
            )
            .await
            .map_err(|e| classify(&e))?;
            found.extend(
                page.findings()
                    .iter()
                    .filter(|f| {
                        f.product_arn.as_deref() == Some(product_arn)
                            && f.aws_account_id.as_deref() == Some(account)
                            && f.record_state.as_ref() == Some(&RecordState::Active)
                            && f.generator_id
                                .as_deref()
                                .is_some_and(|g| g.starts_with(generator_prefix))
                    })
                    .cloned(),
            );
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(found),
            }
        }
        Err(ApiError {
            kind: ErrorKind::Other,
            code: None,
            message: format!(
                "securityhub:GetFindings: more than {MAX_PAGES} pages; not read further"
            ),
        })
    }
}

/// A finding that is no longer reported, as it is imported again: archived and passed.
#[must_use]
pub fn resolved(mut finding: AwsSecurityFinding, now: &str) -> AwsSecurityFinding {
    finding.record_state = Some(RecordState::Archived);
    finding.updated_at = Some(now.to_string());
    let requirements = finding
        .compliance
        .as_ref()
        .map(|c| c.related_requirements().to_vec())
        .unwrap_or_default();
    finding.compliance = Some(
        Compliance::builder()
            .status(ComplianceStatus::Passed)
            .set_related_requirements(Some(requirements))
            .build(),
    );
    // Set by the customer; a provider's import must not carry it.
    finding.workflow = None;
    finding
}

/// The SDK's finding of one finding of `ecrguard --format asff` (`ecrguard_report::asff`).
///
/// # Errors
/// A required field missing or of the wrong type.
pub fn finding_of_asff(v: &Value) -> Result<AwsSecurityFinding, String> {
    let text = |key: &str| -> Result<String, String> {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("ASFF finding without `{key}`"))
    };
    let strings = |x: Option<&Value>| -> Vec<String> {
        x.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let label = SeverityLabel::from(
        v.pointer("/Severity/Label")
            .and_then(Value::as_str)
            .ok_or("ASFF finding without `Severity.Label`")?,
    );
    let types = strings(v.get("Types"));
    let mut resources = Vec::new();
    for r in v
        .get("Resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let field = |key: &str| r.get(key).and_then(Value::as_str).map(str::to_string);
        let mut resource = Resource::builder()
            .set_type(field("Type"))
            .set_id(field("Id"))
            .set_partition(field("Partition").map(|p| Partition::from(p.as_str())))
            .set_region(field("Region"));
        if let Some(ecr) = r.pointer("/Details/AwsEcrRepository") {
            let detail = |key: &str| ecr.get(key).and_then(Value::as_str).map(str::to_string);
            resource = resource.details(
                ResourceDetails::builder()
                    .aws_ecr_repository(
                        AwsEcrRepositoryDetails::builder()
                            .set_repository_name(detail("RepositoryName"))
                            .set_arn(detail("Arn"))
                            .build(),
                    )
                    .build(),
            );
        }
        resources.push(resource.build());
    }
    if resources.is_empty() {
        return Err("ASFF finding without `Resources`".into());
    }
    let product_fields: HashMap<String, String> = v
        .get("ProductFields")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, x)| x.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let mut finding = AwsSecurityFinding::builder()
        .schema_version(text("SchemaVersion")?)
        .id(text("Id")?)
        .product_arn(text("ProductArn")?)
        .product_name(text("ProductName")?)
        .company_name(text("CompanyName")?)
        .generator_id(text("GeneratorId")?)
        .aws_account_id(text("AwsAccountId")?)
        .set_types(Some(types.clone()))
        .created_at(text("CreatedAt")?)
        .updated_at(text("UpdatedAt")?)
        .severity(Severity::builder().label(label.clone()).build())
        // Where a provider states severity and types so that an update may change them.
        .finding_provider_fields(
            FindingProviderFields::builder()
                .severity(FindingProviderSeverity::builder().label(label).build())
                .set_types(Some(types))
                .build(),
        )
        .title(text("Title")?)
        .description(text("Description")?)
        .set_resources(Some(resources))
        .compliance(
            Compliance::builder()
                .status(ComplianceStatus::Failed)
                .set_related_requirements(Some(strings(
                    v.pointer("/Compliance/RelatedRequirements"),
                )))
                .build(),
        )
        .set_product_fields(Some(product_fields))
        .record_state(RecordState::Active);
    if let Some(help) = v
        .pointer("/Remediation/Recommendation/Text")
        .and_then(Value::as_str)
    {
        finding = finding.remediation(
            Remediation::builder()
                .recommendation(Recommendation::builder().text(help).build())
                .build(),
        );
    }
    if let Some(status) = v.pointer("/Workflow/Status").and_then(Value::as_str) {
        // Taken only when the finding is new: after that the workflow is the customer's.
        finding = finding.workflow(
            Workflow::builder()
                .status(WorkflowStatus::from(status))
                .build(),
        );
    }
    Ok(finding.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asff() -> Value {
        serde_json::json!({
            "SchemaVersion": "2018-10-08",
            "Id": "ecrguard/111111111111/eu-west-1/abc",
            "ProductArn": "arn:aws:securityhub:eu-west-1:111111111111:product/111111111111/default",
            "ProductName": "ecrguard",
            "CompanyName": "ecrguard",
            "GeneratorId": "ecrguard/ECR002",
            "AwsAccountId": "111111111111",
            "Types": ["Effects/Data Exposure"],
            "CreatedAt": "2026-12-06T00:00:00Z",
            "UpdatedAt": "2026-12-06T00:00:00Z",
            "Severity": {"Label": "CRITICAL"},
            "Title": "ECR002 public",
            "Description": "d",
            "Resources": [{
                "Type": "AwsEcrRepository",
                "Id": "arn:aws:ecr:eu-west-1:111111111111:repository/app",
                "Partition": "aws",
                "Region": "eu-west-1",
                "Details": {"AwsEcrRepository": {"RepositoryName": "app", "Arn": "arn:aws:ecr:eu-west-1:111111111111:repository/app"}}
            }],
            "Compliance": {"Status": "FAILED", "RelatedRequirements": ["NIST 800-53 r5 AC-3"]},
            "ProductFields": {"ecrguard/Rule": "repository-policy-public"},
            "Remediation": {"Recommendation": {"Text": "scope it"}},
            "RecordState": "ACTIVE",
            "Workflow": {"Status": "NEW"}
        })
    }

    #[test]
    fn an_asff_finding_becomes_the_sdks_and_resolves() {
        let f = finding_of_asff(&asff()).unwrap();
        assert_eq!(f.id.as_deref(), Some("ecrguard/111111111111/eu-west-1/abc"));
        assert_eq!(
            f.severity.as_ref().and_then(|s| s.label.clone()),
            Some(SeverityLabel::Critical)
        );
        assert_eq!(
            f.finding_provider_fields
                .as_ref()
                .and_then(|p| p.severity.as_ref())
                .and_then(|s| s.label.clone()),
            Some(SeverityLabel::Critical)
        );
        let r = &f.resources()[0];
        assert_eq!(
            r.details
                .as_ref()
                .and_then(|d| d.aws_ecr_repository.as_ref())
                .and_then(|e| e.repository_name.as_deref()),
            Some("app")
        );
        assert_eq!(
            f.workflow.as_ref().and_then(|w| w.status.clone()),
            Some(WorkflowStatus::New)
        );
        let done = resolved(f, "2026-12-07T00:00:00Z");
        assert_eq!(done.record_state, Some(RecordState::Archived));
        assert_eq!(
            done.compliance.as_ref().and_then(|c| c.status.clone()),
            Some(ComplianceStatus::Passed)
        );
        assert_eq!(
            done.compliance.as_ref().unwrap().related_requirements(),
            ["NIST 800-53 r5 AC-3"]
        );
        assert!(done.workflow.is_none(), "the workflow is the customer's");
        assert_eq!(done.updated_at.as_deref(), Some("2026-12-07T00:00:00Z"));
        for missing in ["Id", "ProductArn", "AwsAccountId", "Resources"] {
            let mut v = asff();
            v.as_object_mut().unwrap().remove(missing);
            assert!(
                finding_of_asff(&v).unwrap_err().contains(missing),
                "{missing}"
            );
        }
    }
}
