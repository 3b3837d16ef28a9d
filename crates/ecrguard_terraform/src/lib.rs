//! The Terraform source of ecrguard: finds modules, parses every `.tf` file in parallel,
//! evaluates what policies and settings are made of, and adapts the result into the
//! normalized ECR model ([`ecrguard_model::EcrState`]). What cannot be resolved is `Unknown`
//! and listed as not evaluated; it never produces a finding by itself.
#![deny(missing_docs)]

pub mod adapt;
pub mod discover;
pub mod eval;
pub mod functions;
pub mod module;
pub mod policy_document;
pub mod project;
pub mod value;

use ecrguard_model::{EcrState, SourceDb};
use eval::Eval;
use project::{NotEvaluated, ParsedFile, Project, ScanError, parse_file};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use value::V;

/// Options of a Terraform scan.
#[derive(Debug, Clone, Default)]
pub struct TerraformOptions {
    /// Extra variable files (`--var-file`), applied after `terraform.tfvars` and
    /// `*.auto.tfvars`.
    pub var_files: Vec<PathBuf>,
}

/// The result of scanning Terraform code.
pub struct TerraformScan {
    /// The model.
    pub state: EcrState,
    /// Every file read.
    pub sources: SourceDb,
    /// Files that could not be read or parsed.
    pub errors: Vec<ScanError>,
    /// What was not evaluated.
    pub not_evaluated: Vec<NotEvaluated>,
    /// How many `.tf` files were parsed.
    pub files: usize,
    /// `.json` files found that were not Terraform (left for other sources).
    pub other_json: Vec<PathBuf>,
}

fn read_and_parse(files: Vec<PathBuf>) -> (Vec<ParsedFile>, Vec<String>) {
    let results: Vec<Result<ParsedFile, String>> = files
        .into_par_iter()
        .map(|p| match std::fs::read_to_string(&p) {
            Ok(text) => Ok(parse_file(p, text)),
            Err(e) => Err(format!("cannot read `{}`: {e}", p.display())),
        })
        .collect();
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(p) => parsed.push(p),
            Err(e) => errors.push(e),
        }
    }
    (parsed, errors)
}

/// The variables of a root module from `terraform.tfvars`, `*.auto.tfvars` and `var_files`.
fn tfvars(project: &Project, dir: &Path, var_files: &[PathBuf]) -> BTreeMap<String, V> {
    let mut files: Vec<PathBuf> = Vec::new();
    let default = dir.join("terraform.tfvars");
    if default.is_file() {
        files.push(default);
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut auto: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".auto.tfvars"))
            .collect();
        auto.sort();
        files.extend(auto);
    }
    files.extend(var_files.iter().cloned());
    let mut vars = BTreeMap::new();
    let empty = Eval::new(
        project,
        std::sync::Arc::new(module::Module {
            dir: dir.to_path_buf(),
            ..module::Module::default()
        }),
        String::new(),
        BTreeMap::new(),
        0,
    );
    for f in files {
        let text = match std::fs::read_to_string(&f) {
            Ok(t) => t,
            Err(e) => {
                project.error(
                    None,
                    format!("cannot read variable file `{}`: {e}", f.display()),
                );
                continue;
            }
        };
        let parsed = parse_file(f.clone(), text);
        let id = project.add_source(&f, parsed.text.clone());
        match parsed.body {
            Ok(body) => {
                for attr in body.attributes() {
                    vars.insert(
                        attr.key.as_str().to_string(),
                        empty.eval(id, &attr.value, &eval::Scope::default()),
                    );
                }
            }
            Err((message, offset)) => {
                let origin = ecrguard_model::Origin::Span {
                    file: id,
                    span: ecrguard_model::Span::new(offset, offset + 1),
                };
                project.error(
                    project.location(&origin),
                    format!("cannot parse variable file: {message}"),
                );
            }
        }
    }
    vars
}

/// Scans the paths (directories are walked; files are scanned alone).
#[must_use]
pub fn scan(paths: &[PathBuf], opts: &TerraformOptions) -> TerraformScan {
    let (inputs, walk_errors) = discover::discover(paths);
    let project = Project::default();
    for e in walk_errors {
        project.error(None, e);
    }
    let all_files: Vec<(PathBuf, PathBuf)> = inputs
        .modules
        .iter()
        .flat_map(|(dir, files)| files.iter().map(move |f| (dir.clone(), f.clone())))
        .collect();
    let file_count = all_files.len();
    let (parsed, read_errors) = read_and_parse(all_files.iter().map(|(_, f)| f.clone()).collect());
    for e in read_errors {
        project.error(None, e);
    }
    let mut by_key: BTreeMap<PathBuf, Vec<ParsedFile>> = BTreeMap::new();
    let owner: BTreeMap<PathBuf, PathBuf> = all_files.into_iter().map(|(d, f)| (f, d)).collect();
    for p in parsed {
        let key = owner
            .get(&p.path)
            .cloned()
            .unwrap_or_else(|| p.path.clone());
        by_key.entry(key).or_default().push(p);
    }
    let mut modules = Vec::new();
    for (key, files) in by_key {
        // A file given alone is its own module, in its directory.
        let dir = if key.is_file() {
            key.parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        } else {
            key.clone()
        };
        let module = if key.is_file() {
            // Not registered by directory: the directory may hold other, unrelated files.
            let m = project.add_module(&key, files);
            std::sync::Arc::new(module::Module {
                dir: dir.clone(),
                ..(*m).clone()
            })
        } else {
            project.add_module(&project::normalize(&dir), files)
        };
        modules.push((key, dir, module));
    }
    // Directories called as local modules by another scanned module are evaluated as
    // children, with their inputs, not as roots.
    let called: BTreeSet<PathBuf> = modules
        .iter()
        .flat_map(|(_, dir, m)| {
            m.module_calls.iter().filter_map(move |c| {
                let src = c.block.body.get_attribute("source")?;
                let hcl_edit::expr::Expression::String(s) = &src.value else {
                    return None;
                };
                let s = s.value();
                (s.starts_with("./") || s.starts_with("../"))
                    .then(|| project::normalize(&dir.join(s)))
            })
        })
        .collect();
    let mut state = EcrState::default();
    for (key, dir, module) in &modules {
        if !key.is_file() && called.contains(&project::normalize(dir)) {
            continue;
        }
        let inputs = tfvars(&project, dir, &opts.var_files);
        let ev = Eval::new(&project, module.clone(), String::new(), inputs, 0);
        let mut collector = adapt::Collector::default();
        collector.add_instance(&ev);
        merge(&mut state, collector.finish());
    }
    let (sources, errors, mut not_evaluated) = project.finish();
    not_evaluated.sort();
    TerraformScan {
        state,
        sources,
        errors,
        not_evaluated,
        files: file_count,
        other_json: inputs.json_files,
    }
}

fn merge(into: &mut EcrState, from: EcrState) {
    into.repositories.extend(from.repositories);
    into.registry_policies.extend(from.registry_policies);
    into.creation_templates.extend(from.creation_templates);
    into.public_repositories.extend(from.public_repositories);
    into.registry_scanning.extend(from.registry_scanning);
    into.identities.extend(from.identities);
    into.managed_policies.extend(from.managed_policies);
}
