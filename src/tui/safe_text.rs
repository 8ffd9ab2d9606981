//! Text that is safe to draw: the only way to build one is through
//! [`crate::sanitize`], so a view model cannot carry raw audit-log text to
//! the screen by mistake.

use std::fmt;

use crate::sanitize::{DEFAULT_MAX_CHARS, sanitize_multiline, sanitize_with_limit};

/// Cap for multi-line text (raw JSON, report bodies): large enough that a
/// 1 MB field stays whole in the detail pane, small enough to bound memory.
pub const MULTILINE_MAX_CHARS: usize = 4 << 20;

/// Sanitized text. Single-line values never contain a line break; multi-line
/// values contain only `\n` breaks. Neither contains a control character,
/// BiDi control or invisible character (see [`crate::sanitize`]).
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SafeText(String);

impl SafeText {
    /// One line, capped at [`DEFAULT_MAX_CHARS`].
    pub fn new(raw: &str) -> SafeText {
        SafeText(sanitize_with_limit(raw, DEFAULT_MAX_CHARS).into_owned())
    }

    /// One line, capped at `max_chars`.
    pub fn with_limit(raw: &str, max_chars: usize) -> SafeText {
        SafeText(sanitize_with_limit(raw, max_chars).into_owned())
    }

    /// Several lines, capped at [`MULTILINE_MAX_CHARS`].
    pub fn multiline(raw: &str) -> SafeText {
        SafeText(sanitize_multiline(raw, MULTILINE_MAX_CHARS).into_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn lines(&self) -> std::str::Lines<'_> {
        self.0.lines()
    }
}

impl fmt::Display for SafeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Debug shows the length only: values can be large and are audit-log data.
impl fmt::Debug for SafeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SafeText({} bytes)", self.0.len())
    }
}

impl From<&str> for SafeText {
    fn from(raw: &str) -> SafeText {
        SafeText::new(raw)
    }
}

impl From<String> for SafeText {
    fn from(raw: String) -> SafeText {
        SafeText::new(&raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_inert_and_breaks_follow_the_kind() {
        assert_eq!(
            SafeText::new("a\x1b]52;c;QQ==\x07\nb").as_str(),
            "a\\x1b]52;c;QQ==\\x07\\nb"
        );
        assert_eq!(
            SafeText::multiline("a\nb\u{202e}").as_str(),
            "a\nb\\u{202e}"
        );
        assert_eq!(SafeText::with_limit("abcdef", 3).as_str(), "abc…[+3 chars]");
    }

    #[test]
    fn debug_does_not_print_the_text() {
        assert_eq!(
            format!("{:?}", SafeText::new("secret-ish")),
            "SafeText(10 bytes)"
        );
    }
}
