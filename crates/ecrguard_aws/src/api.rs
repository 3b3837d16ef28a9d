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
    /// `ecr:GetRegistryScanningConfiguration`: the filters of rules that scan on push or
    /// continuously.
    fn registry_scan_filters(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;
}
