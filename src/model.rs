//! The normalized audit event every workflow reads.
//!
//! Cloudflare (v1 and v2) and Datadog entries are parsed into [`AuditEvent`]
//! by `sources::*::parse`. The verbatim entry text is kept in `raw` for
//! evidence and archive; everything else is derived from it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which audit log an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Cloudflare,
    Datadog,
}

impl Source {
    pub const ALL: [Source; 2] = [Source::Cloudflare, Source::Datadog];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cloudflare => "cloudflare",
            Source::Datadog => "datadog",
        }
    }

    /// Two-letter tag used in compact views (timeline gutter, tables).
    pub fn short(self) -> &'static str {
        match self {
            Source::Cloudflare => "CF",
            Source::Datadog => "DD",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cloudflare" | "cf" => Ok(Source::Cloudflare),
            "datadog" | "dd" => Ok(Source::Datadog),
            other => Err(format!(
                "unknown source {other:?} (expected cloudflare or datadog)"
            )),
        }
    }
}

/// Who did it. Every field is optional because real entries omit them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Source-specific actor id (Cloudflare user/token id, Datadog user uuid).
    pub id: Option<String>,
    pub email: Option<String>,
    /// Source-specific actor type (`user`, `account`, `cloudflare_admin`, `Other`, ...).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// For actions authenticated by an API token: its id and name.
    pub token_id: Option<String>,
    pub token_name: Option<String>,
}

/// The normalized shape of the action, independent of the source vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Create,
    Update,
    Delete,
    Grant,
    Revoke,
    Login,
    Read,
    Other,
}

impl ActionKind {
    pub const ALL: [ActionKind; 8] = [
        ActionKind::Create,
        ActionKind::Update,
        ActionKind::Delete,
        ActionKind::Grant,
        ActionKind::Revoke,
        ActionKind::Login,
        ActionKind::Read,
        ActionKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Create => "create",
            ActionKind::Update => "update",
            ActionKind::Delete => "delete",
            ActionKind::Grant => "grant",
            ActionKind::Revoke => "revoke",
            ActionKind::Login => "login",
            ActionKind::Read => "read",
            ActionKind::Other => "other",
        }
    }

    /// Whether this kind changes state (what the baseline counts as "a change").
    pub fn is_change(self) -> bool {
        !matches!(self, ActionKind::Read | ActionKind::Login)
    }

    /// Best-effort mapping of a source verb (`token_create`, `rec_del`,
    /// `Modified role`, `delete`, ...) to a kind. Parsers call this; it never
    /// fails. The verb is split into words (on anything not a letter or
    /// digit) and words are matched by prefix, so `rec_del` is a delete while
    /// `model_update` is not.
    pub fn classify(verb: &str) -> ActionKind {
        let lower = verb.to_ascii_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let any = |prefixes: &[&str]| {
            words
                .iter()
                .any(|w| prefixes.iter().any(|p| w.starts_with(p)))
        };
        let exact = |names: &[&str]| words.iter().any(|w| names.contains(w));
        let grants_access = exact(&["member", "members", "role", "roles", "user", "users"]);
        if any(&["revok", "unassign"]) {
            ActionKind::Revoke
        } else if any(&["grant", "assign", "invit"]) || (exact(&["add", "added"]) && grants_access)
        {
            ActionKind::Grant
        } else if any(&["delet", "remov", "destroy", "purg"]) || exact(&["del", "rm"]) {
            ActionKind::Delete
        } else if any(&["creat", "regist", "provision", "issu"]) || exact(&["add", "added", "new"])
        {
            ActionKind::Create
        } else if any(&[
            "updat", "modif", "edit", "chang", "rotat", "roll", "enabl", "disabl", "patch",
            "renam", "replac", "mov",
        ]) || exact(&["set", "put", "mod"])
        {
            ActionKind::Update
        } else if any(&["login", "logout", "logon", "signin", "authent"])
            || (exact(&["sign"]) && exact(&["in", "out"]))
        {
            ActionKind::Login
        } else if any(&[
            "view", "read", "list", "access", "download", "export", "search", "quer",
        ]) || exact(&["get"])
        {
            ActionKind::Read
        } else {
            ActionKind::Other
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ActionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ActionKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown action kind {s:?}"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// The source's own verb, verbatim (`token_create`, `create`, `Modified role`).
    pub verb: String,
    pub kind: ActionKind,
    /// Human description when the source gives one (Cloudflare v2 `action.description`,
    /// Datadog `message`).
    pub description: Option<String>,
}

/// What was acted on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// Product area (`members`, `dns_records`, `monitor`, ...).
    pub product: Option<String>,
    /// Resource type; the baseline's "never touched before" check keys on it.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unknown => "unknown",
        }
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "success" => Ok(Outcome::Success),
            "failure" => Ok(Outcome::Failure),
            "unknown" => Ok(Outcome::Unknown),
            other => Err(format!("unknown outcome {other:?}")),
        }
    }
}

/// One audit log entry, normalized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub source: Source,
    /// The source's own entry id; `(source, id)` is unique in the store.
    pub id: String,
    pub time: DateTime<Utc>,
    pub actor: Actor,
    pub action: Action,
    pub resource: Resource,
    pub outcome: Outcome,
    /// Cloudflare account id or Datadog org uuid.
    pub account: Option<String>,
    /// The verbatim JSON text of the entry as received.
    pub raw: String,
}

impl AuditEvent {
    /// The identity aggregates and baselines are keyed on: the lower-cased
    /// email when there is one, else the actor id, else `"unknown"`.
    pub fn actor_key(&self) -> String {
        actor_key(&self.actor)
    }
}

/// See [`AuditEvent::actor_key`].
pub fn actor_key(actor: &Actor) -> String {
    if let Some(email) = actor
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        return email.to_lowercase();
    }
    if let Some(id) = actor.id.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
        return id.to_string();
    }
    "unknown".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_maps_source_verbs() {
        assert_eq!(ActionKind::classify("token_create"), ActionKind::Create);
        assert_eq!(ActionKind::classify("token_revoke"), ActionKind::Revoke);
        assert_eq!(ActionKind::classify("API_key_view"), ActionKind::Read);
        assert_eq!(ActionKind::classify("delete"), ActionKind::Delete);
        assert_eq!(ActionKind::classify("Modified role"), ActionKind::Update);
        assert_eq!(ActionKind::classify("login"), ActionKind::Login);
        assert_eq!(ActionKind::classify("frobnicate"), ActionKind::Other);
        assert_eq!(ActionKind::classify("rec_del"), ActionKind::Delete);
        assert_eq!(ActionKind::classify("rec_add"), ActionKind::Create);
        assert_eq!(ActionKind::classify("rec_set"), ActionKind::Update);
        assert_eq!(ActionKind::classify("Add Member"), ActionKind::Grant);
        assert_eq!(ActionKind::classify("user invited"), ActionKind::Grant);
        assert_eq!(ActionKind::classify("model_update"), ActionKind::Update);
        assert_eq!(ActionKind::classify("Deleted monitor"), ActionKind::Delete);
        assert_eq!(ActionKind::classify("sign in"), ActionKind::Login);
        assert_eq!(ActionKind::classify("budget"), ActionKind::Other);
    }

    #[test]
    fn actor_key_prefers_email_then_id() {
        let mut a = Actor {
            id: Some("abc".into()),
            email: Some(" Alice@Example.COM ".into()),
            ..Actor::default()
        };
        assert_eq!(actor_key(&a), "alice@example.com");
        a.email = Some("".into());
        assert_eq!(actor_key(&a), "abc");
        a.id = None;
        assert_eq!(actor_key(&a), "unknown");
    }

    #[test]
    fn source_round_trips() {
        for s in Source::ALL {
            assert_eq!(s.as_str().parse::<Source>(), Ok(s));
        }
        assert!("splunk".parse::<Source>().is_err());
    }
}
