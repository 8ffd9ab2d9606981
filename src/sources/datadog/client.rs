//! Datadog Audit Trail: `GET /api/v2/audit/events`, oldest first, cursor
//! pagination through `meta.page.after`.
//!
//! Every request carries `DD-API-KEY` and `DD-APPLICATION-KEY` headers; the
//! keys never go in a URL. The base URL is `https://api.<site>` for every
//! Datadog site, or any configured base (a proxy, Prism on loopback).

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::RequestBuilder;
use reqwest::header::HeaderValue;
use url::Url;

use super::parse::parse_entry;
use crate::secrets::Secret;
use crate::sources::action_kinds::ActionKindMap;
use crate::sources::http::{HttpClient, HttpError};
use crate::sources::page::{Envelope, FetchError, Page, parse_page};

/// Largest `page[limit]` the endpoint accepts.
pub const MAX_PAGE_SIZE: u32 = 1000;

pub const API_KEY_HEADER: &str = "DD-API-KEY";
pub const APP_KEY_HEADER: &str = "DD-APPLICATION-KEY";

/// Which events to list.
#[derive(Debug, Clone, Copy)]
pub struct EventQuery<'a> {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Only this user's events (`@usr.email:"…"`), when set.
    pub actor_email: Option<&'a str>,
    /// Events per page, 1 to [`MAX_PAGE_SIZE`].
    pub limit: u32,
}

pub struct DatadogClient {
    http: HttpClient,
    api_key: Secret,
    app_key: Secret,
    kinds: ActionKindMap,
}

impl DatadogClient {
    pub fn new(http: HttpClient, api_key: Secret, app_key: Secret) -> DatadogClient {
        DatadogClient {
            http,
            api_key,
            app_key,
            kinds: ActionKindMap::builtin(),
        }
    }

    /// Normalizes event kinds with `kinds` (`[datadog.action_kinds]`)
    /// instead of the built-in vocabulary.
    pub fn with_action_kinds(mut self, kinds: ActionKindMap) -> DatadogClient {
        self.kinds = kinds;
        self
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// One page of audit events; `cursor` is the previous page's `meta.page.after`.
    pub async fn audit_events(
        &self,
        query: &EventQuery<'_>,
        cursor: Option<&str>,
    ) -> Result<Page, FetchError> {
        let url = self.http.url(&["api", "v2", "audit", "events"]);
        let mut params = vec![
            // RFC3339: the GET endpoint types these as date-time (date math
            // such as `now-15m` is for the POST search only).
            ("filter[from]", timestamp(query.from)),
            ("filter[to]", timestamp(query.to)),
            ("sort", "timestamp".to_owned()),
            (
                "page[limit]",
                query.limit.clamp(1, MAX_PAGE_SIZE).to_string(),
            ),
        ];
        if let Some(email) = query.actor_email {
            params.push(("filter[query]", actor_query(email)));
        }
        if let Some(cursor) = cursor {
            params.push(("page[cursor]", cursor.to_owned()));
        }
        let fetched = self
            .http
            .fetch(|http| {
                let request = http.get(url.clone()).query(&params);
                let request = secret_header(request, API_KEY_HEADER, &self.api_key);
                secret_header(request, APP_KEY_HEADER, &self.app_key)
            })
            .await?;
        let mut page = parse_page(
            &fetched.body,
            Envelope::Datadog,
            &endpoint(&url),
            parse_entry,
        )?;
        self.kinds.apply_all(&mut page.events);
        Ok(page)
    }
}

impl DatadogClient {
    /// `GET /api/v1/validate` with the API key alone: tells a wrong API key
    /// from a wrong or under-privileged application key when the audit
    /// endpoint answers 403 to both.
    pub async fn validate_api_key(&self) -> Result<(), HttpError> {
        let url = self.http.url(&["api", "v1", "validate"]);
        self.http
            .fetch(|http| secret_header(http.get(url.clone()), API_KEY_HEADER, &self.api_key))
            .await
            .map(|_| ())
    }
}

/// `@usr.email:"<email>"`, quoted so spaces or operators in the value stay
/// part of it.
pub fn actor_query(email: &str) -> String {
    let escaped = email.replace('\\', "\\\\").replace('"', "\\\"");
    format!("@usr.email:\"{escaped}\"")
}

/// Adds the key as a header marked sensitive (kept out of reqwest's debug
/// output). A key that cannot be a header value (a pasted newline) is handed
/// to reqwest as is, so building the request fails with
/// `HttpError::InvalidRequest`, which never shows the value.
fn secret_header(request: RequestBuilder, name: &'static str, secret: &Secret) -> RequestBuilder {
    match HeaderValue::from_str(secret.expose()) {
        Ok(mut value) => {
            value.set_sensitive(true);
            request.header(name, value)
        }
        Err(_) => request.header(name, secret.expose()),
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn endpoint(url: &Url) -> String {
    format!("datadog GET {}", url.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_query_quotes_the_email() {
        assert_eq!(
            actor_query("alice@example.com"),
            r#"@usr.email:"alice@example.com""#
        );
        assert_eq!(actor_query(r#"a"b\c"#), r#"@usr.email:"a\"b\\c""#);
    }

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let at = DateTime::from_timestamp(1_649_842_199, 0).unwrap();
        assert_eq!(timestamp(at), "2022-04-13T09:29:59.000Z");
    }

    #[test]
    fn secret_headers_are_sensitive_and_bad_keys_fail_the_build() {
        let client = reqwest::Client::new();
        let good = secret_header(
            client.get("http://127.0.0.1/"),
            API_KEY_HEADER,
            &Secret::new("abc".into()),
        )
        .build()
        .unwrap();
        let value = good.headers().get(API_KEY_HEADER).unwrap();
        assert!(value.is_sensitive());
        assert_eq!(value.to_str().unwrap(), "abc");
        let bad = secret_header(
            client.get("http://127.0.0.1/"),
            API_KEY_HEADER,
            &Secret::new("abc\ndef".to_owned()),
        )
        .build();
        assert!(bad.is_err());
    }
}
