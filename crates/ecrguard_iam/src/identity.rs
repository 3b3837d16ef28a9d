//! What an IAM identity policy grants on ECR repositories (for "who can push, delete or
//! change policy" questions: CIS Amazon EKS 5.1.2 / 5.1.3, Kubescape C-0222).

use crate::catalog::{self, ActionClass};
use crate::partial::Partial;
use crate::policy::{Effect, Pattern, Policy, Statement};
use crate::principal::Arn;
use crate::wildcard;
use std::collections::BTreeSet;

/// ECR actions one `Allow` statement of an identity policy grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityGrant {
    /// Statement index.
    pub statement: usize,
    /// Granted actions (catalogue names), after unconditional denies.
    pub actions: BTreeSet<&'static str>,
    /// Whether the statement covers every repository (`*`, `repository/*`, `NotResource`).
    pub every_repository: bool,
    /// Whether a positive `aws:ResourceTag` / `ecr:ResourceTag` condition scopes it to tagged
    /// repositories.
    pub tag_scoped: bool,
    /// Whether a value was unresolved.
    pub incomplete: bool,
    /// Why, when a resource or action value left the answer open.
    pub unresolved: Option<String>,
}

/// What a pull-through cache needs beyond pulling: importing an upstream image into a cache
/// repository (`ecr:BatchImportUpstreamImage`) and creating that repository on the first pull
/// (`ecr:CreateRepository`). AWS's `AmazonEC2ContainerRegistryPullOnly` grants the import to
/// every node that pulls through a cache. The image comes from the cache rule's fixed upstream
/// into the rule's own prefix: neither action puts an image the caller chooses into a
/// repository, nor changes an existing repository, so for identity policies they are an
/// import, not a push (ECR005, ECR009). In repository and registry policies they keep their
/// catalogue class.
pub const PULL_THROUGH_IMPORT: [&str; 2] = ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"];

impl IdentityGrant {
    /// The granted actions that write, delete or change permissions, pull-through imports
    /// left out ([`PULL_THROUGH_IMPORT`]), in name order.
    #[must_use]
    pub fn risky_actions(&self) -> Vec<&'static str> {
        self.actions_at_least(ActionClass::Write)
            .into_iter()
            .filter(|a| !PULL_THROUGH_IMPORT.contains(a))
            .collect()
    }

    /// The granted actions of `class` or a more dangerous one, in name order.
    #[must_use]
    pub fn actions_at_least(&self, class: ActionClass) -> Vec<&'static str> {
        self.actions
            .iter()
            .copied()
            .filter(|n| catalog::find(n).is_some_and(|a| a.class >= class))
            .collect()
    }

    /// The classes of the granted actions.
    #[must_use]
    pub fn classes(&self) -> BTreeSet<ActionClass> {
        self.actions
            .iter()
            .filter_map(|n| catalog::find(n))
            .map(|a| a.class)
            .collect()
    }
}

/// Whether an ARN pattern covers every ECR repository of some account.
#[must_use]
pub fn covers_every_repository(pattern: &str) -> bool {
    if pattern.chars().all(|c| c == '*') && !pattern.is_empty() {
        return true;
    }
    let Some(arn) = Arn::parse(pattern) else {
        return false;
    };
    if !wildcard::matches(&arn.service.to_ascii_lowercase(), "ecr")
        && !wildcard::matches(&arn.service.to_ascii_lowercase(), "ecr-public")
    {
        return false;
    }
    // The name part must match any name: `repository/*`, `*`, `repo*`.
    wildcard::matches(arn.resource, "repository/any-name-at-all")
        && wildcard::matches(arn.resource, "repository/zz")
}

fn statement_every_repository(st: &Statement) -> Option<bool> {
    let block = st.resource.as_ref()?;
    if block.negated {
        // NotResource grants everything it does not list.
        return Some(true);
    }
    let mut every = false;
    let mut undecided = false;
    for v in &block.values {
        match v {
            Pattern::Known(p) => every |= covers_every_repository(p),
            Pattern::Partial(p) => match partial_covers_every_repository(p) {
                Some(covers) => every |= covers,
                None => undecided = true,
            },
            Pattern::Unknown(_) => undecided = true,
        }
    }
    if every || !undecided {
        Some(every)
    } else {
        None
    }
}

/// [`covers_every_repository`] for a pattern known in part. Unknown partition, region or
/// account fields do not change the answer (`arn:aws:ecr:${region}:${account}:repository/*`
/// covers every repository of whichever account it is); an unknown service or repository
/// name leaves it undecided unless even the widest reading covers less.
#[must_use]
pub fn partial_covers_every_repository(pattern: &Partial) -> Option<bool> {
    if !covers_every_repository(&pattern.widest_pattern()) {
        return Some(false);
    }
    match pattern.arn_fields() {
        Some((text, holes)) if !holes.service && !holes.resource => {
            Some(covers_every_repository(&text))
        }
        _ => None,
    }
}

/// The ECR grants of an identity policy, one per `Allow` statement that grants any.
#[must_use]
pub fn ecr_grants(policy: &Policy) -> Vec<IdentityGrant> {
    let repo_actions: Vec<_> = catalog::actions()
        .iter()
        .filter(|a| a.in_repository_policy)
        .collect();
    // Unconditional denies on every repository remove actions outright; conditional ones may
    // not apply, so they are ignored (conservative).
    let denied: BTreeSet<&'static str> = policy
        .statements
        .iter()
        .filter(|s| {
            s.effect == Some(Effect::Deny)
                && s.conditions.is_empty()
                && statement_every_repository(s) == Some(true)
        })
        .filter_map(|s| s.action.as_ref())
        .flat_map(|a| {
            repo_actions
                .iter()
                .filter(|x| a.covers_catalogued(x) == Some(true))
                .map(|x| x.name)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut out = Vec::new();
    for st in &policy.statements {
        if st.effect != Some(Effect::Allow) {
            continue;
        }
        let Some(action) = &st.action else { continue };
        let actions: BTreeSet<&'static str> = repo_actions
            .iter()
            .filter(|a| action.covers_catalogued(a) == Some(true) && !denied.contains(a.name))
            .map(|a| a.name)
            .collect();
        // A statement whose actions are all unresolved is kept (with no sure actions) so that
        // what it may grant is reported as not evaluated.
        if actions.is_empty() && !action.patterns.iter().any(|p| p.may_match_ecr()) {
            continue;
        }
        let every = statement_every_repository(st);
        let tag_scoped = st.conditions.iter().any(|c| {
            (c.key.starts_with("aws:resourcetag/") || c.key.starts_with("ecr:resourcetag/"))
                && c.operator
                    .is_some_and(|o| !o.base.is_negated() && !o.if_exists && o.qualifier.is_none())
        });
        let unresolved_action = action.patterns.iter().find(|p| p.may_match_ecr());
        let unresolved = if every.is_none() {
            st.resource
                .iter()
                .flat_map(|b| &b.values)
                .find_map(Pattern::unresolved)
                .map(|why| format!("whether `Resource` covers every repository: {why}"))
        } else {
            unresolved_action.map(|p| format!("action `{}` is not fully known", p.raw))
        };
        out.push(IdentityGrant {
            statement: st.index,
            actions,
            every_repository: every.unwrap_or(false),
            tag_scoped,
            incomplete: unresolved.is_some(),
            unresolved,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{PolicyKind, parse_text};

    #[test]
    fn repository_patterns() {
        for (p, want) in [
            ("*", true),
            ("arn:aws:ecr:*:*:repository/*", true),
            ("arn:aws:ecr:us-east-1:111111111111:repository/*", true),
            ("arn:aws:ecr:us-east-1:111111111111:*", true),
            ("arn:aws:ecr:us-east-1:111111111111:repository/app", false),
            (
                "arn:aws:ecr:us-east-1:111111111111:repository/team-*",
                false,
            ),
            ("arn:aws:s3:::bucket/*", false),
        ] {
            assert_eq!(covers_every_repository(p), want, "{p}");
        }
    }

    #[test]
    fn grants_with_denies_and_tags() {
        let p = parse_text(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":"ecr:*","Resource":"*"},
              {"Effect":"Deny","Action":"ecr:Delete*","Resource":"*"},
              {"Effect":"Allow","Action":"ecr:PutImage","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"core"}}},
              {"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
            PolicyKind::Identity,
        )
        .unwrap();
        assert!(!p.is_invalid(), "{:?}", p.problems);
        let g = ecr_grants(&p);
        assert_eq!(g.len(), 2);
        assert!(
            g[0].every_repository
                && !g[0].actions.contains("ecr:DeleteRepository")
                && g[0].actions.contains("ecr:PutImage")
        );
        assert!(g[1].tag_scoped);
    }

    #[test]
    fn identity_policy_grammar() {
        let p = parse_text(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}"#,
            PolicyKind::Identity,
        )
        .unwrap();
        let msgs: Vec<_> = p.problems.iter().map(|p| p.message.as_str()).collect();
        assert!(
            msgs.iter().any(|m| m.contains("cannot name a `Principal`")),
            "{msgs:?}"
        );
        assert!(msgs.iter().any(|m| m.contains("no `Resource`")), "{msgs:?}");
    }
}
