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
use support::fault_proxy::{Fault, FaultProxy};
use support::moto::{Moto, aws_env, is_moto_registry_gap, seed_with};

/// Serves `events` as invocations, one after the other (request ids `req-0`, `req-1`...),
/// then holds every later `next` call open. Sends each answer down the channel: the request
/// id, `response` or `error`, and the body.
fn runtime_api(events: Vec<String>) -> (u16, mpsc::Receiver<(String, String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    let events = std::sync::Arc::new(events);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    std::thread::spawn(move || {
        // A thread per connection, several requests per connection: the runtime client keeps
        // connections alive and may hold one idle while it uses another.
        for stream in listener.incoming().flatten() {
            let (events, next, tx) = (events.clone(), next.clone(), tx.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
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
                    if request_line.starts_with("GET /2018-06-01/runtime/invocation/next") {
                        let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(event) = events.get(n) else {
                            // Lambda would freeze the process here; the test kills it instead.
                            std::thread::sleep(Duration::from_secs(600));
                            return;
                        };
                        let _ = write!(
                            stream,
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: req-{n}\r\nLambda-Runtime-Deadline-Ms: 9999999999999\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:ecrguard\r\nLambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793\r\nContent-Length: {}\r\n\r\n{event}",
                            event.len()
                        );
                    } else {
                        // POST /2018-06-01/runtime/invocation/<id>/response (or /error)
                        let id = request_line
                            .split("/invocation/")
                            .nth(1)
                            .and_then(|r| r.split('/').next())
                            .unwrap_or("")
                            .to_string();
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
                            id,
                            kind.to_string(),
                            String::from_utf8_lossy(&body).into_owned(),
                        ));
                    }
                }
            });
        }
    });
    (port, rx)
}

/// The function's process, started as Lambda starts it.
fn function(moto: &str, runtime_port: u16, dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecrguard"));
    aws_env(&mut cmd, moto);
    cmd.env(
        "AWS_LAMBDA_RUNTIME_API",
        format!("127.0.0.1:{runtime_port}"),
    )
    .env("AWS_LAMBDA_FUNCTION_NAME", "ecrguard")
    .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
    .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/ecrguard")
    .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/24/[$LATEST]0")
    .env("ECRGUARD_CONFIG", dir.join("ecrguard.toml"))
    .env("ECRGUARD_APPLY", "true")
    .env("ECRGUARD_JOURNAL", "dynamodb://ecrguard-journal");
    cmd
}

/// The SQS batch of tests/events.
fn sqs_batch() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/events/sqs-batch.json"),
    )
    .unwrap()
}

/// Serves `event` as the one invocation to the function `start` makes for the Runtime API's
/// port, and returns its answer (request id, `response` or `error`, body).
fn invoke_once(event: String, start: impl FnOnce(u16) -> Command) -> (String, String, String) {
    let (port, responses) = runtime_api(vec![event]);
    let mut child = start(port)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let answer = responses.recv_timeout(Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    answer.expect("the function answered")
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ecrguard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("ecrguard.toml"),
        "[enforce.public-policy]\nmode = \"enforce: remove-statements\"\n",
    )
    .unwrap();
    dir
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
    let dir = scratch("lambda");
    let batch = sqs_batch();
    // The first record is good, the second broken: only the second goes back to the queue
    // (SQS retries it, then dead-letters it).
    let (_, kind, body) = invoke_once(batch.clone(), |port| function(&moto.endpoint(), port, &dir));
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

/// 1,000 CloudTrail events through the function in SQS batches of 10, 1% of the records
/// malformed, ten events for each of 99 public repositories: each repository is fixed exactly
/// once (later events find it fixed), each bad record and only it goes back to the queue,
/// the journal holds one entry per change, and every record's result is logged as it is
/// handled.
#[test]
fn a_thousand_events_in_batches_of_ten_each_acted_on_once() {
    const REPOS: usize = 99;
    const RECORDS: usize = 1000;
    let moto = Moto::start();
    seed_with(
        "seed_enforce.py",
        &moto.endpoint(),
        &["bulk", &REPOS.to_string()],
    );
    seed_with(
        "journal_table.py",
        &moto.endpoint(),
        &["ecrguard-journal", "create"],
    );
    let changes = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::<
        String,
        usize,
    >::new()));
    let counted = std::sync::Arc::clone(&changes);
    let registry = std::sync::Arc::new(std::sync::Mutex::new(0usize));
    let registry_reads = std::sync::Arc::clone(&registry);
    // moto lacks these two registry reads: answered as ECR answers a registry with none, so
    // that every good record is complete and only the bad ones go back to the queue.
    let proxy = FaultProxy::start(
        moto.port,
        Box::new(move |target: &str, body: &str, _| {
            if target.ends_with(".GetRegistryPolicy") {
                *registry_reads.lock().unwrap() += 1;
            }
            if target.ends_with(".DescribePullThroughCacheRules") {
                return Fault::Answer(r#"{"pullThroughCacheRules":[]}"#);
            }
            if target.ends_with(".DescribeRepositoryCreationTemplates") {
                return Fault::Answer(
                    r#"{"registryId":"123456789012","repositoryCreationTemplates":[]}"#,
                );
            }
            if target.ends_with(".SetRepositoryPolicy")
                || target.ends_with(".DeleteRepositoryPolicy")
            {
                let name = body
                    .split("\"repositoryName\":\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .unwrap_or("")
                    .to_string();
                *counted.lock().unwrap().entry(name).or_insert(0) += 1;
            }
            Fault::Forward
        }),
    );
    let template: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/events/set-repository-policy.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut records = Vec::new();
    let mut bad = std::collections::BTreeSet::new();
    for i in 0..RECORDS {
        let id = format!("m-{i:04}");
        let body = if i % 100 == 37 {
            bad.insert(id.clone());
            // Broken in the ways a queue can hold: cut JSON, another source, no detail.
            match i / 100 % 3 {
                0 => "{\"version\":\"0\",\"source\":\"aws.ecr\"".to_string(),
                1 => serde_json::json!({"source": "aws.s3", "detail-type": "x", "detail": {}}).to_string(),
                _ => serde_json::json!({"version": "0", "source": "aws.ecr", "account": "123456789012"}).to_string(),
            }
        } else {
            let mut e = template.clone();
            e["id"] = Value::from(format!("event-{i}"));
            e["detail"]["eventID"] = Value::from(format!("event-{i}"));
            e["detail"]["requestParameters"]["repositoryName"] =
                Value::from(format!("bulk-{:03}", i % REPOS));
            e.to_string()
        };
        records.push(serde_json::json!({
            "messageId": id,
            "receiptHandle": format!("handle-{i}"),
            "body": body,
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ecrguard-events",
            "awsRegion": "us-east-1"
        }));
    }
    let batches: Vec<String> = records
        .chunks(10)
        .map(|c| serde_json::json!({ "Records": c }).to_string())
        .collect();
    let invocations = batches.len();
    let dir = scratch("lambda-load");
    let (port, responses) = runtime_api(batches);
    let log = std::fs::File::create(dir.join("function.log")).unwrap();
    let mut child = function(&proxy.endpoint(), port, &dir)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let mut answers = Vec::new();
    for _ in 0..invocations {
        match responses.recv_timeout(Duration::from_secs(120)) {
            Ok(a) => answers.push(a),
            Err(e) => {
                let _ = child.kill();
                panic!("{} of {invocations} answered: {e}", answers.len());
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    // The time it took, for a reader of the test log (the target lives in bench/, not here).
    #[allow(clippy::print_stderr)]
    let () = eprintln!(
        "{RECORDS} records in {invocations} invocations: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    answers.sort_by_key(|(id, _, _)| id[4..].parse::<usize>().unwrap());

    // A batch reads its registry once, not once per event.
    assert_eq!(*registry.lock().unwrap(), invocations);
    let mut returned = std::collections::BTreeSet::new();
    let mut applied = 0;
    for (n, (id, kind, body)) in answers.iter().enumerate() {
        assert_eq!(id, &format!("req-{n}"), "answered in order");
        assert_eq!(kind, "response", "a batch never fails whole: {body}");
        let report: Value = serde_json::from_str(body).unwrap();
        assert_eq!(report["records"], 10);
        let events = report["events"].as_array().unwrap();
        assert_eq!(events.len(), 10, "a result per record");
        for f in report["batchItemFailures"].as_array().unwrap() {
            returned.insert(f["itemIdentifier"].as_str().unwrap().to_string());
        }
        for e in events {
            for o in e["outcomes"].as_array().into_iter().flatten() {
                assert_ne!(o["status"], "failed", "{e:#}");
                if o["status"] == "applied"
                    && !o["message"].as_str().unwrap().starts_with("already")
                {
                    applied += 1;
                }
            }
        }
    }
    assert_eq!(
        returned, bad,
        "exactly the malformed records go back to the queue"
    );
    // Each repository changed once: the first event fixes it, the other nine find it fixed.
    let changes = changes.lock().unwrap();
    assert_eq!(changes.len(), REPOS);
    assert!(changes.values().all(|n| *n == 1), "{changes:?}");
    assert_eq!(applied, REPOS);
    let state: Value = serde_json::from_str(&seed_with("state.py", &moto.endpoint(), &[])).unwrap();
    for i in 0..REPOS {
        let policy = state[format!("bulk-{i:03}")]["policy"].as_str().unwrap();
        assert!(!policy.contains("Everyone"), "bulk-{i:03}: {policy}");
    }
    let journal: Value = serde_json::from_str(&seed_with(
        "journal_table.py",
        &moto.endpoint(),
        &["ecrguard-journal", "dump"],
    ))
    .unwrap();
    let entries = journal.as_object().unwrap();
    assert_eq!(entries.len(), REPOS, "one journal entry per change");
    assert!(entries.values().all(|e| e["status"] == "applied"));
    // Each record's result was logged as it was handled, not only at the end.
    let logged = std::fs::read_to_string(dir.join("function.log")).unwrap();
    let lines = logged.lines().filter(|l| l.starts_with("event ")).count();
    assert_eq!(lines, RECORDS, "{logged}");
}

/// The scheduled organization audit: the tasks a Step Functions Distributed Map runs (list the
/// accounts to S3, then audit one account per invocation) and the single-invocation audit of
/// a schedule, each report in S3, through the audit role of each account of a moto
/// organization.
#[test]
fn scheduled_audit_tasks_write_their_reports_to_s3() {
    let moto = Moto::start();
    let seeded = seed_with("seed_org.py", &moto.endpoint(), &[]);
    let mut parts = seeded.split_whitespace();
    let (org_id, member) = (
        parts.next().unwrap().to_string(),
        parts.next().unwrap().to_string(),
    );
    seed_with("s3.py", &moto.endpoint(), &["create", "ecrguard-reports"]);
    let dir = scratch("lambda-audit");
    let tasks = vec![
        r#"{"ecrguard": "list-accounts", "run": "exec-1"}"#.to_string(),
        format!(r#"{{"ecrguard": "audit", "accounts": ["{member}"], "run": "exec-1"}}"#),
        r#"{"ecrguard": "audit"}"#.to_string(),
        // Not a task: an unknown field, a key that would leave the folder.
        r#"{"ecrguard": "audit", "bucket": "elsewhere"}"#.to_string(),
        r#"{"ecrguard": "audit", "run": "../../x"}"#.to_string(),
    ];
    let count = tasks.len();
    let (port, responses) = runtime_api(tasks);
    let mut child = function(&moto.endpoint(), port, &dir)
        .env_remove("ECRGUARD_APPLY")
        .env("ECRGUARD_ORG_ROLE", "ecrguard-audit")
        .env("ECRGUARD_REGIONS", "us-east-1")
        .env("ECRGUARD_REPORT_BUCKET", "ecrguard-reports")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut answers: Vec<(String, String, String)> = (0..count)
        .map(|_| {
            responses
                .recv_timeout(Duration::from_secs(120))
                .expect("answered")
        })
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    answers.sort_by_key(|(id, _, _)| id[4..].parse::<usize>().unwrap());
    let ok = |i: usize| -> Value {
        let (_, kind, body) = &answers[i];
        assert_eq!(kind, "response", "{body}");
        serde_json::from_str(body).unwrap()
    };
    let s3 = |args: &[&str]| seed_with("s3.py", &moto.endpoint(), args);

    let listed = ok(0);
    assert_eq!(listed["organization"], org_id.as_str());
    assert_eq!(listed["key"], "ecrguard/exec-1/accounts.json");
    let items: Value = serde_json::from_str(&s3(&[
        "get",
        "ecrguard-reports",
        "ecrguard/exec-1/accounts.json",
    ]))
    .unwrap();
    let ids: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["account"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&member.as_str()) && ids.contains(&"123456789012"),
        "{ids:?}"
    );
    assert_eq!(listed["accounts"], ids.len());

    // One account per invocation: its report only.
    let one = ok(1);
    let key = format!("ecrguard/exec-1/{member}.json");
    assert_eq!(one["report"], format!("s3://ecrguard-reports/{key}"));
    let report: Value = serde_json::from_str(&s3(&["get", "ecrguard-reports", &key])).unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(one["summary"], report["summary"]);
    let resources: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["resource"].as_str())
        .collect();
    assert!(
        resources.iter().all(|r| !r.contains(":123456789012:")),
        "{resources:?}"
    );
    assert!(resources.iter().any(|r| r.contains(&member)), "{report:#}");

    // A schedule's single invocation: the whole organization, in a folder of its start time.
    let all = ok(2);
    let location = all["report"].as_str().unwrap();
    assert!(location.ends_with("/organization.json"), "{location}");
    let key = location.strip_prefix("s3://ecrguard-reports/").unwrap();
    let report: Value = serde_json::from_str(&s3(&["get", "ecrguard-reports", key])).unwrap();
    let accounts_seen: std::collections::BTreeSet<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["resource"].as_str())
        .filter_map(|r| r.split(':').nth(4).map(str::to_string))
        .collect();
    assert!(accounts_seen.contains(&member), "{accounts_seen:?}");

    // Refused, nothing written.
    for i in [3, 4] {
        let (_, kind, body) = &answers[i];
        assert_eq!(kind, "error", "{body}");
    }
    let keys = s3(&["list", "ecrguard-reports"]);
    assert_eq!(keys.lines().count(), 3, "{keys}");
    assert!(!keys.contains(".."), "{keys}");
}

/// `AWS_MAX_ATTEMPTS` set to what is not a number of attempts fails the invocation with the
/// reason, before any call (AWS is a closed port here).
#[test]
fn a_bad_aws_max_attempts_fails_the_invocation_before_any_call() {
    let dir = scratch("lambda-attempts");
    let (id, kind, body) = invoke_once(sqs_batch(), |port| {
        let mut cmd = function("http://127.0.0.1:9", port, &dir);
        cmd.env("AWS_MAX_ATTEMPTS", "0");
        cmd
    });
    assert_eq!(id, "req-0");
    assert_eq!(kind, "error", "{body}");
    assert!(
        body.contains("AWS_MAX_ATTEMPTS: `0` is not a number of attempts from 1 to 100"),
        "{body}"
    );
}
