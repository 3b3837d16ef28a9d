//! `ECR004` `repository-policy-broad-actions`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, Severity, declare_rule};
use ecrguard_iam::analysis::Verdict;
use ecrguard_model::PolicyOwner;

declare_rule! {
    /// ## What it does
    /// Flags repository policy `Allow` statements whose actions are every ECR action:
    /// `"*"`, `"ecr:*"`, or `NotAction` (which grants everything it does not list, including
    /// `ecr:SetRepositoryPolicy`, `ecr:DeleteRepository` and `ecr:PutImage`).
    ///
    /// ## Why is this bad?
    /// Readers need `ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer`; pushers need four
    /// upload actions. A wildcard hands out permission management and deletion too, so the
    /// grantee can rewrite the policy, lock the owner out or delete the repository. In the
    /// owner account, a repository policy grant works even without an identity policy.
    ///
    /// ## Example
    /// ```json
    /// {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    ///   "Principal": {"AWS": "arn:aws:iam::222222222222:role/ci"}, "Action": "ecr:*"}]}
    /// ```
    /// Use instead:
    /// ```json
    /// {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    ///   "Principal": {"AWS": "arn:aws:iam::222222222222:role/ci"},
    ///   "Action": ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload",
    ///              "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"]}]}
    /// ```
    ///
    /// ## How to fix
    /// - Terraform: list the needed actions in `actions = [...]` instead of `"ecr:*"`.
    /// - CLI: `aws ecr set-repository-policy --repository-name NAME --policy-text file://fixed.json`.
    /// - Console: Amazon ECR > Repositories > NAME > Permissions > Edit.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html>
    /// - <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html>
    RepositoryPolicyBroadActions {
        code: "ECR004",
        name: "repository-policy-broad-actions",
        severity: Medium,
        category: Privilege,
        summary: "Repository policy grants every ECR action (`ecr:*`, `*` or `NotAction`)",
        compliance: ["CIS Amazon EKS Benchmark 5.1.2", "NIST 800-53 r5 AC-6"],
        sources: [Policy, Terraform, CloudFormation, Kubernetes, Aws],
    }
}

impl Rule for RepositoryPolicyBroadActions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for p in cx.policies_of(|o| matches!(o, PolicyOwner::Repository(_))) {
            for sa in &p.analysis.statements {
                if !sa.broad_actions || sa.grants.is_empty() {
                    continue;
                }
                let st = &p.doc.policy.statements[sa.index];
                let how = if st.action.as_ref().is_some_and(|a| a.negated) {
                    "`NotAction`"
                } else {
                    "a wildcard action"
                };
                let origin = p
                    .doc
                    .origin
                    .narrow(st.action.as_ref().and_then(|a| a.span).or(st.span));
                let who: Vec<String> = sa.grants.keys().map(ToString::to_string).collect();
                let mut f = cx
                    .report_policy(p, format!("Statement {} of the {} policy grants every ECR action through {how}", st.label(), p.subject()))
                    .at(origin)
                    .statement(p.statement_ref(st))
                    .note(format!("granted to {}", who.join(", ")))
                    .help("List only the actions the principal needs (pull: `ecr:BatchGetImage`, `ecr:GetDownloadUrlForLayer`)");
                if sa.verdict >= Verdict::CrossAccount {
                    f = f.escalate(Severity::High).note(
                        "granted outside the owner and trusted accounts: every action reaches another account, so high",
                    );
                }
                f.emit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Severity;
    use crate::rules::testing::*;

    #[test]
    fn flags_wildcards_and_not_action() {
        for (action, sev) in [
            (r#""Action":"ecr:*""#, Severity::Medium),
            (r#""Action":["ecr:BatchGetImage","*"]"#, Severity::Medium),
            (r#""NotAction":"ecr:DeleteRepository""#, Severity::Medium),
        ] {
            let s = repo_with_policy(&format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"111111111111"}},{action}}}]}}"#
            ));
            let f = codes(&s, &owner(), "ECR004");
            assert_eq!(f.len(), 1, "{action}");
            assert_eq!(f[0].severity, sev);
        }
        let s = repo_with_policy(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"ecr:*"}]}"#,
        );
        assert_eq!(codes(&s, &owner(), "ECR004")[0].severity, Severity::High);
    }

    #[test]
    fn silent_for_listed_actions_and_denies() {
        for text in [
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":["ecr:Put*","ecr:BatchGetImage"]}]}"#,
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:*"}]}"#,
        ] {
            assert!(
                codes(&repo_with_policy(text), &owner(), "ECR004").is_empty(),
                "{text}"
            );
        }
    }
}
