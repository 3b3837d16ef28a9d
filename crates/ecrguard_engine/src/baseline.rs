//! Baselines: `--write-baseline FILE` records the findings of a run by fingerprint, and
//! `--baseline FILE` makes those findings not count in later runs (they are reported as
//! baselined, like suppressed ones) while entries that match nothing any more are reported
//! (ECR093), as unused suppressions are.
//!
//! The file is JSON, versioned:
//!
//! ```json
//! {"version": 1, "tool": "ecrguard", "findings": [
//!   {"fingerprint": "3f0c...", "rule_id": "ECR002", "resource": "aws_ecr_repository_policy.mirror"}
//! ]}
//! ```
//!
//! Only `fingerprint` decides; `rule_id` and `resource` are there for the reader of a diff.
//! The file is input like any other: bounded in size, and a file that is not this shape is an
//! error, never an empty baseline.

use ecrguard_model::{Origin, ResourceId, SourceDb, Span};
use ecrguard_rules::suppression::BASELINE_ENTRY_UNMATCHED;
use ecrguard_rules::{Finding, Suppression, SuppressionKind};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The baseline format's version.
pub const VERSION: u64 = 1;

/// Largest baseline read: an entry is about 150 bytes, so this holds a quarter of a million.
const MAX_BASELINE_BYTES: u64 = 32 * 1024 * 1024;

/// One recorded finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// [`Finding::fingerprint`].
    pub fingerprint: String,
    /// For people: the rule.
    pub rule_id: String,
    /// For people: the resource.
    pub resource: String,
}

/// A loaded baseline.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Where it was read.
    pub path: PathBuf,
    /// Its text (unmatched entries point into it).
    pub text: String,
    /// Its entries, in file order.
    pub entries: Vec<Entry>,
}

/// Reads a baseline file.
///
/// # Errors
/// It cannot be read, is not JSON, is another version, or an entry has no fingerprint.
pub fn load(path: &Path) -> Result<Baseline, String> {
    let text = ecrguard_walk::input::read_text(
        path,
        MAX_BASELINE_BYTES,
        ecrguard_walk::input::Kinds::RegularOrPipe,
    )
    .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("`{}` is not a baseline: {e}", path.display()))?;
    match v.get("version").and_then(serde_json::Value::as_u64) {
        Some(VERSION) => {}
        Some(other) => {
            return Err(format!(
                "`{}` is a baseline of version {other}; this ecrguard reads version {VERSION}",
                path.display()
            ));
        }
        None => {
            return Err(format!(
                "`{}` is not a baseline: no `version`",
                path.display()
            ));
        }
    }
    let Some(list) = v.get("findings").and_then(serde_json::Value::as_array) else {
        return Err(format!(
            "`{}` is not a baseline: no `findings` list",
            path.display()
        ));
    };
    let mut entries = Vec::with_capacity(list.len());
    for (i, e) in list.iter().enumerate() {
        let text_of = |k: &str| {
            e.get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        };
        let Some(fingerprint) = text_of("fingerprint").filter(|f| is_fingerprint(f)) else {
            return Err(format!(
                "`{}`: entry {i} has no `fingerprint` of 16 hex digits",
                path.display()
            ));
        };
        entries.push(Entry {
            fingerprint,
            rule_id: text_of("rule_id").unwrap_or_default(),
            resource: text_of("resource").unwrap_or_default(),
        });
    }
    Ok(Baseline {
        path: path.to_path_buf(),
        text,
        entries,
    })
}

fn is_fingerprint(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The baseline text of `findings` (unsuppressed ones only: a suppressed finding already has
/// its reason written down), sorted by fingerprint so that re-recording gives a small diff.
#[must_use]
pub fn render(findings: &[Finding], sources: &SourceDb) -> String {
    let mut entries: Vec<serde_json::Value> = findings
        .iter()
        .filter(|f| f.suppression.is_none())
        .map(|f| {
            serde_json::json!({
                "fingerprint": f.fingerprint(sources),
                "rule_id": f.rule.code,
                "resource": f.resource.label(),
            })
        })
        .collect();
    entries.sort_by(|a, b| a["fingerprint"].as_str().cmp(&b["fingerprint"].as_str()));
    entries.dedup();
    let mut text = serde_json::to_string_pretty(&serde_json::json!({
        "version": VERSION,
        "tool": "ecrguard",
        "findings": entries,
    }))
    .unwrap_or_default();
    text.push('\n');
    text
}

impl Baseline {
    /// This baseline with the entries `findings` would record (unsuppressed ones).
    #[must_use]
    pub fn with_entries_of(mut self, findings: &[Finding], sources: &SourceDb) -> Self {
        self.entries = findings
            .iter()
            .filter(|f| f.suppression.is_none())
            .map(|f| Entry {
                fingerprint: f.fingerprint(sources),
                rule_id: f.rule.code.to_string(),
                resource: f.resource.label().to_string(),
            })
            .collect();
        self
    }

    /// Marks the unsuppressed findings the baseline lists as baselined, and adds an ECR093
    /// finding (pointing into the file, added to `sources`) for each entry that matched
    /// nothing.
    pub fn apply(&self, findings: &mut Vec<Finding>, sources: &mut SourceDb) {
        let mut used: HashMap<&str, bool> = self
            .entries
            .iter()
            .map(|e| (e.fingerprint.as_str(), false))
            .collect();
        let reason = format!("recorded in the baseline `{}`", self.path.display());
        for f in findings.iter_mut().filter(|f| f.suppression.is_none()) {
            let print = f.fingerprint(sources);
            if let Some(hit) = used.get_mut(print.as_str()) {
                *hit = true;
                f.suppression = Some(Suppression {
                    kind: SuppressionKind::Baseline,
                    reason: reason.clone(),
                    until: None,
                });
            }
        }
        let unmatched: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| used.get(e.fingerprint.as_str()) == Some(&false))
            .collect();
        if unmatched.is_empty() {
            return;
        }
        let file = sources.add(self.path.display().to_string(), self.text.clone());
        let mut stale = Vec::new();
        for e in unmatched {
            let origin = match self.text.find(&format!("\"{}\"", e.fingerprint)) {
                Some(at) => Origin::Span {
                    file,
                    span: Span::new(at, at + e.fingerprint.len() + 2),
                },
                None => Origin::File(file),
            };
            let what = if e.rule_id.is_empty() {
                String::new()
            } else {
                format!(" ({} on `{}`)", e.rule_id, e.resource)
            };
            stale.push(Finding {
                rule: &BASELINE_ENTRY_UNMATCHED,
                severity: BASELINE_ENTRY_UNMATCHED.severity,
                message: format!(
                    "Baseline entry `{}`{what} matches no finding",
                    e.fingerprint
                ),
                resource: ResourceId::Input(self.path.display().to_string()),
                repository: None,
                origin: Some(origin),
                statement: None,
                notes: Vec::new(),
                help: Some(
                    "Record the baseline again with `--write-baseline`, or delete the entry".into(),
                ),
                suppression: None,
                key: Some(e.fingerprint.clone()),
                occurrence: 0,
                assumes: Vec::new(),
            });
        }
        findings.extend(stale);
    }
}
