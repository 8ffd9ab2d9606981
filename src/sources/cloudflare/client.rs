//! Cloudflare API calls soc-tui makes: account audit logs (v2 `/logs/audit`
//! with cursor pagination, v1 `/audit_logs` with page numbers) and API token
//! details (for token-scope enrichment).
//!
//! Every request carries `Authorization: Bearer <token>`; the token never
//! goes in a URL. Base URLs come from config, so a mock such as Prism is
//! `http://127.0.0.1:<port>` with no `/client/v4`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::parse::{parse_v1_entry, parse_v2_entry};
use crate::secrets::Secret;
use crate::sources::action_kinds::ActionKindMap;
use crate::sources::http::HttpClient;
use crate::sources::page::{Envelope, FetchError, Page, parse_page};

/// Largest page both audit endpoints serve.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Which entries to list. Cloudflare requires both ends of the range.
#[derive(Debug, Clone, Copy)]
pub struct AuditQuery<'a> {
    pub since: DateTime<Utc>,
    pub before: DateTime<Utc>,
    /// Only this actor's entries (an investigation), when set.
    pub actor_email: Option<&'a str>,
    /// Entries per page, 1 to [`MAX_PAGE_SIZE`].
    pub limit: u32,
}

/// Who owns an API token, which decides the endpoint its details are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOwner<'a> {
    /// `GET /accounts/{account_id}/tokens/{token_id}`.
    Account(&'a str),
    /// `GET /user/tokens/{token_id}`.
    User,
}

/// `result` of a token details response; every field as Cloudflare sends it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TokenDetails {
    pub id: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub issued_on: Option<String>,
    pub expires_on: Option<String>,
    /// `[{id, effect, permission_groups: [{id, name}], resources: {...}}]`;
    /// `None` when the response has no policy list.
    pub policies: Option<Vec<Value>>,
    pub condition: Option<Value>,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    success: Option<bool>,
    #[serde(default)]
    result: Option<TokenDetails>,
}

/// The Cloudflare API as the poller and the token-scope enrichment use it.
pub struct CloudflareClient {
    http: HttpClient,
    token: Secret,
    kinds: ActionKindMap,
}

impl CloudflareClient {
    pub fn new(http: HttpClient, token: Secret) -> CloudflareClient {
        CloudflareClient {
            http,
            token,
            kinds: ActionKindMap::builtin(),
        }
    }

    /// Normalizes event kinds with `kinds` (`[cloudflare.action_kinds]`)
    /// instead of the built-in vocabulary.
    pub fn with_action_kinds(mut self, kinds: ActionKindMap) -> CloudflareClient {
        self.kinds = kinds;
        self
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// One page of `GET /accounts/{account_id}/logs/audit`, oldest first.
    /// `cursor` is the previous page's `result_info.cursor`.
    pub async fn audit_logs_v2(
        &self,
        account_id: &str,
        query: &AuditQuery<'_>,
        cursor: Option<&str>,
    ) -> Result<Page, FetchError> {
        let url = self.http.url(&["accounts", account_id, "logs", "audit"]);
        let mut params = vec![
            ("since", timestamp(query.since)),
            ("before", timestamp(query.before)),
            ("limit", query.limit.clamp(1, MAX_PAGE_SIZE).to_string()),
            ("direction", "asc".to_owned()),
        ];
        if let Some(cursor) = cursor {
            params.push(("cursor", cursor.to_owned()));
        }
        if let Some(email) = query.actor_email {
            params.push(("actor_email", email.to_owned()));
        }
        let body = self.get(&url, &params).await?;
        let mut page = parse_page(
            &body,
            Envelope::CloudflareV2,
            &endpoint(&url),
            parse_v2_entry,
        )?;
        self.kinds.apply_all(&mut page.events);
        Ok(page)
    }

    /// One page (1-based `page`) of the v1 `GET /accounts/{account_id}/audit_logs`, oldest first.
    pub async fn audit_logs_v1(
        &self,
        account_id: &str,
        query: &AuditQuery<'_>,
        page: u32,
    ) -> Result<Page, FetchError> {
        let url = self.http.url(&["accounts", account_id, "audit_logs"]);
        let mut params = vec![
            ("since", timestamp(query.since)),
            ("before", timestamp(query.before)),
            ("per_page", query.limit.clamp(1, MAX_PAGE_SIZE).to_string()),
            ("page", page.max(1).to_string()),
            ("direction", "asc".to_owned()),
        ];
        if let Some(email) = query.actor_email {
            params.push(("actor.email", email.to_owned()));
        }
        let body = self.get(&url, &params).await?;
        let mut page = parse_page(
            &body,
            Envelope::CloudflareV1,
            &endpoint(&url),
            parse_v1_entry,
        )?;
        self.kinds.apply_all(&mut page.events);
        Ok(page)
    }

    /// An API token's details, including its policies.
    pub async fn token(
        &self,
        owner: TokenOwner<'_>,
        token_id: &str,
    ) -> Result<TokenDetails, FetchError> {
        let url = match owner {
            TokenOwner::Account(account_id) => {
                self.http.url(&["accounts", account_id, "tokens", token_id])
            }
            TokenOwner::User => self.http.url(&["user", "tokens", token_id]),
        };
        let body = self.get(&url, &[]).await?;
        let endpoint = endpoint(&url);
        let response: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
            FetchError::malformed(&endpoint, format!("not a token details response ({e})"))
        })?;
        if response.success == Some(false) {
            return Err(FetchError::malformed(&endpoint, "`success` is false"));
        }
        response
            .result
            .ok_or_else(|| FetchError::malformed(&endpoint, "no `result` object"))
    }

    async fn get(&self, url: &Url, params: &[(&str, String)]) -> Result<Vec<u8>, FetchError> {
        let fetched = self
            .http
            .fetch(|http| {
                http.get(url.clone())
                    .query(params)
                    .bearer_auth(self.token.expose())
            })
            .await?;
        Ok(fetched.body)
    }
}

/// RFC3339 in UTC with a `Z`, fractions only when there are some: the form
/// both audit endpoints (and Prism's patched specs) accept.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `cloudflare GET /accounts/…/logs/audit`, as `HttpError` names calls.
fn endpoint(url: &Url) -> String {
    format!("cloudflare GET {}", url.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_with_z() {
        let whole = DateTime::from_timestamp(1_714_152_667, 0).unwrap();
        assert_eq!(timestamp(whole), "2024-04-26T17:31:07Z");
        let fraction = DateTime::from_timestamp(1_714_152_667, 250_000_000).unwrap();
        assert_eq!(timestamp(fraction), "2024-04-26T17:31:07.250Z");
    }

    #[test]
    fn token_details_keep_policies_verbatim() {
        let body = r#"{"success":true,"errors":[],"messages":[],"result":{"id":"t1","name":"ci","status":"active","policies":[{"id":"p1","effect":"allow","permission_groups":[{"id":"g","name":"DNS Write"}],"resources":{"com.cloudflare.api.account.zone.*":"*"}}],"condition":{"request_ip":{"in":[],"not_in":[]}}}}"#;
        let parsed: TokenResponse = serde_json::from_str(body).unwrap();
        let details = parsed.result.unwrap();
        assert_eq!(details.name.as_deref(), Some("ci"));
        let policies = details.policies.unwrap();
        assert_eq!(policies[0]["permission_groups"][0]["name"], "DNS Write");
        let missing: TokenResponse =
            serde_json::from_str(r#"{"success":true,"result":{"id":"t1"}}"#).unwrap();
        assert!(missing.result.unwrap().policies.is_none());
    }
}
