//! `ECR006` `registry-policy-untrusted`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, Severity, declare_rule};
use crate::rules::granted_actions;
use ecrguard_iam::analysis::Party;
use ecrguard_model::PolicyOwner;

declare_rule! {
    /// ## What it does
    /// Flags registry policies (`aws_ecr_registry_policy`, `AWS::ECR::RegistryPolicy`,
    /// `PutRegistryPolicy`) that grant anyone, or accounts and organizations outside the
    /// trusted set, registry actions such as `ecr:ReplicateImage`, `ecr:CreateRepository` or
    /// `ecr:BatchImportUpstreamImage`.
    ///
    /// ## Why is this bad?
    /// The registry policy lets other accounts replicate images into your registry and create
    /// repositories in it. An untrusted account can then plant images under names your
    /// deployments pull, or fill the registry.
    ///
    /// ## Example
    /// ```json
    /// {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
    ///   "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
    ///   "Resource": "arn:aws:ecr:us-east-1:111111111111:repository/*"}]}
    /// ```
    /// Use instead: name the source account of the replication in `Principal`.
    ///
    /// ## How to fix
    /// - Terraform: set `principals.identifiers` of the registry policy to the replication
    ///   source accounts.
    /// - CLI: `aws ecr put-registry-policy --policy-text file://fixed.json`.
    /// - Console: Amazon ECR > Private registry > Permissions.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions.html>
    RegistryPolicyUntrusted {
        code: "ECR006",
        name: "registry-policy-untrusted",
        severity: High,
        category: Exposure,
        summary: "Registry policy grants anyone or untrusted accounts",
        compliance: ["AWS WA SEC03-BP07", "NIST 800-53 r5 AC-3", "NIST 800-53 r5 AC-21", "NIST 800-53 r5 SC-7"],
        sources: [Terraform, CloudFormation, Kubernetes, Aws],
    }
}

impl Rule for RegistryPolicyUntrusted {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for p in cx.policies_of(|o| matches!(o, PolicyOwner::Registry(_))) {
            for sa in &p.analysis.statements {
                let st = &p.doc.policy.statements[sa.index];
                for (party, names) in &sa.grants {
                    if !p.is_untrusted(party, cx.settings) {
                        continue;
                    }
                    let mut f = cx
                        .report_statement(
                            p,
                            st,
                            format!(
                                "Statement {} of the {} policy grants `{party}` {}",
                                st.label(),
                                p.subject(),
                                granted_actions(st, names)
                            ),
                        )
                        .help("Name only the trusted replication source accounts");
                    if *party == Party::Everyone {
                        f = f
                            .escalate(Severity::Critical)
                            .note("granted to everyone, not to one untrusted account: critical");
                    }
                    f.emit();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;
    use ecrguard_iam::PolicyKind;
    use ecrguard_model::*;

    fn registry(text: &str) -> EcrState {
        let mut db = SourceDb::default();
        let origin = Origin::File(db.add("r.json", text));
        let id = ResourceId::Terraform("aws_ecr_registry_policy.this".into());
        let policy = ecrguard_iam::parse_text(text, PolicyKind::Registry).unwrap();
        EcrState {
            registry_policies: vec![RegistryPolicy {
                id: id.clone(),
                account: Some("111111111111".into()),
                region: None,
                policy: PolicyState::Present(Box::new(PolicyDoc {
                    policy,
                    origin,
                    declared_by: id,
                    assumes: Vec::new(),
                })),
            }],
            ..EcrState::default()
        }
    }

    #[test]
    fn flags_public_and_untrusted_registry_grants() {
        let s = registry(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["*","222222222222"]},"Action":"ecr:ReplicateImage","Resource":"*"}]}"#,
        );
        let f = codes(&s, &crate::Settings::default(), "ECR006");
        assert_eq!(f.len(), 2);
        let mut trusted = crate::Settings::default();
        trusted.trusted_accounts.insert("222222222222".into());
        assert_eq!(codes(&s, &trusted, "ECR006").len(), 1);
        let s = registry(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"ecr:ReplicateImage","Resource":"*"}]}"#,
        );
        assert!(codes(&s, &crate::Settings::default(), "ECR006").is_empty());
    }
}
