//! Other scanners' inline skips, honoured on request (`--honor-peer-skips`,
//! `honor-peer-skips = true`): a team moving from Checkov, Trivy, tfsec or KICS keeps the
//! accepted risks it already wrote down. Each peer check maps to the ecrguard rule that judges
//! the same thing; a skip of a check that maps to nothing is left alone, with a note.
//!
//! - Checkov: `#checkov:skip=CKV_AWS_32[:reason]` inside the resource's block.
//! - Trivy and tfsec: `#trivy:ignore:AVD-AWS-0032[:exp:2027-01-01]` (also `AWS-0032` and the
//!   long id `aws-ecr-no-public-access`; tfsec writes `#tfsec:ignore:...`), above the resource
//!   or the attribute.
//! - KICS: `# kics-scan ignore-line` (the next line), `ignore-block` (the next block),
//!   `disable=<query id>,...` and `ignore` (the whole file).

/// Which lines a skip covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The line below, or the block it is written above (as `ecrguard:ignore`).
    Above,
    /// The block it is written in (Checkov).
    InBlock,
    /// The next line (KICS `ignore-line`).
    NextLine,
    /// The next block (KICS `ignore-block`).
    NextBlock,
    /// The whole file (KICS `disable=` and `ignore`).
    File,
}

/// One peer skip, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PeerSkip {
    /// The ecrguard rules it stands for.
    pub(crate) rules: Vec<&'static str>,
    /// How the peer wrote it, with its reason: shown as the suppression's reason.
    pub(crate) reason: String,
    /// Expiry, when the peer wrote one.
    pub(crate) until: Option<String>,
    pub(crate) scope: Scope,
}

/// What a comment's text says, if it is a peer skip: the skip, or why it is left alone.
pub(crate) enum Read {
    /// Not a peer skip.
    None,
    /// A skip of checks ecrguard judges too.
    Skip(PeerSkip),
    /// A skip of checks that map to nothing here: left alone, with this note.
    Unmapped(String),
}

/// The rules KICS's ECR queries correspond to (what `ignore-line` and friends cover).
const KICS_RULES: &[&str] = &["ECR001", "ECR002", "ECR010", "ECR011", "ECR012"];

/// The ecrguard rule a peer's check id corresponds to.
#[must_use]
pub(crate) fn rule_of(id: &str) -> Option<&'static str> {
    let id = id.trim().to_ascii_lowercase();
    let id = id.strip_prefix("avd-").unwrap_or(&id);
    Some(match id {
        // Checkov
        "ckv_aws_32" => "ECR002",
        "ckv_aws_51" => "ECR010",
        "ckv_aws_163" => "ECR011",
        "ckv_aws_136" => "ECR012",
        // Trivy (AVD ids) and tfsec / Trivy long ids
        "aws-0032" | "aws-ecr-no-public-access" => "ECR002",
        "aws-0031" | "aws-ecr-enforce-immutable-repository" => "ECR010",
        "aws-0030" | "aws-ecr-enable-image-scans" => "ECR011",
        "aws-0033" | "aws-ecr-repository-customer-key" => "ECR012",
        // KICS query ids, Terraform and CloudFormation
        "e86e26fc-489e-44f0-9bcd-97305e4ba69a" | "75be209d-1948-41f6-a8c8-e22dd0121134" => "ECR002",
        "d1846b12-20c5-4d45-8798-fc35b79268eb" | "33f41d31-86b1-46a4-81f7-9c9a671f59ac" => "ECR010",
        "9630336b-3fed-4096-8173-b9afdfe346a7" | "9025b2b3-e554-4842-ba87-db7aeec36d35" => "ECR011",
        "0e32d561-4b5a-4664-a6e3-a3fa85649157" | "77a92b0e-b578-4a2e-bb0d-3c53ec4cfb7e" => "ECR012",
        "69e7c320-b65d-41bb-be02-d63ecc0bcc9d" => "ECR001",
        _ => return None,
    })
}

/// Reads the text of one comment (after its `#` or `//`).
pub(crate) fn read(comment: &str) -> Read {
    let c = comment.trim();
    if let Some(rest) = c.strip_prefix("checkov:skip=") {
        let (id, reason) = rest.split_once(':').unwrap_or((rest, ""));
        let id = id.trim();
        return match rule_of(id) {
            Some(rule) => Read::Skip(PeerSkip {
                rules: vec![rule],
                reason: written(&format!("checkov:skip={id}"), reason),
                until: None,
                scope: Scope::InBlock,
            }),
            None => Read::Unmapped(format!("`checkov:skip={id}` names no check ecrguard maps")),
        };
    }
    for (tool, prefix) in [("trivy", "trivy:ignore:"), ("tfsec", "tfsec:ignore:")] {
        if let Some(rest) = c.strip_prefix(prefix) {
            let rest = rest.split_whitespace().next().unwrap_or("");
            let (id, until) = match rest.split_once(":exp:") {
                Some((id, date)) => (id, Some(date.to_string())),
                None => (rest, None),
            };
            if let Some(d) = &until
                && !crate::dates::is_date(d)
            {
                return Read::Unmapped(format!(
                    "`{prefix}{rest}`: `{d}` is not a YYYY-MM-DD date; the skip is not honoured"
                ));
            }
            return match rule_of(id) {
                Some(rule) => Read::Skip(PeerSkip {
                    rules: vec![rule],
                    reason: written(&format!("{tool}:ignore:{id}"), ""),
                    until,
                    scope: Scope::Above,
                }),
                None => Read::Unmapped(format!("`{prefix}{id}` names no check ecrguard maps")),
            };
        }
    }
    if let Some(rest) = c.strip_prefix("kics-scan") {
        let rest = rest.trim();
        let (scope, ids) = if rest == "ignore-line" {
            (Scope::NextLine, None)
        } else if rest == "ignore-block" {
            (Scope::NextBlock, None)
        } else if rest == "ignore" {
            (Scope::File, None)
        } else if let Some(list) = rest.strip_prefix("disable=") {
            (Scope::File, Some(list))
        } else {
            return Read::None;
        };
        let rules: Vec<&'static str> = match ids {
            None => KICS_RULES.to_vec(),
            Some(list) => {
                let ids: Vec<&str> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|i| !i.is_empty())
                    .collect();
                let mapped: Vec<&'static str> = ids.iter().filter_map(|i| rule_of(i)).collect();
                if mapped.is_empty() {
                    return Read::Unmapped(format!(
                        "`kics-scan disable={list}` names no query ecrguard maps"
                    ));
                }
                mapped
            }
        };
        return Read::Skip(PeerSkip {
            rules,
            reason: written(&format!("kics-scan {rest}"), ""),
            until: None,
            scope,
        });
    }
    Read::None
}

/// "skipped for another scanner: `checkov:skip=CKV_AWS_32` (public mirror)".
fn written(form: &str, reason: &str) -> String {
    match reason.trim() {
        "" => format!("skipped for another scanner: `{form}`"),
        r => format!("skipped for another scanner: `{form}` ({r})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip(c: &str) -> PeerSkip {
        match read(c) {
            Read::Skip(s) => s,
            _ => panic!("{c}: not a skip"),
        }
    }

    #[test]
    fn each_peer_form_maps_to_its_rule() {
        let s = skip("checkov:skip=CKV_AWS_32: public mirror");
        assert_eq!((s.rules, s.scope), (vec!["ECR002"], Scope::InBlock));
        assert_eq!(
            s.reason,
            "skipped for another scanner: `checkov:skip=CKV_AWS_32` (public mirror)"
        );
        for c in [
            "trivy:ignore:AVD-AWS-0031",
            "trivy:ignore:AWS-0031",
            "tfsec:ignore:aws-ecr-enforce-immutable-repository",
        ] {
            assert_eq!(skip(c).rules, ["ECR010"], "{c}");
        }
        let s = skip("trivy:ignore:aws-ecr-repository-customer-key:exp:2027-03-01");
        assert_eq!(
            (s.rules, s.until.as_deref()),
            (vec!["ECR012"], Some("2027-03-01"))
        );
        assert_eq!(skip("kics-scan ignore-line").scope, Scope::NextLine);
        assert_eq!(skip("kics-scan ignore-block").rules, KICS_RULES);
        let s = skip("kics-scan disable=9630336b-3fed-4096-8173-b9afdfe346a7,unknown");
        assert_eq!((s.rules, s.scope), (vec!["ECR011"], Scope::File));
    }

    #[test]
    fn unmapped_and_malformed_skips_are_left_alone_with_a_note() {
        for c in [
            "checkov:skip=CKV_AWS_999",
            "trivy:ignore:AVD-AWS-0099",
            "trivy:ignore:AWS-0032:exp:2027-02-30",
            "kics-scan disable=abc",
        ] {
            assert!(matches!(read(c), Read::Unmapped(_)), "{c}");
        }
        for c in [
            "checkov:skipping",
            "trivy is great",
            "kics-scan enable=x",
            "ecrguard:ignore[ECR002] x",
        ] {
            assert!(matches!(read(c), Read::None), "{c}");
        }
    }
}
