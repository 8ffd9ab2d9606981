//! An actor's timeline read from the store a window at a time: the actor's
//! events in the investigation window, with the markers and links the
//! draft's report derived. The count is read once when the view opens; each
//! page is one indexed read (see `Store::actor_events_page`), cached a
//! little wider than asked so scrolling line by line rarely reads again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::drafts::Annotations;
use crate::investigate::markers::resource_label;
use crate::investigate::timeline::event_ref;
use crate::model::{AuditEvent, Source};
use crate::store::{Store, StoreError};
use crate::tui::model::{
    ActorKey, EventDetail, EventId, SafeText, TimelineError, TimelineRow, TimelineSource,
    TimelineSummary,
};

/// Rows read on a cache miss, at least; the page asked for sits inside.
const CHUNK: usize = 256;

/// The rows most recently read, with their raw JSON for the detail pane.
#[derive(Debug, Default)]
struct Chunk {
    offset: usize,
    rows: Vec<TimelineRow>,
    raw: HashMap<String, String>,
}

pub struct StoreTimeline {
    store: Arc<Mutex<Store>>,
    actor: ActorKey,
    annotations: Arc<Annotations>,
    summary: TimelineSummary,
    len: usize,
    chunk: Mutex<Chunk>,
}

impl StoreTimeline {
    /// Reads the count, span and sources of `actor`'s events in the
    /// window of `annotations`.
    pub fn open(
        store: Arc<Mutex<Store>>,
        actor: ActorKey,
        annotations: Arc<Annotations>,
    ) -> Result<StoreTimeline, StoreError> {
        let (from, to) = (annotations.window.from, annotations.window.to);
        let (len, span, sources) = {
            let store = store.lock().unwrap_or_else(PoisonError::into_inner);
            (
                store.actor_event_count(actor.raw(), from, to)?,
                store.actor_event_span(actor.raw(), from, to)?,
                store.actor_sources(actor.raw(), from, to)?,
            )
        };
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let summary = TimelineSummary {
            actor: actor.clone(),
            from: span.map(|(a, _)| a),
            to: span.map(|(_, b)| b),
            sources,
            total: len,
        };
        Ok(StoreTimeline {
            store,
            actor,
            annotations,
            summary,
            len,
            chunk: Mutex::new(Chunk::default()),
        })
    }

    fn row(&self, event: &AuditEvent) -> TimelineRow {
        let reference = event_ref(event);
        let markers = self
            .annotations
            .markers
            .get(&reference)
            .cloned()
            .unwrap_or_default();
        let linked_event_ids = self
            .annotations
            .links
            .get(&reference)
            .cloned()
            .unwrap_or_default();
        TimelineRow {
            event_id: EventId::new(reference),
            time: event.time,
            source: event.source,
            verb: SafeText::with_limit(&event.action.verb, 120),
            resource: SafeText::with_limit(&resource_label(event), 200),
            markers,
            linked_event_ids,
        }
    }

    fn read(&self, offset: usize, limit: usize) -> Result<Chunk, TimelineError> {
        let w = &self.annotations.window;
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let end = offset.saturating_add(limit).min(self.len);
        // Whichever end is nearer: an OFFSET costs one index step per row skipped.
        let events = if offset > self.len - end {
            store.actor_events_page_from_end(
                self.actor.raw(),
                w.from,
                w.to,
                self.len - end,
                end.saturating_sub(offset),
            )
        } else {
            store.actor_events_page(self.actor.raw(), w.from, w.to, offset, limit)
        }
        .map_err(error)?;
        drop(store);
        let rows = events.iter().map(|e| self.row(e)).collect();
        let raw = events.into_iter().map(|e| (event_ref(&e), e.raw)).collect();
        Ok(Chunk { offset, rows, raw })
    }
}

fn error(e: StoreError) -> TimelineError {
    TimelineError(SafeText::new(&e.to_string()))
}

/// `cf:<id>` / `dd:<id>` back to the source and id.
fn parse_ref(reference: &str) -> Option<(Source, &str)> {
    let (prefix, id) = reference.split_once(':')?;
    let source = Source::ALL
        .into_iter()
        .find(|s| s.short().eq_ignore_ascii_case(prefix))?;
    Some((source, id))
}

impl TimelineSource for StoreTimeline {
    fn summary(&self) -> TimelineSummary {
        self.summary.clone()
    }

    fn len(&self) -> usize {
        self.len
    }

    fn window(&self, offset: usize, limit: usize) -> Result<Vec<TimelineRow>, TimelineError> {
        let end = offset.saturating_add(limit).min(self.len);
        if offset >= end {
            return Ok(Vec::new());
        }
        let mut chunk = self.chunk.lock().unwrap_or_else(PoisonError::into_inner);
        let cached_end = chunk.offset + chunk.rows.len();
        if offset < chunk.offset || end > cached_end {
            // Room on both sides, so scrolling either way stays in the cache.
            let size = CHUNK.max(limit.saturating_mul(3));
            let start = offset.saturating_sub(size.saturating_sub(end - offset) / 2);
            *chunk = self.read(start, size)?;
        }
        let from = offset - chunk.offset;
        let to = (end - chunk.offset).min(chunk.rows.len());
        Ok(chunk
            .rows
            .get(from..to)
            .map(<[_]>::to_vec)
            .unwrap_or_default())
    }

    fn position_of(&self, event_id: &EventId) -> Option<usize> {
        {
            let chunk = self.chunk.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(i) = chunk.rows.iter().position(|r| &r.event_id == event_id) {
                return Some(chunk.offset + i);
            }
        }
        let (source, id) = parse_ref(event_id.raw())?;
        let w = &self.annotations.window;
        let position = self
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .actor_event_position(self.actor.raw(), w.from, w.to, source, id);
        match position {
            Ok(p) => p.and_then(|p| usize::try_from(p).ok()),
            Err(e) => {
                tracing::warn!(error = %e, "locating a linked event");
                None
            }
        }
    }

    fn detail(&self, event_id: &EventId) -> Result<Option<EventDetail>, TimelineError> {
        if let Some(raw) = self
            .chunk
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .raw
            .get(event_id.raw())
        {
            return Ok(Some(EventDetail::from_raw_json(event_id.clone(), raw)));
        }
        let Some(position) = self.position_of(event_id) else {
            return Ok(None);
        };
        let chunk = self.read(position, 1)?;
        Ok(chunk
            .raw
            .get(event_id.raw())
            .map(|raw| EventDetail::from_raw_json(event_id.clone(), raw)))
    }
}
