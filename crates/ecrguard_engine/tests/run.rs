//! The engine's run: the config file checked whole, flags over it, and the same judging for
//! code and live state (suppressions by resource, and for live findings by account, region,
//! repository and tag).

use ecrguard_engine::config::{LoadedConfig, load};
use ecrguard_engine::{Flags, ResolveError, Run, Threshold, resolve};
use ecrguard_iam::PolicyKind;
use ecrguard_model::{
    EcrState, Origin, PolicyDoc, PolicyState, Repository, ResourceId, SourceDb, Value,
};
use ecrguard_rules::{Severity, SourceKind};
use std::path::PathBuf;

fn config(name: &str, text: &str) -> LoadedConfig {
    // One directory per call: the tests run at once.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("ecrguard-engine-{name}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join("ecrguard.toml");
    std::fs::write(&path, text).unwrap();
    let loaded = load(&path, true).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    loaded
}

fn run(text: &str, flags: &Flags, source: SourceKind) -> Run {
    resolve(flags, Some(config("run", text)), source).unwrap()
}

#[test]
fn every_problem_of_the_config_is_reported_at_once_with_its_place() {
    let text = "owner-account = \"12345\"\nfail-on = \"sometimes\"\nselect = [\"ECR999\"]\n\n\
                [severity]\nECR002 = \"huge\"\n\n[[suppress]]\nrule = \"ECR002\"\nreason = \"\"\n\
                expires = \"2027-02-30\"\n\n[[suppress]]\nrule = \"ECR002\"\nreason = \"ok\"\ntag = \"novalue\"\n";
    let Err(ResolveError::Config(e)) = resolve(
        &Flags::default(),
        Some(config("all", text)),
        SourceKind::Aws,
    ) else {
        panic!("expected the config's problems");
    };
    let lines: Vec<usize> = e.problems.iter().map(|p| p.line).collect();
    // Owner, fail-on, select, severity, the empty reason, the impossible date, the entry with
    // no target, the tag without `=`: all of them, in file order.
    assert_eq!(lines, [1, 2, 3, 6, 8, 10, 11, 16], "{e}");
    let shown = e.to_string();
    assert!(
        shown.contains("ecrguard.toml:1:17: `12345` is not a 12-digit account id"),
        "{shown}"
    );
    assert!(shown.contains("  | expires = \"2027-02-30\""), "{shown}");
    assert!(shown.contains("`tag` must be `key=value`"), "{shown}");
}

#[test]
fn flags_override_or_extend_the_config_and_are_checked_first() {
    let text = "select = [\"ECR002\", \"ECR003\"]\nignore = [\"ECR003\"]\nfail-on = \"high\"\n\
                trusted-accounts = [\"111111111111\"]\n[severity]\nECR002 = \"medium\"\n";
    let r = run(text, &Flags::default(), SourceKind::Aws);
    let codes: Vec<&str> = r.rules.iter().map(|r| r.meta().code).collect();
    assert_eq!(codes, ["ECR002"]);
    assert_eq!(r.fail_on, Threshold::At(Severity::High));
    assert_eq!(
        r.settings.severity_overrides.get("ECR002"),
        Some(&Severity::Medium)
    );
    let flags = Flags {
        select: vec!["ECR01".into()],
        ignore: vec!["ECR013".into()],
        fail_on: Some(Threshold::Never),
        trusted_accounts: vec!["222222222222".into()],
        ..Flags::default()
    };
    let r = run(text, &flags, SourceKind::Aws);
    let codes: Vec<&str> = r.rules.iter().map(|r| r.meta().code).collect();
    assert_eq!(
        codes,
        ["ECR010", "ECR011", "ECR012", "ECR014", "ECR015", "ECR016"]
    );
    assert_eq!(r.fail_on, Threshold::Never);
    assert_eq!(r.settings.trusted_accounts.len(), 2);
    // A bad flag is named even when the config is broken too.
    let bad = Flags {
        trusted_orgs: vec!["o-short".into()],
        ..Flags::default()
    };
    let e = resolve(
        &bad,
        Some(config("bad", "fail-on = \"x\"\n")),
        SourceKind::Aws,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("--trusted-org:"), "{e}");
    // The rules are those of the command's source: `check-policy` runs only policy rules.
    let policy = resolve(&Flags::default(), None, SourceKind::Policy).unwrap();
    assert!(
        policy
            .rules
            .iter()
            .all(|r| r.meta().sources.contains(&SourceKind::Policy))
    );
    assert!(!policy.rules.iter().any(|r| r.meta().code == "ECR013"));
}

fn live_repo(
    db: &mut SourceDb,
    account: &str,
    region: &str,
    name: &str,
    tags: &[(&str, &str)],
) -> Repository {
    let arn = format!("arn:aws:ecr:{region}:{account}:repository/{name}");
    let text = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}"#;
    let origin = Origin::File(db.add(arn.clone(), text));
    let mut r = Repository::unknown(ResourceId::Arn(arn.clone()), origin.clone(), "test");
    r.name = Value::Set(name.into(), origin.clone());
    r.account = Some(account.into());
    r.region = Some(region.into());
    r.tags = Value::Set(
        tags.iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
        origin.clone(),
    );
    r.policy = PolicyState::Present(Box::new(PolicyDoc {
        policy: ecrguard_iam::parse_text(text, PolicyKind::Repository).unwrap(),
        origin,
        declared_by: ResourceId::Arn(arn),
        assumes: Vec::new(),
    }));
    r
}

#[test]
fn live_findings_are_suppressed_by_account_region_repository_and_tag() {
    let text = "[[suppress]]\nrule = \"ECR002\"\naccount = \"111111111111\"\nregion = \"eu-west-1\"\n\
                repository = \"mirror-*\"\nreason = \"public mirrors\"\n\n\
                [[suppress]]\nrule = \"ECR002\"\ntag = \"exposure=public\"\nreason = \"tagged as public\"\n\
                expires = \"2099-01-01\"\n\n\
                [[suppress]]\nrule = \"ECR002\"\naccount = \"999999999999\"\nreason = \"matches nothing\"\n";
    let r = run(text, &Flags::default(), SourceKind::Aws);
    let mut db = SourceDb::default();
    let state = EcrState {
        repositories: vec![
            live_repo(&mut db, "111111111111", "eu-west-1", "mirror-alpine", &[]),
            live_repo(&mut db, "111111111111", "us-east-1", "mirror-alpine", &[]),
            live_repo(
                &mut db,
                "222222222222",
                "eu-west-1",
                "site",
                &[("exposure", "public")],
            ),
            live_repo(
                &mut db,
                "222222222222",
                "eu-west-1",
                "api",
                &[("exposure", "private")],
            ),
        ],
        ..EcrState::default()
    };
    let settings = r.settings_for(Some("111111111111"), None);
    let judged = r.judge(&state, &settings, &mut db, Vec::new());
    let public: Vec<(String, Option<String>)> = judged
        .findings
        .iter()
        .filter(|f| f.rule.code == "ECR002")
        .map(|f| {
            (
                f.resource.label().to_string(),
                f.suppression.as_ref().map(|s| s.reason.clone()),
            )
        })
        .collect();
    assert_eq!(
        public,
        [
            (
                "arn:aws:ecr:eu-west-1:111111111111:repository/mirror-alpine".to_string(),
                Some("public mirrors".to_string())
            ),
            (
                "arn:aws:ecr:eu-west-1:222222222222:repository/api".to_string(),
                None
            ),
            (
                "arn:aws:ecr:eu-west-1:222222222222:repository/site".to_string(),
                Some("tagged as public".to_string())
            ),
            (
                "arn:aws:ecr:us-east-1:111111111111:repository/mirror-alpine".to_string(),
                None
            ),
        ]
    );
    // The entry that matched nothing is reported (ECR090), pointing into the config file.
    let unused: Vec<_> = judged
        .findings
        .iter()
        .filter(|f| f.rule.code == "ECR090")
        .collect();
    assert_eq!(unused.len(), 1);
    assert!(
        unused[0].message.contains("account `999999999999`"),
        "{}",
        unused[0].message
    );
    let loc = db.lines(unused[0].origin.as_ref().unwrap()).unwrap();
    assert!(
        loc.file.ends_with("ecrguard.toml") && loc.start_line == 14,
        "{loc:?}"
    );
}
