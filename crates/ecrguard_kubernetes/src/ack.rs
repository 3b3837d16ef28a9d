//! AWS Controllers for Kubernetes, `ecr.services.k8s.aws/v1alpha1`: a `Repository` carries
//! its settings, policy (`spec.policy`, a JSON string) and lifecycle policy in its own spec;
//! a `RepositoryCreationTemplate` carries the policy it gives the repositories ECR creates
//! under its prefix; a `PullThroughCacheRule` names the upstream registry.

use crate::KubernetesScan;
use crate::object::{self, Object};
use ecrguard_iam::PolicyKind;
use ecrguard_iam::json::Node;
use ecrguard_model::{CreationTemplate, PolicyState, ResourceId, Value};

const SPEC: &[&str] = &["spec"];

const PULL_THROUGH: object::PullThroughFields = object::PullThroughFields {
    base: SPEC,
    upstream_url: "upstreamRegistryURL",
    credential_arn: "credentialARN",
    credential_ref: &["credentialRef"],
};

/// Adds one ACK object.
pub(crate) fn add(o: &Object, scan: &mut KubernetesScan) {
    let id = ResourceId::Kubernetes(o.id());
    match o.kind() {
        "Repository" => {
            // `spec.name` is the repository's name in ECR (required by the CRD).
            let name = o
                .string(o.field(SPEC, &["name"]))
                .unwrap_or_else(|| Value::Unknown("`spec.name` is not set".into(), o.whole()));
            let mut repo = object::repository(o, SPEC, name);
            if let Some(p) = o.field(SPEC, &["policy"]).filter(|p| !is_empty(p)) {
                repo.policy = object::policy(o, p, PolicyKind::Repository, &id);
            }
            if let Some(l) = o.field(SPEC, &["lifecyclePolicy"]).filter(|l| !is_empty(l)) {
                repo.lifecycle_policy = Value::Set(true, o.origin(l));
            }
            scan.state.repositories.push(repo);
        }
        "RepositoryCreationTemplate" => {
            let policy = match o
                .field(SPEC, &["repositoryPolicy"])
                .filter(|p| !is_empty(p))
            {
                Some(p) => object::policy(o, p, PolicyKind::Repository, &id),
                None => PolicyState::Absent(o.whole()),
            };
            scan.state.creation_templates.push(CreationTemplate {
                id,
                prefix: o.string(o.field(SPEC, &["prefix"])).unwrap_or_else(|| {
                    Value::Unknown("`spec.prefix` is not set".into(), o.whole())
                }),
                applied_for: o.strings(
                    o.field(SPEC, &["appliedFor"]),
                    "`spec.appliedFor` is not set",
                ),
                origin: o.whole(),
                policy,
            });
        }
        "PullThroughCacheRule" => scan
            .state
            .pull_through_cache_rules
            .push(object::pull_through_cache_rule(o, &PULL_THROUGH)),
        other => scan.not_evaluated.push(crate::InputProblem::not_evaluated(
            o.id(),
            format!("ACK `{other}` is not read by ecrguard yet"),
        )),
    }
}

fn is_empty(n: &&Node) -> bool {
    n.as_str().is_some_and(|s| s.trim().is_empty()) || n.value == ecrguard_iam::json::Value::Null
}
