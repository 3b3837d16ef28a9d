//! The policy document grammar, read leniently the way AWS reads it: `Statement` as an object
//! or an array, string-or-list everywhere. Everything AWS would reject is recorded as an
//! [`Problem`] of kind [`ProblemKind::Invalid`]; the document is still read as far as it can be,
//! so a rejected policy still shows what it tried to grant.

use crate::catalog;
use crate::condition::{ConditionTest, ConditionValue, Operator};
use crate::json::{self, Member, Node, Span, Value};
use crate::partial::Partial;
use crate::principal::{self, Principal, PrincipalType, Who};
use crate::wildcard::has_wildcard;
use std::fmt;

/// Largest policy text ECR accepts (`SetRepositoryPolicy`, `PutRegistryPolicy`), in
/// characters, whitespace included.
pub const MAX_POLICY_CHARS: usize = 10_240;

/// Which kind of resource the policy is attached to; it changes what `Resource` means and
/// which actions can be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PolicyKind {
    /// A private repository policy (`SetRepositoryPolicy`): `Resource` is not needed and never
    /// narrows; `ecr:` repository actions apply.
    #[default]
    Repository,
    /// An ECR Public repository policy: `ecr-public:` repository actions apply.
    PublicRepository,
    /// A registry policy (`PutRegistryPolicy`): `Resource` scopes repositories.
    Registry,
    /// An IAM identity policy (user, group, role): no `Principal`, `Resource` required.
    Identity,
}

impl PolicyKind {
    /// The action prefix whose repository actions this policy can grant.
    #[must_use]
    pub fn service(self) -> &'static str {
        match self {
            PolicyKind::PublicRepository => "ecr-public",
            PolicyKind::Repository | PolicyKind::Registry | PolicyKind::Identity => "ecr",
        }
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Allow
    Allow,
    /// Deny
    Deny,
}

/// Whether AWS would reject the document or merely something deserves attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemKind {
    /// Something to review; AWS accepts it (or may).
    Warning,
    /// AWS would reject the policy.
    Invalid,
}

/// A problem found while reading the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Invalid or warning.
    pub kind: ProblemKind,
    /// One sentence, no trailing period.
    pub message: String,
    /// The statement, by index, if the problem is inside one.
    pub statement: Option<usize>,
    /// Where.
    pub span: Option<Span>,
}

/// One action pattern (`ecr:Put*`), lower-cased for matching.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionPattern {
    /// As written.
    pub raw: String,
    /// Lower-cased.
    pub lower: String,
    /// Whether the value could not be resolved by the source, wholly or in part.
    pub unknown: bool,
    /// Where.
    pub span: Option<Span>,
    /// The catalogue actions it matches; when `unknown`, the actions it may match (all of
    /// them for a wholly unknown value, fewer when known text limits it: `s3:${x}` none).
    pub actions: catalog::ActionSet,
}

impl ActionPattern {
    /// A pattern as written.
    #[must_use]
    pub fn new(raw: impl Into<String>, span: Option<Span>) -> Self {
        let raw = raw.into();
        let lower = raw.to_ascii_lowercase();
        Self {
            actions: catalog::matching(&lower),
            raw,
            lower,
            unknown: false,
            span,
        }
    }

    /// A value the source could not resolve.
    #[must_use]
    pub fn unknown(span: Option<Span>) -> Self {
        Self {
            raw: String::from("${unknown}"),
            lower: String::from("*"),
            unknown: true,
            span,
            actions: catalog::matching("*"),
        }
    }

    /// A value the source knows in part (`ecr:${var.verb}*`): it may match what its
    /// widest reading matches, and surely matches nothing else.
    #[must_use]
    pub fn partial(value: &Partial, span: Option<Span>) -> Self {
        let lower = value.widest_pattern().to_ascii_lowercase();
        Self {
            raw: value.shown(),
            actions: catalog::matching(&lower),
            lower,
            unknown: true,
            span,
        }
    }

    /// Whether it surely matches the lower-case action name.
    #[must_use]
    pub fn matches(&self, lower_action: &str) -> bool {
        !self.unknown && crate::wildcard::matches(&self.lower, lower_action)
    }

    /// Whether an unresolved value may match the lower-case action name.
    #[must_use]
    pub fn may_match(&self, lower_action: &str) -> bool {
        self.unknown && crate::wildcard::matches(&self.lower, lower_action)
    }

    /// Whether an unresolved value may match some ECR action of the catalogue.
    #[must_use]
    pub fn may_match_ecr(&self) -> bool {
        self.unknown && !self.actions.is_empty()
    }

    /// Whether it matches every action of the service (`*`, `ecr:*`, `*:*`, `ecr:**`).
    #[must_use]
    pub fn is_service_wide(&self, service: &str) -> bool {
        if self.unknown {
            return false;
        }
        let name = match self.lower.split_once(':') {
            Some((svc, name)) if crate::wildcard::matches(svc, service) => name,
            Some(_) => return false,
            None => return self.lower.chars().all(|c| c == '*') && !self.lower.is_empty(),
        };
        !name.is_empty() && name.chars().all(|c| c == '*')
    }
}

/// `Action` or `NotAction`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionBlock {
    /// `NotAction`.
    pub negated: bool,
    /// The patterns.
    pub patterns: Vec<ActionPattern>,
    /// Where the element was written.
    pub span: Option<Span>,
}

impl ActionBlock {
    /// Whether the block covers the lower-case action (for `NotAction`: the action is not
    /// listed). `None` when an unresolved pattern makes it undecidable.
    #[must_use]
    pub fn covers(&self, lower_action: &str) -> Option<bool> {
        self.decide(
            self.patterns.iter().any(|p| p.matches(lower_action)),
            self.patterns.iter().any(|p| p.may_match(lower_action)),
        )
    }

    /// [`Self::covers`] for an action of the catalogue: a bit test per pattern.
    #[must_use]
    pub fn covers_catalogued(&self, action: &catalog::ActionInfo) -> Option<bool> {
        let listed = |unknown: bool| {
            self.patterns
                .iter()
                .any(|p| p.unknown == unknown && p.actions.contains(action))
        };
        self.decide(listed(false), listed(true))
    }

    /// Surely listed decides; else a value that may be listed leaves it undecided.
    fn decide(&self, listed: bool, maybe: bool) -> Option<bool> {
        if !listed && maybe {
            return None;
        }
        Some(listed != self.negated)
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalBlock {
    /// `NotPrincipal`.
    pub negated: bool,
    /// The principals.
    pub principals: Vec<Principal>,
    /// Where the element was written.
    pub span: Option<Span>,
}

/// `Resource` or `NotResource`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceBlock {
    /// `NotResource`.
    pub negated: bool,
    /// The ARN patterns.
    pub values: Vec<Pattern>,
    /// Where the element was written.
    pub span: Option<Span>,
}

/// A string value of a policy (an ARN pattern), as far as the source resolved it.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// Written in full.
    Known(String),
    /// Known in part: `arn:aws:ecr:${region}:${account}:repository/*`.
    Partial(Partial),
    /// Not resolved at all; the text says why.
    Unknown(String),
}

impl Pattern {
    /// Whether the pattern matches `text`: `None` when the unknown parts decide it.
    #[must_use]
    pub fn matches(&self, text: &str) -> Option<bool> {
        match self {
            Pattern::Known(p) => Some(crate::wildcard::matches(p, text)),
            // The widest reading not matching is a sure no; anything else depends on
            // what the unknown parts turn out to be.
            Pattern::Partial(p) => {
                if crate::wildcard::matches(&p.widest_pattern(), text) {
                    None
                } else {
                    Some(false)
                }
            }
            Pattern::Unknown(_) => None,
        }
    }

    /// Why the pattern is not fully known, if it is not.
    #[must_use]
    pub fn unresolved(&self) -> Option<String> {
        match self {
            Pattern::Known(_) => None,
            Pattern::Partial(p) => Some(p.describe()),
            Pattern::Unknown(why) => Some(why.clone()),
        }
    }
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Position in the `Statement` list.
    pub index: usize,
    /// `Sid`, if any.
    pub sid: Option<String>,
    /// `Effect`; `None` when missing or not recognisable even leniently.
    pub effect: Option<Effect>,
    /// `Principal` / `NotPrincipal`.
    pub principal: Option<PrincipalBlock>,
    /// `Action` / `NotAction`.
    pub action: Option<ActionBlock>,
    /// `Resource` / `NotResource`.
    pub resource: Option<ResourceBlock>,
    /// Condition tests (AND-ed).
    pub conditions: Vec<ConditionTest>,
    /// Where the `Condition` element was written.
    pub condition_span: Option<Span>,
    /// Where the statement was written.
    pub span: Option<Span>,
    /// Why the statement itself could not be resolved by its source (a branch of an undecided
    /// condition), when that is what it is.
    pub unresolved: Option<String>,
}

impl Statement {
    /// `Sid` or `#index` for messages.
    #[must_use]
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) if !sid.is_empty() => format!("`{sid}`"),
            _ => format!("#{}", self.index),
        }
    }
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// What the policy is attached to.
    pub kind: PolicyKind,
    /// `Version`, if given.
    pub version: Option<String>,
    /// Statements in order.
    pub statements: Vec<Statement>,
    /// Everything AWS would reject, and warnings.
    pub problems: Vec<Problem>,
    /// Where the document was written.
    pub span: Option<Span>,
}

impl Policy {
    /// Whether AWS would reject the policy.
    #[must_use]
    pub fn is_invalid(&self) -> bool {
        self.problems.iter().any(|p| p.kind == ProblemKind::Invalid)
    }

    /// Whether policy variables (`${aws:...}`) are evaluated: only with version 2012-10-17.
    #[must_use]
    pub fn variables_enabled(&self) -> bool {
        self.version.as_deref() == Some("2012-10-17")
    }
}

/// Why text could not be read as a policy at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// What is wrong.
    pub message: String,
    /// Byte offset into the text, if known.
    pub offset: Option<usize>,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

impl From<json::JsonError> for PolicyError {
    fn from(e: json::JsonError) -> Self {
        PolicyError {
            message: format!("policy is not valid JSON: {}", e.message),
            offset: Some(e.offset),
        }
    }
}

/// Parses policy text as ECR receives it. A text longer than [`MAX_POLICY_CHARS`] parses, but
/// carries an invalid problem.
///
/// # Errors
/// When the text is not JSON or not a JSON object: nothing can be analysed then.
pub fn parse_text(text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
    let node = json::parse(text)?;
    parse_node_of_text(&node, kind, text)
}

/// Reads a policy from the JSON tree of `text` (already parsed by the caller), applying the
/// size limit to `text`, which is what ECR would receive.
///
/// # Errors
/// When the tree is not an object.
pub fn parse_node_of_text(
    node: &Node,
    kind: PolicyKind,
    text: &str,
) -> Result<Policy, PolicyError> {
    let mut policy = parse_node(node, kind)?;
    let chars = text.chars().count();
    if chars > MAX_POLICY_CHARS {
        policy.problems.insert(
            0,
            Problem {
                kind: ProblemKind::Invalid,
                message: format!(
                    "policy text is {chars} characters long; ECR accepts at most {MAX_POLICY_CHARS}"
                ),
                statement: None,
                span: node.span,
            },
        );
    }
    Ok(policy)
}

/// Reads a policy from a JSON tree built by any source.
///
/// # Errors
/// When the tree is not an object.
pub fn parse_node(node: &Node, kind: PolicyKind) -> Result<Policy, PolicyError> {
    let Some(members) = node.as_object() else {
        return Err(PolicyError {
            message: format!("a policy must be a JSON object, found {}", node.kind_name()),
            offset: node.span.map(|s| s.start as usize),
        });
    };
    let mut r = Reader {
        problems: Vec::new(),
        kind,
    };
    duplicate_keys(node, &mut r);
    let mut version = None;
    let mut statements = Vec::new();
    let mut saw_statement = false;
    for m in members {
        match m.key.as_str() {
            "Version" => match &m.value.value {
                Value::String(v) if v == "2012-10-17" || v == "2008-10-17" => {
                    version = Some(v.clone())
                }
                Value::String(v) => {
                    r.invalid(None, m.value.span, format!("unknown policy `Version` `{v}`; only `2012-10-17` and `2008-10-17` exist"));
                    version = Some(v.clone());
                }
                Value::Unknown(_) | Value::Partial(_) => {}
                _ => r.invalid(None, m.value.span, "`Version` must be a string"),
            },
            "Id" => {
                if !matches!(
                    m.value.value,
                    Value::String(_) | Value::Unknown(_) | Value::Partial(_)
                ) {
                    r.invalid(None, m.value.span, "`Id` must be a string");
                }
            }
            "Statement" => {
                saw_statement = true;
                match &m.value.value {
                    Value::Array(items) => {
                        if items.is_empty() {
                            r.invalid(None, m.value.span, "`Statement` is an empty list");
                        }
                        for item in items {
                            let index = statements.len();
                            statements.push(r.statement(item, index));
                        }
                    }
                    Value::Object(_) => statements.push(r.statement(&m.value, 0)),
                    _ => r.invalid(
                        None,
                        m.value.span,
                        format!(
                            "`Statement` must be an object or a list, found {}",
                            m.value.kind_name()
                        ),
                    ),
                }
            }
            other => r.invalid(
                None,
                m.key_span,
                format!("unknown policy element `{other}`"),
            ),
        }
    }
    if !saw_statement {
        r.invalid(None, node.span, "policy has no `Statement`");
    }
    Ok(Policy {
        kind,
        version,
        statements,
        problems: r.problems,
        span: node.span,
    })
}

struct Reader {
    problems: Vec<Problem>,
    kind: PolicyKind,
}

/// Keys written twice in one object, anywhere in the policy: AWS rejects such a policy, and
/// any one reading of it (the first `Effect` or the last, one `Statement` list or both) would
/// be a guess. Both places are reported.
fn duplicate_keys(node: &Node, r: &mut Reader) {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        match &n.value {
            Value::Object(members) => {
                for (i, m) in members.iter().enumerate() {
                    if let Some(first) = members[..i].iter().find(|f| f.key == m.key) {
                        r.invalid(
                            None,
                            first.key_span,
                            format!("key `{}` is written again later in the same object", m.key),
                        );
                        r.invalid(
                            None,
                            m.key_span,
                            format!(
                                "duplicate key `{}`: AWS rejects a policy that repeats a key",
                                m.key
                            ),
                        );
                    }
                    stack.push(&m.value);
                }
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
}

/// A string-or-list element flattened to its strings.
struct StringList {
    items: Vec<(Pattern, Option<Span>)>,
    /// Why each unresolved entry is unresolved, in order.
    reasons: Vec<String>,
}

impl Reader {
    fn invalid(
        &mut self,
        statement: Option<usize>,
        span: Option<Span>,
        message: impl Into<String>,
    ) {
        self.push(ProblemKind::Invalid, statement, span, message);
    }

    fn warn(&mut self, statement: Option<usize>, span: Option<Span>, message: impl Into<String>) {
        self.push(ProblemKind::Warning, statement, span, message);
    }

    fn push(
        &mut self,
        kind: ProblemKind,
        statement: Option<usize>,
        span: Option<Span>,
        message: impl Into<String>,
    ) {
        self.problems.push(Problem {
            kind,
            message: message.into(),
            statement,
            span,
        });
    }

    /// Reads a string or a non-empty list of strings; records a problem otherwise.
    fn string_list(&mut self, index: usize, element: &str, node: &Node) -> StringList {
        let mut reasons = Vec::new();
        let mut items = Vec::new();
        let mut one = |r: &mut Reader, n: &Node| match &n.value {
            Value::String(s) => items.push((Pattern::Known(s.clone()), n.span)),
            Value::Partial(p) => {
                reasons.push(p.describe());
                items.push((Pattern::Partial(p.clone()), n.span));
            }
            Value::Unknown(why) => {
                reasons.push(why.clone());
                items.push((Pattern::Unknown(why.clone()), n.span));
            }
            _ => r.invalid(
                Some(index),
                n.span,
                format!(
                    "`{element}` values must be strings, found {}",
                    n.kind_name()
                ),
            ),
        };
        match &node.value {
            Value::Array(list) => {
                if list.is_empty() {
                    self.invalid(
                        Some(index),
                        node.span,
                        format!("`{element}` is an empty list"),
                    );
                }
                for n in list {
                    one(self, n);
                }
            }
            _ => one(self, node),
        }
        StringList { items, reasons }
    }

    fn statement(&mut self, node: &Node, index: usize) -> Statement {
        let mut st = Statement {
            index,
            sid: None,
            effect: None,
            principal: None,
            action: None,
            resource: None,
            conditions: Vec::new(),
            condition_span: None,
            span: node.span,
            unresolved: None,
        };
        let Some(members) = node.as_object() else {
            if let Value::Unknown(why) = &node.value {
                // An unresolved statement: nothing to read; analysis reports it as unknown.
                st.effect = None;
                st.unresolved = Some(why.clone());
            } else {
                self.invalid(
                    Some(index),
                    node.span,
                    format!("statement must be an object, found {}", node.kind_name()),
                );
            }
            return st;
        };
        let mut seen_principal: Option<&Member> = None;
        let mut seen_action: Option<&Member> = None;
        let mut seen_resource: Option<&Member> = None;
        for m in members {
            match m.key.as_str() {
                "Sid" => match &m.value.value {
                    Value::String(s) => st.sid = Some(s.clone()),
                    Value::Unknown(_) | Value::Partial(_) => {}
                    _ => self.invalid(Some(index), m.value.span, "`Sid` must be a string"),
                },
                "Effect" => st.effect = self.effect(index, &m.value),
                "Principal" | "NotPrincipal" => {
                    if let Some(prev) = seen_principal {
                        self.invalid(
                            Some(index),
                            m.key_span,
                            format!("statement has both `{}` and `{}`", prev.key, m.key),
                        );
                    }
                    seen_principal = Some(m);
                    st.principal = Some(self.principal(index, m));
                }
                "Action" | "NotAction" => {
                    if let Some(prev) = seen_action {
                        self.invalid(
                            Some(index),
                            m.key_span,
                            format!("statement has both `{}` and `{}`", prev.key, m.key),
                        );
                    }
                    seen_action = Some(m);
                    st.action = Some(self.action(index, m));
                }
                "Resource" | "NotResource" => {
                    if let Some(prev) = seen_resource {
                        self.invalid(
                            Some(index),
                            m.key_span,
                            format!("statement has both `{}` and `{}`", prev.key, m.key),
                        );
                    }
                    seen_resource = Some(m);
                    let list = self.string_list(index, &m.key, &m.value);
                    st.resource = Some(ResourceBlock {
                        negated: m.key == "NotResource",
                        values: list.items.into_iter().map(|(v, _)| v).collect(),
                        span: m.key_span.map(|k| m.value.span.map_or(k, |v| k.cover(v))),
                    });
                    if matches!(
                        self.kind,
                        PolicyKind::Repository | PolicyKind::PublicRepository
                    ) {
                        self.warn(
                            Some(index),
                            m.key_span,
                            format!("`{}` in a repository policy does not narrow access, and ECR has rejected policies that carry it", m.key),
                        );
                    }
                }
                "Condition" => {
                    st.condition_span = m.key_span.map(|k| m.value.span.map_or(k, |v| k.cover(v)));
                    st.conditions = self.conditions(index, &m.value);
                }
                other => self.invalid(
                    Some(index),
                    m.key_span,
                    format!("unknown statement element `{other}`"),
                ),
            }
        }
        if !members.iter().any(|m| m.key == "Effect") {
            self.invalid(Some(index), node.span, "statement has no `Effect`");
        }
        if self.kind == PolicyKind::Identity {
            if let Some(p) = &st.principal {
                self.invalid(
                    Some(index),
                    p.span,
                    "an identity policy statement cannot name a `Principal`",
                );
            }
            if st.resource.is_none() {
                self.invalid(
                    Some(index),
                    node.span,
                    "statement has no `Resource` or `NotResource` (required in an identity policy)",
                );
            }
        } else if st.principal.is_none() {
            self.invalid(
                Some(index),
                node.span,
                "statement has no `Principal` or `NotPrincipal` (required in a resource policy)",
            );
        }
        if st.action.is_none() {
            self.invalid(
                Some(index),
                node.span,
                "statement has no `Action` or `NotAction`",
            );
        }
        if let (Some(Effect::Allow), Some(p)) = (st.effect, &st.principal)
            && p.negated
        {
            // A warning, not an error: IAM's own validation reports it as a security
            // warning, and a policy that is accepted this way is public, which is the verdict
            // that matters.
            self.warn(
                Some(index),
                p.span,
                "`NotPrincipal` with `Allow` is not supported by IAM and may be rejected; if accepted it grants everyone except the listed principals, anonymous users included",
            );
        }
        st
    }

    fn effect(&mut self, index: usize, node: &Node) -> Option<Effect> {
        match &node.value {
            Value::String(s) if s == "Allow" => Some(Effect::Allow),
            Value::String(s) if s == "Deny" => Some(Effect::Deny),
            Value::String(s) => {
                self.invalid(
                    Some(index),
                    node.span,
                    format!(
                        "`Effect` must be exactly `Allow` or `Deny` (case-sensitive), found `{s}`"
                    ),
                );
                // Read on as the author evidently meant, so the report still shows the intent.
                if s.eq_ignore_ascii_case("allow") {
                    Some(Effect::Allow)
                } else if s.eq_ignore_ascii_case("deny") {
                    Some(Effect::Deny)
                } else {
                    None
                }
            }
            Value::Unknown(_) => None,
            _ => {
                self.invalid(
                    Some(index),
                    node.span,
                    format!("`Effect` must be a string, found {}", node.kind_name()),
                );
                None
            }
        }
    }

    fn principal(&mut self, index: usize, m: &Member) -> PrincipalBlock {
        let negated = m.key == "NotPrincipal";
        let mut principals = Vec::new();
        let node = &m.value;
        match &node.value {
            Value::String(s) => {
                let who = principal::decode(PrincipalType::Star, s);
                if who != Who::Everyone {
                    self.invalid(
                        Some(index),
                        node.span,
                        format!(
                            "`{}` must be `\"*\"` or an object such as `{{\"AWS\": ...}}`",
                            m.key
                        ),
                    );
                }
                // Read a bare ARN or account id as the AWS principal it was surely meant as.
                let who = if who == Who::Everyone {
                    who
                } else {
                    principal::decode(PrincipalType::Aws, s)
                };
                principals.push(Principal {
                    kind: PrincipalType::Star,
                    raw: s.clone(),
                    who,
                    span: node.span,
                });
            }
            Value::Object(entries) => {
                if entries.is_empty() {
                    self.invalid(
                        Some(index),
                        node.span,
                        format!("`{}` is an empty object", m.key),
                    );
                }
                for e in entries {
                    let kind = match PrincipalType::from_key(&e.key) {
                        Some(k) => k,
                        None => {
                            self.invalid(Some(index), e.key_span, format!("unknown principal type `{}`; expected `AWS`, `Service`, `Federated` or `CanonicalUser`", e.key));
                            match e.key.to_ascii_lowercase().as_str() {
                                "aws" => PrincipalType::Aws,
                                "service" => PrincipalType::Service,
                                _ => PrincipalType::Federated,
                            }
                        }
                    };
                    let list = self.string_list(index, &format!("{}.{}", m.key, e.key), &e.value);
                    let mut reasons = list.reasons.into_iter();
                    for (value, span) in list.items {
                        let (raw, who) = match value {
                            Pattern::Known(v) => {
                                let who = principal::decode(kind, &v);
                                (v, who)
                            }
                            Pattern::Partial(p) => {
                                reasons.next();
                                (p.shown(), principal::decode_partial(kind, &p))
                            }
                            Pattern::Unknown(_) => (
                                String::from("${unknown}"),
                                Who::Unknown(
                                    reasons
                                        .next()
                                        .unwrap_or_else(|| "unresolved principal".into()),
                                ),
                            ),
                        };
                        self.check_principal(index, span, &raw, &who);
                        principals.push(Principal {
                            kind,
                            raw,
                            who,
                            span,
                        });
                    }
                }
            }
            Value::Partial(p) => principals.push(Principal {
                kind: PrincipalType::Aws,
                raw: p.shown(),
                who: Who::Unknown(p.describe()),
                span: node.span,
            }),
            Value::Unknown(why) => principals.push(Principal {
                kind: PrincipalType::Aws,
                raw: String::from("${unknown}"),
                who: Who::Unknown(why.clone()),
                span: node.span,
            }),
            _ => self.invalid(
                Some(index),
                node.span,
                format!(
                    "`{}` must be `\"*\"` or an object, found {}",
                    m.key,
                    node.kind_name()
                ),
            ),
        }
        PrincipalBlock {
            negated,
            principals,
            span: m.key_span.map(|k| node.span.map_or(k, |v| k.cover(v))),
        }
    }

    fn check_principal(&mut self, index: usize, span: Option<Span>, raw: &str, who: &Who) {
        match who {
            Who::WildcardArn { .. } => self.invalid(
                Some(index),
                span,
                format!("wildcard inside principal `{raw}`: a principal can only be `*` as a whole; use `aws:PrincipalArn` with `ArnLike`"),
            ),
            Who::Malformed(_) => self.invalid(Some(index), span, format!("`{raw}` is not a valid AWS principal (account id, IAM ARN or `*`)")),
            Who::UniqueId(_) => self.warn(
                Some(index),
                span,
                format!("principal `{raw}` is a unique id: the role or user it named was deleted (orphaned principal)"),
            ),
            Who::Foreign(_) => self.warn(Some(index), span, format!("principal `{raw}` (Federated or CanonicalUser) has no meaning in an ECR policy")),
            Who::Everyone | Who::Account(_) | Who::Entity { .. } | Who::Service(_) | Who::Unknown(_) => {}
        }
    }

    fn action(&mut self, index: usize, m: &Member) -> ActionBlock {
        let list = self.string_list(index, &m.key, &m.value);
        let mut patterns = Vec::new();
        for (value, span) in list.items {
            let raw = match value {
                Pattern::Known(raw) => raw,
                Pattern::Partial(p) => {
                    patterns.push(ActionPattern::partial(&p, span));
                    continue;
                }
                Pattern::Unknown(_) => {
                    patterns.push(ActionPattern::unknown(span));
                    continue;
                }
            };
            let pattern = ActionPattern::new(raw, span);
            let (raw, lower) = (&pattern.raw, &pattern.lower);
            if lower != "*" {
                match lower.split_once(':') {
                    Some((svc, name)) if !svc.is_empty() && !name.is_empty() => {
                        let in_catalog_service = svc == "ecr" || svc == "ecr-public";
                        if in_catalog_service && !has_wildcard(name) && pattern.actions.is_empty() {
                            self.warn(
                                Some(index),
                                span,
                                format!("`{raw}` is not an action of `{svc}`; it grants nothing"),
                            );
                        }
                    }
                    _ => self.invalid(
                        Some(index),
                        span,
                        format!("action `{raw}` must have the form `service:Action`"),
                    ),
                }
            }
            patterns.push(pattern);
        }
        ActionBlock {
            negated: m.key == "NotAction",
            patterns,
            span: m.key_span.map(|k| m.value.span.map_or(k, |v| k.cover(v))),
        }
    }

    fn conditions(&mut self, index: usize, node: &Node) -> Vec<ConditionTest> {
        let mut tests = Vec::new();
        let Some(ops) = node.as_object() else {
            if !matches!(node.value, Value::Unknown(_)) {
                self.invalid(
                    Some(index),
                    node.span,
                    format!("`Condition` must be an object, found {}", node.kind_name()),
                );
            }
            return tests;
        };
        for op in ops {
            let operator = Operator::parse(&op.key);
            if operator.is_none() {
                let hint = Operator::correct_case(&op.key).map_or(String::new(), |c| {
                    format!(" (operators are case-sensitive: `{c}`)")
                });
                self.invalid(
                    Some(index),
                    op.key_span,
                    format!("invalid condition operator `{}`{hint}", op.key),
                );
            }
            let Some(keys) = op.value.as_object() else {
                self.invalid(
                    Some(index),
                    op.value.span,
                    format!(
                        "condition `{}` must map keys to values, found {}",
                        op.key,
                        op.value.kind_name()
                    ),
                );
                continue;
            };
            for k in keys {
                let values = self.condition_values(index, &op.key, k);
                tests.push(ConditionTest {
                    operator_name: op.key.clone(),
                    operator,
                    key_name: k.key.clone(),
                    key: k.key.to_ascii_lowercase(),
                    values,
                    span: k
                        .key_span
                        .map(|ks| k.value.span.map_or(ks, |v| ks.cover(v))),
                });
            }
        }
        tests
    }

    fn condition_values(&mut self, index: usize, op: &str, k: &Member) -> Vec<ConditionValue> {
        let mut values = Vec::new();
        let mut one = |r: &mut Reader, n: &Node| match &n.value {
            Value::String(s) | Value::Number(s) => values.push(ConditionValue::Literal(s.clone())),
            Value::Bool(b) => values.push(ConditionValue::Literal(b.to_string())),
            Value::Unknown(why) => values.push(ConditionValue::Unknown(why.clone())),
            Value::Partial(p) => values.push(ConditionValue::Unknown(p.describe())),
            _ => r.invalid(
                Some(index),
                n.span,
                format!(
                    "value of `{op}` `{}` must be a string, number or boolean, found {}",
                    k.key,
                    n.kind_name()
                ),
            ),
        };
        match &k.value.value {
            Value::Array(items) => {
                if items.is_empty() {
                    self.invalid(
                        Some(index),
                        k.value.span,
                        format!("condition key `{}` has an empty list of values", k.key),
                    );
                }
                for n in items {
                    one(self, n);
                }
            }
            _ => one(self, &k.value),
        }
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid_messages(text: &str) -> Vec<String> {
        parse_text(text, PolicyKind::Repository)
            .unwrap()
            .problems
            .into_iter()
            .filter(|p| p.kind == ProblemKind::Invalid)
            .map(|p| p.message)
            .collect()
    }

    #[test]
    fn allow_with_not_principal_is_public_with_a_warning_not_invalid() {
        let p = parse_text(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"123456789012"},"Action":"ecr:BatchGetImage"}]}"#,
            PolicyKind::Repository,
        )
        .unwrap();
        assert!(
            p.problems.iter().any(|x| x.kind == ProblemKind::Warning
                && x.message.contains("`NotPrincipal` with `Allow`")),
            "{:?}",
            p.problems
        );
        assert!(!p.problems.iter().any(|x| x.kind == ProblemKind::Invalid));
        let a = crate::analysis::analyze(&p, &crate::analysis::AnalysisOptions::default());
        assert_eq!(a.verdict, crate::analysis::Verdict::Public);
    }

    #[test]
    fn statement_object_or_list_and_string_or_list() {
        let one = parse_text(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*"}}"#,
            PolicyKind::Repository,
        )
        .unwrap();
        let many = parse_text(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["ecr:*"]}]}"#,
            PolicyKind::Repository,
        )
        .unwrap();
        assert_eq!(one.statements.len(), 1);
        assert_eq!(many.statements.len(), 1);
        assert!(!one.is_invalid() && !many.is_invalid());
    }

    #[test]
    fn records_what_aws_rejects() {
        let cases = [
            (
                r#"{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}"#,
                "unknown policy `Version`",
            ),
            (
                r#"{"Statement":[{"Effect":"allow","Principal":"*","Action":"ecr:*"}]}"#,
                "exactly `Allow` or `Deny`",
            ),
            (
                r#"{"Statement":[{"Principal":"*","Action":"ecr:*"}]}"#,
                "no `Effect`",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*"}]}"#,
                "no `Action`",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"ecr:*"}]}"#,
                "no `Principal`",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:root"},"Action":"ecr:*"}]}"#,
                "wildcard inside principal",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"stringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}"#,
                "operators are case-sensitive: `StringEquals`",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Foo":1}]}"#,
                "unknown statement element",
            ),
            (r#"{"Statement":[]}"#, "empty list"),
            (r#"{"Version":"2012-10-17"}"#, "no `Statement`"),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"BatchGetImage"}]}"#,
                "form `service:Action`",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","NotAction":"ecr:PutImage"}]}"#,
                "both `Action` and `NotAction`",
            ),
        ];
        for (text, want) in cases {
            let msgs = invalid_messages(text);
            assert!(msgs.iter().any(|m| m.contains(want)), "{text}: {msgs:?}");
        }
    }

    #[test]
    fn size_limit_counts_characters_of_the_text_sent() {
        let pad = " ".repeat(MAX_POLICY_CHARS);
        let text = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"123456789012"}},"Action":"ecr:*"}}]{pad}}}"#
        );
        assert!(invalid_messages(&text)[0].contains("at most 10240"));
    }

    #[test]
    fn not_an_object_is_an_error() {
        assert!(
            parse_text("[]", PolicyKind::Repository)
                .unwrap_err()
                .message
                .contains("must be a JSON object")
        );
        assert!(
            parse_text("{", PolicyKind::Repository)
                .unwrap_err()
                .message
                .contains("not valid JSON")
        );
    }

    #[test]
    fn resource_warns_in_repository_policy_only() {
        let text = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"ecr:*","Resource":"*"}]}"#;
        let repo = parse_text(text, PolicyKind::Repository).unwrap();
        assert!(
            repo.problems
                .iter()
                .any(|p| p.kind == ProblemKind::Warning && p.message.contains("does not narrow"))
        );
        let reg = parse_text(text, PolicyKind::Registry).unwrap();
        assert!(reg.problems.is_empty());
    }

    #[test]
    fn action_blocks_cover_actions() {
        let p = parse_text(r#"{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":["ECR:Put*","ecr:?etRepositoryPolicy"]}]}"#, PolicyKind::Repository).unwrap();
        let a = p.statements[0].action.as_ref().unwrap();
        assert_eq!(a.covers("ecr:putimage"), Some(false));
        assert_eq!(a.covers("ecr:setrepositorypolicy"), Some(false));
        assert_eq!(a.covers("ecr:deleterepository"), Some(true));
        assert!(ActionPattern::new("*", None).is_service_wide("ecr"));
        assert!(ActionPattern::new("ecr:*", None).is_service_wide("ecr"));
        assert!(!ActionPattern::new("ecr:Put*", None).is_service_wide("ecr"));
        assert!(!ActionPattern::new("s3:*", None).is_service_wide("ecr"));
    }

    #[test]
    fn duplicate_keys_make_the_policy_invalid_at_both_places() {
        for text in [
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Effect":"Allow","Principal":"*","Action":"ecr:*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}],"Statement":[]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"},"StringEquals":{}}}]}"#,
        ] {
            let p = parse_text(text, PolicyKind::Repository).unwrap();
            let dups: Vec<&Problem> = p
                .problems
                .iter()
                .filter(|pr| {
                    pr.message.contains("again later") || pr.message.contains("duplicate key")
                })
                .collect();
            assert_eq!(dups.len(), 2, "{text}: {:?}", p.problems);
            assert!(
                dups.iter()
                    .all(|d| d.kind == ProblemKind::Invalid && d.span.is_some())
            );
            assert_ne!(dups[0].span, dups[1].span);
            assert!(p.is_invalid(), "{text}");
        }
    }
}
