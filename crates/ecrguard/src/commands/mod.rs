//! One module per subcommand.

pub(crate) mod check_policy;
pub(crate) mod rules;

use std::io::Write;

/// Writes to standard output (errors, such as a closed pipe, go to the caller).
pub(crate) fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
