//! `ECR009` `cluster-node-role-ecr-write`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::list_actions;
use ecrguard_iam::catalog::ActionClass;
use ecrguard_iam::identity::ecr_grants;

declare_rule! {
    /// ## What it does
    /// Flags IAM roles used by EKS node groups (`aws_eks_node_group.node_role_arn`,
    /// `AWS::EKS::Nodegroup.NodeRole`, or found through launch templates and instance
    /// profiles) whose policies grant ECR write, delete or permissions-management actions,
    /// on any repository. `AmazonEC2ContainerRegistryPowerUser` on a node role is the usual
    /// cause; nodes need only `AmazonEC2ContainerRegistryReadOnly` (or `PullOnly`).
    ///
    /// ## Why is this bad?
    /// Every pod on the node can reach the node role's credentials through the instance
    /// metadata service unless it is blocked. A compromised pod can then push a backdoored
    /// image under a tag other workloads pull.
    ///
    /// ## Example
    /// ```hcl
    /// resource "aws_iam_role_policy_attachment" "nodes_ecr" {
    ///   role       = aws_iam_role.nodes.name
    ///   policy_arn = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
    /// }
    /// ```
    /// Use instead: `AmazonEC2ContainerRegistryReadOnly`.
    ///
    /// ## How to fix
    /// - Terraform: attach `arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly` to the
    ///   node role instead, and move push rights to the CI role.
    /// - CLI: `aws iam detach-role-policy --role-name NODE_ROLE --policy-arn arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser`.
    /// - Console: IAM > Roles > NODE_ROLE > Permissions.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/eks/latest/userguide/create-node-role.html>
    /// - <https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html>
    ClusterNodeRoleEcrWrite {
        code: "ECR009",
        name: "cluster-node-role-ecr-write",
        severity: High,
        category: Privilege,
        summary: "EKS node role can push, delete or re-permission ECR repositories",
        compliance: ["CIS Amazon EKS Benchmark 5.1.3", "Kubescape C-0223"],
        sources: [Terraform, CloudFormation, Aws],
    }
}

impl Rule for ClusterNodeRoleEcrWrite {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for ident in cx.state.identities.iter().filter(|i| i.eks_node_role) {
            for pol in &ident.policies {
                let Some(doc) = pol.document.doc() else {
                    continue;
                };
                for g in ecr_grants(&doc.policy) {
                    let risky = g.actions_at_least(ActionClass::Write);
                    if risky.is_empty() {
                        continue;
                    }
                    let st = &doc.policy.statements[g.statement];
                    cx.report(&doc.declared_by, format!("EKS node role `{}` can call {} through policy `{}`", ident.id, list_actions(&risky), pol.name))
                        .at(doc.origin.narrow(st.span))
                        .statement(crate::StatementRef { index: st.index, sid: st.sid.clone() })
                        .help("Give node roles `AmazonEC2ContainerRegistryReadOnly` only; push from a CI role")
                        .emit();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const POWER_USER_LIKE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:PutImage","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload"],"Resource":"*"}]}"#;
    const READ_ONLY_LIKE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}]}"#;

    #[test]
    fn node_roles_with_write_fail() {
        assert_eq!(
            codes(&identity_state(POWER_USER_LIKE, true), &owner(), "ECR009").len(),
            1
        );
        assert!(codes(&identity_state(READ_ONLY_LIKE, true), &owner(), "ECR009").is_empty());
        assert!(
            codes(&identity_state(POWER_USER_LIKE, false), &owner(), "ECR009").is_empty(),
            "not a node role"
        );
    }
}
