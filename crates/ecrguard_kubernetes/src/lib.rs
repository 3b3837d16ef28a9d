//! The Kubernetes source of ecrguard: ECR resources managed from a cluster, read from
//! manifests (any `.yaml` / `.yml`, several documents per file, `kind: List`, the output of
//! `helm template` and `kustomize build`), recognised by `apiVersion`:
//!
//! * AWS Controllers for Kubernetes, `ecr.services.k8s.aws/v1alpha1` ([`ack`]): `Repository`
//!   (its policy and lifecycle policy inline) and `RepositoryCreationTemplate`.
//! * Crossplane's AWS provider, `ecr.aws.upbound.io` (v1beta1 and v1beta2) and the namespaced
//!   `ecr.aws.m.upbound.io` ([`crossplane`]): `Repository`, `RepositoryPolicy`,
//!   `LifecyclePolicy`, `RegistryPolicy`, `RepositoryCreationTemplate`, and
//!   `ecrpublic.aws.upbound.io` `Repository` / `RepositoryPolicy`.
//!
//! Every other object, and every file with none of these groups, is skipped quietly: never an
//! error, never counted as scanned. Kinds of these groups that ecrguard does not model yet
//! (replication, pull-through cache, scanning configuration) are listed as not evaluated.
//! Suppression: a comment above the object, or an annotation
//! `ecrguard.io/ignore: "ECR002 reason until=2027-01-01"`.
#![deny(missing_docs)]

pub mod ack;
pub mod crossplane;
mod object;

use ecrguard_iam::json::Node;
use ecrguard_model::{EcrState, FileId, Location, Origin, SourceDb, Span};
use object::Object;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// The API groups whose objects manage ECR: a file that names none of them is not read.
const GROUPS: [&str; 4] = [
    "ecr.services.k8s.aws/",
    "ecr.aws.upbound.io/",
    "ecr.aws.m.upbound.io/",
    "ecrpublic.aws.upbound.io/",
];

/// A file that could not be read as manifests, or an object not evaluated.
pub use ecrguard_model::InputProblem;

/// The result of scanning manifests.
#[derive(Default)]
pub struct KubernetesScan {
    /// The model.
    pub state: EcrState,
    /// Files that name an ECR group but cannot be read.
    pub errors: Vec<InputProblem>,
    /// Suppressions from annotations.
    pub suppressions: Vec<ecrguard_model::DeclaredSuppression>,
    /// What was not evaluated, by object.
    pub not_evaluated: Vec<InputProblem>,
    /// Files with at least one ECR object.
    pub files: usize,
    /// Those files.
    pub manifests: Vec<PathBuf>,
}

/// Whether the walk should keep a file as possible manifests (content decides).
#[must_use]
pub fn candidate(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// Whether a text names an API group that manages ECR (cheap; decides whether it is parsed).
#[must_use]
pub fn mentions_ecr_group(text: &str) -> bool {
    GROUPS.iter().any(|g| text.contains(g))
}

/// What one file gives.
#[derive(Default)]
struct FileResult {
    objects: Vec<Object>,
    error: Option<InputProblem>,
    read: bool,
}

/// Scans the files (already found by the caller's walk), registering each manifest's text in
/// `sources`. Objects of different files link to each other (a `RepositoryPolicy` in one file,
/// its `Repository` in another), as they do in a cluster.
#[must_use]
pub fn scan_files(files: &[PathBuf], sources: &mut SourceDb) -> KubernetesScan {
    scan_inputs(files.iter().map(|p| (p.clone(), None)).collect(), sources)
}

/// [`scan_files`] over files whose text the caller may already hold (a pipe, a test).
#[must_use]
pub fn scan_inputs(
    inputs: Vec<(PathBuf, Option<String>)>,
    sources: &mut SourceDb,
) -> KubernetesScan {
    let db = std::sync::Mutex::new(std::mem::take(sources));
    let add = |path: &Path, text: String| -> FileId {
        db.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .add(path.display().to_string(), text)
    };
    let results: Vec<FileResult> = inputs
        .par_iter()
        .map(|(p, given)| {
            let text = match given {
                Some(t) => t.clone(),
                None => match ecrguard_walk::input::read_walked_text(
                    p,
                    ecrguard_walk::input::DEFAULT_MAX_FILE_BYTES,
                ) {
                    Ok(t) => t,
                    // Not ours to report unless it names an ECR group, which cannot be told.
                    Err(_) => return FileResult::default(),
                },
            };
            if !mentions_ecr_group(&text) {
                return FileResult::default();
            }
            let parsed = std::panic::catch_unwind(|| ecrguard_yaml::parse_documents(&text));
            let documents = match parsed {
                Ok(Ok(docs)) => docs,
                Ok(Err(e)) => {
                    let file = add(p, text);
                    let location = db
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .lines(&Origin::Span {
                            file,
                            span: Span::new(e.offset, e.offset + 1),
                        });
                    return FileResult {
                        objects: Vec::new(),
                        error: Some(InputProblem::at(
                            location,
                            format!("manifest is not valid YAML: {}", e.message),
                        )),
                        read: true,
                    };
                }
                Err(_) => {
                    return FileResult {
                        objects: Vec::new(),
                        error: Some(InputProblem::at(
                            Some(Location::whole_file(p.display().to_string())),
                            "internal error while reading the manifest; please report \
                                      it with the input",
                        )),
                        read: true,
                    };
                }
            };
            let mut nodes = Vec::new();
            for d in documents {
                object::flatten(d, &mut nodes);
            }
            let ecr: Vec<Node> = nodes.into_iter().filter(object::is_ecr).collect();
            if ecr.is_empty() {
                return FileResult::default();
            }
            let file = add(p, text);
            FileResult {
                objects: ecr.into_iter().map(|n| Object::new(n, file)).collect(),
                error: None,
                read: true,
            }
        })
        .collect();
    *sources = db
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut scan = KubernetesScan::default();
    let mut objects = Vec::new();
    for ((p, _), r) in inputs.iter().zip(results) {
        if r.read {
            scan.files += 1;
            scan.manifests.push(p.clone());
        }
        scan.errors.extend(r.error);
        objects.extend(r.objects);
    }
    adapt(&objects, &mut scan);
    scan.errors.sort();
    scan.not_evaluated.sort();
    scan
}

/// Adapts every object, then links policies to their repositories.
fn adapt(objects: &[Object], scan: &mut KubernetesScan) {
    let mut links = crossplane::Links::default();
    for o in objects {
        scan.suppressions.extend(o.suppressions());
        match o.group() {
            "ecr.services.k8s.aws" => ack::add(o, scan),
            _ => crossplane::add(o, scan, &mut links),
        }
    }
    links.finish(scan);
}
