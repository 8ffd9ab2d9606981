//! Who the investigation is about, across sources: one person may appear as
//! an email, a Cloudflare actor id, a Datadog user uuid, or a second email.
//!
//! Names come from two places: the configured `investigation.identities`
//! (an analyst's statement) and events that carry an email and an id
//! together (the services' own statement that the two are one account).
//! The store keys an event by its lower-cased email, else its actor id, so
//! every name here is also a store key to read.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::config::InvestigationConfig;
use crate::model::{AuditEvent, Source};

/// Most names one identity may collect: an event stream where every entry
/// links a new id would otherwise grow it without bound.
const MAX_NAMES: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The name the investigation was asked about, normalized.
    pub primary: String,
    /// Lower-cased emails.
    pub emails: BTreeSet<String>,
    pub cloudflare_ids: BTreeSet<String>,
    pub datadog_ids: BTreeSet<String>,
    /// Names from the alias map whose source is unknown until an event shows it.
    pub other_ids: BTreeSet<String>,
    /// How names were learned, for the report ("alias map", "seen with ... in cf:123").
    pub provenance: Vec<String>,
}

impl Identity {
    /// Every store key the person's events may be filed under.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: BTreeSet<&String> = self.emails.iter().collect();
        keys.extend(&self.cloudflare_ids);
        keys.extend(&self.datadog_ids);
        keys.extend(&self.other_ids);
        keys.into_iter().cloned().collect()
    }

    fn len(&self) -> usize {
        self.emails.len()
            + self.cloudflare_ids.len()
            + self.datadog_ids.len()
            + self.other_ids.len()
    }

    /// Whether `event` was done by this person under any known name.
    pub fn matches(&self, event: &AuditEvent) -> bool {
        let email = event.actor.email.as_deref().map(normalize_email);
        email.is_some_and(|e| self.emails.contains(&e))
            || event.actor.id.as_deref().is_some_and(|id| self.has_id(id))
    }

    fn has_id(&self, id: &str) -> bool {
        self.cloudflare_ids.contains(id)
            || self.datadog_ids.contains(id)
            || self.other_ids.contains(id)
    }

    fn add_name(&mut self, name: &str) -> bool {
        let name = name.trim();
        if name.is_empty() || self.len() >= MAX_NAMES {
            return false;
        }
        if name.contains('@') {
            self.emails.insert(normalize_email(name))
        } else if self.has_id(name) {
            false
        } else {
            self.other_ids.insert(name.to_owned())
        }
    }

    fn add_source_id(&mut self, source: Source, id: &str) -> bool {
        if self.len() >= MAX_NAMES {
            return false;
        }
        self.other_ids.remove(id);
        match source {
            Source::Cloudflare => self.cloudflare_ids.insert(id.to_owned()),
            Source::Datadog => self.datadog_ids.insert(id.to_owned()),
        }
    }

    /// Learns names from events by this person: an event that carries a
    /// known email and an actor id (or a known id and an email) links the
    /// two. Returns the names that are new, so the caller can read their
    /// events too.
    pub fn absorb(&mut self, events: &[AuditEvent]) -> Vec<String> {
        let mut added = Vec::new();
        for event in events {
            let email = event
                .actor
                .email
                .as_deref()
                .map(normalize_email)
                .filter(|e| !e.is_empty());
            let id = event
                .actor
                .id
                .as_deref()
                .map(str::trim)
                .filter(|i| !i.is_empty());
            let email_known = email.as_ref().is_some_and(|e| self.emails.contains(e));
            let id_known = id.is_some_and(|i| self.has_id(i));
            if !(email_known || id_known) {
                continue;
            }
            let refers = format!("{}:{}", event.source.short().to_lowercase(), event.id);
            if let Some(id) = id {
                let typed = match event.source {
                    Source::Cloudflare => self.cloudflare_ids.contains(id),
                    Source::Datadog => self.datadog_ids.contains(id),
                };
                if !typed && self.add_source_id(event.source, id) {
                    if !id_known {
                        added.push(id.to_owned());
                    }
                    self.provenance.push(format!(
                        "{} id {id} seen with this person in {refers}",
                        event.source
                    ));
                }
            }
            if let Some(email) = email
                && !email_known
                && self.add_name(&email)
            {
                self.provenance
                    .push(format!("email {email} seen with this person in {refers}"));
                added.push(email);
            }
        }
        added
    }
}

/// The form an actor is stored and shown in: emails lower-cased (as the
/// store keys them), ids as given.
pub fn normalize_actor(actor: &str) -> String {
    let actor = actor.trim();
    if actor.contains('@') {
        normalize_email(actor)
    } else {
        actor.to_owned()
    }
}

/// Email comparison is case-insensitive; the store keys are lower case too.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Seeds identities from the configured alias map.
#[derive(Debug, Clone, Default)]
pub struct IdentityResolver {
    groups: Vec<(String, Vec<String>)>,
}

impl IdentityResolver {
    pub fn new(config: &InvestigationConfig) -> IdentityResolver {
        IdentityResolver {
            groups: config
                .identities
                .iter()
                .map(|entry| (normalize_email(entry.email.as_str()), entry.aliases.clone()))
                .collect(),
        }
    }

    /// The identity for `actor` (an email or an id) with every configured alias.
    pub fn resolve(&self, actor: &str) -> Identity {
        let actor = actor.trim();
        let primary = normalize_actor(actor);
        let mut identity = Identity {
            primary: primary.clone(),
            ..Identity::default()
        };
        identity.add_name(&primary);
        for (email, aliases) in &self.groups {
            let in_group = *email == primary
                || aliases
                    .iter()
                    .any(|a| a.trim() == actor || normalize_email(a) == primary);
            if in_group {
                identity.add_name(email);
                for alias in aliases {
                    identity.add_name(alias);
                }
                identity
                    .provenance
                    .push(format!("alias map entry for {email}"));
            }
        }
        identity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::model::{Action, ActionKind, Actor, Outcome, Resource};
    use chrono::Utc;

    fn event(source: Source, id: &str, email: Option<&str>, actor_id: Option<&str>) -> AuditEvent {
        AuditEvent {
            source,
            id: id.into(),
            time: Utc::now(),
            actor: Actor {
                id: actor_id.map(Into::into),
                email: email.map(Into::into),
                ..Actor::default()
            },
            action: Action {
                verb: "x".into(),
                kind: ActionKind::Other,
                description: None,
            },
            resource: Resource::default(),
            outcome: Outcome::Success,
            account: None,
            raw: "{}".into(),
        }
    }

    fn config_with_alias() -> InvestigationConfig {
        let text = "[investigation]\nidentities = [{ email = \"Alice@Example.com\", aliases = [\"alice.admin@example.com\", \"u-dd-1\"] }]\n";
        Config::from_toml_str(text, "t").unwrap().investigation
    }

    #[test]
    fn the_alias_map_joins_names_whichever_one_is_asked_about() {
        let resolver = IdentityResolver::new(&config_with_alias());
        for asked in ["alice@example.com", "ALICE.ADMIN@example.com", "u-dd-1"] {
            let identity = resolver.resolve(asked);
            assert!(identity.emails.contains("alice@example.com"), "{asked}");
            assert!(
                identity.emails.contains("alice.admin@example.com"),
                "{asked}"
            );
            assert!(identity.other_ids.contains("u-dd-1"), "{asked}");
        }
        let stranger = resolver.resolve("bob@example.com");
        assert_eq!(stranger.keys(), ["bob@example.com"]);
    }

    #[test]
    fn events_link_emails_and_source_ids() {
        let resolver = IdentityResolver::new(&InvestigationConfig::default());
        let mut identity = resolver.resolve("alice@example.com");
        let events = [
            event(
                Source::Cloudflare,
                "1",
                Some("alice@example.com"),
                Some("cf-7"),
            ),
            event(
                Source::Datadog,
                "2",
                Some("ALICE@example.com"),
                Some("dd-uuid"),
            ),
            event(
                Source::Datadog,
                "3",
                Some("mallory@example.com"),
                Some("dd-other"),
            ),
        ];
        let added = identity.absorb(&events);
        assert_eq!(added, ["cf-7", "dd-uuid"]);
        assert!(identity.cloudflare_ids.contains("cf-7"));
        assert!(identity.datadog_ids.contains("dd-uuid"));
        assert!(!identity.keys().contains(&"dd-other".to_owned()));
        assert!(
            identity.provenance[0].contains("cf:1"),
            "{:?}",
            identity.provenance
        );
        // An id-only event of a known id is matched.
        assert!(identity.matches(&event(Source::Cloudflare, "4", None, Some("cf-7"))));
        // Absorbing again adds nothing.
        assert!(identity.absorb(&events).is_empty());
    }

    #[test]
    fn an_alias_of_unknown_source_is_typed_once_an_event_shows_it() {
        let resolver = IdentityResolver::new(&config_with_alias());
        let mut identity = resolver.resolve("alice@example.com");
        identity.absorb(&[event(
            Source::Datadog,
            "9",
            Some("alice@example.com"),
            Some("u-dd-1"),
        )]);
        assert!(identity.datadog_ids.contains("u-dd-1"));
        assert!(!identity.other_ids.contains("u-dd-1"));
    }
}
