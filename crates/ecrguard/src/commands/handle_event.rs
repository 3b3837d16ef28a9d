//! `ecrguard handle-event [FILE|-]`: one EventBridge event (or an SQS batch of them) at a
//! time, just the resource each touched. A malformed or unknown event is an error and a
//! non-zero exit, never an action. The Lambda entry point (feature `lambda`) runs the same
//! [`handle_input`].

use crate::ExitStatus;
use crate::args::{HandleEventArgs, ScanFormat};
use crate::commands::act;
use ecrguard_aws::sdk::{SdkApi, Timeouts};
use ecrguard_enforce::event::parse_input;
use ecrguard_enforce::handler::{HandleOptions, handle_event};
use ecrguard_enforce::journal::{Journal, Status};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// Largest event input read: Lambda's own invocation payload limit is 6 MB, and an SQS
/// batch of 10,000 messages of 256 KiB would be 2.5 GB (each record is checked on its own).
const MAX_EVENT_BYTES: u64 = 64 * 1024 * 1024;

pub(crate) fn run(args: &HandleEventArgs) -> anyhow::Result<ExitStatus> {
    let cannot = |e: ecrguard_walk::input::ReadError| {
        anyhow::anyhow!("cannot read `{}`: {e}", args.input.display())
    };
    let text = if args.input.as_os_str() == "-" {
        ecrguard_walk::input::read_stdin_text(MAX_EVENT_BYTES).map_err(cannot)?
    } else {
        ecrguard_walk::input::read_text(
            &args.input,
            MAX_EVENT_BYTES,
            ecrguard_walk::input::Kinds::RegularOrPipe,
        )
        .map_err(cannot)?
    };
    let run = crate::commands::resolve_run(
        args.config.as_deref(),
        std::path::Path::new("."),
        false,
        &crate::commands::trust_flags(&args.trust),
        ecrguard_rules::SourceKind::Aws,
    )?;
    let (journal, now) = act::prepare(&args.act)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let json = args.format == ScanFormat::Json;
    // In text, each event's result is written as soon as it is known: a batch stopped half
    // way (a timeout, a kill) still says what was done.
    let mut emit = |chunk: &str| {
        if !json {
            let _ = super::write_stdout(chunk);
        }
    };
    let (out, status) = runtime.block_on(handle_input(
        &text,
        &mut emit,
        &Handling {
            profile: args.profile.as_deref(),
            run: &run,
            journal: journal.as_ref(),
            destructive_confirmed: args.act.yes,
            now,
            json,
        },
    ));
    super::write_stdout(&out)?;
    Ok(status)
}

/// Everything [`handle_input`] needs besides the input.
pub(crate) struct Handling<'a> {
    pub(crate) profile: Option<&'a str>,
    /// The engine's run: rules, severities, suppressions and `[enforce]`.
    pub(crate) run: &'a ecrguard_engine::Run,
    pub(crate) journal: Option<&'a Journal>,
    pub(crate) destructive_confirmed: bool,
    pub(crate) now: i64,
    pub(crate) json: bool,
}

/// Handles every event of an input: each event's text is given to `emit` as soon as the event
/// is handled; returns the JSON report (empty in text mode) and the exit status (2 when an
/// event was malformed or a read or change failed, 1 when something is left open, else 0).
pub(crate) async fn handle_input(
    text: &str,
    emit: &mut dyn FnMut(&str),
    h: &Handling<'_>,
) -> (String, ExitStatus) {
    let events = match parse_input(text) {
        Ok(e) => e,
        Err(e) => {
            let (out, status) = render_error(&e, h.json);
            if h.json {
                return (out, status);
            }
            emit(&out);
            return (String::new(), status);
        }
    };
    let today = act::today(h.now);
    let mut clients: BTreeMap<String, SdkApi> = BTreeMap::new();
    let mut items = Vec::new();
    let mut status = ExitStatus::Clean;
    for (i, event) in events.into_iter().enumerate() {
        let mut text_out = String::new();
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                status = ExitStatus::Error;
                let _ = writeln!(text_out, "event {i}: error: {e}");
                emit(&text_out);
                items.push(json!({"index": i, "error": e}));
                continue;
            }
        };
        // A client per region and account: every change names the event's registry.
        let client_key = format!("{}/{}", event.region, event.account);
        if !clients.contains_key(&client_key) {
            let api = SdkApi::connect_as(
                h.profile,
                None,
                std::slice::from_ref(&event.region),
                Timeouts {
                    connect: Duration::from_secs(5),
                    read: Duration::from_secs(20),
                    attempt: Duration::from_secs(25),
                    operation: Duration::from_secs(60),
                },
                5,
            )
            .await
            .for_registry(&event.account);
            clients.insert(client_key.clone(), api);
        }
        let api = &clients[&client_key];
        // Judged as `audit` judges, suppressions included.
        let judge = |state: &ecrguard_model::EcrState, owner: Option<&str>| {
            let settings = h.run.settings_for(owner, None);
            h.run
                .judge(
                    state,
                    &settings,
                    &mut ecrguard_model::SourceDb::default(),
                    Vec::new(),
                )
                .findings
        };
        let report = handle_event(
            api,
            &event,
            &judge,
            &h.run.enforce,
            HandleOptions {
                now: h.now,
                today: &today,
                journal: h.journal,
                destructive_confirmed: h.destructive_confirmed,
            },
        )
        .await;
        let failed =
            !report.errors.is_empty() || report.outcomes.iter().any(|o| o.status == Status::Failed);
        let open = if h.journal.is_some() {
            report.outcomes.iter().any(|o| o.status != Status::Applied)
        } else {
            !report.plan.actions.is_empty()
        };
        if failed {
            status = ExitStatus::Error;
        } else if open && status == ExitStatus::Clean {
            status = ExitStatus::Findings;
        }
        let what = match &event.scope {
            ecrguard_enforce::event::Scope::Repository(r) => format!("repository {r}"),
            ecrguard_enforce::event::Scope::Registry => "registry".to_string(),
        };
        let _ = writeln!(
            text_out,
            "event {i}: {} in {} {}: {what}",
            event.name, event.account, event.region
        );
        for (rule, resource, message) in &report.findings {
            let _ = writeln!(text_out, "  {rule} {resource}: {message}");
        }
        text_out.push_str(&act::plan_text(&report.plan, h.journal.is_some()));
        if let Some(j) = h.journal {
            text_out.push_str(&act::outcomes_text(&report.outcomes, j));
        }
        for e in &report.errors {
            let _ = writeln!(text_out, "  error: {e}");
        }
        emit(&text_out);
        items.push(json!({
            "index": i,
            "event": event.name,
            "event_id": event.event_id,
            "account": event.account,
            "region": event.region,
            "findings": report.findings.iter().map(|(r, res, m)| json!({"rule_id": r, "resource": res, "message": m})).collect::<Vec<_>>(),
            "actions": report.plan.actions,
            "unchanged": report.plan.unchanged,
            "outcomes": report.outcomes.iter().map(|o| json!({"id": o.id, "status": o.status.as_str(), "message": o.message})).collect::<Vec<_>>(),
            "errors": report.errors,
        }));
    }
    if h.json {
        let mut s = serde_json::to_string_pretty(&json!({"version": 1, "mode": if h.journal.is_some() { "apply" } else { "plan" }, "events": items}))
            .unwrap_or_default();
        s.push('\n');
        (s, status)
    } else {
        (String::new(), status)
    }
}

fn render_error(e: &str, as_json: bool) -> (String, ExitStatus) {
    let out = if as_json {
        format!("{}\n", json!({"version": 1, "events": [], "error": e}))
    } else {
        format!("error: {e}\n")
    };
    (out, ExitStatus::Error)
}
