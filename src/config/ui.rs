//! `[ui]`: how the console looks.

use serde::{Deserialize, Serialize};

/// `[ui]`: the console's appearance. `--theme` on the command line wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "the [ui] table")]
pub struct UiConfig {
    /// A built-in theme (`dark`, `light`, `high-contrast`) or the name of
    /// `<config dir>/themes/<name>.toml`; `None`: dark.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
}
