//! Axiom's `format=tabular` query result: `tables[]`, each with `fields[]`
//! and column-major `columns[][]` aligned with the fields (see
//! `shared/specs/axiom/examples/apl_query_tabular.docs-example.json`).

use serde::Deserialize;
use serde_json::Value;

/// What `status` says about the query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryStatus {
    /// Axiom stopped before reading everything the query covers.
    pub is_partial: bool,
    pub rows_examined: Option<u64>,
    pub rows_matched: Option<u64>,
    /// Microseconds, as Axiom reports it.
    pub elapsed_time: Option<u64>,
}

/// One column of a result table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// Axiom's type name (`string`, `datetime`, `integer`, ...).
    pub kind: String,
}

/// One result table, column-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: String,
    pub fields: Vec<Field>,
    columns: Vec<Vec<Value>>,
    rows: usize,
}

impl Table {
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The cells of the field called `name`, one per row.
    pub fn column(&self, name: &str) -> Option<&[Value]> {
        let index = self.fields.iter().position(|f| f.name == name)?;
        self.columns.get(index).map(Vec::as_slice)
    }
}

/// A parsed `format=tabular` result.
#[derive(Debug, Clone, PartialEq)]
pub struct TabularResult {
    pub format: Option<String>,
    pub status: QueryStatus,
    pub tables: Vec<Table>,
}

impl TabularResult {
    /// Parses a response body. The error says what is wrong, never echoing
    /// cell values (they may be audit-log text).
    pub fn from_json(body: &[u8]) -> Result<TabularResult, String> {
        let wire: Wire =
            serde_json::from_slice(body).map_err(|e| format!("not a tabular APL result: {e}"))?;
        if let Some(format) = &wire.format
            && format != "tabular"
        {
            return Err(format!("expected format \"tabular\", got {format:?}"));
        }
        let tables = wire
            .tables
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, t)| t.into_table(i))
            .collect::<Result<Vec<_>, _>>()?;
        let status = wire.status.unwrap_or_default();
        Ok(TabularResult {
            format: wire.format,
            status: QueryStatus {
                is_partial: status.is_partial.unwrap_or(false),
                rows_examined: status.rows_examined,
                rows_matched: status.rows_matched,
                elapsed_time: status.elapsed_time,
            },
            tables,
        })
    }

    /// The query's result table: the first one not named `_totals` (a name
    /// Axiom reserves for its own totals table).
    pub fn primary_table(&self) -> Option<&Table> {
        self.tables.iter().find(|t| t.name != "_totals")
    }
}

#[derive(Deserialize)]
struct Wire {
    format: Option<String>,
    status: Option<StatusWire>,
    tables: Option<Vec<TableWire>>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusWire {
    is_partial: Option<bool>,
    rows_examined: Option<u64>,
    rows_matched: Option<u64>,
    elapsed_time: Option<u64>,
}

#[derive(Deserialize)]
struct TableWire {
    #[serde(default)]
    name: String,
    fields: Vec<FieldWire>,
    /// Absent or null for a table without rows.
    columns: Option<Vec<Vec<Value>>>,
}

#[derive(Deserialize)]
struct FieldWire {
    name: String,
    #[serde(rename = "type", default)]
    kind: String,
}

impl TableWire {
    fn into_table(self, index: usize) -> Result<Table, String> {
        let at = |what: String| format!("table {index} ({:?}): {what}", self.name);
        let fields: Vec<Field> = self
            .fields
            .into_iter()
            .map(|f| Field {
                name: f.name,
                kind: f.kind,
            })
            .collect();
        let columns = match self.columns {
            Some(columns) if !columns.is_empty() => columns,
            _ => vec![Vec::new(); fields.len()],
        };
        if columns.len() != fields.len() {
            return Err(at(format!(
                "{} columns for {} fields",
                columns.len(),
                fields.len()
            )));
        }
        let rows = columns.first().map_or(0, Vec::len);
        if let Some((i, c)) = columns.iter().enumerate().find(|(_, c)| c.len() != rows) {
            return Err(at(format!(
                "column {:?} has {} cells where the first has {rows}",
                fields[i].name,
                c.len()
            )));
        }
        Ok(Table {
            name: self.name,
            fields,
            columns,
            rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_major_cells_line_up_with_fields() {
        let body = br#"{"format":"tabular","status":{"isPartial":false,"rowsExamined":10,"elapsedTime":5},
            "tables":[{"name":"0","fields":[{"name":"a","type":"string"},{"name":"n","type":"integer"}],
            "columns":[["x","y"],[1,2]]}]}"#;
        let r = TabularResult::from_json(body).unwrap();
        assert_eq!(r.status.rows_examined, Some(10));
        assert!(!r.status.is_partial);
        let t = r.primary_table().unwrap();
        assert_eq!(t.rows(), 2);
        assert_eq!(t.column("a").unwrap()[1], "y");
        assert_eq!(t.column("n").unwrap()[0], 1);
        assert!(t.column("missing").is_none());
    }

    #[test]
    fn empty_tables_may_omit_columns() {
        for columns in ["", r#","columns":null"#, r#","columns":[]"#] {
            let body = format!(
                r#"{{"format":"tabular","status":{{}},"tables":[{{"name":"0","fields":[{{"name":"a","type":"string"}}]{columns}}}]}}"#
            );
            let r = TabularResult::from_json(body.as_bytes()).unwrap();
            let t = r.primary_table().unwrap();
            assert_eq!(t.rows(), 0);
            assert_eq!(t.column("a").unwrap().len(), 0);
        }
    }

    #[test]
    fn ragged_or_misaligned_tables_are_rejected() {
        let ragged = br#"{"tables":[{"name":"0","fields":[{"name":"a"},{"name":"b"}],"columns":[[1,2],[1]]}]}"#;
        let e = TabularResult::from_json(ragged).unwrap_err();
        assert!(
            e.contains("column \"b\" has 1 cells where the first has 2"),
            "{e}"
        );
        let short =
            br#"{"tables":[{"name":"0","fields":[{"name":"a"},{"name":"b"}],"columns":[[1]]}]}"#;
        assert!(
            TabularResult::from_json(short)
                .unwrap_err()
                .contains("1 columns for 2 fields")
        );
        let legacy = br#"{"format":"legacy","status":{},"matches":[]}"#;
        assert!(
            TabularResult::from_json(legacy)
                .unwrap_err()
                .contains("expected format \"tabular\"")
        );
        assert!(
            TabularResult::from_json(b"<html>")
                .unwrap_err()
                .starts_with("not a tabular APL result")
        );
    }

    #[test]
    fn totals_table_is_not_the_result() {
        let body = br#"{"tables":[{"name":"_totals","fields":[],"columns":[]},{"name":"0","fields":[{"name":"a"}],"columns":[[1]]}]}"#;
        assert_eq!(
            TabularResult::from_json(body)
                .unwrap()
                .primary_table()
                .unwrap()
                .name,
            "0"
        );
    }
}
