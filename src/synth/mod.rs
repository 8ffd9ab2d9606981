//! Synthetic audit logs: a seeded generator of Cloudflare (v2 and v1) and
//! Datadog audit entries in their real JSON shapes, for benchmarks, replay
//! golden tests with planted anomalies, and the demo's history.
//!
//! `N` actors act over `D` days ending at `end`. Each actor has a persona
//! (business-hours admin or engineer in an office timezone, nightly CI job,
//! occasional user, always-on integration), a stable identity, IP set, user
//! agent and repertoire. The same [`Params`] always give byte-identical
//! output; anomalies ([`Anomaly`]) are drawn from their own random streams, so
//! planting one adds events without changing any ordinary event.
//!
//! ```no_run
//! # use soc_tui::synth::{Generator, Params, Volume};
//! let generator = Generator::new(Params::new(7, 200, 30, Volume::Total(100_000)))?;
//! for (time, raw) in generator.lines() {
//!     println!("{time} {raw}");
//! }
//! # Ok::<(), soc_tui::synth::SynthError>(())
//! ```

mod anomalies;
mod catalog;
mod cloudflare;
mod datadog;
mod events;
mod ids;
mod ndjson;
mod personas;
mod world;

use chrono::{DateTime, Duration, TimeZone, Utc};

pub use anomalies::{Anomaly, PlantedAnomaly};
pub use catalog::{Family, Verb};
pub use events::Events;
pub use ndjson::{WriteStats, write_generator, write_ndjson};
pub use personas::{ActorProfile, Persona, TokenRef};

use world::World;

const MS_PER_DAY: i64 = 86_400_000;
/// Limits that keep entry keys (see [`event_key`]) collision-free.
const MAX_ACTORS: u32 = 1 << 20;
const MAX_DAYS: u32 = 4_000;
const MAX_EVENTS: u64 = 1 << 28;

/// Which log an entry is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    /// `GET /accounts/{id}/logs/audit` entry.
    CloudflareV2,
    /// `GET /accounts/{id}/audit_logs` entry.
    CloudflareV1,
    /// `GET /api/v2/audit/events` `data[]` element.
    Datadog,
}

impl Shape {
    pub const ALL: [Shape; 3] = [Shape::CloudflareV2, Shape::CloudflareV1, Shape::Datadog];

    pub fn family(self) -> Family {
        match self {
            Shape::CloudflareV2 | Shape::CloudflareV1 => Family::Cloudflare,
            Shape::Datadog => Family::Datadog,
        }
    }
}

/// How many ordinary events to generate (planted anomalies come on top).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Volume {
    /// Exactly this many, spread over actors and days by persona.
    Total(u64),
    /// On average this many per actor per day (rounded total).
    PerActorPerDay(f64),
}

/// Relative share of each shape among ordinary events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceMix {
    pub cloudflare_v2: u32,
    pub cloudflare_v1: u32,
    pub datadog: u32,
}

impl Default for SourceMix {
    fn default() -> Self {
        SourceMix {
            cloudflare_v2: 45,
            cloudflare_v1: 10,
            datadog: 45,
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub seed: u64,
    pub actors: u32,
    pub days: u32,
    /// Exclusive end of the window; the window is `[end - days, end)`.
    /// Rounded down to the whole second (Cloudflare times are whole seconds).
    pub end: DateTime<Utc>,
    pub volume: Volume,
    pub mix: SourceMix,
    pub anomalies: Vec<Anomaly>,
}

impl Params {
    /// A fixed end (2026-11-01T00:00:00Z) so output never depends on the clock.
    pub fn new(seed: u64, actors: u32, days: u32, volume: Volume) -> Params {
        Params {
            seed,
            actors,
            days,
            end: Utc
                .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            volume,
            mix: SourceMix::default(),
            anomalies: Vec::new(),
        }
    }

    /// The baseline benchmark: 30 days x 2,000 actors x 1M events.
    pub fn baseline_benchmark(seed: u64) -> Params {
        Params::new(seed, 2_000, 30, Volume::Total(1_000_000))
    }

    /// Demo history: 30 days of ~200 actors ending at `end`.
    pub fn demo(seed: u64, end: DateTime<Utc>) -> Params {
        Params {
            end,
            ..Params::new(seed, 200, 30, Volume::PerActorPerDay(20.0))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("synth params: {0}")]
    Params(String),
    #[error("synth anomaly {index}: {message}")]
    Anomaly { index: usize, message: String },
    #[error("synth: writing NDJSON: {0}")]
    Io(#[from] std::io::Error),
}

/// One generated entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthEvent {
    pub time: DateTime<Utc>,
    pub shape: Shape,
    /// The entry's own id (as written in `raw`).
    pub id: String,
    /// Index of the actor in [`Generator::actors`].
    pub actor: u32,
    /// One line of JSON, no trailing newline.
    pub raw: String,
}

/// An entry before it is written: small, so a whole day fits in memory.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub time_ms: i64,
    pub key: u64,
    pub actor: u32,
    pub verb: Verb,
    pub shape: Shape,
    /// Seed for the entry's incidental details (ray id, record, message).
    pub detail: u64,
    pub anomaly: Option<u32>,
}

/// Rendering tweaks an anomaly asks for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Override {
    pub ip: Option<String>,
    pub broad_token_name: Option<String>,
}

pub(crate) struct RenderCtx<'a> {
    pub seed: u64,
    pub world: &'a World,
    pub overrides: &'a [Override],
}

impl<'a> RenderCtx<'a> {
    pub(crate) fn ip_for<'s>(
        &'s self,
        actor: &'s ActorProfile,
        d: &Draft,
        rng: &mut fastrand::Rng,
    ) -> &'s str {
        let forced = d
            .anomaly
            .and_then(|i| self.overrides.get(i as usize))
            .and_then(|o| o.ip.as_deref());
        if let Some(ip) = forced {
            return ip;
        }
        // Mostly the first (office / primary runner) address.
        let i = if actor.ips.len() > 1 && rng.u32(0..100) >= 75 {
            rng.usize(1..actor.ips.len())
        } else {
            0
        };
        actor.ips.get(i).map_or("0.0.0.0", String::as_str)
    }

    pub(crate) fn broad_token_name(&self, d: &Draft) -> Option<&'a str> {
        d.anomaly
            .and_then(|i| self.overrides.get(i as usize))
            .and_then(|o| o.broad_token_name.as_deref())
    }
}

/// Keys are unique by construction: ordinary `(actor, day, k)` packed into
/// bits 40-59 / 28-39 / 0-27; anomalies set bit 63 with `(anomaly, k)`.
pub(crate) fn event_key(actor: u32, day: u32, k: u32) -> u64 {
    (u64::from(actor) << 40) | (u64::from(day) << 28) | u64::from(k)
}

pub(crate) fn entry_id(seed: u64, key: u64, shape: Shape) -> String {
    let pair = ids::unique128(seed, key);
    match shape {
        Shape::CloudflareV2 => ids::hex32(pair),
        Shape::CloudflareV1 => ids::uuid(pair),
        Shape::Datadog => ids::datadog_event_id(pair),
    }
}

/// A configured generator. Cheap to iterate many times: each pass
/// regenerates the same events.
pub struct Generator {
    params: Params,
    world: World,
    actors: Vec<ActorProfile>,
    start: DateTime<Utc>,
    /// Ordinary events to generate.
    total: u64,
    /// Sum of activity weights over every (day, actor) cell; 0 = spread evenly.
    weight_sum: f64,
    planted: Vec<PlantedAnomaly>,
    /// Planted entries, sorted by time.
    anomaly_drafts: Vec<Draft>,
    overrides: Vec<Override>,
}

impl Generator {
    pub fn new(mut params: Params) -> Result<Generator, SynthError> {
        validate(&params)?;
        let ms = params.end.timestamp_millis();
        params.end =
            DateTime::from_timestamp_millis(ms - ms.rem_euclid(1000)).unwrap_or(params.end);
        let world = World::new(params.seed, params.actors);
        let zone_count = world.zones.len() as u32;
        let actors: Vec<ActorProfile> = (0..params.actors)
            .map(|i| personas::build_actor(params.seed, i, zone_count))
            .collect();
        let start = params.end - Duration::days(i64::from(params.days));
        let total = match params.volume {
            Volume::Total(n) => n,
            Volume::PerActorPerDay(x) => {
                (x * f64::from(params.actors) * f64::from(params.days)).round() as u64
            }
        };
        if total > MAX_EVENTS {
            return Err(SynthError::Params(format!(
                "{total} events is more than this generator supports ({MAX_EVENTS})"
            )));
        }
        let mut generator = Generator {
            params,
            world,
            actors,
            start,
            total,
            weight_sum: 0.0,
            planted: Vec::new(),
            anomaly_drafts: Vec::new(),
            overrides: Vec::new(),
        };
        generator.weight_sum = (0..generator.params.days)
            .flat_map(|day| (0..generator.params.actors).map(move |a| (day, a)))
            .map(|(day, a)| generator.cell_weight(a, day))
            .sum();
        anomalies::plant(&mut generator)?;
        Ok(generator)
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn actors(&self) -> &[ActorProfile] {
        &self.actors
    }

    /// Inclusive start of the window.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.params.end
    }

    /// Ordinary events (without planted ones).
    pub fn ordinary_events(&self) -> u64 {
        self.total
    }

    /// Every event the iterator yields: ordinary plus planted.
    pub fn total_events(&self) -> u64 {
        self.total + self.anomaly_drafts.len() as u64
    }

    /// The anomalies asked for, with the ids of the entries that carry them.
    pub fn planted(&self) -> &[PlantedAnomaly] {
        &self.planted
    }

    /// Every entry in time order (ties broken by a stable key).
    pub fn events(&self) -> Events<'_> {
        Events::new(self)
    }

    /// `(time, raw JSON line)` in time order.
    pub fn lines(&self) -> impl Iterator<Item = (DateTime<Utc>, String)> + '_ {
        self.events().map(|e| (e.time, e.raw))
    }

    fn slice_start_ms(&self, day: u32) -> i64 {
        self.start.timestamp_millis() + i64::from(day) * MS_PER_DAY
    }

    fn slice_start(&self, day: u32) -> DateTime<Utc> {
        self.start + Duration::days(i64::from(day))
    }

    fn cell_weight(&self, actor: u32, day: u32) -> f64 {
        let profile = &self.actors[actor as usize];
        profile.daily_weight * profile.day_factor(self.params.seed, day, self.slice_start(day))
    }

    /// Events per weight unit: turns an actor's daily weight into a count.
    pub(crate) fn scale(&self) -> f64 {
        if self.weight_sum > 0.0 {
            self.total as f64 / self.weight_sum
        } else {
            let cells = f64::from(self.params.actors) * f64::from(self.params.days);
            self.total as f64 / cells.max(1.0)
        }
    }

    /// The absolute time (ms) in day `day`'s 24h slice whose UTC time of day
    /// is `tod_ms`. Every slice holds each time of day exactly once, so hour
    /// patterns survive any `end` and nothing falls outside the window.
    pub(crate) fn place(&self, day: u32, tod_ms: i64) -> i64 {
        let slice = self.slice_start_ms(day);
        slice + (tod_ms - slice.rem_euclid(MS_PER_DAY)).rem_euclid(MS_PER_DAY)
    }

    /// Picks a shape for an ordinary event of this generator's mix.
    fn pick_shape(&self, rng: &mut fastrand::Rng) -> Shape {
        let m = self.params.mix;
        let total = m.cloudflare_v2 + m.cloudflare_v1 + m.datadog;
        let ticket = rng.u32(0..total.max(1));
        if ticket < m.cloudflare_v2 {
            Shape::CloudflareV2
        } else if ticket < m.cloudflare_v2 + m.cloudflare_v1 {
            Shape::CloudflareV1
        } else {
            Shape::Datadog
        }
    }

    /// Shape and verb of one ordinary event by `profile`. The shape follows
    /// the verb's family even if the actor lacked a verb in the mixed family.
    pub(crate) fn pick_shape_and_verb(
        &self,
        profile: &ActorProfile,
        rng: &mut fastrand::Rng,
    ) -> (Shape, Verb) {
        let shape = self.pick_shape(rng);
        let verb = profile.pick_verb(shape.family(), rng);
        if verb.family() == shape.family() {
            (shape, verb)
        } else if verb.family() == Family::Cloudflare {
            (self.pick_cloudflare_shape(rng), verb)
        } else {
            (Shape::Datadog, verb)
        }
    }

    /// A Cloudflare shape in the mix's v2:v1 proportion (v2 if neither is mixed).
    pub(crate) fn pick_cloudflare_shape(&self, rng: &mut fastrand::Rng) -> Shape {
        let m = self.params.mix;
        let total = m.cloudflare_v2 + m.cloudflare_v1;
        if total > 0 && rng.u32(0..total) >= m.cloudflare_v2 {
            Shape::CloudflareV1
        } else {
            Shape::CloudflareV2
        }
    }

    pub(crate) fn draft_time(shape: Shape, time_ms: i64) -> i64 {
        match shape {
            // Cloudflare timestamps are whole seconds; keep the order true to the text.
            Shape::CloudflareV2 | Shape::CloudflareV1 => time_ms - time_ms.rem_euclid(1000),
            Shape::Datadog => time_ms,
        }
    }
}

fn validate(p: &Params) -> Result<(), SynthError> {
    let bad = |m: String| Err(SynthError::Params(m));
    if p.actors == 0 || p.actors > MAX_ACTORS {
        return bad(format!("actors must be 1..={MAX_ACTORS}, got {}", p.actors));
    }
    if p.days == 0 || p.days > MAX_DAYS {
        return bad(format!("days must be 1..={MAX_DAYS}, got {}", p.days));
    }
    if let Volume::PerActorPerDay(x) = p.volume
        && !(x.is_finite() && x >= 0.0)
    {
        return bad(format!("events per actor per day must be >= 0, got {x}"));
    }
    let m = p.mix;
    if m.cloudflare_v2 == 0 && m.cloudflare_v1 == 0 && m.datadog == 0 {
        return bad("source mix is all zero".into());
    }
    if u64::from(m.cloudflare_v2) + u64::from(m.cloudflare_v1) + u64::from(m.datadog)
        > u64::from(u32::MAX)
    {
        return bad("source mix weights are too large".into());
    }
    Ok(())
}
