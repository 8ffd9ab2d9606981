//! `[cloudflare.action_kinds]` and `[datadog.action_kinds]`: a source's
//! action verb (Cloudflare `action.type`, Datadog `@action`) mapped to a
//! normalized kind, ahead of the built-in classifier.
//!
//! The defaults list the documented vocabulary with the kind the classifier
//! gives it today, so they change nothing; they are there to read and to
//! change. A user table is merged over them entry by entry (a verb written
//! in another case replaces the default's spelling), so adding a mapping
//! for your own vocabulary keeps the rest. A verb in neither is classified
//! as before.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::model::ActionKind;

/// Verb (as the source writes it; matched ignoring ASCII case) to kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ActionKinds(BTreeMap<String, ActionKind>);

/// Cloudflare v1 `action.type` values (v2 types that name a kind are used as they are).
const CLOUDFLARE_DEFAULTS: &[(&str, ActionKind)] = &[
    ("login", ActionKind::Login),
    ("logout", ActionKind::Login),
    ("member_add", ActionKind::Grant),
    ("member_remove", ActionKind::Delete),
    ("purge", ActionKind::Delete),
    ("rec_add", ActionKind::Create),
    ("rec_del", ActionKind::Delete),
    ("rec_set", ActionKind::Update),
    ("token_create", ActionKind::Create),
    ("token_revoke", ActionKind::Revoke),
    ("token_roll", ActionKind::Update),
];

/// Datadog Audit Trail `@action` values.
const DATADOG_DEFAULTS: &[(&str, ActionKind)] = &[
    ("accessed", ActionKind::Read),
    ("created", ActionKind::Create),
    ("deleted", ActionKind::Delete),
    ("modified", ActionKind::Update),
];

impl ActionKinds {
    pub fn cloudflare_defaults() -> ActionKinds {
        ActionKinds::from_pairs(CLOUDFLARE_DEFAULTS)
    }

    pub fn datadog_defaults() -> ActionKinds {
        ActionKinds::from_pairs(DATADOG_DEFAULTS)
    }

    fn from_pairs(pairs: &[(&str, ActionKind)]) -> ActionKinds {
        ActionKinds(
            pairs
                .iter()
                .map(|(verb, kind)| ((*verb).to_owned(), *kind))
                .collect(),
        )
    }

    /// `(verb, kind)` as written, sorted by verb.
    pub fn iter(&self) -> impl Iterator<Item = (&str, ActionKind)> {
        self.0.iter().map(|(verb, kind)| (verb.as_str(), *kind))
    }

    /// `defaults` with `user`'s entries put over them. Two user spellings
    /// of one verb are both kept, for validation to refuse by name.
    fn merged(defaults: ActionKinds, user: BTreeMap<String, ActionKind>) -> ActionKinds {
        let mut map: BTreeMap<String, ActionKind> = defaults
            .0
            .into_iter()
            .filter(|(known, _)| !user.keys().any(|verb| verb.eq_ignore_ascii_case(known)))
            .collect();
        map.extend(user);
        ActionKinds(map)
    }
}

pub(super) fn merge_cloudflare<'de, D: Deserializer<'de>>(d: D) -> Result<ActionKinds, D::Error> {
    let user = BTreeMap::<String, ActionKind>::deserialize(d)?;
    Ok(ActionKinds::merged(
        ActionKinds::cloudflare_defaults(),
        user,
    ))
}

pub(super) fn merge_datadog<'de, D: Deserializer<'de>>(d: D) -> Result<ActionKinds, D::Error> {
    let user = BTreeMap::<String, ActionKind>::deserialize(d)?;
    Ok(ActionKinds::merged(ActionKinds::datadog_defaults(), user))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults only spell out what the classifier already does, and
    /// never a verb it calls `other` (for those the parsers read the
    /// description), so having them changes no event's kind.
    #[test]
    fn defaults_agree_with_the_classifier() {
        for (verb, kind) in CLOUDFLARE_DEFAULTS.iter().chain(DATADOG_DEFAULTS) {
            assert_ne!(*kind, ActionKind::Other, "{verb}");
            assert_eq!(ActionKind::classify(verb), *kind, "{verb}");
        }
    }

    #[test]
    fn user_entries_go_over_the_defaults_whatever_their_case() {
        let user = BTreeMap::from([
            ("Token_Create".to_owned(), ActionKind::Grant),
            ("zone_lockdown".to_owned(), ActionKind::Update),
        ]);
        let merged = ActionKinds::merged(ActionKinds::cloudflare_defaults(), user);
        let entries: BTreeMap<&str, ActionKind> = merged.iter().collect();
        assert_eq!(entries.get("Token_Create"), Some(&ActionKind::Grant));
        assert_eq!(entries.get("token_create"), None);
        assert_eq!(entries.get("zone_lockdown"), Some(&ActionKind::Update));
        assert_eq!(entries.get("rec_del"), Some(&ActionKind::Delete));
    }
}
