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
