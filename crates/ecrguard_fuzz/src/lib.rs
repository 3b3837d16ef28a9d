//! The mutator behind ecrguard's fuzz tests: every parser and adapter is fed its own fixtures,
//! changed the ways hostile or careless input changes them (multibyte UTF-8 anywhere,
//! repeated keys and lines, YAML anchors and aliases, deep nesting, huge counts, cut and
//! repeated slices, stray bytes), and must end without a panic, within its budgets, with the
//! same result every time.
//!
//! Stable Rust, no engine: a seeded generator makes the run reproducible (a failure prints its
//! seed and case), and [`cases`] reads `ECRGUARD_FUZZ_CASES` so that the suite runs a bounded
//! number of cases and a longer run is one variable away (see docs/fuzzing.md).
#![deny(missing_docs)]

use std::path::{Path, PathBuf};

/// How many cases a fuzz test runs: `ECRGUARD_FUZZ_CASES`, else `default`.
#[must_use]
pub fn cases(default: usize) -> usize {
    std::env::var("ECRGUARD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The first seed of the generator: `ECRGUARD_FUZZ_SEED`, else a fixed one (reproducible).
#[must_use]
pub fn seed() -> u64 {
    std::env::var("ECRGUARD_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_ec26)
}

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    #[must_use]
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::try_from(self.next_u64() % n as u64).unwrap_or(0)
        }
    }

    /// One of the items.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// Multibyte text that has broken position arithmetic before: accents, the euro sign,
/// box-drawing characters (seen in real comments), emoji, a combining mark, a right-to-left
/// override.
const MULTIBYTE: &[&str] = &[
    "é",
    "€",
    "─── ",
    "🚀",
    "e\u{301}",
    "\u{202e}",
    "日本",
    "\u{feff}",
];

/// Fragments that stress a parser's structure.
const FRAGMENTS: &[&str] = &[
    // Anchors and aliases, and an alias bomb's first steps.
    "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b]\n",
    "*undefined",
    // Huge counts and ranges.
    "count = 1000000000\n",
    "for_each = toset(range(1000000))\n",
    "x = [for a in range(1024) : [for b in range(1024) : a * b]]\n",
    "1e999",
    "-0",
    // Terraform expressions that loop or recurse.
    "locals { a = local.a }\n",
    "${templatefile(\"main.tf\", {})}",
    "file(\"/proc/self/environ\")",
    "module \"m\" {\n  source = \"./\"\n}\n",
    // CloudFormation intrinsics.
    "!If [C, !Ref A, !GetAtt B.Arn]",
    "{\"Fn::If\": [\"C\", {\"Ref\": \"A\"}, {\"Ref\": \"AWS::NoValue\"}]}",
    // Control characters and line breaks in values.
    "\"\\u001b[2J\"",
    "\r\n",
    "\0",
    // Keys repeated.
    "\"Effect\": \"Allow\", \"Effect\": \"Deny\",",
    "Properties: {}\nProperties: oops\n",
];

/// One mutation of `input`.
pub fn mutate(rng: &mut Rng, input: &str) -> String {
    let boundaries: Vec<usize> = input
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(input.len()))
        .collect();
    let at = |rng: &mut Rng| boundaries[rng.below(boundaries.len())];
    let mut s = input.to_string();
    match rng.below(10) {
        0 => {
            let i = at(rng);
            s.insert_str(i, rng.pick(MULTIBYTE));
        }
        1 => {
            // Repeat a line (a repeated key, a repeated block).
            let lines: Vec<&str> = input.split_inclusive('\n').collect();
            if !lines.is_empty() {
                let k = rng.below(lines.len());
                let mut out: Vec<&str> = lines.clone();
                out.insert(k, lines[k]);
                s = out.concat();
            }
        }
        2 => {
            let i = at(rng);
            s.insert_str(i, rng.pick(FRAGMENTS));
        }
        3 => {
            // Deep nesting around a point.
            let depth = 1 + rng.below(2000);
            let (open, close) = rng.pick(&[("[", "]"), ("{", "}"), ("(", ")"), ("[{\"a\":", "}]")]);
            let i = at(rng);
            let inner = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            s.insert_str(i, &inner);
        }
        4 => {
            // A number made huge, negative or fractional.
            if let Some(pos) = s.find(|c: char| c.is_ascii_digit()) {
                let replacement =
                    rng.pick(&["1000000000", "-5", "1.5", "99999999999999999999", "0"]);
                s.replace_range(pos..=pos, replacement);
            }
        }
        5 => {
            // Cut a slice out.
            let (a, b) = (at(rng), at(rng));
            let (a, b) = (a.min(b), a.max(b));
            s.replace_range(a..b, "");
        }
        6 => {
            // Repeat a slice many times.
            let (a, b) = (at(rng), at(rng));
            let (a, mut b) = (a.min(b), a.max(b).min(a + 64));
            while !input.is_char_boundary(b) {
                b -= 1;
            }
            let slice = input[a..b].to_string();
            s.insert_str(b, &slice.repeat(1 + rng.below(200)));
        }
        7 => {
            // A stray ASCII punctuation character.
            let i = at(rng);
            s.insert(
                i,
                rng.pick(&[
                    '"', '\'', '{', '}', '[', ']', ':', '#', '$', '\\', '&', '*', '|', '>', '\n',
                    '\t',
                ]),
            );
        }
        8 => {
            // Splice in another part of the same text.
            let (a, b) = (at(rng), at(rng));
            let (a, b) = (a.min(b), a.max(b));
            let i = at(rng);
            let part = input[a..b].to_string();
            s.insert_str(i, &part);
        }
        _ => {
            // Two mutations.
            s = mutate(rng, &s);
            s = mutate(rng, &s);
        }
    }
    s
}

/// The inputs of a fuzz test: every file under `dir` whose name passes `keep`, sorted.
#[must_use]
pub fn seeds(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if keep(&p)
                && let Ok(text) = std::fs::read_to_string(&p)
            {
                out.push((p, text));
            }
        }
    }
    out.sort();
    out
}

/// Runs `cases` mutated inputs through `check`, which must not panic; a panic is reported
/// with the seed, the case number, the seed file and the input (cut to 2,000 characters), so
/// it can be replayed with `ECRGUARD_FUZZ_SEED`.
///
/// # Panics
/// When `check` panics on a case, or when there are no seeds.
pub fn run(name: &str, seeds: &[(PathBuf, String)], cases: usize, check: &dyn Fn(&str)) {
    assert!(!seeds.is_empty(), "{name}: no seed inputs");
    let seed = seed();
    let mut rng = Rng::new(seed);
    // A case that does not end is a failure too: a watchdog prints it and ends the process
    // (a hang cannot be caught like a panic).
    let limit = std::env::var("ECRGUARD_FUZZ_CASE_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120u64);
    let current: std::sync::Arc<std::sync::Mutex<(usize, String, std::time::Instant)>> =
        std::sync::Arc::new(std::sync::Mutex::new((
            0,
            String::new(),
            std::time::Instant::now(),
        )));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watchdog = {
        let (current, done, name) = (current.clone(), done.clone(), name.to_string());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(200));
                let c = current
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if c.2.elapsed().as_secs() > limit {
                    let shown: String = c.1.chars().take(2000).collect();
                    #[allow(clippy::print_stderr)]
                    {
                        eprintln!(
                            "{name}: case {} (ECRGUARD_FUZZ_SEED={seed}) did not end within {limit} s\n--- input ---\n{shown}",
                            c.0
                        );
                    }
                    std::process::exit(101);
                }
            }
        })
    };
    for case in 0..cases {
        let (path, base) = &seeds[case % seeds.len()];
        let input = mutate(&mut rng, base);
        *current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            (case, input.clone(), std::time::Instant::now());
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&input)));
        if let Err(panic) = outcome {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let shown: String = input.chars().take(2000).collect();
            panic!(
                "{name}: case {case} (ECRGUARD_FUZZ_SEED={seed}) from {} failed: {why}\n--- input ---\n{shown}",
                path.display()
            );
        }
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = watchdog.join();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_deterministic_and_valid_utf8() {
        let base = "resource \"aws_ecr_repository\" \"r\" {\n  name = \"é1\"\n}\n";
        let a: Vec<String> = {
            let mut r = Rng::new(7);
            (0..200).map(|_| mutate(&mut r, base)).collect()
        };
        let b: Vec<String> = {
            let mut r = Rng::new(7);
            (0..200).map(|_| mutate(&mut r, base)).collect()
        };
        assert_eq!(a, b);
        assert!(a.iter().any(|m| m != base));
        assert!(
            a.iter()
                .any(|m| m.contains('€') || m.contains('🚀') || m.contains('─'))
        );
    }
}
