//! Outbox rows an analyst asks for (publishing a report to Confluence,
//! Linear or PagerDuty): queued in the same transaction as the analyst-log
//! entry that records the request. They belong to no finding; they are
//! found again by dedup key (`Store::outbox_item_by_key`).

use chrono::{DateTime, Utc};
use rusqlite::TransactionBehavior;

use super::analyst_log::{NewLogEntry, insert_log_entry};
use super::outbox::{Delivery, NewOutboxItem, insert_item};
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
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(&path, OP))?;
        let id = insert_item(&tx, &path, item, now, delivery)?;
        if id.is_none() {
            return Ok(None);
        }
        insert_log_entry(&tx, &path, entry, now)?;
        tx.commit().map_err(sql_err(&path, OP))?;
        Ok(id)
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
        assert!(
            store
                .outbox_item_by_key("linear:INV-1:ticket")
                .unwrap()
                .is_none()
        );
        let page = store
            .outbox_item_by_key("confluence:INV-1:page")
            .unwrap()
            .unwrap();
        assert_eq!(page.payload, json!({"k": "confluence:INV-1:page"}));
    }
}
