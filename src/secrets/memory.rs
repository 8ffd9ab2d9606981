//! A keychain that lives in this process only: what the wizard and the
//! doctor are tested with, so their tests need no Secret Service. Values are
//! kept as [`Secret`]s, so they are redacted in `Debug` and zeroized on drop.

use std::cell::RefCell;
use std::collections::HashMap;

use super::credential::Credential;
use super::error::SecretsError;
use super::keychain::Keychain;
use super::secret::Secret;

#[derive(Debug, Default)]
pub struct MemoryKeychain {
    items: RefCell<HashMap<Credential, Secret>>,
}

impl Keychain for MemoryKeychain {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn availability(&self) -> Result<(), String> {
        Ok(())
    }

    fn read(&self, credential: Credential) -> Result<Option<Secret>, SecretsError> {
        Ok(self
            .items
            .borrow()
            .get(&credential)
            .map(|secret| Secret::new(secret.expose().to_owned())))
    }

    fn write(&self, credential: Credential, secret: &Secret) -> Result<(), SecretsError> {
        self.items
            .borrow_mut()
            .insert(credential, Secret::new(secret.expose().to_owned()));
        Ok(())
    }

    fn delete(&self, credential: Credential) -> Result<bool, SecretsError> {
        Ok(self.items.borrow_mut().remove(&credential).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_reads_and_deletes_without_showing_the_value() {
        let keychain = MemoryKeychain::default();
        let credential = Credential::LinearApiKey;
        keychain
            .write(credential, &Secret::new("lin_api_SENTINEL".into()))
            .unwrap();
        let read = keychain.read(credential).unwrap().unwrap();
        assert_eq!(read.expose(), "lin_api_SENTINEL");
        assert!(!format!("{keychain:?}").contains("SENTINEL"));
        assert!(keychain.delete(credential).unwrap());
        assert!(keychain.read(credential).unwrap().is_none());
        assert!(!keychain.delete(credential).unwrap());
    }
}
