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
    let service = match path.split('.').next() {
        Some("cloudflare") => "cloudflare",
        Some("datadog") => "datadog-api-key` and `soc-tui auth set datadog-app-key",
        Some("axiom") => "axiom",
        Some("confluence") => "confluence",
        Some("linear") => "linear",
        Some("pagerduty") => "pagerduty-routing-key",
        Some("s3") => "s3-access-key-id` and `soc-tui auth set s3-secret-access-key",
        Some("agents") => "llm-api-key",
        _ => "<name>",
    };
    format!(
        "this key looks like it holds a secret, and secrets never go in the config file \
         (it is plain text): delete the line and store the credential in the OS keychain with \
         `soc-tui auth set {service}`"
    )
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
    }
}
