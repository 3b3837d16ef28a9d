//! Every case of `../shared/peer-cases/manifest.json` (KICS, Checkov, Trivy) for Terraform and
//! CloudFormation, read at test time and scanned file by file. ecrguard must agree with the
//! peer on each expected resource, except where docs/semantics.md shows the peer wrong: those are
//! listed per platform with the reason, and the test checks that we still disagree.

use ecrguard_model::{EcrState, SourceDb};
use ecrguard_rules::{Finding, Settings, check};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// (file, resource, why the peer is wrong).
const TERRAFORM_PEER_WRONG: &[(&str, &str, &str)] = &[
    (
        "kics/terraform/ecr_image_tag_not_immutable/positive_module.tf",
        "module.ecr",
        "terraform-aws-modules/ecr has no `image_tag_mutability` input (it is `repository_image_tag_mutability`, default IMMUTABLE); \
         the registry module is not evaluated and is listed as not evaluated",
    ),
    (
        "checkov/terraform/ECRPolicy/main.tf",
        "aws_ecr_repository_policy.pass_conditional",
        "`ForAllValues:StringEquals` on the single-valued `aws:PrincipalOrgID` is true when the key is missing \
         (docs/semantics.md §1.3, §2.3), so principals outside any organization get in: public",
    ),
    (
        "checkov/terraform/ECRRepositoryEncrypted/test_success.tf",
        "aws_ecr_repository.foo",
        "`KMS` without `kms_key` uses the AWS managed `aws/ecr` key, not a customer managed key (ECR012 requires a key)",
    ),
];

/// (file, logical id, why the peer is wrong).
const CLOUDFORMATION_PEER_WRONG: &[(&str, &str, &str)] = &[(
    "checkov/cloudformation/ECRPolicy/ECRPolicy-PASSED-2.yaml",
    "CondAllPass",
    "`ForAllValues:StringEquals` on the single-valued `aws:PrincipalOrgID` is true when the key is missing \
     (docs/semantics.md §1.3, §2.3), so principals outside any organization get in: public",
)];

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peer-cases")
}

/// Our rule for a manifest topic.
fn code_of(topic: &str) -> Option<&'static str> {
    Some(match topic {
        "repo-without-policy" => "ECR001",
        "policy-public" => "ECR002",
        "policy-cross-account" => "ECR003",
        "tag-immutability" => "ECR010",
        "scan-on-push" => "ECR011",
        "encryption-kms" => "ECR012",
        "lifecycle-policy" => "ECR013",
        _ => return None,
    })
}

/// Whether a finding of `code` is on `resource` (where it is written, or the repository it
/// affects, any instance or conditional branch of it).
fn reported(findings: &[Finding], code: &str, resource: &str) -> bool {
    findings.iter().any(|f| {
        f.rule.code == code
            && [
                f.resource.label(),
                f.repository.as_ref().map_or("", |r| r.label()),
            ]
            .iter()
            .any(|l| {
                *l == resource
                    || l.starts_with(&format!("{resource}["))
                    || l.starts_with(&format!("{resource} ["))
            })
    })
}

/// Runs every case whose file `wants`, scanning it with `scan`; returns how many expectations
/// were checked.
fn run_cases(
    wants: fn(&str) -> bool,
    scan: fn(&Path) -> (EcrState, Vec<String>),
    peer_wrong: &[(&str, &str, &str)],
) -> usize {
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(shared().join("manifest.json"))
            .expect("../shared beside the repo"),
    )
    .unwrap();
    let mut checked = 0;
    let mut wrong_seen = 0;
    let mut disagreements = Vec::new();
    for case in manifest["cases"].as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let Some(code) = code_of(case["our_topic"].as_str().unwrap()) else {
            continue;
        };
        if !wants(file) {
            continue;
        }
        let (state, errors) = scan(&shared().join(file));
        assert!(errors.is_empty(), "{file}: {errors:?}");
        let findings = check(&state, &Settings::default());
        for e in case["expect"].as_array().unwrap() {
            let resource = e["resource"].as_str().unwrap();
            let peer_fails = e["result"] == "fail";
            let ours = reported(&findings, code, resource);
            checked += 1;
            if let Some((_, _, why)) = peer_wrong
                .iter()
                .find(|(f, r, _)| *f == file && *r == resource)
            {
                assert_ne!(
                    ours, peer_fails,
                    "{file} {resource} is listed as a peer mistake but we agree now: {why}"
                );
                wrong_seen += 1;
            } else if ours != peer_fails {
                let ours_list: Vec<String> = findings
                    .iter()
                    .map(|f| format!("{} {}", f.rule.code, f.resource))
                    .collect();
                disagreements.push(format!(
                    "{} {file} {resource} {code}: peer {}, ecrguard {}\n    ours: {ours_list:?}",
                    case["peer"],
                    e["result"],
                    if ours { "fail" } else { "pass" }
                ));
            }
        }
    }
    assert_eq!(
        wrong_seen,
        peer_wrong.len(),
        "every listed peer mistake is exercised"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    checked
}

/// The peers' cases live in `../shared`, beside the repository, not in it: without it (a plain
/// clone) the peer tests say they skipped.
fn skipped() -> bool {
    let missing = !shared().join("manifest.json").is_file();
    if missing {
        #[allow(clippy::print_stderr)]
        {
            // Past the test harness's capture: a skip is said even when the test passes.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"skipped: ../shared/peer-cases not found\n",
            );
        }
    }
    missing
}

#[test]
fn terraform_peer_cases() {
    if skipped() {
        return;
    }
    let checked = run_cases(
        |f| f.ends_with(".tf"),
        |p| {
            let r = ecrguard_terraform::scan(
                &[p.to_path_buf()],
                &ecrguard_terraform::TerraformOptions::default(),
            );
            (r.state, r.errors.into_iter().map(|e| e.message).collect())
        },
        TERRAFORM_PEER_WRONG,
    );
    assert!(checked >= 40, "{checked}");
}

#[test]
fn cloudformation_peer_cases() {
    if skipped() {
        return;
    }
    let checked = run_cases(
        |f| !f.ends_with(".tf"),
        |p| {
            let mut db = SourceDb::default();
            let r = ecrguard_cloudformation::scan(
                &[p.to_path_buf()],
                &mut db,
                &ecrguard_cloudformation::CfnOptions::default(),
            );
            (r.state, r.errors.into_iter().map(|e| e.message).collect())
        },
        CLOUDFORMATION_PEER_WRONG,
    );
    assert!(checked >= 40, "{checked}");
}
