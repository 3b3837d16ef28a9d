//! `ECR007` `creation-template-policy-public`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{list_actions, loose_condition_notes};
use ecrguard_iam::analysis::Party;
use ecrguard_model::PolicyOwner;

declare_rule! {
    /// ## What it does
    /// Flags repository creation templates (`aws_ecr_repository_creation_template`,
    /// `AWS::ECR::RepositoryCreationTemplate`) whose repository policy lets anyone in.
    ///
    /// ## Why is this bad?
    /// ECR applies the template's policy to every repository it creates under the prefix, for
    /// pull-through cache, replication and create-on-push. A public template policy silently
    /// makes each new repository public; no repository resource in code shows it.
    ///
    /// ## Example
    /// ```hcl
    /// resource "aws_ecr_repository_creation_template" "cache" {
    ///   prefix = "docker-hub"
    ///   applied_for = ["PULL_THROUGH_CACHE"]
    ///   repository_policy = jsonencode({Version = "2012-10-17", Statement = [{
    ///     Effect = "Allow", Principal = "*", Action = ["ecr:BatchGetImage"] }]})
    /// }
    /// ```
    /// Use instead: scope the statement with `aws:PrincipalOrgID`.
    ///
    /// ## How to fix
    /// - Terraform: change `repository_policy` of the template.
    /// - CLI: `aws ecr update-repository-creation-template --prefix PREFIX --repository-policy file://fixed.json`.
    /// - Console: Amazon ECR > Private registry > Repository creation templates.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates.html>
    CreationTemplatePolicyPublic {
        code: "ECR007",
        name: "creation-template-policy-public",
        severity: Critical,
        category: Exposure,
        summary: "Repository creation template applies a public policy to new repositories",
        compliance: [],
        sources: [Terraform, CloudFormation, Aws],
    }
}

impl Rule for CreationTemplatePolicyPublic {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for p in cx.policies_of(|o| matches!(o, PolicyOwner::CreationTemplate(_))) {
            for sa in &p.analysis.statements {
                let Some(names) = sa.grants.get(&Party::Everyone) else {
                    continue;
                };
                let st = &p.doc.policy.statements[sa.index];
                let mut f = cx.report_statement(p, st, format!("Statement {} of the {} policy makes every repository it creates public: anyone can call {}", st.label(), p.subject(), list_actions(names)))
                    .help("Scope the statement to your organization with `aws:PrincipalOrgID`");
                for n in loose_condition_notes(sa) {
                    f = f.note(n);
                }
                f.emit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;
    use ecrguard_iam::PolicyKind;
    use ecrguard_model::*;

    #[test]
    fn flags_public_template_policy_only() {
        let run = |text: &str| {
            let mut db = SourceDb::default();
            let origin = Origin::File(db.add("t.json", text));
            let id = ResourceId::Terraform("aws_ecr_repository_creation_template.cache".into());
            let policy = ecrguard_iam::parse_text(text, PolicyKind::Repository).unwrap();
            let s = EcrState {
                creation_templates: vec![CreationTemplate {
                    id: id.clone(),
                    prefix: Value::Set("cache".into(), origin.clone()),
                    origin: origin.clone(),
                    policy: PolicyState::Present(Box::new(PolicyDoc {
                        policy,
                        origin,
                        declared_by: id,
                    })),
                }],
                ..EcrState::default()
            };
            codes(&s, &owner(), "ECR007").len()
        };
        assert_eq!(
            run(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}"#
            ),
            1
        );
        assert_eq!(
            run(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}"#
            ),
            0
        );
    }
}
