//! ecrguard's ECR008 (policy-invalid) against cfn-lint's checks of `RepositoryPolicyText`
//! (E3513, and W3037 for actions), on invalid templates of our own in `tests/cfn_lint`. The
//! test runs both. cfn-lint comes from the project's test venv (`scripts/test.sh` installs the
//! pinned version), or from `ECRGUARD_CFN_LINT`.

use ecrguard_cloudformation::{CfnOptions, scan};
use ecrguard_model::{PolicyState, SourceDb};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the two disagree, and why (docs/semantics.md §1).
const DIFFERENCES: &[(&str, &str)] = &[
    (
        "null_if_exists",
        "`Null` has no `IfExists` form and IAM rejects `NullIfExists`; cfn-lint's operator pattern accepts it",
    ),
    (
        "too_long",
        "ECR accepts at most 10,240 characters of policy text; cfn-lint does not measure it",
    ),
];

fn cfn_lint() -> PathBuf {
    if let Some(p) = std::env::var_os("ECRGUARD_CFN_LINT") {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv-test/bin/cfn-lint");
    assert!(
        venv.exists(),
        "cfn-lint is missing: `bash scripts/test.sh` installs it into .venv-test"
    );
    venv
}

/// The files cfn-lint reports anything on (one run over all of them: it starts slowly).
fn cfn_lint_flagged(files: &[PathBuf]) -> std::collections::BTreeSet<String> {
    let out = Command::new(cfn_lint())
        .args(["--format", "json"])
        .args(files)
        .output()
        .expect("cfn-lint runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "cfn-lint output: {e}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v.as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["Filename"].as_str())
        .map(|f| {
            Path::new(f)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .to_string()
        })
        .collect()
}

fn ecrguard_flags(path: &Path) -> bool {
    let mut db = SourceDb::default();
    let result = scan(&[path.to_path_buf()], &mut db, &CfnOptions::default());
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    match &result.state.repositories[0].policy {
        PolicyState::Present(doc) => doc.policy.is_invalid(),
        PolicyState::Unparseable { .. } => true,
        other => panic!("{}: {other:?}", path.display()),
    }
}

#[test]
fn policy_invalid_agrees_with_cfn_lint() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cfn_lint");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(files.len() >= 15);
    let flagged = cfn_lint_flagged(&files);
    let mut disagreements = Vec::new();
    let mut explained = 0;
    for f in &files {
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        let (ours, theirs) = (ecrguard_flags(f), flagged.contains(&name));
        match DIFFERENCES.iter().find(|(n, _)| *n == name) {
            Some((_, why)) => {
                assert!(
                    ours && !theirs,
                    "{name}: listed as a difference ({why}) but ecrguard={ours}, cfn-lint={theirs}"
                );
                explained += 1;
            }
            None if ours != theirs => disagreements.push(format!(
                "{name}: ecrguard invalid={ours}, cfn-lint flags={theirs}"
            )),
            None => {}
        }
    }
    assert_eq!(explained, DIFFERENCES.len());
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
