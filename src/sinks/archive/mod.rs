//! The token archive: one write-once object per token-creation event, in S3
//! (with Object Lock when configured) or, without a bucket, in a local
//! directory (`<data dir>/archive`) with the same key layout.
//!
//! The key is a function of the event (`{prefix}/{account}/{yyyy}/{mm}/{dd}/{event_id}.json`)
//! and the body a function of the outbox row, so a retry writes the same
//! bytes to the same key, and "already there with the same MD5" means
//! delivered.

mod local_dir;
mod s3;
mod s3_calls;

use std::path::PathBuf;

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::config::{HttpConfig, S3Config};
use crate::secrets::Resolver;
use crate::sources::http::RateLimitState;

use super::idempotency::{ContentDigest, content_digest, key_segment};
use super::request::{ArchiveMetadata, DeliveryRequest};
use super::{DeliveryFuture, Preview, Sink, SinkError, SinkKind, SinkSetupError};

pub use local_dir::LocalDirArchive;
pub use s3::{S3Archive, S3Settings};

/// Names the body layout, so a reader years later knows what it holds.
pub const ARCHIVE_SCHEMA: &str = "soc-tui.archive.v1";
/// Account segment for events that name none.
const NO_ACCOUNT: &str = "no-account";
/// Under the data dir when no bucket is configured.
pub const LOCAL_ARCHIVE_DIR: &str = "archive";

/// Where archived objects go.
pub enum ArchiveSink {
    S3(S3Archive),
    Local(LocalDirArchive),
}

impl ArchiveSink {
    /// S3 when `[s3] bucket` is set, else `<data_dir>/archive`.
    pub fn from_config(
        config: &S3Config,
        http: &HttpConfig,
        resolver: &Resolver<'_>,
        data_dir: &std::path::Path,
    ) -> Result<ArchiveSink, SinkSetupError> {
        match S3Settings::from_config(config, http, resolver)? {
            Some(settings) => Ok(ArchiveSink::S3(S3Archive::new(settings))),
            None => Ok(ArchiveSink::Local(LocalDirArchive::new(
                data_dir.join(LOCAL_ARCHIVE_DIR),
                &config.prefix,
            ))),
        }
    }
}

impl ArchiveSink {
    /// S3's rate-limit block; a local directory has none.
    pub fn rate_limit(&self) -> Option<&RateLimitState> {
        match self {
            ArchiveSink::S3(s3) => Some(s3.rate_limit()),
            ArchiveSink::Local(_) => None,
        }
    }
}

impl Sink for ArchiveSink {
    fn deliver<'a>(&'a self, request: &'a DeliveryRequest) -> DeliveryFuture<'a> {
        Box::pin(async move {
            match self {
                ArchiveSink::S3(s3) => s3.put(&ArchiveObject::of(s3.prefix(), request)?).await,
                ArchiveSink::Local(dir) => {
                    let object = ArchiveObject::of(dir.prefix(), request)?;
                    let dir = dir.clone();
                    // File I/O and fsync block: keep them off the async workers.
                    tokio::task::spawn_blocking(move || dir.put(&object))
                        .await
                        .map_err(|e| {
                            SinkError::transient(
                                SinkKind::Archive,
                                format!("the archive write task failed: {e}"),
                            )
                        })?
                }
            }
        })
    }

    fn preview(&self, request: &DeliveryRequest) -> Result<Preview, SinkError> {
        Ok(match self {
            ArchiveSink::S3(s3) => s3.preview(&ArchiveObject::of(s3.prefix(), request)?),
            ArchiveSink::Local(dir) => dir.preview(&ArchiveObject::of(dir.prefix(), request)?),
        })
    }
}

/// One rendered archive object.
#[derive(Debug, Clone)]
pub struct ArchiveObject {
    pub key: String,
    pub body: Vec<u8>,
    pub digest: ContentDigest,
}

impl ArchiveObject {
    pub fn of(prefix: &str, request: &DeliveryRequest) -> Result<ArchiveObject, SinkError> {
        let DeliveryRequest::ArchiveObject {
            event_id,
            account,
            time,
            raw_event,
            metadata,
        } = request
        else {
            return Err(SinkError::permanent(
                SinkKind::Archive,
                "not an archive request",
            ));
        };
        let body = render_body(event_id, account.as_deref(), *time, raw_event, metadata)?;
        Ok(ArchiveObject {
            key: object_key(prefix, account.as_deref(), *time, event_id),
            digest: content_digest(&body),
            body,
        })
    }

    /// The key as a relative path (its `/` separators as path components).
    pub fn relative_path(&self) -> PathBuf {
        self.key.split('/').collect()
    }
}

/// `{prefix}/{account}/{yyyy}/{mm}/{dd}/{event_id}.json`, each attacker-supplied
/// part encoded by [`key_segment`]. The prefix is the operator's (validated
/// by the config) and used as written, with one `/` after it.
pub fn object_key(
    prefix: &str,
    account: Option<&str>,
    time: DateTime<Utc>,
    event_id: &str,
) -> String {
    let prefix = prefix.trim_end_matches('/');
    let account = account
        .filter(|a| !a.is_empty())
        .map_or_else(|| NO_ACCOUNT.to_owned(), key_segment);
    let tail = format!(
        "{account}/{:04}/{:02}/{:02}/{}.json",
        time.year(),
        time.month(),
        time.day(),
        key_segment(event_id)
    );
    if prefix.is_empty() {
        tail
    } else {
        format!("{prefix}/{tail}")
    }
}

#[derive(Serialize)]
struct Body<'a> {
    schema: &'static str,
    event_id: &'a str,
    account: Option<&'a str>,
    time: String,
    metadata: &'a ArchiveMetadata,
    /// The entry byte for byte when it is JSON (it always is from our
    /// parsers); otherwise `raw_event_text` holds it as a string.
    #[serde(skip_serializing_if = "Option::is_none")]
    raw_event: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw_event_text: Option<&'a str>,
}

fn render_body(
    event_id: &str,
    account: Option<&str>,
    time: DateTime<Utc>,
    raw: &str,
    metadata: &ArchiveMetadata,
) -> Result<Vec<u8>, SinkError> {
    let parsed: Option<&RawValue> = serde_json::from_str(raw).ok();
    let body = Body {
        schema: ARCHIVE_SCHEMA,
        event_id,
        account,
        time: time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        metadata,
        raw_event: parsed,
        raw_event_text: parsed.is_none().then_some(raw),
    };
    let mut bytes = serde_json::to_vec_pretty(&body).map_err(|e| {
        SinkError::permanent(
            SinkKind::Archive,
            format!("cannot render the archive body: {e}"),
        )
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn request(raw: &str, event_id: &str, account: Option<&str>) -> DeliveryRequest {
        DeliveryRequest::ArchiveObject {
            event_id: event_id.into(),
            account: account.map(str::to_owned),
            time: Utc.with_ymd_and_hms(2026, 3, 7, 23, 59, 1).unwrap(),
            raw_event: raw.into(),
            metadata: ArchiveMetadata {
                finding_key: "token:e1".into(),
                actor: "m@example.com".into(),
                rules: vec!["token.write".into()],
                severity: "high".into(),
            },
        }
    }

    #[test]
    fn keys_follow_the_documented_layout() {
        let t = Utc.with_ymd_and_hms(2026, 3, 7, 23, 59, 1).unwrap();
        assert_eq!(
            object_key("soc-tui/", Some("acc1"), t, "e1"),
            "soc-tui/acc1/2026/03/07/e1.json"
        );
        assert_eq!(
            object_key("", None, t, "e1"),
            "no-account/2026/03/07/e1.json"
        );
        assert_eq!(
            object_key("a/b", Some("../x"), t, "../../etc/passwd"),
            "a/b/..%2Fx/2026/03/07/..%2F..%2Fetc%2Fpasswd.json"
        );
    }

    #[test]
    fn body_keeps_the_raw_event_verbatim_and_is_deterministic() {
        let raw = "{\"id\" : \"e1\",\n \"when\":\"2026-03-07T23:59:01Z\"}";
        let a = ArchiveObject::of("p", &request(raw, "e1", Some("acc"))).unwrap();
        let b = ArchiveObject::of("p", &request(raw, "e1", Some("acc"))).unwrap();
        assert_eq!(a.body, b.body);
        assert_eq!(a.digest, b.digest);
        let text = String::from_utf8(a.body.clone()).unwrap();
        assert!(text.contains(raw), "{text}");
        let parsed: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(parsed["schema"], ARCHIVE_SCHEMA);
        assert_eq!(parsed["raw_event"]["id"], "e1");
        assert_eq!(parsed["metadata"]["finding_key"], "token:e1");
        assert_eq!(a.relative_path(), PathBuf::from("p/acc/2026/03/07/e1.json"));
    }

    #[test]
    fn a_raw_event_that_is_not_json_is_kept_as_text() {
        let a = ArchiveObject::of("", &request("not json {", "e1", None)).unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(parsed["raw_event_text"], "not json {");
        assert!(parsed.get("raw_event").is_none());
    }
}
