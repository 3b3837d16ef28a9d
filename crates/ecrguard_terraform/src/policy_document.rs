//! Renders `data "aws_iam_policy_document"` the way the AWS provider does (docs/semantics.md §6):
//! statements from `source_policy_documents`, then the block's own, then each
//! `override_policy_documents` entry, a later statement with the same non-empty `Sid`
//! replacing the earlier one in place; principals merged by type, `type = "*"` with `["*"]`
//! rendered as `"*"`; conditions grouped by test and variable; `&{` rewritten to `${`.

use crate::eval::{Eval, Scope};
use crate::module::FileBlock;
use crate::value::{Pos, V, Val};

/// The rendered document, as the value `jsonencode` would get.
#[must_use]
pub fn render(ev: &Eval<'_>, block: &FileBlock, scope: &Scope) -> V {
    let body = V::new(Val::Object(ev.body_object(
        block.file,
        &block.block.body,
        scope,
    )));
    let pos = block.span().map(|span| Pos {
        file: block.file,
        span,
    });
    let mut version = body
        .get("version")
        .cloned()
        .filter(|v| !matches!(v.val, Val::Null))
        .unwrap_or_else(|| V::string("2012-10-17"));
    let mut id = body
        .get("policy_id")
        .cloned()
        .filter(|v| !matches!(v.val, Val::Null));
    let mut statements: Vec<V> = Vec::new();

    let merge = |incoming: Vec<V>, statements: &mut Vec<V>| {
        for st in incoming {
            let sid = st
                .get("Sid")
                .and_then(V::as_string)
                .filter(|s| !s.is_empty());
            match sid.and_then(|sid| {
                statements.iter().position(|s| {
                    s.get("Sid").and_then(V::as_string).as_deref() == Some(sid.as_str())
                })
            }) {
                Some(i) => statements[i] = st,
                None => statements.push(st),
            }
        }
    };

    for src in list(body.get("source_policy_documents")) {
        match document(&src) {
            Ok((v, i, sts)) => {
                version = later_version(version, v);
                id = i.or(id);
                merge(sts, &mut statements);
            }
            Err(u) => statements.push(u),
        }
    }
    let own: Vec<V> = list(body.get("statement"))
        .into_iter()
        .map(|s| statement(&s))
        .collect();
    merge(own, &mut statements);
    for ov in list(body.get("override_policy_documents")) {
        match document(&ov) {
            Ok((v, i, sts)) => {
                version = later_version(version, v);
                id = i.or(id);
                merge(sts, &mut statements);
            }
            Err(u) => statements.push(u),
        }
    }

    let mut doc = vec![("Version".to_string(), version)];
    if let Some(id) = id {
        doc.push(("Id".into(), id));
    }
    doc.push(("Statement".into(), V::new(Val::List(statements))));
    V::new(Val::Object(doc)).at(pos)
}

fn later_version(current: V, other: Option<V>) -> V {
    match (current.as_string(), other.as_ref().and_then(V::as_string)) {
        (Some(a), Some(b)) if b > a => other.unwrap_or(current),
        _ => current,
    }
}

fn list(v: Option<&V>) -> Vec<V> {
    match v.map(|v| &v.val) {
        Some(Val::List(l)) => l.clone(),
        Some(Val::Null) | None => Vec::new(),
        Some(_) => vec![v.cloned().unwrap_or_else(|| V::unknown("?"))],
    }
}

/// A JSON policy document given as a string (or `jsonencode`d value): its version, id and
/// statements. `Err` holds an unknown value standing for its statements.
/// A merged document's version, id and statements.
type Parts = (Option<V>, Option<V>, Vec<V>);

fn document(v: &V) -> Result<Parts, V> {
    let decoded = match &v.val {
        Val::Encoded(inner) => (**inner).clone(),
        Val::String(s) => match ecrguard_iam::json::parse(s) {
            Ok(node) => V::from_node(&node),
            Err(e) => {
                return Err(V::unknown(format!(
                    "a merged policy document is not JSON: {e}"
                )));
            }
        },
        Val::Unknown(_) | Val::Error(_) | Val::Partial(_) | Val::Computed { .. } => {
            return Err(v.clone());
        }
        _ => return Err(V::unknown("a merged policy document is not a string")),
    };
    let statements = match decoded.get("Statement") {
        Some(V {
            val: Val::List(l), ..
        }) => l.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    Ok((
        decoded.get("Version").cloned(),
        decoded.get("Id").cloned(),
        statements,
    ))
}

/// Policy document arguments are strings (Terraform converts numbers and booleans, so an
/// account id written as a number is the string), and `&{aws:username}` is how HCL writes the
/// policy variable `${aws:username}`.
fn policy_vars(v: V) -> V {
    let pos = v.pos;
    let val = match v.val {
        Val::String(s) => Val::String(s.replace("&{", "${")),
        Val::Partial(p) => Val::Partial(p.map_text(|t| t.replace("&{", "${"))),
        Val::Number(n) => Val::String(crate::value::number_text(n)),
        Val::Bool(b) => Val::String(b.to_string()),
        Val::List(items) => Val::List(items.into_iter().map(policy_vars).collect()),
        other => other,
    };
    V {
        val,
        pos,
        text_base: None,
    }
}

fn non_empty(v: Option<&V>) -> Option<V> {
    v.filter(|v| match &v.val {
        Val::Null => false,
        Val::List(l) => !l.is_empty(),
        Val::String(s) => !s.is_empty(),
        _ => true,
    })
    .cloned()
}

fn statement(s: &V) -> V {
    if s.is_unknown() {
        return s.clone();
    }
    let mut out: Vec<(String, V)> = Vec::new();
    if let Some(sid) = non_empty(s.get("sid")) {
        out.push(("Sid".into(), sid));
    }
    out.push((
        "Effect".into(),
        non_empty(s.get("effect")).unwrap_or_else(|| V::string("Allow")),
    ));
    for (attr, key) in [
        ("actions", "Action"),
        ("not_actions", "NotAction"),
        ("resources", "Resource"),
        ("not_resources", "NotResource"),
    ] {
        if let Some(v) = non_empty(s.get(attr)) {
            out.push((key.into(), policy_vars(v)));
        }
    }
    for (attr, key) in [
        ("principals", "Principal"),
        ("not_principals", "NotPrincipal"),
    ] {
        let blocks = list(s.get(attr));
        if !blocks.is_empty() {
            out.push((key.into(), principals(&blocks)));
        }
    }
    let conditions = list(s.get("condition"));
    if !conditions.is_empty() {
        out.push(("Condition".into(), conditions_of(&conditions)));
    }
    V::new(Val::Object(out)).at(s.pos)
}

fn principals(blocks: &[V]) -> V {
    let mut by_type: Vec<(String, Vec<V>)> = Vec::new();
    for b in blocks {
        let Some(ty) = b.get("type").and_then(V::as_string) else {
            return V::unknown("a principals `type` is not known");
        };
        let ids = match b.get("identifiers") {
            Some(V {
                val: Val::List(l), ..
            }) => l.clone(),
            Some(other) => vec![other.clone()],
            None => Vec::new(),
        };
        match by_type.iter_mut().find(|(t, _)| *t == ty) {
            Some((_, l)) => l.extend(ids),
            None => by_type.push((ty, ids)),
        }
    }
    if let [(ty, ids)] = by_type.as_slice()
        && ty == "*"
        && ids.iter().all(|i| i.as_str() == Some("*"))
    {
        return ids.first().cloned().unwrap_or_else(|| V::string("*"));
    }
    V::new(Val::Object(
        by_type
            .into_iter()
            .map(|(t, ids)| (t, policy_vars(V::new(Val::List(ids)))))
            .collect(),
    ))
}

fn conditions_of(blocks: &[V]) -> V {
    type ByVariable = Vec<(String, Vec<V>)>;
    let mut by_test: Vec<(String, ByVariable)> = Vec::new();
    for b in blocks {
        let (Some(test), Some(var)) = (
            b.get("test").and_then(V::as_string),
            b.get("variable").and_then(V::as_string),
        ) else {
            return V::unknown("a condition `test` or `variable` is not known");
        };
        let values = match b.get("values") {
            Some(V {
                val: Val::List(l), ..
            }) => l.clone(),
            Some(other) => vec![other.clone()],
            None => Vec::new(),
        };
        let values: Vec<V> = values.into_iter().map(policy_vars).collect();
        let entry = match by_test.iter_mut().find(|(t, _)| *t == test) {
            Some(e) => e,
            None => {
                by_test.push((test, Vec::new()));
                by_test.last_mut().expect("just pushed")
            }
        };
        match entry.1.iter_mut().find(|(v, _)| *v == var) {
            Some((_, l)) => l.extend(values),
            None => entry.1.push((var, values)),
        }
    }
    V::new(Val::Object(
        by_test
            .into_iter()
            .map(|(t, vars)| {
                (
                    t,
                    V::new(Val::Object(
                        vars.into_iter()
                            .map(|(k, v)| (k, V::new(Val::List(v))))
                            .collect(),
                    )),
                )
            })
            .collect(),
    ))
}
