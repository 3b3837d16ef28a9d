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
        // Ids are made by the plan; one that could leave the directory never reaches here
        // (checked by `write` and `check_entry`), but the file name is built safely anyway.
        let safe: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{safe}.json"))
    }

    /// Reads an entry by id.
    ///
    /// # Errors
    /// When the file exists but cannot be read or is not a journal entry of this version.
    pub fn load(&self, id: &str) -> Result<Option<Entry>, String> {
        let path = self.path(id);
        match ecrguard_walk::input::read_text(
            &path,
            MAX_ENTRY_BYTES,
            ecrguard_walk::input::Kinds::Regular,
        ) {
            Ok(text) => read_entry(&path, &text).map(Some),
            Err(ecrguard_walk::input::ReadError::NotFound) => Ok(None),
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
                let text = ecrguard_walk::input::read_text(
                    p,
                    MAX_ENTRY_BYTES,
                    ecrguard_walk::input::Kinds::Regular,
                )
                .map_err(|e| format!("{}: {e}", p.display()))?;
                read_entry(p, &text)
            })
            .collect()
    }

    /// Writes an entry atomically and durably.
    ///
    /// # Errors
    /// Any I/O failure (the previous version of the entry, if any, is left intact).
    pub fn write(&self, entry: &Entry) -> std::io::Result<()> {
        if !is_entry_id(&entry.id) {
            return Err(std::io::Error::other(format!(
                "entry id `{}` cannot name a journal file",
                entry.id.escape_debug()
            )));
        }
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

/// Largest entry file read: a backup holds a policy (at most 10 KiB), a lifecycle policy
/// (30 KiB) and, for a deletion, the list of images; far below this.
pub const MAX_ENTRY_BYTES: u64 = 16 * 1024 * 1024;

/// Whether an id can name an entry file: what [`crate::plan`] makes (letters, digits, `-`,
/// `_`, `.`), never a path.
#[must_use]
pub fn is_entry_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Checks that an entry is what its file says it is: its id is the file's own name, and its
/// target's ARN names exactly its repository, account and region. An entry file may have
/// been written by anyone who can write the directory; `restore` acts on what it says.
///
/// # Errors
/// What does not agree.
pub fn check_entry(path: &Path, entry: &Entry) -> Result<(), String> {
    let shown = path.display();
    if !is_entry_id(&entry.id) {
        return Err(format!(
            "{shown}: entry id `{}` is not an entry id",
            entry.id.escape_debug()
        ));
    }
    let stem = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".json"));
    if stem != Some(entry.id.as_str()) {
        return Err(format!(
            "{shown}: entry id `{}` is not the file's name; refused",
            entry.id.escape_debug()
        ));
    }
    let t = &entry.action.target;
    if !crate::event::is_account(&t.account)
        || !crate::event::is_region(&t.region)
        || !crate::event::is_repository_name(&t.name)
    {
        return Err(format!(
            "{shown}: target account `{}`, region `{}` or repository `{}` is malformed; refused",
            t.account.escape_debug(),
            t.region.escape_debug(),
            t.name.escape_debug()
        ));
    }
    let partition_ok = |p: &str| matches!(p, "aws" | "aws-cn" | "aws-us-gov");
    let agrees = t
        .arn
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(partition, rest)| {
            partition_ok(partition)
                && rest == format!("ecr:{}:{}:repository/{}", t.region, t.account, t.name)
        });
    if !agrees {
        return Err(format!(
            "{shown}: target ARN `{}` does not name repository `{}` of account {} in {}; refused",
            t.arn.escape_debug(),
            t.name,
            t.account,
            t.region
        ));
    }
    if let Some(b) = &entry.backup
        && (b.repository.name != t.name || b.repository.registry_id != t.account)
        && !b.repository.registry_id.is_empty()
    {
        return Err(format!(
            "{shown}: the backup is of repository `{}` of account `{}`, not the target; refused",
            b.repository.name.escape_debug(),
            b.repository.registry_id.escape_debug()
        ));
    }
    Ok(())
}

/// Reads an entry file through the input budget (it may be `/dev/zero` or a pipe) and
/// checks it ([`read_entry`], [`check_entry`]).
///
/// # Errors
/// Unreadable, not an entry of this version, or inconsistent.
pub fn load_entry_file(path: &Path) -> Result<Entry, String> {
    let text = ecrguard_walk::input::read_text(
        path,
        MAX_ENTRY_BYTES,
        ecrguard_walk::input::Kinds::Regular,
    )
    .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let entry = read_entry(path, &text)?;
    check_entry(path, &entry)?;
    Ok(entry)
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

#[cfg(test)]
mod entry_checks {
    use super::*;

    fn entry_json(id: &str, arn: &str, name: &str, account: &str, region: &str) -> String {
        serde_json::json!({
            "version": 1,
            "id": id,
            "status": "applied",
            "action": {
                "id": id,
                "target": {"arn": arn, "name": name, "account": account, "region": region},
                "controls": ["tag-immutability"],
                "rules": ["ECR010"],
                "reason": "r",
                "change": {"kind": "set-immutable", "before": "MUTABLE"}
            },
            "backup": null,
            "history": []
        })
        .to_string()
    }

    fn check(file: &str, text: &str) -> Result<(), String> {
        let path = Path::new("/journal").join(file);
        check_entry(&path, &read_entry(&path, text)?)
    }

    #[test]
    fn an_entry_must_be_what_its_file_says() {
        let arn = "arn:aws:ecr:us-east-1:111111111111:repository/victim";
        let ok = entry_json("abc123", arn, "victim", "111111111111", "us-east-1");
        check("abc123.json", &ok).unwrap();
        // The id decides where the entry is rewritten: it must be the file's own name.
        let e = check(
            "abc123.json",
            &ok.replace("\"id\":\"abc123\"", "\"id\":\"../../x\""),
        )
        .unwrap_err();
        assert!(e.contains("not an entry id"), "{e}");
        let e = check("other.json", &ok).unwrap_err();
        assert!(e.contains("not the file's name"), "{e}");
        // The ARN must name the repository, account and region the calls will use.
        for (arn, name, account, region) in [
            (
                "arn:aws:ecr:us-east-1:999999999999:repository/other",
                "victim",
                "111111111111",
                "us-east-1",
            ),
            (
                "arn:aws:ecr:us-east-1:111111111111:repository/other",
                "victim",
                "111111111111",
                "us-east-1",
            ),
            (
                "arn:aws:ecr:eu-west-1:111111111111:repository/victim",
                "victim",
                "111111111111",
                "us-east-1",
            ),
            (
                "arn:evil:ecr:us-east-1:111111111111:repository/victim",
                "victim",
                "111111111111",
                "us-east-1",
            ),
        ] {
            let e = check(
                "abc123.json",
                &entry_json("abc123", arn, name, account, region),
            )
            .unwrap_err();
            assert!(e.contains("does not name"), "{arn}: {e}");
        }
        let e = check(
            "abc123.json",
            &entry_json(
                "abc123",
                arn,
                "victim",
                "111111111111",
                "attacker.example.com/x?",
            ),
        )
        .unwrap_err();
        assert!(e.contains("malformed"), "{e}");
    }

    #[test]
    fn a_journal_never_writes_outside_its_directory() {
        let dir = std::env::temp_dir().join(format!("ecrguard-journal-ids-{}", std::process::id()));
        let journal = Journal::open(&dir).unwrap();
        assert!(journal.path("../../x").starts_with(&dir));
        let arn = "arn:aws:ecr:us-east-1:111111111111:repository/victim";
        let mut entry: Entry = serde_json::from_str(&entry_json(
            "ok",
            arn,
            "victim",
            "111111111111",
            "us-east-1",
        ))
        .unwrap();
        entry.id = "../../escape".into();
        assert!(journal.write(&entry).is_err());
        assert!(!dir.parent().unwrap().join("escape.json").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn entry_files_are_read_within_the_budget() {
        let e = load_entry_file(Path::new("/dev/zero")).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
