//! Deterministic report titles. The title is the page's idempotency key:
//! before a retry creates a page, the space is searched for this title.

use chrono::NaiveDate;

use crate::sanitize::sanitize_with_limit;

use super::storage::StatusLabel;

/// Confluence allows 255 characters; the actor part is cut well before that.
const MAX_ACTOR_CHARS: usize = 120;
pub const MAX_TITLE_CHARS: usize = 255;

/// `[SOC] 2026-11-20 mallory@example.com - likely malicious (INV-123)`.
///
/// `actor` comes from an audit log: control, BiDi and invisible characters
/// become visible escapes and it is cut to a bounded length, so two
/// different actors cannot produce titles that look the same.
pub fn report_title(
    date: NaiveDate,
    actor: &str,
    verdict: StatusLabel,
    investigation_id: &str,
) -> String {
    let actor = sanitize_with_limit(actor.trim(), MAX_ACTOR_CHARS);
    let id = sanitize_with_limit(investigation_id, 40);
    let title = format!(
        "[SOC] {} {actor} - {} ({id})",
        date.format("%Y-%m-%d"),
        verdict.as_str()
    );
    title.chars().take(MAX_TITLE_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 20).expect("date")
    }

    #[test]
    fn matches_the_documented_shape() {
        assert_eq!(
            report_title(
                date(),
                "mallory@example.com",
                StatusLabel::LikelyMalicious,
                "INV-123"
            ),
            "[SOC] 2026-11-20 mallory@example.com - likely malicious (INV-123)"
        );
    }

    #[test]
    fn hostile_actors_are_inert_and_bounded() {
        let title = report_title(
            date(),
            "evil\u{202e}moc.x\n@y",
            StatusLabel::Benign,
            "INV-1",
        );
        assert_eq!(
            title,
            "[SOC] 2026-11-20 evil\\u{202e}moc.x\\n@y - benign (INV-1)"
        );
        let long = report_title(date(), &"a".repeat(1000), StatusLabel::Benign, "INV-1");
        assert!(long.chars().count() <= MAX_TITLE_CHARS);
        assert!(long.ends_with("- benign (INV-1)"), "{long}");
    }
}
