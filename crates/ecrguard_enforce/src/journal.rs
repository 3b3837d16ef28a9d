//! The journal: one JSON file per action, `<DIR>/<action id>.json`, written before anything
//! changes and updated after. Format version [`JOURNAL_VERSION`] (see `docs/journal.md`).
//!
//! Every write is atomic and durable: the entry goes to a temporary file in the same
//! directory, which is flushed to disk (`fsync`), renamed over the entry, and the directory
//! itself is flushed. A crash leaves either the old entry or the new one, never a torn file.
//! A backup, once written, is never overwritten.

use crate::plan::Action;
use ecrguard_aws::api::{ImageRef, RepositoryInfo};
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The journal format version; bumped on incompatible changes.
pub const JOURNAL_VERSION: u32 = 1;

/// Where an action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Backup written; the change may or may not have happened (a crash in between).
    Pending,
    /// Done.
    Applied,
    /// The live state differed from the plan's: nothing done.
    SkippedDrift,
    /// Refused by a safety rule (a repository holding images).
    Refused,
    /// The change failed; nothing or part done (the backup holds the previous state).
    Failed,
    /// Put back by `ecrguard restore`.
    Restored,
}

impl Status {
    /// The word for output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Applied => "applied",
            Status::SkippedDrift => "skipped-drift",
            Status::Refused => "refused",
            Status::Failed => "failed",
            Status::Restored => "restored",
        }
    }
}

/// A repository's settings as they were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryBackup {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Account.
    pub registry_id: String,
    /// Tag mutability.
    pub tag_mutability: Option<String>,
    /// Scan on push.
    pub scan_on_push: Option<bool>,
    /// Encryption type.
    pub encryption_type: Option<String>,
    /// KMS key.
    pub kms_key: Option<String>,
    /// `createdAt`.
    pub created_at: Option<i64>,
}

impl From<&RepositoryInfo> for RepositoryBackup {
    fn from(r: &RepositoryInfo) -> Self {
        RepositoryBackup {
            name: r.name.clone(),
            arn: r.arn.clone(),
            registry_id: r.registry_id.clone(),
            tag_mutability: r.tag_mutability.clone(),
            scan_on_push: r.scan_on_push,
            encryption_type: r.encryption_type.clone(),
            kms_key: r.kms_key.clone(),
            created_at: r.created_at,
        }
    }
}

/// An image as it was (a deleted repository's images cannot be brought back; the list says
/// what was lost).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageBackup {
    /// Digest.
    pub digest: String,
    /// Tags.
    pub tags: Vec<String>,
}

impl From<&ImageRef> for ImageBackup {
    fn from(i: &ImageRef) -> Self {
        ImageBackup {
            digest: i.digest.clone(),
            tags: i.tags.clone(),
        }
    }
}

/// Everything the action could change, read just before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    /// The repository's settings.
    pub repository: RepositoryBackup,
    /// The full repository policy text, exactly as `GetRepositoryPolicy` returned it.
    pub policy_text: Option<String>,
    /// The lifecycle policy text.
    pub lifecycle_policy_text: Option<String>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// For a deletion: the images it held.
    pub images: Option<Vec<ImageBackup>>,
}

/// One status change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryItem {
    /// Seconds since the epoch.
    pub at: i64,
    /// The status reached.
    pub status: Status,
    /// What happened.
    pub message: String,
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// [`JOURNAL_VERSION`].
    pub version: u32,
    /// The action id (also the file name).
    pub id: String,
    /// Current status.
    pub status: Status,
    /// The planned action.
    pub action: Action,
    /// The state before (absent when nothing was read: a drift skip before any backup).
    pub backup: Option<Backup>,
    /// Every status change, oldest first.
    pub history: Vec<HistoryItem>,
}

impl Entry {
    /// Moves to `status`, recording why.
    pub fn record(&mut self, at: i64, status: Status, message: impl Into<String>) {
        self.status = status;
        self.history.push(HistoryItem {
            at,
            status,
            message: message.into(),
        });
    }
}

/// A journal directory.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    /// Opens (creating) the directory.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn open(dir: &Path) -> std::io::Result<Journal> {
        std::fs::create_dir_all(dir)?;
        Ok(Journal {
            dir: dir.to_path_buf(),
        })
    }

    /// The directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of an entry.
    #[must_use]
    pub fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Reads an entry by id.
    ///
    /// # Errors
    /// When the file exists but cannot be read or is not a journal entry of this version.
    pub fn load(&self, id: &str) -> Result<Option<Entry>, String> {
        let path = self.path(id);
        match std::fs::read_to_string(&path) {
            Ok(text) => read_entry(&path, &text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Every entry, by file name.
    ///
    /// # Errors
    /// The first unreadable entry (a journal is never silently partial).
    pub fn entries(&self) -> Result<Vec<Entry>, String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map_err(|e| format!("{}: {e}", self.dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| {
                let text =
                    std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
                read_entry(p, &text)
            })
            .collect()
    }

    /// Writes an entry atomically and durably.
    ///
    /// # Errors
    /// Any I/O failure (the previous version of the entry, if any, is left intact).
    pub fn write(&self, entry: &Entry) -> std::io::Result<()> {
        let path = self.path(&entry.id);
        let tmp = self.dir.join(format!(".{}.json.tmp", entry.id));
        let mut text = serde_json::to_string_pretty(entry).map_err(std::io::Error::other)?;
        text.push('\n');
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        // The rename itself must reach the disk.
        std::fs::File::open(&self.dir)?.sync_all()
    }
}

/// Parses an entry file, checking its version.
///
/// # Errors
/// When it is not an entry of a version this build reads.
pub fn read_entry(path: &Path, text: &str) -> Result<Entry, String> {
    let version = serde_json::from_str::<serde_json::Value>(text)
        .map_err(|e| format!("{}: not JSON: {e}", path.display()))?
        .get("version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(JOURNAL_VERSION)) {
        return Err(format!(
            "{}: journal version {version:?}, this ecrguard reads {JOURNAL_VERSION}",
            path.display()
        ));
    }
    serde_json::from_str(text).map_err(|e| format!("{}: not a journal entry: {e}", path.display()))
}
