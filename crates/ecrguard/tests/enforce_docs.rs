//! The enforcement documents stay true to the code: the EventBridge rule pattern names every
//! event the handler takes (and only those), every event file written for the tests that the
//! handler accepts matches the pattern, and the enforcement IAM policy allows every ECR call
//! the write API makes.

use ecrguard_enforce::event::{
    PUBLIC_REPOSITORY_EVENTS, REGISTRY_EVENTS, REPOSITORY_EVENTS, parse_event,
};
use serde_json::Value;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
}

fn event_names(rule: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = rule["detail"]["eventName"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    names.sort_unstable();
    names
}

#[test]
fn the_eventbridge_patterns_match_the_handler() {
    let rule = json("docs/eventbridge-rule.json");
    let public = json("docs/eventbridge-rule-public.json");
    let mut handled: Vec<&str> = REPOSITORY_EVENTS
        .iter()
        .chain(REGISTRY_EVENTS)
        .copied()
        .collect();
    handled.sort_unstable();
    assert_eq!(event_names(&rule), handled);
    let mut handled_public = PUBLIC_REPOSITORY_EVENTS.to_vec();
    handled_public.sort_unstable();
    assert_eq!(event_names(&public), handled_public);
    let events = root().join("crates/ecrguard/tests/events");
    let mut accepted = 0;
    let mut accepted_public = 0;
    for entry in std::fs::read_dir(events).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if parse_event(&v).is_ok() {
            // Each accepted event matches the pattern of its source, and only that one.
            let pattern = if v["source"] == "aws.ecr-public" {
                accepted_public += 1;
                &public
            } else {
                accepted += 1;
                &rule
            };
            assert_eq!(v["source"], pattern["source"][0]);
            assert_eq!(v["detail-type"], pattern["detail-type"][0]);
            assert_eq!(
                v["detail"]["eventSource"],
                pattern["detail"]["eventSource"][0]
            );
            assert!(event_names(pattern).contains(&v["detail"]["eventName"].as_str().unwrap()));
            assert!(
                v["detail"].get("errorCode").is_none(),
                "the pattern drops failed calls"
            );
        }
    }
    assert!(accepted >= 3, "{accepted}");
    assert!(accepted_public >= 1, "{accepted_public}");
}

#[test]
fn the_enforcement_policy_allows_every_call_the_write_api_makes() {
    let policy = json("docs/enforce-iam-policy.json");
    let allowed: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap())
        .map(|a| a.as_str().unwrap())
        .collect();
    let api = std::fs::read_to_string(root().join("crates/ecrguard_aws/src/api.rs")).unwrap();
    let write_api = api
        .split("pub trait EcrWriteApi")
        .nth(1)
        .unwrap()
        .split("\n}\n")
        .next()
        .unwrap();
    let calls: Vec<String> = write_api
        .split("`ecr:")
        .skip(1)
        .map(|rest| {
            format!(
                "ecr:{}",
                rest.chars()
                    .take_while(char::is_ascii_alphabetic)
                    .collect::<String>()
            )
        })
        .collect();
    assert!(calls.len() >= 9, "{calls:?}");
    for call in &calls {
        assert!(
            allowed.contains(&call.as_str()),
            "{call} missing from docs/enforce-iam-policy.json"
        );
    }
}

/// `restore` of a file that is not a journal entry (not JSON, another version): a clear
/// error naming the file, exit 2, and no AWS call (the endpoint is a closed port).
#[test]
fn restore_refuses_what_is_not_a_journal_entry() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ecrguard-restore-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let forged = |id: &str, arn: &str| {
        serde_json::json!({
            "version": 1, "id": id, "status": "applied",
            "action": {
                "id": id,
                "target": {"arn": arn, "name": "victim", "account": "111111111111", "region": "us-east-1"},
                "controls": [], "rules": [], "reason": "r",
                "change": {"kind": "set-immutable", "before": "MUTABLE"}
            },
            "backup": null, "history": []
        })
        .to_string()
    };
    let own_arn = "arn:aws:ecr:us-east-1:111111111111:repository/victim";
    let other_arn = "arn:aws:ecr:us-east-1:999999999999:repository/other";
    let escape = forged("../../escape", own_arn);
    let foreign = forged("foreign", other_arn);
    for (name, text, needle) in [
        ("escape.json", escape.as_str(), "not an entry id"),
        ("foreign.json", foreign.as_str(), "does not name"),
        ("torn.json", "{\"version\": 1, \"id\"", "not JSON"),
        ("future.json", "{\"version\": 9}", "journal version"),
        (
            "other.json",
            "{\"version\": 1, \"id\": \"x\"}",
            "not a journal entry",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ecrguard"))
            .arg("restore")
            .arg(&path)
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(name) && err.contains(needle), "{name}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
