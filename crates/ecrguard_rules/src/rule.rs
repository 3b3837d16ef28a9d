//! Rule metadata and the `Rule` trait.

use crate::context::Context;
use std::fmt;

/// How bad a finding is. Config can override it per rule; `--fail-on` decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Hygiene.
    Low,
    /// Weakens a control.
    Medium,
    /// Exposure or likely abuse.
    High,
    /// Anyone can read, write or take over.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// Lower-case word.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses the lower-case word (case-insensitively).
    #[must_use]
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }

    /// GitHub code scanning `security-severity` score.
    #[must_use]
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Low => "3.0",
            Severity::Medium => "5.5",
            Severity::High => "8.0",
            Severity::Critical => "9.5",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// Who can reach the repository from outside.
    Exposure,
    /// Who can change, delete or re-permission it.
    Privilege,
    /// Whether AWS would accept the policy at all.
    Validity,
    /// Image integrity and repository hygiene.
    Hygiene,
}

impl Category {
    /// Lower-case word.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Exposure => "exposure",
            Category::Privilege => "privilege",
            Category::Validity => "validity",
            Category::Hygiene => "hygiene",
        }
    }
}

/// Where a rule's input can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// A policy given alone (`check-policy`).
    Policy,
    /// Terraform HCL or plan JSON.
    Terraform,
    /// CloudFormation templates (SAM and Serverless included).
    CloudFormation,
    /// Kubernetes manifests of the ACK and Crossplane controllers.
    Kubernetes,
    /// Live AWS accounts.
    Aws,
}

/// Everything about a rule except its check: a stable contract.
#[derive(Debug)]
pub struct RuleMeta {
    /// `ECR002`: never reused.
    pub code: &'static str,
    /// `repository-policy-public`: names the bad pattern.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Category.
    pub category: Category,
    /// One line.
    pub summary: &'static str,
    /// Markdown docs: What it does / Why is this bad? / Example / How to fix / References.
    pub docs: &'static str,
    /// Compliance mappings, e.g. `CIS Amazon EKS Benchmark 5.1.2`.
    pub compliance: &'static [&'static str],
    /// Sources the rule reads.
    pub sources: &'static [SourceKind],
}

/// A rule: metadata plus a check over the model.
pub trait Rule: Sync {
    /// The rule's metadata.
    fn meta(&self) -> &'static RuleMeta;
    /// Reports findings on the state in `cx`.
    fn check(&self, cx: &mut Context<'_>);
}

/// Declares a rule struct with its docs (the doc comment) and metadata in one place.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $name:ident {
            code: $code:literal,
            name: $rule_name:literal,
            severity: $sev:ident,
            category: $cat:ident,
            summary: $summary:literal,
            compliance: [$($comp:literal),* $(,)?],
            sources: [$($src:ident),* $(,)?] $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl $name {
            /// The rule's metadata.
            pub const META: $crate::rule::RuleMeta = $crate::rule::RuleMeta {
                code: $code,
                name: $rule_name,
                severity: $crate::rule::Severity::$sev,
                category: $crate::rule::Category::$cat,
                summary: $summary,
                docs: concat!($($doc, "\n"),*),
                compliance: &[$($comp),*],
                sources: &[$($crate::rule::SourceKind::$src),*],
            };
        }
    };
}
pub(crate) use declare_rule;
