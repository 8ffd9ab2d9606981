//! The OS keychain behind a small trait, so lookup order and the CLI can be
//! tested against an in-memory keychain and run against the real one.

use tracing::debug;
use zeroize::Zeroize;

use super::credential::{Credential, KEYCHAIN_SERVICE};
use super::error::{KeychainOperation, SecretsError};
use super::secret::Secret;

pub trait Keychain {
    /// Human name of the backend ("Secret Service", "macOS Keychain", ...).
    fn backend(&self) -> &'static str;

    /// `Ok(())` when the keychain can be used, else why not.
    fn availability(&self) -> Result<(), String>;

    /// The stored value, or `None` when nothing (or an empty value) is stored.
    fn read(&self, credential: Credential) -> Result<Option<Secret>, SecretsError>;

    /// Stores `secret`, replacing any previous value.
    fn write(&self, credential: Credential, secret: &Secret) -> Result<(), SecretsError>;

    /// Removes the stored value; `false` when there was nothing to remove.
    fn delete(&self, credential: Credential) -> Result<bool, SecretsError>;
}

/// The platform keychain through the `keyring` crate: macOS Keychain,
/// Windows Credential Manager, or the Secret Service (D-Bus) elsewhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsKeychain;

impl OsKeychain {
    fn entry(
        &self,
        credential: Credential,
        operation: KeychainOperation,
    ) -> Result<keyring::Entry, SecretsError> {
        if let Err(reason) = self.availability() {
            return Err(SecretsError::KeychainUnavailable { credential, reason });
        }
        keyring::Entry::new(KEYCHAIN_SERVICE, credential.keychain_account())
            .map_err(|err| classify(credential, operation, err))
    }
}

impl Keychain for OsKeychain {
    fn backend(&self) -> &'static str {
        if cfg!(target_os = "macos") {
            "macOS Keychain"
        } else if cfg!(windows) {
            "Windows Credential Manager"
        } else {
            "Secret Service"
        }
    }

    fn availability(&self) -> Result<(), String> {
        // keyring opens the platform store once per process and keeps the outcome.
        keyring::Entry::store_status()
            .as_ref()
            .map_err(|err| format!("{}: {}", self.backend(), describe_keyring_error(err)))?;
        Ok(())
    }

    fn read(&self, credential: Credential) -> Result<Option<Secret>, SecretsError> {
        let operation = KeychainOperation::Read;
        let entry = self.entry(credential, operation)?;
        match entry.get_password() {
            Ok(value) => {
                let secret = Secret::new(value);
                debug!(credential = %credential, found = !secret.is_empty(), "keychain read");
                Ok((!secret.is_empty()).then_some(secret))
            }
            Err(keyring::Error::NoEntry) => {
                debug!(credential = %credential, found = false, "keychain read");
                Ok(None)
            }
            Err(err) => Err(classify(credential, operation, err)),
        }
    }

    fn write(&self, credential: Credential, secret: &Secret) -> Result<(), SecretsError> {
        let operation = KeychainOperation::Write;
        let entry = self.entry(credential, operation)?;
        entry
            .set_password(secret.expose())
            .map_err(|err| classify(credential, operation, err))?;
        debug!(credential = %credential, "keychain write");
        Ok(())
    }

    fn delete(&self, credential: Credential) -> Result<bool, SecretsError> {
        let operation = KeychainOperation::Delete;
        let entry = self.entry(credential, operation)?;
        let deleted = match entry.delete_credential() {
            Ok(()) => true,
            Err(keyring::Error::NoEntry) => false,
            Err(err) => return Err(classify(credential, operation, err)),
        };
        debug!(credential = %credential, deleted, "keychain delete");
        Ok(deleted)
    }
}

/// Turns a keyring error into ours, wiping any secret bytes it carries first.
fn classify(
    credential: Credential,
    operation: KeychainOperation,
    mut err: keyring::Error,
) -> SecretsError {
    let reason = describe_keyring_error(&err);
    if let keyring::Error::BadEncoding(bytes) | keyring::Error::BadDataFormat(bytes, _) = &mut err {
        bytes.zeroize();
    }
    match err {
        keyring::Error::NoDefaultStore => SecretsError::KeychainUnavailable { credential, reason },
        keyring::Error::NoStorageAccess(_) => SecretsError::KeychainAccess { credential, reason },
        _ => SecretsError::Keychain {
            credential,
            operation,
            reason,
        },
    }
}

/// A description that never includes stored bytes: `BadEncoding` and
/// `BadDataFormat` carry the (possibly secret) payload, so they get fixed text.
fn describe_keyring_error(err: &keyring::Error) -> String {
    match err {
        keyring::Error::BadEncoding(_) => "the stored value is not valid UTF-8".to_owned(),
        keyring::Error::BadDataFormat(..) => {
            "the stored value is not in the format the keychain expects".to_owned()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_carrying_errors_are_described_without_their_bytes() {
        let payload = b"SENTINEL-payload".to_vec();
        for err in [
            keyring::Error::BadEncoding(payload.clone()),
            keyring::Error::BadDataFormat(payload.clone(), "bad".into()),
        ] {
            let mapped = classify(Credential::LinearApiKey, KeychainOperation::Read, err);
            let shown = format!("{mapped} {mapped:?}");
            assert!(!shown.contains("SENTINEL"), "{shown}");
            assert!(
                !shown.contains("83, 69, 78"),
                "payload bytes leaked: {shown}"
            );
            assert!(shown.contains("linear"), "{shown}");
        }
    }

    #[test]
    fn missing_store_means_unavailable_and_names_the_env_var() {
        let mapped = classify(
            Credential::CloudflareToken,
            KeychainOperation::Write,
            keyring::Error::NoDefaultStore,
        );
        assert!(matches!(mapped, SecretsError::KeychainUnavailable { .. }));
        assert!(mapped.to_string().contains("SOC_TUI_CLOUDFLARE_TOKEN"));
    }
}
