//! Reads one account's ECR state, region by region, into the model. Per-repository calls run
//! with bounded concurrency. Only a service "not found" means absent; every error makes the
//! value `Unknown` and is kept with its ARN, region, call and AWS error code.

use crate::api::{
    ApiError, AuthorizationDetails, EcrApi, EcrPublicApi, EcrWriteApi, EksApi, ErrorKind, IamApi,
    NodeGroup, RepositoryInfo,
};
use ecrguard_iam::PolicyKind;
use ecrguard_model::link::IdentityRef;
use ecrguard_model::{
    CreationTemplate, EcrState, Encryption, EncryptionKind, Identity, IdentityKind, IdentityPolicy,
    ManagedPolicy, Origin, PolicyState, PublicRepository, PullThroughCacheRule, RegistryPolicy,
    RegistryScanning, Replication, ReplicationDestination, ReplicationRule, Repository, ResourceId,
    TagMutability, Value,
};
use futures::stream::{self, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// Regions to read.
    pub regions: Vec<String>,
    /// Most calls in flight at once.
    pub concurrency: usize,
    /// Counters the collector moves as it goes (a progress display reads them).
    pub progress: Arc<Progress>,
}

/// How far an audit is; shared counters, so the collector never waits on whoever shows them.
#[derive(Debug, Default)]
pub struct Progress {
    /// Accounts finished.
    pub accounts_done: AtomicUsize,
    /// Regions finished (over every account).
    pub regions_done: AtomicUsize,
    /// Repositories listed so far.
    pub repositories_found: AtomicUsize,
    /// Repositories whose details are read.
    pub repositories_done: AtomicUsize,
}

/// A call that failed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AuditError {
    /// The resource (ARN) or scope (`registry` / `account`) the call was about.
    pub resource: String,
    /// The region.
    pub region: String,
    /// The API call (`ecr:GetRepositoryPolicy`).
    pub call: &'static str,
    /// Classified kind.
    pub kind: ErrorKind,
    /// AWS error code.
    pub code: Option<String>,
    /// Message.
    pub message: String,
}

impl AuditError {
    /// The failed call as an input problem: placed at the resource's ARN when it is one (a
    /// scope such as `registry` is named in the message), with the call, the region, AWS's
    /// message, and the kind and code the retry and permission advice go by.
    #[must_use]
    pub fn problem(&self) -> ecrguard_model::InputProblem {
        use ecrguard_model::{InputProblem, Place};
        let detail = format!(
            "{} [{}{}]",
            self.message,
            self.kind.as_str(),
            self.code
                .as_ref()
                .map_or(String::new(), |c| format!(", {c}"))
        );
        if self.resource.starts_with("arn:") {
            InputProblem::error(
                Place::Arn(self.resource.clone()),
                format!("{} ({}): {detail}", self.call, self.region),
            )
        } else {
            InputProblem::at(
                None,
                format!(
                    "{} {} ({}): {detail}",
                    self.call, self.resource, self.region
                ),
            )
        }
    }
}

/// The account as read.
#[derive(Debug, Default, Clone)]
pub struct Audit {
    /// The model.
    pub state: EcrState,
    /// Failed calls.
    pub errors: Vec<AuditError>,
    /// The account read (`sts:GetCallerIdentity`).
    pub account: Option<String>,
    /// API calls made.
    pub calls: usize,
    /// EKS managed node groups found (their roles are node roles).
    pub node_groups: Vec<NodeGroup>,
    /// What was not evaluated and why (not an error: a fallback covered it).
    pub notes: Vec<String>,
    /// Per repository ARN, what the API said as it said it: what acting on a finding needs
    /// (the exact policy text to back up and edit, the creation time).
    pub raw: std::collections::BTreeMap<String, RawRepository>,
}

/// A repository as the API described it, text unparsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRepository {
    /// `DescribeRepositories`.
    pub info: RepositoryInfo,
    /// The region.
    pub region: String,
    /// `GetRepositoryPolicy`'s text; `None` when absent or unread.
    pub policy_text: Option<String>,
}

fn origin(arn: &str, region: &str, call: &'static str) -> Origin {
    Origin::Aws {
        arn: arn.to_string(),
        region: region.to_string(),
        call,
    }
}

struct RepoDetails {
    info: RepositoryInfo,
    policy: Result<Option<String>, ApiError>,
    lifecycle: Result<Option<String>, ApiError>,
    tags: Result<Vec<(String, String)>, ApiError>,
}

fn policy_state(
    text: &str,
    kind: PolicyKind,
    origin: Origin,
    declared_by: &ResourceId,
) -> PolicyState {
    PolicyState::read_text(text, kind, origin, declared_by)
}

impl Audit {
    /// Adds what another reader found (IAM beside ECR, another account).
    pub fn extend(&mut self, other: Audit) {
        self.state.extend(other.state);
        self.errors.extend(other.errors);
        self.errors.sort();
        self.calls += other.calls;
        self.node_groups.extend(other.node_groups);
        self.raw.extend(other.raw);
        self.notes.extend(other.notes);
        if self.account.is_none() {
            self.account = other.account;
        }
    }

    fn error(&mut self, resource: &str, region: &str, call: &'static str, e: &ApiError) {
        self.errors.push(AuditError {
            resource: resource.to_string(),
            region: region.to_string(),
            call,
            kind: e.kind,
            code: e.code.clone(),
            message: e.message.clone(),
        });
    }

    fn add_repository(&mut self, region: &str, d: RepoDetails) {
        let arn = d.info.arn.clone();
        self.raw.insert(
            arn.clone(),
            RawRepository {
                info: d.info.clone(),
                region: region.to_string(),
                policy_text: d.policy.as_ref().ok().cloned().flatten(),
            },
        );
        let id = ResourceId::Arn(arn.clone());
        let described = origin(&arn, region, "ecr:DescribeRepositories");
        let policy = match d.policy {
            Ok(Some(text)) => policy_state(
                &text,
                PolicyKind::Repository,
                origin(&arn, region, "ecr:GetRepositoryPolicy"),
                &id,
            ),
            Ok(None) => PolicyState::Absent(origin(&arn, region, "ecr:GetRepositoryPolicy")),
            Err(e) => {
                self.error(&arn, region, "ecr:GetRepositoryPolicy", &e);
                PolicyState::Unknown(
                    format!("ecr:GetRepositoryPolicy failed: {e}"),
                    origin(&arn, region, "ecr:GetRepositoryPolicy"),
                )
            }
        };
        let lifecycle_policy = match d.lifecycle {
            Ok(found) => Value::Set(
                found.is_some(),
                origin(&arn, region, "ecr:GetLifecyclePolicy"),
            ),
            Err(e) => {
                self.error(&arn, region, "ecr:GetLifecyclePolicy", &e);
                Value::Unknown(
                    format!("ecr:GetLifecyclePolicy failed: {e}"),
                    origin(&arn, region, "ecr:GetLifecyclePolicy"),
                )
            }
        };
        let tags = match d.tags {
            Ok(t) => Value::Set(t, origin(&arn, region, "ecr:ListTagsForResource")),
            Err(e) => {
                self.error(&arn, region, "ecr:ListTagsForResource", &e);
                Value::Unknown(
                    format!("ecr:ListTagsForResource failed: {e}"),
                    origin(&arn, region, "ecr:ListTagsForResource"),
                )
            }
        };
        let tag_mutability = match d.info.tag_mutability.as_deref().map(TagMutability::parse) {
            Some(Some(m)) => Value::Set(m, described.clone()),
            Some(None) => Value::Unknown(
                format!(
                    "unrecognised tag mutability `{}`",
                    d.info.tag_mutability.clone().unwrap_or_default()
                ),
                described.clone(),
            ),
            None => Value::Unknown(
                "not in the DescribeRepositories answer".into(),
                described.clone(),
            ),
        };
        let scan_on_push = d.info.scan_on_push.map_or_else(
            || {
                Value::Unknown(
                    "not in the DescribeRepositories answer".into(),
                    described.clone(),
                )
            },
            |b| Value::Set(b, described.clone()),
        );
        let encryption = match d.info.encryption_type.as_deref().map(EncryptionKind::parse) {
            Some(Some(kind)) => Value::Set(
                Encryption {
                    kind,
                    kms_key: d
                        .info
                        .kms_key
                        .clone()
                        .map(|k| Value::Set(k, described.clone())),
                },
                described.clone(),
            ),
            // ECR reports AES256 when nothing was chosen; an absent block is the default.
            None => Value::Default(
                Encryption {
                    kind: EncryptionKind::Aes256,
                    kms_key: None,
                },
                described.clone(),
            ),
            Some(None) => Value::Unknown("unrecognised encryption type".into(), described.clone()),
        };
        self.state.repositories.push(Repository {
            id,
            name: Value::Set(d.info.name.clone(), described.clone()),
            account: Some(d.info.registry_id.clone()),
            region: Some(region.to_string()),
            origin: described,
            policy,
            tag_mutability,
            scan_on_push,
            encryption,
            lifecycle_policy,
            tags,
            policy_only: false,
        });
    }
}

/// `sts:GetCallerIdentity`: an audit holding the account (or the error), and the account id
/// for ARNs (`unknown` when the call failed).
async fn whoami<A: EcrApi>(api: &A) -> (Audit, String) {
    let mut audit = Audit::default();
    audit.calls += 1;
    match api.account_id().await {
        Ok(a) => audit.account = Some(a),
        Err(e) => audit.error("account", "global", "sts:GetCallerIdentity", &e),
    }
    let account = audit.account.clone().unwrap_or_else(|| "unknown".into());
    (audit, account)
}

/// Reads the account through `api`.
pub async fn collect<A: EcrApi>(api: &A, opts: &AuditOptions) -> Audit {
    let (mut audit, account) = whoami(api).await;
    // Regions are read at once; the call budget is shared between them.
    let concurrency = (opts.concurrency / opts.regions.len().max(1)).max(3);
    let regions = futures::future::join_all(opts.regions.iter().map(|region| {
        let (account, known) = (&account, audit.account.clone());
        async move {
            let mut audit = Audit {
                account: known,
                ..Audit::default()
            };
            read_region(
                api,
                region,
                account,
                concurrency,
                &opts.progress,
                &mut audit,
            )
            .await;
            opts.progress.regions_done.fetch_add(1, Ordering::Relaxed);
            audit
        }
    }))
    .await;
    for r in regions {
        audit.extend(r);
    }
    audit.errors.sort();
    audit
}

/// A region's registry: its policy, scanning configuration and creation templates.
async fn read_registry<A: EcrApi>(api: &A, region: &str, account: &str, audit: &mut Audit) {
    let registry = format!("arn:aws:ecr:{region}:{account}:registry");
    audit.calls += 5;
    let (registry_policy, scanning, templates, replication, pull_through) = futures::join!(
        api.get_registry_policy(region),
        api.registry_scan_filters(region),
        api.creation_templates(region),
        api.replication_rules(region),
        api.pull_through_cache_rules(region)
    );
    match pull_through {
        Ok(rules) => {
            for r in rules {
                let at = origin(&registry, region, "ecr:DescribePullThroughCacheRules");
                audit
                    .state
                    .pull_through_cache_rules
                    .push(PullThroughCacheRule {
                        id: ResourceId::Arn(format!(
                            "{registry}/pull-through-cache-rule/{}",
                            r.prefix
                        )),
                        account: audit.account.clone(),
                        region: Some(region.to_string()),
                        prefix: Value::Set(r.prefix, at.clone()),
                        upstream_url: Value::Set(r.upstream_url, at.clone()),
                        credential_arn: Value::Set(r.credential_arn, at.clone()),
                        origin: at,
                    });
            }
        }
        // Unknown rules are not "no rules": the error is kept and nothing is judged.
        Err(e) => audit.error(&registry, region, "ecr:DescribePullThroughCacheRules", &e),
    }
    let at = origin(&registry, region, "ecr:DescribeRegistry");
    let rules = match replication {
        Ok(rules) => Value::Set(
            rules
                .into_iter()
                .map(|r| ReplicationRule {
                    origin: at.clone(),
                    destinations: r
                        .destinations
                        .into_iter()
                        .map(|(dest_region, registry_id)| ReplicationDestination {
                            origin: at.clone(),
                            region: Value::Set(dest_region, at.clone()),
                            registry_id: Value::Set(registry_id, at.clone()),
                        })
                        .collect(),
                    filters: r.filters,
                })
                .collect(),
            at.clone(),
        ),
        // Unknown rules are not "no replication": the error is kept and nothing is judged.
        Err(e) => {
            audit.error(&registry, region, "ecr:DescribeRegistry", &e);
            Value::Unknown(format!("ecr:DescribeRegistry failed: {e}"), at.clone())
        }
    };
    audit.state.replications.push(Replication {
        id: ResourceId::Arn(format!("{registry}/replication")),
        account: audit.account.clone(),
        region: Some(region.to_string()),
        origin: at,
        rules,
    });
    match templates {
        Ok(templates) => {
            for t in templates {
                let at = origin(&registry, region, "ecr:DescribeRepositoryCreationTemplates");
                let id = ResourceId::Arn(format!("{registry}/creation-template/{}", t.prefix));
                let policy = match t.policy {
                    Some(text) => policy_state(&text, PolicyKind::Repository, at.clone(), &id),
                    None => PolicyState::Absent(at.clone()),
                };
                audit.state.creation_templates.push(CreationTemplate {
                    id,
                    prefix: Value::Set(t.prefix, at.clone()),
                    applied_for: Value::Set(t.applied_for, at.clone()),
                    origin: at,
                    policy,
                });
            }
        }
        // Unknown templates are not "no templates": the error is kept and nothing is judged.
        Err(e) => audit.error(
            &registry,
            region,
            "ecr:DescribeRepositoryCreationTemplates",
            &e,
        ),
    }
    let registry_id = ResourceId::Arn(registry.clone());
    let policy = match registry_policy {
        Ok(Some(text)) => policy_state(
            &text,
            PolicyKind::Registry,
            origin(&registry, region, "ecr:GetRegistryPolicy"),
            &registry_id,
        ),
        Ok(None) => PolicyState::Absent(origin(&registry, region, "ecr:GetRegistryPolicy")),
        Err(e) => {
            audit.error(&registry, region, "ecr:GetRegistryPolicy", &e);
            PolicyState::Unknown(
                format!("ecr:GetRegistryPolicy failed: {e}"),
                origin(&registry, region, "ecr:GetRegistryPolicy"),
            )
        }
    };
    audit.state.registry_policies.push(RegistryPolicy {
        id: registry_id.clone(),
        account: audit.account.clone(),
        region: Some(region.to_string()),
        policy,
    });
    let filters = match scanning {
        Ok(f) => Value::Set(
            f,
            origin(&registry, region, "ecr:GetRegistryScanningConfiguration"),
        ),
        Err(e) => {
            audit.error(
                &registry,
                region,
                "ecr:GetRegistryScanningConfiguration",
                &e,
            );
            Value::Unknown(
                format!("ecr:GetRegistryScanningConfiguration failed: {e}"),
                origin(&registry, region, "ecr:GetRegistryScanningConfiguration"),
            )
        }
    };
    audit.state.registry_scanning.push(RegistryScanning {
        id: registry_id,
        account: audit.account.clone(),
        region: Some(region.to_string()),
        scan_on_push_filters: filters,
    });
}

/// What one event touched, read alone: the account id and one region's registry (registry
/// policy, scanning, creation templates).
pub async fn collect_registry<A: EcrApi>(api: &A, region: &str) -> Audit {
    let (mut audit, account) = whoami(api).await;
    read_registry(api, region, &account, &mut audit).await;
    audit
}

/// One repository, read alone (what an event touched): `None` in `state` when it no longer
/// exists. The registry's scanning configuration is read too, since it decides ECR011.
pub async fn collect_repository<A: EcrWriteApi>(api: &A, region: &str, name: &str) -> Audit {
    let registry = collect_registry(api, region).await;
    add_repository(api, region, name, registry).await
}

/// One repository read into `registry`, an audit of its registry already made
/// ([`collect_registry`]): how a handler reads several repositories of one registry without
/// reading the registry again for each.
pub async fn add_repository<A: EcrWriteApi>(
    api: &A,
    region: &str,
    name: &str,
    registry: Audit,
) -> Audit {
    let mut audit = registry;
    audit.calls += 1;
    let info = match api.describe_repository(region, name).await {
        Ok(Some(info)) => info,
        Ok(None) => return audit,
        Err(e) => {
            let account = audit.account.clone().unwrap_or_else(|| "unknown".into());
            audit.error(
                &format!("arn:aws:ecr:{region}:{account}:repository/{name}"),
                region,
                "ecr:DescribeRepositories",
                &e,
            );
            return audit;
        }
    };
    audit.calls += 3;
    let (policy, lifecycle, tags) = futures::join!(
        api.get_repository_policy(region, &info.name),
        api.get_lifecycle_policy(region, &info.name),
        api.list_tags(region, &info.arn)
    );
    audit.add_repository(
        region,
        RepoDetails {
            info,
            policy,
            lifecycle,
            tags,
        },
    );
    audit
}

/// One region: registry policy and scanning, then every repository's details.
async fn read_region<A: EcrApi>(
    api: &A,
    region: &str,
    account: &str,
    concurrency: usize,
    progress: &Progress,
    audit: &mut Audit,
) {
    audit.calls += 1;
    let (repos, ()) = futures::join!(
        api.describe_repositories(region),
        read_registry(api, region, account, audit)
    );
    let registry = format!("arn:aws:ecr:{region}:{account}:registry");
    let repos = match repos {
        Ok(r) => r,
        Err(e) => {
            audit.error(&registry, region, "ecr:DescribeRepositories", &e);
            return;
        }
    };
    audit.calls += repos.len() * 3;
    progress
        .repositories_found
        .fetch_add(repos.len(), Ordering::Relaxed);
    let mut details: Vec<RepoDetails> = stream::iter(repos)
        .map(|info| async move {
            let (policy, lifecycle, tags) = futures::join!(
                api.get_repository_policy(region, &info.name),
                api.get_lifecycle_policy(region, &info.name),
                api.list_tags(region, &info.arn)
            );
            progress.repositories_done.fetch_add(1, Ordering::Relaxed);
            RepoDetails {
                info,
                policy,
                lifecycle,
                tags,
            }
        })
        // Each repository makes three calls at once.
        .buffer_unordered(concurrency.max(3) / 3)
        .collect()
        .await;
    details.sort_by(|a, b| a.info.arn.cmp(&b.info.arn));
    for d in details {
        audit.add_repository(region, d);
    }
}

const IAM_CALL: &str = "iam:GetAccountAuthorizationDetails";

/// The role EKS managed node groups run as carries this AWS managed policy (AWS's own
/// definition of "node IAM role"); found without calling EKS.
const EKS_NODE_POLICY: &str = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy";

/// Reads the account's IAM users, roles, groups and customer managed policies into the
/// model (IAM is global: one call chain per account). A failure leaves no identity behind
/// and is an error: "no identity can write" is never concluded from a denied call.
pub async fn collect_iam<I: IamApi>(api: &I) -> Audit {
    let mut audit = Audit::default();
    match api.authorization_details().await {
        Ok(details) => {
            audit.calls += details.pages;
            add_iam(&mut audit.state, &details);
        }
        Err(e) => {
            audit.calls += 1;
            audit.error("account", "global", IAM_CALL, &e);
        }
    }
    audit
}

fn add_iam(state: &mut EcrState, details: &AuthorizationDetails) {
    // AWS managed policies are analysed where attached, never reported on their own (the
    // filter asks for customer policies only; this keeps that true whatever answers).
    for m in details
        .managed
        .iter()
        .filter(|m| !m.arn.contains(":iam::aws:policy/"))
    {
        let id = ResourceId::Arn(m.arn.clone());
        let at = origin(&m.arn, "global", IAM_CALL);
        let document = match &m.document {
            Some(text) => policy_state(text, PolicyKind::Identity, at, &id),
            None => PolicyState::Unknown("default version not returned".into(), at),
        };
        state.managed_policies.push(ManagedPolicy {
            id,
            name: Value::Set(m.name.clone(), origin(&m.arn, "global", IAM_CALL)),
            document,
        });
    }
    for e in &details.entities {
        let id = ResourceId::Arn(e.arn.clone());
        let at = origin(&e.arn, "global", IAM_CALL);
        let mut policies: Vec<IdentityPolicy> = e
            .inline
            .iter()
            .map(|(name, text)| IdentityPolicy {
                name: name.clone(),
                document: policy_state(text, PolicyKind::Identity, at.clone(), &id),
            })
            .collect();
        for arn in &e.attached {
            let name = arn.rsplit('/').next().unwrap_or(arn).to_string();
            let document = if let Some(m) = state
                .managed_policies
                .iter()
                .find(|m| m.id == ResourceId::Arn(arn.clone()))
            {
                m.document.clone()
            } else if let Some(text) = ecrguard_iam::managed::document(arn) {
                policy_state(
                    &text,
                    PolicyKind::Identity,
                    origin(arn, "global", IAM_CALL),
                    &id,
                )
            } else {
                PolicyState::Unknown(
                    format!("AWS managed policy `{name}` is not in ecrguard's catalogue"),
                    origin(arn, "global", IAM_CALL),
                )
            };
            policies.push(IdentityPolicy { name, document });
        }
        state.identities.push(Identity {
            id,
            kind: e.kind,
            name: Value::Set(e.name.clone(), at.clone()),
            origin: at,
            policies,
            eks_node_role: e.kind == IdentityKind::Role
                && e.attached.iter().any(|a| a == EKS_NODE_POLICY),
            groups: e.groups.clone(),
        });
    }
}

/// The calls [`EksApi::node_groups`] makes, named in the note when they fail.
const EKS_CALLS: &str = "\"eks:ListClusters\", \"eks:ListNodegroups\", \"eks:DescribeNodegroup\"";

/// The EKS managed node groups of every region. EKS is optional: a denied or failed call is
/// a note, not an error, because node roles are still recognised by the AWS managed policy
/// EKS requires on them ([`EKS_NODE_POLICY`]).
pub async fn collect_node_groups<E: EksApi>(api: &E, regions: &[String]) -> Audit {
    let mut audit = Audit::default();
    let found = futures::future::join_all(regions.iter().map(|r| api.node_groups(r))).await;
    for (region, result) in regions.iter().zip(found) {
        match result {
            Ok((groups, calls)) => {
                audit.calls += calls;
                audit.node_groups.extend(groups);
            }
            Err(e) => {
                audit.calls += 1;
                audit.notes.push(format!(
                    "EKS node groups in {region} not read ({e}; needs {EKS_CALLS}); node roles are recognised by `AmazonEKSWorkerNodePolicy` only"
                ));
            }
        }
    }
    audit
}

/// The region ECR Public's API lives in.
const PUBLIC_REGION: &str = "us-east-1";

fn public_registry(account: Option<&str>) -> String {
    format!(
        "arn:aws:ecr-public::{}:registry",
        account.unwrap_or("unknown")
    )
}

/// The account's ECR Public repositories and their policies (ECR014). A failed listing is an
/// error: "no public repository" is never concluded from it.
pub async fn collect_public<P: EcrPublicApi>(api: &P, account: Option<&str>) -> Audit {
    let mut audit = Audit::default();
    let registry = public_registry(account);
    match api.public_repositories().await {
        Ok((repos, calls)) => {
            audit.calls += calls;
            for r in repos {
                let id = ResourceId::Arn(r.arn.clone());
                let call = "ecr-public:GetRepositoryPolicy";
                let at = origin(&r.arn, PUBLIC_REGION, call);
                let policy = match r.policy {
                    Ok(Some(text)) => {
                        policy_state(&text, PolicyKind::PublicRepository, at.clone(), &id)
                    }
                    Ok(None) => PolicyState::Absent(at.clone()),
                    Err(e) => {
                        audit.error(&r.arn, PUBLIC_REGION, call, &e);
                        PolicyState::Unknown(format!("{call} failed: {e}"), at.clone())
                    }
                };
                audit.state.public_repositories.push(PublicRepository {
                    id,
                    name: Value::Set(
                        r.name,
                        origin(&r.arn, PUBLIC_REGION, "ecr-public:DescribeRepositories"),
                    ),
                    account: Some(r.registry_id),
                    origin: at,
                    policy,
                });
            }
        }
        Err(e) => {
            audit.calls += 1;
            audit.error(
                &registry,
                PUBLIC_REGION,
                "ecr-public:DescribeRepositories",
                &e,
            );
        }
    }
    audit
}

/// One ECR Public repository, read alone (what an event touched): the account, and the
/// repository with its policy when it exists. ECR Public lists repositories with their
/// policies; the others are left out.
pub async fn collect_public_repository<A: EcrApi + EcrPublicApi>(api: &A, name: &str) -> Audit {
    let (mut audit, account) = whoami(api).await;
    let mut public = collect_public(api, Some(&account)).await;
    public
        .state
        .public_repositories
        .retain(|r| matches!(&r.name, Value::Set(n, _) if n == name));
    audit.extend(public);
    audit
}

/// One account, whole: ECR in every region, IAM and EKS node groups, read at once. IAM
/// errors name the account's root ARN once it is known; node group roles mark identities.
pub async fn audit_account<A: EcrApi + IamApi + EksApi + EcrPublicApi>(
    api: &A,
    opts: &AuditOptions,
) -> Audit {
    let (mut audit, mut iam, eks, mut public) = futures::join!(
        collect(api, opts),
        collect_iam(api),
        collect_node_groups(api, &opts.regions),
        collect_public(api, None)
    );
    if let Some(account) = &audit.account {
        for e in iam.errors.iter_mut().filter(|e| e.resource == "account") {
            e.resource = format!("arn:aws:iam::{account}:root");
        }
        let unnamed = public_registry(None);
        for e in public.errors.iter_mut().filter(|e| e.resource == unnamed) {
            e.resource = public_registry(Some(account));
        }
    }
    audit.extend(iam);
    audit.extend(eks);
    audit.extend(public);
    mark_node_roles(&mut audit);
    opts.progress.accounts_done.fetch_add(1, Ordering::Relaxed);
    audit
}

/// Marks the roles EKS node groups run as (`nodeRole` is the role's full ARN, path included).
fn mark_node_roles(audit: &mut Audit) {
    let refs: Vec<IdentityRef> = audit
        .node_groups
        .iter()
        .map(|g| IdentityRef::Arn(g.role_arn.clone()))
        .collect();
    ecrguard_model::link::mark_node_roles(
        audit.state.identities.iter_mut().map(|i| (i, "")),
        &refs,
    );
}

/// One line per account and missing permission: `(account, IAM action, how many calls it
/// failed)`. The account is read from the resource's ARN.
#[must_use]
pub fn missing_permissions(errors: &[AuditError]) -> Vec<(String, &'static str, usize)> {
    let mut out: Vec<(String, &'static str, usize)> = Vec::new();
    for e in errors.iter().filter(|e| e.kind == ErrorKind::AccessDenied) {
        let account = e
            .resource
            .split(':')
            .nth(4)
            .unwrap_or("unknown")
            .to_string();
        match out
            .iter_mut()
            .find(|(a, c, _)| *a == account && *c == e.call)
        {
            Some((_, _, n)) => *n += 1,
            None => out.push((account, e.call, 1)),
        }
    }
    out
}
