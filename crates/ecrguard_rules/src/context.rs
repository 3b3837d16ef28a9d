//! What a rule sees while it runs, and how it reports.

use crate::finding::{Finding, StatementRef};
use crate::rule::{RuleMeta, Severity};
use crate::settings::Settings;
use ecrguard_iam::analysis::{Analysis, AnalysisOptions, Party};
use ecrguard_iam::policy::Statement;
use ecrguard_model::{Assumption, EcrState, Origin, PolicyDoc, PolicyOwner, ResourceId};

/// A resource policy together with its analysis, computed once per run.
#[derive(Debug)]
pub struct AnalyzedPolicy<'a> {
    /// What it is attached to.
    pub owner: PolicyOwner<'a>,
    /// The document.
    pub doc: &'a PolicyDoc,
    /// Who it lets in.
    pub analysis: Analysis,
    /// The owner account used for the analysis.
    pub owner_account: Option<String>,
}

impl AnalyzedPolicy<'_> {
    /// The repository a finding on this policy affects.
    #[must_use]
    pub fn repository(&self) -> Option<ResourceId> {
        match self.owner {
            PolicyOwner::Repository(_) | PolicyOwner::PublicRepository(_) => {
                Some(self.owner.id().clone())
            }
            PolicyOwner::Registry(_) | PolicyOwner::CreationTemplate(_) => None,
        }
    }

    /// Where a statement is written (the document when the statement has no span).
    #[must_use]
    pub fn statement_origin(&self, st: &Statement) -> Origin {
        self.doc.origin.narrow(st.span)
    }

    /// A statement reference for findings.
    #[must_use]
    pub fn statement_ref(&self, st: &Statement) -> StatementRef {
        StatementRef {
            index: st.index,
            sid: st.sid.clone(),
        }
    }

    /// The owner's name for messages: `` repository `x` ``, and for a branch of a
    /// conditional policy the conditions it assumes: `` repository `x` (when IsPublic=true) ``.
    #[must_use]
    pub fn subject(&self) -> String {
        format!(
            "{} `{}`{}",
            self.owner.noun(),
            self.owner.id().label(),
            Assumption::when(&self.doc.assumes)
        )
    }

    /// Whether a party is outside the trust zone (owner, trusted accounts and orgs).
    #[must_use]
    pub fn is_untrusted(&self, party: &Party, settings: &Settings) -> bool {
        let owner = self.owner_account.as_deref();
        match party {
            Party::Account(a) => !settings.is_trusted_account(a, owner),
            Party::Org(o) => !settings.is_trusted_org(o),
            Party::Everyone | Party::Network(_) | Party::Service(_) | Party::Unidentified(_) => {
                true
            }
        }
    }
}

/// Analyses every resource policy of the state once.
#[must_use]
pub fn analyze_state<'a>(state: &'a EcrState, settings: &Settings) -> Vec<AnalyzedPolicy<'a>> {
    use rayon::prelude::*;
    // Policy analysis is the costly part of a rule run; policies are analysed on all cores.
    let owners: Vec<PolicyOwner<'a>> = state.policy_owners().collect();
    owners
        .into_par_iter()
        .filter_map(|owner| {
            let doc = owner.policy().doc()?;
            let owner_account = owner
                .account()
                .map(str::to_string)
                .or_else(|| settings.owner_account.clone());
            let analysis = ecrguard_iam::analyze(
                &doc.policy,
                &AnalysisOptions {
                    owner: owner_account.clone(),
                },
            );
            Some(AnalyzedPolicy {
                owner,
                doc,
                analysis,
                owner_account,
            })
        })
        .collect()
}

/// What is computed once per run over a state and shared by every rule and by the caller:
/// each resource policy analysed, and the access matrix (who can do what to each
/// repository), built the first time something asks for it.
pub struct Analyses<'a> {
    state: &'a EcrState,
    /// Every resource policy, analysed.
    pub policies: Vec<AnalyzedPolicy<'a>>,
    access: std::sync::OnceLock<ecrguard_access::AccessMatrix>,
}

impl<'a> Analyses<'a> {
    /// Analyses the state's resource policies (the matrix waits until asked for).
    #[must_use]
    pub fn new(state: &'a EcrState, settings: &Settings) -> Self {
        Analyses {
            state,
            policies: analyze_state(state, settings),
            access: std::sync::OnceLock::new(),
        }
    }

    /// The access matrix, if something asked for it.
    #[must_use]
    pub fn into_access(self) -> Option<ecrguard_access::AccessMatrix> {
        self.access.into_inner()
    }

    /// The access matrix, computed once (ECR009 and the live report share it).
    #[must_use]
    pub fn access(&self) -> &ecrguard_access::AccessMatrix {
        self.access
            .get_or_init(|| ecrguard_access::matrix(self.state))
    }
}

/// The run context handed to each rule.
pub struct Context<'a> {
    /// The model.
    pub state: &'a EcrState,
    /// Settings.
    pub settings: &'a Settings,
    /// Every resource policy, analysed.
    pub policies: &'a [AnalyzedPolicy<'a>],
    analyses: &'a Analyses<'a>,
    rule: &'static RuleMeta,
    findings: Vec<Finding>,
}

impl<'a> Context<'a> {
    /// A context for one rule.
    #[must_use]
    pub fn new(
        state: &'a EcrState,
        settings: &'a Settings,
        analyses: &'a Analyses<'a>,
        rule: &'static RuleMeta,
    ) -> Self {
        Context {
            state,
            settings,
            policies: &analyses.policies,
            analyses,
            rule,
            findings: Vec::new(),
        }
    }

    /// Starts a finding of the current rule; call `.emit()` on the builder (or let it drop).
    pub fn report(
        &mut self,
        resource: &ResourceId,
        message: impl Into<String>,
    ) -> FindingBuilder<'_, 'a> {
        let rule = self.rule;
        let severity = self
            .settings
            .severity_overrides
            .get(rule.code)
            .copied()
            .unwrap_or(rule.severity);
        FindingBuilder {
            cx: self,
            finding: Some(Finding {
                rule,
                severity,
                message: message.into(),
                resource: resource.clone(),
                repository: None,
                origin: None,
                statement: None,
                notes: Vec::new(),
                help: None,
                suppression: None,
                key: None,
                occurrence: 0,
                assumes: Vec::new(),
            }),
        }
    }

    /// Who can do what to each repository, computed once per run.
    #[must_use]
    pub fn access(&self) -> &'a ecrguard_access::AccessMatrix {
        self.analyses.access()
    }

    /// The analysed policies attached to one kind of owner (`PolicyOwner::Repository` ...).
    pub fn policies_of(
        &self,
        kind: fn(&PolicyOwner<'_>) -> bool,
    ) -> impl Iterator<Item = &'a AnalyzedPolicy<'a>> + use<'a> {
        self.policies.iter().filter(move |p| kind(&p.owner))
    }

    /// Starts a finding about one statement of an analysed resource policy: resource,
    /// repository, location and statement are filled in.
    pub fn report_statement(
        &mut self,
        p: &AnalyzedPolicy<'_>,
        st: &Statement,
        message: impl Into<String>,
    ) -> FindingBuilder<'_, 'a> {
        self.report_policy(p, message)
            .at(p.statement_origin(st))
            .statement(p.statement_ref(st))
    }

    /// Starts a finding about an analysed resource policy as a whole: its declaring resource,
    /// its repository and the conditions it was analysed under are filled in.
    pub fn report_policy(
        &mut self,
        p: &AnalyzedPolicy<'_>,
        message: impl Into<String>,
    ) -> FindingBuilder<'_, 'a> {
        let assumes = p.doc.assumes.clone();
        self.report(&p.doc.declared_by, message)
            .repository(p.repository())
            .with(|f| f.assumes = assumes)
    }

    /// The findings reported so far.
    #[must_use]
    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }
}

/// Fills in a finding; it is recorded when dropped.
pub struct FindingBuilder<'c, 'a> {
    cx: &'c mut Context<'a>,
    finding: Option<Finding>,
}

impl FindingBuilder<'_, '_> {
    fn with(mut self, f: impl FnOnce(&mut Finding)) -> Self {
        if let Some(x) = self.finding.as_mut() {
            f(x);
        }
        self
    }
    /// The affected repository.
    #[must_use]
    pub fn repository(self, id: Option<ResourceId>) -> Self {
        self.with(|f| f.repository = id)
    }
    /// The primary location.
    #[must_use]
    pub fn at(self, origin: Origin) -> Self {
        self.with(|f| f.origin = Some(origin))
    }
    /// The statement.
    #[must_use]
    pub fn statement(self, s: StatementRef) -> Self {
        self.with(|f| f.statement = Some(s))
    }
    /// What tells this finding from others of the rule on the same resource and statement
    /// (see [`Finding::key`]).
    #[must_use]
    pub fn key(self, key: impl Into<String>) -> Self {
        let key = key.into();
        self.with(|f| f.key = Some(key))
    }
    /// A note explaining why.
    #[must_use]
    pub fn note(self, n: impl Into<String>) -> Self {
        let n = n.into();
        self.with(|f| f.notes.push(n))
    }
    /// What to do.
    #[must_use]
    pub fn help(self, h: impl Into<String>) -> Self {
        let h = h.into();
        self.with(|f| f.help = Some(h))
    }
    /// Raises the severity above the rule's default, unless config overrides the rule.
    #[must_use]
    pub fn escalate(self, to: Severity) -> Self {
        let overridden = self
            .cx
            .settings
            .severity_overrides
            .contains_key(self.cx.rule.code);
        self.with(|f| {
            if !overridden && to > f.severity {
                f.severity = to;
            }
        })
    }
    /// Lowers the severity (for findings milder than the rule's default), unless config
    /// overrides the rule.
    #[must_use]
    pub fn lower_to(self, to: Severity) -> Self {
        let overridden = self
            .cx
            .settings
            .severity_overrides
            .contains_key(self.cx.rule.code);
        self.with(|f| {
            if !overridden && to < f.severity {
                f.severity = to;
            }
        })
    }
    /// Records the finding (also happens on drop).
    pub fn emit(self) {}
}

impl Drop for FindingBuilder<'_, '_> {
    fn drop(&mut self) {
        if let Some(f) = self.finding.take() {
            self.cx.findings.push(f);
        }
    }
}
