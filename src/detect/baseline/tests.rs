use std::collections::BTreeSet;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::detect::rules::parse;

fn rules() -> Rules {
    parse(None).unwrap().rules
}

fn hour(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap()
}

fn activity(changes: u32, types: &[&str]) -> HourActivity {
    HourActivity {
        changes,
        resource_types: types.iter().map(|t| t.to_string()).collect(),
        event_ids: (0..changes).map(|i| format!("ev{i}")).collect(),
    }
}

#[test]
fn median_handles_odd_even_and_empty() {
    assert_eq!(median(&mut []), 0.0);
    assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
}

#[test]
fn hour_start_truncates() {
    let t = Utc.with_ymd_and_hms(2026, 11, 21, 3, 59, 59).unwrap();
    assert_eq!(hour_start(t), hour(21, 3));
}

#[test]
fn stats_combine_hour_of_day_median_and_active_hour_mean() {
    let r = rules();
    // 10 days: 20 changes at 02:00 every day, plus 4 changes at 10:00 on 5 days.
    let checked = hour(21, 2);
    let mut history = Vec::new();
    for d in 1..=10 {
        history.push(HourCount {
            hour: checked - Duration::days(d),
            changes: 20,
        });
        if d <= 5 {
            history.push(HourCount {
                hour: checked - Duration::days(d) + Duration::hours(8),
                changes: 4,
            });
        }
    }
    // Outside the window or in the future: ignored.
    history.push(HourCount {
        hour: checked - Duration::days(31),
        changes: 999,
    });
    history.push(HourCount {
        hour: checked,
        changes: 999,
    });
    let act = activity(20, &[]);
    let seen = BTreeSet::new();
    let w = ActorWindow {
        actor: "job@example.com",
        hour: checked,
        activity: &act,
        history: &history,
        types_seen: &seen,
        first_seen: Some(checked - Duration::days(10)),
    };
    let s = baseline_stats(&r, &w, 10);
    assert_eq!(s.days_sampled, 10);
    assert_eq!(s.hour_of_day_median, 20.0);
    assert_eq!(s.active_hours, 15);
    assert!((s.active_hour_mean - (200.0 + 20.0) / 15.0).abs() < 1e-9);
    assert_eq!(s.expected, 20.0);
    assert_eq!(s.factor, 1.0);
}

#[test]
fn history_days_are_capped_at_the_window() {
    let r = rules();
    assert_eq!(history_days(&r, hour(21, 0), None), 0);
    assert_eq!(history_days(&r, hour(21, 0), Some(hour(18, 1))), 2);
    assert_eq!(history_days(&r, hour(21, 0), Some(hour(21, 5))), 0);
    let long_ago = hour(21, 0) - Duration::days(400);
    assert_eq!(history_days(&r, hour(21, 0), Some(long_ago)), 30);
}
