//! Principals: who a statement names, decoded from the forms IAM accepts.

use crate::json::Span;
use crate::partial::{HOLE, Partial};
use crate::wildcard::has_wildcard;

/// The key a principal was listed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalType {
    /// The bare string `"*"`.
    Star,
    /// `{"AWS": ...}`
    Aws,
    /// `{"Service": ...}`
    Service,
    /// `{"Federated": ...}`
    Federated,
    /// `{"CanonicalUser": ...}`
    CanonicalUser,
}

impl PrincipalType {
    /// The JSON key (or `*`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Star => "*",
            PrincipalType::Aws => "AWS",
            PrincipalType::Service => "Service",
            PrincipalType::Federated => "Federated",
            PrincipalType::CanonicalUser => "CanonicalUser",
        }
    }

    pub(crate) fn from_key(key: &str) -> Option<PrincipalType> {
        match key {
            "AWS" => Some(PrincipalType::Aws),
            "Service" => Some(PrincipalType::Service),
            "Federated" => Some(PrincipalType::Federated),
            "CanonicalUser" => Some(PrincipalType::CanonicalUser),
            _ => None,
        }
    }
}

/// What a principal value means.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Who {
    /// Everyone (`*`, `{"AWS":"*"}`, `{"Service":"*"}`...).
    Everyone,
    /// A whole account: `123456789012` or `arn:aws:iam::123456789012:root`.
    Account(String),
    /// A role, user, assumed-role session or federated user of an account.
    Entity {
        /// The account that owns it.
        account: String,
        /// Why the name is not known, when a source resolved only the account
        /// (`arn:aws:iam::111111111111:role/${var.name}`).
        unresolved_name: Option<String>,
    },
    /// An ARN with a wildcard inside (IAM rejects these). `account` is `None` when the account
    /// field itself is a wildcard, which makes the grant public if it were accepted.
    WildcardArn {
        /// The account, when fixed.
        account: Option<String>,
    },
    /// An AWS service principal such as `lambda.amazonaws.com`.
    Service(String),
    /// A unique id (`AROA...`, `AIDA...`): what a policy shows after the named role or user
    /// was deleted. It never matches a re-created principal; its account is unknown.
    UniqueId(String),
    /// A `Federated` or `CanonicalUser` principal: no meaning in an ECR policy.
    Foreign(String),
    /// A value IAM would not accept as a principal.
    Malformed(String),
    /// A value a source could not resolve.
    Unknown(String),
}

/// One principal of a statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The key it was listed under.
    pub kind: PrincipalType,
    /// The value as written.
    pub raw: String,
    /// What it means.
    pub who: Who,
    /// Where it was written.
    pub span: Option<Span>,
}

/// The account id that stands for "the account that owns the resource" when a source knows
/// that much but not the number (`${AWS::AccountId}`, `data.aws_caller_identity`).
pub const SELF_ACCOUNT: &str = "self";

/// Whether the text is a 12-digit AWS account id (or [`SELF_ACCOUNT`]).
#[must_use]
pub fn is_account_id(s: &str) -> bool {
    s == SELF_ACCOUNT || (s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()))
}

const UNIQUE_ID_PREFIXES: [&str; 8] = [
    "AROA", "AIDA", "AGPA", "AIPA", "ANPA", "ANVA", "ASIA", "ACCA",
];

/// Decodes one principal value of the given type.
#[must_use]
pub fn decode(kind: PrincipalType, raw: &str) -> Who {
    if raw == "*" {
        return Who::Everyone;
    }
    match kind {
        PrincipalType::Star => Who::Malformed(raw.to_string()),
        PrincipalType::Service => {
            if has_wildcard(raw) {
                Who::Everyone
            } else {
                Who::Service(raw.to_ascii_lowercase())
            }
        }
        PrincipalType::Federated | PrincipalType::CanonicalUser => Who::Foreign(raw.to_string()),
        PrincipalType::Aws => decode_aws(raw),
    }
}

fn decode_aws(raw: &str) -> Who {
    if is_account_id(raw) {
        return Who::Account(raw.to_string());
    }
    if let Some(arn) = Arn::parse(raw) {
        let service_ok = matches!(arn.service, "iam" | "sts");
        if has_wildcard(raw) {
            let account = (!has_wildcard(arn.account) && is_account_id(arn.account))
                .then(|| arn.account.to_string());
            return Who::WildcardArn { account };
        }
        if !service_ok || !is_account_id(arn.account) {
            return Who::Malformed(raw.to_string());
        }
        if arn.resource == "root" {
            return Who::Account(arn.account.to_string());
        }
        let entity = ["role/", "user/", "assumed-role/", "federated-user/"]
            .iter()
            .any(|p| arn.resource.starts_with(p));
        return if entity {
            Who::Entity {
                account: arn.account.to_string(),
                unresolved_name: None,
            }
        } else {
            Who::Malformed(raw.to_string())
        };
    }
    if has_wildcard(raw) {
        return Who::WildcardArn { account: None };
    }
    if UNIQUE_ID_PREFIXES.iter().any(|p| raw.starts_with(p))
        && raw.len() >= 16
        && raw
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Who::UniqueId(raw.to_string());
    }
    Who::Malformed(raw.to_string())
}

/// Decodes a principal value known only in part. What the known text fixes is kept: the
/// account of `arn:aws:iam::111111111111:role/${var.name}` is known even if the role is not.
#[must_use]
pub fn decode_partial(kind: PrincipalType, value: &Partial) -> Who {
    let unknown = || Who::Unknown(value.describe());
    if kind != PrincipalType::Aws {
        return unknown();
    }
    let Some((text, holes)) = value.arn_fields() else {
        return unknown();
    };
    if holes.service || holes.account {
        return unknown();
    }
    let Some(arn) = Arn::parse(&text) else {
        return unknown();
    };
    let known = |s: &str| -> String { s.replace(HOLE, "") };
    if !matches!(arn.service, "iam" | "sts") || !is_account_id(arn.account) {
        // Whatever fills the holes, IAM would not accept it.
        return Who::Malformed(value.shown());
    }
    if has_wildcard(&known(&text)) {
        return Who::WildcardArn {
            account: Some(arn.account.to_string()),
        };
    }
    if arn.resource == "root" {
        return Who::Account(arn.account.to_string());
    }
    let entity = ["role/", "user/", "assumed-role/", "federated-user/"]
        .iter()
        .any(|p| arn.resource.starts_with(p));
    if entity || holes.resource {
        Who::Entity {
            account: arn.account.to_string(),
            unresolved_name: Some(value.describe()),
        }
    } else {
        Who::Malformed(value.shown())
    }
}

/// The fields of an ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`...
    pub partition: &'a str,
    /// `iam`, `sts`, `lambda`...
    pub service: &'a str,
    /// Region, often empty.
    pub region: &'a str,
    /// Account id, may be empty (S3) or a wildcard.
    pub account: &'a str,
    /// The rest, colons included.
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits an ARN; `None` when it does not have the six fields.
    #[must_use]
    pub fn parse(s: &'a str) -> Option<Arn<'a>> {
        let mut it = s.splitn(6, ':');
        if it.next()? != "arn" {
            return None;
        }
        Some(Arn {
            partition: it.next()?,
            service: it.next()?,
            region: it.next()?,
            account: it.next()?,
            resource: it.next()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_aws_forms() {
        let aws = |s| decode(PrincipalType::Aws, s);
        assert_eq!(aws("*"), Who::Everyone);
        assert_eq!(aws("123456789012"), Who::Account("123456789012".into()));
        assert_eq!(
            aws("arn:aws:iam::123456789012:root"),
            Who::Account("123456789012".into())
        );
        assert_eq!(
            aws("arn:aws-cn:iam::123456789012:role/ci"),
            Who::Entity {
                account: "123456789012".into(),
                unresolved_name: None,
            }
        );
        assert_eq!(
            aws("arn:aws:sts::123456789012:assumed-role/ci/session"),
            Who::Entity {
                account: "123456789012".into(),
                unresolved_name: None,
            }
        );
        assert_eq!(
            aws("arn:aws:iam::*:root"),
            Who::WildcardArn { account: None }
        );
        assert_eq!(
            aws("arn:aws:iam::123456789012:role/ci-*"),
            Who::WildcardArn {
                account: Some("123456789012".into())
            }
        );
        assert_eq!(
            aws("AROAEXAMPLEID12345678"),
            Who::UniqueId("AROAEXAMPLEID12345678".into())
        );
        assert!(matches!(aws("12345"), Who::Malformed(_)));
        assert!(matches!(aws("arn:aws:s3:::bucket"), Who::Malformed(_)));
        assert_eq!(
            decode(PrincipalType::Service, "Lambda.amazonaws.com"),
            Who::Service("lambda.amazonaws.com".into())
        );
        assert_eq!(decode(PrincipalType::Service, "*"), Who::Everyone);
        assert_eq!(decode(PrincipalType::CanonicalUser, "*"), Who::Everyone);
    }

    #[test]
    fn partly_known_principals_keep_what_the_known_text_fixes() {
        let partial = crate::partial::from_parts;
        // The role is unknown; its account is not.
        let who = decode_partial(
            PrincipalType::Aws,
            &partial(&[Some("arn:aws:iam::123456789012:role/"), None]),
        );
        assert!(
            matches!(&who, Who::Entity { account, unresolved_name: Some(_) } if account == "123456789012"),
            "{who:?}"
        );
        // The partition is unknown: still the account's root.
        assert_eq!(
            decode_partial(
                PrincipalType::Aws,
                &partial(&[Some("arn:"), None, Some(":iam::123456789012:root")])
            ),
            Who::Account("123456789012".into())
        );
        // The account is unknown: who it is cannot be told.
        assert!(matches!(
            decode_partial(
                PrincipalType::Aws,
                &partial(&[Some("arn:aws:iam::"), None, Some(":root")])
            ),
            Who::Unknown(_)
        ));
        // Known text IAM would never accept stays malformed whatever fills the gap.
        assert!(matches!(
            decode_partial(
                PrincipalType::Aws,
                &partial(&[Some("arn:aws:s3:::bucket-"), None])
            ),
            Who::Unknown(_) | Who::Malformed(_)
        ));
    }
}
