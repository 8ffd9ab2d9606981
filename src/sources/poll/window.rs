//! Which stretch of time a poll reads, and when it may move the checkpoint.
//!
//! A poll reads `[checkpoint - overlap, now - settle_delay)`: the overlap
//! re-reads entries that arrived late (duplicates are ignored by the store),
//! and the settle delay leaves the newest entries, which may still be
//! arriving, to the next poll. The first poll of a target reads back
//! `initial_lookback`. All edges are whole seconds, so the instant sent as
//! `before` is exactly the instant stored as the checkpoint.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

/// Per-source timing from the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowPolicy {
    pub overlap: TimeDelta,
    pub settle_delay: TimeDelta,
    pub initial_lookback: TimeDelta,
}

impl WindowPolicy {
    /// From config durations; anything beyond chrono's range saturates (the
    /// config caps these at days anyway).
    pub fn from_std(
        overlap: std::time::Duration,
        settle_delay: std::time::Duration,
        initial_lookback: std::time::Duration,
    ) -> WindowPolicy {
        let delta = |d: std::time::Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        WindowPolicy {
            overlap: delta(overlap),
            settle_delay: delta(settle_delay),
            initial_lookback: delta(initial_lookback),
        }
    }
}

/// `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Window {
    pub fn is_empty(&self) -> bool {
        self.from >= self.to
    }

    pub fn span(&self) -> TimeDelta {
        self.to - self.from
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} .. {}",
            self.from.format("%Y-%m-%dT%H:%M:%SZ"),
            self.to.format("%Y-%m-%dT%H:%M:%SZ")
        )
    }
}

/// What the caller asked for beyond the routine poll.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only one actor's entries: a partial view that must never move the checkpoint.
    pub filtered: bool,
}

/// One poll's reading window and checkpoint rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub window: Window,
    /// The checkpoint before the poll.
    pub checkpoint: Option<DateTime<Utc>>,
    /// Whether finished chunks move the checkpoint: only when what is read
    /// joins up with what was read before (no gap), and never for a filtered read.
    pub advances: bool,
    /// The checkpoint never passes this (`now - settle_delay`), even when
    /// `--until` reads further.
    pub ceiling: DateTime<Utc>,
}

impl Plan {
    pub fn new(
        policy: &WindowPolicy,
        checkpoint: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        overrides: Overrides,
    ) -> Plan {
        let ceiling = whole_seconds(now - policy.settle_delay);
        let to = overrides.until.map_or(ceiling, whole_seconds);
        let from = whole_seconds(match (overrides.since, checkpoint) {
            (Some(since), _) => since,
            (None, Some(at)) => at - policy.overlap,
            (None, None) => now - policy.initial_lookback,
        });
        let joins_up = checkpoint.is_none_or(|at| from <= at);
        Plan {
            window: Window { from, to },
            checkpoint,
            advances: joins_up && !overrides.filtered,
            ceiling,
        }
    }

    /// Where the checkpoint goes once `chunk` is stored, if it moves at all:
    /// the chunk's end, capped at the ceiling, and only forward.
    pub fn checkpoint_after(
        &self,
        chunk: &Window,
        current: Option<DateTime<Utc>>,
    ) -> Option<DateTime<Utc>> {
        if !self.advances {
            return None;
        }
        let position = chunk.to.min(self.ceiling);
        current.is_none_or(|at| position > at).then_some(position)
    }

    /// The first poll of a target can have nothing to read (a zero lookback,
    /// or a settle delay longer than it): it still starts the checkpoint, so
    /// the next poll reads from there instead of never starting.
    pub fn starts_checkpoint_without_reading(&self) -> Option<DateTime<Utc>> {
        (self.checkpoint.is_none() && self.advances && self.window.is_empty())
            .then_some(self.window.to.min(self.ceiling))
    }
}

/// Rounds down to the second.
pub fn whole_seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

/// Picks the next chunk of the window, adapting its length: halved when a
/// chunk holds more pages than the cap, grown back while chunks stay small.
#[derive(Debug, Clone)]
pub struct Chunker {
    next_from: DateTime<Utc>,
    to: DateTime<Utc>,
    span: TimeDelta,
    max_span: TimeDelta,
    min_span: TimeDelta,
}

impl Chunker {
    pub fn new(window: Window, max_span: TimeDelta, min_span: TimeDelta) -> Chunker {
        let min_span = min_span.max(TimeDelta::seconds(1));
        let max_span = max_span.max(min_span);
        Chunker {
            next_from: window.from,
            to: window.to,
            span: max_span,
            max_span,
            min_span,
        }
    }

    /// The chunk to read next, or `None` when the window is done.
    pub fn current(&self) -> Option<Window> {
        (self.next_from < self.to).then(|| Window {
            from: self.next_from,
            to: whole_seconds(self.next_from + self.span).min(self.to),
        })
    }

    /// The current chunk is stored; `crowded` says it came close to the page
    /// cap, so the span should not grow.
    pub fn done(&mut self, chunk: &Window, crowded: bool) {
        self.next_from = chunk.to;
        if !crowded {
            self.span = (self.span * 2).min(self.max_span);
        }
    }

    /// The current chunk held too many pages: try half of it. `false` when
    /// it is already as short as allowed.
    pub fn shrink(&mut self, chunk: &Window) -> bool {
        if chunk.span() <= self.min_span {
            return false;
        }
        self.span = (chunk.span() / 2).max(self.min_span);
        true
    }

    pub fn min_span(&self) -> TimeDelta {
        self.min_span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn policy() -> WindowPolicy {
        WindowPolicy {
            overlap: TimeDelta::minutes(5),
            settle_delay: TimeDelta::minutes(1),
            initial_lookback: TimeDelta::hours(1),
        }
    }

    #[test]
    fn routine_poll_reads_from_checkpoint_minus_overlap_to_now_minus_settle() {
        let plan = Plan::new(&policy(), Some(at(0)), at(3600), Overrides::default());
        assert_eq!(
            plan.window,
            Window {
                from: at(-300),
                to: at(3540)
            }
        );
        assert!(plan.advances);
        let chunk = Window {
            from: at(-300),
            to: at(1000),
        };
        assert_eq!(plan.checkpoint_after(&chunk, Some(at(0))), Some(at(1000)));
        assert_eq!(plan.checkpoint_after(&chunk, Some(at(2000))), None);
    }

    #[test]
    fn first_poll_reads_the_lookback_and_edges_are_whole_seconds() {
        let now = at(7200) + TimeDelta::milliseconds(750);
        let plan = Plan::new(&policy(), None, now, Overrides::default());
        assert_eq!(
            plan.window,
            Window {
                from: at(3600),
                to: at(7140)
            }
        );
        assert!(plan.advances);
    }

    #[test]
    fn a_gap_or_a_filter_never_moves_the_checkpoint() {
        let later = Overrides {
            since: Some(at(100)),
            ..Overrides::default()
        };
        let plan = Plan::new(&policy(), Some(at(0)), at(3600), later);
        assert!(
            !plan.advances,
            "reading from after the checkpoint would skip a gap"
        );
        let earlier = Overrides {
            since: Some(at(-100)),
            ..Overrides::default()
        };
        assert!(Plan::new(&policy(), Some(at(0)), at(3600), earlier).advances);
        let actor = Overrides {
            filtered: true,
            ..Overrides::default()
        };
        let plan = Plan::new(&policy(), Some(at(0)), at(3600), actor);
        assert!(!plan.advances);
        assert_eq!(plan.checkpoint_after(&plan.window, Some(at(0))), None);
    }

    #[test]
    fn until_beyond_the_settle_delay_reads_on_but_caps_the_checkpoint() {
        let beyond = Overrides {
            until: Some(at(3600)),
            ..Overrides::default()
        };
        let plan = Plan::new(&policy(), Some(at(0)), at(3600), beyond);
        assert_eq!(plan.window.to, at(3600));
        assert_eq!(
            plan.checkpoint_after(&plan.window, Some(at(0))),
            Some(at(3540))
        );
    }

    #[test]
    fn an_empty_first_window_still_starts_the_checkpoint() {
        let zero = WindowPolicy {
            initial_lookback: TimeDelta::zero(),
            ..policy()
        };
        let plan = Plan::new(&zero, None, at(600), Overrides::default());
        assert!(plan.window.is_empty());
        assert_eq!(plan.starts_checkpoint_without_reading(), Some(at(540)));
        let routine = Plan::new(&policy(), Some(at(0)), at(600), Overrides::default());
        assert_eq!(routine.starts_checkpoint_without_reading(), None);
    }

    #[test]
    fn chunker_covers_the_window_and_adapts() {
        let window = Window {
            from: at(0),
            to: at(10_000),
        };
        let mut chunker = Chunker::new(window, TimeDelta::hours(1), TimeDelta::minutes(1));
        let first = chunker.current().unwrap();
        assert_eq!(
            first,
            Window {
                from: at(0),
                to: at(3600)
            }
        );
        assert!(chunker.shrink(&first));
        let half = chunker.current().unwrap();
        assert_eq!(
            half,
            Window {
                from: at(0),
                to: at(1800)
            }
        );
        chunker.done(&half, true);
        assert_eq!(
            chunker.current().unwrap(),
            Window {
                from: at(1800),
                to: at(3600)
            }
        );
        let next = chunker.current().unwrap();
        chunker.done(&next, false);
        let grown = chunker.current().unwrap();
        assert_eq!(
            grown,
            Window {
                from: at(3600),
                to: at(7200)
            }
        );
        chunker.done(&grown, false);
        let last = chunker.current().unwrap();
        assert_eq!(
            last,
            Window {
                from: at(7200),
                to: at(10_000)
            }
        );
        chunker.done(&last, false);
        assert_eq!(chunker.current(), None);

        let mut tiny = Chunker::new(window, TimeDelta::minutes(2), TimeDelta::minutes(1));
        let chunk = tiny.current().unwrap();
        assert!(tiny.shrink(&chunk));
        let chunk = tiny.current().unwrap();
        assert_eq!(chunk.span(), TimeDelta::minutes(1));
        assert!(!tiny.shrink(&chunk), "cannot go below the minimum span");
    }
}
