//! Flags and configuration resolved once into a [`Run`]: which rules, at which severity, what
//! is suppressed, what fails the run. Every command resolves the same way, so `select`,
//! `ignore`, `[severity]`, `[[suppress]]` and `fail-on` mean the same everywhere.

use crate::config::{self, ConfigError, LoadedConfig, Problems};
use ecrguard_model::{Origin, Span};
use ecrguard_rules::suppression::{ConfigSuppression, LiveMatch};
use ecrguard_rules::{Rule, RuleMeta, Settings, Severity, SourceKind, registry};

/// The lowest severity that fails a run, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold {
    /// Findings never fail the run (errors still make it incomplete).
    Never,
    /// Findings at or above this severity fail it.
    At(Severity),
}

impl Threshold {
    /// `low`, `medium`, `high`, `critical` or `never`.
    #[must_use]
    pub fn parse(word: &str) -> Option<Threshold> {
        if word == "never" {
            return Some(Threshold::Never);
        }
        Severity::parse(word).map(Threshold::At)
    }

    /// The severity, when findings can fail the run.
    #[must_use]
    pub fn severity(self) -> Option<Severity> {
        match self {
            Threshold::Never => None,
            Threshold::At(s) => Some(s),
        }
    }
}

/// What the command line said; each field overrides (owner, select, fail-on, strict) or
/// extends (trust, ignore) the config file.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--owner-account`.
    pub owner_account: Option<String>,
    /// `--trusted-account`.
    pub trusted_accounts: Vec<String>,
    /// `--trusted-org`.
    pub trusted_orgs: Vec<String>,
    /// `--select`: replaces the config's list when given.
    pub select: Vec<String>,
    /// `--ignore`: added to the config's list.
    pub ignore: Vec<String>,
    /// `--fail-on`.
    pub fail_on: Option<Threshold>,
    /// `--strict`.
    pub strict: bool,
    /// `--baseline FILE`: findings it records do not count.
    pub baseline: Option<std::path::PathBuf>,
    /// `--write-baseline FILE`: record this run's findings there (they then do not count).
    pub write_baseline: Option<std::path::PathBuf>,
    /// `--honor-peer-skips`: Checkov, Trivy, tfsec and KICS skip comments suppress.
    pub honor_peer_skips: bool,
    /// `--compliance FRAMEWORK`: only the rules that framework maps.
    pub compliance: Option<String>,
}

/// A bad flag, or the config file's problems.
#[derive(Debug)]
pub enum ResolveError {
    /// A flag's value is wrong.
    Flag(String),
    /// The config file has problems (all of them).
    Config(ConfigError),
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::Flag(m) => f.write_str(m),
            ResolveError::Config(e) => write!(f, "invalid configuration: {e}"),
        }
    }
}

impl std::error::Error for ResolveError {}

/// A `[[suppress]]` entry, checked, with where it is written (a span of the config file).
#[derive(Debug, Clone)]
pub struct Suppress {
    /// The suppression as the rules crate applies it.
    pub entry: ConfigSuppression,
    /// Its span in the config file.
    pub span: std::ops::Range<usize>,
}

/// One run, resolved: the same value for every command.
pub struct Run {
    /// What the rules are told: owner, trusted accounts and organizations, severities.
    pub settings: Settings,
    /// The rules that run, in code order.
    pub rules: Vec<&'static dyn Rule>,
    /// What fails the run.
    pub fail_on: Threshold,
    /// What was not evaluated makes the result incomplete.
    pub strict: bool,
    /// What one input may cost.
    pub budgets: ecrguard_terraform::project::Budgets,
    /// `[[suppress]]` entries.
    pub suppressions: Vec<Suppress>,
    /// `[enforce]`.
    pub enforce: ecrguard_enforce::EnforceConfig,
    /// The config file, when there is one (suppressions point into it).
    pub config: Option<LoadedConfig>,
    /// Today, `YYYY-MM-DD`, for suppression expiries.
    pub today: String,
    /// The baseline read with `--baseline`.
    pub baseline: Option<crate::baseline::Baseline>,
    /// Where `--write-baseline` records this run's findings.
    pub write_baseline: Option<std::path::PathBuf>,
    /// Other scanners' skip comments suppress the rules their checks map to.
    pub honor_peer_skips: bool,
    /// The framework the run is limited to, when one was asked for.
    pub compliance: Option<&'static ecrguard_rules::compliance::Framework>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("settings", &self.settings)
            .field(
                "rules",
                &self.rules.iter().map(|r| r.meta().code).collect::<Vec<_>>(),
            )
            .field("fail_on", &self.fail_on)
            .field("strict", &self.strict)
            .field("suppressions", &self.suppressions.len())
            .finish_non_exhaustive()
    }
}

impl Run {
    /// The metadata of the rules that ran, with the suppression rules (ECR090-092).
    #[must_use]
    pub fn rule_metas(&self) -> Vec<&'static RuleMeta> {
        let mut rules: Vec<&'static RuleMeta> = self.rules.iter().map(|r| r.meta()).collect();
        rules.extend(registry::SUPPRESSION_RULES.iter().copied());
        rules
    }

    /// The settings for one account's live state: its id is the owner unless the config or a
    /// flag names one, and its organization is trusted.
    #[must_use]
    pub fn settings_for(&self, owner: Option<&str>, organization: Option<&str>) -> Settings {
        let mut settings = self.settings.clone();
        if settings.owner_account.is_none() {
            settings.owner_account = owner.map(str::to_string);
        }
        settings
            .trusted_orgs
            .extend(organization.map(str::to_string));
        settings
    }
}

/// Whether a selector (code, name or code prefix of three characters or more) picks a rule.
#[must_use]
pub fn selects(selector: &str, m: &RuleMeta) -> bool {
    m.code.eq_ignore_ascii_case(selector)
        || m.name.eq_ignore_ascii_case(selector)
        || (selector.len() >= 3
            && m.code
                .to_ascii_uppercase()
                .starts_with(&selector.to_ascii_uppercase()))
}

/// Resolves flags and config for a command that reads `source`. The config file is checked
/// whole, every problem reported at once; then the flags.
///
/// # Errors
/// The config file's problems, or the first bad flag.
#[allow(clippy::too_many_lines)]
pub fn resolve(
    flags: &Flags,
    config: Option<LoadedConfig>,
    source: SourceKind,
) -> Result<Run, ResolveError> {
    // The flags are checked first: a mistyped flag is named before the config is read.
    let flag = |name: &str, r: Result<(), String>| {
        r.map_err(|m| ResolveError::Flag(format!("--{name}: {m}")))
    };
    if let Some(o) = &flags.owner_account {
        flag("owner-account", config::check_account(o))?;
    }
    for a in &flags.trusted_accounts {
        flag("trusted-account", config::check_account(a))?;
    }
    for o in &flags.trusted_orgs {
        flag("trusted-org", config::check_org(o))?;
    }
    for s in flags.select.iter().chain(&flags.ignore) {
        if !registry::metas().any(|m| selects(s, m)) {
            return Err(ResolveError::Flag(format!(
                "no rule matches `{s}`; `ecrguard rules` lists them"
            )));
        }
    }
    let compliance = match &flags.compliance {
        None => None,
        Some(key) => Some(ecrguard_rules::compliance::framework(key).ok_or_else(|| {
            let keys: Vec<&str> = ecrguard_rules::compliance::FRAMEWORKS
                .iter()
                .map(|f| f.key)
                .collect();
            ResolveError::Flag(format!(
                "--compliance: no framework `{key}`; one of {}",
                keys.join(", ")
            ))
        })?),
    };
    let baseline = flags
        .baseline
        .as_deref()
        .map(crate::baseline::load)
        .transpose()
        .map_err(|m| ResolveError::Flag(format!("--baseline: {m}")))?;
    let mut settings = Settings::default();
    let mut select: Vec<String> = Vec::new();
    let mut ignore: Vec<String> = Vec::new();
    let mut fail_on = Threshold::At(Severity::Low);
    let mut suppressions = Vec::new();
    let mut budgets = ecrguard_terraform::project::Budgets::default();
    let mut enforce = ecrguard_enforce::EnforceConfig::default();
    let mut strict = flags.strict;
    let mut honor_peer_skips = flags.honor_peer_skips;
    if let Some(c) = &config {
        let mut problems = Problems::new(c);
        let raw = &c.raw;
        settings = c.settings(&mut problems);
        budgets = c.budgets(budgets, &mut problems);
        enforce = c.enforce(&mut problems);
        strict |= raw.strict.unwrap_or(false);
        honor_peer_skips |= raw.honor_peer_skips.unwrap_or(false);
        for s in raw.select.iter().chain(&raw.ignore) {
            if !registry::metas().any(|m| selects(s.get_ref(), m)) {
                problems.at(s.span(), format!("no rule matches `{}`", s.get_ref()));
            }
        }
        select = raw.select.iter().map(|s| s.get_ref().clone()).collect();
        ignore = raw.ignore.iter().map(|s| s.get_ref().clone()).collect();
        if let Some(f) = &raw.fail_on {
            match Threshold::parse(f.get_ref()) {
                Some(t) => fail_on = t,
                None => problems.at(
                    f.span(),
                    format!(
                        "`fail-on` must be low, medium, high, critical or never, not `{}`",
                        f.get_ref()
                    ),
                ),
            }
        }
        for (rule, sev) in &raw.severity {
            let level = Severity::parse(sev.get_ref());
            match (registry::find_meta(rule), level) {
                (Some(m), Some(level)) => {
                    settings.severity_overrides.insert(m.code, level);
                }
                (None, _) => problems.at(
                    sev.span(),
                    format!("`[severity]` names unknown rule `{rule}`"),
                ),
                (Some(_), None) => problems.at(
                    sev.span(),
                    format!(
                        "severity must be low, medium, high or critical, not `{}`",
                        sev.get_ref()
                    ),
                ),
            }
        }
        for entry in &raw.suppress {
            if let Some(s) = suppression(entry, &mut problems) {
                suppressions.push(Suppress {
                    entry: s,
                    span: entry.span(),
                });
            }
        }
        problems.into_result().map_err(ResolveError::Config)?;
    }
    // Flags override (owner, select, fail-on) or extend (trusted, ignore) the file.
    if let Some(o) = &flags.owner_account {
        settings.owner_account = Some(o.clone());
    }
    settings
        .trusted_accounts
        .extend(flags.trusted_accounts.iter().cloned());
    settings
        .trusted_orgs
        .extend(flags.trusted_orgs.iter().cloned());
    if !flags.select.is_empty() {
        select.clone_from(&flags.select);
    }
    ignore.extend(flags.ignore.iter().cloned());
    if let Some(f) = flags.fail_on {
        fail_on = f;
    }
    let rules = registry::for_source(source)
        .filter(|r| select.is_empty() || select.iter().any(|s| selects(s, r.meta())))
        .filter(|r| !ignore.iter().any(|s| selects(s, r.meta())))
        .filter(|r| compliance.is_none_or(|f| !f.controls(r.meta()).is_empty()))
        .collect();
    Ok(Run {
        settings,
        rules,
        fail_on,
        strict,
        budgets,
        suppressions,
        enforce,
        config,
        baseline,
        write_baseline: flags.write_baseline.clone(),
        honor_peer_skips,
        compliance,
        today: std::env::var("ECRGUARD_TODAY")
            .ok()
            .filter(|d| ecrguard_rules::dates::is_date(d))
            .unwrap_or_else(ecrguard_rules::suppression::today),
    })
}

/// A `[[suppress]]` entry checked; `None` (and problems recorded) when it is not usable.
fn suppression(
    entry: &toml::Spanned<config::RawSuppress>,
    problems: &mut Problems<'_>,
) -> Option<ConfigSuppression> {
    let s = entry.get_ref();
    let mut ok = true;
    if registry::find_meta(s.rule.get_ref()).is_none() {
        problems.at(
            s.rule.span(),
            format!("`[[suppress]]` names unknown rule `{}`", s.rule.get_ref()),
        );
        ok = false;
    }
    if s.reason.get_ref().trim().is_empty() {
        problems.at(s.reason.span(), "`[[suppress]]` needs a non-empty `reason`");
        ok = false;
    }
    if let Some(e) = &s.expires
        && !ecrguard_rules::dates::is_date(e.get_ref())
    {
        problems.at(
            e.span(),
            format!("`expires` must be a YYYY-MM-DD date, not `{}`", e.get_ref()),
        );
        ok = false;
    }
    let mut live = LiveMatch {
        account: s.account.as_ref().map(|a| a.get_ref().clone()),
        region: s.region.clone(),
        repository: s.repository.clone(),
        tag: None,
    };
    if let Some(a) = &s.account
        && let Err(m) = config::check_account(a.get_ref())
    {
        problems.at(a.span(), m);
        ok = false;
    }
    if let Some(t) = &s.tag {
        match t.get_ref().split_once('=') {
            Some((k, v)) if !k.is_empty() => live.tag = Some((k.to_string(), v.to_string())),
            _ => {
                problems.at(
                    t.span(),
                    format!("`tag` must be `key=value`, not `{}`", t.get_ref()),
                );
                ok = false;
            }
        }
    }
    let selects_live =
        s.account.is_some() || s.region.is_some() || s.repository.is_some() || s.tag.is_some();
    if s.resource.is_none() && !selects_live {
        problems.at(
            entry.span(),
            "`[[suppress]]` needs `resource`, or for live findings `account`, `region`, \
             `repository` or `tag`",
        );
        ok = false;
    }
    ok.then(|| ConfigSuppression {
        rule: s.rule.get_ref().clone(),
        resource: s.resource.clone(),
        live,
        reason: s.reason.get_ref().clone(),
        expires: s.expires.as_ref().map(|e| e.get_ref().clone()),
        // Pointed into the config file when the run's sources are known (see `judge`).
        origin: Origin::Span {
            file: ecrguard_model::FileId(0),
            span: Span::new(entry.span().start, entry.span().end),
        },
        kind: ecrguard_rules::SuppressionKind::Config,
    })
}
