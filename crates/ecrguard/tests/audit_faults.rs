//! Faults AWS really produces, injected by a loopback proxy between `ecrguard audit` and
//! moto: throttling, 500, 503, a reset connection, a response that never comes, and
//! AccessDenied. The audit must finish within its timeouts, recover what a retry recovers,
//! and report the rest as errors, never as "no policy".

mod support;

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::fault_proxy::{Fault, FaultProxy};
use support::moto::{Moto, aws_env, is_moto_registry_gap, seed};

fn fault_for(target: &str, body: &str, attempt: usize) -> Fault {
    if body.contains("Action=GetAccountAuthorizationDetails") {
        return Fault::XmlError(403, "AccessDenied");
    }
    if !target.ends_with(".GetRepositoryPolicy") {
        return Fault::Forward;
    }
    let named = |n: &str| body.contains(&format!("\"repositoryName\":\"{n}\""));
    if named("fault-throttle") {
        Fault::Error(400, "ThrottlingException")
    } else if named("fault-500") {
        Fault::Error(500, "ServerException")
    } else if named("fault-503") {
        Fault::Error(503, "ServiceUnavailableException")
    } else if named("fault-reset") {
        Fault::Reset
    } else if named("fault-hang") {
        Fault::Hang
    } else if named("fault-endless") {
        Fault::Endless
    } else if named("fault-huge") {
        Fault::HugeLength
    } else if named("fault-denied") {
        Fault::Error(400, "AccessDeniedException")
    } else if named("fault-flaky") && attempt == 0 {
        Fault::Error(503, "ServiceUnavailableException")
    } else {
        Fault::Forward
    }
}

#[test]
fn faults_become_errors_and_retries_recover() {
    let moto = Moto::start();
    seed("seed_faults.py", &moto.endpoint());
    let proxy = FaultProxy::start(moto.port, Box::new(fault_for));

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecrguard"));
    cmd.args([
        "audit",
        "--regions",
        "us-east-1,eu-west-1",
        "--format",
        "json",
        "--max-attempts",
        "3",
        "--connect-timeout",
        "2",
        "--read-timeout",
        "2",
        "--operation-timeout",
        // Generous: the adaptive rate limiter slows the whole region after throttling, and a
        // loaded CI machine must not turn "throttled" into "timed out".
        "60",
    ]);
    aws_env(&mut cmd, &proxy.endpoint());
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A guard against a hung audit, not a speed target: the timeouts above bound the run to
    // well under a minute; two mean they were not applied.
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("audit hung past its timeouts");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&out.stderr)));

    // As the text report shows them: the ARN a call was about, then the message.
    let errors: Vec<String> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let m = e["message"].as_str().unwrap();
            e["arn"]
                .as_str()
                .map_or_else(|| m.to_string(), |arn| format!("{arn}: {m}"))
        })
        .collect();
    let error_for = |repo: &str| -> String {
        let hits: Vec<&String> = errors
            .iter()
            .filter(|m| m.contains(&format!("/{repo}: ecr:GetRepositoryPolicy ")))
            .collect();
        assert_eq!(hits.len(), 1, "one error for {repo}: {errors:#?}");
        hits[0].clone()
    };
    assert!(
        error_for("fault-throttle").contains("[throttled, ThrottlingException]"),
        "{errors:#?}"
    );
    assert!(error_for("fault-500").contains("[server-error"));
    assert!(error_for("fault-503").contains("[server-error"));
    assert!(error_for("fault-hang").contains("[timeout"), "{errors:#?}");
    error_for("fault-reset");
    // A response body past the limit: an error for that call, not an audit out of memory.
    assert!(error_for("fault-endless").contains("limit"), "{errors:#?}");
    assert!(error_for("fault-huge").contains("limit"), "{errors:#?}");
    assert!(error_for("fault-denied").contains("[access-denied, AccessDeniedException]"));
    assert!(
        errors
            .iter()
            .any(|m| m.starts_with("missing permission: `ecr:GetRepositoryPolicy`")),
        "{errors:#?}"
    );
    // IAM denied: listed with the action to grant, and no identity is judged.
    assert!(
        errors.iter().any(|m| m.starts_with(
            "arn:aws:iam::123456789012:root: iam:GetAccountAuthorizationDetails (global)"
        ) && m.contains("[access-denied, AccessDenied]")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|m| m.starts_with("missing permission: `iam:GetAccountAuthorizationDetails`")),
        "{errors:#?}"
    );
    // moto does not implement creation templates nor pull-through cache rules (HTML 500):
    // errors, not "none".
    for m in errors.iter().filter(|m| {
        !m.contains(": iam:") && !is_moto_registry_gap(m) && !m.contains(": ecr-public:")
    }) {
        assert!(
            m.contains(":123456789012:repository/fault-") || m.starts_with("missing permission"),
            "{m}"
        );
        assert!(
            !m.contains("fault-flaky"),
            "a retry recovers the flaky call: {m}"
        );
    }

    let rules_on = |repo: &str| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["resource"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/{repo}"))
            })
            .map(|f| f["rule_id"].as_str().unwrap().to_string())
            .collect()
    };
    for repo in [
        "fault-throttle",
        "fault-500",
        "fault-503",
        "fault-reset",
        "fault-hang",
        "fault-denied",
        "fault-endless",
        "fault-huge",
    ] {
        let rules = rules_on(repo);
        assert!(
            !rules.iter().any(|r| r == "ECR001" || r == "ECR002"),
            "unknown policy judged for {repo}: {rules:?}"
        );
    }
    assert!(rules_on("fault-flaky").contains(&"ECR002".to_string()));
    assert_eq!(
        out.status.code(),
        Some(2),
        "errors make the result incomplete"
    );
}
