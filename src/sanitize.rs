//! Makes attacker-controlled text (audit-log fields) safe for a terminal.
//!
//! Every string that came from an audit log, a webhook or a remote API goes
//! through [`sanitize`] (one-line fields) or [`sanitize_multiline`] (the raw
//! JSON detail pane) before it is drawn.
//!
//! # What is rewritten
//!
//! - C0 controls U+0000-U+001F, DEL U+007F and C1 controls U+0080-U+009F.
//!   Escaping every ESC, BEL and C1 byte is what makes CSI, OSC (including
//!   OSC 52 clipboard writes), DCS, APC, PM and SOS sequences inert: without
//!   an introducer or terminator, the rest of a sequence is plain text, and
//!   nothing in the output can re-form one.
//! - Every other Unicode `Cc`/`Cf` character and every default-ignorable code
//!   point: BiDi embeddings, overrides, isolates and marks, the Arabic letter
//!   mark, zero-width space/joiners, word joiner and invisible operators,
//!   BOM, soft hyphen, Hangul fillers, Mongolian selectors, tag characters
//!   (used to smuggle invisible ASCII), line/paragraph separators U+2028/2029,
//!   interlinear annotation controls and prepended concatenation marks. These
//!   reorder or hide text, so `evil\u{202e}txt.exe` or an actor id with a
//!   hidden zero-width space could pass for something else.
//! - Variation selectors, except U+FE0E/U+FE0F directly after a non-ASCII
//!   character, where they pick text or emoji presentation (`⚠️`). Anywhere
//!   else they are invisible and could make two identical-looking actor
//!   emails differ.
//!
//! # Notation
//!
//! Rewritten characters use Rust string-literal escapes, so an analyst can
//! paste them into code: `\n`, `\r`, `\t`; `\xNN` (two lowercase hex digits)
//! for the other ASCII controls and DEL (ESC is `\x1b`); `\u{N}` (lowercase
//! hex, no padding) for everything else (8-bit CSI is `\u{9b}`, RLO is
//! `\u{202e}`). Backslashes in the input are printable and left as they are,
//! so a literal `\x1b` typed by an attacker looks the same as an escaped ESC:
//! the output is safe, not unambiguous.
//!
//! # Truncation
//!
//! Limits count output characters (an escape counts as its visible length).
//! When the text does not fit, the output stops at the last whole character
//! or escape that fits and ends with `…[+N chars]`, N being the number of
//! input characters left out.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Default cap on a field's length before truncation.
pub const DEFAULT_MAX_CHARS: usize = 4096;

/// Spaces a tab becomes in multi-line text. Fixed rather than aligned to tab
/// stops: alignment would need display widths, which this module leaves to
/// the renderer.
const TAB_SPACES: &str = "    ";

/// Printable-ASCII bytes checked at once on the clean path; small enough to
/// stay cheap on short fields, large enough for the compiler to vectorise.
const SCAN_CHUNK: usize = 16;

/// Makes `s` inert for a terminal and truncates it to [`DEFAULT_MAX_CHARS`].
///
/// For single-line fields: line breaks and tabs are escaped too.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    sanitize_with_limit(s, DEFAULT_MAX_CHARS)
}

/// As [`sanitize`], with an explicit character limit.
///
/// Borrows `s` when it needs no rewriting and fits in `max_chars`.
pub fn sanitize_with_limit(s: &str, max_chars: usize) -> Cow<'_, str> {
    render(s, max_chars, Layout::SingleLine)
}

/// As [`sanitize_with_limit`] but keeps `\n` as a line break and turns each
/// tab into four spaces, for multi-line text such as pretty-printed raw JSON.
/// `\r` is still escaped, so a CRLF shows as `\r` at the end of the line.
pub fn sanitize_multiline(s: &str, max_chars: usize) -> Cow<'_, str> {
    render(s, max_chars, Layout::MultiLine)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    SingleLine,
    MultiLine,
}

fn render(s: &str, max_chars: usize, layout: Layout) -> Cow<'_, str> {
    if first_rewrite(s, layout) == s.len() && fits(s, max_chars) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(rewrite(s, max_chars, layout))
    }
}

/// `chars().count()` only when the byte length leaves any doubt.
fn fits(s: &str, max_chars: usize) -> bool {
    s.len() <= max_chars || s.chars().count() <= max_chars
}

/// Byte offset of the first character that must be rewritten, or `s.len()`.
fn first_rewrite(s: &str, layout: Layout) -> usize {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if let Some(chunk) = bytes.get(i..i + SCAN_CHUNK) {
            // No early exit inside the chunk, so this compiles to SIMD compares.
            if chunk.iter().fold(true, |ok, &b| ok & ascii_kept(b, layout)) {
                i += SCAN_CHUNK;
                continue;
            }
        }
        if b.is_ascii() {
            if !ascii_kept(b, layout) {
                return i;
            }
            i += 1;
            continue;
        }
        // `i` always sits on a char boundary: it only advances by whole chars.
        let Some(c) = s.get(i..).and_then(|rest| rest.chars().next()) else {
            return i;
        };
        if must_escape(s, i, c) {
            return i;
        }
        i += c.len_utf8();
    }
    s.len()
}

fn is_printable_ascii(b: u8) -> bool {
    b.wrapping_sub(0x20) < 0x5f
}

/// Bitwise rather than short-circuit operators keep the chunked scan
/// branch-free, so it vectorises.
fn ascii_kept(b: u8, layout: Layout) -> bool {
    is_printable_ascii(b) | ((b == b'\n') & (layout == Layout::MultiLine))
}

fn rewrite(s: &str, max_chars: usize, layout: Layout) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars.saturating_add(32)));
    let mut used = 0;
    // Clean characters are copied in runs rather than one by one.
    let mut run_start = 0;
    for (i, c) in s.char_indices() {
        let rewritten = if c.is_ascii() {
            !ascii_kept(c as u8, layout)
        } else {
            must_escape(s, i, c)
        };
        if !rewritten {
            if used == max_chars {
                out.push_str(&s[run_start..i]);
                push_marker(&mut out, &s[i..]);
                return out;
            }
            used += 1;
            continue;
        }
        out.push_str(&s[run_start..i]);
        run_start = i + c.len_utf8();
        let before = out.len();
        if c == '\t' && layout == Layout::MultiLine {
            out.push_str(TAB_SPACES);
        } else {
            push_escape(&mut out, c);
        }
        // Replacements are ASCII, so bytes written = characters written.
        let width = out.len() - before;
        if used + width > max_chars {
            out.truncate(before);
            push_marker(&mut out, &s[i..]);
            return out;
        }
        used += width;
    }
    out.push_str(&s[run_start..]);
    out
}

fn push_escape(out: &mut String, c: char) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0'..='\x7f' => {
            let b = c as usize;
            out.push_str("\\x");
            out.push(char::from(HEX[b >> 4]));
            out.push(char::from(HEX[b & 0xf]));
        }
        // `\u{202e}`: lowercase hex, no padding.
        _ => out.extend(c.escape_unicode()),
    }
}

fn push_marker(out: &mut String, omitted: &str) {
    let n = omitted.chars().count();
    let unit = if n == 1 { "char" } else { "chars" };
    // Writing to a String cannot fail.
    let _ = write!(out, "…[+{n} {unit}]");
}

/// Whether the non-ASCII character `c` at byte `i` of `s` is rewritten.
/// Context matters only for the emoji presentation selectors.
fn must_escape(s: &str, i: usize, c: char) -> bool {
    match c {
        '\u{fe0e}' | '\u{fe0f}' => !follows_emoji_base(s, i),
        _ => is_hazard(c),
    }
}

/// A presentation selector is visible in effect only after a character that
/// can have an emoji form, which in practice means a non-ASCII one that is
/// itself shown. Keycaps (`1️⃣`) lose their selector; that is the price of
/// refusing invisible selectors after ASCII letters.
fn follows_emoji_base(s: &str, i: usize) -> bool {
    let prev = s.get(..i).and_then(|head| head.chars().next_back());
    prev.is_some_and(|p| !p.is_ascii() && !is_hazard(p) && !matches!(p, '\u{fe0e}' | '\u{fe0f}'))
}

/// Characters rewritten wherever they appear: Cc, Cf, Zl, Zp and
/// default-ignorable code points (Unicode 16), minus U+FE0E/U+FE0F which
/// [`must_escape`] judges in context.
pub(crate) fn is_hazard(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' // C0, DEL, C1 (8-bit CSI, OSC, DCS, ST, ...)
        | '\u{ad}'                   // soft hyphen
        | '\u{34f}'                  // combining grapheme joiner
        | '\u{600}'..='\u{605}' | '\u{6dd}' | '\u{70f}' | '\u{890}'..='\u{891}' | '\u{8e2}'
        | '\u{110bd}' | '\u{110cd}'  // prepended concatenation marks (combine with what follows)
        | '\u{61c}'                  // Arabic letter mark
        | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' // Hangul fillers (render blank)
        | '\u{17b4}' | '\u{17b5}'    // Khmer inherent vowels (invisible)
        | '\u{180b}'..='\u{180f}'    // Mongolian variation selectors, vowel separator
        | '\u{200b}'..='\u{200f}'    // zero-width space/non-joiner/joiner, LRM, RLM
        | '\u{2028}'..='\u{202e}'    // line/paragraph separators, BiDi embeddings and overrides
        | '\u{2060}'..='\u{206f}'    // word joiner, invisible operators, BiDi isolates, deprecated format
        | '\u{fe00}'..='\u{fe0d}'    // variation selectors 1-14
        | '\u{feff}'                 // BOM / zero-width no-break space
        | '\u{fff0}'..='\u{fffb}'    // unassigned specials, interlinear annotation controls
        | '\u{13430}'..='\u{1343f}'  // Egyptian hieroglyph format controls
        | '\u{1bca0}'..='\u{1bca3}'  // shorthand format controls
        | '\u{1d173}'..='\u{1d17a}'  // musical symbol format controls
        | '\u{e0000}'..='\u{e0fff}'  // tags (invisible ASCII), variation selectors 17-256
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(s: &str) -> String {
        match sanitize(s) {
            Cow::Owned(o) => o,
            Cow::Borrowed(b) => panic!("expected a rewrite of {b:?}"),
        }
    }

    #[test]
    fn clean_text_is_borrowed_unchanged() {
        for s in [
            "",
            "mallory.ops@example.com",
            "zone 🔥 ⚠️ Zürich 東京",
            "a\\x1b b",
        ] {
            assert!(matches!(sanitize(s), Cow::Borrowed(b) if b == s), "{s:?}");
        }
    }

    #[test]
    fn osc52_clipboard_write_is_inert() {
        let s = "name\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07tail";
        assert_eq!(owned(s), "name\\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\x07tail");
        let st = "\x1b]52;c;QUFB\x1b\\";
        assert_eq!(owned(st), "\\x1b]52;c;QUFB\\x1b\\");
    }

    #[test]
    fn csi_sequences_are_inert() {
        assert_eq!(
            owned("\x1b[2J\x1b[H\x1b[31mred"),
            "\\x1b[2J\\x1b[H\\x1b[31mred"
        );
        assert_eq!(owned("\u{9b}2J"), "\\u{9b}2J");
    }

    #[test]
    fn dcs_apc_pm_sos_and_8bit_forms_are_inert() {
        assert_eq!(owned("\x1bP+q544e\x1b\\"), "\\x1bP+q544e\\x1b\\");
        assert_eq!(owned("\x1b_Gf=100;AAAA\x1b\\"), "\\x1b_Gf=100;AAAA\\x1b\\");
        assert_eq!(
            owned("\x1b^pm\x1b\\\x1bXsos\x1b\\"),
            "\\x1b^pm\\x1b\\\\x1bXsos\\x1b\\"
        );
        assert_eq!(
            owned("\u{90}dcs\u{9c}\u{9d}0;t\u{9c}\u{9f}apc\u{9c}\u{9e}\u{98}"),
            "\\u{90}dcs\\u{9c}\\u{9d}0;t\\u{9c}\\u{9f}apc\\u{9c}\\u{9e}\\u{98}"
        );
    }

    #[test]
    fn bidi_override_is_visible() {
        assert_eq!(owned("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(
            owned("a\u{2066}b\u{2069}\u{200f}"),
            "a\\u{2066}b\\u{2069}\\u{200f}"
        );
    }

    #[test]
    fn invisible_characters_are_visible() {
        assert_eq!(owned("ad\u{200b}min"), "ad\\u{200b}min");
        assert_eq!(
            owned("\u{feff}x\u{ad}\u{3164}"),
            "\\u{feff}x\\u{ad}\\u{3164}"
        );
        assert_eq!(owned("\u{e0041}\u{e0042}"), "\\u{e0041}\\u{e0042}");
        assert_eq!(owned("a\u{2028}b"), "a\\u{2028}b");
    }

    #[test]
    fn presentation_selectors_stay_only_after_non_ascii() {
        assert!(matches!(sanitize("⚠\u{fe0f}"), Cow::Borrowed(_)));
        assert_eq!(owned("bob\u{fe0f}"), "bob\\u{fe0f}");
        assert_eq!(owned("\u{fe0f}"), "\\u{fe0f}");
        assert_eq!(owned("⚠\u{fe0f}\u{fe0f}"), "⚠\u{fe0f}\\u{fe0f}");
        assert_eq!(owned("⚠\u{fe01}"), "⚠\\u{fe01}");
    }

    #[test]
    fn c0_notation() {
        assert_eq!(owned("a\0b\tc\nd\re\x7f"), "a\\x00b\\tc\\nd\\re\\x7f");
    }

    #[test]
    fn invalid_utf8_decoded_lossily_is_safe() {
        let lossy = String::from_utf8_lossy(b"ok\xff\xfe\x1b[0m\xc2\x9b\xc2");
        assert_eq!(
            sanitize(&lossy),
            "ok\u{fffd}\u{fffd}\\x1b[0m\\u{9b}\u{fffd}"
        );
    }

    #[test]
    fn multiline_keeps_newlines_and_expands_tabs() {
        let s = "{\n\t\"a\": \"x\\u001b\",\r\n\t\"b\": \"\x1b[2J\"\n}";
        assert_eq!(
            sanitize_multiline(s, 1000),
            "{\n    \"a\": \"x\\u001b\",\\r\n    \"b\": \"\\x1b[2J\"\n}"
        );
        assert!(matches!(
            sanitize_multiline("{\n  \"a\": 1\n}", 100),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn truncation_counts_chars_and_reports_the_rest() {
        assert_eq!(sanitize_with_limit("héllo wörld", 5), "héllo…[+6 chars]");
        assert_eq!(sanitize_with_limit("abc", 2), "ab…[+1 char]");
        assert_eq!(sanitize_with_limit("abc", 0), "…[+3 chars]");
        assert!(matches!(sanitize_with_limit("東京", 2), Cow::Borrowed(_)));
    }

    #[test]
    fn truncation_never_splits_an_escape() {
        // "ab" uses 2, the 4-char "\x1b" does not fit in the 3 left.
        assert_eq!(sanitize_with_limit("ab\x1bcd", 5), "ab…[+3 chars]");
        assert_eq!(sanitize_with_limit("ab\x1bcd", 6), "ab\\x1b…[+2 chars]");
        assert_eq!(sanitize_multiline("a\tb", 4), "a…[+2 chars]");
    }

    #[test]
    fn one_megabyte_input() {
        let clean = "a".repeat(1 << 20);
        assert_eq!(sanitize_with_limit(&clean, usize::MAX), clean.as_str());
        let cut = sanitize(&clean);
        assert!(cut.starts_with(&clean[..DEFAULT_MAX_CHARS]));
        assert!(cut.ends_with(&format!("…[+{} chars]", (1 << 20) - DEFAULT_MAX_CHARS)));

        let hostile = "\x1b[2J\u{202e}".repeat(1 << 18);
        let out = sanitize_with_limit(&hostile, usize::MAX);
        assert_eq!(out.len(), (4 + 3 + 8) * (1 << 18));
        assert!(!out.contains('\x1b') && !out.contains('\u{202e}'));
    }
}
