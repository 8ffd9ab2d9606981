//! Datadog audit events (elements of `data[]` of `/api/v2/audit/events`)
//! to [`AuditEvent`].

use crate::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};
use crate::sources::raw::error::EntryError;
use crate::sources::raw::wire::{DdFields, Entry};

/// Parses one Datadog audit event from its verbatim text.
pub fn parse_entry(raw: &str) -> Result<AuditEvent, String> {
    Entry::from_json(raw)
        .and_then(|entry| event(entry, raw))
        .map_err(|e| e.to_string())
}

/// Maps `{id, attributes: {timestamp, message, attributes: {usr, action,
/// evt, asset, org, http, network, status}}}`.
pub(crate) fn event(entry: Entry<'_>, raw: &str) -> Result<AuditEvent, EntryError> {
    let id = entry.id.require_text("id")?;
    let envelope = entry.attributes.require("attributes")?;
    let time = envelope.timestamp.require_time("attributes.timestamp")?;
    let description = envelope.message.into_text();
    let fields = envelope.attributes.or_empty();
    let outcome = outcome(&fields);
    let user = fields.usr.or_empty();
    let evt = fields.evt.or_empty();
    let asset = fields.asset.or_empty();
    let http = fields.http.or_empty();
    let ip = fields.network.or_empty().client.or_empty().ip.into_text();
    let product = evt.name.into_text();
    let verb = fields
        .action
        .into_text()
        .or_else(|| product.clone())
        .unwrap_or_default();
    // `action` is a past-tense verb (`created`, `accessed`); when it says
    // nothing we know, the message often does.
    let kind = match ActionKind::classify(&verb) {
        ActionKind::Other => description
            .as_deref()
            .map_or(ActionKind::Other, ActionKind::classify),
        kind => kind,
    };
    Ok(AuditEvent {
        source: Source::Datadog,
        id,
        time,
        actor: Actor {
            // `usr.id` is sometimes the email; `uuid` is the stable identity.
            id: user.uuid.into_text().or_else(|| user.id.into_text()),
            email: user.email.into_text(),
            kind: evt.actor.or_empty().kind.into_text(),
            ip,
            user_agent: http.useragent.into_text(),
            token_id: None,
            token_name: None,
        },
        action: Action {
            verb,
            kind,
            description,
        },
        resource: Resource {
            product,
            kind: asset.kind.into_text(),
            id: asset.id.into_text(),
            name: asset.name.into_text(),
        },
        outcome,
        account: fields.org.or_empty().uuid.into_text(),
        raw: raw.to_owned(),
    })
}

/// Datadog has no result field: an `error` status or an HTTP error code
/// means failure, anything else success.
fn outcome(fields: &DdFields<'_>) -> Outcome {
    let error_status = fields
        .status
        .as_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("error"));
    let http_error = fields
        .http
        .as_ref()
        .and_then(|h| h.status_code.as_status_code())
        .is_some_and(|code| code >= 400);
    if error_status || http_error {
        Outcome::Failure
    } else {
        Outcome::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event_with(fields: &str) -> AuditEvent {
        let raw = format!(
            r#"{{"id":"dd1","type":"audit","attributes":{{"timestamp":"2022-04-13T09:21:13.750Z","message":"Role modified","attributes":{{{fields}}}}}}}"#
        );
        parse_entry(&raw).unwrap()
    }

    #[test]
    fn maps_user_asset_and_network() {
        let e = event_with(
            r#""action":"modified","usr":{"id":"bob@example.com","uuid":"u-1","email":"bob@example.com","name":"Bob"},"evt":{"name":"Access Management","actor":{"type":"USER"}},"asset":{"type":"role","id":"r-9","name":"Datadog Admin"},"org":{"uuid":"org-1"},"http":{"useragent":"ua","status_code":"200"},"network":{"client":{"ip":"203.0.113.10"}}"#,
        );
        assert_eq!(e.time.to_rfc3339(), "2022-04-13T09:21:13.750+00:00");
        assert_eq!(e.actor.id.as_deref(), Some("u-1"));
        assert_eq!(e.actor.email.as_deref(), Some("bob@example.com"));
        assert_eq!(e.actor.kind.as_deref(), Some("USER"));
        assert_eq!(e.actor.ip.as_deref(), Some("203.0.113.10"));
        assert_eq!(e.actor.user_agent.as_deref(), Some("ua"));
        assert_eq!(e.action.verb, "modified");
        assert_eq!(e.action.kind, ActionKind::Update);
        assert_eq!(e.action.description.as_deref(), Some("Role modified"));
        assert_eq!(e.resource.product.as_deref(), Some("Access Management"));
        assert_eq!(e.resource.kind.as_deref(), Some("role"));
        assert_eq!(e.resource.name.as_deref(), Some("Datadog Admin"));
        assert_eq!(e.account.as_deref(), Some("org-1"));
        assert_eq!(e.outcome, Outcome::Success);
    }

    #[test]
    fn failure_from_status_or_http_code() {
        assert_eq!(event_with(r#""status":"ERROR""#).outcome, Outcome::Failure);
        assert_eq!(
            event_with(r#""http":{"status_code":403}"#).outcome,
            Outcome::Failure
        );
        assert_eq!(
            event_with(r#""http":{"status_code":"503"}"#).outcome,
            Outcome::Failure
        );
        assert_eq!(event_with(r#""status":"info""#).outcome, Outcome::Success);
    }

    #[test]
    fn verb_falls_back_to_event_name_and_kind_to_message() {
        let e = event_with(r#""evt":{"name":"Request"}"#);
        assert_eq!(e.action.verb, "Request");
        assert_eq!(e.action.kind, ActionKind::Update);
        let e = event_with("");
        assert_eq!(e.action.verb, "");
    }

    #[test]
    fn required_fields_are_named() {
        assert_eq!(
            parse_entry(r#"{"id":"x","type":"audit"}"#).unwrap_err(),
            "attributes: missing"
        );
        assert_eq!(
            parse_entry(r#"{"id":"x","attributes":{"timestamp":"now"}}"#).unwrap_err(),
            "attributes.timestamp: expected RFC3339 timestamp, got \"now\""
        );
        assert_eq!(
            parse_entry(r#"{"id":7.5,"attributes":{}}"#).unwrap_err(),
            "id: expected string, got number"
        );
    }
}
