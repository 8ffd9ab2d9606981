//! Small text helpers shared by the panes: relative times, durations and
//! fitting text to a column by display width.

use std::borrow::Cow;
use std::time::Duration;

use chrono::{DateTime, Utc};
use unicode_width::UnicodeWidthChar;

/// `now` minus `then` as `45s`, `12m`, `3h`, `2d`; `soon`-style for the future.
pub fn age(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds();
    if secs < 0 {
        format!("in {}", compact(secs.unsigned_abs()))
    } else {
        compact(secs.unsigned_abs())
    }
}

/// `then` relative to `now` for future times (`in 5m`, `due`).
pub fn until(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let secs = (then - now).num_seconds();
    if secs <= 0 {
        "due".into()
    } else {
        format!("in {}", compact(secs.unsigned_abs()))
    }
}

pub fn duration(d: Duration) -> String {
    compact(d.as_secs())
}

fn compact(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m", secs / 60),
        3600..=86_399 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// Wall-clock `HH:MM` in UTC, the timeline's and status bar's time format.
pub fn clock(t: DateTime<Utc>) -> String {
    t.format("%H:%M").to_string()
}

/// Display width of `s` (terminal cells).
pub fn width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `s` cut to at most `max` cells, ending in `…` when cut.
pub fn fit(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max && s.is_ascii() {
        return Cow::Borrowed(s);
    }
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let w = c.width().unwrap_or(0);
        if used + w > max {
            // Step back until the ellipsis fits too.
            let mut cut = i;
            let mut used_at_cut = used;
            while used_at_cut + 1 > max && cut > 0 {
                let Some(prev) = s[..cut].chars().next_back() else {
                    break;
                };
                cut -= prev.len_utf8();
                used_at_cut -= prev.width().unwrap_or(0);
            }
            if max == 0 {
                return Cow::Borrowed("");
            }
            return Cow::Owned(format!("{}…", &s[..cut]));
        }
        used += w;
    }
    Cow::Borrowed(s)
}

/// `s` fitted to exactly `cols` cells: cut with `…` or padded with spaces.
pub fn pad(s: &str, cols: usize) -> String {
    let fitted = fit(s, cols);
    let w = width(&fitted);
    let mut out = String::with_capacity(fitted.len() + cols.saturating_sub(w));
    out.push_str(&fitted);
    out.extend(std::iter::repeat_n(' ', cols.saturating_sub(w)));
    out
}

/// Splits `text` into lines of at most `cols` cells (hard wrap: JSON has
/// long unbroken strings). Returns byte ranges into `text`, so the 1 MB field
/// of a hostile event is wrapped once and stored as offsets, not copies.
pub fn wrap_ranges(text: &str, cols: usize) -> Vec<(usize, usize)> {
    let cols = cols.max(1);
    let mut out = Vec::new();
    for (line_start, line) in line_spans(text) {
        if line.is_empty() {
            out.push((line_start, line_start));
            continue;
        }
        let mut start = 0;
        let mut used = 0;
        for (i, c) in line.char_indices() {
            let w = c.width().unwrap_or(0);
            if used + w > cols && i > start {
                out.push((line_start + start, line_start + i));
                start = i;
                used = 0;
            }
            used += w;
        }
        out.push((line_start + start, line_start + line.len()));
    }
    out
}

fn line_spans(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split('\n').map(move |line| {
        let start = offset;
        offset += line.len() + 1;
        (start, line)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ages_are_compact() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        assert_eq!(age(now, now - chrono::Duration::seconds(5)), "5s");
        assert_eq!(age(now, now - chrono::Duration::minutes(2)), "2m");
        assert_eq!(age(now, now - chrono::Duration::hours(30)), "1d");
        assert_eq!(until(now, now + chrono::Duration::minutes(5)), "in 5m");
        assert_eq!(until(now, now - chrono::Duration::minutes(5)), "due");
    }

    #[test]
    fn fit_cuts_by_cells_and_pads() {
        assert_eq!(fit("mallory.ops@example.com", 10), "mallory.o…");
        assert_eq!(fit("東京東京", 5), "東京…");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad("東京東京", 5), "東京…");
    }

    #[test]
    fn wrap_splits_long_lines_and_keeps_empty_ones() {
        let text = "abcdef\n\nxy";
        let lines: Vec<&str> = wrap_ranges(text, 4)
            .into_iter()
            .map(|(a, b)| &text[a..b])
            .collect();
        assert_eq!(lines, ["abcd", "ef", "", "xy"]);
        assert_eq!(wrap_ranges("東京東", 3).len(), 3);
    }
}
