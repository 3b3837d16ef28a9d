//! `ecrguard audit`: the same rules over a live AWS account, read through the SDK.

use crate::ExitStatus;
use crate::args::AuditArgs;
use crate::commands::{emit_report, resolve_run, threshold, trust_flags};
use ecrguard_aws::collect::{Audit, AuditError, AuditOptions, audit_account, missing_permissions};
use ecrguard_aws::sdk::{SdkApi, Timeouts};
use ecrguard_model::SourceDb;
use ecrguard_report::{InputProblem, ScanReport};
use ecrguard_rules::SourceKind;
use futures::stream::{self, StreamExt};
use std::io::{IsTerminal, Write};
use std::time::Duration;

mod progress;
mod security_hub;

/// Accounts read at once (each with `--concurrency` calls in flight).
const ACCOUNTS_AT_ONCE: usize = 4;

pub(crate) fn run(args: &AuditArgs) -> anyhow::Result<ExitStatus> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(args))
}

/// What reading the accounts gave.
pub(crate) struct Collected {
    pub(crate) audit: Audit,
    pub(crate) regions: Vec<String>,
    /// The organization id, under `--org-role`.
    pub(crate) org_trusted: Option<String>,
    /// The roles assumed, one per account (empty: the caller's own account).
    pub(crate) roles: Vec<String>,
}

pub(crate) fn timeouts(args: &AuditArgs) -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(args.connect_timeout),
        read: Duration::from_secs(args.read_timeout),
        attempt: Duration::from_secs(args.read_timeout + args.connect_timeout),
        operation: Duration::from_secs(args.operation_timeout),
    }
}

/// Reads every account and region the arguments name.
pub(crate) async fn collect_all(args: &AuditArgs) -> anyhow::Result<Collected> {
    let started = std::time::Instant::now();
    let timeouts = timeouts(args);
    // No region named, or `all`: every region enabled for the account (asked of the
    // configured region, or us-east-1).
    let probe = SdkApi::connect(args.profile.as_deref(), &[], timeouts, args.max_attempts).await;
    let regions: Vec<String> = if args.regions.is_empty() || args.regions == ["all"] {
        probe.enabled_regions().await.map_err(|e| {
            anyhow::anyhow!(
                "cannot list the account's enabled regions (ec2:DescribeRegions): {e}; \
                 grant it or name regions with --regions"
            )
        })?
    } else if args.regions.iter().any(|r| r == "all") {
        anyhow::bail!("--regions all cannot be combined with named regions");
    } else {
        args.regions.clone()
    };
    let options = AuditOptions {
        regions: regions.clone(),
        concurrency: args.concurrency,
        ..AuditOptions::default()
    };
    // The caller's own account, or each role's. Accounts run a few at a time, each with its
    // own bounded concurrency, so one process covers an organization without a flood.
    let mut org_trusted: Option<String> = None;
    let org_roles: Vec<String> = match &args.org_role {
        Some(name) => {
            crate::commands::handle_event::check_role_name("--org-role", name)?;
            for a in &args.accounts {
                ecrguard_engine::config::check_account(a)
                    .map_err(|m| anyhow::anyhow!("--account: {m}"))?;
            }
            let (org, accounts) = if args.accounts.is_empty() {
                probe.organization_accounts().await.map_err(|e| {
                    anyhow::anyhow!(
                        "--org-role: cannot list the organization's accounts \
                         (organizations:DescribeOrganization, organizations:ListAccounts): {e}"
                    )
                })?
            } else {
                let org = probe.organization_id().await.map_err(|e| {
                    anyhow::anyhow!(
                        "--org-role: cannot read the organization \
                         (organizations:DescribeOrganization): {e}"
                    )
                })?;
                (org, args.accounts.clone())
            };
            org_trusted = Some(org);
            accounts
                .iter()
                .map(|id| format!("arn:aws:iam::{id}:role/{name}"))
                .collect()
        }
        None => args.role_arns.clone(),
    };
    let targets: Vec<Option<&str>> = if org_roles.is_empty() {
        vec![None]
    } else {
        org_roles.iter().map(|r| Some(r.as_str())).collect()
    };
    let show = progress::Display::start(
        !args.quiet && std::io::stderr().is_terminal(),
        std::sync::Arc::clone(&options.progress),
        targets.len(),
        targets.len() * regions.len(),
    );
    let accounts: Vec<Audit> = stream::iter(targets)
        .map(|role| {
            let (regions, options) = (&regions, &options);
            async move {
                let api = SdkApi::connect_as(
                    args.profile.as_deref(),
                    role,
                    regions,
                    timeouts,
                    args.max_attempts,
                )
                .await;
                audit_account(&api, options).await
            }
        })
        .buffer_unordered(ACCOUNTS_AT_ONCE)
        .collect()
        .await;
    show.finish();
    let mut audit = Audit::default();
    let account_count = accounts.len();
    for a in accounts {
        audit.extend(a);
    }
    if args.stats {
        let secs = started.elapsed().as_secs_f64();
        // A benchmark's reading: best effort, like any diagnostic on standard error.
        let _ = writeln!(
            std::io::stderr(),
            "audit: {} API calls in {secs:.2} s ({:.0} calls/s); {account_count} account(s), {} region(s), {} repositories",
            audit.calls,
            audit.calls as f64 / secs.max(1e-9),
            regions.len(),
            audit.state.repositories.len()
        );
    }
    Ok(Collected {
        audit,
        regions,
        org_trusted,
        roles: org_roles,
    })
}

/// The engine's run for a live command: `--config FILE` or `ecrguard.toml` in the working
/// directory or its parents, then the flags.
pub(crate) fn audit_run(args: &AuditArgs) -> anyhow::Result<ecrguard_engine::Run> {
    let flags = ecrguard_engine::Flags {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        fail_on: args.fail_on.map(threshold),
        baseline: args.baseline.baseline.clone(),
        write_baseline: args.baseline.write_baseline.clone(),
        compliance: args.compliance.clone(),
        ..trust_flags(&args.trust)
    };
    resolve_run(
        args.config.as_deref(),
        std::path::Path::new("."),
        false,
        &flags,
        SourceKind::Aws,
    )
}

/// Failed calls, and one line per account and missing permission.
pub(crate) fn error_lines(audit: &Audit) -> Vec<InputProblem> {
    let mut errors: Vec<InputProblem> = audit.errors.iter().map(AuditError::problem).collect();
    for (account, call, n) in missing_permissions(&audit.errors) {
        errors.push(InputProblem::at(
            None,
            format!("missing permission: `{call}` was denied {n} time(s) in account {account}"),
        ));
    }
    errors
}

pub(crate) async fn run_async(args: &AuditArgs) -> anyhow::Result<ExitStatus> {
    let run = audit_run(args)?;
    let Collected {
        audit,
        org_trusted,
        roles,
        regions,
    } = collect_all(args).await?;
    let settings = run.settings_for(audit.account.as_deref(), org_trusted.as_deref());
    let mut sources = SourceDb::default();
    let mut judged = run.judge(&audit.state, &settings, &mut sources, Vec::new());
    // Computed once: ECR009 already built it when it ran.
    let access = judged
        .access
        .take()
        .unwrap_or_else(|| ecrguard_access::matrix(&audit.state));
    let mut errors = error_lines(&audit);
    errors.extend(judged.errors.iter().cloned());
    let mut not_evaluated: Vec<InputProblem> = audit
        .notes
        .iter()
        .map(|n| InputProblem::not_evaluated("eks".to_string(), n.clone()))
        .collect();
    not_evaluated.extend(judged.not_evaluated);
    let report = ScanReport {
        strict: run.strict,
        sources: &sources,
        findings: judged.findings,
        errors,
        not_evaluated,
        files: audit.state.repositories.len(),
        files_noun: ["repository", "repositories"],
        access: Some(&access),
        rules: run.rule_metas(),
        notes: judged.notes.clone(),
        compliance: run.compliance,
    };
    let status = emit_report(
        &report,
        args.format,
        args.output.as_deref(),
        args.color,
        run.fail_on.severity(),
        &args.sarif_category,
        audit.account.as_deref(),
    )?;
    if !args.security_hub {
        return Ok(status);
    }
    // Each account through the role that read it (the caller's own account without one),
    // in every region read.
    let accounts: Vec<(String, Option<&str>)> = if roles.is_empty() {
        audit
            .account
            .clone()
            .map(|a| vec![(a, None)])
            .unwrap_or_default()
    } else {
        roles
            .iter()
            .filter_map(|r| {
                r.split(':')
                    .nth(4)
                    .map(|a| (a.to_string(), Some(r.as_str())))
            })
            .collect()
    };
    let targets: Vec<security_hub::Target<'_>> = accounts
        .iter()
        .flat_map(|(account, role)| {
            regions.iter().map(move |region| security_hub::Target {
                account: account.clone(),
                role: *role,
                region,
            })
        })
        .collect();
    let mut say = |text: &str| {
        let _ = std::io::stderr().write_all(text.as_bytes());
    };
    if targets.is_empty() {
        say("security hub: the audited account is not known, nothing imported\n");
        return Ok(ExitStatus::Error);
    }
    let complete = Box::pin(security_hub::export(
        &report,
        &targets,
        args.profile.as_deref(),
        timeouts(args),
        args.max_attempts,
        &ecrguard_rules::dates::rfc3339_of(crate::commands::act::now(None)?),
        &mut say,
    ))
    .await;
    Ok(if complete { status } else { ExitStatus::Error })
}
