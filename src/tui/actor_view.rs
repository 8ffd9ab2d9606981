//! View state of the actor drill-down: the timeline window position, the
//! selected event, its detail text (wrapped once per width and cached) and
//! the trail of linked-event jumps.

use std::collections::HashMap;

use super::action::TimelineHandle;
use super::format::wrap_ranges;
use super::model::{
    ActorKey, DraftId, DraftView, EventDetail, EventId, ItemRef, MarkerKind, SafeText, TimelineRow,
    TimelineSummary,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorPane {
    Timeline,
    Detail,
}

/// The selected event's raw JSON with its wrap cache.
#[derive(Debug, Clone)]
pub struct DetailView {
    pub event_id: EventId,
    pub text: SafeText,
    /// Byte ranges of `text`, one per screen line, for `cols` columns.
    pub lines: Vec<(usize, usize)>,
    pub cols: usize,
    pub scroll: usize,
}

impl DetailView {
    pub fn new(detail: EventDetail, cols: usize) -> DetailView {
        let lines = wrap_ranges(detail.text.as_str(), cols);
        DetailView {
            event_id: detail.event_id,
            text: detail.text,
            lines,
            cols,
            scroll: 0,
        }
    }

    /// Re-wraps only when the width changed.
    pub fn rewrap(&mut self, cols: usize) {
        if cols != self.cols {
            self.lines = wrap_ranges(self.text.as_str(), cols);
            self.cols = cols;
            self.scroll = self.scroll.min(self.lines.len().saturating_sub(1));
        }
    }

    pub fn line(&self, i: usize) -> Option<&str> {
        self.lines
            .get(i)
            .and_then(|&(a, b)| self.text.as_str().get(a..b))
    }
}

#[derive(Debug, Clone)]
pub struct ActorView {
    pub actor: ActorKey,
    /// What the analyst pressed Enter on.
    pub origin: Option<ItemRef>,
    pub draft: Option<DraftId>,
    pub source: Option<TimelineHandle>,
    pub summary: Option<TimelineSummary>,
    pub len: usize,
    pub selected: usize,
    pub offset: usize,
    pub focus: ActorPane,
    pub detail: Option<DetailView>,
    /// Why the timeline or detail could not be read.
    pub error: Option<SafeText>,
    /// Indicators of the draft, by the raw id of the events they cite.
    pub indicator_marks: HashMap<String, Vec<(MarkerKind, SafeText)>>,
    /// Positions to return to with "jump back".
    pub jumps: Vec<usize>,
}

impl ActorView {
    pub fn new(actor: ActorKey, origin: Option<ItemRef>, draft: Option<DraftId>) -> ActorView {
        ActorView {
            actor,
            origin,
            draft,
            source: None,
            summary: None,
            len: 0,
            selected: 0,
            offset: 0,
            focus: ActorPane::Timeline,
            detail: None,
            error: None,
            indicator_marks: HashMap::new(),
            jumps: Vec::new(),
        }
    }

    pub fn set_indicators(&mut self, draft: Option<&DraftView>) {
        self.indicator_marks.clear();
        for indicator in draft.map(|d| d.indicators.as_slice()).unwrap_or_default() {
            for id in &indicator.event_ids {
                self.indicator_marks
                    .entry(id.raw().to_owned())
                    .or_default()
                    .push((indicator.kind, indicator.label.clone()));
            }
        }
    }

    /// The first event an indicator cites, where the analyst should start.
    pub fn first_cited(&self) -> Option<usize> {
        let source = self.source.as_ref()?;
        self.indicator_marks
            .keys()
            .filter_map(|raw| source.0.position_of(&EventId::new(raw.clone())))
            .min()
    }

    pub fn selected_row(&self) -> Option<TimelineRow> {
        let source = self.source.as_ref()?;
        source
            .0
            .window(self.selected, 1)
            .ok()
            .and_then(|rows| rows.into_iter().next())
    }

    /// Moves the selection to `position`, keeping it in a view `height` tall.
    pub fn select(&mut self, position: usize, height: usize) {
        self.selected = position.min(self.len.saturating_sub(1));
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset = self.offset.min(self.len.saturating_sub(height));
    }

    /// Loads the selected event's detail unless it is already shown.
    pub fn load_detail(&mut self, cols: usize) {
        let Some(source) = &self.source else {
            return;
        };
        let Some(row) = self.selected_row() else {
            self.detail = None;
            return;
        };
        if self
            .detail
            .as_ref()
            .is_some_and(|d| d.event_id == row.event_id)
        {
            return;
        }
        match source.0.detail(&row.event_id) {
            Ok(Some(detail)) => self.detail = Some(DetailView::new(detail, cols)),
            Ok(None) => self.detail = None,
            Err(err) => {
                self.detail = None;
                self.error = Some(err.0);
            }
        }
    }
}
