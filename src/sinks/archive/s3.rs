//! S3 (or an S3-compatible server) through `aws-sdk-s3`.
//!
//! `PutObject` carries `Content-MD5`, `If-None-Match: *` and, when
//! configured, the Object Lock mode and retain-until date. A 412 means the
//! key exists: the object there is compared with ours (ETag, else its
//! bytes) and the same content counts as delivered. Credentials come only
//! from `soc-tui auth` (`s3-access-key-id`, `s3-secret-access-key`); the
//! AWS environment and profile chain is not consulted.

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ObjectLockMode as SdkLockMode;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder as HttpClientBuilder, Connector};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

use crate::config::{HttpConfig, ObjectLockMode, S3Config};
use crate::secrets::{Credential, Resolver, Secret};
use crate::sinks::idempotency::content_digest;

use super::super::preview::{Preview, PreviewStep, REDACTED};
use super::super::{Delivered, SinkError, SinkKind, SinkSetupError};
use super::ArchiveObject;
use super::s3_calls::{S3Calls, classify, http_status};
use crate::sources::http::RateLimitState;

/// Everything the S3 archive needs, resolved from config and keychain.
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// An S3-compatible server; AWS itself when unset.
    pub endpoint: Option<String>,
    pub path_style: bool,
    pub prefix: String,
    pub lock_mode: ObjectLockMode,
    pub retention_days: u32,
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub max_retries: u32,
    pub proxy: Option<String>,
}

impl S3Settings {
    /// `None` when no bucket is configured (the local directory is used).
    pub fn from_config(
        config: &S3Config,
        http: &HttpConfig,
        resolver: &Resolver<'_>,
    ) -> Result<Option<S3Settings>, SinkSetupError> {
        let Some(bucket) = &config.bucket else {
            return Ok(None);
        };
        let (access_key_id, _) = resolver.require(Credential::S3AccessKeyId)?;
        let (secret_access_key, _) = resolver.require(Credential::S3SecretAccessKey)?;
        Ok(Some(S3Settings {
            bucket: bucket.clone(),
            region: config.region.clone(),
            endpoint: config.endpoint.as_ref().map(|e| e.as_str().to_owned()),
            path_style: config.path_style,
            prefix: config.prefix.clone(),
            lock_mode: config.object_lock_mode,
            retention_days: config.retention_days,
            access_key_id,
            secret_access_key,
            connect_timeout: http.connect_timeout.get(),
            request_timeout: http.request_timeout.get(),
            max_retries: http.max_retries,
            proxy: http.proxy.as_ref().map(|p| p.as_str().to_owned()),
        }))
    }
}

pub struct S3Archive {
    client: Client,
    bucket: String,
    region: String,
    endpoint: Option<String>,
    path_style: bool,
    prefix: String,
    lock: Option<(SdkLockMode, u32)>,
    calls: S3Calls,
}

impl S3Archive {
    pub fn new(settings: S3Settings) -> S3Archive {
        let credentials = Credentials::new(
            settings.access_key_id.expose(),
            settings.secret_access_key.expose(),
            None,
            None,
            "soc-tui auth",
        );
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(settings.region.clone()))
            .credentials_provider(credentials)
            .force_path_style(settings.path_style)
            .http_client(http_client(settings.proxy.as_deref()))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(settings.connect_timeout)
                    .operation_attempt_timeout(settings.request_timeout)
                    .build(),
            )
            // Retries are the archive's own (see `s3_calls`).
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            // We send Content-MD5 ourselves; no extra trailing checksums.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired);
        if let Some(endpoint) = &settings.endpoint {
            config = config.endpoint_url(endpoint);
        }
        let lock = match settings.lock_mode {
            ObjectLockMode::Off => None,
            ObjectLockMode::Governance => Some((SdkLockMode::Governance, settings.retention_days)),
            ObjectLockMode::Compliance => Some((SdkLockMode::Compliance, settings.retention_days)),
        };
        S3Archive {
            client: Client::from_conf(config.build()),
            bucket: settings.bucket,
            region: settings.region,
            endpoint: settings.endpoint,
            path_style: settings.path_style,
            prefix: settings.prefix,
            lock,
            calls: S3Calls::new(settings.max_retries),
        }
    }

    /// The block a throttled answer put in place (every archive call waits
    /// it out), for the engine and for carrying it across restarts.
    pub fn rate_limit(&self) -> &RateLimitState {
        self.calls.rate_limit()
    }

    /// The SDK client, for administrative calls (bucket setup in tests,
    /// a connectivity check).
    pub fn sdk_client(&self) -> &Client {
        &self.client
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn remote_id(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    fn retain_until(&self, now: DateTime<Utc>) -> Option<(SdkLockMode, DateTime<Utc>)> {
        self.lock.as_ref().map(|(mode, days)| {
            (
                mode.clone(),
                now.checked_add_signed(TimeDelta::days(i64::from(*days)))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC),
            )
        })
    }

    pub(super) async fn put(&self, object: &ArchiveObject) -> Result<Delivered, SinkError> {
        // One retention date for every attempt of this delivery.
        let lock = self.retain_until(Utc::now());
        let sent = self
            .calls
            .run("PutObject", || {
                let mut put = self
                    .client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(&object.key)
                    .body(ByteStream::from(object.body.clone()))
                    .content_type("application/json")
                    .content_md5(&object.digest.md5_base64)
                    .if_none_match("*");
                if let Some((mode, until)) = &lock {
                    put = put
                        .object_lock_mode(mode.clone())
                        .object_lock_retain_until_date(
                            aws_sdk_s3::primitives::DateTime::from_secs(until.timestamp()),
                        );
                }
                put.send()
            })
            .await?;
        match sent {
            Ok(output) => Ok(Delivered::created(self.remote_id(&object.key), None)
                .with_note(output.version_id().map(|v| format!("version {v}")))),
            Err(error) if http_status(&error) == Some(412) => self.existing(object).await,
            Err(error) => Err(classify("PutObject", &object.key, &error)),
        }
    }

    /// The key exists: delivered if it holds our bytes, a permanent
    /// conflict otherwise (the archive never overwrites).
    async fn existing(&self, object: &ArchiveObject) -> Result<Delivered, SinkError> {
        let head = self
            .calls
            .run("HeadObject", || {
                self.client
                    .head_object()
                    .bucket(&self.bucket)
                    .key(&object.key)
                    .send()
            })
            .await?
            .map_err(|e| classify("HeadObject", &object.key, &e))?;
        let etag = head.e_tag().unwrap_or_default().trim_matches('"');
        // The ETag is the MD5 only for single-part uploads without SSE-KMS;
        // otherwise compare the bytes themselves.
        let same = etag.eq_ignore_ascii_case(&object.digest.md5_hex) || {
            let stored = self
                .calls
                .run("GetObject", || {
                    self.client
                        .get_object()
                        .bucket(&self.bucket)
                        .key(&object.key)
                        .send()
                })
                .await?
                .map_err(|e| classify("GetObject", &object.key, &e))?;
            let bytes = stored.body.collect().await.map_err(|e| {
                SinkError::transient(
                    SinkKind::Archive,
                    format!("GetObject {}: reading the body failed: {e}", object.key),
                )
            })?;
            content_digest(&bytes.into_bytes()) == object.digest
        };
        if !same {
            return Err(SinkError::permanent(
                SinkKind::Archive,
                format!(
                    "s3://{}/{}: key exists with different content (ETag {etag}, ours {}); \
                     archived objects are never overwritten",
                    self.bucket, object.key, object.digest.md5_hex
                ),
            ));
        }
        Ok(Delivered::found(self.remote_id(&object.key), None)
            .with_note(head.version_id().map(|v| format!("version {v}"))))
    }

    pub(super) fn preview(&self, object: &ArchiveObject) -> Preview {
        let url = match (&self.endpoint, self.path_style) {
            (Some(endpoint), true) => format!("{endpoint}/{}/{}", self.bucket, object.key),
            (Some(endpoint), false) => {
                let (scheme, host) = endpoint.split_once("://").unwrap_or(("https", endpoint));
                format!("{scheme}://{}.{host}/{}", self.bucket, object.key)
            }
            (None, true) => format!(
                "https://s3.{}.amazonaws.com/{}/{}",
                self.region, self.bucket, object.key
            ),
            (None, false) => format!(
                "https://{}.s3.{}.amazonaws.com/{}",
                self.bucket, self.region, object.key
            ),
        };
        let mut headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Content-MD5".to_owned(), object.digest.md5_base64.clone()),
            ("If-None-Match".to_owned(), "*".to_owned()),
        ];
        if let Some((mode, until)) = self.retain_until(Utc::now()) {
            headers.push(("x-amz-object-lock-mode".into(), mode.as_str().to_owned()));
            headers.push((
                "x-amz-object-lock-retain-until-date".into(),
                until.to_rfc3339_opts(SecondsFormat::Secs, true),
            ));
        }
        headers.push((
            "Authorization".into(),
            format!("AWS4-HMAC-SHA256 {REDACTED} (signed when sent)"),
        ));
        Preview {
            steps: vec![PreviewStep {
                purpose: "archive the event once (a 412 means it is already there)".into(),
                method: "PUT".into(),
                url,
                headers,
                body: Some(String::from_utf8_lossy(&object.body).into_owned()),
            }],
        }
    }
}

/// hyper + rustls with *ring* (already in the build for reqwest), honouring
/// `[http] proxy` like every other client.
fn http_client(proxy: Option<&str>) -> aws_sdk_s3::config::SharedHttpClient {
    let proxy = proxy.and_then(|url| ProxyConfig::all(url).ok());
    HttpClientBuilder::new().build_with_connector_fn(move |settings, components| {
        let mut builder = Connector::builder();
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        if let Some(proxy) = &proxy {
            builder = builder.proxy_config(proxy.clone());
        }
        builder
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build()
    })
}
