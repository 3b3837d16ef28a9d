//! Hostile Terraform: code written to read the scanning machine's files, to exhaust its
//! memory or stack, or to hang it. Each case is built in a temporary tree (links to `/proc`
//! and files outside the tree cannot live in the repository) and must end with a result, an
//! error that names the budget or the file, and nothing read from outside the scan root.

use ecrguard_terraform::{TerraformOptions, TerraformScan, scan};
use std::path::{Path, PathBuf};

struct Tree(PathBuf);

impl Tree {
    fn new(name: &str) -> Tree {
        let d =
            std::env::temp_dir().join(format!("ecrguard-hostile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Tree(d)
    }

    fn file(&self, rel: &str, text: &str) -> &Tree {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        self
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    fn scan(&self, rel: &str) -> TerraformScan {
        scan(&[self.path(rel)], &TerraformOptions::default())
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Everything a report could print of a scan: the model, the sources read, errors, notes.
fn everything(s: &TerraformScan) -> String {
    let mut out = format!("{:?}\n{:?}\n{:?}\n", s.state, s.errors, s.not_evaluated);
    for id in s.sources.ids() {
        out.push_str(&s.sources.get(id).text);
    }
    out
}

const PUBLIC_POLICY_WITH_SID: &str = r#"
resource "aws_ecr_repository" "r" { name = "r" }
resource "aws_ecr_repository_policy" "p" {
  repository = aws_ecr_repository.r.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Sid = SID, Effect = "Allow", Principal = "*", Action = "ecr:BatchGetImage" }]
  })
}
"#;

#[test]
fn file_functions_never_read_outside_the_scan_root() {
    let t = Tree::new("file");
    t.file("secret.txt", "AKIA-SECRET-MARKER");
    std::os::unix::fs::symlink(t.path("secret.txt"), {
        std::fs::create_dir_all(t.path("repo")).unwrap();
        t.path("repo/linked.txt")
    })
    .unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", t.path("repo/env.txt")).unwrap();
    let secret = t.path("secret.txt").display().to_string();
    for (i, sid) in [
        "file(\"/proc/self/environ\")".to_string(),
        format!("file(\"{secret}\")"),
        "file(\"../secret.txt\")".to_string(),
        "file(\"${path.module}/../secret.txt\")".to_string(),
        "file(\"linked.txt\")".to_string(),
        "file(\"env.txt\")".to_string(),
        "templatefile(\"../secret.txt\", {})".to_string(),
        "file(\"/dev/zero\")".to_string(),
    ]
    .iter()
    .enumerate()
    {
        t.file("repo/main.tf", &PUBLIC_POLICY_WITH_SID.replace("SID", sid));
        let s = t.scan("repo");
        let all = everything(&s);
        assert!(
            !all.contains("AKIA-SECRET-MARKER"),
            "case {i} `{sid}` leaked"
        );
        assert!(
            !all.contains("PATH="),
            "case {i} `{sid}` leaked the environment"
        );
        assert!(
            s.not_evaluated
                .iter()
                .any(|n| n.message.contains("not read") || n.message.contains("not a regular")),
            "case {i} `{sid}`: {:?}",
            s.not_evaluated
        );
        // The public statement is still found: only its Sid is unknown.
        let findings = ecrguard_rules::check(&s.state, &ecrguard_rules::Settings::default());
        assert!(
            findings.iter().any(|f| f.rule.code == "ECR002"),
            "case {i}: {findings:?}"
        );
    }
}

#[test]
fn file_functions_read_regular_files_inside_the_root() {
    let t = Tree::new("file-inside");
    t.file("repo/sid.txt", "FromFile");
    t.file(
        "repo/main.tf",
        &PUBLIC_POLICY_WITH_SID.replace("SID", "trimspace(file(\"sid.txt\"))"),
    );
    let s = t.scan("repo");
    assert!(format!("{:?}", s.state).contains("FromFile"));
    assert!(s.errors.is_empty(), "{:?}", s.errors);
}

#[test]
fn a_template_that_includes_itself_ends() {
    let t = Tree::new("selfinclude");
    t.file("repo/t.tpl", "${templatefile(\"t.tpl\", {})}");
    t.file(
        "repo/main.tf",
        &PUBLIC_POLICY_WITH_SID.replace("SID", "templatefile(\"t.tpl\", {})"),
    );
    let s = t.scan("repo");
    assert!(
        s.not_evaluated.iter().any(|n| n.message.contains("nest")),
        "{:?}",
        s.not_evaluated
    );
}

#[test]
fn modules_feeding_each_other_and_module_cycles_end_with_their_findings() {
    let t = Tree::new("cycles");
    t.file(
        "mutual/main.tf",
        "module \"a\" {\n  source = \"./a\"\n  x = module.b.out\n}\nmodule \"b\" {\n  source = \"./b\"\n  y = module.a.out\n}\n",
    )
    .file(
        "mutual/a/main.tf",
        "variable \"x\" {}\noutput \"out\" { value = var.x }\nresource \"aws_ecr_repository\" \"ra\" { name = \"a\" }\n",
    )
    .file("mutual/b/main.tf", "variable \"y\" {}\noutput \"out\" { value = var.y }\n");
    let s = t.scan("mutual");
    assert!(
        s.state
            .repositories
            .iter()
            .any(|r| r.id.label() == "module.a.aws_ecr_repository.ra"),
        "{:?}",
        s.state.repositories
    );

    // A module that calls itself: an error naming the cycle, and the rest of the root scanned.
    t.file(
        "self/main.tf",
        "module \"me\" {\n  source = \"./\"\n}\nresource \"aws_ecr_repository\" \"s\" { name = \"s\" }\n",
    );
    let s = t.scan("self");
    assert!(
        s.errors
            .iter()
            .any(|e| e.message.contains("calls itself") && e.location().is_some()),
        "{:?}",
        s.errors
    );
    assert_eq!(s.state.repositories.len(), 1);

    // A cycle of two modules, neither of them a root: reported, not vanished.
    t.file("ring/a/main.tf", "module \"b\" {\n  source = \"../b\"\n}\nresource \"aws_ecr_repository\" \"x\" { name = \"x\" }\n")
        .file("ring/b/main.tf", "module \"a\" {\n  source = \"../a\"\n}\n");
    let s = t.scan("ring");
    assert!(
        s.errors.iter().any(|e| e.message.contains("calls itself")),
        "{:?}",
        s.errors
    );
    assert!(!s.state.repositories.is_empty());
}

fn assert_budget_error(s: &TerraformScan, budget: &str) {
    assert!(
        s.errors.iter().any(|e| e.message.contains(budget)),
        "no `{budget}` error: {:?}",
        s.errors
    );
}

#[test]
fn counts_and_expansions_beyond_the_budgets_are_errors_not_aborts() {
    let t = Tree::new("budgets");
    t.file(
        "count/main.tf",
        "resource \"aws_ecr_repository\" \"r\" {\n  count = 1000000000\n  name = \"r${count.index}\"\n}\n",
    );
    assert_budget_error(&t.scan("count"), "max-instances");

    let mut laughs = String::from("locals {\n  l0 = [\"a\", \"b\"]\n");
    for i in 1..=40 {
        laughs.push_str(&format!(
            "  l{i} = concat(local.l{}, local.l{})\n",
            i - 1,
            i - 1
        ));
    }
    laughs.push_str("}\nresource \"aws_ecr_repository\" \"r\" {\n  name = \"x\"\n  tags = { n = length(local.l40) }\n}\n");
    t.file("laughs/main.tf", &laughs);
    let s = t.scan("laughs");
    assert_budget_error(&s, "max-expansion");
    assert_eq!(
        s.state.repositories.len(),
        1,
        "the rest of the root is still scanned"
    );

    t.file(
        "product/main.tf",
        "locals {\n  n = range(1024)\n  cube = [for a in local.n : [for b in local.n : [for c in local.n : \"${a}${b}${c}\"]]]\n}\nresource \"aws_ecr_repository\" \"r\" {\n  name = \"x\"\n  tags = { n = length(local.cube) }\n}\n",
    );
    assert_budget_error(&t.scan("product"), "max-expansion");

    // Eight calls per level, ten levels: 8^10 module instances.
    for level in 0..10 {
        let calls: String = (0..8)
            .map(|i| format!("module \"m{i}\" {{\n  source = \"./l{}\"\n}}\n", level + 1))
            .collect();
        let dir = (0..=level)
            .map(|l| format!("l{l}"))
            .collect::<Vec<_>>()
            .join("/");
        t.file(&format!("fanout/{dir}/main.tf"), &calls);
    }
    t.file(
        "fanout/l0/l1/l2/l3/l4/l5/l6/l7/l8/l9/l10/main.tf",
        "resource \"aws_ecr_repository\" \"leaf\" { name = \"leaf\" }\n",
    );
    assert_budget_error(&t.scan("fanout/l0"), "max-expansion");
}

#[test]
fn values_terraform_rejects_are_unknown() {
    let t = Tree::new("rejects");
    for (name, count) in [
        ("neg", "-5"),
        ("banana", "\"banana\""),
        ("frac", "1.5"),
        ("inf", "1/0"),
    ] {
        t.file(
            &format!("{name}/main.tf"),
            &format!(
                "resource \"aws_ecr_repository\" \"r\" {{\n  count = {count}\n  name = \"r\"\n}}\n"
            ),
        );
        let s = t.scan(name);
        assert!(
            s.not_evaluated
                .iter()
                .any(|n| n.place.to_string().contains("aws_ecr_repository.r")),
            "{name}: {:?}",
            s.not_evaluated
        );
    }
    t.file(
        "div/main.tf",
        "resource \"aws_ecr_repository\" \"r\" {\n  name = \"r\"\n  tags = { x = 1/0 }\n}\n",
    );
    let s = t.scan("div");
    assert!(!format!("{:?}", s.state).contains("inf"), "{:?}", s.state);
}

#[test]
fn deep_nesting_is_an_error_with_its_file_not_a_stack_overflow() {
    let t = Tree::new("deep");
    let deep = format!(
        "locals {{\n  x = {}1{}\n}}\nresource \"aws_ecr_repository\" \"r\" {{ name = \"r\" }}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    t.file("parens/main.tf", &deep).file(
        "parens/other.tf",
        "resource \"aws_ecr_repository\" \"o\" { name = \"o\" }\n",
    );
    let s = t.scan("parens");
    assert!(
        s.errors
            .iter()
            .any(|e| e.message.contains("nest") && e.location().is_some()),
        "{:?}",
        s.errors
    );
    // The other file of the module is still read.
    assert!(
        s.state
            .repositories
            .iter()
            .any(|r| r.id.label() == "aws_ecr_repository.o")
    );

    // A chain of locals each naming the next, deeper than the depth budget.
    let mut chain = String::from("locals {\n  c0 = \"end\"\n");
    for i in 1..5_000 {
        chain.push_str(&format!("  c{i} = local.c{}\n", i - 1));
    }
    chain.push_str("}\nresource \"aws_ecr_repository\" \"r\" {\n  name = local.c4999\n}\n");
    t.file("chain/main.tf", &chain);
    let s = t.scan("chain");
    assert_eq!(s.state.repositories.len(), 1);
}

#[test]
fn many_instances_that_refer_to_each_other_are_linear() {
    // 20,000 instances, each reading `aws_ecr_repository.r[0]`: each reference must not copy
    // every instance (quadratic: minutes). Asserted by the result; the time is the
    // benchmark's to watch.
    let t = Tree::new("refs");
    t.file(
        "refs/main.tf",
        "resource \"aws_ecr_repository\" \"r\" {\n  count = 20000\n  name = \"r${count.index}\"\n}\nresource \"aws_ecr_lifecycle_policy\" \"l\" {\n  count = 20000\n  repository = aws_ecr_repository.r[0].name\n  policy = \"{}\"\n}\n",
    );
    let s = t.scan("refs");
    assert_eq!(s.state.repositories.len(), 20_000);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
}

#[test]
fn a_module_source_outside_the_root_is_not_read() {
    let t = Tree::new("modsrc");
    t.file(
        "outside/main.tf",
        "resource \"aws_ecr_repository\" \"leak\" { name = \"leak\" }\n",
    )
    .file(
        "repo/main.tf",
        "module \"x\" {\n  source = \"../outside\"\n}\n",
    );
    let s = t.scan("repo");
    assert!(
        s.state.repositories.is_empty(),
        "{:?}",
        s.state.repositories
    );
    assert!(
        s.errors
            .iter()
            .any(|e| e.message.contains("outside the scanned paths")),
        "{:?}",
        s.errors
    );
    let _ = Path::new("");
}

#[test]
fn many_repeats_of_a_short_object_key_end() {
    // Terraform accepts a key repeated in an object constructor (the later wins); masking the
    // repeats once looped forever past ten repeats of a two-letter key (found by fuzzing).
    let t = Tree::new("repeats");
    let repeats = ", Ac = \"Allow\", Principal = { Service = \"lambda.amazonaws.com\" }".repeat(16);
    t.file(
        "r/main.tf",
        &format!(
            "resource \"aws_ecr_repository_policy\" \"p\" {{\n  repository = \"app\"\n  policy = jsonencode({{ Version = \"2012-10-17\", Statement = [{{ Effect = \"Allow\", Principal = \"*\"{repeats}, Action = [\"ecr:BatchGetImage\"] }}] }})\n}}\n"
        ),
    );
    let s = t.scan("r");
    assert_eq!(s.state.repositories.len(), 1, "{:?}", s.errors);
}
