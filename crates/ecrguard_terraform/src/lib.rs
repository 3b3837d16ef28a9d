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
pub mod terragrunt;
pub mod tfjson;
pub mod tfplan;
pub mod value;

use ecrguard_model::{EcrState, SourceDb};
use eval::Eval;
use project::{InputProblem, ParsedFile, Project, parse_file};
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
    /// Budgets of reading and evaluating.
    pub budgets: project::Budgets,
    /// Plans already read from a path that can be read only once (a pipe such as
    /// `<(terraform show -json plan)`): the path as given, and the text.
    pub piped_plans: Vec<(PathBuf, String)>,
}

/// The result of scanning Terraform code.
pub struct TerraformScan {
    /// The model.
    pub state: EcrState,
    /// Every file read.
    pub sources: SourceDb,
    /// Files that could not be read or parsed.
    pub errors: Vec<InputProblem>,
    /// What was not evaluated.
    pub not_evaluated: Vec<InputProblem>,
    /// How many `.tf` files were parsed.
    pub files: usize,
    /// `.json` files found that were not Terraform (left for other sources).
    pub other_json: Vec<PathBuf>,
    /// `.json` files read as plans (no other source reads them again).
    pub plans: Vec<PathBuf>,
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
    let named: BTreeSet<&PathBuf> = var_files.iter().collect();
    for f in files {
        // `--var-file` may be a pipe (`<(...)`); files found beside the module must be
        // regular files inside the scan.
        let read = if named.contains(&f) {
            ecrguard_walk::input::read_text(
                &f,
                project.budgets().max_file_bytes,
                ecrguard_walk::input::Kinds::RegularOrPipe,
            )
            .map_err(|e| e.to_string())
        } else {
            project.read_source(&f)
        };
        let text = match read {
            Ok(t) => t,
            Err(e) => {
                project.error(
                    Some(whole_file(&f)),
                    format!("cannot read variable file `{}`: {e}", f.display()),
                );
                continue;
            }
        };
        let parsed = project::parse_tfvars(f.clone(), text);
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

/// The text of a file when it is Terraform plan JSON. Plans start with `format_version`, so
/// the first kilobytes decide and other JSON (templates, data) is not read whole.
fn read_if_plan(path: &Path, max_bytes: u64) -> Result<Option<String>, String> {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .map_err(|e| e.to_string())?;
    if !String::from_utf8_lossy(&head).contains("\"format_version\"") {
        return Ok(None);
    }
    let text =
        ecrguard_walk::input::read_text(path, max_bytes, ecrguard_walk::input::Kinds::Regular)
            .map_err(|e| e.to_string())?;
    Ok(tfplan::looks_like_plan(&text).then_some(text))
}

/// Local module sources (`source = "./..."`) written in a file, found by a cheap text scan.
/// Used only to group modules for parallel, memory-bounded evaluation: a call it misses is
/// still followed (the module is then loaded again by its caller), never lost.
fn local_sources(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let rest = l
                .trim_start()
                .strip_prefix("source")?
                .trim_start()
                .strip_prefix('=')?
                .trim_start();
            let inner = rest.strip_prefix('"')?;
            let end = inner.find('"')?;
            let src = &inner[..end];
            (src.starts_with("./") || src.starts_with("../")).then(|| src.to_string())
        })
        .collect()
}

/// A file's text, or why it could not be read.
type FileText = (PathBuf, Result<String, String>);

/// One module key (a directory, or a file given alone) with the texts of its files.
type ModuleTexts = (PathBuf, Vec<FileText>);

/// Reads every file once and groups module keys that call each other, so that each group can
/// be parsed, evaluated and dropped on its own. The texts travel with their group: the parse
/// does not read the files a second time.
fn group_modules(
    modules: &BTreeMap<PathBuf, Vec<PathBuf>>,
    max_bytes: u64,
) -> Vec<Vec<ModuleTexts>> {
    let keys: Vec<&PathBuf> = modules.keys().collect();
    let index: BTreeMap<PathBuf, usize> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (project::normalize(k), i))
        .collect();
    let read: Vec<(Vec<FileText>, Vec<usize>)> = keys
        .par_iter()
        .map(|key| {
            let dir = if key.is_file() {
                key.parent().map(Path::to_path_buf).unwrap_or_default()
            } else {
                (*key).clone()
            };
            let texts: Vec<FileText> = modules[*key]
                .par_iter()
                // The walk already kept these inside the scan root (links checked there):
                // read without resolving each path again.
                .map(|p| {
                    let text = ecrguard_walk::input::read_walked_text(p, max_bytes)
                        .map_err(|e| format!("cannot read `{}`: {e}", p.display()));
                    (p.clone(), text)
                })
                .collect();
            let edges = texts
                .iter()
                .filter_map(|(_, t)| t.as_deref().ok())
                .flat_map(local_sources)
                .filter_map(|src| index.get(&project::normalize(&dir.join(src))).copied())
                .collect();
            (texts, edges)
        })
        .collect();
    let mut parent: Vec<usize> = (0..keys.len()).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for (a, (_, targets)) in read.iter().enumerate() {
        for &b in targets {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<ModuleTexts>> = BTreeMap::new();
    for (i, (key, (texts, _))) in keys.iter().zip(read).enumerate() {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(((*key).clone(), texts));
    }
    groups.into_values().collect()
}

/// One group's result.
struct GroupResult {
    state: EcrState,
    errors: Vec<InputProblem>,
    not_evaluated: Vec<InputProblem>,
}

/// A root module's directory relative to the scanned directory it was found under (the
/// deepest, when scanned paths nest), with `/` separators; empty for the scanned directory
/// itself.
fn root_label(scanned_dirs: &[PathBuf], dir: &Path) -> String {
    scanned_dirs
        .iter()
        .filter_map(|s| dir.strip_prefix(s).ok())
        .min_by_key(|rel| rel.components().count())
        .map(|rel| {
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default()
}

/// Evaluates a root module with its variables' values; its resources are named in `root`.
fn evaluate_root(
    project: &Project,
    module: std::sync::Arc<module::Module>,
    inputs: BTreeMap<String, V>,
    root: String,
) -> EcrState {
    let mut ev = Eval::new(project, module, String::new(), inputs, 0);
    ev.root_label = std::rc::Rc::from(root.as_str());
    let mut collector = adapt::Collector::default();
    collector.root = root;
    collector.add_instance(&ev);
    collector.finish()
}

/// Evaluates one Terragrunt unit: its module, as a root named after the unit's directory,
/// with the unit's inputs.
fn scan_unit(
    sources: &project::SharedSources,
    roots: &std::sync::Arc<ecrguard_walk::input::ScanRoots>,
    scanned_dirs: &[PathBuf],
    file: &Path,
    opts: &TerraformOptions,
) -> GroupResult {
    let project = Project::new(sources.clone(), roots.clone(), opts.budgets);
    let unit = terragrunt::read_unit(&project, file);
    let root = root_label(scanned_dirs, &unit.dir);
    let mut state = EcrState::default();
    match unit.module_dir {
        Err(terragrunt::UnitError::Broken(why)) => project.error(Some(whole_file(file)), why),
        Err(terragrunt::UnitError::NotEvaluated(why)) => {
            let at = if root.is_empty() {
                unit.dir.display().to_string()
            } else {
                root.clone()
            };
            project.not_evaluated(at, why);
        }
        Ok(dir) => {
            if let Some(module) = project.load_module(&dir) {
                state.extend(evaluate_root(&project, module, unit.inputs, root));
            }
        }
    }
    let (errors, not_evaluated) = project.finish();
    GroupResult {
        state,
        errors,
        not_evaluated,
    }
}

/// Parses and evaluates one group of modules, then drops its syntax trees.
fn scan_group(
    sources: &project::SharedSources,
    roots: &std::sync::Arc<ecrguard_walk::input::ScanRoots>,
    scanned_dirs: &[PathBuf],
    unit_modules: &BTreeSet<PathBuf>,
    group: Vec<ModuleTexts>,
    opts: &TerraformOptions,
) -> GroupResult {
    let project = Project::new(sources.clone(), roots.clone(), opts.budgets);
    let mut modules = Vec::new();
    for (key, texts) in group {
        let parsed: Vec<Result<ParsedFile, (PathBuf, String)>> = texts
            .into_par_iter()
            .map(|(p, text)| match text {
                Ok(t) => Ok(parse_file(p, t)),
                Err(e) => Err((p, e)),
            })
            .collect();
        let mut ok = Vec::new();
        for r in parsed {
            match r {
                Ok(f) => ok.push(f),
                Err((p, e)) => project.error(Some(whole_file(&p)), e),
            }
        }
        // A file given alone is its own module, in its directory; it is not registered by
        // directory, as the directory may hold other, unrelated files.
        let is_file = key.is_file();
        let dir = if is_file {
            key.parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        } else {
            key.clone()
        };
        let module = if is_file {
            let m = project.add_module(&key, ok);
            std::sync::Arc::new(module::Module {
                dir: dir.clone(),
                ..(*m).clone()
            })
        } else {
            project.add_module(&project::normalize(&dir), ok)
        };
        modules.push((key.clone(), dir, module));
    }
    // Directories called as local modules by another module of the group are evaluated as
    // children, with their inputs, not as roots. A module reached only through a cycle of
    // calls (one that calls itself) is a root all the same, so that the cycle is reported
    // rather than the whole tree vanishing.
    let local_calls = |dir: &Path, m: &module::Module| -> Vec<PathBuf> {
        m.module_calls
            .iter()
            .filter_map(|c| {
                let src = c.block.body.get_attribute("source")?;
                let hcl_edit::expr::Expression::String(s) = &src.value else {
                    return None;
                };
                let s = s.value();
                (s.starts_with("./") || s.starts_with("../") || s == ".")
                    .then(|| project::normalize(&dir.join(s)))
            })
            .collect()
    };
    let called: BTreeSet<PathBuf> = modules
        .iter()
        .flat_map(|(_, dir, m)| local_calls(dir, m))
        .collect();
    let is_dir_root =
        |key: &PathBuf, dir: &Path| key.is_file() || !called.contains(&project::normalize(dir));
    let mut reached: BTreeSet<PathBuf> = BTreeSet::new();
    let mut stack: Vec<PathBuf> = modules
        .iter()
        .filter(|(key, dir, _)| is_dir_root(key, dir))
        .map(|(_, dir, _)| project::normalize(dir))
        .collect();
    while let Some(d) = stack.pop() {
        if !reached.insert(d.clone()) {
            continue;
        }
        if let Some((_, dir, m)) = modules
            .iter()
            .find(|(k, dir, _)| !k.is_file() && project::normalize(dir) == d)
        {
            stack.extend(local_calls(dir, m));
        }
    }
    let mut state = EcrState::default();
    for (key, dir, module) in &modules {
        if !is_dir_root(key, dir) && reached.contains(&project::normalize(dir)) {
            continue;
        }
        // A module a Terragrunt unit runs is evaluated there, with the unit's inputs.
        if !key.is_file() && unit_modules.contains(&project::normalize(dir)) {
            continue;
        }
        let inputs = tfvars(&project, dir, &opts.var_files);
        let root = if key.is_file() {
            String::new()
        } else {
            root_label(scanned_dirs, dir)
        };
        state.extend(evaluate_root(&project, module.clone(), inputs, root));
    }
    let (errors, not_evaluated) = project.finish();
    GroupResult {
        state,
        errors,
        not_evaluated,
    }
}

/// Scans the paths (directories are walked; files are scanned alone). Groups of modules
/// that call each other are parsed and evaluated in parallel, each dropped when done, so
/// memory stays bounded by the largest group rather than the repository.
/// Walk errors (a missing path, an unreadable directory) are errors of the scan.
#[must_use]
pub fn scan(paths: &[PathBuf], opts: &TerraformOptions) -> TerraformScan {
    let listing = ecrguard_walk::walk(paths, &discover::wanted);
    let mut scan = scan_listing(&listing, opts);
    scan.errors.extend(
        listing
            .errors
            .into_iter()
            .map(|message| InputProblem::at(None, message)),
    );
    scan.errors.sort();
    scan
}

/// [`scan`] over a walk shared with other sources; the walk's own errors are the caller's to
/// report (once, not once per source).
#[must_use]
pub fn scan_listing(listing: &ecrguard_walk::Listing, opts: &TerraformOptions) -> TerraformScan {
    let inputs = discover::inputs(listing);
    let sources: project::SharedSources =
        std::sync::Arc::new(std::sync::Mutex::new(SourceDb::default()));
    let file_count: usize = inputs.modules.values().map(Vec::len).sum();
    let roots = std::sync::Arc::new(listing.scan_roots());
    let scanned_dirs: Vec<PathBuf> = listing
        .roots
        .iter()
        .filter_map(|r| match r {
            ecrguard_walk::Root::Dir { path, .. } => Some(path.clone()),
            ecrguard_walk::Root::File(_) => None,
        })
        .collect();
    let groups = group_modules(&inputs.modules, opts.budgets.max_file_bytes);
    // Terragrunt units first read to learn which modules they run (and, below, evaluated).
    let unit_modules: BTreeSet<PathBuf> = {
        let throwaway = std::sync::Arc::new(std::sync::Mutex::new(SourceDb::default()));
        let project = Project::new(throwaway, roots.clone(), opts.budgets);
        inputs
            .terragrunt_units
            .iter()
            .filter_map(|f| terragrunt::read_unit(&project, f).module_dir.ok())
            .collect()
    };
    let results: Vec<GroupResult> = isolated_pool().install(|| {
        groups
            .into_par_iter()
            .map(|g| {
                let what = g
                    .first()
                    .map(|(k, _)| k.display().to_string())
                    .unwrap_or_default();
                isolate(&what, || {
                    scan_group(&sources, &roots, &scanned_dirs, &unit_modules, g, opts)
                })
            })
            .collect()
    });
    let units: Vec<GroupResult> = isolated_pool().install(|| {
        inputs
            .terragrunt_units
            .par_iter()
            .map(|f| {
                let what = f.display().to_string();
                isolate(&what, || {
                    scan_unit(&sources, &roots, &scanned_dirs, f, opts)
                })
            })
            .collect()
    });
    let results: Vec<GroupResult> = results.into_iter().chain(units).collect();
    // Plan JSON files (recognised by content); other JSON is left for other sources.
    let plans: Vec<(PathBuf, Option<GroupResult>)> = inputs
        .json_files
        .par_iter()
        .map(|p| match read_if_plan(p, opts.budgets.max_file_bytes) {
            Ok(Some(text)) => {
                let (state, errors, not_evaluated) = tfplan::adapt(p, text, &sources);
                (
                    p.clone(),
                    Some(GroupResult {
                        state,
                        errors,
                        not_evaluated,
                    }),
                )
            }
            Ok(None) => (p.clone(), None),
            Err(e) => (
                p.clone(),
                Some(GroupResult {
                    state: EcrState::default(),
                    errors: vec![InputProblem::at(
                        Some(whole_file(p)),
                        format!("cannot read `{}`: {e}", p.display()),
                    )],
                    not_evaluated: Vec::new(),
                }),
            ),
        })
        .collect();
    let mut results = results;
    let mut plan_files = 0;
    for (p, text) in &opts.piped_plans {
        let (state, errors, not_evaluated) = tfplan::adapt(p, text.clone(), &sources);
        plan_files += 1;
        results.push(GroupResult {
            state,
            errors,
            not_evaluated,
        });
    }
    let mut other_json = Vec::new();
    let mut plan_paths = Vec::new();
    for (p, r) in plans {
        match r {
            Some(r) => {
                plan_files += 1;
                plan_paths.push(p);
                results.push(r);
            }
            None => other_json.push(p),
        }
    }
    let mut state = EcrState::default();
    let mut errors: Vec<InputProblem> = Vec::new();
    let mut not_evaluated = Vec::new();
    for r in results {
        state.extend(r.state);
        errors.extend(r.errors);
        not_evaluated.extend(r.not_evaluated);
    }
    errors.sort();
    not_evaluated.sort();
    not_evaluated.dedup();
    let sources = std::sync::Arc::try_unwrap(sources).map_or_else(
        |shared| shared.lock().map(|db| db.clone()).unwrap_or_default(),
        |m| m.into_inner().unwrap_or_default(),
    );
    TerraformScan {
        state,
        sources,
        errors,
        not_evaluated,
        files: file_count + plan_files + inputs.terragrunt_units.len(),
        other_json,
        plans: plan_paths,
    }
}

/// A location naming a whole file (an error about the file, not a line of it).
fn whole_file(p: &Path) -> ecrguard_model::Location {
    ecrguard_model::Location::whole_file(p.display().to_string())
}

/// Evaluation nests as deep as the code does (bounded by [`project::Budgets::max_depth`]); the
/// threads that run it get a stack for that depth instead of the 2 MiB default.
const EVAL_STACK_BYTES: usize = 256 * 1024 * 1024;

/// A pool whose threads have [`EVAL_STACK_BYTES`] of stack (reserved address space, touched
/// only as deep as evaluation goes). Built once per process.
fn isolated_pool() -> &'static rayon::ThreadPool {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(EVAL_STACK_BYTES)
            .thread_name(|i| format!("ecrguard-eval-{i}"))
            .build()
            .unwrap_or_else(|_| {
                rayon::ThreadPoolBuilder::new()
                    .build()
                    .expect("a thread pool of default threads")
            })
    })
}

/// Runs the evaluation of one group of modules; a panic (a defect of ours that input
/// reached) becomes an internal error naming the input, and the rest of the scan goes on.
fn isolate(what: &str, run: impl FnOnce() -> GroupResult) -> GroupResult {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(r) => r,
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            GroupResult {
                state: EcrState::default(),
                errors: vec![InputProblem::at(
                    None,
                    format!(
                        "internal error while evaluating `{what}` ({detail}); its findings are \
                         missing, please report this with the input"
                    ),
                )],
                not_evaluated: Vec::new(),
            }
        }
    }
}
