//! `ECR015` `service-principal-unscoped`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::granted_actions;
use ecrguard_iam::analysis::Party;

declare_rule! {
    /// ## What it does
    /// Flags `Allow` statements that name an AWS service principal (such as
    /// `lambda.amazonaws.com` or `codebuild.amazonaws.com`) without an `aws:SourceAccount`,
    /// `aws:SourceArn`, `aws:SourceOrgID` or `aws:SourceOrgPaths` condition that pins whose
    /// resources the service acts for.
    ///
    /// ## Why is this bad?
    /// A service principal is shared by every AWS customer. Without a source condition, a
    /// Lambda function or CodeBuild project in *any* account can make the service pull from
    /// (or push to) your repository on its behalf: the cross-service confused-deputy problem.
    ///
    /// ## Example
    /// ```json
    /// {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    ///   "Principal": {"Service": "lambda.amazonaws.com"},
    ///   "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}
    /// ```
    /// Use instead: add
    /// `"Condition": {"StringLike": {"aws:SourceArn": "arn:aws:lambda:us-east-1:111111111111:function:*"}}`.
    ///
    /// ## How to fix
    /// - Terraform: add `condition { test = "StringLike" variable = "aws:SourceArn"
    ///   values = ["arn:aws:lambda:REGION:ACCOUNT:function:*"] }` to the statement.
    /// - CLI: `aws ecr set-repository-policy --repository-name NAME --policy-text file://fixed.json`.
    /// - Console: Amazon ECR > Repositories > NAME > Permissions > Edit.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html>
    /// - <https://docs.aws.amazon.com/lambda/latest/dg/images-create.html#configuration-images-permissions>
    ServicePrincipalUnscoped {
        code: "ECR015",
        name: "service-principal-unscoped",
        severity: Medium,
        category: Exposure,
        summary: "Service principal granted access without a source account or ARN condition",
        compliance: ["NIST 800-53 r5 AC-3", "NIST 800-53 r5 AC-6"],
        sources: [Policy, Terraform, CloudFormation, Kubernetes, Aws],
    }
}

impl Rule for ServicePrincipalUnscoped {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for p in cx.policies {
            for sa in &p.analysis.statements {
                let st = &p.doc.policy.statements[sa.index];
                for (party, names) in &sa.grants {
                    let Party::Service(service) = party else {
                        continue;
                    };
                    cx.report_statement(p, st, format!("Statement {} of the {} policy lets `{service}` call {} for any AWS account", st.label(), p.subject(), granted_actions(st, names)),
                    )
                    .help("Add an `aws:SourceAccount` or `aws:SourceArn` condition naming your own resources")
                    .emit();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    #[test]
    fn flags_unscoped_and_accepts_scoped() {
        let s = repo_with_policy(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"ecr:BatchGetImage"}]}"#,
        );
        assert_eq!(codes(&s, &owner(), "ECR015").len(), 1);
        let s = repo_with_policy(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"ecr:BatchGetImage","Condition":{"StringLike":{"aws:sourceArn":"arn:aws:lambda:us-east-1:111111111111:function:*"}}}]}"#,
        );
        assert!(codes(&s, &owner(), "ECR015").is_empty());
        let s = repo_with_policy(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"ecr:BatchGetImage","Condition":{"StringEqualsIfExists":{"aws:SourceAccount":"111111111111"}}}]}"#,
        );
        assert_eq!(
            codes(&s, &owner(), "ECR015").len(),
            1,
            "IfExists lets direct callers of any account through"
        );
    }
}
