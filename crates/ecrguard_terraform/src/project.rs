//! Everything one scan read: source files, parsed modules, parse errors and what could not be
//! evaluated. Evaluation runs on one thread per project; parsing ran in parallel before.

use crate::module::Module;
use ecrguard_model::{FileId, Location, Origin, SourceDb, Span};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file that could not be read or parsed, or a value that broke an adapter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ScanError {
    /// Where.
    pub location: Option<Location>,
    /// What.
    pub message: String,
}

/// Something that was not evaluated (a registry module, an unknown `for_each`...). Never a
/// finding by itself; listed so users know what was not looked at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NotEvaluated {
    /// The address.
    pub address: String,
    /// Why.
    pub reason: String,
}

/// Files, modules, errors of a scan.
#[derive(Default)]
pub struct Project {
    sources: RefCell<SourceDb>,
    modules: RefCell<HashMap<PathBuf, Option<Arc<Module>>>>,
    errors: RefCell<Vec<ScanError>>,
    not_evaluated: RefCell<Vec<NotEvaluated>>,
}

/// A parsed (or failed) `.tf` file.
pub struct ParsedFile {
    /// Path.
    pub path: PathBuf,
    /// Text.
    pub text: String,
    /// The body, or the parse error with its byte offset.
    pub body: Result<hcl_edit::structure::Body, (String, usize)>,
}

/// Parses one `.tf` file. Terraform accepts a key repeated in an object constructor (the
/// later one wins); hcl-edit does too.
#[must_use]
pub fn parse_file(path: PathBuf, text: String) -> ParsedFile {
    let body = hcl_edit::parser::parse_body(&text).map_err(|e| {
        let loc = e.location();
        let offset = line_col_to_offset(&text, loc.line(), loc.column());
        (e.message().to_string(), offset)
    });
    ParsedFile { path, text, body }
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
    /// Registers a file's text and returns its id.
    pub fn add_source(&self, path: &Path, text: String) -> FileId {
        self.sources
            .borrow_mut()
            .add(path.display().to_string(), text)
    }

    /// Adds parsed files of one directory as a module (parse errors are recorded).
    pub fn add_module(&self, dir: &Path, files: Vec<ParsedFile>) -> Arc<Module> {
        let mut module = Module {
            dir: dir.to_path_buf(),
            ..Module::default()
        };
        for f in files {
            let id = self.add_source(&f.path, f.text);
            match f.body {
                Ok(body) => module.add_file(id, body),
                Err((message, offset)) => {
                    let origin = Origin::Span {
                        file: id,
                        span: Span::new(offset, offset + 1),
                    };
                    let location = self.sources.borrow().lines(&origin);
                    self.error(location, format!("cannot parse HCL: {message}"));
                }
            }
        }
        let module = Arc::new(module);
        self.modules
            .borrow_mut()
            .insert(dir.to_path_buf(), Some(module.clone()));
        module
    }

    /// The module in `dir`, loading and parsing it on first use.
    pub fn load_module(&self, dir: &Path) -> Option<Arc<Module>> {
        let key = normalize(dir);
        if let Some(m) = self.modules.borrow().get(&key) {
            return m.clone();
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
            .filter_map(|p| match std::fs::read_to_string(&p) {
                Ok(t) => Some(parse_file(p, t)),
                Err(e) => {
                    self.error(None, format!("cannot read `{}`: {e}", p.display()));
                    None
                }
            })
            .collect();
        Some(self.add_module(&key, parsed))
    }

    /// Records an error.
    pub fn error(&self, location: Option<Location>, message: String) {
        self.errors
            .borrow_mut()
            .push(ScanError { location, message });
    }

    /// Records something not evaluated.
    pub fn not_evaluated(&self, address: String, reason: String) {
        let mut list = self.not_evaluated.borrow_mut();
        let item = NotEvaluated { address, reason };
        if !list.contains(&item) {
            list.push(item);
        }
    }

    /// Bytes `start..end` of a file, if in range.
    #[must_use]
    pub fn source_slice(&self, file: FileId, start: usize, end: usize) -> Option<String> {
        self.sources
            .borrow()
            .get(file)
            .text
            .get(start..end)
            .map(str::to_string)
    }

    /// Location of an origin.
    #[must_use]
    pub fn location(&self, origin: &Origin) -> Option<Location> {
        self.sources.borrow().lines(origin)
    }

    /// Takes the results out.
    #[must_use]
    pub fn finish(self) -> (SourceDb, Vec<ScanError>, Vec<NotEvaluated>) {
        (
            self.sources.into_inner(),
            self.errors.into_inner(),
            self.not_evaluated.into_inner(),
        )
    }
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
