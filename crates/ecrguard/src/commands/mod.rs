//! One module per subcommand.

pub(crate) mod act;
pub(crate) mod audit;
pub(crate) mod check_policy;
pub(crate) mod enforce;
pub(crate) mod handle_event;
pub(crate) mod restore;
pub(crate) mod rules;
pub(crate) mod scan;

use std::io::Write;

/// Writes to standard output (errors, such as a closed pipe, go to the caller).
/// A value from an input, as an error message may show it (control characters escaped).
pub(crate) fn shown(s: &str) -> String {
    ecrguard_report::shown::one_line(s).into_owned()
}

pub(crate) fn write_stdout(text: &str) -> anyhow::Result<()> {
    write_output(None, |out| out.write_all(text.as_bytes()))
}

/// Writes a report to the `--output` file, or to standard output.
fn write_output(
    output: Option<&std::path::Path>,
    write: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            let cannot =
                |e: std::io::Error| anyhow::anyhow!("cannot write `{}`: {e}", path.display());
            let mut file = std::fs::File::create(path).map_err(cannot)?;
            write(&mut file).map_err(cannot)?;
            file.flush().map_err(cannot)
        }
        None => {
            // Stdout is line-buffered: a large report goes through it in large writes anyway.
            let mut out = std::io::stdout();
            write(&mut out)?;
            out.flush()?;
            Ok(())
        }
    }
}

/// Whether to colour output.
pub(crate) fn use_color(c: crate::args::Color) -> bool {
    use std::io::IsTerminal;
    match c {
        crate::args::Color::Always => true,
        crate::args::Color::Never => false,
        crate::args::Color::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

/// Seconds since the epoch, now.
fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `--fail-on` as the engine's threshold.
pub(crate) fn threshold(f: crate::args::FailOn) -> ecrguard_engine::Threshold {
    use crate::args::FailOn;
    use ecrguard_engine::Threshold;
    use ecrguard_rules::Severity;
    match f {
        FailOn::Low => Threshold::At(Severity::Low),
        FailOn::Medium => Threshold::At(Severity::Medium),
        FailOn::High => Threshold::At(Severity::High),
        FailOn::Critical => Threshold::At(Severity::Critical),
        FailOn::Never => Threshold::Never,
    }
}

/// The trust flags, as the engine takes them.
pub(crate) fn trust_flags(trust: &crate::args::TrustArgs) -> ecrguard_engine::Flags {
    ecrguard_engine::Flags {
        trusted_accounts: trust.trusted_accounts.clone(),
        trusted_orgs: trust.trusted_orgs.clone(),
        ..ecrguard_engine::Flags::default()
    }
}

/// Resolves a command's flags and its config file (`--config`, else `ecrguard.toml` found
/// upward from `start`, unless `no_config`) into the engine's run: one way for every command.
pub(crate) fn resolve_run(
    named: Option<&std::path::Path>,
    start: &std::path::Path,
    no_config: bool,
    flags: &ecrguard_engine::Flags,
    source: ecrguard_rules::SourceKind,
) -> anyhow::Result<ecrguard_engine::Run> {
    let config = if no_config {
        None
    } else {
        ecrguard_engine::config::find_and_load(named, start)
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?
    };
    ecrguard_engine::resolve(flags, config, source).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Renders a scan or audit report in `format`, writes it to `output` (or standard output) and
/// turns it into the exit status: errors make it incomplete, then findings at or above
/// `fail_on` fail. One place, so `scan` and `audit` keep the same output contract.
pub(crate) fn emit_report(
    report: &ecrguard_report::ScanReport<'_>,
    format: crate::args::ScanFormat,
    output: Option<&std::path::Path>,
    color: crate::args::Color,
    fail_on: Option<ecrguard_rules::Severity>,
    sarif_category: &str,
    owner_account: Option<&str>,
) -> anyhow::Result<crate::ExitStatus> {
    use crate::ExitStatus;
    use crate::args::ScanFormat;
    let color = output.is_none() && use_color(color);
    write_output(output, |out| {
        let text = match format {
            // Streamed: a large report is written while its later findings are still rendered.
            ScanFormat::Json => return ecrguard_report::json::write_scan(report, out),
            ScanFormat::Text => ecrguard_report::text::render_scan(
                report,
                ecrguard_report::text::TextOptions { color },
            ),
            ScanFormat::Sarif => ecrguard_report::sarif::render(report, sarif_category),
            ScanFormat::Markdown => ecrguard_report::markdown::render(report),
            ScanFormat::Asff => ecrguard_report::asff::render(
                report,
                &ecrguard_report::asff::AsffOptions {
                    account: owner_account.map(str::to_string),
                    region: std::env::var("AWS_REGION")
                        .ok()
                        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok()),
                    now: ecrguard_rules::dates::rfc3339_of(now_seconds()),
                },
            ),
            ScanFormat::Ocsf => ecrguard_report::ocsf::render(report, now_seconds() * 1000),
            ScanFormat::Html => ecrguard_report::html::render(
                report,
                if report.access.is_some() {
                    "ecrguard audit"
                } else {
                    "ecrguard scan"
                },
            ),
            ScanFormat::Junit => ecrguard_report::junit::render(report),
            ScanFormat::Github => ecrguard_report::github::render(report),
        };
        out.write_all(text.as_bytes())
    })?;
    if report.incomplete() {
        return Ok(ExitStatus::Error);
    }
    Ok(match fail_on {
        Some(t) if report.active().any(|f| f.severity >= t) => ExitStatus::Findings,
        _ => ExitStatus::Clean,
    })
}
