//! `ECR013` `lifecycle-policy-missing`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{Setting, setting_name};

declare_rule! {
    /// ## What it does
    /// Flags private repositories with no lifecycle policy (`aws_ecr_lifecycle_policy`,
    /// `LifecyclePolicy`, `GetLifecyclePolicy` answering `LifecyclePolicyNotFoundException`).
    ///
    /// ## Why is this bad?
    /// Without a lifecycle policy, old images pile up: storage cost grows, and stale images
    /// with known vulnerabilities stay pullable by tag or digest long after they were replaced.
    ///
    /// ## Example
    /// ```hcl
    /// resource "aws_ecr_repository" "app" { name = "app" } # no aws_ecr_lifecycle_policy
    /// ```
    /// Use instead: add an `aws_ecr_lifecycle_policy` that expires untagged images after 14 days.
    ///
    /// ## How to fix
    /// - Terraform: `resource "aws_ecr_lifecycle_policy"` with `repository = aws_ecr_repository.app.name`.
    /// - CLI: `aws ecr put-lifecycle-policy --repository-name NAME --lifecycle-policy-text file://lifecycle.json`.
    /// - Console: Amazon ECR > Repositories > NAME > Lifecycle Policy.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html>
    /// - <https://docs.aws.amazon.com/securityhub/latest/userguide/ecr-controls.html#ecr-3>
    LifecyclePolicyMissing {
        code: "ECR013",
        name: "lifecycle-policy-missing",
        severity: Low,
        category: Hygiene,
        summary: "Repository has no lifecycle policy",
        compliance: ["AWS FSBP ECR.3 (ecr-private-lifecycle-policy-configured)"],
        sources: [Terraform, CloudFormation, Kubernetes, Aws],
    }
}

impl Rule for LifecyclePolicyMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for repo in &cx.state.repositories {
            if repo.lifecycle_policy.known() == Some(&false) {
                cx.report(
                    &repo.id,
                    format!("Repository `{}` has no lifecycle policy", repo.id),
                )
                .repository(Some(repo.id.clone()))
                .at(repo.lifecycle_policy.origin().clone())
                .help(format!(
                    "Add {} that expires untagged and old images",
                    setting_name(&repo.id, Setting::LifecyclePolicy)
                ))
                .emit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;
    use ecrguard_model::Value;

    #[test]
    fn only_known_absence_fails() {
        let mut s = repo_with_policy(r#"{"Statement":[]}"#);
        let o = s.repositories[0].origin.clone();
        assert!(codes(&s, &owner(), "ECR013").is_empty());
        s.repositories[0].lifecycle_policy = Value::Set(false, o.clone());
        assert_eq!(codes(&s, &owner(), "ECR013").len(), 1);
        s.repositories[0].lifecycle_policy = Value::Set(true, o);
        assert!(codes(&s, &owner(), "ECR013").is_empty());
    }
}
