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
        assert!(s.errors[0].location().is_some(), "{name}: no line");
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

#[test]
fn conditions_beyond_the_enumerated_ones_are_unknown_not_guessed() {
    // Thirty statements, each under its own undecided condition: the branches of three are
    // analysed; the others are unknown and noted, never silently taken as true (which made
    // every statement public in every variant: 228 findings for 30 statements).
    let conditions: Vec<String> = (0..30)
        .map(|i| format!("\"C{i}\": {{\"Fn::Equals\": [{{\"Ref\": \"AWS::Region\"}}, \"r{i}\"]}}"))
        .collect();
    let statements: Vec<String> = (0..30)
        .map(|i| format!("{{\"Fn::If\": [\"C{i}\", {{\"Sid\": \"S{i}\", \"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"ecr:BatchGetImage\"}}, {{\"Ref\": \"AWS::NoValue\"}}]}}"))
        .collect();
    let template = format!(
        "{{\"AWSTemplateFormatVersion\": \"2010-09-09\", \"Conditions\": {{{}}}, \"Resources\": {{\"Repo\": {{\"Type\": \"AWS::ECR::Repository\", \"Properties\": {{\"RepositoryPolicyText\": {{\"Version\": \"2012-10-17\", \"Statement\": [{}]}}}}}}}}}}",
        conditions.join(", "),
        statements.join(", ")
    );
    let d = tree("ifs", &[("t.json", template.as_bytes())]);
    let s = run(&d);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let findings = ecrguard_rules::check(&s.state, &ecrguard_rules::Settings::default());
    let public: Vec<String> = findings
        .iter()
        .filter(|f| f.rule.code == "ECR002")
        .map(|f| f.message.clone())
        .collect();
    // Only the enumerated conditions' statements are judged public, each in its true branch.
    assert!(!public.is_empty() && public.len() <= 12, "{}", public.len());
    assert!(
        public
            .iter()
            .all(|m| ["`S0`", "`S1`", "`S10`"].iter().any(|s| m.contains(s))),
        "{public:?}"
    );
    assert!(
        s.not_evaluated
            .iter()
            .any(|n| n.place.to_string() == "Repo" && n.message.contains("30 undecided conditions")),
        "{:?}",
        s.not_evaluated
    );
    std::fs::remove_dir_all(&d).unwrap();
}
