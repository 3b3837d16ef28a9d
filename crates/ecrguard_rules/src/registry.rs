//! The static list of rules, and look-up by code or name.

use crate::rule::{Rule, RuleMeta};
use crate::rules::{
    cluster_node_role_ecr_write::ClusterNodeRoleEcrWrite,
    creation_template_policy_public::CreationTemplatePolicyPublic,
    encryption_not_cmk::EncryptionNotCmk,
    identity_policy_broad_ecr_access::IdentityPolicyBroadEcrAccess,
    image_tag_mutable::ImageTagMutable, lifecycle_policy_missing::LifecyclePolicyMissing,
    policy_invalid::PolicyInvalid, public_repository_unapproved::PublicRepositoryUnapproved,
    registry_policy_untrusted::RegistryPolicyUntrusted,
    replication_untrusted_destination::ReplicationUntrustedDestination,
    repository_policy_broad_actions::RepositoryPolicyBroadActions,
    repository_policy_cross_account::RepositoryPolicyCrossAccount,
    repository_policy_public::RepositoryPolicyPublic,
    repository_without_policy::RepositoryWithoutPolicy, scan_on_push_disabled::ScanOnPushDisabled,
    service_principal_unscoped::ServicePrincipalUnscoped,
};

/// Every rule, in code order. Codes are a contract: never reuse or renumber.
pub static RULES: &[&dyn Rule] = &[
    &RepositoryWithoutPolicy,
    &RepositoryPolicyPublic,
    &RepositoryPolicyCrossAccount,
    &RepositoryPolicyBroadActions,
    &IdentityPolicyBroadEcrAccess,
    &RegistryPolicyUntrusted,
    &CreationTemplatePolicyPublic,
    &PolicyInvalid,
    &ClusterNodeRoleEcrWrite,
    &ImageTagMutable,
    &ScanOnPushDisabled,
    &EncryptionNotCmk,
    &LifecyclePolicyMissing,
    &PublicRepositoryUnapproved,
    &ServicePrincipalUnscoped,
    &ReplicationUntrustedDestination,
];

/// Findings about suppressions themselves, produced by [`crate::suppression::apply`].
pub static SUPPRESSION_RULES: &[&RuleMeta] = &[
    &crate::suppression::SUPPRESSION_UNUSED,
    &crate::suppression::SUPPRESSION_EXPIRED,
    &crate::suppression::SUPPRESSION_INVALID,
    &crate::suppression::BASELINE_ENTRY_UNMATCHED,
];

/// Finds a rule by code (`ECR002`, any case) or name (`repository-policy-public`).
#[must_use]
pub fn find(code_or_name: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| {
        r.meta().code.eq_ignore_ascii_case(code_or_name)
            || r.meta().name.eq_ignore_ascii_case(code_or_name)
    })
}

/// Finds any rule's metadata, suppression rules included.
#[must_use]
pub fn find_meta(code_or_name: &str) -> Option<&'static RuleMeta> {
    metas().find(|m| {
        m.code.eq_ignore_ascii_case(code_or_name) || m.name.eq_ignore_ascii_case(code_or_name)
    })
}

/// The rules that read a source, in code order.
pub fn for_source(source: crate::SourceKind) -> impl Iterator<Item = &'static dyn Rule> {
    RULES
        .iter()
        .copied()
        .filter(move |r| r.meta().sources.contains(&source))
}

/// Every rule's metadata, in code order.
pub fn metas() -> impl Iterator<Item = &'static RuleMeta> {
    RULES
        .iter()
        .map(|r| r.meta())
        .chain(SUPPRESSION_RULES.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code list is a stable contract: a rename or renumbering shows up here in review.
    #[test]
    fn codes_and_names_are_a_stable_contract() {
        let got: Vec<String> = metas().map(|m| format!("{} {}", m.code, m.name)).collect();
        let want = [
            "ECR001 repository-without-policy",
            "ECR002 repository-policy-public",
            "ECR003 repository-policy-cross-account",
            "ECR004 repository-policy-broad-actions",
            "ECR005 identity-policy-broad-ecr-access",
            "ECR006 registry-policy-untrusted",
            "ECR007 creation-template-policy-public",
            "ECR008 policy-invalid",
            "ECR009 cluster-node-role-ecr-write",
            "ECR010 image-tag-mutable",
            "ECR011 scan-on-push-disabled",
            "ECR012 encryption-not-cmk",
            "ECR013 lifecycle-policy-missing",
            "ECR014 public-repository-unapproved",
            "ECR015 service-principal-unscoped",
            "ECR016 replication-untrusted-destination",
            "ECR090 suppression-unused",
            "ECR091 suppression-expired",
            "ECR092 suppression-invalid",
            "ECR093 baseline-entry-unmatched",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn codes_and_names_are_well_formed_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for m in metas() {
            assert!(
                m.code.len() == 6
                    && m.code.starts_with("ECR")
                    && m.code[3..].bytes().all(|b| b.is_ascii_digit()),
                "{}",
                m.code
            );
            assert!(
                m.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
                    && !m.name.starts_with('-'),
                "{}",
                m.name
            );
            assert!(seen.insert(m.code) && seen.insert(m.name));
            assert!(!m.summary.is_empty() && !m.summary.ends_with('.'));
        }
    }

    /// Every rule documents what, why, an example, how to fix (Terraform, CLI, console) and
    /// references, and no section is empty.
    #[test]
    fn docs_have_every_section_filled() {
        let sections = [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## How to fix",
            "## References",
        ];
        for m in metas() {
            let mut last = 0;
            for s in sections {
                let at = m
                    .docs
                    .find(s)
                    .unwrap_or_else(|| panic!("{}: missing {s}", m.code));
                assert!(at >= last, "{}: {s} out of order", m.code);
                last = at;
                let body = &m.docs[at + s.len()..];
                let body = body.split("\n## ").next().unwrap_or("");
                assert!(body.trim().len() > 20, "{}: {s} is empty", m.code);
            }
            for fix in ["Terraform:", "CLI:", "Console:"] {
                assert!(m.docs.contains(fix), "{}: How to fix lacks {fix}", m.code);
            }
            assert!(m.docs.contains("https://"), "{}: no reference link", m.code);
        }
    }

    #[test]
    fn find_by_code_or_name() {
        assert_eq!(
            find("ecr002").unwrap().meta().name,
            "repository-policy-public"
        );
        assert_eq!(find("policy-invalid").unwrap().meta().code, "ECR008");
        assert!(find("ECR999").is_none());
    }
}
