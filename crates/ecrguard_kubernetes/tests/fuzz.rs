//! Fuzzing the Kubernetes source on stable Rust: the fixtures, mutated, through the YAML
//! reader and the whole scan. Properties: no panic, no internal error, the same result twice.

use ecrguard_kubernetes::scan_inputs;
use ecrguard_model::SourceDb;
use std::path::{Path, PathBuf};

fn result_of(input: &str) -> String {
    let mut db = SourceDb::default();
    let s = scan_inputs(
        vec![(PathBuf::from("m.yaml"), Some(input.to_string()))],
        &mut db,
    );
    for e in &s.errors {
        assert!(!e.message.contains("internal error"), "{}", e.message);
    }
    format!(
        "{:?}\n{:?}\n{:?}",
        s.state.repositories.len(),
        s.errors,
        s.not_evaluated
    )
}

#[test]
fn mutated_manifests_never_panic_and_are_deterministic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let seeds = ecrguard_fuzz::seeds(&root, &|p| p.extension().is_some_and(|e| e == "yaml"));
    let counter = std::cell::Cell::new(0usize);
    ecrguard_fuzz::run("kubernetes", &seeds, ecrguard_fuzz::cases(300), &|input| {
        let n = counter.get();
        counter.set(n + 1);
        let first = result_of(input);
        if n % 10 == 0 {
            assert_eq!(first, result_of(input), "not deterministic");
        }
    });
}
