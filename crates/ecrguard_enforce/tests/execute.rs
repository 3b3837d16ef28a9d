//! The journal's crash-safety rules with an in-memory ECR (the same rules run against moto,
//! with a real kill, in the binary's tests): every state an interrupted run can leave.

use ecrguard_aws::api::{ApiError, EcrApi, EcrWriteApi, ImageRef, RepositoryInfo, RepositorySpec};
use ecrguard_enforce::execute::{ApplyOptions, apply, reconcile};
use ecrguard_enforce::journal::{
    Backup, Entry, JOURNAL_VERSION, Journal, RepositoryBackup, Status, read_entry,
};
use ecrguard_enforce::plan::{Action, Change, Target};
use std::sync::Mutex;

const BEFORE: &str = r#"{"Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"ecr:*"},{"Sid":"Ci","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/ci"},"Action":"ecr:PutImage"}]}"#;
const AFTER: &str = r#"{"Statement":[{"Sid":"Ci","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/ci"},"Action":"ecr:PutImage"}]}"#;

/// One repository, `app`, whose policy text the test sets; counts policy writes.
struct Ecr {
    policy: Mutex<Option<String>>,
    writes: Mutex<usize>,
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

/// A pending entry as a run killed right after writing its backup leaves it.
fn pending(journal: &Journal, backup_text: &str) {
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
    journal.write(&e).unwrap();
}

fn journal(name: &str) -> Journal {
    let dir = std::env::temp_dir().join(format!("ecrguard-exec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Journal::open(&dir).unwrap()
}

fn ecr(policy: &str) -> Ecr {
    Ecr {
        policy: Mutex::new(Some(policy.into())),
        writes: Mutex::new(0),
    }
}

const OPTS: ApplyOptions = ApplyOptions {
    now: 2,
    allow_delete_with_images: false,
};

#[tokio::test]
async fn a_fresh_apply_backs_up_first_then_acts_once() {
    let j = journal("fresh");
    let api = ecr(BEFORE);
    let o = apply(&api, &j, &action(), OPTS).await.unwrap();
    assert_eq!(o.status, Status::Applied);
    let e = j.load("a1").unwrap().unwrap();
    assert_eq!(e.backup.unwrap().policy_text.as_deref(), Some(BEFORE));
    assert_eq!(
        e.history.iter().map(|h| h.status).collect::<Vec<_>>(),
        [Status::Pending, Status::Applied]
    );
    // Again: the state is the action's result, so nothing is sent twice.
    let o = apply(&api, &j, &action(), OPTS).await.unwrap();
    assert_eq!(o.status, Status::Applied);
    assert_eq!(*api.writes.lock().unwrap(), 1);
}

#[tokio::test]
async fn killed_after_the_backup_acts_with_the_backup_it_has() {
    let j = journal("before");
    pending(&j, "the backup the first run wrote");
    let api = ecr(BEFORE);
    let o = apply(&api, &j, &action(), OPTS).await.unwrap();
    assert_eq!(o.status, Status::Applied);
    let e = j.load("a1").unwrap().unwrap();
    assert_eq!(
        e.backup.unwrap().policy_text.as_deref(),
        Some("the backup the first run wrote"),
        "never replaced"
    );
    assert_eq!(*api.writes.lock().unwrap(), 1);
}

#[tokio::test]
async fn killed_after_acting_is_recognised_not_redone() {
    let j = journal("after");
    pending(&j, BEFORE);
    let api = ecr(AFTER);
    // The plan no longer has it (the state is fixed): reconcile settles the entry.
    let settled = reconcile(&api, &j, &[], 3).await.unwrap();
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].status, Status::Applied);
    assert_eq!(j.load("a1").unwrap().unwrap().status, Status::Applied);
    assert_eq!(*api.writes.lock().unwrap(), 0, "nothing sent again");
}

#[tokio::test]
async fn killed_then_changed_by_someone_else_keeps_the_backup() {
    let j = journal("drift");
    pending(&j, BEFORE);
    let api =
        ecr(r#"{"Statement":[{"Sid":"Other","Effect":"Deny","Principal":"*","Action":"ecr:*"}]}"#);
    let o = apply(&api, &j, &action(), OPTS).await.unwrap();
    assert_eq!(o.status, Status::SkippedDrift);
    let e = j.load("a1").unwrap().unwrap();
    assert_eq!(
        e.backup.unwrap().policy_text.as_deref(),
        Some(BEFORE),
        "backup kept"
    );
    assert_eq!(*api.writes.lock().unwrap(), 0);
}

#[test]
fn entries_are_versioned_and_writes_leave_no_temporary_file() {
    let j = journal("format");
    pending(&j, BEFORE);
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
