//! `ecrguard handle-event` with realistic CloudTrail records (tests/events/, written for these
//! tests in the shape EventBridge and SQS deliver them) against a moto server: each event
//! re-evaluates just the resource it touched; malformed, unknown or failed-call events are
//! errors and never act.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::moto::{Moto, aws_env, is_moto_registry_gap, now, seed_with, state};

const CONFIG: &str = r#"
[enforce.public-policy]
mode = "enforce: delete-if-new"
otherwise = "enforce: remove-statements"
"#;

fn scratch(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ecrguard-event-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ecrguard.toml"), CONFIG).unwrap();
    dir
}

fn event_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/events")
        .join(name)
}

fn handle(endpoint: &str, dir: &Path, event: &str, args: &[&str]) -> (Value, Output) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecrguard"));
    cmd.args(["handle-event", "--format", "json", "--config"])
        .arg(dir.join("ecrguard.toml"))
        .arg("--journal")
        .arg(dir.join("journal"))
        .arg(event_file(event))
        .args(args);
    aws_env(&mut cmd, endpoint);
    let out = cmd.output().unwrap();
    let v = serde_json::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap_or_else(|e| {
        panic!(
            "{e}: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out)
}

/// The only read errors are moto's missing registry reads.
fn only_moto_gaps(event: &Value) {
    for e in event["errors"].as_array().unwrap() {
        assert!(is_moto_registry_gap(e.as_str().unwrap()), "{e}");
    }
}

#[test]
fn a_new_public_repository_is_deleted_on_its_create_event() {
    let moto = Moto::start();
    seed_with("seed_enforce.py", &moto.endpoint(), &[]);
    let dir = scratch("create");
    let before = state(&moto.endpoint());
    let now = now().to_string();

    // Dry run by default: the plan, nothing changed.
    let (v, _) = handle(
        &moto.endpoint(),
        &dir,
        "create-repository.json",
        &["--now", &now],
    );
    let e = &v["events"][0];
    only_moto_gaps(e);
    assert_eq!(e["event"], "CreateRepository");
    assert_eq!(
        e["actions"][0]["change"]["kind"], "delete-repository",
        "{v:#}"
    );
    assert!(
        e["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule_id"] == "ECR002")
    );
    assert_eq!(state(&moto.endpoint()), before);

    // Applied, but the deletion is not confirmed: refused, nothing changed.
    let (v, out) = handle(
        &moto.endpoint(),
        &dir,
        "create-repository.json",
        &["--now", &now, "--apply"],
    );
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(v["events"][0]["outcomes"][0]["status"], "refused");
    assert_eq!(state(&moto.endpoint()), before);

    let (v, _) = handle(
        &moto.endpoint(),
        &dir,
        "create-repository.json",
        &["--now", &now, "--apply", "--yes"],
    );
    assert_eq!(v["events"][0]["outcomes"][0]["status"], "applied", "{v:#}");
    let after = state(&moto.endpoint());
    assert!(after.get("only-public").is_none(), "deleted");
    let mut rest = before.as_object().unwrap().clone();
    rest.remove("only-public");
    assert_eq!(
        after,
        Value::Object(rest),
        "only the event's repository was touched"
    );
    let id = v["events"][0]["outcomes"][0]["id"].as_str().unwrap();
    assert!(
        dir.join("journal").join(format!("{id}.json")).is_file(),
        "backed up"
    );
}

#[test]
fn a_policy_event_on_an_old_repository_strips_the_public_statement() {
    let moto = Moto::start();
    seed_with("seed_enforce.py", &moto.endpoint(), &[]);
    let dir = scratch("policy");
    let later = (now() + 7200).to_string();
    let (v, _) = handle(
        &moto.endpoint(),
        &dir,
        "set-repository-policy.json",
        &["--now", &later, "--apply"],
    );
    let e = &v["events"][0];
    only_moto_gaps(e);
    assert_eq!(
        e["actions"][0]["change"]["kind"], "remove-statements",
        "{v:#}"
    );
    assert_eq!(e["outcomes"][0]["status"], "applied");
    let policy: Value =
        serde_json::from_str(state(&moto.endpoint())["mixed"]["policy"].as_str().unwrap()).unwrap();
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 1);
    assert_eq!(policy["Statement"][0]["Sid"], "Ci");
}

#[test]
fn registry_events_are_reported_never_changed() {
    let moto = Moto::start();
    seed_with("seed_enforce.py", &moto.endpoint(), &[]);
    let dir = scratch("registry");
    let (v, _) = handle(
        &moto.endpoint(),
        &dir,
        "put-registry-policy.json",
        &["--apply", "--yes"],
    );
    let e = &v["events"][0];
    assert_eq!(e["event"], "PutRegistryPolicy");
    assert!(e["actions"].as_array().unwrap().is_empty(), "{v:#}");
    assert!(e["outcomes"].as_array().unwrap().is_empty());
    // ECR Public events are read from ECR Public, which moto does not implement: the event is
    // an error (exit 2), never "nothing public", and nothing is changed.
    let before = state(&moto.endpoint());
    let (v, out) = handle(
        &moto.endpoint(),
        &dir,
        "public-create-repository.json",
        &["--apply", "--yes"],
    );
    assert_eq!(out.status.code(), Some(2), "{v:#}");
    let e = &v["events"][0];
    assert_eq!(e["event"], "CreateRepository");
    assert!(
        e["errors"].as_array().unwrap().iter().any(|x| x
            .as_str()
            .unwrap()
            .contains(": ecr-public:DescribeRepositories (")),
        "{v:#}"
    );
    assert!(e["actions"].as_array().unwrap().is_empty());
    assert_eq!(state(&moto.endpoint()), before);
}

#[test]
fn malformed_unknown_and_failed_events_are_errors_and_never_act() {
    let moto = Moto::start();
    seed_with("seed_enforce.py", &moto.endpoint(), &[]);
    let dir = scratch("bad");
    let before = state(&moto.endpoint());
    for (file, needle) in [
        ("not-json.txt", "not JSON"),
        ("wrong-source.json", "is not `aws.ecr`"),
        (
            "read-only-call.json",
            "`BatchGetImage` is not an ECR call ecrguard handles",
        ),
        ("access-denied.json", "failed with `AccessDeniedException`"),
        (
            "no-repository.json",
            "without `requestParameters.repositoryName`",
        ),
    ] {
        let (v, out) = handle(&moto.endpoint(), &dir, file, &["--apply", "--yes"]);
        assert_eq!(out.status.code(), Some(2), "{file}");
        assert!(v.to_string().contains(needle), "{file}: {v:#}");
    }
    assert_eq!(state(&moto.endpoint()), before, "no event acted");
    assert!(
        !dir.join("journal").exists()
            || std::fs::read_dir(dir.join("journal"))
                .unwrap()
                .next()
                .is_none()
    );

    // An SQS batch: the good record is handled, the broken one is an error of its own.
    let later = (now() + 7200).to_string();
    let (v, out) = handle(
        &moto.endpoint(),
        &dir,
        "sqs-batch.json",
        &["--now", &later, "--apply"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(v["events"][0]["outcomes"][0]["status"], "applied", "{v:#}");
    assert!(
        v["events"][1]["error"]
            .as_str()
            .unwrap()
            .starts_with("SQS record 1: the body is not JSON")
    );
}

/// An event is judged as `audit` judges: a finding suppressed in the config (here by the
/// repository's name) is an accepted risk, reported as nothing to do and never acted on.
#[test]
fn a_suppressed_finding_is_not_acted_on() {
    let moto = Moto::start();
    seed_with("seed_enforce.py", &moto.endpoint(), &[]);
    let dir = scratch("suppressed");
    std::fs::write(
        dir.join("ecrguard.toml"),
        format!(
            "{CONFIG}\n[[suppress]]\nrule = \"ECR002\"\nrepository = \"only-public\"\n\
             reason = \"a public mirror\"\n"
        ),
    )
    .unwrap();
    let before = state(&moto.endpoint());
    let now = now().to_string();
    let (v, _) = handle(
        &moto.endpoint(),
        &dir,
        "create-repository.json",
        &["--now", &now, "--apply", "--yes"],
    );
    let e = &v["events"][0];
    only_moto_gaps(e);
    assert!(e["actions"].as_array().unwrap().is_empty(), "{v:#}");
    assert!(
        e["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule_id"] != "ECR002"),
        "{v:#}"
    );
    assert_eq!(state(&moto.endpoint()), before, "nothing changed");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A central handler (credentials of account A) with a member role: an event from member
/// account B is read and acted on in B, through B's role, and A is not touched; an event from
/// an account it was not told about is refused before anything is read.
#[test]
fn a_member_accounts_event_is_handled_in_that_account_through_its_role() {
    let moto = Moto::start();
    seed_with("seed_enforce.py", &moto.endpoint(), &[]);
    seed_with("seed_partner.py", &moto.endpoint(), &["222222222222"]);
    let dir = scratch("member");
    let text = std::fs::read_to_string(event_file("set-repository-policy.json"))
        .unwrap()
        .replace("123456789012", "222222222222")
        .replace(
            "\"repositoryName\": \"mixed\"",
            "\"repositoryName\": \"partner-public\"",
        );
    let event = dir.join("member-event.json");
    std::fs::write(&event, text).unwrap();
    let member_state = || -> Value {
        serde_json::from_str(&seed_with(
            "state.py",
            &moto.endpoint(),
            &["as", "222222222222"],
        ))
        .unwrap()
    };
    let own_before = state(&moto.endpoint());
    let member_before = member_state();
    assert!(
        member_before["partner-public"]["policy"]
            .as_str()
            .unwrap()
            .contains("Everyone")
    );
    // Two hours on: the repository is old, so its public statement is removed (not deleted).
    let now = (now() + 7200).to_string();

    // Not allowed: refused, nothing read or changed anywhere.
    let (v, out) = handle(
        &moto.endpoint(),
        &dir,
        event.to_str().unwrap(),
        &[
            "--now",
            &now,
            "--apply",
            "--member-role",
            "ecrguard-remediation",
            "--allowed-account",
            "333333333333",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        v["events"][0]["error"]
            .as_str()
            .unwrap()
            .contains("not an allowed account"),
        "{v:#}"
    );
    assert_eq!(member_state(), member_before);

    // Allowed: the public statement is removed in B, A is untouched.
    let (v, _) = handle(
        &moto.endpoint(),
        &dir,
        event.to_str().unwrap(),
        &[
            "--now",
            &now,
            "--apply",
            "--member-role",
            "ecrguard-remediation",
            "--allowed-account",
            "222222222222",
        ],
    );
    let e = &v["events"][0];
    assert_eq!(e["account"], "222222222222");
    assert_eq!(e["outcomes"][0]["status"], "applied", "{v:#}");
    let member_after = member_state();
    let policy = member_after["partner-public"]["policy"]
        .as_str()
        .unwrap_or("");
    assert!(!policy.contains("Everyone"), "{member_after:#}");
    assert_eq!(
        member_after["partner-private"],
        member_before["partner-private"]
    );
    assert_eq!(
        state(&moto.endpoint()),
        own_before,
        "the handler's own account is untouched"
    );

    // The central journal's entry is restored in B, through B's role: the policy comes back
    // byte for byte, and A is still untouched.
    let id = e["outcomes"][0]["id"].as_str().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecrguard"));
    cmd.args(["restore", "--member-role", "ecrguard-remediation"])
        .arg(dir.join("journal").join(format!("{id}.json")));
    aws_env(&mut cmd, &moto.endpoint());
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        member_state()["partner-public"]["policy"],
        member_before["partner-public"]["policy"]
    );
    assert_eq!(state(&moto.endpoint()), own_before);

    // A member role without the accounts it may act in is a usage error.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecrguard"));
    cmd.args(["handle-event", "--member-role", "x"]).arg(&event);
    aws_env(&mut cmd, &moto.endpoint());
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allowed-account"));
    std::fs::remove_dir_all(&dir).unwrap();
}
