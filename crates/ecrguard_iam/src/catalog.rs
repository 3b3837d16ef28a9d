//! The ECR and ECR Public action catalogue (AWS Service Authorization Reference), generated
//! from `data/ecr-actions.json` by `tools/gen_action_catalog.py`.

use std::fmt;

/// AWS's access level of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessLevel {
    /// Read
    Read,
    /// List
    List,
    /// Write
    Write,
    /// Tagging
    Tagging,
    /// Permissions management
    PermissionsManagement,
}

/// What a grant of the action lets a party do, coarsely; ordered from least to most dangerous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActionClass {
    /// Describe or list metadata.
    List,
    /// Read metadata or pull images.
    Read,
    /// Push images, change settings or tags.
    Write,
    /// Delete images or the repository, or expire them.
    Delete,
    /// Change or remove the repository policy.
    PermissionsManagement,
}

impl ActionClass {
    /// Every class, least dangerous first.
    pub const ALL: [ActionClass; 5] = [
        ActionClass::List,
        ActionClass::Read,
        ActionClass::Write,
        ActionClass::Delete,
        ActionClass::PermissionsManagement,
    ];

    /// The kebab-case word used in output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ActionClass::List => "list",
            ActionClass::Read => "read",
            ActionClass::Write => "write",
            ActionClass::Delete => "delete",
            ActionClass::PermissionsManagement => "permissions-management",
        }
    }
}

impl fmt::Display for ActionClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a cross-account grant of the action is (classification in ecr-actions.json).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Risk {
    /// Not meaningful in a repository policy (account- or registry-level action).
    NotApplicable,
    /// Low
    Low,
    /// Medium
    Medium,
    /// High
    High,
    /// Critical
    Critical,
}

/// One action of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionInfo {
    /// Canonical name, e.g. `ecr:BatchGetImage`.
    pub name: &'static str,
    /// Lower-case name, for matching.
    pub lower: &'static str,
    /// AWS access level.
    pub access_level: AccessLevel,
    /// Derived class.
    pub class: ActionClass,
    /// Risk category (`read-image`, `write-image`, `destructive`...).
    pub risk_category: &'static str,
    /// Risk when granted cross-account.
    pub cross_account_risk: Risk,
    /// Whether the action has a repository resource type (grants something in a repository
    /// policy); `ecr:GetAuthorizationToken` does not.
    pub in_repository_policy: bool,
    /// Permission-only action (no API of that name).
    pub permission_only: bool,
}

impl ActionInfo {
    /// The service prefix (`ecr` or `ecr-public`).
    #[must_use]
    pub fn service(&self) -> &'static str {
        self.name.split_once(':').map_or("", |(s, _)| s)
    }
}

/// The whole catalogue, sorted by lower-case name.
#[must_use]
pub fn actions() -> &'static [ActionInfo] {
    crate::catalog_data::ACTIONS
}

/// Looks an action up by name, case-insensitively.
#[must_use]
pub fn find(name: &str) -> Option<&'static ActionInfo> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        find_lower(&name.to_ascii_lowercase())
    } else {
        find_lower(name)
    }
}

fn position_lower(lower: &str) -> Option<usize> {
    actions().binary_search_by(|a| a.lower.cmp(lower)).ok()
}

fn find_lower(lower: &str) -> Option<&'static ActionInfo> {
    position_lower(lower).map(|i| &actions()[i])
}

// One bit per catalogue action.
const _: () = assert!(crate::catalog_data::ACTIONS.len() <= 128);

/// A set of catalogue actions (one bit each). A policy's action patterns are expanded into
/// sets once, when the policy is read: every later question ("does this statement cover
/// `ecr:PutImage`?", asked for each action, each statement, each rule) is then a bit test
/// instead of a wildcard match per pattern.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ActionSet(u128);

impl ActionSet {
    /// Whether the set holds the action (an [`ActionInfo`] of this catalogue).
    #[must_use]
    pub fn contains(self, action: &ActionInfo) -> bool {
        index_of(action).is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Both sets together.
    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The actions, in catalogue order.
    pub fn iter(self) -> impl Iterator<Item = &'static ActionInfo> {
        actions()
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, a)| a)
    }
}

/// The catalogue position of an action: by address for the catalogue's own entries (what
/// every caller holds), by name for a copy.
fn index_of(action: &ActionInfo) -> Option<usize> {
    let base = actions().as_ptr() as usize;
    let offset = (action as *const ActionInfo as usize).wrapping_sub(base);
    let i = offset / std::mem::size_of::<ActionInfo>();
    if offset % std::mem::size_of::<ActionInfo>() == 0
        && actions().get(i).is_some_and(|a| std::ptr::eq(a, action))
    {
        return Some(i);
    }
    position_lower(action.lower)
}

/// The catalogue actions a lower-case action pattern (`ecr:put*`, `*`, `ecr:putimage`) matches,
/// with IAM's wildcard rules.
#[must_use]
pub fn matching(lower_pattern: &str) -> ActionSet {
    if !crate::wildcard::has_wildcard(lower_pattern) {
        return ActionSet(position_lower(lower_pattern).map_or(0, |i| 1 << i));
    }
    // Another service's pattern (`s3:get*`) matches nothing here: no need to try each action.
    if let Some((service, _)) = lower_pattern.split_once(':')
        && !crate::wildcard::has_wildcard(service)
        && service != "ecr"
        && service != "ecr-public"
    {
        return ActionSet(0);
    }
    ActionSet(
        actions()
            .iter()
            .enumerate()
            .filter(|(_, a)| crate::wildcard::matches(lower_pattern, a.lower))
            .fold(0, |bits, (i, _)| bits | (1 << i)),
    )
}

/// The actions of one service (`ecr` or `ecr-public`) that mean something in a repository
/// policy.
pub fn repository_actions(service: &str) -> impl Iterator<Item = &'static ActionInfo> + '_ {
    actions()
        .iter()
        .filter(move |a| a.in_repository_policy && a.service() == service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_sets_agree_with_wildcard_matching() {
        for pattern in [
            "*",
            "ecr:*",
            "ecr:put*",
            "ecr:*policy",
            "ecr:?etrepositorypolicy",
            "ecr-public:*",
            "ecr*",
            "*:*",
            "e*:get*",
            "s3:*",
            "s3:getobject",
            "ecr:putimage",
            "ecr:nosuchaction",
            "",
            "ecr:",
            "*image*",
        ] {
            let set = matching(pattern);
            for (i, a) in actions().iter().enumerate() {
                let want = crate::wildcard::matches(pattern, a.lower);
                assert_eq!(set.contains(a), want, "{pattern} vs {}", a.lower);
                // A copy of an entry is found by name.
                let copy = *a;
                assert_eq!(set.contains(&copy), want, "copy of {}", a.lower);
                assert_eq!(set.iter().any(|x| std::ptr::eq(x, &actions()[i])), want);
            }
        }
        assert!(matching("s3:*").is_empty());
        assert_eq!(
            matching("ecr:*").union(matching("ecr-public:*")),
            matching("ecr*:*")
        );
    }

    #[test]
    fn lookup_is_case_insensitive() {
        let a = find("ECR:batchgetimage").unwrap();
        assert_eq!(a.name, "ecr:BatchGetImage");
        assert_eq!(a.class, ActionClass::Read);
        assert!(find("ecr:NoSuchThing").is_none());
    }

    #[test]
    fn classes_follow_the_documented_mapping() {
        let class = |n| find(n).unwrap().class;
        assert_eq!(
            class("ecr:SetRepositoryPolicy"),
            ActionClass::PermissionsManagement
        );
        assert_eq!(
            class("ecr:DeleteRepositoryPolicy"),
            ActionClass::PermissionsManagement
        );
        assert_eq!(
            class("ecr-public:DeleteRepositoryPolicy"),
            ActionClass::PermissionsManagement
        );
        assert_eq!(class("ecr:BatchDeleteImage"), ActionClass::Delete);
        assert_eq!(class("ecr:DeleteRepository"), ActionClass::Delete);
        assert_eq!(class("ecr:PutImage"), ActionClass::Write);
        assert_eq!(class("ecr:TagResource"), ActionClass::Write);
        assert_eq!(class("ecr:ListImages"), ActionClass::List);
        assert!(
            !find("ecr:GetAuthorizationToken")
                .unwrap()
                .in_repository_policy
        );
    }

    /// The committed table must match the repository's `data/ecr-actions.json` (regenerate
    /// with `python3 tools/gen_action_catalog.py`), and that file the copy in `../shared` when
    /// one is beside the repository (CI), so neither can go stale silently.
    #[test]
    fn catalog_matches_the_data_file() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let text = std::fs::read_to_string(format!("{root}/data/ecr-actions.json"))
            .expect("data/ecr-actions.json is part of the repository");
        match std::fs::read_to_string(format!("{root}/../shared/docs/ecr-actions.json")) {
            Ok(shared) => assert_eq!(
                serde_json::from_str::<serde_json::Value>(&shared).unwrap(),
                serde_json::from_str::<serde_json::Value>(&text).unwrap(),
                "data/ecr-actions.json differs from ../shared/docs/ecr-actions.json"
            ),
            Err(_) => {
                #[allow(clippy::print_stderr)]
                {
                    // Past the test harness's capture: a skip is said even when the test passes.
                    let _ = std::io::Write::write_all(&mut std::io::stderr(), b"skipped: ../shared/docs/ecr-actions.json not found (comparing with data/ only)\n");
                }
            }
        }
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let list = json.as_array().unwrap();
        assert_eq!(list.len(), actions().len(), "regenerate the catalogue");
        for entry in list {
            let name = entry["action"].as_str().unwrap();
            let a = find(name).unwrap_or_else(|| panic!("{name} missing: regenerate"));
            assert_eq!(a.name, name);
            assert_eq!(
                a.in_repository_policy,
                entry["effective_in_repository_policy"].as_bool().unwrap(),
                "{name}"
            );
            assert_eq!(
                a.risk_category,
                entry["risk_category"].as_str().unwrap(),
                "{name}"
            );
            let level = match entry["access_level"].as_str().unwrap() {
                "Read" => AccessLevel::Read,
                "List" => AccessLevel::List,
                "Write" => AccessLevel::Write,
                "Tagging" => AccessLevel::Tagging,
                "Permissions management" => AccessLevel::PermissionsManagement,
                other => panic!("new access level {other}"),
            };
            assert_eq!(a.access_level, level, "{name}");
        }
        assert!(
            actions().windows(2).all(|w| w[0].lower < w[1].lower),
            "sorted for lookup"
        );
    }
}
