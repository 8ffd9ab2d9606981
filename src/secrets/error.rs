//! Errors of the credential layer. None of them carries a secret value:
//! reasons are built from keychain error *descriptions*, never from payloads.

use super::credential::Credential;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// No OS keychain could be opened (e.g. headless Linux without a Secret Service).
    #[error(
        "no OS keychain is reachable here ({reason}); set {} in the environment to provide {credential}",
        .credential.env_var()
    )]
    KeychainUnavailable {
        credential: Credential,
        reason: String,
    },

    /// The keychain exists but refused access (locked, access denied, prompt dismissed).
    #[error(
        "the OS keychain refused access to {credential} ({reason}); unlock it, or set {}",
        .credential.env_var()
    )]
    KeychainAccess {
        credential: Credential,
        reason: String,
    },

    /// Any other keychain failure, with the operation that failed.
    #[error("{operation} {credential} in the OS keychain failed: {reason}")]
    Keychain {
        credential: Credential,
        operation: KeychainOperation,
        reason: String,
    },

    #[error("environment variable {} is set but is not valid UTF-8", .credential.env_var())]
    EnvNotUnicode { credential: Credential },

    #[error(
        "no credential for {credential}: set {} or run `soc-tui auth set {credential}`",
        .credential.env_var()
    )]
    Missing { credential: Credential },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeychainOperation {
    Read,
    Write,
    Delete,
}

impl std::fmt::Display for KeychainOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeychainOperation::Read => "reading",
            KeychainOperation::Write => "storing",
            KeychainOperation::Delete => "deleting",
        })
    }
}
