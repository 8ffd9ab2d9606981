//! The scenario and the query emulation behind `axiom_behaviour.rs`: a
//! month of synthetic audit events, and `baseline.apl` re-done in Rust over
//! the rows `ingest_hour` ships, so a fake server can answer what the query
//! is written to compute. This checks how soc-tui reads the result and that
//! the dedup design holds; it cannot check Axiom's own APL engine.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use serde_json::{Value, json};
use soc_tui::detect::baseline::axiom::{BaselineWindow, IngestRow, RESULT_COLUMNS};
use soc_tui::detect::baseline::hour_start;
use soc_tui::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};

/// An actor string that tries to end an APL string, inject an operator and
/// drive the terminal.
pub const HOSTILE: &str = "eve'] | delete\n\u{1b}[2J@example.com";

/// The checked hour: 2026-11-21 03:00 UTC.
pub fn checked() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap()
}

// ------------------------------------------------------------------ events

pub struct History {
    pub events: Vec<AuditEvent>,
    next_id: u32,
}

impl History {
    pub fn new() -> History {
        History {
            events: Vec::new(),
            next_id: 0,
        }
    }

    /// `n` events by `actor` from `at`, one second apart. Ids rise in
    /// creation order, so sorted ids are insertion order.
    pub fn add(&mut self, actor: &str, at: DateTime<Utc>, n: u32, kind: ActionKind, rtype: &str) {
        for i in 0..n {
            self.next_id += 1;
            self.events.push(AuditEvent {
                source: if i % 2 == 0 {
                    Source::Cloudflare
                } else {
                    Source::Datadog
                },
                id: format!("ev-{:06}", self.next_id),
                time: at + Span::seconds(i64::from(i)),
                actor: Actor {
                    email: Some(actor.to_owned()),
                    ..Actor::default()
                },
                action: Action {
                    verb: kind.as_str().to_owned(),
                    kind,
                    description: None,
                },
                resource: Resource {
                    kind: (!rtype.is_empty()).then(|| rtype.to_owned()),
                    ..Resource::default()
                },
                outcome: Outcome::Success,
                account: None,
                raw: "{}".into(),
            });
        }
    }
}

/// Actors covering every branch: an office worker at night with a new
/// type, a stable nightly job, a newcomer (cold start), a reader, and a
/// hostile actor string that flags.
pub fn scenario() -> Vec<AuditEvent> {
    let h = checked();
    let mut x = History::new();
    for d in 1..=40 {
        let day = h - Span::days(d);
        for office in 9..17 {
            x.add(
                "ops@example.com",
                day + Span::hours(office - 3),
                2,
                ActionKind::Update,
                "dns_record",
            );
        }
        x.add(
            "ops@example.com",
            day + Span::hours(5),
            1,
            ActionKind::Read,
            "dns_record",
        );
    }
    for d in 1..=45 {
        x.add(
            "backup-job",
            h - Span::days(d) + Span::minutes(5),
            30,
            ActionKind::Create,
            "r2_bucket",
        );
    }
    for d in 1..=20 {
        x.add(
            HOSTILE,
            h - Span::days(d) + Span::hours(7),
            1,
            ActionKind::Delete,
            "dns_record",
        );
    }
    x.add(
        "newbie@example.com",
        h - Span::days(2),
        1,
        ActionKind::Login,
        "",
    );
    x.add(
        "reader@example.com",
        h - Span::days(3),
        5,
        ActionKind::Read,
        "zone",
    );

    // The checked hour.
    x.add(
        "ops@example.com",
        h + Span::minutes(1),
        40,
        ActionKind::Update,
        "dns_record",
    );
    x.add(
        "ops@example.com",
        h + Span::minutes(20),
        7,
        ActionKind::Create,
        "waf_rule",
    );
    x.add(
        "backup-job",
        h + Span::minutes(5),
        30,
        ActionKind::Create,
        "r2_bucket",
    );
    x.add(
        "newbie@example.com",
        h + Span::minutes(30),
        45,
        ActionKind::Create,
        "worker_script",
    );
    x.add(
        HOSTILE,
        h + Span::minutes(40),
        35,
        ActionKind::Delete,
        "dns_record",
    );
    x.add(
        "reader@example.com",
        h + Span::minutes(3),
        9,
        ActionKind::Read,
        "zone",
    );
    // After the hour: neither engine may count it.
    x.add(
        "ops@example.com",
        h + Span::hours(1),
        50,
        ActionKind::Update,
        "dns_record",
    );
    x.events
}

// ------------------------------------------------------- the query, emulated

/// The first summarize's group: actor_key, bucket, counted, event_source,
/// event_id, event_type.
pub type Stage1Key = (String, DateTime<Utc>, bool, String, String, String);

/// What `assets/axiom/baseline.apl` computes, step for step, over the rows
/// `ingest_hour` ships; returns the result's columns in RESULT_COLUMNS order.
pub fn emulate_baseline_apl(rows: &[Value], w: &BaselineWindow) -> Vec<Vec<Value>> {
    let time = |r: &Value| {
        DateTime::parse_from_rfc3339(r["_time"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc)
    };
    // | where ... | extend counted, bucket, event_* | summarize min(_time) by ...
    let mut stage1: BTreeMap<Stage1Key, DateTime<Utc>> = BTreeMap::new();
    for r in rows {
        let t = time(r);
        if t < w.lookback_start || t >= w.hour_end {
            continue;
        }
        let counted = r["is_change"] == true && t >= w.window_start;
        let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let key = (
            text("actor_key"),
            if counted {
                hour_start(t)
            } else {
                w.lookback_start
            },
            counted,
            if counted {
                text("source")
            } else {
                String::new()
            },
            if counted { text("id") } else { String::new() },
            if counted {
                text("resource_type")
            } else {
                String::new()
            },
        );
        let min = stage1.entry(key).or_insert(t);
        *min = (*min).min(t);
    }
    // | summarize ... by actor_key, bucket
    #[derive(Default)]
    struct Group {
        first: Option<DateTime<Utc>>,
        changes: u64,
        types: BTreeSet<String>,
        ids: BTreeSet<String>,
    }
    let mut stage2: BTreeMap<(String, DateTime<Utc>), Group> = BTreeMap::new();
    for ((actor, bucket, counted, _, id, rtype), first) in stage1 {
        let g = stage2.entry((actor, bucket)).or_default();
        g.first = Some(g.first.map_or(first, |f| f.min(first)));
        if counted {
            g.changes += 1;
            g.types.insert(rtype);
            if bucket == w.hour_start {
                g.ids.insert(id);
            }
        }
    }
    let mut columns = vec![Vec::new(); RESULT_COLUMNS.len()];
    for ((actor, bucket), g) in stage2 {
        let cells = [
            json!(actor),
            json!(bucket.to_rfc3339()),
            json!(g.first.unwrap().to_rfc3339()),
            json!(g.changes),
            json!(g.types),
            json!(g.ids),
        ];
        for (column, cell) in columns.iter_mut().zip(cells) {
            column.push(cell);
        }
    }
    columns
}

/// A `format=tabular` body with `columns` in RESULT_COLUMNS order, the
/// fields listed in reverse (the reader goes by name, not position).
pub fn tabular_body(columns: Vec<Vec<Value>>, is_partial: bool) -> String {
    let mut fields: Vec<Value> = RESULT_COLUMNS
        .iter()
        .map(|name| json!({"name": name, "type": "string"}))
        .collect();
    let mut columns = columns;
    fields.reverse();
    columns.reverse();
    json!({
        "format": "tabular",
        "status": {"elapsedTime": 1200, "isPartial": is_partial, "rowsExamined": 9000, "rowsMatched": 9000,
                   "blocksExamined": 1, "cacheStatus": 0, "numGroups": 0,
                   "minBlockTime": "2026-09-22T03:00:00Z", "maxBlockTime": "2026-11-21T03:59:00Z"},
        "tables": [{"name": "0", "sources": [{"name": "audit-events"}], "fields": fields,
                    "order": [], "groups": [], "columns": columns}],
        "datasetNames": ["audit-events"]
    })
    .to_string()
}

pub fn shipped_rows(events: &[AuditEvent]) -> Vec<Value> {
    events
        .iter()
        .map(|e| serde_json::to_value(IngestRow::from_event(e)).unwrap())
        .collect()
}
