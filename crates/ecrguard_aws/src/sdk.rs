//! [`EcrApi`] on the official AWS SDK for Rust: the standard credential chain (environment,
//! profiles, SSO, web identity, IMDS), adaptive retry, and explicit timeouts (the SDK has no
//! read timeout by default, and a hung endpoint must not hang the audit).

use crate::api::{
    ApiError, AuthorizationDetails, EcrApi, EcrPublicApi, EcrWriteApi, EksApi, ErrorKind, IamApi,
    IamEntity, IamManagedPolicy, ImageRef, NodeGroup, PublicRepositoryInfo, RepositoryInfo,
    RepositorySpec, decode_policy_document,
};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_ecr::config::retry::RetryPartition;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use ecrguard_model::IdentityKind;
use std::collections::HashMap;
use std::time::Duration;

/// Timeouts of every call.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP and TLS connect.
    pub connect: Duration,
    /// Between bytes of a response.
    pub read: Duration,
    /// One attempt.
    pub attempt: Duration,
    /// The whole call, retries included.
    pub operation: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(20),
            attempt: Duration::from_secs(30),
            operation: Duration::from_secs(120),
        }
    }
}

/// The SDK clients of one account, one ECR client per region.
pub struct SdkApi {
    ecr: HashMap<String, aws_sdk_ecr::Client>,
    eks: HashMap<String, aws_sdk_eks::Client>,
    ec2: aws_sdk_ec2::Client,
    ecr_public: aws_sdk_ecrpublic::Client,
    sts: aws_sdk_sts::Client,
    iam: aws_sdk_iam::Client,
    organizations: aws_sdk_organizations::Client,
    /// The registry every change names (`registryId`), when one is pinned.
    registry_id: Option<String>,
    /// `sts:GetCallerIdentity`'s account, once known.
    account: std::sync::OnceLock<String>,
}

/// Largest response body read from an endpoint. The largest real answers (a page of
/// `GetAccountAuthorizationDetails`, 1,000 repositories) are a few megabytes; an endpoint
/// that streams without end must not fill the memory of an audit.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Caps every response body at [`MAX_RESPONSE_BYTES`]: refused at once when its
/// `Content-Length` says more, cut with an error when the stream goes past it.
#[derive(Debug)]
pub(crate) struct ResponseLimit(pub(crate) usize);

impl Intercept for ResponseLimit {
    fn name(&self) -> &'static str {
        "ecrguard-response-limit"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let limit = self.0;
        let response = context.response_mut();
        if let Some(len) = response
            .headers()
            .get("content-length")
            .and_then(|v| v.parse::<u64>().ok())
            && len > limit as u64
        {
            return Err(format!("response of {len} bytes is over the {limit}-byte limit").into());
        }
        let body = std::mem::replace(response.body_mut(), SdkBody::taken());
        *response.body_mut() = SdkBody::from_body_1_x(http_body_util::Limited::new(body, limit));
        Ok(())
    }
}

/// Attempts per call (the first one included) when neither a flag nor `AWS_MAX_ATTEMPTS`
/// says: two more than the SDKs' standard three, as an audit of many accounts meets more
/// throttling than one call does.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// The most attempts per call ecrguard accepts: beyond this a call that keeps failing only
/// holds the run up (the operation timeout still bounds it).
pub const MAX_MAX_ATTEMPTS: u32 = 100;

/// Attempts per call for the commands that take no `--max-attempts` (`handle-event`,
/// `restore`, the Lambda tasks): `AWS_MAX_ATTEMPTS`, the variable every AWS SDK and the AWS
/// CLI read, else [`DEFAULT_MAX_ATTEMPTS`].
///
/// # Errors
/// `AWS_MAX_ATTEMPTS` set to anything but a whole number from 1 to [`MAX_MAX_ATTEMPTS`].
pub fn max_attempts_from_env() -> Result<u32, String> {
    match std::env::var("AWS_MAX_ATTEMPTS") {
        Err(std::env::VarError::NotPresent) => Ok(DEFAULT_MAX_ATTEMPTS),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err("AWS_MAX_ATTEMPTS is not a number of attempts".to_string())
        }
        Ok(v) => parse_max_attempts(&v).map_err(|e| format!("AWS_MAX_ATTEMPTS: {e}")),
    }
}

/// A number of attempts per call, 1 to [`MAX_MAX_ATTEMPTS`] (`--max-attempts` and
/// `AWS_MAX_ATTEMPTS` both go through it).
///
/// # Errors
/// Anything else, said in words.
pub fn parse_max_attempts(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_MAX_ATTEMPTS).contains(&n) => Ok(n),
        _ => {
            let shown: String = text.chars().take(40).collect();
            Err(format!(
                "`{}` is not a number of attempts from 1 to {MAX_MAX_ATTEMPTS}",
                shown.escape_debug()
            ))
        }
    }
}

/// The configuration every client starts from: credentials and settings from the profile or
/// the environment, adaptive retry of at most `max_attempts`, the given timeouts, and a
/// region (the configured one, else `fallback_region`, else us-east-1).
pub(crate) async fn base_config(
    profile: Option<&str>,
    fallback_region: Option<&str>,
    timeouts: Timeouts,
    max_attempts: u32,
) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive().with_max_attempts(max_attempts))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeouts.connect)
                .read_timeout(timeouts.read)
                .operation_attempt_timeout(timeouts.attempt)
                .operation_timeout(timeouts.operation)
                .build(),
        );
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    let mut base = loader.load().await;
    if base.region().is_none() {
        // IAM, STS and Organizations still need a region to sign with: the first audited
        // one (its partition's endpoint), else us-east-1, where the global services live.
        let first = fallback_region.unwrap_or("us-east-1");
        base = base
            .into_builder()
            .region(Region::new(first.to_string()))
            .build();
    }
    base
}

/// [`base_config`], then `role_arn` assumed with those credentials (with the external id its
/// trust policy may require), when one is given.
pub(crate) async fn config_assuming(
    profile: Option<&str>,
    role_arn: Option<&str>,
    external_id: Option<&str>,
    fallback_region: Option<&str>,
    timeouts: Timeouts,
    max_attempts: u32,
) -> aws_config::SdkConfig {
    let mut base = base_config(profile, fallback_region, timeouts, max_attempts).await;
    if let Some(role) = role_arn {
        let mut builder = aws_config::sts::AssumeRoleProvider::builder(role)
            .session_name("ecrguard")
            .configure(&base);
        if let Some(id) = external_id {
            builder = builder.external_id(id);
        }
        let provider = builder.build().await;
        base = base
            .into_builder()
            .credentials_provider(aws_sdk_ecr::config::SharedCredentialsProvider::new(
                provider,
            ))
            .build();
    }
    base
}

impl SdkApi {
    /// Loads credentials and configuration (profile, environment...), with adaptive retry of
    /// at most `max_attempts` and the given timeouts.
    pub async fn connect(
        profile: Option<&str>,
        regions: &[String],
        timeouts: Timeouts,
        max_attempts: u32,
    ) -> SdkApi {
        Self::connect_as(profile, None, regions, timeouts, max_attempts).await
    }

    /// Like [`SdkApi::connect`], then assumes `role_arn` (when given) with those credentials:
    /// how one process reads many accounts.
    pub async fn connect_as(
        profile: Option<&str>,
        role_arn: Option<&str>,
        regions: &[String],
        timeouts: Timeouts,
        max_attempts: u32,
    ) -> SdkApi {
        Self::connect_assuming(profile, role_arn, None, regions, timeouts, max_attempts).await
    }

    /// Like [`SdkApi::connect_as`], with the external id the role's trust policy may require
    /// (a member account's remediation role trusted by a central handler).
    pub async fn connect_assuming(
        profile: Option<&str>,
        role_arn: Option<&str>,
        external_id: Option<&str>,
        regions: &[String],
        timeouts: Timeouts,
        max_attempts: u32,
    ) -> SdkApi {
        let base = config_assuming(
            profile,
            role_arn,
            external_id,
            regions.first().map(String::as_str),
            timeouts,
            max_attempts,
        )
        .await;
        let ecr = regions
            .iter()
            .map(|r| {
                (
                    r.clone(),
                    aws_sdk_ecr::Client::from_conf(
                        aws_sdk_ecr::config::Builder::from(&base)
                            .interceptor(ResponseLimit(MAX_RESPONSE_BYTES))
                            .region(Region::new(r.clone()))
                            // AWS throttles per account and region: one throttled region
                            // must not slow the adaptive rate limiter of the others.
                            .retry_partition(RetryPartition::new(format!("ecrguard-ecr-{r}")))
                            .build(),
                    ),
                )
            })
            .collect();
        let eks = regions
            .iter()
            .map(|r| {
                (
                    r.clone(),
                    aws_sdk_eks::Client::from_conf(
                        aws_sdk_eks::config::Builder::from(&base)
                            .interceptor(ResponseLimit(MAX_RESPONSE_BYTES))
                            .region(Region::new(r.clone()))
                            .retry_partition(RetryPartition::new(format!("ecrguard-eks-{r}")))
                            .build(),
                    ),
                )
            })
            .collect();
        SdkApi {
            ecr,
            eks,
            ec2: aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(&base)
                    .interceptor(ResponseLimit(MAX_RESPONSE_BYTES))
                    .build(),
            ),
            // ECR Public's API exists only in us-east-1.
            ecr_public: aws_sdk_ecrpublic::Client::from_conf(
                aws_sdk_ecrpublic::config::Builder::from(&base)
                    .interceptor(ResponseLimit(MAX_RESPONSE_BYTES))
                    .region(Region::new("us-east-1"))
                    .build(),
            ),
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(&base)
                    .interceptor(ResponseLimit(MAX_RESPONSE_BYTES))
                    .build(),
            ),
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(&base)
                    .interceptor(ResponseLimit(MAX_RESPONSE_BYTES))
                    .build(),
            ),
            organizations: aws_sdk_organizations::Client::from_conf(
                aws_sdk_organizations::config::Builder::from(&base)
                    .interceptor(ResponseLimit(MAX_RESPONSE_BYTES))
                    .build(),
            ),
            registry_id: None,
            account: std::sync::OnceLock::new(),
        }
    }

    /// `organizations:DescribeOrganization` and `organizations:ListAccounts` (every page):
    /// the organization id and its active accounts' ids, for `--org-role`.
    ///
    /// # Errors
    /// The first failed call, classified.
    pub async fn organization_accounts(&self) -> Result<(String, Vec<String>), ApiError> {
        let org_id = self.organization_id().await?;
        let mut pages = self.organizations.list_accounts().into_paginator().send();
        let mut accounts = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(&e))?;
            for a in page.accounts() {
                let active = a
                    .status()
                    .is_none_or(|s| *s == aws_sdk_organizations::types::AccountStatus::Active);
                if let (Some(id), true) = (a.id(), active) {
                    // An id goes into a role ARN: only what an account id can be.
                    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(ApiError {
                            kind: ErrorKind::Other,
                            code: None,
                            message: format!(
                                "organizations:ListAccounts returned `{}`, not an account id",
                                id.chars()
                                    .filter(|c| !c.is_control())
                                    .take(40)
                                    .collect::<String>()
                            ),
                        });
                    }
                    accounts.push(id.to_string());
                }
            }
        }
        accounts.sort();
        Ok((org_id, accounts))
    }

    /// `organizations:DescribeOrganization`: the caller's organization id.
    ///
    /// # Errors
    /// The call's failure, classified.
    pub async fn organization_id(&self) -> Result<String, ApiError> {
        let org = self
            .organizations
            .describe_organization()
            .send()
            .await
            .map_err(|e| classify(&e))?;
        Ok(org
            .organization()
            .and_then(|o| o.id())
            .unwrap_or_default()
            .to_string())
    }

    /// `ec2:DescribeRegions`: the regions enabled for the account (opt-in regions only once
    /// opted in), sorted: what `audit` reads by default.
    ///
    /// # Errors
    /// The call's failure, classified.
    pub async fn enabled_regions(&self) -> Result<Vec<String>, ApiError> {
        let out = self
            .ec2
            .describe_regions()
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let mut regions: Vec<String> = out
            .regions()
            .iter()
            .filter(|r| r.opt_in_status().is_none_or(|s| s != "not-opted-in"))
            .filter_map(|r| r.region_name().map(str::to_string))
            .collect();
        regions.sort();
        Ok(regions)
    }

    fn client(&self, region: &str) -> Result<&aws_sdk_ecr::Client, ApiError> {
        self.ecr.get(region).ok_or_else(|| ApiError {
            kind: ErrorKind::Other,
            code: None,
            message: format!("no client for region {region}"),
        })
    }
}

/// Turns an SDK error into meaning, once, here.
/// A change call's outcome: done, or done already when `gone` says the service error means
/// the thing to remove is not there.
fn done<O, E: ProvideErrorMetadata + std::error::Error + 'static>(
    sent: Result<O, SdkError<E, HttpResponse>>,
    gone: impl Fn(&E) -> bool,
) -> Result<(), ApiError> {
    match sent {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(&gone) => Ok(()),
        Err(e) => Err(classify(&e)),
    }
}

/// An error and its causes, each by its `Display`, joined with `: ` (repeats dropped).
fn cause_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

pub(crate) fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    e: &SdkError<E, HttpResponse>,
) -> ApiError {
    let code = e.code().map(str::to_string);
    // Service errors carry a message; transport failures and timeouts are best told by
    // their whole cause chain ("dispatch failure: io error: connection closed...").
    // Each cause's own words, joined: `DisplayErrorContext` would print Rust debug structures
    // of the response. An endpoint's text is its own: control characters are dropped.
    let message = e.message().map_or_else(|| cause_chain(e), str::to_string);
    let message: String = message
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    let status = e.raw_response().map(|r| r.status().as_u16());
    let kind = match e {
        SdkError::TimeoutError(_) => ErrorKind::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => ErrorKind::Timeout,
        _ => match (code.as_deref(), status) {
            (
                Some(
                    "AccessDeniedException"
                    | "AccessDenied"
                    | "UnauthorizedOperation"
                    | "UnrecognizedClientException"
                    | "InvalidClientTokenId",
                ),
                _,
            ) => ErrorKind::AccessDenied,
            (
                Some(
                    "ThrottlingException"
                    | "Throttling"
                    | "TooManyRequestsException"
                    | "RequestLimitExceeded",
                ),
                _,
            )
            | (_, Some(429)) => ErrorKind::Throttled,
            (_, Some(501)) => ErrorKind::NotImplemented,
            (_, Some(s)) if s >= 500 => ErrorKind::Server,
            (_, Some(403)) => ErrorKind::AccessDenied,
            _ => ErrorKind::Other,
        },
    };
    ApiError {
        kind,
        code,
        message,
    }
}

fn repository_info(r: &aws_sdk_ecr::types::Repository) -> RepositoryInfo {
    let enc = r.encryption_configuration();
    RepositoryInfo {
        name: r.repository_name().unwrap_or_default().to_string(),
        arn: r.repository_arn().unwrap_or_default().to_string(),
        registry_id: r.registry_id().unwrap_or_default().to_string(),
        tag_mutability: r.image_tag_mutability().map(|m| m.as_str().to_string()),
        scan_on_push: r
            .image_scanning_configuration()
            .map(aws_sdk_ecr::types::ImageScanningConfiguration::scan_on_push),
        encryption_type: enc.map(|e| e.encryption_type().as_str().to_string()),
        kms_key: enc.and_then(|e| e.kms_key()).map(str::to_string),
        created_at: r.created_at().map(aws_smithy_types::DateTime::secs),
    }
}

impl SdkApi {
    /// Every change made through this client names `account`'s registry (`registryId`):
    /// with credentials of another account, ECR refuses the call instead of changing a
    /// same-named repository of the caller's own account.
    #[must_use]
    pub fn for_registry(mut self, account: &str) -> Self {
        self.registry_id = Some(account.to_string());
        self
    }
}

impl EcrWriteApi for SdkApi {
    async fn describe_repository(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Option<RepositoryInfo>, ApiError> {
        match self
            .client(region)?
            .describe_repositories()
            .repository_names(name)
            .send()
            .await
        {
            Ok(out) => Ok(out.repositories().first().map(repository_info)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_repository_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(classify(&e)),
        }
    }

    async fn list_images(&self, region: &str, name: &str) -> Result<Vec<ImageRef>, ApiError> {
        let client = self.client(region)?;
        let mut pages = client
            .describe_images()
            .repository_name(name)
            .set_registry_id(self.registry_id.clone())
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(&e))?;
            for d in page.image_details() {
                out.push(ImageRef {
                    digest: d.image_digest().unwrap_or_default().to_string(),
                    tags: d.image_tags().to_vec(),
                });
            }
        }
        out.sort();
        Ok(out)
    }

    async fn set_repository_policy(
        &self,
        region: &str,
        name: &str,
        text: &str,
    ) -> Result<(), ApiError> {
        let call = self.client(region)?.set_repository_policy();
        done(
            call.repository_name(name)
                .set_registry_id(self.registry_id.clone())
                .policy_text(text)
                .send()
                .await,
            |_| false,
        )
    }

    async fn delete_repository_policy(&self, region: &str, name: &str) -> Result<(), ApiError> {
        let call = self.client(region)?.delete_repository_policy();
        // Already gone: what deleting it wanted.
        done(
            call.repository_name(name)
                .set_registry_id(self.registry_id.clone())
                .send()
                .await,
            |e| e.is_repository_policy_not_found_exception(),
        )
    }

    async fn delete_repository(
        &self,
        region: &str,
        name: &str,
        force: bool,
    ) -> Result<(), ApiError> {
        let call = self.client(region)?.delete_repository();
        done(
            call.repository_name(name)
                .set_registry_id(self.registry_id.clone())
                .force(force)
                .send()
                .await,
            |_| false,
        )
    }

    async fn put_image_tag_mutability(
        &self,
        region: &str,
        name: &str,
        value: &str,
    ) -> Result<(), ApiError> {
        let call = self.client(region)?.put_image_tag_mutability();
        let value = aws_sdk_ecr::types::ImageTagMutability::from(value);
        done(
            call.repository_name(name)
                .set_registry_id(self.registry_id.clone())
                .image_tag_mutability(value)
                .send()
                .await,
            |_| false,
        )
    }

    async fn put_scan_on_push(&self, region: &str, name: &str, on: bool) -> Result<(), ApiError> {
        let call = self.client(region)?.put_image_scanning_configuration();
        let config = aws_sdk_ecr::types::ImageScanningConfiguration::builder()
            .scan_on_push(on)
            .build();
        done(
            call.repository_name(name)
                .set_registry_id(self.registry_id.clone())
                .image_scanning_configuration(config)
                .send()
                .await,
            |_| false,
        )
    }

    async fn put_lifecycle_policy(
        &self,
        region: &str,
        name: &str,
        text: &str,
    ) -> Result<(), ApiError> {
        let call = self.client(region)?.put_lifecycle_policy();
        done(
            call.repository_name(name)
                .set_registry_id(self.registry_id.clone())
                .lifecycle_policy_text(text)
                .send()
                .await,
            |_| false,
        )
    }

    async fn delete_lifecycle_policy(&self, region: &str, name: &str) -> Result<(), ApiError> {
        let call = self.client(region)?.delete_lifecycle_policy();
        done(
            call.repository_name(name)
                .set_registry_id(self.registry_id.clone())
                .send()
                .await,
            |e| e.is_lifecycle_policy_not_found_exception(),
        )
    }

    async fn create_repository(&self, region: &str, spec: &RepositorySpec) -> Result<(), ApiError> {
        use aws_sdk_ecr::types::{
            EncryptionConfiguration, EncryptionType, ImageScanningConfiguration,
            ImageTagMutability, Tag,
        };
        let mut call = self
            .client(region)?
            .create_repository()
            .repository_name(&spec.name)
            .set_registry_id(self.registry_id.clone());
        if let Some(m) = &spec.tag_mutability {
            call = call.image_tag_mutability(ImageTagMutability::from(m.as_str()));
        }
        if let Some(on) = spec.scan_on_push {
            call = call.image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(on)
                    .build(),
            );
        }
        if let Some(t) = &spec.encryption_type {
            let enc = EncryptionConfiguration::builder()
                .encryption_type(EncryptionType::from(t.as_str()))
                .set_kms_key(spec.kms_key.clone())
                .build()
                .map_err(|e| ApiError {
                    kind: ErrorKind::Other,
                    code: None,
                    message: e.to_string(),
                })?;
            call = call.encryption_configuration(enc);
        }
        for (k, v) in &spec.tags {
            let tag = Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ApiError {
                    kind: ErrorKind::Other,
                    code: None,
                    message: e.to_string(),
                })?;
            call = call.tags(tag);
        }
        call.send().await.map(|_| ()).map_err(|e| classify(&e))
    }
}

impl EcrApi for SdkApi {
    async fn account_id(&self) -> Result<String, ApiError> {
        // The same credentials are always the same identity: asked once per client (a
        // handler reading one repository per event would otherwise ask for every event).
        if let Some(account) = self.account.get() {
            return Ok(account.clone());
        }
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let account = out.account().map(str::to_string).ok_or_else(|| ApiError {
            kind: ErrorKind::Other,
            code: None,
            message: "GetCallerIdentity returned no account".into(),
        })?;
        Ok(self.account.get_or_init(|| account).clone())
    }

    async fn describe_repositories(&self, region: &str) -> Result<Vec<RepositoryInfo>, ApiError> {
        let client = self.client(region)?;
        let mut pages = client.describe_repositories().into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(&e))?;
            out.extend(page.repositories().iter().map(repository_info));
        }
        Ok(out)
    }

    async fn creation_templates(
        &self,
        region: &str,
    ) -> Result<Vec<crate::api::CreationTemplateInfo>, ApiError> {
        let client = self.client(region)?;
        let mut pages = client
            .describe_repository_creation_templates()
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(&e))?;
            for t in page.repository_creation_templates() {
                out.push(crate::api::CreationTemplateInfo {
                    prefix: t.prefix().unwrap_or_default().to_string(),
                    applied_for: t
                        .applied_for()
                        .iter()
                        .map(|a| a.as_str().to_string())
                        .collect(),
                    policy: t
                        .repository_policy()
                        .filter(|p| !p.is_empty())
                        .map(str::to_string),
                });
            }
        }
        Ok(out)
    }

    async fn pull_through_cache_rules(
        &self,
        region: &str,
    ) -> Result<Vec<crate::api::PullThroughCacheRuleInfo>, ApiError> {
        let client = self.client(region)?;
        let mut pages = client
            .describe_pull_through_cache_rules()
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(&e))?;
            for r in page.pull_through_cache_rules() {
                out.push(crate::api::PullThroughCacheRuleInfo {
                    prefix: r.ecr_repository_prefix().unwrap_or_default().to_string(),
                    upstream_url: r.upstream_registry_url().unwrap_or_default().to_string(),
                    credential_arn: r.credential_arn().map(str::to_string),
                });
            }
        }
        Ok(out)
    }

    async fn get_repository_policy(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Option<String>, ApiError> {
        match self.client(region)?.get_repository_policy().repository_name(name).send().await {
            Ok(o) => Ok(o.policy_text().map(str::to_string)),
            Err(e) if e.as_service_error().is_some_and(aws_sdk_ecr::operation::get_repository_policy::GetRepositoryPolicyError::is_repository_policy_not_found_exception) => Ok(None),
            Err(e) => Err(classify(&e)),
        }
    }

    async fn get_lifecycle_policy(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Option<String>, ApiError> {
        match self.client(region)?.get_lifecycle_policy().repository_name(name).send().await {
            Ok(o) => Ok(o.lifecycle_policy_text().map(str::to_string)),
            Err(e) if e.as_service_error().is_some_and(aws_sdk_ecr::operation::get_lifecycle_policy::GetLifecyclePolicyError::is_lifecycle_policy_not_found_exception) => Ok(None),
            Err(e) => Err(classify(&e)),
        }
    }

    async fn list_tags(&self, region: &str, arn: &str) -> Result<Vec<(String, String)>, ApiError> {
        let out = self
            .client(region)?
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        Ok(out
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect())
    }

    async fn get_registry_policy(&self, region: &str) -> Result<Option<String>, ApiError> {
        match self.client(region)?.get_registry_policy().send().await {
            Ok(o) => Ok(o.policy_text().map(str::to_string)),
            Err(e) if e.as_service_error().is_some_and(aws_sdk_ecr::operation::get_registry_policy::GetRegistryPolicyError::is_registry_policy_not_found_exception) => Ok(None),
            Err(e) => Err(classify(&e)),
        }
    }

    async fn replication_rules(
        &self,
        region: &str,
    ) -> Result<Vec<crate::api::ReplicationRuleInfo>, ApiError> {
        let out = self
            .client(region)?
            .describe_registry()
            .send()
            .await
            .map_err(|e| classify(&e))?;
        Ok(out
            .replication_configuration()
            .map(|c| {
                c.rules()
                    .iter()
                    .map(|r| crate::api::ReplicationRuleInfo {
                        destinations: r
                            .destinations()
                            .iter()
                            .map(|d| (d.region().to_string(), d.registry_id().to_string()))
                            .collect(),
                        filters: r
                            .repository_filters()
                            .iter()
                            .map(|f| f.filter().to_string())
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn registry_scan_filters(&self, region: &str) -> Result<Vec<String>, ApiError> {
        let out = self
            .client(region)?
            .get_registry_scanning_configuration()
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let mut filters = Vec::new();
        if let Some(cfg) = out.scanning_configuration() {
            for rule in cfg.rules() {
                let freq = rule.scan_frequency().as_str();
                if freq == "SCAN_ON_PUSH" || freq == "CONTINUOUS_SCAN" {
                    filters.extend(
                        rule.repository_filters()
                            .iter()
                            .map(|f| f.filter().to_string()),
                    );
                }
            }
        }
        Ok(filters)
    }
}

fn inline_policies(list: &[aws_sdk_iam::types::PolicyDetail]) -> Vec<(String, String)> {
    list.iter()
        .map(|p| {
            (
                p.policy_name().unwrap_or("unnamed").to_string(),
                decode_policy_document(p.policy_document().unwrap_or_default()),
            )
        })
        .collect()
}

fn attached_arns(list: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<String> {
    list.iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect()
}

impl EcrPublicApi for SdkApi {
    async fn public_repositories(&self) -> Result<(Vec<PublicRepositoryInfo>, usize), ApiError> {
        let mut calls = 0;
        let mut repos = Vec::new();
        let mut pages = self
            .ecr_public
            .describe_repositories()
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            calls += 1;
            repos.extend(
                page.map_err(|e| classify(&e))?
                    .repositories()
                    .iter()
                    .cloned(),
            );
        }
        let mut out = Vec::new();
        for r in repos {
            calls += 1;
            let name = r.repository_name().unwrap_or_default().to_string();
            let policy = match self
                .ecr_public
                .get_repository_policy()
                .repository_name(&name)
                .send()
                .await
            {
                Ok(p) => Ok(p.policy_text().map(str::to_string)),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_repository_policy_not_found_exception()) =>
                {
                    Ok(None)
                }
                Err(e) => Err(classify(&e)),
            };
            out.push(PublicRepositoryInfo {
                name,
                arn: r.repository_arn().unwrap_or_default().to_string(),
                registry_id: r.registry_id().unwrap_or_default().to_string(),
                policy,
            });
        }
        Ok((out, calls))
    }
}

impl EksApi for SdkApi {
    async fn node_groups(&self, region: &str) -> Result<(Vec<NodeGroup>, usize), ApiError> {
        let client = self.eks.get(region).ok_or_else(|| ApiError {
            kind: ErrorKind::Other,
            code: None,
            message: format!("no EKS client for region {region}"),
        })?;
        let mut calls = 0;
        let mut clusters = Vec::new();
        let mut pages = client.list_clusters().into_paginator().send();
        while let Some(page) = pages.next().await {
            calls += 1;
            clusters.extend(page.map_err(|e| classify(&e))?.clusters().iter().cloned());
        }
        let mut out = Vec::new();
        for cluster in clusters {
            let mut names = Vec::new();
            let mut pages = client
                .list_nodegroups()
                .cluster_name(&cluster)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                calls += 1;
                names.extend(page.map_err(|e| classify(&e))?.nodegroups().iter().cloned());
            }
            for name in names {
                calls += 1;
                let d = client
                    .describe_nodegroup()
                    .cluster_name(&cluster)
                    .nodegroup_name(&name)
                    .send()
                    .await
                    .map_err(|e| classify(&e))?;
                if let Some(role) = d.nodegroup().and_then(|g| g.node_role()) {
                    out.push(NodeGroup {
                        cluster: cluster.clone(),
                        name,
                        role_arn: role.to_string(),
                    });
                }
            }
        }
        Ok((out, calls))
    }
}

impl IamApi for SdkApi {
    async fn authorization_details(&self) -> Result<AuthorizationDetails, ApiError> {
        use aws_sdk_iam::types::EntityType;
        let mut pages = self
            .iam
            .get_account_authorization_details()
            .filter(EntityType::User)
            .filter(EntityType::Role)
            .filter(EntityType::Group)
            // AWS managed policies are known by ARN (`ecrguard_iam::managed`); asking for
            // them would page through every one AWS publishes.
            .filter(EntityType::LocalManagedPolicy)
            .into_paginator()
            .send();
        let mut out = AuthorizationDetails::default();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(&e))?;
            out.pages += 1;
            for u in page.user_detail_list() {
                out.entities.push(IamEntity {
                    kind: IdentityKind::User,
                    name: u.user_name().unwrap_or_default().to_string(),
                    arn: u.arn().unwrap_or_default().to_string(),
                    inline: inline_policies(u.user_policy_list()),
                    attached: attached_arns(u.attached_managed_policies()),
                    groups: u.group_list().to_vec(),
                });
            }
            for g in page.group_detail_list() {
                out.entities.push(IamEntity {
                    kind: IdentityKind::Group,
                    name: g.group_name().unwrap_or_default().to_string(),
                    arn: g.arn().unwrap_or_default().to_string(),
                    inline: inline_policies(g.group_policy_list()),
                    attached: attached_arns(g.attached_managed_policies()),
                    groups: Vec::new(),
                });
            }
            for r in page.role_detail_list() {
                out.entities.push(IamEntity {
                    kind: IdentityKind::Role,
                    name: r.role_name().unwrap_or_default().to_string(),
                    arn: r.arn().unwrap_or_default().to_string(),
                    inline: inline_policies(r.role_policy_list()),
                    attached: attached_arns(r.attached_managed_policies()),
                    groups: Vec::new(),
                });
            }
            for p in page.policies() {
                let document = p
                    .policy_version_list()
                    .iter()
                    .find(|v| v.is_default_version())
                    .and_then(|v| v.document())
                    .map(decode_policy_document);
                out.managed.push(IamManagedPolicy {
                    name: p.policy_name().unwrap_or_default().to_string(),
                    arn: p.arn().unwrap_or_default().to_string(),
                    document,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_whole_numbers_from_one_to_the_cap() {
        assert_eq!(parse_max_attempts("1"), Ok(1));
        assert_eq!(parse_max_attempts(" 7 "), Ok(7));
        assert_eq!(parse_max_attempts("100"), Ok(MAX_MAX_ATTEMPTS));
        for bad in ["0", "101", "-1", "3.5", "", "five", "99999999999"] {
            let e = parse_max_attempts(bad).unwrap_err();
            assert!(e.contains("from 1 to 100"), "{bad}: {e}");
        }
        // What a hostile value shows is short and escaped.
        let e = parse_max_attempts(&format!("\u{1b}[31m{}", "9".repeat(500))).unwrap_err();
        assert!(e.len() < 120 && !e.contains('\u{1b}'), "{e}");
    }
}
