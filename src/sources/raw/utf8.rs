//! Locating invalid UTF-8 without shifting byte offsets.

use std::borrow::Cow;

/// Text with every byte of every invalid UTF-8 sequence replaced by `?`,
/// plus the offset where each invalid sequence starts.
///
/// The replacement is one byte for one byte, so offsets in the repaired text
/// are offsets in the original: an entry's byte range tells whether it held
/// invalid bytes. `?` cannot complete JSON syntax that was not there (it is
/// invalid outside a string), so the repaired text is valid JSON exactly
/// where the original was valid apart from its encoding.
pub(crate) fn repair(bytes: &[u8]) -> (Cow<'_, str>, Vec<usize>) {
    let first_error = match std::str::from_utf8(bytes) {
        Ok(text) => return (Cow::Borrowed(text), Vec::new()),
        Err(e) => e,
    };
    let mut fixed = bytes.to_vec();
    let mut bad = Vec::new();
    let mut start = 0;
    let mut error = Some(first_error);
    while let Some(e) = error {
        let at = start + e.valid_up_to();
        // `None`: the input ends inside a sequence; the rest is invalid.
        let len = e.error_len().unwrap_or(bytes.len() - at);
        bad.push(at);
        fixed[at..at + len].fill(b'?');
        start = at + len;
        error = std::str::from_utf8(&bytes[start..]).err();
    }
    // Every invalid byte was replaced by ASCII, so this cannot fail; fall
    // back to a lossy copy rather than panic if it ever did.
    let text = String::from_utf8(fixed)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    (Cow::Owned(text), bad)
}

/// The first invalid-sequence offset inside `start..end`, if any.
pub(crate) fn first_bad_in(bad: &[usize], start: usize, end: usize) -> Option<usize> {
    let i = bad.partition_point(|&offset| offset < start);
    bad.get(i).copied().filter(|&offset| offset < end)
}

/// Where `inner` starts inside `outer`, when it is a subslice of it.
pub(crate) fn offset_within(outer: &str, inner: &str) -> Option<usize> {
    let outer_start = outer.as_ptr() as usize;
    let inner_start = inner.as_ptr() as usize;
    let offset = inner_start.checked_sub(outer_start)?;
    (offset + inner.len() <= outer.len()).then_some(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_text_is_borrowed() {
        let (text, bad) = repair("héllo".as_bytes());
        assert!(matches!(text, Cow::Borrowed("héllo")));
        assert!(bad.is_empty());
    }

    #[test]
    fn invalid_sequences_are_replaced_in_place() {
        let input = b"a\xffb\xe2\x82c\xf0\x9f\x98";
        let (text, bad) = repair(input);
        assert_eq!(text.len(), input.len());
        assert_eq!(text, "a?b??c???");
        assert_eq!(bad, vec![1, 3, 6]);
    }

    #[test]
    fn ranges_find_their_bad_bytes() {
        let bad = [3, 10, 20];
        assert_eq!(first_bad_in(&bad, 0, 3), None);
        assert_eq!(first_bad_in(&bad, 0, 4), Some(3));
        assert_eq!(first_bad_in(&bad, 4, 21), Some(10));
        assert_eq!(first_bad_in(&bad, 21, 99), None);
    }

    #[test]
    fn offsets_only_for_subslices() {
        let outer = "0123456789";
        assert_eq!(offset_within(outer, &outer[3..7]), Some(3));
        assert_eq!(offset_within(outer, "elsewhere"), None);
    }
}
