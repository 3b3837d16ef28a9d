//! The link step's vocabulary: what a reference argument (`repository = ...`, `role = ...`)
//! points at, read from the expression itself where it names a resource, and the index that
//! finds a repository's links without scanning them all.

use crate::eval::{Eval, Scope};
use crate::module::FileBlock;
use crate::value::Val;
use ecrguard_model::{FileId, PolicyState};
use hcl_edit::expr::{Expression, TraversalOperator};
use std::collections::HashMap;

/// Which resource a `repository = ...` (or `role = ...`) argument points at.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// A name.
    Name(String),
    /// A resource of this module instance: (module address, resource name, instance key).
    Resource {
        module: String,
        name: String,
        key: Option<InstanceKey>,
    },
    /// Cannot be told.
    Unknown(String),
}

impl Target {
    /// The reference to an identity this target is, when it can be told.
    pub(crate) fn identity_ref(&self) -> Option<ecrguard_model::link::IdentityRef> {
        use ecrguard_model::link::IdentityRef;
        match self {
            Target::Name(n) => Some(IdentityRef::Name(n.clone())),
            Target::Resource { module, name, .. } => {
                Some(IdentityRef::Declared(format!("{module}.{name}")))
            }
            Target::Unknown(_) => None,
        }
    }
}

pub(super) struct Link {
    pub(super) target: Target,
    pub(super) state: PolicyState,
}

/// Which instance of a `count` / `for_each` resource a reference names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum InstanceKey {
    /// `aws_ecr_repository.this["api"]`, `aws_ecr_repository.this[0]`.
    Known(String),
    /// `aws_ecr_repository.this[var.pick]` with `var.pick` unknown: one instance, not known
    /// which.
    Unknown,
}

/// Links by what they target, for finding a repository's links without scanning them all.
/// A link matches a repository by its name, or by its resource (any instance when the link
/// names none, else the same instance key); it may match (target not known) when its target
/// is unknown, names a repository whose name is unknown, or names an instance by a key that
/// is itself unknown.
#[derive(Default)]
pub(super) struct LinkIndex<'a> {
    last_by_name: HashMap<&'a str, usize>,
    last_by_resource: HashMap<(&'a str, &'a str), usize>,
    last_by_instance: HashMap<(&'a str, &'a str, &'a str), usize>,
    first_unknown: Option<usize>,
    first_by_name: Option<usize>,
    first_unknown_key: HashMap<(&'a str, &'a str), usize>,
}

impl<'a> LinkIndex<'a> {
    pub(super) fn new(targets: impl Iterator<Item = &'a Target>) -> Self {
        let mut x = LinkIndex::default();
        for (i, t) in targets.enumerate() {
            match t {
                Target::Name(n) => {
                    x.last_by_name.insert(n, i);
                    x.first_by_name.get_or_insert(i);
                }
                Target::Resource {
                    module,
                    name,
                    key: None,
                } => {
                    x.last_by_resource.insert((module, name), i);
                }
                Target::Resource {
                    module,
                    name,
                    key: Some(InstanceKey::Known(k)),
                } => {
                    x.last_by_instance.insert((module, name, k), i);
                }
                Target::Resource {
                    module,
                    name,
                    key: Some(InstanceKey::Unknown),
                } => {
                    x.first_unknown_key.entry((module, name)).or_insert(i);
                }
                Target::Unknown(_) => {
                    x.first_unknown.get_or_insert(i);
                }
            }
        }
        x
    }

    /// The last link that targets this repository.
    pub(super) fn last_match(
        &self,
        repo_name: Option<&str>,
        module: &str,
        name: &str,
        key: Option<&str>,
    ) -> Option<usize> {
        let by_name = repo_name.and_then(|n| self.last_by_name.get(n).copied());
        let by_resource = self.last_by_resource.get(&(module, name)).copied();
        let by_instance = key.and_then(|k| self.last_by_instance.get(&(module, name, k)).copied());
        [by_name, by_resource, by_instance]
            .into_iter()
            .flatten()
            .max()
    }

    /// The first link that may target this repository.
    pub(super) fn first_maybe(
        &self,
        repo_name: Option<&str>,
        module: &str,
        name: &str,
    ) -> Option<usize> {
        let by_name = if repo_name.is_none() {
            self.first_by_name
        } else {
            None
        };
        [
            self.first_unknown,
            by_name,
            self.first_unknown_key.get(&(module, name)).copied(),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// Finds `aws_ecr_repository.NAME[...]` (or another type) at the root of an expression.
fn syntactic_target(
    ev: &Eval<'_>,
    file: FileId,
    expr: &Expression,
    ty: &str,
    scope: &Scope,
) -> Option<Target> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    if root.as_str() != ty {
        return None;
    }
    let name = match t.operators.first().map(|o| o.value()) {
        Some(TraversalOperator::GetAttr(a)) => a.as_str().to_string(),
        _ => return None,
    };
    let key = match t.operators.get(1).map(|o| o.value()) {
        Some(TraversalOperator::Index(e)) => Some(
            ev.eval(file, e, scope)
                .as_string()
                .map_or(InstanceKey::Unknown, InstanceKey::Known),
        ),
        Some(TraversalOperator::LegacyIndex(n)) => Some(InstanceKey::Known(n.value().to_string())),
        _ => None,
    };
    Some(Target::Resource {
        module: ev.address.clone(),
        name,
        key,
    })
}

/// `for_each = aws_ecr_repository.X` with `each.value...` / `each.key`: the instance `X[each.key]`.
fn for_each_target(
    ev: &Eval<'_>,
    block: &FileBlock,
    expr: &Expression,
    ty: &str,
    scope: &Scope,
) -> Option<Target> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    if root.as_str() != "each" {
        return None;
    }
    let fe = block.block.body.get_attribute("for_each")?;
    let Expression::Traversal(ft) = &fe.value else {
        return None;
    };
    let Expression::Variable(froot) = &ft.expr else {
        return None;
    };
    if froot.as_str() != ty || ft.operators.len() != 1 {
        return None;
    }
    let Some(TraversalOperator::GetAttr(name)) = ft.operators.first().map(|o| o.value()) else {
        return None;
    };
    let key = scope.get_each_key()?;
    Some(Target::Resource {
        module: ev.address.clone(),
        name: name.as_str().to_string(),
        key: Some(InstanceKey::Known(key)),
    })
}

pub(super) fn target_of(
    ev: &Eval<'_>,
    block: &FileBlock,
    attr: &str,
    ty: &str,
    scope: &Scope,
) -> Target {
    let Some(a) = block.block.body.get_attribute(attr) else {
        return Target::Unknown(format!("`{attr}` is not set"));
    };
    // A reference to the resource is the surest link; its name may be unknown.
    if let Some(t) = syntactic_target(ev, block.file, &a.value, ty, scope)
        .or_else(|| for_each_target(ev, block, &a.value, ty, scope))
    {
        return t;
    }
    let v = ev.eval(block.file, &a.value, scope);
    match v.as_string() {
        Some(s) => Target::Name(s),
        None => Target::Unknown(match &v.val {
            Val::Unknown(_) | Val::Error(_) | Val::Partial(_) | Val::Computed { .. } => {
                v.unknown_why().unwrap_or_default()
            }
            _ => format!("`{attr}` is a {}", v.kind_name()),
        }),
    }
}
