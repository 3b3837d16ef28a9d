//! Fuzzing the CloudFormation source on stable Rust: the fixtures, mutated, as YAML, JSON and
//! `serverless.yml`, through the YAML reader and the whole scan. Properties: no panic and the
//! same result twice.

use ecrguard_cloudformation::{CfnOptions, scan_inputs, yaml};
use ecrguard_model::SourceDb;
use std::path::{Path, PathBuf};

fn result_of(name: &str, input: &str) -> String {
    let mut db = SourceDb::default();
    let s = scan_inputs(
        vec![(PathBuf::from(name), Some(input.to_string()))],
        &mut db,
        &CfnOptions::default(),
    );
    for e in &s.errors {
        assert!(!e.message.contains("internal error"), "{}", e.message);
        // Every error position is a character boundary of the text it points into.
        if let Some(l) = e.location() {
            assert!(l.start_line >= 1, "{e:?}");
        }
    }
    format!("{:?}\n{:?}", s.state.repositories.len(), s.errors)
}

#[test]
fn mutated_templates_never_panic_and_are_deterministic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let seeds = ecrguard_fuzz::seeds(&root, &|p| {
        p.extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
    });
    let counter = std::cell::Cell::new(0usize);
    ecrguard_fuzz::run(
        "cloudformation",
        &seeds,
        ecrguard_fuzz::cases(400),
        &|input| {
            let n = counter.get();
            counter.set(n + 1);
            // The reader on its own: every span it gives lies on character boundaries.
            if let Ok(node) = yaml::parse(input) {
                let mut stack = vec![&node];
                while let Some(x) = stack.pop() {
                    if let Some(s) = x.span {
                        assert!(input.is_char_boundary(s.start as usize), "span start {s:?}");
                        assert!(
                            input.is_char_boundary((s.end as usize).min(input.len())),
                            "span end {s:?}"
                        );
                    }
                    match &x.value {
                        ecrguard_iam::json::Value::Array(items) => stack.extend(items),
                        ecrguard_iam::json::Value::Object(m) => {
                            stack.extend(m.iter().map(|m| &m.value))
                        }
                        _ => {}
                    }
                }
            }
            // As YAML, as JSON, and as a Serverless Framework service file, in turn.
            let name = ["t.yaml", "t.json", "serverless.yml"][n % 3];
            let first = result_of(name, input);
            if n % 10 == 0 {
                assert_eq!(first, result_of(name, input), "not deterministic");
            }
        },
    );
}
