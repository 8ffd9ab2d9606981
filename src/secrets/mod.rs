//! Credentials: the [`Secret`] type, lookup (environment variable, then the OS
//! keychain), and the `soc-tui auth` subcommand.
//!
//! Other modules call [`resolve`] or [`require`] with a [`Credential`] and use
//! [`Secret::expose`] exactly where the value is sent. Secrets never live in
//! the config file, the store or the logs.

mod command;
mod credential;
mod error;
mod keychain;
mod memory;
mod no_keychain;
mod resolve;
mod secret;

pub use command::{AuthCommand, DeleteArgs, SetArgs, StatusArgs, run};
pub use credential::{Credential, KEYCHAIN_SERVICE};
pub use error::{KeychainOperation, SecretsError};
pub use keychain::{Keychain, OsKeychain};
pub use memory::MemoryKeychain;
pub use no_keychain::NoKeychain;
pub use resolve::{
    AuthStatus, CredentialState, CredentialStatus, EnvLookup, KeychainStatus, Resolver,
    SecretOrigin, require, resolve, status,
};
pub use secret::Secret;
