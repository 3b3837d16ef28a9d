//! The ecrguard rule catalogue: rules read the normalized model ([`ecrguard_model`]) and
//! report [`Finding`]s. Each rule is one file in `rules/` with its docs, metadata and tests;
//! [`registry::RULES`] lists them.
#![deny(missing_docs)]

pub mod comments;
pub mod compliance;
pub mod context;
pub mod dates;
pub mod finding;
mod peer_skips;
pub mod registry;
pub mod rule;
pub mod rules;
pub mod settings;
pub mod suppression;

pub use context::{Analyses, AnalyzedPolicy, Context, analyze_state};
pub use finding::{Finding, StatementRef, Suppression, SuppressionKind};
pub use rule::{Category, Rule, RuleMeta, Severity, SourceKind};
pub use settings::Settings;

use ecrguard_model::EcrState;

/// Runs every rule on the state.
#[must_use]
pub fn check(state: &EcrState, settings: &Settings) -> Vec<Finding> {
    check_rules(state, settings, registry::RULES.iter().copied())
}

/// Runs the given rules on the state. Resource policies are analysed once for all rules.
/// Findings come back in a deterministic order.
pub fn check_rules<'r>(
    state: &EcrState,
    settings: &Settings,
    rules: impl IntoIterator<Item = &'r dyn Rule>,
) -> Vec<Finding> {
    check_analyzed(state, settings, &Analyses::new(state, settings), rules)
}

/// [`check_rules`] with the analyses already made ([`Analyses::new`]), for a caller that also
/// reads them itself (the "not evaluated" list, the access matrix of a live report).
pub fn check_analyzed<'a, 'r>(
    state: &'a EcrState,
    settings: &'a Settings,
    analyses: &'a Analyses<'a>,
    rules: impl IntoIterator<Item = &'r dyn Rule>,
) -> Vec<Finding> {
    use rayon::prelude::*;
    // Rules are independent readers of the model: they run on all cores, and the findings
    // are joined in rule order, so the output does not depend on scheduling.
    let rules: Vec<&dyn Rule> = rules.into_iter().collect();
    let per_rule: Vec<Vec<Finding>> = rules
        .par_iter()
        .map(|rule| {
            let mut cx = Context::new(state, settings, analyses, rule.meta());
            rule.check(&mut cx);
            cx.into_findings()
        })
        .collect();
    // Joined into one list allocated at its final size (grown by doubling, tens of thousands
    // of findings were copied several times into fresh memory).
    let mut all = Vec::with_capacity(per_rule.iter().map(Vec::len).sum());
    for mut findings in per_rule {
        all.append(&mut findings);
    }
    finding::number_occurrences(&mut all);
    all
}
