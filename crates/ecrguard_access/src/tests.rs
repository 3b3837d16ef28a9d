use super::*;
use ecrguard_iam::PolicyKind;
use ecrguard_model::{IdentityPolicy, Origin, PolicyDoc, Repository, Value};

const ACCOUNT: &str = "111111111111";

fn at(arn: &str) -> Origin {
    Origin::Aws {
        arn: arn.into(),
        region: "us-east-1".into(),
        call: "test",
    }
}

fn doc(text: &str, kind: PolicyKind, arn: &str) -> PolicyState {
    let policy = ecrguard_iam::parse_text(text, kind).expect("test policy parses");
    PolicyState::Present(Box::new(PolicyDoc {
        policy,
        origin: at(arn),
        declared_by: ResourceId::Arn(arn.into()),
        assumes: Vec::new(),
    }))
}

fn repo(name: &str, tags: Option<&[(&str, &str)]>, policy: Option<&str>) -> Repository {
    let arn = format!("arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{name}");
    let mut r = Repository::unknown(ResourceId::Arn(arn.clone()), at(&arn), "test");
    r.account = Some(ACCOUNT.into());
    r.region = Some("us-east-1".into());
    r.tags = match tags {
        Some(t) => Value::Set(
            t.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            at(&arn),
        ),
        None => Value::Unknown("access denied".into(), at(&arn)),
    };
    r.policy = match policy {
        Some(p) => doc(p, PolicyKind::Repository, &arn),
        None => PolicyState::Absent(at(&arn)),
    };
    r
}

fn identity(kind: IdentityKind, arn: &str, groups: &[&str], policies: &[(&str, &str)]) -> Identity {
    Identity {
        id: ResourceId::Arn(arn.into()),
        kind,
        name: Value::Set(arn.rsplit('/').next().unwrap().into(), at(arn)),
        origin: at(arn),
        policies: policies
            .iter()
            .map(|(name, text)| IdentityPolicy {
                name: (*name).into(),
                document: if text.is_empty() {
                    PolicyState::Unknown("AWS managed policy not in the catalogue".into(), at(arn))
                } else {
                    doc(text, PolicyKind::Identity, arn)
                },
            })
            .collect(),
        eks_node_role: false,
        groups: groups.iter().map(|g| (*g).to_string()).collect(),
    }
}

fn row<'a>(m: &'a AccessMatrix, repo: &str, who: &str) -> Option<&'a PrincipalAccess> {
    m.repositories
        .iter()
        .find(|r| r.repository.ends_with(&format!("/{repo}")))
        .expect("repository in the matrix")
        .principals
        .iter()
        .find(|p| p.principal.ends_with(who))
}

fn state() -> EcrState {
    let push_tagged = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Action":["ecr:PutImage","ecr:InitiateLayerUpload"],"Resource":"*",
        "Condition":{"StringEquals":{"ecr:ResourceTag/team":"core"}}}]}"#;
    let admin = r#"{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}"#;
    EcrState {
        repositories: vec![
            repo("core-api", Some(&[("team", "core")]), None),
            repo(
                "web",
                Some(&[("team", "web")]),
                Some(
                    r#"{"Version":"2012-10-17","Statement":[
                  {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/deployer"},"Action":"ecr:SetRepositoryPolicy"},
                  {"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"ecr:BatchGetImage"},
                  {"Effect":"Deny","Principal":"*","Action":"ecr:DeleteRepository"}]}"#,
                ),
            ),
            repo("untagged", None, None),
        ],
        identities: vec![
            identity(
                IdentityKind::Role,
                "arn:aws:iam::111111111111:role/ci",
                &[],
                &[("push-tagged", push_tagged)],
            ),
            identity(
                IdentityKind::User,
                "arn:aws:iam::111111111111:user/alice",
                &["admins"],
                &[],
            ),
            identity(
                IdentityKind::Group,
                "arn:aws:iam::111111111111:group/admins",
                &[],
                &[("admin", admin)],
            ),
            identity(
                IdentityKind::Role,
                "arn:aws:iam::111111111111:role/deployer",
                &[],
                &[],
            ),
            identity(
                IdentityKind::Role,
                "arn:aws:iam::111111111111:role/ops",
                &[],
                &[("SomeAwsPolicy", "")],
            ),
            identity(
                IdentityKind::Role,
                "arn:aws:iam::222222222222:role/partner",
                &[],
                &[("pull", admin)],
            ),
            identity(
                IdentityKind::Role,
                "arn:aws:iam::333333333333:role/stranger",
                &[],
                &[("all", admin)],
            ),
        ],
        ..EcrState::default()
    }
}

#[test]
fn tag_scoped_push_reaches_only_tagged_repositories() {
    let m = matrix(&state());
    let ci = row(&m, "core-api", "role/ci").expect("ci can push to core-api");
    assert_eq!(ci.class(ActionClass::Write), Access::Yes);
    assert_eq!(ci.class(ActionClass::Delete), Access::No);
    assert!(
        row(&m, "web", "role/ci").is_none(),
        "web is tagged team=web"
    );
    // Tags that could not be read never turn into "no access".
    let untagged = row(&m, "untagged", "role/ci").expect("unknown tags keep the row");
    assert_eq!(untagged.class(ActionClass::Write), Access::Conditional);
    let r = m
        .repositories
        .iter()
        .find(|r| r.repository.ends_with("/untagged"))
        .unwrap();
    assert!(
        r.incomplete.iter().any(|i| i.contains("tags unknown")),
        "{:?}",
        r.incomplete
    );
}

#[test]
fn group_policies_apply_to_their_users_and_groups_are_not_principals() {
    let m = matrix(&state());
    let alice = row(&m, "core-api", "user/alice").expect("alice is an admin through her group");
    assert_eq!(alice.class(ActionClass::PermissionsManagement), Access::Yes);
    assert!(
        alice.granted_by[&ActionClass::PermissionsManagement]
            .iter()
            .any(|g| g.policy == "admin")
    );
    assert!(row(&m, "core-api", "group/admins").is_none());
    // The repository policy's deny wins over the group's allow.
    let on_web = row(&m, "web", "user/alice").unwrap();
    assert_eq!(on_web.actions.get("ecr:DeleteRepository"), None);
    assert_eq!(
        on_web.class(ActionClass::Delete),
        Access::Yes,
        "BatchDeleteImage is still allowed"
    );
}

#[test]
fn repository_policy_grants_named_roles_and_cross_account_needs_both_sides() {
    let m = matrix(&state());
    let deployer = row(&m, "web", "role/deployer").expect("named in the repository policy");
    assert_eq!(
        deployer.class(ActionClass::PermissionsManagement),
        Access::Yes
    );
    assert!(
        deployer
            .granted_by
            .values()
            .flatten()
            .all(|g| g.policy == "repository policy")
    );
    assert!(row(&m, "core-api", "role/deployer").is_none());
    let partner = row(&m, "web", "role/partner").expect("both sides allow the pull");
    assert_eq!(partner.class(ActionClass::Read), Access::Yes);
    assert_eq!(
        partner.class(ActionClass::Write),
        Access::No,
        "the repository policy grants only the pull"
    );
    assert!(
        row(&m, "core-api", "role/partner").is_none(),
        "no repository policy: no cross-account access"
    );
    assert!(row(&m, "web", "role/stranger").is_none());
}

#[test]
fn unreadable_policies_are_listed_not_dropped() {
    let m = matrix(&state());
    assert_eq!(m.principals, 6, "users and roles, not groups");
    let ops = m
        .unevaluated
        .iter()
        .find(|u| u.principal.ends_with("role/ops"))
        .expect("ops listed");
    assert!(
        ops.reasons[0].contains("SomeAwsPolicy"),
        "{:?}",
        ops.reasons
    );
}

/// A node role with AWS's pull-only policy (which includes the pull-through cache import)
/// can pull, and cannot push: the import counts as a read.
#[test]
fn a_pull_through_import_is_a_read_not_a_write() {
    let pull_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
        "ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer",
        "ecr:BatchImportUpstreamImage"],"Resource":"*"}]}"#;
    let push = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Action":"ecr:PutImage","Resource":"*"}]}"#;
    let state = EcrState {
        repositories: vec![repo("cache", Some(&[]), None)],
        identities: vec![
            identity(
                IdentityKind::Role,
                "arn:aws:iam::111111111111:role/nodes",
                &[],
                &[("pull-only", pull_only)],
            ),
            identity(
                IdentityKind::Role,
                "arn:aws:iam::111111111111:role/ci",
                &[],
                &[("push", push)],
            ),
        ],
        ..EcrState::default()
    };
    let m = matrix(&state);
    let nodes = row(&m, "cache", "role/nodes").expect("nodes can pull");
    assert_eq!(nodes.class(ActionClass::Read), Access::Yes);
    assert_eq!(nodes.class(ActionClass::Write), Access::No);
    assert_eq!(
        nodes.actions.get("ecr:BatchImportUpstreamImage"),
        Some(&Access::Yes),
        "the import is still listed among the actions"
    );
    let ci = row(&m, "cache", "role/ci").expect("ci can push");
    assert_eq!(ci.class(ActionClass::Write), Access::Yes);
}
