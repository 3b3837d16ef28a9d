//! `ecrguard scan`: infrastructure code in, findings out, in the format CI wants. The engine
//! resolves the flags and config, reads the sources and judges them; this prints.

use crate::ExitStatus;
use crate::args::ScanArgs;
use crate::commands::{emit_report, resolve_run, threshold};
use ecrguard_engine::scan::{ScanInputs, parameters, scan};
use ecrguard_report::ScanReport;
use ecrguard_rules::SourceKind;
use std::path::Path;

pub(crate) fn run(args: &ScanArgs) -> anyhow::Result<ExitStatus> {
    let flags = ecrguard_engine::Flags {
        owner_account: args.owner_account.clone(),
        trusted_accounts: args.trust.trusted_accounts.clone(),
        trusted_orgs: args.trust.trusted_orgs.clone(),
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        fail_on: args.fail_on.map(threshold),
        strict: args.strict,
        baseline: args.baseline.baseline.clone(),
        write_baseline: args.baseline.write_baseline.clone(),
        honor_peer_skips: args.honor_peer_skips,
        compliance: args.compliance.clone(),
    };
    let start = args.paths.first().map_or(Path::new("."), |p| p.as_path());
    let run = resolve_run(
        args.config.as_deref(),
        start,
        args.no_config,
        &flags,
        SourceKind::Terraform,
    )?;
    let inputs = ScanInputs {
        paths: args.paths.clone(),
        var_files: args.var_files.clone(),
        parameters: parameters(&args.parameters, args.parameters_file.as_deref())
            .map_err(|e| anyhow::anyhow!(e))?,
    };
    let scanned = scan(&run, &inputs);
    let report = ScanReport {
        strict: run.strict,
        sources: &scanned.sources,
        findings: scanned.findings,
        errors: scanned.errors,
        not_evaluated: scanned.not_evaluated,
        files: scanned.files,
        files_noun: ["file", "files"],
        access: None,
        rules: run.rule_metas(),
        notes: scanned.notes,
        compliance: run.compliance,
    };
    let status = emit_report(
        &report,
        args.format,
        args.output.as_deref(),
        args.color,
        run.fail_on.severity(),
        &args.sarif_category,
        run.settings.owner_account.as_deref(),
    );
    // The process ends right after this: freeing a large scan's model, sources and findings
    // one allocation at a time took ~20 ms on the large template corpus, for nothing.
    std::mem::forget(report);
    std::mem::forget(scanned.state);
    std::mem::forget(scanned.sources);
    status
}
