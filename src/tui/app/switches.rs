//! The workflow switches and the outbox view: opening them, cycling a
//! workflow's mode (turning one on asks first), moving through the outbox
//! and asking for the selected row's preview.

use super::{App, NoticeLevel};
use crate::tui::action::{Action, Effect};
use crate::tui::model::{Command, SafeText, WorkflowMode, workflow_key};
use crate::tui::popups::{ConfirmPopup, OutboxPopup, Popup, WorkflowsPopup};

impl App {
    /// Opens the switches on the focused pane's workflow (the panes are in
    /// the same order as the workflows).
    pub(super) fn open_workflows(&mut self) {
        self.popups.push(Popup::Workflows(WorkflowsPopup {
            selected: self.focus.index(),
        }));
    }

    pub(super) fn open_outbox(&mut self) {
        let (view, load) = OutboxPopup::open(&self.tables.outbox);
        self.popups.push(Popup::Outbox(view));
        if let Some(id) = load {
            self.effects.push(Effect::LoadOutboxPreview(id));
        }
    }

    /// The selected workflow's next (or previous) mode: sent at once, or,
    /// for `on`, after a confirmation that says what that means.
    pub(super) fn cycle_mode(&mut self, back: bool) -> Option<Action> {
        let Some(Popup::Workflows(popup)) = self.popups.last() else {
            return None;
        };
        let Some(current) = popup.current(&self.tables.status.workflows) else {
            self.notify(
                NoticeLevel::Error,
                "the engine has not reported the workflow modes yet",
            );
            return None;
        };
        let workflow = current.workflow;
        let mode = current.mode.cycle(back);
        let command = Command::SetWorkflowMode {
            workflow,
            mode,
            analyst: self.analyst.clone(),
        };
        if mode != WorkflowMode::On {
            return Some(Action::Send(command));
        }
        let key = workflow_key(workflow);
        let confirm = ConfirmPopup::new(
            format!("Turn {key} on"),
            vec![
                format!("Switch {key} from {} to on?", current.mode),
                "From its next run its requests are queued and really sent (tickets, incidents, \
                 archive objects, pages)."
                    .into(),
                format!(
                    "Every process on this store follows it; recorded in the analyst log as {}.",
                    SafeText::with_limit(&self.analyst, 60)
                ),
            ],
            Action::Send(command),
        );
        self.popups.push(Popup::Confirm(confirm));
        None
    }

    /// Moves the outbox selection (`Up`/`Down`) or scrolls its preview
    /// (`PageUp`/`PageDown`).
    pub(super) fn outbox_move(&mut self, delta: isize, preview: bool) {
        let Some(Popup::Outbox(view)) = self.popups.last_mut() else {
            return;
        };
        if preview {
            view.scroll_by(delta);
            return;
        }
        if let Some(id) = view.move_by(delta, &self.tables.outbox) {
            self.effects.push(Effect::LoadOutboxPreview(id));
        }
    }

    pub(super) fn on_outbox_preview(&mut self, id: i64, text: SafeText) {
        for popup in &mut self.popups {
            if let Popup::Outbox(view) = popup {
                view.set_preview(id, text.clone());
            }
        }
    }
}
