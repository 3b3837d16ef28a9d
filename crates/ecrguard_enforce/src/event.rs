//! EventBridge events carrying CloudTrail records of ECR API calls (`detail-type: "AWS API
//! Call via CloudTrail"`, `source: "aws.ecr"`), alone or in an SQS batch: which resource each
//! one touched. Anything unknown or malformed is an error, never an action.

use serde_json::Value;

/// What an event asks to re-evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One repository.
    Repository(String),
    /// The registry (registry policy, creation templates): reported, never changed.
    Registry,
}

/// One recognised event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrEvent {
    /// The CloudTrail `eventName`.
    pub name: String,
    /// `recipientAccountId`.
    pub account: String,
    /// `awsRegion`.
    pub region: String,
    /// What to evaluate.
    pub scope: Scope,
    /// CloudTrail `eventID`, when present (for logs).
    pub event_id: Option<String>,
}

/// The ECR calls that can open a repository or weaken it, and the resource they touch.
/// The calls on one repository that ecrguard re-evaluates.
pub const REPOSITORY_EVENTS: &[&str] = &[
    "CreateRepository",
    "SetRepositoryPolicy",
    "DeleteRepositoryPolicy",
    "PutImageTagMutability",
    "PutImageScanningConfiguration",
    "DeleteLifecyclePolicy",
    "PutLifecyclePolicy",
    "TagResource",
    "UntagResource",
];
/// The calls on the registry that ecrguard re-evaluates (reported, never changed).
pub const REGISTRY_EVENTS: &[&str] = &[
    "PutRegistryPolicy",
    "DeleteRegistryPolicy",
    "CreateRepositoryCreationTemplate",
    "UpdateRepositoryCreationTemplate",
    "PutRegistryScanningConfiguration",
];

fn text<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("missing `{key}`"))
}

/// Reads one EventBridge event.
///
/// # Errors
/// Not an ECR CloudTrail event, an ECR call ecrguard does not handle, a failed call (nothing
/// changed), or a missing field; the message says which.
pub fn parse_event(v: &Value) -> Result<EcrEvent, String> {
    if !v.is_object() {
        return Err("the event is not a JSON object".into());
    }
    let source = text(v, "source")?;
    if source != "aws.ecr" {
        return Err(format!("source `{source}` is not `aws.ecr`"));
    }
    let kind = text(v, "detail-type")?;
    if kind != "AWS API Call via CloudTrail" {
        return Err(format!(
            "detail-type `{kind}` is not `AWS API Call via CloudTrail`"
        ));
    }
    let detail = v
        .get("detail")
        .filter(|d| d.is_object())
        .ok_or("missing `detail`")?;
    let name = text(detail, "eventName")?;
    if let Some(code) = detail.get("errorCode").and_then(Value::as_str) {
        return Err(format!("`{name}` failed with `{code}`: it changed nothing"));
    }
    let region = text(detail, "awsRegion")?;
    let account = detail
        .get("recipientAccountId")
        .and_then(Value::as_str)
        .or_else(|| v.get("account").and_then(Value::as_str))
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .ok_or("missing or malformed `recipientAccountId`")?;
    let params = detail.get("requestParameters").filter(|p| p.is_object());
    let scope = if REPOSITORY_EVENTS.contains(&name) {
        let repository = params
            .and_then(|p| p.get("repositoryName").and_then(Value::as_str))
            .map(str::to_string)
            .or_else(|| {
                // TagResource names the repository by ARN.
                params
                    .and_then(|p| p.get("resourceArn").and_then(Value::as_str))
                    .and_then(|a| a.split_once(":repository/").map(|(_, n)| n.to_string()))
            })
            .filter(|n| !n.is_empty())
            .ok_or_else(|| format!("`{name}` without `requestParameters.repositoryName`"))?;
        Scope::Repository(repository)
    } else if REGISTRY_EVENTS.contains(&name) {
        Scope::Registry
    } else {
        return Err(format!("`{name}` is not an ECR call ecrguard handles"));
    };
    Ok(EcrEvent {
        name: name.to_string(),
        account: account.to_string(),
        region: region.to_string(),
        scope,
        event_id: detail
            .get("eventID")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// Reads an input: one EventBridge event, or an SQS batch (`{"Records": [{"body": "..."}]}`)
/// of them. One result per event, in order.
///
/// # Errors
/// When the input is not JSON, or an SQS record has no body.
pub fn parse_input(text: &str) -> Result<Vec<Result<EcrEvent, String>>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("the event is not JSON: {e}"))?;
    let Some(records) = v.get("Records").and_then(Value::as_array) else {
        return Ok(vec![parse_event(&v)]);
    };
    Ok(records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let body = r
                .get("body")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("SQS record {i} has no `body`"))?;
            let event: Value = serde_json::from_str(body)
                .map_err(|e| format!("SQS record {i}: the body is not JSON: {e}"))?;
            parse_event(&event).map_err(|e| format!("SQS record {i}: {e}"))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, params: &str) -> String {
        format!(
            r#"{{"version":"0","id":"6a7e8feb","detail-type":"AWS API Call via CloudTrail","source":"aws.ecr","account":"123456789012","time":"2026-11-24T06:00:00Z","region":"us-east-1",
            "detail":{{"eventVersion":"1.08","eventSource":"ecr.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","recipientAccountId":"123456789012","eventID":"e-1",
            "requestParameters":{params}}}}}"#
        )
    }

    #[test]
    fn repository_and_registry_events() {
        let v: Value =
            serde_json::from_str(&event("CreateRepository", r#"{"repositoryName":"app"}"#))
                .unwrap();
        let e = parse_event(&v).unwrap();
        assert_eq!(e.scope, Scope::Repository("app".into()));
        assert_eq!(
            (e.account.as_str(), e.region.as_str()),
            ("123456789012", "us-east-1")
        );
        let v: Value = serde_json::from_str(&event(
            "TagResource",
            r#"{"resourceArn":"arn:aws:ecr:us-east-1:123456789012:repository/team/app","tags":[]}"#,
        ))
        .unwrap();
        assert_eq!(
            parse_event(&v).unwrap().scope,
            Scope::Repository("team/app".into())
        );
        let v: Value =
            serde_json::from_str(&event("PutRegistryPolicy", r#"{"policyText":"{}"}"#)).unwrap();
        assert_eq!(parse_event(&v).unwrap().scope, Scope::Registry);
    }

    #[test]
    fn malformed_and_unknown_events_are_errors() {
        let bad = |text: &str, needle: &str| {
            let errs = parse_input(text)
                .map(|v| v.into_iter().filter_map(Result::err).collect::<Vec<_>>());
            let msg = match errs {
                Err(e) => e,
                Ok(v) => v.join("; "),
            };
            assert!(msg.contains(needle), "{needle}: {msg}");
        };
        bad("{not json", "not JSON");
        bad(
            &event("BatchGetImage", r#"{"repositoryName":"app"}"#),
            "not an ECR call ecrguard handles",
        );
        bad(
            &event("SetRepositoryPolicy", "{}"),
            "requestParameters.repositoryName",
        );
        bad(
            &event("CreateRepository", r#"{"repositoryName":"app"}"#).replace("aws.ecr", "aws.s3"),
            "is not `aws.ecr`",
        );
        bad(
            &event("CreateRepository", r#"{"repositoryName":"app"}"#).replace("123456789012", "12"),
            "recipientAccountId",
        );
        let failed = event("SetRepositoryPolicy", r#"{"repositoryName":"app"}"#).replace(
            r#""eventID":"e-1","#,
            r#""eventID":"e-1","errorCode":"AccessDenied","#,
        );
        bad(&failed, "changed nothing");
        bad(r#"{"Records":[{"messageId":"1"}]}"#, "has no `body`");
    }

    #[test]
    fn sqs_batches_keep_order_and_isolate_bad_records() {
        let good = event("CreateRepository", r#"{"repositoryName":"app"}"#);
        let batch = serde_json::json!({"Records": [{"body": good}, {"body": "{}"}]}).to_string();
        let out = parse_input(&batch).unwrap();
        assert_eq!(out.len(), 2);
        assert!(out[0].is_ok());
        assert!(out[1].as_ref().unwrap_err().starts_with("SQS record 1:"));
    }
}
