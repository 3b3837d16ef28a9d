//! `ECR003` `repository-policy-cross-account`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, Severity, declare_rule};
use crate::rules::granted_actions;
use ecrguard_iam::analysis::Party;
use ecrguard_iam::catalog::{self, ActionClass};
use ecrguard_model::PolicyOwner;
use std::collections::BTreeSet;

declare_rule! {
    /// ## What it does
    /// Flags repository policy statements that grant access to accounts, organizations or
    /// principals outside the owner account and the configured trusted accounts
    /// (`--trusted-account`, `trusted-accounts` in `ecrguard.toml`) and organizations
    /// (`--trusted-org`). Parties are found the way IAM Access Analyzer finds them: named
    /// principals, and `*` narrowed by `aws:PrincipalAccount`, `aws:PrincipalArn`,
    /// `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`, `aws:userid` or `aws:Source*` conditions.
    ///
    /// ## Why is this bad?
    /// Every external account granted access widens who can pull your images and, with
    /// write actions, who can change what your workloads run. Grants outlive the business
    /// relationship that justified them; an account id in a policy is easy to forget.
    ///
    /// ## Example
    /// ```json
    /// {"Version": "2012-10-17", "Statement": [{"Sid": "Partner", "Effect": "Allow",
    ///   "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
    ///   "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}
    /// ```
    /// Use instead: list `222222222222` as trusted if the grant is intended, or remove it.
    ///
    /// ## How to fix
    /// - Terraform: drop the account from `principals.identifiers`, or add it to
    ///   `trusted-accounts` in `ecrguard.toml` when the grant is intended.
    /// - CLI: `aws ecr set-repository-policy --repository-name NAME --policy-text file://fixed.json`.
    /// - Console: Amazon ECR > Repositories > NAME > Permissions > Edit.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html>
    /// - <https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-findings.html>
    RepositoryPolicyCrossAccount {
        code: "ECR003",
        name: "repository-policy-cross-account",
        severity: Medium,
        category: Exposure,
        summary: "Repository policy grants access to accounts outside the trusted set",
        compliance: ["AWS WA SEC03-BP07", "NIST 800-53 r5 AC-3", "NIST 800-53 r5 AC-21", "NIST 800-53 r5 SC-7"],
        sources: [Policy, Terraform, CloudFormation, Kubernetes, Aws],
    }
}

impl Rule for RepositoryPolicyCrossAccount {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for p in cx.policies_of(|o| matches!(o, PolicyOwner::Repository(_))) {
            for sa in &p.analysis.statements {
                let st = &p.doc.policy.statements[sa.index];
                for (party, names) in &sa.grants {
                    // `*` is ECR002's, unscoped services ECR015's, network-only grants are not
                    // cross-account findings.
                    if matches!(
                        party,
                        Party::Everyone | Party::Network(_) | Party::Service(_)
                    ) || !p.is_untrusted(party, cx.settings)
                    {
                        continue;
                    }
                    let classes: BTreeSet<ActionClass> = names
                        .iter()
                        .filter_map(|n| catalog::find(n))
                        .map(|a| a.class)
                        .collect();
                    let who = match party {
                        Party::Org(o) => format!("organization `{o}`"),
                        Party::Unidentified(u) => {
                            format!("`{u}` (its account cannot be read off the policy)")
                        }
                        other => format!("account `{other}`"),
                    };
                    let mut f = cx.report_statement(p, st, format!("Statement {} of the {} policy grants {who} {}", st.label(), p.subject(), granted_actions(st, names)))
                        .help("Remove the grant, or list the party as trusted (`--trusted-account`, `--trusted-org`) if it is intended");
                    if classes.iter().any(|c| *c >= ActionClass::Write) {
                        f = f.escalate(Severity::High).note(format!(
                            "the grant includes {} rights",
                            classes
                                .iter()
                                .filter(|c| **c >= ActionClass::Write)
                                .map(|c| c.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                    if p.owner_account.is_none() && matches!(party, Party::Account(_)) {
                        f = f.note("the owner account is unknown; pass `--owner-account` so the owner's own grants are not reported");
                    }
                    f.emit();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Severity;
    use crate::rules::testing::*;

    const POLICY: &str = r#"{"Statement":[
        {"Sid":"Own","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"ecr:*"},
        {"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"ecr:BatchGetImage"},
        {"Sid":"Writer","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:role/ci"},"Action":"ecr:PutImage"},
        {"Sid":"Org","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}"#;

    #[test]
    fn flags_untrusted_parties_only() {
        let s = repo_with_policy(POLICY);
        let f = codes(&s, &owner(), "ECR003");
        let msgs: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(f.len(), 3, "{msgs:?}");
        assert!(msgs[0].contains("`222222222222`"));
        assert_eq!(
            f[1].severity,
            Severity::High,
            "write to a foreign account escalates"
        );
        assert!(msgs[2].contains("organization `o-abc123`"));

        let mut trusted = owner();
        trusted.trusted_accounts.insert("222222222222".into());
        trusted.trusted_accounts.insert("333333333333".into());
        trusted.trusted_orgs.insert("o-abc123".into());
        assert!(codes(&s, &trusted, "ECR003").is_empty());
    }

    #[test]
    fn unknown_owner_reports_every_account_with_a_note() {
        let s = repo_with_policy(POLICY);
        let f = codes(&s, &crate::Settings::default(), "ECR003");
        assert_eq!(f.len(), 4);
        assert!(f[0].notes.iter().any(|n| n.contains("--owner-account")));
    }
}
