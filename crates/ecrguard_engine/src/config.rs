//! `ecrguard.toml`: found upward from the scanned path, or given with `--config`. Unknown
//! keys and bad values are problems that point at their line and column, all of them at once
//! ([`crate::run::resolve`] checks the whole file in one pass).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawConfig {
    /// The account that owns the scanned resources.
    pub owner_account: Option<Spanned<String>>,
    /// Accounts whose access is not cross-account.
    #[serde(default)]
    pub trusted_accounts: Vec<Spanned<String>>,
    /// Organizations whose access is not cross-account.
    #[serde(default)]
    pub trusted_orgs: Vec<Spanned<String>>,
    /// ECR Public repositories that may exist (globs).
    #[serde(default)]
    pub approved_public_repositories: Vec<String>,
    /// Rules to run (codes, names or code prefixes); all when empty.
    #[serde(default)]
    pub select: Vec<Spanned<String>>,
    /// Rules not to run.
    #[serde(default)]
    pub ignore: Vec<Spanned<String>>,
    /// The lowest severity that fails the run, or `never`.
    pub fail_on: Option<Spanned<String>>,
    /// `strict = true`: as `--strict`.
    pub strict: Option<bool>,
    /// `honor-peer-skips = true`: as `--honor-peer-skips`.
    pub honor_peer_skips: Option<bool>,
    /// Severity per rule.
    #[serde(default)]
    pub severity: BTreeMap<String, Spanned<String>>,
    /// `[[suppress]]` entries.
    #[serde(default)]
    pub suppress: Vec<Spanned<RawSuppress>>,
    /// `[enforce]`: what `enforce` and `handle-event` may change.
    pub enforce: Option<ecrguard_enforce::config::RawEnforce>,
    /// `[budgets]`: how much one input may cost.
    pub budgets: Option<Spanned<RawBudgets>>,
}

/// `[budgets]`: limits on what one input may cost; see docs/budgets.md.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawBudgets {
    /// Largest file read.
    pub max_file_bytes: Option<Spanned<i64>>,
    /// Largest value an expression may build.
    pub max_expansion: Option<Spanned<i64>>,
    /// Deepest nesting.
    pub max_depth: Option<Spanned<i64>>,
    /// Most instances of one resource.
    pub max_instances: Option<Spanned<i64>>,
}

/// A `[[suppress]]` entry: what it matches (a resource glob, and for live findings account,
/// region, repository glob and tag), why, and until when.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawSuppress {
    /// Rule code or name.
    pub rule: Spanned<String>,
    /// Resource address, logical id, object or ARN, or a glob of them.
    pub resource: Option<String>,
    /// Live findings of this account.
    pub account: Option<Spanned<String>>,
    /// Live findings in this region.
    pub region: Option<String>,
    /// Live findings on repositories whose name matches this glob.
    pub repository: Option<String>,
    /// Live findings on repositories with this tag: `key=value`.
    pub tag: Option<Spanned<String>>,
    /// Why (required).
    pub reason: Spanned<String>,
    /// Expiry, `YYYY-MM-DD`.
    pub expires: Option<Spanned<String>>,
}

/// A loaded config file.
#[derive(Debug)]
pub struct LoadedConfig {
    /// Where it was read.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// What it says.
    pub raw: RawConfig,
}

/// One problem of a config file, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// The line as written.
    pub snippet: String,
    /// What is wrong.
    pub message: String,
}

/// Every problem of a config file (at least one).
#[derive(Debug)]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// Its problems, in file order.
    pub problems: Vec<ConfigProblem>,
}

impl ConfigError {
    /// The line of the first problem.
    #[must_use]
    pub fn line(&self) -> usize {
        self.problems.first().map_or(1, |p| p.line)
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                p.line,
                p.column,
                p.message
            )?;
            if !p.snippet.trim().is_empty() {
                write!(f, "\n  | {}", p.snippet.trim_end())?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Line and column (1-based) of a byte offset.
#[must_use]
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// A problem at a byte offset of `text`.
fn problem_at(text: &str, offset: usize, message: String) -> ConfigProblem {
    let (line, column) = line_col(text, offset);
    ConfigProblem {
        line,
        column,
        snippet: text.lines().nth(line - 1).unwrap_or("").to_string(),
        message,
    }
}

/// Finds `ecrguard.toml` in `start` or its parents.
#[must_use]
pub fn discover(start: &Path) -> Option<PathBuf> {
    let start = if start.is_file() {
        start.parent()?.to_path_buf()
    } else {
        start.to_path_buf()
    };
    let start = std::fs::canonicalize(&start).unwrap_or(start);
    let found = start
        .ancestors()
        .map(|d| d.join("ecrguard.toml"))
        // Whatever sits there is the config: a pipe or a link to a device is an error when it
        // is read, never silently passed over.
        .find(|p| p.symlink_metadata().is_ok())?;
    // Shown relative to the working directory when it is below it.
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|c| std::fs::canonicalize(c).ok());
    Some(
        cwd.and_then(|c| found.strip_prefix(&c).ok().map(Path::to_path_buf))
            .unwrap_or(found),
    )
}

/// `--config FILE`, else `ecrguard.toml` found upward from `start`; `None` when there is none.
///
/// # Errors
/// The file cannot be read or is not a valid config.
pub fn find_and_load(
    named: Option<&Path>,
    start: &Path,
) -> Result<Option<LoadedConfig>, ConfigError> {
    match named {
        Some(p) => load(p, true).map(Some),
        None => discover(start).map(|p| load(&p, false)).transpose(),
    }
}

/// Largest config file read: a real one is a few kilobytes.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Reads and parses a config file. One named with `--config` may be a pipe (`<(...)`); one
/// found beside the scanned code must be a regular file.
///
/// # Errors
/// The file cannot be read, or is not TOML of the config's shape (one problem: the parser
/// stops at the first).
pub fn load(path: &Path, named: bool) -> Result<LoadedConfig, ConfigError> {
    let kinds = if named {
        ecrguard_walk::input::Kinds::RegularOrPipe
    } else {
        ecrguard_walk::input::Kinds::Regular
    };
    let text = ecrguard_walk::input::read_text(path, MAX_CONFIG_BYTES, kinds).map_err(|e| {
        ConfigError {
            path: path.to_path_buf(),
            problems: vec![ConfigProblem {
                line: 1,
                column: 1,
                snippet: String::new(),
                message: format!("cannot read: {e}"),
            }],
        }
    })?;
    let raw: RawConfig = toml::from_str(&text).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        problems: vec![problem_at(
            &text,
            e.span().map_or(0, |s| s.start),
            e.message().trim().to_string(),
        )],
    })?;
    Ok(LoadedConfig {
        path: path.to_path_buf(),
        text,
        raw,
    })
}

/// An AWS Organizations id: `o-` and 10 to 32 lowercase letters or digits. One check for the
/// config file and the flags.
///
/// # Errors
/// What is wrong with it.
pub fn check_org(id: &str) -> Result<(), String> {
    let rest = id.strip_prefix("o-").unwrap_or("");
    if (10..=32).contains(&rest.len())
        && rest
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not an organization id (`o-` and 10 to 32 lowercase letters or digits)",
            id.escape_debug()
        ))
    }
}

/// A 12-digit account id.
///
/// # Errors
/// What is wrong with it.
pub fn check_account(id: &str) -> Result<(), String> {
    if ecrguard_iam::principal::is_account_id(id) && id != ecrguard_iam::analysis::SELF_ACCOUNT {
        Ok(())
    } else {
        Err(format!("`{id}` is not a 12-digit account id"))
    }
}

/// Collects the problems of one pass over a config file.
pub(crate) struct Problems<'c> {
    config: &'c LoadedConfig,
    pub(crate) found: Vec<ConfigProblem>,
}

impl<'c> Problems<'c> {
    pub(crate) fn new(config: &'c LoadedConfig) -> Self {
        Problems {
            config,
            found: Vec::new(),
        }
    }

    /// Records a problem at a span of the file.
    pub(crate) fn at(&mut self, span: std::ops::Range<usize>, message: impl Into<String>) {
        self.found
            .push(problem_at(&self.config.text, span.start, message.into()));
    }

    /// The error, when anything was found.
    pub(crate) fn into_result(mut self) -> Result<(), ConfigError> {
        if self.found.is_empty() {
            return Ok(());
        }
        self.found.sort_by_key(|p| (p.line, p.column));
        Err(ConfigError {
            path: self.config.path.clone(),
            problems: self.found,
        })
    }
}

impl LoadedConfig {
    /// The rule settings every command shares: owner, trusted accounts and organizations,
    /// approved public repositories. Problems are recorded, never fatal on their own.
    pub(crate) fn settings(&self, problems: &mut Problems<'_>) -> ecrguard_rules::Settings {
        let raw = &self.raw;
        let mut settings = ecrguard_rules::Settings::default();
        if let Some(o) = &raw.owner_account {
            match check_account(o.get_ref()) {
                Ok(()) => settings.owner_account = Some(o.get_ref().clone()),
                Err(m) => problems.at(o.span(), m),
            }
        }
        for a in &raw.trusted_accounts {
            match check_account(a.get_ref()) {
                Ok(()) => {
                    settings.trusted_accounts.insert(a.get_ref().clone());
                }
                Err(m) => problems.at(a.span(), m),
            }
        }
        for o in &raw.trusted_orgs {
            match check_org(o.get_ref()) {
                Ok(()) => {
                    settings.trusted_orgs.insert(o.get_ref().clone());
                }
                Err(m) => problems.at(o.span(), m),
            }
        }
        settings
            .approved_public_repositories
            .clone_from(&raw.approved_public_repositories);
        settings
    }

    /// The budgets, from `[budgets]` over `defaults`.
    pub(crate) fn budgets(
        &self,
        defaults: ecrguard_terraform::project::Budgets,
        problems: &mut Problems<'_>,
    ) -> ecrguard_terraform::project::Budgets {
        let mut b = defaults;
        let Some(raw) = &self.raw.budgets else {
            return b;
        };
        let mut positive = |v: &Option<Spanned<i64>>, name: &str| -> Option<u64> {
            let n = v.as_ref()?;
            if *n.get_ref() > 0 {
                Some(n.get_ref().unsigned_abs())
            } else {
                problems.at(
                    n.span(),
                    format!(
                        "`{name}` must be a whole number above zero, not {}",
                        n.get_ref()
                    ),
                );
                None
            }
        };
        let raw = raw.get_ref();
        if let Some(n) = positive(&raw.max_file_bytes, "max-file-bytes") {
            b.max_file_bytes = n;
        }
        if let Some(n) = positive(&raw.max_expansion, "max-expansion") {
            b.max_expansion = n;
        }
        if let Some(n) = positive(&raw.max_depth, "max-depth") {
            // Deeper than this, the evaluation threads' stack would not hold.
            b.max_depth = usize::try_from(n.min(4096)).unwrap_or(4096);
        }
        if let Some(n) = positive(&raw.max_instances, "max-instances") {
            b.max_instances = usize::try_from(n).unwrap_or(usize::MAX);
        }
        b
    }

    /// `[enforce]`, validated whole: every problem is recorded, each with its place.
    pub(crate) fn enforce(&self, problems: &mut Problems<'_>) -> ecrguard_enforce::EnforceConfig {
        let Some(raw) = &self.raw.enforce else {
            return ecrguard_enforce::EnforceConfig::default();
        };
        let base = self.path.parent().unwrap_or(Path::new("."));
        match ecrguard_enforce::config::validate(raw, base) {
            Ok(c) => c,
            Err(found) => {
                for p in found {
                    problems.at(p.offset..p.offset, p.message);
                }
                ecrguard_enforce::EnforceConfig::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_errors_with_lines_and_columns() {
        let dir = std::env::temp_dir().join(format!("ecrguard-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("ecrguard.toml");
        std::fs::write(&p, "owner-account = \"111111111111\"\n\n[[suppress]]\nrule = \"ECR002\"\nresource = \"x\"\nreason = \"r\"\nreasn = \"typo\"\n").unwrap();
        let e = load(&p, true).err().unwrap();
        assert_eq!((e.line(), e.problems[0].column), (7, 1), "{e}");
        assert!(e.problems[0].message.contains("reasn"), "{e}");
        assert!(e.to_string().contains("  | reasn = \"typo\""), "{e}");
        std::fs::write(&p, "trusted-acounts = []\n").unwrap();
        let e = load(&p, true).err().unwrap();
        assert_eq!(e.line(), 1);
        assert!(e.problems[0].message.contains("trusted-acounts"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn special_files_are_refused_never_skipped() {
        let dir =
            std::env::temp_dir().join(format!("ecrguard-config-special-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("ecrguard.toml");
        // A config found beside the code that is a pipe or a device: an error, not skipped.
        std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
        assert_eq!(
            discover(&dir).map(|f| f.file_name().unwrap().to_owned()),
            Some("ecrguard.toml".into())
        );
        let e = load(&p, false).err().unwrap();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        // Named with --config: a device is refused too, a pipe is read.
        let e = load(&p, true).err().unwrap();
        assert!(e.to_string().contains("a device"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(line_col("a = 1\nbé = x", 10), (2, 4));
        assert_eq!(line_col("", 5), (1, 1));
    }
}
