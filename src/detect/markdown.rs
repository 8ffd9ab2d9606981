//! Makes attacker-controlled text inert inside Markdown (Linear tickets).
//!
//! Actor emails, token names and resource names come from audit logs. Put
//! verbatim into a ticket body, `# ` would start a heading, `[x](http://…)`
//! a link, `<img …>` raw HTML and `@name` a mention. [`markdown_escape`] turns
//! such a string into text that renders as exactly the characters it holds,
//! on one line, inside any inline context except code spans (which never
//! receive attacker text: see the ticket builders).

use crate::sanitize::sanitize_with_limit;

/// Longest attacker string kept in a ticket; the evidence JSON has the rest.
pub const MAX_FIELD_CHARS: usize = 512;

/// Escapes `s` for inline Markdown.
///
/// 1. [`sanitize_with_limit`] first: control characters (including line
///    breaks, which could start a new block), BiDi overrides and invisible
///    characters become visible escapes, and the text is capped at
///    [`MAX_FIELD_CHARS`].
/// 2. Every ASCII punctuation character then gets a backslash. CommonMark
///    lets any ASCII punctuation be escaped and renders it literally, so this
///    covers emphasis, links, images, autolinks, HTML, headings, lists,
///    tables, code spans and mentions without reasoning about context.
pub fn markdown_escape(s: &str) -> String {
    let safe = sanitize_with_limit(s, MAX_FIELD_CHARS);
    let mut out = String::with_capacity(safe.len() + safe.len() / 4);
    for c in safe.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_characters_are_escaped() {
        assert_eq!(markdown_escape("# title"), "\\# title");
        assert_eq!(
            markdown_escape("[x](http://e.vil)"),
            "\\[x\\]\\(http\\:\\/\\/e\\.vil\\)"
        );
        assert_eq!(markdown_escape("<img src=x>"), "\\<img src\\=x\\>");
        assert_eq!(markdown_escape("a|b"), "a\\|b");
        assert_eq!(markdown_escape("@channel"), "\\@channel");
        assert_eq!(markdown_escape("`code`"), "\\`code\\`");
        assert_eq!(markdown_escape("plain text 42"), "plain text 42");
    }

    #[test]
    fn line_breaks_cannot_open_a_new_block() {
        let out = markdown_escape("ok\n# injected heading\r\n- item");
        assert!(!out.contains('\n') && !out.contains('\r'), "{out}");
        assert_eq!(out, "ok\\\\n\\# injected heading\\\\r\\\\n\\- item");
    }

    #[test]
    fn invisible_characters_are_made_visible() {
        let out = markdown_escape("evil\u{202e}txt");
        assert!(!out.contains('\u{202e}'));
    }

    #[test]
    fn long_fields_are_capped() {
        let out = markdown_escape(&"a".repeat(10_000));
        assert!(out.chars().count() < MAX_FIELD_CHARS + 40, "{}", out.len());
    }
}
