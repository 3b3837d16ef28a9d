//! `ecrguard scan` end to end: formats, suppressions, configuration, bad input, exit codes.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const FIX: &str = "crates/ecrguard/tests/fixtures/tf";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecrguard"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("ECRGUARD_TODAY", "2026-11-24")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn json(args: &[&str]) -> (Value, Option<i32>) {
    let o = run(args);
    let text = String::from_utf8(o.stdout).unwrap();
    (
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
        o.status.code(),
    )
}

/// One string field of each entry of a top-level list of the JSON report.
fn field<'v>(v: &'v Value, list: &str, key: &str) -> Vec<&'v str> {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[key].as_str().unwrap())
        .collect()
}

/// The findings of one rule in a JSON report.
fn findings_of<'v>(v: &'v Value, rule: &str) -> Vec<&'v Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .collect()
}

fn codes(v: &Value) -> Vec<String> {
    field(v, "findings", "rule_id")
        .into_iter()
        .map(String::from)
        .collect()
}

#[test]
fn inline_suppressions_are_applied_and_checked() {
    let (v, code) = json(&[
        "scan",
        &format!("{FIX}/suppressed"),
        "--no-config",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(1));
    let f = v["findings"].as_array().unwrap();
    let public = f
        .iter()
        .find(|f| f["rule_id"] == "ECR002")
        .expect("the public statement is still reported");
    assert_eq!(public["suppressed"]["kind"], "in-source");
    assert_eq!(
        public["suppressed"]["reason"],
        "public mirror of open-source images, reviewed by security"
    );
    assert_eq!(
        public["location"]["start_line"], 6,
        "points at the statement inside jsonencode"
    );
    // The expired suppression no longer hides ECR011, and is a finding itself.
    assert!(
        f.iter()
            .any(|f| f["rule_id"] == "ECR011" && f["suppressed"].is_null())
    );
    assert!(
        f.iter()
            .any(|f| f["rule_id"] == "ECR091" && f["location"]["start_line"] == 17)
    );
    assert!(
        f.iter()
            .any(|f| f["rule_id"] == "ECR090" && f["location"]["start_line"] == 32)
    );
    assert!(f.iter().any(|f| {
        f["rule_id"] == "ECR092"
            && f["message"]
                .as_str()
                .unwrap()
                .contains("unknown rule `ECR02`")
    }));
    assert_eq!(v["summary"]["suppressed"], 1);
    assert_eq!(
        v["summary"]["findings"], 4,
        "suppressed findings are not counted"
    );
}

#[test]
fn configuration_file_is_found_and_applied() {
    let o = run(&["scan", &format!("{FIX}/config"), "--format", "github"]);
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.contains("ECR001"), "suppressed by the config: {out}");
    assert!(!out.contains("ECR012"), "ignored by the config: {out}");
    assert!(out.contains("::error file=crates/ecrguard/tests/fixtures/tf/config/main.tf,line=1,endLine=3,title=ECR013"), "severity override to high: {out}");
    assert!(out.contains("title=ECR091 suppression-expired"), "{out}");
    assert!(out.contains("title=ECR090 suppression-unused"), "{out}");
    // --no-config brings everything back.
    let (v, _) = json(&[
        "scan",
        &format!("{FIX}/config"),
        "--no-config",
        "--format",
        "json",
    ]);
    assert!(codes(&v).contains(&"ECR001".to_string()) && codes(&v).contains(&"ECR012".to_string()));
}

#[test]
fn configuration_errors_point_at_the_line() {
    let o = run(&["scan", &format!("{FIX}/config-bad")]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        err.contains("ecrguard.toml:6:1: unknown field `reasons`"),
        "{err}"
    );
    assert!(err.contains("  | reasons = "), "the line as written: {err}");
}

#[test]
fn a_file_that_does_not_parse_is_reported_and_the_scan_goes_on() {
    let (v, code) = json(&[
        "scan",
        &format!("{FIX}/broken"),
        "--no-config",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(2));
    let e = &v["errors"][0];
    assert_eq!(e["file"], format!("{FIX}/broken/broken.tf"));
    assert_eq!(e["line"], 3);
    assert!(e["message"].as_str().unwrap().contains("cannot parse HCL"));
    assert!(
        codes(&v).contains(&"ECR010".to_string()),
        "ok.tf is still scanned"
    );
}

#[test]
fn a_repeated_object_key_is_accepted_like_terraform() {
    let (v, code) = json(&[
        "scan",
        &format!("{FIX}/repeated-key"),
        "--no-config",
        "--format",
        "json",
        "--select",
        "ECR010",
    ]);
    assert_eq!(v["errors"], serde_json::json!([]));
    assert_eq!(code, Some(0));
}

#[test]
fn select_and_ignore() {
    let (v, _) = json(&[
        "scan",
        &format!("{FIX}/config"),
        "--no-config",
        "--format",
        "json",
        "--select",
        "ECR01",
    ]);
    assert!(
        codes(&v)
            .iter()
            .all(|c| c.starts_with("ECR01") || c.starts_with("ECR09")),
        "{:?}",
        codes(&v)
    );
    let (v, _) = json(&[
        "scan",
        &format!("{FIX}/config"),
        "--no-config",
        "--format",
        "json",
        "--ignore",
        "image-tag-mutable,ECR011",
    ]);
    assert!(!codes(&v).iter().any(|c| c == "ECR010" || c == "ECR011"));
    assert_eq!(
        run(&["scan", FIX, "--select", "ECR999"]).status.code(),
        Some(2)
    );
}

#[test]
fn output_is_byte_identical_across_runs_and_goes_to_a_file() {
    let dir = std::env::temp_dir().join(format!("ecrguard-scan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("a.sarif");
    let b = dir.join("b.sarif");
    for p in [&a, &b] {
        let o = run(&[
            "scan",
            FIX,
            "--no-config",
            "--format",
            "sarif",
            "--output",
            p.to_str().unwrap(),
        ]);
        assert!(o.stdout.is_empty());
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    for format in ["json", "text", "junit", "github"] {
        let args = ["scan", FIX, "--no-config", "--format", format];
        assert_eq!(run(&args).stdout, run(&args).stdout, "{format}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Findings are rendered on all cores and spliced into the document: the bytes must be exactly
/// serde_json's own pretty layout of the same value, with many findings and with none.
#[test]
fn json_report_layout_is_serde_pretty_with_many_findings_and_none() {
    let empty = std::env::temp_dir().join(format!("ecrguard-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("main.tf"), "locals {}\n").unwrap();
    for (path, many) in [(FIX, true), (empty.to_str().unwrap(), false)] {
        let args = ["scan", path, "--no-config", "--format", "json"];
        let out = run(&args);
        let text = String::from_utf8(out.stdout).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let n = v["findings"].as_array().unwrap().len();
        if many {
            assert!(n > 10, "the fixture tree has many findings, got {n}");
        } else {
            assert_eq!(n, 0);
        }
        assert_eq!(
            text,
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap()),
            "{args:?}"
        );
    }
    std::fs::remove_dir_all(&empty).unwrap();
}

/// An output file that cannot be written is an error naming it, exit 2, in every format
/// (JSON is streamed to the file, the others are written whole).
#[test]
fn an_output_file_that_cannot_be_written_is_an_error() {
    let missing = std::env::temp_dir().join(format!("ecrguard-no-dir-{}", std::process::id()));
    let target = missing.join("report.out");
    for format in ["json", "text", "sarif"] {
        let o = run(&[
            "scan",
            FIX,
            "--no-config",
            "--format",
            format,
            "-o",
            target.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{format}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("cannot write `{}`", target.display())),
            "{format}: {err}"
        );
    }
    assert!(!missing.exists());
}

/// Nothing is skipped in silence: a directory or a template that cannot be read, and a
/// template that is not UTF-8, are errors naming the path (exit 2); the rest of the scan goes
/// on; a binary `.json` that is no template is not an error.
#[cfg(unix)]
#[test]
fn unreadable_and_undecodable_inputs_are_errors_and_the_scan_goes_on() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = std::env::temp_dir().join(format!("ecrguard-unreadable-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let write = |rel: &str, bytes: &[u8]| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    };
    write(
        "good/template.yaml",
        b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Repo:\n    Type: AWS::ECR::Repository\n",
    );
    write(
        "locked/template.yaml",
        b"AWSTemplateFormatVersion: '2010-09-09'\n",
    );
    let secret = write(
        "secret/template.yaml",
        b"AWSTemplateFormatVersion: '2010-09-09'\n",
    );
    let latin1 = write(
        "latin1/template.yaml",
        b"AWSTemplateFormatVersion: '2010-09-09'\n# caf\xe9\nResources: {}\n",
    );
    write("binary/data.json", &[0xff, 0xfe, 0x00, 0x01]);
    std::fs::set_permissions(dir.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    let bin = env!("CARGO_BIN_EXE_ecrguard");
    let args = [
        "scan",
        dir.to_str().unwrap(),
        "--no-config",
        "--format",
        "json",
    ];
    // Root reads everything: run the scan as `nobody` so that permissions mean something.
    let mut cmd = if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin]);
        c
    } else {
        Command::new(bin)
    };
    let out = cmd.args(args).stdin(Stdio::null()).output().unwrap();
    std::fs::set_permissions(dir.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(2), "{v:#}");
    let errors = field(&v, "errors", "message");
    assert_eq!(errors.len(), 3, "{errors:#?}");
    let has = |needle: &str| errors.iter().any(|e| e.contains(needle));
    assert!(
        has(&dir.join("locked").display().to_string()),
        "{errors:#?}"
    );
    assert!(
        has(&format!("cannot read `{}`", secret.display())),
        "{errors:#?}"
    );
    assert!(
        has(&format!(
            "`{}` is not UTF-8 text (line 2)",
            latin1.display()
        )),
        "{errors:#?}"
    );
    assert!(!has("data.json"), "{errors:#?}");
    // The readable template was still scanned.
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule_id"] == "ECR001" && f["resource"] == "Repo"),
        "{v:#}"
    );
}

/// The official SARIF 2.1.0 schema, from the `serde-sarif` package in the registry.
fn sarif_schema() -> Value {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(root())
        .output()
        .unwrap();
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let pkg = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .expect("serde-sarif is a dev-dependency");
    let dir = Path::new(pkg["manifest_path"].as_str().unwrap())
        .parent()
        .unwrap()
        .to_path_buf();
    serde_json::from_str(&std::fs::read_to_string(dir.join("src/schema.json")).unwrap()).unwrap()
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let o = run(&["scan", FIX, "--no-config", "--format", "sarif"]);
    let sarif: Value = serde_json::from_slice(&o.stdout).unwrap();
    let schema = sarif_schema();
    assert_eq!(
        schema["title"],
        "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    );
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // What GitHub code scanning needs.
    let run0 = &sarif["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(
        rules
            .iter()
            .all(|r| r["properties"]["security-severity"].is_string()
                && r["help"]["markdown"].is_string())
    );
    let results = run0["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .all(|r| r["partialFingerprints"]["ecrguardFingerprint/v2"].is_string())
    );
    assert!(
        results
            .iter()
            .any(|r| r["suppressions"][0]["kind"] == "inSource")
    );
    assert_eq!(
        run0["invocations"][0]["executionSuccessful"], false,
        "the broken fixture is an error"
    );
    // A deliberately broken log must fail, so the validation is real.
    let mut bad = sarif.clone();
    bad["runs"][0]["results"][0]["level"] = Value::String("fatal".into());
    assert!(!validator.is_valid(&bad));
}

#[test]
fn junit_and_github_formats() {
    let o = run(&[
        "scan",
        &format!("{FIX}/config"),
        "--no-config",
        "--format",
        "junit",
    ]);
    let xml = String::from_utf8(o.stdout).unwrap();
    assert!(
        xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ecrguard\""
        )
    );
    assert!(
        xml.contains("<testsuite name=\"ECR010 image-tag-mutable\" tests=\"1\" failures=\"1\">"),
        "{xml}"
    );
    assert!(xml.contains("<failure type=\"medium\""));
    assert_eq!(
        xml.matches("<testsuite ").count(),
        xml.matches("</testsuite>").count()
    );
    let o = run(&[
        "scan",
        &format!("{FIX}/broken"),
        "--no-config",
        "--format",
        "github",
    ]);
    let gh = String::from_utf8(o.stdout).unwrap();
    assert!(gh.lines().all(|l| l.starts_with("::")), "{gh}");
    assert!(gh.contains("::error file=crates/ecrguard/tests/fixtures/tf/broken/broken.tf,line=3,title=ecrguard scan error::"), "{gh}");
}

#[test]
fn text_output_snapshot() {
    let o = run(&["scan", &format!("{FIX}/suppressed"), "--no-config"]);
    insta::assert_snapshot!("scan_text_suppressed", String::from_utf8(o.stdout).unwrap());
}

#[test]
fn unknowns_are_listed_as_not_evaluated_never_as_findings() {
    let fixture = "crates/ecrguard_terraform/tests/fixtures/ECR002/good/principal_unknown.tf";
    let (v, code) = json(&[
        "scan",
        fixture,
        "--no-config",
        "--format",
        "json",
        "--select",
        "ECR002,ECR003",
    ]);
    assert_eq!(code, Some(0), "an unknown principal is not a finding");
    let reasons = field(&v, "not_evaluated", "reason");
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("`var.reader_arns` has no value")),
        "{reasons:?}"
    );
    let (v, _) = json(&[
        "scan",
        "crates/ecrguard_terraform/tests/fixtures/ECR010/good/unknown.tf",
        "--no-config",
        "--format",
        "json",
    ]);
    assert!(!codes(&v).contains(&"ECR010".to_string()));
    assert!(v["not_evaluated"].as_array().unwrap().iter().any(|n| {
        n["reason"]
            .as_str()
            .unwrap()
            .starts_with("image tag mutability is unknown")
    }));
}

#[test]
fn templates_that_do_not_parse_are_errors_with_lines_and_the_scan_goes_on() {
    let (v, code) = json(&[
        "scan",
        &format!("{FIX}/../cfn/broken"),
        "--no-config",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(2));
    let errors: Vec<(String, u64, String)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["file"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                e["line"].as_u64().unwrap(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!((errors[0].0.as_str(), errors[0].1), ("bad-json.json", 4));
    assert!(errors[0].2.contains("not valid JSON"));
    assert_eq!((errors[1].0.as_str(), errors[1].1), ("bad-tag.yaml", 6));
    assert!(errors[1].2.contains("unknown tag `!Refs`"));
    assert!(
        codes(&v).contains(&"ECR001".to_string()),
        "ok.yaml is still scanned: {:?}",
        codes(&v)
    );
    assert_eq!(
        v["summary"]["files"], 3,
        "the CI file is not a template and not an error"
    );
}

#[test]
fn a_branch_of_a_conditional_policy_names_its_resource_and_carries_its_assumptions() {
    let template = "crates/ecrguard_cloudformation/tests/fixtures/ECR002/bad/if_either_branch.yaml";
    let (v, code) = json(&["scan", template, "--no-config", "--format", "json"]);
    assert_eq!(code, Some(1));
    let public = findings_of(&v, "ECR002");
    // Only the open branch is public; the closed one grants the owner account.
    assert_eq!(public.len(), 1, "{v:#}");
    let f = public[0];
    assert_eq!(f["resource"], "Repo");
    assert_eq!(f["repository"], "Repo");
    assert_eq!(
        f["assumes"],
        serde_json::json!([{"condition": "Open", "holds": true}])
    );
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("repository `Repo` (when Open=true)"),
        "{f:#}"
    );
    // The fingerprint ecrguard gave this finding when the branch was part of the resource's
    // name (`Repo [Open=true]`): code-scanning alerts raised then are the same alerts.
    assert_eq!(f["fingerprint"], "1282c7eb4d428664");
    // The same with every other template of the fixtures scanned beside it, many of which
    // also declare a `Repo`: a logical id is named within its own template.
    let (all, _) = json(&[
        "scan",
        "crates/ecrguard_cloudformation/tests/fixtures",
        "--no-config",
        "--format",
        "json",
    ]);
    let beside: Vec<&Value> = findings_of(&all, "ECR002")
        .into_iter()
        .filter(|g| g["location"]["file"] == template)
        .collect();
    assert_eq!(beside.len(), 1, "{all:#}");
    assert_eq!(beside[0]["fingerprint"], f["fingerprint"]);
    // Findings that hold as written carry no `assumes`.
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule_id"] != "ECR002")
            .all(|f| f.get("assumes").is_none()),
        "{v:#}"
    );
    let (sarif, _) = json(&["scan", template, "--no-config", "--format", "sarif"]);
    let result = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "ECR002")
        .unwrap_or_else(|| panic!("{sarif:#}"));
    assert_eq!(
        result["properties"]["assumes"],
        serde_json::json!([{"condition": "Open", "holds": true}])
    );
}

#[test]
fn template_metadata_suppressions_and_parameters() {
    let dir = format!("{FIX}/../cfn/suppressed");
    // Not pinned: `Exposure` may be `open` (no `AllowedValues`), so the public branch is
    // analysed whatever the default, and found suppressed in source.
    let (v, _) = json(&["scan", &dir, "--no-config", "--format", "json"]);
    let public = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "ECR002")
        .unwrap_or_else(|| panic!("public when open: {v}"));
    assert_eq!(public["suppressed"]["kind"], "in-source");
    // Pinned closed: no public grant; the ECR002 suppression is unused, ECR013's has no reason.
    let (v, code) = json(&[
        "scan",
        &dir,
        "--no-config",
        "--format",
        "json",
        "--parameter",
        "Exposure=closed",
    ]);
    assert!(
        !codes(&v).contains(&"ECR002".to_string()),
        "{:?}",
        codes(&v)
    );
    assert!(codes(&v).contains(&"ECR090".to_string()));
    assert!(v["findings"].as_array().unwrap().iter().any(|f| {
        f["rule_id"] == "ECR092"
            && f["message"]
                .as_str()
                .unwrap()
                .contains("a reason is required")
    }));
    assert_eq!(code, Some(1));
    // Opened by a parameter: the public grant is found and suppressed in source.
    let (v, _) = json(&[
        "scan",
        &dir,
        "--no-config",
        "--format",
        "json",
        "--parameter",
        "Exposure=open",
    ]);
    let public = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "ECR002")
        .expect("public when open");
    assert_eq!(public["suppressed"]["kind"], "in-source");
    assert!(!codes(&v).contains(&"ECR090".to_string()));
    assert_eq!(
        run(&["scan", &dir, "--parameter", "novalue"]).status.code(),
        Some(2)
    );
    let (v, _) = json(&[
        "scan",
        &dir,
        "--no-config",
        "--format",
        "json",
        "--parameters-file",
        &format!("{FIX}/../cfn/params/open.json"),
    ]);
    assert!(
        codes(&v).contains(&"ECR002".to_string()),
        "the parameters file opens it too"
    );
}

/// The least-privilege policy that `ecrguard audit` documents is read through
/// `file("${path.module}/...")` from a relative scan root (the path Terraform users pass in
/// CI), analysed, and clean. A regression guard too: `path.module` once doubled the
/// relative directory and left the policy unknown.
#[test]
fn the_audit_role_example_is_read_and_clean() {
    let (v, code) = json(&[
        "scan",
        "examples/audit-role",
        "--no-config",
        "--format",
        "json",
    ]);
    assert_eq!(codes(&v), Vec::<String>::new(), "{v:#}");
    assert_eq!(
        v["not_evaluated"].as_array().map_or(0, Vec::len),
        0,
        "{v:#}"
    );
    assert_eq!(code, Some(0));
    let policy: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/audit-iam-policy.json")).unwrap(),
    )
    .unwrap();
    let actions: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|st| match &st["Action"] {
            Value::Array(a) => a.iter().map(|a| a.as_str().unwrap()).collect(),
            a => vec![a.as_str().unwrap()],
        })
        .collect();
    // Every call the collector makes is granted, and nothing that writes.
    for call in ecrguard_aws_calls() {
        assert!(
            actions.contains(&call.as_str()),
            "{call} missing from the documented policy"
        );
    }
    assert!(actions.iter().all(|a| {
        let verb = a.split_once(':').unwrap().1;
        ["Describe", "Get", "List"]
            .iter()
            .any(|v| verb.starts_with(v))
    }));
}

/// The actions `ecrguard audit` calls, as the collector names them in its source
/// (`"ecr:..."`, `"iam:..."`, `"sts:..."`), so that a new call without a documented
/// permission fails here.
fn ecrguard_aws_calls() -> Vec<String> {
    let src = std::fs::read_to_string(root().join("crates/ecrguard_aws/src/collect.rs")).unwrap();
    let mut calls: Vec<String> = ["ecr", "ecr-public", "iam", "sts", "eks"]
        .iter()
        .flat_map(|service| {
            src.split(&format!("\"{service}:"))
                .skip(1)
                .map(move |rest| {
                    let name: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
                    format!("{service}:{name}")
                })
                .collect::<Vec<_>>()
        })
        .collect();
    calls.sort();
    calls.dedup();
    assert!(calls.len() >= 13, "{calls:?}");
    calls
}

#[test]
fn findings_of_a_module_shared_by_several_roots_name_their_root() {
    let dir = format!("{FIX}/roots");
    let (v, code) = json(&["scan", &dir, "--format", "json"]);
    assert_eq!(code, Some(1));
    let public = findings_of(&v, "ECR002");
    let mut seen: Vec<(String, String)> = public
        .iter()
        .map(|f| {
            (
                f["root"].as_str().unwrap().to_string(),
                f["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                "examples/one".to_string(),
                "examples/one: module.registry.aws_ecr_repository_policy.this".to_string()
            ),
            (
                "examples/two".to_string(),
                "examples/two: module.registry.aws_ecr_repository_policy.this".to_string()
            ),
        ]
    );
    assert_ne!(public[0]["fingerprint"], public[1]["fingerprint"]);
    // SARIF carries the root as a property; text names it before the address.
    let o = run(&["scan", &dir, "--format", "sarif"]);
    let sarif: Value = serde_json::from_slice(&o.stdout).unwrap();
    let roots: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "ECR002")
        .map(|r| r["properties"]["root"].as_str().unwrap())
        .collect();
    assert_eq!(roots.len(), 2, "{roots:?}");
    let text = String::from_utf8(run(&["scan", &dir]).stdout).unwrap();
    assert!(text.contains("examples/two: module.registry"), "{text}");
    // One root scanned directly: no root field, as before.
    let (v, _) = json(&["scan", &format!("{dir}/examples/one"), "--format", "json"]);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f.get("root").is_none()),
        "{v}"
    );
}

#[test]
fn kubernetes_manifests_are_scanned_with_annotation_suppressions() {
    let dir = "crates/ecrguard/tests/fixtures/k8s";
    let (v, code) = json(&["scan", dir, "--format", "json"]);
    assert_eq!(code, Some(1), "{v}");
    let findings = v["findings"].as_array().unwrap();
    let of = |rule: &str| {
        findings
            .iter()
            .find(|f| f["rule_id"] == rule)
            .unwrap_or_else(|| panic!("{rule}: {v}"))
    };
    assert_eq!(of("ECR002")["resource"], "Repository/shop/web");
    // The policy text, on the line after `policy: |`.
    assert_eq!(of("ECR002")["location"]["start_line"], 13);
    assert_eq!(
        of("ECR013")["suppressed"]["reason"],
        "lifecycle managed by the platform team"
    );
    // An annotation without a reason does not suppress and is itself reported.
    assert!(of("ECR011")["suppressed"].is_null());
    assert!(
        findings.iter().any(|f| f["message"]
            .as_str()
            .unwrap_or("")
            .contains("a reason is required")),
        "{v}"
    );
    // The values file and the Deployment are not counted and not errors.
    assert_eq!(v["summary"]["files"], 1);
    assert_eq!(v["summary"]["errors"], 0);
}

/// Fingerprints survive what does not change a finding: every file of a Terraform module and
/// a CloudFormation template shifted down by lines of comments gives the same fingerprints;
/// the lines change.
#[test]
fn fingerprints_do_not_move_when_lines_do() {
    let dir = std::env::temp_dir().join(format!("ecrguard-fp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let tf = "resource \"aws_ecr_repository\" \"app\" { name = \"app\" }\n\
              resource \"aws_ecr_repository_policy\" \"app\" {\n  repository = aws_ecr_repository.app.name\n  \
              policy = jsonencode({ Version = \"2012-10-17\", Statement = [\n    \
              { Sid = \"Anyone\", Effect = \"Allow\", Principal = \"*\", Action = \"ecr:BatchGetImage\" },\n    \
              { Effect = \"Allow\", Principal = { AWS = \"arn:aws:iam::444455556666:root\" }, Action = \"ecr:*\" }] })\n}\n";
    let cfn = "Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: web\n      \
               RepositoryPolicyText:\n        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n            \
               Principal: '*'\n            Action: ecr:BatchGetImage\n";
    let scan = |shift: usize| {
        let pad = "# moved\n".repeat(shift);
        std::fs::write(dir.join("main.tf"), format!("{pad}{tf}")).unwrap();
        std::fs::write(dir.join("stack.yaml"), format!("{pad}{cfn}")).unwrap();
        let (v, code) = json(&[
            "scan",
            "--no-config",
            "--format",
            "json",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(code, Some(1));
        let mut out: Vec<(String, String, u64)> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule_id"].as_str().unwrap().to_string(),
                    f["fingerprint"].as_str().unwrap().to_string(),
                    f["location"]["start_line"].as_u64().unwrap(),
                )
            })
            .collect();
        out.sort();
        out
    };
    let before = scan(0);
    let after = scan(7);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(before.len() >= 4, "{before:?}");
    let prints = |v: &[(String, String, u64)]| {
        v.iter()
            .map(|f| (f.0.clone(), f.1.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(prints(&before), prints(&after));
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.2, b.2 + 7, "{b:?} {a:?}");
    }
    let unique: std::collections::BTreeSet<&String> = before.iter().map(|f| &f.1).collect();
    assert_eq!(
        unique.len(),
        before.len(),
        "every finding has its own fingerprint"
    );
}

/// Baselines: `--write-baseline` records today's findings (the run then passes); with
/// `--baseline` they do not count (reported as baselined), a new finding does, and an entry
/// whose finding is gone is reported (ECR093). A file that is not a baseline is an error.
#[test]
fn baselines_record_findings_and_report_what_changed() {
    let dir = std::env::temp_dir().join(format!("ecrguard-baseline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("code")).unwrap();
    let code = dir.join("code");
    let baseline = dir.join("baseline.json");
    let repo = |name: &str, public: bool| {
        let policy = if public {
            format!(
                "resource \"aws_ecr_repository_policy\" \"{name}\" {{\n  repository = aws_ecr_repository.{name}.name\n  \
                 policy = jsonencode({{ Version = \"2012-10-17\", Statement = [{{ Sid = \"Open\", Effect = \"Allow\", \
                 Principal = \"*\", Action = \"ecr:BatchGetImage\" }}] }})\n}}\n"
            )
        } else {
            String::new()
        };
        format!(
            "resource \"aws_ecr_repository\" \"{name}\" {{\n  name = \"{name}\"\n  image_tag_mutability = \"IMMUTABLE\"\n}}\n{policy}"
        )
    };
    std::fs::write(
        code.join("main.tf"),
        format!("{}{}", repo("old", true), repo("kept", true)),
    )
    .unwrap();
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "--no-config",
            "--format",
            "json",
            code.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        json(&args)
    };
    let (v, code_first) = scan(&["--write-baseline", baseline.to_str().unwrap()]);
    assert_eq!(code_first, Some(0), "what is recorded does not count: {v}");
    let recorded: Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    assert_eq!(recorded["version"], 1);
    let entries = recorded["findings"].as_array().unwrap();
    assert_eq!(entries.len(), v["findings"].as_array().unwrap().len());
    assert!(
        entries
            .iter()
            .any(|e| e["rule_id"] == "ECR002" && e["resource"] == "aws_ecr_repository_policy.old")
    );

    // Unchanged code: everything is baselined.
    let (v, status) = scan(&["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(status, Some(0), "{v}");
    assert_eq!(v["summary"]["findings"], 0);
    assert_eq!(v["summary"]["baselined"], entries.len());
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["suppressed"]["kind"] == "baseline")
    );

    // `old` fixed, `new` added (and the file shifted down): the new finding counts, the
    // entry of the fixed one is reported.
    std::fs::write(
        code.join("main.tf"),
        format!(
            "# moved\n\n{}{}{}",
            repo("old", false),
            repo("kept", true),
            repo("new", true)
        ),
    )
    .unwrap();
    let (v, status) = scan(&["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(status, Some(1));
    let active: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["suppressed"].is_null())
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        active.contains(&("ECR002".into(), "aws_ecr_repository_policy.new".into())),
        "{active:?}"
    );
    assert!(
        !active.iter().any(|(_, r)| r.contains(".kept")),
        "kept is still baselined: {active:?}"
    );
    let stale: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "ECR093")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        stale
            .iter()
            .any(|m| m.contains("ECR002 on `aws_ecr_repository_policy.old`")),
        "{stale:?}"
    );

    // Not a baseline: an error (exit 2), never an empty baseline.
    std::fs::write(&baseline, "{\"findings\": []}").unwrap();
    let o = run(&[
        "scan",
        "--no-config",
        code.to_str().unwrap(),
        "--baseline",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--baseline: "),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Other scanners' skips, on request: each suppresses the ecrguard rule its check maps to,
/// with the peer's id shown as the reason; a skip of a check ecrguard does not map is left
/// alone with a note; without the flag nothing changes.
#[test]
fn peer_skips_are_honoured_only_when_asked() {
    let dir = std::env::temp_dir().join(format!("ecrguard-peer-skips-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("main.tf"),
        r#"resource "aws_ecr_repository" "mirror" {
  #checkov:skip=CKV_AWS_51:tags are rewritten by the mirror job
  name                 = "mirror"
  image_tag_mutability = "MUTABLE"
}

#trivy:ignore:AVD-AWS-0032:exp:2099-01-01
resource "aws_ecr_repository_policy" "mirror" {
  repository = aws_ecr_repository.mirror.name
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Principal = "*", Action = "ecr:BatchGetImage" }] })
}

resource "aws_ecr_repository" "app" {
  name = "app"
  # kics-scan ignore-line
  image_tag_mutability = "MUTABLE"
  #checkov:skip=CKV_AWS_999:not ours
}
"#,
    )
    .unwrap();
    let run_with = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "--no-config",
            "--format",
            "json",
            dir.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        json(&args).0
    };
    let suppressed = |v: &Value, rule: &str, resource: &str| -> Option<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == rule && f["resource"] == resource)
            .unwrap_or_else(|| panic!("{rule} on {resource}: {v}"))["suppressed"]["reason"]
            .as_str()
            .map(str::to_string)
    };
    let plain = run_with(&[]);
    assert_eq!(
        suppressed(&plain, "ECR010", "aws_ecr_repository.mirror"),
        None
    );
    assert_eq!(
        suppressed(&plain, "ECR002", "aws_ecr_repository_policy.mirror"),
        None
    );
    assert!(plain.get("notes").is_none());

    let honoured = run_with(&["--honor-peer-skips"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        suppressed(&honoured, "ECR010", "aws_ecr_repository.mirror").as_deref(),
        Some(
            "skipped for another scanner: `checkov:skip=CKV_AWS_51` (tags are rewritten by the mirror job)"
        )
    );
    assert_eq!(
        suppressed(&honoured, "ECR002", "aws_ecr_repository_policy.mirror").as_deref(),
        Some("skipped for another scanner: `trivy:ignore:AVD-AWS-0032`")
    );
    assert_eq!(
        suppressed(&honoured, "ECR010", "aws_ecr_repository.app").as_deref(),
        Some("skipped for another scanner: `kics-scan ignore-line`")
    );
    // A rule the skip does not map to is still reported.
    assert_eq!(
        suppressed(&honoured, "ECR013", "aws_ecr_repository.mirror"),
        None
    );
    let notes: Vec<&str> = honoured["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains(
            "main.tf:17: `checkov:skip=CKV_AWS_999` names no check ecrguard maps; left alone"
        ),
        "{notes:?}"
    );
}

/// `--compliance FRAMEWORK` runs only the rules the framework maps and groups the findings
/// by its controls; every finding carries its rule's mappings.
#[test]
fn compliance_runs_a_framework_and_groups_by_control() {
    let (all, _) = json(&[
        "scan",
        "--no-config",
        "--format",
        "json",
        "examples/terraform",
    ]);
    let public = all["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "ECR002")
        .unwrap();
    assert!(
        public["compliance"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "AWS WA SEC03-BP07")
    );

    let (v, _) = json(&[
        "scan",
        "--no-config",
        "--format",
        "json",
        "--compliance",
        "fsbp",
        "examples/terraform",
    ]);
    let codes: std::collections::BTreeSet<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .filter(|c| !c.starts_with("ECR09"))
        .collect();
    assert!(!codes.is_empty());
    assert!(
        codes
            .iter()
            .all(|c| ["ECR010", "ECR011", "ECR012", "ECR013"].contains(c)),
        "{codes:?}"
    );
    assert_eq!(v["compliance"]["framework"], "fsbp");
    let controls: Vec<&str> = v["compliance"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["control"].as_str().unwrap())
        .collect();
    assert_eq!(controls, ["ECR.1", "ECR.2", "ECR.3", "ECR.5"]);
    let o = run(&[
        "scan",
        "--no-config",
        "--compliance",
        "pci",
        "examples/terraform",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no framework `pci`"));
}

/// The formats for other systems, end to end: ASFF (a JSON array Security Hub takes, the
/// account from `--owner-account`), OCSF (one Compliance Finding per line), Markdown, HTML.
#[test]
fn asff_ocsf_markdown_and_html_are_written_for_every_finding() {
    let (v, _) = json(&[
        "scan",
        "--no-config",
        "--format",
        "json",
        "examples/terraform",
    ]);
    let n = v["findings"].as_array().unwrap().len();
    let out = |format: &str| {
        let o = run(&[
            "scan",
            "--no-config",
            "--owner-account",
            "111122223333",
            "--format",
            format,
            "examples/terraform",
        ]);
        assert_eq!(o.status.code(), Some(1), "{format}");
        String::from_utf8(o.stdout).unwrap()
    };
    let asff: Value = serde_json::from_str(&out("asff")).unwrap();
    let asff = asff.as_array().unwrap();
    assert_eq!(asff.len(), n);
    assert!(
        asff.iter()
            .all(|f| f["AwsAccountId"] == "111122223333" && f["SchemaVersion"] == "2018-10-08")
    );
    let ids: std::collections::BTreeSet<&str> =
        asff.iter().map(|f| f["Id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), n, "ids are unique");
    let ocsf = out("ocsf");
    assert_eq!(ocsf.lines().count(), n);
    for line in ocsf.lines() {
        let f: Value = serde_json::from_str(line).unwrap();
        assert_eq!(f["class_uid"], 2003);
    }
    assert!(out("markdown").starts_with("## ecrguard: "));
    let html = out("html");
    assert!(html.starts_with("<!DOCTYPE html>") && html.matches("class=\"finding\"").count() == n);
}
