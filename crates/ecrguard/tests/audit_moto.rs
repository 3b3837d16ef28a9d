//! `ecrguard audit` against a real AWS API emulator: a moto server (see `support/moto.rs`) seeded
//! with boto3. Static dummy credentials, IMDS off, and the
//! global `AWS_ENDPOINT_URL`, so that nothing leaves 127.0.0.1.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use support::moto::{
    MOTO_REGISTRY_GAPS, Moto, audit_json, audit_json_unset, is_moto_registry_gap, resources, seed,
    seed_with,
};

#[test]
fn audit_reports_every_finding_and_non_finding() {
    let moto = Moto::start_with_aws_managed_policies();
    seed("seed.py", &moto.endpoint());

    let (v, out) = audit_json(
        &moto.endpoint(),
        &[
            "--regions",
            "us-east-1,eu-west-1",
            "--trusted-account",
            "333333333333",
        ],
    );
    let text = v.to_string();
    // Repository names, sorted, once each.
    let on = |code: &str| -> Vec<String> {
        let mut r: Vec<String> = resources(&v, code)
            .iter()
            .map(|arn| arn.rsplit('/').next().unwrap().to_string())
            .collect();
        r.sort();
        r.dedup();
        r
    };
    assert_eq!(on("ECR002"), ["eu-public", "public"], "public: {text}");
    assert_eq!(on("ECR003"), ["cross-account", "org-scoped"]);
    assert_eq!(on("ECR001"), ["no-policy"]);
    assert_eq!(on("ECR010"), ["mutable"]);
    assert_eq!(on("ECR011"), ["mutable"]);
    assert_eq!(
        on("ECR013"),
        [
            "cross-account",
            "eu-public",
            "mutable",
            "no-policy",
            "org-scoped",
            "public"
        ]
    );
    assert_eq!(on("ECR004"), ["eu-public"], "ecr:* to everyone");
    // Replication read from ecr:DescribeRegistry: only the destination outside the owner and
    // the trusted accounts is reported, on the registry of the region that replicates.
    let replication: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "ECR016")
        .collect();
    assert_eq!(replication.len(), 1, "{text}");
    assert_eq!(
        replication[0]["resource"],
        "arn:aws:ecr:us-east-1:123456789012:registry/replication"
    );
    let message = replication[0]["message"].as_str().unwrap();
    assert!(
        message.contains("`999999999999`") && message.contains("`prod`"),
        "{message}"
    );
    // Identities, from iam:GetAccountAuthorizationDetails: broad write on users, groups and
    // customer managed policies (once, on the policy); scoped and read-only are clean.
    assert_eq!(
        on("ECR005"),
        ["ci-pusher", "ecr-policy-admin", "eks-nodes", "platform"],
        "{text}"
    );
    // Node roles: by the AWS managed policy EKS requires, and by the EKS API's node groups.
    assert_eq!(
        on("ECR009"),
        ["eks-nodes", "nodegroup-pusher"],
        "node role with PowerUser; node group role that can push to one repository"
    );
    // Findings carry the ARN; the account and region come from the API.
    let public = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "ECR002")
        .unwrap();
    assert!(
        public["resource"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:ecr:")
    );
    assert_eq!(public["account"], "123456789012");
    assert!(public["region"] == "us-east-1" || public["region"] == "eu-west-1");
    who_can_write(&v);
    // moto answers every call ecrguard makes but one; that one is an error, and the result
    // is incomplete.
    only_unimplemented_errors(&v, 2, 1);
    assert_eq!(out.status.code(), Some(2));
    // Standard error is not a terminal here: no progress line.
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("audit: regions"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The access matrix: per repository, which users and roles can write, delete or change
/// its policy, with identity policies (groups' included), `ecr:ResourceTag` conditions
/// against the repository's real tags, and the repository policy.
fn who_can_write(v: &Value) {
    let m = &v["access"];
    let class_of = |repo: &str, class: &str| -> Vec<String> {
        let r = m["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["repository"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/{repo}"))
            })
            .unwrap_or_else(|| panic!("{repo} not in the matrix: {m:#}"));
        let mut who: Vec<String> = r["principals"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["access"][class] == "yes")
            .map(|p| {
                p["principal"]
                    .as_str()
                    .unwrap()
                    .rsplit(':')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        who.sort();
        who
    };
    // `private` is tagged team=core: the tag-scoped pusher and the one-repository deployer
    // reach it; they reach nothing else.
    assert_eq!(
        class_of("private", "write"),
        [
            "role/eks-nodes",
            "role/nodegroup-pusher",
            "role/team-core-pusher",
            "user/ci-pusher",
            "user/member",
            "user/scoped-deployer"
        ],
        "{m:#}"
    );
    assert_eq!(
        class_of("public", "write"),
        ["role/eks-nodes", "user/ci-pusher", "user/member"]
    );
    // Changing the policy: the group's ecr:* (through membership) and the attached customer
    // managed policy.
    assert_eq!(
        class_of("public", "permissions-management"),
        ["role/release", "user/member"]
    );
    assert_eq!(class_of("public", "delete"), ["user/member"]);
    // The reader reads everywhere and writes nowhere.
    assert!(class_of("no-policy", "read").contains(&"user/reader".to_string()));
    assert!(
        m["scope"]
            .as_str()
            .unwrap()
            .contains("permissions boundaries")
    );
}

/// moto implements neither `DescribeRepositoryCreationTemplates`,
/// `DescribePullThroughCacheRules` (an HTML 500) nor ECR Public (the same): each region and
/// account must list them as errors (never as "no templates", "no rules" or "no public
/// repositories"), and nothing else may fail.
fn only_unimplemented_errors(v: &Value, regions: usize, accounts: usize) {
    let errors = v["errors"].as_array().unwrap();
    let gaps = MOTO_REGISTRY_GAPS.len();
    assert_eq!(
        errors.len(),
        gaps * regions * accounts + accounts,
        "{errors:#?}"
    );
    let mut public = 0;
    for e in errors {
        let m = e["message"].as_str().unwrap();
        // A failed call is placed at the ARN it was about.
        let arn = e["arn"].as_str().unwrap_or_else(|| panic!("no ARN: {e}"));
        assert!(m.contains("[server-error"), "{m}");
        if m.starts_with("ecr-public:DescribeRepositories ") {
            assert!(arn.starts_with("arn:aws:ecr-public::"), "{arn}");
            assert!(!arn.contains("::unknown:"), "the account is named: {arn}");
            public += 1;
        } else {
            assert!(is_moto_registry_gap(m), "{m}");
            assert!(arn.starts_with("arn:aws:ecr:"), "{arn}");
        }
    }
    assert_eq!(public, accounts, "{errors:#?}");
}

/// Two accounts in one run through `--role-arn` (moto lets a role be assumed into any
/// account id, and the credentials then see that account): each account's repositories are
/// judged with that account as the owner, and findings name it in the ARN.
#[test]
fn audit_reads_several_accounts_through_roles() {
    let moto = Moto::start_with_aws_managed_policies();
    seed("seed.py", &moto.endpoint());
    let _ = seed_with("seed_partner.py", &moto.endpoint(), &["222222222222"]);
    // No AWS_REGION: `--regions` alone must do, IAM and STS included (they sign with the
    // first audited region).
    let (v, _) = audit_json_unset(
        &moto.endpoint(),
        &[
            "--regions",
            "us-east-1",
            "--role-arn",
            "arn:aws:iam::123456789012:role/ecrguard-audit",
            "--role-arn",
            "arn:aws:iam::222222222222:role/ecrguard-audit",
        ],
        &["AWS_REGION"],
    );
    let text = v.to_string();
    only_unimplemented_errors(&v, 1, 2);
    let mut public: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "ECR002")
        .map(|f| f["resource"].as_str().unwrap())
        .collect();
    public.sort();
    assert_eq!(
        public,
        [
            "arn:aws:ecr:us-east-1:123456789012:repository/public",
            "arn:aws:ecr:us-east-1:222222222222:repository/partner-public",
        ]
    );
    // The partner's own-account grant is private in its account, not cross-account.
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["resource"]
                .as_str()
                .unwrap()
                .ends_with("/partner-private")
                && f["rule_id"] == "ECR003"),
        "{text}"
    );
}

/// moto answers `DescribeRepositories` in one page; a loopback proxy splits it into pages of
/// two with `nextToken`, as AWS does by 1,000. The audit through it must see exactly what it
/// sees directly.
#[test]
fn audit_follows_every_page() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use support::fault_proxy::{Fault, FaultProxy};

    let moto = Moto::start_with_aws_managed_policies();
    seed("seed.py", &moto.endpoint());
    let pages = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&pages);
    let proxy = FaultProxy::start(
        moto.port,
        Box::new(move |target: &str, _: &str, _: usize| {
            // Private ECR only: ECR Public is not implemented by moto.
            if target == "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories" {
                counted.fetch_add(1, Ordering::SeqCst);
                Fault::Paginate {
                    field: "repositories",
                    size: 2,
                }
            } else {
                Fault::Forward
            }
        }),
    );
    let findings = |endpoint: &str| -> Value {
        let (v, _) = audit_json(endpoint, &["--regions", "us-east-1"]);
        only_unimplemented_errors(&v, 1, 1);
        v["findings"].clone()
    };
    let direct = findings(&moto.endpoint());
    let paged = findings(&proxy.endpoint());
    // Six repositories in us-east-1, two a page: three pages.
    assert_eq!(pages.load(Ordering::SeqCst), 3);
    assert_eq!(paged, direct);
    assert!(direct.as_array().unwrap().len() > 10);
}

/// `--org-role`: the organization's accounts come from `organizations:ListAccounts`, the role
/// is assumed in each, and the organization id is trusted: a grant to the caller's own
/// organization is not cross-account; a grant to another organization still is.
#[test]
fn audit_reads_the_organization_and_trusts_it() {
    let moto = Moto::start_with_aws_managed_policies();
    seed("seed.py", &moto.endpoint());
    let printed = seed_with("seed_org.py", &moto.endpoint(), &[]);
    let (org_id, member) = printed.split_once(' ').unwrap();
    assert!(org_id.starts_with("o-"), "{printed}");
    let (v, _) = audit_json(
        &moto.endpoint(),
        &["--regions", "us-east-1", "--org-role", "ecrguard-audit"],
    );
    let text = v.to_string();
    // Both accounts: the management account and the member.
    only_unimplemented_errors(&v, 1, 2);
    assert!(
        resources(&v, "ECR013")
            .iter()
            .any(|r| r == &format!("arn:aws:ecr:us-east-1:{member}:repository/org-shared")),
        "the member account is audited: {text}"
    );
    let cross = resources(&v, "ECR003");
    assert!(
        cross.iter().all(|r| !r.ends_with("/org-shared")),
        "own organization trusted: {cross:?}"
    );
    assert!(
        cross.iter().any(|r| r.ends_with("/org-scoped")),
        "another organization is not: {cross:?}"
    );
}

/// No `--regions`: every region the account has enabled (`ec2:DescribeRegions`), so a
/// repository in a region nobody named is still audited.
#[test]
fn audit_reads_every_enabled_region_by_default() {
    let moto = Moto::start_with_aws_managed_policies();
    seed("seed.py", &moto.endpoint());
    let (v, _) = audit_json(&moto.endpoint(), &[]);
    let public = resources(&v, "ECR002");
    assert!(
        public
            .iter()
            .any(|r| r.starts_with("arn:aws:ecr:eu-west-1:")),
        "{public:?}"
    );
    // One error per moto gap and region read (and one for ECR Public): moto enables a few dozen.
    let regions = (v["errors"].as_array().unwrap().len() - 1) / MOTO_REGISTRY_GAPS.len();
    assert!(regions > 15, "{regions} regions read");
    only_unimplemented_errors(&v, regions, 1);
}

/// On a terminal the audit draws one progress line (accounts, regions, repositories) on
/// standard error and clears it; `--quiet` draws nothing. The terminal is a real
/// pseudo-terminal from util-linux `script` (installed by scripts/test.sh).
#[test]
fn progress_line_on_a_terminal_only() {
    let moto = Moto::start_with_aws_managed_policies();
    seed("seed.py", &moto.endpoint());
    let report = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ecrguard-pty-{}.json", std::process::id()));
    let run = |extra: &str| -> String {
        let command = format!(
            "'{}' audit --regions us-east-1 --format json -o '{}' {extra}",
            env!("CARGO_BIN_EXE_ecrguard"),
            report.display()
        );
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-q", "-e", "-c", &command, "/dev/null"]);
        support::moto::aws_env(&mut cmd, &moto.endpoint());
        let out = cmd.output().expect("util-linux `script` runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = run("");
    assert!(
        shown.contains("audit: accounts ")
            && shown.contains(", regions ")
            && shown.contains("repositories "),
        "{shown:?}"
    );
    // The line is cleared at the end (carriage return, erase line), not left behind.
    assert!(shown.trim_end().ends_with("\r\u{1b}[2K"), "{shown:?}");
    let report_text = std::fs::read_to_string(&report).unwrap();
    assert!(
        report_text.contains("\"version\""),
        "the report still goes to the file"
    );
    let quiet = run("--quiet");
    assert!(!quiet.contains("audit: accounts"), "{quiet:?}");
    let _ = std::fs::remove_file(&report);
}

/// The config means for `audit` what it means for `scan`: `ignore`, `[severity]`,
/// `[[suppress]]` (here by region and repository glob, the way live findings are named), and
/// `fail-on`; the suppressed finding stays in the report, marked.
#[test]
fn audit_applies_the_config_as_scan_does() {
    let moto = Moto::start_with_aws_managed_policies();
    seed("seed.py", &moto.endpoint());
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ecrguard-audit-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("ecrguard.toml");
    std::fs::write(
        &config,
        "ignore = [\"ECR013\"]\nfail-on = \"never\"\n\n[severity]\nECR010 = \"critical\"\n\n\
         [[suppress]]\nrule = \"ECR002\"\nregion = \"eu-west-1\"\nrepository = \"eu-*\"\n\
         reason = \"a public mirror\"\n",
    )
    .unwrap();
    let (v, out) = audit_json(
        &moto.endpoint(),
        &[
            "--regions",
            "us-east-1,eu-west-1",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    // Baselines work on live findings as on code: recorded, then not counted.
    let baseline = dir.join("baseline.json");
    let args = |flag: &'static str| {
        [
            "--regions".to_string(),
            "us-east-1,eu-west-1".into(),
            "--config".into(),
            config.display().to_string(),
            flag.into(),
            baseline.display().to_string(),
        ]
    };
    let record = args("--write-baseline");
    let (_, _) = audit_json(
        &moto.endpoint(),
        &record.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let compare = args("--baseline");
    let (again, _) = audit_json(
        &moto.endpoint(),
        &compare.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(again["summary"]["findings"], 0, "{again}");
    assert!(again["summary"]["baselined"].as_u64().unwrap() > 5);
    std::fs::remove_dir_all(&dir).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| f["rule_id"] != "ECR013"), "ignored");
    let mutable = findings.iter().find(|f| f["rule_id"] == "ECR010").unwrap();
    assert_eq!(mutable["severity"], "critical");
    let public: Vec<(&str, bool)> = findings
        .iter()
        .filter(|f| f["rule_id"] == "ECR002")
        .map(|f| {
            (
                f["resource"].as_str().unwrap().rsplit('/').next().unwrap(),
                f["suppressed"].is_object(),
            )
        })
        .collect();
    assert_eq!(
        public,
        [("eu-public", true), ("public", false)],
        "{public:?}"
    );
    // `fail-on = never`: only moto's missing calls make the exit code (2, incomplete).
    assert_eq!(out.status.code(), Some(2));
    only_unimplemented_errors(&v, 2, 1);
}

/// The counts `--security-hub` gives on standard error (`N imported, M archived ..., K
/// failed`), the `nth` of them summed over the account's regions.
fn said(err: &str, nth: usize) -> usize {
    err.lines()
        .filter_map(|l| l.strip_prefix("security hub 123456789012 "))
        .map(|l| {
            l.split(": ")
                .nth(1)
                .unwrap()
                .split(", ")
                .nth(nth)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum()
}

/// `--security-hub`: every finding imported into the account's Security Hub in its region
/// (moto's), with the report's ids; after a repository is fixed, a second audit archives the
/// findings that are gone and leaves the others active.
#[test]
fn security_hub_import_then_archive_what_is_fixed() {
    let moto = Moto::start_with_aws_managed_policies();
    seed("seed.py", &moto.endpoint());
    let hub = |region: &str| -> Vec<Value> {
        serde_json::from_str::<Value>(&seed_with("securityhub.py", &moto.endpoint(), &[region]))
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    let args = ["--regions", "us-east-1,eu-west-1", "--security-hub"];
    let (v, out) = audit_json(&moto.endpoint(), &args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let findings = v["findings"].as_array().unwrap();
    let imported = said(&err, 0);
    assert_eq!(imported, findings.len(), "{err}");
    assert!(!err.contains("not imported"), "{err}");
    let all: Vec<Value> = [hub("us-east-1"), hub("eu-west-1")].concat();
    assert_eq!(all.len(), findings.len());
    assert!(
        all.iter()
            .all(|f| f["RecordState"] == "ACTIVE" && f["Compliance"] == "FAILED")
    );
    // Each region's hub holds the findings of its own region's resources.
    assert!(hub("eu-west-1").iter().all(|f| {
        f["ProductArn"].as_str().unwrap().contains(":eu-west-1:")
            && !f["Resource"].as_str().unwrap().contains(":us-east-1:")
    }));
    let public = |f: &&Value| {
        f["Resource"]
            .as_str()
            .unwrap()
            .ends_with(":repository/public")
    };
    let gone: Vec<String> = all
        .iter()
        .filter(public)
        .map(|f| f["Id"].as_str().unwrap().to_string())
        .collect();
    assert!(!gone.is_empty());

    // Fixed: the public repository's policy made private.
    seed_with(
        "state.py",
        &moto.endpoint(),
        &[
            "set-policy",
            "public",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Own","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"ecr:BatchGetImage"}]}"#,
        ],
    );
    let (v2, out) = audit_json(&moto.endpoint(), &args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let now_reported: BTreeSet<String> = v2["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().to_string())
        .collect();
    let after: Vec<Value> = [hub("us-east-1"), hub("eu-west-1")].concat();
    let mut archived = 0;
    for f in &after {
        let id = f["Id"].as_str().unwrap();
        let still = now_reported
            .iter()
            .any(|fp| id.ends_with(&format!("/{fp}")));
        if still {
            assert_eq!(f["RecordState"], "ACTIVE", "{f}");
        } else {
            archived += 1;
            assert_eq!(f["RecordState"], "ARCHIVED", "{f}");
            assert_eq!(f["Compliance"], "PASSED", "{f}");
        }
    }
    assert!(archived >= 1, "{after:#?}");
    for id in &gone {
        let f = after.iter().find(|f| f["Id"] == id.as_str()).unwrap();
        if !now_reported
            .iter()
            .any(|fp| id.ends_with(&format!("/{fp}")))
        {
            assert_eq!(f["RecordState"], "ARCHIVED");
        }
    }
    let archived_said = said(&err, 1);
    assert_eq!(archived_said, archived, "{err}");
}
