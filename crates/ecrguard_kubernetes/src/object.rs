//! One Kubernetes object of a manifest: its group, kind, names and where its fields are.

use ecrguard_iam::PolicyKind;
use ecrguard_iam::json::{Node, Value as J};
use ecrguard_model::{
    Encryption, EncryptionKind, FileId, Origin, PolicyState, PullThroughCacheRule, Repository,
    ResourceId, TagMutability, Value,
};

/// `kind: List` (and the `*List` kinds `kubectl get -o yaml` writes) hold objects in `items`.
pub(crate) fn flatten(doc: Node, out: &mut Vec<Node>) {
    let mut stack = vec![doc];
    while let Some(n) = stack.pop() {
        let is_list = n
            .get("kind")
            .and_then(Node::as_str)
            .is_some_and(|k| k == "List" || k.ends_with("List"))
            && n.get("items").is_some();
        if is_list {
            if let Some(J::Array(items)) = n.get("items").map(|i| i.value.clone()) {
                stack.extend(items.into_iter().rev());
            }
        } else {
            out.push(n);
        }
    }
}

/// Whether a document is an object of an API group that manages ECR.
pub(crate) fn is_ecr(n: &Node) -> bool {
    n.get("apiVersion")
        .and_then(Node::as_str)
        .is_some_and(|v| crate::GROUPS.iter().any(|g| v.starts_with(g)))
}

/// An object and the file it is in.
pub(crate) struct Object {
    pub(crate) node: Node,
    pub(crate) file: FileId,
}

impl Object {
    pub(crate) fn new(node: Node, file: FileId) -> Object {
        Object { node, file }
    }

    /// The API group (`ecr.aws.upbound.io`).
    pub(crate) fn group(&self) -> &str {
        self.api_version().split('/').next().unwrap_or("")
    }

    fn api_version(&self) -> &str {
        self.node
            .get("apiVersion")
            .and_then(Node::as_str)
            .unwrap_or("")
    }

    pub(crate) fn kind(&self) -> &str {
        self.node.get("kind").and_then(Node::as_str).unwrap_or("")
    }

    pub(crate) fn metadata(&self, key: &str) -> Option<&Node> {
        self.node.get("metadata")?.get(key)
    }

    /// `metadata.name`.
    pub(crate) fn name(&self) -> Option<&str> {
        self.metadata("name").and_then(Node::as_str)
    }

    /// `metadata.namespace`.
    pub(crate) fn namespace(&self) -> Option<&str> {
        self.metadata("namespace").and_then(Node::as_str)
    }

    /// An annotation's value.
    pub(crate) fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata("annotations")?.get(key)?.as_str()
    }

    /// How findings name the object: `Kind/name`, `Kind/namespace/name`.
    pub(crate) fn id(&self) -> String {
        let name = self.name().unwrap_or("(unnamed)");
        match self.namespace() {
            Some(ns) => format!("{}/{ns}/{name}", self.kind()),
            None => format!("{}/{name}", self.kind()),
        }
    }

    /// Where a node is (the object, for a node without a position).
    pub(crate) fn origin(&self, n: &Node) -> Origin {
        Origin::Span {
            file: self.file,
            span: n.span.or(self.node.span).unwrap_or_default(),
        }
    }

    /// Where the whole object is.
    pub(crate) fn whole(&self) -> Origin {
        self.origin(&self.node)
    }

    /// A field under `spec` (ACK) or `spec.forProvider` (Crossplane), by path.
    pub(crate) fn field(&self, base: &[&str], path: &[&str]) -> Option<&Node> {
        let mut n = &self.node;
        for k in base.iter().chain(path) {
            n = n.get(k)?;
        }
        Some(n)
    }

    /// A string field: set, not set (the default applies), or unknown when not a string.
    pub(crate) fn string(&self, n: Option<&Node>) -> Option<Value<String>> {
        let n = n?;
        Some(match &n.value {
            J::String(s) if is_placeholder(s) => Value::Unknown(
                format!(
                    "`{}` is a placeholder filled in before the manifest is applied",
                    s.trim()
                ),
                self.origin(n),
            ),
            J::String(s) => Value::Set(s.clone(), self.origin(n)),
            J::Null => return None,
            _ => Value::Unknown(
                format!("not a string but {}", n.kind_name()),
                self.origin(n),
            ),
        })
    }

    /// A list of strings; unknown when not set (`what` says what that means), or when the
    /// list or an element is not a known string.
    pub(crate) fn strings(&self, n: Option<&Node>, what: &str) -> Value<Vec<String>> {
        let Some(n) = n.filter(|n| n.value != J::Null) else {
            return Value::Unknown(what.to_string(), self.whole());
        };
        let J::Array(items) = &n.value else {
            return Value::Unknown(format!("not a list but {}", n.kind_name()), self.origin(n));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match self.string(Some(item)) {
                Some(Value::Set(s, _) | Value::Default(s, _)) => out.push(s),
                Some(Value::Unknown(why, at)) => return Value::Unknown(why, at),
                None => {
                    return Value::Unknown("an element is null".into(), self.origin(item));
                }
            }
        }
        Value::Set(out, self.origin(n))
    }

    /// `ecrguard.io/ignore` annotations: `RULE reason until=YYYY-MM-DD`, several separated by
    /// `;`.
    pub(crate) fn suppressions(&self) -> Vec<ecrguard_model::DeclaredSuppression> {
        let Some(node) = self
            .metadata("annotations")
            .and_then(|a| a.get("ecrguard.io/ignore"))
        else {
            return Vec::new();
        };
        let Some(text) = node.as_str() else {
            return Vec::new();
        };
        text.split(';')
            .filter(|s| !s.trim().is_empty())
            .map(|entry| {
                let mut words = entry.split_whitespace();
                let rule = words.next().unwrap_or("").to_string();
                let mut until = None;
                let mut reason = Vec::new();
                for w in words {
                    match w.strip_prefix("until=") {
                        Some(d) => until = Some(d.to_string()),
                        None => reason.push(w),
                    }
                }
                ecrguard_model::DeclaredSuppression {
                    rule,
                    resource: ResourceId::Kubernetes(self.id()),
                    written: "in annotation `ecrguard.io/ignore`",
                    reason: reason.join(" "),
                    until,
                    origin: self.origin(node),
                }
            })
            .collect()
    }
}

/// The first element of a list, or the object itself: Crossplane's v1beta1 writes nested
/// blocks as one-element lists (`imageScanningConfiguration: [{scanOnPush: true}]`), v1beta2
/// and ACK as objects.
pub(crate) fn block(n: Option<&Node>) -> Option<&Node> {
    match &n?.value {
        J::Array(items) => items.first(),
        J::Null => None,
        _ => n,
    }
}

/// A repository's settings, read the same way for ACK (`spec`) and Crossplane
/// (`spec.forProvider`): what is not written is the API's default.
pub(crate) fn repository(o: &Object, base: &[&str], name: Value<String>) -> Repository {
    let whole = o.whole();
    let id = ResourceId::Kubernetes(o.id());
    let tag_mutability = match o.string(o.field(base, &["imageTagMutability"])) {
        None => Value::Default(TagMutability::Mutable, whole.clone()),
        Some(Value::Set(s, at)) => match TagMutability::parse(&s) {
            Some(m) => Value::Set(m, at),
            None => Value::Unknown(format!("unrecognised value `{s}`"), at),
        },
        Some(other) => unknown_like(other),
    };
    let scanning = block(o.field(base, &["imageScanningConfiguration"]));
    let scan_on_push = match scanning.and_then(|b| b.get("scanOnPush")) {
        None => Value::Default(
            false,
            scanning.map_or_else(|| whole.clone(), |b| o.origin(b)),
        ),
        Some(n) => match n.value {
            J::Bool(b) => Value::Set(b, o.origin(n)),
            _ => Value::Unknown("`scanOnPush` is not a boolean".into(), o.origin(n)),
        },
    };
    let encryption = match block(o.field(base, &["encryptionConfiguration"])) {
        None => Value::Default(
            Encryption {
                kind: EncryptionKind::Aes256,
                kms_key: None,
            },
            whole.clone(),
        ),
        Some(enc) => {
            let at = o.origin(enc);
            let kms_key = o.string(enc.get("kmsKey")).or_else(|| {
                // A reference to a KMS key object: a customer managed key, by construction.
                let by_ref = enc.get("kmsKeyRef").or_else(|| enc.get("kmsKeySelector"))?;
                let name = by_ref
                    .get("name")
                    .or_else(|| by_ref.get("from").and_then(|f| f.get("name")))
                    .and_then(Node::as_str)
                    .unwrap_or("(selected)");
                Some(Value::Set(
                    format!("key `{name}` by reference"),
                    o.origin(by_ref),
                ))
            });
            match o.string(enc.get("encryptionType")) {
                None => Value::Default(
                    Encryption {
                        kind: EncryptionKind::Aes256,
                        kms_key,
                    },
                    at,
                ),
                Some(Value::Set(t, at)) => match EncryptionKind::parse(&t) {
                    Some(kind) => Value::Set(Encryption { kind, kms_key }, at),
                    None => Value::Unknown(format!("unrecognised encryption type `{t}`"), at),
                },
                Some(other) => unknown_like(other),
            }
        }
    };
    let tags = match o.field(base, &["tags"]) {
        None => Value::Default(Vec::new(), whole.clone()),
        Some(n) => match &n.value {
            // ACK: a list of `{key, value}`.
            J::Array(items) => Value::Set(
                items
                    .iter()
                    .filter_map(|t| {
                        Some((
                            t.get("key")?.as_str()?.to_string(),
                            t.get("value")?.as_str()?.to_string(),
                        ))
                    })
                    .collect(),
                o.origin(n),
            ),
            // Crossplane: a map.
            J::Object(members) => Value::Set(
                members
                    .iter()
                    .filter_map(|m| Some((m.key.clone(), m.value.as_str()?.to_string())))
                    .collect(),
                o.origin(n),
            ),
            _ => Value::Unknown("`tags` is not a list or a map".into(), o.origin(n)),
        },
    };
    Repository {
        id,
        name,
        account: None,
        region: o
            .field(base, &["region"])
            .and_then(Node::as_str)
            .map(str::to_string),
        origin: whole.clone(),
        policy: PolicyState::Absent(whole.clone()),
        tag_mutability,
        scan_on_push,
        encryption,
        lifecycle_policy: Value::Default(false, whole),
        tags,
        policy_only: false,
    }
}

fn unknown_like<T, U>(v: Value<U>) -> Value<T> {
    match v {
        Value::Unknown(why, at) => Value::Unknown(why, at),
        Value::Set(_, at) | Value::Default(_, at) => Value::Unknown("not evaluated".into(), at),
    }
}

/// Whether a field is an `envsubst` placeholder (`$POLICY`, `${POLICY}`), filled in before
/// the manifest is applied: unknown, not an invalid value.
/// The field names of a pull-through cache rule (ACK and Crossplane spell them differently).
pub(crate) struct PullThroughFields {
    pub(crate) base: &'static [&'static str],
    pub(crate) upstream_url: &'static str,
    pub(crate) credential_arn: &'static str,
    /// A reference to another object that supplies the credential ARN when applied.
    pub(crate) credential_ref: &'static [&'static str],
}

/// A pull-through cache rule from its spec.
pub(crate) fn pull_through_cache_rule(
    o: &Object,
    fields: &PullThroughFields,
) -> PullThroughCacheRule {
    let required = |key: &str| {
        o.string(o.field(fields.base, &[key]))
            .unwrap_or_else(|| Value::Unknown(format!("`{key}` is not set"), o.whole()))
    };
    let credential_arn = match o.string(o.field(fields.base, &[fields.credential_arn])) {
        Some(v) => v.map(Some),
        None => match fields
            .credential_ref
            .iter()
            .find(|k| o.field(fields.base, &[k]).is_some())
        {
            Some(k) => Value::Unknown(
                format!("the secret is named by `{k}`, resolved when the manifest is applied"),
                o.whole(),
            ),
            None => Value::Set(None, o.whole()),
        },
    };
    PullThroughCacheRule {
        id: ResourceId::Kubernetes(o.id()),
        account: None,
        region: o
            .field(fields.base, &["region"])
            .and_then(Node::as_str)
            .map(str::to_string),
        origin: o.whole(),
        prefix: required("ecrRepositoryPrefix"),
        upstream_url: required(fields.upstream_url),
        credential_arn,
    }
}

pub(crate) fn is_placeholder(s: &str) -> bool {
    let s = s.trim();
    match s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
        Some(name) => is_variable_name(name),
        None => s.strip_prefix('$').is_some_and(|n| {
            !n.is_empty()
                && !n.starts_with(|c: char| c.is_ascii_digit())
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }),
    }
}

/// What goes between `${` and `}` in a substitution variable: a shell name (`envsubst`,
/// Flux's post-build substitution) or a Terraform-style reference
/// (`data.aws_caller_identity.current.account_id`, `var.names[0]`, as the generated examples
/// of Crossplane providers write them). IAM's own policy variables (`aws:username`, `*`) have
/// a colon or are not names.
fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'))
}

/// Turns substitution variables ([`is_variable_name`]) in every string of a policy into
/// unknown parts of that string; IAM's policy variables are left alone.
fn variables(s: &str) -> Option<J> {
    ecrguard_iam::partial::substitute(s, |name| {
        if is_variable_name(name) {
            ecrguard_iam::partial::Variable::Unknown(format!(
                "`${{{name}}}` is substituted before the manifest is applied"
            ))
        } else {
            ecrguard_iam::partial::Variable::Keep
        }
    })
}

/// A policy written as a JSON string field.
pub(crate) fn policy(
    o: &Object,
    n: &Node,
    kind: PolicyKind,
    declared_by: &ResourceId,
) -> PolicyState {
    match &n.value {
        J::String(s) if is_placeholder(s) => PolicyState::Unknown(
            format!(
                "`{}` is a placeholder filled in before the manifest is applied",
                s.trim()
            ),
            o.origin(n),
        ),
        // `${jsonencode({...})}`: a whole expression of a template language (the generated
        // examples of Crossplane providers), rendered before anything is applied.
        J::String(s) if s.trim().starts_with("${") && s.trim().ends_with('}') => {
            PolicyState::Unknown(
                "the policy is a template expression (`${...}`) rendered before the manifest \
                 is applied"
                    .into(),
                o.origin(n),
            )
        }
        J::String(s) if s.contains("${") => match ecrguard_iam::json::parse(s) {
            Ok(mut node) => {
                node.strip_spans();
                node.map_strings(variables);
                PolicyState::read(&node, kind, s, o.origin(n), declared_by)
            }
            Err(_) => PolicyState::read_json_string(s, kind, o.origin(n), declared_by),
        },
        J::String(s) => PolicyState::read_json_string(s, kind, o.origin(n), declared_by),
        J::Object(_) => PolicyState::read(n, kind, &n.to_json(), o.origin(n), declared_by),
        _ => PolicyState::Unparseable {
            error: format!("the policy is {}, not a JSON string", n.kind_name()),
            origin: o.origin(n),
            declared_by: declared_by.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn substitution_variables_are_unknown_parts_and_policy_variables_stay() {
        use ecrguard_iam::json::Value as J;
        match super::variables("arn:aws:iam::${data.aws_account_id}:root") {
            Some(J::Partial(p)) => assert_eq!(p.shown(), "arn:aws:iam::${?}:root"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            super::variables("${ACCOUNT}"),
            Some(J::Unknown(_))
        ));
        assert!(super::variables("arn:aws:iam::*:user/${aws:username}").is_none());
        assert!(super::variables("${*}").is_none());
    }

    #[test]
    fn placeholders_are_told_from_values() {
        for p in [
            "$REPOSITORY_POLICY",
            "${POLICY}",
            " $A_1 ",
            "${data.aws_iam_policy_document.example.json}",
            "${data.aws_regions.example.names[0]}",
        ] {
            assert!(super::is_placeholder(p), "{p}");
        }
        for v in [
            "{\"Version\":\"2012-10-17\"}",
            "$",
            "${}",
            "$1X",
            "price $5",
            "${aws:username}",
            "${.x}",
            "prefix-${NAME}",
        ] {
            assert!(!super::is_placeholder(v), "{v}");
        }
    }
}
