//! Who plays which part, chosen from the generated actors by the wall clock
//! at start-up: the attacker is an engineer for whom it is the middle of the
//! night right now; the benign look-alike is an admin for whom it is the
//! middle of the working day. So "at night in their timezone" and "in
//! business hours" hold whenever the demo runs.

use chrono::{DateTime, Timelike, Utc};

use super::DemoError;
use crate::synth::{ActorProfile, Anomaly, Persona, Shape, Verb};

/// Local hours the parts should act at, ideally.
const ATTACK_LOCAL_HOUR: f64 = 3.0;
const ON_CALL_LOCAL_HOUR: f64 = 13.0;
/// The name the attacker gives the broad token.
pub const BROAD_TOKEN_NAME: &str = "deploy-all-zones";

/// Indices of the scripted anomalies in `Params::anomalies`.
pub(crate) const BENIGN_BURST: usize = 0;
pub(crate) const BROAD_TOKEN: usize = 1;
pub(crate) const ATTACK_BURST: usize = 2;

/// The benign look-alike: Datadog role grants and monitor deletions by the
/// on-call admin, from their usual IP.
const BENIGN_ROLE_GRANTS: u32 = 3;
const BENIGN_MONITOR_DELETIONS: u32 = 2;
/// The attacker's Datadog burst after minting the token.
const ATTACK_ROLE_GRANTS: u32 = 4;
const ATTACK_MONITOR_DELETIONS: u32 = 3;

#[derive(Debug, Clone)]
pub struct Cast {
    /// An engineer (who never creates tokens or grants roles) at night.
    pub attacker: ActorProfile,
    /// An admin (who does both now and then) in business hours.
    pub on_call: ActorProfile,
    /// Everyone whose ordinary work includes creating API tokens: the
    /// `tokens.approved_issuers` the demo's rules should list. The attacker
    /// is never among them.
    pub approved_token_issuers: Vec<String>,
}

/// The actor's local time of day at `now`, in hours (0.0..24.0).
pub fn local_hour(actor: &ActorProfile, now: DateTime<Utc>) -> f64 {
    let minutes =
        i64::from(now.hour()) * 60 + i64::from(now.minute()) + i64::from(actor.utc_offset_minutes);
    minutes.rem_euclid(24 * 60) as f64 / 60.0
}

/// Distance between two times of day, in hours, around the clock.
fn hours_apart(a: f64, b: f64) -> f64 {
    let d = (a - b).abs() % 24.0;
    d.min(24.0 - d)
}

fn closest<'a>(
    actors: impl Iterator<Item = &'a ActorProfile>,
    now: DateTime<Utc>,
    target_hour: f64,
) -> Option<&'a ActorProfile> {
    actors.min_by(|a, b| {
        let da = hours_apart(local_hour(a, now), target_hour);
        let db = hours_apart(local_hour(b, now), target_hour);
        da.total_cmp(&db).then(a.index.cmp(&b.index))
    })
}

impl Cast {
    pub fn choose(actors: &[ActorProfile], now: DateTime<Utc>) -> Result<Cast, DemoError> {
        let creates_tokens = |a: &ActorProfile| a.verbs().any(|v| v == Verb::ApiTokenCreate);
        let attacker = closest(
            actors.iter().filter(|a| {
                a.persona == Persona::Engineer && !creates_tokens(a) && !a.touches("role")
            }),
            now,
            ATTACK_LOCAL_HOUR,
        )
        .ok_or(DemoError::Cast("no engineer to play the attacker"))?;
        let on_call = closest(
            actors.iter().filter(|a| {
                a.persona == Persona::Admin
                    && a.index != attacker.index
                    && a.verbs().any(|v| v == Verb::RoleGrant)
            }),
            now,
            ON_CALL_LOCAL_HOUR,
        )
        .ok_or(DemoError::Cast(
            "no admin who grants roles to play the on-call admin",
        ))?;
        let mut approved_token_issuers: Vec<String> = actors
            .iter()
            .filter(|a| creates_tokens(a) && a.index != attacker.index)
            .map(ActorProfile::actor_key)
            .collect();
        approved_token_issuers.sort();
        Ok(Cast {
            attacker: attacker.clone(),
            on_call: on_call.clone(),
            approved_token_issuers,
        })
    }

    /// A `rules.toml` overlay for the demo: the approved token issuers, so
    /// ordinary token creations are archived without a review ticket and
    /// the attacker's is not.
    pub fn rules_overlay(&self) -> String {
        let mut tokens = toml::Table::new();
        tokens.insert(
            "approved_issuers".into(),
            toml::Value::Array(
                self.approved_token_issuers
                    .iter()
                    .map(|i| toml::Value::String(i.clone()))
                    .collect(),
            ),
        );
        let mut root = toml::Table::new();
        root.insert("tokens".into(), toml::Value::Table(tokens));
        format!(
            "# soc-tui demo: people whose work includes creating API tokens.\n{}",
            toml::to_string(&root).unwrap_or_default()
        )
    }

    /// The scripted events, planted in the history generator so they come
    /// out in the real shapes; the scenario replays them live. `day` must
    /// leave a day after it so entries spilling past the hour still exist.
    pub(crate) fn anomalies(&self, day: u32) -> Vec<Anomaly> {
        let night = self.attacker.utc_hour_for_local(ATTACK_LOCAL_HOUR as u32);
        let noon = self.on_call.utc_hour_for_local(ON_CALL_LOCAL_HOUR as u32);
        // In the order of BENIGN_BURST, BROAD_TOKEN, ATTACK_BURST.
        vec![
            Anomaly::DatadogBurst {
                actor: self.on_call.index,
                day,
                hour: noon,
                role_grants: BENIGN_ROLE_GRANTS,
                monitor_deletions: BENIGN_MONITOR_DELETIONS,
            },
            Anomaly::BroadTokenCreation {
                actor: self.attacker.index,
                day,
                hour: night,
                token_name: BROAD_TOKEN_NAME.to_owned(),
                ip: None,
                shape: Shape::CloudflareV2,
            },
            Anomaly::DatadogBurst {
                actor: self.attacker.index,
                day,
                hour: night,
                role_grants: ATTACK_ROLE_GRANTS,
                monitor_deletions: ATTACK_MONITOR_DELETIONS,
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{Generator, Params};
    use chrono::TimeZone;

    #[test]
    fn parts_fit_their_hours_at_any_time_of_day() {
        let end = Utc.with_ymd_and_hms(2026, 11, 4, 0, 0, 0).unwrap();
        let generator = Generator::new(Params::demo(7, end)).unwrap();
        for hour in 0..24 {
            let now = end + chrono::Duration::hours(hour);
            let cast = Cast::choose(generator.actors(), now).unwrap();
            let night = local_hour(&cast.attacker, now);
            assert!(
                !(6.0..22.0).contains(&night),
                "attacker at {night} local, {now}"
            );
            let day = local_hour(&cast.on_call, now);
            assert!((8.0..19.0).contains(&day), "on-call at {day} local, {now}");
            assert!(
                !cast
                    .approved_token_issuers
                    .contains(&cast.attacker.actor_key())
            );
            assert!(
                cast.approved_token_issuers
                    .contains(&cast.on_call.actor_key())
            );
        }
    }

    #[test]
    fn the_rules_overlay_approves_everyone_but_the_attacker() {
        let end = Utc.with_ymd_and_hms(2026, 11, 4, 5, 0, 0).unwrap();
        let generator = Generator::new(Params::demo(7, end)).unwrap();
        let cast = Cast::choose(generator.actors(), end).unwrap();
        let overlay = cast.rules_overlay();
        let rules = crate::detect::rules::parse(Some(("demo-rules.toml", &overlay)))
            .unwrap()
            .rules;
        assert_eq!(
            rules.tokens.approved_issuers.len(),
            cast.approved_token_issuers.len()
        );
        assert!(!overlay.contains(&cast.attacker.email), "{overlay}");
        assert!(overlay.contains(&cast.on_call.email), "{overlay}");
    }

    #[test]
    fn hours_wrap_around_midnight() {
        assert_eq!(hours_apart(23.0, 1.0), 2.0);
        assert_eq!(hours_apart(3.0, 3.0), 0.0);
        assert_eq!(hours_apart(15.0, 3.0), 12.0);
    }
}
