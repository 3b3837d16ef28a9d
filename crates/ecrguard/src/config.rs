//! `ecrguard.toml`: found upward from the scanned path, or given with `--config`. Unknown
//! keys and bad values are errors that point at the line.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub(crate) owner_account: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) trusted_accounts: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) trusted_orgs: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) approved_public_repositories: Vec<String>,
    #[serde(default)]
    pub(crate) select: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) ignore: Vec<Spanned<String>>,
    pub(crate) fail_on: Option<Spanned<String>>,
    /// `strict = true`: as `--strict`.
    pub(crate) strict: Option<bool>,
    #[serde(default)]
    pub(crate) severity: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(crate) suppress: Vec<Spanned<RawSuppress>>,
    /// `[enforce]`: what `enforce` and `handle-event` may change.
    pub(crate) enforce: Option<ecrguard_enforce::config::RawEnforce>,
    /// `[budgets]`: how much one input may cost.
    pub(crate) budgets: Option<Spanned<RawBudgets>>,
}

/// `[budgets]`: limits on what one input may cost; see docs/budgets.md.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawBudgets {
    pub(crate) max_file_bytes: Option<Spanned<i64>>,
    pub(crate) max_expansion: Option<Spanned<i64>>,
    pub(crate) max_depth: Option<Spanned<i64>>,
    pub(crate) max_instances: Option<Spanned<i64>>,
}

/// A `[[suppress]]` entry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawSuppress {
    pub(crate) rule: Spanned<String>,
    pub(crate) resource: String,
    pub(crate) reason: Spanned<String>,
    pub(crate) expires: Option<Spanned<String>>,
}

/// A loaded config file.
pub(crate) struct LoadedConfig {
    pub(crate) path: PathBuf,
    pub(crate) text: String,
    pub(crate) raw: RawConfig,
}

/// An error in the config file, with its line.
#[derive(Debug)]
pub(crate) struct ConfigError {
    pub(crate) path: PathBuf,
    pub(crate) line: usize,
    pub(crate) message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

impl std::error::Error for ConfigError {}

pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Finds `ecrguard.toml` in `start` or its parents.
pub(crate) fn discover(start: &Path) -> Option<PathBuf> {
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

/// Largest config file read: a real one is a few kilobytes.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Reads and parses a config file. One named with `--config` may be a pipe (`<(...)`); one
/// found beside the scanned code must be a regular file.
pub(crate) fn load(path: &Path, named: bool) -> Result<LoadedConfig, ConfigError> {
    let kinds = if named {
        ecrguard_walk::input::Kinds::RegularOrPipe
    } else {
        ecrguard_walk::input::Kinds::Regular
    };
    let text = ecrguard_walk::input::read_text(path, MAX_CONFIG_BYTES, kinds).map_err(|e| {
        ConfigError {
            path: path.to_path_buf(),
            line: 1,
            message: format!("cannot read: {e}"),
        }
    })?;
    let raw: RawConfig = toml::from_str(&text).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        line: e.span().map_or(1, |s| line_of(&text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    Ok(LoadedConfig {
        path: path.to_path_buf(),
        text,
        raw,
    })
}

/// An AWS Organizations id: `o-` and 10 to 32 lowercase letters or digits. One check for the
/// config file and the flags.
pub(crate) fn check_org(id: &str) -> Result<(), String> {
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

/// The trust flags, checked as the config file's entries are (one validation for both).
pub(crate) fn check_trust(trust: &crate::args::TrustArgs) -> anyhow::Result<()> {
    for a in &trust.trusted_accounts {
        check_account(a).map_err(|m| anyhow::anyhow!("--trusted-account: {m}"))?;
    }
    for o in &trust.trusted_orgs {
        check_org(o).map_err(|m| anyhow::anyhow!("--trusted-org: {m}"))?;
    }
    Ok(())
}

pub(crate) fn check_account(id: &str) -> Result<(), String> {
    if ecrguard_iam::principal::is_account_id(id) && id != ecrguard_iam::analysis::SELF_ACCOUNT {
        Ok(())
    } else {
        Err(format!("`{id}` is not a 12-digit account id"))
    }
}

impl LoadedConfig {
    /// The rule settings every command shares: owner, trusted accounts and organizations,
    /// approved public repositories.
    pub(crate) fn settings(&self) -> Result<ecrguard_rules::Settings, ConfigError> {
        let (c, raw) = (self, &self.raw);
        let mut settings = ecrguard_rules::Settings::default();
        if let Some(o) = &raw.owner_account {
            check_account(o.get_ref()).or_else(|m| c.error_at(o.span(), m))?;
            settings.owner_account = Some(o.get_ref().clone());
        }
        for a in &raw.trusted_accounts {
            check_account(a.get_ref()).or_else(|m| c.error_at(a.span(), m))?;
            settings.trusted_accounts.insert(a.get_ref().clone());
        }
        for o in &raw.trusted_orgs {
            if let Err(m) = check_org(o.get_ref()) {
                return c.error_at(o.span(), m);
            }
            settings.trusted_orgs.insert(o.get_ref().clone());
        }
        settings
            .approved_public_repositories
            .clone_from(&raw.approved_public_repositories);
        Ok(settings)
    }

    /// The budgets, from `[budgets]` over `defaults`.
    pub(crate) fn budgets(
        &self,
        defaults: ecrguard_terraform::project::Budgets,
    ) -> Result<ecrguard_terraform::project::Budgets, ConfigError> {
        let mut b = defaults;
        let Some(raw) = &self.raw.budgets else {
            return Ok(b);
        };
        let positive = |v: &Option<Spanned<i64>>, name: &str| -> Result<Option<u64>, ConfigError> {
            match v {
                None => Ok(None),
                Some(n) if *n.get_ref() > 0 => Ok(Some(n.get_ref().unsigned_abs())),
                Some(n) => self.error_at(
                    n.span(),
                    format!(
                        "`{name}` must be a whole number above zero, not {}",
                        n.get_ref()
                    ),
                ),
            }
        };
        let raw = raw.get_ref();
        if let Some(n) = positive(&raw.max_file_bytes, "max-file-bytes")? {
            b.max_file_bytes = n;
        }
        if let Some(n) = positive(&raw.max_expansion, "max-expansion")? {
            b.max_expansion = n;
        }
        if let Some(n) = positive(&raw.max_depth, "max-depth")? {
            // Deeper than this, the evaluation threads' stack would not hold.
            b.max_depth = usize::try_from(n.min(4096)).unwrap_or(4096);
        }
        if let Some(n) = positive(&raw.max_instances, "max-instances")? {
            b.max_instances = usize::try_from(n).unwrap_or(usize::MAX);
        }
        Ok(b)
    }

    /// `[enforce]`, validated whole: every problem is reported, each with its line.
    pub(crate) fn enforce(&self) -> Result<ecrguard_enforce::EnforceConfig, ConfigError> {
        let Some(raw) = &self.raw.enforce else {
            return Ok(ecrguard_enforce::EnforceConfig::default());
        };
        let base = self.path.parent().unwrap_or(Path::new("."));
        ecrguard_enforce::config::validate(raw, base).map_err(|problems| {
            let first = &problems[0];
            let mut message = first.message.clone();
            for p in &problems[1..] {
                message.push_str(&format!(
                    "\n{}:{}: {}",
                    self.path.display(),
                    line_of(&self.text, p.offset),
                    p.message
                ));
            }
            ConfigError {
                path: self.path.clone(),
                line: line_of(&self.text, first.offset),
                message,
            }
        })
    }

    pub(crate) fn error_at<T>(
        &self,
        span: std::ops::Range<usize>,
        message: String,
    ) -> Result<T, ConfigError> {
        Err(ConfigError {
            path: self.path.clone(),
            line: line_of(&self.text, span.start),
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_errors_with_lines() {
        let dir = std::env::temp_dir().join(format!("ecrguard-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("ecrguard.toml");
        std::fs::write(&p, "owner-account = \"111111111111\"\n\n[[suppress]]\nrule = \"ECR002\"\nresource = \"x\"\nreason = \"r\"\nreasn = \"typo\"\n").unwrap();
        let e = load(&p, true).err().unwrap();
        assert_eq!(e.line, 7, "{e}");
        assert!(e.message.contains("reasn"), "{e}");
        std::fs::write(&p, "trusted-acounts = []\n").unwrap();
        let e = load(&p, true).err().unwrap();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("trusted-acounts"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn budgets_are_read_and_checked_and_special_files_refused() {
        let dir =
            std::env::temp_dir().join(format!("ecrguard-config-budgets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("ecrguard.toml");
        std::fs::write(&p, "[budgets]\nmax-file-bytes = 1000\nmax-depth = 64\n").unwrap();
        let b = load(&p, false)
            .unwrap()
            .budgets(ecrguard_terraform::project::Budgets::default())
            .unwrap();
        assert_eq!((b.max_file_bytes, b.max_depth), (1000, 64));
        std::fs::write(&p, "[budgets]\n\nmax-expansion = -1\n").unwrap();
        let e = load(&p, false)
            .unwrap()
            .budgets(ecrguard_terraform::project::Budgets::default())
            .unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        // A config found beside the code that is a pipe or a device: an error, not skipped.
        std::fs::remove_file(&p).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
        assert_eq!(
            discover(&dir).map(|f| f.file_name().unwrap().to_owned()),
            Some("ecrguard.toml".into())
        );
        let e = load(&p, false).err().unwrap();
        assert!(e.message.contains("not a regular file"), "{e}");
        // Named with --config: a device is refused too, a pipe is read.
        let e = load(&p, true).err().unwrap();
        assert!(e.message.contains("a device"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
