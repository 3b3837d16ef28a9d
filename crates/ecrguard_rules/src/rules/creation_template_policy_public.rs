//! `ECR007` `creation-template-policy-public`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{granted_actions, loose_condition_notes};
use ecrguard_iam::analysis::Party;
use ecrguard_model::{CreationTemplate, PolicyOwner, PullThroughCacheRule};

declare_rule! {
    /// ## What it does
    /// Flags repository creation templates (`aws_ecr_repository_creation_template`,
    /// `AWS::ECR::RepositoryCreationTemplate`, ACK and Crossplane `RepositoryCreationTemplate`,
    /// live `DescribeRepositoryCreationTemplates`) whose repository policy lets anyone in. The
    /// finding says what the template is applied for (`appliedFor`) and names each pull-through
    /// cache rule of the same scan whose repositories it shapes: the template's prefix is
    /// `ROOT`, or one prefix is a path prefix of the other.
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
        compliance: ["AWS WA SEC03-BP07", "NIST 800-53 r5 AC-3", "NIST 800-53 r5 AC-21", "NIST 800-53 r5 SC-7"],
        sources: [Terraform, CloudFormation, Kubernetes, Aws],
    }
}

impl Rule for CreationTemplatePolicyPublic {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        let pull_through = &cx.state.pull_through_cache_rules;
        for p in cx.policies_of(|o| matches!(o, PolicyOwner::CreationTemplate(_))) {
            let PolicyOwner::CreationTemplate(template) = p.owner else {
                continue;
            };
            for sa in &p.analysis.statements {
                let Some(names) = sa.grants.get(&Party::Everyone) else {
                    continue;
                };
                let st = &p.doc.policy.statements[sa.index];
                let mut f = cx.report_statement(p, st, format!("Statement {} of the {} policy makes every repository it creates{} public: anyone can call {}", st.label(), p.subject(), created_by(template), granted_actions(st, names)))
                    .help("Scope the statement to your organization with `aws:PrincipalOrgID`");
                for n in loose_condition_notes(sa) {
                    f = f.note(n);
                }
                for n in pull_through_notes(template, pull_through) {
                    f = f.note(n);
                }
                f.emit();
            }
        }
    }
}

/// " (for pull-through cache and replication)", from the template's `appliedFor`.
fn created_by(template: &CreationTemplate) -> String {
    let Some(uses) = template.applied_for.known().filter(|u| !u.is_empty()) else {
        return String::new();
    };
    let words: Vec<String> = uses
        .iter()
        .map(|u| match u.as_str() {
            "PULL_THROUGH_CACHE" => "pull-through cache".to_string(),
            "REPLICATION" => "replication".to_string(),
            "CREATE_ON_PUSH" => "create-on-push".to_string(),
            other => format!("`{other}`"),
        })
        .collect();
    format!(" (for {})", words.join(" and "))
}

/// The pull-through cache rules of the same scan whose repositories the template shapes:
/// every image cached from their upstream lands in a public repository.
fn pull_through_notes(template: &CreationTemplate, rules: &[PullThroughCacheRule]) -> Vec<String> {
    if template.for_pull_through_cache() == Some(false) {
        return Vec::new();
    }
    rules
        .iter()
        .filter_map(|r| {
            let prefix = r.prefix.known()?;
            if template.may_cover(prefix) != Some(true) {
                return None;
            }
            let upstream = r.upstream_url.known().map_or_else(
                || "an upstream not known here".to_string(),
                |u| format!("`{u}`"),
            );
            Some(format!(
                "the pull-through cache rule {} creates its repositories under `{prefix}/` from \
                 {upstream}: every image cached from there becomes public",
                r.id.label()
            ))
        })
        .collect()
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
                    applied_for: Value::Set(vec!["PULL_THROUGH_CACHE".into()], origin.clone()),
                    origin: origin.clone(),
                    policy: PolicyState::Present(Box::new(PolicyDoc {
                        policy,
                        origin,
                        declared_by: id,
                        assumes: Vec::new(),
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
