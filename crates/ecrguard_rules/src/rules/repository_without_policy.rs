//! `ECR001` `repository-without-policy`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{Setting, setting_name};
use ecrguard_model::PolicyState;

declare_rule! {
    /// ## What it does
    /// Flags private repositories that provably have no repository policy: no
    /// `aws_ecr_repository_policy` points at them, CloudFormation declares no
    /// `RepositoryPolicyText`, or `GetRepositoryPolicy` answered
    /// `RepositoryPolicyNotFoundException`. A policy that could not be determined (an
    /// unresolved reference, AccessDenied, throttling) is never reported as missing.
    ///
    /// ## Why is this bad?
    /// Without a repository policy, access is decided only by identity policies scattered
    /// over users and roles, and cannot be reviewed where the repository is. An explicit
    /// policy documents who may pull and push, and is where a `Deny` that fences the
    /// repository into the organization belongs.
    ///
    /// ## Example
    /// ```hcl
    /// resource "aws_ecr_repository" "app" { name = "app" }
    /// ```
    /// Use instead: add an `aws_ecr_repository_policy` with `repository = aws_ecr_repository.app.name`.
    ///
    /// ## How to fix
    /// - Terraform: add `resource "aws_ecr_repository_policy"` with `repository` set to the
    ///   repository's `name` and a policy naming the accounts that need access.
    /// - CLI: `aws ecr set-repository-policy --repository-name NAME --policy-text file://policy.json`.
    /// - Console: Amazon ECR > Repositories > NAME > Permissions > Edit policy JSON.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html>
    RepositoryWithoutPolicy {
        code: "ECR001",
        name: "repository-without-policy",
        severity: Low,
        category: Privilege,
        summary: "Repository has no repository policy",
        compliance: ["NIST 800-53 r5 AC-3"],
        sources: [Terraform, CloudFormation, Kubernetes, Aws],
    }
}

impl Rule for RepositoryWithoutPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for repo in &cx.state.repositories {
            if let PolicyState::Absent(origin) = &repo.policy {
                cx.report(
                    &repo.id,
                    format!("Repository `{}` has no repository policy", repo.id),
                )
                .repository(Some(repo.id.clone()))
                .at(origin.clone())
                .help(format!(
                    "Attach {} that names who may pull and push",
                    setting_name(&repo.id, Setting::RepositoryPolicy)
                ))
                .emit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;
    use ecrguard_model::PolicyState;

    #[test]
    fn absent_is_a_finding_unknown_is_not() {
        let mut s = repo_with_policy(r#"{"Statement":[]}"#);
        let origin = s.repositories[0].origin.clone();
        s.repositories[0].policy = PolicyState::Absent(origin.clone());
        assert_eq!(codes(&s, &owner(), "ECR001").len(), 1);
        s.repositories[0].policy = PolicyState::Unknown("AccessDenied".into(), origin);
        assert!(codes(&s, &owner(), "ECR001").is_empty());
    }
}
