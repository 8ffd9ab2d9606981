//! Applying what the data side sends: snapshots, row upserts, deliveries,
//! status, an opened timeline; and keeping the list views in step.

use super::{App, NoticeLevel, Screen};
use crate::tui::action::{Effect, PaneId, TimelineHandle};
use crate::tui::layout;
use crate::tui::lists::upsert;
use crate::tui::model::{DataEvent, Delivery, ItemRef, OutboxRow};
use crate::tui::popups::Popup;

impl App {
    pub(super) fn on_data(&mut self, event: DataEvent) {
        match event {
            DataEvent::Snapshot(snapshot) => {
                let snapshot = *snapshot;
                self.tables.flagged = snapshot.flagged;
                self.tables.bursts = snapshot.bursts;
                self.tables.tokens = snapshot.tokens;
                self.tables.investigations = snapshot.investigations;
                self.tables.drafts = snapshot
                    .drafts
                    .into_iter()
                    .map(|d| (d.id.clone(), d))
                    .collect();
                self.tables.status = snapshot.status;
                self.set_outbox(snapshot.outbox);
            }
            DataEvent::Flagged(row) => upsert(&mut self.tables.flagged, row),
            DataEvent::Burst(row) => upsert(&mut self.tables.bursts, row),
            DataEvent::Token(row) => upsert(&mut self.tables.tokens, row),
            DataEvent::Investigation(row) => upsert(&mut self.tables.investigations, row),
            DataEvent::Draft(draft) => {
                let draft = *draft;
                if let Screen::Actor(view) = &mut self.screen {
                    if view.draft.is_none() && view.actor == draft.actor {
                        view.draft = Some(draft.id.clone());
                    }
                    if view.draft.as_ref() == Some(&draft.id) {
                        view.set_indicators(Some(&draft));
                    }
                }
                self.tables.drafts.insert(draft.id.clone(), draft);
            }
            DataEvent::Removed(id) => {
                self.tables.flagged.retain(|r| r.meta.id != id);
                self.tables.bursts.retain(|r| r.meta.id != id);
                self.tables.tokens.retain(|r| r.meta.id != id);
            }
            DataEvent::Delivery { item, delivery } => self.on_delivery(item, delivery),
            DataEvent::Status(status) => self.tables.status = status,
            DataEvent::Outbox(rows) => self.set_outbox(rows),
            DataEvent::Check(check) => {
                let checks = &mut self.tables.status.checks;
                match checks.iter_mut().find(|c| c.workflow == check.workflow) {
                    Some(slot) => *slot = check,
                    None => checks.push(check),
                }
            }
            DataEvent::CommandFailed { what, error } => {
                self.notify(NoticeLevel::Error, format!("{what} failed: {error}"));
            }
            DataEvent::CommandDone { what } => {
                self.notify(NoticeLevel::Info, format!("{what}: done"));
            }
        }
        self.refresh_lists();
    }

    /// New outbox rows; an open outbox view keeps its selection (or moves
    /// to the first row when its row is gone) and loads that preview.
    fn set_outbox(&mut self, rows: Vec<OutboxRow>) {
        self.tables.outbox = rows;
        for popup in &mut self.popups {
            if let Popup::Outbox(view) = popup
                && let Some(id) = view.rows_changed(&self.tables.outbox)
            {
                self.effects.push(Effect::LoadOutboxPreview(id));
            }
        }
    }

    fn on_delivery(&mut self, item: ItemRef, delivery: Delivery) {
        let replace = |list: &mut Vec<Delivery>| match list
            .iter_mut()
            .find(|d| d.sink == delivery.sink && d.what == delivery.what)
        {
            Some(slot) => *slot = delivery.clone(),
            None => list.push(delivery.clone()),
        };
        match item {
            ItemRef::Finding(id) => {
                let t = &mut self.tables;
                let metas = t
                    .flagged
                    .iter_mut()
                    .map(|r| &mut r.meta)
                    .chain(t.bursts.iter_mut().map(|r| &mut r.meta))
                    .chain(t.tokens.iter_mut().map(|r| &mut r.meta));
                for meta in metas.filter(|m| m.id == id) {
                    replace(&mut meta.deliveries);
                    meta.updated_at = self.now;
                }
            }
            ItemRef::Draft(id) => {
                if let Some(d) = self.tables.drafts.get_mut(&id) {
                    replace(&mut d.deliveries);
                }
                for row in self.tables.investigations.iter_mut().filter(|r| r.id == id) {
                    replace(&mut row.deliveries);
                    row.updated_at = self.now;
                }
            }
        }
    }

    pub(super) fn on_timeline(&mut self, handle: TimelineHandle) {
        let rect = self.rect();
        let Screen::Actor(view) = &mut self.screen else {
            return;
        };
        let summary = handle.0.summary();
        if summary.actor != view.actor {
            return;
        }
        view.len = handle.0.len();
        view.summary = Some(summary);
        view.source = Some(handle);
        view.error = None;
        let lay = layout::actor(rect);
        let start = view.first_cited().unwrap_or(0);
        view.select(start, lay.timeline_height());
        view.load_detail(lay.detail_width());
    }

    /// Re-filters and re-sorts every list (data, filter or sort changed).
    pub(super) fn refresh_lists(&mut self) {
        let lay = layout::main(self.rect(), self.focus);
        let f = &self.filter;
        let t = &self.tables;
        let h = |p: PaneId| lay.list_height(p);
        let [a, b, c, d] = &mut self.lists;
        a.refresh(&t.flagged, f, h(PaneId::Flagged));
        b.refresh(&t.bursts, f, h(PaneId::Bursts));
        c.refresh(&t.tokens, f, h(PaneId::Tokens));
        d.refresh(&t.investigations, f, h(PaneId::Investigations));
    }

    /// Keeps selections in view and re-wraps the detail after a resize or a
    /// focus change (collapsed panes change every pane's height).
    pub(super) fn relayout(&mut self) {
        let lay = layout::main(self.rect(), self.focus);
        for p in PaneId::ALL {
            self.lists[p.index()].clamp(lay.list_height(p));
        }
        let actor = layout::actor(self.rect());
        if let Screen::Actor(view) = &mut self.screen {
            let selected = view.selected;
            view.select(selected, actor.timeline_height());
            if let Some(d) = &mut view.detail {
                d.rewrap(actor.detail_width());
            }
        }
    }
}
