//! `ECR012` `encryption-not-cmk`: the docs are on the rule struct.

use crate::context::Context;
use crate::rule::{Rule, RuleMeta, declare_rule};
use crate::rules::{Setting, setting_name};
use ecrguard_model::EncryptionKind;

declare_rule! {
    /// ## What it does
    /// Flags private repositories not encrypted with a customer managed KMS key: the default
    /// `AES256`, or `KMS` / `KMS_DSSE` without a `kms_key` (which uses the AWS managed
    /// `aws/ecr` key). `KMS` and `KMS_DSSE` with a key pass.
    ///
    /// ## Why is this bad?
    /// ECR always encrypts at rest; with a customer managed key you control who may decrypt
    /// (the key policy is a second gate besides the repository policy), can audit use in
    /// CloudTrail, and can revoke access by disabling the key.
    ///
    /// ## Example
    /// ```hcl
    /// resource "aws_ecr_repository" "app" { name = "app" } # AES256 by default
    /// ```
    /// Use instead:
    /// `encryption_configuration { encryption_type = "KMS" kms_key = aws_kms_key.ecr.arn }`.
    ///
    /// ## How to fix
    /// - Terraform: `encryption_configuration { encryption_type = "KMS" kms_key = aws_kms_key.ecr.arn }`
    ///   (this replaces the repository: encryption is set at creation only).
    /// - CLI: `aws ecr create-repository --repository-name NAME --encryption-configuration encryptionType=KMS,kmsKey=KEY_ARN`.
    /// - Console: Amazon ECR > Create repository > Encryption settings.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html>
    EncryptionNotCmk {
        code: "ECR012",
        name: "encryption-not-cmk",
        severity: Low,
        category: Hygiene,
        summary: "Repository is not encrypted with a customer managed KMS key",
        compliance: ["AWS FSBP ECR.5 (ecr-repository-cmk-encryption-enabled)", "NIST 800-53 r5 SC-12", "NIST 800-53 r5 SC-28"],
        sources: [Terraform, CloudFormation, Kubernetes, Aws],
    }
}

impl Rule for EncryptionNotCmk {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Context<'_>) {
        for repo in &cx.state.repositories {
            let Some(enc) = repo.encryption.known() else {
                continue;
            };
            // An empty key string is no key; an unresolved one is given, so it passes.
            let key_given = enc
                .kms_key
                .as_ref()
                .is_some_and(|k| k.known().is_none_or(|k| !k.trim().is_empty()));
            let message = match (enc.kind, key_given) {
                (EncryptionKind::Aes256, _) => format!(
                    "Repository `{}` is encrypted with `AES256`, not a customer managed KMS key",
                    repo.id
                ),
                (_, false) => format!(
                    "Repository `{}` uses KMS encryption without a key of its own, so the AWS managed `aws/ecr` key",
                    repo.id
                ),
                (_, true) => continue,
            };
            cx.report(&repo.id, message)
                .repository(Some(repo.id.clone()))
                .at(repo.encryption.origin().clone())
                .help(format!(
                    "Encrypt with {}",
                    setting_name(&repo.id, Setting::KmsKey)
                ))
                .emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;
    use ecrguard_model::{Encryption, EncryptionKind, Value};

    #[test]
    fn kms_with_key_passes() {
        let mut s = repo_with_policy(r#"{"Statement":[]}"#);
        let o = s.repositories[0].origin.clone();
        for (kind, key, want) in [
            (EncryptionKind::Aes256, None, 1),
            (EncryptionKind::Kms, None, 1),
            (
                EncryptionKind::Kms,
                Some(Value::Set(
                    "arn:aws:kms:us-east-1:111111111111:key/x".to_string(),
                    o.clone(),
                )),
                0,
            ),
            (
                EncryptionKind::KmsDsse,
                Some(Value::Unknown("aws_kms_key.x.arn".into(), o.clone())),
                0,
            ),
            (
                EncryptionKind::Kms,
                Some(Value::Set(String::new(), o.clone())),
                1,
            ),
        ] {
            s.repositories[0].encryption = Value::Set(Encryption { kind, kms_key: key }, o.clone());
            assert_eq!(codes(&s, &owner(), "ECR012").len(), want, "{kind:?}");
        }
    }
}
