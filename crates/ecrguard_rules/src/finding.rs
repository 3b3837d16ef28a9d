//! Findings: what rules report.

use crate::rule::{RuleMeta, Severity};
use ecrguard_model::{Origin, ResourceId};

/// A statement a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatementRef {
    /// Index in the `Statement` list.
    pub index: usize,
    /// `Sid`, if any.
    pub sid: Option<String>,
}

/// Where a suppression was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuppressionKind {
    /// A comment in the source (`# ecrguard:ignore[ECR002] reason`).
    InSource,
    /// An entry in `ecrguard.toml`.
    Config,
}

/// A suppression that matched a finding. Suppressed findings stay in JSON and SARIF output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Suppression {
    /// Comment or config.
    pub kind: SuppressionKind,
    /// Why (required).
    pub reason: String,
    /// Expiry date (`YYYY-MM-DD`), if any.
    pub until: Option<String>,
}

/// One finding.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule.
    pub rule: &'static RuleMeta,
    /// Severity after overrides.
    pub severity: Severity,
    /// One sentence, no trailing period, identifiers in backticks.
    pub message: String,
    /// Where the problem is written (e.g. the `aws_ecr_repository_policy`).
    pub resource: ResourceId,
    /// The affected repository, when there is one.
    pub repository: Option<ResourceId>,
    /// The primary location.
    pub origin: Option<Origin>,
    /// The statement, for policy findings.
    pub statement: Option<StatementRef>,
    /// Why, in more detail (one sentence each).
    pub notes: Vec<String>,
    /// What to do, imperative.
    pub help: Option<String>,
    /// The suppression that applies, if any.
    pub suppression: Option<Suppression>,
}

impl Finding {
    /// A stable fingerprint: rule, resource and statement, not the message or lines.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        let stmt = self.statement.as_ref().map_or(String::new(), |s| {
            s.sid
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| format!("#{}", s.index))
        });
        // FNV-1a: stable across runs and platforms, unlike `DefaultHasher`.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in format!(
            "{}\u{0}{}\u{0}{}\u{0}{}",
            self.rule.code, self.resource, stmt, self.message
        )
        .bytes()
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}
