//! Crossplane's AWS provider: `ecr.aws.upbound.io` (v1beta1 writes nested blocks as
//! one-element lists, v1beta2 as objects), the namespaced `ecr.aws.m.upbound.io`, and
//! `ecrpublic.aws.upbound.io`. Settings are under `spec.forProvider`; a repository's name in
//! AWS is its `crossplane.io/external-name` annotation, else the object's name. Policies are
//! objects of their own that name their repository by `repository` (the AWS name),
//! `repositoryRef.name` (the `Repository` object) or `repositorySelector.matchLabels`; they are
//! linked once every object of the scan is read.

use crate::KubernetesScan;
use crate::object::{self, Object};
use ecrguard_iam::PolicyKind;
use ecrguard_iam::json::Node;
use ecrguard_model::{
    CreationTemplate, PolicyState, PublicRepository, RegistryPolicy, RegistryScanning, Replication,
    ReplicationDestination, ReplicationRule, Repository, ResourceId, Value,
};
use std::collections::HashMap;

const FOR_PROVIDER: &[&str] = &["spec", "forProvider"];

const PULL_THROUGH: object::PullThroughFields = object::PullThroughFields {
    base: FOR_PROVIDER,
    upstream_url: "upstreamRegistryUrl",
    credential_arn: "credentialArn",
    credential_ref: &[],
};

/// How a policy object names its repository.
enum RepositoryRef {
    /// `repository` / `repositoryName`: the name in AWS.
    Name(String),
    /// `repositoryRef.name`: the `Repository` object, in the same namespace.
    Object {
        name: String,
        namespace: Option<String>,
    },
    /// `repositorySelector.matchLabels`.
    Labels(Vec<(String, String)>),
    /// None of them, or not a string.
    Unknown(String),
}

/// A `Repository` object with what links match on.
struct Declared {
    index: usize,
    object_name: String,
    namespace: Option<String>,
    labels: Vec<(String, String)>,
}

/// Policies waiting for their repository.
#[derive(Default)]
pub(crate) struct Links {
    repositories: Vec<Declared>,
    public: Vec<Declared>,
    policies: Vec<(RepositoryRef, PolicyState, bool)>,
    lifecycles: Vec<(RepositoryRef, ecrguard_model::Origin)>,
}

fn aws_name(o: &Object) -> Value<String> {
    match o
        .annotation("crossplane.io/external-name")
        .or_else(|| o.name())
    {
        Some(n) => Value::Set(n.to_string(), o.whole()),
        None => Value::Unknown("the object has no name".into(), o.whole()),
    }
}

fn declared(o: &Object, index: usize) -> Declared {
    Declared {
        index,
        object_name: o.name().unwrap_or_default().to_string(),
        namespace: o.namespace().map(str::to_string),
        labels: o
            .metadata("labels")
            .and_then(Node::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|l| Some((l.key.clone(), l.value.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn repository_ref(o: &Object, name_field: &str) -> RepositoryRef {
    if let Some(n) = o.field(FOR_PROVIDER, &[name_field]) {
        return match n.as_str() {
            Some(s) => RepositoryRef::Name(s.to_string()),
            None => RepositoryRef::Unknown(format!("`{name_field}` is not a string")),
        };
    }
    let ref_field = format!("{name_field}Ref");
    if let Some(name) = o
        .field(FOR_PROVIDER, &[ref_field.as_str(), "name"])
        .and_then(Node::as_str)
    {
        return RepositoryRef::Object {
            name: name.to_string(),
            namespace: o.namespace().map(str::to_string),
        };
    }
    let selector = format!("{name_field}Selector");
    if let Some(labels) = o
        .field(FOR_PROVIDER, &[selector.as_str(), "matchLabels"])
        .and_then(Node::as_object)
    {
        return RepositoryRef::Labels(
            labels
                .iter()
                .filter_map(|l| Some((l.key.clone(), l.value.as_str()?.to_string())))
                .collect(),
        );
    }
    RepositoryRef::Unknown(format!("no `{name_field}`, `{ref_field}` or `{selector}`"))
}

/// Adds one Crossplane object.
pub(crate) fn add(o: &Object, scan: &mut KubernetesScan, links: &mut Links) {
    let id = ResourceId::Kubernetes(o.id());
    let public = o.group() == "ecrpublic.aws.upbound.io";
    let policy_of = |kind: PolicyKind| match o.field(FOR_PROVIDER, &["policy"]) {
        Some(p) => object::policy(o, p, kind, &id),
        None => PolicyState::Unknown("`forProvider.policy` is not set".into(), o.whole()),
    };
    match (public, o.kind()) {
        (false, "Repository") => {
            links
                .repositories
                .push(declared(o, scan.state.repositories.len()));
            scan.state
                .repositories
                .push(object::repository(o, FOR_PROVIDER, aws_name(o)));
        }
        (false, "RepositoryPolicy") => links.policies.push((
            repository_ref(o, "repository"),
            policy_of(PolicyKind::Repository),
            false,
        )),
        (false, "LifecyclePolicy") => links
            .lifecycles
            .push((repository_ref(o, "repository"), o.whole())),
        (false, "RegistryPolicy") => scan.state.registry_policies.push(RegistryPolicy {
            id: id.clone(),
            account: None,
            region: region(o),
            policy: policy_of(PolicyKind::Registry),
        }),
        (false, "RepositoryCreationTemplate") => {
            let policy = match o.field(FOR_PROVIDER, &["repositoryPolicy"]) {
                Some(p) => object::policy(o, p, PolicyKind::Repository, &id),
                None => PolicyState::Absent(o.whole()),
            };
            scan.state.creation_templates.push(CreationTemplate {
                id: id.clone(),
                prefix: o
                    .string(o.field(FOR_PROVIDER, &["prefix"]))
                    .unwrap_or_else(|| {
                        Value::Unknown("`forProvider.prefix` is not set".into(), o.whole())
                    }),
                applied_for: o.strings(
                    o.field(FOR_PROVIDER, &["appliedFor"]),
                    "`forProvider.appliedFor` is not set",
                ),
                origin: o.whole(),
                policy,
            });
        }
        (false, "RegistryScanningConfiguration") => {
            scan.state.registry_scanning.push(RegistryScanning {
                id,
                account: None,
                region: region(o),
                scan_on_push_filters: match scanning_filters(o) {
                    Ok(f) => Value::Set(f, o.whole()),
                    Err(why) => Value::Unknown(why, o.whole()),
                },
            });
        }
        (false, "PullThroughCacheRule") => scan
            .state
            .pull_through_cache_rules
            .push(object::pull_through_cache_rule(o, &PULL_THROUGH)),
        (false, "ReplicationConfiguration") => {
            let config = object::block(o.field(FOR_PROVIDER, &["replicationConfiguration"]));
            let rules = items(config.and_then(|c| c.get("rule")))
                .iter()
                .map(|rule| ReplicationRule {
                    origin: o.origin(rule),
                    destinations: items(rule.get("destination"))
                        .iter()
                        .map(|d| {
                            let at = o.origin(d);
                            let text = |k: &str| {
                                o.string(d.get(k)).unwrap_or_else(|| {
                                    Value::Unknown(format!("`{k}` is not set"), at.clone())
                                })
                            };
                            ReplicationDestination {
                                region: text("region"),
                                registry_id: text("registryId"),
                                origin: at.clone(),
                            }
                        })
                        .collect(),
                    filters: items(rule.get("repositoryFilter"))
                        .iter()
                        .filter_map(|f| f.get("filter").and_then(Node::as_str).map(str::to_string))
                        .collect(),
                })
                .collect();
            scan.state.replications.push(Replication {
                id,
                account: None,
                region: region(o),
                origin: o.whole(),
                rules: Value::Set(rules, o.whole()),
            });
        }
        (true, "Repository") => {
            links
                .public
                .push(declared(o, scan.state.public_repositories.len()));
            scan.state.public_repositories.push(PublicRepository {
                id,
                name: aws_name(o),
                account: None,
                origin: o.whole(),
                policy: PolicyState::Absent(o.whole()),
            });
        }
        (true, "RepositoryPolicy") => links.policies.push((
            repository_ref(o, "repositoryName"),
            policy_of(PolicyKind::PublicRepository),
            true,
        )),
        (_, other) => scan.not_evaluated.push(crate::InputProblem::not_evaluated(
            o.id(),
            format!("Crossplane `{other}` is not read by ecrguard yet"),
        )),
    }
}

impl RepositoryRef {
    /// Whether this names the repository `d` whose AWS name is `aws`: `Some(true)` /
    /// `Some(false)`, `None` when it cannot be told.
    fn names(&self, d: &Declared, aws: Option<&String>) -> Option<bool> {
        match self {
            RepositoryRef::Name(n) => aws.map(|a| a == n),
            RepositoryRef::Object { name, namespace } => {
                Some(*name == d.object_name && *namespace == d.namespace)
            }
            RepositoryRef::Labels(want) => {
                Some(!want.is_empty() && want.iter().all(|w| d.labels.contains(w)))
            }
            RepositoryRef::Unknown(_) => None,
        }
    }

    fn why(&self) -> &str {
        match self {
            RepositoryRef::Unknown(why) => why,
            _ => "",
        }
    }
}

impl Links {
    /// Gives each repository the policies and lifecycle policies that name it; a policy whose
    /// repository is not among the manifests is analysed on its own. Repositories are indexed
    /// by what references match on: a scan of every repository per policy was quadratic.
    pub(crate) fn finish(self, scan: &mut KubernetesScan) {
        let private = Index::new(&self.repositories, |i| {
            scan.state.repositories[i].name.known().cloned()
        });
        let public = Index::new(&self.public, |i| {
            scan.state.public_repositories[i].name.known().cloned()
        });
        for (target, state, is_public) in self.policies {
            let (declared, index) = if is_public {
                (&self.public, &public)
            } else {
                (&self.repositories, &private)
            };
            let hits = index.candidates(&target, declared);
            let mut matched = false;
            for d in hits {
                let (name, policy, origin) = if is_public {
                    let r = &mut scan.state.public_repositories[d.index];
                    (r.name.known().cloned(), &mut r.policy, r.origin.clone())
                } else {
                    let r = &mut scan.state.repositories[d.index];
                    (r.name.known().cloned(), &mut r.policy, r.origin.clone())
                };
                match target.names(d, name.as_ref()) {
                    Some(true) => {
                        *policy = state.clone();
                        matched = true;
                    }
                    Some(false) => {}
                    None => {
                        *policy = PolicyState::Unknown(
                            format!(
                                "a repository policy whose repository is unknown may apply ({})",
                                target.why()
                            ),
                            origin,
                        );
                    }
                }
            }
            if !matched && !is_public {
                outside(scan, &target, state);
            }
        }
        for (target, origin) in self.lifecycles {
            for d in private.candidates(&target, &self.repositories) {
                let repo = &mut scan.state.repositories[d.index];
                match target.names(d, repo.name.known()) {
                    Some(true) => repo.lifecycle_policy = Value::Set(true, origin.clone()),
                    Some(false) => {}
                    None => {
                        repo.lifecycle_policy = Value::Unknown(
                            format!(
                                "a lifecycle policy whose repository is unknown may apply ({})",
                                target.why()
                            ),
                            repo.origin.clone(),
                        );
                    }
                }
            }
        }
    }
}

/// Repositories by AWS name, by object (name, namespace), and by label.
struct Index {
    by_name: HashMap<String, Vec<usize>>,
    by_object: HashMap<(String, Option<String>), Vec<usize>>,
    by_label: HashMap<(String, String), Vec<usize>>,
}

impl Index {
    fn new(declared: &[Declared], aws_name: impl Fn(usize) -> Option<String>) -> Index {
        let mut x = Index {
            by_name: HashMap::new(),
            by_object: HashMap::new(),
            by_label: HashMap::new(),
        };
        for (pos, d) in declared.iter().enumerate() {
            if let Some(n) = aws_name(d.index) {
                x.by_name.entry(n).or_default().push(pos);
            }
            x.by_object
                .entry((d.object_name.clone(), d.namespace.clone()))
                .or_default()
                .push(pos);
            for l in &d.labels {
                x.by_label.entry(l.clone()).or_default().push(pos);
            }
        }
        x
    }

    /// The repositories a reference may name (a superset: `names` decides).
    fn candidates<'d>(
        &self,
        target: &RepositoryRef,
        declared: &'d [Declared],
    ) -> Vec<&'d Declared> {
        let positions: Vec<usize> = match target {
            RepositoryRef::Name(n) => self.by_name.get(n).cloned().unwrap_or_default(),
            RepositoryRef::Object { name, namespace } => self
                .by_object
                .get(&(name.clone(), namespace.clone()))
                .cloned()
                .unwrap_or_default(),
            RepositoryRef::Labels(want) => match want.first() {
                Some(first) => self.by_label.get(first).cloned().unwrap_or_default(),
                None => Vec::new(),
            },
            // Any repository may be the one.
            RepositoryRef::Unknown(_) => (0..declared.len()).collect(),
        };
        positions.into_iter().map(|p| &declared[p]).collect()
    }
}

/// A policy for a repository that is not among the manifests (made elsewhere): still
/// analysed, with the repository's settings unknown.
fn outside(scan: &mut KubernetesScan, target: &RepositoryRef, state: PolicyState) {
    let (declared_by, origin) = match &state {
        PolicyState::Present(d) => (d.declared_by.clone(), d.origin.clone()),
        PolicyState::Unparseable {
            declared_by,
            origin,
            ..
        } => (declared_by.clone(), origin.clone()),
        PolicyState::Absent(_) | PolicyState::Unknown(..) => return,
    };
    let label = match target {
        RepositoryRef::Name(n) => format!("{n} (repository not in the scanned manifests)"),
        RepositoryRef::Object { name, .. } => {
            format!("Repository/{name} (not in the scanned manifests)")
        }
        RepositoryRef::Labels(_) | RepositoryRef::Unknown(_) => {
            format!("repository of {declared_by} (unknown)")
        }
    };
    let mut repo = Repository::policy_only(
        ResourceId::Kubernetes(label),
        origin,
        "the repository is not in the scanned manifests",
    );
    if let RepositoryRef::Name(n) = target {
        repo.name = Value::Set(n.clone(), repo.origin.clone());
    }
    repo.policy = state;
    scan.state.repositories.push(repo);
}

/// The wildcard filters of the rules that scan on push or continuously.
fn scanning_filters(o: &Object) -> Result<Vec<String>, String> {
    let mut filters = Vec::new();
    for rule in items(o.field(FOR_PROVIDER, &["rule"])) {
        let frequency = rule
            .get("scanFrequency")
            .and_then(Node::as_str)
            .ok_or("a rule's `scanFrequency` is not a known string")?;
        if object::is_placeholder(frequency) {
            return Err(format!(
                "a rule's `scanFrequency` is the placeholder `{frequency}`"
            ));
        }
        if frequency != "SCAN_ON_PUSH" && frequency != "CONTINUOUS_SCAN" {
            continue;
        }
        for f in items(rule.get("repositoryFilter")) {
            match f.get("filter").and_then(Node::as_str) {
                Some(text) if !object::is_placeholder(text) => filters.push(text.to_string()),
                _ => return Err("a `repositoryFilter.filter` is not a known string".into()),
            }
        }
    }
    Ok(filters)
}

/// A list field's elements; a lone object (a v1beta2 block) is a list of one.
fn items(n: Option<&Node>) -> Vec<&Node> {
    match n.map(|n| &n.value) {
        Some(ecrguard_iam::json::Value::Array(items)) => items.iter().collect(),
        Some(ecrguard_iam::json::Value::Object(_)) => n.into_iter().collect(),
        _ => Vec::new(),
    }
}

/// `forProvider.region`, when written.
fn region(o: &Object) -> Option<String> {
    o.field(FOR_PROVIDER, &["region"])
        .and_then(Node::as_str)
        .map(str::to_string)
}
