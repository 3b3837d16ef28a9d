//! The directory walk of a scan: every file under the paths given that some source wants,
//! honouring `.gitignore`, `.ignore` and git's exclude file, skipping hidden entries,
//! `.terraform/` and `node_modules/`. One walk serves every source (Terraform,
//! CloudFormation): on a tree of thousands of directories the walk is a visible part of a
//! scan, and two walks of the same tree compete for the same cores.
//!
//! A path that does not exist or a directory that cannot be read is an error in the result,
//! never a silent skip.
#![deny(missing_docs)]

use std::path::{Path, PathBuf};

/// One path given by the user, walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// A file named directly: the sources decide whether it is theirs (by name, then content),
    /// ignore files notwithstanding.
    File(PathBuf),
    /// A directory and the wanted files under it, sorted.
    Dir {
        /// The directory as given.
        path: PathBuf,
        /// Files under it that the walk's filter kept.
        files: Vec<PathBuf>,
    },
}

/// What a walk found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// One entry per path given that exists, in the order given.
    pub roots: Vec<Root>,
    /// Paths that do not exist, directories that cannot be read (with their path).
    pub errors: Vec<String>,
}

impl Listing {
    /// Every file of the listing that `keep` accepts: files named directly first (in the
    /// order given), then walked ones, each list sorted, duplicates removed.
    #[must_use]
    pub fn files(&self, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        for root in &self.roots {
            match root {
                Root::File(p) if keep(p) => out.push(p.clone()),
                Root::File(_) => {}
                Root::Dir { files, .. } => {
                    out.extend(files.iter().filter(|p| keep(p)).cloned());
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// Walks the paths on all cores, keeping files for which `wanted` is true.
#[must_use]
pub fn walk(paths: &[PathBuf], wanted: &(dyn Fn(&Path) -> bool + Sync)) -> Listing {
    let mut listing = Listing::default();
    for root in paths {
        if root.is_file() {
            listing.roots.push(Root::File(root.clone()));
            continue;
        }
        if !root.exists() {
            listing
                .errors
                .push(format!("`{}` does not exist", root.display()));
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
        // Directory reads are syscalls that wait: walked on all cores, the order restored by
        // sorting below. The lock is taken only for what is kept, not for every entry.
        let found = std::sync::Mutex::new((Vec::new(), Vec::new()));
        walker.run(|| {
            let found = &found;
            Box::new(move |entry| {
                let lock = || {
                    found
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                };
                match entry {
                    Ok(e) if e.file_type().is_some_and(|t| t.is_file()) && wanted(e.path()) => {
                        lock().0.push(e.into_path());
                    }
                    Ok(_) => {}
                    Err(e) => lock().1.push(e.to_string()),
                }
                ignore::WalkState::Continue
            })
        });
        let (mut files, errors) = found
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        files.sort();
        listing.roots.push(Root::Dir {
            path: root.clone(),
            files,
        });
        listing.errors.extend(errors);
    }
    listing.errors.sort();
    listing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ecrguard-walk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for f in [
            "a/main.tf",
            "a/template.yaml",
            "a/notes.txt",
            "b/c/stack.json",
            ".hidden/x.tf",
            "a/.terraform/modules/m/main.tf",
            "node_modules/pkg/template.yaml",
            "ignored/main.tf",
        ] {
            let p = dir.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "x").unwrap();
        }
        std::fs::write(dir.join(".ignore"), "ignored/\n").unwrap();
        dir
    }

    fn rel(root: &Path, files: &[PathBuf]) -> Vec<String> {
        files
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn keeps_wanted_files_and_honours_ignores() {
        let dir = tree("keeps");
        let not_txt = |p: &Path| p.extension().is_some_and(|e| e != "txt");
        let listing = walk(std::slice::from_ref(&dir), &not_txt);
        assert!(listing.errors.is_empty(), "{:?}", listing.errors);
        assert_eq!(
            rel(&dir, &listing.files(|_| true)),
            ["a/main.tf", "a/template.yaml", "b/c/stack.json"]
        );
        let tf = listing.files(|p| p.extension().is_some_and(|e| e == "tf"));
        assert_eq!(rel(&dir, &tf), ["a/main.tf"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_given_by_name_is_kept_even_if_ignored_and_missing_paths_are_errors() {
        let dir = tree("named");
        let named = dir.join("ignored/main.tf");
        let missing = dir.join("nope");
        let listing = walk(&[named.clone(), missing.clone()], &|_| true);
        assert_eq!(listing.roots, [Root::File(named.clone())]);
        assert_eq!(
            listing.errors,
            [format!("`{}` does not exist", missing.display())]
        );
        assert_eq!(listing.files(|_| true), [named]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
