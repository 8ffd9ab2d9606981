//! `App::update` without a terminal: one or more tests per action, checking
//! the state it leaves and the effects it queues (it never does I/O itself).

mod tui_support;

use std::time::Duration;

use chrono::Duration as ChronoDuration;
use soc_tui::tui::ConsoleData;
use soc_tui::tui::action::{Action, Effect, PaneId, TimelineHandle};
use soc_tui::tui::actor_view::ActorPane;
use soc_tui::tui::app::{App, NoticeLevel, Screen};
use soc_tui::tui::fake::FakeData;
use soc_tui::tui::keys::KeyInput;
use soc_tui::tui::lists::SortKey;
use soc_tui::tui::model::*;
use soc_tui::tui::popups::Popup;
use tui_support::{app, now};

/// Applies `action` and its follow-ups, like the event loop does.
fn run(app: &mut App, action: Action) {
    let mut next = Some(action);
    while let Some(a) = next {
        next = app.update(a);
    }
}

fn key(app: &mut App, spec: &str) {
    run(app, Action::Key(spec.parse().unwrap()));
}

fn loaded() -> App {
    let mut app = app(100, 30);
    let snapshot = FakeData::demo(now()).snapshot().clone();
    run(
        &mut app,
        Action::Data(DataEvent::Snapshot(Box::new(snapshot))),
    );
    app
}

/// The app in mallory's actor view with her timeline delivered.
fn in_actor_view() -> App {
    let mut app = loaded();
    run(&mut app, Action::Open);
    let effects = app.take_effects();
    let Some(Effect::OpenTimeline(actor)) = effects.first() else {
        panic!("Open must ask for the timeline: {effects:?}");
    };
    let source = FakeData::demo(now()).timeline(actor).unwrap();
    run(&mut app, Action::TimelineOpened(TimelineHandle(source)));
    app
}

fn actor_view(app: &App) -> &soc_tui::tui::actor_view::ActorView {
    match app.screen() {
        Screen::Actor(v) => v,
        Screen::Main => panic!("not in the actor view"),
    }
}

fn sent(app: &mut App) -> Vec<Command> {
    app.take_effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::Send(c) => Some(c),
            Effect::OpenTimeline(_) | Effect::LoadOutboxPreview(_) | Effect::RunInForeground(_) => {
                None
            }
        })
        .collect()
}

fn top(app: &App) -> &Popup {
    app.popups().last().expect("a popup")
}

#[test]
fn quit_and_ctrl_c() {
    let mut a = loaded();
    run(&mut a, Action::Quit);
    assert!(a.should_quit());
    let mut b = loaded();
    run(&mut b, Action::StartFilter);
    // Even inside a text field, ctrl-c quits.
    key(&mut b, "ctrl-c");
    assert!(b.should_quit());
    let mut c = loaded();
    key(&mut c, "q");
    assert!(c.should_quit());
}

#[test]
fn toggle_help_opens_and_closes() {
    let mut app = loaded();
    run(&mut app, Action::ToggleHelp);
    assert!(matches!(top(&app), Popup::Help(h) if h.scroll == 0));
    run(&mut app, Action::Down);
    assert!(matches!(top(&app), Popup::Help(h) if h.scroll == 1));
    key(&mut app, "esc");
    assert!(app.popups().is_empty());
}

#[test]
fn movement_in_a_pane() {
    let mut app = loaded();
    assert_eq!(app.list(PaneId::Flagged).selected, 0);
    run(&mut app, Action::Down);
    assert_eq!(app.list(PaneId::Flagged).selected, 1);
    run(&mut app, Action::Down);
    assert_eq!(app.list(PaneId::Flagged).selected, 1, "stops at the end");
    run(&mut app, Action::Up);
    assert_eq!(app.list(PaneId::Flagged).selected, 0);
    run(&mut app, Action::Bottom);
    assert_eq!(app.list(PaneId::Flagged).selected, 1);
    run(&mut app, Action::Top);
    assert_eq!(app.list(PaneId::Flagged).selected, 0);
    run(&mut app, Action::PageDown);
    assert_eq!(app.list(PaneId::Flagged).selected, 1);
    run(&mut app, Action::PageUp);
    assert_eq!(app.list(PaneId::Flagged).selected, 0);
    run(&mut app, Action::ScrollDown);
    assert_eq!(app.list(PaneId::Flagged).selected, 1);
    run(&mut app, Action::ScrollUp);
    assert_eq!(app.list(PaneId::Flagged).selected, 0);
}

#[test]
fn selection_stays_in_view_of_a_long_list() {
    let mut app = app(80, 24);
    let mut snapshot = FakeData::demo(now()).snapshot().clone();
    let template = snapshot.flagged[0].clone();
    snapshot.flagged = (0..500)
        .map(|i| {
            let mut r = template.clone();
            r.meta.id = FindingId::new(format!("f{i}"));
            r.meta.actor = ActorKey::new(format!("actor{i:03}@example.com"));
            r
        })
        .collect();
    run(
        &mut app,
        Action::Data(DataEvent::Snapshot(Box::new(snapshot))),
    );
    run(&mut app, Action::PageDown);
    let list = app.list(PaneId::Flagged);
    // 80x24: the focused pane has 22 - 3 rows, 17 inside its borders.
    assert_eq!(list.selected, 17);
    assert_eq!(list.offset, 1);
    run(&mut app, Action::Bottom);
    let list = app.list(PaneId::Flagged);
    assert_eq!((list.selected, list.offset), (499, 483));
}

#[test]
fn focus_moves_and_marks_the_left_pane_seen() {
    let mut app = loaded();
    assert_eq!(
        app.list(PaneId::Flagged).new_count(&app.tables().flagged),
        1
    );
    run(&mut app, Action::FocusNext);
    assert_eq!(app.focus(), PaneId::Bursts);
    assert_eq!(
        app.list(PaneId::Flagged).new_count(&app.tables().flagged),
        0
    );
    run(&mut app, Action::FocusPrev);
    assert_eq!(app.focus(), PaneId::Flagged);
    run(&mut app, Action::FocusPane(PaneId::Investigations));
    assert_eq!(app.focus(), PaneId::Investigations);
    key(&mut app, "tab");
    assert_eq!(app.focus(), PaneId::Flagged, "wraps around");
}

#[test]
fn mark_seen_clears_new_markers() {
    let mut app = loaded();
    run(&mut app, Action::FocusPane(PaneId::Bursts));
    assert_eq!(app.list(PaneId::Bursts).new_count(&app.tables().bursts), 1);
    run(&mut app, Action::MarkSeen);
    assert_eq!(app.list(PaneId::Bursts).new_count(&app.tables().bursts), 0);
}

#[test]
fn filter_typed_applied_cleared() {
    let mut app = loaded();
    run(&mut app, Action::StartFilter);
    for c in "DAVE".chars() {
        run(&mut app, Action::Key(KeyInput::char(c)));
    }
    assert_eq!(app.filter(), "DAVE");
    assert_eq!(
        app.list(PaneId::Flagged).visible.len(),
        1,
        "case-insensitive"
    );
    assert_eq!(app.list(PaneId::Bursts).visible.len(), 0);
    run(&mut app, Action::Submit);
    assert!(app.popups().is_empty());
    assert_eq!(app.filter(), "DAVE");
    run(&mut app, Action::ClearFilter);
    assert_eq!(app.filter(), "");
    assert_eq!(app.list(PaneId::Flagged).visible.len(), 2);
    // Cancel in the input clears too.
    run(&mut app, Action::StartFilter);
    run(&mut app, Action::Paste("mallory\x1b[2J".into()));
    assert_eq!(app.filter(), "mallory\\x1b[2J", "pasted text is sanitized");
    run(&mut app, Action::Cancel);
    assert_eq!(app.filter(), "");
}

#[test]
fn cycle_sort_reorders_the_focused_pane() {
    let mut app = loaded();
    run(&mut app, Action::FocusPane(PaneId::Tokens));
    assert_eq!(app.list(PaneId::Tokens).sort, SortKey::Severity);
    let worst = app.list(PaneId::Tokens).visible.clone();
    run(&mut app, Action::CycleSort);
    run(&mut app, Action::CycleSort);
    let list = app.list(PaneId::Tokens);
    assert_eq!(list.sort, SortKey::Actor);
    let actors: Vec<String> = list
        .visible
        .iter()
        .map(|&i| app.tables().tokens[i].meta.actor.raw().to_owned())
        .collect();
    let mut sorted = actors.clone();
    sorted.sort();
    assert_eq!(actors, sorted);
    assert_ne!(list.visible, worst);
}

#[test]
fn acknowledge_sends_with_the_analyst() {
    let mut app = loaded();
    run(&mut app, Action::Acknowledge);
    assert_eq!(
        sent(&mut app),
        [Command::Acknowledge {
            finding: FindingId::new("baseline:mallory"),
            analyst: "alice".into()
        }]
    );
    // Nothing to acknowledge in the investigations pane.
    run(&mut app, Action::FocusPane(PaneId::Investigations));
    run(&mut app, Action::Acknowledge);
    assert!(sent(&mut app).is_empty());
    assert_eq!(app.notice().map(|n| n.level), Some(NoticeLevel::Error));
}

#[test]
fn resolve_asks_first_and_the_dialog_carries_the_command() {
    let mut app = loaded();
    run(&mut app, Action::Resolve);
    let Popup::Confirm(c) = top(&app) else {
        panic!("confirm expected");
    };
    assert!(matches!(&*c.on_yes, Action::Send(Command::Resolve { .. })));
    assert!(sent(&mut app).is_empty(), "nothing before yes");
    run(&mut app, Action::ConfirmNo);
    assert!(app.popups().is_empty());
    assert!(sent(&mut app).is_empty());
    run(&mut app, Action::Resolve);
    run(&mut app, Action::ConfirmYes);
    assert!(matches!(
        sent(&mut app).as_slice(),
        [Command::Resolve { analyst, .. }] if analyst == "alice"
    ));
}

#[test]
fn snooze_needs_a_reason_and_takes_the_duration() {
    let mut app = loaded();
    run(&mut app, Action::Snooze);
    assert!(matches!(top(&app), Popup::Snooze(_)));
    run(&mut app, Action::Submit);
    let Popup::Snooze(form) = top(&app) else {
        panic!()
    };
    assert!(form.error.is_some(), "empty reason refused");
    run(&mut app, Action::Longer);
    run(&mut app, Action::Longer);
    run(&mut app, Action::Shorter);
    for c in "change window".chars() {
        run(&mut app, Action::Key(KeyInput::char(c)));
    }
    run(&mut app, Action::Submit);
    assert!(app.popups().is_empty());
    assert_eq!(
        sent(&mut app),
        [Command::Snooze {
            finding: FindingId::new("baseline:mallory"),
            duration: Duration::from_secs(24 * 3600),
            reason: "change window".into(),
            analyst: "alice".into(),
        }]
    );
}

#[test]
fn cancel_closes_the_top_popup_only() {
    let mut app = loaded();
    run(&mut app, Action::Snooze);
    run(&mut app, Action::ToggleHelp);
    assert_eq!(app.popups().len(), 2);
    key(&mut app, "esc");
    assert!(matches!(top(&app), Popup::Snooze(_)));
    run(&mut app, Action::Cancel);
    assert!(app.popups().is_empty());
    assert!(sent(&mut app).is_empty());
}

#[test]
fn investigate_sends_actor_and_finding() {
    let mut app = loaded();
    run(&mut app, Action::FocusPane(PaneId::Bursts));
    run(&mut app, Action::Investigate);
    let cmds = sent(&mut app);
    let [
        Command::StartInvestigation {
            actor,
            finding,
            analyst,
        },
    ] = cmds.as_slice()
    else {
        panic!("{cmds:?}");
    };
    assert_eq!(actor.raw(), "mallory.ops@example.com");
    assert_eq!(finding.as_ref().map(|f| f.raw()), Some("burst:mallory"));
    assert_eq!(analyst, "alice");
}

#[test]
fn the_workflow_switches_cycle_a_mode_and_turning_one_on_asks_first() {
    let mut app = loaded();
    key(&mut app, "w");
    assert!(matches!(top(&app), Popup::Workflows(_)));
    // baseline is in dry-run in the fake: next is on, which asks first.
    key(&mut app, "right");
    assert!(sent(&mut app).is_empty(), "nothing before the confirmation");
    let Popup::Confirm(confirm) = top(&app) else {
        panic!("turning a workflow on must ask: {:?}", top(&app));
    };
    assert_eq!(confirm.title, "Turn baseline on");
    assert!(
        confirm.lines[1].contains("really sent"),
        "{:?}",
        confirm.lines
    );
    run(&mut app, Action::ConfirmYes);
    assert_eq!(
        sent(&mut app),
        [Command::SetWorkflowMode {
            workflow: Workflow::Baseline,
            mode: WorkflowMode::On,
            analyst: "alice".into()
        }]
    );
    // Back on the switches; bursts (on) goes to off at once, and back to
    // dry-run the other way without asking.
    assert!(matches!(top(&app), Popup::Workflows(_)));
    key(&mut app, "j");
    key(&mut app, "l");
    key(&mut app, "j");
    key(&mut app, "h");
    assert_eq!(
        sent(&mut app),
        [
            Command::SetWorkflowMode {
                workflow: Workflow::Burst,
                mode: WorkflowMode::Off,
                analyst: "alice".into()
            },
            Command::SetWorkflowMode {
                workflow: Workflow::Token,
                mode: WorkflowMode::DryRun,
                analyst: "alice".into()
            }
        ]
    );
    // A cancelled confirmation sends nothing.
    key(&mut app, "k");
    key(&mut app, "k");
    key(&mut app, "right");
    run(&mut app, Action::ConfirmNo);
    assert!(sent(&mut app).is_empty());
    key(&mut app, "esc");
    assert!(app.popups().is_empty());
}

#[test]
fn the_switches_open_on_the_focused_panes_workflow() {
    let mut app = loaded();
    run(&mut app, Action::FocusPane(PaneId::Investigations));
    key(&mut app, "w");
    key(&mut app, "l");
    let Popup::Confirm(confirm) = top(&app) else {
        panic!("investigation is in dry-run in the fake: on asks first");
    };
    assert_eq!(confirm.title, "Turn investigation on");
}

#[test]
fn the_switches_show_what_the_engine_reports() {
    let mut app = loaded();
    let mut status = FakeData::demo(now()).snapshot().status.clone();
    status.workflows[2].mode = WorkflowMode::Off;
    run(&mut app, Action::Data(DataEvent::Status(status)));
    assert_eq!(app.tables().status.workflows[2].mode, WorkflowMode::Off);
    key(&mut app, "w");
    key(&mut app, "j");
    key(&mut app, "j");
    key(&mut app, "space");
    assert_eq!(
        sent(&mut app),
        [Command::SetWorkflowMode {
            workflow: Workflow::Token,
            mode: WorkflowMode::DryRun,
            analyst: "alice".into()
        }]
    );
}

#[test]
fn the_outbox_view_loads_the_preview_of_the_selected_row() {
    let mut app = loaded();
    key(&mut app, "O");
    assert!(matches!(top(&app), Popup::Outbox(_)));
    assert_eq!(app.take_effects(), [Effect::LoadOutboxPreview(14)]);
    key(&mut app, "j");
    assert_eq!(app.take_effects(), [Effect::LoadOutboxPreview(13)]);
    // A late answer for the row left behind is not shown.
    run(
        &mut app,
        Action::OutboxPreview {
            id: 14,
            text: SafeText::new("old"),
        },
    );
    run(
        &mut app,
        Action::OutboxPreview {
            id: 13,
            text: SafeText::multiline("a\nb\nc"),
        },
    );
    let Popup::Outbox(view) = top(&app) else {
        unreachable!()
    };
    assert_eq!(view.selected, Some(13));
    assert_eq!(view.preview.as_ref().map(|(id, _)| *id), Some(13));
    run(&mut app, Action::PageDown);
    let Popup::Outbox(view) = top(&app) else {
        unreachable!()
    };
    assert_eq!(
        view.scroll, 2,
        "scrolls the preview, at most to its last line"
    );
    assert!(app.take_effects().is_empty());

    // New rows on top keep the selection; losing the row selects the first.
    let mut rows = FakeData::demo(now()).snapshot().outbox.clone();
    let mut newest = rows[0].clone();
    newest.id = 15;
    rows.insert(0, newest);
    run(&mut app, Action::Data(DataEvent::Outbox(rows.clone())));
    assert!(app.take_effects().is_empty());
    rows.retain(|r| r.id != 13);
    run(&mut app, Action::Data(DataEvent::Outbox(rows)));
    assert_eq!(app.take_effects(), [Effect::LoadOutboxPreview(15)]);
    key(&mut app, "esc");
    assert!(app.popups().is_empty());
}

#[test]
fn open_asks_for_the_timeline_and_starts_at_the_first_cited_event() {
    let mut app = loaded();
    run(&mut app, Action::Open);
    let view = actor_view(&app);
    assert_eq!(view.actor.raw(), "mallory.ops@example.com");
    assert_eq!(view.draft.as_ref().map(|d| d.raw()), Some("inv-12"));
    assert!(view.source.is_none());
    let app = in_actor_view();
    let view = actor_view(&app);
    assert_eq!(view.len, 61);
    assert_eq!(view.selected, 0);
    let detail = view.detail.as_ref().expect("detail loaded");
    assert_eq!(detail.event_id.raw(), "evt-0000");
    assert!(
        detail
            .text
            .as_str()
            .contains("\"email\": \"mallory.ops@example.com\"")
    );
}

#[test]
fn a_timeline_for_another_actor_is_ignored() {
    let mut app = loaded();
    run(&mut app, Action::Open);
    let other = FakeData::demo(now())
        .timeline(&ActorKey::new("someone@else"))
        .unwrap();
    run(&mut app, Action::TimelineOpened(TimelineHandle(other)));
    assert!(actor_view(&app).source.is_none());
}

#[test]
fn timeline_movement_loads_the_detail() {
    let mut app = in_actor_view();
    run(&mut app, Action::Down);
    assert_eq!(actor_view(&app).selected, 1);
    assert_eq!(
        actor_view(&app).detail.as_ref().unwrap().event_id.raw(),
        "evt-0001"
    );
    run(&mut app, Action::Bottom);
    assert_eq!(actor_view(&app).selected, 60);
    assert!(actor_view(&app).offset > 0);
}

#[test]
fn switch_pane_scrolls_the_detail_instead() {
    let mut app = in_actor_view();
    // Stacked at 80x24: the detail pane is shorter than the event.
    run(
        &mut app,
        Action::Resize {
            width: 80,
            height: 24,
        },
    );
    run(&mut app, Action::SwitchActorPane);
    assert_eq!(actor_view(&app).focus, ActorPane::Detail);
    run(&mut app, Action::Down);
    assert_eq!(actor_view(&app).selected, 0, "timeline did not move");
    assert_eq!(actor_view(&app).detail.as_ref().unwrap().scroll, 1);
    run(&mut app, Action::SwitchActorPane);
    assert_eq!(actor_view(&app).focus, ActorPane::Timeline);
}

#[test]
fn next_linked_jumps_and_prev_linked_returns() {
    let mut app = in_actor_view();
    run(&mut app, Action::NextLinked);
    assert_eq!(actor_view(&app).selected, 1, "token created -> token used");
    run(&mut app, Action::NextLinked);
    assert_eq!(actor_view(&app).selected, 0, "and back along the link");
    run(&mut app, Action::PrevLinked);
    assert_eq!(actor_view(&app).selected, 1);
    run(&mut app, Action::PrevLinked);
    assert_eq!(actor_view(&app).selected, 0);
    run(&mut app, Action::Down);
    run(&mut app, Action::Down);
    run(&mut app, Action::NextLinked);
    assert_eq!(actor_view(&app).selected, 2, "no link: stays");
    assert_eq!(app.notice().map(|n| n.level), Some(NoticeLevel::Error));
}

#[test]
fn back_returns_to_the_main_screen() {
    let mut app = in_actor_view();
    run(&mut app, Action::Back);
    assert!(app.is_main());
}

#[test]
fn editor_fields_verdict_diff_and_save() {
    let mut app = in_actor_view();
    run(&mut app, Action::EditDraft);
    let Popup::Editor(e) = top(&app) else {
        panic!()
    };
    assert!(e.on_verdict_field());
    run(&mut app, Action::VerdictNext);
    run(&mut app, Action::VerdictNext);
    run(&mut app, Action::VerdictPrev);
    run(&mut app, Action::NextField);
    run(&mut app, Action::NextField);
    run(&mut app, Action::PrevField);
    // Confidence field: replace 0.91 by 0.5.
    key(&mut app, "ctrl-a");
    key(&mut app, "ctrl-k");
    run(&mut app, Action::Paste("0.5".into()));
    run(&mut app, Action::ToggleDiff);
    let Popup::Editor(e) = top(&app) else {
        panic!()
    };
    assert!(e.show_diff);
    assert_eq!(e.verdict, Verdict::Suspicious);
    run(&mut app, Action::SaveDraft);
    assert!(app.popups().is_empty());
    let edits = app.edits(&DraftId::new("inv-12")).expect("kept");
    assert_eq!(edits.verdict, Verdict::Suspicious);
    assert_eq!(edits.confidence, 0.5);
}

#[test]
fn editor_refuses_a_bad_confidence_and_cancel_discards() {
    let mut app = in_actor_view();
    run(&mut app, Action::EditDraft);
    run(&mut app, Action::NextField);
    key(&mut app, "ctrl-a");
    key(&mut app, "ctrl-k");
    for c in "1.5".chars() {
        run(&mut app, Action::Key(KeyInput::char(c)));
    }
    run(&mut app, Action::SaveDraft);
    let Popup::Editor(e) = top(&app) else {
        panic!("stays open")
    };
    assert!(e.error.as_deref().unwrap().contains("from 0 to 1"));
    run(&mut app, Action::Cancel);
    assert!(app.popups().is_empty());
    assert!(app.edits(&DraftId::new("inv-12")).is_none());
}

#[test]
fn typed_escape_sequences_stay_text_in_the_editor() {
    let mut app = in_actor_view();
    run(&mut app, Action::EditDraft);
    for _ in 0..4 {
        run(&mut app, Action::NextField);
    }
    run(
        &mut app,
        Action::Paste("note\x1b]52;c;QQ==\x07\u{202e}".into()),
    );
    run(&mut app, Action::SaveDraft);
    let edits = app.edits(&DraftId::new("inv-12")).unwrap();
    assert_eq!(
        edits.free_text.as_str(),
        "note\\x1b]52;c;QQ==\\x07\\u{202e}"
    );
}

#[test]
fn approve_confirms_sends_edits_and_opens_publish() {
    let mut app = in_actor_view();
    run(&mut app, Action::EditDraft);
    run(&mut app, Action::VerdictNext);
    run(&mut app, Action::SaveDraft);
    run(&mut app, Action::Approve);
    assert!(matches!(top(&app), Popup::Confirm(_)));
    assert!(sent(&mut app).is_empty());
    run(&mut app, Action::ConfirmYes);
    let cmds = sent(&mut app);
    let [
        Command::Approve {
            draft,
            fields,
            edits,
            analyst,
        },
    ] = cmds.as_slice()
    else {
        panic!("{cmds:?}");
    };
    assert_eq!(draft.raw(), "inv-12");
    assert_eq!(fields.verdict, Verdict::Suspicious);
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].field, "verdict");
    assert_eq!(edits[0].before, "likely malicious");
    assert_eq!(analyst, "alice");
    assert!(matches!(top(&app), Popup::Publish(p) if p.draft.raw() == "inv-12"));
}

#[test]
fn approving_twice_is_refused() {
    let mut app = in_actor_view();
    let mut draft = app.tables().drafts[&DraftId::new("inv-12")].clone();
    draft.status = InvestigationStatus::Approved;
    run(&mut app, Action::Data(DataEvent::Draft(Box::new(draft))));
    run(&mut app, Action::Approve);
    assert!(app.popups().is_empty());
    assert_eq!(app.notice().map(|n| n.level), Some(NoticeLevel::Error));
}

#[test]
fn publish_each_target_is_confirmed_separately() {
    let mut app = in_actor_view();
    run(&mut app, Action::Publish);
    assert!(app.popups().is_empty(), "a draft must be approved first");
    run(&mut app, Action::Approve);
    run(&mut app, Action::ConfirmYes);
    sent(&mut app);
    run(&mut app, Action::Down);
    run(&mut app, Action::Submit);
    run(&mut app, Action::ConfirmYes);
    run(&mut app, Action::Down);
    run(&mut app, Action::Submit);
    run(&mut app, Action::ConfirmNo);
    run(&mut app, Action::Down);
    run(&mut app, Action::Submit);
    run(&mut app, Action::ConfirmYes);
    let targets: Vec<PublishTarget> = sent(&mut app)
        .into_iter()
        .map(|c| match c {
            Command::Publish { target, .. } => target,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        targets,
        [
            PublishTarget::Linear,
            PublishTarget::PagerDuty(PagerDutyAction::Acknowledge)
        ]
    );
    run(&mut app, Action::Cancel);
    assert!(app.popups().is_empty());
    // Once approved, p opens the popup again.
    let mut draft = app.tables().drafts[&DraftId::new("inv-12")].clone();
    draft.status = InvestigationStatus::Approved;
    run(&mut app, Action::Data(DataEvent::Draft(Box::new(draft))));
    run(&mut app, Action::Publish);
    assert!(matches!(top(&app), Popup::Publish(_)));
}

#[test]
fn resize_keeps_selection_visible_and_rewraps_the_detail() {
    let mut app = in_actor_view();
    run(&mut app, Action::Bottom);
    let cols = actor_view(&app).detail.as_ref().unwrap().cols;
    run(
        &mut app,
        Action::Resize {
            width: 80,
            height: 24,
        },
    );
    assert_eq!(app.size(), (80, 24));
    let view = actor_view(&app);
    assert!(view.selected >= view.offset);
    assert_ne!(view.detail.as_ref().unwrap().cols, cols);
    run(
        &mut app,
        Action::Resize {
            width: 0,
            height: 0,
        },
    );
    run(&mut app, Action::Down);
}

#[test]
fn tick_moves_the_clock_and_expires_notices() {
    let mut app = loaded();
    run(&mut app, Action::Acknowledge);
    assert!(app.notice().is_some());
    run(&mut app, Action::Tick(now() + ChronoDuration::minutes(5)));
    assert_eq!(app.now(), now() + ChronoDuration::minutes(5));
    assert!(app.notice().is_none());
}

#[test]
fn send_queues_the_command_and_notes_it() {
    let mut app = loaded();
    let cmd = Command::Resolve {
        finding: FindingId::new("x"),
        analyst: "alice".into(),
    };
    run(&mut app, Action::Send(cmd.clone()));
    assert_eq!(app.take_effects(), [Effect::Send(cmd)]);
    assert!(app.take_effects().is_empty(), "drained");
    assert!(app.notice().unwrap().text.contains("resolve"));
}

#[test]
fn key_unbound_in_main_does_nothing() {
    let mut app = loaded();
    run(&mut app, Action::Key(KeyInput::char('Z')));
    assert!(app.popups().is_empty());
    assert!(app.take_effects().is_empty());
}

#[test]
fn data_events_upsert_remove_and_update_status() {
    let mut app = loaded();
    let mut row = app.tables().flagged[0].clone();
    row.count = 99;
    row.meta.updated_at = now();
    run(&mut app, Action::Data(DataEvent::Flagged(row)));
    assert_eq!(app.tables().flagged.len(), 2);
    assert_eq!(app.tables().flagged[0].count, 99);
    let mut burst = app.tables().bursts[0].clone();
    burst.meta.id = FindingId::new("burst:new");
    run(&mut app, Action::Data(DataEvent::Burst(burst)));
    assert_eq!(app.list(PaneId::Bursts).visible.len(), 3);
    let mut token = app.tables().tokens[0].clone();
    token.meta.id = FindingId::new("token:new");
    run(&mut app, Action::Data(DataEvent::Token(token)));
    assert_eq!(app.tables().tokens.len(), 4);
    let mut inv = app.tables().investigations[0].clone();
    inv.status = InvestigationStatus::Published;
    run(&mut app, Action::Data(DataEvent::Investigation(inv)));
    assert_eq!(
        app.tables().investigations[0].status,
        InvestigationStatus::Published
    );
    run(
        &mut app,
        Action::Data(DataEvent::Removed(FindingId::new("burst:new"))),
    );
    assert_eq!(app.tables().bursts.len(), 2);
    let mut status = app.tables().status.clone();
    status.outbox_dead = 9;
    run(&mut app, Action::Data(DataEvent::Status(status)));
    assert_eq!(app.tables().status.outbox_dead, 9);
    let mut check = app.tables().status.checks[0].clone();
    check.last_error = Some(SafeText::new("HTTP 503"));
    run(&mut app, Action::Data(DataEvent::Check(check)));
    assert!(app.tables().status.checks[0].last_error.is_some());
    run(
        &mut app,
        Action::Data(DataEvent::CommandFailed {
            what: SafeText::new("publish"),
            error: SafeText::new("outbox full"),
        }),
    );
    let notice = app.notice().unwrap();
    assert_eq!(notice.level, NoticeLevel::Error);
    assert_eq!(notice.text, "publish failed: outbox full");
    run(
        &mut app,
        Action::Data(DataEvent::CommandDone {
            what: SafeText::new("acknowledge"),
        }),
    );
    assert_eq!(app.notice().unwrap().text, "acknowledge: done");
}

#[test]
fn delivery_events_update_state_and_link() {
    let mut app = loaded();
    let delivered = Delivery {
        sink: Sink::Linear,
        what: None,
        state: DeliveryState::Delivered,
        link: Some(RemoteLink {
            label: SafeText::new("SEC-7"),
            url: SafeText::new("https://linear.app/x/SEC-7"),
        }),
    };
    run(
        &mut app,
        Action::Data(DataEvent::Delivery {
            item: ItemRef::Draft(DraftId::new("inv-12")),
            delivery: delivered.clone(),
        }),
    );
    let draft = &app.tables().drafts[&DraftId::new("inv-12")];
    assert_eq!(draft.deliveries, std::slice::from_ref(&delivered));
    let row = &app.tables().investigations[0];
    assert_eq!(row.deliveries, std::slice::from_ref(&delivered));
    let dead = Delivery {
        state: DeliveryState::DeadLetter {
            error: SafeText::new("401"),
        },
        ..delivered
    };
    run(
        &mut app,
        Action::Data(DataEvent::Delivery {
            item: ItemRef::Finding(FindingId::new("token:deploy")),
            delivery: dead.clone(),
        }),
    );
    let token = app
        .tables()
        .tokens
        .iter()
        .find(|t| t.meta.id.raw() == "token:deploy")
        .unwrap();
    assert_eq!(token.meta.delivery(Sink::Linear), Some(&dead));
}

#[test]
fn a_draft_arriving_in_the_actor_view_attaches_its_markers() {
    let mut app = in_actor_view();
    let mut draft = app.tables().drafts[&DraftId::new("inv-12")].clone();
    draft.indicators.push(Indicator {
        label: SafeText::new("late"),
        kind: MarkerKind::Burst,
        event_ids: vec![EventId::new("evt-0030")],
    });
    run(&mut app, Action::Data(DataEvent::Draft(Box::new(draft))));
    assert!(actor_view(&app).indicator_marks.contains_key("evt-0030"));
}

#[test]
fn the_verdict_editor_offers_only_verdicts_a_report_can_store() {
    let mut app = in_actor_view();
    run(&mut app, Action::EditDraft);
    let mut seen = Vec::new();
    for _ in 0..2 * Verdict::EDITABLE.len() {
        run(&mut app, Action::VerdictNext);
        let Popup::Editor(e) = top(&app) else {
            panic!()
        };
        seen.push(e.verdict);
    }
    for verdict in [Verdict::Malicious, Verdict::Inconclusive] {
        assert!(!seen.contains(&verdict), "{verdict:?} offered: {seen:?}");
    }
    for verdict in Verdict::EDITABLE {
        assert!(seen.contains(&verdict), "{verdict:?} never offered");
        assert!(soc_tui::console::drafts::verdict_from_console(verdict).is_ok());
    }
}
