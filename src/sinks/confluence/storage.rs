//! Confluence storage format (XHTML with `ac:` macros), written with a real
//! XML writer.
//!
//! Attacker text (anything from an audit log or a model) only ever becomes
//! escaped character data: in element text, table cells, or the CDATA body
//! of a code macro (with `]]>` split across sections). It is never an
//! attribute, never an `ac:parameter`, never a macro name. The macros this
//! builder emits, and their parameter values, come from the enums below.
//! Characters XML 1.0 forbids, and invisible or reordering ones, are
//! replaced with visible escapes (see [`crate::sanitize`]).

use std::borrow::Cow;

use quick_xml::Writer;
use quick_xml::events::{BytesCData, BytesEnd, BytesStart, BytesText, Event};

use crate::sanitize::sanitize_multiline;

/// Longest text kept in one paragraph or cell.
const MAX_TEXT_CHARS: usize = 16_384;
/// Longest code block (raw JSON of an event, a timeline).
const MAX_CODE_CHARS: usize = 1_000_000;

/// The macros a storage document from soc-tui may contain; a test parses
/// the output and checks no other macro appears.
pub const OUR_MACROS: [&str; 2] = ["code", "status"];

/// `language` of a code macro.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeLanguage {
    Json,
    Text,
}

impl CodeLanguage {
    fn as_str(self) -> &'static str {
        match self {
            CodeLanguage::Json => "json",
            CodeLanguage::Text => "text",
        }
    }
}

/// `colour` of a status lozenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusColour {
    Grey,
    Red,
    Yellow,
    Green,
    Blue,
}

impl StatusColour {
    fn as_str(self) -> &'static str {
        match self {
            StatusColour::Grey => "Grey",
            StatusColour::Red => "Red",
            StatusColour::Yellow => "Yellow",
            StatusColour::Green => "Green",
            StatusColour::Blue => "Blue",
        }
    }
}

/// The words a status lozenge may show: a fixed set, so no attacker or
/// model text can reach a macro parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusLabel {
    LikelyMalicious,
    Suspicious,
    Misconfiguration,
    Benign,
    Inconclusive,
    Draft,
    Approved,
}

impl StatusLabel {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusLabel::LikelyMalicious => "likely malicious",
            StatusLabel::Suspicious => "suspicious",
            StatusLabel::Misconfiguration => "misconfiguration",
            StatusLabel::Benign => "benign",
            StatusLabel::Inconclusive => "inconclusive",
            StatusLabel::Draft => "draft",
            StatusLabel::Approved => "approved",
        }
    }
}

/// Builds a storage-format body. Each call appends one block.
pub struct StorageDoc {
    writer: Writer<Vec<u8>>,
}

impl Default for StorageDoc {
    fn default() -> Self {
        StorageDoc::new()
    }
}

impl StorageDoc {
    pub fn new() -> StorageDoc {
        StorageDoc {
            writer: Writer::new(Vec::new()),
        }
    }

    /// `<hN>`; levels outside 1..=6 are clamped.
    pub fn heading(mut self, level: u8, text: &str) -> StorageDoc {
        let tag = format!("h{}", level.clamp(1, 6));
        self.element(&tag, text);
        self
    }

    pub fn paragraph(mut self, text: &str) -> StorageDoc {
        self.element("p", text);
        self
    }

    /// A paragraph holding a status lozenge, then `text`.
    pub fn status(mut self, colour: StatusColour, label: StatusLabel, text: &str) -> StorageDoc {
        self.start("p");
        self.structured_macro(
            "status",
            &[("colour", colour.as_str()), ("title", label.as_str())],
            None,
        );
        if !text.is_empty() {
            self.text(&format!(" {text}"));
        }
        self.end("p");
        self
    }

    pub fn bullet_list<S: AsRef<str>>(mut self, items: &[S]) -> StorageDoc {
        self.start("ul");
        for item in items {
            self.element("li", item.as_ref());
        }
        self.end("ul");
        self
    }

    /// A table with a header row; short rows are padded with empty cells.
    pub fn table<H: AsRef<str>, C: AsRef<str>>(
        mut self,
        headers: &[H],
        rows: &[Vec<C>],
    ) -> StorageDoc {
        self.start("table");
        self.start("tbody");
        self.start("tr");
        for header in headers {
            self.element("th", header.as_ref());
        }
        self.end("tr");
        for row in rows {
            self.start("tr");
            for column in 0..headers.len().max(row.len()) {
                self.element("td", row.get(column).map(AsRef::as_ref).unwrap_or(""));
            }
            self.end("tr");
        }
        self.end("tbody");
        self.end("table");
        self
    }

    /// A code macro; `text` goes into its CDATA body verbatim except for
    /// characters XML cannot carry.
    pub fn code_block(mut self, language: CodeLanguage, text: &str) -> StorageDoc {
        let safe = xml_safe(sanitize_multiline(text, MAX_CODE_CHARS));
        self.structured_macro("code", &[("language", language.as_str())], Some(&safe));
        self
    }

    pub fn finish(self) -> String {
        // Every piece written was a `&str`, so the bytes are UTF-8.
        String::from_utf8_lossy(&self.writer.into_inner()).into_owned()
    }

    fn emit(&mut self, event: Event<'_>) {
        // Writing into a Vec cannot fail.
        let _ = self.writer.write_event(event);
    }

    fn start(&mut self, tag: &str) {
        self.emit(Event::Start(BytesStart::new(tag)));
    }

    fn end(&mut self, tag: &str) {
        self.emit(Event::End(BytesEnd::new(tag)));
    }

    fn text(&mut self, text: &str) {
        let safe = xml_safe(sanitize_multiline(text, MAX_TEXT_CHARS));
        self.emit(Event::Text(BytesText::new(&safe)));
    }

    fn element(&mut self, tag: &str, text: &str) {
        self.start(tag);
        self.text(text);
        self.end(tag);
    }

    /// `parameters` are `(name, value)` pairs from our own enums.
    fn structured_macro(&mut self, name: &str, parameters: &[(&str, &str)], body: Option<&str>) {
        self.emit(Event::Start(
            BytesStart::new("ac:structured-macro")
                .with_attributes([("ac:name", name), ("ac:schema-version", "1")]),
        ));
        for (parameter, value) in parameters {
            self.emit(Event::Start(
                BytesStart::new("ac:parameter").with_attributes([("ac:name", *parameter)]),
            ));
            self.emit(Event::Text(BytesText::new(value)));
            self.end("ac:parameter");
        }
        if let Some(body) = body {
            self.start("ac:plain-text-body");
            for section in BytesCData::escaped(body) {
                self.emit(Event::CData(section));
            }
            self.end("ac:plain-text-body");
        }
        self.end("ac:structured-macro");
    }
}

/// Replaces what XML 1.0 cannot carry even escaped (`sanitize` already
/// rewrote controls; the noncharacters U+FFFE and U+FFFF remain).
fn xml_safe(text: Cow<'_, str>) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c.to_string(),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                format!("\\u{{{:x}}}", c as u32)
            }
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_macros_are_ours() {
        let out = StorageDoc::new()
            .heading(2, "Tom & <Jerry>")
            .status(StatusColour::Red, StatusLabel::LikelyMalicious, "0.91")
            .finish();
        assert_eq!(
            out,
            "<h2>Tom &amp; &lt;Jerry&gt;</h2><p><ac:structured-macro ac:name=\"status\" \
             ac:schema-version=\"1\"><ac:parameter ac:name=\"colour\">Red</ac:parameter>\
             <ac:parameter ac:name=\"title\">likely malicious</ac:parameter>\
             </ac:structured-macro> 0.91</p>"
        );
    }

    #[test]
    fn cdata_end_is_split() {
        let out = StorageDoc::new()
            .code_block(CodeLanguage::Json, "{\"a\":\"]]><x>\"}")
            .finish();
        assert!(
            out.contains("<![CDATA[{\"a\":\"]]]]><![CDATA[><x>\"}]]>"),
            "{out}"
        );
    }

    #[test]
    fn forbidden_characters_become_visible() {
        let out = StorageDoc::new()
            .paragraph("a\u{0}b\u{1b}c\u{FFFF}d\u{202e}e")
            .finish();
        assert_eq!(out, "<p>a\\x00b\\x1bc\\u{ffff}d\\u{202e}e</p>");
    }

    #[test]
    fn tables_pad_short_rows() {
        let out = StorageDoc::new()
            .table(&["time", "what"], &[vec!["11:02"]])
            .finish();
        assert_eq!(
            out,
            "<table><tbody><tr><th>time</th><th>what</th></tr><tr><td>11:02</td><td></td></tr></tbody></table>"
        );
    }
}
