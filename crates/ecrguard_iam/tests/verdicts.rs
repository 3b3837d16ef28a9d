//! The verdict table: one row per grammar or condition case of docs/semantics.md §1-2, each
//! with the verdict and the external parties we expect. Owner account is `111111111111`
//! unless a row says otherwise; `222222222222` and `333333333333` are foreign accounts.

use ecrguard_iam::{AnalysisOptions, PolicyKind, Verdict, analyze, parse_text};

const OWNER: &str = "111111111111";

struct Case {
    name: &'static str,
    policy: String,
    owner: Option<&'static str>,
    verdict: Verdict,
    external: &'static [&'static str],
}

/// A policy with one Allow statement: principal JSON, action JSON, condition JSON (or "").
fn allow(principal: &str, action: &str, condition: &str) -> String {
    let cond = if condition.is_empty() {
        String::new()
    } else {
        format!(r#","Condition":{condition}"#)
    };
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"S","Effect":"Allow","Principal":{principal},"Action":{action}{cond}}}]}}"#
    )
}

/// A public read Allow with the given condition.
fn star_if(condition: &str) -> String {
    allow(
        r#""*""#,
        r#"["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]"#,
        condition,
    )
}

/// A public `ecr:*` Allow followed by the given Deny statement.
fn star_then_deny(deny: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"ecr:*"}},{deny}]}}"#
    )
}

fn case(
    name: &'static str,
    policy: String,
    verdict: Verdict,
    external: &'static [&'static str],
) -> Case {
    Case {
        name,
        policy,
        owner: Some(OWNER),
        verdict,
        external,
    }
}

#[allow(clippy::too_many_lines)]
fn cases() -> Vec<Case> {
    use Verdict::{CrossAccount, Invalid, NetworkRestricted, Private, Public};
    let read = r#""ecr:BatchGetImage""#;
    vec![
        // Principal forms (section 1.2).
        case("star", allow(r#""*""#, read, ""), Public, &["*"]),
        case("aws_star", allow(r#"{"AWS":"*"}"#, read, ""), Public, &["*"]),
        case("aws_list_with_star", allow(r#"{"AWS":["arn:aws:iam::222222222222:root","*"]}"#, read, ""), Public, &["*", "222222222222"]),
        case("service_star", allow(r#"{"Service":"*"}"#, read, ""), Public, &["*"]),
        case("canonical_user_star", allow(r#"{"CanonicalUser":"*"}"#, read, ""), Public, &["*"]),
        case("mixed_map_with_star", allow(r#"{"AWS":"arn:aws:iam::111111111111:root","Service":"*"}"#, read, ""), Public, &["*"]),
        case(
            "statement_as_object",
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}}"#.into(),
            Public,
            &["*"],
        ),
        case("owner_root", allow(r#"{"AWS":"arn:aws:iam::111111111111:root"}"#, read, ""), Private, &[]),
        case("owner_bare_id", allow(r#"{"AWS":"111111111111"}"#, read, ""), Private, &[]),
        case("owner_role", allow(r#"{"AWS":"arn:aws:iam::111111111111:role/ci"}"#, read, ""), Private, &[]),
        case("foreign_root", allow(r#"{"AWS":"arn:aws:iam::222222222222:root"}"#, read, ""), CrossAccount, &["222222222222"]),
        case("foreign_bare_id", allow(r#"{"AWS":"222222222222"}"#, read, ""), CrossAccount, &["222222222222"]),
        case("foreign_role", allow(r#"{"AWS":["arn:aws:iam::222222222222:role/deploy"]}"#, read, ""), CrossAccount, &["222222222222"]),
        case("foreign_user", allow(r#"{"AWS":"arn:aws:iam::333333333333:user/bob"}"#, read, ""), CrossAccount, &["333333333333"]),
        case("foreign_assumed_role", allow(r#"{"AWS":"arn:aws:sts::222222222222:assumed-role/r/s"}"#, read, ""), CrossAccount, &["222222222222"]),
        case("gov_partition", allow(r#"{"AWS":"arn:aws-us-gov:iam::222222222222:root"}"#, read, ""), CrossAccount, &["222222222222"]),
        case(
            "owner_and_foreign",
            allow(r#"{"AWS":["arn:aws:iam::111111111111:root","arn:aws:iam::222222222222:root"]}"#, read, ""),
            CrossAccount,
            &["222222222222"],
        ),
        case("federated_principal", allow(r#"{"Federated":"cognito-identity.amazonaws.com"}"#, read, ""), CrossAccount, &["unknown:cognito-identity.amazonaws.com"]),
        case("orphaned_unique_id_grants_nothing", allow(r#"{"AWS":"AROAEXAMPLEEXAMPLE123"}"#, read, ""), Private, &[]),
        case("wildcard_account_in_arn", allow(r#"{"AWS":"arn:aws:iam::*:root"}"#, read, ""), Invalid, &["*"]),
        case("wildcard_role_in_arn", allow(r#"{"AWS":"arn:aws:iam::222222222222:role/ci-*"}"#, read, ""), Invalid, &["222222222222"]),
        // docs/semantics.md §1.2: scored public, with a warning that AWS may reject it (not invalid).
        case("allow_not_principal", r#"{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"ecr:*"}]}"#.into(), Public, &["*"]),
        // Effect.
        case("deny_star_only", r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:*"}]}"#.into(), Private, &[]),
        case("effect_lower_case", r#"{"Statement":[{"Effect":"allow","Principal":"*","Action":"ecr:*"}]}"#.into(), Invalid, &["*"]),
        case("effect_missing", r#"{"Statement":[{"Principal":"*","Action":"ecr:*"}]}"#.into(), Invalid, &[]),
        // Actions (section 1.2, 3).
        case("action_star", allow(r#""*""#, r#""*""#, ""), Public, &["*"]),
        case("action_case_insensitive", allow(r#""*""#, r#""ECR:batchgetimage""#, ""), Public, &["*"]),
        case("action_question_mark", allow(r#""*""#, r#""ecr:?etRepositoryPolicy""#, ""), Public, &["*"]),
        case("action_other_service_only", allow(r#""*""#, r#""s3:GetObject""#, ""), Private, &[]),
        case("action_auth_token_only", allow(r#""*""#, r#""ecr:GetAuthorizationToken""#, ""), Private, &[]),
        case("not_action", r#"{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":"ecr:DeleteRepository"}]}"#.into(), Public, &["*"]),
        case("action_missing", r#"{"Statement":[{"Effect":"Allow","Principal":"*"}]}"#.into(), Invalid, &[]),
        // Document level.
        case("version_2008", r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}"#.into(), Public, &["*"]),
        case("version_unknown", r#"{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}"#.into(), Invalid, &["*"]),
        case(
            "too_long",
            format!(r#"{{"Statement":[{{"Sid":"{}","Effect":"Allow","Principal":{{"AWS":"111111111111"}},"Action":"ecr:*"}}]}}"#, "x".repeat(10_300)),
            Invalid,
            &[],
        ),
        case("resource_does_not_narrow", r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/none"}]}"#.into(), Public, &["*"]),
        // Identity conditions (section 2.2).
        case("org_id", star_if(r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#), CrossAccount, &["org:o-abc123"]),
        case("org_id_key_case", star_if(r#"{"StringEquals":{"AWS:PRINCIPALORGID":"o-abc123"}}"#), CrossAccount, &["org:o-abc123"]),
        case("org_id_ignore_case", star_if(r#"{"StringEqualsIgnoreCase":{"aws:PrincipalOrgID":"o-abc123"}}"#), CrossAccount, &["org:o-abc123"]),
        case("org_id_two_values", star_if(r#"{"StringEquals":{"aws:PrincipalOrgID":["o-abc123","o-def456"]}}"#), CrossAccount, &["org:o-abc123", "org:o-def456"]),
        case("org_id_like_wildcard", star_if(r#"{"StringLike":{"aws:PrincipalOrgID":"o-*"}}"#), Public, &["*"]),
        case("org_id_one_loose_value", star_if(r#"{"StringLike":{"aws:PrincipalOrgID":["o-abc123","*"]}}"#), Public, &["*"]),
        case("org_id_equals_literal_star", star_if(r#"{"StringEquals":{"aws:PrincipalOrgID":"*"}}"#), Private, &[]),
        case("org_id_if_exists", star_if(r#"{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-abc123"}}"#), Public, &["*"]),
        case("org_id_for_all_values", star_if(r#"{"ForAllValues:StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#), Public, &["*"]),
        case("org_id_for_any_value", star_if(r#"{"ForAnyValue:StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#), CrossAccount, &["org:o-abc123"]),
        case("org_id_negated_in_allow", star_if(r#"{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#), Public, &["*"]),
        case("org_paths", star_if(r#"{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-abc123/r-ab12/ou-ab12-11111111/*"}}"#), CrossAccount, &["org:o-abc123"]),
        case("org_paths_org_wildcard", star_if(r#"{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-*/r-ab12/*"}}"#), Public, &["*"]),
        case("org_paths_for_all_values", star_if(r#"{"ForAllValues:StringLike":{"aws:PrincipalOrgPaths":"o-abc123/*"}}"#), Public, &["*"]),
        case("principal_account", star_if(r#"{"StringEquals":{"aws:PrincipalAccount":["222222222222","333333333333"]}}"#), CrossAccount, &["222222222222", "333333333333"]),
        case("principal_account_owner", star_if(r#"{"StringEquals":{"aws:PrincipalAccount":"111111111111"}}"#), Private, &[]),
        case("principal_account_if_exists_is_still_bounded", star_if(r#"{"StringEqualsIfExists":{"aws:PrincipalAccount":"222222222222"}}"#), CrossAccount, &["222222222222"]),
        case("principal_account_like_wildcard", star_if(r#"{"StringLike":{"aws:PrincipalAccount":"2222*"}}"#), Public, &["*"]),
        case("principal_arn_like", star_if(r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:role/*"}}"#), CrossAccount, &["222222222222"]),
        case("principal_arn_account_wildcard", star_if(r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ci"}}"#), Public, &["*"]),
        case("principal_arn_arn_equals_wildcard", star_if(r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::*:role/ci"}}"#), Public, &["*"]),
        case("principal_arn_string_like_star", star_if(r#"{"StringLike":{"aws:PrincipalArn":"*"}}"#), Public, &["*"]),
        case("principal_arn_string_equals_literal", star_if(r#"{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::*:role/ci"}}"#), Private, &[]),
        case("userid_bounded", star_if(r#"{"StringLike":{"aws:userid":"AROAEXAMPLEEXAMPLE:*"}}"#), CrossAccount, &["unknown:userid:AROAEXAMPLEEXAMPLE:*"]),
        case("userid_star", star_if(r#"{"StringLike":{"aws:userid":"*"}}"#), Public, &["*"]),
        case("two_tests_intersect", star_if(r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abc123","aws:PrincipalAccount":"222222222222"}}"#), CrossAccount, &["222222222222"]),
        case(
            "named_account_outside_condition",
            allow(r#"{"AWS":"222222222222"}"#, read, r#"{"StringEquals":{"aws:PrincipalAccount":"333333333333"}}"#),
            Private,
            &[],
        ),
        // Conditions that do not restrict.
        case("username", star_if(r#"{"StringEquals":{"aws:username":"alice"}}"#), Public, &["*"]),
        case("secure_transport", star_if(r#"{"Bool":{"aws:SecureTransport":"true"}}"#), Public, &["*"]),
        case("null_operator", star_if(r#"{"Null":{"aws:PrincipalOrgID":"false"}}"#), Public, &["*"]),
        case("resource_account", star_if(r#"{"StringEquals":{"aws:ResourceAccount":"111111111111"}}"#), Public, &["*"]),
        case("principal_tag", star_if(r#"{"StringEquals":{"aws:PrincipalTag/team":"core"}}"#), Public, &["*"]),
        case("current_time", star_if(r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#), Public, &["*"]),
        case("loose_and_tight_and", star_if(r#"{"Bool":{"aws:SecureTransport":"true"},"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#), CrossAccount, &["org:o-abc123"]),
        // Network conditions.
        case("source_ip", star_if(r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#), NetworkRestricted, &["network:10.0.0.0/8"]),
        case("source_ip_all_v4", star_if(r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#), Public, &["*"]),
        case("source_ip_all_v6", star_if(r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::/0"]}}"#), Public, &["*"]),
        case("not_ip_address_in_allow", star_if(r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#), Public, &["*"]),
        case("source_vpce", star_if(r#"{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c"}}"#), NetworkRestricted, &["network:vpce-1a2b3c"]),
        case("source_vpc_wildcard", star_if(r#"{"StringLike":{"aws:SourceVpc":"vpc-*"}}"#), Public, &["*"]),
        case("source_vpce_if_exists", star_if(r#"{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1a2b3c"}}"#), Public, &["*"]),
        // Service principals and source keys (section 2.4).
        case("service_unscoped", allow(r#"{"Service":"lambda.amazonaws.com"}"#, read, ""), CrossAccount, &["service:lambda.amazonaws.com"]),
        case(
            "service_scoped_to_owner",
            allow(r#"{"Service":"lambda.amazonaws.com"}"#, read, r#"{"StringLike":{"aws:sourceArn":"arn:aws:lambda:us-east-1:111111111111:function:*"}}"#),
            Private,
            &[],
        ),
        case(
            "service_scoped_to_foreign",
            allow(r#"{"Service":"codebuild.amazonaws.com"}"#, read, r#"{"StringEquals":{"aws:SourceAccount":"222222222222"}}"#),
            CrossAccount,
            &["222222222222"],
        ),
        case(
            "service_source_arn_wildcard_account",
            allow(r#"{"Service":"lambda.amazonaws.com"}"#, read, r#"{"ArnLike":{"aws:SourceArn":"arn:aws:lambda:us-east-1:*:function:*"}}"#),
            CrossAccount,
            &["service:lambda.amazonaws.com"],
        ),
        case("star_source_account_owner", star_if(r#"{"StringEquals":{"aws:SourceAccount":"111111111111"}}"#), Private, &[]),
        case("star_source_owner_foreign", star_if(r#"{"StringEquals":{"aws:SourceOwner":"222222222222"}}"#), CrossAccount, &["222222222222"]),
        case("star_source_arn_s3_bucket", star_if(r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::my-bucket"}}"#), CrossAccount, &["unknown:arn:aws:s3:::my-bucket"]),
        case("star_source_arn_s3_any", star_if(r#"{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::*"}}"#), Public, &["*"]),
        case("star_source_org", star_if(r#"{"StringEquals":{"aws:SourceOrgID":"o-abc123"}}"#), CrossAccount, &["org:o-abc123"]),
        // Policy variables.
        case("variable_resource_account", star_if(r#"{"StringEquals":{"aws:PrincipalAccount":"${aws:ResourceAccount}"}}"#), Private, &[]),
        case("variable_resource_org", star_if(r#"{"StringEquals":{"aws:PrincipalOrgID":"${aws:ResourceOrgID}"}}"#), CrossAccount, &["org:self"]),
        case("variable_other_is_loose", star_if(r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:role/ci"}}"#), Public, &["*"]),
        case(
            "variable_literal_under_2008",
            r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalAccount":"${aws:ResourceAccount}"}}}]}"#.into(),
            Private,
            &[],
        ),
        // Deny statements narrow allows.
        case("deny_fence_org", star_then_deny(r#"{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123"}}}"#), CrossAccount, &["org:o-abc123"]),
        case("deny_fence_org_if_exists", star_then_deny(r#"{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-abc123"}}}"#), CrossAccount, &["org:o-abc123"]),
        case("deny_fence_some_actions_only", star_then_deny(r#"{"Effect":"Deny","Principal":"*","Action":"ecr:Put*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123"}}}"#), Public, &["*", "org:o-abc123"]),
        case("deny_fence_with_extra_condition", star_then_deny(r#"{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123"},"Bool":{"aws:SecureTransport":"false"}}}"#), Public, &["*"]),
        case("deny_fence_for_any_value", star_then_deny(r#"{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"ForAnyValue:StringNotLike":{"aws:PrincipalOrgPaths":"o-abc123/*"}}}"#), Public, &["*"]),
        case("deny_fence_for_all_values_paths", star_then_deny(r#"{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"ForAllValues:StringNotLike":{"aws:PrincipalOrgPaths":"o-abc123/*"}}}"#), CrossAccount, &["org:o-abc123"]),
        case("deny_fence_wildcard_value", star_then_deny(r#"{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"StringNotLike":{"aws:PrincipalOrgID":"o-*"}}}"#), Public, &["*"]),
        case("deny_all", star_then_deny(r#"{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"ecr:*"}"#), Private, &[]),
        case("deny_not_principal_owner", star_then_deny(r#"{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"ecr:*"}"#), Private, &[]),
        case("deny_fence_network", star_then_deny(r#"{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}"#), NetworkRestricted, &["network:10.0.0.0/8"]),
        case("deny_fence_accounts", star_then_deny(r#"{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":["111111111111","222222222222"]}}}"#), CrossAccount, &["222222222222"]),
        case(
            "deny_named_account",
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["222222222222","333333333333"]},"Action":"ecr:*"},{"Effect":"Deny","Principal":{"AWS":"333333333333"},"Action":"*"}]}"#.into(),
            CrossAccount,
            &["222222222222"],
        ),
        case(
            "deny_positive_account_test",
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["222222222222","333333333333"]},"Action":"ecr:*"},{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"333333333333"}}}]}"#.into(),
            CrossAccount,
            &["222222222222"],
        ),
        case("deny_negated_on_loose_key_does_not_fence", star_then_deny(r#"{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"StringNotEquals":{"aws:username":"alice"}}}"#), Public, &["*"]),
        // Invalid grammar (section 1).
        case("operator_wrong_case", star_if(r#"{"stringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#), Invalid, &["*"]),
        case("operator_unknown", star_if(r#"{"StringMatches":{"aws:PrincipalOrgID":"o-abc123"}}"#), Invalid, &["*"]),
        case("null_if_exists_invalid", star_if(r#"{"NullIfExists":{"aws:PrincipalOrgID":"false"}}"#), Invalid, &["*"]),
        case("principal_bare_arn_string", allow(r#""arn:aws:iam::222222222222:root""#, read, ""), Invalid, &["222222222222"]),
        case("unknown_principal_type", allow(r#"{"Aws":"222222222222"}"#, read, ""), Invalid, &["222222222222"]),
        case("condition_value_object", star_if(r#"{"StringEquals":{"aws:PrincipalOrgID":{"x":1}}}"#), Invalid, &[]),
        case("unknown_top_level_element", r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"ecr:*"}],"Foo":1}"#.into(), Invalid, &[]),
        case("sid_with_spaces_is_fine", r#"{"Statement":[{"Sid":"new policy","Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"ecr:*"}]}"#.into(), Private, &[]),
        // Owner unknown: named accounts are all external.
        Case { name: "owner_unknown", policy: allow(r#"{"AWS":"arn:aws:iam::111111111111:root"}"#, read, ""), owner: None, verdict: CrossAccount, external: &["111111111111"] },
        Case { name: "owner_unknown_self_marker", policy: allow(r#"{"AWS":"arn:aws:iam::self:root"}"#, read, ""), owner: None, verdict: Private, external: &[] },
    ]
}

#[test]
fn verdict_table() {
    let cases = cases();
    assert!(
        cases.len() >= 60,
        "the table must stay dense: {}",
        cases.len()
    );
    let mut failures = Vec::new();
    let mut names = std::collections::HashSet::new();
    for c in &cases {
        assert!(names.insert(c.name), "duplicate case name {}", c.name);
        let policy = parse_text(&c.policy, PolicyKind::Repository)
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let a = analyze(
            &policy,
            &AnalysisOptions {
                owner: c.owner.map(str::to_string),
            },
        );
        let external: Vec<String> = a.external.iter().map(ecrguard_iam::Party::label).collect();
        if a.verdict != c.verdict || external != c.external {
            failures.push(format!(
                "{}: got {} {:?}, want {} {:?}\n    problems: {:?}",
                c.name,
                a.verdict,
                external,
                c.verdict,
                c.external,
                policy
                    .problems
                    .iter()
                    .map(|p| &p.message)
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn access_classes_per_party() {
    use ecrguard_iam::catalog::ActionClass;
    let text = r#"{"Statement":[
        {"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":["ecr:BatchGetImage","ecr:DescribeImages"]},
        {"Effect":"Allow","Principal":{"AWS":"333333333333"},"Action":["ecr:Put*","ecr:SetRepositoryPolicy","ecr:BatchDeleteImage"]},
        {"Effect":"Allow","Principal":"*","NotAction":"ecr:*"}
    ]}"#;
    let p = parse_text(text, PolicyKind::Repository).unwrap();
    let a = analyze(
        &p,
        &AnalysisOptions {
            owner: Some(OWNER.into()),
        },
    );
    let classes = |acct: &str| -> Vec<ActionClass> {
        a.access
            .get(&ecrguard_iam::Party::Account(acct.into()))
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    };
    assert_eq!(
        classes("222222222222"),
        vec![ActionClass::List, ActionClass::Read]
    );
    assert_eq!(
        classes("333333333333"),
        vec![
            ActionClass::Write,
            ActionClass::Delete,
            ActionClass::PermissionsManagement
        ]
    );
    // `NotAction: ecr:*` grants nothing on a repository.
    assert!(!a.access.contains_key(&ecrguard_iam::Party::Everyone));
    assert_eq!(a.verdict, Verdict::CrossAccount);
}

#[test]
fn public_repository_policies_use_ecr_public_actions() {
    let text =
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr-public:PutImage"}]}"#;
    let p = parse_text(text, PolicyKind::PublicRepository).unwrap();
    assert_eq!(
        analyze(&p, &AnalysisOptions::default()).verdict,
        Verdict::Public
    );
    let p = parse_text(text, PolicyKind::Repository).unwrap();
    assert_eq!(
        analyze(&p, &AnalysisOptions::default()).verdict,
        Verdict::Private
    );
}

#[test]
fn unresolved_parts_make_the_analysis_incomplete_not_absent() {
    use ecrguard_iam::json::{Member, Node, Value};
    let obj = |members: Vec<(&str, Node)>| {
        Node::new(Value::Object(
            members
                .into_iter()
                .map(|(k, v)| Member {
                    key: k.into(),
                    key_span: None,
                    value: v,
                })
                .collect(),
        ))
    };
    let statement = obj(vec![
        ("Effect", Node::string("Allow")),
        (
            "Principal",
            obj(vec![(
                "AWS",
                Node::new(Value::Unknown("var.reader_arns".into())),
            )]),
        ),
        ("Action", Node::string("ecr:BatchGetImage")),
    ]);
    let policy = obj(vec![(
        "Statement",
        Node::new(Value::Array(vec![statement])),
    )]);
    let p = ecrguard_iam::parse_node(&policy, PolicyKind::Repository).unwrap();
    assert!(!p.is_invalid(), "{:?}", p.problems);
    let a = analyze(&p, &AnalysisOptions::default());
    assert!(a.incomplete);
    assert_eq!(
        a.verdict,
        Verdict::Private,
        "unknown grants nothing by itself; it is reported as incomplete"
    );
}

#[test]
fn an_unresolved_restricting_condition_is_undecided_not_public() {
    use ecrguard_iam::json::{Member, Node, Value};
    let text = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"aws:PrincipalOrgID":"X"}}}]}"#;
    let mut node = ecrguard_iam::json::parse(text).unwrap();
    // Replace the org id with an unresolved value, as a Terraform `local.org_ids` would be.
    fn replace(n: &mut Node) {
        match &mut n.value {
            Value::String(s) if s == "X" => n.value = Value::Unknown("local.org_ids".into()),
            Value::Array(items) => items.iter_mut().for_each(replace),
            Value::Object(members) => members
                .iter_mut()
                .for_each(|m: &mut Member| replace(&mut m.value)),
            _ => {}
        }
    }
    replace(&mut node);
    let p = ecrguard_iam::parse_node(&node, PolicyKind::Repository).unwrap();
    let a = analyze(&p, &AnalysisOptions::default());
    assert!(a.incomplete);
    assert_eq!(
        a.effective_verdict,
        Verdict::Private,
        "undecided, so no party is reported"
    );
    // An unresolved value on a key that never restricts changes nothing: still public.
    let loose = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"aws:username":"X"}}}]}"#;
    let mut node = ecrguard_iam::json::parse(loose).unwrap();
    replace(&mut node);
    let p = ecrguard_iam::parse_node(&node, PolicyKind::Repository).unwrap();
    assert_eq!(
        analyze(&p, &AnalysisOptions::default()).verdict,
        Verdict::Public
    );
}
