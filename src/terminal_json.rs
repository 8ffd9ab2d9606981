//! JSON for a terminal: what `--json` prints.
//!
//! serde_json escapes only `"`, `\` and C0 controls; DEL, C1 controls
//! (8-bit CSI, OSC) and BiDi overrides from an audit log would reach the
//! terminal raw. This writer also escapes every character the sanitizer
//! rewrites (`crate::sanitize`), plus the presentation selectors, as `\uXXXX`.
//! JSON escapes are lossless, so a parser reads back exactly the same data:
//! the output is still the data, only inert.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

use crate::sanitize::is_hazard;

/// `value` as pretty JSON that is safe to print to a terminal.
pub fn to_terminal_json<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(256);
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut out, TerminalSafe(PrettyFormatter::new()));
    value.serialize(&mut serializer)?;
    // Only whole `str` fragments and ASCII escapes were written.
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

fn escaped(c: char) -> bool {
    is_hazard(c) || matches!(c, '\u{fe0e}' | '\u{fe0f}')
}

struct TerminalSafe(PrettyFormatter<'static>);

impl Formatter for TerminalSafe {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if !escaped(c) {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn hostile_strings_are_escaped_and_read_back_unchanged() {
        let hostile = "a\u{1b}]52;c;QQ==\u{7}b\u{9b}31mc\u{7f}d\u{202e}gpj.exe\u{2066}\u{200b}\
                       \u{e0041}\u{fe0f}x ✓ é 日本";
        let value = json!({ "actor": hostile, hostile: [hostile, 1, null] });
        let text = to_terminal_json(&value).unwrap();
        for c in text.chars() {
            assert!(
                c == '\n' || !(c.is_control() || escaped(c)),
                "{c:?} left raw in {text}"
            );
        }
        assert!(
            text.contains("\\u009b") && text.contains("\\u202e"),
            "{text}"
        );
        assert!(
            text.contains("\\udb40\\udc41"),
            "astral tags as surrogate pairs: {text}"
        );
        assert!(
            text.contains("✓ é 日本"),
            "printable text stays as it is: {text}"
        );
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn plain_data_looks_like_serde_jsons_pretty_output() {
        let value = json!({"a": [1, 2], "b": {"c": "d"}, "e": []});
        assert_eq!(
            to_terminal_json(&value).unwrap(),
            serde_json::to_string_pretty(&value).unwrap()
        );
    }
}
