//! The benchmark baseline for templates: find and parse every candidate file with the same
//! YAML and JSON parsers `ecrguard scan` uses, in parallel, and do nothing else.
#![allow(clippy::print_stdout)]
// The scan allocates many small values on both cores; glibc's allocator spent about a quarter
// of the time in malloc/free. The parse-only baselines use the same allocator, so the
// benchmark ratio compares like with like.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use rayon::prelude::*;

fn main() {
    let paths: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    let (files, _) = ecrguard_cloudformation::discover(&paths);
    let ok: usize = files
        .par_iter()
        .map(|p| {
            let Ok(text) = std::fs::read_to_string(p) else {
                return 0;
            };
            let parsed = if text.trim_start().starts_with('{') {
                ecrguard_iam::json::parse(&text).is_ok()
            } else {
                ecrguard_cloudformation::yaml::parse(&text).is_ok()
            };
            usize::from(parsed)
        })
        .sum();
    println!("parsed {ok} of {} files", files.len());
}
