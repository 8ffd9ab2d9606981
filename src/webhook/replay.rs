//! Replay protection: every delivery has an id, remembered with the digest
//! of its signature in the store (`webhook_deliveries`), so the same
//! delivery is accepted once, and a captured signed request cannot come back
//! under a new delivery id either.

use sha2::{Digest, Sha256};

/// Longest delivery id accepted.
const MAX_ID_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid X-Soc-Tui-Delivery header: {0}")]
pub struct DeliveryIdError(&'static str);

/// The delivery id: the sender's header when it sends one, else derived from
/// what identifies the request (the signature, or the body when unsigned),
/// so a sender that sends no id is still protected against replays.
pub fn delivery_id(
    header: Option<&str>,
    signature_digest: Option<&str>,
    body: &[u8],
) -> Result<String, DeliveryIdError> {
    match header.map(str::trim) {
        Some("") => Err(DeliveryIdError("it is empty")),
        Some(id) if id.chars().count() > MAX_ID_CHARS => {
            Err(DeliveryIdError("longer than 200 characters"))
        }
        Some(id) if !id.chars().all(|c| c.is_ascii_graphic()) => Err(DeliveryIdError(
            "only printable ASCII without spaces is allowed",
        )),
        Some(id) => Ok(id.to_owned()),
        None => Ok(match signature_digest {
            Some(digest) => format!("sig:{digest}"),
            None => format!("body:{}", hex::encode(Sha256::digest(body))),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_header_or_the_request() {
        assert_eq!(delivery_id(Some(" d-1 "), None, b"x").unwrap(), "d-1");
        assert_eq!(delivery_id(None, Some("abc"), b"x").unwrap(), "sig:abc");
        let a = delivery_id(None, None, b"x").unwrap();
        assert!(a.starts_with("body:") && a == delivery_id(None, None, b"x").unwrap());
        assert_ne!(a, delivery_id(None, None, b"y").unwrap());
        assert!(delivery_id(Some(""), None, b"").is_err());
        assert!(delivery_id(Some("a b"), None, b"").is_err());
        assert!(delivery_id(Some(&"x".repeat(201)), None, b"").is_err());
    }
}
