//! The deploy templates in `deploy/` stay deployable and least-privilege: cfn-lint passes on
//! every CloudFormation and SAM template, `ecrguard scan deploy/` is clean (its one accepted
//! risk suppressed inline, with its reason), the event patterns are the handler's, and every
//! IAM role grants exactly the calls the code makes, no more and no fewer.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn cfn_lint() -> PathBuf {
    if let Some(p) = std::env::var_os("ECRGUARD_CFN_LINT") {
        return PathBuf::from(p);
    }
    let venv = root().join(".venv-test/bin/cfn-lint");
    assert!(
        venv.exists(),
        "cfn-lint is missing: `bash scripts/test.sh` installs it into .venv-test"
    );
    venv
}

const TEMPLATES: &[&str] = &[
    "deploy/cloudformation/central.yaml",
    "deploy/cloudformation/member-stackset.yaml",
    "deploy/cloudformation/management.yaml",
    "deploy/cloudformation/org-audit.yaml",
    "deploy/sam/template.yaml",
];

#[test]
fn cfn_lint_passes_on_every_template() {
    let out = Command::new(cfn_lint())
        .args(["--format", "json"])
        .args(TEMPLATES.iter().map(|t| root().join(t)))
        .output()
        .expect("cfn-lint runs");
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "cfn-lint output: {e}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(findings, Value::Array(Vec::new()), "{findings:#}");
    assert!(out.status.success());
}

#[test]
fn ecrguard_scan_of_deploy_is_clean() {
    let out = Command::new(env!("CARGO_BIN_EXE_ecrguard"))
        .args(["scan", "--format", "json", "--strict"])
        .arg(root().join("deploy"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    let findings = v["findings"].as_array().unwrap();
    // The one accepted risk: a role that can rewrite repository policies (to take public
    // statements out), suppressed where it is granted, with the reason, in every template
    // and module that grants it.
    let mut granted_in: BTreeSet<String> = BTreeSet::new();
    for f in findings {
        assert_eq!(f["rule_id"], "ECR005", "{f:#}");
        let reason = f["suppressed"]["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("public statements out"), "{f:#}");
        granted_in.insert(f["location"]["file"].as_str().unwrap().to_string());
    }
    assert_eq!(granted_in.len(), 5, "{granted_in:?}");
    assert!(
        v["not_evaluated"].as_array().is_none_or(|n| n.is_empty()),
        "{v:#}"
    );
}

/// `service:Action` names written in a block of text.
fn actions_in(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == ':' || c == '-')) {
        if let Some((service, action)) = token.split_once(':')
            && matches!(
                service,
                "ecr"
                    | "ecr-public"
                    | "sts"
                    | "dynamodb"
                    | "sqs"
                    | "logs"
                    | "organizations"
                    | "events"
                    | "iam"
                    | "eks"
                    | "s3"
                    | "states"
                    | "lambda"
                    | "ec2"
                    | "securityhub"
            )
            && !action.is_empty()
            && action
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase())
            && action.chars().all(|c| c.is_ascii_alphabetic())
        {
            out.insert(token.to_string());
        }
    }
    out
}

/// A CloudFormation resource's text: from its logical id to the next line indented less
/// deeply than its properties (the next resource, or the next section).
fn cfn_resource(template: &str, logical_id: &str) -> String {
    let header = format!("  {logical_id}:");
    let mut lines = template.lines().skip_while(|l| *l != header);
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("no resource {logical_id}"));
    let mut out = vec![first];
    for line in lines {
        let indent = line.len() - line.trim_start().len();
        if !line.trim().is_empty() && indent <= 2 && !line.trim_start().starts_with('#') {
            break;
        }
        out.push(line);
    }
    out.join("\n")
}

/// A Terraform resource's text: from `resource "TYPE" "NAME"` to its closing brace.
fn tf_resource<'a>(module: &'a str, address: &str) -> &'a str {
    let (kind, name) = address.split_once('.').unwrap();
    let start = module
        .find(&format!("resource \"{kind}\" \"{name}\""))
        .unwrap_or_else(|| panic!("no {address}"));
    let rest = &module[start..];
    &rest[..rest.find("\n}\n").unwrap()]
}

/// The calls named in the doc comments of one trait of `ecrguard_aws::api`: each method's doc
/// names the AWS call it makes.
fn trait_calls(trait_name: &str) -> BTreeSet<String> {
    let api = read("crates/ecrguard_aws/src/api.rs");
    calls_documented_in(&api, &format!("pub trait {trait_name}"))
}

/// The calls named in the doc comments of the block that starts at `start` in `source`.
fn calls_documented_in(source: &str, start: &str) -> BTreeSet<String> {
    let body = source
        .split(start)
        .nth(1)
        .unwrap_or_else(|| panic!("no {start}"))
        .split("\n}\n")
        .next()
        .unwrap();
    let docs: String = body
        .lines()
        .filter(|l| l.trim_start().starts_with("///"))
        .collect::<Vec<_>>()
        .join("\n");
    actions_in(&docs)
}

/// What the remediation role (in a member account) and the handler in its own account call:
/// the reads of the live source and the enforcement writes, and what ECR checks besides the
/// named call.
fn ecr_calls() -> BTreeSet<String> {
    let mut calls = trait_calls("EcrApi");
    calls.extend(trait_calls("EcrWriteApi"));
    // An ECR Public event is judged on what ECR Public says of the repository.
    calls.extend(trait_calls("EcrPublicApi"));
    // ECR authorizes these as well: tags given to `CreateRepository` (a restore) need
    // `ecr:TagResource`; `DeleteRepository` with `force` needs `ecr:BatchDeleteImage`.
    calls.insert("ecr:TagResource".into());
    calls.insert("ecr:BatchDeleteImage".into());
    calls
}

/// What listing the organization calls: the doc comment of `SdkApi::organization_accounts`.
fn organization_calls() -> BTreeSet<String> {
    let sdk = read("crates/ecrguard_aws/src/sdk.rs");
    actions_in(
        sdk.split("pub async fn organization_accounts")
            .next()
            .unwrap()
            .rsplit("\n\n")
            .next()
            .unwrap(),
    )
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

#[test]
fn the_code_names_the_calls_the_roles_are_checked_against() {
    let ecr = ecr_calls();
    assert!(ecr.contains("ecr:SetRepositoryPolicy") && ecr.contains("ecr:DescribeRegistry"));
    assert!(ecr.contains("sts:GetCallerIdentity"), "{ecr:?}");
    assert_eq!(
        trait_calls("JournalTableApi"),
        set(&["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan"])
    );
    // The enforcement policy in docs/ grants exactly the same.
    let docs: Value = serde_json::from_str(&read("docs/enforce-iam-policy.json")).unwrap();
    assert_eq!(actions_in(&docs.to_string()), ecr);
}

#[test]
fn member_roles_grant_exactly_what_the_handler_calls() {
    let ecr = ecr_calls();
    let member = read("deploy/cloudformation/member-stackset.yaml");
    assert_eq!(actions_in(&cfn_resource(&member, "RemediationRole")), {
        let mut s = ecr.clone();
        s.insert("sts:AssumeRole".into()); // its trust policy
        s
    });
    assert_eq!(
        actions_in(&cfn_resource(&member, "ForwarderRole")),
        set(&["sts:AssumeRole", "events:PutEvents"])
    );
    let tf = read("deploy/terraform/member/main.tf");
    assert_eq!(
        actions_in(tf_resource(&tf, "aws_iam_role_policy.remediation")),
        ecr
    );
    assert_eq!(
        actions_in(tf_resource(&tf, "aws_iam_role_policy.forwarder")),
        set(&["events:PutEvents"])
    );
    // The change statement is scoped to the account's own repositories.
    for text in [cfn_resource(&member, "RemediationRole"), tf.clone()] {
        assert!(text.contains(":repository/*"), "{text}");
    }
}

#[test]
fn the_central_function_grants_exactly_what_the_handler_calls() {
    // The Lambda platform's own needs (its event source and its log), then the code's.
    let platform = set(&[
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ]);
    let mut expected = platform.clone();
    expected.extend(trait_calls("JournalTableApi"));
    // `--allowed-org`: `SdkApi::organization_accounts`; the member role: `sts:AssumeRole`.
    let org_calls = organization_calls();
    assert_eq!(
        org_calls,
        set(&[
            "organizations:DescribeOrganization",
            "organizations:ListAccounts"
        ])
    );
    expected.extend(org_calls);
    expected.insert("sts:AssumeRole".into());
    // Events of the central account itself are handled with the function's own credentials.
    expected.extend(ecr_calls());
    let central = read("deploy/cloudformation/central.yaml");
    assert_eq!(
        actions_in(&cfn_resource(&central, "FunctionRole")),
        expected
    );
    let tf = read("deploy/terraform/main.tf");
    let locals = tf
        .split("locals {")
        .nth(1)
        .unwrap()
        .split("\n}\n")
        .next()
        .unwrap();
    let mut tf_granted = actions_in(tf_resource(&tf, "aws_iam_role_policy.handler"));
    assert!(tf.contains("Action   = local.ecr_read") && tf.contains("Action   = local.ecr_change"));
    tf_granted.extend(actions_in(locals));
    assert_eq!(tf_granted, expected);
    // The one-account SAM function: no member roles, no organization.
    let sam = read("deploy/sam/template.yaml");
    let mut sam_expected: BTreeSet<String> = trait_calls("JournalTableApi");
    sam_expected.extend(ecr_calls());
    assert_eq!(actions_in(&cfn_resource(&sam, "Function")), sam_expected);
}

/// The `eventName` list of a rule's pattern, as a template writes it.
fn listed_events(block: &str) -> BTreeSet<String> {
    block
        .split("eventName:")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .take_while(|l| l.trim_start().starts_with("- "))
        .map(|l| l.trim_start().trim_start_matches("- ").to_string())
        .collect()
}

fn pattern_events(path: &str) -> BTreeSet<String> {
    let rule: Value = serde_json::from_str(&read(path)).unwrap();
    rule["detail"]["eventName"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_template_forwards_exactly_the_events_the_handler_takes() {
    let names = pattern_events("docs/eventbridge-rule.json");
    let public = pattern_events("docs/eventbridge-rule-public.json");
    for (path, id, expected, source) in [
        (
            "deploy/cloudformation/central.yaml",
            "EcrEventsRule",
            &names,
            "aws.ecr]",
        ),
        (
            "deploy/cloudformation/member-stackset.yaml",
            "ForwardEcrEvents",
            &names,
            "aws.ecr]",
        ),
        (
            "deploy/sam/template.yaml",
            "EcrEventsRule",
            &names,
            "aws.ecr]",
        ),
        (
            "deploy/cloudformation/central.yaml",
            "EcrPublicEventsRule",
            &public,
            "aws.ecr-public]",
        ),
        (
            "deploy/cloudformation/member-stackset.yaml",
            "ForwardEcrPublicEvents",
            &public,
            "aws.ecr-public]",
        ),
        (
            "deploy/sam/template.yaml",
            "EcrPublicEventsRule",
            &public,
            "aws.ecr-public]",
        ),
    ] {
        let text = read(path);
        let block = cfn_resource(&text, id);
        assert_eq!(&listed_events(&block), expected, "{path} {id}");
        assert!(block.contains(&format!("source: [{source}")), "{path} {id}");
        assert!(
            block.contains("errorCode: [{exists: false}]"),
            "{path} {id}"
        );
    }
    // ECR Public lives in us-east-1: a member forwards its events from there only.
    let member = read("deploy/cloudformation/member-stackset.yaml");
    assert!(
        cfn_resource(&member, "ForwardEcrPublicEvents").contains("Condition: IsEcrPublicRegion")
    );
    assert!(member.contains("IsEcrPublicRegion: !Equals [!Ref \"AWS::Region\", us-east-1]"));
    // The Terraform modules read the same files.
    for path in [
        "deploy/terraform/main.tf",
        "deploy/terraform/member/main.tf",
    ] {
        let text = read(path);
        assert!(text.contains("docs/eventbridge-rule.json\")"), "{path}");
        assert!(
            text.contains("docs/eventbridge-rule-public.json\")"),
            "{path}"
        );
    }
}

#[test]
fn the_bus_admits_only_the_organization_and_the_role_only_the_function() {
    let central = read("deploy/cloudformation/central.yaml");
    let policy = cfn_resource(&central, "EventBusOrganizationPolicy");
    assert!(
        policy.contains("aws:PrincipalOrgID: !Ref OrganizationId"),
        "{policy}"
    );
    let member = read("deploy/cloudformation/member-stackset.yaml");
    let role = cfn_resource(&member, "RemediationRole");
    assert!(role.contains("AWS: !Ref CentralFunctionRoleArn"), "{role}");
    assert!(role.contains("sts:ExternalId: !Ref ExternalId"), "{role}");
    let tf = read("deploy/terraform/main.tf");
    assert!(tf.contains("\"aws:PrincipalOrgID\" = var.organization_id"));
    let function = cfn_resource(&central, "Function");
    assert!(function.contains("ECRGUARD_JOURNAL: !Sub \"dynamodb://${JournalTable}\""));
    assert!(function.contains("Runtime: provided.al2023"));
    let mapping = cfn_resource(&central, "QueueToFunction");
    assert!(mapping.contains("ReportBatchItemFailures") && mapping.contains("BatchSize: 10"));
}

#[test]
fn the_scheduled_audit_grants_exactly_what_the_audit_calls() {
    // The member audit role: every read of `audit`, regions excepted (the schedule names
    // them, so `ec2:DescribeRegions` is never called).
    let mut reads = trait_calls("EcrApi");
    for t in ["EcrPublicApi", "EksApi", "IamApi"] {
        reads.extend(trait_calls(t));
    }
    assert!(
        reads.contains("iam:GetAccountAuthorizationDetails") && reads.contains("eks:ListClusters")
    );
    let member = read("deploy/cloudformation/member-stackset.yaml");
    // And what `--security-hub` calls, in the same account.
    let hub = calls_documented_in(
        &read("crates/ecrguard_aws/src/security_hub.rs"),
        "impl SdkSecurityHub",
    );
    assert_eq!(
        hub,
        set(&["securityhub:BatchImportFindings", "securityhub:GetFindings"])
    );
    assert_eq!(actions_in(&cfn_resource(&member, "AuditRole")), {
        let mut s = reads.clone();
        s.extend(hub);
        s.insert("sts:AssumeRole".into());
        s
    });
    let docs: Value = serde_json::from_str(&read("docs/audit-iam-policy.json")).unwrap();
    let mut documented = actions_in(&docs.to_string());
    assert!(
        documented.remove("ec2:DescribeRegions"),
        "audit without --regions asks for them"
    );
    assert_eq!(documented, reads);
    // The audit function: its log, its reports, the audit roles and the organization.
    let store = read("crates/ecrguard_aws/src/report_store.rs");
    let s3 = calls_documented_in(&store, "impl SdkReportStore");
    assert_eq!(s3, set(&["s3:PutObject"]));
    let org = organization_calls();
    let mut expected = set(&[
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sts:AssumeRole",
    ]);
    expected.extend(s3);
    expected.extend(org);
    let audit = read("deploy/cloudformation/org-audit.yaml");
    assert_eq!(
        actions_in(&cfn_resource(&audit, "AuditFunctionRole")),
        expected
    );
    // The engines around it: Step Functions invokes the function, reads the account list,
    // writes the map's results and runs its child executions; the scheduler starts it.
    assert_eq!(
        actions_in(&cfn_resource(&audit, "StateMachineRole")),
        set(&[
            "sts:AssumeRole",
            "lambda:InvokeFunction",
            "s3:GetObject",
            "s3:PutObject",
            "s3:ListMultipartUploadParts",
            "s3:AbortMultipartUpload",
            "states:StartExecution",
            "states:DescribeExecution",
            "states:StopExecution",
        ])
    );
    assert_eq!(
        actions_in(&cfn_resource(&audit, "SchedulerRole")),
        set(&[
            "sts:AssumeRole",
            "states:StartExecution",
            "lambda:InvokeFunction"
        ])
    );
    // The state machine asks the function for exactly the tasks it serves.
    let machine = cfn_resource(&audit, "StateMachine");
    assert!(machine.contains("ecrguard: list-accounts") && machine.contains("ecrguard: audit"));
    assert!(machine.contains("Mode: DISTRIBUTED"));
    let tasks = read("crates/ecrguard/src/lambda/tasks.rs");
    assert!(tasks.contains("ListAccounts,") && tasks.contains("rename_all = \"kebab-case\""));
}
