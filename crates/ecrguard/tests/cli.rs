//! End-to-end tests of the `ecrguard` binary: output snapshots, exit codes, bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecrguard"));
    cmd.args(args).current_dir(root()).env("NO_COLOR", "1");
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("binary runs");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // The binary may stop reading early (input too large); that is fine.
        let _ = pipe.write_all(input);
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn text_output_of_the_example() {
    let o = run(
        &[
            "check-policy",
            "examples/public-policy.json",
            "--owner-account",
            "111111111111",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    insta::assert_snapshot!("text_public_policy", stdout(&o));
}

#[test]
fn json_output_of_the_example() {
    let o = run(
        &[
            "check-policy",
            "examples/public-policy.json",
            "--owner-account",
            "111111111111",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["verdict"], "public");
    assert_eq!(
        v["external"],
        serde_json::json!(["*", "222222222222", "service:lambda.amazonaws.com"])
    );
    assert_eq!(v["access"]["*"], serde_json::json!(["read"]));
    insta::assert_snapshot!("json_public_policy", stdout(&o));
}

#[test]
fn output_is_byte_identical_across_runs() {
    for format in ["text", "json"] {
        let args = [
            "check-policy",
            "examples/public-policy.json",
            "--format",
            format,
        ];
        assert_eq!(run(&args, None).stdout, run(&args, None).stdout, "{format}");
    }
}

#[test]
fn get_repository_policy_output_is_unwrapped() {
    let o = run(
        &[
            "check-policy",
            "examples/get-repository-policy-output.json",
            "--format",
            "json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["verdict"], "invalid");
    assert_eq!(
        v["owner_account"], "111111111111",
        "registryId is the owner"
    );
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["ECR002", "ECR008", "ECR008"]);
    assert_eq!(
        v["findings"][1]["location"]["start_line"], 7,
        "lines point into the decoded policyText"
    );
    insta::assert_snapshot!(
        "text_get_repository_policy",
        stdout(&run(
            &["check-policy", "examples/get-repository-policy-output.json"],
            None
        ))
    );
}

#[test]
fn clean_policy_exits_zero() {
    let o = run(
        &[
            "check-policy",
            "examples/org-scoped-policy.json",
            "--owner-account",
            "111111111111",
            "--trusted-org",
            "o-abc123def4",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).starts_with("verdict: cross-account\n"));
    insta::assert_snapshot!("text_org_scoped", stdout(&o));
}

#[test]
fn deny_fence_is_explained() {
    let o = run(
        &[
            "check-policy",
            "crates/ecrguard/tests/fixtures/deny-fenced.json",
            "--owner-account",
            "111111111111",
        ],
        None,
    );
    let out = stdout(&o);
    assert!(out.contains("narrowed by Deny `OrgOnly`"), "{out}");
    assert!(out.contains("organization `o-abc123def4`"), "{out}");
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn fail_on_threshold() {
    let base = [
        "check-policy",
        "examples/org-scoped-policy.json",
        "--owner-account",
        "111111111111",
    ];
    // Untrusted org: ECR003 at medium.
    assert_eq!(run(&base, None).status.code(), Some(1));
    assert_eq!(
        run(&[&base[..], &["--fail-on", "high"]].concat(), None)
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(&[&base[..], &["--fail-on", "never"]].concat(), None)
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn stdin_and_dash() {
    let policy = br#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"ecr:BatchGetImage"}}"#;
    for args in [
        &["check-policy", "--owner-account", "111111111111"][..],
        &["check-policy", "-", "--owner-account", "111111111111"],
    ] {
        let o = run(args, Some(policy));
        assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
        assert!(stdout(&o).starts_with("verdict: private"));
    }
}

#[test]
fn not_json_is_an_error_with_a_line() {
    let o = run(
        &["check-policy", "--format", "json"],
        Some(b"{\n  \"Statement\": [\n    {\"Effect\": \"Allow\",}\n  ]\n}\n"),
    );
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["verdict"], "invalid");
    assert_eq!(v["errors"][0]["line"], 3);
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
}

#[test]
fn json_that_is_not_an_object_is_an_error() {
    for input in [&b"[]"[..], b"\"policy\"", b"42", b"null"] {
        let o = run(&["check-policy"], Some(input));
        assert_eq!(
            o.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(input)
        );
        assert!(
            stdout(&o).contains("a policy must be a JSON object"),
            "{}",
            stdout(&o)
        );
    }
}

#[test]
fn huge_input_is_refused_without_reading_it_all() {
    let big = vec![b' '; 50 * 1024 * 1024];
    let o = run(&["check-policy"], Some(&big));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("larger than 1 MiB"), "{}", stderr(&o));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    let o = run(&["check-policy"], Some(deep.as_bytes()));
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("nests deeper than"), "{}", stdout(&o));
    let deep_obj = "{\"a\":".repeat(100_000) + "1" + &"}".repeat(100_000);
    assert_eq!(
        run(&["check-policy"], Some(deep_obj.as_bytes()))
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn non_utf8_and_missing_files_are_errors() {
    let o = run(&["check-policy"], Some(&[0xff, 0xfe, b'{', b'}']));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not UTF-8"));
    let o = run(&["check-policy", "does/not/exist.json"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read") && stderr(&o).contains("no such file"));
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(
        run(&["check-policy", "--format", "yaml"], None)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(
            &[
                "check-policy",
                "examples/public-policy.json",
                "--owner-account",
                "12"
            ],
            None
        )
        .status
        .code(),
        Some(2)
    );
    assert_eq!(run(&["no-such-command"], None).status.code(), Some(2));
}

#[test]
fn rules_table_and_rule_docs() {
    let o = run(&["rules"], None);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("rules_table", stdout(&o));
    let o = run(&["rule", "ecr002"], None);
    assert!(stdout(&o).starts_with("# ECR002 repository-policy-public\n"));
    assert!(stdout(&o).contains("## How to fix"));
    let by_name = run(&["rule", "repository-policy-public"], None);
    assert_eq!(o.stdout, by_name.stdout);
    let o = run(&["rule", "ECR999"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no rule `ECR999`"));
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&run(&["rules", "--format", "json"], None))).unwrap();
    assert_eq!(v["rules"].as_array().unwrap().len(), 20);
}

#[test]
fn closed_pipe_is_not_an_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecrguard"))
        .args(["rules"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// `check-policy` reads `ecrguard.toml` from the working directory like every command: its
/// trusted accounts, severities and `fail-on` apply; flags still win.
#[test]
fn check_policy_applies_the_config_like_every_command() {
    let dir = std::env::temp_dir().join(format!("ecrguard-check-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Partner","Effect":"Allow",
        "Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"ecr:BatchGetImage"}]}"#;
    let check = |config: Option<&str>, args: &[&str]| {
        match config {
            Some(c) => std::fs::write(dir.join("ecrguard.toml"), c).unwrap(),
            None => {
                let _ = std::fs::remove_file(dir.join("ecrguard.toml"));
            }
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecrguard"));
        cmd.args(["check-policy", "-", "--owner-account", "111122223333"])
            .args(args)
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(policy.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap().status.code()
    };
    assert_eq!(check(None, &[]), Some(1), "cross-account");
    assert_eq!(
        check(Some("trusted-accounts = [\"444455556666\"]\n"), &[]),
        Some(0),
        "trusted in the config"
    );
    let lowered = "fail-on = \"medium\"\n[severity]\nECR003 = \"low\"\n";
    assert_eq!(
        check(Some(lowered), &[]),
        Some(0),
        "below the config's fail-on"
    );
    assert_eq!(
        check(Some(lowered), &["--fail-on", "low"]),
        Some(1),
        "the flag wins"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
