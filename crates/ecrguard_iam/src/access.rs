//! Whether one principal may perform one ECR action on one repository: IAM's evaluation
//! logic (docs/semantics.md §2.1) over identity policies and the repository policy, with what the
//! request context is known to hold (the repository's ARN, account and tags, the principal's
//! ARN and account). Everything else a condition asks about is unknown, and makes the answer
//! `Conditional` rather than a guess either way.
//!
//! Out of scope, and said so in output: permissions boundaries, service control policies,
//! resource control policies and session policies, which can only narrow access further.

use crate::catalog::ActionInfo;
use crate::condition::{BaseOperator, ConditionTest, ConditionValue, SetQualifier};
use crate::policy::{Effect, Pattern, Policy, PolicyKind, Statement};
use crate::principal::Who;
use crate::wildcard;

/// The answer for one action, ordered from no access to certain access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    /// Not allowed (no allow, or an explicit deny that surely applies).
    No,
    /// Allowed only if some condition the request context decides holds (an unknown key, an
    /// unresolved value, a deny that may apply).
    Conditional,
    /// Allowed.
    Yes,
}

impl Access {
    /// The word used in output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Access::No => "no",
            Access::Conditional => "conditional",
            Access::Yes => "yes",
        }
    }
}

/// Whether a statement applies to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Applies {
    No,
    Maybe,
    Yes,
}

impl Applies {
    fn and(self, other: Applies) -> Applies {
        self.min(other)
    }

    /// `NotResource`, `NotPrincipal`, negated operators: yes and no swap, maybe stays.
    fn negated_if(self, negated: bool) -> Applies {
        match (negated, self) {
            (false, a) | (true, a @ Applies::Maybe) => a,
            (true, Applies::Yes) => Applies::No,
            (true, Applies::No) => Applies::Yes,
        }
    }
}

/// Who asks.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The IAM user or role ARN.
    pub arn: &'a str,
    /// Its account.
    pub account: &'a str,
}

/// What is asked about.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The repository ARN.
    pub arn: &'a str,
    /// The owner account.
    pub account: &'a str,
    /// Its tags; `None` when they could not be read (tag conditions are then unknown).
    pub tags: Option<&'a [(String, String)]>,
}

/// Which statement let the caller in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant {
    /// The policy's label as the caller gave it (a policy name, `repository policy`).
    pub policy: String,
    /// Statement index.
    pub statement: usize,
    /// Whether the statement applies only under a condition that is not known.
    pub conditional: bool,
}

/// The decision for one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The answer.
    pub access: Access,
    /// The `Allow` statements that grant it (possibly conditionally).
    pub granted_by: Vec<Grant>,
    /// Whether an explicit `Deny` surely applies.
    pub denied: bool,
}

/// A policy and how to name it in output.
#[derive(Debug, Clone, Copy)]
pub struct LabelledPolicy<'a> {
    /// Name for output.
    pub label: &'a str,
    /// The policy.
    pub policy: &'a Policy,
}

/// Decides `action` for `caller` on `target`. Same account: an allow in either the identity
/// policies or the repository policy suffices; across accounts both must allow. An explicit
/// deny in either wins.
#[must_use]
pub fn decide(
    action: &ActionInfo,
    caller: Caller<'_>,
    target: Target<'_>,
    identity: &[LabelledPolicy<'_>],
    repository: Option<LabelledPolicy<'_>>,
) -> Decision {
    let cx = Request {
        action,
        caller,
        target,
    };
    let mut deny = Applies::No;
    let mut identity_allow = Applies::No;
    let mut resource_allow = Applies::No;
    let mut granted_by = Vec::new();
    let all = identity
        .iter()
        .map(|p| (p, false))
        .chain(repository.iter().map(|p| (p, true)));
    for (lp, is_resource) in all {
        let vars = lp.policy.variables_enabled();
        for st in &lp.policy.statements {
            let Some(effect) = st.effect else { continue };
            let applies = cx.statement(st, lp.policy.kind, effect, vars);
            if applies == Applies::No {
                continue;
            }
            match effect {
                Effect::Deny => deny = deny.max(applies),
                Effect::Allow => {
                    let slot = if is_resource {
                        &mut resource_allow
                    } else {
                        &mut identity_allow
                    };
                    *slot = (*slot).max(applies);
                    granted_by.push(Grant {
                        policy: lp.label.to_string(),
                        statement: st.index,
                        conditional: applies == Applies::Maybe,
                    });
                }
            }
        }
    }
    let allow = if caller.account == target.account {
        identity_allow.max(resource_allow)
    } else {
        identity_allow.and(resource_allow)
    };
    let access = match (allow, deny) {
        (_, Applies::Yes) | (Applies::No, _) => Access::No,
        (Applies::Yes, Applies::No) => Access::Yes,
        _ => Access::Conditional,
    };
    if access == Access::No {
        granted_by.clear();
    }
    Decision {
        access,
        granted_by,
        denied: deny == Applies::Yes,
    }
}

struct Request<'a> {
    action: &'a ActionInfo,
    caller: Caller<'a>,
    target: Target<'a>,
}

/// What the context holds for a key.
enum KeyValue<'a> {
    Present(&'a str),
    Absent,
    Unknown,
}

impl Request<'_> {
    fn statement(&self, st: &Statement, kind: PolicyKind, effect: Effect, vars: bool) -> Applies {
        let action = match st
            .action
            .as_ref()
            .and_then(|a| a.covers_catalogued(self.action))
        {
            Some(true) => Applies::Yes,
            Some(false) => return Applies::No,
            None => Applies::Maybe,
        };
        let resource = self.resource(st, kind, vars);
        if resource == Applies::No {
            return Applies::No;
        }
        let principal = if kind == PolicyKind::Identity {
            Applies::Yes
        } else {
            self.principal(st, effect)
        };
        if principal == Applies::No {
            return Applies::No;
        }
        let mut conditions = Applies::Yes;
        for t in &st.conditions {
            conditions = conditions.and(self.condition(t, vars));
            if conditions == Applies::No {
                return Applies::No;
            }
        }
        action.and(resource).and(principal).and(conditions)
    }

    fn resource(&self, st: &Statement, kind: PolicyKind, vars: bool) -> Applies {
        if kind == PolicyKind::Repository {
            // A repository policy applies to its own repository; `Resource` never narrows it.
            return Applies::Yes;
        }
        let Some(block) = &st.resource else {
            // A repository policy applies to its repository; an identity policy without a
            // resource is rejected by IAM and grants nothing.
            return if kind == PolicyKind::Identity {
                Applies::No
            } else {
                Applies::Yes
            };
        };
        let mut listed = Applies::No;
        for v in &block.values {
            let m = match v {
                Pattern::Known(p) if vars && p.contains("${") => Applies::Maybe,
                _ => match v.matches(self.target.arn) {
                    Some(true) => Applies::Yes,
                    Some(false) => Applies::No,
                    None => Applies::Maybe,
                },
            };
            listed = listed.max(m);
        }
        listed.negated_if(block.negated)
    }

    /// Whether a repository-policy statement names the caller. A whole account named in an
    /// `Allow` delegates to that account's identity policies: in the owner account it grants
    /// nobody by itself, across accounts it is the resource side of the handshake. In a `Deny`
    /// it covers every principal of the account.
    fn principal(&self, st: &Statement, effect: Effect) -> Applies {
        let Some(block) = &st.principal else {
            return Applies::No;
        };
        let own_account = self.caller.account == self.target.account;
        let mut listed = Applies::No;
        for p in &block.principals {
            let m = match &p.who {
                Who::Everyone => Applies::Yes,
                Who::Account(a) => {
                    let same = a == self.caller.account
                        || (a == crate::principal::SELF_ACCOUNT && own_account);
                    if !same || (effect == Effect::Allow && own_account && !block.negated) {
                        Applies::No
                    } else {
                        Applies::Yes
                    }
                }
                Who::Entity {
                    account,
                    unresolved_name,
                } => {
                    if unresolved_name.is_none() && p.raw == self.caller.arn {
                        Applies::Yes
                    } else if unresolved_name.is_some() && account == self.caller.account {
                        // A role or user of the caller's account whose name is not known.
                        Applies::Maybe
                    } else {
                        Applies::No
                    }
                }
                Who::WildcardArn { account } => match account {
                    Some(a) if a != self.caller.account => Applies::No,
                    _ if wildcard::matches(&p.raw, self.caller.arn) => Applies::Yes,
                    _ => Applies::No,
                },
                // A unique id may be the caller's; the ARN does not say.
                Who::UniqueId(_) | Who::Unknown(_) => Applies::Maybe,
                Who::Service(_) | Who::Foreign(_) | Who::Malformed(_) => Applies::No,
            };
            listed = listed.max(m);
        }
        listed.negated_if(block.negated)
    }

    fn key(&self, key: &str) -> KeyValue<'_> {
        let tag = key
            .strip_prefix("aws:resourcetag/")
            .or_else(|| key.strip_prefix("ecr:resourcetag/"));
        if let Some(tag) = tag {
            return match self.target.tags {
                None => KeyValue::Unknown,
                Some(tags) => tags
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(tag))
                    .map_or(KeyValue::Absent, |(_, v)| KeyValue::Present(v)),
            };
        }
        match key {
            "aws:principalarn" => KeyValue::Present(self.caller.arn),
            "aws:principalaccount" => KeyValue::Present(self.caller.account),
            "aws:resourceaccount" => KeyValue::Present(self.target.account),
            _ => KeyValue::Unknown,
        }
    }

    fn condition(&self, t: &ConditionTest, vars: bool) -> Applies {
        let Some(op) = t.operator else {
            return Applies::Maybe;
        };
        let value = match self.key(&t.key) {
            KeyValue::Unknown => return Applies::Maybe,
            KeyValue::Absent => {
                // `Null: "false"` asks for the key to be present.
                let present_wanted =
                    |v: &ConditionValue| v.as_literal().map(|s| s.eq_ignore_ascii_case("false"));
                return if op.base == BaseOperator::Null {
                    match t
                        .values
                        .iter()
                        .map(present_wanted)
                        .collect::<Option<Vec<_>>>()
                    {
                        Some(v) if v.iter().any(|w| !w) => Applies::Yes,
                        Some(_) => Applies::No,
                        None => Applies::Maybe,
                    }
                } else if op.if_exists
                    || op.base.is_negated()
                    || op.qualifier == Some(SetQualifier::ForAllValues)
                {
                    Applies::Yes
                } else {
                    Applies::No
                };
            }
            KeyValue::Present(v) => v,
        };
        if op.base == BaseOperator::Null {
            // The key is present: `Null: false` holds, `Null: true` does not.
            return if t.values.iter().any(|v| {
                v.as_literal()
                    .is_some_and(|s| s.eq_ignore_ascii_case("false"))
            }) {
                Applies::Yes
            } else if t.values.iter().all(|v| v.as_literal().is_some()) {
                Applies::No
            } else {
                Applies::Maybe
            };
        }
        let positive = op.base.positive();
        let mut any = Applies::No;
        for v in &t.values {
            let m = match v {
                ConditionValue::Unknown(_) => Applies::Maybe,
                ConditionValue::Literal(s) if vars && s.contains("${") => Applies::Maybe,
                ConditionValue::Literal(s) => match positive {
                    BaseOperator::StringEquals => tri(s == value),
                    BaseOperator::StringEqualsIgnoreCase => tri(s.eq_ignore_ascii_case(value)),
                    BaseOperator::StringLike | BaseOperator::ArnLike | BaseOperator::ArnEquals => {
                        tri(wildcard::matches(s, value))
                    }
                    // Numbers, dates, booleans and addresses are not what these keys hold.
                    _ => Applies::Maybe,
                },
            };
            any = any.max(m);
        }
        any.negated_if(op.base.is_negated())
    }
}

fn tri(b: bool) -> Applies {
    if b { Applies::Yes } else { Applies::No }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;
    use crate::policy::parse_text;

    const REPO: &str = "arn:aws:ecr:us-east-1:111111111111:repository/app";
    const CI: &str = "arn:aws:iam::111111111111:role/ci";

    fn identity(text: &str) -> Policy {
        let p = parse_text(text, PolicyKind::Identity).unwrap();
        assert!(!p.is_invalid(), "{:?}", p.problems);
        p
    }

    fn repository(text: &str) -> Policy {
        parse_text(text, PolicyKind::Repository).unwrap()
    }

    fn run(
        action: &str,
        caller: &str,
        tags: Option<&[(String, String)]>,
        id: &[&Policy],
        repo: Option<&Policy>,
    ) -> Decision {
        let labelled: Vec<_> = id
            .iter()
            .map(|p| LabelledPolicy {
                label: "identity",
                policy: p,
            })
            .collect();
        decide(
            catalog::find(action).unwrap(),
            Caller {
                arn: caller,
                account: caller.split(':').nth(4).unwrap(),
            },
            Target {
                arn: REPO,
                account: "111111111111",
                tags,
            },
            &labelled,
            repo.map(|p| LabelledPolicy {
                label: "repository policy",
                policy: p,
            }),
        )
    }

    #[test]
    fn identity_allow_and_deny() {
        let p = identity(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/*"},
              {"Effect":"Deny","Action":"ecr:DeleteRepository","Resource":"*"}]}"#,
        );
        assert_eq!(
            run("ecr:PutImage", CI, None, &[&p], None).access,
            Access::Yes
        );
        let d = run("ecr:DeleteRepository", CI, None, &[&p], None);
        assert_eq!(d.access, Access::No);
        assert!(d.denied && d.granted_by.is_empty());
        let other = identity(
            r#"{"Statement":[{"Effect":"Allow","Action":"ecr:PutImage","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/other"}]}"#,
        );
        assert_eq!(
            run("ecr:PutImage", CI, None, &[&other], None).access,
            Access::No
        );
        let not_resource = identity(
            r#"{"Statement":[{"Effect":"Allow","Action":"ecr:PutImage","NotResource":"arn:aws:ecr:us-east-1:111111111111:repository/other"}]}"#,
        );
        assert_eq!(
            run("ecr:PutImage", CI, None, &[&not_resource], None).access,
            Access::Yes
        );
    }

    #[test]
    fn resource_tags_decide_when_known() {
        let p = identity(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*",
              "Condition":{"StringEquals":{"ecr:ResourceTag/team":"core"}}}]}"#,
        );
        let core = [("team".to_string(), "core".to_string())];
        let web = [("team".to_string(), "web".to_string())];
        assert_eq!(
            run("ecr:PutImage", CI, Some(&core), &[&p], None).access,
            Access::Yes
        );
        assert_eq!(
            run("ecr:PutImage", CI, Some(&web), &[&p], None).access,
            Access::No
        );
        assert_eq!(
            run("ecr:PutImage", CI, Some(&[]), &[&p], None).access,
            Access::No
        );
        // Tags that could not be read leave it open, never "no".
        assert_eq!(
            run("ecr:PutImage", CI, None, &[&p], None).access,
            Access::Conditional
        );
        let negated = identity(
            r#"{"Statement":[{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*",
              "Condition":{"StringNotEquals":{"aws:ResourceTag/team":"core"}}}]}"#,
        );
        // Missing key: a negated operator is true.
        assert_eq!(
            run("ecr:PutImage", CI, Some(&[]), &[&negated], None).access,
            Access::Yes
        );
        let unknown_key = identity(
            r#"{"Statement":[{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*",
              "Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#,
        );
        let d = run("ecr:PutImage", CI, Some(&[]), &[&unknown_key], None);
        assert_eq!(d.access, Access::Conditional);
        assert!(d.granted_by[0].conditional);
    }

    #[test]
    fn repository_policy_same_and_cross_account() {
        let repo = repository(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/ci"},"Action":"ecr:PutImage"},
              {"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"ecr:DeleteRepository"},
              {"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"ecr:BatchGetImage"},
              {"Effect":"Deny","Principal":"*","Action":"ecr:SetRepositoryPolicy"}]}"#,
        );
        // Named role: the repository policy alone suffices in the owner account.
        let d = run("ecr:PutImage", CI, None, &[], Some(&repo));
        assert_eq!(d.access, Access::Yes);
        assert_eq!(d.granted_by[0].policy, "repository policy");
        // The own account named whole delegates to identity policies: no grant by itself.
        assert_eq!(
            run("ecr:DeleteRepository", CI, None, &[], Some(&repo)).access,
            Access::No
        );
        // Cross account: both sides must allow.
        let partner = "arn:aws:iam::222222222222:role/puller";
        assert_eq!(
            run("ecr:BatchGetImage", partner, None, &[], Some(&repo)).access,
            Access::No
        );
        let pull = identity(
            r#"{"Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}"#,
        );
        assert_eq!(
            run("ecr:BatchGetImage", partner, None, &[&pull], Some(&repo)).access,
            Access::Yes
        );
        // A deny in the repository policy beats an identity allow.
        let admin = identity(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#);
        assert_eq!(
            run("ecr:SetRepositoryPolicy", CI, None, &[&admin], Some(&repo)).access,
            Access::No
        );
    }

    #[test]
    fn conditional_denies_and_principal_conditions() {
        let repo = repository(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Principal":"*","Action":"ecr:PutImage",
               "Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/ci*"}}},
              {"Effect":"Deny","Principal":"*","Action":"ecr:PutImage",
               "Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}]}"#,
        );
        assert_eq!(
            run("ecr:PutImage", CI, None, &[], Some(&repo)).access,
            Access::Conditional
        );
        assert_eq!(
            run(
                "ecr:PutImage",
                "arn:aws:iam::111111111111:role/web",
                None,
                &[],
                Some(&repo)
            )
            .access,
            Access::No
        );
    }
}
