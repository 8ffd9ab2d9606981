//! Outbox rows an analyst asks for (publishing a report to Confluence,
//! Linear or PagerDuty): queued in the same transaction as the analyst-log
//! entry that records the request, and found again by dedup key, since
//! they belong to no finding. Lookups are point reads on the unique key,
//! so their cost is the number of keys asked for, not the outbox size.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior};

use super::analyst_log::{NewLogEntry, insert_log_entry};
use super::outbox::{Delivery, ITEM_COLUMNS, NewOutboxItem, NewRow, OutboxItem, RawItem, insert};
use super::{Result, Store, sql_err};

impl Store {
    /// Queues `item` and appends `entry` to the analyst log, both or
    /// neither. Returns the new row's id; `None` when a row with the same
    /// dedup key exists (nothing is logged then: nothing was asked anew).
    pub fn enqueue_logged(
        &mut self,
        item: &NewOutboxItem,
        entry: &NewLogEntry<'_>,
        now: DateTime<Utc>,
        delivery: Delivery,
    ) -> Result<Option<i64>> {
        const OP: &str = "queuing an analyst's outbox request";
        let path = self.path.clone();
        let payload = item.payload.to_string();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(&path, OP))?;
        let id = insert(
            &tx,
            &path,
            &NewRow {
                dedup_key: &item.dedup_key,
                finding_id: item.finding_id,
                sink: item.sink,
                kind: &item.kind,
                payload: &payload,
            },
            now,
            delivery,
        )?;
        if id.is_none() {
            return Ok(None);
        }
        insert_log_entry(&tx, &path, entry, now)?;
        tx.commit().map_err(sql_err(&path, OP))?;
        Ok(id)
    }

    /// The rows with these dedup keys, in the order asked; missing keys are skipped.
    pub fn outbox_by_dedup_keys(&self, keys: &[String]) -> Result<Vec<OutboxItem>> {
        const OP: &str = "looking up outbox rows";
        let sql = format!("SELECT {ITEM_COLUMNS} FROM outbox WHERE dedup_key = ?1");
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(sql_err(&self.path, OP))?;
        let mut items = Vec::new();
        for key in keys {
            let raw = stmt
                .query_row([key], RawItem::from_row)
                .optional()
                .map_err(sql_err(&self.path, OP))?;
            if let Some(raw) = raw {
                items.push(raw.into_item(&self.path, OP)?);
            }
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::Sink;

    fn item(key: &str, sink: Sink) -> NewOutboxItem {
        NewOutboxItem {
            dedup_key: key.into(),
            finding_id: None,
            sink,
            kind: "page".into(),
            payload: json!({"k": key}),
        }
    }

    fn entry(analyst: &str) -> NewLogEntry<'_> {
        NewLogEntry {
            analyst,
            action: "publish",
            subject: "INV-1",
            before: None,
            after: Some("{\"target\":\"confluence\"}"),
            note: None,
        }
    }

    #[test]
    fn a_request_is_queued_with_its_log_entry_once() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Utc::now();
        let page = item("confluence:INV-1:page", Sink::Confluence);
        let id = store
            .enqueue_logged(&page, &entry("alice"), now, Delivery::Live)
            .unwrap();
        assert!(id.is_some());
        let again = store
            .enqueue_logged(&page, &entry("bob"), now, Delivery::Live)
            .unwrap();
        assert_eq!(again, None, "the same request is queued once");
        let log = store.analyst_log(Some("INV-1"), 10).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].analyst, "alice");

        // A refused log entry leaves no row behind.
        let ticket = item("linear:INV-1:ticket", Sink::Linear);
        let err = store
            .enqueue_logged(&ticket, &entry(" "), now, Delivery::Live)
            .unwrap_err();
        assert!(err.to_string().contains("the analyst is empty"), "{err}");
        let keys: Vec<String> = [
            "linear:INV-1:ticket",
            "pagerduty:INV-1:trigger",
            "confluence:INV-1:page",
        ]
        .map(String::from)
        .to_vec();
        let found = store.outbox_by_dedup_keys(&keys).unwrap();
        let names: Vec<&str> = found.iter().map(|i| i.dedup_key.as_str()).collect();
        assert_eq!(names, ["confluence:INV-1:page"]);
        assert_eq!(found[0].payload, json!({"k": "confluence:INV-1:page"}));
    }
}
