//! Our own fixtures, one folder per rule: every entry under `fixtures/<CODE>/bad` (a `.tf`
//! file, or a directory scanned as a module tree) must yield at least one finding of that
//! rule, every entry under `good` none. They cover defaults, unknown values, and each way of
//! writing a policy (heredoc, `jsonencode`, `aws_iam_policy_document` with sources,
//! overrides and `dynamic` blocks, `file`, `templatefile`, locals, tfvars, module outputs).

use ecrguard_rules::{Settings, check};
use ecrguard_terraform::{TerraformOptions, scan};
use std::path::{Path, PathBuf};

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir() || p.extension().is_some_and(|x| x == "tf"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn every_rule_has_good_and_bad_fixtures_that_behave() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let settings = Settings {
        approved_public_repositories: vec!["oss-*".into()],
        ..Settings::default()
    };
    let mut failures = Vec::new();
    let mut rules_with_bad = 0;
    for rule in entries(&root) {
        let code = rule.file_name().unwrap().to_string_lossy().to_string();
        for (kind, want) in [("bad", true), ("good", false)] {
            let list = entries(&rule.join(kind));
            if kind == "bad" {
                assert!(!list.is_empty(), "{code} has no bad fixture");
                rules_with_bad += 1;
            }
            for entry in list {
                let result = scan(std::slice::from_ref(&entry), &TerraformOptions::default());
                let findings = check(&result.state, &settings);
                let hits: Vec<&str> = findings
                    .iter()
                    .filter(|f| f.rule.code == code)
                    .map(|f| f.message.as_str())
                    .collect();
                if !result.errors.is_empty() && !entry.to_string_lossy().contains("not_json") {
                    failures.push(format!(
                        "{}: scan errors {:?}",
                        entry.display(),
                        result.errors
                    ));
                }
                if hits.is_empty() == want {
                    failures.push(format!(
                        "{} ({kind}): {code} findings: {hits:?}",
                        entry.strip_prefix(&root).unwrap().display()
                    ));
                }
            }
        }
    }
    assert_eq!(
        rules_with_bad, 16,
        "a bad fixture for every policy and hygiene rule"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A pull-through cache rule is in the model with its prefix, upstream and credential (a
/// reference to a secret created in the same apply is unknown, never "none"); the template's
/// `applied_for` is read, and ECR007 names the rule whose repositories it makes public.
#[test]
fn pull_through_cache_rules_are_modelled_and_linked_to_templates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ECR007");
    let bad = scan(
        &[dir.join("bad/pull_through_root_template.tf")],
        &TerraformOptions::default(),
    );
    assert!(bad.errors.is_empty(), "{:?}", bad.errors);
    let rule = &bad.state.pull_through_cache_rules[0];
    assert_eq!(rule.id.label(), "aws_ecr_pull_through_cache_rule.hub");
    assert_eq!(rule.prefix.known().map(String::as_str), Some("docker-hub"));
    assert_eq!(
        rule.upstream_url.known().map(String::as_str),
        Some("registry-1.docker.io")
    );
    assert!(
        rule.credential_arn.known().is_none(),
        "computed ARN is unknown"
    );
    let findings: Vec<_> = check(&bad.state, &Settings::default())
        .into_iter()
        .filter(|f| f.rule.code == "ECR007")
        .collect();
    assert_eq!(findings.len(), 1);
    assert!(
        findings[0]
            .notes
            .iter()
            .any(|n| n.contains("aws_ecr_pull_through_cache_rule.hub")
                && n.contains("`docker-hub/`")
                && n.contains("`registry-1.docker.io`")),
        "{:?}",
        findings[0].notes
    );

    let good = scan(
        &[dir.join("good/pull_through_org_template.tf")],
        &TerraformOptions::default(),
    );
    let rule = &good.state.pull_through_cache_rules[0];
    assert_eq!(
        rule.credential_arn.known(),
        Some(&None),
        "no credential: a public upstream"
    );
    assert_eq!(
        good.state.creation_templates[0].applied_for.known(),
        Some(&vec!["PULL_THROUGH_CACHE".to_string()])
    );
}
