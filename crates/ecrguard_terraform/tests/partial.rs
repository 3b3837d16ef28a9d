//! Strings with unknown parts keep their known parts: templates, `format` and `join` over
//! values known only after apply (or variables without a value) give partial strings, and
//! the policy engine answers what the known text decides.

use ecrguard_iam::policy::Pattern;
use ecrguard_terraform::{TerraformOptions, scan};
use std::path::PathBuf;

/// Scans one `main.tf` and returns the `Resource` patterns of its single customer managed
/// policy, and the grants the identity engine reads from it.
fn resources_of(
    policy_resource: &str,
) -> (Vec<Pattern>, Vec<ecrguard_iam::identity::IdentityGrant>) {
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "ecrguard-partial-{}-{:x}",
        std::process::id(),
        policy_resource.len() * 31 + policy_resource.bytes().map(usize::from).sum::<usize>()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        r#"
data "aws_region" "current" {{}}
data "aws_caller_identity" "current" {{}}
variable "name" {{ type = string }}
variable "region" {{
  type    = string
  default = "eu-west-1"
}}
locals {{ prefix = "team-" }}
resource "aws_iam_policy" "p" {{
  name = "p"
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "ecr:PutImage", Resource = {policy_resource} }}]
  }})
}}
"#
    );
    std::fs::write(dir.join("main.tf"), text).unwrap();
    let result = scan(std::slice::from_ref(&dir), &TerraformOptions::default());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    let doc = result.state.managed_policies[0]
        .document
        .doc()
        .expect("the policy is present")
        .clone();
    let block = doc.policy.statements[0].resource.clone().expect("Resource");
    (
        block.values,
        ecrguard_iam::identity::ecr_grants(&doc.policy),
    )
}

fn shown(p: &Pattern) -> String {
    match p {
        Pattern::Known(s) => format!("known {s}"),
        Pattern::Partial(p) => format!("partial {}", p.shown()),
        Pattern::Unknown(why) => format!("unknown ({why})"),
    }
}

#[test]
fn a_template_keeps_the_text_around_unknown_parts() {
    let (values, grants) = resources_of(
        r#""arn:aws:ecr:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:repository/*""#,
    );
    assert_eq!(
        shown(&values[0]),
        "partial arn:aws:ecr:${?}:self:repository/*"
    );
    assert!(grants[0].every_repository, "{grants:?}");
    assert!(!grants[0].incomplete);
}

#[test]
fn format_and_join_keep_known_parts_too() {
    let (values, grants) = resources_of(
        r#"format("arn:aws:ecr:%s:%s:repository/%s*", var.region, data.aws_caller_identity.current.account_id, var.name)"#,
    );
    assert_eq!(
        shown(&values[0]),
        "partial arn:aws:ecr:eu-west-1:self:repository/${?}*"
    );
    // The name prefix is unknown: `repository/${?}*` may be every repository or one team's.
    assert!(!grants[0].every_repository);
    assert!(grants[0].incomplete);
    assert!(
        grants[0]
            .unresolved
            .as_deref()
            .is_some_and(|w| w.contains("var.name") || w.contains("`name`")),
        "{:?}",
        grants[0].unresolved
    );

    let (values, grants) =
        resources_of(r#"join(":", ["arn:aws:ecr", var.region, var.name, "repository/*"])"#);
    assert_eq!(
        shown(&values[0]),
        "partial arn:aws:ecr:eu-west-1:${?}:repository/*"
    );
    assert!(grants[0].every_repository);
}

#[test]
fn known_text_that_rules_a_match_out_decides_even_with_unknown_parts() {
    // Another service's ARN never covers a repository, whatever the unknown parts are.
    let (_, grants) = resources_of(r#""arn:aws:s3:::${var.name}/*""#);
    assert!(!grants[0].every_repository);
    assert!(!grants[0].incomplete, "{grants:?}");
    // A named repository of an unknown account is one repository.
    let (_, grants) = resources_of(r#""arn:aws:ecr:${var.region}:${var.name}:repository/app""#);
    assert!(!grants[0].every_repository);
    assert!(!grants[0].incomplete);
}

#[test]
fn fully_known_templates_stay_plain_strings() {
    let (values, _) =
        resources_of(r#""arn:aws:ecr:${var.region}:111111111111:repository/${local.prefix}api""#);
    assert_eq!(
        shown(&values[0]),
        "known arn:aws:ecr:eu-west-1:111111111111:repository/team-api"
    );
}

#[test]
fn a_wholly_unknown_value_stays_unknown_not_absent() {
    let (values, grants) = resources_of("var.name");
    assert!(
        matches!(values[0], Pattern::Unknown(_)),
        "{}",
        shown(&values[0])
    );
    assert!(grants[0].incomplete);
}
