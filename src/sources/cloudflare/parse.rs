//! Cloudflare audit log entries (v2 `/logs/audit`, v1 `/audit_logs`) to
//! [`AuditEvent`].

use crate::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};
use crate::sources::raw::error::EntryError;
use crate::sources::raw::lenient::Loose;
use crate::sources::raw::wire::{CfAction, Entry};

/// Parses one Cloudflare v2 `/logs/audit` entry from its verbatim text.
pub fn parse_v2_entry(raw: &str) -> Result<AuditEvent, String> {
    Entry::from_json(raw)
        .and_then(|entry| v2_event(entry, raw))
        .map_err(|e| e.to_string())
}

/// Parses one Cloudflare v1 `/audit_logs` entry from its verbatim text.
pub fn parse_v1_entry(raw: &str) -> Result<AuditEvent, String> {
    Entry::from_json(raw)
        .and_then(|entry| v1_event(entry, raw))
        .map_err(|e| e.to_string())
}

/// Maps a v2 entry: `action.{type,time,result,description}`, `actor` with
/// `ip_address` and token fields, `raw.user_agent`, `account.id`.
pub(crate) fn v2_event(entry: Entry<'_>, raw: &str) -> Result<AuditEvent, EntryError> {
    let id = entry.id.require_text("id")?;
    let action = entry.action.require("action")?;
    let time = action.time.require_time("action.time")?;
    let http = entry.raw.or_empty();
    let outcome = v2_outcome(&action.result, &http.status_code);
    let actor = entry.actor.or_empty();
    let resource = entry.resource.or_empty();
    Ok(AuditEvent {
        source: Source::Cloudflare,
        id,
        time,
        actor: Actor {
            id: actor.id.into_text(),
            email: actor.email.into_text(),
            kind: actor.kind.into_text(),
            ip: actor.ip_address.into_text(),
            user_agent: http.user_agent.into_text(),
            token_id: actor.token_id.into_text(),
            token_name: actor.token_name.into_text(),
        },
        action: v2_action(action),
        resource: Resource {
            product: resource.product.into_text(),
            kind: resource.kind.into_text(),
            id: resource.id.into_text(),
            // v2 resources carry no name; the zone is the most specific one.
            name: entry.zone.or_empty().name.into_text(),
        },
        outcome,
        account: entry.account.or_empty().id.into_text(),
        raw: raw.to_owned(),
    })
}

/// The v2 `type` is a coarse verb (`create`, `view`, ...): used directly
/// when it is one of our kinds, else the description says more.
fn v2_action(action: CfAction<'_>) -> Action {
    let verb = action.verb.into_text().unwrap_or_default();
    let description = action.description.into_text();
    let kind = ActionKind::ALL
        .into_iter()
        .find(|k| *k != ActionKind::Other && k.as_str().eq_ignore_ascii_case(&verb))
        .or_else(|| {
            description
                .as_deref()
                .map(ActionKind::classify)
                .filter(|k| *k != ActionKind::Other)
        })
        .unwrap_or_else(|| ActionKind::classify(&verb));
    Action {
        verb,
        kind,
        description,
    }
}

fn v2_outcome(result: &Loose<'_>, status_code: &Loose<'_>) -> Outcome {
    match result.as_str() {
        Some(r) if r.eq_ignore_ascii_case("success") => Outcome::Success,
        Some(r) if r.eq_ignore_ascii_case("failure") => Outcome::Failure,
        _ => match status_code.as_status_code() {
            Some(code) if code >= 400 => Outcome::Failure,
            Some(_) => Outcome::Success,
            None => Outcome::Unknown,
        },
    }
}

/// Maps a v1 entry: `when`, `action.{type,result: bool}`, `actor.ip`,
/// `owner.id` as the account, names from `metadata` or the new value.
pub(crate) fn v1_event(entry: Entry<'_>, raw: &str) -> Result<AuditEvent, EntryError> {
    let id = entry.id.require_text("id")?;
    let time = entry.when.require_time("when")?;
    let action = entry.action.or_empty();
    let outcome = match action.result {
        Loose::Bool(true) => Outcome::Success,
        Loose::Bool(false) => Outcome::Failure,
        _ => Outcome::Unknown,
    };
    let verb = action.verb.into_text().unwrap_or_default();
    let actor = entry.actor.or_empty();
    let resource = entry.resource.or_empty();
    let metadata = entry.metadata.or_empty();
    // Token events name the token in metadata; DNS record events carry the
    // record in newValueJson (oldValueJson on delete); else the zone.
    let name = metadata
        .token_name
        .into_text()
        .or_else(|| entry.new_value_json.or_empty().name.into_text())
        .or_else(|| entry.old_value_json.or_empty().name.into_text())
        .or_else(|| metadata.zone_name.into_text());
    Ok(AuditEvent {
        source: Source::Cloudflare,
        id,
        time,
        actor: Actor {
            id: actor.id.into_text(),
            email: actor.email.into_text(),
            kind: actor.kind.into_text(),
            ip: actor.ip.into_text(),
            user_agent: None,
            token_id: None,
            token_name: None,
        },
        action: Action {
            kind: ActionKind::classify(&verb),
            verb,
            description: None,
        },
        resource: Resource {
            product: None,
            kind: resource.kind.into_text(),
            id: resource.id.into_text(),
            name,
        },
        outcome,
        account: entry.owner.or_empty().id.into_text(),
        raw: raw.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2: &str = r#"{"id":"e1","account":{"id":"acc"},"action":{"description":"Add Member","result":"success","time":"2024-04-26T17:31:07Z","type":"create"},"actor":{"id":"u1","email":"alice@example.com","ip_address":"198.41.129.166","token_id":"t1","token_name":"ci","type":"user"},"raw":{"status_code":200,"user_agent":"curl/8"},"resource":{"id":"r1","product":"members","type":"member"},"zone":{"name":"example.com"}}"#;

    #[test]
    fn v2_maps_every_field() {
        let e = parse_v2_entry(V2).unwrap();
        assert_eq!(e.id, "e1");
        assert_eq!(e.time.to_rfc3339(), "2024-04-26T17:31:07+00:00");
        assert_eq!(e.action.verb, "create");
        assert_eq!(e.action.kind, ActionKind::Create);
        assert_eq!(e.action.description.as_deref(), Some("Add Member"));
        assert_eq!(e.outcome, Outcome::Success);
        assert_eq!(e.actor.ip.as_deref(), Some("198.41.129.166"));
        assert_eq!(e.actor.user_agent.as_deref(), Some("curl/8"));
        assert_eq!(e.actor.token_name.as_deref(), Some("ci"));
        assert_eq!(e.resource.name.as_deref(), Some("example.com"));
        assert_eq!(e.account.as_deref(), Some("acc"));
        assert_eq!(e.raw, V2);
    }

    #[test]
    fn v2_kind_falls_back_to_description_then_type() {
        let kind = |ty: &str, desc: &str| {
            let raw = format!(
                r#"{{"id":"x","action":{{"time":"2024-01-01T00:00:00Z","type":"{ty}","description":"{desc}"}}}}"#
            );
            parse_v2_entry(&raw).unwrap().action.kind
        };
        assert_eq!(kind("DELETE", "Remove Member"), ActionKind::Delete);
        assert_eq!(kind("view", "Revoke API token"), ActionKind::Revoke);
        assert_eq!(kind("view", "Something"), ActionKind::Read);
        assert_eq!(kind("", ""), ActionKind::Other);
    }

    #[test]
    fn v2_outcome_from_result_else_status_code() {
        let outcome = |action_extra: &str, raw_extra: &str| {
            let raw = format!(
                r#"{{"id":"x","action":{{"time":"2024-01-01T00:00:00Z"{action_extra}}},"raw":{{{raw_extra}}}}}"#
            );
            parse_v2_entry(&raw).unwrap().outcome
        };
        assert_eq!(outcome(r#","result":"FAILURE""#, ""), Outcome::Failure);
        assert_eq!(outcome("", r#""status_code":403"#), Outcome::Failure);
        assert_eq!(outcome("", r#""status_code":204"#), Outcome::Success);
        assert_eq!(outcome(r#","result":true"#, ""), Outcome::Unknown);
    }

    #[test]
    fn v1_names_tokens_and_records() {
        let token = r#"{"id":"a","when":"2021-11-30T20:19:48Z","action":{"result":false,"type":"token_create"},"metadata":{"token_name":"deploy"},"owner":{"id":"acc"}}"#;
        let e = parse_v1_entry(token).unwrap();
        assert_eq!(e.resource.name.as_deref(), Some("deploy"));
        assert_eq!(e.outcome, Outcome::Failure);
        assert_eq!(e.account.as_deref(), Some("acc"));
        let record = r#"{"id":"b","when":"2021-08-09T10:14:17Z","action":{"type":"rec_del"},"oldValueJson":{"name":"www.example.com"},"metadata":{"zone_name":"example.com"}}"#;
        let e = parse_v1_entry(record).unwrap();
        assert_eq!(e.resource.name.as_deref(), Some("www.example.com"));
        assert_eq!(e.action.kind, ActionKind::Delete);
        assert_eq!(e.outcome, Outcome::Unknown);
    }

    #[test]
    fn required_fields_are_named() {
        assert_eq!(
            parse_v2_entry(r#"{"id":"x","action":{"time":12}}"#).unwrap_err(),
            "action.time: expected RFC3339 timestamp, got number"
        );
        assert_eq!(
            parse_v2_entry(r#"{"id":"x","action":"create"}"#).unwrap_err(),
            "action: expected object, got string"
        );
        assert_eq!(
            parse_v1_entry(r#"{"when":"2021-11-30T20:19:48Z"}"#).unwrap_err(),
            "id: missing"
        );
        assert_eq!(
            parse_v1_entry(r#"{"id":"x"}"#).unwrap_err(),
            "when: missing"
        );
    }
}
