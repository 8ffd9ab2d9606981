//! The review flow in the actor view: linked-event jumps, the verdict
//! editor, approval, publishing, and the popups' own actions.

use super::{App, NoticeLevel, Screen};
use crate::tui::action::{Action, Effect};
use crate::tui::actor_view::ActorPane;
use crate::tui::diff::field_edits;
use crate::tui::editor::VerdictEditor;
use crate::tui::layout;
use crate::tui::model::{Command, DraftId, InvestigationStatus, SafeText};
use crate::tui::popups::{ConfirmPopup, Popup, PublishPopup};

impl App {
    pub(super) fn on_actor_action(&mut self, action: Action) -> Option<Action> {
        let rect = self.rect();
        let Screen::Actor(view) = &mut self.screen else {
            return None;
        };
        let lay = layout::actor(rect);
        match action {
            Action::Back => self.screen = Screen::Main,
            Action::SwitchActorPane => {
                view.focus = match view.focus {
                    ActorPane::Timeline => ActorPane::Detail,
                    ActorPane::Detail => ActorPane::Timeline,
                }
            }
            Action::NextLinked => {
                let row = view.selected_row()?;
                let source = view.source.clone()?;
                let target = row
                    .linked_event_ids
                    .iter()
                    .find_map(|id| source.0.position_of(id));
                match target {
                    Some(pos) => {
                        view.jumps.push(view.selected);
                        view.select(pos, lay.timeline_height());
                        view.load_detail(lay.detail_width());
                    }
                    None => {
                        let text = if row.linked_event_ids.is_empty() {
                            "this event has no linked events"
                        } else {
                            "the linked event is not in this actor's timeline"
                        };
                        self.notify(NoticeLevel::Error, text);
                    }
                }
            }
            Action::PrevLinked => {
                if let Some(pos) = view.jumps.pop() {
                    view.select(pos, lay.timeline_height());
                    view.load_detail(lay.detail_width());
                }
            }
            Action::EditDraft => self.open_editor(),
            Action::Approve => return self.approve(),
            Action::Publish => self.open_publish(),
            _ => {}
        }
        None
    }

    fn current_draft(&self) -> Option<DraftId> {
        match &self.screen {
            Screen::Actor(view) => view.draft.clone(),
            Screen::Main => None,
        }
    }

    fn open_editor(&mut self) {
        let Some(draft) = self
            .current_draft()
            .and_then(|d| self.tables.drafts.get(&d))
        else {
            self.notify(
                NoticeLevel::Error,
                "no draft for this actor yet: start an investigation with i on the main screen",
            );
            return;
        };
        let current = self.edits.get(&draft.id).unwrap_or(&draft.fields);
        let title = SafeText::new(&format!("{} · {}", draft.label, draft.actor.shown()));
        let editor =
            VerdictEditor::new(draft.id.clone(), title, current, draft.ai_original.clone());
        self.popups.push(Popup::Editor(Box::new(editor)));
    }

    fn approve(&mut self) -> Option<Action> {
        let Some(draft) = self
            .current_draft()
            .and_then(|d| self.tables.drafts.get(&d))
        else {
            self.notify(NoticeLevel::Error, "no draft to approve");
            return None;
        };
        if draft.status != InvestigationStatus::Draft {
            self.notify(NoticeLevel::Error, "this report is already approved");
            return None;
        }
        let fields = self
            .edits
            .get(&draft.id)
            .cloned()
            .unwrap_or_else(|| draft.fields.clone());
        let edits = field_edits(&draft.fields, &fields);
        let mut lines = vec![format!(
            "Approve {} for {} as {} ({:.2})?",
            draft.label,
            draft.actor.shown(),
            fields.verdict.label(),
            fields.confidence
        )];
        if edits.is_empty() {
            lines.push("No edits: the AI draft as written.".into());
        } else {
            let names: Vec<&str> = edits.iter().map(|e| e.field).collect();
            lines.push(format!("Your edits: {}.", names.join(", ")));
        }
        lines.push("Then choose where to publish.".into());
        let confirm = ConfirmPopup::new(
            "Approve draft",
            lines,
            Action::Send(Command::Approve {
                draft: draft.id.clone(),
                fields,
                edits,
                analyst: self.analyst.clone(),
            }),
        );
        self.popups.push(Popup::Confirm(confirm));
        None
    }

    fn open_publish(&mut self) {
        let Some(draft) = self
            .current_draft()
            .and_then(|d| self.tables.drafts.get(&d))
        else {
            self.notify(NoticeLevel::Error, "no report to publish");
            return;
        };
        if draft.status == InvestigationStatus::Draft {
            self.notify(NoticeLevel::Error, "approve the draft first (a)");
            return;
        }
        self.popups
            .push(Popup::Publish(PublishPopup::new(draft.id.clone())));
    }

    pub(super) fn on_popup_action(&mut self, action: Action) -> Option<Action> {
        let analyst = self.analyst.clone();
        match (self.popups.last_mut(), action) {
            (Some(Popup::Filter(_)), Action::Submit) => {
                self.popups.pop();
            }
            (Some(Popup::Filter(_)), Action::Cancel) => {
                self.popups.pop();
                self.filter.clear();
                self.refresh_lists();
            }
            (Some(Popup::Snooze(form)), Action::Longer) => form.change(true),
            (Some(Popup::Snooze(form)), Action::Shorter) => form.change(false),
            (Some(Popup::Snooze(form)), Action::Submit) => {
                let reason = form.reason();
                if reason.is_empty() {
                    form.error = Some("a reason is required: it goes into the analyst log");
                    return None;
                }
                let command = Command::Snooze {
                    finding: form.finding.clone(),
                    duration: form.duration(),
                    reason,
                    analyst,
                };
                self.popups.pop();
                return Some(Action::Send(command));
            }
            (Some(Popup::Publish(p)), Action::Submit) => {
                let target = p.target();
                let draft = p.draft.clone();
                let label = self
                    .tables
                    .drafts
                    .get(&draft)
                    .map(|d| d.label.to_string())
                    .unwrap_or_default();
                let confirm = ConfirmPopup::new(
                    format!("Publish to {}", target.label()),
                    vec![
                        format!("Send {label} to {}?", target.label()),
                        "It is queued in the outbox and delivered once, even across restarts."
                            .into(),
                    ],
                    Action::Send(Command::Publish {
                        draft,
                        target,
                        analyst,
                    }),
                );
                self.popups.push(Popup::Confirm(confirm));
            }
            (Some(Popup::Editor(e)), Action::NextField) => e.next_field(false),
            (Some(Popup::Editor(e)), Action::PrevField) => e.next_field(true),
            (Some(Popup::Editor(e)), Action::ToggleDiff) => e.show_diff = !e.show_diff,
            (Some(Popup::Editor(e)), Action::VerdictNext) => e.verdict = e.verdict.cycle(false),
            (Some(Popup::Editor(e)), Action::VerdictPrev) => e.verdict = e.verdict.cycle(true),
            (Some(Popup::Editor(e)), Action::SaveDraft) => match e.fields() {
                Ok(fields) => {
                    let draft = e.draft.clone();
                    self.popups.pop();
                    self.edits.insert(draft, fields);
                    self.notify(NoticeLevel::Info, "edits kept: approve with a");
                }
                Err(why) => e.error = Some(why),
            },
            (Some(Popup::Workflows(_)), Action::ModeNext) => return self.cycle_mode(false),
            (Some(Popup::Workflows(_)), Action::ModePrev) => return self.cycle_mode(true),
            (Some(Popup::Confirm(_)), Action::Cancel) => {
                self.popups.pop();
            }
            (Some(_), Action::Cancel) => {
                self.popups.pop();
            }
            _ => {}
        }
        None
    }

    /// Queues `command` for the engine and says so.
    pub(super) fn send(&mut self, command: Command) -> Option<Action> {
        self.notify(NoticeLevel::Info, format!("{}: queued", command.describe()));
        if let Command::Approve { draft, .. } = &command {
            // Approving leads straight to publishing.
            self.edits.remove(draft);
            self.popups
                .push(Popup::Publish(PublishPopup::new(draft.clone())));
        }
        self.effects.push(Effect::Send(command));
        None
    }
}
