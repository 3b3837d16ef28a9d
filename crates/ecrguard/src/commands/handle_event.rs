//! `ecrguard handle-event [FILE|-]`: one EventBridge event (or an SQS batch of them) at a
//! time, just the resource each touched. A malformed or unknown event is an error and a
//! non-zero exit, never an action. The Lambda entry point (feature `lambda`) runs the same
//! [`handle_input`].

use crate::ExitStatus;
use crate::args::{HandleEventArgs, ScanFormat};
use crate::commands::act;
use ecrguard_aws::sdk::{SdkApi, Timeouts};
use ecrguard_enforce::EnforceConfig;
use ecrguard_enforce::event::parse_input;
use ecrguard_enforce::handler::{HandleOptions, handle_event};
use ecrguard_enforce::journal::{Journal, Status};
use ecrguard_rules::Settings;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::time::Duration;

pub(crate) fn run(args: &HandleEventArgs) -> anyhow::Result<ExitStatus> {
    let text = if args.input.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        std::fs::read_to_string(&args.input)
            .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", args.input.display()))?
    };
    let config = crate::commands::audit::load_config(args.config.as_deref())?;
    let settings = crate::commands::audit::settings(&args.trust, config.as_ref(), None, None)?;
    let (cfg, journal, now) = act::prepare(config.as_ref(), &args.act)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (out, status) = runtime.block_on(handle_input(
        &text,
        &Handling {
            profile: args.profile.as_deref(),
            settings: &settings,
            cfg: &cfg,
            journal: journal.as_ref(),
            destructive_confirmed: args.act.yes,
            now,
            json: args.format == ScanFormat::Json,
        },
    ));
    super::write_stdout(&out)?;
    Ok(status)
}

/// Everything [`handle_input`] needs besides the input.
pub(crate) struct Handling<'a> {
    pub(crate) profile: Option<&'a str>,
    pub(crate) settings: &'a Settings,
    pub(crate) cfg: &'a EnforceConfig,
    pub(crate) journal: Option<&'a Journal>,
    pub(crate) destructive_confirmed: bool,
    pub(crate) now: i64,
    pub(crate) json: bool,
}

/// Handles every event of an input; the report and the exit status (2 when an event was
/// malformed or a read or change failed, 1 when something is left open, else 0).
pub(crate) async fn handle_input(text: &str, h: &Handling<'_>) -> (String, ExitStatus) {
    let events = match parse_input(text) {
        Ok(e) => e,
        Err(e) => return render_error(&e, h.json),
    };
    let today = act::today(h.now);
    let mut clients: BTreeMap<String, SdkApi> = BTreeMap::new();
    let mut items = Vec::new();
    let mut status = ExitStatus::Clean;
    let mut text_out = String::new();
    for (i, event) in events.into_iter().enumerate() {
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                status = ExitStatus::Error;
                let _ = writeln!(text_out, "event {i}: error: {e}");
                items.push(json!({"index": i, "error": e}));
                continue;
            }
        };
        if !clients.contains_key(&event.region) {
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
            .await;
            clients.insert(event.region.clone(), api);
        }
        let api = &clients[&event.region];
        let report = handle_event(
            api,
            &event,
            h.settings,
            h.cfg,
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
        (text_out, status)
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
