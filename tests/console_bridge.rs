//! The console bridge over a real store file, without a terminal: the
//! snapshot it builds from stored findings, drafts and outbox rows (hostile
//! text made inert), the commands' effects on the store and the analyst
//! log, the deltas that follow, and the paged timeline.

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use soc_tui::config::{BaseUrl, Config, Email, WorkflowMode, WorkflowsConfig};
use soc_tui::console::{CommandContext, ConsoleBridge, EngineFeeds};
use soc_tui::detect::{Finding, PagerDutySeverity, Severity, SinkRequest, Workflow};
use soc_tui::engine::HealthSnapshot;
use soc_tui::investigate::{InvestigationRequest, Investigator};
use soc_tui::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};
use soc_tui::store::{Delivery, FindingState, OutboxFilter, Store};
use soc_tui::tui::model::{
    ActorKey, Command, ConsoleSnapshot, DataEvent, DeliveryState, DraftFields, DraftId, FindingId,
    InvestigationStatus, KeychainStatus, PagerDutyAction, PublishTarget, SafeText, ScopeRisk, Sink,
    TriageState, Verdict,
};
use soc_tui::tui::{ConsoleData, DataSink, Incoming};
use soc_tui::workflows::ModePolicy;
use tokio::sync::{broadcast, watch};

const MALLORY: &str = "mallory@example.com";
const HOSTILE: &str = "evil\u{1b}[2J\u{1b}]52;c;cGF5bG9hZA==\u{7}\u{202e}@example.com";

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, h, m, 0).unwrap()
}

fn event(source: Source, id: &str, at: DateTime<Utc>, verb: &str, kind: &str) -> AuditEvent {
    AuditEvent {
        source,
        id: id.into(),
        time: at,
        actor: Actor {
            email: Some(MALLORY.into()),
            ip: Some("185.220.101.7".into()),
            ..Actor::default()
        },
        action: Action {
            verb: verb.into(),
            kind: ActionKind::classify(verb),
            description: None,
        },
        resource: Resource {
            kind: Some(kind.into()),
            name: Some(format!("{kind}-{id}")),
            ..Resource::default()
        },
        outcome: Outcome::Success,
        account: Some("acct".into()),
        raw: json!({"id": id, "verb": verb, "note": "\u{1b}[31mred"}).to_string(),
    }
}

fn finding(workflow: Workflow, key: &str, actor: &str, evidence: Value) -> Finding {
    let requests = match workflow {
        Workflow::Token => vec![SinkRequest::LinearTicket {
            title: "Review token".into(),
            body_markdown: "body".into(),
            priority: 2,
            labels: vec!["soc-tui".into()],
        }],
        Workflow::Burst => vec![SinkRequest::PagerDutyTrigger {
            summary: "burst".into(),
            severity: PagerDutySeverity::Error,
            custom_details: json!({}),
        }],
        _ => Vec::new(),
    };
    Finding {
        workflow,
        dedup_key: key.into(),
        actor: actor.into(),
        severity: Severity::High,
        title: format!("{workflow} by {actor}"),
        window_start: t(11, 0),
        window_end: t(11, 30),
        summary: "s".into(),
        evidence,
        event_ids: vec!["cf-1".into()],
        rules: match workflow {
            Workflow::Token => vec!["token.broad".into(), "token.write".into()],
            _ => vec!["r".into()],
        },
        suppressed: Vec::new(),
        requests,
    }
}

struct World {
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    bridge: ConsoleBridge,
    rx: Receiver<Incoming>,
    /// Events that arrived while a command's answer was awaited.
    pending: VecDeque<DataEvent>,
    store: Arc<Mutex<Store>>,
    draft: DraftId,
    /// The engine's side of the bridge's feeds: dropping them ends the feed.
    _senders: (
        broadcast::Sender<soc_tui::engine::EngineEvent>,
        watch::Sender<HealthSnapshot>,
        watch::Sender<KeychainStatus>,
    ),
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("soc-tui.db");
    let mut store = Store::open(&path).unwrap();
    let mut events = vec![event(
        Source::Cloudflare,
        "cf-1",
        t(11, 2),
        "create",
        "api_token",
    )];
    for (i, minute) in (5..12).enumerate() {
        events.push(event(
            Source::Datadog,
            &format!("dd-{i}"),
            t(11, minute),
            if i % 2 == 0 { "modified" } else { "deleted" },
            if i % 2 == 0 { "role" } else { "monitor" },
        ));
    }
    store.insert_events(&events).unwrap();
    let scope = json!({"scope": "known", "policies": [
        {"effect": "allow", "permission_groups": ["Zone Write", "DNS Write"],
         "resources": {"com.cloudflare.api.account.zone.*": "*"}}]});
    let findings = [
        finding(
            Workflow::Baseline,
            "baseline:mallory:11",
            MALLORY,
            json!({"hour": "2026-11-20T11:00:00Z", "changes": 47, "expected": 3.9,
                   "factor": 12.05, "new_types": ["waf", "role"]}),
        ),
        finding(
            Workflow::Burst,
            "burst:mallory:role_grant",
            MALLORY,
            json!({"action": "role_grant", "count": 4,
                   "window_action_counts": {"monitor_delete": 3, "role_grant": 4}}),
        ),
        finding(
            Workflow::Token,
            "token:cf-1",
            MALLORY,
            json!({"token_name": "deploy-all", "scope": scope}),
        ),
        finding(
            Workflow::Token,
            "token:hostile",
            HOSTILE,
            json!({"token_name": HOSTILE, "scope": {"scope": "unknown"}}),
        ),
    ];
    for f in &findings {
        store.record_finding(f, t(11, 40), Delivery::Live).unwrap();
    }
    let shared = Arc::new(Mutex::new(store));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let mut config = Config::default();
    config.confluence.base_url =
        Some(BaseUrl::try_from("http://127.0.0.1:9/wiki".to_owned()).unwrap());
    config.confluence.space_key = Some("SOC".into());
    config.confluence.email = Some(Email::try_from("soc@example.com".to_owned()).unwrap());
    config.pagerduty.enabled = true;
    // These tests are about sending: every workflow is on unless a test
    // switches one.
    config.workflows = WorkflowsConfig::all(WorkflowMode::On);
    let investigator = Investigator::new(Arc::clone(&shared), config.investigation.clone());
    let id = investigator
        .open(&InvestigationRequest::from_cli(MALLORY, t(11, 30)))
        .unwrap()
        .id();
    runtime.block_on(investigator.run(id)).unwrap();

    let (events_tx, events) = broadcast::channel(16);
    let (health_tx, health) = watch::channel(HealthSnapshot::initial("test", false, t(12, 0)));
    let (keychain_tx, keychain) = watch::channel(KeychainStatus::EnvironmentOnly);
    let commands = CommandContext {
        store: Arc::clone(&shared),
        investigator: Some(investigator),
        modes: ModePolicy::from_config(&config),
        config: Arc::new(config),
        data_dir: dir.path().to_path_buf(),
    };
    let mut bridge = ConsoleBridge::new(
        runtime.handle().clone(),
        &path,
        EngineFeeds {
            events,
            health,
            keychain,
        },
        commands,
    )
    .unwrap();
    let (tx, rx) = mpsc::channel();
    bridge.connect(DataSink::new(tx)).unwrap();
    World {
        _dir: dir,
        runtime,
        bridge,
        rx,
        pending: VecDeque::new(),
        store: shared,
        draft: DraftId::new(format!("INV-{id}")),
        _senders: (events_tx, health_tx, keychain_tx),
    }
}

impl World {
    /// The next data event (the loop's other inputs are not sent here).
    fn next(&mut self) -> DataEvent {
        if let Some(event) = self.pending.pop_front() {
            return event;
        }
        match self.rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Incoming::Data(event)) => *event,
            other => panic!("expected a data event, got {other:?}"),
        }
    }

    /// Events until `done` says stop; fails after 10 s.
    fn until(&mut self, mut done: impl FnMut(&DataEvent) -> bool) -> Vec<DataEvent> {
        let mut seen = Vec::new();
        loop {
            let event = self.next();
            let stop = done(&event);
            seen.push(event);
            if stop {
                return seen;
            }
        }
    }

    /// Runs `command` and returns its answer; the feed's changes that
    /// arrive meanwhile (possibly before the answer) stay queued.
    fn command(&mut self, command: Command) -> DataEvent {
        self.bridge.execute(command).unwrap();
        let mut seen = self.until(|e| {
            matches!(
                e,
                DataEvent::CommandDone { .. } | DataEvent::CommandFailed { .. }
            )
        });
        let answer = seen.pop().unwrap();
        self.pending.extend(seen);
        answer
    }

    fn snapshot(&mut self) -> ConsoleSnapshot {
        match self.next() {
            DataEvent::Snapshot(s) => *s,
            other => panic!("the first event must be the snapshot, got {other:?}"),
        }
    }
}

fn done(event: &DataEvent) -> String {
    match event {
        DataEvent::CommandDone { what } => what.to_string(),
        other => panic!("expected CommandDone, got {other:?}"),
    }
}

fn failed(event: &DataEvent) -> String {
    match event {
        DataEvent::CommandFailed { error, .. } => error.to_string(),
        other => panic!("expected CommandFailed, got {other:?}"),
    }
}

#[test]
fn the_snapshot_maps_every_pane_from_the_store() {
    let mut w = world();
    let s = w.snapshot();

    assert_eq!(s.flagged.len(), 1);
    let f = &s.flagged[0];
    assert_eq!(f.meta.actor, ActorKey::new(MALLORY));
    assert_eq!((f.count, f.baseline, f.factor), (47, 3.9, 12.05));
    assert_eq!(f.hour, t(11, 0));
    let types: Vec<&str> = f.new_resource_types.iter().map(SafeText::as_str).collect();
    assert_eq!(types, ["waf", "role"]);
    assert_eq!(f.meta.state, TriageState::Open);

    assert_eq!(s.bursts.len(), 1);
    let actions: Vec<(&str, u32)> = s.bursts[0]
        .actions
        .iter()
        .map(|(a, n)| (a.as_str(), *n))
        .collect();
    assert_eq!(actions, [("role_grant", 4), ("monitor_delete", 3)]);
    let pd = s.bursts[0].meta.delivery(Sink::PagerDuty).unwrap();
    assert_eq!(
        (pd.what, &pd.state),
        (Some(PagerDutyAction::Trigger), &DeliveryState::Queued)
    );

    let token = s
        .tokens
        .iter()
        .find(|r| r.meta.id == FindingId::new("token:cf-1"))
        .unwrap();
    assert_eq!(token.token_name.as_str(), "deploy-all");
    assert_eq!(token.scope.as_str(), "Zone Write, DNS Write on all zones");
    assert_eq!(token.risk, ScopeRisk::Broad);
    assert_eq!(
        token.meta.delivery(Sink::Linear).unwrap().state,
        DeliveryState::Queued
    );

    // Attacker text reaches the view models inert.
    let hostile = s
        .tokens
        .iter()
        .find(|r| r.meta.id == FindingId::new("token:hostile"))
        .unwrap();
    for text in [
        hostile.token_name.as_str(),
        hostile.meta.actor.shown().as_str(),
    ] {
        assert!(
            !text.contains(['\u{1b}', '\u{7}', '\u{202e}']),
            "raw control text in {text:?}"
        );
    }
    assert_eq!(
        hostile.meta.actor.raw(),
        HOSTILE,
        "the raw key is kept for lookups"
    );
    assert_eq!(hostile.scope.as_str(), "scope unknown");

    assert_eq!(s.investigations.len(), 1);
    let inv = &s.investigations[0];
    assert_eq!(inv.id, w.draft);
    assert_eq!(inv.label.as_str(), w.draft.raw());
    assert_eq!(inv.status, InvestigationStatus::Draft);
    assert_ne!(
        inv.verdict,
        Verdict::Inconclusive,
        "the heuristic judged it"
    );
    let draft = &s.drafts[0];
    assert_eq!(draft.fields, draft.ai_original, "no edits yet");
    assert!(!draft.fields.summary.is_empty());
    assert!(draft.preview.is_none(), "no preview before approval");
    assert_eq!(draft.generated_by.as_str(), "heuristic");
    assert_eq!(s.status.keychain, KeychainStatus::EnvironmentOnly);
    assert_eq!(
        s.status.outbox_queued, 3,
        "two Linear tickets and a PagerDuty trigger"
    );
}

#[test]
fn triage_commands_change_the_store_log_the_analyst_and_send_the_row() {
    let mut w = world();
    w.snapshot();
    let id = FindingId::new("token:cf-1");
    let answer = w.command(Command::Acknowledge {
        finding: id.clone(),
        analyst: "alice".into(),
    });
    assert_eq!(done(&answer), "finding acknowledged");
    let row = w.until(|e| matches!(e, DataEvent::Token(r) if r.meta.id == id));
    let DataEvent::Token(row) = row.last().unwrap() else {
        unreachable!()
    };
    assert!(
        matches!(&row.meta.state, TriageState::Acknowledged { by, .. } if by.as_str() == "alice"),
        "{:?}",
        row.meta.state
    );

    let answer = w.command(Command::Snooze {
        finding: FindingId::new("burst:mallory:role_grant"),
        duration: Duration::from_secs(3600),
        reason: "change window".into(),
        analyst: "bob".into(),
    });
    assert!(
        done(&answer).starts_with("finding snoozed until "),
        "{answer:?}"
    );

    let store = w.store.lock().unwrap();
    let f = store.finding("token:cf-1").unwrap().unwrap();
    assert_eq!(f.state, FindingState::Acknowledged);
    let log = store.analyst_log(Some("token:cf-1"), 10).unwrap();
    assert_eq!(
        (log[0].action.as_str(), log[0].analyst.as_str()),
        ("acknowledge", "alice")
    );
    let burst = store.finding("burst:mallory:role_grant").unwrap().unwrap();
    assert_eq!(burst.state, FindingState::Snoozed);
    assert!(burst.snoozed_until.unwrap() > Utc::now());
    let log = store
        .analyst_log(Some("burst:mallory:role_grant"), 10)
        .unwrap();
    assert_eq!(log[0].note.as_deref(), Some("change window"));
    drop(store);

    let answer = w.command(Command::Resolve {
        finding: FindingId::new("token:nope"),
        analyst: "alice".into(),
    });
    assert!(failed(&answer).contains("finding token:nope does not exist"));
}

#[test]
fn a_workflow_switch_is_stored_logged_and_shown_in_the_status() {
    let mut w = world();
    let s = w.snapshot();
    let modes: Vec<(Workflow, WorkflowMode)> = s
        .status
        .workflows
        .iter()
        .map(|m| (m.workflow, m.mode))
        .collect();
    assert_eq!(
        modes,
        [
            (Workflow::Baseline, WorkflowMode::On),
            (Workflow::Burst, WorkflowMode::On),
            (Workflow::Token, WorkflowMode::On),
            (Workflow::Investigation, WorkflowMode::On),
        ]
    );
    let answer = w.command(Command::SetWorkflowMode {
        workflow: Workflow::Burst,
        mode: WorkflowMode::Off,
        analyst: "alice".into(),
    });
    assert_eq!(done(&answer), "bursts: on -> off");
    let events = w.until(|e| {
        matches!(e, DataEvent::Status(st) if st.workflows.iter()
            .any(|m| m.workflow == Workflow::Burst && m.mode == WorkflowMode::Off))
    });
    let DataEvent::Status(status) = events.last().unwrap() else {
        unreachable!()
    };
    let burst = status
        .workflows
        .iter()
        .find(|m| m.workflow == Workflow::Burst)
        .unwrap();
    assert!(
        burst.origin.as_str().starts_with("set by alice "),
        "{:?}",
        burst.origin
    );

    let store = w.store.lock().unwrap();
    let stored = store
        .workflow_mode_override(Workflow::Burst)
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.mode, stored.changed_by.as_str()),
        (WorkflowMode::Off, "alice")
    );
    let log = store.analyst_log(Some("workflow:bursts"), 10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].analyst.as_str(), log[0].action.as_str()),
        ("alice", "switch_workflow")
    );
    assert_eq!(
        log[0].before.as_deref(),
        Some(r#"{"mode":"on","source":"config"}"#)
    );
    assert_eq!(
        log[0].after.as_deref(),
        Some(r#"{"mode":"off","source":"store"}"#)
    );
}

#[test]
fn a_publish_follows_its_workflow_dry_run_records_off_refuses() {
    let mut w = world();
    let s = w.snapshot();
    let draft = w.draft.clone();
    let answer = w.command(Command::Approve {
        draft: draft.clone(),
        fields: s.drafts[0].fields.clone(),
        edits: Vec::new(),
        analyst: "alice".into(),
    });
    done(&answer);

    // The report's page follows `investigation`: off refuses, saying why.
    let off = w.command(Command::SetWorkflowMode {
        workflow: Workflow::Investigation,
        mode: WorkflowMode::Off,
        analyst: "alice".into(),
    });
    done(&off);
    let answer = w.command(Command::Publish {
        draft: draft.clone(),
        target: PublishTarget::Confluence,
        analyst: "alice".into(),
    });
    let why = failed(&answer);
    assert!(why.contains("the investigation workflow is off"), "{why}");
    assert!(
        w.store
            .lock()
            .unwrap()
            .outbox_item_by_key(&format!("confluence:{}:page", draft.raw()))
            .unwrap()
            .is_none()
    );

    // In dry-run the page is recorded, visible, never for sending.
    done(&w.command(Command::SetWorkflowMode {
        workflow: Workflow::Investigation,
        mode: WorkflowMode::DryRun,
        analyst: "alice".into(),
    }));
    let answer = w.command(Command::Publish {
        draft: draft.clone(),
        target: PublishTarget::Confluence,
        analyst: "alice".into(),
    });
    assert!(
        done(&answer).contains("recorded as a dry-run item for Confluence page"),
        "{answer:?}"
    );
    let row = w
        .store
        .lock()
        .unwrap()
        .outbox_item_by_key(&format!("confluence:{}:page", draft.raw()))
        .unwrap()
        .unwrap();
    assert_eq!(row.state, soc_tui::store::OutboxState::DryRun);
    let events =
        w.until(|e| matches!(e, DataEvent::Outbox(rows) if rows.iter().any(|r| r.id == row.id)));
    let DataEvent::Outbox(rows) = events.last().unwrap() else {
        unreachable!()
    };
    let listed = rows.iter().find(|r| r.id == row.id).unwrap();
    assert_eq!(listed.state, DeliveryState::DryRun);

    // Its preview is the page exactly as it would be sent.
    let preview = w.bridge.outbox_preview(row.id).unwrap();
    let text = preview.as_str();
    assert!(
        text.contains("dry run: recorded by a workflow in dry-run, never sent"),
        "{text}"
    );
    assert!(text.contains("Body (storage XHTML):"), "{text}");
    assert!(
        text.contains("POST http://127.0.0.1:9/wiki/api/v2/pages"),
        "{text}"
    );
    assert!(text.contains("Authorization: Basic [redacted]"), "{text}");
    assert!(w.bridge.outbox_preview(999_999).is_err());

    // Switching on makes the next publish of the same request live.
    done(&w.command(Command::SetWorkflowMode {
        workflow: Workflow::Investigation,
        mode: WorkflowMode::On,
        analyst: "alice".into(),
    }));
    let answer = w.command(Command::Publish {
        draft: draft.clone(),
        target: PublishTarget::Confluence,
        analyst: "alice".into(),
    });
    assert_eq!(
        done(&answer),
        format!("{} queued for Confluence page", draft.raw())
    );
    let row = w
        .store
        .lock()
        .unwrap()
        .outbox_item(row.id)
        .unwrap()
        .unwrap();
    assert_eq!(row.state, soc_tui::store::OutboxState::Queued);
}

#[test]
fn an_escalation_of_a_finding_started_report_follows_the_findings_workflow() {
    let mut w = world();
    w.snapshot();
    let investigator = {
        let store = Arc::clone(&w.store);
        Investigator::new(store, soc_tui::config::InvestigationConfig::default())
    };
    let finding = w
        .store
        .lock()
        .unwrap()
        .finding("burst:mallory:role_grant")
        .unwrap()
        .unwrap();
    let finding = soc_tui::console::auto_investigate::finding_of(finding);
    let id = investigator
        .open(&InvestigationRequest::from_finding(&finding))
        .unwrap()
        .id();
    w.runtime.block_on(investigator.run(id)).unwrap();
    let draft = DraftId::new(format!("INV-{id}"));
    let events = w.until(|e| {
        matches!(e, DataEvent::Draft(d) if d.id == draft && d.status == InvestigationStatus::Draft)
    });
    let DataEvent::Draft(view) = events.last().unwrap() else {
        unreachable!()
    };
    let fields = view.fields.clone();
    done(&w.command(Command::Approve {
        draft: draft.clone(),
        fields,
        edits: Vec::new(),
        analyst: "alice".into(),
    }));
    // bursts off, investigation on: the PagerDuty trigger of this report
    // escalates the burst, so it is refused; its page is the investigation's.
    done(&w.command(Command::SetWorkflowMode {
        workflow: Workflow::Burst,
        mode: WorkflowMode::Off,
        analyst: "alice".into(),
    }));
    let answer = w.command(Command::Publish {
        draft: draft.clone(),
        target: PublishTarget::PagerDuty(PagerDutyAction::Trigger),
        analyst: "alice".into(),
    });
    assert!(
        failed(&answer).contains("the bursts workflow is off"),
        "{answer:?}"
    );
    let answer = w.command(Command::Publish {
        draft: draft.clone(),
        target: PublishTarget::Confluence,
        analyst: "alice".into(),
    });
    assert_eq!(
        done(&answer),
        format!("{} queued for Confluence page", draft.raw())
    );
}

#[test]
fn approving_with_edits_then_publishing_queues_the_page_once() {
    let mut w = world();
    let s = w.snapshot();
    let original = s.drafts[0].fields.clone();
    let draft = w.draft.clone();

    let answer = w.command(Command::Publish {
        draft: draft.clone(),
        target: PublishTarget::Confluence,
        analyst: "alice".into(),
    });
    assert!(failed(&answer).contains("approve it before publishing"));

    let answer = w.command(Command::Approve {
        draft: draft.clone(),
        fields: DraftFields {
            verdict: Verdict::Malicious,
            ..original.clone()
        },
        edits: Vec::new(),
        analyst: "alice".into(),
    });
    assert!(failed(&answer).contains("not malicious"), "{answer:?}");

    let edited = DraftFields {
        verdict: Verdict::Suspicious,
        confidence: 0.55,
        summary: SafeText::multiline("Token minted at night; owner confirms it was them."),
        free_text: SafeText::multiline("Called Mallory at 03:10."),
        ..original.clone()
    };
    let answer = w.command(Command::Approve {
        draft: draft.clone(),
        fields: edited.clone(),
        edits: Vec::new(),
        analyst: "alice".into(),
    });
    assert_eq!(
        done(&answer),
        format!("{} approved with your edits", draft.raw())
    );
    let events =
        w.until(|e| matches!(e, DataEvent::Draft(d) if d.status == InvestigationStatus::Approved));
    let DataEvent::Draft(view) = events.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(view.fields.verdict, Verdict::Suspicious);
    assert_eq!(view.fields.confidence, 0.55);
    assert_eq!(view.fields.summary, edited.summary);
    assert_eq!(view.fields.free_text, edited.free_text);
    let preview = view
        .preview
        .as_ref()
        .expect("an approved draft has a preview");
    assert!(
        preview
            .confluence_title
            .as_str()
            .starts_with("[SOC] 2026-11-20 mallory@example.com - suspicious"),
        "{}",
        preview.confluence_title
    );

    let answer = w.command(Command::Publish {
        draft: draft.clone(),
        target: PublishTarget::Confluence,
        analyst: "alice".into(),
    });
    assert_eq!(
        done(&answer),
        format!("{} queued for Confluence page", draft.raw())
    );
    let events = w.until(|e| {
        matches!(e, DataEvent::Investigation(r) if r.deliveries.iter().any(|d| d.sink == Sink::Confluence))
    });
    let DataEvent::Investigation(row) = events.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(
        row.deliveries[0].state,
        DeliveryState::Queued,
        "queued until the worker delivers it"
    );
    let again = w.command(Command::Publish {
        draft: draft.clone(),
        target: PublishTarget::Confluence,
        analyst: "bob".into(),
    });
    assert_eq!(
        done(&again),
        format!("{} was already queued for Confluence page", draft.raw())
    );
    let answer = w.command(Command::Publish {
        draft: draft.clone(),
        target: PublishTarget::Linear,
        analyst: "alice".into(),
    });
    assert!(failed(&answer).contains("set [linear] team_id"));

    let store = w.store.lock().unwrap();
    let rows = store
        .outbox_list(&OutboxFilter {
            sink: Some(soc_tui::store::Sink::Confluence),
            ..OutboxFilter::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].dedup_key,
        format!("confluence:{}:page", draft.raw())
    );
    assert_eq!(rows[0].payload["kind"], "confluence_page");
    assert!(
        rows[0].payload["storage_body"]
            .as_str()
            .unwrap()
            .contains("<h1>")
    );
    let log = store.analyst_log(Some(draft.raw()), 10).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["edit", "approve", "publish"]);
    let before: Value = serde_json::from_str(log[0].before.as_deref().unwrap()).unwrap();
    let after: Value = serde_json::from_str(log[0].after.as_deref().unwrap()).unwrap();
    assert_eq!(after["verdict"], "suspicious");
    assert_eq!(after["confidence"], 0.55);
    assert_eq!(after["free_text"], "Called Mallory at 03:10.");
    assert_ne!(before["verdict"], after["verdict"]);
    assert_eq!(
        log[2].analyst, "alice",
        "the repeated publish is not logged"
    );
}

#[test]
fn investigations_start_from_a_finding_once() {
    let mut w = world();
    w.snapshot();
    let start = Command::StartInvestigation {
        actor: ActorKey::new(MALLORY),
        finding: Some(FindingId::new("burst:mallory:role_grant")),
        analyst: "alice".into(),
    };
    let answer = w.command(start.clone());
    assert_eq!(done(&answer), "INV-2 started");
    let again = w.command(start);
    assert_eq!(done(&again), "INV-2 already investigates this");
    let events = w.until(|e| {
        matches!(e, DataEvent::Investigation(r) if r.id.raw() == "INV-2" && r.status == InvestigationStatus::Draft)
    });
    let DataEvent::Investigation(row) = events.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(
        row.finding,
        Some(FindingId::new("burst:mallory:role_grant"))
    );
    let log = w
        .store
        .lock()
        .unwrap()
        .analyst_log(Some("INV-2"), 10)
        .unwrap();
    assert_eq!(log[0].action, "investigate");
}

#[test]
fn the_timeline_pages_the_actors_events_with_the_reports_markers() {
    let mut w = world();
    w.snapshot();
    let timeline = w.bridge.timeline(&ActorKey::new(MALLORY)).unwrap();
    assert_eq!(timeline.len(), 8);
    let summary = timeline.summary();
    assert_eq!(summary.sources, [Source::Cloudflare, Source::Datadog]);
    assert_eq!(
        (summary.from, summary.to),
        (Some(t(11, 2)), Some(t(11, 11)))
    );
    let all = timeline.window(0, 100).unwrap();
    assert_eq!(all.len(), 8);
    assert_eq!(all[0].event_id.raw(), "cf:cf-1");
    assert!(
        all[0]
            .markers
            .iter()
            .any(|m| m.kind == soc_tui::tui::model::MarkerKind::Credential),
        "the report marked the token creation: {:?}",
        all[0].markers
    );
    assert_eq!(timeline.window(6, 5).unwrap().len(), 2);
    assert_eq!(timeline.window(3, 2).unwrap(), all[3..5].to_vec());
    for (i, row) in all.iter().enumerate() {
        assert_eq!(timeline.position_of(&row.event_id), Some(i));
    }
    let detail = timeline.detail(&all[2].event_id).unwrap().unwrap();
    assert!(detail.text.as_str().contains("\"verb\""), "{}", detail.text);
    assert!(
        !detail.text.as_str().contains('\u{1b}'),
        "the raw JSON is sanitized"
    );
    assert!(
        timeline
            .position_of(&soc_tui::tui::model::EventId::new("dd:not-there"))
            .is_none()
    );
    drop(w.runtime);
}
