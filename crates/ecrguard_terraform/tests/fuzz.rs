//! Fuzzing the Terraform source on stable Rust: the fixtures, mutated (see `ecrguard_fuzz`),
//! through the whole scan (parse, evaluate, adapt). Properties: no panic (an isolated panic
//! would show as an "internal error"), and the same result twice. `ECRGUARD_FUZZ_CASES` runs
//! longer (docs/fuzzing.md).

use ecrguard_terraform::{TerraformOptions, scan};
use std::path::Path;

fn result_of(dir: &Path) -> String {
    let s = scan(&[dir.to_path_buf()], &TerraformOptions::default());
    for e in &s.errors {
        assert!(!e.message.contains("internal error"), "{}", e.message);
    }
    format!(
        "{:?}\n{:?}\n{:?}",
        s.state
            .repositories
            .iter()
            .map(|r| r.id.label().to_string())
            .collect::<Vec<_>>(),
        s.errors,
        s.not_evaluated
    )
}

#[test]
fn mutated_terraform_never_panics_and_is_deterministic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let seeds = ecrguard_fuzz::seeds(&root, &|p| {
        let s = p.to_string_lossy();
        s.ends_with(".tf") || s.ends_with(".tf.json") || s.contains("/plans/")
    });
    let dir = std::env::temp_dir().join(format!("ecrguard-fuzz-tf-{}", std::process::id()));
    let counter = std::cell::Cell::new(0usize);
    ecrguard_fuzz::run("terraform", &seeds, ecrguard_fuzz::cases(300), &|input| {
        let n = counter.get();
        counter.set(n + 1);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // The same text as HCL, as Terraform JSON, and as a plan, in turn.
        let name = ["main.tf", "main.tf.json", "plan.json"][n % 3];
        std::fs::write(dir.join(name), input).unwrap();
        let first = result_of(&dir);
        if n % 10 == 0 {
            assert_eq!(first, result_of(&dir), "not deterministic");
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Terragrunt configurations, mutated, as a unit whose `include` and `source` point at a
/// module and a root configuration beside it: no panic, deterministic.
#[test]
fn mutated_terragrunt_never_panics_and_is_deterministic() {
    let seeds: Vec<(std::path::PathBuf, String)> = vec![
        (
            "unit".into(),
            "include \"root\" {\n  path   = find_in_parent_folders(\"root.hcl\")\n  expose = true\n}\nterraform {\n  source = \"../modules//ecr\"\n}\nlocals {\n  env  = read_terragrunt_config(\"env.hcl\")\n  name = \"${include.root.locals.org}-${local.env.locals.e}\"\n}\ndependency \"kms\" {\n  config_path = \"../kms\"\n}\ninputs = {\n  name    = local.name\n  key     = dependency.kms.outputs.arn\n  readers = [\"*\"]\n}\n".into(),
        ),
    ];
    let dir = std::env::temp_dir().join(format!("ecrguard-fuzz-tg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("live/unit")).unwrap();
    std::fs::create_dir_all(dir.join("modules/ecr")).unwrap();
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(
        dir.join("live/root.hcl"),
        "locals {\n  org = \"acme\"\n}\ninputs = {\n  readers = []\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("live/unit/env.hcl"),
        "locals {\n  e = \"prod\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("modules/ecr/main.tf"),
        "variable \"name\" {}\nvariable \"readers\" {}\nresource \"aws_ecr_repository\" \"r\" { name = var.name }\n",
    )
    .unwrap();
    let counter = std::cell::Cell::new(0usize);
    ecrguard_fuzz::run("terragrunt", &seeds, ecrguard_fuzz::cases(200), &|input| {
        let n = counter.get();
        counter.set(n + 1);
        std::fs::write(dir.join("live/unit/terragrunt.hcl"), input).unwrap();
        let first = result_of(&dir);
        if n % 10 == 0 {
            assert_eq!(first, result_of(&dir), "not deterministic");
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
