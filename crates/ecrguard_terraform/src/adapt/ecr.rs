//! ECR resources: repositories and their policies and lifecycle policies, the registry's
//! policy and scanning configuration, creation templates, replication and pull-through cache
//! rules, and ECR Public repositories; and
//! the link step that gives each repository its policy.

use super::link::{InstanceKey, Link, LinkIndex, Target};
use super::{
    Collector, Item, first_block, list_of, policy_state, unknown_why, value_string, value_strings,
};
use crate::value::{V, Val};
use ecrguard_iam::PolicyKind;
use ecrguard_model::{
    CreationTemplate, Encryption, EncryptionKind, PolicyState, PublicRepository,
    PullThroughCacheRule, RegistryPolicy, RegistryScanning, Replication, ReplicationDestination,
    ReplicationRule, Repository, ResourceId, TagMutability, TerraformAddress, Value,
};

impl Collector {
    /// Adds an ECR resource; `false` when `ty` is not one.
    #[allow(clippy::too_many_lines)]
    pub(super) fn add_ecr(&mut self, ty: &str, it: &Item<'_>) -> bool {
        match ty {
            "aws_ecr_repository" => {
                let name = value_string(it.obj, "name", it.site);
                let tag_mutability = match it.obj.get("image_tag_mutability") {
                    None | Some(V { val: Val::Null, .. }) => {
                        Value::Default(TagMutability::Mutable, it.block_origin.clone().clone())
                    }
                    Some(v) => match v.as_string().as_deref().map(TagMutability::parse) {
                        Some(Some(m)) => Value::Set(m, it.site.attr_origin("image_tag_mutability")),
                        Some(None) => Value::Unknown(
                            format!("unrecognised value `{}`", v.as_string().unwrap_or_default()),
                            it.site.attr_origin("image_tag_mutability"),
                        ),
                        None => Value::Unknown(
                            unknown_why(v),
                            it.site.attr_origin("image_tag_mutability"),
                        ),
                    },
                };
                let scan_on_push = match first_block(it.obj, "image_scanning_configuration")
                    .and_then(|b| b.get("scan_on_push").cloned())
                {
                    None => Value::Default(
                        false,
                        it.site
                            .nested_attr_origin("image_scanning_configuration", "scan_on_push")
                            .unwrap_or_else(|| it.block_origin.clone().clone()),
                    ),
                    Some(v) => match v.as_bool() {
                        Some(b) => Value::Set(
                            b,
                            it.site
                                .nested_attr_origin("image_scanning_configuration", "scan_on_push")
                                .unwrap_or_else(|| it.block_origin.clone().clone()),
                        ),
                        None => Value::Unknown(unknown_why(&v), it.block_origin.clone().clone()),
                    },
                };
                let encryption = match first_block(it.obj, "encryption_configuration") {
                    None => Value::Default(
                        Encryption {
                            kind: EncryptionKind::Aes256,
                            kms_key: None,
                        },
                        it.block_origin.clone().clone(),
                    ),
                    Some(enc) => {
                        let origin = it
                            .site
                            .nested_attr_origin("encryption_configuration", "encryption_type")
                            .unwrap_or_else(|| it.block_origin.clone().clone());
                        match enc.get("encryption_type").map(|t| (t, t.as_string())) {
                            None => Value::Default(
                                Encryption {
                                    kind: EncryptionKind::Aes256,
                                    kms_key: None,
                                },
                                origin,
                            ),
                            Some((_, Some(t))) => match EncryptionKind::parse(&t) {
                                Some(kind) => {
                                    let kms_key = enc
                                        .get("kms_key")
                                        .filter(|k| !matches!(k.val, Val::Null))
                                        .map(|k| match k.as_string() {
                                            Some(s) => Value::Set(s, origin.clone()),
                                            None => Value::Unknown(unknown_why(k), origin.clone()),
                                        });
                                    Value::Set(Encryption { kind, kms_key }, origin)
                                }
                                None => Value::Unknown(
                                    format!("unrecognised encryption type `{t}`"),
                                    origin,
                                ),
                            },
                            Some((v, None)) => Value::Unknown(unknown_why(v), origin),
                        }
                    }
                };
                let tags = match it.obj.get("tags") {
                    None => Value::Default(Vec::new(), it.block_origin.clone().clone()),
                    Some(v) => match v.as_object() {
                        Some(o) => Value::Set(
                            o.iter()
                                .filter_map(|(k, v)| Some((k.clone(), v.as_string()?)))
                                .collect(),
                            it.site.attr_origin("tags"),
                        ),
                        None => Value::Unknown(unknown_why(v), it.site.attr_origin("tags")),
                    },
                };
                let repo = Repository {
                    id: it.id.clone(),
                    name,
                    account: None,
                    region: None,
                    origin: it.block_origin.clone().clone(),
                    policy: PolicyState::Absent(it.block_origin.clone().clone()),
                    tag_mutability,
                    scan_on_push,
                    encryption,
                    lifecycle_policy: Value::Default(false, it.block_origin.clone()),
                    tags,
                    policy_only: false,
                };
                self.repos.push((
                    repo,
                    it.site.module_address().to_string(),
                    it.site.local_name().to_string(),
                    it.key.clone(),
                ));
            }
            "aws_ecr_repository_policy" => {
                let target = it.site.target("repository", "aws_ecr_repository");
                let state = it.policy_arg("policy", PolicyKind::Repository);
                self.policy_links.push(Link { target, state });
            }
            "aws_ecr_lifecycle_policy" => {
                let target = it.site.target("repository", "aws_ecr_repository");
                self.lifecycle_links.push((target, it.block_origin.clone()));
            }
            "aws_ecr_registry_policy" => {
                let policy = it.policy_arg("policy", PolicyKind::Registry);
                self.state.registry_policies.push(RegistryPolicy {
                    id: it.id.clone(),
                    account: None,
                    region: None,
                    policy,
                });
            }
            "aws_ecr_repository_creation_template" => {
                let policy = match it.obj.get("repository_policy") {
                    None | Some(V { val: Val::Null, .. }) => {
                        PolicyState::Absent(it.block_origin.clone().clone())
                    }
                    Some(v) => policy_state(
                        v,
                        PolicyKind::Repository,
                        it.site.file(),
                        it.site.attr_origin("repository_policy"),
                        &it.id,
                    ),
                };
                let prefix = value_string(it.obj, "prefix", it.site);
                self.state.creation_templates.push(CreationTemplate {
                    id: it.id.clone(),
                    prefix,
                    applied_for: value_strings(it.obj, "applied_for", it.site),
                    origin: it.block_origin.clone(),
                    policy,
                });
            }
            "aws_ecr_pull_through_cache_rule" => {
                let credential_arn = match it.obj.get("credential_arn") {
                    None | Some(V { val: Val::Null, .. }) => {
                        Value::Set(None, it.block_origin.clone())
                    }
                    Some(v) => match v.as_string() {
                        Some(s) => Value::Set(Some(s), it.site.attr_origin("credential_arn")),
                        None => {
                            Value::Unknown(unknown_why(v), it.site.attr_origin("credential_arn"))
                        }
                    },
                };
                self.state
                    .pull_through_cache_rules
                    .push(PullThroughCacheRule {
                        id: it.id.clone(),
                        account: None,
                        region: None,
                        origin: it.block_origin.clone(),
                        prefix: value_string(it.obj, "ecr_repository_prefix", it.site),
                        upstream_url: value_string(it.obj, "upstream_registry_url", it.site),
                        credential_arn,
                    });
            }
            "aws_ecr_registry_scanning_configuration" => {
                let filters = scanning_filters(it.obj);
                self.state.registry_scanning.push(RegistryScanning {
                    id: it.id.clone(),
                    account: None,
                    region: None,
                    scan_on_push_filters: match filters {
                        Ok(f) => Value::Set(f, it.block_origin.clone()),
                        Err(why) => Value::Unknown(why, it.block_origin.clone()),
                    },
                });
            }
            "aws_ecr_replication_configuration" => {
                let rules = match first_block(it.obj, "replication_configuration") {
                    None => Vec::new(),
                    Some(rc) => list_of(rc.get("rule"))
                        .iter()
                        .map(|rule| ReplicationRule {
                            origin: it.site.element_origin(rule),
                            destinations: list_of(rule.get("destination"))
                                .iter()
                                .map(|d| {
                                    let at = it.site.element_origin(d);
                                    let text = |k: &str| match d.get(k) {
                                        Some(v) => match v.as_string() {
                                            Some(s) => Value::Set(s, at.clone()),
                                            None => Value::Unknown(unknown_why(v), at.clone()),
                                        },
                                        None => {
                                            Value::Unknown(format!("`{k}` is not set"), at.clone())
                                        }
                                    };
                                    ReplicationDestination {
                                        region: text("region"),
                                        registry_id: text("registry_id"),
                                        origin: at.clone(),
                                    }
                                })
                                .collect(),
                            filters: list_of(rule.get("repository_filter"))
                                .iter()
                                .filter_map(|f| f.get("filter").and_then(V::as_string))
                                .collect(),
                        })
                        .collect(),
                };
                self.state.replications.push(Replication {
                    id: it.id.clone(),
                    account: None,
                    region: None,
                    origin: it.block_origin.clone(),
                    rules: Value::Set(rules, it.block_origin.clone()),
                });
            }
            "aws_ecrpublic_repository" => {
                let name = value_string(it.obj, "repository_name", it.site);
                self.public_repos.push(PublicRepository {
                    id: it.id.clone(),
                    name,
                    account: None,
                    origin: it.block_origin.clone().clone(),
                    policy: PolicyState::Absent(it.block_origin.clone()),
                });
            }
            "aws_ecrpublic_repository_policy" => {
                let target = it
                    .site
                    .target("repository_name", "aws_ecrpublic_repository");
                let state = it.policy_arg("policy", PolicyKind::PublicRepository);
                self.public_policy_links.push(Link { target, state });
            }
            _ => return false,
        }
        true
    }

    /// Gives each repository its policy and lifecycle policy, and each public repository its
    /// policy; a policy whose repository is not in the code is analysed on its own.
    pub(super) fn link_repositories(&mut self) {
        // Repository policies.
        // Which link each repository takes, and how many repositories take each link: the
        // last taker gets the parsed policy moved, not copied.
        let mut chosen: Vec<Option<usize>> = Vec::with_capacity(self.repos.len());
        let mut takers = vec![0usize; self.policy_links.len()];
        // Indexed once: with a link per repository (20,000 `count` instances of each), a
        // scan of every link per repository was quadratic.
        let policy_index = LinkIndex::new(self.policy_links.iter().map(|l| &l.target));
        let lifecycle_index = LinkIndex::new(self.lifecycle_links.iter().map(|(t, _)| t));
        for (repo, module, name, key) in &mut self.repos {
            let repo_name = repo.name.known().map(String::as_str);
            let link = policy_index.last_match(repo_name, module, name, key.as_deref());
            chosen.push(link);
            if let Some(i) = link {
                takers[i] += 1;
            } else if let Some(i) = policy_index.first_maybe(repo_name, module, name) {
                let why = match &self.policy_links[i].target {
                    Target::Unknown(w) => {
                        format!("a repository policy whose target is unknown may apply ({w})")
                    }
                    _ => "a repository policy whose target is unknown may apply".to_string(),
                };
                repo.policy = PolicyState::Unknown(why, repo.origin.clone());
            }
            if let Some(i) = lifecycle_index.last_match(repo_name, module, name, key.as_deref()) {
                repo.lifecycle_policy = Value::Set(true, self.lifecycle_links[i].1.clone());
            } else if lifecycle_index
                .first_maybe(repo_name, module, name)
                .is_some()
            {
                repo.lifecycle_policy = Value::Unknown(
                    "a lifecycle policy whose target is unknown may apply".into(),
                    repo.origin.clone(),
                );
            }
        }
        let matched: Vec<bool> = takers.iter().map(|&n| n > 0).collect();
        for ((repo, ..), link) in self.repos.iter_mut().zip(chosen) {
            let Some(i) = link else { continue };
            takers[i] -= 1;
            repo.policy = if takers[i] == 0 {
                // A matched link is not read again (only unmatched ones are, below).
                std::mem::replace(
                    &mut self.policy_links[i].state,
                    PolicyState::Unknown(String::new(), repo.origin.clone()),
                )
            } else {
                self.policy_links[i].state.clone()
            };
        }
        self.state.repositories = std::mem::take(&mut self.repos)
            .into_iter()
            .map(|(r, ..)| r)
            .collect();
        // A policy whose repository is not declared in the scanned code (a literal name, a
        // repository managed elsewhere, an unknown target) still applies to some repository:
        // analyse it on its own, with the repository's settings unknown.
        for (link, _) in self.policy_links.iter().zip(&matched).filter(|(_, m)| !**m) {
            let declared_by = match &link.state {
                PolicyState::Present(d) => d.declared_by.clone(),
                PolicyState::Unparseable { declared_by, .. } => declared_by.clone(),
                PolicyState::Absent(_) | PolicyState::Unknown(..) => continue,
            };
            let origin = match &link.state {
                PolicyState::Present(d) => d.origin.clone(),
                PolicyState::Unparseable { origin, .. } => origin.clone(),
                _ => continue,
            };
            let label = match &link.target {
                Target::Name(n) => format!("{n} (repository not in the scanned code)"),
                Target::Resource { module, name, .. } => {
                    format!(
                        "{module}{}aws_ecr_repository.{name} (not declared)",
                        if module.is_empty() { "" } else { "." }
                    )
                }
                Target::Unknown(_) => format!("repository of {declared_by} (unknown)"),
            };
            let mut repo = Repository::policy_only(
                ResourceId::Terraform(TerraformAddress::in_root(&self.root, &label)),
                origin,
                "the repository is not in the scanned code",
            );
            if let Target::Name(n) = &link.target {
                repo.name = Value::Set(n.clone(), repo.origin.clone());
            }
            repo.policy = link.state.clone();
            self.state.repositories.push(repo);
        }
        for mut repo in std::mem::take(&mut self.public_repos) {
            if let Some(link) = self
                .public_policy_links
                .iter()
                .rev()
                .find(|l| match &l.target {
                    Target::Name(n) => repo.name.known() == Some(n),
                    Target::Resource { module, name, key } => {
                        repo.id.address()
                            == format!(
                                "{}{}aws_ecrpublic_repository.{name}{}",
                                module,
                                if module.is_empty() { "" } else { "." },
                                match key {
                                    Some(InstanceKey::Known(k)) => format!("[\"{k}\"]"),
                                    Some(InstanceKey::Unknown) | None => String::new(),
                                }
                            )
                    }
                    Target::Unknown(_) => false,
                })
            {
                repo.policy = link.state.clone();
            }
            self.state.public_repositories.push(repo);
        }
    }
}

fn scanning_filters(obj: &V) -> Result<Vec<String>, String> {
    let mut filters = Vec::new();
    for rule in list_of(obj.get("rule")) {
        if rule.is_unknown() {
            return Err(unknown_why(&rule));
        }
        let freq = rule
            .get("scan_frequency")
            .and_then(V::as_string)
            .ok_or("a rule's `scan_frequency` is not known")?;
        if freq != "SCAN_ON_PUSH" && freq != "CONTINUOUS_SCAN" {
            continue;
        }
        for f in list_of(rule.get("repository_filter")) {
            filters.push(
                f.get("filter")
                    .and_then(V::as_string)
                    .ok_or("a `repository_filter` is not known")?,
            );
        }
    }
    Ok(filters)
}
