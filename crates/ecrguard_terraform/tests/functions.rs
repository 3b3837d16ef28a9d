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

/// The other functions, each with a known value, an unknown argument, `null` and a wrong type,
/// as Terraform evaluates them.
#[test]
fn every_function_known_unknown_null_and_wrong_type() {
    check(&[
        ("basename(\"a/b/c.txt\")", Ok("\"c.txt\"")),
        ("basename(var.unset)", Err("")),
        ("coalescelist([], [\"a\"])", Ok("[\"a\"]")),
        ("coalescelist([], var.unset)", Err("")),
        ("compact([\"a\", \"\", null, \"b\"])", Ok("[\"a\",\"b\"]")),
        ("compact([\"a\", var.unset])", Err("")),
        ("distinct([\"a\", \"b\", \"a\"])", Ok("[\"a\",\"b\"]")),
        ("distinct(var.unset)", Err("")),
        ("endswith(\"repo-prod\", \"prod\")", Ok("true")),
        ("endswith(var.unset, \"prod\")", Err("")),
        ("startswith(\"repo-prod\", \"repo\")", Ok("true")),
        ("startswith(\"repo-prod\", var.unset)", Err("")),
        ("flatten([[\"a\"], [[\"b\"]], []])", Ok("[\"a\",\"b\"]")),
        ("flatten([var.unset])", Err("")),
        (
            "formatlist(\"%s-x\", [\"a\", \"b\"])",
            Ok("[\"a-x\",\"b-x\"]"),
        ),
        ("formatlist(\"%s-x\", var.unset)", Err("")),
        ("keys({ b = 1, a = 2 })", Ok("[\"a\",\"b\"]")),
        ("values({ b = 1, a = 2 })", Ok("[2,1]")),
        ("keys(var.unset)", Err("")),
        ("range(3)", Ok("[0,1,2]")),
        // Not evaluated (never a guess): the other forms of `range`.
        ("range(1, 7, 3)", Err("other forms are not")),
        ("range(var.unset)", Err("")),
        ("replace(\"a-b-c\", \"-\", \"/\")", Ok("\"a/b/c\"")),
        ("replace(var.unset, \"-\", \"/\")", Err("")),
        ("reverse([\"a\", \"b\"])", Ok("[\"b\",\"a\"]")),
        ("reverse(var.unset)", Err("")),
        ("sort([\"b\", \"a\"])", Ok("[\"a\",\"b\"]")),
        ("sort(var.unset)", Err("")),
        ("setunion([\"a\"], [\"b\", \"a\"])", Ok("[\"a\",\"b\"]")),
        ("setunion([\"a\"], var.unset)", Err("")),
        ("tobool(\"true\")", Ok("true")),
        ("tobool(null)", Ok("null")),
        ("tobool(var.unset)", Err("")),
        ("tobool(\"maybe\")", Err("Terraform would stop")),
        ("tomap({ a = \"x\" }).a", Ok("\"x\"")),
        ("toset([\"b\", \"a\", \"b\"])", Ok("[\"a\",\"b\"]")),
        ("toset(var.unset)", Err("")),
        ("trimspace(\"  a \")", Ok("\"a\"")),
        ("trimspace(var.unset)", Err("")),
        ("zipmap([\"a\", \"b\"], [1, 2]).b", Ok("2")),
        ("zipmap([\"a\"], var.unset)", Err("")),
        (
            "jsonencode(jsondecode(\"{\\\"a\\\":1}\"))",
            Ok("\"{\\\"a\\\":1}\""),
        ),
        ("tostring(null)", Ok("null")),
        ("tonumber(null)", Ok("null")),
        ("toset([3, 1, 3])", Ok("[1,3]")),
        // Terraform stops on these; ecrguard does not evaluate them (unknown, never a value).
        ("upper(null)", Err("`upper` of a non-string")),
        ("length(null)", Err("`length` of a non-collection")),
        ("join(\",\", \"notalist\")", Err("`join` of")),
    ]);
}
