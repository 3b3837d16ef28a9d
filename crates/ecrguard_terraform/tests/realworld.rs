//! Code shaped like the public ECR modules people use (terraform-aws-modules/ecr, cloudposse,
//! lgallard), called with typical inputs: configured as their users intend (private, scoped,
//! immutable, scanned, KMS, lifecycle), they must scan with no finding at all.

use ecrguard_rules::{Settings, check};
use ecrguard_terraform::{TerraformOptions, scan};
use std::path::Path;

fn findings_for(dir: &str) -> (usize, Vec<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/realworld")
        .join(dir);
    let result = scan(&[root], &TerraformOptions::default());
    assert!(result.errors.is_empty(), "{dir}: {:?}", result.errors);
    let settings = Settings {
        owner_account: Some("111111111111".into()),
        ..Settings::default()
    };
    let f = check(&result.state, &settings);
    // Not vacuous: every policy and lifecycle policy was found and read.
    for r in &result.state.repositories {
        assert!(
            matches!(r.policy, ecrguard_model::PolicyState::Present(_)),
            "{dir} {}: {:?}",
            r.id,
            r.policy
        );
        assert_eq!(r.lifecycle_policy.known(), Some(&true), "{dir} {}", r.id);
        assert!(
            r.tag_mutability.known().is_some() && r.encryption.known().is_some(),
            "{dir} {}",
            r.id
        );
    }
    (
        result.state.repositories.len(),
        f.iter()
            .map(|f| format!("{} {} {}", f.rule.code, f.resource, f.message))
            .collect(),
    )
}

#[test]
fn terraform_aws_modules_shape_has_no_false_positive() {
    let (repos, f) = findings_for("tfmodules");
    assert_eq!(repos, 2, "module instances were evaluated");
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn cloudposse_shape_has_no_false_positive() {
    let (repos, f) = findings_for("cloudposse");
    assert_eq!(repos, 2);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn lgallard_shape_has_no_false_positive() {
    let (repos, f) = findings_for("lgallard");
    assert_eq!(repos, 1);
    assert!(f.is_empty(), "{f:#?}");
}
