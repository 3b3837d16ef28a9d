//! Condition operators and tests (`{"StringEquals": {"aws:PrincipalOrgID": "o-123"}}`).

use crate::json::Span;

/// The operator without its `ForAnyValue:`/`ForAllValues:` prefix and `IfExists` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

const OPERATORS: &[(&str, BaseOperator)] = &[
    ("StringEquals", BaseOperator::StringEquals),
    ("StringNotEquals", BaseOperator::StringNotEquals),
    (
        "StringEqualsIgnoreCase",
        BaseOperator::StringEqualsIgnoreCase,
    ),
    (
        "StringNotEqualsIgnoreCase",
        BaseOperator::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", BaseOperator::StringLike),
    ("StringNotLike", BaseOperator::StringNotLike),
    ("NumericEquals", BaseOperator::NumericEquals),
    ("NumericNotEquals", BaseOperator::NumericNotEquals),
    ("NumericLessThan", BaseOperator::NumericLessThan),
    ("NumericLessThanEquals", BaseOperator::NumericLessThanEquals),
    ("NumericGreaterThan", BaseOperator::NumericGreaterThan),
    (
        "NumericGreaterThanEquals",
        BaseOperator::NumericGreaterThanEquals,
    ),
    ("DateEquals", BaseOperator::DateEquals),
    ("DateNotEquals", BaseOperator::DateNotEquals),
    ("DateLessThan", BaseOperator::DateLessThan),
    ("DateLessThanEquals", BaseOperator::DateLessThanEquals),
    ("DateGreaterThan", BaseOperator::DateGreaterThan),
    ("DateGreaterThanEquals", BaseOperator::DateGreaterThanEquals),
    ("Bool", BaseOperator::Bool),
    ("BinaryEquals", BaseOperator::BinaryEquals),
    ("IpAddress", BaseOperator::IpAddress),
    ("NotIpAddress", BaseOperator::NotIpAddress),
    ("ArnEquals", BaseOperator::ArnEquals),
    ("ArnLike", BaseOperator::ArnLike),
    ("ArnNotEquals", BaseOperator::ArnNotEquals),
    ("ArnNotLike", BaseOperator::ArnNotLike),
    ("Null", BaseOperator::Null),
];

impl BaseOperator {
    /// Negated operators are true when the key is absent from the request, so in an `Allow`
    /// they never scope access, and in a `Deny` they fail closed.
    #[must_use]
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            BaseOperator::StringNotEquals
                | BaseOperator::StringNotEqualsIgnoreCase
                | BaseOperator::StringNotLike
                | BaseOperator::NumericNotEquals
                | BaseOperator::DateNotEquals
                | BaseOperator::NotIpAddress
                | BaseOperator::ArnNotEquals
                | BaseOperator::ArnNotLike
        )
    }

    /// The positive operator a negated one negates (`StringNotLike` -> `StringLike`).
    #[must_use]
    pub fn positive(self) -> BaseOperator {
        match self {
            BaseOperator::StringNotEquals => BaseOperator::StringEquals,
            BaseOperator::StringNotEqualsIgnoreCase => BaseOperator::StringEqualsIgnoreCase,
            BaseOperator::StringNotLike => BaseOperator::StringLike,
            BaseOperator::NumericNotEquals => BaseOperator::NumericEquals,
            BaseOperator::DateNotEquals => BaseOperator::DateEquals,
            BaseOperator::NotIpAddress => BaseOperator::IpAddress,
            BaseOperator::ArnNotEquals => BaseOperator::ArnEquals,
            BaseOperator::ArnNotLike => BaseOperator::ArnLike,
            other => other,
        }
    }

    /// Whether `*` and `?` in values are wildcards. `StringEquals` compares literally; for
    /// `ArnEquals` the IAM docs conflict, so it is treated like `ArnLike` (the conservative
    /// choice for exposure analysis, docs/semantics.md §1.3).
    #[must_use]
    pub fn expands_wildcards(self) -> bool {
        matches!(
            self.positive(),
            BaseOperator::StringLike | BaseOperator::ArnLike | BaseOperator::ArnEquals
        )
    }

    /// Whether this operator compares strings or ARNs by value (the operators that can pin
    /// an identity).
    #[must_use]
    pub fn is_string_or_arn_match(self) -> bool {
        matches!(
            self.positive(),
            BaseOperator::StringEquals
                | BaseOperator::StringEqualsIgnoreCase
                | BaseOperator::StringLike
                | BaseOperator::ArnEquals
                | BaseOperator::ArnLike
        )
    }
}

/// `ForAnyValue:` or `ForAllValues:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    /// True when any request value matches; false when the key is missing.
    ForAnyValue,
    /// True when every request value matches; vacuously true when the key is missing.
    ForAllValues,
}

/// A full condition operator, e.g. `ForAnyValue:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    /// The base operator.
    pub base: BaseOperator,
    /// Set qualifier prefix.
    pub qualifier: Option<SetQualifier>,
    /// `IfExists` suffix: true when the key is absent.
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name. Names are case-sensitive: IAM rejects `stringEquals`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Operator> {
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else {
            (None, name)
        };
        let (if_exists, base_name) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let base = OPERATORS
            .iter()
            .find(|(n, _)| *n == base_name)
            .map(|(_, op)| *op)?;
        if base == BaseOperator::Null && if_exists {
            return None;
        }
        Some(Operator {
            base,
            qualifier,
            if_exists,
        })
    }

    /// A case-insensitive look-up, used only to say "did you mean" for a mis-cased operator.
    #[must_use]
    pub fn correct_case(name: &str) -> Option<String> {
        let lower = name.to_ascii_lowercase();
        for prefix in ["", "ForAnyValue:", "ForAllValues:"] {
            for (n, _) in OPERATORS {
                for suffix in ["", "IfExists"] {
                    let candidate = format!("{prefix}{n}{suffix}");
                    if candidate.to_ascii_lowercase() == lower {
                        return Some(candidate);
                    }
                }
            }
        }
        None
    }
}

/// One value of a condition test.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConditionValue {
    /// A literal (numbers and booleans are kept as their text, as IAM compares them).
    Literal(String),
    /// A value a source could not resolve.
    Unknown(String),
}

impl ConditionValue {
    /// The literal text, if known.
    #[must_use]
    pub fn as_literal(&self) -> Option<&str> {
        match self {
            ConditionValue::Literal(s) => Some(s),
            ConditionValue::Unknown(_) => None,
        }
    }
}

/// One `operator -> key -> values` test. Tests in a statement are AND-ed; values are OR-ed
/// (NOR for negated operators).
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionTest {
    /// The operator as written.
    pub operator_name: String,
    /// The parsed operator; `None` when IAM would reject the name.
    pub operator: Option<Operator>,
    /// The key as written.
    pub key_name: String,
    /// The key, lower-cased (keys are case-insensitive).
    pub key: String,
    /// The values.
    pub values: Vec<ConditionValue>,
    /// Where the test was written (the key and its values).
    pub span: Option<Span>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_family_with_prefixes_and_suffixes() {
        let op = Operator::parse("ForAnyValue:StringLikeIfExists").unwrap();
        assert_eq!(op.base, BaseOperator::StringLike);
        assert_eq!(op.qualifier, Some(SetQualifier::ForAnyValue));
        assert!(op.if_exists);
        for (name, _) in OPERATORS {
            assert!(Operator::parse(name).is_some(), "{name}");
        }
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("stringEquals").is_none());
        assert!(Operator::parse("ForAnyValues:StringEquals").is_none());
        assert_eq!(
            Operator::correct_case("stringequalsifexists").as_deref(),
            Some("StringEqualsIfExists")
        );
    }

    #[test]
    fn negation_and_wildcards() {
        assert!(BaseOperator::StringNotLike.is_negated());
        assert!(BaseOperator::NotIpAddress.is_negated());
        assert!(!BaseOperator::Null.is_negated());
        assert!(!BaseOperator::StringEquals.expands_wildcards());
        assert!(BaseOperator::ArnEquals.expands_wildcards());
        assert!(BaseOperator::StringNotLike.expands_wildcards());
    }
}
