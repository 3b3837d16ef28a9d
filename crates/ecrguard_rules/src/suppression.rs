//! Suppressions: `# ecrguard:ignore[ECR002] reason` comments (also `//`) on the finding's
//! line, on its resource's first line, or on the line above either; and `[[suppress]]`
//! entries of `ecrguard.toml`. A reason is required; `until=YYYY-MM-DD` sets an expiry.
//! Suppressed findings stay in the report; suppressions that are unused, expired or
//! malformed are findings of their own (ECR090-ECR092).

use crate::finding::{Finding, Suppression, SuppressionKind};
use crate::rule::{Category, RuleMeta, Severity, SourceKind};
use ecrguard_model::{FileId, Origin, ResourceId, SourceDb, Span};

/// `ECR090`: a suppression that matched nothing.
pub static SUPPRESSION_UNUSED: RuleMeta = RuleMeta {
    code: "ECR090",
    name: "suppression-unused",
    severity: Severity::Low,
    category: Category::Validity,
    summary: "Suppression matches no finding",
    docs: " ## What it does\n Flags an `ecrguard:ignore` comment or a `[[suppress]]` entry that suppressed nothing in this run.\n\n ## Why is this bad?\n A stale suppression hides the next real finding at that place, long after the reason for it is gone.\n\n ## Example\n ```hcl\n # ecrguard:ignore[ECR002] public mirror\n resource \"aws_ecr_repository\" \"private_app\" { name = \"app\" }\n ```\n\n ## How to fix\n - Terraform: delete the comment.\n - CLI: remove the `[[suppress]]` entry from `ecrguard.toml`.\n - Console: nothing to change in AWS; this is about ecrguard's own configuration.\n\n ## References\n - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html>\n",
    compliance: &[],
    sources: &[
        SourceKind::Terraform,
        SourceKind::CloudFormation,
        SourceKind::Kubernetes,
        SourceKind::Aws,
    ],
};

/// `ECR091`: a suppression past its `until` date.
pub static SUPPRESSION_EXPIRED: RuleMeta = RuleMeta {
    code: "ECR091",
    name: "suppression-expired",
    severity: Severity::Medium,
    category: Category::Validity,
    summary: "Suppression is past its expiry date",
    docs: " ## What it does\n Flags a suppression whose `until=` (comment) or `expires` (config) date has passed. An expired suppression no longer suppresses.\n\n ## Why is this bad?\n Expiry dates exist so that accepted risks are reviewed; an expired one means the review is due.\n\n ## Example\n ```hcl\n # ecrguard:ignore[ECR002] public mirror until=2024-01-01\n ```\n\n ## How to fix\n - Terraform: fix the finding, or renew the date after review.\n - CLI: update `expires` in `ecrguard.toml`.\n - Console: nothing to change in AWS; this is about ecrguard's own configuration.\n\n ## References\n - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html>\n",
    compliance: &[],
    sources: &[
        SourceKind::Terraform,
        SourceKind::CloudFormation,
        SourceKind::Kubernetes,
        SourceKind::Aws,
    ],
};

/// `ECR093`: a baseline entry that matched no finding.
pub static BASELINE_ENTRY_UNMATCHED: RuleMeta = RuleMeta {
    code: "ECR093",
    name: "baseline-entry-unmatched",
    severity: Severity::Low,
    category: Category::Validity,
    summary: "Baseline entry matches no finding",
    docs: " ## What it does\n Flags an entry of the baseline file (`--baseline`) whose fingerprint no finding of this run has.\n\n ## Why is this bad?\n The finding was fixed (good), or its resource was renamed or removed; either way the entry no longer hides anything, and a stale baseline hides the next finding that happens to take its fingerprint.\n\n ## Example\n A baseline recorded before `aws_ecr_repository_policy.mirror` was made private still lists its ECR002 finding.\n\n ## How to fix\n - Terraform: nothing to change in the code.\n - CLI: record the baseline again with `--write-baseline FILE`, or delete the entry.\n - Console: nothing to change in AWS; this is about ecrguard's own baseline.\n\n ## References\n - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html>\n",
    compliance: &[],
    sources: &[
        SourceKind::Terraform,
        SourceKind::CloudFormation,
        SourceKind::Kubernetes,
        SourceKind::Aws,
    ],
};

/// `ECR092`: a suppression ecrguard cannot read.
pub static SUPPRESSION_INVALID: RuleMeta = RuleMeta {
    code: "ECR092",
    name: "suppression-invalid",
    severity: Severity::Medium,
    category: Category::Validity,
    summary: "Suppression is malformed, has no reason, or names an unknown rule",
    docs: " ## What it does\n Flags `ecrguard:ignore` comments that ecrguard cannot read: no `[RULE]` list, an unknown rule, no reason, or a bad `until=` date. Such a comment suppresses nothing.\n\n ## Why is this bad?\n The author believes a finding is suppressed and documented; it is neither.\n\n ## Example\n ```hcl\n # ecrguard:ignore[ECR02]\n ```\n\n ## How to fix\n - Terraform: write `# ecrguard:ignore[ECR002] why this is accepted until=2027-01-01`.\n - CLI: `ecrguard rules` lists the codes.\n - Console: nothing to change in AWS; this is about ecrguard's own configuration.\n\n ## References\n - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html>\n",
    compliance: &[],
    sources: &[
        SourceKind::Terraform,
        SourceKind::CloudFormation,
        SourceKind::Kubernetes,
        SourceKind::Aws,
    ],
};

const MARKER: &str = "ecrguard:ignore";

/// One suppression comment: ecrguard's own, or another scanner's (honoured on request).
#[derive(Debug, Clone)]
struct Directive {
    file: FileId,
    line: usize,
    span: Span,
    rules: Vec<String>,
    reason: String,
    until: Option<String>,
    used: bool,
    scope: crate::peer_skips::Scope,
    /// A peer's skip: never reported unused (it may be for a check of its own).
    peer: bool,
}

/// What applying suppressions needs besides the findings and the entries.
pub struct ApplyOptions<'a> {
    /// Today, `YYYY-MM-DD`, for expiries.
    pub today: &'a str,
    /// Whether a code or name is a rule.
    pub known_rule: &'a dyn Fn(&str) -> bool,
    /// A repository's tags by ARN, when known.
    pub tags_of: &'a TagsOf<'a>,
    /// `--honor-peer-skips`: Checkov, Trivy, tfsec and KICS skips suppress the ecrguard rule
    /// their check maps to.
    pub honor_peer_skips: bool,
}

/// A peer skip that maps to no ecrguard rule: left alone, said where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSkipNote {
    /// The file.
    pub file: String,
    /// The line.
    pub line: usize,
    /// Why it is left alone.
    pub note: String,
}

/// A repository's tags by its ARN, when known.
pub type TagsOf<'a> = dyn Fn(&str) -> Option<Vec<(String, String)>> + 'a;

/// What a `[[suppress]]` entry asks of a live finding (every part given must hold): the
/// account and region of its ARN, its repository's name (a glob) and a tag of that
/// repository. A finding without an ARN, or whose repository's tags are not known, does not
/// match a selector that needs them: it stays reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveMatch {
    /// Account id.
    pub account: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Glob of repository names.
    pub repository: Option<String>,
    /// A tag the repository carries: (key, value).
    pub tag: Option<(String, String)>,
}

impl LiveMatch {
    /// Whether nothing is asked.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.account.is_none()
            && self.region.is_none()
            && self.repository.is_none()
            && self.tag.is_none()
    }

    fn matches(&self, f: &Finding, tags_of: &TagsOf<'_>) -> bool {
        if self.is_empty() {
            return true;
        }
        let arn_text = f.arn();
        let Some(arn) = arn_text.and_then(ecrguard_iam::principal::Arn::parse) else {
            return false;
        };
        let repository = arn
            .resource
            .strip_prefix("repository/")
            .filter(|_| arn.service == "ecr" || arn.service == "ecr-public");
        self.account.as_ref().is_none_or(|a| *a == arn.account)
            && self.region.as_ref().is_none_or(|r| *r == arn.region)
            && self.repository.as_ref().is_none_or(|glob| {
                repository.is_some_and(|name| ecrguard_iam::wildcard::matches(glob, name))
            })
            && self.tag.as_ref().is_none_or(|(k, v)| {
                repository.is_some()
                    && arn_text
                        .and_then(tags_of)
                        .is_some_and(|tags| tags.iter().any(|(tk, tv)| tk == k && tv == v))
            })
    }
}

/// A `[[suppress]]` entry of the config file.
#[derive(Debug, Clone)]
pub struct ConfigSuppression {
    /// Rule code or name.
    pub rule: String,
    /// Resource address, logical id, object, ARN, or a glob of them; any resource when `None`
    /// (then `live` says which).
    pub resource: Option<String>,
    /// What a live finding must also be.
    pub live: LiveMatch,
    /// Why (required by the config parser).
    pub reason: String,
    /// Expiry, `YYYY-MM-DD`.
    pub expires: Option<String>,
    /// Where it is written.
    pub origin: Origin,
    /// `Config` for `ecrguard.toml`; `InSource` for suppressions written in a template's
    /// resource `Metadata`.
    pub kind: SuppressionKind,
}

impl ConfigSuppression {
    /// What the entry matches, for messages: `` `aws_ecr_repository.app` ``, `` account
    /// `111111111111`, repositories `team-*` ``.
    #[must_use]
    pub fn target(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = &self.resource {
            parts.push(format!("`{r}`"));
        }
        if let Some(a) = &self.live.account {
            parts.push(format!("account `{a}`"));
        }
        if let Some(r) = &self.live.region {
            parts.push(format!("region `{r}`"));
        }
        if let Some(r) = &self.live.repository {
            parts.push(format!("repositories `{r}`"));
        }
        if let Some((k, v)) = &self.live.tag {
            parts.push(format!("tag `{k}={v}`"));
        }
        parts.join(", ")
    }
}

fn valid_date(s: &str) -> bool {
    crate::dates::is_date(s)
}

/// Parses the text after the marker: `[ECR002, repository-policy-public] reason until=DATE`.
fn parse_directive(
    rest: &str,
    known: &dyn Fn(&str) -> bool,
) -> Result<(Vec<String>, String, Option<String>), String> {
    let rest = rest.trim_start();
    let Some(inner) = rest.strip_prefix('[') else {
        return Err("expected `[RULE, ...]` after `ecrguard:ignore`".into());
    };
    let Some(close) = inner.find(']') else {
        return Err("missing `]`".into());
    };
    let rules: Vec<String> = inner[..close]
        .split(',')
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    if rules.is_empty() {
        return Err("no rule named".into());
    }
    if let Some(bad) = rules.iter().find(|r| !known(r)) {
        return Err(format!("unknown rule `{bad}`"));
    }
    let mut reason_words = Vec::new();
    let mut until = None;
    for word in inner[close + 1..].split_whitespace() {
        if let Some(d) = word.strip_prefix("until=") {
            if !valid_date(d) {
                return Err(format!("`until={d}` is not a YYYY-MM-DD date"));
            }
            until = Some(d.to_string());
        } else {
            reason_words.push(word);
        }
    }
    let reason = reason_words
        .join(" ")
        .trim_start_matches(['-', ':'])
        .trim()
        .to_string();
    if reason.is_empty() {
        return Err("a reason is required after `]`".into());
    }
    Ok((rules, reason, until))
}

fn block_start(text_lines: &[&str], line: usize) -> Option<usize> {
    // The resource that holds the line: an HCL `resource`/`data`/`module` block, or a
    // CloudFormation logical id (two-space indented key).
    (1..=line).rev().find(|&l| {
        let t = text_lines.get(l - 1).copied().unwrap_or("");
        let trimmed = t.trim_start();
        let hcl = (trimmed.starts_with("resource ")
            || trimmed.starts_with("data ")
            || trimmed.starts_with("module "))
            && t.len() == trimmed.len();
        let yaml = t.starts_with("  ")
            && !t.starts_with("   ")
            && trimmed.ends_with(':')
            && !trimmed.starts_with('#');
        hcl || yaml
    })
}

fn matches_rule(names: &[String], f: &Finding) -> bool {
    names
        .iter()
        .any(|r| r.eq_ignore_ascii_case(f.rule.code) || r.eq_ignore_ascii_case(f.rule.name))
}

/// Applies inline and config suppressions to `findings`, and appends findings about the
/// suppressions themselves; returns the peer skips left alone.
pub fn apply(
    findings: &mut Vec<Finding>,
    sources: &SourceDb,
    files: &[FileId],
    config: &[ConfigSuppression],
    opts: &ApplyOptions<'_>,
) -> Vec<PeerSkipNote> {
    let (today, known_rule, tags_of) = (opts.today, opts.known_rule, opts.tags_of);
    let mut directives = Vec::new();
    let mut meta_findings = Vec::new();
    let mut notes = Vec::new();
    for &file in files {
        let src = sources.get(file);
        if opts.honor_peer_skips {
            peer_directives(sources, file, &mut directives, &mut notes);
        }
        if !src.text.contains(MARKER) {
            continue;
        }
        // Only real comments suppress: the marker in a string or heredoc is the input's data.
        let comments =
            crate::comments::comment_starts(&src.text, crate::comments::Syntax::of(&src.path));
        let mut offset = 0;
        for (i, line) in src.text.split_inclusive('\n').enumerate() {
            let start = offset;
            offset += line.len();
            let Some(at) = line.find(MARKER) else {
                continue;
            };
            let before = line[..at].trim_end();
            if !(before.ends_with('#') || before.ends_with("//")) {
                continue;
            }
            let in_comment = comments.iter().any(|&c| {
                (start..start + at).contains(&c)
                    && src.text[c..start + at]
                        .trim_start_matches(['#', '/'])
                        .trim()
                        .is_empty()
            });
            if !in_comment {
                continue;
            }
            let span = Span::new(start + at, start + line.trim_end().len());
            match parse_directive(&line[at + MARKER.len()..], known_rule) {
                Ok((rules, reason, until)) => directives.push(Directive {
                    file,
                    line: i + 1,
                    span,
                    rules,
                    reason,
                    until,
                    used: false,
                    scope: crate::peer_skips::Scope::Above,
                    peer: false,
                }),
                Err(why) => meta_findings.push(meta(
                    &SUPPRESSION_INVALID,
                    ResourceId::Input(src.path.clone()),
                    Origin::Span { file, span },
                    format!("Suppression comment cannot be read: {why}"),
                    String::new(),
                )),
            }
        }
    }
    let mut config_used = vec![false; config.len()];
    for f in findings.iter_mut() {
        let Some(origin) = &f.origin else { continue };
        if let Some(file) = origin
            .file()
            .filter(|f| directives.iter().any(|d| d.file == *f))
            && let Some(loc) = sources.lines(origin)
        {
            let src = sources.get(file);
            let lines: Vec<&str> = src.text.lines().collect();
            let mut candidates = vec![loc.start_line, loc.start_line.saturating_sub(1)];
            let block = block_start(&lines, loc.start_line);
            if let Some(b) = block {
                candidates.extend([b, b.saturating_sub(1)]);
            }
            let covers = |d: &Directive| {
                use crate::peer_skips::Scope;
                match d.scope {
                    Scope::Above => candidates.contains(&d.line),
                    Scope::InBlock => {
                        candidates.contains(&d.line)
                            || (block.is_some() && block_start(&lines, d.line) == block)
                    }
                    Scope::NextLine => loc.start_line == d.line + 1,
                    Scope::NextBlock => block == Some(d.line + 1),
                    Scope::File => true,
                }
            };
            let mut applied = None;
            for d in directives
                .iter_mut()
                .filter(|d| d.file == file && covers(d) && matches_rule(&d.rules, f))
            {
                d.used = true;
                if d.until.as_deref().is_some_and(|u| u < today) {
                    continue;
                }
                applied = Some(Suppression {
                    kind: SuppressionKind::InSource,
                    reason: d.reason.clone(),
                    until: d.until.clone(),
                });
            }
            if applied.is_some() {
                f.suppression = applied;
            }
        }
        if f.suppression.is_some() {
            continue;
        }
        for (i, c) in config.iter().enumerate() {
            // A Terraform resource matches by its address with or without its root.
            let resource_hit = c.resource.as_ref().is_none_or(|glob| {
                [
                    f.resource.label(),
                    f.resource.address(),
                    f.repository.as_ref().map_or("", ResourceId::label),
                    f.repository.as_ref().map_or("", ResourceId::address),
                ]
                .iter()
                .any(|r| !r.is_empty() && ecrguard_iam::wildcard::matches(glob, r))
            });
            if resource_hit
                && c.live.matches(f, tags_of)
                && (c.rule.eq_ignore_ascii_case(f.rule.code)
                    || c.rule.eq_ignore_ascii_case(f.rule.name))
            {
                config_used[i] = true;
                if c.expires.as_deref().is_some_and(|e| e < today) {
                    continue;
                }
                f.suppression = Some(Suppression {
                    kind: c.kind,
                    reason: c.reason.clone(),
                    until: c.expires.clone(),
                });
                break;
            }
        }
    }
    for d in directives {
        let path = sources.get(d.file).path.clone();
        let origin = Origin::Span {
            file: d.file,
            span: d.span,
        };
        if let Some(until) = d.until.as_deref().filter(|u| *u < today) {
            meta_findings.push(meta(
                &SUPPRESSION_EXPIRED,
                ResourceId::Input(path),
                origin,
                format!("Suppression of {} expired on {until}", d.rules.join(", ")),
                d.rules.join(","),
            ));
        } else if !d.used && !d.peer {
            meta_findings.push(meta(
                &SUPPRESSION_UNUSED,
                ResourceId::Input(path),
                origin,
                format!("Suppression of {} matches no finding", d.rules.join(", ")),
                d.rules.join(","),
            ));
        }
    }
    for (c, used) in config.iter().zip(config_used) {
        let id = ResourceId::Input(c.resource.clone().unwrap_or_else(|| c.target()));
        if let Some(e) = c.expires.as_deref().filter(|e| *e < today) {
            meta_findings.push(meta(
                &SUPPRESSION_EXPIRED,
                id,
                c.origin.clone(),
                format!(
                    "Configured suppression of `{}` on {} expired on {e}",
                    c.rule,
                    c.target()
                ),
                format!("{} {}", c.rule, c.target()),
            ));
        } else if !used {
            meta_findings.push(meta(
                &SUPPRESSION_UNUSED,
                id,
                c.origin.clone(),
                format!(
                    "Configured suppression of `{}` on {} matches no finding",
                    c.rule,
                    c.target()
                ),
                format!("{} {}", c.rule, c.target()),
            ));
        }
    }
    crate::finding::number_occurrences(&mut meta_findings);
    findings.extend(meta_findings);
    notes
}

/// Reads the peer skips in the comments of one file.
fn peer_directives(
    sources: &SourceDb,
    file: FileId,
    directives: &mut Vec<Directive>,
    notes: &mut Vec<PeerSkipNote>,
) {
    let src = sources.get(file);
    if !["checkov:", "trivy:", "tfsec:", "kics-scan"]
        .iter()
        .any(|m| src.text.contains(m))
    {
        return;
    }
    let comments =
        crate::comments::comment_starts(&src.text, crate::comments::Syntax::of(&src.path));
    for &c in &comments {
        let rest = &src.text[c..];
        let end = rest.find('\n').unwrap_or(rest.len());
        let body = rest[..end].trim_start_matches(['#', '/']).trim();
        let line = src.text[..c].matches('\n').count() + 1;
        match crate::peer_skips::read(body) {
            crate::peer_skips::Read::None => {}
            crate::peer_skips::Read::Unmapped(note) => notes.push(PeerSkipNote {
                file: src.path.clone(),
                line,
                note,
            }),
            crate::peer_skips::Read::Skip(s) => directives.push(Directive {
                file,
                line,
                span: Span::new(c, c + end),
                rules: s.rules.iter().map(|r| (*r).to_string()).collect(),
                reason: s.reason,
                until: s.until,
                used: false,
                scope: s.scope,
                peer: true,
            }),
        }
    }
}

/// A finding about a suppression that cannot be read (ECR092), for sources that carry
/// suppressions outside comments (a template's `Metadata`).
#[must_use]
pub fn invalid(resource: ResourceId, origin: Origin, message: String) -> Finding {
    meta(
        &SUPPRESSION_INVALID,
        resource,
        origin,
        message,
        String::new(),
    )
}

/// A finding about a suppression; `key` is what it suppresses (rule codes, and the resource
/// for a config entry), which tells apart several suppressions of one file.
fn meta(
    rule: &'static RuleMeta,
    resource: ResourceId,
    origin: Origin,
    message: String,
    key: String,
) -> Finding {
    Finding {
        rule,
        severity: rule.severity,
        message,
        resource,
        repository: None,
        origin: Some(origin),
        statement: None,
        notes: Vec::new(),
        help: None,
        suppression: None,
        key: Some(key),
        occurrence: 0,
        assumes: Vec::new(),
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`.
#[must_use]
pub fn today() -> String {
    crate::dates::today()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(valid_date("2027-01-31") && !valid_date("2027-13-01") && !valid_date("27-01-01"));
        assert!(!valid_date("2027-02-30"), "an impossible day is no date");
    }

    #[test]
    fn directive_grammar() {
        let known = |r: &str| r == "ECR002" || r == "repository-policy-public";
        assert_eq!(
            parse_directive("[ECR002] public mirror until=2027-01-01", &known).unwrap(),
            (
                vec!["ECR002".to_string()],
                "public mirror".to_string(),
                Some("2027-01-01".to_string())
            )
        );
        assert!(
            parse_directive("[ECR002]", &known)
                .unwrap_err()
                .contains("reason")
        );
        assert!(
            parse_directive("[ECR02] x", &known)
                .unwrap_err()
                .contains("unknown rule")
        );
        assert!(
            parse_directive("ECR002 x", &known)
                .unwrap_err()
                .contains("expected")
        );
        assert!(
            parse_directive("[ECR002] x until=tomorrow", &known)
                .unwrap_err()
                .contains("YYYY-MM-DD")
        );
    }
}
