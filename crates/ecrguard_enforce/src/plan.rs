//! From findings on live repositories to a plan: what each control would change, exactly, or
//! why it changes nothing (check mode, approved, not new, nothing to remove). Pure: the same
//! findings, state, configuration and clock always give the same plan.

use crate::config::{Control, EnforceConfig, Mode, RepoFacts};
use ecrguard_aws::collect::{Audit, RawRepository};
use ecrguard_rules::Finding;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The repository an action is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
}

/// What an action changes, with the state it expects to find.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Change {
    /// `SetRepositoryPolicy` with the offending statements removed.
    #[serde(rename = "remove-statements")]
    SetPolicy {
        /// Statement indexes removed.
        removed: Vec<usize>,
        /// The policy text found.
        before: String,
        /// The policy text written.
        after: String,
    },
    /// `DeleteRepositoryPolicy`: every statement offended.
    DeletePolicy {
        /// Statement indexes removed (all).
        removed: Vec<usize>,
        /// The policy text found.
        before: String,
    },
    /// `DeleteRepository`: new, unapproved and public.
    DeleteRepository {
        /// The policy text found, if any.
        before: Option<String>,
        /// `createdAt`, seconds since the epoch.
        created_at: i64,
    },
    /// `PutImageTagMutability IMMUTABLE`.
    SetImmutable {
        /// The setting found.
        before: String,
    },
    /// `PutImageScanningConfiguration scanOnPush=true`.
    SetScanOnPush,
    /// `PutLifecyclePolicy`.
    PutLifecyclePolicy {
        /// The policy written.
        text: String,
    },
}

impl Change {
    /// The word for output.
    #[must_use]
    pub fn verb(&self) -> &'static str {
        match self {
            Change::SetPolicy { .. } => "remove-statements",
            Change::DeletePolicy { .. } => "delete-policy",
            Change::DeleteRepository { .. } => "delete-repository",
            Change::SetImmutable { .. } => "set-immutable",
            Change::SetScanOnPush => "set-scan-on-push",
            Change::PutLifecyclePolicy { .. } => "put-lifecycle-policy",
        }
    }

    /// Whether the change cannot be undone completely (images are lost).
    #[must_use]
    pub fn destructive(&self) -> bool {
        matches!(self, Change::DeleteRepository { .. })
    }
}

/// One planned change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Stable id: the same change of the same state is the same action on every run (how a
    /// re-run after a crash finds its journal entry).
    pub id: String,
    /// The repository.
    pub target: Target,
    /// The controls behind it.
    pub controls: Vec<String>,
    /// The rules behind it.
    pub rules: Vec<String>,
    /// Why, for people.
    pub reason: String,
    /// What exactly changes.
    pub change: Change,
}

/// A finding left as it is, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unchanged {
    /// The repository (or resource) ARN.
    pub target: String,
    /// The control.
    pub control: String,
    /// The rule.
    pub rule: String,
    /// Why nothing changes.
    pub reason: String,
}

/// The plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Changes, in target order.
    pub actions: Vec<Action>,
    /// Findings reported only.
    pub unchanged: Vec<Unchanged>,
}

/// FNV-1a, 64 bits: a stable id that needs no dependency.
fn fnv(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The `Statement` list of a policy as JSON values (a lone object is a list of one).
fn statements(text: &str) -> Option<(serde_json::Value, Vec<serde_json::Value>)> {
    let root: serde_json::Value = serde_json::from_str(text).ok()?;
    let list = match root.get("Statement")? {
        serde_json::Value::Array(a) => a.clone(),
        o @ serde_json::Value::Object(_) => vec![o.clone()],
        _ => return None,
    };
    Some((root, list))
}

/// The policy without the statements at `remove`; `None` when nothing would be left.
///
/// # Errors
/// When the text is not a JSON policy with a `Statement` (then nothing is touched).
pub fn without_statements(text: &str, remove: &BTreeSet<usize>) -> Result<Option<String>, String> {
    let (mut root, list) = statements(text)
        .ok_or_else(|| "the policy text has no readable `Statement`".to_string())?;
    let kept: Vec<serde_json::Value> = list
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !remove.contains(i))
        .map(|(_, s)| s)
        .collect();
    if kept.is_empty() {
        return Ok(None);
    }
    root["Statement"] = serde_json::Value::Array(kept);
    serde_json::to_string_pretty(&root)
        .map(Some)
        .map_err(|e| e.to_string())
}

fn target_of(raw: &RawRepository) -> Target {
    Target {
        arn: raw.info.arn.clone(),
        name: raw.info.name.clone(),
        account: raw.info.registry_id.clone(),
        region: raw.region.clone(),
    }
}

/// Per repository, what the policy controls want.
#[derive(Default)]
struct PolicyWants {
    remove: BTreeSet<usize>,
    delete_repository: bool,
    controls: BTreeSet<Control>,
}

/// Builds the plan from an audit's findings, raw answers and tags. `now` is seconds since the epoch (injectable: "new" and expiry depend on
/// it); `today` is its date, `YYYY-MM-DD`.
#[must_use]
pub fn plan(
    findings: &[Finding],
    audit: &Audit,
    cfg: &EnforceConfig,
    now: i64,
    today: &str,
) -> Plan {
    let repos = &audit.raw;
    let tags: BTreeMap<&str, &[(String, String)]> = audit
        .state
        .repositories
        .iter()
        .filter_map(|r| Some((r.id.label(), r.tags.known()?.as_slice())))
        .collect();
    let mut out = Plan::default();
    let mut policy: BTreeMap<&str, PolicyWants> = BTreeMap::new();
    let mut settings: Vec<(Control, &RawRepository, &Finding)> = Vec::new();
    let unchanged = |f: &Finding, target: &str, control: Control, reason: String| Unchanged {
        target: target.to_string(),
        control: control.name().to_string(),
        rule: f.rule.code.to_string(),
        reason,
    };
    for f in findings.iter().filter(|f| f.suppression.is_none()) {
        let Some(control) = Control::of_rule(f.rule.code) else {
            continue;
        };
        let mode = &cfg.controls[&control];
        let arn = f
            .repository
            .as_ref()
            .unwrap_or(&f.resource)
            .label()
            .to_string();
        if *mode == Mode::Skip {
            continue;
        }
        let Some(raw) = repos.get(&arn) else {
            // Registry policies, creation templates: reported, never changed.
            if mode.acts() {
                out.unchanged.push(unchanged(
                    f,
                    &arn,
                    control,
                    "not a repository: reported only".into(),
                ));
            }
            continue;
        };
        if !mode.acts() {
            out.unchanged
                .push(unchanged(f, &arn, control, "mode is check".into()));
            continue;
        }
        let facts = RepoFacts {
            name: &raw.info.name,
            account: &raw.info.registry_id,
            region: &raw.region,
            tags: tags.get(arn.as_str()).copied(),
        };
        if let Some(why) = cfg.approval(facts, today) {
            out.unchanged.push(unchanged(f, &arn, control, why));
            continue;
        }
        match mode {
            Mode::RemoveStatements | Mode::DeleteIfNew { .. } => {
                let new = raw
                    .info
                    .created_at
                    .is_some_and(|c| now.saturating_sub(c) <= cfg.new_window_secs);
                let effective = match mode {
                    Mode::DeleteIfNew { .. } if new => {
                        let w = policy.entry(raw.info.arn.as_str()).or_default();
                        w.delete_repository = true;
                        w.controls.insert(control);
                        continue;
                    }
                    Mode::DeleteIfNew { otherwise } => otherwise.as_ref(),
                    m => m,
                };
                if *effective != Mode::RemoveStatements {
                    let when = raw
                        .info
                        .created_at
                        .map_or("unknown".to_string(), |c| format!("{c}"));
                    out.unchanged.push(unchanged(
                        f,
                        &arn,
                        control,
                        format!(
                            "not new (created at {when}, window {} min): check only",
                            cfg.new_window_secs / 60
                        ),
                    ));
                    continue;
                }
                let Some(st) = &f.statement else {
                    out.unchanged.push(unchanged(
                        f,
                        &arn,
                        control,
                        "no statement to remove".into(),
                    ));
                    continue;
                };
                let w = policy.entry(raw.info.arn.as_str()).or_default();
                w.remove.insert(st.index);
                w.controls.insert(control);
            }
            _ => settings.push((control, raw, f)),
        }
    }
    for (arn, wants) in &policy {
        let raw = &repos[*arn];
        let target = target_of(raw);
        let controls: Vec<String> = wants
            .controls
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let rules: Vec<String> = wants
            .controls
            .iter()
            .map(|c| c.rule().to_string())
            .collect();
        let before = raw.policy_text.clone();
        if wants.delete_repository {
            let created_at = raw.info.created_at.unwrap_or_default();
            out.actions.push(Action {
                id: fnv(&[arn, "delete-repository", before.as_deref().unwrap_or("")]),
                target,
                controls,
                rules,
                reason: format!(
                    "new ({} s old, window {} min), unapproved, and its policy lets {} in",
                    now.saturating_sub(created_at),
                    cfg.new_window_secs / 60,
                    if wants.controls.contains(&Control::PublicPolicy) {
                        "anyone"
                    } else {
                        "untrusted accounts"
                    }
                ),
                change: Change::DeleteRepository { before, created_at },
            });
            continue;
        }
        let Some(text) = before else { continue };
        let removed: Vec<usize> = wants.remove.iter().copied().collect();
        let change = match without_statements(&text, &wants.remove) {
            Ok(Some(after)) => Change::SetPolicy {
                removed: removed.clone(),
                before: text.clone(),
                after,
            },
            Ok(None) => Change::DeletePolicy {
                removed: removed.clone(),
                before: text.clone(),
            },
            Err(e) => {
                for c in &wants.controls {
                    out.unchanged.push(Unchanged {
                        target: arn.to_string(),
                        control: c.name().into(),
                        rule: c.rule().into(),
                        reason: format!("cannot edit the policy: {e}"),
                    });
                }
                continue;
            }
        };
        out.actions.push(Action {
            id: fnv(&[arn, change.verb(), &text, &format!("{removed:?}")]),
            target,
            controls,
            rules,
            reason: format!(
                "statement{} {} let{} in {}",
                if removed.len() == 1 { "" } else { "s" },
                removed
                    .iter()
                    .map(|i| format!("#{i}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if removed.len() == 1 { "s" } else { "" },
                if wants.controls.contains(&Control::PublicPolicy) {
                    "anyone"
                } else {
                    "untrusted accounts"
                }
            ),
            change,
        });
    }
    let deleted: BTreeSet<String> = out
        .actions
        .iter()
        .filter(|a| a.change.destructive())
        .map(|a| a.target.arn.clone())
        .collect();
    for (control, raw, f) in settings {
        if deleted.contains(&raw.info.arn) {
            continue;
        }
        let arn = &raw.info.arn;
        let change = match &cfg.controls[&control] {
            Mode::SetImmutable => Change::SetImmutable {
                before: raw
                    .info
                    .tag_mutability
                    .clone()
                    .unwrap_or_else(|| "MUTABLE".into()),
            },
            Mode::SetScanOnPush => Change::SetScanOnPush,
            Mode::PutLifecyclePolicy { text } => Change::PutLifecyclePolicy { text: text.clone() },
            _ => continue,
        };
        let state = format!("{:?}/{:?}", raw.info.tag_mutability, raw.info.scan_on_push);
        out.actions.push(Action {
            id: fnv(&[arn, change.verb(), &state]),
            target: target_of(raw),
            controls: vec![control.name().into()],
            rules: vec![control.rule().into()],
            reason: f.message.clone(),
            change,
        });
    }
    out.actions
        .sort_by(|a, b| (&a.target.arn, a.change.verb()).cmp(&(&b.target.arn, b.change.verb())));
    out.unchanged
        .sort_by(|a, b| (&a.target, &a.rule).cmp(&(&b.target, &b.rule)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_removed_and_the_rest_kept() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"ecr:*"},{"Sid":"Ci","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/ci"},"Action":"ecr:PutImage"}]}"#;
        let after = without_statements(text, &BTreeSet::from([0]))
            .unwrap()
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&after).unwrap();
        assert_eq!(v["Statement"].as_array().unwrap().len(), 1);
        assert_eq!(v["Statement"][0]["Sid"], "Ci");
        assert_eq!(v["Version"], "2012-10-17", "order and other members kept");
        assert_eq!(
            without_statements(text, &BTreeSet::from([0, 1])).unwrap(),
            None
        );
        let single = r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*"}}"#;
        assert_eq!(
            without_statements(single, &BTreeSet::from([0])).unwrap(),
            None
        );
        assert!(without_statements("not json", &BTreeSet::from([0])).is_err());
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(fnv(&["a", "b"]), fnv(&["a", "b"]));
        assert_ne!(fnv(&["ab", ""]), fnv(&["a", "b"]));
    }
}
