//! `ecrguard enforce`: the audit, then a plan per the `[enforce]` config; with `--apply`, the
//! plan carried out through the journal.

use crate::ExitStatus;
use crate::args::{EnforceArgs, ScanFormat};
use crate::commands::act;
use crate::commands::audit::{
    Collected, aws_rules, collect_all, error_lines, load_config, settings, timeouts,
};
use ecrguard_aws::sdk::SdkApi;
use ecrguard_enforce::journal::Journal;
use std::collections::BTreeMap;

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
    let cfg = match &config {
        Some(c) => c.enforce()?,
        None => ecrguard_enforce::EnforceConfig::default(),
    };
    let now = act::now(args.act.now.as_deref())?;
    let journal = if args.act.apply {
        Some(Journal::open(&args.act.journal).map_err(|e| {
            anyhow::anyhow!(
                "cannot open the journal `{}`: {e}",
                args.act.journal.display()
            )
        })?)
    } else {
        None
    };

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
    let findings = ecrguard_rules::check_rules(&audit.state, &settings, aws_rules());
    let tags: BTreeMap<String, Vec<(String, String)>> = audit
        .state
        .repositories
        .iter()
        .filter_map(|r| Some((r.id.label().to_string(), r.tags.known()?.clone())))
        .collect();
    let plan = ecrguard_enforce::plan(&findings, &audit.raw, &tags, &cfg, now, &act::today(now));
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
