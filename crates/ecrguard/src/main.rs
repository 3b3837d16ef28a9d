//! The `ecrguard` binary: argument parsing and glue. The libraries do the work.

// The scan allocates many small values on both cores; glibc's allocator spent about a quarter
// of the time in malloc/free. The parse-only baselines use the same allocator, so the
// benchmark ratio compares like with like.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod args;
mod commands;
#[cfg(feature = "lambda")]
mod lambda;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

/// Exit codes: a stable contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// No findings at or above `--fail-on`.
    Clean,
    /// Findings at or above `--fail-on`.
    Findings,
    /// Input could not be fully analysed, or usage error.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> Self {
        ExitCode::from(match s {
            ExitStatus::Clean => 0,
            ExitStatus::Findings => 1,
            ExitStatus::Error => 2,
        })
    }
}

fn main() -> ExitCode {
    // Started by Lambda: serve invocations instead of parsing arguments.
    #[cfg(feature = "lambda")]
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda::run();
    }
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        args::Command::CheckPolicy(a) => commands::check_policy::run(&a),
        args::Command::Scan(a) => commands::scan::run(&a),
        args::Command::Audit(a) => commands::audit::run(&a),
        args::Command::Enforce(a) => commands::enforce::run(&a),
        args::Command::Restore(a) => commands::restore::run(&a),
        args::Command::HandleEvent(a) => commands::handle_event::run(&a),
        args::Command::Rules { format } => commands::rules::run_list(format),
        args::Command::Rule { rule, format } => commands::rules::run_show(&rule, format),
    };
    match result {
        Ok(status) => status.into(),
        Err(err) => {
            // A closed pipe (`ecrguard ... | head`) is not an error.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "ecrguard: error: {err:#}");
            ExitStatus::Error.into()
        }
    }
}
