//! Actions on the main screen: focus, filter, sort, triage of findings and
//! opening the actor view.

use super::{App, NoticeLevel, Screen};
use crate::tui::action::{Action, Effect, ForegroundTask, PaneId};
use crate::tui::actor_view::ActorView;
use crate::tui::model::{ActorKey, Command, FindingId, FindingMeta, ItemRef, SafeText};
use crate::tui::popups::{ConfirmPopup, FilterInput, Popup, SnoozeForm};

impl App {
    pub(super) fn on_main_action(&mut self, action: Action) -> Option<Action> {
        match action {
            Action::FocusNext => self.set_focus(self.focus.next(false)),
            Action::FocusPrev => self.set_focus(self.focus.next(true)),
            Action::FocusPane(p) => self.set_focus(p),
            Action::Open => self.open_selected(),
            Action::StartFilter => {
                self.popups
                    .push(Popup::Filter(FilterInput::new(&self.filter)));
            }
            Action::ClearFilter => {
                self.filter.clear();
                self.refresh_lists();
            }
            Action::CycleSort => {
                let i = self.focus.index();
                self.lists[i].sort = self.lists[i].sort.next();
                self.refresh_lists();
            }
            Action::MarkSeen => {
                self.lists[self.focus.index()].last_looked = self.now;
            }
            Action::Acknowledge => {
                if let Some(meta) = self.selected_finding() {
                    return Some(Action::Send(Command::Acknowledge {
                        finding: meta.id.clone(),
                        analyst: self.analyst.clone(),
                    }));
                }
                self.no_finding();
            }
            Action::Resolve => {
                if let Some(meta) = self.selected_finding() {
                    let confirm = ConfirmPopup::new(
                        "Resolve finding",
                        vec![format!(
                            "Resolve the {} finding for {}?",
                            meta.severity,
                            meta.actor.shown()
                        )],
                        Action::Send(Command::Resolve {
                            finding: meta.id.clone(),
                            analyst: self.analyst.clone(),
                        }),
                    );
                    self.popups.push(Popup::Confirm(confirm));
                    return None;
                }
                self.no_finding();
            }
            Action::Snooze => {
                if let Some(meta) = self.selected_finding() {
                    let what =
                        SafeText::new(&format!("{} · {}", self.focus.title(), meta.actor.shown()));
                    let form = SnoozeForm::new(meta.id.clone(), what);
                    self.popups.push(Popup::Snooze(form));
                    return None;
                }
                self.no_finding();
            }
            Action::Investigate => {
                let target = self.selected_item_actor();
                if let Some((actor, finding)) = target {
                    return Some(Action::Send(Command::StartInvestigation {
                        actor,
                        finding,
                        analyst: self.analyst.clone(),
                    }));
                }
                self.notify(NoticeLevel::Error, "nothing selected");
            }
            Action::OpenWorkflows => self.open_workflows(),
            Action::OpenOutbox => self.open_outbox(),
            Action::RunSetup => self
                .effects
                .push(Effect::RunInForeground(ForegroundTask::Setup)),
            _ => {}
        }
        None
    }

    fn no_finding(&mut self) {
        let text = if self.focus == PaneId::Investigations {
            "triage acts on findings: select one in panes 1-3"
        } else {
            "no finding selected"
        };
        self.notify(NoticeLevel::Error, text);
    }

    fn set_focus(&mut self, pane: PaneId) {
        if pane != self.focus {
            // Leaving a pane means the analyst has looked at it.
            self.lists[self.focus.index()].last_looked = self.now;
            self.focus = pane;
            self.relayout();
        }
    }

    fn selected_finding(&self) -> Option<&FindingMeta> {
        let list = &self.lists[self.focus.index()];
        match self.focus {
            PaneId::Flagged => list.selected_row(&self.tables.flagged).map(|r| &r.meta),
            PaneId::Bursts => list.selected_row(&self.tables.bursts).map(|r| &r.meta),
            PaneId::Tokens => list.selected_row(&self.tables.tokens).map(|r| &r.meta),
            PaneId::Investigations => None,
        }
    }

    fn selected_item_actor(&self) -> Option<(ActorKey, Option<FindingId>)> {
        if let Some(meta) = self.selected_finding() {
            return Some((meta.actor.clone(), Some(meta.id.clone())));
        }
        let list = &self.lists[PaneId::Investigations.index()];
        (self.focus == PaneId::Investigations)
            .then(|| list.selected_row(&self.tables.investigations))
            .flatten()
            .map(|r| (r.actor.clone(), r.finding.clone()))
    }

    fn open_selected(&mut self) {
        let (actor, origin, draft) = if let Some(meta) = self.selected_finding() {
            let actor = meta.actor.clone();
            let draft = self.tables.draft_for(&actor);
            (actor, ItemRef::Finding(meta.id.clone()), draft)
        } else {
            let list = &self.lists[PaneId::Investigations.index()];
            let Some(row) = (self.focus == PaneId::Investigations)
                .then(|| list.selected_row(&self.tables.investigations))
                .flatten()
            else {
                self.notify(NoticeLevel::Error, "nothing selected");
                return;
            };
            (
                row.actor.clone(),
                ItemRef::Draft(row.id.clone()),
                Some(row.id.clone()),
            )
        };
        let mut view = ActorView::new(actor.clone(), Some(origin), draft.clone());
        view.set_indicators(draft.as_ref().and_then(|d| self.tables.drafts.get(d)));
        self.screen = Screen::Actor(Box::new(view));
        self.effects.push(Effect::OpenTimeline(actor));
    }
}
