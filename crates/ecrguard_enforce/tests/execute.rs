//! The journal's crash-safety rules with an in-memory ECR (the same rules run against moto,
//! with a real kill, in the binary's tests): every state an interrupted run can leave, in
//! both stores: a directory, and a table that keeps DynamoDB's conditional-write rules (the
//! SDK's own table client runs against moto's DynamoDB in the binary's tests).

use ecrguard_aws::api::{
    ApiError, EcrApi, EcrPublicApi, EcrWriteApi, ImageRef, JournalItem, JournalTableApi,
    PublicRepositoryInfo, RepositoryInfo, RepositorySpec,
};
use ecrguard_enforce::execute::{ApplyOptions, apply, reconcile};
use ecrguard_enforce::journal::{
    Backup, Entry, JOURNAL_VERSION, Journal, JournalDir, JournalTable, RepositoryBackup, Status,
    Written, read_entry,
};
use ecrguard_enforce::plan::{Action, Change, Target};
use std::collections::BTreeMap;
use std::sync::Mutex;

const BEFORE: &str = r#"{"Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"ecr:*"},{"Sid":"Ci","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/ci"},"Action":"ecr:PutImage"}]}"#;
const AFTER: &str = r#"{"Statement":[{"Sid":"Ci","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/ci"},"Action":"ecr:PutImage"}]}"#;

/// One repository, `app`, whose policy text the test sets; counts policy writes.
struct Ecr {
    policy: Mutex<Option<String>>,
    writes: Mutex<usize>,
    registry_reads: Mutex<usize>,
}

fn info() -> RepositoryInfo {
    RepositoryInfo {
        name: "app".into(),
        arn: "arn:aws:ecr:us-east-1:111111111111:repository/app".into(),
        registry_id: "111111111111".into(),
        tag_mutability: Some("IMMUTABLE".into()),
        scan_on_push: Some(true),
        encryption_type: Some("AES256".into()),
        kms_key: None,
        created_at: Some(0),
    }
}

impl EcrApi for Ecr {
    async fn account_id(&self) -> Result<String, ApiError> {
        Ok("111111111111".into())
    }
    async fn describe_repositories(&self, _: &str) -> Result<Vec<RepositoryInfo>, ApiError> {
        Ok(vec![info()])
    }
    async fn get_repository_policy(&self, _: &str, _: &str) -> Result<Option<String>, ApiError> {
        Ok(self.policy.lock().unwrap().clone())
    }
    async fn get_lifecycle_policy(&self, _: &str, _: &str) -> Result<Option<String>, ApiError> {
        Ok(None)
    }
    async fn list_tags(&self, _: &str, _: &str) -> Result<Vec<(String, String)>, ApiError> {
        Ok(vec![("team".into(), "core".into())])
    }
    async fn get_registry_policy(&self, _: &str) -> Result<Option<String>, ApiError> {
        *self.registry_reads.lock().unwrap() += 1;
        Ok(None)
    }
    async fn creation_templates(
        &self,
        _: &str,
    ) -> Result<Vec<ecrguard_aws::api::CreationTemplateInfo>, ApiError> {
        Ok(Vec::new())
    }
    async fn pull_through_cache_rules(
        &self,
        _: &str,
    ) -> Result<Vec<ecrguard_aws::api::PullThroughCacheRuleInfo>, ApiError> {
        Ok(Vec::new())
    }
    async fn registry_scan_filters(&self, _: &str) -> Result<Vec<String>, ApiError> {
        Ok(Vec::new())
    }
    async fn replication_rules(
        &self,
        _: &str,
    ) -> Result<Vec<ecrguard_aws::api::ReplicationRuleInfo>, ApiError> {
        Ok(Vec::new())
    }
}

impl EcrWriteApi for Ecr {
    async fn describe_repository(
        &self,
        _: &str,
        _: &str,
    ) -> Result<Option<RepositoryInfo>, ApiError> {
        Ok(Some(info()))
    }
    async fn list_images(&self, _: &str, _: &str) -> Result<Vec<ImageRef>, ApiError> {
        Ok(Vec::new())
    }
    async fn set_repository_policy(&self, _: &str, _: &str, text: &str) -> Result<(), ApiError> {
        *self.writes.lock().unwrap() += 1;
        *self.policy.lock().unwrap() = Some(text.to_string());
        Ok(())
    }
    async fn delete_repository_policy(&self, _: &str, _: &str) -> Result<(), ApiError> {
        *self.policy.lock().unwrap() = None;
        Ok(())
    }
    async fn delete_repository(&self, _: &str, _: &str, _: bool) -> Result<(), ApiError> {
        unreachable!("not planned here")
    }
    async fn put_image_tag_mutability(&self, _: &str, _: &str, _: &str) -> Result<(), ApiError> {
        unreachable!("not planned here")
    }
    async fn put_scan_on_push(&self, _: &str, _: &str, _: bool) -> Result<(), ApiError> {
        unreachable!("not planned here")
    }
    async fn put_lifecycle_policy(&self, _: &str, _: &str, _: &str) -> Result<(), ApiError> {
        unreachable!("not planned here")
    }
    async fn delete_lifecycle_policy(&self, _: &str, _: &str) -> Result<(), ApiError> {
        unreachable!("not planned here")
    }
    async fn create_repository(&self, _: &str, _: &RepositorySpec) -> Result<(), ApiError> {
        unreachable!("not planned here")
    }
}

/// One ECR Public repository, `oss-cli`, without a policy.
impl EcrPublicApi for Ecr {
    async fn public_repositories(&self) -> Result<(Vec<PublicRepositoryInfo>, usize), ApiError> {
        Ok((
            vec![PublicRepositoryInfo {
                name: "oss-cli".into(),
                arn: "arn:aws:ecr-public::111111111111:repository/oss-cli".into(),
                registry_id: "111111111111".into(),
                policy: Ok(None),
            }],
            2,
        ))
    }
}

fn action() -> Action {
    Action {
        id: "a1".into(),
        target: Target {
            arn: info().arn,
            name: "app".into(),
            account: "111111111111".into(),
            region: "us-east-1".into(),
        },
        controls: vec!["public-policy".into()],
        rules: vec!["ECR002".into()],
        reason: "test".into(),
        change: Change::SetPolicy {
            removed: vec![0],
            before: BEFORE.into(),
            after: AFTER.into(),
        },
    }
}

/// A table with DynamoDB's conditional-write rules: a new item only where none is, a
/// replacement only over a lower revision. `rival`, when set, is written by "another run"
/// just before this one's first new item.
#[derive(Default)]
struct MemoryTable {
    items: Mutex<BTreeMap<String, JournalItem>>,
    rival: Mutex<Option<JournalItem>>,
}

impl JournalTableApi for MemoryTable {
    async fn get_journal_item(&self, id: &str) -> Result<Option<JournalItem>, ApiError> {
        Ok(self.items.lock().unwrap().get(id).cloned())
    }
    async fn put_new_journal_item(&self, item: &JournalItem) -> Result<bool, ApiError> {
        let mut items = self.items.lock().unwrap();
        if let Some(rival) = self.rival.lock().unwrap().take() {
            items.insert(rival.id.clone(), rival);
        }
        if items.contains_key(&item.id) {
            return Ok(false);
        }
        items.insert(item.id.clone(), item.clone());
        Ok(true)
    }
    async fn replace_journal_item(&self, item: &JournalItem) -> Result<bool, ApiError> {
        let mut items = self.items.lock().unwrap();
        match items.get(&item.id) {
            Some(old) if old.revision < item.revision => {
                items.insert(item.id.clone(), item.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn journal_items_with_status(&self, status: &str) -> Result<Vec<JournalItem>, ApiError> {
        Ok(self
            .items
            .lock()
            .unwrap()
            .values()
            .filter(|i| i.status == status)
            .cloned()
            .collect())
    }
}

type TestJournal = Journal<MemoryTable>;

/// A pending entry as a run killed right after writing its backup leaves it.
fn pending_entry(backup_text: &str) -> Entry {
    let mut e = Entry {
        version: JOURNAL_VERSION,
        id: "a1".into(),
        status: Status::Pending,
        action: action(),
        backup: Some(Backup {
            repository: RepositoryBackup::from(&info()),
            policy_text: Some(backup_text.into()),
            lifecycle_policy_text: None,
            tags: Vec::new(),
            images: None,
        }),
        history: Vec::new(),
    };
    e.record(1, Status::Pending, "backup written");
    e
}

async fn pending(journal: &TestJournal, backup_text: &str) {
    assert_eq!(
        journal.create(&pending_entry(backup_text)).await.unwrap(),
        Written::Yes
    );
}

fn journal_dir(name: &str) -> JournalDir {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ecrguard-exec-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    JournalDir::open(&dir).unwrap()
}

/// The same journal rules hold in both stores.
fn stores(name: &str) -> [TestJournal; 2] {
    [
        Journal::Dir(journal_dir(name)),
        Journal::Table(JournalTable {
            api: MemoryTable::default(),
            table: "ecrguard-journal".into(),
        }),
    ]
}

fn ecr(policy: &str) -> Ecr {
    Ecr {
        policy: Mutex::new(Some(policy.into())),
        writes: Mutex::new(0),
        registry_reads: Mutex::new(0),
    }
}

const OPTS: ApplyOptions = ApplyOptions {
    now: 2,
    allow_delete_with_images: false,
};

#[tokio::test]
async fn a_fresh_apply_backs_up_first_then_acts_once() {
    for j in stores("fresh") {
        let api = ecr(BEFORE);
        let o = apply(&api, &j, &action(), OPTS).await.unwrap();
        assert_eq!(o.status, Status::Applied);
        let e = j.load("a1").await.unwrap().unwrap();
        assert_eq!(e.backup.unwrap().policy_text.as_deref(), Some(BEFORE));
        assert_eq!(
            e.history.iter().map(|h| h.status).collect::<Vec<_>>(),
            [Status::Pending, Status::Applied]
        );
        // Again: the state is the action's result, so nothing is sent twice.
        let o = apply(&api, &j, &action(), OPTS).await.unwrap();
        assert_eq!(o.status, Status::Applied);
        assert_eq!(*api.writes.lock().unwrap(), 1, "{j:?}");
    }
}

#[tokio::test]
async fn killed_after_the_backup_acts_with_the_backup_it_has() {
    for j in stores("before") {
        pending(&j, "the backup the first run wrote").await;
        let api = ecr(BEFORE);
        let o = apply(&api, &j, &action(), OPTS).await.unwrap();
        assert_eq!(o.status, Status::Applied);
        let e = j.load("a1").await.unwrap().unwrap();
        assert_eq!(
            e.backup.unwrap().policy_text.as_deref(),
            Some("the backup the first run wrote"),
            "never replaced"
        );
        assert_eq!(*api.writes.lock().unwrap(), 1);
    }
}

#[tokio::test]
async fn killed_after_acting_is_recognised_not_redone() {
    for j in stores("after") {
        pending(&j, BEFORE).await;
        let api = ecr(AFTER);
        // The plan no longer has it (the state is fixed): reconcile settles the entry.
        let settled = reconcile(&api, &j, &[], 3).await.unwrap();
        assert_eq!(settled.len(), 1);
        assert_eq!(settled[0].status, Status::Applied);
        assert_eq!(j.load("a1").await.unwrap().unwrap().status, Status::Applied);
        assert_eq!(*api.writes.lock().unwrap(), 0, "nothing sent again");
    }
}

#[tokio::test]
async fn killed_then_changed_by_someone_else_keeps_the_backup() {
    for j in stores("drift") {
        pending(&j, BEFORE).await;
        let api = ecr(
            r#"{"Statement":[{"Sid":"Other","Effect":"Deny","Principal":"*","Action":"ecr:*"}]}"#,
        );
        let o = apply(&api, &j, &action(), OPTS).await.unwrap();
        assert_eq!(o.status, Status::SkippedDrift);
        let e = j.load("a1").await.unwrap().unwrap();
        assert_eq!(
            e.backup.unwrap().policy_text.as_deref(),
            Some(BEFORE),
            "backup kept"
        );
        assert_eq!(*api.writes.lock().unwrap(), 0);
    }
}

#[test]
fn entries_are_versioned_and_writes_leave_no_temporary_file() {
    let j = journal_dir("format");
    assert_eq!(j.create(&pending_entry(BEFORE)).unwrap(), Written::Yes);
    let names: Vec<String> = std::fs::read_dir(j.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["a1.json"]);
    let text = std::fs::read_to_string(j.path("a1")).unwrap();
    assert!(read_entry(&j.path("a1"), &text).is_ok());
    let future = text.replacen("\"version\": 1", "\"version\": 2", 1);
    assert!(
        read_entry(&j.path("a1"), &future)
            .unwrap_err()
            .contains("journal version")
    );
    assert!(
        read_entry(&j.path("a1"), "{")
            .unwrap_err()
            .contains("not JSON")
    );
}

#[tokio::test]
async fn a_backup_once_written_is_never_overwritten() {
    for j in stores("no-overwrite") {
        pending(&j, "first").await;
        // A second new entry of the same id loses, whoever writes it.
        assert_eq!(
            j.create(&pending_entry("second")).await.unwrap(),
            Written::Lost,
            "{j:?}"
        );
        let stored = j.load("a1").await.unwrap().unwrap();
        assert_eq!(stored.backup.unwrap().policy_text.as_deref(), Some("first"));
    }
}

#[tokio::test]
async fn a_run_that_loses_the_race_for_an_entry_does_not_act() {
    let table = MemoryTable::default();
    let mut rival = pending_entry("the rival's backup");
    rival.record(1, Status::Applied, "done by the rival");
    *table.rival.lock().unwrap() = Some(JournalItem {
        id: "a1".into(),
        revision: rival.history.len() as u64,
        status: "applied".into(),
        body: serde_json::to_string(&rival).unwrap(),
    });
    let j = Journal::Table(JournalTable {
        api: table,
        table: "t".into(),
    });
    let api = ecr(BEFORE);
    let o = apply(&api, &j, &action(), OPTS).await.unwrap();
    assert_eq!(o.status, Status::Applied, "{}", o.message);
    assert!(o.message.contains("another run"), "{}", o.message);
    assert_eq!(
        *api.writes.lock().unwrap(),
        0,
        "the rival acts, not this run"
    );
    let stored = j.load("a1").await.unwrap().unwrap();
    assert_eq!(
        stored.backup.unwrap().policy_text.as_deref(),
        Some("the rival's backup")
    );
}

#[tokio::test]
async fn an_older_state_never_replaces_a_newer_one_in_a_table() {
    let [_, j] = stores("older");
    let mut e = pending_entry(BEFORE);
    assert_eq!(j.create(&e).await.unwrap(), Written::Yes);
    let stale = e.clone();
    e.record(2, Status::Applied, "done");
    assert_eq!(j.update(&e).await.unwrap(), Written::Yes);
    assert_eq!(j.update(&stale).await.unwrap(), Written::Lost);
    assert_eq!(j.load("a1").await.unwrap().unwrap().status, Status::Applied);
}

#[tokio::test]
async fn table_items_are_checked_against_their_key() {
    let [_, j] = stores("hostile");
    let Journal::Table(t) = &j else {
        unreachable!()
    };
    let mut e = pending_entry(BEFORE);
    e.id = "other".into();
    t.api.items.lock().unwrap().insert(
        "a1".into(),
        JournalItem {
            id: "a1".into(),
            revision: 1,
            status: "pending".into(),
            body: serde_json::to_string(&e).unwrap(),
        },
    );
    let err = j.load("a1").await.unwrap_err();
    assert!(err.contains("dynamodb://ecrguard-journal/a1"), "{err}");
    assert!(err.contains("not its key"), "{err}");
    // Reconciling never acts on what a hostile item says.
    let api = ecr(BEFORE);
    assert!(reconcile(&api, &j, &[], 3).await.is_err());
    assert_eq!(*api.writes.lock().unwrap(), 0);
}

/// A batch of events on one registry reads the registry once; a registry event drops what
/// was kept, so the next repository event reads it again.
#[tokio::test]
async fn a_batch_reads_its_registry_once_until_the_registry_changes() {
    use ecrguard_enforce::event::parse_event;
    use ecrguard_enforce::handler::{HandleOptions, RegistryCache, handle_event};
    let event = |name: &str, params: &str| {
        parse_event(&serde_json::json!({
            "version": "0", "id": "e", "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.ecr", "account": "111111111111", "time": "2026-12-06T00:00:00Z",
            "region": "us-east-1",
            "detail": {"eventVersion": "1.08", "eventSource": "ecr.amazonaws.com", "eventName": name,
                "awsRegion": "us-east-1", "recipientAccountId": "111111111111", "eventID": "e-1",
                "requestParameters": serde_json::from_str::<serde_json::Value>(params).unwrap()}
        }))
        .unwrap()
    };
    let repo = event("SetRepositoryPolicy", r#"{"repositoryName": "app"}"#);
    let registry = event("PutRegistryPolicy", r#"{"policyText": "{}"}"#);
    let api = ecr(AFTER);
    let cache = RegistryCache::default();
    let judge = |_: &ecrguard_model::EcrState, _: Option<&str>| Vec::new();
    let cfg = ecrguard_enforce::EnforceConfig::default();
    let opts = HandleOptions::<MemoryTable> {
        now: 1,
        today: "2026-12-06",
        journal: None,
        destructive_confirmed: false,
        registries: Some(&cache),
    };
    let reads = || *api.registry_reads.lock().unwrap();
    for _ in 0..3 {
        let r = handle_event(&api, &repo, &judge, &cfg, opts).await;
        assert!(r.errors.is_empty(), "{:?}", r.errors);
    }
    assert_eq!(reads(), 1, "three repository events, one registry read");
    handle_event(&api, &registry, &judge, &cfg, opts).await;
    assert_eq!(reads(), 2, "a registry event reads it afresh");
    handle_event(&api, &repo, &judge, &cfg, opts).await;
    assert_eq!(reads(), 3, "and what was kept of it is dropped");
    // Without a cache, every event reads its registry.
    let uncached = HandleOptions::<MemoryTable> {
        registries: None,
        ..opts
    };
    handle_event(&api, &repo, &judge, &cfg, uncached).await;
    handle_event(&api, &repo, &judge, &cfg, uncached).await;
    assert_eq!(reads(), 5);
}

/// An ECR Public event: the repository it names is read from ECR Public and judged (reported,
/// never changed); a repository that is gone is said so.
#[tokio::test]
async fn an_ecr_public_event_is_judged_and_never_acted_on() {
    use ecrguard_enforce::event::parse_event;
    use ecrguard_enforce::handler::{HandleOptions, handle_event};
    let event = |repository: &str| {
        parse_event(&serde_json::json!({
            "version": "0", "id": "e", "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.ecr-public", "account": "111111111111", "time": "2026-12-06T00:00:00Z",
            "region": "us-east-1",
            "detail": {"eventVersion": "1.08", "eventSource": "ecr-public.amazonaws.com",
                "eventName": "CreateRepository", "awsRegion": "us-east-1",
                "recipientAccountId": "111111111111", "eventID": "e-1",
                "requestParameters": {"repositoryName": repository}}
        }))
        .unwrap()
    };
    let api = ecr(BEFORE);
    let seen = Mutex::new(Vec::new());
    let judge = |state: &ecrguard_model::EcrState, _: Option<&str>| {
        seen.lock().unwrap().extend(
            state
                .public_repositories
                .iter()
                .map(|r| format!("{:?}", r.id)),
        );
        Vec::new()
    };
    let cfg = ecrguard_enforce::EnforceConfig::default();
    let j = Journal::Table(JournalTable {
        api: MemoryTable::default(),
        table: "t".into(),
    });
    let opts = HandleOptions::<MemoryTable> {
        now: 1,
        today: "2026-12-06",
        journal: Some(&j),
        destructive_confirmed: true,
        registries: None,
    };
    let r = handle_event(&api, &event("oss-cli"), &judge, &cfg, opts).await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert!(r.plan.actions.is_empty());
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "judged on that repository alone"
    );
    assert!(seen.lock().unwrap()[0].contains("repository/oss-cli"));
    assert_eq!(*api.writes.lock().unwrap(), 0);
    let r = handle_event(&api, &event("gone"), &judge, &cfg, opts).await;
    assert!(r.errors[0].contains("no longer exists"), "{:?}", r.errors);
}
