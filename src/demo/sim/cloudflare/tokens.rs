//! API tokens the simulated account holds, as `GET …/tokens/{id}` shows
//! them, learnt from the entries that created them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::super::text_at;

/// Who owns an API token, which decides the endpoint serving its details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOwner {
    Account,
    User,
}

/// An API token as `GET …/tokens/{id}` describes it (never its value).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    pub owner: TokenOwner,
    pub status: String,
    pub issued_on: DateTime<Utc>,
    /// `[{id, effect, permission_groups: [{id, name}], resources: {...}}]`.
    pub policies: Value,
}

impl TokenRecord {
    pub(super) fn to_json(&self) -> Value {
        let issued = self.issued_on.to_rfc3339_opts(SecondsFormat::Secs, true);
        json!({
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "issued_on": issued,
            "modified_on": issued,
            "last_used_on": null,
            "policies": self.policies,
            "condition": {},
        })
    }
}

/// The token a successful v2 "create API token" entry made, with its policies.
pub(super) fn created_token(value: &Value, time: DateTime<Utc>) -> Option<TokenRecord> {
    let product = text_at(value, "resource.product")?;
    let is_creation = text_at(value, "action.type").as_deref() == Some("create")
        && text_at(value, "action.result").as_deref() == Some("success")
        && matches!(product.as_str(), "api_tokens" | "api_token");
    if !is_creation {
        return None;
    }
    let request = value.pointer("/resource/request")?;
    let owner = match text_at(value, "raw.uri") {
        Some(uri) if uri.starts_with("/user/") => TokenOwner::User,
        _ => TokenOwner::Account,
    };
    Some(TokenRecord {
        id: text_at(value, "resource.id")?,
        name: text_at(request, "name").unwrap_or_default(),
        owner,
        status: "active".into(),
        issued_on: time,
        policies: with_policy_ids(request.get("policies").cloned().unwrap_or(json!([]))),
    })
}

/// Real token details give every policy and permission group an id; audit
/// entries may not. Derived from the names, so they are stable.
fn with_policy_ids(mut policies: Value) -> Value {
    let stable_id = |text: &str| hex::encode(&Sha256::digest(text.as_bytes())[..16]);
    if let Some(list) = policies.as_array_mut() {
        for (i, policy) in list.iter_mut().enumerate() {
            if let Some(groups) = policy
                .get_mut("permission_groups")
                .and_then(Value::as_array_mut)
            {
                for group in groups.iter_mut() {
                    let name = text_at(group, "name").unwrap_or_default();
                    if group.get("id").is_none() {
                        group["id"] = json!(stable_id(&format!("group:{name}")));
                    }
                }
            }
            if policy.get("id").is_none() && policy.is_object() {
                policy["id"] = json!(stable_id(&format!("policy:{i}:{policy}")));
            }
        }
    }
    policies
}
