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

/// The actions a statement grants, in words: "every action (`*`)" and "every ECR action
/// (`ecr:*`)" when it says so, else the names (the first few, then how many more).
pub(crate) fn granted_actions<'a>(
    st: &ecrguard_iam::policy::Statement,
    names: impl IntoIterator<Item = &'a &'static str>,
) -> String {
    if let Some(block) = st.action.as_ref().filter(|b| !b.negated) {
        let raw = |want: &str| {
            block
                .patterns
                .iter()
                .any(|p| p.raw.eq_ignore_ascii_case(want))
        };
        if raw("*") {
            return "every action (`*`)".into();
        }
        if raw("ecr:*") {
            return "every ECR action (`ecr:*`)".into();
        }
    }
    list_actions(names)
}

/// A repository setting, named the way the finding's source names it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Setting {
    TagMutability,
    KmsKey,
    ScanOnPush,
    LifecyclePolicy,
    RepositoryPolicy,
}

/// How the source of `id` writes `setting`: a Terraform attribute or resource, a
/// CloudFormation property, a field of the Kubernetes object, or the ECR API call.
pub(crate) fn setting_name(id: &ecrguard_model::ResourceId, setting: Setting) -> &'static str {
    use ecrguard_model::ResourceId as R;
    match (id, setting) {
        (R::Terraform(_), Setting::TagMutability) => "`image_tag_mutability`",
        (R::Terraform(_), Setting::KmsKey) => {
            "`encryption_configuration { encryption_type = \"KMS\", kms_key = ... }`"
        }
        (R::Terraform(_), Setting::ScanOnPush) => {
            "`image_scanning_configuration { scan_on_push = true }`"
        }
        (R::Terraform(_), Setting::LifecyclePolicy) => "an `aws_ecr_lifecycle_policy`",
        (R::Terraform(_), Setting::RepositoryPolicy) => "an `aws_ecr_repository_policy`",
        (R::CloudFormation(_), Setting::TagMutability) => "`ImageTagMutability`",
        (R::CloudFormation(_), Setting::KmsKey) => {
            "`EncryptionConfiguration` with `EncryptionType: KMS` and a `KmsKey`"
        }
        (R::CloudFormation(_), Setting::ScanOnPush) => {
            "`ImageScanningConfiguration.ScanOnPush: true`"
        }
        (R::CloudFormation(_), Setting::LifecyclePolicy) => "`LifecyclePolicy.LifecyclePolicyText`",
        (R::CloudFormation(_), Setting::RepositoryPolicy) => "`RepositoryPolicyText`",
        (R::Kubernetes(_), Setting::TagMutability) => "`imageTagMutability`",
        (R::Kubernetes(_), Setting::KmsKey) => {
            "`encryptionConfiguration` with `encryptionType: KMS` and a `kmsKey`"
        }
        (R::Kubernetes(_), Setting::ScanOnPush) => "`imageScanningConfiguration.scanOnPush: true`",
        (R::Kubernetes(_), Setting::LifecyclePolicy) => {
            "a lifecycle policy (`lifecyclePolicy` or a `LifecyclePolicy` object)"
        }
        (R::Kubernetes(_), Setting::RepositoryPolicy) => {
            "a repository policy (`policy` or a `RepositoryPolicy` object)"
        }
        (_, Setting::TagMutability) => "tag mutability (`ecr:PutImageTagMutability`)",
        (_, Setting::KmsKey) => {
            "KMS encryption with a customer managed key (set when the repository is created)"
        }
        (_, Setting::ScanOnPush) => "scan on push (`ecr:PutImageScanningConfiguration`)",
        (_, Setting::LifecyclePolicy) => "a lifecycle policy (`ecr:PutLifecyclePolicy`)",
        (_, Setting::RepositoryPolicy) => "a repository policy (`ecr:SetRepositoryPolicy`)",
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
            assumes: Vec::new(),
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
                        assumes: Vec::new(),
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

#[cfg(test)]
mod words {
    use crate::{Settings, check};
    use ecrguard_model::*;

    /// A finding speaks its source's language: a Terraform attribute, a CloudFormation
    /// property, a Kubernetes field, an API call; never another source's.
    #[test]
    fn findings_name_settings_the_way_their_source_writes_them() {
        let mut db = SourceDb::default();
        let origin = Origin::File(db.add("x", ""));
        let words = |id: ResourceId| {
            let mut r = Repository::unknown(id, origin.clone(), "test");
            r.tag_mutability = Value::Default(TagMutability::Mutable, origin.clone());
            r.encryption = Value::Default(
                Encryption {
                    kind: EncryptionKind::Aes256,
                    kms_key: None,
                },
                origin.clone(),
            );
            let state = EcrState {
                repositories: vec![r],
                ..EcrState::default()
            };
            check(&state, &Settings::default())
                .iter()
                .filter(|f| f.rule.code == "ECR010" || f.rule.code == "ECR012")
                .map(|f| format!("{} {}", f.message, f.help.clone().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let tf = words(ResourceId::Terraform("aws_ecr_repository.app".into()));
        let cfn = words(ResourceId::CloudFormation("App".into()));
        let k8s = words(ResourceId::Kubernetes("Repository/app".into()));
        let live = words(ResourceId::Arn(
            "arn:aws:ecr:us-east-1:111111111111:repository/app".into(),
        ));
        assert!(
            tf.contains("`image_tag_mutability` is not set") && tf.contains("kms_key"),
            "{tf}"
        );
        assert!(
            cfn.contains("`ImageTagMutability` is not set") && cfn.contains("`KmsKey`"),
            "{cfn}"
        );
        assert!(
            k8s.contains("`imageTagMutability`") && k8s.contains("`kmsKey`"),
            "{k8s}"
        );
        assert!(live.contains("ecr:PutImageTagMutability"), "{live}");
        for (text, foreign) in [
            (&cfn, "image_tag_mutability"),
            (&cfn, "kms_key"),
            (&tf, "ImageTagMutability"),
            (&k8s, "kms_key"),
        ] {
            assert!(!text.contains(foreign), "{foreign} in {text}");
        }
    }

    #[test]
    fn a_wildcard_action_is_every_action() {
        for (action, want) in [
            ("*", "every action (`*`)"),
            ("ecr:*", "every ECR action (`ecr:*`)"),
        ] {
            let text = format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"{action}"}}]}}"#
            );
            let state = super::testing::repo_with_policy(&text);
            let f = check(&state, &Settings::default())
                .into_iter()
                .find(|f| f.rule.code == "ECR002")
                .unwrap();
            assert!(f.message.ends_with(want), "{}", f.message);
        }
    }
}
