//! Makes attacker-controlled text (audit-log fields) safe for a terminal.
//! PLACEHOLDER: implemented by the sanitizer work item.

use std::borrow::Cow;

/// Default cap on a field's length before truncation.
pub const DEFAULT_MAX_CHARS: usize = 4096;

/// Makes `s` inert for a terminal and truncates it to [`DEFAULT_MAX_CHARS`].
pub fn sanitize(s: &str) -> Cow<'_, str> {
    sanitize_with_limit(s, DEFAULT_MAX_CHARS)
}

/// As [`sanitize`], with an explicit character limit.
pub fn sanitize_with_limit(s: &str, _max_chars: usize) -> Cow<'_, str> {
    Cow::Borrowed(s)
}
