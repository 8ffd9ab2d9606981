//! Renders a report's layout ([`Block`]s) for a medium: terminal text,
//! Markdown, or Confluence storage-format XHTML. Each renderer escapes
//! every string for its medium, since report text quotes event fields.

use std::fmt::Write as _;

use crate::detect::markdown_escape;
use crate::sanitize::{sanitize, sanitize_with_limit};
use crate::sinks::confluence::StorageDoc;

/// Longest cell in a table; the stored report keeps the full value.
const CELL_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Title(String),
    Heading(String),
    Paragraph(String),
    /// Highlighted: the model's answer was discarded, or a fallback happened.
    Warning(String),
    /// `label: value` lines.
    Fields(Vec<(String, String)>),
    List(Vec<String>),
    Numbered(Vec<String>),
    Table {
        headers: Vec<String>,
        rows: Vec<Vec<Cell>>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// Identifiers and figures, shown in a fixed-width font where the medium has one.
    Mono(String),
}

impl Cell {
    fn text(&self) -> &str {
        match self {
            Cell::Text(t) | Cell::Mono(t) => t,
        }
    }
}

/// Plain text for a terminal: every string sanitized.
pub fn to_text(doc: &[Block]) -> String {
    let mut out = String::new();
    for block in doc {
        match block {
            Block::Title(t) => {
                let t = sanitize(t);
                let _ = writeln!(out, "{t}\n{}", "=".repeat(t.chars().count().min(100)));
            }
            Block::Heading(h) => {
                let _ = writeln!(out, "\n{}", sanitize(h));
            }
            Block::Paragraph(p) => {
                let _ = writeln!(out, "{}", sanitize(p));
            }
            Block::Warning(w) => {
                let _ = writeln!(out, "! {}", sanitize(w));
            }
            Block::Fields(fields) => {
                for (k, v) in fields {
                    let _ = writeln!(out, "{}: {}", sanitize(k), sanitize(v));
                }
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(out, "  - {}", sanitize(item));
                }
            }
            Block::Numbered(items) => {
                for (i, item) in items.iter().enumerate() {
                    let _ = writeln!(out, "  {}. {}", i + 1, sanitize(item));
                }
            }
            Block::Table { headers, rows } => {
                let _ = writeln!(out, "  {}", headers.join(" | "));
                for row in rows {
                    let cells: Vec<String> = row
                        .iter()
                        .map(|c| sanitize_with_limit(c.text(), CELL_CHARS).into_owned())
                        .collect();
                    let _ = writeln!(out, "  {}", cells.join(" | "));
                }
            }
        }
    }
    out
}

fn md(text: &str) -> String {
    markdown_escape(text)
}

/// CommonMark (GitHub-flavoured tables): every string through [`markdown_escape`].
pub fn to_markdown(doc: &[Block]) -> String {
    let mut out = String::new();
    for block in doc {
        match block {
            Block::Title(t) => {
                let _ = writeln!(out, "# {}\n", md(t));
            }
            Block::Heading(h) => {
                let _ = writeln!(out, "## {}\n", md(h));
            }
            Block::Paragraph(p) => {
                let _ = writeln!(out, "{}\n", md(p));
            }
            Block::Warning(w) => {
                let _ = writeln!(out, "> **Warning:** {}\n", md(w));
            }
            Block::Fields(fields) => {
                for (k, v) in fields {
                    let _ = writeln!(out, "- **{}:** {}", md(k), md(v));
                }
                out.push('\n');
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(out, "- {}", md(item));
                }
                out.push('\n');
            }
            Block::Numbered(items) => {
                for (i, item) in items.iter().enumerate() {
                    let _ = writeln!(out, "{}. {}", i + 1, md(item));
                }
                out.push('\n');
            }
            Block::Table { headers, rows } => {
                let head: Vec<String> = headers.iter().map(|h| md(h)).collect();
                let _ = writeln!(out, "| {} |", head.join(" | "));
                let _ = writeln!(out, "|{}", " --- |".repeat(headers.len()));
                for row in rows {
                    let cells: Vec<String> = row
                        .iter()
                        .map(|c| md(&sanitize_with_limit(c.text(), CELL_CHARS)))
                        .collect();
                    let _ = writeln!(out, "| {} |", cells.join(" | "));
                }
                out.push('\n');
            }
        }
    }
    out
}

/// Confluence storage format (XHTML), written by the sinks' XML writer so
/// every value is escaped and no attacker text can become a macro.
pub fn to_storage_doc(doc: &[Block]) -> StorageDoc {
    doc.iter()
        .fold(StorageDoc::new(), |page, block| match block {
            Block::Title(t) => page.heading(1, t),
            Block::Heading(h) => page.heading(2, h),
            Block::Paragraph(p) => page.paragraph(p),
            Block::Warning(w) => page.paragraph(&format!("\u{26a0} {w}")),
            Block::Fields(fields) => {
                let lines: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                page.bullet_list(&lines)
            }
            Block::List(items) => page.bullet_list(items),
            Block::Numbered(items) => {
                let lines: Vec<String> = items
                    .iter()
                    .enumerate()
                    .map(|(n, item)| format!("{}. {item}", n + 1))
                    .collect();
                page.bullet_list(&lines)
            }
            Block::Table { headers, rows } => {
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|row| {
                        row.iter()
                            .map(|cell| sanitize_with_limit(cell.text(), CELL_CHARS).into_owned())
                            .collect()
                    })
                    .collect();
                page.table(headers, &cells)
            }
        })
}

/// [`to_storage_doc`] as the XHTML text.
pub fn to_storage(doc: &[Block]) -> String {
    to_storage_doc(doc).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hostile_doc() -> Vec<Block> {
        let evil = "<script>alert(1)</script> [x](http://e.vil) \u{1b}]52;c;AAAA\u{7} | # h";
        vec![
            Block::Title(evil.into()),
            Block::Paragraph(evil.into()),
            Block::Table {
                headers: vec!["A".into()],
                rows: vec![vec![Cell::Text(evil.into()), Cell::Mono(evil.into())]],
            },
        ]
    }

    #[test]
    fn no_medium_lets_attacker_text_become_markup_or_escape_codes() {
        let doc = hostile_doc();
        let text = to_text(&doc);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text}"
        );
        let markdown = to_markdown(&doc);
        assert!(
            !markdown.contains("<script>") && !markdown.contains("](http"),
            "{markdown}"
        );
        assert!(!markdown.contains('\u{1b}'));
        // The only unescaped pipes are the table's own.
        let row = markdown.lines().find(|l| l.contains("script")).unwrap();
        assert!(row.starts_with("# "), "{row}");
        let storage = to_storage(&doc);
        assert!(
            !storage.contains("<script>") && storage.contains("&lt;script&gt;"),
            "{storage}"
        );
        assert!(!storage.contains('\u{1b}'));
    }

    #[test]
    fn storage_output_escapes_values_and_holds_no_macro_of_theirs() {
        let doc = vec![
            Block::Title("t".into()),
            Block::Warning("<ac:structured-macro ac:name=\"html\">".into()),
            Block::Fields(vec![("k".into(), "v & w ]]>".into())]),
            Block::Numbered(vec!["one".into()]),
        ];
        let storage = to_storage(&doc);
        assert!(storage.starts_with("<h1>t</h1>"), "{storage}");
        assert!(!storage.contains("<ac:structured-macro"), "{storage}");
        assert!(storage.contains("&lt;ac:structured-macro"), "{storage}");
        assert!(
            storage.contains("<li>k: v &amp; w ]]&gt;</li>"),
            "{storage}"
        );
        assert!(storage.contains("<li>1. one</li>"), "{storage}");
    }
}
