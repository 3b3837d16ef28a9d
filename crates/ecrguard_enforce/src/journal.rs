//! The journal: one JSON file per action, `<DIR>/<action id>.json`, written before anything
//! changes and updated after. Format version [`JOURNAL_VERSION`] (see `docs/journal.md`).
//!
//! Every write is atomic and durable: the entry goes to a temporary file in the same
//! directory, which is flushed to disk (`fsync`), renamed over the entry, and the directory
//! itself is flushed. A crash leaves either the old entry or the new one, never a torn file.
//! A backup, once written, is never overwritten.

use crate::plan::Action;
use ecrguard_aws::api::{ImageRef, JournalItem, JournalTableApi, RepositoryInfo};
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

/// Where a journal lives: a directory of files, or a DynamoDB table (`dynamodb://TABLE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalLocation {
    /// A directory, one file per entry.
    Dir(PathBuf),
    /// A DynamoDB table of the caller's own account and region.
    Table(String),
}

impl JournalLocation {
    /// `dynamodb://TABLE` names a table; anything else is a directory.
    ///
    /// # Errors
    /// A `dynamodb://` location whose table name DynamoDB would refuse.
    pub fn parse(text: &str) -> Result<JournalLocation, String> {
        match text.strip_prefix("dynamodb://") {
            Some(table) if is_table_name(table) => Ok(JournalLocation::Table(table.to_string())),
            Some(table) => Err(format!(
                "`{}` is not a DynamoDB table name (3 to 255 letters, digits, `_`, `-`, `.`)",
                table.escape_debug()
            )),
            None => Ok(JournalLocation::Dir(PathBuf::from(text))),
        }
    }
}

/// Whether DynamoDB accepts `name` as a table name.
#[must_use]
pub fn is_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// A journal: where every action's backup is written before the action, and its outcome after.
/// Both stores give the same guarantees: a new entry is written only where none is (a backup,
/// once written, is never overwritten, even by a concurrent run), a write is whole or not at
/// all, and an entry is checked against its key when read (its writer may be anyone who can
/// write the store).
pub enum Journal<T> {
    /// Files in a directory.
    Dir(JournalDir),
    /// Items of a DynamoDB table.
    Table(JournalTable<T>),
}

impl<T> std::fmt::Debug for Journal<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Journal::Dir(d) => write!(f, "Journal::Dir({})", d.dir().display()),
            Journal::Table(t) => write!(f, "Journal::Table({})", t.table),
        }
    }
}

/// A journal table and the client that reaches it.
pub struct JournalTable<T> {
    /// The DynamoDB calls.
    pub api: T,
    /// The table's name.
    pub table: String,
}

/// What a conditional write found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Written.
    Yes,
    /// Not written: another run got there first (a new entry's id was taken, or a later
    /// state of the entry was already stored).
    Lost,
}

impl<T: JournalTableApi> Journal<T> {
    /// Where an entry is, for people: its file, or `dynamodb://TABLE/ID`.
    #[must_use]
    pub fn locate(&self, id: &str) -> String {
        match self {
            Journal::Dir(d) => d.path(id).display().to_string(),
            Journal::Table(t) => format!("dynamodb://{}/{id}", t.table),
        }
    }

    /// The journal, for people.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Journal::Dir(d) => d.dir().display().to_string(),
            Journal::Table(t) => format!("dynamodb://{}", t.table),
        }
    }

    /// Reads an entry by id, checked ([`check_entry_named`]).
    ///
    /// # Errors
    /// When it cannot be read, or is not a consistent journal entry of this version.
    pub async fn load(&self, id: &str) -> Result<Option<Entry>, String> {
        match self {
            Journal::Dir(d) => d.load(id),
            Journal::Table(t) => {
                let shown = self.locate(id);
                let item = t
                    .api
                    .get_journal_item(id)
                    .await
                    .map_err(|e| format!("{shown}: {e}"))?;
                item.map(|item| entry_of_item(&shown, id, &item))
                    .transpose()
            }
        }
    }

    /// The entries left pending (an interrupted run), checked.
    ///
    /// # Errors
    /// The first unreadable entry (a journal is never silently partial).
    pub async fn pending(&self) -> Result<Vec<Entry>, String> {
        match self {
            Journal::Dir(d) => Ok(d
                .entries()?
                .into_iter()
                .filter(|e| e.status == Status::Pending)
                .collect()),
            Journal::Table(t) => {
                let items = t
                    .api
                    .journal_items_with_status(Status::Pending.as_str())
                    .await
                    .map_err(|e| format!("{}: {e}", self.describe()))?;
                let mut entries = items
                    .iter()
                    .map(|item| entry_of_item(&self.locate(&item.id), &item.id, item))
                    .collect::<Result<Vec<_>, _>>()?;
                entries.sort_by(|a, b| a.id.cmp(&b.id));
                Ok(entries)
            }
        }
    }

    /// Writes a new entry, only where none is.
    ///
    /// # Errors
    /// A failed write (nothing may change without its backup).
    pub async fn create(&self, entry: &Entry) -> Result<Written, String> {
        self.put(entry, true).await
    }

    /// Writes a later state of an entry already written.
    ///
    /// # Errors
    /// A failed write.
    pub async fn update(&self, entry: &Entry) -> Result<Written, String> {
        self.put(entry, false).await
    }

    async fn put(&self, entry: &Entry, new: bool) -> Result<Written, String> {
        let fail = |e: &dyn std::fmt::Display| {
            format!("cannot write journal entry {}: {e}", self.locate(&entry.id))
        };
        match self {
            Journal::Dir(d) if new => d.create(entry).map_err(|e| fail(&e)),
            Journal::Dir(d) => d.write(entry).map(|()| Written::Yes).map_err(|e| fail(&e)),
            Journal::Table(t) => {
                let item = item_of_entry(entry).map_err(|e| fail(&e))?;
                let written = if new {
                    t.api.put_new_journal_item(&item).await
                } else {
                    t.api.replace_journal_item(&item).await
                };
                match written {
                    Ok(true) => Ok(Written::Yes),
                    Ok(false) => Ok(Written::Lost),
                    Err(e) => Err(fail(&e)),
                }
            }
        }
    }
}

/// Largest entry an item holds: DynamoDB's item limit is 400 KB, attribute names included.
pub const MAX_ITEM_ENTRY_BYTES: usize = 390 * 1024;

fn item_of_entry(entry: &Entry) -> Result<JournalItem, String> {
    if !is_entry_id(&entry.id) {
        return Err(format!(
            "entry id `{}` cannot name a journal item",
            entry.id.escape_debug()
        ));
    }
    let body = serde_json::to_string(entry).map_err(|e| e.to_string())?;
    if body.len() > MAX_ITEM_ENTRY_BYTES {
        return Err(format!(
            "the entry is {} bytes, more than a DynamoDB item holds ({MAX_ITEM_ENTRY_BYTES}); \
             nothing changed",
            body.len()
        ));
    }
    Ok(JournalItem {
        id: entry.id.clone(),
        revision: entry.history.len() as u64,
        status: entry.status.as_str().to_string(),
        body,
    })
}

fn entry_of_item(shown: &str, key: &str, item: &JournalItem) -> Result<Entry, String> {
    if item.id != key {
        return Err(format!("{shown}: the item's id is not its key; refused"));
    }
    let entry = parse_entry(shown, &item.body)?;
    check_entry_named(shown, key, &entry)?;
    Ok(entry)
}

/// A journal directory: one JSON file per entry.
#[derive(Debug, Clone)]
pub struct JournalDir {
    dir: PathBuf,
}

impl JournalDir {
    /// Opens (creating) the directory.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn open(dir: &Path) -> std::io::Result<JournalDir> {
        std::fs::create_dir_all(dir)?;
        Ok(JournalDir {
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

    /// Reads an entry by id, checked.
    ///
    /// # Errors
    /// When the file exists but cannot be read or is not a consistent journal entry of this
    /// version.
    pub fn load(&self, id: &str) -> Result<Option<Entry>, String> {
        let path = self.path(id);
        match ecrguard_walk::input::read_text(
            &path,
            MAX_ENTRY_BYTES,
            ecrguard_walk::input::Kinds::Regular,
        ) {
            Ok(text) => {
                let entry = read_entry(&path, &text)?;
                check_entry(&path, &entry)?;
                Ok(Some(entry))
            }
            Err(ecrguard_walk::input::ReadError::NotFound) => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Every entry, by file name, checked.
    ///
    /// # Errors
    /// The first unreadable entry (a journal is never silently partial).
    pub fn entries(&self) -> Result<Vec<Entry>, String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map_err(|e| format!("{}: {e}", self.dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.as_encoded_bytes().starts_with(b"."))
            })
            .collect();
        files.sort();
        files.iter().map(|p| load_entry_file(p)).collect()
    }

    /// Writes a new entry, only where none is: the file is written whole beside it, then
    /// linked into place, which fails when the entry exists.
    ///
    /// # Errors
    /// Any I/O failure.
    pub fn create(&self, entry: &Entry) -> std::io::Result<Written> {
        let (path, tmp) = self.stage(entry)?;
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                std::fs::File::open(&self.dir)?.sync_all()?;
                Ok(Written::Yes)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Written::Lost),
            Err(e) => Err(e),
        }
    }

    /// Writes an entry atomically and durably, over its previous state.
    ///
    /// # Errors
    /// Any I/O failure (the previous version of the entry, if any, is left intact).
    pub fn write(&self, entry: &Entry) -> std::io::Result<()> {
        let (path, tmp) = self.stage(entry)?;
        std::fs::rename(&tmp, &path)?;
        // The rename itself must reach the disk.
        std::fs::File::open(&self.dir)?.sync_all()
    }

    /// The entry written and flushed to a temporary file beside its own.
    fn stage(&self, entry: &Entry) -> std::io::Result<(PathBuf, PathBuf)> {
        if !is_entry_id(&entry.id) {
            return Err(std::io::Error::other(format!(
                "entry id `{}` cannot name a journal file",
                entry.id.escape_debug()
            )));
        }
        static STAGED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = STAGED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = self.path(&entry.id);
        let tmp = self
            .dir
            .join(format!(".{}.{}-{n}.tmp", entry.id, std::process::id()));
        let mut text = serde_json::to_string_pretty(entry).map_err(std::io::Error::other)?;
        text.push('\n');
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        Ok((path, tmp))
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
    let stem = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".json"))
        .unwrap_or_default();
    check_entry_named(&path.display().to_string(), stem, entry)
        .map_err(|e| e.replace("is not its key", "is not the file's name"))
}

/// Checks that an entry is what its key (a file's name, an item's id) says it is, and that its
/// target's ARN names exactly its repository, account and region.
///
/// # Errors
/// What does not agree.
pub fn check_entry_named(shown: &str, key: &str, entry: &Entry) -> Result<(), String> {
    if !is_entry_id(&entry.id) {
        return Err(format!(
            "{shown}: entry id `{}` is not an entry id",
            entry.id.escape_debug()
        ));
    }
    if key != entry.id {
        return Err(format!(
            "{shown}: entry id `{}` is not its key; refused",
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
    parse_entry(&path.display().to_string(), text)
}

/// Parses an entry's JSON, checking its version; `shown` names where it came from.
///
/// # Errors
/// When it is not an entry of a version this build reads.
pub fn parse_entry(shown: &str, text: &str) -> Result<Entry, String> {
    let version = serde_json::from_str::<serde_json::Value>(text)
        .map_err(|e| format!("{shown}: not JSON: {e}"))?
        .get("version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(JOURNAL_VERSION)) {
        return Err(format!(
            "{shown}: journal version {version:?}, this ecrguard reads {JOURNAL_VERSION}"
        ));
    }
    serde_json::from_str(text).map_err(|e| format!("{shown}: not a journal entry: {e}"))
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
        let journal = JournalDir::open(&dir).unwrap();
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
