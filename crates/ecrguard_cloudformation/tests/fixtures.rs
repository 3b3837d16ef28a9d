//! Our own CloudFormation fixtures, one folder per rule, in YAML and JSON, with intrinsics,
//! parameters, `Fn::If` and a CDK-synthesized template: every `bad` entry must yield its
//! rule, every `good` entry must not.

use ecrguard_cloudformation::{CfnOptions, scan};
use ecrguard_model::SourceDb;
use ecrguard_rules::{Settings, check};
use std::path::{Path, PathBuf};

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn every_rule_has_good_and_bad_templates_that_behave() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let settings = Settings {
        approved_public_repositories: vec!["oss-*".into()],
        ..Settings::default()
    };
    let mut failures = Vec::new();
    let mut bad_rules = 0;
    for rule in entries(&root) {
        let code = rule.file_name().unwrap().to_string_lossy().to_string();
        for (kind, want) in [("bad", true), ("good", false)] {
            let list = entries(&rule.join(kind));
            if kind == "bad" {
                assert!(!list.is_empty(), "{code} has no bad template");
                bad_rules += 1;
            }
            for entry in list {
                let mut db = SourceDb::default();
                let result = scan(
                    std::slice::from_ref(&entry),
                    &mut db,
                    &CfnOptions::default(),
                );
                if !result.errors.is_empty() {
                    failures.push(format!("{}: errors {:?}", entry.display(), result.errors));
                }
                if result.files == 0 {
                    failures.push(format!("{}: not read as a template", entry.display()));
                }
                let hits: Vec<String> = check(&result.state, &settings)
                    .into_iter()
                    .filter(|f| f.rule.code == code)
                    .map(|f| f.message)
                    .collect();
                if hits.is_empty() == want {
                    failures.push(format!(
                        "{} ({kind}): {code} findings {hits:?}",
                        entry.strip_prefix(&root).unwrap().display()
                    ));
                }
            }
        }
    }
    assert_eq!(bad_rules, 16);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The template-only entry point reports what the walk could not read (it once dropped walk
/// errors, leaving them to the Terraform walk over the same paths).
#[test]
fn a_missing_path_is_an_error_of_the_template_scan() {
    let missing = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/no-such-directory");
    let mut sources = ecrguard_model::SourceDb::default();
    let scan = ecrguard_cloudformation::scan(
        std::slice::from_ref(&missing),
        &mut sources,
        &ecrguard_cloudformation::CfnOptions::default(),
    );
    let messages: Vec<&str> = scan.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [format!("`{}` does not exist", missing.display())]
    );
    assert_eq!(scan.files, 0);
}

/// `cdk.out` is git-ignored in CDK projects but is what they want scanned: its templates are
/// found even when an ignore file hides the directory from the walk.
#[test]
fn cdk_out_templates_are_found_even_when_ignored() {
    let dir = std::env::temp_dir().join(format!("ecrguard-cdk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("cdk.out")).unwrap();
    std::fs::write(dir.join(".gitignore"), "cdk.out/\n").unwrap();
    std::fs::write(dir.join("cdk.out/App.template.json"), "{}").unwrap();
    std::fs::write(dir.join("cdk.out/manifest.json"), "{}").unwrap();
    let (files, errors) = ecrguard_cloudformation::discover(std::slice::from_ref(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(files, [dir.join("cdk.out/App.template.json")]);
}

/// `AWS::ECR::PullThroughCacheRule` is in the model (a credential from an unpinned parameter
/// is unknown; none given is "none"), `AppliedFor` is read, and ECR007 names the rule whose
/// repositories a public template shapes: the template `quay/coreos` covers part of what the
/// rule `quay` creates.
#[test]
fn pull_through_cache_rules_are_modelled_and_linked_to_templates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ECR007");
    let mut db = SourceDb::default();
    let bad = scan(
        &[dir.join("bad/pull_through_quay.yaml")],
        &mut db,
        &CfnOptions::default(),
    );
    assert!(bad.errors.is_empty(), "{:?}", bad.errors);
    let rule = &bad.state.pull_through_cache_rules[0];
    assert_eq!(rule.id.label(), "QuayCache");
    assert_eq!(rule.prefix.known().map(String::as_str), Some("quay"));
    assert_eq!(
        rule.upstream_url.known().map(String::as_str),
        Some("quay.io")
    );
    assert!(
        rule.credential_arn.known().is_none(),
        "{:?}",
        rule.credential_arn
    );
    assert_eq!(
        bad.state.creation_templates[0].applied_for.known(),
        Some(&vec!["PULL_THROUGH_CACHE".to_string()])
    );
    let findings: Vec<_> = check(&bad.state, &Settings::default())
        .into_iter()
        .filter(|f| f.rule.code == "ECR007")
        .collect();
    assert_eq!(findings.len(), 1);
    assert!(findings[0].message.contains("(for pull-through cache)"));
    assert!(
        findings[0]
            .notes
            .iter()
            .any(|n| n.contains("QuayCache") && n.contains("`quay.io`")),
        "{:?}",
        findings[0].notes
    );

    let good = scan(
        &[dir.join("good/pull_through_org.yaml")],
        &mut db,
        &CfnOptions::default(),
    );
    assert_eq!(
        good.state.pull_through_cache_rules[0]
            .credential_arn
            .known(),
        Some(&None)
    );
}
