//! Who can pull, push, delete and change the policy of each repository (CIS Amazon EKS
//! 5.1.2/5.1.3, Kubescape C-0222): every IAM user and role of the model against every
//! repository, identity policies (own, groups', inline and managed) and the repository
//! policy evaluated together by [`ecrguard_iam::access::decide`].
//!
//! Only repositories and identities named by ARN take part (the live audit); IaC addresses
//! have no ARN to match a `Resource` against.
//!
//! Not evaluated, and said so: permissions boundaries, SCPs, RCPs and session policies (they
//! only narrow), and the registry policy (it grants replication and pull-through cache
//! actions, not repository access).

#![deny(missing_docs)]

use ecrguard_iam::access::{self, Access, Caller, Grant, LabelledPolicy, Target};
use ecrguard_iam::catalog::{self, ActionClass, ActionInfo};
use ecrguard_iam::principal::{Arn, Who};
use ecrguard_iam::{Policy, policy::Effect};
use ecrguard_model::{EcrState, Identity, IdentityKind, PolicyState, ResourceId};
use std::collections::{BTreeMap, BTreeSet};

/// The label of the repository policy in [`Grant::policy`].
pub const REPOSITORY_POLICY: &str = "repository policy";

/// What one principal can do to one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalAccess {
    /// The user or role ARN.
    pub principal: String,
    /// User or role.
    pub kind: IdentityKind,
    /// The strongest answer per action class (every class present).
    pub classes: BTreeMap<ActionClass, Access>,
    /// The actions granted, yes or conditionally.
    pub actions: BTreeMap<&'static str, Access>,
    /// The statements that grant each class.
    pub granted_by: BTreeMap<ActionClass, BTreeSet<Grant>>,
}

impl PrincipalAccess {
    /// The answer for one class.
    #[must_use]
    pub fn class(&self, class: ActionClass) -> Access {
        self.classes.get(&class).copied().unwrap_or(Access::No)
    }
}

/// Everyone who can do something to one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryAccess {
    /// Its ARN.
    pub repository: String,
    /// Owner account.
    pub account: String,
    /// Region.
    pub region: Option<String>,
    /// Principals with any access, by ARN.
    pub principals: Vec<PrincipalAccess>,
    /// What could not be evaluated for this repository (policy unreadable, tags unknown).
    pub incomplete: Vec<String>,
}

/// A principal some of whose policies could not be read: its rows may miss access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unevaluated {
    /// The user or role ARN.
    pub principal: String,
    /// Why, one reason per unreadable policy.
    pub reasons: Vec<String>,
}

/// The whole matrix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessMatrix {
    /// One entry per repository with an ARN, in model order.
    pub repositories: Vec<RepositoryAccess>,
    /// Principals whose policies were partly unreadable.
    pub unevaluated: Vec<Unevaluated>,
    /// Principals considered.
    pub principals: usize,
}

/// One user or role, its policies gathered (groups' included).
struct Subject<'a> {
    arn: &'a str,
    account: &'a str,
    kind: IdentityKind,
    policies: Vec<LabelledPolicy<'a>>,
    /// The repository actions some `Allow` of its own policies could grant.
    candidates: Vec<&'static ActionInfo>,
}

fn arn_of(id: &ResourceId) -> Option<&str> {
    match id {
        ResourceId::Arn(a) => Some(a),
        _ => None,
    }
}

/// The repository actions an `Allow` statement of `policy` may cover.
fn allowed_actions(policy: &Policy, out: &mut BTreeSet<&'static str>) {
    for st in &policy.statements {
        if st.effect != Some(Effect::Allow) {
            continue;
        }
        let Some(block) = &st.action else { continue };
        for a in catalog::repository_actions("ecr") {
            if block.covers_catalogued(a) != Some(false) {
                out.insert(a.name);
            }
        }
    }
}

fn subjects(state: &EcrState) -> (Vec<Subject<'_>>, Vec<Unevaluated>) {
    let mut groups: BTreeMap<(&str, &str), &Identity> = BTreeMap::new();
    for i in &state.identities {
        if let (IdentityKind::Group, Some(arn), Some(name)) =
            (i.kind, arn_of(&i.id), i.name.known())
        {
            let account = Arn::parse(arn).map_or("", |a| a.account);
            groups.insert((account, name.as_str()), i);
        }
    }
    let mut out = Vec::new();
    let mut unevaluated = Vec::new();
    for i in &state.identities {
        if i.kind == IdentityKind::Group {
            continue;
        }
        let Some(arn) = arn_of(&i.id) else { continue };
        let account = Arn::parse(arn).map_or("", |a| a.account);
        let mut policies = Vec::new();
        let mut reasons = Vec::new();
        let mut sources: Vec<(&str, &ecrguard_model::IdentityPolicy)> =
            i.policies.iter().map(|p| ("", p)).collect();
        for g in &i.groups {
            match groups.get(&(account, g.as_str())) {
                Some(group) => sources.extend(group.policies.iter().map(|p| (g.as_str(), p))),
                None => reasons.push(format!("group `{g}` was not read")),
            }
        }
        for (group, p) in sources {
            match &p.document {
                PolicyState::Present(doc) => policies.push(LabelledPolicy {
                    label: &p.name,
                    policy: &doc.policy,
                }),
                PolicyState::Absent(_) => {}
                PolicyState::Unparseable { error: why, .. } | PolicyState::Unknown(why, _) => {
                    let via = if group.is_empty() {
                        String::new()
                    } else {
                        format!(" (group `{group}`)")
                    };
                    reasons.push(format!("policy `{}`{via}: {why}", p.name));
                }
            }
        }
        if !reasons.is_empty() {
            unevaluated.push(Unevaluated {
                principal: arn.to_string(),
                reasons,
            });
        }
        let mut names = BTreeSet::new();
        for p in &policies {
            allowed_actions(p.policy, &mut names);
        }
        out.push(Subject {
            arn,
            account,
            kind: i.kind,
            policies,
            candidates: names.into_iter().filter_map(catalog::find).collect(),
        });
    }
    (out, unevaluated)
}

/// Whether a repository policy's `Allow` statements could name principals of `account`
/// (or everyone), and which actions they may grant.
fn policy_reach(policy: &Policy, account: &str) -> (bool, BTreeSet<&'static str>) {
    let mut reaches = false;
    let mut names = BTreeSet::new();
    for st in &policy.statements {
        if st.effect != Some(Effect::Allow) {
            continue;
        }
        let Some(block) = &st.principal else { continue };
        let named = block.negated
            || block.principals.iter().any(|p| match &p.who {
                Who::Everyone | Who::UniqueId(_) | Who::Unknown(_) => true,
                Who::Account(a) => a == account,
                Who::Entity { account: a, .. } => a == account,
                Who::WildcardArn { account: a } => a.as_deref().is_none_or(|a| a == account),
                Who::Service(_) | Who::Foreign(_) | Who::Malformed(_) => false,
            });
        if named {
            reaches = true;
            if let Some(actions) = &st.action {
                for a in catalog::repository_actions("ecr") {
                    if actions.covers_catalogued(a) != Some(false) {
                        names.insert(a.name);
                    }
                }
            }
        }
    }
    (reaches, names)
}

/// The class an action counts in: AWS files a pull-through cache import
/// (`ecr:BatchImportUpstreamImage`, and `ecr:CreateRepository` as the cache uses it) under
/// write, but it only copies the upstream's image into the cache's repository, so it counts
/// as read (a pull), not as a push.
fn matrix_class(a: &ActionInfo) -> ActionClass {
    if ecrguard_iam::identity::PULL_THROUGH_IMPORT.contains(&a.name) {
        ActionClass::Read
    } else {
        a.class
    }
}

/// Builds the matrix.
#[must_use]
pub fn matrix(state: &EcrState) -> AccessMatrix {
    let (subjects, unevaluated) = subjects(state);
    let mut out = AccessMatrix {
        principals: subjects.len(),
        unevaluated,
        ..AccessMatrix::default()
    };
    for repo in &state.repositories {
        let Some(arn) = arn_of(&repo.id) else {
            continue;
        };
        let account = repo
            .account
            .clone()
            .or_else(|| Arn::parse(arn).map(|a| a.account.to_string()))
            .unwrap_or_default();
        let mut incomplete = Vec::new();
        let tags = match repo.tags.known() {
            Some(t) => Some(t.as_slice()),
            None => {
                incomplete
                    .push("tags unknown: `ecr:ResourceTag` conditions are not decided".into());
                None
            }
        };
        let policy = match &repo.policy {
            PolicyState::Present(doc) => Some(&doc.policy),
            PolicyState::Absent(_) => None,
            PolicyState::Unparseable { error: why, .. } | PolicyState::Unknown(why, _) => {
                incomplete.push(format!("repository policy not evaluated: {why}"));
                None
            }
        };
        let repository = policy.map(|p| LabelledPolicy {
            label: REPOSITORY_POLICY,
            policy: p,
        });
        let target = Target {
            arn,
            account: &account,
            tags,
        };
        let mut principals = Vec::new();
        for s in &subjects {
            let (reaches, from_policy) = match policy {
                Some(p) => policy_reach(p, s.account),
                None => (false, BTreeSet::new()),
            };
            // Another account's identities reach the repository only through its policy.
            if s.account != account && !reaches {
                continue;
            }
            let mut actions: Vec<&'static ActionInfo> = s.candidates.clone();
            actions.extend(from_policy.into_iter().filter_map(catalog::find));
            actions.sort_by_key(|a| a.name);
            actions.dedup_by_key(|a| a.name);
            let caller = Caller {
                arn: s.arn,
                account: s.account,
            };
            let mut row = PrincipalAccess {
                principal: s.arn.to_string(),
                kind: s.kind,
                classes: ActionClass::ALL.iter().map(|c| (*c, Access::No)).collect(),
                actions: BTreeMap::new(),
                granted_by: BTreeMap::new(),
            };
            for a in actions {
                let d = access::decide(a, caller, target, &s.policies, repository);
                if d.access == Access::No {
                    continue;
                }
                row.actions.insert(a.name, d.access);
                let class = matrix_class(a);
                let slot = row.classes.entry(class).or_insert(Access::No);
                *slot = (*slot).max(d.access);
                row.granted_by
                    .entry(class)
                    .or_default()
                    .extend(d.granted_by);
            }
            if !row.actions.is_empty() {
                principals.push(row);
            }
        }
        principals.sort_by(|a, b| a.principal.cmp(&b.principal));
        out.repositories.push(RepositoryAccess {
            repository: arn.to_string(),
            account,
            region: repo.region.clone(),
            principals,
            incomplete,
        });
    }
    out
}

#[cfg(test)]
mod tests;
