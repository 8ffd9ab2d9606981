//! The deterministic identities that make a repeated delivery harmless:
//! remote ids derived from dedup keys, object-key segments, content digests.

use base64::Engine as _;
use md5::{Digest as _, Md5};
use sha2::Sha256;
use uuid::Uuid;

/// What a derived id names; part of the hash input, so an issue and a
/// comment derived from the same key never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdPurpose {
    LinearIssue,
    LinearComment,
}

impl IdPurpose {
    fn namespace(self) -> &'static str {
        match self {
            IdPurpose::LinearIssue => "soc-tui/linear-issue",
            IdPurpose::LinearComment => "soc-tui/linear-comment",
        }
    }
}

/// A UUID that is a pure function of `(purpose, key)`.
///
/// Linear's schema documents client-supplied ids as "in UUID v4 format",
/// so instead of a version-5 UUID (which a version-checking validator
/// rejects) this takes the first 16 bytes of SHA-256 over the namespaced key
/// and stamps them with the version-4 and RFC 4122 variant bits. It is as
/// deterministic as UUIDv5, with a stronger hash.
pub fn derived_uuid(purpose: IdPurpose, key: &str) -> Uuid {
    let mut hasher = Sha256::new();
    hasher.update(purpose.namespace().as_bytes());
    hasher.update([0u8]);
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// PagerDuty accepts dedup and incident keys up to 255 characters.
const MAX_PAGERDUTY_KEY: usize = 255;

/// The finding's dedup key as PagerDuty's `dedup_key`/`incident_key`:
/// itself when it fits, else a hash of it (an actor email can make a burst
/// key arbitrarily long). Acknowledge and resolve go through the same
/// function, so they name the same alert.
pub fn pagerduty_key(dedup_key: &str) -> String {
    if dedup_key.chars().count() <= MAX_PAGERDUTY_KEY {
        dedup_key.to_owned()
    } else {
        format!(
            "soc-tui:sha256:{}",
            hex::encode(Sha256::digest(dedup_key.as_bytes()))
        )
    }
}

/// MD5 of an object body: base64 for `Content-MD5`, hex to compare with
/// the ETag S3 returns for a single-part, non-KMS upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentDigest {
    pub md5_base64: String,
    pub md5_hex: String,
}

pub fn content_digest(body: &[u8]) -> ContentDigest {
    let md5 = Md5::digest(body);
    ContentDigest {
        md5_base64: base64::engine::general_purpose::STANDARD.encode(md5),
        md5_hex: hex::encode(md5),
    }
}

/// Longest encoded key segment kept whole; longer ones are cut and end in a
/// hash of the full value, so distinct values stay distinct.
const MAX_SEGMENT_BYTES: usize = 160;

/// One path segment of an archive key, safe as an S3 key part and as a
/// file name: `A-Z a-z 0-9 . _ -` pass, every other byte becomes `%XX`,
/// and `.`/`..` (which a file system would follow) are encoded too. The
/// values come from audit logs, so this is what stops `../../etc` from
/// leaving the archive directory.
pub fn key_segment(value: &str) -> String {
    if value.is_empty() {
        return "%00".to_owned();
    }
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    if out == "." || out == ".." {
        out = out.replace('.', "%2E");
    }
    if out.len() > MAX_SEGMENT_BYTES {
        let hash = hex::encode(&Sha256::digest(value.as_bytes())[..8]);
        // Cut on a char boundary: `out` is ASCII, so any index is one.
        out.truncate(MAX_SEGMENT_BYTES - hash.len() - 1);
        out.push('~');
        out.push_str(&hash);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_distinct_and_v4_shaped() {
        let a = derived_uuid(IdPurpose::LinearIssue, "token:e1");
        assert_eq!(a, derived_uuid(IdPurpose::LinearIssue, "token:e1"));
        assert_ne!(a, derived_uuid(IdPurpose::LinearIssue, "token:e2"));
        assert_ne!(a, derived_uuid(IdPurpose::LinearComment, "token:e1"));
        assert_eq!(a.get_version_num(), 4);
        assert_eq!(a.get_variant(), uuid::Variant::RFC4122);
        // Pinned: changing the derivation would re-create every issue.
        assert_eq!(
            derived_uuid(
                IdPurpose::LinearIssue,
                "baseline:bob@example.com:2026-11-21T03:00:00Z"
            )
            .to_string(),
            "f91c525e-4d01-438b-be38-56e20d283abc"
        );
    }

    #[test]
    fn long_pagerduty_keys_are_hashed_deterministically() {
        assert_eq!(pagerduty_key("token:e1"), "token:e1");
        let long = format!(
            "burst:{}@example.com:role_grant:2026-11-21T12:03:10Z",
            "a".repeat(300)
        );
        let key = pagerduty_key(&long);
        assert!(
            key.starts_with("soc-tui:sha256:") && key.len() <= MAX_PAGERDUTY_KEY,
            "{key}"
        );
        assert_eq!(key, pagerduty_key(&long));
    }

    #[test]
    fn md5_matches_the_rfc_1321_test_vector() {
        let d = content_digest(b"abc");
        assert_eq!(d.md5_hex, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(d.md5_base64, "kAFQmDzST7DWlj99KOF/cg==");
    }

    #[test]
    fn key_segments_cannot_traverse_or_inject() {
        assert_eq!(
            key_segment("73fd39ed-5aab_4a2a.b93c"),
            "73fd39ed-5aab_4a2a.b93c"
        );
        assert_eq!(key_segment("../../etc/passwd"), "..%2F..%2Fetc%2Fpasswd");
        assert_eq!(key_segment(".."), "%2E%2E");
        assert_eq!(key_segment("."), "%2E");
        assert_eq!(key_segment(""), "%00");
        assert_eq!(key_segment("a b\n/é"), "a%20b%0A%2F%C3%A9");
        let long = "x".repeat(500);
        let cut = key_segment(&long);
        assert_eq!(cut.len(), MAX_SEGMENT_BYTES);
        assert_ne!(cut, key_segment(&"x".repeat(501)));
    }
}
