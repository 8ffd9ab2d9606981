//! Deterministic identifiers and the small JSON-writing helpers the shape
//! renderers share.
//!
//! Entry ids come from a *bijective* mix of a structured key, so two distinct
//! keys can never collide: uniqueness is guaranteed, not merely likely.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

/// SplitMix64's finalizer: a bijection on `u64` with good avalanche.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A seed for one independent random stream, so that e.g. planting an
/// anomaly never shifts the numbers drawn for ordinary events.
pub(crate) fn stream(seed: u64, parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(mix64(seed ^ 0x5eed_5eed_5eed_5eed), |acc, p| {
            mix64(acc ^ mix64(p.wrapping_add(0x9e37_79b9_7f4a_7c15)))
        })
}

/// 128 bits derived from `key`; the first half is a bijection of `key` for a
/// fixed seed, which is what makes ids unique.
pub(crate) fn unique128(seed: u64, key: u64) -> (u64, u64) {
    let salt = mix64(seed ^ 0x1d5_1d5);
    let hi = mix64(key ^ salt);
    // Not `hi ^ f(salt)`: that is zero whenever `key ^ salt == f(salt)`-ish
    // patterns line up; an add keeps the low half looking random.
    let lo = mix64(hi.wrapping_add(mix64(!salt)));
    (hi, lo)
}

/// 32 lowercase hex digits (Cloudflare v2 entry ids, account/zone/user ids).
pub(crate) fn hex32(pair: (u64, u64)) -> String {
    format!("{:016x}{:016x}", pair.0, pair.1)
}

/// A version-4-looking UUID (Cloudflare v1 entry ids, Datadog uuids).
pub(crate) fn uuid(pair: (u64, u64)) -> String {
    let (hi, lo) = pair;
    let lo = (lo & 0x0fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0x0fff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A Datadog-looking event id (`AQAAAY...`, 54 characters of base64url).
/// The first 22 encoded characters carry all 128 bits of `pair`.
pub(crate) fn datadog_event_id(pair: (u64, u64)) -> String {
    let mut out = String::with_capacity(54);
    out.push_str("AQAAAZ");
    let mut push_bits = |mut v: u64, chars: usize| {
        for _ in 0..chars {
            out.push(char::from(B64URL[(v & 63) as usize]));
            v >>= 6;
        }
    };
    // 11 chars x 6 bits = 66 bits >= 64: each half is encoded losslessly.
    push_bits(pair.0, 11);
    push_bits(pair.1, 11);
    push_bits(mix64(pair.0 ^ pair.1), 11);
    push_bits(mix64(pair.1), 11);
    push_bits(mix64(pair.0), 4);
    out
}

/// `n` lowercase hex digits from a random stream (ray ids, tags, digests).
pub(crate) fn hex_n(rng: &mut fastrand::Rng, n: usize) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let _ = write!(out, "{:016x}", rng.u64(..));
    }
    out.truncate(n);
    out
}

pub(crate) fn rfc3339_secs(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn rfc3339_millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Appends `s` as a JSON string literal. Catalog text is plain ASCII, but
/// anomaly parameters (names, IPs) come from callers, so escape properly.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Builder for one JSON object written straight into a `String`: faster than
/// building a `serde_json::Value` per entry, and keys keep the order given.
pub(crate) struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    pub(crate) fn open(out: &'a mut String) -> Obj<'a> {
        out.push('{');
        Obj { out, first: true }
    }

    fn key(&mut self, k: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        push_json_str(self.out, k);
        self.out.push(':');
        self.out
    }

    pub(crate) fn str(&mut self, k: &str, v: &str) -> &mut Self {
        let out = self.key(k);
        push_json_str(out, v);
        self
    }

    pub(crate) fn opt_str(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(k, v),
            None => self,
        }
    }

    pub(crate) fn num(&mut self, k: &str, v: i64) -> &mut Self {
        let out = self.key(k);
        let _ = write!(out, "{v}");
        self
    }

    pub(crate) fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        let out = self.key(k);
        out.push_str(if v { "true" } else { "false" });
        self
    }

    /// Writes a nested value with `f`, which must append exactly one JSON value.
    pub(crate) fn raw(&mut self, k: &str, f: impl FnOnce(&mut String)) -> &mut Self {
        let out = self.key(k);
        f(out);
        self
    }

    pub(crate) fn obj(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        let out = self.key(k);
        let mut inner = Obj::open(out);
        f(&mut inner);
        inner.close();
        self
    }

    pub(crate) fn str_array(&mut self, k: &str, items: &[&str]) -> &mut Self {
        let out = self.key(k);
        out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_str(out, item);
        }
        out.push(']');
        self
    }

    pub(crate) fn close(&mut self) {
        self.out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_source_formats() {
        let p = unique128(7, 42);
        assert_eq!(hex32(p).len(), 32);
        let u = uuid(p);
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        let d = datadog_event_id(p);
        assert_eq!(d.len(), 54);
        assert!(d.starts_with("AQAAAZ"));
    }

    #[test]
    fn distinct_keys_give_distinct_ids() {
        let mut seen = std::collections::HashSet::new();
        for key in 0..10_000u64 {
            assert!(seen.insert(datadog_event_id(unique128(1, key))));
        }
    }

    #[test]
    fn strings_are_escaped() {
        let mut s = String::new();
        Obj::open(&mut s).str("a\"b", "x\\y\n\u{1}").close();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["a\"b"], "x\\y\n\u{1}");
    }
}
