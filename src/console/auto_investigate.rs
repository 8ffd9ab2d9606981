//! `investigation.auto_investigate_findings`: each new finding the engine
//! records starts an investigation of its actor, unless one of that actor
//! is already open (running or awaiting approval) around the same time:
//! a token, then a burst, then the hourly baseline of one attacker make
//! one draft to review, not three. Nothing starts while the investigation
//! workflow is off (read from the store for each finding).

use std::sync::PoisonError;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::config::InvestigationConfig;
use crate::detect::{Finding, Workflow};
use crate::engine::EngineEvent;
use crate::investigate::Investigator;
use crate::investigate::context::Window;
use crate::investigate::identity::normalize_actor;
use crate::store::{DraftRow, DraftStatus, StoredFinding, draft_label};
use crate::workflows::ModePolicy;

/// Drafts looked at for an open investigation of the same actor.
const RECENT_DRAFTS: usize = 200;

/// A stored finding as the detector reported it (its requests are already
/// in the outbox and are not needed again).
pub fn finding_of(stored: StoredFinding) -> Finding {
    stored.into()
}

/// The open draft of `actor` whose window covers `at`, if any.
pub fn open_draft_covering<'a>(
    drafts: &'a [DraftRow],
    actor: &str,
    at: DateTime<Utc>,
    config: &InvestigationConfig,
) -> Option<&'a DraftRow> {
    let actor = normalize_actor(actor);
    drafts.iter().find(|d| {
        matches!(d.status, DraftStatus::Running | DraftStatus::Draft)
            && normalize_actor(&d.actor) == actor
            && {
                let w = Window::around(d.at, config);
                w.from <= at && at < w.to
            }
    })
}

#[derive(Clone)]
pub struct AutoInvestigator {
    investigator: Investigator,
    config: InvestigationConfig,
    modes: ModePolicy,
}

impl AutoInvestigator {
    pub fn new(
        investigator: Investigator,
        config: InvestigationConfig,
        modes: ModePolicy,
    ) -> AutoInvestigator {
        AutoInvestigator {
            investigator,
            config,
            modes,
        }
    }

    /// Follows the engine bus until it stops.
    pub async fn follow(self, mut events: broadcast::Receiver<EngineEvent>) {
        if !self.config.auto_investigate_findings {
            return;
        }
        loop {
            match events.recv().await {
                Ok(EngineEvent::FindingRecorded {
                    dedup_key,
                    inserted: true,
                    ..
                }) => self.consider_key(dedup_key).await,
                Ok(EngineEvent::Stopped) | Err(RecvError::Closed) => return,
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "auto-investigation fell behind the engine bus");
                }
            }
        }
    }

    async fn consider_key(&self, dedup_key: String) {
        let store = std::sync::Arc::clone(self.investigator.store());
        let key = dedup_key.clone();
        let read = tokio::task::spawn_blocking(move || {
            store
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .finding(&key)
        })
        .await;
        match read {
            Ok(Ok(Some(stored))) => self.consider(finding_of(stored)).await,
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::warn!(finding = %dedup_key, error = %e, "reading a new finding"),
            Err(e) => tracing::warn!(finding = %dedup_key, error = %e, "reading a new finding"),
        }
    }

    /// Investigates `finding` in the background unless an open draft of its
    /// actor already covers it.
    pub async fn consider(&self, finding: Finding) {
        if !self.config.auto_investigate_findings || finding.is_suppressed() {
            return;
        }
        let store = std::sync::Arc::clone(self.investigator.store());
        let modes = self.modes;
        let drafts = tokio::task::spawn_blocking(move || {
            let store = store.lock().unwrap_or_else(PoisonError::into_inner);
            if modes.effective(&store, Workflow::Investigation)?.is_off() {
                return Ok(None);
            }
            store.drafts(None, RECENT_DRAFTS).map(Some)
        })
        .await;
        let drafts = match drafts {
            Ok(Ok(Some(d))) => d,
            Ok(Ok(None)) => {
                tracing::info!(
                    finding = %finding.dedup_key,
                    "not investigated: the investigation workflow is off"
                );
                return;
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "listing drafts before an auto-investigation");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "listing drafts before an auto-investigation");
                return;
            }
        };
        if let Some(open) =
            open_draft_covering(&drafts, &finding.actor, finding.window_end, &self.config)
        {
            tracing::info!(
                finding = %finding.dedup_key,
                draft = %draft_label(open.id),
                "not investigated again: an open draft covers it"
            );
            return;
        }
        let investigator = self.investigator.clone();
        tokio::spawn(async move {
            match investigator.on_finding(&finding).await {
                Ok(Some(id)) => {
                    tracing::info!(finding = %finding.dedup_key, draft = %draft_label(id), "auto-investigated");
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(finding = %finding.dedup_key, error = %e, "auto-investigation failed");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::store::TriggerKind;

    fn draft(id: i64, actor: &str, at: DateTime<Utc>, status: DraftStatus) -> DraftRow {
        DraftRow {
            id,
            actor: actor.into(),
            at,
            trigger_kind: TriggerKind::Finding,
            trigger_ref: Some(format!("k{id}")),
            trigger_json: "{}".into(),
            status,
            created_at: at,
            updated_at: at,
            verdict: None,
            confidence: None,
            untrusted_output: false,
            report_json: None,
            error: None,
            approved_by: None,
            approved_at: None,
            publish_to: None,
        }
    }

    #[test]
    fn an_open_draft_of_the_same_actor_and_time_covers_a_finding() {
        let config = InvestigationConfig::default();
        let t = Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap();
        let drafts = [
            draft(1, "Mallory@Example.com", t, DraftStatus::Approved),
            draft(2, "bob@example.com", t, DraftStatus::Draft),
            draft(3, "mallory@example.com", t, DraftStatus::Running),
        ];
        let hit = open_draft_covering(
            &drafts,
            "mallory@example.com",
            t + Duration::minutes(30),
            &config,
        );
        assert_eq!(hit.map(|d| d.id), Some(3), "approved drafts are closed");
        assert!(
            open_draft_covering(
                &drafts,
                "mallory@example.com",
                t + Duration::days(3),
                &config
            )
            .is_none(),
            "outside the draft's window"
        );
        assert!(open_draft_covering(&drafts, "eve@example.com", t, &config).is_none());
    }
}
