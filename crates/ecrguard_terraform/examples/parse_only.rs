//! The benchmark baseline: find and parse every `.tf` file under the paths with hcl-edit, in
//! parallel, as `ecrguard scan` does, and do nothing else.
#![allow(clippy::print_stdout)]
// The scan allocates many small values on both cores; glibc's allocator spent about a quarter
// of the time in malloc/free. The parse-only baselines use the same allocator, so the
// benchmark ratio compares like with like.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use rayon::prelude::*;

fn main() {
    let paths: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    let (inputs, _) = ecrguard_terraform::discover::discover(&paths);
    let files: Vec<_> = inputs.modules.values().flatten().cloned().collect();
    let ok: usize = files
        .par_iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .ok()
                .and_then(|t| hcl_edit::parser::parse_body(&t).ok())
                .map_or(0, |_| 1)
        })
        .sum();
    println!("parsed {ok} of {} files", files.len());
}
