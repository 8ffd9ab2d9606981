//! Refuses keys that look like they hold a secret.
//!
//! The config file is plain text that people paste into tickets and dotfile
//! repos. Such keys would be rejected as unknown anyway; this check runs first
//! so the message says where credentials belong instead.

/// Words that mark a key as a secret on their own (`token`, `cf_api_token`).
const SECRET_WORDS: &[&str] = &[
    "token",
    "password",
    "passwd",
    "passphrase",
    "secret",
    "apikey",
    "credentials",
    "bearer",
    "authorization",
];

/// First words that make a following `key` a secret (`api_key`, `routing_key`).
const SECRET_KEY_QUALIFIERS: &[&str] = &[
    "api",
    "app",
    "application",
    "access",
    "private",
    "secret",
    "routing",
    "integration",
    "signing",
    "webhook",
    "license",
    "auth",
];

/// Tables whose keys are another system's vocabulary (`token_create`), not
/// setting names: their values are from a fixed list, so they cannot hold a
/// secret, and their keys may contain any word.
const VOCABULARY_TABLES: &[&str] = &["cloudflare.action_kinds", "datadog.action_kinds"];

/// Whether `path` (dotted, as the source map writes it) is a key inside a
/// vocabulary table, exempt from the secret check.
pub(crate) fn is_vocabulary_key(path: &str) -> bool {
    VOCABULARY_TABLES.iter().any(|table| {
        path.strip_prefix(table)
            .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// Whether a key name (one key, not a dotted path) looks like it holds a secret.
pub(crate) fn looks_like_secret(key: &str) -> bool {
    let words: Vec<String> = key
        .split(['_', '-'])
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if words
        .iter()
        .any(|word| SECRET_WORDS.contains(&word.as_str()))
    {
        return true;
    }
    // A `..._key` that is followed by more words (`routing_key_name`) names a
    // credential rather than holding one.
    match words.as_slice() {
        [.., qualifier, last] if last == "key" => {
            SECRET_KEY_QUALIFIERS.contains(&qualifier.as_str())
        }
        [only] => only == "key",
        _ => false,
    }
}

/// The message for a secret-looking key found at `path`.
pub(crate) fn secret_key_message(path: &str) -> String {
    format!(
        "this key looks like it holds a secret, and secrets never go in the config file \
         (it is plain text): delete the line and store the credential in the OS keychain with \
         `soc-tui auth set {}`",
        credential_hint(path)
    )
}

/// The message for a `SOC_TUI__...` variable that would set a secret-looking key.
pub(crate) fn secret_env_message(path: &str) -> String {
    format!(
        "this variable would set `{path}`, which looks like a secret, and secrets are never \
         config values: unset it, then give the credential its own variable (listed by \
         `soc-tui auth --help`, e.g. SOC_TUI_CLOUDFLARE_TOKEN) or store it in the OS keychain \
         with `soc-tui auth set {}`",
        credential_hint(path)
    )
}

/// The `soc-tui auth set` argument for a secret found under `path`'s section.
fn credential_hint(path: &str) -> &'static str {
    match path.split('.').next() {
        Some("cloudflare") => "cloudflare",
        Some("datadog") => "datadog-api-key` and `soc-tui auth set datadog-app-key",
        Some("axiom") => "axiom",
        Some("confluence") => "confluence",
        Some("linear") => "linear",
        Some("pagerduty") => "pagerduty-routing-key",
        Some("s3") => "s3-access-key-id` and `soc-tui auth set s3-secret-access-key",
        Some("agents") => "llm-api-key",
        _ => "<name>",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_are_recognised() {
        for key in [
            "token",
            "api_token",
            "API_TOKEN",
            "api_key",
            "apikey",
            "app-key",
            "application_key",
            "routing_key",
            "secret_access_key",
            "aws_secret",
            "password",
            "key",
            "client_secret",
            "bearer",
        ] {
            assert!(looks_like_secret(key), "{key}");
        }
    }

    #[test]
    fn ordinary_names_are_not_secrets() {
        for key in [
            "routing_key_name",
            "space_key",
            "tokens",
            "tokens_cadence",
            "api_base",
            "api_version",
            "account_ids",
            "keyboard",
            "monkey",
        ] {
            assert!(!looks_like_secret(key), "{key}");
        }
    }

    #[test]
    fn message_points_to_the_service() {
        assert!(
            secret_key_message("cloudflare.api_token").contains("`soc-tui auth set cloudflare`")
        );
        assert!(secret_key_message("slack.token").contains("`soc-tui auth set <name>`"));
        let env = secret_env_message("linear.api_key");
        assert!(env.contains("`linear.api_key`"), "{env}");
        assert!(env.contains("`soc-tui auth set linear`"), "{env}");
    }

    #[test]
    fn only_keys_inside_vocabulary_tables_are_exempt() {
        assert!(is_vocabulary_key("cloudflare.action_kinds.token_create"));
        assert!(is_vocabulary_key(
            "datadog.action_kinds.\"api key created\""
        ));
        assert!(!is_vocabulary_key("cloudflare.action_kinds"));
        assert!(!is_vocabulary_key("cloudflare.action_kinds_token"));
        assert!(!is_vocabulary_key("cloudflare.api_token"));
    }
}
