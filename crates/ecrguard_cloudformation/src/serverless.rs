//! The Serverless Framework's `serverless.yml`, read as the CloudFormation it becomes:
//! `resources.Resources` is CloudFormation as written, and the statements under
//! `provider.iam.role.statements` (or the older `provider.iamRoleStatements`) are the identity
//! policy of the role the framework creates for the service's functions.
//!
//! Serverless variables (`${self:custom.stage}`, `${opt:region}`, `${env:...}`, `${ssm:...}`,
//! `${file(...)}`...) are resolved by the framework at deploy time, from the command line,
//! the environment or AWS: here they are unknown parts of their strings (the environment is
//! never read), except `${aws:accountId}`, which is the owner account. CloudFormation's own
//! `${AWS::Region}` inside `Fn::Sub` is left to the template resolver.

use ecrguard_iam::analysis::SELF_ACCOUNT;
use ecrguard_iam::json::{Member, Node, Value};
use ecrguard_iam::partial::{Variable, substitute};
use std::path::Path;

/// The logical id given to the role the framework creates for the functions.
pub const FUNCTIONS_ROLE: &str = "IamRoleLambdaExecution";

/// Sources of Serverless variables (`${source:address}`); anything else in `${...}` is left
/// as written (CloudFormation's `${AWS::Region}` in `Fn::Sub`).
const SOURCES: [&str; 13] = [
    "self:",
    "opt:",
    "env:",
    "sls:",
    "aws:",
    "file(",
    "ssm:",
    "cf:",
    "cf(",
    "s3:",
    "param:",
    "git:",
    "strToBool(",
];

/// Whether a file is a Serverless Framework service file.
#[must_use]
pub fn is_service_file(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "serverless.yml" || n == "serverless.yaml")
}

/// The template a parsed `serverless.yml` stands for; `None` when it declares neither
/// resources nor role statements (nothing ECR can be in it).
#[must_use]
pub fn to_template(root: &Node) -> Option<Node> {
    let mut resources: Vec<Member> = root
        .get("resources")
        .and_then(|r| r.get("Resources"))
        .and_then(Node::as_object)
        .map(<[Member]>::to_vec)
        .unwrap_or_default();
    let provider = root.get("provider");
    let statements = provider
        .and_then(|p| p.get("iam"))
        .and_then(|i| i.get("role"))
        .and_then(|r| r.get("statements"))
        .or_else(|| provider.and_then(|p| p.get("iamRoleStatements")));
    if let Some(statements) = statements {
        let at = statements.span;
        let member = |key: &str, value: Node| Member {
            key: key.to_string(),
            key_span: None,
            value,
        };
        let object = |members: Vec<Member>| Node {
            value: Value::Object(members),
            span: at,
        };
        let document = object(vec![
            member("Version", Node::string("2012-10-17")),
            member("Statement", statements.clone()),
        ]);
        let policy = object(vec![
            member("PolicyName", Node::string("provider.iam.role.statements")),
            member("PolicyDocument", document),
        ]);
        let role = object(vec![
            member("Type", Node::string("AWS::IAM::Role")),
            member(
                "Properties",
                object(vec![member(
                    "Policies",
                    Node {
                        value: Value::Array(vec![policy]),
                        span: at,
                    },
                )]),
            ),
        ]);
        resources.push(member(FUNCTIONS_ROLE, role));
    }
    if resources.is_empty() {
        return None;
    }
    let mut template = Node {
        value: Value::Object(vec![
            Member {
                key: "AWSTemplateFormatVersion".into(),
                key_span: None,
                value: Node::string("2010-09-09"),
            },
            Member {
                key: "Resources".into(),
                key_span: root.get("resources").and_then(|r| r.span),
                value: Node::new(Value::Object(resources)),
            },
        ]),
        span: root.span,
    };
    template.map_strings(variables);
    Some(template)
}

/// A string with its Serverless variables resolved: `None` when it has none.
fn variables(s: &str) -> Option<Value> {
    if !s.contains("${") {
        return None;
    }
    substitute(s, |inner| {
        if !SOURCES.iter().any(|src| inner.starts_with(src)) {
            Variable::Keep
        } else if inner == "aws:accountId" {
            Variable::Text(SELF_ACCOUNT.to_string())
        } else {
            Variable::Unknown(format!(
                "Serverless variable `${{{inner}}}` is resolved at deploy time"
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(s: &str) -> String {
        match variables(s) {
            None => format!("as written {s}"),
            Some(Value::String(t)) => format!("string {t}"),
            Some(Value::Partial(p)) => format!("partial {}", p.shown()),
            Some(Value::Unknown(_)) => "unknown".to_string(),
            Some(other) => format!("{other:?}"),
        }
    }

    #[test]
    fn variables_are_unknown_parts_except_the_account() {
        assert_eq!(
            shown("arn:aws:ecr:${aws:region}:${aws:accountId}:repository/*"),
            "partial arn:aws:ecr:${?}:self:repository/*"
        );
        assert_eq!(shown("${env:SECRET_TOKEN}"), "unknown");
        assert_eq!(
            shown("${self:custom.prefix.${opt:stage}}-app"),
            "partial ${?}-app"
        );
        // CloudFormation's own syntax inside `Fn::Sub` is not a Serverless variable.
        assert_eq!(
            shown("arn:aws:ecr:${AWS::Region}:x"),
            "as written arn:aws:ecr:${AWS::Region}:x"
        );
        assert_eq!(shown("${unclosed"), "as written ${unclosed");
    }
}
