//! Token watchdog: recognition, scope classification, archive and review requests.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use soc_tui::detect::tokens::{
    Effect, Policy, TokenDetails, TokenScope, assess, check_token_events, recognise,
};
use soc_tui::detect::{Severity, SinkRequest, Workflow};
use soc_tui::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};

use crate::common::{defaults, hour, linear, rules_with, specs_dir};

fn v1_entries() -> Option<Vec<Value>> {
    let specs = specs_dir()?;
    let text = std::fs::read_to_string(
        specs.join("cloudflare/examples/audit_logs_v1_entries.elastic-pipeline-test.json"),
    )
    .unwrap();
    Some(serde_json::from_str(&text).unwrap())
}

/// Normalizes a Cloudflare v1 entry the way the parser is specified to.
fn cf_v1(entry: &Value) -> AuditEvent {
    let verb = entry["action"]["type"].as_str().unwrap().to_string();
    AuditEvent {
        source: Source::Cloudflare,
        id: entry["id"].as_str().unwrap().into(),
        time: entry["when"].as_str().unwrap().parse().unwrap(),
        actor: Actor {
            id: entry["actor"]["id"].as_str().map(str::to_string),
            email: entry["actor"]["email"].as_str().map(str::to_string),
            ip: entry["actor"]["ip"].as_str().map(str::to_string),
            ..Actor::default()
        },
        action: Action {
            kind: ActionKind::classify(&verb),
            verb,
            description: None,
        },
        resource: Resource {
            kind: entry["resource"]["type"].as_str().map(str::to_string),
            id: entry["resource"]["id"].as_str().map(str::to_string),
            ..Resource::default()
        },
        outcome: if entry["action"]["result"] == json!(true) {
            Outcome::Success
        } else {
            Outcome::Failure
        },
        account: entry["owner"]["id"].as_str().map(str::to_string),
        raw: entry.to_string(),
    }
}

/// A Cloudflare v2 entry (the docs example's shape) and its normalized event.
fn cf_v2(id: &str, email: &str, resource_type: &str, resource: Value) -> AuditEvent {
    let mut raw = json!({
        "id": id,
        "account": {"id": "4bb334f7c94c4a29a045f03944f072e5", "name": "Example Account"},
        "action": {"description": "Create", "result": "success", "time": "2026-11-21T11:02:00Z", "type": "create"},
        "actor": {"id": "f6b5de0326bb5182b8a4840ee01ec774", "context": "dash", "email": email,
                  "ip_address": "198.41.129.166", "type": "user"},
        "raw": {"method": "POST", "status_code": 200, "uri": "/accounts/4bb334f7c94c4a29a045f03944f072e5/tokens"},
        "resource": {"id": "ed17574386854bf78a67040be0a770b0", "product": "", "type": resource_type}
    });
    if let Value::Object(extra) = resource {
        for (k, v) in extra {
            raw["resource"][k] = v;
        }
    }
    AuditEvent {
        source: Source::Cloudflare,
        id: id.into(),
        time: hour(21, 11) + Duration::minutes(2),
        actor: Actor {
            id: Some("f6b5de0326bb5182b8a4840ee01ec774".into()),
            email: Some(email.into()),
            ip: Some("198.41.129.166".into()),
            ..Actor::default()
        },
        action: Action {
            verb: "create".into(),
            kind: ActionKind::Create,
            description: Some("Create".into()),
        },
        resource: Resource {
            kind: Some(resource_type.into()),
            id: Some("ed17574386854bf78a67040be0a770b0".into()),
            ..Resource::default()
        },
        outcome: Outcome::Success,
        account: Some("4bb334f7c94c4a29a045f03944f072e5".into()),
        raw: raw.to_string(),
    }
}

fn scope(groups: &[&str], resources: &[&str]) -> TokenScope {
    TokenScope::Known {
        policies: vec![Policy {
            effect: Effect::Allow,
            permission_groups: groups.iter().map(|g| g.to_string()).collect(),
            resources: resources
                .iter()
                .map(|r| (r.to_string(), json!("*")))
                .collect(),
        }],
    }
}

const ZONE: &str = "com.cloudflare.api.account.zone.023e105f4ecef8ad9ca31a8372d0c353";

#[test]
fn token_v1_creations_from_the_captured_entries() {
    let Some(entries) = v1_entries() else { return };
    let rules = defaults();
    let events: Vec<AuditEvent> = entries.iter().map(cf_v1).collect();
    let found = check_token_events(&rules, &events, hour(21, 12));
    // Of token_create x2, token_revoke, token_roll, API_key_created,
    // API_key_view x2, rotate_API_key, login, rec_add: the two creations.
    let keys: Vec<&str> = found.iter().map(|f| f.dedup_key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "token:73fd39ed-5aab-4a2a-b93c-c9a4abf0c425",
            "token:ceced925-a34c-4a3e-a3ae-5f35c00cf6c8"
        ]
    );
    let f = &found[0];
    assert_eq!(f.workflow, Workflow::Token);
    assert_eq!(f.actor, "user@example.com");
    // No scope in a v1 entry, and no approved issuers by default.
    assert_eq!(f.rules, ["token.unknown_scope", "token.unapproved_issuer"]);
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.evidence["token_name"], "test");
    assert_eq!(f.evidence["token_id"], "b7261c49a793a82678d12285f0bc1401");
    assert_eq!(f.evidence["kind"], "api_token");
    assert_eq!(f.evidence["matched_by"], "v1_api_token");
    assert_eq!(f.evidence["scope"], json!({"scope": "unknown"}));
    let time: DateTime<Utc> = "2021-11-30T20:19:48Z".parse().unwrap();
    assert_eq!(
        f.requests[0],
        SinkRequest::ArchiveObject {
            event_id: "73fd39ed-5aab-4a2a-b93c-c9a4abf0c425".into(),
            account: Some("enl3j9du8rnx2swwd9l32qots7l54t9s".into()),
            time
        }
    );
    let (title, body, priority) = linear(f);
    assert_eq!(priority, 3);
    assert_eq!(
        title,
        "Review new Cloudflare API token test created by user\\@example\\.com"
    );
    assert!(body.contains("### Revoke checklist"), "{body}");
    assert!(body.contains("`DELETE /user/tokens/{token_id}`"), "{body}");
    assert!(
        body.contains("`DELETE /accounts/{account_id}/tokens/{token_id}`"),
        "{body}"
    );
    assert!(body.contains("- [ ] Rotate every secret"), "{body}");
    assert!(
        body.contains("Unknown: the token's policies could not be read."),
        "{body}"
    );
}

#[test]
fn token_broad_and_write_scopes_are_flagged() {
    let rules = rules_with("[tokens]\napproved_issuers = [\"*@example.com\"]\n");
    let event = cf_v2("v2-1", "mallory.ops@example.com", "api_token", json!({}));
    let c = recognise(&rules, &event).unwrap();
    assert_eq!(c.matched_by, "v2_api_token");
    assert_eq!(
        c.token_id.as_deref(),
        Some("ed17574386854bf78a67040be0a770b0")
    );

    let broad = scope(
        &["Zone Write", "DNS Read"],
        &["com.cloudflare.api.account.zone.*"],
    );
    let f = assess(&rules, &c, Some(&broad), hour(21, 12));
    assert_eq!(f.dedup_key, "token:v2-1");
    assert_eq!(f.rules, ["token.broad", "token.write"]);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(
        f.evidence["reasons"],
        json!({"token.broad": ["resource com.cloudflare.api.account.zone.*"],
               "token.write": ["permission group Zone Write"]})
    );
    assert_eq!(f.requests.len(), 2);
    assert_eq!(linear(&f).2, 2);
    assert!(f.title.ends_with("[BROAD, WRITE]"), "{}", f.title);

    // A broad permission group on one zone, and an Edit group.
    let minting = scope(&["API Tokens Write", "Workers Scripts Edit"], &[ZONE]);
    let f = assess(&rules, &c, Some(&minting), hour(21, 12));
    assert_eq!(
        f.evidence["reasons"],
        json!({"token.broad": ["permission group API Tokens Write"],
               "token.write": ["permission group API Tokens Write", "permission group Workers Scripts Edit"]})
    );
}

#[test]
fn token_read_only_scope_by_an_approved_issuer_is_archived_only() {
    let rules = rules_with("[tokens]\napproved_issuers = [\"ci-bot@example.com\"]\n");
    let event = cf_v2("v2-2", "CI-Bot@example.com", "api_token", json!({}));
    let c = recognise(&rules, &event).unwrap();
    let f = assess(
        &rules,
        &c,
        Some(&scope(&["DNS Read", "Zone Read"], &[ZONE])),
        hour(21, 12),
    );
    assert!(f.rules.is_empty() && f.suppressed.is_empty());
    assert!(!f.is_suppressed());
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(
        f.requests,
        [SinkRequest::ArchiveObject {
            event_id: "v2-2".into(),
            account: Some("4bb334f7c94c4a29a045f03944f072e5".into()),
            time: hour(21, 11) + Duration::minutes(2)
        }]
    );
}

#[test]
fn token_outside_allowed_resources_and_deny_policies() {
    let rules = rules_with(&format!(
        "[tokens]\napproved_issuers = [\"*\"]\nallowed_resources = [\"{ZONE}\"]\n"
    ));
    let event = cf_v2("v2-3", "alice@example.com", "api_token", json!({}));
    let c = recognise(&rules, &event).unwrap();
    let other = "com.cloudflare.api.account.zone.99999999999999999999999999999999";
    let mut s = scope(&["DNS Read"], &[ZONE, other]);
    // A deny policy grants nothing: its broad key and write group are ignored.
    if let TokenScope::Known { policies } = &mut s {
        policies.push(Policy {
            effect: Effect::Deny,
            permission_groups: vec!["Zone Write".into()],
            resources: [("com.cloudflare.api.account.*".to_string(), json!("*"))].into(),
        });
    }
    let f = assess(&rules, &c, Some(&s), hour(21, 12));
    assert_eq!(f.rules, ["token.outside_allowed_resources"]);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(
        f.evidence["reasons"],
        json!({"token.outside_allowed_resources": [format!("resource {other}")]})
    );
}

#[test]
fn token_scope_found_in_a_v2_entry_is_used() {
    let rules = rules_with("[tokens]\napproved_issuers = [\"*\"]\n");
    let response = json!({"response": {"result": {
        "id": "ed17574386854bf78a67040be0a770b0", "name": "deploy-all", "value": "TOKEN-SECRET-VALUE",
        "policies": [{"id": "p", "effect": "allow",
            "permission_groups": [{"id": "g", "name": "Zone Write"}],
            "resources": {"com.cloudflare.api.account.4bb334f7c94c4a29a045f03944f072e5":
                {"com.cloudflare.api.account.zone.*": "*"}}}]}}});
    let event = cf_v2("v2-4", "mallory.ops@example.com", "api_token", response);
    let found = check_token_events(&rules, std::slice::from_ref(&event), hour(21, 12));
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f.evidence["token_name"], "deploy-all");
    assert_eq!(f.rules, ["token.broad", "token.write"]);
    let all = serde_json::to_string(f).unwrap();
    assert!(
        !all.contains("TOKEN-SECRET-VALUE"),
        "the token secret leaked: {all}"
    );
}

#[test]
fn token_details_document_feeds_the_assessment() {
    let rules = rules_with("[tokens]\napproved_issuers = [\"*\"]\n");
    let details = TokenDetails::from_json(&json!({"success": true, "result": {
        "id": "ed17574386854bf78a67040be0a770b0", "name": "read-dns", "status": "active",
        "policies": [{"id": "p", "effect": "allow",
            "permission_groups": [{"id": "g", "name": "DNS Read"}], "resources": {ZONE: "*"}}]}}));
    let event = cf_v2("v2-5", "alice@example.com", "api_token", json!({}));
    let c = recognise(&rules, &event).unwrap();
    let f = assess(&rules, &c, Some(&details.scope), hour(21, 12));
    assert!(f.rules.is_empty());
    assert_eq!(f.requests.len(), 1);
}

#[test]
fn token_access_service_token_and_non_creations() {
    let rules = defaults();
    let svc = cf_v2("v2-6", "alice@example.com", "service_token", json!({}));
    let c = recognise(&rules, &svc).unwrap();
    assert_eq!(c.matched_by, "access_service_token");
    let f = assess(&rules, &c, None, hour(21, 12));
    assert_eq!(f.evidence["kind"], "service_token");
    assert!(
        linear(&f)
            .1
            .contains("`DELETE /accounts/{account_id}/access/service_tokens/{service_token_id}`")
    );

    // A v2 create of something else, a failed creation, a Datadog event: not creations.
    let dns = cf_v2("v2-7", "alice@example.com", "dns_record", json!({}));
    assert_eq!(recognise(&rules, &dns), None);
    let mut failed = cf_v2("v2-8", "alice@example.com", "api_token", json!({}));
    failed.outcome = Outcome::Failure;
    assert_eq!(recognise(&rules, &failed), None);
    let mut dd_event = cf_v2("v2-9", "alice@example.com", "api_token", json!({}));
    dd_event.source = Source::Datadog;
    assert_eq!(recognise(&rules, &dd_event), None);
}

#[test]
fn token_suppression_silences_the_ticket_but_keeps_the_archive() {
    let rules = rules_with(
        "[[suppressions]]\nactor = \"ci-bot@example.com\"\nrule = \"token.*\"\nuntil = 2026-11-22T00:00:00Z\nreason = \"rotation\"\n",
    );
    let event = cf_v2("v2-10", "ci-bot@example.com", "api_token", json!({}));
    let found = check_token_events(&rules, std::slice::from_ref(&event), hour(21, 12));
    let f = &found[0];
    assert!(f.is_suppressed());
    let silenced: Vec<&str> = f.suppressed.iter().map(|s| s.rule.as_str()).collect();
    assert_eq!(silenced, ["token.unknown_scope", "token.unapproved_issuer"]);
    assert!(matches!(
        f.requests.as_slice(),
        [SinkRequest::ArchiveObject { .. }]
    ));

    // Once expired, the ticket comes back.
    let later = check_token_events(&rules, std::slice::from_ref(&event), hour(22, 0));
    assert_eq!(
        later[0].rules,
        ["token.unknown_scope", "token.unapproved_issuer"]
    );
    assert_eq!(later[0].requests.len(), 2);
}

/// Whether `needle` occurs without a backslash escaping its first character.
fn unescaped(text: &str, needle: &str) -> bool {
    text.match_indices(needle)
        .any(|(i, _)| !text[..i].ends_with('\\'))
}

#[test]
fn token_attacker_strings_stay_inert_in_tickets() {
    let rules = defaults();
    let evil_name =
        "x](https://evil.example/steal)\n# Urgent: approve\n<img src=x onerror=alert(1)> @channel";
    let response = json!({"response": {"name": evil_name}});
    let event = cf_v2("v2-11", "eve\u{202e}@example.com", "api_token", response);
    let found = check_token_events(&rules, std::slice::from_ref(&event), hour(21, 12));
    let (title, body, _) = linear(&found[0]);
    for text in [title, body] {
        for needle in ["](", "<img", "@channel", "# Urgent"] {
            assert!(!unescaped(text, needle), "unescaped {needle:?} in {text}");
        }
        assert!(!text.contains("\n# Urgent"), "{text}");
        assert!(!text.contains('\u{202e}'), "{text}");
    }
    assert!(
        body.contains("x\\]\\(https\\:\\/\\/evil\\.example\\/steal\\)"),
        "{body}"
    );
    assert!(!found[0].title.contains('\n'));
}
