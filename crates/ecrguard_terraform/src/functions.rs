//! Terraform's built-in functions that policies are made with. An unknown argument makes the
//! result unknown (except where Terraform itself looks past it: `try`, `can`, `coalesce`).
//! A function we do not implement yields `Unknown`, never a guess.

use crate::eval::{Eval, Scope, iterate};
use crate::value::{Pos, V, Val, number_text};
use ecrguard_iam::partial::PartialBuilder;
use ecrguard_model::{FileId, Span};

/// The argument that decides a call's result before it is made: one that fails (the call
/// fails with it), else one that is not known.
fn unknown_in(args: &[V]) -> Option<V> {
    args.iter()
        .find(|a| a.is_error())
        .or_else(|| args.iter().find(|a| a.is_unknown()))
        .cloned()
}

fn strings(args: &[V]) -> Option<Vec<String>> {
    args.iter().map(V::as_string).collect()
}

fn list_items(v: &V) -> Option<Vec<V>> {
    match &v.val {
        Val::List(l) => Some(l.clone()),
        Val::Object(o) => Some(o.iter().map(|(_, v)| v.clone()).collect()),
        Val::Null => Some(Vec::new()),
        _ => None,
    }
}

fn flatten_into(v: &V, out: &mut Vec<V>) -> bool {
    match &v.val {
        Val::List(l) => l.iter().all(|x| flatten_into(x, out)),
        // A wholly unknown value may be a list: what it flattens to is not known.
        Val::Unknown(_) | Val::Error(_) => false,
        _ => {
            out.push(v.clone());
            true
        }
    }
}

fn dedup(items: Vec<V>) -> Vec<V> {
    let mut out: Vec<V> = Vec::new();
    for i in items {
        if !out.iter().any(|o| o.val == i.val) {
            out.push(i);
        }
    }
    out
}

/// A set's elements in Terraform's order: strings lexically, numbers ascending; any other mix
/// as given (Terraform does not promise one).
fn set_order(mut items: Vec<V>) -> Vec<V> {
    if items.iter().all(|i| matches!(i.val, Val::String(_))) {
        items.sort_by(|a, b| match (&a.val, &b.val) {
            (Val::String(x), Val::String(y)) => x.cmp(y),
            _ => std::cmp::Ordering::Equal,
        });
    } else if items.iter().all(|i| matches!(i.val, Val::Number(_))) {
        items.sort_by(|a, b| match (&a.val, &b.val) {
            (Val::Number(x), Val::Number(y)) => x.total_cmp(y),
            _ => std::cmp::Ordering::Equal,
        });
    }
    items
}

/// Calls a function.
pub fn call(ev: &Eval<'_>, _file: FileId, name: &str, args: Vec<V>) -> V {
    if let Some(tg) = &ev.terragrunt
        && let Some(v) = tg.call(ev, name, &args)
    {
        return v;
    }
    match name {
        // The first argument that does not fail; one known only after apply may still fail
        // then, so the result is not known either (Terraform decides at apply).
        "try" => args
            .into_iter()
            .find(|a| !a.is_error())
            .unwrap_or_else(|| V::error("every `try` argument fails")),
        "can" => match args.first() {
            Some(a) if a.is_error() => V::new(Val::Bool(false)),
            Some(a) if a.is_unknown() => V::unknown(format!(
                "`can` of a value not known here: {}",
                a.unknown_why().unwrap_or_default()
            )),
            Some(_) => V::new(Val::Bool(true)),
            None => V::error("`can` needs an argument"),
        },
        "coalesce" => {
            for a in &args {
                match &a.val {
                    Val::Unknown(_) | Val::Error(_) => return a.clone(),
                    Val::Null => {}
                    Val::String(s) if s.is_empty() => {}
                    _ => return a.clone(),
                }
            }
            V::unknown("no non-null argument to `coalesce`")
        }
        "coalescelist" => {
            for a in &args {
                match &a.val {
                    Val::Unknown(_) => return a.clone(),
                    Val::List(l) if l.is_empty() => {}
                    _ => return a.clone(),
                }
            }
            V::unknown("no non-empty argument to `coalescelist`")
        }
        "jsonencode" => match args.into_iter().next() {
            Some(v) => {
                let pos = v.pos;
                V::new(Val::Encoded(Box::new(v))).at(pos)
            }
            None => V::unknown("`jsonencode` needs an argument"),
        },
        _ => {
            // `format` keeps the known text around unknown arguments, as templates do.
            let decided_by = if name == "format" {
                &args[..args.len().min(1)]
            } else {
                &args[..]
            };
            if let Some(u) = unknown_in(decided_by) {
                return u;
            }
            // What a function reads and builds is charged to the expansion budget before and
            // after: `concat(l, l)` forty times over, or `join` of a list with itself, grows
            // without bound otherwise. No function builds more than a small multiple of what
            // it reads (`range` has its own limit), so charging the arguments first keeps the
            // largest value built near the budget.
            let cap = ev.project.remaining().saturating_add(1);
            let read = args
                .iter()
                .fold(0u64, |n, a| n.saturating_add(weight(a, cap)));
            if !ev.project.charge(&ev.address, read) {
                return V::unknown(format!(
                    "`{name}` not evaluated: the expansion budget (`max-expansion`) is spent"
                ));
            }
            let result = pure(ev, name, &args);
            let cap = ev.project.remaining().saturating_add(1);
            if ev.project.charge(&ev.address, weight(&result, cap)) {
                result
            } else {
                V::unknown(format!(
                    "`{name}` not evaluated: the expansion budget (`max-expansion`) is spent"
                ))
            }
        }
    }
}

/// A value's size in budget units (an element, or 64 bytes of string, is one), counted up to
/// `cap`.
fn weight(v: &V, cap: u64) -> u64 {
    // Most arguments are scalars: no work list for them.
    match &v.val {
        Val::String(s) => return 1 + s.len() as u64 / 64,
        Val::List(_) | Val::Object(_) | Val::Encoded(_) => {}
        _ => return 1,
    }
    let mut total = 0u64;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        total += 1;
        if total >= cap {
            return cap;
        }
        match &v.val {
            Val::String(s) => total += s.len() as u64 / 64,
            Val::List(l) => stack.extend(l),
            Val::Object(o) => stack.extend(o.iter().map(|(_, v)| v)),
            Val::Encoded(inner) => stack.push(inner),
            _ => {}
        }
    }
    total
}

#[allow(clippy::too_many_lines)]
fn pure(ev: &Eval<'_>, name: &str, args: &[V]) -> V {
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .unwrap_or_else(|| V::unknown(format!("`{name}` is missing an argument")))
    };
    let s = |i: usize| arg(i).as_string();
    match name {
        "jsondecode" => match s(0) {
            Some(text) => match ecrguard_iam::json::parse(&text) {
                Ok(node) => V::from_node(&node),
                Err(e) => V::error(format!("`jsondecode` of invalid JSON: {e}")),
            },
            None => V::unknown("`jsondecode` of a non-string"),
        },
        "file" | "templatefile" => read_file(ev, name, args),
        // A conversion of `null` is `null`, as in Terraform: "not set" stays not set.
        "tostring" | "tonumber" | "tobool" if matches!(arg(0).val, Val::Null) => V::new(Val::Null),
        "tostring" => s(0).map_or_else(|| V::error("`tostring` of a collection"), V::string),
        "tonumber" => match &arg(0).val {
            Val::Number(_) => arg(0),
            Val::String(t) => t.parse().map_or_else(
                |_| V::error("`tonumber` of a non-number"),
                |n| V::new(Val::Number(n)),
            ),
            _ => V::error("`tonumber` of a non-number"),
        },
        "tobool" => arg(0).as_bool().map_or_else(
            || V::error("`tobool` of a non-bool"),
            |b| V::new(Val::Bool(b)),
        ),
        "tolist" | "toset" => match list_items(&arg(0)) {
            Some(items) => V::new(Val::List(if name == "toset" {
                set_order(dedup(items))
            } else {
                items
            })),
            None => V::unknown(format!("`{name}` of {}", arg(0).kind_name())),
        },
        "tomap" => arg(0),
        "concat" => {
            let mut out = Vec::new();
            for a in args {
                match list_items(a) {
                    Some(i) => out.extend(i),
                    None => return V::unknown("`concat` of a non-list"),
                }
            }
            V::new(Val::List(out))
        }
        "flatten" => {
            let mut out = Vec::new();
            if flatten_into(&arg(0), &mut out) {
                V::new(Val::List(out))
            } else {
                V::unknown("`flatten` of an unknown element")
            }
        }
        "distinct" => list_items(&arg(0)).map_or_else(
            || V::unknown("`distinct` of a non-list"),
            |i| V::new(Val::List(dedup(i))),
        ),
        "compact" => list_items(&arg(0)).map_or_else(
            || V::unknown("`compact` of a non-list"),
            |i| {
                V::new(Val::List(
                    i.into_iter()
                        .filter(|v| !matches!(&v.val, Val::Null) && v.as_str() != Some(""))
                        .collect(),
                ))
            },
        ),
        "setunion" => {
            let mut out = Vec::new();
            for a in args {
                out.extend(list_items(a).unwrap_or_default());
            }
            V::new(Val::List(dedup(out)))
        }
        "merge" => {
            let mut out: Vec<(String, V)> = Vec::new();
            for a in args {
                match &a.val {
                    Val::Object(o) => {
                        for (k, v) in o {
                            out.retain(|(x, _)| x != k);
                            out.push((k.clone(), v.clone()));
                        }
                    }
                    Val::Null => {}
                    _ => return V::unknown("`merge` of a non-object"),
                }
            }
            V::new(Val::Object(out))
        }
        "length" => match &arg(0).val {
            Val::List(l) => V::new(Val::Number(l.len() as f64)),
            Val::Object(o) => V::new(Val::Number(o.len() as f64)),
            Val::String(t) => V::new(Val::Number(t.chars().count() as f64)),
            _ => V::unknown("`length` of a non-collection"),
        },
        "keys" => match &arg(0).val {
            Val::Object(o) => {
                let mut k: Vec<String> = o.iter().map(|(k, _)| k.clone()).collect();
                k.sort();
                V::new(Val::List(k.into_iter().map(V::string).collect()))
            }
            _ => V::unknown("`keys` of a non-object"),
        },
        "values" => match iterate(&arg(0)) {
            Some(items) => V::new(Val::List(items.into_iter().map(|(_, v)| v).collect())),
            None => V::unknown("`values` of a non-object"),
        },
        "lookup" => {
            let key = s(1).unwrap_or_default();
            arg(0)
                .get(&key)
                .cloned()
                .or_else(|| args.get(2).cloned())
                .unwrap_or_else(|| V::error(format!("`lookup`: key `{key}` is not present")))
        }
        "element" => match (list_items(&arg(0)), &arg(1).val) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            (Some(items), Val::Number(n)) if !items.is_empty() => {
                items[(*n as usize) % items.len()].clone()
            }
            _ => V::error("`element` of an empty list"),
        },
        "contains" => match list_items(&arg(0)) {
            Some(items) => V::new(Val::Bool(items.iter().any(|v| v.val == arg(1).val))),
            None => V::unknown("`contains` of a non-list"),
        },
        "one" => match list_items(&arg(0)) {
            Some(items) if items.is_empty() => V::new(Val::Null),
            Some(items) if items.len() == 1 => items[0].clone(),
            _ => V::error("`one` of more than one element"),
        },
        "zipmap" => match (list_items(&arg(0)), list_items(&arg(1))) {
            (Some(k), Some(v)) => V::new(Val::Object(
                k.iter().filter_map(V::as_string).zip(v).collect(),
            )),
            _ => V::unknown("`zipmap` of non-lists"),
        },
        "join" => match (s(0), list_items(&arg(1))) {
            (Some(sep), Some(parts)) => {
                let mut out = PartialBuilder::default();
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        out.text(&sep);
                    }
                    if !append(&mut out, part) {
                        return V::unknown(format!("`join` of {}", part.kind_name()));
                    }
                }
                finish(out)
            }
            _ => V::unknown("`join` of unknown parts"),
        },
        "split" => match (s(0), s(1)) {
            (Some(sep), Some(t)) => {
                V::new(Val::List(t.split(sep.as_str()).map(V::string).collect()))
            }
            _ => V::unknown("`split` of a non-string"),
        },
        "format" => format(args),
        "formatlist" => match list_items(&arg(1)) {
            Some(items) => V::new(Val::List(
                items.into_iter().map(|i| format(&[arg(0), i])).collect(),
            )),
            None => V::unknown("`formatlist` of a non-list"),
        },
        "lower" => s(0).map_or_else(
            || V::unknown("`lower` of a non-string"),
            |t| V::string(t.to_lowercase()),
        ),
        "upper" => s(0).map_or_else(
            || V::unknown("`upper` of a non-string"),
            |t| V::string(t.to_uppercase()),
        ),
        "trimspace" => s(0).map_or_else(
            || V::unknown("`trimspace` of a non-string"),
            |t| V::string(t.trim()),
        ),
        "replace" => match (s(0), s(1), s(2)) {
            (Some(t), Some(from), Some(to))
                if !(from.starts_with('/') && from.ends_with('/') && from.len() > 1) =>
            {
                V::string(t.replace(&from, &to))
            }
            _ => V::unknown("`replace` with a regular expression is not evaluated"),
        },
        "startswith" => match (s(0), s(1)) {
            (Some(t), Some(p)) => V::new(Val::Bool(t.starts_with(&p))),
            _ => V::unknown("`startswith` of a non-string"),
        },
        "endswith" => match (s(0), s(1)) {
            (Some(t), Some(p)) => V::new(Val::Bool(t.ends_with(&p))),
            _ => V::unknown("`endswith` of a non-string"),
        },
        "sort" => match list_items(&arg(0)).and_then(|l| strings(&l)) {
            Some(mut l) => {
                l.sort();
                V::new(Val::List(l.into_iter().map(V::string).collect()))
            }
            None => V::unknown("`sort` of a non-list"),
        },
        "reverse" => list_items(&arg(0)).map_or_else(
            || V::unknown("`reverse` of a non-list"),
            |mut l| {
                l.reverse();
                V::new(Val::List(l))
            },
        ),
        "range" => match (&arg(0).val, args.get(1).map(|a| &a.val)) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            (Val::Number(n), None)
                if *n >= 0.0
                    && n.fract() == 0.0
                    && *n <= ev.project.budgets().max_instances as f64 =>
            {
                V::new(Val::List(
                    (0..*n as usize)
                        .map(|i| V::new(Val::Number(i as f64)))
                        .collect(),
                ))
            }
            (Val::Number(n), None) if *n >= 0.0 && n.fract() == 0.0 => V::unknown(format!(
                "`range({})` is over the instance budget of {} elements (`max-instances`)",
                number_text(*n),
                ev.project.budgets().max_instances
            )),
            _ => V::unknown(
                "`range` is evaluated with one whole, non-negative argument; other forms are not",
            ),
        },
        "basename" => s(0).map_or_else(
            || V::unknown("`basename`"),
            |t| V::string(t.rsplit('/').next().unwrap_or("").to_string()),
        ),
        "abspath" | "pathexpand" => arg(0),
        _ => V::unknown(format!("function `{name}` is not evaluated")),
    }
}

/// `format` with the verbs policies use: `%s`, `%d`, `%v`, `%q` (quoted), `%%`.
fn format(args: &[V]) -> V {
    let Some(spec) = args.first().and_then(V::as_string) else {
        return V::unknown("`format` without a string");
    };
    let mut out = PartialBuilder::default();
    let mut next = 1;
    let mut chars = spec.chars().peekable();
    let mut one = [0u8; 4];
    while let Some(c) = chars.next() {
        if c != '%' {
            out.text(c.encode_utf8(&mut one));
            continue;
        }
        match chars.next() {
            Some('%') => out.text("%"),
            Some(verb @ ('s' | 'v' | 'd' | 'q')) => {
                let Some(a) = args.get(next) else {
                    return V::error("`format` has fewer arguments than verbs");
                };
                next += 1;
                // `%q` quotes its string the way Terraform does (JSON string escapes).
                let quoted = verb == 'q';
                if quoted {
                    out.text("\"");
                }
                let appended = match (quoted, a.as_string()) {
                    (true, Some(text)) => {
                        let mut json = String::with_capacity(text.len() + 2);
                        ecrguard_iam::json::write_json_string(&text, &mut json);
                        out.text(&json[1..json.len() - 1]);
                        true
                    }
                    _ => append(&mut out, a),
                };
                if !appended {
                    return V::error("`format` argument is not a string");
                }
                if quoted {
                    out.text("\"");
                }
            }
            _ => return V::unknown("`format` verb is not evaluated"),
        }
    }
    finish(out)
}

/// Appends a string-like value, keeping unknown parts as such: `false` for values that do
/// not convert to a string (lists, objects, null).
pub(crate) fn append(out: &mut PartialBuilder, v: &V) -> bool {
    match (&v.val, v.as_string()) {
        (_, Some(s)) => out.text(&s),
        (Val::Unknown(_) | Val::Error(_), None) => {
            out.unknown(v.unknown_why().unwrap_or_default());
        }
        (Val::Encoded(_), None) => out.unknown("JSON text with parts not known here".to_string()),
        (Val::Partial(p), None) => out.partial(p),
        (_, None) => return false,
    }
    true
}

fn finish(out: PartialBuilder) -> V {
    match out.finish() {
        Ok(s) => V::string(s),
        Err(p) => V::new(Val::Partial(p)),
    }
}

fn read_file(ev: &Eval<'_>, name: &str, args: &[V]) -> V {
    let Some(rel) = args.first().and_then(V::as_string) else {
        return V::unknown(format!("`{name}` path is not known"));
    };
    let refuse = |note: String| {
        let at = if ev.address.is_empty() {
            ev.module.dir.display().to_string()
        } else {
            ev.address.clone()
        };
        ev.note(at, note.clone());
        V::unknown(note)
    };
    let Some(_nested) = ev.project.enter_file_read() else {
        return refuse(format!(
            "`{name}(\"{rel}\")` not read: files read by templates nest too deep (a template \
             that includes itself?)"
        ));
    };
    let path = crate::project::normalize(&ev.module.dir.join(&rel));
    // Report the file as the user named the scan root: relative when under the working
    // directory (`path.module` is absolute).
    let path = match std::env::current_dir() {
        Ok(cwd) if path.is_absolute() => path
            .strip_prefix(&cwd)
            .map_or_else(|_| path.clone(), std::path::Path::to_path_buf),
        _ => path,
    };
    // The code under scan decides the path: only regular files inside the scanned tree are
    // read (never `/proc/self/environ`, a device, a pipe or a link out of the tree), so no
    // secret of the machine running the scan can reach a report.
    let text = match ev
        .project
        .roots()
        .read_named_by_input(&path, ev.project.budgets().max_file_bytes)
    {
        Ok(t) => t,
        Err(e) => {
            let why = match e {
                ecrguard_walk::input::ReadError::OutsideRoot { .. } => {
                    "is outside the scanned paths; not read".to_string()
                }
                other => other.to_string(),
            };
            return refuse(format!("`{name}(\"{rel}\")`: `{}` {why}", path.display()));
        }
    };
    let file = ev.project.add_source(&path, text.clone());
    if name == "file" {
        let mut v = V::string(text.clone());
        v.pos = Some(Pos {
            file,
            span: Span::new(0, text.len()),
        });
        v.text_base = Some(Pos {
            file,
            span: Span::new(0, 0),
        });
        return v;
    }
    // templatefile: `${name}` interpolations of the given variables; `%{}` directives and
    // expressions beyond a bare name are not evaluated.
    let vars = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| V::new(Val::Object(Vec::new())));
    let template = match hcl_edit::parser::parse_template(&text) {
        Ok(t) => t,
        Err(e) => {
            return V::unknown(format!(
                "`templatefile(\"{rel}\")` is not a valid template: {}",
                e.message()
            ));
        }
    };
    let mut scope = Scope::default();
    if let Some(obj) = vars.as_object() {
        for (k, v) in obj {
            scope = scope.with(k, v.clone());
        }
    }
    let wrapped = hcl_edit::expr::Expression::StringTemplate(
        hcl_edit::template::StringTemplate::from(template.iter().cloned().collect::<Vec<_>>()),
    );
    let mut v = ev.eval(file, &wrapped, &scope);
    if let Val::Number(n) = v.val {
        v.val = Val::String(number_text(n));
    }
    v
}
