//! The baseline APL: one embedded file (`assets/axiom/baseline.apl`),
//! filled from typed values only.
//!
//! Placeholders are `{{name}}`. Each value is rendered by its own rule: a
//! dataset name as an APL string inside `['...']` (validated, and escaped
//! all the same), a time as `datetime(<RFC 3339 UTC>)`, a count as digits.
//! There is no way to put an arbitrary string into the query, and the query
//! names no actor, so attacker-controlled text never becomes APL.

use std::fmt;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::Serialize;

use crate::detect::baseline::hour_start;

/// The one APL file, as written (comments included).
pub const BASELINE_APL: &str = include_str!("../../../../assets/axiom/baseline.apl");

/// Result columns the template projects, in order; the parser reads them by name.
pub const RESULT_COLUMNS: [&str; 6] = [
    "actor_key",
    "bucket",
    "first_seen",
    "changes",
    "types",
    "ids",
];

/// The row cap written into the query (`limit`); the legacy query API's
/// documented maximum page. A result this long is treated as truncated.
pub const MAX_ROWS: usize = 50_000;

/// An Axiom dataset name: 1 to 128 characters of ASCII letters, digits, `_`,
/// `-` and `.` (the config's rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetName(String);

impl DatasetName {
    pub fn parse(name: &str) -> Option<DatasetName> {
        let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
        (!name.is_empty() && name.len() <= 128 && name.chars().all(ok))
            .then(|| DatasetName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The hours one check covers. All instants are hour starts (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaselineWindow {
    /// Start of the checked hour.
    pub hour_start: DateTime<Utc>,
    pub hour_end: DateTime<Utc>,
    /// `hour_start - window_days`: the trailing window is `[window_start, hour_start)`.
    pub window_start: DateTime<Utc>,
    /// `window_start - window_days`: how far back first-seen times are looked up.
    pub lookback_start: DateTime<Utc>,
}

impl BaselineWindow {
    pub fn new(hour: DateTime<Utc>, window_days: u32) -> BaselineWindow {
        let hour_start = hour_start(hour);
        let window = Duration::days(window_days.into());
        BaselineWindow {
            hour_start,
            hour_end: hour_start + Duration::hours(1),
            window_start: hour_start - window,
            lookback_start: hour_start - window - window,
        }
    }
}

/// The body of `POST /v1/datasets/_apl?format=tabular`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AplQuery {
    pub apl: String,
    #[serde(rename = "startTime")]
    pub start_time: String,
    #[serde(rename = "endTime")]
    pub end_time: String,
}

/// The baseline query for `window` over `dataset`.
pub fn baseline_query(dataset: &DatasetName, window: &BaselineWindow) -> Result<AplQuery, String> {
    let values = [
        ("dataset", AplValue::Dataset(dataset)),
        ("lookback_start", AplValue::Time(window.lookback_start)),
        ("window_start", AplValue::Time(window.window_start)),
        ("hour_start", AplValue::Time(window.hour_start)),
        ("hour_end", AplValue::Time(window.hour_end)),
        ("max_rows", AplValue::Count(MAX_ROWS as u64)),
    ];
    Ok(AplQuery {
        apl: render(&strip_comments(BASELINE_APL), &values)?,
        start_time: rfc3339(window.lookback_start),
        end_time: rfc3339(window.hour_end),
    })
}

/// A value soc-tui puts into APL; each kind has exactly one rendering.
#[derive(Debug, Clone, Copy)]
pub enum AplValue<'a> {
    Dataset(&'a DatasetName),
    Time(DateTime<Utc>),
    Count(u64),
}

impl AplValue<'_> {
    fn render(&self) -> String {
        match self {
            AplValue::Dataset(name) => format!("[{}]", apl_string(name.as_str())),
            AplValue::Time(t) => format!("datetime({})", rfc3339(*t)),
            AplValue::Count(n) => n.to_string(),
        }
    }
}

/// A single-quoted APL string literal: backslash and quote escaped, control
/// characters as `\uXXXX`, so the literal always ends where it should.
pub fn apl_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Drops whole-line `//` comments (documentation for readers of the file,
/// not for Axiom) and blank lines.
pub fn strip_comments(apl: &str) -> String {
    apl.lines()
        .filter(|line| {
            let t = line.trim_start();
            !t.is_empty() && !t.starts_with("//")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Replaces every `{{name}}` with its value; an unknown or unclosed
/// placeholder is an error, so a template edit cannot send a literal `{{`.
fn render(template: &str, values: &[(&str, AplValue<'_>)]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| {
            format!(
                "unclosed placeholder at byte {}",
                template.len() - rest.len() + open
            )
        })?;
        let name = &after[..close];
        let value = values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.render())
            .ok_or_else(|| format!("unknown placeholder {{{{{name}}}}}"))?;
        out.push_str(&value);
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::TimeZone;

    use super::*;

    fn window() -> BaselineWindow {
        BaselineWindow::new(Utc.with_ymd_and_hms(2026, 11, 21, 3, 25, 9).unwrap(), 30)
    }

    fn dataset() -> DatasetName {
        DatasetName::parse("audit-events.v1").unwrap()
    }

    #[test]
    fn window_is_whole_hours_and_reaches_back_two_windows() {
        let w = window();
        assert_eq!(
            w.hour_start,
            Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap()
        );
        assert_eq!(
            w.hour_end,
            Utc.with_ymd_and_hms(2026, 11, 21, 4, 0, 0).unwrap()
        );
        assert_eq!(
            w.window_start,
            Utc.with_ymd_and_hms(2026, 10, 22, 3, 0, 0).unwrap()
        );
        assert_eq!(
            w.lookback_start,
            Utc.with_ymd_and_hms(2026, 9, 22, 3, 0, 0).unwrap()
        );
    }

    #[test]
    fn the_query_is_filled_completely_and_carries_the_time_range() {
        let q = baseline_query(&dataset(), &window()).unwrap();
        assert!(!q.apl.contains("{{") && !q.apl.contains("}}"), "{}", q.apl);
        assert!(!q.apl.contains("//"), "comments are stripped: {}", q.apl);
        assert!(q.apl.starts_with("['audit-events.v1']\n| where _time >= datetime(2026-09-22T03:00:00Z) and _time < datetime(2026-11-21T04:00:00Z)\n"), "{}", q.apl);
        assert!(
            q.apl.contains("_time >= datetime(2026-10-22T03:00:00Z)"),
            "{}",
            q.apl
        );
        assert!(
            q.apl.contains("bucket == datetime(2026-11-21T03:00:00Z)"),
            "{}",
            q.apl
        );
        assert!(q.apl.ends_with("| limit 50000"), "{}", q.apl);
        assert_eq!(q.start_time, "2026-09-22T03:00:00Z");
        assert_eq!(q.end_time, "2026-11-21T04:00:00Z");
        let body = serde_json::to_value(&q).unwrap();
        assert_eq!(body.as_object().unwrap().len(), 3);
        assert_eq!(body["startTime"], "2026-09-22T03:00:00Z");
    }

    #[test]
    fn the_query_depends_only_on_the_dataset_and_the_hour() {
        let a = baseline_query(&dataset(), &window()).unwrap();
        let same_hour =
            BaselineWindow::new(Utc.with_ymd_and_hms(2026, 11, 21, 3, 59, 59).unwrap(), 30);
        assert_eq!(a, baseline_query(&dataset(), &same_hour).unwrap());
    }

    #[test]
    fn the_template_projects_exactly_the_columns_the_parser_reads() {
        let apl = strip_comments(BASELINE_APL);
        let project = apl
            .lines()
            .find_map(|l| l.trim().strip_prefix("| project "))
            .expect("a project line");
        let columns: Vec<&str> = project.split(',').map(str::trim).collect();
        assert_eq!(columns, RESULT_COLUMNS);
    }

    #[test]
    fn the_template_uses_every_placeholder_it_documents() {
        let placeholders = |text: &str| -> BTreeSet<String> {
            text.split("{{")
                .skip(1)
                .filter_map(|s| s.split_once("}}").map(|(n, _)| n.to_owned()))
                .collect()
        };
        let documented = placeholders(
            &BASELINE_APL
                .lines()
                .filter(|l| l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        let used = placeholders(&strip_comments(BASELINE_APL));
        assert_eq!(documented, used);
        assert_eq!(used.len(), 6);
    }

    #[test]
    fn dataset_names_are_validated_and_quoted() {
        for bad in [
            "",
            "a b",
            "a'b",
            "a\\b",
            "a]b",
            "x\n| delete",
            &"a".repeat(129),
        ] {
            assert_eq!(DatasetName::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            AplValue::Dataset(&dataset()).render(),
            "['audit-events.v1']"
        );
    }

    #[test]
    fn string_literals_cannot_be_closed_early() {
        assert_eq!(apl_string("plain"), "'plain'");
        assert_eq!(
            apl_string(r"a'] | where 1==1 //\"),
            r"'a\'] | where 1==1 //\\'"
        );
        assert_eq!(apl_string("a\nb\u{1b}"), r"'a\u000ab\u001b'");
    }

    #[test]
    fn render_rejects_unknown_and_unclosed_placeholders() {
        let values = [("a", AplValue::Count(1))];
        assert_eq!(render("x {{a}} y", &values).unwrap(), "x 1 y");
        assert!(
            render("x {{b}}", &values)
                .unwrap_err()
                .contains("unknown placeholder {{b}}")
        );
        assert!(render("x {{a", &values).unwrap_err().contains("unclosed"));
    }
}
