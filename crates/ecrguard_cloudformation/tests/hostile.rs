//! Templates and look-alikes as found in real repositories and as an attacker would write
//! them: a file is an error only when it was meant as a template and fails; everything else
//! that is not a template (Helm charts, workflows, arbitrary JSON) is skipped quietly.

use ecrguard_cloudformation::{CfnOptions, scan};
use ecrguard_model::SourceDb;
use std::path::PathBuf;

fn tree(name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "ecrguard-cfn-hostile-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    for (rel, body) in files {
        let p = d.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    d
}

fn run(dir: &PathBuf) -> ecrguard_cloudformation::CfnScan {
    let mut db = SourceDb::default();
    scan(std::slice::from_ref(dir), &mut db, &CfnOptions::default())
}

const PUBLIC: &str = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Repo:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryPolicyText:\n        Statement:\n          - Effect: Allow\n            Principal: '*'\n            Action: ecr:BatchGetImage\n";

#[test]
fn helm_charts_workflows_and_other_json_are_skipped_quietly() {
    let d = tree(
        "skip",
        &[
            ("chart/templates/deployment.yaml", b"{{- if .Values.enabled }}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n{{- end }}\n"),
            ("chart/templates/aws.yaml", b"{{ if .Values.x }}\nResources:\n  R:\n    Type: AWS::ECR::Repository\n{{ end }}\n"),
            (".github/workflows/ci.yml", b"on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo AWS::Region [\n"),
            ("data/broken.json", b"{\"a\": [1, 2"),
            ("data/package.json", b"{\"name\": \"x\"}"),
            ("stack.yaml", PUBLIC.as_bytes()),
        ],
    );
    let s = run(&d);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert_eq!(s.files, 1, "only the template counts as scanned");
    assert_eq!(s.state.repositories.len(), 1);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn malformed_templates_are_errors_with_their_lines() {
    let cases: &[(&str, &[u8], &str)] = &[
        ("resources-string.yaml", b"AWSTemplateFormatVersion: '2010-09-09'\nResources: oops\n", "`Resources` is a string"),
        ("resources-null.yaml", b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n", "`Resources` is null"),
        ("properties-string.yaml", b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Repo:\n    Type: AWS::ECR::Repository\n    Properties: oops\n", "`Properties` of resource `Repo` is a string"),
        ("dup.yaml", b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Repo:\n    Type: AWS::ECR::Repository\n  Repo:\n    Type: AWS::ECR::Repository\n", "duplicate key `Repo` (first at line 3)"),
        ("dup.json", b"{\"AWSTemplateFormatVersion\": \"2010-09-09\",\n \"Resources\": {\"Repo\": {\"Type\": \"AWS::ECR::Repository\",\n  \"Properties\": {}, \"Properties\": {}}}}\n", "duplicate key `Properties` (first at line 3)"),
        ("broken.json", b"{\"AWSTemplateFormatVersion\": \"2010-09-09\", \"Resources\": {\n", "not valid JSON"),
    ];
    for (name, body, needle) in cases {
        let d = tree(&format!("bad-{name}"), &[(name, body)]);
        let s = run(&d);
        assert_eq!(s.errors.len(), 1, "{name}: {:?}", s.errors);
        assert!(
            s.errors[0].message.contains(needle),
            "{name}: {:?}",
            s.errors
        );
        assert!(s.errors[0].location.is_some(), "{name}: no line");
        assert!(s.state.repositories.is_empty(), "{name}: read anyway");
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn utf16_and_non_ascii_templates() {
    let mut wide = vec![0xff, 0xfe];
    for b in PUBLIC.bytes() {
        wide.extend([b, 0]);
    }
    let d = tree(
        "encodings",
        &[
            ("wide.yaml", &wide),
            (
                "accents.yaml",
                format!(
                    "# ─── Dépôt € 🚀 ───\n{}",
                    PUBLIC.replace("Repo:", "Repo: # ünïcödé")
                )
                .as_bytes(),
            ),
        ],
    );
    let s = run(&d);
    assert_eq!(s.errors.len(), 1, "{:?}", s.errors);
    assert!(s.errors[0].message.contains("UTF-16"), "{:?}", s.errors);
    // The non-ASCII template is read, with its repository at the right place.
    assert_eq!(s.state.repositories.len(), 1);
    std::fs::remove_dir_all(&d).unwrap();
}
