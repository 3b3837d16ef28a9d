//! Findings: what rules report.

use crate::rule::{RuleMeta, Severity};
use ecrguard_model::{Assumption, Origin, ResourceId, SourceDb};

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
    /// A fingerprint in the baseline file (`--baseline`): known when it was recorded.
    Baseline,
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
    /// What tells this finding from others of its rule on the same resource and statement
    /// (a replication destination, the identity a shared policy is attached to), in stable
    /// words: part of the fingerprint, never shown.
    pub key: Option<String>,
    /// 0 for the first finding with this rule, resource, statement and key; 1, 2... for the
    /// next ones in the order the rule reported them (set once all rules have run).
    pub occurrence: u32,
    /// The conditions the finding holds under (a branch of a CloudFormation policy with an
    /// undecided `Fn::If`); empty when it holds as written.
    pub assumes: Vec<Assumption>,
}

impl Finding {
    /// The ARN the finding is about (its repository's, else its resource's), when it has one:
    /// live findings.
    #[must_use]
    pub fn arn(&self) -> Option<&str> {
        [self.repository.as_ref(), Some(&self.resource)]
            .into_iter()
            .flatten()
            .find_map(|id| match id {
                ResourceId::Arn(a) => Some(a.as_str()),
                _ => None,
            })
    }

    /// The file that scopes the resource's name: a CloudFormation logical id or a Kubernetes
    /// object is named within the file that declares it (two templates may both have `Repo`);
    /// a Terraform address (with its root) and an ARN name the resource on their own.
    #[must_use]
    pub fn scope_file(&self) -> Option<ecrguard_model::FileId> {
        match self.resource {
            ResourceId::CloudFormation(_) | ResourceId::Kubernetes(_) => {
                self.origin.as_ref().and_then(Origin::file)
            }
            _ => None,
        }
    }

    /// A stable fingerprint: the rule, the resource's identity (a Terraform address with its
    /// root; a CloudFormation logical id or a Kubernetes object with the file that declares
    /// it, which scopes the name; an ARN) with the conditions the finding assumes, the
    /// statement (`Sid`, else its index), the key and the occurrence. Never the message, the
    /// line or the column: rewording a message, a count in it changing, or moving a resource
    /// keeps it.
    #[must_use]
    pub fn fingerprint(&self, sources: &SourceDb) -> String {
        let stmt = self.statement.as_ref().map_or(String::new(), |s| {
            s.sid
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| format!("#{}", s.index))
        });
        let scope = self.scope_file().map_or("", |f| {
            let path = sources.get(f).path.as_str();
            path.strip_prefix("./").unwrap_or(path)
        });
        let occurrence = if self.occurrence == 0 {
            String::new()
        } else {
            self.occurrence.to_string()
        };
        // Assumptions join the resource as `Repo [IsPublic=true]`: the words fingerprints had
        // when a branch was told by its label, so alerts raised then stay the same alerts.
        let resource = if self.assumes.is_empty() {
            self.resource.label().to_string()
        } else {
            format!(
                "{} [{}]",
                self.resource.label(),
                Assumption::describe(&self.assumes)
            )
        };
        fnv1a(&[
            self.rule.code,
            scope,
            &resource,
            &stmt,
            self.key.as_deref().unwrap_or(""),
            &occurrence,
        ])
    }
}

/// FNV-1a over NUL-separated parts, as 16 hex digits: stable across runs, versions and
/// platforms, unlike `DefaultHasher`.
fn fnv1a(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        let sep: &[u8] = if i == 0 { b"" } else { b"\0" };
        for b in sep.iter().chain(part.as_bytes()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Numbers findings that share rule, resource, statement and key, in reporting order, so each
/// has its own fingerprint.
pub fn number_occurrences(findings: &mut [Finding]) {
    // What the fingerprint is made of, but the occurrence: two templates that both declare
    // `Repo` are two resources, and numbering them together made one template's fingerprints
    // depend on which other templates were scanned.
    type Identity<'f> = (
        &'f str,
        Option<ecrguard_model::FileId>,
        &'f ResourceId,
        &'f [Assumption],
        Option<&'f StatementRef>,
        Option<&'f str>,
    );
    let mut seen: std::collections::HashMap<Identity<'_>, u32> = std::collections::HashMap::new();
    let numbers: Vec<u32> = findings
        .iter()
        .map(|f| {
            let n = seen
                .entry((
                    f.rule.code,
                    f.scope_file(),
                    &f.resource,
                    &f.assumes,
                    f.statement.as_ref(),
                    f.key.as_deref(),
                ))
                .or_insert(0);
            *n += 1;
            *n - 1
        })
        .collect();
    for (f, n) in findings.iter_mut().zip(numbers) {
        f.occurrence = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry;
    use ecrguard_model::{SourceDb, Span, TerraformAddress};

    fn finding(resource: ResourceId, origin: Option<Origin>, message: &str) -> Finding {
        Finding {
            rule: registry::find("ECR002").unwrap().meta(),
            severity: crate::Severity::Critical,
            message: message.into(),
            resource,
            repository: None,
            origin,
            statement: Some(StatementRef {
                index: 0,
                sid: Some("Public".into()),
            }),
            notes: Vec::new(),
            help: None,
            suppression: None,
            key: None,
            occurrence: 0,
            assumes: Vec::new(),
        }
    }

    #[test]
    fn a_logical_id_in_two_templates_is_two_resources_numbered_apart() {
        let mut db = SourceDb::default();
        let a = db.add("a/stack.yaml", "x".repeat(100));
        let b = db.add("b/stack.yaml", "x".repeat(100));
        let at = |file| {
            Some(Origin::Span {
                file,
                span: Span::new(0, 5),
            })
        };
        let repo = || ResourceId::CloudFormation("Repo".into());
        let mut both = vec![finding(repo(), at(a), ""), finding(repo(), at(b), "")];
        number_occurrences(&mut both);
        assert_eq!((both[0].occurrence, both[1].occurrence), (0, 0));
        // b's finding is the same whether or not a's template is scanned with it.
        let mut alone = vec![finding(repo(), at(b), "")];
        number_occurrences(&mut alone);
        assert_eq!(alone[0].fingerprint(&db), both[1].fingerprint(&db));
        // Twice on one resource of one template: still told apart by order.
        let mut twice = vec![finding(repo(), at(a), ""), finding(repo(), at(a), "")];
        number_occurrences(&mut twice);
        assert_eq!((twice[0].occurrence, twice[1].occurrence), (0, 1));
    }

    #[test]
    fn branches_of_a_conditional_policy_are_findings_of_their_own_with_stable_fingerprints() {
        let mut db = SourceDb::default();
        let file = db.add("stack.yaml", "x".repeat(100));
        let at = Some(Origin::Span {
            file,
            span: Span::new(0, 5),
        });
        let branch = |holds: bool| {
            let mut f = finding(ResourceId::CloudFormation("Repo".into()), at.clone(), "");
            f.assumes = vec![Assumption {
                condition: "Open".into(),
                holds,
            }];
            f
        };
        let mut both = vec![branch(true), branch(false)];
        number_occurrences(&mut both);
        // Two branches of one statement: two findings, neither a repeat of the other.
        assert_eq!((both[0].occurrence, both[1].occurrence), (0, 0));
        assert_ne!(both[0].fingerprint(&db), both[1].fingerprint(&db));
        // As when the branch was told by the resource's label: alerts raised then stay.
        let labelled = finding(
            ResourceId::CloudFormation("Repo [Open=true]".into()),
            at.clone(),
            "",
        );
        assert_eq!(both[0].fingerprint(&db), labelled.fingerprint(&db));
        // Without assumptions, the resource as written.
        let plain = finding(ResourceId::CloudFormation("Repo".into()), at, "");
        assert_ne!(plain.fingerprint(&db), both[0].fingerprint(&db));
    }

    #[test]
    fn the_fingerprint_ignores_wording_and_place_and_tells_roots_files_and_keys_apart() {
        let mut db = SourceDb::default();
        let main = db.add("main.tf", "x".repeat(100));
        let other = db.add("./stacks/b.yaml", "x".repeat(100));
        let stack_a = db.add("stacks/a.yaml", "x".repeat(100));
        let at = |file, start| {
            Some(Origin::Span {
                file,
                span: Span::new(start, start + 5),
            })
        };
        let tf = |root: &str| {
            ResourceId::Terraform(TerraformAddress::in_root(
                root,
                "aws_ecr_repository_policy.app",
            ))
        };
        let base = finding(tf(""), at(main, 3), "allows anyone to call 3 actions");
        let fp = base.fingerprint(&db);
        // Reworded, a count changed, moved: the same finding.
        let moved = finding(
            tf(""),
            at(main, 60),
            "allows anyone (`*`) to call 4 actions",
        );
        assert_eq!(moved.fingerprint(&db), fp);
        // Another root, another statement, another rule: another finding.
        assert_ne!(
            finding(tf("examples/simple"), at(main, 3), "").fingerprint(&db),
            fp
        );
        let mut by_index = finding(tf(""), at(main, 3), "");
        by_index.statement = Some(StatementRef {
            index: 0,
            sid: None,
        });
        assert_ne!(by_index.fingerprint(&db), fp);
        let mut other_rule = base.clone();
        other_rule.rule = registry::find("ECR004").unwrap().meta();
        assert_ne!(other_rule.fingerprint(&db), fp);
        // A logical id is scoped by its template's path (a leading `./` aside).
        let cfn = |file| finding(ResourceId::CloudFormation("Repo".into()), at(file, 0), "");
        assert_ne!(cfn(other).fingerprint(&db), cfn(stack_a).fingerprint(&db));
        let mut db2 = SourceDb::default();
        let same_b = db2.add("stacks/b.yaml", String::new());
        assert_eq!(
            cfn(other).fingerprint(&db),
            finding(ResourceId::CloudFormation("Repo".into()), at(same_b, 0), "").fingerprint(&db2)
        );
        // Keys, and failing those the order of reporting, tell apart several findings of one
        // rule on one resource and statement.
        let mut many = vec![base.clone(), base.clone(), base.clone()];
        many[0].key = Some("111111111111 eu-west-1".into());
        number_occurrences(&mut many);
        assert_eq!(
            many.iter().map(|f| f.occurrence).collect::<Vec<_>>(),
            [0, 0, 1]
        );
        let prints: std::collections::BTreeSet<String> =
            many.iter().map(|f| f.fingerprint(&db)).collect();
        assert_eq!(prints.len(), 3);
        assert!(
            prints.contains(&fp),
            "the first unkeyed one keeps the plain fingerprint"
        );
    }
}
