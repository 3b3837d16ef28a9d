//! Terragrunt units: a directory with `terragrunt.hcl` is a root whose module is its
//! `terraform { source }` (a local path, with the `//` subdirectory form; a remote source
//! from its copy under `.terragrunt-cache`), and whose variables are its `inputs`.
//!
//! The configuration is evaluated with the Terraform evaluator plus Terragrunt's own
//! functions: `find_in_parent_folders`, `read_terragrunt_config`, `get_terragrunt_dir`,
//! `get_parent_terragrunt_dir`, `path_relative_to_include`, `path_relative_from_include`.
//! `include` blocks merge the parent's `inputs` and `terraform` block (shallow by default,
//! `deep` on request, not at all with `no_merge`); `expose = true` makes `include.NAME.locals`
//! readable. What only exists after other units are applied (`dependency.NAME.outputs`) is
//! unknown, and so is anything that would read the machine: `get_env` without a default,
//! `run_cmd`, `sops_decrypt_file` are never run.

use crate::eval::{Eval, Scope};
use crate::project::{Project, normalize, parse_tfvars};
use crate::value::{V, Val};
use hcl_edit::structure::{Body, Structure};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// The file that makes a directory a Terragrunt unit.
pub const UNIT_FILE: &str = "terragrunt.hcl";

/// How deep `include` and `read_terragrunt_config` may nest (Terragrunt allows one level of
/// include; configs read by configs can chain further, but not forever).
const MAX_DEPTH: usize = 8;

/// Locals are evaluated in passes until none changes (they may refer to each other in any
/// order); this many passes at most.
const MAX_LOCAL_PASSES: usize = 16;

/// A unit, evaluated.
pub struct Unit {
    /// The unit's directory.
    pub dir: PathBuf,
    /// The module it runs, or why it cannot be read.
    pub module_dir: Result<PathBuf, UnitError>,
    /// Its `inputs`: the module's variables.
    pub inputs: BTreeMap<String, V>,
}

/// Why a unit's module is not evaluated.
pub enum UnitError {
    /// A configuration cannot be read or parsed: an error of the scan.
    Broken(String),
    /// A value decides it that is not known (a remote source not downloaded, an unknown
    /// source): listed as not evaluated.
    NotEvaluated(String),
}

/// The context Terragrunt functions are evaluated in.
pub struct Functions {
    /// The unit's directory (`get_terragrunt_dir()`, where `find_in_parent_folders` starts).
    unit_dir: PathBuf,
    /// The directory of the configuration being included, when evaluating one.
    include_dir: Option<PathBuf>,
    depth: usize,
    /// Configurations read by `read_terragrunt_config` while reading this unit: `None`
    /// while one is being read, so a file that reads itself ends at once.
    read: Reads,
}

type Reads = Rc<std::cell::RefCell<BTreeMap<PathBuf, Option<V>>>>;

impl Functions {
    /// Calls a Terragrunt function; `None` for names that are Terraform's.
    pub fn call(&self, ev: &Eval<'_>, name: &str, args: &[V]) -> Option<V> {
        let text = |i: usize| args.get(i).and_then(V::as_string);
        Some(match name {
            "get_terragrunt_dir" => V::string(shown(&self.unit_dir)),
            "get_parent_terragrunt_dir" => {
                V::string(shown(self.include_dir.as_deref().unwrap_or(&self.unit_dir)))
            }
            "get_original_terragrunt_dir" => V::string(shown(&self.unit_dir)),
            "path_relative_to_include" => V::string(match &self.include_dir {
                Some(inc) => relative(inc, &self.unit_dir),
                None => ".".to_string(),
            }),
            "path_relative_from_include" => V::string(match &self.include_dir {
                Some(inc) => relative(&self.unit_dir, inc),
                None => ".".to_string(),
            }),
            "find_in_parent_folders" => {
                let wanted = text(0).unwrap_or_else(|| UNIT_FILE.to_string());
                match self.find_in_parents(ev, &wanted) {
                    Some(p) => V::string(shown(&p)),
                    None => args.get(1).cloned().unwrap_or_else(|| {
                        V::unknown(format!(
                            "`find_in_parent_folders(\"{wanted}\")` finds nothing inside the scan"
                        ))
                    }),
                }
            }
            "read_terragrunt_config" => {
                let Some(rel) = text(0) else {
                    return Some(V::unknown("`read_terragrunt_config` path is not known"));
                };
                let path = normalize(&self.unit_dir.join(rel));
                let known = self.read.borrow().get(&path).cloned();
                match known {
                    Some(Some(v)) => v,
                    Some(None) => V::unknown(format!(
                        "`read_terragrunt_config(\"{}\")` reads a configuration that is being read",
                        path.display()
                    )),
                    None => {
                        self.read.borrow_mut().insert(path.clone(), None);
                        let v = match evaluate(
                            ev.project,
                            &path,
                            &self.unit_dir,
                            None,
                            self.depth + 1,
                            &self.read,
                        ) {
                            Ok(c) => c.as_value(),
                            Err(why) => args.get(1).cloned().unwrap_or_else(|| V::unknown(why)),
                        };
                        self.read.borrow_mut().insert(path, Some(v.clone()));
                        v
                    }
                }
            }
            // Reading the environment or running commands would let a pull request read the
            // CI's secrets or run code: never done.
            "get_env" => args.get(1).cloned().unwrap_or_else(|| {
                V::unknown("`get_env` without a default: the environment is not read")
            }),
            "run_cmd"
            | "sops_decrypt_file"
            | "get_aws_caller_identity_arn"
            | "get_aws_caller_identity_user_id"
            | "get_terraform_commands_that_need_vars"
            | "get_terraform_command"
            | "get_terraform_cli_args"
            | "local_exec" => V::unknown(format!("`{name}` is not run by a scanner")),
            "get_aws_account_id" => V::string(ecrguard_iam::analysis::SELF_ACCOUNT),
            "get_platform" => V::unknown("`get_platform` depends on the machine"),
            "get_repo_root" | "get_path_to_repo_root" | "get_path_from_repo_root" => {
                V::unknown(format!("`{name}` is not evaluated"))
            }
            _ => return None,
        })
    }

    fn find_in_parents(&self, ev: &Eval<'_>, wanted: &str) -> Option<PathBuf> {
        let start = std::path::absolute(&self.unit_dir).ok()?;
        for dir in start.ancestors().skip(1) {
            let candidate = dir.join(wanted);
            // Only inside the scan: a file above the checkout is not the code's to name.
            if !candidate.is_file() {
                continue;
            }
            return ev
                .project
                .roots()
                .resolve(&candidate)
                .is_ok()
                .then_some(candidate);
        }
        None
    }
}

fn shown(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// `to` relative to `from`, with `/` separators (`..` where `to` is not below `from`).
fn relative(from: &Path, to: &Path) -> String {
    let abs = |p: &Path| normalize(&std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
    let (from, to) = (abs(from), abs(to));
    let f: Vec<_> = from.components().collect();
    let t: Vec<_> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); f.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// One configuration file, evaluated (before merging into a child).
struct Config {
    locals: Vec<(String, V)>,
    inputs: Vec<(String, V)>,
    /// `terraform { source }`, when set.
    source: Option<V>,
    /// The file's directory (a relative `source` is relative to the file that sets it).
    dir: PathBuf,
}

impl Config {
    fn as_value(&self) -> V {
        let mut members = vec![
            (
                "locals".to_string(),
                V::new(Val::Object(self.locals.clone())),
            ),
            (
                "inputs".to_string(),
                V::new(Val::Object(self.inputs.clone())),
            ),
        ];
        if let Some(s) = &self.source {
            members.push((
                "terraform".to_string(),
                V::new(Val::Object(vec![("source".to_string(), s.clone())])),
            ));
        }
        V::new(Val::Object(members))
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Merge {
    Shallow,
    Deep,
    None,
}

/// Evaluates the configuration at `path` for the unit in `unit_dir`. `include_dir` is set
/// when `path` is being included by the unit's own file.
fn evaluate(
    project: &Project,
    path: &Path,
    unit_dir: &Path,
    include_dir: Option<&Path>,
    depth: usize,
    read: &Reads,
) -> Result<Config, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "`{}` not read: Terragrunt configurations include or read each other more than {MAX_DEPTH} deep",
            path.display()
        ));
    }
    let text = project.read_source(path)?;
    let parsed = parse_tfvars(path.to_path_buf(), text);
    let file = project.add_source(path, parsed.text);
    let body: Body = parsed
        .body
        .map_err(|(message, _)| format!("cannot parse `{}` as HCL: {message}", path.display()))?;
    let dir = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let mut ev = Eval::new(
        project,
        Arc::new(crate::module::Module {
            dir: unit_dir.to_path_buf(),
            ..crate::module::Module::default()
        }),
        String::new(),
        BTreeMap::new(),
        0,
    );
    ev.terragrunt = Some(Rc::new(Functions {
        unit_dir: unit_dir.to_path_buf(),
        include_dir: include_dir.map(Path::to_path_buf),
        depth,
        read: read.clone(),
    }));

    // Dependencies' outputs exist only once they are applied.
    let mut dependencies = Vec::new();
    // Includes are read first: their exposed values are in scope for everything else.
    let mut includes: Vec<(String, Config, Merge, bool)> = Vec::new();
    for structure in body.iter() {
        let Structure::Block(block) = structure else {
            continue;
        };
        match block.ident.as_str() {
            "dependency" => {
                let name = block.labels.first().map_or("", |l| l.as_str()).to_string();
                dependencies.push((
                    name.clone(),
                    V::new(Val::Object(vec![(
                        "outputs".to_string(),
                        V::unknown(format!(
                            "`dependency.{name}.outputs` are known only after that unit is applied"
                        )),
                    )])),
                ));
            }
            "include" if include_dir.is_none() => {
                let name = block.labels.first().map_or("", |l| l.as_str()).to_string();
                let attr = |k: &str| {
                    block
                        .body
                        .get_attribute(k)
                        .map(|a| ev.eval(file, &a.value, &Scope::default()))
                };
                let Some(target) = attr("path").and_then(|v| v.as_string()) else {
                    return Err(format!(
                        "`include` in `{}` has a path that is not known",
                        path.display()
                    ));
                };
                let target = normalize(&dir.join(target));
                let included_dir = target
                    .parent()
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
                let config = evaluate(
                    project,
                    &target,
                    unit_dir,
                    Some(&included_dir),
                    depth + 1,
                    read,
                )?;
                let merge = match attr("merge_strategy")
                    .and_then(|v| v.as_string())
                    .as_deref()
                {
                    Some("no_merge") => Merge::None,
                    Some("deep" | "deep_map_only") => Merge::Deep,
                    _ => Merge::Shallow,
                };
                let expose = attr("expose").and_then(|v| v.as_bool()).unwrap_or(false);
                includes.push((name, config, merge, expose));
            }
            _ => {}
        }
    }
    let mut scope = Scope::default().with("dependency", V::new(Val::Object(dependencies)));
    let exposed: Vec<(String, V)> = includes
        .iter()
        .filter(|(_, _, _, expose)| *expose)
        .map(|(name, c, _, _)| (name.clone(), c.as_value()))
        .collect();
    scope = scope.with("include", V::new(Val::Object(exposed)));

    // Locals, in passes: each sees the others' values from the pass before.
    let local_exprs: Vec<(String, &hcl_edit::expr::Expression)> = body
        .iter()
        .filter_map(|s| match s {
            Structure::Block(b) if b.ident.as_str() == "locals" => Some(b),
            _ => None,
        })
        .flat_map(|b| {
            b.body
                .attributes()
                .map(|a| (a.key.as_str().to_string(), &a.value))
        })
        .collect();
    let mut locals: Vec<(String, V)> = local_exprs
        .iter()
        .map(|(k, _)| {
            (
                k.clone(),
                V::unknown(format!("`local.{k}` refers to itself")),
            )
        })
        .collect();
    for _ in 0..MAX_LOCAL_PASSES.min(local_exprs.len() + 1) {
        let s = scope.with("local", V::new(Val::Object(locals.clone())));
        let next: Vec<(String, V)> = local_exprs
            .iter()
            .map(|(k, e)| (k.clone(), ev.eval(file, e, &s)))
            .collect();
        let settled = next
            .iter()
            .zip(&locals)
            .all(|((_, a), (_, b))| a.val == b.val);
        locals = next;
        if settled {
            break;
        }
    }
    scope = scope.with("local", V::new(Val::Object(locals.clone())));

    let mut inputs: Vec<(String, V)> = Vec::new();
    let mut source = None;
    for structure in body.iter() {
        match structure {
            Structure::Attribute(a) if a.key.as_str() == "inputs" => {
                let v = ev.eval(file, &a.value, &scope);
                match v.as_object() {
                    Some(o) => inputs = o.to_vec(),
                    None => {
                        inputs = vec![(
                            String::new(),
                            V::unknown(format!(
                                "`inputs` of `{}` is {}",
                                path.display(),
                                v.kind_name()
                            )),
                        )];
                    }
                }
            }
            Structure::Block(b) if b.ident.as_str() == "terraform" => {
                if let Some(a) = b.body.get_attribute("source") {
                    source = Some(ev.eval(file, &a.value, &scope));
                }
            }
            _ => {}
        }
    }
    // The child's values over its parents'.
    let mut merged_inputs: Vec<(String, V)> = Vec::new();
    let mut merged_source: Option<(V, PathBuf)> = None;
    for (_, parent, merge, _) in &includes {
        if *merge == Merge::None {
            continue;
        }
        for (k, v) in &parent.inputs {
            put(&mut merged_inputs, k, v.clone(), *merge);
        }
        if let Some(s) = &parent.source {
            merged_source = Some((s.clone(), parent.dir.clone()));
        }
    }
    let deep = includes.iter().any(|(_, _, m, _)| *m == Merge::Deep);
    for (k, v) in inputs {
        put(
            &mut merged_inputs,
            &k,
            v,
            if deep { Merge::Deep } else { Merge::Shallow },
        );
    }
    if let Some(s) = source {
        merged_source = Some((s, dir.clone()));
    }
    let (source, dir) = match merged_source {
        Some((s, d)) => (Some(s), d),
        None => (None, dir),
    };
    Ok(Config {
        locals,
        inputs: merged_inputs,
        source,
        dir,
    })
}

/// Sets an input: a deep merge combines objects key by key and concatenates lists.
fn put(into: &mut Vec<(String, V)>, key: &str, value: V, merge: Merge) {
    let Some(slot) = into.iter_mut().find(|(k, _)| k == key) else {
        into.push((key.to_string(), value));
        return;
    };
    slot.1 = if merge == Merge::Deep {
        deep_merge(&slot.1, value)
    } else {
        value
    };
}

fn deep_merge(parent: &V, child: V) -> V {
    match (&parent.val, child.val) {
        (Val::Object(p), Val::Object(c)) => {
            let mut out = p.clone();
            for (k, v) in c {
                put(&mut out, &k, v, Merge::Deep);
            }
            V::new(Val::Object(out))
        }
        (Val::List(p), Val::List(c)) => V::new(Val::List(p.iter().cloned().chain(c).collect())),
        (_, other) => V {
            val: other,
            pos: child.pos,
            text_base: child.text_base,
        },
    }
}

/// Whether a source is a local path (Terragrunt copies it; we read it in place).
fn is_local(source: &str) -> bool {
    !(source.contains("::")
        || source.contains("://")
        || source.starts_with("git@")
        || source.starts_with("tfr:")
        || source.starts_with("github.com/")
        || source.starts_with("bitbucket.org/"))
}

/// Splits `base//subdir` (the `//` of a URL scheme is not a separator); a `?ref=` query on
/// the subdirectory is dropped.
fn split_subdir(source: &str) -> (&str, &str) {
    let scheme_end = source.find("://").map_or(0, |i| i + 3);
    match source[scheme_end..].find("//") {
        Some(i) => {
            let (base, rest) = source.split_at(scheme_end + i);
            let sub = &rest[2..];
            (base, sub.split('?').next().unwrap_or(sub))
        }
        None => (source, ""),
    }
}

/// Reads the unit whose configuration is `file`.
pub fn read_unit(project: &Project, file: &Path) -> Unit {
    let dir = file
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let reads = Reads::default();
    reads.borrow_mut().insert(normalize(file), None);
    let config = match evaluate(project, file, &dir, None, 0, &reads) {
        Ok(c) => c,
        Err(why) => {
            return Unit {
                dir,
                module_dir: Err(UnitError::Broken(why)),
                inputs: BTreeMap::new(),
            };
        }
    };
    let module_dir = match &config.source {
        // No source: the unit's own `.tf` files are the module.
        None => Ok(dir.clone()),
        Some(v) => match v.as_string() {
            None => Err(UnitError::NotEvaluated(format!(
                "`terraform {{ source }}` is not known ({})",
                v.unknown_why().unwrap_or_else(|| v.kind_name().to_string())
            ))),
            Some(s) if is_local(&s) => {
                let (base, sub) = split_subdir(&s);
                Ok(normalize(&config.dir.join(base).join(sub)))
            }
            Some(s) => cached_copy(&dir, split_subdir(&s).1).ok_or_else(|| {
                UnitError::NotEvaluated(format!(
                    "module source `{s}` is remote and has no copy under `.terragrunt-cache`: \
                     run `terragrunt init` in `{}` before scanning, or scan the plan JSON \
                     (`terragrunt show -json`)",
                    dir.display()
                ))
            }),
        },
    };
    Unit {
        dir,
        module_dir,
        inputs: config.inputs.into_iter().collect(),
    }
}

/// Where `terragrunt init` copied a remote module: `.terragrunt-cache/<hash>/<hash>/<subdir>`.
fn cached_copy(unit_dir: &Path, subdir: &str) -> Option<PathBuf> {
    let cache = unit_dir.join(".terragrunt-cache");
    let mut candidates = Vec::new();
    for first in std::fs::read_dir(&cache).ok()?.filter_map(Result::ok) {
        let Ok(second) = std::fs::read_dir(first.path()) else {
            continue;
        };
        for copy in second.filter_map(Result::ok) {
            let dir = copy.path().join(subdir);
            if crate::discover::module_files(&dir).is_ok_and(|f| !f.is_empty()) {
                candidates.push(dir);
            }
        }
    }
    candidates.sort();
    candidates.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_split_at_the_double_slash_but_not_the_scheme() {
        assert_eq!(split_subdir("../../modules//ecr"), ("../../modules", "ecr"));
        assert_eq!(
            split_subdir("git::https://example.com/m.git//ecr?ref=v1"),
            ("git::https://example.com/m.git", "ecr")
        );
        assert_eq!(split_subdir("../modules/ecr"), ("../modules/ecr", ""));
        assert!(is_local("../../modules//ecr"));
        assert!(!is_local("git::https://example.com/m.git//ecr"));
        assert!(!is_local(
            "tfr:///terraform-aws-modules/ecr/aws?version=2.3.0"
        ));
    }

    #[test]
    fn relative_paths_between_directories() {
        assert_eq!(relative(Path::new("/a/b"), Path::new("/a/b/c/d")), "c/d");
        assert_eq!(relative(Path::new("/a/b/c"), Path::new("/a/b")), "..");
        assert_eq!(relative(Path::new("/a"), Path::new("/a")), ".");
    }
}
