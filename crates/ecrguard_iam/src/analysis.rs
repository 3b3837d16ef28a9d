//! Decides who a policy lets in, the way IAM Access Analyzer does for ECR (docs/semantics.md
//! §2): per statement and per action, the principals an `Allow` admits, narrowed by its
//! restricting conditions, then by the `Deny` statements that certainly apply.
//!
//! Conservative where IAM is ambiguous: a condition narrows only when it surely narrows, a
//! `Deny` narrows only when it surely applies, and anything unresolved is reported as
//! incomplete rather than guessed.

use crate::catalog::{self, ActionClass, ActionInfo};
use crate::condition::{BaseOperator, ConditionTest, ConditionValue, SetQualifier};
use crate::policy::{Effect, Policy, PolicyKind, Statement};
use crate::principal::{Arn, Who, is_account_id};
use crate::wildcard::has_wildcard;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub use crate::principal::SELF_ACCOUNT;

/// Who a grant reaches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Party {
    /// Anyone (`*`).
    Everyone,
    /// Anyone who reaches the repository through these network paths (VPCs, endpoints, CIDRs).
    Network(String),
    /// An account (a whole account or principals in it).
    Account(String),
    /// Members of an organization (`self` for the owner's own organization).
    Org(String),
    /// Any account, through a service principal not scoped to a source (confused deputy).
    Service(String),
    /// A party whose account cannot be known from the policy (a unique user id, an S3 ARN,
    /// a Federated principal...).
    Unidentified(String),
}

impl Party {
    /// The label used in output: `*`, `123456789012`, `org:o-abc`, `service:...`,
    /// `network:...`, `unknown:...`.
    #[must_use]
    pub fn label(&self) -> String {
        match self {
            Party::Everyone => "*".to_string(),
            Party::Network(n) => format!("network:{n}"),
            Party::Account(a) => a.clone(),
            Party::Org(o) => format!("org:{o}"),
            Party::Service(s) => format!("service:{s}"),
            Party::Unidentified(u) => format!("unknown:{u}"),
        }
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// The verdict on a policy or statement, mirroring Access Analyzer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Only the owner account.
    Private,
    /// Specific external accounts, organizations or services.
    CrossAccount,
    /// Anyone, but only through named VPCs, endpoints or IP ranges.
    NetworkRestricted,
    /// Anyone.
    Public,
    /// AWS would reject the policy.
    Invalid,
}

impl Verdict {
    /// The word used in output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Private => "private",
            Verdict::CrossAccount => "cross-account",
            Verdict::NetworkRestricted => "network-restricted",
            Verdict::Public => "public",
            Verdict::Invalid => "invalid",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the analysis needs besides the policy.
#[derive(Debug, Clone, Default)]
pub struct AnalysisOptions {
    /// The account that owns the resource, when known. Without it every named account is
    /// treated as external, except [`SELF_ACCOUNT`].
    pub owner: Option<String>,
}

/// How one condition test of a statement was judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionNote {
    /// Index into the statement's `conditions`.
    pub test: usize,
    /// Whether it narrows who is let in.
    pub restricts: bool,
    /// Why (one sentence, no trailing period).
    pub reason: String,
}

/// The outcome for one statement.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementAnalysis {
    /// Index in the policy.
    pub index: usize,
    /// Effect, if readable.
    pub effect: Option<Effect>,
    /// For an `Allow`: who gets which actions after the `Deny` statements (owner included).
    pub grants: BTreeMap<Party, BTreeSet<&'static str>>,
    /// Verdict of this statement alone (after denies); `Private` for a `Deny`.
    pub verdict: Verdict,
    /// How each condition test was judged.
    pub conditions: Vec<ConditionNote>,
    /// Indexes of `Deny` statements that narrowed this one.
    pub narrowed_by: Vec<usize>,
    /// What could not be evaluated (unresolved principal, action or condition value).
    pub incomplete: Vec<String>,
    /// Whether it grants every action of the service (`*`, `ecr:*`, or `Allow` + `NotAction`).
    pub broad_actions: bool,
    /// Service principals it names that no source condition scopes.
    pub unscoped_services: Vec<String>,
}

impl StatementAnalysis {
    /// The parties outside the owner account this statement reaches.
    pub fn external<'a>(&'a self, owner: Option<&'a str>) -> impl Iterator<Item = &'a Party> + 'a {
        self.grants.keys().filter(move |p| !is_owner(p, owner))
    }
}

/// The outcome for a whole policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// The worst verdict; `Invalid` when AWS would reject the policy.
    pub verdict: Verdict,
    /// The verdict ignoring validity: what the policy would do if accepted.
    pub effective_verdict: Verdict,
    /// Parties outside the owner account, sorted.
    pub external: BTreeSet<Party>,
    /// Action classes each external party gets.
    pub access: BTreeMap<Party, BTreeSet<ActionClass>>,
    /// Per statement.
    pub statements: Vec<StatementAnalysis>,
    /// Whether some part could not be evaluated.
    pub incomplete: bool,
}

fn is_owner(p: &Party, owner: Option<&str>) -> bool {
    match p {
        Party::Account(a) => a == SELF_ACCOUNT || owner == Some(a.as_str()),
        _ => false,
    }
}

/// Analyses a parsed policy.
#[must_use]
pub fn analyze(policy: &Policy, opts: &AnalysisOptions) -> Analysis {
    let owner = opts.owner.as_deref();
    let actions: Vec<&'static ActionInfo> =
        catalog::repository_actions(policy.kind.service()).collect();
    let vars = policy.variables_enabled();
    let denies: Vec<(usize, DenyShape)> = policy
        .statements
        .iter()
        .filter(|s| s.effect == Some(Effect::Deny))
        .map(|s| (s.index, deny_shape(s, vars)))
        .collect();

    let mut statements = Vec::with_capacity(policy.statements.len());
    for st in &policy.statements {
        statements.push(analyze_statement(
            st,
            policy.kind,
            vars,
            &actions,
            &denies,
            owner,
        ));
    }

    let mut external = BTreeSet::new();
    let mut access: BTreeMap<Party, BTreeSet<ActionClass>> = BTreeMap::new();
    let mut effective = Verdict::Private;
    let mut incomplete = false;
    for s in &statements {
        effective = effective.max(s.verdict);
        incomplete |= !s.incomplete.is_empty();
        for (party, names) in &s.grants {
            if is_owner(party, owner) {
                continue;
            }
            external.insert(party.clone());
            let classes = access.entry(party.clone()).or_default();
            for n in names {
                if let Some(a) = actions.iter().find(|a| a.name == *n) {
                    classes.insert(a.class);
                }
            }
        }
    }
    Analysis {
        verdict: if policy.is_invalid() {
            Verdict::Invalid
        } else {
            effective
        },
        effective_verdict: effective,
        external,
        access,
        statements,
        incomplete,
    }
}

fn verdict_of<'a>(parties: impl Iterator<Item = &'a Party>, owner: Option<&str>) -> Verdict {
    parties.fold(Verdict::Private, |v, p| {
        v.max(match p {
            Party::Everyone => Verdict::Public,
            Party::Network(_) => Verdict::NetworkRestricted,
            p if is_owner(p, owner) => Verdict::Private,
            _ => Verdict::CrossAccount,
        })
    })
}

fn analyze_statement(
    st: &Statement,
    kind: PolicyKind,
    vars: bool,
    actions: &[&'static ActionInfo],
    denies: &[(usize, DenyShape)],
    owner: Option<&str>,
) -> StatementAnalysis {
    let mut out = StatementAnalysis {
        index: st.index,
        effect: st.effect,
        grants: BTreeMap::new(),
        verdict: Verdict::Private,
        conditions: Vec::new(),
        narrowed_by: Vec::new(),
        incomplete: Vec::new(),
        broad_actions: false,
        unscoped_services: Vec::new(),
    };
    if st.effect.is_none() && st.span.is_some() && st.principal.is_none() && st.action.is_none() {
        // Not an object at all, or an unresolved statement.
        out.incomplete.push(match &st.unresolved {
            Some(why) => format!("statement {} is not known: {why}", st.label()),
            None => format!("statement {} could not be read", st.label()),
        });
        return out;
    }
    if st.effect != Some(Effect::Allow) {
        return out;
    }
    let (Some(principal), Some(action)) = (&st.principal, &st.action) else {
        return out;
    };
    out.broad_actions = action.negated
        || action
            .patterns
            .iter()
            .any(|p| p.is_service_wide(kind.service()));

    // Conditions: judge each test once.
    let mut judged = Vec::with_capacity(st.conditions.len());
    for (i, test) in st.conditions.iter().enumerate() {
        let j = judge_allow_test(test, vars);
        out.conditions.push(ConditionNote {
            test: i,
            restricts: !matches!(j, Judged::Loose(_) | Judged::Unresolved),
            reason: j.reason(test),
        });
        if matches!(j, Judged::Unresolved) {
            out.incomplete.push(format!(
                "condition `{}` on `{}` has an unresolved value",
                test.operator_name, test.key_name
            ));
        }
        judged.push(j);
    }
    if judged.iter().any(|j| matches!(j, Judged::Unresolved)) {
        // A test that may restrict who gets in has an unresolved value: who gets in cannot
        // be decided, and an undecided grant is never reported as public.
        return out;
    }
    if judged.iter().any(|j| matches!(j, Judged::Nothing)) {
        // A test no request can pass: the statement grants nothing.
        return out;
    }
    let identity = intersect_all(judged.iter().filter_map(|j| match j {
        Judged::Identity(s) => Some(s),
        _ => None,
    }));
    let source = intersect_all(judged.iter().filter_map(|j| match j {
        Judged::Source(s) => Some(s),
        _ => None,
    }));
    let network: Vec<&str> = judged
        .iter()
        .filter_map(|j| match j {
            Judged::Network(n) => Some(n.as_str()),
            _ => None,
        })
        .collect();

    // Who the principal element names, narrowed by the conditions.
    let mut audience: BTreeSet<Party> = BTreeSet::new();
    let everyone_base = principal.negated
        || principal
            .principals
            .iter()
            .any(|p| p.who == Who::Everyone || p.who == (Who::WildcardArn { account: None }));
    if everyone_base {
        if let Some(id) = &identity {
            audience.extend(id.iter().cloned());
        } else if let Some(src) = &source {
            audience.extend(src.iter().cloned());
        } else if !network.is_empty() {
            audience.insert(Party::Network(network.join(",")));
        } else {
            audience.insert(Party::Everyone);
        }
    }
    if !principal.negated {
        for p in &principal.principals {
            let base = match &p.who {
                Who::Everyone | Who::WildcardArn { account: None } => continue,
                Who::Account(a)
                | Who::Entity { account: a, .. }
                | Who::WildcardArn { account: Some(a) } => Party::Account(a.clone()),
                Who::Service(s) => {
                    if let Some(src) = &source {
                        audience.extend(src.iter().cloned());
                    } else if let Some(id) = &identity {
                        audience.extend(id.iter().cloned());
                    } else {
                        out.unscoped_services.push(s.clone());
                        audience.insert(Party::Service(s.clone()));
                    }
                    continue;
                }
                // An orphaned unique id matches no principal that exists: it grants nothing.
                Who::UniqueId(_) => continue,
                Who::Foreign(x) | Who::Malformed(x) => Party::Unidentified(x.clone()),
                Who::Unknown(why) => {
                    out.incomplete
                        .push(format!("principal is unresolved ({why})"));
                    continue;
                }
            };
            match &identity {
                Some(id) => audience.extend(intersect(&BTreeSet::from([base]), id)),
                None => {
                    audience.insert(base);
                }
            }
        }
    }
    if action.patterns.iter().any(|p| p.may_match_ecr()) {
        out.incomplete.push("an action is unresolved".to_string());
    }

    if audience.is_empty() {
        out.verdict = Verdict::Private;
        return out;
    }
    let covered: Vec<&'static ActionInfo> = actions
        .iter()
        .copied()
        .filter(|a| action.covers_catalogued(a) == Some(true))
        .collect();
    if covered.is_empty() {
        return out;
    }
    // Without a Deny that applies, every party gets every covered action.
    let applicable_denies: Vec<&(usize, DenyShape)> =
        denies.iter().filter(|(_, d)| d.applies.is_some()).collect();
    if applicable_denies.is_empty() {
        let names: BTreeSet<&'static str> = covered.iter().map(|a| a.name).collect();
        for party in audience {
            out.grants.insert(party, names.clone());
        }
        out.verdict = verdict_of(out.grants.keys(), owner);
        return out;
    }
    // Per action: apply the denies that cover it.
    for a in covered {
        let mut who = audience.clone();
        for (deny_index, shape) in applicable_denies.iter().copied() {
            if who.is_empty() {
                break;
            }
            let Some(deny) = &shape.applies else { continue };
            if shape.action.as_ref().and_then(|b| b.covers_catalogued(a)) != Some(true) {
                continue;
            }
            let before = who.len();
            let narrowed = apply_deny(&who, deny);
            if narrowed != who || narrowed.len() != before {
                if !out.narrowed_by.contains(deny_index) {
                    out.narrowed_by.push(*deny_index);
                }
                who = narrowed;
            }
        }
        for party in who {
            out.grants.entry(party).or_default().insert(a.name);
        }
    }
    out.verdict = verdict_of(out.grants.keys(), owner);
    out
}

/// A condition test of an `Allow`, judged.
enum Judged {
    /// Narrows callers to these parties (identity keys).
    Identity(BTreeSet<Party>),
    /// Narrows to services acting on behalf of these parties (`aws:Source*`); direct callers
    /// lack the key and are locked out.
    Source(BTreeSet<Party>),
    /// Narrows to a network path.
    Network(String),
    /// Does not narrow; the reason.
    Loose(&'static str),
    /// No request can pass it.
    Nothing,
    /// A value is unresolved.
    Unresolved,
}

impl Judged {
    fn reason(&self, t: &ConditionTest) -> String {
        match self {
            Judged::Identity(s) | Judged::Source(s) => format!(
                "`{}` on `{}` restricts callers to {}",
                t.operator_name,
                t.key_name,
                s.iter().map(Party::label).collect::<Vec<_>>().join(", ")
            ),
            Judged::Network(n) => format!(
                "`{}` on `{}` restricts the network path to {n}",
                t.operator_name, t.key_name
            ),
            Judged::Loose(why) => format!(
                "`{}` on `{}` does not restrict who: {why}",
                t.operator_name, t.key_name
            ),
            Judged::Nothing => format!(
                "`{}` on `{}` can never match, so the statement grants nothing",
                t.operator_name, t.key_name
            ),
            Judged::Unresolved => format!(
                "`{}` on `{}` has an unresolved value",
                t.operator_name, t.key_name
            ),
        }
    }
}

/// Keys that are present on every authenticated request, so `IfExists` does not open them.
fn always_present(key: &str) -> bool {
    matches!(
        key,
        "aws:principalaccount" | "aws:principalarn" | "aws:userid"
    )
}

/// What kind of thing a condition key pins down.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    PrincipalAccount,
    PrincipalArn,
    PrincipalOrgId,
    PrincipalOrgPaths,
    UserId,
    SourceAccount,
    SourceArn,
    SourceOrgId,
    SourceOrgPaths,
    Vpc,
    SourceIp,
}

fn key_kind(key: &str) -> Option<KeyKind> {
    Some(match key {
        "aws:principalaccount" => KeyKind::PrincipalAccount,
        "aws:principalarn" => KeyKind::PrincipalArn,
        "aws:principalorgid" => KeyKind::PrincipalOrgId,
        "aws:principalorgpaths" => KeyKind::PrincipalOrgPaths,
        "aws:userid" => KeyKind::UserId,
        "aws:sourceaccount" | "aws:sourceowner" => KeyKind::SourceAccount,
        "aws:sourcearn" => KeyKind::SourceArn,
        "aws:sourceorgid" => KeyKind::SourceOrgId,
        "aws:sourceorgpaths" => KeyKind::SourceOrgPaths,
        "aws:sourcevpc" | "aws:sourcevpce" => KeyKind::Vpc,
        "aws:sourceip" => KeyKind::SourceIp,
        _ => return None,
    })
}

fn loose_reason(key: &str) -> &'static str {
    match key {
        "aws:username" => {
            "user names are unique only inside one account; any account can create the same name"
        }
        "aws:securetransport" => "it is about transport, not the caller",
        "aws:currenttime" | "aws:epochtime" => "it is about time, not the caller",
        "aws:useragent" | "aws:referer" => "the caller chooses its value",
        "aws:resourceaccount" | "aws:resourceorgid" | "aws:resourceorgpaths" => {
            "it describes the repository, not the caller"
        }
        k if k.starts_with("aws:resourcetag/") || k.starts_with("ecr:resourcetag/") => {
            "it describes the repository, not the caller"
        }
        k if k.starts_with("aws:principaltag/")
            || k.starts_with("aws:requesttag/")
            || k == "aws:tagkeys" =>
        {
            "tags can be set by the caller's own account"
        }
        _ => "the key does not identify the caller's account, organization or network",
    }
}

/// The value one condition value pins, for a key kind.
enum Pinned {
    Party(Party),
    Network(String),
    /// Matches anything (a wildcard in the identifying part, `/0`, a variable).
    Unbounded,
    /// Matches nothing (a literal `*` under `StringEquals`, a variable under 2008-10-17).
    Never,
}

fn pin_value(kind: KeyKind, op: BaseOperator, raw: &str, vars: bool) -> Pinned {
    let wild = op.expands_wildcards();
    if raw.contains("${") {
        if !vars {
            // Version 2008-10-17: policy variables are literal text, which no real value equals.
            return if wild && has_wildcard(raw) {
                Pinned::Unbounded
            } else {
                Pinned::Never
            };
        }
        return match (kind, raw.to_ascii_lowercase().as_str()) {
            (KeyKind::PrincipalAccount | KeyKind::SourceAccount, "${aws:resourceaccount}") => {
                Pinned::Party(Party::Account(SELF_ACCOUNT.into()))
            }
            (KeyKind::PrincipalOrgId | KeyKind::SourceOrgId, "${aws:resourceorgid}") => {
                Pinned::Party(Party::Org(SELF_ACCOUNT.into()))
            }
            _ => Pinned::Unbounded,
        };
    }
    let literal_wildcard = !wild && has_wildcard(raw);
    match kind {
        KeyKind::PrincipalAccount | KeyKind::SourceAccount => {
            if literal_wildcard {
                Pinned::Never
            } else if wild && has_wildcard(raw) {
                Pinned::Unbounded
            } else if is_account_id(raw) {
                Pinned::Party(Party::Account(raw.to_string()))
            } else {
                Pinned::Never
            }
        }
        KeyKind::PrincipalArn | KeyKind::SourceArn => {
            let Some(arn) = Arn::parse(raw) else {
                return if wild && has_wildcard(raw) {
                    Pinned::Unbounded
                } else {
                    Pinned::Never
                };
            };
            if literal_wildcard && !matches!(op.positive(), BaseOperator::ArnEquals) {
                return Pinned::Never;
            }
            if has_wildcard(arn.account) {
                Pinned::Unbounded
            } else if is_account_id(arn.account) {
                Pinned::Party(Party::Account(arn.account.to_string()))
            } else if arn.account.is_empty()
                && !has_wildcard(arn.resource)
                && !arn.resource.is_empty()
            {
                // e.g. an S3 bucket ARN: fixed, but its account cannot be read off it.
                Pinned::Party(Party::Unidentified(raw.to_string()))
            } else {
                Pinned::Unbounded
            }
        }
        KeyKind::PrincipalOrgId | KeyKind::SourceOrgId => {
            if literal_wildcard {
                Pinned::Never
            } else if wild && has_wildcard(raw) {
                Pinned::Unbounded
            } else {
                Pinned::Party(Party::Org(raw.to_string()))
            }
        }
        KeyKind::PrincipalOrgPaths | KeyKind::SourceOrgPaths => {
            let org = raw.split('/').next().unwrap_or("");
            if !wild {
                if has_wildcard(raw) {
                    Pinned::Never
                } else {
                    Pinned::Party(Party::Org(org.to_string()))
                }
            } else if has_wildcard(org) || org.is_empty() {
                Pinned::Unbounded
            } else {
                Pinned::Party(Party::Org(org.to_string()))
            }
        }
        KeyKind::UserId => {
            // `AROAID:*` stays bounded to one role; a wildcard anywhere before the colon opens it.
            let (id, _) = raw.split_once(':').unwrap_or((raw, ""));
            if literal_wildcard {
                Pinned::Never
            } else if id.is_empty() || has_wildcard(id) {
                Pinned::Unbounded
            } else {
                Pinned::Party(Party::Unidentified(format!("userid:{raw}")))
            }
        }
        KeyKind::Vpc => {
            if literal_wildcard {
                Pinned::Never
            } else if wild && has_wildcard(raw) {
                Pinned::Unbounded
            } else {
                Pinned::Network(raw.to_string())
            }
        }
        KeyKind::SourceIp => {
            let prefix_len = raw.rsplit_once('/').map(|(_, l)| l);
            if prefix_len == Some("0") {
                Pinned::Unbounded
            } else {
                Pinned::Network(raw.to_string())
            }
        }
    }
}

fn judge_allow_test(t: &ConditionTest, vars: bool) -> Judged {
    let Some(op) = t.operator else {
        return Judged::Loose("the operator is invalid");
    };
    let Some(kind) = key_kind(&t.key) else {
        return Judged::Loose(loose_reason(&t.key));
    };
    if op.base.is_negated() {
        return Judged::Loose(
            "a negated operator is true for every caller it does not list, and for callers that lack the key",
        );
    }
    if op.qualifier == Some(SetQualifier::ForAllValues) {
        return Judged::Loose("`ForAllValues` is true when the key is missing");
    }
    if op.if_exists && !always_present(&t.key) {
        return Judged::Loose("`IfExists` lets in every caller whose request lacks the key");
    }
    let ip = kind == KeyKind::SourceIp;
    if (ip && op.base != BaseOperator::IpAddress) || (!ip && !op.base.is_string_or_arn_match()) {
        return Judged::Loose("the operator does not compare the caller's identity");
    }
    let mut parties = BTreeSet::new();
    let mut nets = Vec::new();
    for v in &t.values {
        let Some(raw) = v.as_literal() else {
            return Judged::Unresolved;
        };
        match pin_value(kind, op.base, raw, vars) {
            Pinned::Party(p) => {
                parties.insert(p);
            }
            Pinned::Network(n) => nets.push(n),
            Pinned::Unbounded => {
                return Judged::Loose(
                    "a value has a wildcard in the part that identifies the caller",
                );
            }
            Pinned::Never => {}
        }
    }
    if !nets.is_empty() {
        return Judged::Network(nets.join(","));
    }
    if parties.is_empty() {
        return Judged::Nothing;
    }
    match kind {
        KeyKind::SourceAccount
        | KeyKind::SourceArn
        | KeyKind::SourceOrgId
        | KeyKind::SourceOrgPaths => Judged::Source(parties),
        _ => Judged::Identity(parties),
    }
}

/// Intersects scopes; `None` means "no scope given" (everyone).
fn intersect_all<'a>(
    mut scopes: impl Iterator<Item = &'a BTreeSet<Party>>,
) -> Option<BTreeSet<Party>> {
    let first = scopes.next()?.clone();
    Some(scopes.fold(first, |acc, s| intersect(&acc, s)))
}

/// Who is in both sets. Accounts and organizations cannot be compared without knowing
/// membership, so an account meets an organization (or an unidentified party) as the account:
/// the conservative reading keeps the more specific party.
fn intersect(a: &BTreeSet<Party>, b: &BTreeSet<Party>) -> BTreeSet<Party> {
    let keep = |x: &BTreeSet<Party>, y: &BTreeSet<Party>| -> Vec<Party> {
        x.iter()
            .filter(|p| {
                y.contains(p)
                    || (matches!(p, Party::Account(_) | Party::Unidentified(_))
                        && y.iter()
                            .any(|q| matches!(q, Party::Org(_) | Party::Unidentified(_))))
            })
            .cloned()
            .collect()
    };
    keep(a, b).into_iter().chain(keep(b, a)).collect()
}

/// What a `Deny` statement surely does to callers.
struct DenyShape {
    action: Option<crate::policy::ActionBlock>,
    applies: Option<DenyEffect>,
}

enum DenyEffect {
    /// Denies every caller.
    All,
    /// Denies every caller outside these parties.
    Fence(BTreeSet<Party>),
    /// Denies every caller outside these network paths.
    NetworkFence(String),
    /// Denies these accounts.
    Exclude(BTreeSet<Party>),
}

fn deny_shape(st: &Statement, vars: bool) -> DenyShape {
    DenyShape {
        action: st.action.clone(),
        applies: deny_effect(st, vars),
    }
}

fn deny_effect(st: &Statement, vars: bool) -> Option<DenyEffect> {
    let principal = st.principal.as_ref()?;
    if principal
        .principals
        .iter()
        .any(|p| matches!(p.who, Who::Unknown(_)))
    {
        return None;
    }
    if principal.negated {
        // Deny + NotPrincipal: everyone except the listed principals is denied.
        if !st.conditions.is_empty() {
            return None;
        }
        let mut fence = BTreeSet::new();
        for p in &principal.principals {
            match &p.who {
                Who::Account(a) | Who::Entity { account: a, .. } => {
                    fence.insert(Party::Account(a.clone()));
                }
                Who::Service(s) => {
                    fence.insert(Party::Service(s.clone()));
                }
                // Listing everyone as exempt exempts everyone: the deny does nothing.
                _ => return None,
            }
        }
        return Some(DenyEffect::Fence(fence));
    }
    let everyone = principal.principals.iter().any(|p| p.who == Who::Everyone);
    if !everyone {
        // A deny on named accounts with no condition removes them.
        if !st.conditions.is_empty() {
            return None;
        }
        let mut excluded = BTreeSet::new();
        for p in &principal.principals {
            if let Who::Account(a) = &p.who {
                excluded.insert(Party::Account(a.clone()));
            }
        }
        return (!excluded.is_empty()).then_some(DenyEffect::Exclude(excluded));
    }
    if st.conditions.is_empty() {
        return Some(DenyEffect::All);
    }
    // Every test must be a negated identity or network test: then the deny applies to every
    // caller outside the listed values (absent keys included, negated operators fail closed),
    // and several tests (AND) leave in whoever passes any one of them.
    let mut fence = BTreeSet::new();
    let mut nets = Vec::new();
    for t in &st.conditions {
        let op = t.operator?;
        let kind = key_kind(&t.key)?;
        if !op.base.is_negated() || op.qualifier == Some(SetQualifier::ForAnyValue) {
            // A positive test on accounts: deny exactly those (a single such test only).
            if st.conditions.len() == 1
                && !op.base.is_negated()
                && op.qualifier.is_none()
                && !op.if_exists
                && kind == KeyKind::PrincipalAccount
            {
                let mut excluded = BTreeSet::new();
                for v in &t.values {
                    if let Pinned::Party(p) = pin_value(kind, op.base, v.as_literal()?, vars) {
                        excluded.insert(p);
                    }
                }
                return Some(DenyEffect::Exclude(excluded));
            }
            return None;
        }
        for v in &t.values {
            let ConditionValue::Literal(raw) = v else {
                return None;
            };
            match pin_value(kind, op.base.positive(), raw, vars) {
                Pinned::Party(p) => {
                    fence.insert(p);
                }
                Pinned::Network(n) => nets.push(n),
                Pinned::Unbounded | Pinned::Never => return None,
            }
        }
    }
    match (fence.is_empty(), nets.is_empty()) {
        (false, true) => Some(DenyEffect::Fence(fence)),
        (true, false) => Some(DenyEffect::NetworkFence(nets.join(","))),
        _ => None,
    }
}

fn apply_deny(who: &BTreeSet<Party>, deny: &DenyEffect) -> BTreeSet<Party> {
    match deny {
        DenyEffect::All => BTreeSet::new(),
        DenyEffect::Exclude(ex) => who.iter().filter(|p| !ex.contains(p)).cloned().collect(),
        DenyEffect::NetworkFence(n) => who
            .iter()
            .map(|p| {
                if *p == Party::Everyone {
                    Party::Network(n.clone())
                } else {
                    p.clone()
                }
            })
            .collect(),
        DenyEffect::Fence(fence) => {
            let mut out = BTreeSet::new();
            for p in who {
                match p {
                    Party::Everyone | Party::Network(_) => out.extend(fence.iter().cloned()),
                    // An unscoped service principal acts for any account; the fence keeps the
                    // accounts it names.
                    Party::Service(_) if !fence.contains(p) => out.extend(
                        fence
                            .iter()
                            .filter(|f| !matches!(f, Party::Service(_)))
                            .cloned(),
                    ),
                    _ => out.extend(intersect(&BTreeSet::from([p.clone()]), fence)),
                }
            }
            out
        }
    }
}
