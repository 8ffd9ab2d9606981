//! [`AxiomBaseline`]: the baseline query's result for one checked hour, held
//! in memory so the check itself ([`crate::detect::baseline::check_hour`])
//! stays synchronous and pure.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use super::apl::{BaselineWindow, RESULT_COLUMNS};
use super::tabular::Table;
use crate::detect::baseline::{BaselineData, HourActivity, HourCount, hour_start};

/// Asked for an hour the snapshot was not fetched for: a caller bug, not
/// missing data, so it is an error rather than an empty answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the Axiom baseline snapshot covers the hour {hour} and the window from {window_start}; it was asked about {asked}"
)]
pub struct OutOfWindow {
    pub hour: String,
    pub window_start: String,
    pub asked: String,
}

#[derive(Debug, Clone, Default)]
struct HourFigures {
    changes: u32,
    types: BTreeSet<String>,
}

#[derive(Debug, Clone, Default)]
struct ActorFigures {
    first_seen: Option<DateTime<Utc>>,
    /// Hours in `[window_start, hour_end)` with changes.
    hours: BTreeMap<DateTime<Utc>, HourFigures>,
    /// Ids of the checked hour's changes.
    ids: BTreeSet<String>,
}

/// The figures one baseline check reads, for every actor of the window.
///
/// `first_seen` is the earliest event within the query's lookback (one
/// window before the window): an actor silent for longer than that looks
/// new. Only the checked hour and ranges inside `[window_start, hour_end)`
/// can be asked about.
#[derive(Debug, Clone)]
pub struct AxiomBaseline {
    window: BaselineWindow,
    actors: BTreeMap<String, ActorFigures>,
    /// Result rows without an actor (rows in the dataset that soc-tui did not ship).
    skipped_rows: usize,
}

impl AxiomBaseline {
    /// Reads the baseline query's result table (columns [`RESULT_COLUMNS`],
    /// in any order). Errors name the row and column, never the cell text.
    pub fn from_table(table: &Table, window: BaselineWindow) -> Result<AxiomBaseline, String> {
        let column = |name: &str| {
            table.column(name).ok_or_else(|| {
                let found: Vec<&str> = table.fields.iter().map(|f| f.name.as_str()).collect();
                format!(
                    "the result has no column {name:?} (expected {RESULT_COLUMNS:?}, found {found:?})"
                )
            })
        };
        let [
            actor_col,
            bucket_col,
            first_col,
            changes_col,
            types_col,
            ids_col,
        ] = RESULT_COLUMNS.map(column);
        let (actor_col, bucket_col, first_col) = (actor_col?, bucket_col?, first_col?);
        let (changes_col, types_col, ids_col) = (changes_col?, types_col?, ids_col?);

        let mut snapshot = AxiomBaseline {
            window,
            actors: BTreeMap::new(),
            skipped_rows: 0,
        };
        for row in 0..table.rows() {
            let at = |col: &str, what: String| format!("row {row}, column {col:?}: {what}");
            let Some(actor) = actor_col[row].as_str() else {
                if actor_col[row].is_null() {
                    snapshot.skipped_rows += 1;
                    continue;
                }
                return Err(at("actor_key", expected("a string", &actor_col[row])));
            };
            let bucket = time(&bucket_col[row]).map_err(|e| at("bucket", e))?;
            let first_seen = time(&first_col[row]).map_err(|e| at("first_seen", e))?;
            let changes = count(&changes_col[row]).map_err(|e| at("changes", e))?;
            let types = strings(&types_col[row]).map_err(|e| at("types", e))?;
            let ids = strings(&ids_col[row]).map_err(|e| at("ids", e))?;

            let figures = snapshot.actors.entry(actor.to_owned()).or_default();
            figures.first_seen = Some(figures.first_seen.map_or(first_seen, |f| f.min(first_seen)));
            if changes == 0 {
                continue;
            }
            let hour = hour_start(bucket);
            if hour < window.window_start || hour >= window.hour_end {
                return Err(at(
                    "bucket",
                    format!(
                        "{} changes in an hour outside the window ({})",
                        changes,
                        stamp(hour)
                    ),
                ));
            }
            let h = figures.hours.entry(hour).or_default();
            h.changes = h.changes.saturating_add(changes);
            h.types.extend(types.into_iter().filter(|t| !t.is_empty()));
            if hour == window.hour_start {
                figures.ids.extend(ids);
            }
        }
        Ok(snapshot)
    }

    /// The checked hour.
    pub fn hour(&self) -> DateTime<Utc> {
        self.window.hour_start
    }

    pub fn window(&self) -> &BaselineWindow {
        &self.window
    }

    /// Actors with any event in the lookback.
    pub fn actor_count(&self) -> usize {
        self.actors.len()
    }

    /// Result rows that carried no actor and were left out.
    pub fn skipped_rows(&self) -> usize {
        self.skipped_rows
    }

    fn out_of_window(&self, asked: String) -> OutOfWindow {
        OutOfWindow {
            hour: stamp(self.window.hour_start),
            window_start: stamp(self.window.window_start),
            asked,
        }
    }

    fn the_hour(&self, hour: DateTime<Utc>) -> Result<DateTime<Utc>, OutOfWindow> {
        let hour = hour_start(hour);
        if hour == self.window.hour_start {
            Ok(hour)
        } else {
            Err(self.out_of_window(format!("the hour {}", stamp(hour))))
        }
    }

    fn range(
        &self,
        actor: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<impl Iterator<Item = (&DateTime<Utc>, &HourFigures)>, OutOfWindow> {
        if from < self.window.window_start || to > self.window.hour_end || from > to {
            return Err(self.out_of_window(format!("the range {} to {}", stamp(from), stamp(to))));
        }
        Ok(self
            .actors
            .get(actor)
            .into_iter()
            .flat_map(move |a| a.hours.range(from..to)))
    }
}

impl BaselineData for AxiomBaseline {
    type Error = OutOfWindow;

    fn active_actors(&self, hour: DateTime<Utc>) -> Result<Vec<String>, OutOfWindow> {
        let hour = self.the_hour(hour)?;
        Ok(self
            .actors
            .iter()
            .filter(|(_, a)| a.hours.get(&hour).is_some_and(|h| h.changes > 0))
            .map(|(actor, _)| actor.clone())
            .collect())
    }

    fn hour_activity(&self, actor: &str, hour: DateTime<Utc>) -> Result<HourActivity, OutOfWindow> {
        let hour = self.the_hour(hour)?;
        let Some(a) = self.actors.get(actor) else {
            return Ok(HourActivity::default());
        };
        let h = a.hours.get(&hour).cloned().unwrap_or_default();
        Ok(HourActivity {
            changes: h.changes,
            resource_types: h.types,
            event_ids: a.ids.iter().cloned().collect(),
        })
    }

    fn hourly_counts(
        &self,
        actor: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<HourCount>, OutOfWindow> {
        Ok(self
            .range(actor, from, to)?
            .map(|(&hour, h)| HourCount {
                hour,
                changes: h.changes,
            })
            .collect())
    }

    fn types_seen(
        &self,
        actor: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, OutOfWindow> {
        Ok(self
            .range(actor, from, to)?
            .flat_map(|(_, h)| h.types.iter().cloned())
            .collect())
    }

    fn first_seen(&self, actor: &str) -> Result<Option<DateTime<Utc>>, OutOfWindow> {
        Ok(self.actors.get(actor).and_then(|a| a.first_seen))
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Names the JSON type found, never the value (it may be audit-log text).
fn expected(what: &str, found: &Value) -> String {
    let kind = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    format!("expected {what}, got {kind}")
}

fn time(cell: &Value) -> Result<DateTime<Utc>, String> {
    let text = cell
        .as_str()
        .ok_or_else(|| expected("an RFC 3339 time", cell))?;
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 time: {e}"))
}

fn count(cell: &Value) -> Result<u32, String> {
    let n = cell
        .as_u64()
        .or_else(|| {
            cell.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
                .map(|f| f as u64)
        })
        .ok_or_else(|| expected("a whole number", cell))?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// An array of strings; null is an empty array.
fn strings(cell: &Value) -> Result<Vec<String>, String> {
    match cell {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| expected("strings in the array", v))
            })
            .collect(),
        other => Err(expected("an array of strings", other)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use serde_json::{Value, json};

    use super::*;
    use crate::detect::baseline::axiom::tabular::TabularResult;

    fn window() -> BaselineWindow {
        BaselineWindow::new(Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap(), 30)
    }

    /// A result table from rows `[actor, bucket, first_seen, changes, types, ids]`.
    fn table(rows: &[Value]) -> Table {
        let mut columns = vec![Vec::new(); 6];
        for row in rows {
            for (i, cell) in row.as_array().unwrap().iter().enumerate() {
                columns[i].push(cell.clone());
            }
        }
        let fields: Vec<Value> = RESULT_COLUMNS
            .iter()
            .map(|n| json!({"name": n, "type": "string"}))
            .collect();
        let body = json!({"format": "tabular", "status": {}, "tables": [{"name": "0", "fields": fields, "columns": columns}]});
        TabularResult::from_json(body.to_string().as_bytes())
            .unwrap()
            .tables
            .remove(0)
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn rows_become_window_history_current_activity_and_first_seen() {
        let w = window();
        let snap = AxiomBaseline::from_table(
            &table(&[
                json!([
                    "bob",
                    "2026-09-22T03:00:00Z",
                    "2026-09-30T10:11:12.5Z",
                    0,
                    [],
                    []
                ]),
                json!([
                    "bob",
                    "2026-11-20T03:00:00Z",
                    "2026-11-20T03:10:00Z",
                    4,
                    ["dns_record"],
                    []
                ]),
                json!([
                    "bob",
                    "2026-11-21T03:00:00Z",
                    "2026-11-21T03:01:00Z",
                    2,
                    ["waf", "", null],
                    ["e2", "e1"]
                ]),
                json!([
                    null,
                    "2026-11-21T03:00:00Z",
                    "2026-11-21T03:01:00Z",
                    9,
                    [],
                    []
                ]),
                json!([
                    "eve\u{1b}]'\"",
                    "2026-11-21T03:00:00Z",
                    "2026-11-21T03:30:00Z",
                    1.0,
                    null,
                    ["x"]
                ]),
            ]),
            w,
        )
        .unwrap();
        assert_eq!(snap.skipped_rows(), 1);
        assert_eq!(snap.actor_count(), 2);
        assert_eq!(
            snap.active_actors(w.hour_start).unwrap(),
            ["bob", "eve\u{1b}]'\""]
        );
        let act = snap
            .hour_activity("bob", w.hour_start + Duration::minutes(59))
            .unwrap();
        assert_eq!(act.changes, 2);
        assert_eq!(act.resource_types, BTreeSet::from(["waf".to_owned()]));
        assert_eq!(act.event_ids, ["e1", "e2"]);
        assert_eq!(
            snap.hourly_counts("bob", w.window_start, w.hour_start)
                .unwrap(),
            [HourCount {
                hour: t("2026-11-20T03:00:00Z"),
                changes: 4
            }]
        );
        assert_eq!(
            snap.types_seen("bob", w.window_start, w.hour_start)
                .unwrap(),
            BTreeSet::from(["dns_record".to_owned()])
        );
        assert_eq!(
            snap.first_seen("bob").unwrap(),
            Some(t("2026-09-30T10:11:12.5Z"))
        );
        assert_eq!(snap.first_seen("nobody").unwrap(), None);
        assert_eq!(
            snap.hour_activity("nobody", w.hour_start).unwrap(),
            HourActivity::default()
        );
    }

    #[test]
    fn questions_outside_the_fetched_window_are_errors() {
        let w = window();
        let snap = AxiomBaseline::from_table(&table(&[]), w).unwrap();
        let e = snap.active_actors(w.hour_end).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the Axiom baseline snapshot covers the hour 2026-11-21T03:00:00Z and the window from 2026-10-22T03:00:00Z; it was asked about the hour 2026-11-21T04:00:00Z"
        );
        assert!(
            snap.hourly_counts("a", w.window_start - Duration::hours(1), w.hour_start)
                .is_err()
        );
        assert!(
            snap.types_seen("a", w.window_start, w.hour_end + Duration::hours(1))
                .is_err()
        );
        assert!(
            snap.hourly_counts("a", w.window_start, w.hour_end)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn bad_cells_are_named_by_row_and_column_without_their_text() {
        let w = window();
        let cases = [
            (
                json!(["a", "yesterday", "2026-11-21T03:00:00Z", 1, [], []]),
                "row 0, column \"bucket\": not an RFC 3339 time",
            ),
            (
                json!(["a", "2026-11-21T03:00:00Z", 5, 1, [], []]),
                "row 0, column \"first_seen\": expected an RFC 3339 time, got a number",
            ),
            (
                json!([
                    "a",
                    "2026-11-21T03:00:00Z",
                    "2026-11-21T03:00:00Z",
                    "secret-text",
                    [],
                    []
                ]),
                "row 0, column \"changes\": expected a whole number, got a string",
            ),
            (
                json!([
                    "a",
                    "2026-11-21T03:00:00Z",
                    "2026-11-21T03:00:00Z",
                    1.5,
                    [],
                    []
                ]),
                "expected a whole number",
            ),
            (
                json!([
                    "a",
                    "2026-11-21T03:00:00Z",
                    "2026-11-21T03:00:00Z",
                    1,
                    "secret-text",
                    []
                ]),
                "row 0, column \"types\": expected an array of strings, got a string",
            ),
            (
                json!([
                    "a",
                    "2026-11-21T03:00:00Z",
                    "2026-11-21T03:00:00Z",
                    1,
                    [],
                    [7]
                ]),
                "row 0, column \"ids\": expected strings in the array, got a number",
            ),
            (
                json!([7, "2026-11-21T03:00:00Z", "2026-11-21T03:00:00Z", 1, [], []]),
                "row 0, column \"actor_key\": expected a string, got a number",
            ),
            (
                json!([
                    "a",
                    "2026-11-21T05:00:00Z",
                    "2026-11-21T03:00:00Z",
                    1,
                    [],
                    []
                ]),
                "1 changes in an hour outside the window (2026-11-21T05:00:00Z)",
            ),
        ];
        for (row, expect) in cases {
            let e = AxiomBaseline::from_table(&table(std::slice::from_ref(&row)), w).unwrap_err();
            assert!(e.contains(expect), "{row}: {e}");
            assert!(!e.contains("secret-text"), "{e}");
        }
    }

    #[test]
    fn a_missing_column_is_named_with_what_was_found() {
        let body = json!({"tables": [{"name": "0", "fields": [{"name": "actor_key"}], "columns": [["a"]]}]});
        let table = TabularResult::from_json(body.to_string().as_bytes())
            .unwrap()
            .tables
            .remove(0);
        let e = AxiomBaseline::from_table(&table, window()).unwrap_err();
        assert!(e.starts_with("the result has no column \"bucket\""), "{e}");
        assert!(e.contains("found [\"actor_key\"]"), "{e}");
    }
}
