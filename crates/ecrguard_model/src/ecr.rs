//! The normalized ECR state. Terraform, CloudFormation and live AWS all adapt into these
//! types; rules read nothing else.

use crate::origin::Origin;
use crate::value::Value;
use ecrguard_iam::{Policy, PolicyKind};
use std::fmt;

/// A Terraform address in the root module it was reached from. A module called by several
/// roots (`examples/complete`, `examples/simple`) makes different resources in each, so the
/// root is part of the name: `examples/complete: module.ecr.aws_ecr_repository.this[0]`.
/// The root is the root module's directory relative to the scanned path, empty when the
/// scanned path is the root itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TerraformAddress {
    /// `root: address`, or the address alone.
    label: String,
    /// Bytes of `label` before the address.
    address_at: usize,
}

impl TerraformAddress {
    /// An address in the root module that was scanned directly.
    #[must_use]
    pub fn new(address: impl Into<String>) -> Self {
        TerraformAddress {
            label: address.into(),
            address_at: 0,
        }
    }

    /// An address in the root module at `root` (relative to the scanned path; empty for the
    /// scanned path itself).
    #[must_use]
    pub fn in_root(root: &str, address: &str) -> Self {
        if root.is_empty() {
            return Self::new(address);
        }
        let label = format!("{root}: {address}");
        TerraformAddress {
            address_at: label.len() - address.len(),
            label,
        }
    }

    /// The root module's directory, when it is not the scanned path.
    #[must_use]
    pub fn root(&self) -> Option<&str> {
        (self.address_at > 0).then(|| &self.label[..self.address_at - 2])
    }

    /// The address within its root.
    #[must_use]
    pub fn address(&self) -> &str {
        &self.label[self.address_at..]
    }
}

impl From<&str> for TerraformAddress {
    fn from(address: &str) -> Self {
        Self::new(address)
    }
}

impl From<String> for TerraformAddress {
    fn from(address: String) -> Self {
        Self::new(address)
    }
}

/// How a resource is named where it was declared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceId {
    /// A Terraform address (`module.app.aws_ecr_repository.this["api"]`) in its root.
    Terraform(TerraformAddress),
    /// A CloudFormation logical id.
    CloudFormation(String),
    /// An AWS ARN.
    Arn(String),
    /// A policy given on its own (`check-policy`): the file it came from.
    Input(String),
    /// A Kubernetes object: `Kind/name`, or `Kind/namespace/name` for a namespaced one.
    Kubernetes(String),
}

impl ResourceId {
    /// The text users see.
    #[must_use]
    pub fn label(&self) -> &str {
        match self {
            ResourceId::Terraform(a) => &a.label,
            ResourceId::CloudFormation(s)
            | ResourceId::Arn(s)
            | ResourceId::Input(s)
            | ResourceId::Kubernetes(s) => s,
        }
    }

    /// The name within its source: for Terraform the address without its root.
    #[must_use]
    pub fn address(&self) -> &str {
        match self {
            ResourceId::Terraform(a) => a.address(),
            other => other.label(),
        }
    }

    /// The Terraform root module the resource was reached from, when the scan had one
    /// other than the scanned path.
    #[must_use]
    pub fn root(&self) -> Option<&str> {
        match self {
            ResourceId::Terraform(a) => a.root(),
            _ => None,
        }
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A condition a policy was analysed under: a CloudFormation `Fn::If` on a condition the
/// template cannot decide is analysed once per branch, and what is found in a branch holds
/// only when its conditions do.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Assumption {
    /// The condition's name (`IsPublic`).
    pub condition: String,
    /// The value assumed.
    pub holds: bool,
}

impl Assumption {
    /// `IsPublic=true, Other=false`: how assumptions are named to users (and, in that
    /// wording, in fingerprints).
    #[must_use]
    pub fn describe(assumes: &[Assumption]) -> String {
        assumes
            .iter()
            .map(|a| format!("{}={}", a.condition, a.holds))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// ` (when IsPublic=true)` after what holds under `assumes`; nothing when it holds as
    /// written.
    #[must_use]
    pub fn when(assumes: &[Assumption]) -> String {
        if assumes.is_empty() {
            String::new()
        } else {
            format!(" (when {})", Assumption::describe(assumes))
        }
    }
}

/// A policy document as a source found it.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDoc {
    /// The parsed document; its spans point into `origin`'s file.
    pub policy: Policy,
    /// Where the document is (its spans are relative to this origin's file).
    pub origin: Origin,
    /// The resource that declares the policy (an `aws_ecr_repository_policy`, or the
    /// repository itself in CloudFormation).
    pub declared_by: ResourceId,
    /// The conditions this document holds under (one branch of a conditional policy); empty
    /// for a policy that is what it is.
    pub assumes: Vec<Assumption>,
}

/// What is known about a policy slot. `Unknown` is never `Absent`.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyState {
    /// Proven absent: no policy resource, or `RepositoryPolicyNotFoundException`.
    Absent(Origin),
    /// Parsed.
    Present(Box<PolicyDoc>),
    /// Present but not readable as a policy (not JSON, not an object).
    Unparseable {
        /// Why.
        error: String,
        /// Where (narrowed to the problem when known).
        origin: Origin,
        /// The resource that declares it.
        declared_by: ResourceId,
    },
    /// Could not be determined: computed values, unresolved references, AccessDenied,
    /// throttling. The text says why.
    Unknown(String, Origin),
}

impl PolicyState {
    /// A policy read from a JSON tree whose text is `text` (for limits and messages): present,
    /// or unparseable with the engine's reason.
    #[must_use]
    pub fn read(
        node: &ecrguard_iam::json::Node,
        kind: PolicyKind,
        text: &str,
        origin: Origin,
        declared_by: &ResourceId,
    ) -> PolicyState {
        Self::from_reading(
            ecrguard_iam::policy::parse_node_of_text(node, kind, text),
            origin,
            declared_by,
        )
    }

    /// A policy read from its text, positions kept relative to it (an API response).
    #[must_use]
    pub fn read_text(
        text: &str,
        kind: PolicyKind,
        origin: Origin,
        declared_by: &ResourceId,
    ) -> PolicyState {
        Self::from_reading(ecrguard_iam::parse_text(text, kind), origin, declared_by)
    }

    fn from_reading(
        read: Result<Policy, ecrguard_iam::PolicyError>,
        origin: Origin,
        declared_by: &ResourceId,
    ) -> PolicyState {
        match read {
            Ok(policy) => PolicyState::Present(Box::new(PolicyDoc {
                policy,
                origin,
                declared_by: declared_by.clone(),
                assumes: Vec::new(),
            })),
            Err(e) => PolicyState::Unparseable {
                error: e.message,
                origin,
                declared_by: declared_by.clone(),
            },
        }
    }

    /// A policy written as a JSON string inside another document (a YAML block scalar, a
    /// CloudFormation string): positions inside the string are not kept, the whole string is
    /// where the policy is.
    #[must_use]
    pub fn read_json_string(
        text: &str,
        kind: PolicyKind,
        origin: Origin,
        declared_by: &ResourceId,
    ) -> PolicyState {
        match ecrguard_iam::json::parse(text) {
            Ok(mut node) => {
                node.strip_spans();
                PolicyState::read(&node, kind, text, origin, declared_by)
            }
            Err(e) => PolicyState::Unparseable {
                error: format!("not valid JSON: {}", e.message),
                origin,
                declared_by: declared_by.clone(),
            },
        }
    }

    /// The document, when present.
    #[must_use]
    pub fn doc(&self) -> Option<&PolicyDoc> {
        match self {
            PolicyState::Present(d) => Some(d),
            _ => None,
        }
    }
}

/// `image_tag_mutability` / `ImageTagMutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagMutability {
    /// Tags can be overwritten (the default).
    Mutable,
    /// Tags cannot be overwritten.
    Immutable,
    /// Immutable except for tags matching exclusion filters.
    ImmutableWithExclusion,
    /// Mutable except for tags matching exclusion filters.
    MutableWithExclusion,
}

impl TagMutability {
    /// Parses the API value.
    #[must_use]
    pub fn parse(s: &str) -> Option<TagMutability> {
        Some(match s {
            "MUTABLE" => TagMutability::Mutable,
            "IMMUTABLE" => TagMutability::Immutable,
            "IMMUTABLE_WITH_EXCLUSION" => TagMutability::ImmutableWithExclusion,
            "MUTABLE_WITH_EXCLUSION" => TagMutability::MutableWithExclusion,
            _ => return None,
        })
    }

    /// The API value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TagMutability::Mutable => "MUTABLE",
            TagMutability::Immutable => "IMMUTABLE",
            TagMutability::ImmutableWithExclusion => "IMMUTABLE_WITH_EXCLUSION",
            TagMutability::MutableWithExclusion => "MUTABLE_WITH_EXCLUSION",
        }
    }
}

/// `encryption_configuration` / `EncryptionConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Encryption {
    /// `AES256`, `KMS` or `KMS_DSSE`.
    pub kind: EncryptionKind,
    /// The KMS key, when given.
    pub kms_key: Option<Value<String>>,
}

/// Encryption types of ECR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncryptionKind {
    /// AWS-owned key (default).
    Aes256,
    /// KMS.
    Kms,
    /// Dual-layer KMS.
    KmsDsse,
}

impl EncryptionKind {
    /// Parses the API value.
    #[must_use]
    pub fn parse(s: &str) -> Option<EncryptionKind> {
        Some(match s {
            "AES256" => EncryptionKind::Aes256,
            "KMS" => EncryptionKind::Kms,
            "KMS_DSSE" => EncryptionKind::KmsDsse,
            _ => return None,
        })
    }
}

/// A private repository.
#[derive(Debug, Clone, PartialEq)]
pub struct Repository {
    /// How it is named where declared.
    pub id: ResourceId,
    /// Repository name.
    pub name: Value<String>,
    /// Owner account, when known.
    pub account: Option<String>,
    /// Region, when known.
    pub region: Option<String>,
    /// Where it was declared.
    pub origin: Origin,
    /// Its repository policy.
    pub policy: PolicyState,
    /// Tag mutability.
    pub tag_mutability: Value<TagMutability>,
    /// Scan on push (repository level).
    pub scan_on_push: Value<bool>,
    /// Encryption.
    pub encryption: Value<Encryption>,
    /// Whether a lifecycle policy exists.
    pub lifecycle_policy: Value<bool>,
    /// Tags.
    pub tags: Value<Vec<(String, String)>>,
    /// This entry stands for a repository known only through a policy (declared elsewhere,
    /// or another branch of a conditional policy): its settings are not for this entry to
    /// report, known or not.
    pub policy_only: bool,
}

impl Repository {
    /// An entry for a policy whose repository's settings are declared elsewhere.
    #[must_use]
    pub fn policy_only(id: ResourceId, origin: Origin, why: &str) -> Repository {
        Repository {
            policy_only: true,
            ..Repository::unknown(id, origin, why)
        }
    }

    /// A repository about which only the name and origin are known; everything else Unknown.
    /// See also [`Repository::policy_only`].
    #[must_use]
    pub fn unknown(id: ResourceId, origin: Origin, why: &str) -> Repository {
        let unknown = || Origin::clone(&origin);
        Repository {
            name: Value::Unknown(why.into(), unknown()),
            account: None,
            region: None,
            policy: PolicyState::Unknown(why.into(), unknown()),
            tag_mutability: Value::Unknown(why.into(), unknown()),
            scan_on_push: Value::Unknown(why.into(), unknown()),
            encryption: Value::Unknown(why.into(), unknown()),
            lifecycle_policy: Value::Unknown(why.into(), unknown()),
            tags: Value::Unknown(why.into(), unknown()),
            policy_only: false,
            origin,
            id,
        }
    }
}

/// A registry policy (one per account and region).
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryPolicy {
    /// How it is named where declared.
    pub id: ResourceId,
    /// Owner account, when known.
    pub account: Option<String>,
    /// Region, when known.
    pub region: Option<String>,
    /// The policy.
    pub policy: PolicyState,
}

/// A repository creation template: its policy is applied to every repository ECR creates
/// under the prefix (pull-through cache, replication, create-on-push).
#[derive(Debug, Clone, PartialEq)]
pub struct CreationTemplate {
    /// How it is named where declared.
    pub id: ResourceId,
    /// The prefix (`ROOT` for the default template).
    pub prefix: Value<String>,
    /// What creates the repositories it applies to: `PULL_THROUGH_CACHE`, `REPLICATION`,
    /// `CREATE_ON_PUSH`, as written (upper case).
    pub applied_for: Value<Vec<String>>,
    /// Where it was declared.
    pub origin: Origin,
    /// The repository policy it applies.
    pub policy: PolicyState,
}

/// The prefix a creation template uses for every repository.
pub const ROOT_PREFIX: &str = "ROOT";

/// How a creation template names pull-through cache in `appliedFor`.
pub const APPLIED_FOR_PULL_THROUGH_CACHE: &str = "PULL_THROUGH_CACHE";

impl CreationTemplate {
    /// Whether the template may apply to repositories named under `prefix` (a pull-through
    /// cache rule's prefix): the template's prefix is `ROOT`, or one prefix is a path prefix
    /// of the other (the template `team` covers `team/hub/...`; the template
    /// `hub/library` covers part of what the rule `hub` creates). `None` when the template's
    /// prefix is unknown.
    #[must_use]
    pub fn may_cover(&self, prefix: &str) -> Option<bool> {
        let mine = self.prefix.known()?;
        let path_prefix = |short: &str, long: &str| {
            long == short || long.strip_prefix(short).is_some_and(|r| r.starts_with('/'))
        };
        Some(mine == ROOT_PREFIX || path_prefix(mine, prefix) || path_prefix(prefix, mine))
    }

    /// Whether the template applies to repositories a pull-through cache creates: `None`
    /// when its `appliedFor` is unknown.
    #[must_use]
    pub fn for_pull_through_cache(&self) -> Option<bool> {
        self.applied_for
            .known()
            .map(|uses| uses.iter().any(|u| u == APPLIED_FOR_PULL_THROUGH_CACHE))
    }
}

/// A pull-through cache rule: on the first pull of `<prefix>/<path>`, ECR creates that
/// repository (with the matching creation template's settings) and imports the image from
/// the upstream registry.
#[derive(Debug, Clone, PartialEq)]
pub struct PullThroughCacheRule {
    /// How it is named where declared.
    pub id: ResourceId,
    /// Owner account, when known (live).
    pub account: Option<String>,
    /// Region, when known.
    pub region: Option<String>,
    /// Where it was declared.
    pub origin: Origin,
    /// The repository name prefix (`ROOT` for every repository).
    pub prefix: Value<String>,
    /// The upstream registry URL (`registry-1.docker.io`, `public.ecr.aws`...).
    pub upstream_url: Value<String>,
    /// The Secrets Manager secret with the upstream's credentials; `None` when the rule
    /// has none (a public upstream).
    pub credential_arn: Value<Option<String>>,
}

/// An ECR Public repository: public by design.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicRepository {
    /// How it is named where declared.
    pub id: ResourceId,
    /// Repository name.
    pub name: Value<String>,
    /// Owner account, when known.
    pub account: Option<String>,
    /// Where it was declared.
    pub origin: Origin,
    /// Its policy.
    pub policy: PolicyState,
}

/// Registry-wide scanning configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryScanning {
    /// How it is named where declared.
    pub id: ResourceId,
    /// Account, when known.
    pub account: Option<String>,
    /// Region, when known.
    pub region: Option<String>,
    /// Wildcard filters of the rules that scan on push (or continuously); a repository whose
    /// name matches one is scanned.
    pub scan_on_push_filters: Value<Vec<String>>,
}

/// Kinds of IAM identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityKind {
    /// IAM user.
    User,
    /// IAM role.
    Role,
    /// IAM group.
    Group,
}

/// An identity policy attached to an identity.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityPolicy {
    /// Name or ARN of the policy (an AWS managed policy is named by its ARN).
    pub name: String,
    /// Its document, when known.
    pub document: PolicyState,
}

/// An IAM user, role or group and the policies that apply to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// How it is named where declared.
    pub id: ResourceId,
    /// User, role or group.
    pub kind: IdentityKind,
    /// Name.
    pub name: Value<String>,
    /// Where it was declared.
    pub origin: Origin,
    /// Inline and attached policies.
    pub policies: Vec<IdentityPolicy>,
    /// Whether an EKS node group (or its launch template / instance profile) uses it.
    pub eks_node_role: bool,
    /// For a user, the names of its groups, whose policies apply to it too.
    pub groups: Vec<String>,
}

/// A customer managed IAM policy (`aws_iam_policy`, `AWS::IAM::ManagedPolicy`), reported on
/// its own whether or not something attaches it.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedPolicy {
    /// How it is named where declared.
    pub id: ResourceId,
    /// Its name.
    pub name: Value<String>,
    /// Its document.
    pub document: PolicyState,
}

/// Everything one input set says about ECR.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EcrState {
    /// Private repositories.
    pub repositories: Vec<Repository>,
    /// Registry policies.
    pub registry_policies: Vec<RegistryPolicy>,
    /// Creation templates.
    pub creation_templates: Vec<CreationTemplate>,
    /// ECR Public repositories.
    pub public_repositories: Vec<PublicRepository>,
    /// Registry scanning configurations.
    pub registry_scanning: Vec<RegistryScanning>,
    /// IAM identities.
    pub identities: Vec<Identity>,
    /// Customer managed IAM policies.
    pub managed_policies: Vec<ManagedPolicy>,
    /// Registry replication configurations.
    pub replications: Vec<Replication>,
    /// Pull-through cache rules.
    pub pull_through_cache_rules: Vec<PullThroughCacheRule>,
}

/// A registry's replication configuration: ECR copies every image pushed to a matching
/// repository to each destination registry.
#[derive(Debug, Clone, PartialEq)]
pub struct Replication {
    /// How it is named where declared.
    pub id: ResourceId,
    /// Owner account, when known (live).
    pub account: Option<String>,
    /// Region, when known.
    pub region: Option<String>,
    /// Where it was declared.
    pub origin: Origin,
    /// The rules, in order; unknown when the source could not read them.
    pub rules: Value<Vec<ReplicationRule>>,
}

/// One replication rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicationRule {
    /// Where it was written.
    pub origin: Origin,
    /// Where images go.
    pub destinations: Vec<ReplicationDestination>,
    /// Repository name prefixes it applies to (`PREFIX_MATCH` filters); empty for every
    /// repository.
    pub filters: Vec<String>,
}

/// A destination registry of a replication rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicationDestination {
    /// Where it was written.
    pub origin: Origin,
    /// The destination region.
    pub region: Value<String>,
    /// The destination registry: an account id ([`ecrguard_iam::principal::SELF_ACCOUNT`]
    /// for the owner's own registry, as sources write it).
    pub registry_id: Value<String>,
}

/// A suppression a source declares in its own structure (a CloudFormation resource's
/// `Metadata`, a Kubernetes annotation), before the caller checks its rule and reason.
#[derive(Debug, Clone)]
pub struct DeclaredSuppression {
    /// Rule code or name.
    pub rule: String,
    /// The resource it is declared on.
    pub resource: ResourceId,
    /// Why (may be empty: reported as invalid by the caller).
    pub reason: String,
    /// Expiry date.
    pub until: Option<String>,
    /// Where it is written.
    pub origin: Origin,
    /// How it is written, for messages: "in `Metadata`", "in annotation `ecrguard.io/ignore`".
    pub written: &'static str,
}

/// What a policy is attached to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PolicyOwner<'a> {
    /// A private repository.
    Repository(&'a Repository),
    /// A registry.
    Registry(&'a RegistryPolicy),
    /// A creation template.
    CreationTemplate(&'a CreationTemplate),
    /// An ECR Public repository.
    PublicRepository(&'a PublicRepository),
}

impl<'a> PolicyOwner<'a> {
    /// The policy slot.
    #[must_use]
    pub fn policy(self) -> &'a PolicyState {
        match self {
            PolicyOwner::Repository(r) => &r.policy,
            PolicyOwner::Registry(r) => &r.policy,
            PolicyOwner::CreationTemplate(t) => &t.policy,
            PolicyOwner::PublicRepository(r) => &r.policy,
        }
    }

    /// The owner's resource id.
    #[must_use]
    pub fn id(self) -> &'a ResourceId {
        match self {
            PolicyOwner::Repository(r) => &r.id,
            PolicyOwner::Registry(r) => &r.id,
            PolicyOwner::CreationTemplate(t) => &t.id,
            PolicyOwner::PublicRepository(r) => &r.id,
        }
    }

    /// The account owning the resource, when known.
    #[must_use]
    pub fn account(self) -> Option<&'a str> {
        match self {
            PolicyOwner::Repository(r) => r.account.as_deref(),
            PolicyOwner::Registry(r) => r.account.as_deref(),
            PolicyOwner::CreationTemplate(_) => None,
            PolicyOwner::PublicRepository(r) => r.account.as_deref(),
        }
    }

    /// The kind of policy this slot holds.
    #[must_use]
    pub fn kind(self) -> PolicyKind {
        match self {
            PolicyOwner::Repository(_) | PolicyOwner::CreationTemplate(_) => PolicyKind::Repository,
            PolicyOwner::Registry(_) => PolicyKind::Registry,
            PolicyOwner::PublicRepository(_) => PolicyKind::PublicRepository,
        }
    }

    /// "repository", "registry"... for messages.
    #[must_use]
    pub fn noun(self) -> &'static str {
        match self {
            PolicyOwner::Repository(_) => "repository",
            PolicyOwner::Registry(_) => "registry",
            PolicyOwner::CreationTemplate(_) => "creation template",
            PolicyOwner::PublicRepository(_) => "public repository",
        }
    }
}

impl EcrState {
    /// Adds everything of another state (sources scanned separately, merged for the rules).
    pub fn extend(&mut self, other: EcrState) {
        // Into an empty list the other list is moved whole: the records are large, and a scan
        // of one kind of source merges everything into an empty state.
        fn append<T>(to: &mut Vec<T>, from: Vec<T>) {
            if to.is_empty() {
                *to = from;
            } else {
                to.extend(from);
            }
        }
        append(&mut self.repositories, other.repositories);
        append(&mut self.registry_policies, other.registry_policies);
        append(&mut self.creation_templates, other.creation_templates);
        append(&mut self.public_repositories, other.public_repositories);
        append(&mut self.registry_scanning, other.registry_scanning);
        append(&mut self.identities, other.identities);
        append(&mut self.replications, other.replications);
        append(&mut self.managed_policies, other.managed_policies);
        append(
            &mut self.pull_through_cache_rules,
            other.pull_through_cache_rules,
        );
    }

    /// Many states as one, each list allocated once at its final size.
    #[must_use]
    pub fn concat(mut parts: Vec<EcrState>) -> EcrState {
        fn gather<T>(parts: &mut [EcrState], list: fn(&mut EcrState) -> &mut Vec<T>) -> Vec<T> {
            let mut out = Vec::with_capacity(parts.iter_mut().map(|p| list(p).len()).sum());
            for p in parts.iter_mut() {
                out.append(list(p));
            }
            out
        }
        EcrState {
            repositories: gather(&mut parts, |s| &mut s.repositories),
            registry_policies: gather(&mut parts, |s| &mut s.registry_policies),
            creation_templates: gather(&mut parts, |s| &mut s.creation_templates),
            public_repositories: gather(&mut parts, |s| &mut s.public_repositories),
            registry_scanning: gather(&mut parts, |s| &mut s.registry_scanning),
            identities: gather(&mut parts, |s| &mut s.identities),
            managed_policies: gather(&mut parts, |s| &mut s.managed_policies),
            replications: gather(&mut parts, |s| &mut s.replications),
            pull_through_cache_rules: gather(&mut parts, |s| &mut s.pull_through_cache_rules),
        }
    }

    /// Every resource-policy slot of the state, in a stable order.
    pub fn policy_owners(&self) -> impl Iterator<Item = PolicyOwner<'_>> {
        self.repositories
            .iter()
            .map(PolicyOwner::Repository)
            .chain(self.registry_policies.iter().map(PolicyOwner::Registry))
            .chain(
                self.creation_templates
                    .iter()
                    .map(PolicyOwner::CreationTemplate),
            )
            .chain(
                self.public_repositories
                    .iter()
                    .map(PolicyOwner::PublicRepository),
            )
    }
}
