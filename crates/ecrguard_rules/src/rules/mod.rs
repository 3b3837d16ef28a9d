//! One file per rule: docs, metadata, check and tests.

pub mod cluster_node_role_ecr_write;
pub mod creation_template_policy_public;
pub mod encryption_not_cmk;
pub mod identity_policy_broad_ecr_access;
pub mod image_tag_mutable;
pub mod lifecycle_policy_missing;
pub mod policy_invalid;
pub mod public_repository_unapproved;
pub mod registry_policy_untrusted;
pub mod replication_untrusted_destination;
pub mod repository_policy_broad_actions;
pub mod repository_policy_cross_account;
pub mod repository_policy_public;
pub mod repository_without_policy;
pub mod scan_on_push_disabled;
pub mod service_principal_unscoped;

use ecrguard_iam::analysis::StatementAnalysis;

/// `ecr:A`, `ecr:B` and 3 more: a short list for messages.
pub(crate) fn list_actions<'a>(names: impl IntoIterator<Item = &'a &'static str>) -> String {
    let names: Vec<&str> = names.into_iter().copied().collect();
    const SHOWN: usize = 3;
    let head = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        format!("{head} and {} more", names.len() - SHOWN)
    } else {
        head
    }
}

/// Notes saying which conditions of a statement did not narrow it, and why.
pub(crate) fn loose_condition_notes(sa: &StatementAnalysis) -> Vec<String> {
    sa.conditions
        .iter()
        .filter(|c| !c.restricts)
        .map(|c| c.reason.clone())
        .collect()
}

/// "Role", "User", "Group".
pub(crate) fn identity_noun(kind: ecrguard_model::IdentityKind) -> &'static str {
    match kind {
        ecrguard_model::IdentityKind::User => "User",
        ecrguard_model::IdentityKind::Role => "Role",
        ecrguard_model::IdentityKind::Group => "Group",
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builds states from policy text for rule tests.
    use crate::{Finding, Settings, check};
    use ecrguard_iam::PolicyKind;
    use ecrguard_model::*;

    pub(crate) fn repo_with_policy(text: &str) -> EcrState {
        let mut db = SourceDb::default();
        let file = db.add("policy.json", text);
        let origin = Origin::File(file);
        let policy =
            ecrguard_iam::parse_text(text, PolicyKind::Repository).expect("test policy parses");
        let mut repo = Repository::unknown(
            ResourceId::Terraform("aws_ecr_repository.app".into()),
            origin.clone(),
            "not in test",
        );
        repo.name = Value::Set("app".into(), origin.clone());
        repo.policy = PolicyState::Present(Box::new(PolicyDoc {
            policy,
            origin,
            declared_by: ResourceId::Terraform("aws_ecr_repository_policy.app".into()),
        }));
        EcrState {
            repositories: vec![repo],
            ..EcrState::default()
        }
    }

    pub(crate) fn identity_state(text: &str, eks_node_role: bool) -> EcrState {
        let mut db = SourceDb::default();
        let origin = Origin::File(db.add("role.json", text));
        let policy =
            ecrguard_iam::parse_text(text, PolicyKind::Identity).expect("test policy parses");
        let id = ResourceId::Terraform("aws_iam_role.nodes".into());
        EcrState {
            identities: vec![Identity {
                id: id.clone(),
                kind: IdentityKind::Role,
                name: Value::Set("nodes".into(), origin.clone()),
                origin: origin.clone(),
                policies: vec![IdentityPolicy {
                    name: "inline".into(),
                    document: PolicyState::Present(Box::new(PolicyDoc {
                        policy,
                        origin,
                        declared_by: id,
                    })),
                }],
                eks_node_role,
                groups: Vec::new(),
            }],
            ..EcrState::default()
        }
    }

    pub(crate) fn codes(state: &EcrState, settings: &Settings, code: &str) -> Vec<Finding> {
        check(state, settings)
            .into_iter()
            .filter(|f| f.rule.code == code)
            .collect()
    }

    pub(crate) fn owner() -> Settings {
        Settings {
            owner_account: Some("111111111111".into()),
            ..Settings::default()
        }
    }
}
