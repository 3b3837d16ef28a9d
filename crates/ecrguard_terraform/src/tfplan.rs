//! Terraform plan JSON (`terraform show -json plan.out`), adapted directly: no HCL is
//! re-created. Findings point into the plan file (JSON pointer and line). Values known only
//! after apply (`after_unknown`) are `Unknown`; a policy whose target is known only after
//! apply is linked through the `configuration` section's references.

use crate::adapt::{Collector, ResourceSite, Target};
use crate::project::{InputProblem, SharedSources};
use crate::value::{Pos, V, Val};
use ecrguard_iam::json::{self, Node, Value as J};
use ecrguard_model::{EcrState, FileId, Origin, Span};
use std::collections::HashMap;
use std::path::Path;

/// Whether a JSON text is a Terraform plan (checked cheaply, before parsing).
#[must_use]
pub fn looks_like_plan(text: &str) -> bool {
    // Bytes, not a string slice: the 4096th byte may fall inside a character.
    let head = &text.as_bytes()[..text.len().min(4096)];
    let needle = b"\"format_version\"";
    head.windows(needle.len()).any(|w| w == needle)
        && (text.contains("\"planned_values\"") || text.contains("\"resource_changes\""))
}

/// A JSON node as a value, with positions into the plan file.
fn to_v(node: &Node, file: FileId) -> V {
    let val = match &node.value {
        J::Null => Val::Null,
        J::Bool(b) => Val::Bool(*b),
        J::Number(n) => n
            .parse::<f64>()
            .map_or_else(|_| Val::String(n.clone()), Val::Number),
        J::String(s) => Val::String(s.clone()),
        J::Unknown(u) => Val::Unknown(u.clone()),
        J::Partial(p) => Val::Partial(p.clone()),
        J::Array(items) => Val::List(items.iter().map(|n| to_v(n, file)).collect()),
        J::Object(members) => Val::Object(
            members
                .iter()
                .map(|m| (m.key.clone(), to_v(&m.value, file)))
                .collect(),
        ),
    };
    V {
        val,
        pos: node.span.map(|span| Pos { file, span }),
        text_base: None,
    }
}

/// Replaces what `after_unknown` marks `true` with `Unknown`.
fn overlay_unknown(v: V, after_unknown: Option<&Node>) -> V {
    let Some(au) = after_unknown else { return v };
    match (&au.value, v.val) {
        (J::Bool(true), _) => V {
            val: Val::Unknown("known only after apply".into()),
            pos: v.pos,
            text_base: None,
        },
        (J::Object(_), Val::Object(members)) => V {
            val: Val::Object(
                members
                    .into_iter()
                    .map(|(k, x)| {
                        let sub = au.get(&k);
                        (k, overlay_unknown(x, sub))
                    })
                    .collect(),
            ),
            pos: v.pos,
            text_base: v.text_base,
        },
        (J::Array(items), Val::List(list)) => V {
            val: Val::List(
                list.into_iter()
                    .enumerate()
                    .map(|(i, x)| overlay_unknown(x, items.get(i)))
                    .collect(),
            ),
            pos: v.pos,
            text_base: v.text_base,
        },
        (_, val) => V {
            val,
            pos: v.pos,
            text_base: v.text_base,
        },
    }
}

/// One resource of `planned_values`.
struct PlanSite<'a> {
    file: FileId,
    ty: String,
    name: String,
    module: String,
    pointer: String,
    node: &'a Node,
    key: Option<String>,
    config: Option<&'a Node>,
}

impl PlanSite<'_> {
    fn values(&self) -> Option<&Node> {
        self.node.get("values")
    }

    fn pointer_origin(&self, pointer: String, node: Option<&Node>) -> Origin {
        Origin::Pointer {
            file: self.file,
            pointer,
            span: node.and_then(|n| n.span).or(self.node.span),
        }
    }

    /// The resources named in `configuration` `expressions.<attr>.references` (or in the
    /// `for_each_expression`, for `each.value...`).
    fn referenced(&self, attr: &str, ty: &str) -> Option<Target> {
        let config = self.config?;
        let refs = |n: Option<&Node>| -> Vec<String> {
            n.and_then(|n| n.get("references"))
                .and_then(|r| match &r.value {
                    J::Array(items) => Some(
                        items
                            .iter()
                            .filter_map(|i| i.as_str().map(str::to_string))
                            .collect(),
                    ),
                    _ => None,
                })
                .unwrap_or_default()
        };
        let attr_refs = refs(config.get("expressions").and_then(|e| e.get(attr)));
        let (refs, key) = if attr_refs.iter().any(|r| r.starts_with("each.")) {
            (refs(config.get("for_each_expression")), self.key.clone())
        } else {
            (attr_refs, None)
        };
        let r = refs.iter().find(|r| r.starts_with(&format!("{ty}.")))?;
        let rest = &r[ty.len() + 1..];
        let name_end = rest.find(['.', '[']).unwrap_or(rest.len());
        let name = rest[..name_end].to_string();
        // `aws_ecr_repository.this["api"]` or `[0]` in the reference itself.
        let key = key.or_else(|| {
            let after = &rest[name_end..];
            let inner = after.strip_prefix('[')?.split(']').next()?;
            Some(inner.trim_matches('"').to_string())
        });
        let key = key.map(crate::adapt::InstanceKey::Known);
        Some(Target::Resource {
            module: self.module.clone(),
            name,
            key,
        })
    }
}

impl ResourceSite for PlanSite<'_> {
    fn file(&self) -> FileId {
        self.file
    }
    fn ty(&self) -> &str {
        &self.ty
    }
    fn local_name(&self) -> &str {
        &self.name
    }
    fn module_address(&self) -> &str {
        &self.module
    }
    fn block_origin(&self) -> Origin {
        self.pointer_origin(self.pointer.clone(), Some(self.node))
    }
    fn attr_origin(&self, name: &str) -> Origin {
        let node = self.values().and_then(|v| v.get(name));
        let pointer = if node.is_some() {
            format!("{}/values/{name}", self.pointer)
        } else {
            self.pointer.clone()
        };
        self.pointer_origin(pointer, node.or(Some(self.node)))
    }
    fn nested_attr_origin(&self, nested: &str, name: &str) -> Option<Origin> {
        let block = self.values()?.get(nested)?;
        let first = match &block.value {
            J::Array(items) => items.first()?,
            _ => block,
        };
        let node = first.get(name)?;
        Some(self.pointer_origin(
            format!("{}/values/{nested}/0/{name}", self.pointer),
            Some(node),
        ))
    }
    fn element_origin(&self, v: &V) -> Origin {
        match v.pos {
            Some(p) => Origin::Span {
                file: p.file,
                span: p.span,
            },
            None => self.block_origin(),
        }
    }
    fn target(&self, attr: &str, ty: &str) -> Target {
        let value = self
            .values()
            .and_then(|v| v.get(attr))
            .and_then(Node::as_str)
            .map(str::to_string);
        match value {
            Some(v) => Target::Name(v),
            None => self
                .referenced(attr, ty)
                .unwrap_or_else(|| Target::Unknown(format!("`{attr}` is known only after apply"))),
        }
    }
}

fn index_key(node: &Node) -> Option<String> {
    match &node.get("index")?.value {
        J::String(s) => Some(s.clone()),
        J::Number(n) => Some(n.clone()),
        _ => None,
    }
}

/// `configuration` resources by full address (module path + `type.name`).
fn config_index<'a>(module: &'a Node, prefix: &str, out: &mut HashMap<String, &'a Node>) {
    if let Some(J::Array(resources)) = module.get("resources").map(|r| &r.value) {
        for r in resources {
            if let Some(a) = r.get("address").and_then(Node::as_str) {
                out.insert(
                    if prefix.is_empty() {
                        a.to_string()
                    } else {
                        format!("{prefix}.{a}")
                    },
                    r,
                );
            }
        }
    }
    if let Some(J::Object(calls)) = module.get("module_calls").map(|c| &c.value) {
        for call in calls {
            if let Some(child) = call.value.get("module") {
                let p = if prefix.is_empty() {
                    format!("module.{}", call.key)
                } else {
                    format!("{prefix}.module.{}", call.key)
                };
                config_index(child, &p, out);
            }
        }
    }
}

/// The module path of a resource address: `module.a.module.b.aws_x.y[0]` -> `module.a.module.b`.
fn module_of(address: &str, ty: &str) -> String {
    address.find(&format!("{ty}.")).map_or(String::new(), |i| {
        address[..i].trim_end_matches('.').to_string()
    })
}

/// Strips instance keys: `module.a["x"].aws_y.z[0]` -> `module.a.aws_y.z`.
fn without_keys(address: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in address.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

struct Walk<'a> {
    file: FileId,
    after_unknown: HashMap<String, &'a Node>,
    config: HashMap<String, &'a Node>,
    collector: Collector,
}

impl<'a> Walk<'a> {
    fn module(&mut self, module: &'a Node, pointer: &str) {
        if let Some(J::Array(resources)) = module.get("resources").map(|r| &r.value) {
            for (i, r) in resources.iter().enumerate() {
                if r.get("mode").and_then(Node::as_str) != Some("managed") {
                    continue;
                }
                let (Some(ty), Some(name), Some(address)) = (
                    r.get("type").and_then(Node::as_str),
                    r.get("name").and_then(Node::as_str),
                    r.get("address").and_then(Node::as_str),
                ) else {
                    continue;
                };
                if !crate::adapt::relevant(ty) {
                    continue;
                }
                let site = PlanSite {
                    file: self.file,
                    ty: ty.to_string(),
                    name: name.to_string(),
                    module: module_of(address, ty),
                    pointer: format!("{pointer}/resources/{i}"),
                    node: r,
                    key: index_key(r),
                    config: self.config.get(&without_keys(address)).copied(),
                };
                let values = r
                    .get("values")
                    .map_or_else(|| V::new(Val::Object(Vec::new())), |v| to_v(v, self.file));
                let obj = overlay_unknown(values, self.after_unknown.get(address).copied());
                let key = site.key.clone();
                self.collector
                    .add_object(&site, address.to_string(), key, &obj);
            }
        }
        if let Some(J::Array(children)) = module.get("child_modules").map(|c| &c.value) {
            for (j, child) in children.iter().enumerate() {
                self.module(child, &format!("{pointer}/child_modules/{j}"));
            }
        }
    }
}

/// The first place where a plan is not shaped as Terraform writes it (`resources` that is a
/// string, a module that is a number...), with its byte offset: read anyway, the plan would
/// silently hold no resources.
fn malformed(root: &Node) -> Option<(String, usize)> {
    let at = |n: &Node| n.span.map_or(0, |s| s.start as usize);
    let list_of_objects = |n: &Node, what: &str| -> Option<(String, usize)> {
        match &n.value {
            J::Array(items) => items
                .iter()
                .find(|i| !matches!(i.value, J::Object(_)))
                .map(|i| {
                    (
                        format!("an entry of `{what}` is {}, not an object", i.kind_name()),
                        at(i),
                    )
                }),
            J::Null => None,
            _ => Some((format!("`{what}` is {}, not a list", n.kind_name()), at(n))),
        }
    };
    if let Some(c) = root.get("resource_changes")
        && let Some(d) = list_of_objects(c, "resource_changes")
    {
        return Some(d);
    }
    let mut modules: Vec<&Node> = Vec::new();
    for path in [
        &["planned_values", "root_module"][..],
        &["prior_state", "values", "root_module"][..],
        &["configuration", "root_module"][..],
    ] {
        let mut n = Some(root);
        for key in path {
            n = n.and_then(|x| x.get(key));
        }
        if let Some(m) = n {
            modules.push(m);
        }
    }
    while let Some(m) = modules.pop() {
        if !matches!(m.value, J::Object(_)) {
            return Some((
                format!("a module is {}, not an object", m.kind_name()),
                at(m),
            ));
        }
        if let Some(r) = m.get("resources")
            && let Some(d) = list_of_objects(r, "resources")
        {
            return Some(d);
        }
        if let Some(c) = m.get("child_modules") {
            if let Some(d) = list_of_objects(c, "child_modules") {
                return Some(d);
            }
            if let J::Array(children) = &c.value {
                modules.extend(children);
            }
        }
    }
    None
}

/// Adapts one plan file.
pub fn adapt(
    path: &Path,
    text: String,
    sources: &SharedSources,
) -> (EcrState, Vec<InputProblem>, Vec<InputProblem>) {
    let parsed = json::parse(&text);
    let file = sources
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .add(path.display().to_string(), text);
    let location = |offset: usize| {
        let origin = Origin::Span {
            file,
            span: Span::new(offset, offset + 1),
        };
        sources
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .lines(&origin)
    };
    let root = match parsed {
        Ok(n) => n,
        Err(e) => {
            return (
                EcrState::default(),
                vec![InputProblem::at(
                    location(e.offset),
                    format!("plan JSON is not valid JSON: {}", e.message),
                )],
                Vec::new(),
            );
        }
    };
    let version = root
        .get("format_version")
        .and_then(Node::as_str)
        .unwrap_or("");
    if version.split('.').next() != Some("1") {
        let at = root
            .get("format_version")
            .and_then(|n| n.span)
            .map_or(0, |s| s.start as usize);
        return (
            EcrState::default(),
            vec![InputProblem::at(
                location(at),
                format!("unsupported plan format_version `{version}` (ecrguard reads 1.x)"),
            )],
            Vec::new(),
        );
    }
    if let Some((message, offset)) = malformed(&root) {
        return (
            EcrState::default(),
            vec![InputProblem::at(
                location(offset),
                format!("plan JSON is malformed: {message}"),
            )],
            Vec::new(),
        );
    }
    let mut after_unknown = HashMap::new();
    if let Some(J::Array(changes)) = root.get("resource_changes").map(|c| &c.value) {
        for rc in changes {
            if let (Some(a), Some(au)) = (
                rc.get("address").and_then(Node::as_str),
                rc.get("change").and_then(|c| c.get("after_unknown")),
            ) {
                after_unknown.insert(a.to_string(), au);
            }
        }
    }
    let mut config = HashMap::new();
    if let Some(m) = root.get("configuration").and_then(|c| c.get("root_module")) {
        config_index(m, "", &mut config);
    }
    let mut walk = Walk {
        file,
        after_unknown,
        config,
        collector: Collector::default(),
    };
    let mut not_evaluated = Vec::new();
    match root
        .get("planned_values")
        .and_then(|p| p.get("root_module"))
    {
        Some(m) => walk.module(m, "/planned_values/root_module"),
        None => not_evaluated.push(InputProblem::not_evaluated(
            path.display().to_string(),
            "the plan has no `planned_values`",
        )),
    }
    (walk.collector.finish(), Vec::new(), not_evaluated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            module_of(
                "module.a.module.b.aws_ecr_repository.x[0]",
                "aws_ecr_repository"
            ),
            "module.a.module.b"
        );
        assert_eq!(module_of("aws_ecr_repository.x", "aws_ecr_repository"), "");
        assert_eq!(
            without_keys("module.a[\"k\"].aws_ecr_repository.x[0]"),
            "module.a.aws_ecr_repository.x"
        );
    }
}
