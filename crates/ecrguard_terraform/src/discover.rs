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
    /// `terragrunt.hcl` files: each makes its directory a Terragrunt unit.
    pub terragrunt_units: Vec<PathBuf>,
}

/// Whether a file makes its directory a Terragrunt unit.
#[must_use]
pub fn is_terragrunt(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n == crate::terragrunt::UNIT_FILE)
}

/// Whether a file is Terraform or OpenTofu configuration: `.tf`, `.tf.json`, `.tofu`,
/// `.tofu.json`.
#[must_use]
pub fn is_tf(p: &Path) -> bool {
    let s = p.to_string_lossy();
    s.ends_with(".tf")
        || s.ends_with(".tf.json")
        || s.ends_with(".tofu")
        || s.ends_with(".tofu.json")
}

/// Whether a configuration file is in Terraform's JSON syntax.
#[must_use]
pub fn is_json_syntax(p: &Path) -> bool {
    let s = p.to_string_lossy();
    s.ends_with(".tf.json") || s.ends_with(".tofu.json")
}

/// OpenTofu's rule: in one directory, `x.tofu` (or `x.tofu.json`) replaces `x.tf` and
/// `x.tf.json`. Applied to a directory's files, sorted.
#[must_use]
pub fn prefer_tofu(files: Vec<PathBuf>) -> Vec<PathBuf> {
    let stem = |p: &Path| -> Option<(PathBuf, bool)> {
        let name = p.file_name()?.to_string_lossy().into_owned();
        for (suffix, tofu) in [
            (".tofu.json", true),
            (".tf.json", false),
            (".tofu", true),
            (".tf", false),
        ] {
            if let Some(base) = name.strip_suffix(suffix) {
                return Some((p.with_file_name(base), tofu));
            }
        }
        None
    };
    let tofu: std::collections::HashSet<PathBuf> = files
        .iter()
        .filter_map(|p| stem(p).filter(|(_, t)| *t).map(|(b, _)| b))
        .collect();
    files
        .into_iter()
        .filter(|p| match stem(p) {
            Some((base, false)) => !tofu.contains(&base),
            _ => true,
        })
        .collect()
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
    Ok(prefer_tofu(files))
}

/// Whether the walk should keep a file for Terraform: `.tf`, `.tf.json`, and `.json` that may
/// be plan JSON.
#[must_use]
pub fn wanted(p: &Path) -> bool {
    is_tf(p) || is_terragrunt(p) || p.extension().is_some_and(|e| e == "json")
}

/// Walks the paths. Errors (missing paths, unreadable directories) are returned with the rest.
#[must_use]
pub fn discover(paths: &[PathBuf]) -> (Inputs, Vec<String>) {
    let listing = ecrguard_walk::walk(paths, &wanted);
    (inputs(&listing), listing.errors)
}

/// The Terraform inputs of a walk (its errors are the caller's to report).
#[must_use]
pub fn inputs(listing: &ecrguard_walk::Listing) -> Inputs {
    let mut inputs = Inputs::default();
    for root in &listing.roots {
        match root {
            // A file given by name is scanned as a module of its own (as the peers' test
            // files are meant to be).
            ecrguard_walk::Root::File(p) if is_tf(p) => {
                inputs.modules.entry(p.clone()).or_default().push(p.clone());
            }
            ecrguard_walk::Root::File(p) if is_terragrunt(p) => {
                inputs.terragrunt_units.push(p.clone());
            }
            ecrguard_walk::Root::File(p) if wanted(p) => inputs.json_files.push(p.clone()),
            ecrguard_walk::Root::File(_) => {}
            ecrguard_walk::Root::Dir { files, .. } => {
                for p in files {
                    if is_tf(p) {
                        let dir = p
                            .parent()
                            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
                        inputs.modules.entry(dir).or_default().push(p.clone());
                    } else if is_terragrunt(p) {
                        inputs.terragrunt_units.push(p.clone());
                    } else if wanted(p) {
                        inputs.json_files.push(p.clone());
                    }
                }
            }
        }
    }
    for files in inputs.modules.values_mut() {
        files.sort();
        files.dedup();
        *files = prefer_tofu(std::mem::take(files));
    }
    inputs.terragrunt_units.sort();
    inputs.terragrunt_units.dedup();
    inputs.json_files.sort();
    inputs.json_files.dedup();
    inputs
}
