//! Terraform plan JSON: planned values with positions in the plan file, `after_unknown` as
//! Unknown, links through the `configuration` references, and broken plans as errors.

use ecrguard_rules::{Finding, Settings, check};
use ecrguard_terraform::{TerraformOptions, scan};
use std::path::Path;

fn plans() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plans")
}

fn find<'a>(f: &'a [Finding], code: &str, repo: &str) -> Vec<&'a Finding> {
    f.iter()
        .filter(|f| f.rule.code == code && f.repository.as_ref().is_some_and(|r| r.label() == repo))
        .collect()
}

#[test]
fn planned_values_become_the_model() {
    let result = scan(&[plans().join("plan.json")], &TerraformOptions::default());
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    assert_eq!(result.state.repositories.len(), 3);
    let f = check(&result.state, &Settings::default());

    // Public policy, located in the plan file at the policy value.
    let public = find(&f, "ECR002", "aws_ecr_repository.app");
    assert_eq!(public.len(), 1);
    let loc = result
        .sources
        .lines(public[0].origin.as_ref().unwrap())
        .unwrap();
    assert!(loc.file.ends_with("plan.json"));
    let text = std::fs::read_to_string(plans().join("plan.json")).unwrap();
    assert!(
        text.lines()
            .nth(loc.start_line - 1)
            .unwrap()
            .contains("\"policy\""),
        "line {}",
        loc.start_line
    );
    match public[0].origin.as_ref().unwrap() {
        ecrguard_model::Origin::Pointer { pointer, .. } => assert_eq!(
            pointer,
            "/planned_values/root_module/resources/1/values/policy"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(find(&f, "ECR010", "aws_ecr_repository.app").len(), 1);
    assert_eq!(find(&f, "ECR013", "aws_ecr_repository.app").len(), 1);

    // A policy known only after apply: not missing, not public; the settings still count.
    let computed = "aws_ecr_repository.computed";
    assert!(find(&f, "ECR001", computed).is_empty());
    assert!(find(&f, "ECR002", computed).is_empty());
    assert_eq!(find(&f, "ECR011", computed).len(), 1);
    assert_eq!(find(&f, "ECR012", computed).len(), 1, "KMS without a key");

    // Child module, for_each: linked through `for_each_expression` references.
    let api = "module.team.aws_ecr_repository.this[\"api\"]";
    assert_eq!(
        find(&f, "ECR003", api).len(),
        1,
        "{:#?}",
        f.iter()
            .map(|f| (f.rule.code, f.repository.clone()))
            .collect::<Vec<_>>()
    );
    assert!(find(&f, "ECR001", api).is_empty());
    assert!(
        find(&f, "ECR013", api).is_empty(),
        "lifecycle linked by reference"
    );
}

#[test]
fn broken_and_unsupported_plans_are_errors() {
    let result = scan(&[plans().join("broken.json")], &TerraformOptions::default());
    assert_eq!(result.errors.len(), 1);
    assert!(result.errors[0].message.contains("not valid JSON"));
    assert_eq!(result.errors[0].location().unwrap().start_line, 6);
    let result = scan(
        &[plans().join("bad-version.json")],
        &TerraformOptions::default(),
    );
    assert!(
        result.errors[0]
            .message
            .contains("unsupported plan format_version `2.0`"),
        "{:?}",
        result.errors
    );
}

#[test]
fn malformed_plans_are_errors_with_their_line() {
    let dir = std::env::temp_dir().join(format!("ecrguard-plan-malformed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text, needle) in [
        (
            "resources-string.json",
            "{\"format_version\": \"1.2\",\n \"planned_values\": {\"root_module\": {\"resources\": \"oops\"}}}",
            "`resources` is a string",
        ),
        (
            "child-number.json",
            "{\"format_version\": \"1.2\",\n \"planned_values\": {\"root_module\": {\"child_modules\": [5]}}}",
            "an entry of `child_modules` is a number",
        ),
        (
            "changes-object.json",
            "{\"format_version\": \"1.2\",\n \"resource_changes\": {\"a\": 1}, \"planned_values\": {}}",
            "`resource_changes` is an object",
        ),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        let result = scan(&[p], &TerraformOptions::default());
        assert_eq!(result.errors.len(), 1, "{name}: {:?}", result.errors);
        assert!(
            result.errors[0].message.contains(needle),
            "{name}: {:?}",
            result.errors
        );
        assert_eq!(
            result.errors[0].location().map(|l| l.start_line),
            Some(2),
            "{name}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
