//! The AWS Lambda entry point (feature `lambda`): the binary runs it when Lambda starts it
//! (`AWS_LAMBDA_RUNTIME_API` is set). Each invocation is an EventBridge event or an SQS batch
//! of them, handled exactly as `ecrguard handle-event` handles a file, or a task of the
//! scheduled organization audit ([`tasks`]).
//!
//! Configuration, from the function's environment:
//! - `ECRGUARD_CONFIG`: path of `ecrguard.toml` in the deployment package (default
//!   `ecrguard.toml` beside the binary's working directory, if present);
//! - `ECRGUARD_APPLY=true` to change things (default: report only);
//! - `ECRGUARD_YES=true` to allow repository deletions;
//! - `ECRGUARD_JOURNAL`: the journal, `dynamodb://TABLE` (a table of the function's account and
//!   region, made by the deploy templates). A directory works too if it outlives the function
//!   (an EFS mount); `/tmp` is refused when applying, unless `ECRGUARD_JOURNAL_ALLOW_TMP=true`
//!   (local runs);
//! - `AWS_MAX_ATTEMPTS`: attempts per AWS call, 1 to 100 (default 5), as every AWS SDK reads
//!   it; any other value fails the invocation before a call is made.

mod tasks;

use crate::ExitStatus;
use crate::commands::handle_event::{Handling, handle_input};
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

/// The shapes an invocation can have; anything else is refused before any call is made.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Invocation {
    /// First: a task names itself (`"ecrguard": ...`) and has no other fields.
    Task(tasks::Task),
    Sqs(SqsEvent),
    EventBridge(Box<EventBridgeEvent<Value>>),
}

fn flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "true")
}

async fn invoke(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, _context) = event.into_parts();
    // For an SQS batch, each record's message id: a record that fails is returned to the
    // queue alone (a partial batch response), never the whole batch.
    let message_ids: Option<Vec<Option<String>>> =
        match serde_json::from_value::<Invocation>(payload.clone()) {
            Ok(Invocation::Task(task)) => return tasks::run(task).await,
            Ok(Invocation::Sqs(batch)) => {
                Some(batch.records.into_iter().map(|r| r.message_id).collect())
            }
            Ok(Invocation::EventBridge(e)) if e.source == "aws.ecr" => None,
            Ok(Invocation::EventBridge(e)) => {
                return Err(
                    format!("an EventBridge event from `{}`, not aws.ecr", e.source).into(),
                );
            }
            Err(_) => {
                return Err(
                    "the invocation is neither an EventBridge event nor an SQS batch".into(),
                );
            }
        };
    let records = message_ids.as_ref().map_or(1, Vec::len);
    let config_path = std::env::var_os("ECRGUARD_CONFIG").map(std::path::PathBuf::from);
    let run = crate::commands::resolve_run(
        config_path.as_deref(),
        std::path::Path::new("."),
        false,
        &ecrguard_engine::Flags::default(),
        ecrguard_rules::SourceKind::Aws,
    )?;
    let max_attempts = ecrguard_aws::sdk::max_attempts_from_env()?;
    // A central handler for an organization: the member role and the accounts it may act in.
    let members = crate::commands::handle_event::members(
        &crate::commands::handle_event::MemberSettings::from_env(),
        max_attempts,
    )
    .await?;
    let journal = if flag("ECRGUARD_APPLY") {
        let location = journal_location(
            std::env::var("ECRGUARD_JOURNAL").ok().as_deref(),
            flag("ECRGUARD_JOURNAL_ALLOW_TMP"),
        )?;
        Some(crate::commands::act::open_journal(&location, None, max_attempts).await?)
    } else {
        None
    };
    // Each record's outcome goes to the function's log as it is handled: an invocation that
    // times out half way still leaves what it did.
    let mut log = |chunk: &str| {
        use std::io::Write as _;
        let _ = std::io::stderr().write_all(chunk.as_bytes());
    };
    let (report, status) = handle_input(
        &payload.to_string(),
        &mut log,
        &Handling {
            profile: None,
            run: &run,
            members: members.as_ref(),
            journal: journal.as_ref(),
            destructive_confirmed: flag("ECRGUARD_YES"),
            now: crate::commands::act::now(None)?,
            json: true,
            max_attempts,
        },
    )
    .await;
    let mut report: Value = serde_json::from_str(&report)?;
    report["records"] = Value::from(records);
    match message_ids {
        Some(ids) if report.get("error").is_none() => {
            let failures = batch_item_failures(&report, &ids)?;
            report["batchItemFailures"] = Value::from(failures);
            Ok(report)
        }
        // A whole invocation that failed (one event, or a batch that could not be read):
        // Lambda retries it, or sends it to the dead-letter queue.
        _ if status == ExitStatus::Error => Err(format!("ecrguard: {report}").into()),
        _ => Ok(report),
    }
}

/// The SQS records to return to the queue: each whose event was malformed or refused, whose
/// change failed, or whose evaluation could not read everything it needed (an unread setting
/// is never taken as a clean one). SQS redelivers them (a transient failure heals), and
/// after the queue's `maxReceiveCount` moves them to the dead-letter queue.
fn batch_item_failures(report: &Value, ids: &[Option<String>]) -> Result<Vec<Value>, Error> {
    let mut failures = Vec::new();
    for item in report["events"].as_array().into_iter().flatten() {
        let failed = item.get("error").is_some()
            || item["errors"].as_array().is_some_and(|e| !e.is_empty())
            || item["outcomes"]
                .as_array()
                .is_some_and(|o| o.iter().any(|o| o["status"] == "failed"));
        if !failed {
            continue;
        }
        let index = item["index"].as_u64().and_then(|i| usize::try_from(i).ok());
        match index.and_then(|i| ids.get(i)).and_then(Option::as_deref) {
            Some(id) => failures.push(serde_json::json!({ "itemIdentifier": id })),
            // Without its message id a record cannot be returned alone: the whole batch is.
            None => {
                return Err(
                    format!("ecrguard: a failed SQS record has no messageId: {report}").into(),
                );
            }
        }
    }
    Ok(failures)
}

/// The journal of an applying function: a DynamoDB table, or a directory that outlives it. Lambda's `/tmp` goes away with the
/// execution environment, and the backups with it: refused, unless explicitly allowed
/// (`ECRGUARD_JOURNAL_ALLOW_TMP=true`, for local runs such as `sam local` or tests).
fn journal_location(configured: Option<&str>, allow_tmp: bool) -> Result<String, String> {
    let location = configured.ok_or(
        "ECRGUARD_APPLY needs ECRGUARD_JOURNAL (dynamodb://TABLE, or a directory on an EFS mount)",
    )?;
    let under_tmp =
        !location.starts_with("dynamodb://") && std::path::Path::new(location).starts_with("/tmp");
    if under_tmp && !allow_tmp {
        return Err(
            "ECRGUARD_JOURNAL under /tmp would be lost with the function: use dynamodb://TABLE"
                .into(),
        );
    }
    Ok(location.to_string())
}

/// Serves invocations until Lambda stops the process.
pub(crate) fn run() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(_) => return std::process::ExitCode::from(2),
    };
    match runtime.block_on(lambda_runtime::run(service_fn(invoke))) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(_) => std::process::ExitCode::from(2),
    }
}

#[cfg(test)]
mod tests {
    use super::{batch_item_failures, journal_location};
    use serde_json::json;

    #[test]
    fn only_the_records_that_failed_go_back_to_the_queue() {
        let report = json!({"events": [
            {"index": 0, "outcomes": [{"status": "applied"}], "errors": []},
            {"index": 1, "error": "SQS record 1: the body is not JSON"},
            {"index": 2, "outcomes": [{"status": "failed"}], "errors": []},
            {"index": 3, "outcomes": [], "errors": ["ecr:GetRepositoryPolicy: throttled"]},
            {"index": 4, "outcomes": [{"status": "skipped-drift"}], "errors": []},
        ]});
        let ids: Vec<Option<String>> = (0..5).map(|i| Some(format!("m{i}"))).collect();
        let failed = batch_item_failures(&report, &ids).unwrap();
        assert_eq!(
            failed,
            [
                json!({"itemIdentifier": "m1"}),
                json!({"itemIdentifier": "m2"}),
                json!({"itemIdentifier": "m3"}),
            ]
        );
        // A failed record without a message id cannot go back alone: the batch fails.
        let mut ids = ids;
        ids[2] = None;
        assert!(batch_item_failures(&report, &ids).is_err());
    }

    #[test]
    fn the_journal_must_outlive_the_function() {
        assert!(
            journal_location(None, false)
                .unwrap_err()
                .contains("needs ECRGUARD_JOURNAL")
        );
        assert!(
            journal_location(Some("/tmp/journal"), false)
                .unwrap_err()
                .contains("dynamodb://")
        );
        assert!(journal_location(Some("/tmp"), false).is_err());
        assert_eq!(
            journal_location(Some("/tmp/journal"), true).unwrap(),
            "/tmp/journal"
        );
        assert_eq!(
            journal_location(Some("dynamodb://ecrguard-journal"), false).unwrap(),
            "dynamodb://ecrguard-journal"
        );
        assert_eq!(
            journal_location(Some("/mnt/ecrguard"), false).unwrap(),
            "/mnt/ecrguard"
        );
        assert!(
            journal_location(Some("/tmpfs/x"), false).is_ok(),
            "a path component, not a prefix"
        );
    }
}
