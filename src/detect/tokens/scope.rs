//! What a Cloudflare token can do, in the shape of Cloudflare's token
//! details (`GET /user/tokens/{id}`, `GET /accounts/{account_id}/tokens/{id}`):
//!
//! ```json
//! {"result": {"id": "…", "name": "…", "status": "active", "issued_on": "…", "expires_on": "…",
//!   "policies": [{"id": "…", "effect": "allow",
//!     "permission_groups": [{"id": "…", "name": "Zone Write"}],
//!     "resources": {"com.cloudflare.api.account.<id>": "*",
//!                   "com.cloudflare.api.account.zone.*": "*"}}],
//!   "condition": {"request_ip": {"in": ["…"]}}}}
//! ```
//!
//! Only these fields are read. In particular a create response's `value`
//! (the token secret) and an Access service token's `client_secret` are
//! never copied anywhere.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A policy's effect; only `allow` grants anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    Allow,
    Deny,
}

/// One token policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub effect: Effect,
    /// Permission group names (`Zone Write`, `DNS Read`, ...).
    pub permission_groups: Vec<String>,
    /// Resource key -> grant, verbatim: `"*"`, or a nested object of
    /// resource keys for "these zones of this account".
    pub resources: BTreeMap<String, Value>,
}

impl Policy {
    /// Every resource key, nested ones included.
    pub fn resource_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        for (k, v) in &self.resources {
            keys.push(k.clone());
            collect_nested_keys(v, &mut keys, 0);
        }
        keys
    }
}

/// Nesting in real tokens is one level deep; the cap bounds the work an
/// odd document can cause.
const MAX_NESTING: usize = 8;

fn collect_nested_keys(v: &Value, out: &mut Vec<String>, depth: usize) {
    if depth >= MAX_NESTING {
        return;
    }
    if let Value::Object(map) = v {
        for (k, inner) in map {
            out.push(k.clone());
            collect_nested_keys(inner, out, depth + 1);
        }
    }
}

/// A token's scope, or the admission that we do not know it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum TokenScope {
    Known { policies: Vec<Policy> },
    Unknown,
}

/// The non-secret parts of a token's details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenDetails {
    pub id: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub issued_on: Option<String>,
    pub expires_on: Option<String>,
    pub scope: TokenScope,
    /// Client IP conditions, verbatim.
    pub condition: Option<Value>,
}

impl TokenDetails {
    /// Reads a token details document: the API envelope `{"result": {...}}`
    /// or the token object itself. Missing or malformed policies make the
    /// scope [`TokenScope::Unknown`]; nothing here fails.
    pub fn from_json(doc: &Value) -> TokenDetails {
        let token = doc.get("result").filter(|r| r.is_object()).unwrap_or(doc);
        let text = |k: &str| token.get(k).and_then(Value::as_str).map(str::to_string);
        TokenDetails {
            id: text("id"),
            name: text("name"),
            status: text("status"),
            issued_on: text("issued_on"),
            expires_on: text("expires_on"),
            scope: scope_of(token),
            condition: token.get("condition").filter(|c| !c.is_null()).cloned(),
        }
    }
}

/// The scope described by a token object's `policies`.
pub fn scope_of(token: &Value) -> TokenScope {
    let Some(Value::Array(raw)) = token.get("policies") else {
        return TokenScope::Unknown;
    };
    let policies: Option<Vec<Policy>> = raw.iter().map(policy_of).collect();
    match policies {
        Some(p) if !p.is_empty() => TokenScope::Known { policies: p },
        _ => TokenScope::Unknown,
    }
}

/// `None` when the policy is not the documented shape: a scope we only
/// half understand is reported as unknown rather than guessed.
fn policy_of(v: &Value) -> Option<Policy> {
    let effect = match v.get("effect")?.as_str()? {
        "allow" => Effect::Allow,
        "deny" => Effect::Deny,
        _ => return None,
    };
    let permission_groups = v
        .get("permission_groups")?
        .as_array()?
        .iter()
        .map(|g| g.get("name").and_then(Value::as_str).map(str::to_string))
        .collect::<Option<Vec<_>>>()?;
    let resources = v
        .get("resources")?
        .as_object()?
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some(Policy {
        effect,
        permission_groups,
        resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn details_follow_cloudflares_shape_and_drop_the_secret() {
        let doc = json!({"result": {
            "id": "ed17574386854bf78a67040be0a770b0", "name": "deploy", "status": "active",
            "issued_on": "2026-11-21T11:02:00Z", "expires_on": null, "value": "SECRET-VALUE",
            "policies": [{"id": "p1", "effect": "allow",
                "permission_groups": [{"id": "g1", "name": "Zone Write"}],
                "resources": {"com.cloudflare.api.account.abc": {"com.cloudflare.api.account.zone.*": "*"}}}],
            "condition": {"request_ip": {"in": ["192.0.2.0/24"]}}}});
        let d = TokenDetails::from_json(&doc);
        assert_eq!(d.id.as_deref(), Some("ed17574386854bf78a67040be0a770b0"));
        assert_eq!(d.expires_on, None);
        let TokenScope::Known { policies } = &d.scope else {
            panic!("scope should be known")
        };
        assert_eq!(policies[0].permission_groups, ["Zone Write"]);
        assert_eq!(
            policies[0].resource_keys(),
            [
                "com.cloudflare.api.account.abc",
                "com.cloudflare.api.account.zone.*"
            ]
        );
        assert!(!serde_json::to_string(&d).unwrap().contains("SECRET"));
    }

    #[test]
    fn malformed_policies_make_the_scope_unknown() {
        assert_eq!(scope_of(&json!({})), TokenScope::Unknown);
        assert_eq!(scope_of(&json!({"policies": []})), TokenScope::Unknown);
        assert_eq!(
            scope_of(
                &json!({"policies": [{"effect": "maybe", "permission_groups": [], "resources": {}}]})
            ),
            TokenScope::Unknown
        );
        assert_eq!(
            scope_of(
                &json!({"policies": [{"effect": "allow", "permission_groups": [{"id": "x"}], "resources": {}}]})
            ),
            TokenScope::Unknown
        );
    }
}
