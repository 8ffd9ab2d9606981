//! Comparing the two sides: per-actor figures and flagged sets.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use chrono::{DateTime, Duration as Span, Utc};
use soc_tui::detect::baseline::{ActorWindow, BaselineData, baseline_stats};
use soc_tui::detect::rules::Rules;
use soc_tui::store::Store;

/// One actor's figures for the checked hour, as both sides report them.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub changes: u64,
    pub expected: f64,
    pub cold: bool,
    /// Types changed in the hour and not in the window, whether or not the
    /// rules look at them.
    pub new_types: Vec<String>,
}

impl Figures {
    pub fn agrees(&self, other: &Figures) -> bool {
        self.changes == other.changes
            && (self.expected - other.expected).abs() <= 1e-9 * self.expected.abs().max(1.0)
            && self.cold == other.cold
            && self.new_types == other.new_types
    }
}

/// Not timed: every active actor's figures from the store, through the same
/// `BaselineData` reads and `baseline_stats` the check uses.
pub fn our_figures(
    store: &mut Store,
    rules: &Rules,
    hour: DateTime<Utc>,
) -> Result<BTreeMap<String, Figures>> {
    let b = &rules.baseline;
    let window = i64::from(b.window_days.get());
    let window_start = hour - Span::days(window);
    let data = store.baseline_data()?;
    let mut figures = BTreeMap::new();
    for actor in data.active_actors(hour)? {
        let activity = data.hour_activity(&actor, hour)?;
        let history = data.hourly_counts(&actor, window_start, hour)?;
        let types_seen = data.types_seen(&actor, window_start, hour)?;
        let first_seen = data.first_seen(&actor)?;
        // As the check counts history: whole days since the first event, capped.
        let history_days = first_seen
            .map_or(0, |f| (hour - f).num_days().clamp(0, window))
            .try_into()
            .unwrap_or(0u32);
        let stats = baseline_stats(
            rules,
            &ActorWindow {
                actor: &actor,
                hour,
                activity: &activity,
                history: &history,
                types_seen: &types_seen,
                first_seen,
            },
            history_days,
        );
        let new_types = activity
            .resource_types
            .iter()
            .filter(|t| !types_seen.contains(*t))
            .cloned()
            .collect();
        figures.insert(
            actor,
            Figures {
                changes: u64::from(activity.changes),
                expected: stats.expected,
                cold: history_days < b.cold_start.min_history_days.get(),
                new_types,
            },
        );
    }
    Ok(figures)
}

/// Jaccard agreement of two flagged sets and what each alone has.
pub struct Agreement {
    pub both: usize,
    pub only_ours: Vec<String>,
    pub only_theirs: Vec<String>,
}

impl Agreement {
    pub fn of(ours: &BTreeSet<String>, theirs: &BTreeSet<String>) -> Agreement {
        Agreement {
            both: ours.intersection(theirs).count(),
            only_ours: ours.difference(theirs).cloned().collect(),
            only_theirs: theirs.difference(ours).cloned().collect(),
        }
    }

    pub fn ratio(&self) -> f64 {
        let union = self.both + self.only_ours.len() + self.only_theirs.len();
        if union == 0 {
            1.0
        } else {
            self.both as f64 / union as f64
        }
    }
}

/// How many actors' figures agree between the two sides.
pub struct FigureAgreement {
    /// Actors active on either side.
    pub actors: usize,
    pub agree: usize,
    /// Actors whose figures differ or that one side lacks, with both figures.
    pub differ: Vec<String>,
}

impl FigureAgreement {
    pub fn of(
        ours: &BTreeMap<String, Figures>,
        theirs: &BTreeMap<String, Figures>,
    ) -> FigureAgreement {
        let actors: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
        let mut differ = Vec::new();
        for actor in &actors {
            match (ours.get(*actor), theirs.get(*actor)) {
                (Some(a), Some(b)) if a.agrees(b) => {}
                (a, b) => differ.push(format!("{actor} ours {a:?} DuckDB {b:?}")),
            }
        }
        FigureAgreement {
            actors: actors.len(),
            agree: actors.len() - differ.len(),
            differ,
        }
    }
}
