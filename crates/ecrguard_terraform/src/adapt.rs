//! Turns evaluated module instances into the normalized model. Policies are linked to
//! repositories by reference (any instance form) or by name, across the files of a module and
//! across modules; a policy whose target cannot be determined makes the candidates' policy
//! `Unknown`, never `Absent`.

use crate::eval::{Eval, Scope};
use crate::module::FileBlock;
use crate::value::{Pos, V, Val};
use ecrguard_iam::PolicyKind;
use ecrguard_iam::json::{self, Node};
use ecrguard_model::{
    CreationTemplate, EcrState, Encryption, EncryptionKind, FileId, Identity, IdentityKind,
    IdentityPolicy, ManagedPolicy, Origin, PolicyDoc, PolicyState, PublicRepository,
    RegistryPolicy, RegistryScanning, Repository, ResourceId, Span, TagMutability,
    TerraformAddress, Value,
};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, TraversalOperator};
use std::collections::HashMap;

/// Marks an attachment of a customer managed policy whose document is linked in `finish`.
const CUSTOMER_POLICY_MARK: &str = "\u{0}customer:";

/// Which resource a `repository = ...` (or `role = ...`) argument points at.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// A name.
    Name(String),
    /// A resource of this module instance: (module address, resource name, instance key).
    Resource {
        module: String,
        name: String,
        key: Option<String>,
    },
    /// Cannot be told.
    Unknown(String),
}

struct Link {
    target: Target,
    state: PolicyState,
}

/// Links by what they target, for finding a repository's links without scanning them all.
/// A link matches a repository by its name, or by its resource (any instance when the link
/// names none, else the same instance key); it may match (target not known) when its target
/// is unknown, names a repository whose name is unknown, or names an instance by a key that
/// is itself unknown (keys that start with NUL).
#[derive(Default)]
struct LinkIndex<'a> {
    last_by_name: HashMap<&'a str, usize>,
    last_by_resource: HashMap<(&'a str, &'a str), usize>,
    last_by_instance: HashMap<(&'a str, &'a str, &'a str), usize>,
    first_unknown: Option<usize>,
    first_by_name: Option<usize>,
    first_unknown_key: HashMap<(&'a str, &'a str), usize>,
}

impl<'a> LinkIndex<'a> {
    fn new(targets: impl Iterator<Item = &'a Target>) -> Self {
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
                    key: Some(k),
                } => {
                    x.last_by_instance.insert((module, name, k), i);
                    if k.starts_with('\u{0}') {
                        x.first_unknown_key.entry((module, name)).or_insert(i);
                    }
                }
                Target::Unknown(_) => {
                    x.first_unknown.get_or_insert(i);
                }
            }
        }
        x
    }

    /// The last link that targets this repository.
    fn last_match(
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
    fn first_maybe(&self, repo_name: Option<&str>, module: &str, name: &str) -> Option<usize> {
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
    identity_links: Vec<(IdentityKind, Target, IdentityPolicy)>,
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
        })),
        Err(e) => PolicyState::Unparseable {
            error: e.message,
            origin: attr.clone(),
            declared_by: declared_by.clone(),
        },
    };
    match &v.val {
        Val::Unknown(_) | Val::Partial(_) => {
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
                .unwrap_or_else(|| "\u{0}unknown".into()),
        ),
        Some(TraversalOperator::LegacyIndex(n)) => Some(n.value().to_string()),
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
        key: Some(key),
    })
}

fn target_of(ev: &Eval<'_>, block: &FileBlock, attr: &str, ty: &str, scope: &Scope) -> Target {
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
            Val::Unknown(_) | Val::Partial(_) => v.unknown_why().unwrap_or_default(),
            _ => format!("`{attr}` is a {}", v.kind_name()),
        }),
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
    #[allow(clippy::too_many_lines)]
    pub(crate) fn add_object(
        &mut self,
        site: &dyn ResourceSite,
        address: String,
        key: Option<String>,
        obj: &V,
    ) {
        let ty = site.ty().to_string();
        let ty = ty.as_str();
        let id = ResourceId::Terraform(TerraformAddress::in_root(&self.root, &address));
        let block_origin = site.block_origin();
        let policy_arg = |name: &str, kind: PolicyKind| -> PolicyState {
            match obj.get(name) {
                Some(v) => policy_state(v, kind, site.file(), site.attr_origin(name), &id),
                None => PolicyState::Unparseable {
                    error: format!("`{name}` is not set"),
                    origin: block_origin.clone(),
                    declared_by: id.clone(),
                },
            }
        };
        match ty {
            "aws_ecr_repository" => {
                let name = value_string(obj, "name", site);
                let tag_mutability = match obj.get("image_tag_mutability") {
                    None | Some(V { val: Val::Null, .. }) => {
                        Value::Default(TagMutability::Mutable, block_origin.clone())
                    }
                    Some(v) => match v.as_string().as_deref().map(TagMutability::parse) {
                        Some(Some(m)) => Value::Set(m, site.attr_origin("image_tag_mutability")),
                        Some(None) => Value::Unknown(
                            format!("unrecognised value `{}`", v.as_string().unwrap_or_default()),
                            site.attr_origin("image_tag_mutability"),
                        ),
                        None => {
                            Value::Unknown(unknown_why(v), site.attr_origin("image_tag_mutability"))
                        }
                    },
                };
                let scan_on_push = match first_block(obj, "image_scanning_configuration")
                    .and_then(|b| b.get("scan_on_push").cloned())
                {
                    None => Value::Default(
                        false,
                        site.nested_attr_origin("image_scanning_configuration", "scan_on_push")
                            .unwrap_or_else(|| block_origin.clone()),
                    ),
                    Some(v) => match v.as_bool() {
                        Some(b) => Value::Set(
                            b,
                            site.nested_attr_origin("image_scanning_configuration", "scan_on_push")
                                .unwrap_or_else(|| block_origin.clone()),
                        ),
                        None => Value::Unknown(unknown_why(&v), block_origin.clone()),
                    },
                };
                let encryption = match first_block(obj, "encryption_configuration") {
                    None => Value::Default(
                        Encryption {
                            kind: EncryptionKind::Aes256,
                            kms_key: None,
                        },
                        block_origin.clone(),
                    ),
                    Some(enc) => {
                        let origin = site
                            .nested_attr_origin("encryption_configuration", "encryption_type")
                            .unwrap_or_else(|| block_origin.clone());
                        match enc.get("encryption_type").map(|t| (t, t.as_string())) {
                            None => Value::Default(
                                Encryption {
                                    kind: EncryptionKind::Aes256,
                                    kms_key: None,
                                },
                                origin,
                            ),
                            Some((_, Some(t))) => match EncryptionKind::parse(&t) {
                                Some(kind) => {
                                    let kms_key = enc
                                        .get("kms_key")
                                        .filter(|k| !matches!(k.val, Val::Null))
                                        .map(|k| match k.as_string() {
                                            Some(s) => Value::Set(s, origin.clone()),
                                            None => Value::Unknown(unknown_why(k), origin.clone()),
                                        });
                                    Value::Set(Encryption { kind, kms_key }, origin)
                                }
                                None => Value::Unknown(
                                    format!("unrecognised encryption type `{t}`"),
                                    origin,
                                ),
                            },
                            Some((v, None)) => Value::Unknown(unknown_why(v), origin),
                        }
                    }
                };
                let tags = match obj.get("tags") {
                    None => Value::Default(Vec::new(), block_origin.clone()),
                    Some(v) => match v.as_object() {
                        Some(o) => Value::Set(
                            o.iter()
                                .filter_map(|(k, v)| Some((k.clone(), v.as_string()?)))
                                .collect(),
                            site.attr_origin("tags"),
                        ),
                        None => Value::Unknown(unknown_why(v), site.attr_origin("tags")),
                    },
                };
                let repo = Repository {
                    id,
                    name,
                    account: None,
                    region: None,
                    origin: block_origin.clone(),
                    policy: PolicyState::Absent(block_origin.clone()),
                    tag_mutability,
                    scan_on_push,
                    encryption,
                    lifecycle_policy: Value::Default(false, block_origin),
                    tags,
                    policy_only: false,
                };
                self.repos.push((
                    repo,
                    site.module_address().to_string(),
                    site.local_name().to_string(),
                    key.clone(),
                ));
            }
            "aws_ecr_repository_policy" => {
                let target = site.target("repository", "aws_ecr_repository");
                let state = policy_arg("policy", PolicyKind::Repository);
                self.policy_links.push(Link { target, state });
            }
            "aws_ecr_lifecycle_policy" => {
                let target = site.target("repository", "aws_ecr_repository");
                self.lifecycle_links.push((target, block_origin));
            }
            "aws_ecr_registry_policy" => {
                let policy = policy_arg("policy", PolicyKind::Registry);
                self.state.registry_policies.push(RegistryPolicy {
                    id,
                    account: None,
                    region: None,
                    policy,
                });
            }
            "aws_ecr_repository_creation_template" => {
                let policy = match obj.get("repository_policy") {
                    None | Some(V { val: Val::Null, .. }) => {
                        PolicyState::Absent(block_origin.clone())
                    }
                    Some(v) => policy_state(
                        v,
                        PolicyKind::Repository,
                        site.file(),
                        site.attr_origin("repository_policy"),
                        &id,
                    ),
                };
                let prefix = value_string(obj, "prefix", site);
                self.state.creation_templates.push(CreationTemplate {
                    id,
                    prefix,
                    origin: block_origin,
                    policy,
                });
            }
            "aws_ecr_registry_scanning_configuration" => {
                let filters = scanning_filters(obj);
                self.state.registry_scanning.push(RegistryScanning {
                    id,
                    account: None,
                    region: None,
                    scan_on_push_filters: match filters {
                        Ok(f) => Value::Set(f, block_origin),
                        Err(why) => Value::Unknown(why, block_origin),
                    },
                });
            }
            "aws_ecrpublic_repository" => {
                let name = value_string(obj, "repository_name", site);
                self.public_repos.push(PublicRepository {
                    id,
                    name,
                    account: None,
                    origin: block_origin.clone(),
                    policy: PolicyState::Absent(block_origin),
                });
            }
            "aws_ecrpublic_repository_policy" => {
                let target = site.target("repository_name", "aws_ecrpublic_repository");
                let state = policy_arg("policy", PolicyKind::PublicRepository);
                self.public_policy_links.push(Link { target, state });
            }
            "aws_iam_role" | "aws_iam_user" | "aws_iam_group" => {
                let kind = match ty {
                    "aws_iam_role" => IdentityKind::Role,
                    "aws_iam_user" => IdentityKind::User,
                    _ => IdentityKind::Group,
                };
                let mut policies = Vec::new();
                for (i, inline) in list_of(obj.get("inline_policy")).into_iter().enumerate() {
                    if let Some(p) = inline.get("policy") {
                        let name = inline
                            .get("name")
                            .and_then(V::as_string)
                            .unwrap_or_else(|| format!("inline_policy[{i}]"));
                        let origin = site.element_origin(&inline);
                        policies.push(IdentityPolicy {
                            name,
                            document: policy_state(
                                p,
                                PolicyKind::Identity,
                                site.file(),
                                origin,
                                &id,
                            ),
                        });
                    }
                }
                for arn in list_of(obj.get("managed_policy_arns")) {
                    if let Some(p) = self.managed_attachment(
                        &arn,
                        site.file(),
                        site.attr_origin("managed_policy_arns"),
                        &id,
                    ) {
                        policies.push(p);
                    }
                }
                let name = value_string(obj, "name", site);
                let local = format!("{}.{}", site.module_address(), site.local_name());
                self.roles.push((
                    Identity {
                        id,
                        kind,
                        name,
                        origin: block_origin,
                        policies,
                        eks_node_role: false,
                        groups: Vec::new(),
                    },
                    local,
                ));
            }
            "aws_iam_policy" => {
                let document = policy_arg("policy", PolicyKind::Identity);
                let name = value_string(obj, "name", site);
                self.state
                    .managed_policies
                    .push(ManagedPolicy { id, name, document });
            }
            "aws_iam_role_policy" | "aws_iam_user_policy" | "aws_iam_group_policy" => {
                let (kind, attr, target_ty) = identity_target(ty);
                let target = site.target(attr, target_ty);
                let name = obj
                    .get("name")
                    .and_then(V::as_string)
                    .unwrap_or_else(|| address.clone());
                let document = policy_arg("policy", PolicyKind::Identity);
                self.identity_links
                    .push((kind, target, IdentityPolicy { name, document }));
            }
            "aws_iam_role_policy_attachment"
            | "aws_iam_user_policy_attachment"
            | "aws_iam_group_policy_attachment" => {
                let (kind, attr, target_ty) = identity_target(ty);
                let target = site.target(attr, target_ty);
                let Some(arn) = obj.get("policy_arn") else {
                    return;
                };
                if let Some(p) =
                    self.managed_attachment(arn, site.file(), site.attr_origin("policy_arn"), &id)
                {
                    self.identity_links.push((kind, target, p));
                }
            }
            "aws_iam_policy_attachment" => {
                let Some(arn) = obj.get("policy_arn") else {
                    return;
                };
                for (attr, kind, target_ty) in [
                    ("roles", IdentityKind::Role, "aws_iam_role"),
                    ("users", IdentityKind::User, "aws_iam_user"),
                    ("groups", IdentityKind::Group, "aws_iam_group"),
                ] {
                    for v in list_of(obj.get(attr)) {
                        let target = v
                            .as_string()
                            .map_or_else(|| Target::Unknown(unknown_why(&v)), Target::Name);
                        let _ = target_ty;
                        if let Some(p) = self.managed_attachment(
                            arn,
                            site.file(),
                            site.attr_origin("policy_arn"),
                            &id,
                        ) {
                            self.identity_links.push((kind, target, p));
                        }
                    }
                }
            }
            "aws_eks_node_group" => {
                // An ARN names the role by its last segment.
                let target = match site.target("node_role_arn", "aws_iam_role") {
                    Target::Name(arn) => {
                        Target::Name(arn.rsplit('/').next().unwrap_or(&arn).to_string())
                    }
                    other => other,
                };
                self.node_role_targets.push(target);
                if let Some(lt) = first_block(obj, "launch_template") {
                    self.eks_launch_templates.extend(launch_template_refs(lt));
                }
            }
            "aws_iam_instance_profile" => {
                let name = obj.get("name").and_then(V::as_string);
                let role = match site.target("role", "aws_iam_role") {
                    Target::Name(n) => Target::Name(n.rsplit('/').next().unwrap_or(&n).to_string()),
                    other => other,
                };
                self.instance_profiles.push((name, role));
            }
            "aws_launch_template" => {
                let ids: Vec<String> = ["id", "name"]
                    .iter()
                    .filter_map(|k| obj.get(k).and_then(V::as_string))
                    .collect();
                let profile = first_block(obj, "iam_instance_profile")
                    .and_then(|p| {
                        p.get("name")
                            .or_else(|| p.get("arn"))
                            .and_then(V::as_string)
                    })
                    .map(|p| p.rsplit('/').next().unwrap_or(&p).to_string());
                let tagged = has_cluster_tag(obj.get("tags"))
                    || list_of(obj.get("tag_specifications"))
                        .iter()
                        .any(|t| has_cluster_tag(t.get("tags")));
                let user_data = obj
                    .get("user_data")
                    .and_then(V::as_string)
                    .unwrap_or_default();
                let bootstraps = ["/etc/eks/bootstrap.sh", "nodeadm", "node.eks.aws"]
                    .iter()
                    .any(|m| user_data.contains(m));
                self.launch_templates
                    .push((ids, profile, tagged || bootstraps));
            }
            "aws_autoscaling_group" => {
                let tagged = list_of(obj.get("tag")).iter().any(|t| {
                    t.get("key")
                        .and_then(V::as_string)
                        .is_some_and(|k| k.starts_with("kubernetes.io/cluster/"))
                });
                if tagged
                    && let Some(lt) = first_block(obj, "launch_template")
                        .or_else(|| first_block(obj, "mixed_instances_policy"))
                {
                    self.eks_launch_templates.extend(launch_template_refs(lt));
                }
            }
            _ => {}
        }
    }

    /// An attachment of a managed policy by ARN: AWS managed ones from the built-in table,
    /// customer ones are reported where they are declared (`aws_iam_policy`).
    fn managed_attachment(
        &self,
        arn: &V,
        file: FileId,
        origin: Origin,
        declared_by: &ResourceId,
    ) -> Option<IdentityPolicy> {
        match arn.as_string() {
            Some(a) => {
                let Some(text) = ecrguard_iam::managed::document(&a) else {
                    // A customer managed policy: its document is linked by name when the
                    // state is finished (it may be declared later in the module).
                    let name = a
                        .strip_prefix(&format!(
                            "arn:aws:iam::{}:policy/",
                            ecrguard_iam::analysis::SELF_ACCOUNT
                        ))?
                        .to_string();
                    return Some(IdentityPolicy {
                        name: format!("{CUSTOMER_POLICY_MARK}{name}"),
                        document: PolicyState::Unknown(
                            format!("customer managed policy `{name}`"),
                            origin,
                        ),
                    });
                };
                let name = a.rsplit('/').next().unwrap_or(&a).to_string();
                let mut v = V::string(text);
                v.text_base = None;
                Some(IdentityPolicy {
                    name,
                    document: policy_state(&v, PolicyKind::Identity, file, origin, declared_by),
                })
            }
            // Which attachment, which attribute, why, and what would make it known.
            None => Some(IdentityPolicy {
                name: format!("attached by `{}`", declared_by.label()),
                document: PolicyState::Unknown(
                    format!(
                        "its `policy_arn` is not known from the code ({}); give the variable a \
                         value (tfvars, `--var-file`), or scan the plan JSON, where it is known",
                        unknown_why(arn)
                    ),
                    origin,
                ),
            }),
        }
    }

    /// Links policies to their repositories and identities, and finishes the state.
    #[must_use]
    pub fn finish(mut self) -> EcrState {
        // Repository policies.
        // Which link each repository takes, and how many repositories take each link: the
        // last taker gets the parsed policy moved, not copied.
        let mut chosen: Vec<Option<usize>> = Vec::with_capacity(self.repos.len());
        let mut takers = vec![0usize; self.policy_links.len()];
        // Indexed once: with a link per repository (20,000 `count` instances of each), a
        // scan of every link per repository was quadratic.
        let policy_index = LinkIndex::new(self.policy_links.iter().map(|l| &l.target));
        let lifecycle_index = LinkIndex::new(self.lifecycle_links.iter().map(|(t, _)| t));
        for (repo, module, name, key) in &mut self.repos {
            let repo_name = repo.name.known().map(String::as_str);
            let link = policy_index.last_match(repo_name, module, name, key.as_deref());
            chosen.push(link);
            if let Some(i) = link {
                takers[i] += 1;
            } else if let Some(i) = policy_index.first_maybe(repo_name, module, name) {
                let why = match &self.policy_links[i].target {
                    Target::Unknown(w) => {
                        format!("a repository policy whose target is unknown may apply ({w})")
                    }
                    _ => "a repository policy whose target is unknown may apply".to_string(),
                };
                repo.policy = PolicyState::Unknown(why, repo.origin.clone());
            }
            if let Some(i) = lifecycle_index.last_match(repo_name, module, name, key.as_deref()) {
                repo.lifecycle_policy = Value::Set(true, self.lifecycle_links[i].1.clone());
            } else if lifecycle_index
                .first_maybe(repo_name, module, name)
                .is_some()
            {
                repo.lifecycle_policy = Value::Unknown(
                    "a lifecycle policy whose target is unknown may apply".into(),
                    repo.origin.clone(),
                );
            }
        }
        let matched: Vec<bool> = takers.iter().map(|&n| n > 0).collect();
        for ((repo, ..), link) in self.repos.iter_mut().zip(chosen) {
            let Some(i) = link else { continue };
            takers[i] -= 1;
            repo.policy = if takers[i] == 0 {
                // A matched link is not read again (only unmatched ones are, below).
                std::mem::replace(
                    &mut self.policy_links[i].state,
                    PolicyState::Unknown(String::new(), repo.origin.clone()),
                )
            } else {
                self.policy_links[i].state.clone()
            };
        }
        self.state.repositories = self.repos.into_iter().map(|(r, ..)| r).collect();
        // A policy whose repository is not declared in the scanned code (a literal name, a
        // repository managed elsewhere, an unknown target) still applies to some repository:
        // analyse it on its own, with the repository's settings unknown.
        for (link, _) in self.policy_links.iter().zip(&matched).filter(|(_, m)| !**m) {
            let declared_by = match &link.state {
                PolicyState::Present(d) => d.declared_by.clone(),
                PolicyState::Unparseable { declared_by, .. } => declared_by.clone(),
                PolicyState::Absent(_) | PolicyState::Unknown(..) => continue,
            };
            let origin = match &link.state {
                PolicyState::Present(d) => d.origin.clone(),
                PolicyState::Unparseable { origin, .. } => origin.clone(),
                _ => continue,
            };
            let label = match &link.target {
                Target::Name(n) => format!("{n} (repository not in the scanned code)"),
                Target::Resource { module, name, .. } => {
                    format!(
                        "{module}{}aws_ecr_repository.{name} (not declared)",
                        if module.is_empty() { "" } else { "." }
                    )
                }
                Target::Unknown(_) => format!("repository of {declared_by} (unknown)"),
            };
            let mut repo = Repository::policy_only(
                ResourceId::Terraform(TerraformAddress::in_root(&self.root, &label)),
                origin,
                "the repository is not in the scanned code",
            );
            if let Target::Name(n) = &link.target {
                repo.name = Value::Set(n.clone(), repo.origin.clone());
            }
            repo.policy = link.state.clone();
            self.state.repositories.push(repo);
        }
        for mut repo in self.public_repos {
            if let Some(link) = self
                .public_policy_links
                .iter()
                .rev()
                .find(|l| match &l.target {
                    Target::Name(n) => repo.name.known() == Some(n),
                    Target::Resource { module, name, key } => {
                        repo.id.label()
                            == format!(
                                "{}{}aws_ecrpublic_repository.{name}{}",
                                module,
                                if module.is_empty() { "" } else { "." },
                                key.as_ref().map_or(String::new(), |k| format!("[\"{k}\"]"))
                            )
                    }
                    Target::Unknown(_) => false,
                })
            {
                repo.policy = link.state.clone();
            }
            self.state.public_repositories.push(repo);
        }
        // Identity policies and node roles.
        let mut outside_identities: Vec<Identity> = Vec::new();
        for (kind, target, policy) in self.identity_links {
            let found = self.roles.iter_mut().find(|(ident, local)| {
                ident.kind == kind
                    && match &target {
                        Target::Name(n) => {
                            ident.name.known() == Some(n)
                                || ident
                                    .name
                                    .known()
                                    .is_some_and(|own| n.ends_with(&format!("/{own}")))
                        }
                        Target::Resource { module, name, .. } => {
                            *local == format!("{module}.{name}")
                        }
                        Target::Unknown(_) => false,
                    }
            });
            if let Some((ident, _)) = found {
                ident.policies.push(policy);
                continue;
            }
            // The identity is not in the scanned code (a role made elsewhere, named by a
            // literal or a variable): the policy still grants what it says, to someone.
            let origin = match &policy.document {
                PolicyState::Present(d) => d.origin.clone(),
                PolicyState::Absent(o) | PolicyState::Unknown(_, o) => o.clone(),
                PolicyState::Unparseable { origin, .. } => origin.clone(),
            };
            let (label, name) = match &target {
                Target::Name(n) => (
                    format!("{n} (not in the scanned code)"),
                    Value::Set(n.clone(), origin.clone()),
                ),
                Target::Resource { module, name, .. } => (
                    format!("{module}.{name}"),
                    Value::Unknown(format!("`{module}.{name}` is not declared"), origin.clone()),
                ),
                // Named after the attribute that names it: `aws_iam_role_policy.ci.role`.
                Target::Unknown(why) => (
                    match &policy.document {
                        PolicyState::Present(d) => {
                            format!("{}.{}", d.declared_by.label(), kind_noun(kind))
                        }
                        _ => format!("{} (name not known)", kind_noun(kind)),
                    },
                    Value::Unknown(why.clone(), origin.clone()),
                ),
            };
            let named = matches!(target, Target::Name(_));
            let outside = outside_identities
                .iter_mut()
                .find(|i: &&mut Identity| named && i.kind == kind && i.id.address() == label);
            match outside {
                Some(ident) => ident.policies.push(policy),
                None => outside_identities.push(Identity {
                    id: ResourceId::Terraform(TerraformAddress::in_root(&self.root, &label)),
                    kind,
                    name,
                    origin,
                    policies: vec![policy],
                    eks_node_role: false,
                    groups: Vec::new(),
                }),
            }
        }
        // Self-managed nodes: role <- instance profile <- launch template used by EKS.
        for (ids, profile, marked) in &self.launch_templates {
            if !(*marked || ids.iter().any(|i| self.eks_launch_templates.contains(i))) {
                continue;
            }
            for (name, role) in &self.instance_profiles {
                if name.is_some() && name.as_ref() == profile.as_ref() {
                    self.node_role_targets.push(role.clone());
                }
            }
        }
        for target in &self.node_role_targets {
            for (ident, local) in &mut self.roles {
                let hit = ident.kind == IdentityKind::Role
                    && match target {
                        Target::Name(n) => ident.name.known() == Some(n),
                        Target::Resource { module, name, .. } => {
                            *local == format!("{module}.{name}")
                        }
                        Target::Unknown(_) => false,
                    };
                if hit {
                    ident.eks_node_role = true;
                }
            }
        }
        // Customer managed policies attached by ARN get their documents.
        for (ident, _) in &mut self.roles {
            for p in &mut ident.policies {
                let Some(name) = p
                    .name
                    .strip_prefix(CUSTOMER_POLICY_MARK)
                    .map(str::to_string)
                else {
                    continue;
                };
                // By reference (the policy's address, its name known only after apply), else
                // by name.
                let by_ref = name.strip_prefix(crate::eval::POLICY_REF_MARK);
                let found = self.state.managed_policies.iter().find(|m| match by_ref {
                    Some(address) => m.id.address() == address,
                    None => m.name.known() == Some(&name),
                });
                if let Some(m) = found {
                    p.document = m.document.clone();
                }
                p.name = by_ref.map_or(name.clone(), str::to_string);
            }
        }
        self.state.identities = self.roles.into_iter().map(|(i, _)| i).collect();
        self.state.identities.extend(outside_identities);
        self.state
    }
}

/// The launch template a `launch_template` block names (by id or name).
fn launch_template_refs(lt: &V) -> Vec<String> {
    ["id", "name"]
        .iter()
        .filter_map(|k| lt.get(k).and_then(V::as_string))
        .collect()
}

/// Whether tags carry the Kubernetes cluster ownership key EKS nodes have.
fn has_cluster_tag(tags: Option<&V>) -> bool {
    tags.and_then(V::as_object).is_some_and(|t| {
        t.iter()
            .any(|(k, _)| k.starts_with("kubernetes.io/cluster/"))
    })
}

fn identity_target(ty: &str) -> (IdentityKind, &'static str, &'static str) {
    if ty.starts_with("aws_iam_user") {
        (IdentityKind::User, "user", "aws_iam_user")
    } else if ty.starts_with("aws_iam_group") {
        (IdentityKind::Group, "group", "aws_iam_group")
    } else {
        (IdentityKind::Role, "role", "aws_iam_role")
    }
}

fn kind_noun(kind: IdentityKind) -> &'static str {
    match kind {
        IdentityKind::Role => "role",
        IdentityKind::User => "user",
        IdentityKind::Group => "group",
    }
}

fn unknown_why(v: &V) -> String {
    match &v.val {
        Val::Unknown(_) | Val::Partial(_) => v.unknown_why().unwrap_or_default(),
        _ => format!("the value is a {}", v.kind_name()),
    }
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

fn scanning_filters(obj: &V) -> Result<Vec<String>, String> {
    let mut filters = Vec::new();
    for rule in list_of(obj.get("rule")) {
        if rule.is_unknown() {
            return Err(unknown_why(&rule));
        }
        let freq = rule
            .get("scan_frequency")
            .and_then(V::as_string)
            .ok_or("a rule's `scan_frequency` is not known")?;
        if freq != "SCAN_ON_PUSH" && freq != "CONTINUOUS_SCAN" {
            continue;
        }
        for f in list_of(rule.get("repository_filter")) {
            filters.push(
                f.get("filter")
                    .and_then(V::as_string)
                    .ok_or("a `repository_filter` is not known")?,
            );
        }
    }
    Ok(filters)
}
