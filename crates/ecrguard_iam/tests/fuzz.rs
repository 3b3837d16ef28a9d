//! Fuzzing the policy reader and analysis on stable Rust: the repository's example and
//! documented policies, mutated. Properties: no panic, and the same verdict twice.

use ecrguard_iam::analysis::{AnalysisOptions, analyze};
use ecrguard_iam::policy::{PolicyKind, parse_text};
use std::path::Path;

#[test]
fn mutated_policies_never_panic_and_are_deterministic() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut seeds = ecrguard_fuzz::seeds(&repo.join("examples"), &|p| {
        p.extension().is_some_and(|e| e == "json")
    });
    seeds.extend(ecrguard_fuzz::seeds(&repo.join("docs"), &|p| {
        p.extension().is_some_and(|e| e == "json")
    }));
    let opts = AnalysisOptions {
        owner: Some("111111111111".into()),
    };
    ecrguard_fuzz::run("policy", &seeds, ecrguard_fuzz::cases(2000), &|input| {
        for kind in [
            PolicyKind::Repository,
            PolicyKind::Identity,
            PolicyKind::Registry,
        ] {
            if let Ok(policy) = parse_text(input, kind) {
                let a = analyze(&policy, &opts);
                let b = analyze(&policy, &opts);
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "not deterministic");
            }
        }
    });
}
