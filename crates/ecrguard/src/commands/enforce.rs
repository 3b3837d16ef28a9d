//! `ecrguard enforce`: the audit, then a plan per the `[enforce]` config; with `--apply`, the
//! plan carried out through the journal.

use crate::ExitStatus;
use crate::args::{EnforceArgs, ScanFormat};
use crate::commands::act;
use crate::commands::audit::{Collected, audit_run, collect_all, error_lines, timeouts};
use ecrguard_aws::sdk::SdkApi;

pub(crate) fn run(args: &EnforceArgs) -> anyhow::Result<ExitStatus> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: &EnforceArgs) -> anyhow::Result<ExitStatus> {
    // Everything is validated before anything is read or touched.
    if !matches!(args.audit.format, ScanFormat::Text | ScanFormat::Json) {
        anyhow::bail!(
            "--format {:?}: enforce prints text or json",
            args.audit.format
        );
    }
    if args.audit.security_hub {
        anyhow::bail!("--security-hub is for `ecrguard audit`; enforce acts, it does not import");
    }
    let run = audit_run(&args.audit)?;
    let cfg = &run.enforce;
    let (journal, now) = act::prepare(
        &args.act,
        args.audit.profile.as_deref(),
        args.audit.max_attempts,
    )
    .await?;

    let Collected {
        audit,
        org_trusted,
        roles,
        regions,
    } = collect_all(&args.audit).await?;
    // Judged as `audit` judges: the same rules, severities and suppressions (a suppressed
    // finding is an accepted risk, never acted on).
    let settings = run.settings_for(audit.account.as_deref(), org_trusted.as_deref());
    let judged = run.judge(
        &audit.state,
        &settings,
        &mut ecrguard_model::SourceDb::default(),
        Vec::new(),
    );
    let plan = ecrguard_enforce::plan(&judged.findings, &audit, cfg, now, &act::today(now));
    let errors: Vec<String> = error_lines(&audit)
        .iter()
        .map(ToString::to_string)
        .collect();

    let Some(journal) = journal else {
        act::emit(args.audit.format, &plan, false, &[], &errors, None)?;
        return Ok(act::exit_status(&plan, false, &[], errors.len()));
    };
    if !act::confirmed(&plan, &args.act)? {
        anyhow::bail!(
            "the plan deletes repositories: pass --yes (or answer `yes` on a terminal); nothing was changed"
        );
    }
    // One client per account: the role that read it (or the caller's own credentials).
    let role_of = |account: &str| -> Option<String> {
        roles
            .iter()
            .find(|r| r.split(':').nth(4) == Some(account))
            .cloned()
    };
    let outcomes = act::apply_plan(
        async |account: &str| {
            Ok(SdkApi::connect_as(
                args.audit.profile.as_deref(),
                role_of(account).as_deref(),
                &regions,
                timeouts(&args.audit),
                args.audit.max_attempts,
            )
            .await)
        },
        &journal,
        &plan,
        cfg,
        now,
    )
    .await?;
    act::emit(
        args.audit.format,
        &plan,
        true,
        &outcomes,
        &errors,
        Some(&journal),
    )?;
    Ok(act::exit_status(&plan, true, &outcomes, errors.len()))
}
