//! `ECR010` `image-tag-mutable`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{Setting, setting_name};
use ecrguard_model::TagMutability;

declare_rule! {
    /// ## What it does
    /// Flags private repositories whose image tags can be overwritten: `MUTABLE` (the default
    /// when the attribute is omitted) and `MUTABLE_WITH_EXCLUSION`. `IMMUTABLE` and
    /// `IMMUTABLE_WITH_EXCLUSION` pass.
    ///
    /// ## Why is this bad?
    /// With mutable tags, anyone who can push can replace `app:1.4.2` with a different image;
    /// every node that pulls the tag afterwards runs the replacement. Immutable tags make a
    /// tag name mean one digest forever.
    ///
    /// ## Example
    /// ```hcl
    /// resource "aws_ecr_repository" "app" { name = "app" } # MUTABLE by default
    /// ```
    /// Use instead: `image_tag_mutability = "IMMUTABLE"`.
    ///
    /// ## How to fix
    /// - Terraform: `image_tag_mutability = "IMMUTABLE"` (or `IMMUTABLE_WITH_EXCLUSION` with
    ///   `image_tag_mutability_exclusion_filter` for tags like `latest`).
    /// - CLI: `aws ecr put-image-tag-mutability --repository-name NAME --image-tag-mutability IMMUTABLE`.
    /// - Console: Amazon ECR > Repositories > NAME > Edit > Tag immutability.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html>
    /// - <https://docs.aws.amazon.com/securityhub/latest/userguide/ecr-controls.html#ecr-2>
    ImageTagMutable {
        code: "ECR010",
        name: "image-tag-mutable",
        severity: Medium,
        category: Hygiene,
        summary: "Image tags can be overwritten",
        compliance: ["AWS FSBP ECR.2 (ecr-private-tag-immutability-enabled)", "NIST 800-53 r5 CM-2", "NIST 800-53 r5 CM-8(1)", "NIST 800-53 r5 CA-9(1)"],
        sources: [Terraform, CloudFormation, Kubernetes, Aws],
    }
}

impl Rule for ImageTagMutable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for repo in &cx.state.repositories {
            let Some(m) = repo.tag_mutability.known() else {
                continue;
            };
            if !matches!(
                m,
                TagMutability::Mutable | TagMutability::MutableWithExclusion
            ) {
                continue;
            }
            let field = setting_name(&repo.id, Setting::TagMutability);
            let how = if repo.tag_mutability.is_default() {
                format!(" (the default when {field} is not set)")
            } else {
                String::new()
            };
            cx.report(
                &repo.id,
                format!(
                    "Repository `{}` has tag mutability `{}`{how}",
                    repo.id,
                    m.as_str()
                ),
            )
            .repository(Some(repo.id.clone()))
            .at(repo.tag_mutability.origin().clone())
            .help(format!("Set {field} to `IMMUTABLE`"))
            .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;
    use ecrguard_model::{TagMutability, Value};

    #[test]
    fn mutable_values_fail_immutable_values_pass() {
        for (value, default, want) in [
            (TagMutability::Mutable, true, 1),
            (TagMutability::Mutable, false, 1),
            (TagMutability::MutableWithExclusion, false, 1),
            (TagMutability::Immutable, false, 0),
            (TagMutability::ImmutableWithExclusion, false, 0),
        ] {
            let mut s = repo_with_policy(r#"{"Statement":[]}"#);
            let o = s.repositories[0].origin.clone();
            s.repositories[0].tag_mutability = if default {
                Value::Default(value, o)
            } else {
                Value::Set(value, o)
            };
            let f = codes(&s, &owner(), "ECR010");
            assert_eq!(f.len(), want, "{value:?}");
            if default {
                assert!(f[0].message.contains("default"));
            }
        }
        // Unknown stays silent.
        assert!(codes(&repo_with_policy(r#"{"Statement":[]}"#), &owner(), "ECR010").is_empty());
    }
}
