//! Credential lookup: environment variable first, then the OS keychain.

use std::ffi::OsString;
use std::fmt;

use tracing::{debug, trace, warn};

use super::credential::Credential;
use super::error::SecretsError;
use super::keychain::{Keychain, OsKeychain};
use super::secret::Secret;

/// Where a resolved credential came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretOrigin {
    /// The named environment variable.
    Env(&'static str),
    Keychain,
}

impl fmt::Display for SecretOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretOrigin::Env(var) => write!(f, "env {var}"),
            SecretOrigin::Keychain => f.write_str("keychain"),
        }
    }
}

/// Reads environment variables; a function so tests can supply their own environment.
pub type EnvLookup = dyn Fn(&str) -> Option<OsString>;

fn process_env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// Looks credentials up in an environment and a keychain.
pub struct Resolver<'a> {
    env: &'a EnvLookup,
    keychain: &'a dyn Keychain,
}

impl Resolver<'static> {
    /// The process environment and the OS keychain.
    pub fn system() -> Resolver<'static> {
        Resolver {
            env: &process_env,
            keychain: &OsKeychain,
        }
    }
}

impl<'a> Resolver<'a> {
    pub fn new(env: &'a EnvLookup, keychain: &'a dyn Keychain) -> Resolver<'a> {
        Resolver { env, keychain }
    }

    pub fn keychain(&self) -> &'a dyn Keychain {
        self.keychain
    }

    /// The credential's value from its environment variable; an empty variable counts as unset.
    pub fn from_env(&self, credential: Credential) -> Result<Option<Secret>, SecretsError> {
        let var = credential.env_var();
        let Some(raw) = (self.env)(var) else {
            trace!(env_var = var, "environment variable not set");
            return Ok(None);
        };
        let value = raw
            .into_string()
            .map_err(|_not_unicode| SecretsError::EnvNotUnicode { credential })?;
        let secret = Secret::new(value);
        if secret.is_empty() {
            trace!(
                env_var = var,
                "environment variable empty, treated as unset"
            );
            return Ok(None);
        }
        Ok(Some(secret))
    }

    /// Environment variable, then keychain. `Ok(None)` means neither holds a value.
    ///
    /// Fails when the environment variable is unset and the keychain cannot be
    /// asked ([`SecretsError::KeychainUnavailable`], whose message names the
    /// variable to set); a caller that can work without the credential may
    /// treat that error as absence.
    pub fn resolve(
        &self,
        credential: Credential,
    ) -> Result<Option<(Secret, SecretOrigin)>, SecretsError> {
        let found = match self.from_env(credential)? {
            Some(secret) => Some((secret, SecretOrigin::Env(credential.env_var()))),
            None => self
                .keychain
                .read(credential)?
                .map(|secret| (secret, SecretOrigin::Keychain)),
        };
        match &found {
            Some((_, origin)) => debug!(credential = %credential, %origin, "credential resolved"),
            None => debug!(credential = %credential, "credential not found"),
        }
        Ok(found)
    }

    /// Like [`Resolver::resolve`], but absence is an error naming the env var and the `auth set` command.
    pub fn require(&self, credential: Credential) -> Result<(Secret, SecretOrigin), SecretsError> {
        self.resolve(credential)?
            .ok_or(SecretsError::Missing { credential })
    }

    /// Where every credential comes from. Values are read (to prove they are
    /// usable) and dropped at once; only origins leave this function.
    pub fn status(&self) -> AuthStatus {
        let keychain = KeychainStatus {
            backend: self.keychain.backend(),
            unavailable_reason: self.keychain.availability().err(),
        };
        if let Some(reason) = &keychain.unavailable_reason {
            debug!(backend = keychain.backend, %reason, "keychain unavailable");
        }
        let credentials = Credential::ALL
            .into_iter()
            .map(|credential| {
                let state = match self.resolve(credential) {
                    Ok(Some((_secret, SecretOrigin::Env(_)))) => CredentialState::Env,
                    Ok(Some((_secret, SecretOrigin::Keychain))) => CredentialState::Keychain,
                    Ok(None) => CredentialState::Missing,
                    // The keychain line of the status already says why.
                    Err(SecretsError::KeychainUnavailable { .. }) => CredentialState::Missing,
                    Err(err) => {
                        warn!(credential = %credential, error = %err, "credential lookup failed");
                        CredentialState::Error(err.to_string())
                    }
                };
                CredentialStatus { credential, state }
            })
            .collect();
        AuthStatus {
            keychain,
            credentials,
        }
    }
}

/// [`Resolver::resolve`] against the process environment and the OS keychain.
pub fn resolve(credential: Credential) -> Result<Option<(Secret, SecretOrigin)>, SecretsError> {
    Resolver::system().resolve(credential)
}

/// [`Resolver::require`] against the process environment and the OS keychain.
pub fn require(credential: Credential) -> Result<(Secret, SecretOrigin), SecretsError> {
    Resolver::system().require(credential)
}

/// [`Resolver::status`] against the process environment and the OS keychain.
pub fn status() -> AuthStatus {
    Resolver::system().status()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthStatus {
    pub keychain: KeychainStatus,
    pub credentials: Vec<CredentialStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeychainStatus {
    pub backend: &'static str,
    /// `None` when the keychain is usable.
    pub unavailable_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialStatus {
    pub credential: Credential,
    pub state: CredentialState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialState {
    Env,
    Keychain,
    Missing,
    /// The keychain failed for this credential (locked, malformed value, ...).
    Error(String),
}

impl CredentialState {
    /// Short label for tables and JSON.
    pub fn label(&self) -> &'static str {
        match self {
            CredentialState::Env => "env",
            CredentialState::Keychain => "keychain",
            CredentialState::Missing => "missing",
            CredentialState::Error(_) => "error",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::*;

    /// In-memory keychain; `unavailable` simulates a machine without one.
    #[derive(Default)]
    struct MemoryKeychain {
        items: RefCell<HashMap<Credential, String>>,
        unavailable: bool,
        locked: bool,
    }

    impl MemoryKeychain {
        fn check(&self, credential: Credential) -> Result<(), SecretsError> {
            if self.unavailable {
                return Err(SecretsError::KeychainUnavailable {
                    credential,
                    reason: "test: none".into(),
                });
            }
            if self.locked {
                return Err(SecretsError::KeychainAccess {
                    credential,
                    reason: "test: locked".into(),
                });
            }
            Ok(())
        }
    }

    impl Keychain for MemoryKeychain {
        fn backend(&self) -> &'static str {
            "memory"
        }
        fn availability(&self) -> Result<(), String> {
            if self.unavailable {
                Err("test: none".into())
            } else {
                Ok(())
            }
        }
        fn read(&self, credential: Credential) -> Result<Option<Secret>, SecretsError> {
            self.check(credential)?;
            Ok(self
                .items
                .borrow()
                .get(&credential)
                .cloned()
                .map(Secret::new))
        }
        fn write(&self, credential: Credential, secret: &Secret) -> Result<(), SecretsError> {
            self.check(credential)?;
            self.items
                .borrow_mut()
                .insert(credential, secret.expose().to_owned());
            Ok(())
        }
        fn delete(&self, credential: Credential) -> Result<bool, SecretsError> {
            self.check(credential)?;
            Ok(self.items.borrow_mut().remove(&credential).is_some())
        }
    }

    fn env_of(pairs: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        move |name| map.get(name).map(OsString::from)
    }

    #[test]
    fn env_wins_over_keychain() {
        let keychain = MemoryKeychain::default();
        keychain
            .write(
                Credential::CloudflareToken,
                &Secret::new("from-keychain".into()),
            )
            .unwrap();
        let env = env_of(&[("SOC_TUI_CLOUDFLARE_TOKEN", "from-env")]);
        let (secret, origin) = Resolver::new(&env, &keychain)
            .resolve(Credential::CloudflareToken)
            .unwrap()
            .unwrap();
        assert_eq!(secret.expose(), "from-env");
        assert_eq!(origin, SecretOrigin::Env("SOC_TUI_CLOUDFLARE_TOKEN"));
    }

    #[test]
    fn empty_env_var_counts_as_unset() {
        let keychain = MemoryKeychain::default();
        keychain
            .write(Credential::DatadogApiKey, &Secret::new("kc".into()))
            .unwrap();
        let env = env_of(&[("SOC_TUI_DATADOG_API_KEY", "")]);
        let resolver = Resolver::new(&env, &keychain);
        let (secret, origin) = resolver
            .resolve(Credential::DatadogApiKey)
            .unwrap()
            .unwrap();
        assert_eq!((secret.expose(), origin), ("kc", SecretOrigin::Keychain));
        assert!(resolver.resolve(Credential::AxiomToken).unwrap().is_none());
    }

    #[test]
    fn env_still_works_without_a_keychain() {
        let keychain = MemoryKeychain {
            unavailable: true,
            ..Default::default()
        };
        let env = env_of(&[("SOC_TUI_LINEAR_API_KEY", "lin")]);
        let resolver = Resolver::new(&env, &keychain);
        let (secret, _) = resolver.require(Credential::LinearApiKey).unwrap();
        assert_eq!(secret.expose(), "lin");
        let err = resolver.resolve(Credential::AxiomToken).unwrap_err();
        assert!(matches!(err, SecretsError::KeychainUnavailable { .. }));
        assert!(err.to_string().contains("SOC_TUI_AXIOM_TOKEN"), "{err}");
    }

    #[test]
    fn require_names_env_var_and_command_when_missing() {
        let keychain = MemoryKeychain::default();
        let env = env_of(&[]);
        let err = Resolver::new(&env, &keychain)
            .require(Credential::PagerdutyRoutingKey)
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("SOC_TUI_PAGERDUTY_ROUTING_KEY"), "{text}");
        assert!(
            text.contains("soc-tui auth set pagerduty-routing-key"),
            "{text}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_env_var_is_an_error_that_hides_the_value() {
        use std::os::unix::ffi::OsStringExt;
        let keychain = MemoryKeychain::default();
        let env = |name: &str| {
            (name == "SOC_TUI_S3_SECRET_ACCESS_KEY")
                .then(|| OsString::from_vec(b"SENTINEL\xff".to_vec()))
        };
        let err = Resolver::new(&env, &keychain)
            .resolve(Credential::S3SecretAccessKey)
            .unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("SOC_TUI_S3_SECRET_ACCESS_KEY"), "{shown}");
        assert!(!shown.contains("SENTINEL"), "{shown}");
    }

    #[test]
    fn status_reports_origins_and_keychain_state() {
        let keychain = MemoryKeychain::default();
        keychain
            .write(Credential::ConfluenceToken, &Secret::new("c".into()))
            .unwrap();
        let env = env_of(&[("SOC_TUI_CLOUDFLARE_TOKEN", "cf")]);
        let status = Resolver::new(&env, &keychain).status();
        assert_eq!(status.keychain.unavailable_reason, None);
        let state = |c| {
            status
                .credentials
                .iter()
                .find(|s| s.credential == c)
                .map(|s| s.state.clone())
                .unwrap()
        };
        assert_eq!(state(Credential::CloudflareToken), CredentialState::Env);
        assert_eq!(
            state(Credential::ConfluenceToken),
            CredentialState::Keychain
        );
        assert_eq!(state(Credential::LlmApiKey), CredentialState::Missing);
        assert_eq!(status.credentials.len(), Credential::ALL.len());
    }

    #[test]
    fn status_without_keychain_says_why_and_keeps_env_credentials() {
        let keychain = MemoryKeychain {
            unavailable: true,
            ..Default::default()
        };
        let env = env_of(&[("SOC_TUI_DATADOG_APP_KEY", "app")]);
        let status = Resolver::new(&env, &keychain).status();
        assert_eq!(
            status.keychain.unavailable_reason.as_deref(),
            Some("test: none")
        );
        for entry in &status.credentials {
            let expected = if entry.credential == Credential::DatadogAppKey {
                CredentialState::Env
            } else {
                CredentialState::Missing
            };
            assert_eq!(entry.state, expected, "{}", entry.credential);
        }
    }

    #[test]
    fn status_reports_keychain_errors_per_credential() {
        let keychain = MemoryKeychain {
            locked: true,
            ..Default::default()
        };
        let env = env_of(&[]);
        let status = Resolver::new(&env, &keychain).status();
        let first = &status.credentials[0];
        match &first.state {
            CredentialState::Error(reason) => assert!(reason.contains("locked"), "{reason}"),
            other => panic!("expected an error state, got {other:?}"),
        }
        assert_eq!(first.state.label(), "error");
    }
}
