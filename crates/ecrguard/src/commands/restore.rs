//! `ecrguard restore ENTRY`: puts back what a journal entry (a file, or `dynamodb://TABLE/ID`)
//! backed up.

use crate::ExitStatus;
use crate::args::RestoreArgs;
use crate::commands::act;
use crate::commands::act::Journal;
use crate::commands::shown;
use ecrguard_aws::sdk::{SdkApi, Timeouts};
use ecrguard_enforce::journal::{JournalDir, is_entry_id, load_entry_file};
use std::time::Duration;

pub(crate) fn run(args: &RestoreArgs) -> anyhow::Result<ExitStatus> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: &RestoreArgs) -> anyhow::Result<ExitStatus> {
    let max_attempts = ecrguard_aws::sdk::max_attempts_from_env().map_err(anyhow::Error::msg)?;
    // Checked before any AWS call: the id is the entry's own key (a file's name, an item's
    // id: the entry is rewritten there and nowhere else), and the ARN agrees with name,
    // account and region.
    let (journal, mut entry) = match args.entry.strip_prefix("dynamodb://") {
        Some(rest) => {
            let (table, id) = rest.split_once('/').ok_or_else(|| {
                anyhow::anyhow!(
                    "`{}`: name an entry as dynamodb://TABLE/ID",
                    shown(&args.entry)
                )
            })?;
            if !is_entry_id(id) {
                anyhow::bail!("`{}` is not a journal entry id", shown(id));
            }
            let journal = act::open_journal(
                &format!("dynamodb://{table}"),
                args.profile.as_deref(),
                max_attempts,
            )
            .await?;
            let entry = journal
                .load(id)
                .await
                .map_err(|e| anyhow::anyhow!(e))?
                .ok_or_else(|| anyhow::anyhow!("{}: no such entry", journal.locate(id)))?;
            (journal, entry)
        }
        None => {
            let path = std::path::Path::new(&args.entry);
            let entry = load_entry_file(path).map_err(|e| anyhow::anyhow!(e))?;
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            (Journal::Dir(JournalDir::open(dir)?), entry)
        }
    };
    let target = &entry.action.target;
    // Another account's entry (a central handler's journal): through that account's role.
    let role = match (&args.role_arn, &args.member_role) {
        (Some(_), Some(_)) => anyhow::bail!("--role-arn and --member-role: give one"),
        (Some(arn), None) => Some(arn.clone()),
        (None, Some(name)) => {
            crate::commands::handle_event::check_role_name("--member-role", name)?;
            Some(format!(
                "arn:{}:iam::{}:role/{name}",
                crate::commands::handle_event::partition(&target.region),
                target.account
            ))
        }
        (None, None) => None,
    };
    let region = target.region.clone();
    let api = SdkApi::connect_assuming(
        args.profile.as_deref(),
        role.as_deref(),
        args.external_id.as_deref(),
        std::slice::from_ref(&region),
        Timeouts {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(20),
            attempt: Duration::from_secs(25),
            operation: Duration::from_secs(120),
        },
        max_attempts,
    )
    .await
    .for_registry(&target.account);
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
