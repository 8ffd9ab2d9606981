//! Planted anomalies: extra entries with known ids, so a replay golden test
//! can assert exactly which findings the detectors must raise.
//!
//! Every anomaly draws from its own random stream and its entries use their
//! own key space: planting one never changes an ordinary entry.

use chrono::{DateTime, Utc};

use super::catalog::Verb;
use super::ids::stream;
use super::{Draft, Generator, Override, Shape, SynthError, entry_id};

const MS_PER_HOUR: i64 = 3_600_000;
const MAX_ANOMALIES: usize = 1 << 16;
/// Planted IPs come from a range no ordinary actor uses (see personas).
const FOREIGN_PREFIX: &str = "185.220.101";

/// Something unusual to plant. `day` is 0-based from the window start;
/// `hour` is the UTC hour of that day's 24h slice.
#[derive(Debug, Clone, PartialEq)]
pub enum Anomaly {
    /// `actor` does `ceil(usual busy-hour volume x factor)` extra changes in
    /// that hour, with their usual verbs, IPs and user agent.
    VolumeSpike {
        actor: u32,
        day: u32,
        hour: u32,
        factor: f64,
    },
    /// `actor` performs `verb` `count` times although ordinary activity never
    /// touches its resource type (rejected if it does).
    NewResourceType {
        actor: u32,
        day: u32,
        hour: u32,
        verb: Verb,
        count: u32,
    },
    /// Within a few minutes: `role_grants` Datadog role grants and
    /// `monitor_deletions` monitor deletions by `actor`.
    DatadogBurst {
        actor: u32,
        day: u32,
        hour: u32,
        role_grants: u32,
        monitor_deletions: u32,
    },
    /// `actor` creates one Cloudflare API token with write access to the whole
    /// account, from `ip` (default: an address no actor has used).
    /// Pick a night hour with [`super::ActorProfile::utc_hour_for_local`].
    BroadTokenCreation {
        actor: u32,
        day: u32,
        hour: u32,
        token_name: String,
        ip: Option<String>,
        shape: Shape,
    },
}

impl Anomaly {
    fn place(&self) -> (u32, u32, u32) {
        match *self {
            Anomaly::VolumeSpike {
                actor, day, hour, ..
            }
            | Anomaly::NewResourceType {
                actor, day, hour, ..
            }
            | Anomaly::DatadogBurst {
                actor, day, hour, ..
            }
            | Anomaly::BroadTokenCreation {
                actor, day, hour, ..
            } => (actor, day, hour),
        }
    }

    /// Index of the actor the anomaly is about.
    pub fn actor(&self) -> u32 {
        self.place().0
    }

    /// A short label for reports (`volume_spike`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Anomaly::VolumeSpike { .. } => "volume_spike",
            Anomaly::NewResourceType { .. } => "new_resource_type",
            Anomaly::DatadogBurst { .. } => "datadog_burst",
            Anomaly::BroadTokenCreation { .. } => "broad_token_creation",
        }
    }
}

/// An anomaly as planted: who, when, from where, and the exact entries.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantedAnomaly {
    /// Position in `Params::anomalies`.
    pub index: usize,
    pub anomaly: Anomaly,
    /// The actor key the store aggregates on (lower-cased email).
    pub actor_key: String,
    /// Ids of the planted entries, in time order.
    pub event_ids: Vec<String>,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    /// The IP the planted entries come from when it is not one of the actor's.
    pub foreign_ip: Option<String>,
}

/// Validates `generator.params.anomalies` and turns them into drafts.
pub(super) fn plant(g: &mut Generator) -> Result<(), SynthError> {
    let anomalies = g.params.anomalies.clone();
    if anomalies.len() > MAX_ANOMALIES {
        return Err(SynthError::Params(format!(
            "at most {MAX_ANOMALIES} anomalies, got {}",
            anomalies.len()
        )));
    }
    for (index, anomaly) in anomalies.iter().enumerate() {
        let err = |message: String| SynthError::Anomaly { index, message };
        let (actor, day, hour) = anomaly.place();
        if actor >= g.params.actors {
            return Err(err(format!(
                "actor {actor} does not exist (actors: {})",
                g.params.actors
            )));
        }
        if day >= g.params.days {
            return Err(err(format!("day {day} is outside 0..{}", g.params.days)));
        }
        if hour >= 24 {
            return Err(err(format!("hour {hour} is not 0..24")));
        }
        let mut rng = fastrand::Rng::with_seed(stream(g.params.seed, &[3, index as u64]));
        let profile = &g.actors[actor as usize];
        let mut verbs_and_shapes: Vec<(Verb, Shape)> = Vec::new();
        let mut over = Override::default();
        // Offsets (ms) inside the hour, one per entry.
        let mut offsets: Vec<i64> = Vec::new();
        match anomaly {
            Anomaly::VolumeSpike { factor, .. } => {
                if !(factor.is_finite() && *factor > 0.0) {
                    return Err(err(format!("factor must be > 0, got {factor}")));
                }
                let usual = profile.daily_weight * g.scale() / profile.active_hours();
                let count = (usual * factor).ceil().max(1.0) as usize;
                for _ in 0..count {
                    let (shape, verb) = g.pick_shape_and_verb(profile, &mut rng);
                    verbs_and_shapes.push((verb, shape));
                    offsets.push(rng.i64(0..MS_PER_HOUR));
                }
            }
            Anomaly::NewResourceType { verb, count, .. } => {
                let Some(resource_type) = verb.resource_type() else {
                    return Err(err(format!("{verb:?} acts on no resource type")));
                };
                if profile.touches(resource_type) {
                    return Err(err(format!(
                        "actor {actor} already touches {resource_type} in ordinary activity"
                    )));
                }
                if *count == 0 {
                    return Err(err("count must be at least 1".into()));
                }
                let shape = shape_for(g, *verb, &mut rng);
                offsets = spaced(&mut rng, *count as usize, 20_000, 120_000);
                verbs_and_shapes = vec![(*verb, shape); *count as usize];
            }
            Anomaly::DatadogBurst {
                role_grants,
                monitor_deletions,
                ..
            } => {
                let n = (*role_grants + *monitor_deletions) as usize;
                if n == 0 {
                    return Err(err(
                        "a burst needs at least one role grant or deletion".into()
                    ));
                }
                let mut verbs: Vec<Verb> =
                    std::iter::repeat_n(Verb::RoleGrant, *role_grants as usize)
                        .chain(std::iter::repeat_n(
                            Verb::MonitorDelete,
                            *monitor_deletions as usize,
                        ))
                        .collect();
                rng.shuffle(&mut verbs);
                offsets = spaced(&mut rng, n, 10_000, 60_000);
                verbs_and_shapes = verbs.into_iter().map(|v| (v, Shape::Datadog)).collect();
            }
            Anomaly::BroadTokenCreation {
                token_name,
                ip,
                shape,
                ..
            } => {
                if shape.family() != super::Family::Cloudflare {
                    return Err(err(
                        "token creation is a Cloudflare entry: use a Cloudflare shape".into(),
                    ));
                }
                over.ip = Some(
                    ip.clone()
                        .unwrap_or_else(|| format!("{FOREIGN_PREFIX}.{}", 1 + index % 250)),
                );
                over.broad_token_name = Some(token_name.clone());
                offsets.push(rng.i64(0..MS_PER_HOUR - 60_000));
                verbs_and_shapes.push((Verb::ApiTokenCreate, *shape));
            }
        }
        let mut drafts: Vec<Draft> = offsets
            .iter()
            .zip(&verbs_and_shapes)
            .enumerate()
            .map(|(k, (offset, (verb, shape)))| {
                let tod = i64::from(hour) * MS_PER_HOUR + offset;
                Draft {
                    time_ms: Generator::draft_time(*shape, g.place(day, tod)),
                    key: (1 << 63) | ((index as u64) << 32) | k as u64,
                    actor,
                    verb: *verb,
                    shape: *shape,
                    detail: rng.u64(..),
                    anomaly: Some(index as u32),
                }
            })
            .collect();
        drafts.sort_unstable_by_key(|d| (d.time_ms, d.key));
        let time = |d: Option<&Draft>| {
            d.and_then(|d| DateTime::from_timestamp_millis(d.time_ms))
                .unwrap_or_default()
        };
        g.planted.push(PlantedAnomaly {
            index,
            anomaly: anomaly.clone(),
            actor_key: profile.actor_key(),
            event_ids: drafts
                .iter()
                .map(|d| entry_id(g.params.seed, d.key, d.shape))
                .collect(),
            first: time(drafts.first()),
            last: time(drafts.last()),
            foreign_ip: over.ip.clone(),
        });
        g.overrides.push(over);
        g.anomaly_drafts.extend(drafts);
    }
    g.anomaly_drafts
        .sort_unstable_by_key(|d| (d.time_ms, d.key));
    Ok(())
}

fn shape_for(g: &Generator, verb: Verb, rng: &mut fastrand::Rng) -> Shape {
    match verb.family() {
        super::Family::Cloudflare => g.pick_cloudflare_shape(rng),
        super::Family::Datadog => Shape::Datadog,
    }
}

/// `n` offsets inside one hour, `min..max` ms apart, starting early enough
/// that most of them fit in the hour.
fn spaced(rng: &mut fastrand::Rng, n: usize, min: i64, max: i64) -> Vec<i64> {
    let span = (n as i64) * (min + max) / 2;
    let latest_start = (MS_PER_HOUR - span).max(1);
    let mut t = rng.i64(0..latest_start);
    (0..n)
        .map(|_| {
            let here = t;
            t += rng.i64(min..max);
            here
        })
        .collect()
}
