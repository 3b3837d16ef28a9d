//! Renders ecrguard results: text for people, JSON for machines. Reporters only read
//! findings and analyses; they never decide anything.
#![deny(missing_docs)]

pub mod access;
pub mod github;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod snippet;
pub mod text;

use ecrguard_iam::{Analysis, Policy};
use ecrguard_model::{FileId, Location, SourceDb};
use ecrguard_rules::{Finding, RuleMeta, Severity};

/// The JSON output format version; bumped only on breaking changes.
pub const JSON_VERSION: u32 = 1;

/// Something that could not be read or analysed (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct InputError {
    /// Where, when known.
    pub location: Option<Location>,
    /// What went wrong.
    pub message: String,
}

/// Something a source did not evaluate (never a finding by itself).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NotEvaluated {
    /// Resource or module address.
    pub address: String,
    /// Why.
    pub reason: String,
}

/// The result of `scan`.
#[derive(Debug)]
pub struct ScanReport<'a> {
    /// Every file read.
    pub sources: &'a SourceDb,
    /// Findings, suppressed ones included, sorted.
    pub findings: Vec<Finding>,
    /// Inputs that could not be read or fully analysed.
    pub errors: Vec<InputError>,
    /// What was not evaluated.
    pub not_evaluated: Vec<NotEvaluated>,
    /// Files (or, for an audit, repositories) read.
    pub files: usize,
    /// What `files` counts, singular and plural: `["file", "files"]`.
    pub files_noun: [&'static str; 2],
    /// Who can do what to each repository (live audit).
    pub access: Option<&'a ecrguard_access::AccessMatrix>,
    /// The rules that ran (SARIF lists them).
    pub rules: Vec<&'static RuleMeta>,
}

impl ScanReport<'_> {
    /// Findings that are not suppressed.
    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppression.is_none())
    }
}

/// The result of `check-policy` on one input.
#[derive(Debug)]
pub struct PolicyCheck<'a> {
    /// The files read (the input, and the decoded `policyText` when there was one).
    pub sources: &'a SourceDb,
    /// The input's name as the user gave it.
    pub input: String,
    /// The file the policy's spans point into.
    pub policy_file: Option<FileId>,
    /// The parsed policy, when it could be parsed.
    pub policy: Option<&'a Policy>,
    /// Its analysis.
    pub analysis: Option<&'a Analysis>,
    /// The owner account used.
    pub owner_account: Option<String>,
    /// Findings, sorted.
    pub findings: Vec<Finding>,
    /// Errors: the input could not be fully analysed.
    pub errors: Vec<InputError>,
}

impl PolicyCheck<'_> {
    /// The verdict word: `invalid` when the policy could not be read at all.
    #[must_use]
    pub fn verdict(&self) -> &'static str {
        self.analysis.map_or("invalid", |a| a.verdict.as_str())
    }
}

/// Sorts findings deterministically: location, rule, resource, message.
pub fn sort_findings(sources: &SourceDb, findings: &mut [Finding]) {
    use rayon::slice::ParallelSliceMut as _;
    // The keys need each finding's lines; tens of thousands of findings take both cores.
    findings.par_sort_by_cached_key(|f| {
        let loc = f.origin.as_ref().and_then(|o| sources.lines(o));
        (
            loc.map(|l| (l.file, l.start_line, l.end_line)),
            f.rule.code,
            f.resource.to_string(),
            f.statement.clone(),
            f.message.clone(),
        )
    });
}

/// Counts findings per severity, highest first, for summaries.
#[must_use]
pub fn severity_counts(findings: &[&Finding]) -> Vec<(Severity, usize)> {
    Severity::ALL
        .iter()
        .rev()
        .map(|s| (*s, findings.iter().filter(|f| f.severity == *s).count()))
        .filter(|(_, n)| *n > 0)
        .collect()
}
