//! `ecrguard restore ENTRY`: puts back what a journal entry backed up.

use crate::ExitStatus;
use crate::args::RestoreArgs;
use crate::commands::act;
use ecrguard_aws::sdk::{SdkApi, Timeouts};
use ecrguard_enforce::journal::{Journal, load_entry_file};
use std::time::Duration;

pub(crate) fn run(args: &RestoreArgs) -> anyhow::Result<ExitStatus> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: &RestoreArgs) -> anyhow::Result<ExitStatus> {
    let path = &args.entry;
    // Checked before any AWS call: the id is the file's own name (the entry is rewritten in
    // that file and no other), and the ARN agrees with name, account and region.
    let mut entry = load_entry_file(path).map_err(|e| anyhow::anyhow!(e))?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let journal = Journal::open(dir)?;
    let region = entry.action.target.region.clone();
    let api = SdkApi::connect_as(
        args.profile.as_deref(),
        args.role_arn.as_deref(),
        std::slice::from_ref(&region),
        Timeouts {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(20),
            attempt: Duration::from_secs(25),
            operation: Duration::from_secs(120),
        },
        5,
    )
    .await
    .for_registry(&entry.action.target.account);
    let now = act::now(None)?;
    let message = ecrguard_enforce::execute::restore(&api, &journal, &mut entry, now)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    super::write_stdout(&format!(
        "restored {} ({}): {message}\n",
        entry.action.target.arn,
        entry.action.change.verb()
    ))?;
    Ok(ExitStatus::Clean)
}
