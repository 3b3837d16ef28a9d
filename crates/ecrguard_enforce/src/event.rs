//! EventBridge events carrying CloudTrail records of ECR API calls (`detail-type: "AWS API
//! Call via CloudTrail"`, `source: "aws.ecr"`, or `aws.ecr-public` for ECR Public, whose API
//! lives in us-east-1 only), alone or in an SQS batch: which resource each one touched.
//! Anything unknown or malformed is an error, never an action.

use serde_json::Value;

/// What an event asks to re-evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One repository.
    Repository(String),
    /// The registry (registry policy, creation templates): reported, never changed.
    Registry,
    /// One ECR Public repository: reported, never changed (making a public repository
    /// private means deleting it, a decision for people).
    PublicRepository(String),
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

/// The ECR Public calls (source `aws.ecr-public`) that can publish a repository or change who
/// may push to it (reported, never changed).
pub const PUBLIC_REPOSITORY_EVENTS: &[&str] = &[
    "CreateRepository",
    "SetRepositoryPolicy",
    "DeleteRepositoryPolicy",
];

/// The one region ECR Public's API (and so its CloudTrail events) lives in.
pub const PUBLIC_REGION: &str = "us-east-1";

/// Most records one SQS batch may hold (Lambda's own ceiling for an SQS source is 10,000).
pub const MAX_BATCH_RECORDS: usize = 10_000;

/// Whether `s` has the shape of an AWS region name (`us-east-1`, `us-gov-west-1`,
/// `cn-north-1`, `us-isob-east-1`, `ap-southeast-7`). The region becomes part of the host
/// the SDK signs requests for: anything else (`attacker.example.com/x?`) would send the
/// caller's credentials elsewhere.
#[must_use]
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lower = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    let [first, middle @ .., last] = parts.as_slice() else {
        return false;
    };
    s.len() <= 32
        && first.len() == 2
        && lower(first)
        && (1..=2).contains(&last.len())
        && last.bytes().all(|b| b.is_ascii_digit())
        && (1..=2).contains(&middle.len())
        && middle.iter().all(|p| lower(p) && p.len() <= 10)
}

/// Whether `s` is a 12-digit account id.
#[must_use]
pub fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` is a repository name ECR accepts: 2 to 256 characters, path components of
/// lowercase letters and digits joined by single `.`, `_` or `-`, separated by `/`.
#[must_use]
pub fn is_repository_name(s: &str) -> bool {
    let component = |c: &str| {
        let b = c.as_bytes();
        let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
        !b.is_empty()
            && alnum(b[0])
            && alnum(b[b.len() - 1])
            && b.iter()
                .all(|&x| alnum(x) || matches!(x, b'.' | b'_' | b'-'))
            && b.windows(2).all(|w| alnum(w[0]) || alnum(w[1]))
    };
    (2..=256).contains(&s.len()) && s.split('/').all(component)
}

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
    let public = match source {
        "aws.ecr" => false,
        "aws.ecr-public" => true,
        _ => {
            return Err(format!(
                "source `{}` is not `aws.ecr` or `aws.ecr-public`",
                shown(source)
            ));
        }
    };
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
    // Every field that reaches an AWS call is checked before any call is made: the event may
    // be forged (one SQS message is enough).
    let event_source = text(detail, "eventSource")?;
    let expected = if public {
        "ecr-public.amazonaws.com"
    } else {
        "ecr.amazonaws.com"
    };
    if event_source != expected {
        return Err(format!(
            "`detail.eventSource` `{}` does not agree with source `{source}`",
            shown(event_source)
        ));
    }
    let name = text(detail, "eventName")?;
    if let Some(code) = detail.get("errorCode").and_then(Value::as_str) {
        return Err(format!(
            "`{}` failed with `{}`: it changed nothing",
            shown(name),
            shown(code)
        ));
    }
    let region = text(detail, "awsRegion")?;
    if !is_region(region) {
        return Err(format!(
            "`awsRegion` `{}` is not a region name",
            shown(region)
        ));
    }
    if let Some(outer) = v.get("region").and_then(Value::as_str)
        && outer != region
    {
        return Err(format!(
            "`region` `{}` and `detail.awsRegion` `{region}` disagree",
            shown(outer)
        ));
    }
    let recipient = detail.get("recipientAccountId").and_then(Value::as_str);
    let outer_account = v.get("account").and_then(Value::as_str);
    let account = recipient
        .or(outer_account)
        .filter(|a| is_account(a))
        .ok_or("missing or malformed `recipientAccountId`")?;
    if let (Some(r), Some(o)) = (recipient, outer_account)
        && r != o
    {
        return Err(format!(
            "`account` `{}` and `detail.recipientAccountId` `{}` disagree",
            shown(o),
            shown(r)
        ));
    }
    let params = detail.get("requestParameters").filter(|p| p.is_object());
    let scope = if public {
        if region != PUBLIC_REGION {
            return Err(format!(
                "an ECR Public event from `{region}`: its API lives in {PUBLIC_REGION} only"
            ));
        }
        if !PUBLIC_REPOSITORY_EVENTS.contains(&name) {
            return Err(format!(
                "`{}` is not an ECR Public call ecrguard handles",
                shown(name)
            ));
        }
        let repository = params
            .and_then(|p| p.get("repositoryName").and_then(Value::as_str))
            .ok_or_else(|| format!("`{name}` without `requestParameters.repositoryName`"))?;
        if let Some(id) = params.and_then(|p| p.get("registryId").and_then(Value::as_str))
            && id != account
        {
            return Err(format!(
                "`registryId` `{}` is not the event's account {account}",
                shown(id)
            ));
        }
        if !is_repository_name(repository) {
            return Err(format!(
                "`{}` is not a repository name ECR Public accepts",
                shown(repository)
            ));
        }
        Scope::PublicRepository(repository.to_string())
    } else if REPOSITORY_EVENTS.contains(&name) {
        let by_name = params.and_then(|p| p.get("repositoryName").and_then(Value::as_str));
        let repository = match by_name {
            Some(n) => n.to_string(),
            None => {
                // TagResource names the repository by ARN, which must be the event's own
                // account and region.
                let arn = params
                    .and_then(|p| p.get("resourceArn").and_then(Value::as_str))
                    .ok_or_else(|| {
                        format!("`{name}` without `requestParameters.repositoryName`")
                    })?;
                repository_of_arn(arn, account, region)?
            }
        };
        if let Some(id) = params.and_then(|p| p.get("registryId").and_then(Value::as_str))
            && id != account
        {
            return Err(format!(
                "`registryId` `{}` is not the event's account {account}",
                shown(id)
            ));
        }
        if !is_repository_name(&repository) {
            return Err(format!(
                "`{}` is not a repository name ECR accepts",
                shown(&repository)
            ));
        }
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

/// The repository an ECR repository ARN names, when it is in `account` and `region`.
fn repository_of_arn(arn: &str, account: &str, region: &str) -> Result<String, String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "ecr", r, a, resource]
            if matches!(*partition, "aws" | "aws-cn" | "aws-us-gov")
                && *r == region
                && *a == account =>
        {
            resource
                .strip_prefix("repository/")
                .map(str::to_string)
                .ok_or_else(|| format!("`resourceArn` `{}` is not a repository", shown(arn)))
        }
        _ => Err(format!(
            "`resourceArn` `{}` is not an ECR repository of account {account} in {region}",
            shown(arn)
        )),
    }
}

/// A value from the event as it may be shown: control characters escaped, at most 200
/// characters (an attacker writes the event, and the message reaches a terminal and logs).
fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(200).flat_map(char::escape_debug).collect();
    if s.chars().count() > 200 {
        out.push('…');
    }
    out
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
    if records.len() > MAX_BATCH_RECORDS {
        return Err(format!(
            "the SQS batch holds {} records, more than {MAX_BATCH_RECORDS}; nothing done",
            records.len()
        ));
    }
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
    fn ecr_public_events_come_from_us_east_1_only() {
        let public = |region: &str, source: &str, name: &str| {
            event(name, r#"{"repositoryName":"oss-cli"}"#)
                .replace("\"source\":\"aws.ecr\"", "\"source\":\"aws.ecr-public\"")
                .replace("ecr.amazonaws.com", source)
                .replace("us-east-1", region)
        };
        let v: Value = serde_json::from_str(&public(
            "us-east-1",
            "ecr-public.amazonaws.com",
            "CreateRepository",
        ))
        .unwrap();
        assert_eq!(
            parse_event(&v).unwrap().scope,
            Scope::PublicRepository("oss-cli".into())
        );
        for (text, needle) in [
            (
                public("eu-west-1", "ecr-public.amazonaws.com", "CreateRepository"),
                "us-east-1 only",
            ),
            (
                public("us-east-1", "ecr.amazonaws.com", "CreateRepository"),
                "does not agree",
            ),
            (
                public(
                    "us-east-1",
                    "ecr-public.amazonaws.com",
                    "PutImageTagMutability",
                ),
                "not an ECR Public call",
            ),
        ] {
            let e = parse_event(&serde_json::from_str(&text).unwrap()).unwrap_err();
            assert!(e.contains(needle), "{e}");
        }
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

    #[test]
    fn forged_fields_are_refused_before_any_call() {
        let good = event("CreateRepository", r#"{"repositoryName":"app"}"#);
        let refused = |text: String, needle: &str| {
            let out = parse_input(&text).unwrap();
            let e = out[0].as_ref().unwrap_err();
            assert!(e.contains(needle), "{needle}: {e}");
        };
        refused(
            good.replace(
                r#""awsRegion":"us-east-1""#,
                r#""awsRegion":"attacker.example.com/x?""#,
            ),
            "is not a region name",
        );
        refused(
            good.replace(r#""region":"us-east-1""#, r#""region":"eu-west-1""#),
            "disagree",
        );
        refused(
            good.replace(r#""account":"123456789012""#, r#""account":"999999999999""#),
            "disagree",
        );
        refused(
            good.replace("ecr.amazonaws.com", "s3.amazonaws.com"),
            "does not agree",
        );
        refused(
            event("CreateRepository", r#"{"repositoryName":"../../x"}"#),
            "not a repository name",
        );
        refused(
            event(
                "CreateRepository",
                r#"{"repositoryName":"app","registryId":"999999999999"}"#,
            ),
            "registryId",
        );
        refused(
            event(
                "TagResource",
                r#"{"resourceArn":"arn:aws:ecr:us-east-1:999999999999:repository/app"}"#,
            ),
            "not an ECR repository of account 123456789012",
        );
        // A control character in a value is shown escaped.
        refused(
            event("CreateRepository", "{\"repositoryName\":\"a\\u001b[2Jb\"}"),
            "\\u{1b}",
        );
        let too_many = serde_json::json!({
            "Records": vec![serde_json::json!({"body": "{}"}); MAX_BATCH_RECORDS + 1]
        });
        assert!(
            parse_input(&too_many.to_string())
                .unwrap_err()
                .contains("more than")
        );
    }

    #[test]
    fn names_regions_and_accounts() {
        for r in [
            "us-east-1",
            "us-gov-west-1",
            "cn-north-1",
            "us-isob-east-1",
            "ap-southeast-7",
            "eu-central-2",
        ] {
            assert!(is_region(r), "{r}");
        }
        for r in [
            "",
            "us-east",
            "attacker.example.com/x?",
            "us-east-1.evil",
            "US-EAST-1",
            "us-east-123",
            "x-east-1",
            "us--1",
        ] {
            assert!(!is_region(r), "{r}");
        }
        for n in ["ab", "team/app", "a.b_c-d/e", "0app"] {
            assert!(is_repository_name(n), "{n}");
        }
        for n in [
            "a",
            "App",
            "-app",
            "app-",
            "a//b",
            "a..b",
            "../x",
            &"a".repeat(257),
        ] {
            assert!(!is_repository_name(n), "{n}");
        }
        assert!(is_account("123456789012") && !is_account("12345678901a") && !is_account("1"));
    }
}
