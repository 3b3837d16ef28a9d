//! Fuzzing what the guardrail reads from outside on stable Rust: events (alone and in SQS
//! batches) and journal entries, mutated. Properties: no panic, the same answer twice, and no
//! event accepted whose region, account or repository could not be a real one.

use ecrguard_enforce::event::{Scope, is_account, is_region, is_repository_name, parse_input};
use ecrguard_enforce::journal::{check_entry, read_entry};
use std::path::{Path, PathBuf};

#[test]
fn mutated_events_never_panic_and_accepted_ones_are_sound() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ecrguard/tests/events");
    let seeds = ecrguard_fuzz::seeds(&dir, &|_| true);
    ecrguard_fuzz::run("events", &seeds, ecrguard_fuzz::cases(3000), &|input| {
        let first = parse_input(input);
        assert_eq!(format!("{first:?}"), format!("{:?}", parse_input(input)));
        for event in first.into_iter().flatten().flatten() {
            assert!(is_region(&event.region), "{event:?}");
            assert!(is_account(&event.account), "{event:?}");
            if let Scope::Repository(name) = &event.scope {
                assert!(is_repository_name(name), "{event:?}");
            }
        }
    });
}

const ENTRY: &str = r#"{
  "version": 1,
  "id": "abc123",
  "status": "applied",
  "action": {
    "id": "abc123",
    "target": {"arn": "arn:aws:ecr:us-east-1:111111111111:repository/app", "name": "app", "account": "111111111111", "region": "us-east-1"},
    "controls": ["tag-immutability"],
    "rules": ["ECR010"],
    "reason": "r",
    "change": {"kind": "set-immutable", "before": "MUTABLE"}
  },
  "backup": {"repository": {"name": "app", "arn": "arn:aws:ecr:us-east-1:111111111111:repository/app", "registry_id": "111111111111", "tag_mutability": "MUTABLE", "scan_on_push": false, "encryption_type": "AES256", "kms_key": null, "created_at": 1}, "policy_text": null, "lifecycle_policy_text": null, "tags": [], "images": null},
  "history": [{"at": 1, "status": "applied", "message": "m"}]
}"#;

#[test]
fn mutated_journal_entries_never_panic_and_accepted_ones_name_their_file() {
    let seeds = vec![(PathBuf::from("abc123.json"), ENTRY.to_string())];
    let path = Path::new("/journal/abc123.json");
    // The seed itself is a good entry: the property below is not vacuous.
    check_entry(path, &read_entry(path, ENTRY).unwrap()).unwrap();
    ecrguard_fuzz::run("journal", &seeds, ecrguard_fuzz::cases(3000), &|input| {
        if let Ok(entry) = read_entry(path, input)
            && check_entry(path, &entry).is_ok()
        {
            assert_eq!(entry.id, "abc123");
            let t = &entry.action.target;
            assert!(
                t.arn
                    .ends_with(&format!("{}:{}:repository/{}", t.region, t.account, t.name))
            );
        }
    });
}
