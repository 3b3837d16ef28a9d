//! Finds Terraform inputs under the paths given: module directories (`*.tf`), plan JSON
//! files, and variable files. Honours `.gitignore`-style ignores and skips `.terraform/`.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// What was found.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Module directories and their `.tf` files; a file given directly is a module of its own.
    pub modules: BTreeMap<PathBuf, Vec<PathBuf>>,
    /// `.json` files that may be plan JSON (decided by content).
    pub json_files: Vec<PathBuf>,
}

fn is_tf(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "tf") || p.to_string_lossy().ends_with(".tf.json")
}

/// The `.tf` files directly in a directory, sorted.
///
/// # Errors
/// When the directory cannot be read.
pub fn module_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && is_tf(p))
        .collect();
    files.sort();
    Ok(files)
}

/// Walks the paths. Errors (unreadable directories) are returned with the rest.
#[must_use]
pub fn discover(paths: &[PathBuf]) -> (Inputs, Vec<String>) {
    let mut inputs = Inputs::default();
    let mut errors = Vec::new();
    for root in paths {
        if root.is_file() {
            if is_tf(root) {
                // A file given by name is scanned as a module of its own (as the peers' test
                // files are meant to be).
                inputs
                    .modules
                    .entry(root.clone())
                    .or_default()
                    .push(root.clone());
            } else if root.extension().is_some_and(|e| e == "json") {
                inputs.json_files.push(root.clone());
            }
            continue;
        }
        if !root.exists() {
            errors.push(format!("`{}` does not exist", root.display()));
            continue;
        }
        let walker = ignore::WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(true)
            .git_exclude(true)
            .parents(true)
            .require_git(false)
            .filter_entry(|e| e.file_name() != ".terraform" && e.file_name() != "node_modules")
            .build_parallel();
        // Walked on all cores (directory reads are syscalls that wait); the order is restored
        // by sorting below.
        let found = std::sync::Mutex::new((Vec::new(), Vec::new(), Vec::new()));
        walker.run(|| {
            let found = &found;
            Box::new(move |entry| {
                // The lock is taken only for what is kept, not for every directory entry.
                let lock = || {
                    found
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                };
                match entry {
                    Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
                        let p = e.path();
                        if is_tf(p) {
                            lock().0.push(p.to_path_buf());
                        } else if p.extension().is_some_and(|x| x == "json") {
                            lock().1.push(p.to_path_buf());
                        }
                    }
                    Ok(_) => {}
                    Err(e) => lock().2.push(e.to_string()),
                }
                ignore::WalkState::Continue
            })
        });
        let (tf_files, json_files, walk_errors) = found
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for p in tf_files {
            let dir = p
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            inputs.modules.entry(dir).or_default().push(p);
        }
        inputs.json_files.extend(json_files);
        errors.extend(walk_errors);
    }
    for files in inputs.modules.values_mut() {
        files.sort();
        files.dedup();
    }
    inputs.json_files.sort();
    inputs.json_files.dedup();
    (inputs, errors)
}
