//! Cloudflare token watchdog (every few minutes): every API-token and
//! Access service-token creation is archived; the risky ones also get a
//! review ticket with a revoke checklist.
//!
//! Flagged (rule ids):
//! - `token.broad`: an allow policy on a broad resource key (all accounts,
//!   all zones) or with a permission group on the broad list;
//! - `token.write`: a permission group whose last word is a write suffix
//!   (`Write`, `Edit`) or that is on the write list;
//! - `token.unknown_scope`: the scope could not be learned (`scope: unknown`);
//! - `token.unapproved_issuer`: the creator is not an approved issuer;
//! - `token.outside_allowed_resources`: a resource key outside `allowed_resources`.
//!
//! Deny policies grant nothing and are ignored by the classification (they
//! stay in the evidence).

mod report;
mod scope;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::finding::Finding;
use super::pattern::{Pattern, any_matches};
use super::rules::{
    Rules, TOKEN_BROAD, TOKEN_OUTSIDE_ALLOWED, TOKEN_UNAPPROVED_ISSUER, TOKEN_UNKNOWN_SCOPE,
    TOKEN_WRITE, TokenKind,
};
use super::suppress::Silencer;
use crate::model::{AuditEvent, Outcome, Source};

pub use scope::{Effect, Policy, TokenDetails, TokenScope, scope_of};

/// A recognised token creation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenCreation {
    pub event_id: String,
    pub time: DateTime<Utc>,
    /// Cloudflare account id.
    pub account: Option<String>,
    /// [`crate::model::actor_key`] of the creator.
    pub issuer: String,
    pub issuer_ip: Option<String>,
    pub kind: TokenKind,
    /// Name of the `tokens.creations` rule that recognised it.
    pub matched_by: String,
    /// v1: `metadata.token_tag`; v2: `resource.id`.
    pub token_id: Option<String>,
    pub token_name: Option<String>,
    /// Policies found in the entry itself (v2 request/response), if any.
    pub scope_in_event: Option<TokenScope>,
}

/// Recognises a Cloudflare token creation. Failed attempts created nothing
/// and are not creations.
pub fn recognise(rules: &Rules, event: &AuditEvent) -> Option<TokenCreation> {
    if event.source != Source::Cloudflare || event.outcome == Outcome::Failure {
        return None;
    }
    let field = |patterns: &[Pattern], value: Option<&str>| {
        patterns.is_empty() || value.is_some_and(|v| any_matches(patterns, v))
    };
    let (name, rule) = rules.tokens.creations.iter().find(|(_, r)| {
        any_matches(&r.action_type, &event.action.verb)
            && field(&r.resource_type, event.resource.kind.as_deref())
            && field(&r.resource_product, event.resource.product.as_deref())
    })?;
    let raw: Value = serde_json::from_str(&event.raw).unwrap_or(Value::Null);
    let (token_id, token_name, scope_in_event) = token_facts(&raw, event);
    Some(TokenCreation {
        event_id: event.id.clone(),
        time: event.time,
        account: event.account.clone(),
        issuer: event.actor_key(),
        issuer_ip: event.actor.ip.clone(),
        kind: rule.kind,
        matched_by: name.to_string(),
        token_id,
        token_name,
        scope_in_event,
    })
}

/// Token id, name and scope from the verbatim entry.
fn token_facts(
    raw: &Value,
    event: &AuditEvent,
) -> (Option<String>, Option<String>, Option<TokenScope>) {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    // v1 entries carry `metadata` (token_tag, token_name); v2 entries do not,
    // and v1's resource.id is the user, not the token.
    if let Some(meta) = raw.get("metadata").filter(|m| m.is_object()) {
        let id = text(meta.get("token_tag")).or_else(|| text(meta.get("token_id")));
        return (id, text(meta.get("token_name")), None);
    }
    // v2: resource.response / resource.request may hold the token object.
    let resource = raw.get("resource");
    let bodies = ["response", "request"].map(|k| {
        resource
            .and_then(|r| r.get(k))
            .map(|b| b.get("result").filter(|r| r.is_object()).unwrap_or(b))
    });
    let name = bodies
        .iter()
        .flatten()
        .find_map(|b| text(b.get("name")))
        .or_else(|| event.resource.name.clone());
    let id = event
        .resource
        .id
        .clone()
        .or_else(|| bodies.iter().flatten().find_map(|b| text(b.get("id"))));
    let scope = bodies.iter().flatten().find_map(|b| match scope_of(b) {
        TokenScope::Unknown => None,
        known => Some(known),
    });
    (id, name, scope)
}

/// Why a token is flagged: rule id -> details.
pub type Reasons = BTreeMap<String, Vec<String>>;

/// Classifies a token creation against the rules; empty when nothing is risky.
pub fn classify(rules: &Rules, creation: &TokenCreation, scope: &TokenScope) -> Reasons {
    let t = &rules.tokens;
    let mut reasons: Reasons = BTreeMap::new();
    let mut add = |rule: &str, detail: String| {
        let list = reasons.entry(rule.to_string()).or_default();
        if !list.contains(&detail) {
            list.push(detail);
        }
    };
    match scope {
        TokenScope::Unknown => add(
            TOKEN_UNKNOWN_SCOPE,
            "the token's policies could not be read".into(),
        ),
        TokenScope::Known { policies } => {
            for policy in policies.iter().filter(|p| p.effect == Effect::Allow) {
                for key in policy.resource_keys() {
                    if t.broad_resource_keys.contains(&key) {
                        add(TOKEN_BROAD, format!("resource {key}"));
                    }
                    if !any_matches(&t.allowed_resources, &key) {
                        add(TOKEN_OUTSIDE_ALLOWED, format!("resource {key}"));
                    }
                }
                for group in &policy.permission_groups {
                    if any_matches(&t.broad_permission_groups, group) {
                        add(TOKEN_BROAD, format!("permission group {group}"));
                    }
                    let last_word = group.rsplit(' ').next().unwrap_or(group);
                    let writes = t
                        .write_suffixes
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(last_word))
                        || any_matches(&t.write_permission_groups, group);
                    if writes {
                        add(TOKEN_WRITE, format!("permission group {group}"));
                    }
                }
            }
        }
    }
    if !any_matches(&t.approved_issuers, &creation.issuer) {
        add(
            TOKEN_UNAPPROVED_ISSUER,
            format!("{} is not an approved issuer", creation.issuer),
        );
    }
    reasons
}

/// The finding for one creation: always an archive request, plus a review
/// ticket when a live rule fired. `scope` is what the caller learned (token
/// details fetched from Cloudflare), else the entry's own, else unknown.
pub fn assess(
    rules: &Rules,
    creation: &TokenCreation,
    fetched: Option<&TokenScope>,
    now: DateTime<Utc>,
) -> Finding {
    let scope = fetched
        .or(creation.scope_in_event.as_ref())
        .cloned()
        .unwrap_or(TokenScope::Unknown);
    let reasons = classify(rules, creation, &scope);
    report::finding(
        rules,
        &Silencer::new(rules, now),
        creation,
        &scope,
        &reasons,
    )
}

/// Convenience for callers that fetch no token details: every creation among
/// `events`, assessed with the scope found in its own entry.
pub fn check_token_events(
    rules: &Rules,
    events: &[AuditEvent],
    now: DateTime<Utc>,
) -> Vec<Finding> {
    events
        .iter()
        .filter_map(|e| recognise(rules, e))
        .map(|c| assess(rules, &c, None, now))
        .collect()
}

/// Rule ids in the order tickets list them.
pub const TOKEN_RULES: [&str; 5] = [
    TOKEN_BROAD,
    TOKEN_WRITE,
    TOKEN_OUTSIDE_ALLOWED,
    TOKEN_UNKNOWN_SCOPE,
    TOKEN_UNAPPROVED_ISSUER,
];
