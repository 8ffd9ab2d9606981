//! Config errors: each names the file, and for a bad file the line, column
//! and key; a bad `SOC_TUI__...` environment variable is named instead of a line.

use std::fmt;
use std::path::PathBuf;

/// 1-based line and column (in characters) within the config text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub(crate) fn of_offset(text: &str, offset: usize) -> Location {
        let mut offset = offset.min(text.len());
        // Spans start on char boundaries; stay safe if one ever does not.
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |nl| nl + 1);
        Location {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {} does not exist", path.display())]
    NotFound { path: PathBuf },

    #[error("cannot read config file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("config file {} is larger than {limit} bytes; is it the right file?", path.display())]
    TooLarge { path: PathBuf, limit: u64 },

    #[error("config file {} is not UTF-8 text (first bad byte at offset {offset})", path.display())]
    NotUtf8 { path: PathBuf, offset: usize },

    #[error("{0}")]
    Invalid(Box<InvalidConfig>),
}

impl ConfigError {
    /// The location of the problem inside the file, for an invalid file.
    pub fn location(&self) -> Option<Location> {
        match self {
            ConfigError::Invalid(invalid) => invalid.location,
            _ => None,
        }
    }

    /// The dotted key the problem is about, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid(invalid) => invalid.key.as_deref(),
            _ => None,
        }
    }

    /// The `SOC_TUI__...` variable that set the bad value, when one did.
    pub fn env_var(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid(invalid) => invalid.env_var.as_deref(),
            _ => None,
        }
    }
}

/// A config text that does not parse or does not validate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidConfig {
    /// The file path, or whatever name the text was given.
    pub origin: String,
    pub location: Option<Location>,
    pub key: Option<String>,
    /// The environment variable the value came from; then `location` is `None`.
    pub env_var: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.env_var {
            Some(var) => write!(f, "config error in environment variable {var}")?,
            None => write!(f, "config error in {}", self.origin)?,
        }
        if let Some(Location { line, column }) = self.location {
            write!(f, " line {line}, column {column}")?;
        }
        f.write_str(": ")?;
        if let Some(key) = &self.key {
            write!(f, "key `{key}`: ")?;
        }
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_lines_and_char_columns() {
        let text = "a = 1\nname = \"é\" x\n";
        assert_eq!(
            Location::of_offset(text, 0),
            Location { line: 1, column: 1 }
        );
        let x = text.find('x').unwrap();
        assert_eq!(
            Location::of_offset(text, x),
            Location {
                line: 2,
                column: 12
            }
        );
        assert_eq!(
            Location::of_offset(text, text.len()),
            Location { line: 3, column: 1 }
        );
        assert_eq!(
            Location::of_offset(text, 999),
            Location { line: 3, column: 1 }
        );
    }

    #[test]
    fn display_names_origin_line_column_and_key() {
        let invalid = InvalidConfig {
            origin: "/etc/soc-tui.toml".into(),
            location: Some(Location {
                line: 4,
                column: 18,
            }),
            key: Some("s3.retention_days".into()),
            env_var: None,
            message: "must be at least 1".into(),
        };
        assert_eq!(
            invalid.to_string(),
            "config error in /etc/soc-tui.toml line 4, column 18: key `s3.retention_days`: must be at least 1"
        );
    }

    #[test]
    fn display_names_the_variable_instead_of_a_line() {
        let invalid = InvalidConfig {
            origin: "/etc/soc-tui.toml".into(),
            location: None,
            key: Some("http.request_timeout".into()),
            env_var: Some("SOC_TUI__HTTP__REQUEST_TIMEOUT".into()),
            message: "must be greater than zero".into(),
        };
        assert_eq!(
            invalid.to_string(),
            "config error in environment variable SOC_TUI__HTTP__REQUEST_TIMEOUT: key `http.request_timeout`: must be greater than zero"
        );
    }
}
