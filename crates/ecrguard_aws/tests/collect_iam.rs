//! IAM mapping with an in-memory [`IamApi`] (documents decoded from IAM's URL encoding, as
//! the SDK reader hands them over): customer managed policies reported once, AWS managed ones analysed where attached and
//! never on their own, node roles recognised, and a denied call leaves no identity behind.

use ecrguard_aws::api::{
    ApiError, AuthorizationDetails, ErrorKind, IamApi, IamEntity, IamManagedPolicy,
};
use ecrguard_aws::collect::collect_iam;
use ecrguard_model::{IdentityKind, PolicyState};
use ecrguard_rules::{Settings, check};

const PUSH_ALL: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22ecr%3APutImage%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";

struct Fake(Result<AuthorizationDetails, ApiError>);

impl IamApi for Fake {
    async fn authorization_details(&self) -> Result<AuthorizationDetails, ApiError> {
        self.0.clone()
    }
}

fn entity(kind: IdentityKind, name: &str, inline: &[(&str, &str)], attached: &[&str]) -> IamEntity {
    IamEntity {
        kind,
        name: name.into(),
        arn: format!(
            "arn:aws:iam::111111111111:{}/{name}",
            match kind {
                IdentityKind::User => "user",
                IdentityKind::Role => "role",
                IdentityKind::Group => "group",
            }
        ),
        inline: inline
            .iter()
            .map(|(n, d)| (n.to_string(), d.to_string()))
            .collect(),
        attached: attached.iter().map(|a| a.to_string()).collect(),
        groups: Vec::new(),
    }
}

#[tokio::test]
async fn identities_map_and_report_once() {
    let customer = "arn:aws:iam::111111111111:policy/push-all";
    let details = AuthorizationDetails {
        entities: vec![
            entity(IdentityKind::User, "ci", &[("push", &crate_decoded(PUSH_ALL))], &[]),
            entity(IdentityKind::Role, "release", &[], &[customer]),
            entity(
                IdentityKind::Role,
                "nodes",
                &[],
                &[
                    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
                ],
            ),
            entity(IdentityKind::User, "broken", &[("bad", "{not json")], &[]),
        ],
        managed: vec![
            IamManagedPolicy {
                name: "push-all".into(),
                arn: customer.into(),
                document: Some(crate_decoded(PUSH_ALL)),
            },
            // Returned although not asked for: never reported on its own.
            IamManagedPolicy {
                name: "AmazonEC2ContainerRegistryFullAccess".into(),
                arn: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess".into(),
                document: Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}"#.into()),
            },
        ],
        pages: 2,
    };
    let audit = collect_iam(&Fake(Ok(details))).await;
    assert_eq!(audit.calls, 2, "one call per page");
    assert!(audit.errors.is_empty());
    assert_eq!(audit.state.managed_policies.len(), 1);
    let nodes = audit
        .state
        .identities
        .iter()
        .find(|i| i.id.to_string().ends_with("/nodes"))
        .unwrap();
    assert!(nodes.eks_node_role);
    let broken = audit
        .state
        .identities
        .iter()
        .find(|i| i.id.to_string().ends_with("/broken"))
        .unwrap();
    assert!(matches!(
        broken.policies[0].document,
        PolicyState::Unparseable { .. }
    ));

    let findings = check(&audit.state, &Settings::default());
    let mut on: Vec<(String, String)> = findings
        .iter()
        .map(|f| {
            (
                f.rule.code.to_string(),
                f.resource
                    .to_string()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    on.sort();
    on.dedup();
    assert_eq!(
        on,
        [
            ("ECR005".to_string(), "ci".to_string()),
            ("ECR005".into(), "nodes".into()),
            ("ECR005".into(), "push-all".into()),
            ("ECR009".into(), "nodes".into()),
        ]
    );
}

fn crate_decoded(s: &str) -> String {
    ecrguard_aws::api::decode_policy_document(s)
}

#[tokio::test]
async fn a_denied_call_is_an_error_not_an_empty_account() {
    let denied = ApiError {
        kind: ErrorKind::AccessDenied,
        code: Some("AccessDenied".into()),
        message: "not authorized".into(),
    };
    let audit = collect_iam(&Fake(Err(denied))).await;
    assert!(audit.state.identities.is_empty());
    assert_eq!(audit.errors.len(), 1);
    assert_eq!(audit.errors[0].call, "iam:GetAccountAuthorizationDetails");
    assert_eq!(audit.errors[0].kind, ErrorKind::AccessDenied);
}
