//! The narrow surface of AWS that ecrguard reads, as a trait: the SDK implements it (feature
//! `sdk`), tests can implement it too. Errors are classified here, once, so that the
//! collector can never turn an error into a verdict.

use std::fmt;
use std::future::Future;

/// What kind of failure an API call had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorKind {
    /// The caller lacks the IAM permission.
    AccessDenied,
    /// Throttling that outlasted the retries.
    Throttled,
    /// Connect, read or operation timeout.
    Timeout,
    /// A 5xx from the service.
    Server,
    /// The emulator or the service does not implement the call.
    NotImplemented,
    /// Anything else (network, malformed response...).
    Other,
}

impl ErrorKind {
    /// Lower-case word for output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::AccessDenied => "access-denied",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Server => "server-error",
            ErrorKind::NotImplemented => "not-implemented",
            ErrorKind::Other => "error",
        }
    }
}

/// A failed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Classified kind.
    pub kind: ErrorKind,
    /// The AWS error code, when there is one (`AccessDeniedException`).
    pub code: Option<String>,
    /// The message.
    pub message: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(c) => write!(f, "{c}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A repository as `DescribeRepositories` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryInfo {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Owner account (`registryId`).
    pub registry_id: String,
    /// `MUTABLE`, `IMMUTABLE`...
    pub tag_mutability: Option<String>,
    /// Repository-level scan on push.
    pub scan_on_push: Option<bool>,
    /// `AES256`, `KMS`, `KMS_DSSE`.
    pub encryption_type: Option<String>,
    /// KMS key, when KMS.
    pub kms_key: Option<String>,
    /// Creation time, seconds since the epoch.
    pub created_at: Option<i64>,
}

/// The calls ecrguard makes, per region. `Ok(None)` is a proven absence (the service's
/// not-found exception), never an error.
pub trait EcrApi: Sync {
    /// `sts:GetCallerIdentity`: the account id.
    fn account_id(&self) -> impl Future<Output = Result<String, ApiError>> + Send;
    /// `ecr:DescribeRepositories`, every page.
    fn describe_repositories(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<RepositoryInfo>, ApiError>> + Send;
    /// `ecr:GetRepositoryPolicy`: `None` on `RepositoryPolicyNotFoundException`.
    fn get_repository_policy(
        &self,
        region: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, ApiError>> + Send;
    /// `ecr:GetLifecyclePolicy`: `None` on `LifecyclePolicyNotFoundException`.
    fn get_lifecycle_policy(
        &self,
        region: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, ApiError>> + Send;
    /// `ecr:ListTagsForResource`.
    fn list_tags(
        &self,
        region: &str,
        arn: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, ApiError>> + Send;
    /// `ecr:GetRegistryPolicy`: `None` on `RegistryPolicyNotFoundException`.
    fn get_registry_policy(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Option<String>, ApiError>> + Send;
    /// `ecr:DescribeRepositoryCreationTemplates`, every page.
    fn creation_templates(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<CreationTemplateInfo>, ApiError>> + Send;
    /// `ecr:DescribePullThroughCacheRules`, every page.
    fn pull_through_cache_rules(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<PullThroughCacheRuleInfo>, ApiError>> + Send;
    /// `ecr:GetRegistryScanningConfiguration`: the filters of rules that scan on push or
    /// continuously.
    fn registry_scan_filters(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;
    /// `ecr:DescribeRegistry`: the replication rules of the region's registry.
    fn replication_rules(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<ReplicationRuleInfo>, ApiError>> + Send;
}

/// A repository creation template as `DescribeRepositoryCreationTemplates` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreationTemplateInfo {
    /// The prefix (`ROOT` for every repository).
    pub prefix: String,
    /// `PULL_THROUGH_CACHE`, `REPLICATION`, `CREATE_ON_PUSH`.
    pub applied_for: Vec<String>,
    /// The repository policy it applies, when it has one.
    pub policy: Option<String>,
}

/// A pull-through cache rule as `DescribePullThroughCacheRules` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullThroughCacheRuleInfo {
    /// The repository name prefix.
    pub prefix: String,
    /// The upstream registry URL.
    pub upstream_url: String,
    /// The Secrets Manager secret holding the upstream's credentials.
    pub credential_arn: Option<String>,
}

/// A replication rule as `DescribeRegistry` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationRuleInfo {
    /// (region, registry id) of each destination.
    pub destinations: Vec<(String, String)>,
    /// Repository prefix filters; empty for every repository.
    pub filters: Vec<String>,
}

/// An image in a repository: its digest and tags (what a deletion backup records).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImageRef {
    /// `sha256:...`.
    pub digest: String,
    /// Its tags.
    pub tags: Vec<String>,
}

/// What `CreateRepository` needs to put a deleted repository back (empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositorySpec {
    /// Name.
    pub name: String,
    /// `MUTABLE`, `IMMUTABLE`...
    pub tag_mutability: Option<String>,
    /// Scan on push.
    pub scan_on_push: Option<bool>,
    /// `AES256`, `KMS`, `KMS_DSSE`.
    pub encryption_type: Option<String>,
    /// KMS key.
    pub kms_key: Option<String>,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

/// The ECR calls enforcement and restore make. Every change ecrguard can make is here, so
/// what it can touch is visible in one place.
pub trait EcrWriteApi: EcrApi {
    /// `ecr:DescribeRepositories` for one name: `None` on `RepositoryNotFoundException`.
    fn describe_repository(
        &self,
        region: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<RepositoryInfo>, ApiError>> + Send;
    /// `ecr:DescribeImages`, every page: each image's digest and tags.
    fn list_images(
        &self,
        region: &str,
        name: &str,
    ) -> impl Future<Output = Result<Vec<ImageRef>, ApiError>> + Send;
    /// `ecr:SetRepositoryPolicy`.
    fn set_repository_policy(
        &self,
        region: &str,
        name: &str,
        text: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// `ecr:DeleteRepositoryPolicy`.
    fn delete_repository_policy(
        &self,
        region: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// `ecr:DeleteRepository` (`force` deletes its images too).
    fn delete_repository(
        &self,
        region: &str,
        name: &str,
        force: bool,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// `ecr:PutImageTagMutability`.
    fn put_image_tag_mutability(
        &self,
        region: &str,
        name: &str,
        value: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// `ecr:PutImageScanningConfiguration`.
    fn put_scan_on_push(
        &self,
        region: &str,
        name: &str,
        on: bool,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// `ecr:PutLifecyclePolicy`.
    fn put_lifecycle_policy(
        &self,
        region: &str,
        name: &str,
        text: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// `ecr:DeleteLifecyclePolicy`.
    fn delete_lifecycle_policy(
        &self,
        region: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// `ecr:CreateRepository` with settings and tags.
    fn create_repository(
        &self,
        region: &str,
        spec: &RepositorySpec,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

/// A journal entry as an item of a DynamoDB table: the key `id`, the entry's text (the same
/// JSON a journal file holds), and two attributes the writes are conditioned on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalItem {
    /// The partition key: the entry's id.
    pub id: String,
    /// How many status changes the entry has recorded. A write only ever raises it, so a
    /// slower writer holding an older state can never put it back.
    pub revision: u64,
    /// The entry's status word (`pending`, `applied`...), for finding interrupted entries.
    pub status: String,
    /// The entry, as JSON.
    pub body: String,
}

/// The DynamoDB calls a journal table needs. The table is made by the deploy templates (its
/// partition key `id`, a string), never by ecrguard.
pub trait JournalTableApi: Sync {
    /// `dynamodb:GetItem`, strongly consistent: `None` when there is no such item.
    fn get_journal_item(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<JournalItem>, ApiError>> + Send;
    /// `dynamodb:PutItem` only when no item has this id: `false` (nothing written) when one
    /// has. A backup, once written, is never overwritten.
    fn put_new_journal_item(
        &self,
        item: &JournalItem,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;
    /// `dynamodb:PutItem` only when the stored item's revision is lower than `item`'s:
    /// `false` (nothing written) otherwise.
    fn replace_journal_item(
        &self,
        item: &JournalItem,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;
    /// `dynamodb:Scan` (every page, strongly consistent) for the items whose status is
    /// `status`.
    fn journal_items_with_status(
        &self,
        status: &str,
    ) -> impl Future<Output = Result<Vec<JournalItem>, ApiError>> + Send;
}

/// An ECR Public repository and what `GetRepositoryPolicy` said about its policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicRepositoryInfo {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Owner account.
    pub registry_id: String,
    /// `ecr-public:GetRepositoryPolicy`: `None` on `RepositoryPolicyNotFoundException`.
    pub policy: Result<Option<String>, ApiError>,
}

/// The ECR Public calls ecrguard makes (the service lives in us-east-1 only).
pub trait EcrPublicApi: Sync {
    /// `ecr-public:DescribeRepositories` (every page) and `ecr-public:GetRepositoryPolicy`
    /// per repository; the number of calls made.
    fn public_repositories(
        &self,
    ) -> impl Future<Output = Result<(Vec<PublicRepositoryInfo>, usize), ApiError>> + Send;
}

/// An EKS managed node group and the role its nodes run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeGroup {
    /// Cluster name.
    pub cluster: String,
    /// Node group name.
    pub name: String,
    /// `nodeRole`: the IAM role ARN.
    pub role_arn: String,
}

/// The EKS calls ecrguard makes, per region, to know which roles EKS nodes run as.
pub trait EksApi: Sync {
    /// `eks:ListClusters`, `eks:ListNodegroups` and `eks:DescribeNodegroup`, every page: the
    /// node groups and the number of calls made.
    fn node_groups(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<(Vec<NodeGroup>, usize), ApiError>> + Send;
}

/// An IAM user, role or group as `GetAccountAuthorizationDetails` describes it, documents
/// already URL-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamEntity {
    /// User, role or group.
    pub kind: ecrguard_model::IdentityKind,
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Inline policies: (name, document).
    pub inline: Vec<(String, String)>,
    /// Attached managed policies' ARNs.
    pub attached: Vec<String>,
    /// A user's groups.
    pub groups: Vec<String>,
}

/// A customer managed policy and its default version's document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamManagedPolicy {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// The default version's document, when returned.
    pub document: Option<String>,
}

/// One account's IAM, every page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationDetails {
    /// Users, roles and groups.
    pub entities: Vec<IamEntity>,
    /// Customer managed policies.
    pub managed: Vec<IamManagedPolicy>,
    /// Pages read.
    pub pages: usize,
}

/// The IAM call ecrguard makes, per account.
pub trait IamApi: Sync {
    /// `iam:GetAccountAuthorizationDetails` for users, roles, groups and customer managed
    /// policies, every page.
    fn authorization_details(
        &self,
    ) -> impl Future<Output = Result<AuthorizationDetails, ApiError>> + Send;
}

/// Decodes the URL encoding IAM applies to policy documents (RFC 3986 percent-encoding; `+`
/// is left alone, as the AWS CLI does, since policies use it literally). Tolerant: a document that is not encoded, or a
/// stray `%`, comes back as it was, so the JSON parser reports the real problem.
#[must_use]
pub fn decode_policy_document(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::decode_policy_document as decode;

    #[test]
    fn decodes_iam_url_encoding_tolerantly() {
        assert_eq!(
            decode("%7B%22Effect%22%3A%22Allow%22%7D"),
            r#"{"Effect":"Allow"}"#
        );
        assert_eq!(decode(r#"{"a":"b"}"#), r#"{"a":"b"}"#);
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("a+b%20c"), "a+b c");
        // Bytes that do not form UTF-8 leave the text as it was.
        assert_eq!(decode("%FF"), "%FF");
    }
}
