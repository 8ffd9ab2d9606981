//! Who may send anomalies.
//!
//! HMAC mode: the sender computes `HMAC-SHA256(secret, "<t>.<body>")` over
//! the exact body bytes, with `t` the current unix time in seconds, and sends
//!
//! ```text
//! X-Soc-Tui-Signature: t=1795230000,v1=<64 lowercase hex>
//! X-Soc-Tui-Delivery: <unique id of this delivery>
//! ```
//!
//! Several `v1=` entries are allowed (any one may match), so a sender can
//! sign with an old and a new secret while it is rotated. The timestamp
//! must be within the configured skew of our clock.
//!
//! Shared-secret mode, for senders that cannot sign (Datadog webhooks take
//! custom headers but cannot compute a MAC): `X-Soc-Tui-Shared-Secret:
//! <secret>`. Weaker: the secret travels with every request, and without a
//! signed time a captured request stays valid until its delivery id is
//! forgotten. Prefer HMAC, and TLS in front of the receiver either way.
//!
//! Comparisons are constant-time in both modes.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const SIGNATURE_HEADER: &str = "x-soc-tui-signature";
pub const DELIVERY_HEADER: &str = "x-soc-tui-delivery";
pub const SHARED_SECRET_HEADER: &str = "x-soc-tui-shared-secret";

/// More `v1=` entries than this is not a rotation, it is a guessing attempt.
const MAX_SIGNATURES: usize = 4;

type HmacSha256 = Hmac<Sha256>;

/// Why a request is not authenticated. Messages are returned to the sender
/// and say what to fix without revealing anything about the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error(
        "missing {SIGNATURE_HEADER} header (expected t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">)"
    )]
    MissingSignature,
    #[error("malformed {SIGNATURE_HEADER} header: {0}")]
    MalformedSignature(String),
    #[error("signature does not match the body")]
    BadSignature,
    #[error(
        "signature timestamp is {skew_secs}s away from the receiver's clock (at most {max_secs}s allowed)"
    )]
    StaleTimestamp { skew_secs: i64, max_secs: i64 },
    #[error("missing {SHARED_SECRET_HEADER} header")]
    MissingSharedSecret,
    #[error("wrong shared secret")]
    BadSharedSecret,
}

impl AuthError {
    /// Stable machine-readable code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingSignature => "missing_signature",
            AuthError::MalformedSignature(_) => "malformed_signature",
            AuthError::BadSignature => "bad_signature",
            AuthError::StaleTimestamp { .. } => "stale_timestamp",
            AuthError::MissingSharedSecret => "missing_shared_secret",
            AuthError::BadSharedSecret => "bad_shared_secret",
        }
    }
}

/// A verified signature: its time, and a digest identifying the exact
/// signed request (for replay detection independent of the delivery id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub timestamp: i64,
    pub digest: String,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The signature header value for `body` sent at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(tag))
}

struct SignatureHeader {
    timestamp: i64,
    signatures: Vec<Vec<u8>>,
}

fn parse_header(text: &str) -> Result<SignatureHeader, AuthError> {
    let malformed = |why: &str| AuthError::MalformedSignature(why.to_owned());
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in text.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| malformed("expected comma-separated key=value pairs"))?;
        match key {
            "t" => {
                if timestamp.is_some() {
                    return Err(malformed("t= appears twice"));
                }
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| malformed("t= is not unix seconds"))?,
                );
            }
            "v1" => {
                let bytes = hex::decode(value).map_err(|_| malformed("v1= is not hex"))?;
                if bytes.len() != 32 {
                    return Err(malformed("v1= is not 32 bytes (64 hex characters)"));
                }
                signatures.push(bytes);
            }
            // Unknown schemes are ignored so a future v2 can be sent alongside.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or_else(|| malformed("no t= timestamp"))?;
    if signatures.is_empty() {
        return Err(malformed("no v1= signature"));
    }
    if signatures.len() > MAX_SIGNATURES {
        return Err(malformed("too many v1= signatures"));
    }
    Ok(SignatureHeader {
        timestamp,
        signatures,
    })
}

/// Checks a signed request. `now` and `max_skew_secs` bound the timestamp.
pub fn verify_hmac(
    secret: &[u8],
    header: Option<&str>,
    body: &[u8],
    now: i64,
    max_skew_secs: i64,
) -> Result<Verified, AuthError> {
    let header = parse_header(header.ok_or(AuthError::MissingSignature)?)?;
    let expected = mac(secret, header.timestamp, body);
    // Every candidate is checked (no early exit) so timing says nothing about which matched.
    let mut matched: Option<&Vec<u8>> = None;
    for candidate in &header.signatures {
        if expected.clone().verify_slice(candidate).is_ok() {
            matched = Some(candidate);
        }
    }
    let matched = matched.ok_or(AuthError::BadSignature)?;
    let skew = now.saturating_sub(header.timestamp).saturating_abs();
    if skew > max_skew_secs {
        return Err(AuthError::StaleTimestamp {
            skew_secs: skew,
            max_secs: max_skew_secs,
        });
    }
    Ok(Verified {
        timestamp: header.timestamp,
        digest: hex::encode(Sha256::digest(matched)),
    })
}

/// Checks the shared-secret header.
pub fn verify_shared_secret(secret: &[u8], presented: Option<&str>) -> Result<(), AuthError> {
    let presented = presented.ok_or(AuthError::MissingSharedSecret)?;
    if constant_time_eq(secret, presented.trim().as_bytes()) {
        Ok(())
    } else {
        Err(AuthError::BadSharedSecret)
    }
}

/// Compares digests of both values, so neither the content nor the length
/// of the secret shows in the time taken.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let (da, db) = (Sha256::digest(a), Sha256::digest(b));
    da.iter()
        .zip(db.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec-test";
    const NOW: i64 = 1_795_230_000;

    #[test]
    fn a_signed_request_verifies_and_its_digest_is_stable() {
        let body = br#"{"actor":"a"}"#;
        let header = sign(SECRET, NOW, body);
        assert!(header.starts_with(&format!("t={NOW},v1=")));
        let v = verify_hmac(SECRET, Some(&header), body, NOW + 10, 300).unwrap();
        assert_eq!(v.timestamp, NOW);
        let again = verify_hmac(SECRET, Some(&header), body, NOW, 300).unwrap();
        assert_eq!(v.digest, again.digest);
    }

    #[test]
    fn any_change_or_wrong_secret_fails() {
        let body = br#"{"actor":"a"}"#.to_vec();
        let header = sign(SECRET, NOW, &body);
        let mut changed = body.clone();
        changed[3] ^= 1;
        assert_eq!(
            verify_hmac(SECRET, Some(&header), &changed, NOW, 300),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            verify_hmac(b"other", Some(&header), &body, NOW, 300),
            Err(AuthError::BadSignature)
        );
        // Moving the timestamp breaks the MAC too: it is signed.
        let moved = header.replace(&NOW.to_string(), &(NOW + 1).to_string());
        assert_eq!(
            verify_hmac(SECRET, Some(&moved), &body, NOW, 300),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let body = b"{}";
        let old = sign(SECRET, NOW - 301, body);
        assert_eq!(
            verify_hmac(SECRET, Some(&old), body, NOW, 300),
            Err(AuthError::StaleTimestamp {
                skew_secs: 301,
                max_secs: 300
            })
        );
        let future = sign(SECRET, NOW + 400, body);
        assert!(matches!(
            verify_hmac(SECRET, Some(&future), body, NOW, 300),
            Err(AuthError::StaleTimestamp { .. })
        ));
    }

    #[test]
    fn rotation_accepts_either_signature() {
        let body = b"{}";
        let new = sign(SECRET, NOW, body);
        let old = sign(b"old-secret", NOW, body);
        let both = format!("{old},{}", new.split_once(',').unwrap().1);
        assert!(verify_hmac(SECRET, Some(&both), body, NOW, 300).is_ok());
    }

    #[test]
    fn malformed_headers_say_what_is_wrong() {
        for (header, expect) in [
            (&format!("v1={}", "00".repeat(32)), "no t= timestamp"),
            (&"t=abc,v1=00".to_owned(), "not unix seconds"),
            (&"t=1".to_owned(), "no v1= signature"),
            (&"t=1,v1=zz".to_owned(), "not hex"),
            (&"t=1,v1=00".to_owned(), "not 32 bytes"),
            (&"garbage".to_owned(), "key=value"),
        ] {
            let err = verify_hmac(SECRET, Some(header.as_ref()), b"", NOW, 300).unwrap_err();
            assert!(err.to_string().contains(expect), "{header}: {err}");
        }
        assert_eq!(
            verify_hmac(SECRET, None, b"", NOW, 300),
            Err(AuthError::MissingSignature)
        );
    }

    #[test]
    fn shared_secret_compares_exactly() {
        assert!(verify_shared_secret(SECRET, Some("whsec-test")).is_ok());
        assert_eq!(
            verify_shared_secret(SECRET, Some("whsec-tesT")),
            Err(AuthError::BadSharedSecret)
        );
        assert_eq!(
            verify_shared_secret(SECRET, Some("whsec-test-longer")),
            Err(AuthError::BadSharedSecret)
        );
        assert_eq!(
            verify_shared_secret(SECRET, None),
            Err(AuthError::MissingSharedSecret)
        );
        assert!(constant_time_eq(b"", b""));
    }
}
