//! The collector's mapping, with an in-memory [`EcrApi`]: not-found is the only "absent";
//! AccessDenied, throttling, timeouts and 5xx become Unknown and are reported with ARN,
//! region, call and code. (The SDK itself is tested against a moto server, in the binary.)

use ecrguard_aws::api::{ApiError, EcrApi, ErrorKind, RepositoryInfo};
use ecrguard_aws::collect::{AuditOptions, collect, missing_permissions};
use ecrguard_model::PolicyState;
use ecrguard_rules::{Settings, check};

struct Fake;

fn err(kind: ErrorKind, code: &str) -> ApiError {
    ApiError {
        kind,
        code: Some(code.into()),
        message: "injected".into(),
    }
}

fn repo(name: &str) -> RepositoryInfo {
    RepositoryInfo {
        name: name.into(),
        arn: format!("arn:aws:ecr:us-east-1:111111111111:repository/{name}"),
        registry_id: "111111111111".into(),
        tag_mutability: Some("IMMUTABLE".into()),
        scan_on_push: Some(true),
        encryption_type: Some("AES256".into()),
        kms_key: None,
        created_at: Some(0),
    }
}

impl EcrApi for Fake {
    async fn account_id(&self) -> Result<String, ApiError> {
        Ok("111111111111".into())
    }
    async fn describe_repositories(&self, region: &str) -> Result<Vec<RepositoryInfo>, ApiError> {
        if region == "eu-west-1" {
            return Err(err(ErrorKind::AccessDenied, "AccessDeniedException"));
        }
        Ok([
            "denied",
            "none",
            "public",
            "throttled",
            "timeout",
            "server",
            "garbled",
        ]
        .iter()
        .map(|n| repo(n))
        .collect())
    }
    async fn get_repository_policy(&self, _: &str, name: &str) -> Result<Option<String>, ApiError> {
        match name {
            "denied" => Err(err(ErrorKind::AccessDenied, "AccessDeniedException")),
            "none" => Ok(None),
            "throttled" => Err(err(ErrorKind::Throttled, "ThrottlingException")),
            "timeout" => Err(ApiError { kind: ErrorKind::Timeout, code: None, message: "read timeout".into() }),
            "server" => Err(err(ErrorKind::Server, "ServerException")),
            // What a tampered store or an emulator may hand back: read, not trusted.
            "garbled" => Ok(Some("{\"Version\": \"2012-10-17\", \"Statement\": [".into())),
            _ => Ok(Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}"#.into())),
        }
    }
    async fn get_lifecycle_policy(&self, _: &str, _: &str) -> Result<Option<String>, ApiError> {
        Ok(Some("{}".into()))
    }
    async fn list_tags(&self, _: &str, _: &str) -> Result<Vec<(String, String)>, ApiError> {
        Ok(Vec::new())
    }
    async fn get_registry_policy(&self, _: &str) -> Result<Option<String>, ApiError> {
        Ok(None)
    }
    async fn creation_templates(
        &self,
        _: &str,
    ) -> Result<Vec<ecrguard_aws::api::CreationTemplateInfo>, ApiError> {
        Ok(vec![ecrguard_aws::api::CreationTemplateInfo {
            prefix: "cache".into(),
            applied_for: vec!["PULL_THROUGH_CACHE".into()],
            policy: Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}"#.into()),
        }])
    }
    async fn pull_through_cache_rules(
        &self,
        _: &str,
    ) -> Result<Vec<ecrguard_aws::api::PullThroughCacheRuleInfo>, ApiError> {
        Err(err(ErrorKind::NotImplemented, "NotImplemented"))
    }
    async fn registry_scan_filters(&self, _: &str) -> Result<Vec<String>, ApiError> {
        Err(err(ErrorKind::NotImplemented, "NotImplemented"))
    }
    async fn replication_rules(
        &self,
        _: &str,
    ) -> Result<Vec<ecrguard_aws::api::ReplicationRuleInfo>, ApiError> {
        Err(err(ErrorKind::NotImplemented, "NotImplemented"))
    }
}

#[tokio::test(flavor = "current_thread")]
async fn errors_are_unknown_never_absent() {
    let audit = collect(
        &Fake,
        &AuditOptions {
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            concurrency: 4,
            ..AuditOptions::default()
        },
    )
    .await;
    assert_eq!(audit.account.as_deref(), Some("111111111111"));
    let policy = |n: &str| {
        &audit
            .state
            .repositories
            .iter()
            .find(|r| r.name.known().map(String::as_str) == Some(n))
            .unwrap()
            .policy
    };
    assert!(matches!(policy("none"), PolicyState::Absent(_)));
    assert!(matches!(policy("public"), PolicyState::Present(_)));
    assert!(matches!(policy("garbled"), PolicyState::Unparseable { .. }));
    for n in ["denied", "throttled", "timeout", "server"] {
        assert!(matches!(policy(n), PolicyState::Unknown(..)), "{n}");
    }
    let calls: Vec<(&str, &str, ErrorKind)> = audit
        .errors
        .iter()
        .map(|e| (e.resource.rsplit('/').next().unwrap(), e.call, e.kind))
        .collect();
    assert!(calls.contains(&("denied", "ecr:GetRepositoryPolicy", ErrorKind::AccessDenied)));
    assert!(calls.contains(&("timeout", "ecr:GetRepositoryPolicy", ErrorKind::Timeout)));
    assert!(
        audit
            .errors
            .iter()
            .any(|e| e.region == "eu-west-1" && e.call == "ecr:DescribeRepositories")
    );
    assert!(
        audit
            .errors
            .iter()
            .any(|e| e.call == "ecr:GetRegistryScanningConfiguration"
                && e.kind == ErrorKind::NotImplemented)
    );
    // Pull-through cache rules that could not be listed are an error, never "no rules".
    assert!(audit.state.pull_through_cache_rules.is_empty());
    assert!(
        audit
            .errors
            .iter()
            .any(|e| e.call == "ecr:DescribePullThroughCacheRules"
                && e.kind == ErrorKind::NotImplemented)
    );
    let template = &audit.state.creation_templates[0];
    assert_eq!(template.for_pull_through_cache(), Some(true));
    assert_eq!(
        missing_permissions(&audit.errors),
        vec![
            ("111111111111".to_string(), "ecr:DescribeRepositories", 1),
            ("111111111111".to_string(), "ecr:GetRepositoryPolicy", 1)
        ]
    );

    let findings = check(&audit.state, &Settings::default());
    let on = |code: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f.rule.code == code)
            .map(|f| f.resource.to_string())
            .collect()
    };
    assert_eq!(
        on("ECR001"),
        vec!["arn:aws:ecr:us-east-1:111111111111:repository/none"],
        "only the proven absence"
    );
    assert_eq!(
        on("ECR002"),
        vec!["arn:aws:ecr:us-east-1:111111111111:repository/public"]
    );
    assert!(
        on("ECR011").is_empty(),
        "registry scanning unknown: no scan finding either way"
    );
    assert_eq!(
        on("ECR008"),
        vec!["arn:aws:ecr:us-east-1:111111111111:repository/garbled"],
        "a policy that is not JSON is reported on its ARN"
    );
    let mut templates = on("ECR007");
    templates.sort();
    assert_eq!(
        templates,
        vec![
            "arn:aws:ecr:eu-west-1:111111111111:registry/creation-template/cache",
            "arn:aws:ecr:us-east-1:111111111111:registry/creation-template/cache"
        ],
        "a public creation template, in each region"
    );
}

/// EKS is optional: a denied `eks:ListClusters` is a note (node roles are still known by
/// their AWS managed policy), never an error that fails the audit.
#[tokio::test]
async fn denied_eks_is_a_note_not_an_error() {
    use ecrguard_aws::api::{EksApi, NodeGroup};
    use ecrguard_aws::collect::collect_node_groups;
    struct Eks;
    impl EksApi for Eks {
        async fn node_groups(&self, region: &str) -> Result<(Vec<NodeGroup>, usize), ApiError> {
            if region == "eu-west-1" {
                return Err(err(ErrorKind::AccessDenied, "AccessDeniedException"));
            }
            Ok((
                vec![NodeGroup {
                    cluster: "apps".into(),
                    name: "workers".into(),
                    role_arn: "arn:aws:iam::111111111111:role/nodes".into(),
                }],
                3,
            ))
        }
    }
    let regions = ["us-east-1".to_string(), "eu-west-1".to_string()];
    let audit = collect_node_groups(&Eks, &regions).await;
    assert!(audit.errors.is_empty());
    assert_eq!(audit.node_groups.len(), 1);
    assert_eq!(audit.calls, 4);
    assert_eq!(audit.notes.len(), 1);
    assert!(audit.notes[0].contains("eu-west-1") && audit.notes[0].contains("AccessDenied"));
}

/// ECR Public (moto has no emulation of it, so the mapping is tested here): a repository is
/// ECR014 unless approved; a policy read that fails is Unknown and an error, a missing one is
/// absent; a failed listing is an error, never "no public repositories".
#[tokio::test]
async fn public_repositories_are_read_or_reported() {
    use ecrguard_aws::api::{EcrPublicApi, PublicRepositoryInfo};
    use ecrguard_aws::collect::collect_public;
    struct Public(bool);
    impl EcrPublicApi for Public {
        async fn public_repositories(
            &self,
        ) -> Result<(Vec<PublicRepositoryInfo>, usize), ApiError> {
            if !self.0 {
                return Err(err(ErrorKind::AccessDenied, "AccessDeniedException"));
            }
            let public = |name: &str, policy| PublicRepositoryInfo {
                name: name.into(),
                arn: format!("arn:aws:ecr-public::111111111111:repository/{name}"),
                registry_id: "111111111111".into(),
                policy,
            };
            Ok((
                vec![
                    public("tools", Ok(None)),
                    public("approved-cli", Ok(None)),
                    public(
                        "locked",
                        Err(err(ErrorKind::Throttled, "ThrottlingException")),
                    ),
                ],
                4,
            ))
        }
    }
    let audit = collect_public(&Public(true), Some("111111111111")).await;
    assert_eq!(audit.calls, 4);
    assert_eq!(audit.errors.len(), 1);
    assert_eq!(audit.errors[0].call, "ecr-public:GetRepositoryPolicy");
    assert!(matches!(
        audit.state.public_repositories[2].policy,
        PolicyState::Unknown(..)
    ));
    let settings = Settings {
        approved_public_repositories: vec!["approved-*".into()],
        ..Settings::default()
    };
    let mut flagged: Vec<String> = check(&audit.state, &settings)
        .into_iter()
        .filter(|f| f.rule.code == "ECR014")
        .map(|f| f.resource.to_string())
        .collect();
    flagged.sort();
    assert_eq!(
        flagged,
        [
            "arn:aws:ecr-public::111111111111:repository/locked",
            "arn:aws:ecr-public::111111111111:repository/tools"
        ]
    );

    let denied = collect_public(&Public(false), Some("111111111111")).await;
    assert!(denied.state.public_repositories.is_empty());
    assert_eq!(denied.errors[0].call, "ecr-public:DescribeRepositories");
    assert_eq!(
        denied.errors[0].resource,
        "arn:aws:ecr-public::111111111111:registry"
    );
}
