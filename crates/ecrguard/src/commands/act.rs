//! What `enforce` and `handle-event` share: the clock, the plan as text or JSON, the
//! confirmation of destructive actions, and applying a plan through the journal.

use crate::ExitStatus;
use crate::args::{ActArgs, ScanFormat};
use ecrguard_aws::api::JournalTableApi as _;
use ecrguard_aws::journal_table::SdkJournalTable;
use ecrguard_aws::sdk::SdkApi;
use ecrguard_enforce::execute::{self, ApplyOptions, Outcome};
use ecrguard_enforce::journal::{JournalDir, JournalLocation, JournalTable, Status};
use ecrguard_enforce::{EnforceConfig, Plan};
use serde_json::json;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};

/// The journal as the binary opens it: a directory, or a DynamoDB table through the SDK.
pub(crate) type Journal = ecrguard_enforce::journal::Journal<SdkJournalTable>;

/// What acting needs, validated before anything is read: the journal (opened only with
/// `--apply`) and the clock (the `[enforce]` table is the run's, checked with the rest of the
/// config).
pub(crate) async fn prepare(
    act: &ActArgs,
    profile: Option<&str>,
    max_attempts: u32,
) -> anyhow::Result<(Option<Journal>, i64)> {
    let now = now(act.now.as_deref())?;
    if !act.apply {
        return Ok((None, now));
    }
    Ok((
        Some(open_journal(&act.journal, profile, max_attempts).await?),
        now,
    ))
}

/// Opens a journal (`dynamodb://TABLE` or a directory). A table is read once here, so that a
/// table that is missing or not readable stops the run before anything is read or changed.
pub(crate) async fn open_journal(
    location: &str,
    profile: Option<&str>,
    max_attempts: u32,
) -> anyhow::Result<Journal> {
    let cannot = |e: &dyn std::fmt::Display| {
        anyhow::anyhow!("cannot open the journal `{}`: {e}", super::shown(location))
    };
    match JournalLocation::parse(location).map_err(|e| cannot(&e))? {
        JournalLocation::Dir(dir) => Ok(Journal::Dir(
            JournalDir::open(&dir).map_err(|e| cannot(&e))?,
        )),
        JournalLocation::Table(table) => {
            let api = SdkJournalTable::connect(
                profile,
                &table,
                ecrguard_aws::sdk::Timeouts {
                    connect: std::time::Duration::from_secs(5),
                    read: std::time::Duration::from_secs(20),
                    attempt: std::time::Duration::from_secs(25),
                    operation: std::time::Duration::from_secs(60),
                },
                max_attempts,
            )
            .await;
            api.get_journal_item("ecrguard-journal-check")
                .await
                .map_err(|e| cannot(&e))?;
            Ok(Journal::Table(JournalTable { api, table }))
        }
    }
}

/// Seconds since the epoch: `--now` (RFC 3339 `YYYY-MM-DDTHH:MM:SSZ` or seconds), else the
/// system clock.
pub(crate) fn now(arg: Option<&str>) -> anyhow::Result<i64> {
    let Some(text) = arg else {
        return Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)));
    };
    if let Ok(secs) = text.parse::<i64>() {
        return Ok(secs);
    }
    parse_rfc3339(text).ok_or_else(|| {
        anyhow::anyhow!("--now `{text}`: use YYYY-MM-DDTHH:MM:SSZ or seconds since the epoch")
    })
}

/// An RFC 3339 time to seconds since the epoch.
fn parse_rfc3339(s: &str) -> Option<i64> {
    ecrguard_rules::dates::parse_rfc3339(s).ok()
}

/// The date of `now`, `YYYY-MM-DD`.
pub(crate) fn today(now: i64) -> String {
    ecrguard_rules::dates::date_of(now)
}

/// One line for a policy text in the plan.
fn compact(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .map_or_else(|_| text.replace('\n', " "), |v| v.to_string())
}

/// The plan for people.
pub(crate) fn plan_text(plan: &Plan, apply: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} action(s), {} finding(s) left as they are",
        if apply {
            "applying"
        } else {
            "plan (dry run; --apply to change)"
        },
        plan.actions.len(),
        plan.unchanged.len()
    );
    for a in &plan.actions {
        let _ = writeln!(
            out,
            "  {} {} [{} {}]{}",
            a.change.verb(),
            a.target.arn,
            a.controls.join(","),
            a.rules.join(","),
            if a.change.destructive() {
                " (destructive)"
            } else {
                ""
            }
        );
        let _ = writeln!(out, "      why: {}", a.reason);
        match &a.change {
            ecrguard_enforce::Change::SetPolicy { before, after, .. } => {
                let _ = writeln!(out, "      policy before: {}", compact(before));
                let _ = writeln!(out, "      policy after:  {}", compact(after));
            }
            ecrguard_enforce::Change::DeletePolicy { before, .. } => {
                let _ = writeln!(out, "      policy deleted: {}", compact(before));
            }
            ecrguard_enforce::Change::SetImmutable { before } => {
                let _ = writeln!(out, "      tag mutability: {before} -> IMMUTABLE");
            }
            ecrguard_enforce::Change::SetScanOnPush => {
                let _ = writeln!(out, "      scan on push: false -> true");
            }
            ecrguard_enforce::Change::PutLifecyclePolicy { text } => {
                let _ = writeln!(out, "      lifecycle policy: {}", compact(text));
            }
            ecrguard_enforce::Change::DeleteRepository { .. } => {
                let _ = writeln!(
                    out,
                    "      the repository and its images are deleted (images cannot be restored)"
                );
            }
        }
    }
    if !plan.unchanged.is_empty() {
        let _ = writeln!(out, "left as they are:");
        for u in &plan.unchanged {
            let _ = writeln!(
                out,
                "  {} {} ({}): {}",
                u.target, u.rule, u.control, u.reason
            );
        }
    }
    out
}

/// Outcomes for people.
pub(crate) fn outcomes_text(outcomes: &[Outcome], journal: &Journal) -> String {
    let mut out = String::new();
    for o in outcomes {
        let _ = writeln!(
            out,
            "  {}: {} ({})",
            o.status.as_str(),
            o.message,
            journal.locate(&o.id)
        );
    }
    out
}

/// The whole report as JSON (`version: 1`).
pub(crate) fn report_json(
    plan: &Plan,
    apply: bool,
    outcomes: &[Outcome],
    errors: &[String],
) -> String {
    let v = json!({
        "version": 1,
        "mode": if apply { "apply" } else { "plan" },
        "actions": plan.actions,
        "unchanged": plan.unchanged,
        "outcomes": outcomes.iter().map(|o| json!({"id": o.id, "status": o.status.as_str(), "message": o.message})).collect::<Vec<_>>(),
        "errors": errors,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// Destructive actions need `--yes`, or a "yes" typed on a terminal.
pub(crate) fn confirmed(plan: &Plan, act: &ActArgs) -> anyhow::Result<bool> {
    let destructive: Vec<&str> = plan
        .actions
        .iter()
        .filter(|a| a.change.destructive())
        .map(|a| a.target.arn.as_str())
        .collect();
    if destructive.is_empty() || act.yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    let mut err = std::io::stderr().lock();
    write!(
        err,
        "ecrguard: delete {} repositor{} and their images ({})? type `yes` to go on: ",
        destructive.len(),
        if destructive.len() == 1 { "y" } else { "ies" },
        destructive.join(", ")
    )?;
    err.flush()?;
    drop(err);
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

/// Settles what an interrupted run left pending, then applies each action through the
/// journal. Stops at the first journal write failure: nothing changes without its backup.
pub(crate) async fn apply_plan(
    api_for: impl AsyncFn(&str) -> anyhow::Result<SdkApi>,
    journal: &Journal,
    plan: &Plan,
    cfg: &EnforceConfig,
    now: i64,
) -> anyhow::Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    let mut accounts: Vec<&str> = plan
        .actions
        .iter()
        .map(|a| a.target.account.as_str())
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    for account in accounts {
        let api = api_for(account).await?;
        let mine: Vec<_> = plan
            .actions
            .iter()
            .filter(|a| a.target.account == account)
            .cloned()
            .collect();
        outcomes.extend(
            execute::reconcile(&api, journal, &plan.actions, now)
                .await
                .map_err(|e| anyhow::anyhow!(e))?
                .into_iter()
                .filter(|o| o.status == Status::Applied),
        );
        for action in &mine {
            let o = execute::apply(
                &api,
                journal,
                action,
                ApplyOptions {
                    now,
                    allow_delete_with_images: cfg.allow_delete_with_images,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
            outcomes.push(o);
        }
    }
    Ok(outcomes)
}

/// 0: nothing to do or everything done; 1: something left (refused, drift, planned but not
/// applied); 2: a failure or an incomplete read.
pub(crate) fn exit_status(
    plan: &Plan,
    apply: bool,
    outcomes: &[Outcome],
    errors: usize,
) -> ExitStatus {
    if errors > 0 || outcomes.iter().any(|o| o.status == Status::Failed) {
        return ExitStatus::Error;
    }
    let open = if apply {
        outcomes.iter().any(|o| {
            matches!(
                o.status,
                Status::Refused | Status::SkippedDrift | Status::Pending
            )
        })
    } else {
        !plan.actions.is_empty()
    };
    if open {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    }
}

/// Prints the plan, then (with `--apply`) the outcomes, in the chosen format.
pub(crate) fn emit(
    format: ScanFormat,
    plan: &Plan,
    apply: bool,
    outcomes: &[Outcome],
    errors: &[String],
    journal: Option<&Journal>,
) -> anyhow::Result<()> {
    let text = match format {
        ScanFormat::Json => report_json(plan, apply, outcomes, errors),
        ScanFormat::Text => {
            let mut t = plan_text(plan, apply);
            if let Some(journal) = journal {
                t.push_str(&format!("outcomes (journal {}):\n", journal.describe()));
                t.push_str(&outcomes_text(outcomes, journal));
            }
            for e in errors {
                t.push_str(&format!("error: {e}\n"));
            }
            t
        }
        other => anyhow::bail!("--format {other:?} is not available here: use text or json"),
    };
    super::write_stdout(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_says_what_is_left() {
        use ecrguard_enforce::plan::{Action, Change, Target};
        let action = Action {
            id: "a".into(),
            target: Target {
                arn: "arn".into(),
                name: "n".into(),
                account: "1".into(),
                region: "r".into(),
            },
            controls: vec![],
            rules: vec![],
            reason: String::new(),
            change: Change::SetScanOnPush,
        };
        let plan = Plan {
            actions: vec![action],
            unchanged: vec![],
        };
        let done = |status| Outcome {
            id: "a".into(),
            status,
            message: String::new(),
        };
        assert_eq!(
            exit_status(&Plan::default(), false, &[], 0),
            ExitStatus::Clean
        );
        assert_eq!(
            exit_status(&plan, false, &[], 0),
            ExitStatus::Findings,
            "planned, not applied"
        );
        assert_eq!(
            exit_status(&plan, true, &[done(Status::Applied)], 0),
            ExitStatus::Clean
        );
        assert_eq!(
            exit_status(&plan, true, &[done(Status::Refused)], 0),
            ExitStatus::Findings
        );
        assert_eq!(
            exit_status(&plan, true, &[done(Status::SkippedDrift)], 0),
            ExitStatus::Findings
        );
        assert_eq!(
            exit_status(&plan, true, &[done(Status::Failed)], 0),
            ExitStatus::Error
        );
        assert_eq!(
            exit_status(&plan, true, &[done(Status::Applied)], 1),
            ExitStatus::Error,
            "incomplete read"
        );
    }

    #[test]
    fn clock_arguments() {
        assert_eq!(now(Some("0")).unwrap(), 0);
        assert_eq!(now(Some("1970-01-02T00:00:01Z")).unwrap(), 86_401);
        assert_eq!(now(Some("2026-11-24T06:00:00Z")).unwrap(), 1_795_500_000);
        assert_eq!(
            today(now(Some("2026-11-24T06:00:00Z")).unwrap()),
            "2026-11-24"
        );
        assert_eq!(
            today(now(Some("2024-02-29T23:59:59Z")).unwrap()),
            "2024-02-29"
        );
        assert!(now(Some("2026-11-24 06:00")).is_err());
        assert!(now(Some("2026-13-24T06:00:00Z")).is_err());
    }
}
