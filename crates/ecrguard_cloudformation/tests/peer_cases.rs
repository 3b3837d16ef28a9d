//! Every CloudFormation case of `../shared/peer-cases/manifest.json` (KICS, Checkov, Trivy),
//! read at test time. ecrguard must agree with the peer on each expected resource, except
//! where SEMANTICS.md shows the peer wrong: those are in `PEER_WRONG` with the reason.

use ecrguard_cloudformation::{CfnOptions, scan};
use ecrguard_model::SourceDb;
use ecrguard_rules::{Settings, check};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// (file, logical id, why the peer is wrong).
const PEER_WRONG: &[(&str, &str, &str)] = &[(
    "checkov/cloudformation/ECRPolicy/ECRPolicy-PASSED-2.yaml",
    "CondAllPass",
    "`ForAllValues:StringEquals` on the single-valued `aws:PrincipalOrgID` is true when the key is missing \
     (SEMANTICS.md 1.2, 2.2), so principals outside any organization get in: public",
)];

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
fn cloudformation_peer_cases() {
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(shared().join("manifest.json"))
            .expect("../shared beside the repo"),
    )
    .unwrap();
    let mut checked = 0;
    let mut disagreements = Vec::new();
    let mut wrong_seen = 0;
    for case in manifest["cases"].as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        if file.ends_with(".tf") {
            continue;
        }
        let Some(code) = code_of(case["our_topic"].as_str().unwrap()) else {
            continue;
        };
        let mut db = SourceDb::default();
        let result = scan(&[shared().join(file)], &mut db, &CfnOptions::default());
        if !result.errors.is_empty() {
            disagreements.push(format!("{file}: errors {:?}", result.errors));
            continue;
        }
        let findings = check(&result.state, &Settings::default());
        for e in case["expect"].as_array().unwrap() {
            let resource = e["resource"].as_str().unwrap();
            let peer_fails = e["result"] == "fail";
            let ours = findings.iter().any(|f| {
                f.rule.code == code
                    && [
                        f.resource.label(),
                        f.repository.as_ref().map_or("", |r| r.label()),
                    ]
                    .iter()
                    .any(|l| *l == resource || l.starts_with(&format!("{resource} [")))
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
                wrong_seen += 1;
            } else if ours != peer_fails {
                let list: Vec<String> = findings
                    .iter()
                    .map(|f| format!("{} {}", f.rule.code, f.resource))
                    .collect();
                disagreements.push(format!(
                    "{} {file} {resource} {code}: peer {}, ecrguard {} {list:?} [{}]",
                    case["peer"],
                    e["result"],
                    if ours { "fail" } else { "pass" },
                    e["note"].as_str().unwrap_or("")
                ));
            }
        }
    }
    assert!(checked >= 40, "every CloudFormation case runs ({checked})");
    assert_eq!(wrong_seen, PEER_WRONG.len());
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
