//! One state judged: the run's rules over the model, every suppression applied (comments in
//! the files read, `[[suppress]]` entries, suppressions a source declares in its own
//! structure), findings sorted, and what the analysis could not decide listed.

use crate::run::Run;
use ecrguard_model::{DeclaredSuppression, EcrState, Origin, ResourceId, SourceDb, Span};
use ecrguard_report::InputProblem;
use ecrguard_rules::suppression::{self, ConfigSuppression};
use ecrguard_rules::{Finding, Settings, registry};
use std::collections::HashMap;

/// What a run concluded about one state.
#[derive(Debug)]
pub struct Judged {
    /// Findings, suppressed ones included (marked), sorted by file, line and rule.
    pub findings: Vec<Finding>,
    /// Policy statements the analysis could not decide, one entry each.
    pub not_evaluated: Vec<InputProblem>,
    /// Who can do what to each repository, when a rule needed it (the live report reuses it
    /// instead of computing it again).
    pub access: Option<ecrguard_access::AccessMatrix>,
    /// What went wrong that makes the result incomplete (the baseline could not be written).
    pub errors: Vec<InputProblem>,
    /// Notes for the user: peer skips that map to no ecrguard rule, left alone.
    pub notes: Vec<String>,
}

impl Run {
    /// Judges `state` with `settings` ([`Run::settings`], or [`Run::settings_for`] an account
    /// of a live audit). The config file is added to `sources`, so that its suppressions
    /// point into it.
    #[must_use]
    pub fn judge(
        &self,
        state: &EcrState,
        settings: &Settings,
        sources: &mut SourceDb,
        declared: Vec<DeclaredSuppression>,
    ) -> Judged {
        // Analysed once: the rules read the analyses, and so does the "not evaluated" list.
        let analyses = ecrguard_rules::Analyses::new(state, settings);
        let mut findings =
            ecrguard_rules::check_analyzed(state, settings, &analyses, self.rules.iter().copied());
        let mut not_evaluated = Vec::new();
        for p in &analyses.policies {
            for sa in p
                .analysis
                .statements
                .iter()
                .filter(|sa| !sa.incomplete.is_empty())
            {
                let st = &p.doc.policy.statements[sa.index];
                not_evaluated.push(InputProblem::not_evaluated(
                    &p.doc.declared_by,
                    format!(
                        "statement {} of the {} policy{}: {}",
                        st.label(),
                        p.owner.noun(),
                        ecrguard_model::Assumption::when(&p.doc.assumes),
                        sa.incomplete.join("; ")
                    ),
                ));
            }
        }
        let access = analyses.into_access();
        let notes = self.suppress(&mut findings, state, sources, declared);
        let mut errors = Vec::new();
        // Fingerprints are taken before files the run adds (the config, the baseline) shift
        // nothing: they name sources by path, never by id.
        if let Some(path) = &self.write_baseline {
            let text = crate::baseline::render(&findings, sources);
            match std::fs::write(path, &text) {
                // What was just recorded does not count in this run either.
                Ok(()) => crate::baseline::Baseline {
                    path: path.clone(),
                    text,
                    entries: Vec::new(),
                }
                .with_entries_of(&findings, sources)
                .apply(&mut findings, sources),
                Err(e) => errors.push(InputProblem::at(
                    None,
                    format!("cannot write the baseline `{}`: {e}", path.display()),
                )),
            }
        } else if let Some(b) = &self.baseline {
            b.apply(&mut findings, sources);
        }
        ecrguard_report::sort_findings(sources, &mut findings);
        Judged {
            findings,
            not_evaluated,
            access,
            errors,
            notes,
        }
    }

    /// Applies every kind of suppression, and adds the findings about suppressions that are
    /// unused, expired or unreadable (ECR090-092).
    fn suppress(
        &self,
        findings: &mut Vec<Finding>,
        state: &EcrState,
        sources: &mut SourceDb,
        declared: Vec<DeclaredSuppression>,
    ) -> Vec<String> {
        // Comments are looked for in the files the sources read, not in the config file.
        let files: Vec<ecrguard_model::FileId> = sources.ids().collect();
        let mut entries: Vec<ConfigSuppression> = match &self.config {
            Some(c) => {
                let id = sources.add(c.path.display().to_string(), c.text.clone());
                self.suppressions
                    .iter()
                    .map(|s| ConfigSuppression {
                        origin: Origin::Span {
                            file: id,
                            span: Span::new(s.span.start, s.span.end),
                        },
                        ..s.entry.clone()
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        // Suppressions declared inside the sources' own structure: template `Metadata`,
        // Kubernetes annotations.
        for ds in declared {
            if ds.reason.trim().is_empty() || registry::find_meta(&ds.rule).is_none() {
                let why = if ds.reason.trim().is_empty() {
                    "a reason is required".to_string()
                } else {
                    format!("unknown rule `{}`", ds.rule)
                };
                findings.push(suppression::invalid(
                    ds.resource,
                    ds.origin,
                    format!("Suppression {} cannot be read: {why}", ds.written),
                ));
                continue;
            }
            entries.push(ConfigSuppression {
                rule: ds.rule,
                resource: Some(ds.resource.label().to_string()),
                live: suppression::LiveMatch::default(),
                reason: ds.reason,
                expires: ds.until,
                origin: ds.origin,
                kind: ecrguard_rules::SuppressionKind::InSource,
            });
        }
        let tags: HashMap<&str, &[(String, String)]> = state
            .repositories
            .iter()
            .filter_map(|r| match (&r.id, r.tags.known()) {
                (ResourceId::Arn(arn), Some(tags)) => Some((arn.as_str(), tags.as_slice())),
                _ => None,
            })
            .collect();
        let known = |r: &str| registry::find_meta(r).is_some();
        let tags_of = |arn: &str| tags.get(arn).map(|t| t.to_vec());
        suppression::apply(
            findings,
            sources,
            &files,
            &entries,
            &suppression::ApplyOptions {
                today: &self.today,
                known_rule: &known,
                tags_of: &tags_of,
                honor_peer_skips: self.honor_peer_skips,
            },
        )
        .into_iter()
        .map(|n| format!("{}:{}: {}; left alone", n.file, n.line, n.note))
        .collect()
    }
}
