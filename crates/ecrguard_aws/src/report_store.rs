//! Reports written to S3 (feature `report-store`): how the scheduled organization audit in
//! Lambda leaves its report, since a Lambda or Step Functions answer is too small to carry one.

use crate::api::ApiError;
use crate::sdk::{MAX_RESPONSE_BYTES, ResponseLimit, Timeouts, base_config, classify};

/// One S3 client of the caller's own credentials.
pub struct SdkReportStore {
    client: aws_sdk_s3::Client,
}

/// Whether S3 accepts `name` as a bucket name (3 to 63 lower-case letters, digits, `-` and
/// `.`, starting and ending with a letter or digit).
#[must_use]
pub fn is_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric())
}

impl SdkReportStore {
    /// A client with the credentials and region of the profile or environment, and the
    /// run's attempts per call.
    pub async fn connect(profile: Option<&str>, timeouts: Timeouts, max_attempts: u32) -> Self {
        let base = base_config(profile, None, timeouts, max_attempts).await;
        SdkReportStore {
            client: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&base)
                    .interceptor(ResponseLimit(MAX_RESPONSE_BYTES))
                    // Emulators and private endpoints serve buckets by path.
                    .force_path_style(std::env::var_os("AWS_ENDPOINT_URL").is_some())
                    .build(),
            ),
        }
    }

    /// `s3:PutObject` of `body` at `bucket`/`key`, encrypted at rest by S3's own key.
    ///
    /// # Errors
    /// The failed call, classified.
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), ApiError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
            .body(body.into())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::is_bucket_name;

    #[test]
    fn bucket_names() {
        assert!(is_bucket_name("ecrguard-reports"));
        assert!(is_bucket_name("a.b-1"));
        for bad in [
            "ab",
            "Upper",
            "-lead",
            "trail-",
            "a/b",
            "a b",
            &"x".repeat(64),
        ] {
            assert!(!is_bucket_name(bad), "{bad}");
        }
    }
}
