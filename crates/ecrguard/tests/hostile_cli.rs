//! Hostile input end to end, through the binary: what a pull request, an event or a file
//! named on the command line may hold. Each must end with exit 0, 1 or 2, a clear error that
//! names the input, and nothing read or printed that the input should not reach.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ecrguard(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecrguard"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("ECRGUARD_TODAY", "2026-11-24")
        .env("ECRGUARD_TEST_SECRET", "SECRET-IN-THE-ENVIRONMENT")
        // Nothing here may reach AWS: any call would go to a closed local port.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "ecrguard-hostile-cli-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn named_paths_that_cannot_be_scanned_are_errors() {
    let d = temp("named");
    std::fs::write(
        d.join("bare.json"),
        r#"{"Version":"2012-10-17","Statement":[]}"#,
    )
    .unwrap();
    std::fs::write(d.join("main.tf.txt"), "resource \"x\" \"y\" {}\n").unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(d.join("silent.json"))
            .status()
            .unwrap()
            .success()
    );
    for (arg, needle) in [
        ("/dev/zero", "is a device"),
        ("bare.json", "ecrguard check-policy bare.json"),
        ("main.tf.txt", "not a format ecrguard scans"),
        // A named pipe with no writer: read to its (empty) end, never waited on.
        ("silent.json", "not a format ecrguard scans"),
    ] {
        let o = ecrguard(&["scan", arg, "--no-config"], &d);
        assert_eq!(o.status.code(), Some(2), "{arg}: {}", text(&o));
        assert!(text(&o).contains(needle), "{arg}: {}", text(&o));
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_plan_through_a_pipe_is_scanned() {
    let d = temp("pipe");
    let fifo = d.join("plan-pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let plan =
        std::fs::read(root().join("crates/ecrguard_terraform/tests/plans/plan.json")).unwrap();
    // As with `<(terraform show -json plan)`, the writer holds the pipe before the scan
    // opens it (read-write, so that this open does not wait for a reader).
    let mut writer = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_ecrguard"))
        .args(["scan", "--no-config", "--format", "json"])
        .arg(&fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    {
        use std::io::Write as _;
        writer.write_all(&plan).unwrap();
    }
    drop(writer);
    let o = child.wait_with_output().unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!v["findings"].as_array().unwrap().is_empty());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_secret_of_the_machine_never_reaches_any_output() {
    let d = temp("secret");
    std::fs::write(
        d.join("main.tf"),
        r#"
resource "aws_ecr_repository" "r" { name = "r" }
resource "aws_ecr_repository_policy" "p" {
  repository = aws_ecr_repository.r.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Sid = file("/proc/self/environ"), Effect = "Allow", Principal = "*", Action = "ecr:BatchGetImage" }]
  })
}
"#,
    )
    .unwrap();
    for format in ["text", "json", "sarif", "github", "junit"] {
        let o = ecrguard(&["scan", ".", "--no-config", "--format", format], &d);
        assert_eq!(o.status.code(), Some(1), "{format}: {}", text(&o));
        assert!(
            !text(&o).contains("SECRET-IN-THE-ENVIRONMENT"),
            "{format} leaked"
        );
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn control_characters_in_inputs_are_escaped_in_text() {
    let d = temp("controls");
    std::fs::write(
        d.join("main.tf"),
        "resource \"aws_ecr_repository\" \"r\" { name = \"r\" }\nresource \"aws_ecr_repository_policy\" \"p\" {\n  repository = aws_ecr_repository.r.name\n  policy = jsonencode({\n    Version = \"2012-10-17\"\n    Statement = [{ Sid = \"x\\u001b[2J\\nhigh[ECR000] forged\", Effect = \"Allow\", Principal = \"*\", Action = \"ecr:BatchGetImage\" }]\n  })\n}\n",
    )
    .unwrap();
    let o = ecrguard(&["scan", ".", "--no-config"], &d);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(!out.lines().any(|l| l.starts_with("high[ECR000]")), "{out}");
    assert!(out.contains("\\u{1b}"), "{out}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn endless_or_special_inputs_to_every_command_end() {
    let d = temp("endless");
    let cases: &[&[&str]] = &[
        &["scan", ".", "--config", "/dev/zero"],
        &["scan", ".", "--no-config", "--var-file", "/dev/zero"],
        &["scan", ".", "--no-config", "--parameters-file", "/dev/zero"],
        &["restore", "/dev/zero"],
        &["handle-event", "/dev/zero"],
        &["check-policy", "/dev/zero"],
    ];
    std::fs::write(
        d.join("main.tf"),
        "resource \"aws_ecr_repository\" \"r\" { name = \"r\" }\n",
    )
    .unwrap();
    for args in cases {
        let o = ecrguard(args, &d);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains("/dev/zero"), "{args:?}: {}", text(&o));
    }
    // `handle-event -` reading an endless standard input stops at its budget.
    let o = Command::new(env!("CARGO_BIN_EXE_ecrguard"))
        .args(["handle-event", "-"])
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("budget"), "{}", text(&o));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_suppression_inside_a_string_or_heredoc_suppresses_nothing() {
    let d = temp("strings");
    std::fs::write(
        d.join("main.tf"),
        r##"
resource "aws_ecr_repository" "r" { name = "r" }
resource "aws_ecr_repository_policy" "p" {
  repository = aws_ecr_repository.r.name
  policy = <<EOF
{"Version": "2012-10-17", "Id": "# ecrguard:ignore[ECR002] hidden in a heredoc", "Statement": [
 {"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]}
EOF
}
resource "aws_ecr_repository" "s" { name = "s # ecrguard:ignore[ECR010] hidden in a string" }
"##,
    )
    .unwrap();
    let o = ecrguard(&["scan", ".", "--no-config", "--format", "json"], &d);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let active = |code: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule_id"] == code && f["suppressed"].is_null())
    };
    assert!(active("ECR002"), "{v:#}");
    assert!(active("ECR010"), "{v:#}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn impossible_dates_and_malformed_ids_are_refused_everywhere() {
    let d = temp("dates");
    std::fs::write(d.join("main.tf"), "# ecrguard:ignore[ECR010] reviewed until=2027-02-30\nresource \"aws_ecr_repository\" \"r\" { name = \"r\" }\n").unwrap();
    let o = ecrguard(&["scan", ".", "--no-config", "--format", "json"], &d);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let invalid = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_name"] == "suppression-invalid")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert!(
        invalid["message"].as_str().unwrap().contains("2027-02-30"),
        "{v:#}"
    );

    std::fs::write(
        d.join("ecrguard.toml"),
        "[[suppress]]\nrule = \"ECR010\"\nresource = \"*\"\nreason = \"r\"\nexpires = \"2027-02-30\"\n",
    )
    .unwrap();
    let o = ecrguard(&["scan", "."], &d);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("ecrguard.toml:5"), "{}", text(&o));

    std::fs::write(
        d.join("ecrguard.toml"),
        "[enforce]\n[[enforce.approve]]\nname = \"Team/[app]\"\nreason = \"r\"\n",
    )
    .unwrap();
    let o = ecrguard(
        &[
            "enforce",
            "--config",
            "ecrguard.toml",
            "--regions",
            "us-east-1",
        ],
        &d,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("can match no repository"), "{}", text(&o));

    for args in [
        &["scan", ".", "--no-config", "--trusted-org", "x"][..],
        &["check-policy", "-", "--trusted-org", "o-short"][..],
        &["scan", ".", "--no-config", "--trusted-account", "12345"][..],
    ] {
        let o = ecrguard(args, &d);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains("--trusted-"), "{args:?}: {}", text(&o));
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_broken_plan_is_one_error_and_one_file() {
    let d = temp("plan-once");
    std::fs::write(
        d.join("plan.json"),
        "{\"format_version\": \"1.2\", \"planned_values\": {\"AWSTemplateFormatVersion\": \"2010-09-09\", \"Resources\": {\"R\": {\"Type\": \"AWS::ECR::Repository\"",
    )
    .unwrap();
    let o = ecrguard(&["scan", ".", "--no-config", "--format", "json"], &d);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(v["errors"].as_array().unwrap().len(), 1, "{v:#}");
    assert_eq!(v["summary"]["files"], 1, "{v:#}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn strict_makes_anything_not_evaluated_fail_the_run() {
    let d = temp("strict");
    std::fs::write(
        d.join("main.tf"),
        "module \"ecr\" {\n  source = \"terraform-aws-modules/ecr/aws\"\n}\nresource \"aws_ecr_repository\" \"r\" {\n  name = \"r\"\n  image_tag_mutability = \"IMMUTABLE\"\n}\n",
    )
    .unwrap();
    let lax = ecrguard(&["scan", ".", "--no-config", "--fail-on", "high"], &d);
    assert_eq!(lax.status.code(), Some(0), "{}", text(&lax));
    let strict = ecrguard(
        &["scan", ".", "--no-config", "--fail-on", "high", "--strict"],
        &d,
    );
    assert_eq!(strict.status.code(), Some(2), "{}", text(&strict));
    let out = String::from_utf8_lossy(&strict.stdout);
    assert!(out.starts_with("not evaluated (--strict"), "{out}");
    assert!(out.contains("module.ecr"), "{out}");
    std::fs::write(
        d.join("ecrguard.toml"),
        "strict = true\nfail-on = \"high\"\n",
    )
    .unwrap();
    assert_eq!(ecrguard(&["scan", "."], &d).status.code(), Some(2));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn errors_about_a_whole_file_name_the_file_in_every_format() {
    let d = temp("errfile");
    std::fs::write(d.join("notes.tf.txt"), "x\n").unwrap();
    let o = ecrguard(
        &["scan", "notes.tf.txt", "--no-config", "--format", "json"],
        &d,
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["errors"][0]["file"], "notes.tf.txt", "{v:#}");
    assert!(v["errors"][0]["line"].is_null(), "{v:#}");
    let o = ecrguard(
        &["scan", "notes.tf.txt", "--no-config", "--format", "sarif"],
        &d,
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let n = &v["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(
        n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "notes.tf.txt",
        "{v:#}"
    );
    assert!(
        n["locations"][0]["physicalLocation"]["region"].is_null(),
        "{v:#}"
    );
    let o = ecrguard(
        &["scan", "notes.tf.txt", "--no-config", "--format", "github"],
        &d,
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("::error file=notes.tf.txt,title="));
    std::fs::remove_dir_all(&d).unwrap();
}

/// `AWS_MAX_ATTEMPTS` (the SDKs' standard variable, read by every AWS command) set to
/// something that is not a number of attempts stops the command before any call, exit 2,
/// naming what was wrong; a flag takes its place where there is one.
#[test]
fn a_bad_aws_max_attempts_stops_every_aws_command() {
    let d = temp("attempts");
    std::fs::write(d.join("event.json"), "{}").unwrap();
    for bad in ["0", "many", "101"] {
        let run = |args: &[&str]| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecrguard"));
            cmd.args(args)
                .current_dir(&d)
                .env("NO_COLOR", "1")
                .env("AWS_MAX_ATTEMPTS", bad)
                .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .env("AWS_REGION", "us-east-1")
                .stdin(Stdio::null());
            cmd.output().unwrap()
        };
        for args in [
            &["audit", "--regions", "us-east-1"][..],
            &["enforce", "--regions", "us-east-1"][..],
            &["handle-event", "event.json"][..],
        ] {
            let o = run(args);
            let t = text(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?} {bad}: {t}");
            assert!(
                t.contains(&format!(
                    "`{bad}` is not a number of attempts from 1 to 100"
                )),
                "{args:?} {bad}: {t}"
            );
            assert!(!t.contains("panicked"), "{t}");
        }
        // The flag wins over the variable: the audit runs (and fails to reach the closed
        // port, an incomplete result) instead of refusing its settings.
        let o = run(&[
            "audit",
            "--regions",
            "us-east-1",
            "--max-attempts",
            "1",
            "--format",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("a JSON report");
        assert!(!v["errors"].as_array().unwrap().is_empty());
    }
    let _ = std::fs::remove_dir_all(&d);
}
