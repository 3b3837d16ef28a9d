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

/// The severity threshold of `--fail-on`.
pub(crate) fn threshold(f: crate::args::FailOn) -> Option<ecrguard_rules::Severity> {
    use crate::args::FailOn;
    use ecrguard_rules::Severity;
    match f {
        FailOn::Low => Some(Severity::Low),
        FailOn::Medium => Some(Severity::Medium),
        FailOn::High => Some(Severity::High),
        FailOn::Critical => Some(Severity::Critical),
        FailOn::Never => None,
    }
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
            ScanFormat::Sarif => ecrguard_report::sarif::render(report),
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
