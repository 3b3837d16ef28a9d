//! The evaluator, function by function: each expression is evaluated in a module (as the
//! name of a repository, through `jsonencode`) and compared with what Terraform gives: known
//! values, unknown ones (a variable without a value) propagated, `null`, wrong types, and
//! `try` / `can`, which tell an evaluation error (skipped) from a value known only after
//! apply (the result is not known: never a guess).

use ecrguard_model::Value;
use ecrguard_terraform::{TerraformOptions, scan};

/// Evaluates each expression; `Ok(JSON text)` when known, `Err(why)` when not.
fn evaluate(exprs: &[&str]) -> Vec<Result<String, String>> {
    // One directory per call: the tests run at once.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("ecrguard-functions-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = String::from(
        "variable \"unset\" {}\nlocals {\n  m = { a = 1, b = \"two\" }\n  l = [\"x\", \"y\"]\n}\n",
    );
    for (i, e) in exprs.iter().enumerate() {
        text.push_str(&format!(
            "resource \"aws_ecr_repository\" \"r{i}\" {{\n  name = jsonencode({e})\n}}\n"
        ));
    }
    std::fs::write(dir.join("main.tf"), text).unwrap();
    let result = scan(std::slice::from_ref(&dir), &TerraformOptions::default());
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    (0..exprs.len())
        .map(|i| {
            let repo = result
                .state
                .repositories
                .iter()
                .find(|r| r.id.label() == format!("aws_ecr_repository.r{i}"))
                .unwrap();
            match &repo.name {
                Value::Set(s, _) | Value::Default(s, _) => Ok(s.clone()),
                Value::Unknown(why, _) => Err(why.clone()),
            }
        })
        .collect()
}

fn check(table: &[(&str, Result<&str, &str>)]) {
    let exprs: Vec<&str> = table.iter().map(|(e, _)| *e).collect();
    let got = evaluate(&exprs);
    let mut failures = Vec::new();
    for ((expr, want), got) in table.iter().zip(got) {
        let ok = match (want, &got) {
            (Ok(w), Ok(g)) => w == g,
            (Err(w), Err(g)) => g.contains(w),
            _ => false,
        };
        if !ok {
            failures.push(format!("{expr}: want {want:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn known_values() {
    check(&[
        ("upper(\"ecr\")", Ok("\"ECR\"")),
        ("lower(\"ECR\")", Ok("\"ecr\"")),
        ("lookup(local.m, \"a\")", Ok("1")),
        ("lookup(local.m, \"z\", \"d\")", Ok("\"d\"")),
        ("element(local.l, 3)", Ok("\"y\"")),
        ("length(local.l)", Ok("2")),
        ("concat(local.l, [\"z\"])", Ok("[\"x\",\"y\",\"z\"]")),
        ("join(\"/\", local.l)", Ok("\"x/y\"")),
        ("split(\",\", \"a,b\")", Ok("[\"a\",\"b\"]")),
        ("format(\"%s:%d\", \"a\", 2)", Ok("\"a:2\"")),
        (
            "format(\"%q\", \"say \\\"hi\\\"\")",
            Ok("\"\\\"say \\\\\\\"hi\\\\\\\"\\\"\""),
        ),
        ("format(\"%%\")", Ok("\"%\"")),
        ("tonumber(\"42\")", Ok("42")),
        ("tostring(7)", Ok("\"7\"")),
        ("coalesce(null, \"\", \"c\")", Ok("\"c\"")),
        ("one([])", Ok("null")),
        ("merge(local.m, { a = 3 }).a", Ok("3")),
        ("merge(local.m, { a = 3 }).b", Ok("\"two\"")),
        ("contains(local.l, \"y\")", Ok("true")),
    ]);
}

#[test]
fn unknown_values_propagate_and_null_is_not_set() {
    check(&[
        ("upper(var.unset)", Err("")),
        ("join(\"-\", [\"a\", var.unset])", Err("")),
        ("length([var.unset, \"a\"])", Ok("2")),
        ("coalesce(var.unset, \"x\")", Err("")),
        ("coalesce(null, \"x\")", Ok("\"x\"")),
        ("lookup(local.m, var.unset)", Err("")),
        ("var.unset == \"a\" ? \"yes\" : \"no\"", Err("")),
        ("null", Ok("null")),
    ]);
}

#[test]
fn wrong_types_and_failures_are_errors_never_values() {
    check(&[
        ("tonumber(\"abc\")", Err("Terraform would stop")),
        ("lookup(local.m, \"z\")", Err("Terraform would stop")),
        ("local.l[5]", Err("Terraform would stop")),
        ("local.m[\"z\"]", Err("Terraform would stop")),
        ("one(local.l)", Err("Terraform would stop")),
        ("jsondecode(\"{\")", Err("Terraform would stop")),
        ("1 / 0", Err("Terraform would stop")),
        ("format(\"%s %s\", \"a\")", Err("Terraform would stop")),
    ]);
}

#[test]
fn try_and_can_tell_failures_from_values_known_after_apply() {
    check(&[
        // A failure is skipped...
        ("try(local.l[5], \"fallback\")", Ok("\"fallback\"")),
        ("try(local.m[\"z\"], local.m[\"a\"])", Ok("1")),
        ("try(tonumber(\"x\"), 7)", Ok("7")),
        // ...a value known only after apply is not: it may well succeed then.
        ("try(var.unset, \"fallback\")", Err("")),
        ("try(local.l[5], var.unset, \"fallback\")", Err("")),
        (
            "try(local.l[5], local.m[\"z\"])",
            Err("every `try` argument fails"),
        ),
        ("can(local.l[5])", Ok("false")),
        ("can(local.l[1])", Ok("true")),
        ("can(var.unset)", Err("`can` of a value not known here")),
    ]);
}
