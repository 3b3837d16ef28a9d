//! `ECR011` `scan-on-push-disabled`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{Setting, setting_name};

declare_rule! {
    /// ## What it does
    /// Flags private repositories with scan on push disabled, unless a registry scanning
    /// configuration (`aws_ecr_registry_scanning_configuration`,
    /// `AWS::ECR::RegistryScanningConfiguration`, `GetRegistryScanningConfiguration`) scans
    /// every repository on push. Repository-level `scan_on_push` is deprecated in favour of the
    /// registry configuration, which overrides it.
    ///
    /// ## Why is this bad?
    /// Without scanning, images with known vulnerabilities are pushed and deployed without
    /// anyone being told.
    ///
    /// ## Example
    /// ```hcl
    /// resource "aws_ecr_repository" "app" {
    ///   name = "app"
    ///   image_scanning_configuration { scan_on_push = false }
    /// }
    /// ```
    /// Use instead: `scan_on_push = true`, or a registry scanning rule with filter `*`.
    ///
    /// ## How to fix
    /// - Terraform: `aws_ecr_registry_scanning_configuration` with a `SCAN_ON_PUSH` rule and
    ///   `repository_filter { filter = "*" filter_type = "WILDCARD" }`.
    /// - CLI: `aws ecr put-registry-scanning-configuration --scan-type BASIC --rules '[{"scanFrequency":"SCAN_ON_PUSH","repositoryFilters":[{"filter":"*","filterType":"WILDCARD"}]}]'`.
    /// - Console: Amazon ECR > Private registry > Scanning.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning.html>
    /// - <https://docs.aws.amazon.com/securityhub/latest/userguide/ecr-controls.html#ecr-1>
    ScanOnPushDisabled {
        code: "ECR011",
        name: "scan-on-push-disabled",
        severity: Medium,
        category: Hygiene,
        summary: "Images are not scanned on push",
        compliance: ["AWS FSBP ECR.1 (ecr-private-image-scanning-enabled)", "CIS Amazon EKS Benchmark 5.1.1", "Kubescape C-0221", "NIST 800-53 r5 RA-5"],
        sources: [Terraform, CloudFormation, Kubernetes, Aws],
    }
}

impl Rule for ScanOnPushDisabled {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for repo in &cx.state.repositories {
            if repo.scan_on_push.known() != Some(&false) {
                continue;
            }
            // A registry configuration in the same account and region decides when one of its
            // scan-on-push filters matches the name; stay silent when that cannot be known.
            let name = repo.name.known();
            let mut registry_decides = false;
            for reg in &cx.state.registry_scanning {
                let same = (reg.account.is_none() || reg.account == repo.account)
                    && (reg.region.is_none() || reg.region == repo.region);
                if !same {
                    continue;
                }
                registry_decides |= match (reg.scan_on_push_filters.known(), name) {
                    (None, _) => true,
                    (Some(filters), Some(name)) => filters
                        .iter()
                        .any(|f| ecrguard_iam::wildcard::matches(f, name)),
                    (Some(filters), None) => !filters.is_empty(),
                };
            }
            if registry_decides {
                continue;
            }
            cx.report(
                &repo.id,
                format!("Repository `{}` does not scan images on push", repo.id),
            )
            .repository(Some(repo.id.clone()))
            .at(repo.scan_on_push.origin().clone())
            .help(format!(
                "Set {}, or scan every repository on push in the registry scanning configuration",
                setting_name(&repo.id, Setting::ScanOnPush)
            ))
            .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;
    use ecrguard_model::{RegistryScanning, ResourceId, Value};

    #[test]
    fn registry_scanning_overrides_repository_setting() {
        let mut s = repo_with_policy(r#"{"Statement":[]}"#);
        let o = s.repositories[0].origin.clone();
        s.repositories[0].scan_on_push = Value::Default(false, o.clone());
        assert_eq!(codes(&s, &owner(), "ECR011").len(), 1);
        s.repositories[0].scan_on_push = Value::Set(true, o.clone());
        assert!(codes(&s, &owner(), "ECR011").is_empty());
        s.repositories[0].scan_on_push = Value::Set(false, o.clone());
        for (filters, want) in [
            (Value::Set(vec!["*".to_string()], o.clone()), 0),
            (Value::Set(vec!["app*".to_string()], o.clone()), 0),
            (Value::Set(vec!["other-*".to_string()], o.clone()), 1),
            (Value::Set(vec![], o.clone()), 1),
            (Value::Unknown("var".into(), o.clone()), 0),
        ] {
            s.registry_scanning = vec![RegistryScanning {
                id: ResourceId::Terraform("x".into()),
                account: None,
                region: None,
                scan_on_push_filters: filters,
            }];
            assert_eq!(codes(&s, &owner(), "ECR011").len(), want);
        }
    }
}
