//! Terraform as `terraform init` lays it out: registry, git, S3 and HTTP modules are read from
//! `.terraform/modules/modules.json`, with the caller's inputs, exactly like the same module
//! vendored locally. The module here is our own, written in the shape of the public
//! terraform-aws-modules/ecr module (read-only and read-write principals, a policy built
//! with `aws_iam_policy_document`, `null` defaults, a nested module of its own).

use ecrguard_rules::{Settings, check};
use ecrguard_terraform::{TerraformOptions, scan};
use std::path::{Path, PathBuf};

const MODULE_MAIN: &str = r#"
variable "repository_name" { type = string }
variable "repository_read_access_arns" {
  type    = list(string)
  default = []
}
variable "repository_read_write_access_arns" {
  type    = list(string)
  default = []
}
variable "repository_encryption_type" {
  type    = string
  default = null
}
variable "create" {
  type    = bool
  default = true
}

resource "aws_ecr_repository" "this" {
  count                = var.create ? 1 : 0
  name                 = var.repository_name
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = var.repository_encryption_type
  }
}

data "aws_iam_policy_document" "repository" {
  dynamic "statement" {
    for_each = length(var.repository_read_access_arns) > 0 ? [1] : []
    content {
      sid = "ReadOnly"
      principals {
        type        = "AWS"
        identifiers = var.repository_read_access_arns
      }
      actions = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    }
  }
  dynamic "statement" {
    for_each = length(var.repository_read_write_access_arns) > 0 ? [1] : []
    content {
      sid = "ReadWrite"
      principals {
        type        = "AWS"
        identifiers = var.repository_read_write_access_arns
      }
      actions = ["ecr:BatchGetImage", "ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"]
    }
  }
}

resource "aws_ecr_repository_policy" "this" {
  count      = var.create ? 1 : 0
  repository = aws_ecr_repository.this[0].name
  policy     = data.aws_iam_policy_document.repository.json
}

resource "aws_ecr_lifecycle_policy" "this" {
  count      = var.create ? 1 : 0
  repository = aws_ecr_repository.this[0].name
  policy     = jsonencode({ rules = [] })
}

module "label" {
  source = "git::https://example.invalid/label.git?ref=v1"
  name   = var.repository_name
}
"#;

const LABEL_MAIN: &str = r#"
variable "name" { type = string }
output "id" { value = var.name }
"#;

const ROOT: &str = r#"
module "ecr" {
  source  = "SOURCE"
  version = "~> 2.0"

  repository_name                   = "app"
  repository_read_write_access_arns = ["*"]
}
"#;

struct Tree(PathBuf);

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write(base: &Path, rel: &str, text: &str) {
    let p = base.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn tree(name: &str) -> Tree {
    let d = std::env::temp_dir().join(format!("ecrguard-layouts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Tree(d)
}

const MODULES_JSON: &str = r#"{"Modules":[
  {"Key":"","Source":"","Dir":"."},
  {"Key":"ecr","Source":"registry.terraform.io/acme/ecr/aws","Version":"2.3.0","Dir":".terraform/modules/ecr"},
  {"Key":"ecr.label","Source":"git::https://example.invalid/label.git?ref=v1","Dir":".terraform/modules/ecr.label"}
]}"#;

/// Findings as `rule resource` lines, sorted.
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
fn an_initialised_registry_module_gives_the_findings_of_the_same_module_vendored() {
    let t = tree("init");
    let init = t.0.join("live");
    write(&init, "main.tf", &ROOT.replace("SOURCE", "acme/ecr/aws"));
    write(&init, ".terraform/modules/modules.json", MODULES_JSON);
    write(&init, ".terraform/modules/ecr/main.tf", MODULE_MAIN);
    write(&init, ".terraform/modules/ecr.label/main.tf", LABEL_MAIN);
    let vendored = t.0.join("vendored");
    write(
        &vendored,
        "main.tf",
        &ROOT
            .replace("SOURCE", "./modules/ecr")
            .replace("  version = \"~> 2.0\"\n", ""),
    );
    write(
        &vendored,
        "modules/ecr/main.tf",
        &MODULE_MAIN.replace("git::https://example.invalid/label.git?ref=v1", "../label"),
    );
    write(&vendored, "modules/label/main.tf", LABEL_MAIN);

    let (from_init, s) = findings(&init);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert!(
        !s.not_evaluated
            .iter()
            .any(|n| n.place.to_string().starts_with("module.ecr")),
        "{:?}",
        s.not_evaluated
    );
    // Public through the module's read-write input, and AES256 through its `null` default.
    assert!(
        from_init.contains(&"ECR002 module.ecr.aws_ecr_repository_policy.this[0]".to_string()),
        "{from_init:?}"
    );
    assert!(
        from_init.contains(&"ECR012 module.ecr.aws_ecr_repository.this[0]".to_string()),
        "{from_init:?}"
    );
    let (from_vendored, _) = findings(&vendored);
    assert_eq!(from_init, from_vendored);
    // `.terraform` is never a root of its own.
    assert!(
        !from_init.iter().any(|f| f.contains(".terraform")),
        "{from_init:?}"
    );
}

#[test]
fn without_init_the_module_is_not_evaluated_and_says_what_to_do() {
    let t = tree("noinit");
    write(&t.0, "main.tf", &ROOT.replace("SOURCE", "acme/ecr/aws"));
    let (found, s) = findings(&t.0);
    assert!(found.is_empty(), "{found:?}");
    let note = s
        .not_evaluated
        .iter()
        .find(|n| n.place.to_string() == "module.ecr")
        .unwrap_or_else(|| panic!("{:?}", s.not_evaluated));
    assert!(note.message.contains("terraform init"), "{}", note.message);
    assert!(
        note.message.contains("terraform show -json"),
        "{}",
        note.message
    );
}

#[test]
fn a_modules_json_entry_whose_directory_is_missing_is_an_error() {
    let t = tree("missing");
    write(&t.0, "main.tf", &ROOT.replace("SOURCE", "acme/ecr/aws"));
    write(&t.0, ".terraform/modules/modules.json", MODULES_JSON);
    let (_, s) = findings(&t.0);
    assert!(
        s.errors
            .iter()
            .any(|e| e.message.contains("lists module `ecr`") && e.message.contains("missing")),
        "{:?}",
        s.errors
    );
}

#[test]
fn opentofu_files_are_read_and_replace_their_terraform_twins() {
    let t = tree("tofu");
    // `main.tofu` replaces `main.tf` (which would make the repository public); `extra.tofu.json`
    // is read as Terraform JSON.
    write(
        &t.0,
        "main.tf",
        "resource \"aws_ecr_repository\" \"r\" { name = \"r\" }\nresource \"aws_ecr_repository_policy\" \"p\" {\n  repository = \"r\"\n  policy = jsonencode({ Version = \"2012-10-17\", Statement = [{ Effect = \"Allow\", Principal = \"*\", Action = \"ecr:BatchGetImage\" }] })\n}\n",
    );
    write(
        &t.0,
        "main.tofu",
        "resource \"aws_ecr_repository\" \"r\" {\n  name = \"r\"\n  image_tag_mutability = \"IMMUTABLE\"\n}\n",
    );
    write(
        &t.0,
        "extra.tofu.json",
        r#"{"resource": {"aws_ecr_repository": {"j": {"name": "j"}}}}"#,
    );
    let (found, s) = findings(&t.0);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert!(!found.iter().any(|f| f.starts_with("ECR002")), "{found:?}");
    assert!(
        !found.contains(&"ECR010 aws_ecr_repository.r".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"ECR010 aws_ecr_repository.j".to_string()),
        "{found:?}"
    );
}

#[test]
fn a_module_reached_from_several_roots_gives_findings_per_root() {
    let t = tree("roots");
    // A checkout: scanning one example still reaches `../../modules`.
    std::fs::create_dir_all(t.0.join(".git")).unwrap();
    write(
        &t.0,
        "modules/ecr/main.tf",
        &MODULE_MAIN.replace("git::https://example.invalid/label.git?ref=v1", "../label"),
    );
    write(&t.0, "modules/label/main.tf", LABEL_MAIN);
    for example in ["complete", "simple"] {
        write(
            &t.0,
            &format!("examples/{example}/main.tf"),
            &ROOT
                .replace("SOURCE", "../../modules/ecr")
                .replace("  version = \"~> 2.0\"\n", "")
                .replace("\"app\"", &format!("\"{example}\""))
                // A module not initialised, so each root has a not-evaluated line.
                .replace(
                    "module \"ecr\" {",
                    "module \"extra\" {\n  source = \"acme/extra/aws\"\n}\nmodule \"ecr\" {",
                ),
        );
    }
    let s = scan(std::slice::from_ref(&t.0), &TerraformOptions::default());
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let found = check(&s.state, &Settings::default());
    let public: Vec<_> = found.iter().filter(|f| f.rule.code == "ECR002").collect();
    let mut labels: Vec<&str> = public.iter().map(|f| f.resource.label()).collect();
    labels.sort_unstable();
    assert_eq!(
        labels,
        [
            "examples/complete: module.ecr.aws_ecr_repository_policy.this[0]",
            "examples/simple: module.ecr.aws_ecr_repository_policy.this[0]",
        ]
    );
    assert_eq!(public[0].resource.address(), public[1].resource.address());
    let mut roots: Vec<_> = public.iter().map(|f| f.resource.root()).collect();
    roots.sort_unstable();
    assert_eq!(roots, [Some("examples/complete"), Some("examples/simple")]);
    // Same file and lines, same rule and address: told apart by their root.
    assert_ne!(
        public[0].fingerprint(&s.sources),
        public[1].fingerprint(&s.sources)
    );
    // What could not be evaluated is named with its root too.
    for root in ["examples/complete", "examples/simple"] {
        assert!(
            s.not_evaluated
                .iter()
                .any(|n| n.place.to_string() == format!("{root}: module.extra")),
            "{root}: {:?}",
            s.not_evaluated
        );
    }
    // Scanning one root directly: no root in the names, as before.
    let one = scan(&[t.0.join("examples/simple")], &TerraformOptions::default());
    let found = check(&one.state, &Settings::default());
    assert!(
        found.iter().any(
            |f| f.resource.label() == "module.ecr.aws_ecr_repository_policy.this[0]"
                && f.resource.root().is_none()
        ),
        "{:?}",
        found.iter().map(|f| f.resource.label()).collect::<Vec<_>>()
    );
}
