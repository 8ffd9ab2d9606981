//! Renders a report's layout ([`Block`]s) for a medium: terminal text,
//! Markdown, or Confluence storage-format XHTML. Each renderer escapes
//! every string for its medium, since report text quotes event fields.

use std::fmt::Write as _;

use crate::detect::markdown_escape;
use crate::sanitize::{sanitize, sanitize_with_limit};

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

/// Escapes text for XHTML element content and attribute values. Control
/// characters (not allowed in XML 1.0) are made visible by `sanitize` first.
pub fn xml_escape(text: &str) -> String {
    let safe = sanitize(text);
    let mut out = String::with_capacity(safe.len() + 16);
    for c in safe.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Confluence storage format (XHTML).
pub fn to_storage(doc: &[Block]) -> String {
    let x = xml_escape;
    let mut out = String::new();
    for block in doc {
        match block {
            Block::Title(t) => {
                let _ = write!(out, "<h1>{}</h1>", x(t));
            }
            Block::Heading(h) => {
                let _ = write!(out, "<h2>{}</h2>", x(h));
            }
            Block::Paragraph(p) => {
                let _ = write!(out, "<p>{}</p>", x(p));
            }
            Block::Warning(w) => {
                let _ = write!(
                    out,
                    "<ac:structured-macro ac:name=\"warning\"><ac:rich-text-body><p>{}</p>\
                     </ac:rich-text-body></ac:structured-macro>",
                    x(w)
                );
            }
            Block::Fields(fields) => {
                out.push_str("<ul>");
                for (k, v) in fields {
                    let _ = write!(out, "<li><strong>{}:</strong> {}</li>", x(k), x(v));
                }
                out.push_str("</ul>");
            }
            Block::List(items) | Block::Numbered(items) => {
                let tag = if matches!(block, Block::Numbered(_)) {
                    "ol"
                } else {
                    "ul"
                };
                let _ = write!(out, "<{tag}>");
                for item in items {
                    let _ = write!(out, "<li>{}</li>", x(item));
                }
                let _ = write!(out, "</{tag}>");
            }
            Block::Table { headers, rows } => {
                out.push_str("<table><tbody><tr>");
                for h in headers {
                    let _ = write!(out, "<th>{}</th>", x(h));
                }
                out.push_str("</tr>");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        let text = x(&sanitize_with_limit(cell.text(), CELL_CHARS));
                        match cell {
                            Cell::Text(_) => {
                                let _ = write!(out, "<td>{text}</td>");
                            }
                            Cell::Mono(_) => {
                                let _ = write!(out, "<td><code>{text}</code></td>");
                            }
                        }
                    }
                    out.push_str("</tr>");
                }
                out.push_str("</tbody></table>");
            }
        }
    }
    out
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
    fn storage_output_is_balanced_xhtml() {
        let doc = vec![
            Block::Title("t".into()),
            Block::Warning("w".into()),
            Block::Fields(vec![("k".into(), "v & w".into())]),
            Block::Numbered(vec!["one".into()]),
        ];
        let storage = to_storage(&doc);
        assert_eq!(
            storage,
            "<h1>t</h1><ac:structured-macro ac:name=\"warning\"><ac:rich-text-body><p>w</p>\
             </ac:rich-text-body></ac:structured-macro><ul><li><strong>k:</strong> v &amp; w</li>\
             </ul><ol><li>one</li></ol>"
        );
    }
}
