//! Allow-lists and expiring suppressions: what silences a rule's hit.
//!
//! A silenced hit is still reported (in [`crate::detect::Finding::suppressed`]),
//! so an analyst can see what a suppression is hiding and when it stops.

use chrono::{DateTime, Utc};

use super::finding::{SuppressedBy, SuppressedHit};
use super::pattern::any_matches;
use super::rules::Rules;

/// Answers "is this hit silenced?" for one check run.
#[derive(Debug, Clone, Copy)]
pub struct Silencer<'a> {
    rules: &'a Rules,
    /// The check's time: a suppression applies strictly before its `until`.
    now: DateTime<Utc>,
}

impl<'a> Silencer<'a> {
    pub fn new(rules: &'a Rules, now: DateTime<Utc>) -> Silencer<'a> {
        Silencer { rules, now }
    }

    /// Why hits of `rule_id` by `actor` are silenced, if they are. Live
    /// suppressions are preferred over allow-lists: they carry a reason and
    /// an end the analyst should see.
    pub fn silenced(&self, actor: &str, rule_id: &str) -> Option<SuppressedBy> {
        let suppression = self.rules.suppressions.iter().find(|s| {
            self.now < s.until.get() && s.rule.matches(rule_id) && s.actor.matches(actor)
        });
        if let Some(s) = suppression {
            return Some(SuppressedBy::Suppression {
                pattern: s.rule.as_str().to_string(),
                until: s.until.get(),
                reason: s.reason.as_str().to_string(),
            });
        }
        self.rules
            .allow
            .iter()
            .find(|(pattern, list)| pattern.matches(rule_id) && any_matches(&list.actors, actor))
            .map(|(pattern, _)| SuppressedBy::AllowList {
                pattern: pattern.as_str().to_string(),
            })
    }

    /// Whether any of a resource's names (type, id, name) is allow-listed
    /// for `rule_id`; such resources are left out before counting.
    pub fn resource_allowed(&self, rule_id: &str, names: &[&str]) -> bool {
        self.rules.allow.iter().any(|(pattern, list)| {
            pattern.matches(rule_id) && names.iter().any(|n| any_matches(&list.resources, n))
        })
    }

    /// Splits the rule ids that fired into live ones and silenced ones.
    pub fn partition(&self, actor: &str, fired: Vec<String>) -> (Vec<String>, Vec<SuppressedHit>) {
        let mut live = Vec::new();
        let mut silenced = Vec::new();
        for rule in fired {
            match self.silenced(actor, &rule) {
                Some(by) => silenced.push(SuppressedHit { rule, by }),
                None => live.push(rule),
            }
        }
        (live, silenced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::rules::parse;
    use chrono::TimeZone;

    fn rules(user: &str) -> Rules {
        parse(Some(("user.toml", user))).unwrap().rules
    }

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, h, 0, 0).unwrap()
    }

    const SUPPRESSION: &str = "[[suppressions]]\nactor = \"ci-*@example.com\"\nrule = \"token.*\"\nuntil = 2026-11-21T12:00:00Z\nreason = \"rotation week\"\n";

    #[test]
    fn a_live_suppression_silences_matching_actor_and_rule() {
        let r = rules(SUPPRESSION);
        let s = Silencer::new(&r, at(11));
        let by = s.silenced("ci-bot@example.com", "token.write").unwrap();
        assert_eq!(
            by,
            SuppressedBy::Suppression {
                pattern: "token.*".into(),
                until: at(12),
                reason: "rotation week".into()
            }
        );
        assert_eq!(s.silenced("alice@example.com", "token.write"), None);
        assert_eq!(s.silenced("ci-bot@example.com", "baseline.volume"), None);
    }

    #[test]
    fn an_expired_suppression_no_longer_applies() {
        let r = rules(SUPPRESSION);
        assert_eq!(
            Silencer::new(&r, at(12)).silenced("ci-bot@example.com", "token.write"),
            None
        );
        assert_eq!(
            Silencer::new(&r, at(13)).silenced("ci-bot@example.com", "token.write"),
            None
        );
    }

    #[test]
    fn allow_lists_silence_actors_and_drop_resources() {
        let r = rules(
            "[allow.\"burst.monitor_delete\"]\nactors = [\"janitor@example.com\"]\nresources = [\"synthetics-*\"]\n",
        );
        let s = Silencer::new(&r, at(0));
        assert_eq!(
            s.silenced("janitor@example.com", "burst.monitor_delete"),
            Some(SuppressedBy::AllowList {
                pattern: "burst.monitor_delete".into()
            })
        );
        assert_eq!(s.silenced("janitor@example.com", "burst.role_grant"), None);
        assert!(s.resource_allowed("burst.monitor_delete", &["monitor", "synthetics-api-1"]));
        assert!(!s.resource_allowed("burst.role_grant", &["synthetics-api-1"]));
    }

    #[test]
    fn partition_keeps_silenced_hits_visible() {
        let r = rules(SUPPRESSION);
        let s = Silencer::new(&r, at(11));
        let (live, silenced) = s.partition(
            "ci-bot@example.com",
            vec!["token.write".into(), "token.broad".into()],
        );
        assert!(live.is_empty());
        assert_eq!(silenced.len(), 2);
        assert_eq!(silenced[1].rule, "token.broad");
    }
}
