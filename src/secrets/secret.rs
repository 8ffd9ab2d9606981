//! The one type that holds a credential value in memory.

use std::fmt;

use zeroize::Zeroize;

/// A credential value.
///
/// `Debug` and `Display` print `[redacted]`, so a secret that ends up in a
/// log line, an error chain or a panic message shows nothing. The buffer is
/// overwritten with zeros on drop. [`Secret::expose`] is the only way to read
/// the value; grep for it to audit every place a secret leaves this type.
/// There is deliberately no `Clone`, `Serialize` or `PartialEq`.
pub struct Secret(String);

const REDACTED: &str = "[redacted]";

impl Secret {
    /// Takes ownership of `value` without copying it, so no unzeroized copy is left behind.
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value, for the one call that sends it (an HTTP header, a keychain write).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_value() {
        let secret = Secret::new("hunter2-value".to_owned());
        for shown in [
            format!("{secret:?}"),
            format!("{secret:#?}"),
            format!("{secret}"),
            format!("{:>40}", secret),
            format!("{:?}", Some(&secret)),
        ] {
            assert!(!shown.contains("hunter2"), "leaked in {shown:?}");
            assert!(shown.contains(REDACTED), "{shown:?}");
        }
    }

    #[test]
    fn expose_returns_the_exact_value() {
        let secret = Secret::new(" spaced value ".to_owned());
        assert_eq!(secret.expose(), " spaced value ");
        assert!(!secret.is_empty());
        assert!(Secret::new(String::new()).is_empty());
    }
}
