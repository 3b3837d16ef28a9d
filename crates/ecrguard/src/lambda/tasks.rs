//! The scheduled organization audit in Lambda: invocations that are not events but tasks,
//! `{"ecrguard": "audit"}` from an EventBridge Scheduler schedule (every account of the
//! organization in one invocation), or from a Step Functions Distributed Map that fans out
//! over the organization: `{"ecrguard": "list-accounts", "run": ID}` writes the accounts to
//! S3 for the map to read, then `{"ecrguard": "audit", "accounts": [ID], "run": ID}` audits
//! one account per invocation. Each audit's report goes to S3 (an answer of Lambda or Step
//! Functions is too small to carry one); the invocation answers with where it is and a
//! summary. `docs/org-audit.md` has the design and its numbers.
//!
//! Configuration, from the function's environment: `ECRGUARD_ORG_ROLE` (the audit role's name
//! in every account), `ECRGUARD_REGIONS` (comma-separated), `ECRGUARD_REPORT_BUCKET`,
//! `ECRGUARD_REPORT_PREFIX` (default `ecrguard`), `ECRGUARD_CONFIG`, and
//! `ECRGUARD_SECURITY_HUB=true` to import the findings into each account's Security Hub.

use clap::Parser as _;
use ecrguard_aws::report_store::{SdkReportStore, is_bucket_name};
use ecrguard_aws::sdk::{SdkApi, Timeouts};
use lambda_runtime::Error;
use serde_json::{Value, json};
use std::time::Duration;

/// A task invocation. Unknown fields are refused: an event that is not a task must not be
/// taken for one.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Task {
    ecrguard: TaskKind,
    /// `audit`: only these accounts of the organization (default: every one).
    #[serde(default)]
    accounts: Vec<String>,
    /// The run's id (a Step Functions execution name): the reports' S3 folder. Default: the
    /// time the task started.
    #[serde(default)]
    run: Option<String>,
}

#[derive(serde::Deserialize, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum TaskKind {
    Audit,
    ListAccounts,
}

/// Where reports go, as configured.
struct Destination {
    bucket: String,
    prefix: String,
}

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("a scheduled audit needs {name}").into())
}

fn destination() -> Result<Destination, Error> {
    let bucket = env("ECRGUARD_REPORT_BUCKET")?;
    if !is_bucket_name(&bucket) {
        return Err(format!(
            "ECRGUARD_REPORT_BUCKET `{}` is not a bucket name",
            bucket.escape_debug()
        )
        .into());
    }
    let prefix = std::env::var("ECRGUARD_REPORT_PREFIX").unwrap_or_else(|_| "ecrguard".into());
    if !is_key_part(&prefix) {
        return Err(format!(
            "ECRGUARD_REPORT_PREFIX `{}`: letters, digits, `-`, `_`, `.` only",
            prefix.escape_debug()
        )
        .into());
    }
    Ok(Destination { bucket, prefix })
}

/// A piece of an S3 key ecrguard writes: nothing that could name another folder.
fn is_key_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(5),
        read: Duration::from_secs(20),
        attempt: Duration::from_secs(25),
        operation: Duration::from_secs(120),
    }
}

/// Runs a task.
pub(crate) async fn run(task: Task) -> Result<Value, Error> {
    let dest = destination()?;
    let run = match task.run {
        Some(r) if is_key_part(&r) => r,
        Some(r) => {
            return Err(format!(
                "run `{}`: letters, digits, `-`, `_`, `.`, `:` only",
                r.escape_debug()
            )
            .into());
        }
        None => {
            ecrguard_rules::dates::rfc3339_of(crate::commands::act::now(None)?).replace(':', "-")
        }
    };
    let max_attempts = ecrguard_aws::sdk::max_attempts_from_env()?;
    let store = SdkReportStore::connect(None, timeouts(), max_attempts).await;
    match task.ecrguard {
        TaskKind::ListAccounts => {
            if !task.accounts.is_empty() {
                return Err("list-accounts takes no `accounts`".into());
            }
            let api = SdkApi::connect(None, &[], timeouts(), max_attempts).await;
            let (org, accounts) = api
                .organization_accounts()
                .await
                .map_err(|e| format!("cannot list the organization's accounts: {e}"))?;
            let items: Vec<Value> = accounts.iter().map(|a| json!({ "account": a })).collect();
            let key = format!("{}/{run}/accounts.json", dest.prefix);
            store
                .put(
                    &dest.bucket,
                    &key,
                    serde_json::to_vec(&items)?,
                    "application/json",
                )
                .await
                .map_err(|e| format!("cannot write s3://{}/{key}: {e}", dest.bucket))?;
            Ok(json!({
                "version": 1,
                "task": "list-accounts",
                "run": run,
                "organization": org,
                "accounts": accounts.len(),
                "bucket": dest.bucket,
                "key": key,
            }))
        }
        TaskKind::Audit => audit(&task.accounts, &run, &dest, &store).await,
    }
}

/// `ecrguard audit --org-role ROLE --regions ... [--account ...] --format json`, exactly as
/// the command runs, its report written to S3.
async fn audit(
    accounts: &[String],
    run: &str,
    dest: &Destination,
    store: &SdkReportStore,
) -> Result<Value, Error> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file =
        std::env::temp_dir().join(format!("ecrguard-report-{}-{n}.json", std::process::id()));
    let mut argv: Vec<String> = [
        "ecrguard",
        "audit",
        "--quiet",
        "--format",
        "json",
        "--org-role",
        &env("ECRGUARD_ORG_ROLE")?,
        "--regions",
        &env("ECRGUARD_REGIONS")?,
        "--output",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    argv.push(file.display().to_string());
    // The findings into each account's Security Hub as well, through its audit role.
    if std::env::var("ECRGUARD_SECURITY_HUB").is_ok_and(|v| v == "true") {
        argv.push("--security-hub".to_string());
    }
    if let Ok(config) = std::env::var("ECRGUARD_CONFIG") {
        argv.extend(["--config".to_string(), config]);
    }
    for a in accounts {
        argv.extend(["--account".to_string(), a.clone()]);
    }
    let cli = crate::args::Cli::try_parse_from(&argv).map_err(|e| e.to_string())?;
    let crate::args::Command::Audit(args) = cli.command else {
        unreachable!("built as an audit")
    };
    let status = crate::commands::audit::run_async(&args).await;
    let report = std::fs::read(&file);
    let _ = std::fs::remove_file(&file);
    let status = status?;
    let report = report.map_err(|e| format!("the audit wrote no report: {e}"))?;
    let name = match accounts {
        [one] => one.clone(),
        _ => "organization".to_string(),
    };
    let key = format!("{}/{run}/{name}.json", dest.prefix);
    let parsed: Value = serde_json::from_slice(&report)?;
    store
        .put(&dest.bucket, &key, report, "application/json")
        .await
        .map_err(|e| format!("cannot write s3://{}/{key}: {e}", dest.bucket))?;
    Ok(json!({
        "version": 1,
        "task": "audit",
        "run": run,
        "accounts": if accounts.is_empty() { Value::from("organization") } else { Value::from(accounts) },
        "report": format!("s3://{}/{key}", dest.bucket),
        // 2: some of it could not be read (the report says what); never taken as clean.
        "exit_code": match status {
            crate::ExitStatus::Clean => 0,
            crate::ExitStatus::Findings => 1,
            crate::ExitStatus::Error => 2,
        },
        "summary": parsed["summary"],
        "errors": parsed["errors"].as_array().map_or(0, Vec::len),
    }))
}
