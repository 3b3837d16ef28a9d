//! Our own Kubernetes manifests, one folder per rule, in the shapes of the ACK ecr-controller
//! and Crossplane AWS provider CRDs (v1beta1 lists and v1beta2 objects, cluster-scoped and
//! namespaced groups, `kind: List`, several documents): every `bad` file must yield its rule,
//! every `good` file must not, and none may be an error.

use ecrguard_kubernetes::scan_files;
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
fn every_rule_fixture_behaves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut failures = Vec::new();
    let mut bad = 0;
    for rule in entries(&root) {
        let code = rule.file_name().unwrap().to_string_lossy().to_string();
        for (kind, want) in [("bad", true), ("good", false)] {
            for entry in entries(&rule.join(kind)) {
                if want {
                    bad += 1;
                }
                let mut db = SourceDb::default();
                let result = scan_files(std::slice::from_ref(&entry), &mut db);
                if !result.errors.is_empty() {
                    failures.push(format!("{}: errors {:?}", entry.display(), result.errors));
                }
                if result.files != 1 {
                    failures.push(format!("{}: not read as manifests", entry.display()));
                }
                let all = check(&result.state, &Settings::default());
                // A good manifest is not invalid either (placeholders are not errors).
                if !want && all.iter().any(|f| f.rule.code == "ECR008") {
                    failures.push(format!("{}: ECR008 on a good manifest", entry.display()));
                }
                let hits: Vec<String> = all
                    .into_iter()
                    .filter(|f| f.rule.code == code)
                    .map(|f| format!("{} {}", f.resource, f.message))
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
    assert!(bad >= 10, "{bad} bad fixtures");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn scan_text(name: &str, text: &str) -> (ecrguard_kubernetes::KubernetesScan, SourceDb) {
    let dir = std::env::temp_dir().join(format!("ecrguard-k8s-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("manifest.yaml");
    std::fs::write(&file, text).unwrap();
    let mut db = SourceDb::default();
    let scan = scan_files(&[file], &mut db);
    let _ = std::fs::remove_dir_all(&dir);
    (scan, db)
}

#[test]
fn other_kubernetes_objects_are_skipped_quietly() {
    let (scan, _) = scan_text(
        "other",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - image: 111111111111.dkr.ecr.us-east-1.amazonaws.com/web:1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    );
    assert_eq!(scan.files, 0);
    assert!(scan.errors.is_empty());
    assert!(scan.state.repositories.is_empty());
}

#[test]
fn a_broken_manifest_is_an_error_with_its_line() {
    let (scan, _) = scan_text(
        "broken",
        "apiVersion: ecr.services.k8s.aws/v1alpha1\nkind: Repository\nmetadata:\n  name: x\nspec:\n  name: [unclosed\n",
    );
    assert_eq!(scan.errors.len(), 1, "{:?}", scan.errors);
    let e = &scan.errors[0];
    assert!(e.message.contains("not valid YAML"), "{}", e.message);
    assert!(e.location().is_some_and(|l| l.start_line >= 6), "{e:?}");
}

#[test]
fn positions_names_and_kinds_not_modelled() {
    let text = "apiVersion: ecr.aws.upbound.io/v1beta1\nkind: AccountSetting\nmetadata:\n  name: dr\nspec:\n  forProvider:\n    region: us-east-1\n---\napiVersion: ecr.aws.upbound.io/v1beta2\nkind: Repository\nmetadata:\n  name: obj-name\n  namespace: team-a\n  annotations:\n    crossplane.io/external-name: real-name\n    ecrguard.io/ignore: \"ECR013 images are rebuilt nightly until=2027-01-01\"\nspec:\n  forProvider:\n    region: us-east-1\n";
    let (scan, db) = scan_text("names", text);
    assert!(
        scan.not_evaluated
            .iter()
            .any(|n| n.place.to_string() == "AccountSetting/dr" && n.message.contains("not read")),
        "{:?}",
        scan.not_evaluated
    );
    let repo = &scan.state.repositories[0];
    assert_eq!(repo.id.label(), "Repository/team-a/obj-name");
    assert_eq!(repo.name.known().map(String::as_str), Some("real-name"));
    assert_eq!(repo.region.as_deref(), Some("us-east-1"));
    // The repository is reported where its object starts (line 9).
    let lines = db.lines(&repo.origin).unwrap();
    assert_eq!(lines.start_line, 9);
    let s = &scan.suppressions[0];
    assert_eq!(
        (
            s.rule.as_str(),
            s.reason.as_str(),
            s.until.as_deref(),
            s.resource.label()
        ),
        (
            "ECR013",
            "images are rebuilt nightly",
            Some("2027-01-01"),
            "Repository/team-a/obj-name"
        )
    );
}

/// Pull-through cache rules from both controllers, in the model with their upstream, prefix
/// and credential (known, absent, or named by a reference and so unknown); the template's
/// `appliedFor` is read, and ECR007 names the rules a public template shapes.
#[test]
fn pull_through_cache_rules_and_the_templates_that_shape_them() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ECR007");
    let mut db = SourceDb::default();
    let bad = scan_files(
        &[dir.join("bad/pull_through_ack_and_crossplane.yaml")],
        &mut db,
    );
    type Row<'a> = (
        String,
        Option<&'a String>,
        Option<&'a String>,
        Option<&'a Option<String>>,
    );
    let rules: Vec<Row<'_>> = bad
        .state
        .pull_through_cache_rules
        .iter()
        .map(|r| {
            (
                r.id.label().to_string(),
                r.prefix.known(),
                r.upstream_url.known(),
                r.credential_arn.known(),
            )
        })
        .collect();
    let secret = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:ecr-pullthroughcache/hub";
    assert_eq!(
        rules,
        vec![
            (
                "PullThroughCacheRule/registry/quay-cache".to_string(),
                Some(&"quay".to_string()),
                Some(&"quay.io".to_string()),
                Some(&None)
            ),
            (
                "PullThroughCacheRule/hub-cache".to_string(),
                Some(&"docker-hub".to_string()),
                Some(&"registry-1.docker.io".to_string()),
                Some(&Some(secret.to_string()))
            ),
        ]
    );
    assert_eq!(
        bad.state.pull_through_cache_rules[1].region.as_deref(),
        Some("eu-west-1")
    );
    let template = &bad.state.creation_templates[0];
    assert_eq!(
        template.applied_for.known(),
        Some(&vec![
            "PULL_THROUGH_CACHE".to_string(),
            "REPLICATION".to_string()
        ])
    );
    let findings: Vec<_> = check(&bad.state, &Settings::default())
        .into_iter()
        .filter(|f| f.rule.code == "ECR007")
        .collect();
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert!(
        f.message
            .contains("(for pull-through cache and replication)"),
        "{}",
        f.message
    );
    for upstream in ["`quay.io`", "`registry-1.docker.io`"] {
        assert!(
            f.notes.iter().any(|n| n.contains(upstream)),
            "{:?}",
            f.notes
        );
    }

    let good = scan_files(&[dir.join("good/pull_through_org_template.yaml")], &mut db);
    let credential = &good.state.pull_through_cache_rules[0].credential_arn;
    assert!(
        matches!(credential, ecrguard_model::Value::Unknown(why, _) if why.contains("credentialRef")),
        "{credential:?}"
    );
}
