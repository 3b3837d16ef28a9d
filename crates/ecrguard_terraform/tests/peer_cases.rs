//! Every Terraform case of `../shared/peer-cases/manifest.json` (KICS, Checkov, Trivy), read
//! at test time, scanned file by file. ecrguard must agree with the peer on each expected
//! resource, except where SEMANTICS.md shows the peer wrong: those are in `PEER_WRONG`, with
//! the reason, and the test checks that we still disagree.

use ecrguard_rules::{Settings, check};
use ecrguard_terraform::{TerraformOptions, scan};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// (file, resource, why the peer is wrong).
const PEER_WRONG: &[(&str, &str, &str)] = &[
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
         (SEMANTICS.md 1.2, 2.2), so principals outside any organization get in: public",
    ),
    (
        "checkov/terraform/ECRRepositoryEncrypted/test_success.tf",
        "aws_ecr_repository.foo",
        "`KMS` without `kms_key` uses the AWS managed `aws/ecr` key, not a customer managed key (ECR012 requires a key)",
    ),
];

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peer-cases")
}

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

#[test]
fn terraform_peer_cases() {
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(shared().join("manifest.json"))
            .expect("../shared beside the repo"),
    )
    .unwrap();
    let mut checked = 0;
    let mut disagreements = Vec::new();
    let mut wrong_seen = Vec::new();
    for case in manifest["cases"].as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        if !file.ends_with(".tf") {
            continue;
        }
        let Some(code) = code_of(case["our_topic"].as_str().unwrap()) else {
            continue;
        };
        let result = scan(&[shared().join(file)], &TerraformOptions::default());
        assert!(result.errors.is_empty(), "{file}: {:?}", result.errors);
        let findings = check(&result.state, &Settings::default());
        for e in case["expect"].as_array().unwrap() {
            let resource = e["resource"].as_str().unwrap();
            let peer_fails = e["result"] == "fail";
            let ours = findings.iter().any(|f| {
                f.rule.code == code
                    && (f.resource.label() == resource
                        || f.repository.as_ref().is_some_and(|r| {
                            r.label() == resource || r.label().starts_with(&format!("{resource}["))
                        }))
            });
            checked += 1;
            if let Some((_, _, why)) = PEER_WRONG
                .iter()
                .find(|(f, r, _)| *f == file && *r == resource)
            {
                assert_ne!(
                    ours, peer_fails,
                    "{file} {resource} is listed as a peer mistake but we agree now: {why}"
                );
                wrong_seen.push((file, resource));
            } else if ours != peer_fails {
                let ours_list: Vec<String> = findings
                    .iter()
                    .map(|f| {
                        format!(
                            "{} {} ({:?})",
                            f.rule.code,
                            f.resource,
                            f.repository.as_ref().map(ToString::to_string)
                        )
                    })
                    .collect();
                disagreements.push(format!(
                    "{} {file} {resource} {code}: peer {}, ecrguard {}\n    ours: {ours_list:?}",
                    case["peer"],
                    if peer_fails { "fail" } else { "pass" },
                    if ours { "fail" } else { "pass" }
                ));
            }
        }
    }
    assert!(checked >= 40, "every Terraform case runs ({checked})");
    assert_eq!(
        wrong_seen.len(),
        PEER_WRONG.len(),
        "every listed disagreement is exercised: {wrong_seen:?}"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
