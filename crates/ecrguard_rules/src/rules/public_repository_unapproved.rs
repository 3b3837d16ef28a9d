//! `ECR014` `public-repository-unapproved`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Flags ECR Public repositories (`aws_ecrpublic_repository`,
    /// `AWS::ECR::PublicRepository`, `ecr-public:DescribeRepositories`) whose name does not
    /// match the approved list (`approved-public-repositories` globs in `ecrguard.toml`).
    ///
    /// ## Why is this bad?
    /// Everything pushed to an ECR Public repository is world-readable by design, and its
    /// policy cannot deny pulls. A public repository created for a quick test or by mistake
    /// publishes internal images to the internet. Turbot Guardrails' "Enforce AWS ECR
    /// repositories are private" pack deletes such repositories when new.
    ///
    /// ## Example
    /// ```hcl
    /// resource "aws_ecrpublic_repository" "tmp" { repository_name = "internal-api" }
    /// ```
    /// Use instead: a private `aws_ecr_repository`, or add the name to the approved list.
    ///
    /// ## How to fix
    /// - Terraform: replace `aws_ecrpublic_repository` with `aws_ecr_repository`, or approve
    ///   the name in `ecrguard.toml`.
    /// - CLI: `aws ecr-public delete-repository --repository-name NAME --region us-east-1`.
    /// - Console: Amazon ECR > Public repositories.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/public/public-repositories.html>
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/public/public-repository-policies.html>
    PublicRepositoryUnapproved {
        code: "ECR014",
        name: "public-repository-unapproved",
        severity: High,
        category: Exposure,
        summary: "ECR Public repository is not on the approved list",
        compliance: ["CIS Amazon EKS Benchmark 5.1.4", "AWS WA SEC03-BP07", "NIST 800-53 r5 AC-21"],
        sources: [Terraform, CloudFormation, Kubernetes, Aws],
    }
}

impl Rule for PublicRepositoryUnapproved {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let approved = &cx.settings.approved_public_repositories;
        for repo in &cx.state.public_repositories {
            let name = repo.name.known();
            if let Some(name) = name {
                if approved
                    .iter()
                    .any(|g| ecrguard_iam::wildcard::matches(g, name))
                {
                    continue;
                }
            } else if !approved.is_empty() {
                // Cannot tell whether an unknown name is approved: stay silent.
                continue;
            }
            let label = name.map_or_else(|| repo.id.to_string(), Clone::clone);
            cx.report(
                &repo.id,
                format!(
                    "ECR Public repository `{label}` is world-readable and not on the approved list"
                ),
            )
            .repository(Some(repo.id.clone()))
            .at(repo.origin.clone())
            .help("Use a private repository, or add the name to `approved-public-repositories`")
            .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;
    use ecrguard_model::*;

    #[test]
    fn approved_globs() {
        let mut db = SourceDb::default();
        let o = Origin::File(db.add("main.tf", ""));
        let repo = |name: Value<String>| PublicRepository {
            id: ResourceId::Terraform("aws_ecrpublic_repository.x".into()),
            name,
            account: None,
            origin: o.clone(),
            policy: PolicyState::Absent(o.clone()),
        };
        let s = EcrState {
            public_repositories: vec![repo(Value::Set("oss-cli".into(), o.clone()))],
            ..EcrState::default()
        };
        assert_eq!(codes(&s, &owner(), "ECR014").len(), 1);
        let mut approved = owner();
        approved.approved_public_repositories.push("oss-*".into());
        assert!(codes(&s, &approved, "ECR014").is_empty());
        let s = EcrState {
            public_repositories: vec![repo(Value::Unknown("var.name".into(), o.clone()))],
            ..EcrState::default()
        };
        assert!(codes(&s, &approved, "ECR014").is_empty());
        assert_eq!(
            codes(&s, &owner(), "ECR014").len(),
            1,
            "nothing is approved, so any name fails"
        );
    }
}
