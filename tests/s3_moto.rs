//! The S3 archive against a real S3-compatible server on loopback: moto's
//! server (`bash .ci/install-moto.sh` installs it into `.ci/cache/venv`),
//! started here on a free port. A bucket with Object Lock gets one
//! COMPLIANCE-locked object; a re-delivery is recognised without a second
//! version; the locked version cannot be deleted; different content at the
//! same key is refused.
//!
//! moto is found through `MOTO_SERVER_BIN`, else `.ci/cache/venv/bin/moto_server`,
//! else `PATH`. Missing: skipped, or a failure under `CI=true`.

mod common;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use soc_tui::config::ObjectLockMode;
use soc_tui::secrets::Secret;
use soc_tui::sinks::archive::{ArchiveObject, ArchiveSink, S3Archive, S3Settings};
use soc_tui::sinks::{ArchiveMetadata, DeliveryRequest, Sink};

use common::moto::Moto;

const BUCKET: &str = "soc-token-archive";

fn archive(moto: &Moto, lock_mode: ObjectLockMode, retention_days: u32) -> ArchiveSink {
    ArchiveSink::S3(S3Archive::new(S3Settings {
        bucket: BUCKET.into(),
        region: "us-east-1".into(),
        endpoint: Some(moto.endpoint()),
        path_style: true,
        prefix: "soc-tui/".into(),
        lock_mode,
        retention_days,
        access_key_id: Secret::new("testing".into()),
        secret_access_key: Secret::new("testing".into()),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(30),
        max_retries: 1,
        proxy: None,
    }))
}

/// The SDK client behind the sink, for bucket setup and inspection.
fn sdk(archive: &ArchiveSink) -> aws_sdk_s3::Client {
    match archive {
        ArchiveSink::S3(s3) => s3.sdk_client().clone(),
        ArchiveSink::Local(_) => unreachable!("built as S3"),
    }
}

fn token_event(raw: &str) -> DeliveryRequest {
    DeliveryRequest::ArchiveObject {
        event_id: "73fd39ed-5aab-4a2a-b93c-c9a4abf0c425".into(),
        account: Some("0123456789abcdef0123456789abcdef".into()),
        time: Utc.with_ymd_and_hms(2026, 11, 20, 11, 2, 0).unwrap(),
        raw_event: raw.into(),
        metadata: ArchiveMetadata {
            finding_key: "token:73fd39ed-5aab-4a2a-b93c-c9a4abf0c425".into(),
            actor: "mallory@example.com".into(),
            rules: vec!["token.write".into()],
            severity: "critical".into(),
        },
    }
}

const RAW: &str = r#"{"id":"73fd39ed-5aab-4a2a-b93c-c9a4abf0c425","action":{"type":"token_create","result":true},"actor":{"email":"mallory@example.com"},"metadata":{"token_name":"deploy-all"}}"#;
const KEY: &str =
    "soc-tui/0123456789abcdef0123456789abcdef/2026/11/20/73fd39ed-5aab-4a2a-b93c-c9a4abf0c425.json";

#[tokio::test]
async fn locked_archive_objects_are_written_once_and_cannot_be_deleted() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let archive = archive(&moto, ObjectLockMode::Compliance, 1);
    let s3 = sdk(&archive);
    s3.create_bucket()
        .bucket(BUCKET)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create bucket: {e:?}\n{}", moto.output()));

    let request = token_event(RAW);
    let before = Utc::now();
    let delivered = archive
        .deliver(&request)
        .await
        .unwrap_or_else(|e| panic!("archive: {e}\n{}", moto.output()));
    assert_eq!(delivered.remote_id, format!("s3://{BUCKET}/{KEY}"));
    assert!(!delivered.already_delivered);

    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key(KEY)
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.object_lock_mode().map(|m| m.as_str()),
        Some("COMPLIANCE")
    );
    let until = head
        .object_lock_retain_until_date()
        .expect("retain-until")
        .secs();
    let expected = (before + chrono::Duration::days(1)).timestamp();
    assert!(
        (until - expected).abs() < 120,
        "retain until {until}, expected about {expected}"
    );
    let version = head.version_id().expect("a version id").to_owned();
    assert_eq!(delivered.note, Some(format!("version {version}")));
    let object = ArchiveObject::of("soc-tui/", &request).expect("object");
    assert_eq!(
        head.e_tag().map(|t| t.trim_matches('"')),
        Some(object.digest.md5_hex.as_str())
    );
    let stored = s3
        .get_object()
        .bucket(BUCKET)
        .key(KEY)
        .send()
        .await
        .expect("get");
    let stored = stored.body.collect().await.expect("body").into_bytes();
    assert_eq!(stored.as_ref(), object.body.as_slice());
    assert!(
        String::from_utf8_lossy(&stored).contains(RAW),
        "the raw event is kept verbatim"
    );

    // A retry (say the first answer was lost) is recognised, not rewritten.
    let again = archive.deliver(&request).await.expect("re-delivery");
    assert!(again.already_delivered);
    assert_eq!(again.note, Some(format!("version {version}")));
    let versions = s3
        .list_object_versions()
        .bucket(BUCKET)
        .prefix(KEY)
        .send()
        .await
        .expect("versions");
    assert_eq!(versions.versions().len(), 1, "{versions:?}");

    // Object Lock holds: the locked version cannot be deleted.
    let deleted = s3
        .delete_object()
        .bucket(BUCKET)
        .key(KEY)
        .version_id(&version)
        .send()
        .await;
    let refused = deleted.expect_err("a COMPLIANCE-locked version must not be deletable");
    assert_eq!(
        refused.raw_response().map(|r| r.status().as_u16()),
        Some(403),
        "{refused:?}"
    );

    // Other bytes under the same key are a conflict a person must look at.
    let tampered = token_event(&RAW.replace("deploy-all", "innocent"));
    let conflict = archive
        .deliver(&tampered)
        .await
        .expect_err("different content");
    assert!(conflict.is_permanent(), "{conflict}");
    assert!(
        conflict
            .message()
            .contains("key exists with different content"),
        "{conflict}"
    );

    let preview = archive.preview(&request).expect("preview").to_string();
    for header in [
        "If-None-Match: *",
        "x-amz-object-lock-mode: COMPLIANCE",
        "x-amz-object-lock-retain-until-date: ",
        &format!("Content-MD5: {}", object.digest.md5_base64),
        &format!("PUT {}/{BUCKET}/{KEY}", moto.endpoint()),
    ] {
        assert!(preview.contains(header), "{header} missing:\n{preview}");
    }
    assert!(!preview.contains("testing"), "{preview}");
}

#[tokio::test]
async fn a_missing_bucket_is_a_permanent_error_naming_the_call() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let archive = archive(&moto, ObjectLockMode::Off, 0);
    let error = archive
        .deliver(&token_event(RAW))
        .await
        .expect_err("no bucket");
    assert!(error.is_permanent(), "{error}");
    assert!(error.message().starts_with("PutObject soc-tui/"), "{error}");
    assert!(error.message().contains("NoSuchBucket"), "{error}");
}
