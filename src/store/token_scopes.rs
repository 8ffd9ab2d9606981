//! Token scopes: what each Cloudflare API token created in an audit event
//! may do, as the poller fetched it, for the token watchdog.

use chrono::Utc;
use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError, sql_err, to_ms};
use crate::sources::token_scope::TokenScope;

impl Store {
    /// Records (or replaces) the scope of the token created by `event_id`.
    pub fn set_token_scope(&mut self, event_id: &str, scope: &TokenScope) -> Result<()> {
        const OP: &str = "recording a token scope";
        if event_id.is_empty() {
            return Err(StoreError::InvalidInput {
                path: self.path.clone(),
                operation: OP,
                detail: "event id is empty".into(),
            });
        }
        let json = serde_json::to_string(scope).map_err(|e| StoreError::InvalidInput {
            path: self.path.clone(),
            operation: OP,
            detail: e.to_string(),
        })?;
        let path = self.path.as_str();
        self.conn
            .prepare_cached(
                "INSERT INTO token_scopes (event_id, scope, recorded_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (event_id) DO UPDATE SET
                     scope = excluded.scope, recorded_at = excluded.recorded_at",
            )
            .and_then(|mut s| s.execute(params![event_id, json, to_ms(Utc::now())]))
            .map_err(sql_err(path, OP))?;
        Ok(())
    }

    /// The recorded scope of the token created by `event_id`, if any.
    pub fn token_scope(&self, event_id: &str) -> Result<Option<TokenScope>> {
        const OP: &str = "reading a token scope";
        let path = self.path.as_str();
        let json: Option<String> = self
            .conn
            .prepare_cached("SELECT scope FROM token_scopes WHERE event_id = ?1")
            .and_then(|mut s| s.query_row([event_id], |row| row.get(0)).optional())
            .map_err(sql_err(path, OP))?;
        json.map(|json| {
            serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
                path: path.to_string(),
                operation: OP,
                detail: format!("scope of event {event_id:?} is not a token scope: {e}"),
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn scopes_round_trip_and_replace() {
        let mut store = Store::open_in_memory().unwrap();
        assert_eq!(store.token_scope("e1").unwrap(), None);
        let unknown = TokenScope::unknown("HTTP 503");
        store.set_token_scope("e1", &unknown).unwrap();
        assert_eq!(store.token_scope("e1").unwrap(), Some(unknown));
        let known = TokenScope::Known {
            policies: vec![json!({"effect": "allow"})],
        };
        store.set_token_scope("e1", &known).unwrap();
        assert_eq!(store.token_scope("e1").unwrap(), Some(known));
        assert!(matches!(
            store.set_token_scope("", &TokenScope::unknown("x")),
            Err(StoreError::InvalidInput { .. })
        ));
    }

    #[test]
    fn a_damaged_scope_is_reported_as_corrupt() {
        let store = Store::open_in_memory().unwrap();
        store
            .conn
            .execute(
                "INSERT INTO token_scopes VALUES ('e1', '{\"state\":\"maybe\"}', 0)",
                [],
            )
            .unwrap();
        let error = store.token_scope("e1").unwrap_err().to_string();
        assert!(error.contains("scope of event \"e1\""), "{error}");
    }
}
