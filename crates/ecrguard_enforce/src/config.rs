//! The `[enforce]` tables of `ecrguard.toml`: per control a mode in Turbot Guardrails'
//! vocabulary (`skip`, `check`, `enforce: ...`), what counts as approved, and what "new"
//! means. The whole table is validated before anything is touched; every problem points at
//! its place in the file.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// `[enforce]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawEnforce {
    /// Minutes after `createdAt` during which a repository is new (default 60).
    pub new_window_minutes: Option<Spanned<i64>>,
    /// Whether `delete-if-new` may delete a repository that holds images.
    #[serde(default)]
    pub allow_delete_with_images: bool,
    /// `key=value`: a repository carrying this tag is approved.
    pub approval_tag: Option<Spanned<String>>,
    /// A tag whose value (`YYYY-MM-DD`) ends a tag approval.
    pub approval_expiry_tag: Option<Spanned<String>>,
    /// `[[enforce.approve]]` entries.
    #[serde(default)]
    pub approve: Vec<Spanned<RawApproval>>,
    /// `[enforce.public-policy]`: ECR002.
    pub public_policy: Option<Spanned<RawControl>>,
    /// `[enforce.untrusted-policy]`: ECR003.
    pub untrusted_policy: Option<Spanned<RawControl>>,
    /// `[enforce.tag-mutability]`: ECR010.
    pub tag_mutability: Option<Spanned<RawControl>>,
    /// `[enforce.scan-on-push]`: ECR011.
    pub scan_on_push: Option<Spanned<RawControl>>,
    /// `[enforce.lifecycle]`: ECR013.
    pub lifecycle: Option<Spanned<RawControl>>,
}

/// One control's table.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawControl {
    /// `skip`, `check` or `enforce: ACTION`.
    pub mode: Spanned<String>,
    /// For `enforce: delete-if-new`: what to do with a repository that is not new.
    pub otherwise: Option<Spanned<String>>,
    /// For `enforce: put-lifecycle-policy`: the policy file (relative to the config file).
    pub policy_file: Option<Spanned<String>>,
}

/// One `[[enforce.approve]]` entry: every field given must match.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawApproval {
    /// Repository name glob (`*`, `?`).
    pub name: Option<String>,
    /// Account id.
    pub account: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Last day the approval holds (`YYYY-MM-DD`).
    pub expires: Option<Spanned<String>>,
    /// Why (shown in the plan).
    pub reason: Option<String>,
}

/// The controls that can act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Control {
    /// Repository policies that let anyone in (ECR002).
    PublicPolicy,
    /// Repository policies that let untrusted accounts in (ECR003).
    UntrustedPolicy,
    /// Mutable tags (ECR010).
    TagMutability,
    /// Scan on push off (ECR011).
    ScanOnPush,
    /// No lifecycle policy (ECR013).
    Lifecycle,
}

impl Control {
    /// Every control.
    pub const ALL: [Control; 5] = [
        Control::PublicPolicy,
        Control::UntrustedPolicy,
        Control::TagMutability,
        Control::ScanOnPush,
        Control::Lifecycle,
    ];

    /// The table name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Control::PublicPolicy => "public-policy",
            Control::UntrustedPolicy => "untrusted-policy",
            Control::TagMutability => "tag-mutability",
            Control::ScanOnPush => "scan-on-push",
            Control::Lifecycle => "lifecycle",
        }
    }

    /// The rule whose findings the control acts on.
    #[must_use]
    pub fn rule(self) -> &'static str {
        match self {
            Control::PublicPolicy => "ECR002",
            Control::UntrustedPolicy => "ECR003",
            Control::TagMutability => "ECR010",
            Control::ScanOnPush => "ECR011",
            Control::Lifecycle => "ECR013",
        }
    }

    /// The control acting on `rule`, if any.
    #[must_use]
    pub fn of_rule(rule: &str) -> Option<Control> {
        Control::ALL.into_iter().find(|c| c.rule() == rule)
    }

    /// The enforcements the control accepts.
    fn enforcements(self) -> &'static [&'static str] {
        match self {
            Control::PublicPolicy | Control::UntrustedPolicy => {
                &["remove-statements", "delete-if-new"]
            }
            Control::TagMutability => &["set-immutable"],
            Control::ScanOnPush => &["set-scan-on-push"],
            Control::Lifecycle => &["put-lifecycle-policy"],
        }
    }
}

/// What a control does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Nothing, not even a report.
    Skip,
    /// Report only.
    Check,
    /// Drop the offending statements; delete the policy when nothing is left.
    RemoveStatements,
    /// Delete the repository when it is new and unapproved; otherwise `otherwise`.
    DeleteIfNew {
        /// `Check` or `RemoveStatements`.
        otherwise: Box<Mode>,
    },
    /// `PutImageTagMutability IMMUTABLE`.
    SetImmutable,
    /// `PutImageScanningConfiguration scanOnPush=true`.
    SetScanOnPush,
    /// `PutLifecyclePolicy` with this text.
    PutLifecyclePolicy {
        /// The lifecycle policy.
        text: String,
    },
}

impl Mode {
    /// Whether the mode changes anything.
    #[must_use]
    pub fn acts(&self) -> bool {
        !matches!(self, Mode::Skip | Mode::Check)
    }

    /// The mode as written in the config.
    #[must_use]
    pub fn label(&self) -> String {
        match self {
            Mode::Skip => "skip".into(),
            Mode::Check => "check".into(),
            Mode::RemoveStatements => "enforce: remove-statements".into(),
            Mode::DeleteIfNew { otherwise } => {
                format!("enforce: delete-if-new (otherwise {})", otherwise.label())
            }
            Mode::SetImmutable => "enforce: set-immutable".into(),
            Mode::SetScanOnPush => "enforce: set-scan-on-push".into(),
            Mode::PutLifecyclePolicy { .. } => "enforce: put-lifecycle-policy".into(),
        }
    }
}

/// An approval entry, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// Name glob.
    pub name: Option<String>,
    /// Account.
    pub account: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Last valid day.
    pub expires: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

/// `[enforce]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnforceConfig {
    /// Mode per control (every control present; `check` unless configured).
    pub controls: BTreeMap<Control, Mode>,
    /// "New" window, seconds.
    pub new_window_secs: i64,
    /// Whether a repository holding images may be deleted.
    pub allow_delete_with_images: bool,
    /// Approval tag `(key, value)`.
    pub approval_tag: Option<(String, String)>,
    /// Tag ending a tag approval.
    pub approval_expiry_tag: Option<String>,
    /// Approval entries.
    pub approvals: Vec<Approval>,
}

impl Default for EnforceConfig {
    fn default() -> Self {
        EnforceConfig {
            controls: Control::ALL.iter().map(|c| (*c, Mode::Check)).collect(),
            new_window_secs: 60 * 60,
            allow_delete_with_images: false,
            approval_tag: None,
            approval_expiry_tag: None,
            approvals: Vec::new(),
        }
    }
}

/// A problem in the table: byte offset into the file and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Byte offset in the config text.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

fn problem<T>(at: &Spanned<T>, message: String) -> ConfigProblem {
    ConfigProblem {
        offset: at.span().start,
        message,
    }
}

/// Whether `s` is a `YYYY-MM-DD` date that exists (one calendar for every command).
#[must_use]
pub fn is_date(s: &str) -> bool {
    ecrguard_rules::dates::is_date(s)
}

fn parse_mode(
    control: Control,
    raw: &Spanned<String>,
    problems: &mut Vec<ConfigProblem>,
) -> Option<&'static str> {
    let text = raw.get_ref().trim();
    match text {
        "skip" => return Some("skip"),
        "check" => return Some("check"),
        _ => {}
    }
    let action = text.strip_prefix("enforce:").map(str::trim);
    match action.and_then(|a| control.enforcements().iter().find(|e| **e == a)) {
        Some(a) => Some(a),
        None => {
            let allowed: Vec<String> = ["skip".to_string(), "check".to_string()]
                .into_iter()
                .chain(
                    control
                        .enforcements()
                        .iter()
                        .map(|e| format!("enforce: {e}")),
                )
                .collect();
            problems.push(problem(
                raw,
                format!(
                    "`{text}` is not a mode of `{}`; use one of: {}",
                    control.name(),
                    allowed.join(", ")
                ),
            ));
            None
        }
    }
}

fn control_mode(
    control: Control,
    raw: &Spanned<RawControl>,
    base_dir: &Path,
    problems: &mut Vec<ConfigProblem>,
) -> Option<Mode> {
    let c = raw.get_ref();
    let mode = parse_mode(control, &c.mode, problems)?;
    if let (Some(o), false) = (&c.otherwise, mode == "delete-if-new") {
        problems.push(problem(
            o,
            "`otherwise` applies only to `enforce: delete-if-new`".into(),
        ));
    }
    if let (Some(p), false) = (&c.policy_file, mode == "put-lifecycle-policy") {
        problems.push(problem(
            p,
            "`policy-file` applies only to `enforce: put-lifecycle-policy`".into(),
        ));
    }
    Some(match mode {
        "skip" => Mode::Skip,
        "check" => Mode::Check,
        "remove-statements" => Mode::RemoveStatements,
        "set-immutable" => Mode::SetImmutable,
        "set-scan-on-push" => Mode::SetScanOnPush,
        "delete-if-new" => {
            let otherwise = match &c.otherwise {
                None => Mode::Check,
                Some(o) => match o.get_ref().trim() {
                    "check" => Mode::Check,
                    "enforce: remove-statements" => Mode::RemoveStatements,
                    other => {
                        problems.push(problem(
                            o,
                            format!("`otherwise = \"{other}\"`: use `check` or `enforce: remove-statements`"),
                        ));
                        return None;
                    }
                },
            };
            Mode::DeleteIfNew {
                otherwise: Box::new(otherwise),
            }
        }
        "put-lifecycle-policy" => {
            let Some(file) = &c.policy_file else {
                problems.push(problem(
                    &c.mode,
                    "`enforce: put-lifecycle-policy` needs `policy-file`".into(),
                ));
                return None;
            };
            let path = base_dir.join(file.get_ref());
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(problem(
                        file,
                        format!("cannot read `{}`: {e}", path.display()),
                    ));
                    return None;
                }
            };
            let valid = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .is_some_and(|v| v.get("rules").is_some_and(serde_json::Value::is_array));
            if !valid {
                problems.push(problem(
                    file,
                    format!(
                        "`{}` is not a lifecycle policy (a JSON object with a `rules` list)",
                        path.display()
                    ),
                ));
                return None;
            }
            Mode::PutLifecyclePolicy { text }
        }
        _ => return None,
    })
}

/// Validates the whole table. `base_dir` is the config file's directory (policy files are
/// relative to it).
///
/// # Errors
/// Every problem found, not just the first.
pub fn validate(raw: &RawEnforce, base_dir: &Path) -> Result<EnforceConfig, Vec<ConfigProblem>> {
    let mut problems = Vec::new();
    let mut cfg = EnforceConfig::default();
    let tables = [
        (Control::PublicPolicy, &raw.public_policy),
        (Control::UntrustedPolicy, &raw.untrusted_policy),
        (Control::TagMutability, &raw.tag_mutability),
        (Control::ScanOnPush, &raw.scan_on_push),
        (Control::Lifecycle, &raw.lifecycle),
    ];
    for (control, table) in tables {
        if let Some(t) = table {
            if let Some(mode) = control_mode(control, t, base_dir, &mut problems) {
                cfg.controls.insert(control, mode);
            }
        }
    }
    if let Some(w) = &raw.new_window_minutes {
        if *w.get_ref() < 0 {
            problems.push(problem(w, "`new-window-minutes` cannot be negative".into()));
        } else {
            cfg.new_window_secs = w.get_ref().saturating_mul(60);
        }
    }
    cfg.allow_delete_with_images = raw.allow_delete_with_images;
    if let Some(t) = &raw.approval_tag {
        match t.get_ref().split_once('=') {
            Some((k, v)) if !k.is_empty() => cfg.approval_tag = Some((k.into(), v.into())),
            _ => problems.push(problem(t, "`approval-tag` is `key=value`".into())),
        }
    }
    cfg.approval_expiry_tag = raw
        .approval_expiry_tag
        .as_ref()
        .map(|t| t.get_ref().clone());
    for a in &raw.approve {
        let r = a.get_ref();
        if r.name.is_none() && r.account.is_none() && r.region.is_none() {
            problems.push(problem(
                a,
                "an approval needs at least one of `name`, `account`, `region`".into(),
            ));
            continue;
        }
        if let Some(e) = &r.expires {
            if !is_date(e.get_ref()) {
                problems.push(problem(
                    e,
                    format!(
                        "`expires = \"{}\"` is not a YYYY-MM-DD date that exists",
                        e.get_ref()
                    ),
                ));
                continue;
            }
        }
        // A glob that no repository name can match approves nothing, silently: refused.
        if let Some(n) = &r.name {
            let fits = !n.is_empty()
                && n.bytes().all(|b| {
                    b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || matches!(b, b'.' | b'_' | b'-' | b'/' | b'*' | b'?')
                });
            if !fits {
                problems.push(problem(
                    a,
                    format!(
                        "`name = \"{}\"` can match no repository: names use lowercase letters, \
                         digits, `.`, `_`, `-`, `/`, and the glob takes `*` and `?`",
                        n.escape_debug()
                    ),
                ));
                continue;
            }
        }
        if let Some(acc) = &r.account
            && !crate::event::is_account(acc)
        {
            problems.push(problem(
                a,
                format!(
                    "`account = \"{}\"` is not a 12-digit account id",
                    acc.escape_debug()
                ),
            ));
            continue;
        }
        if let Some(region) = &r.region
            && !crate::event::is_region(region)
        {
            problems.push(problem(
                a,
                format!(
                    "`region = \"{}\"` is not a region name",
                    region.escape_debug()
                ),
            ));
            continue;
        }
        cfg.approvals.push(Approval {
            name: r.name.clone(),
            account: r.account.clone(),
            region: r.region.clone(),
            expires: r.expires.as_ref().map(|e| e.get_ref().clone()),
            reason: r.reason.clone(),
        });
    }
    if problems.is_empty() {
        Ok(cfg)
    } else {
        Err(problems)
    }
}

/// What is known about a repository when deciding approval.
#[derive(Debug, Clone, Copy)]
pub struct RepoFacts<'a> {
    /// Name.
    pub name: &'a str,
    /// Account.
    pub account: &'a str,
    /// Region.
    pub region: &'a str,
    /// Tags, when read.
    pub tags: Option<&'a [(String, String)]>,
}

impl EnforceConfig {
    /// Why the repository is approved on `today` (`YYYY-MM-DD`), or `None`.
    #[must_use]
    pub fn approval(&self, repo: RepoFacts<'_>, today: &str) -> Option<String> {
        for a in &self.approvals {
            let fits = a
                .name
                .as_deref()
                .is_none_or(|g| ecrguard_iam::wildcard::matches(g, repo.name))
                && a.account.as_deref().is_none_or(|x| x == repo.account)
                && a.region.as_deref().is_none_or(|x| x == repo.region);
            let current = a.expires.as_deref().is_none_or(|e| today <= e);
            if fits && current {
                let mut why = String::from("approved by config");
                if let Some(r) = &a.reason {
                    why = format!("{why} ({r})");
                }
                if let Some(e) = &a.expires {
                    why = format!("{why}, until {e}");
                }
                return Some(why);
            }
        }
        let ((key, value), tags) = (self.approval_tag.as_ref()?, repo.tags?);
        if !tags.iter().any(|(k, v)| k == key && v == value) {
            return None;
        }
        let until = self
            .approval_expiry_tag
            .as_ref()
            .and_then(|t| tags.iter().find(|(k, _)| k == t))
            .map(|(_, v)| v.as_str());
        match until {
            // A tag approval whose expiry cannot be read is not an approval.
            Some(u) if !is_date(u) || today > u => None,
            Some(u) => Some(format!("approved by tag `{key}={value}` until {u}")),
            None => Some(format!("approved by tag `{key}={value}`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<EnforceConfig, Vec<ConfigProblem>> {
        #[derive(Deserialize)]
        struct File {
            enforce: RawEnforce,
        }
        let f: File = toml::from_str(text).expect("valid TOML");
        validate(&f.enforce, Path::new("."))
    }

    #[test]
    fn modes_per_control_and_defaults() {
        let cfg = parse(
            r#"
[enforce]
new-window-minutes = 30
[enforce.public-policy]
mode = "enforce: delete-if-new"
otherwise = "enforce: remove-statements"
[enforce.tag-mutability]
mode = "enforce: set-immutable"
[enforce.lifecycle]
mode = "skip"
"#,
        )
        .unwrap();
        assert_eq!(
            cfg.controls[&Control::PublicPolicy],
            Mode::DeleteIfNew {
                otherwise: Box::new(Mode::RemoveStatements)
            }
        );
        assert_eq!(cfg.controls[&Control::UntrustedPolicy], Mode::Check);
        assert_eq!(cfg.controls[&Control::Lifecycle], Mode::Skip);
        assert_eq!(cfg.new_window_secs, 1800);
        assert_eq!(EnforceConfig::default().new_window_secs, 3600);
    }

    #[test]
    fn every_problem_is_reported_with_its_place() {
        let text = r#"
[enforce]
approval-tag = "no-equals"
[enforce.tag-mutability]
mode = "enforce: remove-statements"
[enforce.lifecycle]
mode = "enforce: put-lifecycle-policy"
[[enforce.approve]]
expires = "2026-13-01"
name = "x"
"#;
        let problems = parse(text).unwrap_err();
        let at = |needle: &str| {
            problems
                .iter()
                .find(|p| p.message.contains(needle))
                .unwrap_or_else(|| panic!("{needle}: {problems:#?}"))
                .offset
        };
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert_eq!(
            &text[at("is not a mode")..][..28],
            "\"enforce: remove-statements\""
        );
        assert!(text[at("needs `policy-file`")..].starts_with("\"enforce: put-lifecycle-policy\""));
        assert!(text[at("key=value")..].starts_with("\"no-equals\""));
        assert!(text[at("YYYY-MM-DD")..].starts_with("\"2026-13-01\""));
    }

    #[test]
    fn approvals_by_name_account_tag_and_expiry() {
        let cfg = parse(
            r#"
[enforce]
approval-tag = "ecrguard=approved"
approval-expiry-tag = "ecrguard-until"
[[enforce.approve]]
name = "base-*"
expires = "2026-11-30"
reason = "mirrors"
[[enforce.approve]]
account = "999999999999"
"#,
        )
        .unwrap();
        let facts = |name, account, tags| RepoFacts {
            name,
            account,
            region: "us-east-1",
            tags,
        };
        let none: &[(String, String)] = &[];
        assert!(
            cfg.approval(facts("base-alpine", "1", Some(none)), "2026-11-24")
                .is_some()
        );
        assert!(
            cfg.approval(facts("base-alpine", "1", Some(none)), "2026-12-01")
                .is_none(),
            "expired"
        );
        assert!(
            cfg.approval(facts("app", "999999999999", None), "2026-11-24")
                .is_some()
        );
        let tagged = [("ecrguard".to_string(), "approved".to_string())];
        assert!(
            cfg.approval(facts("app", "1", Some(&tagged)), "2026-11-24")
                .is_some()
        );
        let expired = [
            ("ecrguard".to_string(), "approved".to_string()),
            ("ecrguard-until".to_string(), "2026-01-01".to_string()),
        ];
        assert!(
            cfg.approval(facts("app", "1", Some(&expired)), "2026-11-24")
                .is_none()
        );
        assert!(
            cfg.approval(facts("app", "1", None), "2026-11-24")
                .is_none(),
            "tags unread"
        );
    }

    /// A policy file that is missing or not a lifecycle policy is an error at its line.
    #[test]
    fn lifecycle_policy_files_are_checked() {
        let dir = std::env::temp_dir().join(format!("ecrguard-lifecycle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("bad.json"), "{\"rules\": ").unwrap();
        std::fs::write(dir.join("object.json"), "{\"policy\": []}").unwrap();
        for (file, needle) in [
            ("missing.json", "cannot read"),
            ("bad.json", "is not a lifecycle policy"),
            ("object.json", "is not a lifecycle policy"),
        ] {
            let text = format!(
                "[enforce.lifecycle]\nmode = \"enforce: put-lifecycle-policy\"\npolicy-file = \"{file}\"\n"
            );
            #[derive(Deserialize)]
            struct File {
                enforce: RawEnforce,
            }
            let f: File = toml::from_str(&text).unwrap();
            let problems = validate(&f.enforce, &dir).unwrap_err();
            assert!(problems[0].message.contains(needle), "{file}: {problems:?}");
            assert!(
                text[problems[0].offset..].starts_with(&format!("\"{file}\"")),
                "points at the file name"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The example shipped in the repository is valid, every control set.
    #[test]
    fn the_shipped_example_is_valid() {
        #[derive(Deserialize)]
        struct File {
            enforce: RawEnforce,
        }
        let dir = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/enforce"
        ));
        let text = std::fs::read_to_string(dir.join("ecrguard.toml")).unwrap();
        // The other top-level keys belong to the binary's config; only `[enforce]` is read.
        let f: File = toml::from_str(&text).unwrap();
        let cfg = validate(&f.enforce, dir).unwrap();
        assert!(cfg.controls.values().all(Mode::acts), "{cfg:#?}");
        assert!(
            matches!(&cfg.controls[&Control::Lifecycle], Mode::PutLifecyclePolicy { text } if text.contains("untagged"))
        );
    }
}
