//! Terragrunt trees as teams lay them out: a root configuration included by each unit,
//! environment files read with `read_terragrunt_config`, local modules with the `//` form,
//! remote modules from `.terragrunt-cache`, and dependencies whose outputs are unknown.

use ecrguard_rules::{Settings, check};
use ecrguard_terraform::{TerraformOptions, scan};
use std::path::{Path, PathBuf};

struct Tree(PathBuf);

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Tree {
    fn new(name: &str) -> Tree {
        let d = std::env::temp_dir().join(format!("ecrguard-tg-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join(".git")).unwrap();
        Tree(d)
    }

    fn file(&self, rel: &str, text: &str) -> &Tree {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        self
    }
}

const MODULE: &str = r#"
variable "repository_name" { type = string }
variable "read_write_arns" {
  type    = list(string)
  default = []
}
variable "kms_key" {
  type    = string
  default = null
}
resource "aws_ecr_repository" "this" {
  name                 = var.repository_name
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration { scan_on_push = true }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key
  }
}
resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name
  policy     = jsonencode({ rules = [] })
}
resource "aws_ecr_repository_policy" "this" {
  count      = length(var.read_write_arns) > 0 ? 1 : 0
  repository = aws_ecr_repository.this.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ReadWrite"
      Effect    = "Allow"
      Principal = { AWS = var.read_write_arns }
      Action    = ["ecr:BatchGetImage", "ecr:PutImage"]
    }]
  })
}
"#;

const ROOT_HCL: &str = r#"
locals {
  org = "acme"
}
inputs = {
  read_write_arns = ["arn:aws:iam::111111111111:role/ci"]
}
"#;

fn unit(source: &str, extra_inputs: &str) -> String {
    format!(
        r#"
include "root" {{
  path   = find_in_parent_folders("root.hcl")
  expose = true
}}
terraform {{
  source = "{source}"
}}
locals {{
  env  = read_terragrunt_config(find_in_parent_folders("env.hcl"))
  name = "${{include.root.locals.org}}-${{local.env.locals.environment}}"
}}
dependency "kms" {{
  config_path = "../kms"
}}
inputs = {{
  repository_name = "${{local.name}}-app"
  kms_key         = dependency.kms.outputs.key_arn
  {extra_inputs}
}}
"#
    )
}

fn findings(dir: &Path) -> (Vec<String>, ecrguard_terraform::TerraformScan) {
    let s = scan(&[dir.to_path_buf()], &TerraformOptions::default());
    let mut out: Vec<String> = check(&s.state, &Settings::default())
        .iter()
        .map(|f| format!("{} {}", f.rule.code, f.resource.label()))
        .collect();
    out.sort();
    (out, s)
}

#[test]
fn a_unit_runs_its_module_with_merged_inputs_under_its_own_name() {
    let t = Tree::new("units");
    t.file("modules/ecr/main.tf", MODULE)
        .file("live/root.hcl", ROOT_HCL)
        .file(
            "live/prod/env.hcl",
            "locals {\n  environment = \"prod\"\n}\n",
        )
        .file(
            "live/prod/ecr/terragrunt.hcl",
            &unit("../../../modules//ecr", "read_write_arns = [\"*\"]"),
        )
        .file("live/dev/env.hcl", "locals {\n  environment = \"dev\"\n}\n")
        .file(
            "live/dev/ecr/terragrunt.hcl",
            &unit("../../../modules//ecr", ""),
        );
    let (found, s) = findings(&t.0);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    // prod overrides the root's inputs with `*`: public. dev keeps the root's one role.
    assert!(
        found.contains(&"ECR002 live/prod/ecr: aws_ecr_repository_policy.this[0]".to_string()),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|f| f.starts_with("ECR002 live/dev")),
        "{found:?}"
    );
    // Names come from locals, includes and files read by the configuration.
    let mut names: Vec<String> = s
        .state
        .repositories
        .iter()
        .filter_map(|r| r.name.known().cloned())
        .collect();
    names.sort();
    assert_eq!(names, ["acme-dev-app", "acme-prod-app"]);
    // The module is evaluated through its units only, never as a root of its own.
    assert!(
        s.state
            .repositories
            .iter()
            .all(|r| r.id.root().is_some_and(|root| root.starts_with("live/"))),
        "{:?}",
        s.state
            .repositories
            .iter()
            .map(|r| r.id.label())
            .collect::<Vec<_>>()
    );
    // A dependency's output is unknown, so the key is too: not reported as missing (ECR012
    // would otherwise call it the AWS managed key).
    assert!(!found.iter().any(|f| f.starts_with("ECR012")), "{found:?}");
}

#[test]
fn a_remote_source_is_read_from_the_terragrunt_cache_or_said_to_need_init() {
    let t = Tree::new("remote");
    let source = "git::https://example.invalid/modules.git//ecr?ref=v1.2.0";
    t.file("live/root.hcl", ROOT_HCL)
        .file(
            "live/prod/env.hcl",
            "locals {\n  environment = \"prod\"\n}\n",
        )
        .file(
            "live/prod/ecr/terragrunt.hcl",
            &unit(source, "read_write_arns = [\"*\"]"),
        )
        .file(
            "live/prod/ecr/.terragrunt-cache/abc/def/ecr/main.tf",
            MODULE,
        )
        .file(
            "live/stage/env.hcl",
            "locals {\n  environment = \"stage\"\n}\n",
        )
        .file("live/stage/ecr/terragrunt.hcl", &unit(source, ""));
    let (found, s) = findings(&t.0);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert!(
        found.contains(&"ECR002 live/prod/ecr: aws_ecr_repository_policy.this[0]".to_string()),
        "{found:?}"
    );
    // The cache is never a root of its own.
    assert!(
        !found.iter().any(|f| f.contains(".terragrunt-cache")),
        "{found:?}"
    );
    let note = s
        .not_evaluated
        .iter()
        .find(|n| n.place.to_string() == "live/stage/ecr")
        .unwrap_or_else(|| panic!("{:?}", s.not_evaluated));
    assert!(note.message.contains("terragrunt init"), "{}", note.message);
}

#[test]
fn hostile_configurations_end_with_an_error_and_read_nothing_outside() {
    let t = Tree::new("hostile");
    t.file("modules/ecr/main.tf", MODULE)
        // Includes itself, reads the environment and a file outside the scan, runs a command.
        .file(
            "live/a/terragrunt.hcl",
            r#"
locals {
  secret = get_env("AWS_SECRET_ACCESS_KEY")
  out    = read_terragrunt_config("/etc/passwd")
  cmd    = run_cmd("sh", "-c", "echo pwned")
  self   = read_terragrunt_config("terragrunt.hcl")
}
terraform {
  source = "../../modules//ecr"
}
inputs = {
  repository_name = "${local.secret}-app"
}
"#,
        )
        .file("live/b/terragrunt.hcl", "inputs = {\n  broken = \n");
    let s = scan(std::slice::from_ref(&t.0), &TerraformOptions::default());
    let everything = format!("{:?}\n{:?}\n{:?}", s.state, s.errors, s.not_evaluated);
    assert!(!everything.contains("root:x:0:0"), "{everything}");
    assert!(!everything.contains("pwned"), "{everything}");
    // The broken unit is an error naming its file; the other still runs its module.
    assert!(
        s.errors.iter().any(|e| e
            .location()
            .is_some_and(|l| l.file.ends_with("live/b/terragrunt.hcl"))),
        "{:?}",
        s.errors
    );
    assert_eq!(s.state.repositories.len(), 1, "{:?}", s.state.repositories);
    assert!(s.state.repositories[0].name.known().is_none());
}
