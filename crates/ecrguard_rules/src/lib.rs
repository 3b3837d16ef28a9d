//! The ecrguard rule catalogue: rules read the normalized model ([`ecrguard_model`]) and
//! report [`Finding`]s. Each rule is one file in `rules/` with its docs, metadata and tests;
//! [`registry::RULES`] lists them.
#![deny(missing_docs)]

pub mod context;
pub mod finding;
pub mod registry;
pub mod rule;
pub mod rules;
pub mod settings;
pub mod suppression;

pub use context::{AnalyzedPolicy, Context, analyze_state};
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
    let policies = analyze_state(state, settings);
    let mut findings = Vec::new();
    for rule in rules {
        let mut cx = Context::new(state, settings, &policies, rule.meta());
        rule.check(&mut cx);
        findings.extend(cx.into_findings());
    }
    findings
}
