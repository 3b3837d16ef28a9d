//! Generates a small monorepo with `../shared/bench/gen_corpus.py` (its ground truth says,
//! per static `aws_ecr_repository` block, whether a policy is attached and whether it is
//! public) and checks ECR001 and ECR002 against it, repository by repository.

use ecrguard_rules::{Settings, check};
use ecrguard_terraform::{TerraformOptions, scan};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

#[test]
fn findings_match_the_generator_ground_truth() {
    let out = std::env::temp_dir().join(format!("ecrguard-corpus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let generator =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/gen_corpus.py");
    if !generator.is_file() {
        #[allow(clippy::print_stderr)]
        {
            // Past the test harness's capture: a skip is said even when the test passes.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"skipped: ../shared/bench/gen_corpus.py not found\n",
            );
        }
        return;
    }
    let status = Command::new("python3")
        .arg(&generator)
        .arg(&out)
        .args(["--modules", "30", "--seed", "7"])
        .output()
        .expect("python3 runs the generator");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("expected_ecr.json")).unwrap())
            .unwrap();

    let result = scan(std::slice::from_ref(&out), &TerraformOptions::default());
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    let findings = check(&result.state, &Settings::default());
    // (file relative to the corpus, local resource name) -> rule codes found on it.
    let mut found: BTreeMap<(String, String), BTreeSet<&str>> = BTreeMap::new();
    for f in &findings {
        let Some(origin) = &f.origin else { continue };
        let Some(loc) = result.sources.lines(origin) else {
            continue;
        };
        let file = Path::new(&loc.file)
            .strip_prefix(&out)
            .map(|p| p.display().to_string())
            .unwrap_or(loc.file.clone());
        let repo = f
            .repository
            .as_ref()
            .map_or(f.resource.label(), |r| r.label());
        let Some(local) = repo.rsplit("aws_ecr_repository.").next() else {
            continue;
        };
        let local = local.split('[').next().unwrap_or(local).to_string();
        found.entry((file, local)).or_default().insert(f.rule.code);
    }
    let mut checked = 0;
    let mut wrong = Vec::new();
    for e in truth["repositories"].as_array().unwrap() {
        let file = e["file"].as_str().unwrap().to_string();
        let local = e["resource"]
            .as_str()
            .unwrap()
            .trim_start_matches("aws_ecr_repository.")
            .to_string();
        let codes = found
            .get(&(file.clone(), local.clone()))
            .cloned()
            .unwrap_or_default();
        let has_policy = e["has_policy"].as_bool().unwrap();
        let public = e["public_policy"].as_bool().unwrap();
        checked += 1;
        if has_policy == codes.contains("ECR001") {
            wrong.push(format!(
                "{file} {local} ({}): has_policy={has_policy} but ECR001 {:?}",
                e["style"], codes
            ));
        }
        if public != codes.contains("ECR002") {
            wrong.push(format!(
                "{file} {local} ({}): public={public} but ECR002 {:?}",
                e["style"], codes
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    assert!(checked >= 30, "{checked} repositories checked");
    assert!(
        wrong.is_empty(),
        "{} of {checked} disagree:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
