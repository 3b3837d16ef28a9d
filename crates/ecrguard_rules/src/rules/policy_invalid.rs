//! `ECR008` `policy-invalid`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, Severity, declare_rule};
use ecrguard_iam::policy::ProblemKind;
use ecrguard_model::{PolicyOwner, PolicyState};

declare_rule! {
    /// ## What it does
    /// Flags policies AWS would reject, or parts AWS ignores: text that is not JSON, an
    /// `Effect` other than exactly `Allow`/`Deny`, a condition operator in the wrong case
    /// (`stringEquals`), a wildcard inside a principal ARN (`arn:aws:iam::*:root`), an unknown
    /// `Version`, a statement without `Action` or `Principal`, or a text over 10,240
    /// characters. Problems that AWS accepts or may accept but that deserve review (a
    /// `Resource` element in a repository policy, an orphaned `AROA...` principal, an action
    /// that does not exist, `Allow` with `NotPrincipal`, which IAM validation reports as a
    /// security warning and ECR002 reports as public) are reported at low severity.
    ///
    /// ## Why is this bad?
    /// An invalid policy fails `terraform apply` or a CloudFormation stack, often after other
    /// resources were already changed, and leaves the previous policy in force. Where it gets
    /// through an unvalidated path, what it grants is not what the author meant: a wildcard
    /// principal ARN reads as public to most tools.
    ///
    /// ## Example
    /// ```json
    /// {"Version": "2012-10-17", "Statement": [{"Effect": "allow",
    ///   "Principal": {"AWS": "arn:aws:iam::*:root"}, "Action": "ecr:BatchGetImage",
    ///   "Condition": {"stringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}]}
    /// ```
    /// Use instead: `"Effect": "Allow"`, `"Principal": "*"` and `"StringEquals"`.
    ///
    /// ## How to fix
    /// - Terraform: build policies with `data "aws_iam_policy_document"`, which only renders
    ///   valid grammar; fix the element the finding points at.
    /// - CLI: `aws accessanalyzer validate-policy --policy-type RESOURCE_POLICY --policy-document file://p.json`.
    /// - Console: the ECR policy editor reports the same errors on save.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html>
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_SetRepositoryPolicy.html>
    PolicyInvalid {
        code: "ECR008",
        name: "policy-invalid",
        severity: High,
        category: Validity,
        summary: "Policy would be rejected by AWS, or has parts AWS ignores",
        compliance: [],
        sources: [Policy, Terraform, CloudFormation, Kubernetes, Aws],
    }
}

impl Rule for PolicyInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for owner in cx.state.policy_owners() {
            if let PolicyState::Unparseable {
                error,
                origin,
                declared_by,
            } = owner.policy()
            {
                cx.report(declared_by, format!("The {} `{}` policy cannot be read: {error}", owner.noun(), owner.id()))
                    .repository(repository_of(owner))
                    .at(origin.clone())
                    .help("Write the policy as a JSON object, e.g. with `data \"aws_iam_policy_document\"` or `jsonencode`")
                    .emit();
            }
        }
        for p in cx.policies {
            for problem in &p.doc.policy.problems {
                let where_ = match problem.statement {
                    Some(i) => format!(
                        "Statement {} of the {} policy",
                        p.doc
                            .policy
                            .statements
                            .get(i)
                            .map_or(format!("#{i}"), |s| s.label()),
                        p.subject()
                    ),
                    None => format!("The {} policy", p.subject()),
                };
                let mut f = cx
                    .report_policy(p, format!("{where_}: {}", problem.message))
                    .at(p.doc.origin.narrow(problem.span));
                if let Some(st) = problem
                    .statement
                    .and_then(|i| p.doc.policy.statements.get(i))
                {
                    f = f.statement(p.statement_ref(st));
                }
                f = match problem.kind {
                    ProblemKind::Invalid => f.note("AWS rejects this policy (`MalformedPolicyDocument` / `InvalidParameterException`)"),
                    // AWS accepts it: a review item, below the rule's severity.
                    ProblemKind::Warning => f.lower_to(Severity::Low).note(
                        "AWS accepts this policy: a review item, so low rather than the rule's high",
                    ),
                };
                f.emit();
            }
        }
    }
}

fn repository_of(owner: PolicyOwner<'_>) -> Option<ecrguard_model::ResourceId> {
    match owner {
        PolicyOwner::Repository(_) | PolicyOwner::PublicRepository(_) => Some(owner.id().clone()),
        PolicyOwner::Registry(_) | PolicyOwner::CreationTemplate(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::Severity;
    use crate::rules::testing::*;

    #[test]
    fn one_finding_per_problem_with_severity_by_kind() {
        let s = repo_with_policy(
            r#"{"Statement":[{"Effect":"allow","Principal":{"AWS":"111111111111"},"Action":"ecr:BatchGetImage","Resource":"*"}]}"#,
        );
        let f = codes(&s, &owner(), "ECR008");
        assert_eq!(
            f.len(),
            2,
            "{:?}",
            f.iter().map(|f| &f.message).collect::<Vec<_>>()
        );
        assert_eq!(f[0].severity, Severity::High);
        assert!(f[0].message.contains("exactly `Allow`"));
        assert_eq!(f[1].severity, Severity::Low);
        assert!(f[1].message.contains("`Resource`"));
    }

    #[test]
    fn unparseable_policy_is_a_finding() {
        use ecrguard_model::*;
        let mut s = repo_with_policy(r#"{"Statement":[]}"#);
        let origin = s.repositories[0].origin.clone();
        s.repositories[0].policy = PolicyState::Unparseable {
            error: "policy is not valid JSON".into(),
            origin,
            declared_by: ResourceId::Terraform("aws_ecr_repository_policy.app".into()),
        };
        let f = codes(&s, &owner(), "ECR008");
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("cannot be read"));
    }

    #[test]
    fn valid_policy_is_silent() {
        let s = repo_with_policy(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"new policy","Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"ecr:BatchGetImage"}]}"#,
        );
        assert!(codes(&s, &owner(), "ECR008").is_empty());
    }
}
