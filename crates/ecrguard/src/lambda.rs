//! The AWS Lambda entry point (feature `lambda`): the binary runs it when Lambda starts it
//! (`AWS_LAMBDA_RUNTIME_API` is set). Each invocation is an EventBridge event or an SQS batch
//! of them, handled exactly as `ecrguard handle-event` handles a file.
//!
//! Configuration, from the function's environment:
//! - `ECRGUARD_CONFIG`: path of `ecrguard.toml` in the deployment package (default
//!   `ecrguard.toml` beside the binary's working directory, if present);
//! - `ECRGUARD_APPLY=true` to change things (default: report only);
//! - `ECRGUARD_YES=true` to allow repository deletions;
//! - `ECRGUARD_JOURNAL`: the journal directory. It must outlive the function: mount an EFS
//!   access point (`/mnt/ecrguard-journal`); `/tmp` is refused when applying, unless
//!   `ECRGUARD_JOURNAL_ALLOW_TMP=true` (local runs).

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
    Sqs(SqsEvent),
    EventBridge(Box<EventBridgeEvent<Value>>),
}

fn flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "true")
}

async fn invoke(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, _context) = event.into_parts();
    let records = match serde_json::from_value::<Invocation>(payload.clone()) {
        Ok(Invocation::Sqs(batch)) => batch.records.len(),
        Ok(Invocation::EventBridge(e)) if e.source == "aws.ecr" => 1,
        Ok(Invocation::EventBridge(e)) => {
            return Err(format!("an EventBridge event from `{}`, not aws.ecr", e.source).into());
        }
        Err(_) => {
            return Err("the invocation is neither an EventBridge event nor an SQS batch".into());
        }
    };
    let config_path = std::env::var_os("ECRGUARD_CONFIG").map(std::path::PathBuf::from);
    let run = crate::commands::resolve_run(
        config_path.as_deref(),
        std::path::Path::new("."),
        false,
        &ecrguard_engine::Flags::default(),
        ecrguard_rules::SourceKind::Aws,
    )?;
    // A central handler for an organization: the member role and the accounts it may act in.
    let members = crate::commands::handle_event::members(
        &crate::commands::handle_event::MemberSettings::from_env(),
    )
    .await?;
    let journal = if flag("ECRGUARD_APPLY") {
        let dir = journal_dir(
            std::env::var("ECRGUARD_JOURNAL").ok().as_deref(),
            flag("ECRGUARD_JOURNAL_ALLOW_TMP"),
        )?;
        Some(ecrguard_enforce::journal::Journal::open(
            std::path::Path::new(&dir),
        )?)
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
        },
    )
    .await;
    let mut report: Value = serde_json::from_str(&report)?;
    report["records"] = Value::from(records);
    if status == ExitStatus::Error {
        // A failed invocation: Lambda retries it, or sends it to the dead-letter queue.
        return Err(format!("ecrguard: {report}").into());
    }
    Ok(report)
}

/// The journal directory for an applying function. Lambda's `/tmp` goes away with the
/// execution environment, and the backups with it: refused, unless explicitly allowed
/// (`ECRGUARD_JOURNAL_ALLOW_TMP=true`, for local runs such as `sam local` or tests).
fn journal_dir(configured: Option<&str>, allow_tmp: bool) -> Result<String, String> {
    let dir = configured.ok_or("ECRGUARD_APPLY needs ECRGUARD_JOURNAL (an EFS mount)")?;
    let under_tmp = std::path::Path::new(dir).starts_with("/tmp");
    if under_tmp && !allow_tmp {
        return Err(
            "ECRGUARD_JOURNAL under /tmp would be lost with the function: use an EFS mount".into(),
        );
    }
    Ok(dir.to_string())
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
    use super::journal_dir;

    #[test]
    fn the_journal_must_outlive_the_function() {
        assert!(
            journal_dir(None, false)
                .unwrap_err()
                .contains("needs ECRGUARD_JOURNAL")
        );
        assert!(
            journal_dir(Some("/tmp/journal"), false)
                .unwrap_err()
                .contains("EFS")
        );
        assert!(journal_dir(Some("/tmp"), false).is_err());
        assert_eq!(
            journal_dir(Some("/tmp/journal"), true).unwrap(),
            "/tmp/journal"
        );
        assert_eq!(
            journal_dir(Some("/mnt/ecrguard"), false).unwrap(),
            "/mnt/ecrguard"
        );
        assert!(
            journal_dir(Some("/tmpfs/x"), false).is_ok(),
            "a path component, not a prefix"
        );
    }
}
