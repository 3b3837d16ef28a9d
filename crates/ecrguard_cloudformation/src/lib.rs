//! The CloudFormation source of ecrguard: finds templates (JSON or YAML, CDK's
//! `cdk.out/*.template.json` included) by content, resolves intrinsics, and adapts resources
//! into the normalized ECR model. A template that does not parse is an error with its line;
//! the scan goes on.
#![deny(missing_docs)]

pub mod adapt;
pub mod serverless;
pub mod template;
/// The YAML reader (its own crate, shared with the Kubernetes source).
pub use ecrguard_yaml as yaml;

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
    /// Texts of files that are not templates to hand back (in [`CfnScan::other_texts`]) when
    /// this says so: another source that reads the same files (Kubernetes manifests) then
    /// does not read them a second time.
    pub keep_other: Option<fn(&str) -> bool>,
}

/// A file that could not be read as a template, or a part not evaluated.
pub use ecrguard_model::InputProblem;

/// The result of scanning templates.
#[derive(Default)]
pub struct CfnScan {
    /// The model.
    pub state: EcrState,
    /// Errors.
    pub errors: Vec<InputProblem>,
    /// Suppressions from resources' `Metadata`.
    pub suppressions: Vec<ecrguard_model::DeclaredSuppression>,
    /// What was not evaluated, by logical id.
    pub not_evaluated: Vec<InputProblem>,
    /// Templates read.
    pub files: usize,
    /// The files that were templates (read, or meant as templates and in error).
    pub templates: Vec<PathBuf>,
    /// Files read that are not templates, with their text, as `keep_other` chose.
    pub other_texts: Vec<(PathBuf, String)>,
}

/// Whether the walk should keep a file as a possible template (its content decides).
#[must_use]
pub fn candidate(p: &Path) -> bool {
    let s = p.to_string_lossy();
    if s.ends_with(".tf.json") || s.ends_with(".tofu.json") {
        return false;
    }
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json" | "template")
    )
}

/// Files under the paths that may be templates (content decides), and the walk's errors.
#[must_use]
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<String>) {
    let listing = ecrguard_walk::walk(paths, &candidate);
    let (files, mut errors) = templates(&listing);
    errors.extend(listing.errors);
    (files, errors)
}

/// The files of a walk that may be templates, with each walked directory's `cdk.out`
/// templates: `cdk.out` is usually git-ignored but is exactly what CDK users want scanned.
/// Errors are about `cdk.out` directories that cannot be read (the walk's own errors are the
/// caller's to report).
#[must_use]
pub fn templates(listing: &ecrguard_walk::Listing) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = listing.files(candidate);
    let mut errors = Vec::new();
    for root in &listing.roots {
        let ecrguard_walk::Root::Dir { path, .. } = root else {
            continue;
        };
        let cdk = path.join("cdk.out");
        if !cdk.is_dir() {
            continue;
        }
        match std::fs::read_dir(&cdk) {
            Ok(rd) => {
                for entry in rd {
                    match entry {
                        Ok(e) if e.file_name().to_string_lossy().ends_with(".template.json") => {
                            files.push(e.path());
                        }
                        Ok(_) => {}
                        Err(e) => errors.push(format!("cannot read `{}`: {e}", cdk.display())),
                    }
                }
            }
            Err(e) => errors.push(format!("cannot read `{}`: {e}", cdk.display())),
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
}

/// Whether a text may be a template: it names the format version or an `AWS::` type. Cheap,
/// so that unrelated YAML is not parsed and a binary `.json` is not an error.
fn mentions_template(text: &str) -> bool {
    text.contains("AWSTemplateFormatVersion") || text.contains("AWS::")
}

/// Whether a text that failed to parse was meant as a template, so that the failure is an
/// error: it names the format version, or has `Resources` with an `AWS::` type, and is not a
/// text template of another tool (Helm's and Jinja's `{{ }}`, which no CloudFormation
/// template contains unparsed). Anything else (a Helm chart, a workflow, docker-compose,
/// arbitrary JSON) is not ours and is skipped quietly.
fn meant_as_template(text: &str) -> bool {
    if text.contains("AWSTemplateFormatVersion") {
        return true;
    }
    let templated = text.contains("{{") || text.contains("{%");
    !templated && text.contains("Resources") && text.contains("AWS::")
}

/// A template read: `Ok(None)` when the file is not a template, `Err` with the offset.
type ReadResult = Result<Option<json::Node>, (String, usize)>;

/// Reads a template: JSON when it starts with `{`, YAML otherwise. `Ok(None)` when the file
/// is not a CloudFormation template.
fn read(text: &str) -> ReadResult {
    if !mentions_template(text) {
        return Ok(None);
    }
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let parsed = if trimmed.starts_with('{') && !trimmed.starts_with("{{") {
        json::parse(text).map_err(|e| {
            (
                format!("template is not valid JSON: {}", e.message),
                e.offset,
            )
        })
    } else {
        yaml::parse(text).map_err(|e| {
            (
                format!("template is not valid YAML: {}", e.message),
                e.offset,
            )
        })
    };
    let root = match parsed {
        Ok(root) => root,
        Err(e) if meant_as_template(text) => return Err(e),
        Err(_) => return Ok(None),
    };
    if !adapt::is_template(&root) {
        // Recognised by its version marker but malformed (`Resources: "oops"`): an error.
        if root.get("AWSTemplateFormatVersion").is_some()
            && let Some(defect) = adapt::malformed(&root, text)
        {
            return Err(defect);
        }
        return Ok(None);
    }
    if let Some(defect) = adapt::malformed(&root, text) {
        return Err(defect);
    }
    Ok(Some(root))
}

/// Reads a Serverless Framework service file as the template it stands for: `Ok(None)` when
/// it declares nothing that could hold ECR resources or role statements.
fn read_serverless(text: &str) -> ReadResult {
    let root = yaml::parse(text).map_err(|e| {
        (
            format!("serverless.yml is not valid YAML: {}", e.message),
            e.offset,
        )
    })?;
    Ok(serverless::to_template(&root))
}

/// A candidate's text. `Ok(None)` for a file that is not UTF-8 and does not look like a
/// template (a binary `.json`); an error for one that cannot be read, or that looks like a
/// template but is not UTF-8 (CloudFormation reads templates as UTF-8): never a silent skip.
fn read_text(p: &Path, kinds: ecrguard_walk::input::Kinds) -> Result<Option<String>, String> {
    let cannot = |e: ecrguard_walk::input::ReadError| format!("cannot read `{}`: {e}", p.display());
    let bytes =
        ecrguard_walk::input::read_bytes(p, ecrguard_walk::input::DEFAULT_MAX_FILE_BYTES, kinds)
            .map_err(cannot)?;
    // UTF-16 (a byte-order mark, or NULs between ASCII): CloudFormation reads UTF-8 only.
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        let wide: String = bytes
            .iter()
            .filter(|&&b| b != 0)
            .map(|&b| b as char)
            .collect();
        if mentions_template(&wide) {
            return Err(format!(
                "`{}` is UTF-16 text; CloudFormation templates are UTF-8",
                p.display()
            ));
        }
        return Ok(None);
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Some(text)),
        Err(e) => {
            let bytes = e.as_bytes();
            if mentions_template(&String::from_utf8_lossy(bytes)) {
                let valid = &bytes[..e.utf8_error().valid_up_to()];
                let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
                Err(format!(
                    "`{}` is not UTF-8 text (line {line}); CloudFormation templates are UTF-8",
                    p.display()
                ))
            } else {
                Ok(None)
            }
        }
    }
}

/// One file's outcome.
enum FileResult {
    NotTemplate,
    /// Not a template; its text, kept for another source.
    Other(String),
    Adapted(adapt::Adapted),
    Error(InputProblem),
}

/// Scans the paths for templates, registering each template's text in `sources`. Each
/// template is parsed and adapted in one parallel step and its tree dropped at once, so
/// memory holds the model, not every template's syntax tree.
/// Walk errors (a missing path, an unreadable directory) are errors of the scan.
pub fn scan(paths: &[PathBuf], sources: &mut SourceDb, opts: &CfnOptions) -> CfnScan {
    let (files, walk_errors) = discover(paths);
    let mut scan = scan_files(files, sources, opts);
    scan.errors.extend(
        walk_errors
            .into_iter()
            .map(|message| InputProblem::at(None, message)),
    );
    scan.errors.sort();
    scan
}

/// [`scan`] over files already found (by [`discover`], or [`templates`] of a walk shared
/// with other sources).
pub fn scan_files(files: Vec<PathBuf>, sources: &mut SourceDb, opts: &CfnOptions) -> CfnScan {
    scan_inputs(
        files.into_iter().map(|p| (p, None)).collect(),
        sources,
        opts,
    )
}

/// Whether a text is a template this source reads (for a path that can be read only once,
/// such as a pipe, whose text the caller holds).
#[must_use]
pub fn is_template_text(text: &str) -> bool {
    !matches!(read(text), Ok(None))
}

/// [`scan_files`] where some texts are already read: `(path, Some(text))` for those.
pub fn scan_inputs(
    files: Vec<(PathBuf, Option<String>)>,
    sources: &mut SourceDb,
    opts: &CfnOptions,
) -> CfnScan {
    let db = std::sync::Mutex::new(std::mem::take(sources));
    let add = |path: &Path, text: String| {
        db.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .add(path.display().to_string(), text)
    };
    let results: Vec<(PathBuf, FileResult)> = files
        .into_par_iter()
        .map(|(p, given)| {
            let text = match given {
                Some(text) => text,
                None => match read_text(&p, ecrguard_walk::input::Kinds::Regular) {
                    Ok(Some(text)) => text,
                    Ok(None) => return (p, FileResult::NotTemplate),
                    Err(message) => {
                        let location = Some(Location::whole_file(p.display().to_string()));
                        return (p, FileResult::Error(InputProblem::at(location, message)));
                    }
                },
            };
            // A panic while reading or adapting one template (a defect of ours that input
            // reached) is an error on that template; the other templates are still scanned.
            let service_file = serverless::is_service_file(&p);
            let read = std::panic::catch_unwind(|| {
                if service_file {
                    read_serverless(&text)
                } else {
                    read(&text)
                }
            })
            .unwrap_or_else(|_| {
                Err((
                    "internal error while reading the template; please report it with the input"
                        .to_string(),
                    0,
                ))
            });
            let result = match read {
                Ok(None) => match opts.keep_other {
                    Some(keep) if keep(&text) => FileResult::Other(text),
                    _ => FileResult::NotTemplate,
                },
                Ok(Some(root)) => {
                    let file = add(&p, text);
                    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        adapt::adapt(&root, file, &opts.parameters)
                    })) {
                        Ok(adapted) => FileResult::Adapted(adapted),
                        Err(_) => FileResult::Error(InputProblem::at(
                            Some(Location::whole_file(p.display().to_string())),
                            format!(
                                "internal error while evaluating `{}`; its findings are missing, \
                                 please report it with the input",
                                p.display()
                            ),
                        )),
                    }
                }
                Err((message, offset)) => {
                    let file = add(&p, text);
                    let location = db
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .lines(&adapt::at(file, offset));
                    FileResult::Error(InputProblem::at(location, message))
                }
            };
            (p, result)
        })
        .collect();
    *sources = db
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = CfnScan::default();
    let mut states = Vec::with_capacity(results.len());
    for (p, r) in results {
        if !matches!(r, FileResult::NotTemplate | FileResult::Other(_)) {
            out.templates.push(p.clone());
        }
        match r {
            FileResult::NotTemplate => {}
            FileResult::Other(text) => out.other_texts.push((p, text)),
            FileResult::Adapted(a) => {
                out.files += 1;
                states.push(a.state);
                out.suppressions.extend(a.suppressions);
                out.not_evaluated.extend(a.not_evaluated);
            }
            FileResult::Error(e) => {
                out.files += 1;
                out.errors.push(e);
            }
        }
    }
    out.state = EcrState::concat(states);
    out.errors.sort();
    out
}
