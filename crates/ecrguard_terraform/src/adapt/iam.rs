//! IAM identities and their policies: roles, users and groups with inline and attached
//! policies, customer managed policies, and the link step that attaches each policy to its
//! identity (or to an identity outside the code) and each managed policy's document.

use super::link::Target;
use super::{Collector, Item, list_of, policy_state, unknown_why, value_string};
use crate::value::{V, Val};
use ecrguard_iam::PolicyKind;
use ecrguard_model::{
    FileId, Identity, IdentityKind, IdentityPolicy, ManagedPolicy, Origin, PolicyState, ResourceId,
    TerraformAddress, Value,
};

/// A policy attached to an identity, before linking.
pub(super) enum Attached {
    /// Its document is known where it is attached (inline, AWS managed, or unknown).
    Policy(IdentityPolicy),
    /// A customer managed policy, found in the link step (it may be declared anywhere in
    /// the scanned code).
    Managed {
        /// How the attachment names it.
        by: PolicyRef,
        /// Where it is attached.
        origin: Origin,
    },
}

/// How an attachment names a customer managed policy.
pub(super) enum PolicyRef {
    /// By name, from a literal ARN or one built from the policy's name.
    Name(String),
    /// By the address of its `aws_iam_policy`: a reference to a policy whose name is known
    /// only after apply.
    Address(String),
}

impl Collector {
    /// Adds an IAM resource; `false` when `ty` is not one.
    #[allow(clippy::too_many_lines)]
    pub(super) fn add_iam(&mut self, ty: &str, it: &Item<'_>) -> bool {
        match ty {
            "aws_iam_role" | "aws_iam_user" | "aws_iam_group" => {
                let kind = match ty {
                    "aws_iam_role" => IdentityKind::Role,
                    "aws_iam_user" => IdentityKind::User,
                    _ => IdentityKind::Group,
                };
                let mut policies = Vec::new();
                for (i, inline) in list_of(it.obj.get("inline_policy")).into_iter().enumerate() {
                    if let Some(p) = inline.get("policy") {
                        let name = inline
                            .get("name")
                            .and_then(V::as_string)
                            .unwrap_or_else(|| format!("inline_policy[{i}]"));
                        let origin = it.site.element_origin(&inline);
                        policies.push(IdentityPolicy {
                            name,
                            document: policy_state(
                                p,
                                PolicyKind::Identity,
                                it.site.file(),
                                origin,
                                &it.id,
                            ),
                        });
                    }
                }
                for arn in list_of(it.obj.get("managed_policy_arns")) {
                    match managed_attachment(
                        &arn,
                        it.site.file(),
                        it.site.attr_origin("managed_policy_arns"),
                        &it.id,
                    ) {
                        Some(Attached::Policy(p)) => policies.push(p),
                        // Linked once every policy is in; the role is the next one pushed.
                        Some(Attached::Managed { by, origin }) => {
                            self.role_managed.push((self.roles.len(), by, origin));
                        }
                        None => {}
                    }
                }
                let name = value_string(it.obj, "name", it.site);
                let local = format!("{}.{}", it.site.module_address(), it.site.local_name());
                self.roles.push((
                    Identity {
                        id: it.id.clone(),
                        kind,
                        name,
                        origin: it.block_origin.clone(),
                        policies,
                        eks_node_role: false,
                        groups: Vec::new(),
                    },
                    local,
                ));
            }
            "aws_iam_policy" => {
                let document = it.policy_arg("policy", PolicyKind::Identity);
                let name = value_string(it.obj, "name", it.site);
                self.state.managed_policies.push(ManagedPolicy {
                    id: it.id.clone(),
                    name,
                    document,
                });
            }
            "aws_iam_role_policy" | "aws_iam_user_policy" | "aws_iam_group_policy" => {
                let (kind, attr, target_ty) = identity_target(ty);
                let target = it.site.target(attr, target_ty);
                let name = it
                    .obj
                    .get("name")
                    .and_then(V::as_string)
                    .unwrap_or_else(|| it.address.clone());
                let document = it.policy_arg("policy", PolicyKind::Identity);
                self.identity_links.push((
                    kind,
                    target,
                    Attached::Policy(IdentityPolicy { name, document }),
                ));
            }
            "aws_iam_role_policy_attachment"
            | "aws_iam_user_policy_attachment"
            | "aws_iam_group_policy_attachment" => {
                let (kind, attr, target_ty) = identity_target(ty);
                let target = it.site.target(attr, target_ty);
                let Some(arn) = it.obj.get("policy_arn") else {
                    return true;
                };
                if let Some(p) = managed_attachment(
                    arn,
                    it.site.file(),
                    it.site.attr_origin("policy_arn"),
                    &it.id,
                ) {
                    self.identity_links.push((kind, target, p));
                }
            }
            "aws_iam_policy_attachment" => {
                let Some(arn) = it.obj.get("policy_arn") else {
                    return true;
                };
                for (attr, kind, target_ty) in [
                    ("roles", IdentityKind::Role, "aws_iam_role"),
                    ("users", IdentityKind::User, "aws_iam_user"),
                    ("groups", IdentityKind::Group, "aws_iam_group"),
                ] {
                    for v in list_of(it.obj.get(attr)) {
                        let target = v
                            .as_string()
                            .map_or_else(|| Target::Unknown(unknown_why(&v)), Target::Name);
                        let _ = target_ty;
                        if let Some(p) = managed_attachment(
                            arn,
                            it.site.file(),
                            it.site.attr_origin("policy_arn"),
                            &it.id,
                        ) {
                            self.identity_links.push((kind, target, p));
                        }
                    }
                }
            }
            _ => return false,
        }
        true
    }

    /// A customer managed policy's document, by how an attachment names it.
    fn resolve_managed(&self, by: PolicyRef, origin: Origin) -> IdentityPolicy {
        let found = self.state.managed_policies.iter().find(|m| match &by {
            PolicyRef::Address(address) => m.id.address() == address,
            PolicyRef::Name(name) => m.name.known() == Some(name),
        });
        let (PolicyRef::Address(name) | PolicyRef::Name(name)) = by;
        let document = found.map_or_else(
            || {
                PolicyState::Unknown(
                    format!("customer managed policy `{name}` is not in the scanned code"),
                    origin,
                )
            },
            |m| m.document.clone(),
        );
        IdentityPolicy { name, document }
    }

    /// Attaches each policy to its identity; returns the identities outside the code that
    /// policies were attached to.
    pub(super) fn link_identity_policies(&mut self) -> Vec<Identity> {
        let mut outside_identities: Vec<Identity> = Vec::new();
        for (kind, target, attached) in std::mem::take(&mut self.identity_links) {
            let policy = match attached {
                Attached::Policy(p) => p,
                Attached::Managed { by, origin } => self.resolve_managed(by, origin),
            };
            let reference = target.identity_ref();
            let found = self.roles.iter_mut().find(|(ident, local)| {
                ident.kind == kind && reference.as_ref().is_some_and(|r| r.names(ident, local))
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
                            format!("{}.{}", d.declared_by.address(), kind_noun(kind))
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
        outside_identities
    }

    /// Customer managed policies a role lists in `managed_policy_arns` get their documents.
    pub(super) fn link_managed_documents(&mut self) {
        for (role, by, origin) in std::mem::take(&mut self.role_managed) {
            let policy = self.resolve_managed(by, origin);
            if let Some((ident, _)) = self.roles.get_mut(role) {
                ident.policies.push(policy);
            }
        }
    }
}

/// An attachment of a managed policy by ARN: AWS managed ones from the built-in table;
/// customer ones are linked to where they are declared (`aws_iam_policy`) once every
/// policy is in. `None` for an ARN of a policy in another account.
fn managed_attachment(
    arn: &V,
    file: FileId,
    origin: Origin,
    declared_by: &ResourceId,
) -> Option<Attached> {
    if let Val::Computed { address, .. } = &arn.val {
        return Some(Attached::Managed {
            by: PolicyRef::Address(address.clone()),
            origin,
        });
    }
    match arn.as_string() {
        Some(a) => {
            let Some(text) = ecrguard_iam::managed::document(&a) else {
                let name = a
                    .strip_prefix(&format!(
                        "arn:aws:iam::{}:policy/",
                        ecrguard_iam::analysis::SELF_ACCOUNT
                    ))?
                    .to_string();
                return Some(Attached::Managed {
                    by: PolicyRef::Name(name),
                    origin,
                });
            };
            let name = a.rsplit('/').next().unwrap_or(&a).to_string();
            let mut v = V::string(text);
            v.text_base = None;
            Some(Attached::Policy(IdentityPolicy {
                name,
                document: policy_state(&v, PolicyKind::Identity, file, origin, declared_by),
            }))
        }
        // Which attachment, which attribute, why, and what would make it known.
        None => Some(Attached::Policy(IdentityPolicy {
            name: format!("attached by `{}`", declared_by.address()),
            document: PolicyState::Unknown(
                format!(
                    "its `policy_arn` is not known from the code ({}); give the variable a \
                     value (tfvars, `--var-file`), or scan the plan JSON, where it is known",
                    unknown_why(arn)
                ),
                origin,
            ),
        })),
    }
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
