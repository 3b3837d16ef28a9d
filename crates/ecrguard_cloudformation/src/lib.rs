//! The CloudFormation source of ecrguard: finds templates (JSON or YAML, CDK's
//! `cdk.out/*.template.json` included) by content, resolves intrinsics, and adapts resources
//! into the normalized ECR model. A template that does not parse is an error with its line;
//! the scan goes on.
#![deny(missing_docs)]

pub mod adapt;
pub mod template;
pub mod yaml;

use adapt::MetadataSuppression;
use ecrguard_iam::json;
use ecrguard_model::{EcrState, Location, SourceDb};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Options of a CloudFormation scan.
#[derive(Debug, Clone, Default)]
pub struct CfnOptions {
    /// Parameter values (`--parameter Key=Value`), over the templates' defaults.
    pub parameters: BTreeMap<String, String>,
}

/// A file that could not be read as a template.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CfnError {
    /// Where.
    pub location: Option<Location>,
    /// What.
    pub message: String,
}

/// The result of scanning templates.
#[derive(Default)]
pub struct CfnScan {
    /// The model.
    pub state: EcrState,
    /// Errors.
    pub errors: Vec<CfnError>,
    /// Suppressions from resources' `Metadata`.
    pub suppressions: Vec<MetadataSuppression>,
    /// (logical id, why) of what was not evaluated.
    pub not_evaluated: Vec<(String, String)>,
    /// Templates read.
    pub files: usize,
}

fn candidate(p: &Path) -> bool {
    let s = p.to_string_lossy();
    if s.ends_with(".tf.json") {
        return false;
    }
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json" | "template")
    )
}

/// Files under the paths that may be templates (content decides).
#[must_use]
pub fn discover(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for root in paths {
        if root.is_file() {
            if candidate(root) {
                out.push(root.clone());
            }
            continue;
        }
        // `cdk.out` is usually git-ignored but is exactly what CDK users want scanned.
        let walker = ignore::WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(true)
            .require_git(false)
            .filter_entry(|e| e.file_name() != ".terraform" && e.file_name() != "node_modules")
            .build_parallel();
        // Walked on all cores; sorted below. Walk errors are reported by the Terraform walk
        // over the same paths.
        let found = std::sync::Mutex::new(Vec::new());
        walker.run(|| {
            let found = &found;
            Box::new(move |entry| {
                if let Ok(e) = entry
                    && e.file_type().is_some_and(|t| t.is_file())
                    && candidate(e.path())
                {
                    found
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(e.into_path());
                }
                ignore::WalkState::Continue
            })
        });
        out.extend(
            found
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let cdk = root.join("cdk.out");
        if cdk.is_dir()
            && let Ok(rd) = std::fs::read_dir(&cdk)
        {
            out.extend(
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.to_string_lossy().ends_with(".template.json")),
            );
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A template read: `Ok(None)` when the file is not a template, `Err` with the offset.
type ReadResult = Result<Option<json::Node>, (String, usize)>;

/// Reads a template: JSON when it starts with `{`, YAML otherwise. `Ok(None)` when the file
/// is not a CloudFormation template.
fn read(text: &str) -> ReadResult {
    let trimmed = text.trim_start();
    let root = if trimmed.starts_with('{') {
        json::parse(text).map_err(|e| {
            (
                format!("template is not valid JSON: {}", e.message),
                e.offset,
            )
        })?
    } else {
        // Cheap pre-check so that unrelated YAML (CI files, Kubernetes manifests) is not parsed.
        if !text.contains("AWSTemplateFormatVersion") && !text.contains("AWS::") {
            return Ok(None);
        }
        yaml::parse(text).map_err(|e| {
            (
                format!("template is not valid YAML: {}", e.message),
                e.offset,
            )
        })?
    };
    Ok(adapt::is_template(&root).then_some(root))
}

/// One file's outcome.
enum FileResult {
    NotTemplate,
    Adapted(adapt::Adapted),
    Error(CfnError),
}

/// Scans the paths for templates, registering each template's text in `sources`. Each
/// template is parsed and adapted in one parallel step and its tree dropped at once, so
/// memory holds the model, not every template's syntax tree.
pub fn scan(paths: &[PathBuf], sources: &mut SourceDb, opts: &CfnOptions) -> CfnScan {
    scan_files(discover(paths), sources, opts)
}

/// [`scan`] over files already found by [`discover`] (a caller may walk while other sources
/// work).
pub fn scan_files(files: Vec<PathBuf>, sources: &mut SourceDb, opts: &CfnOptions) -> CfnScan {
    let db = std::sync::Mutex::new(std::mem::take(sources));
    let add = |path: &Path, text: String| {
        db.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .add(path.display().to_string(), text)
    };
    let results: Vec<FileResult> = files
        .into_par_iter()
        .map(|p| {
            let Ok(text) = std::fs::read_to_string(&p) else {
                return FileResult::NotTemplate;
            };
            match read(&text) {
                Ok(None) => FileResult::NotTemplate,
                Ok(Some(root)) => {
                    let file = add(&p, text);
                    FileResult::Adapted(adapt::adapt(&root, file, &opts.parameters))
                }
                Err((message, offset)) => {
                    let file = add(&p, text);
                    let location = db
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .lines(&adapt::at(file, offset));
                    FileResult::Error(CfnError { location, message })
                }
            }
        })
        .collect();
    *sources = db
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = CfnScan::default();
    for r in results {
        match r {
            FileResult::NotTemplate => {}
            FileResult::Adapted(a) => {
                out.files += 1;
                out.state.extend(a.state);
                out.suppressions.extend(a.suppressions);
                out.not_evaluated.extend(a.not_evaluated);
            }
            FileResult::Error(e) => {
                out.files += 1;
                out.errors.push(e);
            }
        }
    }
    out.errors.sort();
    out
}
