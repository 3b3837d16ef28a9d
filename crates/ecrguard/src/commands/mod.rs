//! One module per subcommand.

pub(crate) mod audit;
pub(crate) mod check_policy;
pub(crate) mod rules;
pub(crate) mod scan;

use std::io::Write;

/// Writes to standard output (errors, such as a closed pipe, go to the caller).
pub(crate) fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
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
