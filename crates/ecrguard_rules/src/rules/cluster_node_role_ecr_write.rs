//! `ECR009` `cluster-node-role-ecr-write`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{granted_actions, list_actions};
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
        compliance: ["CIS Amazon EKS Benchmark 5.1.3", "Kubescape C-0223", "NIST 800-53 r5 AC-6"],
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
                    let risky = g.risky_actions();
                    if risky.is_empty() {
                        continue;
                    }
                    let st = &doc.policy.statements[g.statement];
                    cx.report(&doc.declared_by, format!("EKS node role `{}` can call {} through policy `{}`", ident.id, granted_actions(st, &risky), pol.name))
                        .at(doc.origin.narrow(st.span))
                        .statement(crate::StatementRef { index: st.index, sid: st.sid.clone() })
                        .key(ident.id.label())
                        .help("Give node roles `AmazonEC2ContainerRegistryReadOnly` only; push from a CI role")
                        .emit();
                }
            }
        }
        self.check_repository_policies(cx);
    }
}

impl ClusterNodeRoleEcrWrite {
    /// A repository policy can hand a node role write access that none of its own policies
    /// give: the access matrix (live audit, where roles and repositories have ARNs) finds
    /// those grants.
    fn check_repository_policies(&self, cx: &mut Context<'_>) {
        let nodes: Vec<&str> = cx
            .state
            .identities
            .iter()
            .filter(|i| i.eks_node_role)
            .filter_map(|i| match &i.id {
                ecrguard_model::ResourceId::Arn(a) => Some(a.as_str()),
                _ => None,
            })
            .collect();
        if nodes.is_empty() {
            return;
        }
        let matrix = cx.access();
        for access in &matrix.repositories {
            let id = ecrguard_model::ResourceId::Arn(access.repository.clone());
            let Some(doc) = cx
                .state
                .repositories
                .iter()
                .find(|r| r.id == id)
                .and_then(|r| r.policy.doc())
            else {
                continue;
            };
            for p in access
                .principals
                .iter()
                .filter(|p| nodes.contains(&p.principal.as_str()))
            {
                let statements: std::collections::BTreeSet<usize> = [
                    ActionClass::Write,
                    ActionClass::Delete,
                    ActionClass::PermissionsManagement,
                ]
                .iter()
                .filter_map(|c| p.granted_by.get(c))
                .flatten()
                .filter(|g| g.policy == ecrguard_access::REPOSITORY_POLICY)
                .map(|g| g.statement)
                .collect();
                for index in statements {
                    let st = &doc.policy.statements[index];
                    // A grant to everyone reaches node roles too, but it is ECR002/ECR004's
                    // finding; this rule is about grants that single out the node role.
                    let to_everyone = st.principal.as_ref().is_some_and(|b| {
                        b.negated
                            || b.principals
                                .iter()
                                .any(|p| p.who == ecrguard_iam::principal::Who::Everyone)
                    });
                    if to_everyone {
                        continue;
                    }
                    let risky: Vec<&str> = p
                        .actions
                        .keys()
                        .copied()
                        .filter(|a| {
                            !ecrguard_iam::identity::PULL_THROUGH_IMPORT.contains(a)
                                && ecrguard_iam::catalog::find(a)
                                    .is_some_and(|x| x.class >= ActionClass::Write)
                        })
                        .collect();
                    cx.report(&doc.declared_by, format!("The repository policy lets EKS node role `{}` call {}", p.principal, list_actions(&risky)))
                        .at(doc.origin.narrow(st.span))
                        .statement(crate::StatementRef { index: st.index, sid: st.sid.clone() })
                        .key(p.principal.as_str())
                        .help("Grant node roles only the pull actions in repository policies; push from a CI role")
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

    /// Live: the node role's own policies only read, but a repository policy names it for
    /// push. Both are ARNs, so the access matrix sees it.
    #[test]
    fn a_repository_policy_granting_a_node_role_push_fails() {
        use ecrguard_model::{ResourceId, Value};
        let node = "arn:aws:iam::111111111111:role/nodes";
        let grant = |actions: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Nodes","Effect":"Allow","Principal":{{"AWS":"{node}"}},"Action":{actions}}}]}}"#
            )
        };
        let state = |repo_policy: &str| {
            let mut s = identity_state(READ_ONLY_LIKE, true);
            s.identities[0].id = ResourceId::Arn(node.into());
            let mut r = repo_with_policy(repo_policy).repositories.remove(0);
            r.id = ResourceId::Arn("arn:aws:ecr:us-east-1:111111111111:repository/app".into());
            r.account = Some("111111111111".into());
            r.tags = Value::Set(Vec::new(), r.origin.clone());
            s.repositories.push(r);
            s
        };
        let f = codes(
            &state(&grant(r#"["ecr:BatchGetImage","ecr:PutImage"]"#)),
            &owner(),
            "ECR009",
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.contains("ecr:PutImage") && f[0].message.contains(node),
            "{}",
            f[0].message
        );
        assert!(
            codes(&state(&grant(r#""ecr:BatchGetImage""#)), &owner(), "ECR009").is_empty(),
            "pull only"
        );
    }
}
