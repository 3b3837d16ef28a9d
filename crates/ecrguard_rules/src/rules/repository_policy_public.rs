//! `ECR002` `repository-policy-public`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, Severity, declare_rule};
use crate::rules::{granted_actions, loose_condition_notes};
use ecrguard_iam::analysis::Party;
use ecrguard_iam::catalog::{self, ActionClass};
use ecrguard_model::PolicyOwner;

declare_rule! {
    /// ## What it does
    /// Flags repository policy statements that let anyone in: `Allow` to `"*"`, `{"AWS":"*"}`,
    /// a principal list containing `*`, or `NotPrincipal`, with no condition that really
    /// restricts who the caller is, and no `Deny` that fences them out.
    ///
    /// ## Why is this bad?
    /// A repository open to `*` can be pulled by any AWS account: images often carry code,
    /// credentials and internal hostnames. If the statement also grants push, delete or
    /// policy actions, anyone can replace images your clusters run, delete them, or take the
    /// repository over. Conditions on `aws:username`, `aws:SecureTransport`, tags, time, or any
    /// negated operator, `IfExists` or `ForAllValues` do not restrict the caller's account.
    ///
    /// ## Example
    /// ```json
    /// {"Version": "2012-10-17", "Statement": [{"Sid": "Everyone", "Effect": "Allow",
    ///   "Principal": "*", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}
    /// ```
    /// Use instead, scoped to your organization:
    /// ```json
    /// {"Version": "2012-10-17", "Statement": [{"Sid": "OrgPull", "Effect": "Allow",
    ///   "Principal": "*", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
    ///   "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}]}
    /// ```
    ///
    /// ## How to fix
    /// - Terraform: name the accounts or roles in `principals { type = "AWS" identifiers = [...] }`
    ///   of the `aws_iam_policy_document`, or add `condition { test = "StringEquals"
    ///   variable = "aws:PrincipalOrgID" values = ["o-abc123"] }`.
    /// - CLI: `aws ecr set-repository-policy --repository-name NAME --policy-text file://fixed.json`,
    ///   or `aws ecr delete-repository-policy --repository-name NAME`.
    /// - Console: Amazon ECR > Repositories > NAME > Permissions > Edit policy JSON.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html>
    /// - <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html>
    /// - <https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-resources.html>
    RepositoryPolicyPublic {
        code: "ECR002",
        name: "repository-policy-public",
        severity: High,
        category: Exposure,
        summary: "Repository policy lets anyone (`*`) in",
        compliance: ["AWS WA SEC03-BP07", "NIST 800-53 r5 AC-3", "NIST 800-53 r5 AC-21", "NIST 800-53 r5 SC-7"],
        sources: [Policy, Terraform, CloudFormation, Kubernetes, Aws],
    }
}

impl Rule for RepositoryPolicyPublic {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for p in cx.policies_of(|o| matches!(o, PolicyOwner::Repository(_))) {
            for sa in &p.analysis.statements {
                let Some(names) = sa.grants.get(&Party::Everyone) else {
                    continue;
                };
                let st = &p.doc.policy.statements[sa.index];
                let dangerous = names
                    .iter()
                    .filter_map(|n| catalog::find(n))
                    .any(|a| a.class >= ActionClass::Write);
                let mut f = cx.report_statement(p, st, format!("Statement {} of the {} policy allows anyone (`*`) to call {}", st.label(), p.subject(), granted_actions(st, names)))
                    .help("Name the accounts or roles that need access, or add a `StringEquals` condition on `aws:PrincipalOrgID`");
                if dangerous {
                    f = f
                        .escalate(Severity::Critical)
                        .note("anyone can push, delete or change the policy, not only pull");
                }
                if st.principal.as_ref().is_some_and(|b| b.negated) {
                    f = f.note(
                        "`Allow` with `NotPrincipal` grants everyone except the listed principals",
                    );
                }
                for n in loose_condition_notes(sa) {
                    f = f.note(n);
                }
                if p.doc.policy.is_invalid() {
                    f = f.note("AWS would also reject this policy as written (see ECR008)");
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
    fn flags_public_statements_and_escalates_write() {
        let s = repo_with_policy(
            r#"{"Statement":[{"Sid":"Pull","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"},{"Sid":"Push","Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:PutImage"}]}"#,
        );
        let f = codes(&s, &owner(), "ECR002");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[1].severity, Severity::Critical);
        assert!(
            f[0].message.contains("Statement `Pull`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn silent_for_org_scoped_deny_fenced_and_deny() {
        for text in [
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"},{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}"#,
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:*"}]}"#,
        ] {
            assert!(
                codes(&repo_with_policy(text), &owner(), "ECR002").is_empty(),
                "{text}"
            );
        }
    }

    #[test]
    fn explains_conditions_that_do_not_restrict() {
        let s = repo_with_policy(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"aws:username":"alice"}}}]}"#,
        );
        let f = codes(&s, &owner(), "ECR002");
        assert!(
            f[0].notes.iter().any(|n| n.contains("aws:username")),
            "{:?}",
            f[0].notes
        );
    }

    #[test]
    fn severity_override_wins_over_escalation() {
        let s = repo_with_policy(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}"#,
        );
        let mut settings = owner();
        settings
            .severity_overrides
            .insert("ECR002", Severity::Medium);
        assert_eq!(codes(&s, &settings, "ECR002")[0].severity, Severity::Medium);
    }
}
