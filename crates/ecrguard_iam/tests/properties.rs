//! Property tests: arbitrary bytes and arbitrary JSON never panic the parser or the analysis,
//! the analysis is deterministic, and a few semantic invariants hold on policy-shaped input.

use ecrguard_iam::json::{self, Member, Node, Value};
use ecrguard_iam::{AnalysisOptions, Party, PolicyKind, Verdict, analyze, parse_node, parse_text};
use proptest::prelude::*;

fn arb_json() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        Just(Node::new(Value::Null)),
        any::<bool>().prop_map(|b| Node::new(Value::Bool(b))),
        any::<i64>().prop_map(|n| Node::new(Value::Number(n.to_string()))),
        ".{0,12}".prop_map(|s| Node::new(Value::String(s))),
        prop::sample::select(vec![
            "*",
            "Allow",
            "Deny",
            "ecr:*",
            "AWS",
            "arn:aws:iam::*:root",
            "222222222222",
            "o-abc"
        ])
        .prop_map(Node::string),
        Just(Node::new(Value::Unknown("unresolved".into()))),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        let keys = prop::sample::select(vec![
            "Version",
            "Statement",
            "Effect",
            "Principal",
            "NotPrincipal",
            "Action",
            "NotAction",
            "Resource",
            "Condition",
            "AWS",
            "Service",
            "StringEquals",
            "StringLike",
            "ForAnyValue:StringLike",
            "aws:PrincipalOrgID",
            "aws:SourceIp",
            "Sid",
            "x",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| Node::new(Value::Array(v))),
            prop::collection::vec((keys, inner), 0..6).prop_map(|kv| {
                Node::new(Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| Member {
                            key: k.to_string(),
                            key_span: None,
                            value: v,
                        })
                        .collect(),
                ))
            }),
        ]
    })
}

fn principal() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        r#""*""#,
        r#"{"AWS":"*"}"#,
        r#"{"AWS":"111111111111"}"#,
        r#"{"AWS":["arn:aws:iam::222222222222:root","arn:aws:iam::333333333333:role/x"]}"#,
        r#"{"AWS":"arn:aws:iam::*:root"}"#,
        r#"{"Service":"lambda.amazonaws.com"}"#,
        r#"{"Federated":"x"}"#,
    ])
}

fn action() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        r#""Action":"*""#,
        r#""Action":"ecr:*""#,
        r#""Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]"#,
        r#""Action":"ecr:Put*""#,
        r#""NotAction":"ecr:SetRepositoryPolicy""#,
        r#""Action":"s3:GetObject""#,
    ])
}

fn condition() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "",
        r#","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#,
        r#","Condition":{"StringLike":{"aws:PrincipalOrgID":"o-*"}}"#,
        r#","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#,
        r#","Condition":{"StringEquals":{"aws:PrincipalAccount":["222222222222","111111111111"]}}"#,
        r#","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        r#","Condition":{"StringEquals":{"aws:SourceAccount":"222222222222"}}"#,
        r#","Condition":{"Bool":{"aws:SecureTransport":"true"}}"#,
        r#","Condition":{"stringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#,
    ])
}

fn statement() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["Allow", "Deny"]),
        any::<bool>(),
        principal(),
        action(),
        condition(),
    )
        .prop_map(|(effect, not, p, a, c)| {
            let key = if not && effect == "Deny" {
                "NotPrincipal"
            } else {
                "Principal"
            };
            format!(r#"{{"Effect":"{effect}","{key}":{p},{a}{c}}}"#)
        })
}

fn policy() -> impl Strategy<Value = String> {
    prop::collection::vec(statement(), 1..5).prop_map(|s| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            s.join(",")
        )
    })
}

fn opts() -> AnalysisOptions {
    AnalysisOptions {
        owner: Some("111111111111".into()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = json::parse(&text);
        let _ = parse_text(&text, PolicyKind::Repository);
    }

    #[test]
    fn arbitrary_json_text_never_panics(node in arb_json()) {
        let text = node.to_json();
        prop_assert!(json::parse(&text).is_ok(), "serialized JSON parses: {}", text);
        if let Ok(p) = parse_text(&text, PolicyKind::Repository) {
            let a = analyze(&p, &opts());
            prop_assert_eq!(&a, &analyze(&p, &opts()));
        }
    }

    #[test]
    fn arbitrary_trees_analyse_deterministically(node in arb_json()) {
        for kind in [PolicyKind::Repository, PolicyKind::Registry, PolicyKind::PublicRepository, PolicyKind::Identity] {
            if let Ok(p) = parse_node(&node, kind) {
                let a = analyze(&p, &opts());
                prop_assert_eq!(&a, &analyze(&p, &opts()));
                let _ = ecrguard_iam::identity::ecr_grants(&p);
            }
        }
    }

    #[test]
    fn policy_shaped_invariants(text in policy()) {
        let p = parse_text(&text, PolicyKind::Repository).unwrap();
        let a = analyze(&p, &opts());
        prop_assert_eq!(&a, &analyze(&p, &opts()));
        // The effective verdict is public exactly when anyone gets something.
        prop_assert_eq!(a.effective_verdict == Verdict::Public, a.external.contains(&Party::Everyone));
        // Invalid exactly when AWS would reject the document.
        prop_assert_eq!(a.verdict == Verdict::Invalid, p.is_invalid());
        // The owner is never external.
        prop_assert!(!a.external.contains(&Party::Account("111111111111".into())));
        // Every external party has access classes.
        for party in &a.external {
            prop_assert!(a.access.get(party).is_some_and(|c| !c.is_empty()), "{:?}", party);
        }
    }

    #[test]
    fn an_unconditional_deny_everything_makes_any_policy_private(text in policy()) {
        let with_deny = text.replacen("\"Statement\":[", r#""Statement":[{"Effect":"Deny","Principal":"*","Action":"*"},"#, 1);
        let p = parse_text(&with_deny, PolicyKind::Repository).unwrap();
        let a = analyze(&p, &opts());
        prop_assert_eq!(a.effective_verdict, Verdict::Private, "{}", with_deny);
        prop_assert!(a.external.is_empty());
    }

    #[test]
    fn adding_an_allow_never_shrinks_external_parties(text in policy(), extra in statement()) {
        prop_assume!(extra.contains("\"Allow\""));
        let p1 = parse_text(&text, PolicyKind::Repository).unwrap();
        let wider = text.replacen("\"Statement\":[", &format!("\"Statement\":[{extra},"), 1);
        let p2 = parse_text(&wider, PolicyKind::Repository).unwrap();
        let (a1, a2) = (analyze(&p1, &opts()), analyze(&p2, &opts()));
        prop_assert!(a1.external.is_subset(&a2.external), "{} -> {}", text, wider);
        prop_assert!(a2.effective_verdict >= a1.effective_verdict);
    }

    /// The catalogue sets computed when a policy is read answer exactly what matching the
    /// pattern against each action would.
    #[test]
    fn action_sets_agree_with_wildcard_matching(pattern in "(ecr|ecr-public|e\\*|\\*|s3|)(:|)[a-zP*?]{0,12}") {
        let p = ecrguard_iam::policy::ActionPattern::new(pattern.clone(), None);
        for a in ecrguard_iam::catalog::actions() {
            prop_assert_eq!(
                p.actions.contains(a),
                ecrguard_iam::wildcard::matches(&p.lower, a.lower),
                "{} vs {}", pattern, a.lower
            );
        }
    }
}
