//! The four main-screen tables and the view state of each list: which rows
//! pass the filter, in which order, which is selected, which are new.
//!
//! Sorting and filtering run when data, filter or sort change (in
//! `App::update`), never per frame: a pane draws `visible[offset..]` only.

use chrono::{DateTime, Utc};

use super::model::{
    ActorKey, BurstRow, DraftId, DraftMap, FlaggedActorRow, InvestigationRow, OutboxRow, Severity,
    StatusSnapshot, TokenRow,
};

/// What a list row must offer to be sorted, filtered and marked new.
pub trait Row {
    fn key(&self) -> &str;
    fn actor(&self) -> &ActorKey;
    fn severity(&self) -> Severity;
    fn updated_at(&self) -> DateTime<Utc>;
    /// Whether any shown text contains `needle` (already lower-case).
    fn matches(&self, needle: &str) -> bool;
}

fn contains(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(needle)
}

impl Row for FlaggedActorRow {
    fn key(&self) -> &str {
        self.meta.id.raw()
    }
    fn actor(&self) -> &ActorKey {
        &self.meta.actor
    }
    fn severity(&self) -> Severity {
        self.meta.severity
    }
    fn updated_at(&self) -> DateTime<Utc> {
        self.meta.updated_at
    }
    fn matches(&self, needle: &str) -> bool {
        contains(self.meta.actor.shown().as_str(), needle)
            || self
                .new_resource_types
                .iter()
                .any(|t| contains(t.as_str(), needle))
            || contains(self.meta.state.label(), needle)
    }
}

impl Row for BurstRow {
    fn key(&self) -> &str {
        self.meta.id.raw()
    }
    fn actor(&self) -> &ActorKey {
        &self.meta.actor
    }
    fn severity(&self) -> Severity {
        self.meta.severity
    }
    fn updated_at(&self) -> DateTime<Utc> {
        self.meta.updated_at
    }
    fn matches(&self, needle: &str) -> bool {
        contains(self.meta.actor.shown().as_str(), needle)
            || self
                .actions
                .iter()
                .any(|(a, _)| contains(a.as_str(), needle))
            || contains(self.meta.severity.as_str(), needle)
    }
}

impl Row for TokenRow {
    fn key(&self) -> &str {
        self.meta.id.raw()
    }
    fn actor(&self) -> &ActorKey {
        &self.meta.actor
    }
    fn severity(&self) -> Severity {
        self.meta.severity
    }
    fn updated_at(&self) -> DateTime<Utc> {
        self.meta.updated_at
    }
    fn matches(&self, needle: &str) -> bool {
        contains(self.meta.actor.shown().as_str(), needle)
            || contains(self.token_name.as_str(), needle)
            || contains(self.scope.as_str(), needle)
    }
}

impl Row for InvestigationRow {
    fn key(&self) -> &str {
        self.id.raw()
    }
    fn actor(&self) -> &ActorKey {
        &self.actor
    }
    fn severity(&self) -> Severity {
        self.verdict.severity()
    }
    fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
    fn matches(&self, needle: &str) -> bool {
        contains(self.actor.shown().as_str(), needle)
            || contains(self.label.as_str(), needle)
            || contains(self.verdict.label(), needle)
    }
}

/// Everything the main screen shows.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    pub flagged: Vec<FlaggedActorRow>,
    pub bursts: Vec<BurstRow>,
    pub tokens: Vec<TokenRow>,
    pub investigations: Vec<InvestigationRow>,
    pub drafts: DraftMap,
    pub status: StatusSnapshot,
    /// The newest outbox rows, newest first (the outbox view).
    pub outbox: Vec<OutboxRow>,
}

impl Tables {
    /// The newest draft about `actor`, if any.
    pub fn draft_for(&self, actor: &ActorKey) -> Option<DraftId> {
        self.investigations
            .iter()
            .filter(|r| &r.actor == actor)
            .max_by_key(|r| r.updated_at)
            .map(|r| r.id.clone())
            .or_else(|| {
                self.drafts
                    .values()
                    .find(|d| &d.actor == actor)
                    .map(|d| d.id.clone())
            })
    }
}

/// Inserts `row` or replaces the row with the same key.
pub fn upsert<T: Row>(rows: &mut Vec<T>, row: T) {
    match rows.iter_mut().find(|r| r.key() == row.key()) {
        Some(slot) => *slot = row,
        None => rows.push(row),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Worst first, then newest.
    Severity,
    Newest,
    Actor,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Severity => SortKey::Newest,
            SortKey::Newest => SortKey::Actor,
            SortKey::Actor => SortKey::Severity,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Severity => "severity",
            SortKey::Newest => "newest",
            SortKey::Actor => "actor",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ListState {
    /// Indices into the table, filtered and sorted.
    pub visible: Vec<usize>,
    /// Position in `visible`.
    pub selected: usize,
    /// First position in `visible` drawn.
    pub offset: usize,
    pub sort: SortKey,
    /// Rows updated after this are marked new.
    pub last_looked: DateTime<Utc>,
    /// Key of the selected row, so the selection follows it across updates.
    selected_key: Option<String>,
}

impl ListState {
    pub fn new(last_looked: DateTime<Utc>) -> ListState {
        ListState {
            visible: Vec::new(),
            selected: 0,
            offset: 0,
            sort: SortKey::Severity,
            last_looked,
            selected_key: None,
        }
    }

    pub fn is_new<T: Row>(&self, row: &T) -> bool {
        row.updated_at() > self.last_looked
    }

    pub fn new_count<T: Row>(&self, rows: &[T]) -> usize {
        self.visible
            .iter()
            .filter_map(|&i| rows.get(i))
            .filter(|r| self.is_new(*r))
            .count()
    }

    pub fn selected_row<'a, T>(&self, rows: &'a [T]) -> Option<&'a T> {
        self.visible.get(self.selected).and_then(|&i| rows.get(i))
    }

    /// Recomputes `visible` after a change of data, filter or sort.
    pub fn refresh<T: Row>(&mut self, rows: &[T], filter: &str, height: usize) {
        let needle = filter.to_lowercase();
        let mut visible: Vec<usize> = (0..rows.len())
            .filter(|&i| needle.is_empty() || rows[i].matches(&needle))
            .collect();
        match self.sort {
            SortKey::Severity => visible.sort_by(|&a, &b| {
                (rows[b].severity(), rows[b].updated_at())
                    .cmp(&(rows[a].severity(), rows[a].updated_at()))
            }),
            SortKey::Newest => visible.sort_by_key(|&i| std::cmp::Reverse(rows[i].updated_at())),
            SortKey::Actor => visible.sort_by(|&a, &b| rows[a].actor().cmp(rows[b].actor())),
        }
        self.visible = visible;
        if let Some(key) = &self.selected_key
            && let Some(pos) = self.visible.iter().position(|&i| rows[i].key() == key)
        {
            self.selected = pos;
        }
        self.clamp(height);
        self.remember(rows);
    }

    /// Moves the selection by `delta` rows, keeping it in a view `height` tall.
    pub fn move_by<T: Row>(&mut self, delta: isize, rows: &[T], height: usize) {
        let last = self.visible.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
        self.clamp(height);
        self.remember(rows);
    }

    pub fn select<T: Row>(&mut self, position: usize, rows: &[T], height: usize) {
        self.selected = position.min(self.visible.len().saturating_sub(1));
        self.clamp(height);
        self.remember(rows);
    }

    /// Keeps `selected` in range and inside `offset..offset + height`.
    pub fn clamp(&mut self, height: usize) {
        self.selected = self.selected.min(self.visible.len().saturating_sub(1));
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        let max_offset = self.visible.len().saturating_sub(height);
        self.offset = self.offset.min(max_offset);
    }

    fn remember<T: Row>(&mut self, rows: &[T]) {
        self.selected_key = self.selected_row(rows).map(|r| r.key().to_owned());
    }
}
