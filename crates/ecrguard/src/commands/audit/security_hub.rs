//! `audit --security-hub`: the audit's findings imported into AWS Security Hub, in each
//! audited account (through the role that read it) and region; findings imported before and
//! no longer reported are archived. What it did goes to standard error, every finding Security
//! Hub did not take listed.

use ecrguard_aws::sdk::Timeouts;
use ecrguard_aws::security_hub::{SdkSecurityHub, finding_of_asff, resolved};
use ecrguard_report::ScanReport;
use ecrguard_report::asff::{AsffOptions, finding};
use serde_json::Value;
use std::collections::BTreeSet;

/// One account and region to bring up to date.
pub(crate) struct Target<'a> {
    pub(crate) account: String,
    pub(crate) role: Option<&'a str>,
    pub(crate) region: &'a str,
}

/// What happened, for the exit code: `false` when anything could not be imported or read.
pub(crate) async fn export(
    report: &ScanReport<'_>,
    targets: &[Target<'_>],
    profile: Option<&str>,
    timeouts: Timeouts,
    max_attempts: u32,
    now: &str,
    say: &mut dyn FnMut(&str),
) -> bool {
    let opts = AsffOptions {
        account: None,
        region: None,
        now: now.to_string(),
    };
    let all: Vec<Value> = report
        .findings
        .iter()
        .map(|f| finding(report, f, &opts))
        .collect();
    let mut complete = true;
    for t in targets {
        let product = format!(
            "arn:aws:securityhub:{}:{}:product/{}/default",
            t.region, t.account, t.account
        );
        let mut current = Vec::new();
        let mut ids = BTreeSet::new();
        for v in all.iter().filter(|v| v["ProductArn"] == product.as_str()) {
            match finding_of_asff(v) {
                Ok(f) => {
                    ids.insert(f.id.clone().unwrap_or_default());
                    current.push(f);
                }
                Err(e) => {
                    complete = false;
                    say(&format!("security hub: {e}\n"));
                }
            }
        }
        let hub = SdkSecurityHub::connect(profile, t.role, t.region, timeouts, max_attempts).await;
        let sent = hub.import(current).await;
        let stale = match hub.active_findings(&product, "ecrguard/", &t.account).await {
            Ok(active) => active
                .into_iter()
                .filter(|f| !ids.contains(f.id.as_deref().unwrap_or_default()))
                .map(|f| resolved(f, now))
                .collect(),
            Err(e) => {
                complete = false;
                say(&format!(
                    "security hub {} {}: cannot read the findings imported before, none archived: {e}\n",
                    t.account, t.region
                ));
                Vec::new()
            }
        };
        let archived = hub.import(stale).await;
        say(&format!(
            "security hub {} {}: {} imported, {} archived (no longer found), {} failed\n",
            t.account,
            t.region,
            sent.imported,
            archived.imported,
            sent.failed.len() + archived.failed.len()
        ));
        for (id, why) in sent.failed.iter().chain(&archived.failed) {
            complete = false;
            say(&format!("  not imported: {id}: {why}\n"));
        }
    }
    complete
}
