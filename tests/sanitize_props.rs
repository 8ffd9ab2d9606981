//! Property tests for `soc_tui::sanitize`: whatever an attacker puts in an
//! audit-log field, no control or invisible format character reaches the
//! terminal, clean text is borrowed untouched, and output length is bounded.

use std::borrow::Cow;

use proptest::prelude::*;
use proptest::sample::select;
use soc_tui::sanitize::{sanitize, sanitize_multiline, sanitize_with_limit};

/// Stated independently of the implementation: Cc, Cf, Zl, Zp (Unicode 14
/// through 16), the BiDi, zero-width and invisible characters named in the
/// issue, Hangul fillers and the variation selectors that are never kept.
fn forbidden(c: char) -> bool {
    matches!(c as u32,
        0x00..=0x1f | 0x7f..=0x9f
        | 0xad | 0x34f | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x890..=0x891 | 0x8e2
        | 0x115f | 0x1160 | 0x3164 | 0xffa0
        | 0x180e | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f
        | 0xfe00..=0xfe0d | 0xfeff | 0xfff9..=0xfffb
        | 0x110bd | 0x110cd | 0x13430..=0x1343f | 0x1bca0..=0x1bca3 | 0x1d173..=0x1d17a
        | 0xe0001 | 0xe0020..=0xe007f | 0xe0100..=0xe01ef
    )
}

fn is_presentation_selector(c: char) -> bool {
    matches!(c, '\u{fe0e}' | '\u{fe0f}')
}

/// Checks the output of a sanitizer: no forbidden character, and presentation
/// selectors only right after a shown non-ASCII character.
fn assert_terminal_safe(out: &str, keep_newlines: bool) -> Result<(), TestCaseError> {
    let mut prev: Option<char> = None;
    for c in out.chars() {
        if !(keep_newlines && c == '\n') {
            prop_assert!(!forbidden(c), "U+{:04X} survived in {out:?}", c as u32);
        }
        if is_presentation_selector(c) {
            let base = prev.is_some_and(|p| !p.is_ascii() && !is_presentation_selector(p));
            prop_assert!(base, "stray U+{:04X} survived in {out:?}", c as u32);
        }
        prev = Some(c);
    }
    Ok(())
}

/// Upper bound on the output of a `max_chars` limit for an input of
/// `input_chars` characters: the limit plus the longest possible marker.
fn bound(max_chars: usize, input_chars: usize) -> usize {
    max_chars.saturating_add("…[+ chars]".chars().count() + input_chars.to_string().len())
}

/// Characters attackers use, mixed with ordinary ones.
fn hostile_char() -> impl Strategy<Value = char> {
    let named = select(vec![
        '\x1b',
        '\x07',
        '\0',
        '\n',
        '\r',
        '\t',
        '\x7f',
        '\u{9b}',
        '\u{9c}',
        '\u{9d}',
        '\u{90}',
        '\u{9f}',
        '\u{85}',
        '\u{202e}',
        '\u{202a}',
        '\u{2066}',
        '\u{2069}',
        '\u{200e}',
        '\u{61c}',
        '\u{200b}',
        '\u{200d}',
        '\u{2060}',
        '\u{2064}',
        '\u{feff}',
        '\u{180e}',
        '\u{2028}',
        '\u{2029}',
        '\u{ad}',
        '\u{3164}',
        '\u{e0041}',
        '\u{e0100}',
        '\u{fe00}',
        '\u{fe0e}',
        '\u{fe0f}',
        '\u{fe0f}',
        '[',
        ']',
        '\\',
        ';',
        'P',
        '_',
        '^',
        'X',
        '⚠',
        '東',
        'é',
        '🔥',
    ]);
    prop_oneof![
        3 => named,
        2 => any::<char>(),
        2 => (0x20u8..0x7f).prop_map(char::from),
        1 => (0u32..0x300).prop_filter_map("not a char", char::from_u32),
    ]
}

fn hostile_string() -> impl Strategy<Value = String> {
    prop::collection::vec(hostile_char(), 0..80).prop_map(String::from_iter)
}

/// One hostile character inside long printable-ASCII runs, so it also lands
/// in the middle of the clean path's chunked scan.
fn sparse_hostile_string() -> impl Strategy<Value = String> {
    ("[ -~]{0,70}", hostile_char(), "[ -~]{0,70}").prop_map(|(a, c, b)| format!("{a}{c}{b}"))
}

/// Raw bytes biased towards escape introducers and the UTF-8 lead bytes of
/// C1 controls and BiDi overrides, decoded the way an ingest path would.
fn lossy_bytes() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        2 => any::<u8>().prop_map(|b| vec![b]),
        1 => select(vec![
            vec![0x1b, b'['], vec![0x1b, b']', b'5', b'2', b';'], vec![0x07], vec![0xc2, 0x9b],
            vec![0xc2, 0x9d], vec![0xc2], vec![0xe2, 0x80, 0xae], vec![0xe2, 0x80], vec![0x9b],
            vec![0xef, 0xbb, 0xbf], vec![0xf3, 0xa0, 0x80, 0x81], vec![0xff],
        ]),
    ];
    prop::collection::vec(piece, 0..60)
        .prop_map(|pieces| String::from_utf8_lossy(&pieces.concat()).into_owned())
}

fn limit() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 0usize..100, 1 => Just(usize::MAX)]
}

/// Text that needs no rewriting: printable ASCII, ordinary letters, emoji
/// with their presentation selector, newlines only in multi-line mode.
fn clean_string(newlines: bool) -> impl Strategy<Value = String> {
    let extra = if newlines { "\n" } else { "" };
    let token = prop_oneof![
        4 => (0x20u8..0x7f).prop_map(|b| char::from(b).to_string()),
        1 => select(vec!["é", "東京", "🔥", "⚠\u{fe0f}", "❤\u{fe0e}", "Ω", "\u{a0}", "\u{fffd}"])
            .prop_map(str::to_owned),
        1 => Just(extra.to_owned()),
    ];
    prop::collection::vec(token, 0..80).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_dangerous_char_survives(
        s in prop_oneof![hostile_string(), sparse_hostile_string()],
        max in limit(),
    ) {
        assert_terminal_safe(&sanitize(&s), false)?;
        assert_terminal_safe(&sanitize_with_limit(&s, max), false)?;
        assert_terminal_safe(&sanitize_multiline(&s, max), true)?;
    }

    #[test]
    fn no_dangerous_char_survives_lossy_bytes(s in lossy_bytes(), max in limit()) {
        assert_terminal_safe(&sanitize_with_limit(&s, max), false)?;
        assert_terminal_safe(&sanitize_multiline(&s, max), true)?;
    }

    #[test]
    fn output_is_a_fixed_point(s in hostile_string()) {
        let once = sanitize_with_limit(&s, usize::MAX);
        prop_assert!(matches!(sanitize_with_limit(&once, usize::MAX), Cow::Borrowed(_)));
        let once = sanitize_multiline(&s, usize::MAX);
        prop_assert!(matches!(sanitize_multiline(&once, usize::MAX), Cow::Borrowed(_)));
    }

    #[test]
    fn borrowed_exactly_when_unchanged(s in hostile_string(), max in limit()) {
        for out in [sanitize_with_limit(&s, max), sanitize_multiline(&s, max)] {
            prop_assert_eq!(matches!(out, Cow::Borrowed(_)), out == s);
        }
    }

    #[test]
    fn clean_text_is_borrowed(s in clean_string(false), ml in clean_string(true)) {
        prop_assert!(matches!(sanitize_with_limit(&s, usize::MAX), Cow::Borrowed(x) if x == s));
        prop_assert!(matches!(sanitize_multiline(&ml, usize::MAX), Cow::Borrowed(x) if x == ml));
    }

    #[test]
    fn printable_ascii_passes_through(s in "[ -~]{0,200}", max in 0usize..250) {
        let out = sanitize_with_limit(&s, max);
        if s.len() <= max {
            prop_assert!(matches!(out, Cow::Borrowed(x) if x == s));
        } else {
            let expected = format!("{}…[+{} chars]", &s[..max], s.len() - max);
            let expected = expected.replace("[+1 chars]", "[+1 char]");
            prop_assert_eq!(out, expected);
        }
    }

    #[test]
    fn truncation_is_a_bounded_prefix_plus_marker(
        s in prop_oneof![hostile_string(), lossy_bytes()],
        max in 0usize..100,
    ) {
        let input_chars = s.chars().count();
        for (out, full) in [
            (sanitize_with_limit(&s, max), sanitize_with_limit(&s, usize::MAX)),
            (sanitize_multiline(&s, max), sanitize_multiline(&s, usize::MAX)),
        ] {
            let out_chars = out.chars().count();
            prop_assert!(out_chars <= bound(max, input_chars), "{out:?} over {max}");
            if out == full {
                prop_assert!(out_chars <= max);
                continue;
            }
            // Truncated: a prefix of the full rendering that fits, then the marker.
            let marker_at = out.rfind("…[+");
            prop_assert!(marker_at.is_some(), "no marker in {out:?}");
            let (kept, marker) = out.split_at(marker_at.unwrap_or_default());
            prop_assert!(full.starts_with(kept));
            prop_assert!(kept.chars().count() <= max);
            let omitted: usize = marker
                .trim_start_matches("…[+")
                .trim_end_matches(" chars]")
                .trim_end_matches(" char]")
                .parse()
                .map_err(|e| TestCaseError::fail(format!("marker {marker:?}: {e}")))?;
            prop_assert!((1..=input_chars).contains(&omitted), "{marker:?} for {input_chars}");
        }
    }
}
