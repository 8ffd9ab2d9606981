//! The analyst log: every approval, edit and publish request, with who did
//! it, when, and the changed values before and after. Append-only.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::{Result, Store, StoreError, from_ms, sql_err, to_ms};

/// An entry to append.
#[derive(Debug, Clone)]
pub struct NewLogEntry<'a> {
    pub analyst: &'a str,
    /// `approve`, `edit`, `publish`, ...
    pub action: &'a str,
    /// What it was done to, e.g. `INV-12`.
    pub subject: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub note: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalystLogEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub analyst: String,
    pub action: String,
    pub subject: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub note: Option<String>,
}

impl Store {
    pub fn append_analyst_log(
        &mut self,
        entry: &NewLogEntry<'_>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        insert_log_entry(&self.conn, &self.path, entry, now)
    }

    /// Entries oldest first, for one subject or all; at most `limit`, the newest kept.
    pub fn analyst_log(&self, subject: Option<&str>, limit: usize) -> Result<Vec<AnalystLogEntry>> {
        const OP: &str = "reading the analyst log";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .conn
            .prepare_cached(
                "SELECT id, at, analyst, action, subject, before, after, note FROM (
                     SELECT * FROM analyst_log WHERE ?1 IS NULL OR subject = ?1
                     ORDER BY id DESC LIMIT ?2)
                 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map(params![subject, limit], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, Option<String>>(7)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql_err(&self.path, OP))?;
        rows.into_iter()
            .map(|(id, at, analyst, action, subject, before, after, note)| {
                Ok(AnalystLogEntry {
                    id,
                    at: from_ms(&self.path, OP, at)?,
                    analyst,
                    action,
                    subject,
                    before,
                    after,
                    note,
                })
            })
            .collect()
    }
}

/// Appends inside the caller's transaction, so a log entry commits with the
/// change it records.
pub(super) fn insert_log_entry(
    conn: &Connection,
    path: &str,
    entry: &NewLogEntry<'_>,
    now: DateTime<Utc>,
) -> Result<i64> {
    const OP: &str = "appending to the analyst log";
    for (field, value) in [
        ("analyst", entry.analyst),
        ("action", entry.action),
        ("subject", entry.subject),
    ] {
        if value.trim().is_empty() {
            return Err(StoreError::InvalidInput {
                path: path.to_owned(),
                operation: OP,
                detail: format!("the {field} is empty"),
            });
        }
    }
    conn.prepare_cached(
        "INSERT INTO analyst_log (at, analyst, action, subject, before, after, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut s| {
        s.execute(params![
            to_ms(now),
            entry.analyst,
            entry.action,
            entry.subject,
            entry.before,
            entry.after,
            entry.note
        ])
    })
    .map_err(sql_err(path, OP))?;
    Ok(conn.last_insert_rowid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_appended_and_read_per_subject() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Utc::now();
        for subject in ["INV-1", "INV-2", "INV-1"] {
            store
                .append_analyst_log(
                    &NewLogEntry {
                        analyst: "alice",
                        action: "publish",
                        subject,
                        before: None,
                        after: None,
                        note: None,
                    },
                    now,
                )
                .unwrap();
        }
        assert_eq!(store.analyst_log(Some("INV-1"), 10).unwrap().len(), 2);
        let last = store.analyst_log(None, 1).unwrap();
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].id, 3);
        let err = store
            .append_analyst_log(
                &NewLogEntry {
                    analyst: " ",
                    action: "approve",
                    subject: "INV-1",
                    before: None,
                    after: None,
                    note: None,
                },
                now,
            )
            .unwrap_err();
        assert!(err.to_string().contains("the analyst is empty"), "{err}");
    }
}
