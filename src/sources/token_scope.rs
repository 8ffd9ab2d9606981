//! What a newly created Cloudflare API token may do.
//!
//! Token creations are what the token watchdog (`detect::tokens`) reviews,
//! and a token's policies are usually not in the audit entry (v1 entries
//! name the token in `metadata.token_tag` only). For such an entry the
//! poller reads the token:
//! `GET /accounts/{account_id}/tokens/{token_id}` for an account-owned token,
//! `GET /user/tokens/{token_id}` for a user's own. When the owner cannot be
//! told from the entry, the account endpoint is tried first and the user one
//! after a 404. Whatever goes wrong ends as [`TokenScope::Unknown`] with the
//! reason: the watchdog treats unknown as needing review, so a failed lookup
//! never hides a token.
//!
//! The stored document is Cloudflare's own policy list under `policies`, so
//! `detect::tokens::scope_of` reads it like a token details response.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::detect::Rules;
use crate::detect::rules::TokenKind;
use crate::detect::tokens;
use crate::model::AuditEvent;
use crate::sources::cloudflare::client::{CloudflareClient, TokenOwner};
use crate::sources::raw::error::excerpt;

/// Policies beyond this size (serialized) are not stored: no real token has
/// them, and the store is no place for a hostile blob.
const MAX_POLICIES_BYTES: usize = 64 * 1024;
const MAX_REASON_CHARS: usize = 300;

/// Stored per token-creation event, as `{"state":"known","policies":[...]}`
/// or `{"state":"unknown","reason":"..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum TokenScope {
    /// Cloudflare's policy objects, verbatim:
    /// `{id, effect, permission_groups: [{id, name, meta}], resources: {...}}`.
    Known {
        policies: Vec<Value>,
    },
    Unknown {
        reason: String,
    },
}

impl TokenScope {
    pub fn unknown(reason: impl AsRef<str>) -> TokenScope {
        TokenScope::Unknown {
            reason: excerpt(reason.as_ref(), MAX_REASON_CHARS),
        }
    }

    fn from_policies(policies: Vec<Value>) -> TokenScope {
        let size = serde_json::to_string(&policies).map_or(usize::MAX, |text| text.len());
        if size > MAX_POLICIES_BYTES {
            return TokenScope::unknown(format!(
                "the token's policies are larger than {MAX_POLICIES_BYTES} bytes; not stored"
            ));
        }
        TokenScope::Known { policies }
    }

    pub fn is_known(&self) -> bool {
        matches!(self, TokenScope::Known { .. })
    }
}

/// Who owns the created token, as far as the entry tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerHint {
    Account(String),
    User,
    Unknown,
}

/// An API-token creation whose entry does not carry the token's policies.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeLookup {
    pub event_id: String,
    /// v1 `metadata.token_tag`, v2 `resource.id`.
    pub token_id: Option<String>,
    pub owner: OwnerHint,
}

/// `Some` when `event` is an API-token creation, as the token watchdog's
/// rules recognise it, and its scope has to be fetched. Access service
/// tokens have no policies to fetch, and a scope already in the entry is
/// read from there by the watchdog.
pub fn lookup_needed(rules: &Rules, event: &AuditEvent) -> Option<ScopeLookup> {
    let creation = tokens::recognise(rules, event)?;
    if creation.kind != TokenKind::ApiToken || creation.scope_in_event.is_some() {
        return None;
    }
    let raw: Value = serde_json::from_str(&event.raw).unwrap_or(Value::Null);
    let uri = raw.pointer("/raw/uri").and_then(Value::as_str);
    Some(ScopeLookup {
        event_id: creation.event_id,
        token_id: creation.token_id.filter(|id| !id.trim().is_empty()),
        owner: owner_from_uri(uri),
    })
}

/// `/accounts/{id}/tokens` or `/user/tokens` in the request URI.
fn owner_from_uri(uri: Option<&str>) -> OwnerHint {
    let Some(uri) = uri else {
        return OwnerHint::Unknown;
    };
    let path = uri.split('?').next().unwrap_or(uri);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let at = |i: usize| segments.get(i).copied();
    let start = segments
        .iter()
        .position(|s| *s == "user" || *s == "accounts");
    match start {
        Some(i) if at(i) == Some("user") && at(i + 1) == Some("tokens") => OwnerHint::User,
        Some(i) if at(i) == Some("accounts") && at(i + 2) == Some("tokens") => {
            at(i + 1).map_or(OwnerHint::Unknown, |id| OwnerHint::Account(id.to_owned()))
        }
        _ => OwnerHint::Unknown,
    }
}

/// Reads the token's policies from Cloudflare. `polled_account` is the
/// account whose audit log held the entry.
pub async fn fetch_scope(
    client: &CloudflareClient,
    lookup: &ScopeLookup,
    polled_account: &str,
) -> TokenScope {
    let Some(token_id) = lookup.token_id.as_deref() else {
        return TokenScope::unknown("the audit entry names no token id");
    };
    let details = match &lookup.owner {
        OwnerHint::Account(account) => client
            .token(TokenOwner::Account(account), token_id)
            .await
            .map_err(|e| e.to_string()),
        OwnerHint::User => client
            .token(TokenOwner::User, token_id)
            .await
            .map_err(|e| e.to_string()),
        OwnerHint::Unknown => {
            match client
                .token(TokenOwner::Account(polled_account), token_id)
                .await
            {
                Err(account) if account.status() == Some(404) => client
                    .token(TokenOwner::User, token_id)
                    .await
                    .map_err(|user| format!("{account}; then {user}")),
                other => other.map_err(|e| e.to_string()),
            }
        }
    };
    match details {
        Ok(details) => match details.policies {
            Some(policies) => TokenScope::from_policies(policies),
            None => TokenScope::unknown("the token details carry no policy list"),
        },
        Err(reason) => TokenScope::unknown(format!("cannot read the token: {reason}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::rules::parse;
    use crate::sources::cloudflare::parse::{parse_v1_entry, parse_v2_entry};

    fn rules() -> Rules {
        parse(None).unwrap().rules
    }

    #[test]
    fn v1_token_create_needs_a_lookup_of_its_token_tag() {
        let raw = r#"{"action":{"result":true,"type":"token_create"},"actor":{"email":"user@example.com","id":"u1","type":"user"},"id":"73fd39ed","metadata":{"token_name":"test","token_tag":"b7261c49a793a82678d12285f0bc1401"},"owner":{"id":"u1"},"resource":{"id":"u1","type":"account"},"when":"2021-11-30T20:19:48Z"}"#;
        let lookup = lookup_needed(&rules(), &parse_v1_entry(raw).unwrap()).unwrap();
        assert_eq!(lookup.event_id, "73fd39ed");
        assert_eq!(
            lookup.token_id.as_deref(),
            Some("b7261c49a793a82678d12285f0bc1401")
        );
        assert_eq!(lookup.owner, OwnerHint::Unknown);
        let revoke = raw.replace("token_create", "token_revoke");
        assert_eq!(
            lookup_needed(&rules(), &parse_v1_entry(&revoke).unwrap()),
            None
        );
        let failed = raw.replace(r#""result":true"#, r#""result":false"#);
        assert_eq!(
            lookup_needed(&rules(), &parse_v1_entry(&failed).unwrap()),
            None
        );
    }

    fn v2(resource: &str, uri: &str) -> AuditEvent {
        let raw = format!(
            r#"{{"id":"e2","account":{{"id":"acc"}},"action":{{"time":"2024-04-26T17:31:07Z","type":"create","result":"success"}},"raw":{{"uri":"{uri}"}},"resource":{resource}}}"#
        );
        parse_v2_entry(&raw).unwrap()
    }

    #[test]
    fn v2_lookups_read_the_owner_from_the_uri_unless_the_entry_has_the_scope() {
        let user = lookup_needed(
            &rules(),
            &v2(r#"{"id":"t1","type":"api_token"}"#, "/user/tokens"),
        )
        .unwrap();
        assert_eq!(user.token_id.as_deref(), Some("t1"));
        assert_eq!(user.owner, OwnerHint::User);
        let account = lookup_needed(
            &rules(),
            &v2(
                r#"{"id":"t2","product":"api_tokens"}"#,
                "/client/v4/accounts/acc123/tokens?x=1",
            ),
        )
        .unwrap();
        assert_eq!(account.owner, OwnerHint::Account("acc123".into()));
        let in_entry = v2(
            r#"{"id":"t3","type":"api_token","response":{"result":{"policies":[{"id":"p","effect":"allow","permission_groups":[{"id":"g","name":"DNS Read"}],"resources":{"com.cloudflare.api.account.zone.z":"*"}}]}}}"#,
            "/user/tokens",
        );
        assert_eq!(lookup_needed(&rules(), &in_entry), None);
        let member = v2(r#"{"id":"m1","type":"member","product":"members"}"#, "/x");
        assert_eq!(lookup_needed(&rules(), &member), None);
        let service_token = v2(r#"{"id":"s1","type":"service_token"}"#, "/x");
        assert_eq!(lookup_needed(&rules(), &service_token), None);
    }

    #[test]
    fn scope_json_has_the_agreed_shape_and_the_watchdog_reads_it() {
        let policy = serde_json::json!({"id": "p1", "effect": "allow",
            "permission_groups": [{"id": "g1", "name": "Zone Write"}],
            "resources": {"com.cloudflare.api.account.zone.*": "*"}});
        let known = TokenScope::Known {
            policies: vec![policy.clone()],
        };
        let json = serde_json::to_value(&known).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"state": "known", "policies": [policy]})
        );
        assert!(matches!(
            tokens::scope_of(&json),
            tokens::TokenScope::Known { .. }
        ));
        let unknown = TokenScope::unknown("HTTP 403\u{1b}[31m");
        let json = serde_json::to_value(&unknown).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"state": "unknown", "reason": "HTTP 403\\u{1b}[31m"})
        );
        assert_eq!(tokens::scope_of(&json), tokens::TokenScope::Unknown);
        let huge = vec![Value::String("x".repeat(MAX_POLICIES_BYTES))];
        assert!(!TokenScope::from_policies(huge).is_known());
    }
}
