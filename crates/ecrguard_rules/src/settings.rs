//! Validated settings the rules take (the binary resolves config files and flags into these).

use crate::rule::Severity;
use std::collections::{BTreeMap, BTreeSet};

/// What the rules need to know about the user's world.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The account that owns the resources, when the source does not say.
    pub owner_account: Option<String>,
    /// Accounts allowed to be granted access (ECR003, ECR006).
    pub trusted_accounts: BTreeSet<String>,
    /// Organizations (`o-...`) allowed to be granted access.
    pub trusted_orgs: BTreeSet<String>,
    /// Globs of ECR Public repository names that are approved (ECR014).
    pub approved_public_repositories: Vec<String>,
    /// Per-rule severity overrides, by code.
    pub severity_overrides: BTreeMap<&'static str, Severity>,
}

impl Settings {
    /// Whether an account is the owner or trusted.
    #[must_use]
    pub fn is_trusted_account(&self, account: &str, owner: Option<&str>) -> bool {
        owner == Some(account)
            || account == ecrguard_iam::analysis::SELF_ACCOUNT
            || self.trusted_accounts.contains(account)
    }

    /// Whether an organization is trusted (the owner's own organization always is).
    #[must_use]
    pub fn is_trusted_org(&self, org: &str) -> bool {
        org == ecrguard_iam::analysis::SELF_ACCOUNT || self.trusted_orgs.contains(org)
    }
}
