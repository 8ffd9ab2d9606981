//! The status bar's view of the engine: each check's last and next run,
//! who holds the lease, the outbox backlog and where credentials come from.

use crate::engine::HealthSnapshot;
use crate::secrets::{AuthStatus, CredentialState};
use crate::store::{CheckKind, OutboxCounts};
use crate::tui::model::{
    CheckStatus, KeychainStatus, LeaseStatus, SafeText, StatusSnapshot, Workflow, WorkflowStatus,
};
use crate::workflows::EffectiveMode;

pub fn workflow_of(check: CheckKind) -> Workflow {
    crate::workflows::of_check(check)
}

/// `outbox` and `modes` are read by the console itself: fresher than the
/// engine's, which only move when a check runs.
pub fn status(
    health: &HealthSnapshot,
    outbox: OutboxCounts,
    keychain: &KeychainStatus,
    modes: &[EffectiveMode],
) -> StatusSnapshot {
    let checks = CheckKind::ALL
        .iter()
        .map(|&check| {
            let h = health.check(check);
            CheckStatus {
                workflow: workflow_of(check),
                last_run: h.and_then(|h| h.last_run_start),
                next_run: h.and_then(|h| h.next_run),
                last_error: h
                    .and_then(|h| h.last_error.as_deref())
                    .map(|e| SafeText::with_limit(e, 300)),
            }
        })
        .collect();
    let holder = health
        .lease
        .as_ref()
        .map(|l| l.holder.as_str())
        .filter(|h| !h.is_empty())
        .map(|h| SafeText::with_limit(h, 120));
    let workflows = modes
        .iter()
        .map(|m| WorkflowStatus {
            workflow: m.workflow,
            mode: m.mode,
            origin: SafeText::with_limit(&m.origin(), 200),
        })
        .collect();
    StatusSnapshot {
        checks,
        workflows,
        rate_limits: Vec::new(),
        outbox_queued: saturate(outbox.queued.saturating_add(outbox.in_flight)),
        outbox_dead: saturate(outbox.dead),
        lease: LeaseStatus {
            holder,
            ours: health.lease_held,
        },
        keychain: keychain.clone(),
    }
}

/// Available; environment only (no keychain, but credentials from the
/// environment); or unavailable with the reason.
pub fn keychain_status(auth: &AuthStatus) -> KeychainStatus {
    match &auth.keychain.unavailable_reason {
        None => KeychainStatus::Available,
        Some(_)
            if auth
                .credentials
                .iter()
                .any(|c| c.state == CredentialState::Env) =>
        {
            KeychainStatus::EnvironmentOnly
        }
        Some(reason) => KeychainStatus::Unavailable(SafeText::with_limit(reason, 200)),
    }
}

fn saturate(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
