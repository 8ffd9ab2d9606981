//! One line of the doctor's report: which service (and which of its
//! targets), what state it is in, what was seen, and how to fix it.

use std::fmt;

use serde::Serialize;

use crate::secrets::{Credential, SecretsError};

/// The state a probe found a service in. Only `Ok` and `NotConfigured`
/// pass: everything else is a configured service that will not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    /// The config does not use this service; the fix names the keys to set.
    NotConfigured,
    /// DNS, connect, TLS or a timeout: nothing answered at the URL.
    Unreachable,
    /// A credential is missing, unusable, or the service refused it (401).
    NotAuthenticated,
    /// The service knows the credential but will not let it do this (403).
    PermissionMissing,
    /// The service answered, but the account, space, team, bucket, dataset
    /// or model named in the config is not there (404 or an empty lookup).
    Misconfigured,
    /// The service answered with something unusable: 5xx, a rate limit, a
    /// malformed body, a model answer of the wrong shape.
    Failed,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Ok,
        Status::NotConfigured,
        Status::Unreachable,
        Status::NotAuthenticated,
        Status::PermissionMissing,
        Status::Misconfigured,
        Status::Failed,
    ];

    /// The stable name used in `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::NotConfigured => "not_configured",
            Status::Unreachable => "unreachable",
            Status::NotAuthenticated => "not_authenticated",
            Status::PermissionMissing => "permission_missing",
            Status::Misconfigured => "misconfigured",
            Status::Failed => "failed",
        }
    }

    /// Words for the table.
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::NotConfigured => "not configured",
            Status::Unreachable => "unreachable",
            Status::NotAuthenticated => "not authenticated",
            Status::PermissionMissing => "permission missing",
            Status::Misconfigured => "misconfigured",
            Status::Failed => "failed",
        }
    }

    pub fn is_failure(self) -> bool {
        !matches!(self, Status::Ok | Status::NotConfigured)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The outcome of one probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `cloudflare`, `datadog`, ..., `agent`.
    pub service: String,
    /// What exactly was probed: an account id, a space key, an agent name.
    pub target: String,
    pub status: Status,
    /// What was seen: the short fact on success, the problem otherwise.
    pub detail: String,
    /// The exact change that fixes it; `None` when there is nothing to do.
    pub fix: Option<String>,
}

impl Check {
    pub fn new(
        service: impl Into<String>,
        target: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
    ) -> Check {
        Check {
            service: service.into(),
            target: target.into(),
            status,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn ok(service: &str, target: impl Into<String>, detail: impl Into<String>) -> Check {
        Check::new(service, target, Status::Ok, detail)
    }

    /// `keys` are the config keys that would turn the service on.
    pub fn not_configured(service: &str, detail: impl Into<String>, keys: &str) -> Check {
        Check::new(service, "-", Status::NotConfigured, detail)
            .with_fix(format!("to use it, set {keys} (or run `soc-tui setup`)"))
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }

    /// A credential that could not be read: missing, no keychain, keychain error.
    pub fn credential_problem(
        service: &str,
        target: impl Into<String>,
        error: &SecretsError,
    ) -> Check {
        let (detail, fix) = match error {
            SecretsError::Missing { credential } => (
                format!("no {credential} credential is stored"),
                store_fix(*credential),
            ),
            SecretsError::KeychainUnavailable { credential, reason } => (
                format!("no {credential} credential: no OS keychain is reachable ({reason})"),
                format!(
                    "set {} in the environment (or run where a keychain is available and \
                     use `soc-tui auth set {credential}`)",
                    credential.env_var()
                ),
            ),
            other => (
                other.to_string(),
                "see the keychain's message above".to_owned(),
            ),
        };
        Check::new(service, target, Status::NotAuthenticated, detail).with_fix(fix)
    }

    /// A stored value that cannot go into an HTTP header.
    pub fn unusable_credential(
        service: &str,
        target: impl Into<String>,
        credential: Credential,
    ) -> Check {
        Check::new(
            service,
            target,
            Status::NotAuthenticated,
            format!(
                "the stored {credential} holds a control character, a space or a non-ASCII \
                 byte, which no API key has (a pasted newline?)"
            ),
        )
        .with_fix(store_fix(credential))
    }
}

/// "store it with `soc-tui auth set X` (or set SOC_TUI_X)".
pub fn store_fix(credential: Credential) -> String {
    format!(
        "store the right one with `soc-tui auth set {credential}` (or set {})",
        credential.env_var()
    )
}

/// Visible ASCII only: what every API key and token is made of.
pub fn usable_in_header(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ok_and_not_configured_pass() {
        let passing: Vec<_> = Status::ALL.iter().filter(|s| !s.is_failure()).collect();
        assert_eq!(passing, [&Status::Ok, &Status::NotConfigured]);
        for status in Status::ALL {
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, status.as_str());
        }
    }

    #[test]
    fn credential_problems_name_the_command_and_the_variable() {
        let missing = Check::credential_problem(
            "linear",
            "team",
            &SecretsError::Missing {
                credential: Credential::LinearApiKey,
            },
        );
        assert_eq!(missing.status, Status::NotAuthenticated);
        let fix = missing.fix.unwrap();
        assert!(fix.contains("soc-tui auth set linear"), "{fix}");
        assert!(fix.contains("SOC_TUI_LINEAR_API_KEY"), "{fix}");

        let no_keychain = Check::credential_problem(
            "axiom",
            "dataset",
            &SecretsError::KeychainUnavailable {
                credential: Credential::AxiomToken,
                reason: "Secret Service: no D-Bus".into(),
            },
        );
        assert!(no_keychain.detail.contains("no D-Bus"), "{no_keychain:?}");
        assert!(no_keychain.fix.unwrap().contains("SOC_TUI_AXIOM_TOKEN"));
    }

    #[test]
    fn header_values_are_visible_ascii() {
        assert!(usable_in_header("abc-123_XYZ"));
        for bad in ["", "a b", "a\n", "é"] {
            assert!(!usable_in_header(bad), "{bad:?}");
        }
    }
}
