//! Query strings, timestamps and cursors as the simulated services read them.

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Decoded query pairs in order; repeated keys (`actor_email=a&actor_email=b`) kept.
#[derive(Debug, Default, Clone)]
pub(crate) struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub(crate) fn parse(raw: Option<&str>) -> QueryParams {
        QueryParams(
            raw.map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`; comma-separated lists are split too.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }
}

/// Cloudflare's `since`/`before`: an RFC3339 timestamp or a `YYYY-MM-DD`
/// date (midnight UTC).
pub(crate) fn cloudflare_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Datadog's `from`/`to`: RFC3339, milliseconds since the epoch, or date
/// math relative to `now` (`now`, `now-15m`, `now-2h`, `now-1d`, `now-1w`).
pub(crate) fn datadog_time(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(ms) = text.parse::<i64>() {
        return DateTime::from_timestamp_millis(ms);
    }
    let rest = text.strip_prefix("now")?;
    if rest.is_empty() {
        return Some(now);
    }
    let (sign, amount) = match rest.as_bytes().first()? {
        b'-' => (-1, &rest[1..]),
        b'+' => (1, &rest[1..]),
        _ => return None,
    };
    let unit = amount.chars().last()?;
    let count: i64 = amount[..amount.len() - unit.len_utf8()].parse().ok()?;
    let span = match unit {
        's' => Duration::try_seconds(count)?,
        'm' => Duration::try_minutes(count)?,
        'h' => Duration::try_hours(count)?,
        'd' => Duration::try_days(count)?,
        'w' => Duration::try_weeks(count)?,
        _ => return None,
    };
    now.checked_add_signed(span * sign)
}

/// Where the previous page ended: the last entry's time and id. Sent to
/// clients as opaque hex so they cannot build one by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub time_ms: i64,
    pub id: String,
}

const CURSOR_TAG: &str = "soc-sim1";

impl Cursor {
    pub(crate) fn encode(&self) -> String {
        hex::encode(format!("{CURSOR_TAG}:{}:{}", self.time_ms, self.id))
    }

    pub(crate) fn decode(text: &str) -> Option<Cursor> {
        let bytes = hex::decode(text).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let rest = text.strip_prefix(CURSOR_TAG)?.strip_prefix(':')?;
        let (time, id) = rest.split_once(':')?;
        Some(Cursor {
            time_ms: time.parse().ok()?,
            id: id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudflare_accepts_rfc3339_and_dates_only() {
        let t = cloudflare_time("2024-04-26T17:31:07Z").unwrap();
        assert_eq!(t.timestamp(), 1_714_152_667);
        let d = cloudflare_time("2019-04-30").unwrap();
        assert_eq!(d.to_rfc3339(), "2019-04-30T00:00:00+00:00");
        assert!(cloudflare_time("yesterday").is_none());
        assert!(cloudflare_time("1714152667").is_none());
    }

    #[test]
    fn datadog_accepts_date_math_and_milliseconds() {
        let now = cloudflare_time("2024-04-26T12:00:00Z").unwrap();
        assert_eq!(datadog_time("now", now), Some(now));
        assert_eq!(
            datadog_time("now-15m", now),
            Some(now - Duration::minutes(15))
        );
        assert_eq!(datadog_time("now-1w", now), Some(now - Duration::weeks(1)));
        assert_eq!(
            datadog_time("1714152667000", now).map(|t| t.timestamp()),
            Some(1_714_152_667)
        );
        assert!(datadog_time("now-15x", now).is_none());
        assert!(datadog_time("tomorrow", now).is_none());
        assert!(datadog_time("now*2", now).is_none());
    }

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let c = Cursor {
            time_ms: 1_714_152_667_000,
            id: "abc:def".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert!(Cursor::decode("zz").is_none());
        assert!(Cursor::decode(&hex::encode("other:1:x")).is_none());
    }

    #[test]
    fn repeated_and_comma_separated_values_are_all_read() {
        let q = QueryParams::parse(Some("keys=SOC,OPS&keys=SEC&x=%20a%20"));
        assert_eq!(q.all("keys"), vec!["SOC", "OPS", "SEC"]);
        assert_eq!(q.get("x"), Some(" a "));
        assert_eq!(q.get("missing"), None);
    }
}
