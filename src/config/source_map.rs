//! Where each key of a parsed TOML document sits in the text.
//!
//! toml's deserialization errors carry a byte span but not (publicly) the key
//! path, and cross-field checks know a key path but no span. This index turns
//! either into the other so every config error names both key and line.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::error::Location;

/// One key (or array element) of the document.
#[derive(Debug)]
struct Entry {
    /// Dotted path as a user would write it: `s3.retention_days`, `cloudflare.account_ids[1]`.
    path: String,
    /// Span of the key itself; for array elements, the element.
    key: Range<usize>,
    /// Span of the value (for a `[table]`, whatever toml records for it).
    value: Range<usize>,
    /// The last key of `path`; `None` for array elements.
    name: Option<String>,
    holds_table: bool,
}

#[derive(Debug)]
pub(crate) struct SourceMap<'a> {
    text: &'a str,
    entries: Vec<Entry>,
}

impl<'a> SourceMap<'a> {
    pub(crate) fn index(text: &'a str, root: &DeTable<'_>) -> SourceMap<'a> {
        let mut entries = Vec::new();
        index_table(root, "", &mut entries);
        SourceMap { text, entries }
    }

    /// Keys that hold a value rather than a table, as (path, key name, key span),
    /// in no particular order.
    pub(crate) fn value_keys(&self) -> impl Iterator<Item = (&str, &str, Range<usize>)> {
        self.entries
            .iter()
            .filter(|entry| !entry.holds_table)
            .filter_map(|entry| {
                let name = entry.name.as_deref()?;
                Some((entry.path.as_str(), name, entry.key.clone()))
            })
    }

    /// Every key written in the file (tables, values and array elements) with its line.
    pub(crate) fn written_keys(&self) -> impl Iterator<Item = (&str, usize)> {
        self.entries
            .iter()
            .map(|entry| (entry.path.as_str(), self.location(entry.key.start).line))
    }

    /// The key an error at `offset` is about: the key written there, else the
    /// innermost value that contains it.
    pub(crate) fn key_at(&self, offset: usize) -> Option<&str> {
        if let Some(entry) = self
            .entries
            .iter()
            .find(|entry| entry.key.contains(&offset))
        {
            return Some(&entry.path);
        }
        self.entries
            .iter()
            .filter(|entry| entry.value.contains(&offset) || entry.value.start == offset)
            .min_by_key(|entry| entry.value.len())
            .map(|entry| entry.path.as_str())
    }

    /// Where `path` is written, if it is.
    pub(crate) fn key_span(&self, path: &str) -> Option<Range<usize>> {
        self.entries
            .iter()
            .find(|entry| entry.path == path)
            .map(|entry| entry.key.clone())
    }

    /// Where to point for `path`: the key if written, else its nearest written
    /// parent table (a default that conflicts is reported at its section).
    pub(crate) fn locate_key(&self, path: &str) -> Option<Location> {
        let mut candidate = path;
        loop {
            if let Some(span) = self.key_span(candidate) {
                return Some(self.location(span.start));
            }
            candidate = &candidate[..candidate.rfind('.')?];
        }
    }

    pub(crate) fn location(&self, offset: usize) -> Location {
        Location::of_offset(self.text, offset)
    }
}

fn index_table(table: &DeTable<'_>, prefix: &str, entries: &mut Vec<Entry>) {
    for (key, value) in table.iter() {
        let path = join_key(prefix, key.get_ref());
        entries.push(Entry {
            path: path.clone(),
            key: key.span(),
            value: value.span(),
            name: Some(key.get_ref().to_string()),
            holds_table: matches!(value.get_ref(), DeValue::Table(_)),
        });
        index_value(value.get_ref(), &path, entries);
    }
}

fn index_value(value: &DeValue<'_>, path: &str, entries: &mut Vec<Entry>) {
    match value {
        DeValue::Table(table) => index_table(table, path, entries),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                entries.push(Entry {
                    path: item_path.clone(),
                    key: item.span(),
                    value: item.span(),
                    name: None,
                    holds_table: matches!(item.get_ref(), DeValue::Table(_)),
                });
                index_value(item.get_ref(), &item_path, entries);
            }
        }
        _ => {}
    }
}

/// Appends `key` to a dotted path, quoting it the way TOML would if it is not bare.
pub(crate) fn join_key(prefix: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let key = if bare {
        key.to_owned()
    } else {
        format!("\"{}\"", key.escape_debug())
    };
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
[cloudflare]
account_ids = [\"a\", \"b\"]

[agents.\"my bot\"]
model = \"m\"

[s3]
retention_days = 0
";

    fn with_map(check: impl FnOnce(&SourceMap<'_>)) {
        let root = DeTable::parse(DOC).unwrap();
        let map = SourceMap::index(DOC, root.get_ref());
        check(&map);
    }

    #[test]
    fn finds_keys_and_their_lines() {
        with_map(|map| {
            assert_eq!(map.locate_key("s3.retention_days").unwrap().line, 8);
            assert_eq!(map.locate_key("cloudflare.account_ids").unwrap().line, 2);
            assert_eq!(map.locate_key("agents.\"my bot\".model").unwrap().line, 5);
        });
    }

    #[test]
    fn falls_back_to_the_section_for_unwritten_keys() {
        with_map(|map| {
            let location = map.locate_key("s3.object_lock_mode").unwrap();
            assert_eq!((location.line, location.column), (7, 2));
            assert!(map.locate_key("datadog.site").is_none());
        });
    }

    #[test]
    fn maps_offsets_back_to_keys_and_array_elements() {
        with_map(|map| {
            let second = DOC.find("\"b\"").unwrap();
            assert_eq!(map.key_at(second), Some("cloudflare.account_ids[1]"));
            let zero = DOC.rfind('0').unwrap();
            assert_eq!(map.key_at(zero), Some("s3.retention_days"));
            let key = DOC.find("retention_days").unwrap();
            assert_eq!(map.key_at(key), Some("s3.retention_days"));
        });
    }
}
