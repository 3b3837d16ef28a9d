//! `ecrguard enforce` and `restore` against a moto server: plan only by default; apply;
//! approvals by name and tag; new versus old through the injected clock; refusal to delete a
//! repository holding images; confirmation; skip on drift; byte-identical restore; and a
//! run killed in the middle of `--apply` that converges on the next with nothing lost.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::fault_proxy::{Fault, FaultProxy};
use support::moto::{Moto, aws_env, is_moto_registry_gap, now, seed_with, state};

const CONFIG: &str = r#"
[enforce]
approval-tag = "ecrguard=approved"

[[enforce.approve]]
name = "approved-*"
reason = "public mirrors"

# Expired: `only-public` is enforced as if it were not there.
[[enforce.approve]]
name = "only-*"
expires = "2020-01-01"

[enforce.public-policy]
mode = "enforce: delete-if-new"
otherwise = "enforce: remove-statements"

[enforce.tag-mutability]
mode = "enforce: set-immutable"
"#;

/// A scratch directory for one test: config and journal.
fn scratch(name: &str, config: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ecrguard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ecrguard.toml"), config).unwrap();
    dir
}

/// Two hours from now: every seeded repository is older than the 60-minute window.
fn later() -> String {
    (now() + 7200).to_string()
}

fn command(endpoint: &str, dir: &Path, args: &[&str]) -> Command {
    command_at(
        endpoint,
        dir,
        &dir.join("journal").display().to_string(),
        args,
    )
}

/// With the journal at `journal` (a directory or `dynamodb://TABLE`).
fn command_at(endpoint: &str, dir: &Path, journal: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecrguard"));
    cmd.args([
        "enforce",
        "--regions",
        "us-east-1",
        "--format",
        "json",
        "--config",
    ])
    .arg(dir.join("ecrguard.toml"))
    .arg("--journal")
    .arg(journal)
    .args(args);
    aws_env(&mut cmd, endpoint);
    cmd.stdin(Stdio::null());
    cmd
}

fn enforce(endpoint: &str, dir: &Path, args: &[&str]) -> (Value, Output) {
    let out = command(endpoint, dir, args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let v = serde_json::from_str(&text).unwrap_or(Value::Null);
    if !v.is_null() {
        moto_gaps_only(&v);
    }
    (v, out)
}

/// moto implements neither creation templates, pull-through cache rules nor ECR Public: the
/// audit under the plan reports them as errors (so the exit code is 2, "incomplete"), and
/// nothing else may fail.
fn moto_gaps_only(v: &Value) {
    for e in v["errors"].as_array().unwrap() {
        let e = e.as_str().unwrap();
        assert!(
            is_moto_registry_gap(e) || e.contains(": ecr-public:DescribeRepositories ("),
            "{e}"
        );
    }
}

/// The exit code when the only errors are moto's gaps: 2 (incomplete) always wins over the
/// plan's 0 or 1, which `act::exit_status`'s own test covers.
const INCOMPLETE: Option<i32> = Some(2);

fn statement_sids(policy: &Value) -> Vec<String> {
    let text = policy.as_str().expect("a policy");
    let v: Value = serde_json::from_str(text).unwrap();
    v["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap().to_string())
        .collect()
}

/// `(verb, repository name)` of each planned action, sorted.
fn actions(v: &Value) -> Vec<(String, String)> {
    let mut a: Vec<(String, String)> = v["actions"]
        .as_array()
        .unwrap_or_else(|| panic!("no actions: {v:#}"))
        .iter()
        .map(|a| {
            (
                a["change"]["kind"].as_str().unwrap().to_string(),
                a["target"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    a.sort();
    a
}

fn outcome_of<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id)
        .unwrap_or_else(|| panic!("no outcome {id}: {v:#}"))
}

fn action_id(v: &Value, kind: &str, name: &str) -> String {
    v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["change"]["kind"] == kind && a["target"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} on {name}: {v:#}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn journal_entry(dir: &Path, id: &str) -> Value {
    let text = std::fs::read_to_string(dir.join("journal").join(format!("{id}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn restore(endpoint: &str, dir: &Path, id: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecrguard"));
    cmd.arg("restore")
        .arg(dir.join("journal").join(format!("{id}.json")));
    aws_env(&mut cmd, endpoint);
    cmd.output().unwrap()
}

#[test]
fn plan_by_default_then_apply_approvals_and_byte_identical_restore() {
    let moto = Moto::start();
    let texts: Value =
        serde_json::from_str(&seed_with("seed_enforce.py", &moto.endpoint(), &[])).unwrap();
    let dir = scratch("enforce-old", CONFIG);
    let before = state(&moto.endpoint());

    // Without --apply: the plan, and nothing changes.
    let (plan, out) = enforce(&moto.endpoint(), &dir, &["--now", &later()]);
    assert_eq!(
        out.status.code(),
        INCOMPLETE,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(plan["mode"], "plan");
    assert_eq!(
        actions(&plan),
        [
            ("delete-policy".to_string(), "only-public".to_string()),
            ("delete-policy".into(), "with-images".into()),
            ("remove-statements".into(), "mixed".into()),
            ("set-immutable".into(), "mutable".into()),
        ],
        "old repositories: delete-if-new falls back to remove-statements"
    );
    let unchanged: Vec<(&str, &str)> = plan["unchanged"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["rule"] == "ECR002")
        .map(|u| {
            (
                u["target"].as_str().unwrap().rsplit('/').next().unwrap(),
                u["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        unchanged.contains(&("approved-mirror", "approved by config (public mirrors)")),
        "{unchanged:?}"
    );
    assert!(
        unchanged.contains(&("tagged", "approved by tag `ecrguard=approved`")),
        "{unchanged:?}"
    );
    let mixed = &plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["target"]["name"] == "mixed")
        .unwrap()["change"];
    assert_eq!(mixed["removed"], serde_json::json!([0]));
    assert_eq!(state(&moto.endpoint()), before, "a plan changes nothing");
    assert!(!dir.join("journal").exists(), "a plan writes no journal");

    // --apply: each action done, with its backup first.
    let (applied, out) = enforce(&moto.endpoint(), &dir, &["--now", &later(), "--apply"]);
    assert_eq!(out.status.code(), INCOMPLETE, "{applied:#}");
    for o in applied["outcomes"].as_array().unwrap() {
        assert_eq!(o["status"], "applied", "{o}");
    }
    let after = state(&moto.endpoint());
    assert_eq!(statement_sids(&after["mixed"]["policy"]), ["Ci"]);
    assert_eq!(after["only-public"]["policy"], Value::Null);
    assert_eq!(after["mutable"]["mutability"], "IMMUTABLE");
    assert_eq!(after["approved-mirror"], before["approved-mirror"]);
    assert_eq!(after["tagged"], before["tagged"]);
    assert_eq!(after["private"], before["private"]);
    let id = action_id(&applied, "remove-statements", "mixed");
    let entry = journal_entry(&dir, &id);
    assert_eq!(entry["version"], 1);
    assert_eq!(entry["status"], "applied");
    assert_eq!(
        entry["backup"]["policy_text"], texts["mixed"],
        "the full previous text"
    );
    assert_eq!(entry["backup"]["tags"], serde_json::json!([]));

    // Converged: a second run plans nothing for what was fixed.
    let (again, out) = enforce(&moto.endpoint(), &dir, &["--now", &later(), "--apply"]);
    assert_eq!(out.status.code(), INCOMPLETE, "{again:#}");
    assert!(again["actions"].as_array().unwrap().is_empty(), "{again:#}");

    // Restore: the policy text comes back byte for byte.
    let out = restore(&moto.endpoint(), &dir, &id);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(state(&moto.endpoint())["mixed"]["policy"], texts["mixed"]);
    assert_eq!(journal_entry(&dir, &id)["status"], "restored");
    // Restoring twice is refused: the entry says it was restored.
    assert!(!restore(&moto.endpoint(), &dir, &id).status.success());
}

#[test]
fn delete_if_new_by_the_clock_refuses_images_and_needs_confirmation() {
    let moto = Moto::start();
    let texts: Value =
        serde_json::from_str(&seed_with("seed_enforce.py", &moto.endpoint(), &[])).unwrap();
    let dir = scratch("enforce-new", CONFIG);
    let before = state(&moto.endpoint());
    let now = now().to_string();

    // New repositories: deletions planned. Without --yes (and no terminal) nothing happens.
    let (_, out) = enforce(&moto.endpoint(), &dir, &["--now", &now, "--apply"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_eq!(
        state(&moto.endpoint()),
        before,
        "nothing changed without confirmation"
    );

    let (v, out) = enforce(&moto.endpoint(), &dir, &["--now", &now, "--apply", "--yes"]);
    assert_eq!(out.status.code(), INCOMPLETE, "{v:#}");
    let deleted = action_id(&v, "delete-repository", "mixed");
    assert_eq!(outcome_of(&v, &deleted)["status"], "applied");
    let images = action_id(&v, "delete-repository", "with-images");
    let refused = outcome_of(&v, &images);
    assert_eq!(refused["status"], "refused");
    assert!(refused["message"].as_str().unwrap().contains("1 image"));
    let after = state(&moto.endpoint());
    assert!(after.get("mixed").is_none() && after.get("only-public").is_none());
    assert_eq!(
        after["with-images"], before["with-images"],
        "refused: untouched"
    );
    assert_eq!(
        after["approved-mirror"], before["approved-mirror"],
        "approved: never deleted"
    );
    let entry = journal_entry(&dir, &deleted);
    assert_eq!(entry["backup"]["images"], serde_json::json!([]));

    // A deleted repository comes back empty, with its settings, tags and policy.
    let out = restore(&moto.endpoint(), &dir, &deleted);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("held no images"));
    assert_eq!(state(&moto.endpoint())["mixed"], before["mixed"]);

    // Allowed: the repository with an image goes, and its restore says what is lost.
    let dir = scratch(
        "enforce-images",
        &CONFIG.replace(
            "[enforce]\n",
            "[enforce]\nallow-delete-with-images = true\n",
        ),
    );
    let (v, _) = enforce(&moto.endpoint(), &dir, &["--now", &now, "--apply", "--yes"]);
    let id = action_id(&v, "delete-repository", "with-images");
    assert_eq!(outcome_of(&v, &id)["status"], "applied", "{v:#}");
    let backup = &journal_entry(&dir, &id)["backup"];
    assert_eq!(backup["images"][0]["tags"], serde_json::json!(["v1"]));
    assert!(
        backup["images"][0]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    let out = restore(&moto.endpoint(), &dir, &id);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("1 image(s) cannot be restored") && said.contains("sha256:"),
        "{said}"
    );
    let back = &state(&moto.endpoint())["with-images"];
    assert_eq!(back["policy"], texts["with-images"]);
    assert_eq!(back["tags"], before["with-images"]["tags"]);
    assert_eq!(back["images"], 0);
}

#[test]
fn a_change_between_plan_and_act_is_skipped() {
    let moto = Moto::start();
    seed_with("seed_enforce.py", &moto.endpoint(), &[]);
    let dir = scratch("enforce-drift", CONFIG);
    let endpoint = moto.endpoint();
    let drifted = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Changed","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}"#;
    let changed = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&changed);
    let moto_endpoint = endpoint.clone();
    // Just before ecrguard re-reads `mixed` to act, someone else changes its policy.
    let proxy = FaultProxy::start(
        moto.port,
        Box::new(move |target: &str, body: &str, _| {
            if target.ends_with(".DescribeRepositories")
                && body.contains("\"repositoryNames\":[\"mixed\"]")
                && !flag.swap(true, Ordering::SeqCst)
            {
                seed_with(
                    "state.py",
                    &moto_endpoint,
                    &["set-policy", "mixed", drifted],
                );
            }
            Fault::Forward
        }),
    );
    let (v, _) = enforce(&proxy.endpoint(), &dir, &["--now", &later(), "--apply"]);
    assert!(changed.load(Ordering::SeqCst), "the drift was injected");
    let id = action_id(&v, "remove-statements", "mixed");
    assert_eq!(outcome_of(&v, &id)["status"], "skipped-drift", "{v:#}");
    assert_eq!(
        state(&endpoint)["mixed"]["policy"],
        drifted,
        "left as someone set it"
    );
    // The others went ahead.
    let other = action_id(&v, "delete-policy", "only-public");
    assert_eq!(outcome_of(&v, &other)["status"], "applied");
}

/// Where a test keeps its journal.
#[derive(Clone, Copy, Debug)]
enum Store {
    Dir,
    /// A DynamoDB table on the same moto server, made as the deploy templates make it.
    Table,
}

const TABLE: &str = "ecrguard-journal";

impl Store {
    fn location(self, dir: &Path) -> String {
        match self {
            Store::Dir => dir.join("journal").display().to_string(),
            Store::Table => format!("dynamodb://{TABLE}"),
        }
    }

    fn prepare(self, endpoint: &str) {
        if let Store::Table = self {
            seed_with("journal_table.py", endpoint, &[TABLE, "create"]);
        }
    }

    /// Every entry, as written.
    fn entries(self, dir: &Path, endpoint: &str) -> Vec<Value> {
        match self {
            Store::Dir => std::fs::read_dir(dir.join("journal"))
                .unwrap()
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .map(|e| serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap())
                .collect(),
            Store::Table => {
                let items: Value = serde_json::from_str(&seed_with(
                    "journal_table.py",
                    endpoint,
                    &[TABLE, "dump"],
                ))
                .unwrap();
                items
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(id, item)| {
                        // The item's own attributes agree with the entry it holds.
                        assert_eq!(item["entry"]["id"], *id);
                        assert_eq!(item["status"], item["entry"]["status"]);
                        assert_eq!(
                            item["revision"].as_u64().unwrap() as usize,
                            item["entry"]["history"].as_array().unwrap().len()
                        );
                        item["entry"].clone()
                    })
                    .collect()
            }
        }
    }
}

/// A real kill (SIGKILL) in the middle of `--apply`, then a run to completion: every
/// repository converges, every backup holds its original text, and no change was sent twice.
#[test]
fn killed_mid_apply_then_rerun_converges_with_nothing_lost() {
    kill_then_converge(Store::Dir);
}

/// The same with the journal in DynamoDB, where a Lambda handler keeps it; then a restore
/// from the table, and a hostile item refused.
#[test]
fn a_dynamodb_journal_converges_after_a_kill_and_restores() {
    let (moto, dir, _) = kill_then_converge(Store::Table);
    let entries = Store::Table.entries(&dir, &moto.endpoint());
    let entry = &entries[0];
    let id = entry["id"].as_str().unwrap();
    let name = entry["action"]["target"]["name"].as_str().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecrguard"));
    cmd.arg("restore").arg(format!("dynamodb://{TABLE}/{id}"));
    aws_env(&mut cmd, &moto.endpoint());
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        state(&moto.endpoint())[name]["policy"],
        entry["backup"]["policy_text"],
        "restored byte for byte"
    );
    let after = Store::Table.entries(&dir, &moto.endpoint());
    let restored = after.iter().find(|e| e["id"] == id).unwrap();
    assert_eq!(restored["status"], "restored");
    // An item written by someone else, whose entry names another key: refused before any
    // call to ECR.
    let mut forged = entry.clone();
    forged["id"] = Value::from("forged-elsewhere");
    seed_with(
        "journal_table.py",
        &moto.endpoint(),
        &[TABLE, "put", "forged", &forged.to_string()],
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecrguard"));
    cmd.arg("restore").arg(format!("dynamodb://{TABLE}/forged"));
    aws_env(&mut cmd, &moto.endpoint());
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not its key"), "{err}");
    // A table that is not there stops a run before anything is read.
    let out = command_at(
        &moto.endpoint(),
        &dir,
        "dynamodb://no-such-table",
        &["--now", &later(), "--apply"],
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot open the journal `dynamodb://no-such-table`"),
        "{err}"
    );
}

fn kill_then_converge(store: Store) -> (Moto, PathBuf, Value) {
    const REPOS: usize = 24;
    let moto = Moto::start();
    let texts: Value = serde_json::from_str(&seed_with(
        "seed_enforce.py",
        &moto.endpoint(),
        &["bulk", &REPOS.to_string()],
    ))
    .unwrap();
    store.prepare(&moto.endpoint());
    let dir = scratch(&format!("enforce-kill-{store:?}"), CONFIG);
    let slow = Arc::new(AtomicBool::new(true));
    let sets = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::<
        String,
        usize,
    >::new()));
    let (slow_flag, counted) = (Arc::clone(&slow), Arc::clone(&sets));
    let proxy = FaultProxy::start(
        moto.port,
        Box::new(move |target: &str, body: &str, _| {
            if !target.ends_with(".SetRepositoryPolicy") {
                return Fault::Forward;
            }
            let name = body
                .split("\"repositoryName\":\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or("")
                .to_string();
            *counted.lock().unwrap().entry(name).or_insert(0) += 1;
            if slow_flag.load(Ordering::SeqCst) {
                Fault::Delay(300)
            } else {
                Fault::Forward
            }
        }),
    );
    let journal = store.location(&dir);
    let mut child = command_at(
        &proxy.endpoint(),
        &dir,
        &journal,
        &["--now", &later(), "--apply"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let started = || sets.lock().unwrap().len();
    while started() < 4 {
        assert!(Instant::now() < deadline, "the apply never started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let at_kill = store.entries(&dir, &moto.endpoint()).len();
    assert!(
        (1..REPOS).contains(&at_kill),
        "killed in the middle ({at_kill} of {REPOS})"
    );
    // Let a request the killed run had in flight land, as it would on AWS.
    std::thread::sleep(Duration::from_millis(400));

    slow.store(false, Ordering::SeqCst);
    let out = command_at(
        &proxy.endpoint(),
        &dir,
        &journal,
        &["--now", &later(), "--apply"],
    )
    .output()
    .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(
        out.status.code(),
        INCOMPLETE,
        "{v:#} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    moto_gaps_only(&v);
    let after = state(&moto.endpoint());
    for i in 0..REPOS {
        let name = format!("bulk-{i:03}");
        assert_eq!(
            statement_sids(&after[&name]["policy"]),
            ["Ci"],
            "{name} converged"
        );
    }
    let all = store.entries(&dir, &moto.endpoint());
    assert_eq!(all.len(), REPOS, "one entry per repository");
    for e in &all {
        let name = e["action"]["target"]["name"].as_str().unwrap();
        assert_eq!(e["status"], "applied", "{e:#}");
        assert_eq!(
            e["backup"]["policy_text"], texts[name],
            "{name}: the original text, never overwritten"
        );
    }
    {
        let sets = sets.lock().unwrap();
        assert_eq!(sets.len(), REPOS);
        assert!(
            sets.values().all(|n| *n == 1),
            "each change sent once: {sets:?}"
        );
    }
    if let Store::Dir = store {
        // No temporary file is left behind.
        assert!(
            std::fs::read_dir(dir.join("journal"))
                .unwrap()
                .filter_map(Result::ok)
                .all(|e| !e.file_name().to_string_lossy().ends_with(".tmp"))
        );
    }
    (moto, dir, v)
}

#[test]
fn an_invalid_enforce_config_stops_before_anything_is_read() {
    let dir = scratch(
        "enforce-config",
        "[enforce.tag-mutability]\nmode = \"enforce: delete-if-new\"\n",
    );
    // No moto at all: validation comes first, so the endpoint is never contacted.
    let (_, out) = enforce("http://127.0.0.1:9", &dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ecrguard.toml:2:") && err.contains("is not a mode of `tag-mutability`"),
        "{err}"
    );
}

/// The hygiene controls and the untrusted-policy control, each mode on moto: scan on push
/// turned on, a lifecycle policy put from the configured file, the untrusted account's
/// statement removed, and `skip` leaving mutable tags alone; then each restored.
#[test]
fn hygiene_and_untrusted_controls_act_and_restore() {
    let moto = Moto::start();
    let texts: Value = serde_json::from_str(&seed_with(
        "seed_enforce.py",
        &moto.endpoint(),
        &["hygiene"],
    ))
    .unwrap();
    let lifecycle = r#"{"rules":[{"rulePriority":1,"description":"expire untagged","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}"#;
    let dir = scratch(
        "enforce-hygiene",
        r#"
[enforce.untrusted-policy]
mode = "enforce: remove-statements"
[enforce.scan-on-push]
mode = "enforce: set-scan-on-push"
[enforce.lifecycle]
mode = "enforce: put-lifecycle-policy"
policy-file = "lifecycle.json"
[enforce.tag-mutability]
mode = "skip"
"#,
    );
    std::fs::write(dir.join("lifecycle.json"), lifecycle).unwrap();
    let before = state(&moto.endpoint());
    let (v, _) = enforce(&moto.endpoint(), &dir, &["--now", &later(), "--apply"]);
    assert_eq!(
        actions(&v),
        [
            ("put-lifecycle-policy".to_string(), "loose".to_string()),
            ("remove-statements".into(), "loose".into()),
            ("set-scan-on-push".into(), "loose".into()),
        ],
        "skip: no tag-mutability action, not even a report"
    );
    assert!(
        v["unchanged"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["rule"] != "ECR010"),
        "{v:#}"
    );
    for o in v["outcomes"].as_array().unwrap() {
        assert_eq!(o["status"], "applied", "{o}");
    }
    let after = &state(&moto.endpoint())["loose"];
    assert_eq!(after["scan_on_push"], true);
    assert_eq!(after["lifecycle"], lifecycle);
    assert_eq!(
        statement_sids(&after["policy"]),
        ["Ci"],
        "the untrusted account's grant is gone"
    );
    assert_eq!(after["mutability"], "MUTABLE");

    for kind in [
        "put-lifecycle-policy",
        "set-scan-on-push",
        "remove-statements",
    ] {
        let out = restore(&moto.endpoint(), &dir, &action_id(&v, kind, "loose"));
        assert!(
            out.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if kind == "set-scan-on-push" {
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("scan on push put back to false")
            );
        }
    }
    let mut restored = state(&moto.endpoint())["loose"].clone();
    assert_eq!(restored["policy"], texts["loose"], "byte for byte");
    assert_eq!(
        restored["lifecycle"],
        Value::Null,
        "the lifecycle policy ecrguard added is gone"
    );
    // moto divergence: the SDK sends `scanOnPush: false` as `{}` (smithy omits a default
    // boolean), which AWS reads as false and moto 5.2.5 ignores (`if image_scanning_
    // configuration:` in its model). The call and its message are checked above.
    assert_eq!(restored["scan_on_push"], true);
    restored["scan_on_push"] = before["loose"]["scan_on_push"].clone();
    assert_eq!(restored, before["loose"], "every other change undone");
}

/// On a terminal, a deletion is confirmed by typing `yes`; anything else changes nothing. The
/// terminal is a real pseudo-terminal from util-linux `script`, fed the answer.
#[test]
fn deletions_are_confirmed_on_a_terminal() {
    let moto = Moto::start();
    seed_with("seed_enforce.py", &moto.endpoint(), &[]);
    let before = state(&moto.endpoint());
    let now = now().to_string();
    let answer = |dir: &Path, typed: &str| -> String {
        let command = format!(
            "'{}' enforce --regions us-east-1 --config '{}' --journal '{}' --now {now} --apply",
            env!("CARGO_BIN_EXE_ecrguard"),
            dir.join("ecrguard.toml").display(),
            dir.join("journal").display(),
        );
        let mut cmd = Command::new("script");
        cmd.args(["-q", "-e", "-c", &command, "/dev/null"]);
        aws_env(&mut cmd, &moto.endpoint());
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(typed.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let dir = scratch("enforce-tty-no", CONFIG);
    let said = answer(&dir, "no\n");
    assert!(said.contains("type `yes` to go on"), "{said}");
    assert_eq!(state(&moto.endpoint()), before, "declined: nothing changed");
    let dir = scratch("enforce-tty-yes", CONFIG);
    let said = answer(&dir, "yes\n");
    assert!(said.contains("delete-repository"), "{said}");
    assert!(
        state(&moto.endpoint()).get("mixed").is_none(),
        "confirmed: deleted"
    );
}

/// `enforce` judges as `audit` does: a finding suppressed in the config (by repository glob,
/// by account) is an accepted risk and is not acted on; `ignore` keeps a rule out of the plan.
#[test]
fn suppressed_and_ignored_findings_are_not_acted_on() {
    let moto = Moto::start();
    seed_with("seed_enforce.py", &moto.endpoint(), &[]);
    let config = format!(
        "ignore = [\"ECR010\"]\n{CONFIG}\n[[suppress]]\nrule = \"ECR002\"\nrepository = \"only-*\"\n\
         reason = \"accepted\"\n\n[[suppress]]\nrule = \"repository-policy-public\"\n\
         account = \"123456789012\"\nrepository = \"with-images\"\nreason = \"accepted too\"\n"
    );
    let dir = scratch("enforce-suppressed", &config);
    let (plan, out) = enforce(&moto.endpoint(), &dir, &["--now", &later()]);
    assert_eq!(
        out.status.code(),
        INCOMPLETE,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        actions(&plan),
        [("remove-statements".to_string(), "mixed".to_string())],
        "only the finding neither suppressed nor ignored is acted on"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
