//! Validated scalar types for rules files.
//!
//! Each checks its value inside `TryFrom`, so a bad value fails during
//! deserialization and toml attaches the value's location to the error.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use toml::value::{Datetime, Offset};

/// A whole number of days: 1 to 366.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Days(u32);

impl Days {
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for Days {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        match u32::try_from(v) {
            Ok(d @ 1..=366) => Ok(Days(d)),
            _ => Err(format!("days must be between 1 and 366 (got {v})")),
        }
    }
}

impl From<Days> for i64 {
    fn from(d: Days) -> i64 {
        d.0.into()
    }
}

/// A whole number of days that may be zero: 0 to 366.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct DaysOrZero(u32);

impl DaysOrZero {
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for DaysOrZero {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        match u32::try_from(v) {
            Ok(d @ 0..=366) => Ok(DaysOrZero(d)),
            _ => Err(format!("days must be between 0 and 366 (got {v})")),
        }
    }
}

impl From<DaysOrZero> for i64 {
    fn from(d: DaysOrZero) -> i64 {
        d.0.into()
    }
}

/// A whole number of minutes: 1 to 1440 (one day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Minutes(u32);

impl Minutes {
    pub fn get(self) -> u32 {
        self.0
    }

    pub fn duration(self) -> chrono::Duration {
        chrono::Duration::minutes(self.0.into())
    }
}

impl TryFrom<i64> for Minutes {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        match u32::try_from(v) {
            Ok(m @ 1..=1440) => Ok(Minutes(m)),
            _ => Err(format!("minutes must be between 1 and 1440 (got {v})")),
        }
    }
}

impl From<Minutes> for i64 {
    fn from(m: Minutes) -> i64 {
        m.0.into()
    }
}

/// A count threshold: at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Count(u32);

impl Count {
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for Count {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        match u32::try_from(v) {
            Ok(c) if c >= 1 => Ok(Count(c)),
            _ => Err(format!(
                "count must be a whole number of at least 1 (got {v})"
            )),
        }
    }
}

impl From<Count> for i64 {
    fn from(c: Count) -> i64 {
        c.0.into()
    }
}

/// A multiplier that means "more than usual": finite and greater than 1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Factor(f64);

impl Factor {
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Factor {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if v.is_finite() && v > 1.0 {
            Ok(Factor(v))
        } else {
            Err(format!("factor must be a number greater than 1 (got {v})"))
        }
    }
}

impl From<Factor> for f64 {
    fn from(f: Factor) -> f64 {
        f.0
    }
}

/// A finite number greater than 0.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Positive(f64);

impl Positive {
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Positive {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if v.is_finite() && v > 0.0 {
            Ok(Positive(v))
        } else {
            Err(format!("value must be a number greater than 0 (got {v})"))
        }
    }
}

impl From<Positive> for f64 {
    fn from(p: Positive) -> f64 {
        p.0
    }
}

/// A rule name used in rule ids and dedup keys: 1-64 of `a-z`, `0-9`, `_`.
/// Kept this narrow so keys stay unambiguous (no `:` or `.`) and printable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RuleName(String);

impl RuleName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RuleName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(RuleName(s))
        } else {
            Err(format!(
                "rule name {s:?} must be 1-64 characters of a-z, 0-9 and _"
            ))
        }
    }
}

impl From<RuleName> for String {
    fn from(n: RuleName) -> String {
        n.0
    }
}

impl fmt::Display for RuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Free text an analyst wrote (a suppression's reason): non-empty, one line,
/// at most 500 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Note(String);

impl Note {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Note {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.trim().is_empty() {
            Err("text must not be empty".into())
        } else if s.chars().count() > 500 {
            Err("text must be at most 500 characters".into())
        } else if s.chars().any(char::is_control) {
            Err("text must be one line without control characters".into())
        } else {
            Ok(Note(s))
        }
    }
}

impl From<Note> for String {
    fn from(n: Note) -> String {
        n.0
    }
}

/// An instant written as a TOML offset date-time (`2026-12-31T23:59:59Z`) or
/// an RFC 3339 string. Local dates and times are refused: "until 2026-12-31"
/// would silently mean a different instant on every analyst's machine.
/// Serialized as an RFC 3339 string, which reads back the same in TOML and JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UtcTime(DateTime<Utc>);

impl UtcTime {
    pub fn get(self) -> DateTime<Utc> {
        self.0
    }
}

impl From<DateTime<Utc>> for UtcTime {
    fn from(t: DateTime<Utc>) -> Self {
        UtcTime(t)
    }
}

impl TryFrom<Datetime> for UtcTime {
    type Error = String;
    fn try_from(dt: Datetime) -> Result<Self, String> {
        let (Some(date), Some(time), Some(offset)) = (dt.date, dt.time, dt.offset) else {
            return Err(format!(
                "{dt} has no UTC offset: write a full timestamp such as 2026-12-31T23:59:59Z"
            ));
        };
        let offset_secs = match offset {
            Offset::Z => 0,
            Offset::Custom { minutes } => i32::from(minutes) * 60,
        };
        let naive = NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
            .and_then(|d| {
                d.and_hms_nano_opt(
                    time.hour.into(),
                    time.minute.into(),
                    time.second.into(),
                    time.nanosecond,
                )
            });
        FixedOffset::east_opt(offset_secs)
            .zip(naive)
            .and_then(|(off, n)| off.from_local_datetime(&n).single())
            .map(|t| UtcTime(t.with_timezone(&Utc)))
            .ok_or_else(|| format!("{dt} is not a valid date and time"))
    }
}

impl Serialize for UtcTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl<'de> Deserialize<'de> for UtcTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UtcTimeVisitor)
    }
}

struct UtcTimeVisitor;

impl<'de> serde::de::Visitor<'de> for UtcTimeVisitor {
    type Value = UtcTime;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an offset date-time such as 2026-12-31T23:59:59Z")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<UtcTime, E> {
        DateTime::parse_from_rfc3339(v)
            .map(|t| UtcTime(t.with_timezone(&Utc)))
            .map_err(|_| {
                E::custom(format!(
                    "{v:?} is not an RFC 3339 timestamp such as 2026-12-31T23:59:59Z"
                ))
            })
    }

    /// TOML hands datetimes over as a one-entry map that `Datetime` understands.
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<UtcTime, A::Error> {
        let dt = Datetime::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        UtcTime::try_from(dt).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_enforced() {
        assert!(Days::try_from(0).is_err());
        assert_eq!(Days::try_from(30).map(Days::get), Ok(30));
        assert!(Minutes::try_from(1441).is_err());
        assert!(Count::try_from(0).is_err());
        assert!(Count::try_from(-3).is_err());
        assert!(Factor::try_from(1.0).is_err());
        assert!(Factor::try_from(f64::NAN).is_err());
        assert!(Positive::try_from(0.0).is_err());
        assert!(RuleName::try_from("Role-Grant".to_string()).is_err());
        assert!(RuleName::try_from("role_grant".to_string()).is_ok());
        assert!(Note::try_from("  ".to_string()).is_err());
    }

    #[test]
    fn utc_time_requires_an_offset_and_round_trips() {
        let dt: Datetime = "2026-12-31T23:59:59+01:00".parse().unwrap();
        let t = UtcTime::try_from(dt).unwrap();
        assert_eq!(t.get().to_rfc3339(), "2026-12-31T22:59:59+00:00");
        assert!(UtcTime::try_from("2026-12-31".parse::<Datetime>().unwrap()).is_err());
        assert!(UtcTime::try_from("2026-12-31T10:00:00".parse::<Datetime>().unwrap()).is_err());
    }

    #[derive(Debug, Deserialize, Serialize)]
    struct Doc {
        until: UtcTime,
    }

    #[test]
    fn utc_time_reads_toml_datetimes_and_strings_and_writes_strings() {
        let a: Doc = toml::from_str("until = 2026-12-31T23:59:59Z").unwrap();
        let b: Doc = toml::from_str("until = \"2026-12-31T23:59:59Z\"").unwrap();
        assert_eq!(a.until, b.until);
        assert_eq!(
            toml::to_string(&a).unwrap(),
            "until = \"2026-12-31T23:59:59Z\"\n"
        );
        let err = toml::from_str::<Doc>("until = 2026-12-31").unwrap_err();
        assert!(err.message().contains("no UTC offset"), "{err}");
        assert!(toml::from_str::<Doc>("until = \"tomorrow\"").is_err());
    }
}
