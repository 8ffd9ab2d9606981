//! Applies the configured action vocabulary (`[cloudflare.action_kinds]`,
//! `[datadog.action_kinds]`) to parsed events: a verb listed there gets the
//! listed kind; any other keeps the kind the parser's classifier gave it.
//!
//! Every path that turns raw entries into stored events (polling, live
//! investigation queries, `ingest`, `replay`) applies it before the events
//! are stored, so the kind in the store, the aggregates and the markers all
//! follow the config.

use std::collections::HashMap;

use crate::config::{ActionKinds, Config};
use crate::model::{ActionKind, AuditEvent, Source};

/// Lower-cased verb to kind, per source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionKindMap {
    cloudflare: HashMap<String, ActionKind>,
    datadog: HashMap<String, ActionKind>,
}

impl ActionKindMap {
    pub fn new(cloudflare: &ActionKinds, datadog: &ActionKinds) -> ActionKindMap {
        let index = |kinds: &ActionKinds| {
            kinds
                .iter()
                .map(|(verb, kind)| (verb.to_ascii_lowercase(), kind))
                .collect()
        };
        ActionKindMap {
            cloudflare: index(cloudflare),
            datadog: index(datadog),
        }
    }

    pub fn from_config(config: &Config) -> ActionKindMap {
        ActionKindMap::new(
            &config.cloudflare.action_kinds,
            &config.datadog.action_kinds,
        )
    }

    /// The built-in vocabulary (what an empty config gives).
    pub fn builtin() -> ActionKindMap {
        ActionKindMap::new(
            &ActionKinds::cloudflare_defaults(),
            &ActionKinds::datadog_defaults(),
        )
    }

    /// The configured kind of `verb` from `source`, if the vocabulary lists it.
    pub fn kind_of(&self, source: Source, verb: &str) -> Option<ActionKind> {
        let map = match source {
            Source::Cloudflare => &self.cloudflare,
            Source::Datadog => &self.datadog,
        };
        if verb.bytes().any(|b| b.is_ascii_uppercase()) {
            map.get(&verb.to_ascii_lowercase()).copied()
        } else {
            map.get(verb).copied()
        }
    }

    pub fn apply(&self, event: &mut AuditEvent) {
        if let Some(kind) = self.kind_of(event.source, &event.action.verb) {
            event.action.kind = kind;
        }
    }

    pub fn apply_all(&self, events: &mut [AuditEvent]) {
        for event in events {
            self.apply(event);
        }
    }
}

impl Default for ActionKindMap {
    fn default() -> Self {
        ActionKindMap::builtin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::raw::parse_entry;

    const V1_ROLL: &str =
        r#"{"id":"c1","when":"2021-11-30T20:19:48Z","action":{"type":"token_roll","result":true}}"#;
    const DD_NOTIFY: &str = r#"{"id":"d1","type":"audit","attributes":{"timestamp":"2022-04-13T09:29:59Z","attributes":{"action":"approved"}}}"#;

    #[test]
    fn a_listed_verb_gets_its_kind_and_others_keep_the_classifier() {
        let config = Config::from_toml_str(
            "[cloudflare.action_kinds]\nTOKEN_ROLL = \"revoke\"\n\n[datadog.action_kinds]\napproved = \"grant\"\n",
            "t.toml",
        )
        .unwrap();
        let map = ActionKindMap::from_config(&config);

        let mut rolled = parse_entry(V1_ROLL).unwrap();
        assert_eq!(rolled.action.kind, ActionKind::Update);
        map.apply(&mut rolled);
        assert_eq!(rolled.action.kind, ActionKind::Revoke);

        let mut approved = parse_entry(DD_NOTIFY).unwrap();
        assert_eq!(approved.action.kind, ActionKind::Other);
        map.apply(&mut approved);
        assert_eq!(approved.action.kind, ActionKind::Grant);

        // The same verb from the other source is not affected.
        let mut other_source = parse_entry(V1_ROLL).unwrap();
        other_source.source = Source::Datadog;
        map.apply(&mut other_source);
        assert_eq!(other_source.action.kind, ActionKind::Update);
    }

    #[test]
    fn the_builtin_vocabulary_changes_nothing() {
        let builtin = ActionKindMap::builtin();
        for raw in [V1_ROLL, DD_NOTIFY] {
            let parsed = parse_entry(raw).unwrap();
            let mut mapped = parsed.clone();
            builtin.apply(&mut mapped);
            assert_eq!(mapped, parsed);
        }
    }
}
