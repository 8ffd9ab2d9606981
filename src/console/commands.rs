//! Carrying out what the analyst asks, on the store and the investigator,
//! off the UI thread. Every change is recorded in the analyst log in the
//! same transaction as the change itself (see `Store::triage_finding`,
//! `Store::approve_draft`, `Store::enqueue_logged`).

use std::path::PathBuf;
use std::sync::{Arc, PoisonError};

use chrono::{Duration, Utc};
use serde_json::json;

use super::approve;
use super::auto_investigate::finding_of;
use super::publish;
use crate::config::{Config, workflow_key};
use crate::investigate::report::Report;
use crate::investigate::{InvestigationRequest, Investigator, SharedStore};
use crate::store::{
    Approval, Delivery, DraftCreated, DraftEdit, DraftRow, DraftStatus, FindingState, NewLogEntry,
    Store, Triage, draft_label, parse_draft_label,
};
use crate::tui::model::{Command, DraftId, FindingId, PublishTarget};
use crate::workflows::{ModePolicy, publish_workflow};

/// What commands work on.
#[derive(Clone)]
pub struct CommandContext {
    pub store: SharedStore,
    pub investigator: Option<Investigator>,
    pub config: Arc<Config>,
    /// Decides, per request, whether the analyst's publish is queued,
    /// recorded as a dry-run item, or refused (its workflow is off).
    pub modes: ModePolicy,
    /// Where the local archive lives (the outbox view's previews).
    pub data_dir: PathBuf,
}

/// Runs `command`; `Ok` carries what was done, for the notice.
pub async fn execute(ctx: &CommandContext, command: Command) -> Result<String, String> {
    match command {
        Command::Acknowledge { finding, analyst } => {
            triage(
                ctx,
                finding,
                FindingState::Acknowledged,
                None,
                analyst,
                None,
            )
            .await
        }
        Command::Resolve { finding, analyst } => {
            triage(ctx, finding, FindingState::Resolved, None, analyst, None).await
        }
        Command::Snooze {
            finding,
            duration,
            reason,
            analyst,
        } => {
            let span = Duration::from_std(duration)
                .map_err(|_| format!("a snooze of {duration:?} is too long"))?;
            let until = Utc::now() + span;
            let done = triage(
                ctx,
                finding,
                FindingState::Snoozed,
                Some(until),
                analyst,
                Some(reason),
            )
            .await?;
            Ok(format!(
                "{done} until {}",
                until.format("%Y-%m-%d %H:%M UTC")
            ))
        }
        Command::StartInvestigation {
            actor,
            finding,
            analyst,
        } => start_investigation(ctx, actor.raw().to_owned(), finding, analyst).await,
        Command::Approve {
            draft,
            fields,
            analyst,
            ..
        } => {
            blocking(ctx, move |store| {
                let (row, mut report) = approved_material(store, &draft, DraftStatus::Draft)?;
                let changes = approve::apply(&mut report, &fields)?;
                let json;
                let (before, after);
                let edit = match &changes {
                    None => None,
                    Some(c) => {
                        json = serde_json::to_string(&report).map_err(|e| e.to_string())?;
                        before = c.before.to_string();
                        after = c.after.to_string();
                        Some(DraftEdit {
                            report_json: &json,
                            verdict: report.assessment.verdict.as_str(),
                            confidence: report.assessment.confidence,
                            before_json: &before,
                            after_json: &after,
                        })
                    }
                };
                store
                    .approve_draft(
                        &Approval {
                            id: row.id,
                            analyst: &analyst,
                            edit,
                            publish_to: None,
                            note: None,
                        },
                        Utc::now(),
                    )
                    .map_err(|e| e.to_string())?;
                Ok(match changes {
                    None => format!("{} approved as written", draft_label(row.id)),
                    Some(_) => format!("{} approved with your edits", draft_label(row.id)),
                })
            })
            .await
        }
        Command::Publish {
            draft,
            target,
            analyst,
        } => publish_report(ctx, draft, target, analyst).await,
        Command::SetWorkflowMode {
            workflow,
            mode,
            analyst,
        } => {
            let modes = ctx.modes;
            blocking(ctx, move |store| {
                let done = modes
                    .switch(store, workflow, Some(mode), &analyst, Utc::now())
                    .map_err(|e| e.to_string())?;
                let key = workflow_key(workflow);
                Ok(if done.changed {
                    format!("{key}: {} -> {}", done.from, done.to)
                } else {
                    format!("{key} is already {}", done.to)
                })
            })
            .await
        }
    }
}

async fn blocking<T: Send + 'static>(
    ctx: &CommandContext,
    work: impl FnOnce(&mut Store) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let store = Arc::clone(&ctx.store);
    tokio::task::spawn_blocking(move || {
        let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
        work(&mut store)
    })
    .await
    .map_err(|e| format!("the store task stopped: {e}"))?
}

async fn triage(
    ctx: &CommandContext,
    finding: FindingId,
    state: FindingState,
    snoozed_until: Option<chrono::DateTime<Utc>>,
    analyst: String,
    note: Option<String>,
) -> Result<String, String> {
    blocking(ctx, move |store| {
        store
            .triage_finding(
                &Triage {
                    dedup_key: finding.raw(),
                    state,
                    snoozed_until,
                    analyst: &analyst,
                    note: note.as_deref(),
                },
                Utc::now(),
            )
            .map_err(|e| e.to_string())?;
        Ok(format!("finding {state}"))
    })
    .await
}

async fn start_investigation(
    ctx: &CommandContext,
    actor: String,
    finding: Option<FindingId>,
    analyst: String,
) -> Result<String, String> {
    let investigator = ctx.investigator.clone().ok_or_else(|| {
        "investigations are not available in this session (see the log)".to_owned()
    })?;
    let request = match finding {
        Some(id) => {
            let stored = blocking(ctx, move |store| {
                store
                    .finding(id.raw())
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("finding {} is not in the store", id.shown()))
            })
            .await?;
            InvestigationRequest::from_finding(&finding_of(stored))
        }
        None => InvestigationRequest::from_cli(&actor, Utc::now()),
    };
    // `open` takes the store lock itself, so not inside `blocking`.
    let opener = investigator.clone();
    let created = tokio::task::spawn_blocking(move || opener.open(&request))
        .await
        .map_err(|e| format!("the store task stopped: {e}"))?
        .map_err(|e| e.to_string())?;
    let id = match created {
        DraftCreated::Existing(id) => {
            return Ok(format!("{} already investigates this", draft_label(id)));
        }
        DraftCreated::New(id) => id,
    };
    let label = draft_label(id);
    let subject = label.clone();
    blocking(ctx, move |store| {
        store
            .append_analyst_log(
                &NewLogEntry {
                    analyst: &analyst,
                    action: "investigate",
                    subject: &subject,
                    before: None,
                    after: Some(&json!({"status": "running"}).to_string()),
                    note: None,
                },
                Utc::now(),
            )
            .map_err(|e| e.to_string())
    })
    .await?;
    tokio::spawn(async move {
        if let Err(e) = investigator.run(id).await {
            tracing::warn!(draft = %draft_label(id), error = %e, "investigation failed");
        }
    });
    Ok(format!("{label} started"))
}

/// The draft and its report, refusing a draft not in `status`.
fn approved_material(
    store: &Store,
    draft: &DraftId,
    status: DraftStatus,
) -> Result<(DraftRow, Report), String> {
    let id = parse_draft_label(draft.raw())
        .ok_or_else(|| format!("{} is not a draft id", draft.shown()))?;
    let row = store
        .draft(id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("draft {} does not exist", draft_label(id)))?;
    if row.status != status {
        return Err(match status {
            DraftStatus::Approved => format!(
                "draft {} is {}: approve it before publishing",
                draft_label(id),
                row.status
            ),
            _ => format!(
                "draft {} is {}; only a finished draft can be approved",
                draft_label(id),
                row.status
            ),
        });
    }
    let report = row
        .report_json
        .as_deref()
        .ok_or_else(|| format!("draft {} has no report", draft_label(id)))
        .and_then(|json| {
            serde_json::from_str::<Report>(json)
                .map_err(|e| format!("draft {}: the report cannot be read: {e}", draft_label(id)))
        })?;
    Ok((row, report))
}

async fn publish_report(
    ctx: &CommandContext,
    draft: DraftId,
    target: PublishTarget,
    analyst: String,
) -> Result<String, String> {
    let config = Arc::clone(&ctx.config);
    let modes = ctx.modes;
    blocking(ctx, move |store| {
        let (row, report) = approved_material(store, &draft, DraftStatus::Approved)?;
        let label = draft_label(row.id);
        let item = publish::outbox_item(target, &row, &report, &config)?;
        let workflow = publish_workflow(target == PublishTarget::Confluence, &row, |key| {
            Ok(store.finding(key)?.map(|f| f.workflow))
        })
        .map_err(|e| e.to_string())?;
        let mode = modes
            .effective(store, workflow)
            .map_err(|e| e.to_string())?;
        let Some(delivery) = mode.delivery() else {
            return Err(format!("{label} was not queued: {}", mode.off_message()));
        };
        let after = json!({"target": target.label(), "outbox": item.dedup_key});
        let queued = store
            .enqueue_logged(
                &item,
                &NewLogEntry {
                    analyst: &analyst,
                    action: "publish",
                    subject: &label,
                    before: None,
                    after: Some(&after.to_string()),
                    note: None,
                },
                Utc::now(),
                delivery,
            )
            .map_err(|e| e.to_string())?;
        Ok(match (queued, delivery) {
            (Some(_), Delivery::Live) => format!("{label} queued for {}", target.label()),
            (Some(_), Delivery::DryRun) => format!(
                "{label} recorded as a dry-run item for {} (the {} workflow is in dry-run: \
                 never sent; O shows it)",
                target.label(),
                workflow_key(workflow)
            ),
            (None, _) => format!("{label} was already queued for {}", target.label()),
        })
    })
    .await
}
