//! A keychain that holds nothing and stores nothing: for runs where every
//! credential must come from the environment or nowhere (request previews,
//! which must never read a real secret, and tests).

use super::credential::Credential;
use super::error::SecretsError;
use super::keychain::Keychain;
use super::secret::Secret;

/// Reads find nothing, deletes find nothing to remove, writes are refused
/// with `reason`.
#[derive(Debug, Clone, Copy)]
pub struct NoKeychain {
    reason: &'static str,
}

impl NoKeychain {
    /// `reason` says why no keychain is used here (shown when a write is
    /// refused, and as its availability).
    pub const fn new(reason: &'static str) -> NoKeychain {
        NoKeychain { reason }
    }
}

impl Keychain for NoKeychain {
    fn backend(&self) -> &'static str {
        "none"
    }

    fn availability(&self) -> Result<(), String> {
        Err(self.reason.to_owned())
    }

    fn read(&self, _: Credential) -> Result<Option<Secret>, SecretsError> {
        Ok(None)
    }

    fn write(&self, credential: Credential, _: &Secret) -> Result<(), SecretsError> {
        Err(SecretsError::KeychainUnavailable {
            credential,
            reason: self.reason.to_owned(),
        })
    }

    fn delete(&self, _: Credential) -> Result<bool, SecretsError> {
        Ok(false)
    }
}
