//! Compliance frameworks the rules map to. A rule's `compliance` entries are written
//! `<framework prefix> <control>` (`AWS FSBP ECR.2 (ecr-private-tag-immutability-enabled)`,
//! `NIST 800-53 r5 AC-6`); this module reads them back by framework, for `--compliance` and
//! for reports grouped by control.

use crate::RuleMeta;

/// A framework: its key on the command line, its name, and how entries start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framework {
    /// `fsbp`, `cis-eks`, `kubescape`, `nist-800-53`, `aws-wa`.
    pub key: &'static str,
    /// Its name.
    pub name: &'static str,
    /// The prefix of its entries in rule metadata.
    prefix: &'static str,
}

/// Every framework a rule maps to.
pub const FRAMEWORKS: &[Framework] = &[
    Framework {
        key: "fsbp",
        name: "AWS Foundational Security Best Practices (Security Hub)",
        prefix: "AWS FSBP ",
    },
    Framework {
        key: "cis-eks",
        name: "CIS Amazon EKS Benchmark",
        prefix: "CIS Amazon EKS Benchmark ",
    },
    Framework {
        key: "kubescape",
        name: "Kubescape controls",
        prefix: "Kubescape ",
    },
    Framework {
        key: "nist-800-53",
        name: "NIST SP 800-53 Rev. 5",
        prefix: "NIST 800-53 r5 ",
    },
    Framework {
        key: "aws-wa",
        name: "AWS Well-Architected Framework, security pillar",
        prefix: "AWS WA ",
    },
];

/// The framework for a command-line key.
#[must_use]
pub fn framework(key: &str) -> Option<&'static Framework> {
    FRAMEWORKS.iter().find(|f| f.key.eq_ignore_ascii_case(key))
}

impl Framework {
    /// The controls of this framework a rule maps to (`ECR.2`, `AC-6`), without the
    /// framework's prefix or a trailing `(config rule)`.
    #[must_use]
    pub fn controls(&self, rule: &RuleMeta) -> Vec<&'static str> {
        rule.compliance
            .iter()
            .filter_map(|e| e.strip_prefix(self.prefix))
            .map(|c| c.split(" (").next().unwrap_or(c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_belongs_to_a_framework_and_the_known_mappings_hold() {
        for m in crate::registry::metas() {
            for e in m.compliance {
                assert!(
                    FRAMEWORKS.iter().any(|f| e.starts_with(f.prefix)),
                    "{}: `{e}` names no framework",
                    m.code
                );
            }
        }
        let controls = |key: &str, code: &str| {
            framework(key)
                .unwrap()
                .controls(crate::registry::find_meta(code).unwrap())
        };
        assert_eq!(controls("fsbp", "ECR011"), ["ECR.1"]);
        assert_eq!(controls("fsbp", "ECR010"), ["ECR.2"]);
        assert_eq!(controls("fsbp", "ECR013"), ["ECR.3"]);
        assert_eq!(controls("fsbp", "ECR012"), ["ECR.5"]);
        assert_eq!(controls("cis-eks", "ECR011"), ["5.1.1"]);
        assert_eq!(controls("cis-eks", "ECR005"), ["5.1.2"]);
        assert_eq!(controls("cis-eks", "ECR009"), ["5.1.3"]);
        // Kubescape C-0222 is CIS EKS 5.1.2 (user access), C-0223 is 5.1.3 (cluster access):
        // each maps to its own rule, never both.
        assert_eq!(controls("kubescape", "ECR005"), ["C-0222"]);
        assert_eq!(controls("kubescape", "ECR009"), ["C-0223"]);
        assert!(controls("aws-wa", "ECR002").contains(&"SEC03-BP07"));
        assert!(framework("NIST-800-53").is_some() && framework("pci").is_none());
    }
}
