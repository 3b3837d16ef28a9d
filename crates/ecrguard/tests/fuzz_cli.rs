//! Fuzzing through the binary on stable Rust: `ecrguard.toml` files and Terraform and
//! CloudFormation inputs, mutated, must end with exit 0, 1 or 2, never a panic or a signal,
//! and the same output twice.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scan(dir: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_ecrguard"))
        .arg("scan")
        .arg(dir)
        .args(extra)
        .args(["--format", "json"])
        .env("ECRGUARD_TODAY", "2026-11-24")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        matches!(o.status.code(), Some(0..=2)),
        "exit {:?}: {err}",
        o.status
    );
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).to_string() + &err,
    )
}

#[test]
fn mutated_configs_end_with_a_clear_exit() {
    let mut seeds = ecrguard_fuzz::seeds(&root().join("examples"), &|p| {
        p.extension().is_some_and(|e| e == "toml")
    });
    seeds.extend(ecrguard_fuzz::seeds(
        &root().join("crates/ecrguard/tests/fixtures"),
        &|p| p.extension().is_some_and(|e| e == "toml"),
    ));
    let dir = std::env::temp_dir().join(format!("ecrguard-fuzz-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("main.tf"),
        "resource \"aws_ecr_repository\" \"r\" { name = \"r\" }\n",
    )
    .unwrap();
    let config = dir.join("ecrguard.toml");
    ecrguard_fuzz::run("config", &seeds, ecrguard_fuzz::cases(60), &|input| {
        std::fs::write(&config, input).unwrap();
        let first = scan(&dir, &[]);
        assert_eq!(first, scan(&dir, &[]), "not deterministic");
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mutated_code_ends_with_a_clear_exit() {
    let mut seeds = ecrguard_fuzz::seeds(&root().join("examples/terraform"), &|p| {
        p.extension().is_some_and(|e| e == "tf")
    });
    seeds.extend(ecrguard_fuzz::seeds(
        &root().join("crates/ecrguard_cloudformation/tests/fixtures"),
        &|p| p.extension().is_some_and(|e| e == "yaml"),
    ));
    let dir = std::env::temp_dir().join(format!("ecrguard-fuzz-code-{}", std::process::id()));
    let counter = std::cell::Cell::new(0usize);
    ecrguard_fuzz::run("code", &seeds, ecrguard_fuzz::cases(60), &|input| {
        let n = counter.get();
        counter.set(n + 1);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let name = if input.contains("AWSTemplateFormatVersion") || input.contains("Resources:") {
            "stack.yaml"
        } else {
            "main.tf"
        };
        std::fs::write(dir.join(name), input).unwrap();
        let (code, _) = scan(&dir, &["--no-config"]);
        if n % 10 == 0 {
            assert_eq!(code, scan(&dir, &["--no-config"]).0);
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// The newer inputs, mutated: baseline files (`--baseline`) and other scanners' skip comments
/// (`--honor-peer-skips`) end with exit 0, 1 or 2 and the same output twice.
#[test]
fn mutated_baselines_and_peer_skips_end_with_a_clear_exit() {
    let dir = std::env::temp_dir().join(format!("ecrguard-fuzz-baseline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("code")).unwrap();
    for entry in std::fs::read_dir(root().join("examples/terraform")).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, dir.join("code").join(p.file_name().unwrap())).unwrap();
        }
    }
    let baseline = dir.join("baseline.json");
    scan(
        &dir.join("code"),
        &[
            "--no-config",
            "--write-baseline",
            baseline.to_str().unwrap(),
        ],
    );
    let skips = "resource \"aws_ecr_repository\" \"m\" {\n  #checkov:skip=CKV_AWS_51:mirror\n  name = \"m\"\n  \
                 image_tag_mutability = \"MUTABLE\"\n}\n#trivy:ignore:AVD-AWS-0032:exp:2099-01-01\n\
                 # kics-scan ignore-line\n#tfsec:ignore:aws-ecr-enable-image-scans\n# kics-scan disable=9630336b-3fed-4096-8173-b9afdfe346a7\n";
    let seeds = vec![
        (
            PathBuf::from("baseline.json"),
            std::fs::read_to_string(&baseline).unwrap(),
        ),
        (PathBuf::from("skips.tf"), skips.to_string()),
    ];
    let code = dir.join("code");
    ecrguard_fuzz::run(
        "baseline-and-skips",
        &seeds,
        ecrguard_fuzz::cases(40),
        &|input| {
            let as_baseline = input.trim_start().starts_with('{');
            if as_baseline {
                std::fs::write(&baseline, input).unwrap();
                let args = ["--no-config", "--baseline", baseline.to_str().unwrap()];
                let first = scan(&code, &args);
                assert_eq!(first, scan(&code, &args), "not deterministic");
            } else {
                std::fs::write(code.join("skips.tf"), input).unwrap();
                let args = ["--no-config", "--honor-peer-skips"];
                let first = scan(&code, &args);
                assert_eq!(first, scan(&code, &args), "not deterministic");
            }
        },
    );
    let _ = std::fs::remove_dir_all(&dir);
}
