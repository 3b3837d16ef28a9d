//! The directory walk of a scan: every file under the paths given that some source wants,
//! honouring `.gitignore`, `.ignore` and git's exclude file, skipping hidden entries,
//! `.terraform/` and `node_modules/`. One walk serves every source (Terraform,
//! CloudFormation): on a tree of thousands of directories the walk is a visible part of a
//! scan, and two walks of the same tree compete for the same cores.
//!
//! A path that does not exist or a directory that cannot be read is an error in the result,
//! never a silent skip.
#![deny(missing_docs)]

pub mod input;

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
    /// Paths that do not exist, directories that cannot be read, links that leave the scan
    /// root (with their path).
    pub errors: Vec<String>,
    /// Entries with a wanted name that are not read, and why: named pipes, sockets, devices,
    /// dangling links. Not errors (nothing that could be scanned was lost), but never silent.
    pub skipped: Vec<(PathBuf, String)>,
}

impl Listing {
    /// The directories a file named by the scanned code may be read from.
    #[must_use]
    pub fn scan_roots(&self) -> input::ScanRoots {
        let paths: Vec<PathBuf> = self
            .roots
            .iter()
            .map(|r| match r {
                Root::File(p) | Root::Dir { path: p, .. } => p.clone(),
            })
            .collect();
        input::ScanRoots::new(&paths)
    }

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

/// What one walked entry turned out to be.
enum Entry {
    Keep(PathBuf),
    Skip(PathBuf, String),
    Error(String),
}

/// Judges one entry of the walk under `real_root` (the root with its links resolved).
/// Returns what to record and whether to descend (a linked directory outside the root is not).
fn judge(
    entry: Result<ignore::DirEntry, ignore::Error>,
    real_root: &Path,
    wanted: &(dyn Fn(&Path) -> bool + Sync),
) -> (Option<Entry>, ignore::WalkState) {
    use std::os::unix::fs::FileTypeExt as _;
    let e = match entry {
        Ok(e) => e,
        Err(err) => {
            // A dangling link is reported by the walk as a missing file: nothing to scan
            // was lost, but the user hears of it.
            let dangling = err
                .io_error()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound);
            return (
                Some(match (dangling, path_of(&err)) {
                    (true, Some(p)) => Entry::Skip(p, "is a dangling link; not read".into()),
                    _ => Entry::Error(err.to_string()),
                }),
                ignore::WalkState::Continue,
            );
        }
    };
    // A link is followed only while it stays inside the root: Terraform reads a shared
    // `policy.tf` linked into an environment, and a link out of the tree must not make the
    // scan read the machine.
    if e.path_is_symlink() {
        match std::fs::canonicalize(e.path()) {
            Ok(real) if real.starts_with(real_root) => {}
            Ok(real) => {
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                let record = (is_dir || wanted(e.path())).then(|| {
                    Entry::Error(format!(
                        "`{}` links to `{}`, outside the scanned path; not followed",
                        e.path().display(),
                        real.display()
                    ))
                });
                return (record, ignore::WalkState::Skip);
            }
            Err(err) => {
                return (
                    wanted(e.path()).then(|| {
                        Entry::Skip(
                            e.path().to_path_buf(),
                            format!("cannot resolve link: {err}"),
                        )
                    }),
                    ignore::WalkState::Skip,
                );
            }
        }
    }
    let Some(t) = e.file_type() else {
        return (None, ignore::WalkState::Continue);
    };
    if t.is_dir() || !wanted(e.path()) {
        return (None, ignore::WalkState::Continue);
    }
    let record = if t.is_file() {
        Entry::Keep(e.into_path())
    } else {
        let kind = if t.is_fifo() {
            "a named pipe"
        } else if t.is_socket() {
            "a socket"
        } else if t.is_block_device() || t.is_char_device() {
            "a device"
        } else {
            "not a regular file"
        };
        Entry::Skip(e.into_path(), format!("is {kind}; not read"))
    };
    (Some(record), ignore::WalkState::Continue)
}

fn path_of(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            path_of(err)
        }
        _ => None,
    }
}

/// Walks the paths on all cores, keeping files for which `wanted` is true.
#[must_use]
pub fn walk(paths: &[PathBuf], wanted: &(dyn Fn(&Path) -> bool + Sync)) -> Listing {
    let mut listing = Listing::default();
    for root in paths {
        let Ok(meta) = std::fs::metadata(root) else {
            listing
                .errors
                .push(format!("`{}` does not exist", root.display()));
            continue;
        };
        // Anything but a directory is a file named directly (a pipe from process
        // substitution included): the sources decide whether and how it is read.
        if !meta.is_dir() {
            listing.roots.push(Root::File(root.clone()));
            continue;
        }
        // Links are followed within the same bounds as files named by the code: the checkout.
        let real_root = input::ScanRoots::new(std::slice::from_ref(root))
            .first()
            .map_or_else(|| root.clone(), Path::to_path_buf);
        let walker = ignore::WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(true)
            .git_exclude(true)
            .parents(true)
            .require_git(false)
            .follow_links(true)
            .filter_entry(|e| {
                e.file_name() != ".terraform"
                    && e.file_name() != "node_modules"
                    && e.file_name() != ".terragrunt-cache"
            })
            .build_parallel();
        // Directory reads are syscalls that wait: walked on all cores, the order restored by
        // sorting below. The lock is taken only for what is kept, not for every entry.
        let found = std::sync::Mutex::new((Vec::new(), Vec::new(), Vec::new()));
        walker.run(|| {
            let found = &found;
            let real_root = &real_root;
            Box::new(move |entry| {
                let (record, state) = judge(entry, real_root, wanted);
                if let Some(record) = record {
                    let mut found = found
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    match record {
                        Entry::Keep(p) => found.0.push(p),
                        Entry::Error(m) => found.1.push(m),
                        Entry::Skip(p, why) => found.2.push((p, why)),
                    }
                }
                state
            })
        });
        let (mut files, errors, skipped) = found
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        files.sort();
        files.dedup();
        listing.roots.push(Root::Dir {
            path: root.clone(),
            files,
        });
        listing.errors.extend(errors);
        listing.skipped.extend(skipped);
    }
    listing.errors.sort();
    listing.skipped.sort();
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

    #[test]
    fn links_inside_are_followed_links_outside_and_special_files_are_reported() {
        let base = tree("links");
        let dir = base.join("a");
        let outside = base.join("b");
        std::fs::write(base.join("shared-policy.tf"), "x").unwrap();
        // Inside the root: a linked file and a linked directory are read.
        std::fs::create_dir_all(dir.join("shared")).unwrap();
        std::fs::write(dir.join("shared/policy.tf"), "x").unwrap();
        std::os::unix::fs::symlink(dir.join("shared/policy.tf"), dir.join("env.tf")).unwrap();
        // Outside it: a file and a directory, reported and not followed.
        std::os::unix::fs::symlink(base.join("shared-policy.tf"), dir.join("out.tf")).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("outdir")).unwrap();
        std::os::unix::fs::symlink(dir.join("nowhere.tf"), dir.join("dangling.tf")).unwrap();
        assert!(
            std::process::Command::new("mkfifo")
                .arg(dir.join("pipe.tf"))
                .status()
                .unwrap()
                .success()
        );
        let listing = walk(std::slice::from_ref(&dir), &|p: &Path| {
            p.extension().is_some_and(|e| e == "tf" || e == "json")
        });
        assert_eq!(
            rel(&dir, &listing.files(|_| true)),
            ["env.tf", "main.tf", "shared/policy.tf"]
        );
        assert_eq!(listing.errors.len(), 2, "{:?}", listing.errors);
        assert!(
            listing
                .errors
                .iter()
                .any(|e| e.contains("out.tf") && e.contains("outside"))
        );
        assert!(
            listing
                .errors
                .iter()
                .any(|e| e.contains("outdir") && e.contains("outside"))
        );
        let skipped: Vec<(String, &str)> = listing
            .skipped
            .iter()
            .map(|(p, why)| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    why.as_str(),
                )
            })
            .collect();
        assert_eq!(
            skipped,
            [
                ("dangling.tf".to_string(), "is a dangling link; not read"),
                ("pipe.tf".to_string(), "is a named pipe; not read"),
            ]
        );
        std::fs::remove_dir_all(&base).unwrap();
    }
}
