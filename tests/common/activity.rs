//! Audit events several engine tests share: mallory's Cloudflare token
//! creation and her Datadog role-grant burst.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use soc_tui::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};

fn mallory() -> Actor {
    Actor {
        email: Some("mallory@example.com".into()),
        ..Actor::default()
    }
}

/// Token `tok-1` ("deploy-all") created at `time`: an archive object and a
/// Linear review ticket.
pub fn token_creation(time: DateTime<Utc>) -> AuditEvent {
    AuditEvent {
        source: Source::Cloudflare,
        id: "tok-1".into(),
        time,
        actor: mallory(),
        action: Action {
            verb: "token_create".into(),
            kind: ActionKind::Create,
            description: None,
        },
        resource: Resource {
            kind: Some("account".into()),
            ..Resource::default()
        },
        outcome: Outcome::Success,
        account: Some("acct".into()),
        raw: json!({"id": "tok-1", "metadata": {"token_name": "deploy-all", "token_tag": "t1"}})
            .to_string(),
    }
}

/// `n` Datadog role grants a minute apart from `start` (`grant-0`, ...):
/// a burst, and a PagerDuty trigger.
pub fn role_grants(start: DateTime<Utc>, n: i64) -> Vec<AuditEvent> {
    (0..n)
        .map(|k| {
            let id = format!("grant-{k}");
            AuditEvent {
                source: Source::Datadog,
                id: id.clone(),
                time: start + Duration::minutes(k),
                actor: mallory(),
                action: Action {
                    verb: "modified".into(),
                    kind: ActionKind::Update,
                    description: None,
                },
                resource: Resource {
                    kind: Some("role".into()),
                    ..Resource::default()
                },
                outcome: Outcome::Success,
                account: None,
                raw: json!({"id": id, "type": "audit", "attributes": {"attributes": {
                    "evt": {"name": "Access Management"}, "asset": {"type": "role"},
                    "action": "modified", "usr": {"email": "mallory@example.com"}}}})
                .to_string(),
            }
        })
        .collect()
}
