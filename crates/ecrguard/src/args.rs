//! Command-line arguments (raw; commands validate and resolve them).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Keeps Amazon ECR repositories private and their access minimal.
#[derive(Debug, Parser)]
#[command(name = "ecrguard", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Analyze one repository policy: who it lets in, and what is wrong with it.
    ///
    /// Reads raw policy JSON, or the output of `aws ecr get-repository-policy` (whose
    /// `policyText` holds the policy as a string), from FILE or standard input.
    CheckPolicy(CheckPolicyArgs),
    /// Scan infrastructure code (Terraform HCL, plan JSON, CloudFormation) for ECR exposure and
    /// hygiene problems.
    Scan(ScanArgs),
    /// Audit live AWS: repositories, their policies and settings, and registry policies, in
    /// the regions given, with the same rules as `scan`.
    Audit(AuditArgs),
    /// Act on live findings per the `[enforce]` config: plan by default, change with
    /// `--apply`, backing up everything first in the journal.
    Enforce(EnforceArgs),
    /// Put back what a journal entry backed up (a policy, a setting, a deleted repository).
    Restore(RestoreArgs),
    /// Evaluate and enforce on the resource an EventBridge event (CloudTrail record of an ECR
    /// call) or an SQS batch of them touched.
    HandleEvent(HandleEventArgs),
    /// List every rule.
    Rules {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Show a rule's documentation.
    Rule {
        /// Rule code (`ECR002`) or name (`repository-policy-public`).
        rule: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, clap::Args)]
pub(crate) struct CheckPolicyArgs {
    /// Policy file; `-` or nothing reads standard input.
    pub(crate) file: Option<PathBuf>,
    /// The account that owns the repository (taken from `registryId` when the input is
    /// `get-repository-policy` output).
    #[arg(long, value_name = "ID")]
    pub(crate) owner_account: Option<String>,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum)]
    pub(crate) fail_on: Option<FailOn>,
    /// Colour: auto (on a terminal), always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub(crate) color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    Low,
    Medium,
    High,
    Critical,
    /// Never fail on findings (errors still exit 2).
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ScanArgs {
    /// Files or directories to scan (directories are walked; `.gitignore` is honoured).
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub(crate) format: ScanFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Configuration file (default: `ecrguard.toml` found upward from the first path).
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub(crate) config: Option<PathBuf>,
    /// Ignore any `ecrguard.toml`.
    #[arg(long)]
    pub(crate) no_config: bool,
    /// Lowest severity that makes the exit code 1 (default `low`, or `fail-on` in the config).
    #[arg(long, value_enum)]
    pub(crate) fail_on: Option<FailOn>,
    /// Anything not evaluated (an unknown policy, an unresolved module, a file not read) makes
    /// the result incomplete: exit code 2, and the list comes before the findings.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Run only these rules (codes, names or code prefixes; comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub(crate) select: Vec<String>,
    /// Skip these rules.
    #[arg(long, value_delimiter = ',')]
    pub(crate) ignore: Vec<String>,
    /// The account that owns the resources, when the code does not say.
    #[arg(long, value_name = "ID")]
    pub(crate) owner_account: Option<String>,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    /// CloudFormation parameter value, over the template's `Default` (repeatable).
    #[arg(long = "parameter", value_name = "KEY=VALUE")]
    pub(crate) parameters: Vec<String>,
    /// CloudFormation parameters file: `[{"ParameterKey": ..., "ParameterValue": ...}]` (the
    /// CLI's format) or `{"Parameters": {...}}` (CodePipeline's); `--parameter` wins.
    #[arg(long = "parameters-file", value_name = "FILE")]
    pub(crate) parameters_file: Option<PathBuf>,
    /// Terraform variable file, applied after `terraform.tfvars` and `*.auto.tfvars`.
    #[arg(long = "var-file", value_name = "FILE")]
    pub(crate) var_files: Vec<PathBuf>,
    /// Colour: auto (on a terminal), always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub(crate) color: Color,
    #[command(flatten)]
    pub(crate) baseline: BaselineArgs,
    /// Honour other scanners' skip comments (`#checkov:skip=CKV_AWS_32`,
    /// `#trivy:ignore:AVD-AWS-0032`, `#tfsec:ignore:...`, `# kics-scan ...`) for the ecrguard
    /// rule their check maps to.
    #[arg(long)]
    pub(crate) honor_peer_skips: bool,
    /// Only the rules a compliance framework maps (fsbp, cis-eks, kubescape, nist-800-53,
    /// aws-wa); the report groups findings by its controls.
    #[arg(long, value_name = "FRAMEWORK")]
    pub(crate) compliance: Option<String>,
    /// SARIF `runs[].automationDetails.id`: the code-scanning category.
    #[arg(long, value_name = "CATEGORY", default_value = "ecrguard/scan")]
    pub(crate) sarif_category: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ScanFormat {
    Text,
    Json,
    Sarif,
    Junit,
    Github,
    /// A summary by severity and rule, then findings by resource (pull-request comments,
    /// step summaries).
    Markdown,
    /// AWS Security Finding Format (a JSON array for Security Hub's `BatchImportFindings`).
    Asff,
    /// OCSF 1.3 Compliance Findings, one JSON object per line.
    Ocsf,
    /// One self-contained HTML page with filters (and, for an audit, the access graph).
    Html,
}

#[derive(Debug, clap::Args)]
pub(crate) struct AuditArgs {
    /// AWS profile (default: the standard credential chain).
    #[arg(long)]
    pub(crate) profile: Option<String>,
    /// Regions to read, comma-separated, or `all` (default: every region enabled for the
    /// account, from `ec2:DescribeRegions`).
    #[arg(long, value_delimiter = ',')]
    pub(crate) regions: Vec<String>,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    /// Print API calls made, wall time and calls per second on standard error at the end.
    #[arg(long)]
    pub(crate) stats: bool,
    /// No progress line on standard error (it is shown only on a terminal anyway).
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
    /// Assume this role and audit its account (repeatable: one per account). Without it,
    /// the caller's own account is audited.
    #[arg(long = "role-arn", value_name = "ARN", conflicts_with = "org_role")]
    pub(crate) role_arns: Vec<String>,
    /// Audit every active account of the caller's organization (`organizations:ListAccounts`)
    /// by assuming the role of this name in each; the organization id is trusted.
    #[arg(long, value_name = "NAME")]
    pub(crate) org_role: Option<String>,
    /// With `--org-role`: only these accounts of the organization (repeatable or
    /// comma-separated), without listing it: one account per invocation of a scheduled
    /// audit that fans out over the organization.
    #[arg(
        long = "account",
        value_name = "ID",
        value_delimiter = ',',
        requires = "org_role"
    )]
    pub(crate) accounts: Vec<String>,
    /// Most API calls in flight at once.
    #[arg(long, default_value_t = 24)]
    pub(crate) concurrency: usize,
    /// Attempts per call, the first included (adaptive retry); 1 to 100.
    #[arg(
        long,
        env = "AWS_MAX_ATTEMPTS",
        default_value_t = ecrguard_aws::sdk::DEFAULT_MAX_ATTEMPTS,
        value_parser = ecrguard_aws::sdk::parse_max_attempts,
    )]
    pub(crate) max_attempts: u32,
    /// Connect timeout, seconds.
    #[arg(long, default_value_t = 5)]
    pub(crate) connect_timeout: u64,
    /// Read timeout, seconds.
    #[arg(long, default_value_t = 20)]
    pub(crate) read_timeout: u64,
    /// Whole-call timeout (retries included), seconds.
    #[arg(long, default_value_t = 120)]
    pub(crate) operation_timeout: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub(crate) format: ScanFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Lowest severity that makes the exit code 1 (default: the config's `fail-on`, else
    /// low).
    #[arg(long, value_enum)]
    pub(crate) fail_on: Option<FailOn>,
    /// Only these rules (codes, names or code prefixes, comma-separated); replaces the
    /// config's `select`.
    #[arg(long, value_delimiter = ',')]
    pub(crate) select: Vec<String>,
    /// Not these rules; added to the config's `ignore`.
    #[arg(long, value_delimiter = ',')]
    pub(crate) ignore: Vec<String>,
    /// Colour: auto (on a terminal), always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub(crate) color: Color,
    /// `ecrguard.toml` (trusted accounts, rules, severities, suppressions, `[enforce]`);
    /// default: the one in the working directory or its parents, if any.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Only the rules a compliance framework maps (fsbp, cis-eks, kubescape, nist-800-53,
    /// aws-wa); the report groups findings by its controls.
    #[arg(long, value_name = "FRAMEWORK")]
    pub(crate) compliance: Option<String>,
    /// SARIF `runs[].automationDetails.id`: the code-scanning category.
    #[arg(long, value_name = "CATEGORY", default_value = "ecrguard/audit")]
    pub(crate) sarif_category: String,
    /// Also import the findings into AWS Security Hub (the default product of each audited
    /// account, in each region read, through the role that read it), and archive those it
    /// imported before that are no longer found. What was imported, archived or refused goes
    /// to standard error; anything not imported makes the exit code 2.
    #[arg(long)]
    pub(crate) security_hub: bool,
    #[command(flatten)]
    pub(crate) baseline: BaselineArgs,
}

/// What acting needs beyond reading.
#[derive(Debug, clap::Args)]
pub(crate) struct ActArgs {
    /// Change things (default: print the plan and change nothing).
    #[arg(long)]
    pub(crate) apply: bool,
    /// Confirm destructive actions (deleting a repository) without asking.
    #[arg(long)]
    pub(crate) yes: bool,
    /// The journal: a backup of everything changed, and every outcome. A directory, or
    /// `dynamodb://TABLE` (a table of this account and region whose partition key is `id`).
    #[arg(
        long,
        value_name = "DIR|dynamodb://TABLE",
        default_value = "ecrguard-journal",
        env = "ECRGUARD_JOURNAL"
    )]
    pub(crate) journal: String,
    /// Evaluate "new" and approval expiry as of this time (`2026-11-24T06:00:00Z` or seconds
    /// since the epoch) instead of now.
    #[arg(long, value_name = "TIME")]
    pub(crate) now: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct EnforceArgs {
    #[command(flatten)]
    pub(crate) audit: AuditArgs,
    #[command(flatten)]
    pub(crate) act: ActArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RestoreArgs {
    /// The journal entry: its file (`ecrguard-journal/<id>.json`) or `dynamodb://TABLE/ID`.
    #[arg(value_name = "FILE|dynamodb://TABLE/ID")]
    pub(crate) entry: String,
    /// AWS profile.
    #[arg(long)]
    pub(crate) profile: Option<String>,
    /// Assume this role first (the entry's account).
    #[arg(long = "role-arn", value_name = "ARN")]
    pub(crate) role_arn: Option<String>,
    /// Act in the entry's account through this role of it (`arn:aws:iam::ACCOUNT:role/NAME`),
    /// as a central handler did.
    #[arg(long = "member-role", value_name = "NAME")]
    pub(crate) member_role: Option<String>,
    /// The external id the role's trust policy requires.
    #[arg(long = "external-id", value_name = "ID")]
    pub(crate) external_id: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct HandleEventArgs {
    /// The event file, or `-` for standard input.
    #[arg(default_value = "-")]
    pub(crate) input: PathBuf,
    /// AWS profile.
    #[arg(long)]
    pub(crate) profile: Option<String>,
    /// `ecrguard.toml`; default: the one in the working directory or its parents.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    #[command(flatten)]
    pub(crate) act: ActArgs,
    /// Output format (text or json).
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub(crate) format: ScanFormat,
    /// Act in the event's account through this role (`arn:<partition>:iam::<account>:role/NAME`),
    /// for a central handler serving an organization (env `ECRGUARD_MEMBER_ROLE`).
    #[arg(long, value_name = "NAME")]
    pub(crate) member_role: Option<String>,
    /// The external id the member role's trust policy requires (env `ECRGUARD_EXTERNAL_ID`).
    #[arg(long, value_name = "ID", requires = "member_role")]
    pub(crate) external_id: Option<String>,
    /// An account whose events are handled through the member role (repeatable; env
    /// `ECRGUARD_ALLOWED_ACCOUNTS`, comma-separated). Events from any other account are refused
    /// before anything is read.
    #[arg(long = "allowed-account", value_name = "ID", value_delimiter = ',')]
    pub(crate) allowed_accounts: Vec<String>,
    /// Also allow every active account of the caller's organization
    /// (`organizations:ListAccounts`; env `ECRGUARD_ALLOWED_ORG=true`).
    #[arg(long)]
    pub(crate) allowed_org: bool,
}

/// Baselines: findings recorded once stop counting (see docs/output.md).
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct BaselineArgs {
    /// Findings recorded in FILE do not count (reported as baselined); entries that match no
    /// finding are reported (ECR093).
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub(crate) baseline: Option<PathBuf>,
    /// Record this run's unsuppressed findings in FILE; they then do not count.
    #[arg(long, value_name = "FILE")]
    pub(crate) write_baseline: Option<PathBuf>,
}

/// Who may be granted access without a finding: the same flags for every command.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct TrustArgs {
    /// An account allowed to be granted access (repeatable).
    #[arg(long = "trusted-account", value_name = "ID")]
    pub(crate) trusted_accounts: Vec<String>,
    /// An organization (`o-...`) allowed to be granted access (repeatable).
    #[arg(long = "trusted-org", value_name = "ID")]
    pub(crate) trusted_orgs: Vec<String>,
}
