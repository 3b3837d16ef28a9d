//! `ecrguard handle-event [FILE|-]`: one EventBridge event (or an SQS batch of them) at a
//! time, just the resource each touched. A malformed or unknown event is an error and a
//! non-zero exit, never an action. The Lambda entry point (feature `lambda`) runs the same
//! [`handle_input`].

use crate::ExitStatus;
use crate::args::{HandleEventArgs, ScanFormat};
use crate::commands::act;
use crate::commands::act::Journal;
use ecrguard_aws::sdk::{SdkApi, Timeouts};
use ecrguard_enforce::event::parse_input;
use ecrguard_enforce::handler::{HandleOptions, handle_event};
use ecrguard_enforce::journal::Status;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// Largest event input read: Lambda's own invocation payload limit is 6 MB, and an SQS
/// batch of 10,000 messages of 256 KiB would be 2.5 GB (each record is checked on its own).
const MAX_EVENT_BYTES: u64 = 64 * 1024 * 1024;

pub(crate) fn run(args: &HandleEventArgs) -> anyhow::Result<ExitStatus> {
    let max_attempts = ecrguard_aws::sdk::max_attempts_from_env().map_err(anyhow::Error::msg)?;
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (journal, now) = runtime.block_on(act::prepare(
        &args.act,
        args.profile.as_deref(),
        max_attempts,
    ))?;
    // Flags over the environment the Lambda handler reads too.
    let env = MemberSettings::from_env();
    let mut allowed = args.allowed_accounts.clone();
    allowed.extend(env.allowed);
    let members = runtime.block_on(members(
        &MemberSettings {
            role: args.member_role.clone().or(env.role),
            external_id: args.external_id.clone().or(env.external_id),
            allowed,
            allowed_org: args.allowed_org || env.allowed_org,
            profile: args.profile.clone(),
        },
        max_attempts,
    ))?;
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
            members: members.as_ref(),
            journal: journal.as_ref(),
            destructive_confirmed: args.act.yes,
            now,
            json,
            max_attempts,
        },
    ));
    super::write_stdout(&out)?;
    Ok(status)
}

/// How a central handler reaches member accounts, as configured.
pub(crate) struct MemberSettings {
    pub(crate) role: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) allowed: Vec<String>,
    pub(crate) allowed_org: bool,
    pub(crate) profile: Option<String>,
}

impl MemberSettings {
    /// `ECRGUARD_MEMBER_ROLE`, `ECRGUARD_EXTERNAL_ID`, `ECRGUARD_ALLOWED_ACCOUNTS`
    /// (comma-separated) and `ECRGUARD_ALLOWED_ORG=true`: how the Lambda handler is told.
    pub(crate) fn from_env() -> MemberSettings {
        MemberSettings {
            role: std::env::var("ECRGUARD_MEMBER_ROLE").ok(),
            external_id: std::env::var("ECRGUARD_EXTERNAL_ID").ok(),
            allowed: std::env::var("ECRGUARD_ALLOWED_ACCOUNTS")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            allowed_org: std::env::var("ECRGUARD_ALLOWED_ORG").is_ok_and(|v| v == "true"),
            profile: None,
        }
    }
}

/// Member accounts a central handler may act in, and the role it acts through.
pub(crate) struct Members {
    /// The role's name in each member account.
    pub(crate) role: String,
    pub(crate) external_id: Option<String>,
    /// The accounts whose events are handled; every other one is refused.
    pub(crate) allowed: std::collections::BTreeSet<String>,
    /// The handler's own account (its events need no role).
    pub(crate) own: Option<String>,
}

/// Resolves the member settings: `None` without a member role; an error when a member role
/// is given without saying which accounts it may be used in.
pub(crate) async fn members(
    s: &MemberSettings,
    max_attempts: u32,
) -> anyhow::Result<Option<Members>> {
    let Some(role) = &s.role else {
        return Ok(None);
    };
    check_role_name("--member-role", role)?;
    for a in &s.allowed {
        ecrguard_engine::config::check_account(a)
            .map_err(|m| anyhow::anyhow!("--allowed-account: {m}"))?;
    }
    if s.allowed.is_empty() && !s.allowed_org {
        anyhow::bail!(
            "--member-role needs the accounts it may act in: --allowed-account ID (repeatable) \
             or --allowed-org"
        );
    }
    let own = SdkApi::connect(s.profile.as_deref(), &[], timeouts(), max_attempts).await;
    let mut allowed: std::collections::BTreeSet<String> = s.allowed.iter().cloned().collect();
    if s.allowed_org {
        let (_, accounts) = own.organization_accounts().await.map_err(|e| {
            anyhow::anyhow!("--allowed-org: cannot list the organization's accounts: {e}")
        })?;
        allowed.extend(accounts);
    }
    use ecrguard_aws::api::EcrApi as _;
    Ok(Some(Members {
        role: role.clone(),
        external_id: s.external_id.clone(),
        allowed,
        own: own.account_id().await.ok(),
    }))
}

/// Refuses what IAM would not take as a role name (with its path).
pub(crate) fn check_role_name(flag: &str, role: &str) -> anyhow::Result<()> {
    if role.is_empty()
        || role.len() > 512
        || !role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
    {
        anyhow::bail!(
            "{flag} `{}` is not a role name",
            crate::commands::shown(role)
        );
    }
    Ok(())
}

/// The partition of a region, for role ARNs.
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(5),
        read: Duration::from_secs(20),
        attempt: Duration::from_secs(25),
        operation: Duration::from_secs(60),
    }
}

/// Everything [`handle_input`] needs besides the input.
pub(crate) struct Handling<'a> {
    pub(crate) profile: Option<&'a str>,
    /// Set on a central handler: the member role and the accounts it may act in.
    pub(crate) members: Option<&'a Members>,
    /// The engine's run: rules, severities, suppressions and `[enforce]`.
    pub(crate) run: &'a ecrguard_engine::Run,
    pub(crate) journal: Option<&'a Journal>,
    pub(crate) destructive_confirmed: bool,
    pub(crate) now: i64,
    pub(crate) json: bool,
    /// Attempts per call (`AWS_MAX_ATTEMPTS`, else the default).
    pub(crate) max_attempts: u32,
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
    // For this input only: the next invocation reads every registry afresh.
    let registries = ecrguard_enforce::handler::RegistryCache::default();
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
        // A central handler acts in a member account through its role, and only in the
        // accounts it was told about: anything else is refused before anything is read.
        let role = match h.members {
            None => None,
            Some(m) if m.own.as_deref() == Some(event.account.as_str()) => None,
            Some(m) if !m.allowed.contains(&event.account) => {
                status = ExitStatus::Error;
                let e = format!(
                    "account {} is not an allowed account (--allowed-account, --allowed-org): \
                     refused, nothing read or changed",
                    event.account
                );
                let _ = writeln!(
                    text_out,
                    "event {i}: {} in {} {}: error: {e}",
                    event.name, event.account, event.region
                );
                emit(&text_out);
                items.push(
                    json!({"index": i, "event": event.name, "account": event.account, "error": e}),
                );
                continue;
            }
            Some(m) => Some(format!(
                "arn:{}:iam::{}:role/{}",
                partition(&event.region),
                event.account,
                m.role
            )),
        };
        // A client per region and account: every change names the event's registry.
        let client_key = format!("{}/{}", event.region, event.account);
        if !clients.contains_key(&client_key) {
            let api = SdkApi::connect_assuming(
                h.profile,
                role.as_deref(),
                h.members.and_then(|m| m.external_id.as_deref()),
                std::slice::from_ref(&event.region),
                timeouts(),
                h.max_attempts,
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
                registries: Some(&registries),
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
            ecrguard_enforce::event::Scope::PublicRepository(r) => {
                format!("ECR Public repository {r}")
            }
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
