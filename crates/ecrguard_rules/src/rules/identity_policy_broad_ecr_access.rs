//! `ECR005` `identity-policy-broad-ecr-access`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, Severity, declare_rule};
use crate::rules::{granted_actions, identity_noun};
use ecrguard_iam::catalog::ActionClass;
use ecrguard_iam::identity::ecr_grants;

declare_rule! {
    /// ## What it does
    /// Flags IAM identity policies (user, group and role policies, inline or attached) that
    /// grant ECR write, delete or permissions-management actions on every repository
    /// (`Resource: "*"` or `arn:aws:ecr:*:*:repository/*`, or `NotResource`), unless a
    /// positive `aws:ResourceTag` / `ecr:ResourceTag` condition scopes them. What a
    /// pull-through cache needs (`ecr:BatchImportUpstreamImage`, and `ecr:CreateRepository`
    /// for the cache repository) is an import from the cache rule's fixed upstream, not a push,
    /// and is left out (AWS's `AmazonEC2ContainerRegistryPullOnly` grants the import).
    ///
    /// ## Why is this bad?
    /// An identity that can push to every repository can replace any image any workload runs;
    /// one that can set repository policies can make any repository public. These rights
    /// belong to a few pipeline roles, scoped to the repositories they build.
    ///
    /// ## Example
    /// ```json
    /// {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}
    /// ```
    /// Use instead: `"Resource": "arn:aws:ecr:us-east-1:111111111111:repository/app"` and only
    /// the push actions.
    ///
    /// ## How to fix
    /// - Terraform: scope `resources` of the `aws_iam_policy_document` to the repositories'
    ///   ARNs; replace `AmazonEC2ContainerRegistryFullAccess` / `PowerUser` attachments with a
    ///   scoped policy.
    /// - CLI: `aws iam create-policy-version --policy-arn ARN --policy-document file://scoped.json --set-as-default`.
    /// - Console: IAM > Policies > POLICY > Edit.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/security-iam-awsmanpol.html>
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/security_iam_id-based-policy-examples.html>
    IdentityPolicyBroadEcrAccess {
        code: "ECR005",
        name: "identity-policy-broad-ecr-access",
        severity: High,
        category: Privilege,
        summary: "Identity policy grants ECR write, delete or policy rights on every repository",
        compliance: ["CIS Amazon EKS Benchmark 5.1.2", "Kubescape C-0222", "NIST 800-53 r5 AC-6"],
        sources: [Terraform, CloudFormation, Aws],
    }
}

impl Rule for IdentityPolicyBroadEcrAccess {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        // Customer managed policies are reported where they are written, once, whatever
        // attaches them; inline and AWS managed ones at the identity.
        let managed: Vec<(String, &ecrguard_model::PolicyDoc)> = cx
            .state
            .managed_policies
            .iter()
            .filter_map(|m| Some((m.id.to_string(), m.document.doc()?)))
            .collect();
        for (name, doc) in managed {
            for g in ecr_grants(&doc.policy) {
                if !g.every_repository || g.tag_scoped {
                    continue;
                }
                let risky = g.risky_actions();
                if risky.is_empty() {
                    continue;
                }
                let st = &doc.policy.statements[g.statement];
                let mut f = cx
                    .report(&doc.declared_by, format!("Policy `{name}` grants {} on every repository", granted_actions(st, &risky)))
                    .at(doc.origin.narrow(st.span))
                    .statement(crate::StatementRef { index: st.index, sid: st.sid.clone() })
                    .help("Scope `Resource` to the repositories that need it, and drop permissions-management actions");
                if g.classes().contains(&ActionClass::PermissionsManagement) {
                    f = f.escalate(Severity::Critical).note("it can change repository policies, so whoever holds it can make any repository public");
                }
                f.emit();
            }
        }
        // A set, not a scan per attachment: an organization has thousands of both.
        let reported_on_policy: std::collections::HashSet<&ecrguard_model::ResourceId> =
            cx.state.managed_policies.iter().map(|m| &m.id).collect();
        for ident in &cx.state.identities {
            for pol in &ident.policies {
                let Some(doc) = pol.document.doc() else {
                    continue;
                };
                if reported_on_policy.contains(&doc.declared_by) {
                    continue;
                }
                for g in ecr_grants(&doc.policy) {
                    if !g.every_repository || g.tag_scoped {
                        continue;
                    }
                    let risky = g.risky_actions();
                    if risky.is_empty() {
                        continue;
                    }
                    let st = &doc.policy.statements[g.statement];
                    let pm = g.classes().contains(&ActionClass::PermissionsManagement);
                    let mut f = cx
                        .report(
                            &doc.declared_by,
                            format!("{} `{}` gets {} on every repository through policy `{}`", identity_noun(ident.kind), ident.id, granted_actions(st, &risky), pol.name),
                        )
                        .at(doc.origin.narrow(st.span))
                        .statement(crate::StatementRef { index: st.index, sid: st.sid.clone() })
                        .key(ident.id.label())
                        .help("Scope `Resource` to the repositories this identity must write, and drop permissions-management actions");
                    if pm {
                        f = f.escalate(Severity::Critical).note("it can change repository policies, so it can make any repository public");
                    }
                    f.emit();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Severity;
    use crate::rules::testing::*;

    #[test]
    fn broad_write_fails_scoped_or_read_passes() {
        for (text, want) in [
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}"#,
                Some(Severity::Critical),
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:PutImage","ecr:InitiateLayerUpload"],"Resource":"arn:aws:ecr:*:*:repository/*"}]}"#,
                Some(Severity::High),
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:PutImage","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/app"}]}"#,
                None,
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetAuthorizationToken"],"Resource":"*"}]}"#,
                None,
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"core"}}}]}"#,
                None,
            ),
            // What a pull-through cache needs (AWS's `PullOnly` plus creating the cache
            // repository) is an import, not a push.
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchImportUpstreamImage","ecr:CreateRepository"],"Resource":"*"}]}"#,
                None,
            ),
            // Tagging every repository still counts: tags decide tag-scoped access.
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:BatchImportUpstreamImage","ecr:CreateRepository","ecr:TagResource"],"Resource":"*"}]}"#,
                Some(Severity::High),
            ),
        ] {
            let f = codes(&identity_state(text, false), &owner(), "ECR005");
            assert_eq!(f.first().map(|f| f.severity), want, "{text}");
        }
    }
}
