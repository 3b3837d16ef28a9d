//! `ECR016` `replication-untrusted-destination`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, declare_rule};
use ecrguard_iam::principal::SELF_ACCOUNT;

declare_rule! {
    /// ## What it does
    /// Flags registry replication rules (`aws_ecr_replication_configuration`,
    /// `AWS::ECR::ReplicationConfiguration`, Crossplane `ReplicationConfiguration`,
    /// `ecr:DescribeRegistry` on live accounts) that copy
    /// images to a registry of an account that is neither the owner nor in `trusted-accounts`.
    /// The finding names the destination account and region and the repositories the rule
    /// copies (its prefix filters, or every repository).
    ///
    /// ## Why is this bad?
    /// Replication copies every image pushed to a matching repository, continuously, into a
    /// registry the owner does not control: whoever holds that account can pull, re-tag or
    /// publish the images, and their policies and scanning no longer apply. A replication rule
    /// added by mistake, or by someone who can change the registry configuration, moves the
    /// images out of the trust boundary without any repository policy changing.
    ///
    /// ## Example
    /// ```hcl
    /// resource "aws_ecr_replication_configuration" "dr" {
    ///   replication_configuration {
    ///     rule {
    ///       destination {
    ///         region      = "eu-west-1"
    ///         registry_id = "999999999999"
    ///       }
    ///     }
    ///   }
    /// }
    /// ```
    /// Use instead: a destination in the owner's account or an account listed in
    /// `trusted-accounts`, with `repository_filter` prefixes limited to what must be copied.
    ///
    /// ## How to fix
    /// - Terraform: change `registry_id`, or remove the rule.
    /// - CLI: `aws ecr put-replication-configuration --replication-configuration file://rules.json`.
    /// - Console: Amazon ECR > Private registry > Replication.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html>
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions.html>
    ReplicationUntrustedDestination {
        code: "ECR016",
        name: "replication-untrusted-destination",
        severity: High,
        category: Exposure,
        summary: "Registry replication copies images to an account that is not trusted",
        compliance: ["AWS WA SEC03-BP07", "NIST 800-53 r5 AC-4", "NIST 800-53 r5 SC-7"],
        sources: [Terraform, CloudFormation, Kubernetes, Aws],
    }
}

impl Rule for ReplicationUntrustedDestination {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for replication in &cx.state.replications {
            let Some(rules) = replication.rules.known() else {
                continue;
            };
            let owner = replication
                .account
                .as_deref()
                .or(cx.settings.owner_account.as_deref());
            for (i, rule) in rules.iter().enumerate() {
                for dest in &rule.destinations {
                    // An unknown destination is not evaluated, never reported.
                    let Some(account) = dest.registry_id.known() else {
                        continue;
                    };
                    if account == SELF_ACCOUNT
                        || Some(account.as_str()) == owner
                        || cx.settings.is_trusted_account(account, owner)
                    {
                        continue;
                    }
                    let region = dest
                        .region
                        .known()
                        .map_or_else(|| "an unknown region".to_string(), |r| format!("`{r}`"));
                    let what = if rule.filters.is_empty() {
                        "every repository".to_string()
                    } else {
                        format!(
                            "repositories starting with {}",
                            rule.filters
                                .iter()
                                .map(|f| format!("`{f}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    };
                    cx.report(
                        &replication.id,
                        format!(
                            "Replication rule #{i} of `{}` copies the images of {what} to account `{account}` in {region}, which is neither this account nor a trusted one",
                            replication.id
                        ),
                    )
                    .at(dest.origin.clone())
                    .key(format!("{account} {region} {what}"))
                    .help("Replicate only to the owner's or a trusted account (`trusted-accounts`), or remove the rule")
                    .emit();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Settings;
    use crate::check;
    use ecrguard_model::*;

    fn state(destination: &str, filters: &[&str]) -> EcrState {
        let mut db = SourceDb::default();
        let o = Origin::File(db.add("main.tf", ""));
        EcrState {
            replications: vec![Replication {
                id: ResourceId::Terraform("aws_ecr_replication_configuration.dr".into()),
                account: None,
                region: None,
                origin: o.clone(),
                rules: Value::Set(
                    vec![ReplicationRule {
                        origin: o.clone(),
                        destinations: vec![ReplicationDestination {
                            origin: o.clone(),
                            region: Value::Set("eu-west-1".into(), o.clone()),
                            registry_id: if destination == "?" {
                                Value::Unknown("var.account".into(), o.clone())
                            } else {
                                Value::Set(destination.into(), o.clone())
                            },
                        }],
                        filters: filters.iter().map(|f| (*f).to_string()).collect(),
                    }],
                    o,
                ),
            }],
            ..EcrState::default()
        }
    }

    fn messages(s: &EcrState, settings: &Settings) -> Vec<String> {
        check(s, settings)
            .into_iter()
            .filter(|f| f.rule.code == "ECR016")
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn foreign_destinations_fail_own_trusted_and_unknown_pass() {
        let settings = Settings {
            owner_account: Some("111111111111".into()),
            trusted_accounts: ["222222222222".to_string()].into(),
            ..Settings::default()
        };
        let m = messages(&state("999999999999", &["prod/"]), &settings);
        assert_eq!(m.len(), 1);
        assert!(
            m[0].contains("`999999999999`")
                && m[0].contains("`eu-west-1`")
                && m[0].contains("`prod/`"),
            "{m:?}"
        );
        assert!(messages(&state("999999999999", &[]), &settings)[0].contains("every repository"));
        for passing in ["111111111111", "222222222222", "self", "?"] {
            assert!(
                messages(&state(passing, &[]), &settings).is_empty(),
                "{passing}"
            );
        }
    }
}
