//! The benchmark baseline for manifests: find every `.yaml` / `.yml` file and parse all its
//! documents with the YAML reader `ecrguard scan` uses, in parallel, and do nothing else.
#![allow(clippy::print_stdout)]
// Same allocator as the binary, so the benchmark ratio compares like with like.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use rayon::prelude::*;

fn main() {
    let paths: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    let listing = ecrguard_walk::walk(&paths, &ecrguard_kubernetes::candidate);
    let files = listing.files(ecrguard_kubernetes::candidate);
    let ok: usize = files
        .par_iter()
        .map(|p| {
            let Ok(text) = std::fs::read_to_string(p) else {
                return 0;
            };
            usize::from(ecrguard_yaml::parse_documents(&text).is_ok())
        })
        .sum();
    println!("parsed {ok} of {} files", files.len());
}
