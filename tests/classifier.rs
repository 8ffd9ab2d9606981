//! The heuristic classifier on scenario histories, through the whole
//! pipeline: events in the store, a draft, the investigation, the stored report.

mod scenarios;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use soc_tui::config::InvestigationConfig;
use soc_tui::investigate::{InvestigationRequest, Investigator, NextStep, Report, Verdict};
use soc_tui::model::AuditEvent;
use soc_tui::store::{DraftStatus, Store};

async fn investigate(
    actor: &str,
    at: DateTime<Utc>,
    events: Vec<AuditEvent>,
) -> (Report, Arc<Mutex<Store>>) {
    let mut store = Store::open_in_memory().unwrap();
    store.insert_events(&events).unwrap();
    let store = Arc::new(Mutex::new(store));
    let investigator = Investigator::new(Arc::clone(&store), InvestigationConfig::default());
    let id = investigator
        .open(&InvestigationRequest::from_cli(actor, at))
        .unwrap()
        .id();
    let report = investigator.run(id).await.unwrap();
    (report, store)
}

fn factor_names(report: &Report) -> Vec<String> {
    report
        .heuristic
        .factors
        .iter()
        .map(|f| f.name.clone())
        .collect()
}

#[tokio::test]
async fn a_compromised_admin_is_likely_malicious_with_high_confidence() {
    let (actor, at, events) = scenarios::compromised_admin();
    let (report, store) = investigate(&actor, at, events).await;
    let a = &report.assessment;
    assert_eq!(
        a.verdict,
        Verdict::LikelyMalicious,
        "{:#?}",
        report.heuristic.factors
    );
    assert!(a.confidence >= 0.85, "confidence {}", a.confidence);
    let names = factor_names(&report).join("\n");
    for expected in [
        "Credential with broad scope",
        "First-seen IP address",
        "Activity outside the actor's usual hours",
        "Privilege changes (3)",
        "Destructive actions (4)",
        "Sequence: credential \"deploy-all\"",
        "Sequence: 3 privilege change(s), then 4 destructive action(s)",
    ] {
        assert!(names.contains(expected), "missing {expected:?} in\n{names}");
    }
    // Every indicator cites events that are in the timeline.
    let refs: Vec<&str> = report
        .timeline
        .iter()
        .map(|r| r.event_ref.as_str())
        .collect();
    for indicator in &a.indicators {
        assert!(!indicator.event_refs.is_empty(), "{indicator:?}");
        for r in &indicator.event_refs {
            assert!(refs.contains(&r.as_str()), "{r} not in the timeline");
        }
    }
    assert!(
        a.next_steps.contains(&NextStep::RevokeToken {
            token: "deploy-all".into(),
            event_ref: "cf:cf-token-create".into()
        }),
        "{:?}",
        a.next_steps
    );
    assert!(
        a.next_steps
            .iter()
            .any(|s| matches!(s, NextStep::RemoveRole { role, .. } if role.contains("bob")))
    );
    let row = store.lock().unwrap().draft(report.id).unwrap().unwrap();
    assert_eq!(row.status, DraftStatus::Draft);
    assert_eq!(row.verdict.as_deref(), Some("likely_malicious"));
}

#[tokio::test]
async fn a_clumsy_but_legitimate_change_is_a_misconfiguration() {
    let (actor, at, events) = scenarios::clumsy_change();
    let (report, _) = investigate(&actor, at, events).await;
    let a = &report.assessment;
    assert_eq!(
        a.verdict,
        Verdict::Misconfiguration,
        "{:#?}",
        report.heuristic.factors
    );
    assert!(a.confidence >= 0.6, "confidence {}", a.confidence);
    let names = factor_names(&report).join("\n");
    assert!(
        names.contains("Every deleted resource was created again"),
        "{names}"
    );
    assert!(
        names.contains("Only IP addresses seen before the window"),
        "{names}"
    );
    assert!(names.contains("Only the actor's usual hours"), "{names}");
    assert!(
        matches!(a.next_steps[0], NextStep::ContactActor { .. }),
        "{:?}",
        a.next_steps
    );
    assert!(
        report
            .sequences
            .iter()
            .any(|s| s.event_refs == ["dd:dd-frank-del", "dd:dd-frank-create"])
    );
}

#[tokio::test]
async fn a_routine_nightly_job_is_benign() {
    let (actor, at, events) = scenarios::nightly_job();
    let (report, _) = investigate(&actor, at, events).await;
    let a = &report.assessment;
    assert_eq!(
        a.verdict,
        Verdict::Benign,
        "{:#?}",
        report.heuristic.factors
    );
    assert!(a.confidence >= 0.8, "confidence {}", a.confidence);
    assert!(a.indicators.is_empty(), "{:?}", a.indicators);
    assert_eq!(a.next_steps, [NextStep::NoAction]);
    // 02:00 is off hours in general, but not for this actor.
    assert!(report.timeline.iter().all(|r| r.markers.is_empty()));
}

#[tokio::test]
async fn the_same_night_without_history_is_less_certain() {
    // The compromised-admin events alone: no history, so nothing is "first
    // seen" and the hours are judged against fixed working hours.
    let (actor, at, events) = scenarios::compromised_admin();
    let window_only: Vec<AuditEvent> = events
        .into_iter()
        .filter(|e| !e.id.starts_with("hist-"))
        .collect();
    let (report, _) = investigate(&actor, at, window_only).await;
    assert!(report.assessment.verdict >= Verdict::Suspicious);
    let names = factor_names(&report).join("\n");
    assert!(!names.contains("First-seen IP"), "{names}");
    assert!(names.contains("usual hours unknown"), "{names}");
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("No activity of this actor before the window"))
    );
}

#[tokio::test]
async fn a_finding_starts_one_investigation_when_configured() {
    use soc_tui::detect::{Finding, Severity, Workflow};
    let (actor, at, events) = scenarios::compromised_admin();
    let mut store = Store::open_in_memory().unwrap();
    store.insert_events(&events).unwrap();
    let store = Arc::new(Mutex::new(store));
    let finding = Finding {
        workflow: Workflow::Token,
        dedup_key: "token:cf-token-create".into(),
        actor: actor.clone(),
        severity: Severity::High,
        title: "Broad API token created".into(),
        window_start: at,
        window_end: at,
        summary: String::new(),
        evidence: serde_json::json!({}),
        event_ids: vec!["cf-token-create".into()],
        rules: vec!["token.broad".into()],
        suppressed: vec![],
        requests: vec![],
    };
    let off = Investigator::new(Arc::clone(&store), InvestigationConfig::default());
    assert_eq!(
        off.on_finding(&finding).await.unwrap(),
        None,
        "off by default"
    );
    let config = InvestigationConfig {
        auto_investigate_findings: true,
        ..InvestigationConfig::default()
    };
    let on = Investigator::new(Arc::clone(&store), config);
    let id = on
        .on_finding(&finding)
        .await
        .unwrap()
        .expect("investigated");
    assert_eq!(
        on.on_finding(&finding).await.unwrap(),
        None,
        "once per finding"
    );
    let row = store.lock().unwrap().draft(id).unwrap().unwrap();
    let report: Report = serde_json::from_str(row.report_json.as_deref().unwrap()).unwrap();
    assert_eq!(report.source_findings[0].dedup_key, "token:cf-token-create");
    assert_eq!(report.trigger.kind, "finding");
    assert_eq!(report.assessment.verdict, Verdict::LikelyMalicious);
}

#[tokio::test]
async fn a_members_role_change_is_undone_not_read_as_a_role_name() {
    let (actor, at, mut events) = scenarios::compromised_admin();
    // Cloudflare names the member, not the role, on a member's role change.
    events.push(
        scenarios::ev(
            soc_tui::model::Source::Cloudflare,
            "cf-member-update",
            at + chrono::Duration::minutes(5),
            &actor,
        )
        .action("update", soc_tui::model::ActionKind::Update)
        .resource("account.member", "mallory.sidekick@evil.example")
        .done(),
    );
    let (report, _) = investigate(&actor, at, events).await;
    let steps = &report.assessment.next_steps;
    assert!(
        steps.contains(&NextStep::RevertPrivilegeChange {
            target: "account.member \"mallory.sidekick@evil.example\"".into(),
            event_ref: "cf:cf-member-update".into(),
        }),
        "{steps:?}"
    );
    assert!(
        !steps
            .iter()
            .any(|s| matches!(s, NextStep::RemoveRole { role, .. } if role.contains("sidekick"))),
        "a member is not a role: {steps:?}"
    );
    // Roles themselves are still removed by name.
    assert!(
        steps
            .iter()
            .any(|s| matches!(s, NextStep::RemoveRole { role, .. } if role.contains("bob")))
    );
}

#[tokio::test]
async fn routine_admin_work_in_an_ordinary_setting_is_benign() {
    let (actor, at, events) = scenarios::routine_admin();
    let (report, _) = investigate(&actor, at, events).await;
    let a = &report.assessment;
    assert_eq!(
        a.verdict,
        Verdict::Benign,
        "{:#?}",
        report.heuristic.factors
    );
    let names = factor_names(&report).join("\n");
    assert!(names.contains("Routine for this actor"), "{names}");
    assert!(
        report
            .timeline
            .iter()
            .filter(|r| r.event_ref.starts_with("dd:dd-"))
            .all(|r| r
                .markers
                .contains(&soc_tui::investigate::markers::MarkerKind::RoutineChange)),
        "every grant and deletion of the burst is marked routine"
    );
}

#[tokio::test]
async fn the_same_routine_from_a_new_ip_at_night_is_not_let_off() {
    let (actor, _, mut events) = scenarios::routine_admin();
    let at = scenarios::night();
    // Move the burst to 03:00 and to an address never seen before.
    for event in events.iter_mut().filter(|e| e.id.starts_with("dd-")) {
        event.time = at + (event.time - scenarios::afternoon());
        event.actor.ip = Some(scenarios::NEW_IP.into());
    }
    let (report, _) = investigate(&actor, at, events).await;
    let names = factor_names(&report).join("\n");
    assert!(!names.contains("Routine for this actor"), "{names}");
    assert_ne!(
        report.assessment.verdict,
        Verdict::Benign,
        "{:#?}",
        report.heuristic.factors
    );
}
