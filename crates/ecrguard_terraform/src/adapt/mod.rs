//! Turns evaluated module instances into the normalized model, one file per service: ECR
//! ([`ecr`]), IAM identities ([`iam`]) and EKS node roles ([`eks`]). Each adds what its
//! resources say and, once every instance is in, runs its part of the link step: policies to
//! repositories and identities by reference (any instance form) or by name, across the files
//! of a module and across modules. A policy whose target cannot be determined makes the
//! candidates' policy `Unknown`, never `Absent`.

mod ecr;
mod eks;
mod iam;
mod link;

pub(crate) use link::{InstanceKey, Target};
use link::{Link, target_of};

use crate::eval::{Eval, Scope};
use crate::module::FileBlock;
use crate::value::{Pos, V, Val};
use ecrguard_iam::PolicyKind;
use ecrguard_iam::json::{self, Node};
use ecrguard_model::{
    EcrState, FileId, Identity, IdentityKind, Origin, PolicyDoc, PolicyState, PublicRepository,
    Repository, ResourceId, Span, TerraformAddress, Value,
};
use hcl_edit::Span as _;

/// Collected model pieces before linking.
#[derive(Default)]
pub struct Collector {
    /// The root module's directory relative to the scanned path (see
    /// [`ecrguard_model::TerraformAddress`]).
    pub root: String,
    repos: Vec<(Repository, String, String, Option<String>)>,
    policy_links: Vec<Link>,
    lifecycle_links: Vec<(Target, Origin)>,
    public_repos: Vec<PublicRepository>,
    public_policy_links: Vec<Link>,
    roles: Vec<(Identity, String)>,
    identity_links: Vec<(IdentityKind, Target, iam::Attached)>,
    /// Customer managed policies roles list in `managed_policy_arns`: (role index, policy).
    role_managed: Vec<(usize, iam::PolicyRef, Origin)>,
    node_role_targets: Vec<Target>,
    /// Instance profiles: (profile name, role it carries).
    instance_profiles: Vec<(Option<String>, Target)>,
    /// Launch templates: (template id or name, instance profile name, marked as an EKS node).
    launch_templates: Vec<(Vec<String>, Option<String>, bool)>,
    /// Launch templates (by id or name) that EKS nodes are started from.
    eks_launch_templates: Vec<String>,
    /// The finished state.
    pub state: EcrState,
}

fn origin_of(file: FileId, pos: Option<Pos>, fallback: Option<Span>) -> Origin {
    match pos.filter(|p| p.file == file).map(|p| p.span).or(fallback) {
        Some(span) => Origin::Span { file, span },
        None => Origin::File(file),
    }
}

fn attr_origin(block: &FileBlock, name: &str) -> Origin {
    let span = block
        .block
        .body
        .get_attribute(name)
        .and_then(|a| a.span())
        .map(|r| Span::new(r.start, r.end))
        .or_else(|| block.span());
    origin_of(block.file, None, span)
}

fn nested_attr_origin(block: &FileBlock, nested: &str, name: &str) -> Option<Origin> {
    let b = block
        .block
        .body
        .blocks()
        .find(|b| b.ident.as_str() == nested)?;
    let a = b.body.get_attribute(name)?;
    a.span().map(|r| Origin::Span {
        file: block.file,
        span: Span::new(r.start, r.end),
    })
}

fn shift(node: &mut Node, base: u32) {
    if let Some(s) = node.span.as_mut() {
        s.start += base;
        s.end += base;
    }
    match &mut node.value {
        json::Value::Array(items) => items.iter_mut().for_each(|n| shift(n, base)),
        json::Value::Object(members) => {
            for m in members {
                if let Some(k) = m.key_span.as_mut() {
                    k.start += base;
                    k.end += base;
                }
                shift(&mut m.value, base);
            }
        }
        _ => {}
    }
}

fn strip(node: &mut Node) {
    node.span = None;
    match &mut node.value {
        json::Value::Array(items) => items.iter_mut().for_each(strip),
        json::Value::Object(members) => {
            for m in members {
                m.key_span = None;
                strip(&mut m.value);
            }
        }
        _ => {}
    }
}

/// Reads an evaluated `policy` argument into a policy state.
#[must_use]
pub fn policy_state(
    v: &V,
    kind: PolicyKind,
    file: FileId,
    attr: Origin,
    declared_by: &ResourceId,
) -> PolicyState {
    let present = |node: Node, text: &str| match ecrguard_iam::policy::parse_node_of_text(
        &node, kind, text,
    ) {
        Ok(policy) => PolicyState::Present(Box::new(PolicyDoc {
            policy,
            origin: attr.clone(),
            declared_by: declared_by.clone(),
            assumes: Vec::new(),
        })),
        Err(e) => PolicyState::Unparseable {
            error: e.message,
            origin: attr.clone(),
            declared_by: declared_by.clone(),
        },
    };
    match &v.val {
        Val::Unknown(_) | Val::Error(_) | Val::Partial(_) | Val::Computed { .. } => {
            PolicyState::Unknown(v.unknown_why().unwrap_or_default(), attr.clone())
        }
        Val::Encoded(inner) => {
            let node = inner.to_node(Some(file));
            present(node, &inner.to_json_text())
        }
        Val::String(s) => match json::parse(s) {
            Ok(mut node) => {
                match v.text_base.filter(|b| b.file == file) {
                    Some(b) => shift(&mut node, b.span.start),
                    None => strip(&mut node),
                }
                present(node, s)
            }
            Err(e) => {
                let origin = match v.text_base.filter(|b| b.file == file) {
                    Some(b) => Origin::Span {
                        file,
                        span: Span::new(
                            b.span.start as usize + e.offset,
                            b.span.start as usize + e.offset + 1,
                        ),
                    },
                    None => attr.clone(),
                };
                PolicyState::Unparseable {
                    error: format!("not valid JSON: {}", e.message),
                    origin,
                    declared_by: declared_by.clone(),
                }
            }
        },
        Val::Null => PolicyState::Unparseable {
            error: "the policy is null".into(),
            origin: attr.clone(),
            declared_by: declared_by.clone(),
        },
        _ => PolicyState::Unparseable {
            error: format!("the policy is a {}, not a JSON string", v.kind_name()),
            origin: attr.clone(),
            declared_by: declared_by.clone(),
        },
    }
}

fn instance_address(ev: &Eval<'_>, block: &FileBlock, key: Option<&V>) -> String {
    let local = format!("{}.{}", block.label(0), block.label(1));
    let base = ev.address_of(&local);
    match key.map(|k| &k.val) {
        None => base,
        Some(Val::Number(n)) => format!("{base}[{}]", crate::value::number_text(*n)),
        Some(_) => format!(
            "{base}[\"{}\"]",
            key.and_then(V::as_string).unwrap_or_default()
        ),
    }
}

/// Resource types the adapter reads.
pub(crate) fn relevant(ty: &str) -> bool {
    ty.starts_with("aws_ecr")
        || ty.starts_with("aws_iam_")
        || matches!(
            ty,
            "aws_eks_node_group" | "aws_launch_template" | "aws_autoscaling_group"
        )
}

/// Where a resource's values were written and what its references point at: an HCL block,
/// or an entry of a plan JSON file.
pub(crate) trait ResourceSite {
    /// The file.
    fn file(&self) -> FileId;
    /// `aws_ecr_repository`...
    fn ty(&self) -> &str;
    /// The resource's local name.
    fn local_name(&self) -> &str;
    /// The module instance's address (`` for the root).
    fn module_address(&self) -> &str;
    /// The whole resource.
    fn block_origin(&self) -> Origin;
    /// An argument (the resource when the argument is not written).
    fn attr_origin(&self, name: &str) -> Origin;
    /// An argument of a nested block.
    fn nested_attr_origin(&self, nested: &str, name: &str) -> Option<Origin>;
    /// A nested object (an `inline_policy` block...).
    fn element_origin(&self, v: &V) -> Origin;
    /// What a reference argument (`repository`, `role`...) points at.
    fn target(&self, attr: &str, ty: &str) -> Target;
}

struct HclSite<'a, 'p> {
    ev: &'a Eval<'p>,
    block: &'a FileBlock,
    scope: &'a Scope,
}

impl ResourceSite for HclSite<'_, '_> {
    fn file(&self) -> FileId {
        self.block.file
    }
    fn ty(&self) -> &str {
        self.block.label(0)
    }
    fn local_name(&self) -> &str {
        self.block.label(1)
    }
    fn module_address(&self) -> &str {
        &self.ev.address
    }
    fn block_origin(&self) -> Origin {
        origin_of(self.block.file, None, self.block.span())
    }
    fn attr_origin(&self, name: &str) -> Origin {
        attr_origin(self.block, name)
    }
    fn nested_attr_origin(&self, nested: &str, name: &str) -> Option<Origin> {
        nested_attr_origin(self.block, nested, name)
    }
    fn element_origin(&self, v: &V) -> Origin {
        origin_of(self.block.file, v.pos, self.block.span())
    }
    fn target(&self, attr: &str, ty: &str) -> Target {
        target_of(self.ev, self.block, attr, ty, self.scope)
    }
}

impl Collector {
    /// Adds everything in one module instance, then its children.
    pub fn add_instance(&mut self, ev: &Eval<'_>) {
        let module = ev.module.clone();
        for block in &module.resources {
            let instances = match ev.instances(block) {
                Ok(i) => i,
                Err(why) => {
                    let addr = ev.address_of(&format!("{}.{}", block.label(0), block.label(1)));
                    ev.note(addr, format!("{why}; analysed once without instance keys"));
                    vec![(None, Scope::default())]
                }
            };
            for (key, scope) in instances {
                self.add_resource(ev, block, key.as_ref(), &scope);
            }
        }
        for call in &module.module_calls {
            let children = ev.child_instances(call.label(0));
            for child in children.iter() {
                if let Some(child_eval) = &child.eval {
                    self.add_instance(child_eval);
                }
            }
        }
    }

    /// Adds one resource instance of an HCL module.
    fn add_resource(&mut self, ev: &Eval<'_>, block: &FileBlock, key: Option<&V>, scope: &Scope) {
        let ty = block.label(0);
        if !relevant(ty) {
            return;
        }
        let address = instance_address(ev, block, key);
        let obj = V::new(Val::Object(ev.resource_object(block, scope)));
        let site = HclSite { ev, block, scope };
        self.add_object(&site, address, key.and_then(V::as_string), &obj);
    }

    /// Adds one resource instance, whatever it was read from.
    pub(crate) fn add_object(
        &mut self,
        site: &dyn ResourceSite,
        address: String,
        key: Option<String>,
        obj: &V,
    ) {
        let item = Item {
            site,
            address: address.clone(),
            id: ResourceId::Terraform(TerraformAddress::in_root(&self.root, &address)),
            key,
            obj,
            block_origin: site.block_origin(),
        };
        let ty = site.ty();
        let _ = self.add_ecr(ty, &item) || self.add_iam(ty, &item) || self.add_eks(ty, &item);
    }

    /// Links policies to their repositories and identities, and finishes the state.
    #[must_use]
    pub fn finish(mut self) -> EcrState {
        self.link_repositories();
        let outside = self.link_identity_policies();
        self.link_node_roles();
        self.link_managed_documents();
        self.state.identities = self.roles.into_iter().map(|(i, _)| i).collect();
        self.state.identities.extend(outside);
        self.state
    }
}

/// One resource instance being added: where it was written, its name in the model, and its
/// evaluated arguments.
pub(super) struct Item<'a> {
    site: &'a dyn ResourceSite,
    address: String,
    id: ResourceId,
    key: Option<String>,
    obj: &'a V,
    block_origin: Origin,
}

impl Item<'_> {
    /// A policy argument of the resource, read as a policy of `kind`.
    fn policy_arg(&self, name: &str, kind: PolicyKind) -> PolicyState {
        match self.obj.get(name) {
            Some(v) => policy_state(
                v,
                kind,
                self.site.file(),
                self.site.attr_origin(name),
                &self.id,
            ),
            None => PolicyState::Unparseable {
                error: format!("`{name}` is not set"),
                origin: self.block_origin.clone(),
                declared_by: self.id.clone(),
            },
        }
    }
}

fn unknown_why(v: &V) -> String {
    v.first_unknown_why()
        .unwrap_or_else(|| format!("the value is a {}", v.kind_name()))
}

fn value_string(obj: &V, name: &str, site: &dyn ResourceSite) -> Value<String> {
    match obj.get(name) {
        Some(v) => match v.as_string() {
            Some(s) => Value::Set(s, site.attr_origin(name)),
            None => Value::Unknown(unknown_why(v), site.attr_origin(name)),
        },
        None => Value::Unknown(format!("`{name}` is not set"), site.block_origin()),
    }
}

/// A list of strings; unknown when the list or any element is.
fn value_strings(obj: &V, name: &str, site: &dyn ResourceSite) -> Value<Vec<String>> {
    let at = site.attr_origin(name);
    match obj.get(name) {
        None | Some(V { val: Val::Null, .. }) => {
            Value::Unknown(format!("`{name}` is not set"), site.block_origin())
        }
        Some(v) => match v.as_list() {
            Some(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item.as_string() {
                        Some(s) => out.push(s),
                        None => return Value::Unknown(unknown_why(item), at),
                    }
                }
                Value::Set(out, at)
            }
            None => Value::Unknown(unknown_why(v), at),
        },
    }
}

fn first_block<'a>(obj: &'a V, name: &str) -> Option<&'a V> {
    match obj.get(name).map(|v| &v.val) {
        Some(Val::List(l)) => l.first(),
        Some(Val::Object(_)) => obj.get(name),
        _ => None,
    }
}

fn list_of(v: Option<&V>) -> Vec<V> {
    match v.map(|v| &v.val) {
        Some(Val::List(l)) => l.clone(),
        Some(Val::Null) | None => Vec::new(),
        Some(_) => vec![v.cloned().unwrap_or_else(|| V::unknown("?"))],
    }
}
