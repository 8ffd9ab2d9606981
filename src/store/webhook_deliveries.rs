//! Webhook deliveries seen, for replay protection. A delivery is recorded
//! in the same transaction as the draft it starts.

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::drafts::{DraftCreated, NewDraft, create_draft_in};
use super::{Result, Store, StoreError, sql_err, to_ms};

/// Deliveries are remembered this long. Signed requests older than the
/// skew window are refused anyway; shared-secret senders have no signed
/// time, so their ids must be remembered for as long as a replay is plausible.
pub const DELIVERY_RETENTION: TimeDelta = TimeDelta::days(7);

/// What [`Store::accept_delivery`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// New delivery; its draft was created.
    Accepted { draft_id: i64 },
    /// This delivery id was seen before.
    ReplayedId,
    /// A different delivery id with a signature seen before: the same signed
    /// request presented again.
    ReplayedSignature,
}

impl Store {
    /// Records delivery `delivery_id` (with the digest of its signature
    /// header, when signed) and creates the draft it asks for, in one
    /// transaction; refuses a delivery id or signature seen before. Also
    /// forgets deliveries older than [`DELIVERY_RETENTION`].
    pub fn accept_delivery(
        &mut self,
        delivery_id: &str,
        signature_digest: Option<&str>,
        draft: &NewDraft<'_>,
        now: DateTime<Utc>,
    ) -> Result<Delivery> {
        const OP: &str = "recording a webhook delivery";
        let path = self.path.clone();
        if delivery_id.is_empty() {
            return Err(StoreError::InvalidInput {
                path,
                operation: OP,
                detail: "the delivery id is empty".into(),
            });
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(&path, OP))?;
        tx.execute(
            "DELETE FROM webhook_deliveries WHERE received_at < ?1",
            [to_ms(now - DELIVERY_RETENTION)],
        )
        .map_err(sql_err(&path, OP))?;
        let seen_id = tx
            .query_row(
                "SELECT 1 FROM webhook_deliveries WHERE delivery_id = ?1",
                [delivery_id],
                |_| Ok(()),
            )
            .optional()
            .map_err(sql_err(&path, OP))?;
        if seen_id.is_some() {
            return Ok(Delivery::ReplayedId);
        }
        if let Some(digest) = signature_digest {
            let seen_signature = tx
                .query_row(
                    "SELECT 1 FROM webhook_deliveries WHERE signature = ?1",
                    [digest],
                    |_| Ok(()),
                )
                .optional()
                .map_err(sql_err(&path, OP))?;
            if seen_signature.is_some() {
                return Ok(Delivery::ReplayedSignature);
            }
        }
        let draft_id = match create_draft_in(&tx, &path, draft, now)? {
            DraftCreated::New(id) | DraftCreated::Existing(id) => id,
        };
        tx.execute(
            "INSERT INTO webhook_deliveries (delivery_id, signature, received_at, draft_id)
             VALUES (?1, ?2, ?3, ?4)",
            params![delivery_id, signature_digest, to_ms(now), draft_id],
        )
        .map_err(sql_err(&path, OP))?;
        tx.commit().map_err(sql_err(&path, OP))?;
        Ok(Delivery::Accepted { draft_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TriggerKind;

    fn draft(reference: &str) -> NewDraft<'_> {
        NewDraft {
            actor: "alice@example.com",
            at: Utc::now(),
            trigger_kind: TriggerKind::Webhook,
            trigger_ref: Some(reference),
            trigger_json: "{}",
        }
    }

    #[test]
    fn ids_and_signatures_are_accepted_once() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Utc::now();
        let first = store
            .accept_delivery("d1", Some("sig1"), &draft("d1"), now)
            .unwrap();
        assert!(matches!(first, Delivery::Accepted { .. }));
        assert_eq!(
            store
                .accept_delivery("d1", Some("sig2"), &draft("d1"), now)
                .unwrap(),
            Delivery::ReplayedId
        );
        assert_eq!(
            store
                .accept_delivery("d2", Some("sig1"), &draft("d2"), now)
                .unwrap(),
            Delivery::ReplayedSignature
        );
        assert_eq!(store.drafts(None, 10).unwrap().len(), 1);
        // Unsigned deliveries (shared-secret mode) are keyed by id only.
        assert!(matches!(
            store
                .accept_delivery("d3", None, &draft("d3"), now)
                .unwrap(),
            Delivery::Accepted { .. }
        ));
    }

    #[test]
    fn old_deliveries_are_forgotten() {
        let mut store = Store::open_in_memory().unwrap();
        let then = Utc::now() - DELIVERY_RETENTION - TimeDelta::hours(1);
        store
            .accept_delivery("d1", Some("s"), &draft("d1"), then)
            .unwrap();
        let again = store
            .accept_delivery("d1", Some("s"), &draft("d1-new"), Utc::now())
            .unwrap();
        assert!(matches!(again, Delivery::Accepted { .. }), "{again:?}");
    }
}
