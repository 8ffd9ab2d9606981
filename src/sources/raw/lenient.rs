//! Tolerant field types for the borrowed wire structs.
//!
//! Audit entries are parsed in one pass into typed structs, but a field of
//! the wrong type must not sink the entry: `Loose` accepts any JSON value
//! and remembers what it was, `Obj<T>` parses `T` only when it meets an
//! object. Subtrees that are skipped go through `IgnoredAny`, which
//! serde_json walks iteratively, so deep nesting costs no stack.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::error::{EntryError, preview};

/// The JSON type of a value, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Null,
    Boolean,
    Number,
    String,
    Array,
    Object,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Null => "null",
            Kind::Boolean => "boolean",
            Kind::Number => "number",
            Kind::String => "string",
            Kind::Array => "array",
            Kind::Object => "object",
        })
    }
}

/// A JSON number, integers kept exact so ids survive as text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

/// Any JSON value at a place where a scalar is expected. Containers are
/// skipped (only their kind is kept).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Loose<'a> {
    #[default]
    Absent,
    Null,
    Bool(bool),
    Number(Number),
    Str(Cow<'a, str>),
    Array,
    Object,
}

impl<'a> Loose<'a> {
    /// `None` when the key was absent.
    pub(crate) fn kind(&self) -> Option<Kind> {
        Some(match self {
            Loose::Absent => return None,
            Loose::Null => Kind::Null,
            Loose::Bool(_) => Kind::Boolean,
            Loose::Number(_) => Kind::Number,
            Loose::Str(_) => Kind::String,
            Loose::Array => Kind::Array,
            Loose::Object => Kind::Object,
        })
    }

    pub(crate) fn is_absent(&self) -> bool {
        matches!(self, Loose::Absent)
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Loose::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An optional text field: a non-empty string, or an integer recorded as
    /// its decimal text (ids and ports are sometimes sent as numbers).
    /// Anything else is treated as absent.
    pub(crate) fn into_text(self) -> Option<String> {
        match self {
            Loose::Str(s) if !s.is_empty() => Some(s.into_owned()),
            Loose::Number(Number::Unsigned(n)) => Some(n.to_string()),
            Loose::Number(Number::Signed(n)) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A required text field (an entry id): like [`Loose::into_text`], but
    /// says precisely why the value is unusable.
    pub(crate) fn require_text(self, field: &'static str) -> Result<String, EntryError> {
        match self {
            Loose::Absent => Err(EntryError::Missing { field }),
            Loose::Str(s) if s.is_empty() => Err(EntryError::Empty { field }),
            other => {
                let got = other.kind();
                other.into_text().ok_or(EntryError::WrongType {
                    field,
                    expected: "string",
                    got: got.unwrap_or(Kind::Null),
                })
            }
        }
    }

    /// A required timestamp: RFC3339 with or without a fraction; a missing
    /// offset means UTC (Datadog's inner `timestamp` omits it).
    pub(crate) fn require_time(&self, field: &'static str) -> Result<DateTime<Utc>, EntryError> {
        match self {
            Loose::Absent => Err(EntryError::Missing { field }),
            Loose::Str(s) => parse_timestamp(s).ok_or_else(|| EntryError::BadTimestamp {
                field,
                got: preview(s),
            }),
            other => Err(EntryError::BadTimestamp {
                field,
                got: other.kind().unwrap_or(Kind::Null).to_string(),
            }),
        }
    }

    /// A status code sent either as a number or as numeric text.
    pub(crate) fn as_status_code(&self) -> Option<u64> {
        match self {
            Loose::Number(Number::Unsigned(n)) => Some(*n),
            Loose::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LooseVisitor(PhantomData))
    }
}

struct LooseVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for LooseVisitor<'a> {
    type Value = Loose<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Loose::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Loose::Number(Number::Signed(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Loose::Number(Number::Unsigned(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Loose::Number(Number::Float(v)))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(Loose::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map)?;
        Ok(Loose::Object)
    }
}

fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    text.parse::<NaiveDateTime>().ok().map(|t| t.and_utc())
}

/// A nested object parsed as `T` when it is an object; any other value is
/// recorded by kind instead of failing the whole entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Obj<T> {
    #[default]
    Absent,
    Wrong(Kind),
    Present(T),
}

impl<T> Obj<T> {
    pub(crate) fn present(self) -> Option<T> {
        match self {
            Obj::Present(t) => Some(t),
            _ => None,
        }
    }

    pub(crate) fn as_ref(&self) -> Option<&T> {
        match self {
            Obj::Present(t) => Some(t),
            _ => None,
        }
    }

    pub(crate) fn is_absent(&self) -> bool {
        matches!(self, Obj::Absent)
    }

    /// For objects that hold required fields: says which object is missing
    /// or of the wrong type.
    pub(crate) fn require(self, field: &'static str) -> Result<T, EntryError> {
        match self {
            Obj::Present(t) => Ok(t),
            Obj::Absent => Err(EntryError::Missing { field }),
            Obj::Wrong(got) => Err(EntryError::WrongType {
                field,
                expected: "object",
                got,
            }),
        }
    }
}

impl<T: Default> Obj<T> {
    /// The object's fields, or all-absent fields when it is not an object.
    pub(crate) fn or_empty(self) -> T {
        self.present().unwrap_or_default()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ObjVisitor(PhantomData))
    }
}

struct ObjVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjVisitor<T> {
    type Value = Obj<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Obj::Present)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Obj::Wrong(Kind::Boolean))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Obj::Wrong(Kind::Number))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Obj::Wrong(Kind::Number))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Obj::Wrong(Kind::Number))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Obj::Wrong(Kind::String))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Obj::Wrong(Kind::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Obj::Wrong(Kind::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(Obj::Wrong(Kind::Array))
    }
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, bound(deserialize = "'de: 'a"))]
    struct Probe<'a> {
        a: Loose<'a>,
        o: Obj<Inner<'a>>,
    }

    #[derive(Debug, Default, PartialEq, Deserialize)]
    #[serde(default, bound(deserialize = "'de: 'a"))]
    struct Inner<'a> {
        x: Loose<'a>,
    }

    fn probe(json: &str) -> Probe<'_> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn loose_records_every_kind() {
        assert_eq!(probe(r#"{}"#).a, Loose::Absent);
        assert_eq!(probe(r#"{"a":null}"#).a.kind(), Some(Kind::Null));
        assert_eq!(probe(r#"{"a":true}"#).a, Loose::Bool(true));
        assert_eq!(probe(r#"{"a":-3}"#).a.kind(), Some(Kind::Number));
        assert_eq!(probe(r#"{"a":[1,[2]]}"#).a, Loose::Array);
        assert_eq!(probe(r#"{"a":{"b":{}}}"#).a, Loose::Object);
        assert_eq!(probe(r#"{"a":"x"}"#).a.as_str(), Some("x"));
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        assert!(matches!(
            probe(r#"{"a":"plain"}"#).a,
            Loose::Str(Cow::Borrowed("plain"))
        ));
        let escaped = probe(r#"{"a":"tab\there"}"#).a;
        assert!(matches!(&escaped, Loose::Str(Cow::Owned(s)) if s == "tab\there"));
    }

    #[test]
    fn text_accepts_integers_and_drops_other_kinds() {
        assert_eq!(
            probe(r#"{"a":12345}"#).a.into_text().as_deref(),
            Some("12345")
        );
        assert_eq!(probe(r#"{"a":-7}"#).a.into_text().as_deref(), Some("-7"));
        assert_eq!(probe(r#"{"a":1.5}"#).a.into_text(), None);
        assert_eq!(probe(r#"{"a":""}"#).a.into_text(), None);
        assert_eq!(probe(r#"{"a":{"k":1}}"#).a.into_text(), None);
    }

    #[test]
    fn require_text_names_the_problem() {
        let err = |json| probe(json).a.require_text("id").unwrap_err().to_string();
        assert_eq!(err(r#"{}"#), "id: missing");
        assert_eq!(err(r#"{"a":""}"#), "id: empty string");
        assert_eq!(err(r#"{"a":null}"#), "id: expected string, got null");
        assert_eq!(err(r#"{"a":[1]}"#), "id: expected string, got array");
    }

    #[test]
    fn obj_tolerates_non_objects() {
        assert_eq!(probe(r#"{"o":"str"}"#).o, Obj::Wrong(Kind::String));
        assert_eq!(probe(r#"{"o":[{"x":1}]}"#).o, Obj::Wrong(Kind::Array));
        assert_eq!(probe(r#"{"o":null}"#).o, Obj::Wrong(Kind::Null));
        let inner = probe(r#"{"o":{"x":"v","unknown":[1,2]}}"#)
            .o
            .present()
            .unwrap();
        assert_eq!(inner.x.as_str(), Some("v"));
    }

    #[test]
    fn timestamps_rfc3339_with_or_without_fraction_and_offset() {
        let time = |json| probe(json).a.require_time("when").map(|t| t.to_rfc3339());
        assert_eq!(
            time(r#"{"a":"2021-11-30T20:19:48Z"}"#).unwrap(),
            "2021-11-30T20:19:48+00:00"
        );
        assert_eq!(
            time(r#"{"a":"2021-08-09T10:14:17.883896Z"}"#).unwrap(),
            "2021-08-09T10:14:17.883896+00:00"
        );
        assert_eq!(
            time(r#"{"a":"2024-04-26T19:31:07+02:00"}"#).unwrap(),
            "2024-04-26T17:31:07+00:00"
        );
        assert_eq!(
            time(r#"{"a":"2022-04-13T09:21:13.750599"}"#).unwrap(),
            "2022-04-13T09:21:13.750599+00:00"
        );
    }

    #[test]
    fn timestamps_reject_everything_else_precisely() {
        let err = |json| probe(json).a.require_time("when").unwrap_err().to_string();
        assert_eq!(err(r#"{}"#), "when: missing");
        assert_eq!(
            err(r#"{"a":1638303588}"#),
            "when: expected RFC3339 timestamp, got number"
        );
        assert_eq!(
            err(r#"{"a":null}"#),
            "when: expected RFC3339 timestamp, got null"
        );
        assert_eq!(
            err(r#"{"a":"2021-11-30"}"#),
            "when: expected RFC3339 timestamp, got \"2021-11-30\""
        );
        assert_eq!(
            err(r#"{"a":"2021-13-40T99:00:00Z"}"#),
            "when: expected RFC3339 timestamp, got \"2021-13-40T99:00:00Z\""
        );
    }

    #[test]
    fn status_codes_from_numbers_or_text() {
        assert_eq!(probe(r#"{"a":404}"#).a.as_status_code(), Some(404));
        assert_eq!(probe(r#"{"a":"500"}"#).a.as_status_code(), Some(500));
        assert_eq!(probe(r#"{"a":"n/a"}"#).a.as_status_code(), None);
    }

    #[test]
    fn deep_nesting_in_skipped_values_does_not_recurse() {
        let depth = 200_000;
        let json = format!(r#"{{"a":{}{}}}"#, "[".repeat(depth), "]".repeat(depth));
        assert_eq!(probe(&json).a, Loose::Array);
    }
}
