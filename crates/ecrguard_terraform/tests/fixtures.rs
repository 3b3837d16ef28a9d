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
