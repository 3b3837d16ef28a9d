//! How sources link identities to what names them, one way for all of them: a policy
//! attachment or an EKS node group names a role by its IAM name, its ARN, or the name its own
//! source declares it under (a Terraform address, a CloudFormation logical id). Each source
//! only says which of these it read; whether a reference names an identity, and which roles
//! EKS nodes run as, is decided here.

use crate::{Identity, IdentityKind, ResourceId};

/// A reference to an identity, as a source read it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdentityRef {
    /// Its IAM name, path included or not (`ci`, `/deploy/ci`).
    Name(String),
    /// Its ARN: how live APIs name it (an EKS node group's `nodeRole`).
    Arn(String),
    /// The name its source declares it under, in the scope the source links in: a Terraform
    /// address within its module instance (`module.ci.aws_iam_role.this`), a CloudFormation
    /// logical id.
    Declared(String),
}

impl IdentityRef {
    /// A role as code writes it where AWS takes a name or an ARN (`node_role_arn`,
    /// `NodeRole`, an instance profile's `role`): an ARN is read as the name it ends with,
    /// since code that declares the role knows it by name, not by the account's ARN.
    #[must_use]
    pub fn role_name_or_arn(text: &str) -> IdentityRef {
        IdentityRef::Name(text.rsplit('/').next().unwrap_or(text).to_string())
    }

    /// Whether this reference names `ident`, which its source declares as `declared`.
    #[must_use]
    pub fn names(&self, ident: &Identity, declared: &str) -> bool {
        match self {
            // IAM names carry no path; a reference may (`/deploy/ci` names `ci`).
            IdentityRef::Name(n) => ident
                .name
                .known()
                .is_some_and(|own| own == n || n.ends_with(&format!("/{own}"))),
            IdentityRef::Arn(arn) => matches!(&ident.id, ResourceId::Arn(a) if a == arn),
            IdentityRef::Declared(d) => d == declared,
        }
    }
}

/// Marks as EKS node roles the roles any of `node_roles` names; each identity comes with the
/// name its source declares it under.
pub fn mark_node_roles<'a>(
    identities: impl IntoIterator<Item = (&'a mut Identity, &'a str)>,
    node_roles: &[IdentityRef],
) {
    if node_roles.is_empty() {
        return;
    }
    for (ident, declared) in identities {
        if ident.kind == IdentityKind::Role && node_roles.iter().any(|r| r.names(ident, declared)) {
            ident.eks_node_role = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Origin, Value};

    fn role(id: ResourceId, name: &str) -> Identity {
        let origin = Origin::Aws {
            arn: id.label().to_string(),
            region: "us-east-1".into(),
            call: "iam:GetRole",
        };
        Identity {
            id,
            kind: IdentityKind::Role,
            name: Value::Set(name.into(), origin.clone()),
            origin,
            policies: Vec::new(),
            eks_node_role: false,
            groups: Vec::new(),
        }
    }

    #[test]
    fn a_reference_names_a_role_by_name_path_arn_or_declaration() {
        let arn = "arn:aws:iam::111122223333:role/nodes/eks-node";
        let live = role(ResourceId::Arn(arn.into()), "eks-node");
        assert!(IdentityRef::Arn(arn.into()).names(&live, ""));
        assert!(!IdentityRef::Arn(format!("{arn}-2")).names(&live, ""));
        let code = role(ResourceId::CloudFormation("NodeRole".into()), "eks-node");
        assert!(IdentityRef::role_name_or_arn(arn).names(&code, "NodeRole"));
        assert!(IdentityRef::Name("/nodes/eks-node".into()).names(&code, "NodeRole"));
        assert!(!IdentityRef::Name("eks-node-2".into()).names(&code, "NodeRole"));
        assert!(IdentityRef::Declared("NodeRole".into()).names(&code, "NodeRole"));
        assert!(!IdentityRef::Declared("Other".into()).names(&code, "NodeRole"));
    }

    #[test]
    fn only_roles_a_node_group_names_are_node_roles() {
        let mut a = role(ResourceId::CloudFormation("A".into()), "a");
        let mut b = role(ResourceId::CloudFormation("B".into()), "b");
        let mut user = role(ResourceId::CloudFormation("U".into()), "a");
        user.kind = IdentityKind::User;
        mark_node_roles(
            [(&mut a, "A"), (&mut b, "B"), (&mut user, "U")],
            &[IdentityRef::Name("a".into())],
        );
        assert!(a.eks_node_role);
        assert!(!b.eks_node_role);
        assert!(!user.eks_node_role, "a user is never a node role");
    }
}
