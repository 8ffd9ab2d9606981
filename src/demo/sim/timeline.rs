//! Audit entries kept in time order, read a page at a time: the storage
//! behind the Cloudflare and Datadog simulators.

use std::collections::HashSet;
use std::sync::Arc;

use super::params::Cursor;

/// One stored entry: its verbatim JSON plus the fields filters look at.
#[derive(Debug, Clone)]
pub(crate) struct TimedEntry<F> {
    pub time_ms: i64,
    pub id: String,
    pub raw: Arc<str>,
    pub facets: F,
}

impl<F> TimedEntry<F> {
    fn key(&self) -> (i64, &str) {
        (self.time_ms, self.id.as_str())
    }

    pub(crate) fn cursor(&self) -> Cursor {
        Cursor {
            time_ms: self.time_ms,
            id: self.id.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    OldestFirst,
    NewestFirst,
}

/// Which entries one page holds.
pub(crate) struct PageQuery<'a, F> {
    /// Inclusive lower bound (ms).
    pub from_ms: i64,
    /// Exclusive upper bound (ms).
    pub to_ms: i64,
    /// Continue after this entry (in `direction`).
    pub after: Option<&'a Cursor>,
    pub direction: Direction,
    /// Matching entries to pass over first (page-number pagination).
    pub skip: usize,
    pub limit: usize,
    pub keep: &'a dyn Fn(&F) -> bool,
}

/// Entries sorted by `(time, id)`; ids are unique.
#[derive(Debug)]
pub(crate) struct Timeline<F> {
    entries: Vec<TimedEntry<F>>,
    ids: HashSet<String>,
}

impl<F> Default for Timeline<F> {
    fn default() -> Self {
        Timeline {
            entries: Vec::new(),
            ids: HashSet::new(),
        }
    }
}

impl<F> Timeline<F> {
    /// Adds an entry in order; an id already present is ignored (`false`).
    pub(crate) fn insert(&mut self, entry: TimedEntry<F>) -> bool {
        if !self.ids.insert(entry.id.clone()) {
            return false;
        }
        // Live entries arrive in order: usually the position is the end.
        let at = self.entries.partition_point(|e| e.key() <= entry.key());
        self.entries.insert(at, entry);
        true
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &TimedEntry<F>> {
        self.entries.iter()
    }

    /// Up to `limit` matching entries, and whether more match after them.
    pub(crate) fn page(&self, q: &PageQuery<'_, F>) -> (Vec<&TimedEntry<F>>, bool) {
        let lo = self.entries.partition_point(|e| e.time_ms < q.from_ms);
        let hi = self
            .entries
            .partition_point(|e| e.time_ms < q.to_ms)
            .max(lo);
        let in_range = &self.entries[lo..hi];
        let candidates: Box<dyn Iterator<Item = &TimedEntry<F>>> = match (q.direction, q.after) {
            (Direction::OldestFirst, None) => Box::new(in_range.iter()),
            (Direction::OldestFirst, Some(c)) => {
                let start = in_range.partition_point(|e| e.key() <= (c.time_ms, c.id.as_str()));
                Box::new(in_range[start..].iter())
            }
            (Direction::NewestFirst, None) => Box::new(in_range.iter().rev()),
            (Direction::NewestFirst, Some(c)) => {
                let end = in_range.partition_point(|e| e.key() < (c.time_ms, c.id.as_str()));
                Box::new(in_range[..end].iter().rev())
            }
        };
        let mut page: Vec<&TimedEntry<F>> = candidates
            .filter(|e| (q.keep)(&e.facets))
            .skip(q.skip)
            .take(q.limit.saturating_add(1))
            .collect();
        let more = page.len() > q.limit;
        page.truncate(q.limit);
        (page, more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline(times: &[(i64, &str)]) -> Timeline<bool> {
        let mut t = Timeline::default();
        for (time_ms, id) in times {
            t.insert(TimedEntry {
                time_ms: *time_ms,
                id: (*id).to_owned(),
                raw: Arc::from("{}"),
                facets: id.starts_with('k'),
            });
        }
        t
    }

    fn ids(page: &[&TimedEntry<bool>]) -> Vec<String> {
        page.iter().map(|e| e.id.clone()).collect()
    }

    #[test]
    fn pages_walk_both_directions_without_gaps_or_repeats() {
        let mut t = timeline(&[(30, "c"), (10, "a"), (20, "b2"), (20, "b1"), (40, "d")]);
        assert!(!t.insert(TimedEntry {
            time_ms: 99,
            id: "a".into(),
            raw: Arc::from("{}"),
            facets: false,
        }));
        for (direction, expected) in [
            (Direction::OldestFirst, vec!["a", "b1", "b2", "c"]),
            (Direction::NewestFirst, vec!["c", "b2", "b1", "a"]),
        ] {
            let mut seen = Vec::new();
            let mut after: Option<Cursor> = None;
            loop {
                let (page, more) = t.page(&PageQuery {
                    from_ms: 10,
                    to_ms: 40,
                    after: after.as_ref(),
                    direction,
                    skip: 0,
                    limit: 3,
                    keep: &|_| true,
                });
                seen.extend(ids(&page));
                if !more {
                    break;
                }
                after = page.last().map(|e| e.cursor());
            }
            assert_eq!(seen, expected);
        }
    }

    #[test]
    fn filters_apply_before_the_limit() {
        let t = timeline(&[(1, "x"), (2, "k1"), (3, "y"), (4, "k2")]);
        let (page, more) = t.page(&PageQuery {
            from_ms: 0,
            to_ms: 10,
            after: None,
            direction: Direction::OldestFirst,
            skip: 0,
            limit: 2,
            keep: &|f| *f,
        });
        assert_eq!(ids(&page), vec!["k1", "k2"]);
        assert!(!more);
        let (page, more) = t.page(&PageQuery {
            from_ms: 0,
            to_ms: 10,
            after: None,
            direction: Direction::NewestFirst,
            skip: 1,
            limit: 1,
            keep: &|_| true,
        });
        assert_eq!(ids(&page), vec!["y"]);
        assert!(more);
    }
}
