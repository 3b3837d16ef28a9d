//! Terraform's JSON syntax (`*.tf.json`, e.g. CDK for Terraform output), converted into the
//! same syntax tree as `.tf` files so that one evaluator serves both. Strings holding `${...}`
//! are templates, as Terraform reads them. JSON gives no schema, so an object is a nested
//! block when its key is a block type ecrguard reads, and an object value otherwise.
//! Positions inside the file are not kept: findings point at the file.

use ecrguard_iam::json::{self, Node, Value as J};
use hcl_edit::expr::{Array, Expression, Object, ObjectKey};
use hcl_edit::structure::{Attribute, Block, Body, Structure};
use hcl_edit::{Decorated, Ident};

/// Nested block types of the resources and data sources ecrguard reads.
const BLOCKS: &[&str] = &[
    "image_scanning_configuration",
    "encryption_configuration",
    "image_tag_mutability_exclusion_filter",
    "statement",
    "principals",
    "not_principals",
    "condition",
    "inline_policy",
    "rule",
    "repository_filter",
    "scaling_config",
    "launch_template",
    "iam_instance_profile",
    "replication_configuration",
    "destination",
    "catalog_data",
    "lifecycle",
    "timeouts",
];

fn ident(s: &str) -> Decorated<Ident> {
    Decorated::new(Ident::new_sanitized(s))
}

fn expr(node: &Node) -> Expression {
    match &node.value {
        // A parsed file holds neither; only sources build them.
        J::Null | J::Unknown(_) | J::Partial(_) => Expression::null(),
        J::Bool(b) => Expression::from(*b),
        J::Number(n) => n
            .parse::<f64>()
            .map_or_else(|_| Expression::from(n.as_str()), Expression::from),
        J::String(s) => {
            if s.contains("${") || s.contains("%{") {
                match hcl_edit::parser::parse_template(s) {
                    Ok(t) => Expression::from(hcl_edit::template::StringTemplate::from(t)),
                    Err(_) => Expression::from(s.as_str()),
                }
            } else {
                Expression::from(s.as_str())
            }
        }
        J::Array(items) => Expression::from(items.iter().map(expr).collect::<Array>()),
        J::Object(members) => {
            let mut o = Object::new();
            for m in members {
                o.insert(
                    ObjectKey::Expression(Expression::from(m.key.as_str())),
                    expr(&m.value),
                );
            }
            Expression::from(o)
        }
    }
}

/// The body of a block from its JSON object.
fn body(node: &Node) -> Body {
    let mut structures: Vec<Structure> = Vec::new();
    let Some(members) = node.as_object() else {
        return Body::new();
    };
    for m in members {
        let key = m.key.as_str();
        if key == "dynamic" {
            // "dynamic": {"statement": {"for_each": ..., "content": {...}}}
            for (label, spec) in entries(&m.value, "dynamic").unwrap_or_default() {
                let mut b = Block::new(ident("dynamic"));
                b.labels.push(label.into());
                b.body = body(spec);
                if let Some(content) = spec.get("content") {
                    b.body = b.body.into_iter().filter(|s| !matches!(s, Structure::Attribute(a) if a.key.as_str() == "content")).collect();
                    let mut c = Block::new(ident("content"));
                    c.body = body(content);
                    b.body.push(Structure::Block(c));
                }
                structures.push(Structure::Block(b));
            }
            continue;
        }
        let is_block = BLOCKS.contains(&key) && matches!(m.value.value, J::Object(_) | J::Array(_));
        if is_block {
            let items: Vec<&Node> = match &m.value.value {
                J::Array(items) => items.iter().collect(),
                _ => vec![&m.value],
            };
            for item in items {
                let mut b = Block::new(ident(key));
                b.body = body(item);
                structures.push(Structure::Block(b));
            }
        } else {
            structures.push(Structure::Attribute(Attribute::new(
                ident(key),
                expr(&m.value),
            )));
        }
    }
    Body::from(structures)
}

/// `{"name": {...}}` or `[{"name": {...}}, ...]` as (name, body) pairs.
fn entries<'n>(node: &'n Node, what: &str) -> Result<Vec<(&'n str, &'n Node)>, (String, usize)> {
    match &node.value {
        J::Object(members) => Ok(members.iter().map(|m| (m.key.as_str(), &m.value)).collect()),
        J::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                out.extend(entries(item, what)?);
            }
            Ok(out)
        }
        _ => Err(malformed(node, what)),
    }
}

/// A block body: an object, or a list of objects (one block each).
fn bodies<'n>(node: &'n Node, what: &str) -> Result<Vec<&'n Node>, (String, usize)> {
    match &node.value {
        J::Object(_) => Ok(vec![node]),
        J::Array(items) if items.iter().all(|i| matches!(i.value, J::Object(_))) => {
            Ok(items.iter().collect())
        }
        _ => Err(malformed(node, what)),
    }
}

/// Terraform rejects the file: a block where the JSON syntax wants an object.
fn malformed(node: &Node, what: &str) -> (String, usize) {
    (
        format!(
            "`{what}` is {}, not an object (Terraform rejects the file)",
            node.kind_name()
        ),
        node.span.map_or(0, |s| s.start as usize),
    )
}

/// Converts a `.tf.json` text into a body of top-level blocks.
///
/// # Errors
/// When the text is not JSON (with the byte offset), or not an object.
pub fn to_body(text: &str) -> Result<Body, (String, usize)> {
    let root =
        json::parse(text).map_err(|e| (format!("not valid JSON: {}", e.message), e.offset))?;
    let Some(top) = root.as_object() else {
        return Err(("a `.tf.json` file must hold a JSON object".into(), 0));
    };
    let mut structures = Vec::new();
    for section in top {
        let key = section.key.as_str();
        match key {
            kind @ ("resource" | "data") => {
                for (ty, named) in entries(&section.value, key)? {
                    for (name, spec) in entries(named, &format!("{kind}.{ty}"))? {
                        // A labelled block's body may be an object or, in Terraform's JSON
                        // syntax, a list of objects (one block each).
                        for spec in bodies(spec, &format!("{kind}.{ty}.{name}"))? {
                            let mut b = Block::new(ident(kind));
                            b.labels.push(ty.into());
                            b.labels.push(name.into());
                            b.body = body(spec);
                            structures.push(Structure::Block(b));
                        }
                    }
                }
            }
            kind @ ("variable" | "output" | "module") => {
                for (name, spec) in entries(&section.value, key)? {
                    for spec in bodies(spec, &format!("{kind}.{name}"))? {
                        let mut b = Block::new(ident(kind));
                        b.labels.push(name.into());
                        b.body = body(spec);
                        structures.push(Structure::Block(b));
                    }
                }
            }
            "locals" => {
                for spec in bodies(&section.value, "locals")? {
                    let mut b = Block::new(ident("locals"));
                    b.body = body(spec);
                    structures.push(Structure::Block(b));
                }
            }
            _ => {}
        }
    }
    Ok(Body::from(structures))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_blocks_and_templates() {
        let body = to_body(
            r#"{"resource": {"aws_ecr_repository": {"app": {"name": "app", "image_scanning_configuration": {"scan_on_push": true}}},
                "aws_ecr_repository_policy": {"app": {"repository": "${aws_ecr_repository.app.name}", "policy": "{}"}}},
               "locals": {"x": [1, "a"]}}"#,
        )
        .unwrap();
        let blocks: Vec<&Block> = body.blocks().collect();
        assert_eq!(blocks.len(), 3);
        assert_eq!(blocks[0].labels[0].as_str(), "aws_ecr_repository");
        assert!(
            blocks[0]
                .body
                .blocks()
                .any(|b| b.ident.as_str() == "image_scanning_configuration")
        );
        let repo_attr = blocks[1].body.get_attribute("repository").unwrap();
        assert!(matches!(repo_attr.value, Expression::StringTemplate(_)));
        assert!(to_body("[1]").is_err());
        assert_eq!(to_body("{").unwrap_err().1, 1);
    }

    #[test]
    fn bodies_as_lists_and_malformed_sections() {
        let body = to_body(
            r#"{"resource": {"aws_ecr_repository": {"app": [{"name": "app"}]},
                "aws_ecr_repository_policy": {"app": [{"repository": "app", "policy": "{}"}]}}}"#,
        )
        .unwrap();
        let blocks: Vec<&Block> = body.blocks().collect();
        assert_eq!(blocks.len(), 2);
        assert!(blocks[1].body.get_attribute("policy").is_some());
        for (text, needle) in [
            (r#"{"resource": 5}"#, "`resource` is a number"),
            (
                r#"{"resource": {"aws_ecr_repository": "x"}}"#,
                "`resource.aws_ecr_repository` is a string",
            ),
            (
                r#"{"resource": {"aws_ecr_repository": {"r": 1}}}"#,
                "`resource.aws_ecr_repository.r` is a number",
            ),
            (r#"{"module": {"m": "x"}}"#, "`module.m` is a string"),
        ] {
            let e = to_body(text).unwrap_err();
            assert!(e.0.contains(needle), "{text}: {}", e.0);
            assert!(e.1 > 0, "{text}: no position");
        }
    }
}
