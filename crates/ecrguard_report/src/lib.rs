//! Renders ecrguard results: text for people, JSON for machines. Reporters only read
//! findings and analyses; they never decide anything.
#![deny(missing_docs)]

pub mod access;
pub mod asff;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod ocsf;
pub mod sarif;
pub mod shown;
pub mod snippet;
pub mod text;

use ecrguard_iam::{Analysis, Policy};
use ecrguard_model::{FileId, SourceDb};
use ecrguard_rules::{Finding, RuleMeta, Severity};

/// The JSON output format version; bumped only on breaking changes.
pub const JSON_VERSION: u32 = 1;

/// Something that could not be read or analysed (exit code 2), or was not evaluated: one type
/// for every source, kept in two lists by kind.
pub use ecrguard_model::{InputProblem, Place, ProblemKind};

/// The result of `scan`.
#[derive(Debug)]
pub struct ScanReport<'a> {
    /// Every file read.
    pub sources: &'a SourceDb,
    /// Findings, suppressed ones included, sorted.
    pub findings: Vec<Finding>,
    /// Inputs that could not be read or fully analysed.
    pub errors: Vec<InputProblem>,
    /// What was not evaluated.
    pub not_evaluated: Vec<InputProblem>,
    /// Files (or, for an audit, repositories) read.
    pub files: usize,
    /// What `files` counts, singular and plural: `["file", "files"]`.
    pub files_noun: [&'static str; 2],
    /// Who can do what to each repository (live audit).
    pub access: Option<&'a ecrguard_access::AccessMatrix>,
    /// The rules that ran (SARIF lists them).
    pub rules: Vec<&'static RuleMeta>,
    /// `--strict`: what was not evaluated makes the result incomplete.
    pub strict: bool,
    /// Things the user should know that are neither findings, errors nor gaps in the
    /// analysis (another scanner's skip that maps to no ecrguard rule).
    pub notes: Vec<String>,
    /// `--compliance`: the framework whose controls the report groups findings by.
    pub compliance: Option<&'static ecrguard_rules::compliance::Framework>,
}

/// The framework's controls, each with the rules that map to it and how many unsuppressed
/// findings they have, in control order.
#[must_use]
pub fn by_control(
    framework: &ecrguard_rules::compliance::Framework,
    active: &[&Finding],
) -> Vec<(&'static str, Vec<&'static str>, usize)> {
    let mut controls: std::collections::BTreeMap<&'static str, (Vec<&'static str>, usize)> =
        std::collections::BTreeMap::new();
    for m in ecrguard_rules::registry::metas() {
        for c in framework.controls(m) {
            controls.entry(c).or_default().0.push(m.code);
        }
    }
    for f in active {
        for c in framework.controls(f.rule) {
            if let Some(entry) = controls.get_mut(c) {
                entry.1 += 1;
            }
        }
    }
    controls
        .into_iter()
        .map(|(c, (rules, n))| (c, rules, n))
        .collect()
}

impl<'a> ScanReport<'a> {
    /// A report of `findings` over `sources` and nothing else (one file read, no errors, no
    /// rules listed): what the renderers' tests start from.
    #[must_use]
    pub fn of_findings(sources: &'a SourceDb, findings: Vec<Finding>) -> Self {
        ScanReport {
            strict: false,
            sources,
            findings,
            errors: Vec::new(),
            not_evaluated: Vec::new(),
            files: 1,
            files_noun: ["file", "files"],
            access: None,
            rules: Vec::new(),
            notes: Vec::new(),
            compliance: None,
        }
    }
}

impl ScanReport<'_> {
    /// Whether the result is incomplete: an input could not be read, or (strict) something
    /// was not evaluated.
    #[must_use]
    pub fn incomplete(&self) -> bool {
        !self.errors.is_empty() || (self.strict && !self.not_evaluated.is_empty())
    }
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
    pub errors: Vec<InputProblem>,
}

impl PolicyCheck<'_> {
    /// The verdict word: `invalid` when the policy could not be read at all.
    #[must_use]
    pub fn verdict(&self) -> &'static str {
        self.analysis.map_or("invalid", |a| a.verdict.as_str())
    }
}

/// Sorts findings deterministically: location (path, lines), rule, resource, statement,
/// message; stable.
pub fn sort_findings(sources: &SourceDb, findings: &mut [Finding]) {
    use rayon::prelude::*;
    // Keys on all cores. Only the location and rule go into a key (the path borrowed from the
    // source database); resource, statement and message are compared in place when those tie,
    // rather than copied for each of tens of thousands of findings.
    type Key<'s> = (Option<(&'s str, usize, usize)>, &'static str, usize);
    let mut keys: Vec<Key<'_>> = findings
        .par_iter()
        .enumerate()
        .map(|(i, f)| {
            let lines = f.origin.as_ref().and_then(|o| sources.line_range(o));
            (lines, f.rule.code, i)
        })
        .collect();
    let all: &[Finding] = findings;
    keys.par_sort_by(|a, b| {
        (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| {
            let (x, y) = (&all[a.2], &all[b.2]);
            x.resource
                .label()
                .cmp(y.resource.label())
                .then_with(|| x.statement.cmp(&y.statement))
                .then_with(|| x.message.cmp(&y.message))
        })
    });
    let order: Vec<usize> = keys.into_iter().map(|k| k.2).collect();
    permute(findings, order);
}

/// Reorders `items` in place so that position `i` holds the item that was at `order[i]`
/// (`order` is a permutation), following each cycle with swaps: no second list of items.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        // `order[i] == i` marks a position already final.
        let mut at = start;
        while order[at] != start {
            let from = order[at];
            items.swap(at, from);
            order[at] = at;
            at = from;
        }
        order[at] = at;
    }
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

#[cfg(test)]
mod permute_tests {
    use super::permute;

    #[test]
    fn permute_matches_a_copying_reorder() {
        // Every permutation of 5 items (all cycle shapes), and a long pseudo-random one.
        let mut orders: Vec<Vec<usize>> = Vec::new();
        let mut p: Vec<usize> = (0..5).collect();
        fn all(k: usize, p: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
            if k == p.len() {
                out.push(p.clone());
                return;
            }
            for i in k..p.len() {
                p.swap(k, i);
                all(k + 1, p, out);
                p.swap(k, i);
            }
        }
        all(0, &mut p, &mut orders);
        assert_eq!(orders.len(), 120);
        let mut long: Vec<usize> = (0..1000).collect();
        let mut x: u64 = 7;
        for i in (1..long.len()).rev() {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            long.swap(i, usize::try_from(x >> 33).unwrap() % (i + 1));
        }
        orders.push(long);
        for order in orders {
            let items: Vec<String> = (0..order.len()).map(|i| format!("item{i}")).collect();
            let want: Vec<String> = order.iter().map(|&i| items[i].clone()).collect();
            let mut got = items;
            permute(&mut got, order.clone());
            assert_eq!(got, want, "{order:?}");
        }
    }
}
