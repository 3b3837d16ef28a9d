//! Everything one scan read: source files, parsed modules, parse errors and what could not be
//! evaluated. Evaluation runs on one thread per project; parsing ran in parallel before.

use crate::module::Module;
use ecrguard_model::{FileId, Location, Origin, SourceDb, Span};
use hcl_edit::expr::Expression;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;

/// A file that could not be read or parsed, a value that broke an adapter, or something not
/// evaluated (a registry module, an unknown `for_each`...): the input problems every source
/// reports.
pub use ecrguard_model::InputProblem;

/// The budgets of evaluating one group of modules: hostile code (a `count` of a billion, locals
/// that double a list forty times, modules that fan out ten levels deep) ends as an error that
/// names the budget, never as a process out of memory or stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    /// Bytes of one input file (`max-file-bytes`).
    pub max_file_bytes: u64,
    /// Units of work per root: one per `for` iteration, resource or module instance, value
    /// element built by a function, and per 64 bytes of string built (`max-expansion`).
    pub max_expansion: u64,
    /// Nesting of expressions, references and module calls (`max-depth`).
    pub max_depth: usize,
    /// Instances of one `resource`, `data` or `module` block (`max-instances`).
    pub max_instances: usize,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            max_file_bytes: ecrguard_walk::input::DEFAULT_MAX_FILE_BYTES,
            // A unit is about one value (~80 bytes): the largest value built stays within a
            // few hundred megabytes.
            max_expansion: 4_000_000,
            max_depth: 256,
            max_instances: 100_000,
        }
    }
}

/// The source files of a whole scan, shared by the groups of modules scanned in parallel.
pub type SharedSources = Arc<Mutex<SourceDb>>;

/// Files, modules, errors of one group of modules (a root and the local modules it calls).
/// Evaluation of a group runs on one thread; groups run in parallel.
pub struct Project {
    sources: SharedSources,
    modules: RefCell<HashMap<PathBuf, Option<Arc<Module>>>>,
    masked_keys: RefCell<HashMap<(FileId, usize), String>>,
    errors: RefCell<Vec<InputProblem>>,
    not_evaluated: RefCell<Vec<InputProblem>>,
    roots: Arc<ecrguard_walk::input::ScanRoots>,
    budgets: Budgets,
    /// `.terraform/modules/modules.json` of each root directory read so far: module key to
    /// installed directory (`None`: no such file).
    installed: RefCell<HashMap<PathBuf, Option<HashMap<String, PathBuf>>>>,
    work: Cell<u64>,
    depth: Cell<usize>,
    over_budget: Cell<bool>,
    file_reads: Cell<usize>,
}

/// Leaves one level of nesting when dropped.
pub struct DepthGuard<'a>(&'a Cell<usize>);

impl Drop for DepthGuard<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// A parsed (or failed) `.tf` file.
pub struct ParsedFile {
    /// Path.
    pub path: PathBuf,
    /// Text.
    pub text: String,
    /// The body, or the parse error with its byte offset.
    pub body: Result<hcl_edit::structure::Body, (String, usize)>,
    /// Object keys repeated in a constructor, masked for the parser: byte offset of the
    /// masked key -> its real name.
    pub masked_keys: HashMap<usize, String>,
}

/// Most repeated object keys unmasked in one file before giving up.
const MAX_MASKED_KEYS: usize = 64;

/// Parses one `.tf` file. Terraform accepts a key repeated in an object constructor (the
/// later one wins; seen in real modules such as aws-ia/terraform-aws-eks-blueprints) while
/// hcl-edit refuses it, so the later key is masked with a placeholder of the same length
/// (every span stays valid) and its name is restored at evaluation.
#[must_use]
pub fn parse_file(path: PathBuf, text: String) -> ParsedFile {
    if crate::discover::is_json_syntax(&path) {
        let body = crate::tfjson::to_body(&text).map(retain_relevant);
        return ParsedFile {
            path,
            text,
            body,
            masked_keys: HashMap::new(),
        };
    }
    parse_with(path, text, retain_relevant)
}

/// Parses a variable file (`*.tfvars`): top-level attributes, kept whole.
#[must_use]
pub fn parse_tfvars(path: PathBuf, text: String) -> ParsedFile {
    parse_with(path, text, std::convert::identity)
}

fn parse_with(
    path: PathBuf,
    text: String,
    keep: fn(hcl_edit::structure::Body) -> hcl_edit::structure::Body,
) -> ParsedFile {
    let mut masked_keys = HashMap::new();
    // Attempts, not masks: a placeholder that collides with an earlier one is masked again at
    // the same offset, which does not grow the map (this looped forever on 12 repeats of a
    // two-letter key, found by the fuzz test).
    let mut attempts = 0usize;
    // No nesting check of our own: hcl-edit refuses more than 64 nested levels with an error
    // at its place ("invalid nesting depth"), before its recursion could exhaust a stack.
    // Most files parse at once; the copy for masking is made only when needed.
    let mut masked: Option<String> = None;
    loop {
        let input = masked.as_deref().unwrap_or(&text);
        match hcl_edit::parser::parse_body(input) {
            Ok(body) => {
                return ParsedFile {
                    path,
                    text,
                    body: Ok(keep(body)),
                    masked_keys,
                };
            }
            Err(e) => {
                let loc = e.location();
                let offset = line_col_to_offset(input, loc.line(), loc.column());
                if e.message().contains("redefined object key")
                    && attempts < MAX_MASKED_KEYS
                    && let Some((start, name)) =
                        mask_key(masked.get_or_insert_with(|| text.clone()), offset, attempts)
                {
                    attempts += 1;
                    // A placeholder masked again keeps the real name it first stood for.
                    masked_keys.entry(start).or_insert(name);
                    continue;
                }
                return ParsedFile {
                    path,
                    text,
                    body: Err((e.message().to_string(), offset)),
                    masked_keys,
                };
            }
        }
    }
}

/// Clears whitespace and comments ("decor") that the parser keeps around every node: the
/// evaluator never reads them (suppression comments are read from the file text), and they
/// are a large share of the tree's memory.
struct Undecorate;

impl hcl_edit::visit_mut::VisitMut for Undecorate {
    fn visit_body_mut(&mut self, node: &mut hcl_edit::structure::Body) {
        hcl_edit::Decorate::decor_mut(node).clear();
        hcl_edit::visit_mut::visit_body_mut(self, node);
    }
    fn visit_structure_mut(&mut self, mut node: hcl_edit::structure::StructureMut) {
        hcl_edit::Decorate::decor_mut(&mut node).clear();
        hcl_edit::visit_mut::visit_structure_mut(self, node);
    }
    fn visit_block_mut(&mut self, node: &mut hcl_edit::structure::Block) {
        hcl_edit::Decorate::decor_mut(&mut node.ident).clear();
        for l in &mut node.labels {
            hcl_edit::Decorate::decor_mut(l).clear();
        }
        hcl_edit::visit_mut::visit_block_mut(self, node);
    }
    fn visit_attr_mut(&mut self, mut node: hcl_edit::structure::AttributeMut) {
        hcl_edit::Decorate::decor_mut(&mut node).clear();
        hcl_edit::visit_mut::visit_attr_mut(self, node);
    }
    fn visit_expr_mut(&mut self, node: &mut Expression) {
        hcl_edit::Decorate::decor_mut(node).clear();
        hcl_edit::visit_mut::visit_expr_mut(self, node);
    }
    fn visit_object_key_mut(&mut self, mut node: hcl_edit::expr::ObjectKeyMut) {
        hcl_edit::Decorate::decor_mut(&mut node).clear();
    }
    fn visit_traversal_operator_mut(&mut self, node: &mut hcl_edit::expr::TraversalOperator) {
        hcl_edit::Decorate::decor_mut(node).clear();
        hcl_edit::visit_mut::visit_traversal_operator_mut(self, node);
    }
    fn visit_ident_mut(&mut self, node: &mut hcl_edit::Decorated<hcl_edit::Ident>) {
        hcl_edit::Decorate::decor_mut(node).clear();
    }
}

/// Resource types an ECR rule can read, directly or through a reference.
fn relevant_resource(ty: &str) -> bool {
    ty.starts_with("aws_ecr")
        || ty.starts_with("aws_iam_")
        || ty == "aws_eks_node_group"
        || ty == "aws_launch_template"
        || ty == "aws_autoscaling_group"
        || ty == "aws_kms_key"
}

/// Data sources the evaluator knows; the others are read from AWS at plan time, so they
/// are `Unknown` whether kept or not.
fn relevant_data(ty: &str) -> bool {
    matches!(
        ty,
        "aws_iam_policy_document"
            | "aws_caller_identity"
            | "aws_partition"
            | "aws_iam_policy"
            | "aws_region"
    )
}

/// Drops what no rule can read (most of a real module: networks, buckets, functions,
/// provider settings, variable descriptions and validations) right after parsing, so those
/// syntax trees do not stay in memory. A reference to a dropped resource or data source
/// evaluates to `Unknown`, as any computed attribute would.
fn retain_relevant(body: hcl_edit::structure::Body) -> hcl_edit::structure::Body {
    use hcl_edit::structure::Structure;
    use hcl_edit::visit_mut::VisitMut as _;
    let mut kept: hcl_edit::structure::Body = body
        .into_iter()
        .filter_map(|s| match s {
            Structure::Block(mut b) => {
                let label = b.labels.first().map(|l| l.as_str().to_string()).unwrap_or_default();
                let keep = match b.ident.as_str() {
                    "resource" => relevant_resource(&label),
                    "data" => relevant_data(&label),
                    "variable" => {
                        // Only the default is ever read.
                        b.body = b.body.into_iter().filter(|s| matches!(s, Structure::Attribute(a) if a.key.as_str() == "default")).collect();
                        true
                    }
                    "locals" | "output" | "module" => true,
                    _ => false,
                };
                keep.then_some(Structure::Block(b))
            }
            Structure::Attribute(_) => None,
        })
        .collect();
    Undecorate.visit_body_mut(&mut kept);
    kept
}

/// Replaces the object key at or after `offset` (an identifier or a quoted string) with a
/// same-length placeholder; returns the key's start and its name.
fn mask_key(text: &mut String, offset: usize, n: usize) -> Option<(usize, String)> {
    let bytes = text.as_bytes();
    let mut start = offset;
    while start < bytes.len() && bytes[start].is_ascii_whitespace() {
        start += 1;
    }
    let (name_start, name_end) = if bytes.get(start) == Some(&b'"') {
        let end = start + 1 + text[start + 1..].find('"')?;
        (start + 1, end)
    } else {
        let end =
            start + text[start..].find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))?;
        (start, end)
    };
    let name = text.get(name_start..name_end)?.to_string();
    if name.is_empty() || !name.is_ascii() {
        return None;
    }
    // `_` then the counter in base 36, padded to the key's length: unique among the masks of
    // one file while the counter fits (a one-letter key cannot be masked; a two-letter key 36
    // times).
    let len = name.len();
    let width = len.saturating_sub(1);
    let mut digits = Vec::with_capacity(width);
    let mut rest = n;
    for _ in 0..width {
        digits.push(char::from_digit(u32::try_from(rest % 36).unwrap_or(0), 36)?);
        rest /= 36;
    }
    if width == 0 || rest != 0 {
        return None;
    }
    let placeholder: String = std::iter::once('_')
        .chain(digits.into_iter().rev())
        .collect();
    text.replace_range(name_start..name_end, &placeholder);
    Some((name_start, name))
}

fn line_col_to_offset(text: &str, line: usize, col: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + col.saturating_sub(1)).min(text.len())
}

impl Project {
    /// A project whose files go into `sources`, reading only inside `roots`.
    #[must_use]
    pub fn new(
        sources: SharedSources,
        roots: Arc<ecrguard_walk::input::ScanRoots>,
        budgets: Budgets,
    ) -> Self {
        Project {
            sources,
            modules: RefCell::default(),
            masked_keys: RefCell::default(),
            errors: RefCell::default(),
            not_evaluated: RefCell::default(),
            roots,
            budgets,
            installed: RefCell::default(),
            work: Cell::new(0),
            depth: Cell::new(0),
            over_budget: Cell::new(false),
            file_reads: Cell::new(0),
        }
    }

    /// Where `terraform init` installed the module with key `key` (`ecr`, `ecr.this`) of the
    /// root in `root_dir`, from `.terraform/modules/modules.json`. `None` when the root was not
    /// initialised or the file does not list the key; `Err` when the entry's directory is
    /// missing.
    pub fn installed_module(&self, root_dir: &Path, key: &str) -> Option<Result<PathBuf, String>> {
        let root_dir = normalize(root_dir);
        if !self.installed.borrow().contains_key(&root_dir) {
            let table = self.read_modules_json(&root_dir);
            self.installed.borrow_mut().insert(root_dir.clone(), table);
        }
        let installed = self.installed.borrow();
        let dir = installed.get(&root_dir)?.as_ref()?.get(key)?.clone();
        Some(if dir.is_dir() {
            Ok(dir)
        } else {
            Err(format!(
                "`{}` lists module `{key}` in `{}`, which is missing: run `terraform init` again",
                root_dir.join(".terraform/modules/modules.json").display(),
                dir.display()
            ))
        })
    }

    fn read_modules_json(&self, root_dir: &Path) -> Option<HashMap<String, PathBuf>> {
        let path = root_dir.join(".terraform/modules/modules.json");
        if path.symlink_metadata().is_err() {
            return None;
        }
        let text = match self.read_source(&path) {
            Ok(t) => t,
            Err(e) => {
                self.error(None, e);
                return None;
            }
        };
        let Ok(node) = ecrguard_iam::json::parse(&text) else {
            self.error(None, format!("`{}` is not valid JSON", path.display()));
            return None;
        };
        let mut table = HashMap::new();
        let modules = node.get("Modules").and_then(|m| match &m.value {
            ecrguard_iam::json::Value::Array(items) => Some(items),
            _ => None,
        });
        for m in modules.into_iter().flatten() {
            let (Some(key), Some(dir)) = (
                m.get("Key").and_then(ecrguard_iam::json::Node::as_str),
                m.get("Dir").and_then(ecrguard_iam::json::Node::as_str),
            ) else {
                continue;
            };
            // `Dir` is relative to the root module (where `init` ran); an absolute one is
            // taken as written. The roots check applies when it is loaded.
            table.insert(key.to_string(), normalize(&root_dir.join(dir)));
        }
        Some(table)
    }

    /// The budgets in force.
    #[must_use]
    pub fn budgets(&self) -> Budgets {
        self.budgets
    }

    /// The scan roots: what a file named by the code may be read from.
    #[must_use]
    pub fn roots(&self) -> &ecrguard_walk::input::ScanRoots {
        &self.roots
    }

    /// Charges `units` of work to the expansion budget. `false` once it is spent: the caller
    /// then yields `Unknown`, and the first time an error names the budget and `address`.
    pub fn charge(&self, address: &str, units: u64) -> bool {
        let total = self.work.get().saturating_add(units);
        self.work.set(total);
        if total <= self.budgets.max_expansion {
            return true;
        }
        if !self.over_budget.replace(true) {
            let at = if address.is_empty() {
                "the root module"
            } else {
                address
            };
            self.error(
                None,
                format!(
                    "evaluation of {at} exceeded the expansion budget of {} units \
                     (`max-expansion`: instances, `for` iterations, values built); what it \
                     had not evaluated is unknown",
                    self.budgets.max_expansion
                ),
            );
        }
        false
    }

    /// What is left of the expansion budget.
    #[must_use]
    pub fn remaining(&self) -> u64 {
        self.budgets.max_expansion.saturating_sub(self.work.get())
    }

    /// Whether the expansion budget is spent.
    #[must_use]
    pub fn spent(&self) -> bool {
        self.over_budget.get()
    }

    /// Enters one level of nesting; `None` past the depth budget.
    #[must_use]
    pub fn enter(&self) -> Option<DepthGuard<'_>> {
        let d = self.depth.get();
        if d >= self.budgets.max_depth {
            return None;
        }
        self.depth.set(d + 1);
        Some(DepthGuard(&self.depth))
    }

    /// Enters one nested `file()` / `templatefile()` read; `None` past 8 (a template that
    /// includes itself).
    #[must_use]
    pub fn enter_file_read(&self) -> Option<DepthGuard<'_>> {
        let d = self.file_reads.get();
        if d >= 8 {
            return None;
        }
        self.file_reads.set(d + 1);
        Some(DepthGuard(&self.file_reads))
    }

    /// Reads a file of the scan (a module's `.tf` file): inside the roots, regular, within the
    /// byte budget.
    ///
    /// # Errors
    /// Why it was not read, with the path.
    pub fn read_source(&self, path: &Path) -> Result<String, String> {
        read_source(&self.roots, self.budgets.max_file_bytes, path)
    }

    fn db(&self) -> std::sync::MutexGuard<'_, SourceDb> {
        // A panic elsewhere cannot leave the file list half-written: `add` is one push.
        self.sources
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a file's text and returns its id.
    pub fn add_source(&self, path: &Path, text: String) -> FileId {
        self.db().add(path.display().to_string(), text)
    }

    /// Adds parsed files of one directory as a module (parse errors are recorded).
    pub fn add_module(&self, dir: &Path, files: Vec<ParsedFile>) -> Arc<Module> {
        let mut module = Module {
            dir: dir.to_path_buf(),
            ..Module::default()
        };
        for f in files {
            let id = self.add_source(&f.path, f.text);
            self.masked_keys
                .borrow_mut()
                .extend(f.masked_keys.into_iter().map(|(o, k)| ((id, o), k)));
            match f.body {
                Ok(body) => module.add_file(id, body),
                Err((message, offset)) => {
                    let origin = Origin::Span {
                        file: id,
                        span: Span::new(offset, offset + 1),
                    };
                    let location = self.db().lines(&origin);
                    let what = if crate::discover::is_json_syntax(&f.path) {
                        "Terraform JSON"
                    } else {
                        "HCL"
                    };
                    self.error(location, format!("cannot parse {what}: {message}"));
                }
            }
        }
        let module = Arc::new(module);
        self.modules
            .borrow_mut()
            .insert(dir.to_path_buf(), Some(module.clone()));
        module
    }

    /// The module in `dir`, loading and parsing it on first use. A directory outside the
    /// scan roots (`source = "../../../../etc"`) is an error and is not read.
    pub fn load_module(&self, dir: &Path) -> Option<Arc<Module>> {
        let key = normalize(dir);
        if let Some(m) = self.modules.borrow().get(&key) {
            return m.clone();
        }
        if let Err(e) = self.roots.resolve(&key) {
            self.error(None, format!("module directory `{}` {e}", key.display()));
            self.modules.borrow_mut().insert(key, None);
            return None;
        }
        let files = match crate::discover::module_files(&key) {
            Ok(f) => f,
            Err(e) => {
                self.error(
                    None,
                    format!("cannot read module directory `{}`: {e}", key.display()),
                );
                self.modules.borrow_mut().insert(key, None);
                return None;
            }
        };
        let parsed = files
            .into_iter()
            .filter_map(|p| match self.read_source(&p) {
                Ok(t) => Some(parse_file(p, t)),
                Err(e) => {
                    self.error(Some(Location::whole_file(p.display().to_string())), e);
                    None
                }
            })
            .collect();
        Some(self.add_module(&key, parsed))
    }

    /// The real name of an object key masked at parse time (see [`parse_file`]).
    #[must_use]
    pub fn masked_key(&self, file: FileId, offset: usize) -> Option<String> {
        self.masked_keys.borrow().get(&(file, offset)).cloned()
    }

    /// Records an error.
    pub fn error(&self, location: Option<Location>, message: String) {
        self.errors
            .borrow_mut()
            .push(InputProblem::at(location, message));
    }

    /// Records something not evaluated.
    pub fn not_evaluated(&self, address: String, reason: String) {
        let mut list = self.not_evaluated.borrow_mut();
        let item = InputProblem::not_evaluated(address, reason);
        if !list.contains(&item) {
            list.push(item);
        }
    }

    /// Whether the file's text at `start` is exactly `expected` (compared in place: this runs
    /// for every string literal evaluated).
    #[must_use]
    pub fn source_is(&self, file: FileId, start: usize, expected: &str) -> bool {
        self.db().get(file).text.get(start..start + expected.len()) == Some(expected)
    }

    /// Location of a top-level block.
    #[must_use]
    pub fn block_location(&self, block: &crate::module::FileBlock) -> Option<Location> {
        let span = block.span()?;
        self.location(&Origin::Span {
            file: block.file,
            span,
        })
    }

    /// Location of an origin.
    #[must_use]
    pub fn location(&self, origin: &Origin) -> Option<Location> {
        self.db().lines(origin)
    }

    /// Takes the errors and the not-evaluated list out.
    #[must_use]
    pub fn finish(self) -> (Vec<InputProblem>, Vec<InputProblem>) {
        (self.errors.into_inner(), self.not_evaluated.into_inner())
    }
}

/// Reads one file of a scan through the input budget, refusing what lies outside the roots.
///
/// # Errors
/// Why it was not read, with the path.
pub fn read_source(
    roots: &ecrguard_walk::input::ScanRoots,
    max_bytes: u64,
    path: &Path,
) -> Result<String, String> {
    roots
        .read_named_by_input(path, max_bytes)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

/// Resolves `.` and `..` lexically so `./a/../b` and `b` are one module.
#[must_use]
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}
