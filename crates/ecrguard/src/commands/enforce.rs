//! `ecrguard enforce`: the audit, then a plan per the `[enforce]` config; with `--apply`, the
//! plan carried out through the journal.

use crate::ExitStatus;
use crate::args::{EnforceArgs, ScanFormat};
use crate::commands::act;
use crate::commands::audit::{
    Collected, collect_all, error_lines, load_config, settings, timeouts,
};
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
    let config = load_config(args.audit.config.as_deref())?;
    let (cfg, journal, now) = act::prepare(config.as_ref(), &args.act)?;

    let Collected {
        audit,
        org_trusted,
        roles,
        regions,
    } = collect_all(&args.audit).await?;
    let settings = settings(
        &args.audit.trust,
        config.as_ref(),
        audit.account.clone(),
        org_trusted,
    )?;
    let findings = ecrguard_rules::check_rules(
        &audit.state,
        &settings,
        ecrguard_rules::registry::for_source(ecrguard_rules::SourceKind::Aws),
    );
    let plan = ecrguard_enforce::plan(&findings, &audit, &cfg, now, &act::today(now));
    let errors: Vec<String> = error_lines(&audit).into_iter().map(|e| e.message).collect();

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
        &cfg,
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
