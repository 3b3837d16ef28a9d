//! The Lambda entry point (feature `lambda`) end to end: the real binary, started the way
//! Lambda starts it, talks to a Lambda Runtime API on loopback (the documented
//! `/2018-06-01/runtime/invocation/...` interface, served here) and to moto for AWS. One
//! invocation carries the SQS batch from tests/events; the response must be the same report
//! `handle-event` gives, with the broken record returned to the queue alone (a partial batch
//! response), the repository fixed, and its backup in a DynamoDB journal table.
#![cfg(feature = "lambda")]

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::moto::{Moto, aws_env, is_moto_registry_gap, seed_with};

/// Serves one invocation of `event`, then holds every later `next` call open. Sends the
/// function's response (or error) body down the channel.
fn runtime_api(event: String) -> (u16, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut served = false;
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let mut stream = stream;
            if request_line.starts_with("GET /2018-06-01/runtime/invocation/next") {
                if served {
                    // Lambda would freeze the process here; the test kills it instead.
                    std::thread::sleep(Duration::from_secs(600));
                    continue;
                }
                served = true;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: req-1\r\nLambda-Runtime-Deadline-Ms: 9999999999999\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:ecrguard\r\nLambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793\r\nContent-Length: {}\r\n\r\n{event}",
                    event.len()
                );
            } else {
                let kind = if request_line.contains("/error") {
                    "error"
                } else {
                    "response"
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{{}}"
                );
                let _ = tx.send((
                    kind.to_string(),
                    String::from_utf8_lossy(&body).into_owned(),
                ));
            }
        }
    });
    (port, rx)
}

#[test]
fn the_lambda_entry_point_handles_an_sqs_batch_like_handle_event() {
    let moto = Moto::start();
    seed_with("seed_enforce.py", &moto.endpoint(), &[]);
    seed_with(
        "journal_table.py",
        &moto.endpoint(),
        &["ecrguard-journal", "create"],
    );
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ecrguard-lambda-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("ecrguard.toml"),
        "[enforce.public-policy]\nmode = \"enforce: remove-statements\"\n",
    )
    .unwrap();
    let batch = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/events/sqs-batch.json"),
    )
    .unwrap();
    // The first record is good, the second broken: only the second goes back to the queue
    // (SQS retries it, then dead-letters it).
    let (port, responses) = runtime_api(batch.clone());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecrguard"));
    aws_env(&mut cmd, &moto.endpoint());
    cmd.env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "ecrguard")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/ecrguard")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/24/[$LATEST]0")
        .env("ECRGUARD_CONFIG", dir.join("ecrguard.toml"))
        .env("ECRGUARD_APPLY", "true")
        .env("ECRGUARD_JOURNAL", "dynamodb://ecrguard-journal")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let answer = responses.recv_timeout(Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    let (kind, body) = answer.expect("the function answered");
    assert_eq!(kind, "response", "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<Value> = serde_json::from_str::<Value>(&batch).unwrap()["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| serde_json::json!({ "itemIdentifier": r["messageId"] }))
        .collect();
    // The broken record goes back to the queue. So does the good one, here only because
    // moto lacks two registry calls: an evaluation that could not read everything is
    // retried (and, if it never heals, dead-lettered), never taken as complete.
    let good = &report["events"][0];
    assert_eq!(good["outcomes"][0]["status"], "applied", "{report:#}");
    let errors = good["errors"].as_array().unwrap();
    let gaps_only = !errors.is_empty()
        && errors
            .iter()
            .all(|e| is_moto_registry_gap(e.as_str().unwrap()));
    let expected = if gaps_only {
        ids.clone()
    } else {
        vec![ids[1].clone()]
    };
    assert_eq!(
        report["batchItemFailures"],
        Value::from(expected),
        "{report:#}"
    );
    assert!(
        report["events"][1]["error"]
            .as_str()
            .unwrap()
            .contains("SQS record 1: the body is not JSON"),
        "{report:#}"
    );
    // The good record was applied, its backup first.
    let state: Value = serde_json::from_str(&seed_with("state.py", &moto.endpoint(), &[])).unwrap();
    let policy: Value = serde_json::from_str(state["mixed"]["policy"].as_str().unwrap()).unwrap();
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 1);
    let journal: Value = serde_json::from_str(&seed_with(
        "journal_table.py",
        &moto.endpoint(),
        &["ecrguard-journal", "dump"],
    ))
    .unwrap();
    let entries: Vec<&Value> = journal.as_object().unwrap().values().collect();
    assert_eq!(entries.len(), 1, "backed up: {journal:#}");
    assert_eq!(entries[0]["status"], "applied");
    assert_eq!(entries[0]["entry"]["action"]["target"]["name"], "mixed");
    assert!(entries[0]["entry"]["backup"]["policy_text"].is_string());
}
