//! One event, end to end: read just the resource it touched, run the live rules on it, plan
//! per config, and (when applying) act through the journal. Shared by `ecrguard
//! handle-event` and the Lambda entry point, so both behave the same.

use crate::config::EnforceConfig;
use crate::event::{EcrEvent, Scope};
use crate::execute::{self, ApplyOptions, Outcome};
use crate::journal::{Journal, Status};
use crate::plan::{Plan, plan};
use ecrguard_aws::api::{EcrPublicApi, EcrWriteApi, JournalTableApi};
use ecrguard_aws::collect::{Audit, add_repository, collect_public_repository, collect_registry};
use ecrguard_model::EcrState;
use ecrguard_rules::Finding;

/// Judges one account's live state (its id, when known, is the owner): the caller's engine
/// run, so the rules, severities and suppressions are the same as `audit`'s.
pub type Judge<'a> = dyn Fn(&EcrState, Option<&str>) -> Vec<Finding> + Sync + 'a;

/// What handling one event did.
#[derive(Debug, Clone, Default)]
pub struct EventReport {
    /// The findings on the resource: `(rule, resource, message)`.
    pub findings: Vec<(String, String, String)>,
    /// The plan.
    pub plan: Plan,
    /// Outcomes, when applying.
    pub outcomes: Vec<Outcome>,
    /// Reads that failed, and refusals.
    pub errors: Vec<String>,
}

/// How to handle.
#[derive(Debug)]
pub struct HandleOptions<'a, T> {
    /// Seconds since the epoch.
    pub now: i64,
    /// Today, `YYYY-MM-DD`.
    pub today: &'a str,
    /// `Some` to apply, through this journal.
    pub journal: Option<&'a Journal<T>>,
    /// Whether destructive actions (deleting a repository) are confirmed.
    pub destructive_confirmed: bool,
    /// Registries already read in this batch, by account and region: a batch of events on
    /// repositories of one registry reads its registry once, not once per event.
    pub registries: Option<&'a RegistryCache>,
}

/// Registries read, by `(account, region)`. Only complete reads are kept (a failed call is
/// tried again for the next event), and a registry event drops its registry's entry.
pub type RegistryCache = std::sync::Mutex<std::collections::HashMap<(String, String), Audit>>;

// By hand: derived, they would ask the same of the journal's table client.
impl<T> Clone for HandleOptions<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for HandleOptions<'_, T> {}

/// Handles one recognised event with `api` (credentials of the event's account, client in its
/// region); `judge` runs the rules on what was read.
pub async fn handle_event<A: EcrWriteApi + EcrPublicApi, T: JournalTableApi>(
    api: &A,
    event: &EcrEvent,
    judge: &Judge<'_>,
    cfg: &EnforceConfig,
    opts: HandleOptions<'_, T>,
) -> EventReport {
    let mut report = EventReport::default();
    let key = (event.account.clone(), event.region.clone());
    let audit = match &event.scope {
        Scope::Repository(name) => {
            let cached = opts
                .registries
                .and_then(|c| c.lock().ok().and_then(|c| c.get(&key).cloned()));
            let registry = match cached {
                Some(r) => r,
                None => {
                    let r = collect_registry(api, &event.region).await;
                    if let Some(cache) = opts.registries
                        && r.errors.is_empty()
                        && r.account.as_deref() == Some(event.account.as_str())
                        && let Ok(mut c) = cache.lock()
                    {
                        c.insert(key, r.clone());
                    }
                    r
                }
            };
            add_repository(api, &event.region, name, registry).await
        }
        Scope::PublicRepository(name) => collect_public_repository(api, name).await,
        Scope::Registry => {
            // The registry changed: what was kept of it is stale.
            if let Some(Ok(mut c)) = opts.registries.map(|c| c.lock()) {
                c.remove(&key);
            }
            collect_registry(api, &event.region).await
        }
    };
    for e in &audit.errors {
        report.errors.push(e.problem().to_string());
    }
    match audit.account.as_deref() {
        Some(a) if a == event.account => {}
        Some(a) => {
            report.errors.push(format!(
                "the event is for account {} but the credentials are for {a}: nothing done",
                event.account
            ));
            return report;
        }
        None => return report,
    }
    if let Scope::PublicRepository(name) = &event.scope
        && audit.state.public_repositories.is_empty()
        && audit.errors.is_empty()
    {
        report.errors.push(format!(
            "ECR Public repository `{name}` no longer exists: nothing to do"
        ));
        return report;
    }
    if let Scope::Repository(name) = &event.scope {
        if audit.state.repositories.is_empty() && audit.errors.is_empty() {
            report.errors.push(format!(
                "repository `{name}` no longer exists in {}: nothing to do",
                event.region
            ));
            return report;
        }
    }
    let findings = judge(&audit.state, audit.account.as_deref());
    report.findings = findings
        .iter()
        .filter(|f| f.suppression.is_none())
        .map(|f| {
            (
                f.rule.code.to_string(),
                f.resource.label().to_string(),
                f.message.clone(),
            )
        })
        .collect();
    report.plan = plan(&findings, &audit, cfg, opts.now, opts.today);
    let Some(journal) = opts.journal else {
        return report;
    };
    for action in &report.plan.actions {
        if action.change.destructive() && !opts.destructive_confirmed {
            report.outcomes.push(Outcome {
                id: action.id.clone(),
                status: Status::Refused,
                message: "deleting a repository needs --yes (ECRGUARD_YES=true in Lambda)".into(),
            });
            continue;
        }
        let applied = execute::apply(
            api,
            journal,
            action,
            ApplyOptions {
                now: opts.now,
                allow_delete_with_images: cfg.allow_delete_with_images,
            },
        )
        .await;
        match applied {
            Ok(o) => report.outcomes.push(o),
            Err(e) => {
                // The journal cannot be written: stop, nothing more may change.
                report.errors.push(e);
                break;
            }
        }
    }
    report
}
