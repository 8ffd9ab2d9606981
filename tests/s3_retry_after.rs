//! The S3 archive honours `Retry-After` on a throttled answer (429, or 503
//! `SlowDown`): the throttled delivery goes back to the outbox carrying the
//! wait, not retried early by the SDK, and no other archive call goes out
//! before the wait is over. Against a scripted loopback server.

mod common;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use common::fake_server::{FakeServer, reply};
use soc_tui::config::ObjectLockMode;
use soc_tui::secrets::Secret;
use soc_tui::sinks::archive::{ArchiveSink, S3Archive, S3Settings};
use soc_tui::sinks::{ArchiveMetadata, DeliveryRequest, Sink};

const SLOW_DOWN: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>\
    <Message>Please reduce your request rate.</Message><RequestId>r1</RequestId></Error>";

fn archive(server: &FakeServer) -> ArchiveSink {
    ArchiveSink::S3(S3Archive::new(S3Settings {
        bucket: "archive".into(),
        region: "us-east-1".into(),
        endpoint: Some(server.base()),
        path_style: true,
        prefix: "soc-tui/".into(),
        lock_mode: ObjectLockMode::Off,
        retention_days: 0,
        access_key_id: Secret::new("testing".into()),
        secret_access_key: Secret::new("testing".into()),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(5),
        max_retries: 2,
        proxy: None,
    }))
}

fn token_event(id: &str) -> DeliveryRequest {
    DeliveryRequest::ArchiveObject {
        event_id: id.into(),
        account: Some("acc".into()),
        time: Utc.with_ymd_and_hms(2026, 11, 20, 11, 2, 0).unwrap(),
        raw_event: format!(r#"{{"id":"{id}"}}"#),
        metadata: ArchiveMetadata {
            finding_key: format!("token:{id}"),
            actor: "mallory@example.com".into(),
            rules: vec![],
            severity: "high".into(),
        },
    }
}

#[tokio::test]
async fn a_throttle_goes_back_to_the_outbox_and_holds_every_archive_call() {
    for status in [429, 503] {
        let server = FakeServer::start(vec![
            reply(
                status,
                &[("Retry-After", "2"), ("Content-Type", "application/xml")],
                SLOW_DOWN,
            ),
            reply(200, &[("ETag", "\"0123\"")], ""),
        ])
        .await;
        let archive = archive(&server);
        let throttled = archive.deliver(&token_event("e1")).await.unwrap_err();
        assert!(throttled.is_transient(), "{throttled}");
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(2)));
        assert!(throttled.message().contains("SlowDown"), "{throttled}");
        assert_eq!(
            server.count(),
            1,
            "{status}: not retried in place before the wait"
        );

        // Another delivery right away waits for the block to end.
        archive
            .deliver(&token_event("e2"))
            .await
            .expect("delivered");
        let got = server.received();
        assert_eq!(got.len(), 2);
        let gap = got[1].at - got[0].at;
        assert!(
            gap >= Duration::from_secs(2),
            "{status}: sent {gap:?} after the throttle"
        );
        assert!(
            got[1].path().ends_with("/e2.json"),
            "{}",
            got[1].request_line
        );
    }
}

#[tokio::test]
async fn other_transient_failures_are_retried_in_place() {
    let server = FakeServer::start(vec![
        reply(500, &[], "<Error><Code>InternalError</Code></Error>"),
        reply(200, &[("ETag", "\"0123\"")], ""),
    ])
    .await;
    let delivered = archive(&server)
        .deliver(&token_event("e3"))
        .await
        .expect("second attempt");
    assert!(!delivered.already_delivered);
    assert_eq!(server.count(), 2);
}
