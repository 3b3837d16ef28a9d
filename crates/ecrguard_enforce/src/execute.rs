//! Applying a plan, safely: for each action, re-read the live state and skip it if it moved;
//! write the backup to the journal before touching anything; act; record the outcome. A run
//! killed anywhere converges on the next: a pending entry whose change is visible is marked
//! applied, one whose change is not is done again with the backup it already has.
//! `restore` puts back what an entry backed up.

use crate::journal::{
    Backup, Entry, ImageBackup, JOURNAL_VERSION, Journal, RepositoryBackup, Status, Written,
};
use crate::plan::{Action, Change};
use ecrguard_aws::api::{ApiError, EcrWriteApi, JournalTableApi, RepositoryInfo, RepositorySpec};

/// What happened to one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The action id.
    pub id: String,
    /// The status reached.
    pub status: Status,
    /// What happened.
    pub message: String,
}

/// The live state an action is judged against.
struct Live {
    repository: Option<RepositoryInfo>,
    policy: Option<String>,
    lifecycle: Option<String>,
}

fn same_policy(a: Option<&str>, b: Option<&str>) -> bool {
    // AWS may return a policy reformatted: compare what it says, not its bytes.
    let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).ok();
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a == b || (parse(a).is_some() && parse(a) == parse(b)),
        _ => false,
    }
}

async fn read_live<A: EcrWriteApi>(api: &A, action: &Action) -> Result<Live, ApiError> {
    let t = &action.target;
    let Some(repository) = api.describe_repository(&t.region, &t.name).await? else {
        return Ok(Live {
            repository: None,
            policy: None,
            lifecycle: None,
        });
    };
    let (policy, lifecycle) = futures_join(
        api.get_repository_policy(&t.region, &t.name),
        api.get_lifecycle_policy(&t.region, &t.name),
    )
    .await;
    Ok(Live {
        repository: Some(repository),
        policy: policy?,
        lifecycle: lifecycle?,
    })
}

/// Two futures at once, without a dependency for it.
async fn futures_join<A, B>(a: A, b: B) -> (A::Output, B::Output)
where
    A: std::future::Future,
    B: std::future::Future,
{
    let a = a.await;
    let b = b.await;
    (a, b)
}

/// Whether the live state is what the plan saw.
fn is_before(change: &Change, live: &Live) -> bool {
    let Some(repo) = &live.repository else {
        return false;
    };
    match change {
        Change::SetPolicy { before, .. } | Change::DeletePolicy { before, .. } => {
            same_policy(live.policy.as_deref(), Some(before))
        }
        Change::DeleteRepository { before, created_at } => {
            repo.created_at == Some(*created_at)
                && same_policy(live.policy.as_deref(), before.as_deref())
        }
        Change::SetImmutable { before } => {
            repo.tag_mutability.as_deref().unwrap_or("MUTABLE") == before
        }
        Change::SetScanOnPush => repo.scan_on_push != Some(true),
        Change::PutLifecyclePolicy { .. } => live.lifecycle.is_none(),
    }
}

/// Whether the live state is what the action makes.
fn is_after(change: &Change, live: &Live) -> bool {
    let Some(repo) = &live.repository else {
        return matches!(change, Change::DeleteRepository { .. });
    };
    match change {
        Change::SetPolicy { after, .. } => same_policy(live.policy.as_deref(), Some(after)),
        Change::DeletePolicy { .. } => live.policy.is_none(),
        Change::DeleteRepository { .. } => false,
        Change::SetImmutable { .. } => repo.tag_mutability.as_deref() == Some("IMMUTABLE"),
        Change::SetScanOnPush => repo.scan_on_push == Some(true),
        Change::PutLifecyclePolicy { text } => same_policy(live.lifecycle.as_deref(), Some(text)),
    }
}

async fn backup<A: EcrWriteApi>(
    api: &A,
    action: &Action,
    live: &Live,
    repo: &RepositoryInfo,
) -> Result<Backup, ApiError> {
    let t = &action.target;
    let tags = api.list_tags(&t.region, &t.arn).await?;
    let images = if action.change.destructive() {
        Some(
            api.list_images(&t.region, &t.name)
                .await?
                .iter()
                .map(ImageBackup::from)
                .collect(),
        )
    } else {
        None
    };
    Ok(Backup {
        repository: RepositoryBackup::from(repo),
        policy_text: live.policy.clone(),
        lifecycle_policy_text: live.lifecycle.clone(),
        tags,
        images,
    })
}

async fn act<A: EcrWriteApi>(api: &A, action: &Action) -> Result<(), ApiError> {
    let t = &action.target;
    match &action.change {
        Change::SetPolicy { after, .. } => {
            api.set_repository_policy(&t.region, &t.name, after).await
        }
        Change::DeletePolicy { .. } => api.delete_repository_policy(&t.region, &t.name).await,
        // The journal holds the image list; only an empty repository or an explicit
        // `allow-delete-with-images` gets here.
        Change::DeleteRepository { .. } => api.delete_repository(&t.region, &t.name, true).await,
        Change::SetImmutable { .. } => {
            api.put_image_tag_mutability(&t.region, &t.name, "IMMUTABLE")
                .await
        }
        Change::SetScanOnPush => api.put_scan_on_push(&t.region, &t.name, true).await,
        Change::PutLifecyclePolicy { text } => {
            api.put_lifecycle_policy(&t.region, &t.name, text).await
        }
    }
}

/// Options for [`apply`].
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// Seconds since the epoch, for the journal.
    pub now: i64,
    /// Whether a repository holding images may be deleted.
    pub allow_delete_with_images: bool,
}

/// Writes an entry (`new`: one that must not exist yet). `Ok(Some(_))` when another run got
/// there first: what that run recorded, which this one leaves as it is.
async fn save<T: JournalTableApi>(
    journal: &Journal<T>,
    entry: &Entry,
    new: bool,
) -> Result<Option<Outcome>, String> {
    let written = if new {
        journal.create(entry).await?
    } else {
        journal.update(entry).await?
    };
    if written == Written::Yes {
        return Ok(None);
    }
    let stored = journal.load(&entry.id).await?;
    Ok(Some(Outcome {
        id: entry.id.clone(),
        status: stored.as_ref().map_or(entry.status, |e| e.status),
        message: format!(
            "another run recorded this entry meanwhile ({}): its record kept",
            stored.as_ref().map_or("gone", |e| e.status.as_str())
        ),
    }))
}

fn outcome(entry: &Entry) -> Outcome {
    Outcome {
        id: entry.id.clone(),
        status: entry.status,
        message: entry
            .history
            .last()
            .map(|h| h.message.clone())
            .unwrap_or_default(),
    }
}

/// Applies one action. An `Err` means the journal could not be written: the caller must stop
/// (nothing may change without its backup).
///
/// # Errors
/// Journal I/O.
pub async fn apply<A: EcrWriteApi, T: JournalTableApi>(
    api: &A,
    journal: &Journal<T>,
    action: &Action,
    opts: ApplyOptions,
) -> Result<Outcome, String> {
    let mut id = action.id.clone();
    let mut existing = journal.load(&id).await?;
    let live = match read_live(api, action).await {
        Ok(l) => l,
        Err(e) => {
            return Ok(Outcome {
                id,
                status: Status::Failed,
                message: format!("cannot read the live state, nothing changed: {e}"),
            });
        }
    };
    // The same change of the same state again (someone re-opened what was closed): a new
    // entry, so the first one's record and backup stay as they are.
    let mut n = 1;
    while existing
        .as_ref()
        .is_some_and(|e| matches!(e.status, Status::Applied | Status::Restored))
        && is_before(&action.change, &live)
    {
        n += 1;
        id = format!("{}-{n}", action.id);
        existing = journal.load(&id).await?;
    }
    if let Some(e) = &existing {
        if e.status != Status::Pending {
            return Ok(Outcome {
                id,
                status: e.status,
                message: format!("already {} (journal entry kept)", e.status.as_str()),
            });
        }
    }
    if !is_before(&action.change, &live) {
        if let Some(mut e) = existing {
            // Interrupted after acting: the change is there.
            if is_after(&action.change, &live) {
                e.record(
                    opts.now,
                    Status::Applied,
                    "change found in place after an interrupted run",
                );
            } else {
                // Interrupted, then changed by someone else: the entry keeps its backup.
                e.record(
                    opts.now,
                    Status::SkippedDrift,
                    "interrupted, and the live state changed since: nothing done (backup kept)",
                );
            }
            if let Some(lost) = save(journal, &e, false).await? {
                return Ok(lost);
            }
            return Ok(outcome(&e));
        }
        let mut e = Entry {
            version: JOURNAL_VERSION,
            id,
            status: Status::SkippedDrift,
            action: action.clone(),
            backup: None,
            history: Vec::new(),
        };
        e.record(
            opts.now,
            Status::SkippedDrift,
            "the live state changed since the plan: nothing done",
        );
        if let Some(lost) = save(journal, &e, true).await? {
            return Ok(lost);
        }
        return Ok(outcome(&e));
    }
    let Some(repo) = &live.repository else {
        unreachable!("is_before needs the repository")
    };
    let mut entry = match existing {
        // A backup from an interrupted run is the true "before": never replaced.
        Some(e) => e,
        None => {
            let backup = match backup(api, action, &live, repo).await {
                Ok(b) => b,
                Err(e) => {
                    return Ok(Outcome {
                        id,
                        status: Status::Failed,
                        message: format!("cannot read what to back up, nothing changed: {e}"),
                    });
                }
            };
            let mut e = Entry {
                version: JOURNAL_VERSION,
                id,
                status: Status::Pending,
                action: action.clone(),
                backup: Some(backup),
                history: Vec::new(),
            };
            e.record(opts.now, Status::Pending, "backup written");
            // Another run that wrote this entry first is the one that acts.
            if let Some(lost) = save(journal, &e, true).await? {
                return Ok(lost);
            }
            e
        }
    };
    if action.change.destructive() && !opts.allow_delete_with_images {
        let images = entry
            .backup
            .as_ref()
            .and_then(|b| b.images.as_ref())
            .map_or(0, Vec::len);
        if images > 0 {
            entry.record(
                opts.now,
                Status::Refused,
                format!(
                    "holds {images} image(s); set `allow-delete-with-images = true` to delete it"
                ),
            );
            if let Some(lost) = save(journal, &entry, false).await? {
                return Ok(lost);
            }
            return Ok(outcome(&entry));
        }
    }
    match act(api, action).await {
        Ok(()) => entry.record(
            opts.now,
            Status::Applied,
            format!("{} done", action.change.verb()),
        ),
        Err(e) => entry.record(
            opts.now,
            Status::Failed,
            format!("{} failed: {e}", action.change.verb()),
        ),
    }
    if let Some(lost) = save(journal, &entry, false).await? {
        return Ok(lost);
    }
    Ok(outcome(&entry))
}

/// Settles entries left pending by an interrupted run that this plan no longer contains
/// (their change is in place, so nothing plans it again): marks them applied when the live
/// state shows the change, and reports the others for review.
///
/// # Errors
/// Journal I/O.
pub async fn reconcile<A: EcrWriteApi, T: JournalTableApi>(
    api: &A,
    journal: &Journal<T>,
    planned: &[Action],
    now: i64,
) -> Result<Vec<Outcome>, String> {
    let mut out = Vec::new();
    for mut e in journal.pending().await? {
        if planned.iter().any(|a| a.id == e.id) {
            continue;
        }
        match read_live(api, &e.action).await {
            Ok(live) if is_after(&e.action.change, &live) => {
                e.record(now, Status::Applied, "change found in place after an interrupted run");
                out.push(save(journal, &e, false).await?.unwrap_or_else(|| outcome(&e)));
            }
            Ok(_) => out.push(Outcome {
                id: e.id.clone(),
                status: Status::Pending,
                message: "interrupted, and the live state is neither before nor after: review it (the backup is in the entry)".into(),
            }),
            Err(err) => out.push(Outcome {
                id: e.id.clone(),
                status: Status::Pending,
                message: format!("interrupted; cannot read the live state: {err}"),
            }),
        }
    }
    Ok(out)
}

/// Puts back what an entry backed up. A deleted repository is re-created empty, with its
/// settings, tags, policy and lifecycle policy; the message lists the images that are lost.
///
/// # Errors
/// A call that failed, or an entry with nothing to restore.
pub async fn restore<A: EcrWriteApi, T: JournalTableApi>(
    api: &A,
    journal: &Journal<T>,
    entry: &mut Entry,
    now: i64,
) -> Result<String, String> {
    let Some(b) = entry.backup.clone() else {
        return Err(format!(
            "entry {} has no backup: nothing was changed",
            entry.id
        ));
    };
    if !matches!(
        entry.status,
        Status::Applied | Status::Pending | Status::Failed
    ) {
        return Err(format!(
            "entry {} is {}: nothing to restore",
            entry.id,
            entry.status.as_str()
        ));
    }
    let t = entry.action.target.clone();
    let fail = |e: ApiError| format!("restore of {} failed: {e}", entry.id);
    let message = match &entry.action.change {
        Change::SetPolicy { .. } | Change::DeletePolicy { .. } => {
            let text = b
                .policy_text
                .as_deref()
                .ok_or("the backup holds no policy")?;
            api.set_repository_policy(&t.region, &t.name, text)
                .await
                .map_err(fail)?;
            "repository policy put back as it was".to_string()
        }
        Change::SetImmutable { before } => {
            api.put_image_tag_mutability(&t.region, &t.name, before)
                .await
                .map_err(fail)?;
            format!("tag mutability put back to {before}")
        }
        Change::SetScanOnPush => {
            let on = b.repository.scan_on_push.unwrap_or(false);
            api.put_scan_on_push(&t.region, &t.name, on)
                .await
                .map_err(fail)?;
            format!("scan on push put back to {on}")
        }
        Change::PutLifecyclePolicy { .. } => {
            match &b.lifecycle_policy_text {
                Some(text) => api.put_lifecycle_policy(&t.region, &t.name, text).await,
                None => api.delete_lifecycle_policy(&t.region, &t.name).await,
            }
            .map_err(fail)?;
            "lifecycle policy put back as it was".to_string()
        }
        Change::DeleteRepository { .. } => {
            let spec = RepositorySpec {
                name: b.repository.name.clone(),
                tag_mutability: b.repository.tag_mutability.clone(),
                scan_on_push: b.repository.scan_on_push,
                encryption_type: b.repository.encryption_type.clone(),
                kms_key: b.repository.kms_key.clone(),
                tags: b.tags.clone(),
            };
            api.create_repository(&t.region, &spec)
                .await
                .map_err(fail)?;
            if let Some(text) = &b.policy_text {
                api.set_repository_policy(&t.region, &t.name, text)
                    .await
                    .map_err(fail)?;
            }
            if let Some(text) = &b.lifecycle_policy_text {
                api.put_lifecycle_policy(&t.region, &t.name, text)
                    .await
                    .map_err(fail)?;
            }
            let images = b.images.as_deref().unwrap_or_default();
            if images.is_empty() {
                "repository re-created with its settings, tags and policies (it held no images)"
                    .to_string()
            } else {
                format!(
                    "repository re-created empty with its settings, tags and policies; its {} image(s) cannot be restored: {}",
                    images.len(),
                    images
                        .iter()
                        .map(|i| if i.tags.is_empty() {
                            i.digest.clone()
                        } else {
                            format!("{} ({})", i.digest, i.tags.join(", "))
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            }
        }
    };
    entry.record(now, Status::Restored, message.clone());
    if let Some(lost) = save(journal, entry, false).await? {
        return Err(format!(
            "{message}, but the entry could not be marked restored: {}",
            lost.message
        ));
    }
    Ok(message)
}
