//! Rules as code: every threshold the detectors use.
//!
//! The built-in defaults (`assets/rules.toml`, embedded) are loaded first;
//! `<config dir>/rules.toml`, when present, is merged on top key by key
//! (tables merge recursively; scalars and arrays replace), so a user file
//! names only what it changes. Unknown keys are errors, and every error names
//! the file, the line and the key (see [`load`]).

mod command;
mod load;
mod values;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::finding::Severity;
use super::pattern::Pattern;

pub use command::{RulesCommand, run};
pub use load::{
    DEFAULT_RULES, LoadedRules, Location, Origin, RULES_FILE_NAME, RulesError, load, load_file,
    parse,
};
pub use values::{Count, Days, DaysOrZero, Factor, Minutes, Note, Positive, RuleName, UtcTime};

/// The effective rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub baseline: BaselineRules,
    pub burst: BurstRules,
    pub tokens: TokenRules,
    /// Allow-lists keyed by a rule-id pattern (`"burst.monitor_delete"`, `"token.*"`).
    #[serde(default)]
    pub allow: BTreeMap<Pattern, AllowList>,
    /// Expiring suppressions.
    #[serde(default)]
    pub suppressions: Vec<Suppression>,
}

/// Hourly per-actor volume and new-resource-type check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineRules {
    /// Trailing window the baseline is computed over.
    pub window_days: Days,
    /// Flag when the hour's changes reach this multiple of the expected count.
    pub volume_factor: Factor,
    /// The expected count never goes below this, so 0 -> 3 is not "infinite x".
    pub expected_floor: Positive,
    /// An hour with fewer changes than this never flags on volume.
    pub min_changes: Count,
    /// Flag resource types the actor never touched inside the window.
    pub new_resource_types: bool,
    pub volume_severity: Severity,
    pub new_type_severity: Severity,
    pub cold_start: ColdStart,
}

/// What to do for actors with too little history for a baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColdStart {
    /// Actors first seen fewer than this many days before the checked hour are "cold".
    pub min_history_days: DaysOrZero,
    pub mode: ColdStartMode,
    /// Used by `absolute_threshold`: flag a cold actor's hour at this many changes.
    pub absolute_threshold: Count,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColdStartMode {
    /// Report nothing for cold actors.
    Skip,
    /// Only the new-resource-type check, against the short history there is.
    NewTypesOnly,
    /// Only a fixed volume threshold (`absolute_threshold`).
    AbsoluteThreshold,
}

impl ColdStartMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ColdStartMode::Skip => "skip",
            ColdStartMode::NewTypesOnly => "new_types_only",
            ColdStartMode::AbsoluteThreshold => "absolute_threshold",
        }
    }
}

/// Datadog audit burst check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurstRules {
    /// Sliding window the thresholds count within; also the longest pause
    /// that still continues a burst.
    pub window_minutes: Minutes,
    /// Named actions (rule id `burst.<name>`).
    pub actions: BTreeMap<RuleName, BurstAction>,
}

/// One named action in Datadog audit vocabulary. Each list holds
/// alternatives; an absent or empty list matches anything; all given lists
/// must match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurstAction {
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default)]
    pub description: String,
    /// `attributes.evt.name` (`Access Management`, `Monitor`, ...).
    #[serde(default)]
    pub evt_name: Vec<Pattern>,
    /// `attributes.asset.type` (`role`, `api_key`, `monitor`, ...).
    #[serde(default)]
    pub asset_type: Vec<Pattern>,
    /// `attributes.action` (`created`, `modified`, `deleted`, ...).
    #[serde(default)]
    pub action: Vec<Pattern>,
    /// Matching events by one actor within the window that make a burst.
    pub threshold: Count,
    pub severity: Severity,
}

fn enabled_by_default() -> bool {
    true
}

/// Cloudflare token watchdog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRules {
    /// Actors (actor key: lower-cased email, else id) allowed to create tokens.
    pub approved_issuers: Vec<Pattern>,
    /// Policy resource keys a token may reach; any other key is flagged.
    pub allowed_resources: Vec<Pattern>,
    /// Resource keys that mean "everything", compared literally (the `*` in
    /// `com.cloudflare.api.account.zone.*` is part of the key).
    pub broad_resource_keys: Vec<String>,
    /// Permission groups that are broad on their own (can mint tokens, manage members).
    pub broad_permission_groups: Vec<Pattern>,
    /// Permission groups that write, besides names ending in a `write_suffixes` word.
    pub write_permission_groups: Vec<Pattern>,
    /// Last word of a permission group name that means write access (`Write`, `Edit`).
    pub write_suffixes: Vec<String>,
    pub severity: TokenSeverities,
    /// How token creations are recognised (rule names are free; the kind matters).
    pub creations: BTreeMap<RuleName, TokenCreationRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSeverities {
    pub broad: Severity,
    pub write: Severity,
    pub unknown_scope: Severity,
    pub unapproved_issuer: Severity,
    pub outside_allowed_resources: Severity,
}

/// Which Cloudflare audit entries are token creations, on the normalized
/// event: `action_type` is the source verb (`token_create` in v1, `create`
/// in v2), `resource_type`/`resource_product` the v2 resource fields. Lists
/// hold alternatives; absent or empty lists match anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenCreationRule {
    pub kind: TokenKind,
    pub action_type: Vec<Pattern>,
    #[serde(default)]
    pub resource_type: Vec<Pattern>,
    #[serde(default)]
    pub resource_product: Vec<Pattern>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A Cloudflare API token (user- or account-owned).
    ApiToken,
    /// A Cloudflare Access service token (client id + secret).
    ServiceToken,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::ApiToken => "api_token",
            TokenKind::ServiceToken => "service_token",
        }
    }
}

/// Actors and resources a rule expects. Matching actors make a hit
/// "suppressed (allow-list)"; matching resources are left out before counting:
/// resource types for `baseline.new_type`, the event's resource type, id or
/// name for `burst.*`. Token rules take actors only: a token's name is chosen
/// by whoever creates it, so it must not be able to silence the watchdog.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowList {
    #[serde(default)]
    pub actors: Vec<Pattern>,
    #[serde(default)]
    pub resources: Vec<Pattern>,
}

/// Silences one rule for matching actors until a point in time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    pub actor: Pattern,
    /// A rule-id pattern.
    pub rule: Pattern,
    /// Applies strictly before this instant; compared with the check's time.
    pub until: UtcTime,
    pub reason: Note,
}

/// Rule ids of the baseline check.
pub const BASELINE_VOLUME: &str = "baseline.volume";
pub const BASELINE_NEW_TYPE: &str = "baseline.new_type";
/// Rule ids of the token watchdog.
pub const TOKEN_BROAD: &str = "token.broad";
pub const TOKEN_WRITE: &str = "token.write";
pub const TOKEN_UNKNOWN_SCOPE: &str = "token.unknown_scope";
pub const TOKEN_UNAPPROVED_ISSUER: &str = "token.unapproved_issuer";
pub const TOKEN_OUTSIDE_ALLOWED: &str = "token.outside_allowed_resources";

/// A semantic problem found after the file parsed: the key path it concerns
/// (`suppressions[0].rule`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub path: Vec<PathSeg>,
    pub message: String,
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

impl Rules {
    /// Rule id of a burst action.
    pub fn burst_rule_id(name: &RuleName) -> String {
        format!("burst.{name}")
    }

    /// Every rule id these rules can produce, for pattern validation and docs.
    pub fn rule_ids(&self) -> Vec<String> {
        let mut ids = vec![BASELINE_VOLUME.to_string(), BASELINE_NEW_TYPE.to_string()];
        ids.extend(self.burst.actions.keys().map(Rules::burst_rule_id));
        ids.extend(
            [
                TOKEN_BROAD,
                TOKEN_WRITE,
                TOKEN_UNKNOWN_SCOPE,
                TOKEN_UNAPPROVED_ISSUER,
                TOKEN_OUTSIDE_ALLOWED,
            ]
            .map(String::from),
        );
        ids
    }

    /// Checks what a single value cannot: relations between keys and rule-id
    /// patterns that name no rule (almost always a typo that would otherwise
    /// silently suppress nothing).
    pub fn validate(&self) -> Result<(), Invalid> {
        let key = |k: &str| PathSeg::Key(k.to_string());
        let cold = &self.baseline.cold_start;
        if cold.min_history_days.get() > self.baseline.window_days.get() {
            return Err(Invalid {
                path: vec![key("baseline"), key("cold_start"), key("min_history_days")],
                message: format!(
                    "min_history_days ({}) is longer than baseline.window_days ({}): every actor would stay in cold start",
                    cold.min_history_days.get(),
                    self.baseline.window_days.get()
                ),
            });
        }
        for (name, action) in &self.burst.actions {
            if action.evt_name.is_empty()
                && action.asset_type.is_empty()
                && action.action.is_empty()
            {
                return Err(Invalid {
                    path: vec![key("burst"), key("actions"), key(name.as_str())],
                    message: "an action needs at least one of evt_name, asset_type, action (it would match every event)".into(),
                });
            }
        }
        for (name, rule) in &self.tokens.creations {
            if rule.action_type.is_empty() {
                return Err(Invalid {
                    path: vec![
                        key("tokens"),
                        key("creations"),
                        key(name.as_str()),
                        key("action_type"),
                    ],
                    message: "action_type must list at least one action type".into(),
                });
            }
        }
        for (i, suffix) in self.tokens.write_suffixes.iter().enumerate() {
            if suffix.trim().is_empty() || suffix.contains(' ') {
                return Err(Invalid {
                    path: vec![key("tokens"), key("write_suffixes"), PathSeg::Index(i)],
                    message: format!("write suffix {suffix:?} must be one word"),
                });
            }
        }
        let ids = self.rule_ids();
        let names_a_rule = |p: &Pattern| ids.iter().any(|id| p.matches(id));
        for pattern in self.allow.keys() {
            if !names_a_rule(pattern) {
                return Err(Invalid {
                    path: vec![key("allow"), key(pattern.as_str())],
                    message: format!(
                        "rule pattern {:?} matches no rule (rule ids: {})",
                        pattern.as_str(),
                        ids.join(", ")
                    ),
                });
            }
        }
        for (pattern, list) in &self.allow {
            let only_tokens = ids
                .iter()
                .filter(|id| pattern.matches(id))
                .all(|id| id.starts_with("token."));
            if only_tokens && !list.resources.is_empty() {
                return Err(Invalid {
                    path: vec![key("allow"), key(pattern.as_str()), key("resources")],
                    message: "token rules take actors only: a token's name is chosen by its creator and must not silence the watchdog".into(),
                });
            }
        }
        for (i, s) in self.suppressions.iter().enumerate() {
            if !names_a_rule(&s.rule) {
                return Err(Invalid {
                    path: vec![key("suppressions"), PathSeg::Index(i), key("rule")],
                    message: format!(
                        "rule pattern {:?} matches no rule (rule ids: {})",
                        s.rule.as_str(),
                        ids.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }
}
